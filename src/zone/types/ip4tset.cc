// ip4tset (§4.2): one IPv4 address a line; the first `:` line is the value of the whole dataset.
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

void Ip4TSetLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  if (s[0] == ':') return p.DatasetValueLine(s, ctx);
  std::uint32_t a = 0;
  std::string_view rest;
  if (ParseIp4Prefix(s, &a, &rest) != 32 || !IsValidKeyTail(rest)) {
    return ctx.Warn("invalid address");
  }
  for (DatasetBuilder* b : p.sinks()) b->AddIp4Host(a);
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  Ip4TSetLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kIp4TSetParser = {
    .type = table::DatasetType::kIp4TSet,
    .parse_line = Parse,
};

}  // namespace meshbl::zone
