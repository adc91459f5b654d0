// Resolve() against ZoneSets built directly with the builder API: the
// matching rules of reference/rbldnsd.md §4 and the answer rules of §5.
#include "meshbl/table/query.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
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
  // (rspamd and postscreen rely on NXDOMAIN).
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
  // Issue 9: parents are NODATA only where something is listed below.
  EXPECT_EQ(Ask(*zs, "9.9.9.bl.test"), "NXDOMAIN");
  EXPECT_EQ(Ask(*zs, "0.0.127.bl.test"), "NOERROR");
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

// An IPv6 client under an "always listed" ACL entry: `$` is its RFC 5952
// text, for generated addresses with zero runs anywhere (the (hi, lo) pair
// the server keeps is turned back into bytes for the text).
TEST(ResolveAcl, AlwaysListedIpv6ClientText) {
  SnapshotBuilder b;
  auto data = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  Value v = Val(2);
  data->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  auto acl = std::make_unique<DatasetBuilder>(DatasetType::kAcl, "acl:x");
  Value always = Val(10, "client $");
  acl->AddAcl6(Ip6("2001:db8::"), 32, AclAction::kAlways, &always);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(data)));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(acl)));
  auto zs = MakeZoneSet(b);
  std::mt19937_64 rng(10);
  for (int i = 0; i < 300; ++i) {
    std::uint64_t hi = 0x20010db800000000ULL | (rng() & 0xffffffffULL);
    std::uint64_t lo = rng();
    for (int g = 0; g < 4; ++g) {
      if (rng() % 2 == 0) lo &= ~(0xffffULL << (16 * g));
      if (g < 2 && rng() % 2 == 0) hi &= ~(0xffffULL << (16 * g));
    }
    std::uint8_t bytes[16];
    for (int k = 0; k < 8; ++k) {
      bytes[k] = static_cast<std::uint8_t>(hi >> (56 - 8 * k));
      bytes[8 + k] = static_cast<std::uint8_t>(lo >> (56 - 8 * k));
    }
    char text[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET6, bytes, text, sizeof text), nullptr);
    EXPECT_EQ(Ask(*zs, "9.9.9.9.bl.test", kTypeTxt, {6, 0, hi, lo}),
              std::string("NOERROR TXT=client ") + text + "/2100");
  }
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

// ---------------------------------------------------------------------------
// Issue 9.

using U128 = unsigned __int128;

std::string Ip4Rel(std::uint32_t a, int octets) {
  std::string s;
  for (int k = octets - 1; k >= 0; --k) {
    absl::StrAppendFormat(&s, "%s%u", s.empty() ? "" : ".", (a >> (24 - 8 * k)) & 255u);
  }
  return s;
}

std::string NibbleRel(U128 a, int nibbles) {
  std::string s;
  for (int k = nibbles - 1; k >= 0; --k) {
    absl::StrAppendFormat(&s, "%s%x", s.empty() ? "" : ".",
                          static_cast<unsigned>((a >> (124 - 4 * k)) & 15u));
  }
  return s;
}

std::array<std::uint8_t, 16> Bytes16(U128 a) {
  std::array<std::uint8_t, 16> b;
  for (int i = 0; i < 16; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (120 - 8 * i));
  return b;
}

// Item 7: for random IPv4 data of every IPv4 dataset type (ranges, /8-/32
// blocks, prefixes, exclusions), every name of 1-3 decimal labels is NODATA
// exactly when an address below it is listed, NXDOMAIN otherwise. The truth
// comes from the resolver's own answers for complete addresses: the listed
// set is constant between entry boundaries, so one address per piece is
// enough.
TEST(ResolveIssue9, Ip4EmptyNonTerminalsExactlyWhereAnAddressIsListedBelow) {
  for (DatasetType type : {DatasetType::kIp4Set, DatasetType::kIp4Trie, DatasetType::kIp4TSet}) {
    std::mt19937 rng(9000 + static_cast<unsigned>(type));
    auto r = [&](std::uint32_t lo, std::uint32_t hi) {
      return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    auto ds = std::make_unique<DatasetBuilder>(type, "x");
    Value v = Val(2);
    ds->SetDatasetValue(v);
    std::set<std::uint32_t> cuts = {0};
    std::vector<std::uint32_t> addrs;
    for (int i = 0; i < 120; ++i) {
      // Two /8s of data, so most prefixes have neighbours with and without.
      const std::uint32_t a =
          ((r(0, 1) ? 10u : 11u) << 24) | (r(0, 3) << 16) | (r(0, 7) << 8) | r(0, 255);
      const bool excl = type != DatasetType::kIp4TSet && r(0, 3) == 0;
      const int len = type == DatasetType::kIp4TSet
                          ? 32
                          : static_cast<int>(type == DatasetType::kIp4Set ? 8 * r(1, 4) : r(6, 32));
      const std::uint32_t lo = len == 0 ? 0 : a & (~0u << (32 - len));
      const std::uint32_t hi = lo | (len == 32 ? 0 : ~0u >> len);
      if (type == DatasetType::kIp4Trie) {
        ds->AddIp4Prefix(lo, len, excl ? nullptr : &v);
      } else if (type == DatasetType::kIp4TSet) {
        ds->AddIp4Host(lo);
      } else {
        ds->AddIp4Range(lo, hi, excl ? nullptr : &v);
      }
      cuts.insert(lo);
      if (hi != ~0u) cuts.insert(hi + 1);
      addrs.push_back(a);
    }
    auto zs = OneZone(std::move(ds), false);
    auto listed = [&](std::uint32_t a) {
      return Ask(*zs, Ip4Rel(a, 4) + ".bl.test").rfind("NOERROR A=", 0) == 0;
    };
    bool any = false;
    for (std::uint32_t c : cuts) any |= listed(c);
    std::vector<std::pair<std::uint32_t, int>> prefixes;
    for (std::uint32_t a : addrs) {
      for (int n = 1; n <= 3; ++n) prefixes.push_back({a, n});
      prefixes.push_back({a ^ (1u << r(8, 31)), static_cast<int>(r(1, 3))});
    }
    for (std::uint32_t o = 0; o < 14; ++o) prefixes.push_back({o << 24, 1});
    int nodata = 0, nxdomain = 0;
    for (auto [a, n] : prefixes) {
      const std::uint32_t lo = a & (~0u << (32 - 8 * n)), hi = lo | (~0u >> (8 * n));
      bool below = listed(lo);
      for (auto it = cuts.upper_bound(lo); !below && it != cuts.end() && *it <= hi; ++it) {
        below = listed(*it);
      }
      const std::string rel = Ip4Rel(a, n);
      // Single-digit labels also read as nibbles: "0", "0.0", "2", "0.2",
      // "0.0.2" are parents of v4-mapped / 6to4 names of listed addresses.
      const bool mapped = rel == "0" || rel == "0.0" || rel == "0.0.0" || rel == "2" ||
                          rel == "0.2" || rel == "0.0.2";
      const bool want = below || (mapped && any);
      EXPECT_EQ(Ask(*zs, rel + ".bl.test"), want ? "NOERROR" : "NXDOMAIN")
          << static_cast<int>(type) << " " << rel;
      (want ? nodata : nxdomain)++;
    }
    EXPECT_GT(nodata, 50) << static_cast<int>(type);
    EXPECT_GT(nxdomain, 20);
  }
}

// The same for IPv6 data: names of 1-31 nibble labels.
TEST(ResolveIssue9, Ip6EmptyNonTerminalsExactlyWhereAnAddressIsListedBelow) {
  for (DatasetType type : {DatasetType::kIp6Trie, DatasetType::kIp6TSet}) {
    std::mt19937 rng(9100 + static_cast<unsigned>(type));
    auto r = [&](std::uint32_t lo, std::uint32_t hi) {
      return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    auto ds = std::make_unique<DatasetBuilder>(type, "x");
    Value v = Val(2);
    ds->SetDatasetValue(v);
    std::set<U128> cuts = {0};
    std::vector<U128> addrs;
    const U128 base = U128{0x20010db8} << 96;
    for (int i = 0; i < 80; ++i) {
      U128 a = base | (U128{r(0, 3)} << 80) | (U128{r(0, 15)} << 64) | (U128{rng()} << 32) | rng();
      const int len = type == DatasetType::kIp6TSet ? 64 : static_cast<int>(r(33, 128));
      const U128 mask = len == 128 ? ~U128{0} : ~(~U128{0} >> len);
      const U128 lo = a & mask, hi = lo | ~mask;
      const bool excl = type == DatasetType::kIp6Trie && r(0, 3) == 0;
      if (type == DatasetType::kIp6TSet) {
        ds->AddIp6Net64(static_cast<std::uint64_t>(lo >> 64));
      } else {
        ds->AddIp6Prefix(Bytes16(lo), len, excl ? nullptr : &v);  // a duplicate: first wins
      }
      cuts.insert(lo);
      if (hi != ~U128{0}) cuts.insert(hi + 1);
      addrs.push_back(a);
    }
    auto zs = OneZone(std::move(ds), false);
    auto listed = [&](U128 a) {
      return Ask(*zs, NibbleRel(a, 32) + ".bl.test").rfind("NOERROR A=", 0) == 0;
    };
    int nodata = 0, nxdomain = 0;
    for (U128 a : addrs) {
      for (int n = 1; n <= 31; n += static_cast<int>(r(1, 3))) {
        for (U128 p : {a, a ^ (U128{1} << (127 - 4 * n + 1))}) {
          const U128 mask = ~(~U128{0} >> (4 * n));
          const U128 lo = p & mask, hi = lo | ~mask;
          bool below = listed(lo);
          for (auto it = cuts.upper_bound(lo); !below && it != cuts.end() && *it <= hi; ++it) {
            below = listed(*it);
          }
          const std::string rel = NibbleRel(p, n);
          EXPECT_EQ(Ask(*zs, rel + ".bl.test"), below ? "NOERROR" : "NXDOMAIN")
              << static_cast<int>(type) << " " << rel;
          (below ? nodata : nxdomain)++;
        }
      }
    }
    EXPECT_GT(nodata, 50) << static_cast<int>(type);
    EXPECT_GT(nxdomain, 20);
  }
}

// Item 5: under an ACL `empty` action nothing of the IP or dnset data exists,
// so its parents are NXDOMAIN too (as rbldnsd); generic names and their
// parents stay (the ACL does not hide them). Under `always` every IP prefix
// has listed names below: NODATA.
TEST(ResolveIssue9, AclEmptyHidesEmptyNonTerminalsOfHiddenData) {
  SnapshotBuilder b;
  Value v = Val(2);
  auto ip = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x");
  ip->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  auto dn = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:x");
  dn->AddName(Labels("c.b.a.example"), false, &v);
  dn->AddName(Labels("d.c.b.a.example"), false, &v);
  auto gen = std::make_unique<DatasetBuilder>(DatasetType::kGeneric, "generic:x");
  gen->AddGenericRecord(Labels("x.y.gen"), kTypeA, 300, std::string("\x7f\x00\x00\x05", 4));
  auto acl = std::make_unique<DatasetBuilder>(DatasetType::kAcl, "acl:x");
  Value always = Val(10, "client $");
  acl->AddAcl4(Ip4("192.0.2.0"), 24, AclAction::kEmpty, nullptr);
  acl->AddAcl4(Ip4("198.51.100.0"), 24, AclAction::kAlways, &always);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ip)));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(dn)));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(gen)));
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(acl)));
  auto zs = MakeZoneSet(b);
  const ClientAddr pass{4, Ip4("127.0.0.1"), 0, 0}, empty{4, Ip4("192.0.2.1"), 0, 0},
      all{4, Ip4("198.51.100.1"), 0, 0};
  for (const char* n : {"c.b.a.example.bl.test", "b.a.example.bl.test", "0.0.127.bl.test",
                        "127.bl.test", "y.gen.bl.test", "9.9.9.bl.test", "x.y.gen.bl.test"}) {
    SCOPED_TRACE(n);
    const std::string name = n;
    const bool gen_name = name.find("gen") != std::string::npos;
    const bool unlisted = name == "9.9.9.bl.test";
    EXPECT_EQ(Ask(*zs, n, kTypeMx, pass), unlisted ? "NXDOMAIN" : "NOERROR");
    EXPECT_EQ(Ask(*zs, n, kTypeMx, empty), gen_name ? "NOERROR" : "NXDOMAIN");
    EXPECT_EQ(Ask(*zs, n, kTypeMx, all), "NOERROR");  // listed, or a parent of listed names
  }
}

// Item 4: `$` of a dnset entry is its name in rbldnsd's escaped form:
// `"`, `$`, `.`, `;`, `@`, `\` with a backslash, bytes outside 0x21..0x7e as
// \DDD ([obs] every byte 1..255 against Debian's rbldnsd).
TEST(ResolveIssue9, DollarOfANameIsEscapedAsRbldnsdPrintsIt) {
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:x");
  Value v = Val(2, "[$]");
  std::vector<std::string> names;
  for (int c = 1; c < 256; ++c) {
    if (c >= 'A' && c <= 'Z') continue;  // names are lowercased
    std::string label = "a" + std::string(1, static_cast<char>(c)) + "b";
    std::string wire = std::string(1, static_cast<char>(label.size())) + label + "\x7" + "example";
    ds->AddName(wire, false, &v);
    names.push_back(wire);
  }
  auto zs = OneZone(std::move(ds), false);
  static auto* answer = new Answer();
  for (const std::string& rel : names) {
    const std::string full = rel + Labels("bl.test");
    Query q;
    q.qname = {reinterpret_cast<const std::uint8_t*>(full.data()), full.size()};
    q.qtype = kTypeTxt;
    Resolve(*zs, {}, q, answer);
    ASSERT_EQ(answer->answer_count, 1);
    auto rd = answer->rdata(answer->answer[0]);
    const std::string txt(reinterpret_cast<const char*>(rd.data()) + 1, rd.size() - 1);
    const auto c = static_cast<unsigned char>(rel[2]);
    std::string want;
    if (std::string_view("\"$.;@\\").find(static_cast<char>(c)) != std::string_view::npos) {
      want = std::string("\\") + static_cast<char>(c);
    } else if (c < 0x21 || c > 0x7e) {
      want = absl::StrFormat("\\%03u", c);
    } else {
      want = std::string(1, static_cast<char>(c));
    }
    EXPECT_EQ(txt, "[a" + want + "b.example]") << "byte " << c;
  }
}

// Item 3: an RRset of any size is resolved whole (no 32-value or 255-RR
// cap), for a dnset name listed 1..300 times and a generic name with as many
// A and TXT records; an RRset beyond a 64 KiB message is marked overflowed.
TEST(ResolveIssue9, RrsetsOfAnySizeAreResolvedWhole) {
  auto dn = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:x");
  auto gen = std::make_unique<DatasetBuilder>(DatasetType::kGeneric, "generic:x");
  for (int i = 0; i < 300; ++i) {
    Value v{0x7f010000u | static_cast<std::uint32_t>(i), "text " + std::to_string(i)};
    dn->AddName(Labels("many"), false, &v);
    dn->AddName(Labels("wide"), true, &v);
    gen->AddGenericRecord(Labels("many"), kTypeA, 300,
                          std::string{10, 0, static_cast<char>(i >> 8), static_cast<char>(i)});
  }
  for (int i = 0; i < 7000; ++i) {
    gen->AddGenericRecord(Labels("huge"), kTypeA, 300,
                          std::string{10, 1, static_cast<char>(i >> 8), static_cast<char>(i)});
  }
  SnapshotBuilder b;
  b.AddToZone(Labels("dn.test"), b.AdoptDataset(std::move(dn)));
  b.AddToZone(Labels("gen.test"), b.AdoptDataset(std::move(gen)));
  auto zs = MakeZoneSet(b);
  static auto* answer = new Answer();
  auto count = [&](const std::string& name, std::uint16_t type) {
    const std::string l = Labels(name);
    Query q;
    q.qname = {reinterpret_cast<const std::uint8_t*>(l.data()), l.size()};
    q.qtype = type;
    Resolve(*zs, {}, q, answer);
    return answer->answer_count;
  };
  EXPECT_EQ(count("many.dn.test", kTypeA), 300);
  EXPECT_EQ(count("many.dn.test", kTypeTxt), 300);
  EXPECT_EQ(count("many.dn.test", kTypeAny), 600);
  EXPECT_EQ(count("x.y.wide.dn.test", kTypeAny), 600);
  EXPECT_FALSE(answer->any_overflow());
  EXPECT_EQ(count("many.gen.test", kTypeA), 300);
  EXPECT_EQ(count("huge.gen.test", kTypeA), Answer::kMaxAnswer);
  EXPECT_TRUE(answer->overflowed(kTypeA));
  EXPECT_FALSE(answer->overflowed(kTypeTxt));
  EXPECT_EQ(count("many.gen.test", kTypeA), 300);
  EXPECT_FALSE(answer->any_overflow());  // Reset clears it
}

}  // namespace
}  // namespace meshbl::table
