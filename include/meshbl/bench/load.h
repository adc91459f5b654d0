// The load generator: sends a QuerySet to one server over UDP (sendmmsg/
// recvmmsg batches, optionally UDP GSO segment trains) or TCP (pipelined
// over N connections), closed loop (a window of queries outstanding) or open
// loop (a fixed send rate), for a duration or an exact query count, after a
// warm-up that is not counted.
//
// Every query gets a 16-bit ID from a sequence number and a send timestamp;
// every reply is matched by ID and validated (validate.h). Counts always
// add up: sent == replies + lost, where a query is lost when no reply came
// within the timeout (a reply after that is also counted as late). Replies
// whose ID matches nothing outstanding are counted as unexpected.
//
// The generator also measures itself, so a reader knows which side
// saturated: the share of time it sat idle waiting for the server, and how
// full its receive batches were.
#ifndef MESHBL_BENCH_LOAD_H_
#define MESHBL_BENCH_LOAD_H_

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "meshbl/bench/histogram.h"
#include "meshbl/bench/query_set.h"

namespace meshbl::bench {

enum class Transport : std::uint8_t { kUdp, kTcp };

struct LoadOptions {
  sockaddr_storage target{};
  socklen_t target_len = 0;
  Transport transport = Transport::kUdp;
  // Closed loop: queries outstanding (1..60000). 64 fits the 64 KiB receive
  // buffer rbldnsd (and meshbld) ask for; more overflows it on loopback.
  std::uint32_t window = 64;
  double rate = 0;          // > 0: open loop at this many queries per second
  double seconds = 10;      // measured duration (ignored when count > 0)
  std::uint64_t count = 0;  // > 0: send exactly this many measured queries
  double warmup = 1;        // seconds sent first and not counted
  double timeout = 1;       // seconds after which an unanswered query is lost
  int connections = 8;      // TCP
  // UDP: send runs of equal-size queries as one GSO segment train. Off by
  // default: on loopback it moved checksum work onto the server measured
  // (reflector 293k q/s with GSO vs 335k without, docs/PERFORMANCE.md).
  bool gso = false;
  int batch = 64;  // UDP: queries per send call / messages per receive call
  // Called about once a second during the measured phase with the running
  // totals (report fields so far); may be empty.
  std::function<void(const struct LoadReport&, double elapsed)> progress;
  // Set from a signal handler to end the run early (the report still adds up).
  const std::atomic<bool>* stop = nullptr;
};

struct LoadReport {
  Transport transport = Transport::kUdp;
  bool open_loop = false;
  bool gso = false;  // GSO was used
  double offered_rate = 0;
  std::uint32_t window = 0;
  double seconds = 0;  // measured phase: first to last measured send

  std::uint64_t sent = 0;        // measured queries sent
  std::uint64_t replies = 0;     // matched replies to measured queries (valid or not)
  std::uint64_t lost = 0;        // measured queries without a reply within the timeout
  std::uint64_t late = 0;        // replies that came after their query was counted lost
  std::uint64_t unexpected = 0;  // replies whose ID matched no outstanding query
  std::uint64_t malformed = 0;   // header too short, QR clear, opcode changed
  std::uint64_t wrong_question = 0;
  std::uint64_t wrong_rcode = 0;
  std::uint64_t truncated = 0;  // TC=1 (UDP)
  std::array<std::uint64_t, 16> rcodes{};
  std::uint64_t send_errors = 0;  // failed send calls (e.g. ECONNREFUSED: nothing listening)
  std::uint64_t tcp_reconnects = 0;

  Histogram latency;             // send to reply, ns, valid or not
  std::uint64_t max_gap_ns = 0;  // longest time without any reply while sending

  // The generator's own load during the measured phase.
  double idle_fraction = 0;    // time blocked waiting for the server / wall time
  double recv_batch_fill = 0;  // messages per receive call / batch size
  double sends_per_call = 0;   // queries per send system call
  std::uint64_t send_calls = 0, recv_calls = 0;

  std::uint64_t invalid() const noexcept { return malformed + wrong_question + wrong_rcode; }
  double reply_rate() const noexcept {
    return seconds > 0 ? static_cast<double>(replies) / seconds : 0;
  }
  // "server" when the generator waited for replies a meaningful share of the
  // time (the figure measures the server); "generator" when it never did (the
  // figure is a lower bound); open loop: "rate" when the offered rate was met.
  std::string Saturated() const;
};

// Runs one load. Errors: bad options, socket setup, connect (TCP).
absl::StatusOr<LoadReport> RunLoad(const QuerySet& queries, const LoadOptions& options);

// "127.0.0.1:53", "[::1]:5300", "::1" -> address; port defaults to 53.
bool ParseHostPort(const std::string& text, sockaddr_storage* out, socklen_t* len);

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_LOAD_H_
