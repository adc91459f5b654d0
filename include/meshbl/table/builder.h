// Mutable, in-memory builders that the zone parsers fill and that serialise
// into an immutable snapshot image (see format.h). Control plane only: these
// allocate freely and are not thread-safe; build on one thread, then publish
// the resulting image.
//
// The builder stores rbldnsd's *semantics*, not its text: zone parsers have
// already applied defaults, masked host bits, split nothing. Where rbldnsd has
// a "first wins" or "last wins" rule the builder method documents which side
// enforces it.
#ifndef MESHBL_TABLE_BUILDER_H_
#define MESHBL_TABLE_BUILDER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "meshbl/table/types.h"

namespace meshbl::table {

// `$SOA` data. Names are label sequences (dns/name.h), lowercased.
struct SoaData {
  std::uint32_t ttl = 0;
  std::string origin;
  std::string person;
  std::uint32_t serial = 0;  // 0 = use the newest mtime of the zone's files
  std::uint32_t refresh = 0, retry = 0, expire = 0, minimum = 0;
};

// `$NS` data: up to 32 names, duplicates already removed.
struct NsData {
  std::uint32_t ttl = 0;
  std::vector<std::string> names;  // label sequences, at most 32 (rbldnsd's MAX_NS)
  std::uint32_t dropped = 0;       // distinct names beyond the 32 kept
};

// A source file that went into a dataset, recorded in the snapshot header.
struct SourceFile {
  std::string path;
  std::int64_t mtime = 0;
  std::int64_t size = 0;
};

class DatasetBuilder {
 public:
  DatasetBuilder(DatasetType type, std::string spec);
  DatasetBuilder(const DatasetBuilder&) = delete;
  DatasetBuilder& operator=(const DatasetBuilder&) = delete;

  DatasetType type() const { return type_; }
  // "type:file,file" as given on the command line; identifies the dataset.
  const std::string& spec() const { return spec_; }

  // ---- Specials (§2). The builder enforces "first wins" for SOA, NS,
  // variables and the base template: later calls return false and change
  // nothing. The TTL is "last wins" and used for every entry of the dataset
  // except generic records, which carry their own TTL.
  void SetTtl(std::uint32_t ttl) { ttl_ = ttl; }
  std::uint32_t ttl() const { return ttl_; }
  bool SetSoa(SoaData soa);
  bool SetNs(NsData ns);
  bool SetVariable(int digit, std::string text);  // `$0`..`$9`
  bool SetBaseTemplate(std::string text);         // `$=`
  // `$TIMESTAMP`: expiry (unix seconds, 0 = none). The earliest non-zero
  // expiry wins.
  void SetExpires(std::int64_t expires);
  // ip4tset / ip6tset: the one value of the whole dataset (first default
  // line); the zone parser enforces "first wins".
  void SetDatasetValue(Value v) { dataset_value_ = std::move(v); }
  void AddSource(SourceFile f) { sources_.push_back(std::move(f)); }

  // ---- Entries. `v == nullptr` means an exclusion (`!` line).
  // ip4set: an inclusive range; split into /32 /24 /16 /8 blocks (§4.1).
  void AddIp4Range(std::uint32_t first, std::uint32_t last, const Value* v);
  // ip4tset: one /32.
  void AddIp4Host(std::uint32_t addr);
  // ip4trie: a prefix with host bits already cleared. Returns false (and
  // keeps the first) when the prefix is already present.
  bool AddIp4Prefix(std::uint32_t addr, int len, const Value* v);
  // ip6trie: a prefix with host bits already cleared.
  bool AddIp6Prefix(const std::array<std::uint8_t, 16>& addr, int len, const Value* v);
  // ip6tset: a listed /64 (the top 64 bits) and an excluded /128.
  void AddIp6Net64(std::uint64_t net);
  void AddIp6Excluded(const std::array<std::uint8_t, 16>& addr);
  // dnset: `name` is a label sequence relative to the zone, lowercased.
  // `wildcard` = subdomains only (`*.name`); `.name` is two calls.
  void AddName(std::string_view name, bool wildcard, const Value* v);
  // generic: one record. `rdata` is wire rdata (A: 4 bytes, TXT: length-
  // prefixed string, MX: preference + uncompressed label sequence + root).
  void AddGenericRecord(std::string_view name, std::uint16_t type, std::uint32_t ttl,
                        std::string rdata);
  // acl: a prefix and its action; `v` is used only for AclAction::kAlways.
  // Returns false (first wins) for a duplicate prefix.
  bool AddAcl4(std::uint32_t addr, int len, AclAction action, const Value* v);
  bool AddAcl6(const std::array<std::uint8_t, 16>& addr, int len, AclAction action, const Value* v);
  // combined: a nested dataset for `subzone` (label sequence relative to the
  // combined zone; empty = the zone itself). The child inherits this
  // dataset's current TTL, variables and base template (§4.8).
  DatasetBuilder* AddSubDataset(DatasetType type, std::string_view subzone);

  // Capacity hint: about `n` more entries will be added (the loader derives
  // it from file sizes), so raw entry storage grows once instead of doubling.
  void ReserveEntries(std::uint64_t n);

  // Number of entries added so far (what `meshbl inspect` and the startup log
  // report as the dataset's size).
  std::uint64_t entry_count() const { return entry_count_; }

 private:
  friend class SnapshotBuilder;
  friend class DatasetWriter;
  friend struct BuilderAccess;

  DatasetType type_;
  std::string spec_;
  std::uint32_t ttl_ = 2100;
  bool has_soa_ = false, has_ns_ = false;
  SoaData soa_;
  NsData ns_;
  std::array<std::optional<std::string>, 10> vars_;
  std::optional<std::string> base_template_;
  std::int64_t expires_ = 0;
  Value dataset_value_;
  std::vector<SourceFile> sources_;
  std::uint64_t entry_count_ = 0;

  // Raw entries; value index into values_ (0-based), or kExcluded.
  static constexpr std::uint32_t kExcluded = 0xfffffffe;
  std::uint32_t InternValue(const Value* v);
  std::vector<Value> values_;
  std::uint32_t last_value_ = 0xffffffff;
  // ip4set, one per level (/32 /24 /16 /8): the keys in insertion order
  // (4 bytes an entry: the raw entries are what a load holds next to the
  // image, see docs/PERFORMANCE.md) and the value of each key as runs
  // {index of the run's first key, value}; consecutive lines nearly always
  // share the scope default, so there are few runs.
  struct Ip4Level {
    std::vector<std::uint32_t> keys;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> runs;
    void Add(std::uint32_t key, std::uint32_t value) {
      if (runs.empty() || runs.back().second != value) {
        runs.emplace_back(static_cast<std::uint32_t>(keys.size()), value);
      }
      keys.push_back(key);
    }
  };
  Ip4Level ip4_levels_[4];
  std::vector<std::uint32_t> ip4_hosts_;
  struct Prefix {
    std::array<std::uint8_t, 16> addr;  // ip4: first 4 bytes, network order
    std::uint8_t len;
    std::uint32_t value;  // value index, kExcluded, or AclAction for acl
    std::uint32_t action;
  };
  std::vector<Prefix> prefixes4_, prefixes6_;
  std::vector<std::uint64_t> nets64_;
  std::vector<std::array<std::uint8_t, 16>> excluded128_;
  // dnset: the names back to back in one buffer and 16-byte entries that
  // point into it (no allocation per name).
  struct NameEntry {
    std::uint64_t offset;  // into name_text_
    std::uint32_t value;
    std::uint16_t size;
    bool wildcard;
  };
  std::string_view Name(const NameEntry& e) const {
    return std::string_view(name_text_).substr(e.offset, e.size);
  }
  std::string name_text_;
  std::vector<NameEntry> names_;
  struct GenericRecord {
    std::string name;
    std::uint16_t type;
    std::uint32_t ttl;
    std::string rdata;
  };
  std::vector<GenericRecord> records_;
  struct SubZone {
    std::string name;
    std::vector<std::unique_ptr<DatasetBuilder>> datasets;
  };
  std::vector<SubZone> subzones_;
  absl::flat_hash_set<std::string> seen_prefixes_;  // ip4trie/ip6trie/acl: first wins
  absl::flat_hash_map<std::string, std::uint32_t> value_ids_;
};

// Collects datasets and zones and serialises them into one snapshot image.
class SnapshotBuilder {
 public:
  SnapshotBuilder() = default;
  // Frees the datasets and, after a big load (64Ki entries or more), hands
  // the freed heap pages back to the system (malloc_trim): a load makes
  // millions of small allocations (names, strings) that would otherwise stay
  // in the process's RSS after it.
  ~SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

  // Returns the dataset with this spec, or nullptr.
  DatasetBuilder* FindDataset(std::string_view spec) const;
  // Takes a fully loaded dataset (a dataset that failed to load is never
  // added, so nothing is half-published). Returns the stored pointer.
  DatasetBuilder* AdoptDataset(std::unique_ptr<DatasetBuilder> ds);
  // Adds `ds` (owned by this builder) to zone `zone` (label sequence); zones
  // are created on first use. An acl dataset becomes the zone's ACL; with an
  // empty zone name it becomes the global ACL.
  void AddToZone(std::string_view zone, DatasetBuilder* ds);

  // Serialises everything into a snapshot image (format.h). `build_time` is
  // recorded in the header (unix seconds).
  std::vector<std::uint8_t> Build(std::int64_t build_time) const;

 private:
  std::vector<std::unique_ptr<DatasetBuilder>> datasets_;
  struct Zone {
    std::string name;
    std::vector<DatasetBuilder*> datasets;
    DatasetBuilder* acl = nullptr;
  };
  std::vector<Zone> zones_;
  DatasetBuilder* global_acl_ = nullptr;
};

// Canonical text listing of what a dataset holds, for golden tests and
// debugging. One item per line; entry lines are sorted. Values print as
// `= A "txt"` (or `= A -` without TXT); exclusions as `!`. Lines:
//   type ip4set | ttl N | soa TTL ORIGIN PERSON SERIAL REFRESH RETRY EXPIRE MIN
//   ns TTL NAME... | var D TEXT | base TEXT | expires N | dsvalue = A "txt"
//   ip4/32 a.b.c.d VALUE | ip4/24 a.b.c VALUE | ip4/16 a.b VALUE | ip4/8 a VALUE
//   host4 a.b.c.d | prefix4 a.b.c.d/len VALUE | prefix6 x:y::/len VALUE
//   net64 x:y:z:w | excl128 x::y | name NAME VALUE | wild NAME VALUE
//   rr NAME TYPE TTL RDATA-HEX | acl4 a.b.c.d/len ACTION [VALUE] | acl6 ...
//   sub NAME   (followed by the nested datasets, each line indented by 2)
// Names print in presentation form ("@" for the empty name).
std::string DumpDataset(const DatasetBuilder& ds);

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_BUILDER_H_
