// generic (§4.7): `name [ttl] [IN] type data` records of type A, TXT and MX.
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

// generic (§4.7): `name [ttl] [IN] type data`. Returns an error only for
// the fatal cases (TTL not a time, MX host missing or followed by junk).
absl::Status GenericLine(TypeParser& p, std::string_view s, const LoadContext& ctx) {
  std::string name;
  if (s[0] == '@' && s.size() > 1 && IsBlank(s[1])) {
    s.remove_prefix(2);
    SkipBlanks(&s);
  } else if (!ParseDomainWord(&s, /*lowercase=*/true, &name) || name.empty()) {
    ctx.Warn("invalid/unrecognized entry");
    return absl::OkStatus();
  }
  SkipBlanks(&s);
  std::uint32_t ttl = p.ttl();
  if (!s.empty() && IsDigit(s[0])) {
    if (!ParseTtl(&s, p.ttl(), ctx.options->min_ttl, ctx.options->max_ttl, &ttl)) {
      return ctx.Fatal("invalid TTL");
    }
    SkipBlanks(&s);
  }
  if (s.size() > 2 && (s[0] == 'i' || s[0] == 'I') && (s[1] == 'n' || s[1] == 'N') &&
      IsBlank(s[2])) {
    s.remove_prefix(2);
    SkipBlanks(&s);
  }
  std::size_t n = 0;
  while (n < s.size() && !IsBlank(s[n])) ++n;
  if (n == s.size()) {  // no data after the type
    ctx.Warn("invalid/unrecognized entry");
    return absl::OkStatus();
  }
  std::string type(s.substr(0, n));
  for (char& c : type) c = static_cast<char>(dns::ToLowerAscii(static_cast<std::uint8_t>(c)));
  s.remove_prefix(n);
  SkipBlanks(&s);

  std::uint16_t rrtype = 0;
  std::string rdata;
  if (type == "a") {
    std::uint32_t a = 0;
    std::string_view rest;
    if (ParseIp4Addr(s, &a, &rest) <= 0) {
      ctx.Warn("invalid/unrecognized entry");
      return absl::OkStatus();
    }
    rrtype = table::kTypeA;
    rdata = {static_cast<char>(a >> 24), static_cast<char>((a >> 16) & 255),
             static_cast<char>((a >> 8) & 255), static_cast<char>(a & 255)};
  } else if (type == "txt") {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    if (s.size() > 255) {
      ctx.Warn("TXT RR truncated to 255 bytes");
      s = s.substr(0, 255);
    }
    rrtype = table::kTypeTxt;
    rdata.reserve(s.size() + 1);
    rdata.push_back(static_cast<char>(s.size()));
    rdata.append(s);
  } else if (type == "mx") {
    std::uint32_t pref = 0;
    if (!ParseUint32(&s, &pref) || pref > 0xffff) {
      ctx.Warn("invalid/unrecognized entry");
      return absl::OkStatus();
    }
    std::string host;
    if (!ParseDomainWord(&s, /*lowercase=*/false, &host)) return ctx.Fatal("invalid MX host");
    if (!s.empty()) return ctx.Fatal("trailing data after MX host");
    rrtype = table::kTypeMx;
    rdata.reserve(host.size() + 3);
    rdata.push_back(static_cast<char>(pref >> 8));
    rdata.push_back(static_cast<char>(pref & 255));
    rdata.append(host);
    rdata.push_back('\0');
  } else {
    ctx.Warn("invalid/unrecognized entry");
    return absl::OkStatus();
  }
  for (DatasetBuilder* b : p.sinks()) b->AddGenericRecord(name, rrtype, ttl, rdata);
  return absl::OkStatus();
}

}  // namespace

const DatasetParser kGenericParser = {
    .type = table::DatasetType::kGeneric,
    .parse_line = GenericLine,
};

}  // namespace meshbl::zone
