// Helpers for end-to-end tests of the real `meshbld` binary (shared by
// daemon_test and the newer integration files): a scratch
// directory, meshbld run in the foreground with an ephemeral port learnt
// from its log, a UDP client decoding with ldns. Every wait is bounded.
#ifndef MESHBL_TESTS_INTEGRATION_DAEMON_UTIL_H_
#define MESHBL_TESTS_INTEGRATION_DAEMON_UTIL_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/daemon/options.h"

// ldns last: its C headers define macros that upset C++ standard headers.
#include <ldns/ldns.h>  // NOLINT(build/include_order)

#ifndef MESHBLD_PATH
#error "MESHBLD_PATH must name the meshbld binary"
#endif
#ifndef MESHBL_TOOL_PATH
#error "MESHBL_TOOL_PATH must name the meshbl binary"
#endif

namespace meshbl::testing::daemon {

using namespace std::chrono_literals;  // NOLINT(build/namespaces): test helpers
namespace fs = std::filesystem;

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to `p` through a temporary file and rename, so a reload
// never sees a half-written file; the file is readable by any user.
inline void WriteFile(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  chmod(tmp.c_str(), 0644);
  fs::rename(tmp, p);
}

// A scratch directory every user may write (the daemon drops privileges).
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/meshbld_test.XXXXXX";
    path_ = mkdtemp(tmpl);
    chmod(path_.c_str(), 0777);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// The user the daemon should run as: as root, `nobody` (meshbld, like
// rbldnsd, refuses to keep uid 0); otherwise no -u.
inline std::vector<std::string> UserArgs() {
  if (geteuid() == 0) return {"-u", "nobody"};
  return {};
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs meshbld to completion (bounded by `limit`), capturing its output.
inline RunResult RunToExit(const std::vector<std::string>& args, const fs::path& dir,
                           std::chrono::seconds limit = 10s, const char* program = MESHBLD_PATH) {
  const fs::path out = dir / "run.out", err = dir / "run.err";
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    std::string prog = program;
    argv.push_back(prog.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(prog.c_str(), argv.data());
    _exit(127);
  }
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "meshbld did not exit in time";
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

// A meshbld started with -n in the background.
class Daemon {
 public:
  // `env`: extra NAME=value entries; `foreground`: pass -n.
  Daemon(const TempDir& dir, std::vector<std::string> args, std::vector<std::string> env = {},
         bool foreground = true)
      : dir_(dir) {
    out_ = dir.path() / "daemon.out";
    err_ = dir.path() / "daemon.err";
    std::vector<std::string> full = {"-b", "127.0.0.1/0", "--threads", "2"};
    if (foreground) full.insert(full.begin(), "-n");
    for (const std::string& a : UserArgs()) full.push_back(a);
    full.insert(full.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      const int o = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, 1);
      dup2(e, 2);
      if (chdir(dir.path().c_str()) != 0) _exit(126);
      for (std::string& var : env) putenv(var.data());
      std::string prog = MESHBLD_PATH;
      std::vector<char*> argv = {prog.data()};
      for (std::string& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(prog.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits (bounded) for the "started" line; learns the port.
  bool WaitStarted() {
    if (!WaitLog("started (", 15s)) return false;
    const std::string out = Out();
    const std::string key = "listening on 127.0.0.1/";
    const std::size_t at = out.find(key);
    if (at == std::string::npos) return false;
    port_ = static_cast<std::uint16_t>(std::atoi(out.c_str() + at + key.size()));
    return port_ != 0;
  }
  // Waits until stdout+stderr hold `needle` `count` times.
  bool WaitLog(const std::string& needle, std::chrono::milliseconds limit, int count = 1) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Count(needle) >= count) return true;
      if (Exited()) return Count(needle) >= count;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  int Count(const std::string& needle) const {
    const std::string all = Out() + Err();
    int n = 0;
    for (std::size_t p = all.find(needle); p != std::string::npos; p = all.find(needle, p + 1)) {
      ++n;
    }
    return n;
  }
  void Signal(int sig) { kill(pid_, sig); }
  // Waits for the exit (bounded); returns the exit code or -1.
  int WaitExit(std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Exited()) return code_;
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  bool Exited() {
    if (exited_) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return exited_;
  }
  std::string Out() const { return ReadFile(out_); }
  std::string Err() const { return ReadFile(err_); }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  const TempDir& dir_;
  fs::path out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  std::uint16_t port_ = 0;
};

struct Reply {
  bool got = false;
  int rcode = -1;
  std::vector<std::string> a;    // A rdata, dotted
  std::vector<std::string> txt;  // TXT strings
};

// One UDP client socket with a receive timeout.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  ~Client() { close(fd_); }

  Reply Query(const std::string& name, ldns_rr_type type, int timeout_ms = 2000) {
    Reply r;
    ldns_pkt* q = nullptr;
    if (ldns_pkt_query_new_frm_str(&q, name.c_str(), type, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK) {
      return r;
    }
    const std::uint16_t id = ++id_;
    ldns_pkt_set_id(q, id);
    std::uint8_t* wire = nullptr;
    std::size_t len = 0;
    ldns_pkt2wire(&wire, q, &len);
    ldns_pkt_free(q);
    const ssize_t sent = send(fd_, wire, len, 0);
    std::free(wire);
    if (sent < 0) return r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return r;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      std::uint8_t buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      ldns_pkt* p_reply = nullptr;
      if (ldns_wire2pkt(&p_reply, buf, static_cast<std::size_t>(n)) != LDNS_STATUS_OK) continue;
      if (ldns_pkt_id(p_reply) != id) {  // a late reply to an earlier query
        ldns_pkt_free(p_reply);
        continue;
      }
      r.got = true;
      r.rcode = ldns_pkt_get_rcode(p_reply);
      ldns_rr_list* an = ldns_pkt_answer(p_reply);
      for (std::size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
        ldns_rr* rr = ldns_rr_list_rr(an, i);
        ldns_rdf* rd = ldns_rr_rdf(rr, 0);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A) {
          char* s = ldns_rdf2str(rd);
          r.a.push_back(s);
          std::free(s);
        } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT) {
          const std::uint8_t* d = ldns_rdf_data(rd);
          r.txt.emplace_back(reinterpret_cast<const char*>(d + 1), d[0]);
        }
      }
      ldns_pkt_free(p_reply);
      return r;
    }
  }

 private:
  int fd_ = -1;
  std::uint16_t id_ = 0;
};

}  // namespace meshbl::testing::daemon

#endif  // MESHBL_TESTS_INTEGRATION_DAEMON_UTIL_H_
