#include "zone/line_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace meshbl::zone {
namespace {

// gzip-compresses `text` (one member) with zlib.
std::string Gzip(std::string_view text) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Line {
  int number;
  std::string text;
  bool too_long;
  friend bool operator==(const Line&, const Line&) = default;
};

std::vector<Line> ReadAll(std::string_view text) {
  LineReader r(text);
  std::vector<Line> out;
  std::string_view line;
  bool too_long = false;
  while (r.Next(&line, &too_long)) out.push_back({r.line_number(), std::string(line), too_long});
  return out;
}

void PrintTo(const Line& l, std::ostream* os) {
  *os << l.number << ":'" << l.text << "'" << (l.too_long ? " (long)" : "");
}

TEST(LineReader, StripsBlanksAndCountsLines) {
  // §2 leading/trailing space/tab stripped; empty lines still counted
  EXPECT_EQ(
      ReadAll(" \ta b\t \n\n  \nlast\n"),
      (std::vector<Line>{{1, "a b", false}, {2, "", false}, {3, "", false}, {4, "last", false}}));
}

TEST(LineReader, CrLfIsALineEnd) {
  // §9 meshbl treats `\r` before `\n` as part of the line end
  EXPECT_EQ(ReadAll("1.2.3.4\r\n:2:txt \r\nx\r"),
            (std::vector<Line>{{1, "1.2.3.4", false}, {2, ":2:txt", false}, {3, "x", false}}));
  // a lone `\r` elsewhere is data
  EXPECT_EQ(ReadAll("a\rb\n"), (std::vector<Line>{{1, "a\rb", false}}));
}

TEST(LineReader, LastLineWithoutNewline) {
  EXPECT_EQ(ReadAll("a\nb"), (std::vector<Line>{{1, "a", false}, {2, "b", false}}));
  EXPECT_TRUE(ReadAll("").empty());
  EXPECT_EQ(ReadAll("\n"), (std::vector<Line>{{1, "", false}}));
}

TEST(LineReader, LongLineTruncatedAndRestSkipped) {
  // §2 max line 32 KiB; longer -> warning, rest of line skipped
  std::string exact(kMaxLineLength, 'x');
  std::string longer = std::string(kMaxLineLength, 'y') + "TAIL";
  auto lines = ReadAll(exact + "\n" + longer + "\nnext\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_EQ(lines[0].text.size(), kMaxLineLength);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].text, std::string(kMaxLineLength, 'y'));
  EXPECT_EQ(lines[2], (Line{3, "next", false}));
}

TEST(DecodeInput, PlainTextPassesThrough) {
  std::string storage;
  std::string_view text;
  ASSERT_TRUE(DecodeInput("1.2.3.4\n", true, &storage, &text).ok());
  EXPECT_EQ(text, "1.2.3.4\n");
  EXPECT_TRUE(storage.empty());
}

TEST(DecodeInput, GzipDetectedByMagic) {
  // §2 gzip detected by magic 1f 8b, not by name
  std::string plain;
  for (int i = 0; i < 50000; ++i) plain += "10.0." + std::to_string(i % 256) + ".1\n";
  std::string gz = Gzip(plain);
  ASSERT_TRUE(IsGzip(gz));
  std::string storage;
  std::string_view text;
  ASSERT_TRUE(DecodeInput(gz, true, &storage, &text).ok());
  EXPECT_EQ(text, plain);
}

TEST(DecodeInput, GzipRejectedWithDashC) {
  // §1 -C: a gzip file then fails to load
  std::string storage;
  std::string_view text;
  absl::Status st = DecodeInput(Gzip("1.2.3.4\n"), false, &storage, &text);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("gzip compression not supported (-C)"), std::string_view::npos);
}

TEST(DecodeInput, CorruptOrTruncatedGzipFails) {
  // §2 CRC/length checked
  std::string gz = Gzip("1.2.3.4\n1.2.3.5\n");
  std::string storage;
  std::string_view text;
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 0x55);
  EXPECT_FALSE(DecodeInput(bad_crc, true, &storage, &text).ok());
  EXPECT_FALSE(DecodeInput(gz.substr(0, gz.size() - 4), true, &storage, &text).ok());
  EXPECT_FALSE(DecodeInput(gz.substr(0, 12), true, &storage, &text).ok());
  EXPECT_FALSE(DecodeInput("\x1f\x8b", true, &storage, &text).ok());
}

TEST(DecodeInput, OnlyTheFirstMemberIsRead) {
  // §2 single member only
  std::string gz = Gzip("a\n") + Gzip("b\n");
  std::string storage;
  std::string_view text;
  ASSERT_TRUE(DecodeInput(gz, true, &storage, &text).ok());
  EXPECT_EQ(text, "a\n");
}

}  // namespace
}  // namespace meshbl::zone
