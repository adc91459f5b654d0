#include "meshbl/feed/control.h"

#include <errno.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meshbl/table/types.h"
#include "meshbl/util/log.h"
#include "meshbl/util/time_value.h"
#include "meshbl/zone/parse_util.h"

namespace meshbl::feed {
namespace {

constexpr bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// The next blank-delimited word of `*s`; `*s` is left after it, blanks
// before it skipped.
std::string_view NextWord(std::string_view* s) {
  *s = TrimBlanks(*s);
  std::size_t n = 0;
  while (n < s->size() && !IsBlank((*s)[n])) ++n;
  std::string_view w = s->substr(0, n);
  s->remove_prefix(n);
  return w;
}

// A word shown inside an error: control bytes escaped, long words cut.
std::string Quote(std::string_view w) {
  std::string out = "'";
  std::size_t shown = 0;
  for (char c : w) {
    if (++shown > 80) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", u));
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

absl::Status Err(std::string_view verb, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(verb), ": ", std::string(what)));
}

bool ParseDigits(std::string_view s, std::int64_t* out) {
  if (s.empty() || s.size() > 18) return false;  // no overflow of int64
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// rbldnsd's time values (util/time_value.h), up to 12 digits.
bool ParseDuration(std::string_view s, std::int64_t* out) {
  std::uint64_t v = 0;
  if (!util::ParseTimeValue(s, 12, &v)) return false;
  *out = static_cast<std::int64_t>(v);
  return true;
}

absl::Status CheckListName(std::string_view verb, std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxListName;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  }
  if (ok) return absl::OkStatus();
  return Err(verb, absl::StrCat("LIST ", Quote(name), " is not a list name (letters, digits, ",
                                "'_', '-', '.'; at most ", kMaxListName, " bytes)"));
}

// The options a verb takes after its fixed fields.
struct Allowed {
  bool code = false, when = false, reason = false;
};

absl::Status ParseOptions(std::string_view verb, std::string_view rest, Allowed allowed,
                          Command* c) {
  bool seen_code = false, seen_ttl = false, seen_expires = false;
  while (true) {
    std::string_view w = NextWord(&rest);
    if (w.empty()) return absl::OkStatus();
    const std::size_t eq = w.find('=');
    const std::string_view key = eq == std::string_view::npos ? w : w.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? "" : w.substr(eq + 1);
    const bool known =
        eq != std::string_view::npos &&
        ((allowed.code && key == "code") || (allowed.when && (key == "ttl" || key == "expires")) ||
         (allowed.reason && key == "reason"));
    if (!known) {
      return Err(verb, eq == std::string_view::npos ? absl::StrCat("unexpected ", Quote(w))
                                                    : absl::StrCat("unknown option ", Quote(w)));
    }
    if (key == "reason") {
      // The rest of the line, from after "reason=".
      const std::string_view text = TrimBlanks(std::string_view(
          val.data(), static_cast<std::size_t>(rest.data() + rest.size() - val.data())));
      if (text.size() > kMaxReason) {
        return Err(verb,
                   absl::StrCat("reason longer than ", kMaxReason, " bytes (", text.size(), ")"));
      }
      for (char ch : text) {
        const auto u = static_cast<unsigned char>(ch);
        if ((u < 0x20 && ch != '\t') || u == 0x7f) {
          return Err(verb, absl::StrFormat("reason: byte 0x%02x is not allowed", u));
        }
      }
      c->reason = std::string(text);
      return absl::OkStatus();
    }
    if (key == "code") {
      std::int64_t v = 0;
      if (seen_code) return Err(verb, "code= given twice");
      if (!ParseDigits(val, &v) || v < 1 || v > 255) {
        return Err(verb, absl::StrCat(Quote(w), " is not a code from 1 to 255"));
      }
      seen_code = true;
      c->code = static_cast<std::uint8_t>(v);
      continue;
    }
    if (seen_ttl || seen_expires) {
      return Err(verb, (key == "ttl" ? seen_ttl : seen_expires)
                           ? absl::StrCat(std::string(key), "= given twice")
                           : std::string("ttl= and expires= exclude each other"));
    }
    std::int64_t v = 0;
    if (key == "ttl") {
      if (!ParseDuration(val, &v)) return Err(verb, absl::StrCat(Quote(w), " is not a duration"));
      if (v == 0) return Err(verb, absl::StrCat(Quote(w), ": a ttl must be above 0"));
      seen_ttl = true;
      c->ttl = v;
    } else {
      if (!ParseDigits(val, &v)) return Err(verb, absl::StrCat(Quote(w), " is not a Unix time"));
      seen_expires = true;
      c->expires = v;
    }
  }
}

struct VerbEntry {
  Verb verb;
  std::string_view name;
};
constexpr VerbEntry kVerbs[] = {
    {Verb::kAdd, "add"},
    {Verb::kDel, "del"},
    {Verb::kShow, "show"},
    {Verb::kList, "list"},
    {Verb::kWhitelistAdd, "whitelist add"},
    {Verb::kWhitelistDel, "whitelist del"},
    {Verb::kWhitelistList, "whitelist list"},
    {Verb::kExpire, "expire"},
    {Verb::kLoad, "load"},
    {Verb::kReport, "report"},
    {Verb::kStats, "stats"},
    {Verb::kHelp, "help"},
};

}  // namespace

std::string_view VerbName(Verb v) {
  for (const VerbEntry& e : kVerbs) {
    if (e.verb == v) return e.name;
  }
  return "?";
}

bool IsChange(Verb v) {
  switch (v) {
    case Verb::kAdd:
    case Verb::kDel:
    case Verb::kWhitelistAdd:
    case Verb::kWhitelistDel:
    case Verb::kExpire:
    case Verb::kLoad:
    case Verb::kReport:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<Command> ParseCommand(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view rest = line;
  std::string_view first = NextWord(&rest);
  if (first.empty()) return absl::InvalidArgumentError("empty command (help lists the commands)");
  Command c;
  bool found = false;
  if (first == "whitelist") {
    const std::string_view sub = NextWord(&rest);
    for (Verb v : {Verb::kWhitelistAdd, Verb::kWhitelistDel, Verb::kWhitelistList}) {
      if (VerbName(v) == absl::StrCat("whitelist ", std::string(sub))) {
        c.verb = v;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(
          sub.empty() ? std::string("whitelist: expected add, del or list")
                      : absl::StrCat("whitelist: expected add, del or list, not ", Quote(sub)));
    }
  } else {
    for (const VerbEntry& e : kVerbs) {
      if (e.name == first && e.name.find(' ') == std::string_view::npos) {
        c.verb = e.verb;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown command ", Quote(first), " (help lists the commands)"));
    }
  }
  const std::string_view verb = VerbName(c.verb);
  if (c.verb == Verb::kHelp) {
    if (std::string_view w = NextWord(&rest); !w.empty()) {
      return Err(verb, absl::StrCat("unexpected ", Quote(w)));
    }
    return c;
  }
  if (c.verb == Verb::kReport) {
    const std::string_view hit = TrimBlanks(rest);
    if (hit.empty()) return Err(verb, "missing HIT-LINE");
    c.hit = std::string(hit);
    return c;
  }
  // Every other verb names a list (optional for stats).
  const std::string_view list = NextWord(&rest);
  if (list.empty() && c.verb != Verb::kStats) return Err(verb, "missing LIST");
  if (!list.empty()) {
    if (auto st = CheckListName(verb, list); !st.ok()) return st;
    c.list = std::string(list);
  }
  auto subject = [&](bool required, Subject* out) -> absl::Status {
    const std::string_view w = NextWord(&rest);
    if (w.empty()) return required ? Err(verb, "missing SUBJECT") : absl::OkStatus();
    auto s = Subject::Parse(w);
    if (!s.ok()) return Err(verb, std::string(s.status().message()));
    // A subject whose canonical form reads differently (a name of digits and
    // dots such as "1.2.") could not be named again by show, del or a log.
    if (auto back = Subject::Parse(s->ToString()); !back.ok() || !(*back == *s)) {
      return Err(verb,
                 absl::StrCat(Quote(w), ": ambiguous (reads back as ", Quote(s->ToString()), ")"));
    }
    *out = *std::move(s);
    return absl::OkStatus();
  };
  absl::Status st;
  switch (c.verb) {
    case Verb::kAdd:
      st = subject(true, &c.subject);
      if (st.ok()) st = ParseOptions(verb, rest, {.code = true, .when = true, .reason = true}, &c);
      break;
    case Verb::kWhitelistAdd:
      st = subject(true, &c.subject);
      if (st.ok()) st = ParseOptions(verb, rest, {.reason = true}, &c);
      break;
    case Verb::kDel:
    case Verb::kShow:
    case Verb::kWhitelistDel:
      st = subject(true, &c.subject);
      if (st.ok()) st = ParseOptions(verb, rest, {}, &c);
      break;
    case Verb::kList: {
      Subject s;
      const bool given = !TrimBlanks(rest).empty();
      st = subject(false, &s);
      if (st.ok() && given) c.within = std::move(s);
      if (st.ok()) st = ParseOptions(verb, rest, {}, &c);
      break;
    }
    case Verb::kLoad: {
      const std::string_view file = NextWord(&rest);
      if (file.empty()) return Err(verb, "missing FILE");
      if (file.front() != '/') {
        return Err(verb, absl::StrCat("FILE ", Quote(file),
                                      " is not an absolute path (meshbl ctl makes it one)"));
      }
      for (char ch : file) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x20 || u == 0x7f) return Err(verb, absl::StrCat("FILE ", Quote(file)));
      }
      c.file = std::string(file);
      st = ParseOptions(verb, rest, {.when = true}, &c);
      break;
    }
    default:  // expire, whitelist list, stats
      st = ParseOptions(verb, rest, {}, &c);
      break;
  }
  if (!st.ok()) return st;
  return c;
}

std::string FormatCommand(const Command& c) {
  std::string out(VerbName(c.verb));
  if (c.verb == Verb::kReport) return absl::StrCat(out, " ", c.hit);
  if (!c.list.empty()) absl::StrAppend(&out, " ", c.list);
  switch (c.verb) {
    case Verb::kAdd:
    case Verb::kDel:
    case Verb::kShow:
    case Verb::kWhitelistAdd:
    case Verb::kWhitelistDel:
      absl::StrAppend(&out, " ", c.subject.ToString());
      break;
    case Verb::kList:
      if (c.within) absl::StrAppend(&out, " ", c.within->ToString());
      break;
    case Verb::kLoad:
      absl::StrAppend(&out, " ", c.file);
      break;
    default:
      break;
  }
  if (c.code) absl::StrAppend(&out, " code=", *c.code);
  if (c.ttl) absl::StrAppend(&out, " ttl=", *c.ttl);
  if (c.expires) absl::StrAppend(&out, " expires=", *c.expires);
  if (!c.reason.empty()) absl::StrAppend(&out, " reason=", c.reason);
  return out;
}

std::vector<std::string> HelpLines() {
  return {
      "add LIST SUBJECT [code=N] [ttl=DURATION|expires=UNIX] [reason=TEXT...]",
      "del LIST SUBJECT",
      "show LIST SUBJECT",
      "list LIST [SUBJECT]",
      "whitelist add LIST SUBJECT [reason=TEXT...]",
      "whitelist del LIST SUBJECT",
      "whitelist list LIST",
      "expire LIST",
      "load LIST FILE [ttl=DURATION|expires=UNIX]",
      "report HIT-LINE",
      "stats [LIST]",
      "help",
  };
}

namespace {

std::string UtcTime(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (::gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string OriginText(Origin o, const std::string& id) {
  std::string out(OriginName(o));
  if (!id.empty()) absl::StrAppend(&out, ":", id);
  return out;
}

}  // namespace

std::string FormatListing(const Listing& l) {
  std::string out = absl::StrCat(
      l.subject.ToString(), " code=", l.code, " origin=", OriginText(l.origin, l.origin_id),
      " first=", UtcTime(l.first_seen), " last=", UtcTime(l.last_seen),
      " expires=", l.expires == 0 ? "never" : UtcTime(l.expires), " offenses=", l.offenses);
  if (!l.reason.empty()) absl::StrAppend(&out, " reason=", l.reason);
  return out;
}

std::string FormatWhitelistEntry(const WhitelistEntry& w) {
  std::string out =
      absl::StrCat(w.subject.ToString(), " whitelist origin=", OriginText(w.origin, w.origin_id),
                   " added=", UtcTime(w.added));
  if (!w.reason.empty()) absl::StrAppend(&out, " reason=", w.reason);
  return out;
}

std::vector<std::string> ShowLines(const Subject& subject, const std::vector<Listing>& listings,
                                   const std::vector<WhitelistEntry>& whitelist,
                                   const std::vector<std::string>& explain) {
  std::vector<std::string> out;
  out.push_back(absl::StrCat(subject.ToString(), ": ",
                             !whitelist.empty()  ? "whitelisted"
                             : !listings.empty() ? "listed"
                                                 : "not listed"));
  for (const Listing& l : listings) out.push_back("listing " + FormatListing(l));
  for (const WhitelistEntry& w : whitelist) out.push_back("whitelist " + FormatWhitelistEntry(w));
  for (const std::string& e : explain) out.push_back("rule " + e);
  return out;
}

// ---- Replies.

Reply Reply::Ok(std::vector<std::string> lines) {
  Reply r;
  r.lines = std::move(lines);
  return r;
}

Reply Reply::Error(std::string message) {
  Reply r;
  r.ok = false;
  r.error = std::move(message);
  return r;
}

Reply Reply::FromStatus(const absl::Status& status) {
  return status.ok() ? Ok() : Error(std::string(status.message()));
}

namespace {

void AppendEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      *out += "\\\\";
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(out, absl::StrFormat("\\x%02x", u));
    } else {
      *out += c;
    }
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EncodeReply(const Reply& r) {
  std::string out;
  if (r.ok) {
    out = "ok\n";
  } else {
    out = "error: ";
    AppendEscaped(&out, r.error);
    out += '\n';
  }
  for (const std::string& l : r.lines) {
    if (!l.empty() && l.front() == '.') out += '.';
    AppendEscaped(&out, l);
    out += '\n';
  }
  out += ".\n";
  return out;
}

std::string UnescapeReplyLine(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
               HexDigit(line[i + 2]) >= 0 && HexDigit(line[i + 3]) >= 0) {
      out += static_cast<char>(HexDigit(line[i + 2]) * 16 + HexDigit(line[i + 3]));
      i += 3;
    } else {
      out += line[i];
    }
  }
  return out;
}

absl::StatusOr<bool> ReplyDecoder::AddLine(std::string_view line) {
  if (!have_status_) {
    if (line == "ok") {
      reply_ = Reply::Ok();
    } else if (line.starts_with("error: ")) {
      reply_ = Reply::Error(UnescapeReplyLine(line.substr(7)));
    } else {
      return absl::DataLossError(
          absl::StrCat("control reply: status line ", Quote(line), " is neither ok nor error"));
    }
    have_status_ = true;
    return false;
  }
  if (line == ".") return true;
  if (line.starts_with(".")) {
    if (!line.starts_with("..")) {
      return absl::DataLossError(absl::StrCat("control reply: bad data line ", Quote(line)));
    }
    line.remove_prefix(1);
  }
  reply_.lines.push_back(UnescapeReplyLine(line));
  return false;
}

Reply ReplyDecoder::Take() {
  have_status_ = false;
  return std::exchange(reply_, Reply());
}

// ---- Peers.

std::string PeerCred::OriginId() const { return absl::StrCat("uid ", uid); }
std::string PeerCred::ToString() const { return absl::StrCat("uid ", uid, " pid ", pid); }

absl::StatusOr<PeerCred> GetPeerCred(int fd) {
  ucred uc{};
  socklen_t len = sizeof(uc);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("SO_PEERCRED: ", std::string(std::strerror(errno))));
  }
  PeerCred p;
  p.uid = uc.uid;
  p.gid = uc.gid;
  p.pid = uc.pid;
  return p;
}

// ---- The service.

util::StreamLimits ControlService::Limits() {
  util::StreamLimits l;
  l.max_connections = 16;
  l.max_per_address = 0;
  l.max_message = kMaxControlLine;
  l.max_queued = 1024 * 1024;
  l.idle_timeout = std::chrono::minutes(5);
  l.message_timeout = std::chrono::seconds(30);
  return l;
}

class ControlService::Session : public util::StreamSession {
 public:
  Session(ControlHandler* handler, ControlStats* stats)
      : handler_(handler), state_(std::make_shared<State>()) {
    state_->stats = stats;
  }

  bool OnMessage(util::StreamConn& conn, std::span<const std::uint8_t> message) noexcept override {
    State& s = *state_;
    ++s.stats->requests;
    if (s.loop == nullptr) {
      s.loop = &conn.loop();
      s.id = conn.id();
      auto cred = GetPeerCred(conn.id().fd);
      if (!cred.ok()) {
        ++s.stats->refused;
        const std::string bytes =
            EncodeReply(Reply::Error(absl::StrCat("control: ", cred.status().message())));
        conn.Send({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
        conn.Close();
        return true;
      }
      cred_ = *cred;
    }
    const std::uint64_t seq = s.next_seq++;
    const std::string_view line(reinterpret_cast<const char*>(message.data()), message.size());
    if (seq - s.sent_seq >= kMaxInFlight) {
      ++s.stats->refused;
      // Refusals wait in order too: a client that keeps sending without
      // reading them is cut off, so what waits stays bounded.
      if (seq - s.sent_seq >= 2 * kMaxInFlight) return false;
      Immediate(conn, seq, Reply::Error("too many requests in flight"));
      return true;
    }
    auto cmd = ParseCommand(line);
    if (!cmd.ok()) {
      ++s.stats->parse_errors;
      Immediate(conn, seq, Reply::Error(std::string(cmd.status().message())));
      return true;
    }
    if (cmd->verb == Verb::kHelp) {
      Immediate(conn, seq, Reply::Ok(HelpLines()));
      return true;
    }
    ++s.stats->handled;
    conn.Defer();
    s.handler = handler_;
    s.cred = cred_;
    // A read waits for the changes sent before it on this connection (and
    // everything after it waits for it), so a pipelined `add` then `list`
    // shows the add, as if each had waited for its reply.
    if (!s.held.empty() || (!IsChange(cmd->verb) && s.changes_in_flight > 0)) {
      s.held.emplace_back(seq, *std::move(cmd));
    } else {
      State::Dispatch(state_, seq, *cmd);
    }
    return true;
  }

 private:
  struct State {
    util::EventLoop* loop = nullptr;
    util::ConnId id;
    ControlStats* stats = nullptr;
    ControlHandler* handler = nullptr;
    PeerCred cred;
    std::uint64_t next_seq = 0;                  // the next request's number
    std::uint64_t sent_seq = 0;                  // the first request whose reply is not sent
    std::map<std::uint64_t, std::string> ready;  // replies waiting for earlier ones
    std::uint64_t changes_in_flight = 0;         // passed to the handler, not done
    std::deque<std::pair<std::uint64_t, Command>> held;  // waiting for those changes

    // Passes a request to the handler; its reply comes back on the loop.
    static void Dispatch(const std::shared_ptr<State>& self, std::uint64_t seq,
                         const Command& cmd) {
      State& s = *self;
      const bool change = IsChange(cmd.verb);
      if (change) ++s.changes_in_flight;
      std::weak_ptr<State> weak = self;
      util::EventLoop* loop = s.loop;
      ControlStats* stats = s.stats;
      // Every change but a trap hit is logged with its origin once done
      // (hits are not operator changes: the listings they cause are logged
      // by the rules).
      std::string log;
      if (change && cmd.verb != Verb::kReport) {
        log = absl::StrCat("control: ", s.cred.ToString(), ": ", FormatCommand(cmd));
      }
      s.handler->Handle(cmd, s.cred,
                        [weak, loop, stats, seq, change, log = std::move(log)](Reply r) {
                          loop->Post([weak, stats, seq, change, log, r = std::move(r)]() mutable {
                            if (!r.ok) ++stats->errors;
                            if (!log.empty()) {
                              util::LogInfo(r.ok ? absl::StrCat(log, ": ok")
                                                 : absl::StrCat(log, ": error: ", r.error));
                            }
                            std::shared_ptr<State> st = weak.lock();
                            if (st == nullptr) {
                              ++stats->dropped;
                              return;
                            }
                            if (change) --st->changes_in_flight;
                            st->Complete(seq, EncodeReply(r));
                            Pump(st);
                          });
                        });
    }

    // Dispatches the held requests that may go now.
    static void Pump(const std::shared_ptr<State>& self) {
      State& s = *self;
      while (!s.held.empty()) {
        if (!IsChange(s.held.front().second.verb) && s.changes_in_flight > 0) return;
        auto [seq, cmd] = std::move(s.held.front());
        s.held.pop_front();
        Dispatch(self, seq, cmd);
      }
    }

    // A deferred request's reply: sent with those after it that were waiting.
    void Complete(std::uint64_t seq, std::string bytes) {
      ready.emplace(seq, std::move(bytes));
      while (!ready.empty() && ready.begin()->first == sent_seq) {
        const std::string& b = ready.begin()->second;
        if (!loop->Reply(id, {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()})) {
          ++stats->dropped;
        }
        ready.erase(ready.begin());
        ++sent_seq;
      }
    }
  };

  // A reply known now: sent at once when nothing before it is pending,
  // else deferred behind the others.
  void Immediate(util::StreamConn& conn, std::uint64_t seq, const Reply& r) {
    const std::string bytes = EncodeReply(r);
    if (seq == state_->sent_seq) {
      ++state_->sent_seq;
      conn.Send({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    } else {
      conn.Defer();
      state_->ready.emplace(seq, bytes);
    }
  }

  ControlHandler* handler_;
  PeerCred cred_;
  std::shared_ptr<State> state_;
};

std::unique_ptr<util::StreamSession> ControlService::Open(const sockaddr_storage& peer) noexcept {
  if (peer.ss_family != AF_UNIX) {
    ++stats_.refused;
    return nullptr;
  }
  return std::make_unique<Session>(handler_, &stats_);
}

absl::StatusOr<util::UniqueFd> OpenControlListener(const std::string& path, mode_t mode,
                                                   gid_t gid) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return absl::AlreadyExistsError(absl::StrCat(path, ": exists and is not a socket"));
  }
  const std::string tmp = absl::StrCat(path, ".new");
  auto fd = util::OpenUnixListener(tmp);
  if (!fd.ok()) return fd.status();
  auto fail = [&](std::string_view what) {
    const int e = errno;
    (void)::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat(std::string(what), " ", tmp, ": ", std::string(std::strerror(e))));
  };
  if (gid != static_cast<gid_t>(-1) && ::chown(tmp.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    return fail("chown");
  }
  if (::chmod(tmp.c_str(), mode) != 0) return fail("chmod");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename to " + path + ":");
  return fd;
}

absl::StatusOr<util::UniqueFd> ConnectControl(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sun.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": unix socket path empty or too long"));
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::UnavailableError(
        absl::StrCat(path, ": socket: ", std::string(std::strerror(errno))));
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)) != 0) {
    const int e = errno;
    return absl::Status(absl::ErrnoToStatusCode(e),
                        absl::StrCat(path, ": connect: ", std::string(std::strerror(e))));
  }
  return fd;
}

ControlClient::ControlClient(util::UniqueFd fd) : fd_(std::move(fd)) {}

absl::StatusOr<ControlClient> ControlClient::Connect(const std::string& path) {
  auto fd = ConnectControl(path);
  if (!fd.ok()) return fd.status();
  return ControlClient(*std::move(fd));
}

absl::Status ControlClient::Send(std::string_view line) {
  std::string buf(line);
  buf += '\n';
  std::string_view rest = buf;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("control socket: send: ", std::string(std::strerror(errno))));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> ControlClient::Read() {
  ReplyDecoder decoder;
  while (true) {
    const std::size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      auto done = decoder.AddLine(std::string_view(buf_).substr(0, nl));
      buf_.erase(0, nl + 1);
      if (!done.ok()) return done.status();
      if (*done) return decoder.Take();
      continue;
    }
    char chunk[4096];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(
          absl::StrCat("control socket: recv: ", std::string(std::strerror(errno))));
    }
    if (n == 0) return absl::UnavailableError("control socket: closed before the reply ended");
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

absl::StatusOr<Reply> ControlClient::Call(std::string_view line) {
  if (auto st = Send(line); !st.ok()) return st;
  return Read();
}

// ---- load FILE.

namespace {

constexpr std::size_t kMaxFileLine = 32 * 1024;

// The key word of a line, for errors.
std::string_view KeyWord(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && !IsBlank(line[n])) ++n;
  return line.substr(0, n);
}

bool AllOf(std::string_view s, std::string_view chars) {
  return !s.empty() && s.find_first_not_of(chars) == std::string_view::npos;
}

// A value as a live list holds it: code and reason.
absl::Status ToCodeReason(const table::Value& v, std::uint8_t* code, std::string* reason) {
  if ((v.a >> 8) != 0x7f0000u || (v.a & 0xffu) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("A ", dns::IpAddress::V4(v.a).ToString(),
                     ": a live list answers 127.0.0.N, N from 1 to 255"));
  }
  *code = static_cast<std::uint8_t>(v.a & 0xffu);
  *reason = v.txt.value_or("");
  return absl::OkStatus();
}

absl::Status ParseValueInto(std::string_view s, const table::Value& def, std::uint8_t* code,
                            std::string* reason) {
  table::Value v;
  bool truncated = false;
  const zone::ValueError e = zone::ParseValue(s, def, &v, &truncated);
  if (e != zone::ValueError::kNone) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(zone::ValueErrorText(e)), " ", Quote(s)));
  }
  if (truncated) return absl::InvalidArgumentError("TXT longer than 255 bytes");
  return ToCodeReason(v, code, reason);
}

// One entry line -> subject, with `*rest` left at the value.
absl::StatusOr<Subject> ParseKey(std::string_view line, std::string_view* rest) {
  std::uint32_t a4 = 0;
  std::string_view r;
  int bits = zone::ParseIp4Cidr(line, &a4, &r);
  if (bits >= 0 && zone::IsValidKeyTail(r)) {
    if ((a4 & ~zone::Ip4Mask(bits)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(KeyWord(line)), ": host bits set"));
    }
    *rest = r;
    return Subject::Ip(dns::IpAddress::V4(a4), static_cast<std::size_t>(bits));
  }
  zone::Ip6Addr a6{};
  bits = zone::ParseIp6Cidr(line, &a6, &r);
  if (bits >= 0 && zone::IsValidKeyTail(r)) {
    if (zone::MaskIp6(&a6, bits)) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(KeyWord(line)), ": host bits set"));
    }
    *rest = r;
    return Subject::Ip(dns::IpAddress::V6(a6), static_cast<std::size_t>(bits));
  }
  const std::string_view word = KeyWord(line);
  if (AllOf(word, "0123456789./")) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(word), ": not an IPv4 address or CIDR"));
  }
  if (word.find(':') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(word), ": not an IPv6 address or prefix"));
  }
  if (word.starts_with("*.")) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(word), ": subdomains only has no live-list form (.",
                     std::string(word.substr(2)), " is the name and every name below)"));
  }
  auto s = Subject::Parse(word);
  if (!s.ok()) return s.status();
  *rest = line.substr(word.size());
  return s;
}

}  // namespace

absl::StatusOr<std::vector<Listing>> ParseLiveListText(std::string_view text, std::string_view name,
                                                       const LoadOptions& options) {
  std::vector<Listing> out;
  std::unordered_set<std::string> seen;
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  seen.reserve(lines);
  out.reserve(lines);
  const table::Value builtin;  // 127.0.0.2, no TXT
  std::uint8_t def_code = 2;
  std::string def_reason;
  std::size_t lineno = 0;
  auto fail = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(name), ":", lineno, ": ", std::string(what)));
  };
  while (!text.empty()) {
    ++lineno;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() > kMaxFileLine) {
      return fail(absl::StrCat("line longer than ", kMaxFileLine, " bytes"));
    }
    if (line.find('\r') != std::string_view::npos) {
      return fail("carriage return in the line (a CRLF file?)");
    }
    line = TrimBlanks(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '$') {
      return fail(absl::StrCat(Quote(KeyWord(line)),
                               ": special lines are not accepted (zone settings belong to "
                               "the zone)"));
    }
    if (line[0] == '!') {
      return fail(
          "exclusions are not accepted (a live list has whitelist entries: "
          "whitelist add)");
    }
    if (line[0] == ':' && !line.starts_with("::")) {
      if (auto st = ParseValueInto(line, builtin, &def_code, &def_reason); !st.ok()) {
        return fail(std::string(st.message()));
      }
      continue;
    }
    std::string_view rest;
    auto subject = ParseKey(line, &rest);
    if (!subject.ok()) return fail(std::string(subject.status().message()));
    Listing l;
    l.subject = *std::move(subject);
    zone::SkipBlanks(&rest);
    if (rest.empty() || zone::IsCommentChar(rest[0])) {
      l.code = def_code;
      l.reason = def_reason;
    } else {
      table::Value def;
      def.a = 0x7f000000u | def_code;
      if (!def_reason.empty()) def.txt = def_reason;
      if (auto st = ParseValueInto(rest, def, &l.code, &l.reason); !st.ok()) {
        return fail(std::string(st.message()));
      }
    }
    if (!seen.insert(l.subject.ToString()).second) continue;  // first wins
    l.origin = Origin::kLoad;
    l.origin_id = std::string(name);
    l.first_seen = l.last_seen = options.now;
    l.expires = options.expires;
    out.push_back(std::move(l));
  }
  return out;
}

absl::StatusOr<std::vector<Listing>> ParseLiveListFile(const std::string& path,
                                                       const LoadOptions& options) {
  auto file = util::MappedFile::Open(path, util::MappedFile::Mode::kCopy);
  if (!file.ok()) return file.status();
  const auto bytes = file->bytes();
  return ParseLiveListText(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path, options);
}

}  // namespace meshbl::feed
