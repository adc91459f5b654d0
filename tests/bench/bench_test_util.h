// Test data for the bench tests: zone files in a fresh temporary directory
// loaded through the same path `meshbl bench --data` uses.
#ifndef MESHBL_TESTS_BENCH_BENCH_TEST_UTIL_H_
#define MESHBL_TESTS_BENCH_BENCH_TEST_UTIL_H_

#include <stdlib.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/zone/loader.h"

namespace meshbl::bench::testing {

inline std::string MakeTempDir() {
  std::string tmpl = ::testing::TempDir() + "meshbl-bench-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

inline std::string WriteFile(const std::string& dir, const std::string& name,
                             const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// bl.test: ip4set of 1000 /32s (10.x.y.z) plus 192.168.0.0/16;
// v6.test: ip6trie with two /64s; dbl.test: dnset with 200 names and one
// wildcard.
inline std::shared_ptr<const table::ZoneSet> TestData(const std::string& dir) {
  std::string ip4 = ":127.0.0.2:Listed $\n192.168.0.0/16\n";
  for (int i = 0; i < 1000; ++i) {
    ip4 += "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "." +
           std::to_string(i % 7 + 1) + "\n";
  }
  std::string names = ":127.0.0.3:Domain listed\n*.wild.example\n";
  for (int i = 0; i < 200; ++i) names += "host" + std::to_string(i) + ".example.com\n";
  const std::vector<std::string> specs = {
      "bl.test:ip4set:" + WriteFile(dir, "ip4.txt", ip4),
      "v6.test:ip6trie:" + WriteFile(dir, "ip6.txt",
                                     "2001:db8:1::/64 :127.0.0.4:\n"
                                     "2001:db8:2::/64 :127.0.0.4:\n"),
      "dbl.test:dnset:" + WriteFile(dir, "names.txt", names),
  };
  std::vector<zone::Diagnostic> warnings;
  auto zs = zone::LoadZoneSet(specs, zone::LoadOptions(), &warnings);
  EXPECT_TRUE(zs.ok()) << zs.status();
  EXPECT_TRUE(warnings.empty()) << warnings[0].ToString();
  return zs.ok() ? *zs : nullptr;
}

}  // namespace meshbl::bench::testing

#endif  // MESHBL_TESTS_BENCH_BENCH_TEST_UTIL_H_
