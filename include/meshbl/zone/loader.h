// Loading rbldnsd text datasets (reference/rbldnsd.md §2-§4) into table
// builders. Control plane only: allocates, not for the query path.
//
// Every diagnostic carries `file:line: message`. A dataset whose load fails
// is returned as an error and never reaches a SnapshotBuilder, so it is never
// half-published.
#ifndef MESHBL_ZONE_LOADER_H_
#define MESHBL_ZONE_LOADER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/types.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::zone {

// Options shared by every dataset load; mirrors rbldnsd's -e, -C and -t.
struct LoadOptions {
  bool accept_host_bits = false;     // -e: mask host bits instead of skipping the line
  bool allow_gzip = true;            // -C clears it: a gzip file then fails to load
  std::uint32_t default_ttl = 2100;  // -t def
  std::uint32_t min_ttl = 0;         // -t min (0 with max 0 = no clamp)
  std::uint32_t max_ttl = 0;         // -t max
  std::int64_t now = 0;              // unix time for $TIMESTAMP checks; 0 = time(nullptr)
};

// A warning (the line was skipped or the special ignored) or the error that
// failed the load.
struct Diagnostic {
  std::string file;
  int line = 0;  // 0 when the message is about the whole file
  std::string message;
  // "file:line: message" (or "file: message" when line is 0).
  std::string ToString() const;
};

struct LoadedDataset {
  std::unique_ptr<table::DatasetBuilder> dataset;
  std::vector<Diagnostic> warnings;  // every warning, in file order (callers cap the log)
};

// One input file: a name for messages and its raw bytes (possibly gzip).
struct SourceText {
  std::string name;
  std::string bytes;
};

// Loads dataset `spec` ("type:file[,file...]", the part of a zone spec after
// the zone name) from disk. Errors: unreadable file, gzip with -C or broken
// gzip, fatal lines (§2: $TIMESTAMP in the future, bad $DATASET, generic MX
// or TTL syntax), each as "file:line: reason".
absl::StatusOr<LoadedDataset> LoadDataset(table::DatasetType type, std::string_view spec,
                                          std::span<const std::string> files,
                                          const LoadOptions& options);

// The same parser over in-memory files (used by tests and fuzzers). Source
// stamps are not recorded.
absl::StatusOr<LoadedDataset> LoadDatasetFromText(table::DatasetType type, std::string_view spec,
                                                  std::span<const SourceText> files,
                                                  const LoadOptions& options);

// A parsed command-line zone spec `name:type:file[,file...]` (§1).
struct ZoneSpec {
  std::string zone;  // label sequence, lowercased; empty for the global ACL
  table::DatasetType type;
  std::string dataset_spec;  // "type:files" exactly as given: equal strings share a dataset
  std::vector<std::string> files;
};

// Parses one zone spec. Files are split on ',' and ':' as rbldnsd does.
absl::StatusOr<ZoneSpec> ParseZoneSpec(std::string_view arg);

// Loads every spec into `out` (shared datasets once, zone/ACL rules of §1
// enforced: one acl per zone, one global acl, a zone with only an acl is an
// error). Warnings are appended to `warnings`. Stops at the first dataset
// that fails and returns its error; `out` then must not be published.
absl::Status LoadZones(std::span<const ZoneSpec> specs, const LoadOptions& options,
                       table::SnapshotBuilder* out, std::vector<Diagnostic>* warnings);

// The command-line rules LoadZones enforces, alone: for a caller that loads
// the specs in several parts (the daemon: one snapshot per dataset).
absl::Status CheckZoneSpecs(std::span<const ZoneSpec> specs);
// LoadZones without those rules.
absl::Status LoadDatasets(std::span<const ZoneSpec> specs, const LoadOptions& options,
                          table::SnapshotBuilder* out, std::vector<Diagnostic>* warnings);

// True for a command-line source that names a compiled snapshot: ends in
// ".mbs" and has no ':' (a zone spec always has one).
bool IsSnapshotPath(std::string_view source);

// Loads text zone specs (`name:type:file[,...]`) into one validated snapshot
// image (what `meshbl compile` writes), stamped `now` (unix seconds). Sources
// are parsed by zone/source.h's grammar; a snapshot source is refused.
absl::StatusOr<std::vector<std::uint8_t>> BuildImage(std::span<const std::string> specs,
                                                     const LoadOptions& options,
                                                     std::vector<Diagnostic>* warnings,
                                                     std::int64_t now);

// The serving state for sources in zone/source.h's grammar, loaded once by
// ZoneLoader (zone/zone_loader.h), the loader meshbld runs: what `meshbl
// lookup`, `meshbl dump` and `meshbl bench --data` answer from. Every
// warning is appended to `warnings`; a dataset that fails is an error (the
// first failure's message).
absl::StatusOr<std::shared_ptr<const table::ZoneSet>> LoadZoneSet(
    std::span<const std::string> sources, const LoadOptions& options,
    std::vector<Diagnostic>* warnings);

}  // namespace meshbl::zone

#endif  // MESHBL_ZONE_LOADER_H_
