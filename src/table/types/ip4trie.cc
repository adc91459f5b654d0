// ip4trie (reference/rbldnsd.md §4.3): IPv4 prefixes in one Slot64 table
// keyed by len << 32 | prefix, plus a mask of the lengths present
// (DatasetRec::lens4); the longest prefix decides.
// Lookups: DatasetView::LookupIp4 (lookup.cc).
#include "meshbl/table/builder.h"
#include "meshbl/table/dataset_type.h"
#include "table/dump_util.h"
#include "table/ent_build.h"
#include "table/image_writer.h"
#include "table/types/types.h"

namespace meshbl::table {
namespace {

bool Ent(const DatasetView& v, const std::atomic<bool>* stop, EntSummary* e) {
  ent::Ip4Summer sum;
  const auto t = v.table64();
  for (std::uint64_t i = 0; i < t.capacity; ++i) {
    if (ent::Stopped(i, stop)) return false;
    const f::Slot64& s = t.slots[i];
    if (!ent::ListedWord(s.val)) continue;
    const auto len = static_cast<unsigned>(s.key >> 32);
    if (len <= 32) sum.Add(static_cast<std::uint32_t>(s.key), len);
  }
  sum.Finish(e);
  return true;
}

void Dump(DumpWriter& out, const DsNode& ds) {
  IpBlocks blocks(false);
  ForEachSlot(ds.view.table64(), [&](const f::Slot64& s) {
    blocks.Add(U128{static_cast<std::uint32_t>(s.key)} << 96, static_cast<int>(s.key >> 32), s.val);
  });
  blocks.FixAndWrite(out, ds);
}

}  // namespace

constinit const DatasetTypeOps kIp4TrieOps = {
    .type = DatasetType::kIp4Trie,
    .name = "ip4trie",
    .answer = AnswerKind::kIp4,
    .tables = {TableKind::kSlot64, TableKind::kUnused, TableKind::kUnused, TableKind::kUnused},
    .write = WriteTriePrefixes,
    .ent_summary = Ent,
    .dump = Dump,
};

}  // namespace meshbl::table
