// Per-packet code (MESHBL_HOT_SOURCES): no allocation, no exceptions, no locks.
#include "meshbl/table/lookup.h"

#include <cstring>

#include "meshbl/dns/name.h"
#include "meshbl/table/dataset_type.h"
#include "table/flat_table.h"

namespace meshbl::table {

namespace f = format;

namespace {

template <class Slot>
TableRef<Slot> TableAt(const Snapshot& snap, std::uint32_t section) noexcept {
  auto bytes = snap.Section(section);
  if (bytes.size() < sizeof(f::TableHeader)) return {};
  f::TableHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.slot_size != sizeof(Slot)) return {};
  return {reinterpret_cast<const Slot*>(bytes.data() + sizeof(f::TableHeader)), h.capacity};
}

}  // namespace

DatasetView::DatasetView(const Snapshot& snap, std::uint32_t index) noexcept
    : snap_(&snap),
      rec_(&snap.datasets()[index]),
      index_(index),
      type_(static_cast<DatasetType>(rec_->type)) {
  // The tables the type's descriptor says its DatasetRec::tables refer to.
  const DatasetTypeOps& ops = OpsFor(type_);
  answer_ = ops.answer;
  int names = 0;
  for (std::size_t i = 0; i < ops.tables.size(); ++i) {
    const std::uint32_t sec = rec_->tables[i];
    switch (ops.tables[i]) {
      case TableKind::kSlot32:
        t32_[i] = TableAt<f::Slot32>(snap, sec);
        break;
      case TableKind::kSlot64:
        t64_ = TableAt<f::Slot64>(snap, sec);
        break;
      case TableKind::kSlot128:
        t128_ = TableAt<f::Slot128>(snap, sec);
        break;
      case TableKind::kSlotName:
        (names++ == 0 ? names_ : wild_) = TableAt<f::SlotName>(snap, sec);
        break;
      case TableKind::kRecords: {
        auto b = snap.Section(sec);
        records_ = {reinterpret_cast<const f::RecordRec*>(b.data()),
                    b.size() / sizeof(f::RecordRec)};
        break;
      }
      case TableKind::kUnused:
      case TableKind::kCustom:
        break;
    }
  }
  // Prefix lengths present, longest first, for longest-prefix match.
  for (int len = 32; len >= 0; --len) {
    if (rec_->lens4 >> len & 1) lens4_[nlens4_++] = static_cast<std::uint8_t>(len);
  }
  if (ops.ip6_prefix_lengths) {
    for (int len = 128; len >= 0; --len) {
      if (rec_->lens6[len / 64] >> (len % 64) & 1) {
        lens6_[nlens6_++] = static_cast<std::uint8_t>(len);
      }
    }
  }
}

bool DatasetView::DecodeWord(std::uint32_t word, ValueList* out) const noexcept {
  out->Clear();
  if (word == f::kEmptySlot || word == f::kExcluded) return false;
  if (word & f::kListFlag) {
    auto head = snap_->Pool(word & ~f::kListFlag, 1);
    if (head.empty()) return false;
    out->SetPool(snap_->Pool((word & ~f::kListFlag) + 1, head[0]));  // empty if out of bounds
  } else if (word < snap_->values().size()) {
    out->SetOne(word);
  }
  return !out->empty();
}

inline std::uint32_t DatasetView::Ip4SetWord(std::uint32_t addr) const noexcept {
  // §4.1: the first level (/32, /24, /16, /8) that has an entry decides.
  for (int l = 0; l < 4; ++l) {
    if (t32_[l].capacity == 0) continue;
    const f::Slot32* s = Find32(t32_[l], MaskIp4(addr, 32u - 8u * static_cast<unsigned>(l)));
    if (s != nullptr) return s->val;
  }
  return f::kEmptySlot;
}

Match DatasetView::LookupIp4(std::uint32_t addr, ValueList* out) const noexcept {
  out->Clear();
  switch (type_) {
    case DatasetType::kIp4Set:
      return DecodeWord(Ip4SetWord(addr), out) ? Match::kListed : Match::kNone;
    case DatasetType::kIp4TSet:
      if (Find32(t32_[0], addr) == nullptr) return Match::kNone;
      out->SetOne(rec_->dataset_value);
      return Match::kListed;
    case DatasetType::kIp4Trie:
      // §4.3: longest prefix wins; an exclusion is a prefix without a value.
      for (std::uint8_t i = 0; i < nlens4_; ++i) {
        unsigned len = lens4_[i];
        const f::Slot64* s = Find64(t64_, (std::uint64_t{len} << 32) | MaskIp4(addr, len));
        if (s != nullptr) return DecodeWord(s->val, out) ? Match::kListed : Match::kNone;
      }
      return Match::kNone;
    default:
      return Match::kNone;
  }
}

Match DatasetView::LookupIp6(std::uint64_t hi, std::uint64_t lo, ValueList* out) const noexcept {
  out->Clear();
  if (type_ == DatasetType::kIp6TSet) {
    // §4.5: listed iff the /64 is present and the exact /128 is not excluded.
    if (Find64(t64_, hi) == nullptr) return Match::kNone;
    if (Find128(t128_, hi, lo, 128) != nullptr) return Match::kNone;
    out->SetOne(rec_->dataset_value);
    return Match::kListed;
  }
  if (type_ != DatasetType::kIp6Trie) return Match::kNone;
  for (std::uint8_t i = 0; i < nlens6_; ++i) {
    std::uint64_t h = hi, l = lo;
    MaskIp6(h, l, lens6_[i]);
    const f::Slot128* s = Find128(t128_, h, l, lens6_[i]);
    if (s != nullptr) return DecodeWord(s->val, out) ? Match::kListed : Match::kNone;
  }
  return Match::kNone;
}

namespace {

const f::SlotName* FindName(const Snapshot& snap, const TableRef<f::SlotName>& t,
                            std::span<const std::uint8_t> name) noexcept {
  return FindNameSlot(snap, t, name);
}

}  // namespace

Match DatasetView::LookupName(std::span<const std::uint8_t> name, ValueList* out,
                              std::size_t* subject) const noexcept {
  out->Clear();
  if (type_ != DatasetType::kDnSet || name.empty()) return Match::kNone;  // apex never matches
  // §4.6: an exact (plain) entry decides first, listed or excluded.
  if (const f::SlotName* s = FindName(*snap_, names_, name)) {
    *subject = 0;
    return DecodeWord(s->val, out) ? Match::kListed : Match::kNone;
  }
  if (wild_.capacity == 0) return Match::kNone;
  // Then wildcards, from the longest parent down; the first base found decides.
  // Only parents with a label count some wildcard base has are probed.
  unsigned labels = static_cast<unsigned>(dns::CountLabels(name));
  std::size_t off = 0;
  while (off < name.size()) {
    off += 1u + name[off];
    --labels;
    if (off >= name.size()) break;
    if (labels >= 128 || !(rec_->lens6[labels / 64] >> (labels % 64) & 1)) continue;
    if (const f::SlotName* s = FindName(*snap_, wild_, name.subspan(off))) {
      *subject = off;
      return DecodeWord(s->val, out) ? Match::kListed : Match::kNone;
    }
  }
  return Match::kNone;
}

void DatasetView::LookupNameBatch(const std::span<const std::uint8_t>* names, std::size_t n,
                                  Match* match, ValueList* out,
                                  std::size_t* subjects) const noexcept {
  constexpr std::size_t kGroup = 16;
  const TableRef<f::SlotName>& t = names_;
  std::uint64_t start[kGroup];
  std::uint32_t fps[kGroup];
  for (std::size_t base = 0; base < n; base += kGroup) {
    const std::size_t m = n - base < kGroup ? n - base : kGroup;
    if (t.capacity != 0) {
      // Stage 1: hash and prefetch the first slot of every name.
      for (std::size_t i = 0; i < m; ++i) {
        std::uint64_t h = HashName(names[base + i]);
        fps[i] = static_cast<std::uint32_t>(h);
        start[i] = Bucket(static_cast<std::uint32_t>(h >> 32), t.capacity);
        __builtin_prefetch(&t.slots[start[i]]);
      }
      // Stage 2: prefetch the stored name of the first fingerprint match.
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t fp = fps[i];
        const f::SlotName* s =
            Probe(t, start[i], [fp](const f::SlotName& x) { return x.fp == fp; });
        if (s != nullptr) {
          if (const char* p = snap_->StringAddress(s->name)) __builtin_prefetch(p);
        }
      }
    }
    // Stage 3: the ordinary lookup, now on warm cache lines.
    for (std::size_t i = 0; i < m; ++i) {
      match[base + i] = LookupName(names[base + i], &out[base + i], &subjects[base + i]);
    }
  }
}

std::span<const f::RecordRec> DatasetView::LookupGeneric(std::span<const std::uint8_t> name,
                                                         bool* found) const noexcept {
  *found = false;
  if (type_ != DatasetType::kGeneric) return {};
  const f::SlotName* s = FindName(*snap_, names_, name);
  if (s == nullptr) return {};
  *found = true;
  if (s->val > records_.size() || s->aux > records_.size() - s->val) return {};
  return records_.subspan(s->val, s->aux);
}

namespace {

AclResult AclFromWord(std::uint32_t word, std::size_t nvalues) noexcept {
  AclResult r;
  r.matched = true;
  std::uint32_t action = word & ((1u << f::kAclActionBits) - 1);
  r.action = action <= static_cast<std::uint32_t>(AclAction::kAlways)
                 ? static_cast<AclAction>(action)
                 : AclAction::kPass;
  r.value = word >> f::kAclActionBits;
  if (r.action == AclAction::kAlways && r.value >= nvalues) r.action = AclAction::kPass;
  return r;
}

}  // namespace

AclResult DatasetView::LookupAcl4(std::uint32_t addr) const noexcept {
  for (std::uint8_t i = 0; i < nlens4_; ++i) {
    unsigned len = lens4_[i];
    const f::Slot64* s = Find64(t64_, (std::uint64_t{len} << 32) | MaskIp4(addr, len));
    if (s != nullptr) return AclFromWord(s->val, snap_->values().size());
  }
  return {};
}

AclResult DatasetView::LookupAcl6(std::uint64_t hi, std::uint64_t lo) const noexcept {
  for (std::uint8_t i = 0; i < nlens6_; ++i) {
    std::uint64_t h = hi, l = lo;
    MaskIp6(h, l, lens6_[i]);
    const f::Slot128* s = Find128(t128_, h, l, lens6_[i]);
    if (s != nullptr) return AclFromWord(s->val, snap_->values().size());
  }
  return {};
}

void DatasetView::LookupIp4Batch(const std::uint32_t* addrs, std::size_t n,
                                 std::uint32_t* words) const noexcept {
  constexpr std::size_t kGroup = 16;
  const TableRef<f::Slot32>& t0 = t32_[0];
  const bool tset = type_ == DatasetType::kIp4TSet;
  std::uint64_t start[kGroup];
  for (std::size_t base = 0; base < n; base += kGroup) {
    const std::size_t m = n - base < kGroup ? n - base : kGroup;
    if (t0.capacity != 0) {
      for (std::size_t i = 0; i < m; ++i) {
        start[i] = Bucket(Hash32(addrs[base + i]), t0.capacity);
        __builtin_prefetch(&t0.slots[start[i]]);
      }
    }
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint32_t a = addrs[base + i];
      const f::Slot32* s = nullptr;
      if (t0.capacity != 0) {
        s = Probe(t0, start[i], [a](const f::Slot32& slot) { return slot.key == a; });
      }
      if (tset) {
        words[base + i] = s != nullptr ? rec_->dataset_value : f::kEmptySlot;
        continue;
      }
      if (s != nullptr) {
        words[base + i] = s->val;
        continue;
      }
      std::uint32_t w = f::kEmptySlot;
      for (int l = 1; l < 4 && w == f::kEmptySlot; ++l) {
        if (t32_[l].capacity == 0) continue;
        const f::Slot32* q = Find32(t32_[l], MaskIp4(a, 32u - 8u * static_cast<unsigned>(l)));
        if (q != nullptr) w = q->val;
      }
      words[base + i] = w;
    }
  }
}

}  // namespace meshbl::table
