// DNS over TCP (RFC 7766) for every listen address, a thin user of the
// stream event loop (util/event_loop.h) on one thread (private to the
// server layer): this file knows DNS (answering, the query log, the IoStats
// names); the loop knows sockets, framing, timeouts, limits and
// backpressure.
//
// Why one loop thread rather than multishot accept in each worker's ring:
// DNSBL clients use TCP only to retry truncated replies, so TCP carries a
// tiny share of the load, while its per-connection state (partial reads,
// queued replies, idle timers, a global connection cap) is much simpler to
// keep correct in one thread. The UDP workers' rings stay UDP-only.
//
// Per connection (the loop's behaviour, with DNS's settings): a 2-byte
// length framing reader, pipelined queries answered in order as soon as
// they are complete, replies written at once (queued only when the socket
// would block), reading paused while more than `max_queued` bytes are
// queued, closed after `idle_timeout` without a byte read or written,
// closed when one query takes longer than `query_timeout` from its first
// byte to its last (a slow-drip client cannot hold a slot by sending a
// byte now and then: Knot's tcp-io-timeout), closed when a length prefix is
// 0 or above `max_query`. Connections above `max_connections`, or above
// `max_per_address` from one client address (IPv6: one /64; dnsdist's
// setMaxTCPConnectionsPerClient), are accepted and closed at once. No call
// blocks: every socket is non-blocking.
#ifndef MESHBL_SERVER_TCP_SERVER_H_
#define MESHBL_SERVER_TCP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/util/event_loop.h"
#include "server/udp_worker.h"

namespace meshbl::server::internal {

class TcpServer : public util::StreamService {
 public:
  struct Options {
    std::chrono::milliseconds idle_timeout{10'000};
    std::chrono::milliseconds query_timeout{2'000};
    int max_connections = 1000;
    int max_per_address = 32;  // 0 = no limit
    std::size_t max_query = 16 * 1024;
    std::size_t max_queued = 256 * 1024;
  };
  static absl::StatusOr<std::unique_ptr<TcpServer>> Create(const LoopEnv& env,
                                                           std::vector<util::UniqueFd> listeners,
                                                           const Options& o);
  ~TcpServer() override;
  // Serves until *env.stop is set and the wake fd written; then closes
  // every connection. Runs on the TCP thread only.
  void Run() noexcept;
  int wake_fd() const noexcept { return loop_->wake_fd(); }
  PublishedStats<ResponderStats>& published_responder() noexcept { return pub_responder_; }
  PublishedStats<IoStats>& published_io() noexcept { return pub_io_; }

  std::unique_ptr<util::StreamSession> Open(const sockaddr_storage& peer) noexcept override;

 private:
  class Session;
  explicit TcpServer(const LoopEnv& env);
  // Answers one query on `conn`; false when the connection must be closed.
  bool Answer(util::StreamConn& conn, const table::ClientAddr& client,
              std::span<const std::uint8_t> query) noexcept;
  void BeforeEvents() noexcept;
  void AfterEvents() noexcept;

  LoopEnv env_;
  table::ZoneSetReader reader_;
  table::OverlaySetReader overlay_reader_;
  const table::OverlaySet* overlays_ = nullptr;
  QueryLogRing* qlog_;  // nullptr without -l
  std::unique_ptr<util::EventLoop> loop_;
  util::EventLoop::ServiceId service_ = 0;
  std::unique_ptr<table::Answer> scratch_ = std::make_unique<table::Answer>();
  std::unique_ptr<std::uint8_t[]> reply_;  // 2 + kMaxTcpMessage
  const table::ZoneSet* zones_ = nullptr;
  std::int64_t now_ = 0;
  ResponderStats stats_;
  IoStats io_;
  PublishedStats<ResponderStats> pub_responder_;
  PublishedStats<IoStats> pub_io_;
};

}  // namespace meshbl::server::internal

#endif  // MESHBL_SERVER_TCP_SERVER_H_
