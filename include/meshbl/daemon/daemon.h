// The meshbld process: startup (daemonising, pid file, chroot, privilege
// drop, initial load, its services), the control loop (signals, the -c
// timer, statistics) and shutdown, following reference/rbldnsd.md §1 and
// §6 with the differences of §9.
//
// Startup order: zone specs, user and listen addresses are checked first
// (errors on stderr, exit 1); unless -n the process forks and the parent
// waits on a pipe until the child has loaded its data (exit 0) or failed
// (exit 1), or only until the child detached with -q; the child writes the
// pid file, chroots (-r), chdirs (-w), loads the data with the effective
// ids of the target user, binds its services (service.h: the DNS front end
// binds its sockets) as root, drops privileges for good and starts them
// (the query log opens, the reloader's thread starts). Signals (blocked in
// every thread) are read from a signalfd by the control loop, a
// util::EventLoop on the main thread: HUP reloads every service (reopens
// the query log, checks for changed files), USR1 logs and writes the
// counters, USR2 also resets them, TERM/INT stop the services in reverse
// order, write the final statistics and exit 0; PIPE is ignored.
#ifndef MESHBL_DAEMON_DAEMON_H_
#define MESHBL_DAEMON_DAEMON_H_

#include "meshbl/daemon/options.h"

namespace meshbl::daemon {

// Runs the daemon until SIGTERM/SIGINT; returns the process exit code (0
// after a clean stop, 1 on a fatal startup error, which has been logged).
// Call once, from main(), before any other thread exists.
int RunDaemon(const DaemonOptions& options);

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_DAEMON_H_
