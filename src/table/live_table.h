// The hash tables of a live layer (live.h): probing shared by the builder
// (live.cc) and the lookups (live_lookup.cc). Tables are flat_table.h's
// open-addressing layout over std::vector storage; names are LiveLayer's
// NameSlots whose bytes live in the layer's name buffer.
#ifndef MESHBL_SRC_TABLE_LIVE_TABLE_H_
#define MESHBL_SRC_TABLE_LIVE_TABLE_H_

#include <cstdint>
#include <cstring>
#include <span>

#include "meshbl/table/live.h"
#include "table/flat_table.h"

namespace meshbl::table::live_table {

using NameSlot = LiveLayer::NameSlot;

inline std::uint64_t Key4(std::uint32_t addr, unsigned len) noexcept {
  return (std::uint64_t{len} << 32) | MaskIp4(addr, len);
}

// Filter hashes (LiveLayer::MayHold): independent of the table buckets,
// which take the high bits of Mix64.
inline std::uint64_t FilterHash4(std::uint64_t key4) noexcept { return Mix64(key4 ^ 0x5bd1e995); }
inline std::uint64_t FilterHash6(std::uint64_t hi, std::uint64_t lo, std::uint32_t len) noexcept {
  return Mix64(hi ^ Mix64(lo ^ (std::uint64_t{len} << 32) ^ 0x5bd1e995));
}
inline std::uint64_t FilterHashName(std::uint64_t h, bool wild) noexcept {
  return Mix64(h ^ (wild ? 0x9e3779b97f4a7c15ULL : 0));
}

// The bucket and fingerprint of a name's hash.
inline std::uint64_t NameBucket(std::uint64_t h, std::uint64_t capacity) noexcept {
  return Bucket(static_cast<std::uint32_t>(h >> 32), capacity);
}
inline std::uint32_t NameFp(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h); }

inline const NameSlot* FindName(const NameSlot* slots, std::uint64_t capacity,
                                const std::uint8_t* bytes, std::span<const std::uint8_t> name,
                                std::uint64_t h) noexcept {
  if (capacity == 0) return nullptr;
  const std::uint32_t fp = NameFp(h);
  return Probe(TableView<NameSlot>{slots, capacity}, NameBucket(h, capacity),
               [&](const NameSlot& s) {
                 return s.fp == fp && s.len == name.size() &&
                        std::memcmp(bytes + s.off, name.data(), name.size()) == 0;
               });
}

}  // namespace meshbl::table::live_table

#endif  // MESHBL_SRC_TABLE_LIVE_TABLE_H_
