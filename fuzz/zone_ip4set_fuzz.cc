// Fuzzes the address-keyed dataset parsers (reference/rbldnsd.md §4.1-§4.5,
// §4.9). The first byte picks the type (ASCII 0-5: ip4set, ip4trie, ip6trie,
// ip6tset, acl, ip4tset; bit 7 = -e); the rest is one data file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "meshbl/table/types.h"
#include "meshbl/zone/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using meshbl::table::DatasetType;
  static constexpr DatasetType kTypes[] = {DatasetType::kIp4Set,  DatasetType::kIp4Trie,
                                           DatasetType::kIp6Trie, DatasetType::kIp6TSet,
                                           DatasetType::kAcl,     DatasetType::kIp4TSet};
  if (size == 0) return 0;
  const DatasetType type = kTypes[(data[0] & 0x7f) % (sizeof(kTypes) / sizeof(kTypes[0]))];
  meshbl::zone::SourceText file{"fuzz",
                                std::string(reinterpret_cast<const char*>(data + 1), size - 1)};
  meshbl::zone::LoadOptions options;
  options.accept_host_bits = (data[0] & 0x80) != 0;
  options.now = 2000000000;
  (void)meshbl::zone::LoadDatasetFromText(type, "fuzz", {&file, 1}, options);
  return 0;
}
