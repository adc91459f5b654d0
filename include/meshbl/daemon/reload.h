// Reloading the data the daemon serves in the background (reference/
// rbldnsd.md §6): the Reloader's thread runs zone::ZoneLoader (the loader
// every command shares, zone/zone_loader.h) when a check finds a file
// changed or a dataset failed, and publishes its ZoneSet; it tells systemd
// RELOADING=1 / READY=1 around a reload.
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
#include "meshbl/daemon/service.h"
#include "meshbl/table/swap.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/mutex.h"
#include "meshbl/zone/zone_loader.h"

namespace meshbl::daemon {

using zone::ZoneLoader;

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
  mutable util::Mutex mu_;
  util::CondVar cv_;  // signalled when pending_, stop_ or done_ change
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // Run() returned
  std::atomic<bool> cancel_{false};         // abandons a reload in progress
  std::uint64_t reloads_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t checks_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// The Reloader as a daemon service: its thread starts after the privilege
// drop (it inherits the CAP_LEASE kept for it); SIGHUP and each -c check
// ask it for a check; Stop() waits at most `stop_limit` for a reload in
// progress (Reloader::StopWithin), after which abandoned() is true and the
// daemon must end the process at once (SIGTERM exits within a few seconds
// whatever a reload is doing).
class ReloadService : public Service {
 public:
  // `loader` and `holder` must outlive the service.
  ReloadService(ZoneLoader* loader, table::ZoneSetHolder* holder, Reloader::Notify notify,
                std::chrono::milliseconds stop_limit)
      : reloader_(loader, holder, std::move(notify)), stop_limit_(stop_limit) {}

  std::string_view name() const override { return "reload"; }
  absl::Status Start() override;
  void Reload(ReloadCause cause) override;
  void Stop() override;
  bool abandoned() const { return abandoned_; }

 private:
  Reloader reloader_;
  std::chrono::milliseconds stop_limit_;
  bool stopped_ = false;
  bool abandoned_ = false;
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_RELOAD_H_
