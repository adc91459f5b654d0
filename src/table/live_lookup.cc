// Layered lookups of live lists (query path: noexcept, no allocation, no
// lock). Each layer gives its longest-prefix (most specific name) match with
// its specificity; the more specific decides, the newer layer winning a tie
// (live.h).
#include <algorithm>
#include <cstring>

#include "meshbl/dns/name.h"
#include "meshbl/table/live.h"
#include "table/live_table.h"

namespace meshbl::table {

namespace f = format;
namespace lt = live_table;

namespace {

bool Bit(const std::uint64_t* mask, unsigned n) noexcept {
  return (mask[n / 64] >> (n % 64) & 1) != 0;
}

}  // namespace

LiveLayer::Hit LiveLayer::Lpm4(std::uint32_t addr, int floor, int ceil) const noexcept {
  const TableView<f::Slot64> t{ip4_.data(), ip4_.size()};
  if (t.capacity == 0) return {};
  for (int len = std::min(ceil, 32); len > floor; --len) {
    if ((lens4_ >> len & 1) == 0) continue;
    const std::uint64_t key = lt::Key4(addr, static_cast<unsigned>(len));
    if (!MayHold(lt::FilterHash4(key))) continue;
    if (const f::Slot64* s = Find64(t, key)) {
      return {s->val, len, 0};
    }
  }
  return {};
}

LiveLayer::Hit LiveLayer::Lpm6(std::uint64_t hi, std::uint64_t lo, int floor,
                               int ceil) const noexcept {
  const TableView<f::Slot128> t{ip6_.data(), ip6_.size()};
  if (t.capacity == 0) return {};
  for (int len = std::min(ceil, 128); len > floor; --len) {
    const auto ul = static_cast<unsigned>(len);
    if (!Bit(lens6_.data(), ul)) continue;
    std::uint64_t mh = hi, ml = lo;
    MaskIp6(mh, ml, ul);
    if (!MayHold(lt::FilterHash6(mh, ml, ul))) continue;
    if (const f::Slot128* s = Find128(t, mh, ml, ul)) return {s->val, len, 0};
  }
  return {};
}

// The exact entry (specificity 2n+1 for n labels), else the wildcard with
// the longest base (2m for m labels), only specificities above `floor`.
LiveLayer::Hit LiveLayer::LpmName(std::span<const std::uint8_t> name, int floor) const noexcept {
  if (name.empty() || (exact_.empty() && wild_.empty())) return {};
  int labels = static_cast<int>(dns::CountLabels(name));
  if (2 * labels + 1 <= floor) return {};
  const std::uint64_t h = HashName(name);
  if (MayHold(lt::FilterHashName(h, false))) {
    if (const NameSlot* s = lt::FindName(exact_.data(), exact_.size(), names_.data(), name, h)) {
      return {s->val, 2 * labels + 1, 0};
    }
  }
  if (wild_.empty()) return {};
  std::size_t off = 0;
  while (off < name.size()) {
    off += 1u + name[off];
    --labels;
    if (off >= name.size() || 2 * labels <= floor) break;
    if (labels >= 128 || !Bit(wild_labels_.data(), static_cast<unsigned>(labels))) continue;
    const auto base = name.subspan(off);
    const std::uint64_t hb = HashName(base);
    if (!MayHold(lt::FilterHashName(hb, true))) continue;
    if (const NameSlot* s = lt::FindName(wild_.data(), wild_.size(), names_.data(), base, hb)) {
      return {s->val, 2 * labels, off};
    }
  }
  return {};
}

bool LiveLayer::ListedInside4(std::uint32_t prefix, unsigned len) const noexcept {
  if (len >= 32) return false;
  const std::uint64_t first = (std::uint64_t{MaskIp4(prefix, len)} << 8) | (len + 1);
  const auto it = std::lower_bound(sorted4_.begin(), sorted4_.end(), first);
  return it != sorted4_.end() &&
         MaskIp4(static_cast<std::uint32_t>(*it >> 8), len) == MaskIp4(prefix, len);
}

bool LiveLayer::ListedInside6(std::uint64_t hi, std::uint64_t lo, unsigned len) const noexcept {
  if (len >= 128) return false;
  MaskIp6(hi, lo, len);
  const auto it = std::lower_bound(sorted6_.begin(), sorted6_.end(), Net6{hi, lo, len + 1});
  if (it == sorted6_.end()) return false;
  std::uint64_t h = it->hi, l = it->lo;
  MaskIp6(h, l, len);
  return h == hi && l == lo;
}

bool LiveLayer::ListedBelow(std::span<const std::uint8_t> name) const noexcept {
  return std::binary_search(parents_.begin(), parents_.end(), HashName(name));
}

namespace {

using Hit = LiveLayer::Hit;

// The most specific of the layers' hits, newest first (each later layer was
// only asked for matches more specific than the earlier ones').
LiveMatch Decide(const LiveLayer* dl, const Hit& d, const LiveLayer* ml, const Hit& m,
                 const LiveLayer* bl, const Hit& b) noexcept {
  const LiveLayer* layer = dl;
  const Hit* best = &d;
  if (m.spec > best->spec) best = &m, layer = ml;
  if (b.spec > best->spec) best = &b, layer = bl;
  LiveMatch r;
  if (best->spec < 0 || layer == nullptr) return r;
  r.subject_off = best->subject_off;
  r.ttl = layer->ttl();
  r.value = best->val == f::kExcluded ? nullptr : layer->values().Get(best->val);
  r.match = r.value != nullptr ? Match::kListed : Match::kExcluded;
  return r;
}

template <class Fn>
LiveMatch Layered(const LiveTables& t, Fn lpm) noexcept {
  const LiveLayer* dl = t.delta.get();
  const LiveLayer* ml = t.mid.get();
  const LiveLayer* bl = t.base.get();
  const Hit d = dl != nullptr ? lpm(*dl, -1) : Hit{};
  const Hit m = ml != nullptr ? lpm(*ml, d.spec) : Hit{};
  const Hit b = bl != nullptr ? lpm(*bl, std::max(d.spec, m.spec)) : Hit{};
  return Decide(dl, d, ml, m, bl, b);
}

}  // namespace

LiveMatch LookupLive4(const LiveTables& t, std::uint32_t addr, int max_len) noexcept {
  return Layered(t, [=](const LiveLayer& l, int floor) { return l.Lpm4(addr, floor, max_len); });
}

LiveMatch LookupLive6(const LiveTables& t, std::uint64_t hi, std::uint64_t lo,
                      int max_len) noexcept {
  return Layered(t, [=](const LiveLayer& l, int floor) { return l.Lpm6(hi, lo, floor, max_len); });
}

LiveMatch LookupLiveName(const LiveTables& t, std::span<const std::uint8_t> rel) noexcept {
  return Layered(t, [rel](const LiveLayer& l, int floor) { return l.LpmName(rel, floor); });
}

}  // namespace meshbl::table
