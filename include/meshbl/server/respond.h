// The DNS behaviour of meshbld for one packet: parse the query, answer it
// from a ZoneSet with table::Resolve() and encode the reply, following
// reference/rbldnsd.md §5 with the deliberate differences of §9 (TC=1 when a
// whole RRset does not fit, an OPT RR in every reply to an EDNS query,
// BADVERS for EDNS version > 0) and issue 3's NODATA for empty non-terminals.
//
// Respond() does no I/O, allocates nothing, throws nothing and takes no lock:
// it is the per-packet entry point of the UDP and TCP workers.
#ifndef MESHBL_SERVER_RESPOND_H_
#define MESHBL_SERVER_RESPOND_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshbl/table/query.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::server {

enum class Transport : std::uint8_t { kUdp, kTcp };

// Reply size limits. UDP without EDNS: 512. UDP with EDNS: the client's
// advertised payload size clamped to [512, kMaxUdpPayload]. TCP: 65535.
inline constexpr std::size_t kMinUdpPayload = 512;
inline constexpr std::size_t kMaxUdpPayload = 4096;
inline constexpr std::size_t kMaxTcpMessage = 65535;
// The payload size our OPT RR advertises (DNS flag day 2020 value).
inline constexpr std::uint16_t kAdvertisedUdpPayload = 1232;

// Immutable per-daemon configuration; safe to share between workers.
struct ResponderConfig {
  table::QueryOptions query;  // -a
  // CHAOS version.bind / version.server TXT: 0 answers `version_text`,
  // 1 (-v) answers "rbldnsd", 2 or more (-vv) gets REFUSED.
  int version_mode = 0;
  // Must outlive every Respond() call; at most 255 bytes are used.
  std::string_view version_text = "meshbl 0.1.0";
};

// Per-worker counters: plain integers written only by the owning worker
// (summed by the stats reader). Every query counts in `queries`, and in
// exactly one of the rcode counters or one dropped_* counter.
// rbldnsd's per-zone counters (§6 stats file `zone:tot:ok:nxd:in:out`):
// queries routed to the zone, NOERROR (NODATA included), NXDOMAIN, bytes.
struct ZoneStats {
  std::uint64_t tot = 0, ok = 0, nxd = 0, in = 0, out = 0;
};
// Zones counted one by one, by their identity (ZoneNode::id: the order in
// which the process first served each zone name, kept across reloads);
// queries for zones past this count are in the totals only.
inline constexpr int kMaxZoneStats = 32;

struct ResponderStats {
  std::uint64_t queries = 0;  // packets handed to Respond()
  std::uint64_t noerror = 0;  // NOERROR replies (incl. NODATA and CH version)
  std::uint64_t nodata = 0;   // subset of noerror with no answer RR
  std::uint64_t nxdomain = 0;
  std::uint64_t refused = 0;
  std::uint64_t servfail = 0;
  std::uint64_t notimp = 0;
  std::uint64_t formerr = 0;
  std::uint64_t badvers = 0;           // EDNS version > 0 (extended rcode 16)
  std::uint64_t dropped_short = 0;     // shorter than header + name + 4
  std::uint64_t dropped_qr = 0;        // QR=1: a response, not a query
  std::uint64_t dropped_qdcount = 0;   // QDCOUNT != 1
  std::uint64_t dropped_name = 0;      // label > 63, name > 255, pointer, past the end
  std::uint64_t dropped_acl = 0;       // ACL ignore/blackhole
  std::uint64_t dropped_no_space = 0;  // `out` cannot hold even the header + question
  std::uint64_t tc_set = 0;            // replies with TC=1
  std::uint64_t edns = 0;              // queries carrying a recognised OPT
  std::uint64_t bytes_in = 0;          // sum of query sizes (all packets)
  std::uint64_t bytes_out = 0;         // sum of reply sizes
  ZoneStats zone[kMaxZoneStats];       // per zone, by ZoneNode::id
};

enum class Verdict : std::uint8_t { kReply, kDrop };

// Answers one query packet `query` from a client at `client`, received over
// `transport` at unix time `now`. On kReply the reply is in
// out[0, *out_len); on kDrop nothing must be sent (*out_len is 0).
//
// `zones` may be nullptr (nothing loaded yet): every IN/ANY query then gets
// SERVFAIL. `scratch` is caller-owned scratch for table::Resolve (large:
// keep one per worker). `out` should hold kMaxTcpMessage bytes for TCP and
// at least kMaxUdpPayload for UDP; a smaller buffer lowers the limit (TC is
// set when RRsets are dropped for it). `stats` is bumped.
//
// noexcept, allocation-free, lock-free; callable from workers.
Verdict Respond(const table::ZoneSet* zones, const ResponderConfig& cfg,
                std::span<const std::uint8_t> query, const table::ClientAddr& client,
                Transport transport, std::int64_t now, table::Answer* scratch,
                std::span<std::uint8_t> out, std::size_t* out_len, ResponderStats* stats,
                const table::OverlaySet* overlays = nullptr) noexcept;

}  // namespace meshbl::server

#endif  // MESHBL_SERVER_RESPOND_H_
