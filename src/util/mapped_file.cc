#include "meshbl/util/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

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

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
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
  m.stamp_ = {static_cast<std::int64_t>(st.st_mtime), static_cast<std::int64_t>(st.st_size)};
  m.size_ = static_cast<std::size_t>(st.st_size);
  if (m.size_ == 0) return m;
  void* addr = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
  if (addr == MAP_FAILED) return ErrnoError("mmap", path);
  m.addr_ = addr;
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : addr_(o.addr_), size_(o.size_), stamp_(o.stamp_) {
  o.addr_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    Reset();
    addr_ = o.addr_;
    size_ = o.size_;
    stamp_ = o.stamp_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { Reset(); }

void MappedFile::Reset() noexcept {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
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
