// dns/types.h: every RR type, class and rcode name round-trips, parsing is
// case-insensitive, unknown numbers print as dig/ldns (TYPEnnn, CLASSnnn,
// RCODEnnn) or as rbldnsd's query log does (typennn, classnnn, rcodennn,
// NOTIMPL), and nothing allocates. ldns is the independent reference for
// type and class names.
#include "meshbl/dns/types.h"

#include <ldns/ldns.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace meshbl::dns {
namespace {

static_assert(TypeName(kTypeTxt) == "TXT");
static_assert(TypeText(65280).view() == "TYPE65280");
static_assert(*TypeFromName("aaaa") == kTypeAaaa);
static_assert(RcodeName(Rcode::kNotImp, Spelling::kRbldnsdLog) == "NOTIMPL");

struct Free {
  void operator()(char* p) const { std::free(p); }
};

std::string LdnsType(std::uint16_t t) {
  std::unique_ptr<char, Free> s(ldns_rr_type2str(static_cast<ldns_rr_type>(t)));
  return s ? s.get() : "";
}
std::string LdnsClass(std::uint16_t c) {
  std::unique_ptr<char, Free> s(ldns_rr_class2str(static_cast<ldns_rr_class>(c)));
  return s ? s.get() : "";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

// Each letter's case flipped at random.
std::string MixCase(std::string s, std::mt19937* rng) {
  for (char& c : s) {
    if ((*rng)() % 2 == 0) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  }
  return s;
}

TEST(Types, EveryTypeRoundTripsAndMatchesLdns) {
  std::mt19937 rng(1);
  int named = 0;
  for (std::uint32_t v = 0; v <= 0xffff; ++v) {
    const auto t = static_cast<std::uint16_t>(v);
    const std::string text(TypeText(t).view());
    const std::string_view name = TypeName(t);
    if (!name.empty()) {
      ++named;
      EXPECT_EQ(text, name);
      EXPECT_EQ(name, LdnsType(t)) << "type " << v;
    } else {
      EXPECT_EQ(text, "TYPE" + std::to_string(v));
    }
    EXPECT_EQ(TypeFromName(text), t) << text;
    EXPECT_EQ(TypeFromName(Lower(text)), t) << text;
    EXPECT_EQ(TypeFromName(MixCase(text, &rng)), t) << text;
    EXPECT_EQ(TypeFromName("TYPE" + std::to_string(v)), t);
    // rbldnsd's log: the same mnemonics, lower-case numbered form.
    EXPECT_EQ(TypeText(t, Spelling::kRbldnsdLog).view(),
              name.empty() ? "type" + std::to_string(v) : std::string(name));
  }
  EXPECT_EQ(named, 27);  // rbldnsd's table
  // Every type meshbld stores or answers has a name.
  for (std::uint16_t t : {kTypeA, kTypeNs, kTypeSoa, kTypeMx, kTypeTxt, kTypeAaaa, kTypeAny,
                          kTypeOpt, kTypeTsig, kTypeAxfr}) {
    EXPECT_FALSE(TypeName(t).empty()) << t;
  }
}

TEST(Types, EveryClassRoundTripsAndMatchesLdns) {
  std::mt19937 rng(2);
  for (std::uint32_t v = 0; v <= 0xffff; ++v) {
    const auto c = static_cast<std::uint16_t>(v);
    const std::string text(ClassText(c).view());
    const std::string_view name = ClassName(c);
    if (!name.empty()) {
      EXPECT_EQ(name, LdnsClass(c)) << "class " << v;
    } else {
      EXPECT_EQ(text, "CLASS" + std::to_string(v));
    }
    EXPECT_EQ(ClassFromName(text), c) << text;
    EXPECT_EQ(ClassFromName(MixCase(text, &rng)), c) << text;
    EXPECT_EQ(ClassText(c, Spelling::kRbldnsdLog).view(),
              name.empty() ? "class" + std::to_string(v) : std::string(name));
  }
  EXPECT_EQ(ClassName(kClassIn), "IN");
  EXPECT_EQ(ClassName(kClassCh), "CH");
  EXPECT_EQ(ClassName(kClassHs), "HS");
  EXPECT_EQ(ClassName(kClassAny), "ANY");
}

TEST(Types, RcodesInBothSpellings) {
  const char* const kDig[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                              "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  std::mt19937 rng(3);
  for (std::uint16_t r = 0; r < 256; ++r) {
    const std::string text(RcodeText(r).view());
    if (r < std::size(kDig)) {
      EXPECT_EQ(text, kDig[r]);
      EXPECT_EQ(RcodeName(static_cast<Rcode>(r)), kDig[r]);
    } else {
      EXPECT_EQ(text, "RCODE" + std::to_string(r));
      EXPECT_TRUE(RcodeName(r).empty());
    }
    if (r < 16) {
      EXPECT_EQ(RcodeFromName(text), static_cast<Rcode>(r)) << text;
      EXPECT_EQ(RcodeFromName(MixCase(text, &rng)), static_cast<Rcode>(r)) << text;
      EXPECT_EQ(RcodeFromName("rcode" + std::to_string(r)), static_cast<Rcode>(r));
    } else {
      EXPECT_FALSE(RcodeFromName(text).has_value()) << text << ": not a 4-bit rcode";
    }
    // The query log's spelling: rbldnsd's table stops at REFUSED and says
    // NOTIMPL; everything else as "rcodeN".
    const std::string log(RcodeText(r, Spelling::kRbldnsdLog).view());
    if (r == 4) {
      EXPECT_EQ(log, "NOTIMPL");
    } else if (r < 6) {
      EXPECT_EQ(log, kDig[r]);
    } else {
      EXPECT_EQ(log, "rcode" + std::to_string(r));
    }
  }
  EXPECT_EQ(RcodeFromName("notimpl"), Rcode::kNotImp);
  EXPECT_EQ(RcodeFromName("NOTIMP"), Rcode::kNotImp);
}

TEST(Types, RejectsMalformedNames) {
  for (const char* s : {"", "TYPE", "TYPE65536", "TYPE99999", "TYPE123456", "TYPE-1", "TYPE+1",
                        "TYPE 1", " A", "A ", "AA", "TXT\n", "TYPE1x", "1", "CLASS1"}) {
    EXPECT_FALSE(TypeFromName(s).has_value()) << "[" << s << "]";
  }
  EXPECT_FALSE(TypeFromName(std::string_view("A\0", 2)).has_value());
  for (const char* s : {"", "CLASS", "CLASS65536", "INN", "IN ", "C H", "NONE", "TYPE1"}) {
    EXPECT_FALSE(ClassFromName(s).has_value()) << "[" << s << "]";
  }
  for (const char* s : {"", "RCODE", "RCODE16", "RCODE255", "NOERR", "NXDOMAINS", "BADVERS"}) {
    EXPECT_FALSE(RcodeFromName(s).has_value()) << "[" << s << "]";
  }
}

TEST(Types, LookupsAllocateNothing) {
  std::size_t sum = 0;
  const std::size_t before = meshbl::testing::AllocationCount();
  for (std::uint32_t v = 0; v <= 0xffff; v += 7) {
    const auto t = static_cast<std::uint16_t>(v);
    sum += TypeText(t, Spelling::kRbldnsdLog).view().size() + ClassText(t).view().size();
    sum += TypeFromName(TypeText(t).view()).value_or(0);
    sum += RcodeText(static_cast<std::uint16_t>(v % 16), Spelling::kRbldnsdLog).view().size();
  }
  EXPECT_EQ(meshbl::testing::AllocationCount(), before);
  EXPECT_GT(sum, 0u);
}

}  // namespace
}  // namespace meshbl::dns
