// `meshbl bench`: the load generator, the reflector and the start-up clock
// (include/meshbl/bench/). Option parsing and output only.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "meshbl/bench/load.h"
#include "meshbl/bench/query_set.h"
#include "meshbl/bench/reflector.h"
#include "meshbl/bench/report.h"
#include "meshbl/bench/startup.h"
#include "meshbl/dns/name.h"
#include "meshbl/zone/loader.h"
#include "tools/meshbl/commands.h"

namespace meshbl::tools {
namespace {

constexpr char kBenchUsage[] = R"(usage: meshbl bench [options] TARGET
       meshbl bench --reflect ADDR:PORT [--cpu N] [--seconds S]
       meshbl bench --startup [query options] TARGET -- COMMAND [ARG...]

Sends DNS queries to the server at TARGET, checks every reply and reports
throughput, latency percentiles, losses and which side saturated. TARGET is
ADDR:PORT, [ADDR6]:PORT or rbldnsd's ADDR/PORT; the port defaults to 53.

Load:
  --tcp               TCP, queries pipelined over --connections (default UDP)
  --connections N     TCP connections (default 8)
  --window N          closed loop: keep N queries outstanding (default 64,
                      what a 64 KiB server receive buffer holds)
  --rate QPS          open loop: send QPS queries per second, whatever the
                      replies (to measure latency below saturation)
  --seconds S         measured duration (default 10)
  --count N           send exactly N measured queries instead
  --warmup S          sent first and not counted (default 1)
  --timeout S         a query without a reply after S seconds is lost
                      (default 1); a reply after that is counted as late
  --batch N           UDP: queries per send call and replies per receive
                      call (default 64)
  --gso               UDP: send runs of equal-size queries as UDP GSO
                      segment trains (fewer send calls; on loopback it moves
                      checksum work onto the server, so it is off by default)
  --cpu N             pin the generator to CPU N

Queries (sent round robin from a fixed set):
  --queries FILE      dnsperf format: `name type' per line
  --data SOURCE       a source as meshbld takes it (zone:type:file[,file...],
                      zone:snapshot:F.mbs[,...] or F.mbs), loaded by
                      meshbld's loader, repeatable: generate queries from its
                      listed entries, and expect for every query the RCODE
                      this data gives (also with --queries)
  --pool N            generated queries in the set (default 100000)
  --hit-ratio R       share of generated queries drawn from listed entries
                      (default 0.5); the rest are random names
  --mix ip4=W,ip6=W,name=W
                      weights of IPv4, IPv6 and dnset queries (default:
                      equal over the kinds the data has)
  --qtypes A=W,TXT=W,...
                      weights of query types (default A=1,TXT=1)
  --seed N            random seed (default 1): same seed, same queries
  --expect-rcode R    accept only RCODE R (NOERROR, NXDOMAIN, REFUSED, ...,
                      or any) in every reply; default: from --data, else
                      NOERROR or NXDOMAIN
  --write-queries F   write the query set in dnsperf format to F and exit

Output:
  --json              one JSON object on stdout instead of the table
  --progress          a line a second on stderr (default when it is a
  --no-progress       terminal)
  --strict            exit 3 when any reply was invalid or unexpected

Reflector and start-up:
  --reflect ADDR:PORT answer every query with a fixed valid reply (no lookup)
                      through recvmmsg/sendmmsg until SIGINT/SIGTERM or
                      --seconds: the ceiling every server is compared with
  --startup           run COMMAND (in the foreground: -n), query TARGET every
                      millisecond and report the time to the first reply and
                      the server's memory then; the server is then stopped
  --startup-timeout S give up after S seconds (default 60)

Every reply is matched by ID and validated (question echoed, RCODE as
expected); sent = replies + lost always holds. Exit status: 0 the run
completed (losses are reported, not failures), 1 it could not run, 2 usage,
3 --strict and some reply was wrong.
)";

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

struct BenchOptions {
  std::string target;
  bench::LoadOptions load;
  std::string queries_file;
  std::vector<std::string> data;
  bench::GenerateOptions gen;
  bool expect_set = false;
  std::uint8_t expect = 0;
  std::string write_queries;
  bool json = false;
  int progress = -1;  // -1: when stderr is a terminal
  bool strict = false;
  int cpu = -1;
  std::string reflect;
  bool startup = false;
  double startup_timeout = 60;
  std::vector<std::string> command;
  bool seconds_given = false;
};

bool ParseWeights(const std::string& text, bool qtypes, BenchOptions* o) {
  if (qtypes) o->gen.qtypes.clear();
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    double w = 1;
    if (kv.size() == 2 && !absl::SimpleAtod(kv[1], &w)) return false;
    if (w < 0) return false;
    if (qtypes) {
      std::uint16_t t = 0;
      if (!bench::ParseQtype(kv[0], &t)) return false;
      o->gen.qtypes.emplace_back(t, w);
    } else if (kv[0] == "ip4") {
      o->gen.ip4 = w;
    } else if (kv[0] == "ip6") {
      o->gen.ip6 = w;
    } else if (kv[0] == "name") {
      o->gen.name = w;
    } else {
      return false;
    }
  }
  if (!qtypes) {  // kinds not named get weight 0
    if (o->gen.ip4 < 0) o->gen.ip4 = 0;
    if (o->gen.ip6 < 0) o->gen.ip6 = 0;
    if (o->gen.name < 0) o->gen.name = 0;
  }
  return true;
}

int Usage(const char* problem, const std::string& arg = "") {
  std::fprintf(stderr, "meshbl bench: %s%s\n", problem, arg.c_str());
  std::fprintf(stderr, "usage: meshbl bench [options] TARGET   (meshbl bench --help)\n");
  return 2;
}

// Returns -1 on success, else the exit code.
int Parse(const std::vector<std::string>& args, BenchOptions* o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    auto number = [&](double* out, double lo, double hi) {
      return value(&v) && absl::SimpleAtod(v, out) && *out >= lo && *out <= hi;
    };
    auto integer = [&](std::uint64_t* out, std::uint64_t lo, std::uint64_t hi) {
      return value(&v) && absl::SimpleAtoi(v, out) && *out >= lo && *out <= hi;
    };
    double d = 0;
    std::uint64_t n = 0;
    if (a == "--") {
      o->command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kBenchUsage, stdout);
      return 0;
    } else if (a == "--tcp") {
      o->load.transport = bench::Transport::kTcp;
    } else if (a == "--connections") {
      if (!integer(&n, 1, 1024)) return Usage("--connections needs 1..1024");
      o->load.connections = static_cast<int>(n);
    } else if (a == "--window") {
      if (!integer(&n, 1, 60000)) return Usage("--window needs 1..60000");
      o->load.window = static_cast<std::uint32_t>(n);
    } else if (a == "--rate") {
      if (!number(&d, 1, 1e8)) return Usage("--rate needs 1..1e8 queries per second");
      o->load.rate = d;
    } else if (a == "--seconds") {
      if (!number(&d, 0.001, 86400)) return Usage("--seconds needs (0, 86400]");
      o->load.seconds = d;
      o->seconds_given = true;
    } else if (a == "--count") {
      if (!integer(&n, 1, 1'000'000'000'000)) return Usage("--count needs a positive number");
      o->load.count = n;
    } else if (a == "--warmup") {
      if (!number(&d, 0, 3600)) return Usage("--warmup needs [0, 3600] seconds");
      o->load.warmup = d;
    } else if (a == "--timeout") {
      if (!number(&d, 0.001, 60)) return Usage("--timeout needs (0, 60] seconds");
      o->load.timeout = d;
    } else if (a == "--batch") {
      if (!integer(&n, 1, 1024)) return Usage("--batch needs 1..1024");
      o->load.batch = static_cast<int>(n);
    } else if (a == "--gso") {
      o->load.gso = true;
    } else if (a == "--cpu") {
      if (!integer(&n, 0, 4095)) return Usage("--cpu needs a CPU number");
      o->cpu = static_cast<int>(n);
    } else if (a == "--queries") {
      if (!value(&o->queries_file)) return Usage("--queries needs a file");
    } else if (a == "--data") {
      if (!value(&v)) return Usage("--data needs a zone spec or snapshot");
      o->data.push_back(v);
    } else if (a == "--pool") {
      if (!integer(&n, 1, bench::QuerySet::kMaxQueries)) return Usage("--pool needs 1..10000000");
      o->gen.count = n;
    } else if (a == "--hit-ratio") {
      if (!number(&d, 0, 1)) return Usage("--hit-ratio needs [0, 1]");
      o->gen.hit_ratio = d;
    } else if (a == "--mix") {
      if (!value(&v) || !ParseWeights(v, false, o)) return Usage("bad --mix ", v);
    } else if (a == "--qtypes") {
      if (!value(&v) || !ParseWeights(v, true, o)) return Usage("bad --qtypes ", v);
    } else if (a == "--seed") {
      if (!integer(&n, 0, ~std::uint64_t{0})) return Usage("--seed needs a number");
      o->gen.seed = n;
    } else if (a == "--expect-rcode") {
      if (!value(&v) || !bench::ParseExpectRcode(v, &o->expect)) {
        return Usage("bad --expect-rcode ", v);
      }
      o->expect_set = true;
    } else if (a == "--write-queries") {
      if (!value(&o->write_queries)) return Usage("--write-queries needs a file");
    } else if (a == "--json") {
      o->json = true;
    } else if (a == "--progress") {
      o->progress = 1;
    } else if (a == "--no-progress") {
      o->progress = 0;
    } else if (a == "--strict") {
      o->strict = true;
    } else if (a == "--reflect") {
      if (!value(&o->reflect)) return Usage("--reflect needs ADDR:PORT");
    } else if (a == "--startup") {
      o->startup = true;
    } else if (a == "--startup-timeout") {
      if (!number(&d, 0.01, 3600)) return Usage("--startup-timeout needs (0, 3600] seconds");
      o->startup_timeout = d;
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option ", a);
    } else if (o->target.empty()) {
      o->target = a;
    } else {
      return Usage("more than one TARGET: ", a);
    }
  }
  return -1;
}

void Pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    std::fprintf(stderr, "meshbl bench: cannot pin to CPU %d: %s\n", cpu, std::strerror(errno));
  }
}

int Reflect(const BenchOptions& o) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!bench::ParseHostPort(o.reflect, &addr, &len))
    return Usage("bad --reflect address ", o.reflect);
  auto r = bench::Reflector::Bind(addr, len);
  if (!r.ok()) {
    std::fprintf(stderr, "meshbl bench: %s: %s\n", o.reflect.c_str(),
                 std::string(r.status().message()).c_str());
    return 1;
  }
  Pin(o.cpu);
  std::fprintf(stderr, "meshbl bench: reflecting on %s (port %u)\n", o.reflect.c_str(),
               (*r)->port());
  std::thread timer;
  if (o.seconds_given) {
    timer = std::thread([s = o.load.seconds] {
      for (double t = 0; t < s && !g_stop.load(); t += 0.01) usleep(10000);
      g_stop.store(true);
    });
  }
  (*r)->Serve(g_stop);
  if (timer.joinable()) timer.join();
  std::fprintf(stderr, "meshbl bench: reflector received %llu, answered %llu, dropped %llu\n",
               static_cast<unsigned long long>((*r)->received()),
               static_cast<unsigned long long>((*r)->answered()),
               static_cast<unsigned long long>((*r)->dropped()));
  return 0;
}

absl::StatusOr<bench::QuerySet> BuildQueries(const BenchOptions& o, std::string* what) {
  std::shared_ptr<const table::ZoneSet> zones;
  if (!o.data.empty()) {
    std::vector<zone::Diagnostic> warnings;
    auto zs = zone::LoadZoneSet(o.data, zone::LoadOptions(), &warnings);
    if (!warnings.empty()) {
      std::fprintf(stderr, "meshbl bench: %zu warnings loading --data (first: %s)\n",
                   warnings.size(), warnings[0].ToString().c_str());
    }
    if (!zs.ok()) return zs.status();
    zones = *zs;
  }
  bench::QuerySet set;
  if (!o.queries_file.empty()) {
    auto qs = bench::ReadQueryFile(o.queries_file);
    if (!qs.ok()) return qs.status();
    set = std::move(*qs);
    if (zones) bench::ExpectFromData(*zones, &set);
    *what = o.queries_file;
  } else if (zones) {
    auto qs = bench::GenerateQueries(*zones, o.gen);
    if (!qs.ok()) return qs.status();
    set = std::move(*qs);
    *what = absl::StrFormat("generated from %s (seed %u)", absl::StrJoin(o.data, " "), o.gen.seed);
  } else {
    return absl::InvalidArgumentError("give --queries FILE or --data SOURCE");
  }
  if (o.expect_set) bench::ExpectRcode(o.expect, &set);
  if (o.load.transport == bench::Transport::kUdp && o.load.gso) {
    set.GroupBySize(16, o.gen.seed);
  }
  absl::StrAppendFormat(
      what, ": %u queries, %.1f%% listed", set.size(),
      100.0 * static_cast<double>(set.listed_count()) / static_cast<double>(set.size()));
  return set;
}

int WriteQueries(const bench::QuerySet& set, const std::string& path) {
  std::ofstream out(path);
  for (std::size_t i = 0; i < set.size() && out; ++i) {
    auto pkt = set.packet(i);
    auto name = pkt.subspan(12, pkt.size() - 12 - 5);
    out << dns::NameToText(name) << ' ' << bench::QtypeName(set.info(i).qtype) << '\n';
  }
  if (!out) {
    std::fprintf(stderr, "meshbl bench: cannot write %s\n", path.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int Bench(const std::vector<std::string>& args) {
  BenchOptions o;
  if (int rc = Parse(args, &o); rc >= 0) return rc;
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (!o.reflect.empty()) return Reflect(o);
  if (o.target.empty() && o.write_queries.empty()) return Usage("no TARGET given");
  if (!o.target.empty() && !bench::ParseHostPort(o.target, &o.load.target, &o.load.target_len)) {
    return Usage("bad TARGET ", o.target);
  }
  if (o.startup && o.command.empty()) return Usage("--startup needs -- COMMAND...");
  std::string what;
  bench::QuerySet set;
  if (o.startup && o.data.empty() && o.queries_file.empty()) {
    std::uint8_t labels[dns::kMaxLabels];
    const int n = dns::ParseName("meshbl-startup-probe.invalid", labels);
    set.Add({labels, static_cast<std::size_t>(n)}, 1);
  } else {
    auto qs = BuildQueries(o, &what);
    if (!qs.ok()) {
      std::fprintf(stderr, "meshbl bench: %s\n", std::string(qs.status().message()).c_str());
      return 1;
    }
    set = std::move(*qs);
  }
  if (!o.write_queries.empty()) return WriteQueries(set, o.write_queries);
  Pin(o.cpu);

  if (o.startup) {
    auto r = bench::MeasureStartup(o.load.target, o.load.target_len, set.packet(0), o.command,
                                   o.startup_timeout);
    if (!r.ok()) {
      std::fprintf(stderr, "meshbl bench: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    if (o.json) {
      std::printf("{\"startup_s\": %.6f, \"rss_kb\": %llu, \"hwm_kb\": %llu, \"probes\": %llu}\n",
                  r->seconds, static_cast<unsigned long long>(r->rss_kb),
                  static_cast<unsigned long long>(r->hwm_kb),
                  static_cast<unsigned long long>(r->probes));
    } else {
      std::printf("first answer after %.4f s (%llu probes); RSS then %llu KiB, peak %llu KiB\n",
                  r->seconds, static_cast<unsigned long long>(r->probes),
                  static_cast<unsigned long long>(r->rss_kb),
                  static_cast<unsigned long long>(r->hwm_kb));
    }
    return 0;
  }

  const bool progress = o.progress == 1 || (o.progress == -1 && isatty(2));
  std::uint64_t last_replies = 0;
  if (progress) {
    o.load.progress = [&](const bench::LoadReport& r, double elapsed) {
      std::fprintf(stderr, "%s\n",
                   bench::FormatProgress(r, elapsed, r.replies - last_replies).c_str());
      last_replies = r.replies;
    };
  }
  o.load.stop = &g_stop;
  auto report = bench::RunLoad(set, o.load);
  if (!report.ok()) {
    std::fprintf(stderr, "meshbl bench: %s: %s\n", o.target.c_str(),
                 std::string(report.status().message()).c_str());
    return 1;
  }
  bench::RunDescription d;
  d.target = o.target;
  d.queries = what;
  d.query_count = set.size();
  d.listed = set.listed_count();
  d.warmup = o.load.warmup;
  d.timeout = o.load.timeout;
  d.connections = o.load.transport == bench::Transport::kTcp ? o.load.connections : 0;
  const std::string out = o.json ? bench::FormatJson(*report, d) : bench::FormatText(*report, d);
  std::fputs(out.c_str(), stdout);
  if (o.strict && (report->invalid() > 0 || report->unexpected > 0)) return 3;
  return 0;
}

}  // namespace meshbl::tools
