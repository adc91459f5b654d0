// The trap listener: Postfix's SMTPD policy delegation protocol
// (https://www.postfix.org/SMTPD_POLICY_README.html), so that a trap MTA
// configured with `check_policy_service inet:HOST:PORT` reports every
// recipient to meshbld.
//
// The protocol: Postfix sends a request of "name=value" lines, each ending
// in "\n", then an empty line; the server answers "action=ACTION\n\n" with
// any action of access(5) (DUNNO, DISCARD, "REJECT 5.7.1 text", ...).
// Postfix keeps the connection and sends the next request after the
// answer. Attributes the server does not know must be ignored; in case of
// trouble the server logs, sends nothing and disconnects.
//
// What the service does: for each request at protocol_state RCPT whose
// recipient is a trap address (TrapSet), it builds a TrapHit and hands it
// to the sink; the trap action is answered only once the sink has called
// done(true) (the hit is durable), a temporary action after done(false).
// Every other request is answered DUNNO (configurable). Answers on one
// connection keep the order of the requests.
#ifndef MESHBL_FEED_POLICY_H_
#define MESHBL_FEED_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshbl/feed/entry.h"
#include "meshbl/feed/traps.h"
#include "meshbl/util/event_loop.h"

namespace meshbl::feed {

// Bounds of one request: Postfix's requests are a few hundred bytes (TLS
// certificate fields make them longer); more is refused, not buffered.
inline constexpr std::size_t kMaxPolicyRequest = 16 * 1024;  // bytes, empty line included
inline constexpr std::size_t kMaxPolicyAttributes = 128;     // lines
inline constexpr std::size_t kMaxPolicyName = 64;            // attribute name bytes

// One request's attributes (SMTPD_POLICY_README, "Protocol description").
// Values are kept as sent, byte for byte; an attribute that was not sent
// is empty. Only the attributes meshbl may use are kept.
struct PolicyRequest {
  std::string request;         // always "smtpd_access_policy"
  std::string protocol_state;  // CONNECT, EHLO, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE, VRFY, ETRN
  std::string protocol_name;   // SMTP, ESMTP
  std::string client_address;  // IPv4 or IPv6 text
  std::string client_name;
  std::string reverse_client_name;
  std::string client_port;
  std::string helo_name;
  std::string sender;
  std::string recipient;
  std::string recipient_count;
  std::string queue_id;
  std::string instance;  // the same for every recipient of one message
  std::string size;
  std::string sasl_method;
  std::string sasl_username;
  std::string server_address;
  std::string server_port;
  std::string policy_context;
  std::size_t ignored = 0;  // attributes not listed here (ignored, as Postfix requires)

  friend bool operator==(const PolicyRequest&, const PolicyRequest&) = default;
};

// Parses one request as sent: attribute lines, each ending in "\n" (a
// "\r" before it is dropped), then the empty line. Errors say what and
// which line ("line 3: no '=' in 'foo'"): a line without '=', an empty or
// over-long name or one with bytes other than [a-z0-9_-], a known
// attribute twice, no request=smtpd_access_policy, a request not ended by
// an empty line (or with anything after it), more than kMaxPolicyRequest
// bytes or kMaxPolicyAttributes lines. Values may hold any byte but "\n".
absl::StatusOr<PolicyRequest> ParsePolicyRequest(std::string_view request);
// The same for a request as util::EventLoop's "\n\n" framing hands it:
// the lines without the final "\n" and the empty line.
absl::StatusOr<PolicyRequest> ParsePolicyMessage(std::string_view message);

// "action=ACTION\n\n"
std::string PolicyAnswer(std::string_view action);

// Receives a trap hit; calls `done(true)` once the hit is durable (or
// `done(false)` when it could not be recorded), from any thread, exactly
// once (later calls are ignored). The answer to Postfix waits for it.
using TrapSink = std::function<void(TrapHit hit, std::function<void(bool ok)> done)>;

struct PolicyConfig {
  // Answered for a trap recipient once the hit is recorded, e.g. DISCARD
  // (accept and drop: the sender learns nothing) or "REJECT 5.7.1 ...".
  std::string trap_action = "DISCARD";
  // Answered for every other request.
  std::string other_action = "DUNNO";
  // Answered for a trap recipient whose hit could not be recorded
  // (done(false)): a temporary failure, so that the sender retries and the
  // hit is not lost.
  std::string tempfail_action = "DEFER_IF_PERMIT Service temporarily unavailable";
  // Answers still waiting on one connection before it is closed (Postfix
  // waits for each answer; only a broken or hostile client piles them up).
  std::size_t max_pending = 64;
  // Unix seconds of a hit (tests set it).
  std::function<std::int64_t()> clock;

  // An action is non-empty, at most 1000 bytes, printable ASCII and spaces.
  absl::Status Validate() const;
};

// Counters; read with PolicyService::stats() from any thread.
struct PolicyStats {
  std::uint64_t requests = 0;   // well-formed requests
  std::uint64_t trap_hits = 0;  // trap recipients handed to the sink
  std::uint64_t recorded = 0;   // ... answered with trap_action (done(true))
  std::uint64_t deferred = 0;   // ... answered with tempfail_action (done(false))
  std::uint64_t malformed = 0;  // requests refused (connection closed)
  std::uint64_t bad_client =
      0;  // trap recipient but client_address is not an IP (answered other_action)
  std::uint64_t overflow = 0;  // connections closed over max_pending
};

// The policy listener's util::StreamService. Use it with
// util::Framing::Delimited("\n\n") and limits whose max_message is at
// least kMaxPolicyRequest (PolicyFraming(), PolicyLimits()). `traps` must
// outlive the service. The sink runs on the loop thread; its done() may
// run on any thread until Shutdown().
class PolicyService : public util::StreamService {
 public:
  PolicyService(PolicyConfig config, const TrapSet* traps, TrapSink sink);
  ~PolicyService() override;

  std::unique_ptr<util::StreamSession> Open(const sockaddr_storage& peer) noexcept override;

  // After the loop has stopped and before it is destroyed: a done() called
  // later does nothing. The destructor calls it too.
  void Shutdown();

  PolicyStats stats() const;

  static util::Framing PolicyFraming() { return util::Framing::Delimited("\n\n"); }
  // Postfix holds a connection per smtpd process and reuses it
  // (smtpd_policy_service_max_idle, 300 s): a longer idle timeout than DNS.
  static util::StreamLimits PolicyLimits();

 private:
  class Session;
  struct Shared;
  PolicyConfig config_;
  const TrapSet* traps_;
  TrapSink sink_;
  std::shared_ptr<Shared> shared_;  // the loop and the counters, shared with done()
};

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_POLICY_H_
