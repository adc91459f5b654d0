// ip4set (reference/rbldnsd.md §4.1): IPv4 ranges split into /32, /24, /16
// and /8 blocks, four Slot32 tables; the first level with an entry decides.
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
           const std::vector<std::uint32_t>& m, f::DatasetRec* r) {
  const auto& levels = BuilderAccess::ip4_levels(ds);
  for (int l = 0; l < 4; ++l) r->tables[l] = w.WriteIp4Level(levels[l].keys, levels[l].runs, m);
}

bool Ent(const DatasetView& v, const std::atomic<bool>* stop, EntSummary* e) {
  return ent::SumIp4Levels(v, 4, stop, e);
}

void Dump(DumpWriter& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  IpBlocks blocks(false);
  for (int l = 0; l < 4; ++l) {
    ForEachSlot(v.ip4_level(l),
                [&](const f::Slot32& s) { blocks.Add(U128{s.key} << 96, 32 - 8 * l, s.val); });
  }
  blocks.FixAndWrite(out, ds);
}

}  // namespace

constinit const DatasetTypeOps kIp4SetOps = {
    .type = DatasetType::kIp4Set,
    .name = "ip4set",
    .answer = AnswerKind::kIp4,
    .tables = {TableKind::kSlot32, TableKind::kSlot32, TableKind::kSlot32, TableKind::kSlot32},
    .write = Write,
    .ent_summary = Ent,
    .dump = Dump,
};

}  // namespace meshbl::table
