// ip4trie (§4.3): `[!]a.b.c.d[/len] [value]` CIDR prefixes, first wins, and a `:` default per file.
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

void Ip4TrieLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  if (s[0] == ':') return p.DefaultLine(s, ctx);
  const bool excl = TypeParser::TakeExclusion(&s);
  std::uint32_t a = 0;
  std::string_view rest;
  int bits = ParseIp4Cidr(s, &a, &rest);
  if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
  if (ctx.options->accept_host_bits) {
    a &= Ip4Mask(bits);
  } else if ((a & ~Ip4Mask(bits)) != 0) {
    return ctx.Warn("invalid range (non-zero host part)");
  }
  if (ctx.OverMaxRange(~Ip4Mask(bits))) return;
  table::Value scratch;
  const table::Value* v = nullptr;  // nullptr = exclusion
  if (!excl && (v = p.EntryValue(rest, &scratch, ctx)) == nullptr) return;
  bool added = true;
  for (DatasetBuilder* b : p.sinks()) added = b->AddIp4Prefix(a, bits, v);
  if (!added) ctx.Warn(absl::StrCat("duplicated entry for ", Ip4Text(a), "/", bits));
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  Ip4TrieLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kIp4TrieParser = {
    .type = table::DatasetType::kIp4Trie,
    .parse_line = Parse,
};

}  // namespace meshbl::zone
