#include "meshbl/feed/config.h"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshbl/dns/address.h"
#include "meshbl/util/status_macros.h"

namespace meshbl::feed {
namespace {

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kMaxDuration = 100 * 365 * kDay;
constexpr std::string_view kDurationHint = "(e.g. 90s, 15m, 1h, 7d)";

std::string_view TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

// The file being read: every error names it, the line and the key.
class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  absl::Status Error(const toml::node& n, std::string_view key, std::string_view what) const {
    return ErrorAt(n.source().begin.line, key, what);
  }
  absl::Status ErrorAt(std::uint32_t line, std::string_view key, std::string_view what) const {
    if (line == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_, ": ", std::string(key), ": ", std::string(what)));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ":", line, ": ", std::string(key), ": ", std::string(what)));
  }
  absl::Status WrongType(const toml::node& n, std::string_view key, std::string_view want) const {
    return Error(
        n, key, absl::StrCat("expected ", std::string(want), ", found ", std::string(TypeName(n))));
  }

  absl::StatusOr<std::string> String(const toml::node& n, std::string_view key) const {
    if (!n.is_string()) return WrongType(n, key, "a string");
    return std::string(n.as_string()->get());
  }

  absl::StatusOr<double> Number(const toml::node& n, std::string_view key, double lo, double hi,
                                bool lo_open) const {
    double v = 0;
    if (n.is_integer()) {
      v = static_cast<double>(n.as_integer()->get());
    } else if (n.is_floating_point()) {
      v = n.as_floating_point()->get();
    } else {
      return WrongType(n, key, "a number");
    }
    if (!std::isfinite(v) || v > hi || v < lo || (lo_open && v == lo)) {
      return Error(
          n, key,
          absl::StrCat(v, " is out of range (", lo_open ? "above " : "", lo, "..", hi, ")"));
    }
    return v;
  }

  absl::StatusOr<std::int64_t> Integer(const toml::node& n, std::string_view key, std::int64_t lo,
                                       std::int64_t hi) const {
    if (!n.is_integer()) return WrongType(n, key, "an integer");
    const std::int64_t v = n.as_integer()->get();
    if (v < lo || v > hi) {
      return Error(n, key, absl::StrCat(v, " is out of range (", lo, "..", hi, ")"));
    }
    return v;
  }

  // A duration string in [lo, hi]; `never` also accepts "never" as 0.
  absl::StatusOr<std::int64_t> Duration(const toml::node& n, std::string_view key, std::int64_t lo,
                                        std::int64_t hi, bool never = false) const {
    if (!n.is_string()) return WrongType(n, key, "a duration string like \"1h\"");
    const std::string_view text = n.as_string()->get();
    if (never && text == "never") return 0;
    const auto d = ParseDuration(text);
    if (!d) {
      return Error(
          n, key,
          absl::StrCat("'", std::string(text), "' is not a duration ", std::string(kDurationHint)));
    }
    if (*d < lo || *d > hi) {
      return Error(n, key,
                   absl::StrCat("'", std::string(text), "' is out of range (", FormatDuration(lo),
                                "..", FormatDuration(hi), never ? ", or never" : "", ")"));
    }
    return *d;
  }

  // An array of strings, each passed to `each(node, text, key_with_index)`.
  template <typename F>
  absl::Status Strings(const toml::node& n, std::string_view key, std::size_t max, F each) const {
    if (!n.is_array()) return WrongType(n, key, "an array of strings");
    const toml::array& a = *n.as_array();
    if (a.size() > max) {
      return Error(n, key, absl::StrCat(a.size(), " entries, at most ", max));
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string k = absl::StrCat(std::string(key), "[", i, "]");
      if (!a[i].is_string()) return WrongType(a[i], k, "a string");
      MESHBL_RETURN_IF_ERROR(each(a[i], std::string_view(a[i].as_string()->get()), k));
    }
    return absl::OkStatus();
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

bool ValidListName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

absl::Status CheckReason(std::string_view reason) {
  if (reason.size() > 255) return absl::InvalidArgumentError("longer than 255 bytes");
  for (char c : reason) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat("control byte 0x", absl::Hex(u)));
    }
  }
  return absl::OkStatus();
}

// Postfix policy actions (access(5)) a trap recipient may get.
absl::Status CheckAction(std::string_view action) {
  if (action.empty()) return absl::InvalidArgumentError("empty action");
  if (action.size() > 512) return absl::InvalidArgumentError("longer than 512 bytes");
  for (char c : action) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat("control byte 0x", absl::Hex(u)));
    }
  }
  const std::string_view word = action.substr(0, action.find(' '));
  static constexpr std::string_view kWords[] = {
      "OK",   "DUNNO", "DISCARD", "HOLD",    "REJECT",          "DEFER",
      "WARN", "INFO",  "FILTER",  "PREPEND", "DEFER_IF_PERMIT", "DEFER_IF_REJECT"};
  for (std::string_view w : kWords) {
    if (word == w) return absl::OkStatus();
  }
  if (word.size() == 3 && (word[0] == '4' || word[0] == '5') && std::isdigit(word[1]) &&
      std::isdigit(word[2])) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", std::string(word),
                   "' is not a Postfix action (DISCARD, DUNNO, OK, HOLD, REJECT, DEFER, 4NN/5NN "
                   "text, ...)"));
}

absl::Status CheckListen(std::string_view listen) {
  std::string_view host;
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find("]:");
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("expected ADDRESS:PORT or [IPV6]:PORT");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
    const auto a = dns::IpAddress::Parse(host);
    if (!a || !a->is_v6()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(host), "' is not an IPv6 address"));
    }
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError("expected ADDRESS:PORT or [IPV6]:PORT");
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    const auto a = dns::IpAddress::Parse(host);
    if (!a || !a->is_v4()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", std::string(host), "' is not an IPv4 address (IPv6 as [ADDRESS]:PORT)"));
    }
  }
  std::uint32_t p = 0;
  if (port.empty() || port.size() > 5) return absl::InvalidArgumentError("bad port");
  for (char c : port) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("bad port");
    p = p * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (p == 0 || p > 65535) return absl::InvalidArgumentError("port out of range (1..65535)");
  return absl::OkStatus();
}

absl::StatusOr<ListRules> ParseList(const Reader& r, std::string_view name, const toml::node& node,
                                    std::uint32_t header_line) {
  const std::string base = absl::StrCat("list.", std::string(name));
  if (!ValidListName(name)) {
    return r.ErrorAt(
        header_line, base,
        "a list name is 1..63 bytes of a-z, 0-9, '_' and '-' (served as ZONE:live:NAME)");
  }
  if (!node.is_table()) return r.WrongType(node, base, "a table ([list.NAME])");
  ListRules l;
  l.name = std::string(name);
  bool listing_seen = false;
  for (auto&& [k, v] : *node.as_table()) {
    const std::string_view key = k.str();
    const std::string full = absl::StrCat(base, ".", std::string(key));
    if (key == "threshold") {
      MESHBL_ASSIGN_OR_RETURN(l.threshold, r.Number(v, full, 0, 1e6, true));
    } else if (key == "window") {
      MESHBL_ASSIGN_OR_RETURN(l.window, r.Duration(v, full, 1, 30 * kDay));
    } else if (key == "listing") {
      listing_seen = true;
      l.listing.clear();
      if (v.is_array() && v.as_array()->empty()) {
        return r.Error(v, full, "at least one duration");
      }
      MESHBL_RETURN_IF_ERROR(r.Strings(
          v, full, 16,
          [&](const toml::node& e, std::string_view, std::string_view ek) -> absl::Status {
            MESHBL_ASSIGN_OR_RETURN(const std::int64_t d, r.Duration(e, ek, 1, 3650 * kDay));
            if (!l.listing.empty() && d < l.listing.back()) {
              return r.Error(
                  e, ek,
                  absl::StrCat(FormatDuration(d), " after ", FormatDuration(l.listing.back()),
                               ": listing durations must not decrease"));
            }
            l.listing.push_back(d);
            return absl::OkStatus();
          }));
    } else if (key == "ttl") {
      MESHBL_ASSIGN_OR_RETURN(l.ttl, r.Duration(v, full, 0, kDay));
    } else if (key == "offense_memory") {
      MESHBL_ASSIGN_OR_RETURN(l.offense_memory, r.Duration(v, full, 0, 3650 * kDay));
    } else if (key == "code") {
      MESHBL_ASSIGN_OR_RETURN(const std::int64_t c, r.Integer(v, full, 2, 255));
      l.code = static_cast<std::uint8_t>(c);
    } else if (key == "reason") {
      MESHBL_ASSIGN_OR_RETURN(l.reason, r.String(v, full));
      if (auto st = CheckReason(l.reason); !st.ok())
        return r.Error(v, full, std::string(st.message()));
    } else if (key == "whitelist") {
      l.whitelist.clear();
      MESHBL_RETURN_IF_ERROR(r.Strings(
          v, full, 100000,
          [&](const toml::node& e, std::string_view text, std::string_view ek) -> absl::Status {
            auto s = Subject::Parse(text);
            if (!s.ok()) return r.Error(e, ek, std::string(s.status().message()));
            l.whitelist.push_back(*std::move(s));
            return absl::OkStatus();
          }));
    } else if (key == "never_list") {
      l.never_list = 0;
      bool none = false;
      std::size_t count = 0;
      MESHBL_RETURN_IF_ERROR(r.Strings(
          v, full, 16,
          [&](const toml::node& e, std::string_view text, std::string_view ek) -> absl::Status {
            ++count;
            if (text == "private") {
              l.never_list |= kNeverPrivate;
            } else if (text == "loopback") {
              l.never_list |= kNeverLoopback;
            } else if (text == "link-local") {
              l.never_list |= kNeverLinkLocal;
            } else if (text == "none") {
              none = true;
            } else {
              return r.Error(e, ek,
                             absl::StrCat("'", std::string(text),
                                          "' is not a range (private, loopback, link-local, "
                                          "or none alone)"));
            }
            if (none && count > 1) {
              return r.Error(e, ek, "\"none\" must be alone");
            }
            return absl::OkStatus();
          }));
      if (count == 0) return r.Error(v, full, "empty: write [\"none\"] to list every range");
    } else if (key == "own_mx") {
      l.own_mx.clear();
      MESHBL_RETURN_IF_ERROR(r.Strings(
          v, full, 10000,
          [&](const toml::node& e, std::string_view text, std::string_view ek) -> absl::Status {
            auto s = Subject::Parse(text);
            if (!s.ok()) return r.Error(e, ek, std::string(s.status().message()));
            if (s->kind != Subject::Kind::kIp) {
              return r.Error(
                  e, ek, absl::StrCat("'", std::string(text), "' is not an IP address or network"));
            }
            l.own_mx.push_back(*std::move(s));
            return absl::OkStatus();
          }));
    } else if (key == "trap_weight_min") {
      MESHBL_ASSIGN_OR_RETURN(l.trap_weight_min, r.Number(v, full, 0, 1, false));
    } else if (key == "trap_penalty") {
      MESHBL_ASSIGN_OR_RETURN(l.trap_penalty, r.Number(v, full, 0, 1, false));
    } else if (key == "trap_recovery") {
      MESHBL_ASSIGN_OR_RETURN(l.trap_recovery, r.Duration(v, full, 1, 3650 * kDay, true));
    } else if (key == "ipv4_prefix") {
      MESHBL_ASSIGN_OR_RETURN(const std::int64_t p, r.Integer(v, full, 8, 32));
      l.ipv4_prefix = static_cast<std::uint8_t>(p);
    } else if (key == "ipv6_prefix") {
      MESHBL_ASSIGN_OR_RETURN(const std::int64_t p, r.Integer(v, full, 16, 128));
      l.ipv6_prefix = static_cast<std::uint8_t>(p);
    } else if (key == "max_sources") {
      MESHBL_ASSIGN_OR_RETURN(const std::int64_t p, r.Integer(v, full, 1, 100000000));
      l.max_sources = static_cast<std::uint64_t>(p);
    } else if (key == "max_hits") {
      MESHBL_ASSIGN_OR_RETURN(const std::int64_t p, r.Integer(v, full, 1, 65536));
      l.max_hits = static_cast<std::uint32_t>(p);
    } else {
      return r.ErrorAt(k.source().begin.line, full, "unknown key");
    }
  }
  (void)listing_seen;
  return l;
}

absl::StatusOr<TrapsConfig> ParseTraps(const Reader& r, const toml::node& node,
                                       std::uint32_t header_line) {
  if (!node.is_table()) return r.WrongType(node, "traps", "a table ([traps])");
  TrapsConfig t;
  bool have_file = false;
  for (auto&& [k, v] : *node.as_table()) {
    const std::string_view key = k.str();
    const std::string full = absl::StrCat("traps.", std::string(key));
    if (key == "file") {
      MESHBL_ASSIGN_OR_RETURN(t.file, r.String(v, full));
      if (t.file.empty()) return r.Error(v, full, "empty file name");
      have_file = true;
    } else if (key == "action") {
      MESHBL_ASSIGN_OR_RETURN(t.action, r.String(v, full));
      if (auto st = CheckAction(t.action); !st.ok())
        return r.Error(v, full, std::string(st.message()));
    } else if (key == "listen") {
      MESHBL_ASSIGN_OR_RETURN(t.listen, r.String(v, full));
      if (auto st = CheckListen(t.listen); !st.ok()) {
        return r.Error(v, full, absl::StrCat("'", t.listen, "': ", std::string(st.message())));
      }
    } else if (key == "lists") {
      t.lists.clear();
      MESHBL_RETURN_IF_ERROR(r.Strings(
          v, full, 1000,
          [&](const toml::node&, std::string_view text, std::string_view) -> absl::Status {
            t.lists.emplace_back(text);
            return absl::OkStatus();
          }));
    } else {
      return r.ErrorAt(k.source().begin.line, full, "unknown key");
    }
  }
  if (!have_file) return r.ErrorAt(header_line, "traps.file", "missing (the trap address file)");
  return t;
}

}  // namespace

const ListRules* LiveConfig::Find(std::string_view name) const {
  for (const ListRules& l : lists) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

std::optional<std::int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > kMaxDuration) return std::nullopt;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;  // no number, or no unit
    std::int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = kMinute;
        break;
      case 'h':
        unit = kHour;
        break;
      case 'd':
        unit = kDay;
        break;
      case 'w':
        unit = kWeek;
        break;
      default:
        return std::nullopt;
    }
    ++i;
    if (n > kMaxDuration / unit) return std::nullopt;
    total += n * unit;
    if (total > kMaxDuration) return std::nullopt;
  }
  return total;
}

std::string FormatDuration(std::int64_t seconds) {
  if (seconds <= 0) return "0s";
  std::string out;
  struct Unit {
    std::int64_t size;
    char name;
  };
  static constexpr Unit kUnits[] = {{kDay, 'd'}, {kHour, 'h'}, {kMinute, 'm'}, {1, 's'}};
  std::int64_t left = seconds;
  for (const Unit& u : kUnits) {
    if (left >= u.size) {
      absl::StrAppend(&out, left / u.size, std::string(1, u.name));
      left %= u.size;
    }
  }
  return out;
}

absl::Status ValidateListRules(const ListRules& l) {
  const std::string base = absl::StrCat("list.", l.name, ".");
  auto bad = [&](std::string_view key, std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(base, std::string(key), ": ", std::string(what)));
  };
  if (!ValidListName(l.name)) {
    return absl::InvalidArgumentError(absl::StrCat("list.", l.name,
                                                   ": a list name is 1..63 bytes of a-z, 0-9, "
                                                   "'_' and '-'"));
  }
  if (!(l.threshold > 0 && l.threshold <= 1e6)) return bad("threshold", "out of range (0..1e6]");
  if (l.window < 1 || l.window > 30 * kDay) return bad("window", "out of range (1s..30d)");
  if (l.listing.empty() || l.listing.size() > 16) return bad("listing", "1..16 durations");
  for (std::size_t i = 0; i < l.listing.size(); ++i) {
    if (l.listing[i] < 1 || l.listing[i] > 3650 * kDay) {
      return bad("listing", "out of range (1s..3650d)");
    }
    if (i > 0 && l.listing[i] < l.listing[i - 1]) {
      return bad("listing", "durations must not decrease");
    }
  }
  if (l.offense_memory < 0 || l.offense_memory > 3650 * kDay) {
    return bad("offense_memory", "out of range (0s..3650d)");
  }
  if (l.code < 2) return bad("code", "out of range (2..255)");
  if (l.ttl < 0 || l.ttl > kDay) return bad("ttl", "out of range (0s..1d)");
  if (auto st = CheckReason(l.reason); !st.ok()) return bad("reason", std::string(st.message()));
  for (const Subject& s : l.own_mx) {
    if (s.kind != Subject::Kind::kIp) return bad("own_mx", "not an IP network");
  }
  if ((l.never_list & ~static_cast<std::uint32_t>(kNeverAll)) != 0) {
    return bad("never_list", "unknown range bits");
  }
  if (!(l.trap_weight_min >= 0 && l.trap_weight_min <= 1)) {
    return bad("trap_weight_min", "out of range (0..1)");
  }
  if (!(l.trap_penalty >= 0 && l.trap_penalty <= 1))
    return bad("trap_penalty", "out of range (0..1)");
  if (l.trap_recovery < 0 || l.trap_recovery > 3650 * kDay) {
    return bad("trap_recovery", "out of range (1s..3650d, or never)");
  }
  if (l.ipv4_prefix < 8 || l.ipv4_prefix > 32) return bad("ipv4_prefix", "out of range (8..32)");
  if (l.ipv6_prefix < 16 || l.ipv6_prefix > 128)
    return bad("ipv6_prefix", "out of range (16..128)");
  if (l.max_sources < 1 || l.max_sources > 100000000) {
    return bad("max_sources", "out of range (1..100000000)");
  }
  if (l.max_hits < 1 || l.max_hits > 65536) return bad("max_hits", "out of range (1..65536)");
  return absl::OkStatus();
}

absl::StatusOr<LiveConfig> ParseLiveConfig(std::string_view text, std::string_view file_name) {
  const Reader r(file_name);
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(file_name), ":", e.source().begin.line, ": ", std::string(e.description())));
  }
  LiveConfig c;
  c.path = std::string(file_name);
  std::uint32_t traps_line = 0;
  for (auto&& [k, v] : root) {
    const std::string_view key = k.str();
    if (key == "list") {
      if (!v.is_table()) return r.WrongType(v, "list", "a table of lists ([list.NAME])");
      for (auto&& [lk, lv] : *v.as_table()) {
        MESHBL_ASSIGN_OR_RETURN(ListRules l, ParseList(r, lk.str(), lv, lk.source().begin.line));
        c.lists.push_back(std::move(l));
      }
    } else if (key == "traps") {
      traps_line = k.source().begin.line;
      MESHBL_ASSIGN_OR_RETURN(c.traps, ParseTraps(r, v, traps_line));
    } else {
      return r.ErrorAt(k.source().begin.line, key, "unknown key (expected [list.NAME] or [traps])");
    }
  }
  if (c.lists.empty()) return r.ErrorAt(0, "list", "no live list ([list.NAME])");
  if (c.traps) {
    for (std::size_t i = 0; i < c.traps->lists.size(); ++i) {
      if (c.Find(c.traps->lists[i]) == nullptr) {
        const toml::node* n = root["traps"]["lists"][i].node();
        return r.ErrorAt(n != nullptr ? n->source().begin.line : traps_line,
                         absl::StrCat("traps.lists[", i, "]"),
                         absl::StrCat("no list named '", c.traps->lists[i], "'"));
      }
    }
  }
  return c;
}

absl::StatusOr<LiveConfig> LoadLiveConfig(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": cannot read: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", std::strerror(err)));
    }
    if (n == 0) break;
    if (text.size() > (16u << 20)) {
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 16 MiB"));
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return ParseLiveConfig(text, path);
}

}  // namespace meshbl::feed
