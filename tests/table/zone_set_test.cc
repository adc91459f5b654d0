// ZoneSet: zones from several snapshots merge in order, the most specific
// zone answers, the global ACL applies everywhere.
#include "meshbl/table/zone_set.h"

#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Ask;
using testing::Ip4;
using testing::Labels;
using testing::Val;

std::shared_ptr<const Snapshot> Snap(const char* zone, std::uint32_t addr, std::uint32_t octet,
                                     bool global_refuse = false) {
  SnapshotBuilder b;
  auto ds =
      std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:" + std::to_string(octet));
  Value v = Val(octet);
  ds->AddIp4Range(addr, addr, &v);
  b.AddToZone(Labels(zone), b.AdoptDataset(std::move(ds)));
  if (global_refuse) {
    auto acl = std::make_unique<DatasetBuilder>(DatasetType::kAcl, "acl:g");
    acl->AddAcl4(Ip4("10.0.0.0"), 8, AclAction::kRefuse, nullptr);
    b.AddToZone("", b.AdoptDataset(std::move(acl)));
  }
  return *Snapshot::FromImage(b.Build(0), zone);
}

TEST(ZoneSet, SameZoneFromTwoSnapshotsMerges) {
  auto zs = *ZoneSet::Create(
      {Snap("bl.test", Ip4("127.0.0.2"), 2), Snap("bl.test", Ip4("127.0.0.2"), 3)});
  ASSERT_EQ(zs->zones().size(), 1u);
  EXPECT_EQ(zs->zones()[0].datasets.size(), 2u);
  EXPECT_EQ(Ask(*zs, "2.0.0.127.bl.test"), "NOERROR A=127.0.0.2/2100 A=127.0.0.3/2100");
}

TEST(ZoneSet, MostSpecificZoneFirstAndGlobalAcl) {
  auto zs = *ZoneSet::Create(
      {Snap("test", Ip4("127.0.0.2"), 2, true), Snap("x.test", Ip4("127.0.0.4"), 4)});
  ASSERT_EQ(zs->zones().size(), 2u);
  EXPECT_EQ(zs->zones()[0].name.size(), Labels("x.test").size());
  ASSERT_NE(zs->global_acl(), nullptr);
  EXPECT_EQ(Ask(*zs, "4.0.0.127.x.test"), "NOERROR A=127.0.0.4/2100");
  EXPECT_EQ(Ask(*zs, "4.0.0.127.x.test", kTypeA, {4, Ip4("10.1.2.3"), 0, 0}), "REFUSED");
}

// Issue 9: a failed zone (one of its datasets never loaded) answers SERVFAIL
// and still shadows its parent; one that no snapshot holds is created; the
// warnings name it.
TEST(ZoneSet, FailedZonesServfailAndShadowTheirParents) {
  const std::string sub = Labels("sub.test"), gone = Labels("gone.test");
  const std::vector<std::vector<std::uint8_t>> failed = {{sub.begin(), sub.end()},
                                                         {gone.begin(), gone.end()}};
  auto zs = *ZoneSet::Create(
      {Snap("test", Ip4("127.0.0.2"), 2), Snap("sub.test", Ip4("127.0.0.4"), 4)}, nullptr, failed);
  ASSERT_EQ(zs->zones().size(), 3u);
  EXPECT_EQ(Ask(*zs, "2.0.0.127.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "4.0.0.127.sub.test"), "SERVFAIL");
  EXPECT_EQ(Ask(*zs, "2.0.0.127.gone.test"), "SERVFAIL");
  EXPECT_EQ(Ask(*zs, "2.0.0.127.other"), "REFUSED");
  const std::vector<std::string> want = {
      "zone gone.test: not all datasets are loaded, zone will not be serviced",
      "zone sub.test: not all datasets are loaded, zone will not be serviced"};
  EXPECT_EQ(std::vector<std::string>(zs->warnings().begin(), zs->warnings().end()), want);
}

// Issue 9: empty non-terminal summaries of a large dataset (more than 2^20
// slots) are built on a background thread. Until they are ready every IPv4
// prefix counts as having listed names below (NODATA); once ready, only
// prefixes with a listed address below do. Destroying ZoneSets while their
// build still runs stops it (run under TSan for the handover).
TEST(ZoneSet, LargeSummariesAreBuiltInTheBackgroundAndThenPrecise) {
  SnapshotBuilder b;
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4TSet, "ip4tset:big");
  ds->SetDatasetValue(Val(2));
  for (std::uint32_t i = 0; i < 1'200'000; ++i) ds->AddIp4Host((10u << 24) | i);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ds)));
  auto snap = *Snapshot::FromImage(b.Build(0), "big");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ZoneSet::Create({snap}).ok());  // stopped at once
  auto zs = *ZoneSet::Create({snap});
  const DsNode* node = zs->zones()[0].datasets[0];
  const std::string before = Ask(*zs, "99.bl.test");
  EXPECT_TRUE(before == "NOERROR" || before == "NXDOMAIN") << before;
  for (int i = 0; i < 2000 && node->ent() == nullptr; ++i) {  // 20 s at most
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(node->ent(), nullptr);
  EXPECT_EQ(Ask(*zs, "99.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "10.bl.test"), "NOERROR");
  EXPECT_EQ(Ask(*zs, "18.10.bl.test"), "NOERROR");
  EXPECT_EQ(Ask(*zs, "19.10.bl.test"), "NXDOMAIN");  // 10.0.0.0 + 1.2M ends in 10.18
  EXPECT_EQ(Ask(*zs, "1.0.10.bl.test"), "NOERROR");
}

}  // namespace
}  // namespace meshbl::table
