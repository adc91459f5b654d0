#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "meshbl/table/builder.h"
#include "meshbl/zone/loader.h"

namespace meshbl::zone {
namespace {

namespace fs = std::filesystem;
using table::DatasetType;

TEST(ParseZoneSpec, SplitsNameTypeAndFiles) {
  // §1 name:type:file[,file...]; files split on ',' and ':'
  auto s = ParseZoneSpec("Bl.Example.COM.:ip4set:a.txt,b.txt:c.txt");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->zone, std::string("\2bl\7example\3com"));
  EXPECT_EQ(s->type, DatasetType::kIp4Set);
  EXPECT_EQ(s->dataset_spec, "ip4set:a.txt,b.txt:c.txt");
  EXPECT_EQ(s->files, (std::vector<std::string>{"a.txt", "b.txt", "c.txt"}));
}

TEST(ParseZoneSpec, EmptyPiecesAndEscapes) {
  auto s = ParseZoneSpec("a\\.b..c:dnset:,x,,y,");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->zone, std::string("\3a.b\1c"));
  EXPECT_EQ(s->files, (std::vector<std::string>{"x", "y"}));
}

TEST(ParseZoneSpec, Errors) {
  auto unknown = ParseZoneSpec("z:ip5set:f");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("ip5set"), std::string_view::npos);
  EXPECT_FALSE(ParseZoneSpec("z").ok());
  EXPECT_FALSE(ParseZoneSpec("z:ip4set").ok());
  EXPECT_FALSE(ParseZoneSpec("z:ip4set:,").ok());
  // §1 empty name only for acl (global ACL); "." is the empty name too
  EXPECT_FALSE(ParseZoneSpec(":ip4set:f").ok());
  auto global = ParseZoneSpec(":acl:f");
  ASSERT_TRUE(global.ok());
  EXPECT_TRUE(global->zone.empty());
  auto dot = ParseZoneSpec(".:acl:f");
  ASSERT_TRUE(dot.ok());
  EXPECT_TRUE(dot->zone.empty());
  EXPECT_FALSE(ParseZoneSpec(std::string(64, 'a') + ":ip4set:f").ok());
}

class LoadZonesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("meshbl_zones_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    Write("data", "1.2.3.4\nbogus\n");
    Write("acl", "127.0.0.1 :refuse\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  ZoneSpec Spec(const std::string& arg) {
    // Absolute paths: prefix every file with the test directory.
    auto s = ParseZoneSpec(arg);
    EXPECT_TRUE(s.ok()) << s.status();
    for (auto& f : s->files) f = (dir_ / f).string();
    return *s;
  }
  absl::Status Load(const std::vector<std::string>& args) {
    std::vector<ZoneSpec> specs;
    for (const auto& a : args) specs.push_back(Spec(a));
    return LoadZones(specs, {}, &snap_, &warnings_);
  }

  fs::path dir_;
  table::SnapshotBuilder snap_;
  std::vector<Diagnostic> warnings_;
};

TEST_F(LoadZonesTest, SharedDatasetLoadedOnce) {
  // §1 the same type:files string = the same dataset, loaded once
  ASSERT_TRUE(Load({"a.test:ip4set:data", "b.test:ip4set:data", "a.test:acl:acl"}).ok());
  EXPECT_EQ(warnings_.size(), 1u);  // `bogus` warned once, not per zone
  table::DatasetBuilder* ds = snap_.FindDataset("ip4set:data");
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(ds->entry_count(), 1u);
  EXPECT_NE(snap_.FindDataset("acl:acl"), nullptr);
}

TEST_F(LoadZonesTest, ZoneRules) {
  // §1 one acl per zone, one global acl, a zone with only an acl is an error
  absl::Status st = Load({"a.test:ip4set:data", "a.test:acl:acl", "a.test:acl:acl"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("repeated ACL definition"), std::string_view::npos);
}

TEST_F(LoadZonesTest, SecondGlobalAcl) {
  absl::Status st = Load({"a.test:ip4set:data", ":acl:acl", ":acl:acl"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("global acl specified more than once"), std::string_view::npos);
}

TEST_F(LoadZonesTest, ZoneWithOnlyAcl) {
  absl::Status st = Load({"a.test:ip4set:data", "b.test:acl:acl"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("missing data for zone `b.test'"), std::string_view::npos);
}

TEST_F(LoadZonesTest, GlobalAclAndFailingDataset) {
  ASSERT_TRUE(Load({":acl:acl", "a.test:ip4set:data"}).ok());
  absl::Status st = Load({"c.test:ip4set:missing"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("unable to open file"), std::string_view::npos);
}

}  // namespace
}  // namespace meshbl::zone
