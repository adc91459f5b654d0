#include "meshbl/feed/policy.h"

#include <atomic>
#include <ctime>
#include <deque>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "feed/text_util.h"
#include "meshbl/feed/report.h"
#include "meshbl/util/mutex.h"

namespace meshbl::feed {
namespace {

bool NameByteOk(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// The index of a known attribute in kFields, or -1.
struct Entry {
  std::string_view name;
  std::string PolicyRequest::*member;
};
constexpr Entry kFields[] = {
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
static_assert(sizeof(kFields) / sizeof(kFields[0]) <= 32);

int FieldIndex(std::string_view name) {
  for (std::size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); ++i) {
    if (kFields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

absl::Status LineError(std::size_t line, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("policy request line ", line, ": ", what));
}

bool ActionOk(std::string_view a) {
  if (a.empty() || a.size() > 1000 || a.front() == ' ') return false;
  for (char c : a) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PolicyRequest> ParsePolicyMessage(std::string_view message) {
  if (message.size() + 2 > kMaxPolicyRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy request longer than ", kMaxPolicyRequest, " bytes"));
  }
  if (message.empty()) return absl::InvalidArgumentError("empty policy request");
  PolicyRequest r;
  std::uint32_t seen = 0;  // known attributes already given, by index in kFields
  std::size_t line_no = 0;
  std::string_view rest = message;
  bool more = true;
  while (more) {
    ++line_no;
    if (line_no > kMaxPolicyAttributes) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy request with more than ", kMaxPolicyAttributes, " attributes"));
    }
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    more = nl != std::string_view::npos;
    rest = more ? rest.substr(nl + 1) : std::string_view();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return LineError(line_no, "empty line inside the request");
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return LineError(line_no, absl::StrCat("no '=' in '", text::Shown(line), "'"));
    }
    const std::string_view name = line.substr(0, eq);
    if (name.empty()) return LineError(line_no, "empty attribute name");
    if (name.size() > kMaxPolicyName) return LineError(line_no, "attribute name too long");
    for (char c : name) {
      if (!NameByteOk(c)) {
        return LineError(line_no, absl::StrCat("bad attribute name '", text::Shown(name), "'"));
      }
    }
    const int index = FieldIndex(name);
    if (index < 0) {
      ++r.ignored;
      continue;
    }
    const std::uint32_t bit = 1u << index;
    if ((seen & bit) != 0) {
      return LineError(line_no, absl::StrCat("attribute '", std::string(name), "' given twice"));
    }
    seen |= bit;
    (r.*kFields[index].member).assign(line.substr(eq + 1));
  }
  if (r.request != "smtpd_access_policy") {
    return absl::InvalidArgumentError(
        r.request.empty()
            ? std::string("policy request without request=smtpd_access_policy")
            : absl::StrCat("request=", text::Shown(r.request), " is not smtpd_access_policy"));
  }
  return r;
}

absl::StatusOr<PolicyRequest> ParsePolicyRequest(std::string_view request) {
  if (request.size() > kMaxPolicyRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy request longer than ", kMaxPolicyRequest, " bytes"));
  }
  // The end: "\n\n", with an optional "\r" before either "\n".
  std::string_view body = request;
  auto strip_eol = [](std::string_view* s) {
    if (s->empty() || s->back() != '\n') return false;
    s->remove_suffix(1);
    if (!s->empty() && s->back() == '\r') s->remove_suffix(1);
    return true;
  };
  if (!strip_eol(&body) || !strip_eol(&body)) {
    return absl::InvalidArgumentError("policy request not ended by an empty line");
  }
  if (body.empty()) return absl::InvalidArgumentError("empty policy request");
  // The last attribute line's "\n" is gone; an empty line inside is caught
  // by the line parser.
  return ParsePolicyMessage(body);
}

std::string PolicyAnswer(std::string_view action) {
  return absl::StrCat("action=", std::string(action), "\n\n");
}

absl::Status PolicyConfig::Validate() const {
  for (const auto& [what, a] :
       {std::pair<const char*, const std::string*>{"trap action", &trap_action},
        {"other action", &other_action},
        {"temporary failure action", &tempfail_action}}) {
    if (!ActionOk(*a)) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy ", what, " '", text::Shown(*a),
                       "': must be 1-1000 printable ASCII bytes (an access(5) action)"));
    }
  }
  if (max_pending == 0) return absl::InvalidArgumentError("policy max_pending must be at least 1");
  return absl::OkStatus();
}

// The loop (while it runs) and the counters, shared with done() closures
// that may outlive a session and run on other threads.
struct PolicyService::Shared {
  util::Mutex mu;
  util::EventLoop* loop ABSL_GUARDED_BY(mu) = nullptr;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  std::atomic<std::uint64_t> requests{0}, trap_hits{0}, recorded{0}, deferred{0}, malformed{0},
      bad_client{0}, overflow{0};
};

// One connection: answers go out in request order. A request whose answer
// must wait (a trap hit) and every request after it while it waits is
// Defer()red; answers are filled in as they are known and sent from the
// front of the queue.
class PolicyService::Session : public util::StreamSession {
 public:
  struct Queue {
    std::deque<std::optional<std::string>> answers;  // waiting, in request order
    std::uint64_t first = 0;                         // sequence number of answers.front()
    std::uint64_t next = 0;                          // sequence number of the next request
  };

  explicit Session(PolicyService* service) : service_(service), queue_(std::make_shared<Queue>()) {}

  bool OnMessage(util::StreamConn& conn, std::span<const std::uint8_t> message) noexcept override {
    try {
      return Handle(
          conn, std::string_view(reinterpret_cast<const char*>(message.data()), message.size()));
    } catch (const std::exception&) {  // bad_alloc: drop the connection, keep serving
      ++service_->shared_->malformed;
      return false;
    }
  }

  // On the loop thread: answer `seq` and send whatever is ready in order.
  static void Fill(util::EventLoop* loop, util::ConnId id, const std::shared_ptr<Queue>& q,
                   std::uint64_t seq, std::string answer) {
    if (seq < q->first || seq - q->first >= q->answers.size()) return;
    q->answers[static_cast<std::size_t>(seq - q->first)] = std::move(answer);
    while (!q->answers.empty() && q->answers.front().has_value()) {
      const std::string& a = *q->answers.front();
      loop->Reply(id, {reinterpret_cast<const std::uint8_t*>(a.data()), a.size()});
      q->answers.pop_front();
      ++q->first;
    }
  }

 private:
  bool Handle(util::StreamConn& conn, std::string_view text) {
    Shared& sh = *service_->shared_;
    const PolicyConfig& cfg = service_->config_;
    auto req = ParsePolicyMessage(text);
    if (!req.ok()) {
      // SMTPD_POLICY_README: in case of trouble, send nothing and disconnect.
      ++sh.malformed;
      return false;
    }
    ++sh.requests;
    {
      util::MutexLock lock(&sh.mu);
      if (sh.loop == nullptr && !sh.shut_down) sh.loop = &conn.loop();
    }
    const std::uint64_t seq = queue_->next++;
    std::optional<dns::IpAddress> client;
    const bool trap = req->protocol_state == "RCPT" && !req->recipient.empty() &&
                      service_->traps_->IsTrap(req->recipient);
    if (trap) {
      client = dns::IpAddress::Parse(req->client_address);
      if (!client) ++sh.bad_client;
    }
    if (!trap || !client) {
      std::string answer = PolicyAnswer(cfg.other_action);
      if (queue_->answers.empty()) {
        ++queue_->first;
        return conn.Send({reinterpret_cast<const std::uint8_t*>(answer.data()), answer.size()});
      }
      return Hold(conn, std::move(answer));
    }
    if (!Hold(conn, std::nullopt)) return false;
    ++sh.trap_hits;
    TrapHit hit;
    hit.client = *client;
    hit.helo = req->helo_name;
    hit.sender = req->sender;
    hit.trap = HashTrapAddress(req->recipient);
    hit.time = cfg.clock ? cfg.clock() : static_cast<std::int64_t>(std::time(nullptr));
    hit.message_key = !req->instance.empty()   ? req->instance
                      : !req->queue_id.empty() ? req->queue_id
                                               : FallbackMessageKey(*client, req->sender, hit.time);
    hit.via = "policy";
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto done = [shared = service_->shared_, q = queue_, id = conn.id(), seq, once,
                 ok_answer = PolicyAnswer(cfg.trap_action),
                 fail_answer = PolicyAnswer(cfg.tempfail_action)](bool ok) {
      if (once->exchange(true)) return;
      util::MutexLock lock(&shared->mu);
      if (shared->loop == nullptr) return;
      ++(ok ? shared->recorded : shared->deferred);
      shared->loop->Post([loop = shared->loop, q, id, seq, answer = ok ? ok_answer : fail_answer] {
        Fill(loop, id, q, seq, answer);
      });
    };
    service_->sink_(std::move(hit), std::move(done));
    return true;
  }

  // Holds the answer of this request (nullopt: not known yet) behind earlier
  // ones; its sequence number is first + answers.size().
  bool Hold(util::StreamConn& conn, std::optional<std::string> answer) {
    if (queue_->answers.size() >= service_->config_.max_pending) {
      ++service_->shared_->overflow;
      return false;
    }
    conn.Defer();
    queue_->answers.push_back(std::move(answer));
    return true;
  }

  PolicyService* service_;
  std::shared_ptr<Queue> queue_;
};

PolicyService::PolicyService(PolicyConfig config, const TrapSet* traps, TrapSink sink)
    : config_(std::move(config)),
      traps_(traps),
      sink_(std::move(sink)),
      shared_(std::make_shared<Shared>()) {}

PolicyService::~PolicyService() { Shutdown(); }

void PolicyService::Shutdown() {
  util::MutexLock lock(&shared_->mu);
  shared_->loop = nullptr;
  shared_->shut_down = true;
}

std::unique_ptr<util::StreamSession> PolicyService::Open(const sockaddr_storage&) noexcept {
  try {
    return std::make_unique<Session>(this);
  } catch (const std::exception&) {
    return nullptr;
  }
}

PolicyStats PolicyService::stats() const {
  const Shared& s = *shared_;
  PolicyStats out;
  out.requests = s.requests.load(std::memory_order_relaxed);
  out.trap_hits = s.trap_hits.load(std::memory_order_relaxed);
  out.recorded = s.recorded.load(std::memory_order_relaxed);
  out.deferred = s.deferred.load(std::memory_order_relaxed);
  out.malformed = s.malformed.load(std::memory_order_relaxed);
  out.bad_client = s.bad_client.load(std::memory_order_relaxed);
  out.overflow = s.overflow.load(std::memory_order_relaxed);
  return out;
}

util::StreamLimits PolicyService::PolicyLimits() {
  util::StreamLimits l;
  l.max_connections = 1000;
  l.max_per_address = 200;  // one per smtpd process of a trap MTA
  l.max_message = kMaxPolicyRequest;
  l.idle_timeout = std::chrono::milliseconds(330'000);  // above Postfix's 300 s max_idle
  l.message_timeout = std::chrono::milliseconds(10'000);
  return l;
}

}  // namespace meshbl::feed
