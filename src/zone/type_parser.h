// Private to the zone layer: the rbldnsd text parser of each dataset type
// (reference/rbldnsd.md §4), one per file in src/zone/types/, registered by
// table::DatasetType in src/zone/type_parser.cc; the table layer's
// descriptor of the same type is in meshbl/table/dataset_type.h. The loader
// (loader.cc) owns the `$` specials and the combined/`$DATASET` plumbing and
// hands every entry line to a TypeParser, which calls its type's
// `parse_line`. Control plane only.
#ifndef MESHBL_SRC_ZONE_TYPE_PARSER_H_
#define MESHBL_SRC_ZONE_TYPE_PARSER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/address.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/types.h"
#include "meshbl/zone/loader.h"
#include "meshbl/zone/parse_util.h"

namespace meshbl::zone {

// The built-in default value: A 127.0.0.2, no TXT (§3).
inline const table::Value& BuiltinDefault() {
  static const table::Value v{};
  return v;
}

inline std::string Ip4Text(std::uint32_t a) { return dns::IpAddress::V4(a).ToString(); }
inline std::string Ip6Text(const Ip6Addr& a) { return dns::IpAddress::V6(a).ToString(); }

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

class TypeParser;

// The text format of one dataset type.
struct DatasetParser {
  table::DatasetType type;
  // Parses one entry line `s` (non-empty, first character not blank, not a
  // comment, not a `$` special) into every sink of `p`. A bad line is
  // warned about through `ctx` and skipped; an error is returned only for
  // the fatal cases (§2), as "file:line: reason". nullptr for a type whose
  // entry lines belong to `$DATASET` sub-datasets (combined).
  absl::Status (*parse_line)(TypeParser& p, std::string_view s, const LoadContext& ctx) = nullptr;
  // `$SOA` and `$NS` are valid in the data (not in an acl).
  bool zone_data = true;
};

// Every registered parser, in DatasetType order.
std::span<const DatasetParser* const> AllDatasetParsers();
// The parser of `type`, or nullptr when the type has no text format.
const DatasetParser* ParserFor(table::DatasetType type);

// Parses the entry lines of one dataset (a plain dataset, or one `$DATASET`
// of a combined one) and feeds every sink builder. A sub-dataset listed for
// several subzones has one sink per subzone.
class TypeParser {
 public:
  TypeParser(table::DatasetType type, std::vector<table::DatasetBuilder*> sinks, std::uint32_t ttl)
      : type_(type), parser_(ParserFor(type)), sinks_(std::move(sinks)), ttl_(ttl) {
    for (table::DatasetBuilder* b : sinks_) b->SetTtl(ttl_);
  }

  table::DatasetType type() const { return type_; }
  std::uint32_t ttl() const { return ttl_; }
  const std::vector<table::DatasetBuilder*>& sinks() const { return sinks_; }

  void SetTtl(std::uint32_t ttl) {
    ttl_ = ttl;
    for (table::DatasetBuilder* b : sinks_) b->SetTtl(ttl);
  }

  // The per-file "start" hook (§2): resets the `:` default for ip4set,
  // ip4trie, ip6trie, dnset and acl; nothing for the others.
  void StartFile() {
    def_ = BuiltinDefault();
    acl_def_action_ = table::AclAction::kIgnore;
  }

  absl::Status ParseLine(std::string_view s, const LoadContext& ctx) {
    if (parser_ == nullptr || parser_->parse_line == nullptr) {
      return ctx.Fatal("invalid/unrecognized entry - specify $DATASET line");
    }
    return parser_->parse_line(*this, s, ctx);
  }

  // ---- For the types' `parse_line` functions.

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
    for (table::DatasetBuilder* b : sinks_) b->SetDatasetValue(v);
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

  // The scope default (`:` line), built-in at file start.
  table::Value& scope_default() { return def_; }
  // acl: the action of the last `:`/`=` default line.
  table::AclAction& acl_default_action() { return acl_def_action_; }
  // dnset: reused per line to avoid an allocation.
  std::string& name_scratch() { return name_; }

 private:
  table::DatasetType type_;
  const DatasetParser* parser_;
  std::vector<table::DatasetBuilder*> sinks_;
  std::uint32_t ttl_;
  table::Value def_;
  table::AclAction acl_def_action_ = table::AclAction::kIgnore;
  bool have_dataset_value_ = false;
  std::string name_;
};

}  // namespace meshbl::zone

#endif  // MESHBL_SRC_ZONE_TYPE_PARSER_H_
