#include "meshbl/feed/report.h"

#include <sodium.h>

#include <charconv>
#include <ctime>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "feed/text_util.h"
#include "meshbl/feed/traps.h"

namespace meshbl::feed {
namespace {

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(std::string(what)); }

// ---- report lines ----

void AppendEscaped(std::string* out, std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '\\' || c == '"') {
      char buf[5] = {'\\', static_cast<char>('0' + u / 100), static_cast<char>('0' + u / 10 % 10),
                     static_cast<char>('0' + u % 10), 0};
      out->append(buf, 4);
    } else {
      out->push_back(c);
    }
  }
}

absl::StatusOr<std::string> Unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      out.push_back(v[i]);
      continue;
    }
    if (i + 1 >= v.size()) return Bad("'\\' at the end of a value");
    if (absl::ascii_isdigit(static_cast<unsigned char>(v[i + 1]))) {
      if (v.size() - i < 4 || !absl::ascii_isdigit(static_cast<unsigned char>(v[i + 2])) ||
          !absl::ascii_isdigit(static_cast<unsigned char>(v[i + 3]))) {
        return Bad("'\\' and a digit not followed by 3 digits in all (\\DDD)");
      }
      const int b = (v[i + 1] - '0') * 100 + (v[i + 2] - '0') * 10 + (v[i + 3] - '0');
      if (b > 255) return Bad(absl::StrCat("\\", b, ": above 255"));
      out.push_back(static_cast<char>(b));
      i += 3;
    } else {
      out.push_back(v[i + 1]);
      ++i;
    }
  }
  if (out.size() > kMaxReportValue) {
    return Bad(absl::StrCat("value longer than ", kMaxReportValue, " bytes"));
  }
  return out;
}

std::optional<TrapHash> ParseHashHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  TrapHash h{};
  for (std::size_t i = 0; i < 32; ++i) {
    std::uint8_t b = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, b, 16);
    if (ec != std::errc() || p != hex.data() + 2 * i + 2) return std::nullopt;
    h[i] = b;
  }
  return h;
}

// ---- MIME (RFC 2045/2046/5322), as much as ARF needs ----
//
// By hand rather than with GMime (libgmime-3.0-dev): ARF needs the header
// fields of three parts and the part boundaries, not a MIME tree, charset
// conversion or encoded words. GMime would bring glib (its allocator, its
// global init, a main-loop type system) into meshbl_feed, which meshbld
// links, for ~250 lines of bounded parsing that the arf fuzz target and
// report_test's generated reports cover; base64 is libsodium's decoder.

struct Header {
  std::string name;   // lowercased
  std::string value;  // unfolded, trimmed
};

// Splits `text` at its first empty line: headers (unfolded) and body.
absl::StatusOr<std::vector<Header>> ParseHeaders(std::string_view text, std::string_view* body,
                                                 const std::string& where) {
  std::vector<Header> out;
  std::size_t pos = 0;
  while (true) {
    if (pos >= text.size()) {  // no empty line: all headers, no body
      *body = std::string_view();
      break;
    }
    const std::size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      *body = text.substr(pos);
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (out.empty()) {
        return Bad(absl::StrCat(where, ": continuation line before any header field"));
      }
      if (out.back().value.size() + line.size() > 64 * 1024) {
        return Bad(absl::StrCat(where, ": header field longer than 64 KiB"));
      }
      absl::StrAppend(&out.back().value, " ", std::string(text::Trim(line)));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Bad(absl::StrCat(where, ": '", text::Shown(line), "' is not a header field"));
    }
    const std::string_view name = text::TrimRight(line.substr(0, colon));
    for (char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f) {
        return Bad(absl::StrCat(where, ": bad header field name '", text::Shown(name), "'"));
      }
    }
    if (out.size() >= 1000) return Bad(absl::StrCat(where, ": more than 1000 header fields"));
    out.push_back({text::Lower((name)), std::string(text::Trim(line.substr(colon + 1)))});
  }
  return out;
}

const Header* Find(const std::vector<Header>& hs, std::string_view name) {
  for (const Header& h : hs) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

// Drops RFC 5322 comments "(...)" (nested, with quoted pairs).
std::string StripComments(std::string_view v) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '\\' && i + 1 < v.size() && (quoted || depth > 0)) {
      if (depth == 0) {
        out.push_back(c);
        out.push_back(v[i + 1]);
      }
      ++i;
      continue;
    }
    if (depth == 0 && c == '"') quoted = !quoted;
    if (!quoted && c == '(') {
      ++depth;
      continue;
    }
    if (!quoted && c == ')' && depth > 0) {
      --depth;
      continue;
    }
    if (depth == 0) out.push_back(c);
  }
  return out;
}

struct ContentType {
  std::string type;                                         // "multipart/report", lowercased
  std::vector<std::pair<std::string, std::string>> params;  // name lowercased
  std::string Param(std::string_view name) const {
    for (const auto& [n, v] : params) {
      if (n == name) return v;
    }
    return {};
  }
};

absl::StatusOr<ContentType> ParseContentType(std::string_view raw) {
  const std::string v = StripComments(raw);
  ContentType ct;
  std::size_t i = v.find(';');
  ct.type = text::Lower(std::string(text::Trim(std::string_view(v).substr(0, i))));
  if (ct.type.find('/') == std::string::npos) {
    return Bad(absl::StrCat("Content-Type '", text::Shown(raw), "': no type/subtype"));
  }
  while (i != std::string::npos && i < v.size()) {
    ++i;  // past ';'
    while (i < v.size() && absl::ascii_isspace(static_cast<unsigned char>(v[i]))) ++i;
    if (i >= v.size()) break;
    const std::size_t eq = v.find('=', i);
    if (eq == std::string::npos)
      return Bad(absl::StrCat("Content-Type '", text::Shown(raw), "': parameter without '='"));
    std::string name = text::Lower(std::string(text::Trim(std::string_view(v).substr(i, eq - i))));
    i = eq + 1;
    while (i < v.size() && absl::ascii_isspace(static_cast<unsigned char>(v[i]))) ++i;
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      for (; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
          value.push_back(v[++i]);
        } else if (v[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          value.push_back(v[i]);
        }
      }
      if (!closed)
        return Bad(absl::StrCat("Content-Type '", text::Shown(raw), "': unclosed quote"));
      i = v.find(';', i);
    } else {
      const std::size_t end = v.find(';', i);
      value = std::string(text::Trim(
          std::string_view(v).substr(i, end == std::string::npos ? std::string::npos : end - i)));
      i = end;
    }
    if (ct.params.size() < 64) ct.params.emplace_back(std::move(name), std::move(value));
  }
  return ct;
}

// The body parts of a multipart body (RFC 2046 5.1.1): between delimiter
// lines "--BOUNDARY" (trailing whitespace allowed) up to "--BOUNDARY--".
absl::StatusOr<std::vector<std::string_view>> SplitMultipart(std::string_view body,
                                                             std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 70) {
    return Bad("multipart boundary missing or longer than 70 bytes");
  }
  const std::string delim = absl::StrCat("--", std::string(boundary));
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  std::optional<std::size_t> part_start;
  bool closed = false;
  while (pos < body.size()) {
    const std::size_t nl = body.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    const std::size_t next = nl == std::string_view::npos ? body.size() : nl + 1;
    if (std::string_view(line).starts_with(delim)) {
      std::string_view tail = line.substr(delim.size());
      const bool close = std::string_view(tail).starts_with("--");
      if (close) tail.remove_prefix(2);
      if (text::Trim(tail).empty()) {
        if (part_start) {
          // The line break before the delimiter belongs to it.
          std::size_t stop = pos;
          if (stop > *part_start && body[stop - 1] == '\n') --stop;
          if (stop > *part_start && body[stop - 1] == '\r') --stop;
          if (parts.size() >= 100) return Bad("more than 100 body parts");
          parts.push_back(body.substr(*part_start, stop - *part_start));
        }
        if (close) {
          closed = true;
          break;
        }
        part_start = next;
      }
    }
    pos = next;
  }
  if (!closed) {
    if (!part_start) return Bad("no multipart delimiter line (--BOUNDARY)");
    // Tolerate a missing close delimiter: the last part runs to the end.
    if (parts.size() >= 100) return Bad("more than 100 body parts");
    parts.push_back(body.substr(*part_start));
  }
  return parts;
}

absl::StatusOr<std::string> DecodeBody(std::string_view body, const std::vector<Header>& hs,
                                       const std::string& where) {
  const Header* cte = Find(hs, "content-transfer-encoding");
  const std::string enc =
      cte ? text::Lower((text::Trim(StripComments(cte->value)))) : std::string("7bit");
  if (enc == "7bit" || enc == "8bit" || enc == "binary") return std::string(body);
  if (enc == "base64") {
    std::string out(body.size() / 4 * 3 + 3, '\0');
    std::size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), body.data(),
                          body.size(), " \t\r\n", &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
      return Bad(absl::StrCat(where, ": bad base64"));
    }
    out.resize(len);
    return out;
  }
  if (enc == "quoted-printable") {
    std::string out;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '=') {
        out.push_back(body[i]);
        continue;
      }
      std::size_t j = i + 1;
      if (j < body.size() && (body[j] == '\r' || body[j] == '\n')) {  // soft line break
        if (body[j] == '\r') ++j;
        if (j < body.size() && body[j] == '\n') ++j;
        i = j - 1;
        continue;
      }
      std::uint8_t b = 0;
      if (body.size() - j < 2 ||
          std::from_chars(body.data() + j, body.data() + j + 2, b, 16).ptr != body.data() + j + 2) {
        out.push_back('=');  // RFC 2045 6.7 (1): leave an illegal '=' as it is
        continue;
      }
      out.push_back(static_cast<char>(b));
      i = j + 1;
    }
    return out;
  }
  return Bad(absl::StrCat(where, ": unknown Content-Transfer-Encoding '", text::Shown(enc), "'"));
}

// "<a@b>" or "a@b" (a path of an Original-Mail-From / Original-Rcpt-To,
// possibly with an RFC 3464 "rfc822;" type prefix).
std::string AddressOf(std::string_view v) {
  std::string s = StripComments(v);
  std::string_view t = text::Trim(s);
  if (t.size() > 7 && text::IEquals(t.substr(0, 7), "rfc822;")) {
    t = text::Trim(t.substr(7));
  }
  if (const std::size_t lt = t.find('<'); lt != std::string_view::npos) {
    const std::size_t gt = t.find('>', lt);
    t = t.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
  }
  return std::string(text::Trim(t));
}

}  // namespace

std::string FallbackMessageKey(const dns::IpAddress& client, std::string_view sender,
                               std::int64_t time) {
  return absl::StrCat(client.ToString(), " ", std::string(sender), " ", time);
}

absl::StatusOr<TrapHit> ParseReportLine(std::string_view line, std::int64_t now) {
  if (line.size() > kMaxReportLine) {
    return Bad(absl::StrCat("report line longer than ", kMaxReportLine, " bytes"));
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (words.size() >= 16) return Bad("too many fields");
    words.push_back(line.substr(i, j - i));
    i = j;
  }
  if (words.empty() || words[0] != "hit") {
    return Bad(words.empty() ? std::string("empty line")
                             : absl::StrCat("'", text::Shown(words[0]),
                                            "': a report line starts with 'hit'"));
  }
  if (words.size() < 3) return Bad("'hit CLIENT_IP TRAP': client address or trap missing");
  TrapHit hit;
  auto ip = dns::IpAddress::Parse(words[1]);
  if (!ip) return Bad(absl::StrCat("'", text::Shown(words[1]), "' is not an IP address"));
  hit.client = *ip;
  if (std::string_view(words[2]).starts_with("sha256:")) {
    auto h = ParseHashHex(words[2].substr(7));
    if (!h) return Bad(absl::StrCat("'", text::Shown(words[2]), "': sha256: needs 64 hex digits"));
    hit.trap = *h;
  } else {
    auto addr = Unescape(words[2]);
    if (!addr.ok()) return Bad(absl::StrCat("trap: ", addr.status().message()));
    auto norm = NormalizeTrapAddress(*addr, /*allow_domain=*/false);
    if (!norm.ok()) return Bad(absl::StrCat("bad trap address ", norm.status().message()));
    hit.trap = HashTrapAddress(*norm);
  }
  bool have_time = false, have_id = false;
  std::uint32_t seen = 0;
  hit.via = "report";
  for (std::size_t w = 3; w < words.size(); ++w) {
    const std::size_t eq = words[w].find('=');
    if (eq == std::string_view::npos) {
      return Bad(absl::StrCat("'", text::Shown(words[w]), "': expected NAME=VALUE"));
    }
    const std::string_view name = words[w].substr(0, eq);
    auto value = Unescape(words[w].substr(eq + 1));
    if (!value.ok()) return Bad(absl::StrCat(std::string(name), "=: ", value.status().message()));
    static constexpr std::string_view kNames[] = {"helo", "from", "id", "time", "via"};
    std::size_t k = 0;
    while (k < 5 && kNames[k] != name) ++k;
    if (k == 5) return Bad(absl::StrCat("unknown field '", text::Shown(name), "='"));
    if ((seen & (1u << k)) != 0)
      return Bad(absl::StrCat("field '", std::string(name), "=' given twice"));
    seen |= 1u << k;
    switch (k) {
      case 0:
        hit.helo = *std::move(value);
        break;
      case 1:
        hit.sender = *std::move(value);
        break;
      case 2:
        hit.message_key = *std::move(value);
        have_id = true;
        break;
      case 3: {
        std::int64_t t = 0;
        auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), t);
        if (value->empty() || ec != std::errc() || p != value->data() + value->size() || t < 0) {
          return Bad(absl::StrCat("time=", text::Shown(*value), ": not Unix seconds"));
        }
        hit.time = t;
        have_time = true;
        break;
      }
      default:
        if (*value != "report" && *value != "arf") {
          return Bad(absl::StrCat("via=", text::Shown(*value), ": report or arf"));
        }
        hit.via = *std::move(value);
    }
  }
  if (!have_time) hit.time = now;
  if (!have_id || hit.message_key.empty()) {
    hit.message_key = FallbackMessageKey(hit.client, hit.sender, hit.time);
  }
  return hit;
}

absl::StatusOr<std::vector<TrapHit>> ParseReportLines(std::string_view text, std::string_view name,
                                                      std::int64_t now) {
  std::vector<TrapHit> hits;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::string_view trimmed = text::Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    auto hit = ParseReportLine(line, now);
    if (!hit.ok()) {
      return Bad(absl::StrCat(std::string(name), ":", line_no, ": ", hit.status().message()));
    }
    hits.push_back(*std::move(hit));
  }
  return hits;
}

std::string FormatReportLine(const TrapHit& hit) {
  std::string out = absl::StrCat("hit ", hit.client.ToString(), " sha256:");
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : hit.trap) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  out += " helo=";
  AppendEscaped(&out, hit.helo);
  out += " from=";
  AppendEscaped(&out, hit.sender);
  out += " id=";
  AppendEscaped(&out, hit.message_key);
  absl::StrAppend(&out, " time=", hit.time, " via=");
  AppendEscaped(&out, hit.via.empty() ? std::string_view("report") : std::string_view(hit.via));
  return out;
}

absl::StatusOr<std::int64_t> ParseRfc5322Date(std::string_view text) {
  const std::string s = StripComments(text);
  std::vector<std::string> w;
  {
    std::string cur;
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == ',') {
        if (!cur.empty()) w.push_back(std::move(cur));
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) w.push_back(std::move(cur));
  }
  auto bad = [&] {
    return Bad(absl::StrCat("date '", text::Shown(text), "' is not an RFC 5322 date"));
  };
  std::size_t i = 0;
  if (!w.empty() && !w[0].empty() && absl::ascii_isalpha(static_cast<unsigned char>(w[0][0]))) {
    ++i;  // day name
  }
  if (w.size() < i + 4) return bad();
  auto num = [](std::string_view v, int* out) {
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
    return !v.empty() && ec == std::errc() && p == v.data() + v.size();
  };
  int day = 0, year = 0;
  if (!num(w[i], &day) || day < 1 || day > 31) return bad();
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::string mon = text::Lower(w[i + 1]);
  int month = -1;
  for (int m = 0; m < 12; ++m) {
    if (mon == kMonths[m]) month = m;
  }
  if (month < 0 || !num(w[i + 2], &year)) return bad();
  if (w[i + 2].size() == 2) year += year < 50 ? 2000 : 1900;  // RFC 5322 4.3
  if (w[i + 2].size() == 3) year += 1900;
  if (year < 1900 || year > 9999) return bad();
  int hh = 0, mm = 0, ss = 0;
  {
    const std::string& t = w[i + 3];
    const std::size_t c1 = t.find(':');
    if (c1 == std::string::npos) return bad();
    const std::size_t c2 = t.find(':', c1 + 1);
    if (!num(std::string_view(t).substr(0, c1), &hh) ||
        !num(std::string_view(t).substr(c1 + 1,
                                        c2 == std::string::npos ? std::string::npos : c2 - c1 - 1),
             &mm) ||
        (c2 != std::string::npos && !num(std::string_view(t).substr(c2 + 1), &ss)) || hh > 23 ||
        mm > 59 || ss > 60) {
      return bad();
    }
  }
  int offset = 0;  // minutes east of UTC
  if (w.size() > i + 4) {
    const std::string& z = w[i + 4];
    if ((z[0] == '+' || z[0] == '-') && z.size() == 5) {
      int v = 0;
      if (!num(std::string_view(z).substr(1), &v) || v % 100 > 59) return bad();
      offset = (v / 100 * 60 + v % 100) * (z[0] == '-' ? -1 : 1);
    } else {
      static constexpr std::pair<std::string_view, int> kZones[] = {
          {"ut", 0},        {"gmt", 0},       {"z", 0},         {"est", -5 * 60},
          {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60}, {"mst", -7 * 60},
          {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60}};
      const std::string lz = text::Lower(z);
      bool found = false;
      for (const auto& [n, o] : kZones) {
        if (lz == n) {
          offset = o;
          found = true;
        }
      }
      // RFC 5322 4.3: other (military, unknown) zones count as +0000.
      if (!found && !(lz.size() <= 5 && absl::ascii_isalpha(static_cast<unsigned char>(lz[0])))) {
        return bad();
      }
    }
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  const std::int64_t t = static_cast<std::int64_t>(timegm(&tm)) - std::int64_t{offset} * 60;
  if (t < 0) return Bad(absl::StrCat("date '", text::Shown(text), "' is before 1970"));
  return t;
}

absl::StatusOr<std::vector<TrapHit>> ParseArfReport(std::string_view message, std::int64_t now) {
  if (message.size() > kMaxArfMessage) {
    return Bad(absl::StrCat("ARF message longer than ", kMaxArfMessage, " bytes"));
  }
  std::string_view body;
  auto top = ParseHeaders(message, &body, "ARF message headers");
  if (!top.ok()) return top.status();
  const Header* ct_h = Find(*top, "content-type");
  if (ct_h == nullptr) return Bad("ARF message without Content-Type (not multipart/report)");
  auto ct = ParseContentType(ct_h->value);
  if (!ct.ok()) return ct.status();
  if (ct->type != "multipart/report") {
    return Bad(absl::StrCat("Content-Type ", ct->type, " is not multipart/report"));
  }
  if (!text::IEquals(ct->Param("report-type"), "feedback-report")) {
    return Bad(absl::StrCat("multipart/report with report-type '",
                            text::Shown(ct->Param("report-type")), "', not feedback-report"));
  }
  auto parts = SplitMultipart(body, ct->Param("boundary"));
  if (!parts.ok()) return parts.status();
  // RFC 5965 2: part 1 human-readable, part 2 message/feedback-report,
  // part 3 (optional here) the original message or its headers.
  std::optional<std::size_t> report_index;
  std::vector<Header> report_fields;
  std::vector<Header> original;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    std::string_view part_body;
    const std::string where = absl::StrCat("part ", i + 1);
    auto ph = ParseHeaders((*parts)[i], &part_body, where);
    if (!ph.ok()) return ph.status();
    const Header* pct = Find(*ph, "content-type");
    std::string type = "text/plain";
    if (pct) {
      auto p = ParseContentType(pct->value);
      if (!p.ok()) return Bad(absl::StrCat(where, ": ", p.status().message()));
      type = p->type;
    }
    if (type == "message/feedback-report" && !report_index) {
      report_index = i;
      auto decoded = DecodeBody(part_body, *ph, where);
      if (!decoded.ok()) return decoded.status();
      std::string_view rest;
      auto fields = ParseHeaders(*decoded, &rest, "feedback report");
      if (!fields.ok()) return fields.status();
      report_fields = *std::move(fields);
    } else if ((type == "message/rfc822" || type == "text/rfc822-headers") && report_index &&
               original.empty()) {
      auto decoded = DecodeBody(part_body, *ph, where);
      if (!decoded.ok()) return decoded.status();
      std::string_view rest;
      // A malformed original is no reason to drop the report: only its
      // Message-ID is used.
      auto fields = ParseHeaders(*decoded, &rest, "original message");
      if (fields.ok()) original = *std::move(fields);
    }
  }
  if (!report_index) return Bad("no part of type message/feedback-report");
  if (!Find(report_fields, "feedback-type")) return Bad("feedback report without Feedback-Type");
  const Header* src = Find(report_fields, "source-ip");
  if (src == nullptr) return Bad("feedback report without Source-IP (the source to list)");
  std::string src_text(text::Trim(StripComments(src->value)));
  if (src_text.size() > 2 && src_text.front() == '[' && src_text.back() == ']') {
    src_text = src_text.substr(1, src_text.size() - 2);
  }
  auto ip = dns::IpAddress::Parse(src_text);
  if (!ip)
    return Bad(absl::StrCat("feedback report: Source-IP '", text::Shown(src->value),
                            "' is not an IP address"));
  std::int64_t time = now;
  if (const Header* d = Find(report_fields, "arrival-date")) {
    auto t = ParseRfc5322Date(d->value);
    if (!t.ok()) return Bad(absl::StrCat("feedback report: Arrival-Date: ", t.status().message()));
    time = *t;
  } else if (const Header* rd = Find(report_fields, "received-date")) {
    auto t = ParseRfc5322Date(rd->value);
    if (!t.ok()) return Bad(absl::StrCat("feedback report: Received-Date: ", t.status().message()));
    time = *t;
  }
  std::string sender;
  if (const Header* f = Find(report_fields, "original-mail-from")) sender = AddressOf(f->value);
  std::string key;
  if (const Header* mid = Find(original, "message-id")) {
    key = std::string(text::Trim(mid->value));
  } else if (const Header* env = Find(report_fields, "original-envelope-id")) {
    key = std::string(text::Trim(env->value));
  }
  if (key.size() > kMaxReportValue) key.resize(kMaxReportValue);
  if (sender.size() > kMaxReportValue) return Bad("feedback report: Original-Mail-From too long");
  if (key.empty()) key = FallbackMessageKey(*ip, sender, time);
  std::vector<TrapHit> hits;
  for (const Header& h : report_fields) {
    if (h.name != "original-rcpt-to") continue;
    if (hits.size() >= kMaxArfRecipients) {
      return Bad(absl::StrCat("feedback report: more than ", kMaxArfRecipients,
                              " Original-Rcpt-To fields"));
    }
    auto addr = NormalizeTrapAddress(AddressOf(h.value), /*allow_domain=*/false);
    if (!addr.ok()) {
      return Bad(absl::StrCat("feedback report: Original-Rcpt-To ", addr.status().message()));
    }
    TrapHit hit;
    hit.client = *ip;
    hit.sender = sender;
    hit.trap = HashTrapAddress(*addr);
    hit.message_key = key;
    hit.time = time;
    hit.via = "arf";
    hits.push_back(std::move(hit));
  }
  if (hits.empty()) return Bad("feedback report without Original-Rcpt-To (the trap is not named)");
  return hits;
}

}  // namespace meshbl::feed
