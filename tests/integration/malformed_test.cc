// Malformed input to the real meshbld binary (127.0.0.1, ephemeral port).
//
// User-visible behaviours asserted (reference/rbldnsd.md §5 step 2: a
// malformed question gets no reply at all; steps 4-5 for the rcodes):
//  - UDP, silently dropped: every truncation of a valid query (0 .. len-1
//    bytes, the 0-byte datagram included), QR=1, QDCOUNT 0 and 2, a label
//    of 64, a name of 256 bytes, labels running past the end, compression
//    pointers in the question (forward, backward, a pointer loop), extended
//    label types, a question without room for QTYPE/QCLASS;
//  - UDP, answered: a 255-byte name (REFUSED: served nowhere), extra bytes
//    after the question and non-zero AN/NS/AR counts (ignored), opcode 2
//    (NOTIMP, flags = QR only), QCLASS HS (REFUSED);
//  - 2000 random datagrams (fixed seed, 1-600 bytes): only those the §5
//    step-2 rules accept get a reply (with their ID);
//  - TCP: a length prefix larger than the data, then close: no reply and the
//    server closes; a valid query followed by garbage: the query is
//    answered, the incomplete garbage frame is dropped at close; a 16 KiB
//    frame of random bytes: no reply, and the same connection still answers
//    a valid query; a 65535-byte random frame (over meshbld's 16 KiB TCP
//    query limit): no reply, the connection is closed;
//  - afterwards meshbld still answers a valid query over UDP and TCP and
//    has not exited; the drops are counted: SIGUSR1's "stats for" line
//    (tot/ok/nxd/err) grows by one per dropped datagram, under err (meshbld
//    exposes no separate drop counter in its logs).
// Every wait is bounded; the whole binary runs in a few seconds.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "wire_test_util.h"

#ifndef MESHBLD_PATH
#error "MESHBLD_PATH must name the meshbld binary"
#endif

namespace meshbl::integration {
namespace {

constexpr int kNoReplyMs = 100;  // how long "no reply" is waited for

// 2.0.0.127.bl.test A IN, no EDNS, RD clear.
Bytes ValidQuery(std::uint16_t id) {
  Bytes q = {static_cast<std::uint8_t>(id >> 8),
             static_cast<std::uint8_t>(id),
             0,
             0,
             0,
             1,
             0,
             0,
             0,
             0,
             0,
             0};
  for (const char* label : {"2", "0", "0", "127", "bl", "test"}) {
    q.push_back(static_cast<std::uint8_t>(std::strlen(label)));
    q.insert(q.end(), label, label + std::strlen(label));
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

// A header (QDCOUNT 1) with ID `id` followed by `question`.
Bytes WithHeader(std::uint16_t id, const Bytes& question) {
  Bytes q = {static_cast<std::uint8_t>(id >> 8),
             static_cast<std::uint8_t>(id),
             0,
             0,
             0,
             1,
             0,
             0,
             0,
             0,
             0,
             0};
  q.insert(q.end(), question.begin(), question.end());
  return q;
}

// Labels of `sizes` bytes each ('a'...), then the root, QTYPE A, QCLASS IN.
Bytes NameOfLabels(const std::vector<int>& sizes) {
  Bytes b;
  for (int s : sizes) {
    b.push_back(static_cast<std::uint8_t>(s));
    b.insert(b.end(), static_cast<std::size_t>(s), 'a');
  }
  b.insert(b.end(), {0, 0, 1, 0, 1});
  return b;
}

// Reference §5 step 2: would rbldnsd answer this datagram at all?
bool ReferenceAnswers(const Bytes& p) {
  if (p.size() < 12 + 1 + 4) return false;
  if (p[2] & 0x80) return false;             // QR=1
  if (p[4] != 0 || p[5] != 1) return false;  // QDCOUNT != 1
  std::size_t pos = 12, len = 0;
  for (;;) {
    if (pos >= p.size()) return false;  // running past the end
    const std::uint8_t l = p[pos++];
    if (l == 0) break;
    if (l > 63) return false;  // label > 63, pointers, extended types
    len += 1 + l;
    if (len + 1 > 255) return false;  // name > 255 bytes
    if (pos + l > p.size()) return false;
    pos += l;
  }
  return pos + 4 <= p.size();  // QTYPE + QCLASS
}

struct Stats {
  bool ok = false;
  long long tot = 0, good = 0, nxd = 0, err = 0;
};

class MalformedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/meshbl-malformed-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = new std::string(tmpl);
    chmod(dir_->c_str(), 0755);
    const std::string data = *dir_ + "/bl.txt";
    {
      std::ofstream out(data);
      out << "$SOA 0 ns1.bl.test. hostmaster.bl.test. 1 2h 30m 1w 60\n"
             "$NS 0 ns1.example.net.\n:127.0.0.2:Listed $\n127.0.0.2\n10.0.0.0/8\n";
    }
    chmod(data.c_str(), 0644);
    daemon_ = new Child;
    port_ = StartMeshbld(daemon_, MESHBLD_PATH, {"bl.test:ip4set:" + data}, *dir_ + "/log");
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
    if (dir_ != nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(*dir_, ec);
      delete dir_;
      dir_ = nullptr;
    }
  }
  void SetUp() override {
    ASSERT_NE(port_, 0) << "meshbld did not start: " << (daemon_ ? daemon_->Log() : "");
  }

  // Sends `p` and expects no datagram back within kNoReplyMs.
  static void ExpectDropped(UdpSocket& s, const Bytes& p, const std::string& what) {
    ASSERT_TRUE(s.Send(p)) << what;
    Bytes reply;
    EXPECT_FALSE(s.Receive(kNoReplyMs, &reply))
        << what << ": expected a silent drop, got a " << reply.size() << "-byte reply";
    ++sent_;
  }
  // Sends `p` and expects a reply with its ID and `rcode`; returns it.
  static Bytes ExpectRcode(UdpSocket& s, const Bytes& p, int rcode, const std::string& what) {
    Bytes reply;
    EXPECT_TRUE(s.Exchange(p, 1000, &reply)) << what << ": no reply";
    ++sent_;
    if (reply.size() < 12) {
      ADD_FAILURE() << what << ": runt reply";
      return reply;
    }
    EXPECT_EQ(reply[3] & 0x0f, rcode) << what;
    EXPECT_TRUE(reply[2] & 0x80) << what << ": QR";
    return reply;
  }
  // A valid query is answered correctly over UDP and over TCP.
  static void ExpectHealthy() {
    UdpSocket s(port_);
    const Bytes reply = ExpectRcode(s, ValidQuery(0x7777), 0, "valid query over UDP");
    ASSERT_GE(reply.size(), 12u);
    EXPECT_EQ(reply[7], 1) << "ANCOUNT";
    TcpConn c(port_);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.SendFramed(ValidQuery(0x7778)));
    Bytes tcp;
    ASSERT_TRUE(c.ReadFramed(2000, &tcp)) << "valid query over TCP: no reply";
    ASSERT_GE(tcp.size(), 12u);
    EXPECT_EQ(tcp[0], 0x77);
    EXPECT_EQ(tcp[1], 0x78);
    EXPECT_EQ(tcp[3] & 0x0f, 0);
    EXPECT_EQ(tcp[7], 1) << "ANCOUNT";
    EXPECT_TRUE(daemon_->Running()) << "meshbld exited:\n" << daemon_->Log();
  }
  // SIGUSR1 makes meshbld log "stats for Ns: tot=.. ok=.. nxd=.. err=..";
  // the latest such line.
  static Stats UsrStats() {
    const std::string needle = "stats for";
    auto count = [&] {
      const std::string log = daemon_->Log();
      int n = 0;
      for (std::size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) {
        ++n;
      }
      return n;
    };
    const int before = count();
    daemon_->Signal(SIGUSR1);
    Stats st;
    for (int i = 0; i < 300 && count() <= before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::string log = daemon_->Log();
    const std::size_t at = log.rfind(needle);
    if (at == std::string::npos) return st;
    std::smatch m;
    const std::string line = log.substr(at, log.find('\n', at) - at);
    if (!std::regex_search(line, m, std::regex(R"(tot=(\d+) ok=(\d+) nxd=(\d+) err=(\d+))"))) {
      return st;
    }
    st = {true, std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4])};
    return st;
  }

  static std::string* dir_;
  static Child* daemon_;
  static std::uint16_t port_;
  static int sent_;  // UDP datagrams sent by the tests so far
};

std::string* MalformedTest::dir_ = nullptr;
Child* MalformedTest::daemon_ = nullptr;
std::uint16_t MalformedTest::port_ = 0;
int MalformedTest::sent_ = 0;

TEST_F(MalformedTest, EveryTruncationOfAQueryIsDropped) {
  ExpectHealthy();
  UdpSocket s(port_);
  ASSERT_TRUE(s.ok());
  const Bytes full = ValidQuery(0x1000);
  // All at once (distinct IDs where there is room for one), then one wait:
  // any reply names the truncation that got it.
  for (std::size_t len = 0; len < full.size(); ++len) {
    Bytes t(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    if (len >= 2) t[1] = static_cast<std::uint8_t>(len);
    ASSERT_TRUE(s.Send(t)) << len;
    ++sent_;
  }
  Bytes reply;
  for (int i = 0; i < 100 && s.Receive(2 * kNoReplyMs, &reply); ++i) {
    ADD_FAILURE() << "a truncated query (" << (reply.size() >= 2 ? int{reply[1]} : -1)
                  << " bytes) got a reply of " << reply.size() << " bytes";
  }
  ExpectHealthy();
}

TEST_F(MalformedTest, MalformedHeadersAndNamesAreDropped) {
  UdpSocket s(port_);
  ASSERT_TRUE(s.ok());
  Bytes qr = ValidQuery(0x2001);
  qr[2] |= 0x80;
  ExpectDropped(s, qr, "QR=1");
  Bytes qd0 = ValidQuery(0x2002);
  qd0[5] = 0;
  ExpectDropped(s, qd0, "QDCOUNT 0");
  Bytes qd2 = ValidQuery(0x2003);
  qd2[5] = 2;
  ExpectDropped(s, qd2, "QDCOUNT 2, one question");
  Bytes qd2b = qd2;
  qd2b.insert(qd2b.end(), qd2.begin() + 12, qd2.end());
  ExpectDropped(s, qd2b, "QDCOUNT 2, two questions");
  Bytes qd256 = ValidQuery(0x2004);
  qd256[4] = 1;
  ExpectDropped(s, qd256, "QDCOUNT 257");
  ExpectDropped(s, WithHeader(0x2005, NameOfLabels({3, 64, 4})), "a label of 64");
  ExpectDropped(s, WithHeader(0x2006, NameOfLabels({63, 63, 63, 62})), "a 256-byte name");
  ExpectDropped(s, WithHeader(0x2007, NameOfLabels({63, 63, 63, 63, 63})), "a 321-byte name");
  ExpectDropped(s, WithHeader(0x2008, {3, 'f', 'o', 'o', 20, 'b', 'a', 'r'}),
                "a label running past the end");
  ExpectDropped(s, WithHeader(0x2009, {3, 'f', 'o', 'o', 2, 'b', 'l', 4, 't', 'e', 's', 't'}),
                "a name without its root label");
  ExpectDropped(s, WithHeader(0x200a, {2, 'b', 'l', 4, 't', 'e', 's', 't', 0, 0, 1, 0}),
                "QCLASS cut short");
  ExpectDropped(s, WithHeader(0x200b, {0xc0, 0x0c, 0, 1, 0, 1}), "a pointer loop (to itself)");
  ExpectDropped(s, WithHeader(0x200c, {2, 'b', 'l', 0xc0, 0x0c, 0, 1, 0, 1}),
                "a pointer back to the name's start (loop)");
  ExpectDropped(s,
                WithHeader(0x200d, {2, 'b', 'l', 0xc0, 0x14, 0, 1, 0, 1, 4, 't', 'e', 's', 't', 0}),
                "a forward pointer to a valid suffix");
  ExpectDropped(s, WithHeader(0x200e, {2, 'b', 'l', 0xc0, 0xff, 0, 1, 0, 1}),
                "a pointer past the end");
  ExpectDropped(s, WithHeader(0x200f, {0x41, 0, 0, 1, 0, 1}), "extended label type 0x40");
  ExpectDropped(s, WithHeader(0x2010, {0x80, 0, 0, 1, 0, 1}), "reserved label type 0x80");
  ExpectDropped(s, Bytes{}, "a 0-byte datagram");
  ExpectDropped(s, Bytes(12, 0), "a bare header");

  // Not malformed: answered.
  ExpectRcode(s, WithHeader(0x2101, NameOfLabels({63, 63, 63, 61})), 5,
              "a 255-byte name (served nowhere: REFUSED)");
  Bytes extra = ValidQuery(0x2102);
  extra.insert(extra.end(), {0xde, 0xad, 0xbe, 0xef, 0xc0, 0x0c, 0x40});
  Bytes r = ExpectRcode(s, extra, 0, "extra bytes after the question (ignored)");
  if (r.size() >= 12) {
    EXPECT_EQ(r[7], 1) << "ANCOUNT";
  }
  Bytes counts = ValidQuery(0x2103);
  counts[7] = 3;
  counts[9] = 2;
  counts[11] = 7;
  r = ExpectRcode(s, counts, 0, "AN/NS/AR counts without records (ignored)");
  if (r.size() >= 12) {
    EXPECT_EQ(r[7], 1) << "ANCOUNT";
  }
  Bytes opcode = ValidQuery(0x2104);
  opcode[2] = 0x11;  // opcode 2 (STATUS), RD
  r = ExpectRcode(s, opcode, 4, "opcode 2: NOTIMP");
  if (r.size() >= 12) {
    EXPECT_EQ(r[2], 0x80) << "NOTIMP flags are QR only (§5 step 4)";
  }
  Bytes hs = ValidQuery(0x2105);
  hs.back() = 4;
  ExpectRcode(s, hs, 5, "QCLASS HS: REFUSED");
  ExpectHealthy();
}

TEST_F(MalformedTest, RandomDatagramsGetNoReplyUnlessWellFormed) {
  UdpSocket s(port_);
  ASSERT_TRUE(s.ok());
  std::mt19937 rng(4242);
  std::set<std::uint16_t> answerable;
  int expected = 0, got = 0;
  Bytes reply;
  for (int batch = 0; batch < 20; ++batch) {
    for (int i = 0; i < 100; ++i) {
      const std::size_t size = std::uniform_int_distribution<std::size_t>(1, 600)(rng);
      Bytes p(size);
      for (std::uint8_t& b : p) b = static_cast<std::uint8_t>(rng());
      if (ReferenceAnswers(p)) {
        ++expected;
        answerable.insert(static_cast<std::uint16_t>((p[0] << 8) | p[1]));
      }
      ASSERT_TRUE(s.Send(p));
      ++sent_;
    }
    for (int i = 0; i < 200 && s.Receive(20, &reply); ++i) {
      ++got;
      const std::uint16_t id =
          reply.size() >= 2 ? static_cast<std::uint16_t>((reply[0] << 8) | reply[1]) : 0;
      EXPECT_TRUE(answerable.count(id))
          << "a reply (" << reply.size() << " bytes) to a random datagram the reference drops";
    }
  }
  for (int i = 0; i < 200 && s.Receive(kNoReplyMs, &reply); ++i) ++got;
  EXPECT_EQ(got, expected) << "replies to random datagrams (" << expected
                           << " of them are well-formed questions)";
  ExpectHealthy();
}

TEST_F(MalformedTest, TcpLengthPrefixLongerThanTheDataThenClose) {
  TcpConn c(port_);
  ASSERT_TRUE(c.ok());
  Bytes partial = {0x00, 0x40};  // announces 64 bytes
  const Bytes q = ValidQuery(0x3001);
  partial.insert(partial.end(), q.begin(), q.begin() + 20);
  ASSERT_TRUE(c.SendRaw(partial));
  Bytes reply;
  EXPECT_FALSE(c.ReadFramed(kNoReplyMs, &reply)) << "a reply to an incomplete frame";
  c.ShutdownWrite();
  EXPECT_TRUE(c.ClosedByPeer(2000)) << "meshbld did not close after the client's FIN";
  ExpectHealthy();
}

TEST_F(MalformedTest, TcpGarbageAfterAValidQuery) {
  TcpConn c(port_);
  ASSERT_TRUE(c.ok());
  const Bytes q = ValidQuery(0x3002);
  Bytes stream = {0, static_cast<std::uint8_t>(q.size())};
  stream.insert(stream.end(), q.begin(), q.end());
  std::mt19937 rng(99);
  stream.insert(stream.end(), {0xff, 0xf0});  // a 65520-byte frame that never completes
  for (int i = 0; i < 300; ++i) stream.push_back(static_cast<std::uint8_t>(rng()));
  ASSERT_TRUE(c.SendRaw(stream));
  Bytes reply;
  ASSERT_TRUE(c.ReadFramed(2000, &reply)) << "the valid query before the garbage got no reply";
  ASSERT_GE(reply.size(), 12u);
  EXPECT_EQ(reply[0], 0x30);
  EXPECT_EQ(reply[1], 0x02);
  EXPECT_EQ(reply[3] & 0x0f, 0);
  EXPECT_EQ(reply[7], 1) << "ANCOUNT";
  c.ShutdownWrite();
  EXPECT_TRUE(c.ClosedByPeer(2000)) << "meshbld sent more, or did not close after FIN";
  ExpectHealthy();
}

TEST_F(MalformedTest, TcpLargeFramesOfRandomBytes) {
  // A 16 KiB frame (meshbld's TCP query limit, server.h tcp_max_query) of
  // random bytes: no reply, and the same connection still answers.
  {
    TcpConn c(port_);
    ASSERT_TRUE(c.ok());
    std::mt19937 rng(7);
    Bytes frame(16 * 1024);
    for (std::uint8_t& b : frame) b = static_cast<std::uint8_t>(rng());
    ASSERT_FALSE(ReferenceAnswers(frame)) << "pick another seed: this frame is a valid question";
    ASSERT_TRUE(c.SendFramed(frame));
    Bytes reply;
    EXPECT_FALSE(c.ReadFramed(2 * kNoReplyMs, &reply)) << "a reply to a 16 KiB random frame";
    ASSERT_TRUE(c.SendFramed(ValidQuery(0x3003)));
    ASSERT_TRUE(c.ReadFramed(2000, &reply)) << "no reply on the same connection afterwards";
    ASSERT_GE(reply.size(), 12u);
    EXPECT_EQ(reply[1], 0x03);
    EXPECT_EQ(reply[3] & 0x0f, 0);
  }
  // A 65535-byte frame of random bytes (over the limit): no reply; meshbld
  // closes the connection instead of buffering it.
  {
    TcpConn c(port_);
    ASSERT_TRUE(c.ok());
    std::mt19937 rng(8);
    Bytes frame(65535);
    for (std::uint8_t& b : frame) b = static_cast<std::uint8_t>(rng());
    ASSERT_FALSE(ReferenceAnswers(frame)) << "pick another seed: this frame is a valid question";
    (void)c.SendFramed(frame);  // may fail midway: the server closes early
    EXPECT_TRUE(c.ClosedByPeer(2000)) << "a reply, or the connection stayed open";
  }
  ExpectHealthy();
}

// Self-contained (ctest runs each test in its own process, with its own
// meshbld): the drops it causes show in SIGUSR1's counters.
TEST_F(MalformedTest, DropsAreCountedAndTheServerSurvives) {
  const Stats before = UsrStats();
  ASSERT_TRUE(before.ok) << "no \"stats for\" line after SIGUSR1:\n" << daemon_->Log();
  // Every query packet is in tot; dropped ones are neither ok nor nxd: err.
  EXPECT_GE(before.tot, sent_) << daemon_->Log();
  EXPECT_EQ(before.tot, before.good + before.nxd + before.err);
  UdpSocket s(port_);
  const int n = 25;
  for (int i = 0; i < n; ++i) {
    ExpectDropped(s, Bytes(static_cast<std::size_t>(12 + i), 0xff), "QR=1 junk");
  }
  const Stats after = UsrStats();
  ASSERT_TRUE(after.ok);
  EXPECT_EQ(after.tot - before.tot, n) << "each dropped datagram counted once in tot";
  EXPECT_EQ(after.err - before.err, n) << "each dropped datagram counted under err";
  EXPECT_EQ(after.good, before.good);
  EXPECT_EQ(after.nxd, before.nxd);
  ExpectHealthy();
}

}  // namespace
}  // namespace meshbl::integration
