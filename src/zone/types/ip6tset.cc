// ip6tset (§4.5): listed /64 networks and `!` excluded /128 addresses; the first `:` line is the
// value of the whole dataset.
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/builder.h"
#include "meshbl/zone/parse_util.h"
#include "zone/type_parser.h"
#include "zone/types/parsers.h"

namespace meshbl::zone {
namespace {

using table::AclAction;
using table::DatasetBuilder;

void Ip6TSetLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  if (s[0] == ':') return p.DatasetValueLine(s, ctx);  // even `::1` (§4.5)
  const bool excl = TypeParser::TakeExclusion(&s);
  Ip6Addr addr;
  std::string_view rest;
  int bits = ParseIp6Prefix(s, &addr, &rest);
  if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
  if (bits != (excl ? 128 : 64)) {
    return ctx.Warn(excl ? "invalid address for exclusion (should be 128 bits)"
                         : "invalid address for regular entry (should be 64 bits)");
  }
  if (excl) {
    for (DatasetBuilder* b : p.sinks()) b->AddIp6Excluded(addr);
    return;
  }
  std::uint64_t net = 0;
  for (std::size_t i = 0; i < 8; ++i) net = (net << 8) | addr[i];
  for (DatasetBuilder* b : p.sinks()) b->AddIp6Net64(net);
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  Ip6TSetLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kIp6TSetParser = {
    .type = table::DatasetType::kIp6TSet,
    .parse_line = Parse,
};

}  // namespace meshbl::zone
