// RAII wrappers for kernel resources used by the data engine: file
// descriptors and read-only memory maps. Move-only; copies are deleted.
#ifndef MESHBL_UTIL_MAPPED_FILE_H_
#define MESHBL_UTIL_MAPPED_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshbl::util {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.Release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int Release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Identity of a file on disk, used to notice changes (rbldnsd reloads a
// dataset when the mtime or size of any of its files changes).
struct FileStamp {
  std::int64_t mtime = 0;  // seconds since the epoch
  std::int64_t size = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// Returns the stamp of `path` or an error naming the file.
absl::StatusOr<FileStamp> StatFile(const std::string& path);

// A whole file held read-only in memory, immune to what writers do to the
// file afterwards (cp over it, rsync --inplace, truncate): the bytes never
// change and reading them never faults with SIGBUS.
//
// How (docs/meshbld.8.md, "Replacing data files"):
//  * kLeased: the file is mapped (MAP_PRIVATE, populated) under a read lease
//    (F_SETLEASE). A writer that opens or truncates the file is held by the
//    kernel until meshbl's lease thread has copied the mapped bytes into
//    anonymous memory and moved that copy over the mapping in place (mremap,
//    same address, so readers never see a change) and dropped the lease.
//    Loading costs one fcntl; the copy happens only if someone writes in
//    place. Taking a lease needs the file's owner as fsuid or CAP_LEASE:
//    when the thread holds CAP_LEASE only in its permitted set (meshbld's
//    load under -u before privileges are dropped for good) it is raised for
//    the one fcntl and lowered again.
//  * kCopied: no lease (another owner without CAP_LEASE, the file open for
//    writing elsewhere, a file system without leases): the file is read into
//    anonymous memory at load (a copy of the whole file, about 10 ms per
//    100 MB with a warm page cache).
// Renaming a new file over the path never touches the old inode: the cheap
// way to replace data.
//
// Immutable after construction, so any number of threads may read bytes()
// concurrently; the lease thread's move keeps the address and the content.
// The memory is released when the object is destroyed.
class MappedFile {
 public:
  enum class Backing : std::uint8_t {
    kNone,      // empty file
    kLeased,    // mapped under a read lease; detached when a writer comes
    kDetached,  // was kLeased; a writer came and the bytes now live in memory
    kCopied,    // copied at open
  };
  enum class Mode : std::uint8_t {
    kAuto,  // lease if possible, else copy
    kCopy,  // always copy (tests; callers that keep bytes briefly)
  };

  // Opens `path`. Errors carry the path and the failing system call.
  static absl::StatusOr<MappedFile> Open(const std::string& path, Mode mode = Mode::kAuto);

  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::uint8_t> bytes() const noexcept {
    return {static_cast<const std::uint8_t*>(addr_), size_};
  }
  const FileStamp& stamp() const noexcept { return stamp_; }
  // How the bytes are held now (a kLeased file becomes kDetached when a
  // writer arrives). Thread-safe.
  Backing backing() const noexcept;
  // Why the file was copied rather than leased ("" otherwise), e.g.
  // "F_SETLEASE: Permission denied".
  const std::string& copy_reason() const noexcept { return copy_reason_; }

 private:
  void Reset() noexcept;
  void* addr_ = nullptr;
  std::size_t size_ = 0;
  std::size_t map_size_ = 0;  // bytes mapped (size_ rounded up to pages)
  bool leased_ = false;       // registered with the lease thread
  bool copied_ = false;
  FileStamp stamp_;
  std::string copy_reason_;
};

// Lease-thread counters (tests, logs). Thread-safe.
struct LeaseStats {
  std::uint64_t leases = 0;    // leases taken
  std::uint64_t detached = 0;  // files copied to memory because a writer came
};
LeaseStats GetLeaseStats();

// Writes `data` to `path` atomically: `path.tmp` is written, fsynced and
// renamed over `path`, then the directory is fsynced.
absl::Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> data);

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_MAPPED_FILE_H_
