// The bounded, sticky-error cursors of STYLE.md rule 5.
#include "meshbl/dns/wire.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace meshbl::dns {
namespace {

TEST(WireReader, ReadsNetworkOrder) {
  const std::uint8_t b[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
  WireReader r(b);
  EXPECT_EQ(r.U8(), 0x12);
  EXPECT_EQ(r.U16(), 0x3456);
  EXPECT_EQ(r.U32(), 0x789abcdeu);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireReader, FirstOutOfBoundsReadFailsEveryLaterCall) {
  const std::uint8_t b[] = {1, 2, 3};
  WireReader r(b);
  EXPECT_EQ(r.U16(), 0x0102);
  EXPECT_EQ(r.U16(), 0);  // only one byte left
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0);  // would fit, but the cursor is failed
  EXPECT_TRUE(r.Bytes(1).empty());
  EXPECT_EQ(r.pos(), 2u);
}

TEST(WireReader, HugeLengthsDoNotWrap) {
  const std::uint8_t b[] = {1, 2, 3};
  WireReader r(b);
  r.U8();
  r.Skip(SIZE_MAX);  // pos + n would overflow
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.pos(), 1u);
}

TEST(WireWriter, WritesAndStopsAtLimit) {
  std::vector<std::uint8_t> buf(8, 0xee);
  WireWriter w(buf);
  w.SetLimit(5);
  w.U16(0xabcd);
  w.U16(0x0102);
  EXPECT_TRUE(w.ok());
  w.U16(0x0304);  // one byte left under the limit
  EXPECT_FALSE(w.ok());
  w.U8(9);  // sticky
  EXPECT_EQ(w.pos(), 4u);
  EXPECT_EQ(buf[4], 0xee);
  EXPECT_EQ(buf[0], 0xab);
  EXPECT_EQ(buf[3], 0x02);
}

TEST(WireWriter, RewindRestoresPositionAndState) {
  std::vector<std::uint8_t> buf(6);
  WireWriter w(buf);
  w.U16(1);
  const auto m = w.mark();
  w.U32(2);
  w.U32(3);  // fails
  EXPECT_FALSE(w.ok());
  w.Rewind(m);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.pos(), 2u);
  w.U32(0x01020304);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.written().size(), 6u);
}

TEST(WireWriter, PatchOnlyInsideWrittenBytes) {
  std::vector<std::uint8_t> buf(4);
  WireWriter w(buf);
  w.U16(0);
  w.PatchU16(0, 0x0a0b);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(buf[0], 0x0a);
  EXPECT_EQ(buf[1], 0x0b);
  w.PatchU16(1, 0);  // would write past pos()
  EXPECT_FALSE(w.ok());
}

TEST(WireWriter, LimitCannotExceedBufferOrGoBelowPosition) {
  std::vector<std::uint8_t> buf(4);
  WireWriter w(buf);
  w.SetLimit(100);
  EXPECT_EQ(w.limit(), 4u);
  w.U16(1);
  w.SetLimit(0);
  EXPECT_EQ(w.limit(), 2u);
}

}  // namespace
}  // namespace meshbl::dns
