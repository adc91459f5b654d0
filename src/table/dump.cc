// BIND master-format dump of the served zones: see dump.h.
#include "meshbl/table/dump.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/ip_text.h"
#include "meshbl/table/txt_template.h"

namespace meshbl::table {

namespace f = format;

namespace {

using U128 = unsigned __int128;

constexpr std::size_t kFlushAt = 64 * 1024;

// Buffered text towards the caller's sink.
class Out {
 public:
  explicit Out(absl::FunctionRef<void(std::string_view)> sink) : sink_(sink) {}
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  ~Out() { Flush(); }

  std::string& text() { return buf_; }
  void MaybeFlush() {
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Flush() {
    if (buf_.empty()) return;
    sink_(buf_);
    buf_.clear();
  }

 private:
  absl::FunctionRef<void(std::string_view)> sink_;
  std::string buf_;
};

std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One label in master-file syntax (RFC 1035 §5.1): the characters that are
// special there escaped, bytes outside printable ASCII as \DDD.
void AppendLabel(std::string* out, std::span<const std::uint8_t> label) {
  for (std::uint8_t c : label) {
    if (c <= 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", unsigned{c});
      out->append(buf);
      continue;
    }
    switch (c) {
      case '.':
      case '\\':
      case '"':
      case ';':
      case '(':
      case ')':
      case '@':
      case '$':
        out->push_back('\\');
        break;
      default:
        break;
    }
    out->push_back(static_cast<char>(c));
  }
}

// A label sequence as relative master-file text, no trailing dot ("" when
// empty).
void AppendName(std::string* out, std::span<const std::uint8_t> labels) {
  bool first = true;
  for (std::size_t i = 0; i < labels.size();) {
    const std::size_t n = labels[i];
    if (n == 0 || i + 1 + n > labels.size()) break;
    if (!first) out->push_back('.');
    AppendLabel(out, labels.subspan(i + 1, n));
    first = false;
    i += 1 + n;
  }
}

// An absolute name: the labels and the root dot.
void AppendAbsolute(std::string* out, std::span<const std::uint8_t> labels) {
  AppendName(out, labels);
  out->push_back('.');
}

// A relative owner: "@" for the origin itself.
std::string OwnerText(std::span<const std::uint8_t> labels) {
  std::string s;
  AppendName(&s, labels);
  return s.empty() ? "@" : s;
}

void AppendIp4(std::string* out, std::uint32_t a) {
  char buf[16];
  out->append(buf, FormatIp4(a, buf));
}

// A <character-string>, quoted, with '"' and '\' escaped and bytes outside
// printable ASCII as \DDD.
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", unsigned{c});
      out->append(buf);
      continue;
    }
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(ch);
  }
  out->push_back('"');
}

// The A and TXT records of one listing (or `CNAME excluded`), owned by
// `owner`; `subject` is what `$` becomes. Identical records appear once, as
// in an answer.
void AppendListing(std::string* out, const DsNode& ds, std::string_view owner, std::uint32_t word,
                   std::string_view subject) {
  if (word == f::kExcluded) {
    out->append(owner);
    out->append("\tCNAME\texcluded\n");
    return;
  }
  ValueList vl;
  if (!ds.view.DecodeWord(word, &vl)) return;
  const Snapshot& snap = ds.view.snapshot();
  std::vector<std::string> seen;
  bool first = true;
  auto emit = [&](std::string rr) {
    if (std::find(seen.begin(), seen.end(), rr) != seen.end()) return;
    if (first) out->append(owner);
    out->append(rr);
    first = false;
    seen.push_back(std::move(rr));
  };
  for (const std::uint32_t id : vl.ids()) {
    if (id >= snap.values().size()) continue;
    const f::ValueRec& v = snap.values()[id];
    std::string a = "\tA\t";
    AppendIp4(&a, v.a);
    a.push_back('\n');
    emit(std::move(a));
    char txt[kMaxTxtExpansion];
    const std::size_t n = ExpandTxt(ds.txt, snap.String(v.txt), v.txt != f::kNone, subject, txt);
    if (n > 0) {
      std::string t = "\tTXT\t";
      AppendQuoted(&t, std::string_view(txt, n));
      t.push_back('\n');
      emit(std::move(t));
    }
  }
}

// ---- IP datasets: blocks at label boundaries --------------------------------

struct BlockKey {
  U128 addr;  // left-aligned: IPv4 in the top 32 bits
  int len;
  friend bool operator==(const BlockKey&, const BlockKey&) = default;
  template <class H>
  friend H AbslHashValue(H h, const BlockKey& k) {
    return H::combine(std::move(h), static_cast<std::uint64_t>(k.addr >> 64),
                      static_cast<std::uint64_t>(k.addr), k.len);
  }
};

struct BlockVal {
  std::uint32_t word;
  int orig_len;  // the prefix length of the entry this block comes from
  U128 subject;  // that entry's first address, for `$`
};

U128 Mask(U128 addr, int len) { return len == 0 ? 0 : addr & (~U128{0} << (128 - len)); }

// The blocks of one IP dataset at label boundaries (`step` bits: 8 for IPv4,
// 4 for IPv6), made to mean in DNS what the longest-prefix rule means.
class IpBlocks {
 public:
  explicit IpBlocks(bool v6) : v6_(v6), width_(v6 ? 128 : 32), step_(v6 ? 4 : 8) {}

  // An entry `addr`/`len` with value word `word`: split into the blocks of
  // the next boundary; where blocks coincide the longer entry wins.
  void Add(U128 addr, int len, std::uint32_t word) {
    if (len < 0 || len > width_) return;
    addr = Mask(addr, len);
    const int aligned = (len + step_ - 1) / step_ * step_;
    const int pieces = 1 << (aligned - len);
    for (int i = 0; i < pieces; ++i) {
      const U128 a = addr | (aligned == 0 ? 0 : U128(static_cast<unsigned>(i)) << (128 - aligned));
      auto [it, inserted] = blocks_.try_emplace(BlockKey{a, aligned}, BlockVal{word, len, addr});
      if (!inserted && it->second.orig_len <= len) it->second = {word, len, addr};
    }
  }

  bool Has(U128 addr, int len) const { return blocks_.contains(BlockKey{Mask(addr, len), len}); }

  // RFC 4592 §2.2: a wildcard does not apply below a name that exists. A
  // block inside a shorter listed block makes the names between them exist
  // (as empty non-terminals); each gets a wildcard with the covering
  // block's records, so every address still resolves by the longest prefix.
  void FixWildcards() {
    std::vector<BlockKey> keys;
    keys.reserve(blocks_.size());
    for (const auto& [k, v] : blocks_) keys.push_back(k);
    for (const BlockKey& k : keys) {
      const BlockVal* cover = nullptr;
      int cover_len = -1;
      for (int m = k.len - step_; m >= 0; m -= step_) {
        auto it = blocks_.find(BlockKey{Mask(k.addr, m), m});
        if (it != blocks_.end()) {
          cover = &it->second;
          cover_len = m;
          break;
        }
      }
      if (cover == nullptr || cover->word == f::kExcluded) continue;
      const BlockVal c = *cover;
      for (int m = cover_len + step_; m < k.len; m += step_) {
        blocks_.try_emplace(BlockKey{Mask(k.addr, m), m}, c);
      }
    }
  }

  void Write(Out& out, const DsNode& ds) const {
    std::vector<std::pair<BlockKey, BlockVal>> sorted(blocks_.begin(), blocks_.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.first.addr != b.first.addr ? a.first.addr < b.first.addr : a.first.len < b.first.len;
    });
    for (const auto& [k, v] : sorted) {
      AppendListing(&out.text(), ds, Owner(k), v.word, Subject(v.subject));
      out.MaybeFlush();
    }
  }

 private:
  // "4.3.2.1" for a full address, "*.0.0.10" for 10.0.0.0/24, "*" for /0.
  std::string Owner(const BlockKey& k) const {
    std::string s = k.len < width_ ? "*" : "";
    for (int i = k.len / step_ - 1; i >= 0; --i) {
      const unsigned unit =
          static_cast<unsigned>(k.addr >> (128 - step_ * (i + 1))) & ((1u << step_) - 1);
      if (!s.empty()) s.push_back('.');
      absl::StrAppend(&s, v6_ ? std::string(1, "0123456789abcdef"[unit]) : absl::StrCat(unit));
    }
    return s;
  }

  std::string Subject(U128 addr) const {
    char buf[kMaxIpText];
    if (!v6_) return std::string(buf, FormatIp4(static_cast<std::uint32_t>(addr >> 96), buf));
    std::uint8_t b[16];
    for (int i = 0; i < 16; ++i) b[i] = static_cast<std::uint8_t>(addr >> (120 - 8 * i));
    return std::string(buf, FormatIp6(b, buf));
  }

  bool v6_;
  int width_, step_;
  absl::flat_hash_map<BlockKey, BlockVal> blocks_;
};

template <class Slot, class Fn>
void ForEachSlot(TableRef<Slot> t, Fn fn) {
  for (std::uint64_t i = 0; i < t.capacity; ++i) {
    if (t.slots[i].val != f::kEmptySlot) fn(t.slots[i]);
  }
}

void WriteIp(Out& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  const bool v6 = v.type() == DatasetType::kIp6Trie || v.type() == DatasetType::kIp6TSet;
  IpBlocks blocks(v6);
  switch (v.type()) {
    case DatasetType::kIp4Set:
      for (int l = 0; l < 4; ++l) {
        ForEachSlot(v.ip4_level(l),
                    [&](const f::Slot32& s) { blocks.Add(U128{s.key} << 96, 32 - 8 * l, s.val); });
      }
      break;
    case DatasetType::kIp4TSet:
      ForEachSlot(v.ip4_level(0), [&](const f::Slot32& s) {
        blocks.Add(U128{s.key} << 96, 32, v.rec().dataset_value);
      });
      break;
    case DatasetType::kIp4Trie:
      ForEachSlot(v.table64(), [&](const f::Slot64& s) {
        blocks.Add(U128{static_cast<std::uint32_t>(s.key)} << 96, static_cast<int>(s.key >> 32),
                   s.val);
      });
      break;
    case DatasetType::kIp6Trie:
      ForEachSlot(v.table128(), [&](const f::Slot128& s) {
        blocks.Add(U128{s.hi} << 64 | s.lo, static_cast<int>(s.len), s.val);
      });
      break;
    case DatasetType::kIp6TSet:
      ForEachSlot(v.table64(), [&](const f::Slot64& s) {
        blocks.Add(U128{s.key} << 64, 64, v.rec().dataset_value);
      });
      // Exclusions matter only inside a listed /64.
      ForEachSlot(v.table128(), [&](const f::Slot128& s) {
        const U128 a = U128{s.hi} << 64 | s.lo;
        if (blocks.Has(a, 64)) blocks.Add(a, 128, f::kExcluded);
      });
      break;
    default:
      return;
  }
  blocks.FixWildcards();
  blocks.Write(out, ds);
}

// ---- dnset ------------------------------------------------------------------

// The proper ancestors of a label sequence, longest first (not the empty one).
template <class Fn>
void ForEachAncestor(std::string_view name, Fn fn) {
  std::size_t off = 0;
  while (off < name.size()) {
    off += 1u + static_cast<std::uint8_t>(name[off]);
    if (off >= name.size()) break;
    if (!fn(name.substr(off))) break;
  }
}

// Canonical order (RFC 4034 §6.1) of a label sequence: labels reversed.
std::string CanonicalKey(std::string_view name) {
  std::vector<std::string_view> labels;
  for (std::size_t i = 0; i < name.size();) {
    const std::size_t n = static_cast<std::uint8_t>(name[i]);
    labels.push_back(name.substr(i + 1, n));
    i += 1 + n;
  }
  std::string key;
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    key.append(*it);
    key.push_back('\0');
  }
  return key;
}

void WriteDnSet(Out& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  const Snapshot& snap = v.snapshot();
  absl::flat_hash_map<std::string_view, std::uint32_t> plain, wild;
  ForEachSlot(v.names(), [&](const f::SlotName& s) { plain[snap.String(s.name)] = s.val; });
  ForEachSlot(v.wildcards(), [&](const f::SlotName& s) {
    std::string_view base = snap.String(s.name);
    if (!base.empty()) wild[base] = s.val;  // an apex wildcard never matches (§4.6)
  });

  // The wildcard base that decides for names below `name`: the longest
  // proper ancestor that is a base (rbldnsd §4.6), listed or excluded.
  auto deciding_base = [&](std::string_view name) {
    const std::pair<const std::string_view, std::uint32_t>* base = nullptr;
    ForEachAncestor(name, [&](std::string_view a) {
      auto it = wild.find(a);
      if (it == wild.end()) return true;
      base = &*it;
      return false;
    });
    return base;
  };
  auto reached = [&](std::string_view name) {
    const auto* base = deciding_base(name);
    return base != nullptr && base->second != f::kExcluded;
  };

  struct Entry {
    std::string key;
    std::string_view name;
    bool wildcard;
    std::uint32_t word;
    std::string_view subject;  // label sequence `$` stands for
  };
  std::vector<Entry> entries;
  std::size_t literal_stars = 0;
  // An exclusion no listed wildcard reaches changes no answer: it is left out
  // (as `CNAME excluded` it would make its parents exist). A plain one at a
  // wildcard base stays: the base exists in the file anyway.
  for (const auto& [name, word] : plain) {
    if (word == f::kExcluded && !reached(name) && !wild.contains(name)) continue;
    // A leftmost `*` label is a wildcard in DNS, never a literal name (RFC
    // 4592 §2.1.1): such an entry cannot be written.
    if (name.size() >= 2 && name[0] == 1 && name[1] == '*') {
      ++literal_stars;
      continue;
    }
    entries.push_back({"", name, false, word, name});
  }
  for (const auto& [base, word] : wild) {
    if (word == f::kExcluded && !reached(base)) continue;
    entries.push_back({"", base, true, word, base});
  }

  // The names that exist in the master file: every entry and its ancestors.
  absl::flat_hash_set<std::string_view> nodes;
  for (const Entry& e : entries) {
    nodes.insert(e.name);
    ForEachAncestor(e.name, [&](std::string_view a) { return nodes.insert(a).second; });
  }
  // A name below a listed wildcard base that exists in the file stops the
  // wildcard (RFC 4592 §2.2): repeat the base's records at it (unless it is
  // listed itself) and as a wildcard below it (unless it is a base itself).
  for (std::string_view n : nodes) {
    const auto* base = deciding_base(n);
    if (base == nullptr || base->second == f::kExcluded) continue;
    if (!wild.contains(n)) entries.push_back({"", n, true, base->second, base->first});
    if (!plain.contains(n)) entries.push_back({"", n, false, base->second, base->first});
  }
  if (literal_stars > 0) {
    absl::StrAppend(&out.text(), "; ", literal_stars,
                    " entries named \"*...\" left out: a leftmost * label is a wildcard in DNS "
                    "(RFC 4592)\n");
  }

  for (Entry& e : entries) {
    e.key = CanonicalKey(e.name);
    if (e.wildcard) e.key.append("*", 2);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  for (const Entry& e : entries) {
    std::string owner = e.wildcard ? "*." : "";
    AppendName(&owner, AsBytes(e.name));
    std::string subject;
    AppendName(&subject, AsBytes(e.subject));
    AppendListing(&out.text(), ds, owner, e.word, subject);
    out.MaybeFlush();
  }
}

// ---- generic ----------------------------------------------------------------

void AppendRdata(std::string* out, std::uint16_t type, std::span<const std::uint8_t> rd) {
  switch (type) {
    case kTypeA:
      if (rd.size() == 4) {
        absl::StrAppend(out, "A\t", rd[0], ".", rd[1], ".", rd[2], ".", rd[3]);
        return;
      }
      break;
    case kTypeMx:
      if (rd.size() >= 3) {
        absl::StrAppend(out, "MX\t", (unsigned{rd[0]} << 8) | rd[1], "\t");
        const auto name = rd.subspan(2, rd.size() - 3);  // without the root label
        AppendAbsolute(out, name);
        return;
      }
      break;
    case kTypeTxt: {
      out->append("TXT\t");
      for (std::size_t i = 0; i < rd.size();) {
        const std::size_t n = rd[i];
        if (i + 1 + n > rd.size()) break;
        if (i > 0) out->push_back(' ');
        AppendQuoted(out, std::string_view(reinterpret_cast<const char*>(rd.data()) + i + 1, n));
        i += 1 + n;
      }
      return;
    }
    default:
      break;
  }
  // RFC 3597 form for anything else.
  absl::StrAppend(out, "TYPE", type, "\t\\# ", rd.size());
  if (!rd.empty()) out->push_back(' ');
  for (std::uint8_t b : rd) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", unsigned{b});
    out->append(buf);
  }
}

void WriteGeneric(Out& out, const DsNode& ds) {
  const DatasetView& v = ds.view;
  const Snapshot& snap = v.snapshot();
  std::vector<std::pair<std::string, const f::SlotName*>> names;
  ForEachSlot(v.names(), [&](const f::SlotName& s) {
    names.emplace_back(CanonicalKey(snap.String(s.name)), &s);
  });
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const auto records = v.records();
  for (const auto& [key, s] : names) {
    std::string& o = out.text();
    const std::uint64_t end =
        std::min<std::uint64_t>(std::uint64_t{s->val} + s->aux, records.size());
    // An answer gives every RR of a type the smallest TTL among them
    // (reference §5), which is also the one TTL an RRset has (RFC 2181 §5.2).
    absl::flat_hash_map<std::uint16_t, std::uint32_t> ttl;
    for (std::uint64_t i = s->val; i < end; ++i) {
      auto [it, inserted] = ttl.try_emplace(records[i].type, records[i].ttl);
      if (!inserted) it->second = std::min(it->second, records[i].ttl);
    }
    bool first = true;
    for (std::uint64_t i = s->val; i < end; ++i) {
      const f::RecordRec& r = records[i];
      const auto rd = snap.Bytes(r.rdata);
      if (rd.size() != r.rdlen) continue;
      absl::StrAppend(&o, first ? OwnerText(snap.Bytes(s->name)) : "", "\t", ttl[r.type], "\t");
      AppendRdata(&o, r.type, rd);
      o.push_back('\n');
      first = false;
    }
    out.MaybeFlush();
  }
}

// ---- zones ------------------------------------------------------------------

std::string Absolute(std::span<const std::uint8_t> labels) {
  std::string s;
  AppendAbsolute(&s, labels);
  return s;
}

void WriteDataset(Out& out, const DsNode& ds, std::span<const std::uint8_t> origin) {
  const DatasetType type = ds.view.type();
  if (type == DatasetType::kAcl) return;
  if (type == DatasetType::kCombined) {
    // Each sub-zone under its own origin (label sequences concatenate).
    for (const SubZoneNode& sub : ds.subs) {
      std::vector<std::uint8_t> name(sub.name.begin(), sub.name.end());
      name.insert(name.end(), origin.begin(), origin.end());
      absl::StrAppend(&out.text(), "$ORIGIN\t", Absolute(name), "\n");
      for (const DsNode* child : sub.datasets) WriteDataset(out, *child, name);
    }
    absl::StrAppend(&out.text(), "$ORIGIN\t", Absolute(origin), "\n");
    return;
  }
  absl::StrAppend(&out.text(), "$TTL ", ds.view.ttl(), "\n");
  switch (type) {
    case DatasetType::kDnSet:
      WriteDnSet(out, ds);
      break;
    case DatasetType::kGeneric:
      WriteGeneric(out, ds);
      break;
    default:
      WriteIp(out, ds);
      break;
  }
}

void WriteApex(Out& out, const ZoneNode& z) {
  std::string& o = out.text();
  bool first = true;
  if (z.soa != nullptr) {
    const f::DatasetRec& r = z.soa->view.rec();
    const Snapshot& snap = z.soa->view.snapshot();
    const std::uint32_t serial = r.soa_serial != 0 ? r.soa_serial : z.stamp;
    absl::StrAppend(&o, "@\t", r.soa_ttl, "\tSOA\t", Absolute(snap.Bytes(r.soa_origin)), "\t",
                    Absolute(snap.Bytes(r.soa_person)), "\t(", serial, " ", r.soa_refresh, " ",
                    r.soa_retry, " ", r.soa_expire, " ", r.soa_minimum, ")\n");
    first = false;
  }
  if (z.ns != nullptr) {
    const f::DatasetRec& r = z.ns->view.rec();
    const Snapshot& snap = z.ns->view.snapshot();
    for (std::uint32_t ref : snap.Pool(r.ns_first, r.ns_count)) {
      absl::StrAppend(&o, first ? "@" : "", "\t", r.ns_ttl, "\tNS\t", Absolute(snap.Bytes(ref)),
                      "\n");
      first = false;
    }
  }
}

std::string DumpTime(std::int64_t now) {
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return std::string(buf, n);
}

}  // namespace

void DumpZones(const ZoneSet& zones, const DumpOptions& options,
               absl::FunctionRef<void(std::string_view)> sink) {
  Out out(sink);
  absl::StrAppend(&out.text(), "; zone dump made ", DumpTime(options.now), "\n; ",
                  std::string(options.producer), "\n");
  for (const ZoneNode& z : zones.zones()) {
    absl::StrAppend(&out.text(), "$ORIGIN\t", Absolute(z.name), "\n");
    WriteApex(out, z);
    for (const DsNode* d : z.datasets) WriteDataset(out, *d, z.name);
    out.MaybeFlush();
  }
}

}  // namespace meshbl::table
