// Fuzzes the ARF (RFC 5965) report parser (feed/report.h) and the RFC 5322
// date parser it uses: the input is one message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshbl/feed/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)meshbl::feed::ParseArfReport(in, 1700000000);
  if (size < 200) (void)meshbl::feed::ParseRfc5322Date(in);
  return 0;
}
