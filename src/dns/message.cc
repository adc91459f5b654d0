// Per-packet code (MESHBL_HOT_SOURCES): no allocation, no exceptions, no locks.
#include "meshbl/dns/message.h"

namespace meshbl::dns {

namespace {

constexpr std::size_t kMaxSectionRrs = 0xfffe;  // one left for the OPT RR

// Reads an uncompressed name from rdata; false if malformed or compressed.
bool ReadRdataName(WireReader& r, std::span<const std::uint8_t> rdata,
                   std::span<const std::uint8_t>* labels) noexcept {
  const std::size_t start = r.pos();
  for (;;) {
    std::uint8_t l = r.U8();
    if (!r.ok() || l > kMaxLabel) return false;
    if (l == 0) break;
    r.Skip(l);
  }
  if (!r.ok() || r.pos() - start > kMaxNameWire) return false;
  *labels = rdata.subspan(start, r.pos() - start - 1);
  return true;
}

}  // namespace

ParseVerdict ParseQuery(std::span<const std::uint8_t> packet, ParsedQuery* out) noexcept {
  if (packet.size() < kHeaderSize + 1 + 4) return ParseVerdict::kShort;
  WireReader r(packet);
  out->id = r.U16();
  out->flags1 = r.U8();
  out->flags2 = r.U8();
  const std::uint16_t qdcount = r.U16();
  r.Skip(2);  // ANCOUNT: ignored
  const std::uint16_t nscount = r.U16();
  const std::uint16_t arcount = r.U16();
  if (out->flags1 & kFlagQr) return ParseVerdict::kQr;
  if (qdcount != 1) return ParseVerdict::kQdCount;

  std::size_t n = 0;
  int labels = 0;
  for (;;) {
    const std::uint8_t l = r.U8();
    if (!r.ok()) return ParseVerdict::kName;
    if (l == 0) break;
    if (l > kMaxLabel) return ParseVerdict::kName;  // also 0xc0 pointers, 0x40 extended labels
    // The name with its root byte must stay within 255 bytes.
    if (1 + static_cast<std::size_t>(l) > kMaxLabels - n) return ParseVerdict::kName;
    auto bytes = r.Bytes(l);
    if (!r.ok()) return ParseVerdict::kName;
    out->qname[n++] = l;
    for (std::uint8_t c : bytes) out->qname[n++] = ToLowerAscii(c);
    ++labels;
  }
  out->qname_len = n;
  out->qname_labels = labels;
  out->qtype = r.U16();
  out->qclass = r.U16();
  if (!r.ok()) return ParseVerdict::kShort;
  out->question_end = r.pos();

  out->edns = Edns{};
  if (nscount == 0 && arcount == 1 && r.remaining() >= kOptRrSize && r.Peek() == 0) {
    r.Skip(1);
    if (r.U16() == kTypeOpt) {
      out->edns.present = true;
      out->edns.udp_size = r.U16();
      out->edns.ext_rcode = r.U8();
      out->edns.version = r.U8();
      out->edns.do_bit = (r.U16() & 0x8000) != 0;
      // RDLENGTH and options are ignored (rbldnsd does the same).
    }
  }
  return ParseVerdict::kOk;
}

ReplyWriter::ReplyWriter(std::span<std::uint8_t> buf, std::size_t limit, bool edns) noexcept
    : w_(buf), edns_(edns), limit_(limit < buf.size() ? limit : buf.size()) {
  std::size_t content = limit_;
  if (edns_) content = content > kOptRrSize ? content - kOptRrSize : 0;
  w_.SetLimit(content);
}

bool ReplyWriter::Start(const ParsedQuery& q, std::span<const std::uint8_t> packet,
                        std::uint8_t flags1, std::uint8_t flags2,
                        std::size_t first_target) noexcept {
  flags1_ = flags1;
  flags2_ = flags2;
  w_.U16(q.id);
  w_.U8(flags1);
  w_.U8(flags2);
  w_.U16(1);
  w_.U16(0);
  w_.U16(0);
  w_.U16(0);
  if (q.question_end < kHeaderSize || q.question_end > packet.size()) return false;
  w_.Bytes(q.question(packet));
  started_ = w_.ok();
  if (!started_) return false;
  // The labels of the question name from `first_target` on are compression
  // targets.
  qname_end_ = kHeaderSize + q.qname_len;
  std::size_t off = 0;
  while (off < q.qname_len && name_count_ < kMaxNames) {
    if (off >= first_target) names_[name_count_++] = static_cast<std::uint16_t>(kHeaderSize + off);
    off += 1 + std::size_t{q.qname[off]};
  }
  return true;
}

ReplyWriter::Mark ReplyWriter::mark() const noexcept {
  return {w_.mark(), {counts_[0], counts_[1], counts_[2]}, name_count_, section_};
}

void ReplyWriter::Rewind(const Mark& m) noexcept {
  w_.Rewind(m.wire);
  for (int i = 0; i < 3; ++i) counts_[i] = m.counts[i];
  name_count_ = m.names;
  section_ = m.section;
}

bool ReplyWriter::Begin(Section s) noexcept {
  const int idx = static_cast<int>(s);
  if (!started_ || !w_.ok() || idx < section_) return false;
  // No cap below what the message holds (issue 9: rbldnsd's 255 answers
  // never bind within its 2037-byte replies; a 64 KiB TCP reply holds more).
  if (counts_[idx] >= kMaxSectionRrs) return false;
  section_ = idx;
  return true;
}

bool ReplyWriter::NameMatches(std::size_t at, std::span<const std::uint8_t> labels) const noexcept {
  std::size_t i = 0;
  int hops = 0;
  for (;;) {
    if (at >= w_.pos()) return false;
    const std::uint8_t b = w_.At(at);
    if ((b & 0xc0) == 0xc0) {
      if (++hops > 16 || 1 >= w_.pos() - at) return false;
      at = (std::size_t{b & 0x3fu} << 8) | w_.At(at + 1);
      continue;
    }
    if (b == 0) return i == labels.size();
    if (b > kMaxLabel || i >= labels.size() || labels[i] != b) return false;
    if (b >= labels.size() - i || b >= w_.pos() - at) return false;
    const bool fold = at < qname_end_;
    for (std::size_t k = 1; k <= b; ++k) {
      const std::uint8_t x = w_.At(at + k), y = labels[i + k];
      if (fold ? ToLowerAscii(x) != ToLowerAscii(y) : x != y) return false;
    }
    at += 1 + std::size_t{b};
    i += 1 + std::size_t{b};
  }
}

void ReplyWriter::WriteName(std::span<const std::uint8_t> labels) noexcept {
  std::size_t i = 0;
  while (i < labels.size()) {
    const auto suffix = labels.subspan(i);
    for (int e = 0; e < name_count_; ++e) {
      if (NameMatches(names_[e], suffix)) {
        w_.U16(static_cast<std::uint16_t>(0xc000u | names_[e]));
        return;
      }
    }
    const std::size_t l = labels[i];
    if (l == 0 || l > kMaxLabel || l >= labels.size() - i) break;  // malformed: end here
    if (w_.pos() < 0x4000 && name_count_ < kMaxNames) {
      names_[name_count_++] = static_cast<std::uint16_t>(w_.pos());
    }
    w_.Bytes(labels.subspan(i, 1 + l));
    i += 1 + l;
  }
  w_.U8(0);
}

void ReplyWriter::WriteRdata(std::uint16_t type, std::span<const std::uint8_t> rdata) noexcept {
  WireReader r(rdata);
  std::span<const std::uint8_t> n1, n2;
  switch (type) {
    case kTypeNs:
      if (ReadRdataName(r, rdata, &n1) && r.remaining() == 0) {
        WriteName(n1);
        return;
      }
      break;
    case kTypeSoa:
      if (ReadRdataName(r, rdata, &n1) && ReadRdataName(r, rdata, &n2) && r.remaining() == 20) {
        WriteName(n1);
        WriteName(n2);
        w_.Bytes(r.Bytes(20));
        return;
      }
      break;
    // MX (generic data) is written as stored, uncompressed, as rbldnsd
    // writes it: the exchange keeps the letter case of the data.
    default:
      break;
  }
  w_.Bytes(rdata);
}

bool ReplyWriter::AddRrTail(Section s, const Mark& m, std::uint16_t type, std::uint16_t rclass,
                            std::uint32_t ttl, std::span<const std::uint8_t> rdata) noexcept {
  w_.U16(type);
  w_.U16(rclass);
  w_.U32(ttl);
  const std::size_t rdlen_at = w_.pos();
  w_.U16(0);
  WriteRdata(type, rdata);
  if (!w_.ok() || w_.pos() - rdlen_at - 2 > 0xffff) {
    Rewind(m);
    return false;
  }
  w_.PatchU16(rdlen_at, static_cast<std::uint16_t>(w_.pos() - rdlen_at - 2));
  ++counts_[static_cast<int>(s)];
  return true;
}

bool ReplyWriter::AddRr(Section s, std::uint16_t owner_offset, std::uint16_t type,
                        std::uint16_t rclass, std::uint32_t ttl,
                        std::span<const std::uint8_t> rdata) noexcept {
  const Mark m = mark();
  if (!Begin(s)) return false;
  w_.U16(static_cast<std::uint16_t>(0xc000u | (owner_offset & 0x3fffu)));
  return AddRrTail(s, m, type, rclass, ttl, rdata);
}

bool ReplyWriter::AddRr(Section s, std::span<const std::uint8_t> owner_labels, std::uint16_t type,
                        std::uint16_t rclass, std::uint32_t ttl,
                        std::span<const std::uint8_t> rdata) noexcept {
  const Mark m = mark();
  if (!Begin(s)) return false;
  WriteName(owner_labels);
  return AddRrTail(s, m, type, rclass, ttl, rdata);
}

std::size_t ReplyWriter::Finish(std::uint16_t udp_payload, std::uint8_t ext_rcode,
                                bool do_bit) noexcept {
  if (!started_) return 0;
  std::uint16_t arcount = counts_[2];
  w_.SetLimit(limit_);
  if (edns_) {
    const auto m = w_.mark();
    w_.U8(0);  // root owner
    w_.U16(kTypeOpt);
    w_.U16(udp_payload);
    w_.U8(ext_rcode);
    w_.U8(0);  // version 0
    w_.U16(do_bit ? 0x8000 : 0);
    w_.U16(0);  // no options
    if (w_.ok()) {
      ++arcount;
    } else {
      w_.Rewind(m);
    }
  }
  w_.PatchU16(2, static_cast<std::uint16_t>((flags1_ << 8) | flags2_));
  w_.PatchU16(6, counts_[0]);
  w_.PatchU16(8, counts_[1]);
  w_.PatchU16(10, arcount);
  return w_.ok() ? w_.pos() : 0;
}

}  // namespace meshbl::dns
