// store_bench: the live store's workload (issue 11) on LMDB and on SQLite in
// WAL mode, both durable on every commit, and on meshbl's Store (LMDB with
// group commit) with concurrent committers.
//
//   build/bench/store_bench [--dir=DIR] [--entries=N] [--seconds=S] [--reps=R]
//
// A table of N Listing records (keys: Subject keys of N IPv4 addresses,
// values: encoded Listings) is loaded once per engine; then for each batch
// size 1, 10, 100, 1000 the program commits transactions of that many changes
// (3 of 4 puts of a fresh Listing at a random key, 1 of 4 deletes of a random
// key) for S seconds, and reports durable commits/s and changes/s. Runs
// alternate the engines' order (R repetitions) and report the median and the
// range. Durability: LMDB's default commit (fdatasync of data then of the
// meta page); SQLite journal_mode=WAL with synchronous=FULL (WAL is fsync'd at
// every commit; synchronous=NORMAL would only sync at checkpoints and can lose
// the last commits on power loss, so it is not durable on commit).
//
// --paced_rate=R: then, for the store, R one-change transactions per second
// through CommitAsync from one thread, with the latency to durability.
//
// The "-scan" rows (batch 0) read the whole table in key order and decode
// every Listing, as a restart does: scans/s and entries/s.
//
// The "store" rows drive meshbl::feed::Store::Commit from T threads, each
// committing batches of B changes; T*B changes are in flight and one sync
// covers the committer's whole group.
#include <lmdb.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "meshbl/feed/codec.h"
#include "meshbl/feed/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using meshbl::feed::Listing;

struct Change {
  std::string key;
  std::string value;  // empty = delete
};

std::string KeyOf(std::uint64_t i) {
  // Spread the N addresses over the IPv4 space (a multiplicative hash keeps
  // them distinct for N < 2^32).
  const auto a = static_cast<std::uint32_t>(i * 2654435761u);
  return meshbl::feed::EncodeSubjectKey(
      meshbl::feed::Subject::Ip(meshbl::dns::IpAddress::V4(a), 32));
}

std::string ValueOf(std::uint64_t i, std::int64_t now) {
  Listing l;
  l.subject = meshbl::feed::Subject::Ip(
      meshbl::dns::IpAddress::V4(static_cast<std::uint32_t>(i * 2654435761u)), 32);
  l.code = 2;
  l.reason = "spamtrap hit, see https://example.net/lookup?ip=$";
  l.origin = meshbl::feed::Origin::kRule;
  l.origin_id = "traps";
  l.first_seen = now - 600;
  l.last_seen = now;
  l.expires = now + 3600;
  l.offenses = 1;
  return meshbl::feed::EncodeListing(l);
}

void MakeBatch(std::mt19937_64& rng, std::size_t entries, std::size_t n, std::int64_t now,
               std::vector<Change>* out) {
  out->clear();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = rng() % entries;
    out->push_back({KeyOf(k), rng() % 4 == 0 ? std::string() : ValueOf(k, now)});
  }
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char* name() const = 0;
  virtual void Apply(const std::vector<Change>& batch) = 0;  // one durable transaction
  // Reads every record in key order (what a restart does to rebuild the
  // served tables); returns how many.
  virtual std::size_t ScanAll(const std::function<void(std::string_view)>& fn) = 0;
};

class Lmdb : public Engine {
 public:
  // variant: "lmdb", "lmdb-writemap" or "lmdb-nosync" (not durable: the
  // CPU and page-cache cost alone).
  Lmdb(const std::string& path, const char* variant) : name_(variant) {
    const bool writemap = std::string(variant) == "lmdb-writemap";
    const bool nosync = std::string(variant) == "lmdb-nosync";
    Check(mdb_env_create(&env_), "create");
    Check(mdb_env_set_mapsize(env_, std::size_t{8} << 30), "mapsize");
    Check(mdb_env_set_maxdbs(env_, 8), "maxdbs");
    Check(mdb_env_open(env_, path.c_str(),
                       MDB_NOSUBDIR | MDB_NOTLS | (writemap ? MDB_WRITEMAP : 0u) |
                           (nosync ? MDB_NOSYNC : 0u),
                       0644),
          "open " + path);
    MDB_txn* t = nullptr;
    Check(mdb_txn_begin(env_, nullptr, 0, &t), "begin");
    Check(mdb_dbi_open(t, "listings", MDB_CREATE, &dbi_), "dbi");
    Check(mdb_txn_commit(t), "commit");
  }
  ~Lmdb() override { mdb_env_close(env_); }
  const char* name() const override { return name_; }
  std::size_t ScanAll(const std::function<void(std::string_view)>& fn) override {
    MDB_txn* t = nullptr;
    Check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t), "begin");
    MDB_cursor* c = nullptr;
    Check(mdb_cursor_open(t, dbi_, &c), "cursor");
    MDB_val k{}, v{};
    std::size_t n = 0;
    for (int op = MDB_FIRST; mdb_cursor_get(c, &k, &v, static_cast<MDB_cursor_op>(op)) == 0;
         op = MDB_NEXT, ++n)
      fn(std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return n;
  }
  void Apply(const std::vector<Change>& batch) override {
    MDB_txn* t = nullptr;
    Check(mdb_txn_begin(env_, nullptr, 0, &t), "begin");
    for (const auto& c : batch) {
      MDB_val k{c.key.size(), const_cast<char*>(c.key.data())};
      if (c.value.empty()) {
        const int rc = mdb_del(t, dbi_, &k, nullptr);
        if (rc != MDB_NOTFOUND) Check(rc, "del");
      } else {
        MDB_val v{c.value.size(), const_cast<char*>(c.value.data())};
        Check(mdb_put(t, dbi_, &k, &v, 0), "put");
      }
    }
    Check(mdb_txn_commit(t), "commit");
  }

 private:
  static void Check(int rc, const std::string& what) {
    if (rc != 0) Die("lmdb " + what + ": " + mdb_strerror(rc));
  }
  const char* name_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

class Sqlite : public Engine {
 public:
  // variant: "sqlite-wal" (wal_autocheckpoint at SQLite's default of 1000
  // pages), "sqlite-wal-ckpt10k" (10000 pages) or "sqlite-wal-nosync"
  // (synchronous=OFF: not durable, the CPU cost alone).
  Sqlite(const std::string& path, const char* variant) : name_(variant) {
    const std::string v = variant;
    const int wal_pages = v == "sqlite-wal-ckpt10k" ? 10000 : 1000;
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Die("sqlite open " + path);
    Exec("PRAGMA journal_mode=WAL");
    Exec(v == "sqlite-wal-nosync" ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL");
    Exec(("PRAGMA wal_autocheckpoint=" + std::to_string(wal_pages)).c_str());
    Exec("PRAGMA cache_size=-262144");  // 256 MiB, like LMDB's use of the page cache
    Exec("CREATE TABLE IF NOT EXISTS listings (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID");
    Prepare("INSERT OR REPLACE INTO listings (k, v) VALUES (?1, ?2)", &put_);
    Prepare("DELETE FROM listings WHERE k = ?1", &del_);
    Prepare("BEGIN IMMEDIATE", &begin_);
    Prepare("COMMIT", &commit_);
  }
  ~Sqlite() override {
    for (auto* s : {put_, del_, begin_, commit_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  const char* name() const override { return name_; }
  std::size_t ScanAll(const std::function<void(std::string_view)>& fn) override {
    sqlite3_stmt* s = nullptr;
    Prepare("SELECT v FROM listings ORDER BY k", &s);
    std::size_t n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
      fn(std::string_view(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                          static_cast<std::size_t>(sqlite3_column_bytes(s, 0))));
      ++n;
    }
    sqlite3_finalize(s);
    return n;
  }
  void Apply(const std::vector<Change>& batch) override {
    Step(begin_);
    for (const auto& c : batch) {
      sqlite3_stmt* s = c.value.empty() ? del_ : put_;
      sqlite3_bind_blob(s, 1, c.key.data(), static_cast<int>(c.key.size()), SQLITE_STATIC);
      if (!c.value.empty())
        sqlite3_bind_blob(s, 2, c.value.data(), static_cast<int>(c.value.size()), SQLITE_STATIC);
      Step(s);
    }
    Step(commit_);
  }

 private:
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK)
      Die(std::string("sqlite ") + sql + ": " + (err ? err : "?"));
  }
  void Prepare(const char* sql, sqlite3_stmt** s) {
    if (sqlite3_prepare_v2(db_, sql, -1, s, nullptr) != SQLITE_OK)
      Die(std::string("sqlite prepare ") + sql + ": " + sqlite3_errmsg(db_));
  }
  void Step(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) Die(std::string("sqlite step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  const char* name_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* del_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

// meshbl's Store, one Table::kListings.
class StoreEngine : public Engine {
 public:
  explicit StoreEngine(const std::string& path) {
    meshbl::feed::StoreOptions o;
    o.initial_map_bytes = std::size_t{1} << 30;
    auto s = meshbl::feed::Store::Open(path, o);
    if (!s.ok()) Die(std::string(s.status().message()));
    store_ = std::move(*s);
  }
  const char* name() const override { return "store"; }
  void Apply(const std::vector<Change>& batch) override {
    std::vector<meshbl::feed::Write> w;
    w.reserve(batch.size());
    for (const auto& c : batch) {
      w.push_back({meshbl::feed::Table::kListings, c.key,
                   c.value.empty() ? std::nullopt : std::optional<std::string>(c.value)});
    }
    const auto st = store_->Commit(w);
    if (!st.ok()) Die(std::string(st.message()));
  }
  std::size_t ScanAll(const std::function<void(std::string_view)>& fn) override {
    std::size_t n = 0;
    (void)store_->Scan(meshbl::feed::Table::kListings, "",
                       [&](std::string_view, std::string_view v) {
                         fn(v);
                         ++n;
                         return true;
                       });
    return n;
  }
  meshbl::feed::Store& store() { return *store_; }

 private:
  std::unique_ptr<meshbl::feed::Store> store_;
};

void Load(Engine& e, std::size_t entries) {
  const auto t0 = Clock::now();
  std::vector<Change> batch;
  const std::int64_t now = 1'700'000'000;
  for (std::size_t i = 0; i < entries;) {
    batch.clear();
    for (std::size_t j = 0; j < 100'000 && i < entries; ++j, ++i)
      batch.push_back({KeyOf(i), ValueOf(i, now)});
    e.Apply(batch);
  }
  std::printf("# %s: loaded %zu entries in %.1f s\n", e.name(), entries,
              std::chrono::duration<double>(Clock::now() - t0).count());
}

struct Result {
  double commits_per_s;
  double changes_per_s;
};

// Commits batches of `batch` changes from `threads` threads for `seconds`.
Result Run(Engine& e, std::size_t entries, std::size_t batch, std::size_t threads, double seconds,
           std::uint64_t seed) {
  std::atomic<std::uint64_t> commits{0};
  const auto t0 = Clock::now();
  const auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> ts;
  for (std::size_t t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 131 + t);
      std::vector<Change> b;
      std::int64_t now = 1'700'001'000;
      while (Clock::now() < deadline) {
        MakeBatch(rng, entries, batch, ++now, &b);
        e.Apply(b);
        commits.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : ts) t.join();
  const double el = std::chrono::duration<double>(Clock::now() - t0).count();
  const double c = static_cast<double>(commits.load());
  return {c / el, c * static_cast<double>(batch) / el};
}

// CommitAsync of one-change transactions at `rate` per second from one thread
// (as the event loop's trap listener and control socket do) for `seconds`:
// the latency from submission to the durable callback, in milliseconds.
void Paced(meshbl::feed::Store& store, std::size_t entries, double rate, double seconds) {
  std::mutex mu;
  std::vector<double> lat;
  std::atomic<std::size_t> pending{0};
  std::mt19937_64 rng(99);
  std::vector<Change> b;
  const auto t0 = Clock::now();
  const auto step = std::chrono::duration<double>(1.0 / rate);
  std::size_t sent = 0;
  for (auto next = t0; next < t0 + std::chrono::duration<double>(seconds);
       next += std::chrono::duration_cast<Clock::duration>(step)) {
    std::this_thread::sleep_until(next);
    MakeBatch(rng, entries, 1, 1'700'002'000, &b);
    std::vector<meshbl::feed::Write> w{
        {meshbl::feed::Table::kListings, b[0].key,
         b[0].value.empty() ? std::nullopt : std::optional<std::string>(b[0].value)}};
    const auto sub = Clock::now();
    pending.fetch_add(1);
    ++sent;
    store.CommitAsync(std::move(w), [&, sub](absl::Status st) {
      if (!st.ok()) Die(std::string(st.message()));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - sub).count();
      std::lock_guard l(mu);
      lat.push_back(ms);
      pending.fetch_sub(1);
    });
  }
  while (pending.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double el = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  const auto q = [&](double f) {
    return lat[static_cast<std::size_t>(f * static_cast<double>(lat.size() - 1))];
  };
  std::printf(
      "paced: %zu one-change txns at %.0f/s offered (%.0f/s done): latency to durable "
      "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
      sent, rate, static_cast<double>(sent) / el, q(0.5), q(0.99), lat.back());
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& def) {
  const std::string p = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind(p, 0) == 0) return a.substr(p.size());
  }
  return def;
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < list.size();) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = Flag(argc, argv, "dir", "/tmp/meshbl-store-bench");
  const std::size_t entries = std::stoul(Flag(argc, argv, "entries", "1000000"));
  const double seconds = std::stod(Flag(argc, argv, "seconds", "2"));
  const int reps = std::stoi(Flag(argc, argv, "reps", "5"));
  const std::string engines = Flag(argc, argv, "engines", "lmdb,sqlite-wal,store");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  struct statfs sfs {};
  statfs(dir.c_str(), &sfs);
  std::printf("# dir %s (statfs f_type 0x%lx), %zu entries, %.1f s per point, %d reps\n",
              dir.c_str(), static_cast<unsigned long>(sfs.f_type), entries, seconds, reps);

  std::vector<std::unique_ptr<Engine>> es;
  for (const std::string& e : Split(engines)) {
    static const char* const kLmdb[] = {"lmdb", "lmdb-writemap", "lmdb-nosync"};
    static const char* const kSqlite[] = {"sqlite-wal", "sqlite-wal-ckpt10k", "sqlite-wal-nosync"};
    if (auto l = std::find(std::begin(kLmdb), std::end(kLmdb), e); l != std::end(kLmdb)) {
      es.push_back(std::make_unique<Lmdb>(dir + "/" + e + ".mdb", *l));
    } else if (auto q = std::find(std::begin(kSqlite), std::end(kSqlite), e);
               q != std::end(kSqlite)) {
      es.push_back(std::make_unique<Sqlite>(dir + "/" + e + ".sqlite", *q));
    } else if (e == "store") {
      es.push_back(std::make_unique<StoreEngine>(dir + "/store.mdb"));
    } else {
      Die("unknown engine " + e);
    }
  }
  for (auto& e : es) Load(*e, entries);

  // (engine, batch, threads) -> results of each repetition.
  std::map<std::tuple<std::string, std::size_t, std::size_t>, std::vector<Result>> res;
  std::vector<std::size_t> batches;
  for (const auto& b : Split(Flag(argc, argv, "batches", "1,10,100,1000")))
    batches.push_back(std::stoul(b));
  std::vector<std::size_t> thread_counts;
  for (const auto& t : Split(Flag(argc, argv, "store_threads", "1,16")))
    thread_counts.push_back(std::stoul(t));
  for (int rep = 0; rep < reps; ++rep) {
    std::vector<Engine*> order;
    for (auto& e : es) order.push_back(e.get());
    if (rep % 2 == 1) std::reverse(order.begin(), order.end());
    for (Engine* e : order) {
      {  // A full scan decoding every Listing: the rebuild at start.
        const auto t0 = Clock::now();
        std::size_t bad = 0;
        const std::size_t n = e->ScanAll([&](std::string_view v) {
          if (!meshbl::feed::DecodeListing(v).ok()) ++bad;
        });
        if (bad != 0) Die("undecodable listings");
        const double el = std::chrono::duration<double>(Clock::now() - t0).count();
        res[{std::string(e->name()) + "-scan", 0, 1}].push_back(
            {1.0 / el, static_cast<double>(n) / el});
        std::fprintf(stderr, "rep %d %-10s scan of %zu: %.2f s\n", rep, e->name(), n, el);
      }
      const bool store = std::string(e->name()) == "store";
      for (std::size_t b : batches) {
        for (std::size_t threads : store ? thread_counts : std::vector<std::size_t>{1}) {
          const Result r =
              Run(*e, entries, b, threads, seconds, static_cast<std::uint64_t>(rep) * 1000 + b);
          res[{e->name(), b, threads}].push_back(r);
          std::fprintf(stderr,
                       "rep %d %-10s batch %4zu threads %2zu: %9.0f commits/s %10.0f "
                       "changes/s\n",
                       rep, e->name(), b, threads, r.commits_per_s, r.changes_per_s);
        }
      }
    }
  }
  std::printf("%-10s %6s %7s %28s %30s\n", "engine", "batch", "threads",
              "commits/s median [min-max]", "changes/s median [min-max]");
  for (auto& [k, v] : res) {
    auto sorted = [&](auto field) {
      std::vector<double> x;
      for (const auto& r : v) x.push_back(r.*field);
      std::sort(x.begin(), x.end());
      return x;
    };
    const auto c = sorted(&Result::commits_per_s);
    const auto ch = sorted(&Result::changes_per_s);
    char a[64], b[64];
    std::snprintf(a, sizeof a, "%.0f [%.0f-%.0f]", c[c.size() / 2], c.front(), c.back());
    std::snprintf(b, sizeof b, "%.0f [%.0f-%.0f]", ch[ch.size() / 2], ch.front(), ch.back());
    std::printf("%-10s %6zu %7zu %28s %30s\n", std::get<0>(k).c_str(), std::get<1>(k),
                std::get<2>(k), a, b);
  }
  const double rate = std::stod(Flag(argc, argv, "paced_rate", "0"));
  for (auto& e : es) {
    if (auto* s = dynamic_cast<StoreEngine*>(e.get()); s != nullptr && rate > 0) {
      for (int rep = 0; rep < reps; ++rep) Paced(s->store(), entries, rate, seconds);
    }
  }
  for (auto& e : es) {
    if (auto* s = dynamic_cast<StoreEngine*>(e.get())) {
      const auto st = s->store().stats();
      std::printf("# store: %llu txns in %llu commits (%.1f txns per sync), map %zu MiB\n",
                  static_cast<unsigned long long>(st.txns),
                  static_cast<unsigned long long>(st.commits),
                  st.commits ? static_cast<double>(st.txns) / static_cast<double>(st.commits) : 0.0,
                  st.map_bytes >> 20);
    }
  }
  return 0;
}
