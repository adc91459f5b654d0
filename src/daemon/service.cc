// The daemon's list of services: see service.h.
#include "meshbl/daemon/service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshbl/util/log.h"

namespace meshbl::daemon {

ServiceList::~ServiceList() {
  Stop();
  while (!services_.empty()) services_.pop_back();  // reverse order too
}

absl::Status ServiceList::Fail(const Service& service, absl::Status status) {
  util::LogError(absl::StrCat(std::string(service.name()), ": ", std::string(status.message())));
  failed_ = std::move(status);
  Stop();
  return failed_;
}

absl::Status ServiceList::Bind() {
  if (!failed_.ok()) return failed_;
  if (stopped_) return absl::FailedPreconditionError("services stopped");
  if (bind_done_) return absl::OkStatus();
  bind_done_ = true;
  for (const std::unique_ptr<Service>& s : services_) {
    ++bound_;
    if (absl::Status st = s->Bind(); !st.ok()) return Fail(*s, std::move(st));
  }
  return absl::OkStatus();
}

absl::Status ServiceList::Start() {
  if (absl::Status st = Bind(); !st.ok()) return st;
  if (start_done_) return absl::OkStatus();
  start_done_ = true;
  for (const std::unique_ptr<Service>& s : services_) {
    if (absl::Status st = s->Start(); !st.ok()) return Fail(*s, std::move(st));
  }
  return absl::OkStatus();
}

void ServiceList::Reload(ReloadCause cause) {
  if (stopped_ || !start_done_) return;
  for (const std::unique_ptr<Service>& s : services_) s->Reload(cause);
}

void ServiceList::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (std::size_t i = bound_; i-- > 0;) services_[i]->Stop();
}

std::vector<std::string> ServiceList::StatsLines() const {
  std::vector<std::string> lines;
  for (const std::unique_ptr<Service>& s : services_) s->AppendStats(&lines);
  return lines;
}

}  // namespace meshbl::daemon
