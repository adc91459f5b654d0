// ip4set (§4.1): `[!]a.b.c.d[-e.f.g.h | /len] [value]` ranges and a `:` default per file.
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

void Ip4SetLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  if (s[0] == ':') return p.DefaultLine(s, ctx);
  const bool excl = TypeParser::TakeExclusion(&s);
  std::uint32_t first = 0, last = 0;
  std::string_view rest;
  int bits = ParseIp4Range(s, &first, &last, &rest);
  if (bits <= 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
  if (ctx.options->accept_host_bits) {
    first &= Ip4Mask(bits);
  } else if ((first & ~Ip4Mask(bits)) != 0) {
    return ctx.Warn("invalid range (non-zero host part)");
  }
  if (ctx.OverMaxRange(std::uint64_t{last} - first)) return;
  table::Value scratch;
  const table::Value* v = nullptr;  // nullptr = exclusion
  if (!excl && (v = p.EntryValue(rest, &scratch, ctx)) == nullptr) return;
  for (DatasetBuilder* b : p.sinks()) b->AddIp4Range(first, last, v);
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  Ip4SetLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kIp4SetParser = {
    .type = table::DatasetType::kIp4Set,
    .parse_line = Parse,
};

}  // namespace meshbl::zone
