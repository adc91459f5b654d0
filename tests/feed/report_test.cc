// Trap hits from report lines and ARF (feed/report.h). What a reporter
// relies on:
//  * every hit `meshbl report` prints is read back as the same hit, whatever
//    bytes its HELO, sender and message key hold; the trap address is
//    hashed at once and never printed; missing time and id are filled in;
//  * a bad line is refused with what is wrong and its line number, and a
//    file with one bad line yields nothing;
//  * RFC 5965's own example reports parse (Appendix B.2 gives one hit per
//    Original-Rcpt-To with Source-IP, Original-Mail-From, Arrival-Date and
//    the original's Message-ID; B.1 names no source or trap and is refused
//    with that reason); generated variants (CRLF or LF, folded headers,
//    quoted or bare boundaries, base64 and quoted-printable parts,
//    rfc822-headers or no third part, several recipients, IPv6) give the
//    expected hits; malformed reports get a clear error and never crash.
#include "meshbl/feed/report.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <random>
#include <string>
#include <vector>

namespace meshbl::feed {
namespace {

dns::IpAddress Ip(const char* s) { return *dns::IpAddress::Parse(s); }

std::string RandomBytes(std::mt19937_64& rng, std::size_t max) {
  std::string s;
  const std::size_t n = rng() % (max + 1);
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng() % 256));
  return s;
}

TEST(ReportLineTest, FormattedHitsParseBackExactly) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    TrapHit h;
    h.client = i % 2 ? dns::IpAddress::V4(static_cast<std::uint32_t>(rng()))
                     : dns::IpAddress::V6(rng(), rng());
    for (auto& b : h.trap) b = static_cast<std::uint8_t>(rng());
    h.helo = RandomBytes(rng, 40);
    h.sender = RandomBytes(rng, 40);
    h.message_key = RandomBytes(rng, 40);
    if (h.message_key.empty()) h.message_key = "k";  // empty means "fill in"
    h.time = static_cast<std::int64_t>(rng() % 4000000000u);
    h.via = i % 3 ? "report" : "arf";
    const std::string line = FormatReportLine(h);
    for (char c : line) {
      ASSERT_TRUE((c > 0x20 && c < 0x7f) || c == ' ') << line;  // one printable line
    }
    EXPECT_EQ(line.find(" sha256:"), line.find(' ', 4));
    auto back = ParseReportLine(line, 1);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status();
    EXPECT_EQ(back->client, h.client);
    EXPECT_EQ(back->trap, h.trap);
    EXPECT_EQ(back->helo, h.helo);
    EXPECT_EQ(back->sender, h.sender);
    EXPECT_EQ(back->message_key, h.message_key);
    EXPECT_EQ(back->time, h.time);
    EXPECT_EQ(back->via, h.via);
  }
}

TEST(ReportLineTest, EveryByteValueInAValue) {
  for (int b = 0; b < 256; ++b) {
    TrapHit h;
    h.client = Ip("192.0.2.1");
    h.helo = std::string("a") + static_cast<char>(b) + "b";
    h.message_key = "k";
    auto back = ParseReportLine(FormatReportLine(h), 0);
    ASSERT_TRUE(back.ok()) << b;
    EXPECT_EQ(back->helo, h.helo) << b;
  }
}

TEST(ReportLineTest, AddressFormAndDefaults) {
  auto h = ParseReportLine("hit 192.0.2.7 Trap@Example.COM", 1234);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->client, Ip("192.0.2.7"));
  EXPECT_EQ(h->trap, HashTrapAddress("trap@example.com"));
  EXPECT_EQ(h->time, 1234);
  EXPECT_EQ(h->via, "report");
  EXPECT_EQ(h->sender, "");
  EXPECT_EQ(h->message_key, FallbackMessageKey(Ip("192.0.2.7"), "", 1234));
  // The printed form carries the hash, not the address.
  EXPECT_EQ(FormatReportLine(*h).find("trap@"), std::string::npos);

  auto full = ParseReportLine(
      "hit\t2001:db8::7  t@example.com time=99 id=<m1@x> from=s@y helo=h\\032x via=arf\r", 1);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->time, 99);
  EXPECT_EQ(full->message_key, "<m1@x>");
  EXPECT_EQ(full->sender, "s@y");
  EXPECT_EQ(full->helo, "h x");
  EXPECT_EQ(full->via, "arf");
}

TEST(ReportLineTest, BadLinesSayWhatIsWrong) {
  const std::string hex(64, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty line"},
      {"hot 192.0.2.1 t@x.example", "starts with 'hit'"},
      {"hit", "missing"},
      {"hit 192.0.2.1", "missing"},
      {"hit 192.0.2.256 t@x.example", "not an IP address"},
      {"hit 192.0.2.1/24 t@x.example", "not an IP address"},
      {"hit 192.0.2.1 t.x.example", "no '@'"},
      {"hit 192.0.2.1 @x.example", "empty local part"},
      {"hit 192.0.2.1 sha256:" + hex.substr(1), "64 hex digits"},
      {"hit 192.0.2.1 sha256:" + hex.substr(1) + "g", "64 hex digits"},
      {"hit 192.0.2.1 t@x.example helo", "NAME=VALUE"},
      {"hit 192.0.2.1 t@x.example color=red", "unknown field 'color='"},
      {"hit 192.0.2.1 t@x.example helo=a helo=b", "given twice"},
      {"hit 192.0.2.1 t@x.example time=-1", "not Unix seconds"},
      {"hit 192.0.2.1 t@x.example time=12x", "not Unix seconds"},
      {"hit 192.0.2.1 t@x.example time=", "not Unix seconds"},
      {"hit 192.0.2.1 t@x.example via=smtp", "report or arf"},
      {"hit 192.0.2.1 t@x.example helo=a\\", "at the end"},
      {"hit 192.0.2.1 t@x.example helo=a\\25", "3 digits"},
      {"hit 192.0.2.1 t@x.example helo=a\\256", "above 255"},
      {"hit 192.0.2.1 t@x.example helo=" + std::string(kMaxReportValue + 1, 'a'), "longer than"},
      {"hit 192.0.2.1 t@x.example helo=" + std::string(kMaxReportLine, 'a'), "line longer than"},
  };
  for (const auto& [line, want] : cases) {
    auto got = ParseReportLine(line, 0);
    ASSERT_FALSE(got.ok()) << line;
    EXPECT_NE(got.status().message().find(want), std::string::npos)
        << line << " -> " << got.status();
  }
}

TEST(ReportLineTest, FilesOfLines) {
  auto hits = ParseReportLines(
      "# hits from exim\n\nhit 192.0.2.1 a@x.example\r\n   # indented comment\n"
      "hit 192.0.2.2 b@x.example id=m\n",
      "in", 5);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[1].client, Ip("192.0.2.2"));
  EXPECT_EQ((*hits)[1].message_key, "m");
  for (std::size_t bad_line = 1; bad_line <= 6; ++bad_line) {
    std::string text;
    for (std::size_t l = 1; l <= 6; ++l) {
      text += l == bad_line ? "hit 192.0.2.1 nope\n" : "hit 192.0.2.1 a@x.example\n";
    }
    auto r = ParseReportLines(text, "hits.txt", 0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(
        std::string(r.status().message()).rfind("hits.txt:" + std::to_string(bad_line) + ": ", 0),
        0u)
        << r.status();
  }
}

TEST(Rfc5322DateTest, Dates) {
  const std::vector<std::pair<std::string, std::int64_t>> ok = {
      {"Thu, 8 Mar 2005 14:00:00 EDT", 1110304800},
      {"8 Mar 2005 18:00:00 +0000", 1110304800},
      {"Tue, 08 Mar 2005 19:30 +0130", 1110304800},
      {"Tue,  8 mar 05 18:00:00 GMT (comment)", 1110304800},
      {"Thu, 8 Mar 2005 17:40:36 EDT", 1110318036},
      {"Thu, 8 Mar 2005 18:00:00 A", 1110304800},  // military zones count as +0000
  };
  for (const auto& [text, want] : ok) {
    auto t = ParseRfc5322Date(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status();
    EXPECT_EQ(*t, want) << text;
  }
  for (const std::string bad :
       {"", "yesterday", "32 Mar 2005 18:00:00 +0000", "8 Foo 2005 18:00:00 +0000",
        "8 Mar 2005 25:00:00 +0000", "8 Mar 2005 18:00:00 +0099", "8 Mar 2005 1800 +0000",
        "8 Mar 2005", "8 Mar 2005 18:00:00 +00000000", "1 Jan 1970 00:00:00 +0100",
        "31 Dec 1969 23:59:59 +0000"}) {
    EXPECT_FALSE(ParseRfc5322Date(bad).ok()) << bad;
  }
}

// RFC 5965 Appendix B.1: the minimal report; it names neither source nor trap.
const char kRfc5965B1[] =
    "From: <abusedesk@example.com>\n"
    "Date: Thu, 8 Mar 2005 17:40:36 EDT\n"
    "Subject: FW: Earn money\n"
    "To: <abuse@example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=feedback-report;\n"
    "     boundary=\"part1_13d.2e68ed54_boundary\"\n"
    "\n"
    "--part1_13d.2e68ed54_boundary\n"
    "Content-Type: text/plain; charset=\"US-ASCII\"\n"
    "Content-Transfer-Encoding: 7bit\n"
    "\n"
    "This is an email abuse report for an email message received from IP\n"
    "192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.  For more information\n"
    "about this format please see http://www.mipassoc.org/arf/.\n"
    "\n"
    "--part1_13d.2e68ed54_boundary\n"
    "Content-Type: message/feedback-report\n"
    "\n"
    "Feedback-Type: abuse\n"
    "User-Agent: SomeGenerator/1.0\n"
    "Version: 1\n"
    "\n"
    "--part1_13d.2e68ed54_boundary\n"
    "Content-Type: message/rfc822\n"
    "Content-Disposition: inline\n"
    "\n"
    "Received: from mailserver.example.net\n"
    "        (mailserver.example.net [192.0.2.1])\n"
    "        by example.com with ESMTP id M63d4137594e46;\n"
    "        Thu, 08 Mar 2005 14:00:00 -0400\n"
    "From: <somespammer@example.net>\n"
    "To: <Undisclosed Recipients>\n"
    "Subject: Earn money\n"
    "MIME-Version: 1.0\n"
    "Content-type: text/plain\n"
    "Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net\n"
    "Date: Thu, 02 Sep 2004 12:31:03 -0500\n"
    "\n"
    "Spam Spam Spam\n"
    "Spam Spam Spam\n"
    "Spam Spam Spam\n"
    "Spam Spam Spam\n"
    "--part1_13d.2e68ed54_boundary--\n";

// RFC 5965 Appendix B.2: the report with the optional fields.
const char kRfc5965B2[] =
    "From: <abusedesk@example.com>\n"
    "Date: Thu, 8 Mar 2005 17:40:36 EDT\n"
    "Subject: FW: Earn money\n"
    "To: <abuse@example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=feedback-report;\n"
    "     boundary=\"part1_13d.2e68ed54_boundary\"\n"
    "\n"
    "--part1_13d.2e68ed54_boundary\n"
    "Content-Type: text/plain; charset=\"US-ASCII\"\n"
    "Content-Transfer-Encoding: 7bit\n"
    "\n"
    "This is an email abuse report for an email message received from IP\n"
    "192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.  For more information\n"
    "about this format please see http://www.mipassoc.org/arf/.\n"
    "\n"
    "--part1_13d.2e68ed54_boundary\n"
    "Content-Type: message/feedback-report\n"
    "\n"
    "Feedback-Type: abuse\n"
    "User-Agent: SomeGenerator/1.0\n"
    "Version: 1\n"
    "Original-Mail-From: <somespammer@example.net>\n"
    "Original-Rcpt-To: <user@example.com>\n"
    "Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\n"
    "Reporting-MTA: dns; mail.example.com\n"
    "Source-IP: 192.0.2.1\n"
    "Authentication-Results: mail.example.com;\n"
    "               spf=fail smtp.mail=somespammer@example.com\n"
    "Reported-Domain: example.net\n"
    "Reported-Uri: http://example.net/earn_money.html\n"
    "Reported-Uri: mailto:user@example.com\n"
    "Removal-Recipient: user@example.com\n"
    "\n"
    "--part1_13d.2e68ed54_boundary\n"
    "Content-Type: message/rfc822\n"
    "Content-Disposition: inline\n"
    "\n"
    "From: <somespammer@example.net>\n"
    "Received: from mailserver.example.net (mailserver.example.net\n"
    "        [192.0.2.1]) by example.com with ESMTP id M63d4137594e46;\n"
    "        Tue, 08 Mar 2005 14:00:00 -0400\n"
    "To: <Undisclosed Recipients>\n"
    "Subject: Earn money\n"
    "MIME-Version: 1.0\n"
    "Content-type: text/plain\n"
    "Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net\n"
    "Date: Thu, 02 Sep 2004 12:31:03 -0500\n"
    "\n"
    "Spam Spam Spam\n"
    "Spam Spam Spam\n"
    "Spam Spam Spam\n"
    "Spam Spam Spam\n"
    "--part1_13d.2e68ed54_boundary--\n";

TEST(ArfTest, Rfc5965Examples) {
  auto b2 = ParseArfReport(kRfc5965B2, 1);
  ASSERT_TRUE(b2.ok()) << b2.status();
  ASSERT_EQ(b2->size(), 1u);
  const TrapHit& h = (*b2)[0];
  EXPECT_EQ(h.client, Ip("192.0.2.1"));
  EXPECT_EQ(h.trap, HashTrapAddress("user@example.com"));
  EXPECT_EQ(h.sender, "somespammer@example.net");
  EXPECT_EQ(h.time, 1110304800);
  EXPECT_EQ(h.message_key, "8787KJKJ3K4J3K4J3K4J3.mail@example.net");
  EXPECT_EQ(h.via, "arf");
  EXPECT_EQ(h.helo, "");

  auto b1 = ParseArfReport(kRfc5965B1, 1);
  ASSERT_FALSE(b1.ok());
  EXPECT_NE(b1.status().message().find("without Source-IP"), std::string::npos) << b1.status();
}

std::string Base64(const std::string& s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  std::string wrapped;
  for (std::size_t i = 0; i < out.size(); i += 76) wrapped += out.substr(i, 76) + "\n";
  return wrapped;
}

std::string QuotedPrintable(const std::string& s) {
  std::string out;
  std::size_t col = 0;
  for (char c : s) {
    if (c == '\n') {
      out += "\n";
      col = 0;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    std::string piece;
    if (c == '=' || u >= 0x7f || (u < 0x20 && c != '\t') ||
        c == '@') {  // '@' needlessly, as some do
      static const char kHex[] = "0123456789ABCDEF";
      piece = {'=', kHex[u >> 4], kHex[u & 15]};
    } else {
      piece = std::string(1, c);
    }
    if (col + piece.size() > 72) {
      out += "=\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  }
  return out;
}

struct ArfCase {
  std::string message;
  std::vector<std::string> rcpts;
  dns::IpAddress source;
  std::string sender;
  std::string message_id;  // "" = none
  std::int64_t time;
};

ArfCase GenArf(std::mt19937_64& rng, std::int64_t now) {
  ArfCase c;
  const bool crlf = rng() % 2;
  const std::string nl = crlf ? "\r\n" : "\n";
  const std::string boundary =
      "b" + std::to_string(rng() % 100000) + (rng() % 2 ? "=_x'()+,-./:?" : "");
  const bool quote = rng() % 2 || boundary.find_first_of("()=,/:?") != std::string::npos;
  c.source = rng() % 2 ? dns::IpAddress::V4(static_cast<std::uint32_t>(rng()))
                       : dns::IpAddress::V6(rng(), rng());
  c.sender = rng() % 4 ? "s" + std::to_string(rng() % 1000) + "@spam.example" : "";
  const std::size_t n = 1 + rng() % 5;
  for (std::size_t i = 0; i < n; ++i) {
    c.rcpts.push_back("trap" + std::to_string(rng() % 1000) + "@Traps.Example");
  }
  const bool dated = rng() % 3 != 0;
  c.time = dated ? 1110304800 : now;
  const int third = static_cast<int>(rng() % 3);  // 0 none, 1 message/rfc822, 2 text/rfc822-headers
  c.message_id = third ? "<" + std::to_string(rng()) + "@spam.example>" : "";

  std::string report = "Feedback-Type: abuse" + nl + "User-Agent: gen/1" + nl + "Version: 1" + nl;
  if (!c.sender.empty()) report += "Original-Mail-From: <" + c.sender + ">" + nl;
  for (const auto& r : c.rcpts)
    report += (rng() % 2 ? "Original-Rcpt-To: " : "original-rcpt-to:\t") + ("<" + r + ">") + nl;
  if (dated) report += "Arrival-Date: Tue, 8 Mar 2005" + nl + "  14:00:00 EDT" + nl;  // folded
  report += "Source-IP: " + c.source.ToString() + nl + "Reported-Domain: spam.example" + nl;

  const int enc2 = static_cast<int>(rng() % 3);  // 7bit, base64, quoted-printable
  std::string part2 = "Content-Type: message/feedback-report" + nl;
  if (enc2 == 1)
    part2 += "Content-Transfer-Encoding: base64" + nl + nl + Base64(report);
  else if (enc2 == 2)
    part2 += "Content-Transfer-Encoding: Quoted-Printable" + nl + nl + QuotedPrintable(report);
  else
    part2 += nl + report;

  std::string msg = "From: <fbl@isp.example>" + nl + "MIME-Version: 1.0" + nl +
                    "Content-Type: Multipart/Report;" + nl + "\treport-type=\"feedback-report\";" +
                    nl + "  boundary=" + (quote ? "\"" + boundary + "\"" : boundary) + nl + nl +
                    "preamble text" + nl;
  msg += "--" + boundary + nl + "Content-Type: text/plain" + nl + nl + "human text" + nl + "--" +
         boundary + "  " + nl + part2 + nl;
  if (third) {
    const std::string orig = "Received: from x" + nl + "Message-ID: " + nl + " " + c.message_id +
                             nl + "Subject: buy" + nl + nl + "--" + "not the boundary" + nl;
    msg += "--" + boundary + nl +
           "Content-Type: " + (third == 1 ? "message/rfc822" : "text/rfc822-headers") + nl;
    if (third == 2 && rng() % 2) {
      msg += "Content-Transfer-Encoding: base64" + nl + nl + Base64(orig);
    } else {
      msg += nl + orig;
    }
    msg += nl;
  }
  msg += "--" + boundary + "--" + nl + "epilogue" + nl;
  c.message = msg;
  return c;
}

TEST(ArfTest, GeneratedReports) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    const ArfCase c = GenArf(rng, 777);
    auto hits = ParseArfReport(c.message, 777);
    ASSERT_TRUE(hits.ok()) << hits.status() << "\n" << c.message;
    ASSERT_EQ(hits->size(), c.rcpts.size());
    for (std::size_t k = 0; k < hits->size(); ++k) {
      const TrapHit& h = (*hits)[k];
      EXPECT_EQ(h.client, c.source);
      EXPECT_EQ(h.trap, HashTrapAddress(c.rcpts[k]));
      EXPECT_EQ(h.sender, c.sender);
      EXPECT_EQ(h.time, c.time);
      EXPECT_EQ(h.message_key, c.message_id.empty() ? FallbackMessageKey(c.source, c.sender, c.time)
                                                    : c.message_id)
          << c.message;
      EXPECT_EQ(h.via, "arf");
      // One message to many traps: one key.
      EXPECT_EQ(h.message_key, (*hits)[0].message_key);
    }
  }
}

// Every prefix of generated reports: a clear result either way, no crash.
TEST(ArfTest, TruncatedReportsNeverCrash) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 20; ++i) {
    const ArfCase c = GenArf(rng, 1);
    for (std::size_t n = 0; n < c.message.size(); n += 7) {
      auto r = ParseArfReport(std::string_view(c.message).substr(0, n), 1);
      if (!r.ok()) {
        EXPECT_FALSE(r.status().message().empty());
      }
    }
  }
}

TEST(ArfTest, MalformedReportsSayWhatIsWrong) {
  const std::string b2 = kRfc5965B2;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = b2;
    const std::size_t p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return s.replace(p, from.size(), to);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "without Content-Type"},
      {replace("Content-Type: multipart/report;", "X-Type: multipart/report;"),
       "without Content-Type"},
      {replace("multipart/report;", "multipart/mixed;"), "not multipart/report"},
      {replace("report-type=feedback-report", "report-type=delivery-status"),
       "not feedback-report"},
      {replace("boundary=\"part1_13d.2e68ed54_boundary\"", "charset=us-ascii"), "boundary missing"},
      {replace("Content-Type: message/feedback-report", "Content-Type: text/plain"),
       "no part of type message/feedback-report"},
      {replace("Source-IP: 192.0.2.1", "Source-IP: mail.example.net"), "is not an IP address"},
      {replace("Original-Rcpt-To: <user@example.com>", "X-Rcpt: 1"), "without Original-Rcpt-To"},
      {replace("Original-Rcpt-To: <user@example.com>", "Original-Rcpt-To: <user>"),
       "Original-Rcpt-To 'user': not an address"},
      {replace("Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT", "Arrival-Date: soon"), "Arrival-Date"},
      {replace("Feedback-Type: abuse", "X-Feedback: abuse"), "without Feedback-Type"},
      {replace("Content-Type: message/feedback-report",
               "Content-Type: message/feedback-report\nContent-Transfer-Encoding: base64"),
       "bad base64"},
      {replace("Content-Type: message/feedback-report",
               "Content-Type: message/feedback-report\nContent-Transfer-Encoding: x-uuencode"),
       "unknown Content-Transfer-Encoding"},
      {replace("Feedback-Type: abuse", "  Feedback-Type: abuse"), "continuation line"},
      {replace("Feedback-Type: abuse", "Feedback-Type abuse"), "is not a header field"},
      {replace("boundary=\"part1_13d.2e68ed54_boundary\"", "boundary=\"other\""),
       "no multipart delimiter line"},
  };
  for (const auto& [msg, want] : cases) {
    auto r = ParseArfReport(msg, 0);
    ASSERT_FALSE(r.ok()) << want;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status();
  }
  std::string many = b2;
  for (std::size_t i = 0; i < kMaxArfRecipients; ++i) {
    many = many.substr(0, many.find("Original-Rcpt-To")) + "Original-Rcpt-To: <t" +
           std::to_string(i) + "@x.example>\n" + many.substr(many.find("Original-Rcpt-To"));
  }
  auto r = ParseArfReport(many, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than"), std::string::npos);
}

}  // namespace
}  // namespace meshbl::feed
