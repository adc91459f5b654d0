// The query log's names (src/server/query_log_ring.cc writes them from
// dns/types.h) are dns/types.h's rbldnsd spelling for every QTYPE, QCLASS
// and RCODE, and its IPv6 client text (table::FormatIp6Client) is
// dns::IpAddress's (inet_ntop's).
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "meshbl/dns/address.h"
#include "meshbl/dns/types.h"
#include "meshbl/server/query_log.h"

namespace meshbl::server {
namespace {

using dns::Spelling;

std::string Line(std::uint16_t type, std::uint16_t qclass, std::uint8_t rcode,
                 const table::ClientAddr& client = {4, 0x7f000001, 0, 0}) {
  QueryLogRecord r;
  r.time = 1;
  r.client = client;
  r.rcode = rcode;
  r.question_len = 5;
  const std::uint8_t q[5] = {
      0, static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type),
      static_cast<std::uint8_t>(qclass >> 8), static_cast<std::uint8_t>(qclass)};
  std::copy(q, q + 5, r.question);
  return FormatQueryLogLine(r);
}

TEST(QueryLogNames, EveryTypeClassAndRcodeIsDnsTypesRbldnsdSpelling) {
  for (std::uint32_t v = 0; v <= 0xffff; ++v) {
    const auto t = static_cast<std::uint16_t>(v);
    ASSERT_EQ(Line(t, 1, 0), "1 127.0.0.1 . " +
                                 std::string(dns::TypeText(t, Spelling::kRbldnsdLog).view()) +
                                 " IN: NOERROR/0/0");
    ASSERT_EQ(Line(1, t, 0), "1 127.0.0.1 . A " +
                                 std::string(dns::ClassText(t, Spelling::kRbldnsdLog).view()) +
                                 ": NOERROR/0/0");
  }
  for (std::uint16_t rc = 0; rc < 16; ++rc) {
    EXPECT_EQ(Line(1, 1, static_cast<std::uint8_t>(rc)),
              "1 127.0.0.1 . A IN: " +
                  std::string(dns::RcodeText(rc, Spelling::kRbldnsdLog).view()) + "/0/0");
  }
  EXPECT_EQ(Line(1, 1, 4), "1 127.0.0.1 . A IN: NOTIMPL/0/0");
}

TEST(QueryLogNames, Ipv6ClientIsIpAddressText) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::uint64_t hi = rng(), lo = rng();
    if (i % 3 == 0) hi &= 0xffff0000ffff0000ULL;  // zero runs
    if (i % 5 == 0) lo = 0;
    if (i % 7 == 0) hi = 0, lo = 0xffff00000000ULL | (lo & 0xffffffffULL);  // v4-mapped
    const table::ClientAddr c{6, 0, hi, lo};
    ASSERT_EQ(Line(1, 1, 0), "1 127.0.0.1 . A IN: NOERROR/0/0");
    ASSERT_EQ(Line(1, 1, 0, c),
              "1 " + dns::IpAddress::V6(hi, lo).ToString() + " . A IN: NOERROR/0/0");
  }
}

}  // namespace
}  // namespace meshbl::server
