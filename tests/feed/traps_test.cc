// The trap address file (feed/traps.h): what a user relies on is that every
// address written in the file, in any case, is a trap and nothing else is;
// that comments and blank lines are ignored; that a bad line is reported as
// file:line and leaves the previous set serving; and that a reload reads the
// file again exactly when it changed.
#include "meshbl/feed/traps.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace meshbl::feed {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/meshbl-traps-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }
  // Replaces `name` by rename, as an editor or a deployment does.
  std::string Replace(const std::string& name, const std::string& content) const {
    const std::string tmp = Write(name + ".tmp", content);
    const std::string path = dir_ + "/" + name;
    std::rename(tmp.c_str(), path.c_str());
    return path;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Random addresses with every allowed local-part byte and mixed case.
std::vector<std::string> GenAddresses(std::size_t n, std::uint64_t seed) {
  static const std::string kLocal =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.";
  static const std::string kDomain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string a;
    const std::size_t ll = 1 + rng() % 64;
    for (std::size_t k = 0; k < ll; ++k) a.push_back(kLocal[rng() % kLocal.size()]);
    if (a[0] == '#') a[0] = 'x';  // a leading '#' would be a comment line
    a += "@";
    const std::size_t labels = 1 + rng() % 3;
    for (std::size_t l = 0; l < labels; ++l) {
      if (l) a += ".";
      const std::size_t len = 1 + rng() % 20;
      for (std::size_t k = 0; k < len; ++k) a.push_back(kDomain[rng() % kDomain.size()]);
    }
    out.push_back(a);
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(TrapSetTest, EveryListedAddressInAnyCaseIsATrapAndNothingElse) {
  const auto addrs = GenAddresses(500, 1);
  const auto others = GenAddresses(500, 2);
  std::string file = "# trap addresses\n\n";
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    file += (i % 3 == 0 ? "  " : "") + addrs[i] + (i % 5 == 0 ? "   # planted 2026\n" : "\n");
  }
  TempDir d;
  TrapSet traps;
  ASSERT_TRUE(traps.Load(d.Write("traps.txt", file)).ok());
  for (const auto& a : addrs) {
    EXPECT_TRUE(traps.IsTrap(a)) << a;
    EXPECT_TRUE(traps.IsTrap(Upper(a))) << a;
    EXPECT_TRUE(traps.Contains(HashTrapAddress(a))) << a;
  }
  std::size_t false_hits = 0;
  for (const auto& a : others) false_hits += traps.IsTrap(a) ? 1u : 0u;
  EXPECT_EQ(false_hits, 0u);
  EXPECT_LE(traps.size(), addrs.size());
  EXPECT_GT(traps.size() + 5, addrs.size());  // random duplicates only
}

TEST(TrapSetTest, DomainLinesMakeEveryAddressThereATrap) {
  TrapSet traps;
  ASSERT_TRUE(traps.LoadText("@Traps.Example.org\nsingle@example.com\n", "t").ok());
  EXPECT_TRUE(traps.IsTrap("anything@traps.example.org"));
  EXPECT_TRUE(traps.IsTrap("X@TRAPS.EXAMPLE.ORG"));
  EXPECT_FALSE(traps.IsTrap("x@sub.traps.example.org"));
  EXPECT_FALSE(traps.IsTrap("x@example.org"));
  EXPECT_TRUE(traps.IsTrap("single@example.com"));
  EXPECT_FALSE(traps.IsTrap("other@example.com"));
  EXPECT_FALSE(traps.IsTrap("traps.example.org"));
}

TEST(TrapSetTest, CommentsBlankLinesAndCrlfAreIgnored) {
  TrapSet traps;
  ASSERT_TRUE(
      traps.LoadText("#only a comment\r\n\r\n   \t\n a@b.example \t# c\r\nx#y@b.example\n", "t")
          .ok());
  EXPECT_EQ(traps.size(), 2u);
  EXPECT_TRUE(traps.IsTrap("a@b.example"));
  EXPECT_TRUE(traps.IsTrap("x#y@b.example"));  // '#' inside a word is not a comment
  TrapSet empty;
  ASSERT_TRUE(empty.LoadText("", "t").ok());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_FALSE(empty.IsTrap("a@b.example"));
}

// Every way a line can fail to be an address, each at a different line
// number of an otherwise good file: the error names file:line.
TEST(TrapSetTest, BadLineIsReportedWithFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"no-at-sign.example", "no '@'"},
      {"@", "no domain"},
      {"a@", "no domain"},
      {"a b@example.com", "not allowed in the local part"},
      {"<a@example.com>", "not allowed in the local part"},
      {"a@exa mple.com", "not allowed in a domain"},
      {"a@example..com", "empty label"},
      {"a@example.com.", "empty label"},
      {"a@.example.com", "empty label"},
      {std::string(65, 'a') + "@example.com", "local part longer than 64"},
      {"a@" + std::string(64, 'b') + ".com", "label longer than 63"},
      {"a@" + std::string(254, 'b'), "domain longer than 253"},
      {"a@[192.0.2.1", "without ']'"},
      {std::string("a\x01@example.com"), "0x1"},
      {std::string("a\xc3\xa9@example.com"), "0xc3"},
      {"a\"b@example.com", "not allowed in the local part"},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    std::string file;
    for (std::size_t k = 0; k < i; ++k) file += "good" + std::to_string(k) + "@example.com\n";
    file += bad[i].first + "\n" + "after@example.com\n";
    TrapSet traps;
    auto st = traps.LoadText(file, "traps.txt");
    ASSERT_FALSE(st.ok()) << bad[i].first;
    const std::string want = "traps.txt:" + std::to_string(i + 1) + ": ";
    EXPECT_EQ(std::string(st.message()).rfind(want, 0), 0u) << st.message();
    EXPECT_NE(std::string(st.message()).find(bad[i].second), std::string::npos) << st.message();
    EXPECT_EQ(traps.size(), 0u);
  }
  // Address literals are addresses.
  TrapSet lit;
  EXPECT_TRUE(lit.LoadText("a@[192.0.2.1]\nb@[IPv6:2001:db8::1]\n", "t").ok());
  EXPECT_TRUE(lit.IsTrap("A@[192.0.2.1]"));
}

TEST(TrapSetTest, BadReloadKeepsThePreviousSet) {
  TempDir d;
  TrapSet traps;
  const std::string path = d.Write("traps.txt", "old@example.com\n");
  ASSERT_TRUE(traps.Load(path).ok());
  d.Replace("traps.txt", "new@example.com\nbroken line\n");
  auto st = traps.ReloadIfChanged();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.status().message()).find(path + ":2: "), std::string::npos)
      << st.status();
  EXPECT_NE(std::string(st.status().message()).find("previous trap set is kept"),
            std::string::npos);
  EXPECT_TRUE(traps.IsTrap("old@example.com"));
  EXPECT_FALSE(traps.IsTrap("new@example.com"));
  // The same bad file is not read again until it changes.
  auto again = traps.ReloadIfChanged();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  d.Replace("traps.txt", "new@example.com\n");
  auto fixed = traps.ReloadIfChanged();
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_TRUE(*fixed);
  EXPECT_TRUE(traps.IsTrap("new@example.com"));
  EXPECT_FALSE(traps.IsTrap("old@example.com"));
}

TEST(TrapSetTest, ReloadReadsTheFileOnlyWhenItChanged) {
  TempDir d;
  TrapSet traps;
  EXPECT_FALSE(traps.Changed());  // no file yet
  const std::string path = d.Write("traps.txt", "a@example.com\n");
  ASSERT_TRUE(traps.Load(path).ok());
  auto r = traps.ReloadIfChanged();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  // Rewritten in place with the same size: mtime/ctime move.
  timespec past[2] = {{1000, 0}, {1000, 0}};
  d.Write("traps.txt", "b@example.com\n");
  ::utimensat(AT_FDCWD, path.c_str(), past, 0);
  EXPECT_TRUE(traps.Changed());
  r = traps.ReloadIfChanged();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(traps.IsTrap("b@example.com"));
  EXPECT_FALSE(traps.IsTrap("a@example.com"));
  // Replaced by rename with the same mtime and size: the inode differs.
  d.Replace("traps.txt", "c@example.com\n");
  ::utimensat(AT_FDCWD, path.c_str(), past, 0);
  r = traps.ReloadIfChanged();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(traps.IsTrap("c@example.com"));
}

TEST(TrapSetTest, MissingOrUnreadableFileKeepsThePreviousSet) {
  TempDir d;
  TrapSet traps;
  auto st = traps.Load(d.dir() + "/missing.txt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("missing.txt"), std::string::npos) << st.message();
  EXPECT_EQ(traps.size(), 0u);

  const std::string path = d.Write("traps.txt", "a@example.com\n");
  ASSERT_TRUE(traps.Load(path).ok());
  std::filesystem::remove(path);
  EXPECT_TRUE(traps.Changed());
  auto r = traps.ReloadIfChanged();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("traps.txt"), std::string::npos);
  EXPECT_TRUE(traps.IsTrap("a@example.com"));

  // A directory in its place (unreadable as a file, even for root).
  std::filesystem::create_directory(path);
  r = traps.ReloadIfChanged();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(traps.IsTrap("a@example.com"));
  std::filesystem::remove(path);

  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    d.Write("traps.txt", "b@example.com\n");
    ::chmod(path.c_str(), 0);
    r = traps.ReloadIfChanged();
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(traps.IsTrap("a@example.com"));
  }
}

}  // namespace
}  // namespace meshbl::feed
