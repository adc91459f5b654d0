// meshbld's command line, driven by the one option schema in options.h.
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "meshbl/util/time_value.h"

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

// getopt_long's value for kOptions[i]: the short letter, or 256 + i.
int GetoptId(std::size_t i) {
  return kOptions[i].id == kLongOnly ? kLongOnly + static_cast<int>(i) : kOptions[i].id;
}

bool TakesArgument(const OptionSpec& o) {
  return o.type != OptionType::kFlag && o.type != OptionType::kCount;
}

std::string OptString() {
  std::string s = ":";  // report a missing argument as ':'
  for (const OptionSpec& o : kOptions) {
    if (o.id == kLongOnly) continue;
    s.push_back(static_cast<char>(o.id));
    if (TakesArgument(o)) s.push_back(':');
  }
  return s;
}

std::vector<option> LongOptions() {
  std::vector<option> v;
  for (std::size_t i = 0; i < std::size(kOptions); ++i) {
    const OptionSpec& o = kOptions[i];
    if (o.long_name == nullptr) continue;
    v.push_back(option{o.long_name, TakesArgument(o) ? required_argument : no_argument, nullptr,
                       GetoptId(i)});
  }
  v.push_back(option{nullptr, 0, nullptr, 0});
  return v;
}

absl::Status BadValue(const OptionSpec& o, std::string_view arg, std::string_view why) {
  if (o.rbldnsd_error != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(o.rbldnsd_error, " `", Absl(arg), "'"));
  }
  return absl::InvalidArgumentError(absl::StrCat(OptionSpelling(o), ": ", Absl(why)));
}

// Applies one occurrence of `o` with argument `arg` ("" for flags) to `d`,
// checking the schema's type and range.
absl::Status ApplyOption(const OptionSpec& o, std::string_view arg, DaemonOptions* d) {
  switch (o.type) {
    case OptionType::kFlag:
      if (o.apply != nullptr) return o.apply(arg, d);
      if (o.bool_member != nullptr) d->*o.bool_member = o.flag_value != 0;
      if (o.int_member != nullptr) d->*o.int_member = o.flag_value;
      return absl::OkStatus();
    case OptionType::kCount:
      ++(d->*o.int_member);
      return absl::OkStatus();
    case OptionType::kInt: {
      // Strictly decimal: no sign but '-', no blanks, no base prefix.
      const std::string_view digits = !arg.empty() && arg[0] == '-' ? arg.substr(1) : arg;
      const bool decimal =
          !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
      std::int64_t v = 0;
      if (!decimal || !absl::SimpleAtoi(Absl(arg), &v)) {
        return BadValue(o, arg, absl::StrCat("`", Absl(arg), "' is not a number"));
      }
      if (v < o.min || v > o.max) {
        return BadValue(o, arg, absl::StrCat(v, " is out of range ", o.min, "..", o.max));
      }
      d->*o.int_member = static_cast<int>(v);
      return absl::OkStatus();
    }
    case OptionType::kDuration: {
      std::uint32_t v = 0;
      if (!ParseTimeValue(arg, &v)) {
        return BadValue(o, arg,
                        absl::StrCat("`", Absl(arg),
                                     "' is not a time (digits with an optional unit s, m, h, "
                                     "d or w)"));
      }
      if (v < o.min || v > o.max) {
        return BadValue(o, arg,
                        absl::StrCat(Absl(arg), " is out of range ", FormatSeconds(o.min), "..",
                                     FormatSeconds(o.max)));
      }
      d->*o.seconds_member = v;
      return absl::OkStatus();
    }
    case OptionType::kString:
      d->*o.string_member = std::string(arg);
      return absl::OkStatus();
    case OptionType::kEnum:
      for (absl::string_view c : absl::StrSplit(o.choices, '|')) {
        if (c == Absl(arg)) {
          d->*o.string_member = std::string(arg);
          return absl::OkStatus();
        }
      }
      return BadValue(o, arg,
                      absl::StrCat("`", Absl(arg), "' is not one of ",
                                   absl::StrJoin(absl::StrSplit(o.choices, '|'), ", ")));
    case OptionType::kList:
      (d->*o.list_member).emplace_back(arg);
      return absl::OkStatus();
    case OptionType::kCustom:
      return o.apply(arg, d);
  }
  return absl::OkStatus();
}

ParseResult Fail(std::string message) {
  ParseResult r;
  r.exit_code = 1;
  r.error = std::move(message);
  return r;
}

}  // namespace

bool ParseTimeValue(std::string_view s, std::uint32_t* out) {
  std::uint64_t v = 0;
  if (!util::ParseTimeValue(s, 10, &v) || v > 0xffffffffULL) return false;
  *out = static_cast<std::uint32_t>(v);
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

namespace options_internal {

absl::Status ApplyTtl(std::string_view arg, DaemonOptions* o) {
  return ParseTtlSpec(arg, &o->load);
}

absl::Status ApplyFacility(std::string_view arg, DaemonOptions* o) {
  if (!SyslogFacilityFromName(arg, &o->syslog_facility)) {
    return absl::InvalidArgumentError(absl::StrCat("log facility ", Absl(arg), " is not valid"));
  }
  return absl::OkStatus();
}

absl::Status ApplyQueryLog(std::string_view arg, DaemonOptions* o) {
  o->query_log_unbuffered = !arg.empty() && arg[0] == '+';
  o->query_log = std::string(o->query_log_unbuffered ? arg.substr(1) : arg);
  return absl::OkStatus();
}

absl::Status ApplyStatsFile(std::string_view arg, DaemonOptions* o) {
  o->stats_relative = !arg.empty() && arg[0] == '+';
  o->stats_file = std::string(o->stats_relative ? arg.substr(1) : arg);
  return absl::OkStatus();
}

absl::Status ApplyExtension(std::string_view, DaemonOptions*) {
  return absl::InvalidArgumentError("extension support is not compiled in");
}

absl::Status ApplyHostBits(std::string_view, DaemonOptions* o) {
  o->load.accept_host_bits = true;
  return absl::OkStatus();
}

absl::Status ApplyNoGzip(std::string_view, DaemonOptions* o) {
  o->load.allow_gzip = false;
  return absl::OkStatus();
}

}  // namespace options_internal

std::string OptionSpelling(const OptionSpec& o) {
  if (o.id != kLongOnly) return absl::StrCat("-", std::string(1, static_cast<char>(o.id)));
  return absl::StrCat("--", o.long_name);
}

std::string OptionArgName(const OptionSpec& o) {
  if (o.type == OptionType::kEnum) return o.choices;
  return o.arg != nullptr ? o.arg : "";
}

std::string FormatSeconds(std::int64_t seconds) {
  static constexpr struct {
    std::int64_t size;
    char unit;
  } kUnits[] = {{604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}};
  for (const auto& u : kUnits) {
    if (seconds != 0 && seconds % u.size == 0) {
      return absl::StrCat(seconds / u.size, std::string(1, u.unit));
    }
  }
  return absl::StrCat(seconds, "s");
}

std::string OptionFacts(const OptionSpec& o) {
  if (o.rbldnsd_help) return "";
  std::vector<std::string> facts;
  if (o.type == OptionType::kInt) facts.push_back(absl::StrCat(o.min, "..", o.max));
  if (o.type == OptionType::kDuration) {
    facts.push_back(absl::StrCat(FormatSeconds(o.min), "..", FormatSeconds(o.max)));
  }
  if (o.default_value != nullptr) facts.push_back(absl::StrCat("default ", o.default_value));
  if (facts.empty()) return "";
  return absl::StrCat("(", absl::StrJoin(facts, ", "), ")");
}

DaemonOptions DefaultOptions() {
  DaemonOptions d;
  for (const OptionSpec& o : kOptions) {
    if (o.default_value == nullptr) continue;
    // The schema's defaults are valid values (options_test checks each).
    (void)ApplyOption(o, o.default_value, &d);
  }
  return d;
}

std::string UsageText() {
  std::string s =
      absl::StrCat(kProgramName, ": rbl dns daemon version ", kVersionText, "\n",
                   "Usage is: ", kProgramName, " options zonespec...\n", "where options are:\n");
  for (const OptionSpec& o : kOptions) {
    std::string head = OptionSpelling(o);
    if (o.id != kLongOnly && o.long_name != nullptr) absl::StrAppend(&head, ", --", o.long_name);
    if (TakesArgument(o)) absl::StrAppend(&head, " ", OptionArgName(o));
    std::vector<std::string> lines = absl::StrSplit(o.help, '\n');
    if (const std::string facts = OptionFacts(o); !facts.empty()) {
      absl::StrAppend(&lines.back(), " ", facts);
    }
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
    std::string head = absl::StrCat("`", OptionSpelling(o));
    if (TakesArgument(o)) absl::StrAppend(&head, " ", OptionArgName(o));
    absl::StrAppend(&head, "`");
    if (o.id != kLongOnly && o.long_name != nullptr) {
      absl::StrAppend(&head, ", `--", o.long_name, "`");
    }
    std::string help = o.help;
    for (char& c : help) {
      if (c == '\n') c = ' ';
    }
    if (const std::string facts = OptionFacts(o); !facts.empty())
      absl::StrAppend(&help, " ", facts);
    absl::StrAppend(&s, "* ", head, ": ", help, ".\n");
  }
  absl::StrAppend(&s, "\nDataset types:\n\n");
  for (const auto& t : kDatasetTypes) absl::StrAppend(&s, "* `", t[0], "`: ", t[1], ".\n");
  return s;
}

ParseResult ParseCommandLine(int argc, char* const argv[], DaemonOptions* out) {
  if (argc <= 1) {
    ParseResult r;
    r.exit_code = 1;
    r.stdout_text = UsageText();
    return r;
  }
  DaemonOptions o = DefaultOptions();
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
    if (c == 'h') {
      ParseResult r;
      r.exit_code = 0;
      r.stdout_text = UsageText();
      return r;
    }
    if (c == ':') {
      // A missing argument: getopt leaves the option in optopt.
      std::string name = optopt != 0 && optopt < kLongOnly
                             ? absl::StrFormat("-- '%c'", static_cast<char>(optopt))
                             : absl::StrCat("'", argv[optind - 1], "'");
      return Fail(
          absl::StrCat("option requires an argument ", name, "\n", kProgramName, ": ", help_hint));
    }
    const OptionSpec* spec = nullptr;
    for (std::size_t i = 0; i < std::size(kOptions); ++i) {
      if (c != '?' && GetoptId(i) == c) spec = &kOptions[i];
    }
    if (spec == nullptr) {
      std::string what = optopt != 0
                             ? absl::StrFormat("invalid option -- '%c'", static_cast<char>(optopt))
                             : absl::StrCat("unrecognized option '", argv[optind - 1], "'");
      return Fail(absl::StrCat(what, "\n", kProgramName, ": ", help_hint));
    }
    if (absl::Status st = ApplyOption(*spec, arg, &o); !st.ok()) {
      return Fail(std::string(st.message()));
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
