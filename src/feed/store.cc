#include "meshbl/feed/store.h"

#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshbl/util/thread_name.h"

namespace meshbl::feed {
namespace {

constexpr const char* kTableNames[kTableCount] = {"listings", "whitelist", "hits",
                                                  "traps",    "sources",   "meta"};

std::string LmdbError(int rc) { return mdb_strerror(rc); }

// LMDB forbids opening one environment twice in a process (closing one
// handle would drop the other's locks): Open refuses it.
std::mutex open_mu;
std::set<std::pair<dev_t, ino_t>>& OpenFiles() {
  static auto* s = new std::set<std::pair<dev_t, ino_t>>();
  return *s;
}

absl::Status ValidateWrites(std::span<const Write> txn) {
  for (std::size_t i = 0; i < txn.size(); ++i) {
    const Write& w = txn[i];
    if (static_cast<std::size_t>(w.table) >= kTableCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("write ", i, ": unknown table ", static_cast<int>(w.table)));
    }
    if (w.key.empty() || w.key.size() > kMaxKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("write ", i, " (", std::string(TableName(w.table)), "): key of ",
                       w.key.size(), " bytes, must be 1..", kMaxKeyBytes));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view TableName(Table t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kTableCount ? kTableNames[i] : "unknown";
}

class Store::Impl {
 public:
  Impl(std::string path, const StoreOptions& o) : path_(std::move(path)), options_(o) {}

  ~Impl() {
    if (committer_.joinable()) {
      {
        std::lock_guard l(mu_);
        stop_ = true;
      }
      cv_.notify_one();
      committer_.join();
    }
    for (MDB_txn* t : readers_) mdb_txn_abort(t);
    if (env_ != nullptr) mdb_env_close(env_);
    if (file_id_) {
      std::lock_guard l(open_mu);
      OpenFiles().erase(*file_id_);
    }
  }

  absl::Status Open() {
    struct stat st {};
    const bool exists = ::stat(path_.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "store ", path_, ": is a directory (the store is a file, with ", path_, "-lock)"));
    }
    if (exists && !S_ISREG(st.st_mode))
      return absl::InvalidArgumentError(absl::StrCat("store ", path_, ": not a regular file"));
    if (!exists && !options_.create)
      return absl::NotFoundError(absl::StrCat("store ", path_, ": no such file"));
    if (exists) {
      if (absl::Status s = Claim(st); !s.ok()) return s;
    }
    if (int rc = mdb_env_create(&env_); rc != 0) return Error("create environment", rc);
    map_bytes_ = options_.initial_map_bytes;
    mdb_env_set_maxdbs(env_, kTableCount + 2);
    mdb_env_set_maxreaders(env_, 1024);
    mdb_env_set_mapsize(env_, map_bytes_);
    // MDB_WRITEMAP: a transaction writes its pages in the map, not in
    // malloc'd copies (LMDB keeps every freed copy for reuse, which held
    // ~130 MB after a 100k-change `load`), and a commit syncs them with one
    // msync instead of write() + fdatasync. No nested transactions here.
    const unsigned flags =
        MDB_NOSUBDIR | MDB_NOTLS | MDB_WRITEMAP | (options_.durable ? 0u : MDB_NOSYNC);
    if (int rc = mdb_env_open(env_, path_.c_str(), flags, 0600); rc != 0) {
      if (rc == MDB_INVALID) {
        return absl::InvalidArgumentError(
            absl::StrCat("store ", path_, ": not an LMDB store (no valid meta page)"));
      }
      if (rc == MDB_VERSION_MISMATCH) {
        return absl::FailedPreconditionError(
            absl::StrCat("store ", path_, ": written by an incompatible LMDB version"));
      }
      return Error(exists ? "open" : "create", rc);
    }
    if (!exists) {
      if (::stat(path_.c_str(), &st) != 0) return Error("stat", errno);
      if (absl::Status s = Claim(st); !s.ok()) return s;
    }
    // A process killed inside a read transaction leaves its reader slot
    // behind; clear them so they pin no old pages.
    int dead = 0;
    mdb_reader_check(env_, &dead);
    stale_readers_ = static_cast<std::uint64_t>(dead);
    MDB_envinfo info{};
    mdb_env_info(env_, &info);
    map_bytes_ = info.me_mapsize;

    MDB_txn* t = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &t); rc != 0) return Error("begin", rc);
    for (std::size_t i = 0; i < kTableCount; ++i) {
      if (int rc = mdb_dbi_open(t, kTableNames[i], MDB_CREATE, &dbi_[i]); rc != 0) {
        mdb_txn_abort(t);
        return Error(absl::StrCat("open table ", kTableNames[i]), rc);
      }
    }
    if (int rc = mdb_txn_commit(t); rc != 0) return Error("commit tables", rc);
    committer_ = std::thread([this] {
      util::NameThisThread("meshbl-commit");
      CommitLoop();
    });
    return absl::OkStatus();
  }

  // Refuses a second open of one file in this process (checked before LMDB
  // opens it: closing a second handle would drop the first one's locks).
  absl::Status Claim(const struct stat& st) {
    std::lock_guard l(open_mu);
    if (!OpenFiles().insert({st.st_dev, st.st_ino}).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("store ", path_, ": already open in this process"));
    }
    file_id_ = std::pair(st.st_dev, st.st_ino);
    return absl::OkStatus();
  }

  void Enqueue(std::vector<Write> owned, std::span<const Write> txn,
               std::function<void(absl::Status)> done) {
    bool wake = false;
    {
      std::lock_guard l(mu_);
      queue_.push_back({std::move(owned), txn, std::move(done)});
      if (queue_.back().txn.empty() && !queue_.back().owned.empty())
        queue_.back().txn = queue_.back().owned;
      // The committer waits for the first transaction, then for a full
      // group or commit_delay (CommitLoop).
      wake = queue_.size() == 1 || queue_.size() == options_.group_target;
    }
    if (wake) cv_.notify_one();
  }

  // Read transactions are reset and renewed rather than begun and aborted
  // (which allocates one each time): the feed reads a few keys per change.
  MDB_txn* BeginRead() const {
    MDB_txn* t = nullptr;
    {
      std::lock_guard l(readers_mu_);
      if (!readers_.empty()) {
        t = readers_.back();
        readers_.pop_back();
      }
    }
    if (t != nullptr && mdb_txn_renew(t) != 0) {
      mdb_txn_abort(t);
      t = nullptr;
    }
    if (t == nullptr && mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t) != 0) return nullptr;
    return t;
  }
  void EndRead(MDB_txn* t) const {
    constexpr std::size_t kKept = 16;
    mdb_txn_reset(t);
    std::lock_guard l(readers_mu_);
    if (readers_.size() < kKept) {
      readers_.push_back(t);
    } else {
      mdb_txn_abort(t);
    }
  }

  std::optional<std::string> Get(Table table, std::string_view key) const {
    std::shared_lock l(map_mu_);
    MDB_txn* t = BeginRead();
    if (t == nullptr) return std::nullopt;
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{};
    std::optional<std::string> out;
    if (mdb_get(t, dbi_[static_cast<std::size_t>(table)], &k, &v) == 0)
      out.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
    EndRead(t);
    return out;
  }

  absl::Status Scan(Table table, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const {
    std::shared_lock l(map_mu_);
    MDB_txn* t = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t); rc != 0) return Error("scan", rc);
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(t, dbi_[static_cast<std::size_t>(table)], &c);
    MDB_val k{prefix.size(), const_cast<char*>(prefix.data())};
    MDB_val v{};
    if (rc == 0) rc = mdb_cursor_get(c, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == 0) {
      const std::string_view ks(static_cast<const char*>(k.mv_data), k.mv_size);
      if (!ks.starts_with(prefix)) break;
      if (!fn(ks, std::string_view(static_cast<const char*>(v.mv_data), v.mv_size))) break;
      rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (c != nullptr) mdb_cursor_close(c);
    mdb_txn_abort(t);
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("scan", rc);
    return absl::OkStatus();
  }

  StoreStats Stats() const {
    StoreStats s;
    {
      std::lock_guard l(stats_mu_);
      s = stats_;
    }
    s.stale_readers_cleared = stale_readers_;
    std::shared_lock l(map_mu_);
    MDB_envinfo info{};
    MDB_stat est{};
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &est);
    s.map_bytes = info.me_mapsize;
    s.used_bytes = (info.me_last_pgno + 1) * est.ms_psize;
    MDB_txn* t = nullptr;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t) == 0) {
      for (std::size_t i = 0; i < kTableCount; ++i) {
        MDB_stat ts{};
        if (mdb_stat(t, dbi_[i], &ts) == 0) s.entries[i] = ts.ms_entries;
      }
      mdb_txn_abort(t);
    }
    return s;
  }

  const std::string& path() const { return path_; }

 private:
  struct Pending {
    std::vector<Write> owned;  // CommitAsync's copy; Commit's caller keeps its own
    std::span<const Write> txn;
    std::function<void(absl::Status)> done;
  };

  absl::Status Error(std::string_view what, int rc) const {
    std::string msg = absl::StrCat("store ", path_, ": ", std::string(what), ": ", LmdbError(rc));
    if (rc == EACCES || rc == EROFS || rc == EPERM) return absl::PermissionDeniedError(msg);
    if (rc == ENOENT) return absl::NotFoundError(msg);
    return absl::InternalError(msg);
  }

  void CommitLoop() {
    for (;;) {
      std::deque<Pending> group;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_ and drained
        if (options_.commit_delay.count() > 0 && queue_.size() < options_.group_target) {
          // Enqueue wakes the committer only for the first and the
          // group_target-th transaction, so this wait costs no wake-ups.
          cv_.wait_for(l, options_.commit_delay,
                       [&] { return stop_ || queue_.size() >= options_.group_target; });
        }
        group.swap(queue_);
      }
      std::vector<Pending*> valid;
      for (auto& p : group) {
        if (absl::Status st = ValidateWrites(p.txn); !st.ok()) {
          Finish(p, st);
        } else {
          valid.push_back(&p);
        }
      }
      if (valid.empty()) continue;
      absl::Status st = CommitGroup(valid);
      if (st.ok()) {
        for (Pending* p : valid) Finish(*p, st);
      } else if (valid.size() == 1) {
        Finish(*valid[0], st);
      } else {
        // Something in the group failed (the map at its limit, an I/O
        // error): give each transaction its own try and its own answer.
        for (Pending* p : valid) Finish(*p, CommitGroup({p}));
      }
    }
  }

  void Finish(Pending& p, const absl::Status& st) {
    if (!st.ok()) {
      std::lock_guard l(stats_mu_);
      ++stats_.failed_txns;
    }
    p.done(st);
  }

  // One LMDB write transaction holding every transaction of `group`, made
  // durable by mdb_txn_commit (unless options_.durable is false). A full map
  // doubles (up to max_map_bytes) and the group is retried.
  absl::Status CommitGroup(const std::vector<Pending*>& group) {
    // Applied in key order (stable: writes to one key keep their order), so
    // that consecutive writes walk neighbouring B-tree pages; the group is
    // one transaction, so the order between its members is not visible.
    std::vector<const Write*> ordered;
    for (const Pending* p : group)
      for (const Write& w : p->txn) ordered.push_back(&w);
    std::stable_sort(ordered.begin(), ordered.end(), [](const Write* a, const Write* b) {
      return a->table != b->table ? a->table < b->table : a->key < b->key;
    });
    for (int attempt = 0; attempt < 64; ++attempt) {
      MDB_txn* t = nullptr;
      int rc = mdb_txn_begin(env_, nullptr, 0, &t);
      if (rc == MDB_MAP_RESIZED) {  // another process grew it
        std::unique_lock l(map_mu_);
        mdb_env_set_mapsize(env_, 0);
        continue;
      }
      if (rc != 0) return Error("begin", rc);
      for (const Write* w : ordered) {
        MDB_dbi dbi = dbi_[static_cast<std::size_t>(w->table)];
        MDB_val k{w->key.size(), const_cast<char*>(w->key.data())};
        if (w->value) {
          MDB_val v{w->value->size(), const_cast<char*>(w->value->data())};
          rc = mdb_put(t, dbi, &k, &v, 0);
        } else {
          rc = mdb_del(t, dbi, &k, nullptr);
          if (rc == MDB_NOTFOUND) rc = 0;
        }
        if (rc != 0) break;
      }
      if (rc != 0) {
        mdb_txn_abort(t);
      } else {
        rc = mdb_txn_commit(t);
      }
      if (rc == MDB_MAP_FULL) {
        if (absl::Status g = Grow(); !g.ok()) return g;
        continue;
      }
      if (rc != 0) return Error("commit", rc);
      std::lock_guard l(stats_mu_);
      ++stats_.commits;
      stats_.txns += group.size();
      stats_.writes += ordered.size();
      return absl::OkStatus();
    }
    return absl::InternalError(absl::StrCat("store ", path_, ": commit retried 64 times"));
  }

  absl::Status Grow() {
    if (map_bytes_ >= options_.max_map_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "store ", path_, ": full at its maximum map size of ", options_.max_map_bytes,
          " bytes (StoreOptions::max_map_bytes); nothing of this transaction was applied"));
    }
    const std::size_t next = std::min(map_bytes_ * 2, options_.max_map_bytes);
    std::unique_lock l(map_mu_);  // no read transaction may be open
    if (int rc = mdb_env_set_mapsize(env_, next); rc != 0) return Error("grow map", rc);
    map_bytes_ = next;
    std::lock_guard sl(stats_mu_);
    ++stats_.map_grows;
    return absl::OkStatus();
  }

  const std::string path_;
  const StoreOptions options_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_[kTableCount] = {};
  std::size_t map_bytes_ = 0;  // committer thread only (after Open)
  std::uint64_t stale_readers_ = 0;
  std::optional<std::pair<dev_t, ino_t>> file_id_;

  // Read transactions hold it shared; changing the map size holds it
  // exclusively (LMDB requires no open transaction in the process then).
  mutable std::shared_mutex map_mu_;
  mutable std::mutex readers_mu_;
  mutable std::vector<MDB_txn*> readers_;  // reset read transactions, for reuse

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::thread committer_;

  mutable std::mutex stats_mu_;
  StoreStats stats_;
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("store: empty path");
  if (options.initial_map_bytes == 0 || options.initial_map_bytes > options.max_map_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("store ", path, ": initial map size must be 1..max_map_bytes"));
  }
  auto impl = std::make_unique<Impl>(path, options);
  if (absl::Status st = impl->Open(); !st.ok()) return st;
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

absl::Status Store::Commit(std::span<const Write> txn) {
  if (txn.empty()) return absl::OkStatus();
  std::promise<absl::Status> done;
  auto result = done.get_future();
  impl_->Enqueue({}, txn, [&done](absl::Status st) { done.set_value(std::move(st)); });
  return result.get();
}

void Store::CommitAsync(std::vector<Write> txn, std::function<void(absl::Status)> done) {
  if (txn.empty()) {
    done(absl::OkStatus());
    return;
  }
  impl_->Enqueue(std::move(txn), {}, std::move(done));
}

std::optional<std::string> Store::Get(Table table, std::string_view key) const {
  if (static_cast<std::size_t>(table) >= kTableCount) return std::nullopt;
  return impl_->Get(table, key);
}

absl::Status Store::Scan(
    Table table, std::string_view prefix,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) const {
  if (static_cast<std::size_t>(table) >= kTableCount)
    return absl::InvalidArgumentError("store: unknown table");
  return impl_->Scan(table, prefix, fn);
}

StoreStats Store::stats() const { return impl_->Stats(); }
const std::string& Store::path() const { return impl_->path(); }

}  // namespace meshbl::feed
