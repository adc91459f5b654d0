// The query log (src/server/query_log.cc): workers' rings, the line format
// of reference §6 (qname as sent, QTYPE, QCLASS, RCODE/ancount/bytes) and
// the writer (drain, reopen, stdout).
#include "meshbl/server/query_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace meshbl::server {
namespace {

// A query: header + the question `name` (presentation, no escapes) + type/class.
std::vector<std::uint8_t> QueryPacket(const std::string& name, std::uint16_t type,
                                      std::uint16_t klass) {
  std::vector<std::uint8_t> p = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    p.push_back(static_cast<std::uint8_t>(dot - start));
    p.insert(p.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  p.push_back(0);
  p.push_back(static_cast<std::uint8_t>(type >> 8));
  p.push_back(static_cast<std::uint8_t>(type));
  p.push_back(static_cast<std::uint8_t>(klass >> 8));
  p.push_back(static_cast<std::uint8_t>(klass));
  return p;
}

// A reply of `size` bytes with `rcode` and `ancount`.
std::vector<std::uint8_t> ReplyPacket(std::size_t size, std::uint8_t rcode, std::uint16_t an) {
  std::vector<std::uint8_t> r(size, 0);
  r[2] = 0x85;
  r[3] = rcode;
  r[6] = static_cast<std::uint8_t>(an >> 8);
  r[7] = static_cast<std::uint8_t>(an);
  return r;
}

std::string Line(const std::string& name, std::uint16_t type, std::uint16_t klass,
                 std::uint8_t rcode, std::uint16_t an, std::size_t bytes,
                 const table::ClientAddr& client = {4, 0x7f000001, 0, 0}) {
  QueryLogRing ring;
  ring.Record(1795352825, client, QueryPacket(name, type, klass), ReplyPacket(bytes, rcode, an));
  QueryLogRecord r;
  EXPECT_TRUE(ring.Pop(&r));
  return FormatQueryLogLine(r);
}

TEST(QueryLog, LineFormatIsRbldnsds) {
  EXPECT_EQ(Line("2.0.0.127.x.test", 1, 1, 0, 1, 78),
            "1795352825 127.0.0.1 2.0.0.127.x.test A IN: NOERROR/1/78");
  EXPECT_EQ(Line("Foo.X.test", 1, 255, 3, 0, 28),
            "1795352825 127.0.0.1 Foo.X.test A ANY: NXDOMAIN/0/28");
  EXPECT_EQ(Line("version.bind", 16, 3, 5, 0, 30),
            "1795352825 127.0.0.1 version.bind TXT CH: REFUSED/0/30");
  EXPECT_EQ(Line("4.3.2.1.x.test", 250, 1, 4, 0, 32),
            "1795352825 127.0.0.1 4.3.2.1.x.test TSIG IN: NOTIMPL/0/32");
  EXPECT_EQ(Line("4.3.2.1.x.test", 65, 1, 0, 0, 32),
            "1795352825 127.0.0.1 4.3.2.1.x.test type65 IN: NOERROR/0/32");
  EXPECT_EQ(Line("a b.x.test", 28, 1, 2, 0, 30),
            "1795352825 127.0.0.1 a\\032b.x.test AAAA IN: SERVFAIL/0/30");
  EXPECT_EQ(Line("", 2, 1, 5, 0, 17), "1795352825 127.0.0.1 . NS IN: REFUSED/0/17");
  const table::ClientAddr v6{6, 0, 0x20010db800000000ULL, 1};
  EXPECT_EQ(Line("x.test", 6, 1, 0, 1, 60, v6),
            "1795352825 2001:db8::1 x.test SOA IN: NOERROR/1/60");
}

TEST(QueryLog, TruncatedQuestionIsMarked) {
  QueryLogRing ring;
  std::vector<std::uint8_t> q = QueryPacket("x.test", 1, 1);
  q.resize(q.size() - 3);
  ring.Record(1, {4, 0x0a000001, 0, 0}, q, ReplyPacket(12, 1, 0));
  QueryLogRecord r;
  ASSERT_TRUE(ring.Pop(&r));
  EXPECT_EQ(FormatQueryLogLine(r), "1 10.0.0.1 x.test ? ?: FORMERR/0/12");
}

TEST(QueryLogRing, FullRingDropsAndCounts) {
  QueryLogRing ring;
  const auto q = QueryPacket("x.test", 1, 1);
  const auto a = ReplyPacket(40, 0, 1);
  for (std::uint64_t i = 0; i < QueryLogRing::kCapacity + 10; ++i) {
    ring.Record(static_cast<std::int64_t>(i), {}, q, a);
  }
  EXPECT_EQ(ring.dropped(), 10u);
  QueryLogRecord r;
  std::uint64_t n = 0;
  while (ring.Pop(&r)) {
    EXPECT_EQ(r.time, static_cast<std::int64_t>(n));
    ++n;
  }
  EXPECT_EQ(n, QueryLogRing::kCapacity);
  ring.Record(7, {}, std::vector<std::uint8_t>(5), a);  // shorter than a header
  EXPECT_EQ(ring.dropped(), 11u);
}

TEST(QueryLogRing, OneProducerOneConsumerConcurrently) {
  QueryLogRing ring;
  constexpr int kRecords = 200000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    const auto q = QueryPacket("x.test", 1, 1);
    const auto a = ReplyPacket(40, 0, 1);
    for (int i = 0; i < kRecords; ++i) ring.Record(i, {}, q, a);
    done = true;
  });
  std::int64_t last = -1;
  std::uint64_t got = 0;
  QueryLogRecord r;
  for (int spins = 0; spins < 100000000; ++spins) {
    if (ring.Pop(&r)) {
      EXPECT_GT(r.time, last);
      EXPECT_EQ(r.question_len, 12u);
      last = r.time;
      ++got;
    } else if (done.load()) {
      if (!ring.Pop(&r)) break;
      last = r.time;
      ++got;
    }
  }
  producer.join();
  EXPECT_EQ(got + ring.dropped(), static_cast<std::uint64_t>(kRecords));
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(QueryLog, WriterDrainsEveryRingAndReopens) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("qlog_test." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "q.log";
  {
    QueryLog log;
    ASSERT_TRUE(log.Open(path.string(), false).ok());
    QueryLogRing* a = log.AddRing();
    QueryLogRing* b = log.AddRing();
    a->Record(1, {4, 0x7f000001, 0, 0}, QueryPacket("a.test", 1, 1), ReplyPacket(40, 0, 1));
    b->Record(2, {4, 0x7f000001, 0, 0}, QueryPacket("b.test", 16, 1), ReplyPacket(50, 3, 0));
    EXPECT_EQ(log.DrainOnce(), 2u);
    EXPECT_EQ(ReadAll(path),
              "1 127.0.0.1 a.test A IN: NOERROR/1/40\n2 127.0.0.1 b.test TXT IN: NXDOMAIN/0/50\n");
    // Rotation: rename, reopen on request, the next line goes to a new file.
    std::filesystem::rename(path, dir / "q.log.1");
    log.RequestReopen();
    a->Record(3, {4, 0x7f000001, 0, 0}, QueryPacket("c.test", 1, 1), ReplyPacket(40, 0, 1));
    log.Start();
    log.Stop();
    EXPECT_EQ(ReadAll(path), "3 127.0.0.1 c.test A IN: NOERROR/1/40\n");
    EXPECT_EQ(log.counters().dropped, 0u);
  }
  EXPECT_FALSE(QueryLog().Open((dir / "missing" / "q.log").string(), false).ok());
  std::filesystem::remove_all(dir);
}

// Issue 9 item 8: every byte value in a label, every length: the
// allocation-free formatter the workers use in unbuffered mode writes what
// the writer thread's formatter writes.
TEST(QueryLog, WorkerFormatterMatchesTheWriters) {
  char buf[QueryLogRing::kMaxLine];
  for (int len = 1; len <= 63; len += 31) {
    for (int b = 0; b < 256; ++b) {
      std::vector<std::uint8_t> q = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
      for (int l = 0; l < 4; ++l) {  // 4 labels of `len` bytes (up to 255)
        q.push_back(static_cast<std::uint8_t>(len));
        for (int i = 0; i < len; ++i) q.push_back(static_cast<std::uint8_t>(b));
      }
      q.insert(q.end(), {0, 0, 16, 0, 1});
      QueryLogRing ring;
      ring.Record(-5 + b, {6, 0, ~0ULL, ~0ULL}, q, ReplyPacket(512, 15, 65535));
      QueryLogRecord r;
      ASSERT_TRUE(ring.Pop(&r));
      const std::size_t n = FormatQueryLogLine(r, buf);
      ASSERT_GT(n, 0u);
      ASSERT_LE(n, QueryLogRing::kMaxLine);
      EXPECT_EQ(std::string(buf, n), FormatQueryLogLine(r) + "\n");
    }
  }
}

std::filesystem::path TestDir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / (name + "." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Issue 9 item 8: with `+`, a worker's lines are in the file as soon as it
// flushes (before its replies are sent): no writer thread, no drain. Rings
// added before Open() (the daemon opens the log after the workers started)
// switch too.
TEST(QueryLog, Issue9_UnbufferedLinesAreInTheFileAtFlushInOrder) {
  const auto dir = TestDir("qlog_plus");
  const auto path = dir / "q.log";
  QueryLog log;
  QueryLogRing* early = log.AddRing();
  ASSERT_TRUE(log.Open(path.string(), true).ok());
  QueryLogRing* late = log.AddRing();
  std::string want;
  for (int i = 0; i < 300; ++i) {
    QueryLogRing* ring = i % 3 == 0 ? late : early;
    const std::string name = "q" + std::to_string(i) + ".x.test";
    ring->Record(i, {4, 0x7f000001, 0, 0}, QueryPacket(name, 1, 1), ReplyPacket(40, 3, 0));
    ring->Flush();
    want += std::to_string(i) + " 127.0.0.1 " + name + " A IN: NXDOMAIN/0/40\n";
    ASSERT_EQ(ReadAll(path), want) << "after reply " << i;
  }
  // A batch: one write at Flush; more lines than the buffer holds at once
  // are written in order too.
  const std::string big(60, 'a');
  std::string batch;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = big + "." + std::to_string(i) + ".x.test";
    early->Record(7, {4, 0x7f000001, 0, 0}, QueryPacket(name, 16, 1), ReplyPacket(90, 0, 1));
    batch += "7 127.0.0.1 " + name + " TXT IN: NOERROR/1/90\n";
  }
  early->Flush();
  EXPECT_EQ(ReadAll(path), want + batch);
  EXPECT_EQ(log.DrainOnce(), 0u);  // nothing went through the rings
  const QueryLogCounters c = log.counters();
  EXPECT_EQ(c.written, 2300u);
  EXPECT_EQ(c.lost, 0u);
  // Rotation: the same fd number, the new file.
  std::filesystem::rename(path, dir / "q.log.1");
  log.RequestReopen();
  log.DrainOnce();
  late->Record(9, {4, 0x7f000001, 0, 0}, QueryPacket("r.test", 1, 1), ReplyPacket(40, 0, 1));
  late->Flush();
  EXPECT_EQ(ReadAll(path), "9 127.0.0.1 r.test A IN: NOERROR/1/40\n");
  std::filesystem::remove_all(dir);
}

// Issue 9 item 13: writes that fail (/dev/full) are counted and reported
// once per interval with the number of lines lost, in both modes.
TEST(QueryLog, Issue9_WriteFailuresAreCountedAndReportedOncePerInterval) {
  for (bool unbuffered : {false, true}) {
    SCOPED_TRACE(unbuffered ? "unbuffered" : "buffered");
    QueryLog log;
    ASSERT_TRUE(log.Open("/dev/full", unbuffered).ok());
    std::vector<std::string> reports;
    log.SetFailureReport([&](std::string_view m) { reports.emplace_back(m); },
                         std::chrono::hours(1));
    QueryLogRing* ring = log.AddRing();
    auto record = [&](int n) {
      for (int i = 0; i < n; ++i) {
        ring->Record(i, {}, QueryPacket("x.test", 1, 1), ReplyPacket(40, 0, 1));
        if (unbuffered && i % 10 == 9) ring->Flush();  // batches of 10
      }
      ring->Flush();
    };
    record(100);
    log.DrainOnce();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].find("query log /dev/full: write failed: No space left on device: 100 "),
              std::string::npos)
        << reports[0];
    record(50);
    log.DrainOnce();
    EXPECT_EQ(reports.size(), 1u) << "once per interval";
    QueryLogCounters c = log.counters();
    EXPECT_EQ(c.lost, 150u);
    EXPECT_EQ(c.written, 0u);
    EXPECT_EQ(log.StatsLine(), "query log: written=0 lost=150 dropped=0");
    // The interval elapsed: the next pass reports what was lost since.
    log.SetFailureReport([&](std::string_view m) { reports.emplace_back(m); },
                         std::chrono::milliseconds(0));
    log.DrainOnce();
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_NE(reports[1].find(": 50 line(s) lost since the last report (150 in all)"),
              std::string::npos)
        << reports[1];
    log.DrainOnce();
    EXPECT_EQ(reports.size(), 2u) << "nothing new, nothing reported";
  }
}

// The name as the reference's rule writes it, independently of
// dns::NameToText: `.` and `\` escaped with a backslash, bytes up to 0x20 and
// from 0x7f as \DDD, the root as ".".
std::string ExpectedName(const std::vector<std::vector<std::uint8_t>>& labels) {
  if (labels.empty()) return ".";
  std::string s;
  for (std::size_t l = 0; l < labels.size(); ++l) {
    if (l != 0) s += '.';
    for (std::uint8_t c : labels[l]) {
      if (c == '.' || c == '\\') {
        s += '\\';
        s += static_cast<char>(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        char d[5];
        std::snprintf(d, sizeof d, "\\%03u", unsigned{c});
        s += d;
      } else {
        s += static_cast<char>(c);
      }
    }
  }
  return s;
}

std::string FormatWire(const std::vector<std::uint8_t>& question,
                       const table::ClientAddr& client = {4, 0x7f000001, 0, 0}) {
  std::vector<std::uint8_t> q = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  q.insert(q.end(), question.begin(), question.end());
  QueryLogRing ring;
  ring.Record(5, client, q, ReplyPacket(40, 0, 0));
  QueryLogRecord r;
  EXPECT_TRUE(ring.Pop(&r));
  char buf[QueryLogRing::kMaxLine];
  return std::string(buf, FormatQueryLogLine(r, buf));
}

// Issue 10 item 2: the worker's formatter (now dns::NameToText) writes every
// byte value, at every label length and name length up to 255, as the
// reference's escaping rule does; malformed names are marked.
TEST(QueryLog, Issue10_NameTextEscapesEveryByteAtEveryLength) {
  for (int b = 0; b < 256; ++b) {
    for (int len = 1; len <= 63; ++len) {
      // As many labels of `len` bytes as fit in 255 bytes of wire name.
      std::vector<std::vector<std::uint8_t>> labels;
      std::vector<std::uint8_t> wire;
      while (wire.size() + 1u + static_cast<std::size_t>(len) + 1u <= 255u &&
             labels.size() < 127u) {
        labels.emplace_back(static_cast<std::size_t>(len), static_cast<std::uint8_t>(b));
        wire.push_back(static_cast<std::uint8_t>(len));
        wire.insert(wire.end(), labels.back().begin(), labels.back().end());
      }
      // One label, two, half of them, all of them (255 bytes or just under).
      for (std::size_t k : {std::size_t{1}, std::size_t{2}, labels.size() / 2, labels.size()}) {
        std::vector<std::uint8_t> q(
            wire.begin(),
            wire.begin() + static_cast<long>(k * (1u + static_cast<std::size_t>(len))));
        q.insert(q.end(), {0, 0, 16, 0, 1});
        const std::vector<std::vector<std::uint8_t>> want_labels(
            labels.begin(), labels.begin() + static_cast<long>(k));
        ASSERT_EQ(FormatWire(q),
                  "5 127.0.0.1 " + ExpectedName(want_labels) + " TXT IN: NOERROR/0/40\n")
            << "byte " << b << " len " << len << " labels " << k;
      }
    }
  }
  EXPECT_EQ(FormatWire({0, 0, 1, 0, 1}), "5 127.0.0.1 . A IN: NOERROR/0/40\n");
  // Malformed: a label over 63, a label past the end, no root label.
  std::vector<std::uint8_t> long_label(65, 'a');
  long_label[0] = 64;
  long_label.insert(long_label.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(FormatWire(long_label), "5 127.0.0.1  ? ?: NOERROR/0/40\n");
  EXPECT_EQ(FormatWire({3, 'a', 'b'}), "5 127.0.0.1  ? ?: NOERROR/0/40\n");
  EXPECT_EQ(FormatWire({1, 'a', 1, 'b'}), "5 127.0.0.1  ? ?: NOERROR/0/40\n");
  // The name is there, the type and class are cut.
  EXPECT_EQ(FormatWire({1, 'a', 0, 0, 1, 0}), "5 127.0.0.1 a ? ?: NOERROR/0/40\n");
}

// Issue 10 item 3: clients are written as rbldnsd writes them
// (getnameinfo(NI_NUMERICHOST), i.e. inet_ntop): RFC 5952, with a dotted
// quad for v4-mapped and IPv4-compatible addresses. Every pattern of zero
// and non-zero groups, with v4 tails.
TEST(QueryLog, Issue10_ClientTextIsInetNtops) {
  auto client_of = [](const std::string& line) {
    const std::size_t a = line.find(' ') + 1;
    return line.substr(a, line.find(' ', a) - a);
  };
  const std::uint8_t q[] = {1, 'x', 0, 0, 1, 0, 1};
  const std::vector<std::uint8_t> question(std::begin(q), std::end(q));
  const std::uint16_t values[] = {1, 0xffff, 0x0a0b, 0x100};
  int checked = 0;
  for (int mask = 0; mask < 256; ++mask) {
    for (std::uint16_t v : values) {
      std::uint16_t g[8];
      for (int i = 0; i < 8; ++i) g[i] = (mask >> i & 1) ? v : 0;
      // Group 5 = ffff makes a v4-mapped address of the zero-prefixed ones.
      for (int mapped = 0; mapped < 2; ++mapped) {
        if (mapped) g[5] = 0xffff;
        std::uint8_t b[16];
        table::ClientAddr c{6, 0, 0, 0};
        for (int i = 0; i < 8; ++i) {
          b[2 * i] = static_cast<std::uint8_t>(g[i] >> 8);
          b[2 * i + 1] = static_cast<std::uint8_t>(g[i]);
        }
        for (int i = 0; i < 8; ++i) {
          c.hi = c.hi << 8 | b[i];
          c.lo = c.lo << 8 | b[8 + i];
        }
        char want[INET6_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET6, b, want, sizeof want), nullptr);
        ASSERT_EQ(client_of(FormatWire(question, c)), want) << "mask " << mask;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 256 * 4 * 2);
  for (std::uint32_t v4 : {0u, 1u, 0x01020304u, 0xffffffffu, 0x7f000001u, 0x0a000100u}) {
    const std::uint32_t n = htonl(v4);
    char want[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, &n, want, sizeof want), nullptr);
    EXPECT_EQ(client_of(FormatWire(question, {4, v4, 0, 0})), want);
  }
  EXPECT_EQ(client_of(FormatWire(question, {6, 0, 0, 0x0000ffffc0000201ULL})), "::ffff:192.0.2.1");
  EXPECT_EQ(client_of(FormatWire(question, {0, 0, 0, 0})), "?");
}

// Issue 10 item 4: a reopen (SIGHUP, rotation) keeps the log's descriptor
// close-on-exec, so processes the daemon starts do not inherit it.
TEST(QueryLog, Issue10_ReopenKeepsTheDescriptorCloseOnExec) {
  const auto dir = TestDir("qlog_cloexec");
  const auto path = dir / "q.log";
  QueryLog log;
  ASSERT_TRUE(log.Open(path.string(), true).ok());
  QueryLogRing* ring = log.AddRing();
  // The log's descriptor: the one whose /proc link names the file.
  auto log_fds = [&]() {
    std::vector<int> fds;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      const auto target = std::filesystem::read_symlink(e.path(), ec);
      if (!ec && target.filename() == "q.log" && target.parent_path() == dir) {
        fds.push_back(std::stoi(e.path().filename().string()));
      }
    }
    return fds;
  };
  for (int round = 0; round < 3; ++round) {
    std::filesystem::rename(path, dir / ("q.log." + std::to_string(round)));
    log.RequestReopen();
    log.DrainOnce();
    ring->Record(round, {4, 0x7f000001, 0, 0}, QueryPacket("r.test", 1, 1), ReplyPacket(40, 0, 1));
    ring->Flush();
    EXPECT_EQ(ReadAll(path), std::to_string(round) + " 127.0.0.1 r.test A IN: NOERROR/1/40\n");
    const std::vector<int> fds = log_fds();
    ASSERT_EQ(fds.size(), 1u) << "round " << round;
    const int flags = ::fcntl(fds[0], F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_NE(flags & FD_CLOEXEC, 0) << "round " << round;
  }
  std::filesystem::remove_all(dir);
}

// Sets RLIMIT_FSIZE (writes past it return EFBIG, SIGXFSZ ignored) for the
// life of the object.
class FileSizeLimit {
 public:
  FileSizeLimit() {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool Set(rlim_t bytes) {
    rlimit r = old_;
    r.rlim_cur = bytes;
    return ::setrlimit(RLIMIT_FSIZE, &r) == 0;
  }
  void Lift() { ::setrlimit(RLIMIT_FSIZE, &old_); }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = SIG_DFL;
};

// Issue 10 item 5: a write that stops inside a line (the file system fills:
// a short write, then EFBIG) leaves a fragment; the next successful write,
// from the same worker, another worker or the writer thread, starts on a
// new line, so every line of the file but the fragment is whole. Every
// cut-off point within the first lines, in both modes.
TEST(QueryLog, Issue10_AWriteThatStopsMidLineIsNotGluedToTheNext) {
  const auto dir = TestDir("qlog_midline");
  const auto path = dir / "q.log";
  const std::string first = "1 127.0.0.1 a.x.test A IN: NOERROR/1/40\n";
  const std::string later = "2 127.0.0.1 b.x.test TXT IN: NXDOMAIN/0/50\n";
  FileSizeLimit limit;
  // Who writes the fragment and who writes next: 0 = the same worker,
  // 1 = another worker, 2 = the writer thread (buffered mode).
  for (int who = 0; who < 3; ++who) {
    for (std::size_t cut = 1; cut < 2 * first.size(); ++cut) {
      SCOPED_TRACE("who " + std::to_string(who) + " cut " + std::to_string(cut));
      std::filesystem::remove(path);
      const bool unbuffered = who != 2;
      QueryLog log;
      ASSERT_TRUE(log.Open(path.string(), unbuffered).ok());
      log.SetFailureReport([](std::string_view) {}, std::chrono::hours(1));
      QueryLogRing* a = log.AddRing();
      QueryLogRing* b = log.AddRing();
      ASSERT_TRUE(limit.Set(cut));
      for (int i = 0; i < 3; ++i) {
        a->Record(1, {4, 0x7f000001, 0, 0}, QueryPacket("a.x.test", 1, 1), ReplyPacket(40, 0, 1));
      }
      a->Flush();
      if (!unbuffered) log.DrainOnce();
      limit.Lift();
      ASSERT_EQ(std::filesystem::file_size(path), cut);
      QueryLogRing* next = who == 1 ? b : a;
      next->Record(2, {4, 0x7f000001, 0, 0}, QueryPacket("b.x.test", 16, 1), ReplyPacket(50, 3, 0));
      next->Flush();
      if (!unbuffered) log.DrainOnce();
      const std::string whole = first + first + first;
      const std::string fragment = whole.substr(0, cut);
      const std::string want = fragment + (fragment.back() == '\n' ? "" : "\n") + later;
      EXPECT_EQ(ReadAll(path), want);
      const QueryLogCounters c = log.counters();
      EXPECT_EQ(c.written, cut / first.size() + 1);
      EXPECT_EQ(c.lost, 3 - cut / first.size());
      // And the flag is cleared: the line after that is not preceded by an
      // empty one.
      next->Record(2, {4, 0x7f000001, 0, 0}, QueryPacket("b.x.test", 16, 1), ReplyPacket(50, 3, 0));
      next->Flush();
      if (!unbuffered) log.DrainOnce();
      EXPECT_EQ(ReadAll(path), want + later);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::server
