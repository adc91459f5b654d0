// Atomic writes and read-only maps: what `meshbl compile` and snapshot
// loading rely on.
#include "meshbl/util/mapped_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace meshbl::util {
namespace {

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("meshbl_mf_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(MappedFileTest, AtomicWriteReplacesAndLeavesNoTemp) {
  std::string path = (dir_ / "f.bin").string();
  std::vector<std::uint8_t> a = {1, 2, 3}, b = {9, 8, 7, 6};
  ASSERT_TRUE(WriteFileAtomically(path, a).ok());
  auto m1 = MappedFile::Open(path);  // stays mapped while the file is replaced
  ASSERT_TRUE(WriteFileAtomically(path, b).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto m2 = MappedFile::Open(path);
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_EQ(std::vector<std::uint8_t>(m1->bytes().begin(), m1->bytes().end()), a);
  EXPECT_EQ(std::vector<std::uint8_t>(m2->bytes().begin(), m2->bytes().end()), b);
  EXPECT_EQ(m2->stamp().size, 4);
}

TEST_F(MappedFileTest, ErrorsNameTheFile) {
  auto m = MappedFile::Open((dir_ / "missing").string());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("missing: open"), std::string::npos) << m.status();
  auto d = MappedFile::Open(dir_.string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("not a regular file"), std::string::npos);
  auto w = WriteFileAtomically((dir_ / "no/such/dir/f").string(), {});
  EXPECT_FALSE(w.ok());
}

TEST_F(MappedFileTest, EmptyFileMapsToNoBytes) {
  std::string path = (dir_ / "empty").string();
  std::ofstream(path).close();
  auto m = MappedFile::Open(path);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->bytes().empty());
}

// Issue 9 item 10: whatever a writer does to the file after Open() (cp over
// it, rsync --inplace, truncate), the bytes stay what was opened and reading
// them never faults.
std::vector<std::uint8_t> Pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 131 + seed);
  return v;
}

void WriteInPlace(const std::string& path, const std::vector<std::uint8_t>& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);  // what cp does
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
}

bool Same(const MappedFile& m, const std::vector<std::uint8_t>& v) {
  return m.bytes().size() == v.size() && std::equal(v.begin(), v.end(), m.bytes().begin());
}

TEST_F(MappedFileTest, Issue9_InPlaceWritesNeverChangeOrBreakTheBytes) {
  // Sizes around page boundaries, from one byte to several megabytes.
  for (std::size_t n : {std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
                        std::size_t{3} << 20}) {
    for (MappedFile::Mode mode : {MappedFile::Mode::kAuto, MappedFile::Mode::kCopy}) {
      SCOPED_TRACE(testing::Message() << "size " << n << " mode " << static_cast<int>(mode));
      const std::string path = (dir_ / "inplace.bin").string();
      const std::vector<std::uint8_t> old_bytes = Pattern(n, 1);
      ASSERT_TRUE(WriteFileAtomically(path, old_bytes).ok());
      auto m = MappedFile::Open(path, mode);
      ASSERT_TRUE(m.ok()) << m.status();
      if (mode == MappedFile::Mode::kCopy) {
        EXPECT_EQ(m->backing(), MappedFile::Backing::kCopied);
      } else if (::geteuid() == 0) {  // root has CAP_LEASE; owners may lease too
        EXPECT_EQ(m->backing(), MappedFile::Backing::kLeased) << m->copy_reason();
      }
      // Readers keep reading while the writer works.
      std::atomic<bool> done{false};
      std::atomic<int> mismatches{0};
      std::thread reader([&] {
        for (int i = 0; i < 1'000'000 && !done.load(); ++i) {
          if (!Same(*m, old_bytes)) mismatches.fetch_add(1);
        }
      });
      WriteInPlace(path, Pattern(n / 2 + 1, 2));  // cp of another file over it
      ASSERT_EQ(::truncate(path.c_str(), 0), 0);  // truncate
      WriteInPlace(path, Pattern(n * 2, 3));      // and a larger one
      done.store(true);
      reader.join();
      EXPECT_EQ(mismatches.load(), 0);
      EXPECT_TRUE(Same(*m, old_bytes));
      if (mode == MappedFile::Mode::kAuto && ::geteuid() == 0) {
        EXPECT_EQ(m->backing(), MappedFile::Backing::kDetached);
      }
      // A new Open sees the new content.
      auto m2 = MappedFile::Open(path);
      ASSERT_TRUE(m2.ok());
      EXPECT_TRUE(Same(*m2, Pattern(n * 2, 3)));
    }
  }
}

TEST_F(MappedFileTest, Issue9_FileOpenForWritingIsCopiedAtOpen) {
  const std::string path = (dir_ / "busy.bin").string();
  const std::vector<std::uint8_t> bytes = Pattern(10000, 4);
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  int wfd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // a writer holds it open
  ASSERT_GE(wfd, 0);
  auto m = MappedFile::Open(path);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->backing(), MappedFile::Backing::kCopied);
  EXPECT_NE(m->copy_reason().find("F_SETLEASE"), std::string::npos) << m->copy_reason();
  ASSERT_EQ(::ftruncate(wfd, 0), 0);
  ::close(wfd);
  EXPECT_TRUE(Same(*m, bytes));
}

TEST_F(MappedFileTest, Issue9_ReleasedFileDoesNotHoldWriters) {
  // After the MappedFile is gone (or moved from), a writer proceeds at once
  // and nothing is left registered.
  const std::string path = (dir_ / "gone.bin").string();
  ASSERT_TRUE(WriteFileAtomically(path, Pattern(8192, 5)).ok());
  const LeaseStats before = GetLeaseStats();
  {
    auto m = MappedFile::Open(path);
    ASSERT_TRUE(m.ok());
    MappedFile moved = std::move(*m);
    EXPECT_EQ(m->backing(), MappedFile::Backing::kNone);
    EXPECT_EQ(moved.bytes().size(), 8192u);
  }
  WriteInPlace(path, Pattern(10, 6));
  EXPECT_EQ(GetLeaseStats().detached, before.detached);
}

}  // namespace
}  // namespace meshbl::util
