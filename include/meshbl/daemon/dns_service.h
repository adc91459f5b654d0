// The DNS front end (server::Server: UDP workers, DNS over TCP) as a
// daemon service: bound as root, since it binds port 53; its workers
// answer from the ZoneSetHolder (SERVFAIL until something is published).
#ifndef MESHBL_DAEMON_DNS_SERVICE_H_
#define MESHBL_DAEMON_DNS_SERVICE_H_

#include <memory>
#include <string_view>

#include "meshbl/daemon/service.h"
#include "meshbl/server/server.h"
#include "meshbl/table/swap.h"

namespace meshbl::daemon {

class DnsService : public Service {
 public:
  // `holder` must outlive the service.
  // `overlays` (live lists) may be nullptr.
  DnsService(server::ServerConfig config, table::ZoneSetHolder* holder,
             const table::OverlaySetHolder* overlays = nullptr)
      : config_(std::move(config)), holder_(holder), overlays_(overlays) {}

  std::string_view name() const override { return "dns"; }
  // Server::Start(): binds every -b address, starts the workers, and logs
  // "listening on <address>" for each.
  absl::Status Bind() override;
  absl::Status Start() override { return absl::OkStatus(); }
  void Stop() override;

  // The running server; nullptr before a successful Bind().
  server::Server* server() const { return server_.get(); }

 private:
  server::ServerConfig config_;
  table::ZoneSetHolder* holder_;
  const table::OverlaySetHolder* overlays_;
  std::unique_ptr<server::Server> server_;
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_DNS_SERVICE_H_
