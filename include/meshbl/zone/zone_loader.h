// The one loader of command-line sources (zone/source.h) into a ZoneSet:
// meshbld (first load, -d and every reload, reference/rbldnsd.md §6 with the
// differences of §9) and every `meshbl` command (check, lookup, dump,
// inspect, bench --data) run it. A text source (`name:type:file[,file...]`)
// is loaded by zone::LoadDatasets into an in-memory snapshot, one per
// dataset; a snapshot source (`name:snapshot:F.mbs[,...]` or a bare `F.mbs`)
// is mapped by Snapshot::Open, its own zones are served and `name`, when
// given, is only checked (a warning when the snapshot has no such zone).
//
// Each text dataset (the zone specs sharing one "type:files") is its own
// snapshot, rebuilt only when one of its files changed (mtime, size, inode
// or ctime) and otherwise kept as it is, so a reload holds two copies of the
// changed datasets only; a snapshot file is mapped again only when it
// changed. A FIFO, device or socket in place of a file is refused, never
// waited on (util::MappedFile). The new ZoneSet (datasets in command-line
// order) is published atomically; queries keep using the old one.
//
// Failures are isolated per dataset (issue 9): a dataset that fails to load
// is reported ("file:line: reason") and keeps its previous data, if it ever
// loaded; every dataset that loads is published. A zone one of whose
// datasets has no data at all is served as failed (SERVFAIL, rbldnsd's "zone
// Z: not all datasets are loaded, zone will not be serviced"); other zones
// are never held back. A zone's or the global ACL that never loaded leaves
// its zone(s) without an ACL, as in rbldnsd. A dataset that failed is tried
// again at every check.
//
// Control plane only (allocates, logs through util/log.h, does file I/O).
#ifndef MESHBL_ZONE_ZONE_LOADER_H_
#define MESHBL_ZONE_ZONE_LOADER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "meshbl/table/swap.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/zone/loader.h"
#include "meshbl/zone/source.h"

namespace meshbl::zone {

// The files behind the sources and their state at the last load attempt.
// Not thread-safe: owned by one thread at a time (the daemon before the
// Reloader starts, then the Reloader's thread).
class ZoneLoader {
 public:
  // `log`: false for a one-shot load by a `meshbl` command, which prints
  // warnings() and errors() itself; Load() then logs nothing.
  ZoneLoader(std::vector<SourceSpec> sources, LoadOptions options, bool log = true);

  // True when any file's mtime (ns), size, inode or ctime differs from the
  // last load attempt, a stat result changed (a file appeared or vanished),
  // or a dataset failed in the last Load() (failed datasets are tried again
  // at every check). True before the first Load().
  bool Changed() const;
  // Changed() without the failed datasets: a file's state moved.
  bool FilesChanged() const;

  // Resolves `zone:live:LIST` sources: the OverlaySet slot of LIST, or -1
  // when there is no such list (Load() then fails naming it). Without it a
  // live source fails to load ("served by meshbld").
  void set_live_slots(std::function<int(std::string_view list)> f) { live_slot_ = std::move(f); }

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
  // Every warning of the last Load(), uncapped ("file:line: message" by
  // ToString()): the datasets it built and a snapshot without the zone its
  // source names. The zone set's own are ZoneSet::warnings().
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  // The errors of the datasets that failed in the last Load() in a new way.
  const std::vector<std::string>& errors() const { return errors_; }

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
  LoadOptions options_;
  std::function<int(std::string_view)> live_slot_;
  bool log_ = true;
  std::vector<Diagnostic> warnings_;
  std::vector<std::string> errors_;
  std::vector<Stamp> attempted_;
  bool loaded_once_ = false;
  std::size_t failed_now_ = 0;
  std::size_t failed_zones_ = 0;
  std::vector<std::string> expired_logged_;  // zones reported as expired
};

}  // namespace meshbl::zone

#endif  // MESHBL_ZONE_ZONE_LOADER_H_
