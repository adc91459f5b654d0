// The text parser registry (zone/type_parser.h): every dataset type the
// table layer describes has exactly one text parser, entered by the same
// DatasetType; each registered name is accepted where a user names a type
// (a zone spec, a `$DATASET` line) and every other name is refused there
// with "unknown dataset type `NAME'".
#include "zone/type_parser.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/dataset_type.h"
#include "meshbl/zone/loader.h"

namespace meshbl::zone {
namespace {

TEST(DatasetParserRegistry, EveryTableTypeHasExactlyOneParser) {
  std::set<std::uint32_t> seen;
  for (const DatasetParser* p : AllDatasetParsers()) {
    ASSERT_NE(p, nullptr);
    EXPECT_NE(table::FindOps(static_cast<std::uint32_t>(p->type)), nullptr)
        << static_cast<int>(p->type);
    EXPECT_TRUE(seen.insert(static_cast<std::uint32_t>(p->type)).second)
        << static_cast<int>(p->type);
    EXPECT_EQ(ParserFor(p->type), p);
  }
  for (const table::DatasetTypeOps* ops : table::AllDatasetTypes()) {
    const DatasetParser* p = ParserFor(ops->type);
    ASSERT_NE(p, nullptr) << ops->name;
    // Only combined reads no entry lines itself (they go to `$DATASET`s).
    EXPECT_EQ(p->parse_line == nullptr, ops->has_children) << ops->name;
  }
  EXPECT_EQ(seen.size(), table::AllDatasetTypes().size());
  EXPECT_EQ(ParserFor(table::DatasetType{0}), nullptr);
}

// Names near every registered one: case changed, one letter less or more,
// a blank added, and some that are not types at all.
std::vector<std::string> UnknownNames() {
  std::vector<std::string> out = {"", "x", "ip", "ip5set", "live", "keyset", "unknown", "-"};
  for (const table::DatasetTypeOps* ops : table::AllDatasetTypes()) {
    const std::string n(ops->name);
    out.push_back(absl::AsciiStrToUpper(n));
    out.push_back(n.substr(0, n.size() - 1));
    out.push_back(n + "s");
    out.push_back(n + " ");
    out.push_back(" " + n);
    out.push_back(n + "\t");
  }
  return out;
}

TEST(DatasetParserRegistry, ZoneSpecsAcceptEveryRegisteredNameAndRefuseOthers) {
  for (const table::DatasetTypeOps* ops : table::AllDatasetTypes()) {
    auto spec =
        ParseZoneSpec(absl::StrCat(ops->type == table::DatasetType::kAcl ? "" : "bl.example", ":",
                                   std::string(ops->name), ":f"));
    ASSERT_TRUE(spec.ok()) << ops->name << ": " << spec.status();
    EXPECT_EQ(spec->type, ops->type);
  }
  for (const std::string& name : UnknownNames()) {
    auto spec = ParseZoneSpec(absl::StrCat("bl.example:", name, ":f"));
    ASSERT_FALSE(spec.ok()) << "`" << name << "'";
    EXPECT_EQ(spec.status().message(), absl::StrCat("unknown dataset type `", name, "'"));
  }
}

TEST(DatasetParserRegistry, DatasetLinesAcceptNestableTypesAndRefuseOthers) {
  LoadOptions opt;
  opt.now = 2000000000;
  for (const table::DatasetTypeOps* ops : table::AllDatasetTypes()) {
    std::vector<SourceText> files = {
        {"c.txt", absl::StrCat("# combined\n$DATASET ", std::string(ops->name), " sub\n")}};
    auto loaded = LoadDatasetFromText(table::DatasetType::kCombined, "combined:c", files, opt);
    if (ops->nestable) {
      EXPECT_TRUE(loaded.ok()) << ops->name << ": " << loaded.status();
    } else {
      ASSERT_FALSE(loaded.ok()) << ops->name;
      EXPECT_EQ(loaded.status().message(),
                absl::StrCat("c.txt:2: dataset type `", std::string(ops->name),
                             "' cannot be used inside `combined'"));
    }
  }
  for (std::string name : UnknownNames()) {
    // `$DATASET` splits on blanks and drops a `:name` suffix.
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(std::min(name.size(), name.find_first_of(" \t:")));
    if (name.empty() || table::OpsByName(name) != nullptr) continue;
    std::vector<SourceText> files = {{"c.txt", absl::StrCat("$DATASET ", name, " sub\n")}};
    auto loaded = LoadDatasetFromText(table::DatasetType::kCombined, "combined:c", files, opt);
    ASSERT_FALSE(loaded.ok()) << name;
    EXPECT_EQ(loaded.status().message(),
              absl::StrCat("c.txt:1: unknown dataset type `", name, "'"));
  }
}

}  // namespace
}  // namespace meshbl::zone
