// ip4tset (reference/rbldnsd.md §4.2): exact /32 addresses in one Slot32
// table, one value for the whole dataset (DatasetRec::dataset_value).
// Lookups: DatasetView::LookupIp4 / LookupIp4Batch (lookup.cc).
#include "meshbl/table/builder.h"
#include "meshbl/table/dataset_type.h"
#include "table/dump_util.h"
#include "table/ent_build.h"
#include "table/image_writer.h"
#include "table/types/types.h"

namespace meshbl::table {
namespace {

void Write(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t,
           const std::vector<std::uint32_t>&, f::DatasetRec* r) {
  static constexpr std::pair<std::uint32_t, std::uint32_t> kOneRun[] = {{0, 0}};
  r->tables[f::kTableMain] = w.WriteIp4Level(BuilderAccess::ip4_hosts(ds), kOneRun, {0});
}

bool Ent(const DatasetView& v, const std::atomic<bool>* stop, EntSummary* e) {
  return ent::SumIp4Levels(v, 1, stop, e);
}

void Dump(DumpWriter& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  IpBlocks blocks(false);
  ForEachSlot(v.ip4_level(0), [&](const f::Slot32& s) {
    blocks.Add(U128{s.key} << 96, 32, v.rec().dataset_value);
  });
  blocks.FixAndWrite(out, ds);
}

}  // namespace

constinit const DatasetTypeOps kIp4TSetOps = {
    .type = DatasetType::kIp4TSet,
    .name = "ip4tset",
    .answer = AnswerKind::kIp4,
    .tables = {TableKind::kSlot32, TableKind::kUnused, TableKind::kUnused, TableKind::kUnused},
    .write = Write,
    .ent_summary = Ent,
    .dump = Dump,
};

}  // namespace meshbl::table
