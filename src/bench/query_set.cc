#include "meshbl/bench/query_set.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "meshbl/dns/types.h"
#include "meshbl/table/format.h"
#include "meshbl/table/query.h"

namespace meshbl::bench {

namespace f = table::format;

namespace {

constexpr std::size_t kHeader = 12;

}  // namespace

bool QuerySet::Add(std::span<const std::uint8_t> labels, std::uint16_t qtype, QueryKind kind) {
  if (labels.size() > dns::kMaxLabels || info_.size() >= kMaxQueries) return false;
  QueryInfo qi;
  qi.offset = static_cast<std::uint32_t>(bytes_.size());
  qi.size = static_cast<std::uint16_t>(kHeader + labels.size() + 1 + 4);
  qi.qtype = qtype;
  qi.kind = kind;
  const std::uint8_t header[kHeader] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};  // QDCOUNT 1
  bytes_.insert(bytes_.end(), header, header + kHeader);
  bytes_.insert(bytes_.end(), labels.begin(), labels.end());
  const std::uint8_t tail[5] = {0, static_cast<std::uint8_t>(qtype >> 8),
                                static_cast<std::uint8_t>(qtype), 0, 1};
  bytes_.insert(bytes_.end(), tail, tail + 5);
  info_.push_back(qi);
  return true;
}

std::size_t QuerySet::listed_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(info_.begin(), info_.end(), [](const QueryInfo& q) { return q.listed; }));
}

void QuerySet::GroupBySize(std::size_t run, std::uint64_t seed) {
  if (run == 0 || info_.size() < 2) return;
  std::mt19937_64 rng(seed);
  std::map<std::uint16_t, std::vector<QueryInfo>> by_size;
  std::vector<QueryInfo> shuffled = info_;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const auto& q : shuffled) by_size[q.size].push_back(q);
  // Cut every size class into runs, then shuffle the runs.
  std::vector<std::pair<const std::vector<QueryInfo>*, std::size_t>> runs;
  for (const auto& [size, qs] : by_size) {
    for (std::size_t i = 0; i < qs.size(); i += run) runs.emplace_back(&qs, i);
  }
  std::shuffle(runs.begin(), runs.end(), rng);
  std::vector<QueryInfo> out;
  out.reserve(info_.size());
  for (const auto& [qs, start] : runs) {
    const std::size_t end = std::min(qs->size(), start + run);
    out.insert(out.end(), qs->begin() + static_cast<std::ptrdiff_t>(start),
               qs->begin() + static_cast<std::ptrdiff_t>(end));
  }
  info_ = std::move(out);
}

bool ParseQtype(std::string_view text, std::uint16_t* out) {
  const std::optional<std::uint16_t> t = dns::TypeFromName(text);
  if (!t || *t == 0) return false;
  *out = *t;
  return true;
}

std::string QtypeName(std::uint16_t qtype) { return std::string(dns::TypeText(qtype).view()); }

std::string RcodeName(unsigned rcode) {
  if (rcode < 16) return std::string(dns::RcodeText(static_cast<std::uint16_t>(rcode)).view());
  if (rcode == kExpectNoErrorOrNxDomain) return "NOERROR|NXDOMAIN";
  if (rcode == kExpectAnyRcode) return "any";
  return absl::StrCat("RCODE", rcode);
}

bool ParseExpectRcode(std::string_view text, std::uint8_t* out) {
  const std::string upper = absl::AsciiStrToUpper(std::string(text));
  if (upper == "ANY") {
    *out = kExpectAnyRcode;
    return true;
  }
  if (upper == "NOERROR|NXDOMAIN") {
    *out = kExpectNoErrorOrNxDomain;
    return true;
  }
  if (const std::optional<dns::Rcode> r = dns::RcodeFromName(text)) {
    *out = static_cast<std::uint8_t>(*r);
    return true;
  }
  return false;
}

namespace {

std::string_view Strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

absl::StatusOr<QuerySet> ParseQueryText(std::string_view text, std::string_view name_view) {
  const std::string name(name_view);
  QuerySet set;
  int lineno = 0;
  std::uint8_t labels[dns::kMaxLabels];
  while (!text.empty()) {
    ++lineno;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = Strip(line);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    const std::size_t sp = line.find_first_of(" \t");
    const std::string_view qname = line.substr(0, sp);
    std::string_view qtype_text = sp == std::string_view::npos ? "A" : Strip(line.substr(sp));
    if (qtype_text.find_first_of(" \t") != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", lineno, ": expected `name type', got more fields"));
    }
    std::uint16_t qtype = 0;
    if (!ParseQtype(qtype_text, &qtype)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", lineno, ": unknown query type `", std::string(qtype_text), "'"));
    }
    const int len = dns::ParseName(qname, labels, /*lowercase=*/false);
    if (len < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", lineno, ": invalid domain name `", std::string(qname), "'"));
    }
    if (!set.Add({labels, static_cast<std::size_t>(len)}, qtype)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", lineno, ": more than ", QuerySet::kMaxQueries, " queries"));
    }
  }
  if (set.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": no queries"));
  return set;
}

absl::StatusOr<QuerySet> ReadQueryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseQueryText(ss.str(), path);
}

// ---- generation ----

namespace {

template <class Slot>
std::span<const Slot> Slots(const table::Snapshot& snap, std::uint32_t section) {
  if (section == f::kNone) return {};
  auto bytes = snap.Section(section);
  if (bytes.size() < sizeof(f::TableHeader)) return {};
  f::TableHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.slot_size != sizeof(Slot) || h.count == 0) return {};
  return {reinterpret_cast<const Slot*>(bytes.data() + sizeof(f::TableHeader)), h.capacity};
}

// A random occupied, not excluded slot; nullptr if none in `tries` probes.
template <class Slot, class Rng>
const Slot* RandomSlot(std::span<const Slot> slots, Rng& rng) {
  if (slots.empty()) return nullptr;
  std::size_t i = static_cast<std::size_t>(rng() % slots.size());
  for (std::size_t n = 0; n < slots.size(); ++n, i = (i + 1) % slots.size()) {
    if (slots[i].val != f::kEmptySlot && slots[i].val != f::kExcluded) return &slots[i];
  }
  return nullptr;
}

std::uint64_t HostBits(unsigned bits, std::uint64_t r) {
  return bits >= 64 ? r : (r & ((std::uint64_t{1} << bits) - 1));
}

struct Source {
  const table::ZoneNode* zone;
  const table::DsNode* ds;  // nullptr: the zone only contributes random misses
  double weight;
};

class Generator {
 public:
  Generator(const table::ZoneSet& zones, std::uint64_t seed) : zones_(zones), rng_(seed) {
    for (const auto& z : zones.zones()) {
      for (const table::DsNode* ds : z.datasets) {
        using K = table::AnswerKind;
        const auto& rec = ds->view.rec();
        const double w = static_cast<double>(std::max<std::uint64_t>(rec.entry_count, 1));
        switch (ds->view.answer_kind()) {
          case K::kIp4:
            ip4_.push_back({&z, ds, w});
            break;
          case K::kIp6:
            ip6_.push_back({&z, ds, w});
            break;
          case K::kName:
            name_.push_back({&z, ds, w});
            break;
          default:
            break;
        }
      }
    }
  }

  const std::vector<Source>& sources(QueryKind k) const {
    return k == QueryKind::kIp4 ? ip4_ : k == QueryKind::kIp6 ? ip6_ : name_;
  }

  // Fills `labels` (relative part, before the zone) for one query of kind
  // `k`; `hit` asks for a listed entry. Returns the zone to append.
  const table::ZoneNode* Draw(QueryKind k, bool hit, std::string* rel) {
    const auto& src = sources(k);
    const Source& s = Pick(src);
    rel->clear();
    if (k == QueryKind::kIp4) {
      std::uint32_t a = static_cast<std::uint32_t>(rng_());
      if (hit) HitIp4(*s.ds, &a);
      for (int i = 0; i < 4; ++i) AppendLabel(rel, std::to_string((a >> (8 * i)) & 0xff));
    } else if (k == QueryKind::kIp6) {
      std::uint64_t hi = rng_(), lo = rng_();
      if (hit) HitIp6(*s.ds, &hi, &lo);
      static constexpr char kHex[] = "0123456789abcdef";
      for (int i = 0; i < 32; ++i) {
        const std::uint64_t half = i < 16 ? lo : hi;
        AppendLabel(rel, std::string(1, kHex[(half >> (4 * (i % 16))) & 0xf]));
      }
    } else {
      bool drew = hit && HitName(*s.ds, rel);
      if (!drew) {
        AppendLabel(rel, absl::StrCat("r", rng_() % 100000000));
        AppendLabel(rel, absl::StrCat("x", rng_() % 1000, "-example"));
      }
    }
    return s.zone;
  }

 private:
  const Source& Pick(const std::vector<Source>& src) {
    double total = 0;
    for (const auto& s : src) total += s.weight;
    double r = std::uniform_real_distribution<double>(0, total)(rng_);
    for (const auto& s : src) {
      if (r < s.weight) return s;
      r -= s.weight;
    }
    return src.back();
  }

  static void AppendLabel(std::string* out, const std::string& label) {
    out->push_back(static_cast<char>(label.size()));
    *out += label;
  }

  void HitIp4(const table::DsNode& ds, std::uint32_t* a) {
    const auto& snap = ds.view.snapshot();
    const auto& rec = ds.view.rec();
    if (ds.view.type() == table::DatasetType::kIp4Trie) {
      if (const auto* s = RandomSlot(Slots<f::Slot64>(snap, rec.tables[0]), rng_)) {
        const unsigned len = static_cast<unsigned>(s->key >> 32);
        *a = static_cast<std::uint32_t>(s->key) |
             static_cast<std::uint32_t>(HostBits(32 - len, rng_()));
      }
      return;
    }
    // ip4set levels /32 /24 /16 /8 (ip4tset: level 0 only), by entry count.
    std::span<const f::Slot32> levels[4];
    std::uint64_t counts[4] = {};
    std::uint64_t total = 0;
    const int nlevels = ds.view.type() == table::DatasetType::kIp4Set ? 4 : 1;
    for (int l = 0; l < nlevels; ++l) {
      levels[l] = Slots<f::Slot32>(snap, rec.tables[l]);
      if (!levels[l].empty()) {
        f::TableHeader h;
        std::memcpy(&h, snap.Section(rec.tables[l]).data(), sizeof h);
        counts[l] = h.count;
        total += h.count;
      }
    }
    if (total == 0) return;
    std::uint64_t r = rng_() % total;
    int l = 0;
    while (l < 3 && r >= counts[l]) r -= counts[l++];
    if (const auto* s = RandomSlot(levels[l], rng_)) {
      *a = s->key | static_cast<std::uint32_t>(HostBits(8u * static_cast<unsigned>(l), rng_()));
    }
  }

  void HitIp6(const table::DsNode& ds, std::uint64_t* hi, std::uint64_t* lo) {
    const auto& snap = ds.view.snapshot();
    const auto& rec = ds.view.rec();
    if (ds.view.type() == table::DatasetType::kIp6TSet) {
      if (const auto* s = RandomSlot(Slots<f::Slot64>(snap, rec.tables[0]), rng_)) *hi = s->key;
      return;
    }
    if (const auto* s = RandomSlot(Slots<f::Slot128>(snap, rec.tables[0]), rng_)) {
      const unsigned len = s->len;
      if (len <= 64) {
        *hi = s->hi | HostBits(64 - len, *hi);
      } else {
        *hi = s->hi;
        *lo = s->lo | HostBits(128 - len, *lo);
      }
    }
  }

  bool HitName(const table::DsNode& ds, std::string* rel) {
    const auto& snap = ds.view.snapshot();
    const auto& rec = ds.view.rec();
    auto plain = Slots<f::SlotName>(snap, rec.tables[0]);
    auto wild = Slots<f::SlotName>(snap, rec.tables[1]);
    const bool use_wild = !wild.empty() && (plain.empty() || rng_() % 4 == 0);
    const f::SlotName* s = RandomSlot(use_wild ? wild : plain, rng_);
    if (s == nullptr) return false;
    if (use_wild) AppendLabel(rel, absl::StrCat("w", rng_() % 100000));
    const auto name = snap.Bytes(s->name);
    rel->append(reinterpret_cast<const char*>(name.data()), name.size());
    return true;
  }

  const table::ZoneSet& zones_;
  std::mt19937_64 rng_;
  std::vector<Source> ip4_, ip6_, name_;
};

}  // namespace

absl::StatusOr<QuerySet> GenerateQueries(const table::ZoneSet& zones,
                                         const GenerateOptions& options) {
  if (options.count == 0 || options.count > QuerySet::kMaxQueries) {
    return absl::InvalidArgumentError(
        absl::StrCat("query count must be 1..", QuerySet::kMaxQueries));
  }
  if (!(options.hit_ratio >= 0 && options.hit_ratio <= 1)) {
    return absl::InvalidArgumentError("hit ratio must be in [0, 1]");
  }
  Generator gen(zones, options.seed ^ 0x9e3779b97f4a7c15ULL);
  struct KindWeight {
    QueryKind kind;
    double weight;
    const char* what;
  };
  KindWeight kinds[] = {{QueryKind::kIp4, options.ip4, "ip4"},
                        {QueryKind::kIp6, options.ip6, "ip6"},
                        {QueryKind::kName, options.name, "name"}};
  double total = 0;
  for (auto& k : kinds) {
    const bool present = !gen.sources(k.kind).empty();
    if (k.weight < 0) k.weight = present ? 1.0 : 0.0;
    if (k.weight > 0 && !present) {
      return absl::InvalidArgumentError(
          absl::StrCat("the mix asks for ", k.what, " queries but the data has no ",
                       k.kind == QueryKind::kIp4   ? "ip4set/ip4tset/ip4trie"
                       : k.kind == QueryKind::kIp6 ? "ip6trie/ip6tset"
                                                   : "dnset",
                       " dataset"));
    }
    total += k.weight;
  }
  if (total <= 0) {
    return absl::InvalidArgumentError(
        "nothing to generate: the data has no ip4, ip6 or dnset dataset (use --queries FILE)");
  }
  double qtotal = 0;
  for (const auto& [t, w] : options.qtypes) qtotal += std::max(0.0, w);
  if (qtotal <= 0) return absl::InvalidArgumentError("the qtype mix is empty");

  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> unit(0, 1);
  QuerySet set;
  std::string rel;
  for (std::size_t i = 0; i < options.count; ++i) {
    double r = unit(rng) * total;
    QueryKind kind = QueryKind::kName;
    for (const auto& k : kinds) {
      if (r < k.weight) {
        kind = k.kind;
        break;
      }
      r -= k.weight;
    }
    double t = unit(rng) * qtotal;
    std::uint16_t qtype = options.qtypes.back().first;
    for (const auto& [type, w] : options.qtypes) {
      if (t < std::max(0.0, w)) {
        qtype = type;
        break;
      }
      t -= std::max(0.0, w);
    }
    const bool hit = unit(rng) < options.hit_ratio;
    const table::ZoneNode* zone = gen.Draw(kind, hit, &rel);
    rel.append(reinterpret_cast<const char*>(zone->name.data()), zone->name.size());
    if (rel.size() > dns::kMaxLabels) continue;  // a long dnset name under a long zone
    set.Add({reinterpret_cast<const std::uint8_t*>(rel.data()), rel.size()}, qtype, kind);
  }
  if (set.empty()) return absl::InvalidArgumentError("no query fits in 255 bytes");
  ExpectFromData(zones, &set);
  return set;
}

void ExpectFromData(const table::ZoneSet& zones, QuerySet* set) {
  auto answer = std::make_unique<table::Answer>();
  table::QueryOptions qopts;
  table::Query q;
  q.client.family = 4;
  q.client.v4 = 0x7f000001;
  q.now = static_cast<std::int64_t>(std::time(nullptr));
  std::uint8_t lower[dns::kMaxLabels];
  for (std::size_t i = 0; i < set->size(); ++i) {
    auto pkt = set->packet(i);
    QueryInfo& qi = set->mutable_info(i);
    const std::size_t name_len = pkt.size() - kHeader - 5;
    for (std::size_t k = 0; k < name_len; ++k) lower[k] = dns::ToLowerAscii(pkt[kHeader + k]);
    q.qname = {lower, name_len};
    q.qtype = qi.qtype;
    table::Resolve(zones, qopts, q, answer.get());
    if (answer->drop) {
      qi.expect_rcode = kExpectAnyRcode;
      qi.listed = false;
      continue;
    }
    qi.expect_rcode = static_cast<std::uint8_t>(answer->rcode);
    qi.listed =
        answer->rcode == table::Rcode::kNoError && answer->found && !answer->empty_non_terminal;
  }
}

void ExpectRcode(std::uint8_t expect, QuerySet* set) {
  for (std::size_t i = 0; i < set->size(); ++i) set->mutable_info(i).expect_rcode = expect;
}

}  // namespace meshbl::bench
