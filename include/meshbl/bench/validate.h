// Checking one reply against the query it answers (the ID has already
// matched): the harness counts every failure so that a wrong answer never
// counts as a fast one. No allocation; safe per packet.
#ifndef MESHBL_BENCH_VALIDATE_H_
#define MESHBL_BENCH_VALIDATE_H_

#include <cstdint>
#include <span>

namespace meshbl::bench {

enum class ReplyVerdict : std::uint8_t {
  kOk,
  kMalformed,      // shorter than a header, or QR clear, or opcode changed
  kWrongQuestion,  // QDCOUNT != 1 or the question differs (name compared case-insensitively)
  kWrongRcode,     // RCODE not what the query's expectation allows
};

// The 16-bit ID of a message; -1 when shorter than 2 bytes.
int MessageId(std::span<const std::uint8_t> msg) noexcept;

// Validates `reply` against `query` (the packet as sent, same ID) and
// `expect_rcode` (0..15, kExpectNoErrorOrNxDomain or kExpectAnyRcode).
ReplyVerdict CheckReply(std::span<const std::uint8_t> reply, std::span<const std::uint8_t> query,
                        std::uint8_t expect_rcode) noexcept;

}  // namespace meshbl::bench

#endif  // MESHBL_BENCH_VALIDATE_H_
