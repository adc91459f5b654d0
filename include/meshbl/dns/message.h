// DNS messages as meshbld sees them: parsing one query (reference/rbldnsd.md
// §5 steps 2-3, EDNS) and encoding a reply into a caller buffer with name
// compression, whole-RRset truncation and the OPT RR (§9 differences).
//
// Everything here is noexcept, allocation-free and lock-free; ParsedQuery
// and ReplyWriter are per-worker/per-packet values over caller memory.
#ifndef MESHBL_DNS_MESSAGE_H_
#define MESHBL_DNS_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "meshbl/dns/name.h"
#include "meshbl/dns/types.h"
#include "meshbl/dns/wire.h"

namespace meshbl::dns {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kOptRrSize = 11;  // root owner, no options

// Header flag bits: byte 1 (offset 2) and byte 2 (offset 3).
inline constexpr std::uint8_t kFlagQr = 0x80;
inline constexpr std::uint8_t kFlagOpcode = 0x78;
inline constexpr std::uint8_t kFlagAa = 0x04;
inline constexpr std::uint8_t kFlagTc = 0x02;
inline constexpr std::uint8_t kFlagRd = 0x01;
inline constexpr std::uint8_t kRcodeMask = 0x0f;

// Why a packet is not answered at all (§5 step 2: silently dropped).
enum class ParseVerdict : std::uint8_t {
  kOk,
  kShort,    // shorter than header + name + 4
  kQr,       // QR=1 (a response)
  kQdCount,  // QDCOUNT != 1
  kName,     // label > 63, name > 255, runs past the end, compression pointer
};

struct Edns {
  bool present = false;  // OPT recognised (NSCOUNT=0, ARCOUNT=1, right after the question)
  std::uint16_t udp_size = 0;
  std::uint8_t ext_rcode = 0;
  std::uint8_t version = 0;
  bool do_bit = false;
};

// One parsed query. `qname` holds the question name lowercased as a label
// sequence without the root label (what table::Resolve takes); the name as
// sent (original case) stays in the packet at [kHeaderSize, question_end).
struct ParsedQuery {
  std::uint16_t id = 0;
  std::uint8_t flags1 = 0;  // header byte 2: QR, opcode, AA, TC, RD
  std::uint8_t flags2 = 0;  // header byte 3: RA, Z, AD, CD, rcode
  std::uint8_t qname[kMaxLabels];
  std::size_t qname_len = 0;
  int qname_labels = 0;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::size_t question_end = 0;  // offset just past QTYPE/QCLASS
  Edns edns;

  std::span<const std::uint8_t> name() const noexcept { return {qname, qname_len}; }
  // The question section as sent (name with original case, type, class).
  std::span<const std::uint8_t> question(std::span<const std::uint8_t> packet) const noexcept {
    return packet.subspan(kHeaderSize, question_end - kHeaderSize);
  }
};

// Parses `packet` as a query. On kOk `*out` is filled; otherwise the packet
// must be dropped without a reply. Extra bytes after the question, and
// AN/NS/AR records other than the OPT described in Edns, are ignored.
ParseVerdict ParseQuery(std::span<const std::uint8_t> packet, ParsedQuery* out) noexcept;

enum class Section : std::uint8_t { kAnswer = 0, kAuthority = 1, kAdditional = 2 };

// Builds one reply: header, the question as sent, then RRs section by
// section (answer, then authority, then additional), then the OPT RR.
//
// Owners are either a compression pointer target (an offset into the reply,
// e.g. QuestionNameOffset(n) for the question name or one of its suffixes)
// or a label sequence, compressed against names already written. Names in
// NS and SOA rdata are compressed too; MX rdata is written as stored (as
// rbldnsd does). An RR that does not fit within
// the limit (or a 65535th RR in a section) is not written at all and AddRr
// returns false; mark()/Rewind() undo whole RRsets. There is no other cap on
// the number of RRs.
class ReplyWriter {
 public:
  // At most `limit` bytes of `buf` are used; with `edns`, kOptRrSize of them
  // are kept for the OPT RR that Finish() appends.
  ReplyWriter(std::span<std::uint8_t> buf, std::size_t limit, bool edns) noexcept;

  // Writes the header (id, flags, QDCOUNT=1, other counts 0) and copies the
  // question as sent. False when even that does not fit. Names written later
  // (rdata, glue owners) may compress against the question's labels from
  // byte `first_target` of the name on: Respond passes the zone's offset, so
  // that, as in rbldnsd, only the zone part of the question (in the case the
  // client sent) is reused and other names keep their own case.
  bool Start(const ParsedQuery& q, std::span<const std::uint8_t> packet, std::uint8_t flags1,
             std::uint8_t flags2, std::size_t first_target = 0) noexcept;

  // Offset in the reply of the question name's suffix that starts `prefix`
  // bytes into it (0 = the whole question name). A compression target.
  static constexpr std::uint16_t QuestionNameOffset(std::size_t prefix) noexcept {
    return static_cast<std::uint16_t>(kHeaderSize + prefix);
  }

  bool AddRr(Section s, std::uint16_t owner_offset, std::uint16_t type, std::uint16_t rclass,
             std::uint32_t ttl, std::span<const std::uint8_t> rdata) noexcept;
  bool AddRr(Section s, std::span<const std::uint8_t> owner_labels, std::uint16_t type,
             std::uint16_t rclass, std::uint32_t ttl, std::span<const std::uint8_t> rdata) noexcept;

  struct Mark {
    WireWriter::Mark wire;
    std::uint16_t counts[3];
    int names;
    int section;
  };
  Mark mark() const noexcept;
  void Rewind(const Mark& m) noexcept;

  std::uint8_t flags1() const noexcept { return flags1_; }
  std::uint8_t flags2() const noexcept { return flags2_; }
  void set_flags(std::uint8_t flags1, std::uint8_t flags2) noexcept {
    flags1_ = flags1;
    flags2_ = flags2;
  }
  void SetTc() noexcept { flags1_ |= kFlagTc; }
  int count(Section s) const noexcept { return counts_[static_cast<int>(s)]; }
  std::size_t size() const noexcept { return w_.pos(); }

  // Appends the OPT RR (when constructed with `edns`: advertised payload
  // `udp_payload`, extended rcode `ext_rcode` (upper 8 bits of a 12-bit
  // rcode), version 0, DO copied from `do_bit`), writes flags and counts and
  // returns the reply length, or 0 if Start() failed.
  std::size_t Finish(std::uint16_t udp_payload, std::uint8_t ext_rcode, bool do_bit) noexcept;

 private:
  static constexpr int kMaxNames = 64;  // compression targets remembered

  bool Begin(Section s) noexcept;
  bool AddRrTail(Section s, const Mark& m, std::uint16_t type, std::uint16_t rclass,
                 std::uint32_t ttl, std::span<const std::uint8_t> rdata) noexcept;
  void WriteName(std::span<const std::uint8_t> labels) noexcept;
  void WriteRdata(std::uint16_t type, std::span<const std::uint8_t> rdata) noexcept;
  // Whether the name at reply offset `at` equals `labels`: labels of the
  // question without regard to letter case, labels written since byte for
  // byte (so a $NS/$SOA name keeps its case, as in rbldnsd).
  bool NameMatches(std::size_t at, std::span<const std::uint8_t> labels) const noexcept;

  WireWriter w_;
  bool edns_;
  bool started_ = false;
  std::uint8_t flags1_ = 0, flags2_ = 0;
  std::uint16_t counts_[3] = {0, 0, 0};
  std::size_t limit_;               // including the OPT reserve
  int section_ = 0;                 // sections are written in order
  std::uint16_t names_[kMaxNames];  // reply offsets where an uncompressed label starts
  int name_count_ = 0;
  std::size_t qname_end_ = 0;  // labels before this offset (the question) match in any case
};

}  // namespace meshbl::dns

#endif  // MESHBL_DNS_MESSAGE_H_
