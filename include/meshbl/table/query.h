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
};

class Answer {
 public:
  static constexpr int kMaxAnswer = 255;
  static constexpr int kMaxAuthority = 33;
  static constexpr std::size_t kDataCap = 96 * 1024;

  bool drop = false;  // ACL ignore/blackhole: send nothing
  Rcode rcode = Rcode::kNoError;
  bool aa = false;
  const ZoneNode* zone = nullptr;
  bool found = false;  // the name exists (NOERROR) rather than NXDOMAIN

  int answer_count = 0;
  int authority_count = 0;
  Rr answer[kMaxAnswer];
  Rr authority[kMaxAuthority];

  std::span<const std::uint8_t> rdata(const Rr& rr) const noexcept {
    return {data_ + rr.off, rr.len};
  }
  void Reset() noexcept;
  // Appends an answer RR unless an identical one (type + rdata) is present;
  // false when the answer is full.
  bool AddAnswer(std::uint16_t type, std::uint32_t ttl,
                 std::span<const std::uint8_t> rdata) noexcept;
  bool AddAuthority(std::uint16_t type, std::uint32_t ttl,
                    std::span<const std::uint8_t> rdata) noexcept;

 private:
  bool Store(std::span<const std::uint8_t> rdata, std::uint32_t* off) noexcept;
  std::uint8_t data_[kDataCap];
  std::size_t data_len_ = 0;
};

// Answers `q` from `zones` into `out` (which is Reset first).
void Resolve(const ZoneSet& zones, const QueryOptions& options, const Query& q,
             Answer* out) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_QUERY_H_
