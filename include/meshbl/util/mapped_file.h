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

// A whole file mapped read-only (MAP_PRIVATE, populated). Immutable after
// construction, so any number of threads may read bytes() concurrently.
// The mapping is removed when the object is destroyed.
class MappedFile {
 public:
  // Maps `path`. Errors carry the path and the failing system call.
  static absl::StatusOr<MappedFile> Open(const std::string& path);

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

 private:
  void Reset() noexcept;
  void* addr_ = nullptr;
  std::size_t size_ = 0;
  FileStamp stamp_;
};

// Writes `data` to `path` atomically: `path.tmp` is written, fsynced and
// renamed over `path`, then the directory is fsynced.
absl::Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> data);

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_MAPPED_FILE_H_
