#include "meshbl/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace meshbl::bench {

namespace {
constexpr std::uint64_t kLinear = 128;  // values below are their own bucket
constexpr std::uint64_t kSub = std::uint64_t{1} << Histogram::kSubBits;
constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << Histogram::kMaxBits) - 1;
}  // namespace

std::size_t Histogram::BucketOf(std::uint64_t ns) noexcept {
  if (ns < kLinear) return static_cast<std::size_t>(ns);
  ns = std::min(ns, kMaxValue);
  const int msb = static_cast<int>(std::bit_width(ns)) - 1;  // >= 7
  const int shift = msb - kSubBits;                          // >= 1
  const std::uint64_t top = ns >> shift;                     // in [64, 128)
  return static_cast<std::size_t>(kLinear + static_cast<std::uint64_t>(msb - 7) * kSub +
                                  (top - kSub));
}

std::uint64_t Histogram::BucketLow(std::size_t bucket) noexcept {
  if (bucket < kLinear) return bucket;
  const std::uint64_t rel = bucket - kLinear;
  const int msb = static_cast<int>(rel / kSub) + 7;
  const std::uint64_t top = kSub + rel % kSub;
  return top << (msb - kSubBits);
}

std::uint64_t Histogram::BucketHigh(std::size_t bucket) noexcept {
  if (bucket < kLinear) return bucket;
  const std::uint64_t rel = bucket - kLinear;
  const int msb = static_cast<int>(rel / kSub) + 7;
  return BucketLow(bucket) + (std::uint64_t{1} << (msb - kSubBits)) - 1;
}

void Histogram::Record(std::uint64_t ns) noexcept {
  ++buckets_[BucketOf(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void Histogram::Merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::Percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const std::uint64_t mid = BucketLow(i) + (BucketHigh(i) - BucketLow(i)) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace meshbl::bench
