// dnset (§4.6): `[!][.|*.]domain [value]` names and wildcards, and a `:` default per file.
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

void DnSetLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  if (s[0] == ':') return p.DefaultLine(s, ctx);
  const bool excl = TypeParser::TakeExclusion(&s);
  bool wild = false, plain = true;
  if (!s.empty() && s[0] == '.') {
    wild = true;
    s.remove_prefix(1);
  } else if (s.size() >= 2 && s[0] == '*' && s[1] == '.') {
    wild = true;
    plain = false;
    s.remove_prefix(2);
  }
  std::string& name = p.name_scratch();
  if (!ParseDomainWord(&s, /*lowercase=*/true, &name) || name.empty()) {
    return ctx.Warn("invalid domain name");
  }
  table::Value scratch;
  const table::Value* v = nullptr;  // nullptr = exclusion
  if (!excl && (v = p.EntryValue(s, &scratch, ctx)) == nullptr) return;
  for (DatasetBuilder* b : p.sinks()) {
    if (plain) b->AddName(name, false, v);
    if (wild) b->AddName(name, true, v);
  }
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  DnSetLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kDnSetParser = {
    .type = table::DatasetType::kDnSet,
    .parse_line = Parse,
};

}  // namespace meshbl::zone
