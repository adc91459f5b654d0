// The live lists of one meshbld process (issue 11): their state in the live
// store (store.h), served through overlays (table/live.h) published beside
// the snapshot zone set.
//
// How a change becomes an answer:
//   1. A change (a rule's listing, `meshbl ctl add/del/whitelist`, an
//      expiry) is one store transaction; the caller's `done` runs once it is
//      durable (group commit, store.h) and applied here: nothing acknowledged
//      is lost by a crash.
//   2. Applying marks the table slots the change touches. Tick() (the feed's
//      timer, every few milliseconds) recomputes each touched slot from the
//      store -- the listing at that subject, or, for a subject that is gone,
//      the listing that covers it now, or an exclusion -- builds the small
//      delta layer of every touched slot since the last compaction, and
//      publishes a new OverlaySet.
//   3. When the delta holds `compact_at` slots (or an eighth of the base),
//      a background thread merges the records of its slots (the listing or
//      whitelist entry at exactly each slot, or none) into a new base; the
//      slots touched after it began stay in the new delta.
// Expiry: every listing with an expiry has an index key in the store
// (`Table::kMeta`, sorted by time); Tick() deletes what is due, so a listing
// stops being answered at its expiry (within one tick), not at a reload.
// Whitelist entries cover subjects: adding one deletes every listing it
// covers in the same transaction, and Add() refuses a covered subject.
//
// Threading: every method runs on the feed thread (the event loop that owns
// this object) except where noted; store completions come back through the
// `post` function given at construction.
#ifndef MESHBL_FEED_LIVE_LIST_H_
#define MESHBL_FEED_LIVE_LIST_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "meshbl/feed/entry.h"
#include "meshbl/feed/store.h"
#include "meshbl/table/live.h"
#include "meshbl/table/swap.h"

namespace meshbl::feed {

struct LiveListSpec {
  std::string name;         // as in `zone:live:NAME`
  std::uint32_t ttl = 300;  // TTL of its answers
};

struct LiveListsOptions {
  // Delta slots that start a compaction of the base (or an eighth of the
  // base's entries, if more).
  std::size_t compact_at = 32768;
  // Slots changed since the mid layer was built above which the next tick
  // folds them into it (a tick rebuilds only these: table/live.h).
  std::size_t recent_max = 2048;
  // Ticks without a change after which a non-empty delta is compacted
  // into the base (the feed ticks every 5 ms: 2 s).
  std::size_t quiet_ticks = 400;
};

struct LiveListStats {
  std::uint64_t changes = 0;      // subjects changed (listed, delisted, expired)
  std::uint64_t expired = 0;      // listings deleted at their expiry
  std::uint64_t publishes = 0;    // overlays published
  std::uint64_t compactions = 0;  // bases rebuilt
  std::uint64_t failed = 0;       // transactions that failed (nothing applied)
  std::size_t base_entries = 0;
  std::size_t delta_slots = 0;
  std::size_t base_bytes = 0;  // the base's tables
};

class LiveLists {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Done = std::function<void(absl::Status)>;

  // `post` runs a task on the feed thread (EventLoop::Post). The lists get
  // the OverlaySet slots 0..n-1 in the order given.
  LiveLists(Store* store, table::OverlaySetHolder* holder, std::vector<LiveListSpec> lists,
            Post post, LiveListsOptions options = {});
  ~LiveLists();  // waits for a compaction still running
  LiveLists(const LiveLists&) = delete;
  LiveLists& operator=(const LiveLists&) = delete;

  // Builds every list's base from the store and publishes. Start-up.
  absl::Status Load(std::int64_t now);

  // The slot of `list`, or -1.
  int SlotOf(std::string_view list) const;
  const std::vector<LiveListSpec>& lists() const { return specs_; }

  // Lists (or replaces) `listings`; `extra` writes go in the same
  // transaction (the rules' state). InvalidArgument, nothing applied, when a
  // subject is covered by a whitelist entry (the message names both).
  void Add(std::string_view list, std::vector<Listing> listings, std::vector<Write> extra,
           Done done);
  // Deletes the listings of exactly these subjects (absent ones: no error).
  void Delete(std::string_view list, std::vector<Subject> subjects, std::vector<Write> extra,
              Done done);
  // Adds a whitelist entry and deletes every listing it covers.
  void WhitelistAdd(std::string_view list, WhitelistEntry entry, std::vector<Write> extra,
                    Done done);
  void WhitelistDelete(std::string_view list, const Subject& subject, Done done);
  // Deletes every listing whose expiry is at or before `now` (the `expire`
  // command; Tick() does it on its own).
  void ExpireNow(std::int64_t now, Done done);

  // Reads of the committed state (any thread).
  std::vector<Listing> ListingsCovering(std::string_view list, const Subject& subject) const;
  std::vector<WhitelistEntry> WhitelistCovering(std::string_view list, const Subject& s) const;
  // Every listing (within `within` when given), in subject order; fn returns
  // false to stop.
  absl::Status ForEachListing(std::string_view list, const Subject* within,
                              const std::function<bool(const Listing&)>& fn) const;
  absl::Status ForEachWhitelist(std::string_view list,
                                const std::function<bool(const WhitelistEntry&)>& fn) const;

  // The feed's timer: expiry, publishing, compaction.
  void Tick(std::int64_t now);
  // When the next listing expires (0: none).
  std::int64_t next_expiry() const { return next_expiry_; }
  LiveListStats stats(std::string_view list) const;

 private:
  struct Slot;  // one table slot of the delta
  struct List;
  List* Find(std::string_view list);
  const List* Find(std::string_view list) const;
  void Commit(std::vector<Write> txn, std::vector<std::pair<List*, Subject>> touched, Done done,
              std::vector<std::pair<std::string, Subject>> whitelisted = {});
  void Touch(List* l, const Subject& s);
  void Recompute(List* l, const Subject& s);
  void RecomputeTouched(List* l);
  std::optional<Listing> Effective(const List& l, const Subject& s) const;
  std::optional<Listing> Cover(const List& l, const Subject& s) const;
  void PublishAll();
  void BuildLayers(List* l);
  void StartCompaction(List* l);
  std::size_t CompactAt(const List& l) const;
  void FindNextExpiry();
  std::vector<Write> ExpiryWrites(const List& l, const Listing* old, const Listing* now) const;

  Store* store_;
  table::OverlaySetHolder* holder_;
  std::vector<LiveListSpec> specs_;
  Post post_;
  LiveListsOptions options_;
  std::vector<std::unique_ptr<List>> lists_;
  std::int64_t next_expiry_ = 0;
  bool expiring_ = false;
  // Keys of the listings and whitelist entries that transactions sent but
  // not yet durable write (feed thread only), with how many write each; the
  // decisions taken from the store (is it listed, what does a whitelist
  // entry cover) must see them, as pipelined commands follow each other.
  std::map<std::string, std::uint32_t, std::less<>> inflight_listings_;
  std::map<std::string, std::pair<std::uint32_t, Subject>, std::less<>> inflight_whitelist_;
  std::shared_ptr<std::atomic<bool>> alive_;
};

// Store keys (exposed for tests and tools).
std::string ListingKey(std::string_view list, const Subject& s);
std::string WhitelistKey(std::string_view list, const Subject& s);
std::string ExpiryKey(std::string_view list, std::int64_t expires, const Subject& s);

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_LIVE_LIST_H_
