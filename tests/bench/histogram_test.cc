#include "meshbl/bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace meshbl::bench {
namespace {

// The nearest-rank percentile of sorted samples, the definition the
// histogram approximates.
std::uint64_t Exact(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, BucketsTileTheRangeWithoutGaps) {
  for (std::size_t b = 0; b + 1 < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::BucketHigh(b) + 1, Histogram::BucketLow(b + 1)) << b;
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketLow(b)), b);
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketHigh(b)), b);
  }
  // Every bucket is at most 1/64 of its values wide.
  for (std::size_t b = 128; b < Histogram::kBuckets; ++b) {
    const double width =
        static_cast<double>(Histogram::BucketHigh(b) - Histogram::BucketLow(b) + 1);
    ASSERT_LE(width / static_cast<double>(Histogram::BucketLow(b)), 1.0 / 64 + 1e-12) << b;
  }
}

TEST(Histogram, PercentilesWithinOnePointSixPercentOfExact) {
  std::mt19937_64 rng(7);
  // A latency-like distribution: log-normal around 50 us with a long tail.
  std::lognormal_distribution<double> dist(std::log(50'000.0), 0.8);
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    samples.push_back(v);
    h.Record(v);
  }
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const double exact = static_cast<double>(Exact(samples, p));
    const double got = static_cast<double>(h.Percentile(p));
    EXPECT_NEAR(got, exact, exact / 64 + 1) << "p" << p;
  }
  EXPECT_EQ(h.max(), *std::max_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.min(), *std::min_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.count(), samples.size());
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, HugeValuesLandInTheLastBucketAndMaxIsKept) {
  Histogram h;
  h.Record(~std::uint64_t{0});
  h.Record(1);
  EXPECT_EQ(h.max(), ~std::uint64_t{0});
  EXPECT_GE(h.Percentile(100), Histogram::BucketLow(Histogram::kBuckets - 1));
  EXPECT_EQ(h.Percentile(50), 1u);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (std::uint64_t v = 0; v < 5000; ++v) {
    (v % 3 == 0 ? a : b).Record(v * 37);
    all.Record(v * 37);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {10.0, 50.0, 99.0}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
}

}  // namespace
}  // namespace meshbl::bench
