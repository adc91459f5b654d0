#include "meshbl/table/snapshot.h"

#include <xxhash.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "meshbl/table/dataset_type.h"
#include "meshbl/table/types.h"
#include "meshbl/util/status_macros.h"

namespace meshbl::table {

namespace f = format;

namespace {

template <class T>
std::span<const T> As(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const T*>(b.data()), b.size() / sizeof(T)};
}

std::uint32_t ElemSize(f::SectionKind k) {
  switch (k) {
    case f::SectionKind::kStrings:
      return 1;
    case f::SectionKind::kValues:
      return sizeof(f::ValueRec);
    case f::SectionKind::kPool:
      return sizeof(std::uint32_t);
    case f::SectionKind::kDatasets:
      return sizeof(f::DatasetRec);
    case f::SectionKind::kZones:
      return sizeof(f::ZoneRec);
    case f::SectionKind::kSources:
      return sizeof(f::SourceRec);
    case f::SectionKind::kRecords:
      return sizeof(f::RecordRec);
    case f::SectionKind::kSubZones:
      return sizeof(f::SubZoneRec);
    case f::SectionKind::kTable:
      return 0;  // checked per table
  }
  return 0;
}

// The slot size of a table of `kind`; 0 for kinds that are not tables.
std::uint32_t SlotSizeOf(TableKind kind) {
  switch (kind) {
    case TableKind::kSlot32:
      return sizeof(f::Slot32);
    case TableKind::kSlot64:
      return sizeof(f::Slot64);
    case TableKind::kSlot128:
      return sizeof(f::Slot128);
    case TableKind::kSlotName:
      return sizeof(f::SlotName);
    case TableKind::kUnused:
    case TableKind::kRecords:
    case TableKind::kCustom:
      break;
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> Snapshot::Open(const std::string& path) {
  MESHBL_ASSIGN_OR_RETURN(util::MappedFile file, util::MappedFile::Open(path));
  std::shared_ptr<Snapshot> s(new Snapshot());
  s->name_ = path;
  s->file_ = std::move(file);
  s->bytes_ = s->file_.bytes();
  MESHBL_RETURN_IF_ERROR(s->Validate());
  return std::shared_ptr<const Snapshot>(std::move(s));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Snapshot::FromImage(std::vector<std::uint8_t> image,
                                                                    std::string name) {
  std::shared_ptr<Snapshot> s(new Snapshot());
  s->name_ = std::move(name);
  s->owned_ = std::move(image);
  s->bytes_ = s->owned_;
  MESHBL_RETURN_IF_ERROR(s->Validate());
  return std::shared_ptr<const Snapshot>(std::move(s));
}

absl::Status Snapshot::Validate() {
  auto bad = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(name_, ": invalid snapshot: ", why));
  };
  const std::size_t size = bytes_.size();
  if (size < sizeof(f::FileHeader)) return bad("file shorter than the header");
  std::memcpy(&header_, bytes_.data(), sizeof header_);
  if (std::memcmp(header_.magic, f::kMagic, sizeof f::kMagic) != 0) {
    return bad("bad magic (not a meshbl snapshot)");
  }
  if (header_.version != f::kFormatVersion) {
    return bad(
        absl::StrCat("format version ", header_.version, ", this build reads ", f::kFormatVersion));
  }
  f::FileHeader h = header_;
  h.header_checksum = 0;
  if (XXH3_64bits(&h, sizeof h) != header_.header_checksum) return bad("header checksum mismatch");
  if (header_.header_size != sizeof(f::FileHeader)) return bad("bad header size");
  if (header_.file_size != size) {
    return bad(absl::StrCat("truncated or extended: header says ", header_.file_size,
                            " bytes, file has ", size));
  }
  const std::uint64_t toff = header_.section_table_offset;
  if (toff > size || toff % 8 != 0) return bad("section table offset out of bounds");
  if (header_.section_count > (size - toff) / sizeof(f::SectionEntry)) {
    return bad("section table runs past the end of the file");
  }
  const std::size_t tbytes = header_.section_count * sizeof(f::SectionEntry);
  if (XXH3_64bits(bytes_.data() + toff, tbytes) != header_.section_table_checksum) {
    return bad("section table checksum mismatch");
  }
  sections_ = As<f::SectionEntry>(bytes_.subspan(toff, tbytes));

  int singletons[10] = {};
  for (std::uint32_t i = 0; i < sections_.size(); ++i) {
    const f::SectionEntry& s = sections_[i];
    if (s.offset % f::kAlign != 0 || s.offset > toff || s.size > toff - s.offset) {
      return bad(absl::StrCat("section ", i, " out of bounds"));
    }
    auto data = bytes_.subspan(s.offset, s.size);
    if (XXH3_64bits(data.data(), data.size()) != s.checksum) {
      return bad(absl::StrCat("section ", i, " checksum mismatch"));
    }
    auto kind = static_cast<std::uint32_t>(s.kind);
    if (kind < 1 || kind > 9) return bad(absl::StrCat("section ", i, " has unknown kind ", kind));
    if (s.kind == f::SectionKind::kTable) {
      if (s.size < sizeof(f::TableHeader)) return bad(absl::StrCat("table ", i, " too short"));
      f::TableHeader th;
      std::memcpy(&th, data.data(), sizeof th);
      if (th.slot_size != s.elem_size || th.slot_size == 0 || th.capacity > 0xffffffffULL ||
          th.count > th.capacity || th.capacity * th.slot_size != s.size - sizeof(f::TableHeader)) {
        return bad(absl::StrCat("table ", i, " has inconsistent geometry"));
      }
      continue;
    }
    if (s.elem_size != ElemSize(s.kind) || s.size % s.elem_size != 0) {
      return bad(absl::StrCat("section ", i, " has a bad element size"));
    }
    switch (s.kind) {
      case f::SectionKind::kStrings:
        strings_ = As<char>(data);
        break;
      case f::SectionKind::kValues:
        values_ = As<f::ValueRec>(data);
        break;
      case f::SectionKind::kPool:
        pool_ = As<std::uint32_t>(data);
        break;
      case f::SectionKind::kDatasets:
        datasets_ = As<f::DatasetRec>(data);
        break;
      case f::SectionKind::kZones:
        zones_ = As<f::ZoneRec>(data);
        break;
      case f::SectionKind::kSources:
        sources_ = As<f::SourceRec>(data);
        break;
      case f::SectionKind::kSubZones:
        subzones_ = As<f::SubZoneRec>(data);
        break;
      default:
        continue;  // records are checked per dataset
    }
    if (++singletons[kind] > 1) return bad(absl::StrCat("section kind ", kind, " repeated"));
  }
  for (std::uint32_t k : {1u, 2u, 3u, 4u, 5u, 6u, 9u}) {
    if (singletons[k] != 1) return bad(absl::StrCat("missing section of kind ", k));
  }

  const auto nds = static_cast<std::uint32_t>(datasets_.size());
  for (std::uint32_t i = 0; i < nds; ++i) {
    const f::DatasetRec& d = datasets_[i];
    std::string where = absl::StrCat("dataset ", i);
    const DatasetTypeOps* ops = FindOps(d.type);
    if (ops == nullptr) return bad(absl::StrCat(where, ": unknown type ", d.type));
    if (d.parent != f::kNone) {
      const DatasetTypeOps* parent = d.parent < i ? FindOps(datasets_[d.parent].type) : nullptr;
      if (parent == nullptr || !parent->has_children || !ops->nestable) {
        return bad(absl::StrCat(where, ": bad parent"));
      }
    }
    if (d.dataset_value >= values_.size()) return bad(absl::StrCat(where, ": bad value id"));
    if (Pool(d.ns_first, d.ns_count).size() != d.ns_count || d.ns_count > 32) {
      return bad(absl::StrCat(where, ": bad NS list"));
    }
    if (ops->validate != nullptr) {
      if (std::string_view why = ops->validate(*this, i); !why.empty()) {
        return bad(absl::StrCat(where, ": ", std::string(why)));
      }
    }
    for (int t = 0; t < 4; ++t) {
      const TableKind kind = ops->tables[static_cast<std::size_t>(t)];
      std::uint32_t sec = d.tables[t];
      if (kind == TableKind::kCustom || sec == f::kNone) continue;
      if (sec >= sections_.size()) return bad(absl::StrCat(where, ": bad section index"));
      if (kind == TableKind::kRecords) {
        if (sections_[sec].kind != f::SectionKind::kRecords) {
          return bad(absl::StrCat(where, ": records section has the wrong kind"));
        }
        continue;
      }
      std::uint32_t want = SlotSizeOf(kind);
      if (want == 0 || sections_[sec].kind != f::SectionKind::kTable ||
          sections_[sec].elem_size != want) {
        return bad(absl::StrCat(where, ": table ", t, " has the wrong kind"));
      }
    }
  }
  for (std::uint32_t i = 0; i < zones_.size(); ++i) {
    const f::ZoneRec& z = zones_[i];
    auto ids = Pool(z.ds_first, z.ds_count);
    if (ids.size() != z.ds_count) return bad(absl::StrCat("zone ", i, ": bad dataset list"));
    for (auto id : ids) {
      if (id >= nds || datasets_[id].parent != f::kNone ||
          datasets_[id].type == static_cast<std::uint32_t>(DatasetType::kAcl)) {
        return bad(absl::StrCat("zone ", i, ": bad dataset reference"));
      }
    }
    if (z.acl != f::kNone &&
        (z.acl >= nds || datasets_[z.acl].type != static_cast<std::uint32_t>(DatasetType::kAcl))) {
      return bad(absl::StrCat("zone ", i, ": bad acl reference"));
    }
  }
  if (header_.global_acl != f::kNone &&
      (header_.global_acl >= nds ||
       datasets_[header_.global_acl].type != static_cast<std::uint32_t>(DatasetType::kAcl))) {
    return bad("bad global acl reference");
  }
  return absl::OkStatus();
}

std::string_view Snapshot::String(std::uint32_t ref) const noexcept {
  if (ref == f::kNone || ref >= strings_.size() || strings_.size() - ref < 2) return {};
  std::size_t len = static_cast<std::uint8_t>(strings_[ref]) |
                    (std::size_t{static_cast<std::uint8_t>(strings_[ref + 1])} << 8);
  if (len > strings_.size() - ref - 2) return {};
  return {strings_.data() + ref + 2, len};
}

std::span<const std::uint32_t> Snapshot::Pool(std::uint32_t first,
                                              std::uint32_t count) const noexcept {
  if (first > pool_.size() || count > pool_.size() - first) return {};
  return pool_.subspan(first, count);
}

std::span<const std::uint8_t> Snapshot::Section(std::uint32_t index) const noexcept {
  if (index >= sections_.size()) return {};
  return bytes_.subspan(sections_[index].offset, sections_[index].size);
}

std::uint64_t Snapshot::DatasetBytes(std::uint32_t i) const noexcept {
  if (i >= datasets_.size()) return 0;
  const auto& d = datasets_[i];
  const auto& kinds = OpsFor(static_cast<DatasetType>(d.type)).tables;
  std::uint64_t n = 0;
  for (std::size_t t = 0; t < kinds.size(); ++t) {
    if (kinds[t] != TableKind::kCustom) n += Section(d.tables[t]).size();
  }
  return n;
}

}  // namespace meshbl::table
