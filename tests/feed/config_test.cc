#include "meshbl/feed/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshbl::feed {
namespace {

// One key of the file, with a valid value, values of wrong types, values out
// of range or malformed, and values at the edges of the range.
struct KeyCase {
  std::string key;  // "list.traps.window" or "traps.listen"
  std::string valid;
  std::vector<std::string> wrong_type;
  std::vector<std::string> bad;
  std::vector<std::string> ok;
};

std::string Quoted(std::string_view s) { return absl::StrCat("\"", std::string(s), "\""); }

std::string Many(int n, std::string_view each) {
  std::vector<std::string> v(static_cast<std::size_t>(n), Quoted(each));
  return absl::StrCat("[", absl::StrJoin(v, ", "), "]");
}

std::vector<KeyCase> ListKeys() {
  const std::vector<std::string> not_string = {"5",        "1.5",       "true",
                                               "[\"1h\"]", "{ a = 1 }", "1979-05-27"};
  const std::vector<std::string> not_number = {"\"3\"", "true", "[3]", "{ a = 1 }", "1979-05-27"};
  const std::vector<std::string> not_integer = {"\"3\"", "3.0", "true", "[3]", "{ a = 1 }"};
  const std::vector<std::string> not_array = {"\"x\"", "5", "true", "{ a = 1 }"};
  return {
      {"threshold",
       "3.0",
       not_number,
       {"0", "0.0", "-1", "1000001", "1e7", "nan", "inf", "-inf"},
       {"1e-9", "1", "2.5", "1000000"}},
      {"window",
       "\"1h\"",
       not_string,
       {"\"0s\"", "\"31d\"", "\"1x\"", "\"\"", "\"1\"", "\"h\"", "\"-1h\"", "\"1.5h\"", "\"1h \""},
       {"\"1s\"", "\"90s\"", "\"15m\"", "\"1h30m\"", "\"30d\"", "\"4w\""}},
      {"listing",
       "[\"1h\", \"24h\", \"7d\"]",
       {"\"1h\"", "5", "[1, 2]", "[true]", "{ a = 1 }"},
       {"[]", "[\"0s\"]", "[\"3651d\"]", "[\"7d\", \"1h\"]", "[\"1x\"]", Many(17, "1h")},
       {"[\"1s\"]", "[\"3650d\"]", "[\"1h\", \"1h\"]", Many(16, "1h")}},
      {"offense_memory",
       "\"30d\"",
       not_string,
       {"\"3651d\"", "\"30\"", "\"never\""},
       {"\"0s\"", "\"1s\"", "\"3650d\""}},
      {"code", "2", not_integer, {"0", "1", "256", "-1", "99999999999"}, {"2", "127", "255"}},
      {"ttl",
       "\"60s\"",
       not_string,
       {"\"1d1s\"", "\"60\"", "\"-1s\""},
       {"\"0s\"", "\"1s\"", "\"1d\""}},
      {"reason",
       "\"Listed by meshbl: $ hit spamtraps\"",
       {"5", "true", "[\"x\"]", "{ a = 1 }"},
       {Quoted(std::string(256, 'r')), "\"a\\tb\"", "\"a\\nb\"", "\"a\\u007fb\""},
       {"\"\"", Quoted(std::string(255, 'r')), "\"$ on the list: see https://example.org/$\""}},
      {"whitelist",
       "[\"198.51.100.0/24\", \"example.org\"]",
       not_array,
       {"[1]", "[\"1.2.3.4/33\"]", "[\"1.2.3.4/24\"]", "[\"a..b\"]", "[\"\"]"},
       {"[]", "[\"::/0\"]", "[\".example.org\", \"2001:db8::/32\"]"}},
      {"never_list",
       "[\"private\", \"loopback\", \"link-local\"]",
       not_array,
       {"[1]", "[]", "[\"public\"]", "[\"none\", \"private\"]", "[\"private\", \"none\"]",
        "[\"Private\"]"},
       {"[\"none\"]", "[\"private\"]", "[\"loopback\", \"link-local\"]"}},
      {"own_mx",
       "[\"192.0.2.25\"]",
       not_array,
       {"[1]", "[\"example.org\"]", "[\"1.2.3.4/33\"]", "[\"mx\"]"},
       {"[]", "[\"192.0.2.25\", \"2001:db8::/32\"]"}},
      {"trap_weight_min", "0.1", not_number, {"-0.1", "1.1", "2"}, {"0", "0.0", "0.5", "1"}},
      {"trap_penalty", "0.5", not_number, {"-0.5", "1.5"}, {"0", "0.25", "1"}},
      {"trap_recovery",
       "\"30d\"",
       not_string,
       {"\"0s\"", "\"3651d\"", "\"x\"", "\"Never\""},
       {"\"never\"", "\"1s\"", "\"3650d\""}},
      {"ipv4_prefix", "32", not_integer, {"7", "33", "0", "-32"}, {"8", "24", "32"}},
      {"ipv6_prefix", "64", not_integer, {"15", "129"}, {"16", "48", "128"}},
      {"max_sources", "1000000", not_integer, {"0", "-1", "100000001"}, {"1", "100000000"}},
      {"max_hits", "256", not_integer, {"0", "65537"}, {"1", "65536"}},
  };
}

std::vector<KeyCase> TrapKeys() {
  return {
      {"file", "\"examples/traps.txt\"", {"5", "true", "[\"x\"]"}, {"\"\""}, {"\"t.txt\""}},
      {"action",
       "\"DISCARD\"",
       {"5", "[\"DISCARD\"]"},
       {"\"\"", "\"MAYBE\"", "\"discard\"", "\"DISCARD\\n\"", "\"600 no\"", "\"45 no\"",
        Quoted(std::string(513, 'A'))},
       {"\"DISCARD\"", "\"DUNNO\"", "\"OK\"", "\"HOLD\"", "\"REJECT go away\"",
        "\"450 4.7.1 try later\"", "\"554 no\"", "\"DEFER_IF_PERMIT\""}},
      {"listen",
       "\"127.0.0.1:10040\"",
       {"10040", "[\"127.0.0.1:1\"]"},
       {"\"127.0.0.1\"", "\"127.0.0.1:0\"", "\"127.0.0.1:65536\"", "\"::1:10040\"",
        "\"[127.0.0.1]:1\"", "\"localhost:10040\"", "\"127.0.0.1:x\"", "\"127.0.0.1:\"",
        "\"[::1]10040\""},
       {"\"127.0.0.1:1\"", "\"0.0.0.0:65535\"", "\"[::1]:10040\""}},
      {"lists", "[\"traps\"]", {"\"traps\"", "[1]", "5"}, {"[\"nope\"]"}, {"[]", "[\"traps\"]"}},
  };
}

// A valid file with every key, one a line; `key` (e.g. "list.traps.window")
// set to `value`. Returns the text and the line of `key`.
std::pair<std::string, int> File(const std::string& key = "", const std::string& value = "") {
  std::vector<std::string> lines = {"# live lists", "[list.traps]"};
  int at = 0;
  for (const KeyCase& k : ListKeys()) {
    const bool it = key == "list.traps." + k.key;
    lines.push_back(absl::StrCat(k.key, " = ", it ? value : k.valid));
    if (it) at = static_cast<int>(lines.size());
  }
  lines.push_back("");
  lines.push_back("[traps]");
  for (const KeyCase& k : TrapKeys()) {
    const bool it = key == "traps." + k.key;
    lines.push_back(absl::StrCat(k.key, " = ", it ? value : k.valid));
    if (it) at = static_cast<int>(lines.size());
  }
  return {absl::StrJoin(lines, "\n") + "\n", at};
}

TEST(LiveConfigTest, EveryKeyValidParses) {
  auto c = ParseLiveConfig(File().first, "live.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->lists.size(), 1u);
  const ListRules& l = c->lists[0];
  EXPECT_EQ(l.name, "traps");
  EXPECT_EQ(l.window, 3600);
  EXPECT_EQ(l.listing, (std::vector<std::int64_t>{3600, 86400, 7 * 86400}));
  EXPECT_EQ(l.whitelist.size(), 2u);
  EXPECT_EQ(l.own_mx.size(), 1u);
  ASSERT_TRUE(c->traps.has_value());
  EXPECT_EQ(c->traps->file, "examples/traps.txt");
  EXPECT_EQ(c->traps->listen, "127.0.0.1:10040");
  EXPECT_EQ(c->Find("traps"), &c->lists[0]);
  EXPECT_EQ(c->Find("nope"), nullptr);
}

// For every key: each value of a wrong type, each value out of range or
// malformed is refused with "live.toml:LINE: KEY: ..." naming the key's line;
// each value at the edges of the range is taken.
TEST(LiveConfigTest, EveryKeyChecked) {
  int checked = 0;
  for (const auto& [prefix, keys] : {std::make_pair(std::string("list.traps."), ListKeys()),
                                     std::make_pair(std::string("traps."), TrapKeys())}) {
    for (const KeyCase& k : keys) {
      const std::string key = prefix + k.key;
      for (const auto* values : {&k.wrong_type, &k.bad}) {
        for (const std::string& v : *values) {
          const auto [text, line] = File(key, v);
          ASSERT_GT(line, 0);
          auto c = ParseLiveConfig(text, "live.toml");
          ASSERT_FALSE(c.ok()) << key << " = " << v;
          const std::string want = absl::StrCat("live.toml:", line, ": ", key);
          EXPECT_EQ(c.status().message().substr(0, want.size()), want)
              << key << " = " << v << ": " << c.status();
          if (values == &k.wrong_type && v.front() != '[') {
            EXPECT_NE(c.status().message().find("expected"), std::string::npos) << c.status();
          }
          ++checked;
        }
      }
      for (const std::string& v : k.ok) {
        auto c = ParseLiveConfig(File(key, v).first, "live.toml");
        EXPECT_TRUE(c.ok()) << key << " = " << v << ": " << c.status();
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 150);
}

TEST(LiveConfigTest, DurationErrorNamesTheFormat) {
  auto c = ParseLiveConfig(File("list.traps.window", "\"1x\"").first, "live.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "live.toml:4: list.traps.window: '1x' is not a duration (e.g. 90s, 15m, 1h, 7d)");
}

// Values land in the rules as written.
TEST(LiveConfigTest, ValuesTaken) {
  const std::string text = R"([list.a]
threshold = 2
window = "90s"
listing = ["15m", "2h", "1w"]
offense_memory = "0s"
code = 255
reason = "r $"
whitelist = ["198.51.100.0/24", ".example.org"]
never_list = ["none"]
own_mx = ["192.0.2.25"]
trap_weight_min = 0
trap_penalty = 1
trap_recovery = "never"
ipv4_prefix = 24
ipv6_prefix = 128
max_sources = 5
max_hits = 7
[list.b]
never_list = ["loopback", "link-local"]
[traps]
file = "t"
lists = ["b"]
)";
  auto c = ParseLiveConfig(text, "x.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->lists.size(), 2u);
  const ListRules& a = c->lists[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.threshold, 2.0);
  EXPECT_EQ(a.window, 90);
  EXPECT_EQ(a.listing, (std::vector<std::int64_t>{900, 7200, 7 * 86400}));
  EXPECT_EQ(a.offense_memory, 0);
  EXPECT_EQ(a.code, 255);
  EXPECT_EQ(a.reason, "r $");
  EXPECT_EQ(a.whitelist, (std::vector<Subject>{*Subject::Parse("198.51.100.0/24"),
                                               *Subject::Parse(".example.org")}));
  EXPECT_EQ(a.never_list, 0u);
  EXPECT_EQ(a.own_mx, (std::vector<Subject>{*Subject::Parse("192.0.2.25")}));
  EXPECT_EQ(a.trap_weight_min, 0.0);
  EXPECT_EQ(a.trap_penalty, 1.0);
  EXPECT_EQ(a.trap_recovery, 0);
  EXPECT_EQ(a.ipv4_prefix, 24);
  EXPECT_EQ(a.ipv6_prefix, 128);
  EXPECT_EQ(a.max_sources, 5u);
  EXPECT_EQ(a.max_hits, 7u);
  EXPECT_TRUE(ValidateListRules(a).ok());
  EXPECT_EQ(c->lists[1].never_list, std::uint32_t{kNeverLoopback | kNeverLinkLocal});
  EXPECT_EQ(c->traps->action, "DISCARD");
  EXPECT_EQ(c->traps->listen, "127.0.0.1:10040");
  EXPECT_EQ(c->traps->lists, (std::vector<std::string>{"b"}));
}

// A list with no keys gets the documented defaults.
TEST(LiveConfigTest, Defaults) {
  auto c = ParseLiveConfig("[list.traps]\n", "d.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  const ListRules& l = c->lists[0];
  const ListRules d;
  EXPECT_EQ(l.threshold, 3.0);
  EXPECT_EQ(l.window, 3600);
  EXPECT_EQ(l.listing, d.listing);
  EXPECT_EQ(l.offense_memory, 30 * 86400);
  EXPECT_EQ(l.code, 2);
  EXPECT_EQ(l.ttl, 60);
  EXPECT_EQ(l.reason, d.reason);
  EXPECT_TRUE(l.whitelist.empty());
  EXPECT_EQ(l.never_list, std::uint32_t{kNeverAll});
  EXPECT_TRUE(l.own_mx.empty());
  EXPECT_EQ(l.trap_weight_min, 0.1);
  EXPECT_EQ(l.trap_penalty, 0.5);
  EXPECT_EQ(l.trap_recovery, 30 * 86400);
  EXPECT_EQ(l.ipv4_prefix, 32);
  EXPECT_EQ(l.ipv6_prefix, 64);
  EXPECT_EQ(l.max_sources, 1000000u);
  EXPECT_EQ(l.max_hits, 256u);
  EXPECT_FALSE(c->traps.has_value());
  EXPECT_TRUE(ValidateListRules(l).ok());
}

TEST(LiveConfigTest, UnknownKeysAndTables) {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"[list.traps]\nthresold = 3\n", "f.toml:2: list.traps.thresold: unknown key"},
      {"[list.traps]\nwindow = \"1h\"\n\n[traps]\nfile = \"t\"\nport = 1\n",
       "f.toml:6: traps.port: unknown key"},
      {"lists = 1\n[list.traps]\n", "f.toml:1: lists: unknown key"},
      {"[list.traps]\n[feed]\nx = 1\n", "f.toml:2: feed: unknown key"},
      {"list = 5\n", "f.toml:1: list: expected a table"},
      {"[list]\ntraps = 5\n", "f.toml:2: list.traps: expected a table"},
      {"traps = 5\n[list.a]\n", "f.toml:1: traps: expected a table"},
      {"[list.Traps]\n", "f.toml:1: list.Traps: a list name"},
      {"[list.\"a b\"]\n", "f.toml:1: list.a b: a list name"},
      {"[list.traps]\n[traps]\naction = \"OK\"\n", "f.toml:2: traps.file: missing"},
      {"[list.traps]\n[traps]\nfile = \"t\"\nlists = [\"x\"]\n",
       "f.toml:4: traps.lists[0]: no list named 'x'"},
      {"", "f.toml: list: no live list"},
      {"# nothing\n[traps]\nfile = \"t\"\n", "f.toml: list: no live list"},
  };
  for (const Case& c : cases) {
    auto r = ParseLiveConfig(c.text, "f.toml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message().substr(0, c.want.size()), c.want) << r.status();
  }
}

// A syntax error anywhere is reported with its line, whatever the line.
TEST(LiveConfigTest, InvalidTomlNamesTheLine) {
  const std::vector<std::string> broken = {"threshold = = 3", "[list.traps", "window = \"1h",
                                           "x = 1979-13-45",  "= 3",         "a = [1, 2,,",
                                           "a.b c = 1"};
  const std::string base = File().first;
  std::vector<std::string> lines;
  for (std::size_t p = 0, q; (q = base.find('\n', p)) != std::string::npos; p = q + 1) {
    lines.push_back(base.substr(p, q - p));
  }
  for (const std::string& b : broken) {
    for (std::size_t at = 0; at <= lines.size(); ++at) {
      std::vector<std::string> l = lines;
      l.insert(l.begin() + static_cast<std::ptrdiff_t>(at), b);
      auto r = ParseLiveConfig(absl::StrJoin(l, "\n") + "\n", "live.toml");
      ASSERT_FALSE(r.ok()) << b << " at " << at;
      const std::string want = absl::StrCat("live.toml:", at + 1, ": ");
      EXPECT_EQ(r.status().message().substr(0, want.size()), want) << b << ": " << r.status();
    }
  }
  // A key given twice is a TOML error too.
  auto r = ParseLiveConfig("[list.traps]\ncode = 2\ncode = 3\n", "live.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().substr(0, 13), "live.toml:3: ") << r.status();
}

// Every unit, at generated counts, alone and summed; the formatter's output
// reads back.
TEST(DurationTest, EveryUnit) {
  const std::pair<char, std::int64_t> units[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
  for (const auto& [u, size] : units) {
    for (std::int64_t n : {0L, 1L, 2L, 9L, 10L, 59L, 60L, 99L, 1000L, 3650L}) {
      const std::string text = absl::StrCat(n, std::string(1, u));
      ASSERT_EQ(ParseDuration(text), n * size) << text;
    }
  }
  EXPECT_EQ(ParseDuration("1h30m"), 5400);
  EXPECT_EQ(ParseDuration("1d1h1m1s"), 90061);
  EXPECT_EQ(ParseDuration("1w1d"), 8 * 86400);
  EXPECT_EQ(ParseDuration("36500d"), 36500 * 86400L);
  for (std::string_view bad : {"", "1", "h", "1x", "-1h", "1.5h", " 1h", "1h ", "1H", "1hh", "h1",
                               "36501d", "99999999999999999999s", "1s-", "0x10s"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t v = static_cast<std::int64_t>(rng() % (3650ull * 86400));
    EXPECT_EQ(ParseDuration(FormatDuration(v)), v) << FormatDuration(v);
  }
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(5400), "1h30m");
  EXPECT_EQ(FormatDuration(7 * 86400), "7d");
}

// --- the file ---

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/meshbl_config_test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(std::string_view name, std::string_view text) const {
    const std::string p = absl::StrCat(path_, "/", std::string(name));
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LiveConfigTest, FileErrors) {
  TempDir dir;
  const std::string missing = dir.path() + "/missing.toml";
  auto r = LoadLiveConfig(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), missing + ": cannot read: No such file or directory");
  r = LoadLiveConfig(dir.path());  // a directory
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(dir.path() + ": cannot read: "), std::string::npos)
      << r.status();
  const std::string locked = dir.File("locked.toml", "[list.traps]\n");
  chmod(locked.c_str(), 0);
  if (geteuid() != 0) {  // root reads it anyway
    r = LoadLiveConfig(locked);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), locked + ": cannot read: Permission denied");
  }
  const std::string bad = dir.File("bad.toml", "[list.traps]\nwindow = \"1x\"\n");
  r = LoadLiveConfig(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().substr(0, bad.size() + 3), bad + ":2:") << r.status();
  const std::string good = dir.File("good.toml", File().first);
  EXPECT_TRUE(LoadLiveConfig(good).ok());
}

// examples/live.toml, as the example runs it: list "traps" listed after 3
// hits from 3 messages, 198.51.100.0/24 whitelisted, loopback listable, the
// trap listener on 127.0.0.1:10040 with examples/traps.txt.
TEST(LiveConfigTest, ExampleFile) {
  std::filesystem::path root;
  for (std::filesystem::path p : {std::filesystem::current_path(),
                                  std::filesystem::read_symlink("/proc/self/exe").parent_path()}) {
    for (int up = 0; up < 6 && root.empty(); ++up, p = p.parent_path()) {
      if (std::filesystem::exists(p / "examples/live.toml")) root = p;
    }
  }
  ASSERT_FALSE(root.empty()) << "examples/live.toml not found above the working directory";
  auto c = LoadLiveConfig((root / "examples/live.toml").string());
  ASSERT_TRUE(c.ok()) << c.status();
  const ListRules* l = c->Find("traps");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->threshold, 3.0);
  EXPECT_EQ(l->never_list & kNeverLoopback, 0u);
  EXPECT_EQ(l->whitelist.front(), *Subject::Parse("198.51.100.0/24"));
  ASSERT_TRUE(c->traps.has_value());
  EXPECT_EQ(c->traps->listen, "127.0.0.1:10040");
  EXPECT_EQ(c->traps->file, "examples/traps.txt");
  EXPECT_TRUE(std::filesystem::exists(root / c->traps->file));
}

}  // namespace
}  // namespace meshbl::feed
