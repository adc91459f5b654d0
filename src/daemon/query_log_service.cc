// The query log as a daemon service: see query_log_service.h.
#include "meshbl/daemon/query_log_service.h"

#include "absl/strings/str_cat.h"

namespace meshbl::daemon {

absl::Status QueryLogService::Start() {
  if (absl::Status st = log_.Open(path_, unbuffered_); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("unable to open ", st.message()));
  }
  log_.Start();
  return absl::OkStatus();
}

void QueryLogService::Reload(ReloadCause cause) {
  if (cause == ReloadCause::kSignal) log_.RequestReopen();
}

void QueryLogService::AppendStats(std::vector<std::string>* lines) const {
  lines->push_back(log_.StatsLine());
}

}  // namespace meshbl::daemon
