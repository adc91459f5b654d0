// Small text helpers of the trap parsers (std::string_view throughout:
// Debian's abseil has its own absl::string_view, so absl's string functions
// are not used on views here).
#ifndef MESHBL_SRC_FEED_TEXT_UTIL_H_
#define MESHBL_SRC_FEED_TEXT_UTIL_H_

#include <string>
#include <string_view>

namespace meshbl::feed::text {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
inline std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}
inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return TrimRight(s);
}
inline char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}
inline bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}
// `s` for an error message: at most 60 bytes, control and non-ASCII bytes
// as \xHH.
inline std::string Shown(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s.substr(0, 60)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  if (s.size() > 60) out += "...";
  return out;
}

}  // namespace meshbl::feed::text

#endif  // MESHBL_SRC_FEED_TEXT_UTIL_H_
