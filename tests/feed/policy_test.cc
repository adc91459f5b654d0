// The trap listener (feed/policy.h). What a trap MTA's operator relies on:
//  * every request Postfix can send is parsed, whatever bytes its values
//    hold, with LF or CRLF line ends; unknown attributes are ignored; a
//    malformed, unterminated or oversized request is an error naming what
//    is wrong, never a crash;
//  * over a real 127.0.0.1 socket on the event loop: a trap recipient is
//    answered with the trap action only after the sink said the hit is
//    recorded (done(true)), with the temporary action after done(false);
//    any other recipient or protocol state gets DUNNO; answers to
//    requests pipelined on one connection come back in request order; a
//    malformed request closes the connection without an answer;
//  * the hit carries the client, HELO, sender, the trap's hash and a
//    message key that is the same for every recipient of one message.
#include "meshbl/feed/policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "meshbl/feed/report.h"
#include "meshbl/util/mutex.h"

namespace meshbl::feed {
namespace {

using std::chrono::milliseconds;

// Every attribute PolicyRequest keeps, with a getter.
const std::vector<std::pair<std::string, std::string PolicyRequest::*>>& Known() {
  static const std::vector<std::pair<std::string, std::string PolicyRequest::*>> k = {
      {"request", &PolicyRequest::request},
      {"protocol_state", &PolicyRequest::protocol_state},
      {"protocol_name", &PolicyRequest::protocol_name},
      {"client_address", &PolicyRequest::client_address},
      {"client_name", &PolicyRequest::client_name},
      {"reverse_client_name", &PolicyRequest::reverse_client_name},
      {"client_port", &PolicyRequest::client_port},
      {"helo_name", &PolicyRequest::helo_name},
      {"sender", &PolicyRequest::sender},
      {"recipient", &PolicyRequest::recipient},
      {"recipient_count", &PolicyRequest::recipient_count},
      {"queue_id", &PolicyRequest::queue_id},
      {"instance", &PolicyRequest::instance},
      {"size", &PolicyRequest::size},
      {"sasl_method", &PolicyRequest::sasl_method},
      {"sasl_username", &PolicyRequest::sasl_username},
      {"server_address", &PolicyRequest::server_address},
      {"server_port", &PolicyRequest::server_port},
      {"policy_context", &PolicyRequest::policy_context},
  };
  return k;
}

// Postfix's attributes meshbl does not keep (SMTPD_POLICY_README).
const std::vector<std::string> kUnknown = {"ccert_subject",
                                           "ccert_issuer",
                                           "ccert_fingerprint",
                                           "ccert_pubkey_fingerprint",
                                           "encryption_protocol",
                                           "encryption_cipher",
                                           "encryption_keysize",
                                           "etrn_domain",
                                           "stress",
                                           "sasl_sender",
                                           "compatibility_level",
                                           "mail_version",
                                           "client_connection_count"};

std::string Request(const std::vector<std::pair<std::string, std::string>>& attrs,
                    const std::string& eol = "\n") {
  std::string out;
  for (const auto& [n, v] : attrs) out += n + "=" + v + eol;
  return out + eol;
}

std::vector<std::pair<std::string, std::string>> Rcpt(const std::string& client,
                                                      const std::string& rcpt,
                                                      const std::string& instance = "inst.1") {
  return {{"request", "smtpd_access_policy"},
          {"protocol_state", "RCPT"},
          {"protocol_name", "ESMTP"},
          {"client_address", client},
          {"client_name", "unknown"},
          {"helo_name", "spammer.example"},
          {"sender", "bulk@spam.example"},
          {"recipient", rcpt},
          {"queue_id", ""},
          {"instance", instance},
          {"size", "0"}};
}

// Every attribute, in random orders, with random values of every byte but
// "\n" (and not ending in "\r", which a CRLF line end would take), plus
// unknown attributes: each known value comes back byte for byte.
TEST(ParsePolicyRequestTest, GeneratedRequestsWithEveryAttribute) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::pair<std::string, std::string>> attrs;
    PolicyRequest want;
    for (const auto& [name, member] : Known()) {
      std::string v;
      if (name == "request") {
        v = "smtpd_access_policy";
      } else {
        const std::size_t len = rng() % 40;
        for (std::size_t i = 0; i < len; ++i) {
          char c = static_cast<char>(rng() % 256);
          if (c == '\n') c = 'n';
          v.push_back(c);
        }
        if (!v.empty() && v.back() == '\r') v.back() = 'r';
      }
      want.*member = v;
      attrs.emplace_back(name, v);
    }
    const std::size_t unknown = rng() % 4;
    for (std::size_t i = 0; i < unknown; ++i) {
      attrs.emplace_back(kUnknown[rng() % kUnknown.size()], "v=w");
    }
    want.ignored = unknown;
    std::shuffle(attrs.begin(), attrs.end(), rng);
    for (const std::string eol : {"\n", "\r\n"}) {
      auto got = ParsePolicyRequest(Request(attrs, eol));
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, want);
    }
    // As the event loop hands it: the final "\n\n" stripped.
    std::string framed = Request(attrs);
    framed.resize(framed.size() - 2);
    auto got = ParsePolicyMessage(framed);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
  }
}

TEST(ParsePolicyRequestTest, EveryByteValueInAValue) {
  for (int b = 0; b < 256; ++b) {
    if (b == '\n') continue;
    const std::string v = std::string("a") + static_cast<char>(b) + "=b";
    auto got = ParsePolicyRequest(
        Request({{"request", "smtpd_access_policy"}, {"helo_name", v}, {"sender", v + v}}));
    ASSERT_TRUE(got.ok()) << b << ": " << got.status();
    EXPECT_EQ(got->helo_name, v) << b;
    EXPECT_EQ(got->sender, v + v) << b;
  }
  // An empty value is an attribute that was sent empty (sender=<> is "").
  auto got = ParsePolicyRequest("request=smtpd_access_policy\nsender=\n\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sender, "");
}

TEST(ParsePolicyRequestTest, UnterminatedRequestIsAnError) {
  const std::string full = Request(Rcpt("192.0.2.1", "t@example.com"));
  // Every proper prefix: not a complete request.
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto got = ParsePolicyRequest(full.substr(0, n));
    EXPECT_FALSE(got.ok()) << n;
  }
  auto got = ParsePolicyRequest("request=smtpd_access_policy\n");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("not ended by an empty line"), std::string::npos);
  EXPECT_TRUE(ParsePolicyRequest(full).ok());
}

TEST(ParsePolicyRequestTest, SizeLimits) {
  // Values grow the request from well under to past the limit, a byte at a time near it.
  const std::string head = "request=smtpd_access_policy\nccert_subject=";
  for (std::size_t total = kMaxPolicyRequest - 3; total <= kMaxPolicyRequest + 3; ++total) {
    const std::string req = head + std::string(total - head.size() - 2, 'x') + "\n\n";
    ASSERT_EQ(req.size(), total);
    auto got = ParsePolicyRequest(req);
    EXPECT_EQ(got.ok(), total <= kMaxPolicyRequest) << total;
    if (!got.ok()) {
      EXPECT_NE(got.status().message().find("longer than"), std::string::npos);
    }
    std::string framed = req.substr(0, req.size() - 2);
    EXPECT_EQ(ParsePolicyMessage(framed).ok(), total <= kMaxPolicyRequest) << total;
  }
  for (std::size_t lines = kMaxPolicyAttributes - 1; lines <= kMaxPolicyAttributes + 1; ++lines) {
    std::string req = "request=smtpd_access_policy\n";
    for (std::size_t i = 1; i < lines; ++i) req += "x" + std::to_string(i) + "=1\n";
    auto got = ParsePolicyRequest(req + "\n");
    EXPECT_EQ(got.ok(), lines <= kMaxPolicyAttributes) << lines;
  }
  const std::string long_name(kMaxPolicyName + 1, 'n');
  EXPECT_FALSE(ParsePolicyRequest("request=smtpd_access_policy\n" + long_name + "=1\n\n").ok());
  EXPECT_TRUE(
      ParsePolicyRequest("request=smtpd_access_policy\n" + long_name.substr(1) + "=1\n\n").ok());
}

TEST(ParsePolicyRequestTest, MalformedRequestsSayWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"request=smtpd_access_policy\nno_equals_sign\n\n", "line 2: no '='"},
      {"request=smtpd_access_policy\n=value\n\n", "line 2: empty attribute name"},
      {"request=smtpd_access_policy\nBad Name=1\n\n", "line 2: bad attribute name"},
      {"request=smtpd_access_policy\nsender=a\nsender=b\n\n",
       "line 3: attribute 'sender' given twice"},
      {"sender=a\n\n", "without request=smtpd_access_policy"},
      {"request=other\n\n", "is not smtpd_access_policy"},
      {"request=smtpd_access_policy\n\nsender=a\n\n", "empty line inside"},
      {"\n\n", "empty policy request"},
      {"", "not ended by an empty line"},
  };
  for (const auto& [text, want] : cases) {
    auto got = ParsePolicyRequest(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_NE(got.status().message().find(want), std::string::npos) << got.status();
  }
  // Duplicates of attributes meshbl ignores are ignored too.
  auto got = ParsePolicyRequest("request=smtpd_access_policy\nstress=\nstress=yes\n\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->ignored, 2u);
}

TEST(PolicyConfigTest, Actions) {
  PolicyConfig c;
  EXPECT_TRUE(c.Validate().ok());
  c.trap_action = "REJECT 5.7.1 Go away";
  EXPECT_TRUE(c.Validate().ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "DISCARD\n", "OK\r", " DUNNO", std::string(1001, 'A')}) {
    PolicyConfig b;
    b.tempfail_action = bad;
    EXPECT_FALSE(b.Validate().ok()) << bad;
  }
}

// ---- the service over a socket ----

// The sink: records hits and the done() callbacks for the test to call.
struct Sink {
  util::Mutex mu;
  std::vector<TrapHit> hits;
  std::vector<std::function<void(bool)>> dones;
  std::size_t Count() {
    util::MutexLock l(&mu);
    return hits.size();
  }
  // Waits (bounded) until `n` hits arrived.
  bool WaitFor(std::size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (Count() >= n) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
  void Done(std::size_t i, bool ok) {
    std::function<void(bool)> d;
    {
      util::MutexLock l(&mu);
      d = dones.at(i);
    }
    d(ok);
  }
};

class Listener {
 public:
  explicit Listener(PolicyConfig config = {}) {
    EXPECT_TRUE(traps_.LoadText("trap@example.com\ntrap2@example.com\n@traps.example\n", "t").ok());
    config.clock = [] { return std::int64_t{1700000000}; };
    service_ = std::make_unique<PolicyService>(std::move(config), &traps_,
                                               [this](TrapHit h, std::function<void(bool)> done) {
                                                 util::MutexLock l(&sink_.mu);
                                                 sink_.hits.push_back(std::move(h));
                                                 sink_.dones.push_back(std::move(done));
                                               });
    auto loop = util::EventLoop::Create();
    EXPECT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    const auto id = loop_->AddService(service_.get(), PolicyService::PolicyFraming(),
                                      PolicyService::PolicyLimits());
    util::UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(l.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    EXPECT_EQ(::listen(l.get(), 16), 0);
    socklen_t len = sizeof(sin);
    ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    EXPECT_TRUE(loop_->AddListener(id, std::move(l)).ok());
    thread_ = std::thread([this] { loop_->Run(); });
  }
  ~Listener() {
    loop_->Stop();
    thread_.join();
    service_->Shutdown();
  }
  std::uint16_t port() const { return port_; }
  Sink& sink() { return sink_; }
  PolicyService& service() { return *service_; }

 private:
  TrapSet traps_;
  Sink sink_;
  std::unique_ptr<PolicyService> service_;
  std::unique_ptr<util::EventLoop> loop_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  }
  bool Send(const std::string& s) {
    return ::send(fd_.get(), s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Bytes until `n` answers ("\n\n"-terminated) arrived, EOF or 5 s.
  std::string ReadAnswers(std::size_t n) {
    std::string out;
    for (int i = 0; i < 500 && Answers(out) < n; ++i) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 10) != 1) continue;
      char buf[4096];
      const ssize_t r = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  // Whatever arrived within `ms` (used to see that nothing did).
  std::string Pending(int ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return {};
    char buf[4096];
    const ssize_t r = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    return r > 0 ? std::string(buf, static_cast<std::size_t>(r)) : std::string("<eof>");
  }
  bool Closed() {
    for (int i = 0; i < 500; ++i) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 10) != 1) continue;
      char buf[256];
      const ssize_t r = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (r == 0) return true;
      if (r < 0) return errno != EAGAIN;
    }
    return false;
  }

 private:
  static std::size_t Answers(const std::string& s) {
    std::size_t n = 0;
    for (std::size_t p = s.find("\n\n"); p != std::string::npos; p = s.find("\n\n", p + 2)) ++n;
    return n;
  }
  util::UniqueFd fd_;
};

TEST(PolicyServiceTest, TrapRecipientIsAnsweredAfterTheHitIsRecorded) {
  Listener l;
  Client c(l.port());
  ASSERT_TRUE(c.Send(Request(Rcpt("192.0.2.7", "Trap@Example.com", "4f2a.1"))));
  ASSERT_TRUE(l.sink().WaitFor(1));
  EXPECT_EQ(c.Pending(50), "");  // nothing before done()
  {
    util::MutexLock lock(&l.sink().mu);
    const TrapHit& h = l.sink().hits[0];
    EXPECT_EQ(h.client, *dns::IpAddress::Parse("192.0.2.7"));
    EXPECT_EQ(h.helo, "spammer.example");
    EXPECT_EQ(h.sender, "bulk@spam.example");
    EXPECT_EQ(h.trap, HashTrapAddress("trap@example.com"));
    EXPECT_EQ(h.message_key, "4f2a.1");
    EXPECT_EQ(h.time, 1700000000);
    EXPECT_EQ(h.via, "policy");
  }
  std::thread([&] { l.sink().Done(0, true); }).join();  // from another thread
  EXPECT_EQ(c.ReadAnswers(1), "action=DISCARD\n\n");
  // A second done() is ignored.
  l.sink().Done(0, false);
  EXPECT_EQ(c.Pending(50), "");
  const PolicyStats s = l.service().stats();
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.trap_hits, 1u);
  EXPECT_EQ(s.recorded, 1u);
  EXPECT_EQ(s.deferred, 0u);
}

TEST(PolicyServiceTest, FailedRecordIsAnsweredWithTheTemporaryAction) {
  PolicyConfig cfg;
  cfg.trap_action = "REJECT 5.7.1 Mailbox unavailable";
  cfg.tempfail_action = "DEFER_IF_PERMIT Service temporarily unavailable";
  Listener l(cfg);
  Client c(l.port());
  ASSERT_TRUE(c.Send(Request(Rcpt("2001:db8::25", "x@traps.example"))));
  ASSERT_TRUE(l.sink().WaitFor(1));
  l.sink().Done(0, false);
  EXPECT_EQ(c.ReadAnswers(1), "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n");
  EXPECT_EQ(l.service().stats().deferred, 1u);
  ASSERT_TRUE(c.Send(Request(Rcpt("2001:db8::25", "trap2@example.com"))));
  ASSERT_TRUE(l.sink().WaitFor(2));
  l.sink().Done(1, true);
  EXPECT_EQ(c.ReadAnswers(1), "action=REJECT 5.7.1 Mailbox unavailable\n\n");
  util::MutexLock lock(&l.sink().mu);
  EXPECT_EQ(l.sink().hits[0].client, *dns::IpAddress::Parse("2001:db8::25"));
}

TEST(PolicyServiceTest, OtherRecipientsAndStatesGetDunno) {
  Listener l;
  Client c(l.port());
  auto not_rcpt = Rcpt("192.0.2.7", "trap@example.com");
  for (const std::string state :
       {"CONNECT", "EHLO", "HELO", "MAIL", "DATA", "END-OF-MESSAGE", "VRFY"}) {
    not_rcpt[1].second = state;
    ASSERT_TRUE(c.Send(Request(not_rcpt)));
    EXPECT_EQ(c.ReadAnswers(1), "action=DUNNO\n\n") << state;
  }
  ASSERT_TRUE(c.Send(Request(Rcpt("192.0.2.7", "user@example.com"))));
  EXPECT_EQ(c.ReadAnswers(1), "action=DUNNO\n\n");
  ASSERT_TRUE(c.Send(Request(Rcpt("192.0.2.7", ""))));
  EXPECT_EQ(c.ReadAnswers(1), "action=DUNNO\n\n");
  // A trap recipient with a client address that is not an IP: not recorded.
  ASSERT_TRUE(c.Send(Request(Rcpt("unknown", "trap@example.com"))));
  EXPECT_EQ(c.ReadAnswers(1), "action=DUNNO\n\n");
  EXPECT_EQ(l.sink().Count(), 0u);
  EXPECT_EQ(l.service().stats().bad_client, 1u);
  EXPECT_EQ(l.service().stats().requests, 10u);
}

// Postfix reuses a connection; a client may also write several requests
// at once. Answers keep the request order even when the hits are recorded
// in another order.
TEST(PolicyServiceTest, PipelinedRequestsAreAnsweredInOrder) {
  Listener l;
  Client c(l.port());
  std::string batch;
  // trap, other, trap, other, other, trap
  const std::vector<bool> trap = {true, false, true, false, false, true};
  for (std::size_t i = 0; i < trap.size(); ++i) {
    batch += Request(Rcpt("192.0.2." + std::to_string(i + 1),
                          trap[i] ? "trap@example.com" : "nobody@example.com",
                          "msg" + std::to_string(i)));
  }
  ASSERT_TRUE(c.Send(batch));
  ASSERT_TRUE(l.sink().WaitFor(3));
  EXPECT_EQ(c.Pending(50), "");  // the first answer waits, and everything behind it
  l.sink().Done(2, true);        // the third trap's hit first
  l.sink().Done(1, false);
  EXPECT_EQ(c.Pending(50), "");
  l.sink().Done(0, true);
  EXPECT_EQ(c.ReadAnswers(6),
            "action=DISCARD\n\naction=DUNNO\n\n"
            "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n"
            "action=DUNNO\n\naction=DUNNO\n\naction=DISCARD\n\n");
  util::MutexLock lock(&l.sink().mu);
  ASSERT_EQ(l.sink().hits.size(), 3u);
  EXPECT_EQ(l.sink().hits[0].message_key, "msg0");
  EXPECT_EQ(l.sink().hits[1].message_key, "msg2");
  EXPECT_EQ(l.sink().hits[2].message_key, "msg5");
}

// One message to two traps: both hits carry the same key (Postfix's
// instance); without instance the queue id; without both a fallback.
TEST(PolicyServiceTest, MessageKey) {
  Listener l;
  Client c(l.port());
  auto a = Rcpt("192.0.2.9", "trap@example.com", "same.instance");
  auto b = Rcpt("192.0.2.9", "trap2@example.com", "same.instance");
  auto q = Rcpt("192.0.2.9", "trap@example.com", "");
  q[8].second = "4XyZ12";
  auto none = Rcpt("192.0.2.9", "trap@example.com", "");
  ASSERT_TRUE(c.Send(Request(a) + Request(b) + Request(q) + Request(none)));
  ASSERT_TRUE(l.sink().WaitFor(4));
  for (std::size_t i = 0; i < 4; ++i) l.sink().Done(i, true);
  EXPECT_EQ(c.ReadAnswers(4).size(), 4 * std::string("action=DISCARD\n\n").size());
  util::MutexLock lock(&l.sink().mu);
  EXPECT_EQ(l.sink().hits[0].message_key, "same.instance");
  EXPECT_EQ(l.sink().hits[1].message_key, "same.instance");
  EXPECT_NE(l.sink().hits[0].trap, l.sink().hits[1].trap);
  EXPECT_EQ(l.sink().hits[2].message_key, "4XyZ12");
  EXPECT_EQ(l.sink().hits[3].message_key, FallbackMessageKey(*dns::IpAddress::Parse("192.0.2.9"),
                                                             "bulk@spam.example", 1700000000));
}

TEST(PolicyServiceTest, MalformedRequestClosesTheConnectionWithoutAnAnswer) {
  Listener l;
  for (const std::string& bad :
       std::vector<std::string>{"request=smtpd_access_policy\ngarbage\n\n", "sender=a\n\n",
                                std::string("\x00\x01\x02\n\n", 5)}) {
    Client c(l.port());
    ASSERT_TRUE(c.Send(bad));
    EXPECT_TRUE(c.Closed());
  }
  // An oversized request: the loop's framing limit closes it.
  Client big(l.port());
  ASSERT_TRUE(big.Send("request=smtpd_access_policy\nx=" + std::string(kMaxPolicyRequest, 'a')));
  EXPECT_TRUE(big.Closed());
  EXPECT_EQ(l.service().stats().malformed, 3u);
  // The listener still serves.
  Client ok(l.port());
  ASSERT_TRUE(ok.Send(Request(Rcpt("192.0.2.1", "a@b.example"))));
  EXPECT_EQ(ok.ReadAnswers(1), "action=DUNNO\n\n");
}

TEST(PolicyServiceTest, TooManyWaitingAnswersCloseTheConnection) {
  PolicyConfig cfg;
  cfg.max_pending = 3;
  Listener l(cfg);
  Client c(l.port());
  std::string batch;
  for (int i = 0; i < 4; ++i) batch += Request(Rcpt("192.0.2.1", "trap@example.com"));
  ASSERT_TRUE(c.Send(batch));
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(l.service().stats().overflow, 1u);
  EXPECT_EQ(l.sink().Count(), 3u);
}

// done() after the connection closed, and after Shutdown(): nothing happens.
TEST(PolicyServiceTest, LateDoneIsHarmless) {
  Listener l;
  {
    Client c(l.port());
    ASSERT_TRUE(c.Send(Request(Rcpt("192.0.2.1", "trap@example.com"))));
    ASSERT_TRUE(l.sink().WaitFor(1));
  }
  l.sink().Done(0, true);
  Client c2(l.port());
  ASSERT_TRUE(c2.Send(Request(Rcpt("192.0.2.1", "trap@example.com"))));
  ASSERT_TRUE(l.sink().WaitFor(2));
  l.service().Shutdown();
  l.sink().Done(1, true);
  EXPECT_EQ(c2.Pending(50), "");
  EXPECT_EQ(l.service().stats().recorded, 1u);
}

}  // namespace
}  // namespace meshbl::feed
