// Resolve() against ZoneSets built directly with the builder API: the
// matching rules of reference/rbldnsd.md §4 and the answer rules of §5.
#include "meshbl/table/query.h"

#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Ask;
using testing::Ip4;
using testing::Ip6;
using testing::Labels;
using testing::MakeZoneSet;
using testing::Val;

SoaData Soa() {
  SoaData s;
  s.ttl = 3600;
  s.origin = Labels("ns1.bl.test");
  s.person = Labels("hostmaster.bl.test");
  s.serial = 42;
  s.refresh = 3600;
  s.retry = 900;
  s.expire = 604800;
  s.minimum = 600;
  return s;
}

// One zone "bl.test" holding `ds`.
std::shared_ptr<const ZoneSet> OneZone(std::unique_ptr<DatasetBuilder> ds, bool soa_ns = true) {
  SnapshotBuilder b;
  if (soa_ns) {
    ds->SetSoa(Soa());
    ds->SetNs({3600, {Labels("ns1.bl.test"), Labels("ns2.bl.test")}});
  }
  DatasetBuilder* d = b.AdoptDataset(std::move(ds));
  b.AddToZone(Labels("bl.test"), d);
  return MakeZoneSet(b);
}

TEST(ResolveIp4Set, FirstLevelWithAnEntryDecides) {
  // §4.1: /32 beats /24 beats /16 beats /8; shallower levels are ignored.
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v2 = Val(2), v3 = Val(3);
  ds->AddIp4Range(Ip4("10.0.0.0"), Ip4("10.255.255.255"), &v2);  // /8
  ds->AddIp4Range(Ip4("10.1.2.0"), Ip4("10.1.2.255"), nullptr);  // excluded /24
  ds->AddIp4Range(Ip4("10.1.2.3"), Ip4("10.1.2.3"), &v3);        // /32 inside it
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "9.9.9.10.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "4.2.1.10.bl.test"), "NXDOMAIN");  // the /24 exclusion decides
  EXPECT_EQ(Ask(*zs, "3.2.1.10.bl.test"), "NOERROR A=127.0.0.3/2100");
  EXPECT_EQ(Ask(*zs, "1.1.1.11.bl.test"), "NXDOMAIN");
}

TEST(ResolveIp4Set, ExclusionWinsTiesAndValuesUnion) {
  // §4.1: within the deciding block an exclusion wins; otherwise all distinct
  // values are returned.
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v2 = Val(2, "two"), v3 = Val(3, "three");
  ds->AddIp4Range(Ip4("10.20.0.0"), Ip4("10.20.255.255"), &v2);
  ds->AddIp4Range(Ip4("10.20.0.0"), Ip4("10.20.255.255"), &v3);
  ds->AddIp4Range(Ip4("10.20.0.0"), Ip4("10.20.255.255"), &v2);  // duplicate: once
  ds->AddIp4Range(Ip4("10.30.0.7"), Ip4("10.30.0.7"), &v2);
  ds->AddIp4Range(Ip4("10.30.0.7"), Ip4("10.30.0.7"), nullptr);
  ds->AddIp4Range(Ip4("10.30.0.7"), Ip4("10.30.0.7"), &v3);
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "5.0.20.10.bl.test", kTypeAny),
            "NOERROR A=127.0.0.2/2100 TXT=two/2100 A=127.0.0.3/2100 TXT=three/2100");
  EXPECT_EQ(Ask(*zs, "7.0.30.10.bl.test"), "NXDOMAIN");
}

TEST(ResolveIp4Set, RangesSplitIntoOctetBlocks) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  ds->AddIp4Range(Ip4("192.168.5.1"), Ip4("192.168.5.7"), &v);
  ds->AddIp4Range(Ip4("0.0.0.0"), Ip4("0.255.255.255"), &v);
  ds->AddIp4Range(Ip4("255.255.255.0"), Ip4("255.255.255.255"), &v);  // no overflow at the top
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "0.5.168.192.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "1.5.168.192.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "7.5.168.192.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "8.5.168.192.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "0.0.0.0.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "255.255.255.255.bl.test"), "NOERROR A=127.0.0.2/2100");
}

TEST(ResolveIp4Set, QueryNameMustBeFourDecimalLabels) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  ds->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "002.0.0.127.bl.test"), "NOERROR A=127.0.0.2/2100");  // leading zeros ok
  EXPECT_EQ(Ask(*zs, "0002.0.0.127.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "x.2.0.0.127.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "256.0.0.127.bl.test"), "NXDOMAIN");
}

TEST(ResolveIp4Set, UnlistedFullAddressIsNxdomainEvenWithNibbleLikeLabels) {
  // Regression: `9.9.9.9` is also a 4-nibble IPv6 prefix, but in a zone with
  // IPv4 data it is a complete IPv4 query and must be NXDOMAIN when unlisted
  // (rspamd and postscreen rely on NXDOMAIN). Its parents are NODATA (issue 3).
  SnapshotBuilder b;
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  ds->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  auto six = std::make_unique<DatasetBuilder>(DatasetType::kIp6Trie, "ip6trie:x");
  ASSERT_TRUE(six->AddIp6Prefix(Ip6("2001:db8::"), 32, &v));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ds)));
  b.AddToZone(Labels("mixed.test"),
              b.AdoptDataset(std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:y")));
  b.AddToZone(Labels("mixed.test"), b.AdoptDataset(std::move(six)));
  auto zs = MakeZoneSet(b);
  EXPECT_EQ(Ask(*zs, "9.9.9.9.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "5.3.2.1.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "9.9.9.bl.test"), "NOERROR");
  EXPECT_EQ(Ask(*zs, "9.9.9.9.mixed.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "8.b.d.0.1.0.0.2.mixed.test"), "NOERROR");  // IPv6 parent: NODATA
}

TEST(ResolveIp4Set, SixToFourAndV4MappedQueriesUseIpv4Data) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2, "$");
  ds->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  auto zs = OneZone(std::move(ds), false);
  // ::ffff:127.0.0.2
  EXPECT_EQ(
      Ask(*zs, "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test", kTypeTxt),
      "NOERROR TXT=127.0.0.2/2100");
  // 2002:7f00:0002::1
  EXPECT_EQ(Ask(*zs, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.f.7.2.0.0.2.bl.test"),
            "NOERROR A=127.0.0.2/2100");
}

TEST(ResolveIp4Trie, LongestPrefixWinsAndExclusionsAreHoles) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Trie, "ip4trie:x");
  Value v2 = Val(2), v3 = Val(3);
  ASSERT_TRUE(ds->AddIp4Prefix(Ip4("10.0.0.0"), 8, &v2));
  ASSERT_TRUE(ds->AddIp4Prefix(Ip4("10.1.0.0"), 16, nullptr));
  ASSERT_TRUE(ds->AddIp4Prefix(Ip4("10.1.2.0"), 25, &v3));
  EXPECT_FALSE(ds->AddIp4Prefix(Ip4("10.0.0.0"), 8, &v3));  // duplicate: first wins
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "1.1.2.10.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "1.9.1.10.bl.test"), "NXDOMAIN");  // inside the excluded /16
  EXPECT_EQ(Ask(*zs, "127.2.1.10.bl.test"), "NOERROR A=127.0.0.3/2100");
  EXPECT_EQ(Ask(*zs, "128.2.1.10.bl.test"), "NXDOMAIN");
}

TEST(ResolveIp4Trie, DefaultRouteMatchesEverything) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Trie, "ip4trie:x");
  Value v = Val(9);
  ASSERT_TRUE(ds->AddIp4Prefix(0, 0, &v));
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "4.3.2.1.bl.test"), "NOERROR A=127.0.0.9/2100");
}

TEST(ResolveIp6, TrieAndTsetRules) {
  SnapshotBuilder b;
  auto trie = std::make_unique<DatasetBuilder>(DatasetType::kIp6Trie, "ip6trie:x");
  Value v = Val(2, "v6 $");
  ASSERT_TRUE(trie->AddIp6Prefix(Ip6("2001:db8::"), 32, &v));
  ASSERT_TRUE(trie->AddIp6Prefix(Ip6("2001:db8:1::"), 48, nullptr));
  auto tset = std::make_unique<DatasetBuilder>(DatasetType::kIp6TSet, "ip6tset:x");
  tset->SetDatasetValue(Val(5));
  tset->AddIp6Net64(0x20010db8ffff0001ULL);
  tset->AddIp6Excluded(Ip6("2001:db8:ffff:1::1"));
  b.AddToZone(Labels("six.test"), b.AdoptDataset(std::move(trie)));
  b.AddToZone(Labels("tset.test"), b.AdoptDataset(std::move(tset)));
  auto zs = MakeZoneSet(b);
  // 2001:db8:c0de::1
  EXPECT_EQ(Ask(*zs, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.d.0.c.8.b.d.0.1.0.0.2.six.test",
                kTypeTxt),
            "NOERROR TXT=v6 2001:db8:c0de::1/2100");
  // 2001:db8:1::1 is inside the excluded /48
  EXPECT_EQ(Ask(*zs, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.six.test"),
            "NXDOMAIN");
  // 2001:db8:ffff:1::2 listed, ::1 excluded
  EXPECT_EQ(Ask(*zs, "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.f.f.f.f.8.b.d.0.1.0.0.2.tset.test"),
            "NOERROR A=127.0.0.5/2100");
  EXPECT_EQ(Ask(*zs, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.f.f.f.f.8.b.d.0.1.0.0.2.tset.test"),
            "NXDOMAIN");
}

TEST(ResolveDnSet, ExactBeatsWildcardAndExclusionsWin) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:x");
  Value v = Val(2, "name $"), w = Val(4, "wild $");
  ds->AddName(Labels("spam.example"), false, &v);
  ds->AddName(Labels("example"), true, &w);           // *.example
  ds->AddName(Labels("ok.example"), false, nullptr);  // !ok.example
  ds->AddName(Labels("both.example"), false, &v);     // .both.example
  ds->AddName(Labels("both.example"), true, &v);
  ds->AddName(Labels("x.test"), true, &v);  // *.x.test and !*.x.test
  ds->AddName(Labels("x.test"), true, nullptr);
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "spam.example.bl.test", kTypeTxt), "NOERROR TXT=name spam.example/2100");
  EXPECT_EQ(Ask(*zs, "a.b.example.bl.test", kTypeTxt), "NOERROR TXT=wild example/2100");
  // *.name is subdomains only; the base itself is an empty non-terminal:
  // NODATA since issue 3 (rbldnsd: NXDOMAIN).
  EXPECT_EQ(Ask(*zs, "example.bl.test"), "NOERROR");
  EXPECT_EQ(Ask(*zs, "ok.example.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "both.example.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "a.both.example.bl.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "y.x.test.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "SPAM.Example.bl.test"), "NOERROR A=127.0.0.2/2100");
}

TEST(ResolveGeneric, NameFoundTypeMissingIsNodata) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kGeneric, "generic:x");
  ds->AddGenericRecord(Labels("host"), kTypeA, 300, std::string("\x7f\x00\x00\x05", 4));
  ds->AddGenericRecord(Labels("host"), kTypeTxt, 300, std::string("\x02hi", 3));
  ds->AddGenericRecord(Labels("a.b.c"), kTypeA, 300, std::string("\x7f\x00\x00\x06", 4));
  auto zs = OneZone(std::move(ds));
  EXPECT_EQ(Ask(*zs, "host.bl.test"),
            "NOERROR A=127.0.0.5/300 | NS=ns1.bl.test/3600 NS=ns2.bl.test/3600");
  EXPECT_EQ(Ask(*zs, "host.bl.test", kTypeAaaa), "NOERROR | SOA/600");
  EXPECT_EQ(Ask(*zs, "host.bl.test", kTypeAny),
            "NOERROR A=127.0.0.5/300 TXT=hi/300 | NS=ns1.bl.test/3600 NS=ns2.bl.test/3600");
  // Empty non-terminal: NODATA since issue 3 (RFC 8020; rbldnsd says
  // NXDOMAIN, §4.7). A name under no stored name stays NXDOMAIN.
  EXPECT_EQ(Ask(*zs, "b.c.bl.test"), "NOERROR | SOA/600");
  EXPECT_EQ(Ask(*zs, "c.bl.test"), "NOERROR | SOA/600");
  EXPECT_EQ(Ask(*zs, "x.c.bl.test"), "NXDOMAIN | SOA/600");
}

TEST(ResolveApex, SoaAndNsRules) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  auto zs = OneZone(std::move(ds));
  EXPECT_EQ(Ask(*zs, "bl.test", kTypeSoa),
            "NOERROR SOA/3600 | NS=ns1.bl.test/3600 NS=ns2.bl.test/3600");
  EXPECT_EQ(Ask(*zs, "bl.test", kTypeNs),
            "NOERROR NS=ns1.bl.test/3600 NS=ns2.bl.test/3600 | NS=ns1.bl.test/3600 "
            "NS=ns2.bl.test/3600");
  EXPECT_EQ(Ask(*zs, "bl.test", kTypeA), "NOERROR | SOA/600");
  EXPECT_EQ(Ask(*zs, "bl.test", kTypeSoa, {4, 1, 0, 0}, {.lazy = true}), "NOERROR SOA/3600");

  auto bare = OneZone(std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:y"), false);
  EXPECT_EQ(Ask(*bare, "bl.test", kTypeSoa), "REFUSED");
  EXPECT_EQ(Ask(*bare, "bl.test", kTypeNs), "REFUSED");
  EXPECT_EQ(Ask(*bare, "bl.test", kTypeA), "NOERROR");
  EXPECT_EQ(Ask(*bare, "other.test", kTypeA), "REFUSED");  // no zone
}

TEST(ResolveAnswer, MinimumTtlPerTypeAndDuplicatesOnce) {
  SnapshotBuilder b;
  auto d1 = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:a");
  auto d2 = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:b");
  d1->SetTtl(600);
  d2->SetTtl(60);
  Value v2 = Val(2, "x"), v3 = Val(3, "x");
  d1->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v2);
  d2->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v3);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(d1)));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(d2)));
  auto zs = MakeZoneSet(b);
  EXPECT_EQ(Ask(*zs, "2.0.0.127.bl.test", kTypeAny),
            "NOERROR A=127.0.0.2/60 TXT=x/60 A=127.0.0.3/60");
}

TEST(ResolveZones, MostSpecificZoneOnly) {
  SnapshotBuilder b;
  auto outer = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:a");
  auto inner = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:b");
  Value v2 = Val(2), v3 = Val(3);
  outer->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v2);
  inner->AddIp4Range(Ip4("127.0.0.3"), Ip4("127.0.0.3"), &v3);
  b.AddToZone(Labels("test"), b.AdoptDataset(std::move(outer)));
  b.AddToZone(Labels("sub.test"), b.AdoptDataset(std::move(inner)));
  auto zs = MakeZoneSet(b);
  EXPECT_EQ(Ask(*zs, "3.0.0.127.sub.test"), "NOERROR A=127.0.0.3/2100");
  EXPECT_EQ(Ask(*zs, "2.0.0.127.sub.test"), "NXDOMAIN");  // parent zone never consulted
}

TEST(ResolveCombined, SubZonesAndTheirApex) {
  SnapshotBuilder b;
  auto comb = std::make_unique<DatasetBuilder>(DatasetType::kCombined, "combined:x");
  Value v = Val(2), w = Val(7);
  DatasetBuilder* ip = comb->AddSubDataset(DatasetType::kIp4Set, Labels("ip"));
  ip->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  DatasetBuilder* dn = comb->AddSubDataset(DatasetType::kDnSet, Labels("dn"));
  dn->AddName(Labels("bad.example"), false, &w);
  b.AddToZone(Labels("c.test"), b.AdoptDataset(std::move(comb)));
  auto zs = MakeZoneSet(b);
  EXPECT_EQ(Ask(*zs, "2.0.0.127.ip.c.test"), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "bad.example.dn.c.test"), "NOERROR A=127.0.0.7/2100");
  EXPECT_EQ(Ask(*zs, "ip.c.test"), "NOERROR");  // sub-zone apex: NODATA
  EXPECT_EQ(Ask(*zs, "2.0.0.127.c.test"), "NXDOMAIN");
}

TEST(ResolveAcl, ActionsAndPrecedence) {
  SnapshotBuilder b;
  auto data = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  data->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  auto acl = std::make_unique<DatasetBuilder>(DatasetType::kAcl, "acl:x");
  Value always = Val(10, "client $");
  acl->AddAcl4(Ip4("10.0.0.0"), 8, AclAction::kRefuse, nullptr);
  acl->AddAcl4(Ip4("10.1.0.0"), 16, AclAction::kIgnore, nullptr);
  acl->AddAcl4(Ip4("192.0.2.0"), 24, AclAction::kEmpty, nullptr);
  acl->AddAcl4(Ip4("198.51.100.0"), 24, AclAction::kAlways, &always);
  acl->AddAcl6(Ip6("2001:db8::"), 32, AclAction::kRefuse, nullptr);
  DatasetBuilder* d = b.AdoptDataset(std::move(data));
  b.AddToZone(Labels("bl.test"), d);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(acl)));
  auto zs = MakeZoneSet(b);
  const std::string q = "2.0.0.127.bl.test";
  EXPECT_EQ(Ask(*zs, q, kTypeA, {4, Ip4("127.0.0.1"), 0, 0}), "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, q, kTypeA, {4, Ip4("10.9.0.1"), 0, 0}), "REFUSED");
  EXPECT_EQ(Ask(*zs, q, kTypeA, {4, Ip4("10.1.0.1"), 0, 0}), "DROP");
  EXPECT_EQ(Ask(*zs, q, kTypeA, {4, Ip4("192.0.2.9"), 0, 0}), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "9.9.9.9.bl.test", kTypeTxt, {4, Ip4("198.51.100.7"), 0, 0}),
            "NOERROR TXT=client 198.51.100.7/2100");
  EXPECT_EQ(Ask(*zs, q, kTypeA, {6, 0, 0x20010db800000000ULL, 1}), "REFUSED");
}

TEST(ResolveExpiry, ExpiredZoneServfails) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  ds->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  ds->SetExpires(1700000100);
  auto zs = OneZone(std::move(ds), false);
  EXPECT_EQ(Ask(*zs, "2.0.0.127.bl.test", kTypeA, {4, 1, 0, 0}, {}, 1700000099),
            "NOERROR A=127.0.0.2/2100");
  EXPECT_EQ(Ask(*zs, "2.0.0.127.bl.test", kTypeA, {4, 1, 0, 0}, {}, 1700000100), "SERVFAIL");
}

TEST(ResolveHotPath, AllocatesNothing) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2, "listed $ $1");
  ds->SetVariable(1, "var");
  ds->AddIp4Range(Ip4("10.0.0.0"), Ip4("10.0.255.255"), &v);
  auto zs = OneZone(std::move(ds));
  auto answer = std::make_unique<Answer>();
  std::string names[2] = {Labels("1.0.0.10.bl.test"), Labels("1.0.1.10.bl.test")};
  Query q;
  q.qtype = kTypeAny;
  q.client = {4, 0x7f000001, 0, 0};
  std::size_t before = meshbl::testing::AllocationCount();
  for (int i = 0; i < 10000; ++i) {
    const std::string& n = names[i % 2];
    q.qname = {reinterpret_cast<const std::uint8_t*>(n.data()), n.size()};
    Resolve(*zs, {}, q, answer.get());
  }
  EXPECT_EQ(meshbl::testing::AllocationCount() - before, 0u);
}

}  // namespace
}  // namespace meshbl::table
