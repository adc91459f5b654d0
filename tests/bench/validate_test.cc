#include "meshbl/bench/validate.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/bench/query_set.h"
#include "meshbl/bench/reflector.h"
#include "meshbl/dns/name.h"

namespace meshbl::bench {
namespace {

std::vector<std::uint8_t> Query(const std::string& name, std::uint16_t qtype) {
  QuerySet set;
  std::string labels;
  EXPECT_TRUE(dns::ParseName(name, &labels));
  set.Add({reinterpret_cast<const std::uint8_t*>(labels.data()), labels.size()}, qtype);
  auto p = set.packet(0);
  return {p.begin(), p.end()};
}

// A reply as a server would build it: the query with QR set, RCODE, and an
// answer appended.
std::vector<std::uint8_t> Reply(std::vector<std::uint8_t> q, unsigned rcode) {
  q[2] |= 0x84;
  q[3] = static_cast<std::uint8_t>(rcode);
  q.insert(q.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2});
  q[7] = 1;
  return q;
}

TEST(CheckReply, AcceptsTheEchoedQuestionWithTheExpectedRcode) {
  auto q = Query("2.0.0.127.bl.test", 1);
  EXPECT_EQ(CheckReply(Reply(q, 0), q, 0), ReplyVerdict::kOk);
  EXPECT_EQ(CheckReply(Reply(q, 3), q, 3), ReplyVerdict::kOk);
  EXPECT_EQ(CheckReply(Reply(q, 0), q, kExpectNoErrorOrNxDomain), ReplyVerdict::kOk);
  EXPECT_EQ(CheckReply(Reply(q, 3), q, kExpectNoErrorOrNxDomain), ReplyVerdict::kOk);
  EXPECT_EQ(CheckReply(Reply(q, 5), q, kExpectAnyRcode), ReplyVerdict::kOk);
}

TEST(CheckReply, QuestionNameComparesIgnoringCase) {
  auto q = Query("Host.Example.bl.test", 16);
  auto r = Reply(q, 0);
  for (std::size_t i = 12; i < q.size() - 4; ++i) {
    if (r[i] >= 'a' && r[i] <= 'z') r[i] = static_cast<std::uint8_t>(r[i] - 32);
  }
  EXPECT_EQ(CheckReply(r, q, 0), ReplyVerdict::kOk);
}

TEST(CheckReply, WrongRcodeIsCaught) {
  auto q = Query("2.0.0.127.bl.test", 1);
  EXPECT_EQ(CheckReply(Reply(q, 3), q, 0), ReplyVerdict::kWrongRcode);
  EXPECT_EQ(CheckReply(Reply(q, 2), q, kExpectNoErrorOrNxDomain), ReplyVerdict::kWrongRcode);
  EXPECT_EQ(CheckReply(Reply(q, 0), q, 5), ReplyVerdict::kWrongRcode);
}

TEST(CheckReply, WrongQuestionIsCaught) {
  auto q = Query("2.0.0.127.bl.test", 1);
  auto other_name = Reply(Query("3.0.0.127.bl.test", 1), 0);
  EXPECT_EQ(CheckReply(other_name, q, 0), ReplyVerdict::kWrongQuestion);
  auto other_type = Reply(Query("2.0.0.127.bl.test", 16), 0);
  EXPECT_EQ(CheckReply(other_type, q, 0), ReplyVerdict::kWrongQuestion);
  auto no_question = Reply(q, 0);
  no_question[5] = 0;  // QDCOUNT 0
  EXPECT_EQ(CheckReply(no_question, q, 0), ReplyVerdict::kWrongQuestion);
  auto cut = Reply(q, 0);
  cut.resize(q.size() - 2);  // the question runs past the end
  EXPECT_EQ(CheckReply(cut, q, 0), ReplyVerdict::kWrongQuestion);
}

TEST(CheckReply, MalformedRepliesAreCaught) {
  auto q = Query("2.0.0.127.bl.test", 1);
  EXPECT_EQ(CheckReply(std::vector<std::uint8_t>(11, 0), q, 0), ReplyVerdict::kMalformed);
  EXPECT_EQ(CheckReply(q, q, 0), ReplyVerdict::kMalformed);  // QR clear: our own query
  auto notify = Reply(q, 0);
  notify[2] |= 4 << 3;  // opcode NOTIFY
  EXPECT_EQ(CheckReply(notify, q, 0), ReplyVerdict::kMalformed);
}

TEST(CheckReply, ReflectorRepliesAreValid) {
  for (int t : {1, 16, 28}) {
    auto q = Query("x.bl.test", static_cast<std::uint16_t>(t));
    std::vector<std::uint8_t> buf(512);
    std::copy(q.begin(), q.end(), buf.begin());
    const std::size_t n = ReflectReply(buf, q.size());
    ASSERT_GT(n, q.size() - 1);
    buf.resize(n);
    EXPECT_EQ(CheckReply(buf, q, 0), ReplyVerdict::kOk) << t;
    EXPECT_EQ(buf[7], t == 28 ? 0 : 1) << "ANCOUNT";
  }
}

TEST(ReflectReply, DropsWhatIsNotAQuery) {
  auto q = Query("x.bl.test", 1);
  std::vector<std::uint8_t> buf(512);
  std::copy(q.begin(), q.end(), buf.begin());
  EXPECT_EQ(ReflectReply(buf, 11), 0u);            // short
  EXPECT_EQ(ReflectReply(buf, q.size() - 1), 0u);  // question cut
  buf[2] |= 0x80;                                  // a response
  EXPECT_EQ(ReflectReply(buf, q.size()), 0u);
  buf[2] = 0;
  buf[12] = 70;  // label too long
  EXPECT_EQ(ReflectReply(buf, q.size()), 0u);
}

TEST(MessageId, ReadsTheFirstTwoBytes) {
  const std::uint8_t m[] = {0x12, 0x34, 0};
  EXPECT_EQ(MessageId(m), 0x1234);
  EXPECT_EQ(MessageId(std::span<const std::uint8_t>(m, 1)), -1);
}

}  // namespace
}  // namespace meshbl::bench
