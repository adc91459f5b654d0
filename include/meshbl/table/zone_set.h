// The published, read-only serving state: every zone with the datasets that
// answer for it, resolved over one or more validated snapshots. A ZoneSet is
// built on the control plane, published through ZoneSetHolder (swap.h) and
// then read by any number of query workers without locks.
//
// Live lists (live.h) are not in the ZoneSet: a zone names the slots of the
// live lists it serves (ZoneNode::live) and Resolve() reads their current
// tables from the OverlaySet published beside it, so a live change never
// rebuilds the ZoneSet.
#ifndef MESHBL_TABLE_ZONE_SET_H_
#define MESHBL_TABLE_ZONE_SET_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/txt_template.h"

namespace meshbl::table {

struct DsNode;

// --- Empty non-terminal summaries (issue 9 item 7) --------------------------

// A set of k-bit numbers (IPv4 prefixes of k = 8, 16 or 24 bits): a bitmap of
// 2^k bits, or a sorted array where that is smaller (sparse data). Built once
// per dataset by ZoneSet::Create; Contains() is allocation-free and lock-free.
class PrefixSet {
 public:
  // Takes a bitmap of 2^bits bits and keeps it or its sorted members,
  // whichever is smaller.
  void Build(std::vector<std::uint64_t> bitmap);
  bool Contains(std::uint32_t v) const noexcept {
    if (!bitmap_.empty()) {
      const std::size_t w = v / 64;
      return w < bitmap_.size() && (bitmap_[w] >> (v % 64) & 1) != 0;
    }
    return std::binary_search(sorted_.begin(), sorted_.end(), v);
  }
  bool empty() const noexcept { return bitmap_.empty() && sorted_.empty(); }
  std::size_t bytes() const noexcept { return bitmap_.size() * 8 + sorted_.size() * 4; }

 private:
  std::vector<std::uint64_t> bitmap_;
  std::vector<std::uint32_t> sorted_;
};

// What a dataset lists below IP prefixes, for empty non-terminals: a name
// of 1-3 decimal labels (or of 1-31 nibble labels) is NODATA only where an
// address below it is listed. The rule of the dataset itself decides for
// entries as long as the prefix or shorter (a hash probe at query time);
// these summaries say whether a listed entry *longer* than the prefix lies
// inside it.
struct EntSummary {
  struct Net6 {
    std::uint64_t hi, lo;
    std::uint32_t len;
    friend bool operator<(const Net6& a, const Net6& b) noexcept {
      if (a.hi != b.hi) return a.hi < b.hi;
      if (a.lo != b.lo) return a.lo < b.lo;
      return a.len < b.len;
    }
  };
  // ip4set, ip4tset, ip4trie: a listed entry longer than /0 exists; the /8,
  // /16 and /24 prefixes holding a listed entry longer than /8, /16, /24.
  bool any4 = false;
  PrefixSet p8, p16, p24;
  // ip6trie: the listed prefixes; ip6tset: the /64 networks; sorted.
  std::vector<Net6> nets6;
};

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
  // IP datasets: what is listed below IPv4/IPv6 prefixes (issue 9), or
  // null while it is still being built (ZoneSet::Create builds large ones on
  // a background thread so that serving starts at once; until then every IP
  // prefix counts as having listed names below). Acquire load; lock-free.
  const EntSummary* ent() const noexcept { return ent_ready.load(std::memory_order_acquire); }
  std::unique_ptr<EntSummary> ent_owned;
  std::atomic<const EntSummary*> ent_ready{nullptr};
};

// A precomputed glue A record (reference §5 "Glue").
struct GlueRr {
  std::span<const std::uint8_t> owner;  // the NS name, a label sequence
  std::uint8_t a[4];
};

struct ZoneNode;

// An NS name of a zone whose glue comes from a live list (the NS name lies
// in a zone that serves live lists): looked up at query time.
struct LiveGlue {
  std::span<const std::uint8_t> owner;  // the NS name as in the data
  std::vector<std::uint8_t> rel;        // lowercased, relative to `zone`
  const ZoneNode* zone = nullptr;
};

struct ZoneNode {
  std::span<const std::uint8_t> name;  // label sequence
  // Stable identity for per-zone counters (ZoneIdOf): the same name gets the
  // same id in every ZoneSet of the process.
  std::uint32_t id = 0;
  std::vector<const DsNode*> datasets;  // command-line order
  // Slots (OverlaySet::lists) of the live lists served in this zone, after
  // the snapshot datasets, in command-line order.
  std::vector<std::uint32_t> live;
  std::vector<LiveGlue> live_glue;
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

// A zone served from a live list: `zone:live:LIST` on the command line.
struct LiveZone {
  std::vector<std::uint8_t> name;  // label sequence, lowercased
  std::uint32_t slot = 0;          // the list's slot in the OverlaySet
};

// The process-wide identity of zone `name` (label sequence): ids are handed
// out in order of first use and never reused, so per-zone counters follow a
// zone across reloads that add, remove or reorder zones. Control plane;
// thread-safe.
std::uint32_t ZoneIdOf(std::span<const std::uint8_t> name);
// The name (label sequence) of id `id`, empty when unknown.
std::vector<std::uint8_t> ZoneNameOf(std::uint32_t id);

class ZoneSet {
 public:
  // Orders the datasets of a zone that several snapshots contribute to: the
  // rank of dataset `spec` ("type:files") of snapshot `snapshot` (an index
  // into `snaps`) in zone `zone` (a label sequence); lower ranks first.
  using DatasetRank = std::function<std::size_t(
      std::size_t snapshot, std::span<const std::uint8_t> zone, std::string_view spec)>;

  ZoneSet(const ZoneSet&) = delete;
  ZoneSet& operator=(const ZoneSet&) = delete;
  // Stops and joins a summary build still running (within ~1 ms).
  ~ZoneSet();

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
      std::span<const std::vector<std::uint8_t>> failed_zones = {},
      std::span<const LiveZone> live_zones = {});

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
  // Empty non-terminal summaries (issue 9): built here when small, else on
  // ent_builder_, which the destructor stops and joins.
  static void StartEntSummaries(ZoneSet* zs);
  const DsNode* Node(const Snapshot& snap, std::uint32_t index);
  static void ComputeGlue(ZoneSet* zs);

  std::vector<std::shared_ptr<const Snapshot>> snapshots_;
  std::deque<DsNode> nodes_;  // stable addresses
  std::vector<ZoneNode> zones_;
  const DsNode* global_acl_ = nullptr;
  std::deque<std::vector<std::uint8_t>> failed_names_;  // names of zones added by `failed_zones`
                                                        // or `live_zones`
  std::vector<std::string> warnings_;
  std::atomic<bool> ent_stop_{false};
  std::thread ent_builder_;
};

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_ZONE_SET_H_
