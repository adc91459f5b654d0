// rbldnsd time values (util/time_value.h): every unit in either case, no
// unit, the digit cap, and what is refused.
#include "meshbl/util/time_value.h"

#include <string>

#include "gtest/gtest.h"

namespace meshbl::util {
namespace {

TEST(TimeValueTest, EveryUnitInEitherCase) {
  const struct {
    char unit;
    std::uint64_t seconds;
  } kUnits[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
  for (const auto& u : kUnits) {
    for (const char c : {u.unit, static_cast<char>(u.unit - 'a' + 'A')}) {
      std::uint64_t v = 0;
      ASSERT_TRUE(ParseTimeValue(std::string("7") + c, 12, &v)) << c;
      EXPECT_EQ(v, 7 * u.seconds) << c;
    }
  }
  std::uint64_t v = 0;
  ASSERT_TRUE(ParseTimeValue("90", 12, &v));
  EXPECT_EQ(v, 90u);
  ASSERT_TRUE(ParseTimeValue("0", 12, &v));
  EXPECT_EQ(v, 0u);
}

// Up to max_digits digits (never more than 12, so weeks of them fit).
TEST(TimeValueTest, DigitCap) {
  std::uint64_t v = 0;
  for (std::size_t n = 1; n <= 14; ++n) {
    const std::string digits(n, '9');
    EXPECT_EQ(ParseTimeValue(digits + "w", 10, &v), n <= 10) << n;
    EXPECT_EQ(ParseTimeValue(digits, 40, &v), n <= 12) << n;
  }
  ASSERT_TRUE(ParseTimeValue("999999999999w", 12, &v));
  EXPECT_EQ(v, 999999999999ULL * 604800);
}

TEST(TimeValueTest, Refused) {
  std::uint64_t v = 0;
  for (const char* bad :
       {"", "m", "W", "1x", "1hm", "-1", "+1", " 1", "1 ", "1.5h", "h1", "0x10"}) {
    EXPECT_FALSE(ParseTimeValue(bad, 12, &v)) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace meshbl::util
