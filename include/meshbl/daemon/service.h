// The parts of the meshbld process that run beside each other: the DNS
// front end, the query log, the reloader today; the trap listener, the
// control socket and mesh links next. Each is a Service, and the daemon
// keeps them in one ServiceList that binds, starts, reloads, reports and
// stops them the same way (docs/ARCHITECTURE.md, "How to add a service").
//
// A Service here is the daemon's adapter around a lower layer's component
// (server::Server, server::QueryLog, the Reloader): the component knows
// nothing of signals, options or privileges; the adapter maps the process's
// lifecycle onto it.
//
// Lifecycle, in the daemon's order (daemon.h):
//   Bind()   as root, before the privilege drop (-u): bind sockets;
//   Start()  after it: open files as the -u user, start threads;
//   Reload() on SIGHUP and at each -c check;
//   AppendStats() on SIGUSR1/SIGUSR2 and after the final stop;
//   Stop()   on SIGTERM/SIGINT, in reverse order of registration.
//
// Control thread only: every method is called from the daemon's main
// thread (the services' own threads are theirs).
#ifndef MESHBL_DAEMON_SERVICE_H_
#define MESHBL_DAEMON_SERVICE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace meshbl::daemon {

// Why Reload() is called.
enum class ReloadCause {
  kSignal,  // SIGHUP: reopen files (logs) and reread data
  kTimer,   // the -c check interval: reread data files that changed only
};

class Service {
 public:
  virtual ~Service() = default;
  // Short and stable: names the service in log lines ("dns", "reload").
  virtual std::string_view name() const = 0;
  // As root, before the privilege drop: bind privileged sockets. Default:
  // nothing.
  virtual absl::Status Bind() { return absl::OkStatus(); }
  // After the privilege drop: open files, start threads.
  virtual absl::Status Start() = 0;
  // Rereads what the service reads from files; must not block on work it
  // starts (a reload runs on the service's own thread).
  virtual void Reload(ReloadCause /*cause*/) {}
  // Ends serving and joins the service's threads within a bounded time.
  // Called exactly once for every service whose Bind() was called, in any
  // state: bound only, started, or after its own Bind()/Start() failed.
  virtual void Stop() = 0;
  // Lines for the log on SIGUSR1/SIGUSR2 and after the final stop. Default:
  // none.
  virtual void AppendStats(std::vector<std::string>* /*lines*/) const {}
};

// The daemon's services, in registration order.
class ServiceList {
 public:
  ServiceList() = default;
  ServiceList(const ServiceList&) = delete;
  ServiceList& operator=(const ServiceList&) = delete;
  ~ServiceList();  // Stop()

  // Registers `service` (before Bind()); returns it for the caller's own
  // use (accessors of the concrete type).
  template <typename T>
  T* Add(std::unique_ptr<T> service) {
    T* raw = service.get();
    services_.push_back(std::move(service));
    return raw;
  }

  // Bind() of every service, then (Start()) Start() of every service, in
  // registration order. On the first error: logs "<name>: <error>", stops
  // every service whose Bind() was called, in reverse order (the one that
  // failed too), and returns the error; a later Bind()/Start() returns it
  // again and calls nothing. Start() binds first if Bind() was not called.
  absl::Status Bind();
  absl::Status Start();
  // Reload(cause) of every service in registration order; only between a
  // successful Start() and Stop().
  void Reload(ReloadCause cause);
  // Stop() of every service whose Bind() was called, in reverse
  // registration order; once: a second call does nothing.
  void Stop();
  // AppendStats() of every service, in registration order.
  std::vector<std::string> StatsLines() const;

  std::size_t size() const { return services_.size(); }

 private:
  absl::Status Fail(const Service& service, absl::Status status);

  std::vector<std::unique_ptr<Service>> services_;
  std::size_t bound_ = 0;  // services whose Bind() was called: Stop() stops these
  bool bind_done_ = false, start_done_ = false;
  absl::Status failed_;
  bool stopped_ = false;
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_SERVICE_H_
