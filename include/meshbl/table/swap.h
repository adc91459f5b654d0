// Hot swap of the serving state. The control plane publishes a new ZoneSet;
// each query worker owns a ZoneSetReader and calls Refresh() once per batch
// of packets. Refresh() is one acquire load of the generation counter when
// nothing changed; after a publish it takes the holder's lock once to copy the
// new pointer. A worker keeps its reference until its next Refresh(), so a
// snapshot is unmapped exactly when the last worker that could read it has
// moved on (reference per worker, never per lookup).
#ifndef MESHBL_TABLE_SWAP_H_
#define MESHBL_TABLE_SWAP_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/mutex.h"

namespace meshbl::table {

class ZoneSetHolder {
 public:
  ZoneSetHolder() = default;
  ZoneSetHolder(const ZoneSetHolder&) = delete;
  ZoneSetHolder& operator=(const ZoneSetHolder&) = delete;

  // Makes `zs` current. Control plane; thread-safe.
  void Publish(std::shared_ptr<const ZoneSet> zs);
  // The current state (a copy of the pointer). Thread-safe; takes the lock.
  std::shared_ptr<const ZoneSet> Current() const;
  // Incremented by every Publish(); readers compare it once per batch.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

 private:
  mutable util::Mutex mu_;
  std::shared_ptr<const ZoneSet> current_ ABSL_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> generation_{0};
};

// One per worker thread; not shared between threads.
class ZoneSetReader {
 public:
  explicit ZoneSetReader(const ZoneSetHolder& holder) : holder_(&holder) {}

  // Picks up a newer state if one was published; returns the state to use
  // for this batch (nullptr before the first publish).
  const ZoneSet* Refresh() {
    std::uint64_t g = holder_->generation();
    if (g != seen_) {
      current_ = holder_->Current();
      seen_ = g;
    }
    return current_.get();
  }
  const ZoneSet* get() const noexcept { return current_.get(); }
  // Drops this worker's reference (e.g. when it goes idle).
  void Release() {
    current_.reset();
    seen_ = ~std::uint64_t{0};
  }

 private:
  const ZoneSetHolder* holder_;
  std::shared_ptr<const ZoneSet> current_;
  std::uint64_t seen_ = ~std::uint64_t{0};
};

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_SWAP_H_
