// The control channel (feed/control.h). Behaviours an operator relies on:
//  * every command form parses into the fields it names, and the canonical
//    line parses back to the same command; every missing field, extra word,
//    bad option value, duplicate option and every byte of reason text is
//    either accepted verbatim or refused with an error naming the command
//    and the field;
//  * replies are framed (status, data, ".") whatever bytes they carry;
//  * over a real unix socket: every parsed command reaches the handler with
//    the peer's uid and pid, a parse error never does, replies come back in
//    request order even when the handler finishes them out of order and from
//    another thread, a client that leaves before its reply does not disturb
//    the service, a line over the limit closes the connection, too many
//    requests in flight are refused in order, and the socket's mode keeps
//    out other users (as root only);
//  * `load` files: every line kind becomes the listing rbldnsd's syntax
//    means, and a bad line at any position fails the whole file with an
//    error naming file:line.
#include "meshbl/feed/control.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace meshbl::feed {
namespace {

using std::chrono::milliseconds;

// ---- ParseCommand.

struct Form {
  Verb verb;
  std::string line;                   // a valid line of the verb with every required field
  std::vector<std::string> required;  // words after the verb, in order
};

// A valid line for every verb, with its required fields.
std::vector<Form> Forms() {
  return {
      {Verb::kAdd, "add traps 192.0.2.7", {"traps", "192.0.2.7"}},
      {Verb::kDel, "del traps 2001:db8::/32", {"traps", "2001:db8::/32"}},
      {Verb::kShow, "show traps example.com", {"traps", "example.com"}},
      {Verb::kList, "list traps", {"traps"}},
      {Verb::kWhitelistAdd, "whitelist add traps .example.org", {"traps", ".example.org"}},
      {Verb::kWhitelistDel, "whitelist del traps 198.51.100.0/24", {"traps", "198.51.100.0/24"}},
      {Verb::kWhitelistList, "whitelist list traps", {"traps"}},
      {Verb::kExpire, "expire traps", {"traps"}},
      {Verb::kLoad, "load traps /etc/meshbl/traps.txt", {"traps", "/etc/meshbl/traps.txt"}},
      {Verb::kReport, "report hit client=192.0.2.7", {"hit client=192.0.2.7"}},
      {Verb::kStats, "stats", {}},
      {Verb::kHelp, "help", {}},
  };
}

std::string Msg(const absl::StatusOr<Command>& c) {
  return c.ok() ? std::string("(ok)") : std::string(c.status().message());
}

TEST(ParseCommand, EveryFormParsesAndRoundTrips) {
  for (const Form& f : Forms()) {
    auto c = ParseCommand(f.line);
    ASSERT_TRUE(c.ok()) << f.line << ": " << c.status();
    EXPECT_EQ(c->verb, f.verb) << f.line;
    const std::string canon = FormatCommand(*c);
    auto back = ParseCommand(canon);
    ASSERT_TRUE(back.ok()) << canon << ": " << back.status();
    EXPECT_EQ(*back, *c) << canon;
    if (f.verb == Verb::kReport) continue;  // the hit line is kept raw, blanks and all
    // Tabs, extra blanks and a CR before the newline change nothing.
    std::string spaced = "  " + f.line + " \t\r";
    for (std::size_t i = 0; i < spaced.size(); ++i) {
      if (spaced[i] == ' ' && i > 2 && spaced[i - 1] != ' ') spaced.insert(i, "\t"), ++i;
    }
    auto again = ParseCommand(spaced);
    ASSERT_TRUE(again.ok()) << spaced << ": " << again.status();
    EXPECT_EQ(*again, *c) << spaced;
  }
  auto add = ParseCommand("add traps 192.0.2.0/24");
  ASSERT_TRUE(add.ok());
  EXPECT_EQ(add->list, "traps");
  EXPECT_EQ(add->subject.ToString(), "192.0.2.0/24");
  EXPECT_FALSE(add->code || add->ttl || add->expires);
  auto list = ParseCommand("list traps 10.0.0.0/8");
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(list->within.has_value());
  EXPECT_EQ(list->within->ToString(), "10.0.0.0/8");
  auto stats = ParseCommand("stats traps");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->list, "traps");
}

// Every combination of add's options, in every order.
TEST(ParseCommand, AddOptionsInEveryCombinationAndOrder) {
  const std::vector<std::string> opts = {"code=7", "ttl=2h", "reason=spam run from $"};
  int checked = 0;
  for (int mask = 0; mask < 8; ++mask) {
    std::vector<std::string> chosen;
    for (int i = 0; i < 3; ++i) {
      if ((mask >> i) & 1) chosen.push_back(opts[static_cast<std::size_t>(i)]);
    }
    std::sort(chosen.begin(), chosen.end());
    do {
      // reason= takes the rest of the line, so it can only be last.
      if (!chosen.empty() && chosen.back().rfind("reason=", 0) != 0 &&
          std::find(chosen.begin(), chosen.end(), opts[2]) != chosen.end()) {
        continue;
      }
      std::string line = "add traps 192.0.2.7";
      for (const std::string& o : chosen) line += " " + o;
      auto c = ParseCommand(line);
      ASSERT_TRUE(c.ok()) << line << ": " << c.status();
      EXPECT_EQ(c->code.has_value(), (mask & 1) != 0) << line;
      if (c->code) {
        EXPECT_EQ(*c->code, 7);
      }
      EXPECT_EQ(c->ttl.has_value(), (mask & 2) != 0) << line;
      if (c->ttl) {
        EXPECT_EQ(*c->ttl, 7200);
      }
      EXPECT_EQ(c->reason, (mask & 4) ? "spam run from $" : "") << line;
      EXPECT_EQ(*ParseCommand(FormatCommand(*c)), *c) << line;
      ++checked;
    } while (std::next_permutation(chosen.begin(), chosen.end()));
  }
  EXPECT_GE(checked, 8);
  auto e = ParseCommand("add traps 192.0.2.7 expires=2000000000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e->expires, 2000000000);
  auto never = ParseCommand("add traps 192.0.2.7 expires=0");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(*never->expires, 0);
  auto load = ParseCommand("load traps /x/y.txt ttl=1d");
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(*load->ttl, 86400);
  auto wl = ParseCommand("whitelist add traps 192.0.2.0/24 reason=our MX");
  ASSERT_TRUE(wl.ok());
  EXPECT_EQ(wl->reason, "our MX");
}

// Every duration unit, and the values around each limit.
TEST(ParseCommand, Durations) {
  const std::pair<char, std::int64_t> units[] = {
      {'\0', 1}, {'s', 1},  {'m', 60},   {'h', 3600},  {'d', 86400}, {'w', 604800},
      {'S', 1},  {'M', 60}, {'H', 3600}, {'D', 86400}, {'W', 604800}};
  for (auto [unit, mult] : units) {
    for (std::int64_t v : {std::int64_t{1}, std::int64_t{9}, std::int64_t{10}, std::int64_t{86399},
                           std::int64_t{999999999999}}) {
      std::string t = std::to_string(v);
      if (unit != '\0') t += unit;
      auto c = ParseCommand("add l 192.0.2.1 ttl=" + t);
      ASSERT_TRUE(c.ok()) << t << ": " << c.status();
      EXPECT_EQ(*c->ttl, v * mult) << t;
    }
  }
  for (std::string bad :
       {"", "0", "0h", "5x", "h", "-1", "1.5h", "1hh", "9999999999999", "0x10", "+5"}) {
    auto c = ParseCommand("add l 192.0.2.1 ttl=" + bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(Msg(c).find("add: 'ttl=" + bad.substr(0, bad.find(' '))), std::string::npos)
        << Msg(c);
  }
  EXPECT_EQ(Msg(ParseCommand("add traps 1.2.3.4 ttl=5x")), "add: 'ttl=5x' is not a duration");
}

// Every missing required field, every extra word, for every verb.
TEST(ParseCommand, MissingAndExtraFieldsNameTheVerb) {
  for (const Form& f : Forms()) {
    const std::string verb(VerbName(f.verb));
    for (std::size_t keep = 0; keep < f.required.size(); ++keep) {
      std::string line = verb;
      for (std::size_t i = 0; i < keep; ++i) line += " " + f.required[i];
      auto c = ParseCommand(line);
      ASSERT_FALSE(c.ok()) << line;
      EXPECT_EQ(Msg(c).rfind(verb + ": missing ", 0), 0u) << line << " -> " << Msg(c);
    }
    if (f.verb == Verb::kReport) continue;  // the rest of the line is the hit
    // An extra word after the last field (list takes one optional SUBJECT).
    std::string extra = f.line + (f.verb == Verb::kList ? " 10.0.0.0/8" : "") + " extra";
    if (f.verb == Verb::kStats) extra = "stats traps extra";
    auto c = ParseCommand(extra);
    ASSERT_FALSE(c.ok()) << extra;
    EXPECT_EQ(Msg(c), verb + ": unexpected 'extra'") << extra;
    // An option the verb does not take.
    if (f.verb != Verb::kAdd && f.verb != Verb::kHelp) {
      const std::string opt = f.verb == Verb::kLoad ? "code=2" : "ttl=1h";
      std::string with = f.line + " " + opt;
      if (f.verb == Verb::kStats) with = "stats traps " + opt;
      if (f.verb == Verb::kList) with = "list traps 10.0.0.0/8 " + opt;
      if (f.verb == Verb::kWhitelistAdd) with = f.line + " " + opt + " reason=x";
      auto o = ParseCommand(with);
      ASSERT_FALSE(o.ok()) << with;
      EXPECT_EQ(Msg(o), verb + ": unknown option '" + opt + "'") << with;
    }
  }
}

TEST(ParseCommand, BadValuesNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty command"},
      {"   \t ", "empty command"},
      {"frobnicate traps", "unknown command 'frobnicate'"},
      {"ADD traps 1.2.3.4", "unknown command 'ADD'"},
      {"whitelist", "whitelist: expected add, del or list"},
      {"whitelist show traps", "whitelist: expected add, del or list, not 'show'"},
      {"add traps 1.2.3.4 code=0", "add: 'code=0' is not a code from 1 to 255"},
      {"add traps 1.2.3.4 code=256", "add: 'code=256' is not a code from 1 to 255"},
      {"add traps 1.2.3.4 code=x", "add: 'code=x' is not a code from 1 to 255"},
      {"add traps 1.2.3.4 code=", "add: 'code=' is not a code from 1 to 255"},
      {"add traps 1.2.3.4 code=2 code=3", "add: code= given twice"},
      {"add traps 1.2.3.4 ttl=1h ttl=2h", "add: ttl= given twice"},
      {"add traps 1.2.3.4 expires=1 expires=2", "add: expires= given twice"},
      {"add traps 1.2.3.4 ttl=1h expires=2", "add: ttl= and expires= exclude each other"},
      {"add traps 1.2.3.4 expires=5 ttl=1h", "add: ttl= and expires= exclude each other"},
      {"add traps 1.2.3.4 expires=-1", "add: 'expires=-1' is not a Unix time"},
      {"add traps 1.2.3.4 expires=soon", "add: 'expires=soon' is not a Unix time"},
      {"add traps 1.2.3.4 foo=1", "add: unknown option 'foo=1'"},
      {"add traps 1.2.3.4 spam", "add: unexpected 'spam'"},
      {"add traps 192.0.2.1/24", "add: '192.0.2.1/24': host bits set"},
      {"add traps 192.0.2.1/33", "add: '192.0.2.1/33': prefix length above 32"},
      {"del traps a..b", "del: 'a..b': empty label"},
      {"add tr/aps 1.2.3.4", "add: LIST 'tr/aps' is not a list name"},
      {"load traps traps.txt", "load: FILE 'traps.txt' is not an absolute path"},
      {"load traps", "load: missing FILE"},
      {"report", "report: missing HIT-LINE"},
      {"report   ", "report: missing HIT-LINE"},
      {"help me", "help: unexpected 'me'"},
  };
  for (const auto& [line, want] : cases) {
    auto c = ParseCommand(line);
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_EQ(Msg(c).rfind(want, 0), 0u) << line << " -> " << Msg(c);
  }
}

// Every byte of reason text: printable bytes, tab and UTF-8 are kept
// verbatim, other control bytes refused naming the byte.
TEST(ParseCommand, EveryByteInReason) {
  for (int b = 0; b < 256; ++b) {
    if (b == '\n') continue;  // ends the line: cannot be inside one
    const std::string reason = std::string("a") + static_cast<char>(b) + "b";
    for (const std::string prefix :
         {"add traps 1.2.3.4 reason=", "whitelist add traps x.org reason="}) {
      auto c = ParseCommand(prefix + reason);
      if ((b < 0x20 && b != '\t') || b == 0x7f) {
        ASSERT_FALSE(c.ok()) << b;
        char want[64];
        std::snprintf(want, sizeof(want), "reason: byte 0x%02x is not allowed", b);
        EXPECT_NE(Msg(c).find(want), std::string::npos) << Msg(c);
      } else {
        ASSERT_TRUE(c.ok()) << b << ": " << c.status();
        EXPECT_EQ(c->reason, reason) << b;
        EXPECT_EQ(*ParseCommand(FormatCommand(*c)), *c) << b;
      }
    }
  }
  // Length: up to one TXT string.
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, kMaxReason - 1, kMaxReason, kMaxReason + 1,
                        kMaxControlLine}) {
    auto c = ParseCommand("add traps 1.2.3.4 reason=" + std::string(n, 'r'));
    EXPECT_EQ(c.ok(), n <= kMaxReason) << n << ": " << Msg(c);
    if (!c.ok()) {
      EXPECT_NE(Msg(c).find("reason longer than 255 bytes"), std::string::npos);
    }
  }
  // Words after reason= are part of it, blanks inside kept, around it dropped.
  auto c = ParseCommand("add traps 1.2.3.4 reason=  code=5  ttl=1h\tx  ");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->reason, "code=5  ttl=1h\tx");
  EXPECT_FALSE(c->code);
}

// List names: every byte, and the length limit.
TEST(ParseCommand, ListNames) {
  for (int b = 0x21; b < 256; ++b) {
    const std::string name = std::string("l") + static_cast<char>(b);
    const bool allowed = std::isalnum(b) || b == '_' || b == '-' || b == '.';
    auto c = ParseCommand("expire " + name);
    EXPECT_EQ(c.ok(), allowed && b < 0x80) << b << ": " << Msg(c);
  }
  EXPECT_TRUE(ParseCommand("expire " + std::string(kMaxListName, 'x')).ok());
  EXPECT_FALSE(ParseCommand("expire " + std::string(kMaxListName + 1, 'x')).ok());
}

// Generated garbage never crashes and every error names something.
TEST(ParseCommand, RandomLinesParseOrNameTheProblem) {
  std::mt19937 rng(11);
  const std::vector<std::string> words = {"add",    "del",     "show",   "list",  "whitelist",
                                          "load",   "report",  "stats",  "help",  "expire",
                                          "traps",  "1.2.3.4", "::1/64", "x.org", "code=3",
                                          "ttl=1h", "reason=", "/f",     "",      "expires=9"};
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    const int n = static_cast<int>(rng() % 7);
    for (int k = 0; k < n; ++k) line += words[rng() % words.size()] + " ";
    auto c = ParseCommand(line);
    if (c.ok()) {
      EXPECT_EQ(*ParseCommand(FormatCommand(*c)), *c) << line;
    } else {
      EXPECT_FALSE(c.status().message().empty()) << line;
    }
  }
}

TEST(FormatListing, EveryFieldReasonLast) {
  Listing l;
  l.subject = *Subject::Parse("192.0.2.0/24");
  l.code = 5;
  l.reason = "spam  run $";
  l.origin = Origin::kOperator;
  l.origin_id = "uid 1000";
  l.first_seen = 1764644645;  // 2025-12-02T03:04:05Z
  l.last_seen = 1764644646;
  l.expires = 0;
  l.offenses = 3;
  EXPECT_EQ(FormatListing(l),
            "192.0.2.0/24 code=5 origin=operator:uid 1000 first=2025-12-02T03:04:05Z "
            "last=2025-12-02T03:04:06Z expires=never offenses=3 reason=spam  run $");
  l.expires = 1764648245;
  l.reason.clear();
  EXPECT_EQ(FormatListing(l).substr(FormatListing(l).find(" expires=")),
            " expires=2025-12-02T04:04:05Z offenses=3");
  WhitelistEntry w;
  w.subject = *Subject::Parse(".example.org");
  w.reason = "partner";
  w.origin = Origin::kLoad;
  w.origin_id = "/etc/wl.txt";
  w.added = 0;
  EXPECT_EQ(FormatWhitelistEntry(w),
            ".example.org whitelist origin=load:/etc/wl.txt added=1970-01-01T00:00:00Z "
            "reason=partner");
}

TEST(ShowLines, VerdictThenEveryEntryAndRule) {
  const Subject s = *Subject::Parse("192.0.2.7");
  EXPECT_EQ(ShowLines(s, {}, {}, {}), std::vector<std::string>{"192.0.2.7: not listed"});
  Listing l;
  l.subject = *Subject::Parse("192.0.2.0/24");
  WhitelistEntry w;
  w.subject = s;
  const auto listed = ShowLines(s, {l}, {}, {"traps: 3 hits"});
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0], "192.0.2.7: listed");
  EXPECT_EQ(listed[1], "listing " + FormatListing(l));
  EXPECT_EQ(listed[2], "rule traps: 3 hits");
  const auto both = ShowLines(s, {l}, {w}, {});
  ASSERT_EQ(both.size(), 3u);
  EXPECT_EQ(both[0], "192.0.2.7: whitelisted");
  EXPECT_EQ(both[2], "whitelist " + FormatWhitelistEntry(w));
}

// ---- Reply framing.

TEST(Reply, EveryByteSurvivesFramingAndNoLineIsADot) {
  std::vector<std::string> lines = {"", ".", "..", ". x", "\\", "\\x41", "a\nb", "\r"};
  for (int b = 0; b < 256; ++b) lines.push_back(std::string(1, static_cast<char>(b)) + "x");
  for (int b = 0; b < 256; ++b) lines.push_back("." + std::string(1, static_cast<char>(b)));
  for (const Reply& r :
       {Reply::Ok(lines), Reply::Ok(), Reply::Error("bad \n\x01 thing\\"), Reply::Error("x")}) {
    const std::string wire = EncodeReply(r);
    // Only "\n" ends lines; the only "." line is the last.
    std::vector<std::string> wl;
    std::size_t start = 0;
    for (std::size_t i = 0; i < wire.size(); ++i) {
      const auto u = static_cast<unsigned char>(wire[i]);
      if (wire[i] == '\n') {
        wl.push_back(wire.substr(start, i - start));
        start = i + 1;
      } else {
        EXPECT_FALSE(u < 0x20 || u == 0x7f) << "control byte " << int(u) << " on the wire";
      }
    }
    ASSERT_EQ(start, wire.size());
    ASSERT_EQ(wl.size(), r.lines.size() + 2);
    for (std::size_t i = 0; i + 1 < wl.size(); ++i) EXPECT_NE(wl[i], ".");
    EXPECT_EQ(wl.back(), ".");
    ReplyDecoder d;
    for (std::size_t i = 0; i < wl.size(); ++i) {
      auto done = d.AddLine(wl[i]);
      ASSERT_TRUE(done.ok()) << done.status();
      EXPECT_EQ(*done, i + 1 == wl.size());
    }
    EXPECT_EQ(d.Take(), r);
  }
  ReplyDecoder d;
  EXPECT_FALSE(d.AddLine("hello").ok());
  ASSERT_TRUE(d.AddLine("ok").ok());
  EXPECT_FALSE(d.AddLine(".x").ok());
}

// ---- The service over a real unix socket.

// Records every command; answers at once or holds `done` for the test.
class FakeHandler : public ControlHandler {
 public:
  void Handle(const Command& cmd, const PeerCred& peer, std::function<void(Reply)> done) override {
    std::lock_guard<std::mutex> l(mu_);
    seen_.push_back(cmd);
    peers_.push_back(peer);
    if (hold_) {
      held_.push_back(std::move(done));
    } else {
      done(Reply::Ok({FormatCommand(cmd), "." + cmd.list}));
    }
  }
  void set_hold(bool h) {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = h;
  }
  std::size_t held() {
    std::lock_guard<std::mutex> l(mu_);
    return held_.size();
  }
  std::function<void(Reply)> TakeHeld(std::size_t i) {
    std::lock_guard<std::mutex> l(mu_);
    return std::move(held_[i]);
  }
  std::vector<Command> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }
  std::vector<PeerCred> peers() {
    std::lock_guard<std::mutex> l(mu_);
    return peers_;
  }

 private:
  std::mutex mu_;
  bool hold_ = false;
  std::vector<Command> seen_;
  std::vector<PeerCred> peers_;
  std::vector<std::function<void(Reply)>> held_;
};

template <typename F>
bool WaitFor(F f) {
  for (int i = 0; i < 1000; ++i) {  // 10 s at most
    if (f()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return f();
}

class ControlServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/meshbl-ctl-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/meshbld.ctl";
    auto loop = util::EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    id_ = loop_->AddService(&service_, ControlService::Framing(), ControlService::Limits());
    auto fd = OpenControlListener(path_, 0600);
    ASSERT_TRUE(fd.ok()) << fd.status();
    ASSERT_TRUE(loop_->AddListener(id_, *std::move(fd)).ok());
    thread_ = std::thread([this] { loop_->Run(); });
  }
  void TearDown() override {
    if (loop_) {
      loop_->Stop();
      thread_.join();
    }
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  ControlClient Connect() {
    auto c = ControlClient::Connect(path_);
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }
  ControlStats Stats() {
    auto p = std::make_shared<std::promise<ControlStats>>();
    auto f = p->get_future();
    loop_->Post([this, p] { p->set_value(service_.stats()); });
    return f.get();
  }

  FakeHandler handler_;
  ControlService service_{&handler_};
  std::unique_ptr<util::EventLoop> loop_;
  util::EventLoop::ServiceId id_ = 0;
  std::thread thread_;
  std::string dir_, path_;
};

TEST_F(ControlServiceTest, EveryCommandReachesTheHandlerWithThePeer) {
  ControlClient c = Connect();
  std::size_t handled = 0;
  for (const Form& f : Forms()) {
    auto r = c.Call(f.line);
    ASSERT_TRUE(r.ok()) << f.line << ": " << r.status();
    ASSERT_TRUE(r->ok) << f.line << ": " << r->error;
    if (f.verb == Verb::kHelp) {
      EXPECT_EQ(r->lines, HelpLines());
      continue;
    }
    ++handled;
    const Command parsed = *ParseCommand(f.line);
    ASSERT_EQ(r->lines.size(), 2u);
    EXPECT_EQ(r->lines[0], FormatCommand(parsed));
    EXPECT_EQ(r->lines[1], "." + parsed.list);  // a data line starting with "." comes back
  }
  const auto seen = handler_.seen();
  ASSERT_EQ(seen.size(), handled);
  for (const PeerCred& p : handler_.peers()) {
    EXPECT_EQ(p.uid, ::getuid());
    EXPECT_EQ(p.pid, ::getpid());
    EXPECT_EQ(p.OriginId(), "uid " + std::to_string(::getuid()));
  }
}

TEST_F(ControlServiceTest, ParseErrorNeverReachesTheHandler) {
  ControlClient c = Connect();
  for (const std::string bad : {"add traps 1.2.3.4 ttl=5x", "", "nope", "del traps", "load x y"}) {
    auto r = c.Call(bad);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->ok) << bad;
    EXPECT_EQ(r->error, Msg(ParseCommand(bad)));
  }
  EXPECT_TRUE(handler_.seen().empty());
  EXPECT_EQ(Stats().parse_errors, 5u);
}

// Pipelined requests, finished by the handler in reverse order from another
// thread, with parse errors and help between them: replies in request order.
TEST_F(ControlServiceTest, RepliesInRequestOrderWhateverOrderTheHandlerFinishes) {
  handler_.set_hold(true);
  ControlClient c = Connect();
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) {
    if (i % 7 == 3) {
      lines.push_back("bogus " + std::to_string(i));
    } else if (i % 11 == 5) {
      lines.push_back("help");
    } else {
      lines.push_back("add l" + std::to_string(i) + " 10.0.0." + std::to_string(i));
    }
  }
  for (const std::string& l : lines) ASSERT_TRUE(c.Send(l).ok());
  std::size_t to_handler = 0;
  for (const std::string& l : lines) to_handler += l.starts_with("add") ? 1u : 0u;
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == to_handler; }));
  std::thread finisher([&] {
    for (std::size_t i = to_handler; i-- > 0;) {
      handler_.TakeHeld(i)(Reply::Ok({"done " + handler_.seen()[i].list}));
    }
  });
  for (const std::string& l : lines) {
    auto r = c.Read();
    ASSERT_TRUE(r.ok()) << r.status();
    if (l.starts_with("bogus")) {
      EXPECT_FALSE(r->ok);
      EXPECT_EQ(r->error, Msg(ParseCommand(l)));
    } else if (l == "help") {
      EXPECT_EQ(r->lines, HelpLines());
    } else {
      ASSERT_TRUE(r->ok);
      EXPECT_EQ(r->lines, std::vector<std::string>{"done " + ParseCommand(l)->list});
    }
  }
  finisher.join();
}

TEST_F(ControlServiceTest, ClientThatLeavesBeforeItsReplyDropsOnlyThatReply) {
  handler_.set_hold(true);
  {
    ControlClient gone = Connect();
    ASSERT_TRUE(gone.Send("del traps 192.0.2.1").ok());
    ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  }
  // The client is gone; the handler finishes afterwards.
  handler_.TakeHeld(0)(Reply::Error("late"));
  ASSERT_TRUE(WaitFor([&] { return Stats().dropped == 1; }));
  handler_.set_hold(false);
  ControlClient c = Connect();
  auto r = c.Call("stats");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlServiceTest, LineLimit) {
  ControlClient c = Connect();
  // A line of exactly the limit is read (and refused by the parser: its
  // reason is too long); one byte more closes the connection.
  const std::string longest = "add traps 1.2.3.4 reason=" + std::string(kMaxControlLine - 25, 'x');
  ASSERT_EQ(longest.size(), kMaxControlLine);
  auto r = c.Call(longest);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->error.find("reason longer than"), std::string::npos) << r->error;
  auto over = c.Call(longest + "x");
  EXPECT_FALSE(over.ok());
  EXPECT_TRUE(handler_.seen().empty());
}

TEST_F(ControlServiceTest, TooManyInFlightRefusedInOrder) {
  handler_.set_hold(true);
  ControlClient c = Connect();
  for (std::size_t i = 0; i <= kMaxInFlight; ++i) ASSERT_TRUE(c.Send("expire traps").ok());
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == kMaxInFlight; }));
  for (std::size_t i = 0; i < kMaxInFlight; ++i) handler_.TakeHeld(i)(Reply::Ok());
  for (std::size_t i = 0; i <= kMaxInFlight; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->ok, i < kMaxInFlight) << i;
    if (i == kMaxInFlight) {
      EXPECT_EQ(r->error, "too many requests in flight");
    }
  }
  EXPECT_EQ(handler_.seen().size(), kMaxInFlight);
}

TEST_F(ControlServiceTest, ClientThatNeverReadsRefusalsIsCutOff) {
  handler_.set_hold(true);
  ControlClient c = Connect();
  ASSERT_TRUE(c.Send("expire traps").ok());
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  // Parse errors wait behind the held request; past twice the limit the
  // connection is closed rather than holding ever more of them.
  for (std::size_t i = 0; i < 2 * kMaxInFlight && c.Send("bogus").ok(); ++i) {
  }
  ASSERT_TRUE(WaitFor([&] { return Stats().refused >= kMaxInFlight; }));
  handler_.TakeHeld(0)(Reply::Ok());
  timeval tv{10, 0};  // a connection left open would block the reads below
  ASSERT_EQ(::setsockopt(c.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  std::size_t replies = 0;
  while (replies <= 2 * kMaxInFlight && c.Read().ok()) ++replies;
  EXPECT_EQ(replies, 0u) << "the connection was not closed";
}

TEST_F(ControlServiceTest, SocketModeKeepsOutOtherUsers) {
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  if (::geteuid() != 0) GTEST_SKIP() << "not root: cannot connect as another uid";
  // The directory must be searchable by the other user for the socket's own
  // mode to be what refuses.
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    auto c = ConnectControl(path_);
    if (c.ok()) ::_exit(1);
    ::_exit(c.status().message().find("Permission denied") != std::string::npos ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: connected; 2: another error; 3: setuid failed";
  EXPECT_TRUE(handler_.seen().empty());
}

TEST(OpenControlListener, ReplacesASocketRefusesAFile) {
  char tmpl[] = "/tmp/meshbl-ctl-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/s";
  {
    auto a = OpenControlListener(path, 0660);
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = OpenControlListener(path, 0600);  // an old socket is replaced
    ASSERT_TRUE(b.ok()) << b.status();
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_NE(::access((path + ".new").c_str(), F_OK), 0);
  }
  ::unlink(path.c_str());
  { std::ofstream(path) << "precious"; }
  auto c = OpenControlListener(path, 0600);
  EXPECT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("is not a socket"), std::string::npos);
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
  ::unlink(path.c_str());
  auto missing = ConnectControl(dir + "/none");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(std::string(missing.status().message()),
            dir + "/none: connect: No such file or directory");
  ::rmdir(dir.c_str());
}

// ---- load files.

struct Kind {
  std::string line;
  std::optional<std::string> subject;  // the listing it makes, if any
  std::uint8_t code = 2;
  std::string reason = "";
};

// Every line kind; entries under the built-in default (no default line
// before them).
std::vector<Kind> GoodKinds() {
  return {
      {"", std::nullopt},
      {"# a comment", std::nullopt},
      {"; another", std::nullopt},
      {"   \t", std::nullopt},
      {"192.0.2.7", "192.0.2.7"},
      {"10.2", "10.2.0.0/16"},
      {"10.3.4", "10.3.4.0/24"},
      {"198.51.100.0/24 :5:listed $", "198.51.100.0/24", 5, "listed $"},
      {"0/0 :9:", "0.0.0.0/0", 9, ""},
      {"127.0.0.9:9:direct", "127.0.0.9", 9, "direct"},
      {"203.0.113.1 # trailing comment", "203.0.113.1"},
      {"203.0.113.2 free text value", "203.0.113.2", 2, "free text value"},
      {"203.0.113.3 :127.0.0.4:dotted", "203.0.113.3", 4, "dotted"},
      {"2001:db8::1", "2001:db8::1"},
      {"2001:db8:1", "2001:db8:1::/48"},
      {"2001:db8::/32 :3:v6", "2001:db8::/32", 3, "v6"},
      {"::/0", "::/0"},
      {"example.com", "example.com"},
      {".example.net :6:whole tree", ".example.net", 6, "whole tree"},
      {"EXAMPLE.ORG.", "example.org"},
  };
}

struct Bad {
  std::string line;
  std::string error;
};

std::vector<Bad> BadKinds() {
  return {
      {"!192.0.2.1", "exclusions are not accepted"},
      {"$TTL 300", "'$TTL': special lines are not accepted"},
      {"192.0.2.1/33", "'192.0.2.1/33': not an IPv4 address or CIDR"},
      {"192.0.2.1/24", "'192.0.2.1/24': host bits set"},
      {"2001:db8::1/32", "'2001:db8::1/32': host bits set"},
      {"192.0.2.256", "'192.0.2.256': not an IPv4 address or CIDR"},
      {"2001:db8::g", "'2001:db8::g': not an IPv6 address or prefix"},
      {"*.example.com", "'*.example.com': subdomains only has no live-list form"},
      {"192.0.2.1 :10.0.0.2:x", "A 10.0.0.2: a live list answers 127.0.0.N"},
      {"192.0.2.1 :127.0.0.0:x", "A 127.0.0.0: a live list answers 127.0.0.N"},
      {"192.0.2.1 :0:", "invalid A RR"},
      {"192.0.2.1 :2 junk", "unrecognized value for an entry"},
      {"192.0.2.1 " + std::string(256, 't'), "TXT longer than 255 bytes"},
      {"192.0.2.1\r", "carriage return"},
      {":999:x", "invalid A RR"},
      {":10.1.1.1:x", "A 10.1.1.1"},
      {"a..b", "'a..b': empty label"},
      {std::string(32 * 1024 + 1, 'a'), "line longer than 32768 bytes"},
  };
}

TEST(ParseLiveListText, EveryLineKind) {
  std::string text;
  std::vector<Kind> kinds = GoodKinds();
  for (const Kind& k : kinds) text += k.line + "\n";
  // A default line changes the entries after it, and a duplicate is dropped
  // (the first wins, as in ip4trie).
  text += ":7:default $\n192.0.2.99\n192.0.2.98 :8\n192.0.2.97 own text\n192.0.2.7 :4:dup\n";
  text += "192.0.2.96";  // no newline at the end
  auto got = ParseLiveListText(text, "f.txt", {.now = 1000, .expires = 5000});
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<Kind> want;
  for (const Kind& k : kinds) {
    if (k.subject) want.push_back(k);
  }
  want.push_back({"", "192.0.2.99", 7, "default $"});
  want.push_back({"", "192.0.2.98", 8, "default $"});
  want.push_back({"", "192.0.2.97", 7, "own text"});
  want.push_back({"", "192.0.2.96", 7, "default $"});
  ASSERT_EQ(got->size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Listing& l = (*got)[i];
    EXPECT_EQ(l.subject.ToString(), *want[i].subject) << i;
    EXPECT_EQ(l.code, want[i].code) << *want[i].subject;
    EXPECT_EQ(l.reason, want[i].reason) << *want[i].subject;
    EXPECT_EQ(l.origin, Origin::kLoad);
    EXPECT_EQ(l.origin_id, "f.txt");
    EXPECT_EQ(l.first_seen, 1000);
    EXPECT_EQ(l.last_seen, 1000);
    EXPECT_EQ(l.expires, 5000);
  }
}

// Every bad line kind at every position of a good file: the whole file
// fails and the error names that line.
TEST(ParseLiveListText, BadLineAtEveryPositionFailsTheFile) {
  const std::vector<Kind> good = GoodKinds();
  for (const Bad& bad : BadKinds()) {
    for (std::size_t pos = 0; pos <= good.size(); ++pos) {
      std::string text;
      for (std::size_t i = 0; i < good.size(); ++i) {
        if (i == pos) text += bad.line + "\n";
        text += good[i].line + "\n";
      }
      if (pos == good.size()) text += bad.line;  // last, without a newline
      auto got = ParseLiveListText(text, "data/traps.txt");
      ASSERT_FALSE(got.ok()) << bad.line << " at " << pos;
      const std::string want = "data/traps.txt:" + std::to_string(pos + 1) + ": " + bad.error;
      EXPECT_EQ(std::string(got.status().message()).rfind(want, 0), 0u)
          << got.status().message() << "\nwanted: " << want;
    }
  }
}

TEST(ParseLiveListFile, ReadsAFileAndNamesIt) {
  char tmpl[] = "/tmp/meshbl-load-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/traps.txt";
  { std::ofstream(path) << "192.0.2.1\n2001:db8::/32 :3:x\n"; }
  auto got = ParseLiveListFile(path);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].origin_id, path);
  { std::ofstream(path) << "192.0.2.1\n!192.0.2.2\n"; }
  auto bad = ParseLiveListFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()).rfind(path + ":2: ", 0), 0u) << bad.status();
  ::unlink(path.c_str());
  auto missing = ParseLiveListFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find(path), std::string::npos);
  ::rmdir(tmpl);
}

}  // namespace
}  // namespace meshbl::feed
