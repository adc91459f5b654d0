// The DNS vocabulary, in one place: RR types, classes and rcodes, and their
// names in both directions.
//
// Everything here is constexpr, noexcept and allocation-free, so the hot
// path and the query log can use it. Names are upper case (as dig and the
// zone file syntax print them); parsing is case-insensitive and also accepts
// RFC 3597's TYPEnnn / CLASSnnn and RCODEnnn.
//
// Two spellings (`Spelling`):
//   kStandard    dig, ldns and `meshbl lookup`: rcode 4 is NOTIMP; an
//                unknown number is TYPEnnn, CLASSnnn, RCODEnnn.
//   kRbldnsdLog  rbldnsd's query log (-l), which meshbld reproduces byte for
//                byte: rcode 4 is NOTIMPL, rcode names stop at REFUSED, and
//                an unknown number is typennn, classnnn, rcodennn.
#ifndef MESHBL_DNS_TYPES_H_
#define MESHBL_DNS_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace meshbl::dns {

// RR types (RFC 1035, 3596, 4034, 6891, ...).
inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeNs = 2;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kTypeNull = 10;
inline constexpr std::uint16_t kTypePtr = 12;
inline constexpr std::uint16_t kTypeHinfo = 13;
inline constexpr std::uint16_t kTypeMx = 15;
inline constexpr std::uint16_t kTypeTxt = 16;
inline constexpr std::uint16_t kTypeRp = 17;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeLoc = 29;
inline constexpr std::uint16_t kTypeSrv = 33;
inline constexpr std::uint16_t kTypeNaptr = 35;
inline constexpr std::uint16_t kTypeDname = 39;
inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kTypeDs = 43;
inline constexpr std::uint16_t kTypeRrsig = 46;
inline constexpr std::uint16_t kTypeNsec = 47;
inline constexpr std::uint16_t kTypeDnskey = 48;
inline constexpr std::uint16_t kTypeSpf = 99;
inline constexpr std::uint16_t kTypeTsig = 250;  // 250..254: meta types, NOTIMP as a qtype
inline constexpr std::uint16_t kTypeIxfr = 251;
inline constexpr std::uint16_t kTypeAxfr = 252;
inline constexpr std::uint16_t kTypeMailb = 253;
inline constexpr std::uint16_t kTypeMaila = 254;
inline constexpr std::uint16_t kTypeAny = 255;

// Classes.
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kClassCh = 3;
inline constexpr std::uint16_t kClassHs = 4;
inline constexpr std::uint16_t kClassAny = 255;

// Response codes (the 4-bit header field; RFC 1035, 2136).
enum class Rcode : std::uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kYxDomain = 6,
  kYxRrset = 7,
  kNxRrset = 8,
  kNotAuth = 9,
  kNotZone = 10,
};

enum class Spelling : std::uint8_t { kStandard, kRbldnsdLog };

namespace types_internal {

struct Entry {
  std::uint16_t value;
  std::string_view name;
};

// rbldnsd's type table (its query log prints these), a superset of what
// meshbld stores or answers.
inline constexpr Entry kTypes[] = {
    {kTypeA, "A"},         {kTypeNs, "NS"},       {kTypeCname, "CNAME"}, {kTypeSoa, "SOA"},
    {kTypeNull, "NULL"},   {kTypePtr, "PTR"},     {kTypeHinfo, "HINFO"}, {kTypeMx, "MX"},
    {kTypeTxt, "TXT"},     {kTypeRp, "RP"},       {kTypeAaaa, "AAAA"},   {kTypeLoc, "LOC"},
    {kTypeSrv, "SRV"},     {kTypeNaptr, "NAPTR"}, {kTypeDname, "DNAME"}, {kTypeOpt, "OPT"},
    {kTypeDs, "DS"},       {kTypeRrsig, "RRSIG"}, {kTypeNsec, "NSEC"},   {kTypeDnskey, "DNSKEY"},
    {kTypeSpf, "SPF"},     {kTypeTsig, "TSIG"},   {kTypeIxfr, "IXFR"},   {kTypeAxfr, "AXFR"},
    {kTypeMailb, "MAILB"}, {kTypeMaila, "MAILA"}, {kTypeAny, "ANY"},
};

inline constexpr Entry kClasses[] = {
    {kClassIn, "IN"},
    {kClassCh, "CH"},
    {kClassHs, "HS"},
    {kClassAny, "ANY"},
};

inline constexpr std::string_view kRcodes[] = {
    "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
};
// rbldnsd's query log: its table stops at REFUSED.
inline constexpr std::size_t kRbldnsdLogRcodes = 6;

constexpr char Upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Upper(a[i]) != Upper(b[i])) return false;
  }
  return true;
}

template <std::size_t N>
constexpr std::string_view Find(const Entry (&table)[N], std::uint16_t v) noexcept {
  for (const Entry& e : table) {
    if (e.value == v) return e.name;
  }
  return {};
}

template <std::size_t N>
constexpr std::optional<std::uint16_t> Find(const Entry (&table)[N], std::string_view s) noexcept {
  for (const Entry& e : table) {
    if (EqualsIgnoreCase(e.name, s)) return e.value;
  }
  return std::nullopt;
}

// "<prefix><decimal>" with a case-insensitive prefix and 1..5 digits, no sign
// or leading '+', value <= max.
constexpr std::optional<std::uint16_t> Numbered(std::string_view s, std::string_view prefix,
                                                std::uint32_t max) noexcept {
  if (s.size() <= prefix.size() || s.size() > prefix.size() + 5) return std::nullopt;
  if (!EqualsIgnoreCase(s.substr(0, prefix.size()), prefix)) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s.substr(prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace types_internal

// The mnemonic of a type, class or rcode, upper case; empty when there is
// none (see TypeText &c. for the numbered form).
constexpr std::string_view TypeName(std::uint16_t type) noexcept {
  return types_internal::Find(types_internal::kTypes, type);
}
constexpr std::string_view ClassName(std::uint16_t qclass) noexcept {
  return types_internal::Find(types_internal::kClasses, qclass);
}
constexpr std::string_view RcodeName(std::uint16_t rcode,
                                     Spelling spelling = Spelling::kStandard) noexcept {
  if (spelling == Spelling::kRbldnsdLog) {
    if (rcode == static_cast<std::uint16_t>(Rcode::kNotImp)) return "NOTIMPL";
    if (rcode >= types_internal::kRbldnsdLogRcodes) return {};
  }
  return rcode < std::size(types_internal::kRcodes) ? types_internal::kRcodes[rcode]
                                                    : std::string_view();
}
constexpr std::string_view RcodeName(Rcode rcode,
                                     Spelling spelling = Spelling::kStandard) noexcept {
  return RcodeName(static_cast<std::uint16_t>(rcode), spelling);
}

// Parses a mnemonic (any letter case) or the numbered form (TYPE16,
// CLASS1, RCODE3; either spelling's NOTIMP/NOTIMPL for rcode 4).
constexpr std::optional<std::uint16_t> TypeFromName(std::string_view s) noexcept {
  if (auto v = types_internal::Find(types_internal::kTypes, s)) return v;
  return types_internal::Numbered(s, "TYPE", 65535);
}
constexpr std::optional<std::uint16_t> ClassFromName(std::string_view s) noexcept {
  if (auto v = types_internal::Find(types_internal::kClasses, s)) return v;
  return types_internal::Numbered(s, "CLASS", 65535);
}
constexpr std::optional<Rcode> RcodeFromName(std::string_view s) noexcept {
  for (std::size_t r = 0; r < std::size(types_internal::kRcodes); ++r) {
    if (types_internal::EqualsIgnoreCase(types_internal::kRcodes[r], s)) {
      return static_cast<Rcode>(r);
    }
  }
  if (types_internal::EqualsIgnoreCase(s, "NOTIMPL")) return Rcode::kNotImp;
  if (auto v = types_internal::Numbered(s, "RCODE", 15)) return static_cast<Rcode>(*v);
  return std::nullopt;
}

// A name that always exists: the mnemonic, or the spelling's numbered form
// ("TYPE65280" / "type65280"). A small value, no allocation.
class NameText {
 public:
  static constexpr std::size_t kCapacity = 16;  // "CLASS65535" is 10
  constexpr std::string_view view() const noexcept { return {data_, size_}; }
  constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT

  static constexpr NameText Of(std::string_view name) noexcept {
    NameText t;
    for (char c : name) t.data_[t.size_++] = c;
    return t;
  }
  static constexpr NameText Numbered(std::string_view prefix, std::uint32_t v,
                                     Spelling spelling) noexcept {
    NameText t;
    for (char c : prefix) {
      t.data_[t.size_++] =
          spelling == Spelling::kRbldnsdLog && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    }
    char digits[10];
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) t.data_[t.size_++] = digits[--n];
    return t;
  }

 private:
  char data_[kCapacity] = {};
  std::size_t size_ = 0;
};

constexpr NameText TypeText(std::uint16_t type, Spelling spelling = Spelling::kStandard) noexcept {
  const std::string_view n = TypeName(type);
  return n.empty() ? NameText::Numbered("TYPE", type, spelling) : NameText::Of(n);
}
constexpr NameText ClassText(std::uint16_t qclass,
                             Spelling spelling = Spelling::kStandard) noexcept {
  const std::string_view n = ClassName(qclass);
  return n.empty() ? NameText::Numbered("CLASS", qclass, spelling) : NameText::Of(n);
}
constexpr NameText RcodeText(std::uint16_t rcode,
                             Spelling spelling = Spelling::kStandard) noexcept {
  const std::string_view n = RcodeName(rcode, spelling);
  return n.empty() ? NameText::Numbered("RCODE", rcode, spelling) : NameText::Of(n);
}
constexpr NameText RcodeText(Rcode rcode, Spelling spelling = Spelling::kStandard) noexcept {
  return RcodeText(static_cast<std::uint16_t>(rcode), spelling);
}

}  // namespace meshbl::dns

#endif  // MESHBL_DNS_TYPES_H_
