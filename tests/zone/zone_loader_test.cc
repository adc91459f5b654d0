// The one loader of command-line sources (zone/zone_loader.h) in the mode the
// `meshbl` commands use (log = false): every warning returned uncapped with
// its file:line, failures isolated per dataset and returned, nothing
// logged; both snapshot forms loaded from a compiled image. The daemon's
// reload behaviour is tested in tests/daemon/reload_test.cc.
#include "meshbl/zone/zone_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "meshbl/util/mapped_file.h"
#include "meshbl/zone/loader.h"
#include "meshbl/zone/source.h"

namespace meshbl::zone {
namespace {

namespace fs = std::filesystem;

class ZoneLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zone_loader_test." + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(P(name)) << text;
  }
  fs::path dir_;
};

ZoneLoader Quiet(const std::vector<std::string>& args) {
  auto parsed = ParseSourceSpecs(args);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return ZoneLoader(parsed.ok() ? *std::move(parsed) : std::vector<SourceSpec>{}, {}, false);
}

TEST_F(ZoneLoaderTest, QuietLoadReturnsEveryWarningUncappedAndLogsNothing) {
  // 1 to past meshbld's cap of five logged warnings per dataset.
  for (int bad = 0; bad <= 12; ++bad) {
    std::string data = "1.2.3.4\n";
    for (int i = 0; i < bad; ++i) data += "bad entry " + std::to_string(i) + "\n";
    Write("ip4", data);
    ZoneLoader loader = Quiet({"bl.test:ip4set:" + P("ip4")});
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    auto zs = loader.Load();
    const std::string logged =
        testing::internal::GetCapturedStderr() + testing::internal::GetCapturedStdout();
    ASSERT_TRUE(zs.ok()) << zs.status();
    EXPECT_EQ(logged, "");
    ASSERT_EQ(loader.warnings().size(), static_cast<std::size_t>(bad));
    for (int i = 0; i < bad; ++i) {
      EXPECT_EQ(loader.warnings()[static_cast<std::size_t>(i)].ToString().rfind(
                    P("ip4") + ":" + std::to_string(i + 2) + ": ", 0),
                0u)
          << loader.warnings()[static_cast<std::size_t>(i)].ToString();
    }
    EXPECT_EQ(loader.failed_datasets(), 0u);
  }
}

TEST_F(ZoneLoaderTest, FailuresAreIsolatedAndReturned) {
  Write("ok", "1.2.3.4\n");
  ZoneLoader loader = Quiet({"ok.test:ip4set:" + P("ok"), "no.test:ip4set:" + P("missing")});
  testing::internal::CaptureStderr();
  auto zs = loader.Load();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(zs.ok()) << zs.status();
  EXPECT_EQ(loader.failed_datasets(), 1u);
  EXPECT_EQ(loader.failed_zones(), 1u);
  ASSERT_EQ(loader.errors().size(), 1u);
  EXPECT_NE(loader.errors()[0].find(P("missing")), std::string::npos) << loader.errors()[0];
  // LoadZoneSet (what lookup, dump and bench --data run) makes it an error.
  std::vector<Diagnostic> warnings;
  auto one_shot = LoadZoneSet(
      std::vector<std::string>{"ok.test:ip4set:" + P("ok"), "no.test:ip4set:" + P("missing")}, {},
      &warnings);
  ASSERT_FALSE(one_shot.ok());
  EXPECT_EQ(one_shot.status().message(), loader.errors()[0]);
}

TEST_F(ZoneLoaderTest, EverySnapshotFormServesTheCompiledZones) {
  Write("ip4", "1.2.3.4\n");
  std::vector<Diagnostic> w;
  auto image = BuildImage(std::vector<std::string>{"bl.test:ip4set:" + P("ip4")}, {}, &w, 1);
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(util::WriteFileAtomically(P("bl.mbs"), *image).ok());
  struct Form {
    std::string source;
    std::size_t warnings;
  };
  for (const Form& f : std::vector<Form>{{P("bl.mbs"), 0},
                                         {"bl.test:snapshot:" + P("bl.mbs"), 0},
                                         {":snapshot:" + P("bl.mbs"), 0},
                                         {"BL.TEST.:snapshot:" + P("bl.mbs") + ",", 0},
                                         {"other.test:snapshot:" + P("bl.mbs"), 1}}) {
    SCOPED_TRACE(f.source);
    ZoneLoader loader = Quiet({f.source});
    auto zs = loader.Load();
    ASSERT_TRUE(zs.ok()) << zs.status();
    ASSERT_EQ((*zs)->zones().size(), 1u);
    ASSERT_EQ(loader.warnings().size(), f.warnings);
    if (f.warnings == 1) {
      EXPECT_EQ(loader.warnings()[0].ToString(),
                P("bl.mbs") + ": has no zone `other.test' (serving the snapshot's zones)");
    }
  }
  // compile takes text only: a snapshot source is named in the refusal.
  auto refused = BuildImage(std::vector<std::string>{P("bl.mbs")}, {}, &w, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is a compiled snapshot"), std::string::npos);
}

// Issue 9 item 9: rbldnsd keeps the first 32 distinct `$NS` names of a zone
// and warns "zone Z: too many NS records specified, only first 32 will be
// used" (after the names' glue warnings); duplicates, in any letter case,
// do not count. Generated: 1 to 40 names, with and without duplicates.
TEST_F(ZoneLoaderTest, MoreThan32NsNamesAreWarnedAboutAndCut) {
  for (int n = 1; n <= 40; ++n) {
    for (bool dup : {false, true}) {
      SCOPED_TRACE(testing::Message() << n << " names" << (dup ? " with duplicates" : ""));
      std::string ns = "$NS 3600";
      for (int i = 0; i < n; ++i) {
        ns += " ns" + std::to_string(i) + ".example.net";
        if (dup) ns += " NS" + std::to_string(i) + ".Example.NET";
      }
      Write("ip4", "$SOA 0 ns0.example.net h.example.net 1 2 3 4 5\n" + ns + "\n1.2.3.4\n");
      ZoneLoader loader = Quiet({"bl.test:ip4set:" + P("ip4")});
      auto zs = loader.Load();
      ASSERT_TRUE(zs.ok()) << zs.status();
      ASSERT_NE(*zs, nullptr);
      const std::string warning =
          "zone bl.test: too many NS records specified, only first 32 will be used";
      const auto& w = (*zs)->warnings();
      EXPECT_EQ(std::count(w.begin(), w.end(), warning), n > 32 ? 1 : 0);
      ASSERT_EQ((*zs)->zones().size(), 1u);
      const table::DsNode* ns_node = (*zs)->zones()[0].ns;
      ASSERT_NE(ns_node, nullptr);
      EXPECT_EQ(ns_node->view.rec().ns_count, static_cast<std::uint32_t>(std::min(n, 32)));
    }
  }
}

}  // namespace
}  // namespace meshbl::zone
