// Live lists in the table layer (issue 10 item 4, issue 11): state that
// changes many times a second, published on its own beside the snapshot
// ZoneSet (swap.h: OverlaySetHolder) and read by the same lock-free path.
//
// A live list is a log-structured merge of three immutable layers, each an
// in-memory snapshot with up to three datasets (ip4trie, ip6trie, dnset)
// built by the ordinary SnapshotBuilder and validated like any snapshot:
//   * the base: everything up to the last compaction (large, rebuilt on a
//     background thread);
//   * the mid layer: the changes since the compaction, up to the last time
//     the delta was folded into it (rebuilt every few thousand changes);
//   * the delta: the changes since (small, rebuilt and published at every
//     feed tick), so that a tick costs what changed, not all since the base.
// A lookup asks every layer for its longest-prefix (most specific name)
// match; the most specific match decides and the newer layer wins a tie. A
// deletion is an entry of the delta at the deleted subject: an exclusion, or
// the value of the entry that covers it once it is gone (the feed computes
// it), so a withdrawal never hides a more specific listing of the base and
// never reveals one the delta replaced.
//
// Query-path functions here (LookupLive*) are noexcept, allocate nothing and
// take no lock.
#ifndef MESHBL_TABLE_LIVE_H_
#define MESHBL_TABLE_LIVE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/types.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::table {

// One entry of a live layer.
struct LiveEntry {
  enum class Kind : std::uint8_t { kIp4, kIp6, kName };
  Kind kind = Kind::kIp4;
  std::array<std::uint8_t, 16> addr{};  // network order, host bits zero; IPv4 in the first 4
  std::uint8_t len = 0;
  std::string name;       // kName: label sequence (dns/name.h), lowercased
  bool wildcard = false;  // kName: every name below it (not the name itself: add that too)
  bool excluded = false;  // an exclusion: nothing is listed here
  Value value;            // A and TXT (TXT may use `$`)
};

// One immutable layer.
class LiveLayer {
 public:
  // Builds a layer of `entries` (a subject at most once) answered with
  // `ttl`. `list` names the layer in messages.
  static absl::StatusOr<std::shared_ptr<const LiveLayer>> Build(std::string_view list,
                                                                std::span<const LiveEntry> entries,
                                                                std::uint32_t ttl);
  // The datasets, or nullptr where the layer has no entry of that kind.
  const DsNode* ip4() const noexcept { return ip4_; }
  const DsNode* ip6() const noexcept { return ip6_; }
  const DsNode* names() const noexcept { return names_; }
  std::size_t entries() const noexcept { return entries_; }
  std::size_t image_bytes() const noexcept { return image_bytes_; }

 private:
  std::shared_ptr<const ZoneSet> zs_;  // owns the snapshot and the DsNodes
  const DsNode* ip4_ = nullptr;
  const DsNode* ip6_ = nullptr;
  const DsNode* names_ = nullptr;
  std::size_t entries_ = 0;
  std::size_t image_bytes_ = 0;
};

// A live list as published: a base, a delta and a mid layer (any may be
// null); newest first: delta, mid, base.
struct LiveTables {
  std::shared_ptr<const LiveLayer> base;
  std::shared_ptr<const LiveLayer> delta;
  std::shared_ptr<const LiveLayer> mid;
};

// Every live list of the process, by slot (the order of the live-list
// configuration). Published through OverlaySetHolder; a change to one list
// publishes a new OverlaySet that shares the other lists' tables.
struct OverlaySet {
  std::vector<std::shared_ptr<const LiveTables>> lists;
  const LiveTables* list(std::uint32_t slot) const noexcept {
    return slot < lists.size() ? lists[slot].get() : nullptr;
  }
};

// The result of a layered lookup: kListed with the values (ids into
// `node->view.snapshot()`'s values), kExcluded when an exclusion decided,
// kNone when neither layer has anything covering the subject.
struct LiveMatch {
  Match match = Match::kNone;
  const DsNode* node = nullptr;
  ValueList values;
  std::size_t subject_off = 0;  // names: where the matched entry starts in the name
};

// `rel` is the name relative to the zone.
LiveMatch LookupLive4(const LiveTables& t, std::uint32_t addr) noexcept;
LiveMatch LookupLive6(const LiveTables& t, std::uint64_t hi, std::uint64_t lo) noexcept;
LiveMatch LookupLiveName(const LiveTables& t, std::span<const std::uint8_t> rel) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_LIVE_H_
