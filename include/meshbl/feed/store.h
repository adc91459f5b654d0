// The live store: a small transactional key-value store with named tables,
// holding the live lists' state (listings, whitelist, trap hits, trap
// reputations, per-source state, metadata) so that a restart -- or a kill -9
// -- loses nothing that was acknowledged.
//
// Backed by LMDB (chosen over SQLite in WAL mode by measurement: see
// docs/PERFORMANCE.md "Live store: LMDB vs SQLite"). One file (PATH) and its
// lock file (PATH-lock). A transaction is durable (fsync'd) when Commit()
// returns OK or CommitAsync()'s callback gets OK. Transactions of concurrent
// callers are gathered by one committer thread into one LMDB transaction and
// made durable with one sync (group commit), so durability does not cap
// throughput; each caller still gets its own all-or-nothing result.
//
// Readers (Get, Scan) see the last committed state, never a partial
// transaction, and may run on any thread while commits proceed. Values are
// opaque bytes here; codec.h encodes the records. Open the store after any
// fork (daemonizing): an LMDB environment does not survive one. One process
// writes a store at a time (others may read).
#ifndef MESHBL_FEED_STORE_H_
#define MESHBL_FEED_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meshbl::feed {

enum class Table : std::uint8_t { kListings, kWhitelist, kHits, kTraps, kSources, kMeta };
inline constexpr std::size_t kTableCount = 6;
std::string_view TableName(Table t);  // "listings", "whitelist", "hits", ...

// One change: a put, or a delete when value is nullopt (deleting an absent key
// is not an error).
struct Write {
  Table table = Table::kMeta;
  std::string key;                   // 1..kMaxKeyBytes bytes
  std::optional<std::string> value;  // nullopt = delete
};

// LMDB's key limit with its default build.
inline constexpr std::size_t kMaxKeyBytes = 511;

struct StoreOptions {
  // Create PATH when it does not exist (its directory must exist).
  bool create = true;
  // The memory map starts at this size and doubles when full, up to
  // max_map_bytes; past that a commit fails with ResourceExhausted naming the
  // limit (nothing of it applied) and the store stays usable.
  std::size_t initial_map_bytes = std::size_t{64} << 20;
  std::size_t max_map_bytes = std::size_t{64} << 30;
  // False: commits are not fsync'd (tests and benchmarks of the in-memory
  // cost only; never in production).
  bool durable = true;
  // Group commit: when fewer than group_target transactions are queued, the
  // committer waits up to commit_delay for more before it commits (one sync
  // covers them all); a full group commits at once. Zero: no wait.
  std::chrono::microseconds commit_delay{1000};
  std::size_t group_target = 64;
};

struct StoreStats {
  std::uint64_t txns = 0;     // caller transactions committed
  std::uint64_t writes = 0;   // their puts and deletes
  std::uint64_t commits = 0;  // LMDB commits (= syncs when durable); txns / commits = grouping
  std::uint64_t failed_txns = 0;
  std::uint64_t map_grows = 0;
  std::uint64_t stale_readers_cleared = 0;  // at open, left by a killed process
  std::size_t map_bytes = 0;                // current map size
  std::size_t used_bytes = 0;               // pages in use * page size
  std::size_t entries[kTableCount] = {};
};

class Store {
 public:
  // Opens (or creates, see StoreOptions::create) the store at PATH. A clear
  // error when PATH is a directory, is not an LMDB store, cannot be created
  // or opened, or is locked in an incompatible way. Clears reader slots left
  // by killed processes (mdb_reader_check). No repair step exists or is needed.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Applies `txn` atomically (all or nothing) and returns once it is durable.
  // Thread-safe; concurrent callers share one sync. An empty txn is OK.
  // InvalidArgument for an empty or over-long key (nothing applied).
  // Must not be called from a CommitAsync callback (that runs on the
  // committer thread): use CommitAsync there.
  absl::Status Commit(std::span<const Write> txn);
  // The same without blocking: `done` runs on the committer thread once the
  // transaction is durable (OK) or failed; keep it short.
  void CommitAsync(std::vector<Write> txn, std::function<void(absl::Status)> done);

  // The committed value of `key`, or nullopt when absent (or on a read error,
  // which is counted in no stat and cannot happen on an intact store).
  std::optional<std::string> Get(Table table, std::string_view key) const;
  // Calls fn for every committed entry whose key starts with `prefix`, in
  // key order (bytewise), from one consistent snapshot; stops early when fn
  // returns false. fn must not call Commit.
  absl::Status Scan(
      Table table, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

  StoreStats stats() const;
  const std::string& path() const;

  class Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_STORE_H_
