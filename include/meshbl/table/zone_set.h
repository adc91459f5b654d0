// The published, read-only serving state: every zone with the datasets that
// answer for it, resolved over one or more validated snapshots. A ZoneSet is
// built on the control plane, published through SnapshotHolder (swap.h) and
// then read by any number of query workers without locks.
//
// Later layers (live feeds) attach a mutable overlay per dataset beside the
// immutable views here; Resolve() consults DsNode, so an overlay pointer fits
// in DsNode without changing the lookup path.
#ifndef MESHBL_TABLE_ZONE_SET_H_
#define MESHBL_TABLE_ZONE_SET_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/txt_template.h"

namespace meshbl::table {

struct DsNode;

// A combined dataset's sub-zone: a label sequence relative to the combined
// zone and the nested datasets that answer for it.
struct SubZoneNode {
  std::span<const std::uint8_t> name;
  std::vector<const DsNode*> datasets;
};

// One dataset as the query path sees it.
struct DsNode {
  DsNode(const Snapshot& snap, std::uint32_t index) noexcept : view(snap, index) {}
  DatasetView view;
  TxtContext txt;                 // $0..$9 and $= of the dataset
  std::vector<SubZoneNode> subs;  // combined only, most specific first
  // dnset/generic: sorted XXH3-64 hashes of the empty non-terminals, i.e. the
  // proper parents (relative to the zone, not the apex) of stored names (and
  // dnset wildcard bases themselves). Built by ZoneSet::Create.
  std::vector<std::uint64_t> ent_hashes;
};

// A precomputed glue A record (reference §5 "Glue").
struct GlueRr {
  std::span<const std::uint8_t> owner;  // the NS name, a label sequence
  std::uint8_t a[4];
};

struct ZoneNode {
  std::span<const std::uint8_t> name;   // label sequence
  std::vector<const DsNode*> datasets;  // command-line order
  const DsNode* acl = nullptr;
  const DsNode* soa = nullptr;  // first dataset (command-line order) with $SOA
  const DsNode* ns = nullptr;   // first dataset with $NS
  bool has_ip4 = false;         // maps 6to4 / v4-mapped IPv6 queries to IPv4
  std::int64_t expires = 0;     // earliest $TIMESTAMP expiry, 0 = none
  std::uint32_t stamp = 0;      // newest mtime of its files (SOA serial 0)
  // Glue for the NS set, computed at Create by an internal A query for every
  // NS name inside a served zone; identical addresses appear once, and all
  // glue RRs share the minimum TTL found (`glue_ttl`), as in rbldnsd.
  std::vector<GlueRr> glue;
  std::uint32_t glue_ttl = 0;
  // A dataset of the zone has no data (it never loaded): rbldnsd's "not all
  // datasets are loaded, zone will not be serviced". Every query for the
  // zone gets SERVFAIL (after the zone ACL's `ignore`, before `refuse`).
  bool failed = false;
};

class ZoneSet {
 public:
  // Orders the datasets of a zone that several snapshots contribute to: the
  // rank of dataset `spec` ("type:files") of snapshot `snapshot` (an index
  // into `snaps`) in zone `zone` (a label sequence); lower ranks first.
  using DatasetRank = std::function<std::size_t(
      std::size_t snapshot, std::span<const std::uint8_t> zone, std::string_view spec)>;

  // Builds the serving state over `snaps` (zones of the same name merge, in
  // order, or in `rank` order when one is given: the command line's order
  // when each dataset has a snapshot of its own). Keeps the snapshots alive
  // for as long as the ZoneSet lives.
  //
  // `failed_zones` (label sequences) are the zones one of whose datasets has
  // no data: each is served with `failed` set (SERVFAIL), with whatever
  // datasets of it did load, so that it still shadows its parent zones.
  static absl::StatusOr<std::shared_ptr<const ZoneSet>> Create(
      std::vector<std::shared_ptr<const Snapshot>> snaps, const DatasetRank& rank = nullptr,
      std::span<const std::vector<std::uint8_t>> failed_zones = {});

  // Most specific zone first.
  std::span<const ZoneNode> zones() const noexcept { return zones_; }
  const DsNode* global_acl() const noexcept { return global_acl_; }
  std::span<const std::shared_ptr<const Snapshot>> snapshots() const noexcept { return snapshots_; }
  // rbldnsd's zone warnings found while building, one line each, zones in
  // order: "zone Z: not all datasets are loaded, zone will not be serviced",
  // "zone Z: no glue record(s) for N NS found" (an NS name inside a served
  // zone that has no A record there).
  std::span<const std::string> warnings() const noexcept { return warnings_; }

 private:
  ZoneSet() = default;
  const DsNode* Node(const Snapshot& snap, std::uint32_t index);
  static void ComputeGlue(ZoneSet* zs);

  std::vector<std::shared_ptr<const Snapshot>> snapshots_;
  std::deque<DsNode> nodes_;  // stable addresses
  std::vector<ZoneNode> zones_;
  const DsNode* global_acl_ = nullptr;
  std::deque<std::vector<std::uint8_t>> failed_names_;  // names of zones added by `failed_zones`
  std::vector<std::string> warnings_;
};

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_ZONE_SET_H_
