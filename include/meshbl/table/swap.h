// Hot swap of published state (issue 10 item 4). The control plane publishes
// a new immutable value (a ZoneSet, or the OverlaySet of live lists); each
// query worker owns a Reader and calls Refresh() once per batch of packets.
// Refresh() is one acquire load of the generation counter when nothing
// changed; after a publish it takes the holder's lock once to copy the new
// pointer. A worker keeps its reference until its next Refresh(), so a
// snapshot is unmapped exactly when the last worker that could read it has
// moved on (reference per worker, never per lookup).
//
// Several holders are independent: the snapshot zone set is published when
// files change (seconds to minutes apart), the live lists' overlays many
// times a second, and neither waits for or rebuilds the other.
#ifndef MESHBL_TABLE_SWAP_H_
#define MESHBL_TABLE_SWAP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "meshbl/table/live.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/mutex.h"

namespace meshbl::table {

template <class T>
class Published {
 public:
  Published() = default;
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  // Makes `v` current. Control plane; thread-safe. The previous value is
  // released outside the lock (and freed when the last reader lets go).
  void Publish(std::shared_ptr<const T> v) {
    std::shared_ptr<const T> old;
    {
      util::MutexLock lock(&mu_);
      old = std::exchange(current_, std::move(v));
      // Bumped under the lock so a reader that sees the new generation also
      // sees the new pointer when it takes the lock.
      generation_.fetch_add(1, std::memory_order_release);
    }
  }
  // The current value (a copy of the pointer). Thread-safe; takes the lock.
  std::shared_ptr<const T> Current() const {
    util::MutexLock lock(&mu_);
    return current_;
  }
  // Incremented by every Publish(); readers compare it once per batch.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

 private:
  mutable util::Mutex mu_;
  std::shared_ptr<const T> current_ ABSL_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> generation_{0};
};

// One per worker thread; not shared between threads.
template <class T>
class Reader {
 public:
  explicit Reader(const Published<T>& holder) : holder_(&holder) {}
  // A reader of no holder: Refresh() returns nullptr.
  explicit Reader(const Published<T>* holder) : holder_(holder) {}

  // Picks up a newer value if one was published; returns the value to use
  // for this batch (nullptr before the first publish).
  const T* Refresh() {
    if (holder_ == nullptr) return nullptr;
    std::uint64_t g = holder_->generation();
    if (g != seen_) {
      current_ = holder_->Current();
      seen_ = g;
    }
    return current_.get();
  }
  const T* get() const noexcept { return current_.get(); }
  // Drops this worker's reference (e.g. when it goes idle).
  void Release() {
    current_.reset();
    seen_ = ~std::uint64_t{0};
  }

 private:
  const Published<T>* holder_;
  std::shared_ptr<const T> current_;
  std::uint64_t seen_ = ~std::uint64_t{0};
};

using ZoneSetHolder = Published<ZoneSet>;
using ZoneSetReader = Reader<ZoneSet>;
using OverlaySetHolder = Published<OverlaySet>;
using OverlaySetReader = Reader<OverlaySet>;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_SWAP_H_
