// Bounded, sticky-error cursors over DNS wire data (STYLE.md rule 5). Every
// read or write of packet bytes goes through these: each operation checks
// the length against what remains (`n > remaining()`, never `pos + n >
// size`), and after the first operation that would run past the end the
// cursor is failed: `ok()` turns false and every later call is a no-op
// (reads return 0 / an empty span). Callers check `ok()` once per section.
//
// Both classes are small value types over caller-owned memory (which must
// outlive them); all methods are noexcept, allocation-free and hot-path safe.
#ifndef MESHBL_DNS_WIRE_H_
#define MESHBL_DNS_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace meshbl::dns {

class WireReader {
 public:
  explicit WireReader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

  bool ok() const noexcept { return ok_; }
  std::size_t pos() const noexcept { return pos_; }
  std::size_t size() const noexcept { return data_.size(); }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }

  std::uint8_t U8() noexcept;
  std::uint16_t U16() noexcept;  // network byte order
  std::uint32_t U32() noexcept;  // network byte order
  // The next `n` bytes (a view into the data), or an empty span on failure.
  std::span<const std::uint8_t> Bytes(std::size_t n) noexcept;
  void Skip(std::size_t n) noexcept;
  // The byte at the cursor without consuming it; 0 and failed at the end.
  std::uint8_t Peek() noexcept;

 private:
  bool Need(std::size_t n) noexcept {
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

class WireWriter {
 public:
  // Writes into `buf`; `limit()` starts at buf.size().
  explicit WireWriter(std::span<std::uint8_t> buf) noexcept : buf_(buf), limit_(buf.size()) {}

  // A saved position and error state, for undoing a partly written record.
  struct Mark {
    std::size_t pos;
    bool ok;
  };

  bool ok() const noexcept { return ok_; }
  std::size_t pos() const noexcept { return pos_; }
  std::size_t limit() const noexcept { return limit_; }
  std::size_t remaining() const noexcept { return limit_ - pos_; }
  std::span<const std::uint8_t> written() const noexcept { return buf_.first(pos_); }

  // Changes the write limit (clamped to [pos(), buffer size]); used to keep
  // room in reserve (e.g. for a trailing OPT RR) and release it later.
  void SetLimit(std::size_t limit) noexcept;

  Mark mark() const noexcept { return {pos_, ok_}; }
  // Returns to `m` (an earlier mark of this writer): bytes after it are
  // discarded and the error state is the one saved in `m`.
  void Rewind(Mark m) noexcept;

  void U8(std::uint8_t v) noexcept;
  void U16(std::uint16_t v) noexcept;
  void U32(std::uint32_t v) noexcept;
  void Bytes(std::span<const std::uint8_t> b) noexcept;
  // Overwrites two bytes already written at `at` (a length or a count).
  void PatchU16(std::size_t at, std::uint16_t v) noexcept;
  // Reads back a byte already written (for name compression); 0 past pos().
  std::uint8_t At(std::size_t at) const noexcept { return at < pos_ ? buf_[at] : 0; }

 private:
  bool Need(std::size_t n) noexcept {
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::span<std::uint8_t> buf_;
  std::size_t limit_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace meshbl::dns

#endif  // MESHBL_DNS_WIRE_H_
