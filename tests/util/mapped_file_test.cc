// Atomic writes and read-only maps: what `meshbl compile` and snapshot
// loading rely on.
#include "meshbl/util/mapped_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace meshbl::util
