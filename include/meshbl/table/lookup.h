// Per-dataset lookups over a validated Snapshot: rbldnsd's matching rules
// (reference/rbldnsd.md §4) on the hash tables of format.h.
//
// A DatasetView is resolved once (control plane, when a ZoneSet is built) and
// then only read. All lookup methods are noexcept, allocate nothing, take no
// lock and are safe to call from any number of query workers at once.
#ifndef MESHBL_TABLE_LOOKUP_H_
#define MESHBL_TABLE_LOOKUP_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "meshbl/table/dataset_type.h"
#include "meshbl/table/format.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/table_ref.h"
#include "meshbl/table/types.h"

namespace meshbl::table {

// Value ids of one listing (into Snapshot::values()): a view of the value
// list in the snapshot's pool (zero copy, any length), or one id held here.
// rbldnsd returns every distinct value stored for the deciding block, so
// there is no cap. Ids are not checked against values() here: a caller skips
// an id >= values().size() (only a hostile image has one). Copyable; valid
// while the snapshot is.
class ValueList {
 public:
  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  std::uint32_t operator[](std::size_t i) const noexcept {
    return pool_ != nullptr ? pool_[i] : one_;
  }
  std::span<const std::uint32_t> ids() const noexcept {
    return pool_ != nullptr ? std::span<const std::uint32_t>(pool_, n_)
                            : std::span<const std::uint32_t>(&one_, n_);
  }
  void Clear() noexcept {
    pool_ = nullptr;
    n_ = 0;
  }
  void SetOne(std::uint32_t id) noexcept {
    pool_ = nullptr;
    one_ = id;
    n_ = 1;
  }
  void SetPool(std::span<const std::uint32_t> ids) noexcept {
    pool_ = ids.empty() ? nullptr : ids.data();
    n_ = ids.size();
  }

 private:
  const std::uint32_t* pool_ = nullptr;
  std::size_t n_ = 0;
  std::uint32_t one_ = 0;
};

// What a lookup found. The snapshot lookups below answer kListed or kNone
// (an exclusion that decides reads as kNone: within one dataset nothing else
// could answer); layered lookups (live.h) tell an exclusion apart, because
// there it decides between an overlay and what lies under it.
enum class Match : std::uint8_t {
  kNone,      // nothing covers the subject
  kListed,    // values in the ValueList
  kExcluded,  // an exclusion decided: not listed
};

// An ACL decision for one client address.
struct AclResult {
  bool matched = false;
  AclAction action = AclAction::kPass;
  std::uint32_t value = 0;  // value id for kAlways
};

class DatasetView {
 public:
  // Resolves dataset `index` of `snap`; `snap` must outlive the view.
  DatasetView(const Snapshot& snap, std::uint32_t index) noexcept;

  DatasetType type() const noexcept { return type_; }
  const Snapshot& snapshot() const noexcept { return *snap_; }
  const format::DatasetRec& rec() const noexcept { return *rec_; }
  std::uint32_t index() const noexcept { return index_; }
  std::uint32_t ttl() const noexcept { return rec_->ttl; }
  // How queries reach this dataset (the type's descriptor, dataset_type.h).
  AnswerKind answer_kind() const noexcept { return answer_; }
  bool is_ip4() const noexcept { return answer_ == AnswerKind::kIp4; }

  // ip4set, ip4tset, ip4trie.
  Match LookupIp4(std::uint32_t addr, ValueList* out) const noexcept;
  // ip6trie, ip6tset. `hi`/`lo` are the address halves, most significant first.
  Match LookupIp6(std::uint64_t hi, std::uint64_t lo, ValueList* out) const noexcept;
  // dnset: `name` relative to the zone, lowercased. On a match `*subject`
  // receives the byte offset in `name` where the matched entry's name starts
  // (0 for an exact match, later for a wildcard base).
  Match LookupName(std::span<const std::uint8_t> name, ValueList* out,
                   std::size_t* subject) const noexcept;
  // generic: the records stored at `name` (empty when the name is absent;
  // `*found` tells the two apart).
  std::span<const format::RecordRec> LookupGeneric(std::span<const std::uint8_t> name,
                                                   bool* found) const noexcept;
  // acl: longest-prefix decision for a client.
  AclResult LookupAcl4(std::uint32_t addr) const noexcept;
  AclResult LookupAcl6(std::uint64_t hi, std::uint64_t lo) const noexcept;

  // ip4set/ip4tset throughput path: the full rule for `n` addresses with the
  // first-level probes prefetched in groups. `words[i]` receives the value
  // word (format.h: kEmptySlot = not found, kExcluded, list, or a value id).
  void LookupIp4Batch(const std::uint32_t* addrs, std::size_t n,
                      std::uint32_t* words) const noexcept;

  // dnset throughput path: LookupName for `n` names, with the table slots
  // and then the stored names of each group prefetched before comparing.
  void LookupNameBatch(const std::span<const std::uint8_t>* names, std::size_t n, Match* match,
                       ValueList* out, std::size_t* subjects) const noexcept;

  // Decodes a value word into value ids; false when nothing is listed.
  bool DecodeWord(std::uint32_t word, ValueList* out) const noexcept;

  // Control-plane enumeration (`meshbl dump`, `meshbld -d`): the raw slots of
  // the dataset's tables; a slot whose `val` is kEmptySlot is free.
  // ip4set level l (0..3) holds /32, /24, /16, /8 blocks; ip4tset uses level 0.
  TableRef<format::Slot32> ip4_level(int l) const noexcept { return t32_[l]; }
  // ip4trie and acl4 prefixes; ip6tset /64 networks.
  TableRef<format::Slot64> table64() const noexcept { return t64_; }
  // ip6trie and acl6 prefixes; ip6tset excluded /128 addresses.
  TableRef<format::Slot128> table128() const noexcept { return t128_; }
  // dnset plain names and wildcard bases; generic names.
  TableRef<format::SlotName> names() const noexcept { return names_; }
  TableRef<format::SlotName> wildcards() const noexcept { return wild_; }
  // generic: every record; a name slot's `val` is its first, `aux` the count.
  std::span<const format::RecordRec> records() const noexcept { return records_; }

 private:
  std::uint32_t Ip4SetWord(std::uint32_t addr) const noexcept;

  const Snapshot* snap_;
  const format::DatasetRec* rec_;
  std::uint32_t index_;
  DatasetType type_;
  AnswerKind answer_ = AnswerKind::kNone;
  TableRef<format::Slot32> t32_[4];
  TableRef<format::Slot64> t64_;
  TableRef<format::Slot128> t128_;
  TableRef<format::SlotName> names_, wild_;
  std::span<const format::RecordRec> records_;
  std::uint8_t lens4_[33];
  std::uint8_t nlens4_ = 0;
  std::uint8_t lens6_[129];
  std::uint8_t nlens6_ = 0;
};

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_LOOKUP_H_
