// Live lists in the table layer: the layered lookup (base + delta) against a
// reference model of the effective entry set, and Resolve() answering a zone
// from the OverlaySet (values, `$`, exclusions, empty non-terminals, glue).
#include "meshbl/table/live.h"

#include <map>
#include <optional>
#include <random>
#include <tuple>

#include "gtest/gtest.h"
#include "meshbl/table/swap.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Ask;
using testing::Labels;
using testing::MakeZoneSet;

LiveEntry Ip4Entry(std::uint32_t net, int len, std::optional<std::uint32_t> code) {
  LiveEntry e;
  e.kind = LiveEntry::Kind::kIp4;
  net = len == 0 ? 0 : net & (~0u << (32 - len));
  e.addr = {static_cast<std::uint8_t>(net >> 24), static_cast<std::uint8_t>(net >> 16),
            static_cast<std::uint8_t>(net >> 8), static_cast<std::uint8_t>(net)};
  e.len = static_cast<std::uint8_t>(len);
  e.excluded = !code.has_value();
  if (code) e.value.a = 0x7f000000 | *code;
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
    auto b = LiveLayer::Build("t", base_entries, 60);
    ASSERT_TRUE(b.ok()) << b.status();
    auto d = LiveLayer::Build("t", delta_entries, 60);
    ASSERT_TRUE(d.ok()) << d.status();
    t.base = *b;
    t.delta = *d;
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
        ASSERT_EQ(got.values.size(), 1u);
        const auto v = got.node->view.snapshot().values()[got.values[0]];
        EXPECT_EQ(v.a, 0x7f000000u | **want) << "round " << round << " addr " << std::hex << addr;
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
  e.excluded = !code.has_value();
  if (code) {
    e.value.a = 0x7f000000 | *code;
    if (!txt.empty()) e.value.txt = txt;
  }
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
  LiveTables t{*LiveLayer::Build("t", base, 60), *LiveLayer::Build("t", delta, 60)};
  auto code = [&](const std::string& n) -> int {
    const std::string l = Labels(n);
    auto m = LookupLiveName(t, {reinterpret_cast<const std::uint8_t*>(l.data()), l.size()});
    if (m.match == Match::kNone) return -1;
    if (m.match == Match::kExcluded) return 0;
    return static_cast<int>(m.node->view.snapshot().values()[m.values[0]].a & 0xff);
  };
  EXPECT_EQ(code("a.b.example.com"), 3);  // base exact beats delta wildcard b.example.com
  EXPECT_EQ(code("c.b.example.com"), 4);  // delta wildcard b (3 labels) beats base example.com
  EXPECT_EQ(code("x.example.com"), 0);    // tie at example.com: the delta's exclusion wins
  EXPECT_EQ(code("example.com"), 0);
  EXPECT_EQ(code("example.org"), -1);
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
  entries[0].value.txt = "listed: $";
  entries[1].value.a = 0xc0000235;  // 192.0.2.53
  auto layer = LiveLayer::Build("traps", entries, 300);
  ASSERT_TRUE(layer.ok()) << layer.status();
  OverlaySet os;
  os.lists.push_back(std::make_shared<LiveTables>(LiveTables{*layer, nullptr}));

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
