#include "meshbl/daemon/feed_service.h"

#include <malloc.h>

#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshbl/feed/codec.h"
#include "meshbl/feed/control.h"
#include "meshbl/feed/live_list.h"
#include "meshbl/feed/policy.h"
#include "meshbl/feed/report.h"
#include "meshbl/feed/rules.h"
#include "meshbl/feed/store.h"
#include "meshbl/feed/traps.h"
#include "meshbl/server/listen.h"
#include "meshbl/util/log.h"
#include "meshbl/util/thread_name.h"

namespace meshbl::daemon {

namespace {

constexpr auto kTick = std::chrono::milliseconds(5);

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

feed::Table TableOf(feed::StateTable t) {
  switch (t) {
    case feed::StateTable::kHits:
      return feed::Table::kHits;
    case feed::StateTable::kTraps:
      return feed::Table::kTraps;
    case feed::StateTable::kSources:
      return feed::Table::kSources;
  }
  return feed::Table::kMeta;
}

std::vector<feed::Write> WritesOf(std::vector<feed::StateRecord> records) {
  std::vector<feed::Write> w;
  w.reserve(records.size());
  for (feed::StateRecord& r : records) {
    w.push_back({TableOf(r.table), std::move(r.key), std::move(r.value)});
  }
  return w;
}

// "127.0.0.1:10040" / "[::1]:10040" → meshbld's "address/port".
std::string ListenSpec(const std::string& hostport) {
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close != std::string::npos && close + 1 < hostport.size() && hostport[close + 1] == ':') {
      return absl::StrCat(hostport.substr(1, close - 1), "/", hostport.substr(close + 2));
    }
    return hostport;
  }
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos) return hostport;
  return absl::StrCat(hostport.substr(0, colon), "/", hostport.substr(colon + 1));
}

}  // namespace

struct FeedService::State : public feed::ControlHandler {
  FeedOptions options;
  table::OverlaySetHolder* overlays = nullptr;
  std::unique_ptr<util::EventLoop> loop;
  std::thread thread;
  util::UniqueFd policy_fd, control_fd;
  std::unique_ptr<feed::Store> store;
  std::unique_ptr<feed::LiveLists> lists;
  std::map<std::string, std::unique_ptr<feed::RuleEngine>, std::less<>> rules;
  feed::TrapSet traps;
  std::unique_ptr<feed::PolicyService> policy;
  std::unique_ptr<feed::ControlService> control;
  bool started = false;
  std::uint64_t hits = 0, listed = 0, failed = 0;

  // Lists fed by trap hits.
  std::vector<std::string> TrapLists() const {
    if (options.config.traps && !options.config.traps->lists.empty()) {
      return options.config.traps->lists;
    }
    std::vector<std::string> out;
    for (const auto& l : options.config.lists) out.push_back(l.name);
    return out;
  }

  // One trap hit through every list it feeds: the rules decide, the
  // decision's state and listing are one transaction per list; `done`
  // once all are durable.
  void OnHit(const feed::TrapHit& hit, std::function<void(absl::Status)> done) {
    ++hits;
    const std::int64_t now = Now();
    const auto names = TrapLists();
    auto remaining = std::make_shared<std::size_t>(names.size());
    auto first_error = std::make_shared<absl::Status>();
    auto finish = [remaining, first_error, done](absl::Status st) {
      if (!st.ok() && first_error->ok()) *first_error = st;
      if (--*remaining == 0 && done) done(*first_error);
    };
    if (names.empty()) {
      if (done) done(absl::OkStatus());
      return;
    }
    for (const std::string& name : names) {
      auto it = rules.find(name);
      if (it == rules.end()) {
        finish(absl::OkStatus());
        continue;
      }
      feed::Decision d = it->second->OnHit(hit, now);
      std::vector<feed::Listing> listing;
      if (d.listing) {
        if (!lists->WhitelistCovering(name, d.listing->subject).empty()) {
          util::LogInfo(absl::StrCat("live list ", name, ": ", d.listing->subject.ToString(),
                                     " not listed: whitelisted"));
        } else {
          util::LogInfo(absl::StrCat("live list ", name, ": ", d.explanation));
          listing.push_back(*d.listing);
          ++listed;
        }
      }
      lists->Add(name, std::move(listing), WritesOf(std::move(d.writes)), finish);
    }
  }

  void Handle(const feed::Command& cmd, const feed::PeerCred& peer,
              std::function<void(feed::Reply)> done) override {
    auto reply = [done](absl::Status st) { done(feed::Reply::FromStatus(st)); };
    const std::int64_t now = Now();
    const bool needs_list = cmd.verb != feed::Verb::kStats && cmd.verb != feed::Verb::kHelp &&
                            cmd.verb != feed::Verb::kReport;
    if (needs_list && lists->SlotOf(cmd.list) < 0) {
      return done(feed::Reply::Error(absl::StrCat("no live list '", cmd.list, "'")));
    }
    feed::RuleEngine* engine = nullptr;
    if (auto it = rules.find(cmd.list); it != rules.end()) engine = it->second.get();
    switch (cmd.verb) {
      case feed::Verb::kAdd: {
        feed::Listing l;
        l.subject = cmd.subject;
        l.code = cmd.code.value_or(engine != nullptr ? engine->rules().code : 2);
        l.reason = !cmd.reason.empty() ? cmd.reason
                   : engine != nullptr ? engine->rules().reason
                                       : std::string();
        l.origin = feed::Origin::kOperator;
        l.origin_id = peer.OriginId();
        l.first_seen = l.last_seen = now;
        l.expires = cmd.expires ? *cmd.expires : cmd.ttl ? now + *cmd.ttl : 0;
        return lists->Add(cmd.list, {std::move(l)}, {}, reply);
      }
      case feed::Verb::kDel: {
        std::vector<feed::Write> w;
        if (engine != nullptr) w = WritesOf(engine->OnOperatorDelist(cmd.subject, now).writes);
        return lists->Delete(cmd.list, {cmd.subject}, std::move(w), reply);
      }
      case feed::Verb::kShow: {
        std::vector<std::string> explain;
        if (engine != nullptr) explain = engine->Explain(cmd.subject, now);
        return done(feed::Reply::Ok(
            feed::ShowLines(cmd.subject, lists->ListingsCovering(cmd.list, cmd.subject),
                            lists->WhitelistCovering(cmd.list, cmd.subject), explain)));
      }
      case feed::Verb::kList: {
        std::vector<std::string> lines;
        const feed::Subject* within = cmd.within ? &*cmd.within : nullptr;
        auto st = lists->ForEachListing(cmd.list, within, [&](const feed::Listing& l) {
          lines.push_back(feed::FormatListing(l));
          return true;
        });
        return done(st.ok() ? feed::Reply::Ok(std::move(lines)) : feed::Reply::FromStatus(st));
      }
      case feed::Verb::kWhitelistAdd: {
        feed::WhitelistEntry w;
        w.subject = cmd.subject;
        w.reason = cmd.reason;
        w.origin = feed::Origin::kOperator;
        w.origin_id = peer.OriginId();
        w.added = now;
        std::vector<feed::Write> writes;
        if (engine != nullptr) writes = WritesOf(engine->OnWhitelist(cmd.subject, now).writes);
        return lists->WhitelistAdd(cmd.list, std::move(w), std::move(writes), reply);
      }
      case feed::Verb::kWhitelistDel:
        if (engine != nullptr) engine->OnWhitelistRemoved(cmd.subject);
        return lists->WhitelistDelete(cmd.list, cmd.subject, reply);
      case feed::Verb::kWhitelistList: {
        std::vector<std::string> lines;
        auto st = lists->ForEachWhitelist(cmd.list, [&](const feed::WhitelistEntry& w) {
          lines.push_back(feed::FormatWhitelistEntry(w));
          return true;
        });
        return done(st.ok() ? feed::Reply::Ok(std::move(lines)) : feed::Reply::FromStatus(st));
      }
      case feed::Verb::kExpire:
        return lists->ExpireNow(now, reply);
      case feed::Verb::kLoad: {
        feed::LoadOptions lo;
        lo.now = now;
        lo.expires = cmd.expires ? *cmd.expires : cmd.ttl ? now + *cmd.ttl : 0;
        auto parsed = feed::ParseLiveListFile(cmd.file, lo);
        if (!parsed.ok()) return done(feed::Reply::FromStatus(parsed.status()));
        for (feed::Listing& l : *parsed) {
          l.origin = feed::Origin::kLoad;
          l.origin_id = cmd.file;
        }
        const std::size_t n = parsed->size();
        return lists->Add(cmd.list, *std::move(parsed), {}, [done, n](absl::Status st) {
          done(st.ok() ? feed::Reply::Ok({absl::StrCat(n, " listings loaded")})
                       : feed::Reply::FromStatus(st));
        });
      }
      case feed::Verb::kReport: {
        auto hit = feed::ParseReportLine(cmd.hit, now);
        if (!hit.ok()) return done(feed::Reply::FromStatus(hit.status()));
        return OnHit(*hit, reply);
      }
      case feed::Verb::kStats: {
        std::vector<std::string> lines;
        AppendStatsLines(&lines);
        return done(feed::Reply::Ok(std::move(lines)));
      }
      case feed::Verb::kHelp:
        return done(feed::Reply::Ok(feed::HelpLines()));
    }
    done(feed::Reply::Error("unknown command"));
  }

  void AppendStatsLines(std::vector<std::string>* out) const {
    for (const auto& spec : options.config.lists) {
      const feed::LiveListStats s = lists->stats(spec.name);
      out->push_back(absl::StrCat("live list ", spec.name, ": base=", s.base_entries,
                                  " delta=", s.delta_slots, " changes=", s.changes,
                                  " expired=", s.expired, " publishes=", s.publishes,
                                  " compactions=", s.compactions, " failed=", s.failed));
    }
    if (policy != nullptr) {
      const feed::PolicyStats p = policy->stats();
      out->push_back(absl::StrCat("trap listener: requests=", p.requests,
                                  " trap_hits=", p.trap_hits, " recorded=", p.recorded,
                                  " deferred=", p.deferred, " malformed=", p.malformed));
    }
    out->push_back(absl::StrCat("feed: hits=", hits, " listed=", listed));
    if (store != nullptr) {
      const feed::StoreStats st = store->stats();
      out->push_back(absl::StrCat("live store: txns=", st.txns, " commits=", st.commits,
                                  " failed=", st.failed_txns, " bytes=", st.used_bytes));
    }
  }

  void ScheduleTick() {
    loop->AddTimer(kTick, [this] {
      lists->Tick(Now());
      ScheduleTick();
    });
  }
};

FeedService::FeedService(FeedOptions options, table::OverlaySetHolder* overlays)
    : s_(std::make_unique<State>()) {
  s_->options = std::move(options);
  s_->overlays = overlays;
}

FeedService::~FeedService() { Stop(); }

int FeedService::SlotOf(std::string_view list) const {
  const auto& lists = s_->options.config.lists;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    if (lists[i].name == list) return static_cast<int>(i);
  }
  return -1;
}

absl::Status FeedService::Bind() {
  const feed::LiveConfig& c = s_->options.config;
  if (c.traps) {
    auto addrs = server::ResolveListenSpecs({ListenSpec(c.traps->listen)});
    if (!addrs.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trap listener ", c.traps->listen, ": ", addrs.status().message()));
    }
    if (addrs->size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("trap listener ", c.traps->listen, ": one address expected"));
    }
    auto fd = server::OpenTcpListener(addrs->front());
    if (!fd.ok()) {
      return absl::Status(fd.status().code(), absl::StrCat("trap listener ", c.traps->listen, ": ",
                                                           fd.status().message()));
    }
    s_->policy_fd = *std::move(fd);
  }
  if (!s_->options.control_socket.empty()) {
    auto fd = feed::OpenControlListener(s_->options.control_socket);
    if (!fd.ok()) return fd.status();
    s_->control_fd = *std::move(fd);
  }
  return absl::OkStatus();
}

absl::Status FeedService::Start() {
  State& s = *s_;
  // Live layers of a megabyte or more (bases, mid layers, their build
  // vectors) come and go with every compaction. glibc raises its mmap
  // threshold to the size of each large block freed (up to 32 MiB), after
  // which such blocks come from the heap and leave it fragmented (a 1M-entry
  // list held ~20 MB more than it used); a fixed threshold keeps them in
  // their own mappings, returned to the system when freed.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  auto loop = util::EventLoop::Create();
  if (!loop.ok()) return loop.status();
  s.loop = *std::move(loop);
  auto store = feed::Store::Open(s.options.store_path);
  if (!store.ok()) return store.status();
  s.store = *std::move(store);
  std::vector<feed::LiveListSpec> specs;
  for (const auto& l : s.options.config.lists) {
    specs.push_back({l.name, static_cast<std::uint32_t>(l.ttl)});
  }
  util::EventLoop* lp = s.loop.get();
  s.lists =
      std::make_unique<feed::LiveLists>(s.store.get(), s.overlays, std::move(specs),
                                        [lp](std::function<void()> f) { lp->Post(std::move(f)); });
  const std::int64_t now = Now();
  if (absl::Status st = s.lists->Load(now); !st.ok()) return st;
  // The rules' state from the store, one engine per list.
  std::vector<feed::StateRecord> state;
  for (const auto& tables : {std::pair{feed::Table::kHits, feed::StateTable::kHits},
                             std::pair{feed::Table::kTraps, feed::StateTable::kTraps},
                             std::pair{feed::Table::kSources, feed::StateTable::kSources}}) {
    const feed::StateTable st = tables.second;
    auto scanned = s.store->Scan(tables.first, "", [&](std::string_view k, std::string_view v) {
      state.push_back({st, std::string(k), std::string(v)});
      return true;
    });
    if (!scanned.ok()) return scanned;
  }
  for (const auto& l : s.options.config.lists) {
    auto engine = feed::RuleEngine::Create(l);
    if (!engine.ok()) return engine.status();
    if (absl::Status st = (*engine)->Restore(state); !st.ok()) {
      util::LogWarning(
          absl::StrCat("live list ", l.name, ": rule state not restored: ", st.message()));
    }
    std::vector<feed::Subject> white;
    (void)s.lists->ForEachWhitelist(l.name, [&](const feed::WhitelistEntry& w) {
      white.push_back(w.subject);
      return true;
    });
    (*engine)->SetOperatorWhitelist(white);
    s.rules.emplace(l.name, *std::move(engine));
    const feed::LiveListStats ls = s.lists->stats(l.name);
    util::LogInfo(absl::StrCat("live list ", l.name, ": ", ls.base_entries,
                               " entries from the store ", s.options.store_path));
  }
  if (s.options.config.traps) {
    const feed::TrapsConfig& t = *s.options.config.traps;
    if (absl::Status st = s.traps.Load(t.file); !st.ok()) return st;
    feed::PolicyConfig pc;
    pc.trap_action = t.action;
    if (absl::Status st = pc.Validate(); !st.ok()) return st;
    s.policy = std::make_unique<feed::PolicyService>(
        pc, &s.traps, [this](feed::TrapHit hit, std::function<void(bool)> done) {
          s_->OnHit(hit, [done](absl::Status st) { done(st.ok()); });
        });
    const auto id = s.loop->AddService(s.policy.get(), feed::PolicyService::PolicyFraming(),
                                       feed::PolicyService::PolicyLimits());
    if (absl::Status st = s.loop->AddListener(id, std::move(s.policy_fd)); !st.ok()) return st;
    util::LogInfo(absl::StrCat("trap listener on ", t.listen, " (", s.traps.size(),
                               " trap addresses from ", t.file, ")"));
  }
  if (s.control_fd.valid()) {
    s.control = std::make_unique<feed::ControlService>(&s);
    const auto id = s.loop->AddService(s.control.get(), feed::ControlService::Framing(),
                                       feed::ControlService::Limits());
    if (absl::Status st = s.loop->AddListener(id, std::move(s.control_fd)); !st.ok()) return st;
    util::LogInfo(absl::StrCat("control socket ", s.options.control_socket));
  }
  s.ScheduleTick();
  s.thread = std::thread([lp] {
    util::NameThisThread("meshbl-feed");
    lp->Run();
  });
  s.started = true;
  return absl::OkStatus();
}

void FeedService::Reload(ReloadCause) {
  if (!s_->started || !s_->options.config.traps) return;
  s_->loop->Post([this] {
    auto r = s_->traps.ReloadIfChanged();
    if (!r.ok()) {
      util::LogError(std::string(r.status().message()));
    } else if (*r) {
      util::LogInfo(absl::StrCat("trap addresses reloaded: ", s_->traps.size()));
    }
  });
}

void FeedService::Stop() {
  State& s = *s_;
  if (s.loop != nullptr) s.loop->Stop();
  if (s.thread.joinable()) s.thread.join();
  if (s.policy != nullptr) s.policy->Shutdown();
  s.lists.reset();  // before the store: it joins its compaction
  s.store.reset();  // joins the committer; every acknowledged change is durable
  s.started = false;
}

void FeedService::AppendStats(std::vector<std::string>* lines) const {
  if (s_->lists == nullptr) return;
  if (!s_->started) {  // the feed thread is gone: read directly
    s_->AppendStatsLines(lines);
    return;
  }
  // The counters belong to the feed thread: read them there (bounded wait).
  struct Result {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::vector<std::string> lines;
  };
  auto r = std::make_shared<Result>();
  const State* s = s_.get();
  s_->loop->Post([s, r] {
    std::vector<std::string> got;
    s->AppendStatsLines(&got);
    std::lock_guard<std::mutex> lock(r->mu);
    r->lines = std::move(got);
    r->done = true;
    r->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(r->mu);
  if (!r->cv.wait_for(lock, std::chrono::seconds(2), [&] { return r->done; })) {
    lines->push_back("feed: statistics unavailable (the feed thread did not answer in 2 s)");
    return;
  }
  for (std::string& l : r->lines) lines->push_back(std::move(l));
}

}  // namespace meshbl::daemon
