// The control channel of live lists (issue 11, "Control"): `meshbl ctl`
// talks to meshbld over a unix stream socket whose file permissions are the
// access control, as Knot's knotc does. This header holds the protocol (the
// command grammar, the reply framing), the stream service that serves it on
// the util::EventLoop, the client side the tool uses, and the parser of the
// files `load` reads. What a command does to a live list is the handler's
// business (ControlHandler, implemented by whoever owns the store).
//
// The protocol (docs/meshbld.8.md, CONTROL SOCKET):
//  * A request is one line ending in "\n" (a "\r" before it is dropped), at
//    most kMaxControlLine bytes. Words are separated by blanks (space, tab);
//    `reason=` takes the rest of the line. Several requests may be sent
//    without waiting; replies come back in request order, and a request
//    that reads (list, show, stats...) sees every change sent before it on
//    the same connection, as if each request had waited for its reply.
//  * A reply is a status line, "ok" or "error: MESSAGE", then zero or more
//    data lines, then a line holding a single ".". A data line that starts
//    with "." gets one more "." in front (SMTP's dot-stuffing); bytes below
//    0x20, 0x7f and "\" are written as "\xHH" and "\\", so a reply line never
//    holds a control byte.
//  * A request that does not parse is answered "error: ..." naming the
//    field, and never reaches the handler: nothing of it is applied.
//
// Control plane only: allocates, formats, logs. Not for the hot path.
#ifndef MESHBL_FEED_CONTROL_H_
#define MESHBL_FEED_CONTROL_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshbl/feed/entry.h"
#include "meshbl/util/event_loop.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::feed {

// The longest request line, "\n" excluded; a longer one closes the
// connection (the event loop's framing limit).
inline constexpr std::size_t kMaxControlLine = 8192;
// The longest `reason=` text: one TXT character-string.
inline constexpr std::size_t kMaxReason = 255;
// The longest live list name ([A-Za-z0-9_.-]).
inline constexpr std::size_t kMaxListName = 64;
// Requests of one connection whose replies are not yet sent; a request past
// it is answered "error: too many requests in flight" (in order), and past
// twice as many the connection is closed.
inline constexpr std::size_t kMaxInFlight = 256;
// Where meshbld listens and meshbl ctl connects unless told otherwise.
inline constexpr char kDefaultControlSocket[] = "/run/meshbl/meshbld.ctl";

enum class Verb : std::uint8_t {
  kAdd,
  kDel,
  kShow,
  kList,
  kWhitelistAdd,
  kWhitelistDel,
  kWhitelistList,
  kExpire,
  kLoad,
  kReport,
  kStats,
  kHelp,
};
// "add", "whitelist add", ...: the words a request starts with.
std::string_view VerbName(Verb v);
// True for the verbs that change a live list (logged with their origin).
bool IsChange(Verb v);

// One parsed request. Which fields a verb uses:
//   add LIST SUBJECT [code=N] [ttl=DURATION | expires=UNIX] [reason=TEXT...]
//   del LIST SUBJECT
//   show LIST SUBJECT
//   list LIST [SUBJECT]           (within: only entries SUBJECT covers)
//   whitelist add LIST SUBJECT [reason=TEXT...]
//   whitelist del LIST SUBJECT
//   whitelist list LIST
//   expire LIST
//   load LIST FILE [ttl=DURATION | expires=UNIX]
//   report HIT-LINE...            (the rest of the line, as `meshbl report` writes it)
//   stats [LIST]
//   help
// DURATION is digits with an optional unit s, m, h, d or w (rbldnsd's time
// values), above 0. UNIX is seconds since the epoch; expires=0 is never.
// FILE is an absolute path without blanks. TEXT is up to kMaxReason bytes,
// tabs and bytes >= 0x20 except 0x7f; blanks around it are dropped.
struct Command {
  Verb verb = Verb::kHelp;
  std::string list;                     // empty for help and a bare stats
  Subject subject;                      // add, del, show, whitelist add/del
  std::optional<Subject> within;        // list
  std::optional<std::uint8_t> code;     // add: 1..255 (A 127.0.0.N)
  std::optional<std::int64_t> ttl;      // add, load: seconds from now
  std::optional<std::int64_t> expires;  // add, load: absolute
  std::string reason;                   // add, whitelist add (<= kMaxReason bytes)
  std::string file;                     // load: absolute (the tool makes it so)
  std::string hit;                      // report

  friend bool operator==(const Command&, const Command&) = default;
};

// Parses one request line (without its "\n"; a trailing "\r" is dropped).
// Errors name the verb and the field: "add: 'ttl=5x' is not a duration",
// "del: missing SUBJECT", "show: unexpected 'extra'".
absl::StatusOr<Command> ParseCommand(std::string_view line);
// The canonical request line of `c` (for logs and the client):
// ParseCommand(FormatCommand(c)) == c for every parsed command.
std::string FormatCommand(const Command& c);
// The lines `help` answers with, one per command form.
std::vector<std::string> HelpLines();

// The data lines `list`, `show` and `whitelist list` answer with, one per
// entry: the subject, then name=value fields, reason last (it may hold
// blanks); times as UTC "2026-12-02T03:04:05Z", expires "never" for 0:
//   192.0.2.7 code=2 origin=operator:uid 1000 first=... last=... expires=... offenses=1 reason=spam
//   198.51.100.0/24 whitelist origin=operator:uid 0 added=... reason=our MX
std::string FormatListing(const Listing& l);
std::string FormatWhitelistEntry(const WhitelistEntry& w);

// The reply of `show LIST SUBJECT`, from what the handler found: the
// listings and whitelist entries that cover `subject` (most specific
// first, as the handler orders them) and the listing rule's explanation
// (e.g. "rule traps: 3 hits from 3 messages in 1h >= threshold 3"). The
// first line is the verdict: "SUBJECT: whitelisted" when a whitelist entry
// covers it, else "SUBJECT: listed" when a listing does, else
// "SUBJECT: not listed"; then "listing ...", "whitelist ..." and "rule ..."
// lines.
std::vector<std::string> ShowLines(const Subject& subject, const std::vector<Listing>& listings,
                                   const std::vector<WhitelistEntry>& whitelist,
                                   const std::vector<std::string>& explain);

// The answer to one request.
struct Reply {
  bool ok = true;
  std::string error;               // !ok: one line of text (control bytes escaped on the wire)
  std::vector<std::string> lines;  // data lines, any bytes (escaped on the wire)

  static Reply Ok(std::vector<std::string> lines = {});
  static Reply Error(std::string message);
  // OK -> Ok(); otherwise Error(status.message()).
  static Reply FromStatus(const absl::Status& status);
  friend bool operator==(const Reply&, const Reply&) = default;
};

// The reply's wire form: status line, data lines, ".", each ending in "\n".
std::string EncodeReply(const Reply& r);
// Undoes EncodeReply's escaping of one line ("\\" and "\xHH").
std::string UnescapeReplyLine(std::string_view line);

// Reads a reply back, line by line (the client side and the tests).
class ReplyDecoder {
 public:
  // One line of the reply without its "\n". Returns true once the "."
  // ending the reply was read (then take() it); an error for a status line
  // that is neither "ok" nor "error: ...".
  absl::StatusOr<bool> AddLine(std::string_view line);
  // The decoded reply (data lines unescaped); resets the decoder.
  Reply Take();

 private:
  bool have_status_ = false;
  Reply reply_;
};

// Who is on the other end of a unix socket (SO_PEERCRED).
struct PeerCred {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int32_t pid = 0;
  // "uid 1000": the origin_id of operator changes.
  std::string OriginId() const;
  // "uid 1000 pid 4242": log lines.
  std::string ToString() const;
};
absl::StatusOr<PeerCred> GetPeerCred(int fd);

// What the commands do. Implemented by the layer that owns the live lists.
class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  // Called on the event loop's thread for every request that parsed, in the
  // order each connection sent them (`help` is answered by the service
  // itself). `done` must be called exactly once, from any thread, when the
  // command is finished (for a change: when it is durable), and before the
  // event loop is destroyed; the reply goes back in request order. A
  // connection closed meanwhile drops the reply. Every change but `report`
  // is logged by the service when done: "control: uid 1000 pid 42: del
  // traps 192.0.2.7: ok" (or ": error: MESSAGE").
  virtual void Handle(const Command& cmd, const PeerCred& peer,
                      std::function<void(Reply)> done) = 0;
};

// Counters of one ControlService, written on the loop thread only.
struct ControlStats {
  std::uint64_t requests = 0;      // lines read
  std::uint64_t parse_errors = 0;  // answered without reaching the handler
  std::uint64_t handled = 0;       // passed to the handler
  std::uint64_t errors = 0;        // replies "error: ..." from the handler
  std::uint64_t dropped = 0;       // replies whose connection had closed
  std::uint64_t refused = 0;       // over kMaxInFlight, or no peer credentials
};

// The control protocol as a util::StreamService: unix-socket peers only
// (any other connection is refused), newline framing, bounded line length
// and connections (Limits()). `handler` must outlive the service; the
// service must outlive the loop it is added to. Loop thread only.
class ControlService : public util::StreamService {
 public:
  explicit ControlService(ControlHandler* handler) : handler_(handler) {}
  // The framing to pass to EventLoop::AddService.
  static util::Framing Framing() { return util::Framing::Delimited("\n"); }
  // The limits to pass to EventLoop::AddService: 16 connections, lines of
  // kMaxControlLine bytes, 5 minutes idle (an operator typing into
  // `meshbl ctl -`), 30 s to send a line or take a reply.
  static util::StreamLimits Limits();

  std::unique_ptr<util::StreamSession> Open(const sockaddr_storage& peer) noexcept override;
  const ControlStats& stats() const { return stats_; }

 private:
  class Session;
  ControlHandler* handler_;
  ControlStats stats_;
};

// The listening socket of the control channel at `path`: an old socket
// there is replaced; the socket is bound under a temporary name, given
// `mode` (and `gid` unless -1), then renamed into place, so it is never
// reachable with looser permissions. Non-blocking, close-on-exec.
absl::StatusOr<util::UniqueFd> OpenControlListener(const std::string& path, mode_t mode = 0660,
                                                   gid_t gid = static_cast<gid_t>(-1));
// A blocking client connection to `path` (the tool, the tests). The error
// names the path and the errno text: "/run/meshbl/meshbld.ctl: connect: No
// such file or directory".
absl::StatusOr<util::UniqueFd> ConnectControl(const std::string& path);

// The client side of one connection (blocking): `meshbl ctl` and the tests.
// Not thread-safe.
class ControlClient {
 public:
  static absl::StatusOr<ControlClient> Connect(const std::string& path);
  explicit ControlClient(util::UniqueFd fd);
  // Sends one request line (a "\n" is appended).
  absl::Status Send(std::string_view line);
  // Reads the next reply (replies come in request order).
  absl::StatusOr<Reply> Read();
  // Send() then Read().
  absl::StatusOr<Reply> Call(std::string_view line);
  int fd() const { return fd_.get(); }

 private:
  util::UniqueFd fd_;
  std::string buf_;  // bytes read past the last reply
};

// ---- `load FILE`: rbldnsd ip4trie/ip6trie/dnset data in one file.
//
// Each line is an entry KEY [VALUE], a default line `:A:TXT`, a comment
// (`#`, `;`) or blank. KEY is an ip4trie key (CIDR or a 2-4 octet prefix:
// `10.2` = 10.2.0.0/16), an ip6trie key (`2001:db8:1` = /48, `::/len`
// forms) or a dnset name (`example.com`, `.example.com` = the name and
// every name below). VALUE as rbldnsd's (`:A:TXT`, `:A:`, `:A`, `TXT`),
// with A = 127.0.0.N (a live list answers a code, not any address). A
// default line applies to the lines after it. The first entry for a
// subject wins, as in ip4trie (later duplicates are dropped).
// Refused, each naming file:line: `!` exclusions (a live list has
// whitelist entries instead: `whitelist add`), `$` specials (zone settings
// belong to the zone), `*.name` (subdomains only: no live-list form), host
// bits set, an A outside 127.0.0.0/24, TXT over 255 bytes, a "\r", a line
// over 32 KiB. All or nothing: the first bad line fails the whole file.
struct LoadOptions {
  std::int64_t now = 0;      // first_seen and last_seen
  std::int64_t expires = 0;  // every listing's expiry (0 = never)
};
absl::StatusOr<std::vector<Listing>> ParseLiveListFile(const std::string& path,
                                                       const LoadOptions& options = {});
// The same over text in memory; `name` is what errors call the file.
absl::StatusOr<std::vector<Listing>> ParseLiveListText(std::string_view text, std::string_view name,
                                                       const LoadOptions& options = {});

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_CONTROL_H_
