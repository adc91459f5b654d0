// Per-packet code (MESHBL_HOT_SOURCES): no allocation, no exceptions, no locks.
//
// reference/rbldnsd.md §5 end to end, in rbldnsd's order: global ACL, drops,
// NOTIMP for opcode/AA/TC, QCLASS (IN: AA, ANY: no AA, CH: version or
// REFUSED), QTYPE (250-254 and >255: NOTIMP), then table::Resolve and the
// encoding. Differences (§9, issue 3): EDNS version > 0 gets BADVERS before
// anything else is looked at, every EDNS reply carries an OPT RR, a whole
// RRset that does not fit is dropped with TC=1.
#include "meshbl/server/respond.h"

#include <cstring>

#include "meshbl/dns/message.h"
#include "meshbl/dns/name.h"

namespace meshbl::server {

namespace {

using dns::ReplyWriter;
using dns::Section;
using table::Answer;
using table::Rcode;
using table::Rr;

constexpr std::uint8_t kExtRcodeBadVers = 1;  // extended rcode 16 = (1 << 4) | 0

constexpr std::uint8_t kVersionBind[] = {7,   'v', 'e', 'r', 's', 'i', 'o',
                                         'n', 4,   'b', 'i', 'n', 'd'};
constexpr std::uint8_t kVersionServer[] = {7, 'v', 'e', 'r', 's', 'i', 'o', 'n',
                                           6, 's', 'e', 'r', 'v', 'e', 'r'};

bool NameIs(std::span<const std::uint8_t> name, std::span<const std::uint8_t> want) noexcept {
  return name.size() == want.size() && std::memcmp(name.data(), want.data(), want.size()) == 0;
}

// The global ACL's ignore/blackhole drops every packet, even malformed ones.
bool GlobalIgnore(const table::ZoneSet* zones, const table::ClientAddr& client) noexcept {
  if (zones == nullptr || zones->global_acl() == nullptr) return false;
  const table::DatasetView& v = zones->global_acl()->view;
  table::AclResult r;
  if (client.family == 4) {
    r = v.LookupAcl4(client.v4);
  } else if (client.family == 6) {
    r = v.LookupAcl6(client.hi, client.lo);
  }
  return r.matched && r.action == table::AclAction::kIgnore;
}

void CountRcode(std::uint8_t rcode, ResponderStats* s) noexcept {
  switch (rcode) {
    case static_cast<std::uint8_t>(Rcode::kNoError):
      ++s->noerror;
      break;
    case static_cast<std::uint8_t>(Rcode::kFormErr):
      ++s->formerr;
      break;
    case static_cast<std::uint8_t>(Rcode::kServFail):
      ++s->servfail;
      break;
    case static_cast<std::uint8_t>(Rcode::kNxDomain):
      ++s->nxdomain;
      break;
    case static_cast<std::uint8_t>(Rcode::kNotImp):
      ++s->notimp;
      break;
    default:
      ++s->refused;
      break;
  }
}

// Distinct RR types of a section, in order of first appearance (an RRset =
// the RRs of one type: every RR of a section here has the same owner).
struct TypeSlots {
  static constexpr int kMax = 16;
  std::uint16_t types[kMax];
  int n = 0;
  int SlotOf(std::uint16_t t) const noexcept {
    for (int i = 0; i < n; ++i) {
      if (types[i] == t) return i;
    }
    return kMax - 1;  // more than kMax types never happens; share the last slot
  }
  void Add(std::uint16_t t) noexcept {
    for (int i = 0; i < n; ++i) {
      if (types[i] == t) return;
    }
    if (n < kMax) types[n++] = t;
  }
};

// Writes the RRs of `rrs` whose type slot is in `keep` (all RRs with the same
// owner); NS RRs are rotated by `rotate` (rbldnsd rotates the NS order per
// reply). False when one did not fit (the caller rewinds).
bool WriteRrs(ReplyWriter& rw, const Answer& a, Section section, std::span<const Rr> rrs,
              std::uint16_t owner, const TypeSlots& slots, std::uint32_t keep,
              std::size_t rotate) noexcept {
  int ns_idx[Answer::kMaxAuthority];
  int ns_n = 0;
  for (std::size_t i = 0; i < rrs.size(); ++i) {
    if (rrs[i].type == table::kTypeNs && ns_n < Answer::kMaxAuthority) {
      ns_idx[ns_n++] = static_cast<int>(i);
    }
  }
  int ns_k = 0;
  for (std::size_t i = 0; i < rrs.size(); ++i) {
    const Rr* rr = &rrs[i];
    if (((keep >> slots.SlotOf(rr->type)) & 1u) == 0) continue;
    if (rr->type == table::kTypeNs && ns_n > 0 && ns_k < ns_n) {
      rr = &rrs[static_cast<std::size_t>(
          ns_idx[(static_cast<std::size_t>(ns_k++) + rotate) % static_cast<std::size_t>(ns_n)])];
    }
    if (!rw.AddRr(section, owner, rr->type, dns::kClassIn, rr->ttl, a.rdata(*rr))) return false;
  }
  return true;
}

// Encodes Resolve()'s answer. Returns true when TC was set.
bool EncodeAnswer(ReplyWriter& rw, const dns::ParsedQuery& q, const Answer& a) noexcept {
  const std::size_t rotate = q.id;
  const std::uint16_t qowner = ReplyWriter::QuestionNameOffset(0);
  std::span<const Rr> answers(a.answer, static_cast<std::size_t>(a.answer_count));
  TypeSlots slots;
  for (const Rr& rr : answers) slots.Add(rr.type);
  const auto start = rw.mark();
  bool tc = false;
  // An RRset Resolve() could not hold whole (more than any message carries)
  // is never sent partially.
  if (a.any_overflow() || !WriteRrs(rw, a, Section::kAnswer, answers, qowner, slots, ~0u, rotate)) {
    // RFC 2181 §9 (reference §9): keep only whole RRsets, set TC.
    tc = true;
    rw.Rewind(start);
    std::uint32_t keep = 0;
    for (int t = 0; t < slots.n; ++t) {
      if (a.overflowed(slots.types[t])) continue;
      const std::uint32_t trial = keep | (1u << t);
      if (WriteRrs(rw, a, Section::kAnswer, answers, qowner, slots, trial, rotate)) keep = trial;
      rw.Rewind(start);
    }
    WriteRrs(rw, a, Section::kAnswer, answers, qowner, slots, keep, rotate);
    rw.SetTc();
    return true;
  }
  if (a.authority_count == 0 || a.zone == nullptr) return tc;
  // AUTHORITY NS + glue, NS only, or nothing (no TC): reference §5.
  const std::size_t zone_len = a.zone->name.size();
  if (zone_len > q.qname_len) return tc;
  const std::uint16_t zowner = ReplyWriter::QuestionNameOffset(q.qname_len - zone_len);
  std::span<const Rr> auth(a.authority, static_cast<std::size_t>(a.authority_count));
  TypeSlots auth_slots;
  for (const Rr& rr : auth) auth_slots.Add(rr.type);
  const auto before_auth = rw.mark();
  if (!WriteRrs(rw, a, Section::kAuthority, auth, zowner, auth_slots, ~0u, rotate)) {
    rw.Rewind(before_auth);
    return tc;
  }
  const auto before_glue = rw.mark();
  for (int i = 0; i < a.additional_count; ++i) {
    const Rr& rr = a.additional[i];
    if (!rw.AddRr(Section::kAdditional, a.owner(rr), rr.type, dns::kClassIn, rr.ttl, a.rdata(rr))) {
      rw.Rewind(before_glue);
      break;
    }
  }
  return tc;
}

}  // namespace

Verdict Respond(const table::ZoneSet* zones, const ResponderConfig& cfg,
                std::span<const std::uint8_t> query, const table::ClientAddr& client,
                Transport transport, std::int64_t now, table::Answer* scratch,
                std::span<std::uint8_t> out, std::size_t* out_len, ResponderStats* stats,
                const table::OverlaySet* overlays) noexcept {
  *out_len = 0;
  ++stats->queries;
  stats->bytes_in += query.size();
  if (GlobalIgnore(zones, client)) {
    ++stats->dropped_acl;
    return Verdict::kDrop;
  }

  dns::ParsedQuery q;
  switch (dns::ParseQuery(query, &q)) {
    case dns::ParseVerdict::kOk:
      break;
    case dns::ParseVerdict::kShort:
      ++stats->dropped_short;
      return Verdict::kDrop;
    case dns::ParseVerdict::kQr:
      ++stats->dropped_qr;
      return Verdict::kDrop;
    case dns::ParseVerdict::kQdCount:
      ++stats->dropped_qdcount;
      return Verdict::kDrop;
    case dns::ParseVerdict::kName:
      ++stats->dropped_name;
      return Verdict::kDrop;
  }

  std::size_t limit = kMaxTcpMessage;
  if (transport == Transport::kUdp) {
    limit = kMinUdpPayload;
    if (q.edns.present) {
      limit = q.edns.udp_size;
      if (limit < kMinUdpPayload) limit = kMinUdpPayload;
      if (limit > kMaxUdpPayload) limit = kMaxUdpPayload;
    }
  }
  if (q.edns.present) ++stats->edns;
  ReplyWriter rw(out, limit, q.edns.present);
  std::uint8_t ext_rcode = 0;

  // Header flags as rbldnsd sets them: byte 1 = query byte 1 | QR (RD
  // echoed, AA added for class IN), byte 2 = rcode only.
  std::uint8_t flags1 = static_cast<std::uint8_t>(q.flags1 | dns::kFlagQr);
  std::uint8_t flags2 = 0;
  bool answered = false;                           // records written (or deliberately none)
  const table::ZoneNode* resolved_zone = nullptr;  // set only when Resolve() ran here
  bool tc = false;

  auto refuse = [&](Rcode code) {
    flags1 = static_cast<std::uint8_t>(flags1 & ~dns::kFlagAa);
    flags2 = static_cast<std::uint8_t>(code);
  };

  if (q.edns.present && q.edns.version > 0) {
    // RFC 6891 §6.1.3: BADVERS (16) = OPT extended rcode 1, header rcode 0.
    ext_rcode = kExtRcodeBadVers;
    ++stats->badvers;
  } else if (q.flags1 & (dns::kFlagOpcode | dns::kFlagAa | dns::kFlagTc)) {
    flags1 = dns::kFlagQr;  // §5 step 4: opcode 0, RD cleared
    flags2 = static_cast<std::uint8_t>(Rcode::kNotImp);
  } else if (q.qclass != dns::kClassIn && q.qclass != dns::kClassAny) {
    // §5 step 5: CH version.bind / version.server TXT, everything else REFUSED.
    const bool version_name = NameIs(q.name(), kVersionBind) || NameIs(q.name(), kVersionServer);
    if (q.qclass == dns::kClassCh && q.qtype == table::kTypeTxt && version_name &&
        cfg.version_mode < 2) {
      flags2 = q.flags2;  // rbldnsd leaves the query's second flag byte as it was
      answered = true;
    } else {
      refuse(Rcode::kRefused);
    }
  } else if (q.qtype >= dns::kTypeTsig && q.qtype != table::kTypeAny) {
    refuse(Rcode::kNotImp);  // §5 step 6
  } else if (zones == nullptr) {
    refuse(Rcode::kServFail);  // nothing loaded yet
  } else {
    table::Query tq;
    tq.qname = q.name();
    tq.qtype = q.qtype;
    tq.class_any = q.qclass == dns::kClassAny;
    tq.client = client;
    tq.now = now;
    tq.overlays = overlays;
    table::Resolve(*zones, cfg.query, tq, scratch);
    resolved_zone = scratch->zone;
    if (scratch->drop) {
      ++stats->dropped_acl;
      return Verdict::kDrop;
    }
    flags2 = static_cast<std::uint8_t>(scratch->rcode);
    if (scratch->aa) {
      flags1 |= dns::kFlagAa;
    } else {
      flags1 = static_cast<std::uint8_t>(flags1 & ~dns::kFlagAa);
    }
    answered = scratch->rcode == Rcode::kNoError || scratch->rcode == Rcode::kNxDomain;
  }
  // Class ANY: answered normally but without AA (Resolve says so too).
  // Only the zone part of the question is reused for compression (rbldnsd
  // does the same: a glue owner keeps its own case).
  std::size_t first_target = 0;
  if (resolved_zone != nullptr && resolved_zone->name.size() <= q.qname_len) {
    first_target = q.qname_len - resolved_zone->name.size();
  }
  if (!rw.Start(q, query, flags1, flags2, first_target)) {
    ++stats->dropped_no_space;
    return Verdict::kDrop;
  }
  if (answered && ext_rcode == 0) {
    if (q.qclass == dns::kClassCh) {
      const std::string_view text =
          cfg.version_mode == 1 ? std::string_view("rbldnsd") : cfg.version_text.substr(0, 255);
      std::uint8_t rdata[256];
      rdata[0] = static_cast<std::uint8_t>(text.size());
      std::memcpy(rdata + 1, text.data(), text.size());
      if (!rw.AddRr(Section::kAnswer, ReplyWriter::QuestionNameOffset(0), table::kTypeTxt,
                    dns::kClassCh, 0, std::span<const std::uint8_t>(rdata, text.size() + 1))) {
        rw.SetTc();
        tc = true;
      }
    } else {
      tc = EncodeAnswer(rw, q, *scratch);
    }
  }
  const std::uint8_t rcode = rw.flags2() & dns::kRcodeMask;
  const int ancount = rw.count(Section::kAnswer);
  *out_len = rw.Finish(kAdvertisedUdpPayload, ext_rcode, q.edns.do_bit);
  if (*out_len == 0) {
    ++stats->dropped_no_space;
    return Verdict::kDrop;
  }
  if (ext_rcode == 0) {
    CountRcode(rcode, stats);
    if (rcode == 0 && ancount == 0) ++stats->nodata;
  }
  if (tc) ++stats->tc_set;
  stats->bytes_out += *out_len;
  if (resolved_zone != nullptr) {
    // By the zone's identity (ZoneIdOf), which survives reloads.
    const std::uint32_t index = resolved_zone->id;
    if (index < static_cast<std::uint32_t>(kMaxZoneStats)) {
      ZoneStats& z = stats->zone[index];
      ++z.tot;
      z.ok += rcode == 0 && ext_rcode == 0;
      z.nxd += rcode == 3;
      z.in += query.size();
      z.out += *out_len;
    }
  }
  return Verdict::kReply;
}

}  // namespace meshbl::server
