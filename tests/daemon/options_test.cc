// meshbld's command line (src/daemon/options.cc): the option schema drives
// getopt, range checks, defaults, --help and the man page; rbldnsd's
// messages and exit codes for rbldnsd's options.
#include "meshbl/daemon/options.h"

#include <syslog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/server/server.h"

namespace meshbl::daemon {
namespace {

// Runs the parser over `args` (argv[0] is added).
ParseResult Parse(std::vector<std::string> args, DaemonOptions* o) {
  args.insert(args.begin(), "meshbld");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseCommandLine(static_cast<int>(args.size()), argv.data(), o);
}

std::string Spelling(const OptionSpec& o) {
  return o.id < 256 ? std::string("-") + static_cast<char>(o.id) : std::string("--") + o.long_name;
}

bool TakesArgument(const OptionSpec& o) {
  return o.type != OptionType::kFlag && o.type != OptionType::kCount;
}

TEST(OptionTable, EveryOptionIsInHelp) {
  const std::string help = UsageText();
  for (const OptionSpec& o : kOptions) {
    std::string head = " " + Spelling(o);
    if (o.id < 256 && o.long_name != nullptr) head += std::string(", --") + o.long_name;
    if (TakesArgument(o)) head += " " + OptionArgName(o);
    EXPECT_NE(help.find("\n" + head + " - "), std::string::npos) << head;
    if (o.long_name != nullptr) {
      EXPECT_NE(help.find(std::string("--") + o.long_name), std::string::npos);
    }
  }
}

TEST(OptionTable, HelpHasNoOptionOutsideTheTable) {
  std::istringstream in(UsageText());
  std::string line;
  int option_lines = 0;
  while (std::getline(in, line)) {
    if (line.rfind(" -", 0) == 0) ++option_lines;
  }
  EXPECT_EQ(option_lines, static_cast<int>(std::size(kOptions)));
}

TEST(OptionTable, GetoptAcceptsEveryOption) {
  for (const OptionSpec& o : kOptions) {
    DaemonOptions d;
    std::vector<std::string> args = {Spelling(o)};
    if (TakesArgument(o)) {
      ASSERT_NE(o.example, nullptr) << Spelling(o);
      args.push_back(o.example);
    }
    args.push_back("x.test:ip4set:data");
    ParseResult r = Parse(args, &d);
    EXPECT_EQ(r.error.find("invalid option"), std::string::npos) << Spelling(o) << ": " << r.error;
    EXPECT_EQ(r.error.find("unrecognized option"), std::string::npos) << Spelling(o);
    EXPECT_EQ(r.error.find("requires an argument"), std::string::npos) << Spelling(o);
    if (o.id == 'h') {
      EXPECT_FALSE(r.run);
      EXPECT_EQ(r.exit_code, 0);
    } else if (o.id == 'x' || o.id == 'X') {
      EXPECT_EQ(r.error, "extension support is not compiled in");
      EXPECT_EQ(r.exit_code, 1);
    } else {
      EXPECT_TRUE(r.run) << Spelling(o) << ": " << r.error;
      EXPECT_EQ(d.zone_specs, std::vector<std::string>{"x.test:ip4set:data"});
    }
  }
}

std::string ReadSourceFile(const char* relative) {
  const std::filesystem::path path = std::filesystem::path(MESHBL_SOURCE_DIR) / relative;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(OptionTable, ManPageListsTheTable) {
  const std::string text = ReadSourceFile("docs/meshbld.8.md");
  const std::string begin = "<!-- options:begin -->\n", end = "<!-- options:end -->";
  const std::size_t b = text.find(begin), e = text.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(text.substr(b + begin.size(), e - b - begin.size()), ManPageOptions())
      << "regenerate the OPTIONS section of docs/meshbld.8.md from ManPageOptions()";
}

// ---- The schema itself ----------------------------------------------------

// Every entry is well formed: unique spellings and config keys, a target for
// its type, a range that holds its default, an example for every argument.
TEST(OptionSchema, EntriesAreConsistent) {
  std::set<int> ids;
  std::set<std::string> long_names, keys;
  for (const OptionSpec& o : kOptions) {
    SCOPED_TRACE(Spelling(o));
    if (o.id != kLongOnly) {
      EXPECT_TRUE(ids.insert(o.id).second) << "duplicate short letter";
    }
    if (o.long_name != nullptr) {
      EXPECT_TRUE(long_names.insert(o.long_name).second);
    }
    EXPECT_TRUE(o.id != kLongOnly || o.long_name != nullptr) << "an option needs a name";
    // The coming TOML config file: every option has a unique bare key.
    ASSERT_NE(o.config_key, nullptr);
    const std::string key = o.config_key;
    EXPECT_FALSE(key.empty());
    EXPECT_TRUE(keys.insert(key).second) << "duplicate config key " << key;
    for (char c : key) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') << key;
    }
    if (o.long_name != nullptr) {
      EXPECT_EQ(key, std::string(o.long_name)) << "key = long name";
    }
    ASSERT_NE(o.help, nullptr);
    EXPECT_FALSE(std::string(o.help).empty());
    switch (o.type) {
      case OptionType::kFlag:
        EXPECT_EQ(o.arg, nullptr);
        EXPECT_EQ(o.default_value, nullptr) << "flags default to off";
        break;
      case OptionType::kCount:
        EXPECT_NE(o.int_member, nullptr);
        break;
      case OptionType::kInt:
        EXPECT_NE(o.int_member, nullptr);
        EXPECT_LE(o.min, o.max);
        EXPECT_GE(o.min, INT32_MIN);
        EXPECT_LE(o.max, INT32_MAX);
        break;
      case OptionType::kDuration:
        EXPECT_NE(o.seconds_member, nullptr);
        EXPECT_GE(o.min, 0);
        EXPECT_LE(o.min, o.max);
        EXPECT_LE(o.max, std::int64_t{UINT32_MAX});
        break;
      case OptionType::kString:
        EXPECT_NE(o.string_member, nullptr);
        break;
      case OptionType::kEnum:
        EXPECT_NE(o.string_member, nullptr);
        ASSERT_NE(o.choices, nullptr);
        break;
      case OptionType::kList:
        EXPECT_NE(o.list_member, nullptr);
        EXPECT_EQ(o.default_value, nullptr);
        break;
      case OptionType::kCustom:
        EXPECT_NE(o.apply, nullptr);
        break;
    }
    if (TakesArgument(o)) {
      EXPECT_NE(o.example, nullptr);
    }
    // A default is a value the parser accepts.
    if (o.default_value != nullptr) {
      DaemonOptions d;
      ParseResult r = Parse({Spelling(o), o.default_value, "x:ip4set:f"}, &d);
      EXPECT_TRUE(r.run) << "default " << o.default_value << ": " << r.error;
    }
    // Only rbldnsd's options keep rbldnsd's message and help text.
    if (o.rbldnsd_error != nullptr) {
      EXPECT_TRUE(o.rbldnsd_help);
    }
    if (!o.rbldnsd_help) {
      EXPECT_NE(o.long_name, nullptr) << "meshbl options are long options";
    }
  }
}

// rbldnsd's option letters, exactly (reference/rbldnsd.md §1): no letter
// added, none lost, and each takes an argument exactly when rbldnsd's does.
TEST(OptionSchema, ShortLettersAreRbldnsds) {
  const std::string with_arg = "urwbtcplsFxX", without = "46veanfqaACdh";
  std::string seen;
  for (const OptionSpec& o : kOptions) {
    if (o.id == kLongOnly) continue;
    const char c = static_cast<char>(o.id);
    seen.push_back(c);
    if (TakesArgument(o)) {
      EXPECT_NE(with_arg.find(c), std::string::npos) << c;
    } else {
      EXPECT_NE(without.find(c), std::string::npos) << c;
    }
  }
  std::sort(seen.begin(), seen.end());
  std::string all = with_arg + without;
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(seen, all);
}

// "10s" → "10s", 600 → "10m": the test's own rendering of a duration bound.
std::string Seconds(std::int64_t s) {
  if (s != 0 && s % 604800 == 0) return std::to_string(s / 604800) + "w";
  if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

// What --help and the man page must say about a meshbl option's range and
// default, built here from the schema's fields.
std::string Facts(const OptionSpec& o) {
  if (o.rbldnsd_help) return "";
  std::string range;
  if (o.type == OptionType::kInt) range = std::to_string(o.min) + ".." + std::to_string(o.max);
  if (o.type == OptionType::kDuration) range = Seconds(o.min) + ".." + Seconds(o.max);
  std::string def = o.default_value != nullptr ? std::string("default ") + o.default_value : "";
  if (range.empty() && def.empty()) return "";
  if (range.empty() || def.empty()) return "(" + range + def + ")";
  return "(" + range + ", " + def + ")";
}

// --help's option list is exactly the schema, entry by entry, in order.
TEST(OptionSchema, HelpIsTheSchema) {
  std::string expected = "where options are:\n";
  for (const OptionSpec& o : kOptions) {
    std::string head = " " + Spelling(o);
    if (o.id != kLongOnly && o.long_name != nullptr) head += std::string(", --") + o.long_name;
    if (TakesArgument(o)) {
      head += " ";
      head += o.type == OptionType::kEnum ? o.choices : o.arg;
    }
    std::string help = o.help;
    if (!Facts(o).empty()) help += " " + Facts(o);
    std::string body;
    for (char c : help) body += c == '\n' ? std::string("\n  ") : std::string(1, c);
    expected += head + " - " + body + "\n";
  }
  expected += "each zone specified using";
  const std::string usage = UsageText();
  const std::size_t b = usage.find("where options are:\n");
  const std::size_t e = usage.find("each zone specified using");
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(usage.substr(b, e + 25 - b), expected);
  // The facts are there for every meshbl option with a range or default.
  for (const OptionSpec& o : kOptions) {
    if (o.type == OptionType::kInt && !o.rbldnsd_help) {
      EXPECT_NE(usage.find(std::to_string(o.min) + ".." + std::to_string(o.max)), std::string::npos)
          << Spelling(o);
    }
    if (o.default_value != nullptr) {
      EXPECT_NE(usage.find(o.default_value), std::string::npos) << Spelling(o);
    }
  }
}

// The man page's list is the schema too (ManPageListsTheTable diffs the
// page against ManPageOptions(); this checks ManPageOptions() against the
// fields).
TEST(OptionSchema, ManPageIsTheSchema) {
  std::istringstream in(ManPageOptions());
  std::string line;
  std::size_t i = 0;
  while (std::getline(in, line) && !line.empty()) {
    ASSERT_LT(i, std::size(kOptions));
    const OptionSpec& o = kOptions[i++];
    std::string head = "* `" + Spelling(o);
    if (TakesArgument(o)) head += " " + OptionArgName(o);
    head += "`";
    if (o.id != kLongOnly && o.long_name != nullptr)
      head += std::string(", `--") + o.long_name + "`";
    std::string help = o.help;
    for (char& c : help) c = c == '\n' ? ' ' : c;
    if (!Facts(o).empty()) help += " " + Facts(o);
    EXPECT_EQ(line, head + ": " + help + ".");
  }
  EXPECT_EQ(i, std::size(kOptions));
}

// ---- Values: every option at and past its limits ------------------------

// One DaemonOptions as "member=value" lines, to see exactly what an option
// changed.
std::vector<std::string> Describe(const DaemonOptions& d) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += x + ",";
    return s;
  };
  return {
      "listen=" + join(d.listen),
      "family=" + std::to_string(d.family),
      "user=" + d.user,
      "root_dir=" + d.root_dir,
      "work_dir=" + d.work_dir,
      "load.accept_host_bits=" + std::to_string(d.load.accept_host_bits),
      "load.allow_gzip=" + std::to_string(d.load.allow_gzip),
      "load.ttl=" + std::to_string(d.load.default_ttl) + ":" + std::to_string(d.load.min_ttl) +
          ":" + std::to_string(d.load.max_ttl),
      "check_interval=" + std::to_string(d.check_interval),
      "quick=" + std::to_string(d.quick),
      "foreground=" + std::to_string(d.foreground),
      "pid_file=" + d.pid_file,
      "query_log=" + d.query_log,
      "query_log_unbuffered=" + std::to_string(d.query_log_unbuffered),
      "stats_file=" + d.stats_file,
      "stats_relative=" + std::to_string(d.stats_relative),
      "lazy=" + std::to_string(d.lazy),
      "version_mode=" + std::to_string(d.version_mode),
      "dump=" + std::to_string(d.dump),
      "syslog_facility=" + std::to_string(d.syslog_facility),
      "threads=" + std::to_string(d.threads),
      "tcp_idle_seconds=" + std::to_string(d.tcp_idle_seconds),
      "tcp_max_conn=" + std::to_string(d.tcp_max_conn),
      "udp_backend=" + d.udp_backend,
      "tcp_query_timeout_seconds=" + std::to_string(d.tcp_query_timeout_seconds),
      "tcp_max_conn_per_ip=" + std::to_string(d.tcp_max_conn_per_ip),
      "zone_specs=" + join(d.zone_specs),
  };
}

// The members that differ between `a` and `b`, as b's "member=value".
std::vector<std::string> Changed(const DaemonOptions& a, const DaemonOptions& b) {
  std::vector<std::string> da = Describe(a), db = Describe(b), out;
  for (std::size_t i = 0; i < da.size(); ++i) {
    if (da[i] != db[i]) out.push_back(db[i]);
  }
  return out;
}

DaemonOptions Defaults() {
  DaemonOptions d = DefaultOptions();
  d.zone_specs = {"x:ip4set:f"};
  return d;
}

TEST(OptionValues, NoOptionsGiveTheSchemaDefaults) {
  DaemonOptions d;
  ASSERT_TRUE(Parse({"x:ip4set:f"}, &d).run);
  EXPECT_EQ(Describe(d), Describe(Defaults()));
  // The defaults as documented (man page, rbldnsd's reference §1).
  EXPECT_EQ(d.check_interval, 60u);
  EXPECT_EQ(d.load.default_ttl, 2100u);
  EXPECT_EQ(d.syslog_facility, LOG_DAEMON);
  EXPECT_EQ(d.tcp_idle_seconds, 10u);
  EXPECT_EQ(d.tcp_query_timeout_seconds, 2u);
  EXPECT_EQ(d.tcp_max_conn, 1000);
  EXPECT_EQ(d.tcp_max_conn_per_ip, 32);
  EXPECT_EQ(d.udp_backend, "mmsg");
  EXPECT_EQ(d.threads, 0);
  EXPECT_TRUE(d.load.allow_gzip);
  EXPECT_FALSE(d.lazy);
}

// ServerConfig's own defaults (used by tests and tools) equal the daemon's,
// and the zone loader's equal -t's and -e's/-C's.
TEST(OptionValues, ServerAndLoaderDefaultsEqualTheSchemas) {
  const DaemonOptions d = DefaultOptions();
  const server::ServerConfig c;
  EXPECT_EQ(c.threads, d.threads);
  EXPECT_EQ(std::string(server::UdpBackendName(c.udp_backend)), d.udp_backend);
  EXPECT_EQ(c.tcp_idle_timeout, std::chrono::seconds(d.tcp_idle_seconds));
  EXPECT_EQ(c.tcp_query_timeout, std::chrono::seconds(d.tcp_query_timeout_seconds));
  EXPECT_EQ(c.tcp_max_connections, d.tcp_max_conn);
  EXPECT_EQ(c.tcp_max_per_address, d.tcp_max_conn_per_ip);
  EXPECT_EQ(c.responder.query.lazy, d.lazy);
  const zone::LoadOptions l;
  EXPECT_EQ(l.default_ttl, d.load.default_ttl);
  EXPECT_EQ(l.min_ttl, d.load.min_ttl);
  EXPECT_EQ(l.max_ttl, d.load.max_ttl);
  EXPECT_EQ(l.accept_host_bits, d.load.accept_host_bits);
  EXPECT_EQ(l.allow_gzip, d.load.allow_gzip);
}

// Parses `spelling value` alone; returns the error ("" on success) and the
// options in `d`.
std::string ParseOne(const OptionSpec& o, const std::string& value, DaemonOptions* d) {
  ParseResult r = Parse({Spelling(o), value, "x:ip4set:f"}, d);
  if (!r.run) {
    EXPECT_EQ(r.exit_code, 1) << Spelling(o) << " " << value;
    EXPECT_TRUE(r.stdout_text.empty());
  }
  return r.error;
}

TEST(OptionValues, EveryIntAtAndPastItsLimits) {
  int checked = 0;
  for (const OptionSpec& o : kOptions) {
    if (o.type != OptionType::kInt) continue;
    SCOPED_TRACE(Spelling(o));
    ++checked;
    const std::string range =
        " is out of range " + std::to_string(o.min) + ".." + std::to_string(o.max);
    for (std::int64_t v : {o.min, o.max, (o.min + o.max) / 2}) {
      DaemonOptions d;
      EXPECT_EQ(ParseOne(o, std::to_string(v), &d), "");
      EXPECT_EQ(d.*o.int_member, v);
      // Exactly its member changed.
      DaemonOptions want = Defaults();
      want.*o.int_member = static_cast<int>(v);
      EXPECT_EQ(Describe(d), Describe(want));
    }
    for (std::int64_t v : {o.min - 1, o.max + 1, std::int64_t{INT32_MIN}, std::int64_t{INT32_MAX},
                           std::int64_t{INT64_MIN}}) {
      if (v >= o.min && v <= o.max) continue;
      DaemonOptions d;
      EXPECT_EQ(ParseOne(o, std::to_string(v), &d), Spelling(o) + ": " + std::to_string(v) + range);
    }
    for (const std::string bad : {"abc", "", "1.5", "10k", "0x10", "99999999999999999999", " 1"}) {
      DaemonOptions d;
      EXPECT_EQ(ParseOne(o, bad, &d), Spelling(o) + ": `" + bad + "' is not a number");
    }
  }
  EXPECT_EQ(checked, 3);
}

TEST(OptionValues, EveryDurationAtAndPastItsLimits) {
  int checked = 0;
  for (const OptionSpec& o : kOptions) {
    if (o.type != OptionType::kDuration) continue;
    SCOPED_TRACE(Spelling(o));
    ++checked;
    auto error = [&](const std::string& arg, const std::string& why) {
      if (o.rbldnsd_error != nullptr) return std::string(o.rbldnsd_error) + " `" + arg + "'";
      return Spelling(o) + ": " + why;
    };
    // The bounds in seconds and in their largest unit.
    for (std::int64_t v : {o.min, o.max}) {
      for (const std::string& text : {std::to_string(v), Seconds(v)}) {
        DaemonOptions d;
        EXPECT_EQ(ParseOne(o, text, &d), "") << text;
        EXPECT_EQ(d.*o.seconds_member, v) << text;
        DaemonOptions want = Defaults();
        want.*o.seconds_member = static_cast<std::uint32_t>(v);
        EXPECT_EQ(Describe(d), Describe(want));
      }
    }
    const std::string range = " is out of range " + Seconds(o.min) + ".." + Seconds(o.max);
    for (std::int64_t v : {o.min - 1, o.max + 1}) {
      if (v < 0) continue;
      DaemonOptions d;
      const std::string text = std::to_string(v);
      if (v > std::int64_t{UINT32_MAX}) {
        EXPECT_EQ(ParseOne(o, text, &d), error(text, "`" + text +
                                                         "' is not a time (digits with "
                                                         "an optional unit s, m, h, d or w)"));
      } else {
        EXPECT_EQ(ParseOne(o, text, &d), error(text, text + range));
      }
    }
    for (const std::string bad : {"abc", "", "1y", "-1", "1.5s", "m", "7102w"}) {
      DaemonOptions d;
      EXPECT_EQ(ParseOne(o, bad, &d),
                error(bad, "`" + bad +
                               "' is not a time (digits with an optional unit s, m, h, "
                               "d or w)"));
    }
  }
  EXPECT_EQ(checked, 3);
}

TEST(OptionValues, EveryEnumValueAndOthers) {
  int checked = 0;
  for (const OptionSpec& o : kOptions) {
    if (o.type != OptionType::kEnum) continue;
    SCOPED_TRACE(Spelling(o));
    ++checked;
    std::vector<std::string> allowed;
    std::string list;
    std::stringstream ss(o.choices);
    for (std::string c; std::getline(ss, c, '|');) {
      allowed.push_back(c);
      list += (list.empty() ? "" : ", ") + c;
    }
    ASSERT_GE(allowed.size(), 2u);
    for (const std::string& c : allowed) {
      DaemonOptions d;
      EXPECT_EQ(ParseOne(o, c, &d), "");
      EXPECT_EQ(d.*o.string_member, c);
    }
    std::vector<std::string> bad = {"", "epoll", " " + allowed[0], allowed[0] + "x"};
    for (const std::string& c : allowed) {
      std::string upper = c;
      for (char& ch : upper) ch = static_cast<char>(ch - 'a' + 'A');
      bad.push_back(upper);
    }
    for (const std::string& b : bad) {
      DaemonOptions d;
      EXPECT_EQ(ParseOne(o, b, &d), Spelling(o) + ": `" + b + "' is not one of " + list);
    }
  }
  EXPECT_EQ(checked, 1);
}

// Each flag changes exactly what it says and nothing else.
TEST(OptionValues, EveryFlag) {
  const struct {
    char letter;
    std::vector<std::string> changed;
  } kFlags[] = {
      {'4', {"family=4"}},
      {'6', {"family=6"}},
      {'e', {"load.accept_host_bits=1"}},
      {'n', {"foreground=1"}},
      {'f', {}},
      {'q', {"quick=1"}},
      {'a', {"lazy=1"}},
      {'A', {}},
      {'C', {"load.allow_gzip=0"}},
      {'d', {"dump=1"}},
      {'v', {"version_mode=1"}},
  };
  int flags = 0;
  for (const OptionSpec& o : kOptions) {
    if (TakesArgument(o) || o.id == 'h') continue;
    ++flags;
    bool found = false;
    for (const auto& f : kFlags) {
      if (f.letter != o.id) continue;
      found = true;
      DaemonOptions d;
      ParseResult r = Parse({Spelling(o), "x:ip4set:f"}, &d);
      ASSERT_TRUE(r.run) << Spelling(o) << ": " << r.error;
      EXPECT_EQ(Changed(Defaults(), d), f.changed) << Spelling(o);
    }
    EXPECT_TRUE(found) << Spelling(o) << ": add it to kFlags";
  }
  EXPECT_EQ(flags, static_cast<int>(std::size(kFlags)));
}

// Repeated options: lists append, counts add, everything else: last wins.
TEST(OptionValues, RepeatedOptions) {
  DaemonOptions d;
  ASSERT_TRUE(Parse({"-b",
                     "127.0.0.1",
                     "-b",
                     "::1/53",
                     "-b",
                     "127.0.0.2/5353",
                     "-vvv",
                     "-p",
                     "a",
                     "-p",
                     "b",
                     "--tcp-max-conn",
                     "5",
                     "--tcp-max-conn=6",
                     "--tcp-idle",
                     "1m",
                     "--tcp-idle=2m",
                     "--udp-backend",
                     "uring",
                     "--udp-backend=auto",
                     "-4",
                     "-6",
                     "-A",
                     "-a",
                     "-c",
                     "1h",
                     "-c",
                     "0",
                     "-F",
                     "local1",
                     "-F",
                     "user",
                     "-l",
                     "+a",
                     "-l",
                     "b",
                     "x:ip4set:f",
                     "y:ip4set:g",
                     "x:ip4set:h"},
                    &d)
                  .run);
  EXPECT_EQ(d.listen, (std::vector<std::string>{"127.0.0.1", "::1/53", "127.0.0.2/5353"}));
  EXPECT_EQ(d.version_mode, 3);
  EXPECT_EQ(d.pid_file, "b");
  EXPECT_EQ(d.tcp_max_conn, 6);
  EXPECT_EQ(d.tcp_idle_seconds, 120u);
  EXPECT_EQ(d.udp_backend, "auto");
  EXPECT_EQ(d.family, 6);
  EXPECT_TRUE(d.lazy);
  EXPECT_EQ(d.check_interval, 0u);
  EXPECT_EQ(d.syslog_facility, LOG_USER);
  EXPECT_EQ(d.query_log, "b");
  EXPECT_FALSE(d.query_log_unbuffered);
  EXPECT_EQ(d.zone_specs, (std::vector<std::string>{"x:ip4set:f", "y:ip4set:g", "x:ip4set:h"}));
  // -v counts separately given too; -v past 2 stays a count.
  ASSERT_TRUE(Parse({"-v", "x:ip4set:f", "-v"}, &d).run);
  EXPECT_EQ(d.version_mode, 2);
}

// getopt's behaviours rbldnsd users rely on: clustered flags, an argument
// glued to its letter or in the next word, `--` ends options, a missing
// argument, an unknown long option, and the first error wins.
TEST(OptionValues, RbldnsdGetoptBehaviours) {
  DaemonOptions d;
  ASSERT_TRUE(Parse({"-nqb127.0.0.1/53", "-c5m", "-t", "1h", "x:ip4set:f"}, &d).run);
  EXPECT_TRUE(d.foreground);
  EXPECT_TRUE(d.quick);
  EXPECT_EQ(d.listen, std::vector<std::string>{"127.0.0.1/53"});
  EXPECT_EQ(d.check_interval, 300u);
  EXPECT_EQ(d.load.default_ttl, 3600u);
  ASSERT_TRUE(Parse({"-n", "--", "-x", "y:ip4set:g"}, &d).run);
  EXPECT_EQ(d.zone_specs, (std::vector<std::string>{"-x", "y:ip4set:g"}));
  ParseResult r = Parse({"x:ip4set:f", "--tcp-max-conn"}, &d);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.error,
            "option requires an argument '--tcp-max-conn'\nmeshbld: type `meshbld -h' for help");
  r = Parse({"-n", "--tcp-max-conn", "0", "--threads", "0", "x:ip4set:f"}, &d);
  EXPECT_EQ(r.error, "--tcp-max-conn: 0 is out of range 1..65535");
  // Long options may be abbreviated (getopt_long) when unambiguous.
  ASSERT_TRUE(Parse({"--udp=auto", "x:ip4set:f"}, &d).run);
  EXPECT_EQ(d.udp_backend, "auto");
  r = Parse({"--tcp-max=5", "x:ip4set:f"}, &d);
  EXPECT_EQ(r.exit_code, 1) << "ambiguous: --tcp-max-conn and --tcp-max-conn-per-ip";
  // A flag given an argument is an error, not silently accepted.
  r = Parse({"--help=yes", "x:ip4set:f"}, &d);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.run);
}

// ---- docs/ARCHITECTURE.md quotes the defaults ----------------------------

// A default in the docs: "10 s" for a duration, the text for others.
std::string DocDefault(const OptionSpec& o) {
  if (o.type == OptionType::kDuration) {
    std::uint32_t s = 0;
    EXPECT_TRUE(ParseTimeValue(o.default_value, &s));
    return std::to_string(s) + " s";
  }
  return o.default_value;
}

const OptionSpec* FindLong(const std::string& name) {
  for (const OptionSpec& o : kOptions) {
    if (o.long_name != nullptr && name == o.long_name) return &o;
  }
  return nullptr;
}

TEST(OptionDocs, ArchitectureQuotesTheSchemasDefaults) {
  // Line breaks and indentation are one space, so reflowing the text keeps
  // the quotes found.
  std::string text;
  for (char c : ReadSourceFile("docs/ARCHITECTURE.md")) {
    const bool blank = c == ' ' || c == '\n';
    if (blank && !text.empty() && text.back() == ' ') continue;
    text.push_back(blank ? ' ' : c);
  }
  // Where ARCHITECTURE.md states an option's default: the words before it
  // and the character after it.
  const struct {
    const char* before;
    const char* option;
    char after;
  } kQuotes[] = {
      {"idle timeout (", "tcp-idle", ')'},
      {"a deadline per query from its first byte to its last (", "tcp-query-timeout", ';'},
      {"connection cap (", "tcp-max-conn", ')'},
      {"per-address cap (", "tcp-max-conn-per-ip", ' '},
      {"`MmsgUdpLoop` (the default, `--udp-backend ", "udp-backend", '`'},
      {"the store file (`--live-store`, default `", "live-store", '`'},
      {"the control socket (`--control-socket`, default `", "control-socket", '`'},
  };
  for (const auto& q : kQuotes) {
    SCOPED_TRACE(q.option);
    const OptionSpec* o = FindLong(q.option);
    ASSERT_NE(o, nullptr);
    ASSERT_NE(o->default_value, nullptr);
    const std::size_t at = text.find(q.before);
    ASSERT_NE(at, std::string::npos) << "ARCHITECTURE.md no longer says \"" << q.before << "\"";
    EXPECT_EQ(text.find(q.before, at + 1), std::string::npos) << "ambiguous: " << q.before;
    const std::size_t v = at + std::string(q.before).size();
    const std::size_t end = text.find(q.after, v);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(text.substr(v, end - v), DocDefault(*o))
        << "docs/ARCHITECTURE.md quotes a default the schema does not have";
  }
  // Every meshbl option with a default is quoted somewhere above.
  for (const OptionSpec& o : kOptions) {
    if (o.rbldnsd_help || o.default_value == nullptr) continue;
    bool quoted = false;
    for (const auto& q : kQuotes) quoted |= std::string(q.option) == o.long_name;
    EXPECT_TRUE(quoted) << Spelling(o) << ": quote its default in ARCHITECTURE.md and here";
  }
}

TEST(ParseCommandLine, NoArgumentsPrintsUsageAndExits1) {
  DaemonOptions d;
  ParseResult r = Parse({}, &d);
  EXPECT_FALSE(r.run);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stdout_text.find("Usage is: meshbld options zonespec..."), std::string::npos);
}

TEST(ParseCommandLine, HelpListsDatasetTypesAndExits0) {
  for (const char* h : {"-h", "--help"}) {
    DaemonOptions d;
    ParseResult r = Parse({h}, &d);
    EXPECT_FALSE(r.run);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.stdout_text.find("Available dataset types:\n ip4set - "), std::string::npos);
    EXPECT_NE(r.stdout_text.find(" snapshot - "), std::string::npos);
  }
}

TEST(ParseCommandLine, InvalidOptionIsRbldnsdsMessage) {
  DaemonOptions d;
  ParseResult r = Parse({"-Z", "x:ip4set:f"}, &d);
  EXPECT_FALSE(r.run);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.error, "invalid option -- 'Z'\nmeshbld: type `meshbld -h' for help");
  r = Parse({"-t"}, &d);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.error, "option requires an argument -- 't'\nmeshbld: type `meshbld -h' for help");
  r = Parse({"--bogus", "x:ip4set:f"}, &d);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.error.rfind("unrecognized option '--bogus'", 0), 0u) << r.error;
}

TEST(ParseCommandLine, OptionsAfterZoneSpecsAndValues) {
  DaemonOptions d;
  ParseResult r = Parse({"x:ip4set:f",
                         "-n",
                         "-b",
                         "127.0.0.1/5353",
                         "-b",
                         "::1/5353",
                         "-l",
                         "+q.log",
                         "-s",
                         "+s.log",
                         "-vv",
                         "-a",
                         "-c",
                         "5m",
                         "--threads",
                         "3",
                         "--udp-backend",
                         "mmsg",
                         "--tcp-idle",
                         "1m",
                         "--tcp-max-conn",
                         "7",
                         "--tcp-query-timeout",
                         "1m",
                         "--tcp-max-conn-per-ip",
                         "0",
                         "-q",
                         "-e",
                         "-C",
                         "-F",
                         "local3",
                         "-u",
                         "nobody:nogroup",
                         "y:dnset:g"},
                        &d);
  ASSERT_TRUE(r.run) << r.error;
  EXPECT_TRUE(d.foreground);
  EXPECT_EQ(d.listen, (std::vector<std::string>{"127.0.0.1/5353", "::1/5353"}));
  EXPECT_EQ(d.query_log, "q.log");
  EXPECT_TRUE(d.query_log_unbuffered);
  EXPECT_EQ(d.stats_file, "s.log");
  EXPECT_TRUE(d.stats_relative);
  EXPECT_EQ(d.version_mode, 2);
  EXPECT_TRUE(d.lazy);
  EXPECT_EQ(d.check_interval, 300u);
  EXPECT_EQ(d.threads, 3);
  EXPECT_EQ(d.udp_backend, "mmsg");
  EXPECT_EQ(d.tcp_idle_seconds, 60u);
  EXPECT_EQ(d.tcp_max_conn, 7);
  EXPECT_EQ(d.tcp_query_timeout_seconds, 60u);
  EXPECT_EQ(d.tcp_max_conn_per_ip, 0);
  EXPECT_TRUE(d.quick);
  EXPECT_TRUE(d.load.accept_host_bits);
  EXPECT_FALSE(d.load.allow_gzip);
  EXPECT_EQ(d.syslog_facility, LOG_LOCAL3);
  EXPECT_EQ(d.user, "nobody:nogroup");
  EXPECT_EQ(d.zone_specs, (std::vector<std::string>{"x:ip4set:f", "y:dnset:g"}));
}

TEST(ParseCommandLine, BadValuesExit1) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  } cases[] = {
      {{"-c", "bad", "x:ip4set:f"}, "invalid check interval (-c) value `bad'"},
      {{"-c", "", "x:ip4set:f"}, "invalid check interval (-c) value `'"},
      {{"-F", "bogus", "x:ip4set:f"}, "log facility bogus is not valid"},
      {{"-t", "::2m", "x:ip4set:f"}, "inconsistent def:min:max ttl: 2100:0:120"},
      {{"-x", "ext.so", "x:ip4set:f"}, "extension support is not compiled in"},
      {{"--threads", "0", "x:ip4set:f"}, "--threads: 0 is out of range 1..1024"},
      {{"--tcp-max-conn", "0", "x:ip4set:f"}, "--tcp-max-conn: 0 is out of range 1..65535"},
      {{"--tcp-query-timeout", "0", "x:ip4set:f"}, "--tcp-query-timeout: 0 is out of range 1s..1d"},
      {{"--tcp-max-conn-per-ip", "-1", "x:ip4set:f"},
       "--tcp-max-conn-per-ip: -1 is out of range 0..65535"},
      {{"--udp-backend", "epoll", "x:ip4set:f"},
       "--udp-backend: `epoll' is not one of auto, uring, mmsg"},
  };
  for (const Case& c : cases) {
    DaemonOptions d;
    ParseResult r = Parse(c.args, &d);
    EXPECT_FALSE(r.run);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.error, c.error);
  }
}

TEST(ParseCommandLine, LastOfLazyFlagsWinsAndFIsIgnored) {
  DaemonOptions d;
  ASSERT_TRUE(Parse({"-a", "-A", "-f", "x:ip4set:f"}, &d).run);
  EXPECT_FALSE(d.lazy);
}

// Observed with Debian's rbldnsd 1.0~20210120 (reference §1).
TEST(ParseTtlSpec, RbldnsdRules) {
  struct Case {
    const char* spec;
    const char* error;  // nullptr: accepted
    std::uint32_t def, min, max;
  } cases[] = {
      {"30", nullptr, 30, 0, 0},
      {":5m", nullptr, 2100, 300, 0},
      {"1m::2m", nullptr, 60, 0, 120},
      {"1m:30s", nullptr, 60, 30, 0},
      {"::", nullptr, 2100, 0, 0},
      {"5m:1m:5m", nullptr, 300, 60, 300},
      {"1:0:0", nullptr, 1, 0, 0},
      {"1W", nullptr, 604800, 0, 0},
      {"::2m", "inconsistent def:min:max ttl: 2100:0:120", 0, 0, 0},
      {"1m:2m", "inconsistent def:min:max ttl: 60:120:0", 0, 0, 0},
      {"1m:2m:1m", "inconsistent def:min:max ttl: 60:120:60", 0, 0, 0},
      {"30s:1m:2m", "inconsistent def:min:max ttl: 30:60:120", 0, 0, 0},
      {":10:5", "inconsistent def:min:max ttl: 2100:10:5", 0, 0, 0},
      {"0", "invalid ttl (-t) value `0'", 0, 0, 0},
      {"0:1:2", "invalid ttl (-t) value `0:1:2'", 0, 0, 0},
      {"", "invalid ttl (-t) value `'", 0, 0, 0},
      {"x", "invalid ttl (-t) value `x'", 0, 0, 0},
      {"10x", "invalid ttl (-t) value `10x'", 0, 0, 0},
      {"4294967296", "invalid ttl (-t) value `4294967296'", 0, 0, 0},
      {"1m:2m:3m:4m", "invalid value for -t (ttl) option: `1m:2m:3m:4m'", 0, 0, 0},
  };
  for (const Case& c : cases) {
    zone::LoadOptions o;
    absl::Status st = ParseTtlSpec(c.spec, &o);
    if (c.error == nullptr) {
      ASSERT_TRUE(st.ok()) << c.spec << ": " << st;
      EXPECT_EQ(o.default_ttl, c.def) << c.spec;
      EXPECT_EQ(o.min_ttl, c.min) << c.spec;
      EXPECT_EQ(o.max_ttl, c.max) << c.spec;
    } else {
      EXPECT_EQ(std::string(st.message()), c.error) << c.spec;
      EXPECT_EQ(o.default_ttl, 2100u) << "unchanged on error";
    }
  }
}

TEST(ParseTimeValue, UnitsAndOverflow) {
  std::uint32_t v = 0;
  EXPECT_TRUE(ParseTimeValue("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ParseTimeValue("90s", &v));
  EXPECT_EQ(v, 90u);
  EXPECT_TRUE(ParseTimeValue("2h", &v));
  EXPECT_EQ(v, 7200u);
  EXPECT_TRUE(ParseTimeValue("3D", &v));
  EXPECT_EQ(v, 259200u);
  EXPECT_FALSE(ParseTimeValue("", &v));
  EXPECT_FALSE(ParseTimeValue("m", &v));
  EXPECT_FALSE(ParseTimeValue("-1", &v));
  EXPECT_FALSE(ParseTimeValue("1y", &v));
  EXPECT_FALSE(ParseTimeValue("7102w", &v));
}

TEST(SyslogFacilityFromName, KnownAndUnknown) {
  int f = 0;
  EXPECT_TRUE(SyslogFacilityFromName("daemon", &f));
  EXPECT_EQ(f, LOG_DAEMON);
  EXPECT_TRUE(SyslogFacilityFromName("LOCAL7", &f));
  EXPECT_EQ(f, LOG_LOCAL7);
  EXPECT_FALSE(SyslogFacilityFromName("bogus", &f));
}

}  // namespace
}  // namespace meshbl::daemon
