#include "meshbl/table/zone_set.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "meshbl/dns/name.h"

namespace meshbl::table {

namespace f = format;

const DsNode* ZoneSet::Node(const Snapshot& snap, std::uint32_t index) {
  DsNode& n = nodes_.emplace_back(snap, index);
  const f::DatasetRec& r = snap.datasets()[index];
  for (int i = 0; i < 10; ++i) {
    n.txt.has_var[i] = r.vars[i] != f::kNone;
    n.txt.vars[i] = snap.String(r.vars[i]);
  }
  n.txt.has_base = r.base_template != f::kNone;
  n.txt.base = snap.String(r.base_template);
  if (r.type == static_cast<std::uint32_t>(DatasetType::kCombined)) {
    auto subs = snap.subzones().subspan(r.tables[0], r.tables[1]);  // validated at open
    for (const auto& sz : subs) {
      SubZoneNode sn;
      sn.name = snap.Bytes(sz.name);
      for (std::uint32_t c = sz.first; c < sz.first + sz.count; ++c) {
        sn.datasets.push_back(Node(snap, c));
      }
      n.subs.push_back(std::move(sn));
    }
  }
  return &n;
}

namespace {

void CollectExpiry(const DsNode& n, std::int64_t* expires) {
  std::int64_t e = n.view.rec().expires;
  if (e != 0 && (*expires == 0 || e < *expires)) *expires = e;
  for (const auto& s : n.subs) {
    for (const DsNode* c : s.datasets) CollectExpiry(*c, expires);
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ZoneSet>> ZoneSet::Create(
    std::vector<std::shared_ptr<const Snapshot>> snaps) {
  std::shared_ptr<ZoneSet> zs(new ZoneSet());
  zs->snapshots_ = std::move(snaps);
  for (const auto& snap : zs->snapshots_) {
    absl::flat_hash_map<std::uint32_t, const DsNode*> made;
    auto node = [&](std::uint32_t i) {
      auto it = made.find(i);
      if (it != made.end()) return it->second;
      const DsNode* n = zs->Node(*snap, i);
      made.emplace(i, n);
      return n;
    };
    if (snap->header().global_acl != f::kNone && zs->global_acl_ == nullptr) {
      zs->global_acl_ = node(snap->header().global_acl);
    }
    for (const auto& z : snap->zones()) {
      auto name = snap->Bytes(z.name);
      auto it = std::find_if(zs->zones_.begin(), zs->zones_.end(), [&](const ZoneNode& zn) {
        return std::equal(zn.name.begin(), zn.name.end(), name.begin(), name.end());
      });
      if (it == zs->zones_.end()) {
        zs->zones_.push_back({});
        it = zs->zones_.end() - 1;
        it->name = name;
      }
      for (auto id : snap->Pool(z.ds_first, z.ds_count)) it->datasets.push_back(node(id));
      if (z.acl != f::kNone && it->acl == nullptr) it->acl = node(z.acl);
      it->stamp = std::max(it->stamp, z.stamp);
    }
  }
  for (auto& z : zs->zones_) {
    for (const DsNode* d : z.datasets) {
      if (z.soa == nullptr && d->view.rec().has_soa) z.soa = d;
      if (z.ns == nullptr && d->view.rec().ns_count > 0) z.ns = d;
      z.has_ip4 |= d->view.is_ip4();
      CollectExpiry(*d, &z.expires);
    }
  }
  std::stable_sort(zs->zones_.begin(), zs->zones_.end(), [](const ZoneNode& a, const ZoneNode& b) {
    return a.name.size() > b.name.size();
  });
  return std::shared_ptr<const ZoneSet>(std::move(zs));
}

}  // namespace meshbl::table
