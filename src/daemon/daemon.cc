// The meshbld process lifecycle: see daemon.h.
#include "meshbl/daemon/daemon.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "meshbl/daemon/dns_service.h"
#include "meshbl/daemon/feed_service.h"
#include "meshbl/daemon/query_log_service.h"
#include "meshbl/daemon/reload.h"
#include "meshbl/daemon/service.h"
#include "meshbl/daemon/stats_file.h"
#include "meshbl/dns/name.h"
#include "meshbl/feed/config.h"
#include "meshbl/server/listen.h"
#include "meshbl/server/query_log.h"
#include "meshbl/server/server.h"
#include "meshbl/table/dump.h"
#include "meshbl/table/swap.h"
#include "meshbl/util/event_loop.h"
#include "meshbl/util/log.h"
#include "meshbl/zone/source.h"
#include "meshbl/zone/zone_loader.h"

namespace meshbl::daemon {
using server::FamilyHint;
using server::IoStats;
using server::kMaxZoneStats;
using server::ListenAddress;
using server::ResolveListenSpecs;
using server::ResponderStats;
using server::Server;
using server::ServerConfig;
using server::UdpBackend;
using server::UdpBackendName;
using server::ZoneStats;
using util::LogAllToStderr;
using util::LogError;
using util::LogInfo;
using util::LogToStdio;
using util::LogToSyslog;
using util::LogWarning;

namespace {

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// How long SIGTERM waits for a reload in progress to stop.
constexpr std::chrono::milliseconds kStopLimit{2000};

std::string Errno() { return std::strerror(errno); }

// Fatal startup error: logged, exit code 1.
int Fatal(std::string_view message) {
  LogError(message);
  return 1;
}

int Fatal(const absl::Status& st) { return Fatal(std::string(st.message())); }

// The ids to run as after startup.
struct Creds {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// rbldnsd's -u rule: `user[:group]`, names or numbers; as root without -u
// the user is "rbldns"; not root without -u: no change; uid 0 is refused.
absl::StatusOr<Creds> ResolveUser(const std::string& spec_in) {
  Creds c;
  std::string spec = spec_in;
  if (spec.empty()) {
    if (getuid() != 0) return c;
    spec = "rbldns";
  }
  const std::size_t colon = spec.find(':');
  const std::string user = spec.substr(0, colon);
  c.change = true;
  c.gid = getgid();
  if (const passwd* pw = getpwnam(user.c_str()); pw != nullptr) {
    c.uid = pw->pw_uid;
    c.gid = pw->pw_gid;
  } else if (unsigned v; absl::SimpleAtoi(user, &v)) {
    c.uid = static_cast<uid_t>(v);
    if (const passwd* pwu = getpwuid(c.uid); pwu != nullptr) c.gid = pwu->pw_gid;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown user `", user, "'"));
  }
  if (colon != std::string::npos) {
    const std::string group_name = spec.substr(colon + 1);
    if (const group* gr = getgrnam(group_name.c_str()); gr != nullptr) {
      c.gid = gr->gr_gid;
    } else if (unsigned v; absl::SimpleAtoi(group_name, &v)) {
      c.gid = static_cast<gid_t>(v);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown group `", group_name, "'"));
    }
  }
  if (c.uid == 0) {
    return absl::InvalidArgumentError("daemon should not run as root, specify -u option");
  }
  return c;
}

// Tells the waiting parent (daemon mode) how startup went; no-op otherwise.
class ParentPipe {
 public:
  explicit ParentPipe(int fd) : fd_(fd) {}
  ~ParentPipe() { Notify(false); }
  ParentPipe(const ParentPipe&) = delete;
  ParentPipe& operator=(const ParentPipe&) = delete;
  void Notify(bool ok) {
    if (fd_ < 0) return;
    const char c = ok ? '0' : '1';
    while (write(fd_, &c, 1) < 0 && errno == EINTR) {
    }
    close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// systemd's notification socket (the sd_notify(3) protocol, for Type=notify
// units such as Debian's rbldnsd.service); inactive when NOTIFY_SOCKET is
// unset. Under it meshbld, like rbldnsd, does not fork and logs to syslog.
class SystemdNotifier {
 public:
  SystemdNotifier() {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || path[0] == '\0') return;
    const std::size_t len = std::strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr_.sun_path) {
      LogWarning(absl::StrCat("NOTIFY_SOCKET `", path, "' is not a socket path: ignored"));
      return;
    }
    addr_.sun_family = AF_UNIX;
    std::memcpy(addr_.sun_path, path, len);
    if (path[0] == '@') addr_.sun_path[0] = '\0';  // abstract namespace
    addr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  }
  bool active() const { return addr_len_ > 0; }
  // Sends one datagram of newline-separated assignments; errors are ignored
  // (systemd may not be listening).
  void Send(std::string_view state) const {
    if (!active()) return;
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    (void)sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
    close(fd);
  }

 private:
  sockaddr_un addr_{};
  socklen_t addr_len_ = 0;
};

// Detaches from the terminal after a successful start in daemon mode.
void Detach(int facility) {
  const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    close(devnull);
  }
  LogToSyslog(facility);
}

absl::Status WritePidFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to write pid file ", path, ": ", Errno()));
  }
  std::fprintf(f, "%ld\n", static_cast<long>(getpid()));
  if (std::fclose(f) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to write pid file ", path, ": ", Errno()));
  }
  return absl::OkStatus();
}

// Temporarily takes the target user's effective ids (to load data with the
// permissions the reloads will have), or back to root.
absl::Status SetEffective(const Creds& c, bool to_user) {
  if (!c.change) return absl::OkStatus();
  if (to_user) {
    if (setgroups(1, &c.gid) != 0 || setegid(c.gid) != 0 || seteuid(c.uid) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unable to set effective ids: ", Errno()));
    }
  } else if (seteuid(0) != 0 || setegid(0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("unable to restore root ids: ", Errno()));
  }
  return absl::OkStatus();
}

// After setuid, keeps CAP_LEASE alone in this thread's permitted set (not
// effective): MappedFile raises it just for the moment it takes a read lease
// on a data file the `-u` user does not own, so that files loaded after the
// drop (reloads, `-q` loads) are leased instead of copied. Threads created
// later (the reloader) inherit it; the workers, started before, keep none.
void KeepOnlyLeaseCapability() {
  __user_cap_header_struct hdr{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  __user_cap_data_struct data[2]{};
  data[0].permitted = 1u << CAP_LEASE;
  if (syscall(SYS_capset, &hdr, data) != 0) {
    LogWarning(absl::StrCat("unable to keep CAP_LEASE: ", Errno(),
                            " (files loaded from now on are copied, not leased)"));
  }
}

absl::Status DropPrivileges(const Creds& c) {
  if (!c.change) return absl::OkStatus();
  if (setgroups(1, &c.gid) != 0 || setgid(c.gid) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("unable to setgid(", c.gid, "): ", Errno()));
  }
  const bool root = geteuid() == 0;
  if (root) (void)prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  if (setuid(c.uid) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("unable to setuid(", c.uid, "): ", Errno()));
  }
  if (root) {
    (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    KeepOnlyLeaseCapability();
  }
  return absl::OkStatus();
}

UdpBackend BackendFromName(const std::string& s) {
  if (s == "uring") return UdpBackend::kUring;
  if (s == "mmsg") return UdpBackend::kMmsg;
  return UdpBackend::kAuto;
}

// The control thread's state after startup.
struct Running {
  const DaemonOptions* options;
  const table::ZoneSetHolder* holder;
  ServiceList* services;
  const Server* server;
  const ReloadService* reload;
  StatsTracker* stats;
  const SystemdNotifier* systemd;
};

// Per-zone counters of the zones of the published state, in ZoneSet order;
// workers count by the zone's identity (ZoneNode::id), which a reload keeps.
std::vector<ZoneCounters> ZoneCountersOf(const Running& r, const ResponderStats& s) {
  std::vector<ZoneCounters> out;
  std::shared_ptr<const table::ZoneSet> zs = r.holder->Current();
  if (zs == nullptr) return out;
  const auto zones = zs->zones();
  for (const table::ZoneNode& z : zones) {
    if (z.id >= static_cast<std::uint32_t>(kMaxZoneStats)) continue;
    std::string name = dns::NameToText(z.name);
    out.push_back({name.empty() ? "." : name, CountersFrom(s.zone[z.id])});
  }
  return out;
}

void WriteStats(const Running& r, std::int64_t now) {
  const ResponderStats s = r.server->TotalStats();
  if (absl::Status st = r.stats->WriteCounters(now, CountersFrom(s), ZoneCountersOf(r, s));
      !st.ok()) {
    LogWarning(std::string(st.message()));
  }
}

// The counters lines, then each service's own (the query log's).
void LogStats(const Running& r, std::int64_t now, const ResponderStats& s) {
  for (const std::string& line : r.stats->LogLines(now, CountersFrom(s), ZoneCountersOf(r, s))) {
    LogInfo(line);
  }
  for (const std::string& line : r.services->StatsLines()) LogInfo(line);
}

// One signal, read from the signalfd by the control loop. Returns false
// once the daemon is to exit (TERM/INT).
bool OnSignal(const Running& r, std::uint32_t signo) {
  const std::int64_t now = Now();
  switch (signo) {
    case SIGHUP:
      // Reopens -l, checks the data files.
      r.services->Reload(ReloadCause::kSignal);
      return true;
    case SIGUSR1:
    case SIGUSR2: {
      const ResponderStats s = r.server->TotalStats();
      LogStats(r, now, s);
      WriteStats(r, now);
      if (signo == SIGUSR2) {
        r.stats->Reset(now, CountersFrom(s), ZoneCountersOf(r, s));
        (void)r.stats->WriteTimestamp(now);
      }
      return true;
    }
    case SIGTERM:
    case SIGINT: {
      r.systemd->Send("STOPPING=1");
      LogInfo("terminating");
      // In reverse order of registration: the DNS front end first (the
      // counters are final, nothing writes to the query log any more), the
      // reloader (at most kStopLimit), the query log last.
      r.services->Stop();
      const ResponderStats s = r.server->TotalStats();
      WriteStats(r, now);
      (void)r.stats->WriteTimestamp(now);
      LogStats(r, now, s);
      // A reload in progress was abandoned between two datasets; one still
      // inside a long dataset after kStopLimit was left behind: the process
      // ends at once (its data is only in memory), so SIGTERM always exits
      // within a few seconds.
      if (r.reload->abandoned()) {
        LogWarning("a reload is still running: exiting without waiting for it");
        std::fflush(nullptr);
        _exit(0);
      }
      return false;
    }
    default:
      return true;
  }
}

// Serves signals and the -c timer on an EventLoop on the main thread until
// TERM/INT.
int ControlLoop(const Running& r, const sigset_t& mask) {
  auto created = util::EventLoop::Create();
  if (!created.ok()) return Fatal(created.status());
  util::EventLoop& loop = **created;
  const util::UniqueFd sfd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd.valid()) return Fatal(absl::StrCat("signalfd: ", Errno()));
  bool stopping = false;
  // One signal per wake-up, as they came; the loop calls again while more
  // are pending.
  absl::Status watched = loop.AddFd(sfd.get(), [&] {
    signalfd_siginfo si{};
    if (stopping || read(sfd.get(), &si, sizeof si) != static_cast<ssize_t>(sizeof si)) return;
    if (!OnSignal(r, si.ssi_signo)) {
      stopping = true;
      loop.Stop();
    }
  });
  if (!watched.ok()) return Fatal(watched);
  // -c: every interval from startup, like a periodic timer (ticks missed
  // while the loop was busy coalesce into one).
  const std::chrono::seconds interval(r.options->check_interval);
  util::SteadyTime next = std::chrono::steady_clock::now() + interval;
  std::function<void()> check = [&] {
    if (stopping) return;
    r.services->Reload(ReloadCause::kTimer);
    WriteStats(r, Now());
    const util::SteadyTime now = std::chrono::steady_clock::now();
    while (next <= now) next += interval;
    loop.AddTimer(next, check);
  };
  if (interval.count() > 0) loop.AddTimer(next, check);
  loop.Run();
  loop.RemoveFd(sfd.get());
  return 0;
}

// -d: loads every zone, writes them to stdout as one BIND master-format
// stream and exits (no socket, no daemon); rbldnsd applies -r and -w first.
int DumpAndExit(const DaemonOptions& o, std::vector<zone::SourceSpec> sources) {
  LogAllToStderr();
  if (!o.root_dir.empty() && (chdir(o.root_dir.c_str()) != 0 || chroot(o.root_dir.c_str()) != 0)) {
    return Fatal(absl::StrCat("unable to chroot to ", o.root_dir, ": ", Errno()));
  }
  if (!o.work_dir.empty() && chdir(o.work_dir.c_str()) != 0) {
    return Fatal(absl::StrCat("unable to chdir to ", o.work_dir, ": ", Errno()));
  }
  ZoneLoader loader(std::move(sources), o.load);
  auto zones = loader.Load();
  if (!zones.ok()) LogError(std::string(zones.status().message()));
  if (!zones.ok() || loader.failed_datasets() > 0) return Fatal("zone loading errors, aborting");
  bool written = true;
  table::DumpOptions dump;
  dump.now = Now();
  const std::string producer = absl::StrCat("dumped by ", kProgramName, " (", kVersionText, ")");
  dump.producer = producer;
  table::DumpZones(**zones, dump, [&](std::string_view text) {
    written = written && std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  });
  if (std::fflush(stdout) != 0 || !written)
    return Fatal(absl::StrCat("writing the dump: ", Errno()));
  return 0;
}

}  // namespace

int RunDaemon(const DaemonOptions& o) {
  LogToStdio();
  auto sources = zone::ParseSourceSpecs(o.zone_specs);
  if (!sources.ok()) return Fatal(std::string(sources.status().message()));
  if (o.dump) return DumpAndExit(o, *std::move(sources));
  if (o.listen.empty()) return Fatal("no address to listen on (-b option) specified");
  const FamilyHint hint = o.family == 4   ? FamilyHint::kV4
                          : o.family == 6 ? FamilyHint::kV6
                                          : FamilyHint::kAny;
  auto listen = ResolveListenSpecs(o.listen, hint);
  if (!listen.ok()) return Fatal(std::string(listen.status().message()));
  auto creds = ResolveUser(o.user);
  if (!creds.ok()) return Fatal(std::string(creds.status().message()));

  // Signals are handled by the control thread only: block them before any
  // thread exists so that every thread inherits the mask.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGALRM}) sigaddset(&mask, s);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  // Under systemd (NOTIFY_SOCKET) there is no fork and the log is syslog.
  const SystemdNotifier systemd;
  const bool foreground = o.foreground || systemd.active();
  if (systemd.active() && !o.foreground) LogToSyslog(o.syslog_facility);

  int notify_fd = -1;
  if (!foreground) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return Fatal(absl::StrCat("pipe: ", Errno()));
    const pid_t pid = fork();
    if (pid < 0) return Fatal(absl::StrCat("fork: ", Errno()));
    if (pid > 0) {
      // Parent: exit 0 once the child reports a successful start.
      close(p[1]);
      char c = 0;
      ssize_t got;
      while ((got = read(p[0], &c, 1)) < 0 && errno == EINTR) {
      }
      return got == 1 && c == '0' ? 0 : 1;
    }
    close(p[0]);
    setsid();
    notify_fd = p[1];
  }
  ParentPipe parent(notify_fd);

  if (!o.pid_file.empty()) {
    if (absl::Status st = WritePidFile(o.pid_file); !st.ok()) return Fatal(st);
  }
  if (!o.root_dir.empty() && (chdir(o.root_dir.c_str()) != 0 || chroot(o.root_dir.c_str()) != 0)) {
    return Fatal(absl::StrCat("unable to chroot to ", o.root_dir, ": ", Errno()));
  }
  if (!o.work_dir.empty() && chdir(o.work_dir.c_str()) != 0) {
    return Fatal(absl::StrCat("unable to chdir to ", o.work_dir, ": ", Errno()));
  }

  ServerConfig config;
  config.listen = *std::move(listen);
  config.threads = o.threads;
  config.udp_backend = BackendFromName(o.udp_backend);
  config.responder.query.lazy = o.lazy;
  config.responder.version_mode = o.version_mode;
  config.responder.version_text = kVersionText;
  config.tcp_idle_timeout = std::chrono::milliseconds(std::int64_t{o.tcp_idle_seconds} * 1000);
  config.tcp_max_connections = o.tcp_max_conn;
  config.tcp_query_timeout =
      std::chrono::milliseconds(std::int64_t{o.tcp_query_timeout_seconds} * 1000);
  config.tcp_max_per_address = o.tcp_max_conn_per_ip;
  config.log = [](std::string_view line) { LogInfo(line); };
  // The services, in registration order: they bind and start in this order
  // and stop in reverse. The DNS front end comes last: it writes into the
  // query log and serves what the reloader publishes, so it stops first.
  // The loader and holder outlive them.
  table::ZoneSetHolder holder;
  table::OverlaySetHolder overlays;  // the live lists' tables (--live-config)
  ZoneLoader loader(*std::move(sources), o.load);
  ServiceList services;
  std::unique_ptr<FeedService> feed;
  if (!o.live_config.empty()) {
    auto live = feed::LoadLiveConfig(o.live_config);
    if (!live.ok()) return Fatal(std::string(live.status().message()));
    FeedOptions fo;
    fo.config = *std::move(live);
    fo.store_path = o.live_store;
    fo.control_socket = o.control_socket;
    feed = std::make_unique<FeedService>(std::move(fo), &overlays);
    const FeedService* f = feed.get();
    loader.set_live_slots([f](std::string_view list) { return f->SlotOf(list); });
  }
  // -l: every worker records its replies into its own ring of this log; the
  // log's writer thread drains them into the file.
  if (!o.query_log.empty()) {
    config.query_log =
        services.Add(std::make_unique<QueryLogService>(o.query_log, o.query_log_unbuffered))->log();
  }
  const ReloadService* reload = services.Add(std::make_unique<ReloadService>(
      &loader, &holder, [&systemd](std::string_view state) { systemd.Send(state); }, kStopLimit));
  // The live lists: the store, the trap listener, the control socket.
  if (feed != nullptr) services.Add(std::move(feed));
  const DnsService* dns = services.Add(
      std::make_unique<DnsService>(config, &holder, o.live_config.empty() ? nullptr : &overlays));
  // Binds (as root: port 53), then drops privileges for good. A service's
  // error has been logged with its name.
  auto bind_services = [&]() -> absl::Status {
    if (absl::Status st = services.Bind(); !st.ok()) return st;
    if (absl::Status st = DropPrivileges(*creds); !st.ok()) {
      LogError(std::string(st.message()));
      return st;
    }
    return absl::OkStatus();
  };

  const bool detach_first = o.quick && !foreground;
  if (detach_first) {
    // -q: serve (SERVFAIL) and detach first, then load; load errors are
    // not fatal and the data is retried when the files change.
    if (!bind_services().ok()) return 1;
    parent.Notify(true);
    Detach(o.syslog_facility);
    // A dataset that fails only fails the zones that use it (SERVFAIL).
    auto zones = loader.Load();
    if (zones.ok()) {
      holder.Publish(*std::move(zones));
    } else {
      LogError(std::string(zones.status().message()));
      LogError("zone loading errors, serving no data until they are fixed");
    }
  } else {
    // Load before serving (with -n -q too; -q only makes errors non-fatal:
    // the zones of a dataset that failed answer SERVFAIL, the others serve).
    if (absl::Status st = SetEffective(*creds, true); !st.ok()) return Fatal(st);
    auto zones = loader.Load();
    if (absl::Status st = SetEffective(*creds, false); !st.ok()) return Fatal(st);
    if (!zones.ok()) LogError(std::string(zones.status().message()));
    if (!o.quick && (!zones.ok() || loader.failed_datasets() > 0)) {
      return Fatal("zone loading errors, aborting");
    }
    if (zones.ok()) {
      holder.Publish(*std::move(zones));
    } else {
      LogError("zone loading errors, serving no data until they are fixed");
    }
    if (!bind_services().ok()) return 1;
  }

  // As the -u user: the query log opens, the reloader's thread starts.
  if (!services.Start().ok()) return 1;
  StatsTracker stats(o.stats_file, o.stats_relative, Now());
  if (absl::Status st = stats.WriteTimestamp(Now()); !st.ok())
    LogWarning(std::string(st.message()));

  const Server& server = *dns->server();
  // Only the count: a reference held here would keep the first load's
  // snapshot in memory for the life of the process, after every reload.
  const std::size_t zone_count = [&holder] {
    const auto current = holder.Current();
    return current != nullptr ? current->zones().size() : 0;
  }();
  LogInfo(absl::StrCat(kProgramName, " version ", kVersionText, " started (", server.bound().size(),
                       " socket(s), ", zone_count, " zone(s), ", server.threads(), " thread(s), ",
                       std::string(UdpBackendName(server.udp_backend())), ")"));
  if (!detach_first) {
    parent.Notify(true);
    if (!foreground) Detach(o.syslog_facility);
  }
  std::string where;
  for (const ListenAddress& a : server.bound()) absl::StrAppend(&where, " ", a.ToString());
  systemd.Send(absl::StrCat("READY=1\nMAINPID=", getpid(), "\nSTATUS=serving ", zone_count,
                            " zone(s) on", where));

  Running r{&o, &holder, &services, &server, reload, &stats, &systemd};
  return ControlLoop(r, mask);
}

}  // namespace meshbl::daemon
