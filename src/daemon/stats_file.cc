// rbldnsd-style statistics: the -s file and the counter log lines.
#include "meshbl/daemon/stats_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace meshbl::daemon {
namespace {

std::uint64_t Sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

Counters CountersFrom(const server::ResponderStats& s) {
  Counters c;
  c.tot = s.queries;
  c.ok = s.noerror;
  c.nxd = s.nxdomain;
  c.err = Sub(s.queries, s.noerror + s.nxdomain);
  c.in = s.bytes_in;
  c.out = s.bytes_out;
  return c;
}

Counters CountersFrom(const server::ZoneStats& z) {
  Counters c;
  c.tot = z.tot;
  c.ok = z.ok;
  c.nxd = z.nxd;
  c.err = Sub(z.tot, z.ok + z.nxd);
  c.in = z.in;
  c.out = z.out;
  return c;
}

Counters Subtract(const Counters& a, const Counters& b) {
  return Counters{Sub(a.tot, b.tot), Sub(a.ok, b.ok), Sub(a.nxd, b.nxd),
                  Sub(a.err, b.err), Sub(a.in, b.in), Sub(a.out, b.out)};
}

StatsTracker::StatsTracker(std::string path, bool relative, std::int64_t now)
    : path_(std::move(path)), relative_(relative), since_(now) {}

absl::Status StatsTracker::Append(const std::string& line) {
  if (path_.empty()) return absl::OkStatus();
  std::FILE* f = std::fopen(path_.c_str(), "a");
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  std::fwrite(line.data(), 1, line.size(), f);
  if (std::fclose(f) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status StatsTracker::WriteTimestamp(std::int64_t now) {
  return Append(absl::StrCat(now, "\n"));
}

absl::Status StatsTracker::WriteCounters(std::int64_t now, const Counters& total,
                                         const std::vector<ZoneCounters>& zones) {
  auto field = [](std::string_view name, const Counters& c) {
    return absl::StrCat(" ", std::string(name), ":", c.tot, ":", c.ok, ":", c.nxd, ":", c.in, ":",
                        c.out);
  };
  std::string line = absl::StrCat(now);
  zone_base_.resize(std::max(zone_base_.size(), zones.size()));
  zone_last_.resize(std::max(zone_last_.size(), zones.size()));
  for (std::size_t i = 0; i < zones.size(); ++i) {
    line += field(zones[i].name, Subtract(zones[i].c, relative_ ? zone_last_[i] : zone_base_[i]));
    zone_last_[i] = zones[i].c;
  }
  line += field("*", Subtract(total, relative_ ? last_written_ : base_));
  last_written_ = total;
  return Append(line + "\n");
}

std::vector<std::string> StatsTracker::LogLines(std::int64_t now, const Counters& total,
                                                const std::vector<ZoneCounters>& zones) const {
  auto counts = [](const Counters& c) {
    return absl::StrCat("tot=", c.tot, " ok=", c.ok, " nxd=", c.nxd, " err=", c.err, " in=", c.in,
                        " out=", c.out);
  };
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const Counters base = i < zone_base_.size() ? zone_base_[i] : Counters{};
    lines.push_back(absl::StrCat("stats for ", now - since_, "secs zone ", zones[i].name, ": ",
                                 counts(Subtract(zones[i].c, base))));
  }
  lines.push_back(
      absl::StrCat("stats for ", now - since_, "sec: ", counts(Subtract(total, base_))));
  return lines;
}

void StatsTracker::Reset(std::int64_t now, const Counters& total,
                         const std::vector<ZoneCounters>& zones) {
  base_ = total;
  last_written_ = total;
  zone_base_.assign(zones.size(), Counters{});
  for (std::size_t i = 0; i < zones.size(); ++i) zone_base_[i] = zones[i].c;
  zone_last_ = zone_base_;
  since_ = now;
}

}  // namespace meshbl::daemon
