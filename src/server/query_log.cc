// The query log writer: drains the per-worker rings, formats and writes;
// opening, reopening, counters and failure reports. The workers' side is in
// query_log_ring.cc.
#include "meshbl/server/query_log.h"

#include <fcntl.h>
#include <sys/stat.h>
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
#include "meshbl/util/log.h"
#include "meshbl/util/thread_name.h"

namespace meshbl::server {
using util::LogError;

std::string FormatQueryLogLine(const QueryLogRecord& r) {
  char buf[QueryLogRing::kMaxLine];
  const std::size_t n = FormatQueryLogLine(r, buf);
  return std::string(buf, n - 1);
}

QueryLog::~QueryLog() {
  Stop();
  util::MutexLock lock(&mu_);
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {
int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}
}  // namespace

absl::Status QueryLog::Open(std::string path, bool unbuffered) {
  util::MutexLock lock(&mu_);
  path_ = std::move(path);
  unbuffered_ = unbuffered;
  const int fd = path_ == "-" ? STDOUT_FILENO : OpenAppend(path_);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = fd;
  own_fd_ = path_ != "-";
  mid_line_.store(false);
  if (unbuffered_) {
    for (QueryLogRing& ring : rings_) ring.SetDirect(fd_, &mid_line_);
  }
  return absl::OkStatus();
}

void QueryLog::ReopenLocked() {
  if (path_.empty() || path_ == "-" || fd_ < 0) return;
  const int fd = OpenAppend(path_);
  // dup3 replaces the file behind fd_ atomically: workers writing in
  // unbuffered mode keep the same number and never see it closed; the
  // number stays close-on-exec.
  const bool ok = fd >= 0 && ::dup3(fd, fd_, O_CLOEXEC) >= 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) {
    // Lines keep going to the old file until a reopen succeeds.
    const std::string msg =
        absl::StrCat("query log ", path_, ": reopen failed: ", std::strerror(err),
                     "; still writing to the old file");
    if (report_) {
      report_(msg);
    } else {
      LogError(msg);
    }
    return;
  }
  // A new file starts at a line boundary (a file rotated away may end
  // mid-line, the one that takes its place does not, unless it is the same).
  struct stat st;
  if (::fstat(fd_, &st) == 0 && st.st_size == 0) mid_line_.store(false);
}

void QueryLog::SetFailureReport(std::function<void(std::string_view)> report,
                                std::chrono::milliseconds interval) {
  util::MutexLock lock(&mu_);
  report_ = std::move(report);
  report_interval_ = interval;
}

void QueryLog::Start() {
  util::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    util::NameThisThread("meshbl-qlog");
    Run();
  });
}

void QueryLog::Stop() {
  {
    util::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
  DrainOnce();
  util::MutexLock lock(&mu_);
  ReportLocked(true);
}

void QueryLog::RequestReopen() {
  util::MutexLock lock(&mu_);
  reopen_ = true;
  cv_.SignalAll();
}

QueryLogRing* QueryLog::AddRing() {
  util::MutexLock lock(&mu_);
  QueryLogRing* ring = &rings_.emplace_back();
  if (unbuffered_ && fd_ >= 0) ring->SetDirect(fd_, &mid_line_);
  return ring;
}

void QueryLog::WriteLocked(const std::string& buf, std::uint64_t lines) {
  if (buf.empty()) return;
  QueryLogWrite w;
  if (fd_ >= 0) {
    w = WriteQueryLogLines(fd_, buf.data(), buf.size(), &mid_line_);
  } else {
    w.error = EBADF;
  }
  written_ += w.lines;
  if (w.error != 0) {
    last_errno_ = w.error;
    lost_ += lines - w.lines;
  }
}

std::size_t QueryLog::DrainOnce() {
  util::MutexLock lock(&mu_);
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

QueryLogCounters QueryLog::counters() const {
  util::MutexLock lock(&mu_);
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
      util::MutexLock lock(&mu_);
      if (!Woken()) (void)cv_.WaitFor(&mu_, std::chrono::milliseconds(100));
      if (stop_) return;
    }
    DrainOnce();
  }
}

}  // namespace meshbl::server
