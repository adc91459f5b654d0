// Fuzzes the generic dataset parser (reference/rbldnsd.md §4.7). The input is
// one data file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "meshbl/table/types.h"
#include "meshbl/zone/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  meshbl::zone::SourceText file{"fuzz", std::string(reinterpret_cast<const char*>(data), size)};
  meshbl::zone::LoadOptions options;
  options.now = 2000000000;
  (void)meshbl::zone::LoadDatasetFromText(meshbl::table::DatasetType::kGeneric, "fuzz", {&file, 1},
                                          options);
  return 0;
}
