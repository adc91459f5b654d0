// The query log writer: drains the per-worker rings, formats and writes.
#include "meshbl/server/query_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "meshbl/util/log.h"

namespace meshbl::server {
using util::LogError;

namespace {

const char* TypeName(std::uint16_t t) {
  switch (t) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 10:
      return "NULL";
    case 12:
      return "PTR";
    case 13:
      return "HINFO";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 17:
      return "RP";
    case 28:
      return "AAAA";
    case 29:
      return "LOC";
    case 33:
      return "SRV";
    case 35:
      return "NAPTR";
    case 39:
      return "DNAME";
    case 41:
      return "OPT";
    case 43:
      return "DS";
    case 46:
      return "RRSIG";
    case 47:
      return "NSEC";
    case 48:
      return "DNSKEY";
    case 99:
      return "SPF";
    case 250:
      return "TSIG";
    case 251:
      return "IXFR";
    case 252:
      return "AXFR";
    case 253:
      return "MAILB";
    case 254:
      return "MAILA";
    case 255:
      return "ANY";
    default:
      return nullptr;
  }
}

const char* RcodeName(std::uint8_t r) {
  switch (r) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMPL";
    case 5:
      return "REFUSED";
    default:
      return nullptr;
  }
}

// A bounded character sink over a caller's buffer (allocation-free).
struct Out {
  char* p;
  char* end;
  void Put(char c) noexcept {
    if (p < end) *p++ = c;
  }
  void Put(const char* s) noexcept {
    while (*s != 0) Put(*s++);
  }
  void Unsigned(std::uint64_t v) noexcept {
    char tmp[20];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) Put(tmp[--n]);
  }
  void Signed(std::int64_t v) noexcept {
    if (v < 0) {
      Put('-');
      Unsigned(static_cast<std::uint64_t>(-(v + 1)) + 1);
    } else {
      Unsigned(static_cast<std::uint64_t>(v));
    }
  }
};

// Presentation form of the question's name as sent (case kept); sets *end
// to the offset after the name, or returns false for a malformed name.
bool NameText(const QueryLogRecord& r, Out* out, std::size_t* end) noexcept {
  std::size_t p = 0;
  bool first = true;
  while (p < r.question_len) {
    const std::uint8_t len = r.question[p++];
    if (len == 0) {
      if (first) out->Put('.');
      *end = p;
      return true;
    }
    if (len > 63 || len > r.question_len - p) return false;
    if (!first) out->Put('.');
    first = false;
    for (std::size_t i = 0; i < len; ++i) {
      const std::uint8_t c = r.question[p + i];
      if (c == '.' || c == '\\') {
        out->Put('\\');
        out->Put(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        out->Put('\\');
        out->Put(static_cast<char>('0' + c / 100));
        out->Put(static_cast<char>('0' + c / 10 % 10));
        out->Put(static_cast<char>('0' + c % 10));
      } else {
        out->Put(static_cast<char>(c));
      }
    }
    p += len;
  }
  return false;
}

void ClientText(const table::ClientAddr& c, Out* out) noexcept {
  if (c.family == 4) {
    for (int i = 3; i >= 0; --i) {
      out->Unsigned((c.v4 >> (8 * i)) & 255);
      if (i != 0) out->Put('.');
    }
    return;
  }
  if (c.family == 6) {
    std::uint8_t b[16];
    for (int i = 0; i < 8; ++i) {
      b[i] = static_cast<std::uint8_t>(c.hi >> (56 - 8 * i));
      b[8 + i] = static_cast<std::uint8_t>(c.lo >> (56 - 8 * i));
    }
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, b, buf, sizeof buf) != nullptr) {
      out->Put(buf);
      return;
    }
  }
  out->Put('?');
}

}  // namespace

std::size_t FormatQueryLogLine(const QueryLogRecord& r, char* buf) noexcept {
  // Room is kept for the newline.
  Out out{buf, buf + QueryLogRing::kMaxLine - 1};
  out.Signed(r.time);
  out.Put(' ');
  ClientText(r.client, &out);
  out.Put(' ');
  std::size_t end = 0;
  if (!NameText(r, &out, &end) || r.question_len - end < 4) {
    out.Put(" ? ?: ");
  } else {
    const std::uint16_t qtype =
        static_cast<std::uint16_t>((r.question[end] << 8) | r.question[end + 1]);
    const std::uint16_t qclass =
        static_cast<std::uint16_t>((r.question[end + 2] << 8) | r.question[end + 3]);
    out.Put(' ');
    if (const char* tn = TypeName(qtype); tn != nullptr) {
      out.Put(tn);
    } else {
      out.Put("type");
      out.Unsigned(qtype);
    }
    out.Put(' ');
    const char* cn = qclass == 1     ? "IN"
                     : qclass == 3   ? "CH"
                     : qclass == 4   ? "HS"
                     : qclass == 255 ? "ANY"
                                     : nullptr;
    if (cn != nullptr) {
      out.Put(cn);
    } else {
      out.Put("class");
      out.Unsigned(qclass);
    }
    out.Put(": ");
  }
  if (const char* rn = RcodeName(r.rcode); rn != nullptr) {
    out.Put(rn);
  } else {
    out.Put("rcode");
    out.Unsigned(r.rcode);
  }
  out.Put('/');
  out.Unsigned(r.ancount);
  out.Put('/');
  out.Unsigned(r.reply_len);
  *out.p++ = '\n';
  return static_cast<std::size_t>(out.p - buf);
}

std::string FormatQueryLogLine(const QueryLogRecord& r) {
  char buf[QueryLogRing::kMaxLine];
  const std::size_t n = FormatQueryLogLine(r, buf);
  return std::string(buf, n - 1);
}

namespace {

// Writes all of `data` to `fd` (retrying partial writes and EINTR); false
// with errno set on failure, *done = bytes written.
bool WriteAll(int fd, const char* data, std::size_t len, std::size_t* done) noexcept {
  *done = 0;
  while (*done < len) {
    const ssize_t n = ::write(fd, data + *done, len - *done);
    if (n > 0) {
      *done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    return false;
  }
  return true;
}

// Lines (newlines) in data.
std::uint64_t CountLines(const char* data, std::size_t len) noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < len; ++i) n += data[i] == '\n' ? 1 : 0;
  return n;
}

}  // namespace

void QueryLogRing::AppendDirect(const QueryLogRecord& r, int fd) noexcept {
  if (kDirectBuffer - direct_len_ < kMaxLine) FlushDirect(fd);
  direct_len_ += FormatQueryLogLine(r, direct_buf_.get() + direct_len_);
  ++direct_lines_;
}

void QueryLogRing::FlushDirect(int fd) noexcept {
  std::size_t done = 0;
  if (WriteAll(fd, direct_buf_.get(), direct_len_, &done)) {
    Bump(&written_, direct_lines_);
  } else {
    last_errno_.store(errno, std::memory_order_relaxed);
    // Lines wholly written count as written; the rest (a partial one too)
    // are lost.
    const std::uint64_t ok = CountLines(direct_buf_.get(), done);
    Bump(&written_, ok);
    Bump(&lost_, direct_lines_ - ok);
  }
  direct_len_ = 0;
  direct_lines_ = 0;
}

QueryLog::~QueryLog() {
  Stop();
  absl::MutexLock lock(&mu_);
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {
int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}
}  // namespace

absl::Status QueryLog::Open(std::string path, bool unbuffered) {
  absl::MutexLock lock(&mu_);
  path_ = std::move(path);
  unbuffered_ = unbuffered;
  const int fd = path_ == "-" ? STDOUT_FILENO : OpenAppend(path_);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = fd;
  own_fd_ = path_ != "-";
  if (unbuffered_) {
    for (QueryLogRing& ring : rings_) ring.SetDirect(fd_);
  }
  return absl::OkStatus();
}

void QueryLog::ReopenLocked() {
  if (path_.empty() || path_ == "-" || fd_ < 0) return;
  const int fd = OpenAppend(path_);
  if (fd < 0) {
    // Lines keep going to the old file until a reopen succeeds.
    const std::string msg =
        absl::StrCat("query log ", path_, ": reopen failed: ", std::strerror(errno),
                     "; still writing to the old file");
    if (report_) {
      report_(msg);
    } else {
      LogError(msg);
    }
    return;
  }
  // dup2 replaces the file behind fd_ atomically: workers writing in
  // unbuffered mode keep the same number and never see it closed.
  (void)::dup2(fd, fd_);
  ::close(fd);
}

void QueryLog::SetFailureReport(std::function<void(std::string_view)> report,
                                std::chrono::milliseconds interval) {
  absl::MutexLock lock(&mu_);
  report_ = std::move(report);
  report_interval_ = interval;
}

void QueryLog::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void QueryLog::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  DrainOnce();
  absl::MutexLock lock(&mu_);
  ReportLocked(true);
}

void QueryLog::RequestReopen() {
  absl::MutexLock lock(&mu_);
  reopen_ = true;
}

QueryLogRing* QueryLog::AddRing() {
  absl::MutexLock lock(&mu_);
  QueryLogRing* ring = &rings_.emplace_back();
  if (unbuffered_ && fd_ >= 0) ring->SetDirect(fd_);
  return ring;
}

void QueryLog::WriteLocked(const std::string& buf, std::uint64_t lines) {
  if (buf.empty()) return;
  std::size_t done = 0;
  if (fd_ >= 0 && WriteAll(fd_, buf.data(), buf.size(), &done)) {
    written_ += lines;
    return;
  }
  if (fd_ < 0) errno = EBADF;
  last_errno_ = errno;
  const std::uint64_t ok = CountLines(buf.data(), done);
  written_ += ok;
  lost_ += lines - ok;
}

std::size_t QueryLog::DrainOnce() {
  absl::MutexLock lock(&mu_);
  if (reopen_) {
    reopen_ = false;
    ReopenLocked();
  }
  std::size_t n = 0;
  QueryLogRecord r;
  std::string buf;
  std::uint64_t lines = 0;
  char line[QueryLogRing::kMaxLine];
  for (QueryLogRing& ring : rings_) {
    while (ring.Pop(&r)) {
      ++n;
      ++lines;
      buf.append(line, FormatQueryLogLine(r, line));
      if (buf.size() >= 64 * 1024) {
        WriteLocked(buf, lines);
        buf.clear();
        lines = 0;
      }
    }
  }
  WriteLocked(buf, lines);
  ReportLocked(false);
  return n;
}

void QueryLog::ReportLocked(bool final) {
  std::uint64_t lost = lost_;
  int err = last_errno_;
  for (const QueryLogRing& ring : rings_) {
    lost += ring.lost();
    if (ring.last_errno() != 0) err = ring.last_errno();
  }
  if (lost == reported_lost_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && reported_once_ && now - last_report_ < report_interval_) return;
  const std::string msg = absl::StrCat(
      "query log ", path_, ": write failed: ", std::strerror(err), ": ", lost - reported_lost_,
      " line(s) lost", reported_once_ ? " since the last report" : "", " (", lost, " in all)");
  if (report_) {
    report_(msg);
  } else {
    LogError(msg);
  }
  reported_once_ = true;
  last_report_ = now;
  reported_lost_ = lost;
}

std::uint64_t QueryLog::dropped() const {
  absl::MutexLock lock(&mu_);
  std::uint64_t d = 0;
  for (const QueryLogRing& ring : rings_) d += ring.dropped();
  return d;
}

QueryLogCounters QueryLog::counters() const {
  absl::MutexLock lock(&mu_);
  QueryLogCounters c;
  c.written = written_;
  c.lost = lost_;
  for (const QueryLogRing& ring : rings_) {
    c.written += ring.written();
    c.lost += ring.lost();
    c.dropped += ring.dropped();
  }
  return c;
}

std::string QueryLog::StatsLine() const {
  const QueryLogCounters c = counters();
  return absl::StrCat("query log: written=", c.written, " lost=", c.lost, " dropped=", c.dropped);
}

void QueryLog::Run() {
  // Drains every 100 ms, at once on a reopen request, and returns on Stop()
  // (which drains what is left).
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      (void)mu_.AwaitWithTimeout(absl::Condition(this, &QueryLog::Woken), absl::Milliseconds(100));
      if (stop_) return;
    }
    DrainOnce();
  }
}

}  // namespace meshbl::server
