// meshbld's command line, driven by the one option table in options.h.
#include "meshbl/daemon/options.h"

#include <getopt.h>
#include <syslog.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace meshbl::daemon {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr const char* kDatasetTypes[][2] = {
    {"ip4set", "set of (ip4 range, value) pairs"},
    {"ip4tset", "(trivial) set of ip4 addresses"},
    {"ip4trie", "set of (ip4cidr, value) pairs"},
    {"ip6tset", "(trivial) set of ip6 addresses"},
    {"ip6trie", "set of (ip6cidr, value) pairs"},
    {"dnset", "set of (domain name, value) pairs"},
    {"combined", "several datasets/subzones combined"},
    {"generic", "generic simplified bind-format"},
    {"acl", "Access Control List dataset"},
    {"snapshot", "compiled meshbl snapshot (meshbl compile), or F.mbs alone; serves its own zones"},
};

// "-b" or "--threads" as the option is spelled on the command line.
std::string Spelling(const OptionSpec& o) {
  if (o.id < 256) return absl::StrCat("-", std::string(1, static_cast<char>(o.id)));
  return absl::StrCat("--", o.long_name);
}

std::string OptString() {
  std::string s = ":";  // report a missing argument as ':'
  for (const OptionSpec& o : kOptions) {
    if (o.id >= 256) continue;
    s.push_back(static_cast<char>(o.id));
    if (o.arg != nullptr) s.push_back(':');
  }
  return s;
}

std::vector<option> LongOptions() {
  std::vector<option> v;
  for (const OptionSpec& o : kOptions) {
    if (o.long_name == nullptr) continue;
    v.push_back(
        option{o.long_name, o.arg != nullptr ? required_argument : no_argument, nullptr, o.id});
  }
  v.push_back(option{nullptr, 0, nullptr, 0});
  return v;
}

ParseResult Fail(std::string message) {
  ParseResult r;
  r.exit_code = 1;
  r.error = std::move(message);
  return r;
}

bool ParseInt(std::string_view s, int min, int max, int* out) {
  int v;
  if (!absl::SimpleAtoi(Absl(s), &v) || v < min || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

bool ParseTimeValue(std::string_view s, std::uint32_t* out) {
  if (s.empty()) return false;
  std::uint64_t mult = 1;
  switch (s.back()) {
    case 's':
    case 'S':
      break;
    case 'm':
    case 'M':
      mult = 60;
      break;
    case 'h':
    case 'H':
      mult = 3600;
      break;
    case 'd':
    case 'D':
      mult = 86400;
      break;
    case 'w':
    case 'W':
      mult = 604800;
      break;
    default:
      mult = 0;
      break;
  }
  if (mult != 0) {
    s.remove_suffix(1);
  } else {
    mult = 1;
  }
  if (s.empty() || s.size() > 10) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v * mult > 0xffffffffULL) return false;
  *out = static_cast<std::uint32_t>(v * mult);
  return true;
}

absl::Status ParseTtlSpec(std::string_view spec, zone::LoadOptions* o) {
  std::vector<absl::string_view> parts = absl::StrSplit(Absl(spec), ':');
  if (parts.size() > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value for -t (ttl) option: `", Absl(spec), "'"));
  }
  std::uint32_t v[3] = {o->default_ttl, o->min_ttl, o->max_ttl};
  const absl::Status invalid =
      absl::InvalidArgumentError(absl::StrCat("invalid ttl (-t) value `", Absl(spec), "'"));
  if (spec.empty()) return invalid;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    if (!ParseTimeValue(std::string_view(parts[i].data(), parts[i].size()), &v[i])) return invalid;
  }
  if (v[0] == 0) return invalid;
  if ((v[2] != 0 && (v[1] > v[2] || v[0] > v[2])) || v[0] < v[1]) {
    return absl::InvalidArgumentError(
        absl::StrCat("inconsistent def:min:max ttl: ", v[0], ":", v[1], ":", v[2]));
  }
  o->default_ttl = v[0];
  o->min_ttl = v[1];
  o->max_ttl = v[2];
  return absl::OkStatus();
}

bool SyslogFacilityFromName(std::string_view name, int* facility) {
  static constexpr struct {
    const char* name;
    int value;
  } kFacilities[] = {
      {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
      {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"kern", LOG_KERN},
      {"lpr", LOG_LPR},       {"mail", LOG_MAIL},         {"news", LOG_NEWS},
      {"syslog", LOG_SYSLOG}, {"user", LOG_USER},         {"uucp", LOG_UUCP},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
  };
  for (const auto& f : kFacilities) {
    if (absl::EqualsIgnoreCase(Absl(name), f.name)) {
      *facility = f.value;
      return true;
    }
  }
  return false;
}

std::string UsageText() {
  std::string s =
      absl::StrCat(kProgramName, ": rbl dns daemon version ", kVersionText, "\n",
                   "Usage is: ", kProgramName, " options zonespec...\n", "where options are:\n");
  for (const OptionSpec& o : kOptions) {
    std::string head = Spelling(o);
    if (o.id < 256 && o.long_name != nullptr) absl::StrAppend(&head, ", --", o.long_name);
    if (o.arg != nullptr) absl::StrAppend(&head, " ", o.arg);
    std::vector<absl::string_view> lines = absl::StrSplit(o.help, '\n');
    absl::StrAppend(&s, " ", head, " - ", lines[0], "\n");
    for (std::size_t i = 1; i < lines.size(); ++i) absl::StrAppend(&s, "  ", lines[i], "\n");
  }
  absl::StrAppend(&s,
                  "each zone specified using `name:type:file,file...'\n"
                  "syntax, repeated names constitute the same zone.\n"
                  "Available dataset types:\n");
  for (const auto& t : kDatasetTypes) absl::StrAppend(&s, " ", t[0], " - ", t[1], "\n");
  return s;
}

std::string ManPageOptions() {
  std::string s;
  for (const OptionSpec& o : kOptions) {
    std::string head = absl::StrCat("`", Spelling(o));
    if (o.arg != nullptr) absl::StrAppend(&head, " ", o.arg);
    absl::StrAppend(&head, "`");
    if (o.id < 256 && o.long_name != nullptr) absl::StrAppend(&head, ", `--", o.long_name, "`");
    std::string help = o.help;
    for (char& c : help) {
      if (c == '\n') c = ' ';
    }
    absl::StrAppend(&s, "* ", head, ": ", help, ".\n");
  }
  absl::StrAppend(&s, "\nDataset types:\n\n");
  for (const auto& t : kDatasetTypes) absl::StrAppend(&s, "* `", t[0], "`: ", t[1], ".\n");
  return s;
}

ParseResult ParseCommandLine(int argc, char* const argv[], DaemonOptions* out) {
  DaemonOptions o;
  o.syslog_facility = LOG_DAEMON;
  if (argc <= 1) {
    ParseResult r;
    r.exit_code = 1;
    r.stdout_text = UsageText();
    return r;
  }
  const std::string optstring = OptString();
  const std::vector<option> longopts = LongOptions();
  opterr = 0;
  optind = 0;  // glibc: full re-initialisation (tests parse several times)
  const std::string help_hint = absl::StrCat("type `", kProgramName, " -h' for help");
  for (;;) {
    int longindex = -1;
    const int c = getopt_long(argc, argv, optstring.c_str(), longopts.data(), &longindex);
    if (c == -1) break;
    const std::string_view arg = optarg != nullptr ? std::string_view(optarg) : "";
    switch (c) {
      case 'u':
        o.user = std::string(arg);
        break;
      case 'r':
        o.root_dir = std::string(arg);
        break;
      case 'w':
        o.work_dir = std::string(arg);
        break;
      case 'b':
        o.listen.emplace_back(arg);
        break;
      case '4':
        o.family = 4;
        break;
      case '6':
        o.family = 6;
        break;
      case 't':
        if (absl::Status st = ParseTtlSpec(arg, &o.load); !st.ok()) {
          return Fail(std::string(st.message()));
        }
        break;
      case 'v':
        ++o.version_mode;
        break;
      case 'e':
        o.load.accept_host_bits = true;
        break;
      case 'c':
        if (!ParseTimeValue(arg, &o.check_interval)) {
          return Fail(absl::StrCat("invalid check interval (-c) value `", Absl(arg), "'"));
        }
        break;
      case 'p':
        o.pid_file = std::string(arg);
        break;
      case 'n':
        o.foreground = true;
        break;
      case 'f':
        break;  // reference §9: accepted and ignored
      case 'q':
        o.quick = true;
        break;
      case 'l':
        o.query_log_unbuffered = !arg.empty() && arg[0] == '+';
        o.query_log = std::string(o.query_log_unbuffered ? arg.substr(1) : arg);
        break;
      case 's':
        o.stats_relative = !arg.empty() && arg[0] == '+';
        o.stats_file = std::string(o.stats_relative ? arg.substr(1) : arg);
        break;
      case 'a':
        o.lazy = true;
        break;
      case 'A':
        o.lazy = false;
        break;
      case 'F':
        if (!SyslogFacilityFromName(arg, &o.syslog_facility)) {
          return Fail(absl::StrCat("log facility ", Absl(arg), " is not valid"));
        }
        break;
      case 'C':
        o.load.allow_gzip = false;
        break;
      case 'x':
      case 'X':
        return Fail("extension support is not compiled in");
      case 'd':
        o.dump = true;
        break;
      case kOptThreads:
        if (!ParseInt(arg, 1, 1024, &o.threads)) {
          return Fail(absl::StrCat("invalid --threads value `", Absl(arg), "'"));
        }
        break;
      case kOptTcpIdle:
        if (!ParseTimeValue(arg, &o.tcp_idle_seconds) || o.tcp_idle_seconds == 0) {
          return Fail(absl::StrCat("invalid --tcp-idle value `", Absl(arg), "'"));
        }
        break;
      case kOptTcpMaxConn:
        if (!ParseInt(arg, 1, 1 << 20, &o.tcp_max_conn)) {
          return Fail(absl::StrCat("invalid --tcp-max-conn value `", Absl(arg), "'"));
        }
        break;
      case kOptTcpQueryTimeout:
        if (!ParseTimeValue(arg, &o.tcp_query_timeout_seconds) ||
            o.tcp_query_timeout_seconds == 0) {
          return Fail(absl::StrCat("invalid --tcp-query-timeout value `", Absl(arg), "'"));
        }
        break;
      case kOptTcpMaxConnPerIp:
        if (!ParseInt(arg, 0, 1 << 20, &o.tcp_max_conn_per_ip)) {
          return Fail(absl::StrCat("invalid --tcp-max-conn-per-ip value `", Absl(arg), "'"));
        }
        break;
      case kOptUdpBackend:
        if (arg != "auto" && arg != "uring" && arg != "mmsg") {
          return Fail(absl::StrCat("invalid --udp-backend value `", Absl(arg),
                                   "' (want auto, uring or mmsg)"));
        }
        o.udp_backend = std::string(arg);
        break;
      case 'h': {
        ParseResult r;
        r.exit_code = 0;
        r.stdout_text = UsageText();
        return r;
      }
      case ':': {
        // A missing argument: getopt leaves the option in optopt.
        std::string name = optopt != 0 && optopt < 256
                               ? absl::StrFormat("-- '%c'", static_cast<char>(optopt))
                               : absl::StrCat("'", argv[optind - 1], "'");
        return Fail(absl::StrCat("option requires an argument ", name, "\n", kProgramName, ": ",
                                 help_hint));
      }
      default: {
        std::string what =
            optopt != 0 ? absl::StrFormat("invalid option -- '%c'", static_cast<char>(optopt))
                        : absl::StrCat("unrecognized option '", argv[optind - 1], "'");
        return Fail(absl::StrCat(what, "\n", kProgramName, ": ", help_hint));
      }
    }
  }
  for (int i = optind; i < argc; ++i) o.zone_specs.emplace_back(argv[i]);
  if (o.zone_specs.empty()) {
    ParseResult r;
    r.exit_code = 1;
    r.stdout_text = UsageText();
    return r;
  }
  *out = std::move(o);
  ParseResult r;
  r.run = true;
  return r;
}

}  // namespace meshbl::daemon
