// `meshbl report`: trap hits from report lines or ARF messages, printed as
// the `hit ...` lines the control socket takes (the trap as its hash).
// Parsing is feed/report.h; this file only reads inputs and prints.
#include "meshbl/feed/report.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "meshbl/feed/control.h"
#include "tools/meshbl/commands.h"

namespace meshbl::tools {
namespace {

constexpr char kReportUsage[] =
    "usage: meshbl report [FILE|-]...          report lines (default: stdin)\n"
    "       meshbl report hit CLIENT_IP TRAP [helo=H] [from=S] [id=KEY] [time=UNIX]\n"
    "       meshbl report --arf FILE|- [--arf FILE|-]...   ARF (RFC 5965) messages\n"
    "With -s SOCKET (before the inputs) the hits go to meshbld's control socket\n"
    "(meshbl ctl report), each once it is on disk; otherwise they are printed.\n";

// Sends every hit to meshbld's control socket; 0 when all were recorded.
int Send(const std::string& socket, const std::vector<feed::TrapHit>& hits) {
  auto client = feed::ControlClient::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "meshbl report: %s\n", std::string(client.status().message()).c_str());
    return 2;
  }
  for (const feed::TrapHit& h : hits) {
    const std::string line = feed::FormatReportLine(h);
    auto reply = client->Call("report " + line);
    if (!reply.ok() || !reply->ok) {
      std::fprintf(
          stderr, "meshbl report: %s: %s\n", line.c_str(),
          reply.ok() ? reply->error.c_str() : std::string(reply.status().message()).c_str());
      return 1;
    }
  }
  std::printf("%zu hit(s) recorded\n", hits.size());
  return 0;
}

// The whole of `path` ("-": stdin), at most `limit` bytes.
bool ReadInput(const std::string& path, std::size_t limit, std::string* out) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "meshbl: %s: cannot open\n", path.c_str());
    return false;
  }
  out->clear();
  char buf[65536];
  std::size_t n = 0;
  bool ok = true;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    if (out->size() + n > limit) {
      std::fprintf(stderr, "meshbl: %s: longer than %zu bytes\n", path.c_str(), limit);
      ok = false;
      break;
    }
    out->append(buf, n);
  }
  if (ok && std::ferror(f)) {
    std::fprintf(stderr, "meshbl: %s: read error\n", path.c_str());
    ok = false;
  }
  if (f != stdin) std::fclose(f);
  return ok;
}

}  // namespace

int Report(const std::vector<std::string>& all_args) {
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<std::string> args = all_args;
  std::string socket;
  if (args.size() >= 2 && (args[0] == "-s" || args[0] == "--socket")) {
    socket = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  std::vector<feed::TrapHit> hits;
  std::vector<std::string> line_files, arf_files;
  if (!args.empty() && args[0] == "hit") {  // one line given as arguments
    std::string line;
    for (const std::string& a : args) line += (line.empty() ? "" : " ") + a;
    auto hit = feed::ParseReportLine(line, now);
    if (!hit.ok()) {
      std::fprintf(stderr, "meshbl: report: %s\n", std::string(hit.status().message()).c_str());
      return 1;
    }
    if (!socket.empty()) return Send(socket, {*hit});
    std::printf("%s\n", feed::FormatReportLine(*hit).c_str());
    return 0;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--arf") {
      if (i + 1 >= args.size()) {
        std::fputs(kReportUsage, stderr);
        return 2;
      }
      arf_files.push_back(args[++i]);
    } else if (args[i] == "-h" || args[i] == "--help") {
      std::fputs(kReportUsage, stdout);
      return 0;
    } else if (args[i].size() > 1 && args[i][0] == '-') {
      std::fprintf(stderr, "meshbl: report: unknown option '%s'\n", args[i].c_str());
      std::fputs(kReportUsage, stderr);
      return 2;
    } else {
      line_files.push_back(args[i]);
    }
  }
  if (line_files.empty() && arf_files.empty()) line_files.push_back("-");
  // Everything is parsed before anything is printed: one bad input, no hits.
  bool ok = true;
  std::string text;
  for (const std::string& path : line_files) {
    if (!ReadInput(path, std::size_t{256} << 20, &text)) {
      ok = false;
      continue;
    }
    auto parsed = feed::ParseReportLines(text, path == "-" ? "stdin" : path, now);
    if (!parsed.ok()) {
      std::fprintf(stderr, "meshbl: %s\n", std::string(parsed.status().message()).c_str());
      ok = false;
      continue;
    }
    hits.insert(hits.end(), parsed->begin(), parsed->end());
  }
  for (const std::string& path : arf_files) {
    if (!ReadInput(path, feed::kMaxArfMessage, &text)) {
      ok = false;
      continue;
    }
    auto parsed = feed::ParseArfReport(text, now);
    if (!parsed.ok()) {
      std::fprintf(stderr, "meshbl: %s: %s\n", path == "-" ? "stdin" : path.c_str(),
                   std::string(parsed.status().message()).c_str());
      ok = false;
      continue;
    }
    hits.insert(hits.end(), parsed->begin(), parsed->end());
  }
  if (!ok) return 1;
  if (!socket.empty()) return Send(socket, hits);
  for (const feed::TrapHit& h : hits) std::printf("%s\n", feed::FormatReportLine(h).c_str());
  return 0;
}

}  // namespace meshbl::tools
