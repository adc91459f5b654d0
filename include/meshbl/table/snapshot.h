// A validated, immutable snapshot image (format.h), either mapped from a file
// or held in memory after compiling text datasets: both go through the same
// validator and the same lookup code.
//
// Thread-safety: immutable after Open/FromImage; any number of threads may
// read concurrently. Accessors are noexcept, allocation-free and bounds-checked
// (a bad reference yields an empty result, never an out-of-bounds read), so
// they are safe on the query path even for a hostile image that passed the
// structural validation.
#ifndef MESHBL_TABLE_SNAPSHOT_H_
#define MESHBL_TABLE_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/table/format.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::table {

class Snapshot {
 public:
  // Maps and validates `path`. The bytes stay those validated whatever a
  // writer later does to the file (util::MappedFile: lease or copy), so the
  // snapshot never changes or faults under its readers. Errors read
  // "path: reason".
  static absl::StatusOr<std::shared_ptr<const Snapshot>> Open(const std::string& path);
  // Validates an in-memory image; `name` is used in messages.
  static absl::StatusOr<std::shared_ptr<const Snapshot>> FromImage(std::vector<std::uint8_t> image,
                                                                   std::string name);

  const std::string& name() const noexcept { return name_; }
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  const format::FileHeader& header() const noexcept { return header_; }
  std::span<const format::SectionEntry> sections() const noexcept { return sections_; }

  std::span<const format::DatasetRec> datasets() const noexcept { return datasets_; }
  std::span<const format::ZoneRec> zones() const noexcept { return zones_; }
  std::span<const format::SourceRec> sources() const noexcept { return sources_; }
  std::span<const format::SubZoneRec> subzones() const noexcept { return subzones_; }
  std::span<const format::ValueRec> values() const noexcept { return values_; }

  // A string reference; empty for kNone or a bad reference.
  std::string_view String(std::uint32_t ref) const noexcept;
  std::span<const std::uint8_t> Bytes(std::uint32_t ref) const noexcept {
    std::string_view s = String(ref);
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }
  // Address of a string reference for prefetching (no memory is read);
  // nullptr when out of bounds.
  const char* StringAddress(std::uint32_t ref) const noexcept {
    return ref < strings_.size() ? strings_.data() + ref : nullptr;
  }
  // Pool range; empty if out of bounds.
  std::span<const std::uint32_t> Pool(std::uint32_t first, std::uint32_t count) const noexcept;
  // Raw bytes of section `index` (validated at open).
  std::span<const std::uint8_t> Section(std::uint32_t index) const noexcept;

  // Bytes of the table sections of dataset `i` (what `meshbl inspect` reports).
  std::uint64_t DatasetBytes(std::uint32_t i) const noexcept;

 private:
  Snapshot() = default;
  absl::Status Validate();

  std::string name_;
  util::MappedFile file_;
  std::vector<std::uint8_t> owned_;
  std::span<const std::uint8_t> bytes_;
  format::FileHeader header_{};
  std::span<const format::SectionEntry> sections_;
  std::span<const char> strings_;
  std::span<const format::ValueRec> values_;
  std::span<const std::uint32_t> pool_;
  std::span<const format::DatasetRec> datasets_;
  std::span<const format::ZoneRec> zones_;
  std::span<const format::SourceRec> sources_;
  std::span<const format::SubZoneRec> subzones_;
};

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_SNAPSHOT_H_
