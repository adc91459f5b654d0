// Command-line zone specs and loading them into a SnapshotBuilder
// (reference/rbldnsd.md §1).
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/util/status_macros.h"
#include "meshbl/zone/loader.h"

namespace meshbl::zone {

absl::StatusOr<ZoneSpec> ParseZoneSpec(std::string_view arg) {
  const std::size_t colon = arg.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid zone spec `", std::string(arg), "'"));
  }
  const std::string_view name = arg.substr(0, colon);
  const std::string_view ds_spec = arg.substr(colon + 1);
  const std::size_t colon2 = ds_spec.find(':');
  if (colon2 == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid zone data specification `", std::string(ds_spec), "'"));
  }
  const std::string_view type_name = ds_spec.substr(0, colon2);
  std::optional<table::DatasetType> type = table::DatasetTypeFromName(type_name);
  if (!type) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dataset type `", std::string(type_name), "'"));
  }
  ZoneSpec spec;
  spec.type = *type;
  spec.dataset_spec = std::string(ds_spec);
  // Files are split on ',' and ':' (strtok semantics: empty pieces vanish).
  std::string_view files = ds_spec.substr(colon2 + 1);
  while (!files.empty()) {
    const std::size_t cut = files.find_first_of(",:");
    std::string_view f = files.substr(0, cut);
    if (!f.empty()) spec.files.emplace_back(f);
    if (cut == std::string_view::npos) break;
    files.remove_prefix(cut + 1);
  }
  if (spec.files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing filenames for ", std::string(type_name)));
  }
  if (!dns::ParseName(name, &spec.zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid domain name `", std::string(name), "'"));
  }
  if (spec.zone.empty() && spec.type != table::DatasetType::kAcl) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing domain name in `", std::string(arg), "'"));
  }
  return spec;
}

absl::Status CheckZoneSpecs(std::span<const ZoneSpec> specs) {
  struct ZoneState {
    std::string name;
    bool has_acl = false;
    bool has_data = false;
  };
  // Zone/ACL rules are checked before anything is loaded, as rbldnsd does
  // while reading its command line.
  std::vector<ZoneState> zones;
  bool have_global_acl = false;
  for (const ZoneSpec& spec : specs) {
    const bool is_acl = spec.type == table::DatasetType::kAcl;
    if (spec.zone.empty()) {
      if (!is_acl) {
        return absl::InvalidArgumentError(
            absl::StrCat("missing domain name in `:", spec.dataset_spec, "'"));
      }
      if (have_global_acl) {
        return absl::InvalidArgumentError("global acl specified more than once");
      }
      have_global_acl = true;
    } else {
      auto it = std::find_if(zones.begin(), zones.end(),
                             [&](const ZoneState& z) { return z.name == spec.zone; });
      if (it == zones.end()) {
        zones.push_back({spec.zone, false, false});
        it = zones.end() - 1;
      }
      if (is_acl) {
        if (it->has_acl) {
          return absl::InvalidArgumentError(
              absl::StrCat("repeated ACL definition for zone `", dns::NameToText(spec.zone), "'"));
        }
        it->has_acl = true;
      } else {
        it->has_data = true;
      }
    }
  }
  for (const ZoneState& z : zones) {
    if (!z.has_data) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing data for zone `", dns::NameToText(z.name), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadZones(std::span<const ZoneSpec> specs, const LoadOptions& options,
                       table::SnapshotBuilder* out, std::vector<Diagnostic>* warnings) {
  MESHBL_RETURN_IF_ERROR(CheckZoneSpecs(specs));
  return LoadDatasets(specs, options, out, warnings);
}

absl::Status LoadDatasets(std::span<const ZoneSpec> specs, const LoadOptions& options,
                          table::SnapshotBuilder* out, std::vector<Diagnostic>* warnings) {
  // The same "type:files" string anywhere = one dataset, loaded once.
  for (const ZoneSpec& spec : specs) {
    table::DatasetBuilder* ds = out->FindDataset(spec.dataset_spec);
    if (ds == nullptr) {
      MESHBL_ASSIGN_OR_RETURN(LoadedDataset loaded,
                              LoadDataset(spec.type, spec.dataset_spec, spec.files, options));
      warnings->insert(warnings->end(), std::make_move_iterator(loaded.warnings.begin()),
                       std::make_move_iterator(loaded.warnings.end()));
      ds = out->AdoptDataset(std::move(loaded.dataset));
    }
    out->AddToZone(spec.zone, ds);
  }
  return absl::OkStatus();
}

}  // namespace meshbl::zone
