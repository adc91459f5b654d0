// The stream event loop (util/event_loop.h), tested once for every service
// that will use it: accept and framing with a test line protocol (one
// message per line, and Postfix-policy blocks ending in an empty line) and
// a test length-prefixed protocol (1, 2 and 4 byte prefixes); pipelined
// messages in one write and one message across many writes (generated
// split points); idle timeout; message deadline (slow drip) and its restart
// with each message; total and per-address connection limits (127.0.0.1
// vs 127.0.0.2); message size limit around the edge; backpressure (a client
// that does not read: no further message is handed out, the queue stays
// bounded, everything arrives once it reads); half-close; a unix socket
// listener; a reply sent later; timers; Stop() from another thread;
// descriptors watched with AddFd() (called back exactly when readable, past
// one epoll batch; removal inside a callback, of itself or of a descriptor
// whose event is already collected; a callback that never reads does not
// starve timers; refused descriptors). Every loop is bounded; sockets are
// on 127.0.0.0/8 or a private directory.
#include "meshbl/util/event_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace meshbl::util {
namespace {

using std::chrono::milliseconds;
using Bytes = std::vector<std::uint8_t>;

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Frames `m` with a big-endian prefix of `n` bytes.
Bytes Prefixed(const Bytes& m, int n) {
  Bytes out;
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(m.size() >> (8 * i)));
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

template <typename F>
bool WaitFor(F f, milliseconds limit = milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return f();
}

// The echo service: each message comes back framed as it came, prefixed
// with "re:" (so a reply is never the request by accident). A message
// "later" is answered 50 ms later from a timer (Defer, then Reply); a
// message "big" is answered with `big_reply` bytes (backpressure).
class Echo : public StreamService {
 public:
  explicit Echo(Framing f) : framing_(std::move(f)) {}
  std::unique_ptr<StreamSession> Open(const sockaddr_storage&) noexcept override {
    return std::make_unique<Session>(this);
  }
  Bytes Frame(const Bytes& m) const {
    if (framing_.kind == Framing::Kind::kLengthPrefix) return Prefixed(m, framing_.prefix_bytes);
    Bytes out = m;
    out.insert(out.end(), framing_.delimiter.begin(), framing_.delimiter.end());
    return out;
  }
  std::size_t big_reply = 32 * 1024;
  std::size_t max_queued_seen = 0;  // loop thread only

 private:
  class Session : public StreamSession {
   public:
    explicit Session(Echo* e) : e_(e) {}
    bool OnMessage(StreamConn& conn, std::span<const std::uint8_t> m) noexcept override {
      Bytes msg(m.begin(), m.end());
      if (msg == B("later")) {
        ConnId id = conn.id();
        EventLoop* loop = &conn.loop();
        Bytes reply = e_->Frame(B("re:later"));
        conn.Defer();
        loop->AddTimer(milliseconds(50), [loop, id, reply] { loop->Reply(id, reply); });
        return true;
      }
      Bytes reply;
      if (msg.size() >= 3 && msg[0] == 'b' && msg[1] == 'i' && msg[2] == 'g') {
        reply = msg;  // "big" + index, padded
        reply.resize(e_->big_reply, '.');
      } else {
        reply = B("re:");
        reply.insert(reply.end(), msg.begin(), msg.end());
      }
      bool ok = conn.Send(e_->Frame(reply));
      e_->max_queued_seen = std::max(e_->max_queued_seen, conn.queued());
      return ok;
    }

   private:
    Echo* e_;
  };
  Framing framing_;
};

// A loop on its own thread with one echo service on a 127.0.0.1 port.
class Harness {
 public:
  Harness(Framing f, StreamLimits limits, bool unix_socket = false)
      : echo_(f), framing_(std::move(f)) {
    auto loop = EventLoop::Create();
    EXPECT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    service_ = loop_->AddService(&echo_, framing_, limits);
    if (unix_socket) {
      char tmpl[] = "/tmp/meshbl-evloop-XXXXXX";
      dir_ = ::mkdtemp(tmpl);
      path_ = dir_ + "/s";
      auto fd = OpenUnixListener(path_);
      EXPECT_TRUE(fd.ok()) << fd.status();
      EXPECT_TRUE(loop_->AddListener(service_, std::move(*fd)).ok());
    } else {
      UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(::bind(l.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
      EXPECT_EQ(::listen(l.get(), 128), 0);
      socklen_t len = sizeof(sin);
      ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&sin), &len);
      port_ = ntohs(sin.sin_port);
      EXPECT_TRUE(loop_->AddListener(service_, std::move(l)).ok());
    }
    thread_ = std::thread([this] { loop_->Run(); });
  }
  ~Harness() {
    loop_->Stop();
    thread_.join();
    if (!path_.empty()) {
      ::unlink(path_.c_str());
      ::rmdir(dir_.c_str());
    }
  }
  // The service's counters, read on the loop thread (through Post).
  StreamStats Stats() {
    auto p = std::make_shared<std::promise<StreamStats>>();
    auto f = p->get_future();
    loop_->Post([this, p] { p->set_value(loop_->stats(service_)); });
    EXPECT_EQ(f.wait_for(milliseconds(5000)), std::future_status::ready);
    return f.get();
  }
  std::size_t MaxQueuedSeen() {
    auto p = std::make_shared<std::promise<std::size_t>>();
    auto f = p->get_future();
    loop_->Post([this, p] { p->set_value(echo_.max_queued_seen); });
    EXPECT_EQ(f.wait_for(milliseconds(5000)), std::future_status::ready);
    return f.get();
  }
  Echo& echo() { return echo_; }
  EventLoop& loop() { return *loop_; }
  // Open connections of the service, read on the loop thread.
  int loop_connections() {
    auto p = std::make_shared<std::promise<int>>();
    auto f = p->get_future();
    loop_->Post([this, p] { p->set_value(loop_->open_connections(service_)); });
    EXPECT_EQ(f.wait_for(milliseconds(5000)), std::future_status::ready);
    return f.get();
  }
  std::uint16_t port() const { return port_; }
  const std::string& path() const { return path_; }

 private:
  Echo echo_;
  Framing framing_;
  std::unique_ptr<EventLoop> loop_;
  EventLoop::ServiceId service_ = 0;
  std::uint16_t port_ = 0;
  std::string dir_, path_;
  std::thread thread_;
};

class Client {
 public:
  // TCP to 127.0.0.1:port from `source`.
  Client(std::uint16_t port, const char* source = "127.0.0.1")
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  }
  // A unix-socket client.
  explicit Client(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.data(), path.size());
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0);
  }
  int fd() const { return fd_.get(); }

  bool Send(const Bytes& b) {
    std::size_t off = 0;
    for (int i = 0; i < 10'000 && off < b.size(); ++i) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, 2000) != 1) return false;
      ssize_t n = ::send(fd_.get(), b.data() + off, b.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return off == b.size();
  }
  // Exactly n bytes within `timeout`, or what came before EOF/timeout.
  Bytes Read(std::size_t n, milliseconds timeout = milliseconds(3000)) {
    Bytes out(n);
    std::size_t got = 0;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (got < n) {
      auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
      ssize_t r = ::recv(fd_.get(), out.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
  }
  // True when the peer closes within `timeout` (data in flight discarded).
  bool ClosedWithin(milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    std::uint8_t buf[65536];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      ssize_t r = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN)) return true;
    }
    return false;
  }
  // One round trip through the echo service.
  bool Echoes(const Echo& e, const Bytes& m) {
    Bytes want = B("re:");
    want.insert(want.end(), m.begin(), m.end());
    want = e.Frame(want);
    return Send(e.Frame(m)) && Read(want.size()) == want;
  }

 private:
  UniqueFd fd_;
};

StreamLimits Limits() {
  StreamLimits l;
  l.max_per_address = 0;
  return l;
}

std::vector<Framing> AllFramings() {
  return {Framing::LengthPrefix(1), Framing::LengthPrefix(2),   Framing::LengthPrefix(4),
          Framing::Delimited("\n"), Framing::Delimited("\n\n"), Framing::Delimited("\r\n")};
}

std::string Name(const Framing& f) {
  if (f.kind == Framing::Kind::kLengthPrefix) return "prefix" + std::to_string(f.prefix_bytes);
  std::string d;
  for (char ch : f.delimiter) d += ch == '\n' ? "\\n" : "\\r";
  return "delimited " + d;
}

// Generated messages for a framing: sizes 1..max, bytes that cannot hold
// the delimiter (every other byte value appears).
Bytes Message(const Framing& f, std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes m(size);
  for (std::uint8_t& b : m) {
    b = static_cast<std::uint8_t>(rng());
    if (f.kind == Framing::Kind::kDelimited && (b == '\n' || b == '\r')) b = 'x';
  }
  return m;
}

// Postfix's policy protocol: name=value lines ending in an empty line.
TEST(EventLoop, PolicyProtocolRequestsAreAnsweredPerBlock) {
  Harness h(Framing::Delimited("\n\n"), Limits());
  Client c(h.port());
  const std::string req1 = "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@b.example";
  const std::string req2 = "request=smtpd_access_policy\nclient_address=192.0.2.1";
  // Both requests in one write: two replies, in order.
  ASSERT_TRUE(c.Send(B(req1 + "\n\n" + req2 + "\n\n")));
  std::string want = "re:" + req1 + "\n\n" + "re:" + req2 + "\n\n";
  EXPECT_EQ(c.Read(want.size()), B(want));
  EXPECT_EQ(h.Stats().messages, 2u);
}

// Pipelined messages of every size 1..40 (and a few large ones) in one
// write, for every framing: every reply in order.
TEST(EventLoop, PipelinedMessagesInOneWriteAnsweredInOrder) {
  for (const Framing& f : AllFramings()) {
    SCOPED_TRACE(Name(f));
    StreamLimits l = Limits();
    l.max_message = 200;
    Harness h(f, l);
    Client c(h.port());
    Bytes all, want;
    std::vector<std::size_t> sizes;
    for (std::size_t s = 1; s <= 40; ++s) sizes.push_back(s);
    sizes.insert(sizes.end(), {197, 199, 200});
    if (f.prefix_bytes == 1 && f.kind == Framing::Kind::kLengthPrefix) {
      sizes.erase(std::remove_if(sizes.begin(), sizes.end(), [](std::size_t s) { return s > 197; }),
                  sizes.end());
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      Bytes m = Message(f, sizes[i], static_cast<std::uint32_t>(i));
      Bytes fm = h.echo().Frame(m);
      all.insert(all.end(), fm.begin(), fm.end());
      Bytes r = B("re:");
      r.insert(r.end(), m.begin(), m.end());
      Bytes fr = h.echo().Frame(r);
      want.insert(want.end(), fr.begin(), fr.end());
    }
    ASSERT_TRUE(c.Send(all));
    EXPECT_EQ(c.Read(want.size()), want);
    EXPECT_EQ(h.Stats().messages, sizes.size());
    EXPECT_EQ(h.Stats().framing_errors, 0u);
  }
}

// One message across many writes, at generated split points (every
// framing, 1 to 12 pieces, including splits inside the prefix or the
// delimiter): one reply, the same as in one write.
TEST(EventLoop, OneMessageAcrossManyWrites) {
  for (const Framing& f : AllFramings()) {
    SCOPED_TRACE(Name(f));
    Harness h(f, Limits());
    Client c(h.port());
    std::mt19937 rng(7);
    std::uint64_t sent = 0;
    for (std::uint32_t round = 0; round < 12; ++round) {
      Bytes m = Message(f, 1 + rng() % 120, round);
      Bytes fm = h.echo().Frame(m);
      std::vector<std::size_t> cuts;
      for (std::uint32_t i = 0; i < round; ++i) cuts.push_back(1 + rng() % (fm.size() - 1));
      cuts.push_back(fm.size());
      std::sort(cuts.begin(), cuts.end());
      std::size_t from = 0;
      for (std::size_t cut : cuts) {
        if (cut <= from) continue;
        ASSERT_TRUE(c.Send(Bytes(fm.begin() + static_cast<std::ptrdiff_t>(from),
                                 fm.begin() + static_cast<std::ptrdiff_t>(cut))));
        from = cut;
        std::this_thread::sleep_for(milliseconds(2));  // separate reads
      }
      ++sent;
      Bytes r = B("re:");
      r.insert(r.end(), m.begin(), m.end());
      EXPECT_EQ(c.Read(h.echo().Frame(r).size()), h.echo().Frame(r)) << "round " << round;
    }
    EXPECT_EQ(h.Stats().messages, sent);
  }
}

TEST(EventLoop, IdleConnectionIsClosedByTheIdleTimeout) {
  StreamLimits l = Limits();
  l.idle_timeout = milliseconds(200);
  Harness h(Framing::LengthPrefix(2), l);
  Client idle(h.port());
  Client busy(h.port());
  ASSERT_TRUE(busy.Echoes(h.echo(), B("x")));
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(3000)));
  EXPECT_TRUE(WaitFor([&] { return h.Stats().idle_closed >= 1; }));
  EXPECT_EQ(h.Stats().message_timeouts, 0u);
}

// A client that drips one byte every 50 ms never completes a message in
// the 300 ms deadline, though it is never idle for the 10 s idle timeout.
TEST(EventLoop, SlowDripIsCutOffByTheMessageDeadline) {
  for (const Framing& f : {Framing::LengthPrefix(2), Framing::Delimited("\n\n")}) {
    SCOPED_TRACE(Name(f));
    StreamLimits l = Limits();
    l.message_timeout = milliseconds(300);
    l.idle_timeout = milliseconds(10'000);
    Harness h(f, l);
    Client c(h.port());
    Bytes fm = h.echo().Frame(Message(f, 100, 1));
    bool closed = false;
    for (std::size_t i = 0; i + 1 < fm.size() && !closed; ++i) {
      if (!c.Send(Bytes{fm[i]})) break;
      closed = c.ClosedWithin(milliseconds(50));
    }
    EXPECT_TRUE(closed);
    EXPECT_TRUE(WaitFor([&] { return h.Stats().message_timeouts == 1; }));
    EXPECT_EQ(h.Stats().idle_closed, 0u);
    EXPECT_EQ(h.Stats().messages, 0u);
  }
}

// The deadline is per message: complete messages spread over 4x the
// deadline keep the connection open.
TEST(EventLoop, MessageDeadlineRestartsWithEachMessage) {
  StreamLimits l = Limits();
  l.message_timeout = milliseconds(300);
  Harness h(Framing::Delimited("\n"), l);
  Client c(h.port());
  for (int i = 0; i < 8; ++i) {
    // Each message in two halves 100 ms apart: well inside its deadline.
    ASSERT_TRUE(c.Send(B("hel")));
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_TRUE(c.Send(B("lo\n")));
    EXPECT_EQ(c.Read(9), B("re:hello\n"));
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(h.Stats().message_timeouts, 0u);
}

TEST(EventLoop, TotalConnectionLimitRefusesExtraConnections) {
  StreamLimits l = Limits();
  l.max_connections = 3;
  Harness h(Framing::LengthPrefix(2), l);
  std::vector<std::unique_ptr<Client>> cs;
  for (int i = 0; i < 3; ++i) {
    cs.push_back(std::make_unique<Client>(h.port(), i == 0 ? "127.0.0.1" : "127.0.0.2"));
    ASSERT_TRUE(cs.back()->Echoes(h.echo(), B("ok")));
  }
  Client extra(h.port(), "127.0.0.3");
  EXPECT_TRUE(extra.ClosedWithin(milliseconds(3000)));
  EXPECT_TRUE(WaitFor([&] { return h.Stats().refused == 1; }));
  for (auto& c : cs) EXPECT_TRUE(c->Echoes(h.echo(), B("still")));
  // A slot that comes free is usable again.
  cs.pop_back();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    Client again(h.port(), "127.0.0.3");
    served = again.Echoes(h.echo(), B("again"));
  }
  EXPECT_TRUE(served);
  EXPECT_EQ(h.Stats().refused_per_address, 0u);
}

TEST(EventLoop, PerAddressLimitRefusesOneAddressOnly) {
  StreamLimits l = Limits();
  l.max_per_address = 2;
  Harness h(Framing::LengthPrefix(2), l);
  auto a1 = std::make_unique<Client>(h.port(), "127.0.0.1");
  Client a2(h.port(), "127.0.0.1");
  ASSERT_TRUE(a1->Echoes(h.echo(), B("1")));
  ASSERT_TRUE(a2.Echoes(h.echo(), B("2")));
  Client a3(h.port(), "127.0.0.1");
  EXPECT_TRUE(a3.ClosedWithin(milliseconds(3000)));
  EXPECT_TRUE(WaitFor([&] { return h.Stats().refused_per_address == 1; }));
  Client b1(h.port(), "127.0.0.2");
  Client b2(h.port(), "127.0.0.2");
  EXPECT_TRUE(b1.Echoes(h.echo(), B("b1")));
  EXPECT_TRUE(b2.Echoes(h.echo(), B("b2")));
  // Closing one of 127.0.0.1's connections gives that address a slot back.
  a1.reset();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    Client again(h.port(), "127.0.0.1");
    served = again.Echoes(h.echo(), B("again"));
  }
  EXPECT_TRUE(served);
  EXPECT_EQ(h.Stats().refused, 0u);
}

// Sizes around max_message: up to it echoed; above it the connection is
// closed and counted, for every framing; a zero length prefix is an error
// unless the framing allows it.
TEST(EventLoop, MessageSizeLimit) {
  for (const Framing& f : AllFramings()) {
    SCOPED_TRACE(Name(f));
    StreamLimits l = Limits();
    l.max_message = f.kind == Framing::Kind::kLengthPrefix && f.prefix_bytes == 1 ? 100 : 1000;
    Harness h(f, l);
    std::uint64_t errors = 0;
    for (std::size_t size : {std::size_t{1}, l.max_message - 1, l.max_message, l.max_message + 1,
                             l.max_message + 2, 2 * l.max_message}) {
      SCOPED_TRACE(size);
      if (f.prefix_bytes == 1 && f.kind == Framing::Kind::kLengthPrefix && size > 255) continue;
      Client c(h.port());
      Bytes m = Message(f, size, static_cast<std::uint32_t>(size));
      if (size <= l.max_message) {
        EXPECT_TRUE(c.Echoes(h.echo(), m));
      } else {
        ASSERT_TRUE(c.Send(h.echo().Frame(m)));
        EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
        ++errors;
        EXPECT_TRUE(WaitFor([&] { return h.Stats().framing_errors == errors; }));
      }
    }
  }
  for (bool zero_ok : {false, true}) {
    Harness h(Framing::LengthPrefix(2, zero_ok), Limits());
    Client c(h.port());
    ASSERT_TRUE(c.Send(Bytes{0, 0}));
    if (zero_ok) {
      EXPECT_EQ(c.Read(5), (Bytes{0, 3, 'r', 'e', ':'}));
    } else {
      EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
      EXPECT_TRUE(WaitFor([&] { return h.Stats().framing_errors == 1; }));
    }
  }
}

// A client that sends many requests for big replies and does not read:
// the loop stops handing out messages once max_queued bytes wait, the
// queue never exceeds max_queued + one reply, another client is served
// meanwhile, and once the client reads every reply arrives, in order.
TEST(EventLoop, BackpressureBoundsWhatAClientThatDoesNotReadCosts) {
  StreamLimits l = Limits();
  l.max_queued = 64 * 1024;
  l.message_timeout = milliseconds(30'000);  // not reading for a while is the point here
  Harness h(Framing::LengthPrefix(4), l);
  const std::size_t kReply = h.echo().big_reply;
  const int kRequests = 4000;  // 128 MiB of replies: more than socket buffers
  Client slow(h.port());
  Bytes all;
  for (int i = 0; i < kRequests; ++i) {
    std::string m = "big" + std::to_string(100000 + i);
    Bytes fm = Prefixed(B(m), 4);
    all.insert(all.end(), fm.begin(), fm.end());
  }
  ASSERT_TRUE(slow.Send(all));
  EXPECT_TRUE(WaitFor([&] { return h.Stats().paused >= 1; }));
  const std::uint64_t handed = h.Stats().messages;
  EXPECT_LT(handed, static_cast<std::uint64_t>(kRequests));
  EXPECT_LE(h.MaxQueuedSeen(), l.max_queued + kReply + 4);
  // Still paused a while later: nothing more was handed out.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(h.Stats().messages, handed);
  Client other(h.port());
  EXPECT_TRUE(other.Echoes(h.echo(), B("meanwhile")));
  // Now read: every reply, in order.
  for (int i = 0; i < kRequests; ++i) {
    Bytes r = slow.Read(4 + kReply);
    ASSERT_EQ(r.size(), 4 + kReply)
        << "reply " << i << " timeouts " << h.Stats().message_timeouts << " idle "
        << h.Stats().idle_closed << " framing " << h.Stats().framing_errors;
    ASSERT_EQ(std::string(r.begin() + 4, r.begin() + 13), "big" + std::to_string(100000 + i));
  }
  EXPECT_LE(h.MaxQueuedSeen(), l.max_queued + kReply + 4);
}

// Review of issue 9: a client that pipelines requests and then reads a
// byte now and then cannot hold its slot: a queued reply not written within
// the message deadline closes the connection, counted apart.
TEST(EventLoop, SlowReaderIsCutOffByTheReplyDeadline) {
  StreamLimits l = Limits();
  l.max_queued = 64 * 1024;
  l.message_timeout = milliseconds(300);
  l.idle_timeout = milliseconds(10'000);
  Harness h(Framing::LengthPrefix(4), l);
  Client slow(h.port());
  Bytes all;
  for (int i = 0; i < 4000; ++i) {  // 128 MiB of replies: more than the socket buffers
    Bytes fm = Prefixed(B("big" + std::to_string(100000 + i)), 4);
    all.insert(all.end(), fm.begin(), fm.end());
  }
  ASSERT_TRUE(slow.Send(all));
  bool cut = false;
  for (int i = 0; i < 100 && !cut; ++i) {  // a byte every 50 ms, 5 s at most
    std::this_thread::sleep_for(milliseconds(50));
    std::uint8_t b = 0;
    (void)::recv(slow.fd(), &b, 1, MSG_DONTWAIT);
    cut = h.Stats().reply_timeouts == 1;
  }
  EXPECT_TRUE(cut) << "messages " << h.Stats().messages << " idle " << h.Stats().idle_closed;
  EXPECT_EQ(h.loop_connections(), 0) << "the slow reader's connection is closed";
  EXPECT_EQ(h.Stats().idle_closed, 0u);
  // A reader that keeps up is never cut off, however long the exchange.
  Client fast(h.port());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(fast.Echoes(h.echo(), B("q" + std::to_string(i))));
  EXPECT_EQ(h.Stats().reply_timeouts, 1u);
}

// A client that half-closes after pipelined requests gets every reply,
// then EOF; a partial message left over is dropped.
TEST(EventLoop, HalfCloseAnswersWhatIsCompleteThenCloses) {
  Harness h(Framing::Delimited("\n"), Limits());
  Client c(h.port());
  ASSERT_TRUE(c.Send(B("a\nbb\nccc")));
  ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
  EXPECT_EQ(c.Read(11), B("re:a\nre:bb\n"));
  EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  EXPECT_EQ(h.Stats().messages, 2u);
}

// Half-close after more requests than backpressure lets through at once:
// every reply still arrives, in order, then EOF.
TEST(EventLoop, HalfCloseAfterManyRequestsAnswersThemAll) {
  StreamLimits l = Limits();
  l.max_queued = 64 * 1024;
  Harness h(Framing::LengthPrefix(4), l);
  const std::size_t kReply = h.echo().big_reply;
  const int kRequests = 2000;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    Client c(h.port());
    Bytes all;
    for (int i = 0; i < kRequests; ++i) {
      Bytes fm = Prefixed(B("big" + std::to_string(100000 + i)), 4);
      all.insert(all.end(), fm.begin(), fm.end());
    }
    ASSERT_TRUE(c.Send(all));
    ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
    for (int i = 0; i < kRequests; ++i) {
      Bytes r = c.Read(4 + kReply);
      ASSERT_EQ(r.size(), 4 + kReply) << "reply " << i;
      ASSERT_EQ(std::string(r.begin() + 4, r.begin() + 13), "big" + std::to_string(100000 + i));
    }
    EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  }
}

// The control socket's shape: a unix listener, not limited per address.
TEST(EventLoop, UnixSocketListener) {
  StreamLimits l = Limits();
  l.max_per_address = 1;
  Harness h(Framing::Delimited("\n"), l, /*unix_socket=*/true);
  Client a(h.path());
  Client b(h.path());
  EXPECT_TRUE(a.Echoes(h.echo(), B("status")));
  EXPECT_TRUE(b.Echoes(h.echo(), B("reload")));
  EXPECT_EQ(h.Stats().refused_per_address, 0u);
  EXPECT_EQ(h.Stats().accepted, 2u);
}

TEST(EventLoop, ReplySentLaterFromATimer) {
  Harness h(Framing::LengthPrefix(2), Limits());
  Client c(h.port());
  ASSERT_TRUE(c.Send(Prefixed(B("later"), 2)));
  EXPECT_EQ(c.Read(10), Prefixed(B("re:later"), 2));
  // A client that half-closes still gets the deferred reply, then EOF.
  Client d(h.port());
  ASSERT_TRUE(d.Send(Prefixed(B("later"), 2)));
  ASSERT_EQ(::shutdown(d.fd(), SHUT_WR), 0);
  EXPECT_EQ(d.Read(10), Prefixed(B("re:later"), 2));
  EXPECT_TRUE(d.ClosedWithin(milliseconds(3000)));
  // A reply for a connection that is gone is refused, not sent elsewhere.
  std::promise<bool> sent;
  auto f = sent.get_future();
  h.loop().Post([&] { sent.set_value(h.loop().Send(ConnId{c.fd() + 1000, 1}, B("x"))); });
  ASSERT_EQ(f.wait_for(milliseconds(5000)), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

TEST(EventLoop, TimersRunInDeadlineOrderAndCancelledOnesDoNot) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EventLoop* l = loop->get();
  std::vector<int> order;  // loop thread until Run returns
  l->AddTimer(milliseconds(300), [&] { order.push_back(3); });
  l->AddTimer(milliseconds(20), [&] { order.push_back(1); });
  EventLoop::TimerId cancelled = l->AddTimer(milliseconds(40), [&] { order.push_back(99); });
  l->AddTimer(milliseconds(30), [&, l] {
    order.push_back(2);
    // A timer added by a timer, at once: runs on a later wake-up.
    l->AddTimer(milliseconds(0), [&] { order.push_back(4); });
  });
  EXPECT_TRUE(l->CancelTimer(cancelled));
  EXPECT_FALSE(l->CancelTimer(cancelled));
  l->AddTimer(milliseconds(500), [l] { l->Stop(); });
  auto done = std::async(std::launch::async, [l] { l->Run(); });
  ASSERT_EQ(done.wait_for(milliseconds(5000)), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 4, 3}));
}

// Stop() from another thread ends Run() promptly even with connections
// open and long timeouts, and closes them.
TEST(EventLoop, StopFromAnotherThread) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  Echo echo(Framing::LengthPrefix(2));
  StreamLimits lim = Limits();
  lim.idle_timeout = milliseconds(60'000);
  lim.message_timeout = milliseconds(60'000);
  EventLoop::ServiceId s = (*loop)->AddService(&echo, Framing::LengthPrefix(2), lim);
  UniqueFd lfd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  ASSERT_EQ(::listen(lfd.get(), 16), 0);
  socklen_t len = sizeof(sin);
  ::getsockname(lfd.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  ASSERT_TRUE((*loop)->AddListener(s, std::move(lfd)).ok());
  EventLoop* l = loop->get();
  auto done = std::async(std::launch::async, [l] { l->Run(); });
  Client c(ntohs(sin.sin_port));
  ASSERT_TRUE(c.Echoes(echo, B("up")));
  ASSERT_TRUE(c.Send(Bytes{0, 50, 1}));  // a partial message
  std::thread([l] { l->Stop(); }).join();
  ASSERT_EQ(done.wait_for(milliseconds(3000)), std::future_status::ready);
  EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  // Stop() before Run(): Run() returns at once.
  auto again = EventLoop::Create();
  ASSERT_TRUE(again.ok());
  (*again)->Stop();
  EventLoop* a = again->get();
  auto ran = std::async(std::launch::async, [a] { a->Run(); });
  EXPECT_EQ(ran.wait_for(milliseconds(3000)), std::future_status::ready);
}

// ---- AddFd ----

struct Pipe {
  UniqueFd r, w;
  static Pipe Make() {
    int p[2] = {-1, -1};
    EXPECT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    return {UniqueFd(p[0]), UniqueFd(p[1])};
  }
  bool Put(std::size_t n = 1) const {
    std::string bytes(n, 'x');
    return ::write(w.get(), bytes.data(), n) == static_cast<ssize_t>(n);
  }
};

// Reads one byte: 1, 0 at EOF, -1 when there was nothing to read.
int ReadOne(int fd) {
  char c;
  ssize_t r = ::read(fd, &c, 1);
  return r == 1 ? 1 : r == 0 ? 0 : -1;
}

// The callback runs once per byte when it reads one byte per call (level
// triggered), and never when there is nothing to read; bytes written from
// another thread while the loop waits wake it.
TEST(EventLoop, WatchedFdIsCalledBackExactlyWhileReadable) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EventLoop* l = loop->get();
  Pipe p = Pipe::Make();
  std::atomic<int> got{0}, spurious{0};
  ASSERT_TRUE(l->AddFd(p.r.get(), [&] {
                 if (ReadOne(p.r.get()) == 1) {
                   ++got;
                 } else {
                   ++spurious;
                 }
               }).ok());
  auto done = std::async(std::launch::async, [l] { l->Run(); });
  int written = 0;
  for (std::size_t burst : {1u, 2u, 5u, 64u, 65u, 300u}) {
    ASSERT_TRUE(p.Put(burst));
    written += static_cast<int>(burst);
    ASSERT_TRUE(WaitFor([&] { return got.load() == written; })) << got.load() << " " << written;
  }
  l->Stop();
  ASSERT_EQ(done.wait_for(milliseconds(5000)), std::future_status::ready);
  EXPECT_EQ(got.load(), written);
  EXPECT_EQ(spurious.load(), 0);
  // Not owned: the loop leaves the descriptor open.
  EXPECT_TRUE(p.Put());
  EXPECT_EQ(ReadOne(p.r.get()), 1);
}

// More descriptors than one epoll_wait() batch (64), each readable at
// once: every one is called back; each removes itself at EOF and is not
// called again.
TEST(EventLoop, ManyWatchedFdsEachCalledUntilRemoved) {
  for (std::size_t n : {1u, 2u, 63u, 64u, 65u, 200u}) {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    EventLoop* l = loop->get();
    std::vector<Pipe> pipes;
    for (std::size_t i = 0; i < n; ++i) pipes.push_back(Pipe::Make());
    std::vector<int> calls(n, 0), bytes(n, 0);
    std::size_t closed = 0;
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(pipes[i].Put(i % 3 + 1));
      pipes[i].w = UniqueFd();  // EOF after the bytes
      ASSERT_TRUE(l->AddFd(pipes[i].r.get(), [&, i, l] {
                     ++calls[i];
                     int r = ReadOne(pipes[i].r.get());
                     if (r == 1) ++bytes[i];
                     if (r == 0) {
                       EXPECT_TRUE(l->RemoveFd(pipes[i].r.get()));
                       if (++closed == n) l->AddTimer(milliseconds(20), [l] { l->Stop(); });
                     }
                   }).ok());
    }
    auto done = std::async(std::launch::async, [l] { l->Run(); });
    ASSERT_EQ(done.wait_for(milliseconds(10'000)), std::future_status::ready) << n;
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(bytes[i], static_cast<int>(i % 3 + 1)) << i;
      EXPECT_EQ(calls[i], bytes[i] + 1) << i;  // each byte, then EOF once
      EXPECT_FALSE(l->RemoveFd(pipes[i].r.get()));
    }
  }
}

// Two descriptors readable in the same wake-up: whichever is called first
// removes itself and the other, whose event is already collected, and
// watches a third, empty pipe that takes the other's slot. The other's
// stale event must reach neither the other's callback nor the new one.
TEST(EventLoop, RemovingWatchedFdsInsideACallbackIsSafe) {
  for (int round = 0; round < 20; ++round) {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    EventLoop* l = loop->get();
    Pipe a = Pipe::Make(), b = Pipe::Make(), c = Pipe::Make();
    int first = 0, second = 0, third = 0;
    auto make = [&](const Pipe& self, const Pipe& other) {
      return [&, l] {
        if (first != 0) {
          ++second;
          return;
        }
        first = self.r.get();
        EXPECT_TRUE(l->RemoveFd(other.r.get()));
        EXPECT_TRUE(l->AddFd(c.r.get(), [&] { ++third; }).ok());
        EXPECT_TRUE(l->RemoveFd(self.r.get()));  // its own std::function is running
        EXPECT_FALSE(l->RemoveFd(self.r.get()));
        l->AddTimer(milliseconds(30), [l] { l->Stop(); });
      };
    };
    ASSERT_TRUE(a.Put());
    ASSERT_TRUE(b.Put());
    ASSERT_TRUE(l->AddFd(a.r.get(), make(a, b)).ok());
    ASSERT_TRUE(l->AddFd(b.r.get(), make(b, a)).ok());
    auto done = std::async(std::launch::async, [l] { l->Run(); });
    ASSERT_EQ(done.wait_for(milliseconds(5000)), std::future_status::ready);
    EXPECT_NE(first, 0);
    EXPECT_EQ(second, 0);
    EXPECT_EQ(third, 0) << "a stale event reached the slot's new descriptor";
    EXPECT_TRUE(l->RemoveFd(c.r.get()));
  }
}

// A callback that never reads its descriptor runs once per wake-up and
// does not starve timers or posted tasks: Run() still stops.
TEST(EventLoop, WatchedFdThatIsNeverReadDoesNotStarveTheLoop) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EventLoop* l = loop->get();
  Pipe p = Pipe::Make();
  ASSERT_TRUE(p.Put());
  std::atomic<int> calls{0};
  ASSERT_TRUE(l->AddFd(p.r.get(), [&] { ++calls; }).ok());
  std::atomic<bool> posted{false};
  l->Post([&] { posted = true; });
  l->AddTimer(milliseconds(50), [l] { l->Stop(); });
  auto done = std::async(std::launch::async, [l] { l->Run(); });
  ASSERT_EQ(done.wait_for(milliseconds(5000)), std::future_status::ready);
  EXPECT_TRUE(posted.load());
  EXPECT_GE(calls.load(), 1);
  EXPECT_EQ(ReadOne(p.r.get()), 1);  // still there
}

TEST(EventLoop, AddFdRefusesWhatItCannotWatch) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EventLoop* l = loop->get();
  Pipe p = Pipe::Make();
  EXPECT_FALSE(l->AddFd(-1, [] {}).ok());
  ASSERT_TRUE(l->AddFd(p.r.get(), [] {}).ok());
  EXPECT_FALSE(l->AddFd(p.r.get(), [] {}).ok()) << "watched twice";
  EXPECT_TRUE(l->RemoveFd(p.r.get()));
  EXPECT_FALSE(l->RemoveFd(p.r.get()));
  EXPECT_TRUE(l->AddFd(p.r.get(), [] {}).ok()) << "watched again after RemoveFd";
  // A regular file is not pollable.
  char path[] = "/tmp/meshbl_addfd_XXXXXX";
  UniqueFd file(::mkstemp(path));
  ASSERT_TRUE(file.valid());
  ::unlink(path);
  EXPECT_FALSE(l->AddFd(file.get(), [] {}).ok());
  EXPECT_FALSE(l->RemoveFd(file.get()));
}

}  // namespace
}  // namespace meshbl::util
