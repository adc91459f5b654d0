// The live lists as a daemon service (issue 11): the store, the listing
// rules, the trap listener (Postfix policy protocol), the control socket and
// the feed's timer, all on one event loop thread of their own. It publishes
// the live lists' tables through the OverlaySetHolder the DNS front end
// reads (docs/ARCHITECTURE.md, "Live lists").
#ifndef MESHBL_DAEMON_FEED_SERVICE_H_
#define MESHBL_DAEMON_FEED_SERVICE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "meshbl/daemon/service.h"
#include "meshbl/feed/config.h"
#include "meshbl/table/swap.h"
#include "meshbl/util/event_loop.h"

namespace meshbl::daemon {

struct FeedOptions {
  feed::LiveConfig config;     // --live-config, loaded
  std::string store_path;      // --live-store
  std::string control_socket;  // --control-socket; empty: none
};

class FeedService : public Service {
 public:
  // `overlays` must outlive the service.
  FeedService(FeedOptions options, table::OverlaySetHolder* overlays);
  ~FeedService() override;

  std::string_view name() const override { return "feed"; }
  // Binds the trap listener and the control socket (as root).
  absl::Status Bind() override;
  // Opens the store, rebuilds the lists from it, loads the trap addresses,
  // starts the loop.
  absl::Status Start() override;
  // Rereads the trap addresses file when it changed.
  void Reload(ReloadCause cause) override;
  void Stop() override;
  void AppendStats(std::vector<std::string>* lines) const override;

  // The OverlaySet slot of live list `list` (its place in the
  // configuration), or -1: resolves ZONE:live:LIST before Start().
  int SlotOf(std::string_view list) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_FEED_SERVICE_H_
