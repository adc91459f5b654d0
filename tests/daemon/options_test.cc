// meshbld's command line (src/server/options.cc): the option table drives
// getopt, --help and the man page; rbldnsd's messages and exit codes.
#include "meshbl/daemon/options.h"

#include <syslog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

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

TEST(OptionTable, EveryOptionIsInHelp) {
  const std::string help = UsageText();
  for (const OptionSpec& o : kOptions) {
    std::string head = " " + Spelling(o);
    if (o.id < 256 && o.long_name != nullptr) head += std::string(", --") + o.long_name;
    if (o.arg != nullptr) head += std::string(" ") + o.arg;
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
    if (o.arg != nullptr) {
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

TEST(OptionTable, ManPageListsTheTable) {
  const std::filesystem::path page = std::filesystem::path(MESHBL_SOURCE_DIR) / "docs/meshbld.8.md";
  std::ifstream in(page);
  ASSERT_TRUE(in.good()) << page;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::string begin = "<!-- options:begin -->\n", end = "<!-- options:end -->";
  const std::size_t b = text.find(begin), e = text.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(text.substr(b + begin.size(), e - b - begin.size()), ManPageOptions())
      << "regenerate the OPTIONS section of docs/meshbld.8.md from ManPageOptions()";
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
      {{"--threads", "0", "x:ip4set:f"}, "invalid --threads value `0'"},
      {{"--tcp-query-timeout", "0", "x:ip4set:f"}, "invalid --tcp-query-timeout value `0'"},
      {{"--tcp-max-conn-per-ip", "-1", "x:ip4set:f"}, "invalid --tcp-max-conn-per-ip value `-1'"},
      {{"--udp-backend", "epoll", "x:ip4set:f"},
       "invalid --udp-backend value `epoll' (want auto, uring or mmsg)"},
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
