#include "meshbl/bench/startup.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::bench {

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 500; ++i) {  // 5 s
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace

bool ReadMemory(int pid, std::uint64_t* rss_kb, std::uint64_t* hwm_kb) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  if (!in) return false;
  std::string key;
  bool any = false;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> *rss_kb;
      any = true;
    } else if (key == "VmHWM:") {
      in >> *hwm_kb;
      any = true;
    }
    in.ignore(1 << 20, '\n');
  }
  return any;
}

absl::StatusOr<StartupResult> MeasureStartup(const sockaddr_storage& target, socklen_t target_len,
                                             std::span<const std::uint8_t> query,
                                             const std::vector<std::string>& command,
                                             double timeout) {
  if (command.empty()) return absl::InvalidArgumentError("no server command given after --");
  if (query.size() < 12 || query.size() > 512) return absl::InvalidArgumentError("bad probe");
  const util::UniqueFd sock(socket(target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = sock.get();
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&target), target_len) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", std::strerror(errno)));
  }
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const double t0 = Now();
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    dup2(2, 1);  // the server's output goes to stderr: stdout carries the report
    execvp(argv[0], argv.data());
    _exit(127);
  }
  StartupResult r;
  std::uint8_t pkt[512];
  std::memcpy(pkt, query.data(), query.size());
  std::uint8_t reply[4096];
  absl::Status err;
  bool answered = false;
  for (std::uint16_t id = 1; Now() - t0 < timeout; ++id) {
    pkt[0] = static_cast<std::uint8_t>(id >> 8);
    pkt[1] = static_cast<std::uint8_t>(id);
    if (send(fd, pkt, query.size(), 0) >= 0) ++r.probes;
    pollfd p{fd, POLLIN, 0};
    const timespec ms{0, 1'000'000};
    if (ppoll(&p, 1, &ms, nullptr) > 0 && recv(fd, reply, sizeof reply, 0) >= 12) {
      r.seconds = Now() - t0;
      answered = true;
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return absl::FailedPreconditionError(
          absl::StrCat("`", absl::StrJoin(command, " "), "' exited (",
                       WIFEXITED(status) ? absl::StrCat("status ", WEXITSTATUS(status))
                                         : absl::StrCat("signal ", WTERMSIG(status)),
                       ") before answering; run the server in the foreground (-n)"));
    }
  }
  if (answered) ReadMemory(pid, &r.rss_kb, &r.hwm_kb);
  Stop(pid);
  if (!answered) {
    return absl::DeadlineExceededError(
        absl::StrCat("no answer from `", absl::StrJoin(command, " "), "' within ", timeout, " s"));
  }
  return r;
}

}  // namespace meshbl::bench
