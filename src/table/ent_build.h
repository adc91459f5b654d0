// Private to the table layer: helpers shared by the dataset types' empty
// non-terminal builders (`ent_summary`, `ent_names` in dataset_type.h),
// called from ZoneSet::Create. Control plane only.
#ifndef MESHBL_SRC_TABLE_ENT_BUILD_H_
#define MESHBL_SRC_TABLE_ENT_BUILD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "meshbl/dns/name.h"
#include "meshbl/table/format.h"
#include "meshbl/table/lookup.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "table/flat_table.h"

namespace meshbl::table::ent {

namespace f = format;

// Calls fn(labels, value_word) for every occupied slot of a SlotName table.
template <class Fn>
inline void ForEachName(const Snapshot& snap, std::uint32_t section, Fn fn) {
  if (section == f::kNone) return;
  auto bytes = snap.Section(section);
  if (bytes.size() < sizeof(f::TableHeader)) return;
  f::TableHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.slot_size != sizeof(f::SlotName)) return;
  const std::size_t avail = (bytes.size() - sizeof h) / sizeof(f::SlotName);
  const std::size_t n = h.capacity < avail ? static_cast<std::size_t>(h.capacity) : avail;
  for (std::size_t i = 0; i < n; ++i) {
    f::SlotName slot;
    std::memcpy(&slot, bytes.data() + sizeof h + i * sizeof slot, sizeof slot);
    if (slot.val == f::kEmptySlot) continue;
    fn(snap.Bytes(slot.name), slot.val);
  }
}

// Adds the hashes of the proper, non-empty parents of `name` (and of `name`
// itself when `self`) to `out`.
inline void AddParents(std::span<const std::uint8_t> name, bool self,
                       std::vector<std::uint64_t>* out) {
  if (!dns::IsWellFormed(name) || name.empty()) return;
  if (self) out->push_back(HashName(name));
  std::size_t i = 1 + std::size_t{name[0]};
  while (i < name.size()) {
    out->push_back(HashName(name.subspan(i)));
    i += 1 + std::size_t{name[i]};
  }
}

// --- Empty non-terminal summaries of IP datasets (issue 9 item 7) ----------

inline bool ListedWord(std::uint32_t w) { return w != f::kEmptySlot && w != f::kExcluded; }

inline void SetBit(std::vector<std::uint64_t>* bits, std::uint32_t v) {
  (*bits)[v / 64] |= std::uint64_t{1} << (v % 64);
}

// Records a listed IPv4 entry `addr`/`len` in the summaries: its /8, /16,
// /24 prefix where the entry is longer than that prefix.
struct Ip4Summer {
  std::vector<std::uint64_t> b8 = std::vector<std::uint64_t>(256 / 64);
  std::vector<std::uint64_t> b16 = std::vector<std::uint64_t>((1u << 16) / 64);
  std::vector<std::uint64_t> b24;  // 2 MiB, only once a /25../32 entry is seen
  bool any = false;
  void Add(std::uint32_t addr, unsigned len) {
    if (len > 0) any = true;
    if (len > 8) SetBit(&b8, addr >> 24);
    if (len > 16) SetBit(&b16, addr >> 16);
    if (len > 24) {
      if (b24.empty()) b24.assign((std::size_t{1} << 24) / 64, 0);
      SetBit(&b24, addr >> 8);
    }
  }
  void Finish(EntSummary* e) {
    e->any4 = any;
    e->p8.Build(std::move(b8));
    e->p16.Build(std::move(b16));
    e->p24.Build(std::move(b24));
  }
};

// Slots scanned between checks of the stop flag.
inline constexpr std::uint64_t kStopCheck = 1 << 16;

// True when the scan at slot `i` should stop: every kStopCheck slots the
// stop flag is read.
inline bool Stopped(std::uint64_t i, const std::atomic<bool>* stop) {
  return i % kStopCheck == 0 && stop->load(std::memory_order_relaxed);
}

// The summary of the ip4set/ip4tset tables: the first `levels` Slot32
// levels (/32, /24, /16, /8). False when stopped.
inline bool SumIp4Levels(const DatasetView& v, int levels, const std::atomic<bool>* stop,
                         EntSummary* e) {
  Ip4Summer sum;
  for (int l = 0; l < levels; ++l) {
    const auto t = v.ip4_level(l);
    for (std::uint64_t i = 0; i < t.capacity; ++i) {
      if (Stopped(i, stop)) return false;
      if (ListedWord(t.slots[i].val)) {
        sum.Add(t.slots[i].key, 32u - 8u * static_cast<unsigned>(l));
      }
    }
  }
  sum.Finish(e);
  return true;
}

}  // namespace meshbl::table::ent

#endif  // MESHBL_SRC_TABLE_ENT_BUILD_H_
