#include "meshbl/server/server.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <future>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshbl/util/thread_name.h"
#include "server/tcp_server.h"
#include "server/udp_worker.h"

namespace meshbl::server {

std::string_view UdpBackendName(UdpBackend b) noexcept {
  switch (b) {
    case UdpBackend::kAuto:
      return "auto";
    case UdpBackend::kUring:
      return "uring";
    case UdpBackend::kMmsg:
      return "mmsg";
  }
  return "?";
}

struct Server::Impl {
  std::string version_text;
  ResponderConfig responder;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<internal::UdpLoop>> loops;  // one per worker thread
  std::unique_ptr<internal::TcpServer> tcp;
  std::vector<std::thread> threads;
  bool stopped = false;
};

namespace {

// Sockets of one listen address: one UDP socket per worker and, with TCP,
// one listener, all on the same port (an ephemeral one when port is 0).
struct AddressSockets {
  ListenAddress bound;
  std::vector<util::UniqueFd> udp;
  util::UniqueFd tcp;
};

absl::StatusOr<AddressSockets> BindAddress(const ListenAddress& want, int workers, bool tcp) {
  const bool ephemeral = want.port() == 0;
  absl::Status last;
  // With port 0 the first socket picks the port; a TCP listener may find it
  // taken, so try a few ports.
  for (int attempt = 0; attempt < (ephemeral ? 8 : 1); ++attempt) {
    AddressSockets s;
    s.bound = want;
    auto first = OpenUdpSocket(want);
    if (!first.ok()) return first.status();
    if (ephemeral) {
      auto local = LocalAddress(first->get());
      if (!local.ok()) return local.status();
      s.bound.set_port(local->port());
    }
    s.udp.push_back(std::move(*first));
    bool retry = false;
    for (int w = 1; w < workers && !retry; ++w) {
      auto fd = OpenUdpSocket(s.bound);
      if (!fd.ok()) {
        last = fd.status();
        retry = true;
        break;
      }
      s.udp.push_back(std::move(*fd));
    }
    if (!retry && tcp) {
      SocketOptions o;
      o.reuse_port = false;
      auto fd = OpenTcpListener(s.bound, o);
      if (!fd.ok()) {
        last = fd.status();
        retry = true;
      } else {
        s.tcp = std::move(*fd);
      }
    }
    if (!retry) return s;
  }
  return last;
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

int Server::threads() const noexcept { return static_cast<int>(impl_->loops.size()); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config,
                                                      table::ZoneSetHolder* zones,
                                                      const table::OverlaySetHolder* overlays) {
  if (zones == nullptr) return absl::InvalidArgumentError("Server::Start: no ZoneSetHolder");
  if (config.listen.empty()) return absl::InvalidArgumentError("no listening address (-b)");
  if (config.listen.size() > kMaxListenAddresses) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many listening addresses (at most ", kMaxListenAddresses, ")"));
  }
  int workers = config.threads;
  if (workers <= 0) {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    workers = n > 0 ? static_cast<int>(n) : 1;
  }
  auto log = config.log ? config.log : [](std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  };

  auto impl = std::make_unique<Impl>();
  impl->version_text = std::string(config.responder.version_text);
  impl->responder = config.responder;
  impl->responder.version_text = impl->version_text;

  // Bind everything first, so an address error is reported before any
  // thread runs.
  std::vector<AddressSockets> addrs;
  for (const ListenAddress& a : config.listen) {
    auto s = BindAddress(a, workers, config.tcp);
    if (!s.ok()) return s.status();
    addrs.push_back(std::move(*s));
  }

  UdpBackend backend = config.udp_backend;
  if (backend != UdpBackend::kMmsg) {
    absl::Status probe = internal::ProbeUring();
    if (!probe.ok()) {
      if (backend == UdpBackend::kUring) return probe;
      log(absl::StrCat("io_uring unusable (", probe.message(),
                       "); UDP workers use recvmmsg/sendmmsg"));
      backend = UdpBackend::kMmsg;
    } else {
      backend = UdpBackend::kUring;
    }
  }

  internal::LoopEnv env;
  env.responder = &impl->responder;
  env.zones = zones;
  env.overlays = overlays;
  env.stop = &impl->stop;
  env.query_log = config.query_log;

  std::unique_ptr<Server> server(new Server(std::move(impl)));
  server->backend_ = backend;
  for (const AddressSockets& s : addrs) server->bound_.push_back(s.bound);
  Impl& im = *server->impl_;

  if (config.tcp) {
    std::vector<util::UniqueFd> listeners;
    for (AddressSockets& s : addrs) listeners.push_back(std::move(s.tcp));
    internal::TcpServer::Options o;
    o.idle_timeout = config.tcp_idle_timeout;
    o.max_connections = config.tcp_max_connections;
    o.query_timeout = config.tcp_query_timeout;
    o.max_per_address = config.tcp_max_per_address;
    o.max_query = config.tcp_max_query;
    o.max_queued = config.tcp_max_queued;
    auto tcp = internal::TcpServer::Create(env, std::move(listeners), o);
    if (!tcp.ok()) return tcp.status();
    im.tcp = std::move(*tcp);
  }

  // Each worker builds its own loop on its own thread (an io_uring ring is
  // SINGLE_ISSUER: the creating thread is the submitter) and reports back.
  im.loops.resize(static_cast<std::size_t>(workers));
  std::vector<std::future<absl::Status>> ready;
  for (int w = 0; w < workers; ++w) {
    std::vector<util::UniqueFd> socks;
    for (AddressSockets& s : addrs) socks.push_back(std::move(s.udp[static_cast<std::size_t>(w)]));
    std::promise<absl::Status> promise;
    ready.push_back(promise.get_future());
    auto* slot = &im.loops[static_cast<std::size_t>(w)];
    im.threads.emplace_back([env, backend, &config, slot, promise = std::move(promise),
                             socks = std::move(socks), w]() mutable {
      const std::string name = "meshbl-udp" + std::to_string(w);
      util::NameThisThread(name.c_str());
      absl::StatusOr<std::unique_ptr<internal::UdpLoop>> loop;
      if (backend == UdpBackend::kUring) {
        internal::UringUdpLoop::Options o;
        o.buffers = config.uring_buffers;
        o.batch = config.batch;
        auto l = internal::UringUdpLoop::Create(env, std::move(socks), o);
        if (l.ok()) {
          loop = std::unique_ptr<internal::UdpLoop>(std::move(*l));
        } else {
          loop = l.status();
        }
      } else {
        internal::MmsgUdpLoop::Options o;
        o.batch = config.batch;
        auto l = internal::MmsgUdpLoop::Create(env, std::move(socks), o);
        if (l.ok()) {
          loop = std::unique_ptr<internal::UdpLoop>(std::move(*l));
        } else {
          loop = l.status();
        }
      }
      if (!loop.ok()) {
        promise.set_value(loop.status());
        return;
      }
      *slot = std::move(*loop);
      internal::UdpLoop* run = slot->get();
      promise.set_value(absl::OkStatus());
      run->Run();
    });
  }
  absl::Status failed;
  for (auto& f : ready) {
    absl::Status s = f.get();
    if (!s.ok() && failed.ok()) failed = s;
  }
  if (im.tcp != nullptr) {
    internal::TcpServer* tcp = im.tcp.get();
    im.threads.emplace_back([tcp] {
      util::NameThisThread("meshbl-tcp");
      tcp->Run();
    });
  }
  if (!failed.ok()) {
    server->Stop();
    return failed;
  }
  return server;
}

void Server::Stop() {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  im.stop.store(true, std::memory_order_release);
  for (const auto& loop : im.loops) {
    if (loop != nullptr) internal::Wake(loop->wake_fd());
  }
  if (im.tcp != nullptr) internal::Wake(im.tcp->wake_fd());
  for (std::thread& t : im.threads) {
    if (t.joinable()) t.join();
  }
}

ResponderStats Server::TotalStats() const {
  ResponderStats sum;
  for (const auto& loop : impl_->loops) {
    if (loop != nullptr) loop->published_responder().AddTo(&sum);
  }
  if (impl_->tcp != nullptr) impl_->tcp->published_responder().AddTo(&sum);
  return sum;
}

IoStats Server::IoTotals() const {
  IoStats sum;
  for (const auto& loop : impl_->loops) {
    if (loop != nullptr) loop->published_io().AddTo(&sum);
  }
  if (impl_->tcp != nullptr) impl_->tcp->published_io().AddTo(&sum);
  return sum;
}

}  // namespace meshbl::server
