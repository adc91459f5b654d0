// meshbld's command line: rbldnsd's options (reference/rbldnsd.md §1) plus
// meshbl's long options, described by ONE typed schema (kOptions, after
// Knot's conf/schema.c: type, range, default, help, config key) that drives
// the getopt parser, range checks, defaults, the --help text and the man
// page's OPTIONS section (docs/meshbld.8.md, checked by
// tests/daemon/options_test.cc).
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

// Everything the command line says. A member's default is its schema
// entry's `default_value` (kOptions below), applied by DefaultOptions(); the
// initializers here are only the zero of "not given".
struct DaemonOptions {
  std::vector<std::string> listen;              // -b, in order
  int family = 0;                               // -4: 4, -6: 6, 0: any
  std::string user;                             // -u user[:group]; empty = default rule
  std::string root_dir;                         // -r
  std::string work_dir;                         // -w
  zone::LoadOptions load;                       // -t (default/min/max TTL), -e, -C
  std::uint32_t check_interval = 0;             // -c seconds; 0 = no periodic check
  bool quick = false;                           // -q
  bool foreground = false;                      // -n
  std::string pid_file;                         // -p
  std::string query_log;                        // -l without the '+'; "-" = stdout
  bool query_log_unbuffered = false;            // -l +file
  std::string stats_file;                       // -s without the '+'
  bool stats_relative = false;                  // -s +file
  bool lazy = false;                            // -a (last of -a/-A wins)
  int version_mode = 0;                         // number of -v
  bool dump = false;                            // -d
  int syslog_facility = 0;                      // -F, as LOG_* value
  int threads = 0;                              // --threads; 0 = one per CPU
  std::uint32_t tcp_idle_seconds = 0;           // --tcp-idle
  int tcp_max_conn = 0;                         // --tcp-max-conn
  std::string udp_backend;                      // --udp-backend
  std::uint32_t tcp_query_timeout_seconds = 0;  // --tcp-query-timeout
  int tcp_max_conn_per_ip = 0;                  // --tcp-max-conn-per-ip; 0 = no limit
  std::string live_config;                      // --live-config; empty = no live lists
  std::string live_store;                       // --live-store
  std::string control_socket;                   // --control-socket
  std::vector<std::string> zone_specs;          // the operands, in order
};

// The value an option takes (Knot's conf/schema.c item types, reduced to
// what meshbld needs).
enum class OptionType : std::uint8_t {
  kFlag,      // no argument: sets `bool_member` (or `int_member`) to `flag_value`
  kCount,     // no argument: each use adds one to `int_member` (-v, -vv)
  kInt,       // a decimal integer in [min, max], into `int_member`
  kDuration,  // a time (ParseTimeValue: s, m, h, d, w) in seconds in [min, max],
              // into `seconds_member`
  kString,    // any text, into `string_member` (last one wins)
  kEnum,      // one of `choices` ("a|b|c"), into `string_member`
  kList,      // repeatable: each use appends to `list_member`
  kCustom,    // rbldnsd's own syntax and messages, handled by `apply`
};

// Long-only options have no short letter: their `id` is kLongOnly.
inline constexpr int kLongOnly = 256;

// One option of the schema. Adding an option = one entry here + one
// DaemonOptions member; parsing, range checks and their messages, the
// default, --help and the man page's OPTIONS table all come from the entry.
struct OptionSpec {
  int id;                  // the short letter (rbldnsd's), or kLongOnly
  const char* long_name;   // nullptr: short option only
  const char* config_key;  // its key in the coming config file (every option has one)
  OptionType type;
  const char* arg;   // the argument's name in --help; nullptr for kFlag/kCount;
                     // kEnum: nullptr (the choices are shown)
  const char* help;  // may hold '\n' for continuation lines
  // kInt: the accepted range; kDuration: in seconds.
  std::int64_t min = 0;
  std::int64_t max = 0;
  // Parsed like a command-line value into DefaultOptions(); nullptr: the
  // member's zero (or, for kCustom, what `apply` leaves).
  const char* default_value = nullptr;
  const char* choices = nullptr;  // kEnum: "auto|uring|mmsg"
  int flag_value = 1;             // kFlag
  bool DaemonOptions::*bool_member = nullptr;
  int DaemonOptions::*int_member = nullptr;
  std::uint32_t DaemonOptions::*seconds_member = nullptr;
  std::string DaemonOptions::*string_member = nullptr;
  std::vector<std::string> DaemonOptions::*list_member = nullptr;
  // kCustom (and kFlag options that write inside a member): applies the
  // argument ("" for flags); an error's message is printed as is.
  absl::Status (*apply)(std::string_view arg, DaemonOptions* o) = nullptr;
  // kInt/kDuration of rbldnsd's: its message for a bad value ("invalid check
  // interval (-c) value" + " `arg'") instead of the generic ones.
  const char* rbldnsd_error = nullptr;
  // true: `help` is rbldnsd's text, shown verbatim (it quotes the default
  // itself); false: --help appends "(range, default X)" from the schema.
  bool rbldnsd_help = false;
  const char* example = nullptr;  // a valid argument (tests feed it to the parser)
};

namespace options_internal {
absl::Status ApplyTtl(std::string_view arg, DaemonOptions* o);
absl::Status ApplyFacility(std::string_view arg, DaemonOptions* o);
absl::Status ApplyQueryLog(std::string_view arg, DaemonOptions* o);
absl::Status ApplyStatsFile(std::string_view arg, DaemonOptions* o);
absl::Status ApplyExtension(std::string_view arg, DaemonOptions* o);
absl::Status ApplyHostBits(std::string_view arg, DaemonOptions* o);
absl::Status ApplyNoGzip(std::string_view arg, DaemonOptions* o);
}  // namespace options_internal

// The schema, in --help order. Every entry is accepted by the parser.
inline constexpr OptionSpec kOptions[] = {
    {.id = 'u',
     .long_name = nullptr,
     .config_key = "user",
     .type = OptionType::kString,
     .arg = "user[:group]",
     .help = "run as this user:group (rbldns)",
     .string_member = &DaemonOptions::user,
     .rbldnsd_help = true,
     .example = "nobody"},
    {.id = 'r',
     .long_name = nullptr,
     .config_key = "rootdir",
     .type = OptionType::kString,
     .arg = "rootdir",
     .help = "chroot to this directory",
     .string_member = &DaemonOptions::root_dir,
     .rbldnsd_help = true,
     .example = "/"},
    {.id = 'w',
     .long_name = nullptr,
     .config_key = "workdir",
     .type = OptionType::kString,
     .arg = "workdir",
     .help = "working directory with zone files",
     .string_member = &DaemonOptions::work_dir,
     .rbldnsd_help = true,
     .example = "/"},
    {.id = 'b',
     .long_name = nullptr,
     .config_key = "listen",
     .type = OptionType::kList,
     .arg = "address[/port]",
     .help = "bind to (listen on) this address (required); UDP and TCP\n"
             "(several -b allowed)",
     .list_member = &DaemonOptions::listen,
     .rbldnsd_help = true,
     .example = "127.0.0.1/5353"},
    {.id = '4',
     .long_name = nullptr,
     .config_key = "ipv4-only",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "use IPv4 socket type",
     .flag_value = 4,
     .int_member = &DaemonOptions::family,
     .rbldnsd_help = true},
    {.id = '6',
     .long_name = nullptr,
     .config_key = "ipv6-only",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "use IPv6 socket type",
     .flag_value = 6,
     .int_member = &DaemonOptions::family,
     .rbldnsd_help = true},
    {.id = 't',
     .long_name = nullptr,
     .config_key = "ttl",
     .type = OptionType::kCustom,
     .arg = "def:min:max",
     .help = "default, minimum and maximum TTL (35m::)",
     .default_value = "35m::",
     .apply = &options_internal::ApplyTtl,
     .rbldnsd_help = true,
     .example = "35m:1m:1d"},
    {.id = 'v',
     .long_name = nullptr,
     .config_key = "hide-version",
     .type = OptionType::kCount,
     .arg = nullptr,
     .help = "hide version information in replies to version.bind CH TXT\n"
             "(second -v makes meshbld refuse such requests completely)",
     .int_member = &DaemonOptions::version_mode,
     .rbldnsd_help = true},
    {.id = 'e',
     .long_name = nullptr,
     .config_key = "accept-host-bits",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "enable CIDR ranges where prefix is not on the range boundary\n"
             "(by default ranges such 127.0.0.1/8 will be rejected)",
     .apply = &options_internal::ApplyHostBits,
     .rbldnsd_help = true},
    {.id = 'c',
     .long_name = nullptr,
     .config_key = "check-interval",
     .type = OptionType::kDuration,
     .arg = "check",
     .help = "time interval to check for data file updates, expiry and\n"
             "write statistics (1m; 0 disables)",
     .min = 0,
     .max = 0xffffffff,
     .default_value = "1m",
     .seconds_member = &DaemonOptions::check_interval,
     .rbldnsd_error = "invalid check interval (-c) value",
     .rbldnsd_help = true,
     .example = "30s"},
    {.id = 'p',
     .long_name = nullptr,
     .config_key = "pidfile",
     .type = OptionType::kString,
     .arg = "pidfile",
     .help = "write pid to specified file",
     .string_member = &DaemonOptions::pid_file,
     .rbldnsd_help = true,
     .example = "/dev/null"},
    {.id = 'n',
     .long_name = nullptr,
     .config_key = "foreground",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "do not become a daemon (log to stdout/stderr)",
     .bool_member = &DaemonOptions::foreground,
     .rbldnsd_help = true},
    {.id = 'f',
     .long_name = nullptr,
     .config_key = "fork-on-reload",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "accepted for compatibility and ignored: reloads never block\n"
             "queries (data is rebuilt in the background and swapped)",
     .rbldnsd_help = true},
    {.id = 'q',
     .long_name = nullptr,
     .config_key = "quickstart",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "quickstart, load zones after backgrounding",
     .bool_member = &DaemonOptions::quick,
     .rbldnsd_help = true},
    {.id = 'l',
     .long_name = nullptr,
     .config_key = "query-log",
     .type = OptionType::kCustom,
     .arg = "[+]logfile",
     .help = "log queries and answers to this file (+ for unbuffered,\n"
             "- for standard output)",
     .apply = &options_internal::ApplyQueryLog,
     .rbldnsd_help = true,
     .example = "-"},
    {.id = 's',
     .long_name = nullptr,
     .config_key = "stats-file",
     .type = OptionType::kCustom,
     .arg = "[+]statsfile",
     .help = "write a line with short statistics summary into this\n"
             "file every `check' (-c) seconds, for rrdtool-like applications\n"
             "(+ to log relative, not absolute, statistics counters)",
     .apply = &options_internal::ApplyStatsFile,
     .rbldnsd_help = true,
     .example = "/dev/null"},
    {.id = 'a',
     .long_name = nullptr,
     .config_key = "lazy",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "omit AUTH section from regular replies, do not return list of\n"
             "nameservers, but only return NS info when explicitly asked",
     .bool_member = &DaemonOptions::lazy,
     .rbldnsd_help = true},
    {.id = 'A',
     .long_name = nullptr,
     .config_key = "auth-always",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "put AUTH section in every reply (default)",
     .flag_value = 0,
     .bool_member = &DaemonOptions::lazy,
     .rbldnsd_help = true},
    {.id = 'F',
     .long_name = nullptr,
     .config_key = "log-facility",
     .type = OptionType::kCustom,
     .arg = "facility",
     .help = "log facility for syslog (daemon)",
     .default_value = "daemon",
     .apply = &options_internal::ApplyFacility,
     .rbldnsd_help = true,
     .example = "local0"},
    {.id = 'C',
     .long_name = nullptr,
     .config_key = "no-decompress",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "disable on-the-fly decompression of dataset files",
     .apply = &options_internal::ApplyNoGzip,
     .rbldnsd_help = true},
    {.id = 'x',
     .long_name = nullptr,
     .config_key = "extension",
     .type = OptionType::kCustom,
     .arg = "extension",
     .help = "load given extension module (not supported)",
     .apply = &options_internal::ApplyExtension,
     .rbldnsd_help = true,
     .example = "ext.so"},
    {.id = 'X',
     .long_name = nullptr,
     .config_key = "extension-arg",
     .type = OptionType::kCustom,
     .arg = "extarg",
     .help = "pass extarg to extension init routine (not supported)",
     .apply = &options_internal::ApplyExtension,
     .rbldnsd_help = true,
     .example = "arg"},
    {.id = 'd',
     .long_name = nullptr,
     .config_key = "dump",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "dump all zones to stdout in BIND format and exit",
     .bool_member = &DaemonOptions::dump,
     .rbldnsd_help = true},
    {.id = kLongOnly,
     .long_name = "threads",
     .config_key = "threads",
     .type = OptionType::kInt,
     .arg = "N",
     .help = "number of UDP worker threads, one per CPU if not given",
     .min = 1,
     .max = 1024,
     .int_member = &DaemonOptions::threads,
     .example = "2"},
    {.id = kLongOnly,
     .long_name = "tcp-idle",
     .config_key = "tcp-idle",
     .type = OptionType::kDuration,
     .arg = "time",
     .help = "close TCP connections idle for this time",
     .min = 1,
     .max = 86400,
     .default_value = "10s",
     .seconds_member = &DaemonOptions::tcp_idle_seconds,
     .example = "10s"},
    {.id = kLongOnly,
     .long_name = "tcp-max-conn",
     .config_key = "tcp-max-conn",
     .type = OptionType::kInt,
     .arg = "N",
     .help = "maximum open TCP connections",
     .min = 1,
     .max = 65535,
     .default_value = "1000",
     .int_member = &DaemonOptions::tcp_max_conn,
     .example = "100"},
    {.id = kLongOnly,
     .long_name = "tcp-query-timeout",
     .config_key = "tcp-query-timeout",
     .type = OptionType::kDuration,
     .arg = "time",
     .help = "close a TCP connection whose query is not complete this long\n"
             "after its first byte",
     .min = 1,
     .max = 86400,
     .default_value = "2s",
     .seconds_member = &DaemonOptions::tcp_query_timeout_seconds,
     .example = "5s"},
    {.id = kLongOnly,
     .long_name = "tcp-max-conn-per-ip",
     .config_key = "tcp-max-conn-per-ip",
     .type = OptionType::kInt,
     .arg = "N",
     .help = "maximum open TCP connections from one client address or IPv6\n"
             "/64, 0 = no limit",
     .min = 0,
     .max = 65535,
     .default_value = "32",
     .int_member = &DaemonOptions::tcp_max_conn_per_ip,
     .example = "8"},
    {.id = kLongOnly,
     .long_name = "udp-backend",
     .config_key = "udp-backend",
     .type = OptionType::kEnum,
     .arg = nullptr,
     .help = "UDP I/O: mmsg = recvmmsg/sendmmsg (measured faster), uring =\n"
             "io_uring, auto = io_uring if the kernel has it",
     .default_value = "mmsg",
     .choices = "auto|uring|mmsg",
     .string_member = &DaemonOptions::udp_backend,
     .example = "mmsg"},
    {.id = kLongOnly,
     .long_name = "live-config",
     .config_key = "live-config",
     .type = OptionType::kString,
     .arg = "FILE",
     .help = "live lists, listing rules and the trap listener (TOML, see\n"
             "LIVE LISTS CONFIGURATION); serve a list as ZONE:live:LIST",
     .string_member = &DaemonOptions::live_config,
     .example = "/etc/meshbl/live.toml"},
    {.id = kLongOnly,
     .long_name = "live-store",
     .config_key = "live-store",
     .type = OptionType::kString,
     .arg = "PATH",
     .help = "the live lists' crash-safe store (LMDB file; PATH-lock beside it)",
     .default_value = "live.mdb",
     .string_member = &DaemonOptions::live_store,
     .example = "/var/lib/meshbl/live.mdb"},
    {.id = kLongOnly,
     .long_name = "control-socket",
     .config_key = "control-socket",
     .type = OptionType::kString,
     .arg = "PATH",
     .help = "unix socket of meshbl ctl, with --live-config; its file mode\n"
             "(0660) and group are the access control",
     .default_value = "/run/meshbl/meshbld.ctl",
     .string_member = &DaemonOptions::control_socket,
     .example = "/run/meshbl/meshbld.ctl"},
    {.id = 'h',
     .long_name = "help",
     .config_key = "help",
     .type = OptionType::kFlag,
     .arg = nullptr,
     .help = "print this help and exit",
     .rbldnsd_help = true},
};

// A DaemonOptions holding every schema default (the parser's starting point).
DaemonOptions DefaultOptions();

// "-b" or "--threads": the option as the parser and its messages spell it.
std::string OptionSpelling(const OptionSpec& o);

// The argument as --help shows it: `arg`, or the choices for kEnum ("auto|uring|mmsg").
std::string OptionArgName(const OptionSpec& o);

// "1s", "5m", "2h", "1d", "1w": seconds in the largest unit that divides them.
std::string FormatSeconds(std::int64_t seconds);

// What the schema appends to a meshbl option's help: "(1..65535, default
// 1000)", "(1s..1d, default 10s)", "(default mmsg)"; empty for rbldnsd's
// options (their help quotes the default itself) and options with neither.
std::string OptionFacts(const OptionSpec& o);

// What main() should do after parsing.
struct ParseResult {
  bool run = false;         // true: start the daemon with the parsed options
  int exit_code = 0;        // when !run: exit with this code
  std::string stdout_text;  // when !run: print this to stdout first (usage)
  std::string error;        // when !run: fatal message for stderr, without the
                            // "meshbld: " prefix (empty if none)
};

// Parses argv (getopt_long over kOptions, starting from DefaultOptions(); GNU permutation, so
// options may follow zone specs). Messages and exit codes are rbldnsd's: no arguments → usage on
// stdout, exit 1; -h/--help → usage + dataset types, exit 0; an invalid option → "invalid option --
// 'Z'" + "type `meshbld -h' for help", exit 1; invalid values → exit 1 with rbldnsd's message for
// its options
// (-t, -c, -F) and the schema's for meshbl's ("--tcp-max-conn: 0 is out of
// range 1..65535", "--udp-backend: `x' is not one of auto, uring, mmsg"); -x/-X →
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
