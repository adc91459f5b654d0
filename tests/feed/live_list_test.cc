// LiveLists over a real LMDB store: random adds, deletes, whitelist changes
// and expiries, published through ticks and compactions, answer exactly as a
// reference model of the committed state does; a reopened store serves the
// same; expiry happens at the expiry time, not later.
#include "meshbl/feed/live_list.h"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include "gtest/gtest.h"
#include "meshbl/dns/name.h"

namespace meshbl::feed {
namespace {

// The feed thread of the test: tasks posted from the store's committer run
// here when the test drains.
class TaskQueue {
 public:
  LiveLists::Post Poster() {
    return [this](std::function<void()> f) {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
      cv_.notify_all();
    };
  }
  // Runs tasks until `pending` reaches zero (bounded: 10 s).
  void RunUntil(const int* pending) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (*pending > 0 && std::chrono::steady_clock::now() < deadline) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_until(l, deadline, [&] { return !q_.empty(); });
        if (q_.empty()) break;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
    ASSERT_EQ(*pending, 0) << "store completions did not arrive";
  }
  // Runs whatever is queued (compaction results), waiting up to 10 s for one.
  bool RunOne() {
    std::function<void()> f;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::seconds(10), [&] { return !q_.empty(); });
      if (q_.empty()) return false;
      f = std::move(q_.front());
      q_.pop_front();
    }
    f();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
};

std::string TempDir() {
  char tmpl[] = "/tmp/live_list_test.XXXXXX";
  return mkdtemp(tmpl);
}

Listing MakeListing(const Subject& s, std::uint8_t code, std::int64_t expires) {
  Listing l;
  l.subject = s;
  l.code = code;
  l.reason = "code " + std::to_string(code);
  l.origin = Origin::kOperator;
  l.origin_id = "test";
  l.expires = expires;
  return l;
}

// The model: committed listings and whitelist entries; the answer for an
// address is the longest covering entry (a whitelist entry answers nothing).
struct Model {
  std::map<std::pair<int, std::uint32_t>, std::uint8_t> listed;  // (len, net) → code
  std::map<std::pair<int, std::uint32_t>, bool> white;
  int Answer(std::uint32_t a) const {
    for (int len = 32; len >= 0; --len) {
      const std::uint32_t net = len == 0 ? 0 : a & (~0u << (32 - len));
      if (white.count({len, net})) return 0;
      auto it = listed.find({len, net});
      if (it != listed.end()) return it->second;
    }
    return 0;
  }
};

int Served(const table::OverlaySetHolder& h, std::uint32_t a) {
  auto os = h.Current();
  if (os == nullptr || os->list(0) == nullptr) return -1;
  const table::LiveMatch m = table::LookupLive4(*os->list(0), a);
  if (m.match != table::Match::kListed) return 0;
  return static_cast<int>(m.value->a & 0xff);
}

// One random change of subject `s` (model key `key`) through `lists`, and
// the same change to the model: an add (refused under a whitelist entry), a
// delete, a whitelist add (which delists what it covers) or a whitelist
// delete. `subject_of` gives the subject of a model key.
template <class Key, class SubjectOf>
void RandomChange(LiveLists& lists, TaskQueue& tasks, std::mt19937& rng, const Subject& s,
                  const Key& key, std::map<Key, std::uint8_t>& listed, std::map<Key, bool>& white,
                  SubjectOf subject_of) {
  int pending = 1;
  auto done = [&](absl::Status) { --pending; };
  const int op = static_cast<int>(rng() % 10);
  if (op < 6) {
    const auto code = static_cast<std::uint8_t>(2 + rng() % 100);
    bool covered = false;
    for (const auto& [w, _] : white) covered |= subject_of(w).Covers(s);
    lists.Add("traps", {MakeListing(s, code, 0)}, {}, [&, covered, code](absl::Status st) {
      EXPECT_EQ(st.ok(), !covered) << st;
      if (st.ok()) listed[key] = code;
      --pending;
    });
  } else if (op < 8) {
    lists.Delete("traps", {s}, {}, done);
    listed.erase(key);
  } else if (op < 9) {
    WhitelistEntry w;
    w.subject = s;
    lists.WhitelistAdd("traps", w, {}, done);
    white[key] = true;
    for (auto it = listed.begin(); it != listed.end();) {
      it = s.Covers(subject_of(it->first)) ? listed.erase(it) : std::next(it);
    }
  } else {
    lists.WhitelistDelete("traps", s, done);
    white.erase(key);
  }
  tasks.RunUntil(&pending);
}

// Run with the mid layer folded rarely (recent_max 2048) and every few
// changes (recent_max 3): base, mid and delta together answer the same.
class LiveListsLayersTest : public ::testing::TestWithParam<std::size_t> {};
INSTANTIATE_TEST_SUITE_P(RecentMax, LiveListsLayersTest, ::testing::Values(2048, 3));

TEST_P(LiveListsLayersTest, RandomChangesAnswerAsTheModel) {
  const std::string dir = TempDir();
  std::mt19937 rng(5);
  Model model;
  {
    auto store = Store::Open(dir + "/live.mdb");
    ASSERT_TRUE(store.ok()) << store.status();
    table::OverlaySetHolder holder;
    TaskQueue tasks;
    LiveListsOptions opts;
    opts.compact_at = 40;  // compact often
    opts.recent_max = GetParam();
    LiveLists lists(store->get(), &holder, {{"traps", 60}}, tasks.Poster(), opts);
    ASSERT_TRUE(lists.Load(1000).ok());
    const int kLens[] = {8, 16, 24, 28, 32, 32, 32};
    auto random_subject = [&] {
      const int len = kLens[rng() % std::size(kLens)];
      const std::uint32_t a = 0x0a000000u | (rng() & 0x00ff00ffu);
      return Subject::Ip(dns::IpAddress::V4(a), static_cast<std::size_t>(len));
    };
    for (int step = 0; step < 400; ++step) {
      const Subject s = random_subject();
      const std::pair<int, std::uint32_t> key{s.len, s.addr.v4()};
      RandomChange(lists, tasks, rng, s, key, model.listed, model.white, [](const auto& k) {
        return Subject::Ip(dns::IpAddress::V4(k.second), static_cast<std::size_t>(k.first));
      });
      lists.Tick(1000);
      if (step % 25 == 0) {
        // Let a running compaction land.
        while (lists.stats("traps").delta_slots >= opts.compact_at && tasks.RunOne()) {
        }
      }
      for (int q = 0; q < 30; ++q) {
        const std::uint32_t a = 0x0a000000u | (rng() & 0x00ff00ffu);
        ASSERT_EQ(Served(holder, a), model.Answer(a))
            << "step " << step << " addr " << std::hex << a;
      }
    }
    EXPECT_GT(lists.stats("traps").compactions, 0u);
  }
  // A restart serves the same from the store alone.
  auto store = Store::Open(dir + "/live.mdb");
  ASSERT_TRUE(store.ok()) << store.status();
  table::OverlaySetHolder holder;
  TaskQueue tasks;
  LiveLists lists(store->get(), &holder, {{"traps", 60}}, tasks.Poster());
  ASSERT_TRUE(lists.Load(1000).ok());
  for (int q = 0; q < 2000; ++q) {
    const std::uint32_t a = 0x0a000000u | (rng() & 0x00ff00ffu);
    ASSERT_EQ(Served(holder, a), model.Answer(a)) << "after reopen, addr " << std::hex << a;
  }
  std::filesystem::remove_all(dir);
}

// Names: exact and wildcard listings and whitelist entries over a small
// tree, with compactions every few changes (they merge each slot's record
// into the base: an exact name answered by its wildcard's listing, a slot
// with no record dropping the base's entry): every name answers as the
// model, and again after a restart from the store alone.
struct NameModel {
  std::map<std::pair<std::string, bool>, std::uint8_t> listed;  // (name, wildcard) → code
  std::map<std::pair<std::string, bool>, bool> white;
  // The most specific entry decides: at the name itself a whitelist entry
  // (exact or wildcard) before its exact listing before its wildcard
  // listing; above it, the nearest wildcard (whitelist first).
  int Answer(const std::string& q) const {
    std::string n = q;
    for (bool self = true;; self = false) {
      if (self) {
        if (white.count({n, false}) || white.count({n, true})) return 0;
        if (auto it = listed.find({n, false}); it != listed.end()) return it->second;
      }
      if (white.count({n, true})) return 0;
      if (auto it = listed.find({n, true}); it != listed.end()) return it->second;
      const auto dot = n.find('.');
      if (dot == std::string::npos) return 0;
      n = n.substr(dot + 1);
    }
  }
};

int ServedName(const table::OverlaySetHolder& h, const std::string& name) {
  auto os = h.Current();
  if (os == nullptr || os->list(0) == nullptr) return -1;
  std::string labels;
  EXPECT_TRUE(dns::ParseName(name, &labels));
  const table::LiveMatch m = table::LookupLiveName(
      *os->list(0), {reinterpret_cast<const std::uint8_t*>(labels.data()), labels.size()});
  if (m.match != table::Match::kListed) return 0;
  return static_cast<int>(m.value->a & 0xff);
}

TEST_P(LiveListsLayersTest, RandomNameChangesAnswerAsTheModel) {
  const std::string dir = TempDir();
  std::mt19937 rng(8);
  const char* const kNames[] = {"a.test",       "b.a.test", "c.b.a.test", "x.b.a.test",
                                "y.c.b.a.test", "z.test",   "q.z.test"};
  NameModel model;
  {
    auto store = Store::Open(dir + "/live.mdb");
    ASSERT_TRUE(store.ok()) << store.status();
    table::OverlaySetHolder holder;
    TaskQueue tasks;
    LiveListsOptions opts;
    opts.compact_at = 12;  // compact often
    opts.recent_max = GetParam();
    LiveLists lists(store->get(), &holder, {{"traps", 60}}, tasks.Poster(), opts);
    ASSERT_TRUE(lists.Load(1000).ok());
    for (int step = 0; step < 300; ++step) {
      Subject s;
      s.kind = Subject::Kind::kName;
      s.name = kNames[rng() % std::size(kNames)];
      s.wildcard = rng() % 2 == 0;
      const std::pair<std::string, bool> key{s.name, s.wildcard};
      RandomChange(lists, tasks, rng, s, key, model.listed, model.white, [](const auto& k) {
        Subject n;
        n.kind = Subject::Kind::kName;
        n.name = k.first;
        n.wildcard = k.second;
        return n;
      });
      lists.Tick(1000);
      if (step % 10 == 0) {
        while (lists.stats("traps").delta_slots >= opts.compact_at && tasks.RunOne()) {
        }
      }
      for (const char* q : kNames) {
        ASSERT_EQ(ServedName(holder, q), model.Answer(q)) << "step " << step << " name " << q;
      }
      ASSERT_EQ(ServedName(holder, "new.q.z.test"), model.Answer("new.q.z.test")) << step;
    }
    EXPECT_GT(lists.stats("traps").compactions, 0u);
  }
  auto store = Store::Open(dir + "/live.mdb");
  ASSERT_TRUE(store.ok()) << store.status();
  table::OverlaySetHolder holder;
  TaskQueue tasks;
  LiveLists lists(store->get(), &holder, {{"traps", 60}}, tasks.Poster());
  ASSERT_TRUE(lists.Load(1000).ok());
  for (const char* q : kNames) {
    EXPECT_EQ(ServedName(holder, q), model.Answer(q)) << "after reopen, name " << q;
  }
  std::filesystem::remove_all(dir);
}

TEST(LiveListsTest, ExpiresAtItsTime) {
  const std::string dir = TempDir();
  auto store = Store::Open(dir + "/live.mdb");
  ASSERT_TRUE(store.ok()) << store.status();
  table::OverlaySetHolder holder;
  TaskQueue tasks;
  LiveLists lists(store->get(), &holder, {{"traps", 60}}, tasks.Poster());
  ASSERT_TRUE(lists.Load(1000).ok());
  const auto a = dns::IpAddress::V4(0x7f000007);
  int pending = 2;
  auto done = [&](absl::Status st) {
    EXPECT_TRUE(st.ok()) << st;
    --pending;
  };
  lists.Add("traps", {MakeListing(Subject::Ip(a, 32), 2, 1010)}, {}, done);
  lists.Add("traps", {MakeListing(Subject::Ip(a, 24), 3, 1020)}, {}, done);
  tasks.RunUntil(&pending);
  lists.Tick(1000);
  EXPECT_EQ(Served(holder, 0x7f000007), 2);
  EXPECT_EQ(lists.next_expiry(), 1010);
  lists.Tick(1009);
  EXPECT_EQ(Served(holder, 0x7f000007), 2);
  lists.Tick(1010);  // due: deleted in a transaction, applied when it lands
  ASSERT_TRUE(tasks.RunOne());
  lists.Tick(1010);
  EXPECT_EQ(Served(holder, 0x7f000007), 3) << "the covering /24 answers once the /32 expired";
  EXPECT_EQ(lists.next_expiry(), 1020);
  lists.Tick(1020);
  ASSERT_TRUE(tasks.RunOne());
  lists.Tick(1020);
  EXPECT_EQ(Served(holder, 0x7f000007), 0);
  EXPECT_EQ(lists.next_expiry(), 0);
  EXPECT_EQ(lists.stats("traps").expired, 2u);
  std::filesystem::remove_all(dir);
}

TEST(LiveListsTest, UnknownListIsAnError) {
  const std::string dir = TempDir();
  auto store = Store::Open(dir + "/live.mdb");
  ASSERT_TRUE(store.ok());
  table::OverlaySetHolder holder;
  TaskQueue tasks;
  LiveLists lists(store->get(), &holder, {{"traps", 60}}, tasks.Poster());
  absl::Status got;
  lists.Add("nope", {}, {}, [&](absl::Status st) { got = st; });
  EXPECT_EQ(got.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.message().find("nope"), std::string::npos);
  EXPECT_EQ(lists.SlotOf("traps"), 0);
  EXPECT_EQ(lists.SlotOf("nope"), -1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::feed
