// Respond(): reference/rbldnsd.md §5 end to end, with the §9 differences
// (TC for whole RRsets, OPT on every EDNS reply, BADVERS) and issue 3's
// NODATA for empty non-terminals. Queries are built with ldns and every reply
// is decoded with ldns (STYLE.md rule 13).
#include "meshbl/server/respond.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ldns/ldns.h"
#include "meshbl/dns/message.h"
#include "tests/support/alloc_counter.h"
#include "tests/table/test_util.h"

namespace meshbl::server {
namespace {

using table::DatasetBuilder;
using table::DatasetType;
using table::SnapshotBuilder;
using table::testing::Ip4;
using table::testing::Labels;
using table::testing::Val;

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

table::SoaData Soa(const char* zone) {
  table::SoaData s;
  s.ttl = 3600;
  s.origin = Labels(std::string("ns1.") + zone);
  s.person = Labels(std::string("hostmaster.") + zone);
  s.serial = 42;
  s.refresh = 3600;
  s.retry = 900;
  s.expire = 604800;
  s.minimum = 600;
  return s;
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

// bl.test: two ip4sets (TTL 2100 with $SOA/$NS, TTL 60) and a generic
// dataset holding the glue for ns1.bl.test and some large names;
// nons.test: $SOA but no $NS; dn.test: a dnset.
std::shared_ptr<const table::ZoneSet> Zones() {
  SnapshotBuilder b;
  auto a = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:a");
  a->SetTtl(2100);
  a->SetSoa(Soa("bl.test"));
  a->SetNs({3600, {Labels("ns1.bl.test"), Labels("ns2.elsewhere.net")}});
  table::Value listed = Val(2, "listed $");
  a->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &listed);
  table::Value plain = Val(3);
  a->AddIp4Range(Ip4("127.0.0.3"), Ip4("127.0.0.3"), &plain);
  auto c = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:b");
  c->SetTtl(60);
  table::Value dup = Val(2), five = Val(5);
  c->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &dup);
  c->AddIp4Range(Ip4("127.0.0.2"), Ip4("127.0.0.2"), &five);
  auto g = std::make_unique<DatasetBuilder>(DatasetType::kGeneric, "generic:g");
  g->AddGenericRecord(Labels("ns1"), table::kTypeA, 600, Bytes({192, 0, 2, 53}));
  g->AddGenericRecord(Labels("ns1"), table::kTypeA, 300, Bytes({192, 0, 2, 54}));
  g->AddGenericRecord(Labels("big"), table::kTypeA, 300, Bytes({127, 0, 0, 9}));
  for (int i = 0; i < 5; ++i) {
    g->AddGenericRecord(
        Labels("big"), table::kTypeTxt, 300,
        std::string(1, static_cast<char>(200)) + std::string(200, static_cast<char>('a' + i)));
  }
  for (int i = 0; i < 300; ++i) {
    g->AddGenericRecord(Labels("many"), table::kTypeA, 300, Bytes({10, 0, i >> 8, i & 255}));
  }
  // huge: more A records than a 65535-byte message holds (issue 9).
  for (int i = 0; i < 6000; ++i) {
    g->AddGenericRecord(Labels("huge"), table::kTypeA, 300, Bytes({10, 1, i >> 8, i & 255}));
  }
  // fill1: the answer leaves room for the NS set but not for the glue;
  // fill2: not even for the NS set (sizes worked out in the tests).
  for (auto [name, len] : {std::pair{"fill1", 145}, std::pair{"fill2", 180}}) {
    g->AddGenericRecord(Labels(name), table::kTypeTxt, 300,
                        std::string(1, static_cast<char>(255)) + std::string(255, 'x'));
    g->AddGenericRecord(
        Labels(name), table::kTypeTxt, 300,
        std::string(1, static_cast<char>(len)) + std::string(static_cast<std::size_t>(len), 'y'));
  }
  auto n = std::make_unique<DatasetBuilder>(DatasetType::kIp4Set, "ip4set:n");
  n->SetSoa(Soa("nons.test"));
  auto d = std::make_unique<DatasetBuilder>(DatasetType::kDnSet, "dnset:d");
  d->SetSoa(Soa("dn.test"));
  d->AddName(Labels("spam.example.com"), false, &listed);
  auto* pa = b.AdoptDataset(std::move(a));
  auto* pc = b.AdoptDataset(std::move(c));
  auto* pg = b.AdoptDataset(std::move(g));
  auto* pn = b.AdoptDataset(std::move(n));
  auto* pd = b.AdoptDataset(std::move(d));
  b.AddToZone(Labels("bl.test"), pa);
  b.AddToZone(Labels("bl.test"), pc);
  b.AddToZone(Labels("bl.test"), pg);
  b.AddToZone(Labels("nons.test"), pn);
  b.AddToZone(Labels("dn.test"), pd);
  return table::testing::MakeZoneSet(b);
}

const table::ZoneSet* TheZones() {
  static auto* zs = new std::shared_ptr<const table::ZoneSet>(Zones());
  return zs->get();
}

struct QueryOpts {
  int edns_udp = 0;  // 0: no OPT
  std::uint8_t edns_version = 0;
  bool do_bit = false;
};

std::vector<std::uint8_t> Query(const char* name, ldns_rr_type type,
                                ldns_rr_class cls = LDNS_RR_CLASS_IN, QueryOpts o = {}) {
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&p, name, type, cls, LDNS_RD), LDNS_STATUS_OK);
  ldns_pkt_set_id(p, 0x1234);
  if (o.edns_udp > 0) {
    ldns_pkt_set_edns_udp_size(p, static_cast<std::uint16_t>(o.edns_udp));
    ldns_pkt_set_edns_version(p, o.edns_version);
    ldns_pkt_set_edns_do(p, o.do_bit);
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

struct Reply {
  Verdict verdict = Verdict::kDrop;
  std::vector<std::uint8_t> wire;
  Pkt pkt;
  ResponderStats stats;
};

Reply Ask(const std::vector<std::uint8_t>& query, Transport t = Transport::kUdp,
          ResponderConfig cfg = {}, const table::ZoneSet* zones = TheZones()) {
  static auto* scratch = new table::Answer();
  static auto* out = new std::vector<std::uint8_t>(65535);
  Reply r;
  std::size_t len = 99;
  r.verdict = Respond(zones, cfg, query, table::ClientAddr{4, 0x7f000001, 0, 0}, t, 1700000000,
                      scratch, *out, &len, &r.stats);
  if (r.verdict == Verdict::kDrop) {
    EXPECT_EQ(len, 0u);
    return r;
  }
  r.wire.assign(out->begin(), out->begin() + static_cast<std::ptrdiff_t>(len));
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&p, r.wire.data(), r.wire.size()), LDNS_STATUS_OK);
  r.pkt.reset(p);
  return r;
}

std::string Section(ldns_rr_list* list) {
  std::string out;
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
    out += s;
    free(s);
  }
  return out;
}
std::string Answer(const Reply& r) { return Section(ldns_pkt_answer(r.pkt.get())); }
std::string Authority(const Reply& r) { return Section(ldns_pkt_authority(r.pkt.get())); }
std::string Additional(const Reply& r) { return Section(ldns_pkt_additional(r.pkt.get())); }
ldns_pkt_rcode Rcode(const Reply& r) { return ldns_pkt_get_rcode(r.pkt.get()); }
bool HasOpt(const Reply& r) { return ldns_pkt_edns_udp_size(r.pkt.get()) != 0; }

constexpr const char* kSoaAuth =
    "bl.test.\t600\tIN\tSOA\tns1.bl.test. hostmaster.bl.test. 42 3600 900 604800 600\n";
constexpr const char* kNsAuth =
    "bl.test.\t3600\tIN\tNS\tns1.bl.test.\nbl.test.\t3600\tIN\tNS\tns2.elsewhere.net.\n";
constexpr const char* kGlue =
    "ns1.bl.test.\t300\tIN\tA\t192.0.2.53\nns1.bl.test.\t300\tIN\tA\t192.0.2.54\n";

TEST(RespondDrop, MalformedPacketsGetNoReplyAndAreCounted) {
  auto q = Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A);
  auto short_q = std::vector<std::uint8_t>(q.begin(), q.begin() + 16);
  auto r = Ask(short_q);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.stats.dropped_short, 1u);
  auto qr = q;
  qr[2] |= 0x80;
  r = Ask(qr);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.stats.dropped_qr, 1u);
  auto qd = q;
  qd[5] = 0;
  r = Ask(qd);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.stats.dropped_qdcount, 1u);
  auto ptr = q;
  ptr[12] = 0xc0;
  r = Ask(ptr);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.stats.dropped_name, 1u);
  auto label = q;
  label[12] = 64;
  r = Ask(label);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.stats.queries, 1u);
  EXPECT_EQ(r.stats.bytes_in, q.size());
}

TEST(RespondNotImp, OpcodeAaOrTcInTheQueryGetNotimpWithOnlyQr) {
  auto base = Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A);
  for (std::uint8_t bit : {std::uint8_t{2 << 3}, dns::kFlagAa, dns::kFlagTc}) {
    auto q = base;
    q[2] |= bit;
    q[3] = 0x30;  // AD, CD
    auto r = Ask(q);
    ASSERT_EQ(r.verdict, Verdict::kReply);
    EXPECT_EQ(Rcode(r), LDNS_RCODE_NOTIMPL);
    EXPECT_EQ(r.wire[2], 0x80);  // QR only: opcode 0, RD cleared
    EXPECT_EQ(r.wire[3], 0x04);
    EXPECT_EQ(ldns_pkt_qdcount(r.pkt.get()), 1);
    EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 0);
    EXPECT_EQ(r.stats.notimp, 1u);
  }
}

TEST(RespondNotImp, MetaTypesAndTypesAbove255) {
  for (ldns_rr_type t : {LDNS_RR_TYPE_AXFR, LDNS_RR_TYPE_IXFR, LDNS_RR_TYPE_TSIG,
                         static_cast<ldns_rr_type>(257) /* CAA */}) {
    auto r = Ask(Query("2.0.0.127.bl.test.", t));
    ASSERT_EQ(r.verdict, Verdict::kReply);
    EXPECT_EQ(Rcode(r), LDNS_RCODE_NOTIMPL) << t;
    EXPECT_FALSE(ldns_pkt_aa(r.pkt.get()));
    EXPECT_TRUE(ldns_pkt_rd(r.pkt.get()));  // RD echoed here
  }
  // AAAA is an "other" type: NODATA for a listed name.
  auto r = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_AAAA));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  EXPECT_EQ(Answer(r), "");
  EXPECT_EQ(Authority(r), kSoaAuth);
}

TEST(RespondRefused, UnservedNamesAndOtherClassesWithoutAa) {
  auto r = Ask(Query("2.0.0.127.other.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(r.pkt.get()));
  EXPECT_EQ(r.stats.refused, 1u);
  r = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_HS));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
  r = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
  // A class check comes before the type check: CH AXFR is REFUSED.
  r = Ask(Query("version.bind.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_CH));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
}

TEST(RespondServFail, NothingLoadedYet) {
  auto r = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A), Transport::kUdp, {}, nullptr);
  ASSERT_EQ(r.verdict, Verdict::kReply);
  EXPECT_EQ(Rcode(r), LDNS_RCODE_SERVFAIL);
  EXPECT_FALSE(ldns_pkt_aa(r.pkt.get()));
  EXPECT_EQ(r.stats.servfail, 1u);
  // The version answer does not need data.
  r = Ask(Query("version.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH), Transport::kUdp, {}, nullptr);
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
}

TEST(RespondFlags, RdEchoedRaZAdCdClearedAaForClassInOnly) {
  auto q = Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A);
  q[3] = 0xf0;  // RA, Z, AD, CD in the query
  auto r = Ask(q);
  EXPECT_EQ(r.wire[0], 0x12);
  EXPECT_EQ(r.wire[1], 0x34);
  EXPECT_EQ(r.wire[2], 0x80 | 0x04 | 0x01);  // QR AA RD
  EXPECT_EQ(r.wire[3], 0x00);
  auto any = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_ANY));
  EXPECT_EQ(Rcode(any), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(ldns_pkt_aa(any.pkt.get()));
  EXPECT_EQ(Answer(any), Answer(r));  // answered normally, class IN records
}

TEST(RespondQuestion, EchoedAsSentWithCaseAndOwnersPointToIt) {
  auto q = Query("2.0.0.127.Bl.TeSt.", LDNS_RR_TYPE_TXT);
  auto r = Ask(q);
  const std::size_t qlen = q.size() - 12;
  ASSERT_GE(r.wire.size(), 12 + qlen + 2);
  EXPECT_TRUE(std::equal(q.begin() + 12, q.end(), r.wire.begin() + 12));
  EXPECT_EQ(r.wire[12 + qlen], 0xc0);  // first answer owner: pointer to offset 12
  EXPECT_EQ(r.wire[12 + qlen + 1], 12);
  EXPECT_EQ(Answer(r), "2.0.0.127.Bl.TeSt.\t2100\tIN\tTXT\t\"listed 127.0.0.2\"\n");
  EXPECT_EQ(Authority(r),
            "Bl.TeSt.\t3600\tIN\tNS\tns1.Bl.TeSt.\nBl.TeSt.\t3600\tIN\tNS\tns2.elsewhere.net.\n");
}

TEST(RespondChaos, VersionBindAndServer) {
  auto q = Query("Version.Bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH);
  q[3] = 0x30;  // AD, CD: echoed in the version answer
  ResponderConfig cfg;
  cfg.version_text = "meshbl 9.9";
  auto r = Ask(q, Transport::kUdp, cfg);
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(ldns_pkt_aa(r.pkt.get()));
  EXPECT_EQ(r.wire[3], 0x30);
  EXPECT_EQ(Answer(r), "Version.Bind.\t0\tCH\tTXT\t\"meshbl 9.9\"\n");
  cfg.version_mode = 1;
  r = Ask(Query("version.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH), Transport::kUdp, cfg);
  EXPECT_EQ(Answer(r), "version.server.\t0\tCH\tTXT\t\"rbldnsd\"\n");
  cfg.version_mode = 2;
  r = Ask(Query("version.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH), Transport::kUdp, cfg);
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
  EXPECT_EQ(Answer(r), "");
  r = Ask(Query("version.bind.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
}

TEST(RespondApex, SoaNsAndTheirAbsence) {
  auto r = Ask(Query("bl.test.", LDNS_RR_TYPE_SOA));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(r.pkt.get()));
  EXPECT_EQ(Answer(r),
            "bl.test.\t3600\tIN\tSOA\tns1.bl.test. hostmaster.bl.test. 42 3600 900 604800 600\n");
  EXPECT_EQ(Authority(r), kNsAuth);
  EXPECT_EQ(Additional(r), kGlue);
  // NS at the apex: the NS set in ANSWER (no glue for it) and AUTHORITY + glue.
  r = Ask(Query("bl.test.", LDNS_RR_TYPE_NS));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 2);
  EXPECT_EQ(Authority(r), kNsAuth);
  EXPECT_EQ(Additional(r), kGlue);
  // No $NS: NS and ANY are REFUSED, SOA answered.
  r = Ask(Query("nons.test.", LDNS_RR_TYPE_ANY));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(r.pkt.get()));
  r = Ask(Query("nons.test.", LDNS_RR_TYPE_SOA));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  // The apex exists: A at the apex is NODATA.
  r = Ask(Query("bl.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  EXPECT_EQ(Authority(r), kSoaAuth);
}

TEST(RespondNegative, NxdomainAndNodataCarryTheSoaWithItsMinimumTtl) {
  auto r = Ask(Query("9.9.9.127.bl.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(r.pkt.get()));
  EXPECT_EQ(Answer(r), "");
  EXPECT_EQ(Authority(r), kSoaAuth);
  EXPECT_EQ(Additional(r), "");
  EXPECT_EQ(r.stats.nxdomain, 1u);
  // Listed without TXT: NODATA.
  r = Ask(Query("3.0.0.127.bl.test.", LDNS_RR_TYPE_TXT));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  EXPECT_EQ(Answer(r), "");
  EXPECT_EQ(Authority(r), kSoaAuth);
  EXPECT_EQ(r.stats.nodata, 1u);
}

TEST(RespondPositive, NsAndGlueUnlessLazy) {
  auto r = Ask(Query("3.0.0.127.bl.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Answer(r), "3.0.0.127.bl.test.\t2100\tIN\tA\t127.0.0.3\n");
  EXPECT_EQ(Authority(r), kNsAuth);
  EXPECT_EQ(Additional(r), kGlue);  // both glue RRs share the minimum TTL (300)
  ResponderConfig lazy;
  lazy.query.lazy = true;
  r = Ask(Query("3.0.0.127.bl.test.", LDNS_RR_TYPE_A), Transport::kUdp, lazy);
  EXPECT_EQ(Answer(r), "3.0.0.127.bl.test.\t2100\tIN\tA\t127.0.0.3\n");
  EXPECT_EQ(Authority(r), "");
  EXPECT_EQ(Additional(r), "");
}

TEST(RespondPositive, NsOrderRotatesWithTheQueryId) {
  // rbldnsd rotates the NS set by one per reply with a zone-wide counter;
  // shared-nothing workers rotate by query ID instead (ID 0x1234 is even).
  auto q = Query("3.0.0.127.bl.test.", LDNS_RR_TYPE_A);
  q[1] = 0x35;
  auto r = Ask(q);
  EXPECT_EQ(Authority(r),
            "bl.test.\t3600\tIN\tNS\tns2.elsewhere.net.\nbl.test.\t3600\tIN\tNS\tns1.bl.test.\n");
  EXPECT_EQ(Additional(r), kGlue);  // glue keeps the configured order, as rbldnsd
}

TEST(RespondAnswer, MinimumTtlPerTypeAndDuplicatesOnce) {
  auto r = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_ANY));
  EXPECT_EQ(Answer(r),
            "2.0.0.127.bl.test.\t60\tIN\tA\t127.0.0.2\n"
            "2.0.0.127.bl.test.\t2100\tIN\tTXT\t\"listed 127.0.0.2\"\n"
            "2.0.0.127.bl.test.\t60\tIN\tA\t127.0.0.5\n");
}

TEST(RespondCompression, NamesPointBackIntoTheMessage) {
  // header 12 + question 23 + answer (2+10+4) + NS (2+10+"ns1"+ptr 6) +
  // NS (2+10+ns2.elsewhere.net 19) + 2 glue (ptr 2 + 10 + 4).
  auto r = Ask(Query("3.0.0.127.bl.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(r.wire.size(), 12u + 23 + 16 + 18 + 31 + 16 + 16);
  EXPECT_EQ(Authority(r), kNsAuth);
}

// Issue 9: no cap on the RRs of an answer below what the message carries:
// TCP sends all 300 (rbldnsd's 255-answer cap is gone), UDP with EDNS 4096
// cannot (300 * 16 bytes) and sets TC without a partial RRset.
TEST(RespondLimits, WholeRrsetOf300OverTcpAndTcOverUdp) {
  auto r = Ask(Query("many.bl.test.", LDNS_RR_TYPE_A), Transport::kTcp);
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 300);
  EXPECT_FALSE(ldns_pkt_tc(r.pkt.get()));
  r = Ask(Query("many.bl.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, {.edns_udp = 4096}));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 0);
  EXPECT_TRUE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_LE(r.wire.size(), 4096u);
}

// An RRset larger than any message (6000 A RRs = 96,000 bytes) is never sent
// partially, not even over TCP: TC with no record of it.
TEST(RespondLimits, RrsetLargerThanAnyMessageIsTruncatedWholeOverTcp) {
  for (ldns_rr_type t : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_ANY}) {
    auto r = Ask(Query("huge.bl.test.", t), Transport::kTcp);
    EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 0);
    EXPECT_TRUE(ldns_pkt_tc(r.pkt.get()));
    EXPECT_EQ(ldns_pkt_get_rcode(r.pkt.get()), LDNS_RCODE_NOERROR);
  }
}

TEST(RespondTruncation, WholeRrsetsOnlyAndTcSet) {
  // 5 TXT of 213 bytes each do not fit 512: the TXT set is dropped whole.
  auto r = Ask(Query("big.bl.test.", LDNS_RR_TYPE_TXT));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 0);
  EXPECT_EQ(Authority(r), "");
  EXPECT_EQ(r.stats.tc_set, 1u);
  // ANY: the A RRset fits and is kept, TXT is not.
  r = Ask(Query("big.bl.test.", LDNS_RR_TYPE_ANY));
  EXPECT_TRUE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_EQ(Answer(r), "big.bl.test.\t300\tIN\tA\t127.0.0.9\n");
  // EDNS 4096 or TCP: everything fits.
  r = Ask(Query("big.bl.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, {4096}));
  EXPECT_FALSE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 5);
  r = Ask(Query("big.bl.test.", LDNS_RR_TYPE_TXT), Transport::kTcp);
  EXPECT_FALSE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 5);
  // EDNS sizes below 512 still get 512.
  r = Ask(Query("big.bl.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, {100}));
  EXPECT_TRUE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_LE(r.wire.size(), 512u);
}

TEST(RespondTruncation, AuthorityDroppedSilentlyGlueFirst) {
  // fill1: 12+18+(12+256)+(12+146) = 456; NS set (18+31) fits, glue does not.
  auto r = Ask(Query("fill1.bl.test.", LDNS_RR_TYPE_TXT));
  EXPECT_FALSE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 2);
  EXPECT_EQ(Authority(r), kNsAuth);
  EXPECT_EQ(Additional(r), "");
  // fill2: 491 bytes of answer; the NS set does not fit either.
  r = Ask(Query("fill2.bl.test.", LDNS_RR_TYPE_TXT));
  EXPECT_FALSE(ldns_pkt_tc(r.pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 2);
  EXPECT_EQ(Authority(r), "");
}

TEST(RespondEdns, OptOnEveryReplyToAnEdnsQuery) {
  QueryOpts e{1400, 0, true};
  for (const char* name : {"2.0.0.127.bl.test.", "9.9.9.127.bl.test.", "x.other.test."}) {
    auto r = Ask(Query(name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, e));
    ASSERT_EQ(r.verdict, Verdict::kReply);
    EXPECT_TRUE(HasOpt(r)) << name;
    EXPECT_EQ(ldns_pkt_edns_udp_size(r.pkt.get()), kAdvertisedUdpPayload);
    EXPECT_EQ(ldns_pkt_edns_version(r.pkt.get()), 0);
    EXPECT_TRUE(ldns_pkt_edns_do(r.pkt.get()));
    EXPECT_EQ(r.stats.edns, 1u);
  }
  auto notimp = Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, e);
  notimp[2] |= dns::kFlagAa;
  EXPECT_TRUE(HasOpt(Ask(notimp)));
  // Without EDNS: never an OPT.
  EXPECT_FALSE(HasOpt(Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A))));
}

TEST(RespondEdns, VersionAboveZeroGetsBadvers) {
  auto r = Ask(Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, {1232, 1}));
  ASSERT_EQ(r.verdict, Verdict::kReply);
  EXPECT_EQ(r.wire[3] & 0x0f, 0);                           // header rcode 0
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(r.pkt.get()), 1);  // 16 >> 4
  EXPECT_EQ(ldns_pkt_edns_version(r.pkt.get()), 0);
  EXPECT_EQ(ldns_pkt_ancount(r.pkt.get()), 0);
  EXPECT_EQ(r.stats.badvers, 1u);
}

TEST(RespondIssue3, EmptyNonTerminalsAreNodataWithTheSoa) {
  for (const char* name : {"0.127.bl.test.", "0.0.127.bl.test.", "127.bl.test."}) {
    auto r = Ask(Query(name, LDNS_RR_TYPE_A));
    EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR) << name;
    EXPECT_EQ(Answer(r), "") << name;
    EXPECT_EQ(Authority(r), kSoaAuth) << name;
  }
  auto r = Ask(Query("example.com.dn.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  r = Ask(Query("com.dn.test.", LDNS_RR_TYPE_TXT));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NOERROR);
  // Not a parent of anything stored: still NXDOMAIN.
  r = Ask(Query("other.com.dn.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NXDOMAIN);
  r = Ask(Query("256.0.127.bl.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(Rcode(r), LDNS_RCODE_NXDOMAIN);
}

TEST(RespondHotPath, TenThousandWarmedQueriesAllocateNothing) {
  std::vector<std::vector<std::uint8_t>> queries = {
      Query("2.0.0.127.bl.test.", LDNS_RR_TYPE_ANY),
      Query("9.9.9.127.bl.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, {4096, 0, true}),
      Query("big.bl.test.", LDNS_RR_TYPE_TXT),
      Query("bl.test.", LDNS_RR_TYPE_NS),
      Query("version.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH),
      Query("0.127.bl.test.", LDNS_RR_TYPE_A),
      Query("example.com.dn.test.", LDNS_RR_TYPE_A),
  };
  auto scratch = std::make_unique<table::Answer>();
  std::vector<std::uint8_t> out(65535);
  ResponderConfig cfg;
  ResponderStats stats;
  const table::ZoneSet* zs = TheZones();
  std::size_t len = 0;
  for (const auto& q : queries) {
    Respond(zs, cfg, q, {4, 0x7f000001, 0, 0}, Transport::kUdp, 1, scratch.get(), out, &len,
            &stats);
  }
  const std::size_t before = meshbl::testing::AllocationCount();
  for (int i = 0; i < 10000; ++i) {
    const auto& q = queries[static_cast<std::size_t>(i) % queries.size()];
    Respond(zs, cfg, q, {4, 0x7f000001, 0, 0}, Transport::kUdp, 1, scratch.get(), out, &len,
            &stats);
  }
  EXPECT_EQ(meshbl::testing::AllocationCount() - before, 0u);
  EXPECT_EQ(stats.queries, 10000u + queries.size());
}

}  // namespace
}  // namespace meshbl::server
