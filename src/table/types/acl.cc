// acl (reference/rbldnsd.md §4.9): client prefixes and their actions, IPv4
// in a Slot64 table and IPv6 in a Slot128 table; a slot's word is
// (value id << 3) | AclAction. Never a child of a combined dataset, never
// answers or dumps anything itself: it is a zone's (or the global) ACL.
// Lookups: DatasetView::LookupAcl4 / LookupAcl6 (lookup.cc).
#include "meshbl/table/builder.h"
#include "meshbl/table/dataset_type.h"
#include "table/image_writer.h"
#include "table/types/types.h"

namespace meshbl::table {
namespace {

void Write(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t,
           const std::vector<std::uint32_t>& m, f::DatasetRec* r) {
  w.WritePrefixes(ds, m, /*acl=*/true, r);
}

}  // namespace

constinit const DatasetTypeOps kAclOps = {
    .type = DatasetType::kAcl,
    .name = "acl",
    .tables = {TableKind::kSlot64, TableKind::kSlot128, TableKind::kUnused, TableKind::kUnused},
    .ip6_prefix_lengths = true,
    .nestable = false,
    .write = Write,
};

}  // namespace meshbl::table
