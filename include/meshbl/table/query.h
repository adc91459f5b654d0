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

#include "meshbl/dns/types.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::table {

struct OverlaySet;  // live.h

using Rcode = dns::Rcode;  // dns/types.h

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
  // The live lists' tables current for this batch (swap.h), or nullptr:
  // zones that serve live lists then answer from their snapshot data only.
  const OverlaySet* overlays = nullptr;
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

// The largest DNS message: over TCP (RFC 1035 §4.2.2) and the most an EDNS
// requester can ask for.
inline constexpr std::size_t kMaxMessage = 65535;

// The RRs of one resolved question: per-worker scratch, reused for every
// query, never allocating. It holds every RR a 65535-byte message could
// carry, so no RRset is cut here below what the message can hold; an RRset
// that still does not fit (more RRs or rdata than any message can carry) is
// recorded in overflowed() and the encoder never sends it partially (TC).
class Answer {
 public:
  // Every RR takes at least 12 bytes (compressed owner, type, class, TTL,
  // RDLENGTH) after the 12-byte header and a question of at least 5 bytes.
  static constexpr int kMaxAnswer = static_cast<int>((kMaxMessage - 12 - 5) / 12) + 1;
  static constexpr int kMaxAuthority = 33;
  static constexpr int kMaxAdditional = 254;  // glue; one more AR slot for the OPT RR
  // Answer rdata up to a whole message (NS/SOA names at the apex are stored
  // uncompressed: 33 of up to 255 bytes), plus AUTHORITY SOA/NS and glue
  // (owner + A) at their limits.
  static constexpr std::size_t kDataCap =
      kMaxMessage + 33 * 530 + kMaxAuthority * 530 + kMaxAdditional * (255 + 4);
  static constexpr int kMaxOverflowTypes = 8;

  Answer() noexcept;

  bool drop = false;  // ACL ignore/blackhole: send nothing
  Rcode rcode = Rcode::kNoError;
  bool aa = false;
  const ZoneNode* zone = nullptr;
  bool found = false;  // the name exists (NOERROR) rather than NXDOMAIN
  // NODATA only because the name is an empty non-terminal: a proper parent of
  // names the zone lists (issue 3, RFC 8020; rbldnsd says NXDOMAIN).
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
  // True when an answer RR of `type` could not be stored: that RRset is
  // incomplete here and must not be sent (RFC 2181 §9).
  bool overflowed(std::uint16_t type) const noexcept;
  bool any_overflow() const noexcept { return overflow_count_ > 0; }

  void Reset() noexcept;
  // Appends an answer RR unless an identical one (type + rdata) is present
  // (then the lower TTL is kept); false, and the type marked overflowed,
  // when the answer is full. Duplicates are found in O(1) through a
  // generation-stamped index once the answer holds more than a few RRs.
  bool AddAnswer(std::uint16_t type, std::uint32_t ttl,
                 std::span<const std::uint8_t> rdata) noexcept;
  bool AddAuthority(std::uint16_t type, std::uint32_t ttl,
                    std::span<const std::uint8_t> rdata) noexcept;
  // Appends an ADDITIONAL RR owned by `owner` (a label sequence).
  bool AddAdditional(std::span<const std::uint8_t> owner, std::uint16_t type, std::uint32_t ttl,
                     std::span<const std::uint8_t> rdata) noexcept;

 private:
  // Below this many answer RRs duplicates are found by a linear scan.
  static constexpr int kLinearDedup = 16;
  static constexpr std::size_t kDedupSlots = 8192;  // power of two, > 1.5 * kMaxAnswer
  static_assert(kDedupSlots > static_cast<std::size_t>(kMaxAnswer) * 3 / 2);
  struct DedupSlot {
    std::uint32_t gen;
    std::uint32_t index;
  };

  bool Store(std::span<const std::uint8_t> rdata, std::uint32_t* off) noexcept;
  bool SameRr(const Rr& r, std::uint16_t type, std::span<const std::uint8_t> rdata) const noexcept;
  std::size_t DedupStart(std::uint16_t type, std::span<const std::uint8_t> rdata) const noexcept;
  void DedupInsert(int index) noexcept;
  void MarkOverflow(std::uint16_t type) noexcept;

  std::uint16_t overflow_types_[kMaxOverflowTypes];
  int overflow_count_ = 0;
  std::uint32_t dedup_gen_ = 1;
  bool dedup_indexed_ = false;
  DedupSlot dedup_[kDedupSlots];
  std::uint8_t data_[kDataCap];
  std::size_t data_len_ = 0;
};

// Answers `q` from `zones` into `out` (which is Reset first). Beyond
// rbldnsd, a name that does not exist but is a proper parent of names the
// zone lists for this client (an IPv4 or IPv6 prefix under which an address
// is listed, a parent of dnset/generic names, of sub-zones or of served
// zones) is NODATA with the SOA, not NXDOMAIN (issues 3 and 9; rbldnsd issue
// #17). Under an ACL `empty` action the IP and dnset data is hidden and makes
// no name exist; under `always` every IP prefix has listed names below.
void Resolve(const ZoneSet& zones, const QueryOptions& options, const Query& q,
             Answer* out) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_QUERY_H_
