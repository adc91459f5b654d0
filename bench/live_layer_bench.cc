// live_layer_bench: the cost of a live list's layers (table/live.h) at the
// sizes of issue 11's targets, on one core.
//
//   build/bench/live_layer_bench [--entries=N] [--changes=C] [--reps=R]
//
// N random IPv4 /32s (seed 1) with one value:
//   * build: LiveLayer::Build of the N entries (a start-up base);
//   * merge: LiveLayer::Merge of that base with C changes (half new /32s,
//     a quarter replaced, a quarter removed): one compaction;
//   * delta: Build of 2048 entries (the largest per-tick delta layer);
//   * lookup: LookupLive4 over base + mid (C entries) + delta (2048), half of
//     the queries listed, in ns per lookup;
//   * bytes per entry of the base (its tables and ordered keys).
// Prints the median and range of R repetitions of each.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "meshbl/table/live.h"

namespace {

using meshbl::table::LiveEntry;
using meshbl::table::LiveLayer;
using meshbl::table::LiveTables;
using meshbl::table::LiveValues;
using Clock = std::chrono::steady_clock;

LiveEntry Entry(std::uint32_t a, std::uint32_t value) {
  LiveEntry e;
  e.addr = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
            static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
  e.len = 32;
  e.value = value;
  return e;
}

void Report(const char* what, std::vector<double> v, const char* unit) {
  std::sort(v.begin(), v.end());
  std::printf("%-8s %10.2f %s [%.2f..%.2f]\n", what, v[v.size() / 2], unit, v.front(), v.back());
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1000000, c = 125000;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--entries=", 10) == 0)
      n = std::strtoul(argv[i] + 10, nullptr, 10);
    else if (std::strncmp(argv[i], "--changes=", 10) == 0)
      c = std::strtoul(argv[i] + 10, nullptr, 10);
    else if (std::strncmp(argv[i], "--reps=", 7) == 0)
      reps = std::atoi(argv[i] + 7);
    else {
      std::fprintf(stderr, "usage: live_layer_bench [--entries=N] [--changes=C] [--reps=R]\n");
      return 2;
    }
  }
  auto values = std::make_shared<LiveValues>();
  meshbl::table::Value v;
  v.txt = "Listed by meshbl: $ hit spamtraps";
  const std::uint32_t id = values->Intern(v);
  std::mt19937 rng(1);
  std::vector<std::uint32_t> addrs(n);
  std::vector<LiveEntry> entries;
  entries.reserve(n);
  for (auto& a : addrs) {
    a = static_cast<std::uint32_t>(rng());
    entries.push_back(Entry(a, id));
  }
  std::vector<LiveEntry> changes;
  for (std::size_t i = 0; i < c; ++i) {
    const auto r = i % 4;
    if (r < 2)
      changes.push_back(Entry(static_cast<std::uint32_t>(rng()), id));
    else
      changes.push_back(Entry(addrs[rng() % n], r == 2 ? id : LiveEntry::kRemoved));
  }
  std::vector<LiveEntry> mid_entries;
  for (const LiveEntry& e : changes) {
    mid_entries.push_back(e);
    if (e.value == LiveEntry::kRemoved) mid_entries.back().value = LiveEntry::kExcluded;
  }
  std::vector<LiveEntry> delta_entries(
      changes.begin(),
      changes.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(2048, c)));
  std::vector<double> build, merge, delta, lookup, lookup_base;
  std::shared_ptr<const LiveLayer> base;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    auto b = LiveLayer::Build(entries, values, 60);
    auto t1 = Clock::now();
    auto m = LiveLayer::Merge(**b, changes);
    auto t2 = Clock::now();
    auto d = LiveLayer::Build(delta_entries, values, 60);
    auto t3 = Clock::now();
    build.push_back(Ms(t0, t1));
    merge.push_back(Ms(t1, t2));
    delta.push_back(Ms(t2, t3));
    LiveTables t{*b, *d, *LiveLayer::Build(mid_entries, values, 60)};
    constexpr std::size_t kQueries = 2000000;
    std::size_t listed = 0;
    // ns per lookup of `tables`; half the queries listed in the base.
    auto time_lookups = [&](const LiveTables& tables) {
      const auto start = Clock::now();
      for (std::size_t q = 0; q < kQueries; ++q) {
        const std::uint32_t a =
            q % 2 == 0 ? addrs[(q * 2654435761u) % n] : static_cast<std::uint32_t>(q * 2654435761u);
        listed += meshbl::table::LookupLive4(tables, a).match == meshbl::table::Match::kListed;
      }
      return Ms(start, Clock::now()) * 1e6 / kQueries;
    };
    lookup.push_back(time_lookups(t));
    lookup_base.push_back(time_lookups(LiveTables{*b, nullptr, nullptr}));
    if (listed == 0) std::printf("(no listed answer?)\n");
    base = *b;
  }
  std::printf("%zu entries, %zu changes, %d repetitions: median [min..max]\n", n, c, reps);
  Report("build", build, "ms");
  Report("merge", merge, "ms");
  Report("delta", delta, "ms");
  Report("lookup", lookup, "ns (base, mid and delta)");
  Report("lookup", lookup_base, "ns (the base alone)");
  std::printf("bytes    %10.2f per entry (base)\n",
              static_cast<double>(base->bytes()) / static_cast<double>(base->entries()));
  return 0;
}
