// The listing rules of one live list: a deterministic engine that turns trap
// hits into listings. No clock and no I/O: every call takes `now` (Unix
// seconds), and every change of state comes back as records for the store.
//
// The rules (docs/meshbld.8.md, "LIVE LISTS CONFIGURATION"):
//  - A hit's source is its client address (a v4-mapped IPv6 address as IPv4)
//    masked to ipv4_prefix / ipv6_prefix.
//  - Whitelisted sources (config whitelist and operator whitelist: an IP
//    network containing the source, or a name equal to or (".name") above the
//    caller-verified host name; the HELO name is never trusted, anyone can
//    claim any name) and never-list sources (private, loopback, link-local,
//    own_mx) are never listed: their hits are only counted.
//  - A hit counts while it is younger than `window` (time > now - window).
//    Its weight is its trap's reputation now. One message to many traps counts
//    once: hits of one source with the same message_key count as one, at the
//    highest weight among them (an empty key is a message of its own).
//  - The score (sum of the weights) reaching `threshold` lists the source
//    (offense + 1). While listed, every hit extends the listing. A listing
//    lasts listing[min(offenses, N) - 1] after the last hit.
//  - The offense count survives the listing and is forgotten offense_memory
//    after the last listing ended.
//  - An operator delist or whitelist of a source lowers the weight of every
//    trap whose hits listed it (or are in its window): weight × trap_penalty,
//    never below trap_weight_min; weights climb back by 1 per trap_recovery.
//    A delist also withdraws the offense it ended and forgets the hits.
//
// The state (per-source hits, per-source listing state, trap reputations) is
// exported as records: each call returns the records it changed, Snapshot()
// returns all of them, Restore() rebuilds an engine that decides exactly as
// the one that wrote them. Not thread-safe: one caller at a time.
#ifndef MESHBL_FEED_RULES_H_
#define MESHBL_FEED_RULES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshbl/feed/config.h"
#include "meshbl/feed/entry.h"

namespace meshbl::feed {

// The store tables the engine's records belong in.
enum class StateTable : std::uint8_t { kHits = 1, kTraps = 2, kSources = 3 };
std::string_view StateTableName(StateTable t);  // "hits", "traps", "sources"

// One record of engine state. Keys are "LIST:SUBJECT" (hits, sources) and
// "LIST:HEX-TRAP-HASH" (traps); values are a versioned binary encoding.
// A record without value is a deletion.
struct StateRecord {
  StateTable table = StateTable::kSources;
  std::string key;
  std::optional<std::string> value;

  friend bool operator==(const StateRecord&, const StateRecord&) = default;
};

// What a call did. For OnOperatorDelist/OnWhitelist only `source` (the
// subject), `explanation` and `writes` are meaningful.
struct Decision {
  enum class Hit : std::uint8_t {
    kRecorded = 1,     // counted in the score
    kDuplicate = 2,    // recorded, but its message was already counted
    kWhitelisted = 3,  // only counted
    kNeverList = 4,    // only counted (private, loopback, link-local, own_mx)
    kTooOld = 5,       // older than the window: only counted
    kInvalid = 6,      // no client address
  };
  Hit hit = Hit::kRecorded;
  Subject source;    // the source the hit was charged to
  double score = 0;  // the source's score now
  // Set when a listing is made or extended (expires or last_seen changed):
  // the feed service stores it in the live list (daemon/feed_service.cc).
  std::optional<Listing> listing;
  std::string explanation;  // one line: what happened and why
  std::vector<StateRecord> writes;
};
std::string_view HitName(Decision::Hit h);  // "recorded", "duplicate", ...

struct RuleStats {
  std::uint64_t hits = 0;  // every OnHit call
  std::uint64_t recorded = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t whitelisted = 0;
  std::uint64_t never_list = 0;
  std::uint64_t too_old = 0;
  std::uint64_t invalid = 0;
  std::uint64_t listings = 0;      // new listings made
  std::uint64_t extensions = 0;    // listings extended
  std::uint64_t evicted = 0;       // sources dropped at max_sources
  std::uint64_t hits_dropped = 0;  // hits dropped at max_hits
};

class RuleEngine {
 public:
  // `rules` must pass ValidateListRules.
  static absl::StatusOr<std::unique_ptr<RuleEngine>> Create(ListRules rules);
  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // One trap hit. `verified_name`: the client's forward-confirmed host name
  // when the caller knows it (matches whitelisted names), else empty.
  // hit.time is when it happened (0 or later than `now`: now).
  Decision OnHit(const TrapHit& hit, std::int64_t now, std::string_view verified_name = {});

  // An operator removed the listing of `subject` (and what it covers): the
  // traps that listed it lose weight, its hits are forgotten and the offense
  // that listing counted is withdrawn. Returns the changed records.
  Decision OnOperatorDelist(const Subject& subject, std::int64_t now);
  // An operator whitelisted `subject`: as a delist (offenses kept), and from
  // now on it is whitelisted here too (until OnWhitelistRemoved).
  Decision OnWhitelist(const Subject& subject, std::int64_t now);
  void OnWhitelistRemoved(const Subject& subject);
  // The operator whitelist as kept in the store (at start-up): replaces the
  // entries added by OnWhitelist; penalizes nothing.
  void SetOperatorWhitelist(const std::vector<Subject>& subjects);

  // Drops what no longer matters at `now` (hits out of the window, sources
  // with nothing left to remember, traps back at full weight). Returns the
  // deletions and rewrites; call it now and then (e.g. every minute).
  std::vector<StateRecord> Sweep(std::int64_t now);

  // The lines that justify the current state of the source `subject` (an
  // address or a network of the source's size) at `now`: the rules in force,
  // each hit (time, trap hash prefix, weight, message), the score against
  // the threshold, the listing and offense count, a whitelist or never-list
  // match. Always at least one line.
  std::vector<std::string> Explain(const Subject& subject, std::int64_t now) const;

  // The score of `subject`'s source at `now` (0 when unknown).
  double Score(const Subject& subject, std::int64_t now) const;
  // The weight of a trap at `now` (1 when never penalized).
  double TrapWeight(const TrapHash& trap, std::int64_t now) const;

  // Every record of the state.
  std::vector<StateRecord> Snapshot() const;
  // Replaces the state with `records` (as Snapshot or the writes left them;
  // deletions are skipped). Records of other lists (another LIST: prefix)
  // are ignored. A record that does not decode is an error naming its table
  // and key, and leaves the state empty.
  absl::Status Restore(const std::vector<StateRecord>& records);

  const ListRules& rules() const;
  const RuleStats& stats() const;
  std::size_t source_count() const;

 private:
  struct State;
  explicit RuleEngine(ListRules rules);
  std::unique_ptr<State> s_;
};

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_RULES_H_
