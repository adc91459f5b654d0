// `meshbl bench --startup -- COMMAND...`: the time from starting a server to
// its first answer. Runs COMMAND (which must stay in the foreground, e.g.
// rbldnsd/meshbld -n), sends one query every millisecond and stops the clock
// at the first reply; then reads the server's memory and stops it.
#ifndef MESHBL_BENCH_STARTUP_H_
#define MESHBL_BENCH_STARTUP_H_

#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meshbl::bench {

struct StartupResult {
  double seconds = 0;        // exec to first reply
  std::uint64_t rss_kb = 0;  // VmRSS of the process at the first reply
  std::uint64_t hwm_kb = 0;  // VmHWM (peak RSS) at the first reply
  std::uint64_t probes = 0;  // queries sent before the first reply
};

// Errors: the command cannot start, exits before answering, or gives no
// answer within `timeout` seconds. The server is stopped (SIGTERM, then
// SIGKILL after 5 s) before this returns.
absl::StatusOr<StartupResult> MeasureStartup(const sockaddr_storage& target, socklen_t target_len,
                                             std::span<const std::uint8_t> query,
                                             const std::vector<std::string>& command,
                                             double timeout);

// VmRSS and VmHWM of `pid` in KiB from /proc; false when unreadable.
bool ReadMemory(int pid, std::uint64_t* rss_kb, std::uint64_t* hwm_kb);

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_STARTUP_H_
