#include "meshbl/zone/parse_util.h"

#include <cstring>

#include "meshbl/dns/name.h"

namespace meshbl::zone {
namespace {

constexpr std::uint32_t kLoopbackNet = 0x7f000000u;  // 127.0.0.0
constexpr std::size_t kMaxTxt = 255;

int HexNibble(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::uint32_t DigitValue(char c) noexcept { return static_cast<std::uint32_t>(c - '0'); }

// `/len` digits after the slash for IPv4: 0..32.
int ParseMaskBits(std::string_view s, int max, std::string_view* rest) noexcept {
  std::size_t i = 0;
  if (s.empty() || !IsDigit(s[0])) {
    *rest = s;
    return -1;
  }
  int bits = s[i++] - '0';
  while (i < s.size() && IsDigit(s[i])) {
    bits = bits * 10 + (s[i++] - '0');
    if (bits > max) {
      *rest = s.substr(i - 1);
      return -1;
    }
  }
  *rest = s.substr(i);
  return bits;
}

// One `$TIMESTAMP` field of at most `width` digits within [lo, hi],
// followed by an optional ':' or '-' separator.
bool ParseStampField(std::string_view* s, unsigned lo, unsigned hi, int width, unsigned* out) {
  std::size_t i = 0;
  if (s->empty() || !IsDigit((*s)[0])) return false;
  unsigned n = 0;
  do {
    n = n * 10 + DigitValue((*s)[i++]);
  } while (i < s->size() && IsDigit((*s)[i]) && --width > 0);
  if (n < lo || n > hi) return false;
  if (i < s->size() && ((*s)[i] == ':' || (*s)[i] == '-')) ++i;
  s->remove_prefix(i);
  *out = n;
  return true;
}

bool IsLeap(unsigned y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

int ParseIp4Prefix(std::string_view s, std::uint32_t* addr, std::string_view* rest) noexcept {
  *addr = 0;
  std::size_t i = 0;
  for (int oct = 0;; ++oct) {
    if (i >= s.size() || !IsDigit(s[i])) {
      *rest = s.substr(i);
      return -1;
    }
    std::uint32_t o = DigitValue(s[i++]);
    while (i < s.size() && IsDigit(s[i])) {
      o = o * 10 + DigitValue(s[i++]);
      if (o > 255) {
        *rest = s.substr(i - 1);
        return -1;
      }
    }
    *addr |= o << (24 - 8 * oct);
    if (oct == 3 || i >= s.size() || s[i] != '.') {
      *rest = s.substr(i);
      return 8 * (oct + 1);
    }
    ++i;  // the dot
  }
}

int ParseIp4Cidr(std::string_view s, std::uint32_t* addr, std::string_view* rest) noexcept {
  std::string_view r;
  int bits = ParseIp4Prefix(s, addr, &r);
  if (bits < 0) {
    *rest = r;
    return -1;
  }
  if (!r.empty() && r[0] == '/') return ParseMaskBits(r.substr(1), 32, rest);
  *rest = r;
  if (bits == 8) return -1;  // a bare number is not a prefix
  return bits;
}

int ParseIp4Range(std::string_view s, std::uint32_t* first, std::uint32_t* last,
                  std::string_view* rest) noexcept {
  std::string_view r;
  int bits = ParseIp4Prefix(s, first, &r);
  if (bits < 0) {
    *rest = r;
    return -1;
  }
  if (!r.empty() && r[0] == '-') {
    int bbits = ParseIp4Prefix(r.substr(1), last, &r);
    *rest = r;
    if (bbits < 0) return -1;
    if (bbits == 8) {
      // `192.168.5.1-7`: the end replaces the last given octet.
      *last = (*last >> (bits - 8)) | (*first & Ip4Mask(bits - 8));
      bbits = bits;
    } else if (bbits != bits) {
      return -1;  // `1.2-1.2.3.4`
    }
    if (bbits != 32) *last |= ~Ip4Mask(bbits);
    if (*first > *last) return -1;
    return 32;
  }
  if (!r.empty() && r[0] == '/') {
    bits = ParseMaskBits(r.substr(1), 32, &r);
    if (bits < 0) {
      *rest = r;
      return -1;
    }
  } else if (bits == 8) {
    *rest = r;
    return -1;
  }
  *rest = r;
  *last = *first | ~Ip4Mask(bits);
  return bits;
}

int ParseIp4Addr(std::string_view s, std::uint32_t* addr, std::string_view* rest) noexcept {
  int bits = ParseIp4Prefix(s, addr, rest);
  std::uint32_t a = *addr;
  switch (bits) {
    case 8:
      *addr = a >> 24;
      break;
    case 16:
      *addr = (a & 0xff000000u) | ((a >> 16) & 255u);
      break;
    case 24:
      *addr = (a & 0xffff0000u) | ((a >> 8) & 255u);
      break;
    default:
      break;
  }
  return bits;
}

int ParseIp6Prefix(std::string_view s, Ip6Addr* addr, std::string_view* rest) noexcept {
  addr->fill(0);
  std::size_t i = 0;
  unsigned bytes = 0;
  int zstart = -1;
  int ret = -1;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    zstart = 0;
    i = 2;
  }
  for (;;) {
    unsigned v = 0;
    const std::size_t start = i;
    while (i < s.size()) {
      int nibble = HexNibble(s[i]);
      if (nibble < 0) break;
      v = (v << 4) + static_cast<unsigned>(nibble);
      if (v > 0xffff) break;
      ++i;
    }
    if (start == i || v > 0xffff) break;
    (*addr)[bytes++] = static_cast<std::uint8_t>(v >> 8);
    (*addr)[bytes++] = static_cast<std::uint8_t>(v & 0xff);
    if (i >= s.size() || s[i] != ':' || bytes + 2 > 16) {
      ret = static_cast<int>(bytes * 8);
      break;
    }
    ++i;
    if (zstart < 0 && i < s.size() && s[i] == ':') {
      zstart = static_cast<int>(bytes);
      ++i;
    }
  }
  if (zstart >= 0) {
    const unsigned nzeros = 16 - bytes;
    if (nzeros == 0) {
      ret = -1;
    } else {
      const auto z = static_cast<unsigned>(zstart);
      std::memmove(addr->data() + z + nzeros, addr->data() + z, bytes - z);
      std::memset(addr->data() + z, 0, nzeros);
      ret = 128;
    }
  }
  *rest = s.substr(i);
  return ret;
}

int ParseIp6Cidr(std::string_view s, Ip6Addr* addr, std::string_view* rest) noexcept {
  std::string_view r;
  int bits = ParseIp6Prefix(s, addr, &r);
  if (bits >= 0 && !r.empty() && r[0] == '/') {
    return ParseMaskBits(r.substr(1), 128, rest);
  }
  *rest = r;
  if (bits == 16) return -1;  // a bare group is not a prefix
  return bits;
}

bool MaskIp6(Ip6Addr* addr, int bits) noexcept {
  bool host = false;
  auto i = static_cast<std::size_t>(bits / 8);
  const int rem = bits % 8;
  if (i < 16 && rem != 0) {
    const auto keep = static_cast<std::uint8_t>(0xff << (8 - rem));
    if (((*addr)[i] & static_cast<std::uint8_t>(~keep)) != 0) host = true;
    (*addr)[i] &= keep;
    ++i;
  }
  for (; i < 16; ++i) {
    if ((*addr)[i] != 0) host = true;
    (*addr)[i] = 0;
  }
  return host;
}

ValueError ParseValue(std::string_view s, const table::Value& scope_default, table::Value* out,
                      bool* truncated) {
  *truncated = false;
  std::string_view text;
  if (!s.empty() && s[0] == ':') {
    std::uint32_t a = 0;
    std::string_view r;
    int bits = ParseIp4Addr(s.substr(1), &a, &r);
    if (bits <= 0 || a == 0) return ValueError::kInvalidA;
    if (bits == 8) a |= kLoopbackNet;  // `:2` = 127.0.0.2
    SkipBlanks(&r);
    if (r.empty()) {  // `:A`: TXT of the scope default
      out->a = a;
      out->txt = scope_default.txt;
      return ValueError::kNone;
    }
    if (r[0] != ':') return ValueError::kUnrecognized;
    r.remove_prefix(1);
    SkipBlanks(&r);
    out->a = a;
    text = r;
  } else {
    out->a = scope_default.a;
    text = s;
  }
  if (text.size() > kMaxTxt) {
    text = text.substr(0, kMaxTxt);
    *truncated = true;
  }
  if (text.empty()) {
    out->txt.reset();
  } else {
    out->txt.emplace(text);
  }
  return ValueError::kNone;
}

std::string_view ValueErrorText(ValueError e) noexcept {
  switch (e) {
    case ValueError::kInvalidA:
      return "invalid A RR";
    case ValueError::kUnrecognized:
      return "unrecognized value for an entry";
    case ValueError::kNone:
      break;
  }
  return "";
}

namespace {
bool ParseDigits(std::string_view* s, std::uint32_t* out) noexcept {
  std::size_t i = 0;
  if (s->empty() || !IsDigit((*s)[0])) return false;
  std::uint32_t n = 0;
  do {
    const std::uint32_t d = DigitValue((*s)[i]);
    if (n > 0xffffffffu / 10) return false;
    if (n * 10 > 0xffffffffu - d) return false;
    n = n * 10 + d;
    ++i;
  } while (i < s->size() && IsDigit((*s)[i]));
  s->remove_prefix(i);
  *out = n;
  return true;
}
}  // namespace

bool ParseUint32(std::string_view* s, std::uint32_t* out) noexcept {
  std::string_view t = *s;
  if (!ParseDigits(&t, out)) return false;
  if (!t.empty()) {
    if (!IsBlank(t[0])) return false;
    SkipBlanks(&t);
  }
  *s = t;
  return true;
}

bool ParseTime(std::string_view* s, std::uint32_t* out) noexcept {
  std::string_view t = *s;
  std::uint32_t v = 0;
  if (!ParseDigits(&t, &v)) return false;
  if (!t.empty()) {
    std::uint32_t m = 0;
    switch (t[0]) {
      case 's':
      case 'S':
        m = 1;
        break;
      case 'm':
      case 'M':
        m = 60;
        break;
      case 'h':
      case 'H':
        m = 3600;
        break;
      case 'd':
      case 'D':
        m = 86400;
        break;
      case 'w':
      case 'W':
        m = 604800;
        break;
      default:
        break;
    }
    if (m != 0) {
      if (0xffffffffu / m < v) return false;
      v *= m;
      t.remove_prefix(1);
    }
  }
  if (!t.empty() && t[0] != ':') {
    if (!IsBlank(t[0])) return false;
    SkipBlanks(&t);
  }
  *s = t;
  *out = v;
  return true;
}

bool ParseTtl(std::string_view* s, std::uint32_t zero_ttl, std::uint32_t min_ttl,
              std::uint32_t max_ttl, std::uint32_t* out) noexcept {
  std::uint32_t t = 0;
  if (!ParseTime(s, &t)) return false;
  if (t == 0) {
    t = zero_ttl;
  } else if (min_ttl != 0 && t < min_ttl) {
    t = min_ttl;
  } else if (max_ttl != 0 && t > max_ttl) {
    t = max_ttl;
  }
  *out = t;
  return true;
}

bool ParseTimestamp(std::string_view* s, std::int64_t* out) noexcept {
  std::string_view t = *s;
  if (!t.empty() && (t[0] == '0' || t[0] == '-' || t[0] == ':') &&
      (t.size() == 1 || IsBlank(t[1]))) {
    t.remove_prefix(1);
    SkipBlanks(&t);
    *s = t;
    *out = 0;
    return true;
  }
  static constexpr unsigned kMonthDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!ParseStampField(&t, 1970, 2038, 4, &year)) return false;
  if (!ParseStampField(&t, 1, 12, 2, &mon)) return false;
  const unsigned mday = (mon == 2 && IsLeap(year)) ? 29 : kMonthDays[mon - 1];
  if (!ParseStampField(&t, 1, mday, 2, &day)) return false;
  if (!t.empty() && !IsBlank(t[0]) && !ParseStampField(&t, 0, 23, 2, &hour)) return false;
  if (!t.empty() && !IsBlank(t[0]) && !ParseStampField(&t, 0, 59, 2, &min)) return false;
  if (!t.empty() && !IsBlank(t[0]) && !ParseStampField(&t, 0, 59, 2, &sec)) return false;
  if (!t.empty()) {
    if (!IsBlank(t[0])) return false;
    SkipBlanks(&t);
  }
  *s = t;
  *out = ((DaysFromCivil(year, mon, day) * 24 + hour) * 60 + min) * 60 + sec;
  return true;
}

bool ParseDomainWord(std::string_view* s, bool lowercase, std::string* out) {
  std::size_t n = 0;
  while (n < s->size() && !IsBlank((*s)[n])) ++n;
  std::string_view word = s->substr(0, n);
  s->remove_prefix(n);
  SkipBlanks(s);
  if (word.empty()) return false;
  std::uint8_t buf[dns::kMaxLabels];
  int len = dns::ParseName(word, buf, lowercase);
  if (len < 0) return false;
  out->assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  return true;
}

bool FirstWord(std::string_view line, std::string_view word_lc, std::string_view* rest) noexcept {
  if (line.size() <= word_lc.size()) return false;
  for (std::size_t i = 0; i < word_lc.size(); ++i) {
    if (static_cast<char>(dns::ToLowerAscii(static_cast<std::uint8_t>(line[i]))) != word_lc[i]) {
      return false;
    }
  }
  if (!IsBlank(line[word_lc.size()])) return false;
  line.remove_prefix(word_lc.size());
  SkipBlanks(&line);
  *rest = line;
  return true;
}

}  // namespace meshbl::zone
