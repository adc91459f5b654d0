// The generator against real responders on 127.0.0.1: the reflector, a
// deliberately wrong responder, and meshbl's own server (UDP and TCP).
// Counts must add up and validation must catch every wrong reply; nothing
// here asserts a speed.
#include "meshbl/bench/load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/bench/reflector.h"
#include "meshbl/server/server.h"
#include "meshbl/table/swap.h"
#include "tests/bench/bench_test_util.h"

namespace meshbl::bench {
namespace {

sockaddr_storage Loopback(std::uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *len = sizeof(sockaddr_in);
  return ss;
}

// A UDP socket bound to an ephemeral 127.0.0.1 port; the port in `*port`.
int BindEphemeralUdp(std::uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  socklen_t len;
  auto a = Loopback(0, &len);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  sockaddr_in bound{};
  socklen_t blen = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  *port = ntohs(bound.sin_port);
  return fd;
}

// One A query for x.test.
QuerySet OneQuery() {
  QuerySet qs;
  const std::uint8_t labels[] = {1, 'x', 4, 't', 'e', 's', 't'};
  qs.Add(labels, 1);
  return qs;
}

void ExpectCountsAddUp(const LoadReport& r) {
  EXPECT_EQ(r.sent, r.replies + r.lost)
      << "sent " << r.sent << " replies " << r.replies << " lost " << r.lost;
  EXPECT_LE(r.late, r.lost);
  EXPECT_EQ(r.latency.count(), r.replies);
  std::uint64_t by_rcode = 0;
  for (auto n : r.rcodes) by_rcode += n;
  EXPECT_EQ(by_rcode, r.replies);
}

class ReflectorRun : public ::testing::Test {
 protected:
  void SetUp() override {
    socklen_t len;
    auto addr = Loopback(0, &len);
    auto r = Reflector::Bind(addr, len);
    ASSERT_TRUE(r.ok()) << r.status();
    reflector_ = std::move(*r);
    thread_ = std::thread([this] { reflector_->Serve(stop_); });
    options_.target = Loopback(reflector_->port(), &options_.target_len);
    options_.warmup = 0.1;
    options_.timeout = 0.5;
    dir_ = testing::MakeTempDir();
    zones_ = testing::TestData(dir_);
    GenerateOptions g;
    g.count = 2000;
    auto qs = GenerateQueries(*zones_, g);
    ASSERT_TRUE(qs.ok()) << qs.status();
    queries_ = std::move(*qs);
  }
  void TearDown() override {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  std::unique_ptr<Reflector> reflector_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  LoadOptions options_;
  std::string dir_;
  std::shared_ptr<const table::ZoneSet> zones_;
  QuerySet queries_;
};

TEST_F(ReflectorRun, ClosedLoopCountsAddUpAndEveryReplyIsValid) {
  ExpectRcode(0, &queries_);  // the reflector always says NOERROR
  options_.seconds = 1;
  options_.window = 32;
  auto r = RunLoad(queries_, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->sent, 1000u);
  ExpectCountsAddUp(*r);
  EXPECT_EQ(r->invalid(), 0u);
  EXPECT_EQ(r->unexpected, 0u);
  EXPECT_EQ(r->rcodes[0], r->replies);
  EXPECT_GT(r->seconds, 0.9);
  EXPECT_GT(r->send_calls, 0u);
  EXPECT_GE(reflector_->answered(), r->replies);
}

TEST_F(ReflectorRun, WithGsoTheSameCountsHold) {
  ExpectRcode(0, &queries_);
  queries_.GroupBySize(16, 1);
  options_.gso = true;
  options_.seconds = 0.5;
  auto r = RunLoad(queries_, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  if (!r->gso) GTEST_SKIP() << "this kernel has no UDP_SEGMENT";
  ExpectCountsAddUp(*r);
  EXPECT_EQ(r->invalid(), 0u);
}

TEST_F(ReflectorRun, OpenLoopSendsExactlyTheRequestedCount) {
  ExpectRcode(0, &queries_);
  options_.rate = 20000;
  options_.count = 5000;
  auto r = RunLoad(queries_, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent, 5000u);
  ExpectCountsAddUp(*r);
  EXPECT_TRUE(r->open_loop);
  // Warm-up queries went out too but are not counted.
  EXPECT_GT(reflector_->received(), 5000u);
  // The schedule: 5000 queries at 20k/s take about 0.25 s.
  EXPECT_GT(r->seconds, 0.2);
}

TEST_F(ReflectorRun, DataExpectationsCatchAServerThatAlwaysSaysNoError) {
  // The reflector says NOERROR for everything; the data says NXDOMAIN for
  // the random half, so those replies are wrong, not fast.
  options_.seconds = 0.5;
  auto r = RunLoad(queries_, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectCountsAddUp(*r);
  EXPECT_GT(r->wrong_rcode, r->replies / 4);
  EXPECT_LT(r->wrong_rcode, r->replies);
}

// A UDP responder that answers query k (in arrival order) correctly when
// k % 4 == 3 and otherwise with a wrong ID (k % 4 == 0), a wrong question
// (k % 4 == 1: qtype changed) or a wrong RCODE (k % 4 == 2: SERVFAIL).
class WrongResponder {
 public:
  WrongResponder() {
    fd_ = BindEphemeralUdp(&port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~WrongResponder() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void Serve() {
    std::uint8_t buf[1024];
    std::uint64_t k = 0;
    while (!stop_.load()) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      const ssize_t n =
          recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 12) continue;
      const auto len = static_cast<std::size_t>(n);
      const std::size_t rlen = ReflectReply(buf, len);  // a correct NOERROR reply
      switch (k++ % 4) {
        case 0:
          buf[0] ^= 0x80;  // an ID 32768 away from anything outstanding
          break;
        case 1:
          buf[len - 3] ^= 0x01;  // qtype A <-> NS, TXT <-> 17
          break;
        case 2:
          buf[3] = 2;  // SERVFAIL
          break;
      }
      sendto(fd_, buf, rlen, 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }
  int fd_;
  std::uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(WrongReplies, EveryKindOfWrongReplyIsCountedAndNoneCountsAsValid) {
  WrongResponder server;
  QuerySet qs = OneQuery();
  ExpectRcode(0, &qs);
  LoadOptions o;
  o.target = Loopback(server.port(), &o.target_len);
  o.warmup = 0;  // so that the responder's k counts measured queries only
  o.rate = 4000;
  o.count = 2000;
  o.timeout = 0.3;
  auto r = RunLoad(qs, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent, 2000u);
  ExpectCountsAddUp(*r);
  EXPECT_EQ(r->unexpected, 500u) << "wrong IDs match nothing outstanding";
  EXPECT_EQ(r->lost, 500u) << "their queries were never answered";
  EXPECT_EQ(r->replies, 1500u);
  EXPECT_EQ(r->wrong_question, 500u);
  EXPECT_EQ(r->wrong_rcode, 500u);
  EXPECT_EQ(r->rcodes[2], 500u);
  EXPECT_EQ(r->invalid(), 1000u);
}

TEST(NoServer, QueriesToAClosedPortAreLostNotHung) {
  // Bind and close a socket to get a port that (almost surely) has no
  // listener; ICMP port unreachable comes back as send errors.
  std::uint16_t port = 0;
  close(BindEphemeralUdp(&port));
  QuerySet qs = OneQuery();
  LoadOptions o;
  o.target = Loopback(port, &o.target_len);
  o.warmup = 0;
  o.rate = 1000;
  o.count = 100;
  o.timeout = 0.2;
  auto r = RunLoad(qs, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->replies, 0u);
  EXPECT_EQ(r->sent, r->lost);
  EXPECT_GT(r->send_errors, 0u);
}

TEST(NoServer, TcpConnectFailureIsAnError) {
  QuerySet qs = OneQuery();
  LoadOptions o;
  o.transport = Transport::kTcp;
  o.target = Loopback(1, &o.target_len);  // port 1: nothing listens
  auto r = RunLoad(qs, o);
  EXPECT_FALSE(r.ok());
}

TEST(Options, BadOptionsAreRejected) {
  LoadOptions o;
  EXPECT_FALSE(RunLoad(QuerySet(), o).ok()) << "no queries";
  QuerySet qs = OneQuery();
  EXPECT_FALSE(RunLoad(qs, o).ok()) << "no target";
  o.target = Loopback(53, &o.target_len);
  o.window = 0;
  EXPECT_FALSE(RunLoad(qs, o).ok());
  o.window = 10;
  o.timeout = 0;
  EXPECT_FALSE(RunLoad(qs, o).ok());
}

TEST(ParseHostPort, Forms) {
  sockaddr_storage ss;
  socklen_t len = 0;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:5300", &ss, &len));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port), 5300);
  ASSERT_TRUE(ParseHostPort("127.0.0.1/5301", &ss, &len));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port), 5301);
  ASSERT_TRUE(ParseHostPort("127.0.0.1", &ss, &len));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port), 53);
  ASSERT_TRUE(ParseHostPort("[::1]:5302", &ss, &len));
  EXPECT_EQ(ss.ss_family, AF_INET6);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port), 5302);
  ASSERT_TRUE(ParseHostPort("::1", &ss, &len));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port), 53);
  EXPECT_FALSE(ParseHostPort("localhost:53", &ss, &len));
  EXPECT_FALSE(ParseHostPort("127.0.0.1:0", &ss, &len));
  EXPECT_FALSE(ParseHostPort("127.0.0.1:99999", &ss, &len));
  EXPECT_FALSE(ParseHostPort("[::1", &ss, &len));
}

// meshbl's own server, in process, answering the generated queries: every
// reply must match what the data says (the generator and the server share
// the resolver, the wire encoding is the server's).
class ServerRun : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir();
    zones_ = testing::TestData(dir_);
    ASSERT_NE(zones_, nullptr);
    holder_.Publish(zones_);
    server::ServerConfig c;
    auto addrs = server::ResolveListenSpecs({"127.0.0.1/0"});
    ASSERT_TRUE(addrs.ok()) << addrs.status();
    c.listen = *addrs;
    c.threads = 1;
    c.udp_backend = server::UdpBackend::kMmsg;
    c.log = [](std::string_view) {};
    auto s = server::Server::Start(c, &holder_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  std::string dir_;
  std::shared_ptr<const table::ZoneSet> zones_;
  table::ZoneSetHolder holder_;
  std::unique_ptr<server::Server> server_;
};

TEST_P(ServerRun, EveryReplyMatchesTheData) {
  GenerateOptions g;
  g.count = 3000;
  auto qs = GenerateQueries(*zones_, g);
  ASSERT_TRUE(qs.ok()) << qs.status();
  LoadOptions o;
  o.transport = GetParam();
  o.target = Loopback(server_->bound()[0].port(), &o.target_len);
  o.warmup = 0.1;
  o.seconds = 0.7;
  o.window = 32;
  o.connections = 4;
  auto r = RunLoad(*qs, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->replies, 1000u);
  ExpectCountsAddUp(*r);
  EXPECT_EQ(r->invalid(), 0u) << "wrong question " << r->wrong_question << ", wrong rcode "
                              << r->wrong_rcode << ", malformed " << r->malformed;
  EXPECT_EQ(r->unexpected, 0u);
  EXPECT_GT(r->rcodes[0], 0u);
  EXPECT_GT(r->rcodes[3], 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, ServerRun, ::testing::Values(Transport::kUdp, Transport::kTcp),
                         [](const auto& param_info) {
                           return std::string(param_info.param == Transport::kUdp ? "Udp" : "Tcp");
                         });

}  // namespace
}  // namespace meshbl::bench
