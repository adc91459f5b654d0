#include "meshbl/dns/name.h"

#include <cstring>

namespace meshbl::dns {

int ParseName(std::string_view text, std::uint8_t* out, bool lowercase) noexcept {
  std::size_t len = 0;    // bytes written
  std::size_t label = 0;  // index of the current label's length byte
  std::size_t llen = 0;   // length of the current label
  bool in_label = false;
  auto put = [&](std::uint8_t c) -> bool {
    if (!in_label) {
      if (len + 2 > kMaxLabels) return false;
      label = len++;
      llen = 0;
      in_label = true;
    }
    if (llen == kMaxLabel || len >= kMaxLabels) return false;
    out[len++] = lowercase ? ToLowerAscii(c) : c;
    ++llen;
    out[label] = static_cast<std::uint8_t>(llen);
    return true;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      in_label = false;
      continue;
    }
    if (c == '\\') {
      if (++i >= text.size()) return -1;
      char e = text[i];
      if (e >= '0' && e <= '9') {
        if (i + 2 >= text.size()) return -1;
        int v = 0;
        for (int k = 0; k < 3; ++k) {
          char d = text[i + static_cast<std::size_t>(k)];
          if (d < '0' || d > '9') return -1;
          v = v * 10 + (d - '0');
        }
        if (v > 255) return -1;
        i += 2;
        if (!put(static_cast<std::uint8_t>(v))) return -1;
      } else {
        if (!put(static_cast<std::uint8_t>(e))) return -1;
      }
      continue;
    }
    if (!put(static_cast<std::uint8_t>(c))) return -1;
  }
  return static_cast<int>(len);
}

bool ParseName(std::string_view text, std::string* out) {
  std::uint8_t buf[kMaxLabels];
  int n = ParseName(text, buf);
  if (n < 0) return false;
  out->assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  return true;
}

std::size_t NameToText(std::span<const std::uint8_t> labels, char* out, std::size_t cap) noexcept {
  std::size_t n = 0;
  auto emit = [&](char c) {
    if (n < cap) out[n] = c;
    ++n;
  };
  std::size_t i = 0;
  bool first = true;
  while (i < labels.size()) {
    std::size_t l = labels[i++];
    if (l > labels.size() - i) l = labels.size() - i;
    if (!first) emit('.');
    first = false;
    for (std::size_t k = 0; k < l; ++k) {
      std::uint8_t c = labels[i + k];
      if (c == '.' || c == '\\') {
        emit('\\');
        emit(static_cast<char>(c));
      } else if (c < 0x21 || c > 0x7e) {
        emit('\\');
        emit(static_cast<char>('0' + c / 100));
        emit(static_cast<char>('0' + (c / 10) % 10));
        emit(static_cast<char>('0' + c % 10));
      } else {
        emit(static_cast<char>(c));
      }
    }
    i += l;
  }
  return n;
}

std::string NameToText(std::span<const std::uint8_t> labels) {
  std::string s(NameToText(labels, nullptr, 0), '\0');
  NameToText(labels, s.data(), s.size());
  return s;
}

int CountLabels(std::span<const std::uint8_t> labels) noexcept {
  int n = 0;
  for (std::size_t i = 0; i < labels.size(); i += 1u + labels[i]) ++n;
  return n;
}

bool IsWellFormed(std::span<const std::uint8_t> labels) noexcept {
  if (labels.size() > kMaxLabels) return false;
  std::size_t i = 0;
  while (i < labels.size()) {
    std::size_t l = labels[i];
    if (l == 0 || l > kMaxLabel || l > labels.size() - i - 1) return false;
    i += 1 + l;
  }
  return true;
}

int SuffixOffset(std::span<const std::uint8_t> name,
                 std::span<const std::uint8_t> suffix) noexcept {
  if (suffix.size() > name.size()) return -1;
  std::size_t want = name.size() - suffix.size();
  std::size_t i = 0;
  while (i < want) i += 1u + name[i];
  if (i != want) return -1;
  if (suffix.empty()) return static_cast<int>(want);
  return std::memcmp(name.data() + want, suffix.data(), suffix.size()) == 0 ? static_cast<int>(want)
                                                                            : -1;
}

}  // namespace meshbl::dns
