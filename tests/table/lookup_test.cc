// DatasetView's batched throughput paths agree with the scalar lookups.
#include "meshbl/table/lookup.h"

#include <random>

#include "gtest/gtest.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Labels;

TEST(DatasetView, Ip4BatchAgreesWithScalarOnEveryLevel) {
  SnapshotBuilder b;
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  std::mt19937 rng(5);
  Value v2{0x7f000002, "a"}, v3{0x7f000003, std::nullopt};
  std::vector<std::uint32_t> probes;
  for (int i = 0; i < 3000; ++i) {
    std::uint32_t a = static_cast<std::uint32_t>(rng());
    switch (i % 5) {
      case 0:
        ds->AddIp4Range(a, a, &v2);
        break;
      case 1:
        ds->AddIp4Range(a & 0xffffff00u, a | 0xffu, &v3);
        break;
      case 2:
        ds->AddIp4Range(a & 0xffff0000u, a | 0xffffu, i % 2 ? &v2 : nullptr);
        break;
      case 3:
        ds->AddIp4Range(a, a, nullptr);
        break;
      default:
        break;
    }
    probes.push_back(a);
    probes.push_back(static_cast<std::uint32_t>(rng()));
  }
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ds)));
  auto snap = *Snapshot::FromImage(b.Build(0), "t");
  DatasetView view(*snap, 0);
  std::vector<std::uint32_t> words(probes.size());
  view.LookupIp4Batch(probes.data(), probes.size(), words.data());
  int listed = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    ValueList a, b2;
    bool scalar = view.LookupIp4(probes[i], &a) == Match::kListed;
    bool batch = view.DecodeWord(words[i], &b2);
    ASSERT_EQ(scalar, batch) << i;
    ASSERT_EQ(a.size(), b2.size());
    listed += scalar;
  }
  EXPECT_GT(listed, 1000);
}

TEST(DatasetView, NameBatchAgreesWithScalar) {
  SnapshotBuilder b;
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:x");
  Value v{0x7f000002, std::nullopt};
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) {
    std::string n = Labels("h" + std::to_string(i) + ".example" + std::to_string(i % 3));
    ds->AddName(n, i % 4 == 0, i % 7 == 0 ? nullptr : &v);
    names.push_back(Labels("x.h" + std::to_string(i) + ".example" + std::to_string(i % 3)));
    names.push_back(n);
    names.push_back(Labels("h" + std::to_string(i + 5000) + ".example"));
  }
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ds)));
  auto snap = *Snapshot::FromImage(b.Build(0), "t");
  DatasetView view(*snap, 0);
  std::vector<std::span<const std::uint8_t>> spans;
  for (const auto& n : names)
    spans.emplace_back(reinterpret_cast<const std::uint8_t*>(n.data()), n.size());
  std::vector<Match> match(spans.size());
  std::vector<ValueList> out(spans.size());
  std::vector<std::size_t> subj(spans.size());
  view.LookupNameBatch(spans.data(), spans.size(), match.data(), out.data(), subj.data());
  int listed = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    ValueList vl;
    std::size_t s = 0;
    Match m = view.LookupName(spans[i], &vl, &s);
    ASSERT_EQ(m, match[i]) << i;
    if (m == Match::kListed) {
      EXPECT_EQ(s, subj[i]);
      ++listed;
    }
  }
  EXPECT_GT(listed, 1000);
}

}  // namespace
}  // namespace meshbl::table
