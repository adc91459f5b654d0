// meshbld: the rbldnsd-compatible DNSBL daemon. Parses the command line
// (one option table, options.h) and runs the daemon (daemon.h).
#include <cstdio>
#include <exception>

#include "meshbl/daemon/daemon.h"
#include "meshbl/daemon/options.h"

int main(int argc, char** argv) {
  try {
    meshbl::daemon::DaemonOptions options;
    meshbl::daemon::ParseResult parsed = meshbl::daemon::ParseCommandLine(argc, argv, &options);
    if (!parsed.run) {
      std::fputs(parsed.stdout_text.c_str(), stdout);
      if (!parsed.error.empty()) {
        std::fprintf(stderr, "%s: %s\n", meshbl::daemon::kProgramName, parsed.error.c_str());
      }
      return parsed.exit_code;
    }
    return meshbl::daemon::RunDaemon(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: fatal: %s\n", meshbl::daemon::kProgramName, e.what());
    return 1;
  }
}
