// Data-engine benchmarks (docs/PERFORMANCE.md records the figures):
//   BM_Ip4SetOpen            open + validate + first lookup of a 10M-entry snapshot
//   BM_Ip4SetFullRule        the full four-level ip4set rule, 10M entries, scalar
//   BM_Ip4SetFullRuleBatched the same rule, batched, /32 probes prefetched
//   BM_Ip4SetExact32Batched  /32 probes, 10M entries, batched and prefetched
//   BM_Ip4SetResolve         the whole Resolve() path (name parse, zone, TXT)
//   BM_DnSetLookup           dnset at 1M names
//   BM_CompileIp4Set         10M "/32" text lines -> snapshot image
// Every lookup benchmark probes half listed, half unlisted keys in random
// order and reports queries/s, allocs_per_query (counting operator new) and,
// where meaningful, bytes per entry.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/query.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/mapped_file.h"
#include "meshbl/zone/loader.h"
#include "tests/support/alloc_counter.h"

namespace meshbl::table {
namespace {

constexpr std::uint32_t kTenMillion = 10'000'000;
constexpr std::uint32_t kStride = 2654435761u;  // odd: i * kStride is a bijection mod 2^32

std::uint32_t Key(std::uint32_t i) { return i * kStride; }

// Half listed, half unlisted keys, shuffled.
std::vector<std::uint32_t> Probes(std::uint32_t listed, std::size_t n) {
  std::mt19937 rng(42);
  std::vector<std::uint32_t> p(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t r = static_cast<std::uint32_t>(rng() % listed);
    p[i] = (i % 2 == 0) ? Key(r) : Key(listed + r);
  }
  std::shuffle(p.begin(), p.end(), rng);
  return p;
}

struct Ip4Data {
  std::shared_ptr<const Snapshot> snap;
  std::shared_ptr<const ZoneSet> zones;
  std::unique_ptr<DatasetView> view;
  std::uint64_t entries = 0;
};

// 10M /32 entries; with `all_levels`, a few /24, /16 and /8 entries too so
// that the full rule has every level to consult.
std::unique_ptr<SnapshotBuilder> BuildIp4(bool all_levels) {
  auto b = std::make_unique<SnapshotBuilder>();
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:bench");
  Value v{0x7f000002, "listed $"};
  for (std::uint32_t i = 0; i < kTenMillion; ++i) ds->AddIp4Range(Key(i), Key(i), &v);
  if (all_levels) {
    Value w{0x7f000003, std::nullopt};
    for (std::uint32_t i = 0; i < 1000; ++i) {
      std::uint32_t a = Key(kTenMillion * 3 + i);
      ds->AddIp4Range(a & 0xffffff00u, a | 0xffu, &w);
      if (i < 100) ds->AddIp4Range(a & 0xffff0000u, a | 0xffffu, &w);
      if (i < 5) ds->AddIp4Range(a & 0xff000000u, a | 0xffffffu, &w);
    }
  }
  b->AddToZone(std::string("\2bl\4test"), b->AdoptDataset(std::move(ds)));
  return b;
}

const std::string& SnapshotPath(bool all_levels) {
  static std::string paths[2];
  std::string& p = paths[all_levels];
  if (p.empty()) {
    p = "/tmp/meshbl_bench_ip4_" + std::to_string(all_levels) + "_" + std::to_string(getpid()) +
        ".mbs";
    auto img = BuildIp4(all_levels)->Build(0);
    if (!util::WriteFileAtomically(p, img).ok()) std::abort();
  }
  return p;
}

Ip4Data& Ip4(bool all_levels) {
  static Ip4Data data[2];
  Ip4Data& d = data[all_levels];
  if (!d.snap) {
    d.snap = *Snapshot::Open(SnapshotPath(all_levels));
    d.zones = *ZoneSet::Create({d.snap});
    d.view = std::make_unique<DatasetView>(*d.snap, 0);
    d.entries = d.snap->datasets()[0].entry_count;
  }
  return d;
}

void Report(benchmark::State& state, std::size_t allocs_before) {
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["allocs_per_query"] =
      static_cast<double>(meshbl::testing::AllocationCount() - allocs_before) /
      static_cast<double>(state.iterations());
}

void BM_Ip4SetOpen(benchmark::State& state) {
  const std::string& path = SnapshotPath(false);
  std::string q;
  dns::ParseName("2.0.0.127.bl.test", &q);
  auto answer = std::make_unique<Answer>();
  std::uint64_t bytes = 0, entries = 0;
  for (auto _ : state) {
    auto snap = Snapshot::Open(path);
    auto zs = ZoneSet::Create({*snap});
    Query query;
    query.qname = {reinterpret_cast<const std::uint8_t*>(q.data()), q.size()};
    Resolve(**zs, {}, query, answer.get());
    benchmark::DoNotOptimize(answer->rcode);
    bytes = (*snap)->bytes().size();
    entries = (*snap)->datasets()[0].entry_count;
  }
  state.counters["file_bytes_per_entry"] =
      static_cast<double>(bytes) / static_cast<double>(entries);
}
BENCHMARK(BM_Ip4SetOpen)->Unit(benchmark::kMillisecond)->Iterations(10);

// Issue 9: the empty non-terminal summaries of the 10M-entry ip4set (built on
// a background thread after ZoneSet::Create): open to summaries ready.
void BM_Ip4SetEntSummaryReady(benchmark::State& state) {
  const std::string& path = SnapshotPath(false);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto snap = Snapshot::Open(path);
    auto zs = ZoneSet::Create({*snap});
    const DsNode* node = (*zs)->zones()[0].datasets[0];
    while (node->ent() == nullptr) std::this_thread::yield();
    const EntSummary& e = *node->ent();
    bytes = e.p8.bytes() + e.p16.bytes() + e.p24.bytes() + e.nets6.size() * sizeof(e.nets6[0]);
  }
  state.counters["summary_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Ip4SetEntSummaryReady)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_Ip4SetFullRule(benchmark::State& state) {
  Ip4Data& d = Ip4(true);
  auto probes = Probes(kTenMillion, 1 << 22);
  std::size_t i = 0, before = meshbl::testing::AllocationCount();
  ValueList vl;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.view->LookupIp4(probes[i], &vl));
    i = (i + 1) & (probes.size() - 1);
  }
  Report(state, before);
  state.counters["table_bytes_per_entry"] =
      static_cast<double>(d.snap->DatasetBytes(0)) / static_cast<double>(d.entries);
}
BENCHMARK(BM_Ip4SetFullRule);

void BM_Ip4SetExact32Batched(benchmark::State& state) {
  Ip4Data& d = Ip4(false);
  auto probes = Probes(kTenMillion, 1 << 22);
  constexpr std::size_t kBatch = 64;
  std::uint32_t words[kBatch];
  std::size_t i = 0, before = meshbl::testing::AllocationCount();
  for (auto _ : state) {
    d.view->LookupIp4Batch(probes.data() + i, kBatch, words);
    benchmark::DoNotOptimize(words);
    i = (i + kBatch) & (probes.size() - 1);
  }
  const auto total = static_cast<double>(state.iterations()) * kBatch;
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  state.counters["queries/s"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
  state.counters["allocs_per_query"] =
      static_cast<double>(meshbl::testing::AllocationCount() - before) / total;
  state.counters["table_bytes_per_entry"] =
      static_cast<double>(d.snap->DatasetBytes(0)) / static_cast<double>(d.entries);
}
BENCHMARK(BM_Ip4SetExact32Batched);

void BM_Ip4SetFullRuleBatched(benchmark::State& state) {
  Ip4Data& d = Ip4(true);
  auto probes = Probes(kTenMillion, 1 << 22);
  constexpr std::size_t kBatch = 64;
  std::uint32_t words[kBatch];
  std::size_t i = 0;
  for (auto _ : state) {
    d.view->LookupIp4Batch(probes.data() + i, kBatch, words);
    benchmark::DoNotOptimize(words);
    i = (i + kBatch) & (probes.size() - 1);
  }
  state.counters["queries/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kBatch,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ip4SetFullRuleBatched);

void BM_Ip4SetExact32Scalar(benchmark::State& state) {
  Ip4Data& d = Ip4(false);
  auto probes = Probes(kTenMillion, 1 << 22);
  std::size_t i = 0, before = meshbl::testing::AllocationCount();
  ValueList vl;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.view->LookupIp4(probes[i], &vl));
    i = (i + 1) & (probes.size() - 1);
  }
  Report(state, before);
}
BENCHMARK(BM_Ip4SetExact32Scalar);

void BM_Ip4SetResolve(benchmark::State& state) {
  Ip4Data& d = Ip4(false);
  auto probes = Probes(kTenMillion, 1 << 16);
  std::vector<std::string> names;
  for (auto a : probes) {
    std::string text = std::to_string(a & 0xff) + "." + std::to_string((a >> 8) & 0xff) + "." +
                       std::to_string((a >> 16) & 0xff) + "." + std::to_string(a >> 24) +
                       ".bl.test";
    std::string w;
    dns::ParseName(text, &w);
    names.push_back(std::move(w));
  }
  auto answer = std::make_unique<Answer>();
  Query q;
  q.qtype = kTypeTxt;
  std::size_t i = 0, before = meshbl::testing::AllocationCount();
  for (auto _ : state) {
    const std::string& n = names[i];
    q.qname = {reinterpret_cast<const std::uint8_t*>(n.data()), n.size()};
    Resolve(*d.zones, {}, q, answer.get());
    benchmark::DoNotOptimize(answer->answer_count);
    i = (i + 1) & (names.size() - 1);
  }
  Report(state, before);
}
BENCHMARK(BM_Ip4SetResolve);

struct DnSetData {
  static constexpr std::uint32_t kNames = 1'000'000;
  std::shared_ptr<const Snapshot> snap;
  // Probe names packed back to back, as they would sit in packet buffers.
  std::string probe_bytes;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> probes;  // offset, length
};

DnSetData& DnSet() {
  static DnSetData d;
  if (d.snap) return d;
  SnapshotBuilder b;
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:bench");
  Value v{0x7f000002, std::nullopt};
  auto name = [](std::uint32_t i) {
    std::string text = "host" + std::to_string(Key(i) % 100000) + ".d" + std::to_string(i) +
                       ".example" + std::to_string(i % 7);
    std::string w;
    dns::ParseName(text, &w);
    return w;
  };
  for (std::uint32_t i = 0; i < DnSetData::kNames; ++i) ds->AddName(name(i), i % 10 == 0, &v);
  b.AddToZone(std::string("\2bl\4test"), b.AdoptDataset(std::move(ds)));
  d.snap = *Snapshot::FromImage(b.Build(0), "dnset");
  std::mt19937 rng(3);
  for (int i = 0; i < (1 << 20); ++i) {
    auto r = static_cast<std::uint32_t>(rng() % DnSetData::kNames);
    std::string n = i % 2 == 0 ? name(r) : name(DnSetData::kNames + r);
    d.probes.emplace_back(static_cast<std::uint32_t>(d.probe_bytes.size()),
                          static_cast<std::uint32_t>(n.size()));
    d.probe_bytes += n;
  }
  return d;
}

void BM_DnSetLookup(benchmark::State& state) {
  DnSetData& d = DnSet();
  const auto& snap = d.snap;
  const auto& probes = d.probes;
  const auto& probe_bytes = d.probe_bytes;
  constexpr std::uint32_t kNames = DnSetData::kNames;
  DatasetView view(*snap, 0);
  const auto* base = reinterpret_cast<const std::uint8_t*>(probe_bytes.data());
  std::size_t i = 0, before = meshbl::testing::AllocationCount(), subject;
  ValueList vl;
  for (auto _ : state) {
    auto [off, len] = probes[i];
    benchmark::DoNotOptimize(view.LookupName({base + off, len}, &vl, &subject));
    i = (i + 1) & (probes.size() - 1);
  }
  Report(state, before);
  state.counters["table_bytes_per_entry"] =
      static_cast<double>(snap->DatasetBytes(0)) / static_cast<double>(kNames);
}
BENCHMARK(BM_DnSetLookup);

void BM_DnSetLookupBatched(benchmark::State& state) {
  DnSetData& d = DnSet();
  DatasetView view(*d.snap, 0);
  constexpr std::size_t kBatch = 64;
  std::span<const std::uint8_t> batch[kBatch];
  Match match[kBatch];
  static ValueList out[kBatch];
  std::size_t subjects[kBatch];
  const auto* base = reinterpret_cast<const std::uint8_t*>(d.probe_bytes.data());
  std::size_t i = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < kBatch; ++k) {
      auto [off, len] = d.probes[(i + k) & (d.probes.size() - 1)];
      batch[k] = {base + off, len};
    }
    view.LookupNameBatch(batch, kBatch, match, out, subjects);
    benchmark::DoNotOptimize(match);
    i = (i + kBatch) & (d.probes.size() - 1);
  }
  state.counters["queries/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kBatch,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DnSetLookupBatched);

void BM_CompileIp4Set(benchmark::State& state) {
  std::string path = "/tmp/meshbl_bench_10m_" + std::to_string(getpid()) + ".txt";
  {
    std::ofstream out(path);
    char buf[32];
    for (std::uint32_t i = 0; i < kTenMillion; ++i) {
      std::uint32_t a = Key(i);
      int n = std::snprintf(buf, sizeof buf, "%u.%u.%u.%u\n", a >> 24, (a >> 16) & 0xff,
                            (a >> 8) & 0xff, a & 0xff);
      out.write(buf, n);
    }
  }
  zone::LoadOptions opts;
  std::vector<std::string> files{path};
  for (auto _ : state) {
    auto loaded = zone::LoadDataset(DatasetType::kIp4Set, "ip4set:" + path, files, opts);
    if (!loaded.ok()) {
      state.SkipWithError(std::string(loaded.status().message()).c_str());
      break;
    }
    SnapshotBuilder b;
    b.AddToZone(std::string("\2bl\4test"), b.AdoptDataset(std::move(loaded->dataset)));
    auto img = b.Build(0);
    benchmark::DoNotOptimize(img.data());
  }
  std::remove(path.c_str());
}
BENCHMARK(BM_CompileIp4Set)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace meshbl::table

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  for (bool all : {false, true}) {
    // Remove the snapshot files this run created.
    std::string p =
        "/tmp/meshbl_bench_ip4_" + std::to_string(all) + "_" + std::to_string(getpid()) + ".mbs";
    std::remove(p.c_str());
  }
  return 0;
}
