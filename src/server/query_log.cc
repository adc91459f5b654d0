// The query log writer: drains the per-worker rings, formats and writes.
#include "meshbl/server/query_log.h"

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace meshbl::server {
namespace {

const char* TypeName(std::uint16_t t) {
  switch (t) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 10:
      return "NULL";
    case 12:
      return "PTR";
    case 13:
      return "HINFO";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 17:
      return "RP";
    case 28:
      return "AAAA";
    case 29:
      return "LOC";
    case 33:
      return "SRV";
    case 35:
      return "NAPTR";
    case 39:
      return "DNAME";
    case 41:
      return "OPT";
    case 43:
      return "DS";
    case 46:
      return "RRSIG";
    case 47:
      return "NSEC";
    case 48:
      return "DNSKEY";
    case 99:
      return "SPF";
    case 250:
      return "TSIG";
    case 251:
      return "IXFR";
    case 252:
      return "AXFR";
    case 253:
      return "MAILB";
    case 254:
      return "MAILA";
    case 255:
      return "ANY";
    default:
      return nullptr;
  }
}

const char* RcodeName(std::uint8_t r) {
  switch (r) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMPL";
    case 5:
      return "REFUSED";
    default:
      return nullptr;
  }
}

// Presentation form of the question's name as sent (case kept); sets *end
// to the offset after the name, or returns false for a malformed name.
bool NameText(const QueryLogRecord& r, std::string* out, std::size_t* end) {
  std::size_t p = 0;
  bool first = true;
  while (p < r.question_len) {
    const std::uint8_t len = r.question[p++];
    if (len == 0) {
      if (first) out->push_back('.');
      *end = p;
      return true;
    }
    if (len > 63 || len > r.question_len - p) return false;
    if (!first) out->push_back('.');
    first = false;
    for (std::size_t i = 0; i < len; ++i) {
      const std::uint8_t c = r.question[p + i];
      if (c == '.' || c == '\\') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        absl::StrAppendFormat(out, "\\%03d", c);
      } else {
        out->push_back(static_cast<char>(c));
      }
    }
    p += len;
  }
  return false;
}

std::string ClientText(const table::ClientAddr& c) {
  if (c.family == 4) {
    return absl::StrFormat("%d.%d.%d.%d", c.v4 >> 24, (c.v4 >> 16) & 255, (c.v4 >> 8) & 255,
                           c.v4 & 255);
  }
  if (c.family == 6) {
    std::uint8_t b[16];
    for (int i = 0; i < 8; ++i) {
      b[i] = static_cast<std::uint8_t>(c.hi >> (56 - 8 * i));
      b[8 + i] = static_cast<std::uint8_t>(c.lo >> (56 - 8 * i));
    }
    char buf[64];
    if (inet_ntop(AF_INET6, b, buf, sizeof buf) != nullptr) return buf;
  }
  return "?";
}

}  // namespace

std::string FormatQueryLogLine(const QueryLogRecord& r) {
  std::string line = absl::StrCat(r.time, " ", ClientText(r.client), " ");
  std::size_t end = 0;
  if (!NameText(r, &line, &end) || r.question_len - end < 4) {
    absl::StrAppend(&line, " ? ?: ");
  } else {
    const std::uint16_t qtype =
        static_cast<std::uint16_t>((r.question[end] << 8) | r.question[end + 1]);
    const std::uint16_t qclass =
        static_cast<std::uint16_t>((r.question[end + 2] << 8) | r.question[end + 3]);
    const char* tn = TypeName(qtype);
    absl::StrAppend(&line, " ", tn != nullptr ? std::string(tn) : absl::StrCat("type", qtype), " ");
    const char* cn = qclass == 1     ? "IN"
                     : qclass == 3   ? "CH"
                     : qclass == 4   ? "HS"
                     : qclass == 255 ? "ANY"
                                     : nullptr;
    absl::StrAppend(&line, cn != nullptr ? std::string(cn) : absl::StrCat("class", qclass), ": ");
  }
  const char* rn = RcodeName(r.rcode);
  absl::StrAppend(&line, rn != nullptr ? std::string(rn) : absl::StrCat("rcode", r.rcode), "/",
                  r.ancount, "/", r.reply_len);
  return line;
}

QueryLog::~QueryLog() {
  Stop();
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  file_ = nullptr;
}

absl::Status QueryLog::Open(std::string path, bool unbuffered) {
  std::lock_guard<std::mutex> lock(mu_);
  path_ = std::move(path);
  unbuffered_ = unbuffered;
  std::FILE* f = path_ == "-" ? stdout : std::fopen(path_.c_str(), "a");
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  file_ = f;
  return absl::OkStatus();
}

void QueryLog::ReopenLocked() {
  if (path_.empty() || path_ == "-") return;
  if (file_ != nullptr) std::fclose(file_);
  file_ = std::fopen(path_.c_str(), "a");  // nullptr: lines are dropped until the next HUP
}

void QueryLog::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void QueryLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  DrainOnce();
}

void QueryLog::RequestReopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_ = true;
  }
  cv_.notify_all();
}

QueryLogRing* QueryLog::AddRing() {
  std::lock_guard<std::mutex> lock(mu_);
  return &rings_.emplace_back();
}

std::size_t QueryLog::DrainOnce() {
  std::lock_guard<std::mutex> lock(mu_);
  if (reopen_) {
    reopen_ = false;
    ReopenLocked();
  }
  std::size_t n = 0;
  QueryLogRecord r;
  for (QueryLogRing& ring : rings_) {
    while (ring.Pop(&r)) {
      ++n;
      if (file_ == nullptr) continue;
      std::string line = FormatQueryLogLine(r);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), file_);
      if (unbuffered_) std::fflush(file_);
    }
  }
  if (file_ != nullptr && n > 0) std::fflush(file_);
  return n;
}

std::uint64_t QueryLog::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t d = 0;
  for (const QueryLogRing& ring : rings_) d += ring.dropped();
  return d;
}

void QueryLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    lock.unlock();
    DrainOnce();
    lock.lock();
  }
}

}  // namespace meshbl::server
