// The meshbld query front end: UDP workers (one thread per core, each with
// its own SO_REUSEPORT socket per listen address, its own io_uring or
// recvmmsg loop, its own ZoneSetReader and counters) plus one TCP thread
// (RFC 7766: pipelining, idle timeout, connection cap) on the same
// addresses. Every packet is answered by Respond() (respond.h).
//
// Control plane: Server::Start() binds every socket (so bind errors are
// reported before any thread runs), then starts the threads; Stop() wakes
// and joins them. The daemon publishes data through the ZoneSetHolder; the
// workers pick it up once per batch.
#ifndef MESHBL_SERVER_SERVER_H_
#define MESHBL_SERVER_SERVER_H_

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/server/listen.h"
#include "meshbl/server/query_log.h"
#include "meshbl/server/respond.h"
#include "meshbl/table/swap.h"

namespace meshbl::server {

// Which UDP loop a worker runs. kAuto probes io_uring once at Start() and
// falls back to recvmmsg/sendmmsg (with one log line naming what was
// missing); kUring fails Start() when io_uring is unusable; kMmsg never
// touches io_uring.
enum class UdpBackend : std::uint8_t { kAuto, kUring, kMmsg };

// "auto", "uring", "mmsg".
std::string_view UdpBackendName(UdpBackend b) noexcept;

// meshbld fills every field from its parsed options (src/daemon/daemon.cc);
// the defaults below are for tests and tools and equal the daemon's option
// schema (include/meshbl/daemon/options.h), which tests/daemon/options_test.cc
// checks.
struct ServerConfig {
  // Sockets to serve, e.g. from ResolveListenSpecs(). A port of 0 picks one
  // ephemeral port for the first address's UDP socket, and every other
  // socket of that address (other workers, TCP) binds the same port.
  std::vector<ListenAddress> listen;
  // UDP worker threads; 0 = one per online CPU.
  int threads = 0;
  // --udp-backend's default: recvmmsg/sendmmsg measured faster than io_uring
  // on one core (bench/e2e_compare.sh, docs/PERFORMANCE.md).
  UdpBackend udp_backend = UdpBackend::kMmsg;
  ResponderConfig responder;

  // UDP tuning. io_uring: provided buffers per worker (a power of two,
  // shared by the worker's sockets), each holding one datagram of up to
  // kMaxUdpPayload bytes; CQEs handled per batch. mmsg: datagrams per
  // recvmmsg call.
  unsigned uring_buffers = 1024;
  unsigned batch = 64;

  // TCP (RFC 7766). Served by one epoll thread for every listen address.
  bool tcp = true;
  // A connection with no byte read or written for this long is closed.
  std::chrono::milliseconds tcp_idle_timeout{10'000};
  // A query must arrive whole within this time of its first byte (a
  // client sending a byte now and then is cut off; Knot's tcp-io-timeout).
  std::chrono::milliseconds tcp_query_timeout{2'000};
  // Connections beyond this are accepted and closed at once.
  int tcp_max_connections = 1000;
  // Connections from one client address (IPv4) or /64 (IPv6) beyond this
  // are accepted and closed at once; 0 = no limit.
  int tcp_max_per_address = 32;
  // A query whose length prefix exceeds this closes the connection.
  std::size_t tcp_max_query = 16 * 1024;
  // Replies queued for one connection beyond this stop reading from it
  // until the client drains them (a client that never reads times out).
  std::size_t tcp_max_queued = 256 * 1024;

  // Receives the few control-plane lines the server writes (the backend
  // chosen and why). Called from Start() only. Default: stderr.
  std::function<void(std::string_view)> log;
  // -l query log: every worker (UDP and TCP) records each reply it sends into
  // its own ring of this log; nullptr = no query log. Not owned.
  QueryLog* query_log = nullptr;
};

// I/O counters of the front end (drops the responder never sees).
struct IoStats {
  std::uint64_t udp_received = 0;
  std::uint64_t udp_sent = 0;
  std::uint64_t udp_send_errors = 0;
  std::uint64_t udp_recv_errors = 0;
  std::uint64_t udp_truncated = 0;  // MSG_TRUNC: datagram larger than a buffer, dropped
  std::uint64_t udp_no_slot = 0;    // io_uring: every send slot in flight, dropped
  std::uint64_t uring_enobufs = 0;  // provided-buffer ring ran dry (recv re-armed)
  std::uint64_t uring_rearms = 0;   // multishot recv re-armed (ENOBUFS or no F_MORE)
  std::uint64_t tcp_accepted = 0;
  std::uint64_t tcp_refused = 0;              // over tcp_max_connections
  std::uint64_t tcp_idle_closed = 0;          // idle timeout
  std::uint64_t tcp_oversized = 0;            // length prefix over tcp_max_query (or 0)
  std::uint64_t tcp_query_timeouts = 0;       // a query not complete within tcp_query_timeout
  std::uint64_t tcp_reply_timeouts = 0;       // a reply not written within tcp_query_timeout
  std::uint64_t tcp_refused_per_address = 0;  // over tcp_max_per_address
  std::uint64_t tcp_replies = 0;
};

// A running front end. Thread-safe: TotalStats()/IoTotals() may be called
// from any thread while workers run; Stop() from one control thread.
class Server {
 public:
  // Binds every socket of `config` and starts the UDP workers and the TCP
  // thread. `zones` must outlive the Server; until something is published
  // every query gets SERVFAIL. Errors name the address and the system call.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerConfig& config, table::ZoneSetHolder* zones,
      const table::OverlaySetHolder* overlays = nullptr);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Stop()

  // Wakes every thread and joins it. Idempotent; after it returns no
  // worker holds a ZoneSet reference.
  void Stop();

  // The sum of every worker's (and the TCP thread's) responder counters.
  // Counters are published by each worker once per batch, so a reading may
  // lag by one batch.
  ResponderStats TotalStats() const;
  IoStats IoTotals() const;

  // The backend the workers run (never kAuto).
  UdpBackend udp_backend() const noexcept { return backend_; }
  int threads() const noexcept;
  // The addresses actually bound (port 0 resolved), one per listen address.
  const std::vector<ListenAddress>& bound() const noexcept { return bound_; }

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  UdpBackend backend_ = UdpBackend::kMmsg;
  std::vector<ListenAddress> bound_;
};

}  // namespace meshbl::server

#endif  // MESHBL_SERVER_SERVER_H_
