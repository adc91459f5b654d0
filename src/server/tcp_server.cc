#include "server/tcp_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "meshbl/server/listen.h"

namespace meshbl::server::internal {

namespace {

constexpr std::uint64_t kTagConn = 0;
constexpr std::uint64_t kTagListener = 1;
constexpr std::uint64_t kTagWake = 2;
constexpr int kMaxEvents = 64;
constexpr int kAcceptsPerEvent = 64;
constexpr std::chrono::milliseconds kSweepEvery{100};

std::uint64_t Tag(std::uint64_t tag, int fd) {
  return (tag << 32) | static_cast<std::uint32_t>(fd);
}

}  // namespace

struct TcpServer::Conn {
  util::UniqueFd fd;
  table::ClientAddr client;
  std::unique_ptr<std::uint8_t[]> in;
  std::size_t in_len = 0;
  std::vector<std::uint8_t> out;  // replies not yet written, from out_off
  std::size_t out_off = 0;
  std::chrono::steady_clock::time_point last_active;
  // When the first byte of the query still incomplete in `in` arrived;
  // meaningful while `partial`.
  std::chrono::steady_clock::time_point query_start;
  bool partial = false;
  std::uint32_t interest = 0;
  bool peer_closed = false;

  std::size_t queued() const { return out.size() - out_off; }
};

absl::StatusOr<std::unique_ptr<TcpServer>> TcpServer::Create(const LoopEnv& env,
                                                             std::vector<util::UniqueFd> listeners,
                                                             const Options& o) {
  auto wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  std::unique_ptr<TcpServer> t(new TcpServer(env, std::move(*wake)));
  t->opt_ = o;
  if (t->opt_.max_query == 0 || t->opt_.max_query > kMaxTcpMessage) {
    t->opt_.max_query = kMaxTcpMessage;
  }
  t->listeners_ = std::move(listeners);
  t->reply_ = std::make_unique<std::uint8_t[]>(2 + kMaxTcpMessage);
  t->epoll_ = util::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!t->epoll_.valid()) {
    return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  }
  auto add = [&](int fd, std::uint64_t tag) -> absl::Status {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Tag(tag, fd);
    if (::epoll_ctl(t->epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  for (const util::UniqueFd& l : t->listeners_) {
    if (absl::Status s = add(l.get(), kTagListener); !s.ok()) return s;
  }
  if (absl::Status s = add(t->wake_.get(), kTagWake); !s.ok()) return s;
  return t;
}

TcpServer::TcpServer(const LoopEnv& env, util::UniqueFd wake)
    : env_(env),
      reader_(*env.zones),
      wake_(std::move(wake)),
      qlog_(env.query_log != nullptr ? env.query_log->AddRing() : nullptr) {}

TcpServer::~TcpServer() = default;

void TcpServer::Accept(int lfd) noexcept {
  for (int i = 0; i < kAcceptsPerEvent; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an aborted connection: nothing to do
    util::UniqueFd owned(fd);
    if (open_ >= opt_.max_connections) {
      ++io_.tcp_refused;
      continue;  // closed at once
    }
    const table::ClientAddr client = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
    if (opt_.max_per_address > 0) {
      auto it = per_address_.find(KeyOf(client));
      if (it != per_address_.end() && it->second >= opt_.max_per_address) {
        ++io_.tcp_refused_per_address;
        continue;  // closed at once
      }
    }
    int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Conn>();
    c->client = client;
    c->in = std::make_unique<std::uint8_t[]>(2 + opt_.max_query);
    c->last_active = tick_;
    c->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Tag(kTagConn, fd);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;
    c->fd = std::move(owned);
    if (static_cast<std::size_t>(fd) >= conns_.size()) {
      conns_.resize(static_cast<std::size_t>(fd) + 1);
    }
    conns_[static_cast<std::size_t>(fd)] = std::move(c);
    if (opt_.max_per_address > 0) ++per_address_[KeyOf(client)];
    ++open_;
    ++io_.tcp_accepted;
  }
}

bool TcpServer::Flush(Conn* c) noexcept {
  for (int i = 0; i < 64 && c->queued() > 0; ++i) {
    ssize_t r =
        ::send(c->fd.get(), c->out.data() + c->out_off, c->queued(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r > 0) {
      c->out_off += static_cast<std::size_t>(r);
      c->last_active = tick_;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
  if (c->queued() == 0) {
    c->out.clear();  // keeps its capacity
    c->out_off = 0;
  }
  return true;
}

bool TcpServer::Process(Conn* c) noexcept {
  std::size_t pos = 0;
  bool ok = true;
  bool incomplete = true;  // what is left in `in` is (part of) one query
  while (c->in_len - pos >= 2) {
    if (c->queued() >= opt_.max_queued) {
      incomplete = false;  // complete queries wait for the client to read
      break;
    }
    std::size_t len = (std::size_t{c->in[pos]} << 8) | c->in[pos + 1];
    if (len == 0 || len > opt_.max_query) {
      ++io_.tcp_oversized;
      ok = false;
      break;
    }
    if (c->in_len - pos - 2 < len) break;
    std::span<const std::uint8_t> query(c->in.get() + pos + 2, len);
    pos += 2 + len;
    std::size_t out_len = 0;
    Verdict v =
        Respond(zones_, *env_.responder, query, c->client, Transport::kTcp, now_, scratch_.get(),
                std::span<std::uint8_t>(reply_.get() + 2, kMaxTcpMessage), &out_len, &stats_);
    if (v != Verdict::kReply || out_len == 0) continue;
    if (qlog_ != nullptr) {
      qlog_->Record(now_, c->client, query,
                    std::span<const std::uint8_t>(reply_.get() + 2, out_len));
      qlog_->Flush();  // `-l +`: the line is written before the reply is sent
    }
    reply_[0] = static_cast<std::uint8_t>(out_len >> 8);
    reply_[1] = static_cast<std::uint8_t>(out_len);
    std::size_t total = out_len + 2;
    std::size_t sent = 0;
    if (c->queued() == 0) {
      ssize_t r = ::send(c->fd.get(), reply_.get(), total, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r > 0) {
        sent = static_cast<std::size_t>(r);
        c->last_active = tick_;
      } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ok = false;
        break;
      }
    }
    if (sent < total) c->out.insert(c->out.end(), reply_.get() + sent, reply_.get() + total);
    ++io_.tcp_replies;
  }
  if (pos > 0) {
    std::memmove(c->in.get(), c->in.get() + pos, c->in_len - pos);
    c->in_len -= pos;
  }
  // The query deadline runs from the first byte of a query to its last:
  // it starts when bytes of an incomplete query are left over (now, or
  // when the previous query completed), not at each byte.
  const bool partial = c->in_len > 0 && incomplete;
  if (partial && (!c->partial || pos > 0)) c->query_start = tick_;
  c->partial = partial;
  return ok;
}

void TcpServer::UpdateInterest(Conn* c) noexcept {
  std::uint32_t want = 0;
  if (!c->peer_closed && c->queued() < opt_.max_queued) want |= EPOLLIN;
  if (c->queued() > 0) want |= EPOLLOUT;
  if (want == c->interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = Tag(kTagConn, c->fd.get());
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c->fd.get(), &ev);
  c->interest = want;
}

TcpServer::AddrKey TcpServer::KeyOf(const table::ClientAddr& a) noexcept {
  if (a.family == 6) return {a.hi, 1};  // one /64
  return {a.v4, 0};
}

void TcpServer::Close(Conn* c) noexcept {
  auto fd = static_cast<std::size_t>(c->fd.get());
  --open_;
  if (opt_.max_per_address > 0) {
    auto it = per_address_.find(KeyOf(c->client));
    if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  }
  conns_[fd].reset();  // closing the fd removes it from the epoll set
}

void TcpServer::OnEvent(Conn* c, std::uint32_t events) noexcept {
  if ((events & EPOLLERR) != 0) {
    Close(c);
    return;
  }
  if ((events & EPOLLOUT) != 0 && !Flush(c)) {
    Close(c);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP)) != 0 && !c->peer_closed) {
    const std::size_t cap = 2 + opt_.max_query;
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
        Close(c);
        return;
      }
      break;
    }
  }
  // Answer what is complete (also after a flush made room under the cap).
  if (!Process(c)) {
    Close(c);
    return;
  }
  if (c->queued() > 0 && !Flush(c)) {
    Close(c);
    return;
  }
  if (c->peer_closed && c->queued() == 0) {
    // Everything answerable has been answered; a partial query is dropped.
    Close(c);
    return;
  }
  UpdateInterest(c);
}

void TcpServer::SweepIdle() noexcept {
  for (std::unique_ptr<Conn>& c : conns_) {
    if (c == nullptr) continue;
    if (c->partial && tick_ - c->query_start >= opt_.query_timeout) {
      ++io_.tcp_query_timeouts;
      Close(c.get());
    } else if (tick_ - c->last_active >= opt_.idle_timeout) {
      ++io_.tcp_idle_closed;
      Close(c.get());
    }
  }
}

void TcpServer::Run() noexcept {
  epoll_event events[kMaxEvents];
  auto last_sweep = std::chrono::steady_clock::now();
  const std::chrono::milliseconds shortest = std::min(opt_.idle_timeout, opt_.query_timeout);
  const int wait_ms = static_cast<int>(
      std::clamp<std::int64_t>(shortest.count() / 4, 10, kSweepEvery.count() * 10));
  while (!env_.stop->load(std::memory_order_acquire)) {
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, wait_ms);
    if (env_.stop->load(std::memory_order_acquire)) break;
    zones_ = reader_.Refresh();
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    now_ = ts.tv_sec;
    tick_ = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      std::uint64_t tag = events[i].data.u64 >> 32;
      int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      if (tag == kTagListener) {
        Accept(fd);
      } else if (tag == kTagWake) {
        std::uint64_t v;
        (void)!::read(fd, &v, sizeof(v));
      } else {
        auto idx = static_cast<std::size_t>(fd);
        if (idx < conns_.size() && conns_[idx] != nullptr)
          OnEvent(conns_[idx].get(), events[i].events);
      }
    }
    if (tick_ - last_sweep >= std::min<std::chrono::milliseconds>(kSweepEvery, shortest)) {
      SweepIdle();
      last_sweep = tick_;
    }
    pub_responder_.Publish(stats_);
    pub_io_.Publish(io_);
  }
  for (std::unique_ptr<Conn>& c : conns_) c.reset();
  open_ = 0;
  per_address_.clear();
  pub_responder_.Publish(stats_);
  pub_io_.Publish(io_);
  reader_.Release();
}

}  // namespace meshbl::server::internal
