#include "meshbl/dns/wire.h"

#include <cstring>

namespace meshbl::dns {

std::uint8_t WireReader::U8() noexcept {
  if (!Need(1)) return 0;
  return data_[pos_++];
}

std::uint16_t WireReader::U16() noexcept {
  if (!Need(2)) return 0;
  auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t WireReader::U32() noexcept {
  if (!Need(4)) return 0;
  std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                    (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
  pos_ += 4;
  return v;
}

std::span<const std::uint8_t> WireReader::Bytes(std::size_t n) noexcept {
  if (!Need(n)) return {};
  auto s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

void WireReader::Skip(std::size_t n) noexcept {
  if (Need(n)) pos_ += n;
}

std::uint8_t WireReader::Peek() noexcept {
  if (!Need(1)) return 0;
  return data_[pos_];
}

void WireWriter::SetLimit(std::size_t limit) noexcept {
  if (limit > buf_.size()) limit = buf_.size();
  if (limit < pos_) limit = pos_;
  limit_ = limit;
}

void WireWriter::Rewind(Mark m) noexcept {
  if (m.pos <= pos_) pos_ = m.pos;
  ok_ = m.ok;
}

void WireWriter::U8(std::uint8_t v) noexcept {
  if (!Need(1)) return;
  buf_[pos_++] = v;
}

void WireWriter::U16(std::uint16_t v) noexcept {
  if (!Need(2)) return;
  buf_[pos_] = static_cast<std::uint8_t>(v >> 8);
  buf_[pos_ + 1] = static_cast<std::uint8_t>(v);
  pos_ += 2;
}

void WireWriter::U32(std::uint32_t v) noexcept {
  if (!Need(4)) return;
  buf_[pos_] = static_cast<std::uint8_t>(v >> 24);
  buf_[pos_ + 1] = static_cast<std::uint8_t>(v >> 16);
  buf_[pos_ + 2] = static_cast<std::uint8_t>(v >> 8);
  buf_[pos_ + 3] = static_cast<std::uint8_t>(v);
  pos_ += 4;
}

void WireWriter::Bytes(std::span<const std::uint8_t> b) noexcept {
  if (!Need(b.size())) return;
  if (!b.empty()) std::memcpy(buf_.data() + pos_, b.data(), b.size());
  pos_ += b.size();
}

void WireWriter::PatchU16(std::size_t at, std::uint16_t v) noexcept {
  if (!ok_ || at > pos_ || 2 > pos_ - at) {
    ok_ = false;
    return;
  }
  buf_[at] = static_cast<std::uint8_t>(v >> 8);
  buf_[at + 1] = static_cast<std::uint8_t>(v);
}

}  // namespace meshbl::dns
