#include "meshbl/bench/reflector.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/socket_util.h"

namespace meshbl::bench {

std::size_t ReflectReply(std::span<std::uint8_t> buf, std::size_t len) noexcept {
  constexpr std::size_t kHeader = 12;
  if (len < kHeader + 5 || len > buf.size()) return 0;
  if ((buf[2] & 0x80) != 0 || (buf[2] & 0x78) != 0) return 0;  // a response, or not QUERY
  if (buf[4] != 0 || buf[5] != 1) return 0;
  std::size_t p = kHeader;
  while (p < len && buf[p] != 0) {
    if (buf[p] > 63 || buf[p] >= len - p) return 0;
    p += std::size_t{1} + buf[p];
  }
  if (p >= len || len - p < 5) return 0;
  const std::size_t qend = p + 5;
  const std::uint16_t qtype = static_cast<std::uint16_t>(buf[p + 1] << 8 | buf[p + 2]);
  static constexpr std::uint8_t kA[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2};
  static constexpr std::uint8_t kTxt[] = {0xc0, 0x0c, 0, 16,  0,   1,   0,   0,   0,  60,
                                          0,    7,    6, 'l', 'i', 's', 't', 'e', 'd'};
  std::span<const std::uint8_t> rr;
  if (qtype == 1) rr = kA;
  if (qtype == 16) rr = kTxt;
  if (buf.size() - qend < rr.size()) return 0;
  buf[2] = static_cast<std::uint8_t>(0x80 | 0x04 | (buf[2] & 0x01));  // QR, AA, RD echoed
  buf[3] = 0;                                                         // NOERROR
  std::memset(&buf[6], 0, 6);
  buf[7] = rr.empty() ? 0 : 1;  // ANCOUNT
  std::memcpy(&buf[qend], rr.data(), rr.size());
  return qend + rr.size();
}

absl::StatusOr<std::unique_ptr<Reflector>> Reflector::Bind(const sockaddr_storage& addr,
                                                           socklen_t len) {
  std::unique_ptr<Reflector> r(new Reflector());
  r->fd_ = util::UniqueFd(socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!r->fd_.valid())
    return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  // The receive buffer meshbld asks for (server/listen.h), so that the
  // ceiling and the server share the same I/O path.
  SetSocketBuffers(r->fd_.get(), 4 << 20, /*send=*/false);
  if (bind(r->fd_.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    return absl::UnavailableError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(r->fd_.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
  r->port_ =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
  return r;
}

void Reflector::Serve(const std::atomic<bool>& stop) {
  constexpr std::size_t kBatch = 64, kBuf = 2048;
  std::vector<std::uint8_t> bufs(kBatch * kBuf);
  std::vector<mmsghdr> in(kBatch), out(kBatch);
  std::vector<iovec> iov(kBatch), oiov(kBatch);
  std::vector<sockaddr_storage> peers(kBatch);
  while (!stop.load(std::memory_order_relaxed)) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov[i] = {&bufs[i * kBuf], kBuf};
      in[i].msg_hdr = {};
      in[i].msg_hdr.msg_name = &peers[i];
      in[i].msg_hdr.msg_namelen = sizeof peers[i];
      in[i].msg_hdr.msg_iov = &iov[i];
      in[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd_.get(), in.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    unsigned nout = 0;
    for (int i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      const std::size_t len = ReflectReply({&bufs[k * kBuf], kBuf}, in[k].msg_len);
      if (len == 0) {
        dropped_.store(dropped() + 1, std::memory_order_relaxed);
        continue;
      }
      oiov[nout] = {&bufs[k * kBuf], len};
      out[nout].msg_hdr = {};
      out[nout].msg_hdr.msg_name = &peers[k];
      out[nout].msg_hdr.msg_namelen = in[k].msg_hdr.msg_namelen;
      out[nout].msg_hdr.msg_iov = &oiov[nout];
      out[nout].msg_hdr.msg_iovlen = 1;
      ++nout;
    }
    received_.store(received() + static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    if (nout > 0) {
      const int sent = sendmmsg(fd_.get(), out.data(), nout, 0);
      if (sent > 0) {
        answered_.store(answered() + static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
      }
    }
  }
}

}  // namespace meshbl::bench
