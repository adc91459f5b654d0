// The live store under kill -9 of the real meshbld (issue 11, "Crash-safe
// store"): clients drive `add`/`del` changes over the control socket as fast
// as they can, several requests in flight per connection, while the daemon
// is SIGKILLed at a random moment, 20 times on one store. After every kill:
//  * the store opens without a repair step (no such step exists: the test
//    opens it itself and decodes every record) and meshbld restarts on it;
//  * every acknowledged change (its `ok` was read) is in `list` and answered
//    over DNS (A 127.0.0.CODE, or NXDOMAIN for a deleted subject); a subject
//    whose last change was not acknowledged may be in any state one of its
//    unacknowledged changes or its last acknowledged one left;
//  * meshbld rebuilt its tables from the store (its start-up line counts
//    what `list` lists).
// The seed is printed (MESHBL_CRASH_SEED=N reruns one). Each round kills
// within 0.5 s of the start of driving; the whole test takes ~10 s.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meshbl/feed/codec.h"
#include "meshbl/feed/control.h"
#include "meshbl/feed/store.h"
#include "tests/integration/daemon_util.h"

namespace meshbl::testing::daemon {
namespace {

constexpr int kRounds = 20;
constexpr std::size_t kDrivers = 4;      // control connections, each with its own subjects
constexpr int kSubjectsPerDriver = 120;  // disjoint subjects: no one covers another
constexpr std::size_t kWindow = 48;      // requests in flight per connection
constexpr int kMaxOpsPerRound = 200000;  // per driver; the kill comes long before
constexpr const char* kZone = "bl.example";
constexpr const char* kList = "crash";

// One subject: its control-socket text and the DNS name that asks for it.
struct Subject {
  std::string text;
  std::string query;
};

std::string Dotted(std::uint32_t a) {
  return absl::StrFormat("%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}
std::string Reverse4(std::uint32_t a) {
  return absl::StrFormat("%u.%u.%u.%u", a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >> 24);
}

// Driver d's subjects: /32s, IPv4 /24s, IPv6 /128s and /48s, names and
// wildcard names, none covering another (so each answers only for itself).
std::vector<Subject> SubjectsOf(std::size_t d) {
  std::vector<Subject> out;
  for (int i = 0; i < kSubjectsPerDriver; ++i) {
    const int n = static_cast<int>(d) * kSubjectsPerDriver + i;
    const auto un = static_cast<std::uint32_t>(n);
    Subject s;
    switch (i % 6) {
      case 0: {  // 100.64.0.7 + N * 256
        const std::uint32_t a = 0x64400007u | (un << 8);
        s.text = Dotted(a);
        s.query = Reverse4(a);
        break;
      }
      case 1: {  // 100.72.0.0/24 + N * 256, asked for its .77
        const std::uint32_t a = 0x6448004du | (un << 8);
        s.text = Dotted(a & ~0xffu) + "/24";
        s.query = Reverse4(a);
        break;
      }
      case 2: {  // 2001:db8::N:1
        s.text = absl::StrFormat("2001:db8::%x:1", n);
        std::string q = "1.0.0.0.";
        for (int k = 0; k < 4; ++k) q += absl::StrFormat("%x.", (n >> (4 * k)) & 0xf);
        for (int k = 0; k < 16; ++k) q += "0.";
        q += "8.b.d.0.1.0.0.2";
        s.query = q;
        break;
      }
      case 3: {  // 2001:db8:N::/48, asked for 2001:db8:N::5
        s.text = absl::StrFormat("2001:db8:%x::/48", n);
        std::string q = "5.";
        for (int k = 0; k < 19; ++k) q += "0.";
        for (int k = 0; k < 4; ++k) q += absl::StrFormat("%x.", (n >> (4 * k)) & 0xf);
        q += "8.b.d.0.1.0.0.2";
        s.query = q;
        break;
      }
      case 4:
        s.text = absl::StrFormat("h%d.crash.test", n);
        s.query = s.text;
        break;
      default:  // the name and every name below: asked for a name below
        s.text = absl::StrFormat(".w%d.crash.test", n);
        s.query = absl::StrFormat("x.y.w%d.crash.test", n);
        break;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// What the test knows of one subject: the state its last acknowledged
// change left (nullopt: not listed; else the code), and the changes sent
// after it whose replies were never read.
struct Known {
  std::optional<int> acked;
  std::vector<std::optional<int>> unacked;
  bool Allows(std::optional<int> state) const {
    return state == acked || std::find(unacked.begin(), unacked.end(), state) != unacked.end();
  }
  std::string Describe() const {
    auto one = [](std::optional<int> s) { return s ? absl::StrCat("code ", *s) : "absent"; };
    std::string out = absl::StrCat("last acknowledged: ", one(acked));
    if (!unacked.empty()) {
      out += "; unacknowledged after it:";
      for (auto s : unacked) out += " " + one(s);
    }
    return out;
  }
};

// One control connection driving changes on its own subjects until the
// connection fails (the daemon was killed) or the op bound is reached.
struct Driver {
  int index = 0;
  std::vector<Subject> subjects;
  std::vector<Known> known;
  std::uint64_t acked = 0;
  std::string failure;  // a reply other than ok (a product error)

  void Run(const std::string& socket, std::uint64_t seed) {
    auto client = feed::ControlClient::Connect(socket);
    if (!client.ok()) return;  // killed before this connection was made
    std::mt19937_64 rng(seed);
    struct Sent {
      std::size_t subject;
      std::optional<int> state;
    };
    std::deque<Sent> in_flight;
    bool alive = true;
    for (int op = 0; op < kMaxOpsPerRound && alive; ++op) {
      while (alive && in_flight.size() < kWindow) {
        const std::size_t s = rng() % subjects.size();
        std::optional<int> state;
        if (rng() % 10 < 6) state = static_cast<int>(2 + rng() % 250);
        const std::string line =
            state ? absl::StrCat("add ", kList, " ", subjects[s].text, " code=", *state)
                  : absl::StrCat("del ", kList, " ", subjects[s].text);
        // Recorded before it is sent: a request that may have reached the
        // daemon is a possible outcome.
        known[s].unacked.push_back(state);
        in_flight.push_back({s, state});
        alive = client->Send(line).ok();
      }
      if (!alive) break;
      auto reply = client->Read();
      if (!reply.ok()) break;  // killed
      const Sent sent = in_flight.front();
      in_flight.pop_front();
      if (!reply->ok) {
        failure = absl::StrCat(subjects[sent.subject].text, ": ", reply->error);
        return;
      }
      // Replies come in request order, and one subject's changes apply in
      // the order sent: the acknowledged one is the oldest unacknowledged.
      Known& k = known[sent.subject];
      k.acked = sent.state;
      k.unacked.erase(k.unacked.begin());
      ++acked;
    }
  }
};

// The listings `list` shows, by subject text: the code.
absl::StatusOr<std::map<std::string, int>> ListAll(const std::string& socket) {
  auto client = feed::ControlClient::Connect(socket);
  if (!client.ok()) return client.status();
  auto reply = client->Call(absl::StrCat("list ", kList));
  if (!reply.ok()) return reply.status();
  if (!reply->ok) return absl::InternalError(reply->error);
  std::map<std::string, int> out;
  for (const std::string& line : reply->lines) {
    const std::size_t sp = line.find(' ');
    const std::size_t code = line.find(" code=");
    if (sp == std::string::npos || code != sp) {
      return absl::InternalError(absl::StrCat("unexpected list line: ", line));
    }
    out[line.substr(0, sp)] = std::atoi(line.c_str() + code + 6);
  }
  return out;
}

// Opens the store as meshbld left it (no creation, no repair) and decodes
// every listing; returns how many there are.
absl::StatusOr<std::size_t> CheckStoreOpens(const std::string& path) {
  feed::StoreOptions o;
  o.create = false;
  auto store = feed::Store::Open(path, o);
  if (!store.ok()) return store.status();
  std::size_t n = 0;
  absl::Status bad;
  auto st = (*store)->Scan(feed::Table::kListings, "", [&](std::string_view k, std::string_view v) {
    auto l = feed::DecodeListing(v);
    if (!l.ok()) {
      bad = absl::DataLossError(
          absl::StrCat("listing ", k.size(), " key bytes: ", l.status().message()));
      return false;
    }
    ++n;
    return true;
  });
  if (!st.ok()) return st;
  if (!bad.ok()) return bad;
  return n;
}

std::uint64_t Seed() {
  if (const char* s = std::getenv("MESHBL_CRASH_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 10);
  }
  return std::random_device{}();
}

TEST(LiveCrashTest, EveryAcknowledgedChangeSurvivesKill9) {
  const std::uint64_t seed = Seed();
  std::printf("live_crash_test seed %" PRIu64 " (MESHBL_CRASH_SEED=%" PRIu64 " reruns it)\n", seed,
              seed);
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  TempDir dir;
  WriteFile(dir / "live.toml", absl::StrCat("[list.", kList, "]\n"));
  const std::string store = (dir / "live.mdb").string();
  const std::string socket = (dir / "ctl").string();
  const std::vector<std::string> args = {"--live-config",
                                         (dir / "live.toml").string(),
                                         "--live-store",
                                         store,
                                         "--control-socket",
                                         socket,
                                         absl::StrCat(kZone, ":live:", kList)};

  std::vector<Driver> drivers(kDrivers);
  for (std::size_t d = 0; d < kDrivers; ++d) {
    drivers[d].index = static_cast<int>(d);
    drivers[d].subjects = SubjectsOf(d);
    drivers[d].known.resize(drivers[d].subjects.size());
  }
  std::uint64_t total_acked = 0;
  double total_drive_s = 0;
  for (int round = 0; round <= kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round, " (seed ", seed, ")"));
    if (round > 0) {
      auto listed = CheckStoreOpens(store);
      ASSERT_TRUE(listed.ok()) << "the store after kill -9: " << listed.status();
    }
    // The last run's log must not be read as this one's "started".
    fs::remove(dir / "daemon.out");
    fs::remove(dir / "daemon.err");
    Daemon daemon(dir, args);
    ASSERT_TRUE(daemon.WaitStarted()) << daemon.Out() << daemon.Err();
    EXPECT_EQ(daemon.Count("damaged record"), 0) << daemon.Err();

    // Every subject: `list` and DNS agree with what was acknowledged.
    auto listed = ListAll(socket);
    ASSERT_TRUE(listed.ok()) << listed.status();
    // The tables were rebuilt from the store: one entry per listing, and
    // one more for the name itself of a wildcard name.
    std::size_t entries = listed->size();
    for (const auto& [text, code] : *listed) entries += text.front() == '.';
    const std::string loaded =
        absl::StrCat("live list ", kList, ": ", entries, " entries from the store");
    EXPECT_EQ(daemon.Count(loaded), 1) << "expected '" << loaded << "' in\n" << daemon.Out();
    std::size_t ours = 0;
    Client dns(daemon.port());
    for (Driver& dr : drivers) {
      for (std::size_t i = 0; i < dr.subjects.size(); ++i) {
        const Subject& s = dr.subjects[i];
        Known& k = dr.known[i];
        const auto it = listed->find(s.text);
        const std::optional<int> in_list =
            it == listed->end() ? std::nullopt : std::optional<int>(it->second);
        ours += in_list.has_value();
        EXPECT_TRUE(k.Allows(in_list))
            << s.text << ": list shows "
            << (in_list ? absl::StrCat("code ", *in_list) : std::string("nothing")) << "; "
            << k.Describe();
        Reply r;
        for (int attempt = 0; attempt < 3 && !r.got; ++attempt) {  // UDP: a loss is retried
          r = dns.Query(absl::StrCat(s.query, ".", kZone), LDNS_RR_TYPE_A);
        }
        ASSERT_TRUE(r.got) << s.query << ": no DNS reply";
        if (in_list) {
          EXPECT_EQ(r.rcode, LDNS_RCODE_NOERROR) << s.text;
          EXPECT_EQ(r.a, std::vector<std::string>{absl::StrCat("127.0.0.", *in_list)})
              << s.text << " asked as " << s.query;
        } else {
          EXPECT_EQ(r.rcode, LDNS_RCODE_NXDOMAIN) << s.text << " asked as " << s.query;
          EXPECT_TRUE(r.a.empty()) << s.text;
        }
        // What the restart shows is now the committed state.
        k.acked = in_list;
        k.unacked.clear();
      }
    }
    EXPECT_EQ(ours, listed->size()) << "list shows subjects nobody added";
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "meshbld log:\n" << daemon.Out() << daemon.Err();
      return;
    }
    if (round == kRounds) {
      // A read pipelined behind changes on one connection sees them.
      auto c = feed::ControlClient::Connect(socket);
      ASSERT_TRUE(c.ok()) << c.status();
      const std::string x = "192.0.2.99";
      for (const std::string& line :
           {absl::StrCat("add ", kList, " ", x, " code=9"), absl::StrCat("list ", kList, " ", x),
            absl::StrCat("del ", kList, " ", x), absl::StrCat("list ", kList, " ", x)}) {
        ASSERT_TRUE(c->Send(line).ok());
      }
      std::vector<feed::Reply> replies;
      for (int i = 0; i < 4; ++i) {
        auto r = c->Read();
        ASSERT_TRUE(r.ok()) << r.status();
        EXPECT_TRUE(r->ok) << r->error;
        replies.push_back(*std::move(r));
      }
      ASSERT_EQ(replies[1].lines.size(), 1u) << "list right after add";
      EXPECT_TRUE(replies[1].lines[0].starts_with(x + " code=9 ")) << replies[1].lines[0];
      EXPECT_TRUE(replies[3].lines.empty()) << "list right after del: " << replies[3].lines[0];
      break;
    }

    // Drive changes; kill -9 at a random moment.
    const auto kill_after = std::chrono::milliseconds(20 + rng() % 480);
    std::vector<std::uint64_t> before(kDrivers);
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t d = 0; d < kDrivers; ++d) {
      before[d] = drivers[d].acked;
      threads.emplace_back([&, d, s = rng()] { drivers[d].Run(socket, s); });
    }
    std::this_thread::sleep_for(kill_after);
    daemon.Signal(SIGKILL);
    for (std::thread& t : threads) t.join();
    total_drive_s +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(daemon.WaitExit(), 128 + SIGKILL) << daemon.Err();
    std::uint64_t acked = 0;
    for (std::size_t d = 0; d < kDrivers; ++d) {
      ASSERT_EQ(drivers[d].failure, "") << "driver " << d;
      acked += drivers[d].acked - before[d];
    }
    total_acked += acked;
    std::printf("round %d: killed after %lld ms, %" PRIu64 " changes acknowledged\n", round,
                static_cast<long long>(kill_after.count()), acked);
  }
  std::printf("%" PRIu64 " changes acknowledged in %.1f s of driving (%.0f/s)\n", total_acked,
              total_drive_s,
              total_drive_s > 0 ? static_cast<double>(total_acked) / total_drive_s : 0);
  EXPECT_GT(total_acked, 0u);
}

}  // namespace
}  // namespace meshbl::testing::daemon
