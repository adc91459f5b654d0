// The recvmmsg/sendmmsg UDP backend (the fallback when io_uring is
// unusable, and what kMmsg forces): answers, SERVFAIL before data and
// pick-up after a publish, MSG_TRUNC drops, stop/restart, two addresses, and
// bursts larger than one batch.
#include "gtest/gtest.h"
#include "tests/server/udp_cases.h"

namespace meshbl::server::testing {
namespace {

TEST(MmsgUdp, AnswersListedAndUnlisted) { ExpectAnswers(UdpBackend::kMmsg); }

TEST(MmsgUdp, ServfailUntilPublishedThenAnswers) { ExpectPicksUpPublishedData(UdpBackend::kMmsg); }

TEST(MmsgUdp, OversizedDatagramDroppedAndCounted) { ExpectTruncatedDropped(UdpBackend::kMmsg); }

TEST(MmsgUdp, StopJoinsAndRestarts) { ExpectStopAndRestart(UdpBackend::kMmsg); }

TEST(MmsgUdp, ServesEveryListenAddress) { ExpectTwoAddresses(UdpBackend::kMmsg); }

TEST(MmsgUdp, BurstLargerThanABatchIsAnswered) {
  ServerConfig config = LoopbackConfig(UdpBackend::kMmsg, 1);
  config.batch = 8;
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  UdpClient c(r->port);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(c.Send(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(i))));
  }
  int got = 0;
  while (got < 40 && c.Receive() != nullptr) ++got;
  EXPECT_EQ(got, 40);  // 40 small datagrams fit the socket buffers
  EXPECT_TRUE(WaitFor([&] { return r->server->TotalStats().queries == 40; }));
}

}  // namespace
}  // namespace meshbl::server::testing
