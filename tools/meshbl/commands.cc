#include "tools/meshbl/commands.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "meshbl/daemon/options.h"
#include "meshbl/dns/address.h"
#include "meshbl/dns/name.h"
#include "meshbl/dns/types.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/dump.h"
#include "meshbl/table/query.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/util/mapped_file.h"
#include "meshbl/util/status_macros.h"
#include "meshbl/zone/loader.h"
#include "meshbl/zone/source.h"
#include "meshbl/zone/zone_loader.h"

namespace meshbl::tools {
namespace {

namespace f = table::format;

constexpr char kUsage[] = R"(usage: meshbl COMMAND [options] ...

Commands:
  compile -o OUT.mbs [options] ZONESPEC...
        Load rbldnsd zone specs (name:type:file[,file...]) and write them as one
        checksummed snapshot image (written to OUT.mbs.tmp, fsynced, renamed).
  check [options] SOURCE...
        Load the sources as meshbld does and report every warning and error
        as file:line: message (snapshots: every checksum validated). Exit 1
        on any problem.
  inspect [options] SOURCE...
        Print the header, sections, datasets (entries, bytes, bytes per entry),
        zones and source files of each snapshot after validating every
        checksum; text zone specs are compiled in memory first.
  lookup [options] SOURCE... NAME [TYPE]
        Print the answer meshbld would give for NAME (TYPE: A, TXT, NS, SOA,
        MX, AAAA, ANY or a number; default A), as zone files would print it.
  dump [options] SOURCE...
        Write every zone as one BIND master-format stream on stdout, as
        `meshbld -d` (and rbldnsd -d) do: blocks as `*.` wildcards, exclusions
        as `CNAME excluded`, wildcards repeated where inner entries would stop
        them (docs/meshbld.8.md, -d).
  bench [options] TARGET
        Load-test a DNS server: UDP or TCP, closed or open loop, every reply
        validated; throughput, latency percentiles, losses (--help for more).
        Also --reflect (the machine's ceiling) and --startup (time to the
        first answer).
  report [-s SOCKET] [FILE|-]...  |  report [-s SOCKET] hit CLIENT_IP TRAP [FIELD=VALUE]...
  report [-s SOCKET] --arf FILE|- [--arf FILE|-]...
        Read spamtrap hits as report lines (`hit CLIENT_IP TRAP [helo=H]
        [from=S] [id=KEY] [time=UNIX]`, '#' comments) or ARF (RFC 5965)
        abuse reports, and print each as a `hit` line with the trap address
        replaced by its SHA-256 (nothing is printed when any input is bad;
        errors name the line); with -s, send them to meshbld's control
        socket instead, each acknowledged once it is on disk.
  ctl [-s SOCKET] COMMAND [ARG...] | -
        Send a command to meshbld's control socket (live lists: add, del,
        show, list, whitelist, expire, load, stats; ctl --help for more).

A SOURCE is what meshbld takes, loaded by the same code:
  name:type:file[,file...]        an rbldnsd zone spec (text dataset)
  name:snapshot:F.mbs[,F.mbs...]  compiled snapshots (warns when one has no
                                  zone `name'; its own zones are served)
  F.mbs                           a compiled snapshot

Options (as rbldnsd's):
  -e              accept CIDR entries with host bits set (mask them)
  -C              refuse gzip-compressed data files
  -t DEF:MIN:MAX  default, minimum and maximum TTL (time units s m h d w)
  -a              lookup: no NS records in the AUTHORITY of positive answers
  --client IP     lookup: the client address the ACLs see (default 127.0.0.1)

Exit status: 0 success, 1 data errors, 2 usage errors.
)";

struct Options {
  zone::LoadOptions load;
  table::QueryOptions query;
  std::string output;
  table::ClientAddr client{4, 0x7f000001, 0, 0};
  std::vector<std::string> rest;
};

bool ParseClient(const std::string& s, table::ClientAddr* c) {
  const std::optional<dns::IpAddress> a = dns::IpAddress::Parse(s);
  if (!a) return false;
  *c = {static_cast<std::uint8_t>(a->family()), a->v4(), a->hi(), a->lo()};
  return true;
}

// Parses options; returns false (after printing why) on a usage error.
bool ParseOptions(const std::vector<std::string>& args, Options* o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "meshbl: option %s needs a value\n", a.c_str());
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "-e") {
      o->load.accept_host_bits = true;
    } else if (a == "-C") {
      o->load.allow_gzip = false;
    } else if (a == "-a") {
      o->query.lazy = true;
    } else if (a == "-A") {
      o->query.lazy = false;
    } else if (a == "-t") {
      const std::string* v = value();
      if (v == nullptr) return false;
      if (absl::Status st = daemon::ParseTtlSpec(*v, &o->load); !st.ok()) {
        std::fprintf(stderr, "meshbl: %s\n", std::string(st.message()).c_str());
        return false;
      }
    } else if (a == "-o") {
      const std::string* v = value();
      if (v == nullptr) return false;
      o->output = *v;
    } else if (a == "--client") {
      const std::string* v = value();
      if (v == nullptr) return false;
      if (!ParseClient(*v, &o->client)) {
        std::fprintf(stderr, "meshbl: invalid --client address '%s'\n", v->c_str());
        return false;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "meshbl: unknown option %s\n", a.c_str());
      return false;
    } else {
      o->rest.push_back(a);
    }
  }
  return true;
}

void PrintDiagnostics(const std::vector<zone::Diagnostic>& diags) {
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.ToString().c_str());
}

absl::StatusOr<std::vector<std::uint8_t>> BuildImage(const std::vector<std::string>& specs,
                                                     const zone::LoadOptions& load,
                                                     std::vector<zone::Diagnostic>* warnings) {
  return zone::BuildImage(specs, load, warnings, static_cast<std::int64_t>(std::time(nullptr)));
}

absl::StatusOr<std::shared_ptr<const table::ZoneSet>> LoadZoneSet(
    const std::vector<std::string>& sources, const zone::LoadOptions& load) {
  std::vector<zone::Diagnostic> warnings;
  auto zs = zone::LoadZoneSet(sources, load, &warnings);
  PrintDiagnostics(warnings);
  return zs;
}

std::string TypeName(std::uint16_t t) { return std::string(dns::TypeText(t).view()); }

bool ParseType(const std::string& s, std::uint16_t* t) {
  if (const std::optional<std::uint16_t> v = dns::TypeFromName(s)) {
    *t = *v;
    return true;
  }
  int v;
  if (absl::SimpleAtoi(s, &v) && v >= 0 && v <= 65535) {
    *t = static_cast<std::uint16_t>(v);
    return true;
  }
  return false;
}

// Reads a wire name (labels + root) at `p`; returns bytes consumed.
std::size_t WireName(std::span<const std::uint8_t> rd, std::size_t p, std::string* out) {
  std::size_t start = p;
  while (p < rd.size() && rd[p] != 0) p += 1u + rd[p];
  std::size_t end = p < rd.size() ? p : rd.size();
  *out = dns::NameToText(rd.subspan(start, end - start)) + ".";
  if (*out == ".") *out = ".";
  return end - start + 1;
}

std::uint32_t U32(std::span<const std::uint8_t> b, std::size_t p) {
  return (std::uint32_t{b[p]} << 24) | (std::uint32_t{b[p + 1]} << 16) |
         (std::uint32_t{b[p + 2]} << 8) | b[p + 3];
}

std::string RdataText(const table::Rr& rr, std::span<const std::uint8_t> rd) {
  switch (rr.type) {
    case table::kTypeA:
      if (rd.size() == 4) return absl::StrFormat("%d.%d.%d.%d", rd[0], rd[1], rd[2], rd[3]);
      break;
    case table::kTypeTxt: {
      std::string s = "\"";
      for (std::size_t i = 1; i < rd.size(); ++i) {
        char c = static_cast<char>(rd[i]);
        if (c == '"' || c == '\\') s.push_back('\\');
        if (rd[i] < 0x20 || rd[i] > 0x7e) {
          absl::StrAppendFormat(&s, "\\%03d", rd[i]);
        } else {
          s.push_back(c);
        }
      }
      return s + "\"";
    }
    case table::kTypeMx: {
      if (rd.size() < 3) break;
      std::string host;
      WireName(rd, 2, &host);
      return absl::StrFormat("%d %s", (rd[0] << 8) | rd[1], host);
    }
    case table::kTypeNs: {
      std::string host;
      WireName(rd, 0, &host);
      return host;
    }
    case table::kTypeSoa: {
      std::string origin, person;
      std::size_t p = WireName(rd, 0, &origin);
      p += WireName(rd, p, &person);
      if (rd.size() < p + 20) break;
      return absl::StrFormat("%s %s %u %u %u %u %u", origin, person, U32(rd, p), U32(rd, p + 4),
                             U32(rd, p + 8), U32(rd, p + 12), U32(rd, p + 16));
    }
    default:
      break;
  }
  std::string hex = "\\# " + std::to_string(rd.size()) + " ";
  for (auto b : rd) absl::StrAppendFormat(&hex, "%02x", b);
  return hex;
}

}  // namespace

void PrintUsage(bool full) {
  if (full) {
    std::fputs(kUsage, stdout);
  } else {
    std::fputs(
        "usage: meshbl compile|check|inspect|lookup|dump|bench|report ... (meshbl --help for "
        "details)\n",
        stderr);
  }
}

int Compile(const std::vector<std::string>& args) {
  Options o;
  if (!ParseOptions(args, &o)) return 2;
  if (o.output.empty() || o.rest.empty()) {
    std::fprintf(stderr, "usage: meshbl compile -o OUT.mbs ZONESPEC...\n");
    return 2;
  }
  std::vector<zone::Diagnostic> warnings;
  auto image = BuildImage(o.rest, o.load, &warnings);
  PrintDiagnostics(warnings);
  if (!image.ok()) {
    std::fprintf(stderr, "meshbl: %s\n", std::string(image.status().message()).c_str());
    return 1;
  }
  // Validate what we are about to publish with the same code that opens it.
  auto check = table::Snapshot::FromImage(std::move(*image), o.output);
  if (!check.ok()) {
    std::fprintf(stderr, "meshbl: internal error: %s\n",
                 std::string(check.status().message()).c_str());
    return 1;
  }
  if (auto st = util::WriteFileAtomically(o.output, (*check)->bytes()); !st.ok()) {
    std::fprintf(stderr, "meshbl: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("%s: %zu bytes, %zu datasets, %zu zones\n", o.output.c_str(),
              (*check)->bytes().size(), (*check)->datasets().size(), (*check)->zones().size());
  return 0;
}

int Check(const std::vector<std::string>& args) {
  Options o;
  if (!ParseOptions(args, &o)) return 2;
  if (o.rest.empty()) {
    std::fprintf(stderr, "usage: meshbl check SOURCE...\n");
    return 2;
  }
  auto sources = zone::ParseSourceSpecs(o.rest);
  if (!sources.ok()) {
    std::fprintf(stderr, "meshbl: %s\n", std::string(sources.status().message()).c_str());
    return 1;
  }
  // meshbld's loader: snapshots fully validated, every text warning listed.
  zone::ZoneLoader loader(*std::move(sources), o.load, /*log=*/false);
  auto zs = loader.Load();
  PrintDiagnostics(loader.warnings());
  for (const std::string& e : loader.errors()) std::fprintf(stderr, "%s\n", e.c_str());
  if (!zs.ok()) {
    std::fprintf(stderr, "%s\n", std::string(zs.status().message()).c_str());
    return 1;
  }
  const std::size_t problems = loader.warnings().size() + loader.failed_datasets();
  if (problems > 0) {
    std::fprintf(stderr, "meshbl check: %zu problems\n", problems);
    return 1;
  }
  std::printf("ok: %zu sources\n", o.rest.size());
  return 0;
}

namespace {

void InspectSnapshot(const table::Snapshot& s) {
  const auto& h = s.header();
  char when[64];
  std::time_t bt = static_cast<std::time_t>(h.build_time);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&bt));
  std::printf("snapshot %s\n  format version %u, %llu bytes, built %s\n", s.name().c_str(),
              h.version, static_cast<unsigned long long>(h.file_size), when);
  std::printf("  checksums: header, section table and %zu sections verified (XXH3-64)\n",
              s.sections().size());
  std::printf("  values: %zu distinct A+TXT values\n", s.values().size());
  std::printf("datasets:\n");
  for (std::uint32_t i = 0; i < s.datasets().size(); ++i) {
    const auto& d = s.datasets()[i];
    std::uint64_t bytes = s.DatasetBytes(i);
    double per =
        d.entry_count ? static_cast<double>(bytes) / static_cast<double>(d.entry_count) : 0;
    std::printf(
        "  [%u] %s%s  type=%s entries=%llu bytes=%llu (%.2f bytes/entry) ttl=%u\n", i,
        d.parent != f::kNone ? "  (nested) " : "", std::string(s.String(d.spec)).c_str(),
        std::string(table::DatasetTypeName(static_cast<table::DatasetType>(d.type))).c_str(),
        static_cast<unsigned long long>(d.entry_count), static_cast<unsigned long long>(bytes), per,
        d.ttl);
  }
  std::printf("zones:\n");
  for (const auto& z : s.zones()) {
    std::string name = dns::NameToText(s.Bytes(z.name));
    std::printf("  %s: %u datasets%s\n", name.empty() ? "." : name.c_str(), z.ds_count,
                z.acl != f::kNone ? " + acl" : "");
  }
  if (h.global_acl != f::kNone) std::printf("  global acl: dataset [%u]\n", h.global_acl);
  std::printf("sources:\n");
  for (const auto& src : s.sources()) {
    char mt[32];
    std::time_t t = static_cast<std::time_t>(src.mtime);
    std::strftime(mt, sizeof mt, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
    std::printf("  %s  size=%lld mtime=%s (dataset %u)\n", std::string(s.String(src.path)).c_str(),
                static_cast<long long>(src.size), mt, src.dataset);
  }
}

}  // namespace

// Every snapshot file of the sources, then the text sources compiled in
// memory into the image `meshbl compile` would write.
int Inspect(const std::vector<std::string>& args) {
  Options o;
  if (!ParseOptions(args, &o)) return 2;
  if (o.rest.empty()) {
    std::fprintf(stderr, "usage: meshbl inspect SOURCE...\n");
    return 2;
  }
  auto sources = zone::ParseSourceSpecs(o.rest);
  if (!sources.ok()) {
    std::fprintf(stderr, "meshbl: %s\n", std::string(sources.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> text;
  for (const zone::SourceSpec& src : *sources) {
    if (src.is_text()) {
      text.push_back(src.arg);
      continue;
    }
    if (src.is_live) {
      std::fprintf(stderr, "meshbl: `%s' is a live list: meshbld serves it (meshbl ctl)\n",
                   src.arg.c_str());
      return 1;
    }
    for (const std::string& file : src.snapshot_files) {
      auto opened = table::Snapshot::Open(file);
      if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", std::string(opened.status().message()).c_str());
        return 1;
      }
      InspectSnapshot(**opened);
    }
  }
  if (!text.empty()) {
    std::vector<zone::Diagnostic> warnings;
    auto image = BuildImage(text, o.load, &warnings);
    PrintDiagnostics(warnings);
    if (!image.ok()) {
      std::fprintf(stderr, "meshbl: %s\n", std::string(image.status().message()).c_str());
      return 1;
    }
    auto built = table::Snapshot::FromImage(std::move(*image), "<text sources>");
    if (!built.ok()) {
      std::fprintf(stderr, "meshbl: %s\n", std::string(built.status().message()).c_str());
      return 1;
    }
    InspectSnapshot(**built);
  }
  return 0;
}

int Lookup(const std::vector<std::string>& args) {
  Options o;
  if (!ParseOptions(args, &o)) return 2;
  // Trailing arguments: NAME [TYPE]; everything before is data.
  std::uint16_t qtype = table::kTypeA;
  std::vector<std::string> rest = o.rest;
  if (rest.size() >= 3 && ParseType(rest.back(), &qtype)) rest.pop_back();
  if (rest.size() < 2) {
    std::fprintf(stderr, "usage: meshbl lookup SOURCE... NAME [TYPE]\n");
    return 2;
  }
  std::string name = rest.back();
  rest.pop_back();
  std::string labels;
  if (!dns::ParseName(name, &labels)) {
    std::fprintf(stderr, "meshbl: invalid name '%s'\n", name.c_str());
    return 2;
  }
  auto zs = LoadZoneSet(rest, o.load);
  if (!zs.ok()) {
    std::fprintf(stderr, "meshbl: %s\n", std::string(zs.status().message()).c_str());
    return 1;
  }
  auto answer = std::make_unique<table::Answer>();
  table::Query q;
  q.qname = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(labels.data()),
                                          labels.size());
  q.qtype = qtype;
  q.client = o.client;
  q.now = static_cast<std::int64_t>(std::time(nullptr));
  table::Resolve(**zs, o.query, q, answer.get());
  std::string owner = dns::NameToText(q.qname) + ".";
  if (answer->drop) {
    std::printf(";; dropped (acl ignore)\n");
    return 0;
  }
  std::printf(";; %s %s %s%s\n", owner.c_str(), TypeName(qtype).c_str(),
              std::string(dns::RcodeText(answer->rcode).view()).c_str(), answer->aa ? " aa" : "");
  auto print = [&](const char* section, const table::Rr* rrs, int n, const std::string& who) {
    if (n == 0) return;
    std::printf(";; %s\n", section);
    for (int i = 0; i < n; ++i) {
      std::printf("%s\t%u\tIN\t%s\t%s\n", who.c_str(), rrs[i].ttl, TypeName(rrs[i].type).c_str(),
                  RdataText(rrs[i], answer->rdata(rrs[i])).c_str());
    }
  };
  print("ANSWER", answer->answer, answer->answer_count, owner);
  std::string zone_owner =
      answer->zone != nullptr ? dns::NameToText(answer->zone->name) + "." : std::string(".");
  print("AUTHORITY", answer->authority, answer->authority_count, zone_owner);
  return 0;
}

int Dump(const std::vector<std::string>& args) {
  Options o;
  if (!ParseOptions(args, &o)) return 2;
  if (o.rest.empty()) {
    std::fprintf(stderr, "usage: meshbl dump SOURCE...\n");
    return 2;
  }
  auto zs = LoadZoneSet(o.rest, o.load);
  if (!zs.ok()) {
    std::fprintf(stderr, "meshbl: %s\n", std::string(zs.status().message()).c_str());
    return 1;
  }
  table::DumpOptions dump;
  dump.now = static_cast<std::int64_t>(std::time(nullptr));
  dump.producer = "dumped by meshbl dump";
  bool written = true;
  table::DumpZones(**zs, dump, [&](std::string_view text) {
    written = written && std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  });
  if (std::fflush(stdout) != 0 || !written) {
    std::fprintf(stderr, "meshbl: writing the dump failed\n");
    return 1;
  }
  return 0;
}

}  // namespace meshbl::tools
