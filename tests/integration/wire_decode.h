// ldns-based query building and reply decoding shared by the wire-level
// integration tests (wire_differential_test, dump_test): identical query
// bytes for every server, replies decoded into comparable sections.
#ifndef MESHBL_TESTS_INTEGRATION_WIRE_DECODE_H_
#define MESHBL_TESTS_INTEGRATION_WIRE_DECODE_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ldns_ptr.h"
#include "wire_test_util.h"

// ldns last: its C headers define macros that upset C++ standard headers.
#include <ldns/ldns.h>  // NOLINT(build/include_order)

namespace meshbl::integration {

inline constexpr std::uint16_t kClassIn = 1;

// One query on the wire.
struct WireQuery {
  std::string name;  // presentation form, letter case as sent
  std::uint16_t qtype = 1;
  std::uint16_t qclass = kClassIn;
  bool rd = false, aa = false, tc = false, ad = false, cd = false, z = false;
  int opcode = 0;
  // EDNS (meshbld-alone tests only).
  bool edns = false;
  std::uint16_t udp_size = 0;
  std::uint8_t edns_version = 0;
  bool do_bit = false;
};

inline std::string ClassName(std::uint16_t c) {
  CharPtr s(ldns_rr_class2str(static_cast<ldns_rr_class>(c)));
  return s ? s.get() : std::to_string(c);
}

inline std::string TypeText(std::uint16_t t) {
  CharPtr s(ldns_rr_type2str(static_cast<ldns_rr_type>(t)));
  return s ? s.get() : std::to_string(t);
}

inline std::string Describe(const WireQuery& q) {
  return absl::StrFormat("%s. %s %s opcode=%d%s%s%s%s%s%s%s", q.name, ClassName(q.qclass),
                         TypeText(q.qtype), q.opcode, q.rd ? " +rd" : "", q.aa ? " +aa" : "",
                         q.tc ? " +tc" : "", q.ad ? " +ad" : "", q.cd ? " +cd" : "",
                         q.z ? " +z" : "",
                         q.edns ? absl::StrFormat(" edns(udp=%u,v=%u%s)", q.udp_size,
                                                  q.edns_version, q.do_bit ? ",do" : "")
                                : "");
}

// The query bytes, built with ldns (the Z bit, which ldns has no setter for,
// is patched into the wire).
inline Bytes BuildQuery(const WireQuery& q, std::uint16_t id) {
  ldns_rdf* dn = ldns_dname_new_frm_str(q.name.c_str());
  if (dn == nullptr) return {};
  PktPtr p(ldns_pkt_query_new(dn, static_cast<ldns_rr_type>(q.qtype),
                              static_cast<ldns_rr_class>(q.qclass), 0));
  ldns_pkt_set_id(p.get(), id);
  ldns_pkt_set_rd(p.get(), q.rd);
  ldns_pkt_set_aa(p.get(), q.aa);
  ldns_pkt_set_tc(p.get(), q.tc);
  ldns_pkt_set_ad(p.get(), q.ad);
  ldns_pkt_set_cd(p.get(), q.cd);
  ldns_pkt_set_opcode(p.get(), static_cast<ldns_pkt_opcode>(q.opcode));
  if (q.edns) {
    ldns_pkt_set_edns_udp_size(p.get(), q.udp_size);
    ldns_pkt_set_edns_version(p.get(), q.edns_version);
    ldns_pkt_set_edns_do(p.get(), q.do_bit);
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, p.get(), &size) != LDNS_STATUS_OK) return {};
  std::unique_ptr<std::uint8_t, FreeDeleter> holder(wire);
  Bytes out(wire, wire + size);
  if (q.z) out[3] |= 0x40;
  return out;
}

// The question bytes of a message: from offset 12 to the end of the first
// question (uncompressed name + 4), or empty.
inline Bytes QuestionBytes(const Bytes& m) {
  std::size_t pos = 12;
  for (int labels = 0; labels < 128 && pos < m.size(); ++labels) {
    const std::uint8_t l = m[pos];
    if (l == 0) {
      if (pos + 5 > m.size()) return {};
      return Bytes(m.begin() + 12, m.begin() + static_cast<std::ptrdiff_t>(pos + 5));
    }
    if (l > 63) return {};
    pos += 1 + l;
  }
  return {};
}

struct Rec {
  std::string owner;  // presentation, case as on the wire
  std::uint16_t type = 0, rclass = 0;
  std::uint32_t ttl = 0;
  Bytes rdata;  // uncompressed, names with the letter case sent
  friend auto operator<=>(const Rec&, const Rec&) = default;
};

struct Decoded {
  bool ok = false;
  Bytes raw;
  std::string text;  // dig-like (ldns_pkt2str)
  std::uint16_t id = 0;
  std::uint8_t flags1 = 0, flags2 = 0;
  std::uint16_t qdcount = 0;
  Bytes question;
  std::vector<Rec> sections[3];  // sorted: ANSWER, AUTHORITY, ADDITIONAL
  bool edns = false;
  std::uint16_t edns_udp = 0;
  std::uint8_t edns_ext_rcode = 0, edns_version = 0;
  bool edns_do = false;

  int rcode() const { return flags2 & 0x0f; }
  bool tc() const { return (flags1 & 0x02) != 0; }
  std::size_t count(int s) const { return sections[s].size(); }
};

inline void ReadSection(const ldns_rr_list* list, std::vector<Rec>* out) {
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(list, i);
    Rec rec;
    CharPtr owner(ldns_rdf2str(ldns_rr_owner(rr)));
    rec.owner = owner ? owner.get() : "?";
    rec.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    rec.rclass = static_cast<std::uint16_t>(ldns_rr_get_class(rr));
    rec.ttl = ldns_rr_ttl(rr);
    ldns_buffer* buf = ldns_buffer_new(512);
    ldns_rr_rdata2buffer_wire(buf, rr);
    rec.rdata.assign(ldns_buffer_begin(buf), ldns_buffer_begin(buf) + ldns_buffer_position(buf));
    ldns_buffer_free(buf);
    out->push_back(std::move(rec));
  }
  std::sort(out->begin(), out->end());
}

inline Decoded Decode(const Bytes& wire) {
  Decoded d;
  d.raw = wire;
  if (wire.size() < 12) {
    d.text = absl::StrFormat(";; runt reply of %u bytes\n", wire.size());
    return d;
  }
  d.id = static_cast<std::uint16_t>((wire[0] << 8) | wire[1]);
  d.flags1 = wire[2];
  d.flags2 = wire[3];
  d.qdcount = static_cast<std::uint16_t>((wire[4] << 8) | wire[5]);
  d.question = QuestionBytes(wire);
  ldns_pkt* raw = nullptr;
  const ldns_status st = ldns_wire2pkt(&raw, wire.data(), wire.size());
  if (st != LDNS_STATUS_OK) {
    d.text = std::string(";; undecodable reply: ") + ldns_get_errorstr_by_id(st) + "\n";
    return d;
  }
  PktPtr pkt(raw);
  CharPtr text(ldns_pkt2str(pkt.get()));
  d.text = text ? text.get() : "";
  d.edns = ldns_pkt_edns(pkt.get());
  d.edns_udp = ldns_pkt_edns_udp_size(pkt.get());
  d.edns_ext_rcode = ldns_pkt_edns_extended_rcode(pkt.get());
  d.edns_version = ldns_pkt_edns_version(pkt.get());
  d.edns_do = ldns_pkt_edns_do(pkt.get());
  ReadSection(ldns_pkt_answer(pkt.get()), &d.sections[0]);
  ReadSection(ldns_pkt_authority(pkt.get()), &d.sections[1]);
  ReadSection(ldns_pkt_additional(pkt.get()), &d.sections[2]);
  d.ok = true;
  return d;
}

inline std::string FlagsText(std::uint8_t f1, std::uint8_t f2) {
  return absl::StrFormat("opcode=%d%s%s%s%s%s%s%s rcode=%d", (f1 >> 3) & 15, f1 & 0x80 ? " qr" : "",
                         f1 & 0x04 ? " aa" : "", f1 & 0x02 ? " tc" : "", f1 & 0x01 ? " rd" : "",
                         f2 & 0x80 ? " ra" : "", f2 & 0x40 ? " z" : "",
                         std::string(f2 & 0x20 ? " ad" : "") + (f2 & 0x10 ? " cd" : ""), f2 & 0x0f);
}

inline std::string Show(const char* who, bool got, const Decoded& d) {
  if (!got) return absl::StrFormat("---------- %s ----------\n;; no reply\n", who);
  return absl::StrFormat("---------- %s (%u bytes, raw flags %s) ----------\n%s", who, d.raw.size(),
                         FlagsText(d.flags1, d.flags2), d.text);
}

}  // namespace meshbl::integration

#endif  // MESHBL_TESTS_INTEGRATION_WIRE_DECODE_H_
