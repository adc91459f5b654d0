#include "meshbl/util/event_loop.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "absl/strings/str_cat.h"

namespace meshbl::util {

namespace {

constexpr std::uint64_t kTagConn = 0;
constexpr std::uint64_t kTagListener = 1;
constexpr std::uint64_t kTagWake = 2;
constexpr std::uint64_t kTagFd = 3;  // an AddFd() slot; its generation in bits 40..63
constexpr int kMaxEvents = 64;
constexpr int kAcceptsPerEvent = 64;
constexpr int kWritesPerFlush = 64;
constexpr std::chrono::milliseconds kSweepEvery{100};

std::uint64_t Tag(std::uint64_t tag, std::uint32_t index) { return (tag << 32) | index; }
constexpr std::uint32_t kGenerationMask = 0xffffff;  // 24 bits

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

struct EventLoop::Service {
  StreamService* service;
  Framing framing;
  StreamLimits limits;
  std::size_t in_cap;  // framing + max_message
  StreamStats stats;
  int open = 0;
  std::unordered_map<AddrKey, int, AddrHash> per_address;
};

struct StreamConn::Impl {};  // only a name: a StreamConn points at a Conn

struct EventLoop::Conn : StreamConn::Impl {
  EventLoop* loop;
  UniqueFd fd;
  Service* svc;
  std::uint32_t generation = 0;
  sockaddr_storage peer{};
  AddrKey key;
  bool keyed = false;  // counted in svc->per_address
  std::unique_ptr<StreamSession> session;
  std::unique_ptr<std::uint8_t[]> in;
  std::size_t in_len = 0;
  std::vector<std::uint8_t> out;  // bytes not yet written, from out_off
  std::size_t out_off = 0;
  // Each queued reply's end in `out` and when it was queued, oldest first:
  // a reply not written within message_timeout closes the connection (a
  // client that reads a byte now and then cannot hold a slot either).
  std::deque<std::pair<std::size_t, SteadyTime>> pending;
  SteadyTime last_active;
  // When the first byte of the message still incomplete in `in` arrived;
  // meaningful while `partial`.
  SteadyTime message_start;
  bool partial = false;
  bool peer_closed = false;
  bool closing = false;  // Close(): no more reading, closed once flushed
  bool failed = false;   // a write failed: closed when control returns to the loop
  bool held = false;     // input left unprocessed because of backpressure
  int deferred = 0;      // Defer()s not yet answered by Reply()
  std::uint32_t interest = 0;

  std::size_t queued() const { return out.size() - out_off; }
};

// ---- StreamConn ----

bool StreamConn::Send(std::span<const std::uint8_t> bytes) noexcept {
  auto* c = static_cast<EventLoop::Conn*>(impl_);
  if (c->failed) return false;
  if (!c->loop->SendOn(c, bytes)) c->failed = true;
  return !c->failed;
}
void StreamConn::Close() noexcept { static_cast<EventLoop::Conn*>(impl_)->closing = true; }
void StreamConn::Defer() noexcept { ++static_cast<EventLoop::Conn*>(impl_)->deferred; }
ConnId StreamConn::id() const noexcept {
  const auto* c = static_cast<const EventLoop::Conn*>(impl_);
  return {c->fd.get(), c->generation};
}
std::size_t StreamConn::queued() const noexcept {
  return static_cast<const EventLoop::Conn*>(impl_)->queued();
}
const sockaddr_storage& StreamConn::peer() const noexcept {
  return static_cast<const EventLoop::Conn*>(impl_)->peer;
}
EventLoop& StreamConn::loop() const noexcept {
  return *static_cast<const EventLoop::Conn*>(impl_)->loop;
}

// ---- EventLoop ----

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) return Errno("epoll_create1");
  UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return Errno("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Tag(kTagWake, 0);
  if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, wake.get(), &ev) != 0) return Errno("epoll_ctl");
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(ep), std::move(wake)));
}

EventLoop::EventLoop(UniqueFd epoll, UniqueFd wake)
    : epoll_(std::move(epoll)), wake_(std::move(wake)) {}

EventLoop::~EventLoop() = default;

EventLoop::ServiceId EventLoop::AddService(StreamService* service, const Framing& framing,
                                           const StreamLimits& limits) {
  auto s = std::make_unique<Service>();
  s->service = service;
  s->framing = framing;
  s->limits = limits;
  if (framing.kind == Framing::Kind::kLengthPrefix) {
    s->framing.prefix_bytes = std::clamp(framing.prefix_bytes, 1, 4);
    std::size_t most = s->framing.prefix_bytes == 4
                           ? 0xffffffffu
                           : (std::size_t{1} << (8 * s->framing.prefix_bytes)) - 1;
    s->limits.max_message = std::min(std::max<std::size_t>(limits.max_message, 1), most);
    s->in_cap = static_cast<std::size_t>(s->framing.prefix_bytes) + s->limits.max_message;
  } else {
    if (s->framing.delimiter.empty()) s->framing.delimiter.push_back('\n');
    s->in_cap = s->limits.max_message + s->framing.delimiter.size();
  }
  shortest_ = services_.empty() ? std::chrono::milliseconds::max() : shortest_;
  shortest_ = std::min({shortest_, s->limits.idle_timeout, s->limits.message_timeout});
  shortest_ = std::max(shortest_, std::chrono::milliseconds(1));
  services_.push_back(std::move(s));
  return static_cast<ServiceId>(services_.size() - 1);
}

absl::Status EventLoop::AddListener(ServiceId service, UniqueFd listener) {
  if (service < 0 || static_cast<std::size_t>(service) >= services_.size()) {
    return absl::InvalidArgumentError("AddListener: no such service");
  }
  int flags = ::fcntl(listener.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Errno("fcntl(O_NONBLOCK)");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Tag(kTagListener, static_cast<std::uint32_t>(listeners_.size()));
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener.get(), &ev) != 0) {
    return Errno("epoll_ctl");
  }
  listeners_.push_back({std::move(listener), service});
  return absl::OkStatus();
}

const StreamStats& EventLoop::stats(ServiceId service) const {
  return services_[static_cast<std::size_t>(service)]->stats;
}

int EventLoop::open_connections(ServiceId service) const {
  return services_[static_cast<std::size_t>(service)]->open;
}

EventLoop::TimerId EventLoop::AddTimer(SteadyTime when, std::function<void()> fn) {
  TimerId id = next_timer_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  timer_when_.emplace(id, when);
  return id;
}

bool EventLoop::CancelTimer(TimerId id) {
  auto it = timer_when_.find(id);
  if (it == timer_when_.end()) return false;
  timers_.erase({it->second, id});
  timer_when_.erase(it);
  return true;
}

absl::Status EventLoop::AddFd(int fd, std::function<void()> on_readable) {
  if (fd < 0) return absl::InvalidArgumentError("AddFd: no descriptor");
  for (const Watch& w : watches_) {
    if (w.fd == fd)
      return absl::InvalidArgumentError(absl::StrCat("AddFd: ", fd, " already watched"));
  }
  std::size_t slot = 0;
  while (slot < watches_.size() && watches_[slot].fd >= 0) ++slot;
  if (slot == watches_.size()) watches_.emplace_back();
  Watch& w = watches_[slot];
  w.generation = (w.generation + 1) & kGenerationMask;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = (std::uint64_t{w.generation} << 40) | Tag(kTagFd, static_cast<std::uint32_t>(slot));
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Errno(absl::StrCat("epoll_ctl(", fd, ")"));
  }
  w.fd = fd;
  w.fn = std::make_shared<std::function<void()>>(std::move(on_readable));
  return absl::OkStatus();
}

bool EventLoop::RemoveFd(int fd) {
  for (Watch& w : watches_) {
    if (w.fd != fd || fd < 0) continue;
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    w.fd = -1;
    w.fn.reset();  // a callback running now holds its own reference
    w.generation = (w.generation + 1) & kGenerationMask;
    return true;
  }
  return false;
}

void EventLoop::OnWatch(std::uint64_t data) noexcept {
  const auto slot = static_cast<std::size_t>(data & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(data >> 40);
  if (slot >= watches_.size() || watches_[slot].fd < 0 || watches_[slot].generation != generation) {
    return;  // removed (or replaced) since epoll_wait() collected the event
  }
  std::shared_ptr<std::function<void()>> fn = watches_[slot].fn;
  (*fn)();
}

void EventLoop::Post(std::function<void()> fn) {
  {
    MutexLock lock(&posted_mu_);
    posted_.push_back(std::move(fn));
  }
  std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
}

void EventLoop::Stop() noexcept {
  stop_.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
}

bool EventLoop::KeyOf(const sockaddr_storage& ss, AddrKey* key) noexcept {
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof(sin));
    *key = {ntohl(sin.sin_addr.s_addr), 0};
    return true;
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &ss, sizeof(sin6));
    const std::uint8_t* b = sin6.sin6_addr.s6_addr;
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, sizeof(kMapped)) == 0) {
      *key = {(std::uint64_t{b[12]} << 24) | (std::uint64_t{b[13]} << 16) |
                  (std::uint64_t{b[14]} << 8) | b[15],
              0};
      return true;
    }
    std::uint64_t hi = 0;
    for (int i = 0; i < 8; ++i) hi = (hi << 8) | b[i];
    *key = {hi, 1};  // one /64
    return true;
  }
  return false;  // a unix peer: not limited per address
}

void EventLoop::Accept(std::size_t index) noexcept {
  const int lfd = listeners_[index].fd.get();
  Service* svc = services_[static_cast<std::size_t>(listeners_[index].service)].get();
  for (int i = 0; i < kAcceptsPerEvent; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an aborted connection: nothing to do
    UniqueFd owned(fd);
    if (svc->open >= svc->limits.max_connections) {
      ++svc->stats.refused;
      continue;  // closed at once
    }
    AddrKey key;
    const bool keyed = svc->limits.max_per_address > 0 && KeyOf(ss, &key);
    if (keyed) {
      auto it = svc->per_address.find(key);
      if (it != svc->per_address.end() && it->second >= svc->limits.max_per_address) {
        ++svc->stats.refused_per_address;
        continue;  // closed at once
      }
    }
    std::unique_ptr<StreamSession> session = svc->service->Open(ss);
    if (session == nullptr) {
      ++svc->stats.refused;
      continue;
    }
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
      int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Tag(kTagConn, static_cast<std::uint32_t>(fd));
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;
    const auto slot = static_cast<std::size_t>(fd);
    if (slot >= conns_.size()) {
      conns_.resize(slot + 1);
      generations_.resize(slot + 1, 0);
    }
    auto c = std::make_unique<Conn>();
    c->loop = this;
    c->fd = std::move(owned);
    c->svc = svc;
    c->generation = ++generations_[slot];
    c->peer = ss;
    c->key = key;
    c->keyed = keyed;
    c->session = std::move(session);
    c->in = std::make_unique<std::uint8_t[]>(svc->in_cap);
    c->last_active = tick_;
    c->interest = EPOLLIN;
    conns_[slot] = std::move(c);
    if (keyed) ++svc->per_address[key];
    ++svc->open;
    ++svc->stats.accepted;
  }
}

bool EventLoop::Flush(Conn* c) noexcept {
  for (int i = 0; i < kWritesPerFlush && c->queued() > 0; ++i) {
    ssize_t r =
        ::send(c->fd.get(), c->out.data() + c->out_off, c->queued(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r > 0) {
      c->out_off += static_cast<std::size_t>(r);
      c->last_active = tick_;
      while (!c->pending.empty() && c->pending.front().first <= c->out_off) c->pending.pop_front();
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
  if (c->queued() == 0) {
    c->out.clear();  // keeps its capacity
    c->out_off = 0;
    c->pending.clear();
  }
  return true;
}

bool EventLoop::SendOn(Conn* c, std::span<const std::uint8_t> bytes) noexcept {
  std::size_t sent = 0;
  if (c->queued() == 0) {
    ssize_t r = ::send(c->fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r > 0) {
      sent = static_cast<std::size_t>(r);
      c->last_active = tick_;
    } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return false;
    }
  }
  if (sent < bytes.size()) {
    c->out.insert(c->out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(sent), bytes.end());
    c->pending.emplace_back(c->out.size(), tick_);
  }
  return true;
}

bool EventLoop::Process(Conn* c) noexcept {
  Service* svc = c->svc;
  const Framing& f = svc->framing;
  std::size_t pos = 0;
  bool ok = true;
  bool incomplete = true;  // what is left in `in` is (part of) one message
  bool held = false;       // stopped by backpressure
  current_ = c;
  StreamConn conn(c);
  while (pos < c->in_len && !c->closing) {
    const std::size_t avail = c->in_len - pos;
    const std::uint8_t* p = c->in.get() + pos;
    const bool prefixed = f.kind == Framing::Kind::kLengthPrefix;
    const auto header = prefixed ? static_cast<std::size_t>(f.prefix_bytes) : std::size_t{0};
    if (c->queued() >= svc->limits.max_queued) {
      // What is left waits for the client to read; the message deadline
      // does not run while the loop is the one not reading.
      incomplete = false;
      held = true;
      if ((c->interest & EPOLLIN) != 0) ++svc->stats.paused;
      break;
    }
    if (avail < header) break;
    std::size_t len = 0, trailer = 0;
    if (prefixed) {
      for (std::size_t i = 0; i < header; ++i) len = (len << 8) | p[i];
      if ((len == 0 && !f.zero_length_ok) || len > svc->limits.max_message) {
        ++svc->stats.framing_errors;
        ok = false;
        break;
      }
      if (avail - header < len) break;
    } else {
      std::string_view hay(reinterpret_cast<const char*>(p), avail);
      std::size_t at = hay.find(f.delimiter);
      if (at == std::string_view::npos || at > svc->limits.max_message) {
        if (at != std::string_view::npos || avail >= svc->in_cap) {
          ++svc->stats.framing_errors;  // no delimiter within max_message
          ok = false;
        }
        break;
      }
      len = at;
      trailer = f.delimiter.size();
    }
    std::span<const std::uint8_t> message(p + header, len);
    pos += header + len + trailer;
    ++svc->stats.messages;
    if (!c->session->OnMessage(conn, message) || c->failed) {
      ok = false;
      break;
    }
  }
  current_ = nullptr;
  if (pos > 0) {
    std::memmove(c->in.get(), c->in.get() + pos, c->in_len - pos);
    c->in_len -= pos;
  }
  // The message deadline runs from the first byte of a message to its
  // last: it starts when bytes of an incomplete message are left over (now,
  // or when the previous message completed), not at each byte.
  const bool partial = c->in_len > 0 && incomplete;
  if (partial && (!c->partial || pos > 0)) c->message_start = tick_;
  c->partial = partial;
  c->held = held;
  return ok && !c->failed;
}

void EventLoop::UpdateInterest(Conn* c) noexcept {
  std::uint32_t want = 0;
  if (!c->peer_closed && !c->closing && c->queued() < c->svc->limits.max_queued) want |= EPOLLIN;
  // EPOLLOUT also while input is held: when the flush after Process()
  // drained the queue and every byte was already read, no EPOLLIN would
  // come, and the held messages would wait forever. A writable socket
  // reports at once, and OnEvent() hands them out.
  if (c->queued() > 0 || c->held) want |= EPOLLOUT;
  if (want == c->interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = Tag(kTagConn, static_cast<std::uint32_t>(c->fd.get()));
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c->fd.get(), &ev);
  c->interest = want;
}

void EventLoop::CloseConn(Conn* c) noexcept {
  const auto slot = static_cast<std::size_t>(c->fd.get());
  Service* svc = c->svc;
  --svc->open;
  if (c->keyed) {
    auto it = svc->per_address.find(c->key);
    if (it != svc->per_address.end() && --it->second <= 0) svc->per_address.erase(it);
  }
  conns_[slot].reset();  // closing the fd removes it from the epoll set
}

// After bytes moved or a session acted: close, or set what to wait for.
void EventLoop::AfterIo(Conn* c) noexcept {
  if (c->failed || (c->queued() > 0 && !Flush(c))) {
    CloseConn(c);
    return;
  }
  if ((c->peer_closed || c->closing) && c->queued() == 0 && !c->held && c->deferred == 0) {
    // Everything answerable has been answered; a partial message is dropped.
    CloseConn(c);
    return;
  }
  UpdateInterest(c);
}

void EventLoop::OnEvent(Conn* c, std::uint32_t events) noexcept {
  if ((events & EPOLLERR) != 0) {
    CloseConn(c);
    return;
  }
  if ((events & EPOLLOUT) != 0 && !Flush(c)) {
    CloseConn(c);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP)) != 0 && !c->peer_closed && !c->closing) {
    const std::size_t cap = c->svc->in_cap;
    while (c->in_len < cap) {
      ssize_t r = ::recv(c->fd.get(), c->in.get() + c->in_len, cap - c->in_len, MSG_DONTWAIT);
      if (r > 0) {
        c->in_len += static_cast<std::size_t>(r);
        c->last_active = tick_;
        continue;
      }
      if (r == 0) {
        c->peer_closed = true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        CloseConn(c);
        return;
      }
      break;
    }
  }
  // Hand out what is complete (also after a flush made room under the cap).
  if (!Process(c)) {
    CloseConn(c);
    return;
  }
  AfterIo(c);
}

EventLoop::Conn* EventLoop::Find(ConnId id) const noexcept {
  if (id.fd < 0) return nullptr;
  const auto slot = static_cast<std::size_t>(id.fd);
  if (slot >= conns_.size() || conns_[slot] == nullptr) return nullptr;
  Conn* c = conns_[slot].get();
  return c->generation == id.generation ? c : nullptr;
}

bool EventLoop::Send(ConnId id, std::span<const std::uint8_t> bytes) noexcept {
  Conn* c = Find(id);
  if (c == nullptr || c->failed) return false;
  if (!SendOn(c, bytes)) c->failed = true;
  const bool ok = !c->failed;
  if (c != current_) AfterIo(c);
  return ok;
}

bool EventLoop::Reply(ConnId id, std::span<const std::uint8_t> bytes) noexcept {
  Conn* c = Find(id);
  if (c != nullptr && c->deferred > 0) --c->deferred;
  return Send(id, bytes);
}

void EventLoop::Close(ConnId id) noexcept {
  Conn* c = Find(id);
  if (c == nullptr) return;
  c->closing = true;
  if (c != current_) AfterIo(c);
}

void EventLoop::Sweep() noexcept {
  for (std::unique_ptr<Conn>& c : conns_) {
    if (c == nullptr) continue;
    const StreamLimits& l = c->svc->limits;
    if (c->partial && tick_ - c->message_start >= l.message_timeout) {
      ++c->svc->stats.message_timeouts;
      CloseConn(c.get());
    } else if (!c->pending.empty() && tick_ - c->pending.front().second >= l.message_timeout) {
      ++c->svc->stats.reply_timeouts;
      CloseConn(c.get());
    } else if (tick_ - c->last_active >= l.idle_timeout) {
      ++c->svc->stats.idle_closed;
      CloseConn(c.get());
    }
  }
}

void EventLoop::RunTimers() noexcept {
  // Bounded: a timer added by a timer runs on a later wake-up.
  const TimerId last = next_timer_;
  for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= tick_;) {
    if (it->first.second >= last) {
      ++it;
      continue;
    }
    std::function<void()> fn = std::move(it->second);
    timer_when_.erase(it->first.second);
    timers_.erase(it);
    fn();
    it = timers_.begin();
  }
}

void EventLoop::RunPosted() noexcept {
  std::vector<std::function<void()>> run;
  {
    MutexLock lock(&posted_mu_);
    run.swap(posted_);
  }
  for (std::function<void()>& fn : run) fn();
}

int EventLoop::WaitMs() const noexcept {
  std::int64_t ms = 1000;
  if (!services_.empty()) ms = std::clamp<std::int64_t>(shortest_.count() / 4, 10, 1000);
  if (!timers_.empty()) {
    auto until = std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first.first -
                                                              std::chrono::steady_clock::now());
    ms = std::clamp<std::int64_t>(until.count(), 0, ms);
  }
  return static_cast<int>(ms);
}

void EventLoop::Run() noexcept {
  epoll_event events[kMaxEvents];
  last_sweep_ = std::chrono::steady_clock::now();
  const auto sweep_every = std::min<std::chrono::milliseconds>(kSweepEvery, shortest_);
  while (!stop_.load(std::memory_order_acquire)) {
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, WaitMs());
    tick_ = std::chrono::steady_clock::now();
    if (before_) before_();
    if (stop_.load(std::memory_order_acquire)) break;
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = (events[i].data.u64 >> 32) & 0xff;
      const auto index = static_cast<std::uint32_t>(events[i].data.u64 & 0xffffffffu);
      if (tag == kTagFd) {
        OnWatch(events[i].data.u64);
      } else if (tag == kTagListener) {
        Accept(index);
      } else if (tag == kTagWake) {
        std::uint64_t v;
        (void)!::read(wake_.get(), &v, sizeof(v));
        woken = true;
      } else if (index < conns_.size() && conns_[index] != nullptr) {
        OnEvent(conns_[index].get(), events[i].events);
      }
    }
    if (woken) RunPosted();
    RunTimers();
    if (!services_.empty() && tick_ - last_sweep_ >= sweep_every) {
      Sweep();
      last_sweep_ = tick_;
    }
    if (after_) after_();
  }
  for (std::unique_ptr<Conn>& c : conns_) {
    if (c != nullptr) CloseConn(c.get());
  }
  if (after_) after_();
}

absl::StatusOr<UniqueFd> OpenUnixListener(const std::string& path, int backlog) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sun.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("unix socket path too long or empty: ", path));
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno(absl::StrCat("socket(AF_UNIX) for ", path));
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) (void)::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)) != 0) {
    return Errno(absl::StrCat("bind ", path));
  }
  (void)::chmod(path.c_str(), 0660);
  if (::listen(fd.get(), backlog) != 0) return Errno(absl::StrCat("listen ", path));
  return fd;
}

}  // namespace meshbl::util
