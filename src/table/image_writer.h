// Private to the table layer: the image writer behind SnapshotBuilder::Build
// and what the dataset types' `write` functions (dataset_type.h,
// src/table/types/) use to fill their tables. Control plane only.
#ifndef MESHBL_SRC_TABLE_IMAGE_WRITER_H_
#define MESHBL_SRC_TABLE_IMAGE_WRITER_H_

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/format.h"
#include "meshbl/table/types.h"
#include "table/flat_table.h"

namespace meshbl::table {

namespace f = format;

// A table being filled: the slots of a section of the image being built.
template <class Slot>
struct MutableTable {
  Slot* slots = nullptr;
  std::uint64_t capacity = 0;
};

// Accumulates sections into one image.
class ImageWriter {
 public:
  // `bound`: an upper bound of the image size, `string_bound` of its
  // strings (SnapshotBuilder::Build works them out from the builders). The image is built in one
  // buffer of that capacity: growing a vector of a 100 MB table by doubling would copy it and hold
  // both copies for a moment; pages of the capacity that are never written are never touched, so
  // they cost address space, not memory. A bound that is too small still builds a correct image,
  // with copies.
  ImageWriter(const ImageWriter&) = delete;  // the string index points at strings_
  ImageWriter& operator=(const ImageWriter&) = delete;
  ImageWriter(std::size_t bound, std::size_t string_bound) {
    out_.reserve(bound);
    strings_.reserve(string_bound);
    out_.resize(sizeof(f::FileHeader));
  }

  std::uint32_t Str(std::string_view s) {
    if (s.size() > 0xffff) return LongStr(s);
    auto it = strings_index_.find(s);
    if (it != strings_index_.end()) return *it;
    auto off = static_cast<std::uint32_t>(strings_.size());
    strings_.push_back(static_cast<char>(s.size() & 0xff));
    strings_.push_back(static_cast<char>(s.size() >> 8));
    strings_.append(s);
    strings_index_.insert(off);
    return off;
  }
  std::uint32_t OptStr(const std::optional<std::string>& s) { return s ? Str(*s) : f::kNone; }

  std::uint32_t ValueId(const Value& v) {
    std::string key = absl::StrCat(v.a, v.txt ? "+" : "-", v.txt.value_or(""));
    auto [it, inserted] = value_index_.try_emplace(key, static_cast<std::uint32_t>(values_.size()));
    if (inserted) values_.push_back({v.a, OptStr(v.txt)});
    return it->second;
  }

  std::vector<std::uint32_t>& pool() { return pool_; }

  // Appends a section of `bytes` bytes (zeroed) and returns a pointer valid
  // until the next call, plus its index.
  std::uint8_t* Reserve(f::SectionKind kind, std::uint32_t elem_size, std::size_t bytes,
                        std::uint32_t* index) {
    std::size_t off = (out_.size() + f::kAlign - 1) / f::kAlign * f::kAlign;
    out_.resize(off + bytes);
    sections_.push_back({kind, elem_size, off, bytes, 0});
    *index = static_cast<std::uint32_t>(sections_.size() - 1);
    return out_.data() + off;
  }

  template <class T>
  std::uint32_t AddArray(f::SectionKind kind, const std::vector<T>& v) {
    std::uint32_t idx;
    std::uint8_t* p = Reserve(kind, sizeof(T), v.size() * sizeof(T), &idx);
    if (!v.empty()) std::memcpy(p, v.data(), v.size() * sizeof(T));
    return idx;
  }

  // Reserves a table section for `n` entries; slots are initialised empty.
  template <class Slot>
  MutableTable<Slot> ReserveTable(std::uint64_t n, std::uint32_t* index) {
    std::uint64_t cap = n == 0 ? 0 : CapacityFor(n);
    std::uint8_t* p = Reserve(f::SectionKind::kTable, sizeof(Slot),
                              sizeof(f::TableHeader) + cap * sizeof(Slot), index);
    f::TableHeader h{};
    h.capacity = cap;
    h.slot_size = sizeof(Slot);
    std::memcpy(p, &h, sizeof h);
    auto* slots = reinterpret_cast<Slot*>(p + sizeof(f::TableHeader));
    for (std::uint64_t i = 0; i < cap; ++i) slots[i].val = f::kEmptySlot;
    return {slots, cap};
  }
  void SetTableCount(std::uint32_t index, std::uint64_t count) {
    std::memcpy(out_.data() + sections_[index].offset + offsetof(f::TableHeader, count), &count,
                sizeof count);
  }

  std::vector<std::uint8_t> Finish(std::int64_t build_time, std::uint32_t global_acl) {
    std::uint32_t idx;
    std::uint8_t* p = Reserve(f::SectionKind::kStrings, 1, strings_.size(), &idx);
    std::memcpy(p, strings_.data(), strings_.size());
    AddArray(f::SectionKind::kValues, values_);
    AddArray(f::SectionKind::kPool, pool_);
    for (auto& s : sections_) s.checksum = XXH3_64bits(out_.data() + s.offset, s.size);
    std::size_t table_off = (out_.size() + f::kAlign - 1) / f::kAlign * f::kAlign;
    std::size_t table_bytes = sections_.size() * sizeof(f::SectionEntry);
    out_.resize(table_off + table_bytes);
    std::memcpy(out_.data() + table_off, sections_.data(), table_bytes);
    f::FileHeader h{};
    std::memcpy(h.magic, f::kMagic, sizeof h.magic);
    h.version = f::kFormatVersion;
    h.header_size = sizeof h;
    h.file_size = out_.size();
    h.build_time = build_time;
    h.section_table_offset = table_off;
    h.section_count = static_cast<std::uint32_t>(sections_.size());
    h.global_acl = global_acl;
    h.section_table_checksum = XXH3_64bits(out_.data() + table_off, table_bytes);
    h.header_checksum = 0;
    h.header_checksum = XXH3_64bits(&h, sizeof h);
    std::memcpy(out_.data(), &h, sizeof h);
    return std::move(out_);
  }

 private:
  // A string over 64 KiB is stored cut to 64 KiB and deduplicated by its
  // whole text (as the strings are compared in full below).
  std::uint32_t LongStr(std::string_view s) {
    auto it = long_index_.find(absl::string_view(s.data(), s.size()));
    if (it != long_index_.end()) return it->second;
    auto off = static_cast<std::uint32_t>(strings_.size());
    strings_.push_back(static_cast<char>(0xff));
    strings_.push_back(static_cast<char>(0xff));
    strings_.append(s.substr(0, 0xffff));
    long_index_.emplace(std::string(s), off);
    return off;
  }

  // The string index holds offsets into strings_ (4 bytes a string, not a
  // copy of it); lookups go by the text.
  struct StrKey {
    const std::string* strings;
    std::string_view operator()(std::string_view s) const { return s; }
    std::string_view operator()(std::uint32_t off) const {
      const auto* p = reinterpret_cast<const std::uint8_t*>(strings->data()) + off;
      return {strings->data() + off + 2, static_cast<std::size_t>(p[0] | p[1] << 8)};
    }
  };
  struct StrHash : StrKey {
    using is_transparent = void;
    template <class T>
    std::size_t operator()(const T& k) const {
      std::string_view v = StrKey::operator()(k);
      return absl::Hash<absl::string_view>{}(absl::string_view(v.data(), v.size()));
    }
  };
  struct StrEq : StrKey {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return StrKey::operator()(a) == StrKey::operator()(b);
    }
  };

  std::vector<std::uint8_t> out_;
  std::vector<f::SectionEntry> sections_;
  std::string strings_;
  absl::flat_hash_set<std::uint32_t, StrHash, StrEq> strings_index_{0, StrHash{{&strings_}},
                                                                    StrEq{{&strings_}}};
  absl::flat_hash_map<std::string, std::uint32_t> long_index_;
  std::vector<f::ValueRec> values_;
  absl::flat_hash_map<std::string, std::uint32_t> value_index_;
  std::vector<std::uint32_t> pool_;
};

// Index of the slot for a new key: the first free slot from `start`, or the
// slot already holding an equal key (`same`). The table always has a free slot.
template <class Slot, class Same>
std::uint64_t SlotFor(const MutableTable<Slot>& t, std::uint64_t start, Same same) {
  std::uint64_t i = start;
  while (t.slots[i].val != f::kEmptySlot && !same(t.slots[i])) {
    if (++i == t.capacity) i = 0;
  }
  return i;
}
inline constexpr auto kNeverSame = [](const auto&) { return false; };

// Merges value words of entries that share a key: an exclusion wins,
// distinct values accumulate into a pool list.
class MultiValue {
 public:
  explicit MultiValue(ImageWriter& w) : w_(w) {}
  // Returns the merged word for a slot whose current word is `cur`.
  void Merge(std::uint64_t slot, std::uint32_t& cur, std::uint32_t add) {
    if (cur == f::kExcluded || cur == add) return;
    if (add == f::kExcluded) {
      cur = f::kExcluded;
      lists_.erase(slot);
      return;
    }
    auto& l = lists_[slot];
    if (l.empty()) l.push_back(cur);
    if (std::find(l.begin(), l.end(), add) == l.end()) l.push_back(add);
  }
  // Stores `entry` in the free slot `at`, or merges its value word into the
  // slot already holding its key. Returns 1 when a new slot was taken.
  template <class Slot>
  std::uint64_t Place(std::uint64_t at, Slot& slot, const Slot& entry) {
    if (slot.val == f::kEmptySlot) {
      slot = entry;
      return 1;
    }
    Merge(at, slot.val, entry.val);
    return 0;
  }
  // Writes pool lists and patches the slots through `set(slot, word)`.
  template <class Set>
  void Flush(Set set) {
    for (auto& [slot, l] : lists_) {
      auto idx = static_cast<std::uint32_t>(w_.pool().size());
      w_.pool().push_back(static_cast<std::uint32_t>(l.size()));
      w_.pool().insert(w_.pool().end(), l.begin(), l.end());
      set(slot, f::kListFlag | idx);
    }
    lists_.clear();
  }

 private:
  ImageWriter& w_;
  std::map<std::uint64_t, std::vector<std::uint32_t>> lists_;
};

class DatasetWriter {
 public:
  explicit DatasetWriter(ImageWriter& w) : w_(w) {}

  // Writes `ds` (and, for combined, its children) and returns its index.
  std::uint32_t Write(const DatasetBuilder& ds, std::uint32_t parent);
  // An upper bound of the bytes `ds` (with its children) adds to an image:
  // its tables exactly, its strings, values and pool lists at most.
  // `*strings` grows by the bound of its strings alone.
  static std::uint64_t Bound(const DatasetBuilder& ds, std::uint64_t* strings);
  const std::vector<f::DatasetRec>& recs() const { return recs_; }
  std::vector<f::SourceRec>& sources() { return sources_; }
  const std::vector<f::SubZoneRec>& subzones() const { return subzones_; }

  // For the types' `write` functions (dataset_type.h).
  ImageWriter& image() { return w_; }
  // Number of dataset records written so far (the next one's index).
  std::uint32_t dataset_count() const { return static_cast<std::uint32_t>(recs_.size()); }
  // Sub-zone records of combined datasets; a combined dataset reserves its
  // range before writing its children.
  std::vector<f::SubZoneRec>& mutable_subzones() { return subzones_; }
  // A builder value index (or kExcluded) as an image value word.
  static std::uint32_t MapWord(const std::vector<std::uint32_t>& m, std::uint32_t v) {
    return v == f::kExcluded ? v : m[v];
  }
  // One ip4 table: `keys` in insertion order, the value of key k is that of
  // the last run starting at or before k (`runs` as in DatasetBuilder).
  std::uint32_t WriteIp4Level(std::span<const std::uint32_t> keys,
                              std::span<const std::pair<std::uint32_t, std::uint32_t>> runs,
                              const std::vector<std::uint32_t>& m);
  // The prefix tables of ip4trie, ip6trie and acl: IPv4 prefixes into
  // tables[kTableMain], IPv6 prefixes into tables[kTableMain] (tables
  // [kTableSecond] for acl, whose words are (value id << 3) | action), and
  // the prefix lengths present into lens4 / lens6.
  void WritePrefixes(const DatasetBuilder& ds, const std::vector<std::uint32_t>& m, bool acl,
                     f::DatasetRec* r);

 private:
  // Maps builder-local value indices to image value ids.
  std::vector<std::uint32_t> MapValues(const std::vector<Value>& values) {
    std::vector<std::uint32_t> m;
    m.reserve(values.size());
    for (const auto& v : values) m.push_back(w_.ValueId(v));
    return m;
  }

  ImageWriter& w_;
  std::vector<f::DatasetRec> recs_;
  std::vector<f::SubZoneRec> subzones_;
  std::vector<f::SourceRec> sources_;
};

// The `write` of ip4trie and ip6trie: DatasetWriter::WritePrefixes.
void WriteTriePrefixes(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t index,
                       const std::vector<std::uint32_t>& values, f::DatasetRec* rec);

// Read access to a DatasetBuilder's raw entries for the types' `write`
// functions (the builder's storage stays private to the table layer).
struct BuilderAccess {
  static const auto& ip4_levels(const DatasetBuilder& d) { return d.ip4_levels_; }
  static const auto& ip4_hosts(const DatasetBuilder& d) { return d.ip4_hosts_; }
  static const auto& prefixes4(const DatasetBuilder& d) { return d.prefixes4_; }
  static const auto& prefixes6(const DatasetBuilder& d) { return d.prefixes6_; }
  static const auto& nets64(const DatasetBuilder& d) { return d.nets64_; }
  static const auto& excluded128(const DatasetBuilder& d) { return d.excluded128_; }
  static const auto& names(const DatasetBuilder& d) { return d.names_; }
  template <class Entry>
  static std::string_view Name(const DatasetBuilder& d, const Entry& e) {
    return d.Name(e);
  }
  static const auto& records(const DatasetBuilder& d) { return d.records_; }
  static const auto& subzones(const DatasetBuilder& d) { return d.subzones_; }
  // DumpDataset (builder.cc).
  static void Dump(const DatasetBuilder& d, const std::string& indent, std::string* out);
};

inline std::uint32_t Ip4FromBytes(const std::array<std::uint8_t, 16>& b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         b[3];
}

// Bytes 0..7 (`which` 0) or 8..15 (`which` 1) of an address as a number.
inline std::uint64_t Half(const std::array<std::uint8_t, 16>& b, int which) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | b[static_cast<std::size_t>(which * 8 + i)];
  return v;
}

inline std::span<const std::uint8_t> LabelBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace meshbl::table

#endif  // MESHBL_SRC_TABLE_IMAGE_WRITER_H_
