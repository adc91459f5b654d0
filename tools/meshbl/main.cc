// meshbl: the operator's tool (compile, check, inspect, lookup, bench).
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "tools/meshbl/commands.h"

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      meshbl::tools::PrintUsage(false);
      return 2;
    }
    std::string_view cmd = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    if (cmd == "compile") return meshbl::tools::Compile(args);
    if (cmd == "check") return meshbl::tools::Check(args);
    if (cmd == "inspect") return meshbl::tools::Inspect(args);
    if (cmd == "lookup") return meshbl::tools::Lookup(args);
    if (cmd == "dump") return meshbl::tools::Dump(args);
    if (cmd == "bench") return meshbl::tools::Bench(args);
    if (cmd == "report") return meshbl::tools::Report(args);
    if (cmd == "ctl") return meshbl::tools::Ctl(args);
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      meshbl::tools::PrintUsage(true);
      return 0;
    }
    std::fprintf(stderr, "meshbl: unknown command '%s'\n", argv[1]);
    meshbl::tools::PrintUsage(false);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "meshbl: fatal: %s\n", e.what());
    return 1;
  }
}
