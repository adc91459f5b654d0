// rbldnsd's time values, shared by meshbld's options (-t, -c, ...) and the
// control protocol's ttl=: digits and an optional unit s, m, h, d or w
// (either case); no unit means seconds. The live-list TOML file has its own,
// stricter durations (feed/config.h: a unit required, sums allowed).
#ifndef MESHBL_UTIL_TIME_VALUE_H_
#define MESHBL_UTIL_TIME_VALUE_H_

#include <cstdint>
#include <string_view>

namespace meshbl::util {

// The seconds `s` names, or false when it is malformed or has more than
// `max_digits` digits (at most 12: the result then fits, weeks included).
inline bool ParseTimeValue(std::string_view s, std::size_t max_digits, std::uint64_t* seconds) {
  std::uint64_t mult = 1;
  if (!s.empty()) {
    switch (s.back() | 0x20) {  // either case
      case 's':
        mult = 1;
        break;
      case 'm':
        mult = 60;
        break;
      case 'h':
        mult = 3600;
        break;
      case 'd':
        mult = 86400;
        break;
      case 'w':
        mult = 7 * 86400;
        break;
      default:
        mult = 0;
        break;
    }
    if (mult != 0) s.remove_suffix(1);
  }
  if (mult == 0) mult = 1;
  if (max_digits > 12) max_digits = 12;
  if (s.empty() || s.size() > max_digits) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *seconds = v * mult;
  return true;
}

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_TIME_VALUE_H_
