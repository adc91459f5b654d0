// The loader every command-line source goes through (meshbld and every
// `meshbl` command): include/meshbl/zone/zone_loader.h.
#include "meshbl/zone/zone_loader.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/types.h"
#include "meshbl/util/log.h"
#include "meshbl/util/status_macros.h"

namespace meshbl::zone {
using util::LogError;
using util::LogInfo;
using util::LogWarning;

namespace {

constexpr std::size_t kMaxWarningsPerDataset = 5;

std::string StampText(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d %H%M%S", &tm);
  return buf;
}

double ThreadCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
}

enum class Level { kInfo, kWarning, kError };

// A dataset as rbldnsd names it at the start of its log lines: "type:files",
// the files cut at 60 characters ("%s:%.60s").
std::string DatasetName(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return std::string(spec);
  return absl::StrCat(std::string(spec.substr(0, colon + 1)),
                      std::string(spec.substr(colon + 1, 60)));
}

}  // namespace

ZoneLoader::ZoneLoader(std::vector<SourceSpec> sources, LoadOptions options, bool log)
    : sources_(std::move(sources)), options_(options), log_(log) {}

ZoneLoader::Stamp ZoneLoader::StatFile(const std::string& path) {
  Stamp st;
  st.path = path;
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

std::vector<ZoneLoader::Stamp> ZoneLoader::StatAll() const {
  std::vector<Stamp> stamps;
  for (const SourceSpec& s : sources_) {
    if (s.is_live) continue;  // no files: the feed publishes it
    for (const std::string& f : s.is_snapshot ? s.snapshot_files : s.text.files) {
      stamps.push_back(StatFile(f));
    }
  }
  return stamps;
}

bool ZoneLoader::FilesChanged() const { return !loaded_once_ || StatAll() != attempted_; }

bool ZoneLoader::Changed() const { return !failed_.empty() || FilesChanged(); }

absl::StatusOr<std::shared_ptr<const table::ZoneSet>> ZoneLoader::Load(
    const std::atomic<bool>* cancel, table::ZoneSetHolder* publish_to) {
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  const bool first = !loaded_once_;
  attempted_ = StatAll();
  loaded_once_ = true;
  failed_now_ = 0;
  warnings_.clear();
  errors_.clear();

  LoadOptions options = options_;
  if (options.now == 0) options.now = static_cast<std::int64_t>(std::time(nullptr));

  // Text datasets: one snapshot per dataset (zone specs with the same
  // "type:files" share it), rebuilt only when one of its files changed
  // since it was built; an unchanged dataset keeps its snapshot, so a
  // reload holds two copies of the changed datasets only.
  std::vector<ZoneSpec> all_text;
  for (const SourceSpec& s : sources_) {
    if (s.is_text()) all_text.push_back(s.text);
  }
  MESHBL_RETURN_IF_ERROR(CheckZoneSpecs(all_text));
  absl::flat_hash_map<std::string, CachedDataset> next;
  absl::flat_hash_map<std::string, Failure> next_failed;
  // Something to publish and log: a dataset built, or one that failed in a
  // new way (new files or a new error). Not when the only work was trying
  // failed datasets again, with the same result.
  bool news = first;
  std::vector<std::shared_ptr<const table::Snapshot>> snaps;
  std::vector<std::size_t> snap_source;  // the source each snapshot came from
  // What to log, in command-line order, as rbldnsd logs while it loads: a
  // dataset's warnings (at most five, then "type:files: N more warnings
  // suppressed"), then its line or its error.
  std::vector<std::pair<Level, std::string>> lines;
  auto warn = [&](std::string_view key, const std::vector<Diagnostic>& w) {
    warnings_.insert(warnings_.end(), w.begin(), w.end());
    for (std::size_t k = 0; k < w.size() && k < kMaxWarningsPerDataset; ++k) {
      lines.emplace_back(Level::kWarning, w[k].ToString());
    }
    if (w.size() > kMaxWarningsPerDataset) {
      lines.emplace_back(Level::kWarning,
                         absl::StrCat(DatasetName(key), ": ", w.size() - kMaxWarningsPerDataset,
                                      " more warnings suppressed"));
    }
  };

  // One dataset (text "type:files" or "snapshot:path"): kept when its files
  // did not change since it was built; otherwise (and when it failed last
  // time) built by `build`. On failure the previous data, if any, stays.
  // Returns the data to serve, or nullptr when it has none.
  auto one = [&](const std::string& key, std::vector<Stamp> stamps,
                 auto build) -> std::shared_ptr<const table::Snapshot> {
    if (auto it = next.find(key); it != next.end()) return it->second.snap;
    if (next_failed.contains(key)) return nullptr;  // shared by several specs: tried once
    auto cached = cache_.find(key);
    const bool have_old = cached != cache_.end();
    if (have_old && cached->second.stamps == stamps) {
      next.emplace(key, cached->second);
      return cached->second.snap;
    }
    absl::StatusOr<std::shared_ptr<const table::Snapshot>> built = build();
    if (built.ok()) {
      news = true;
      next.emplace(key, CachedDataset{std::move(stamps), *built});
      return *std::move(built);
    }
    ++failed_now_;
    std::string error(built.status().message());
    const auto f = failed_.find(key);
    if (f == failed_.end() || f->second.stamps != stamps || f->second.error != error) {
      news = true;
      errors_.push_back(error);
      lines.emplace_back(Level::kError, error);
      if (have_old) {
        lines.emplace_back(
            Level::kError,
            absl::StrCat(DatasetName(key), ": reload failed, keeping the previous data"));
      }
    }
    next_failed.emplace(key, Failure{std::move(stamps), std::move(error)});
    if (!have_old) return nullptr;
    next.emplace(key, cached->second);
    return cached->second.snap;
  };

  std::vector<std::vector<std::uint8_t>> failed_zones;
  std::vector<table::LiveZone> live_zones;
  auto fail_zone = [&](std::span<const std::uint8_t> name) {
    if (name.empty()) return;
    std::vector<std::uint8_t> z(name.begin(), name.end());
    if (std::find(failed_zones.begin(), failed_zones.end(), z) == failed_zones.end()) {
      failed_zones.push_back(std::move(z));
    }
  };

  for (std::size_t i = 0; i < sources_.size(); ++i) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      return absl::CancelledError("reload abandoned");
    }
    const SourceSpec& s = sources_[i];
    if (s.is_live) {
      const int slot = live_slot_ ? live_slot_(s.live_list) : -1;
      if (slot < 0) {
        return absl::InvalidArgumentError(
            live_slot_ ? absl::StrCat("`", s.arg, "': no live list `", s.live_list,
                                      "' in the live-list configuration")
                       : absl::StrCat("`", s.arg,
                                      "': live lists are served by meshbld "
                                      "(--live-config)"));
      }
      table::LiveZone lz;
      lz.name.assign(s.live_zone_labels.begin(), s.live_zone_labels.end());
      lz.slot = static_cast<std::uint32_t>(slot);
      live_zones.push_back(std::move(lz));
      continue;
    }
    if (!s.is_snapshot) {
      const std::string& key = s.text.dataset_spec;
      std::vector<Stamp> stamps;
      for (const std::string& f : s.text.files) stamps.push_back(StatFile(f));
      const bool fresh = !next.contains(key);
      auto snap = one(
          key, std::move(stamps), [&]() -> absl::StatusOr<std::shared_ptr<const table::Snapshot>> {
            std::vector<ZoneSpec> specs;
            for (const SourceSpec& t : sources_) {
              if (t.is_text() && t.text.dataset_spec == key) {
                specs.push_back(t.text);
              }
            }
            table::SnapshotBuilder builder;
            std::vector<Diagnostic> w;
            const absl::Status loaded = LoadDatasets(specs, options, &builder, &w);
            warn(key, w);
            MESHBL_RETURN_IF_ERROR(loaded);
            MESHBL_ASSIGN_OR_RETURN(auto built,
                                    table::Snapshot::FromImage(builder.Build(options.now), key));
            // rbldnsd's per-dataset line: spec, newest file time (UTC), entries.
            for (std::uint32_t d = 0; d < built->datasets().size(); ++d) {
              const auto& rec = built->datasets()[d];
              if (rec.parent != table::format::kNone) continue;
              std::int64_t newest = 0;
              for (const auto& src : built->sources()) {
                if (src.dataset == d) newest = std::max(newest, src.mtime);
              }
              lines.emplace_back(
                  Level::kInfo, absl::StrCat(DatasetName(built->String(rec.spec)), ": ",
                                             StampText(newest), ": ", rec.entry_count, " entries"));
            }
            return std::shared_ptr<const table::Snapshot>(std::move(built));
          });
      if (snap == nullptr) {
        // rbldnsd: an ACL that never loaded leaves its zone without one.
        if (s.text.type != table::DatasetType::kAcl) {
          fail_zone(
              {reinterpret_cast<const std::uint8_t*>(s.text.zone.data()), s.text.zone.size()});
        }
        continue;
      }
      if (fresh) {
        snaps.push_back(std::move(snap));
        snap_source.push_back(i);
      }
      continue;
    }
    for (const std::string& path : s.snapshot_files) {
      const std::string& want = s.snapshot_zone_labels;
      const bool named = !want.empty();
      auto snap =
          one(absl::StrCat("snapshot:", path), {StatFile(path)},
              [&]() -> absl::StatusOr<std::shared_ptr<const table::Snapshot>> {
                MESHBL_ASSIGN_OR_RETURN(auto opened, table::Snapshot::Open(path));
                std::uint64_t entries = 0;
                for (const auto& d : opened->datasets()) entries += d.entry_count;
                lines.emplace_back(
                    Level::kInfo,
                    absl::StrCat("snapshot:", path, ": ", StampText(opened->header().build_time),
                                 ": ", opened->datasets().size(), " datasets, ",
                                 opened->zones().size(), " zones, ", entries, " entries"));
                return std::shared_ptr<const table::Snapshot>(std::move(opened));
              });
      if (snap == nullptr) {
        if (named) {
          fail_zone({reinterpret_cast<const std::uint8_t*>(want.data()), want.size()});
        }
        continue;
      }
      if (named) {
        bool found = false;
        for (const auto& z : snap->zones()) {
          if (snap->String(z.name) == want) found = true;
        }
        if (!found) {
          warnings_.push_back(Diagnostic{
              path, 0,
              absl::StrCat("has no zone `", s.snapshot_zone, "' (serving the snapshot's zones)")});
          lines.emplace_back(Level::kWarning, warnings_.back().ToString());
        }
      }
      snap_source.push_back(i);
      snaps.push_back(std::move(snap));
    }
  }
  // Each zone's datasets in command-line order, whichever snapshot holds them.
  auto rank = [&](std::size_t k, std::span<const std::uint8_t> zone, std::string_view spec) {
    if (sources_[snap_source[k]].is_snapshot) return snap_source[k];
    for (std::size_t j = 0; j < sources_.size(); ++j) {
      const SourceSpec& t = sources_[j];
      if (t.is_text() && t.text.dataset_spec == spec &&
          std::equal(zone.begin(), zone.end(), t.text.zone.begin(), t.text.zone.end())) {
        return j;
      }
    }
    return snap_source[k];
  };
  if (!news) {  // only failed datasets tried again, failing as before
    failed_ = std::move(next_failed);
    return std::shared_ptr<const table::ZoneSet>();
  }
  MESHBL_ASSIGN_OR_RETURN(auto zones,
                          table::ZoneSet::Create(std::move(snaps), rank, failed_zones, live_zones));
  cache_ = std::move(next);
  failed_ = std::move(next_failed);
  failed_zones_ = failed_zones.size();
  // Published before the log says so, so that a reader of the log who then
  // queries sees the new data.
  if (publish_to != nullptr) publish_to->Publish(zones);
  if (!log_) return zones;

  for (const auto& [level, l] : lines) {
    switch (level) {
      case Level::kInfo:
        LogInfo(l);
        break;
      case Level::kWarning:
        LogWarning(l);
        break;
      case Level::kError:
        LogError(l);
        break;
    }
  }
  for (const std::string& w : zones->warnings()) LogWarning(w);

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  LogInfo(absl::StrFormat("zones reloaded, time %.2fe/%.2fu sec", wall,
                          ThreadCpuSeconds() - cpu_start));
  expired_logged_.clear();  // rbldnsd reports an expired zone again after each reload
  LogNewlyExpired(*zones);
  return zones;
}

void ZoneLoader::LogNewlyExpired(const table::ZoneSet& zones) {
  if (!log_) return;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const table::ZoneNode& z : zones.zones()) {
    if (z.failed || z.expires == 0 || z.expires >= now) continue;
    std::string name = dns::NameToText(z.name);
    if (std::find(expired_logged_.begin(), expired_logged_.end(), name) != expired_logged_.end()) {
      continue;
    }
    LogWarning(absl::StrCat("zone ", name.substr(0, 70),
                            ": zone data expired, zone will not be serviced"));
    expired_logged_.push_back(std::move(name));
  }
}

}  // namespace meshbl::zone
