// End-to-end tests of the real `meshbld` binary on 127.0.0.1 (an ephemeral
// port, learnt from its "listening on" line), on generated zone files.
// User-visible behaviours asserted:
// - it answers A/TXT/NXDOMAIN/REFUSED from ip4set and dnset data (-n);
// - --help lists every entry of the option table; bad command lines exit 1
//   with rbldnsd's messages (no arguments, -Z, -t ::2m, unknown type, -x,
//   no -b, a missing data file: "zone loading errors, aborting");
// - daemon mode: the parent exits 0 once the child has loaded, writes the
//   child's pid to -p; with a broken zone the parent exits 1;
// - SIGHUP reloads a rewritten file; a failing reload ($TIMESTAMP in the
//   future, a removed file) logs file:line and keeps serving the old data;
// - reload under load: 20 rewrites + SIGHUP while a client queries
//   continuously: no lost reply, no SERVFAIL, every TXT from a generation;
// - SIGTERM exits 0 and writes the final statistics line (-s) and the bare
//   timestamp; -l opens the query log file; USR1 logs and writes counters,
//   USR2 also resets them;
// - -q: the parent exits 0 before loading, a broken zone is not fatal (with
//   -n it SERVFAILs until fixed);
// - -c: a changed file is reloaded without a signal; warnings are capped
//   at five per dataset; -r/-w apply to data files (and reloads);
// - issue 10 item 5: a snapshot in every source form (`zone:snapshot:F.mbs`,
//   bare `F.mbs`, ...) is served, bad sources fail as in `meshbl`
// - `zone:snapshot:file.mbs` serves a `meshbl compile` snapshot and reloads
//   it when it is recompiled;
// - issue 9 item 11: a FIFO in place of a data file (text or snapshot) never
//   blocks: at start it fails like a missing file (exit 1, or with -q only
//   its zone SERVFAILs), on reload it is refused ("not a regular file") and
//   its zone keeps the old data, a later change to another file is still
//   loaded, and SIGTERM exits; `meshbl check`, `compile`, `lookup` refuse
//   it at once. (failure_differential_test.cc compares the failure cases
//   that rbldnsd can run with it.)
// - issue 10 item 1 (the daemon's services): a service that fails to start
//   (the DNS front end on a port in use, the query log in a missing
//   directory) is named in the error and the process exits 1, in the
//   foreground and in daemon mode (the parent too); SIGHUP reopens the
//   query log (logrotate) and a -c check does not.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/daemon/options.h"
#include "tests/integration/daemon_util.h"

// ldns last: its C headers define macros that upset C++ standard headers.
#include <ldns/ldns.h>  // NOLINT(build/include_order)

#ifndef MESHBLD_PATH
#error "MESHBLD_PATH must name the meshbld binary"
#endif
#ifndef MESHBL_TOOL_PATH
#error "MESHBL_TOOL_PATH must name the meshbl binary"
#endif

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using namespace meshbl::testing::daemon;  // NOLINT(build/namespaces): the shared helpers

constexpr char kIp4Data[] =
    ":127.0.0.2:Listed: $\n"
    "1.2.3.4\n"
    "10.0.0.0/8 :3:ten\n";
constexpr char kDnData[] = "bad.example :4:dn bad\n*.spam.example\n";

TEST(Meshbld, AnswersFromTextDatasets) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  WriteFile(dir / "dn", kDnData);
  Daemon d(dir, {"bl.test:ip4set:ip4", "dbl.test:dnset:dn"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  EXPECT_NE(d.Out().find("ip4set:ip4: "), std::string::npos) << d.Out();
  EXPECT_NE(d.Out().find(": 2 entries"), std::string::npos) << d.Out();
  Client c(d.port());
  Reply r = c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A);
  ASSERT_TRUE(r.got);
  EXPECT_EQ(r.rcode, LDNS_RCODE_NOERROR);
  EXPECT_EQ(r.a, std::vector<std::string>{"127.0.0.2"});
  r = c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_TXT);
  EXPECT_EQ(r.txt, std::vector<std::string>{"Listed: 1.2.3.4"});
  r = c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT);
  EXPECT_EQ(r.txt, std::vector<std::string>{"ten"});
  // Two-digit labels: single digits also read as IPv6 nibbles, which
  // meshbl answers as empty non-terminals (NODATA).
  r = c.Query("55.3.2.1.bl.test", LDNS_RR_TYPE_A);
  EXPECT_EQ(r.rcode, LDNS_RCODE_NXDOMAIN);
  r = c.Query("x.spam.example.dbl.test", LDNS_RR_TYPE_A);
  EXPECT_EQ(r.a, std::vector<std::string>{"127.0.0.2"});
  r = c.Query("bad.example.dbl.test", LDNS_RR_TYPE_A);
  EXPECT_EQ(r.a, std::vector<std::string>{"127.0.0.4"});
  r = c.Query("example.org", LDNS_RR_TYPE_A);
  EXPECT_EQ(r.rcode, LDNS_RCODE_REFUSED);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, HelpListsEveryOption) {
  TempDir dir;
  RunResult r = RunToExit({"--help"}, dir.path());
  EXPECT_EQ(r.exit_code, 0);
  for (const meshbl::daemon::OptionSpec& o : meshbl::daemon::kOptions) {
    const std::string spelled =
        o.id < 256 ? std::string(" -") + static_cast<char>(o.id) : std::string(" --") + o.long_name;
    EXPECT_NE(r.out.find("\n" + spelled), std::string::npos) << spelled;
  }
  EXPECT_NE(r.out.find("Available dataset types:"), std::string::npos);
}

TEST(Meshbld, BadCommandLinesExitLikeRbldnsd) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const std::string data = "bl.test:ip4set:" + (dir / "ip4").string();
  RunResult r = RunToExit({}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("Usage is: meshbld"), std::string::npos);
  r = RunToExit({"-Z", data}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "meshbld: invalid option -- 'Z'\nmeshbld: type `meshbld -h' for help\n");
  r = RunToExit({"-n", "-b", "127.0.0.1/0", "-t", "::2m", data}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "meshbld: inconsistent def:min:max ttl: 2100:0:120\n");
  r = RunToExit({"-n", "-b", "127.0.0.1/0", "x.test:bogus:f"}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "meshbld: unknown dataset type `bogus'\n");
  r = RunToExit({"-x", "ext.so", data}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "meshbld: extension support is not compiled in\n");
  r = RunToExit({"-n", data}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "meshbld: no address to listen on (-b option) specified\n");
  std::vector<std::string> args = {"-n", "-b", "127.0.0.1/0"};
  for (const std::string& a : UserArgs()) args.push_back(a);
  args.push_back("bl.test:ip4set:" + (dir / "missing").string());
  r = RunToExit(args, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("meshbld: zone loading errors, aborting\n"), std::string::npos) << r.err;
  if (geteuid() == 0) {
    r = RunToExit({"-n", "-b", "127.0.0.1/0", "-u", "root", data}, dir.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "meshbld: daemon should not run as root, specify -u option\n");
  }
}

TEST(Meshbld, DaemonModeParentWaitsForTheLoad) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const fs::path pid_file = dir / "meshbld.pid";
  std::vector<std::string> args = {"-b", "127.0.0.1/0", "-p", pid_file.string()};
  for (const std::string& a : UserArgs()) args.push_back(a);
  args.push_back("bl.test:ip4set:" + (dir / "ip4").string());
  RunResult r = RunToExit(args, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const pid_t child = static_cast<pid_t>(std::atoi(ReadFile(pid_file).c_str()));
  ASSERT_GT(child, 0);
  EXPECT_EQ(kill(child, 0), 0) << "the daemon runs after the parent exited";
  EXPECT_EQ(kill(child, SIGTERM), 0);
  for (int i = 0; i < 500 && kill(child, 0) == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_NE(kill(child, 0), 0) << "the daemon exits on SIGTERM";

  // A broken zone: the parent reports the child's failure.
  args.back() = "bl.test:ip4set:" + (dir / "missing").string();
  r = RunToExit(args, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("zone loading errors, aborting"), std::string::npos) << r.err;
}

TEST(Meshbld, SighupReloadsARewrittenFile) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  Daemon d(dir, {"-c", "0", "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"ten"});
  WriteFile(dir / "ip4", ":127.0.0.2:Listed: $\n10.0.0.0/8 :3:eleven\n");
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"eleven"});
  EXPECT_TRUE(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).a.empty()) << "1.2.3.4 no longer listed";
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, ReloadRebuildsOnlyTheChangedDatasetAndKeepsCommandLineOrder) {
  TempDir dir;
  WriteFile(dir / "a", "1.2.3.4 :2:from a\n");
  WriteFile(dir / "b", "1.2.3.4 :3:from b\n");
  // `a` is loaded first (for other.test), yet bl.test lists `b` first: its
  // answers must keep that order.
  Daemon d(dir, {"-c", "0", "other.test:ip4set:a", "bl.test:ip4set:b", "bl.test:ip4set:a"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  EXPECT_EQ(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).a,
            (std::vector<std::string>{"127.0.0.3", "127.0.0.2"}));
  EXPECT_EQ(d.Count("ip4set:a: "), 1) << d.Out();
  EXPECT_EQ(d.Count("ip4set:b: "), 1) << d.Out();
  WriteFile(dir / "b", "1.2.3.4 :4:new b\n");
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  // Only `b` was read again (its line is logged twice, `a`'s once) and
  // both still answer, in command-line order.
  EXPECT_EQ(d.Count("ip4set:b: "), 2) << d.Out();
  EXPECT_EQ(d.Count("ip4set:a: "), 1) << d.Out();
  EXPECT_EQ(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).a,
            (std::vector<std::string>{"127.0.0.4", "127.0.0.2"}));
  EXPECT_EQ(c.Query("4.3.2.1.other.test", LDNS_RR_TYPE_TXT).txt,
            std::vector<std::string>{"from a"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

// Debian's rbldnsd.service is Type=notify: under NOTIFY_SOCKET meshbld, like
// rbldnsd, stays in the foreground (no -n needed) and tells systemd READY
// (with its pid and addresses), RELOADING/READY around a reload, STOPPING.
TEST(Meshbld, SystemdNotifySocketGetsReadyReloadingStopping) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const fs::path sock = dir / "notify";
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  chmod(sock.c_str(), 0666);  // meshbld sends after dropping to its -u user
  auto next = [fd](int ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return std::string("(nothing)");
    char buf[1024];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("(error)");
  };
  Daemon d(dir, {"-c", "0", "bl.test:ip4set:ip4"}, {"NOTIFY_SOCKET=" + sock.string()},
           /*foreground=*/false);
  const std::string ready = next(15000);
  EXPECT_NE(ready.find("READY=1\n"), std::string::npos) << ready;
  EXPECT_NE(ready.find("MAINPID=" + std::to_string(d.pid()) + "\n"), std::string::npos)
      << "forked under systemd: " << ready;
  const std::string key = "127.0.0.1/";
  const std::size_t at = ready.find(key);
  ASSERT_NE(at, std::string::npos) << ready;
  Client c(static_cast<std::uint16_t>(std::atoi(ready.c_str() + at + key.size())));
  EXPECT_EQ(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).a, std::vector<std::string>{"127.0.0.2"});
  EXPECT_FALSE(d.Exited());
  WriteFile(dir / "ip4", "10.0.0.0/8 :3:reloaded\n");
  d.Signal(SIGHUP);
  EXPECT_EQ(next(10000), "RELOADING=1");
  EXPECT_EQ(next(10000), "READY=1");
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt,
            std::vector<std::string>{"reloaded"});
  d.Signal(SIGTERM);
  EXPECT_EQ(next(10000), "STOPPING=1");
  EXPECT_EQ(d.WaitExit(), 0);
  close(fd);
}

TEST(Meshbld, FailedReloadKeepsServingTheOldData) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  WriteFile(dir / "dn", kDnData);
  Daemon d(dir, {"-c", "0", "bl.test:ip4set:ip4", "dbl.test:dnset:dn"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  // A fatal line: $TIMESTAMP in the future (line 2).
  WriteFile(dir / "ip4", std::string("1.2.3.4\n$TIMESTAMP 20300101\n") + kIp4Data);
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("ip4:2: ", 10s)) << d.Out() << d.Err();
  ASSERT_TRUE(d.WaitLog("keeping the previous data", 10s)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"ten"});
  EXPECT_EQ(c.Query("x.spam.example.dbl.test", LDNS_RR_TYPE_A).rcode, LDNS_RCODE_NOERROR);
  // A removed file (the other file is valid again).
  WriteFile(dir / "ip4", kIp4Data);
  fs::remove(dir / "dn");
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("keeping the previous data", 10s, 2)) << d.Out() << d.Err();
  EXPECT_NE(d.Err().find("dn: "), std::string::npos) << d.Err();
  EXPECT_EQ(c.Query("x.spam.example.dbl.test", LDNS_RR_TYPE_A).a,
            std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"ten"});
  // Fixing the files recovers.
  WriteFile(dir / "dn", "other.example\n");
  WriteFile(dir / "ip4", "10.0.0.0/8 :3:fixed\n");
  d.Signal(SIGHUP);
  // Start, two partly failed reloads (each publishes what loaded), this one.
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 4)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"fixed"});
  EXPECT_EQ(c.Query("x.spam.example.dbl.test", LDNS_RR_TYPE_A).rcode, LDNS_RCODE_NXDOMAIN);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

std::string Generation(int n) {
  std::string s = ":127.0.0.2:gen " + std::to_string(n) + "\n";
  // Enough entries that a load takes measurable time.
  for (int i = 0; i < 20000; ++i) {
    s += "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1\n";
  }
  return s + "1.2.3.4\n";
}

TEST(Meshbld, ReloadUnderLoadLosesNothing) {
  TempDir dir;
  WriteFile(dir / "ip4", Generation(0));
  Daemon d(dir, {"-c", "0", "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();

  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, answered{0}, lost{0}, servfail{0}, wrong{0};
  std::set<std::string> seen;
  std::thread client([&] {
    Client c(d.port());
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (int i = 0; i < 200000 && !stop.load() && std::chrono::steady_clock::now() < deadline;
         ++i) {
      ++sent;
      Reply r = c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_TXT);
      if (!r.got) {
        ++lost;
        continue;
      }
      ++answered;
      if (r.rcode == LDNS_RCODE_SERVFAIL) ++servfail;
      if (r.rcode != LDNS_RCODE_NOERROR || r.txt.size() != 1 || r.txt[0].rfind("gen ", 0) != 0) {
        ++wrong;
      } else {
        seen.insert(r.txt[0]);
      }
    }
  });
  for (int gen = 1; gen <= 20; ++gen) {
    std::this_thread::sleep_for(50ms);
    WriteFile(dir / "ip4", Generation(gen));
    d.Signal(SIGHUP);
    // Each rewrite is picked up before the next one (bounded wait).
    ASSERT_TRUE(d.WaitLog("zones reloaded", 20s, gen + 1)) << d.Out() << d.Err();
  }
  std::this_thread::sleep_for(100ms);
  stop = true;
  client.join();
  std::printf("reload under load: %d queries, %d answered, %zu generations seen\n", sent.load(),
              answered.load(), seen.size());
  EXPECT_GT(sent.load(), 100);
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(servfail.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(answered.load(), sent.load());
  for (const std::string& s : seen) {
    const int n = std::atoi(s.c_str() + 4);
    EXPECT_TRUE(n >= 0 && n <= 20) << s;
  }
  EXPECT_TRUE(seen.count("gen 20")) << "the last generation was served";
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, TermWritesFinalStatistics) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const fs::path stats = dir / "stats", qlog = dir / "queries.log";
  Daemon d(dir, {"-s", stats.string(), "-l", qlog.string(), "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
  ASSERT_TRUE(c.Query("55.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
  // Counters are published by the workers once per batch; give them time.
  std::this_thread::sleep_for(300ms);
  d.Signal(SIGTERM);
  ASSERT_EQ(d.WaitExit(), 0) << d.Err();
  EXPECT_NE(d.Out().find("terminating"), std::string::npos);
  EXPECT_NE(d.Out().find("stats for "), std::string::npos);
  std::istringstream in(ReadFile(stats));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 3u) << ReadFile(stats);
  EXPECT_EQ(lines[0].find(' '), std::string::npos) << "bare timestamp at start";
  EXPECT_NE(lines[1].find(" *:4:3:1:"), std::string::npos) << lines[1];
  // rbldnsd's per-zone field comes before the total (§6).
  EXPECT_NE(lines[1].find(" bl.test:4:3:1:"), std::string::npos) << lines[1];
  EXPECT_LT(lines[1].find(" bl.test:"), lines[1].find(" *:")) << lines[1];
  EXPECT_EQ(lines[2].find(' '), std::string::npos) << "bare timestamp at stop";
  // -l: one line per answered query, rbldnsd's format (§6):
  // <unixtime> <client-ip> <qname as sent> <QTYPE> <QCLASS>: <RCODE>/<ancount>/<bytes>
  std::istringstream log_in(ReadFile(qlog));
  std::vector<std::string> qlines;
  for (std::string l; std::getline(log_in, l);) qlines.push_back(l);
  ASSERT_EQ(qlines.size(), 4u) << ReadFile(qlog);
  const std::regex line_re(R"(^\d+ 127\.0\.0\.1 (\S+) A IN: (NOERROR|NXDOMAIN)/(\d+)/(\d+)$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(qlines[0], m, line_re)) << qlines[0];
  EXPECT_EQ(m[1], "4.3.2.1.bl.test");
  EXPECT_EQ(m[2], "NOERROR");
  EXPECT_EQ(m[3], "1");
  ASSERT_TRUE(std::regex_match(qlines[3], m, line_re)) << qlines[3];
  EXPECT_EQ(m[1], "55.3.2.1.bl.test");
  EXPECT_EQ(m[2], "NXDOMAIN");
  EXPECT_EQ(m[3], "0");
}

TEST(Meshbld, Usr1LogsAndUsr2ResetsCounters) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const fs::path stats = dir / "stats";
  Daemon d(dir, {"-c", "0", "-s", stats.string(), "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
  std::this_thread::sleep_for(300ms);
  d.Signal(SIGUSR1);
  // rbldnsd's lines: one per zone, then the total.
  ASSERT_TRUE(d.WaitLog("sec: tot=", 5s)) << d.Out();
  EXPECT_NE(d.Out().find("secs zone bl.test: tot=2 ok=2 nxd=0 err=0"), std::string::npos)
      << d.Out();
  EXPECT_NE(d.Out().find("sec: tot=2 ok=2 nxd=0 err=0"), std::string::npos) << d.Out();
  d.Signal(SIGUSR2);
  ASSERT_TRUE(d.WaitLog("sec: tot=", 5s, 2)) << d.Out();
  ASSERT_TRUE(c.Query("55.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
  std::this_thread::sleep_for(300ms);
  d.Signal(SIGTERM);
  ASSERT_EQ(d.WaitExit(), 0);
  std::istringstream in(ReadFile(stats));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  // start, USR1, USR2 (+ bare reset), TERM (+ bare stop)
  ASSERT_EQ(lines.size(), 6u) << ReadFile(stats);
  EXPECT_NE(lines[1].find(" *:2:2:0:"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(" *:2:2:0:"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].find(' '), std::string::npos);
  EXPECT_NE(lines[4].find(" *:1:0:1:"), std::string::npos) << "counted since the reset";
  EXPECT_EQ(lines[5].find(' '), std::string::npos);
}

TEST(Meshbld, QuickStartDetachesBeforeLoading) {
  TempDir dir;
  const fs::path pid_file = dir / "meshbld.pid";
  std::vector<std::string> args = {"-q", "-b", "127.0.0.1/0", "-p", pid_file.string()};
  for (const std::string& a : UserArgs()) args.push_back(a);
  args.push_back("bl.test:ip4set:" + (dir / "missing").string());
  RunResult r = RunToExit(args, dir.path());
  EXPECT_EQ(r.exit_code, 0) << "-q: load errors are not fatal\n" << r.err;
  const pid_t child = static_cast<pid_t>(std::atoi(ReadFile(pid_file).c_str()));
  ASSERT_GT(child, 0);
  EXPECT_EQ(kill(child, 0), 0);
  kill(child, SIGTERM);
  for (int i = 0; i < 500 && kill(child, 0) == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_NE(kill(child, 0), 0);

  // -n -q: loads before serving, but a broken zone only SERVFAILs.
  Daemon d(dir, {"-q", "bl.test:ip4set:missing"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  EXPECT_NE(d.Err().find("zone bl.test: not all datasets are loaded, zone will not be serviced"),
            std::string::npos)
      << d.Err();
  Client c(d.port());
  EXPECT_EQ(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).rcode, LDNS_RCODE_SERVFAIL);
  // Fixing the file recovers at the next check.
  WriteFile(dir / "missing", kIp4Data);
  d.Signal(SIGHUP);
  // The start logged "zones reloaded" once (with the zone failed), the fix twice.
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).a, std::vector<std::string>{"127.0.0.2"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, CheckIntervalReloadsWithoutASignal) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  Daemon d(dir, {"-c", "1", "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  WriteFile(dir / "ip4", "10.0.0.0/8 :3:by timer\n");
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt,
            std::vector<std::string>{"by timer"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, ServesAndReloadsACompiledSnapshot) {
  TempDir dir;
  WriteFile(dir / "dn", ":5:compiled one\nbad.example\n");
  const std::string mbs = (dir / "dbl.mbs").string();
  const std::string spec = "dbl.test:dnset:" + (dir / "dn").string();
  RunResult r = RunToExit({"compile", "-o", mbs, spec}, dir.path(), 30s, MESHBL_TOOL_PATH);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  chmod(mbs.c_str(), 0644);
  WriteFile(dir / "ip4", kIp4Data);
  Daemon d(dir, {"-c", "0", "dbl.test:snapshot:dbl.mbs", "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  EXPECT_NE(d.Out().find("snapshot:dbl.mbs: "), std::string::npos) << d.Out();
  Client c(d.port());
  EXPECT_EQ(c.Query("bad.example.dbl.test", LDNS_RR_TYPE_TXT).txt,
            std::vector<std::string>{"compiled one"});
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"ten"});
  WriteFile(dir / "dn", ":5:compiled two\nbad.example\n");
  r = RunToExit({"compile", "-o", mbs, spec}, dir.path(), 30s, MESHBL_TOOL_PATH);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  chmod(mbs.c_str(), 0644);
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("bad.example.dbl.test", LDNS_RR_TYPE_TXT).txt,
            std::vector<std::string>{"compiled two"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

// Issue 10 item 5: one source grammar for meshbld and meshbl. meshbld serves
// a compiled snapshot given in every form `meshbl` takes: named, bare, named
// after a zone the snapshot lacks (served, with a warning), and without a
// name; -d dumps the same data from each.
TEST(Meshbld, Issue10_ServesASnapshotInEverySourceForm) {
  TempDir dir;
  WriteFile(dir / "dn", ":5:compiled\nbad.example\n");
  const std::string mbs = (dir / "dbl.mbs").string();
  RunResult r = RunToExit({"compile", "-o", mbs, "dbl.test:dnset:" + (dir / "dn").string()},
                          dir.path(), 30s, MESHBL_TOOL_PATH);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  chmod(mbs.c_str(), 0644);
  struct Form {
    std::string source;
    bool warns;  // "has no zone" expected
  };
  const std::vector<Form> forms = {{"dbl.test:snapshot:dbl.mbs", false},
                                   {"dbl.mbs", false},
                                   {mbs, false},
                                   {"other.test:snapshot:dbl.mbs", true},
                                   {":snapshot:dbl.mbs", false},
                                   {"dbl.test:snapshot:dbl.mbs,", false}};
  std::string first_dump;
  for (const Form& f : forms) {
    SCOPED_TRACE(f.source);
    {
      // The previous daemon's log must not be read as this one's.
      fs::remove(dir / "daemon.out");
      fs::remove(dir / "daemon.err");
      Daemon d(dir, {"-c", "0", f.source});
      ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
      Client c(d.port());
      EXPECT_EQ(c.Query("bad.example.dbl.test", LDNS_RR_TYPE_TXT).txt,
                std::vector<std::string>{"compiled"});
      EXPECT_EQ(c.Query("good.example.dbl.test", LDNS_RR_TYPE_A).rcode, LDNS_RCODE_NXDOMAIN);
      EXPECT_EQ(d.Count("has no zone `other.test'"), f.warns ? 1 : 0) << d.Err();
      d.Signal(SIGTERM);
      EXPECT_EQ(d.WaitExit(), 0);
    }
    RunResult dump = RunToExit({"-d", "-w", dir.path().string(), f.source}, dir.path());
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    const std::size_t body = dump.out.find("$ORIGIN");
    ASSERT_NE(body, std::string::npos) << dump.out;
    if (first_dump.empty()) first_dump = dump.out.substr(body);
    EXPECT_EQ(dump.out.substr(body), first_dump);
  }
}

// The grammar's errors are the same for meshbld as for `meshbl` (rbldnsd's
// messages), exit 1 before anything is loaded.
TEST(Meshbld, Issue10_BadSourcesFailLikeMeshbl) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"bl.txt", "invalid zone spec `bl.txt'"},
      {"bl:snapshot", "invalid zone data specification `snapshot'"},
      {"bl:ip4sett:f", "unknown dataset type `ip4sett'"},
      {"bl:snapshot:,", "missing filenames for snapshot"},
      {"bl:ip4set:,:", "missing filenames for ip4set"},
      {std::string(64, 'a') + ".b:snapshot:x.mbs",
       "invalid domain name `" + std::string(64, 'a') + ".b'"},
      {"a\\999b:ip4set:x", "invalid domain name `a\\999b'"},
  };
  for (const auto& [source, message] : bad) {
    RunResult d = RunToExit({"-n", "-b", "127.0.0.1/0", source}, dir.path());
    EXPECT_EQ(d.exit_code, 1) << source;
    EXPECT_NE(d.err.find(message), std::string::npos) << source << ": " << d.err;
    RunResult m = RunToExit({"lookup", source, "x.bl"}, dir.path(), 10s, MESHBL_TOOL_PATH);
    EXPECT_EQ(m.exit_code, 1) << source;
    EXPECT_NE(m.err.find(message), std::string::npos) << source << ": " << m.err;
  }
}

TEST(Meshbld, WarningsAreCappedAtFivePerDataset) {
  TempDir dir;
  std::string data = "1.2.3.4\n";
  for (int i = 0; i < 8; ++i) data += "bad entry " + std::to_string(i) + "\n";
  WriteFile(dir / "ip4", data);
  Daemon d(dir, {"bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  EXPECT_EQ(d.Count("meshbld: ip4:"), 5) << d.Err();
  EXPECT_NE(d.Err().find("meshbld: ip4:2: "), std::string::npos) << d.Err();
  EXPECT_NE(d.Err().find("meshbld: ip4set:ip4: 3 more warnings suppressed"), std::string::npos)
      << d.Err();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, ChrootAndWorkdirApplyToDataFiles) {
  if (geteuid() != 0) GTEST_SKIP() << "chroot needs root";
  TempDir dir;
  fs::create_directories(dir / "data");
  chmod((dir / "data").c_str(), 0755);
  WriteFile(dir / "data" / "ip4", kIp4Data);
  const fs::path pid_file = dir / "meshbld.pid";
  Daemon d(dir, {"-r", dir.path().string(), "-w", "/data", "-p", pid_file.string(),
                 "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  EXPECT_EQ(std::atoi(ReadFile(pid_file).c_str()), d.pid()) << "-p is written before chroot";
  Client c(d.port());
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"ten"});
  // Reloads read inside the chroot too.
  WriteFile(dir / "data" / "ip4", "10.0.0.0/8 :3:jailed\n");
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("9.9.9.10.bl.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"jailed"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);

  TempDir other;
  RunResult r = RunToExit(
      {"-n", "-b", "127.0.0.1/0", "-u", "nobody", "-r", "/nonexistent", "bl.test:ip4set:ip4"},
      other.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "meshbld: unable to chroot to /nonexistent: No such file or directory\n");
}

namespace issue9 {

// A FIFO in place of a data file, made with mkfifo: nobody ever writes to it,
// so any open() without O_NONBLOCK would block forever.
void MakeFifo(const fs::path& p) {
  fs::remove(p);
  ASSERT_EQ(mkfifo(p.c_str(), 0666), 0) << p;
  chmod(p.c_str(), 0666);
}

TEST(Meshbld, Issue9_FifoAtStartFailsOnlyItsZone) {
  TempDir dir;
  WriteFile(dir / "z2", kIp4Data);
  MakeFifo(dir / "z1");
  // Without -q: the load fails at once, like a missing file.
  std::vector<std::string> args = {"-n", "-b", "127.0.0.1/0"};
  for (const std::string& a : UserArgs()) args.push_back(a);
  args.push_back("z1.test:ip4set:" + (dir / "z1").string());
  args.push_back("z2.test:ip4set:" + (dir / "z2").string());
  RunResult r = RunToExit(args, dir.path(), 20s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("zone loading errors, aborting"), std::string::npos) << r.err;
  // -q: z1.test SERVFAILs, z2.test serves.
  Daemon d(dir, {"-q", "-c", "0", "z1.test:ip4set:z1", "z2.test:ip4set:z2"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  EXPECT_EQ(c.Query("4.3.2.1.z1.test", LDNS_RR_TYPE_A).rcode, LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(c.Query("4.3.2.1.z2.test", LDNS_RR_TYPE_A).a, std::vector<std::string>{"127.0.0.2"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

TEST(Meshbld, Issue9_FifoOnReloadIsRefusedAndLaterChangesStillLoad) {
  TempDir dir;
  WriteFile(dir / "z1", kIp4Data);
  WriteFile(dir / "z2", kIp4Data);
  Daemon d(dir, {"-c", "0", "z1.test:ip4set:z1", "z2.test:ip4set:z2"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  MakeFifo(dir / "z1");
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("z1: not a regular file", 10s)) << d.Out() << d.Err();
  ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 2)) << d.Out() << d.Err();
  EXPECT_EQ(c.Query("4.3.2.1.z1.test", LDNS_RR_TYPE_A).a, std::vector<std::string>{"127.0.0.2"})
      << "the FIFO's zone keeps its previous data";
  // A new entry in another file is loaded at the next SIGHUPs.
  for (int round = 0; round < 3; ++round) {
    const std::string entry = "5.6.7." + std::to_string(round);
    WriteFile(dir / "z2", std::string(kIp4Data) + entry + " :9:new " + entry + "\n");
    d.Signal(SIGHUP);
    ASSERT_TRUE(d.WaitLog("zones reloaded", 10s, 3 + round)) << d.Out() << d.Err();
    EXPECT_EQ(c.Query(std::to_string(round) + ".7.6.5.z2.test", LDNS_RR_TYPE_TXT).txt,
              std::vector<std::string>{"new " + entry});
  }
  // SIGTERM while the FIFO is still there: the process exits (bounded wait).
  d.Signal(SIGHUP);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(10s), 0) << d.Out() << d.Err();
}

TEST(Meshbld, Issue9_SnapshotFifoNeverBlocks) {
  TempDir dir;
  WriteFile(dir / "z2", kIp4Data);
  MakeFifo(dir / "s.mbs");
  Daemon d(dir, {"-q", "-c", "0", "s.test:snapshot:s.mbs", "z2.test:ip4set:z2"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  EXPECT_EQ(c.Query("4.3.2.1.s.test", LDNS_RR_TYPE_A).rcode, LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(c.Query("4.3.2.1.z2.test", LDNS_RR_TYPE_A).a, std::vector<std::string>{"127.0.0.2"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(10s), 0);
}

TEST(Meshbl, Issue9_ToolCommandsRefuseAFifo) {
  TempDir dir;
  MakeFifo(dir / "fifo");
  MakeFifo(dir / "fifo.mbs");
  const std::string spec = "bl.test:ip4set:" + (dir / "fifo").string();
  const std::string snap = (dir / "fifo.mbs").string();
  const std::vector<std::vector<std::string>> commands = {
      {"check", spec},
      {"check", snap},
      {"compile", "-o", (dir / "out.mbs").string(), spec},
      {"lookup", spec, "4.3.2.1.bl.test"},
      {"lookup", snap, "4.3.2.1.bl.test"},
      {"inspect", snap},
      {"dump", spec},
  };
  for (const auto& cmd : commands) {
    RunResult r = RunToExit(cmd, dir.path(), 20s, MESHBL_TOOL_PATH);
    EXPECT_NE(r.exit_code, 0) << cmd[0] << " " << cmd.back();
    EXPECT_NE((r.out + r.err).find("not a regular file"), std::string::npos)
        << cmd[0] << ": " << r.out << r.err;
  }
}

}  // namespace issue9

TEST(Meshbld, Issue10_AServiceThatFailsToStartIsNamedAndTheProcessExits1) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const std::string data = "bl.test:ip4set:" + (dir / "ip4").string();
  // A UDP port in use (without SO_REUSEPORT): the DNS front end cannot bind.
  const int busy = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(busy, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  socklen_t len = sizeof sin;
  ASSERT_EQ(getsockname(busy, reinterpret_cast<sockaddr*>(&sin), &len), 0);
  const std::string addr = "127.0.0.1/" + std::to_string(ntohs(sin.sin_port));
  const std::string missing_log = (dir / "no-such-dir" / "q.log").string();
  for (bool foreground : {true, false}) {
    SCOPED_TRACE(foreground ? "-n" : "daemon mode");
    std::vector<std::string> args = {"-b", addr};
    if (foreground) args.push_back("-n");
    for (const std::string& a : UserArgs()) args.push_back(a);
    args.push_back(data);
    RunResult r = RunToExit(args, dir.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("meshbld: dns: bind " + addr + ": "), std::string::npos) << r.err;
    args = {"-b", "127.0.0.1/0", "-l", missing_log};
    if (foreground) args.push_back("-n");
    for (const std::string& a : UserArgs()) args.push_back(a);
    args.push_back(data);
    r = RunToExit(args, dir.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("meshbld: query log: unable to open " + missing_log + ": "),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("started ("), std::string::npos) << "never reported as started";
  }
  close(busy);
}

std::size_t LineCount(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return 0;
  const std::string text = ReadFile(p);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Bounded wait for `f()`.
template <typename F>
bool Eventually(F f, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

// logrotate moves the query log and sends SIGHUP: the lines before the
// signal stay in the moved file (a -c check in between does not reopen),
// the lines after it go to a new file at the old name; none is lost.
TEST(Meshbld, Issue10_HupReopensTheQueryLogAndACheckDoesNot) {
  TempDir dir;
  WriteFile(dir / "ip4", kIp4Data);
  const fs::path qlog = dir / "q.log", moved = dir / "q.log.1", stats = dir / "stats";
  Daemon d(dir, {"-c", "1", "-s", stats.string(), "-l", qlog.string(), "bl.test:ip4set:ip4"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();
  Client c(d.port());
  std::size_t sent = 0;
  ASSERT_TRUE(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
  ++sent;
  ASSERT_TRUE(Eventually([&] { return LineCount(qlog) == 1; })) << ReadFile(qlog);
  fs::rename(qlog, moved);
  // Two -c checks after the move (each writes a counters line to -s).
  const std::size_t checks = LineCount(stats);
  ASSERT_TRUE(Eventually([&] { return LineCount(stats) >= checks + 2; })) << ReadFile(stats);
  ASSERT_TRUE(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
  ++sent;
  ASSERT_TRUE(Eventually([&] { return LineCount(moved) == 2; })) << ReadFile(moved);
  EXPECT_FALSE(fs::exists(qlog)) << "a -c check reopened the query log";
  d.Signal(SIGHUP);
  // The reopen happens at the writer's next pass: query until a line lands
  // in the new file.
  for (int i = 0; i < 100 && LineCount(qlog) == 0; ++i) {
    ASSERT_TRUE(c.Query("4.3.2.1.bl.test", LDNS_RR_TYPE_A).got);
    ++sent;
    (void)Eventually([&] { return LineCount(moved) + LineCount(qlog) == sent; }, 2s);
  }
  EXPECT_GE(LineCount(qlog), 1u);
  d.Signal(SIGTERM);
  ASSERT_EQ(d.WaitExit(), 0) << d.Err();
  EXPECT_EQ(LineCount(moved) + LineCount(qlog), sent);
}

}  // namespace
