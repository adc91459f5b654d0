// Live lists in the table layer: the layered lookup (base + delta) against a
// reference model of the effective entry set, and Resolve() answering a zone
// from the OverlaySet (values, `$`, exclusions, empty non-terminals, glue).
#include "meshbl/table/live.h"

#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>

#include "gtest/gtest.h"
#include "meshbl/table/swap.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Ask;
using testing::Labels;
using testing::MakeZoneSet;

// The values of every layer built here.
const std::shared_ptr<LiveValues>& Values() {
  static const auto* v = new std::shared_ptr<LiveValues>(std::make_shared<LiveValues>());
  return *v;
}

std::uint32_t ValueId(std::optional<std::uint32_t> code, std::string txt = "") {
  if (!code) return LiveEntry::kExcluded;
  Value v;
  v.a = 0x7f000000 | *code;
  if (!txt.empty()) v.txt = txt;
  return Values()->Intern(v);
}

std::shared_ptr<const LiveLayer> Layer(const std::vector<LiveEntry>& entries,
                                       std::uint32_t ttl = 60) {
  auto l = LiveLayer::Build(entries, Values(), ttl);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *l : nullptr;
}

LiveEntry Ip4Entry(std::uint32_t net, int len, std::optional<std::uint32_t> code) {
  LiveEntry e;
  e.kind = LiveEntry::Kind::kIp4;
  net = len == 0 ? 0 : net & (~0u << (32 - len));
  e.addr = {static_cast<std::uint8_t>(net >> 24), static_cast<std::uint8_t>(net >> 16),
            static_cast<std::uint8_t>(net >> 8), static_cast<std::uint8_t>(net)};
  e.len = static_cast<std::uint8_t>(len);
  e.value = ValueId(code);
  return e;
}

// The effective set: (len, net) → code (nullopt = exclusion).
using Model = std::map<std::pair<int, std::uint32_t>, std::optional<std::uint32_t>>;

std::uint32_t Mask(std::uint32_t a, int len) { return len == 0 ? 0 : a & (~0u << (32 - len)); }

// Longest prefix of `m` covering `addr` with a length below `below`.
std::optional<std::optional<std::uint32_t>> Lpm(const Model& m, std::uint32_t addr, int below) {
  for (int len = below - 1; len >= 0; --len) {
    auto it = m.find({len, Mask(addr, len)});
    if (it != m.end()) return it->second;
  }
  return std::nullopt;
}

// Random bases and change sequences over a small address space (so that
// prefixes nest): every lookup through base + delta equals the longest
// prefix of the effective set, for additions, replacements, exclusions and
// deletions of nested and covering entries.
TEST(LiveLookupTest, BasePlusDeltaEqualsEffectiveSet) {
  std::mt19937 rng(11);
  const int kLens[] = {0, 8, 16, 20, 24, 28, 30, 32};
  auto random_prefix = [&] {
    const int len = kLens[rng() % std::size(kLens)];
    const std::uint32_t a = 0x0a000000u | (rng() & 0x0000ff0fu);  // 10.0.x.y, nested often
    return std::make_pair(len, Mask(a, len));
  };
  for (int round = 0; round < 60; ++round) {
    Model base_model;
    const int nbase = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < nbase; ++i) {
      std::optional<std::uint32_t> code =
          rng() % 5 == 0 ? std::nullopt : std::optional<std::uint32_t>(rng() % 200 + 2);
      base_model[random_prefix()] = code;
    }
    Model eff = base_model;
    std::map<std::pair<int, std::uint32_t>, bool> changed;  // deleted?
    const int nchanges = static_cast<int>(rng() % 30);
    for (int i = 0; i < nchanges; ++i) {
      auto k = random_prefix();
      if (rng() % 2 == 0 && !eff.empty()) {
        auto it = eff.begin();
        std::advance(it, rng() % eff.size());
        k = it->first;
        eff.erase(it);  // deletion of an existing entry
        changed[k] = true;
      } else {
        eff[k] = rng() % 6 == 0 ? std::nullopt : std::optional<std::uint32_t>(rng() % 200 + 2);
        changed[k] = false;
      }
    }
    std::vector<LiveEntry> base_entries, delta_entries;
    for (const auto& [k, code] : base_model)
      base_entries.push_back(Ip4Entry(k.second, k.first, code));
    for (const auto& [k, deleted] : changed) {
      if (eff.count(k)) {
        delta_entries.push_back(Ip4Entry(k.second, k.first, eff[k]));
      } else {
        // A deletion: what covers the subject once it is gone.
        auto cover = Lpm(eff, k.second, k.first);
        delta_entries.push_back(
            Ip4Entry(k.second, k.first, cover ? *cover : std::optional<std::uint32_t>()));
      }
    }
    LiveTables t;
    t.base = Layer(base_entries);
    t.delta = Layer(delta_entries);
    for (int q = 0; q < 400; ++q) {
      const std::uint32_t addr = 0x0a000000u | (rng() & 0x0000ffffu);
      const auto want = Lpm(eff, addr, 33);
      const LiveMatch got = LookupLive4(t, addr);
      if (!want.has_value()) {
        // Nothing covers it (a deletion with nothing under it reads as an
        // exclusion of the delta: not listed either way).
        EXPECT_NE(got.match, Match::kListed) << "round " << round << " addr " << std::hex << addr;
      } else if (!want->has_value()) {
        EXPECT_EQ(got.match, Match::kExcluded) << "round " << round << " addr " << std::hex << addr;
      } else {
        ASSERT_EQ(got.match, Match::kListed) << "round " << round << " addr " << std::hex << addr;
        ASSERT_NE(got.value, nullptr);
        EXPECT_EQ(got.value->a, 0x7f000000u | **want)
            << "round " << round << " addr " << std::hex << addr;
      }
    }
  }
}

LiveEntry NameEntry(const std::string& text, bool wildcard, std::optional<std::uint32_t> code,
                    std::string txt = "") {
  LiveEntry e;
  e.kind = LiveEntry::Kind::kName;
  e.name = Labels(text);
  e.wildcard = wildcard;
  e.value = ValueId(code, txt);
  return e;
}

// Names: the exact entry beats a wildcard; a longer wildcard base beats a
// shorter one; across layers the more specific wins and the delta a tie.
TEST(LiveLookupTest, NamesMostSpecificAcrossLayers) {
  std::vector<LiveEntry> base = {NameEntry("example.com", true, 2),
                                 NameEntry("example.com", false, 2),
                                 NameEntry("a.b.example.com", false, 3)};
  std::vector<LiveEntry> delta = {NameEntry("b.example.com", true, 4),
                                  NameEntry("example.com", true, std::nullopt),
                                  NameEntry("example.com", false, std::nullopt)};
  LiveTables t{Layer(base), Layer(delta), nullptr};
  auto code = [&](const std::string& n) -> int {
    const std::string l = Labels(n);
    auto m = LookupLiveName(t, {reinterpret_cast<const std::uint8_t*>(l.data()), l.size()});
    if (m.match == Match::kNone) return -1;
    if (m.match == Match::kExcluded) return 0;
    return static_cast<int>(m.value->a & 0xff);
  };
  EXPECT_EQ(code("a.b.example.com"), 3);  // base exact beats delta wildcard b.example.com
  EXPECT_EQ(code("c.b.example.com"), 4);  // delta wildcard b (3 labels) beats base example.com
  EXPECT_EQ(code("x.example.com"), 0);    // tie at example.com: the delta's exclusion wins
  EXPECT_EQ(code("example.com"), 0);
  EXPECT_EQ(code("example.org"), -1);
}

// A random entry of any kind over small spaces, so that subjects repeat.
LiveEntry RandomEntry(std::mt19937& rng) {
  LiveEntry e;
  switch (rng() % 3) {
    case 0: {
      const int len = static_cast<int>(rng() % 33);
      return Ip4Entry(0x0a000000u | (rng() & 0x00ff0f0fu), len, std::nullopt);
    }
    case 1: {
      e.kind = LiveEntry::Kind::kIp6;
      e.len = static_cast<std::uint8_t>(rng() % 129);
      e.addr[0] = 0x20;
      e.addr[1] = 0x01;
      e.addr[15] = static_cast<std::uint8_t>(rng() % 4);
      e.addr[7] = static_cast<std::uint8_t>(rng() % 4);
      // Host bits zero.
      for (unsigned b = e.len; b < 128; ++b)
        e.addr[b / 8] &= static_cast<std::uint8_t>(~(0x80u >> (b % 8)));
      return e;
    }
    default: {
      static const char* const kNames[] = {"a", "b.a", "c.b.a", "x.y", "\\000.y", "a\\.b.y"};
      e.kind = LiveEntry::Kind::kName;
      e.name = Labels(kNames[rng() % std::size(kNames)]);
      e.wildcard = rng() % 2 == 0;
      return e;
    }
  }
}

std::string KeyOf(const LiveEntry& e) {
  std::string k(1, static_cast<char>(e.kind));
  k.append(reinterpret_cast<const char*>(e.addr.data()), e.addr.size());
  k.push_back(static_cast<char>(e.len));
  k.push_back(e.wildcard ? '*' : '=');
  return k + e.name;
}

// Merge(Build(base), changes) holds exactly the entries of the base with
// the changes applied (a change's value replaces, kRemoved deletes, the
// first change of a subject wins), for every size from empty up, all kinds
// of entry mixed; and a lookup of every subject gives its value.
TEST(LiveMergeTest, MergeAppliesChangesToEveryKind) {
  std::mt19937 rng(5);
  for (const int nbase : {0, 1, 2, 7, 60, 500, 3000}) {
    for (const int nchanges : {0, 1, 3, 40, 700}) {
      std::map<std::string, LiveEntry> model;
      std::vector<LiveEntry> base, changes;
      for (int i = 0; i < nbase; ++i) {
        LiveEntry e = RandomEntry(rng);
        e.value = rng() % 5 == 0 ? LiveEntry::kExcluded : ValueId(rng() % 50 + 2);
        base.push_back(e);
        model.emplace(KeyOf(e), e);  // first wins, as in Build
      }
      std::set<std::string> changed;
      for (int i = 0; i < nchanges; ++i) {
        LiveEntry e = RandomEntry(rng);
        const auto r = rng() % 4;
        e.value = r == 0   ? LiveEntry::kRemoved
                  : r == 1 ? LiveEntry::kExcluded
                           : ValueId(rng() % 50 + 2);
        changes.push_back(e);
        if (!changed.insert(KeyOf(e)).second) continue;
        if (e.value == LiveEntry::kRemoved) {
          model.erase(KeyOf(e));
        } else {
          model[KeyOf(e)] = e;
        }
      }
      auto b = Layer(base);
      ASSERT_NE(b, nullptr);
      auto m = LiveLayer::Merge(*b, changes);
      ASSERT_TRUE(m.ok()) << m.status();
      std::map<std::string, std::uint32_t> got;
      (*m)->ForEach([&](const LiveEntry& e) { got[KeyOf(e)] = e.value; });
      std::map<std::string, std::uint32_t> want;
      for (const auto& [k, e] : model) want[k] = e.value;
      ASSERT_EQ(got, want) << nbase << " base entries, " << nchanges << " changes";
      EXPECT_EQ((*m)->entries(), want.size());
      // Its empty non-terminals are those of the same entries built afresh
      // (a merge merges the ordered keys instead of sorting them).
      std::vector<LiveEntry> result;
      for (const auto& [k, e] : model) result.push_back(e);
      auto ref = Layer(result);
      for (int q = 0; q < 100; ++q) {
        const LiveEntry p = RandomEntry(rng);
        std::uint64_t hi = 0, lo = 0;
        for (int i = 0; i < 8; ++i) {
          hi = hi << 8 | p.addr[static_cast<std::size_t>(i)];
          lo = lo << 8 | p.addr[static_cast<std::size_t>(8 + i)];
        }
        const auto a4 = static_cast<std::uint32_t>(hi >> 32);
        EXPECT_EQ((*m)->ListedInside4(a4, p.len % 33), ref->ListedInside4(a4, p.len % 33));
        EXPECT_EQ((*m)->ListedInside6(hi, lo, p.len), ref->ListedInside6(hi, lo, p.len));
        const std::span<const std::uint8_t> name(
            reinterpret_cast<const std::uint8_t*>(p.name.data()), p.name.size());
        EXPECT_EQ((*m)->ListedBelow(name), ref->ListedBelow(name));
      }
      // Every IPv4 subject reads back its own value from the merged layer.
      for (const auto& [k, e] : model) {
        if (e.kind != LiveEntry::Kind::kIp4) continue;
        const std::uint32_t a = (std::uint32_t{e.addr[0]} << 24) |
                                (std::uint32_t{e.addr[1]} << 16) | (std::uint32_t{e.addr[2]} << 8) |
                                e.addr[3];
        const auto hit = (*m)->Lpm4(a, e.len - 1, e.len);
        EXPECT_EQ(hit.spec, e.len);
        EXPECT_EQ(hit.val, e.value);
      }
    }
  }
}

// Empty non-terminals of a layer against brute force: a listed entry longer
// than the prefix inside it (IPv4 and IPv6), a listed name below a name;
// exclusions never make one.
TEST(LiveLayerTest, EmptyNonTerminalsAgainstBruteForce) {
  std::mt19937 rng(9);
  for (int round = 0; round < 30; ++round) {
    std::vector<LiveEntry> entries;
    const int n = 1 + static_cast<int>(rng() % 80);
    for (int i = 0; i < n; ++i) {
      LiveEntry e = RandomEntry(rng);
      e.value = rng() % 3 == 0 ? LiveEntry::kExcluded : ValueId(2);
      entries.push_back(e);
    }
    auto l = Layer(entries);
    ASSERT_NE(l, nullptr);
    std::map<std::string, LiveEntry> first;
    for (const LiveEntry& e : entries) first.emplace(KeyOf(e), e);
    for (int q = 0; q < 200; ++q) {
      LiveEntry p = RandomEntry(rng);
      bool want = false;
      for (const auto& [k, e] : first) {
        if (e.value == LiveEntry::kExcluded || e.kind != p.kind) continue;
        if (e.kind == LiveEntry::Kind::kName) {
          // p is a proper parent: e's labels from the second on.
          for (std::size_t off = 1u + static_cast<std::uint8_t>(e.name[0]); off < e.name.size();
               off += 1u + static_cast<std::uint8_t>(e.name[off])) {
            want |= e.name.compare(off, std::string::npos, p.name) == 0;
          }
          continue;
        }
        if (e.len <= p.len) continue;
        bool inside = true;
        for (unsigned b = 0; b < p.len; ++b) {
          inside &= ((e.addr[b / 8] ^ p.addr[b / 8]) & (0x80u >> (b % 8))) == 0;
        }
        want |= inside;
      }
      bool got = false;
      switch (p.kind) {
        case LiveEntry::Kind::kIp4:
          got =
              l->ListedInside4((std::uint32_t{p.addr[0]} << 24) | (std::uint32_t{p.addr[1]} << 16) |
                                   (std::uint32_t{p.addr[2]} << 8) | p.addr[3],
                               p.len);
          break;
        case LiveEntry::Kind::kIp6: {
          std::uint64_t hi = 0, lo = 0;
          for (int i = 0; i < 8; ++i) {
            hi = hi << 8 | p.addr[static_cast<std::size_t>(i)];
            lo = lo << 8 | p.addr[static_cast<std::size_t>(8 + i)];
          }
          got = l->ListedInside6(hi, lo, p.len);
          break;
        }
        case LiveEntry::Kind::kName:
          got =
              l->ListedBelow({reinterpret_cast<const std::uint8_t*>(p.name.data()), p.name.size()});
          break;
      }
      EXPECT_EQ(got, want) << "round " << round << " query " << q;
    }
  }
}

// Resolve() answers a live zone from the OverlaySet: A and TXT with `$`,
// NXDOMAIN for what is not listed, NODATA for a parent of a listed entry,
// nothing at all before the overlays are given, and glue for an NS name
// listed in a live list.
TEST(LiveResolveTest, ZoneServesItsLiveList) {
  SnapshotBuilder sb;
  auto* ds = sb.AdoptDataset(std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:x"));
  NsData ns;
  ns.ttl = 3600;
  ns.names.push_back(Labels("ns.live.example"));
  ds->SetNs(ns);
  ds->AddIp4Range(testing::Ip4("192.0.2.1"), testing::Ip4("192.0.2.1"), nullptr);
  sb.AddToZone(Labels("live.example"), ds);
  auto snap = Snapshot::FromImage(sb.Build(1700000000), "<test>");
  ASSERT_TRUE(snap.ok());
  LiveZone lz;
  const std::string zl = Labels("live.example");
  lz.name.assign(zl.begin(), zl.end());
  lz.slot = 0;
  auto zs = ZoneSet::Create({*snap}, nullptr, {}, std::span<const LiveZone>(&lz, 1));
  ASSERT_TRUE(zs.ok()) << zs.status();

  std::vector<LiveEntry> entries = {Ip4Entry(0x7f000007, 32, 2), NameEntry("ns", false, 10)};
  entries[0].value = ValueId(2, "listed: $");
  entries[1].value = Values()->Intern(Value{0xc0000235, std::nullopt});  // 192.0.2.53
  auto layer = Layer(entries, 300);
  ASSERT_NE(layer, nullptr);
  OverlaySet os;
  os.lists.push_back(std::make_shared<LiveTables>(LiveTables{layer, nullptr, nullptr}));

  const ZoneSet& z = **zs;
  EXPECT_EQ(Ask(z, "7.0.0.127.live.example", kTypeTxt, {}, {}, 1700000000, &os),
            "NOERROR TXT=listed: 127.0.0.7/300 | NS=ns.live.example/3600");
  EXPECT_EQ(Ask(z, "7.0.0.127.live.example", kTypeA, {}, {}, 1700000000, &os),
            "NOERROR A=127.0.0.2/300 | NS=ns.live.example/3600");
  EXPECT_EQ(Ask(z, "8.0.0.127.live.example", kTypeA, {}, {}, 1700000000, &os), "NXDOMAIN");
  EXPECT_EQ(Ask(z, "0.127.live.example", kTypeA, {}, {}, 1700000000, &os), "NOERROR");
  // Before the live tables are published the zone is not loaded: SERVFAIL.
  EXPECT_EQ(Ask(z, "7.0.0.127.live.example", kTypeA, {}, {}, 1700000000, nullptr), "SERVFAIL");
  OverlaySet empty;
  empty.lists.push_back(std::make_shared<LiveTables>());
  EXPECT_EQ(Ask(z, "7.0.0.127.live.example", kTypeA, {}, {}, 1700000000, &empty), "NXDOMAIN");

  // Glue for ns.live.example comes from the live list, at query time.
  static auto* answer = new Answer();
  const std::string qn = Labels("7.0.0.127.live.example");
  Query q;
  q.qname = {reinterpret_cast<const std::uint8_t*>(qn.data()), qn.size()};
  q.qtype = kTypeA;
  q.overlays = &os;
  Resolve(z, {}, q, answer);
  ASSERT_EQ(answer->additional_count, 1);
  const auto rd = answer->rdata(answer->additional[0]);
  ASSERT_EQ(rd.size(), 4u);
  EXPECT_EQ(rd[0], 192);
  EXPECT_EQ(rd[3], 53);
  EXPECT_TRUE(z.warnings().empty()) << z.warnings()[0];
}

// Per-zone identities survive a new ZoneSet that adds and reorders zones.
TEST(ZoneIdTest, StableAcrossZoneSets) {
  const std::string a = Labels("a.id-test"), b = Labels("b.id-test");
  const auto ida = ZoneIdOf({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()});
  const auto idb = ZoneIdOf({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
  EXPECT_NE(ida, idb);
  EXPECT_EQ(ZoneIdOf({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()}), ida);
  const auto name = ZoneNameOf(idb);
  EXPECT_EQ(std::string(name.begin(), name.end()), b);
  EXPECT_TRUE(ZoneNameOf(0xffffff).empty());
}

// The overlay holder: readers see each publish, and an old overlay stays
// valid until the reader refreshes.
TEST(OverlayHolderTest, ReadersPickUpPublishes) {
  OverlaySetHolder h;
  OverlaySetReader r(h);
  EXPECT_EQ(r.Refresh(), nullptr);
  auto a = std::make_shared<OverlaySet>();
  h.Publish(a);
  EXPECT_EQ(r.Refresh(), a.get());
  auto b = std::make_shared<OverlaySet>();
  h.Publish(b);
  EXPECT_EQ(r.get(), a.get());
  EXPECT_EQ(r.Refresh(), b.get());
  OverlaySetReader none(static_cast<const OverlaySetHolder*>(nullptr));
  EXPECT_EQ(none.Refresh(), nullptr);
}

}  // namespace
}  // namespace meshbl::table
