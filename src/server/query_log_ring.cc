// The query log's per-packet side (STYLE.md rule 4, in MESHBL_HOT_SOURCES):
// a worker's line formatting and, with `-l +file`, its writes. No
// allocation, no lock, nothing thrown; every function here is noexcept.
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshbl/dns/name.h"
#include "meshbl/dns/types.h"
#include "meshbl/server/query_log.h"
#include "meshbl/table/ip_text.h"

namespace meshbl::server {
namespace {

// A bounded character sink over a caller's buffer.
struct Out {
  char* p;
  char* end;
  void Put(char c) noexcept {
    if (p < end) *p++ = c;
  }
  void Put(const char* s) noexcept {
    while (*s != 0) Put(*s++);
  }
  void Put(const char* s, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) Put(s[i]);
  }
  void Put(std::string_view s) noexcept { Put(s.data(), s.size()); }
  void Unsigned(std::uint64_t v) noexcept {
    char tmp[20];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) Put(tmp[--n]);
  }
  void Signed(std::int64_t v) noexcept {
    if (v < 0) {
      Put('-');
      Unsigned(static_cast<std::uint64_t>(-(v + 1)) + 1);
    } else {
      Unsigned(static_cast<std::uint64_t>(v));
    }
  }
};

// Presentation form of the question's name as sent (case kept, escaped as
// dns::NameToText does); sets *end to the offset after the name, or returns
// false for a malformed name.
bool NameText(const QueryLogRecord& r, Out* out, std::size_t* end) noexcept {
  std::size_t p = 0;
  while (p < r.question_len) {
    const std::uint8_t len = r.question[p];
    if (len == 0) {
      if (p == 0) {
        out->Put('.');  // the root name
      } else {
        const std::size_t room = static_cast<std::size_t>(out->end - out->p);
        const std::size_t n =
            dns::NameToText(std::span<const std::uint8_t>(r.question, p), out->p, room);
        out->p += n < room ? n : room;
      }
      *end = p + 1;
      return true;
    }
    if (len > 63 || len > r.question_len - p - 1) return false;
    p += 1u + len;
  }
  return false;
}

void ClientText(const table::ClientAddr& c, Out* out) noexcept {
  char buf[table::kMaxIpText];
  if (c.family == 4) {
    out->Put(buf, table::FormatIp4(c.v4, buf));
  } else if (c.family == 6) {
    std::uint8_t b[16];
    for (int i = 0; i < 8; ++i) {
      b[i] = static_cast<std::uint8_t>(c.hi >> (56 - 8 * i));
      b[8 + i] = static_cast<std::uint8_t>(c.lo >> (56 - 8 * i));
    }
    out->Put(buf, table::FormatIp6Client(b, buf));
  } else {
    out->Put('?');
  }
}

// Lines (newlines) in data.
std::uint64_t CountLines(const char* data, std::size_t len) noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < len; ++i) n += data[i] == '\n' ? 1 : 0;
  return n;
}

}  // namespace

std::size_t FormatQueryLogLine(const QueryLogRecord& r, char* buf) noexcept {
  // Room is kept for the newline.
  Out out{buf, buf + QueryLogRing::kMaxLine - 1};
  out.Signed(r.time);
  out.Put(' ');
  ClientText(r.client, &out);
  out.Put(' ');
  std::size_t end = 0;
  if (!NameText(r, &out, &end) || r.question_len - end < 4) {
    out.Put(" ? ?: ");
  } else {
    const std::uint16_t qtype =
        static_cast<std::uint16_t>((r.question[end] << 8) | r.question[end + 1]);
    const std::uint16_t qclass =
        static_cast<std::uint16_t>((r.question[end + 2] << 8) | r.question[end + 3]);
    out.Put(' ');
    out.Put(dns::TypeText(qtype, dns::Spelling::kRbldnsdLog).view());
    out.Put(' ');
    out.Put(dns::ClassText(qclass, dns::Spelling::kRbldnsdLog).view());
    out.Put(": ");
  }
  out.Put(dns::RcodeText(r.rcode, dns::Spelling::kRbldnsdLog).view());
  out.Put('/');
  out.Unsigned(r.ancount);
  out.Put('/');
  out.Unsigned(r.reply_len);
  *out.p++ = '\n';
  return static_cast<std::size_t>(out.p - buf);
}

QueryLogWrite WriteQueryLogLines(int fd, const char* data, std::size_t len,
                                 std::atomic<bool>* mid_line) noexcept {
  QueryLogWrite w;
  std::size_t done = 0;
  // The file ends inside a line (an earlier write stopped there): this
  // write starts with a newline, in the same write(2) as the lines.
  bool newline = mid_line->exchange(false, std::memory_order_acq_rel);
  static const char kNewline[] = "\n";
  while (done < len) {
    iovec iov[2];
    int n_iov = 0;
    if (newline) iov[n_iov++] = {const_cast<char*>(kNewline), 1};
    iov[n_iov++] = {const_cast<char*>(data + done), len - done};
    const ssize_t n = ::writev(fd, iov, n_iov);
    if (n > 0) {
      std::size_t got = static_cast<std::size_t>(n);
      if (newline) {
        newline = false;
        --got;
      }
      done += got;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    w.error = n == 0 ? EIO : errno;
    break;
  }
  // A write that stopped inside a line (or never wrote the pending
  // newline) leaves the file mid-line for the next writer.
  if (newline || (done > 0 && data[done - 1] != '\n')) {
    mid_line->store(true, std::memory_order_release);
  }
  w.lines = CountLines(data, done);
  return w;
}

void QueryLogRing::AppendDirect(const QueryLogRecord& r, int fd) noexcept {
  if (kDirectBuffer - direct_len_ < kMaxLine) FlushDirect(fd);
  direct_len_ += FormatQueryLogLine(r, direct_buf_.get() + direct_len_);
  ++direct_lines_;
}

void QueryLogRing::FlushDirect(int fd) noexcept {
  const QueryLogWrite w = WriteQueryLogLines(fd, direct_buf_.get(), direct_len_, mid_line_);
  // Lines wholly written count as written; the rest (a partial one too)
  // are lost.
  Bump(&written_, w.lines);
  if (w.error != 0) {
    last_errno_.store(w.error, std::memory_order_relaxed);
    Bump(&lost_, direct_lines_ - w.lines);
  }
  direct_len_ = 0;
  direct_lines_ = 0;
}

}  // namespace meshbl::server
