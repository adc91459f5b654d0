// DatasetBuilder: how rbldnsd entries are stored (reference §4.1 block
// splitting, first-wins rules) as DumpDataset shows them.
#include "meshbl/table/builder.h"

#include "gtest/gtest.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Ip4;
using testing::Labels;
using testing::Val;

int CountLines(const std::string& dump, const std::string& prefix) {
  int n = 0;
  std::size_t pos = 0;
  while ((pos = dump.find("\n" + prefix, pos)) != std::string::npos) {
    ++n;
    ++pos;
  }
  return n;
}

TEST(DatasetBuilder, Ip4RangesSplitIntoOctetAlignedBlocks) {
  DatasetBuilder b(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  b.AddIp4Range(Ip4("10.0.0.0"), Ip4("10.0.15.255"), &v);     // /20 -> 16 x /24
  b.AddIp4Range(Ip4("10.1.0.0"), Ip4("10.1.0.127"), &v);      // /25 -> 128 x /32
  b.AddIp4Range(Ip4("0.0.0.0"), Ip4("255.255.255.255"), &v);  // /0 -> 256 x /8
  b.AddIp4Range(Ip4("11.0.0.0"), Ip4("11.1.255.255"), &v);    // 2 x /16
  std::string dump = DumpDataset(b);
  EXPECT_EQ(CountLines(dump, "ip4/24 "), 16);
  EXPECT_EQ(CountLines(dump, "ip4/32 "), 128);
  EXPECT_EQ(CountLines(dump, "ip4/8 "), 256);
  EXPECT_EQ(CountLines(dump, "ip4/16 "), 2);
  EXPECT_EQ(b.entry_count(), 16u + 128u + 256u + 2u);
  EXPECT_NE(dump.find("ip4/24 10.0.15 = 127.0.0.2 -"), std::string::npos) << dump;
}

TEST(DatasetBuilder, FirstWinsForSpecialsAndPrefixes) {
  DatasetBuilder b(DatasetType::kIp4Trie, "ip4trie:x");
  EXPECT_TRUE(b.SetVariable(1, "first"));
  EXPECT_FALSE(b.SetVariable(1, "second"));
  EXPECT_TRUE(b.SetBaseTemplate("base $="));
  EXPECT_FALSE(b.SetBaseTemplate("other"));
  SoaData soa;
  soa.origin = Labels("ns.test");
  EXPECT_TRUE(b.SetSoa(soa));
  EXPECT_FALSE(b.SetSoa(soa));
  Value v = Val(2), w = Val(3);
  EXPECT_TRUE(b.AddIp4Prefix(Ip4("10.0.0.0"), 8, &v));
  EXPECT_FALSE(b.AddIp4Prefix(Ip4("10.0.0.0"), 8, &w));
  EXPECT_TRUE(b.AddIp4Prefix(Ip4("10.0.0.0"), 9, nullptr));
  b.SetExpires(2000);
  b.SetExpires(1000);
  b.SetExpires(3000);
  std::string dump = DumpDataset(b);
  EXPECT_NE(dump.find("var 1 first\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("base base $=\n"), std::string::npos);
  EXPECT_NE(dump.find("prefix4 10.0.0.0/8 = 127.0.0.2 -\n"), std::string::npos);
  EXPECT_NE(dump.find("prefix4 10.0.0.0/9 !\n"), std::string::npos);
  EXPECT_NE(dump.find("expires 1000\n"), std::string::npos);  // earliest expiry wins
}

TEST(DatasetBuilder, SubDatasetsInheritTtlAndVariables) {
  DatasetBuilder b(DatasetType::kCombined, "combined:x");
  b.SetTtl(60);
  b.SetVariable(2, "two");
  DatasetBuilder* child = b.AddSubDataset(DatasetType::kDnSet, Labels("dn"));
  EXPECT_EQ(child->ttl(), 60u);
  EXPECT_FALSE(child->SetVariable(2, "other"));  // inherited, first wins
  std::string dump = DumpDataset(b);
  EXPECT_NE(dump.find("sub dn\n  type dnset\n  ttl 60\n  var 2 two\n"), std::string::npos) << dump;
}

TEST(SnapshotBuilder, SharedDatasetIsStoredOnce) {
  SnapshotBuilder b;
  DatasetBuilder* d =
      b.AdoptDataset(std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:f"));
  b.AddToZone(Labels("a.test"), d);
  b.AddToZone(Labels("b.test"), d);
  EXPECT_EQ(b.FindDataset("ip4set:f"), d);
  EXPECT_EQ(b.FindDataset("ip4set:g"), nullptr);
  auto snap = Snapshot::FromImage(b.Build(0), "t");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->datasets().size(), 1u);
  EXPECT_EQ((*snap)->zones().size(), 2u);
}

}  // namespace
}  // namespace meshbl::table
