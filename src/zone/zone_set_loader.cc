// Command-line sources into a ZoneSet or a compiled image, for the `meshbl`
// commands: both through zone/source.h's grammar, LoadZoneSet through the
// daemon's loader (ZoneLoader).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/status_macros.h"
#include "meshbl/zone/loader.h"
#include "meshbl/zone/source.h"
#include "meshbl/zone/zone_loader.h"

namespace meshbl::zone {

bool IsSnapshotPath(std::string_view source) {
  return source.size() > 4 && source.substr(source.size() - 4) == ".mbs" &&
         source.find(':') == std::string_view::npos;
}

absl::StatusOr<std::vector<std::uint8_t>> BuildImage(std::span<const std::string> specs,
                                                     const LoadOptions& options,
                                                     std::vector<Diagnostic>* warnings,
                                                     std::int64_t now) {
  MESHBL_ASSIGN_OR_RETURN(std::vector<SourceSpec> sources,
                          ParseSourceSpecs(std::vector<std::string>(specs.begin(), specs.end())));
  std::vector<ZoneSpec> parsed;
  for (SourceSpec& s : sources) {
    if (s.is_snapshot) {
      return absl::InvalidArgumentError(absl::StrCat(
          "`", s.arg, "' is a compiled snapshot: an image is compiled from text zone specs"));
    }
    if (s.is_live) {
      return absl::InvalidArgumentError(
          absl::StrCat("`", s.arg, "' is a live list: an image is compiled from text zone specs"));
    }
    parsed.push_back(std::move(s.text));
  }
  table::SnapshotBuilder builder;
  MESHBL_RETURN_IF_ERROR(LoadZones(parsed, options, &builder, warnings));
  return builder.Build(now);
}

absl::StatusOr<std::shared_ptr<const table::ZoneSet>> LoadZoneSet(
    std::span<const std::string> sources, const LoadOptions& options,
    std::vector<Diagnostic>* warnings) {
  MESHBL_ASSIGN_OR_RETURN(std::vector<SourceSpec> parsed, ParseSourceSpecs(std::vector<std::string>(
                                                              sources.begin(), sources.end())));
  ZoneLoader loader(std::move(parsed), options, /*log=*/false);
  absl::StatusOr<std::shared_ptr<const table::ZoneSet>> zones = loader.Load();
  warnings->insert(warnings->end(), loader.warnings().begin(), loader.warnings().end());
  if (!zones.ok()) return zones.status();
  if (loader.failed_datasets() > 0) {
    return absl::InvalidArgumentError(loader.errors().empty() ? "a dataset failed to load"
                                                              : loader.errors().front());
  }
  return zones;
}

}  // namespace meshbl::zone
