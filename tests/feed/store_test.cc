#include "meshbl/feed/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "meshbl/feed/codec.h"

namespace meshbl::feed {
namespace {

namespace fs = std::filesystem;

// chattr +i / -i; false when the file system or the caller cannot.
bool SetImmutable(const fs::path& p, bool on) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
  ok = ok && ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  ::close(fd);
  return ok;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("meshbl-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "live.mdb").string();
  }
  void TearDown() override {
    SetImmutable(dir_ / "ro", false);
    fs::remove_all(dir_);
  }

  std::unique_ptr<Store> OpenOk(const StoreOptions& o = {}) {
    auto s = Store::Open(path_, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  fs::path dir_;
  std::string path_;
};

Write Put(Table t, std::string k, std::string v) { return {t, std::move(k), std::move(v)}; }
Write Del(Table t, std::string k) { return {t, std::move(k), std::nullopt}; }

TEST_F(StoreTest, DataSurviveReopenInEveryTable) {
  std::mt19937_64 rng(1);
  std::map<std::pair<int, std::string>, std::string> want;
  {
    auto s = OpenOk();
    ASSERT_TRUE(s);
    for (int round = 0; round < 5; ++round) {
      std::vector<Write> txn;
      for (std::size_t t = 0; t < kTableCount; ++t) {
        for (int i = 0; i < 20; ++i) {
          std::string k = "k" + std::to_string(rng() % 50);
          std::string v(rng() % 3000, static_cast<char>(rng()));
          want[{static_cast<int>(t), k}] = v;
          txn.push_back(Put(static_cast<Table>(t), k, v));
        }
      }
      ASSERT_TRUE(s->Commit(txn).ok());
    }
  }
  auto s = OpenOk();
  ASSERT_TRUE(s);
  for (const auto& [k, v] : want) {
    auto got = s->Get(static_cast<Table>(k.first), k.second);
    ASSERT_TRUE(got.has_value()) << k.second;
    EXPECT_EQ(*got, v);
  }
  const StoreStats st = s->stats();
  std::size_t total = 0;
  for (std::size_t t = 0; t < kTableCount; ++t) total += st.entries[t];
  EXPECT_EQ(total, want.size());
  EXPECT_EQ(st.stale_readers_cleared, 0u);
}

TEST_F(StoreTest, GetAbsentDeleteAndOverwrite) {
  auto s = OpenOk();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->Get(Table::kListings, "nope").has_value());
  EXPECT_FALSE(s->Get(Table::kListings, "").has_value());
  ASSERT_TRUE(s->Commit(std::vector<Write>{Put(Table::kListings, "a", "1"),
                                           Put(Table::kWhitelist, "a", "w")})
                  .ok());
  EXPECT_EQ(s->Get(Table::kListings, "a"), "1");
  EXPECT_FALSE(s->Get(Table::kHits, "a").has_value());  // tables are separate
  // Overwrite, delete an absent key, delete then re-put in one txn (last wins).
  ASSERT_TRUE(
      s->Commit(std::vector<Write>{Put(Table::kListings, "a", "2"), Del(Table::kListings, "absent"),
                                   Del(Table::kListings, "b"), Put(Table::kListings, "b", "3"),
                                   Del(Table::kListings, "b")})
          .ok());
  EXPECT_EQ(s->Get(Table::kListings, "a"), "2");
  EXPECT_FALSE(s->Get(Table::kListings, "b").has_value());
  ASSERT_TRUE(s->Commit(std::vector<Write>{Del(Table::kListings, "a")}).ok());
  EXPECT_FALSE(s->Get(Table::kListings, "a").has_value());
  EXPECT_EQ(s->Get(Table::kWhitelist, "a"), "w");
  EXPECT_TRUE(s->Commit({}).ok());
}

// Scan returns keys in bytewise order (every byte value, 0x00 and 0xff
// included), only those with the prefix, and stops when asked.
TEST_F(StoreTest, ScanOrderPrefixAndStop) {
  auto s = OpenOk();
  ASSERT_TRUE(s);
  std::mt19937_64 rng(2);
  std::map<std::string, std::string> want;
  std::vector<Write> txn;
  for (int i = 0; i < 3000; ++i) {
    std::string k(1 + rng() % 6, '\0');
    for (auto& c : k) c = static_cast<char>(rng() % 4 == 0 ? (rng() % 2 ? 0xff : 0) : rng());
    want[k] = std::to_string(i);
    txn.push_back(Put(Table::kSources, k, std::to_string(i)));
  }
  ASSERT_TRUE(s->Commit(txn).ok());
  for (const std::string& prefix : {std::string(), std::string(1, '\0'), std::string(1, '\xff'),
                                    std::string("\xff\xff", 2), std::string(2, '\0')}) {
    std::vector<std::pair<std::string, std::string>> got;
    ASSERT_TRUE(s->Scan(Table::kSources, prefix, [&](std::string_view k, std::string_view v) {
                   got.emplace_back(k, v);
                   return true;
                 }).ok());
    std::vector<std::pair<std::string, std::string>> expect;
    for (const auto& kv : want)
      if (kv.first.starts_with(prefix)) expect.push_back(kv);
    EXPECT_EQ(got, expect) << "prefix of " << prefix.size() << " bytes";
  }
  int n = 0;
  ASSERT_TRUE(s->Scan(Table::kSources, "", [&](std::string_view, std::string_view) {
                 return ++n < 10;
               }).ok());
  EXPECT_EQ(n, 10);
  n = 0;
  ASSERT_TRUE(
      s->Scan(Table::kMeta, "", [&](std::string_view, std::string_view) { return ++n > 0; }).ok());
  EXPECT_EQ(n, 0);
}

// Listing records keyed by Subject keys scan in subject order.
TEST_F(StoreTest, ListingsScanInSubjectOrder) {
  auto s = OpenOk();
  ASSERT_TRUE(s);
  std::vector<Write> txn;
  const char* subjects[] = {"example.com", "10.0.0.0/8", "2001:db8::/32", ".example.com",
                            "10.0.0.1",    "::1",        "a.example.com"};
  for (const char* t : subjects) {
    Listing l;
    l.subject = *Subject::Parse(t);
    txn.push_back(Put(Table::kListings, EncodeSubjectKey(l.subject), EncodeListing(l)));
  }
  ASSERT_TRUE(s->Commit(txn).ok());
  std::vector<std::string> order;
  ASSERT_TRUE(s->Scan(Table::kListings, "", [&](std::string_view, std::string_view v) {
                 auto l = DecodeListing(v);
                 EXPECT_TRUE(l.ok()) << l.status();
                 order.push_back(l->subject.ToString());
                 return true;
               }).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"10.0.0.0/8", "10.0.0.1", "::1", "2001:db8::/32",
                                             "example.com", ".example.com", "a.example.com"}));
}

// A transaction with one bad write applies nothing and names the write.
TEST_F(StoreTest, BadWriteRefusesWholeTransaction) {
  auto s = OpenOk();
  ASSERT_TRUE(s);
  for (const std::string& bad : {std::string(), std::string(kMaxKeyBytes + 1, 'k')}) {
    const absl::Status st = s->Commit(std::vector<Write>{Put(Table::kListings, "good1", "x"),
                                                         Put(Table::kListings, bad, "x"),
                                                         Put(Table::kListings, "good2", "x")});
    ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_NE(st.message().find("write 1 (listings): key of"), std::string::npos) << st;
    EXPECT_FALSE(s->Get(Table::kListings, "good1").has_value());
    EXPECT_FALSE(s->Get(Table::kListings, "good2").has_value());
  }
  const absl::Status st =
      s->Commit(std::vector<Write>{Put(static_cast<Table>(kTableCount), "k", "v")});
  EXPECT_NE(st.message().find("unknown table"), std::string::npos) << st;
  ASSERT_TRUE(
      s->Commit(std::vector<Write>{Put(Table::kListings, std::string(kMaxKeyBytes, 'k'), "v")})
          .ok());
  EXPECT_EQ(s->stats().failed_txns, 3u);
}

// Concurrent committers: every transaction is applied exactly, and a few
// syncs carry many transactions (group commit).
TEST_F(StoreTest, ConcurrentCommitsAndAsync) {
  auto s = OpenOk();
  ASSERT_TRUE(s);
  constexpr int kThreads = 8;
  constexpr int kPer = 50;
  std::vector<std::thread> ts;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        const std::string id = std::to_string(t) + "/" + std::to_string(i);
        if (!s->Commit(std::vector<Write>{Put(Table::kHits, id + "/a", id),
                                          Put(Table::kHits, id + "/b", id)})
                 .ok())
          failed.fetch_add(1);
      }
    });
  }
  std::atomic<int> async_ok{0};
  std::atomic<int> async_done{0};
  for (int i = 0; i < 200; ++i) {
    s->CommitAsync({Put(Table::kTraps, "async" + std::to_string(i), "v")}, [&](absl::Status st) {
      if (st.ok()) async_ok.fetch_add(1);
      async_done.fetch_add(1);
    });
  }
  for (auto& t : ts) t.join();
  // The committer drains its queue before a Store is destroyed; Commit's
  // answer comes after every earlier queued transaction.
  ASSERT_TRUE(s->Commit(std::vector<Write>{Put(Table::kMeta, "fence", "1")}).ok());
  EXPECT_EQ(async_done.load(), 200);
  EXPECT_EQ(async_ok.load(), 200);
  EXPECT_EQ(failed.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPer; ++i) {
      const std::string id = std::to_string(t) + "/" + std::to_string(i);
      ASSERT_EQ(s->Get(Table::kHits, id + "/a"), id);
      ASSERT_EQ(s->Get(Table::kHits, id + "/b"), id);
    }
  }
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(s->Get(Table::kTraps, "async" + std::to_string(i)));
  const StoreStats st = s->stats();
  EXPECT_EQ(st.txns, static_cast<std::uint64_t>(kThreads * kPer + 200 + 1));
  EXPECT_LE(st.commits, st.txns);
  EXPECT_EQ(st.writes, static_cast<std::uint64_t>(kThreads * kPer * 2 + 200 + 1));
  std::printf("%llu transactions in %llu commits\n", static_cast<unsigned long long>(st.txns),
              static_cast<unsigned long long>(st.commits));
}

// The map grows while there is room; at max_map_bytes a commit fails with
// a clear error, applies nothing, and the store keeps its data and answers.
TEST_F(StoreTest, MapGrowsThenFullIsAClearError) {
  StoreOptions o;
  o.initial_map_bytes = 256 << 10;
  o.max_map_bytes = 4 << 20;
  o.durable = false;
  auto s = OpenOk(o);
  ASSERT_TRUE(s);
  const std::string big(64 << 10, 'v');
  constexpr int kFill = 30;  // ~2 MiB: past the initial map, within the maximum
  for (int i = 0; i < kFill; ++i) {
    ASSERT_TRUE(
        s->Commit(std::vector<Write>{Put(Table::kHits, "k" + std::to_string(i), big)}).ok());
  }
  EXPECT_GE(s->stats().map_grows, 1u);
  const absl::Status last = s->Commit(std::vector<Write>{
      Put(Table::kHits, "small", "v"), Put(Table::kHits, "huge", std::string(8 << 20, 'h'))});
  ASSERT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_NE(last.message().find("max_map_bytes"), std::string::npos) << last;
  EXPECT_FALSE(s->Get(Table::kHits, "small").has_value());
  for (int i = 0; i < kFill; ++i) ASSERT_EQ(s->Get(Table::kHits, "k" + std::to_string(i)), big);
  // In one group, a transaction too big for the map fails alone.
  std::atomic<int> ok{0};
  std::atomic<int> full{0};
  for (int i = 0; i < 20; ++i) {
    std::vector<Write> txn;
    if (i % 2 == 0) txn.push_back(Del(Table::kHits, "k" + std::to_string(i)));
    if (i % 2 == 1)
      txn.push_back(Put(Table::kHits, "huge" + std::to_string(i), std::string(8 << 20, 'h')));
    s->CommitAsync(std::move(txn), [&](absl::Status st) {
      if (st.ok()) ok.fetch_add(1);
      if (st.code() == absl::StatusCode::kResourceExhausted) full.fetch_add(1);
    });
  }
  ASSERT_TRUE(s->Commit(std::vector<Write>{Del(Table::kHits, "k1")}).ok());
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(full.load(), 10);
  EXPECT_FALSE(s->Get(Table::kHits, "k0").has_value());
  EXPECT_FALSE(s->Get(Table::kHits, "huge1").has_value());
  s.reset();
  auto again = OpenOk(o);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->Get(Table::kHits, "k3"), big);
}

TEST_F(StoreTest, BadPathsAreClearErrors) {
  const auto expect_error = [](const std::string& path, absl::StatusCode code,
                               std::string_view text, const StoreOptions& o = {}) {
    auto s = Store::Open(path, o);
    ASSERT_FALSE(s.ok()) << path;
    EXPECT_EQ(s.status().code(), code) << s.status();
    EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status();
    EXPECT_NE(std::string(s.status().message()).find(text), std::string::npos) << s.status();
  };
  expect_error((dir_ / "missing" / "live.mdb").string(), absl::StatusCode::kNotFound,
               "No such file or directory");
  StoreOptions no_create;
  no_create.create = false;
  expect_error(path_, absl::StatusCode::kNotFound, "no such file", no_create);
  expect_error(dir_.string(), absl::StatusCode::kInvalidArgument, "is a directory");
  {
    std::ofstream f(path_);
    for (int i = 0; i < 2000; ++i) f << "192.0.2." << i % 256 << " listed\n";
  }
  expect_error(path_, absl::StatusCode::kInvalidArgument, "not an LMDB store");
  fs::remove(path_);
  expect_error("/proc/meshbl-store-test.mdb", absl::StatusCode::kNotFound, "create");
  // An unwritable directory: by mode when not root; root passes mode bits,
  // so there the directory is made immutable (chattr +i), which binds root
  // too (skipped where the file system has no such flag).
  fs::create_directories(dir_ / "ro");
  if (::geteuid() != 0) {
    fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    expect_error((dir_ / "ro" / "live.mdb").string(), absl::StatusCode::kPermissionDenied,
                 "Permission denied");
  } else if (SetImmutable(dir_ / "ro", true)) {
    expect_error((dir_ / "ro" / "live.mdb").string(), absl::StatusCode::kPermissionDenied,
                 "Operation not permitted");
    SetImmutable(dir_ / "ro", false);
  }
  auto empty = Store::Open("");
  EXPECT_FALSE(empty.ok());
  // One file open twice in a process would break LMDB's locks: refused.
  auto first = OpenOk();
  ASSERT_TRUE(first);
  expect_error(path_, absl::StatusCode::kFailedPrecondition, "already open in this process");
  EXPECT_TRUE(first->Commit(std::vector<Write>{Put(Table::kMeta, "still", "works")}).ok());
  first.reset();
  auto second = OpenOk();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->Get(Table::kMeta, "still"), "works");
}

// Reads on other threads while commits proceed see whole transactions.
TEST_F(StoreTest, ReadersSeeWholeTransactions) {
  StoreOptions o;
  o.durable = false;
  o.initial_map_bytes = 1 << 20;  // grows during the test, under readers
  auto s = OpenOk(o);
  ASSERT_TRUE(s);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::string first;
        int count = 0;
        bool mixed = false;
        EXPECT_TRUE(s->Scan(Table::kListings, "pair/", [&](std::string_view, std::string_view v) {
                       if (count++ == 0) first = std::string(v);
                       mixed |= v != first;
                       return true;
                     }).ok());
        if (mixed || (count != 0 && count != 4)) torn.fetch_add(1);
      }
    });
  }
  const std::string pad(4000, 'p');
  for (int i = 0; i < 400; ++i) {
    const std::string v = std::to_string(i);
    std::vector<Write> txn;
    for (int k = 0; k < 4; ++k)
      txn.push_back(Put(Table::kListings, "pair/" + std::to_string(k), v));
    txn.push_back(Put(Table::kHits, "pad" + v, pad));
    ASSERT_TRUE(s->Commit(txn).ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GE(s->stats().map_grows, 1u);
}

}  // namespace
}  // namespace meshbl::feed
