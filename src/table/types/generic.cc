// generic (reference/rbldnsd.md §4.7): records (type, ttl, rdata) grouped
// by name: a SlotName table whose slots point at a range of the dataset's
// records section. Lookups: DatasetView::LookupGeneric (lookup.cc).
#include <algorithm>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
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
  const auto& records = BuilderAccess::records(ds);
  // Group records by name, keeping file order within a name.
  std::vector<std::size_t> order(records.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return records[a].name < records[b].name; });
  std::vector<f::RecordRec> recs;
  std::vector<std::string_view> names;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& rr = records[order[k]];
    if (names.empty() || names.back() != rr.name) {
      names.push_back(rr.name);
      ranges.emplace_back(static_cast<std::uint32_t>(recs.size()), 0);
    }
    ++ranges.back().second;
    recs.push_back(
        {rr.type, static_cast<std::uint16_t>(rr.rdata.size()), rr.ttl, img.Str(rr.rdata)});
  }
  if (!names.empty()) {
    std::vector<std::uint32_t> refs;
    for (const auto& e : names) refs.push_back(img.Str(e));
    std::uint32_t idx;
    auto t = img.ReserveTable<f::SlotName>(names.size(), &idx);
    f::SlotName* slots = t.slots;
    for (std::size_t k = 0; k < names.size(); ++k) {
      const std::string_view nm = names[k];
      std::uint64_t h = HashName(std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t*>(nm.data()), nm.size()));
      std::uint64_t i =
          SlotFor(t, Bucket(static_cast<std::uint32_t>(h >> 32), t.capacity), kNeverSame);
      slots[i] = {static_cast<std::uint32_t>(h), refs[k], ranges[k].first, ranges[k].second};
    }
    img.SetTableCount(idx, names.size());
    r->tables[f::kTableMain] = idx;
  }
  r->tables[f::kTableSecond] = img.AddArray(f::SectionKind::kRecords, recs);
}

// Every proper parent of a stored name.
void EntNames(const Snapshot& snap, const f::DatasetRec& r, std::vector<std::uint64_t>* out) {
  ent::ForEachName(snap, r.tables[f::kTableMain],
                   [&](auto name, std::uint32_t) { ent::AddParents(name, false, out); });
}

void AppendRdata(std::string* out, std::uint16_t type, std::span<const std::uint8_t> rd) {
  switch (type) {
    case kTypeA:
      if (rd.size() == 4) {
        absl::StrAppend(out, "A\t", rd[0], ".", rd[1], ".", rd[2], ".", rd[3]);
        return;
      }
      break;
    case kTypeMx:
      if (rd.size() >= 3) {
        absl::StrAppend(out, "MX\t", (unsigned{rd[0]} << 8) | rd[1], "\t");
        const auto name = rd.subspan(2, rd.size() - 3);  // without the root label
        AppendAbsolute(out, name);
        return;
      }
      break;
    case kTypeTxt: {
      out->append("TXT\t");
      for (std::size_t i = 0; i < rd.size();) {
        const std::size_t n = rd[i];
        if (i + 1 + n > rd.size()) break;
        if (i > 0) out->push_back(' ');
        AppendQuoted(out, std::string_view(reinterpret_cast<const char*>(rd.data()) + i + 1, n));
        i += 1 + n;
      }
      return;
    }
    default:
      break;
  }
  // RFC 3597 form for anything else.
  absl::StrAppend(out, "TYPE", type, "\t\\# ", rd.size());
  if (!rd.empty()) out->push_back(' ');
  for (std::uint8_t b : rd) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", unsigned{b});
    out->append(buf);
  }
}

void Dump(DumpWriter& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  const Snapshot& snap = v.snapshot();
  std::vector<std::pair<std::string, const f::SlotName*>> names;
  ForEachSlot(v.names(), [&](const f::SlotName& s) {
    names.emplace_back(CanonicalKey(snap.String(s.name)), &s);
  });
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const auto records = v.records();
  for (const auto& [key, s] : names) {
    std::string& o = out.text();
    const std::uint64_t end =
        std::min<std::uint64_t>(std::uint64_t{s->val} + s->aux, records.size());
    // An answer gives every RR of a type the smallest TTL among them
    // (reference §5), which is also the one TTL an RRset has (RFC 2181 §5.2).
    absl::flat_hash_map<std::uint16_t, std::uint32_t> ttl;
    for (std::uint64_t i = s->val; i < end; ++i) {
      auto [it, inserted] = ttl.try_emplace(records[i].type, records[i].ttl);
      if (!inserted) it->second = std::min(it->second, records[i].ttl);
    }
    bool first = true;
    for (std::uint64_t i = s->val; i < end; ++i) {
      const f::RecordRec& r = records[i];
      const auto rd = snap.Bytes(r.rdata);
      if (rd.size() != r.rdlen) continue;
      absl::StrAppend(&o, first ? OwnerText(snap.Bytes(s->name)) : "", "\t", ttl[r.type], "\t");
      AppendRdata(&o, r.type, rd);
      o.push_back('\n');
      first = false;
    }
    out.MaybeFlush();
  }
}

}  // namespace

constinit const DatasetTypeOps kGenericOps = {
    .type = DatasetType::kGeneric,
    .name = "generic",
    .answer = AnswerKind::kRecords,
    .tables = {TableKind::kSlotName, TableKind::kRecords, TableKind::kUnused, TableKind::kUnused},
    .write = Write,
    .ent_names = EntNames,
    .dump = Dump,
};

}  // namespace meshbl::table
