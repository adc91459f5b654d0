// Hot swap under load: reader threads resolve continuously while a writer
// publishes 1,000 snapshots (each mapped from its own file and unmapped when
// the last reader lets go). Every answer must come from one complete
// snapshot: two keys resolved in the same batch always carry the same
// generation, and a reader never sees generations go backwards. Run under
// TSan and ASan by scripts/dev test.
#include "meshbl/table/swap.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "tests/table/test_util.h"

namespace meshbl::table {
namespace {

using testing::Ip4;
using testing::Labels;

constexpr int kGenerations = 1000;
constexpr int kReaders = 3;

std::shared_ptr<const ZoneSet> Generation(int g, const std::filesystem::path& dir) {
  SnapshotBuilder b;
  auto ds = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:gen");
  Value v{0x7f000002u, "gen " + std::to_string(g)};
  ds->AddIp4Range(Ip4("10.0.0.1"), Ip4("10.0.0.1"), &v);
  ds->AddIp4Range(Ip4("10.0.0.2"), Ip4("10.0.0.2"), &v);
  // Filler so that every image spans several pages.
  Value filler{0x7f000003u, std::nullopt};
  for (std::uint32_t i = 0; i < 2000; ++i)
    ds->AddIp4Range(Ip4("11.0.0.0") + i, Ip4("11.0.0.0") + i, &filler);
  b.AddToZone(Labels("bl.test"), b.AdoptDataset(std::move(ds)));
  auto img = b.Build(g);
  std::string path = (dir / ("g" + std::to_string(g % 4) + ".mbs")).string();
  {
    std::ofstream out(path + ".tmp", std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
  }
  std::filesystem::rename(path + ".tmp", path);
  auto snap = Snapshot::Open(path);
  EXPECT_TRUE(snap.ok()) << snap.status();
  auto zs = ZoneSet::Create({*snap});
  EXPECT_TRUE(zs.ok());
  return *zs;
}

int GenOf(const Answer& a) {
  for (int i = 0; i < a.answer_count; ++i) {
    if (a.answer[i].type != kTypeTxt) continue;
    auto rd = a.rdata(a.answer[i]);
    std::string s(reinterpret_cast<const char*>(rd.data()) + 1, rd.size() - 1);
    if (s.rfind("gen ", 0) == 0) return std::stoi(s.substr(4));
  }
  return -1;
}

TEST(Swap, ReadersSeeOnlyCompleteSnapshotsWhileWriterPublishes) {
  auto dir = std::filesystem::temp_directory_path() / ("meshbl_swap_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  ZoneSetHolder holder;
  holder.Publish(Generation(0, dir));
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<long> lookups{0};
  std::atomic<int> distinct_seen{0};

  auto reader = [&] {
    ZoneSetReader r(holder);
    auto answer = std::make_unique<Answer>();
    std::string k1 = Labels("1.0.0.10.bl.test"), k2 = Labels("2.0.0.10.bl.test");
    Query q;
    q.qtype = kTypeTxt;
    int last = -1, seen = 0;
    long n = 0;
    // Bounded: stops when the writer is done or after 60 s.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
      const ZoneSet* zs = r.Refresh();  // once per batch
      for (int i = 0; i < 16; ++i) {
        q.qname = {reinterpret_cast<const std::uint8_t*>(k1.data()), k1.size()};
        Resolve(*zs, {}, q, answer.get());
        int g1 = GenOf(*answer);
        q.qname = {reinterpret_cast<const std::uint8_t*>(k2.data()), k2.size()};
        Resolve(*zs, {}, q, answer.get());
        int g2 = GenOf(*answer);
        n += 2;
        if (g1 < 0 || g1 != g2 || g1 < last) {
          failures.fetch_add(1);
          return;
        }
        if (g1 != last) ++seen;
        last = g1;
      }
    }
    lookups.fetch_add(n);
    distinct_seen.fetch_add(seen > 1 ? 1 : 0);
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) threads.emplace_back(reader);
  for (int g = 1; g <= kGenerations; ++g) {
    holder.Publish(Generation(g, dir));
    if (g % 100 == 0) std::this_thread::yield();
  }
  // Let readers observe the final generation before stopping.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  done.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(lookups.load(), 0);
  EXPECT_EQ(distinct_seen.load(), kReaders) << "every reader should see several generations";
  ZoneSetReader final_reader(holder);
  auto answer = std::make_unique<Answer>();
  std::string k1 = Labels("1.0.0.10.bl.test");
  Query q;
  q.qtype = kTypeTxt;
  q.qname = {reinterpret_cast<const std::uint8_t*>(k1.data()), k1.size()};
  Resolve(*final_reader.Refresh(), {}, q, answer.get());
  EXPECT_EQ(GenOf(*answer), kGenerations);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::table
