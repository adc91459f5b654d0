// Listen addresses (rbldnsd's `-b addr[/port]`, reference/rbldnsd.md §1) and
// the sockets opened on them. Control plane only: every function may
// allocate and returns absl::Status errors naming the address.
#ifndef MESHBL_SERVER_LISTEN_H_
#define MESHBL_SERVER_LISTEN_H_

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshbl/table/query.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::server {

// rbldnsd binds at most 20 sockets.
inline constexpr std::size_t kMaxListenAddresses = 20;

// One socket address (IPv4 or IPv6). Value type.
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;

  int family() const noexcept { return addr.ss_family; }
  std::uint16_t port() const noexcept;  // host order
  void set_port(std::uint16_t port) noexcept;
  // "127.0.0.1/53", "::1/5353" (rbldnsd's -b syntax).
  std::string ToString() const;
  friend bool operator==(const ListenAddress& a, const ListenAddress& b) noexcept;
};

// Family hint of -4 / -6.
enum class FamilyHint : std::uint8_t { kAny, kV4, kV6 };

// Resolves one `-b` argument: `host[/port]`, port defaulting to 53 and
// allowed to be a service name, host a literal or a name (every
// getaddrinfo result is returned, in its order). Errors quote `spec`.
absl::StatusOr<std::vector<ListenAddress>> ResolveListenSpec(std::string_view spec,
                                                             FamilyHint hint = FamilyHint::kAny);

// Resolves every `-b` argument in order, dropping addresses already bound
// by an earlier one (rbldnsd's already_bound()); more than
// kMaxListenAddresses distinct addresses, or none, is an error.
absl::StatusOr<std::vector<ListenAddress>> ResolveListenSpecs(const std::vector<std::string>& specs,
                                                              FamilyHint hint = FamilyHint::kAny);

// The client address of a datagram or connection, for ACLs.
// Allocation-free; callable from workers.
table::ClientAddr ClientFromSockaddr(const sockaddr* sa) noexcept;

struct SocketOptions {
  bool reuse_port = true;   // SO_REUSEPORT (one socket per worker)
  bool nonblocking = true;  // O_NONBLOCK
  // UDP receive buffer. rbldnsd asks for 64 KiB; meshbld asks for 4 MiB
  // (SO_RCVBUFFORCE while privileged, else SO_RCVBUF up to net.core.rmem_max)
  // so that a burst or a descheduled worker does not drop queries: at 100k
  // q/s a 64 KiB buffer lost 0.1-0.3% of open-loop queries (PERFORMANCE.md).
  // 0 = leave the system default.
  int rcvbuf = 4 * 1024 * 1024;
  int backlog = 1024;  // listen() backlog (TCP)
};

// A bound UDP socket (IPV6_V6ONLY on IPv6 sockets). A failing SO_RCVBUF is
// ignored, as rbldnsd does.
absl::StatusOr<util::UniqueFd> OpenUdpSocket(const ListenAddress& a, const SocketOptions& o = {});
// A bound, listening TCP socket (SO_REUSEADDR, IPV6_V6ONLY on IPv6).
absl::StatusOr<util::UniqueFd> OpenTcpListener(const ListenAddress& a, const SocketOptions& o = {});
// getsockname() of `fd`.
absl::StatusOr<ListenAddress> LocalAddress(int fd);

}  // namespace meshbl::server

#endif  // MESHBL_SERVER_LISTEN_H_
