#include "meshbl/feed/codec.h"

#include <array>
#include <span>

#include "absl/strings/str_cat.h"
#include "meshbl/util/status_macros.h"

namespace meshbl::feed {
namespace {

constexpr std::uint8_t kKeyV4 = 1;
constexpr std::uint8_t kKeyV6 = 2;
constexpr std::uint8_t kKeyName = 3;

class Writer {
 public:
  explicit Writer(std::uint8_t version) { out_.push_back(static_cast<char>(version)); }
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) U8(static_cast<std::uint8_t>(v >> s));
  }
  void I64(std::int64_t v) {
    const auto u = static_cast<std::uint64_t>(v);
    for (int s = 56; s >= 0; s -= 8) U8(static_cast<std::uint8_t>(u >> s));
  }
  void Bytes(std::string_view b) {
    std::size_t n = b.size();
    while (n >= 0x80) {
      U8(static_cast<std::uint8_t>(n | 0x80));
      n >>= 7;
    }
    U8(static_cast<std::uint8_t>(n));
    out_.append(b);
  }
  void Raw(std::span<const std::uint8_t> b) {
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// A bounded reader; every failure names the record kind, field and offset.
class Reader {
 public:
  Reader(std::string_view in, std::string_view kind) : in_(in), kind_(kind) {}

  absl::Status Error(std::string_view field, std::string_view what) const {
    return absl::DataLossError(absl::StrCat(std::string(kind_), " record: ", std::string(field),
                                            " at byte ", pos_, ": ", std::string(what)));
  }
  absl::Status Version() {
    if (in_.empty()) return Error("version", "empty record");
    const auto v = static_cast<std::uint8_t>(in_[0]);
    if (v != kRecordVersion) {
      return Error("version", absl::StrCat("unknown record version ", v, " (this build reads ",
                                           kRecordVersion, ")"));
    }
    pos_ = 1;
    return absl::OkStatus();
  }
  absl::StatusOr<std::uint8_t> U8(std::string_view field) {
    if (in_.size() - pos_ < 1) return Error(field, "truncated");
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  absl::StatusOr<std::uint32_t> U32(std::string_view field) {
    if (in_.size() - pos_ < 4) return Error(field, "truncated");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return v;
  }
  absl::StatusOr<std::int64_t> I64(std::string_view field) {
    if (in_.size() - pos_ < 8) return Error(field, "truncated");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return static_cast<std::int64_t>(v);
  }
  absl::StatusOr<std::string_view> Bytes(std::string_view field) {
    std::size_t n = 0;
    for (int shift = 0;; shift += 7) {
      if (shift > 21) return Error(field, "length over 16 MiB");
      if (in_.size() - pos_ < 1) return Error(field, "truncated length");
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      if (b == 0 && shift > 0) return Error(field, "non-canonical length");
      n |= static_cast<std::size_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (n > kMaxRecordString) return Error(field, "length over 16 MiB");
    if (n > in_.size() - pos_) {
      return Error(
          field, absl::StrCat("truncated: ", n, " bytes announced, ", in_.size() - pos_, " left"));
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  absl::StatusOr<std::string> Str(std::string_view field) {
    MESHBL_ASSIGN_OR_RETURN(std::string_view s, Bytes(field));
    return std::string(s);
  }
  absl::StatusOr<Origin> OriginField() {
    MESHBL_ASSIGN_OR_RETURN(std::uint8_t o, U8("origin"));
    if (o < static_cast<std::uint8_t>(Origin::kRule) ||
        o > static_cast<std::uint8_t>(Origin::kPeer))
      return Error("origin", absl::StrCat("unknown origin ", o));
    return static_cast<Origin>(o);
  }
  absl::StatusOr<Subject> SubjectField() {
    const std::size_t at = pos_;
    MESHBL_ASSIGN_OR_RETURN(std::string_view key, Bytes("subject"));
    auto s = DecodeSubjectKey(key);
    if (!s.ok()) {
      pos_ = at;
      return Error("subject", std::string(s.status().message()));
    }
    return s;
  }
  absl::Status End() const {
    if (pos_ != in_.size()) return Error("end", absl::StrCat(in_.size() - pos_, " trailing bytes"));
    return absl::OkStatus();
  }

 private:
  std::string_view in_;
  std::string_view kind_;
  std::size_t pos_ = 0;
};

absl::Status KeyError(std::string_view what) {
  return absl::DataLossError(absl::StrCat("subject key: ", std::string(what)));
}

}  // namespace

std::string EncodeSubjectKey(const Subject& s) {
  std::string k;
  if (s.kind == Subject::Kind::kIp) {
    k.push_back(static_cast<char>(s.addr.is_v4() ? kKeyV4 : kKeyV6));
    const auto b = s.addr.bytes();
    k.append(reinterpret_cast<const char*>(b.data()), b.size());
    k.push_back(static_cast<char>(s.len));
    return k;
  }
  k.push_back(static_cast<char>(kKeyName));
  std::string_view n = s.name;
  while (!n.empty()) {
    const auto dot = n.rfind('.');
    const std::string_view label = dot == std::string_view::npos ? n : n.substr(dot + 1);
    k.append(label);
    k.push_back('\0');
    n = dot == std::string_view::npos ? std::string_view() : n.substr(0, dot);
  }
  k.push_back(s.wildcard ? '\1' : '\0');
  return k;
}

std::string SubjectKeyPrefixBelow(std::string_view name) {
  Subject s;
  s.kind = Subject::Kind::kName;
  s.name = std::string(name);
  std::string k = EncodeSubjectKey(s);
  k.pop_back();  // the exact/wildcard byte
  return k;
}

absl::StatusOr<Subject> DecodeSubjectKey(std::string_view key) {
  if (key.empty()) return KeyError("empty");
  const auto tag = static_cast<std::uint8_t>(key[0]);
  if (tag == kKeyV4 || tag == kKeyV6) {
    const std::size_t n = tag == kKeyV4 ? 4 : 16;
    if (key.size() != n + 2) {
      return KeyError(absl::StrCat(tag == kKeyV4 ? "IPv4" : "IPv6", " key of ", key.size(),
                                   " bytes, expected ", n + 2));
    }
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(key[1 + i]);
    const dns::IpAddress a =
        tag == kKeyV4
            ? dns::IpAddress::V4((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                 (std::uint32_t{b[2]} << 8) | b[3])
            : dns::IpAddress::V6(std::span<const std::uint8_t, 16>(b));
    const auto len = static_cast<std::uint8_t>(key[n + 1]);
    if (len > a.bits()) return KeyError(absl::StrCat("prefix length ", len, " above ", a.bits()));
    if (!(a.Masked(len) == a)) return KeyError("host bits set");
    return Subject::Ip(a, len);
  }
  if (tag != kKeyName) return KeyError(absl::StrCat("unknown kind ", tag));
  // Labels from the top, each ended by 0x00, then the wildcard byte.
  std::string name;
  std::size_t pos = 1;
  for (;;) {
    if (pos >= key.size()) return KeyError("truncated name");
    if (key[pos] == '\0' || key[pos] == '\1') break;
    const auto end = key.find('\0', pos);
    if (end == std::string_view::npos) return KeyError("truncated label");
    const std::string_view label = key.substr(pos, end - pos);
    if (label.find('.') != std::string_view::npos) return KeyError("a label holds a '.'");
    name = name.empty() ? std::string(label) : absl::StrCat(std::string(label), ".", name);
    pos = end + 1;
  }
  if (name.empty()) return KeyError("name without labels");
  if (pos + 1 != key.size()) return KeyError("bytes after the wildcard flag");
  const bool wildcard = key[pos] == '\1';
  auto s = Subject::Parse(wildcard ? absl::StrCat(".", name) : name);
  if (!s.ok()) return KeyError(std::string(s.status().message()));
  if (s->name != name) return KeyError(absl::StrCat("'", name, "' is not lowercase"));
  return s;
}

std::string EncodeListing(const Listing& l) {
  Writer w(kRecordVersion);
  w.Bytes(EncodeSubjectKey(l.subject));
  w.U8(l.code);
  w.Bytes(l.reason);
  w.U8(static_cast<std::uint8_t>(l.origin));
  w.Bytes(l.origin_id);
  w.I64(l.first_seen);
  w.I64(l.last_seen);
  w.I64(l.expires);
  w.U32(l.offenses);
  return w.Take();
}

absl::StatusOr<Listing> DecodeListing(std::string_view bytes) {
  Reader r(bytes, "listing");
  MESHBL_RETURN_IF_ERROR(r.Version());
  Listing l;
  MESHBL_ASSIGN_OR_RETURN(l.subject, r.SubjectField());
  MESHBL_ASSIGN_OR_RETURN(l.code, r.U8("code"));
  MESHBL_ASSIGN_OR_RETURN(l.reason, r.Str("reason"));
  MESHBL_ASSIGN_OR_RETURN(l.origin, r.OriginField());
  MESHBL_ASSIGN_OR_RETURN(l.origin_id, r.Str("origin_id"));
  MESHBL_ASSIGN_OR_RETURN(l.first_seen, r.I64("first_seen"));
  MESHBL_ASSIGN_OR_RETURN(l.last_seen, r.I64("last_seen"));
  MESHBL_ASSIGN_OR_RETURN(l.expires, r.I64("expires"));
  MESHBL_ASSIGN_OR_RETURN(l.offenses, r.U32("offenses"));
  MESHBL_RETURN_IF_ERROR(r.End());
  return l;
}

std::string EncodeWhitelistEntry(const WhitelistEntry& e) {
  Writer w(kRecordVersion);
  w.Bytes(EncodeSubjectKey(e.subject));
  w.Bytes(e.reason);
  w.U8(static_cast<std::uint8_t>(e.origin));
  w.Bytes(e.origin_id);
  w.I64(e.added);
  return w.Take();
}

absl::StatusOr<WhitelistEntry> DecodeWhitelistEntry(std::string_view bytes) {
  Reader r(bytes, "whitelist");
  MESHBL_RETURN_IF_ERROR(r.Version());
  WhitelistEntry e;
  MESHBL_ASSIGN_OR_RETURN(e.subject, r.SubjectField());
  MESHBL_ASSIGN_OR_RETURN(e.reason, r.Str("reason"));
  MESHBL_ASSIGN_OR_RETURN(e.origin, r.OriginField());
  MESHBL_ASSIGN_OR_RETURN(e.origin_id, r.Str("origin_id"));
  MESHBL_ASSIGN_OR_RETURN(e.added, r.I64("added"));
  MESHBL_RETURN_IF_ERROR(r.End());
  return e;
}

std::string EncodeTrapHit(const TrapHit& h) {
  Writer w(kRecordVersion);
  w.U8(h.client.is_v4() ? 4 : h.client.is_v6() ? 6 : 0);
  w.Raw(h.client.bytes());
  w.Bytes(h.helo);
  w.Bytes(h.sender);
  w.Raw(h.trap);
  w.Bytes(h.message_key);
  w.I64(h.time);
  w.Bytes(h.via);
  return w.Take();
}

absl::StatusOr<TrapHit> DecodeTrapHit(std::string_view bytes) {
  Reader r(bytes, "trap hit");
  MESHBL_RETURN_IF_ERROR(r.Version());
  TrapHit h;
  MESHBL_ASSIGN_OR_RETURN(std::uint8_t fam, r.U8("client family"));
  if (fam == 4) {
    std::uint32_t v = 0;
    MESHBL_ASSIGN_OR_RETURN(v, r.U32("client"));
    h.client = dns::IpAddress::V4(v);
  } else if (fam == 6) {
    std::array<std::uint8_t, 16> b{};
    for (auto& x : b) {
      MESHBL_ASSIGN_OR_RETURN(x, r.U8("client"));
    }
    h.client = dns::IpAddress::V6(std::span<const std::uint8_t, 16>(b));
  } else if (fam != 0) {
    return r.Error("client family", absl::StrCat("unknown address family ", fam));
  }
  MESHBL_ASSIGN_OR_RETURN(h.helo, r.Str("helo"));
  MESHBL_ASSIGN_OR_RETURN(h.sender, r.Str("sender"));
  for (auto& x : h.trap) {
    MESHBL_ASSIGN_OR_RETURN(x, r.U8("trap"));
  }
  MESHBL_ASSIGN_OR_RETURN(h.message_key, r.Str("message_key"));
  MESHBL_ASSIGN_OR_RETURN(h.time, r.I64("time"));
  MESHBL_ASSIGN_OR_RETURN(h.via, r.Str("via"));
  MESHBL_RETURN_IF_ERROR(r.End());
  return h;
}

}  // namespace meshbl::feed
