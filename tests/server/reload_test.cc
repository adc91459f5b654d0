// Loading and reloading (src/server/reload.cc): zone specs and snapshot
// specs, change detection by stat, background reloads that publish
// atomically and keep the old data when they fail.
#include "meshbl/server/reload.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/query.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::server {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  fs::rename(tmp, p);
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("reload_test." + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// The TXT of `name` (TXT query), or "" when there is none.
std::string Txt(const table::ZoneSet& zs, const std::string& name) {
  std::string labels;
  EXPECT_TRUE(dns::ParseName(name, &labels));
  auto answer = std::make_unique<table::Answer>();
  table::Query q;
  q.qname = {reinterpret_cast<const std::uint8_t*>(labels.data()), labels.size()};
  q.qtype = table::kTypeTxt;
  q.now = 1;
  table::Resolve(zs, {}, q, answer.get());
  if (answer->answer_count == 0) return "";
  auto rd = answer->rdata(answer->answer[0]);
  return std::string(reinterpret_cast<const char*>(rd.data()) + 1, rd.size() - 1);
}

TEST_F(ReloadTest, ParsesTextAndSnapshotSpecs) {
  auto s = ParseSourceSpecs(
      {"bl.test:ip4set:a,b", "x.test:snapshot:one.mbs,two.mbs", ":snapshot:three.mbs"});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_FALSE((*s)[0].is_snapshot);
  EXPECT_EQ((*s)[0].text.files, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE((*s)[1].is_snapshot);
  EXPECT_EQ((*s)[1].snapshot_zone, "x.test");
  EXPECT_EQ((*s)[1].snapshot_files, (std::vector<std::string>{"one.mbs", "two.mbs"}));
  EXPECT_EQ((*s)[2].snapshot_zone, "");
  EXPECT_EQ(ParseSourceSpecs({"x:bogus:f"}).status().message(), "unknown dataset type `bogus'");
  EXPECT_EQ(ParseSourceSpecs({"x:snapshot:"}).status().message(), "missing filenames for snapshot");
}

TEST_F(ReloadTest, ChangedFollowsMtimeSizeAndExistence) {
  Write(P("ip4"), ":2:one\n1.2.3.4\n");
  auto specs = ParseSourceSpecs({"bl.test:ip4set:" + P("ip4")});
  ASSERT_TRUE(specs.ok());
  ZoneLoader loader(*specs, {});
  EXPECT_TRUE(loader.Changed()) << "nothing loaded yet";
  auto zs = loader.Load();
  ASSERT_TRUE(zs.ok()) << zs.status();
  EXPECT_EQ(Txt(**zs, "4.3.2.1.bl.test"), "one");
  EXPECT_FALSE(loader.Changed());
  Write(P("ip4"), ":2:two\n1.2.3.4\n");
  EXPECT_TRUE(loader.Changed());
  zs = loader.Load();
  ASSERT_TRUE(zs.ok());
  EXPECT_EQ(Txt(**zs, "4.3.2.1.bl.test"), "two");
  fs::remove(P("ip4"));
  EXPECT_TRUE(loader.Changed());
  EXPECT_FALSE(loader.Load().ok());
  EXPECT_FALSE(loader.Changed()) << "a failed attempt is not retried until something changes";
}

TEST_F(ReloadTest, ServesSnapshotFilesBesideTextZones) {
  Write(P("dn"), ":3:from snapshot\nbad.example\n");
  {
    auto specs = ParseSourceSpecs({"dbl.test:dnset:" + P("dn")});
    ASSERT_TRUE(specs.ok());
    std::vector<zone::Diagnostic> warnings;
    table::SnapshotBuilder b;
    ASSERT_TRUE(
        zone::LoadZones(std::vector<zone::ZoneSpec>{(*specs)[0].text}, {}, &b, &warnings).ok());
    auto image = b.Build(1);
    ASSERT_TRUE(util::WriteFileAtomically(P("dbl.mbs"), image).ok());
  }
  Write(P("ip4"), ":2:text\n1.2.3.4\n");
  auto specs =
      ParseSourceSpecs({"dbl.test:snapshot:" + P("dbl.mbs"), "bl.test:ip4set:" + P("ip4")});
  ASSERT_TRUE(specs.ok());
  ZoneLoader loader(*specs, {});
  auto zs = loader.Load();
  ASSERT_TRUE(zs.ok()) << zs.status();
  EXPECT_EQ(Txt(**zs, "bad.example.dbl.test"), "from snapshot");
  EXPECT_EQ(Txt(**zs, "4.3.2.1.bl.test"), "text");
  // A corrupt snapshot fails the load with the file's name.
  Write(P("dbl.mbs"), "not a snapshot");
  auto bad = loader.Load();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("dbl.mbs"), std::string::npos);
}

TEST_F(ReloadTest, ReloaderPublishesAndKeepsOldDataOnFailure) {
  Write(P("ip4"), ":2:gen1\n1.2.3.4\n");
  auto specs = ParseSourceSpecs({"bl.test:ip4set:" + P("ip4")});
  ASSERT_TRUE(specs.ok());
  ZoneLoader loader(*specs, {});
  table::ZoneSetHolder holder;
  auto first = loader.Load();
  ASSERT_TRUE(first.ok());
  holder.Publish(*first);
  Reloader reloader(&loader, &holder);
  reloader.Start();
  auto wait_checks = [&](std::uint64_t n) {
    for (int i = 0; i < 1000 && reloader.checks() < n; ++i) std::this_thread::sleep_for(5ms);
    return reloader.checks() >= n;
  };
  reloader.RequestCheck();  // nothing changed
  ASSERT_TRUE(wait_checks(1));
  EXPECT_EQ(reloader.reloads(), 0u);
  Write(P("ip4"), ":2:gen2\n1.2.3.4\n");
  reloader.RequestCheck();
  ASSERT_TRUE(wait_checks(2));
  EXPECT_EQ(reloader.reloads(), 1u);
  EXPECT_EQ(Txt(*holder.Current(), "4.3.2.1.bl.test"), "gen2");
  Write(P("ip4"), "$TIMESTAMP 20300101\n:2:gen3\n1.2.3.4\n");
  reloader.RequestCheck();
  ASSERT_TRUE(wait_checks(3));
  EXPECT_EQ(reloader.failures(), 1u);
  EXPECT_EQ(Txt(*holder.Current(), "4.3.2.1.bl.test"), "gen2") << "old data keeps serving";
  reloader.Stop();
}

}  // namespace
}  // namespace meshbl::server
