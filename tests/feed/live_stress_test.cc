// Readers answering while the feed publishes and compacts (issue 11, the
// TSan stress test; scripts/dev runs it under ThreadSanitizer). Reader
// threads look subjects up through their own OverlaySetReader (Refresh once
// per batch, as the UDP workers do) while the feed thread drives a LiveLists
// over a real LMDB store: adds, deletes, expiries, ticks that publish, and a
// compaction every few ticks (compact_at is tiny).
//
// What a reader may see: states of some committed prefix of the changes.
//  * "Permanent" subjects P0, P1, ... are added in that order, one
//    transaction each, and never deleted: in every snapshot a reader takes,
//    the listed ones are exactly P0..Pk for some k, each with its own code,
//    and k never decreases from one of the reader's batches to the next.
//  * "Churn" subjects are added (some with an expiry), deleted and expired
//    over and over, each always with its own code: a reader sees that code
//    or nothing. Some cover permanent subjects (a /24 over /32s, a /48 over
//    /128s, a wildcard name over names below it): adding or withdrawing them
//    must never change what the more specific permanent subject answers.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "meshbl/dns/name.h"
#include "meshbl/feed/live_list.h"
#include "meshbl/table/swap.h"

namespace meshbl::feed {
namespace {

constexpr int kReaders = 3;
constexpr int kGroups = 16;            // covering churn subjects per kind
constexpr int kPermanentPerGroup = 6;  // permanent subjects inside each
constexpr int kChurnSingles = 24;      // churn subjects covering nothing, per kind
constexpr int kSteps = 300;            // feed iterations (a tick each)
constexpr int kChangesPerStep = 4;

// One subject and how a reader asks for it.
struct Probe {
  Subject subject;
  int code = 0;
  int cover_code = -1;  // permanent subjects: the code of the churn subject covering it
  enum class Kind { kIp4, kIp6, kName } kind = Kind::kIp4;
  std::uint32_t v4 = 0;  // host order
  std::uint64_t hi = 0, lo = 0;
  std::string labels;  // names: the label sequence (dns/name.h)
};

Probe MakeProbe(const std::string& text, const std::string& ask, int code) {
  Probe p;
  p.subject = *Subject::Parse(text);
  p.code = code;
  const auto a = dns::IpAddress::Parse(ask);
  if (a && a->is_v4()) {
    p.kind = Probe::Kind::kIp4;
    p.v4 = a->v4();
  } else if (a) {
    p.kind = Probe::Kind::kIp6;
    const auto b = a->bytes();
    for (std::size_t i = 0; i < 8; ++i) p.hi = (p.hi << 8) | b[i];
    for (std::size_t i = 8; i < 16; ++i) p.lo = (p.lo << 8) | b[i];
  } else {
    p.kind = Probe::Kind::kName;
    EXPECT_TRUE(dns::ParseName(ask, &p.labels)) << ask;
  }
  return p;
}

// The code `p` answers in `t`, or 0.
int Answer(const table::LiveTables& t, const Probe& p) {
  table::LiveMatch m;
  switch (p.kind) {
    case Probe::Kind::kIp4:
      m = table::LookupLive4(t, p.v4);
      break;
    case Probe::Kind::kIp6:
      m = table::LookupLive6(t, p.hi, p.lo);
      break;
    case Probe::Kind::kName:
      m = table::LookupLiveName(
          t, {reinterpret_cast<const std::uint8_t*>(p.labels.data()), p.labels.size()});
      break;
  }
  if (m.match != table::Match::kListed) return 0;
  return static_cast<int>(m.value->a & 0xff);
}

// The feed thread's task queue (EventLoop::Post in the daemon).
class Tasks {
 public:
  LiveLists::Post Poster() {
    return [this](std::function<void()> f) {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
      cv_.notify_all();
    };
  }
  // Runs queued tasks until `*pending` is 0 (bounded: 10 s).
  bool RunUntil(const int* pending) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (*pending > 0) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(mu_);
        if (!cv_.wait_until(l, deadline, [&] { return !q_.empty(); })) return false;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
    return true;
  }
  // Runs what is queued now (compaction results), without waiting.
  void RunReady() {
    for (;;) {
      std::function<void()> f;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
};

TEST(LiveStressTest, ReadersSeeCommittedPrefixesWhileTheFeedPublishesAndCompacts) {
  char tmpl[] = "/tmp/live_stress_test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  StoreOptions so;
  so.durable = false;  // a real LMDB store; syncs would only slow the test
  auto store = Store::Open(dir + "/live.mdb", so);
  ASSERT_TRUE(store.ok()) << store.status();

  // Permanent subjects, interleaved over the kinds and groups, and churn
  // subjects: one covering subject per group, and singles.
  std::vector<Probe> permanent, churn;
  // Codes 2..199 for subjects that cover nothing (repeats do not matter:
  // each is checked at its own probe), 200.. for the covering ones, so a
  // permanent subject's code never equals its cover's.
  int code = 2;
  auto next_code = [&] { return code = code == 199 ? 2 : code + 1; };
  auto cover_code = [](int g, int kind) { return 200 + 3 * g + kind; };
  for (int i = 0; i < kPermanentPerGroup; ++i) {
    for (int g = 0; g < kGroups; ++g) {
      const std::string v4 = absl::StrCat("100.64.", g, ".", 10 + i);
      permanent.push_back(MakeProbe(v4, v4, next_code()));
      permanent.back().cover_code = cover_code(g, 0);
      const std::string v6 = absl::StrCat("2001:db8:", g, "::", 10 + i);
      permanent.push_back(MakeProbe(v6, v6, next_code()));
      permanent.back().cover_code = cover_code(g, 1);
      const std::string name = absl::StrCat("p", i, ".z", g, ".stress.test");
      permanent.push_back(MakeProbe(name, name, next_code()));
      permanent.back().cover_code = cover_code(g, 2);
    }
  }
  for (int g = 0; g < kGroups; ++g) {
    churn.push_back(MakeProbe(absl::StrCat("100.64.", g, ".0/24"),
                              absl::StrCat("100.64.", g, ".200"), cover_code(g, 0)));
    churn.push_back(MakeProbe(absl::StrCat("2001:db8:", g, "::/48"),
                              absl::StrCat("2001:db8:", g, "::ff:1"), cover_code(g, 1)));
    churn.push_back(MakeProbe(absl::StrCat(".z", g, ".stress.test"),
                              absl::StrCat("q.z", g, ".stress.test"), cover_code(g, 2)));
  }
  for (int i = 0; i < kChurnSingles; ++i) {
    const std::string v4 = absl::StrCat("100.65.", i, ".1");
    churn.push_back(MakeProbe(v4, v4, next_code()));
    const std::string v6 = absl::StrCat("2001:db8:ffff::", i + 1);
    churn.push_back(MakeProbe(v6, v6, next_code()));
    const std::string name = absl::StrCat("c", i, ".stress.test");
    churn.push_back(MakeProbe(name, name, next_code()));
  }

  table::OverlaySetHolder holder;
  Tasks tasks;
  LiveListsOptions opts;
  opts.compact_at = 12;
  LiveLists lists(store->get(), &holder, {{"stress", 60}}, tasks.Poster(), opts);
  std::int64_t now = 1000;
  ASSERT_TRUE(lists.Load(now).ok());

  std::atomic<bool> stop{false};
  struct ReaderResult {
    std::uint64_t batches = 0, generations = 0;
    std::atomic<std::size_t> max_prefix{0};  // read by the feed thread while it waits
    std::string error;
  };
  std::vector<ReaderResult> results(kReaders);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      ReaderResult& out = results[static_cast<std::size_t>(r)];
      table::OverlaySetReader reader(holder);
      std::size_t prefix = 0;  // permanent subjects seen listed
      const table::OverlaySet* last = nullptr;
      // Bounded: the feed stops it long before.
      for (int batch = 0; batch < 10'000'000 && !stop.load(std::memory_order_relaxed); ++batch) {
        const table::OverlaySet* os = reader.Refresh();
        const table::LiveTables* t = os == nullptr ? nullptr : os->list(0);
        if (t == nullptr) continue;
        ++out.batches;
        out.generations += os != last;
        last = os;
        std::size_t listed = 0, first_gap = permanent.size();
        for (std::size_t i = 0; i < permanent.size(); ++i) {
          // Its own code once listed; before, its cover's or nothing.
          const int got = Answer(*t, permanent[i]);
          if (got != 0 && got != permanent[i].code && got != permanent[i].cover_code) {
            out.error = absl::StrCat(permanent[i].subject.ToString(), " answered code ", got,
                                     ", listed with ", permanent[i].code, " under ",
                                     permanent[i].cover_code);
            return;
          }
          if (got == permanent[i].code) {
            ++listed;
          } else if (first_gap == permanent.size()) {
            first_gap = i;
          }
        }
        if (listed != first_gap && !(first_gap == permanent.size())) {
          out.error =
              absl::StrCat("not a committed prefix: ", listed, " listed, but ",
                           permanent[first_gap].subject.ToString(), " (#", first_gap, ") is not");
          return;
        }
        if (listed < prefix) {
          out.error = absl::StrCat(permanent[listed].subject.ToString(), " was listed, then not");
          return;
        }
        prefix = listed;
        if (prefix > out.max_prefix.load()) out.max_prefix.store(prefix);
        for (const Probe& p : churn) {
          const int got = Answer(*t, p);
          if (got != 0 && got != p.code) {
            out.error = absl::StrCat(p.subject.ToString(), " answered code ", got,
                                     ", only ever listed with ", p.code);
            return;
          }
        }
        // Workers wait for packets between batches; leave the feed a core.
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    });
  }

  // The feed: changes, their completions, a tick per step.
  std::mt19937 rng(11);
  std::size_t next_permanent = 0;
  for (int step = 0; step < kSteps; ++step) {
    int pending = 0;
    auto done = [&pending](absl::Status st) {
      EXPECT_TRUE(st.ok()) << st;
      --pending;
    };
    for (int c = 0; c < kChangesPerStep; ++c) {
      ++pending;
      if (next_permanent < permanent.size() && rng() % 3 == 0) {
        const Probe& p = permanent[next_permanent++];
        Listing l;
        l.subject = p.subject;
        l.code = static_cast<std::uint8_t>(p.code);
        lists.Add("stress", {l}, {}, done);
        continue;
      }
      const Probe& p = churn[rng() % churn.size()];
      if (rng() % 2 == 0) {
        Listing l;
        l.subject = p.subject;
        l.code = static_cast<std::uint8_t>(p.code);
        if (rng() % 3 == 0) l.expires = now + 1 + static_cast<std::int64_t>(rng() % 5);
        lists.Add("stress", {l}, {}, done);
      } else {
        lists.Delete("stress", {p.subject}, {}, done);
      }
    }
    ASSERT_TRUE(tasks.RunUntil(&pending)) << "store completions did not arrive";
    tasks.RunReady();
    if (step % 4 == 0) ++now;
    lists.Tick(now);
  }
  // The rest of the permanent subjects, then let the readers see them all.
  while (next_permanent < permanent.size()) {
    int pending = 1;
    Listing l;
    l.subject = permanent[next_permanent].subject;
    l.code = static_cast<std::uint8_t>(permanent[next_permanent++].code);
    lists.Add("stress", {l}, {}, [&](absl::Status st) {
      EXPECT_TRUE(st.ok()) << st;
      --pending;
    });
    ASSERT_TRUE(tasks.RunUntil(&pending));
  }
  lists.Tick(now);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (bool all = false; !all && std::chrono::steady_clock::now() < deadline;) {
    tasks.RunReady();
    all = true;
    for (const ReaderResult& r : results) all = all && (r.max_prefix == permanent.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  tasks.RunReady();

  const LiveListStats stats = lists.stats("stress");
  std::printf("publishes %llu, compactions %llu, expired %llu\n",
              static_cast<unsigned long long>(stats.publishes),
              static_cast<unsigned long long>(stats.compactions),
              static_cast<unsigned long long>(stats.expired));
  EXPECT_GT(stats.compactions, 10u);
  EXPECT_GT(stats.expired, 0u);
  for (int r = 0; r < kReaders; ++r) {
    const ReaderResult& res = results[static_cast<std::size_t>(r)];
    std::printf("reader %d: %llu batches, %llu snapshots\n", r,
                static_cast<unsigned long long>(res.batches),
                static_cast<unsigned long long>(res.generations));
    EXPECT_EQ(res.error, "") << "reader " << r;
    EXPECT_EQ(res.max_prefix.load(), permanent.size())
        << "reader " << r << " never saw every subject";
    EXPECT_GT(res.generations, 1u) << "reader " << r << " saw no publish";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshbl::feed
