// The vocabulary of live lists (issue 11), shared by the store, the listing
// rules, trap ingestion, the control socket and (later) the mesh: what a
// listing is about (Subject), a listing with its provenance (Listing), a
// whitelist entry, and one trap hit. Plain values; no I/O.
//
// Times are Unix seconds (int64). A listing's `expires` of 0 means it never
// expires (operator listings may be permanent; rule listings always expire).
#ifndef MESHBL_FEED_ENTRY_H_
#define MESHBL_FEED_ENTRY_H_

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshbl/dns/address.h"

namespace meshbl::feed {

// An IPv4 or IPv6 network (host bits zero; /32 or /128 is one address) or a
// domain name. Text forms, as in rbldnsd's ip4trie/ip6trie/dnset files:
//   192.0.2.7   192.0.2.0/24   2001:db8::1   2001:db8::/32
//   example.com        the name itself
//   .example.com       the name and every name below it (dnset's wildcard)
// Names are lowercased, without a trailing dot.
struct Subject {
  enum class Kind : std::uint8_t { kIp = 1, kName = 2 };
  Kind kind = Kind::kIp;
  dns::IpAddress addr;    // kIp: the network, host bits zero
  std::uint8_t len = 0;   // kIp: prefix length
  std::string name;       // kName: "example.com" (never empty)
  bool wildcard = false;  // kName: also every name below

  // Parses the text form; a clear error naming what is wrong otherwise
  // ("192.0.2.1/33: prefix length above 32", "192.0.2.1/24: host bits set").
  static absl::StatusOr<Subject> Parse(std::string_view text);
  static Subject Ip(const dns::IpAddress& a, std::size_t len);  // masks host bits
  // The canonical text form (Parse(ToString()) == *this). A single address
  // prints without "/32" or "/128".
  std::string ToString() const;
  // True when this subject covers `other` (a network containing it, or a
  // wildcard name above it; every subject covers itself).
  bool Covers(const Subject& other) const;

  friend bool operator==(const Subject&, const Subject&) = default;
};

// Who made a listing or a whitelist entry.
enum class Origin : std::uint8_t {
  kRule = 1,      // a listing rule fired on trap hits (origin_id: the live list's rule)
  kOperator = 2,  // meshbl ctl add / whitelist add (origin_id: "uid N" of the peer)
  kLoad = 3,      // meshbl ctl load FILE (origin_id: the file name)
  kPeer = 4,      // a mesh peer's advisory (origin_id: the peer's key id) -- the mesh issue
};
std::string_view OriginName(Origin o);  // "rule", "operator", "load", "peer"

// One listing of a live list.
struct Listing {
  Subject subject;
  std::uint8_t code = 2;  // answered as A 127.0.0.<code>
  std::string reason;     // TXT text; "$" is replaced as in rbldnsd
  Origin origin = Origin::kOperator;
  std::string origin_id;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t expires = 0;    // 0 = never
  std::uint32_t offenses = 1;  // how many times this subject has been listed (escalation)

  friend bool operator==(const Listing&, const Listing&) = default;
};

// A whitelist entry: subjects it covers are never listed and never answered.
struct WhitelistEntry {
  Subject subject;
  std::string reason;
  Origin origin = Origin::kOperator;
  std::string origin_id;
  std::int64_t added = 0;

  friend bool operator==(const WhitelistEntry&, const WhitelistEntry&) = default;
};

// A trap address is never stored: only its hash (SHA-256 of the lowercased
// address, via libsodium's crypto_hash_sha256).
using TrapHash = std::array<std::uint8_t, 32>;
TrapHash HashTrapAddress(std::string_view address);  // lowercases first

// One message seen at a spamtrap.
struct TrapHit {
  dns::IpAddress client;  // the connecting SMTP client
  std::string helo;
  std::string sender;       // envelope sender, may be empty (<>)
  TrapHash trap{};          // the trap recipient, hashed
  std::string message_key;  // identifies the message (Postfix queue id, Message-ID,
                            // or client+sender+time): one message to many traps counts once
  std::int64_t time = 0;
  std::string via;  // "policy", "report", "arf"
};

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_ENTRY_H_
