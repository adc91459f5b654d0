// dns/address.h: generated IPv4/IPv6 addresses (random, v4-mapped, zero runs
// in every position, every prefix length) round-trip text <-> value <->
// (hi, lo) <-> sockaddr, checked against inet_pton/inet_ntop and a 128-bit
// integer model.
#include "meshbl/dns/address.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace meshbl::dns {
namespace {

using U128 = unsigned __int128;

constexpr int kRounds = 20000;

std::string Ntop(int af, const void* b) {
  char buf[INET6_ADDRSTRLEN];
  EXPECT_NE(inet_ntop(af, b, buf, sizeof buf), nullptr);
  return buf;
}

// Random 16 bytes; each 16-bit group zero with probability 1/2, so that
// zero runs of every length and position (the "::" of RFC 5952) occur.
void RandomV6(std::mt19937_64* rng, std::uint8_t b[16]) {
  for (int g = 0; g < 8; ++g) {
    const std::uint64_t r = (*rng)();
    const bool zero = (r & 1) != 0;
    // Small values too, so groups print with 1..4 digits.
    const auto v = static_cast<std::uint16_t>(zero ? 0 : (r >> 8) >> ((r >> 1) % 4 * 4));
    b[2 * g] = static_cast<std::uint8_t>(v >> 8);
    b[2 * g + 1] = static_cast<std::uint8_t>(v);
  }
  const std::uint64_t kind = (*rng)() % 8;
  if (kind == 0) {  // v4-mapped
    std::memset(b, 0, 10);
    b[10] = b[11] = 0xff;
  } else if (kind == 1) {  // v4-compatible (deprecated, inet_ntop prints ::a.b.c.d)
    std::memset(b, 0, 12);
  }
}

U128 ToU128(std::uint64_t hi, std::uint64_t lo) { return (U128{hi} << 64) | lo; }

TEST(IpAddress, V4RoundTrips) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < kRounds; ++i) {
    static constexpr std::uint32_t kEdges[] = {0, 0xffffffffu, 0x7f000001u, 0x0a000001u};
    const std::uint32_t v = i < 4 ? kEdges[i] : static_cast<std::uint32_t>(rng());
    const IpAddress a = IpAddress::V4(v);
    ASSERT_TRUE(a.is_v4());
    EXPECT_EQ(a.v4(), v);
    EXPECT_EQ(a.hi(), 0u);
    EXPECT_EQ(a.lo(), 0u);
    const std::uint32_t net = htonl(v);
    const std::string text = Ntop(AF_INET, &net);
    EXPECT_EQ(a.ToString(), text);
    EXPECT_EQ(IpAddress::Parse(text), a) << text;
    ASSERT_EQ(a.bytes().size(), 4u);
    EXPECT_EQ(std::memcmp(a.bytes().data(), &net, 4), 0);

    sockaddr_storage ss;
    const auto port = static_cast<std::uint16_t>(rng());
    ASSERT_EQ(a.ToSockaddr(port, &ss), sizeof(sockaddr_in));
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof sin);
    EXPECT_EQ(sin.sin_family, AF_INET);
    EXPECT_EQ(ntohs(sin.sin_port), port);
    EXPECT_EQ(sin.sin_addr.s_addr, net);
    EXPECT_EQ(IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof sin), a);
    EXPECT_FALSE(IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof sin - 1)
                     .has_value());
  }
}

TEST(IpAddress, V6RoundTrips) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < kRounds; ++i) {
    std::uint8_t b[16];
    RandomV6(&rng, b);
    if (i == 0) std::memset(b, 0, 16);  // ::
    if (i == 1) std::memset(b, 0xff, 16);
    const IpAddress a = IpAddress::V6(std::span<const std::uint8_t, 16>(b));
    ASSERT_TRUE(a.is_v6());
    EXPECT_EQ(a.v4(), 0u);
    // (hi, lo): big-endian halves, against a 128-bit integer.
    U128 model = 0;
    for (int k = 0; k < 16; ++k) model = (model << 8) | b[k];
    EXPECT_TRUE(ToU128(a.hi(), a.lo()) == model);
    EXPECT_EQ(IpAddress::V6(a.hi(), a.lo()), a);
    // Text: inet_ntop's RFC 5952 form, and back through inet_pton and Parse.
    const std::string text = Ntop(AF_INET6, b);
    ASSERT_EQ(a.ToString(), text);
    EXPECT_LE(text.size(), IpAddress::kMaxText);
    EXPECT_EQ(IpAddress::Parse(text), a) << text;
    // Upper case and the full uncompressed form parse to the same value.
    std::string upper = text;
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 32 : c);
    EXPECT_EQ(IpAddress::Parse(upper), a) << upper;
    char full[40];
    std::snprintf(full, sizeof full, "%x:%x:%x:%x:%x:%x:%x:%x", b[0] << 8 | b[1], b[2] << 8 | b[3],
                  b[4] << 8 | b[5], b[6] << 8 | b[7], b[8] << 8 | b[9], b[10] << 8 | b[11],
                  b[12] << 8 | b[13], b[14] << 8 | b[15]);
    EXPECT_EQ(IpAddress::Parse(full), a) << full;
    // v4-mapped.
    const bool mapped = std::memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
    EXPECT_EQ(a.IsV4Mapped(), mapped);
    if (mapped) {
      EXPECT_EQ(a.Unmapped(),
                IpAddress::V4((std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                              (std::uint32_t{b[14]} << 8) | b[15]));
      EXPECT_EQ(text.rfind("::ffff:", 0), 0u) << text;
    } else {
      EXPECT_EQ(a.Unmapped(), a);
    }
    // sockaddr.
    sockaddr_storage ss;
    const auto port = static_cast<std::uint16_t>(rng());
    ASSERT_EQ(a.ToSockaddr(port, &ss), sizeof(sockaddr_in6));
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &ss, sizeof sin6);
    EXPECT_EQ(sin6.sin6_family, AF_INET6);
    EXPECT_EQ(ntohs(sin6.sin6_port), port);
    EXPECT_EQ(std::memcmp(sin6.sin6_addr.s6_addr, b, 16), 0);
    EXPECT_EQ(IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof sin6), a);
  }
}

TEST(IpAddress, EveryPrefixLength) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    const auto v = static_cast<std::uint32_t>(rng());
    const IpAddress a4 = IpAddress::V4(v);
    for (std::size_t p = 0; p <= 32; ++p) {
      const std::uint32_t mask = p == 0 ? 0 : ~std::uint32_t{0} << (32 - p);
      EXPECT_EQ(a4.Masked(p).v4(), v & mask) << p;
      EXPECT_TRUE(a4.Masked(p).is_v4());
    }
    EXPECT_EQ(a4.Masked(33), a4);
    EXPECT_EQ(a4.Masked(128), a4);

    const IpAddress a6 = IpAddress::V6(rng(), rng());
    const U128 m = ToU128(a6.hi(), a6.lo());
    for (std::size_t p = 0; p <= 128; ++p) {
      const U128 mask = p == 0 ? 0 : ~U128{0} << (128 - p);
      const IpAddress masked = a6.Masked(p);
      EXPECT_TRUE(ToU128(masked.hi(), masked.lo()) == (m & mask)) << p;
      // Text of the masked value still round-trips.
      EXPECT_EQ(IpAddress::Parse(masked.ToString()), masked);
    }
    EXPECT_EQ(a6.Masked(129), a6);
  }
}

// Parse agrees with inet_pton on generated near-misses of valid text.
TEST(IpAddress, ParseAgreesWithInetPton) {
  std::mt19937_64 rng(4);
  const std::string kAlphabet = "0123456789abcdefABCDEFg.:%/ x";
  for (int i = 0; i < kRounds; ++i) {
    std::string s;
    if (i % 2 == 0) {
      std::uint8_t b[16];
      RandomV6(&rng, b);
      s = i % 4 == 0 ? Ntop(AF_INET6, b) : Ntop(AF_INET, b);
    }
    // Mutate: insert, delete or replace 1..3 characters.
    const int edits = static_cast<int>(rng() % 4);
    for (int e = 0; e < edits || s.empty(); ++e) {
      const char c = kAlphabet[rng() % kAlphabet.size()];
      const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          s.insert(at, 1, c);
          break;
        case 1:
          if (at < s.size()) s.erase(at, 1);
          break;
        default:
          if (at < s.size()) s[at] = c;
          break;
      }
      if (e > 8) break;
    }
    std::uint8_t b[16];
    const bool v4 = inet_pton(AF_INET, s.c_str(), b) == 1;
    const bool v6 = !v4 && inet_pton(AF_INET6, s.c_str(), b) == 1;
    const auto a = IpAddress::Parse(s);
    ASSERT_EQ(a.has_value(), v4 || v6) << "[" << s << "]";
    if (v4) {
      EXPECT_EQ(std::memcmp(a->bytes().data(), b, 4), 0) << s;
    } else if (v6) {
      EXPECT_EQ(std::memcmp(a->bytes().data(), b, 16), 0) << s;
    }
  }
  for (const char* s : {"", "1.2.3.4/24", "fe80::1%eth0", "::1 ", " ::1", "1.2.3", "1.2.3.4.5",
                        "256.0.0.1", "::ffff:1.2.3.4.5", ":::", "1::2::3"}) {
    EXPECT_FALSE(IpAddress::Parse(s).has_value()) << "[" << s << "]";
  }
  EXPECT_FALSE(IpAddress::Parse(std::string_view("::1\0", 4)).has_value());
  EXPECT_FALSE(IpAddress::Parse(std::string(IpAddress::kMaxText + 1, '1')).has_value());
}

TEST(IpAddress, NoneAndOtherFamilies) {
  const IpAddress none;
  EXPECT_EQ(none.family(), IpAddress::Family::kNone);
  EXPECT_EQ(none.bytes().size(), 0u);
  EXPECT_EQ(none.ToString(), "");
  sockaddr_storage ss;
  EXPECT_EQ(none.ToSockaddr(53, &ss), 0u);
  sockaddr_storage un{};
  un.ss_family = AF_UNIX;
  EXPECT_FALSE(
      IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof un).has_value());
  EXPECT_FALSE(IpAddress::FromSockaddr(nullptr, 0).has_value());
  // A buffer too small for the text.
  char small[8];
  EXPECT_EQ(IpAddress::V6(1, 2).Format(small), 0u);
  EXPECT_EQ(IpAddress::V4(0x01020304).Format(small), 7u);
}

TEST(IpAddress, HotOperationsAllocateNothing) {
  std::mt19937_64 rng(5);
  std::size_t sum = 0;
  char buf[IpAddress::kMaxText];
  const std::size_t before = meshbl::testing::AllocationCount();
  for (int i = 0; i < 1000; ++i) {
    const IpAddress a = IpAddress::V6(rng(), rng());
    const std::size_t n = a.Format(buf);
    sum += IpAddress::Parse(std::string_view(buf, n))->Masked(64).hi();
    sockaddr_storage ss;
    const socklen_t len = a.ToSockaddr(53, &ss);
    sum += IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len)->lo();
  }
  EXPECT_EQ(meshbl::testing::AllocationCount(), before);
  EXPECT_NE(sum, 0u);
}

}  // namespace
}  // namespace meshbl::dns
