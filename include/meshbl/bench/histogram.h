// A latency histogram for the load generator: log-linear buckets (exact below
// 128 ns, then 64 buckets per power of two, so any reported value is within
// 1/64 = 1.6% of the true one) from 0 to 2^40 ns (18 minutes). Recording is
// one array increment; percentiles walk the 2,240 buckets. Not thread-safe:
// one per generator thread, merged at the end.
#ifndef MESHBL_BENCH_HISTOGRAM_H_
#define MESHBL_BENCH_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace meshbl::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;  // 64 buckets per power of two
  static constexpr int kMaxBits = 40;
  // 128 exact buckets, then 64 per power of two from 2^7 to 2^39 (values
  // beyond 2^40 - 1 count in the last bucket).
  static constexpr std::size_t kBuckets =
      128 + static_cast<std::size_t>(kMaxBits - 7) * (std::size_t{1} << kSubBits);

  void Record(std::uint64_t ns) noexcept;
  void Merge(const Histogram& other) noexcept;
  void Reset() noexcept { *this = Histogram(); }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }
  // The nearest-rank percentile (p in [0, 100]): the smallest recorded value
  // v such that at least p% of the samples are <= v, reported as the middle of
  // its bucket and clamped to [min, max]. 0 when empty.
  std::uint64_t Percentile(double p) const noexcept;

  // Bucket arithmetic, exposed for tests.
  static std::size_t BucketOf(std::uint64_t ns) noexcept;
  static std::uint64_t BucketLow(std::size_t bucket) noexcept;   // smallest value in it
  static std::uint64_t BucketHigh(std::size_t bucket) noexcept;  // largest value in it

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t max_ = 0;
};

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_HISTOGRAM_H_
