#include "meshbl/feed/rules.h"

#include <algorithm>
#include <bit>
#include <bitset>
#include <cstring>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace meshbl::feed {
namespace {

// The score "reaches" the threshold within this (sums of float weights).
constexpr double kEpsilon = 1e-9;
constexpr std::uint8_t kVersion = 1;
// Times read back from the store are Unix seconds in [0, 2^40) (year 36812):
// anything else is damage, and would overflow the arithmetic on times.
constexpr std::int64_t kMaxTime = std::int64_t{1} << 40;
bool SaneTime(std::int64_t t) { return t >= 0 && t < kMaxTime; }

// An IP network as a hashable value: the listed unit and the index keys.
struct NetKey {
  std::array<std::uint8_t, 16> b{};
  std::uint8_t fam = 0;  // 4 or 6
  std::uint8_t len = 0;

  static NetKey Of(const dns::IpAddress& a, std::size_t len) {
    NetKey k;
    const dns::IpAddress m = a.Masked(len);
    const auto bytes = m.bytes();
    std::copy(bytes.begin(), bytes.end(), k.b.begin());
    k.fam = m.is_v4() ? 4 : 6;
    k.len = static_cast<std::uint8_t>(len);
    return k;
  }
  static NetKey Of(const Subject& s) { return Of(s.addr, s.len); }
  dns::IpAddress Addr() const {
    if (fam == 4) {
      return dns::IpAddress::V4((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                (std::uint32_t{b[2]} << 8) | b[3]);
    }
    return dns::IpAddress::V6(std::span<const std::uint8_t, 16>(b));
  }
  Subject ToSubject() const { return Subject::Ip(Addr(), len); }

  friend bool operator==(const NetKey&, const NetKey&) = default;
  friend auto operator<=>(const NetKey&, const NetKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const NetKey& k) {
    return H::combine(std::move(h), k.b, k.fam, k.len);
  }
};

struct HitRec {
  std::int64_t time = 0;
  std::uint64_t msg = 0;  // FNV-1a of the message key; 0: a message of its own
  TrapHash trap{};
};

struct Source {
  std::vector<HitRec> hits;        // sorted by time, all younger than the window at the last touch
  std::vector<TrapHash> evidence;  // distinct traps behind the current/last listing
  std::int64_t last_activity = 0;
  std::int64_t listed_first = 0;
  std::int64_t listed_last = 0;
  std::int64_t listed_until = 0;  // 0: no listing remembered
  std::uint64_t ignored = 0;      // hits only counted
  std::uint32_t offenses = 0;
};

struct TrapRep {
  double weight = 1;
  std::int64_t updated = 0;
};

std::uint64_t MessageHash(std::string_view key) {
  if (key.empty()) return 0;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;
}

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::optional<TrapHash> UnHex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  TrapHash h{};
  for (std::size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (std::size_t j = 0; j < 2; ++j) {
      const char c = text[2 * i + j];
      int d = 0;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return std::nullopt;
      }
      v = v * 16 + d;
    }
    h[i] = static_cast<std::uint8_t>(v);
  }
  return h;
}

std::string TimeText(std::int64_t t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}

// Little-endian encoding of the records.
class Enc {
 public:
  void U8(std::uint8_t v) { s_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) { Le(v, 4); }
  void U64(std::uint64_t v) { Le(v, 8); }
  void I64(std::int64_t v) { Le(static_cast<std::uint64_t>(v), 8); }
  void F64(double v) { U64(std::bit_cast<std::uint64_t>(v)); }
  void Bytes(std::span<const std::uint8_t> b) { s_.append(b.begin(), b.end()); }
  std::string Take() { return std::move(s_); }

 private:
  void Le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s_.push_back(static_cast<char>(v >> (8 * i)));
  }
  std::string s_;
};

class Dec {
 public:
  explicit Dec(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == s_.size(); }
  std::size_t left() const { return s_.size() - pos_; }
  std::uint8_t U8() { return static_cast<std::uint8_t>(Le(1)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Le(4)); }
  std::uint64_t U64() { return Le(8); }
  std::int64_t I64() { return static_cast<std::int64_t>(Le(8)); }
  double F64() { return std::bit_cast<double>(U64()); }
  void Bytes(std::span<std::uint8_t> out) {
    if (!ok_ || out.size() > left()) {
      ok_ = false;
      return;
    }
    std::memcpy(out.data(), s_.data() + pos_, out.size());
    pos_ += out.size();
  }

 private:
  std::uint64_t Le(std::size_t n) {
    if (!ok_ || n > left()) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= std::uint64_t{static_cast<unsigned char>(s_[pos_ + i])} << (8 * i);
    }
    pos_ += n;
    return v;
  }
  std::string_view s_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// IP networks and names, matched against a source network (the client masked
// to the list's prefix) and a verified host name. An entry matches a source
// it contains and a source that contains it (a whitelisted host inside a
// listed /64 keeps the /64 off the list).
class NetIndex {
 public:
  NetIndex(std::uint8_t v4len, std::uint8_t v6len) : v4len_(v4len), v6len_(v6len) {}

  void Add(const Subject& s, int delta) {
    if (s.kind == Subject::Kind::kName) {
      auto& m = s.wildcard ? wild_ : exact_;
      Bump(m, s.name, delta);
      return;
    }
    const std::uint8_t plen = s.addr.is_v4() ? v4len_ : v6len_;
    if (s.len <= plen) {
      const NetKey k = NetKey::Of(s);
      Bump(covers_, k, delta);
      auto& lens = s.addr.is_v4() ? lens4_ : lens6_;
      const std::size_t slot = (s.addr.is_v4() ? 0u : 129u) + s.len;
      lens_count_[slot] += delta;
      lens.set(s.len, lens_count_[slot] > 0);
    } else {
      const NetKey k = NetKey::Of(s.addr, plen);
      auto it = inside_.find(k);
      if (it == inside_.end()) {
        if (delta > 0) inside_.emplace(k, std::make_pair(delta, s));
        return;
      }
      it->second.first += delta;
      if (it->second.first <= 0) inside_.erase(it);
    }
  }

  std::optional<Subject> Match(const Subject& src, std::string_view name) const {
    if (src.kind == Subject::Kind::kIp) {
      const auto& lens = src.addr.is_v4() ? lens4_ : lens6_;
      for (std::size_t len = 0; len <= src.len; ++len) {
        if (!lens.test(len)) continue;
        const NetKey k = NetKey::Of(src.addr, len);
        if (covers_.contains(k)) return k.ToSubject();
      }
      if (auto it = inside_.find(NetKey::Of(src)); it != inside_.end()) return it->second.second;
    }
    if (name.empty()) return std::nullopt;
    std::string n = absl::AsciiStrToLower(std::string(name));
    if (!n.empty() && n.back() == '.') n.pop_back();
    if (exact_.contains(n)) return Subject::Parse(n).value_or(Subject{});
    for (std::string_view rest = n; !rest.empty();) {
      if (wild_.contains(std::string(rest))) {
        auto s = Subject::Parse(absl::StrCat(".", std::string(rest)));
        return s.value_or(Subject{});
      }
      const auto dot = rest.find('.');
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    return std::nullopt;
  }

  void Clear() {
    covers_.clear();
    inside_.clear();
    exact_.clear();
    wild_.clear();
    lens4_.reset();
    lens6_.reset();
    lens_count_.fill(0);
  }

 private:
  template <typename M, typename K>
  static void Bump(M& m, const K& k, int delta) {
    auto it = m.find(k);
    if (it == m.end()) {
      if (delta > 0) m.emplace(k, delta);
      return;
    }
    it->second += delta;
    if (it->second <= 0) m.erase(it);
  }

  std::uint8_t v4len_;
  std::uint8_t v6len_;
  absl::flat_hash_map<NetKey, int> covers_;
  absl::flat_hash_map<NetKey, std::pair<int, Subject>> inside_;
  absl::flat_hash_map<std::string, int> exact_;
  absl::flat_hash_map<std::string, int> wild_;
  std::bitset<129> lens4_;
  std::bitset<129> lens6_;
  std::array<int, 258> lens_count_{};
};

struct NeverRange {
  Subject net;
  std::string label;  // "loopback"
};

std::vector<NeverRange> NeverRanges(const ListRules& r) {
  std::vector<NeverRange> out;
  auto add = [&](std::string_view text, std::string_view label) {
    out.push_back({*Subject::Parse(text), std::string(label)});
  };
  if (r.never_list & kNeverPrivate) {
    for (auto t : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}) add(t, "private");
  }
  if (r.never_list & kNeverLoopback) {
    for (auto t : {"127.0.0.0/8", "::1"}) add(t, "loopback");
  }
  if (r.never_list & kNeverLinkLocal) {
    for (auto t : {"169.254.0.0/16", "fe80::/10"}) add(t, "link-local");
  }
  for (const Subject& s : r.own_mx) out.push_back({s, "own_mx"});
  return out;
}

}  // namespace

struct RuleEngine::State {
  explicit State(ListRules r)
      : rules(std::move(r)),
        never(NeverRanges(rules)),
        config_wl(rules.ipv4_prefix, rules.ipv6_prefix),
        operator_wl(rules.ipv4_prefix, rules.ipv6_prefix) {
    for (const Subject& s : rules.whitelist) config_wl.Add(s, 1);
  }

  ListRules rules;
  std::vector<NeverRange> never;
  NetIndex config_wl;
  NetIndex operator_wl;
  absl::flat_hash_map<NetKey, Source> sources;
  absl::flat_hash_map<TrapHash, TrapRep> traps;
  RuleStats stats;

  // --- keys and records ---
  std::string SourceKey(const NetKey& k) const {
    return absl::StrCat(rules.name, ":", k.ToSubject().ToString());
  }
  std::string TrapKey(const TrapHash& t) const { return absl::StrCat(rules.name, ":", Hex(t)); }

  static std::string EncodeHits(const Source& s) {
    Enc e;
    e.U8(kVersion);
    e.U32(static_cast<std::uint32_t>(s.hits.size()));
    for (const HitRec& h : s.hits) {
      e.I64(h.time);
      e.U64(h.msg);
      e.Bytes(h.trap);
    }
    return e.Take();
  }
  static std::string EncodeSource(const Source& s) {
    Enc e;
    e.U8(kVersion);
    e.U32(s.offenses);
    e.I64(s.listed_first);
    e.I64(s.listed_last);
    e.I64(s.listed_until);
    e.I64(s.last_activity);
    e.U64(s.ignored);
    e.U32(static_cast<std::uint32_t>(s.evidence.size()));
    for (const TrapHash& t : s.evidence) e.Bytes(t);
    return e.Take();
  }
  static std::string EncodeTrap(const TrapRep& t) {
    Enc e;
    e.U8(kVersion);
    e.F64(t.weight);
    e.I64(t.updated);
    return e.Take();
  }

  void WriteSource(const NetKey& k, const Source& s, std::vector<StateRecord>* w) const {
    const std::string key = SourceKey(k);
    w->push_back({StateTable::kHits, key,
                  s.hits.empty() ? std::nullopt : std::optional<std::string>(EncodeHits(s))});
    w->push_back({StateTable::kSources, key, EncodeSource(s)});
  }
  void DeleteSource(const NetKey& k, std::vector<StateRecord>* w) const {
    const std::string key = SourceKey(k);
    w->push_back({StateTable::kHits, key, std::nullopt});
    w->push_back({StateTable::kSources, key, std::nullopt});
  }

  // --- the rules ---
  double Weight(const TrapHash& t, std::int64_t now) const {
    const auto it = traps.find(t);
    if (it == traps.end()) return 1.0;
    double w = it->second.weight;
    if (rules.trap_recovery > 0 && now > it->second.updated) {
      w += static_cast<double>(now - it->second.updated) / static_cast<double>(rules.trap_recovery);
    }
    return std::min(1.0, w);
  }

  std::int64_t Ladder(std::uint32_t offenses) const {
    const std::size_t n = std::max<std::uint32_t>(offenses, 1);
    return rules.listing[std::min(n, rules.listing.size()) - 1];
  }

  bool InWindow(std::int64_t t, std::int64_t now) const { return t > now - rules.window; }

  // The score: the hits in the window, one message counted once at its
  // highest weight. Summed in a fixed order so that equal states give equal
  // sums.
  double ScoreOf(const Source& s, std::int64_t now, std::size_t* messages = nullptr) const {
    std::vector<std::pair<std::uint64_t, double>> v;
    v.reserve(s.hits.size());
    for (const HitRec& h : s.hits) {
      if (InWindow(h.time, now)) v.emplace_back(h.msg, Weight(h.trap, now));
    }
    std::sort(v.begin(), v.end());
    double sum = 0;
    std::size_t count = 0;
    for (std::size_t i = 0; i < v.size();) {
      if (v[i].first == 0) {
        sum += v[i].second;
        ++count;
        ++i;
        continue;
      }
      std::size_t j = i;
      double best = 0;
      while (j < v.size() && v[j].first == v[i].first) best = std::max(best, v[j++].second);
      sum += best;
      ++count;
      i = j;
    }
    if (messages != nullptr) *messages = count;
    return sum;
  }

  bool Reaches(double score) const { return score >= rules.threshold - kEpsilon; }

  // Forgets the offense count once offense_memory has passed since the last
  // listing ended. True when something changed.
  bool Forget(Source& s, std::int64_t now) const {
    if (s.listed_until == 0 || s.listed_until > now) return false;
    if (now - s.listed_until < rules.offense_memory) return false;
    s.offenses = 0;
    s.listed_until = s.listed_first = s.listed_last = 0;
    s.evidence.clear();
    return true;
  }
  bool Prune(Source& s, std::int64_t now) const {
    const auto keep = std::find_if(s.hits.begin(), s.hits.end(),
                                   [&](const HitRec& h) { return InWindow(h.time, now); });
    if (keep == s.hits.begin()) return false;
    s.hits.erase(s.hits.begin(), keep);
    return true;
  }
  bool Idle(const Source& s) const { return s.hits.empty() && s.listed_until == 0; }

  Subject SourceOf(const dns::IpAddress& client) const {
    const dns::IpAddress a = client.Unmapped();
    return Subject::Ip(a, a.is_v4() ? rules.ipv4_prefix : rules.ipv6_prefix);
  }

  const NeverRange* NeverMatch(const Subject& src) const {
    for (const NeverRange& n : never) {
      if (n.net.Covers(src) || src.Covers(n.net)) return &n;
    }
    return nullptr;
  }
  // The whitelist entry matching a source, and whether it is the config's.
  std::optional<std::pair<Subject, bool>> WhitelistMatch(const Subject& src,
                                                         std::string_view name) const {
    if (auto m = config_wl.Match(src, name)) return std::make_pair(*m, true);
    if (auto m = operator_wl.Match(src, name)) return std::make_pair(*m, false);
    return std::nullopt;
  }

  Listing ListingOf(const NetKey& k, const Source& s) const {
    Listing l;
    l.subject = k.ToSubject();
    l.code = rules.code;
    l.reason = rules.reason;
    l.origin = Origin::kRule;
    l.origin_id = rules.name;
    l.first_seen = s.listed_first;
    l.last_seen = s.listed_last;
    l.expires = s.listed_until;
    l.offenses = s.offenses;
    return l;
  }

  static void AddEvidence(Source& s, std::size_t cap) {
    for (const HitRec& h : s.hits) {
      if (s.evidence.size() >= cap) break;
      if (std::find(s.evidence.begin(), s.evidence.end(), h.trap) == s.evidence.end()) {
        s.evidence.push_back(h.trap);
      }
    }
  }

  // Drops the least recently active sources (not listed first) beyond
  // max_sources, never `keep`.
  void Evict(const NetKey& keep, std::int64_t now, std::vector<StateRecord>* w) {
    if (sources.size() <= rules.max_sources) return;
    const std::size_t excess = sources.size() - rules.max_sources;
    // Free a little more than needed so that a full table does not scan on
    // every new source.
    const std::size_t target = std::min<std::size_t>(
        sources.size() - 1, excess + static_cast<std::size_t>(rules.max_sources / 64));
    std::vector<std::tuple<bool, std::int64_t, NetKey>> order;
    order.reserve(sources.size());
    for (const auto& [k, s] : sources) {
      if (k == keep) continue;
      order.emplace_back(s.listed_until > now, s.last_activity, k);
    }
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(target - 1),
                     order.end());
    for (std::size_t i = 0; i < target; ++i) {
      const NetKey& k = std::get<2>(order[i]);
      sources.erase(k);
      DeleteSource(k, w);
      ++stats.evicted;
    }
  }

  // The traps behind a source: its listing's evidence and its hits.
  static void TrapsOf(const Source& s, absl::flat_hash_set<TrapHash>* out) {
    for (const TrapHash& t : s.evidence) out->insert(t);
    for (const HitRec& h : s.hits) out->insert(h.trap);
  }

  void Penalize(const absl::flat_hash_set<TrapHash>& set, std::int64_t now,
                std::vector<StateRecord>* w) {
    std::vector<TrapHash> sorted(set.begin(), set.end());
    std::sort(sorted.begin(), sorted.end());
    for (const TrapHash& t : sorted) {
      const double cur = Weight(t, now);
      const double next = std::min(cur, std::max(rules.trap_weight_min, cur * rules.trap_penalty));
      TrapRep& r = traps[t];
      r.weight = next;
      r.updated = now;
      w->push_back({StateTable::kTraps, TrapKey(t), EncodeTrap(r)});
    }
  }

  // The sources `subject` covers (or the one containing it, when it is
  // smaller than a source), in key order.
  std::vector<NetKey> Covered(const Subject& subject) const {
    std::vector<NetKey> out;
    if (subject.kind != Subject::Kind::kIp) return out;
    const Subject a = Subject::Ip(
        subject.addr.Unmapped(),
        subject.addr.IsV4Mapped() && subject.len >= 96 ? subject.len - 96u : subject.len);
    const std::uint8_t plen = a.addr.is_v4() ? rules.ipv4_prefix : rules.ipv6_prefix;
    if (a.len >= plen) {
      const NetKey k = NetKey::Of(a.addr, plen);
      if (sources.contains(k)) out.push_back(k);
      return out;
    }
    for (const auto& [k, s] : sources) {
      if (a.Covers(k.ToSubject())) out.push_back(k);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Operator delist (withdraw = true) or whitelist of `subject`.
  Decision OperatorAction(const Subject& subject, std::int64_t now, bool withdraw) {
    Decision d;
    d.hit = Decision::Hit::kRecorded;
    d.source = subject;
    absl::flat_hash_set<TrapHash> contributing;
    std::vector<NetKey> keys = Covered(subject);
    std::vector<std::string> names;
    for (const NetKey& k : keys) {
      Source& s = sources[k];
      Forget(s, now);
      TrapsOf(s, &contributing);
      const bool listed = s.listed_until > now;
      s.hits.clear();
      if (listed) {
        if (withdraw && s.offenses > 0) --s.offenses;
        s.listed_until = now;
        s.listed_last = std::min(s.listed_last, now);
      }
      if (s.offenses == 0) {
        s.listed_until = s.listed_first = s.listed_last = 0;
      }
      s.evidence.clear();
      s.last_activity = std::max(s.last_activity, now);
      names.push_back(k.ToSubject().ToString());
      if (Idle(s) && s.ignored == 0) {
        sources.erase(k);
        DeleteSource(k, &d.writes);
      } else {
        WriteSource(k, s, &d.writes);
      }
    }
    Penalize(contributing, now, &d.writes);
    d.explanation = absl::StrCat(
        rules.name, ": ", withdraw ? "operator delisted " : "operator whitelisted ",
        subject.ToString(), ": ", keys.size(), " source(s) (", absl::StrJoin(names, ", "), "), ",
        contributing.size(), " trap(s) lose weight (x", absl::StrFormat("%.2f", rules.trap_penalty),
        ", floor ", absl::StrFormat("%.2f", rules.trap_weight_min), ")");
    return d;
  }
};

std::string_view StateTableName(StateTable t) {
  switch (t) {
    case StateTable::kHits:
      return "hits";
    case StateTable::kTraps:
      return "traps";
    case StateTable::kSources:
      return "sources";
  }
  return "unknown";
}

std::string_view HitName(Decision::Hit h) {
  switch (h) {
    case Decision::Hit::kRecorded:
      return "recorded";
    case Decision::Hit::kDuplicate:
      return "duplicate";
    case Decision::Hit::kWhitelisted:
      return "whitelisted";
    case Decision::Hit::kNeverList:
      return "never-list";
    case Decision::Hit::kTooOld:
      return "too-old";
    case Decision::Hit::kInvalid:
      return "invalid";
  }
  return "unknown";
}

RuleEngine::RuleEngine(ListRules rules) : s_(std::make_unique<State>(std::move(rules))) {}
RuleEngine::~RuleEngine() = default;

absl::StatusOr<std::unique_ptr<RuleEngine>> RuleEngine::Create(ListRules rules) {
  if (auto st = ValidateListRules(rules); !st.ok()) return st;
  return std::unique_ptr<RuleEngine>(new RuleEngine(std::move(rules)));
}

const ListRules& RuleEngine::rules() const { return s_->rules; }
const RuleStats& RuleEngine::stats() const { return s_->stats; }
std::size_t RuleEngine::source_count() const { return s_->sources.size(); }

Decision RuleEngine::OnHit(const TrapHit& hit, std::int64_t now, std::string_view verified_name) {
  State& st = *s_;
  const ListRules& r = st.rules;
  Decision d;
  ++st.stats.hits;
  if (hit.client.family() == dns::IpAddress::Family::kNone) {
    d.hit = Decision::Hit::kInvalid;
    ++st.stats.invalid;
    d.explanation = absl::StrCat(r.name, ": hit without a client address: ignored");
    return d;
  }
  d.source = st.SourceOf(hit.client);
  const NetKey key = NetKey::Of(d.source);
  const std::string src_text = d.source.ToString();
  const std::string trap_text = Hex(std::span(hit.trap).first(4));
  const std::int64_t t = (hit.time <= 0 || hit.time > now) ? now : hit.time;

  const bool is_new = !st.sources.contains(key);
  Source& s = st.sources[key];
  s.last_activity = std::max(s.last_activity, now);
  st.Forget(s, now);
  st.Prune(s, now);

  // Hits that are only counted.
  std::string why;
  if (const NeverRange* n = st.NeverMatch(d.source)) {
    d.hit = Decision::Hit::kNeverList;
    ++st.stats.never_list;
    why = absl::StrCat("never listed: ", n->label, " (", n->net.ToString(), ")");
  } else if (auto w = st.WhitelistMatch(d.source, verified_name)) {
    d.hit = Decision::Hit::kWhitelisted;
    ++st.stats.whitelisted;
    why = absl::StrCat("whitelisted by ", w->first.ToString(),
                       w->second ? " (config)" : " (operator)");
  } else if (!st.InWindow(t, now)) {
    d.hit = Decision::Hit::kTooOld;
    ++st.stats.too_old;
    why = absl::StrCat("hit at ", TimeText(t), " is older than the window (",
                       FormatDuration(r.window), ")");
  }
  if (!why.empty()) {
    ++s.ignored;
    d.score = st.ScoreOf(s, now);
    d.explanation = absl::StrCat(r.name, ": ", src_text, ": hit on trap ", trap_text, " via ",
                                 hit.via, " only counted (", s.ignored, "): ", why);
    st.WriteSource(key, s, &d.writes);
    if (is_new) st.Evict(key, now, &d.writes);
    return d;
  }

  // A hit that counts.
  const std::uint64_t msg = MessageHash(hit.message_key);
  const bool dup = msg != 0 && std::any_of(s.hits.begin(), s.hits.end(),
                                           [&](const HitRec& h) { return h.msg == msg; });
  d.hit = dup ? Decision::Hit::kDuplicate : Decision::Hit::kRecorded;
  ++(dup ? st.stats.duplicates : st.stats.recorded);
  const auto at = std::upper_bound(s.hits.begin(), s.hits.end(), t,
                                   [](std::int64_t v, const HitRec& h) { return v < h.time; });
  s.hits.insert(at, HitRec{t, msg, hit.trap});
  if (s.hits.size() > r.max_hits) {
    const std::size_t drop = s.hits.size() - r.max_hits;
    s.hits.erase(s.hits.begin(), s.hits.begin() + static_cast<std::ptrdiff_t>(drop));
    st.stats.hits_dropped += drop;
  }
  std::size_t messages = 0;
  d.score = st.ScoreOf(s, now, &messages);
  const double weight = st.Weight(hit.trap, now);
  std::string verdict;
  if (s.listed_until > now) {
    const std::int64_t until = std::max(s.listed_until, t + st.Ladder(s.offenses));
    if (until != s.listed_until || t > s.listed_last) {
      s.listed_until = until;
      s.listed_last = std::max(s.listed_last, t);
      State::AddEvidence(s, r.max_hits);
      d.listing = st.ListingOf(key, s);
      ++st.stats.extensions;
      verdict = absl::StrCat("listing extended until ", TimeText(until), " (offense ", s.offenses,
                             ", ", FormatDuration(st.Ladder(s.offenses)), " after the last hit)");
    } else {
      verdict = absl::StrCat("listed until ", TimeText(s.listed_until));
    }
  } else if (st.Reaches(d.score) && t + st.Ladder(s.offenses + 1) > now) {
    ++s.offenses;
    s.listed_first = s.hits.front().time;
    s.listed_last = t;
    s.listed_until = t + st.Ladder(s.offenses);
    s.evidence.clear();
    State::AddEvidence(s, r.max_hits);
    d.listing = st.ListingOf(key, s);
    ++st.stats.listings;
    verdict = absl::StrCat("listed until ", TimeText(s.listed_until), " (offense ", s.offenses,
                           ", ", FormatDuration(st.Ladder(s.offenses)), ")");
  } else {
    verdict = "not listed";
  }
  d.explanation =
      absl::StrCat(r.name, ": ", src_text, ": hit on trap ", trap_text, " (weight ",
                   absl::StrFormat("%.2f", weight), ") via ", hit.via,
                   dup ? ", same message as an earlier hit" : "", ": score ",
                   absl::StrFormat("%.2f", d.score), " of ", absl::StrFormat("%.2f", r.threshold),
                   " (", messages, " message(s) in ", FormatDuration(r.window), "): ", verdict);
  st.WriteSource(key, s, &d.writes);
  if (is_new) st.Evict(key, now, &d.writes);
  return d;
}

Decision RuleEngine::OnOperatorDelist(const Subject& subject, std::int64_t now) {
  return s_->OperatorAction(subject, now, true);
}

Decision RuleEngine::OnWhitelist(const Subject& subject, std::int64_t now) {
  s_->operator_wl.Add(subject, 1);
  return s_->OperatorAction(subject, now, false);
}

void RuleEngine::OnWhitelistRemoved(const Subject& subject) { s_->operator_wl.Add(subject, -1); }

void RuleEngine::SetOperatorWhitelist(const std::vector<Subject>& subjects) {
  s_->operator_wl.Clear();
  for (const Subject& s : subjects) s_->operator_wl.Add(s, 1);
}

std::vector<StateRecord> RuleEngine::Sweep(std::int64_t now) {
  State& st = *s_;
  std::vector<StateRecord> w;
  std::vector<NetKey> drop;
  for (auto& [k, s] : st.sources) {
    const bool changed = st.Forget(s, now) | st.Prune(s, now);
    if (st.Idle(s)) {
      drop.push_back(k);
    } else if (changed) {
      st.WriteSource(k, s, &w);
    }
  }
  for (const NetKey& k : drop) {
    st.sources.erase(k);
    st.DeleteSource(k, &w);
  }
  std::vector<TrapHash> full;
  for (const auto& [t, rep] : st.traps) {
    if (st.Weight(t, now) >= 1.0) full.push_back(t);
  }
  for (const TrapHash& t : full) {
    st.traps.erase(t);
    w.push_back({StateTable::kTraps, st.TrapKey(t), std::nullopt});
  }
  std::sort(w.begin(), w.end(), [](const StateRecord& a, const StateRecord& b) {
    return std::tie(a.table, a.key) < std::tie(b.table, b.key);
  });
  return w;
}

double RuleEngine::Score(const Subject& subject, std::int64_t now) const {
  if (subject.kind != Subject::Kind::kIp) return 0;
  const auto it = s_->sources.find(NetKey::Of(s_->SourceOf(subject.addr)));
  return it == s_->sources.end() ? 0 : s_->ScoreOf(it->second, now);
}

double RuleEngine::TrapWeight(const TrapHash& trap, std::int64_t now) const {
  return s_->Weight(trap, now);
}

std::vector<std::string> RuleEngine::Explain(const Subject& subject, std::int64_t now) const {
  const State& st = *s_;
  const ListRules& r = st.rules;
  std::vector<std::string> out;
  std::vector<std::string> ladder;
  for (std::int64_t l : r.listing) ladder.push_back(FormatDuration(l));
  out.push_back(
      absl::StrCat("list ", r.name, ": listed when the score over ", FormatDuration(r.window),
                   " reaches ", absl::StrFormat("%.2f", r.threshold), "; listing ",
                   absl::StrJoin(ladder, ", "), " after the last hit; offenses forgotten ",
                   FormatDuration(r.offense_memory), " after a listing"));
  if (subject.kind != Subject::Kind::kIp) {
    Subject no_ip;
    no_ip.kind = Subject::Kind::kName;
    if (auto w = st.WhitelistMatch(no_ip, subject.name)) {
      out.push_back(absl::StrCat(subject.ToString(), ": whitelisted by ", w->first.ToString(),
                                 w->second ? " (config)" : " (operator)",
                                 " (names match verified host names, never HELO)"));
    } else {
      out.push_back(absl::StrCat(subject.ToString(), ": rules list addresses, not names"));
    }
    return out;
  }
  const Subject src = st.SourceOf(subject.addr);
  const std::string name = src.ToString();
  if (const NeverRange* n = st.NeverMatch(src)) {
    out.push_back(absl::StrCat(name, ": never listed: ", n->label, " (", n->net.ToString(), ")"));
  } else if (auto w = st.WhitelistMatch(src, {})) {
    out.push_back(absl::StrCat(name, ": whitelisted by ", w->first.ToString(),
                               w->second ? " (config)" : " (operator)"));
  }
  const auto it = st.sources.find(NetKey::Of(src));
  if (it == st.sources.end()) {
    out.push_back(absl::StrCat(name, ": no hits remembered; never listed"));
    return out;
  }
  Source s = it->second;  // a copy: explaining changes nothing
  st.Forget(s, now);
  st.Prune(s, now);
  absl::flat_hash_set<std::uint64_t> seen;
  for (const HitRec& h : s.hits) {
    const bool dup = h.msg != 0 && !seen.insert(h.msg).second;
    std::array<std::uint8_t, 4> m{};
    for (std::size_t i = 0; i < 4; ++i) m[i] = static_cast<std::uint8_t>(h.msg >> (56 - 8 * i));
    out.push_back(absl::StrCat("hit ", TimeText(h.time), " trap ", Hex(std::span(h.trap).first(4)),
                               " weight ", absl::StrFormat("%.2f", st.Weight(h.trap, now)),
                               " message ", h.msg == 0 ? std::string("-") : Hex(m),
                               dup ? " (same message: counted once)" : ""));
  }
  std::size_t messages = 0;
  const double score = st.ScoreOf(s, now, &messages);
  out.push_back(absl::StrCat("score ", absl::StrFormat("%.2f", score), " of threshold ",
                             absl::StrFormat("%.2f", r.threshold), " (", messages,
                             " message(s) in the last ", FormatDuration(r.window), ")"));
  if (s.listed_until > now) {
    out.push_back(absl::StrCat("listed until ", TimeText(s.listed_until), " (offense ", s.offenses,
                               ", first seen ", TimeText(s.listed_first), ", last seen ",
                               TimeText(s.listed_last), ", ", s.evidence.size(), " trap(s))"));
  } else if (s.offenses > 0) {
    out.push_back(absl::StrCat("not listed; ", s.offenses, " offense(s), the last listing ended ",
                               TimeText(s.listed_until), ", forgotten at ",
                               TimeText(s.listed_until + r.offense_memory), "; next listing ",
                               FormatDuration(st.Ladder(s.offenses + 1))));
  } else {
    out.push_back("not listed; no offense remembered");
  }
  if (s.ignored > 0) out.push_back(absl::StrCat(s.ignored, " hit(s) only counted"));
  return out;
}

std::vector<StateRecord> RuleEngine::Snapshot() const {
  const State& st = *s_;
  std::vector<StateRecord> out;
  for (const auto& [k, s] : st.sources) {
    const std::string key = st.SourceKey(k);
    if (!s.hits.empty()) out.push_back({StateTable::kHits, key, State::EncodeHits(s)});
    out.push_back({StateTable::kSources, key, State::EncodeSource(s)});
  }
  for (const auto& [t, rep] : st.traps) {
    out.push_back({StateTable::kTraps, st.TrapKey(t), State::EncodeTrap(rep)});
  }
  std::sort(out.begin(), out.end(), [](const StateRecord& a, const StateRecord& b) {
    return std::tie(a.table, a.key) < std::tie(b.table, b.key);
  });
  return out;
}

absl::Status RuleEngine::Restore(const std::vector<StateRecord>& records) {
  State& st = *s_;
  st.sources.clear();
  st.traps.clear();
  const std::string prefix = absl::StrCat(st.rules.name, ":");
  auto fail = [&](const StateRecord& rec, std::string_view what) {
    st.sources.clear();
    st.traps.clear();
    return absl::DataLossError(absl::StrCat(std::string(StateTableName(rec.table)), " record '",
                                            rec.key, "': ", std::string(what)));
  };
  for (const StateRecord& rec : records) {
    if (!rec.value || !rec.key.starts_with(prefix)) continue;
    const std::string_view rest = std::string_view(rec.key).substr(prefix.size());
    Dec dec(*rec.value);
    if (dec.U8() != kVersion) return fail(rec, "unknown version");
    if (rec.table == StateTable::kTraps) {
      const auto t = UnHex(rest);
      if (!t) return fail(rec, "not a trap hash");
      TrapRep rep;
      rep.weight = dec.F64();
      rep.updated = dec.I64();
      if (!dec.done() || !(rep.weight >= 0 && rep.weight <= 1) || !SaneTime(rep.updated)) {
        return fail(rec, "corrupt");
      }
      st.traps[*t] = rep;
      continue;
    }
    const auto subj = Subject::Parse(rest);
    if (!subj.ok() || subj->kind != Subject::Kind::kIp) return fail(rec, "not an IP network");
    Source& s = st.sources[NetKey::Of(*subj)];
    if (rec.table == StateTable::kHits) {
      const std::uint32_t n = dec.U32();
      if (!dec.ok() || n > dec.left() / 48) return fail(rec, "truncated");
      s.hits.clear();
      s.hits.reserve(n);
      for (std::uint32_t i = 0; i < n; ++i) {
        HitRec h;
        h.time = dec.I64();
        h.msg = dec.U64();
        dec.Bytes(h.trap);
        if (!SaneTime(h.time)) return fail(rec, "corrupt");
        if (!s.hits.empty() && h.time < s.hits.back().time) return fail(rec, "hits out of order");
        s.hits.push_back(h);
      }
      if (!dec.done()) return fail(rec, "corrupt");
    } else if (rec.table == StateTable::kSources) {
      s.offenses = dec.U32();
      s.listed_first = dec.I64();
      s.listed_last = dec.I64();
      s.listed_until = dec.I64();
      s.last_activity = dec.I64();
      s.ignored = dec.U64();
      const std::uint32_t n = dec.U32();
      if (!dec.ok() || n > dec.left() / 32) return fail(rec, "truncated");
      s.evidence.assign(n, TrapHash{});
      for (TrapHash& t : s.evidence) dec.Bytes(t);
      if (!dec.done() || !SaneTime(s.listed_first) || !SaneTime(s.listed_last) ||
          !SaneTime(s.listed_until) || !SaneTime(s.last_activity)) {
        return fail(rec, "corrupt");
      }
    } else {
      return fail(rec, "unknown table");
    }
  }
  return absl::OkStatus();
}

}  // namespace meshbl::feed
