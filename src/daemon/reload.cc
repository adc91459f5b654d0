// Background reloads (the loading itself: zone/zone_loader.h).
#include "meshbl/daemon/reload.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "meshbl/util/log.h"
#include "meshbl/util/thread_name.h"

namespace meshbl::daemon {
using util::LogError;

Reloader::Reloader(ZoneLoader* loader, table::ZoneSetHolder* holder, Notify notify)
    : loader_(loader), holder_(holder), notify_(std::move(notify)) {}

Reloader::~Reloader() { Stop(); }

void Reloader::Start() {
  util::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    util::NameThisThread("meshbl-reload");
    Run();
  });
}

void Reloader::RequestCheck() {
  util::MutexLock lock(&mu_);
  pending_ = true;
  cv_.SignalAll();
}

void Reloader::Stop() {
  {
    util::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

bool Reloader::StopWithin(std::chrono::milliseconds limit) {
  cancel_.store(true, std::memory_order_relaxed);
  {
    util::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
    if (!thread_.joinable()) return true;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (int i = 0; i < 1000 && !done_; ++i) {  // bounded: spurious wake-ups
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      (void)cv_.WaitFor(&mu_, left);
    }
    if (!done_) {
      thread_.detach();
      return false;
    }
  }
  thread_.join();
  return true;
}

std::uint64_t Reloader::reloads() const {
  util::MutexLock lock(&mu_);
  return reloads_;
}
std::uint64_t Reloader::failures() const {
  util::MutexLock lock(&mu_);
  return failures_;
}
std::uint64_t Reloader::checks() const {
  util::MutexLock lock(&mu_);
  return checks_;
}

void Reloader::Run() {
  // Rebuilding runs at nice +10 (Linux: per thread), so that a worker sharing
  // its core wakes up and answers at once instead of waiting out the
  // rebuild's time slice (bench/compare measured lost queries under a 10M
  // reload on one core before this). A failure leaves the default.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  for (;;) {
    {
      util::MutexLock lock(&mu_);
      while (!Wakeable()) cv_.Wait(&mu_);
      if (stop_) break;
      pending_ = false;
    }
    bool ok = true;
    bool reloaded = false;
    if (!loader_->Changed()) {
      if (auto current = holder_->Current(); current != nullptr) {
        loader_->LogNewlyExpired(*current);
      }
    } else {
      // Only failed datasets being tried again is no reload to announce.
      const bool announce = notify_ && loader_->FilesChanged();
      if (announce) notify_("RELOADING=1");
      // Every dataset that loaded is published (by Load(), before its log
      // lines), failed ones keep their previous data.
      auto zones = loader_->Load(&cancel_, holder_);
      if (zones.ok()) {
        reloaded = *zones != nullptr;
        ok = loader_->failed_datasets() == 0;
      } else if (!absl::IsCancelled(zones.status())) {
        ok = false;
        LogError(std::string(zones.status().message()));
        LogError("reload failed, keeping the previous data");
      }
      // After publishing: a client told READY sees the new data.
      if (announce) notify_("READY=1");
    }
    util::MutexLock lock(&mu_);
    ++checks_;
    if (reloaded) ++reloads_;
    if (!ok) ++failures_;
  }
  util::MutexLock lock(&mu_);
  done_ = true;
  cv_.SignalAll();
}

absl::Status ReloadService::Start() {
  reloader_.Start();
  return absl::OkStatus();
}

void ReloadService::Reload(ReloadCause /*cause*/) { reloader_.RequestCheck(); }

void ReloadService::Stop() {
  if (stopped_) return;
  stopped_ = true;
  abandoned_ = !reloader_.StopWithin(stop_limit_);
}

}  // namespace meshbl::daemon
