#include "meshbl/table/swap.h"

#include <utility>

namespace meshbl::table {

void ZoneSetHolder::Publish(std::shared_ptr<const ZoneSet> zs) {
  std::shared_ptr<const ZoneSet> old;
  {
    util::MutexLock lock(&mu_);
    old = std::exchange(current_, std::move(zs));
    // Bumped under the lock so a reader that sees the new generation also
    // sees the new pointer when it takes the lock.
    generation_.fetch_add(1, std::memory_order_release);
  }
  // `old` is released here, outside the lock; its snapshot is unmapped when
  // the last worker still holding it refreshes.
}

std::shared_ptr<const ZoneSet> ZoneSetHolder::Current() const {
  util::MutexLock lock(&mu_);
  return current_;
}

}  // namespace meshbl::table
