// ip6tset (reference/rbldnsd.md §4.5): listed /64 networks in a Slot64
// table and excluded /128 addresses in a Slot128 table, one value for the
// whole dataset (DatasetRec::dataset_value).
// Lookups: DatasetView::LookupIp6 (lookup.cc).
#include <algorithm>

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
  ImageWriter& img = w.image();
  std::vector<std::uint64_t> nets = BuilderAccess::nets64(ds);
  std::sort(nets.begin(), nets.end());
  nets.erase(std::unique(nets.begin(), nets.end()), nets.end());
  if (!nets.empty()) {
    std::uint32_t idx;
    auto t = img.ReserveTable<f::Slot64>(nets.size(), &idx);
    for (auto key : nets) {
      std::uint64_t i = SlotFor(t, Bucket(Hash64(key), t.capacity), kNeverSame);
      t.slots[i] = {key, 0, 0};
    }
    img.SetTableCount(idx, nets.size());
    r->tables[f::kTableMain] = idx;
  }
  auto excl = BuilderAccess::excluded128(ds);
  std::sort(excl.begin(), excl.end());
  excl.erase(std::unique(excl.begin(), excl.end()), excl.end());
  if (!excl.empty()) {
    std::uint32_t idx;
    auto t = img.ReserveTable<f::Slot128>(excl.size(), &idx);
    for (const auto& a : excl) {
      std::uint64_t hi = Half(a, 0), lo = Half(a, 1);
      std::uint64_t i = SlotFor(t, Bucket(Hash128(hi, lo, 128), t.capacity), kNeverSame);
      t.slots[i] = {hi, lo, 128, f::kExcluded};
    }
    img.SetTableCount(idx, excl.size());
    r->tables[f::kTableSecond] = idx;
  }
}

bool Ent(const DatasetView& v, const std::atomic<bool>* stop, EntSummary* e) {
  const auto t = v.table64();
  for (std::uint64_t i = 0; i < t.capacity; ++i) {
    if (ent::Stopped(i, stop)) return false;
    if (t.slots[i].val != f::kEmptySlot) e->nets6.push_back({t.slots[i].key, 0, 64});
  }
  return true;
}

void Dump(DumpWriter& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  IpBlocks blocks(true);
  ForEachSlot(v.table64(), [&](const f::Slot64& s) {
    blocks.Add(U128{s.key} << 64, 64, v.rec().dataset_value);
  });
  // Exclusions matter only inside a listed /64.
  ForEachSlot(v.table128(), [&](const f::Slot128& s) {
    const U128 a = U128{s.hi} << 64 | s.lo;
    if (blocks.Has(a, 64)) blocks.Add(a, 128, f::kExcluded);
  });
  blocks.FixAndWrite(out, ds);
}

}  // namespace

constinit const DatasetTypeOps kIp6TSetOps = {
    .type = DatasetType::kIp6TSet,
    .name = "ip6tset",
    .answer = AnswerKind::kIp6,
    .tables = {TableKind::kSlot64, TableKind::kSlot128, TableKind::kUnused, TableKind::kUnused},
    .write = Write,
    .ent_summary = Ent,
    .dump = Dump,
};

}  // namespace meshbl::table
