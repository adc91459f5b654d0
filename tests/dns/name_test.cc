// Name parsing and printing as rbldnsd's dns_ptodn/dns_dntop do.
#include "meshbl/dns/name.h"

#include <string>

#include "gtest/gtest.h"

namespace meshbl::dns {
namespace {

std::string Wire(const char* text) {
  std::string out;
  return ParseName(text, &out) ? out : std::string("<error>");
}

TEST(ParseName, LabelsLowercasedEmptyLabelsSkipped) {
  EXPECT_EQ(Wire("WWW.Example.com"), std::string("\3www\7example\3com"));
  EXPECT_EQ(Wire("a..b."), std::string("\1a\1b"));
  EXPECT_EQ(Wire(""), std::string(""));
  EXPECT_EQ(Wire("."), std::string(""));
}

TEST(ParseName, Escapes) {
  EXPECT_EQ(Wire("a\\.b.c"), std::string("\3a.b\1c"));
  EXPECT_EQ(Wire("\\065b"), std::string("\2ab"));  // \DDD, then lowercased
  EXPECT_EQ(Wire("\\256"), "<error>");
  EXPECT_EQ(Wire("ab\\"), "<error>");
  EXPECT_EQ(Wire("\\12"), "<error>");
}

TEST(ParseName, LengthLimits) {
  EXPECT_NE(Wire(std::string(63, 'a').c_str()), "<error>");
  EXPECT_EQ(Wire(std::string(64, 'a').c_str()), "<error>");
  std::string long_name;
  for (int i = 0; i < 63; ++i) long_name += "abc.";
  EXPECT_NE(Wire(long_name.c_str()), "<error>");  // 252 bytes of labels
  long_name += "abc";
  EXPECT_EQ(Wire(long_name.c_str()), "<error>");  // 256: over the 255-byte limit
}

TEST(NameToText, EscapesSpecialBytes) {
  EXPECT_EQ(NameToText(std::string_view("\3a.b\1c")), "a\\.b.c");
  EXPECT_EQ(NameToText(std::string_view("\2a \1c")), "a\\032.c");
  EXPECT_EQ(NameToText(std::string_view("")), "");
}

TEST(SuffixOffset, LabelBoundariesOnly) {
  auto s = [](const char* t) {
    std::string w;
    EXPECT_TRUE(ParseName(t, &w));
    return w;
  };
  auto off = [](const std::string& n, const std::string& suf) {
    return SuffixOffset({reinterpret_cast<const std::uint8_t*>(n.data()), n.size()},
                        {reinterpret_cast<const std::uint8_t*>(suf.data()), suf.size()});
  };
  EXPECT_EQ(off(s("a.bl.test"), s("bl.test")), 2);
  EXPECT_EQ(off(s("bl.test"), s("bl.test")), 0);
  EXPECT_EQ(off(s("xbl.test"), s("bl.test")), -1);
  EXPECT_EQ(off(s("test"), s("bl.test")), -1);
  EXPECT_EQ(off(s("a.b"), s("")), 4);
}

}  // namespace
}  // namespace meshbl::dns
