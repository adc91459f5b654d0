// The query log (-l, server::QueryLog) as a daemon service: opened after
// the privilege drop, as the -u user (reopens on SIGHUP must succeed with
// the same rights); reopened on SIGHUP (not at -c checks); its counters
// line on SIGUSR1/SIGUSR2 and after the final stop. Registered before the
// DNS front end, which writes into it, so that it stops after it.
#ifndef MESHBL_DAEMON_QUERY_LOG_SERVICE_H_
#define MESHBL_DAEMON_QUERY_LOG_SERVICE_H_

#include <string>
#include <string_view>
#include <vector>

#include "meshbl/daemon/service.h"
#include "meshbl/server/query_log.h"

namespace meshbl::daemon {

class QueryLogService : public Service {
 public:
  // `path`: -l's file ("-" = stdout); `unbuffered`: -l's "+".
  QueryLogService(std::string path, bool unbuffered)
      : path_(std::move(path)), unbuffered_(unbuffered) {}

  std::string_view name() const override { return "query log"; }
  absl::Status Start() override;
  void Reload(ReloadCause cause) override;
  void Stop() override { log_.Stop(); }
  void AppendStats(std::vector<std::string>* lines) const override;

  // For ServerConfig::query_log: the workers record into its rings.
  server::QueryLog* log() { return &log_; }

 private:
  std::string path_;
  bool unbuffered_;
  server::QueryLog log_;
};

}  // namespace meshbl::daemon

#endif  // MESHBL_DAEMON_QUERY_LOG_SERVICE_H_
