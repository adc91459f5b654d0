// combined (reference/rbldnsd.md §4.8): `$DATASET` sub-datasets under
// sub-zones of the combined zone. The dataset's tables are not sections:
// tables[kTableSubZones] is the first of its SubZoneRecs and tables[1] their
// count; each SubZoneRec names a range of child datasets in the directory
// (written right after this one, most specific sub-zone first). Answering
// (query.cc) and dumping (dump.cc) recurse into the children; ZoneSet::
// Create makes their nodes.
#include <algorithm>

#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/dataset_type.h"
#include "meshbl/table/snapshot.h"
#include "table/image_writer.h"
#include "table/types/types.h"

namespace meshbl::table {
namespace {

void Write(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t index,
           const std::vector<std::uint32_t>&, f::DatasetRec* r) {
  // Children get indices after this record; most specific subzone first.
  std::vector<const std::remove_reference_t<decltype(BuilderAccess::subzones(ds))>::value_type*>
      subs;
  for (const auto& s : BuilderAccess::subzones(ds)) subs.push_back(&s);
  std::stable_sort(subs.begin(), subs.end(),
                   [](const auto* a, const auto* b) { return a->name.size() > b->name.size(); });
  auto sub_first = static_cast<std::uint32_t>(w.mutable_subzones().size());
  w.mutable_subzones().resize(w.mutable_subzones().size() + subs.size());
  for (std::size_t k = 0; k < subs.size(); ++k) {
    f::SubZoneRec sz{};
    sz.name = w.image().Str(subs[k]->name);
    sz.labels = static_cast<std::uint32_t>(dns::CountLabels(LabelBytes(subs[k]->name)));
    sz.first = w.dataset_count();
    for (const auto& child : subs[k]->datasets) w.Write(*child, index);
    sz.count = w.dataset_count() - sz.first;
    w.mutable_subzones()[sub_first + k] = sz;
  }
  // Sub-zone ranges of this dataset: [sub_first, sub_first + n) encoded
  // in the pool as (first, count).
  r->tables[f::kTableSubZones] = sub_first;
  r->tables[f::kTableSecond] = static_cast<std::uint32_t>(subs.size());
}

std::string_view Validate(const Snapshot& snap, std::uint32_t i) {
  const f::DatasetRec& d = snap.datasets()[i];
  const auto nds = static_cast<std::uint32_t>(snap.datasets().size());
  const auto subzones = snap.subzones();
  std::uint32_t first = d.tables[0], n = d.tables[1];
  if (first > subzones.size() || n > subzones.size() - first) return "bad sub-zone range";
  for (std::uint32_t k = first; k < first + n; ++k) {
    const auto& sz = subzones[k];
    if (sz.first > nds || sz.count > nds - sz.first || (sz.count && sz.first <= i)) {
      return "bad sub-zone datasets";
    }
    for (std::uint32_t c = sz.first; c < sz.first + sz.count; ++c) {
      if (snap.datasets()[c].parent != i) return "bad sub-zone child";
    }
  }
  return {};
}

}  // namespace

constinit const DatasetTypeOps kCombinedOps = {
    .type = DatasetType::kCombined,
    .name = "combined",
    .answer = AnswerKind::kSubZones,
    .tables = {TableKind::kCustom, TableKind::kCustom, TableKind::kCustom, TableKind::kCustom},
    .nestable = false,
    .has_children = true,
    .validate = Validate,
    .write = Write,
};

}  // namespace meshbl::table
