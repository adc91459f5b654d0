// The query log (`-l [+]file`, reference/rbldnsd.md §6): one line per
// answered query,
//   <unixtime> <client-ip> <qname as sent> <QTYPE> <QCLASS>: <RCODE>/<ancount>/<bytes>
//
// Workers never format or write: each worker thread owns a QueryLogRing (a
// single-producer/single-consumer ring of fixed-size records, allocated at
// worker start) and copies the question and the reply's header fields into
// it; the QueryLog's writer thread drains every ring, formats the lines and
// writes the file. A full ring drops the record and counts it; a worker
// never waits.
//
// Worker side (the one call): once at worker start,
//   QueryLogRing* ring = config.query_log ? config.query_log->AddRing() : nullptr;
// then after every reply that is sent,
//   if (ring != nullptr) ring->Record(now, client, query, reply);
#ifndef MESHBL_SERVER_QUERY_LOG_H_
#define MESHBL_SERVER_QUERY_LOG_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "meshbl/table/query.h"

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
// ring. The producer's path is wait-free: relaxed/acquire loads and release
// stores, no read-modify-write, no allocation.
class QueryLogRing {
 public:
  static constexpr std::uint64_t kCapacity = 4096;  // records (power of two)

  QueryLogRing() : slots_(new QueryLogRecord[kCapacity]) {}
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
    if (query.size() < kHeader || reply.size() < kHeader ||
        head - tail_.load(std::memory_order_acquire) >= kCapacity) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    QueryLogRecord& r = slots_[head & (kCapacity - 1)];
    r.time = now;
    r.client = client;
    r.reply_len = static_cast<std::uint16_t>(reply.size() > 0xffff ? 0xffff : reply.size());
    r.rcode = static_cast<std::uint8_t>(reply[3] & 0x0f);
    r.ancount = static_cast<std::uint16_t>((reply[6] << 8) | reply[7]);
    std::size_t n = query.size() - kHeader;
    if (n > QueryLogRecord::kMaxQuestion) n = QueryLogRecord::kMaxQuestion;
    std::memcpy(r.question, query.data() + kHeader, n);
    r.question_len = static_cast<std::uint16_t>(n);
    head_.store(head + 1, std::memory_order_release);
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

 private:
  alignas(64) std::atomic<std::uint64_t> head_{0};  // written by the producer
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // written by the consumer
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
  std::unique_ptr<QueryLogRecord[]> slots_;
};

// Formats one record as a log line (without newline), e.g.
// "1795352825 127.0.0.1 2.0.0.127.x.test A IN: NOERROR/1/78". Control plane.
std::string FormatQueryLogLine(const QueryLogRecord& r);

// The set of rings and the writer thread. Control plane, thread-safe.
class QueryLog {
 public:
  QueryLog() = default;
  QueryLog(const QueryLog&) = delete;
  QueryLog& operator=(const QueryLog&) = delete;
  ~QueryLog();  // Stop()

  // Opens `path` for appending ("-" = stdout); `unbuffered` flushes every
  // line (rbldnsd's `+`). Errors: "path: reason".
  absl::Status Open(std::string path, bool unbuffered);
  // Starts the writer thread, which drains the rings every 100 ms.
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
  // its own; tests and Stop() call it directly). Returns lines written.
  std::size_t DrainOnce();
  std::uint64_t dropped() const;

 private:
  void Run();
  void ReopenLocked();

  std::string path_;
  bool unbuffered_ = false;
  mutable std::mutex mu_;
  std::deque<QueryLogRing> rings_;  // guarded by mu_; stable addresses
  std::FILE* file_ = nullptr;       // guarded by mu_
  bool reopen_ = false;             // guarded by mu_
  bool stop_ = false;               // guarded by mu_
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace meshbl::server

#endif  // MESHBL_SERVER_QUERY_LOG_H_
