// One small event loop for every stream socket that is not the UDP hot
// path: DNS over TCP today; the policy listener, the control socket and
// mesh links next. It knows sockets, framing, limits and time, and nothing
// about what the messages mean.
//
// What the loop does, so that no service writes it again:
//  * accept on TCP and unix-socket listeners (several per service);
//  * framing: a big-endian length prefix of 1, 2 or 4 bytes (DNS over TCP,
//    binary frames), or a delimiter ("\n" for one message per line,
//    "\n\n" for Postfix policy requests: name=value lines ending in an
//    empty line); pipelined messages in one read and one message across
//    many reads are both handled;
//  * limits per service: total connections, connections per client address
//    (IPv4 address, IPv6 /64, v4-mapped IPv6 as IPv4; unix peers are not
//    limited per address), message size (input buffered per connection is
//    at most one message and its framing), idle timeout (no byte read or
//    written), message deadline (first byte of a message to its last: a
//    slow-drip client cannot hold a slot by sending a byte now and then),
//    and the same deadline for a queued reply to be written (a client that
//    reads a byte now and then cannot hold one either);
//  * backpressure: while `max_queued` reply bytes wait for a client that
//    does not read, no further message is handed to the service and the
//    socket is not read, so memory per connection stays below
//    input + max_queued + one reply;
//  * replies written at once, queued only when the socket would block;
//    a reply may also come later (StreamConn::Defer(), then
//    EventLoop::Reply(ConnId) from a timer or a task given to Post() by
//    any thread; a half-closed connection waits for it);
//  * timers, and Stop()/Post() from any thread through an eventfd;
//  * other descriptors a caller owns (a signalfd, a pipe): AddFd() runs a
//    callback when one is readable.
//
// Why epoll and not io_uring (docs/ARCHITECTURE.md, "Stream sockets"):
// these sockets carry a small share of meshbld's load (DNSBL clients use
// TCP to retry truncated replies; policy and control traffic is one
// request per mail or per command), and a readiness loop keeps
// backpressure trivial: stop asking for EPOLLIN. With io_uring every
// paused connection would hold a posted recv (or need it cancelled) and a
// provided buffer, and a short send needs resubmission in order. The
// choice is not a speed claim: an io_uring variant was not built or
// measured; what was measured is that DNS over TCP on this loop keeps the
// figure of the epoll code it replaced (docs/ARCHITECTURE.md). The UDP
// hot path keeps its own io_uring workers.
//
// Threading: one thread runs Run(); every other method except Stop(),
// Post() and wake_fd() is called on that thread (from callbacks or before
// Run()). No call blocks: every socket is non-blocking, level-triggered.
#ifndef MESHBL_UTIL_EVENT_LOOP_H_
#define MESHBL_UTIL_EVENT_LOOP_H_

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "meshbl/util/mapped_file.h"
#include "meshbl/util/mutex.h"

namespace meshbl::util {

using SteadyTime = std::chrono::steady_clock::time_point;

// How a byte stream is cut into messages.
struct Framing {
  enum class Kind { kLengthPrefix, kDelimited };
  Kind kind = Kind::kLengthPrefix;
  int prefix_bytes = 2;          // kLengthPrefix: 1, 2 or 4, big-endian
  bool zero_length_ok = false;   // kLengthPrefix: a 0 length is a framing error
  std::string delimiter = "\n";  // kDelimited: ends a message, not part of it

  static Framing LengthPrefix(int bytes, bool zero_ok = false) {
    return {Kind::kLengthPrefix, bytes, zero_ok, {}};
  }
  static Framing Delimited(std::string_view delim) {
    return {Kind::kDelimited, 0, false, std::string(delim)};
  }
};

// Limits of one service; every connection of the service gets them.
struct StreamLimits {
  int max_connections = 1000;
  int max_per_address = 32;             // 0 = no limit
  std::size_t max_message = 16 * 1024;  // payload bytes, framing excluded
  std::size_t max_queued = 256 * 1024;  // reply bytes queued before reading pauses
  std::chrono::milliseconds idle_timeout{10'000};
  std::chrono::milliseconds message_timeout{2'000};
};

// Counters of one service, kept on the loop thread.
struct StreamStats {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;              // over max_connections (closed at once)
  std::uint64_t refused_per_address = 0;  // over max_per_address (closed at once)
  std::uint64_t framing_errors = 0;       // over max_message, or a bad length prefix
  std::uint64_t message_timeouts = 0;     // a message not complete within message_timeout
  std::uint64_t reply_timeouts = 0;       // a queued reply not written within message_timeout
  std::uint64_t idle_closed = 0;          // idle_timeout
  std::uint64_t messages = 0;             // handed to the service
  std::uint64_t paused = 0;               // times reading paused for backpressure
};

// Names a connection across time: stale once the connection closed, even
// if the kernel reuses its descriptor.
struct ConnId {
  int fd = -1;
  std::uint32_t generation = 0;
};

class EventLoop;

// The connection a session talks through; valid during a callback.
class StreamConn {
 public:
  // Queues `bytes` (framing included: the loop does not frame replies) and
  // writes what the socket takes now. False: the connection failed and
  // is being closed.
  bool Send(std::span<const std::uint8_t> bytes) noexcept;
  // Stops reading; closes once the queued bytes are written.
  void Close() noexcept;
  // The message being handled will be answered later with
  // EventLoop::Reply(id(), ...): until then a half-closed connection stays
  // open. Replies to later messages may overtake it; a protocol that needs
  // order keeps it itself.
  void Defer() noexcept;
  ConnId id() const noexcept;
  std::size_t queued() const noexcept;
  const sockaddr_storage& peer() const noexcept;
  EventLoop& loop() const noexcept;

 private:
  friend class EventLoop;
  struct Impl;
  explicit StreamConn(Impl* impl) : impl_(impl) {}
  Impl* impl_;
};

// One per connection, made by the service when it is accepted.
class StreamSession {
 public:
  virtual ~StreamSession() = default;
  // One complete message, framing stripped. False closes the connection
  // (queued replies are dropped).
  virtual bool OnMessage(StreamConn& conn, std::span<const std::uint8_t> message) noexcept = 0;
};

// A protocol served on one or more listeners.
class StreamService {
 public:
  virtual ~StreamService() = default;
  // A connection passed the limits; nullptr refuses it.
  virtual std::unique_ptr<StreamSession> Open(const sockaddr_storage& peer) noexcept = 0;
};

class EventLoop {
 public:
  using ServiceId = int;
  using TimerId = std::uint64_t;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // `service` must outlive the loop.
  ServiceId AddService(StreamService* service, const Framing& framing, const StreamLimits& limits);
  // Serves a listening socket (TCP or unix, non-blocking) for `service`.
  absl::Status AddListener(ServiceId service, UniqueFd listener);
  const StreamStats& stats(ServiceId service) const;
  int open_connections(ServiceId service) const;

  // Runs `fn` once at or after `when`/`after`, on the loop thread.
  TimerId AddTimer(SteadyTime when, std::function<void()> fn);
  TimerId AddTimer(std::chrono::milliseconds after, std::function<void()> fn) {
    return AddTimer(std::chrono::steady_clock::now() + after, std::move(fn));
  }
  bool CancelTimer(TimerId id);  // false: already run or cancelled

  // Watches a descriptor the caller owns and keeps open (a signalfd, a
  // pipe, an eventfd): `on_readable` runs on the loop thread once per
  // wake-up while `fd` is readable, hung up or in error (level-triggered:
  // the callback reads it, or it runs again at the next wake-up; at EOF it
  // calls RemoveFd()). Errors: `fd` already watched, or not pollable (a
  // regular file).
  absl::Status AddFd(int fd, std::function<void()> on_readable);
  // Stops watching `fd`; call it before closing `fd`. Safe in any callback,
  // the fd's own included: an event already collected for it is dropped.
  // False: `fd` was not watched.
  bool RemoveFd(int fd);

  // Called on the loop thread after each wake-up before events are handled
  // (e.g. to refresh a snapshot), and after they are handled (e.g. to
  // publish counters).
  void set_before_events(std::function<void()> fn) { before_ = std::move(fn); }
  void set_after_events(std::function<void()> fn) { after_ = std::move(fn); }

  // Bytes for a connection outside its callback (a timer, a Post()ed
  // task): false when the connection is gone. Reply() also ends one Defer().
  bool Send(ConnId id, std::span<const std::uint8_t> bytes) noexcept;
  bool Reply(ConnId id, std::span<const std::uint8_t> bytes) noexcept;
  void Close(ConnId id) noexcept;

  // Any thread: runs `fn` on the loop thread soon.
  void Post(std::function<void()> fn);
  // Any thread: Run() returns within one wake-up; connections are closed.
  void Stop() noexcept;
  int wake_fd() const noexcept { return wake_.get(); }

  // Serves until Stop(). Every connection is closed when it returns.
  void Run() noexcept;
  // The steady time of the current wake-up.
  SteadyTime now() const noexcept { return tick_; }

 private:
  friend class StreamConn;
  struct Conn;
  struct Service;
  struct AddrKey {
    std::uint64_t hi = 0, lo = 0;
    friend bool operator==(const AddrKey&, const AddrKey&) = default;
  };
  struct AddrHash {
    std::size_t operator()(const AddrKey& k) const noexcept {
      return std::hash<std::uint64_t>()(k.hi * 0x9e3779b97f4a7c15ULL ^ k.lo);
    }
  };
  EventLoop(UniqueFd epoll, UniqueFd wake);
  void Accept(std::size_t listener) noexcept;
  void OnEvent(Conn* c, std::uint32_t events) noexcept;
  bool Process(Conn* c) noexcept;
  bool Flush(Conn* c) noexcept;
  bool SendOn(Conn* c, std::span<const std::uint8_t> bytes) noexcept;
  void AfterIo(Conn* c) noexcept;
  void UpdateInterest(Conn* c) noexcept;
  void CloseConn(Conn* c) noexcept;
  void Sweep() noexcept;
  void RunTimers() noexcept;
  void RunPosted() noexcept;
  int WaitMs() const noexcept;
  void OnWatch(std::uint64_t data) noexcept;
  Conn* Find(ConnId id) const noexcept;
  static bool KeyOf(const sockaddr_storage& ss, AddrKey* key) noexcept;

  UniqueFd epoll_;
  UniqueFd wake_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Service>> services_;
  struct Listener {
    UniqueFd fd;
    ServiceId service;
  };
  std::vector<Listener> listeners_;
  std::vector<std::unique_ptr<Conn>> conns_;  // indexed by fd
  std::vector<std::uint32_t> generations_;    // indexed by fd
  // AddFd() slots, reused; fd -1 = free. The generation, in the epoll
  // event, tells a stale event from one for the slot's new descriptor.
  struct Watch {
    int fd = -1;
    std::uint32_t generation = 0;
    std::shared_ptr<std::function<void()>> fn;  // shared: survives RemoveFd() in itself
  };
  std::vector<Watch> watches_;
  std::map<std::pair<SteadyTime, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, SteadyTime> timer_when_;
  TimerId next_timer_ = 1;
  Mutex posted_mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(posted_mu_);
  std::function<void()> before_, after_;
  SteadyTime tick_ = std::chrono::steady_clock::now();
  SteadyTime last_sweep_ = tick_;
  Conn* current_ = nullptr;                   // the connection whose messages are being handed out
  std::chrono::milliseconds shortest_{1000};  // over every service's timeouts
};

// A listening unix stream socket at `path` (an old socket file there is
// replaced), non-blocking and close-on-exec, mode 0660 under the umask.
absl::StatusOr<UniqueFd> OpenUnixListener(const std::string& path, int backlog = 128);

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_EVENT_LOOP_H_
