// Loading the data the daemon serves and reloading it in the background
// (reference/rbldnsd.md §6 with the differences of §9): every zone spec on
// the command line is either a text dataset (`name:type:file[,file...]`,
// loaded by zone::LoadZones into one in-memory snapshot) or a compiled
// snapshot (`name:snapshot:file.mbs[,file.mbs...]`, mapped by
// Snapshot::Open; its own zones are served and `name` is only checked: a
// warning is logged when the snapshot has no zone of that name).
//
// A reload runs on the Reloader's own thread: each text dataset (the zone
// specs sharing one "type:files") is its own in-memory snapshot, rebuilt
// only when one of its files changed (mtime, size, inode or ctime) and
// otherwise kept as it is, so memory briefly holds two copies of the changed
// datasets only; a snapshot file is mapped again only when it changed. The
// new ZoneSet (datasets in command-line order) is published atomically;
// queries keep using the old one meanwhile and are never blocked.
//
// Failures are isolated per dataset (issue 9): a dataset that fails to load
// is logged ("file:line: reason") and keeps its previous data, if it ever
// loaded; every dataset that loads is published. A zone one of whose
// datasets has no data at all is served as failed (SERVFAIL, rbldnsd's "zone
// Z: not all datasets are loaded, zone will not be serviced"); other zones
// are never held back. A zone's or the global ACL that never loaded leaves
// its zone(s) without an ACL, as in rbldnsd. A dataset that failed is tried
// again when one of its files changes (any stamp, ctime included, so a chmod
// counts).
//
// Control plane only (allocates, logs, does file I/O).
#ifndef MESHBL_DAEMON_RELOAD_H_
#define MESHBL_DAEMON_RELOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "meshbl/table/swap.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/zone/loader.h"

namespace meshbl::daemon {

// One command-line zone spec, classified.
struct SourceSpec {
  std::string arg;                          // as given
  bool is_snapshot = false;                 // type `snapshot`
  zone::ZoneSpec text;                      // !is_snapshot
  std::string snapshot_zone;                // is_snapshot: the name given (text form)
  std::vector<std::string> snapshot_files;  // is_snapshot
};

// Parses every zone spec with rbldnsd's messages ("unknown dataset type
// `x'", "invalid zone data specification `x'", ...).
absl::StatusOr<std::vector<SourceSpec>> ParseSourceSpecs(const std::vector<std::string>& args);

// The files behind the sources and their state at the last load attempt.
// Not thread-safe: owned by one thread at a time (the daemon before the
// Reloader starts, then the Reloader's thread).
class ZoneLoader {
 public:
  ZoneLoader(std::vector<SourceSpec> sources, zone::LoadOptions options);

  // True when any file's mtime (ns), size, inode or ctime differs from the
  // last load attempt, a stat result changed (a file appeared or vanished),
  // or a dataset failed in the last Load() (failed datasets are tried again
  // at every check). True before the first Load().
  bool Changed() const;
  // Changed() without the failed datasets: a file's state moved.
  bool FilesChanged() const;

  // Loads every source whose files changed since its last attempt (all of
  // them the first time), keeping the others as they are. Logs, in
  // command-line order as rbldnsd does, for each dataset it tried: at most 5
  // of its warnings and "type:files: N more warnings suppressed", then its
  // line ("type:files: YYYYMMDD hhmmss: N entries", UTC time of the newest
  // file) or its error ("file:line: reason", then "type:files: reload
  // failed, keeping the previous data" when it has previous data); then the
  // zone warnings (ZoneSet::warnings()), "zones reloaded, time Xe/Yu sec"
  // and the expired zones (LogNewlyExpired). Returns an error only when nothing can be served: the
  // command line's zone rules fail, or `cancel` was set (then nothing is logged about the datasets
  // not tried). With `publish_to`, the result is published there before anything is logged.
  // Returns nullptr (and logs and publishes nothing) when no file changed
  // and every failed dataset tried again failed the same way.
  absl::StatusOr<std::shared_ptr<const table::ZoneSet>> Load(
      const std::atomic<bool>* cancel = nullptr, table::ZoneSetHolder* publish_to = nullptr);

  // Datasets (text "type:files" or snapshot files) whose load was tried and
  // failed in the last Load(); 0 when all loaded.
  std::size_t failed_datasets() const { return failed_now_; }
  // Zones served as failed (SERVFAIL) after the last Load().
  std::size_t failed_zones() const { return failed_zones_; }

  // Logs rbldnsd's "zone Z: zone data expired, zone will not be serviced"
  // once for each zone of `zones` whose `$TIMESTAMP` expiry has passed
  // (again after each Load(), as rbldnsd does after each reload). Load()
  // calls it; the Reloader calls it at every check that reloads nothing.
  void LogNewlyExpired(const table::ZoneSet& zones);

 private:
  struct Stamp {
    std::string path;
    bool ok = false;
    std::int64_t mtime = 0;
    std::int64_t ctime = 0;  // a chmod of an unreadable file counts as a change
    std::int64_t size = 0;
    std::uint64_t inode = 0;  // a file replaced by rename counts as changed
    bool operator==(const Stamp&) const = default;
  };
  // A dataset's snapshot and the state of its files when it was built.
  struct CachedDataset {
    std::vector<Stamp> stamps;
    std::shared_ptr<const table::Snapshot> snap;
  };
  static Stamp StatFile(const std::string& path);
  std::vector<Stamp> StatAll() const;

  std::vector<SourceSpec> sources_;
  // By "type:files" (text) or "snapshot:path": the data last loaded.
  absl::flat_hash_map<std::string, CachedDataset> cache_;
  // By the same key: a failed attempt (file states and error). A failed
  // dataset is tried again at every check, as rbldnsd does (a `$TIMESTAMP`
  // in the future, a directory made readable, a late mount all clear up
  // without the file changing); the same error on the same files is logged
  // once.
  struct Failure {
    std::vector<Stamp> stamps;
    std::string error;
  };
  absl::flat_hash_map<std::string, Failure> failed_;
  zone::LoadOptions options_;
  std::vector<Stamp> attempted_;
  bool loaded_once_ = false;
  std::size_t failed_now_ = 0;
  std::size_t failed_zones_ = 0;
  std::vector<std::string> expired_logged_;  // zones reported as expired
};

// Runs reload checks on a background thread and publishes the result.
// Thread-safe: RequestCheck() from any thread (signal handling, timer).
class Reloader {
 public:
  // Told "RELOADING=1" before a reload and "READY=1" after it (systemd's
  // sd_notify states), from the Reloader's thread.
  using Notify = std::function<void(std::string_view state)>;

  // `loader` and `holder` must outlive the Reloader.
  Reloader(ZoneLoader* loader, table::ZoneSetHolder* holder, Notify notify = nullptr);
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;
  ~Reloader();  // Stop()

  void Start();
  // Asks for a check: stat every file and rebuild if anything changed.
  // Never blocks on a reload in progress; checks requested meanwhile
  // coalesce into one more check after it.
  void RequestCheck();
  // Finishes the reload in progress (if any) and joins the thread.
  void Stop();
  // Asks the thread to stop (a reload in progress is abandoned between two
  // datasets) and waits at most `limit`. True when the thread has been
  // joined; false when it is still busy (in one long dataset): it is then
  // detached, and the caller must end the process without destroying the
  // ZoneLoader and ZoneSetHolder it uses (SIGTERM exits within a few
  // seconds whatever a reload is doing).
  bool StopWithin(std::chrono::milliseconds limit);

  std::uint64_t reloads() const;   // successful reloads published
  std::uint64_t failures() const;  // reload attempts in which a dataset failed
  std::uint64_t checks() const;    // checks completed

 private:
  void Run();
  bool Wakeable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || pending_; }

  ZoneLoader* loader_;
  table::ZoneSetHolder* holder_;
  Notify notify_;
  mutable absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // Run() returned
  std::atomic<bool> cancel_{false};         // abandons a reload in progress
  std::uint64_t reloads_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t checks_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_RELOAD_H_
