// The command-line source grammar (include/meshbl/zone/source.h).
#include "meshbl/zone/source.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "meshbl/util/status_macros.h"

namespace meshbl::zone {

absl::StatusOr<SourceSpec> ParseSourceSpec(std::string_view arg) {
  SourceSpec s;
  s.arg = std::string(arg);
  if (IsSnapshotPath(arg)) {  // bare F.mbs
    s.is_snapshot = true;
    s.snapshot_files.emplace_back(arg);
    return s;
  }
  const std::size_t c1 = arg.find(':');
  const std::size_t c2 =
      c1 == std::string_view::npos ? std::string_view::npos : arg.find(':', c1 + 1);
  if (c2 != std::string_view::npos && arg.substr(c1 + 1, c2 - c1 - 1) == "live") {
    s.is_live = true;
    s.live_zone = std::string(arg.substr(0, c1));
    s.live_list = std::string(arg.substr(c2 + 1));
    if (s.live_list.empty()) return absl::InvalidArgumentError("missing live list name for live");
    if (s.live_list.find_first_of(",:") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid live list name `", s.live_list, "' (one name: zone:live:LIST)"));
    }
    if (s.live_zone.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("missing domain name in `", s.arg, "'"));
    }
    if (!dns::ParseName(s.live_zone, &s.live_zone_labels)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid domain name `", s.live_zone, "'"));
    }
    return s;
  }
  if (c2 == std::string_view::npos || arg.substr(c1 + 1, c2 - c1 - 1) != "snapshot") {
    MESHBL_ASSIGN_OR_RETURN(s.text, ParseZoneSpec(arg));
    return s;
  }
  s.is_snapshot = true;
  s.snapshot_zone = std::string(arg.substr(0, c1));
  // As for every dataset type: split on ',' and ':', empty pieces vanish.
  std::string_view files = arg.substr(c2 + 1);
  while (!files.empty()) {
    const std::size_t cut = files.find_first_of(",:");
    if (cut != 0) s.snapshot_files.emplace_back(files.substr(0, cut));
    if (cut == std::string_view::npos) break;
    files.remove_prefix(cut + 1);
  }
  if (s.snapshot_files.empty()) return absl::InvalidArgumentError("missing filenames for snapshot");
  if (!dns::ParseName(s.snapshot_zone, &s.snapshot_zone_labels)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid domain name `", s.snapshot_zone, "'"));
  }
  return s;
}

absl::StatusOr<std::vector<SourceSpec>> ParseSourceSpecs(const std::vector<std::string>& args) {
  std::vector<SourceSpec> out;
  out.reserve(args.size());
  for (const std::string& arg : args) {
    MESHBL_ASSIGN_OR_RETURN(SourceSpec s, ParseSourceSpec(arg));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace meshbl::zone
