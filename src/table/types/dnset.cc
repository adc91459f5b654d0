// dnset (reference/rbldnsd.md §4.6): domain names in two SlotName tables,
// plain names and wildcard bases (`*.name`), plus a mask of the label counts
// of the wildcard bases (DatasetRec::lens6); exact first, then parents,
// longest first. Lookups: DatasetView::LookupName / LookupNameBatch
// (lookup.cc).
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/dataset_type.h"
#include "table/dump_util.h"
#include "table/ent_build.h"
#include "table/image_writer.h"
#include "table/types/types.h"

namespace meshbl::table {
namespace {

// One name table: the plain names (`wildcard` false) or the wildcard bases.
std::uint32_t WriteNames(DatasetWriter& dw, const DatasetBuilder& ds, bool wildcard,
                         const std::vector<std::uint32_t>& m) {
  ImageWriter& w_ = dw.image();
  const auto& names = BuilderAccess::names(ds);
  std::size_t n = 0;
  for (const auto& e : names) n += e.wildcard == wildcard;
  if (n == 0) return f::kNone;
  // Intern names first: Str() may not move the table's memory, but keep the
  // table fill free of other allocations anyway.
  std::vector<std::uint32_t> refs;
  refs.reserve(names.size());
  for (const auto& e : names)
    refs.push_back(e.wildcard == wildcard ? w_.Str(BuilderAccess::Name(ds, e)) : 0);
  std::uint32_t idx;
  auto t = w_.ReserveTable<f::SlotName>(n, &idx);
  f::SlotName* slots = t.slots;
  MultiValue multi(w_);
  std::uint64_t count = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const auto& e = names[k];
    if (e.wildcard != wildcard) continue;
    const std::string_view name = BuilderAccess::Name(ds, e);
    std::uint64_t h = HashName(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(name.data()), name.size()));
    auto fp = static_cast<std::uint32_t>(h);
    std::uint64_t i =
        SlotFor(t, Bucket(static_cast<std::uint32_t>(h >> 32), t.capacity),
                [&](const f::SlotName& x) { return x.fp == fp && x.name == refs[k]; });
    count += multi.Place(i, slots[i],
                         f::SlotName{fp, refs[k], DatasetWriter::MapWord(m, e.value),
                                     static_cast<std::uint32_t>(name.size())});
  }
  multi.Flush([&](std::uint64_t s, std::uint32_t word) { slots[s].val = word; });
  w_.SetTableCount(idx, count);
  return idx;
}

void Write(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t,
           const std::vector<std::uint32_t>& m, f::DatasetRec* r) {
  r->tables[f::kTableMain] = WriteNames(w, ds, false, m);
  r->tables[f::kTableSecond] = WriteNames(w, ds, true, m);
  for (const auto& e : BuilderAccess::names(ds)) {
    if (!e.wildcard) continue;
    const std::string_view name = BuilderAccess::Name(ds, e);
    auto labels = static_cast<unsigned>(dns::CountLabels(LabelBytes(name)));
    r->lens6[labels / 64] |= 1ULL << (labels % 64);
  }
}

// Every proper parent of a listed name, and a listed wildcard base itself
// (names exist below it).
void EntNames(const Snapshot& snap, const f::DatasetRec& r, std::vector<std::uint64_t>* out) {
  ent::ForEachName(snap, r.tables[f::kTableMain], [&](auto name, std::uint32_t val) {
    if (val != f::kExcluded) ent::AddParents(name, false, out);
  });
  ent::ForEachName(snap, r.tables[f::kTableSecond], [&](auto name, std::uint32_t val) {
    if (val != f::kExcluded) ent::AddParents(name, true, out);
  });
}

void Dump(DumpWriter& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  const Snapshot& snap = v.snapshot();
  absl::flat_hash_map<std::string_view, std::uint32_t> plain, wild;
  ForEachSlot(v.names(), [&](const f::SlotName& s) { plain[snap.String(s.name)] = s.val; });
  ForEachSlot(v.wildcards(), [&](const f::SlotName& s) {
    std::string_view base = snap.String(s.name);
    if (!base.empty()) wild[base] = s.val;  // an apex wildcard never matches (§4.6)
  });

  // The wildcard base that decides for names below `name`: the longest
  // proper ancestor that is a base (rbldnsd §4.6), listed or excluded.
  auto deciding_base = [&](std::string_view name) {
    const std::pair<const std::string_view, std::uint32_t>* base = nullptr;
    ForEachAncestor(name, [&](std::string_view a) {
      auto it = wild.find(a);
      if (it == wild.end()) return true;
      base = &*it;
      return false;
    });
    return base;
  };
  auto reached = [&](std::string_view name) {
    const auto* base = deciding_base(name);
    return base != nullptr && base->second != f::kExcluded;
  };

  struct Entry {
    std::string key;
    std::string_view name;
    bool wildcard;
    std::uint32_t word;
    std::string_view subject;  // label sequence `$` stands for
  };
  std::vector<Entry> entries;
  std::size_t literal_stars = 0;
  // An exclusion no listed wildcard reaches changes no answer: it is left out
  // (as `CNAME excluded` it would make its parents exist). A plain one at a
  // wildcard base stays: the base exists in the file anyway.
  for (const auto& [name, word] : plain) {
    if (word == f::kExcluded && !reached(name) && !wild.contains(name)) continue;
    // A leftmost `*` label is a wildcard in DNS, never a literal name (RFC
    // 4592 §2.1.1): such an entry cannot be written.
    if (name.size() >= 2 && name[0] == 1 && name[1] == '*') {
      ++literal_stars;
      continue;
    }
    entries.push_back({"", name, false, word, name});
  }
  for (const auto& [base, word] : wild) {
    if (word == f::kExcluded && !reached(base)) continue;
    entries.push_back({"", base, true, word, base});
  }

  // The names that exist in the master file: every entry and its ancestors.
  absl::flat_hash_set<std::string_view> nodes;
  for (const Entry& e : entries) {
    nodes.insert(e.name);
    ForEachAncestor(e.name, [&](std::string_view a) { return nodes.insert(a).second; });
  }
  // A name below a listed wildcard base that exists in the file stops the
  // wildcard (RFC 4592 §2.2): repeat the base's records at it (unless it is
  // listed itself) and as a wildcard below it (unless it is a base itself).
  for (std::string_view n : nodes) {
    const auto* base = deciding_base(n);
    if (base == nullptr || base->second == f::kExcluded) continue;
    if (!wild.contains(n)) entries.push_back({"", n, true, base->second, base->first});
    if (!plain.contains(n)) entries.push_back({"", n, false, base->second, base->first});
  }
  if (literal_stars > 0) {
    absl::StrAppend(&out.text(), "; ", literal_stars,
                    " entries named \"*...\" left out: a leftmost * label is a wildcard in DNS "
                    "(RFC 4592)\n");
  }

  for (Entry& e : entries) {
    e.key = CanonicalKey(e.name);
    if (e.wildcard) e.key.append("*", 2);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  for (const Entry& e : entries) {
    std::string owner = e.wildcard ? "*." : "";
    AppendName(&owner, AsBytes(e.name));
    std::string subject;
    AppendName(&subject, AsBytes(e.subject));
    AppendListing(&out.text(), ds, owner, e.word, subject);
    out.MaybeFlush();
  }
}

}  // namespace

constinit const DatasetTypeOps kDnSetOps = {
    .type = DatasetType::kDnSet,
    .name = "dnset",
    .answer = AnswerKind::kName,
    .tables = {TableKind::kSlotName, TableKind::kSlotName, TableKind::kUnused, TableKind::kUnused},
    .write = Write,
    .ent_names = EntNames,
    .dump = Dump,
};

}  // namespace meshbl::table
