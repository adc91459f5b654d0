// The operational log: rbldnsd's lines ("listening on ...", dataset
// summaries, warnings, "zones reloaded", stats) to stdout/stderr in the
// foreground (-n) or to syslog (-F facility) once detached.
//
// Control plane only (formats and may block on I/O); thread-safe: lines from
// several threads never interleave.
#ifndef MESHBL_UTIL_LOG_H_
#define MESHBL_UTIL_LOG_H_

#include <string_view>

namespace meshbl::util {

enum class LogSeverity { kInfo, kWarning, kError };

// The program name that prefixes stdio lines and is syslog's ident
// ("meshbld" until set). `ident` must outlive the process (a literal).
void SetLogIdent(const char* ident);

// Info lines go to stdout, warnings and errors to stderr, each prefixed with
// "meshbld: " and flushed. The initial sink.
void LogToStdio();

// Like LogToStdio, but info lines go to stderr too (-d: stdout is the dump).
void LogAllToStderr();
// Every line goes to syslog with `facility` (a LOG_* value), ident
// "meshbld", with the process id.
void LogToSyslog(int facility);

// Writes one line (no trailing newline in `message`).
void Log(LogSeverity severity, std::string_view message);
inline void LogInfo(std::string_view message) { Log(LogSeverity::kInfo, message); }
inline void LogWarning(std::string_view message) { Log(LogSeverity::kWarning, message); }
inline void LogError(std::string_view message) { Log(LogSeverity::kError, message); }

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_LOG_H_
