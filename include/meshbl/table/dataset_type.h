// The dataset descriptor: what the table layer does differently for each
// dataset type, described once per type.
//
// Each type has one file, src/table/types/<type>.cc, that defines its
// DatasetTypeOps (its name, what its four DatasetRec::tables slots refer to,
// how the builder writes its tables into an image, how a ZoneSet summarises
// its empty non-terminals, how `meshbl dump` writes it as BIND text), and one
// line in the registration array of src/table/dataset_type.cc. Snapshot::
// Validate, DatasetView, SnapshotBuilder, ZoneSet::Create and DumpZones go
// through the descriptor instead of switching on the type. The rbldnsd text
// parser of each type lives in the zone layer (src/zone/types/<type>.cc),
// registered by the same DatasetType. See docs/ARCHITECTURE.md, "How to add
// a dataset type".
//
// The descriptors are constant data with static storage: OpsFor and
// FindOps allocate nothing, take no lock and may be called from any thread.
// The function pointers are control plane (loading, building, ZoneSet::
// Create, dumping); the per-query answer path does not call through them.
#ifndef MESHBL_TABLE_DATASET_TYPE_H_
#define MESHBL_TABLE_DATASET_TYPE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "meshbl/table/format.h"
#include "meshbl/table/types.h"

namespace meshbl::table {

class DatasetBuilder;
class DatasetView;
class DatasetWriter;
class DumpWriter;
class Snapshot;
struct DsNode;
struct EntSummary;

// What one entry of DatasetRec::tables refers to.
enum class TableKind : std::uint8_t {
  kUnused,    // must be format::kNone
  kSlot32,    // a kTable section of format::Slot32
  kSlot64,    // ... of format::Slot64
  kSlot128,   // ... of format::Slot128
  kSlotName,  // ... of format::SlotName
  kRecords,   // a kRecords section (generic)
  kCustom,    // not a section index: the type's `validate` checks it
};

// How a query reaches a type's data. The answer path (query.cc: answering,
// empty non-terminals) and the query generator of `meshbl bench` switch on
// this, never on the DatasetType, so a type that is asked like an existing
// one needs no change there; DatasetView caches it (answer_kind()).
enum class AnswerKind : std::uint8_t {
  kNone,      // answers nothing itself (acl: a zone's ACL)
  kIp4,       // an IPv4 address query: DatasetView::LookupIp4
  kIp6,       // an IPv6 address query: DatasetView::LookupIp6
  kName,      // a domain name query: DatasetView::LookupName
  kRecords,   // records stored at a name: DatasetView::LookupGeneric
  kSubZones,  // nested datasets under sub-zones (combined)
};

// Every member but `type` and `name` has a default: a type sets what it
// has.
struct DatasetTypeOps {
  DatasetType type;
  // The name on command lines, in `$DATASET` lines and in messages.
  std::string_view name;
  AnswerKind answer = AnswerKind::kNone;
  // What each DatasetRec::tables entry refers to. Snapshot::Validate checks
  // every entry against it; DatasetView maps the tables from it (the first
  // kSlotName entry is names(), the second wildcards()).
  std::array<TableKind, 4> tables = {TableKind::kUnused, TableKind::kUnused, TableKind::kUnused,
                                     TableKind::kUnused};
  // DatasetView precomputes the IPv6 prefix lengths present (lens6).
  bool ip6_prefix_lengths = false;
  // May be a child of a combined dataset (every type but combined and acl).
  bool nestable = true;
  // Holds child datasets (combined).
  bool has_children = false;

  // Snapshot::Validate, for a type with kCustom tables: checks dataset
  // `index` of `snap` (whose datasets, sub-zones and sections are already
  // set). Returns an empty string when valid, else the reason (a literal).
  std::string_view (*validate)(const Snapshot& snap, std::uint32_t index) = nullptr;
  // SnapshotBuilder::Build: writes the type's tables into the image and
  // sets `rec`'s tables and length masks. `values` maps the builder's value
  // indices to image value ids; `index` is the dataset's own index.
  void (*write)(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t index,
                const std::vector<std::uint32_t>& values, format::DatasetRec* rec) = nullptr;
  // ZoneSet::Create, IP types only (nullptr otherwise): adds every listed
  // entry of `v` to the empty non-terminal summary `e`. Returns false when
  // `*stop` was seen set (the summary is then unusable).
  bool (*ent_summary)(const DatasetView& v, const std::atomic<bool>* stop, EntSummary* e) = nullptr;
  // ZoneSet::Create, name types only (nullptr otherwise): appends the name
  // hashes (flat_table.h HashName) of every empty non-terminal of dataset
  // `rec` of `snap`; the caller sorts and deduplicates.
  void (*ent_names)(const Snapshot& snap, const format::DatasetRec& rec,
                    std::vector<std::uint64_t>* out) = nullptr;
  // DumpZones: writes the dataset's entries as BIND text (nullptr: nothing,
  // as for acl). Called after the `$TTL` line.
  void (*dump)(DumpWriter& out, const DsNode& ds) = nullptr;
};

// Every registered type, in DatasetType order.
std::span<const DatasetTypeOps* const> AllDatasetTypes() noexcept;
// The descriptor of the raw type number `type`, or nullptr when no type has
// it (only a hostile or newer image has one).
const DatasetTypeOps* FindOps(std::uint32_t type) noexcept;
// The descriptor of `type`; an unregistered value gets a descriptor named
// "unknown" whose tables are all kCustom and whose functions are nullptr.
const DatasetTypeOps& OpsFor(DatasetType type) noexcept;
// The descriptor named `name` ("ip4set" etc.), or nullptr.
const DatasetTypeOps* OpsByName(std::string_view name) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_DATASET_TYPE_H_
