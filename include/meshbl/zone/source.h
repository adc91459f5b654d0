// The one grammar for data sources on a command line, shared by meshbld and
// every `meshbl` command (reference/rbldnsd.md §1, docs/meshbld.8.md "Zone
// specifications"). A source is one of:
//
//   name:type:file[,file...]       an rbldnsd zone spec (text dataset)
//   name:snapshot:F.mbs[,F.mbs...] compiled snapshots; `name` is only
//                                  checked (a warning when a snapshot has no
//                                  such zone; its own zones are served)
//   F.mbs                          a compiled snapshot, no name checked
//   name:live:LIST                 the live list LIST (meshbld --live-config)
//
// Files are split on ',' and ':' with empty pieces dropped (rbldnsd's strtok),
// for every type. Errors are rbldnsd's messages: "invalid zone spec `x'",
// "invalid zone data specification `x'", "unknown dataset type `x'",
// "missing filenames for x", "invalid domain name `x'", "missing domain
// name in `x'".
//
// Control plane only (allocates).
#ifndef MESHBL_ZONE_SOURCE_H_
#define MESHBL_ZONE_SOURCE_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/zone/loader.h"

namespace meshbl::zone {

struct SourceSpec {
  std::string arg;           // as given
  bool is_snapshot = false;  // `name:snapshot:...` or a bare `F.mbs`
  ZoneSpec text;             // !is_snapshot
  // is_snapshot: the name given (text form; empty for a bare F.mbs or an
  // empty name) and its labels (lowercased), checked against the snapshots.
  std::string snapshot_zone;
  std::string snapshot_zone_labels;
  std::vector<std::string> snapshot_files;  // is_snapshot
  // `name:live:LIST`: the zone (text, labels) and the live list's name.
  bool is_live = false;
  std::string live_zone;
  std::string live_zone_labels;
  std::string live_list;
  // A text zone spec (an rbldnsd dataset), neither snapshot nor live.
  bool is_text() const { return !is_snapshot && !is_live; }
};

// Parses one source.
absl::StatusOr<SourceSpec> ParseSourceSpec(std::string_view arg);
// Parses every source; the first error is returned.
absl::StatusOr<std::vector<SourceSpec>> ParseSourceSpecs(const std::vector<std::string>& args);

}  // namespace meshbl::zone

#endif  // MESHBL_ZONE_SOURCE_H_
