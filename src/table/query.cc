// Per-packet code (MESHBL_HOT_SOURCES): no allocation, no exceptions, no locks.
#include "meshbl/table/query.h"

#include <algorithm>
#include <cstring>

#include "meshbl/dns/address.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/ip_text.h"
#include "meshbl/table/live.h"
#include "table/flat_table.h"

namespace meshbl::table {

namespace f = format;

Answer::Answer() noexcept { std::memset(dedup_, 0, sizeof dedup_); }

void Answer::Reset() noexcept {
  drop = false;
  rcode = Rcode::kNoError;
  aa = false;
  zone = nullptr;
  found = false;
  answer_count = 0;
  authority_count = 0;
  additional_count = 0;
  empty_non_terminal = false;
  data_len_ = 0;
  overflow_count_ = 0;
  if (dedup_indexed_) {
    // The next generation invalidates every slot; the table is cleared only
    // when the 32-bit generation wraps.
    dedup_indexed_ = false;
    if (++dedup_gen_ == 0) {
      std::memset(dedup_, 0, sizeof dedup_);
      dedup_gen_ = 1;
    }
  }
}

bool Answer::overflowed(std::uint16_t type) const noexcept {
  for (int i = 0; i < overflow_count_; ++i) {
    if (overflow_types_[i] == type) return true;
  }
  // More distinct overflowing types than remembered: treat all as cut.
  return overflow_count_ == kMaxOverflowTypes;
}

void Answer::MarkOverflow(std::uint16_t type) noexcept {
  for (int i = 0; i < overflow_count_; ++i) {
    if (overflow_types_[i] == type) return;
  }
  if (overflow_count_ < kMaxOverflowTypes) overflow_types_[overflow_count_++] = type;
}

bool Answer::Store(std::span<const std::uint8_t> rdata, std::uint32_t* off) noexcept {
  if (rdata.size() > kDataCap - data_len_) return false;
  if (!rdata.empty()) std::memcpy(data_ + data_len_, rdata.data(), rdata.size());
  *off = static_cast<std::uint32_t>(data_len_);
  data_len_ += rdata.size();
  return true;
}

bool Answer::SameRr(const Rr& r, std::uint16_t type,
                    std::span<const std::uint8_t> rdata) const noexcept {
  return r.type == type && r.len == rdata.size() &&
         (rdata.empty() || std::memcmp(data_ + r.off, rdata.data(), rdata.size()) == 0);
}

std::size_t Answer::DedupStart(std::uint16_t type,
                               std::span<const std::uint8_t> rdata) const noexcept {
  const std::uint64_t h = Mix64(HashName(rdata) ^ type);
  return static_cast<std::size_t>(h) & (kDedupSlots - 1);
}

void Answer::DedupInsert(int index) noexcept {
  const Rr& r = answer[index];
  std::size_t i = DedupStart(r.type, rdata(r));
  for (std::size_t probes = 0; probes < kDedupSlots; ++probes) {
    DedupSlot& slot = dedup_[i];
    if (slot.gen != dedup_gen_) {
      slot = {dedup_gen_, static_cast<std::uint32_t>(index)};
      return;
    }
    i = (i + 1) & (kDedupSlots - 1);
  }
}

bool Answer::AddAnswer(std::uint16_t type, std::uint32_t ttl,
                       std::span<const std::uint8_t> rdata) noexcept {
  if (!dedup_indexed_) {
    for (int i = 0; i < answer_count; ++i) {
      Rr& r = answer[i];
      if (SameRr(r, type, rdata)) {
        if (ttl < r.ttl) r.ttl = ttl;
        return true;
      }
    }
  } else {
    std::size_t i = DedupStart(type, rdata);
    for (std::size_t probes = 0; probes < kDedupSlots; ++probes) {
      const DedupSlot& slot = dedup_[i];
      if (slot.gen != dedup_gen_) break;
      Rr& r = answer[slot.index];
      if (SameRr(r, type, rdata)) {
        if (ttl < r.ttl) r.ttl = ttl;
        return true;
      }
      i = (i + 1) & (kDedupSlots - 1);
    }
  }
  std::uint32_t off;
  if (answer_count == kMaxAnswer || rdata.size() > 0xffff || !Store(rdata, &off)) {
    MarkOverflow(type);
    return false;
  }
  answer[answer_count++] = {type, ttl, off, static_cast<std::uint16_t>(rdata.size()), 0, 0};
  if (dedup_indexed_) {
    DedupInsert(answer_count - 1);
  } else if (answer_count == kLinearDedup) {
    dedup_indexed_ = true;
    for (int i = 0; i < answer_count; ++i) DedupInsert(i);
  }
  return true;
}

bool Answer::AddAuthority(std::uint16_t type, std::uint32_t ttl,
                          std::span<const std::uint8_t> rdata) noexcept {
  if (authority_count == kMaxAuthority) return false;
  std::uint32_t off;
  if (!Store(rdata, &off)) return false;
  authority[authority_count++] = {type, ttl, off, static_cast<std::uint16_t>(rdata.size()), 0, 0};
  return true;
}

bool Answer::AddAdditional(std::span<const std::uint8_t> owner, std::uint16_t type,
                           std::uint32_t ttl, std::span<const std::uint8_t> rdata) noexcept {
  if (additional_count == kMaxAdditional) return false;
  std::uint32_t off, owner_off;
  if (!Store(rdata, &off) || !Store(owner, &owner_off)) return false;
  additional[additional_count++] = {type,      ttl,
                                    off,       static_cast<std::uint16_t>(rdata.size()),
                                    owner_off, static_cast<std::uint16_t>(owner.size())};
  return true;
}

namespace {

// The parsed form of a query name relative to its zone (§4 "IP query").
struct Subject {
  bool ip4 = false;  // ip4 datasets look up `v4`
  bool ip6 = false;  // ip6 datasets look up hi/lo
  std::uint32_t v4 = 0;
  std::uint64_t hi = 0, lo = 0;
  char text4[16];
  std::size_t text4_len = 0;
  char text6[kMaxIpText];
  std::size_t text6_len = 0;
};

bool ParseIp4Labels(std::span<const std::uint8_t> rel, std::uint32_t* out) noexcept {
  std::uint32_t octets[4];
  int n = 0;
  std::size_t i = 0;
  while (i < rel.size()) {
    std::size_t l = rel[i++];
    if (n == 4 || l < 1 || l > 3) return false;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < l; ++k) {
      std::uint8_t c = rel[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    octets[n++] = v;
    i += l;
  }
  if (n != 4) return false;
  *out = (octets[3] << 24) | (octets[2] << 16) | (octets[1] << 8) | octets[0];
  return true;
}

bool ParseIp6Labels(std::span<const std::uint8_t> rel, std::uint64_t* hi,
                    std::uint64_t* lo) noexcept {
  if (rel.size() != 64) return false;
  std::uint8_t nib[32];
  for (int k = 0; k < 32; ++k) {
    if (rel[static_cast<std::size_t>(2 * k)] != 1) return false;
    std::uint8_t c = rel[static_cast<std::size_t>(2 * k + 1)];
    if (c >= '0' && c <= '9') {
      nib[31 - k] = static_cast<std::uint8_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      nib[31 - k] = static_cast<std::uint8_t>(c - 'a' + 10);
    } else {
      return false;
    }
  }
  std::uint64_t h = 0, l = 0;
  for (int k = 0; k < 16; ++k) h = (h << 4) | nib[k];
  for (int k = 16; k < 32; ++k) l = (l << 4) | nib[k];
  *hi = h;
  *lo = l;
  return true;
}

void ParseSubject(std::span<const std::uint8_t> rel, bool map_ip4, Subject* s) noexcept {
  if (ParseIp4Labels(rel, &s->v4)) {
    s->ip4 = true;
  } else if (ParseIp6Labels(rel, &s->hi, &s->lo)) {
    s->ip6 = true;
    s->text6_len = FormatIp6(dns::IpAddress::V6(s->hi, s->lo).bytes().data(), s->text6);
    if (map_ip4) {
      if ((s->hi >> 48) == 0x2002) {  // 6to4: 2002:AABB:CCDD::/16, IPv6 stays valid
        s->ip4 = true;
        s->v4 = static_cast<std::uint32_t>(s->hi >> 16);
      } else if (s->hi == 0 && (s->lo >> 32) == 0xffff) {  // ::ffff:a.b.c.d
        s->ip4 = true;
        s->ip6 = false;
        s->v4 = static_cast<std::uint32_t>(s->lo);
      }
    }
  }
  if (s->ip4) s->text4_len = FormatIp4(s->v4, s->text4);
}

struct Context {
  const Query& q;
  Answer* out;
  const Subject* subj;
  std::span<const std::uint8_t> rel;
  bool acl_empty;
  const DsNode* always_acl;  // ACL "always listed": dataset holding the value
  std::uint32_t always_value;
  char client_text[kMaxIpText];
  std::size_t client_len;
};

bool WantA(std::uint16_t t) noexcept { return t == kTypeA || t == kTypeAny; }
bool WantTxt(std::uint16_t t) noexcept { return t == kTypeTxt || t == kTypeAny; }

void AddValue(Context& c, const DsNode& ds, std::uint32_t ttl, std::uint32_t value_id,
              std::string_view subject) noexcept {
  const Snapshot& snap = ds.view.snapshot();
  if (value_id >= snap.values().size()) return;
  const f::ValueRec& v = snap.values()[value_id];
  if (WantA(c.q.qtype)) {
    std::uint8_t a[4] = {static_cast<std::uint8_t>(v.a >> 24), static_cast<std::uint8_t>(v.a >> 16),
                         static_cast<std::uint8_t>(v.a >> 8), static_cast<std::uint8_t>(v.a)};
    c.out->AddAnswer(kTypeA, ttl, a);
  }
  if (WantTxt(c.q.qtype)) {
    std::uint8_t txt[1 + kMaxTxtExpansion];
    std::size_t n = ExpandTxt(ds.txt, snap.String(v.txt), v.txt != f::kNone, subject,
                              reinterpret_cast<char*>(txt + 1));
    if (n > 0) {
      txt[0] = static_cast<std::uint8_t>(n);
      c.out->AddAnswer(kTypeTxt, ttl, std::span<const std::uint8_t>(txt, n + 1));
    }
  }
}

// "Always listed" from an ACL: the ACL's value with `$` = the client address.
void AddAlways(Context& c, std::uint32_t ttl) noexcept {
  AddValue(c, *c.always_acl, ttl, c.always_value, std::string_view(c.client_text, c.client_len));
}

bool Eval(Context& c, const DsNode& ds, std::span<const std::uint8_t> rel) noexcept;

bool EvalIp(Context& c, const DsNode& ds, bool v6) noexcept {
  const Subject& s = *c.subj;
  if (v6 ? !s.ip6 : !s.ip4) return false;
  if (c.acl_empty) return false;
  if (c.always_acl != nullptr) {
    AddAlways(c, c.always_acl->view.ttl());  // the ACL's TTL, as rbldnsd
    return true;
  }
  ValueList vl;
  Match m = v6 ? ds.view.LookupIp6(s.hi, s.lo, &vl) : ds.view.LookupIp4(s.v4, &vl);
  if (m != Match::kListed) return false;
  std::string_view subject =
      v6 ? std::string_view(s.text6, s.text6_len) : std::string_view(s.text4, s.text4_len);
  for (const std::uint32_t id : vl.ids()) AddValue(c, ds, ds.view.ttl(), id, subject);
  return true;
}

bool EvalName(Context& c, const DsNode& ds, std::span<const std::uint8_t> rel) noexcept {
  if (rel.empty() || c.acl_empty) return false;
  if (c.always_acl != nullptr) {
    AddAlways(c, c.always_acl->view.ttl());  // the ACL's TTL, as rbldnsd
    return true;
  }
  ValueList vl;
  std::size_t subj_off = 0;
  if (ds.view.LookupName(rel, &vl, &subj_off) != Match::kListed) return false;
  // `$` = the matched entry's name relative to the zone (the wildcard base
  // for a wildcard match), escaped as rbldnsd prints it (§4.6, issue 9).
  char text[kMaxSubjectNameText];
  std::size_t n = SubjectNameText(rel.subspan(subj_off), text, sizeof text);
  if (n > sizeof text) n = sizeof text;
  for (const std::uint32_t id : vl.ids()) AddValue(c, ds, ds.view.ttl(), id, {text, n});
  return true;
}

bool EvalGeneric(Context& c, const DsNode& ds, std::span<const std::uint8_t> rel) noexcept {
  bool found = false;
  auto recs = ds.view.LookupGeneric(rel, &found);
  if (!found) return false;
  // ACL `empty` / always listed: the name exists but rbldnsd adds none of its
  // records (NODATA) [obs: differential_test aclempty/aclalways].
  if (c.acl_empty || c.always_acl != nullptr) return true;
  const Snapshot& snap = ds.view.snapshot();
  // ANY returns A, MX, TXT in that order (§4.7).
  static constexpr std::uint16_t kOrder[] = {kTypeA, kTypeMx, kTypeTxt};
  for (std::uint16_t t : kOrder) {
    if (c.q.qtype != t && c.q.qtype != kTypeAny) continue;
    for (const auto& r : recs) {
      if (r.type != t) continue;
      auto rd = snap.Bytes(r.rdata);
      if (rd.size() != r.rdlen) continue;
      c.out->AddAnswer(r.type, r.ttl, rd);
    }
  }
  return true;
}

bool EvalCombined(Context& c, const DsNode& ds, std::span<const std::uint8_t> rel) noexcept {
  for (const SubZoneNode& sz : ds.subs) {
    int off = dns::SuffixOffset(rel, sz.name);
    if (off < 0) continue;
    auto sub_rel = rel.first(static_cast<std::size_t>(off));
    // IP names are relative to the sub-zone, so parse them again.
    bool map_ip4 = false;
    for (const DsNode* child : sz.datasets) map_ip4 |= child->view.is_ip4();
    Subject subj;
    ParseSubject(sub_rel, map_ip4, &subj);
    Context sub = c;
    sub.subj = &subj;
    bool found = sub_rel.empty();  // a sub-zone apex always exists (§4.8)
    for (const DsNode* child : sz.datasets) found |= Eval(sub, *child, sub_rel);
    return found;
  }
  return false;
}

bool Eval(Context& c, const DsNode& ds, std::span<const std::uint8_t> rel) noexcept {
  switch (ds.view.answer_kind()) {
    case AnswerKind::kIp4:
      return EvalIp(c, ds, false);
    case AnswerKind::kIp6:
      return EvalIp(c, ds, true);
    case AnswerKind::kName:
      return EvalName(c, ds, rel);
    case AnswerKind::kRecords:
      return EvalGeneric(c, ds, rel);
    case AnswerKind::kSubZones:
      return EvalCombined(c, ds, rel);
    case AnswerKind::kNone:
      return false;
  }
  return false;
}

// Live lists have no `$0`..`$9` or base template.
constexpr TxtContext kNoContext{};

// Adds the value of a live match with `$` = `subject`.
bool AddLiveValues(Context& c, const LiveMatch& m, std::string_view subject) noexcept {
  if (m.match != Match::kListed || m.value == nullptr) return false;
  const Value& v = *m.value;
  if (WantA(c.q.qtype)) {
    std::uint8_t a[4] = {static_cast<std::uint8_t>(v.a >> 24), static_cast<std::uint8_t>(v.a >> 16),
                         static_cast<std::uint8_t>(v.a >> 8), static_cast<std::uint8_t>(v.a)};
    c.out->AddAnswer(kTypeA, m.ttl, a);
  }
  if (WantTxt(c.q.qtype)) {
    std::uint8_t txt[1 + kMaxTxtExpansion];
    const std::string_view entry = v.txt ? std::string_view(*v.txt) : std::string_view();
    std::size_t n =
        ExpandTxt(kNoContext, entry, v.txt.has_value(), subject, reinterpret_cast<char*>(txt + 1));
    if (n > 0) {
      txt[0] = static_cast<std::uint8_t>(n);
      c.out->AddAnswer(kTypeTxt, m.ttl, std::span<const std::uint8_t>(txt, n + 1));
    }
  }
  return true;
}

// A live list (live.h) answers as an ip4trie, an ip6trie and a dnset would,
// each part on its own, over its base and delta layers.
bool EvalLive(Context& c, const LiveTables& t, std::span<const std::uint8_t> rel) noexcept {
  const Subject& s = *c.subj;
  bool found = false;
  if ((s.ip4 || s.ip6) && !c.acl_empty) {
    if (c.always_acl != nullptr) {
      AddAlways(c, c.always_acl->view.ttl());
      return true;
    }
    if (s.ip4) {
      found |= AddLiveValues(c, LookupLive4(t, s.v4), std::string_view(s.text4, s.text4_len));
    }
    if (s.ip6) {
      found |= AddLiveValues(c, LookupLive6(t, s.hi, s.lo), std::string_view(s.text6, s.text6_len));
    }
  }
  if (rel.empty() || c.acl_empty) return found;
  if (c.always_acl != nullptr) {
    AddAlways(c, c.always_acl->view.ttl());
    return true;
  }
  const LiveMatch m = LookupLiveName(t, rel);
  if (m.match == Match::kListed) {
    char text[kMaxSubjectNameText];
    std::size_t n = SubjectNameText(rel.subspan(m.subject_off), text, sizeof text);
    if (n > sizeof text) n = sizeof text;
    found |= AddLiveValues(c, m, {text, n});
  }
  return found;
}

AclResult AclFor(const DsNode* acl, const ClientAddr& client) noexcept {
  if (acl == nullptr) return {};
  if (client.family == 4) return acl->view.LookupAcl4(client.v4);
  if (client.family == 6) return acl->view.LookupAcl6(client.hi, client.lo);
  return {};
}

// Appends a label sequence plus the root label; false if it does not fit.
std::size_t PutName(std::span<const std::uint8_t> labels, std::uint8_t* p) noexcept {
  std::memcpy(p, labels.data(), labels.size());
  p[labels.size()] = 0;
  return labels.size() + 1;
}

void PutU32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

void AddSoa(const ZoneNode& z, Answer* out, bool authority) noexcept {
  const f::DatasetRec& r = z.soa->view.rec();
  const Snapshot& snap = z.soa->view.snapshot();
  std::uint8_t buf[2 * dns::kMaxNameWire + 20];
  std::size_t n = PutName(snap.Bytes(r.soa_origin), buf);
  n += PutName(snap.Bytes(r.soa_person), buf + n);
  std::uint32_t serial = r.soa_serial != 0 ? r.soa_serial : z.stamp;
  for (std::uint32_t v : {serial, r.soa_refresh, r.soa_retry, r.soa_expire, r.soa_minimum}) {
    PutU32(buf + n, v);
    n += 4;
  }
  std::span<const std::uint8_t> rd(buf, n);
  if (authority) {
    out->AddAuthority(kTypeSoa, r.soa_minimum, rd);
  } else {
    out->AddAnswer(kTypeSoa, r.soa_ttl, rd);
  }
}

void AddNs(const ZoneNode& z, const OverlaySet* overlays, Answer* out, bool authority) noexcept {
  const f::DatasetRec& r = z.ns->view.rec();
  const Snapshot& snap = z.ns->view.snapshot();
  for (std::uint32_t ref : snap.Pool(r.ns_first, r.ns_count)) {
    std::uint8_t buf[dns::kMaxNameWire];
    std::size_t n = PutName(snap.Bytes(ref), buf);
    std::span<const std::uint8_t> rd(buf, n);
    if (authority) {
      out->AddAuthority(kTypeNs, r.ns_ttl, rd);
    } else {
      out->AddAnswer(kTypeNs, r.ns_ttl, rd);
    }
  }
  // Glue only together with the AUTHORITY NS set (§5 "Glue").
  if (authority) {
    for (const GlueRr& g : z.glue) out->AddAdditional(g.owner, kTypeA, z.glue_ttl, g.a);
    if (overlays == nullptr) return;
    // Glue from live lists: the A value of the name's listing, now.
    for (const LiveGlue& lg : z.live_glue) {
      for (const std::uint32_t slot : lg.zone->live) {
        const LiveTables* t = overlays->list(slot);
        if (t == nullptr) continue;
        const LiveMatch m = LookupLiveName(*t, lg.rel);
        if (m.match != Match::kListed || m.value == nullptr) continue;
        const std::uint32_t a = m.value->a;
        const std::uint8_t rd[4] = {
            static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
            static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
        out->AddAdditional(lg.owner, kTypeA, m.ttl, rd);
        break;
      }
    }
  }
}

// Issue 3 / RFC 8020: is `rel` (relative to the dataset's zone, not empty) a
// proper parent of names this dataset can answer?
bool IsDecimalOctet(std::span<const std::uint8_t> label) noexcept {
  if (label.empty() || label.size() > 3) return false;
  unsigned v = 0;
  for (std::uint8_t c : label) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return v <= 255;
}

bool IsIp4Parent(std::span<const std::uint8_t> rel) noexcept {
  int n = 0;
  for (std::size_t i = 0; i < rel.size(); i += 1 + std::size_t{rel[i]}) {
    if (++n > 3 || rel[i] > rel.size() - i - 1) return false;
    if (!IsDecimalOctet(rel.subspan(i + 1, rel[i]))) return false;
  }
  return n >= 1;
}

bool IsIp6Parent(std::span<const std::uint8_t> rel) noexcept {
  if (rel.empty() || rel.size() % 2 != 0 || rel.size() > 62) return false;
  for (std::size_t i = 0; i < rel.size(); i += 2) {
    const std::uint8_t c = rel[i + 1];
    if (rel[i] != 1 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// How the client's ACL changes what exists (issue 9 item 5): under `empty`
// the IP and dnset data is hidden, so it makes no name exist; under `always`
// every IP address is listed, so every IP prefix has listed names below.
enum class EntMode : std::uint8_t { kData, kHidden, kAlways };

bool ListedWord(std::uint32_t w) noexcept { return w != f::kEmptySlot && w != f::kExcluded; }

// Issue 9 item 7: does IPv4 dataset `ds` list an address inside the /len
// prefix `p` (len 0, 8, 16 or 24; 32 = the address itself)?
bool Ip4PrefixListed(const DsNode& ds, std::uint32_t p, unsigned len) noexcept {
  const DatasetView& v = ds.view;
  if (len >= 32) {
    ValueList vl;
    return v.LookupIp4(p, &vl) == Match::kListed;
  }
  // An entry as long as the prefix or shorter decides for the whole prefix,
  // by the dataset's own rule: listed there means listed below.
  if (v.type() == DatasetType::kIp4Set) {
    for (unsigned l = 1; l < 4; ++l) {  // /24, /16, /8: the most specific first
      const unsigned bl = 32u - 8u * l;
      const auto t = v.ip4_level(static_cast<int>(l));
      if (bl > len || t.capacity == 0) continue;
      if (const f::Slot32* s = Find32(t, MaskIp4(p, bl))) {
        if (ListedWord(s->val)) return true;
        break;
      }
    }
  } else if (v.type() == DatasetType::kIp4Trie && v.table64().capacity != 0) {
    for (unsigned l = len + 1; l-- > 0;) {
      if ((v.rec().lens4 >> l & 1) == 0) continue;
      if (const f::Slot64* s = Find64(v.table64(), (std::uint64_t{l} << 32) | MaskIp4(p, l))) {
        if (ListedWord(s->val)) return true;
        break;
      }
    }
  }
  // Otherwise a listed entry longer than the prefix, inside it (while the
  // summary is being built: assume so, as before issue 9).
  const EntSummary* e = ds.ent();
  if (e == nullptr) return true;
  switch (len) {
    case 0:
      return e->any4;
    case 8:
      return e->p8.Contains(p >> 24);
    case 16:
      return e->p16.Contains(p >> 16);
    case 24:
      return e->p24.Contains(p >> 8);
    default:
      return false;
  }
}

// Does IPv6 dataset `ds` list an address inside the prefix hi:lo/len?
bool Ip6PrefixListed(const DsNode& ds, std::uint64_t hi, std::uint64_t lo, unsigned len) noexcept {
  const DatasetView& v = ds.view;
  if (v.type() == DatasetType::kIp6Trie && v.table128().capacity != 0) {
    for (unsigned l = len + 1; l-- > 0;) {
      if ((v.rec().lens6[l / 64] >> (l % 64) & 1) == 0) continue;
      std::uint64_t h = hi, o = lo;
      MaskIp6(h, o, l);
      if (const f::Slot128* s = Find128(v.table128(), h, o, l)) {
        if (ListedWord(s->val)) return true;
        break;
      }
    }
  } else if (v.type() == DatasetType::kIp6TSet && len >= 64 && v.table64().capacity != 0) {
    if (Find64(v.table64(), hi) != nullptr) return true;
  }
  // A listed prefix longer than `len` inside it. Entries as long as `len` or
  // shorter inside the prefix all start at its first address (at most one
  // per length), so the scan after lower_bound is bounded.
  const EntSummary* e = ds.ent();
  if (e == nullptr) return true;  // being built: assume listed, as before issue 9
  const auto& nets = e->nets6;
  auto it = std::lower_bound(nets.begin(), nets.end(), EntSummary::Net6{hi, lo, 0});
  for (int k = 0; k < 130 && it != nets.end(); ++k, ++it) {
    std::uint64_t h = it->hi, o = it->lo;
    MaskIp6(h, o, len);
    if (h != hi || o != lo) return false;
    if (it->len > len) return true;
  }
  return false;
}

// Parses 1-31 nibble labels (reversed, least significant first) into the
// prefix they name; false if `rel` is no such name.
bool ParseNibblePrefix(std::span<const std::uint8_t> rel, std::uint64_t* hi, std::uint64_t* lo,
                       unsigned* len) noexcept {
  if (!IsIp6Parent(rel)) return false;
  const std::size_t n = rel.size() / 2;
  std::uint64_t h = 0, l = 0;
  for (std::size_t k = 0; k < n; ++k) {  // most significant nibble first
    const std::uint8_t c = rel[rel.size() - 1 - 2 * k];
    const std::uint64_t nib = c <= '9' ? std::uint64_t{c} - '0' : std::uint64_t{c} - 'a' + 10;
    if (k < 16) {
      h |= nib << (60 - 4 * k);
    } else {
      l |= nib << (60 - 4 * (k - 16));
    }
  }
  *hi = h;
  *lo = l;
  *len = static_cast<unsigned>(4 * n);
  return true;
}

// The IPv4 prefix that a nibble prefix of a 6to4 (2002::/16) or v4-mapped
// (::ffff:0:0/96) name reaches, rounded down to whole octets (a prefix
// between octets may be NODATA where only its enclosing octet prefix holds
// data; documented); false if the nibbles lead to neither.
bool MappedIp4Prefix(std::uint64_t hi, std::uint64_t lo, unsigned len, std::uint32_t* p4,
                     unsigned* len4) noexcept {
  auto top_matches = [&](std::uint64_t want_hi, std::uint64_t want_lo, unsigned bits) {
    std::uint64_t h = want_hi, o = want_lo;
    const unsigned m = len < bits ? len : bits;
    MaskIp6(h, o, m);
    std::uint64_t qh = hi, qo = lo;
    MaskIp6(qh, qo, m);
    return h == qh && o == qo;
  };
  unsigned l4 = 0;
  std::uint32_t v4 = 0;
  if (top_matches(std::uint64_t{0x2002} << 48, 0, 16)) {  // 2002:AABB:CCDD::/48
    l4 = len <= 16 ? 0 : (len - 16 > 32 ? 32 : len - 16);
    v4 = static_cast<std::uint32_t>(hi >> 16);
  } else if (top_matches(0, std::uint64_t{0xffff} << 32, 96)) {  // ::ffff:a.b.c.d
    l4 = len <= 96 ? 0 : len - 96;
    v4 = static_cast<std::uint32_t>(lo);
  } else {
    return false;
  }
  if (l4 < 32) l4 &= ~7u;
  *len4 = l4;
  *p4 = MaskIp4(v4, l4);
  return true;
}

// Parses 1-3 decimal labels (reversed octets) into a /8, /16 or /24 prefix.
bool ParseIp4Prefix(std::span<const std::uint8_t> rel, std::uint32_t* p, unsigned* len) noexcept {
  if (!IsIp4Parent(rel)) return false;
  std::uint32_t octets[3];
  int n = 0;
  for (std::size_t i = 0; i < rel.size(); i += 1 + std::size_t{rel[i]}) {
    std::uint32_t v = 0;
    for (std::size_t k = 1; k <= rel[i]; ++k) v = v * 10 + (rel[i + k] - '0');
    octets[n++] = v;
  }
  std::uint32_t addr = 0;
  for (int k = 0; k < n; ++k) addr |= octets[n - 1 - k] << (24 - 8 * k);
  *p = addr;
  *len = static_cast<unsigned>(8 * n);
  return true;
}

bool IsEntOf(const DsNode& ds, std::span<const std::uint8_t> rel, bool map_ip4,
             EntMode mode) noexcept {
  std::uint32_t unused;
  std::uint64_t hi = 0, lo = 0;
  unsigned len = 0;
  switch (ds.view.answer_kind()) {
    case AnswerKind::kIp4: {
      if (mode == EntMode::kHidden) return false;
      std::uint32_t p4 = 0;
      unsigned len4 = 0;
      if (ParseIp4Prefix(rel, &p4, &len4) &&
          (mode == EntMode::kAlways || Ip4PrefixListed(ds, p4, len4))) {
        return true;
      }
      // IPv6 names reach IPv4 data too (6to4, v4-mapped); but a complete
      // IPv4 name (`9.9.9.9`) is a data query, never a nibble prefix.
      if (!ParseNibblePrefix(rel, &hi, &lo, &len) || ParseIp4Labels(rel, &unused) ||
          !MappedIp4Prefix(hi, lo, len, &p4, &len4)) {
        return false;
      }
      return mode == EntMode::kAlways || Ip4PrefixListed(ds, p4, len4);
    }
    case AnswerKind::kIp6:
      if (mode == EntMode::kHidden) return false;
      if (!ParseNibblePrefix(rel, &hi, &lo, &len)) return false;
      if (map_ip4 && ParseIp4Labels(rel, &unused)) return false;  // an IPv4 query
      return mode == EntMode::kAlways || Ip6PrefixListed(ds, hi, lo, len);
    case AnswerKind::kName:
      if (mode == EntMode::kHidden) return false;
      return std::binary_search(ds.ent_hashes.begin(), ds.ent_hashes.end(), HashName(rel));
    case AnswerKind::kRecords:  // an ACL hides no generic name (§4.9)
      return std::binary_search(ds.ent_hashes.begin(), ds.ent_hashes.end(), HashName(rel));
    case AnswerKind::kSubZones:
      for (const SubZoneNode& sz : ds.subs) {
        if (dns::SuffixOffset(sz.name, rel) > 0) return true;  // parent of a sub-zone apex
      }
      for (const SubZoneNode& sz : ds.subs) {
        const int off = dns::SuffixOffset(rel, sz.name);
        if (off < 0) continue;
        if (off == 0) return false;  // the sub-zone apex exists anyway
        bool sub_ip4 = false;
        for (const DsNode* child : sz.datasets) sub_ip4 |= child->view.is_ip4();
        const auto sub_rel = rel.first(static_cast<std::size_t>(off));
        for (const DsNode* child : sz.datasets) {
          if (IsEntOf(*child, sub_rel, sub_ip4, mode)) return true;
        }
        return false;  // most specific sub-zone only
      }
      return false;
    case AnswerKind::kNone:
      return false;
  }
  return false;
}

// IsEntOf for a live list: its layers answer as an ip4trie, an ip6trie and
// a dnset would.
bool LivePrefixListed4(const LiveTables& t, std::uint32_t p, unsigned len) noexcept {
  // An entry as long as the prefix or shorter decides for the whole prefix.
  if (LookupLive4(t, p, static_cast<int>(len)).match == Match::kListed) return true;
  for (const LiveLayer* l : {t.delta.get(), t.mid.get(), t.base.get()}) {
    if (l != nullptr && l->ListedInside4(p, len)) return true;
  }
  return false;
}

bool LivePrefixListed6(const LiveTables& t, std::uint64_t hi, std::uint64_t lo,
                       unsigned len) noexcept {
  if (LookupLive6(t, hi, lo, static_cast<int>(len)).match == Match::kListed) return true;
  for (const LiveLayer* l : {t.delta.get(), t.mid.get(), t.base.get()}) {
    if (l != nullptr && l->ListedInside6(hi, lo, len)) return true;
  }
  return false;
}

bool IsLiveEnt(const LiveTables& t, std::span<const std::uint8_t> rel, bool map_ip4,
               EntMode mode) noexcept {
  if (mode == EntMode::kHidden) return false;
  bool has4 = false, has6 = false, has_names = false;
  for (const LiveLayer* l : {t.delta.get(), t.mid.get(), t.base.get()}) {
    if (l == nullptr) continue;
    has4 |= l->has_ip4();
    has6 |= l->has_ip6();
    has_names |= l->has_names();
  }
  const bool always = mode == EntMode::kAlways;
  std::uint32_t p4 = 0, unused = 0;
  unsigned len4 = 0, len = 0;
  std::uint64_t hi = 0, lo = 0;
  if (has4) {
    if (ParseIp4Prefix(rel, &p4, &len4) && (always || LivePrefixListed4(t, p4, len4))) return true;
    if (ParseNibblePrefix(rel, &hi, &lo, &len) && !ParseIp4Labels(rel, &unused) &&
        MappedIp4Prefix(hi, lo, len, &p4, &len4) && (always || LivePrefixListed4(t, p4, len4))) {
      return true;
    }
  }
  if (has6 && ParseNibblePrefix(rel, &hi, &lo, &len) &&
      !((map_ip4 || has4) && ParseIp4Labels(rel, &unused)) &&
      (always || LivePrefixListed6(t, hi, lo, len))) {
    return true;
  }
  if (has_names) {
    for (const LiveLayer* l : {t.delta.get(), t.mid.get(), t.base.get()}) {
      if (l != nullptr && l->ListedBelow(rel)) return true;
    }
  }
  return false;
}

// All RRs of one type in the answer get the minimum TTL among them (§5).
// Linear in the answer: one pass for the minimum of each type, one to set.
void EqualizeTtls(Answer* out) noexcept {
  constexpr int kTypes = 8;
  std::uint16_t types[kTypes];
  std::uint32_t mins[kTypes];
  int ntypes = 0;
  bool many = false;  // more distinct types than tracked: fall back below
  for (int i = 0; i < out->answer_count; ++i) {
    const Rr& r = out->answer[i];
    int t = 0;
    while (t < ntypes && types[t] != r.type) ++t;
    if (t == ntypes) {
      if (ntypes == kTypes) {
        many = true;
        continue;
      }
      types[ntypes] = r.type;
      mins[ntypes++] = r.ttl;
    } else if (r.ttl < mins[t]) {
      mins[t] = r.ttl;
    }
  }
  for (int i = 0; i < out->answer_count; ++i) {
    Rr& r = out->answer[i];
    int t = 0;
    while (t < ntypes && types[t] != r.type) ++t;
    if (t < ntypes) {
      r.ttl = mins[t];
    } else if (many) {
      for (int j = 0; j < out->answer_count; ++j) {
        if (out->answer[j].type == r.type && out->answer[j].ttl < r.ttl) r.ttl = out->answer[j].ttl;
      }
    }
  }
}

// ACL precedence across the global and the zone ACL (§4.9).
int Rank(const AclResult& r) noexcept {
  if (!r.matched) return 0;
  switch (r.action) {
    case AclAction::kIgnore:
      return 4;
    case AclAction::kRefuse:
      return 3;
    case AclAction::kEmpty:
      return 2;
    case AclAction::kAlways:
      return 1;
    case AclAction::kPass:
      return 0;
  }
  return 0;
}

}  // namespace

void Resolve(const ZoneSet& zones, const QueryOptions& options, const Query& q,
             Answer* out) noexcept {
  out->Reset();
  const AclResult global = AclFor(zones.global_acl(), q.client);
  if (global.matched && global.action == AclAction::kIgnore) {
    out->drop = true;
    return;
  }
  const ZoneNode* zone = nullptr;
  int off = -1;
  for (const ZoneNode& z : zones.zones()) {
    off = dns::SuffixOffset(q.qname, z.name);
    if (off >= 0) {
      zone = &z;
      break;
    }
  }
  if (zone == nullptr) {
    out->rcode = Rcode::kRefused;
    return;
  }
  out->zone = zone;
  const AclResult local = AclFor(zone->acl, q.client);
  const AclResult& acl = Rank(global) >= Rank(local) ? global : local;
  if (acl.matched && acl.action == AclAction::kIgnore) {
    out->drop = true;
    return;
  }
  // A zone not (fully) loaded or expired is not serviced: SERVFAIL, before
  // the ACL's `refuse` (rbldnsd checks its zone stamp there).
  // A zone with live lists before their tables are published is not
  // loaded yet either.
  if (zone->failed || (zone->expires != 0 && q.now >= zone->expires) ||
      (!zone->live.empty() && q.overlays == nullptr)) {
    out->rcode = Rcode::kServFail;
    return;
  }
  if (acl.matched && acl.action == AclAction::kRefuse) {
    out->rcode = Rcode::kRefused;
    return;
  }
  out->aa = !q.class_any;

  const auto rel = q.qname.first(static_cast<std::size_t>(off));
  Subject subj;
  ParseSubject(rel, zone->has_ip4, &subj);
  Context ctx{q,       out, &subj, rel, acl.matched && acl.action == AclAction::kEmpty,
              nullptr, 0,   {},    0};
  if (acl.matched && acl.action == AclAction::kAlways) {
    // The global ACL's value wins when both say "always listed".
    ctx.always_acl =
        global.matched && global.action == AclAction::kAlways ? zones.global_acl() : zone->acl;
    ctx.always_value =
        global.matched && global.action == AclAction::kAlways ? global.value : local.value;
    if (q.client.family == 4) {
      ctx.client_len = FormatIp4(q.client.v4, ctx.client_text);
    } else if (q.client.family == 6) {
      ctx.client_len =
          FormatIp6(dns::IpAddress::V6(q.client.hi, q.client.lo).bytes().data(), ctx.client_text);
    }
  }

  bool found = false;
  if (ctx.rel.empty()) {
    // §5 step 9: the apex exists; SOA/ANY needs $SOA, NS/ANY needs $NS.
    found = true;
    const bool want_soa = q.qtype == kTypeSoa || q.qtype == kTypeAny;
    const bool want_ns = q.qtype == kTypeNs || q.qtype == kTypeAny;
    if ((want_soa && zone->soa == nullptr) || (want_ns && zone->ns == nullptr)) {
      out->rcode = Rcode::kRefused;
      out->aa = false;
      return;
    }
    if (want_soa) AddSoa(*zone, out, false);
    if (want_ns) AddNs(*zone, q.overlays, out, false);
  }
  for (const DsNode* ds : zone->datasets) found |= Eval(ctx, *ds, ctx.rel);
  if (q.overlays != nullptr) {
    for (const std::uint32_t slot : zone->live) {
      if (const LiveTables* t = q.overlays->list(slot)) found |= EvalLive(ctx, *t, ctx.rel);
    }
  }
  EqualizeTtls(out);
  if (!found && !ctx.rel.empty()) {
    // Issues 3 and 9: empty non-terminals are NODATA where something is
    // listed below (for this client). A more specific served zone below
    // this name also makes it one.
    for (const ZoneNode& z : zones.zones()) {
      if (&z != zone && dns::SuffixOffset(z.name, q.qname) > 0) found = true;
    }
    const EntMode mode = ctx.acl_empty               ? EntMode::kHidden
                         : ctx.always_acl != nullptr ? EntMode::kAlways
                                                     : EntMode::kData;
    for (const DsNode* ds : zone->datasets) {
      if (found) break;
      found = IsEntOf(*ds, ctx.rel, zone->has_ip4, mode);
    }
    // Live lists: a layer listing something below makes the name exist (a
    // deletion still in the delta leaves the base's entry counted until the
    // next compaction: NODATA where NXDOMAIN is due, for seconds).
    for (std::size_t i = 0; !found && q.overlays != nullptr && i < zone->live.size(); ++i) {
      const LiveTables* t = q.overlays->list(zone->live[i]);
      if (t != nullptr) found = IsLiveEnt(*t, ctx.rel, zone->has_ip4, mode);
    }
    out->empty_non_terminal = found;
  }
  out->found = found;
  if (!found) {
    out->rcode = Rcode::kNxDomain;
    if (zone->soa != nullptr) AddSoa(*zone, out, true);
  } else if (out->answer_count == 0) {
    if (zone->soa != nullptr) AddSoa(*zone, out, true);
  } else if (!options.lazy && zone->ns != nullptr) {
    AddNs(*zone, q.overlays, out, true);
  }
}

}  // namespace meshbl::table
