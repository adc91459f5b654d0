#include "meshbl/bench/query_set.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/dns/name.h"
#include "tests/bench/bench_test_util.h"

namespace meshbl::bench {
namespace {

std::string NameOf(const QuerySet& s, std::size_t i) {
  auto p = s.packet(i);
  return dns::NameToText(p.subspan(12, p.size() - 12 - 5));
}

TEST(ParseQueryText, ReadsDnsperfLines) {
  auto qs = ParseQueryText(
      "; a comment\n"
      "# another\n"
      "\n"
      "2.0.0.127.bl.test A\n"
      "  Example.COM\tTXT  \r\n"
      "x.bl.test type65\n"
      "noType.bl.test\n",
      "q.txt");
  ASSERT_TRUE(qs.ok()) << qs.status();
  ASSERT_EQ(qs->size(), 4u);
  EXPECT_EQ(NameOf(*qs, 0), "2.0.0.127.bl.test");
  EXPECT_EQ(qs->info(0).qtype, 1);
  EXPECT_EQ(NameOf(*qs, 1), "Example.COM");  // case kept: the server must echo it
  EXPECT_EQ(qs->info(1).qtype, 16);
  EXPECT_EQ(qs->info(2).qtype, 65);
  EXPECT_EQ(qs->info(3).qtype, 1);
  auto p = qs->packet(0);
  EXPECT_EQ(p[5], 1) << "QDCOUNT 1";
  EXPECT_EQ(p[p.size() - 1], 1) << "class IN";
  EXPECT_EQ(qs->info(0).expect_rcode, kExpectNoErrorOrNxDomain);
}

TEST(ParseQueryText, ErrorsNameFileAndLine) {
  auto bad_type = ParseQueryText("a.test A\nb.test BOGUS\n", "q.txt");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.status().message(), "q.txt:2: unknown query type `BOGUS'");
  auto extra = ParseQueryText("a.test A extra\n", "q.txt");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("q.txt:1:"), std::string::npos);
  auto long_label = ParseQueryText(std::string(64, 'a') + ".test A\n", "q.txt");
  ASSERT_FALSE(long_label.ok());
  EXPECT_NE(long_label.status().message().find("q.txt:1: invalid domain name"), std::string::npos);
  EXPECT_FALSE(ParseQueryText("; nothing\n", "q.txt").ok());
  EXPECT_FALSE(ReadQueryFile("/nonexistent/queries.txt").ok());
}

class Generate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir();
    zones_ = testing::TestData(dir_);
    ASSERT_NE(zones_, nullptr);
  }
  std::string dir_;
  std::shared_ptr<const table::ZoneSet> zones_;
};

TEST_F(Generate, AllHitsAreListedAndAnsweredNoError) {
  GenerateOptions o;
  o.count = 3000;
  o.hit_ratio = 1;
  auto qs = GenerateQueries(*zones_, o);
  ASSERT_TRUE(qs.ok()) << qs.status();
  ASSERT_EQ(qs->size(), 3000u);
  std::map<QueryKind, int> kinds;
  for (std::size_t i = 0; i < qs->size(); ++i) {
    EXPECT_TRUE(qs->info(i).listed) << NameOf(*qs, i);
    EXPECT_EQ(qs->info(i).expect_rcode, 0) << NameOf(*qs, i);
    ++kinds[qs->info(i).kind];
  }
  // Equal default weights over the three kinds the data has.
  for (auto k : {QueryKind::kIp4, QueryKind::kIp6, QueryKind::kName}) {
    EXPECT_NEAR(kinds[k], 1000, 150) << static_cast<int>(k);
  }
}

TEST_F(Generate, MissesAreNxDomainAndTheHitRatioHolds) {
  GenerateOptions o;
  o.count = 20000;
  o.hit_ratio = 0.3;
  o.ip6 = 0;
  o.name = 0;
  o.ip4 = 1;
  auto qs = GenerateQueries(*zones_, o);
  ASSERT_TRUE(qs.ok()) << qs.status();
  const double listed = static_cast<double>(qs->listed_count()) / static_cast<double>(qs->size());
  EXPECT_NEAR(listed, 0.3, 0.02);
  for (std::size_t i = 0; i < qs->size(); ++i) {
    EXPECT_EQ(qs->info(i).kind, QueryKind::kIp4);
    EXPECT_EQ(qs->info(i).expect_rcode, qs->info(i).listed ? 0 : 3) << NameOf(*qs, i);
    EXPECT_TRUE(NameOf(*qs, i).ends_with(".bl.test"));
  }
}

TEST_F(Generate, QtypeMixAndWildcardHits) {
  GenerateOptions o;
  o.count = 4000;
  o.hit_ratio = 1;
  o.ip4 = 0;
  o.ip6 = 0;
  o.name = 1;
  o.qtypes = {{16, 3}, {1, 1}};
  auto qs = GenerateQueries(*zones_, o);
  ASSERT_TRUE(qs.ok()) << qs.status();
  int txt = 0, wild = 0;
  for (std::size_t i = 0; i < qs->size(); ++i) {
    txt += qs->info(i).qtype == 16;
    wild += NameOf(*qs, i).ends_with(".wild.example.dbl.test");
    EXPECT_TRUE(qs->info(i).listed) << NameOf(*qs, i);
  }
  EXPECT_NEAR(txt, 3000, 150);
  EXPECT_GT(wild, 0);
}

TEST_F(Generate, SameSeedSameQueriesOtherSeedOthers) {
  GenerateOptions o;
  o.count = 500;
  auto a = GenerateQueries(*zones_, o);
  auto b = GenerateQueries(*zones_, o);
  o.seed = 2;
  auto c = GenerateQueries(*zones_, o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  int same_as_c = 0;
  for (std::size_t i = 0; i < a->size(); ++i) {
    ASSERT_EQ(NameOf(*a, i), NameOf(*b, i));
    ASSERT_EQ(a->info(i).qtype, b->info(i).qtype);
    same_as_c += NameOf(*a, i) == NameOf(*c, i);
  }
  EXPECT_LT(same_as_c, 50);
}

TEST_F(Generate, AskingForAKindTheDataLacksIsAnError) {
  std::vector<zone::Diagnostic> warnings;
  auto only_names =
      zone::LoadZoneSet(std::vector<std::string>{"dbl.test:dnset:" + dir_ + "/names.txt"},
                        zone::LoadOptions(), &warnings);
  ASSERT_TRUE(only_names.ok());
  GenerateOptions o;
  o.ip6 = 1;
  auto qs = GenerateQueries(**only_names, o);
  ASSERT_FALSE(qs.ok());
  EXPECT_NE(qs.status().message().find("ip6trie/ip6tset"), std::string::npos);
  o.ip6 = -1;  // default: only what the data has
  auto ok = GenerateQueries(**only_names, o);
  ASSERT_TRUE(ok.ok()) << ok.status();
  for (std::size_t i = 0; i < ok->size(); ++i) EXPECT_EQ(ok->info(i).kind, QueryKind::kName);
}

TEST_F(Generate, ExpectationsForFileQueriesComeFromTheData) {
  auto qs = ParseQueryText(
      "7.1.0.10.bl.test A\n"  // 10.0.1.7: not listed (10.0.1.2 is)
      "1.0.0.10.bl.test A\n"  // 10.0.0.1: listed
      "9.9.9.9.bl.test A\n"   // not listed
      "host5.example.com.dbl.test TXT\n"
      "x.other.zone A\n",  // outside every zone
      "q.txt");
  ASSERT_TRUE(qs.ok());
  ExpectFromData(*zones_, &*qs);
  EXPECT_EQ(qs->info(0).expect_rcode, 3);
  EXPECT_EQ(qs->info(1).expect_rcode, 0);
  EXPECT_TRUE(qs->info(1).listed);
  EXPECT_EQ(qs->info(2).expect_rcode, 3);
  EXPECT_FALSE(qs->info(2).listed);
  EXPECT_EQ(qs->info(3).expect_rcode, 0);
  EXPECT_EQ(qs->info(4).expect_rcode, 5) << "REFUSED outside the served zones";
  ExpectRcode(kExpectAnyRcode, &*qs);
  for (std::size_t i = 0; i < qs->size(); ++i) EXPECT_EQ(qs->info(i).expect_rcode, kExpectAnyRcode);
}

TEST_F(Generate, GroupBySizeKeepsTheQueriesAndMakesRuns) {
  GenerateOptions o;
  o.count = 5000;
  auto qs = GenerateQueries(*zones_, o);
  ASSERT_TRUE(qs.ok());
  auto names = [&] {
    std::vector<std::string> v;
    for (std::size_t i = 0; i < qs->size(); ++i) {
      v.push_back(NameOf(*qs, i) + "/" + std::to_string(qs->info(i).qtype));
    }
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto before = names();
  std::map<std::uint16_t, std::size_t> per_size;
  for (std::size_t i = 0; i < qs->size(); ++i) ++per_size[qs->info(i).size];
  qs->GroupBySize(16, 1);
  EXPECT_EQ(names(), before);
  std::size_t max_changes = 0;
  for (const auto& [size, n] : per_size) max_changes += (n + 15) / 16;
  std::size_t changes = 0;
  for (std::size_t i = 1; i < qs->size(); ++i) changes += qs->info(i).size != qs->info(i - 1).size;
  EXPECT_LT(changes, max_changes);
  EXPECT_GT(changes, per_size.size()) << "runs are interleaved, not one block per size";
}

TEST(ParseQtype, NamesAndNumbers) {
  std::uint16_t t = 0;
  EXPECT_TRUE(ParseQtype("txt", &t));
  EXPECT_EQ(t, 16);
  EXPECT_TRUE(ParseQtype("TYPE255", &t));
  EXPECT_EQ(t, 255);
  EXPECT_FALSE(ParseQtype("TYPE0", &t));
  EXPECT_FALSE(ParseQtype("TYPE70000", &t));
  EXPECT_EQ(QtypeName(28), "AAAA");
  EXPECT_EQ(QtypeName(999), "TYPE999");
  std::uint8_t e = 0;
  EXPECT_TRUE(ParseExpectRcode("nxdomain", &e));
  EXPECT_EQ(e, 3);
  EXPECT_TRUE(ParseExpectRcode("any", &e));
  EXPECT_EQ(e, kExpectAnyRcode);
  EXPECT_FALSE(ParseExpectRcode("bogus", &e));
}

}  // namespace
}  // namespace meshbl::bench
