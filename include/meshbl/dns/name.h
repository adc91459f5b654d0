// Domain names in the form the data engine keys on: a sequence of
// length-prefixed labels *without* the terminating root label, lowercased.
// "www.Example.com." is stored as "\3www\7example\3com"; the root is the
// empty sequence. A suffix of such a sequence that starts on a label boundary
// is the name of an ancestor, so parents are found without copying.
//
// All functions are allocation-free unless they return std::string, and are
// safe to call from query workers.
#ifndef MESHBL_DNS_NAME_H_
#define MESHBL_DNS_NAME_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace meshbl::dns {

inline constexpr std::size_t kMaxNameWire = 255;  // incl. the root label, RFC 1035 3.1
inline constexpr std::size_t kMaxLabel = 63;
// Longest label sequence without the root byte.
inline constexpr std::size_t kMaxLabels = kMaxNameWire - 1;

constexpr std::uint8_t ToLowerAscii(std::uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + ('a' - 'A')) : c;
}

// Parses presentation text the way rbldnsd's zone files and command line do:
// `\c` and `\DDD` escapes, empty labels are skipped (so "a..b" == "a.b" and a
// trailing dot is ignored), labels longer than 63 or a total over 254 bytes
// fail. The result is lowercased unless `lowercase` is false (generic MX
// hosts keep their case). Returns the number of bytes written to `out` (which
// must hold kMaxLabels bytes), or -1 on a syntax error.
int ParseName(std::string_view text, std::uint8_t* out, bool lowercase = true) noexcept;

// Convenience wrapper returning the label sequence as bytes in a string, or
// std::nullopt-like empty optional on error. Control plane only.
bool ParseName(std::string_view text, std::string* out);

// Appends the presentation form of `labels` (no trailing dot; "." when empty
// is *not* produced: the empty name yields ""), escaping '.', '\\' and bytes
// outside 0x21..0x7e as rbldnsd does. Writes at most `cap` bytes into `out`
// and returns the full length the text needs (like snprintf).
std::size_t NameToText(std::span<const std::uint8_t> labels, char* out, std::size_t cap) noexcept;
std::string NameToText(std::span<const std::uint8_t> labels);
inline std::string NameToText(std::string_view labels) {
  return NameToText(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(labels.data()), labels.size()));
}

// Counts labels in a well-formed label sequence.
int CountLabels(std::span<const std::uint8_t> labels) noexcept;

// True when `labels` is a well-formed sequence (every length 1..63 and the
// lengths exactly cover the bytes).
bool IsWellFormed(std::span<const std::uint8_t> labels) noexcept;

// If `suffix` is `name` itself or the name of an ancestor of `name` (ends on a
// label boundary), returns the byte length of the prefix of `name` before it;
// otherwise -1. Both must be well formed and lowercased.
int SuffixOffset(std::span<const std::uint8_t> name, std::span<const std::uint8_t> suffix) noexcept;

}  // namespace meshbl::dns

#endif  // MESHBL_DNS_NAME_H_
