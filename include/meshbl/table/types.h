// Vocabulary shared by the snapshot builder, the on-disk format and lookups.
#ifndef MESHBL_TABLE_TYPES_H_
#define MESHBL_TABLE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meshbl/dns/types.h"

namespace meshbl::table {

// rbldnsd dataset types (reference/rbldnsd.md §4). The numeric values are part
// of the snapshot format: never renumber.
enum class DatasetType : std::uint32_t {
  kIp4Set = 1,
  kIp4TSet = 2,
  kIp4Trie = 3,
  kIp6Trie = 4,
  kIp6TSet = 5,
  kDnSet = 6,
  kGeneric = 7,
  kCombined = 8,
  kAcl = 9,
};

// "ip4set" etc.; nullopt for an unknown name.
std::optional<DatasetType> DatasetTypeFromName(std::string_view name);
std::string_view DatasetTypeName(DatasetType type);

// The A + TXT value of a listing (reference §3), resolved at load time: the
// scope default has already been applied. `a` is in host byte order
// (127.0.0.2 == 0x7f000002) and never 0. `txt` is the raw TXT template
// (at most 255 bytes); nullopt means "no TXT record".
struct Value {
  std::uint32_t a = 0x7f000002;
  std::optional<std::string> txt;
  friend bool operator==(const Value&, const Value&) = default;
};

// What an ACL entry does with a query from a matching client (§4.9).
// Numeric values are part of the snapshot format.
enum class AclAction : std::uint32_t {
  kIgnore = 0,
  kRefuse = 1,
  kEmpty = 2,
  kPass = 3,
  kAlways = 4,  // "always listed" with the entry's Value
};

// RR types the data engine stores or answers (defined in dns/types.h).
using dns::kTypeA;
using dns::kTypeAaaa;
using dns::kTypeAny;
using dns::kTypeMx;
using dns::kTypeNs;
using dns::kTypeSoa;
using dns::kTypeTxt;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_TYPES_H_
