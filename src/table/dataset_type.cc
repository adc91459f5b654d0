// The registration array of the dataset types (dataset_type.h).
#include "meshbl/table/dataset_type.h"

#include "table/types/types.h"

namespace meshbl::table {

namespace {

// One line per type, in DatasetType order. Adding a type: its file in
// src/table/types/, its declaration in types/types.h, its line here.
constexpr const DatasetTypeOps* kRegistry[] = {
    &kIp4SetOps, &kIp4TSetOps, &kIp4TrieOps,  &kIp6TrieOps, &kIp6TSetOps,
    &kDnSetOps,  &kGenericOps, &kCombinedOps, &kAclOps,
};

constexpr DatasetTypeOps kUnknownOps = {
    .type = DatasetType{0},
    .name = "unknown",
    .tables = {TableKind::kCustom, TableKind::kCustom, TableKind::kCustom, TableKind::kCustom},
    .nestable = false,
};

}  // namespace

std::span<const DatasetTypeOps* const> AllDatasetTypes() noexcept { return kRegistry; }

const DatasetTypeOps* FindOps(std::uint32_t type) noexcept {
  for (const DatasetTypeOps* ops : kRegistry) {
    if (static_cast<std::uint32_t>(ops->type) == type) return ops;
  }
  return nullptr;
}

const DatasetTypeOps& OpsFor(DatasetType type) noexcept {
  const DatasetTypeOps* ops = FindOps(static_cast<std::uint32_t>(type));
  return ops != nullptr ? *ops : kUnknownOps;
}

const DatasetTypeOps* OpsByName(std::string_view name) noexcept {
  for (const DatasetTypeOps* ops : kRegistry) {
    if (ops->name == name) return ops;
  }
  return nullptr;
}

std::optional<DatasetType> DatasetTypeFromName(std::string_view name) {
  const DatasetTypeOps* ops = OpsByName(name);
  if (ops == nullptr) return std::nullopt;
  return ops->type;
}

std::string_view DatasetTypeName(DatasetType type) { return OpsFor(type).name; }

}  // namespace meshbl::table
