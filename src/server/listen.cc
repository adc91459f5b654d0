#include "meshbl/server/listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "meshbl/dns/address.h"

namespace meshbl::server {

namespace {

absl::Status Errno(std::string_view what, const ListenAddress& a, int err) {
  return absl::InternalError(
      absl::StrCat(std::string(what), " ", a.ToString(), ": ", std::strerror(err)));
}

absl::StatusOr<util::UniqueFd> OpenSocket(const ListenAddress& a, int type,
                                          const SocketOptions& o) {
  int flags = SOCK_CLOEXEC | (o.nonblocking ? SOCK_NONBLOCK : 0);
  util::UniqueFd fd(::socket(a.family(), type | flags, 0));
  if (!fd.valid()) return Errno("socket", a, errno);
  int one = 1;
  if (type == SOCK_STREAM &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Errno("setsockopt(SO_REUSEADDR)", a, errno);
  }
  if (o.reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return Errno("setsockopt(SO_REUSEPORT)", a, errno);
  }
  if (a.family() == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return Errno("setsockopt(IPV6_V6ONLY)", a, errno);
  }
  if (type == SOCK_DGRAM && o.rcvbuf > 0) {
    // Beyond net.core.rmem_max only with CAP_NET_ADMIN; a failure is ignored,
    // as rbldnsd ignores its own.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &o.rcvbuf, sizeof(o.rcvbuf)) != 0) {
      (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof(o.rcvbuf));
    }
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) {
    return Errno("bind", a, errno);
  }
  return fd;
}

}  // namespace

std::uint16_t ListenAddress::port() const noexcept {
  if (addr.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &addr, sizeof(sin));
    return ntohs(sin.sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &addr, sizeof(sin6));
    return ntohs(sin6.sin6_port);
  }
  return 0;
}

void ListenAddress::set_port(std::uint16_t port) noexcept {
  if (addr.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &addr, sizeof(sin));
    sin.sin_port = htons(port);
    std::memcpy(&addr, &sin, sizeof(sin));
  } else if (addr.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &addr, sizeof(sin6));
    sin6.sin6_port = htons(port);
    std::memcpy(&addr, &sin6, sizeof(sin6));
  }
}

std::string ListenAddress::ToString() const {
  const std::optional<dns::IpAddress> a =
      dns::IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  return absl::StrCat(a ? a->ToString() : "?", "/", port());
}

bool operator==(const ListenAddress& a, const ListenAddress& b) noexcept {
  if (a.family() != b.family() || a.port() != b.port()) return false;
  if (a.family() == AF_INET) {
    sockaddr_in x, y;
    std::memcpy(&x, &a.addr, sizeof(x));
    std::memcpy(&y, &b.addr, sizeof(y));
    return x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    sockaddr_in6 x, y;
    std::memcpy(&x, &a.addr, sizeof(x));
    std::memcpy(&y, &b.addr, sizeof(y));
    return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0 &&
           x.sin6_scope_id == y.sin6_scope_id;
  }
  return false;
}

absl::StatusOr<std::vector<ListenAddress>> ResolveListenSpec(std::string_view spec,
                                                             FamilyHint hint) {
  const std::string arg(spec);
  std::string host = arg;
  std::string port = "domain";
  if (auto slash = host.find('/'); slash != std::string::npos) {
    port = host.substr(slash + 1);
    host.resize(slash);
  }
  if (host.empty()) return absl::InvalidArgumentError(absl::StrCat("-b ", arg, ": no address"));
  if (port.empty()) return absl::InvalidArgumentError(absl::StrCat("-b ", arg, ": no port"));
  addrinfo hints{};
  hints.ai_family = hint == FamilyHint::kV4   ? AF_INET
                    : hint == FamilyHint::kV6 ? AF_INET6
                                              : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("-b ", arg, ": ", ::gai_strerror(rc)));
  }
  std::vector<ListenAddress> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    ListenAddress a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    bool dup = false;
    for (const ListenAddress& b : out) dup = dup || b == a;
    if (!dup) out.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("-b ", arg, ": no usable address"));
  }
  return out;
}

absl::StatusOr<std::vector<ListenAddress>> ResolveListenSpecs(const std::vector<std::string>& specs,
                                                              FamilyHint hint) {
  std::vector<ListenAddress> out;
  for (const std::string& spec : specs) {
    auto one = ResolveListenSpec(spec, hint);
    if (!one.ok()) return one.status();
    for (const ListenAddress& a : *one) {
      bool dup = false;
      for (const ListenAddress& b : out) dup = dup || b == a;
      if (dup) continue;
      if (out.size() == kMaxListenAddresses) {
        return absl::InvalidArgumentError(absl::StrCat(
            "-b ", spec, ": too many listening sockets (at most ", kMaxListenAddresses, ")"));
      }
      out.push_back(a);
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("no listening address (-b)");
  return out;
}

table::ClientAddr ClientFromSockaddr(const sockaddr* sa) noexcept {
  table::ClientAddr c;
  const std::optional<dns::IpAddress> a = dns::IpAddress::FromSockaddr(
      sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  if (!a) return c;
  const dns::IpAddress ip = a->Unmapped();  // ::ffff:a.b.c.d is the IPv4 client
  c.family = static_cast<std::uint8_t>(ip.family());
  c.v4 = ip.v4();
  c.hi = ip.hi();
  c.lo = ip.lo();
  return c;
}

absl::StatusOr<util::UniqueFd> OpenUdpSocket(const ListenAddress& a, const SocketOptions& o) {
  return OpenSocket(a, SOCK_DGRAM, o);
}

absl::StatusOr<util::UniqueFd> OpenTcpListener(const ListenAddress& a, const SocketOptions& o) {
  auto fd = OpenSocket(a, SOCK_STREAM, o);
  if (!fd.ok()) return fd;
  if (::listen(fd->get(), o.backlog) != 0) return Errno("listen", a, errno);
  return fd;
}

absl::StatusOr<ListenAddress> LocalAddress(int fd) {
  ListenAddress a;
  a.len = sizeof(a.addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a.addr), &a.len) != 0) {
    return absl::InternalError(absl::StrCat("getsockname: ", std::strerror(errno)));
  }
  return a;
}

}  // namespace meshbl::server
