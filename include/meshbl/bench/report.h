// Presenting a load run: the final table a person reads, one JSON object
// for scripts (bench/compare), and the one-line progress shown every second.
#ifndef MESHBL_BENCH_REPORT_H_
#define MESHBL_BENCH_REPORT_H_

#include <string>

#include "meshbl/bench/load.h"

namespace meshbl::bench {

// What was measured, for the report's first line and the JSON "run" object.
struct RunDescription {
  std::string target;   // as given
  std::string queries;  // "generated from DATA (N queries, M% listed)" or the file
  std::size_t query_count = 0;
  std::size_t listed = 0;
  double warmup = 0;
  double timeout = 0;
  int connections = 0;  // TCP
};

std::string FormatText(const LoadReport& r, const RunDescription& d);
std::string FormatJson(const LoadReport& r, const RunDescription& d);
// "  3 s  412,345 q/s  sent 1,234,567  replies 1,234,500  lost 0  invalid 0"
std::string FormatProgress(const LoadReport& r, double elapsed, std::uint64_t interval_replies);

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_REPORT_H_
