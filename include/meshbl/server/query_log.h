// The query log (`-l [+]file`, reference/rbldnsd.md §6): one line per
// answered query,
//   <unixtime> <client-ip> <qname as sent> <QTYPE> <QCLASS>: <RCODE>/<ancount>/<bytes>
//
// Each worker thread (UDP workers, the TCP thread) owns a QueryLogRing,
// allocated at worker start. Two modes:
//  * buffered (`-l file`): the worker copies the question and the reply's
//    header fields into the ring (single producer/single consumer, fixed-size
//    records); the QueryLog's writer thread drains every ring every 100 ms,
//    formats the lines and writes them. A full ring drops the record and
//    counts it; a worker never waits.
//  * unbuffered (`-l +file`): the worker formats each line into the ring's
//    own line buffer (no allocation) and writes the buffer with one write(2)
//    per send call (each sendmmsg, each io_uring submit, each TCP reply),
//    before those replies are sent (Flush()). So when a client has its
//    reply the line is in the file, and each worker's lines are in its
//    reply order. The file is opened O_APPEND: on a regular file every
//    write lands whole at the end, so lines of several workers interleave
//    write by write, never within a line; on a pipe or terminal only writes
//    up to PIPE_BUF bytes are atomic.
// The worker side (formatting, unbuffered writes) is per-packet code and
// lives in src/server/query_log_ring.cc (a hot-path source); the writer
// thread and the control plane in src/server/query_log.cc.
// Write failures (ENOSPC, EFBIG, EIO, ...) lose the lines of that write;
// they are counted (QueryLog::counters()) and reported by the writer thread
// in one log line, at once for the first failure and then at most once per
// interval (a minute) with the number of lines lost since the last report.
// A write that stops inside a line (a short write, then an error) leaves
// the file mid-line; the QueryLog remembers that (one flag shared by all
// writers) and the next write, from any worker or the writer thread, starts
// with a newline, so a later line is never glued onto the fragment.
//
// Worker side: once at worker start,
//   QueryLogRing* ring = config.query_log ? config.query_log->AddRing() : nullptr;
// then after every reply that is built,
//   if (ring != nullptr) ring->Record(now, client, query, reply);
// and before the replies built since the last call are sent,
//   if (ring != nullptr) ring->Flush();
#ifndef MESHBL_SERVER_QUERY_LOG_H_
#define MESHBL_SERVER_QUERY_LOG_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "meshbl/table/query.h"
#include "meshbl/util/mutex.h"

namespace meshbl::server {

// One logged query. Plain data, fixed size (no pointers into packets).
struct QueryLogRecord {
  // The question as sent: name (up to 255 bytes) + QTYPE + QCLASS.
  static constexpr std::size_t kMaxQuestion = 259;

  std::int64_t time = 0;  // unix seconds
  table::ClientAddr client;
  std::uint16_t reply_len = 0;
  std::uint16_t ancount = 0;
  std::uint8_t rcode = 0;
  std::uint16_t question_len = 0;  // bytes valid in `question`
  std::uint8_t question[kMaxQuestion];
};

// Single-producer (one worker thread) / single-consumer (the log writer)
// ring, or in unbuffered mode the worker's own line buffer. The producer's
// path is wait-free: relaxed/acquire loads and release stores, no
// read-modify-write, no allocation; in unbuffered mode Flush() makes one
// write(2) call (more only after a partial write or when the lines since
// the last Flush() exceed the buffer).
class QueryLogRing {
 public:
  static constexpr std::uint64_t kCapacity = 4096;  // records (power of two)
  // Unbuffered mode: bytes of formatted lines held before a write.
  static constexpr std::size_t kDirectBuffer = 128 * 1024;
  // The longest formatted line (a 255-byte name of \ddd escapes, an IPv6
  // client), newline included.
  static constexpr std::size_t kMaxLine = 1280;

  QueryLogRing() : slots_(new QueryLogRecord[kCapacity]), direct_buf_(new char[kDirectBuffer]) {}
  QueryLogRing(const QueryLogRing&) = delete;
  QueryLogRing& operator=(const QueryLogRing&) = delete;

  // Producer. Records a reply `reply` (DNS message, header first) to
  // `query` from `client` at unix time `now`. Dropped (and counted) when the
  // ring is full or the packets are shorter than a header.
  // noexcept, allocation-free, lock-free; callable from workers.
  void Record(std::int64_t now, const table::ClientAddr& client,
              std::span<const std::uint8_t> query, std::span<const std::uint8_t> reply) noexcept {
    constexpr std::size_t kHeader = 12;
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    const int direct_fd = direct_fd_.load(std::memory_order_acquire);
    if (query.size() < kHeader || reply.size() < kHeader ||
        (direct_fd < 0 && head - tail_.load(std::memory_order_acquire) >= kCapacity)) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    QueryLogRecord local;
    QueryLogRecord& r = direct_fd >= 0 ? local : slots_[head & (kCapacity - 1)];
    r.time = now;
    r.client = client;
    r.reply_len = static_cast<std::uint16_t>(reply.size() > 0xffff ? 0xffff : reply.size());
    r.rcode = static_cast<std::uint8_t>(reply[3] & 0x0f);
    r.ancount = static_cast<std::uint16_t>((reply[6] << 8) | reply[7]);
    std::size_t n = query.size() - kHeader;
    if (n > QueryLogRecord::kMaxQuestion) n = QueryLogRecord::kMaxQuestion;
    std::memcpy(r.question, query.data() + kHeader, n);
    r.question_len = static_cast<std::uint16_t>(n);
    if (direct_fd >= 0) {
      AppendDirect(r, direct_fd);
      return;
    }
    head_.store(head + 1, std::memory_order_release);
  }

  // Producer. Unbuffered mode: writes the lines recorded since the last
  // call (one write(2)); call before sending the replies they describe. A
  // no-op in buffered mode or when nothing is pending. noexcept,
  // allocation-free; callable from workers.
  void Flush() noexcept {
    if (direct_len_ != 0) FlushDirect(direct_fd_.load(std::memory_order_relaxed));
  }

  // Control plane: switches the producer to unbuffered mode, writing to
  // `fd` (owned by the QueryLog, which keeps the number valid: reopening
  // dup3()s over it). `mid_line`: the flag "the file ends inside a line"
  // shared by every writer of `fd` (null: the ring's own). Call before the
  // producer starts. Records already in the ring are still drained.
  void SetDirect(int fd, std::atomic<bool>* mid_line = nullptr) noexcept {
    if (mid_line != nullptr) mid_line_ = mid_line;
    direct_fd_.store(fd, std::memory_order_release);
  }

  // Consumer. Copies the oldest record into `out`; false when empty.
  bool Pop(QueryLogRecord* out) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return false;
    *out = slots_[tail & (kCapacity - 1)];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Records dropped because the ring was full. Any thread.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  // Unbuffered mode: lines written, lines lost to failed writes, and the
  // errno of the last failure (0: none). Any thread.
  std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  std::uint64_t lost() const noexcept { return lost_.load(std::memory_order_relaxed); }
  int last_errno() const noexcept { return last_errno_.load(std::memory_order_relaxed); }

 private:
  void AppendDirect(const QueryLogRecord& r, int fd) noexcept;
  void FlushDirect(int fd) noexcept;
  static void Bump(std::atomic<std::uint64_t>* c, std::uint64_t n) noexcept {
    c->store(c->load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  alignas(64) std::atomic<std::uint64_t> head_{0};  // written by the producer
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // written by the consumer
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> written_{0};  // the producer's, in unbuffered mode
  std::atomic<std::uint64_t> lost_{0};
  std::atomic<int> last_errno_{0};
  std::unique_ptr<QueryLogRecord[]> slots_;
  std::atomic<int> direct_fd_{-1};  // >= 0: unbuffered mode
  std::unique_ptr<char[]> direct_buf_;
  std::atomic<bool> own_mid_line_{false};
  std::atomic<bool>* mid_line_ = &own_mid_line_;
  std::size_t direct_len_ = 0;      // producer only
  std::uint64_t direct_lines_ = 0;  // lines in direct_buf_
};

// Formats one record as a log line (without newline), e.g.
// "1795352825 127.0.0.1 2.0.0.127.x.test A IN: NOERROR/1/78". Control plane.
std::string FormatQueryLogLine(const QueryLogRecord& r);
// The same into `out` (at least QueryLogRing::kMaxLine bytes), newline
// included; returns the length. noexcept, allocation-free.
std::size_t FormatQueryLogLine(const QueryLogRecord& r, char* out) noexcept;

// What WriteQueryLogLines did.
struct QueryLogWrite {
  std::uint64_t lines = 0;  // whole lines written
  int error = 0;            // errno of the failure that stopped it; 0: all written
};
// Writes the lines `data` (each ending in a newline) to `fd`, retrying
// partial writes and EINTR. If `*mid_line` (the file ends inside a line)
// the first write starts with a newline; a write that stops inside a line
// sets it. noexcept, allocation-free; callable from workers.
QueryLogWrite WriteQueryLogLines(int fd, const char* data, std::size_t len,
                                 std::atomic<bool>* mid_line) noexcept;

// What the query log has done so far (totals since Open).
struct QueryLogCounters {
  std::uint64_t written = 0;  // lines written
  std::uint64_t lost = 0;     // lines lost to failed writes
  std::uint64_t dropped = 0;  // records dropped on a full ring (buffered mode)
};

// The set of rings and the writer thread. Control plane, thread-safe.
class QueryLog {
 public:
  QueryLog() = default;
  QueryLog(const QueryLog&) = delete;
  QueryLog& operator=(const QueryLog&) = delete;
  ~QueryLog();  // Stop()

  // Opens `path` for appending ("-" = stdout); `unbuffered`: workers write
  // their lines before their replies go out (rbldnsd's `+`). Call before
  // AddRing(). Errors: "path: reason".
  absl::Status Open(std::string path, bool unbuffered);
  // Starts the writer thread, which drains the rings every 100 ms and
  // reports write failures.
  void Start();
  // Drains what is left, writes it and joins the writer. Idempotent.
  void Stop();
  // Closes and reopens the file at the writer's next pass (SIGHUP, for log
  // rotation).
  void RequestReopen();

  // A new ring for one producer thread; the pointer stays valid for the
  // life of this QueryLog. Called once per worker at its start (allocates).
  QueryLogRing* AddRing();

  // Drains every ring into the file now (the writer thread does this on
  // its own; tests and Stop() call it directly), then reports new write
  // failures if the interval allows. Returns lines written.
  std::size_t DrainOnce();
  QueryLogCounters counters() const;
  // The counters as the line USR1/USR2/TERM log:
  // "query log: written=N lost=N dropped=N".
  std::string StatsLine() const;

  // Write failures are reported through `report` (default: LogError) at
  // most once per `interval` (default one minute; the first at once).
  void SetFailureReport(std::function<void(std::string_view)> report,
                        std::chrono::milliseconds interval);

 private:
  void Run();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || reopen_; }
  void ReopenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteLocked(const std::string& buf, std::uint64_t lines) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportLocked(bool final) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  bool unbuffered_ = false;
  mutable util::Mutex mu_;
  util::CondVar cv_;                                     // signalled on stop_ and reopen_
  std::deque<QueryLogRing> rings_ ABSL_GUARDED_BY(mu_);  // stable addresses
  // Its number never changes once open (a reopen dup3()s over it).
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  bool own_fd_ ABSL_GUARDED_BY(mu_) = false;  // false for stdout
  bool reopen_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Buffered mode's own counters (the writer thread's writes).
  std::uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t lost_ ABSL_GUARDED_BY(mu_) = 0;
  int last_errno_ ABSL_GUARDED_BY(mu_) = 0;
  // The file ends inside a line (after a write that stopped there); shared
  // by the rings (unbuffered mode) and the writer thread.
  std::atomic<bool> mid_line_{false};
  // Failure reports.
  std::function<void(std::string_view)> report_ ABSL_GUARDED_BY(mu_);
  std::chrono::milliseconds report_interval_ ABSL_GUARDED_BY(mu_){60'000};
  std::chrono::steady_clock::time_point last_report_ ABSL_GUARDED_BY(mu_){};
  bool reported_once_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t reported_lost_ ABSL_GUARDED_BY(mu_) = 0;  // lost lines already reported
  std::thread thread_;
};

}  // namespace meshbl::server

#endif  // MESHBL_SERVER_QUERY_LOG_H_
