// The dataset descriptor registry (dataset_type.h): every DatasetType has
// exactly one descriptor, names are distinct and map both ways, and what
// the descriptors say about tables is what the builder writes and
// Snapshot::Validate accepts.
#include "meshbl/table/dataset_type.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "meshbl/table/builder.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/snapshot.h"

namespace meshbl::table {
namespace {

// Every DatasetType. The switch makes the compiler (-Wswitch) point here
// when an enumerator is added without being listed.
constexpr bool Listed(DatasetType t) {
  switch (t) {
    case DatasetType::kIp4Set:
    case DatasetType::kIp4TSet:
    case DatasetType::kIp4Trie:
    case DatasetType::kIp6Trie:
    case DatasetType::kIp6TSet:
    case DatasetType::kDnSet:
    case DatasetType::kGeneric:
    case DatasetType::kCombined:
    case DatasetType::kAcl:
      return true;
  }
  return false;
}
constexpr DatasetType kAll[] = {
    DatasetType::kIp4Set,  DatasetType::kIp4TSet,  DatasetType::kIp4Trie,
    DatasetType::kIp6Trie, DatasetType::kIp6TSet,  DatasetType::kDnSet,
    DatasetType::kGeneric, DatasetType::kCombined, DatasetType::kAcl,
};

TEST(DatasetTypeRegistry, CoversEveryTypeExactlyOnceWithDistinctNames) {
  for (DatasetType t : kAll) ASSERT_TRUE(Listed(t));
  std::set<std::uint32_t> types;
  std::set<std::string> names;
  for (const DatasetTypeOps* ops : AllDatasetTypes()) {
    ASSERT_NE(ops, nullptr);
    EXPECT_TRUE(Listed(ops->type)) << ops->name;
    EXPECT_TRUE(types.insert(static_cast<std::uint32_t>(ops->type)).second) << ops->name;
    EXPECT_FALSE(ops->name.empty());
    EXPECT_TRUE(names.insert(std::string(ops->name)).second) << ops->name;
    EXPECT_NE(ops->write, nullptr) << ops->name;
  }
  EXPECT_EQ(types.size(), std::size(kAll));
  for (DatasetType t : kAll) {
    const DatasetTypeOps* ops = FindOps(static_cast<std::uint32_t>(t));
    ASSERT_NE(ops, nullptr) << static_cast<int>(t);
    EXPECT_EQ(&OpsFor(t), ops);
    EXPECT_EQ(ops->type, t);
    EXPECT_EQ(OpsByName(ops->name), ops);
    EXPECT_EQ(DatasetTypeFromName(ops->name), t);
    EXPECT_EQ(DatasetTypeName(t), ops->name);
  }
}

TEST(DatasetTypeRegistry, UnknownNumbersAndNamesFindNothing) {
  std::uint32_t known = 0;
  for (std::uint32_t v = 0; v < 4096; ++v) known += FindOps(v) != nullptr;
  EXPECT_EQ(known, std::size(kAll));
  EXPECT_EQ(FindOps(0), nullptr);
  EXPECT_EQ(FindOps(0xffffffff), nullptr);
  EXPECT_EQ(OpsFor(DatasetType{0}).name, "unknown");
  EXPECT_EQ(OpsFor(DatasetType{0}).write, nullptr);
  for (const char* name : {"", "ip4", "IP4SET", "ip4set ", "snapshot", "live", "unknown"}) {
    EXPECT_EQ(OpsByName(name), nullptr) << name;
    EXPECT_FALSE(DatasetTypeFromName(name).has_value()) << name;
  }
}

TEST(DatasetTypeRegistry, RulesTheSnapshotValidatorChecks) {
  for (const DatasetTypeOps* ops : AllDatasetTypes()) {
    // Only a type that holds children is not nestable by construction; acl
    // is a zone's ACL, never part of a combined dataset.
    if (ops->has_children) {
      EXPECT_FALSE(ops->nestable) << ops->name;
    }
    EXPECT_EQ(ops->nestable, ops->type != DatasetType::kCombined && ops->type != DatasetType::kAcl)
        << ops->name;
    // kCustom tables need the type's own check.
    bool custom = false;
    for (TableKind k : ops->tables) custom |= k == TableKind::kCustom;
    EXPECT_EQ(custom, ops->validate != nullptr) << ops->name;
    // Empty non-terminals: query.cc walks an IP summary for address data
    // and name hashes for name data, so each kind must build its own.
    const bool ip = ops->answer == AnswerKind::kIp4 || ops->answer == AnswerKind::kIp6;
    const bool names = ops->answer == AnswerKind::kName || ops->answer == AnswerKind::kRecords;
    EXPECT_EQ(ops->ent_summary != nullptr, ip) << ops->name;
    EXPECT_EQ(ops->ent_names != nullptr, names) << ops->name;
    EXPECT_EQ(ops->answer == AnswerKind::kSubZones, ops->has_children) << ops->name;
    // A type that answers is dumped; acl neither.
    EXPECT_EQ(ops->dump != nullptr, ip || names) << ops->name;
  }
}

// An empty dataset of every type builds an image that validates and whose
// view maps exactly the tables the descriptor declares.
TEST(DatasetTypeRegistry, EveryTypeBuildsAValidImage) {
  for (const DatasetTypeOps* ops : AllDatasetTypes()) {
    SnapshotBuilder sb;
    auto ds = std::make_unique<DatasetBuilder>(ops->type, std::string(ops->name) + ":f");
    Value v;
    switch (ops->type) {
      case DatasetType::kIp4Set:
        ds->AddIp4Range(0x0a000000, 0x0a0000ff, &v);
        break;
      case DatasetType::kIp4TSet:
        ds->AddIp4Host(0x0a000001);
        break;
      case DatasetType::kIp4Trie:
        ds->AddIp4Prefix(0x0a000000, 8, &v);
        break;
      case DatasetType::kIp6Trie:
        ds->AddIp6Prefix({0x20, 0x01, 0x0d, 0xb8}, 32, &v);
        break;
      case DatasetType::kIp6TSet:
        ds->AddIp6Net64(0x20010db800000000ULL);
        ds->AddIp6Excluded({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        break;
      case DatasetType::kDnSet:
        ds->AddName("\3foo", false, &v);
        ds->AddName("\3bar", true, &v);
        break;
      case DatasetType::kGeneric:
        ds->AddGenericRecord("\3foo", kTypeA, 60, std::string("\1\2\3\4", 4));
        break;
      case DatasetType::kCombined:
        ds->AddSubDataset(DatasetType::kDnSet, "\3sub")->AddName("\1x", false, &v);
        break;
      case DatasetType::kAcl:
        ds->AddAcl4(0x0a000000, 8, AclAction::kRefuse, nullptr);
        ds->AddAcl6({0x20, 0x01}, 16, AclAction::kIgnore, nullptr);
        break;
    }
    DatasetBuilder* p = sb.AdoptDataset(std::move(ds));
    sb.AddToZone(
        ops->type == DatasetType::kAcl ? std::string_view("\2bl") : std::string_view("\2bl\4test"),
        p);
    auto snap = Snapshot::FromImage(sb.Build(1700000000), ops->name.data());
    ASSERT_TRUE(snap.ok()) << ops->name << ": " << snap.status();
    const auto& rec = (*snap)->datasets()[0];
    EXPECT_EQ(rec.type, static_cast<std::uint32_t>(ops->type));
    // Declared tables may be absent (kNone) when empty; undeclared ones are.
    int declared = 0, used = 0;
    for (std::size_t t = 0; t < 4; ++t) {
      if (ops->tables[t] == TableKind::kUnused) {
        EXPECT_EQ(rec.tables[t], format::kNone) << ops->name << " table " << t;
      } else if (ops->tables[t] != TableKind::kCustom) {
        ++declared;
        used += rec.tables[t] != format::kNone;
      }
    }
    EXPECT_EQ(used > 0, declared > 0) << ops->name;
    DatasetView view(**snap, 0);
    EXPECT_EQ(view.answer_kind(), ops->answer) << ops->name;
    std::uint64_t mapped = view.table64().capacity + view.table128().capacity +
                           view.names().capacity + view.wildcards().capacity +
                           (view.records().empty() ? 0 : 1);
    for (int l = 0; l < 4; ++l) mapped += view.ip4_level(l).capacity;
    EXPECT_EQ(mapped > 0, used > 0) << ops->name;
    EXPECT_EQ((*snap)->DatasetBytes(0) > 0, used > 0) << ops->name;
  }
}

}  // namespace
}  // namespace meshbl::table
