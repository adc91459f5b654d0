#include "meshbl/feed/entry.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace meshbl::feed {
namespace {

// A domain name as dnset takes it: letters, digits, '-', '_' and any other
// printable byte except the separators; labels 1..63 bytes, 255 in all.
absl::Status CheckName(std::string_view name, std::string_view text) {
  if (name.empty())
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "': empty name"));
  if (name.size() > 253) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "': name longer than 253 bytes"));
  }
  std::size_t label = 0;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0)
        return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "': empty label"));
      label = 0;
      continue;
    }
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '\\' || c == ';' || c == '"') {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "': byte 0x",
                                                     absl::Hex(u), " is not allowed in a name"));
    }
    if (++label > 63) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(text), "': label longer than 63 bytes"));
    }
  }
  if (label == 0)
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "': empty label"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Subject> Subject::Parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty subject");
  const bool looks_ip = text.find(':') != std::string_view::npos ||
                        (std::isdigit(static_cast<unsigned char>(text.back())) &&
                         text.find_first_not_of("0123456789./") == std::string_view::npos);
  if (looks_ip) {
    std::string_view addr = text;
    std::optional<std::size_t> len;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
      addr = text.substr(0, slash);
      const std::string_view l = text.substr(slash + 1);
      std::size_t v = 0;
      auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), v);
      if (l.empty() || ec != std::errc() || p != l.data() + l.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", std::string(text), "': bad prefix length"));
      }
      len = v;
    }
    const auto a = dns::IpAddress::Parse(addr);
    // Digits and dots that are not a dotted quad ("1.2") are a name, as in
    // dnset; anything with ':' or '/', or four numeric labels, must be an
    // address.
    const bool quad = std::count(text.begin(), text.end(), '.') == 3;
    if (!a && (len || quad || text.find(':') != std::string_view::npos)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(text), "': not an IP address"));
    }
    if (a) {
      const std::size_t bits = a->bits();
      if (len && *len > bits) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", std::string(text), "': prefix length above ", bits));
      }
      const std::size_t l = len.value_or(bits);
      if (!(a->Masked(l) == *a)) {
        return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "': host bits set"));
      }
      return Ip(*a, l);
    }
  }
  Subject s;
  s.kind = Kind::kName;
  std::string_view n = text;
  if (n.front() == '.') {
    s.wildcard = true;
    n.remove_prefix(1);
  } else if (n.size() > 2 && n[0] == '*' && n[1] == '.') {
    s.wildcard = true;
    n.remove_prefix(2);
  }
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  if (auto st = CheckName(n, text); !st.ok()) return st;
  s.name = absl::AsciiStrToLower(std::string(n));
  return s;
}

Subject Subject::Ip(const dns::IpAddress& a, std::size_t len) {
  Subject s;
  s.kind = Kind::kIp;
  s.len = static_cast<std::uint8_t>(len > a.bits() ? a.bits() : len);
  s.addr = a.Masked(s.len);
  return s;
}

std::string Subject::ToString() const {
  if (kind == Kind::kName) return wildcard ? absl::StrCat(".", name) : name;
  std::string s = addr.ToString();
  if (len != addr.bits()) absl::StrAppend(&s, "/", len);
  return s;
}

bool Subject::Covers(const Subject& o) const {
  if (kind != o.kind) return false;
  if (kind == Kind::kIp) {
    return addr.family() == o.addr.family() && len <= o.len && o.addr.Masked(len) == addr;
  }
  if (name == o.name) return wildcard || !o.wildcard;
  if (!wildcard) return false;
  return o.name.size() > name.size() + 1 && o.name.ends_with(name) &&
         o.name[o.name.size() - name.size() - 1] == '.';
}

std::string_view OriginName(Origin o) {
  switch (o) {
    case Origin::kRule:
      return "rule";
    case Origin::kOperator:
      return "operator";
    case Origin::kLoad:
      return "load";
    case Origin::kPeer:
      return "peer";
  }
  return "unknown";
}

TrapHash HashTrapAddress(std::string_view address) {
  const std::string lower = absl::AsciiStrToLower(std::string(address));
  TrapHash h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(lower.data()), lower.size());
  return h;
}

}  // namespace meshbl::feed
