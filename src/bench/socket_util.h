// Socket set-up shared by the generator and the reflector (private to bench).
#ifndef MESHBL_SRC_BENCH_SOCKET_UTIL_H_
#define MESHBL_SRC_BENCH_SOCKET_UTIL_H_

#include <sys/socket.h>

namespace meshbl::bench {

// Asks for `bytes` of receive (and, when `send` is set, send) buffer: forced
// beyond net.core.[rw]mem_max while privileged, else capped there. Failures
// leave the system default.
inline void SetSocketBuffers(int fd, int bytes, bool send) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  if (send && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
}

}  // namespace meshbl::bench

#endif  // MESHBL_SRC_BENCH_SOCKET_UTIL_H_
