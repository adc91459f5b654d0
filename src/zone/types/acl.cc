// acl (§4.9): client prefixes with `:action`, `=action` or an A/TXT value (always listed), and a
// default line.
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/zone/parse_util.h"
#include "zone/type_parser.h"
#include "zone/types/parsers.h"

namespace meshbl::zone {
namespace {

using table::AclAction;
using table::DatasetBuilder;

// ACL keywords (§4.9); a prefix of a keyword followed by end, ':', blank
// or comment is accepted, as rbldnsd does (`:ref` = refuse).
bool AclKeyword(std::string_view s, AclAction* action) {
  static constexpr std::pair<std::string_view, AclAction> kKeywords[] = {
      {"ignore", AclAction::kIgnore}, {"blackhole", AclAction::kIgnore},
      {"refuse", AclAction::kRefuse}, {"empty", AclAction::kEmpty},
      {"pass", AclAction::kPass},
  };
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
    return false;
  }
  for (const auto& [word, act] : kKeywords) {
    for (std::size_t i = 0; i < word.size() && i < s.size(); ++i) {
      if (static_cast<char>(dns::ToLowerAscii(static_cast<std::uint8_t>(s[i]))) != word[i]) {
        break;
      }
      const std::size_t next = i + 1;
      if (next == s.size() || s[next] == ':' || IsBlank(s[next]) || IsCommentChar(s[next])) {
        *action = act;
        return true;
      }
    }
  }
  return false;
}

// An ACL value: `=keyword`, `:keyword` or an A/TXT value (always listed).
bool AclValue(TypeParser& p, std::string_view s, AclAction* action, table::Value* v,
              const LoadContext& ctx) {
  if (s[0] == '=') {
    if (AclKeyword(s.substr(1), action)) return true;
    ctx.Warn("invalid keyword");
    return false;
  }
  if (s[0] == ':' && AclKeyword(s.substr(1), action)) return true;
  if (!TypeParser::CheckedValue(s, p.scope_default(), v, ctx)) return false;
  *action = AclAction::kAlways;
  return true;
}

void AclLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  if ((s[0] == ':' && (s.size() < 2 || s[1] != ':')) || s[0] == '=') {
    AclAction action = AclAction::kIgnore;
    table::Value v;
    if (!AclValue(p, s, &action, &v, ctx)) return;
    p.acl_default_action() = action;
    // rbldnsd crashes on an entry needing the default A/TXT after a
    // keyword default (§4.9); meshbl falls back to the built-in one (§9).
    p.scope_default() = action == AclAction::kAlways ? std::move(v) : BuiltinDefault();
    return;
  }
  std::uint32_t a4 = 0;
  Ip6Addr a6;
  std::string_view rest;
  int bits = ParseIp4Cidr(s, &a4, &rest);
  const bool is4 = bits >= 0 && IsValidKeyTail(rest);
  if (is4) {
    if (ctx.options->accept_host_bits) {
      a4 &= Ip4Mask(bits);
    } else if ((a4 & ~Ip4Mask(bits)) != 0) {
      return ctx.Warn("invalid range (non-zero host part)");
    }
    if (ctx.OverMaxRange(~Ip4Mask(bits))) return;
  } else {
    bits = ParseIp6Cidr(s, &a6, &rest);
    if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
    if (MaskIp6(&a6, bits) && !ctx.options->accept_host_bits) {
      return ctx.Warn("invalid range (non-zero host part)");
    }
  }
  SkipBlanks(&rest);
  AclAction action = p.acl_default_action();
  table::Value v = p.scope_default();
  if (!rest.empty() && !IsCommentChar(rest[0]) && !AclValue(p, rest, &action, &v, ctx)) return;
  bool added = true;
  for (DatasetBuilder* b : p.sinks()) {
    added = is4 ? b->AddAcl4(a4, bits, action, &v) : b->AddAcl6(a6, bits, action, &v);
  }
  if (!added) {
    ctx.Warn(absl::StrCat("duplicated entry for ", is4 ? Ip4Text(a4) : Ip6Text(a6), "/", bits));
  }
}

absl::Status Parse(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  AclLine(p, s, ctx);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kAclParser = {
    .type = table::DatasetType::kAcl,
    .parse_line = Parse,
    .zone_data = false,
};

}  // namespace meshbl::zone
