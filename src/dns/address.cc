#include "meshbl/dns/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace meshbl::dns {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) noexcept {
  // inet_pton wants a NUL-terminated string; the longest valid text fits.
  char buf[kMaxText + 1];
  if (text.empty() || text.size() > kMaxText ||
      std::memchr(text.data(), '\0', text.size()) != nullptr) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::uint8_t b[16];
  if (inet_pton(AF_INET, buf, b) == 1) {
    return V4((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
              (std::uint32_t{b[2]} << 8) | b[3]);
  }
  if (inet_pton(AF_INET6, buf, b) == 1) return V6(std::span<const std::uint8_t, 16>(b));
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* sa, socklen_t len) noexcept {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof(sin));
    return V4(ntohl(sin.sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof(sin6));
    return V6(std::span<const std::uint8_t, 16>(sin6.sin6_addr.s6_addr));
  }
  return std::nullopt;
}

std::size_t IpAddress::Format(std::span<char> out) const noexcept {
  char buf[INET6_ADDRSTRLEN];
  const int af = is_v4() ? AF_INET : is_v6() ? AF_INET6 : AF_UNSPEC;
  if (af == AF_UNSPEC || inet_ntop(af, bytes_.data(), buf, sizeof(buf)) == nullptr) return 0;
  const std::size_t n = std::strlen(buf);
  if (n > out.size()) return 0;
  std::memcpy(out.data(), buf, n);
  return n;
}

std::string IpAddress::ToString() const {
  char buf[kMaxText];
  return std::string(buf, Format(buf));
}

socklen_t IpAddress::ToSockaddr(std::uint16_t port, sockaddr_storage* out) const noexcept {
  std::memset(out, 0, sizeof(*out));
  if (is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(v4());
    std::memcpy(out, &sin, sizeof(sin));
    return sizeof(sin);
  }
  if (is_v6()) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(sin6.sin6_addr.s6_addr, bytes_.data(), 16);
    std::memcpy(out, &sin6, sizeof(sin6));
    return sizeof(sin6);
  }
  return 0;
}

}  // namespace meshbl::dns
