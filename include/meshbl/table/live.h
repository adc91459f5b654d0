// Live lists in the table layer (issue 10 item 4, issue 11): state that
// changes many times a second, published on its own beside the snapshot
// ZoneSet (swap.h: OverlaySetHolder) and read by the same lock-free path.
//
// A live list is a log-structured merge of three immutable layers:
//   * the base: everything up to the last compaction (large; a background
//     thread merges the changes into a new one, table/live.cc: Merge);
//   * the mid layer: the changes since the compaction, up to the last time
//     the delta was folded into it (merged every few thousand changes);
//   * the delta: the changes since (small, rebuilt and published at every
//     feed tick), so that a tick costs what changed, not all since the base.
// Each layer is a set of open-addressing hash tables (IPv4 prefixes, IPv6
// prefixes, exact names, wildcard names) whose slots hold a value id: an
// index into the list's LiveValues, shared by all its layers, or kExcluded.
// Layers are purpose-built rather than snapshots (snapshot.h): a layer is
// built or merged in O(entries) with no allocation per entry, so a 1M-entry
// base compacts in tens of milliseconds (docs/PERFORMANCE.md).
//
// A lookup asks every layer for its longest-prefix (most specific name)
// match; the most specific match decides and the newer layer wins a tie. A
// deletion is an entry of the delta at the deleted subject: an exclusion, or
// the value of the entry that covers it once it is gone (the feed computes
// it), so a withdrawal never hides a more specific listing of the base and
// never reveals one the delta replaced.
//
// Query-path functions here (LookupLive*, LiveValues::Get) are noexcept,
// allocate nothing and take no lock.
#ifndef MESHBL_TABLE_LIVE_H_
#define MESHBL_TABLE_LIVE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "meshbl/table/format.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/table_ref.h"
#include "meshbl/table/types.h"

namespace meshbl::table {

// The values (A and TXT, TXT may use `$`) of one live list, interned:
// append-only, in fixed chunks that never move, so that a reader holding a
// layer reads the ids it holds while the writer appends.
class LiveValues {
 public:
  static constexpr std::uint32_t kChunkBits = 12;
  static constexpr std::uint32_t kChunks = 4096;
  static constexpr std::uint32_t kCapacity = kChunks << kChunkBits;  // 16Mi values
  static constexpr std::uint32_t kFull = 0xffffffff;

  LiveValues();
  ~LiveValues();
  LiveValues(const LiveValues&) = delete;
  LiveValues& operator=(const LiveValues&) = delete;

  // The id of `v`, added if new; kFull when kCapacity values exist. The
  // writer (one thread) only.
  std::uint32_t Intern(const Value& v);
  // A value by id: any thread, for ids it got from a published layer.
  const Value* Get(std::uint32_t id) const noexcept {
    if (id >= size_.load(std::memory_order_acquire)) return nullptr;
    return &chunks_[id >> kChunkBits][id & ((1u << kChunkBits) - 1)];
  }
  std::uint32_t size() const noexcept { return size_.load(std::memory_order_acquire); }

 private:
  std::unique_ptr<std::unique_ptr<Value[]>[]> chunks_;  // kChunks, allocated as needed
  std::atomic<std::uint32_t> size_{0};
  absl::flat_hash_map<std::string, std::uint32_t> ids_;  // writer only
};

// One entry of a live layer.
struct LiveEntry {
  // Value ids beside LiveValues' ids.
  static constexpr std::uint32_t kExcluded = format::kExcluded;  // nothing is listed here
  static constexpr std::uint32_t kRemoved = 0xfffffffd;          // Merge: drop the old entry
  enum class Kind : std::uint8_t { kIp4, kIp6, kName };
  Kind kind = Kind::kIp4;
  std::array<std::uint8_t, 16> addr{};  // network order, host bits zero; IPv4 in the first 4
  std::uint8_t len = 0;
  bool wildcard = false;  // kName: every name below it (not the name itself: add that too)
  std::string name;       // kName: label sequence (dns/name.h), lowercased
  std::uint32_t value = kExcluded;  // a LiveValues id, kExcluded (or kRemoved for Merge)
};

// One immutable layer.
class LiveLayer {
 public:
  struct NameSlot {    // one name: its bytes at names_[off, off + len)
    std::uint32_t fp;  // low 32 bits of XXH3-64 of the label sequence
    std::uint32_t off;
    std::uint32_t val;  // value id or kExcluded; format::kEmptySlot: free
    std::uint32_t len;
  };

  // Builds a layer of `entries` (the first entry of a subject wins) answered
  // with `ttl`; value ids refer to `values`. InvalidArgument for a prefix
  // length past the family's or an empty name.
  static absl::StatusOr<std::shared_ptr<const LiveLayer>> Build(
      std::span<const LiveEntry> entries, std::shared_ptr<const LiveValues> values,
      std::uint32_t ttl);
  // The layer of `old`'s entries with `changes` applied: an entry of a
  // changed subject takes the change's value, kRemoved drops it. Runs on any
  // thread (it reads `old`, which is immutable, and no value).
  static absl::StatusOr<std::shared_ptr<const LiveLayer>> Merge(const LiveLayer& old,
                                                                std::span<const LiveEntry> changes);
  // Every entry (tests, tools): fn(entry).
  void ForEach(const std::function<void(const LiveEntry&)>& fn) const;

  std::size_t entries() const noexcept { return entries_; }
  // Bytes the layer's tables take.
  std::size_t bytes() const noexcept;
  std::uint32_t ttl() const noexcept { return ttl_; }
  const LiveValues& values() const noexcept { return *values_; }

  // Lookups (query path). Each gives the most specific entry covering the
  // subject that is more specific than `floor`: its value word and its
  // specificity (prefix length; for names 2 * labels, +1 for an exact
  // match), or spec -1.
  struct Hit {
    std::uint32_t val = format::kEmptySlot;
    int spec = -1;
    std::size_t subject_off = 0;  // names: where the matched entry starts in the name
  };
  // `ceil`: only prefixes this long or shorter.
  Hit Lpm4(std::uint32_t addr, int floor, int ceil = 32) const noexcept;
  Hit Lpm6(std::uint64_t hi, std::uint64_t lo, int floor, int ceil = 128) const noexcept;
  Hit LpmName(std::span<const std::uint8_t> name, int floor) const noexcept;

  // Empty non-terminals (query path): a listed entry longer than the
  // prefix, inside it; a listed name below `name`.
  bool ListedInside4(std::uint32_t prefix, unsigned len) const noexcept;
  bool ListedInside6(std::uint64_t hi, std::uint64_t lo, unsigned len) const noexcept;
  bool ListedBelow(std::span<const std::uint8_t> name) const noexcept;
  // Bit n: some entry is a /n (IPv4: 0..32; IPv6: 0..128).
  std::uint64_t ip4_lengths() const noexcept { return lens4_; }
  std::array<std::uint64_t, 3> ip6_lengths() const noexcept { return lens6_; }
  bool has_ip4() const noexcept { return !ip4_.empty(); }
  bool has_ip6() const noexcept { return !ip6_.empty(); }
  bool has_names() const noexcept { return !exact_.empty() || !wild_.empty(); }

 private:
  struct Builder;
  std::shared_ptr<const LiveValues> values_;
  std::uint32_t ttl_ = 0;
  std::size_t entries_ = 0;
  std::vector<format::Slot64> ip4_;  // key: len << 32 | address
  std::uint64_t lens4_ = 0;          // bit n: some entry has length n (0..32)
  std::vector<format::Slot128> ip6_;
  std::array<std::uint64_t, 3> lens6_{};  // bit n: length n (0..128)
  std::vector<NameSlot> exact_, wild_;
  std::array<std::uint64_t, 2> wild_labels_{};  // bit n: a wildcard base of n labels
  std::vector<std::uint8_t> names_;
  // For empty non-terminals, of the listed entries only: IPv4 keys
  // (address << 8 | length) and IPv6 prefixes in order, and the sorted
  // hashes of the proper parents of listed names.
  struct Net6 {
    std::uint64_t hi, lo;
    std::uint32_t len;
    friend auto operator<=>(const Net6&, const Net6&) = default;
  };
  // A one-hash bit filter of every key of the tables (IPv4, IPv6 and names
  // alike), about 8 bits an entry: most lookups of a subject a layer does not
  // hold stop at one bit instead of a probe run.
  std::vector<std::uint64_t> filter_;
  std::uint64_t filter_mask_ = 0;  // bits - 1
  bool MayHold(std::uint64_t h) const noexcept {
    const std::uint64_t b = h & filter_mask_;
    return (filter_[b / 64] >> (b % 64) & 1) != 0;
  }
  std::vector<std::uint64_t> sorted4_;
  std::vector<Net6> sorted6_;
  std::vector<std::uint64_t> parents_;
  // The filter and the ordered keys, once the tables are filled; a merge
  // gives the layers it merged (their ordered keys are merged, not sorted).
  void Finish(const LiveLayer* old = nullptr, const LiveLayer* changes = nullptr);
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

// The result of a layered lookup: kListed with the value and the TTL of the
// layer that decided, kExcluded when an exclusion decided, kNone when no
// layer has anything covering the subject.
struct LiveMatch {
  Match match = Match::kNone;
  const Value* value = nullptr;
  std::uint32_t ttl = 0;
  std::size_t subject_off = 0;  // names: where the matched entry starts in the name
};

// `rel` is the name relative to the zone.
// `max_len`: only prefixes this long or shorter.
LiveMatch LookupLive4(const LiveTables& t, std::uint32_t addr, int max_len = 32) noexcept;
LiveMatch LookupLive6(const LiveTables& t, std::uint64_t hi, std::uint64_t lo,
                      int max_len = 128) noexcept;
LiveMatch LookupLiveName(const LiveTables& t, std::span<const std::uint8_t> rel) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_LIVE_H_
