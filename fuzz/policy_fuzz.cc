// Fuzzes the Postfix policy request parser (feed/policy.h): the input is
// one request as sent (ParsePolicyRequest) and, framed as the event loop
// hands it, every "\n\n"-separated message (ParsePolicyMessage).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshbl/feed/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)meshbl::feed::ParsePolicyRequest(in);
  std::size_t pos = 0;
  for (int i = 0; i < 1000 && pos <= in.size(); ++i) {
    const std::size_t end = in.find("\n\n", pos);
    (void)meshbl::feed::ParsePolicyMessage(
        in.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 2;
  }
  return 0;
}
