// meshbld: the rbldnsd-compatible DNSBL daemon. Parses the command line
// (one option table, options.h) and runs the daemon (daemon.h).
#include <cstdio>
#include <exception>

#include "meshbl/server/daemon.h"
#include "meshbl/server/options.h"

int main(int argc, char** argv) {
  try {
    meshbl::server::DaemonOptions options;
    meshbl::server::ParseResult parsed = meshbl::server::ParseCommandLine(argc, argv, &options);
    if (!parsed.run) {
      std::fputs(parsed.stdout_text.c_str(), stdout);
      if (!parsed.error.empty()) {
        std::fprintf(stderr, "%s: %s\n", meshbl::server::kProgramName, parsed.error.c_str());
      }
      return parsed.exit_code;
    }
    return meshbl::server::RunDaemon(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: fatal: %s\n", meshbl::server::kProgramName, e.what());
    return 1;
  }
}
