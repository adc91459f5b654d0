#include "zone/line_reader.h"

#include <zlib.h>

#include <cstring>

namespace meshbl::zone {

bool IsGzip(std::string_view bytes) noexcept {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

absl::Status DecodeInput(std::string_view bytes, bool allow_gzip, std::string* storage,
                         std::string_view* text) {
  if (!IsGzip(bytes)) {
    *text = bytes;
    return absl::OkStatus();
  }
  if (!allow_gzip) {
    return absl::FailedPreconditionError("gzip compression not supported (-C)");
  }
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 16 + MAX_WBITS: gzip wrapper only; zlib checks the CRC32 and length.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return absl::ResourceExhaustedError("gzip: inflateInit failed");
  }
  storage->clear();
  std::size_t out_len = 0;
  storage->resize(bytes.size() * 4 + 4096);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  std::size_t in_left = bytes.size();
  int r = Z_OK;
  for (;;) {
    if (out_len == storage->size()) storage->resize(storage->size() * 2);
    // zlib counts in uInt; feed at most 1 GiB per call.
    constexpr std::size_t kChunk = std::size_t{1} << 30;
    const std::size_t in_now = in_left < kChunk ? in_left : kChunk;
    const std::size_t out_room = storage->size() - out_len;
    const std::size_t out_now = out_room < kChunk ? out_room : kChunk;
    zs.avail_in = static_cast<uInt>(in_now);
    zs.next_out = reinterpret_cast<Bytef*>(storage->data() + out_len);
    zs.avail_out = static_cast<uInt>(out_now);
    r = inflate(&zs, Z_NO_FLUSH);
    in_left -= in_now - zs.avail_in;
    out_len += out_now - zs.avail_out;
    // Z_STREAM_END: done (bytes after the first member are ignored);
    // Z_BUF_ERROR: input exhausted (truncated); anything else: corrupt.
    if (r != Z_OK) break;
  }
  inflateEnd(&zs);
  if (r != Z_STREAM_END) {
    storage->clear();
    return absl::DataLossError(r == Z_MEM_ERROR ? "gzip: out of memory"
                                                : "gzip: corrupt or truncated data");
  }
  storage->resize(out_len);
  *text = *storage;
  return absl::OkStatus();
}

bool LineReader::Next(std::string_view* line, bool* too_long) noexcept {
  if (p_ >= end_) return false;
  const char* start = p_;
  const auto avail = static_cast<std::size_t>(end_ - p_);
  const void* nl = std::memchr(p_, '\n', avail);
  const char* stop = nl != nullptr ? static_cast<const char*>(nl) : end_;
  p_ = nl != nullptr ? stop + 1 : end_;
  ++line_number_;
  if (stop > start && stop[-1] == '\r') --stop;  // CRLF (§9)
  auto len = static_cast<std::size_t>(stop - start);
  *too_long = len > kMaxLineLength;
  if (*too_long) len = kMaxLineLength;
  while (len > 0 && (*start == ' ' || *start == '\t')) {
    ++start;
    --len;
  }
  while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t')) --len;
  *line = std::string_view(start, len);
  return true;
}

}  // namespace meshbl::zone
