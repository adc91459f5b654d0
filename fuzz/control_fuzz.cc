// Fuzzes the control channel's parsers (feed/control.h): each input line as
// a request (a command that parses must print back to a line that parses to
// the same command), the input as a reply stream (ReplyDecoder; a decoded
// reply must encode and decode to itself), and the input as a `load` file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meshbl/feed/control.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace meshbl::feed;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ReplyDecoder decoder;
  std::string_view rest = in;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    auto cmd = ParseCommand(line);
    if (cmd.ok()) {
      auto again = ParseCommand(FormatCommand(*cmd));
      if (!again.ok() || !(*again == *cmd)) std::abort();
    }
    auto done = decoder.AddLine(line);
    if (!done.ok()) {
      decoder = ReplyDecoder();
    } else if (*done) {
      const Reply r = decoder.Take();
      const std::string wire = EncodeReply(r);
      ReplyDecoder d2;
      std::string_view w = wire;
      bool complete = false;
      while (!w.empty() && !complete) {
        const std::size_t n = w.find('\n');
        auto st = d2.AddLine(w.substr(0, n));
        if (!st.ok()) std::abort();
        complete = *st;
        w.remove_prefix(n + 1);
      }
      if (!complete || !w.empty() || !(d2.Take() == r)) std::abort();
    }
  }
  (void)ParseLiveListText(in, "fuzz", {});
  return 0;
}
