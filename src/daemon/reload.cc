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
#include "absl/time/time.h"
#include "meshbl/util/log.h"

namespace meshbl::daemon {
using util::LogError;

Reloader::Reloader(ZoneLoader* loader, table::ZoneSetHolder* holder, Notify notify)
    : loader_(loader), holder_(holder), notify_(std::move(notify)) {}

Reloader::~Reloader() { Stop(); }

void Reloader::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Reloader::RequestCheck() {
  absl::MutexLock lock(&mu_);
  pending_ = true;
}

void Reloader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool Reloader::StopWithin(std::chrono::milliseconds limit) {
  cancel_.store(true, std::memory_order_relaxed);
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (!thread_.joinable()) return true;
    if (!mu_.AwaitWithTimeout(absl::Condition(&done_), absl::FromChrono(limit))) {
      thread_.detach();
      return false;
    }
  }
  thread_.join();
  return true;
}

std::uint64_t Reloader::reloads() const {
  absl::MutexLock lock(&mu_);
  return reloads_;
}
std::uint64_t Reloader::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}
std::uint64_t Reloader::checks() const {
  absl::MutexLock lock(&mu_);
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
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Reloader::Wakeable));
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
    absl::MutexLock lock(&mu_);
    ++checks_;
    if (reloaded) ++reloads_;
    if (!ok) ++failures_;
  }
  absl::MutexLock lock(&mu_);
  done_ = true;
}

}  // namespace meshbl::daemon
