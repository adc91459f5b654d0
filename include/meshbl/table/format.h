// The snapshot image: one immutable, little-endian, fixed-layout binary file
// holding a set of compiled datasets and the zones that use them.
//
//   [FileHeader 128 B][section 0][section 1]...[section table]
//
// Every section starts on a 64-byte boundary and is covered by an XXH3-64
// checksum in the section table; the table itself and the header have their
// own checksums. Snapshot::Open validates all of it before a lookup can run.
// Any change to these structs or their meaning bumps kFormatVersion.
#ifndef MESHBL_TABLE_FORMAT_H_
#define MESHBL_TABLE_FORMAT_H_

#include <bit>
#include <cstdint>

namespace meshbl::table::format {

static_assert(std::endian::native == std::endian::little,
              "the snapshot format is little-endian; big-endian hosts need byte swapping");

inline constexpr char kMagic[8] = {'M', 'E', 'S', 'H', 'B', 'L', 'S', 'N'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::uint32_t kAlign = 64;
inline constexpr std::uint32_t kNone = 0xffffffff;  // absent index / string reference

struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;  // sizeof(FileHeader)
  std::uint64_t file_size;
  std::int64_t build_time;  // unix seconds
  std::uint64_t section_table_offset;
  std::uint32_t section_count;
  std::uint32_t global_acl;              // dataset index or kNone
  std::uint64_t section_table_checksum;  // XXH3-64 of the section table
  std::uint64_t header_checksum;         // XXH3-64 of this header with this field 0
  std::uint8_t reserved[64];
};
static_assert(sizeof(FileHeader) == 128);

enum class SectionKind : std::uint32_t {
  kStrings = 1,   // blob of [u16 length][bytes] strings, referenced by offset
  kValues = 2,    // ValueRec[]
  kPool = 3,      // u32[]: value lists, dataset lists, NS name lists
  kDatasets = 4,  // DatasetRec[]
  kZones = 5,     // ZoneRec[]
  kSources = 6,   // SourceRec[]
  kTable = 7,     // TableHeader + slots
  kRecords = 8,   // RecordRec[] (generic)
  kSubZones = 9,  // SubZoneRec[] (combined)
};

struct SectionEntry {
  SectionKind kind;
  std::uint32_t elem_size;  // bytes per element (slot size for tables)
  std::uint64_t offset;
  std::uint64_t size;
  std::uint64_t checksum;  // XXH3-64 of the section bytes
};
static_assert(sizeof(SectionEntry) == 32);

// Value words stored in hash-table slots for ip4set, ip4trie, ip6trie, dnset.
inline constexpr std::uint32_t kEmptySlot = 0xffffffff;
inline constexpr std::uint32_t kExcluded = 0xfffffffe;
inline constexpr std::uint32_t kListFlag = 0x80000000;  // low 31 bits: pool index of [n, id...]
// ACL slots: (value id << 3) | AclAction.
inline constexpr std::uint32_t kAclActionBits = 3;

struct ValueRec {
  std::uint32_t a;    // host order, never 0
  std::uint32_t txt;  // string reference or kNone
};

struct TableHeader {
  std::uint64_t capacity;  // number of slots
  std::uint64_t count;     // occupied slots
  std::uint32_t slot_size;
  std::uint32_t reserved0;
  std::uint8_t reserved[40];
};
static_assert(sizeof(TableHeader) == 64);

struct Slot32 {  // ip4set levels, ip4tset
  std::uint32_t key;
  std::uint32_t val;
};
struct Slot64 {  // ip4trie/acl4 (len << 32 | addr), ip6tset /64 nets
  std::uint64_t key;
  std::uint32_t val;
  std::uint32_t pad;
};
struct Slot128 {  // ip6trie/acl6 prefixes, ip6tset excluded /128s
  std::uint64_t hi;
  std::uint64_t lo;
  std::uint32_t len;
  std::uint32_t val;
};
struct SlotName {      // dnset, generic
  std::uint32_t fp;    // low 32 bits of XXH3-64 of the label sequence
  std::uint32_t name;  // string reference: the label sequence
  std::uint32_t val;   // value word; generic: first record
  std::uint32_t aux;   // generic: record count
};
static_assert(sizeof(Slot32) == 8 && sizeof(Slot64) == 16 && sizeof(Slot128) == 24 &&
              sizeof(SlotName) == 16);

struct RecordRec {  // one generic RR
  std::uint16_t type;
  std::uint16_t rdlen;
  std::uint32_t ttl;
  std::uint32_t rdata;  // string reference (the u16 length equals rdlen)
};

struct SubZoneRec {    // combined: datasets [first, first+count) of the directory
  std::uint32_t name;  // string reference: label sequence relative to the zone
  std::uint32_t first;
  std::uint32_t count;
  std::uint32_t labels;
};

struct SourceRec {
  std::uint32_t path;  // string reference
  std::uint32_t dataset;
  std::int64_t mtime;
  std::int64_t size;
};

// Indices into DatasetRec::tables, by dataset type.
inline constexpr int kTableIp4Level0 = 0;  // ip4set: /32, /24, /16, /8 in 0..3
inline constexpr int kTableMain = 0;       // ip4tset, ip4trie, ip6trie, ip6tset nets,
                                           // dnset plain, generic names, acl4
inline constexpr int kTableSecond = 1;     // ip6tset excl, dnset wild, generic records, acl6
inline constexpr int kTableSubZones = 0;   // combined

struct DatasetRec {
  std::uint32_t type;    // DatasetType
  std::uint32_t parent;  // combined parent dataset index, or kNone
  std::uint32_t spec;    // string reference
  std::uint32_t ttl;
  std::uint32_t dataset_value;  // value id (ip4tset, ip6tset)
  std::uint32_t has_soa;
  std::uint32_t soa_ttl, soa_origin, soa_person, soa_serial;
  std::uint32_t soa_refresh, soa_retry, soa_expire, soa_minimum;
  std::uint32_t ns_ttl, ns_first, ns_count;  // pool range of string references
  std::uint32_t vars[10];                    // string references ($0..$9)
  std::uint32_t base_template;               // string reference ($=)
  std::uint32_t tables[4];                   // section indices or kNone
  std::uint32_t ns_dropped;  // distinct `$NS` names beyond the 32 kept (0: none; rbldnsd warns)
  std::int64_t expires;
  std::uint64_t entry_count;
  std::uint64_t lens4;     // bit n: some ip4 prefix of length n exists
  std::uint64_t lens6[3];  // bit n (0..128): some ip6 prefix of length n exists;
                           // dnset: bit n (0..127): a wildcard base has n labels
};

struct ZoneRec {
  std::uint32_t name;      // string reference: absolute label sequence
  std::uint32_t ds_first;  // pool range of dataset indices
  std::uint32_t ds_count;
  std::uint32_t acl;  // dataset index or kNone
  std::uint32_t labels;
  std::uint32_t stamp;  // newest mtime of the zone's files (SOA serial 0 uses it)
};

}  // namespace meshbl::table::format

#endif  // MESHBL_TABLE_FORMAT_H_
