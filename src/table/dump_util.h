// Private to the table layer: the text helpers of the zone dump (dump.h)
// shared by DumpZones and the dataset types' `dump` functions
// (dataset_type.h, src/table/types/). Control plane only.
#ifndef MESHBL_SRC_TABLE_DUMP_UTIL_H_
#define MESHBL_SRC_TABLE_DUMP_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/format.h"
#include "meshbl/table/ip_text.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/txt_template.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::table {

namespace f = format;

using U128 = unsigned __int128;

inline constexpr std::size_t kFlushAt = 64 * 1024;

// Buffered text towards the caller's sink.
class DumpWriter {
 public:
  explicit DumpWriter(absl::FunctionRef<void(std::string_view)> sink) : sink_(sink) {}
  DumpWriter(const DumpWriter&) = delete;
  DumpWriter& operator=(const DumpWriter&) = delete;
  ~DumpWriter() { Flush(); }

  std::string& text() { return buf_; }
  void MaybeFlush() {
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Flush() {
    if (buf_.empty()) return;
    sink_(buf_);
    buf_.clear();
  }

 private:
  absl::FunctionRef<void(std::string_view)> sink_;
  std::string buf_;
};

inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One label in master-file syntax (RFC 1035 §5.1): the characters that are
// special there escaped, bytes outside printable ASCII as \DDD.
inline void AppendLabel(std::string* out, std::span<const std::uint8_t> label) {
  for (std::uint8_t c : label) {
    if (c <= 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", unsigned{c});
      out->append(buf);
      continue;
    }
    switch (c) {
      case '.':
      case '\\':
      case '"':
      case ';':
      case '(':
      case ')':
      case '@':
      case '$':
        out->push_back('\\');
        break;
      default:
        break;
    }
    out->push_back(static_cast<char>(c));
  }
}

// A label sequence as relative master-file text, no trailing dot ("" when
// empty).
inline void AppendName(std::string* out, std::span<const std::uint8_t> labels) {
  bool first = true;
  for (std::size_t i = 0; i < labels.size();) {
    const std::size_t n = labels[i];
    if (n == 0 || i + 1 + n > labels.size()) break;
    if (!first) out->push_back('.');
    AppendLabel(out, labels.subspan(i + 1, n));
    first = false;
    i += 1 + n;
  }
}

// An absolute name: the labels and the root dot.
inline void AppendAbsolute(std::string* out, std::span<const std::uint8_t> labels) {
  AppendName(out, labels);
  out->push_back('.');
}

// A relative owner: "@" for the origin itself.
inline std::string OwnerText(std::span<const std::uint8_t> labels) {
  std::string s;
  AppendName(&s, labels);
  return s.empty() ? "@" : s;
}

inline void AppendIp4(std::string* out, std::uint32_t a) {
  char buf[16];
  out->append(buf, FormatIp4(a, buf));
}

// A <character-string>, quoted, with '"' and '\' escaped and bytes outside
// printable ASCII as \DDD.
inline void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", unsigned{c});
      out->append(buf);
      continue;
    }
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(ch);
  }
  out->push_back('"');
}

// The A and TXT records of one listing (or `CNAME excluded`), owned by
// `owner`; `subject` is what `$` becomes. Identical records appear once, as
// in an answer.
inline void AppendListing(std::string* out, const DsNode& ds, std::string_view owner,
                          std::uint32_t word, std::string_view subject) {
  if (word == f::kExcluded) {
    out->append(owner);
    out->append("\tCNAME\texcluded\n");
    return;
  }
  ValueList vl;
  if (!ds.view.DecodeWord(word, &vl)) return;
  const Snapshot& snap = ds.view.snapshot();
  std::vector<std::string> seen;
  bool first = true;
  auto emit = [&](std::string rr) {
    if (std::find(seen.begin(), seen.end(), rr) != seen.end()) return;
    if (first) out->append(owner);
    out->append(rr);
    first = false;
    seen.push_back(std::move(rr));
  };
  for (const std::uint32_t id : vl.ids()) {
    if (id >= snap.values().size()) continue;
    const f::ValueRec& v = snap.values()[id];
    std::string a = "\tA\t";
    AppendIp4(&a, v.a);
    a.push_back('\n');
    emit(std::move(a));
    char txt[kMaxTxtExpansion];
    const std::size_t n = ExpandTxt(ds.txt, snap.String(v.txt), v.txt != f::kNone, subject, txt);
    if (n > 0) {
      std::string t = "\tTXT\t";
      AppendQuoted(&t, std::string_view(txt, n));
      t.push_back('\n');
      emit(std::move(t));
    }
  }
}

// ---- IP datasets: blocks at label boundaries --------------------------------

struct BlockKey {
  U128 addr;  // left-aligned: IPv4 in the top 32 bits
  int len;
  friend bool operator==(const BlockKey&, const BlockKey&) = default;
  template <class H>
  friend H AbslHashValue(H h, const BlockKey& k) {
    return H::combine(std::move(h), static_cast<std::uint64_t>(k.addr >> 64),
                      static_cast<std::uint64_t>(k.addr), k.len);
  }
};

struct BlockVal {
  std::uint32_t word;
  int orig_len;  // the prefix length of the entry this block comes from
  U128 subject;  // that entry's first address, for `$`
};

inline U128 Mask(U128 addr, int len) { return len == 0 ? 0 : addr & (~U128{0} << (128 - len)); }

// The blocks of one IP dataset at label boundaries (`step` bits: 8 for IPv4,
// 4 for IPv6), made to mean in DNS what the longest-prefix rule means.
class IpBlocks {
 public:
  explicit IpBlocks(bool v6) : v6_(v6), width_(v6 ? 128 : 32), step_(v6 ? 4 : 8) {}

  // An entry `addr`/`len` with value word `word`: split into the blocks of
  // the next boundary; where blocks coincide the longer entry wins.
  void Add(U128 addr, int len, std::uint32_t word) {
    if (len < 0 || len > width_) return;
    addr = Mask(addr, len);
    const int aligned = (len + step_ - 1) / step_ * step_;
    const int pieces = 1 << (aligned - len);
    for (int i = 0; i < pieces; ++i) {
      const U128 a = addr | (aligned == 0 ? 0 : U128(static_cast<unsigned>(i)) << (128 - aligned));
      auto [it, inserted] = blocks_.try_emplace(BlockKey{a, aligned}, BlockVal{word, len, addr});
      if (!inserted && it->second.orig_len <= len) it->second = {word, len, addr};
    }
  }

  bool Has(U128 addr, int len) const { return blocks_.contains(BlockKey{Mask(addr, len), len}); }

  // RFC 4592 §2.2: a wildcard does not apply below a name that exists. A
  // block inside a shorter listed block makes the names between them exist
  // (as empty non-terminals); each gets a wildcard with the covering
  // block's records, so every address still resolves by the longest prefix.
  void FixWildcards() {
    std::vector<BlockKey> keys;
    keys.reserve(blocks_.size());
    for (const auto& [k, v] : blocks_) keys.push_back(k);
    for (const BlockKey& k : keys) {
      const BlockVal* cover = nullptr;
      int cover_len = -1;
      for (int m = k.len - step_; m >= 0; m -= step_) {
        auto it = blocks_.find(BlockKey{Mask(k.addr, m), m});
        if (it != blocks_.end()) {
          cover = &it->second;
          cover_len = m;
          break;
        }
      }
      if (cover == nullptr || cover->word == f::kExcluded) continue;
      const BlockVal c = *cover;
      for (int m = cover_len + step_; m < k.len; m += step_) {
        blocks_.try_emplace(BlockKey{Mask(k.addr, m), m}, c);
      }
    }
  }

  // FixWildcards, then Write: what every IP type's dump ends with.
  void FixAndWrite(DumpWriter& out, const DsNode& ds) {
    FixWildcards();
    Write(out, ds);
  }

  void Write(DumpWriter& out, const DsNode& ds) const {
    std::vector<std::pair<BlockKey, BlockVal>> sorted(blocks_.begin(), blocks_.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.first.addr != b.first.addr ? a.first.addr < b.first.addr : a.first.len < b.first.len;
    });
    for (const auto& [k, v] : sorted) {
      AppendListing(&out.text(), ds, Owner(k), v.word, Subject(v.subject));
      out.MaybeFlush();
    }
  }

 private:
  // "4.3.2.1" for a full address, "*.0.0.10" for 10.0.0.0/24, "*" for /0.
  std::string Owner(const BlockKey& k) const {
    std::string s = k.len < width_ ? "*" : "";
    for (int i = k.len / step_ - 1; i >= 0; --i) {
      const unsigned unit =
          static_cast<unsigned>(k.addr >> (128 - step_ * (i + 1))) & ((1u << step_) - 1);
      if (!s.empty()) s.push_back('.');
      absl::StrAppend(&s, v6_ ? std::string(1, "0123456789abcdef"[unit]) : absl::StrCat(unit));
    }
    return s;
  }

  std::string Subject(U128 addr) const {
    char buf[kMaxIpText];
    if (!v6_) return std::string(buf, FormatIp4(static_cast<std::uint32_t>(addr >> 96), buf));
    std::uint8_t b[16];
    for (int i = 0; i < 16; ++i) b[i] = static_cast<std::uint8_t>(addr >> (120 - 8 * i));
    return std::string(buf, FormatIp6(b, buf));
  }

  bool v6_;
  int width_, step_;
  absl::flat_hash_map<BlockKey, BlockVal> blocks_;
};

template <class Slot, class Fn>
inline void ForEachSlot(TableRef<Slot> t, Fn fn) {
  for (std::uint64_t i = 0; i < t.capacity; ++i) {
    if (t.slots[i].val != f::kEmptySlot) fn(t.slots[i]);
  }
}

// ---- dnset ------------------------------------------------------------------

// The proper ancestors of a label sequence, longest first (not the empty one).
template <class Fn>
inline void ForEachAncestor(std::string_view name, Fn fn) {
  std::size_t off = 0;
  while (off < name.size()) {
    off += 1u + static_cast<std::uint8_t>(name[off]);
    if (off >= name.size()) break;
    if (!fn(name.substr(off))) break;
  }
}

// Canonical order (RFC 4034 §6.1) of a label sequence: labels reversed.
inline std::string CanonicalKey(std::string_view name) {
  std::vector<std::string_view> labels;
  for (std::size_t i = 0; i < name.size();) {
    const std::size_t n = static_cast<std::uint8_t>(name[i]);
    labels.push_back(name.substr(i + 1, n));
    i += 1 + n;
  }
  std::string key;
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    key.append(*it);
    key.push_back('\0');
  }
  return key;
}

}  // namespace meshbl::table

#endif  // MESHBL_SRC_TABLE_DUMP_UTIL_H_
