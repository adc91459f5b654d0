// Writing the served zones as one BIND master-format stream: `meshbld -d`
// (rbldnsd's -d) and `meshbl dump`.
//
// The layout is rbldnsd's: for each zone, most specific first, a `$ORIGIN`
// line, the apex SOA and NS records, then every dataset after its own `$TTL`
// line. IPv4 blocks become wildcards at octet boundaries (10.0.0.0/8 is
// `*.10`), IPv6 blocks at nibble boundaries, excluded entries `CNAME
// excluded`, combined sub-zones get their own `$ORIGIN`, ACL datasets are
// left out.
//
// Unlike rbldnsd's dump, the stream means in DNS (RFC 1034 §4.3.3, RFC 4592
// wildcards) what the data means under rbldnsd's rules, wherever a master
// file can say it (docs/meshbld.8.md, "-d"):
//   * a block that does not end on an octet (nibble) boundary is split into
//     the blocks of the next boundary; where such pieces overlap, the longer
//     original prefix wins, as it does in a lookup;
//   * a wildcard does not reach below a name that exists (RFC 4592 §2.2), so
//     where a more specific entry sits inside a listed block or under a listed
//     dnset wildcard, the block's records are repeated as a wildcard at each
//     name in between (and, for dnset, at those names themselves);
//   * `$` in a TXT template becomes the block's first address or the dnset
//     entry's name: a master file cannot substitute the queried address, so
//     wildcard TXT records differ from the served ones there.
// What no master file can say: names that are not addresses also match IP
// wildcards; $TIMESTAMP expiry; ACLs; entries of different datasets of one
// zone that nest inside each other are fixed up per dataset only.
#ifndef MESHBL_TABLE_DUMP_H_
#define MESHBL_TABLE_DUMP_H_

#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::table {

struct DumpOptions {
  std::int64_t now = 0;       // unix seconds, for the "zone dump made" comment
  std::string_view producer;  // e.g. "meshbld 0.4", for the header comment
};

// Writes every zone of `zones` to `sink`, in pieces of up to about 64 KiB.
void DumpZones(const ZoneSet& zones, const DumpOptions& options,
               absl::FunctionRef<void(std::string_view)> sink);

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_DUMP_H_
