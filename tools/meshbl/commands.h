// Subcommands of the `meshbl` operator tool. Each returns the process exit
// code: 0 success, 1 data errors, 2 usage errors.
#ifndef MESHBL_TOOLS_MESHBL_COMMANDS_H_
#define MESHBL_TOOLS_MESHBL_COMMANDS_H_

#include <string>
#include <vector>

namespace meshbl::tools {

int Compile(const std::vector<std::string>& args);
int Check(const std::vector<std::string>& args);
int Inspect(const std::vector<std::string>& args);
int Lookup(const std::vector<std::string>& args);
int Dump(const std::vector<std::string>& args);
int Bench(const std::vector<std::string>& args);   // bench.cc
int Ctl(const std::vector<std::string>& args);     // ctl.cc
int Report(const std::vector<std::string>& args);  // report.cc
void PrintUsage(bool full);

}  // namespace meshbl::tools

#endif  // MESHBL_TOOLS_MESHBL_COMMANDS_H_
