// The live-list configuration file (TOML): one file describes every live
// list (its listing rules) and the trap listener. docs/meshbld.8.md, "LIVE
// LISTS CONFIGURATION", is the reference; examples/live.toml the example.
//
//   [list.traps]               # served as ZONE:live:traps
//   threshold = 3.0
//   window = "1h"
//   listing = ["1h", "24h", "7d"]
//   ...
//   [traps]
//   file = "examples/traps.txt"
//
// Every key has a default except traps.file; every value is range-checked;
// unknown keys are errors. Errors name the file, the line and the key:
//   live.toml:7: list.traps.window: '1x' is not a duration (e.g. 90s, 15m, 1h, 7d)
// Pure logic apart from reading the file.
#ifndef MESHBL_FEED_CONFIG_H_
#define MESHBL_FEED_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshbl/feed/entry.h"

namespace meshbl::feed {

// The ranges a list's never_list may name (bits of ListRules::never_list).
enum NeverListRange : std::uint32_t {
  kNeverPrivate = 1,    // 10/8 172.16/12 192.168/16 fc00::/7
  kNeverLoopback = 2,   // 127/8 ::1
  kNeverLinkLocal = 4,  // 169.254/16 fe80::/10
  kNeverAll = 7,
};

// One live list's listing rules ([list.NAME]). Durations are seconds.
struct ListRules {
  std::string name;  // [a-z0-9_-], 1..63 bytes: served as ZONE:live:NAME

  double threshold = 3.0;      // listed when the weighted score reaches this (0 < t <= 1e6)
  std::int64_t window = 3600;  // the score counts hits younger than this (1s..30d)
  // Listing duration after the last hit, for the 1st, 2nd, ... offense; the
  // last one repeats (1..16 entries, each 1s..3650d, never decreasing).
  std::vector<std::int64_t> listing = {3600, 86400, 7 * 86400};
  // The offense count is forgotten this long after the last listing ended
  // (0..3650d).
  std::int64_t offense_memory = 30 * 86400;

  std::uint8_t code = 2;  // A 127.0.0.<code> (2..255: never 127.0.0.1, RFC 5782 §5)
  std::int64_t ttl = 60;  // TTL of the list's answers (0s..1d)
  std::string reason = "Listed by meshbl: $ hit spamtraps";  // TXT, <= 255 bytes

  // Never listed; their hits are only counted. IP networks match the client
  // address; names match the caller-verified host name (forward-confirmed
  // reverse DNS), never the HELO name (see rules.h).
  std::vector<Subject> whitelist;
  std::uint32_t never_list = kNeverAll;  // NeverListRange bits; 0 = "none"
  std::vector<Subject> own_mx;           // IP networks: the operator's MX hosts

  // Trap reputation: a trap's weight starts at 1; each operator whitelist or
  // delist of a source it helped list multiplies it by trap_penalty, never
  // below trap_weight_min; it climbs back linearly, by 1 per trap_recovery
  // (0 = never recovers).
  double trap_weight_min = 0.1;             // 0..1
  double trap_penalty = 0.5;                // 0..1 (1: no penalty)
  std::int64_t trap_recovery = 30 * 86400;  // 0 (never) or 1s..3650d

  // The listed unit: a client address masked to this prefix.
  std::uint8_t ipv4_prefix = 32;  // 8..32
  std::uint8_t ipv6_prefix = 64;  // 16..128

  // Memory bounds: sources tracked (least recently active evicted first,
  // counted) and hits kept per source (the oldest dropped first).
  std::uint64_t max_sources = 1000000;  // 1..100000000
  std::uint32_t max_hits = 256;         // 1..65536
};

// The trap listener ([traps]): Postfix policy delegation.
struct TrapsConfig {
  std::string file;                        // trap addresses, one a line (required)
  std::string action = "DISCARD";          // the answer for a trap recipient; others DUNNO
  std::string listen = "127.0.0.1:10040";  // ADDRESS:PORT, IPv6 as [ADDRESS]:PORT
  std::vector<std::string> lists;          // lists the hits feed; empty = every list
};

struct LiveConfig {
  std::string path;              // the file read
  std::vector<ListRules> lists;  // in file order, names unique
  std::optional<TrapsConfig> traps;

  const ListRules* Find(std::string_view name) const;
};

// Reads and checks `path`. Errors: "PATH: cannot read: REASON",
// "PATH:LINE: KEY: what is wrong".
absl::StatusOr<LiveConfig> LoadLiveConfig(const std::string& path);
// The same for text in memory; `file_name` names it in errors.
absl::StatusOr<LiveConfig> ParseLiveConfig(std::string_view text, std::string_view file_name);

// Checks one list's values against the ranges above (what the parser checks
// per key); for rules built in code. Errors name the key ("list.NAME.KEY: ...").
absl::Status ValidateListRules(const ListRules& rules);

// "90s", "15m", "1h", "7d", "2w" and sums of them ("1h30m") → seconds.
// A bare number is refused (the unit is required); nullopt when malformed or
// above 100 years.
std::optional<std::int64_t> ParseDuration(std::string_view text);
// The shortest such text for `seconds` ("1h30m", "7d", "0s").
std::string FormatDuration(std::int64_t seconds);

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_CONFIG_H_
