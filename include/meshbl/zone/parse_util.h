// Token parsers for rbldnsd data files (reference/rbldnsd.md §2-§4): IPv4
// prefixes, CIDRs and ranges, IPv6 prefixes, A+TXT values, time values and
// $TIMESTAMP dates. Each parser takes a string_view, never reads past its
// end, and reports where it stopped through `rest` so the caller can check
// what follows the token exactly as rbldnsd does.
//
// Public so that the feed layer's `load` parser (meshbl/feed/control.h)
// reads exactly the syntax the zone loader reads. Control plane only; allocation-free except where
// a std::string is produced (TXT values).
#ifndef MESHBL_ZONE_PARSE_UTIL_H_
#define MESHBL_ZONE_PARSE_UTIL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "meshbl/table/types.h"

namespace meshbl::zone {

using Ip6Addr = std::array<std::uint8_t, 16>;

// rbldnsd's whitespace is blank and tab only (`\r` is not, §2).
constexpr bool IsBlank(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool IsCommentChar(char c) noexcept { return c == '#' || c == ';'; }
constexpr bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

inline void SkipBlanks(std::string_view* s) noexcept {
  std::size_t i = 0;
  while (i < s->size() && IsBlank((*s)[i])) ++i;
  s->remove_prefix(i);
}

// True when what follows an address key is acceptable: end, blank, comment
// or ':' (the key may be followed directly by a value, §3).
constexpr bool IsValidKeyTail(std::string_view rest) noexcept {
  return rest.empty() || IsBlank(rest[0]) || IsCommentChar(rest[0]) || rest[0] == ':';
}

// Network mask with `bits` leading ones (0..32).
constexpr std::uint32_t Ip4Mask(int bits) noexcept {
  return bits <= 0 ? 0u : bits >= 32 ? 0xffffffffu : ~0u << (32 - bits);
}

// ---- IPv4 (ip4parse.c semantics). All return a negative value on error;
// `rest` then points at the offending character.

// 1-4 dotted octets (0..255, leading zeros allowed): returns 8, 16, 24 or
// 32 and the address left-aligned (`10.2` -> 10.2.0.0).
int ParseIp4Prefix(std::string_view s, std::uint32_t* addr, std::string_view* rest) noexcept;
// A prefix (2-4 octets) or `prefix/len` (len 0..32, prefix 1-4 octets).
// Returns the length; host bits are left as written.
int ParseIp4Cidr(std::string_view s, std::uint32_t* addr, std::string_view* rest) noexcept;
// ip4set key (§4.1): prefix, CIDR, `a-b` range with the same number of
// octets, or a suffix range `a.b.c.d-e` / `127.16-31`. Returns the CIDR
// length (prefix or /len form) or 32 for a range; `*first` may have host
// bits set, `*last` is the inclusive end.
int ParseIp4Range(std::string_view s, std::uint32_t* first, std::uint32_t* last,
                  std::string_view* rest) noexcept;
// inet_aton style (§3): `2` -> 0.0.0.2, `10.2` -> 10.0.0.2, `10.0.2` ->
// 10.0.0.2. Returns the number of bits given (8..32) or negative.
int ParseIp4Addr(std::string_view s, std::uint32_t* addr, std::string_view* rest) noexcept;

// ---- IPv6 (ip6addr.c semantics, §4.4).

// 1-8 hex groups with at most one `::`. Returns 16 * groups, or 128 when
// `::` was used; parsing stops after 8 groups (the rest is left in `rest`).
int ParseIp6Prefix(std::string_view s, Ip6Addr* addr, std::string_view* rest) noexcept;
// A prefix or `prefix/len` (len <= 128); a single bare group is invalid.
int ParseIp6Cidr(std::string_view s, Ip6Addr* addr, std::string_view* rest) noexcept;
// Clears the bits after `bits`; returns true when any of them was set.
bool MaskIp6(Ip6Addr* addr, int bits) noexcept;

// ---- A + TXT values (§3).

enum class ValueError {
  kNone,
  kInvalidA,      // "invalid A RR"
  kUnrecognized,  // "unrecognized value for an entry"
};

// Parses a value `s` that starts at its first non-blank character and is
// not empty: `:A:text`, `:A:`, `:A` or `text`. `scope_default` supplies the
// A of the text form and the TXT of the `:A` form. `*truncated` is set when
// the TXT was cut to 255 bytes.
ValueError ParseValue(std::string_view s, const table::Value& scope_default, table::Value* out,
                      bool* truncated);
std::string_view ValueErrorText(ValueError e) noexcept;

// ---- Numbers, time values, names.

// Decimal digits (no overflow past 2^32-1), then end or blanks (skipped).
bool ParseUint32(std::string_view* s, std::uint32_t* out) noexcept;
// Digits with an optional unit s/m/h/d/w (either case); then end, ':' (left
// in place) or blanks (skipped).
bool ParseTime(std::string_view* s, std::uint32_t* out) noexcept;
// A TTL as rbldnsd's parse_ttl: a time value; 0 -> `zero_ttl`; non-zero
// clamped to [min_ttl, max_ttl] where each bound applies only when non-zero.
bool ParseTtl(std::string_view* s, std::uint32_t zero_ttl, std::uint32_t min_ttl,
              std::uint32_t max_ttl, std::uint32_t* out) noexcept;
// `$TIMESTAMP` date: `YYYY[:-]MM[:-]DD[[:-]hh[[:-]mi[[:-]ss]]]` (UTC), or
// `0` / `-` / `:` for none (0). Then end or blanks (skipped).
bool ParseTimestamp(std::string_view* s, std::int64_t* out) noexcept;

// Takes the next blank-delimited word of `*s` (advancing past it and the
// blanks after it) and parses it as a domain name (dns_ptodn syntax). With
// `lowercase` false the case is kept (generic MX hosts). Returns false for
// an empty word or a malformed name. `out` receives the label sequence.
bool ParseDomainWord(std::string_view* s, bool lowercase, std::string* out);

// Case-insensitive match of keyword `word_lc` (lowercase) at the start of
// `line` followed by a blank; on success advances `*rest` past the blanks
// after it (rbldnsd's firstword_lc).
bool FirstWord(std::string_view line, std::string_view word_lc, std::string_view* rest) noexcept;

}  // namespace meshbl::zone

#endif  // MESHBL_ZONE_PARSE_UTIL_H_
