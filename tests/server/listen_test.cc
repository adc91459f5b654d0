// rbldnsd's -b addr[/port] (reference/rbldnsd.md §1): default port 53,
// service names, every getaddrinfo result, duplicates ignored, at most 20
// addresses, -4/-6 hints; the sockets opened on them (SO_REUSEPORT for one
// UDP socket per worker, IPV6_V6ONLY) and client addresses for ACLs.
#include "meshbl/server/listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace meshbl::server {
namespace {

TEST(ResolveListenSpec, LiteralWithPort) {
  auto a = ResolveListenSpec("127.0.0.1/5353");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].family(), AF_INET);
  EXPECT_EQ((*a)[0].port(), 5353);
  EXPECT_EQ((*a)[0].ToString(), "127.0.0.1/5353");
}

TEST(ResolveListenSpec, PortDefaultsTo53AndMayBeAServiceName) {
  auto a = ResolveListenSpec("127.0.0.1");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)[0].port(), 53);
  auto b = ResolveListenSpec("127.0.0.1/domain");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)[0].port(), 53);
}

TEST(ResolveListenSpec, Ipv6Literal) {
  auto a = ResolveListenSpec("::1/53");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)[0].family(), AF_INET6);
  EXPECT_EQ((*a)[0].ToString(), "::1/53");
}

TEST(ResolveListenSpec, FamilyHintFiltersNames) {
  auto a = ResolveListenSpec("localhost/53", FamilyHint::kV4);
  ASSERT_TRUE(a.ok()) << a.status();
  for (const ListenAddress& x : *a) EXPECT_EQ(x.family(), AF_INET);
  EXPECT_EQ((*a)[0].ToString(), "127.0.0.1/53");
  // An IPv4 literal under -6 resolves to nothing.
  EXPECT_FALSE(ResolveListenSpec("127.0.0.1/53", FamilyHint::kV6).ok());
}

TEST(ResolveListenSpec, ErrorsQuoteTheArgument) {
  auto a = ResolveListenSpec("127.0.0.1/no-such-service-x");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(std::string(a.status().message()).find("127.0.0.1/no-such-service-x"),
            std::string::npos);
  EXPECT_FALSE(ResolveListenSpec("/53").ok());
  EXPECT_FALSE(ResolveListenSpec("127.0.0.1/").ok());
  EXPECT_FALSE(ResolveListenSpec("").ok());
}

TEST(ResolveListenSpecs, DuplicatesIgnoredInOrder) {
  auto a = ResolveListenSpecs({"127.0.0.1/53", "127.0.0.2/53", "127.0.0.1/53", "127.0.0.1"});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].ToString(), "127.0.0.1/53");
  EXPECT_EQ((*a)[1].ToString(), "127.0.0.2/53");
}

TEST(ResolveListenSpecs, AtMostTwentyAddresses) {
  std::vector<std::string> specs;
  for (int i = 0; i < 20; ++i) specs.push_back("127.0.0.1/" + std::to_string(5000 + i));
  EXPECT_TRUE(ResolveListenSpecs(specs).ok());
  specs.push_back("127.0.0.1/6000");
  auto a = ResolveListenSpecs(specs);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(std::string(a.status().message()).find("too many"), std::string::npos);
  EXPECT_FALSE(ResolveListenSpecs({}).ok());
}

TEST(OpenUdpSocket, ReusePortLetsEveryWorkerBindThePort) {
  auto a = ResolveListenSpec("127.0.0.1/0");
  ASSERT_TRUE(a.ok());
  auto first = OpenUdpSocket((*a)[0]);
  ASSERT_TRUE(first.ok()) << first.status();
  auto local = LocalAddress(first->get());
  ASSERT_TRUE(local.ok());
  EXPECT_NE(local->port(), 0);
  auto second = OpenUdpSocket(*local);
  EXPECT_TRUE(second.ok()) << second.status();
  // Without SO_REUSEPORT the port is taken.
  SocketOptions no_reuse;
  no_reuse.reuse_port = false;
  auto third = OpenUdpSocket(*local, no_reuse);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(std::string(third.status().message()).find("bind"), std::string::npos);
}

TEST(OpenUdpSocket, Ipv6SocketsAreV6Only) {
  auto a = ResolveListenSpec("::1/0");
  ASSERT_TRUE(a.ok());
  auto fd = OpenUdpSocket((*a)[0]);
  if (!fd.ok()) GTEST_SKIP() << "no IPv6 loopback: " << fd.status();
  int v6only = 0;
  socklen_t len = sizeof(v6only);
  ASSERT_EQ(::getsockopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
  EXPECT_EQ(v6only, 1);
}

TEST(OpenTcpListener, ListensOnTheUdpPort) {
  auto a = ResolveListenSpec("127.0.0.1/0");
  ASSERT_TRUE(a.ok());
  auto udp = OpenUdpSocket((*a)[0]);
  ASSERT_TRUE(udp.ok());
  auto local = LocalAddress(udp->get());
  ASSERT_TRUE(local.ok());
  auto tcp = OpenTcpListener(*local);
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  int type = 0, acc = 0;
  socklen_t len = sizeof(type);
  ASSERT_EQ(::getsockopt(tcp->get(), SOL_SOCKET, SO_TYPE, &type, &len), 0);
  EXPECT_EQ(type, SOCK_STREAM);
  len = sizeof(acc);
  ASSERT_EQ(::getsockopt(tcp->get(), SOL_SOCKET, SO_ACCEPTCONN, &acc, &len), 0);
  EXPECT_EQ(acc, 1);
}

TEST(ClientFromSockaddr, Ipv4AndIpv6InHostOrder) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr), 1);
  table::ClientAddr c = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&sin));
  EXPECT_EQ(c.family, 4);
  EXPECT_EQ(c.v4, 0x0a010203u);

  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1:2", &sin6.sin6_addr), 1);
  c = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&sin6));
  EXPECT_EQ(c.family, 6);
  EXPECT_EQ(c.hi, 0x20010db800000000u);
  EXPECT_EQ(c.lo, 0x0000000000010002u);

  // A v4-mapped address is the IPv4 client.
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr), 1);
  c = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&sin6));
  EXPECT_EQ(c.family, 4);
  EXPECT_EQ(c.v4, 0xc0000207u);
}

// Generated clients: every field of the ClientAddr against a byte model,
// v4-mapped ones as IPv4, other families as unknown.
TEST(ClientFromSockaddr, GeneratedAddresses) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; ++i) {
    const int kind = i % 3;
    table::ClientAddr c;
    if (kind == 0) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      const auto v = static_cast<std::uint32_t>(rng());
      sin.sin_addr.s_addr = htonl(v);
      c = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&sin));
      EXPECT_EQ(c.family, 4);
      EXPECT_EQ(c.v4, v);
      EXPECT_EQ(c.hi | c.lo, 0u);
      continue;
    }
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::uint8_t* b = sin6.sin6_addr.s6_addr;
    for (int k = 0; k < 16; ++k) b[k] = static_cast<std::uint8_t>(rng());
    if (kind == 2) {
      std::memset(b, 0, 10);
      b[10] = b[11] = 0xff;
    }
    c = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&sin6));
    std::uint64_t hi = 0, lo = 0;
    for (int k = 0; k < 8; ++k) {
      hi = hi << 8 | b[k];
      lo = lo << 8 | b[8 + k];
    }
    if (kind == 2) {
      EXPECT_EQ(c.family, 4);
      EXPECT_EQ(c.v4, static_cast<std::uint32_t>(lo));
      EXPECT_EQ(c.hi | c.lo, 0u);
    } else {
      EXPECT_EQ(c.family, 6);
      EXPECT_EQ(c.hi, hi);
      EXPECT_EQ(c.lo, lo);
      EXPECT_EQ(c.v4, 0u);
    }
  }
  sockaddr_storage un{};
  un.ss_family = AF_UNIX;
  EXPECT_EQ(ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&un)).family, 0);
}

}  // namespace
}  // namespace meshbl::server
