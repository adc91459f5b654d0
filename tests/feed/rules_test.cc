#include "meshbl/feed/rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"

namespace meshbl::feed {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;  // 2027-01-15
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

// Rules with every range listable, so that any address can be used.
ListRules Open() {
  ListRules r;
  r.name = "traps";
  r.never_list = 0;
  return r;
}

std::unique_ptr<RuleEngine> Engine(ListRules r) {
  auto e = RuleEngine::Create(std::move(r));
  EXPECT_TRUE(e.ok()) << e.status();
  return std::move(e).value();
}

dns::IpAddress Ip(std::string_view text) {
  const auto a = dns::IpAddress::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(dns::IpAddress());
}

TrapHit Hit(std::string_view client, int trap, std::string_view msg, std::int64_t time = 0) {
  TrapHit h;
  h.client = Ip(client);
  h.helo = "helo.example";
  h.sender = "spam@example.net";
  h.trap = HashTrapAddress(absl::StrCat("trap", trap, "@example.org"));
  h.message_key = std::string(msg);
  h.time = time;
  h.via = "policy";
  return h;
}

Subject S(std::string_view text) { return *Subject::Parse(text); }

// Applies `writes` to a key-value image of the store, as the lead does.
using Image = std::map<std::pair<StateTable, std::string>, std::string>;
void Apply(Image* img, const std::vector<StateRecord>& writes) {
  for (const StateRecord& w : writes) {
    if (w.value) {
      (*img)[{w.table, w.key}] = *w.value;
    } else {
      img->erase({w.table, w.key});
    }
  }
}
Image ImageOf(const std::vector<StateRecord>& records) {
  Image img;
  Apply(&img, records);
  return img;
}
std::vector<StateRecord> Records(const Image& img) {
  std::vector<StateRecord> out;
  for (const auto& [k, v] : img) out.push_back({k.first, k.second, v});
  return out;
}

// --- threshold, window, messages ---

// For thresholds 1..6 and fractional ones, unit-weight hits from distinct
// messages list the source exactly at the hit whose count reaches the
// threshold, never one before.
TEST(RulesTest, ThresholdExactBoundary) {
  for (double threshold : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, 1.5, 2.5, 2.999, 3.001}) {
    ListRules r = Open();
    r.threshold = threshold;
    auto e = Engine(r);
    const int need = static_cast<int>(std::ceil(threshold - 1e-12));
    for (int i = 1; i <= need; ++i) {
      const Decision d = e->OnHit(Hit("203.0.113.7", i, absl::StrCat("m", i)), kT0 + i);
      EXPECT_EQ(d.hit, Decision::Hit::kRecorded);
      EXPECT_DOUBLE_EQ(d.score, i);
      EXPECT_EQ(d.listing.has_value(), i == need) << threshold << " hit " << i;
      if (d.listing) {
        EXPECT_EQ(d.listing->subject, S("203.0.113.7"));
        EXPECT_EQ(d.listing->origin, Origin::kRule);
        EXPECT_EQ(d.listing->origin_id, "traps");
        EXPECT_EQ(d.listing->code, 2);
        EXPECT_EQ(d.listing->reason, r.reason);
        EXPECT_EQ(d.listing->first_seen, kT0 + 1);
        EXPECT_EQ(d.listing->last_seen, kT0 + i);
        EXPECT_EQ(d.listing->expires, kT0 + i + kHour);
        EXPECT_EQ(d.listing->offenses, 1u);
        EXPECT_NE(d.explanation.find("listed until"), std::string::npos) << d.explanation;
      }
    }
  }
}

// A hit counts while it is younger than the window: at every window size, a
// hit at t is in the score at t + window - 1 and out at t + window.
TEST(RulesTest, WindowSlides) {
  for (std::int64_t window : {1L, 2L, 59L, 60L, 3600L, 86400L, 30 * 86400L}) {
    ListRules r = Open();
    r.window = window;
    r.threshold = 2;
    {
      auto e = Engine(r);
      e->OnHit(Hit("192.0.2.1", 1, "a"), kT0);
      const Decision d = e->OnHit(Hit("192.0.2.1", 2, "b"), kT0 + window - 1);
      EXPECT_DOUBLE_EQ(d.score, 2) << window;
      EXPECT_TRUE(d.listing.has_value()) << window;
    }
    {
      auto e = Engine(r);
      e->OnHit(Hit("192.0.2.1", 1, "a"), kT0);
      const Decision d = e->OnHit(Hit("192.0.2.1", 2, "b"), kT0 + window);
      EXPECT_DOUBLE_EQ(d.score, 1) << window;
      EXPECT_FALSE(d.listing.has_value()) << window;
      // The score seen from outside slides too.
      EXPECT_DOUBLE_EQ(e->Score(S("192.0.2.1"), kT0 + window), 1);
      EXPECT_DOUBLE_EQ(e->Score(S("192.0.2.1"), kT0 + 2 * window), 0);
    }
    {
      // A hit reported late (its time older than the window) is only counted.
      auto e = Engine(r);
      const Decision d = e->OnHit(Hit("192.0.2.1", 1, "a", kT0 - window), kT0);
      EXPECT_EQ(d.hit, Decision::Hit::kTooOld) << window;
      EXPECT_DOUBLE_EQ(d.score, 0);
    }
  }
}

// One message to N traps counts once, at any N; N messages count N; an empty
// message key is a message of its own; the same key from another source is
// another message.
TEST(RulesTest, OneMessageToManyTrapsCountsOnce) {
  for (int n = 1; n <= 40; n += 3) {
    ListRules r = Open();
    r.threshold = 2;
    auto e = Engine(r);
    for (int i = 0; i < n; ++i) {
      const Decision d = e->OnHit(Hit("198.18.0.1", i, "queue-id-1"), kT0);
      EXPECT_EQ(d.hit, i == 0 ? Decision::Hit::kRecorded : Decision::Hit::kDuplicate);
      EXPECT_DOUBLE_EQ(d.score, 1);
      EXPECT_FALSE(d.listing.has_value());
    }
    const Decision other = e->OnHit(Hit("198.18.0.2", 0, "queue-id-1"), kT0);
    EXPECT_EQ(other.hit, Decision::Hit::kRecorded);
    EXPECT_DOUBLE_EQ(other.score, 1);
    const Decision second = e->OnHit(Hit("198.18.0.1", 0, "queue-id-2"), kT0);
    EXPECT_DOUBLE_EQ(second.score, 2);
    EXPECT_TRUE(second.listing.has_value());
  }
  ListRules r = Open();
  r.threshold = 100;
  auto e = Engine(r);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_DOUBLE_EQ(e->OnHit(Hit("198.18.0.9", 1, ""), kT0).score, i);
  }
}

// --- escalation and offenses ---

// The 1st, 2nd, 3rd and 4th listing last ladder[0], [1], [2], [2] after the
// last hit, for generated ladders; hits while listed extend the listing.
TEST(RulesTest, EscalationLadder) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 30; ++round) {
    ListRules r = Open();
    r.threshold = 1;
    r.window = 60;
    r.offense_memory = 365 * kDay;
    const std::size_t steps = 1 + rng() % 4;
    r.listing.clear();
    std::int64_t d = 1 + static_cast<std::int64_t>(rng() % 7200);
    for (std::size_t i = 0; i < steps; ++i) {
      r.listing.push_back(d);
      d += static_cast<std::int64_t>(rng() % 100000);
    }
    auto e = Engine(r);
    std::int64_t now = kT0;
    for (std::uint32_t offense = 1; offense <= 6; ++offense) {
      const std::int64_t dur = r.listing[std::min<std::size_t>(offense, steps) - 1];
      const Decision first = e->OnHit(Hit("203.0.113.9", 1, absl::StrCat("m", now)), now);
      ASSERT_TRUE(first.listing.has_value());
      EXPECT_EQ(first.listing->offenses, offense);
      EXPECT_EQ(first.listing->expires, now + dur);
      // A later hit extends to that hit + the same duration.
      const std::int64_t later = now + std::min<std::int64_t>(dur - 1, 30);
      const Decision ext = e->OnHit(Hit("203.0.113.9", 2, absl::StrCat("n", now)), later);
      if (later > now) {
        ASSERT_TRUE(ext.listing.has_value());
        EXPECT_EQ(ext.listing->expires, later + dur);
        EXPECT_EQ(ext.listing->offenses, offense);
        EXPECT_EQ(ext.listing->first_seen, now);
        EXPECT_EQ(ext.listing->last_seen, later);
      }
      now = std::max(now, later) + dur + 1 + 60;  // expired, hits out of the window
      EXPECT_DOUBLE_EQ(e->Score(S("203.0.113.9"), now), 0);
    }
    EXPECT_EQ(e->stats().listings, 6u);
  }
}

// The offense count survives the listing for offense_memory after it ended:
// a listing at end + memory - 1 is the 2nd, at end + memory the 1st again.
TEST(RulesTest, OffensesForgottenAfterMemory) {
  for (std::int64_t memory : {0L, 1L, 3600L, 30 * kDay}) {
    for (std::int64_t delta : {-1L, 0L, 1L}) {
      if (memory + delta < 1) continue;
      ListRules r = Open();
      r.threshold = 1;
      r.window = 10;
      r.listing = {100, 1000};
      r.offense_memory = memory;
      auto e = Engine(r);
      const Decision a = e->OnHit(Hit("192.0.2.44", 1, "a"), kT0);
      ASSERT_TRUE(a.listing);
      const std::int64_t end = a.listing->expires;
      const Decision b = e->OnHit(Hit("192.0.2.44", 1, "b"), end + memory + delta);
      ASSERT_TRUE(b.listing);
      const bool remembered = delta < 0;
      EXPECT_EQ(b.listing->offenses, remembered ? 2u : 1u) << memory << " " << delta;
      EXPECT_EQ(b.listing->expires, end + memory + delta + (remembered ? 1000 : 100));
    }
  }
}

// --- whitelists and never-list ranges ---

TEST(RulesTest, WhitelistCidrAndDomain) {
  ListRules r = Open();
  r.threshold = 1;
  r.whitelist = {S("198.51.100.0/24"), S("2001:db8:aa::/48"), S(".example.org"),
                 S("mail.example.com"), S("2001:db8:1:2::25")};
  auto e = Engine(r);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    const std::string in = absl::StrCat("198.51.100.", rng() % 256);
    const Decision d = e->OnHit(Hit(in, 1, absl::StrCat("m", i)), kT0 + i);
    EXPECT_EQ(d.hit, Decision::Hit::kWhitelisted) << in;
    EXPECT_FALSE(d.listing.has_value());
    EXPECT_NE(d.explanation.find("198.51.100.0/24 (config)"), std::string::npos);
    const std::string v6 =
        absl::StrCat("2001:db8:aa:", absl::Hex(rng() % 65536), "::", absl::Hex(rng() % 65535 + 1));
    EXPECT_EQ(e->OnHit(Hit(v6, 1, "x"), kT0).hit, Decision::Hit::kWhitelisted) << v6;
    // v4-mapped IPv6 is the IPv4 address.
    EXPECT_EQ(e->OnHit(Hit(absl::StrCat("::ffff:", in), 1, "y"), kT0).hit,
              Decision::Hit::kWhitelisted);
  }
  // Just outside the block: listed.
  EXPECT_TRUE(e->OnHit(Hit("198.51.101.1", 1, "o"), kT0).listing.has_value());
  EXPECT_TRUE(e->OnHit(Hit("198.51.99.255", 1, "o"), kT0).listing.has_value());
  // A whitelisted host inside a source /64 keeps the /64 off the list.
  EXPECT_EQ(e->OnHit(Hit("2001:db8:1:2::99", 1, "z"), kT0).hit, Decision::Hit::kWhitelisted);
  // Names match the verified host name, never the HELO.
  for (std::string_view name : {"example.org", "mx.example.org", "A.B.Example.Org.",
                                "mail.example.com", "MAIL.example.com"}) {
    TrapHit h = Hit("192.0.2.200", 1, "n");
    h.helo = std::string(name);
    EXPECT_EQ(e->OnHit(h, kT0, name).hit, Decision::Hit::kWhitelisted) << name;
  }
  for (std::string_view name : {"badexample.org", "example.com", "x.mail.example.com", ""}) {
    EXPECT_NE(e->OnHit(Hit("192.0.2.201", 1, "n"), kT0, name).hit, Decision::Hit::kWhitelisted)
        << name;
  }
  TrapHit forged = Hit("192.0.2.202", 1, "f");
  forged.helo = "mx.example.org";
  const Decision f = e->OnHit(forged, kT0);
  EXPECT_EQ(f.hit, Decision::Hit::kRecorded);
  EXPECT_TRUE(f.listing.has_value());
}

struct Range {
  const char* net;
  std::uint32_t bit;  // 0: own_mx
};
const Range kRanges[] = {
    {"10.0.0.0/8", kNeverPrivate},
    {"172.16.0.0/12", kNeverPrivate},
    {"192.168.0.0/16", kNeverPrivate},
    {"fc00::/7", kNeverPrivate},
    {"127.0.0.0/8", kNeverLoopback},
    {"::1/128", kNeverLoopback},
    {"169.254.0.0/16", kNeverLinkLocal},
    {"fe80::/10", kNeverLinkLocal},
    {"192.0.2.25/32", 0},
    {"2001:db8:25::/48", 0},
};

// A random address inside `net`, and the first addresses just outside it.
dns::IpAddress Inside(const Subject& net, std::mt19937_64& rng) {
  dns::IpAddress r = net.addr.is_v4() ? dns::IpAddress::V4(static_cast<std::uint32_t>(rng()))
                                      : dns::IpAddress::V6(rng(), rng());
  // Copy the network's bits over the random address.
  std::array<std::uint8_t, 16> b{};
  const auto nb = net.addr.bytes();
  const auto rb = r.bytes();
  for (std::size_t i = 0; i < nb.size(); ++i) {
    const std::size_t first = i * 8;
    std::uint8_t mask = 0;
    if (net.len >= first + 8) {
      mask = 0xff;
    } else if (net.len > first) {
      mask = static_cast<std::uint8_t>(0xff00u >> (net.len - first));
    }
    b[i] = static_cast<std::uint8_t>((nb[i] & mask) | (rb[i] & ~mask));
  }
  if (net.addr.is_v4()) {
    return dns::IpAddress::V4((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                              (std::uint32_t{b[2]} << 8) | b[3]);
  }
  return dns::IpAddress::V6(std::span<const std::uint8_t, 16>(b));
}

// Every never-list range, on random addresses inside (and v4-mapped for
// IPv4): only counted when the range is on, listed when it is off; own_mx
// hosts are never listed.
TEST(RulesTest, NeverListRanges) {
  std::mt19937_64 rng(5);
  for (const Range& range : kRanges) {
    const Subject net = S(range.net);
    for (bool on : {true, false}) {
      ListRules r = Open();
      r.threshold = 1;
      r.ipv6_prefix = 128;
      r.never_list = on ? std::uint32_t{kNeverAll} : 0u;
      if (range.bit == 0 && on) r.own_mx = {S("192.0.2.25"), S("2001:db8:25::/48")};
      if (range.bit != 0 && on) r.never_list = range.bit;
      auto e = Engine(r);
      for (int i = 0; i < 50; ++i) {
        const dns::IpAddress a = Inside(net, rng);
        const Decision d = e->OnHit(Hit(a.ToString(), 1, absl::StrCat("m", i)), kT0 + i);
        EXPECT_EQ(d.hit, on ? Decision::Hit::kNeverList : Decision::Hit::kRecorded)
            << range.net << " " << a.ToString();
        EXPECT_EQ(d.listing.has_value(), !on) << a.ToString();
        if (on) {
          EXPECT_NE(d.explanation.find("never listed"), std::string::npos);
          const auto lines = e->Explain(Subject::Ip(a, a.bits()), kT0);
          EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
            return l.find("never listed") != std::string::npos;
          }));
        }
        if (a.is_v4()) {
          const dns::IpAddress mapped = *dns::IpAddress::Parse("::ffff:" + a.ToString());
          const Decision m = e->OnHit(Hit(mapped.ToString(), 1, "v4m"), kT0);
          EXPECT_EQ(m.hit == Decision::Hit::kNeverList, on) << mapped.ToString();
          EXPECT_EQ(m.source, Subject::Ip(a, 32));
        }
      }
    }
  }
  // The default lists none of the ranges and every address outside them.
  ListRules r;
  r.name = "traps";
  r.threshold = 1;
  auto e = Engine(r);
  EXPECT_EQ(e->OnHit(Hit("127.0.0.7", 1, "a"), kT0).hit, Decision::Hit::kNeverList);
  EXPECT_EQ(e->OnHit(Hit("172.32.0.1", 1, "a"), kT0).hit, Decision::Hit::kRecorded);
  EXPECT_EQ(e->OnHit(Hit("172.15.255.255", 1, "a"), kT0).hit, Decision::Hit::kRecorded);
  EXPECT_EQ(e->OnHit(Hit("fec0::1", 1, "a"), kT0).hit, Decision::Hit::kRecorded);
  EXPECT_EQ(e->OnHit(Hit("2001:db8::1", 1, "a"), kT0).hit, Decision::Hit::kRecorded);
  // A source network (IPv6 /64 by default) containing a never-list address
  // is never listed either: ::/64 holds ::1.
  EXPECT_EQ(e->OnHit(Hit("::2", 1, "a"), kT0).hit, Decision::Hit::kNeverList);
  EXPECT_EQ(e->stats().never_list, 2u);
}

// --- trap reputation ---

// Each delist multiplies the weight of the traps that listed the source by
// trap_penalty, down to trap_weight_min; weights recover at 1 per
// trap_recovery, or never.
TEST(RulesTest, TrapReputationDecaysToFloorAndRecovers) {
  for (double penalty : {0.0, 0.25, 0.5, 0.9, 1.0}) {
    for (double floor : {0.0, 0.1, 0.5, 1.0}) {
      ListRules r = Open();
      r.threshold = 1;
      r.trap_penalty = penalty;
      r.trap_weight_min = floor;
      r.trap_recovery = 0;
      auto e = Engine(r);
      const TrapHash trap = Hit("192.0.2.1", 7, "").trap;
      const TrapHash other = Hit("192.0.2.1", 8, "").trap;
      double expect = 1;
      for (int k = 1; k <= 8; ++k) {
        const std::string src = absl::StrCat("203.0.113.", k);
        const std::int64_t now = kT0 + k * 10;
        const Decision d = e->OnHit(Hit(src, 7, absl::StrCat("m", k)), now);
        e->OnHit(Hit(src, 7, absl::StrCat("n", k)), now);  // until listed at weight < 1
        (void)d;
        e->OnOperatorDelist(S(src), now);
        expect = std::min(expect, std::max(floor, expect * penalty));
        EXPECT_NEAR(e->TrapWeight(trap, now), expect, 1e-12) << penalty << " " << floor << " " << k;
      }
      EXPECT_DOUBLE_EQ(e->TrapWeight(other, kT0), 1.0);
      EXPECT_NEAR(e->TrapWeight(trap, kT0 + 1000 * kDay), expect, 1e-12);  // never recovers
    }
  }
  // Recovery: linear, 1 per trap_recovery, capped at 1.
  ListRules r = Open();
  r.threshold = 1;
  r.trap_penalty = 0.5;
  r.trap_weight_min = 0.1;
  r.trap_recovery = 10 * kDay;
  auto e = Engine(r);
  e->OnHit(Hit("203.0.113.1", 1, "a"), kT0);
  const Decision w = e->OnWhitelist(S("203.0.113.1"), kT0);
  EXPECT_NE(w.explanation.find("1 trap(s) lose weight"), std::string::npos) << w.explanation;
  const TrapHash trap = Hit("192.0.2.1", 1, "").trap;
  EXPECT_DOUBLE_EQ(e->TrapWeight(trap, kT0), 0.5);
  EXPECT_DOUBLE_EQ(e->TrapWeight(trap, kT0 + 2 * kDay), 0.7);
  EXPECT_DOUBLE_EQ(e->TrapWeight(trap, kT0 + 5 * kDay), 1.0);
  EXPECT_DOUBLE_EQ(e->TrapWeight(trap, kT0 + 50 * kDay), 1.0);
  // The whitelisted source is now only counted; a penalized trap counts less.
  EXPECT_EQ(e->OnHit(Hit("203.0.113.1", 1, "b"), kT0).hit, Decision::Hit::kWhitelisted);
  const Decision d = e->OnHit(Hit("203.0.113.2", 1, "c"), kT0);
  EXPECT_DOUBLE_EQ(d.score, 0.5);
  EXPECT_FALSE(d.listing.has_value());
  EXPECT_DOUBLE_EQ(e->OnHit(Hit("203.0.113.2", 2, "d"), kT0).score, 1.5);
  e->OnWhitelistRemoved(S("203.0.113.1"));
  EXPECT_EQ(e->OnHit(Hit("203.0.113.1", 2, "e"), kT0).hit, Decision::Hit::kRecorded);
}

// An operator delist withdraws the offense it ended and forgets the hits:
// the next listing is the 1st again, and needs the full threshold.
TEST(RulesTest, OperatorDelistWithdrawsTheOffense) {
  ListRules r = Open();
  r.threshold = 2;
  r.trap_penalty = 1;  // weights unchanged: only the offense matters here
  auto e = Engine(r);
  e->OnHit(Hit("203.0.113.5", 1, "a"), kT0);
  ASSERT_TRUE(e->OnHit(Hit("203.0.113.5", 2, "b"), kT0).listing);
  const Decision del = e->OnOperatorDelist(S("203.0.113.0/24"), kT0 + 10);
  EXPECT_NE(del.explanation.find("203.0.113.5"), std::string::npos) << del.explanation;
  EXPECT_DOUBLE_EQ(e->Score(S("203.0.113.5"), kT0 + 10), 0);
  EXPECT_FALSE(e->OnHit(Hit("203.0.113.5", 1, "c"), kT0 + 20).listing);
  const Decision again = e->OnHit(Hit("203.0.113.5", 2, "d"), kT0 + 20);
  ASSERT_TRUE(again.listing);
  EXPECT_EQ(again.listing->offenses, 1u);
  EXPECT_EQ(again.listing->expires, kT0 + 20 + kHour);
}

// --- memory bounds ---

TEST(RulesTest, SourcesCappedWithCountedEviction) {
  for (std::uint64_t cap : {1u, 2u, 8u, 100u}) {
    ListRules r = Open();
    r.threshold = 2;
    r.max_sources = cap;
    auto e = Engine(r);
    // A listed source survives the eviction of idle ones.
    e->OnHit(Hit("192.0.2.1", 1, "a"), kT0);
    e->OnHit(Hit("192.0.2.1", 2, "b"), kT0);
    std::uint64_t added = 1;
    for (std::uint32_t i = 0; i < 3 * cap + 5; ++i) {
      e->OnHit(Hit(dns::IpAddress::V4(0xcb007100u + i).ToString(), 1, "x"), kT0 + 1 + i);
      ++added;
      EXPECT_LE(e->source_count(), cap);
    }
    EXPECT_EQ(e->stats().evicted, added - e->source_count());
    if (cap >= 2) {
      EXPECT_NE(e->Explain(S("192.0.2.1"), kT0 + 100).back().find("listed until"),
                std::string::npos);
    }
  }
}

TEST(RulesTest, HitsPerSourceCapped) {
  for (std::uint32_t cap : {1u, 2u, 5u, 64u}) {
    ListRules r = Open();
    r.threshold = 1e6;
    r.max_hits = cap;
    auto e = Engine(r);
    for (std::uint32_t i = 1; i <= 3 * cap; ++i) {
      const Decision d = e->OnHit(Hit("192.0.2.1", 1, absl::StrCat("m", i)), kT0 + i);
      EXPECT_DOUBLE_EQ(d.score, std::min(i, cap));
    }
    EXPECT_EQ(e->stats().hits_dropped, 2u * cap);
  }
}

// --- state ---

// Sweep drops what no longer matters and its deletions keep the image equal
// to the state.
TEST(RulesTest, SweepForgetsIdleSourcesAndRecoveredTraps) {
  ListRules r = Open();
  r.threshold = 1;
  r.listing = {100};
  r.offense_memory = 1000;
  r.window = 60;
  r.trap_recovery = 50;
  auto e = Engine(r);
  Image img;
  Apply(&img, e->OnHit(Hit("192.0.2.1", 1, "a"), kT0).writes);
  Apply(&img, e->OnHit(Hit("192.0.2.2", 1, "a"), kT0).writes);
  Apply(&img, e->OnOperatorDelist(S("192.0.2.2"), kT0).writes);
  EXPECT_EQ(img, ImageOf(e->Snapshot()));
  Apply(&img, e->Sweep(kT0 + 10));
  EXPECT_EQ(img, ImageOf(e->Snapshot()));
  EXPECT_EQ(e->source_count(), 1u);  // 192.0.2.2 has nothing left to remember
  Apply(&img, e->Sweep(kT0 + 100 + 1000));
  EXPECT_EQ(img, ImageOf(e->Snapshot()));
  EXPECT_EQ(e->source_count(), 0u);
  EXPECT_TRUE(img.empty());
}

TEST(RulesTest, ExplainJustifiesTheState) {
  ListRules r = Open();
  r.whitelist = {S("198.51.100.0/24")};
  auto e = Engine(r);
  for (int i = 1; i <= 3; ++i) e->OnHit(Hit("203.0.113.7", i, absl::StrCat("m", i)), kT0 + i);
  e->OnHit(Hit("203.0.113.7", 9, "m3"), kT0 + 3);
  const auto lines = e->Explain(S("203.0.113.7"), kT0 + 10);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  for (const char* want :
       {"list traps: listed when the score over 1h reaches 3.00", "listing 1h, 1d, 7d",
        "hit 2027-01-15T08:00:01Z trap", "weight 1.00", "same message: counted once",
        "score 3.00 of threshold 3.00 (3 message(s) in the last 1h)",
        "listed until 2027-01-15T09:00:03Z (offense 1"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << "\n" << all;
  }
  // The trap hash prefix, in hex.
  const TrapHash t2 = HashTrapAddress("trap2@example.org");
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", t2[0], t2[1], t2[2], t2[3]);
  EXPECT_NE(all.find(hex), std::string::npos) << all;
  e->OnHit(Hit("198.51.100.4", 1, "w"), kT0);
  const auto wl = e->Explain(S("198.51.100.4"), kT0);
  std::string w;
  for (const auto& l : wl) w += l + "\n";
  EXPECT_NE(w.find("whitelisted by 198.51.100.0/24 (config)"), std::string::npos) << w;
  EXPECT_NE(w.find("1 hit(s) only counted"), std::string::npos) << w;
  // After the listing ends, the offense is explained with its forgetting time.
  const auto later = e->Explain(S("203.0.113.7"), kT0 + 2 * kDay);
  EXPECT_NE(later.back().find("1 offense(s)"), std::string::npos) << later.back();
  EXPECT_NE(later.back().find("next listing 1d"), std::string::npos) << later.back();
  EXPECT_NE(e->Explain(S("192.0.2.99"), kT0).back().find("never listed"), std::string::npos);
  // Names: whitelisted names say so; an address whitelist does not match a name.
  ListRules n = Open();
  n.whitelist = {S("::/0"), S(".example.org")};
  auto ne = Engine(n);
  EXPECT_NE(ne->Explain(S("mx.example.org"), kT0).back().find("whitelisted by .example.org"),
            std::string::npos);
  EXPECT_NE(ne->Explain(S("example.net"), kT0).back().find("not names"), std::string::npos);
}

TEST(RulesTest, RestoreRejectsCorruptRecords) {
  ListRules r = Open();
  r.threshold = 1;
  auto e = Engine(r);
  e->OnHit(Hit("192.0.2.1", 1, "a"), kT0);
  e->OnOperatorDelist(S("192.0.2.1"), kT0);
  e->OnHit(Hit("192.0.2.1", 1, "a"), kT0);
  const auto snap = e->Snapshot();
  ASSERT_EQ(snap.size(), 3u);  // hits, traps, sources
  for (std::size_t i = 0; i < snap.size(); ++i) {
    for (std::size_t cut = 0; cut < snap[i].value->size(); ++cut) {
      auto bad = snap;
      bad[i].value->resize(cut);
      auto f = Engine(r);
      const absl::Status st = f->Restore(bad);
      EXPECT_FALSE(st.ok()) << i << " " << cut;
      EXPECT_NE(st.message().find(snap[i].key), std::string::npos) << st;
      EXPECT_EQ(f->source_count(), 0u);
    }
    auto longer = snap;
    longer[i].value->push_back('x');
    EXPECT_FALSE(Engine(r)->Restore(longer).ok());
  }
  // Records of another list are not this engine's.
  auto other = snap;
  for (auto& rec : other) rec.key = "other" + rec.key.substr(5);
  auto f = Engine(r);
  EXPECT_TRUE(f->Restore(other).ok());
  EXPECT_EQ(f->source_count(), 0u);
}

// Records with random bytes flipped, cut or appended (a damaged store) are
// refused or taken, never a crash; an engine restored from them goes on
// deciding.
TEST(RulesTest, RestoreSurvivesDamagedRecords) {
  ListRules r = Open();
  r.threshold = 2;
  auto e = Engine(r);
  for (int i = 0; i < 20; ++i) {
    e->OnHit(Hit(absl::StrCat("192.0.2.", i % 5), i % 3, absl::StrCat("m", i)), kT0 + i);
  }
  e->OnOperatorDelist(S("192.0.2.1"), kT0 + 30);
  const auto snap = e->Snapshot();
  std::mt19937_64 rng(17);
  int refused = 0;
  for (int round = 0; round < 3000; ++round) {
    auto bad = snap;
    StateRecord& rec = bad[rng() % bad.size()];
    std::string& v = *rec.value;
    switch (rng() % 4) {
      case 0:
        v[rng() % v.size()] = static_cast<char>(rng());
        break;
      case 1:
        v.resize(rng() % v.size());
        break;
      case 2:
        v.append(1 + rng() % 64, static_cast<char>(rng()));
        break;
      default:
        rec.key.resize(rng() % rec.key.size());
    }
    auto f = Engine(r);
    if (!f->Restore(bad).ok()) {
      ++refused;
      EXPECT_EQ(f->source_count(), 0u);
    }
    f->OnHit(Hit("192.0.2.1", 1, "after"), kT0 + 40);
    f->Sweep(kT0 + 50);
    f->Explain(S("192.0.2.2"), kT0 + 50);
  }
  EXPECT_GT(refused, 1000);
}

// --- generated sequences ---

// A reference model of the rules, written from the documentation: all hits
// kept forever, the score recomputed from scratch.
class Reference {
 public:
  explicit Reference(ListRules r) : r_(std::move(r)) {}

  struct Out {
    Decision::Hit hit;
    double score;
    std::optional<Listing> listing;
  };

  Out OnHit(const std::string& src, int trap, const std::string& msg, std::int64_t time,
            std::int64_t now) {
    Src& s = src_[src];
    const std::int64_t t = (time <= 0 || time > now) ? now : time;
    if (s.until != 0 && s.until <= now && now - s.until >= r_.offense_memory) {
      s.offenses = 0;
      s.until = 0;
    }
    if (t <= now - r_.window) return {Decision::Hit::kTooOld, Score(s, now), std::nullopt};
    bool dup = false;
    for (const auto& h : s.hits) {
      if (!msg.empty() && h.msg == msg && h.t > now - r_.window) dup = true;
    }
    s.hits.push_back({t, msg, trap});
    Out out{dup ? Decision::Hit::kDuplicate : Decision::Hit::kRecorded, Score(s, now), {}};
    auto ladder = [&](std::uint32_t n) {
      return r_
          .listing[std::min<std::size_t>(std::max<std::uint32_t>(n, 1), r_.listing.size()) - 1];
    };
    if (s.until > now) {
      const std::int64_t until = std::max(s.until, t + ladder(s.offenses));
      if (until != s.until || t > s.last) {
        s.until = until;
        s.last = std::max(s.last, t);
        out.listing = Make(src, s);
      }
    } else if (out.score >= r_.threshold - 1e-9 && t + ladder(s.offenses + 1) > now) {
      ++s.offenses;
      s.first = now;
      for (const auto& h : s.hits) {
        if (h.t > now - r_.window) s.first = std::min(s.first, h.t);
      }
      s.last = t;
      s.until = t + ladder(s.offenses);
      out.listing = Make(src, s);
    }
    return out;
  }

 private:
  struct H {
    std::int64_t t;
    std::string msg;
    int trap;
  };
  struct Src {
    std::vector<H> hits;
    std::uint32_t offenses = 0;
    std::int64_t first = 0, last = 0, until = 0;
  };
  double Score(const Src& s, std::int64_t now) const {
    std::set<std::string> msgs;
    double score = 0;
    for (const auto& h : s.hits) {
      if (h.t <= now - r_.window) continue;
      if (h.msg.empty()) {
        score += 1;
      } else if (msgs.insert(h.msg).second) {
        score += 1;
      }
    }
    return score;
  }
  Listing Make(const std::string& src, const Src& s) const {
    Listing l;
    l.subject = S(src);
    l.code = r_.code;
    l.reason = r_.reason;
    l.origin = Origin::kRule;
    l.origin_id = r_.name;
    l.first_seen = s.first;
    l.last_seen = s.last;
    l.expires = s.until;
    l.offenses = s.offenses;
    return l;
  }
  ListRules r_;
  std::map<std::string, Src> src_;
};

// Random hit sequences (sources, traps, messages shared by several traps,
// late and future hit times, time jumps past windows, listings and offense
// memory) decide exactly as the reference model; at random points the
// engine is rebuilt from its records (the writes applied one by one, and
// Snapshot) and goes on deciding the same; the writes always equal the
// snapshot.
TEST(RulesTest, RandomSequencesMatchReferenceAndSurviveRestore) {
  std::mt19937_64 rng(2026);
  for (int round = 0; round < 60; ++round) {
    ListRules r = Open();
    r.threshold = static_cast<double>(1 + rng() % 5) - (rng() % 3 == 0 ? 0.5 : 0.0);
    r.window = 10 + static_cast<std::int64_t>(rng() % 500);
    r.listing.clear();
    std::int64_t d = 5 + static_cast<std::int64_t>(rng() % 300);
    for (std::size_t i = 0, n = 1 + rng() % 4; i < n; ++i) {
      r.listing.push_back(d);
      d += static_cast<std::int64_t>(rng() % 1000);
    }
    r.offense_memory = static_cast<std::int64_t>(rng() % 3000);
    r.ipv6_prefix = 128;
    auto e = Engine(r);
    Reference ref(r);
    Image img;
    std::int64_t now = kT0;
    for (int step = 0; step < 400; ++step) {
      switch (rng() % 10) {
        case 0:
          now += r.window + static_cast<std::int64_t>(rng() % 2000);
          break;
        case 1:
        case 2:
          now += static_cast<std::int64_t>(rng() % 60);
          break;
        default:
          break;
      }
      const std::string src = rng() % 2 ? absl::StrCat("203.0.113.", rng() % 4)
                                        : absl::StrCat("2001:db8::", rng() % 3 + 1);
      const int trap = static_cast<int>(rng() % 6);
      const std::string msg = rng() % 4 == 0 ? "" : absl::StrCat("q", rng() % 12);
      std::int64_t time = 0;
      switch (rng() % 4) {
        case 0:
          time = now - static_cast<std::int64_t>(
                           rng() % static_cast<std::uint64_t>(r.window + r.window / 4 + 1));
          break;
        case 1:
          time = now + 5;  // in the future: taken as now
          break;
        default:
          time = now;
      }
      const Decision got = e->OnHit(Hit(src, trap, msg, time), now);
      const Reference::Out want = ref.OnHit(src, trap, msg, time, now);
      ASSERT_EQ(got.hit, want.hit) << round << ":" << step << " " << got.explanation;
      ASSERT_NEAR(got.score, want.score, 1e-9) << round << ":" << step;
      ASSERT_EQ(got.listing, want.listing) << round << ":" << step << " " << got.explanation;
      Apply(&img, got.writes);
      if (rng() % 20 == 0) Apply(&img, e->Sweep(now));
      ASSERT_EQ(img, ImageOf(e->Snapshot())) << round << ":" << step;
      if (rng() % 25 == 0) {
        auto restored = Engine(r);
        ASSERT_TRUE(restored->Restore(rng() % 2 ? Records(img) : e->Snapshot()).ok());
        ASSERT_EQ(ImageOf(restored->Snapshot()), img);
        e = std::move(restored);
      }
    }
  }
}

// Restored engines decide like the original also with trap reputations,
// whitelists and delists in the sequence: two engines, one restored from the
// image at every step, give identical decisions.
TEST(RulesTest, RestoredEngineDecidesTheSame) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 20; ++round) {
    ListRules r = Open();
    r.threshold = 2.5;
    r.window = 300;
    r.trap_recovery = 1000;
    r.trap_penalty = 0.5;
    r.trap_weight_min = 0.2;
    auto a = Engine(r);
    Image img;
    std::int64_t now = kT0;
    for (int step = 0; step < 200; ++step) {
      now += static_cast<std::int64_t>(rng() % 40);
      auto b = Engine(r);
      ASSERT_TRUE(b->Restore(Records(img)).ok());
      const std::string src = absl::StrCat("198.18.", rng() % 2, ".", rng() % 3);
      Decision da;
      Decision db;
      switch (rng() % 12) {
        case 0:
          da = a->OnOperatorDelist(S(src), now);
          db = b->OnOperatorDelist(S(src), now);
          break;
        case 1:
          da = a->OnWhitelist(S(src), now);
          db = b->OnWhitelist(S(src), now);
          a->OnWhitelistRemoved(S(src));  // keep the sources listable
          b->OnWhitelistRemoved(S(src));
          break;
        default: {
          const TrapHit h = Hit(src, static_cast<int>(rng() % 4), absl::StrCat("m", rng() % 30));
          da = a->OnHit(h, now);
          db = b->OnHit(h, now);
        }
      }
      ASSERT_EQ(da.hit, db.hit);
      ASSERT_EQ(da.score, db.score);
      ASSERT_EQ(da.listing, db.listing);
      ASSERT_EQ(da.explanation, db.explanation);
      ASSERT_EQ(da.writes, db.writes);
      ASSERT_EQ(a->Explain(S(src), now), b->Explain(S(src), now));
      Apply(&img, da.writes);
      ASSERT_EQ(img, ImageOf(a->Snapshot()));
    }
  }
}

TEST(RulesTest, CreateRejectsInvalidRules) {
  ListRules r = Open();
  r.listing = {};
  EXPECT_FALSE(RuleEngine::Create(r).ok());
  r = Open();
  r.code = 1;
  EXPECT_FALSE(RuleEngine::Create(r).ok());
  r = Open();
  r.name = "Bad Name";
  EXPECT_FALSE(RuleEngine::Create(r).ok());
}

TEST(RulesTest, InvalidClientIsOnlyCounted) {
  auto e = Engine(Open());
  TrapHit h = Hit("192.0.2.1", 1, "a");
  h.client = dns::IpAddress();
  EXPECT_EQ(e->OnHit(h, kT0).hit, Decision::Hit::kInvalid);
  EXPECT_EQ(e->source_count(), 0u);
}

}  // namespace
}  // namespace meshbl::feed
