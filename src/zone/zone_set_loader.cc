// Sources given on a command line (zone specs and snapshot files) into a
// ZoneSet: shared by `meshbl compile/check/lookup` and `meshbl bench --data`.
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/status_macros.h"
#include "meshbl/zone/loader.h"

namespace meshbl::zone {

bool IsSnapshotPath(std::string_view source) {
  return source.size() > 4 && source.substr(source.size() - 4) == ".mbs" &&
         source.find(':') == std::string_view::npos;
}

absl::StatusOr<std::vector<std::uint8_t>> BuildImage(std::span<const std::string> specs,
                                                     const LoadOptions& options,
                                                     std::vector<Diagnostic>* warnings,
                                                     std::int64_t now) {
  std::vector<ZoneSpec> parsed;
  for (const auto& s : specs) {
    MESHBL_ASSIGN_OR_RETURN(ZoneSpec z, ParseZoneSpec(s));
    parsed.push_back(std::move(z));
  }
  table::SnapshotBuilder builder;
  MESHBL_RETURN_IF_ERROR(LoadZones(parsed, options, &builder, warnings));
  return builder.Build(now);
}

absl::StatusOr<std::shared_ptr<const table::ZoneSet>> LoadZoneSet(
    std::span<const std::string> sources, const LoadOptions& options,
    std::vector<Diagnostic>* warnings) {
  std::vector<std::shared_ptr<const table::Snapshot>> snaps;
  std::vector<std::string> specs;
  for (const auto& s : sources) {
    if (IsSnapshotPath(s)) {
      MESHBL_ASSIGN_OR_RETURN(auto snap, table::Snapshot::Open(s));
      snaps.push_back(std::move(snap));
    } else {
      specs.push_back(s);
    }
  }
  if (!specs.empty()) {
    MESHBL_ASSIGN_OR_RETURN(
        auto image,
        BuildImage(specs, options, warnings, options.now != 0 ? options.now : std::time(nullptr)));
    MESHBL_ASSIGN_OR_RETURN(auto snap, table::Snapshot::FromImage(std::move(image), "<zones>"));
    snaps.push_back(std::move(snap));
  }
  return table::ZoneSet::Create(std::move(snaps));
}

}  // namespace meshbl::zone
