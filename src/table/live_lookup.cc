// Layered lookups of live lists (query path: noexcept, no allocation, no
// lock). Each layer gives its longest-prefix (most specific name) match with
// its length; the more specific decides, the delta winning a tie (live.h).
#include <algorithm>
#include <cstring>

#include "meshbl/dns/name.h"
#include "meshbl/table/live.h"
#include "table/flat_table.h"

namespace meshbl::table {

namespace f = format;

namespace {

struct Hit {
  const DsNode* node = nullptr;
  std::uint32_t word = f::kEmptySlot;
  int spec = -1;  // specificity: prefix length, or 2 * labels (+1 exact) for names
  std::size_t subject_off = 0;
};

bool Bit(const std::uint64_t* mask, unsigned n) noexcept {
  return (mask[n / 64] >> (n % 64) & 1) != 0;
}

// Longest prefix of `node` covering addr, only lengths above `floor`.
Hit Lpm4(const DsNode* node, std::uint32_t addr, int floor) noexcept {
  Hit h;
  if (node == nullptr) return h;
  const std::uint64_t lens = node->view.rec().lens4;
  const auto t = node->view.table64();
  for (int len = 32; len > floor; --len) {
    if ((lens >> len & 1) == 0) continue;
    const auto ul = static_cast<unsigned>(len);
    if (const f::Slot64* s = Find64(t, (std::uint64_t{ul} << 32) | MaskIp4(addr, ul))) {
      return {node, s->val, len, 0};
    }
  }
  return h;
}

Hit Lpm6(const DsNode* node, std::uint64_t hi, std::uint64_t lo, int floor) noexcept {
  Hit h;
  if (node == nullptr) return h;
  const std::uint64_t* lens = node->view.rec().lens6;
  const auto t = node->view.table128();
  for (int len = 128; len > floor; --len) {
    const auto ul = static_cast<unsigned>(len);
    if (!Bit(lens, ul)) continue;
    std::uint64_t mh = hi, ml = lo;
    MaskIp6(mh, ml, ul);
    if (const f::Slot128* s = Find128(t, mh, ml, ul)) return {node, s->val, len, 0};
  }
  return h;
}

const f::SlotName* FindName(const DsNode* node, const TableRef<f::SlotName>& t,
                            std::span<const std::uint8_t> name) noexcept {
  return FindNameSlot(node->view.snapshot(), t, name);
}

// The most specific name entry of `node` covering `name`: the exact entry
// (specificity 2n+1 for n labels), else the wildcard with the longest base
// (2m for m labels), only specificities above `floor`.
Hit LpmName(const DsNode* node, std::span<const std::uint8_t> name, int floor) noexcept {
  Hit h;
  if (node == nullptr || name.empty()) return h;
  int labels = static_cast<int>(dns::CountLabels(name));
  if (2 * labels + 1 <= floor) return h;
  if (const f::SlotName* s = FindName(node, node->view.names(), name)) {
    return {node, s->val, 2 * labels + 1, 0};
  }
  const auto wild = node->view.wildcards();
  if (wild.capacity == 0) return h;
  const std::uint64_t* lens = node->view.rec().lens6;
  std::size_t off = 0;
  while (off < name.size()) {
    off += 1u + name[off];
    --labels;
    if (off >= name.size() || 2 * labels <= floor) break;
    if (labels >= 128 || !Bit(lens, static_cast<unsigned>(labels))) continue;
    if (const f::SlotName* s = FindName(node, wild, name.subspan(off))) {
      return {node, s->val, 2 * labels, off};
    }
  }
  return h;
}

// The most specific of the layers' hits, newest first (each later layer was
// only asked for matches more specific than the earlier ones').
LiveMatch Decide(const Hit& d, const Hit& mid, const Hit& b) noexcept {
  const Hit* best = &d;
  if (mid.spec > best->spec) best = &mid;
  if (b.spec > best->spec) best = &b;
  const Hit& w = *best;
  LiveMatch m;
  if (w.node == nullptr) return m;
  m.node = w.node;
  m.subject_off = w.subject_off;
  if (w.word == f::kExcluded) {
    m.match = Match::kExcluded;
  } else {
    m.match = w.node->view.DecodeWord(w.word, &m.values) ? Match::kListed : Match::kExcluded;
  }
  return m;
}

const DsNode* Ip4Of(const std::shared_ptr<const LiveLayer>& l) noexcept {
  return l ? l->ip4() : nullptr;
}
const DsNode* Ip6Of(const std::shared_ptr<const LiveLayer>& l) noexcept {
  return l ? l->ip6() : nullptr;
}
const DsNode* NamesOf(const std::shared_ptr<const LiveLayer>& l) noexcept {
  return l ? l->names() : nullptr;
}

}  // namespace

LiveMatch LookupLive4(const LiveTables& t, std::uint32_t addr) noexcept {
  const Hit d = Lpm4(Ip4Of(t.delta), addr, -1);
  const Hit m = Lpm4(Ip4Of(t.mid), addr, d.spec);
  return Decide(d, m, Lpm4(Ip4Of(t.base), addr, std::max(d.spec, m.spec)));
}

LiveMatch LookupLive6(const LiveTables& t, std::uint64_t hi, std::uint64_t lo) noexcept {
  const Hit d = Lpm6(Ip6Of(t.delta), hi, lo, -1);
  const Hit m = Lpm6(Ip6Of(t.mid), hi, lo, d.spec);
  return Decide(d, m, Lpm6(Ip6Of(t.base), hi, lo, std::max(d.spec, m.spec)));
}

LiveMatch LookupLiveName(const LiveTables& t, std::span<const std::uint8_t> rel) noexcept {
  const Hit d = LpmName(NamesOf(t.delta), rel, -1);
  const Hit m = LpmName(NamesOf(t.mid), rel, d.spec);
  return Decide(d, m, LpmName(NamesOf(t.base), rel, std::max(d.spec, m.spec)));
}

}  // namespace meshbl::table
