// Fuzzes `meshbl report` lines (feed/report.h): the input is a file of
// lines; every hit parsed must print as a line that parses back to it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "meshbl/feed/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto hits = meshbl::feed::ParseReportLines(in, "fuzz", 1700000000);
  if (!hits.ok()) return 0;
  for (const meshbl::feed::TrapHit& h : *hits) {
    auto back = meshbl::feed::ParseReportLine(meshbl::feed::FormatReportLine(h), 0);
    if (!back.ok() || back->trap != h.trap || back->helo != h.helo || back->sender != h.sender ||
        back->message_key != h.message_key || back->time != h.time || !(back->client == h.client)) {
      std::abort();
    }
  }
  return 0;
}
