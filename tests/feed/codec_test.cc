#include "meshbl/feed/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace meshbl::feed {
namespace {

// Strings of every length class: empty, one of each byte value, long, and
// the 16 MiB maximum (once per test, it is big).
std::string RandomBytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> StringCases(std::mt19937_64& rng) {
  std::vector<std::string> v = {"",
                                std::string(1, '\0'),
                                "x",
                                std::string(127, 'a'),
                                std::string(128, 'b'),
                                std::string(16383, 'c'),
                                std::string(16384, 'd')};
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  v.push_back(all);
  for (std::size_t n = 1; n < 300; n += 37) v.push_back(RandomBytes(rng, n));
  return v;
}

std::vector<Subject> SubjectCases(std::mt19937_64& rng) {
  std::vector<Subject> v;
  for (std::size_t len = 0; len <= 32; ++len)
    v.push_back(Subject::Ip(dns::IpAddress::V4(static_cast<std::uint32_t>(rng())), len));
  for (std::size_t len = 0; len <= 128; ++len)
    v.push_back(Subject::Ip(dns::IpAddress::V6(rng(), rng()), len));
  for (const char* n : {"com", "example.com", ".example.com", "a.b.c.d.example.net", "*.x.org",
                        "xn--bcher-kva.example", "_dmarc.example.com", "a-b.c_d.e"}) {
    v.push_back(*Subject::Parse(n));
  }
  // The longest name: 63-byte labels up to 253 bytes.
  std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                        std::string(63, 'c') + "." + std::string(61, 'd');
  v.push_back(*Subject::Parse(longest));
  v.push_back(*Subject::Parse("." + longest));
  return v;
}

Listing MakeListing(std::mt19937_64& rng, const Subject& s, const std::string& str) {
  Listing l;
  l.subject = s;
  l.code = static_cast<std::uint8_t>(rng());
  l.reason = str;
  l.origin = static_cast<Origin>(1 + rng() % 4);
  l.origin_id = str.substr(0, str.size() / 2);
  l.first_seen = static_cast<std::int64_t>(rng());
  l.last_seen = static_cast<std::int64_t>(rng());
  l.expires = static_cast<std::int64_t>(rng());
  l.offenses = static_cast<std::uint32_t>(rng());
  return l;
}

TEST(CodecTest, ListingRoundTripsEveryFieldAndString) {
  std::mt19937_64 rng(1);
  const auto strings = StringCases(rng);
  const auto subjects = SubjectCases(rng);
  std::size_t i = 0;
  for (const auto& s : subjects) {
    for (const auto& str : strings) {
      const Listing l = MakeListing(rng, s, str);
      auto back = DecodeListing(EncodeListing(l));
      ASSERT_TRUE(back.ok()) << s.ToString() << ": " << back.status();
      ASSERT_EQ(*back, l) << s.ToString();
      ++i;
    }
  }
  // Extreme integers.
  Listing l = MakeListing(rng, subjects[0], "");
  for (std::int64_t t : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1},
                         std::int64_t{0}, std::numeric_limits<std::int64_t>::max()}) {
    l.first_seen = l.last_seen = l.expires = t;
    l.offenses = t < 0 ? 0 : std::numeric_limits<std::uint32_t>::max();
    auto back = DecodeListing(EncodeListing(l));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, l);
  }
  EXPECT_GT(i, 1000u);
}

TEST(CodecTest, MaximalStringRoundTripsAndOneMoreIsRefused) {
  std::mt19937_64 rng(2);
  WhitelistEntry w;
  w.subject = *Subject::Parse("192.0.2.0/24");
  w.reason = RandomBytes(rng, kMaxRecordString);
  auto back = DecodeWhitelistEntry(EncodeWhitelistEntry(w));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, w);
  w.reason.push_back('x');
  auto over = DecodeWhitelistEntry(EncodeWhitelistEntry(w));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("reason"), std::string::npos) << over.status();
  EXPECT_NE(over.status().message().find("16 MiB"), std::string::npos) << over.status();
}

TEST(CodecTest, WhitelistRoundTrips) {
  std::mt19937_64 rng(3);
  const auto strings = StringCases(rng);
  for (const auto& s : SubjectCases(rng)) {
    for (const auto& str : strings) {
      WhitelistEntry w;
      w.subject = s;
      w.reason = str;
      w.origin = static_cast<Origin>(1 + rng() % 4);
      w.origin_id = std::string(str.rbegin(), str.rend());
      w.added = static_cast<std::int64_t>(rng());
      auto back = DecodeWhitelistEntry(EncodeWhitelistEntry(w));
      ASSERT_TRUE(back.ok()) << back.status();
      ASSERT_EQ(*back, w);
    }
  }
}

void ExpectHitEq(const TrapHit& a, const TrapHit& b) {
  EXPECT_EQ(a.client, b.client);
  EXPECT_EQ(a.helo, b.helo);
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.trap, b.trap);
  EXPECT_EQ(a.message_key, b.message_key);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.via, b.via);
}

TEST(CodecTest, TrapHitRoundTrips) {
  std::mt19937_64 rng(4);
  const auto strings = StringCases(rng);
  for (int fam = 0; fam < 3; ++fam) {
    for (const auto& str : strings) {
      TrapHit h;
      if (fam == 1) h.client = dns::IpAddress::V4(static_cast<std::uint32_t>(rng()));
      if (fam == 2) h.client = dns::IpAddress::V6(rng(), rng());
      h.helo = str;
      h.sender = str.substr(str.size() / 3);
      h.trap = HashTrapAddress(str);
      h.message_key = RandomBytes(rng, rng() % 64);
      h.time = static_cast<std::int64_t>(rng());
      h.via = fam == 0 ? "" : "policy";
      auto back = DecodeTrapHit(EncodeTrapHit(h));
      ASSERT_TRUE(back.ok()) << back.status();
      ExpectHitEq(*back, h);
    }
  }
}

// Every proper prefix of a record is refused (truncated), and so is every
// record with a byte appended (trailing), and a changed version byte.
TEST(CodecTest, TruncatedTrailingAndVersionRefused) {
  std::mt19937_64 rng(5);
  const auto subjects = SubjectCases(rng);
  std::vector<std::pair<std::string, std::function<absl::Status(std::string_view)>>> recs;
  const auto listing = [](std::string_view b) { return DecodeListing(b).status(); };
  const auto white = [](std::string_view b) { return DecodeWhitelistEntry(b).status(); };
  const auto hit = [](std::string_view b) { return DecodeTrapHit(b).status(); };
  for (const auto& s : subjects) {
    recs.emplace_back(EncodeListing(MakeListing(rng, s, RandomBytes(rng, 200))), listing);
    WhitelistEntry w;
    w.subject = s;
    w.reason = RandomBytes(rng, 150);
    recs.emplace_back(EncodeWhitelistEntry(w), white);
  }
  TrapHit h;
  h.client = dns::IpAddress::V6(1, 2);
  h.helo = RandomBytes(rng, 300);
  recs.emplace_back(EncodeTrapHit(h), hit);
  for (const auto& [bytes, decode] : recs) {
    ASSERT_TRUE(decode(bytes).ok());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      const absl::Status st = decode(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(st.ok()) << "prefix " << n << " of " << bytes.size();
      ASSERT_EQ(st.code(), absl::StatusCode::kDataLoss);
    }
    const absl::Status trailing = decode(bytes + "x");
    ASSERT_FALSE(trailing.ok());
    EXPECT_NE(trailing.message().find("trailing"), std::string::npos) << trailing;
    for (int v = 0; v < 256; ++v) {
      if (v == kRecordVersion) continue;
      std::string b = bytes;
      b[0] = static_cast<char>(v);
      const absl::Status st = decode(b);
      ASSERT_FALSE(st.ok());
      ASSERT_NE(st.message().find("unknown record version"), std::string::npos) << st;
    }
  }
  EXPECT_NE(DecodeListing("").status().message().find("empty"), std::string::npos);
}

// Random byte flips never crash a decoder; the ones that are accepted
// re-encode to the same bytes (no two encodings of one value).
TEST(CodecTest, GarbledBytesRefusedOrCanonical) {
  std::mt19937_64 rng(6);
  const auto subjects = SubjectCases(rng);
  std::size_t refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = EncodeListing(MakeListing(rng, subjects[rng() % subjects.size()], "reason"));
    const std::size_t at = rng() % b.size();
    b[at] = static_cast<char>(b[at] ^ static_cast<char>(1 + rng() % 255));
    auto l = DecodeListing(b);
    if (!l.ok()) {
      ++refused;
      EXPECT_EQ(l.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_NE(l.status().message().find("listing record: "), std::string::npos);
      continue;
    }
    EXPECT_EQ(EncodeListing(*l), b);
  }
  EXPECT_GT(refused, 1000u);
}

TEST(CodecTest, BadSubjectsInRecordsRefusedWithField) {
  Listing l;
  l.subject = *Subject::Parse("192.0.2.0/24");
  std::string b = EncodeListing(l);
  // Bytes: version, key length, key (kind, 4 address bytes, length), code,
  // reason length, origin.
  std::string host_bits = b;
  host_bits[6] = 1;  // 192.0.2.1/24
  auto st = DecodeListing(host_bits).status();
  EXPECT_NE(st.message().find("subject"), std::string::npos) << st;
  EXPECT_NE(st.message().find("host bits"), std::string::npos) << st;
  std::string long_len = b;
  long_len[7] = 33;
  st = DecodeListing(long_len).status();
  EXPECT_NE(st.message().find("prefix length 33"), std::string::npos) << st;
  std::string origin = b;
  const std::size_t origin_at = 1 + 1 + 6 + 1 + 1;  // version, keylen, key, code, reason len
  origin[origin_at] = 9;
  st = DecodeListing(origin).status();
  EXPECT_NE(st.message().find("unknown origin 9"), std::string::npos) << st;
  origin[origin_at] = 0;
  EXPECT_FALSE(DecodeListing(origin).ok());
}

TEST(SubjectKeyTest, RoundTripsAndRefusesGarbage) {
  std::mt19937_64 rng(7);
  for (const auto& s : SubjectCases(rng)) {
    const std::string k = EncodeSubjectKey(s);
    EXPECT_LE(k.size(), 258u);
    auto back = DecodeSubjectKey(k);
    ASSERT_TRUE(back.ok()) << s.ToString() << ": " << back.status();
    EXPECT_EQ(*back, s);
    for (std::size_t n = 0; n < k.size(); ++n)
      EXPECT_FALSE(DecodeSubjectKey(k.substr(0, n)).ok()) << s.ToString() << " prefix " << n;
  }
  for (const std::string& bad : {std::string("\x04", 1), std::string("\x03\x00", 2),
                                 std::string("\x03"
                                             "Ex\0\0",
                                             5),
                                 std::string("\x03"
                                             "a b\0\0",
                                             6),
                                 std::string("\x03"
                                             "com\0\0x",
                                             7)}) {
    EXPECT_FALSE(DecodeSubjectKey(bad).ok()) << bad;
  }
}

// Keys sort IPv4 < IPv6 < names; networks by address then length; names
// from the top label, the name before its wildcard before names below.
TEST(SubjectKeyTest, SortOrder) {
  std::mt19937_64 rng(8);
  std::vector<Subject> v = SubjectCases(rng);
  for (const char* t : {"10.0.0.0/8", "10.0.0.0/16", "10.0.0.0", "10.0.0.1", "11.0.0.0/8", "::/0",
                        "::1", "2001:db8::/32", "2001:db8::", "example.com", ".example.com",
                        "a.example.com", "example.net", "com", "zzz"}) {
    v.push_back(*Subject::Parse(t));
  }
  std::sort(v.begin(), v.end(), [](const Subject& a, const Subject& b) {
    return EncodeSubjectKey(a) < EncodeSubjectKey(b);
  });
  const auto rank = [](const Subject& s) {
    return s.kind == Subject::Kind::kName ? 2 : s.addr.is_v4() ? 0 : 1;
  };
  for (std::size_t i = 1; i < v.size(); ++i) {
    const Subject& a = v[i - 1];
    const Subject& b = v[i];
    ASSERT_LE(rank(a), rank(b)) << a.ToString() << " " << b.ToString();
    if (rank(a) != rank(b) || a.kind == Subject::Kind::kName || a == b) continue;
    const auto ab = a.addr.bytes();
    const auto bb = b.addr.bytes();
    const bool addr_less = std::lexicographical_compare(ab.begin(), ab.end(), bb.begin(), bb.end());
    ASSERT_TRUE(addr_less || (a.addr == b.addr && a.len < b.len))
        << a.ToString() << " " << b.ToString();
  }
  const auto pos = [&](const char* t) {
    const Subject s = *Subject::Parse(t);
    return std::find(v.begin(), v.end(), s) - v.begin();
  };
  EXPECT_LT(pos("com"), pos("example.com"));
  EXPECT_LT(pos("example.com"), pos(".example.com"));
  EXPECT_LT(pos(".example.com"), pos("a.example.com"));
  EXPECT_LT(pos("a.example.com"), pos("example.net"));
  EXPECT_LT(pos("example.net"), pos("zzz"));
  // The prefix below a name covers exactly the name, its wildcard and below.
  const std::string below = SubjectKeyPrefixBelow("example.com");
  for (const auto& s : v) {
    const bool in = EncodeSubjectKey(s).starts_with(below);
    const bool expect = s.kind == Subject::Kind::kName &&
                        (s.name == "example.com" || s.name.ends_with(".example.com"));
    EXPECT_EQ(in, expect) << s.ToString();
  }
}

}  // namespace
}  // namespace meshbl::feed
