// The control plane's lock: std::mutex with clang's thread-safety
// capability annotations (abseil's ABSL_* macros), so that ABSL_GUARDED_BY
// and ABSL_EXCLUSIVE_LOCKS_REQUIRED are checked (the `thread_safety` ctest).
//
// Why not absl::Mutex: Debian's abseil is built without ThreadSanitizer, and
// absl::Mutex synchronises through its own atomics and futexes, which an
// uninstrumented library hides from TSan: every field it guards is then
// reported as a race (swap_test under TSan did). std::mutex goes through
// pthread_mutex_lock, which TSan intercepts. libstdc++'s std::mutex carries
// no capability attribute, hence this thin wrapper.
//
// Not for the query path (workers take no lock).
#ifndef MESHBL_UTIL_MUTEX_H_
#define MESHBL_UTIL_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace meshbl::util {

class ABSL_LOCKABLE Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// A condition variable used with a held util::Mutex (absl::CondVar's shape:
// the caller holds the lock and re-checks its condition in a loop).
class CondVar {
 public:
  // Releases `mu` while waiting; holds it again on return.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait(), at most `timeout`; false when it timed out.
  bool WaitFor(Mutex* mu, std::chrono::milliseconds timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  void Signal() noexcept { cv_.notify_one(); }
  void SignalAll() noexcept { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_MUTEX_H_
