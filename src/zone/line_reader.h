// Line splitting and input decoding for rbldnsd data files (reference/
// rbldnsd.md §2): gzip detection by magic, `\n` line ends with a `\r` before
// them dropped (meshbl's deliberate difference, §9), blank/tab stripping and
// the 32 KiB line limit.
//
// Private to src/zone. Control plane only. LineReader itself never
// allocates: lines are views into the caller's buffer.
#ifndef MESHBL_ZONE_LINE_READER_H_
#define MESHBL_ZONE_LINE_READER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace meshbl::zone {

// Longest line content kept; the rest of a longer line is skipped.
inline constexpr std::size_t kMaxLineLength = 32 * 1024;

// True when `bytes` starts with the gzip magic 1f 8b.
bool IsGzip(std::string_view bytes) noexcept;

// If `bytes` is gzip, inflates its first member into `*storage` (CRC and
// length checked) and points `*text` at it; otherwise `*text` = `bytes`.
// Errors (message without a file name): gzip with `allow_gzip` false
// ("gzip compression not supported (-C)"), corrupt or truncated data.
absl::Status DecodeInput(std::string_view bytes, bool allow_gzip, std::string* storage,
                         std::string_view* text);

// Iterates the lines of `text`. The viewed buffer must outlive the reader.
class LineReader {
 public:
  explicit LineReader(std::string_view text) noexcept
      : p_(text.data()), end_(text.data() + text.size()) {}

  // Advances to the next line. Returns false at the end of input. `*line`
  // is the content without the line end and without leading/trailing blanks
  // and tabs; `*too_long` is set when the raw line exceeded kMaxLineLength
  // (the content is then its first kMaxLineLength bytes).
  bool Next(std::string_view* line, bool* too_long) noexcept;

  // 1-based number of the line last returned by Next().
  int line_number() const noexcept { return line_number_; }

 private:
  const char* p_;
  const char* end_;
  int line_number_ = 0;
};

}  // namespace meshbl::zone

#endif  // MESHBL_ZONE_LINE_READER_H_
