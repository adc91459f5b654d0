// rbldnsd text datasets -> table::DatasetBuilder (reference/rbldnsd.md
// §2-§4). One DatasetLoader per dataset load; it owns the `$` specials and
// the combined/$DATASET plumbing, and hands entry lines to a TypeParser for
// the dataset (or current sub-dataset) type.
#include "meshbl/zone/loader.h"

#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/address.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/types.h"
#include "meshbl/util/mapped_file.h"
#include "meshbl/util/status_macros.h"
#include "meshbl/zone/parse_util.h"
#include "zone/line_reader.h"

namespace meshbl::zone {

std::string Diagnostic::ToString() const {
  if (line == 0) return absl::StrCat(file, ": ", message);
  return absl::StrCat(file, ":", line, ": ", message);
}

namespace {

using table::AclAction;
using table::DatasetBuilder;
using table::DatasetType;
using table::Value;

constexpr std::size_t kMaxNs = 32;

// The built-in default value: A 127.0.0.2, no TXT (§3).
const Value& BuiltinDefault() {
  static const Value v{};
  return v;
}

std::string Ip4Text(std::uint32_t a) { return dns::IpAddress::V4(a).ToString(); }

std::string Ip6Text(const Ip6Addr& a) { return dns::IpAddress::V6(a).ToString(); }

// State shared by everything parsed during one dataset load.
struct LoadContext {
  const LoadOptions* options = nullptr;
  std::vector<Diagnostic>* warnings = nullptr;
  std::string file;
  int line = 0;
  // $MAXRANGE4: the largest number of addresses an ip4 entry may cover
  // minus one is below this; 0 = no limit. Scope: the whole load (§2).
  std::uint64_t maxrange4 = 0;

  void Warn(std::string message) const {
    warnings->push_back(Diagnostic{file, line, std::move(message)});
  }
  absl::Status Fatal(std::string_view message) const {
    return absl::InvalidArgumentError(Diagnostic{file, line, std::string(message)}.ToString());
  }
  // True (and a warning) when an ip4 entry covering last-first+1 addresses
  // is over the $MAXRANGE4 limit.
  bool OverMaxRange(std::uint64_t span_minus_one) const {
    if (maxrange4 == 0 || maxrange4 > span_minus_one) return false;
    Warn(absl::StrCat("too large range (", span_minus_one + 1, ") ignored (", maxrange4, " max)"));
    return true;
  }
};

// Parses the entry lines of one dataset (a plain dataset, or one `$DATASET`
// of a combined one) and feeds every sink builder. A sub-dataset listed for
// several subzones has one sink per subzone.
class TypeParser {
 public:
  TypeParser(DatasetType type, std::vector<DatasetBuilder*> sinks, std::uint32_t ttl)
      : type_(type), sinks_(std::move(sinks)), ttl_(ttl) {
    for (DatasetBuilder* b : sinks_) b->SetTtl(ttl_);
  }

  DatasetType type() const { return type_; }
  std::uint32_t ttl() const { return ttl_; }
  const std::vector<DatasetBuilder*>& sinks() const { return sinks_; }

  void SetTtl(std::uint32_t ttl) {
    ttl_ = ttl;
    for (DatasetBuilder* b : sinks_) b->SetTtl(ttl);
  }

  // The per-file "start" hook (§2): resets the `:` default for ip4set,
  // ip4trie, ip6trie, dnset and acl; nothing for the others.
  void StartFile() {
    def_ = BuiltinDefault();
    acl_def_action_ = AclAction::kIgnore;
  }

  absl::Status ParseLine(std::string_view s, const LoadContext& ctx) {
    switch (type_) {
      case DatasetType::kIp4Set:
        Ip4SetLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kIp4TSet:
        Ip4TSetLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kIp4Trie:
        Ip4TrieLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kIp6Trie:
        Ip6TrieLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kIp6TSet:
        Ip6TSetLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kDnSet:
        DnSetLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kGeneric:
        return GenericLine(s, ctx);
      case DatasetType::kAcl:
        AclLine(s, ctx);
        return absl::OkStatus();
      case DatasetType::kCombined:
        break;
    }
    return ctx.Fatal("invalid/unrecognized entry - specify $DATASET line");
  }

 private:
  // Parses `s` (non-empty, first char non-blank) as a value with `scope` as
  // the default; warns and returns false when invalid.
  static bool CheckedValue(std::string_view s, const table::Value& scope, table::Value* out,
                           const LoadContext& ctx) {
    bool truncated = false;
    ValueError e = ParseValue(s, scope, out, &truncated);
    if (e != ValueError::kNone) {
      ctx.Warn(std::string(ValueErrorText(e)));
      return false;
    }
    if (truncated) ctx.Warn("TXT RR truncated to 255 bytes");
    return true;
  }

  // A `:` default line for the types with a per-file default. The line's
  // own `:A` form takes its TXT from the built-in default (§3).
  void DefaultLine(std::string_view s, const LoadContext& ctx) {
    table::Value v;
    if (CheckedValue(s, BuiltinDefault(), &v, ctx)) def_ = std::move(v);
  }

  // ip4tset / ip6tset: only the first valid default line counts.
  void DatasetValueLine(std::string_view s, const LoadContext& ctx) {
    if (have_dataset_value_) return;
    table::Value v;
    if (!CheckedValue(s, BuiltinDefault(), &v, ctx)) return;
    have_dataset_value_ = true;
    for (DatasetBuilder* b : sinks_) b->SetDatasetValue(v);
  }

  // The value after a key: `rest` is what follows the key (already checked
  // by IsValidKeyTail). Returns the scope default itself (no copy: this is
  // the per-line path), `scratch` filled with the parsed value, or nullptr
  // (warned) when the value is invalid.
  const table::Value* EntryValue(std::string_view rest, table::Value* scratch,
                                 const LoadContext& ctx) const {
    SkipBlanks(&rest);
    if (rest.empty() || IsCommentChar(rest[0])) return &def_;
    return CheckedValue(rest, def_, scratch, ctx) ? scratch : nullptr;
  }

  static bool TakeExclusion(std::string_view* s) {
    if (s->empty() || (*s)[0] != '!') return false;
    s->remove_prefix(1);
    SkipBlanks(s);
    return true;
  }

  void Ip4SetLine(std::string_view s, const LoadContext& ctx) {
    if (s[0] == ':') return DefaultLine(s, ctx);
    const bool excl = TakeExclusion(&s);
    std::uint32_t first = 0, last = 0;
    std::string_view rest;
    int bits = ParseIp4Range(s, &first, &last, &rest);
    if (bits <= 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
    if (ctx.options->accept_host_bits) {
      first &= Ip4Mask(bits);
    } else if ((first & ~Ip4Mask(bits)) != 0) {
      return ctx.Warn("invalid range (non-zero host part)");
    }
    if (ctx.OverMaxRange(std::uint64_t{last} - first)) return;
    table::Value scratch;
    const table::Value* v = nullptr;  // nullptr = exclusion
    if (!excl && (v = EntryValue(rest, &scratch, ctx)) == nullptr) return;
    for (DatasetBuilder* b : sinks_) b->AddIp4Range(first, last, v);
  }

  void Ip4TSetLine(std::string_view s, const LoadContext& ctx) {
    if (s[0] == ':') return DatasetValueLine(s, ctx);
    std::uint32_t a = 0;
    std::string_view rest;
    if (ParseIp4Prefix(s, &a, &rest) != 32 || !IsValidKeyTail(rest)) {
      return ctx.Warn("invalid address");
    }
    for (DatasetBuilder* b : sinks_) b->AddIp4Host(a);
  }

  void Ip4TrieLine(std::string_view s, const LoadContext& ctx) {
    if (s[0] == ':') return DefaultLine(s, ctx);
    const bool excl = TakeExclusion(&s);
    std::uint32_t a = 0;
    std::string_view rest;
    int bits = ParseIp4Cidr(s, &a, &rest);
    if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
    if (ctx.options->accept_host_bits) {
      a &= Ip4Mask(bits);
    } else if ((a & ~Ip4Mask(bits)) != 0) {
      return ctx.Warn("invalid range (non-zero host part)");
    }
    if (ctx.OverMaxRange(~Ip4Mask(bits))) return;
    table::Value scratch;
    const table::Value* v = nullptr;  // nullptr = exclusion
    if (!excl && (v = EntryValue(rest, &scratch, ctx)) == nullptr) return;
    bool added = true;
    for (DatasetBuilder* b : sinks_) added = b->AddIp4Prefix(a, bits, v);
    if (!added) ctx.Warn(absl::StrCat("duplicated entry for ", Ip4Text(a), "/", bits));
  }

  void Ip6TrieLine(std::string_view s, const LoadContext& ctx) {
    // `::1` starts an address; a single `:` starts a default line.
    if (s[0] == ':' && (s.size() < 2 || s[1] != ':')) return DefaultLine(s, ctx);
    const bool excl = TakeExclusion(&s);
    Ip6Addr addr;
    std::string_view rest;
    int bits = ParseIp6Cidr(s, &addr, &rest);
    if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
    if (MaskIp6(&addr, bits) && !ctx.options->accept_host_bits) {
      return ctx.Warn("invalid range (non-zero host part)");
    }
    table::Value scratch;
    const table::Value* v = nullptr;  // nullptr = exclusion
    if (!excl && (v = EntryValue(rest, &scratch, ctx)) == nullptr) return;
    bool added = true;
    for (DatasetBuilder* b : sinks_) added = b->AddIp6Prefix(addr, bits, v);
    if (!added) ctx.Warn(absl::StrCat("duplicated entry for ", Ip6Text(addr), "/", bits));
  }

  void Ip6TSetLine(std::string_view s, const LoadContext& ctx) {
    if (s[0] == ':') return DatasetValueLine(s, ctx);  // even `::1` (§4.5)
    const bool excl = TakeExclusion(&s);
    Ip6Addr addr;
    std::string_view rest;
    int bits = ParseIp6Prefix(s, &addr, &rest);
    if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
    if (bits != (excl ? 128 : 64)) {
      return ctx.Warn(excl ? "invalid address for exclusion (should be 128 bits)"
                           : "invalid address for regular entry (should be 64 bits)");
    }
    if (excl) {
      for (DatasetBuilder* b : sinks_) b->AddIp6Excluded(addr);
      return;
    }
    std::uint64_t net = 0;
    for (std::size_t i = 0; i < 8; ++i) net = (net << 8) | addr[i];
    for (DatasetBuilder* b : sinks_) b->AddIp6Net64(net);
  }

  void DnSetLine(std::string_view s, const LoadContext& ctx) {
    if (s[0] == ':') return DefaultLine(s, ctx);
    const bool excl = TakeExclusion(&s);
    bool wild = false, plain = true;
    if (!s.empty() && s[0] == '.') {
      wild = true;
      s.remove_prefix(1);
    } else if (s.size() >= 2 && s[0] == '*' && s[1] == '.') {
      wild = true;
      plain = false;
      s.remove_prefix(2);
    }
    if (!ParseDomainWord(&s, /*lowercase=*/true, &name_) || name_.empty()) {
      return ctx.Warn("invalid domain name");
    }
    table::Value scratch;
    const table::Value* v = nullptr;  // nullptr = exclusion
    if (!excl && (v = EntryValue(s, &scratch, ctx)) == nullptr) return;
    for (DatasetBuilder* b : sinks_) {
      if (plain) b->AddName(name_, false, v);
      if (wild) b->AddName(name_, true, v);
    }
  }

  // generic (§4.7): `name [ttl] [IN] type data`. Returns an error only for
  // the fatal cases (TTL not a time, MX host missing or followed by junk).
  absl::Status GenericLine(std::string_view s, const LoadContext& ctx) {
    std::string name;
    if (s[0] == '@' && s.size() > 1 && IsBlank(s[1])) {
      s.remove_prefix(2);
      SkipBlanks(&s);
    } else if (!ParseDomainWord(&s, /*lowercase=*/true, &name) || name.empty()) {
      ctx.Warn("invalid/unrecognized entry");
      return absl::OkStatus();
    }
    SkipBlanks(&s);
    std::uint32_t ttl = ttl_;
    if (!s.empty() && IsDigit(s[0])) {
      if (!ParseTtl(&s, ttl_, ctx.options->min_ttl, ctx.options->max_ttl, &ttl)) {
        return ctx.Fatal("invalid TTL");
      }
      SkipBlanks(&s);
    }
    if (s.size() > 2 && (s[0] == 'i' || s[0] == 'I') && (s[1] == 'n' || s[1] == 'N') &&
        IsBlank(s[2])) {
      s.remove_prefix(2);
      SkipBlanks(&s);
    }
    std::size_t n = 0;
    while (n < s.size() && !IsBlank(s[n])) ++n;
    if (n == s.size()) {  // no data after the type
      ctx.Warn("invalid/unrecognized entry");
      return absl::OkStatus();
    }
    std::string type(s.substr(0, n));
    for (char& c : type) c = static_cast<char>(dns::ToLowerAscii(static_cast<std::uint8_t>(c)));
    s.remove_prefix(n);
    SkipBlanks(&s);

    std::uint16_t rrtype = 0;
    std::string rdata;
    if (type == "a") {
      std::uint32_t a = 0;
      std::string_view rest;
      if (ParseIp4Addr(s, &a, &rest) <= 0) {
        ctx.Warn("invalid/unrecognized entry");
        return absl::OkStatus();
      }
      rrtype = table::kTypeA;
      rdata = {static_cast<char>(a >> 24), static_cast<char>((a >> 16) & 255),
               static_cast<char>((a >> 8) & 255), static_cast<char>(a & 255)};
    } else if (type == "txt") {
      if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
      if (s.size() > 255) {
        ctx.Warn("TXT RR truncated to 255 bytes");
        s = s.substr(0, 255);
      }
      rrtype = table::kTypeTxt;
      rdata.reserve(s.size() + 1);
      rdata.push_back(static_cast<char>(s.size()));
      rdata.append(s);
    } else if (type == "mx") {
      std::uint32_t pref = 0;
      if (!ParseUint32(&s, &pref) || pref > 0xffff) {
        ctx.Warn("invalid/unrecognized entry");
        return absl::OkStatus();
      }
      std::string host;
      if (!ParseDomainWord(&s, /*lowercase=*/false, &host)) return ctx.Fatal("invalid MX host");
      if (!s.empty()) return ctx.Fatal("trailing data after MX host");
      rrtype = table::kTypeMx;
      rdata.reserve(host.size() + 3);
      rdata.push_back(static_cast<char>(pref >> 8));
      rdata.push_back(static_cast<char>(pref & 255));
      rdata.append(host);
      rdata.push_back('\0');
    } else {
      ctx.Warn("invalid/unrecognized entry");
      return absl::OkStatus();
    }
    for (DatasetBuilder* b : sinks_) b->AddGenericRecord(name, rrtype, ttl, rdata);
    return absl::OkStatus();
  }

  // ACL keywords (§4.9); a prefix of a keyword followed by end, ':', blank
  // or comment is accepted, as rbldnsd does (`:ref` = refuse).
  static bool AclKeyword(std::string_view s, AclAction* action) {
    static constexpr std::pair<std::string_view, AclAction> kKeywords[] = {
        {"ignore", AclAction::kIgnore}, {"blackhole", AclAction::kIgnore},
        {"refuse", AclAction::kRefuse}, {"empty", AclAction::kEmpty},
        {"pass", AclAction::kPass},
    };
    if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
      return false;
    }
    for (const auto& [word, act] : kKeywords) {
      for (std::size_t i = 0; i < word.size() && i < s.size(); ++i) {
        if (static_cast<char>(dns::ToLowerAscii(static_cast<std::uint8_t>(s[i]))) != word[i]) {
          break;
        }
        const std::size_t next = i + 1;
        if (next == s.size() || s[next] == ':' || IsBlank(s[next]) || IsCommentChar(s[next])) {
          *action = act;
          return true;
        }
      }
    }
    return false;
  }

  // An ACL value: `=keyword`, `:keyword` or an A/TXT value (always listed).
  bool AclValue(std::string_view s, AclAction* action, table::Value* v,
                const LoadContext& ctx) const {
    if (s[0] == '=') {
      if (AclKeyword(s.substr(1), action)) return true;
      ctx.Warn("invalid keyword");
      return false;
    }
    if (s[0] == ':' && AclKeyword(s.substr(1), action)) return true;
    if (!CheckedValue(s, def_, v, ctx)) return false;
    *action = AclAction::kAlways;
    return true;
  }

  void AclLine(std::string_view s, const LoadContext& ctx) {
    if ((s[0] == ':' && (s.size() < 2 || s[1] != ':')) || s[0] == '=') {
      AclAction action = AclAction::kIgnore;
      table::Value v;
      if (!AclValue(s, &action, &v, ctx)) return;
      acl_def_action_ = action;
      // rbldnsd crashes on an entry needing the default A/TXT after a
      // keyword default (§4.9); meshbl falls back to the built-in one (§9).
      def_ = action == AclAction::kAlways ? std::move(v) : BuiltinDefault();
      return;
    }
    std::uint32_t a4 = 0;
    Ip6Addr a6;
    std::string_view rest;
    int bits = ParseIp4Cidr(s, &a4, &rest);
    const bool is4 = bits >= 0 && IsValidKeyTail(rest);
    if (is4) {
      if (ctx.options->accept_host_bits) {
        a4 &= Ip4Mask(bits);
      } else if ((a4 & ~Ip4Mask(bits)) != 0) {
        return ctx.Warn("invalid range (non-zero host part)");
      }
      if (ctx.OverMaxRange(~Ip4Mask(bits))) return;
    } else {
      bits = ParseIp6Cidr(s, &a6, &rest);
      if (bits < 0 || !IsValidKeyTail(rest)) return ctx.Warn("invalid address");
      if (MaskIp6(&a6, bits) && !ctx.options->accept_host_bits) {
        return ctx.Warn("invalid range (non-zero host part)");
      }
    }
    SkipBlanks(&rest);
    AclAction action = acl_def_action_;
    table::Value v = def_;
    if (!rest.empty() && !IsCommentChar(rest[0]) && !AclValue(rest, &action, &v, ctx)) return;
    bool added = true;
    for (DatasetBuilder* b : sinks_) {
      added = is4 ? b->AddAcl4(a4, bits, action, &v) : b->AddAcl6(a6, bits, action, &v);
    }
    if (!added) {
      ctx.Warn(absl::StrCat("duplicated entry for ", is4 ? Ip4Text(a4) : Ip6Text(a6), "/", bits));
    }
  }

  DatasetType type_;
  std::vector<DatasetBuilder*> sinks_;
  std::uint32_t ttl_;
  table::Value def_;  // the scope default (`:` line), built-in at file start
  AclAction acl_def_action_ = AclAction::kIgnore;
  bool have_dataset_value_ = false;
  std::string name_;  // dnset: reused per line to avoid an allocation
};

// Drops the pages of a read-only file mapping that lie wholly before the
// line being parsed, every kStep bytes. Nothing refers to parsed text
// afterwards (entries, names and warnings are copies), and a page of a
// private read-only file mapping that is touched again is read back from the
// file. A `text` that does not start on a page (not a mapping) is left alone.
class ConsumedPages {
 public:
  explicit ConsumedPages(std::string_view text) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    if (page == 0 || (page & (page - 1)) != 0 ||
        reinterpret_cast<std::uintptr_t>(text.data()) % page != 0) {
      return;
    }
    base_ = done_ = reinterpret_cast<std::uintptr_t>(text.data());
    end_ = base_ + text.size();
    mask_ = ~(page - 1);
  }

  void Before(const char* line) {
    const auto p = reinterpret_cast<std::uintptr_t>(line);
    if (base_ == 0 || p < done_ || p - done_ < kStep || p > end_) return;
    const std::uintptr_t cut = p & mask_;
    (void)madvise(reinterpret_cast<void*>(done_), cut - done_, MADV_DONTNEED);
    done_ = cut;
  }

 private:
  static constexpr std::uintptr_t kStep = 8 << 20;
  std::uintptr_t base_ = 0, done_ = 0, end_ = 0;
  std::uintptr_t mask_ = 0;
};

// One dataset load: specials, line dispatch, combined sub-datasets.
class DatasetLoader {
 public:
  DatasetLoader(DatasetType type, std::string_view spec, const LoadOptions& options,
                std::vector<Diagnostic>* warnings)
      : type_(type), root_(std::make_unique<DatasetBuilder>(type, std::string(spec))) {
    ctx_.options = &options;
    ctx_.warnings = warnings;
    now_ = options.now != 0 ? options.now : static_cast<std::int64_t>(std::time(nullptr));
    root_ttl_ = options.default_ttl;
    root_->SetTtl(root_ttl_);
    if (type_ != DatasetType::kCombined) {
      parser_ =
          std::make_unique<TypeParser>(type_, std::vector<DatasetBuilder*>{root_.get()}, root_ttl_);
    }
  }

  // `release_consumed`: `bytes` is a read-only file mapping of this load
  // alone, so the pages of lines already parsed can be dropped from the
  // process (they stay in the page cache) instead of being held until the
  // whole file is parsed: a 10M-line file is 140 MB next to 40 MB of entries.
  absl::Status LoadFile(std::string_view name, std::string_view bytes,
                        bool release_consumed = false) {
    ctx_.file = std::string(name);
    ctx_.line = 0;
    std::string storage;
    std::string_view text;
    absl::Status st = DecodeInput(bytes, ctx_.options->allow_gzip, &storage, &text);
    if (!st.ok())
      return absl::Status(st.code(), absl::StrCat(std::string(name), ": ", st.message()));
    // A data line is rarely shorter than 12 bytes ("1.2.3.4" + value or
    // newline): reserve once rather than doubling through the load.
    root_->ReserveEntries(text.size() / 12);
    // Per-file start hook; sub-datasets of a combined one are not restarted.
    if (type_ != DatasetType::kCombined) parser_->StartFile();
    LineReader reader(text);
    ConsumedPages consumed(release_consumed && text.data() == bytes.data() ? text : "");
    std::string_view line;
    bool too_long = false;
    while (reader.Next(&line, &too_long)) {
      consumed.Before(line.data());
      ctx_.line = reader.line_number();
      if (too_long) ctx_.Warn("long line (truncated)");
      if (line.empty()) continue;
      if (line[0] == '$' ||
          ((IsCommentChar(line[0]) || line[0] == ':') && line.size() > 1 && line[1] == '$')) {
        MESHBL_RETURN_IF_ERROR(Special(line.substr(line[0] == '$' ? 1 : 2)));
        continue;
      }
      if (IsCommentChar(line[0])) continue;
      TypeParser* p = Current();
      if (p == nullptr) return ctx_.Fatal("invalid/unrecognized entry - specify $DATASET line");
      MESHBL_RETURN_IF_ERROR(p->ParseLine(line, ctx_));
    }
    ctx_.line = 0;
    return absl::OkStatus();
  }

  std::unique_ptr<DatasetBuilder> Release() { return std::move(root_); }
  DatasetBuilder* root() { return root_.get(); }
  const LoadContext& ctx() const { return ctx_; }

 private:
  // The parser entry lines go to: the dataset's own, or for combined the
  // current `$DATASET` (nullptr before the first one).
  TypeParser* Current() { return type_ == DatasetType::kCombined ? sub_.get() : parser_.get(); }

  // The TTL of the dataset itself (for combined: of the base zone).
  std::uint32_t RootTtl() const {
    return type_ == DatasetType::kCombined ? root_ttl_ : parser_->ttl();
  }

  // Where `$n`/`$=`/`$TTL` go: the current sub-dataset, else the dataset.
  std::vector<DatasetBuilder*> VarTargets() {
    if (type_ == DatasetType::kCombined && sub_ != nullptr) return sub_->sinks();
    return {root_.get()};
  }

  absl::Status Special(std::string_view line) {
    bool valid = true;
    MESHBL_RETURN_IF_ERROR(SpecialBody(line, &valid));
    if (!valid) ctx_.Warn("invalid or unrecognized special entry");
    return absl::OkStatus();
  }

  absl::Status SpecialBody(std::string_view line, bool* valid) {
    const LoadOptions& opt = *ctx_.options;
    std::string_view w;
    if (FirstWord(line, "soa", &w)) {
      if (type_ == DatasetType::kAcl) return Invalid(valid);
      if (has_soa_) return absl::OkStatus();  // first wins
      table::SoaData soa;
      if (!ParseTtl(&w, RootTtl(), opt.min_ttl, opt.max_ttl, &soa.ttl) ||
          !ParseDomainWord(&w, false, &soa.origin) || !ParseDomainWord(&w, false, &soa.person) ||
          !ParseUint32(&w, &soa.serial) || !ParseTime(&w, &soa.refresh) ||
          !ParseTime(&w, &soa.retry) || !ParseTime(&w, &soa.expire) ||
          !ParseTime(&w, &soa.minimum) || !w.empty()) {
        return Invalid(valid);
      }
      has_soa_ = true;
      root_->SetSoa(std::move(soa));
      return absl::OkStatus();
    }
    if (FirstWord(line, "ns", &w) || FirstWord(line, "nameserver", &w)) {
      if (type_ == DatasetType::kAcl) return Invalid(valid);
      if (has_ns_) return absl::OkStatus();  // first wins
      table::NsData ns;
      if (!ParseTtl(&w, RootTtl(), opt.min_ttl, opt.max_ttl, &ns.ttl)) return Invalid(valid);
      bool ok = true;
      do {
        if (!w.empty() && w[0] == '-') {  // commented-out name
          std::size_t n = 0;
          while (n < w.size() && !IsBlank(w[n])) ++n;
          w.remove_prefix(n);
          SkipBlanks(&w);
          continue;
        }
        // Letter case is kept, as rbldnsd sends it (names compare without it).
        std::string name;
        if (!ParseDomainWord(&w, false, &name)) {
          ok = false;
          break;
        }
        if (std::none_of(ns.names.begin(), ns.names.end(),
                         [&](const std::string& n) { return absl::EqualsIgnoreCase(n, name); })) {
          if (ns.names.size() < kMaxNs) {
            ns.names.push_back(std::move(name));
          } else {
            ++ns.dropped;  // rbldnsd: "too many NS records specified" (zone warning)
          }
        }
      } while (!w.empty());
      // Names parsed before an invalid one stay, as in rbldnsd.
      if (!ns.names.empty()) {
        has_ns_ = true;
        root_->SetNs(std::move(ns));
      }
      if (!ok) return Invalid(valid);
      return absl::OkStatus();
    }
    if (FirstWord(line, "ttl", &w)) {
      std::uint32_t ttl = 0;
      if (!ParseTtl(&w, opt.default_ttl, opt.min_ttl, opt.max_ttl, &ttl) || !w.empty()) {
        return Invalid(valid);
      }
      if (type_ == DatasetType::kCombined) {
        if (sub_ != nullptr) {
          sub_->SetTtl(ttl);
        } else {
          root_ttl_ = ttl;
          root_->SetTtl(ttl);
        }
      } else {
        parser_->SetTtl(ttl);
      }
      return absl::OkStatus();
    }
    if (FirstWord(line, "maxrange4", &w)) {
      const bool cidr = !w.empty() && w[0] == '/';
      if (cidr) w.remove_prefix(1);
      std::uint32_t r = 0;
      if (!ParseUint32(&w, &r) || !w.empty() || r == 0) return Invalid(valid);
      std::uint64_t range = r;
      if (cidr) {
        if (r > 32) return Invalid(valid);
        range = std::uint64_t{1} << (32 - r);
      }
      if (ctx_.maxrange4 != 0 && ctx_.maxrange4 < range) {
        ctx_.Warn(absl::StrCat("ignoring attempt to increase $MAXRANGE4 from ", ctx_.maxrange4,
                               " to ", range));
      } else {
        ctx_.maxrange4 = range;
      }
      return absl::OkStatus();
    }
    if (line.size() > 1 && (IsDigit(line[0]) || line[0] == '=') && IsBlank(line[1])) {
      std::string_view text = line.substr(2);
      SkipBlanks(&text);
      if (text.empty()) return Invalid(valid);
      for (DatasetBuilder* b : VarTargets()) {
        if (line[0] == '=') {
          b->SetBaseTemplate(std::string(text));
        } else {
          b->SetVariable(line[0] - '0', std::string(text));
        }
      }
      return absl::OkStatus();
    }
    if (FirstWord(line, "dataset", &w)) {
      if (type_ != DatasetType::kCombined) return Invalid(valid);
      return NewSubDataset(w, valid);
    }
    if (FirstWord(line, "timestamp", &w)) return Timestamp(w, valid);
    return Invalid(valid);
  }

  static absl::Status Invalid(bool* valid) {
    *valid = false;
    return absl::OkStatus();
  }

  absl::Status Timestamp(std::string_view w, bool* valid) {
    std::int64_t stamp = 0, expires = 0;
    if (!ParseTimestamp(&w, &stamp)) return Invalid(valid);
    if (w.empty()) {
      expires = 0;
    } else if (w[0] == '+') {
      w.remove_prefix(1);
      std::uint32_t n = 0;
      if (!ParseTime(&w, &n) || !w.empty() || stamp == 0 || n == 0) return Invalid(valid);
      expires = stamp + n;
    } else if (!ParseTimestamp(&w, &expires) || !w.empty()) {
      return Invalid(valid);
    }
    if (stamp != 0 && stamp > now_) {
      return ctx_.Fatal(
          absl::StrCat("data timestamp is ", stamp - now_, " sec in the future, aborting loading"));
    }
    if (expires != 0) root_->SetExpires(expires);
    return absl::OkStatus();
  }

  // `$DATASET type[:name] subzone...` (§4.8).
  absl::Status NewSubDataset(std::string_view w, bool* valid) {
    sub_.reset();
    for (std::size_t i = 0; i < w.size(); ++i) {  // comment only after a blank
      if (IsCommentChar(w[i]) && (i == 0 || IsBlank(w[i - 1]))) {
        w = w.substr(0, i);
        break;
      }
    }
    std::vector<std::string_view> words;
    while (true) {
      SkipBlanks(&w);
      if (w.empty()) break;
      std::size_t n = 0;
      while (n < w.size() && !IsBlank(w[n])) ++n;
      words.push_back(w.substr(0, n));
      w.remove_prefix(n);
    }
    if (words.empty()) return Invalid(valid);
    std::string_view type_name = words[0].substr(0, words[0].find(':'));
    std::optional<DatasetType> type = table::DatasetTypeFromName(type_name);
    if (!type)
      return ctx_.Fatal(absl::StrCat("unknown dataset type `", std::string(type_name), "'"));
    if (*type == DatasetType::kCombined || *type == DatasetType::kAcl) {
      return ctx_.Fatal(absl::StrCat("dataset type `", std::string(type_name),
                                     "' cannot be used inside `combined'"));
    }
    std::vector<DatasetBuilder*> sinks;
    if (words.size() == 1) {
      ctx_.Warn("no subzone(s) specified for dataset, data will be ignored");
    }
    for (std::size_t i = 1; i < words.size(); ++i) {
      std::string subzone;
      if (words[i] != "@" && !dns::ParseName(words[i], &subzone)) {
        ctx_.Warn(absl::StrCat("invalid domain name `", std::string(words[i]), "'"));
        continue;
      }
      sinks.push_back(root_->AddSubDataset(*type, subzone));
    }
    sub_ = std::make_unique<TypeParser>(*type, std::move(sinks), root_ttl_);
    sub_->StartFile();
    return absl::OkStatus();
  }

  DatasetType type_;
  std::unique_ptr<DatasetBuilder> root_;
  LoadContext ctx_;
  std::int64_t now_ = 0;
  std::uint32_t root_ttl_ = 0;          // combined only (others: parser_->ttl())
  std::unique_ptr<TypeParser> parser_;  // non-combined
  std::unique_ptr<TypeParser> sub_;     // combined: current $DATASET
  bool has_soa_ = false;
  bool has_ns_ = false;
};

}  // namespace

absl::StatusOr<LoadedDataset> LoadDatasetFromText(table::DatasetType type, std::string_view spec,
                                                  std::span<const SourceText> files,
                                                  const LoadOptions& options) {
  LoadedDataset out;
  DatasetLoader loader(type, spec, options, &out.warnings);
  for (const SourceText& f : files) {
    MESHBL_RETURN_IF_ERROR(loader.LoadFile(f.name, f.bytes));
  }
  out.dataset = loader.Release();
  return out;
}

absl::StatusOr<LoadedDataset> LoadDataset(table::DatasetType type, std::string_view spec,
                                          std::span<const std::string> files,
                                          const LoadOptions& options) {
  LoadedDataset out;
  DatasetLoader loader(type, spec, options, &out.warnings);
  for (const std::string& path : files) {
    absl::StatusOr<util::MappedFile> mapped = util::MappedFile::Open(path);
    if (!mapped.ok()) {
      return absl::Status(mapped.status().code(),
                          absl::StrCat(path, ": unable to open file: ", mapped.status().message()));
    }
    const std::span<const std::uint8_t> bytes = mapped->bytes();
    MESHBL_RETURN_IF_ERROR(loader.LoadFile(
        path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
        /*release_consumed=*/true));
    absl::StatusOr<util::FileStamp> after = util::StatFile(path);
    if (!after.ok() || !(*after == mapped->stamp())) {
      return absl::AbortedError(
          absl::StrCat(path, ": file changed while we were reading it, data load aborted"));
    }
    loader.root()->AddSource(table::SourceFile{path, mapped->stamp().mtime, mapped->stamp().size});
  }
  out.dataset = loader.Release();
  return out;
}

}  // namespace meshbl::zone
