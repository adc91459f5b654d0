// DNS over TCP (RFC 7766) for every listen address, served by one epoll
// thread (private to the server layer).
//
// Why one epoll thread rather than multishot accept in each worker's ring:
// DNSBL clients use TCP only to retry truncated replies, so TCP carries a
// tiny share of the load, while its per-connection state (partial reads,
// queued replies, idle timers, a global connection cap) is much simpler to
// keep correct in one thread with level-triggered epoll. The UDP workers'
// rings stay UDP-only.
//
// Per connection: a 2-byte length framing reader, pipelined queries
// answered in order as soon as they are complete, replies written at once
// (queued only when the socket would block), reading paused while more
// than `max_queued` bytes are queued, closed after `idle_timeout` without a
// byte read or written, closed when one query takes longer than
// `query_timeout` from its first byte to its last (a slow-drip client
// cannot hold a slot by sending a byte now and then: Knot's tcp-io-timeout),
// closed when a length prefix is 0 or above `max_query`. Connections above
// `max_connections`, or above `max_per_address` from one client address
// (IPv6: one /64; dnsdist's setMaxTCPConnectionsPerClient), are accepted
// and closed at once. No call blocks: every socket is non-blocking.
#ifndef MESHBL_SERVER_TCP_SERVER_H_
#define MESHBL_SERVER_TCP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "server/udp_worker.h"

namespace meshbl::server::internal {

class TcpServer {
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
  ~TcpServer();
  // Serves until *env.stop is set and the wake fd written; then closes
  // every connection. Runs on the TCP thread only.
  void Run() noexcept;
  int wake_fd() const noexcept { return wake_.get(); }
  PublishedStats<ResponderStats>& published_responder() noexcept { return pub_responder_; }
  PublishedStats<IoStats>& published_io() noexcept { return pub_io_; }

 private:
  struct Conn;
  TcpServer(const LoopEnv& env, util::UniqueFd wake);
  void Accept(int lfd) noexcept;
  void OnEvent(Conn* c, std::uint32_t events) noexcept;
  // Answers every complete query in c's input while the output queue is
  // under the cap; false when the connection must be closed.
  bool Process(Conn* c) noexcept;
  bool Flush(Conn* c) noexcept;
  void UpdateInterest(Conn* c) noexcept;
  void Close(Conn* c) noexcept;
  void SweepIdle() noexcept;
  // Per-address connection counts. Key: IPv4 address, or IPv6 /64.
  struct AddrKey {
    std::uint64_t hi = 0, lo = 0;
    friend bool operator==(const AddrKey&, const AddrKey&) = default;
  };
  struct AddrHash {
    std::size_t operator()(const AddrKey& k) const noexcept {
      return std::hash<std::uint64_t>()(k.hi * 0x9e3779b97f4a7c15ULL ^ k.lo);
    }
  };
  static AddrKey KeyOf(const table::ClientAddr& a) noexcept;

  LoopEnv env_;
  Options opt_;
  table::ZoneSetReader reader_;
  util::UniqueFd wake_;
  QueryLogRing* qlog_;  // nullptr without -l
  util::UniqueFd epoll_;
  std::vector<util::UniqueFd> listeners_;
  std::vector<std::unique_ptr<Conn>> conns_;  // indexed by fd
  int open_ = 0;
  std::unordered_map<AddrKey, int, AddrHash> per_address_;
  std::unique_ptr<table::Answer> scratch_ = std::make_unique<table::Answer>();
  std::unique_ptr<std::uint8_t[]> reply_;  // 2 + kMaxTcpMessage
  const table::ZoneSet* zones_ = nullptr;
  std::int64_t now_ = 0;
  std::chrono::steady_clock::time_point tick_;
  ResponderStats stats_;
  IoStats io_;
  PublishedStats<ResponderStats> pub_responder_;
  PublishedStats<IoStats> pub_io_;
};

}  // namespace meshbl::server::internal

#endif  // MESHBL_SERVER_TCP_SERVER_H_
