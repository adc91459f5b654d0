#include "meshbl/feed/entry.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace meshbl::feed {
namespace {

// Every IPv4 and IPv6 prefix length, on random networks: the text form
// round-trips and host bits are refused.
TEST(SubjectTest, IpRoundTripsAtEveryLength) {
  std::mt19937_64 rng(7);
  for (int fam = 4; fam <= 6; fam += 2) {
    const std::size_t bits = fam == 4 ? 32 : 128;
    for (std::size_t len = 0; len <= bits; ++len) {
      for (int k = 0; k < 20; ++k) {
        const dns::IpAddress a = fam == 4 ? dns::IpAddress::V4(static_cast<std::uint32_t>(rng()))
                                          : dns::IpAddress::V6(rng(), rng());
        const Subject s = Subject::Ip(a, len);
        auto back = Subject::Parse(s.ToString());
        ASSERT_TRUE(back.ok()) << s.ToString() << ": " << back.status();
        EXPECT_EQ(*back, s) << s.ToString();
        EXPECT_TRUE(s.Covers(Subject::Ip(a, bits)));
        if (!(a.Masked(len) == a)) {
          const std::string with_host = a.ToString() + "/" + std::to_string(len);
          EXPECT_FALSE(Subject::Parse(with_host).ok()) << with_host;
        }
      }
    }
    const std::string over = (fam == 4 ? std::string("10.0.0.0/") : std::string("2001:db8::/")) +
                             std::to_string(bits + 1);
    auto st = Subject::Parse(over);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.status().message().find("prefix length above"), std::string::npos);
  }
}

TEST(SubjectTest, NamesAndWildcards) {
  auto s = Subject::Parse("Mail.Example.COM.");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, Subject::Kind::kName);
  EXPECT_EQ(s->ToString(), "mail.example.com");
  auto w = Subject::Parse(".example.com");
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->wildcard);
  EXPECT_EQ(*Subject::Parse("*.example.com"), *w);
  EXPECT_TRUE(w->Covers(*s));
  EXPECT_TRUE(w->Covers(*Subject::Parse("example.com")));
  EXPECT_FALSE(s->Covers(*w));
  EXPECT_FALSE(w->Covers(*Subject::Parse("badexample.com")));
  // Every byte that cannot be in a name is refused with its code.
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    std::string text = std::string("a") + c + "b.example";
    const bool bad =
        b <= 0x20 || b >= 0x7f || c == '/' || c == '\\' || c == ';' || c == '"' || c == '.';
    if (c == '.' || c == ':') continue;  // a.b.example is fine; ':' reads as IPv6
    EXPECT_EQ(Subject::Parse(text).ok(), !bad) << b;
  }
  EXPECT_FALSE(Subject::Parse("a..b").ok());
  EXPECT_FALSE(Subject::Parse(std::string(64, 'a') + ".example").ok());
  EXPECT_TRUE(Subject::Parse(std::string(63, 'a') + ".example").ok());
}

// Digits and dots that are not an address read as a name and round-trip
// (the control fuzzer found "1.2." printing as "1.2", which did not parse);
// a dotted quad that is not an address stays an error.
TEST(SubjectTest, NumericNamesRoundTrip) {
  for (const char* text : {"1.2.", "1.2", ".1.2", "10.in-addr.example", "1.2.3"}) {
    auto s = Subject::Parse(text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.status();
    EXPECT_EQ(s->kind, Subject::Kind::kName) << text;
    auto back = Subject::Parse(s->ToString());
    ASSERT_TRUE(back.ok()) << s->ToString() << ": " << back.status();
    EXPECT_EQ(*back, *s) << text;
  }
  for (const char* text : {"192.0.2.300", "1.2.3/8", "1:2:3"}) {
    EXPECT_FALSE(Subject::Parse(text).ok()) << text;
  }
}

TEST(TrapHashTest, CaseInsensitiveAndDistinct) {
  EXPECT_EQ(HashTrapAddress("Trap@Example.ORG"), HashTrapAddress("trap@example.org"));
  EXPECT_NE(HashTrapAddress("trap1@example.org"), HashTrapAddress("trap2@example.org"));
}

}  // namespace
}  // namespace meshbl::feed
