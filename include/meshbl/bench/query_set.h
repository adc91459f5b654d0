// The queries a load run sends: pre-built DNS query packets (ID 0, patched
// per send) with what a correct server must answer to each, so that a server
// that answers fast but wrongly does not win.
//
// A set comes from a dnsperf-format file (`name type` per line) or is
// generated from the data being served (zone specs or snapshots): listed
// entries drawn from the dataset tables at a chosen hit ratio, plus random
// names, over an IPv4/IPv6/domain mix and a qtype mix. Expected RCODEs come
// from the same resolver the server runs (table::Resolve).
#ifndef MESHBL_BENCH_QUERY_SET_H_
#define MESHBL_BENCH_QUERY_SET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::bench {

// QueryInfo::expect_rcode beyond the RCODE values 0..15.
inline constexpr std::uint8_t kExpectNoErrorOrNxDomain = 0xfe;  // the default for file queries
inline constexpr std::uint8_t kExpectAnyRcode = 0xff;

enum class QueryKind : std::uint8_t { kOther = 0, kIp4 = 1, kIp6 = 2, kName = 3 };

struct QueryInfo {
  std::uint32_t offset = 0;  // of the packet in the set's buffer
  std::uint16_t size = 0;    // packet bytes: 12-byte header + question
  std::uint16_t qtype = 0;
  std::uint8_t expect_rcode = kExpectNoErrorOrNxDomain;
  QueryKind kind = QueryKind::kOther;
  bool listed = false;  // the data lists the name (NOERROR, it exists; from --data only)
};

class QuerySet {
 public:
  // Maximum queries in one set (IDs are per send, so this only bounds memory).
  static constexpr std::size_t kMaxQueries = 10'000'000;

  // Appends a QUERY for `labels` (a label sequence without the root label),
  // class IN, RD clear. False when the name is too long or the set is full.
  bool Add(std::span<const std::uint8_t> labels, std::uint16_t qtype,
           QueryKind kind = QueryKind::kOther);

  std::size_t size() const noexcept { return info_.size(); }
  bool empty() const noexcept { return info_.empty(); }
  std::span<const std::uint8_t> packet(std::size_t i) const noexcept {
    return {bytes_.data() + info_[i].offset, info_[i].size};
  }
  const QueryInfo& info(std::size_t i) const noexcept { return info_[i]; }
  QueryInfo& mutable_info(std::size_t i) noexcept { return info_[i]; }
  std::size_t listed_count() const noexcept;

  // Reorders the set into runs of up to `run` queries of equal packet size,
  // the runs in random (seeded) order, so that a UDP GSO send can carry a
  // whole run in one segment train. The multiset of queries is unchanged.
  void GroupBySize(std::size_t run, std::uint64_t seed);

 private:
  std::vector<std::uint8_t> bytes_;
  std::vector<QueryInfo> info_;
};

// Parses dnsperf's query-file format: `name type` per line (type A, NS,
// TXT, TYPE99, ...; a missing type means A), blank lines and lines starting
// with ';' or '#' skipped. Errors read "name:line: reason".
absl::StatusOr<QuerySet> ParseQueryText(std::string_view text, std::string_view name);
absl::StatusOr<QuerySet> ReadQueryFile(const std::string& path);

struct GenerateOptions {
  std::size_t count = 100'000;  // distinct queries in the set (sent round-robin)
  double hit_ratio = 0.5;       // share drawn from listed entries, the rest random
  // Weights of IPv4, IPv6 and domain-name queries. A negative weight means
  // "1 if the data has a dataset of that kind, else 0"; a positive weight for
  // a kind the data lacks is an error.
  double ip4 = -1, ip6 = -1, name = -1;
  std::vector<std::pair<std::uint16_t, double>> qtypes = {{1, 1.0}, {16, 1.0}};  // A, TXT
  std::uint64_t seed = 1;
};

// Draws queries from the ip4set/ip4tset/ip4trie, ip6trie/ip6tset and dnset
// datasets of `zones`, then sets every expectation with ExpectFromData.
absl::StatusOr<QuerySet> GenerateQueries(const table::ZoneSet& zones,
                                         const GenerateOptions& options);

// Sets each query's expected RCODE and `listed` from the answer `zones` gives
// a client at 127.0.0.1 now. A query the data would drop (ACL ignore) accepts
// any RCODE.
void ExpectFromData(const table::ZoneSet& zones, QuerySet* set);
// Overrides every expectation (e.g. NOERROR for the reflector).
void ExpectRcode(std::uint8_t expect, QuerySet* set);

// "A", "TXT", "TYPE65", ... <-> numbers. ParseQtype is case-insensitive.
bool ParseQtype(std::string_view text, std::uint16_t* out);
std::string QtypeName(std::uint16_t qtype);
// "NOERROR", ..., "any", "NOERROR|NXDOMAIN" <-> expect_rcode values.
bool ParseExpectRcode(std::string_view text, std::uint8_t* out);
std::string RcodeName(unsigned rcode);

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_QUERY_SET_H_
