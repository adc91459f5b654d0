// rbldnsd-style statistics (src/server/stats_file.cc): the counter tuple,
// absolute and relative (+) stats lines, reset baselines, the log line.
#include "meshbl/daemon/stats_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace meshbl::daemon {
namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

server::ResponderStats Stats(std::uint64_t q, std::uint64_t ok, std::uint64_t nxd, std::uint64_t in,
                             std::uint64_t out) {
  server::ResponderStats s;
  s.queries = q;
  s.noerror = ok;
  s.nxdomain = nxd;
  s.bytes_in = in;
  s.bytes_out = out;
  return s;
}

TEST(Counters, ErrIsEverythingElse) {
  Counters c = CountersFrom(Stats(10, 6, 3, 400, 900));
  EXPECT_EQ(c.tot, 10u);
  EXPECT_EQ(c.ok, 6u);
  EXPECT_EQ(c.nxd, 3u);
  EXPECT_EQ(c.err, 1u);
  EXPECT_EQ(c.in, 400u);
  EXPECT_EQ(c.out, 900u);
}

class StatsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("stats_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StatsFileTest, AbsoluteLinesCountSinceTheLastReset) {
  const auto path = dir_ / "stats";
  StatsTracker t(path.string(), false, 100);
  ASSERT_TRUE(t.WriteTimestamp(100).ok());
  ASSERT_TRUE(t.WriteCounters(160, CountersFrom(Stats(4, 3, 1, 100, 200))).ok());
  ASSERT_TRUE(t.WriteCounters(220, CountersFrom(Stats(6, 4, 1, 150, 300))).ok());
  EXPECT_EQ(t.LogLines(220, CountersFrom(Stats(6, 4, 1, 150, 300))),
            std::vector<std::string>{"stats for 120sec: tot=6 ok=4 nxd=1 err=1 in=150 out=300"});
  t.Reset(230, CountersFrom(Stats(6, 4, 1, 150, 300)));
  ASSERT_TRUE(t.WriteTimestamp(230).ok());
  ASSERT_TRUE(t.WriteCounters(290, CountersFrom(Stats(7, 5, 1, 170, 330))).ok());
  EXPECT_EQ(ReadAll(path),
            "100\n160 *:4:3:1:100:200\n220 *:6:4:1:150:300\n230\n290 *:1:1:0:20:30\n");
}

TEST_F(StatsFileTest, RelativeLinesHoldTheChange) {
  const auto path = dir_ / "stats";
  StatsTracker t(path.string(), true, 100);
  ASSERT_TRUE(t.WriteCounters(160, CountersFrom(Stats(4, 3, 1, 100, 200))).ok());
  ASSERT_TRUE(t.WriteCounters(220, CountersFrom(Stats(6, 4, 1, 150, 300))).ok());
  EXPECT_EQ(ReadAll(path), "160 *:4:3:1:100:200\n220 *:2:1:0:50:100\n");
}

TEST_F(StatsFileTest, NoPathWritesNothingAndBadPathIsAnError) {
  StatsTracker none("", false, 0);
  EXPECT_TRUE(none.WriteTimestamp(1).ok());
  StatsTracker bad((dir_ / "missing" / "stats").string(), false, 0);
  absl::Status st = bad.WriteTimestamp(1);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("missing/stats: "), std::string::npos);
}

TEST_F(StatsFileTest, PerZoneFieldsComeBeforeTheTotal) {
  // rbldnsd's stats line: one zone:tot:ok:nxd:in:out field per zone, then *.
  const auto path = dir_ / "stats";
  StatsTracker abs_t(path.string(), false, 100);
  auto zones = [](std::uint64_t a, std::uint64_t b) {
    server::ZoneStats za{a, a - 1, 1, 10 * a, 20 * a}, zb{b, b, 0, 10 * b, 20 * b};
    return std::vector<ZoneCounters>{{"bl.test", CountersFrom(za)}, {"dbl.test", CountersFrom(zb)}};
  };
  ASSERT_TRUE(abs_t.WriteCounters(160, CountersFrom(Stats(5, 3, 1, 50, 100)), zones(3, 2)).ok());
  abs_t.Reset(170, CountersFrom(Stats(5, 3, 1, 50, 100)), zones(3, 2));
  ASSERT_TRUE(abs_t.WriteCounters(180, CountersFrom(Stats(9, 6, 2, 90, 180)), zones(6, 3)).ok());
  EXPECT_EQ(ReadAll(path),
            "160 bl.test:3:2:1:30:60 dbl.test:2:2:0:20:40 *:5:3:1:50:100\n"
            "180 bl.test:3:3:0:30:60 dbl.test:1:1:0:10:20 *:4:3:1:40:80\n");
  // The USR1/TERM log lines, as rbldnsd's: a line per zone, then the total,
  // all since the reset.
  EXPECT_EQ(abs_t.LogLines(180, CountersFrom(Stats(9, 6, 2, 90, 180)), zones(6, 3)),
            (std::vector<std::string>{
                "stats for 10secs zone bl.test: tot=3 ok=3 nxd=0 err=0 in=30 out=60",
                "stats for 10secs zone dbl.test: tot=1 ok=1 nxd=0 err=0 in=10 out=20",
                "stats for 10sec: tot=4 ok=3 nxd=1 err=0 in=40 out=80"}));
}

}  // namespace
}  // namespace meshbl::daemon
