// DNS over TCP on the -b addresses (RFC 7766, reference/rbldnsd.md §9):
// 2-byte framing, pipelined queries answered in order, replies larger than
// 512 bytes untruncated, a client that does not read cannot stall others,
// a half-open client is closed by the idle timeout, an oversized or zero
// length prefix closes the connection, and the connection cap refuses
// extra connections while the others keep working; clients that drip a
// query byte by byte are cut off by the query deadline so that every slot
// comes free (UDP untouched meanwhile); the per-address limit refuses extra
// connections from one address while other addresses still connect.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/server/udp_cases.h"

namespace meshbl::server::testing {
namespace {

using std::chrono::milliseconds;

class TcpClient {
 public:
  // `source`: the local address to connect from (any 127.0.0.0/8 address
  // works on loopback); nullptr = the kernel's choice (127.0.0.1).
  explicit TcpClient(std::uint16_t port, const char* source = nullptr)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0);
    }
    sockaddr_in sin = Loopback4(port);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0;
  }
  bool connected() const { return connected_; }
  std::size_t last_len() const { return last_len_; }
  int fd() const { return fd_.get(); }

  bool SendRaw(const std::vector<std::uint8_t>& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, 2000) != 1) return false;
      ssize_t n =
          ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  static std::vector<std::uint8_t> Frame(const std::vector<std::uint8_t>& msg) {
    std::vector<std::uint8_t> out{static_cast<std::uint8_t>(msg.size() >> 8),
                                  static_cast<std::uint8_t>(msg.size())};
    out.insert(out.end(), msg.begin(), msg.end());
    return out;
  }
  bool Send(const std::vector<std::uint8_t>& msg) { return SendRaw(Frame(msg)); }

  // Reads exactly n bytes within `timeout`.
  bool ReadExactly(std::uint8_t* out, std::size_t n, milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    std::size_t got = 0;
    while (got < n) {
      auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      ssize_t r = ::recv(fd_.get(), out + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  PktPtr ReadReply(milliseconds timeout = milliseconds(2000)) {
    std::uint8_t len[2];
    if (!ReadExactly(len, 2, timeout)) return nullptr;
    std::size_t n = (std::size_t{len[0]} << 8) | len[1];
    last_len_ = n;
    std::vector<std::uint8_t> buf(n);
    if (!ReadExactly(buf.data(), n, timeout)) return nullptr;
    return Decode(buf.data(), n);
  }
  // True when the server closes the connection within `timeout` (EOF or
  // reset), discarding any data still in flight.
  bool ClosedWithin(milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    std::uint8_t buf[4096];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      ssize_t r = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN)) return true;
    }
    return false;
  }

 private:
  util::UniqueFd fd_;
  bool connected_ = false;
  std::size_t last_len_ = 0;
};

ServerConfig TcpConfig() {
  ServerConfig c = LoopbackConfig(UdpBackend::kMmsg, 1);
  c.tcp = true;
  return c;
}

TEST(Tcp, AnswersOnTheUdpPort) {
  auto r = StartOn(TcpConfig());
  ASSERT_NE(r, nullptr);
  TcpClient c(r->port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(MakeQuery("2.0.0.127.bl.test", 42)));
  PktPtr p = c.ReadReply();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_id(p.get()), 42);
  EXPECT_EQ(Summary(p.get()), "NOERROR 127.0.0.2");
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_replies == 1; }));
}

TEST(Tcp, PipelinedQueriesAnsweredInOrder) {
  auto r = StartOn(TcpConfig());
  ASSERT_NE(r, nullptr);
  TcpClient c(r->port);
  ASSERT_TRUE(c.connected());
  // 50 queries in one write, the last split across two writes.
  std::vector<std::uint8_t> all;
  for (int i = 0; i < 50; ++i) {
    auto f = TcpClient::Frame(MakeQuery(i % 2 == 0 ? "2.0.0.127.bl.test" : "3.0.0.127.bl.test",
                                        static_cast<std::uint16_t>(i)));
    all.insert(all.end(), f.begin(), f.end());
  }
  std::vector<std::uint8_t> head(all.begin(), all.end() - 5), tail(all.end() - 5, all.end());
  ASSERT_TRUE(c.SendRaw(head));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(c.SendRaw(tail));
  for (int i = 0; i < 50; ++i) {
    PktPtr p = c.ReadReply();
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(ldns_pkt_id(p.get()), i);
    EXPECT_EQ(Summary(p.get()), i % 2 == 0 ? "NOERROR 127.0.0.2" : "NXDOMAIN");
  }
}

TEST(Tcp, SlowReaderDoesNotStallOthers) {
  ServerConfig config = TcpConfig();
  config.tcp_max_queued = 4096;
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  TcpClient slow(r->port);
  ASSERT_TRUE(slow.connected());
  int small = 4096;  // keep the kernel buffers small so the server's queue fills
  ::setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  // Thousands of queries, never read: the server queues up to its cap, then
  // stops reading this connection. Sending may itself block at some point.
  std::vector<std::uint8_t> burst;
  for (int i = 0; i < 3000; ++i) {
    auto f = TcpClient::Frame(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(i)));
    burst.insert(burst.end(), f.begin(), f.end());
  }
  (void)slow.SendRaw(burst);  // may time out once both sides' buffers are full
  // Another client is answered at once.
  for (int i = 0; i < 10; ++i) {
    TcpClient other(r->port);
    ASSERT_TRUE(other.connected());
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(other.Send(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(9000 + i))));
    PktPtr p = other.ReadReply(milliseconds(1000));
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(ldns_pkt_id(p.get()), 9000 + i);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));
  }
  // The slow client, once it reads, gets its replies in order.
  for (int i = 0; i < 100; ++i) {
    PktPtr p = slow.ReadReply();
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(ldns_pkt_id(p.get()), i);
  }
}

TEST(Tcp, HalfOpenClientClosedByIdleTimeout) {
  ServerConfig config = TcpConfig();
  config.tcp_idle_timeout = milliseconds(300);
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  TcpClient half(r->port);
  ASSERT_TRUE(half.connected());
  ASSERT_TRUE(half.SendRaw({0x00}));  // one byte of a length prefix, then nothing
  // Meanwhile others are served.
  TcpClient other(r->port);
  ASSERT_TRUE(other.Send(MakeQuery("2.0.0.127.bl.test", 1)));
  EXPECT_EQ(Summary(other.ReadReply().get()), "NOERROR 127.0.0.2");
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(half.ClosedWithin(milliseconds(3000)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(100));
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_idle_closed >= 1; }));
}

TEST(Tcp, IdleTimeoutDefaultsToTenSeconds) {
  EXPECT_EQ(ServerConfig().tcp_idle_timeout, milliseconds(10'000));
  EXPECT_EQ(ServerConfig().tcp_max_connections, 1000);
}

TEST(Tcp, OversizedOrZeroLengthPrefixClosesTheConnection) {
  auto r = StartOn(TcpConfig());
  ASSERT_NE(r, nullptr);
  TcpClient big(r->port);
  ASSERT_TRUE(big.SendRaw({0xff, 0xff, 0x00, 0x01}));  // 65535 > tcp_max_query
  EXPECT_TRUE(big.ClosedWithin(milliseconds(2000)));
  TcpClient zero(r->port);
  ASSERT_TRUE(zero.SendRaw({0x00, 0x00}));
  EXPECT_TRUE(zero.ClosedWithin(milliseconds(2000)));
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_oversized == 2; }));
  // A query answered before a bad prefix on the same connection still arrives.
  TcpClient mixed(r->port);
  std::vector<std::uint8_t> bytes = TcpClient::Frame(MakeQuery("2.0.0.127.bl.test", 5));
  bytes.push_back(0xff);
  bytes.push_back(0xff);
  ASSERT_TRUE(mixed.SendRaw(bytes));
  PktPtr p = mixed.ReadReply();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ldns_pkt_id(p.get()), 5);
  EXPECT_TRUE(mixed.ClosedWithin(milliseconds(2000)));
}

TEST(Tcp, ConnectionCapRefusesExtraConnections) {
  ServerConfig config = TcpConfig();
  config.tcp_max_connections = 3;
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<TcpClient>(r->port));
    ASSERT_TRUE(held.back()->Send(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(i))));
    ASSERT_NE(held.back()->ReadReply(), nullptr) << i;  // accepted and served
  }
  TcpClient extra(r->port);
  ASSERT_TRUE(extra.connected());  // the kernel completes the handshake
  EXPECT_TRUE(extra.ClosedWithin(milliseconds(2000)));
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_refused == 1; }));
  // The held connections still work.
  ASSERT_TRUE(held[0]->Send(MakeQuery("2.0.0.127.bl.test", 77)));
  EXPECT_NE(held[0]->ReadReply(), nullptr);
  // Freeing a place lets a new connection in.
  held.pop_back();
  bool served = WaitFor(
      [&]() -> bool {
        TcpClient again(r->port);
        if (!again.Send(MakeQuery("2.0.0.127.bl.test", 88))) return false;
        return again.ReadReply(milliseconds(300)) != nullptr;
      },
      milliseconds(3000));
  EXPECT_TRUE(served);
}

TEST(Tcp, RepliesLargerThan512AreNotTruncated) {
  // Many TXT-bearing values for one address: over UDP without EDNS this
  // needs TC=1; over TCP the whole answer arrives.
  table::SnapshotBuilder b;
  auto ds = std::make_unique<table::DatasetBuilder>(table::DatasetType::kIp4Set, "ip4set:big");
  std::vector<table::Value> values;
  for (std::uint32_t i = 0; i < 40; ++i) {
    values.push_back(table::testing::Val(i + 2, std::string(60, static_cast<char>('a' + i % 26))));
  }
  for (const table::Value& v : values) {
    ds->AddIp4Range(table::testing::Ip4("127.0.0.2"), table::testing::Ip4("127.0.0.2"), &v);
  }
  b.AddToZone(table::testing::Labels("bl.test"), b.AdoptDataset(std::move(ds)));
  auto r = StartOn(TcpConfig(), /*publish=*/false);
  ASSERT_NE(r, nullptr);
  r->holder.Publish(table::testing::MakeZoneSet(b));
  TcpClient c(r->port);
  ASSERT_TRUE(c.Send(MakeQuery("2.0.0.127.bl.test", 3, LDNS_RR_TYPE_ANY)));
  PktPtr p = c.ReadReply();
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(p.get()));
  EXPECT_GT(c.last_len(), 1500u);
  EXPECT_GT(ldns_pkt_ancount(p.get()), 40);
  UdpClient u(r->port);
  PktPtr up = u.Ask("2.0.0.127.bl.test", 4, LDNS_RR_TYPE_ANY);
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(up.get()));
}

// Issue 9 item 12: slow-drip clients (a 2-byte length, then one byte now
// and then, each byte restarting the idle timer) fill every slot; the query
// deadline cuts them off, so a new connection is answered within a bounded
// time, and UDP is served throughout.
TEST(Tcp, Issue9_SlowDripClientsAreCutOffByTheQueryDeadline) {
  ServerConfig config = TcpConfig();
  config.tcp_max_connections = 10;
  config.tcp_max_per_address = 0;  // every client is 127.0.0.1 here
  config.tcp_query_timeout = milliseconds(1000);
  config.tcp_idle_timeout = milliseconds(10'000);
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  std::vector<std::unique_ptr<TcpClient>> drips;
  for (int i = 0; i < 10; ++i) {
    drips.push_back(std::make_unique<TcpClient>(r->port));
    ASSERT_TRUE(drips.back()->SendRaw({0x00, 0x40}));  // a 64-byte query follows... slowly
  }
  ASSERT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_accepted == 10; }));
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    // One byte per connection every 200 ms (well inside the idle timeout),
    // for at most 15 s.
    for (int round = 0; round < 75 && !stop.load(); ++round) {
      for (auto& d : drips) {
        std::uint8_t b = 0;
        (void)::send(d->fd(), &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  // Every slot is taken now: a new connection is refused...
  {
    TcpClient extra(r->port);
    EXPECT_TRUE(extra.ClosedWithin(milliseconds(2000)));
  }
  // ...UDP is answered meanwhile...
  UdpClient u(r->port);
  PktPtr up = u.Ask("2.0.0.127.bl.test", 1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(Summary(up.get()), "NOERROR 127.0.0.2");
  // ...and within a bounded time (deadline 1 s) a new connection is answered.
  bool served = WaitFor(
      [&]() -> bool {
        TcpClient again(r->port);
        if (!again.Send(MakeQuery("2.0.0.127.bl.test", 88))) return false;
        PktPtr p = again.ReadReply(milliseconds(300));
        return p != nullptr && ldns_pkt_id(p.get()) == 88;
      },
      milliseconds(10'000));
  EXPECT_TRUE(served);
  for (auto& d : drips) EXPECT_TRUE(d->ClosedWithin(milliseconds(5000)));
  stop = true;
  dripper.join();
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_query_timeouts >= 10; }))
      << r->server->IoTotals().tcp_query_timeouts;
}

// The deadline is per query, not per connection: a connection that keeps
// sending queries in pieces, each complete within the deadline, is served
// for longer than the deadline.
TEST(Tcp, Issue9_QueryDeadlineRestartsWithEachQuery) {
  ServerConfig config = TcpConfig();
  config.tcp_query_timeout = milliseconds(1000);
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  TcpClient c(r->port);
  for (int i = 0; i < 6; ++i) {  // 6 x 2 x 250 ms: three times the deadline
    std::vector<std::uint8_t> f =
        TcpClient::Frame(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(i)));
    const auto half = static_cast<std::ptrdiff_t>(f.size() / 2);
    ASSERT_TRUE(c.SendRaw(std::vector<std::uint8_t>(f.begin(), f.begin() + half)));
    std::this_thread::sleep_for(milliseconds(250));
    ASSERT_TRUE(c.SendRaw(std::vector<std::uint8_t>(f.begin() + half, f.end())));
    PktPtr p = c.ReadReply();
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(ldns_pkt_id(p.get()), i);
    std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_EQ(r->server->IoTotals().tcp_query_timeouts, 0u);
}

// Issue 9 item 12: one address cannot take more than tcp_max_per_address
// slots; other addresses still connect; a freed slot is reusable.
TEST(Tcp, Issue9_PerAddressLimitRefusesExtraConnectionsFromOneAddress) {
  ServerConfig config = TcpConfig();
  config.tcp_max_per_address = 3;
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  auto ask = [&](TcpClient* c, std::uint16_t id) -> bool {
    if (!c->Send(MakeQuery("2.0.0.127.bl.test", id))) return false;
    PktPtr p = c->ReadReply(milliseconds(2000));
    return p != nullptr && ldns_pkt_id(p.get()) == id;
  };
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<TcpClient>(r->port, "127.0.0.1"));
    ASSERT_TRUE(ask(held.back().get(), static_cast<std::uint16_t>(i))) << i;
  }
  TcpClient fourth(r->port, "127.0.0.1");
  ASSERT_TRUE(fourth.connected());  // the kernel completes the handshake
  EXPECT_TRUE(fourth.ClosedWithin(milliseconds(2000)));
  EXPECT_TRUE(WaitFor([&] { return r->server->IoTotals().tcp_refused_per_address == 1; }));
  // Other addresses, each up to its own limit.
  for (const char* other : {"127.0.0.2", "127.0.0.3"}) {
    for (int i = 0; i < 3; ++i) {
      TcpClient c(r->port, other);
      ASSERT_TRUE(ask(&c, static_cast<std::uint16_t>(100 + i))) << other;
    }
  }
  // A freed slot of 127.0.0.1 can be used again.
  held.pop_back();
  bool served = WaitFor(
      [&]() -> bool {
        TcpClient again(r->port, "127.0.0.1");
        return ask(&again, 77);
      },
      milliseconds(3000));
  EXPECT_TRUE(served);
  EXPECT_EQ(r->server->IoTotals().tcp_refused, 0u);
}

TEST(Tcp, Issue9_DeadlineAndPerAddressDefaults) {
  EXPECT_EQ(ServerConfig().tcp_query_timeout, milliseconds(2000));
  EXPECT_EQ(ServerConfig().tcp_max_per_address, 32);
}

}  // namespace
}  // namespace meshbl::server::testing
