#include "meshbl/zone/parse_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshbl::zone {
namespace {

constexpr std::uint32_t Ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

struct RangeCase {
  const char* in;
  int bits;  // expected return (negative = error)
  std::uint32_t first, last;
  const char* rest;
};

TEST(ParseIp4Range, Table) {
  const RangeCase cases[] = {
      // §4.1 full address, prefixes a.b.c = /24, a.b = /16
      {"1.2.3.4", 32, Ip(1, 2, 3, 4), Ip(1, 2, 3, 4), ""},
      {"10.20.30", 24, Ip(10, 20, 30, 0), Ip(10, 20, 30, 255), ""},
      {"10.20", 16, Ip(10, 20, 0, 0), Ip(10, 20, 255, 255), ""},
      // §4.1 leading zeros are fine, octets > 255 are not
      {"010.001.0002.4", 32, Ip(10, 1, 2, 4), Ip(10, 1, 2, 4), ""},
      {"1.2.3.256", -1, 0, 0, "6"},
      // §4.1 bare single number invalid (use /8)
      {"172", -1, 0, 0, ""},
      {"172/8", 8, Ip(172, 0, 0, 0), Ip(172, 255, 255, 255), ""},
      // §4.1 CIDR with 1-4 octet prefix; host bits are kept for the caller
      {"10.4.0.0/12", 12, Ip(10, 4, 0, 0), Ip(10, 15, 255, 255), ""},
      {"10.1/8", 8, Ip(10, 1, 0, 0), Ip(10, 255, 255, 255), ""},
      {"0/0", 0, 0, 0xffffffffu, ""},
      {"1.2.3.4/33", -1, 0, 0, "3"},
      {"1.2.3.4/", -1, 0, 0, ""},
      // §4.1 ranges with the same octet count; end completed with 255s
      {"1.2.3.4-1.2.3.9", 32, Ip(1, 2, 3, 4), Ip(1, 2, 3, 9), ""},
      {"1.2-1.5", 32, Ip(1, 2, 0, 0), Ip(1, 5, 255, 255), ""},
      {"1.2-1.2.3.4", -1, 0, 0, ""},
      // §4.1 suffix range replaces the last given octet
      {"192.168.5.1-7", 32, Ip(192, 168, 5, 1), Ip(192, 168, 5, 7), ""},
      {"127.16-31", 32, Ip(127, 16, 0, 0), Ip(127, 31, 255, 255), ""},
      {"10.1.2-9", 32, Ip(10, 1, 2, 0), Ip(10, 1, 9, 255), ""},
      // rbldnsd accepts a range of bare numbers: 127-130 = 127.0.0.0-130.255.255.255
      {"127-130", 32, Ip(127, 0, 0, 0), Ip(130, 255, 255, 255), ""},
      // §4.1 start > end invalid
      {"1.2.3.9-1.2.3.4", -1, 0, 0, ""},
      {"1.2.3.9-4", -1, 0, 0, ""},
      // the tail is left for the caller (value after the key, §3)
      {"127.0.0.9:9:txt", 32, Ip(127, 0, 0, 9), Ip(127, 0, 0, 9), ":9:txt"},
      {"1.2.3.4 :2", 32, Ip(1, 2, 3, 4), Ip(1, 2, 3, 4), " :2"},
      {"1.2.3.4.5", 32, Ip(1, 2, 3, 4), Ip(1, 2, 3, 4), ".5"},
      {"1.2.", -1, 0, 0, ""},
      {"", -1, 0, 0, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::uint32_t first = 0, last = 0;
    std::string_view rest;
    int bits = ParseIp4Range(c.in, &first, &last, &rest);
    if (c.bits < 0) {
      EXPECT_LT(bits, 0);
      continue;
    }
    EXPECT_EQ(bits, c.bits);
    EXPECT_EQ(first, c.first);
    EXPECT_EQ(last, c.last);
    EXPECT_EQ(rest, c.rest);
  }
}

TEST(ParseIp4Cidr, Table) {
  struct Case {
    const char* in;
    int bits;
    std::uint32_t addr;
  };
  const Case cases[] = {
      // §4.3 CIDR or bare 2-4 octet prefix, no ranges, 0/0 allowed
      {"10.0.0.0/8", 8, Ip(10, 0, 0, 0)},
      {"10.1.2", 24, Ip(10, 1, 2, 0)},
      {"10.1", 16, Ip(10, 1, 0, 0)},
      {"10", -1, 0},
      {"0/0", 0, 0},
      {"1.2.3.4/32", 32, Ip(1, 2, 3, 4)},
      {"1.2.3.4/40", -1, 0},
      {"1.2.3.4-5", 32, Ip(1, 2, 3, 4)},
      {"10.20.30.40/24", 24, Ip(10, 20, 30, 40)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::uint32_t a = 0;
    std::string_view rest;
    int bits = ParseIp4Cidr(c.in, &a, &rest);
    if (c.bits < 0) {
      EXPECT_LT(bits, 0);
      continue;
    }
    EXPECT_EQ(bits, c.bits);
    EXPECT_EQ(a, c.addr);
  }
  // The range form leaves `-5` as the tail, which the loader then rejects.
  std::uint32_t a = 0;
  std::string_view rest;
  ParseIp4Cidr("1.2.3.4-5", &a, &rest);
  EXPECT_EQ(rest, "-5");
}

TEST(ParseIp4Addr, InetAtonStyle) {
  struct Case {
    const char* in;
    int bits;
    std::uint32_t addr;
  };
  // §3 A values are parsed inet_aton style
  const Case cases[] = {
      {"2", 8, 2},
      {"10.2", 16, Ip(10, 0, 0, 2)},
      {"10.0.2", 24, Ip(10, 0, 0, 2)},
      {"127.0.0.3", 32, Ip(127, 0, 0, 3)},
      {"256", -1, 0},
      {"x", -1, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::uint32_t a = 0;
    std::string_view rest;
    int bits = ParseIp4Addr(c.in, &a, &rest);
    if (c.bits < 0) {
      EXPECT_LT(bits, 0);
      continue;
    }
    EXPECT_EQ(bits, c.bits);
    EXPECT_EQ(a, c.addr);
  }
}

Ip6Addr Ip6(std::initializer_list<std::uint16_t> groups_then_zero) {
  Ip6Addr a{};
  std::size_t i = 0;
  for (std::uint16_t g : groups_then_zero) {
    a[i++] = static_cast<std::uint8_t>(g >> 8);
    a[i++] = static_cast<std::uint8_t>(g & 0xff);
  }
  return a;
}

TEST(ParseIp6, PrefixAndCidr) {
  struct Case {
    const char* in;
    bool cidr;  // ParseIp6Cidr instead of ParseIp6Prefix
    int bits;
    Ip6Addr addr;
    const char* rest;
  };
  const Case cases[] = {
      // §4.4 without `::` bits = 16 x groups
      {"2001:db8:1", false, 48, Ip6({0x2001, 0xdb8, 1}), ""},
      {"2001:db8:1", true, 48, Ip6({0x2001, 0xdb8, 1}), ""},
      {"2001:DB8::", false, 128, Ip6({0x2001, 0xdb8}), ""},
      {"::1", false, 128, Ip6({0, 0, 0, 0, 0, 0, 0, 1}), ""},
      {"::", false, 128, Ip6({}), ""},
      {"1::4:0:0:0:8", false, 128, Ip6({1, 0, 0, 4, 0, 0, 0, 8}), ""},
      // §4.4 /len <= 128; a single bare group is invalid in CIDR form
      {"2001:db8::/32", true, 32, Ip6({0x2001, 0xdb8}), ""},
      {"2001", true, -1, {}, ""},
      {"2001/16", true, 16, Ip6({0x2001}), ""},
      {"::/129", true, -1, {}, ""},
      // §4.4 after 8 groups the rest is the value: `1:2:3:4:5:6:7:8:9`
      {"1:2:3:4:5:6:7:8:9", true, 128, Ip6({1, 2, 3, 4, 5, 6, 7, 8}), ":9"},
      // `::` with 8 groups leaves no room for zeros; 5 hex digits overflow
      {"1::2:3:4:5:6:7:8", false, -1, {}, ""},
      {"12345::", false, -1, {}, ""},
      {"1:", false, -1, {}, ""},
      {"1:2:3:4 :2", false, 64, Ip6({1, 2, 3, 4}), " :2"},
      {"g::", false, -1, {}, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    Ip6Addr a;
    std::string_view rest;
    int bits = c.cidr ? ParseIp6Cidr(c.in, &a, &rest) : ParseIp6Prefix(c.in, &a, &rest);
    if (c.bits < 0) {
      EXPECT_LT(bits, 0);
      continue;
    }
    EXPECT_EQ(bits, c.bits);
    EXPECT_EQ(a, c.addr);
    EXPECT_EQ(rest, c.rest);
  }
}

TEST(MaskIp6, ReportsAndClearsHostBits) {
  // §2 -e: host bits set are masked (or the line is skipped)
  Ip6Addr a = Ip6({0x2001, 0xdb8, 0x1234});
  EXPECT_FALSE(MaskIp6(&a, 48));
  EXPECT_TRUE(MaskIp6(&a, 36));
  EXPECT_EQ(a, Ip6({0x2001, 0xdb8, 0x1000}));
  EXPECT_FALSE(MaskIp6(&a, 128));
  EXPECT_TRUE(MaskIp6(&a, 0));
  EXPECT_EQ(a, Ip6({}));
}

TEST(ParseValue, Table) {
  struct Case {
    const char* in;
    ValueError err;
    std::uint32_t a;
    std::optional<std::string> txt;
  };
  const table::Value scope{Ip(127, 0, 0, 4), std::string("scope txt")};
  const Case cases[] = {
      // §3 `:A:text`
      {":127.0.0.3:listed", ValueError::kNone, Ip(127, 0, 0, 3), "listed"},
      {":3:  spaced", ValueError::kNone, Ip(127, 0, 0, 3), "spaced"},
      // §3 `:A:` = no TXT, `:A` = TXT of the scope default
      {":3:", ValueError::kNone, Ip(127, 0, 0, 3), std::nullopt},
      {":3", ValueError::kNone, Ip(127, 0, 0, 3), "scope txt"},
      {":3  ", ValueError::kNone, Ip(127, 0, 0, 3), "scope txt"},
      // §3 inet_aton-style A
      {":2:x", ValueError::kNone, Ip(127, 0, 0, 2), "x"},
      {":10.2:x", ValueError::kNone, Ip(10, 0, 0, 2), "x"},
      {":10.0.2:x", ValueError::kNone, Ip(10, 0, 0, 2), "x"},
      // §3 text form: default A, whole rest of line literal
      {"some text # not a comment", ValueError::kNone, Ip(127, 0, 0, 4),
       "some text # not a comment"},
      {"=raw $ template", ValueError::kNone, Ip(127, 0, 0, 4), "=raw $ template"},
      // §3 A of 0 or octet > 255 invalid
      {":0:", ValueError::kInvalidA, 0, std::nullopt},
      {":0.0.0.0:x", ValueError::kInvalidA, 0, std::nullopt},
      {":256:x", ValueError::kInvalidA, 0, std::nullopt},
      {":x", ValueError::kInvalidA, 0, std::nullopt},
      // §3 `:A junk` invalid (a comment after `:A` too, as Debian's rbldnsd)
      {":3 junk", ValueError::kUnrecognized, 0, std::nullopt},
      {":3 #comment", ValueError::kUnrecognized, 0, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    table::Value v;
    bool truncated = true;
    EXPECT_EQ(ParseValue(c.in, scope, &v, &truncated), c.err);
    if (c.err != ValueError::kNone) continue;
    EXPECT_FALSE(truncated);
    EXPECT_EQ(v.a, c.a);
    EXPECT_EQ(v.txt, c.txt);
  }
}

TEST(ParseValue, TruncatesTxtAt255) {
  // §3 raw TXT > 255 bytes truncated at load (warning)
  std::string long_txt(300, 'x');
  table::Value v;
  bool truncated = false;
  ASSERT_EQ(ParseValue(":2:" + long_txt, {}, &v, &truncated), ValueError::kNone);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(v.txt->size(), 255u);
  ASSERT_EQ(ParseValue(std::string(255, 'y'), {}, &v, &truncated), ValueError::kNone);
  EXPECT_FALSE(truncated);
}

TEST(ParseTime, Units) {
  struct Case {
    const char* in;
    bool ok;
    std::uint32_t v;
    const char* rest;
  };
  // §1/§2 time values: N, Ns, Nm, Nh, Nd, Nw (either case)
  const Case cases[] = {
      {"30", true, 30, ""},
      {"30s", true, 30, ""},
      {"5m", true, 300, ""},
      {"2H", true, 7200, ""},
      {"1d", true, 86400, ""},
      {"1w", true, 604800, ""},
      {"10 rest", true, 10, "rest"},
      {"10:5", true, 10, ":5"},
      {"10x", false, 0, ""},
      {"x", false, 0, ""},
      {"4294967295", true, 4294967295u, ""},
      {"4294967296", false, 0, ""},
      {"7101w", true, 7101u * 604800u, ""},
      {"7102w", false, 0, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::string_view s = c.in;
    std::uint32_t v = 0;
    EXPECT_EQ(ParseTime(&s, &v), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(v, c.v);
    EXPECT_EQ(s, c.rest);
  }
}

TEST(ParseTtl, ZeroAndClamp) {
  // §2 $TTL/$SOA ttl: 0 -> the given TTL; non-zero clamped to -t min/max
  std::string_view s = "0";
  std::uint32_t v = 0;
  ASSERT_TRUE(ParseTtl(&s, 1234, 0, 0, &v));
  EXPECT_EQ(v, 1234u);
  s = "5";
  ASSERT_TRUE(ParseTtl(&s, 1234, 60, 600, &v));
  EXPECT_EQ(v, 60u);
  s = "1h";
  ASSERT_TRUE(ParseTtl(&s, 1234, 60, 600, &v));
  EXPECT_EQ(v, 600u);
  s = "1h";
  ASSERT_TRUE(ParseTtl(&s, 1234, 0, 0, &v));
  EXPECT_EQ(v, 3600u);
}

TEST(ParseUint32, NeedsBlankAfterDigits) {
  std::string_view s = "12 34";
  std::uint32_t v = 0;
  ASSERT_TRUE(ParseUint32(&s, &v));
  EXPECT_EQ(v, 12u);
  EXPECT_EQ(s, "34");
  s = "12x";
  EXPECT_FALSE(ParseUint32(&s, &v));
  s = "";
  EXPECT_FALSE(ParseUint32(&s, &v));
}

TEST(ParseTimestamp, Table) {
  struct Case {
    const char* in;
    bool ok;
    std::int64_t v;
  };
  // §2 $TIMESTAMP: YYYY[:-]MM[:-]DD[[:-]hh[[:-]mi[[:-]ss]]], 0/- = none
  const Case cases[] = {
      {"0", true, 0},
      {"-", true, 0},
      {"20240102", true, 1704153600},
      {"2024-01-02", true, 1704153600},
      {"2024:01:02:03:04:05", true, 1704164645},
      {"202401020304", true, 1704164640},
      {"2024-02-29", true, 1709164800},
      {"2023-02-29", false, 0},
      {"1969-12-31", false, 0},
      {"2039-01-01", false, 0},
      {"2024-13-01", false, 0},
      {"2024-01-02x", false, 0},
      {"1970-01-01", true, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::string_view s = c.in;
    std::int64_t v = -1;
    EXPECT_EQ(ParseTimestamp(&s, &v), c.ok);
    if (c.ok) {
      EXPECT_EQ(v, c.v);
    }
  }
}

TEST(ParseDomainWord, KeepsOrLowersCase) {
  std::string out;
  std::string_view s = "Mail.Example.COM. rest";
  ASSERT_TRUE(ParseDomainWord(&s, /*lowercase=*/false, &out));
  EXPECT_EQ(out, std::string("\4Mail\7Example\3COM"));
  EXPECT_EQ(s, "rest");
  s = "Mail.Example.COM";
  ASSERT_TRUE(ParseDomainWord(&s, /*lowercase=*/true, &out));
  EXPECT_EQ(out, std::string("\4mail\7example\3com"));
  s = "a..b\\.c";
  ASSERT_TRUE(ParseDomainWord(&s, true, &out));
  EXPECT_EQ(out, std::string("\1a\3b.c"));
  s = "";
  EXPECT_FALSE(ParseDomainWord(&s, true, &out));
  const std::string long_label(64, 'a');  // outlives the view
  s = long_label;
  EXPECT_FALSE(ParseDomainWord(&s, true, &out));
}

TEST(FirstWord, CaseInsensitiveAndNeedsBlank) {
  // §2 keywords are case-insensitive and must be followed by a blank
  std::string_view rest;
  EXPECT_TRUE(FirstWord("TtL 5", "ttl", &rest));
  EXPECT_EQ(rest, "5");
  EXPECT_FALSE(FirstWord("ttl", "ttl", &rest));
  EXPECT_FALSE(FirstWord("ttlx 5", "ttl", &rest));
  EXPECT_FALSE(FirstWord("nameserver x", "ns", &rest));
}

}  // namespace
}  // namespace meshbl::zone
