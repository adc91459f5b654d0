// Load and reload memory of the real meshbld binary (issue 9 item 6), on a
// generated 2M-entry ip4set (a 22 MB table). What an operator sizing a
// machine relies on:
//  - the first load peaks (VmHWM) at most 0.55 table sizes above the steady
//    RSS (measured: 0.33, the 4-byte raw keys; 8-byte entries would make it
//    0.7; before: 1.7 table sizes, the image was copied while it grew);
//  - a reload of the rewritten file peaks at most 1.6 table sizes above the
//    steady RSS while the old data keeps answering (one new copy plus
//    scratch; measured: 1.38; before: 2.7);
//  - after the reload the RSS comes back to the steady RSS: the first
//    load's data is let go (before: the daemon held it for ever, 2x).
// Memory is measured, not time: the waits are bounded polls. The figures
// for 10M entries and the comparison with rbldnsd are bench/compare's
// (`bench/compare --only memory`, docs/PERFORMANCE.md).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/wire_test_util.h"

namespace meshbl::integration {
namespace {

constexpr std::uint32_t kEntries = 2000000;
// The /32 table: 8-byte slots at load factor 0.72 (format.h, flat_table.h).
constexpr double kTableBytes = (kEntries / 0.72 + 1) * 8;

// VmRSS and VmHWM of `pid` in bytes (0 when unreadable).
void Memory(pid_t pid, double* rss, double* hwm) {
  *rss = *hwm = 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) *rss = std::stod(line.substr(6)) * 1024;
    if (line.rfind("VmHWM:", 0) == 0) *hwm = std::stod(line.substr(6)) * 1024;
  }
}

Bytes Query(std::uint16_t id, const std::string& name) {
  Bytes q = {static_cast<std::uint8_t>(id >> 8),
             static_cast<std::uint8_t>(id),
             0,
             0,
             0,
             1,
             0,
             0,
             0,
             0,
             0,
             0};
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<std::uint8_t>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
             name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

// True once `name` is answered NOERROR with an answer (bounded: 30 s).
bool WaitListed(std::uint16_t port, const std::string& name) {
  UdpSocket s(port);
  for (int i = 0; i < 3000 && s.ok(); ++i) {
    Bytes reply;
    if (s.Exchange(Query(static_cast<std::uint16_t>(i), name), 100, &reply) && reply.size() >= 8 &&
        (reply[3] & 15) == 0 && reply[7] > 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void WriteData(const std::string& path, std::uint32_t n, bool extra) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(":127.0.0.2:Listed $\n", f);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t a = i * 2654435761u;
    std::fprintf(f, "%u.%u.%u.%u\n", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
  }
  if (extra) std::fputs("203.0.113.77\n", f);
  std::fclose(f);
  chmod(path.c_str(), 0644);
}

TEST(MemoryTest, LoadAndReloadPeaksStayNearOneCopyOfTheData) {
  char tmpl[] = "/tmp/meshbl-memory-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  chmod(dir.c_str(), 0755);
  const std::string data = dir + "/bl.txt";
  WriteData(data, kEntries, false);
  WriteData(dir + "/bl2.txt", kEntries, true);

  Child daemon;
  const std::uint16_t port = StartMeshbld(
      &daemon, MESHBLD_PATH, {"-p", dir + "/pid", "bl.test:ip4set:" + data}, dir + "/log");
  ASSERT_NE(port, 0) << daemon.Log();
  pid_t pid = 0;
  {
    std::ifstream in(dir + "/pid");
    in >> pid;
  }
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitListed(port, "177.121.55.158.bl.test"));  // entry 1
  double load_hwm = 0, steady = 0, rss = 0, reload_hwm = 0;
  Memory(pid, &rss, &load_hwm);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // workers refresh once a second
  Memory(pid, &steady, &rss);
  ASSERT_GT(steady, kTableBytes);
  EXPECT_LE(load_hwm - steady, 0.55 * kTableBytes)
      << "load peak " << load_hwm << " B, steady " << steady << " B";

  // Reload: VmHWM reset to the current RSS first (root only: clear_refs).
  bool reset = false;
  {
    std::ofstream clear("/proc/" + std::to_string(pid) + "/clear_refs");
    clear << "5";
    clear.flush();
    reset = clear.good();
  }
  ASSERT_EQ(std::rename((dir + "/bl2.txt").c_str(), data.c_str()), 0);
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitListed(port, "77.113.0.203.bl.test")) << daemon.Log();
  Memory(pid, &rss, &reload_hwm);
  if (reset) {
    EXPECT_LE(reload_hwm - steady, 1.6 * kTableBytes)
        << "reload peak " << reload_hwm << " B, steady " << steady << " B";
  }
  // The old data is let go once every worker has refreshed (idle workers
  // refresh once a second).
  double after = 0;
  for (int i = 0; i < 100; ++i) {
    Memory(pid, &after, &rss);
    if (after <= steady + 0.5 * kTableBytes) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LE(after, steady + 0.5 * kTableBytes)
      << "RSS after the reload " << after << " B, steady before " << steady << " B";
  std::printf(
      "table %.0f B; steady %.0f B; load peak +%.2f tables; reload peak +%.2f tables; "
      "after the reload +%.2f tables\n",
      kTableBytes, steady, (load_hwm - steady) / kTableBytes,
      reset ? (reload_hwm - steady) / kTableBytes : -1.0, (after - steady) / kTableBytes);
  daemon.Stop(SIGTERM);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace meshbl::integration
