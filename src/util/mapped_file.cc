#include "meshbl/util/mapped_file.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "meshbl/util/mutex.h"

namespace meshbl::util {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::Status(absl::StatusCode::kFailedPrecondition,
                      absl::StrCat(path, ": ", std::string(what), ": ", std::strerror(errno)));
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<FileStamp> StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path);
  return FileStamp{static_cast<std::int64_t>(st.st_mtime), static_cast<std::int64_t>(st.st_size)};
}

namespace {

std::size_t PageRound(std::size_t n) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

// The signal the kernel sends when a lease must be broken (F_SETSIG). Its
// handler only wakes the lease thread; the thread also checks every lease
// once a second, so a signal that is lost or blocked in every thread delays
// the writer by at most that long.
int LeaseSignal() { return SIGRTMIN + 6; }

int g_wake_pipe[2] = {-1, -1};

void OnLeaseSignal(int /*sig*/) {
  const int saved = errno;
  const char b = 1;
  (void)!::write(g_wake_pipe[1], &b, 1);
  errno = saved;
}

// Raises or lowers CAP_LEASE in this thread's effective set; true when the
// capability is in the permitted set and the change was made.
bool SetCapLease(bool on) {
  __user_cap_header_struct hdr{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  const std::uint32_t bit = 1u << CAP_LEASE;
  if ((data[0].permitted & bit) == 0) return false;
  if (on == ((data[0].effective & bit) != 0)) return false;  // nothing to change
  data[0].effective = on ? (data[0].effective | bit) : (data[0].effective & ~bit);
  return ::syscall(SYS_capset, &hdr, data) == 0;
}

// The process-wide lease thread: owns the registry of leased mappings and
// moves a mapping into anonymous memory when its lease is being broken.
// A leaked singleton (never destroyed), started on the first lease.
class LeaseThread {
 public:
  static LeaseThread& Get() {
    static LeaseThread* t =
        new LeaseThread();  // NOLINT(cppcoreguidelines-owning-memory): leaked on purpose, the
                            // thread outlives static destruction
    return *t;
  }

  void Add(void* addr, int fd, std::size_t map_size) {
    MutexLock lock(&mu_);
    entries_[addr] = Entry{fd, map_size};
    leases_.fetch_add(1, std::memory_order_relaxed);
  }
  // Unregisters `addr` and drops its lease. True when the caller must unmap
  // it now; false when the lease thread is copying it (a writer broke the
  // lease) and unmaps it itself once the copy is done. Takes the lock only
  // for bookkeeping, never across a copy, so that a worker retiring an old
  // snapshot does not wait for another file's copy.
  bool Remove(void* addr) {
    MutexLock lock(&mu_);
    auto it = entries_.find(addr);
    if (it == entries_.end()) return true;  // detached: anonymous memory
    if (it->second.detaching) {
      it->second.orphaned = true;
      return false;
    }
    ReleaseLease(it->second.fd);
    entries_.erase(it);
    return true;
  }
  bool Registered(void* addr) {
    MutexLock lock(&mu_);
    return entries_.count(addr) != 0;
  }
  // The lease thread's id (0 until it runs): lease-break signals are
  // directed at it, so that workers' system calls are not interrupted.
  pid_t tid() const { return tid_.load(std::memory_order_acquire); }
  LeaseStats Stats() const {
    return {leases_.load(std::memory_order_relaxed), detached_.load(std::memory_order_relaxed)};
  }

 private:
  struct Entry {
    int fd;
    std::size_t map_size;
    bool detaching = false;  // the lease thread is copying it (lock not held)
    bool orphaned = false;   // Remove()d meanwhile: unmap instead of moving the copy in
  };

  // Gives the lease back explicitly (the mapping keeps its own reference to
  // the open file, so close() alone would not release it while mapped).
  static void ReleaseLease(int fd) {
    (void)::fcntl(fd, F_SETLEASE, F_UNLCK);
    ::close(fd);
  }

  LeaseThread() {
    if (::pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_wake_pipe[0] = g_wake_pipe[1] = -1;
    struct sigaction sa {};
    sa.sa_handler = OnLeaseSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(LeaseSignal(), &sa, nullptr);
    std::thread([this] { Run(); }).detach();
    // Wait (bounded) for its id, so that the first lease is aimed at it.
    for (int i = 0; i < 100000 && tid() == 0; ++i) std::this_thread::yield();
  }

  void Run() {
    // Any thread may take the signal (its handler is harmless); this one
    // only waits on the pipe, so that workers are rarely interrupted.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, LeaseSignal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)), std::memory_order_release);
    for (;;) {
      pollfd p{g_wake_pipe[0], POLLIN, 0};
      (void)::poll(&p, g_wake_pipe[0] >= 0 ? 1 : 0, 1000);
      char buf[64];
      while (g_wake_pipe[0] >= 0 && ::read(g_wake_pipe[0], buf, sizeof buf) > 0) {
      }
      // The leases being broken (a lease being broken reports the type it
      // is going to, F_UNLCK), marked so that Remove() leaves them to us.
      std::vector<std::pair<void*, std::size_t>> breaking;
      {
        MutexLock lock(&mu_);
        for (auto& [addr, e] : entries_) {
          if (!e.detaching && ::fcntl(e.fd, F_GETLEASE) != F_RDLCK) {
            e.detaching = true;
            breaking.emplace_back(addr, e.map_size);
          }
        }
      }
      for (const auto& [addr, size] : breaking) Detach(addr, size);
    }
  }

  // Copies the mapping into anonymous memory (without the lock: the writer
  // waits for the lease, so the file cannot change meanwhile), then moves
  // the copy over the same address in one step (readers see the same bytes
  // throughout) and releases the lease, which lets the writer go on.
  void Detach(void* addr, std::size_t map_size) {
    void* copy = ::mmap(nullptr, map_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (copy != MAP_FAILED) {
      std::memcpy(copy, addr, map_size);
      ::mprotect(copy, map_size, PROT_READ);
    }
    MutexLock lock(&mu_);
    auto it = entries_.find(addr);
    if (it == entries_.end()) return;  // cannot happen: Remove() leaves detaching entries
    if (it->second.orphaned) {         // its owner let go meanwhile: we unmap it
      if (copy != MAP_FAILED) ::munmap(copy, map_size);
      ReleaseLease(it->second.fd);
      ::munmap(addr, map_size);
      entries_.erase(it);
      return;
    }
    if (copy == MAP_FAILED ||
        ::mremap(copy, map_size, map_size, MREMAP_MAYMOVE | MREMAP_FIXED, addr) == MAP_FAILED) {
      if (copy != MAP_FAILED) ::munmap(copy, map_size);
      it->second.detaching = false;  // tried again at the next pass (at most a second)
      return;
    }
    ReleaseLease(it->second.fd);
    entries_.erase(it);
    detached_.fetch_add(1, std::memory_order_relaxed);
  }

  Mutex mu_;
  std::map<void*, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> leases_{0};
  std::atomic<std::uint64_t> detached_{0};
  std::atomic<pid_t> tid_{0};
};

// Takes a read lease on `fd` whose lease break wakes the lease thread.
// Returns false with the reason in *why.
bool TakeLease(int fd, std::string* why) {
  LeaseThread::Get();  // handler installed before any lease can break
  if (::fcntl(fd, F_SETSIG, LeaseSignal()) != 0) {
    *why = absl::StrCat("F_SETSIG: ", std::strerror(errno));
    return false;
  }
  int rc = ::fcntl(fd, F_SETLEASE, F_RDLCK);
  if (rc != 0 && (errno == EACCES || errno == EPERM) && SetCapLease(true)) {
    rc = ::fcntl(fd, F_SETLEASE, F_RDLCK);
    const int saved = errno;
    SetCapLease(false);
    errno = saved;
  }
  if (rc != 0) {
    *why = absl::StrCat("F_SETLEASE: ", std::strerror(errno));
    return false;
  }
  // F_SETLEASE made the process the signal's target (any thread, whose
  // handler wakes the lease thread); aim it at the lease thread itself.
  if (const pid_t tid = LeaseThread::Get().tid(); tid != 0) {
    f_owner_ex owner{F_OWNER_TID, tid};
    (void)::fcntl(fd, F_SETOWN_EX, &owner);
  }
  return true;
}

}  // namespace

LeaseStats GetLeaseStats() { return LeaseThread::Get().Stats(); }

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path, Mode mode) {
  // Never block on opening (issue 9): a FIFO, device or socket in place of a
  // data file is refused before it is opened, and the open is non-blocking
  // in case the name is replaced by one in between (checked again below).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("open", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return ErrnoError("open", path);
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("fstat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  MappedFile m;
  bool leased = false;
  if (mode == Mode::kAuto && st.st_size > 0) {
    leased = TakeLease(fd.get(), &m.copy_reason_);
    // Under the lease the file cannot change any more: stat it again.
    if (leased && ::fstat(fd.get(), &st) != 0) return ErrnoError("fstat", path);
  } else if (st.st_size > 0) {
    m.copy_reason_ = "copy requested";
  }
  m.stamp_ = {static_cast<std::int64_t>(st.st_mtime), static_cast<std::int64_t>(st.st_size)};
  m.size_ = static_cast<std::size_t>(st.st_size);
  if (m.size_ == 0) return m;
  m.map_size_ = PageRound(m.size_);
  if (leased) {
    void* addr = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (addr == MAP_FAILED) return ErrnoError("mmap", path);
    m.addr_ = addr;
    m.leased_ = true;
    LeaseThread::Get().Add(addr, fd.Release(), m.map_size_);
    return m;
  }
  // No lease: read the whole file into anonymous memory now. A writer
  // racing with this read yields bytes that fail the caller's checks (the
  // snapshot checksums, the stamp compared after loading), never a fault.
  void* addr =
      ::mmap(nullptr, m.map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (addr == MAP_FAILED) return ErrnoError("mmap", path);
  m.addr_ = addr;
  m.copied_ = true;
  std::size_t done = 0;
  while (done < m.size_) {
    ssize_t n = ::read(fd.get(), static_cast<std::uint8_t*>(addr) + done, m.size_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read", path);
    if (n == 0) break;  // truncated meanwhile
    done += static_cast<std::size_t>(n);
  }
  m.size_ = done;
  ::mprotect(addr, m.map_size_, PROT_READ);
  return m;
}

MappedFile::Backing MappedFile::backing() const noexcept {
  if (addr_ == nullptr) return Backing::kNone;
  if (copied_) return Backing::kCopied;
  return LeaseThread::Get().Registered(addr_) ? Backing::kLeased : Backing::kDetached;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : addr_(o.addr_),
      size_(o.size_),
      map_size_(o.map_size_),
      leased_(o.leased_),
      copied_(o.copied_),
      stamp_(o.stamp_),
      copy_reason_(std::move(o.copy_reason_)) {
  o.addr_ = nullptr;
  o.size_ = 0;
  o.map_size_ = 0;
  o.leased_ = o.copied_ = false;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    Reset();
    addr_ = o.addr_;
    size_ = o.size_;
    map_size_ = o.map_size_;
    leased_ = o.leased_;
    copied_ = o.copied_;
    stamp_ = o.stamp_;
    copy_reason_ = std::move(o.copy_reason_);
    o.addr_ = nullptr;
    o.size_ = 0;
    o.map_size_ = 0;
    o.leased_ = o.copied_ = false;
  }
  return *this;
}

MappedFile::~MappedFile() { Reset(); }

void MappedFile::Reset() noexcept {
  // Unregister first, so that the lease thread never moves a copy onto an
  // address that is being unmapped; a mapping it is copying right now is
  // left to it to unmap.
  const bool unmap = !leased_ || LeaseThread::Get().Remove(addr_);
  if (addr_ != nullptr && unmap) ::munmap(addr_, map_size_);
  addr_ = nullptr;
  size_ = 0;
  map_size_ = 0;
  leased_ = copied_ = false;
}

absl::Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> data) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoError("open", tmp);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status st = ErrnoError("write", tmp);
      ::unlink(tmp.c_str());
      return st;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    absl::Status st = ErrnoError("fsync", tmp);
    ::unlink(tmp.c_str());
    return st;
  }
  fd = UniqueFd();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status st = ErrnoError("rename", tmp);
    ::unlink(tmp.c_str());
    return st;
  }
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = path.substr(0, slash + 1);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) ::fsync(dfd.get());
  return absl::OkStatus();
}

}  // namespace meshbl::util
