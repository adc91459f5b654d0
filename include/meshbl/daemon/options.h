// meshbld's command line: rbldnsd's options (reference/rbldnsd.md §1) plus
// meshbl's long options, described by ONE table (kOptions) that drives the
// getopt parser, the --help text and the man page's OPTIONS section
// (docs/meshbld.8.md, checked by tests/server/options_test.cc).
//
// Control plane only: everything here allocates; not for the query path.
#ifndef MESHBL_DAEMON_OPTIONS_H_
#define MESHBL_DAEMON_OPTIONS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "meshbl/zone/loader.h"

namespace meshbl::daemon {

// Program name used in messages ("meshbld: ...") and the version string
// that `meshbld -h`, the startup log and CH version.bind report.
inline constexpr char kProgramName[] = "meshbld";
inline constexpr char kVersionText[] = "meshbl 0.1.0";

// Identifiers of long-only options (short options use their character).
inline constexpr int kOptThreads = 256;
inline constexpr int kOptTcpIdle = 257;
inline constexpr int kOptTcpMaxConn = 258;
inline constexpr int kOptUdpBackend = 259;
inline constexpr int kOptTcpQueryTimeout = 260;
inline constexpr int kOptTcpMaxConnPerIp = 261;

// One command-line option. `id` is the short option character or one of the
// kOpt* values above for long-only options.
struct OptionSpec {
  int id;
  const char* long_name;  // nullptr: short option only
  const char* arg;        // nullptr: takes no argument; else its name in --help
  const char* help;       // may hold '\n' for continuation lines
  const char* example;    // a valid argument (tests feed it to the parser)
};

// The table, in --help order. Every entry is accepted by the parser.
inline constexpr OptionSpec kOptions[] = {
    {'u', nullptr, "user[:group]", "run as this user:group (rbldns)", "nobody"},
    {'r', nullptr, "rootdir", "chroot to this directory", "/"},
    {'w', nullptr, "workdir", "working directory with zone files", "/"},
    {'b', nullptr, "address[/port]",
     "bind to (listen on) this address (required); UDP and TCP\n"
     "(several -b allowed)",
     "127.0.0.1/5353"},
    {'4', nullptr, nullptr, "use IPv4 socket type", nullptr},
    {'6', nullptr, nullptr, "use IPv6 socket type", nullptr},
    {'t', nullptr, "def:min:max", "default, minimum and maximum TTL (35m::)", "35m:1m:1d"},
    {'v', nullptr, nullptr,
     "hide version information in replies to version.bind CH TXT\n"
     "(second -v makes meshbld refuse such requests completely)",
     nullptr},
    {'e', nullptr, nullptr,
     "enable CIDR ranges where prefix is not on the range boundary\n"
     "(by default ranges such 127.0.0.1/8 will be rejected)",
     nullptr},
    {'c', nullptr, "check",
     "time interval to check for data file updates, expiry and\n"
     "write statistics (1m; 0 disables)",
     "30s"},
    {'p', nullptr, "pidfile", "write pid to specified file", "/dev/null"},
    {'n', nullptr, nullptr, "do not become a daemon (log to stdout/stderr)", nullptr},
    {'f', nullptr, nullptr,
     "accepted for compatibility and ignored: reloads never block\n"
     "queries (data is rebuilt in the background and swapped)",
     nullptr},
    {'q', nullptr, nullptr, "quickstart, load zones after backgrounding", nullptr},
    {'l', nullptr, "[+]logfile",
     "log queries and answers to this file (+ for unbuffered,\n"
     "- for standard output)",
     "-"},
    {'s', nullptr, "[+]statsfile",
     "write a line with short statistics summary into this\n"
     "file every `check' (-c) seconds, for rrdtool-like applications\n"
     "(+ to log relative, not absolute, statistics counters)",
     "/dev/null"},
    {'a', nullptr, nullptr,
     "omit AUTH section from regular replies, do not return list of\n"
     "nameservers, but only return NS info when explicitly asked",
     nullptr},
    {'A', nullptr, nullptr, "put AUTH section in every reply (default)", nullptr},
    {'F', nullptr, "facility", "log facility for syslog (daemon)", "local0"},
    {'C', nullptr, nullptr, "disable on-the-fly decompression of dataset files", nullptr},
    {'x', nullptr, "extension", "load given extension module (not supported)", "ext.so"},
    {'X', nullptr, "extarg", "pass extarg to extension init routine (not supported)", "arg"},
    {'d', nullptr, nullptr, "dump all zones to stdout in BIND format and exit", nullptr},
    {kOptThreads, "threads", "N", "number of worker threads (default: one per CPU)", "2"},
    {kOptTcpIdle, "tcp-idle", "time", "close idle TCP connections after this time (10s)", "10s"},
    {kOptTcpMaxConn, "tcp-max-conn", "N", "maximum open TCP connections (default 1024)", "100"},
    {kOptTcpQueryTimeout, "tcp-query-timeout", "time",
     "close a TCP connection whose query is not complete this long\n"
     "after its first byte (2s)",
     "5s"},
    {kOptTcpMaxConnPerIp, "tcp-max-conn-per-ip", "N",
     "maximum open TCP connections from one client address (IPv6: one\n"
     "/64; default 32, 0 = no limit)",
     "8"},
    {kOptUdpBackend, "udp-backend", "auto|uring|mmsg",
     "UDP I/O: recvmmsg/sendmmsg (default, measured faster), io_uring, or auto (io_uring if the "
     "kernel has it)",
     "mmsg"},
    {'h', "help", nullptr, "print this help and exit", nullptr},
};

// Everything the command line says. Defaults are rbldnsd's.
struct DaemonOptions {
  std::vector<std::string> listen;      // -b, in order
  int family = 0;                       // -4: 4, -6: 6, 0: any
  std::string user;                     // -u user[:group]; empty = default rule
  std::string root_dir;                 // -r
  std::string work_dir;                 // -w
  zone::LoadOptions load;               // -t (default/min/max TTL), -e, -C
  std::uint32_t check_interval = 60;    // -c seconds; 0 = no periodic check
  bool quick = false;                   // -q
  bool foreground = false;              // -n
  std::string pid_file;                 // -p
  std::string query_log;                // -l without the '+'; "-" = stdout
  bool query_log_unbuffered = false;    // -l +file
  std::string stats_file;               // -s without the '+'
  bool stats_relative = false;          // -s +file
  bool lazy = false;                    // -a (last of -a/-A wins)
  int version_mode = 0;                 // number of -v
  bool dump = false;                    // -d
  int syslog_facility = 0;              // -F, as LOG_* value (LOG_DAEMON by default)
  int threads = 0;                      // --threads; 0 = one per CPU
  std::uint32_t tcp_idle_seconds = 10;  // --tcp-idle
  int tcp_max_conn = 1024;              // --tcp-max-conn
  // --udp-backend. recvmmsg/sendmmsg measured faster than io_uring on one
  // core (bench/e2e_compare.sh, docs/PERFORMANCE.md), so it is the default.
  std::string udp_backend = "mmsg";
  // --tcp-query-timeout: a TCP query must be complete this long after its
  // first byte. --tcp-max-conn-per-ip: connections per client address
  // (IPv6: /64); 0 = no limit.
  std::uint32_t tcp_query_timeout_seconds = 2;
  int tcp_max_conn_per_ip = 32;
  std::vector<std::string> zone_specs;  // the operands, in order
};

// What main() should do after parsing.
struct ParseResult {
  bool run = false;         // true: start the daemon with the parsed options
  int exit_code = 0;        // when !run: exit with this code
  std::string stdout_text;  // when !run: print this to stdout first (usage)
  std::string error;        // when !run: fatal message for stderr, without the
                            // "meshbld: " prefix (empty if none)
};

// Parses argv (getopt_long over kOptions; GNU permutation, so options may
// follow zone specs). Messages and exit codes are rbldnsd's: no arguments →
// usage on stdout, exit 1; -h/--help → usage + dataset types, exit 0; an
// invalid option → "invalid option -- 'Z'" + "type `meshbld -h' for help",
// exit 1; invalid values (-t, -c, -F, --threads, ...) → exit 1; -x/-X →
// "extension support is not compiled in", exit 1. Zone specs are not
// validated here (the daemon does, with rbldnsd's messages). Not
// thread-safe (getopt state); call once from main().
ParseResult ParseCommandLine(int argc, char* const argv[], DaemonOptions* out);

// The --help text, generated from kOptions.
std::string UsageText();

// The man page's OPTIONS section (markdown), generated from kOptions.
std::string ManPageOptions();

// Parses an rbldnsd time value: digits with an optional unit s, m, h, d, w
// (case-insensitive; none = seconds). False on junk or 32-bit overflow.
bool ParseTimeValue(std::string_view s, std::uint32_t* out);

// Parses `-t def:min:max` into `o` with rbldnsd's rules and messages: any
// part may be empty (keeps its value); def must not be 0 ("invalid ttl (-t)
// value `...'"); more than three parts → "invalid value for -t (ttl)
// option: `...'"; min > max (max != 0), def < min or def > max (max != 0) →
// "inconsistent def:min:max ttl: D:MIN:MAX". `o` is unchanged on error.
absl::Status ParseTtlSpec(std::string_view spec, zone::LoadOptions* o);

// Maps a syslog facility name (daemon, local0..local7, user, ...) to its
// LOG_* value; false for an unknown name.
bool SyslogFacilityFromName(std::string_view name, int* facility);

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_OPTIONS_H_
