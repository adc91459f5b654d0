// Byte encodings of the live-list vocabulary (entry.h) for the live store
// (store.h): record codecs for Listing, WhitelistEntry and TrapHit, and an
// order-preserving key encoding for Subject.
//
// Records start with a version byte (kRecordVersion); decoders refuse an
// unknown version, truncated or trailing bytes, an unknown enum value and a
// subject that Subject::Parse would refuse, with an error naming the record
// kind, the field and the byte offset. Integers are big-endian, strings are a
// LEB128 length followed by the bytes (any byte value, up to 16 MiB).
//
// Subject keys sort IPv4 before IPv6 before names; IP subjects by network,
// then prefix length (192.0.2.0/24 < 192.0.2.0/32 < 192.0.2.1); names by their
// labels from the top (com < example.com < a.example.com < example.net), the
// exact name before its wildcard. So every subject at or below a name is one
// key range: SubjectKeyPrefixBelow().
#ifndef MESHBL_FEED_CODEC_H_
#define MESHBL_FEED_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshbl/feed/entry.h"

namespace meshbl::feed {

inline constexpr std::uint8_t kRecordVersion = 1;
// The longest string field a record may carry.
inline constexpr std::size_t kMaxRecordString = 16u << 20;

std::string EncodeListing(const Listing& l);
absl::StatusOr<Listing> DecodeListing(std::string_view bytes);

std::string EncodeWhitelistEntry(const WhitelistEntry& w);
absl::StatusOr<WhitelistEntry> DecodeWhitelistEntry(std::string_view bytes);

std::string EncodeTrapHit(const TrapHit& h);
absl::StatusOr<TrapHit> DecodeTrapHit(std::string_view bytes);

// Subject keys: 0x01 + 4 address bytes + length (IPv4), 0x02 + 16 bytes +
// length (IPv6), 0x03 + each label from the top followed by 0x00, then 0x00
// (the name) or 0x01 (the wildcard). At most 258 bytes.
std::string EncodeSubjectKey(const Subject& s);
absl::StatusOr<Subject> DecodeSubjectKey(std::string_view key);
// The key prefix shared by the name `name` (lowercase, no trailing dot), its
// wildcard, and every name below it with their wildcards.
std::string SubjectKeyPrefixBelow(std::string_view name);

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_CODEC_H_
