// The query log (src/server/query_log.cc): workers' rings, the line format
// of reference §6 (qname as sent, QTYPE, QCLASS, RCODE/ancount/bytes) and
// the writer (drain, reopen, stdout).
#include "meshbl/server/query_log.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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
    EXPECT_EQ(log.dropped(), 0u);
  }
  EXPECT_FALSE(QueryLog().Open((dir / "missing" / "q.log").string(), false).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::server
