// The DNS front end as a daemon service: see dns_service.h.
#include "meshbl/daemon/dns_service.h"

#include "meshbl/server/listen.h"
#include "meshbl/util/log.h"

namespace meshbl::daemon {

absl::Status DnsService::Bind() {
  auto started = server::Server::Start(config_, holder_, overlays_);
  if (!started.ok()) return started.status();
  server_ = *std::move(started);
  for (const server::ListenAddress& a : server_->bound()) {
    util::LogInfo("listening on " + a.ToString());
  }
  return absl::OkStatus();
}

void DnsService::Stop() {
  if (server_ != nullptr) server_->Stop();
}

}  // namespace meshbl::daemon
