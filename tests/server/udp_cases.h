// Behaviours every UDP backend must show; uring_udp_test.cc and
// mmsg_udp_test.cc run them against their backend.
#ifndef MESHBL_TESTS_SERVER_UDP_CASES_H_
#define MESHBL_TESTS_SERVER_UDP_CASES_H_

#include <string>
#include <vector>

#include "tests/server/server_test_util.h"

namespace meshbl::server::testing {

struct Running {
  table::ZoneSetHolder holder;
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;
};

inline std::unique_ptr<Running> StartOn(ServerConfig config, bool publish = true) {
  auto r = std::make_unique<Running>();
  if (publish) r->holder.Publish(TestZones());
  auto s = Server::Start(config, &r->holder);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  r->server = std::move(*s);
  r->port = r->server->bound().at(0).port();
  EXPECT_NE(r->port, 0);
  return r;
}

// Listed and unlisted names, answered by ldns-decoded replies; the stats
// count them.
inline void ExpectAnswers(UdpBackend backend) {
  auto r = StartOn(LoopbackConfig(backend));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->server->udp_backend(), backend);
  UdpClient c(r->port);
  EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", 1).get()), "NOERROR 127.0.0.2");
  EXPECT_EQ(Summary(c.Ask("3.0.0.127.bl.test", 2).get()), "NXDOMAIN");
  EXPECT_EQ(Summary(c.Ask("9.8.7.10.bl.test", 3).get()), "NOERROR 127.0.0.2");
  // Several clients: replies reach each one (the per-slot destination).
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<UdpClient>(r->port));
  for (std::size_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(
        clients[i]->Send(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(100 + i))));
  }
  for (std::size_t i = 0; i < 8; ++i) {
    PktPtr p = clients[i]->Receive();
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(ldns_pkt_id(p.get()), 100 + i);
    EXPECT_EQ(Summary(p.get()), "NOERROR 127.0.0.2");
  }
  EXPECT_TRUE(WaitFor([&] { return r->server->TotalStats().queries >= 11; }));
  // The I/O counters are published once per batch, after the sends complete
  // (io_uring reports a send later than its reply arrives): wait for them
  // as for the query count.
  WaitFor([&] {
    const IoStats now = r->server->IoTotals();
    return now.udp_received >= 11 && now.udp_sent >= 11;
  });
  IoStats io = r->server->IoTotals();
  EXPECT_GE(io.udp_received, 11u);
  EXPECT_GE(io.udp_sent, 11u);
  r->server->Stop();
}

// Nothing published yet: SERVFAIL; after a publish the workers pick the
// data up (Refresh once per batch).
inline void ExpectPicksUpPublishedData(UdpBackend backend) {
  auto r = StartOn(LoopbackConfig(backend, 1), /*publish=*/false);
  ASSERT_NE(r, nullptr);
  UdpClient c(r->port);
  EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", 1).get()), "SERVFAIL");
  r->holder.Publish(TestZones());
  EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", 2).get()), "NOERROR 127.0.0.2");
}

// A datagram larger than a receive buffer is dropped and counted; the
// worker keeps serving.
inline void ExpectTruncatedDropped(UdpBackend backend) {
  auto r = StartOn(LoopbackConfig(backend, 1));
  ASSERT_NE(r, nullptr);
  UdpClient c(r->port);
  std::vector<std::uint8_t> big = MakeQuery("2.0.0.127.bl.test", 7);
  big.resize(kMaxUdpPayload + 1000, 0);
  ASSERT_TRUE(c.Send(big));
  EXPECT_EQ(c.Receive(std::chrono::milliseconds(300)), nullptr);
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().udp_truncated == 1; }));
  EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", 8).get()), "NOERROR 127.0.0.2");
}

// Stop() joins promptly with idle workers, and Start again works.
inline void ExpectStopAndRestart(UdpBackend backend) {
  for (int round = 0; round < 3; ++round) {
    auto r = StartOn(LoopbackConfig(backend, 2));
    ASSERT_NE(r, nullptr);
    UdpClient c(r->port);
    EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", 1).get()), "NOERROR 127.0.0.2");
    auto t0 = std::chrono::steady_clock::now();
    r->server->Stop();
    r->server->Stop();  // idempotent
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500));
  }
}

// Two listen addresses (127.0.0.1 and ::1 when the host has IPv6): each
// worker serves both.
inline void ExpectTwoAddresses(UdpBackend backend) {
  ServerConfig config = LoopbackConfig(backend, 2);
  auto v6 = ResolveListenSpec("::1/0");
  util::UniqueFd probe(::socket(AF_INET6, SOCK_DGRAM, 0));
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  if (!v6.ok() || ::bind(probe.get(), reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6)) != 0) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  config.listen.push_back(v6->at(0));
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->server->bound().size(), 2u);
  UdpClient c(r->port);
  EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", 1).get()), "NOERROR 127.0.0.2");
  util::UniqueFd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sin6.sin6_port = htons(r->server->bound()[1].port());
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6)), 0);
  auto q = MakeQuery("2.0.0.127.bl.test", 9);
  ASSERT_EQ(::send(fd.get(), q.data(), q.size(), 0), static_cast<ssize_t>(q.size()));
  pollfd p{fd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  std::uint8_t buf[4096];
  ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(Summary(Decode(buf, static_cast<std::size_t>(n)).get()), "NOERROR 127.0.0.2");
}

}  // namespace meshbl::server::testing

#endif  // MESHBL_TESTS_SERVER_UDP_CASES_H_
