// `meshbl bench --reflect`: a minimal UDP responder that answers every query
// with a fixed valid reply (the question echoed, NOERROR, AA, one A
// 127.0.0.2 or TXT "listed" record for A/TXT questions, none otherwise)
// through the same recvmmsg/sendmmsg path as meshbld's default backend, but
// with no lookup at all. Its rate is the ceiling of this machine's network
// stack: the number every server is compared with.
#ifndef MESHBL_BENCH_REFLECTOR_H_
#define MESHBL_BENCH_REFLECTOR_H_

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::bench {

// Turns the query of `len` bytes in `buf` into the fixed reply, in place.
// Returns the reply length, or 0 when the datagram is not a well-formed
// QUERY with one question (it is then dropped).
std::size_t ReflectReply(std::span<std::uint8_t> buf, std::size_t len) noexcept;

class Reflector {
 public:
  // Binds a UDP socket to `addr` (port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<Reflector>> Bind(const sockaddr_storage& addr,
                                                         socklen_t len);
  std::uint16_t port() const noexcept { return port_; }

  // Answers until `stop` is set (checked at least every 100 ms).
  void Serve(const std::atomic<bool>& stop);

  std::uint64_t received() const noexcept { return received_.load(std::memory_order_relaxed); }
  std::uint64_t answered() const noexcept { return answered_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  Reflector() = default;
  util::UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> received_{0}, answered_{0}, dropped_{0};
};

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_REFLECTOR_H_
