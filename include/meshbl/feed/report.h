// Trap hits from anything that is not a Postfix policy client (Exim,
// scripts, other trap handlers): `meshbl report` lines and ARF reports
// (RFC 5965), both turned into feed::TrapHit. Parsing only; the `meshbl
// report` tool prints the hits as lines, which the control socket takes
// as they are.
//
// Report lines, one hit per line ('#' starts a comment line; blank lines
// are ignored; "\r\n" line ends are accepted):
//
//   hit CLIENT_IP TRAP [helo=H] [from=S] [id=KEY] [time=UNIX] [via=V]
//
//   CLIENT_IP  the SMTP client (IPv4 or IPv6)
//   TRAP       the trap address (lowercased and hashed at once), or
//              sha256:HEX, its HashTrapAddress() as 64 hex digits (what
//              FormatReportLine writes: the address never leaves the parser)
//   helo=      the HELO/EHLO name          from=  the envelope sender ("" = <>)
//   id=        the message key (Message-ID, queue id): one message to many
//              traps counts once; default "CLIENT_IP SENDER TIME"
//   time=      Unix seconds of the hit; default: now
//   via=       how it was received: report (default) or arf
// Each field at most once, in any order after TRAP. Values are written
// with DNS master-file escapes (RFC 1035 5.1): "\DDD" (3 decimal digits)
// for a byte, "\X" for a character X; FormatReportLine escapes every byte
// outside '!'..'~', '\' and '"', so a value may hold any byte.
#ifndef MESHBL_FEED_REPORT_H_
#define MESHBL_FEED_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/dns/address.h"
#include "meshbl/feed/entry.h"

namespace meshbl::feed {

inline constexpr std::size_t kMaxReportLine = 4096;      // bytes
inline constexpr std::size_t kMaxReportValue = 1024;     // bytes of one unescaped value
inline constexpr std::size_t kMaxArfMessage = 16 << 20;  // bytes of one ARF message
inline constexpr std::size_t kMaxArfRecipients = 100;    // Original-Rcpt-To fields

// The message key when the reporter gave none: "CLIENT SENDER TIME".
std::string FallbackMessageKey(const dns::IpAddress& client, std::string_view sender,
                               std::int64_t time);

// Parses one report line (no line end). `now` fills a missing time=.
// Errors say what is wrong ("unknown field 'foo='", "bad trap address
// 'x': no '@'").
absl::StatusOr<TrapHit> ParseReportLine(std::string_view line, std::int64_t now);
// Every hit of a text of report lines; the first error names the line
// ("NAME:LINE: ..."); nothing is returned when any line is bad.
absl::StatusOr<std::vector<TrapHit>> ParseReportLines(std::string_view text, std::string_view name,
                                                      std::int64_t now);
// The line for `hit` (the trap as sha256:HEX, every field written, no line
// end): ParseReportLine(FormatReportLine(h)) == h.
std::string FormatReportLine(const TrapHit& hit);

// Parses one ARF report (RFC 5965): a multipart/report message with
// report-type=feedback-report whose second part (message/feedback-report)
// names Source-IP (required here: the source to list), Original-Rcpt-To
// (required here: the trap; each such field is one hit), Original-Mail-From
// and Arrival-Date (RFC 5322 date; `now` when absent), and whose optional
// third part (message/rfc822 or text/rfc822-headers) gives the Message-ID
// used as the message key (else Original-Envelope-Id, else the fallback).
// Headers may be folded, lines may end in CRLF or LF, parts may be
// base64 or quoted-printable encoded. Errors name what is missing or
// malformed ("no part of type message/feedback-report",
// "feedback report: Source-IP 'x' is not an IP address"). Hits have
// via="arf".
absl::StatusOr<std::vector<TrapHit>> ParseArfReport(std::string_view message, std::int64_t now);

// An RFC 5322 date-time ("Thu, 8 Mar 2005 17:40:36 -0500", obsolete zone
// names and a missing day name or seconds accepted) as Unix seconds; a date
// before 1970 is an error (hit times are never negative).
absl::StatusOr<std::int64_t> ParseRfc5322Date(std::string_view text);

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_REPORT_H_
