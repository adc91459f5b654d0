// The live store under kill -9: a child process commits transactions as fast
// as it can from several threads (group commit) while reading, and reports
// the id of every acknowledged transaction (Commit returned OK) down a pipe;
// the parent SIGKILLs it at a random moment, reopens the store and checks
// that every acknowledged transaction is there in full, that no transaction
// is there in part, and that the store opens with no repair step. 20 rounds,
// each killed within a second, all on one store.
//
// A SIGKILL leaves the kernel's page cache intact, so this checks the
// process-crash guarantee (what kill -9 of meshbld tests); the power-loss
// guarantee rests on LMDB's fdatasync at each commit, which the store makes
// before acknowledging.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "meshbl/feed/store.h"

namespace meshbl::feed {
namespace {

namespace fs = std::filesystem;

constexpr int kThreads = 4;
constexpr int kKeysPerTxn = 4;
constexpr int kRounds = 20;

// id = round << 40 | thread << 32 | sequence number.
std::uint64_t Id(std::uint64_t round, std::uint64_t thread, std::uint64_t seq) {
  return round << 40 | thread << 32 | seq;
}
std::string Hex(std::uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}
// The value a transaction writes: its id, then padding of a size that varies
// with the id, so transactions span several pages.
std::string ValueOf(std::uint64_t id) { return Hex(id) + std::string(id % 1500, 'v'); }
// "d/<round>/<thread>/<seq>": each transaction deletes its predecessor's.
std::string Marker(std::uint64_t round, std::uint64_t thread, std::uint64_t seq) {
  return "d/" + Hex(round) + "/" + Hex(thread) + "/" + Hex(seq);
}

[[noreturn]] void Child(const std::string& path, std::uint64_t round, int fd) {
  auto s = Store::Open(path);
  if (!s.ok()) {
    std::fprintf(stderr, "child: %s\n", std::string(s.status().message()).c_str());
    _exit(2);
  }
  Store& store = **s;
  std::vector<std::thread> ts;
  for (std::uint64_t t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (std::uint64_t seq = 0;; ++seq) {
        const std::uint64_t id = Id(round, t, seq);
        std::vector<Write> txn;
        for (int k = 0; k < kKeysPerTxn; ++k)
          txn.push_back({Table::kHits, "a/" + Hex(id) + "/" + std::to_string(k), ValueOf(id)});
        txn.push_back({Table::kSources, Marker(round, t, seq), Hex(id)});
        if (seq > 0) txn.push_back({Table::kSources, Marker(round, t, seq - 1), std::nullopt});
        if (!store.Commit(txn).ok()) _exit(3);
        if (::write(fd, &id, sizeof id) != sizeof id) _exit(4);
      }
    });
  }
  // Readers too, so that a kill can leave reader slots behind.
  ts.emplace_back([&] {
    for (;;) {
      (void)store.Get(Table::kSources, Marker(round, 0, 0));
      (void)store.Scan(Table::kHits, "a/" + Hex(round << 40).substr(0, 6),
                       [](std::string_view, std::string_view) { return true; });
    }
  });
  for (auto& t : ts) t.join();
  _exit(0);
}

TEST(StoreCrashTest, KillNineLosesNothingAcknowledgedAndShowsNoPartialTransaction) {
  const fs::path dir =
      fs::temp_directory_path() / ("meshbl-store-crash-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "live.mdb").string();
  const std::uint64_t seed = std::random_device{}();
  std::printf("kill times from seed %" PRIu64 "\n", seed);
  std::mt19937_64 rng(seed);
  std::set<std::uint64_t> acked;
  std::uint64_t stale_total = 0;
  for (std::uint64_t round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      Child(path, round, fds[1]);
    }
    ::close(fds[1]);
    const auto kill_at =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 900);
    std::string buf;
    bool killed = false;
    for (;;) {  // bounded: the child is killed by kill_at, then the pipe ends
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            kill_at - std::chrono::steady_clock::now())
                            .count();
      if (!killed && left <= 0) {
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        killed = true;
      }
      pollfd p{fds[0], POLLIN, 0};
      ::poll(&p, 1, killed ? 1000 : static_cast<int>(left));
      char tmp[4096];
      const ssize_t n = ::read(fds[0], tmp, sizeof tmp);
      if (n > 0) buf.append(tmp, static_cast<std::size_t>(n));
      if (n == 0) break;  // every writer is gone
      if (n < 0 && errno != EINTR && errno != EAGAIN) break;
    }
    ::close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "round " << round << ": the child ended by itself (status " << wstatus << ")";
    std::map<std::uint64_t, std::uint64_t> max_seq;  // thread -> highest acknowledged seq
    for (std::size_t i = 0; i + 8 <= buf.size(); i += 8) {
      std::uint64_t id = 0;
      std::memcpy(&id, buf.data() + i, 8);
      acked.insert(id);
      auto& m = max_seq[(id >> 32) & 0xff];
      m = std::max(m, id & 0xffffffff);
    }

    // Reopen: no repair step; then check everything ever acknowledged.
    auto s = Store::Open(path);
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.status();
    stale_total += (*s)->stats().stale_readers_cleared;
    std::map<std::string, int> keys_per_id;
    ASSERT_TRUE((*s)->Scan(Table::kHits, "a/",
                           [&](std::string_view k, std::string_view v) {
                             const std::string id_hex(k.substr(2, 16));
                             const std::uint64_t id = std::stoull(id_hex, nullptr, 16);
                             EXPECT_EQ(v, ValueOf(id)) << k;
                             ++keys_per_id[id_hex];
                             return true;
                           })
                    .ok());
    for (const auto& [id, n] : keys_per_id)
      ASSERT_EQ(n, kKeysPerTxn) << "round " << round << ": partial transaction " << id;
    for (std::uint64_t id : acked)
      ASSERT_TRUE(keys_per_id.contains(Hex(id))) << "round " << round << ": lost " << Hex(id);
    // The delete-and-put marker of each thread: exactly one, at or after the
    // last acknowledged transaction.
    for (std::uint64_t t = 0; t < kThreads; ++t) {
      std::vector<std::uint64_t> markers;
      ASSERT_TRUE((*s)->Scan(Table::kSources, "d/" + Hex(round) + "/" + Hex(t) + "/",
                             [&](std::string_view k, std::string_view) {
                               markers.push_back(
                                   std::stoull(std::string(k.substr(36)), nullptr, 16));
                               return true;
                             })
                      .ok());
      ASSERT_LE(markers.size(), 1u) << "round " << round << " thread " << t;
      if (max_seq.contains(t)) {
        ASSERT_EQ(markers.size(), 1u) << "round " << round << " thread " << t;
        EXPECT_GE(markers[0], max_seq[t]);
      }
    }
    std::printf("round %2" PRIu64 ": %zu acknowledged this round, %zu transactions in the store\n",
                round, buf.size() / 8, keys_per_id.size());
  }
  // LMDB resets the reader table when the first process opens the lock file,
  // so slots of a killed child are usually gone before mdb_reader_check runs.
  std::printf("%zu acknowledged transactions in all, %" PRIu64 " stale reader slots cleared\n",
              acked.size(), stale_total);
  EXPECT_GT(acked.size(), 0u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::feed
