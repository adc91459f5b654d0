// Helpers shared by the wire-level integration tests (wire_differential_test,
// malformed_test): starting the real meshbld binary (and Debian's rbldnsd)
// on 127.0.0.1, and bounded UDP / TCP exchanges of raw DNS messages.
#ifndef MESHBL_TESTS_INTEGRATION_WIRE_TEST_UTIL_H_
#define MESHBL_TESTS_INTEGRATION_WIRE_TEST_UTIL_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace meshbl::integration {

using Bytes = std::vector<std::uint8_t>;

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline int MsLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

inline sockaddr_in Loopback(std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  return sa;
}

// An ephemeral UDP port on 127.0.0.1 that was free a moment ago.
// A port of 127.0.0.1 free for UDP and for TCP at the time of the call (the
// servers under test bind both): an ephemeral UDP port whose TCP twin also
// binds; 0 when none was found in 50 tries.
inline std::uint16_t FreeUdpPort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in sa = Loopback(0);
    socklen_t len = sizeof sa;
    std::uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
      port = ntohs(sa.sin_port);
    }
    bool tcp_free = false;
    if (port != 0) {
      const int tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in ta = Loopback(port);
      tcp_free = tfd >= 0 && bind(tfd, reinterpret_cast<const sockaddr*>(&ta), sizeof ta) == 0;
      if (tfd >= 0) close(tfd);
    }
    close(fd);
    if (tcp_free) return port;
  }
  return 0;
}

// A connected UDP socket to 127.0.0.1:port.
class UdpSocket {
 public:
  explicit UdpSocket(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in sa = Loopback(port);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  bool Send(const Bytes& packet) {
    return send(fd_, packet.data(), packet.size(), 0) == static_cast<ssize_t>(packet.size());
  }
  // The next datagram within `timeout_ms` (false if none).
  bool Receive(int timeout_ms, Bytes* reply) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (int spins = 0; spins < 1000; ++spins) {
      const int left = MsLeft(deadline);
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) return false;
      std::uint8_t buf[65536];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0) {  // ECONNREFUSED from an earlier datagram: keep waiting
        if (left == 0) return false;
        continue;
      }
      reply->assign(buf, buf + n);
      return true;
    }
    return false;
  }
  // Sends `query` and waits up to `timeout_ms` for a reply carrying its ID
  // (replies with other IDs, late ones, are skipped).
  bool Exchange(const Bytes& query, int timeout_ms, Bytes* reply) {
    if (query.size() < 2 || !Send(query)) return false;
    return AwaitId(query, timeout_ms, reply);
  }
  // Waits up to `timeout_ms` for a reply carrying the ID of `query` (already
  // sent); replies with other IDs (late ones) are skipped.
  bool AwaitId(const Bytes& query, int timeout_ms, Bytes* reply) {
    if (query.size() < 2) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (int spins = 0; spins < 1000; ++spins) {
      if (!Receive(MsLeft(deadline), reply)) return false;
      if (reply->size() >= 2 && (*reply)[0] == query[0] && (*reply)[1] == query[1]) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
};

// A TCP connection to 127.0.0.1:port with 2-byte length framing (RFC 1035
// §4.2.2).
class TcpConn {
 public:
  explicit TcpConn(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in sa = Loopback(port);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  TcpConn(const TcpConn&) = delete;
  TcpConn& operator=(const TcpConn&) = delete;
  ~TcpConn() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  bool SendRaw(const Bytes& bytes) {
    std::size_t off = 0;
    for (int i = 0; i < 10000 && off < bytes.size(); ++i) {
      const ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return off == bytes.size();
  }
  bool SendFramed(const Bytes& msg) {
    Bytes framed = {static_cast<std::uint8_t>(msg.size() >> 8),
                    static_cast<std::uint8_t>(msg.size())};
    framed.insert(framed.end(), msg.begin(), msg.end());
    return SendRaw(framed);
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

  // Reads exactly `n` bytes within the deadline. 0: done, 1: timeout,
  // 2: EOF or error before `n` bytes.
  int ReadExact(std::size_t n, std::chrono::steady_clock::time_point deadline, Bytes* out) {
    out->clear();
    while (out->size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, MsLeft(deadline)) <= 0) return 1;
      std::uint8_t buf[65536];
      const std::size_t want = std::min(n - out->size(), sizeof buf);
      const ssize_t r = recv(fd_, buf, want, 0);
      if (r <= 0) return 2;
      out->insert(out->end(), buf, buf + r);
    }
    return 0;
  }
  // One framed reply within `timeout_ms`; false on timeout or EOF.
  bool ReadFramed(int timeout_ms, Bytes* msg) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    Bytes len;
    if (ReadExact(2, deadline, &len) != 0) return false;
    return ReadExact((std::size_t{len[0]} << 8) | len[1], deadline, msg) == 0;
  }
  // True when the peer closes the connection (EOF/reset) within
  // `timeout_ms` without sending any byte; false on data or timeout.
  bool ClosedByPeer(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    std::uint8_t b;
    return recv(fd_, &b, 1, 0) <= 0;
  }

 private:
  int fd_ = -1;
};

// A child process with stdout+stderr in `log`, killed and reaped on
// destruction.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { Stop(SIGKILL); }

  // Starts `program args...`; stdout and stderr go to `log`, or stderr to
  // `err_log` when one is given.
  bool Start(const std::string& program, const std::vector<std::string>& args,
             const std::string& log, const std::string& err_log = "") {
    log_ = log;
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    std::string prog = program;
    argv.push_back(prog.data());
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (!err_log.empty()) {
        const int err = open(err_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (err >= 0) dup2(err, 2);
      }
      execv(prog.c_str(), argv.data());
      _exit(127);
    }
    return true;
  }
  // True while the process has not exited.
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = status;
      return false;
    }
    return true;
  }
  void Signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  // Sends `sig` and reaps (bounded: SIGKILL after 5 s).
  void Stop(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    for (int i = 0; i < 500; ++i) {
      if (!Running()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }
  std::string Log() const { return ReadWholeFile(log_); }
  int status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_;
};

// Starts `meshbld -n -b 127.0.0.1/0 --threads 2 [-u nobody] <args>` and learns
// the port from its "listening on 127.0.0.1/PORT" line. Returns the port, or
// 0 (the log then says why).
inline std::uint16_t StartMeshbld(Child* child, const std::string& program,
                                  const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full = {"-n", "-b", "127.0.0.1/0", "--threads", "2"};
  // As root, meshbld (like rbldnsd) refuses to keep uid 0.
  if (geteuid() == 0) full.insert(full.end(), {"-u", "nobody"});
  full.insert(full.end(), args.begin(), args.end());
  if (!child->Start(program, full, log)) return 0;
  const std::string key = "listening on 127.0.0.1/";
  for (int i = 0; i < 1500; ++i) {  // 15 s
    const std::string out = child->Log();
    const std::size_t at = out.find(key);
    if (at != std::string::npos && out.find("started (") != std::string::npos) {
      return static_cast<std::uint16_t>(std::atoi(out.c_str() + at + key.size()));
    }
    if (!child->Running()) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace meshbl::integration

#endif  // MESHBL_TESTS_INTEGRATION_WIRE_TEST_UTIL_H_
