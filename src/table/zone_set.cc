#include "meshbl/table/zone_set.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <system_error>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/dataset_type.h"
#include "meshbl/table/query.h"
#include "meshbl/util/mutex.h"
#include "meshbl/util/thread_name.h"
#include "table/flat_table.h"

namespace meshbl::table {

namespace f = format;

namespace {

// Empty non-terminals of a dnset or generic dataset (issue 3): the type's
// `ent_names` (dataset_type.h), sorted and deduplicated.
std::vector<std::uint64_t> EntHashes(const Snapshot& snap, const f::DatasetRec& r) {
  std::vector<std::uint64_t> out;
  const DatasetTypeOps* ops = FindOps(r.type);
  if (ops != nullptr && ops->ent_names != nullptr) ops->ent_names(snap, r, &out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.shrink_to_fit();
  return out;
}

// Builds the summary of `v` (issue 9 item 7) with the type's `ent_summary`;
// returns early (unusable) once `*stop` is set.
EntSummary BuildEntSummary(const DatasetView& v, const std::atomic<bool>* stop) {
  EntSummary e;
  const auto build = OpsFor(v.type()).ent_summary;
  if (build != nullptr && !build(v, stop, &e)) return e;
  std::sort(e.nets6.begin(), e.nets6.end());
  e.nets6.shrink_to_fit();
  return e;
}

bool IsIpType(DatasetType t) { return OpsFor(t).ent_summary != nullptr; }

// Slots a summary build scans for `v`.
std::uint64_t EntScanSlots(const DatasetView& v) {
  std::uint64_t n = v.table64().capacity + v.table128().capacity;
  for (int l = 0; l < 4; ++l) n += v.ip4_level(l).capacity;
  return n;
}

// Up to this many slots in all, summaries are built before Create returns.
constexpr std::uint64_t kSyncEntSlots = 1 << 20;

// --- end of empty non-terminal summaries ------------------------------------

}  // namespace

void PrefixSet::Build(std::vector<std::uint64_t> bitmap) {
  std::size_t count = 0;
  for (std::uint64_t w : bitmap) count += static_cast<std::size_t>(__builtin_popcountll(w));
  bitmap_.clear();
  sorted_.clear();
  if (count == 0) return;
  if (count * sizeof(std::uint32_t) < bitmap.size() * sizeof(std::uint64_t)) {
    sorted_.reserve(count);
    for (std::size_t w = 0; w < bitmap.size(); ++w) {
      for (std::uint64_t b = bitmap[w]; b != 0; b &= b - 1) {
        sorted_.push_back(
            static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(b))));
      }
    }
  } else {
    bitmap_ = std::move(bitmap);
  }
}

namespace {

struct ZoneIds {
  util::Mutex mu;
  absl::flat_hash_map<std::string, std::uint32_t> ids ABSL_GUARDED_BY(mu);
  std::vector<std::string> names ABSL_GUARDED_BY(mu);
};

ZoneIds& Ids() {
  static ZoneIds* ids = new ZoneIds;  // never destroyed: workers may count late
  return *ids;
}

}  // namespace

std::uint32_t ZoneIdOf(std::span<const std::uint8_t> name) {
  ZoneIds& z = Ids();
  std::string key(name.begin(), name.end());
  util::MutexLock lock(&z.mu);
  auto [it, added] = z.ids.try_emplace(key, static_cast<std::uint32_t>(z.names.size()));
  if (added) z.names.push_back(std::move(key));
  return it->second;
}

std::vector<std::uint8_t> ZoneNameOf(std::uint32_t id) {
  ZoneIds& z = Ids();
  util::MutexLock lock(&z.mu);
  if (id >= z.names.size()) return {};
  return std::vector<std::uint8_t>(z.names[id].begin(), z.names[id].end());
}

ZoneSet::~ZoneSet() {
  ent_stop_.store(true, std::memory_order_relaxed);
  if (ent_builder_.joinable()) ent_builder_.join();
}

// Issue 9 item 7: every IP dataset (also inside combined datasets) gets its
// summary; a large total is built on a background thread so that the first
// answer does not wait for a pass over every slot (10M entries: ~100 ms).
void ZoneSet::StartEntSummaries(ZoneSet* zs) {
  std::vector<DsNode*> todo;
  std::uint64_t slots = 0;
  for (DsNode& n : zs->nodes_) {
    if (!IsIpType(n.view.type())) continue;
    todo.push_back(&n);
    slots += EntScanSlots(n.view);
  }
  auto build = [zs, todo = std::move(todo)] {
    util::NameThisThread("meshbl-ent");
    for (DsNode* n : todo) {
      auto e = std::make_unique<EntSummary>(BuildEntSummary(n->view, &zs->ent_stop_));
      if (zs->ent_stop_.load(std::memory_order_relaxed)) return;
      n->ent_owned = std::move(e);
      n->ent_ready.store(n->ent_owned.get(), std::memory_order_release);
    }
  };
  if (slots > kSyncEntSlots) {
    try {
      zs->ent_builder_ = std::thread(build);
      return;
    } catch (const std::system_error&) {
      // No thread to be had: build here.
    }
  }
  build();
}

const DsNode* ZoneSet::Node(const Snapshot& snap, std::uint32_t index) {
  DsNode& n = nodes_.emplace_back(snap, index);
  const f::DatasetRec& r = snap.datasets()[index];
  for (int i = 0; i < 10; ++i) {
    n.txt.has_var[i] = r.vars[i] != f::kNone;
    n.txt.vars[i] = snap.String(r.vars[i]);
  }
  n.txt.has_base = r.base_template != f::kNone;
  n.txt.base = snap.String(r.base_template);
  n.ent_hashes = EntHashes(snap, r);
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

// A zone name as rbldnsd's zone messages print it ("zone %.70s: ...").
std::string ZoneText(std::span<const std::uint8_t> name) {
  return dns::NameToText(name).substr(0, 70);
}

void CollectExpiry(const DsNode& n, std::int64_t* expires) {
  std::int64_t e = n.view.rec().expires;
  if (e != 0 && (*expires == 0 || e < *expires)) *expires = e;
  for (const auto& s : n.subs) {
    for (const DsNode* c : s.datasets) CollectExpiry(*c, expires);
  }
}

}  // namespace

// §5 "Glue": an internal A query (no client, no ACL) for each NS name inside
// a served zone; A records already collected for the zone are not repeated
// (rbldnsd adds them through its duplicate check) and all share the minimum
// TTL found.
//
// As in rbldnsd, a failed zone gets no NS/glue computed, while an NS name in
// a failed zone is still looked up in that zone's datasets that did load;
// an NS name inside a served zone without an A record there is warned
// about ("zone Z: no glue record(s) for N NS found"), one outside every
// served zone is not.
void ZoneSet::ComputeGlue(ZoneSet* zs) {
  auto answer = std::make_unique<Answer>();
  QueryOptions lazy;
  lazy.lazy = true;
  std::vector<bool> failed(zs->zones_.size());
  for (std::size_t i = 0; i < zs->zones_.size(); ++i) {
    failed[i] = zs->zones_[i].failed;
    zs->zones_[i].failed = false;  // lookups below see the datasets that loaded
  }
  for (std::size_t zi = 0; zi < zs->zones_.size(); ++zi) {
    ZoneNode& z = zs->zones_[zi];
    if (z.ns == nullptr || failed[zi]) continue;
    const Snapshot& snap = z.ns->view.snapshot();
    const f::DatasetRec& r = z.ns->view.rec();
    bool any = false;
    for (std::uint32_t ref : snap.Pool(r.ns_first, r.ns_count)) {
      // NS names keep the letter case of the data; queries are lowercased.
      const auto owner = snap.Bytes(ref);
      std::vector<std::uint8_t> lower(owner.begin(), owner.end());
      for (std::uint8_t& b : lower) b = dns::ToLowerAscii(b);
      Query q;
      q.qname = lower;
      q.qtype = kTypeA;
      Resolve(*zs, lazy, q, answer.get());
      const bool served = answer->zone != nullptr;
      if (served && !answer->zone->live.empty()) {
        // The NS name lies in a zone with live lists: its glue can change
        // at any time, so the query path looks it up (live.h); what the
        // snapshots hold is added below as usual.
        LiveGlue lg;
        lg.owner = owner;
        const int off = dns::SuffixOffset(lower, answer->zone->name);
        lg.rel.assign(lower.begin(), lower.begin() + (off < 0 ? 0 : off));
        lg.zone = answer->zone;
        z.live_glue.push_back(std::move(lg));
      }
      const bool live_glue = served && !answer->zone->live.empty();
      bool found = false;
      for (int i = 0; i < answer->answer_count; ++i) {
        const Rr& rr = answer->answer[i];
        auto rd = answer->rdata(rr);
        if (rr.type != kTypeA || rd.size() != 4) continue;
        // An address already in the zone's glue adds nothing, and then
        // rbldnsd finds "no glue" for this name (its duplicate check).
        if (std::any_of(z.glue.begin(), z.glue.end(),
                        [&](const GlueRr& g) { return std::memcmp(g.a, rd.data(), 4) == 0; })) {
          continue;
        }
        found = true;
        if (z.glue.size() >= static_cast<std::size_t>(Answer::kMaxAdditional)) break;
        GlueRr g;
        g.owner = owner;
        std::memcpy(g.a, rd.data(), 4);
        z.glue.push_back(g);
        z.glue_ttl = any ? std::min(z.glue_ttl, rr.ttl) : rr.ttl;
        any = true;
      }
      if (served && !found && !live_glue) {
        zs->warnings_.push_back(absl::StrCat("zone ", ZoneText(z.name), ": no glue record(s) for ",
                                             dns::NameToText(lower).substr(0, 60), " NS found"));
      }
    }
    if (r.ns_dropped > 0) {  // after the names kept, as rbldnsd reaches the 33rd
      zs->warnings_.push_back(absl::StrCat("zone ", ZoneText(z.name),
                                           ": too many NS records specified, only first 32 will "
                                           "be used"));
    }
  }
  for (std::size_t i = 0; i < zs->zones_.size(); ++i) zs->zones_[i].failed = failed[i];
}

absl::StatusOr<std::shared_ptr<const ZoneSet>> ZoneSet::Create(
    std::vector<std::shared_ptr<const Snapshot>> snaps, const DatasetRank& rank,
    std::span<const std::vector<std::uint8_t>> failed_zones, std::span<const LiveZone> live_zones) {
  std::shared_ptr<ZoneSet> zs(new ZoneSet());
  zs->snapshots_ = std::move(snaps);
  // Each zone's datasets with their ranks, sorted below.
  std::vector<std::vector<std::size_t>> ranks;
  for (std::size_t k = 0; k < zs->snapshots_.size(); ++k) {
    const auto& snap = zs->snapshots_[k];
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
        ranks.emplace_back();
        it = zs->zones_.end() - 1;
        it->name = name;
      }
      auto& zone_ranks = ranks[static_cast<std::size_t>(it - zs->zones_.begin())];
      for (auto id : snap->Pool(z.ds_first, z.ds_count)) {
        const DsNode* n = node(id);
        zone_ranks.push_back(rank ? rank(k, name, snap->String(n->view.rec().spec))
                                  : zone_ranks.size());
        it->datasets.push_back(n);
      }
      if (z.acl != f::kNone && it->acl == nullptr) it->acl = node(z.acl);
      it->stamp = std::max(it->stamp, z.stamp);
    }
  }
  for (std::size_t i = 0; i < zs->zones_.size(); ++i) {
    ZoneNode& z = zs->zones_[i];
    if (rank) {
      std::vector<std::size_t> order(z.datasets.size());
      for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return ranks[i][a] < ranks[i][b]; });
      std::vector<const DsNode*> sorted;
      for (std::size_t j : order) sorted.push_back(z.datasets[j]);
      z.datasets = std::move(sorted);
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
  // Zones one of whose datasets has no data: SERVFAIL, created if none of
  // their datasets loaded (so that they still shadow their parents).
  for (const std::vector<std::uint8_t>& f : failed_zones) {
    auto it = std::find_if(zs->zones_.begin(), zs->zones_.end(), [&](const ZoneNode& zn) {
      return std::equal(zn.name.begin(), zn.name.end(), f.begin(), f.end());
    });
    if (it == zs->zones_.end()) {
      zs->zones_.push_back({});
      it = zs->zones_.end() - 1;
      it->name = zs->failed_names_.emplace_back(f);
    }
    it->failed = true;
  }
  // Zones served (also) from live lists.
  for (const LiveZone& lz : live_zones) {
    auto it = std::find_if(zs->zones_.begin(), zs->zones_.end(), [&](const ZoneNode& zn) {
      return std::equal(zn.name.begin(), zn.name.end(), lz.name.begin(), lz.name.end());
    });
    if (it == zs->zones_.end()) {
      zs->zones_.push_back({});
      it = zs->zones_.end() - 1;
      it->name = zs->failed_names_.emplace_back(lz.name);
    }
    it->has_ip4 = true;  // a live list answers IPv4 (6to4 and v4-mapped names map to it)
    if (std::find(it->live.begin(), it->live.end(), lz.slot) == it->live.end()) {
      it->live.push_back(lz.slot);
    }
  }
  std::stable_sort(zs->zones_.begin(), zs->zones_.end(), [](const ZoneNode& a, const ZoneNode& b) {
    return a.name.size() > b.name.size();
  });
  for (ZoneNode& z : zs->zones_) z.id = ZoneIdOf(z.name);
  for (const ZoneNode& z : zs->zones_) {
    if (z.failed) {
      zs->warnings_.push_back(absl::StrCat("zone ", ZoneText(z.name),
                                           ": not all datasets are loaded, zone will not be "
                                           "serviced"));
    }
  }
  ComputeGlue(zs.get());
  StartEntSummaries(zs.get());
  return std::shared_ptr<const ZoneSet>(std::move(zs));
}

}  // namespace meshbl::table
