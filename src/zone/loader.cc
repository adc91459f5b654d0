// rbldnsd text datasets -> table::DatasetBuilder (reference/rbldnsd.md
// §2-§4). One DatasetLoader per dataset load; it owns the `$` specials and
// the combined/$DATASET plumbing, and hands entry lines to a TypeParser for
// the dataset (or current sub-dataset) type, which calls that type's parser
// (zone/type_parser.h, src/zone/types/<type>.cc).
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
#include "meshbl/table/dataset_type.h"
#include "meshbl/table/types.h"
#include "meshbl/util/mapped_file.h"
#include "meshbl/util/status_macros.h"
#include "meshbl/zone/parse_util.h"
#include "zone/line_reader.h"
#include "zone/type_parser.h"

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
      : type_(type),
        combined_(table::OpsFor(type).has_children),
        zone_data_(ParserFor(type) == nullptr || ParserFor(type)->zone_data),
        root_(std::make_unique<DatasetBuilder>(type, std::string(spec))) {
    ctx_.options = &options;
    ctx_.warnings = warnings;
    now_ = options.now != 0 ? options.now : static_cast<std::int64_t>(std::time(nullptr));
    root_ttl_ = options.default_ttl;
    root_->SetTtl(root_ttl_);
    if (!combined_) {
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
    if (!combined_) parser_->StartFile();
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
  TypeParser* Current() { return combined_ ? sub_.get() : parser_.get(); }

  // The TTL of the dataset itself (for combined: of the base zone).
  std::uint32_t RootTtl() const { return combined_ ? root_ttl_ : parser_->ttl(); }

  // Where `$n`/`$=`/`$TTL` go: the current sub-dataset, else the dataset.
  std::vector<DatasetBuilder*> VarTargets() {
    if (combined_ && sub_ != nullptr) return sub_->sinks();
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
      if (!zone_data_) return Invalid(valid);
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
      if (!zone_data_) return Invalid(valid);
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
      if (combined_) {
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
      if (!combined_) return Invalid(valid);
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
    if (!table::OpsFor(*type).nestable || ParserFor(*type) == nullptr) {
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
  bool combined_;   // holds `$DATASET` sub-datasets (table::DatasetTypeOps::has_children)
  bool zone_data_;  // `$SOA`/`$NS` are valid (DatasetParser::zone_data)
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
