#include "meshbl/bench/validate.h"

#include "meshbl/bench/query_set.h"
#include "meshbl/dns/name.h"

namespace meshbl::bench {

int MessageId(std::span<const std::uint8_t> msg) noexcept {
  if (msg.size() < 2) return -1;
  return msg[0] << 8 | msg[1];
}

namespace {

bool RcodeAllowed(unsigned rcode, std::uint8_t expect) noexcept {
  if (expect == kExpectAnyRcode) return true;
  if (expect == kExpectNoErrorOrNxDomain) return rcode == 0 || rcode == 3;
  return rcode == expect;
}

}  // namespace

ReplyVerdict CheckReply(std::span<const std::uint8_t> reply, std::span<const std::uint8_t> query,
                        std::uint8_t expect_rcode) noexcept {
  constexpr std::size_t kHeader = 12;
  if (reply.size() < kHeader || query.size() < kHeader + 5) return ReplyVerdict::kMalformed;
  if ((reply[2] & 0x80) == 0) return ReplyVerdict::kMalformed;               // QR
  if (((reply[2] ^ query[2]) & 0x78) != 0) return ReplyVerdict::kMalformed;  // opcode
  if (!RcodeAllowed(reply[3] & 0x0fu, expect_rcode)) return ReplyVerdict::kWrongRcode;
  if (reply[4] != 0 || reply[5] != 1) return ReplyVerdict::kWrongQuestion;
  // The question is echoed uncompressed: same length, the name equal up to
  // ASCII case (length bytes are < 64, so lowercasing leaves them alone),
  // type and class exact.
  const std::size_t qlen = query.size() - kHeader;
  if (reply.size() - kHeader < qlen) return ReplyVerdict::kWrongQuestion;
  for (std::size_t i = kHeader; i < query.size() - 4; ++i) {
    if (dns::ToLowerAscii(reply[i]) != dns::ToLowerAscii(query[i])) {
      return ReplyVerdict::kWrongQuestion;
    }
  }
  for (std::size_t i = query.size() - 4; i < query.size(); ++i) {
    if (reply[i] != query[i]) return ReplyVerdict::kWrongQuestion;
  }
  return ReplyVerdict::kOk;
}

}  // namespace meshbl::bench
