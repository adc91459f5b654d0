// ip6trie (§4.4): `[!]ipv6[/len] [value]` prefixes, first wins, and a `:` default per file.
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

void Ip6TrieLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  // `::1` starts an address; a single `:` starts a default line.
  if (s[0] == ':' && (s.size() < 2 || s[1] != ':')) return p.DefaultLine(s, ctx);
  const bool excl = TypeParser::TakeExclusion(&s);
  Ip6Addr addr;
  std::string_view rest;
  int bits = ParseIp6Cidr(s, &addr, &rest);
  if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
  if (MaskIp6(&addr, bits) && !ctx.options->accept_host_bits) {
    return ctx.Warn("invalid range (non-zero host part)");
  }
  table::Value scratch;
  const table::Value* v = nullptr;  // nullptr = exclusion
  if (!excl && (v = p.EntryValue(rest, &scratch, ctx)) == nullptr) return;
  bool added = true;
  for (DatasetBuilder* b : p.sinks()) added = b->AddIp6Prefix(addr, bits, v);
  if (!added) ctx.Warn(absl::StrCat("duplicated entry for ", Ip6Text(addr), "/", bits));
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  Ip6TrieLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kIp6TrieParser = {
    .type = table::DatasetType::kIp6Trie,
    .parse_line = Parse,
};

}  // namespace meshbl::zone
