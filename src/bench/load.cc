#include "meshbl/bench/load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/socket_util.h"
#include "meshbl/bench/validate.h"
#include "meshbl/dns/address.h"
#include "meshbl/util/mapped_file.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace meshbl::bench {

namespace {

constexpr std::size_t kIdSpace = 65536;
constexpr std::uint32_t kMaxWindow = 60000;
constexpr int kMaxSegments = 64;        // UDP_MAX_SEGMENTS on older kernels
constexpr std::size_t kMaxQuery = 512;  // a query is at most 12 + 255 + 4 bytes
constexpr std::size_t kRecvBuf = 4096;
constexpr int kMaxReconnects = 1000;

std::int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t SecondsToNs(double s) { return static_cast<std::int64_t>(std::llround(s * 1e9)); }

using util::UniqueFd;

// Outstanding queries by sequence number; ID = seq mod 65536.
class Tracker {
 public:
  Tracker(const QuerySet& qs, const LoadOptions& o, LoadReport* r, int conns)
      : qs_(qs),
        timeout_ns_(SecondsToNs(o.timeout)),
        r_(r),
        slots_(kIdSpace),
        conn_out_(static_cast<std::size_t>(conns), 0) {}

  std::uint64_t next_seq() const { return next_; }
  std::uint64_t outstanding() const { return outstanding_; }
  std::uint32_t conn_outstanding(int c) const { return conn_out_[static_cast<std::size_t>(c)]; }

  // Frees ID space for `n` more sends: queries that would be overwritten are
  // counted lost now (open loop against a server that stopped answering).
  void MakeRoom(std::size_t n, std::int64_t now) {
    while (next_ + n - oldest_ > kIdSpace) ExpireOne(now, /*force=*/true);
  }

  void Issue(std::uint64_t seq, std::uint32_t query, int conn, std::int64_t now, bool measured) {
    Slot& s = slots_[seq % kIdSpace];
    s = {seq, now, query, static_cast<std::uint16_t>(conn), kOutstanding, measured};
    ++outstanding_;
    ++conn_out_[static_cast<std::size_t>(conn)];
    next_ = seq + 1;
    if (measured) ++r_->sent;
  }

  void OnReply(std::span<const std::uint8_t> msg, int conn, std::int64_t now) {
    const int id = MessageId(msg);
    if (id < 0) {
      ++r_->unexpected;
      return;
    }
    Slot& s = slots_[static_cast<std::size_t>(id)];
    if (s.state == kTimedOut && s.conn == conn) {
      s.state = kDone;
      if (s.measured) ++r_->late;
      return;
    }
    if (s.state != kOutstanding || s.conn != conn) {
      ++r_->unexpected;
      return;
    }
    s.state = kDone;
    --outstanding_;
    --conn_out_[s.conn];
    if (!s.measured) return;
    ++r_->replies;
    r_->latency.Record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - s.sent_ns)));
    if (msg.size() >= 4) {
      ++r_->rcodes[msg[3] & 0x0f];
      if (msg[2] & 0x02) ++r_->truncated;
    }
    const QueryInfo& qi = qs_.info(s.query);
    switch (CheckReply(msg, qs_.packet(s.query), qi.expect_rcode)) {
      case ReplyVerdict::kOk:
        break;
      case ReplyVerdict::kMalformed:
        ++r_->malformed;
        break;
      case ReplyVerdict::kWrongQuestion:
        ++r_->wrong_question;
        break;
      case ReplyVerdict::kWrongRcode:
        ++r_->wrong_rcode;
        break;
    }
  }

  // Counts queries older than the timeout (all of them when `force`) lost.
  void Expire(std::int64_t now, bool force = false) {
    while (oldest_ < next_ && ExpireOne(now, force)) {
    }
  }

  // When the oldest outstanding query times out; INT64_MAX if none.
  std::int64_t NextExpiry() {
    Expire(INT64_MIN / 2);  // skip answered slots only (nothing is that old)
    if (oldest_ == next_) return INT64_MAX;
    return slots_[oldest_ % kIdSpace].sent_ns + timeout_ns_;
  }

  // Queries of a closed TCP connection will never be answered.
  void DropConnection(int conn, std::int64_t now) {
    for (std::uint64_t q = oldest_; q < next_; ++q) {
      Slot& s = slots_[q % kIdSpace];
      if (s.seq == q && s.state == kOutstanding && s.conn == conn) Lose(s);
    }
    Expire(now);
  }

 private:
  enum State : std::uint8_t { kFree, kOutstanding, kTimedOut, kDone };
  struct Slot {
    std::uint64_t seq = 0;
    std::int64_t sent_ns = 0;
    std::uint32_t query = 0;
    std::uint16_t conn = 0;
    State state = kFree;
    bool measured = false;
  };

  void Lose(Slot& s) {
    s.state = kTimedOut;
    --outstanding_;
    --conn_out_[s.conn];
    if (s.measured) ++r_->lost;
  }

  // Advances past the oldest slot if it is answered or expired.
  bool ExpireOne(std::int64_t now, bool force) {
    if (oldest_ == next_) return false;
    Slot& s = slots_[oldest_ % kIdSpace];
    if (s.seq != oldest_ || s.state != kOutstanding) {
      ++oldest_;
      return true;
    }
    if (!force && now - s.sent_ns < timeout_ns_) return false;
    Lose(s);
    ++oldest_;
    return true;
  }

  const QuerySet& qs_;
  const std::int64_t timeout_ns_;
  LoadReport* r_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> conn_out_;
  std::uint64_t next_ = 0, oldest_ = 0, outstanding_ = 0;
};

// The schedule shared by both transports: phases, how many to send now,
// idle accounting, reply gaps and progress.
class Run {
 public:
  Run(const QuerySet& qs, const LoadOptions& o, LoadReport* r, int conns)
      : qs_(qs), o_(o), r_(r), tracker_(qs, o, r, conns) {
    start_ = NowNs();
    measure_start_ = start_ + SecondsToNs(o.warmup);
    measure_end_ = o.count > 0 ? INT64_MAX : measure_start_ + SecondsToNs(o.seconds);
    last_reply_ = measure_start_;
    next_progress_ = measure_start_ + 1'000'000'000;
  }

  Tracker& tracker() { return tracker_; }
  bool measuring(std::int64_t now) const { return now >= measure_start_ && !sending_done_; }
  bool sending() const { return !sending_done_; }

  // Updates the phase; false when the run is over (all answered or timed out).
  bool Tick(std::int64_t now) {
    if (!sending_done_) {
      const bool stop = o_.stop != nullptr && o_.stop->load(std::memory_order_relaxed);
      const bool count_done = o_.count > 0 && r_->sent >= o_.count;
      if (now >= measure_end_ || count_done || stop) EndSending(now);
    }
    tracker_.Expire(now);
    if (!sending_done_ && now >= next_progress_ && o_.progress) {
      next_progress_ += 1'000'000'000;
      LoadReport snap = *r_;
      snap.seconds = static_cast<double>(now - measure_start_) / 1e9;
      o_.progress(snap, snap.seconds);
    }
    if (sending_done_) {
      if (tracker_.outstanding() == 0 || now >= drain_deadline_) {
        tracker_.Expire(now, /*force=*/true);
        return false;
      }
    }
    return true;
  }

  // Queries to send now (for `conn_room` free window when closed loop).
  std::size_t Want(std::int64_t now, std::size_t cap) const {
    if (sending_done_) return 0;
    std::size_t want;
    if (o_.rate > 0) {
      const double due = std::floor(static_cast<double>(now - start_) / 1e9 * o_.rate);
      const double behind = due - static_cast<double>(total_sent_);
      want = behind <= 0 ? 0 : static_cast<std::size_t>(std::min(behind, 1e9));
    } else {
      // Refill in batches: wait until an eighth of the window (at most one
      // batch) is free, so that each send call carries several queries.
      const std::uint64_t out = tracker_.outstanding();
      want = out >= o_.window ? 0 : static_cast<std::size_t>(o_.window - out);
      const std::size_t refill = std::clamp<std::size_t>(o_.window / 8, 1, cap);
      if (want < refill) want = 0;
    }
    if (o_.count > 0 && now >= measure_start_) {
      want = std::min<std::size_t>(want, static_cast<std::size_t>(o_.count - r_->sent));
    }
    return std::min(want, cap);
  }

  // The next query index to send, round robin over the set.
  std::uint32_t NextQuery() {
    const auto q = static_cast<std::uint32_t>(cursor_);
    cursor_ = cursor_ + 1 == qs_.size() ? 0 : cursor_ + 1;
    return q;
  }
  void Unsend(std::size_t n) {  // the last `n` NextQuery() were not sent
    n %= qs_.size();
    cursor_ = (cursor_ + qs_.size() - n) % qs_.size();
  }
  void Sent(std::size_t n) { total_sent_ += n; }

  void RepliesAt(std::int64_t now) {
    if (measuring(now)) {
      r_->max_gap_ns =
          std::max<std::uint64_t>(r_->max_gap_ns, static_cast<std::uint64_t>(now - last_reply_));
    }
    last_reply_ = std::max(now, measure_start_);
  }

  // How long the caller may block: until the next scheduled send, the next
  // expiry, or the end of the phase; at most 10 ms.
  std::int64_t WaitNs(std::int64_t now) {
    std::int64_t until = now + 10'000'000;
    if (!sending_done_) {
      until = std::min(until, measure_end_);
      if (o_.rate > 0) {
        const auto next = start_ + static_cast<std::int64_t>(std::ceil(
                                       static_cast<double>(total_sent_ + 1) / o_.rate * 1e9));
        until = std::min(until, next);
      }
    } else {
      until = std::min(until, drain_deadline_);
    }
    until = std::min(until, tracker_.NextExpiry());
    return std::max<std::int64_t>(0, until - now);
  }

  void Idle(std::int64_t from, std::int64_t to) {
    if (measuring(from)) idle_ns_ += to - from;
  }

  void Finish() {
    r_->seconds = static_cast<double>(send_end_ - measure_start_) / 1e9;
    if (r_->seconds > 0) {
      r_->idle_fraction = std::min(
          1.0, static_cast<double>(idle_ns_) / static_cast<double>(send_end_ - measure_start_));
    }
  }

 private:
  void EndSending(std::int64_t now) {
    sending_done_ = true;
    send_end_ = std::max(now, measure_start_);
    if (now >= measure_start_) {
      r_->max_gap_ns =
          std::max<std::uint64_t>(r_->max_gap_ns, static_cast<std::uint64_t>(now - last_reply_));
    }
    drain_deadline_ = now + SecondsToNs(o_.timeout);
  }

  const QuerySet& qs_;
  const LoadOptions& o_;
  LoadReport* r_;
  Tracker tracker_;
  std::int64_t start_, measure_start_, measure_end_, send_end_ = 0, drain_deadline_ = 0;
  std::int64_t last_reply_, next_progress_, idle_ns_ = 0;
  bool sending_done_ = false;
  std::size_t cursor_ = 0;
  std::uint64_t total_sent_ = 0;
};

timespec ToTimespec(std::int64_t ns) {
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// ---- UDP ----

absl::Status RunUdp(const QuerySet& qs, const LoadOptions& o, LoadReport* r) {
  UniqueFd fd(socket(o.target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Errno("socket");
  SetSocketBuffers(fd.get(), 8 << 20, /*send=*/true);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&o.target), o.target_len) != 0) {
    return Errno("connect");
  }
  bool gso = false;
  if (o.gso) {
    // Probe: setting a socket-wide segment size of 0 is a no-op where the
    // option exists; per-send sizes go in a control message.
    int zero = 0;
    gso = setsockopt(fd.get(), SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  }
  r->gso = gso;
  const auto batch = static_cast<std::size_t>(std::clamp(o.batch, 1, 1024));
  std::vector<std::uint8_t> sendbuf(batch * kMaxQuery);
  std::vector<mmsghdr> smsg(batch);
  std::vector<iovec> siov(batch);
  constexpr std::size_t kCtrl = CMSG_SPACE(sizeof(std::uint16_t));
  std::vector<std::uint8_t> ctrl(batch * kCtrl);
  std::vector<int> segs(batch);
  std::vector<std::uint8_t> recvbuf(batch * kRecvBuf);
  std::vector<mmsghdr> rmsg(batch);
  std::vector<iovec> riov(batch);
  std::vector<std::uint32_t> batch_queries(batch);

  Run run(qs, o, r, 1);
  Tracker& t = run.tracker();
  std::uint64_t recv_msgs = 0, queries_sent_calls = 0;
  for (;;) {
    std::int64_t now = NowNs();
    if (!run.Tick(now)) break;
    bool busy = false;
    std::size_t want = run.Want(now, batch);
    if (want > 0) {
      t.MakeRoom(want, now);
      const std::uint64_t base = t.next_seq();
      std::size_t nmsg = 0, off = 0;
      std::uint16_t last_len = 0;
      for (std::size_t i = 0; i < want; ++i) {
        const std::uint32_t q = run.NextQuery();
        batch_queries[i] = q;
        auto pkt = qs.packet(q);
        std::memcpy(&sendbuf[off], pkt.data(), pkt.size());
        const auto id = static_cast<std::uint16_t>((base + i) % kIdSpace);
        sendbuf[off] = static_cast<std::uint8_t>(id >> 8);
        sendbuf[off + 1] = static_cast<std::uint8_t>(id);
        const auto len = static_cast<std::uint16_t>(pkt.size());
        if (gso && nmsg > 0 && len == last_len && segs[nmsg - 1] < kMaxSegments) {
          siov[nmsg - 1].iov_len += len;
          ++segs[nmsg - 1];
        } else {
          siov[nmsg] = {&sendbuf[off], len};
          segs[nmsg] = 1;
          ++nmsg;
        }
        last_len = len;
        off += len;
      }
      for (std::size_t m = 0; m < nmsg; ++m) {
        msghdr& h = smsg[m].msg_hdr;
        h = {};
        h.msg_iov = &siov[m];
        h.msg_iovlen = 1;
        if (segs[m] > 1) {
          h.msg_control = &ctrl[m * kCtrl];
          h.msg_controllen = kCtrl;
          cmsghdr* c = CMSG_FIRSTHDR(&h);
          c->cmsg_level = SOL_UDP;
          c->cmsg_type = UDP_SEGMENT;
          c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
          const auto seg =
              static_cast<std::uint16_t>(siov[m].iov_len / static_cast<std::size_t>(segs[m]));
          std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
        }
      }
      const std::int64_t ts = NowNs();
      const int n = sendmmsg(fd.get(), smsg.data(), static_cast<unsigned>(nmsg), MSG_DONTWAIT);
      std::size_t sent = 0;
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) ++r->send_errors;
      } else {
        for (int m = 0; m < n; ++m)
          sent += static_cast<std::size_t>(segs[static_cast<std::size_t>(m)]);
        if (run.measuring(ts)) {
          ++r->send_calls;
          queries_sent_calls += sent;
        }
      }
      const bool measured = run.measuring(now);
      for (std::size_t i = 0; i < sent; ++i) {
        t.Issue(base + i, batch_queries[i], 0, ts, measured);
      }
      run.Unsend(want - sent);
      run.Sent(sent);
      busy = sent > 0;
    }
    for (std::size_t i = 0; i < batch; ++i) {
      riov[i] = {&recvbuf[i * kRecvBuf], kRecvBuf};
      rmsg[i].msg_hdr = {};
      rmsg[i].msg_hdr.msg_iov = &riov[i];
      rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    const int n =
        recvmmsg(fd.get(), rmsg.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
    if (n > 0) {
      now = NowNs();
      if (run.measuring(now)) {
        ++r->recv_calls;
        recv_msgs += static_cast<std::uint64_t>(n);
      }
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        t.OnReply({&recvbuf[k * kRecvBuf], std::min<std::size_t>(rmsg[k].msg_len, kRecvBuf)}, 0,
                  now);
      }
      run.RepliesAt(now);
      busy = true;
    } else if (n < 0 && errno == ECONNREFUSED) {
      ++r->send_errors;
    }
    if (!busy) {
      const std::int64_t wait = run.WaitNs(now);
      if (wait > 0) {
        pollfd p{fd.get(), POLLIN, 0};
        const timespec ts = ToTimespec(wait);
        ppoll(&p, 1, &ts, nullptr);
        run.Idle(now, NowNs());
      }
    }
  }
  run.Finish();
  if (r->recv_calls > 0) {
    r->recv_batch_fill =
        static_cast<double>(recv_msgs) / static_cast<double>(r->recv_calls * batch);
  }
  if (r->send_calls > 0) {
    r->sends_per_call =
        static_cast<double>(queries_sent_calls) / static_cast<double>(r->send_calls);
  }
  return absl::OkStatus();
}

// ---- TCP ----

struct Conn {
  UniqueFd fd;
  std::vector<std::uint8_t> out;
  std::size_t out_off = 0;
  std::vector<std::uint8_t> in;
};

absl::Status Connect(const LoadOptions& o, Conn* c) {
  UniqueFd fd(socket(o.target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Errno("socket");
  timeval tv{5, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect()
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&o.target), o.target_len) != 0) {
    return Errno("connect");
  }
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) | O_NONBLOCK) != 0) {
    return Errno("fcntl");
  }
  c->fd = std::move(fd);
  c->out.clear();
  c->out_off = 0;
  c->in.clear();
  return absl::OkStatus();
}

// Writes what is queued; false when the connection failed.
bool Flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    const ssize_t n = send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    c.out_off += static_cast<std::size_t>(n);
  }
  c.out.clear();
  c.out_off = 0;
  return true;
}

absl::Status RunTcp(const QuerySet& qs, const LoadOptions& o, LoadReport* r) {
  const int nconn = std::clamp(o.connections, 1, 1024);
  std::vector<Conn> conns(static_cast<std::size_t>(nconn));
  for (auto& c : conns) {
    if (auto st = Connect(o, &c); !st.ok()) return st;
  }
  const std::uint32_t per_conn = std::max<std::uint32_t>(
      1, (o.window + static_cast<std::uint32_t>(nconn) - 1) / static_cast<std::uint32_t>(nconn));
  std::vector<pollfd> pfds(static_cast<std::size_t>(nconn));
  std::vector<std::uint8_t> buf(64 * 1024);
  Run run(qs, o, r, nconn);
  Tracker& t = run.tracker();
  std::size_t rr = 0;  // open loop: next connection
  std::uint64_t frames = 0;
  int reconnects = 0;
  for (;;) {
    std::int64_t now = NowNs();
    if (!run.Tick(now)) break;
    bool busy = false;
    std::size_t want = run.Want(now, 4096);
    if (want > 0) {
      t.MakeRoom(want, now);
      const bool measured = run.measuring(now);
      std::size_t sent = 0;
      auto enqueue = [&](std::size_t ci) {
        Conn& c = conns[ci];
        const std::uint32_t q = run.NextQuery();
        auto pkt = qs.packet(q);
        const std::uint64_t seq = t.next_seq();
        const auto id = static_cast<std::uint16_t>(seq % kIdSpace);
        const std::uint8_t head[4] = {
            static_cast<std::uint8_t>(pkt.size() >> 8), static_cast<std::uint8_t>(pkt.size()),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
        c.out.insert(c.out.end(), head, head + 4);
        c.out.insert(c.out.end(), pkt.begin() + 2, pkt.end());
        t.Issue(seq, q, static_cast<int>(ci), now, measured);
        ++sent;
      };
      if (o.rate > 0) {  // open loop: deal the due queries round robin
        for (std::size_t tries = 0; sent < want && tries < want + conns.size(); ++tries) {
          const std::size_t ci = rr++ % conns.size();
          if (conns[ci].fd.get() >= 0) enqueue(ci);
        }
      } else {  // closed loop: fill each connection's share of the window
        for (std::size_t ci = 0; ci < conns.size() && sent < want; ++ci) {
          while (conns[ci].fd.get() >= 0 && sent < want &&
                 t.conn_outstanding(static_cast<int>(ci)) < per_conn) {
            enqueue(ci);
          }
        }
      }
      run.Sent(sent);
      busy = sent > 0;
    }
    for (std::size_t ci = 0; ci < conns.size(); ++ci) {
      Conn& c = conns[ci];
      if (c.fd.get() >= 0 && !c.out.empty()) {
        if (run.measuring(now)) ++r->send_calls;
        if (!Flush(c)) {
          ++r->send_errors;
          c.fd = UniqueFd();
          t.DropConnection(static_cast<int>(ci), now);
        }
      }
      pfds[ci] = {c.fd.get(), static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0};
    }
    const std::int64_t wait = busy ? 0 : run.WaitNs(now);
    const timespec ts = ToTimespec(wait);
    const int ready = ppoll(pfds.data(), pfds.size(), &ts, nullptr);
    const std::int64_t after = NowNs();
    if (!busy) run.Idle(now, after);
    if (ready <= 0) continue;
    bool got = false;
    for (std::size_t ci = 0; ci < conns.size(); ++ci) {
      Conn& c = conns[ci];
      if (c.fd.get() < 0 || (pfds[ci].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
      const ssize_t n = recv(c.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) {  // closed by the server, or an error: its queries are lost
        c.fd = UniqueFd();
        t.DropConnection(static_cast<int>(ci), after);
        if (run.sending() && reconnects < kMaxReconnects) {
          ++reconnects;
          ++r->tcp_reconnects;
          if (!Connect(o, &c).ok()) ++r->send_errors;
        }
        continue;
      }
      if (run.measuring(after)) ++r->recv_calls;
      c.in.insert(c.in.end(), buf.begin(), buf.begin() + n);
      std::size_t pos = 0;
      while (c.in.size() - pos >= 2) {
        const std::size_t len = static_cast<std::size_t>(c.in[pos] << 8 | c.in[pos + 1]);
        if (c.in.size() - pos - 2 < len) break;
        t.OnReply({c.in.data() + pos + 2, len}, static_cast<int>(ci), after);
        if (run.measuring(after)) ++frames;
        pos += 2 + len;
        got = true;
      }
      c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
    }
    if (got) run.RepliesAt(after);
  }
  run.Finish();
  if (r->recv_calls > 0) {
    r->recv_batch_fill = static_cast<double>(frames) / static_cast<double>(r->recv_calls) / 64.0;
  }
  if (r->send_calls > 0) {
    r->sends_per_call = static_cast<double>(r->sent) / static_cast<double>(r->send_calls);
  }
  return absl::OkStatus();
}

}  // namespace

std::string LoadReport::Saturated() const {
  if (open_loop) {
    const double achieved = seconds > 0 ? static_cast<double>(sent) / seconds : 0;
    return achieved >= 0.98 * offered_rate ? "rate" : "generator";
  }
  return idle_fraction >= 0.05 ? "server" : "generator";
}

absl::StatusOr<LoadReport> RunLoad(const QuerySet& queries, const LoadOptions& options) {
  if (queries.empty()) return absl::InvalidArgumentError("no queries to send");
  if (options.target_len == 0) return absl::InvalidArgumentError("no target address");
  if (options.rate <= 0 && (options.window < 1 || options.window > kMaxWindow)) {
    return absl::InvalidArgumentError(absl::StrCat("window must be 1..", kMaxWindow));
  }
  if (options.count == 0 && !(options.seconds > 0 && options.seconds <= 86400)) {
    return absl::InvalidArgumentError("duration must be in (0, 86400] seconds");
  }
  if (!(options.warmup >= 0 && options.warmup <= 3600)) {
    return absl::InvalidArgumentError("warm-up must be in [0, 3600] seconds");
  }
  if (!(options.timeout > 0 && options.timeout <= 60)) {
    return absl::InvalidArgumentError("timeout must be in (0, 60] seconds");
  }
  if (options.rate < 0 || options.rate > 1e8) {
    return absl::InvalidArgumentError("rate must be in [0, 1e8] queries per second");
  }
  // Open loop sleeps between scheduled sends: ask for precise wake-ups
  // (the default 50 us timer slack would turn them into bursts).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  LoadReport r;
  r.transport = options.transport;
  r.open_loop = options.rate > 0;
  r.offered_rate = options.rate;
  r.window = options.rate > 0 ? 0 : options.window;
  absl::Status st = options.transport == Transport::kUdp ? RunUdp(queries, options, &r)
                                                         : RunTcp(queries, options, &r);
  if (!st.ok()) return st;
  return r;
}

bool ParseHostPort(const std::string& text, sockaddr_storage* out, socklen_t* len) {
  std::string host = text;
  std::string port = "53";
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':' && text[close + 1] != '/') return false;
      port = text.substr(close + 2);
    }
  } else {
    const auto sep = text.find_last_of(":/");
    // A bare IPv6 address has several colons and no port.
    if (sep != std::string::npos && (text[sep] == '/' || text.find(':') == sep)) {
      host = text.substr(0, sep);
      port = text.substr(sep + 1);
    }
  }
  char* end = nullptr;
  const unsigned long p = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p == 0 || p > 65535) return false;
  const std::optional<dns::IpAddress> a = dns::IpAddress::Parse(host);
  if (!a) return false;
  *len = a->ToSockaddr(static_cast<std::uint16_t>(p), out);
  return true;
}

}  // namespace meshbl::bench
