#include "meshbl/feed/traps.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "feed/text_util.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::feed {
namespace {

std::string Quoted(std::string_view s) { return "'" + text::Shown(s) + "'"; }

absl::Status CheckDomain(std::string_view domain, std::string_view text) {
  if (domain.empty()) return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": no domain"));
  if (domain.size() > 253) {
    return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": domain longer than 253 bytes"));
  }
  if (domain.front() == '[') {  // an address literal: [192.0.2.1], [IPv6:2001:db8::1]
    if (domain.back() != ']' || domain.size() < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quoted(text), ": address literal without ']'"));
    }
    for (char c : domain.substr(1, domain.size() - 2)) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat(Quoted(text), ": bad byte in address literal"));
      }
    }
    return absl::OkStatus();
  }
  std::size_t label = 0;
  for (char c : domain) {
    if (c == '.') {
      if (label == 0)
        return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": empty label"));
      label = 0;
      continue;
    }
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": byte 0x",
                                                     absl::Hex(static_cast<unsigned char>(c)),
                                                     " is not allowed in a domain"));
    }
    if (++label > 63) {
      return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": label longer than 63 bytes"));
    }
  }
  if (label == 0) return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": empty label"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeTrapAddress(std::string_view text, bool allow_domain) {
  const std::size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": not an address (no '@')"));
  }
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (local.empty() && !allow_domain) {
    return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": empty local part"));
  }
  if (local.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(text), ": local part longer than 64 bytes"));
  }
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
        c == ';' || c == '"' || c == '\\' || c == '@') {
      return absl::InvalidArgumentError(absl::StrCat(Quoted(text), ": byte 0x", absl::Hex(u),
                                                     " is not allowed in the local part"));
    }
  }
  if (auto st = CheckDomain(domain, text); !st.ok()) return st;
  return text::Lower((text));
}

absl::StatusOr<TrapHashes> ParseTrapFile(std::string_view text, std::string_view name) {
  TrapHashes out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // A comment after whitespace ends the line; a whole-line comment too.
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' &&
          (i == 0 || absl::ascii_isspace(static_cast<unsigned char>(line[i - 1])))) {
        line = line.substr(0, i);
        break;
      }
    }
    line = text::Trim(line);
    if (line.empty()) continue;
    auto addr = NormalizeTrapAddress(line, /*allow_domain=*/true);
    if (!addr.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(name), ":", line_no, ": ",
                                                     std::string(addr.status().message())));
    }
    if ((*addr)[0] == '@') {
      out.domains.insert(HashTrapAddress(*addr));
    } else {
      out.addresses.insert(HashTrapAddress(*addr));
    }
  }
  return out;
}

TrapSet::Stamp TrapSet::StatPath(const std::string& path) {
  Stamp st;
  struct stat sb {};
  if (stat(path.c_str(), &sb) == 0) {
    st.ok = true;
    st.mtime = static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
    st.ctime = static_cast<std::int64_t>(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec;
    st.size = static_cast<std::int64_t>(sb.st_size);
    st.inode = static_cast<std::uint64_t>(sb.st_ino);
  }
  return st;
}

absl::Status TrapSet::Load(const std::string& path) {
  // Stamp before reading: a change during the read is seen at the next check.
  const Stamp stamp = StatPath(path);
  {
    util::MutexLock lock(&mu_);
    path_ = path;
    attempted_ = stamp;
  }
  auto file = util::MappedFile::Open(path, util::MappedFile::Mode::kCopy);
  if (!file.ok()) {
    return absl::Status(file.status().code(),
                        absl::StrCat("trap file ", std::string(file.status().message()),
                                     " (the previous trap set is kept)"));
  }
  const auto bytes = file->bytes();
  auto parsed = ParseTrapFile(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(parsed.status().message()), " (the previous trap set is kept)"));
  }
  auto next = std::make_shared<const TrapHashes>(*std::move(parsed));
  util::MutexLock lock(&mu_);
  set_ = std::move(next);
  return absl::OkStatus();
}

absl::Status TrapSet::LoadText(std::string_view text, std::string_view name) {
  auto parsed = ParseTrapFile(text, name);
  if (!parsed.ok()) return parsed.status();
  auto next = std::make_shared<const TrapHashes>(*std::move(parsed));
  util::MutexLock lock(&mu_);
  set_ = std::move(next);
  path_.clear();
  attempted_ = Stamp();
  return absl::OkStatus();
}

bool TrapSet::Changed() const {
  std::string path;
  Stamp before;
  {
    util::MutexLock lock(&mu_);
    if (path_.empty()) return false;
    path = path_;
    before = attempted_;
  }
  return !(StatPath(path) == before);
}

absl::StatusOr<bool> TrapSet::ReloadIfChanged() {
  if (!Changed()) return false;
  absl::Status st = Load(path());
  if (!st.ok()) return st;
  return true;
}

bool TrapSet::Contains(const TrapHash& hash) const {
  std::shared_ptr<const TrapHashes> set;
  {
    util::MutexLock lock(&mu_);
    set = set_;
  }
  return set->addresses.contains(hash);
}

bool TrapSet::IsTrap(std::string_view address) const {
  std::shared_ptr<const TrapHashes> set;
  {
    util::MutexLock lock(&mu_);
    set = set_;
  }
  if (set->addresses.empty() && set->domains.empty()) return false;
  if (set->addresses.contains(HashTrapAddress(address))) return true;
  if (set->domains.empty()) return false;
  const std::size_t at = address.rfind('@');
  return at != std::string_view::npos && set->domains.contains(HashTrapAddress(address.substr(at)));
}

std::size_t TrapSet::size() const {
  util::MutexLock lock(&mu_);
  return set_->addresses.size() + set_->domains.size();
}

std::string TrapSet::path() const {
  util::MutexLock lock(&mu_);
  return path_;
}

}  // namespace meshbl::feed
