// Open-addressing hash tables over snapshot slots (format.h): hashing and
// probing shared by the builder (which fills them) and the lookups (which
// read them from a mapped image). Linear probing; a slot whose value word is
// kEmptySlot is free; capacity is arbitrary (not a power of two) and the
// bucket is chosen by multiply-shift, so the load factor can sit at 0.72 for
// every size. Probing is bounded by the capacity, so even a hostile image
// whose table has no free slot cannot loop forever.
//
// Allocation-free, lock-free, noexcept: callable from query workers.
#ifndef MESHBL_SRC_TABLE_FLAT_TABLE_H_
#define MESHBL_SRC_TABLE_FLAT_TABLE_H_

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "meshbl/table/format.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/table_ref.h"

namespace meshbl::table {

inline constexpr double kMaxLoad = 0.72;

constexpr std::uint64_t Mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

constexpr std::uint32_t Hash32(std::uint32_t key) noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{key} * 0x9e3779b97f4a7c15ULL) >> 32);
}
constexpr std::uint32_t Hash64(std::uint64_t key) noexcept {
  return static_cast<std::uint32_t>(Mix64(key) >> 32);
}
constexpr std::uint32_t Hash128(std::uint64_t hi, std::uint64_t lo, std::uint32_t len) noexcept {
  return static_cast<std::uint32_t>(Mix64(hi ^ Mix64(lo + len)) >> 32);
}
inline std::uint64_t HashName(std::span<const std::uint8_t> labels) noexcept {
  return XXH3_64bits(labels.data(), labels.size());
}

// Maps a 32-bit hash onto [0, capacity).
constexpr std::uint64_t Bucket(std::uint32_t h, std::uint64_t capacity) noexcept {
  return (std::uint64_t{h} * capacity) >> 32;
}

// Number of slots for `n` entries: always at least one free slot.
inline std::uint64_t CapacityFor(std::uint64_t n) noexcept {
  std::uint64_t c = static_cast<std::uint64_t>(static_cast<double>(n) / kMaxLoad) + 1;
  return c < n + 1 ? n + 1 : c;
}

template <class Slot>
using TableView = TableRef<Slot>;

// Linear probe from `start` until `match` or a free slot; returns nullptr on a
// miss. At most `capacity` slots are visited.
template <class Slot, class Match>
inline const Slot* Probe(const TableView<Slot>& t, std::uint64_t start, Match match) noexcept {
  std::uint64_t i = start;
  for (std::uint64_t n = 0; n < t.capacity; ++n) {
    const Slot& s = t.slots[i];
    if (s.val == format::kEmptySlot) return nullptr;
    if (match(s)) return &s;
    if (++i == t.capacity) i = 0;
  }
  return nullptr;
}

inline const format::Slot32* Find32(const TableView<format::Slot32>& t,
                                    std::uint32_t key) noexcept {
  if (t.capacity == 0) return nullptr;
  return Probe(t, Bucket(Hash32(key), t.capacity),
               [key](const format::Slot32& s) { return s.key == key; });
}

inline const format::Slot64* Find64(const TableView<format::Slot64>& t,
                                    std::uint64_t key) noexcept {
  if (t.capacity == 0) return nullptr;
  return Probe(t, Bucket(Hash64(key), t.capacity),
               [key](const format::Slot64& s) { return s.key == key; });
}

inline const format::Slot128* Find128(const TableView<format::Slot128>& t, std::uint64_t hi,
                                      std::uint64_t lo, std::uint32_t len) noexcept {
  if (t.capacity == 0) return nullptr;
  return Probe(t, Bucket(Hash128(hi, lo, len), t.capacity),
               [&](const format::Slot128& s) { return s.hi == hi && s.lo == lo && s.len == len; });
}

// The SlotName of `name` (a label sequence) in `t`, whose names are stored
// in `snap`'s strings; nullptr when absent. The fingerprint is compared
// first, the stored name only on a fingerprint match.
inline const format::SlotName* FindNameSlot(const Snapshot& snap,
                                            const TableView<format::SlotName>& t,
                                            std::span<const std::uint8_t> name) noexcept {
  if (t.capacity == 0) return nullptr;
  const std::uint64_t h = HashName(name);
  const auto fp = static_cast<std::uint32_t>(h);
  return Probe(t, Bucket(static_cast<std::uint32_t>(h >> 32), t.capacity),
               [&](const format::SlotName& s) {
                 if (s.fp != fp) return false;
                 auto stored = snap.Bytes(s.name);
                 return stored.size() == name.size() &&
                        std::memcmp(stored.data(), name.data(), name.size()) == 0;
               });
}

// Masks an IPv6 address given as two big-endian-ordered halves to `len` bits.
constexpr void MaskIp6(std::uint64_t& hi, std::uint64_t& lo, unsigned len) noexcept {
  if (len == 0) {
    hi = lo = 0;
  } else if (len < 64) {
    hi &= ~0ULL << (64 - len);
    lo = 0;
  } else if (len == 64) {
    lo = 0;
  } else if (len < 128) {
    lo &= ~0ULL << (128 - len);
  }
}

constexpr std::uint32_t MaskIp4(std::uint32_t addr, unsigned len) noexcept {
  return len == 0 ? 0 : addr & (~0U << (32 - len));
}

}  // namespace meshbl::table

#endif  // MESHBL_SRC_TABLE_FLAT_TABLE_H_
