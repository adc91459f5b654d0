// ParseQuery on packets built by ldns, and ReplyWriter output decoded by ldns
// (STYLE.md rule 13): never our serializer checked by itself.
#include "meshbl/dns/message.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ldns/ldns.h"

namespace meshbl::dns {
namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

std::vector<std::uint8_t> Build(const char* name, ldns_rr_type type, ldns_rr_class cls,
                                int edns_udp = 0, std::uint8_t edns_version = 0,
                                bool do_bit = false) {
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&p, name, type, cls, LDNS_RD), LDNS_STATUS_OK);
  ldns_pkt_set_id(p, 0x4242);
  if (edns_udp > 0) {
    ldns_pkt_set_edns_udp_size(p, static_cast<std::uint16_t>(edns_udp));
    ldns_pkt_set_edns_version(p, edns_version);
    ldns_pkt_set_edns_do(p, do_bit);
    ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, nullptr));
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, p, &size), LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(wire, wire + size);
  free(wire);
  ldns_pkt_free(p);
  return out;
}

Pkt Decode(std::span<const std::uint8_t> wire) {
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&p, wire.data(), wire.size()), LDNS_STATUS_OK);
  return Pkt(p);
}

std::string RrText(ldns_rr* rr) {
  char* s = ldns_rr2str(rr);
  std::string out(s);
  free(s);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<std::uint8_t> Labels(std::initializer_list<const char*> labels) {
  std::vector<std::uint8_t> out;
  for (const char* l : labels) {
    out.push_back(static_cast<std::uint8_t>(std::strlen(l)));
    out.insert(out.end(), l, l + std::strlen(l));
  }
  return out;
}

TEST(ParseQuery, ReadsHeaderQuestionAndLowercasesTheName) {
  auto w = Build("2.0.0.127.Bl.Example.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  EXPECT_EQ(q.id, 0x4242);
  EXPECT_EQ(q.flags1, kFlagRd);
  EXPECT_EQ(q.qtype, LDNS_RR_TYPE_TXT);
  EXPECT_EQ(q.qclass, LDNS_RR_CLASS_IN);
  EXPECT_EQ(q.qname_labels, 6);
  auto want = Labels({"2", "0", "0", "127", "bl", "example"});
  EXPECT_EQ(std::vector<std::uint8_t>(q.name().begin(), q.name().end()), want);
  // The question as sent keeps its case.
  auto question = q.question(w);
  EXPECT_EQ(question.size(), want.size() + 1 + 4);
  const std::string sent(question.begin(), question.end());
  EXPECT_NE(sent.find("\x02"
                      "Bl"
                      "\x07"
                      "Example"),
            std::string::npos);
  EXPECT_FALSE(q.edns.present);
}

TEST(ParseQuery, RootNameHasNoLabels) {
  auto w = Build(".", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  EXPECT_EQ(q.qname_len, 0u);
  EXPECT_EQ(q.question_end, w.size());
}

TEST(ParseQuery, DropsWhatRbldnsdDrops) {
  ParsedQuery q;
  auto w = Build("a.example.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN);
  EXPECT_EQ(ParseQuery(std::span(w).first(16), &q), ParseVerdict::kShort);
  auto qr = w;
  qr[2] |= 0x80;
  EXPECT_EQ(ParseQuery(qr, &q), ParseVerdict::kQr);
  auto qd = w;
  qd[5] = 2;
  EXPECT_EQ(ParseQuery(qd, &q), ParseVerdict::kQdCount);
  qd[4] = 1;
  qd[5] = 1;
  EXPECT_EQ(ParseQuery(qd, &q), ParseVerdict::kQdCount);
  auto ptr = w;
  ptr[12] = 0xc0;  // compression pointer in the question
  EXPECT_EQ(ParseQuery(ptr, &q), ParseVerdict::kName);
  auto past = w;
  past[14] = 60;  // label runs past the end
  EXPECT_EQ(ParseQuery(past, &q), ParseVerdict::kName);
  // Name ends but QTYPE/QCLASS are cut.
  EXPECT_NE(ParseQuery(std::span(w).first(w.size() - 1), &q), ParseVerdict::kOk);
}

TEST(ParseQuery, LabelOver63AndNameOver255AreDropped) {
  std::vector<std::uint8_t> w = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::vector<std::uint8_t> label64 = w;
  label64.push_back(64);
  label64.insert(label64.end(), 64, 'a');
  label64.insert(label64.end(), {0, 0, 1, 0, 1});
  ParsedQuery q;
  EXPECT_EQ(ParseQuery(label64, &q), ParseVerdict::kName);
  // 4 labels of 63 = 256 bytes with lengths, + root = 257 > 255.
  std::vector<std::uint8_t> longname = w;
  for (int i = 0; i < 4; ++i) {
    longname.push_back(63);
    longname.insert(longname.end(), 63, 'b');
  }
  longname.insert(longname.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(ParseQuery(longname, &q), ParseVerdict::kName);
  // 255 bytes exactly (3 x 63 + 61 + lengths + root) is fine.
  std::vector<std::uint8_t> max = w;
  for (int i = 0; i < 3; ++i) {
    max.push_back(63);
    max.insert(max.end(), 63, 'c');
  }
  max.push_back(61);
  max.insert(max.end(), 61, 'd');
  max.insert(max.end(), {0, 0, 1, 0, 1});
  ASSERT_EQ(ParseQuery(max, &q), ParseVerdict::kOk);
  EXPECT_EQ(q.qname_len, 254u);
}

TEST(ParseQuery, EdnsFieldsOnlyWhenTheOptFollowsTheQuestion) {
  auto w = Build("x.example.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 4000, 1, true);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  ASSERT_TRUE(q.edns.present);
  EXPECT_EQ(q.edns.udp_size, 4000);
  EXPECT_EQ(q.edns.version, 1);
  EXPECT_TRUE(q.edns.do_bit);
  auto ns = w;
  ns[9] = 1;  // NSCOUNT=1: OPT not recognised (rbldnsd's rule)
  ASSERT_EQ(ParseQuery(ns, &q), ParseVerdict::kOk);
  EXPECT_FALSE(q.edns.present);
}

TEST(ReplyWriter, HeaderQuestionAndCompressedNamesDecodeWithLdns) {
  auto w = Build("4.3.2.1.Bl.Example.", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_IN);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  std::vector<std::uint8_t> buf(512);
  ReplyWriter rw(buf, 512, false);
  ASSERT_TRUE(rw.Start(q, w, kFlagQr | kFlagAa | kFlagRd, 0));
  const std::uint8_t a[] = {127, 0, 0, 2};
  ASSERT_TRUE(rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 1, kClassIn, 60, a));
  // NS names in rdata, uncompressed in the input.
  auto ns1 = Labels({"ns1", "bl", "example"});
  ns1.push_back(0);
  auto ns2 = Labels({"ns2", "other", "net"});
  ns2.push_back(0);
  const std::uint16_t zone = ReplyWriter::QuestionNameOffset(8);  // "bl.example"
  ASSERT_TRUE(rw.AddRr(Section::kAuthority, zone, 2, kClassIn, 3600, ns1));
  ASSERT_TRUE(rw.AddRr(Section::kAuthority, zone, 2, kClassIn, 3600, ns2));
  ASSERT_TRUE(rw.AddRr(Section::kAdditional, Labels({"ns2", "other", "net"}), 1, kClassIn, 300, a));
  const std::size_t n = rw.Finish(1232, 0, false);
  ASSERT_GT(n, 0u);
  // ns1.bl.example compresses to "ns1" + pointer: 4 + 2 bytes of rdata; the
  // additional owner is a bare pointer to ns2.other.net.
  auto pkt = Decode(std::span(buf).first(n));
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 0x4242);
  EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
  EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 1);
  EXPECT_EQ(ldns_pkt_nscount(pkt.get()), 2);
  EXPECT_EQ(ldns_pkt_arcount(pkt.get()), 1);
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0)),
            "4.3.2.1.Bl.Example.\tIN\tANY");
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0)),
            "4.3.2.1.Bl.Example.\t60\tIN\tA\t127.0.0.2");
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_authority(pkt.get()), 0)),
            "Bl.Example.\t3600\tIN\tNS\tns1.Bl.Example.");
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_authority(pkt.get()), 1)),
            "Bl.Example.\t3600\tIN\tNS\tns2.other.net.");
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_additional(pkt.get()), 0)),
            "ns2.other.net.\t300\tIN\tA\t127.0.0.2");
  // Compression really happened: header 12 + question 24 + A 16 + NS(2+10+6)
  // + NS(2+10+15) + glue A(2+10+4).
  EXPECT_EQ(n, 12u + 24 + 16 + 18 + 27 + 16);
}

TEST(ReplyWriter, SoaNamesAreCompressedMxIsWrittenAsStored) {
  auto w = Build("bl.example.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  std::vector<std::uint8_t> buf(512);
  ReplyWriter rw(buf, 512, false);
  ASSERT_TRUE(rw.Start(q, w, kFlagQr, 0));
  auto soa = Labels({"ns1", "bl", "example"});
  soa.push_back(0);
  auto person = Labels({"hostmaster", "bl", "example"});
  soa.insert(soa.end(), person.begin(), person.end());
  soa.push_back(0);
  for (int v : {0, 0, 0, 42, 0, 0, 14, 16, 0, 0, 3, 132, 0, 9, 58, 128, 0, 0, 2, 88}) {
    soa.push_back(static_cast<std::uint8_t>(v));
  }
  ASSERT_TRUE(
      rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 6, kClassIn, 3600, soa));
  std::vector<std::uint8_t> mx = {0, 10};
  auto host = Labels({"MX", "Bl", "example"});
  mx.insert(mx.end(), host.begin(), host.end());
  mx.push_back(0);
  ASSERT_TRUE(
      rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 15, kClassIn, 3600, mx));
  const std::size_t n = rw.Finish(1232, 0, false);
  auto pkt = Decode(std::span(buf).first(n));
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0)),
            "bl.example.\t3600\tIN\tSOA\tns1.bl.example. hostmaster.bl.example. 42 3600 900 "
            "604800 600");
  // MX: uncompressed, with the data's letter case, as rbldnsd writes it.
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 1)),
            "bl.example.\t3600\tIN\tMX\t10 MX.Bl.example.");
  // SOA rdata: (1+3+2) + (1+10+2) + 20; MX rdata: 2 + 3+3+8+1.
  EXPECT_EQ(n, 12u + 16 + (12 + 39) + (12 + 17));
}

TEST(ReplyWriter, RrThatDoesNotFitIsNotWrittenAndOptIsKeptInReserve) {
  auto w = Build("x.example.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 512);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  std::vector<std::uint8_t> buf(4096);
  ReplyWriter rw(buf, 512, true);
  ASSERT_TRUE(rw.Start(q, w, kFlagQr, 0));
  std::vector<std::uint8_t> txt(201, 'x');
  txt[0] = 200;
  int added = 0;
  while (rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 16, kClassIn, 1, txt)) {
    ++added;
  }
  EXPECT_EQ(added, 2);  // 12 + 15 + 2 * 213 = 453; a third would pass 512 - 11
  EXPECT_EQ(rw.count(Section::kAnswer), 2);
  const std::size_t n = rw.Finish(1232, 1, true);
  EXPECT_EQ(n, 453u + 11);
  auto pkt = Decode(std::span(buf).first(n));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(pkt.get()), 1);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
}

// Issue 9: no cap on the RR count below what the message can carry (the
// old cap was rbldnsd's 255): a 65535-byte message takes every 16-byte A RR
// that fits after the 12-byte header and the 15-byte question, and no more.
TEST(ReplyWriter, AnswerCountIsLimitedOnlyByTheMessageSize) {
  auto w = Build("x.example.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  std::vector<std::uint8_t> buf(65535);
  ReplyWriter rw(buf, buf.size(), false);
  ASSERT_TRUE(rw.Start(q, w, kFlagQr, 0));
  int added = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::uint8_t a[] = {127, 0, static_cast<std::uint8_t>(i >> 8),
                              static_cast<std::uint8_t>(i)};
    if (rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 1, kClassIn, 1, a)) ++added;
  }
  EXPECT_EQ(added, (65535 - 12 - 15) / 16);
  const std::size_t n = rw.Finish(1232, 0, false);
  auto pkt = Decode(std::span(buf).first(n));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), static_cast<std::size_t>(added));
}

TEST(ReplyWriter, RewindUndoesRecordsAndCompressionTargets) {
  auto w = Build("x.example.", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN);
  ParsedQuery q;
  ASSERT_EQ(ParseQuery(w, &q), ParseVerdict::kOk);
  std::vector<std::uint8_t> buf(512);
  ReplyWriter rw(buf, 512, false);
  ASSERT_TRUE(rw.Start(q, w, kFlagQr, 0));
  const auto m = rw.mark();
  auto ns = Labels({"ns", "far", "away"});
  ns.push_back(0);
  ASSERT_TRUE(rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 2, kClassIn, 1, ns));
  rw.Rewind(m);
  // A later name must not point into the discarded bytes.
  ASSERT_TRUE(rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 1, kClassIn, 1,
                       std::vector<std::uint8_t>{1, 2, 3, 4}));
  ASSERT_TRUE(rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), 2, kClassIn, 1, ns));
  const std::size_t n = rw.Finish(1232, 0, false);
  auto pkt = Decode(std::span(buf).first(n));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
  EXPECT_EQ(RrText(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 1)),
            "x.example.\t1\tIN\tNS\tns.far.away.");
}

}  // namespace
}  // namespace meshbl::dns
