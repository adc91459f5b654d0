// Building and merging live layers (control plane: the feed thread and the
// compaction thread). A layer is sized once from its entry counts and filled
// by linear probing; nothing is allocated per entry.
#include "meshbl/table/live.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "table/live_table.h"

namespace meshbl::table {

namespace lt = live_table;
namespace f = format;

LiveValues::LiveValues() : chunks_(new std::unique_ptr<Value[]>[kChunks]) {}
LiveValues::~LiveValues() = default;

std::uint32_t LiveValues::Intern(const Value& v) {
  std::string key(reinterpret_cast<const char*>(&v.a), sizeof v.a);
  key.push_back(v.txt.has_value() ? '\1' : '\0');
  if (v.txt) key += *v.txt;
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  const std::uint32_t id = size_.load(std::memory_order_relaxed);
  if (id >= kCapacity) return kFull;
  auto& chunk = chunks_[id >> kChunkBits];
  if (!chunk) chunk.reset(new Value[std::size_t{1} << kChunkBits]);
  chunk[id & ((1u << kChunkBits) - 1)] = v;
  ids_.emplace(std::move(key), id);
  size_.store(id + 1, std::memory_order_release);
  return id;
}

namespace {

std::uint32_t Ip4Of(const std::array<std::uint8_t, 16>& a) {
  return (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) |
         a[3];
}

std::uint64_t Hi(const std::array<std::uint8_t, 16>& a) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | a[static_cast<std::size_t>(i)];
  return v;
}
std::uint64_t Lo(const std::array<std::uint8_t, 16>& a) {
  std::uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | a[static_cast<std::size_t>(i)];
  return v;
}

void Empty(std::vector<f::Slot64>* t, std::size_t n) {
  t->assign(n == 0 ? 0 : CapacityFor(n), f::Slot64{0, f::kEmptySlot, 0});
}
void Empty(std::vector<f::Slot128>* t, std::size_t n) {
  t->assign(n == 0 ? 0 : CapacityFor(n), f::Slot128{0, 0, 0, f::kEmptySlot});
}
void Empty(std::vector<LiveLayer::NameSlot>* t, std::size_t n) {
  t->assign(n == 0 ? 0 : CapacityFor(n), LiveLayer::NameSlot{0, 0, f::kEmptySlot, 0});
}

// Linear probe for a free slot or `key`'s; false when `key` is present.
template <class Slot, class Same>
bool Insert(std::vector<Slot>* t, std::uint64_t start, const Slot& s, Same same) {
  std::uint64_t i = start;
  const std::uint64_t cap = t->size();
  for (std::uint64_t n = 0; n < cap; ++n) {
    Slot& x = (*t)[i];
    if (x.val == f::kEmptySlot) {
      x = s;
      return true;
    }
    if (same(x)) return false;
    if (++i == cap) i = 0;
  }
  return false;  // unreachable: a table always has a free slot
}

}  // namespace

// Fills a layer's tables; the caller sizes them first (Empty).
struct LiveLayer::Builder {
  LiveLayer* l;

  bool Put4(std::uint64_t key, std::uint32_t val) {
    const f::Slot64 s{key, val, 0};
    if (!Insert(&l->ip4_, Bucket(Hash64(key), l->ip4_.size()), s,
                [&](const f::Slot64& x) { return x.key == key; })) {
      return false;
    }
    l->lens4_ |= std::uint64_t{1} << (key >> 32);
    return true;
  }
  bool Put6(std::uint64_t hi, std::uint64_t lo, std::uint32_t len, std::uint32_t val) {
    const f::Slot128 s{hi, lo, len, val};
    if (!Insert(&l->ip6_, Bucket(Hash128(hi, lo, len), l->ip6_.size()), s,
                [&](const f::Slot128& x) { return x.hi == hi && x.lo == lo && x.len == len; })) {
      return false;
    }
    l->lens6_[len / 64] |= std::uint64_t{1} << (len % 64);
    return true;
  }
  bool PutName(std::span<const std::uint8_t> name, bool wildcard, std::uint32_t val) {
    auto& t = wildcard ? l->wild_ : l->exact_;
    const std::uint64_t h = HashName(name);
    const auto off = static_cast<std::uint32_t>(l->names_.size());
    const NameSlot s{lt::NameFp(h), off, val, static_cast<std::uint32_t>(name.size())};
    const std::uint8_t* bytes = l->names_.data();
    if (!Insert(&t, lt::NameBucket(h, t.size()), s, [&](const NameSlot& x) {
          return x.fp == s.fp && x.len == s.len &&
                 std::memcmp(bytes + x.off, name.data(), name.size()) == 0;
        })) {
      return false;
    }
    l->names_.insert(l->names_.end(), name.begin(), name.end());
    if (wildcard) {
      const auto labels = dns::CountLabels(name);
      if (labels >= 0 && labels < 128) {
        const auto u = static_cast<unsigned>(labels);
        l->wild_labels_[u / 64] |= std::uint64_t{1} << (u % 64);
      }
    }
    return true;
  }
  bool Put(const LiveEntry& e) {
    switch (e.kind) {
      case LiveEntry::Kind::kIp4:
        return Put4(lt::Key4(Ip4Of(e.addr), e.len), e.value);
      case LiveEntry::Kind::kIp6:
        return Put6(Hi(e.addr), Lo(e.addr), e.len, e.value);
      case LiveEntry::Kind::kName:
        return PutName({reinterpret_cast<const std::uint8_t*>(e.name.data()), e.name.size()},
                       e.wildcard, e.value);
    }
    return false;
  }
};

absl::StatusOr<std::shared_ptr<const LiveLayer>> LiveLayer::Build(
    std::span<const LiveEntry> entries, std::shared_ptr<const LiveValues> values,
    std::uint32_t ttl) {
  std::size_t n4 = 0, n6 = 0, nexact = 0, nwild = 0, bytes = 0;
  for (const LiveEntry& e : entries) {
    switch (e.kind) {
      case LiveEntry::Kind::kIp4:
        if (e.len > 32) return absl::InvalidArgumentError("live entry: IPv4 prefix above /32");
        ++n4;
        break;
      case LiveEntry::Kind::kIp6:
        if (e.len > 128) return absl::InvalidArgumentError("live entry: IPv6 prefix above /128");
        ++n6;
        break;
      case LiveEntry::Kind::kName:
        if (e.name.empty()) return absl::InvalidArgumentError("live entry: empty name");
        ++(e.wildcard ? nwild : nexact);
        bytes += e.name.size();
        break;
    }
  }
  auto layer = std::make_shared<LiveLayer>();
  layer->values_ = std::move(values);
  layer->ttl_ = ttl;
  Empty(&layer->ip4_, n4);
  Empty(&layer->ip6_, n6);
  Empty(&layer->exact_, nexact);
  Empty(&layer->wild_, nwild);
  layer->names_.reserve(bytes);
  Builder b{layer.get()};
  for (const LiveEntry& e : entries) {
    if (b.Put(e)) ++layer->entries_;
  }
  layer->Finish();
  return std::shared_ptr<const LiveLayer>(std::move(layer));
}

absl::StatusOr<std::shared_ptr<const LiveLayer>> LiveLayer::Merge(
    const LiveLayer& old, std::span<const LiveEntry> changes) {
  // The changes as a layer of their own (its values: ids, or kRemoved).
  auto ch = Build(changes, old.values_, old.ttl_);
  if (!ch.ok()) return ch.status();
  const LiveLayer& c = **ch;
  auto layer = std::make_shared<LiveLayer>();
  layer->values_ = old.values_;
  layer->ttl_ = old.ttl_;
  // Sized for every old entry and every change (an upper bound: a change
  // may replace an old entry).
  auto count = [](const auto& t) {
    return static_cast<std::size_t>(
        std::count_if(t.begin(), t.end(), [](const auto& s) { return s.val != f::kEmptySlot; }));
  };
  Empty(&layer->ip4_, count(old.ip4_) + count(c.ip4_));
  Empty(&layer->ip6_, count(old.ip6_) + count(c.ip6_));
  Empty(&layer->exact_, count(old.exact_) + count(c.exact_));
  Empty(&layer->wild_, count(old.wild_) + count(c.wild_));
  layer->names_.reserve(old.names_.size() + c.names_.size());
  Builder b{layer.get()};
  std::size_t n = 0;
  // The changes first (first wins), then the old entries they leave.
  for (const f::Slot64& s : c.ip4_) {
    if (s.val != f::kEmptySlot && s.val != LiveEntry::kRemoved && b.Put4(s.key, s.val)) ++n;
  }
  const TableView<f::Slot64> c4{c.ip4_.data(), c.ip4_.size()};
  for (const f::Slot64& s : old.ip4_) {
    if (s.val != f::kEmptySlot && Find64(c4, s.key) == nullptr) n += b.Put4(s.key, s.val);
  }
  for (const f::Slot128& s : c.ip6_) {
    if (s.val != f::kEmptySlot && s.val != LiveEntry::kRemoved) {
      n += b.Put6(s.hi, s.lo, s.len, s.val);
    }
  }
  const TableView<f::Slot128> c6{c.ip6_.data(), c.ip6_.size()};
  for (const f::Slot128& s : old.ip6_) {
    if (s.val != f::kEmptySlot && Find128(c6, s.hi, s.lo, s.len) == nullptr) {
      n += b.Put6(s.hi, s.lo, s.len, s.val);
    }
  }
  for (const bool wild : {false, true}) {
    const auto& ct = wild ? c.wild_ : c.exact_;
    const auto& ot = wild ? old.wild_ : old.exact_;
    for (const NameSlot& s : ct) {
      if (s.val != f::kEmptySlot && s.val != LiveEntry::kRemoved) {
        n += b.PutName({c.names_.data() + s.off, s.len}, wild, s.val);
      }
    }
    for (const NameSlot& s : ot) {
      if (s.val == f::kEmptySlot) continue;
      const std::span<const std::uint8_t> name(old.names_.data() + s.off, s.len);
      if (lt::FindName(ct.data(), ct.size(), c.names_.data(), name, HashName(name)) == nullptr) {
        n += b.PutName(name, wild, s.val);
      }
    }
  }
  layer->entries_ = n;
  layer->Finish(&old, &c);
  return std::shared_ptr<const LiveLayer>(std::move(layer));
}

namespace {

bool Listed(std::uint32_t val) {
  return val != f::kEmptySlot && val != f::kExcluded && val != LiveEntry::kRemoved;
}

}  // namespace

void LiveLayer::Finish(const LiveLayer* old, const LiveLayer* changes) {
  const std::size_t keys = ip4_.size() + ip6_.size() + exact_.size() + wild_.size();
  std::uint64_t bits = 512;
  while (bits < 8 * keys) bits *= 2;
  filter_.assign(bits / 64, 0);
  filter_mask_ = bits - 1;
  auto set = [&](std::uint64_t h) { filter_[(h & filter_mask_) / 64] |= 1ULL << (h & 63); };
  for (const f::Slot64& s : ip4_) {
    if (s.val != f::kEmptySlot) set(lt::FilterHash4(s.key));
  }
  for (const f::Slot128& s : ip6_) {
    if (s.val != f::kEmptySlot) set(lt::FilterHash6(s.hi, s.lo, s.len));
  }
  for (const bool wild : {false, true}) {
    for (const NameSlot& s : wild ? wild_ : exact_) {
      if (s.val == f::kEmptySlot) continue;
      set(lt::FilterHashName(HashName({names_.data() + s.off, s.len}), wild));
    }
  }
  if (old != nullptr) {
    // A merge: the old layer's ordered keys that no change replaced, merged
    // with the changes' own (no sort of the whole layer).
    const TableView<f::Slot64> c4{changes->ip4_.data(), changes->ip4_.size()};
    sorted4_.reserve(old->sorted4_.size() + changes->sorted4_.size());
    auto ci = changes->sorted4_.begin();
    for (const std::uint64_t k : old->sorted4_) {
      const std::uint64_t key = (k & 0xff) << 32 | (k >> 8);
      if (changes->MayHold(lt::FilterHash4(key)) && Find64(c4, key) != nullptr) continue;
      while (ci != changes->sorted4_.end() && *ci < k) sorted4_.push_back(*ci++);
      sorted4_.push_back(k);
    }
    sorted4_.insert(sorted4_.end(), ci, changes->sorted4_.end());
    const TableView<f::Slot128> c6{changes->ip6_.data(), changes->ip6_.size()};
    auto c6i = changes->sorted6_.begin();
    for (const Net6& n : old->sorted6_) {
      if (changes->MayHold(lt::FilterHash6(n.hi, n.lo, n.len)) &&
          Find128(c6, n.hi, n.lo, n.len) != nullptr) {
        continue;
      }
      while (c6i != changes->sorted6_.end() && *c6i < n) sorted6_.push_back(*c6i++);
      sorted6_.push_back(n);
    }
    sorted6_.insert(sorted6_.end(), c6i, changes->sorted6_.end());
  } else {
    for (const f::Slot64& s : ip4_) {
      if (Listed(s.val)) sorted4_.push_back((s.key & 0xffffffffu) << 8 | (s.key >> 32));
    }
    std::sort(sorted4_.begin(), sorted4_.end());
    for (const f::Slot128& s : ip6_) {
      if (Listed(s.val)) sorted6_.push_back({s.hi, s.lo, s.len});
    }
    std::sort(sorted6_.begin(), sorted6_.end());
  }
  for (const auto* t : {&exact_, &wild_}) {
    for (const NameSlot& s : *t) {
      if (!Listed(s.val)) continue;
      std::span<const std::uint8_t> n(names_.data() + s.off, s.len);
      while (!n.empty() && 1u + n[0] < n.size()) {
        n = n.subspan(1u + n[0]);
        parents_.push_back(HashName(n));
      }
    }
  }
  std::sort(parents_.begin(), parents_.end());
  parents_.erase(std::unique(parents_.begin(), parents_.end()), parents_.end());
}

void LiveLayer::ForEach(const std::function<void(const LiveEntry&)>& fn) const {
  LiveEntry e;
  for (const f::Slot64& s : ip4_) {
    if (s.val == f::kEmptySlot) continue;
    e = LiveEntry{};
    e.kind = LiveEntry::Kind::kIp4;
    const auto a = static_cast<std::uint32_t>(s.key);
    e.addr = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
              static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
    e.len = static_cast<std::uint8_t>(s.key >> 32);
    e.value = s.val;
    fn(e);
  }
  for (const f::Slot128& s : ip6_) {
    if (s.val == f::kEmptySlot) continue;
    e = LiveEntry{};
    e.kind = LiveEntry::Kind::kIp6;
    for (int i = 0; i < 8; ++i) {
      e.addr[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(s.hi >> (56 - 8 * i));
      e.addr[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(s.lo >> (56 - 8 * i));
    }
    e.len = static_cast<std::uint8_t>(s.len);
    e.value = s.val;
    fn(e);
  }
  for (const bool wild : {false, true}) {
    for (const NameSlot& s : wild ? wild_ : exact_) {
      if (s.val == f::kEmptySlot) continue;
      e = LiveEntry{};
      e.kind = LiveEntry::Kind::kName;
      e.name.assign(reinterpret_cast<const char*>(names_.data() + s.off), s.len);
      e.wildcard = wild;
      e.value = s.val;
      fn(e);
    }
  }
}

std::size_t LiveLayer::bytes() const noexcept {
  return ip4_.capacity() * sizeof(f::Slot64) + ip6_.capacity() * sizeof(f::Slot128) +
         (exact_.capacity() + wild_.capacity()) * sizeof(NameSlot) + names_.capacity() +
         (filter_.capacity() + sorted4_.capacity()) * sizeof(std::uint64_t) +
         sorted6_.capacity() * sizeof(Net6) + parents_.capacity() * sizeof(std::uint64_t);
}

}  // namespace meshbl::table
