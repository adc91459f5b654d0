// The io_uring UDP backend (STYLE.md rule 9): answers, SERVFAIL before data
// and pick-up after a publish, MSG_TRUNC drops, stop/restart, two addresses,
// and the provided-buffer ring running dry (-ENOBUFS) under a burst larger
// than the ring: the multishot receive is re-armed and the worker keeps
// answering. Every test skips when this kernel cannot run the backend.
#include "gtest/gtest.h"
#include "server/udp_worker.h"
#include "tests/server/udp_cases.h"

namespace meshbl::server::testing {
namespace {

#define SKIP_WITHOUT_URING()                                               \
  do {                                                                     \
    if (absl::Status s = internal::ProbeUring(); !s.ok()) {                \
      GTEST_SKIP() << "io_uring UDP backend unavailable: " << s.message(); \
    }                                                                      \
  } while (0)

TEST(UringUdp, AnswersListedAndUnlisted) {
  SKIP_WITHOUT_URING();
  ExpectAnswers(UdpBackend::kUring);
}

TEST(UringUdp, ServfailUntilPublishedThenAnswers) {
  SKIP_WITHOUT_URING();
  ExpectPicksUpPublishedData(UdpBackend::kUring);
}

TEST(UringUdp, OversizedDatagramDroppedAndCounted) {
  SKIP_WITHOUT_URING();
  ExpectTruncatedDropped(UdpBackend::kUring);
}

TEST(UringUdp, StopJoinsAndRestarts) {
  SKIP_WITHOUT_URING();
  ExpectStopAndRestart(UdpBackend::kUring);
}

TEST(UringUdp, ServesEveryListenAddress) {
  SKIP_WITHOUT_URING();
  ExpectTwoAddresses(UdpBackend::kUring);
}

TEST(UringUdp, AutoPicksUringWhenAvailable) {
  SKIP_WITHOUT_URING();
  auto r = StartOn(LoopbackConfig(UdpBackend::kAuto, 1));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->server->udp_backend(), UdpBackend::kUring);
}

TEST(UringUdp, BufferRingExhaustionRearmsAndKeepsAnswering) {
  SKIP_WITHOUT_URING();
  ServerConfig config = LoopbackConfig(UdpBackend::kUring, 1);
  config.uring_buffers = 4;  // a burst of 200 cannot fit
  auto r = StartOn(config);
  ASSERT_NE(r, nullptr);
  UdpClient c(r->port);
  // Bursts until the ring has run dry at least once (bounded: 20 bursts).
  for (int burst = 0; burst < 20 && r->server->IoTotals().uring_enobufs == 0; ++burst) {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(c.Send(MakeQuery("2.0.0.127.bl.test", static_cast<std::uint16_t>(1000 + i))));
    }
    // Drain what came back (some of the burst may be dropped by the socket).
    int got = 0;
    while (c.Receive(std::chrono::milliseconds(200)) != nullptr && got < 200) ++got;
    EXPECT_GT(got, 0);
  }
  IoStats io = r->server->IoTotals();
  EXPECT_GT(io.uring_enobufs, 0u);
  EXPECT_GE(io.uring_rearms, io.uring_enobufs);
  // The receive was re-armed: sequential queries are all answered.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(Summary(c.Ask("2.0.0.127.bl.test", static_cast<std::uint16_t>(5000 + i)).get()),
              "NOERROR 127.0.0.2")
        << i;
  }
}

}  // namespace
}  // namespace meshbl::server::testing
