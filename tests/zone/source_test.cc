// The one command-line source grammar (zone/source.h, issue 10 item 5):
// every form meshbld and `meshbl` take, and rbldnsd's messages for every bad
// spec, generated over every dataset type (and `snapshot`), every way to
// leave a part out, empty and trailing file separators and names that need
// escapes.
#include "meshbl/zone/source.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "meshbl/table/types.h"
#include "meshbl/zone/loader.h"

namespace meshbl::zone {
namespace {

using table::DatasetType;

// Every dataset type name rbldnsd knows, then meshbl's `snapshot`.
std::vector<std::string> TypeNames() {
  std::vector<std::string> names;
  for (std::uint32_t t = 0; t < 64; ++t) {
    const std::string_view n = table::DatasetTypeName(static_cast<DatasetType>(t));
    if (table::DatasetTypeFromName(n) == static_cast<DatasetType>(t)) names.emplace_back(n);
  }
  EXPECT_GE(names.size(), 9u);
  names.push_back("snapshot");
  return names;
}

// Files lists and the files they must give: empty pieces vanish (strtok on
// ',' and ':', as rbldnsd), whatever the type.
struct FileCase {
  std::string text;
  std::vector<std::string> files;
};
std::vector<FileCase> FileCases() {
  return {{"a", {"a"}},          {"a,b", {"a", "b"}},
          {"a:b", {"a", "b"}},   {"a,", {"a"}},
          {"a,,", {"a"}},        {",a", {"a"}},
          {"a,:b,", {"a", "b"}}, {"a.mbs,b.mbs,", {"a.mbs", "b.mbs"}}};
}

TEST(ParseSourceSpec, EveryTypeAcceptsEveryFileListLikeRbldnsd) {
  for (const std::string& type : TypeNames()) {
    for (const FileCase& f : FileCases()) {
      const std::string arg = "Bl.Example:" + type + ":" + f.text;
      SCOPED_TRACE(arg);
      auto s = ParseSourceSpec(arg);
      ASSERT_TRUE(s.ok()) << s.status();
      EXPECT_EQ(s->arg, arg);
      EXPECT_EQ(s->is_snapshot, type == "snapshot");
      if (s->is_snapshot) {
        EXPECT_EQ(s->snapshot_files, f.files);
        EXPECT_EQ(s->snapshot_zone, "Bl.Example");
        EXPECT_EQ(s->snapshot_zone_labels, std::string("\2bl\7example"));
      } else {
        EXPECT_EQ(s->text.files, f.files);
        EXPECT_EQ(s->text.zone, std::string("\2bl\7example"));
        EXPECT_EQ(table::DatasetTypeName(s->text.type), type);
        // The text form is exactly rbldnsd's zone spec.
        auto z = ParseZoneSpec(arg);
        ASSERT_TRUE(z.ok());
        EXPECT_EQ(z->dataset_spec, s->text.dataset_spec);
      }
    }
  }
}

TEST(ParseSourceSpec, BareSnapshotFileHasNoZoneName) {
  for (const std::string f : {"bl.mbs", "/var/lib/x/bl.mbs", "dir/a,b.mbs", "x.mbs.mbs"}) {
    auto s = ParseSourceSpec(f);
    ASSERT_TRUE(s.ok()) << f << ": " << s.status();
    EXPECT_TRUE(s->is_snapshot);
    EXPECT_EQ(s->snapshot_files, std::vector<std::string>{f});
    EXPECT_TRUE(s->snapshot_zone_labels.empty());
  }
  // An unnamed `:snapshot:` is a bare snapshot too; `.mbs` alone is no file.
  auto unnamed = ParseSourceSpec(":snapshot:a.mbs");
  ASSERT_TRUE(unnamed.ok());
  EXPECT_TRUE(unnamed->snapshot_zone_labels.empty());
  EXPECT_EQ(ParseSourceSpec(".mbs").status().message(), "invalid zone spec `.mbs'");
}

TEST(ParseSourceSpec, MissingPartsGiveRbldnsdMessages) {
  for (const std::string& type : TypeNames()) {
    SCOPED_TRACE(type);
    // No ':' at all; a type but no files part; every empty file list.
    EXPECT_EQ(ParseSourceSpec("bl").status().message(), "invalid zone spec `bl'");
    EXPECT_EQ(ParseSourceSpec("bl.txt").status().message(), "invalid zone spec `bl.txt'");
    EXPECT_EQ(ParseSourceSpec("bl:" + type).status().message(),
              "invalid zone data specification `" + type + "'");
    for (const std::string empty : {"", ",", ":", ",,", ",:,", "::"}) {
      EXPECT_EQ(ParseSourceSpec("bl:" + type + ":" + empty).status().message(),
                "missing filenames for " + type)
          << empty;
    }
  }
  EXPECT_EQ(ParseSourceSpec("").status().message(), "invalid zone spec `'");
  EXPECT_EQ(ParseSourceSpec(":").status().message(), "invalid zone data specification `'");
  EXPECT_EQ(ParseSourceSpec("::f").status().message(), "unknown dataset type `'");
  // A zone name is required for data (not for the global ACL or a snapshot).
  EXPECT_EQ(ParseSourceSpec(":ip4set:f").status().message(), "missing domain name in `:ip4set:f'");
  EXPECT_TRUE(ParseSourceSpec(":acl:f").ok());
  EXPECT_TRUE(ParseSourceSpec(":snapshot:f.mbs").ok());
}

TEST(ParseSourceSpec, UnknownTypesAreNamed) {
  // Near misses of every type: case, a letter more, a letter less.
  for (const std::string& type : TypeNames()) {
    std::string upper = type;
    for (char& c : upper) c = static_cast<char>(c - ('a' <= c && c <= 'z' ? 32 : 0));
    for (const std::string& bad : {type + "x", type.substr(1), upper}) {
      if (table::DatasetTypeFromName(bad) || bad == "snapshot") continue;
      EXPECT_EQ(ParseSourceSpec("bl:" + bad + ":f").status().message(),
                "unknown dataset type `" + bad + "'");
    }
  }
}

TEST(ParseSourceSpec, NamesNeedingEscapesParseOrFailTheSameForEveryType) {
  const std::string long_label(64, 'a');
  std::string long_name;
  while (long_name.size() < 260) long_name += "abcdefghi.";
  struct NameCase {
    std::string text;
    bool ok;
    std::string labels;  // when ok
  };
  const std::vector<NameCase> names = {
      {"a\\.b", true, std::string("\3a.b")},
      {"a\\058b", true, std::string("\3a:b")},  // a ':' in a label needs \058
      {"a\\044b", true, std::string("\3a,b")},
      {"A\\032B", true, std::string("\3a b")},
      {std::string(63, 'a'), true, "\x3f" + std::string(63, 'a')},
      {long_label, false, ""},
      {long_label + ".x", false, ""},
      {long_name, false, ""},
      {"a\\999b", false, ""},
  };
  for (const std::string& type : TypeNames()) {
    for (const NameCase& n : names) {
      const std::string arg = n.text + ":" + type + ":f";
      SCOPED_TRACE(arg);
      auto s = ParseSourceSpec(arg);
      ASSERT_EQ(s.ok(), n.ok) << s.status();
      if (!n.ok) {
        EXPECT_EQ(s.status().message(), "invalid domain name `" + n.text + "'");
        continue;
      }
      EXPECT_EQ(s->is_snapshot ? s->snapshot_zone_labels : s->text.zone, n.labels);
    }
  }
}

TEST(ParseSourceSpecs, FirstErrorWinsAndOrderIsKept) {
  auto ok = ParseSourceSpecs({"a:ip4set:f", "b.mbs", "c:snapshot:c.mbs"});
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[1].arg, "b.mbs");
  EXPECT_EQ(ParseSourceSpecs({"a:ip4set:f", "b", "c:x:f"}).status().message(),
            "invalid zone spec `b'");
}

}  // namespace
}  // namespace meshbl::zone
