// Resolving one question against a ZoneSet: zone routing, ACLs, apex SOA/NS,
// every dataset of the zone, TXT expansion and the positive/negative answer
// rules of reference/rbldnsd.md §5 (steps 1, 7-12). The wire encoding (header
// flags, compression, truncation, EDNS) belongs to the dns/server layers;
// this produces the RRsets they encode and `meshbl lookup` prints.
//
// Resolve() is noexcept, allocates nothing and takes no lock: the Answer is
// caller-owned and reused across queries.
#ifndef MESHBL_TABLE_QUERY_H_
#define MESHBL_TABLE_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "meshbl/table/zone_set.h"

namespace meshbl::table {

enum class Rcode : std::uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

// The client's address, for ACLs and "always listed" TXT `$`.
struct ClientAddr {
  std::uint8_t family = 0;  // 0 = unknown, 4 or 6
  std::uint32_t v4 = 0;
  std::uint64_t hi = 0, lo = 0;
};

struct QueryOptions {
  bool lazy = false;  // -a: no NS in AUTHORITY of positive answers
};

struct Query {
  std::span<const std::uint8_t> qname;  // label sequence, lowercased, no root label
  std::uint16_t qtype = kTypeA;
  bool class_any = false;  // QCLASS ANY: answered, but without AA
  ClientAddr client;
  std::int64_t now = 0;  // unix seconds, for $TIMESTAMP expiry
};

struct Rr {
  std::uint16_t type;
  std::uint32_t ttl;
  std::uint32_t off;  // rdata offset in Answer::data
  std::uint16_t len;
  // ADDITIONAL only: the owner name (label sequence) in Answer::data. Answer
  // RRs are owned by the question name, AUTHORITY RRs by the zone apex.
  std::uint32_t owner_off = 0;
  std::uint16_t owner_len = 0;
};

class Answer {
 public:
  static constexpr int kMaxAnswer = 255;
  static constexpr int kMaxAuthority = 33;
  static constexpr int kMaxAdditional = 254;  // glue; one more AR slot for the OPT RR
  static constexpr std::size_t kDataCap = 96 * 1024;

  bool drop = false;  // ACL ignore/blackhole: send nothing
  Rcode rcode = Rcode::kNoError;
  bool aa = false;
  const ZoneNode* zone = nullptr;
  bool found = false;  // the name exists (NOERROR) rather than NXDOMAIN
  // NODATA only because the name is an empty non-terminal: a proper parent of
  // names the zone can answer (issue 3, RFC 8020; rbldnsd says NXDOMAIN).
  bool empty_non_terminal = false;

  int answer_count = 0;
  int authority_count = 0;
  int additional_count = 0;  // glue A RRs, only together with the AUTHORITY NS set
  Rr answer[kMaxAnswer];
  Rr authority[kMaxAuthority];
  Rr additional[kMaxAdditional];

  std::span<const std::uint8_t> rdata(const Rr& rr) const noexcept {
    return {data_ + rr.off, rr.len};
  }
  std::span<const std::uint8_t> owner(const Rr& rr) const noexcept {
    return {data_ + rr.owner_off, rr.owner_len};
  }
  void Reset() noexcept;
  // Appends an answer RR unless an identical one (type + rdata) is present;
  // false when the answer is full.
  bool AddAnswer(std::uint16_t type, std::uint32_t ttl,
                 std::span<const std::uint8_t> rdata) noexcept;
  bool AddAuthority(std::uint16_t type, std::uint32_t ttl,
                    std::span<const std::uint8_t> rdata) noexcept;
  // Appends an ADDITIONAL RR owned by `owner` (a label sequence).
  bool AddAdditional(std::span<const std::uint8_t> owner, std::uint16_t type, std::uint32_t ttl,
                     std::span<const std::uint8_t> rdata) noexcept;

 private:
  bool Store(std::span<const std::uint8_t> rdata, std::uint32_t* off) noexcept;
  std::uint8_t data_[kDataCap];
  std::size_t data_len_ = 0;
};

// Answers `q` from `zones` into `out` (which is Reset first). Beyond
// rbldnsd, a name that does not exist but is a proper parent of names the
// zone can answer (1-3 decimal labels or 1-31 nibble labels in a zone with IP
// datasets, parents of dnset/generic names and of sub-zones or served zones)
// is NODATA with the SOA, not NXDOMAIN (issue 3; rbldnsd issue #17).
void Resolve(const ZoneSet& zones, const QueryOptions& options, const Query& q,
             Answer* out) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_QUERY_H_
