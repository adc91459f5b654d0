// ip6trie (reference/rbldnsd.md §4.4): IPv6 prefixes in one Slot128 table
// (hi, lo, len), plus a mask of the lengths present (DatasetRec::lens6);
// the longest prefix decides. Lookups: DatasetView::LookupIp6 (lookup.cc).
#include "meshbl/table/builder.h"
#include "meshbl/table/dataset_type.h"
#include "table/dump_util.h"
#include "table/ent_build.h"
#include "table/image_writer.h"
#include "table/types/types.h"

namespace meshbl::table {
namespace {

bool Ent(const DatasetView& v, const std::atomic<bool>* stop, EntSummary* e) {
  const auto t = v.table128();
  for (std::uint64_t i = 0; i < t.capacity; ++i) {
    if (ent::Stopped(i, stop)) return false;
    const f::Slot128& s = t.slots[i];
    if (ent::ListedWord(s.val) && s.len <= 128) e->nets6.push_back({s.hi, s.lo, s.len});
  }
  return true;
}

void Dump(DumpWriter& out, const DsNode& ds) {
  IpBlocks blocks(true);
  ForEachSlot(ds.view.table128(), [&](const f::Slot128& s) {
    blocks.Add(U128{s.hi} << 64 | s.lo, static_cast<int>(s.len), s.val);
  });
  blocks.FixAndWrite(out, ds);
}

}  // namespace

constinit const DatasetTypeOps kIp6TrieOps = {
    .type = DatasetType::kIp6Trie,
    .name = "ip6trie",
    .answer = AnswerKind::kIp6,
    .tables = {TableKind::kSlot128, TableKind::kUnused, TableKind::kUnused, TableKind::kUnused},
    .ip6_prefix_lengths = true,
    .write = WriteTriePrefixes,
    .ent_summary = Ent,
    .dump = Dump,
};

}  // namespace meshbl::table
