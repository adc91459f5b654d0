// The operational log sink (stdio or syslog).
#include "meshbl/util/log.h"

#include <syslog.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "meshbl/util/mutex.h"

namespace meshbl::util {
namespace {

ABSL_CONST_INIT Mutex g_mu;
bool g_syslog ABSL_GUARDED_BY(g_mu) = false;
bool g_info_stderr ABSL_GUARDED_BY(g_mu) = false;
const char* g_ident ABSL_GUARDED_BY(g_mu) = "meshbld";

}  // namespace

void SetLogIdent(const char* ident) {
  MutexLock lock(&g_mu);
  g_ident = ident;
}

void LogToStdio() {
  MutexLock lock(&g_mu);
  if (g_syslog) closelog();
  g_syslog = false;
  g_info_stderr = false;
}

void LogAllToStderr() {
  LogToStdio();
  MutexLock lock(&g_mu);
  g_info_stderr = true;
}

void LogToSyslog(int facility) {
  MutexLock lock(&g_mu);
  openlog(g_ident, LOG_PID | LOG_NDELAY, facility);
  g_syslog = true;
}

void Log(LogSeverity severity, std::string_view message) {
  MutexLock lock(&g_mu);
  if (g_syslog) {
    const int prio = severity == LogSeverity::kInfo      ? LOG_INFO
                     : severity == LogSeverity::kWarning ? LOG_WARNING
                                                         : LOG_ERR;
    syslog(prio, "%.*s", static_cast<int>(message.size()), message.data());
    return;
  }
  std::FILE* f = severity == LogSeverity::kInfo && !g_info_stderr ? stdout : stderr;
  std::fprintf(f, "%s: %.*s\n", g_ident, static_cast<int>(message.size()), message.data());
  std::fflush(f);
}

}  // namespace meshbl::util
