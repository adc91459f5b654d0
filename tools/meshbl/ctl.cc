// meshbl ctl: the operator's end of meshbld's control socket
// (meshbl/feed/control.h, docs/meshbld.8.md CONTROL SOCKET).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "meshbl/feed/control.h"
#include "tools/meshbl/commands.h"

namespace meshbl::tools {
namespace {

constexpr char kCtlUsage[] = R"(usage: meshbl ctl [-s SOCKET] COMMAND [ARG...]
       meshbl ctl [-s SOCKET] -        (commands from stdin, one per line)

Sends COMMAND to meshbld's control socket (default %s) and prints
the reply's data lines. Commands:
%s
A relative FILE of `load` is made absolute here (meshbld reads the file).
Exit status: 0 ok, 1 the command failed (message on stderr), 2 usage error
or the socket cannot be reached.
)";

void PrintCtlUsage(std::FILE* out) {
  std::string commands;
  for (const std::string& l : feed::HelpLines()) commands += "  " + l + "\n";
  std::fprintf(out, kCtlUsage, feed::kDefaultControlSocket, commands.c_str());
}

// `load LIST FILE ...` with FILE relative: FILE made absolute against our
// working directory, since the daemon's is not ours.
std::string AbsoluteLoadPath(const std::string& line) {
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.size() < 3 || words[0] != "load" || words[2].empty() || words[2][0] == '/') {
    return line;
  }
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(words[2], ec);
  if (ec) return line;
  words[2] = abs.string();  // not normalized: "sub/.." means what the kernel says
  return absl::StrJoin(words, " ");
}

void PrintData(const feed::Reply& r) {
  for (const std::string& l : r.lines) {
    std::fwrite(l.data(), 1, l.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
}

}  // namespace

int Ctl(const std::vector<std::string>& args) {
  std::string socket = feed::kDefaultControlSocket;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      PrintCtlUsage(stdout);
      return 0;
    }
    if (a == "-s" && i + 1 < args.size()) {
      socket = args[++i];
    } else if (a.starts_with("--socket=")) {
      socket = a.substr(9);
    } else if (a == "--") {
      ++i;
      break;
    } else {
      break;
    }
  }
  if (i >= args.size() || (i < args.size() && args[i].starts_with("-") && args[i] != "-")) {
    PrintCtlUsage(stderr);
    return 2;
  }
  const bool from_stdin = args[i] == "-" && i + 1 == args.size();
  auto client = feed::ControlClient::Connect(socket);
  if (!client.ok()) {
    std::fprintf(stderr, "meshbl ctl: %s\n", std::string(client.status().message()).c_str());
    return 2;
  }
  if (!from_stdin) {
    const std::string line = AbsoluteLoadPath(absl::StrJoin(
        std::vector<std::string>(args.begin() + static_cast<long>(i), args.end()), " "));
    if (line.size() > feed::kMaxControlLine) {
      std::fprintf(stderr, "meshbl ctl: command longer than %zu bytes\n", feed::kMaxControlLine);
      return 2;
    }
    auto reply = client->Call(line);
    if (!reply.ok()) {
      std::fprintf(stderr, "meshbl ctl: %s: %s\n", socket.c_str(),
                   std::string(reply.status().message()).c_str());
      return 2;
    }
    PrintData(*reply);
    if (!reply->ok) {
      std::fprintf(stderr, "meshbl ctl: %s\n", reply->error.c_str());
      return 1;
    }
    return 0;
  }
  // One command per line; blank lines and # comments skipped; every command
  // is sent even after a failed one.
  int rc = 0;
  std::string line;
  for (std::size_t lineno = 1; std::getline(std::cin, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = AbsoluteLoadPath(line);
    if (line.size() > feed::kMaxControlLine) {
      std::fprintf(stderr, "meshbl ctl: stdin:%zu: line longer than %zu bytes\n", lineno,
                   feed::kMaxControlLine);
      rc = 1;
      continue;
    }
    auto reply = client->Call(line);
    if (!reply.ok()) {
      std::fprintf(stderr, "meshbl ctl: %s: %s\n", socket.c_str(),
                   std::string(reply.status().message()).c_str());
      return 2;
    }
    PrintData(*reply);
    if (!reply->ok) {
      std::fprintf(stderr, "meshbl ctl: stdin:%zu: %s\n", lineno, reply->error.c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace meshbl::tools
