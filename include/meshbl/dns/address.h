// IpAddress: an IPv4 or IPv6 address as a value (family + 16 bytes in
// network order), with the conversions every layer needs: text (RFC 5952
// output, as inet_ntop writes it), the (hi, lo) 64-bit pair the tables key
// IPv6 by, the host-order uint32 they key IPv4 by, sockaddr, and prefix
// masking.
//
// Everything but ToString() is noexcept and allocation-free, so the hot
// path can use it.
#ifndef MESHBL_DNS_ADDRESS_H_
#define MESHBL_DNS_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace meshbl::dns {

class IpAddress {
 public:
  enum class Family : std::uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

  // Longest text Format() writes, without a terminating NUL
  // ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is 45).
  static constexpr std::size_t kMaxText = 45;

  constexpr IpAddress() noexcept = default;

  // `host_order`: 127.0.0.1 is 0x7f000001.
  static constexpr IpAddress V4(std::uint32_t host_order) noexcept {
    IpAddress a;
    a.family_ = Family::kV4;
    for (std::size_t i = 0; i < 4; ++i) {
      a.bytes_[i] = static_cast<std::uint8_t>(host_order >> (24 - 8 * i));
    }
    return a;
  }
  static constexpr IpAddress V6(std::span<const std::uint8_t, 16> b) noexcept {
    IpAddress a;
    a.family_ = Family::kV6;
    for (std::size_t i = 0; i < 16; ++i) a.bytes_[i] = b[i];
    return a;
  }
  // `hi` holds bytes 0..7 (the first byte in its top bits), `lo` 8..15.
  static constexpr IpAddress V6(std::uint64_t hi, std::uint64_t lo) noexcept {
    IpAddress a;
    a.family_ = Family::kV6;
    for (std::size_t i = 0; i < 8; ++i) {
      a.bytes_[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
      a.bytes_[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
    }
    return a;
  }

  // Dotted quad or any IPv6 text inet_pton accepts (no zone id, no prefix).
  static std::optional<IpAddress> Parse(std::string_view text) noexcept;
  // AF_INET or AF_INET6; nullopt for anything else or a short `len`.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* sa, socklen_t len) noexcept;

  constexpr Family family() const noexcept { return family_; }
  constexpr bool is_v4() const noexcept { return family_ == Family::kV4; }
  constexpr bool is_v6() const noexcept { return family_ == Family::kV6; }
  // 4 or 16 (0 for none).
  constexpr std::size_t size() const noexcept {
    return family_ == Family::kV4 ? 4 : family_ == Family::kV6 ? 16 : 0;
  }
  constexpr std::size_t bits() const noexcept { return size() * 8; }
  // The address bytes, network order: size() of them.
  constexpr std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.data(), size()}; }

  // IPv4, host order (0 unless is_v4()).
  constexpr std::uint32_t v4() const noexcept {
    if (!is_v4()) return 0;
    return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
           (std::uint32_t{bytes_[2]} << 8) | bytes_[3];
  }
  // IPv6 halves (0 unless is_v6()).
  constexpr std::uint64_t hi() const noexcept { return is_v6() ? Half(0) : 0; }
  constexpr std::uint64_t lo() const noexcept { return is_v6() ? Half(8) : 0; }

  // ::ffff:a.b.c.d
  constexpr bool IsV4Mapped() const noexcept {
    if (!is_v6()) return false;
    for (std::size_t i = 0; i < 10; ++i) {
      if (bytes_[i] != 0) return false;
    }
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
  }
  // The IPv4 address inside a v4-mapped one; itself otherwise.
  constexpr IpAddress Unmapped() const noexcept {
    if (!IsV4Mapped()) return *this;
    IpAddress a;
    a.family_ = Family::kV4;
    for (std::size_t i = 0; i < 4; ++i) a.bytes_[i] = bytes_[12 + i];
    return a;
  }

  // The first `prefix` bits kept, the rest zero; `prefix` is clamped to
  // bits().
  constexpr IpAddress Masked(std::size_t prefix) const noexcept {
    IpAddress a = *this;
    for (std::size_t i = 0; i < 16; ++i) {
      const std::size_t first = i * 8;
      if (prefix <= first) {
        a.bytes_[i] = 0;
      } else if (prefix < first + 8) {
        a.bytes_[i] = static_cast<std::uint8_t>(a.bytes_[i] & (0xff00u >> (prefix - first)));
      }
    }
    return a;
  }

  // Writes the text form into `out` (no NUL); returns its length, 0 when
  // `out` is too small or there is no address. IPv4 is a dotted quad, IPv6
  // RFC 5952 as inet_ntop writes it (lower case, longest zero run "::",
  // ::ffff:a.b.c.d).
  std::size_t Format(std::span<char> out) const noexcept;
  std::string ToString() const;

  // Fills `out` (port in host order); returns the length to pass to bind or
  // sendto, 0 for no address.
  socklen_t ToSockaddr(std::uint16_t port, sockaddr_storage* out) const noexcept;

  friend constexpr bool operator==(const IpAddress&, const IpAddress&) noexcept = default;

 private:
  constexpr std::uint64_t Half(std::size_t at) const noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | bytes_[at + i];
    return v;
  }

  Family family_ = Family::kNone;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 in the first 4, the rest 0
};

}  // namespace meshbl::dns

#endif  // MESHBL_DNS_ADDRESS_H_
