// Allocation-free IP address formatting for TXT `$` substitution, dumps,
// tools and the query log. IPv6 text follows RFC 5952 (lowercase, longest
// run of two or more zero groups compressed, first run on a tie).
#ifndef MESHBL_TABLE_IP_TEXT_H_
#define MESHBL_TABLE_IP_TEXT_H_

#include <cstddef>
#include <cstdint>

namespace meshbl::table {

inline constexpr std::size_t kMaxIpText = 40;

// Writes dotted-quad text; returns its length (at most 15).
inline std::size_t FormatIp4(std::uint32_t a, char* out) noexcept {
  std::size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    unsigned o = (a >> shift) & 0xff;
    if (o >= 100) out[n++] = static_cast<char>('0' + o / 100);
    if (o >= 10) out[n++] = static_cast<char>('0' + (o / 10) % 10);
    out[n++] = static_cast<char>('0' + o % 10);
    if (shift) out[n++] = '.';
  }
  return n;
}

// Writes `octets` (1..3) leading octets of `a` ("10.1" for 2).
inline std::size_t FormatIp4Prefix(std::uint32_t a, int octets, char* out) noexcept {
  char buf[16];
  std::size_t len = FormatIp4(a, buf);
  std::size_t n = 0;
  int dots = 0;
  for (std::size_t i = 0; i < len; ++i) {
    if (buf[i] == '.' && ++dots == octets) break;
    out[n++] = buf[i];
  }
  return n;
}

// Writes RFC 5952 text for 16 network-order bytes; returns its length.
inline std::size_t FormatIp6(const std::uint8_t* b, char* out) noexcept {
  unsigned g[8];
  for (int i = 0; i < 8; ++i) g[i] = (unsigned{b[2 * i]} << 8) | b[2 * i + 1];
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out[n++] = ':';
      if (i == 0) out[n++] = ':';
      i += best_len - 1;
      continue;
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned d = (g[i] >> shift) & 0xf;
      if (d || started || shift == 0) {
        out[n++] = kHex[d];
        started = true;
      }
    }
    if (i != 7) out[n++] = ':';
  }
  return n;
}

// Writes `b` as inet_ntop(AF_INET6) and getnameinfo(NI_NUMERICHOST) do,
// i.e. as rbldnsd's query log shows clients: FormatIp6, except that a
// v4-mapped address (::ffff:a.b.c.d) and an IPv4-compatible one (::a.b.c.d,
// not :: or ::x) end in a dotted quad. At most kMaxIpText - 1 bytes.
inline std::size_t FormatIp6Client(const std::uint8_t* b, char* out) noexcept {
  bool zero80 = true;  // the first 80 bits are zero
  for (int i = 0; i < 10; ++i) zero80 = zero80 && b[i] == 0;
  const bool mapped = zero80 && b[10] == 0xff && b[11] == 0xff;
  const bool compat = zero80 && b[10] == 0 && b[11] == 0 && (b[12] != 0 || b[13] != 0);
  if (!mapped && !compat) return FormatIp6(b, out);
  std::size_t n = 0;
  for (const char* p = mapped ? "::ffff:" : "::"; *p != 0; ++p) out[n++] = *p;
  const std::uint32_t a = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                          (std::uint32_t{b[14]} << 8) | b[15];
  return n + FormatIp4(a, out + n);
}

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_IP_TEXT_H_
