// Query counters as rbldnsd reports them (reference/rbldnsd.md §6): the
// `-s [+]file` statistics file and the "stats for Nsecs: ..." log lines.
//
// The workers' counters only grow (each worker owns its own); "reset"
// (SIGUSR2) is a baseline kept here and subtracted. Control plane only; not
// thread-safe (the daemon's control thread owns it).
#ifndef MESHBL_DAEMON_STATS_FILE_H_
#define MESHBL_DAEMON_STATS_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "meshbl/server/respond.h"

namespace meshbl::daemon {

// rbldnsd's counter tuple. tot = every query packet (ok + nxd + err);
// ok = NOERROR replies (NODATA included); nxd = NXDOMAIN; err = the rest
// (REFUSED, SERVFAIL, NOTIMP, FORMERR, dropped packets); in/out = bytes.
struct Counters {
  std::uint64_t tot = 0, ok = 0, nxd = 0, err = 0, in = 0, out = 0;
};

// Maps the responder's counters to rbldnsd's tuple.
Counters CountersFrom(const server::ResponderStats& s);
Counters CountersFrom(const server::ZoneStats& z);

// One zone's counters for a stats line: its name as printed and the tuple.
struct ZoneCounters {
  std::string name;
  Counters c;
};
// a - b, field by field (saturating at 0).
Counters Subtract(const Counters& a, const Counters& b);

class StatsTracker {
 public:
  // `path` empty: no stats file; `relative` is rbldnsd's `+` (each line
  // holds the change since the previous line instead of the totals).
  StatsTracker(std::string path, bool relative, std::int64_t now);

  // Appends a bare "<unixtime>" line (start, reset and stop). Errors name
  // the file; the caller logs them.
  absl::Status WriteTimestamp(std::int64_t now);
  // Appends "<unixtime> zone:tot:ok:nxd:in:out ... *:tot:ok:nxd:in:out"
  // (rbldnsd's format: one field per zone, then the total) for the counters
  // since the last reset (or, relative, since the previous counters line).
  // `zones[i]` must keep its meaning (the same zone) from line to line.
  absl::Status WriteCounters(std::int64_t now, const Counters& total,
                             const std::vector<ZoneCounters>& zones = {});
  // The counter log lines of USR1, USR2 and TERM, as rbldnsd logs them: one
  // per zone, "stats for Nsecs zone Z: tot=.. ok=.. nxd=.. err=.. in=..
  // out=..", then the total, "stats for Nsec: tot=...", counted since the
  // last reset.
  std::vector<std::string> LogLines(std::int64_t now, const Counters& total,
                                    const std::vector<ZoneCounters>& zones = {}) const;
  // Makes `total` (and `zones`) the new zero point (SIGUSR2).
  void Reset(std::int64_t now, const Counters& total, const std::vector<ZoneCounters>& zones = {});

 private:
  absl::Status Append(const std::string& line);

  std::string path_;
  bool relative_;
  Counters base_;                                // at the last reset
  Counters last_written_;                        // at the previous counters line (relative mode)
  std::vector<Counters> zone_base_, zone_last_;  // per zone, as above
  std::int64_t since_;                           // time of the last reset
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_STATS_FILE_H_
