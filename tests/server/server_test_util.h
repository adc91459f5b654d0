// Helpers for the server tests: a small ZoneSet, a Server on 127.0.0.1 with
// an ephemeral port, and plain-socket clients whose replies are decoded with
// ldns (an independent decoder, STYLE.md rule 13). Every wait is bounded.
#ifndef MESHBL_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define MESHBL_TESTS_SERVER_SERVER_TEST_UTIL_H_

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/server/server.h"
#include "meshbl/table/swap.h"
#include "tests/table/test_util.h"

namespace meshbl::server::testing {

// Zone bl.test (ip4set): 127.0.0.2 and 10.0.0.0/8 listed with A 127.0.0.2
// and TXT "listed $"; everything else NXDOMAIN.
inline std::shared_ptr<const table::ZoneSet> TestZones() {
  using table::testing::Ip4;
  using table::testing::Labels;
  table::SnapshotBuilder b;
  auto ds = std::make_unique<table::DatasetBuilder>(table::DatasetType::kIp4Set, "ip4set:t");
  table::Value v = table::testing::Val(2, "listed $");
  ds->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &v);
  ds->AddIp4Range(Ip4("10.0.0.0"), Ip4("10.255.255.255"), &v);
  table::DatasetBuilder* d = b.AdoptDataset(std::move(ds));
  b.AddToZone(Labels("bl.test"), d);
  return table::testing::MakeZoneSet(b);
}

inline ServerConfig LoopbackConfig(UdpBackend backend, int threads = 2) {
  ServerConfig c;
  auto addrs = ResolveListenSpecs({"127.0.0.1/0"});
  EXPECT_TRUE(addrs.ok()) << addrs.status();
  if (addrs.ok()) c.listen = *addrs;
  c.threads = threads;
  c.udp_backend = backend;
  c.log = [](std::string_view) {};
  return c;
}

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

// Wire bytes of a query for `name`/`type` with id `id` (ldns builds it).
inline std::vector<std::uint8_t> MakeQuery(const std::string& name, std::uint16_t id,
                                           ldns_rr_type type = LDNS_RR_TYPE_A) {
  ldns_pkt* q = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&q, name.c_str(), type, LDNS_RR_CLASS_IN, LDNS_RD),
            LDNS_STATUS_OK);
  PktPtr owned(q);
  ldns_pkt_set_id(q, id);
  std::uint8_t* wire = nullptr;
  std::size_t len = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(wire, wire + len);
  std::free(wire);
  return out;
}

inline PktPtr Decode(const std::uint8_t* data, std::size_t len) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, data, len) != LDNS_STATUS_OK) return nullptr;
  return PktPtr(p);
}

// "NOERROR 127.0.0.2" / "NXDOMAIN": rcode and the A records of the answer.
inline std::string Summary(const ldns_pkt* p) {
  if (p == nullptr) return "UNDECODABLE";
  char* rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
  std::string out = rc != nullptr ? rc : "?";
  std::free(rc);
  const ldns_rr_list* an = ldns_pkt_answer(p);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A) continue;
    char* a = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out += " ";
    out += a;
    std::free(a);
  }
  return out;
}

inline sockaddr_in Loopback4(std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

// A UDP client socket connected to 127.0.0.1:port.
class UdpClient {
 public:
  explicit UdpClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sin = Loopback4(port);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    int big = 1 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  }
  bool Send(const std::vector<std::uint8_t>& wire) {
    return ::send(fd_.get(), wire.data(), wire.size(), 0) == static_cast<ssize_t>(wire.size());
  }
  // The next datagram within `timeout`, decoded; nullptr on timeout.
  PktPtr Receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return nullptr;
    std::uint8_t buf[65536];
    ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n <= 0) return nullptr;
    return Decode(buf, static_cast<std::size_t>(n));
  }
  // Sends one query and returns the reply with the same id (bounded retries
  // are not needed on loopback, but a stale reply is skipped).
  PktPtr Ask(const std::string& name, std::uint16_t id, ldns_rr_type type = LDNS_RR_TYPE_A) {
    if (!Send(MakeQuery(name, id, type))) return nullptr;
    for (int i = 0; i < 16; ++i) {
      PktPtr r = Receive();
      if (r == nullptr) return nullptr;
      if (ldns_pkt_id(r.get()) == id) return r;
    }
    return nullptr;
  }
  int fd() const { return fd_.get(); }

 private:
  util::UniqueFd fd_;
};

// Polls `cond` every 10 ms for at most `limit`.
template <typename F>
bool WaitFor(F cond, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace meshbl::server::testing

#endif  // MESHBL_TESTS_SERVER_SERVER_TEST_UTIL_H_
