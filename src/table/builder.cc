#include "meshbl/table/builder.h"

#include <malloc.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/dataset_type.h"
#include "meshbl/table/format.h"
#include "meshbl/table/ip_text.h"
#include "table/flat_table.h"
#include "table/image_writer.h"

namespace meshbl::table {

// ---------------------------------------------------------------------------
// DatasetBuilder

DatasetBuilder::DatasetBuilder(DatasetType type, std::string spec)
    : type_(type), spec_(std::move(spec)) {}

bool DatasetBuilder::SetSoa(SoaData soa) {
  if (has_soa_) return false;
  has_soa_ = true;
  soa_ = std::move(soa);
  return true;
}

bool DatasetBuilder::SetNs(NsData ns) {
  if (has_ns_) return false;
  has_ns_ = true;
  ns_ = std::move(ns);
  return true;
}

bool DatasetBuilder::SetVariable(int digit, std::string text) {
  if (digit < 0 || digit > 9 || vars_[static_cast<std::size_t>(digit)]) return false;
  vars_[static_cast<std::size_t>(digit)] = std::move(text);
  return true;
}

bool DatasetBuilder::SetBaseTemplate(std::string text) {
  if (base_template_) return false;
  base_template_ = std::move(text);
  return true;
}

void DatasetBuilder::SetExpires(std::int64_t expires) {
  if (expires != 0 && (expires_ == 0 || expires < expires_)) expires_ = expires;
}

std::uint32_t DatasetBuilder::InternValue(const Value* v) {
  if (v == nullptr) return kExcluded;
  // Fast path: consecutive entries usually share the scope default.
  if (last_value_ < values_.size() && values_[last_value_] == *v) return last_value_;
  std::string key = absl::StrCat(v->a, v->txt ? "+" : "-", v->txt.value_or(""));
  auto [it, inserted] = value_ids_.try_emplace(key, static_cast<std::uint32_t>(values_.size()));
  if (inserted) values_.push_back(*v);
  last_value_ = it->second;
  return it->second;
}

void DatasetBuilder::AddIp4Range(std::uint32_t first, std::uint32_t last, const Value* v) {
  std::uint32_t val = InternValue(v);
  std::uint64_t a = first;
  const std::uint64_t end = last;
  while (a <= end) {
    int level = 0;  // 0: /32, 1: /24, 2: /16, 3: /8
    for (int l = 3; l >= 1; --l) {
      std::uint64_t span = 1ULL << (8 * l);
      if ((a & (span - 1)) == 0 && a + span - 1 <= end) {
        level = l;
        break;
      }
    }
    ip4_levels_[level].Add(static_cast<std::uint32_t>(a), val);
    ++entry_count_;
    a += 1ULL << (8 * level);
  }
}

void DatasetBuilder::ReserveEntries(std::uint64_t n) {
  switch (type_) {
    case DatasetType::kIp4Set:
      ip4_levels_[0].keys.reserve(ip4_levels_[0].keys.size() + n);
      break;
    case DatasetType::kIp4TSet:
      ip4_hosts_.reserve(ip4_hosts_.size() + n);
      break;
    case DatasetType::kDnSet:
      names_.reserve(names_.size() + n);
      name_text_.reserve(name_text_.size() + n * 12);  // n comes from bytes / 12
      break;
    default:
      break;
  }
}

void DatasetBuilder::AddIp4Host(std::uint32_t addr) {
  ip4_hosts_.push_back(addr);
  ++entry_count_;
}

namespace {

std::string PrefixKey(char family, const std::array<std::uint8_t, 16>& addr, int len) {
  std::string k(1, family);
  k.append(reinterpret_cast<const char*>(addr.data()), 16);
  k.push_back(static_cast<char>(len));
  return k;
}

std::array<std::uint8_t, 16> Ip4Bytes(std::uint32_t addr) {
  std::array<std::uint8_t, 16> b{};
  b[0] = static_cast<std::uint8_t>(addr >> 24);
  b[1] = static_cast<std::uint8_t>(addr >> 16);
  b[2] = static_cast<std::uint8_t>(addr >> 8);
  b[3] = static_cast<std::uint8_t>(addr);
  return b;
}

}  // namespace

bool DatasetBuilder::AddIp4Prefix(std::uint32_t addr, int len, const Value* v) {
  auto bytes = Ip4Bytes(addr);
  if (!seen_prefixes_.insert(PrefixKey('4', bytes, len)).second) return false;
  prefixes4_.push_back({bytes, static_cast<std::uint8_t>(len), InternValue(v), 0});
  ++entry_count_;
  return true;
}

bool DatasetBuilder::AddIp6Prefix(const std::array<std::uint8_t, 16>& addr, int len,
                                  const Value* v) {
  if (!seen_prefixes_.insert(PrefixKey('6', addr, len)).second) return false;
  prefixes6_.push_back({addr, static_cast<std::uint8_t>(len), InternValue(v), 0});
  ++entry_count_;
  return true;
}

void DatasetBuilder::AddIp6Net64(std::uint64_t net) {
  nets64_.push_back(net);
  ++entry_count_;
}

void DatasetBuilder::AddIp6Excluded(const std::array<std::uint8_t, 16>& addr) {
  excluded128_.push_back(addr);
  ++entry_count_;
}

void DatasetBuilder::AddName(std::string_view name, bool wildcard, const Value* v) {
  names_.push_back(
      {name_text_.size(), InternValue(v), static_cast<std::uint16_t>(name.size()), wildcard});
  name_text_.append(name);
  ++entry_count_;
}

void DatasetBuilder::AddGenericRecord(std::string_view name, std::uint16_t type, std::uint32_t ttl,
                                      std::string rdata) {
  records_.push_back({std::string(name), type, ttl, std::move(rdata)});
  ++entry_count_;
}

bool DatasetBuilder::AddAcl4(std::uint32_t addr, int len, AclAction action, const Value* v) {
  auto bytes = Ip4Bytes(addr);
  if (!seen_prefixes_.insert(PrefixKey('4', bytes, len)).second) return false;
  std::uint32_t vid = action == AclAction::kAlways ? InternValue(v) : 0;
  prefixes4_.push_back(
      {bytes, static_cast<std::uint8_t>(len), vid, static_cast<std::uint32_t>(action)});
  ++entry_count_;
  return true;
}

bool DatasetBuilder::AddAcl6(const std::array<std::uint8_t, 16>& addr, int len, AclAction action,
                             const Value* v) {
  if (!seen_prefixes_.insert(PrefixKey('6', addr, len)).second) return false;
  std::uint32_t vid = action == AclAction::kAlways ? InternValue(v) : 0;
  prefixes6_.push_back(
      {addr, static_cast<std::uint8_t>(len), vid, static_cast<std::uint32_t>(action)});
  ++entry_count_;
  return true;
}

DatasetBuilder* DatasetBuilder::AddSubDataset(DatasetType type, std::string_view subzone) {
  auto child = std::make_unique<DatasetBuilder>(type, absl::StrCat(spec_, "/", subzone.size()));
  child->ttl_ = ttl_;
  child->vars_ = vars_;
  child->base_template_ = base_template_;
  DatasetBuilder* raw = child.get();
  auto it = std::find_if(subzones_.begin(), subzones_.end(),
                         [&](const SubZone& s) { return s.name == subzone; });
  if (it == subzones_.end()) {
    subzones_.push_back({std::string(subzone), {}});
    it = subzones_.end() - 1;
  }
  it->datasets.push_back(std::move(child));
  return raw;
}

// ---------------------------------------------------------------------------
// SnapshotBuilder

SnapshotBuilder::~SnapshotBuilder() {
  std::uint64_t entries = 0;
  for (const auto& ds : datasets_) entries += ds->entry_count();
  datasets_.clear();
  zones_.clear();
  // Only after a big load: trimming walks the whole heap (and the fuzzers
  // and tests build thousands of small snapshots).
  if (entries >= 65536) malloc_trim(0);
}

DatasetBuilder* SnapshotBuilder::FindDataset(std::string_view spec) const {
  for (const auto& d : datasets_) {
    if (d->spec() == spec) return d.get();
  }
  return nullptr;
}

DatasetBuilder* SnapshotBuilder::AdoptDataset(std::unique_ptr<DatasetBuilder> ds) {
  datasets_.push_back(std::move(ds));
  return datasets_.back().get();
}

void SnapshotBuilder::AddToZone(std::string_view zone, DatasetBuilder* ds) {
  if (ds->type() == DatasetType::kAcl && zone.empty()) {
    global_acl_ = ds;
    return;
  }
  auto it =
      std::find_if(zones_.begin(), zones_.end(), [&](const Zone& z) { return z.name == zone; });
  if (it == zones_.end()) {
    zones_.push_back({std::string(zone), {}, nullptr});
    it = zones_.end() - 1;
  }
  if (ds->type() == DatasetType::kAcl) {
    it->acl = ds;
  } else {
    it->datasets.push_back(ds);
  }
}

namespace {

// Bytes of a section of `bytes` bytes, alignment padding included.
std::uint64_t SectionBound(std::uint64_t bytes) { return bytes + f::kAlign; }

template <class Slot>
std::uint64_t TableBound(std::uint64_t n) {
  return n == 0 ? 0 : SectionBound(sizeof(f::TableHeader) + CapacityFor(n) * sizeof(Slot));
}

std::uint64_t StrBound(std::string_view s) { return 2 + s.size(); }

}  // namespace

std::uint64_t DatasetWriter::Bound(const DatasetBuilder& ds, std::uint64_t* string_bytes) {
  std::uint64_t b = sizeof(f::DatasetRec) + sizeof(f::ValueRec) * (ds.values_.size() + 1) +
                    sizeof(f::SectionEntry) * 5;
  std::uint64_t strings = StrBound(ds.spec_) + StrBound(ds.soa_.origin) + StrBound(ds.soa_.person);
  for (const auto& n : ds.ns_.names) strings += StrBound(n) + sizeof(std::uint32_t);
  for (const auto& v : ds.vars_) strings += v ? StrBound(*v) : 0;
  strings += ds.base_template_ ? StrBound(*ds.base_template_) : 0;
  for (const auto& src : ds.sources_) strings += StrBound(src.path) + sizeof(f::SourceRec);
  for (const auto& v : ds.values_) strings += v.txt ? StrBound(*v.txt) : 0;
  strings += ds.dataset_value_.txt ? StrBound(*ds.dataset_value_.txt) : 0;
  // Pool lists of keys with several values: a count and at most one word
  // per entry of the key.
  std::uint64_t multi = 0;
  for (const auto& level : ds.ip4_levels_) {
    b += TableBound<f::Slot32>(level.keys.size());
    multi += level.keys.size();
  }
  b += TableBound<f::Slot32>(ds.ip4_hosts_.size());
  b += TableBound<f::Slot64>(ds.prefixes4_.size()) + TableBound<f::Slot128>(ds.prefixes6_.size());
  b += TableBound<f::Slot64>(ds.nets64_.size()) + TableBound<f::Slot128>(ds.excluded128_.size());
  std::uint64_t plain = 0, wild = 0;
  for (const auto& e : ds.names_) (e.wildcard ? wild : plain) += 1;
  strings += ds.name_text_.size() + 2 * ds.names_.size();
  multi += ds.names_.size();
  b += TableBound<f::SlotName>(plain) + TableBound<f::SlotName>(wild);
  for (const auto& r : ds.records_) strings += StrBound(r.name) + StrBound(r.rdata);
  b += TableBound<f::SlotName>(ds.records_.size()) +
       SectionBound(ds.records_.size() * sizeof(f::RecordRec));
  for (const auto& sz : ds.subzones_) {
    strings += StrBound(sz.name);
    b += sizeof(f::SubZoneRec);
    for (const auto& child : sz.datasets) b += Bound(*child, string_bytes);
  }
  *string_bytes += strings;
  return b + strings + 2 * multi * sizeof(std::uint32_t);
}

std::uint32_t DatasetWriter::WriteIp4Level(
    std::span<const std::uint32_t> keys,
    std::span<const std::pair<std::uint32_t, std::uint32_t>> runs,
    const std::vector<std::uint32_t>& m) {
  if (keys.empty()) return f::kNone;
  std::uint32_t idx;
  auto t = w_.ReserveTable<f::Slot32>(keys.size(), &idx);
  f::Slot32* slots = t.slots;
  MultiValue multi(w_);
  std::uint64_t count = 0;
  std::size_t run = 0;
  std::uint32_t word = MapWord(m, runs[0].second);
  constexpr std::size_t kAhead = 16;  // prefetch distance: inserts miss the cache
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (k + kAhead < keys.size()) {
      __builtin_prefetch(&slots[Bucket(Hash32(keys[k + kAhead]), t.capacity)], 1);
    }
    if (run + 1 < runs.size() && runs[run + 1].first == k) word = MapWord(m, runs[++run].second);
    const std::uint32_t key = keys[k];
    std::uint64_t i = SlotFor(t, Bucket(Hash32(key), t.capacity),
                              [key](const f::Slot32& x) { return x.key == key; });
    count += multi.Place(i, slots[i], f::Slot32{key, word});
  }
  multi.Flush([&](std::uint64_t s, std::uint32_t w) { slots[s].val = w; });
  w_.SetTableCount(idx, count);
  return idx;
}

void DatasetWriter::WritePrefixes(const DatasetBuilder& ds, const std::vector<std::uint32_t>& m,
                                  bool acl, f::DatasetRec* r) {
  auto word = [&](const DatasetBuilder::Prefix& p) {
    if (!acl) return MapWord(m, p.value);
    return p.action == static_cast<std::uint32_t>(AclAction::kAlways)
               ? (m[p.value] << f::kAclActionBits) | p.action
               : p.action;
  };
  if (!ds.prefixes4_.empty()) {
    std::uint32_t idx;
    auto t = w_.ReserveTable<f::Slot64>(ds.prefixes4_.size(), &idx);
    for (const auto& p : ds.prefixes4_) {
      std::uint64_t key = (std::uint64_t{p.len} << 32) | Ip4FromBytes(p.addr);
      std::uint64_t i = SlotFor(t, Bucket(Hash64(key), t.capacity), kNeverSame);
      t.slots[i] = {key, word(p), 0};
      r->lens4 |= 1ULL << p.len;
    }
    w_.SetTableCount(idx, ds.prefixes4_.size());
    r->tables[f::kTableMain] = idx;
  }
  if (!ds.prefixes6_.empty()) {
    std::uint32_t idx;
    auto t = w_.ReserveTable<f::Slot128>(ds.prefixes6_.size(), &idx);
    for (const auto& p : ds.prefixes6_) {
      std::uint64_t hi = Half(p.addr, 0), lo = Half(p.addr, 1);
      std::uint64_t i = SlotFor(t, Bucket(Hash128(hi, lo, p.len), t.capacity), kNeverSame);
      t.slots[i] = {hi, lo, p.len, word(p)};
      r->lens6[p.len / 64] |= 1ULL << (p.len % 64);
    }
    w_.SetTableCount(idx, ds.prefixes6_.size());
    r->tables[acl ? f::kTableSecond : f::kTableMain] = idx;
  }
}

void WriteTriePrefixes(DatasetWriter& w, const DatasetBuilder& ds, std::uint32_t,
                       const std::vector<std::uint32_t>& values, f::DatasetRec* rec) {
  w.WritePrefixes(ds, values, /*acl=*/false, rec);
}

std::uint32_t DatasetWriter::Write(const DatasetBuilder& ds, std::uint32_t parent) {
  auto index = static_cast<std::uint32_t>(recs_.size());
  recs_.emplace_back();
  f::DatasetRec r{};
  r.type = static_cast<std::uint32_t>(ds.type_);
  r.parent = parent;
  r.spec = w_.Str(ds.spec_);
  r.ttl = ds.ttl_;
  r.dataset_value = w_.ValueId(ds.dataset_value_);
  r.has_soa = ds.has_soa_;
  if (ds.has_soa_) {
    r.soa_ttl = ds.soa_.ttl;
    r.soa_origin = w_.Str(ds.soa_.origin);
    r.soa_person = w_.Str(ds.soa_.person);
    r.soa_serial = ds.soa_.serial;
    r.soa_refresh = ds.soa_.refresh;
    r.soa_retry = ds.soa_.retry;
    r.soa_expire = ds.soa_.expire;
    r.soa_minimum = ds.soa_.minimum;
  }
  r.ns_ttl = ds.ns_.ttl;
  r.ns_count = ds.has_ns_ ? static_cast<std::uint32_t>(ds.ns_.names.size()) : 0;
  r.ns_dropped = ds.has_ns_ ? ds.ns_.dropped : 0;
  {
    std::vector<std::uint32_t> refs;
    for (std::uint32_t i = 0; i < r.ns_count; ++i) refs.push_back(w_.Str(ds.ns_.names[i]));
    r.ns_first = static_cast<std::uint32_t>(w_.pool().size());
    w_.pool().insert(w_.pool().end(), refs.begin(), refs.end());
  }
  for (std::size_t i = 0; i < 10; ++i) r.vars[i] = w_.OptStr(ds.vars_[i]);
  r.base_template = w_.OptStr(ds.base_template_);
  for (auto& t : r.tables) t = f::kNone;
  r.expires = ds.expires_;
  r.entry_count = ds.entry_count_;
  for (const auto& s : ds.sources_) sources_.push_back({w_.Str(s.path), index, s.mtime, s.size});

  std::vector<std::uint32_t> m = MapValues(ds.values_);
  if (const DatasetTypeOps* ops = FindOps(r.type); ops != nullptr && ops->write != nullptr) {
    ops->write(*this, ds, index, m, &r);
  }
  recs_[index] = r;
  return index;
}

std::vector<std::uint8_t> SnapshotBuilder::Build(std::int64_t build_time) const {
  std::uint64_t bound = sizeof(f::FileHeader) + sizeof(f::SectionEntry) * 8 + f::kAlign * 9;
  std::uint64_t strings = 0;
  for (const auto& ds : datasets_) bound += DatasetWriter::Bound(*ds, &strings);
  for (const auto& z : zones_) {
    strings += StrBound(z.name);
    bound += sizeof(f::ZoneRec) + StrBound(z.name) + sizeof(std::uint32_t) * z.datasets.size();
  }
  ImageWriter w(static_cast<std::size_t>(bound), static_cast<std::size_t>(strings));
  DatasetWriter dw(w);
  absl::flat_hash_map<const DatasetBuilder*, std::uint32_t> index;
  auto write = [&](const DatasetBuilder* ds) {
    auto it = index.find(ds);
    if (it != index.end()) return it->second;
    std::uint32_t i = dw.Write(*ds, f::kNone);
    index.emplace(ds, i);
    return i;
  };
  std::uint32_t global_acl = global_acl_ ? write(global_acl_) : f::kNone;
  std::vector<const Zone*> zones;
  for (const auto& z : zones_) zones.push_back(&z);
  // Most specific zone first (§1: a query goes to the most specific zone).
  std::stable_sort(zones.begin(), zones.end(),
                   [](const Zone* a, const Zone* b) { return a->name.size() > b->name.size(); });
  std::vector<f::ZoneRec> zrecs;
  for (const Zone* z : zones) {
    f::ZoneRec zr{};
    zr.name = w.Str(z->name);
    zr.labels = static_cast<std::uint32_t>(dns::CountLabels(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(z->name.data()), z->name.size())));
    std::vector<std::uint32_t> ids;
    std::int64_t stamp = 0;
    for (const DatasetBuilder* ds : z->datasets) {
      ids.push_back(write(ds));
      for (const auto& s : ds->sources_) stamp = std::max(stamp, s.mtime);
    }
    zr.acl = z->acl ? write(z->acl) : f::kNone;
    zr.ds_first = static_cast<std::uint32_t>(w.pool().size());
    zr.ds_count = static_cast<std::uint32_t>(ids.size());
    w.pool().insert(w.pool().end(), ids.begin(), ids.end());
    zr.stamp = static_cast<std::uint32_t>(stamp);
    zrecs.push_back(zr);
  }
  w.AddArray(f::SectionKind::kDatasets, dw.recs());
  w.AddArray(f::SectionKind::kZones, zrecs);
  w.AddArray(f::SectionKind::kSources, dw.sources());
  w.AddArray(f::SectionKind::kSubZones, dw.subzones());
  return w.Finish(build_time, global_acl);
}

}  // namespace meshbl::table

// ---------------------------------------------------------------------------
// DumpDataset

namespace meshbl::table {
namespace {

std::string Ip4Text(std::uint32_t a) {
  char buf[16];
  return std::string(buf, FormatIp4(a, buf));
}

std::string Ip6Text(const std::array<std::uint8_t, 16>& a) {
  char buf[kMaxIpText];
  return std::string(buf, FormatIp6(a.data(), buf));
}

std::string NameText(std::string_view labels) {
  return labels.empty() ? "@" : dns::NameToText(labels);
}

std::string ValueText(const std::vector<Value>& values, std::uint32_t v) {
  if (v == f::kExcluded) return "!";
  const Value& val = values[v];
  return absl::StrCat("= ", Ip4Text(val.a), " ",
                      val.txt ? absl::StrCat("\"", *val.txt, "\"") : "-");
}

std::string_view ActionName(std::uint32_t a) {
  switch (static_cast<AclAction>(a)) {
    case AclAction::kIgnore:
      return "ignore";
    case AclAction::kRefuse:
      return "refuse";
    case AclAction::kEmpty:
      return "empty";
    case AclAction::kPass:
      return "pass";
    case AclAction::kAlways:
      return "always";
  }
  return "?";
}

std::string Hex(std::string_view s) {
  std::string out;
  for (char c : s) absl::StrAppendFormat(&out, "%02x", static_cast<unsigned char>(c));
  return out;
}

}  // namespace

void BuilderAccess::Dump(const DatasetBuilder& d, const std::string& indent, std::string* out) {
  auto line = [&](const std::string& s) { absl::StrAppend(out, indent, s, "\n"); };
  line(absl::StrCat("type ", std::string(DatasetTypeName(d.type_))));
  line(absl::StrCat("ttl ", d.ttl_));
  if (d.has_soa_) {
    const auto& s = d.soa_;
    line(absl::StrCat("soa ", s.ttl, " ", NameText(s.origin), " ", NameText(s.person), " ",
                      s.serial, " ", s.refresh, " ", s.retry, " ", s.expire, " ", s.minimum));
  }
  if (d.has_ns_) {
    std::string l = absl::StrCat("ns ", d.ns_.ttl);
    for (const auto& n : d.ns_.names) absl::StrAppend(&l, " ", NameText(n));
    line(l);
  }
  for (std::size_t i = 0; i < 10; ++i) {
    if (d.vars_[i]) line(absl::StrCat("var ", i, " ", *d.vars_[i]));
  }
  if (d.base_template_) line(absl::StrCat("base ", *d.base_template_));
  if (d.expires_) line(absl::StrCat("expires ", d.expires_));
  if (d.type_ == DatasetType::kIp4TSet || d.type_ == DatasetType::kIp6TSet) {
    const Value& v = d.dataset_value_;
    line(absl::StrCat("dsvalue = ", Ip4Text(v.a), " ",
                      v.txt ? absl::StrCat("\"", *v.txt, "\"") : "-"));
  }
  std::vector<std::string> entries;
  static constexpr const char* kLevel[] = {"ip4/32 ", "ip4/24 ", "ip4/16 ", "ip4/8 "};
  for (int l = 0; l < 4; ++l) {
    const auto& level = d.ip4_levels_[l];
    std::size_t run = 0;
    for (std::size_t i = 0; i < level.keys.size(); ++i) {
      if (run + 1 < level.runs.size() && level.runs[run + 1].first == i) ++run;
      char buf[16];
      entries.push_back(absl::StrCat(kLevel[l],
                                     std::string(buf, FormatIp4Prefix(level.keys[i], 4 - l, buf)),
                                     " ", ValueText(d.values_, level.runs[run].second)));
    }
  }
  for (auto a : d.ip4_hosts_) entries.push_back(absl::StrCat("host4 ", Ip4Text(a)));
  const bool acl = d.type_ == DatasetType::kAcl;
  for (const auto& p : d.prefixes4_) {
    std::uint32_t a = (std::uint32_t{p.addr[0]} << 24) | (std::uint32_t{p.addr[1]} << 16) |
                      (std::uint32_t{p.addr[2]} << 8) | p.addr[3];
    std::string pfx = absl::StrCat(Ip4Text(a), "/", p.len);
    entries.push_back(acl ? absl::StrCat("acl4 ", pfx, " ", std::string(ActionName(p.action)),
                                         p.action == 4 ? " " + ValueText(d.values_, p.value) : "")
                          : absl::StrCat("prefix4 ", pfx, " ", ValueText(d.values_, p.value)));
  }
  for (const auto& p : d.prefixes6_) {
    std::string pfx = absl::StrCat(Ip6Text(p.addr), "/", p.len);
    entries.push_back(acl ? absl::StrCat("acl6 ", pfx, " ", std::string(ActionName(p.action)),
                                         p.action == 4 ? " " + ValueText(d.values_, p.value) : "")
                          : absl::StrCat("prefix6 ", pfx, " ", ValueText(d.values_, p.value)));
  }
  for (auto n : d.nets64_) {
    entries.push_back(absl::StrFormat("net64 %x:%x:%x:%x", n >> 48, (n >> 32) & 0xffff,
                                      (n >> 16) & 0xffff, n & 0xffff));
  }
  for (const auto& a : d.excluded128_) entries.push_back("excl128 " + Ip6Text(a));
  for (const auto& e : d.names_) {
    entries.push_back(absl::StrCat(e.wildcard ? "wild " : "name ", NameText(d.Name(e)), " ",
                                   ValueText(d.values_, e.value)));
  }
  for (const auto& r : d.records_) {
    std::string_view t = r.type == kTypeA     ? "A"
                         : r.type == kTypeTxt ? "TXT"
                         : r.type == kTypeMx  ? "MX"
                                              : "TYPE";
    entries.push_back(
        absl::StrCat("rr ", NameText(r.name), " ", std::string(t), " ", r.ttl, " ", Hex(r.rdata)));
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) line(e);
  for (const auto& sz : d.subzones_) {
    line(absl::StrCat("sub ", NameText(sz.name)));
    for (const auto& child : sz.datasets) Dump(*child, indent + "  ", out);
  }
}

std::string DumpDataset(const DatasetBuilder& ds) {
  std::string out;
  BuilderAccess::Dump(ds, "", &out);
  return out;
}

}  // namespace meshbl::table
