#include "meshbl/feed/live_list.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "meshbl/dns/name.h"
#include "meshbl/feed/codec.h"
#include "meshbl/util/log.h"
#include "meshbl/util/thread_name.h"

namespace meshbl::feed {

namespace {

constexpr std::size_t kMaxExpiryPerTxn = 10000;
// Ticks from a compaction's publish to the heap trim after it (0.5 s).
constexpr int kTrimTicks = 100;

std::string ExpiryPrefix(std::string_view list) {
  std::string k("exp");
  k.push_back('\0');
  k.append(list);
  k.push_back('\0');
  return k;
}

std::string ListPrefix(std::string_view list) {
  std::string k(list);
  k.push_back('\0');
  return k;
}

void PutBe64(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

std::uint64_t GetBe64(std::string_view b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < b.size(); ++i)
    v = (v << 8) | static_cast<std::uint8_t>(b[i]);
  return v;
}

bool IsCovering(const Subject& s) {
  if (s.kind == Subject::Kind::kName) return s.wildcard;
  return s.len < s.addr.bits();
}

// The key prefix of every subject a whitelist entry `w` may cover.
std::string CoveredPrefix(std::string_view list, const Subject& w) {
  std::string p = ListPrefix(list);
  if (w.kind == Subject::Kind::kName) {
    if (!w.wildcard) return p + EncodeSubjectKey(w);
    return p + SubjectKeyPrefixBelow(w.name);
  }
  const std::string k = EncodeSubjectKey(w);  // family byte + address bytes + length
  return p + k.substr(0, 1 + w.len / 8);
}

table::LiveEntry EntryOf(const Subject& slot, std::uint32_t value) {
  table::LiveEntry e;
  if (slot.kind == Subject::Kind::kIp) {
    e.kind = slot.addr.is_v4() ? table::LiveEntry::Kind::kIp4 : table::LiveEntry::Kind::kIp6;
    const auto b = slot.addr.bytes();
    std::copy(b.begin(), b.end(), e.addr.begin());
    e.len = slot.len;
  } else {
    e.kind = table::LiveEntry::Kind::kName;
    dns::ParseName(slot.name, &e.name);
    e.wildcard = slot.wildcard;
  }
  e.value = value;
  return e;
}

// The value id a listing is answered with (interned in `values`).
std::uint32_t ValueOf(table::LiveValues* values, const LiveListSpec& spec, const Listing& l) {
  table::Value v;
  v.a = 0x7f000000u | l.code;
  if (!l.reason.empty()) v.txt = l.reason;
  const std::uint32_t id = values->Intern(v);
  if (id == table::LiveValues::kFull) {
    util::LogError(absl::StrCat("live list ", spec.name, ": more than ",
                                table::LiveValues::kCapacity, " distinct values; ",
                                l.subject.ToString(), " is not served"));
    return table::LiveEntry::kExcluded;
  }
  return id;
}

}  // namespace

std::string ListingKey(std::string_view list, const Subject& s) {
  return ListPrefix(list) + EncodeSubjectKey(s);
}

std::string WhitelistKey(std::string_view list, const Subject& s) { return ListingKey(list, s); }

std::string ExpiryKey(std::string_view list, std::int64_t expires, const Subject& s) {
  std::string k = ExpiryPrefix(list);
  PutBe64(&k, static_cast<std::uint64_t>(expires));
  k += EncodeSubjectKey(s);
  return k;
}

// What a delta slot answers (`value`: a listing's value id, or an exclusion:
// a whitelist entry, or nothing covers the subject any more), and the
// record at exactly that subject (`record`: a listing's value id,
// kExcluded for a whitelist entry, kRemoved for none), which is what a
// compaction merges into the base.
struct LiveLists::Slot {
  Subject subject;
  std::uint32_t value = table::LiveEntry::kExcluded;
  std::uint32_t record = table::LiveEntry::kRemoved;
  std::uint64_t seq = 0;
};

struct LiveLists::List {
  LiveListSpec spec;
  std::uint32_t slot = 0;
  std::shared_ptr<table::LiveValues> values = std::make_shared<table::LiveValues>();
  std::shared_ptr<const table::LiveLayer> base;
  std::shared_ptr<const table::LiveTables> published;
  absl::flat_hash_map<std::string, Slot> delta;       // by slot (subject) key
  absl::flat_hash_map<std::string, Subject> touched;  // since the last publish
  std::uint64_t seq = 0;
  bool compacting = false;
  std::uint64_t freeze_seq = 0;
  bool dirty = false;  // delta slots recomputed but not yet published
  // The slots (keys of `delta`) changed since `mid` was built: the delta
  // layer holds these, the mid layer every other slot of `delta`.
  std::shared_ptr<const table::LiveLayer> mid;
  absl::flat_hash_set<std::string> recent;
  bool fold = false;            // the next build rebuilds `mid` from every slot
  std::size_t quiet_ticks = 0;  // ticks since a slot was last touched
  int trim_ticks = 0;
  // Prefix lengths some listing or whitelist entry of the list has had
  // (bit n of v4: /n; v6: /n of 0..128): Cover() probes only these.
  std::uint64_t lens_v4 = 0;
  std::array<std::uint64_t, 3> lens_v6{};
  void NoteLength(const Subject& s) {
    if (s.kind != Subject::Kind::kIp) return;
    if (s.addr.is_v4()) {
      lens_v4 |= std::uint64_t{1} << s.len;
    } else {
      lens_v6[s.len / 64u] |= std::uint64_t{1} << (s.len % 64u);
    }
  }
  bool HadLength(bool v4, std::size_t len) const {
    return v4 ? (lens_v4 >> len & 1) != 0 : (lens_v6[len / 64] >> (len % 64) & 1) != 0;
  }  // ticks until the heap is trimmed (0: none due)
  std::thread compactor;
  LiveListStats stats;
};

LiveLists::LiveLists(Store* store, table::OverlaySetHolder* holder, std::vector<LiveListSpec> lists,
                     Post post, LiveListsOptions options)
    : store_(store),
      holder_(holder),
      specs_(std::move(lists)),
      post_(std::move(post)),
      options_(options),
      alive_(std::make_shared<std::atomic<bool>>(true)) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    auto l = std::make_unique<List>();
    l->spec = specs_[i];
    l->slot = static_cast<std::uint32_t>(i);
    lists_.push_back(std::move(l));
  }
}

LiveLists::~LiveLists() {
  alive_->store(false);
  for (auto& l : lists_) {
    if (l->compactor.joinable()) l->compactor.join();
  }
}

int LiveLists::SlotOf(std::string_view list) const {
  const List* l = Find(list);
  return l == nullptr ? -1 : static_cast<int>(l->slot);
}

LiveLists::List* LiveLists::Find(std::string_view list) {
  for (auto& l : lists_) {
    if (l->spec.name == list) return l.get();
  }
  return nullptr;
}

const LiveLists::List* LiveLists::Find(std::string_view list) const {
  for (const auto& l : lists_) {
    if (l->spec.name == list) return l.get();
  }
  return nullptr;
}

namespace {

// The base of `list`: every listing and whitelist entry in the store, from
// one scan each. Start-up, on the feed thread (it interns values).
absl::StatusOr<std::shared_ptr<const table::LiveLayer>> BuildBase(
    const Store& store, const LiveListSpec& spec, std::shared_ptr<table::LiveValues> values) {
  std::vector<table::LiveEntry> entries;
  std::string last_exact;  // a name listed exactly, just before its wildcard
  absl::Status bad;
  auto st = store.Scan(Table::kListings, ListPrefix(spec.name),
                       [&](std::string_view, std::string_view value) {
                         auto l = DecodeListing(value);
                         if (!l.ok()) {
                           bad = l.status();
                           return true;  // counted below; the rest still served
                         }
                         const Subject& s = l->subject;
                         const std::uint32_t v = ValueOf(values.get(), spec, *l);
                         entries.push_back(EntryOf(s, v));
                         if (s.kind == Subject::Kind::kName) {
                           if (!s.wildcard) {
                             last_exact = s.name;
                           } else if (last_exact != s.name) {
                             Subject exact = s;
                             exact.wildcard = false;
                             entries.push_back(EntryOf(exact, v));
                           }
                         }
                         return true;
                       });
  if (!st.ok()) return st;
  st = store.Scan(Table::kWhitelist, ListPrefix(spec.name),
                  [&](std::string_view, std::string_view value) {
                    auto w = DecodeWhitelistEntry(value);
                    if (!w.ok()) {
                      bad = w.status();
                      return true;
                    }
                    entries.push_back(EntryOf(w->subject, table::LiveEntry::kExcluded));
                    if (w->subject.kind == Subject::Kind::kName && w->subject.wildcard) {
                      Subject exact = w->subject;
                      exact.wildcard = false;
                      entries.push_back(EntryOf(exact, table::LiveEntry::kExcluded));
                    }
                    return true;
                  });
  if (!st.ok()) return st;
  if (!bad.ok()) {
    util::LogWarning(absl::StrCat(
        "live list ", spec.name, ": a damaged record in the store is not served: ", bad.message()));
  }
  // A whitelist entry and a listing at the same subject cannot both be
  // stored (WhitelistAdd deletes, Add refuses); the builder keeps the first.
  return table::LiveLayer::Build(entries, std::move(values), spec.ttl);
}

}  // namespace

absl::Status LiveLists::Load(std::int64_t now) {
  for (auto& l : lists_) {
    auto base = BuildBase(*store_, l->spec, l->values);
    if (!base.ok()) return base.status();
    l->base = *std::move(base);
    l->stats.base_entries = l->base->entries();
    l->stats.base_bytes = l->base->bytes();
    l->lens_v4 = l->base->ip4_lengths();
    l->lens_v6 = l->base->ip6_lengths();
  }
  FindNextExpiry();
  PublishAll();
  if (next_expiry_ != 0 && next_expiry_ <= now) Tick(now);
  return absl::OkStatus();
}

std::optional<Listing> LiveLists::Effective(const List& l, const Subject& s) const {
  auto v = store_->Get(Table::kListings, ListingKey(l.spec.name, s));
  if (!v) return std::nullopt;
  auto d = DecodeListing(*v);
  if (!d.ok()) return std::nullopt;
  return *std::move(d);
}

// The listing that answers for `s` once `s` itself is not listed: the most
// specific covering listing or whitelist entry (nullopt with no listing:
// excluded or nothing). Reads the store.
std::optional<Listing> LiveLists::Cover(const List& l, const Subject& s) const {
  if (s.kind == Subject::Kind::kIp) {
    for (int len = static_cast<int>(s.len) - 1; len >= 0; --len) {
      if (!l.HadLength(s.addr.is_v4(), static_cast<std::size_t>(len))) continue;
      const Subject c = Subject::Ip(s.addr, static_cast<std::size_t>(len));
      if (store_->Get(Table::kWhitelist, WhitelistKey(l.spec.name, c))) return std::nullopt;
      if (auto e = Effective(l, c)) return e;
    }
    return std::nullopt;
  }
  std::string_view n = s.name;
  for (auto dot = n.find('.'); dot != std::string_view::npos; dot = n.find('.')) {
    n.remove_prefix(dot + 1);
    Subject c;
    c.kind = Subject::Kind::kName;
    c.name = std::string(n);
    c.wildcard = true;
    if (store_->Get(Table::kWhitelist, WhitelistKey(l.spec.name, c))) return std::nullopt;
    if (auto e = Effective(l, c)) return e;
  }
  return std::nullopt;
}

void LiveLists::Recompute(List* l, const Subject& s) {
  using table::LiveEntry;
  auto value_of = [&](const std::optional<Listing>& x) {
    return x ? ValueOf(l->values.get(), l->spec, *x) : LiveEntry::kExcluded;
  };
  // `record`: what is stored at exactly the slot; `value`: what it answers.
  auto set = [&](const Subject& slot, std::uint32_t record, std::uint32_t value) {
    std::string key = EncodeSubjectKey(slot);
    Slot& sl = l->delta[key];
    sl.subject = slot;
    sl.record = record;
    sl.value = value;
    sl.seq = ++l->seq;
    l->recent.insert(std::move(key));
  };
  auto set_listing = [&](const Subject& slot, const Listing& x) {
    const std::uint32_t v = ValueOf(l->values.get(), l->spec, x);
    set(slot, v, v);
  };
  auto set_cover = [&](const Subject& slot, const Subject& from) {
    set(slot, LiveEntry::kRemoved, value_of(Cover(*l, from)));
  };
  auto white = [&](const Subject& x) {
    return store_->Get(Table::kWhitelist, WhitelistKey(l->spec.name, x)).has_value();
  };
  if (s.kind == Subject::Kind::kIp) {
    if (white(s)) return set(s, LiveEntry::kExcluded, LiveEntry::kExcluded);
    if (auto e = Effective(*l, s)) return set_listing(s, *e);
    return set_cover(s, s);
  }
  Subject exact = s, wild = s;
  exact.wildcard = false;
  wild.wildcard = true;
  // The exact slot: the name's own listing, else its wildcard's, else cover.
  if (white(exact) || white(wild)) {
    set(exact, LiveEntry::kExcluded, LiveEntry::kExcluded);
  } else if (auto e = Effective(*l, exact)) {
    set_listing(exact, *e);
  } else if (auto w = Effective(*l, wild)) {
    set_listing(exact, *w);
  } else {
    set_cover(exact, exact);
  }
  if (white(wild)) {
    set(wild, LiveEntry::kExcluded, LiveEntry::kExcluded);
  } else if (auto w = Effective(*l, wild)) {
    set_listing(wild, *w);
  } else {
    set_cover(wild, exact);
  }
}

void LiveLists::Touch(List* l, const Subject& s) {
  l->touched.emplace(EncodeSubjectKey(s), s);
  ++l->stats.changes;
}

void LiveLists::Commit(std::vector<Write> txn, std::vector<std::pair<List*, Subject>> touched,
                       Done done, std::vector<std::pair<std::string, Subject>> whitelisted) {
  // What the transaction writes is in flight until it lands (below).
  std::vector<std::string> listing_keys, white_keys;
  for (const Write& w : txn) {
    if (w.table == Table::kListings) {
      ++inflight_listings_[w.key];
      listing_keys.push_back(w.key);
    }
  }
  for (auto& [key, s] : whitelisted) {
    auto& e = inflight_whitelist_[key];
    ++e.first;
    e.second = std::move(s);
    white_keys.push_back(std::move(key));
  }
  // The committer thread calls back, possibly after this object is gone
  // (daemon stop): it only touches copies, and the task checks `alive`.
  auto alive = alive_;
  Post post = post_;
  store_->CommitAsync(std::move(txn),
                      [this, alive, post, touched = std::move(touched), done = std::move(done),
                       listing_keys = std::move(listing_keys),
                       white_keys = std::move(white_keys)](absl::Status st) mutable {
                        post([this, alive, touched = std::move(touched), done = std::move(done),
                              listing_keys = std::move(listing_keys),
                              white_keys = std::move(white_keys), st]() mutable {
                          if (!alive->load()) return;
                          for (const std::string& k : listing_keys) {
                            auto it = inflight_listings_.find(k);
                            if (it != inflight_listings_.end() && --it->second == 0)
                              inflight_listings_.erase(it);
                          }
                          for (const std::string& k : white_keys) {
                            auto it = inflight_whitelist_.find(k);
                            if (it != inflight_whitelist_.end() && --it->second.first == 0) {
                              inflight_whitelist_.erase(it);
                            }
                          }
                          if (st.ok()) {
                            for (auto& [l, s] : touched) Touch(l, s);
                          } else {
                            for (auto& [l, s] : touched) ++l->stats.failed;
                          }
                          if (done) done(st);
                        });
                      });
}

std::vector<Write> LiveLists::ExpiryWrites(const List& l, const Listing* old,
                                           const Listing* now) const {
  std::vector<Write> w;
  if (old != nullptr && old->expires != 0 && (now == nullptr || now->expires != old->expires)) {
    w.push_back({Table::kMeta, ExpiryKey(l.spec.name, old->expires, old->subject), std::nullopt});
  }
  if (now != nullptr && now->expires != 0) {
    w.push_back({Table::kMeta, ExpiryKey(l.spec.name, now->expires, now->subject), std::string()});
  }
  return w;
}

void LiveLists::Add(std::string_view list, std::vector<Listing> listings, std::vector<Write> extra,
                    Done done) {
  List* l = Find(list);
  if (l == nullptr) {
    if (done) done(absl::NotFoundError(absl::StrCat("no live list '", std::string(list), "'")));
    return;
  }
  std::vector<Write> txn;
  std::vector<std::pair<List*, Subject>> touched;
  for (Listing& n : listings) {
    const auto w = WhitelistCovering(list, n.subject);
    const Subject* by = w.empty() ? nullptr : &w.front().subject;
    // A whitelist entry whose transaction is still in flight comes first.
    const std::string prefix = ListPrefix(list);
    for (auto it = inflight_whitelist_.lower_bound(prefix);
         by == nullptr && it != inflight_whitelist_.end() && it->first.starts_with(prefix); ++it) {
      if (it->second.second.Covers(n.subject)) by = &it->second.second;
    }
    if (by != nullptr) {
      if (done) {
        done(absl::InvalidArgumentError(
            absl::StrCat(n.subject.ToString(), " is whitelisted by ", by->ToString())));
      }
      return;
    }
    const auto old = Effective(*l, n.subject);
    l->NoteLength(n.subject);
    for (Write& x : ExpiryWrites(*l, old ? &*old : nullptr, &n)) txn.push_back(std::move(x));
    txn.push_back({Table::kListings, ListingKey(list, n.subject), EncodeListing(n)});
    touched.emplace_back(l, n.subject);
    if (n.expires != 0 && (next_expiry_ == 0 || n.expires < next_expiry_)) {
      next_expiry_ = n.expires;
    }
  }
  for (Write& x : extra) txn.push_back(std::move(x));
  Commit(std::move(txn), std::move(touched), std::move(done));
}

void LiveLists::Delete(std::string_view list, std::vector<Subject> subjects,
                       std::vector<Write> extra, Done done) {
  List* l = Find(list);
  if (l == nullptr) {
    if (done) done(absl::NotFoundError(absl::StrCat("no live list '", std::string(list), "'")));
    return;
  }
  std::vector<Write> txn;
  std::vector<std::pair<List*, Subject>> touched;
  for (const Subject& s : subjects) {
    const auto old = Effective(*l, s);
    std::string key = ListingKey(list, s);
    // Not listed yet, but an earlier change listing it may be in flight
    // (its expiry key, if any, is left for ExpireNow to drop).
    if (!old && !inflight_listings_.contains(key)) continue;
    if (old) {
      for (Write& x : ExpiryWrites(*l, &*old, nullptr)) txn.push_back(std::move(x));
    }
    txn.push_back({Table::kListings, std::move(key), std::nullopt});
    touched.emplace_back(l, s);
  }
  for (Write& x : extra) txn.push_back(std::move(x));
  Commit(std::move(txn), std::move(touched), std::move(done));
}

void LiveLists::WhitelistAdd(std::string_view list, WhitelistEntry entry, std::vector<Write> extra,
                             Done done) {
  List* l = Find(list);
  if (l == nullptr) {
    if (done) done(absl::NotFoundError(absl::StrCat("no live list '", std::string(list), "'")));
    return;
  }
  std::vector<Write> txn;
  std::vector<std::pair<List*, Subject>> touched;
  l->NoteLength(entry.subject);
  txn.push_back(
      {Table::kWhitelist, WhitelistKey(list, entry.subject), EncodeWhitelistEntry(entry)});
  touched.emplace_back(l, entry.subject);
  const Subject w = entry.subject;
  auto st = store_->Scan(
      Table::kListings, CoveredPrefix(list, w), [&](std::string_view, std::string_view value) {
        auto d = DecodeListing(value);
        if (!d.ok() || !w.Covers(d->subject)) return true;
        for (Write& x : ExpiryWrites(*l, &*d, nullptr)) txn.push_back(std::move(x));
        txn.push_back({Table::kListings, ListingKey(list, d->subject), std::nullopt});
        touched.emplace_back(l, d->subject);
        return true;
      });
  if (!st.ok()) {
    if (done) done(st);
    return;
  }
  // Listings whose transactions are still in flight go too.
  const std::string prefix = CoveredPrefix(list, w);
  const std::size_t list_prefix = ListPrefix(list).size();
  for (auto it = inflight_listings_.lower_bound(prefix);
       it != inflight_listings_.end() && it->first.starts_with(prefix); ++it) {
    auto s = DecodeSubjectKey(std::string_view(it->first).substr(list_prefix));
    if (!s.ok() || !w.Covers(*s)) continue;
    txn.push_back({Table::kListings, it->first, std::nullopt});
    touched.emplace_back(l, *s);
  }
  for (Write& x : extra) txn.push_back(std::move(x));
  Commit(std::move(txn), std::move(touched), std::move(done), {{WhitelistKey(list, w), w}});
}

void LiveLists::WhitelistDelete(std::string_view list, const Subject& subject, Done done) {
  List* l = Find(list);
  if (l == nullptr) {
    if (done) done(absl::NotFoundError(absl::StrCat("no live list '", std::string(list), "'")));
    return;
  }
  std::vector<Write> txn = {{Table::kWhitelist, WhitelistKey(list, subject), std::nullopt}};
  Commit(std::move(txn), {{l, subject}}, std::move(done));
}

void LiveLists::ExpireNow(std::int64_t now, Done done) {
  std::vector<Write> txn;
  std::vector<std::pair<List*, Subject>> touched;
  for (auto& lp : lists_) {
    List* l = lp.get();
    const std::string prefix = ExpiryPrefix(l->spec.name);
    auto st = store_->Scan(Table::kMeta, prefix, [&](std::string_view key, std::string_view) {
      if (txn.size() >= kMaxExpiryPerTxn) return false;
      const std::string_view rest = key.substr(prefix.size());
      const auto when = static_cast<std::int64_t>(GetBe64(rest));
      if (when > now) return false;
      auto s = DecodeSubjectKey(rest.substr(8));
      // A change of this listing is in flight: decided on a later tick,
      // once the store holds it.
      if (s.ok() && inflight_listings_.contains(ListingKey(l->spec.name, *s))) return true;
      txn.push_back({Table::kMeta, std::string(key), std::nullopt});
      if (!s.ok()) return true;
      auto cur = Effective(*l, *s);
      if (cur && cur->expires == when) {
        txn.push_back({Table::kListings, ListingKey(l->spec.name, *s), std::nullopt});
        touched.emplace_back(l, *s);
        ++l->stats.expired;
      }
      return true;
    });
    if (!st.ok()) {
      if (done) done(st);
      return;
    }
  }
  expiring_ = true;
  // Every change is logged with its origin; an expiry's is the clock.
  std::vector<std::string> expired;
  for (const auto& [l, s] : touched)
    expired.push_back(absl::StrCat(l->spec.name, " ", s.ToString()));
  Commit(std::move(txn), std::move(touched),
         [this, expired = std::move(expired), done = std::move(done)](absl::Status st) {
           expiring_ = false;
           if (st.ok()) {
             constexpr std::size_t kShown = 20;  // a flood is summarised
             for (std::size_t i = 0; i < expired.size() && i < kShown; ++i) {
               util::LogInfo(absl::StrCat("live list ", expired[i], ": expired"));
             }
             if (expired.size() > kShown) {
               util::LogInfo(
                   absl::StrCat("live lists: ", expired.size() - kShown, " more listings expired"));
             }
           }
           FindNextExpiry();
           if (done) done(st);
         });
}

void LiveLists::FindNextExpiry() {
  next_expiry_ = 0;
  for (const auto& l : lists_) {
    const std::string prefix = ExpiryPrefix(l->spec.name);
    (void)store_->Scan(Table::kMeta, prefix, [&](std::string_view key, std::string_view) {
      const auto when = static_cast<std::int64_t>(GetBe64(key.substr(prefix.size())));
      if (next_expiry_ == 0 || when < next_expiry_) next_expiry_ = when;
      return false;
    });
  }
}

// Recomputes the slots touched since the last call (the delta is then
// ahead of what is published: `dirty`).
void LiveLists::RecomputeTouched(List* l) {
  auto touched = std::move(l->touched);
  l->touched.clear();
  for (const auto& [key, s] : touched) {
    Recompute(l, s);
    if (!IsCovering(s)) continue;
    // Slots inside a changed covering subject answer with what covers
    // them: recompute them too.
    std::vector<Subject> inside;
    for (const auto& [k, slot] : l->delta) {
      if (k != key && s.Covers(slot.subject)) inside.push_back(slot.subject);
    }
    for (const Subject& in : inside) Recompute(l, in);
  }
  l->dirty = true;
}

// A compaction costs the base's size: it starts once the delta holds
// compact_at slots or an eighth of the base, whichever is more, so that its
// cost per change stays bounded as the list grows.
std::size_t LiveLists::CompactAt(const List& l) const {
  const std::size_t base = l.base != nullptr ? l.base->entries() : 0;
  return std::max(options_.compact_at, base / 8);
}

void LiveLists::Tick(std::int64_t now) {
  if (!expiring_ && next_expiry_ != 0 && now >= next_expiry_) ExpireNow(now, nullptr);
  bool publish = false;
  for (auto& lp : lists_) {
    List* l = lp.get();
    if (l->trim_ticks > 0 && --l->trim_ticks == 0) malloc_trim(0);
    if (!l->touched.empty()) {
      RecomputeTouched(l);
      l->quiet_ticks = 0;
    } else if (l->quiet_ticks < options_.quiet_ticks) {
      ++l->quiet_ticks;
    }
    // Also when nothing changed: the delta left by a compaction (the
    // changes made while it ran) may itself be due for one; and a list
    // that went quiet settles into its base.
    if (!l->compacting && !l->delta.empty() &&
        (l->delta.size() >= CompactAt(*l) || l->quiet_ticks == options_.quiet_ticks)) {
      l->quiet_ticks = options_.quiet_ticks + 1;  // once per quiet spell
      StartCompaction(l);
    }
    if (!l->dirty) continue;
    BuildLayers(l);
    publish = true;
  }
  if (publish) PublishAll();
}

// The delta layer from the recently changed slots only; past recent_max
// they are merged into the mid layer instead and the delta starts empty
// (after a compaction the mid layer is rebuilt from every slot). Either way
// a slot's newest value is in the newest layer that has it (table/live.h:
// the newer layer wins a tie).
void LiveLists::BuildLayers(List* l) {
  std::vector<table::LiveEntry> entries;
  const bool rebuild = l->fold || l->mid == nullptr;
  const bool fold = rebuild || l->recent.size() > options_.recent_max;
  if (rebuild) {
    entries.reserve(l->delta.size());
    for (const auto& [k, slot] : l->delta) entries.push_back(EntryOf(slot.subject, slot.value));
  } else {
    entries.reserve(l->recent.size());
    for (const std::string& k : l->recent) {
      auto it = l->delta.find(k);
      if (it == l->delta.end()) continue;
      entries.push_back(EntryOf(it->second.subject, it->second.value));
    }
  }
  auto layer = rebuild ? table::LiveLayer::Build(entries, l->values, l->spec.ttl)
               : fold  ? table::LiveLayer::Merge(*l->mid, entries)
                       : table::LiveLayer::Build(entries, l->values, l->spec.ttl);
  if (!layer.ok()) {
    util::LogError(absl::StrCat("live list ", l->spec.name, ": ", layer.status().message()));
    return;
  }
  if (fold) {
    l->mid = *std::move(layer);
    l->recent.clear();
    l->fold = false;
    l->published = std::make_shared<table::LiveTables>(table::LiveTables{l->base, nullptr, l->mid});
  } else {
    l->published =
        std::make_shared<table::LiveTables>(table::LiveTables{l->base, *std::move(layer), l->mid});
  }
  l->dirty = false;
  l->stats.delta_slots = l->delta.size();
}

void LiveLists::PublishAll() {
  auto os = std::make_shared<table::OverlaySet>();
  for (auto& l : lists_) {
    if (l->published == nullptr) {
      l->published =
          std::make_shared<table::LiveTables>(table::LiveTables{l->base, nullptr, nullptr});
    }
    os->lists.push_back(l->published);
    ++l->stats.publishes;
  }
  holder_->Publish(std::move(os));
}

// Merges the records of every delta slot into a new base on a thread (the
// old base is immutable; the store is not read): O(base) with no allocation
// per entry, one extra copy of the base at most.
void LiveLists::StartCompaction(List* l) {
  l->compacting = true;
  l->freeze_seq = l->seq;
  if (l->compactor.joinable()) l->compactor.join();
  std::vector<table::LiveEntry> changes;
  changes.reserve(l->delta.size());
  for (const auto& [k, slot] : l->delta) changes.push_back(EntryOf(slot.subject, slot.record));
  auto alive = alive_;
  l->compactor =
      std::thread([this, l, alive, old = l->base, changes = std::move(changes)]() mutable {
        util::NameThisThread("meshbl-compact");
        absl::StatusOr<std::shared_ptr<const table::LiveLayer>> base =
            absl::InternalError("no base");
        if (old != nullptr) base = table::LiveLayer::Merge(*old, changes);
        old.reset();
        std::vector<table::LiveEntry>().swap(changes);
        post_([this, l, alive, base = std::move(base)]() mutable {
          if (!alive->load()) return;
          l->compacting = false;
          if (!base.ok()) {
            util::LogError(
                absl::StrCat("live list ", l->spec.name,
                             ": compaction failed, keeping the delta: ", base.status().message()));
            return;
          }
          l->base = *std::move(base);
          ++l->stats.compactions;
          l->stats.base_entries = l->base->entries();
          l->stats.base_bytes = l->base->bytes();
          for (auto it = l->delta.begin(); it != l->delta.end();) {
            if (it->second.seq <= l->freeze_seq) {
              l->delta.erase(it++);
            } else {
              ++it;
            }
          }
          l->delta.rehash(0);  // give back the table of the slots erased
          // Republish over the new base with the slots changed since, all in
          // the mid layer.
          l->fold = true;
          BuildLayers(l);
          PublishAll();
          // glibc keeps freed memory in the heap unless told: trim once the
          // readers have let go of the old base (they refresh per batch).
          l->trim_ticks = kTrimTicks;
        });
      });
}

std::vector<Listing> LiveLists::ListingsCovering(std::string_view list,
                                                 const Subject& subject) const {
  std::vector<Listing> out;
  const List* l = Find(list);
  if (l == nullptr) return out;
  if (subject.kind == Subject::Kind::kIp) {
    for (int len = subject.len; len >= 0; --len) {
      if (auto e = Effective(*l, Subject::Ip(subject.addr, static_cast<std::size_t>(len)))) {
        out.push_back(*std::move(e));
      }
    }
    return out;
  }
  Subject s = subject;
  for (bool first = true;; first = false) {
    for (bool w : {false, true}) {
      if (!first && !w) continue;
      s.wildcard = w;
      if (auto e = Effective(*l, s)) out.push_back(*std::move(e));
    }
    const auto dot = s.name.find('.');
    if (dot == std::string::npos) break;
    s.name = s.name.substr(dot + 1);
  }
  return out;
}

std::vector<WhitelistEntry> LiveLists::WhitelistCovering(std::string_view list,
                                                         const Subject& subject) const {
  std::vector<WhitelistEntry> out;
  (void)ForEachWhitelist(list, [&](const WhitelistEntry& w) {
    if (w.subject.Covers(subject)) out.push_back(w);
    return true;
  });
  return out;
}

absl::Status LiveLists::ForEachListing(std::string_view list, const Subject* within,
                                       const std::function<bool(const Listing&)>& fn) const {
  if (Find(list) == nullptr)
    return absl::NotFoundError(absl::StrCat("no live list '", std::string(list), "'"));
  const std::string prefix = within != nullptr ? CoveredPrefix(list, *within) : ListPrefix(list);
  return store_->Scan(Table::kListings, prefix, [&](std::string_view, std::string_view value) {
    auto d = DecodeListing(value);
    if (!d.ok()) return true;
    if (within != nullptr && !within->Covers(d->subject)) return true;
    return fn(*d);
  });
}

absl::Status LiveLists::ForEachWhitelist(
    std::string_view list, const std::function<bool(const WhitelistEntry&)>& fn) const {
  if (Find(list) == nullptr)
    return absl::NotFoundError(absl::StrCat("no live list '", std::string(list), "'"));
  return store_->Scan(Table::kWhitelist, ListPrefix(list),
                      [&](std::string_view, std::string_view value) {
                        auto d = DecodeWhitelistEntry(value);
                        if (!d.ok()) return true;
                        return fn(*d);
                      });
}

LiveListStats LiveLists::stats(std::string_view list) const {
  const List* l = Find(list);
  return l == nullptr ? LiveListStats{} : l->stats;
}

}  // namespace meshbl::feed
