// The operational log sink (stdio or syslog).
#include "meshbl/util/log.h"

#include <syslog.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace meshbl::util {
namespace {

std::mutex g_mu;
bool g_syslog = false;            // guarded by g_mu
bool g_info_stderr = false;       // guarded by g_mu
const char* g_ident = "meshbld";  // guarded by g_mu

}  // namespace

void SetLogIdent(const char* ident) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_ident = ident;
}

void LogToStdio() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_syslog) closelog();
  g_syslog = false;
  g_info_stderr = false;
}

void LogAllToStderr() {
  LogToStdio();
  std::lock_guard<std::mutex> lock(g_mu);
  g_info_stderr = true;
}

void LogToSyslog(int facility) {
  std::lock_guard<std::mutex> lock(g_mu);
  openlog(g_ident, LOG_PID | LOG_NDELAY, facility);
  g_syslog = true;
}

void Log(LogSeverity severity, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_mu);
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
