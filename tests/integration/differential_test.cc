// Differential test: meshbl's resolver against Debian's rbldnsd.
//
// One deterministic generator (zone_gen.h: std::mt19937, fixed seed) writes rbldnsd data
// files for every dataset type into a fresh temporary directory. ONE
// /usr/sbin/rbldnsd serves all of them on 127.0.0.1 (UDP), and ONE meshbl load
// of the same zone specs (ParseZoneSpec -> LoadZones -> SnapshotBuilder ->
// Snapshot::FromImage -> ZoneSet, exactly as `meshbl lookup` does) answers the
// same questions through table::Resolve. Every question is sent to rbldnsd
// over UDP (RD clear, no EDNS, ANY too) and both replies are decoded with ldns.
//
// User-visible behaviours asserted, for every generated question:
//  - the RCODE (NOERROR / NXDOMAIN / REFUSED / SERVFAIL) and the AA flag agree
//    (QCLASS IN, and QCLASS ANY for a sample: answered without AA);
//  - the ANSWER section agrees as a multiset of (owner, type, TTL, rdata),
//    names in rdata compared uncompressed (rbldnsd compresses them);
//  - the AUTHORITY section agrees the same way (NS set on positive answers,
//    SOA with TTL = SOA minimum on negative ones, nothing where no $SOA);
//  - a query rbldnsd does not answer (ACL ignore) is exactly a meshbl drop.
// Data covered (reference/rbldnsd.md §2-§5):
//  - ip4set: single IPs, a.b.c / a.b prefixes, /8 CIDRs, CIDRs, full,
//    prefix and suffix ranges, `!` exclusions, per-entry `:A:TXT` values in
//    every form, default lines (reset per file), same-level overlaps (union),
//    the four-level first-level-decides rule, $MAXRANGE4, last $TTL wins;
//  - ip4tset: full IPs only, first default line of the dataset, duplicates;
//  - ip4trie: nested prefixes, exclusions, 0/0, duplicate prefix (first
//    wins), $= base template with `=` bypass, $TIMESTAMP not yet expired;
//  - ip6trie: nested prefixes of every length, `::` and full forms, short
//    group forms, exclusions, defaults, the 9-group value quirk;
//  - ip6tset: /64 entries, /128 exclusions, first default only;
//  - dnset: plain, `*.wild`, `.both`, exclusions of each, multi-value names,
//    literal `*` labels, escapes, empty labels, per-file default reset;
//  - generic: A, TXT (quoted / unquoted), MX, `@`, per-line TTLs, ANY,
//    NODATA for other types, empty non-terminals (rbldnsd NXDOMAIN, meshbl
//    NODATA: issue 3), ignored AAAA;
//  - combined: $DATASET ip4set/dnset/ip4trie/generic/ip6tset sub-zones,
//    `@`, sub-zone apexes, inherited $n, a command-line zone shadowing a
//    sub-zone;
//  - acl: a global ACL and zone ACLs that do not match 127.0.0.1, a zone ACL
//    whose longest prefix for 127.0.0.1 is `pass`, `refuse`, `empty` and an
//    always-listed value (with `$` = client address, the ACL's TTL, generic
//    names existing without records), `blackhole` (no reply), and a bare
//    keyword without `:` (TXT of an always-listed value);
//  - $SOA (ttl 0, serial 0 = newest mtime), $NS (`-` names skipped), $TTL,
//    $0..$9, $=, `$`, `$$`, undefined `$N`, apex SOA/NS/ANY (REFUSED without
//    $SOA/$NS), several datasets in one zone (results merged, minimum TTL per
//    RRset), shared datasets, an expired zone (SERVFAIL), unserved names
//    (REFUSED), IPv6 6to4 / v4-mapped names in ip4 zones, malformed IP names.
// Not compared (reference §9 and the packet layer): TC/truncation (questions
// whose reply could exceed 512 bytes are counted and skipped), EDNS, TCP,
// the ADDITIONAL section (glue), header bits other than AA and RCODE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "ldns/ldns.h"
#include "ldns_ptr.h"
#include "meshbl/dns/name.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/query.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "meshbl/zone/loader.h"
#include "zone_gen.h"

namespace meshbl::integration {
namespace {

constexpr char kRbldnsd[] = "/usr/sbin/rbldnsd";
constexpr int kMaxReportedMismatches = 30;

// ---------------------------------------------------------------------------
// Replies, decoded with ldns for both sides.

struct Rec {
  std::string owner;  // lowercased presentation form
  std::uint16_t type;
  std::uint32_t ttl;
  std::vector<std::uint8_t> rdata;  // uncompressed wire rdata
  friend auto operator<=>(const Rec&, const Rec&) = default;
};

struct Reply {
  bool dropped = false;
  int rcode = 0;
  bool aa = false;
  std::vector<Rec> answer;     // sorted
  std::vector<Rec> authority;  // sorted
  std::string text;            // dig-like presentation
};

bool SameReply(const Reply& a, const Reply& b) {
  if (a.dropped || b.dropped) return a.dropped == b.dropped;
  return a.rcode == b.rcode && a.aa == b.aa && a.answer == b.answer && a.authority == b.authority;
}

std::string TypeName(std::uint16_t t) {
  CharPtr s(ldns_rr_type2str(static_cast<ldns_rr_type>(t)));
  return s ? s.get() : std::to_string(t);
}

// `canonical`: names inside rdata are lowercased (rbldnsd compresses their
// zone part against the question, so it takes the question's letter case;
// Resolve() has no compression. wire_differential_test compares them
// exactly, on the wire).
void ReadSection(const ldns_rr_list* list, bool canonical, std::vector<Rec>* out) {
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (canonical) ldns_rr2canonical(rr);
    Rec rec;
    CharPtr owner(ldns_rdf2str(ldns_rr_owner(rr)));
    rec.owner = Lower(owner ? owner.get() : "?");
    rec.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    rec.ttl = ldns_rr_ttl(rr);
    ldns_buffer* buf = ldns_buffer_new(512);
    ldns_rr_rdata2buffer_wire(buf, rr);
    rec.rdata.assign(ldns_buffer_begin(buf), ldns_buffer_begin(buf) + ldns_buffer_position(buf));
    ldns_buffer_free(buf);
    out->push_back(std::move(rec));
  }
  std::sort(out->begin(), out->end());
}

// Decodes a DNS message; false (with the reason in `out->text`) when ldns
// rejects it.
bool Decode(std::span<const std::uint8_t> wire, bool canonical, Reply* out) {
  ldns_pkt* raw = nullptr;
  const ldns_status st = ldns_wire2pkt(&raw, wire.data(), wire.size());
  if (st != LDNS_STATUS_OK) {
    out->text = std::string("undecodable reply: ") + ldns_get_errorstr_by_id(st) + "\n";
    out->rcode = -1;
    return false;
  }
  PktPtr pkt(raw);
  out->rcode = ldns_pkt_get_rcode(pkt.get());
  out->aa = ldns_pkt_aa(pkt.get());
  CharPtr text(ldns_pkt2str(pkt.get()));
  ReadSection(ldns_pkt_answer(pkt.get()), canonical, &out->answer);
  ReadSection(ldns_pkt_authority(pkt.get()), canonical, &out->authority);
  out->text = text ? text.get() : "";
  return true;
}

void PutU16(std::vector<std::uint8_t>* w, std::uint32_t v) {
  w->push_back(static_cast<std::uint8_t>(v >> 8));
  w->push_back(static_cast<std::uint8_t>(v));
}

void PutName(std::vector<std::uint8_t>* w, std::span<const std::uint8_t> labels) {
  w->insert(w->end(), labels.begin(), labels.end());
  w->push_back(0);
}

// meshbl's Answer as an uncompressed DNS message, so that ldns decodes both
// sides the same way. `*max_size` gets an upper bound of the size rbldnsd's
// compressed encoding of the same answer would need.
std::vector<std::uint8_t> EncodeAnswer(std::span<const std::uint8_t> qname, std::uint16_t qtype,
                                       bool class_any, const table::Answer& a,
                                       std::size_t* max_size) {
  std::vector<std::uint8_t> w;
  PutU16(&w, 0);  // id
  w.push_back(static_cast<std::uint8_t>(0x80 | (a.aa ? 0x04 : 0)));
  w.push_back(static_cast<std::uint8_t>(a.rcode));
  PutU16(&w, 1);
  PutU16(&w, static_cast<std::uint32_t>(a.answer_count));
  PutU16(&w, static_cast<std::uint32_t>(a.authority_count));
  PutU16(&w, 0);
  PutName(&w, qname);
  PutU16(&w, qtype);
  PutU16(&w, class_any ? 255 : 1);
  *max_size = w.size();
  std::span<const std::uint8_t> zone_name;
  if (a.zone != nullptr) zone_name = a.zone->name;
  auto put_rr = [&](const table::Rr& rr, std::span<const std::uint8_t> owner) {
    PutName(&w, owner);
    PutU16(&w, rr.type);
    PutU16(&w, 1);
    PutU16(&w, rr.ttl >> 16);
    PutU16(&w, rr.ttl & 0xffffu);
    PutU16(&w, rr.len);
    const auto rd = a.rdata(rr);
    w.insert(w.end(), rd.begin(), rd.end());
    *max_size += 2 + 10 + rd.size();
  };
  for (int i = 0; i < a.answer_count; ++i) put_rr(a.answer[i], qname);
  for (int i = 0; i < a.authority_count; ++i) put_rr(a.authority[i], zone_name);
  return w;
}

// ---------------------------------------------------------------------------
// rbldnsd process and UDP client.

std::uint16_t FreeUdpPort() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  close(fd);
  return port;
}

class UdpClient {
 public:
  UdpClient() = default;
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;
  ~UdpClient() {
    if (fd_ >= 0) close(fd_);
  }

  bool Open(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    return connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }

  // Sends `name`/`qtype`/IN or ANY (RD clear, no EDNS) and waits up to `timeout_ms`
  // for the reply carrying the same id. False when none came.
  bool Ask(const std::string& name, std::uint16_t qtype, bool class_any, int timeout_ms,
           std::vector<std::uint8_t>* reply) {
    ldns_rdf* dn = ldns_dname_new_frm_str(name.c_str());
    if (dn == nullptr) return false;
    PktPtr q(ldns_pkt_query_new(dn, static_cast<ldns_rr_type>(qtype),
                                class_any ? LDNS_RR_CLASS_ANY : LDNS_RR_CLASS_IN, 0));
    const std::uint16_t id = ++id_;
    ldns_pkt_set_id(q.get(), id);
    ldns_pkt_set_rd(q.get(), false);
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    if (ldns_pkt2wire(&wire, q.get(), &size) != LDNS_STATUS_OK) return false;
    std::unique_ptr<std::uint8_t, FreeDeleter> holder(wire);
    if (send(fd_, wire, size, 0) != static_cast<ssize_t>(size)) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::uint8_t buf[4096];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 12) continue;  // error (e.g. ECONNREFUSED) or runt: keep waiting
      if (((buf[0] << 8) | buf[1]) != id) continue;
      reply->assign(buf, buf + n);
      return true;
    }
  }

 private:
  int fd_ = -1;
  std::uint16_t id_ = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything the tests share: the data, one rbldnsd, one meshbl ZoneSet.
class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Generates the data, starts rbldnsd and loads meshbl. Sets error() on
  // failure to set up (not on meshbl load errors, see load_error()).
  void Start() {
    char tmpl[] = "/tmp/meshbl-differential-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    // rbldnsd started as root drops to user rbldns, which must read the data.
    chmod(dir_.c_str(), 0755);
    gen_ = std::make_unique<Generator>(dir_);
    gen_->Run();
    if (!StartRbldnsd()) return;
    LoadMeshbl();
  }

  const std::string& error() const { return error_; }
  const Generator& gen() const { return *gen_; }
  const table::ZoneSet* zones() const { return zones_.get(); }
  UdpClient& client() { return client_; }
  std::uint16_t port() const { return port_; }
  const std::vector<zone::Diagnostic>& warnings() const { return warnings_; }
  std::string rbldnsd_log() const { return ReadFile(dir_ + "/rbldnsd.log"); }
  // The meshbl load error of the zone whose test key is `key` (empty if it
  // loaded).
  std::string load_error(const std::string& key) const {
    auto it = load_errors_.find(key);
    return it == load_errors_.end() ? std::string() : it->second;
  }
  const std::map<std::string, std::string>& load_errors() const { return load_errors_; }

 private:
  bool StartRbldnsd() {
    port_ = FreeUdpPort();
    if (port_ == 0) {
      error_ = "no free UDP port on 127.0.0.1";
      return false;
    }
    std::vector<std::string> args = {kRbldnsd, "-n", "-b", "127.0.0.1/" + std::to_string(port_)};
    for (const std::string& s : gen_->specs()) args.push_back(s);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/rbldnsd.log";
    pid_ = fork();
    if (pid_ < 0) {
      error_ = "fork failed";
      return false;
    }
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execv(kRbldnsd, argv.data());
      _exit(127);
    }
    if (!client_.Open(port_)) {
      error_ = "cannot open the UDP client socket";
      return false;
    }
    // Bounded wait (5 s) until rbldnsd answers an apex SOA question.
    std::vector<std::uint8_t> reply;
    for (int i = 0; i < 50; ++i) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "rbldnsd exited during startup (status " + std::to_string(status) +
                 "); its log:\n" + rbldnsd_log();
        return false;
      }
      if (client_.Ask("ip4set.test", kSoa, false, 100, &reply)) return true;
    }
    error_ = "rbldnsd did not answer within 5 s; its log:\n" + rbldnsd_log();
    return false;
  }

  absl::StatusOr<std::shared_ptr<const table::ZoneSet>> Load(
      const std::vector<std::string>& specs) {
    std::vector<zone::ZoneSpec> parsed;
    for (const std::string& s : specs) {
      auto z = zone::ParseZoneSpec(s);
      if (!z.ok()) return z.status();
      parsed.push_back(*std::move(z));
    }
    table::SnapshotBuilder builder;
    std::vector<zone::Diagnostic> warnings;
    zone::LoadOptions options;
    absl::Status st = zone::LoadZones(parsed, options, &builder, &warnings);
    if (!st.ok()) return st;
    warnings_ = std::move(warnings);
    auto snap = table::Snapshot::FromImage(
        builder.Build(static_cast<std::int64_t>(std::time(nullptr))), "<differential>");
    if (!snap.ok()) return snap.status();
    return table::ZoneSet::Create({*snap});
  }

  static std::string KeyOf(const std::string& spec) {
    const std::string zone = spec.substr(0, spec.find(':'));
    return zone.substr(0, zone.find('.'));
  }

  // One load of every spec, as `meshbl lookup` does. If it fails, find the
  // zones that fail alone, report them per test, and load the rest so the
  // other tests still compare.
  void LoadMeshbl() {
    auto all = Load(gen_->specs());
    if (all.ok()) {
      zones_ = *std::move(all);
      return;
    }
    load_errors_["*"] = std::string(all.status().message());
    std::map<std::string, std::vector<std::string>> by_key;
    std::vector<std::string> global;
    for (const std::string& s : gen_->specs()) {
      if (s[0] == ':') {
        global.push_back(s);
      } else {
        by_key[KeyOf(s)].push_back(s);
      }
    }
    std::vector<std::string> good = global;
    for (const auto& [key, specs] : by_key) {
      std::vector<std::string> one = global;
      one.insert(one.end(), specs.begin(), specs.end());
      auto z = Load(one);
      if (z.ok()) {
        good.insert(good.end(), specs.begin(), specs.end());
      } else {
        load_errors_[key] = std::string(z.status().message());
      }
    }
    auto rest = Load(good);
    if (rest.ok()) zones_ = *std::move(rest);
  }

  std::string dir_;
  std::string error_;
  std::unique_ptr<Generator> gen_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  UdpClient client_;
  std::shared_ptr<const table::ZoneSet> zones_;
  std::vector<zone::Diagnostic> warnings_;
  std::map<std::string, std::string> load_errors_;
};

std::string Describe(const TestQuery& q, const Reply& mine, const Reply& theirs) {
  auto show = [](const Reply& r) {
    return r.dropped ? std::string(";; no reply (dropped)\n") : r.text;
  };
  return absl::StrFormat(
      "disagreement for question: %s. %s %s\n"
      "---------- meshbl (table::Resolve) ----------\n%s"
      "---------- rbldnsd ----------\n%s",
      q.name, q.class_any ? "ANY" : "IN", TypeName(q.qtype), show(mine), show(theirs));
}

class DifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kRbldnsd, X_OK) != 0) return;
    env_ = new Env;
    env_->Start();
  }
  static void TearDownTestSuite() {
    delete env_;  // SIGTERMs and reaps rbldnsd, removes the data
    env_ = nullptr;
  }

  void SetUp() override {
    if (access(kRbldnsd, X_OK) != 0) {
      GTEST_SKIP() << kRbldnsd << " is not installed (apt-get install rbldnsd)";
    }
    ASSERT_NE(env_, nullptr);
    ASSERT_EQ(env_->error(), "") << "test setup failed";
  }

  // Asks every generated question of zone `key` to both servers.
  void CheckZone(const std::string& key) {
    const auto& all = env_->gen().queries();
    auto it = all.find(key);
    ASSERT_NE(it, all.end()) << "no questions generated for " << key;
    const std::string load_error = env_->load_error(key);
    ASSERT_EQ(load_error, "") << "meshbl failed to load the data of this zone (rbldnsd loaded it)";
    ASSERT_NE(env_->zones(), nullptr) << "meshbl failed to load: " << env_->load_error("*");
    auto answer = std::make_unique<table::Answer>();
    int compared = 0, mismatches = 0, oversize = 0, dropped = 0;
    for (const TestQuery& q : it->second) {
      const bool canonical = true;
      std::string labels;
      ASSERT_TRUE(dns::ParseName(q.name, &labels)) << q.name;
      const std::span<const std::uint8_t> qname(
          reinterpret_cast<const std::uint8_t*>(labels.data()), labels.size());
      table::Query mq;
      mq.qname = qname;
      mq.qtype = q.qtype;
      mq.class_any = q.class_any;
      mq.client = {4, 0x7f000001, 0, 0};
      mq.now = static_cast<std::int64_t>(std::time(nullptr));
      table::Resolve(*env_->zones(), table::QueryOptions{}, mq, answer.get());
      Reply mine;
      if (answer->drop) {
        mine.dropped = true;
      } else {
        std::size_t max_size = 0;
        const auto wire = EncodeAnswer(qname, q.qtype, q.class_any, *answer, &max_size);
        if (max_size > 512) {  // rbldnsd would truncate: §9, not compared
          ++oversize;
          continue;
        }
        Decode(wire, canonical, &mine);
      }
      Reply theirs;
      std::vector<std::uint8_t> wire;
      bool got = env_->client().Ask(q.name, q.qtype, q.class_any, mine.dropped ? 250 : 1000, &wire);
      if (!got && !mine.dropped) {
        got = env_->client().Ask(q.name, q.qtype, q.class_any, 1000, &wire);
      }
      if (got) {
        Decode(wire, canonical, &theirs);
      } else {
        theirs.dropped = true;
      }
      ++compared;
      if (theirs.dropped) ++dropped;
      // Documented difference (issue 3, rbldnsd issue #17, RFC 8020): an
      // empty non-terminal is NODATA in meshbl where rbldnsd says NXDOMAIN;
      // everything else (AA, the SOA in AUTHORITY) must still agree.
      if (answer->empty_non_terminal && !theirs.dropped && theirs.rcode == LDNS_RCODE_NXDOMAIN &&
          mine.rcode == LDNS_RCODE_NOERROR) {
        theirs.rcode = LDNS_RCODE_NOERROR;
      }
      if (!SameReply(mine, theirs)) {
        if (++mismatches <= kMaxReportedMismatches) ADD_FAILURE() << Describe(q, mine, theirs);
      }
    }
    if (mismatches > kMaxReportedMismatches) {
      ADD_FAILURE() << (mismatches - kMaxReportedMismatches) << " more disagreements not shown";
    }
    std::printf(
        "[ %s ] %d questions compared (%d unanswered by rbldnsd), %d disagreements, %d skipped "
        "(reply could exceed 512 bytes: truncation differs by design, reference §9)\n",
        key.c_str(), compared, dropped, mismatches, oversize);
    EXPECT_GT(compared, 0);
  }

  static Env* env_;
};

Env* DifferentialTest::env_ = nullptr;

TEST_F(DifferentialTest, MeshblLoadsEveryZoneRbldnsdLoads) {
  for (const auto& [key, error] : env_->load_errors()) {
    ADD_FAILURE() << "meshbl load error (" << key << "): " << error;
  }
  std::printf("meshbl: %zu load warnings\n", env_->warnings().size());
  for (const auto& w : env_->warnings()) std::printf("  %s\n", w.ToString().c_str());
  std::printf("rbldnsd log:\n%s\n", env_->rbldnsd_log().c_str());
}

TEST_F(DifferentialTest, Ip4SetAnswersLikeRbldnsd) { CheckZone("ip4set"); }
TEST_F(DifferentialTest, Ip4TSetAnswersLikeRbldnsd) { CheckZone("ip4tset"); }
TEST_F(DifferentialTest, Ip4TrieAnswersLikeRbldnsd) { CheckZone("ip4trie"); }
TEST_F(DifferentialTest, Ip6TrieAnswersLikeRbldnsd) { CheckZone("ip6trie"); }
TEST_F(DifferentialTest, Ip6TSetAnswersLikeRbldnsd) { CheckZone("ip6tset"); }
TEST_F(DifferentialTest, DnSetAnswersLikeRbldnsd) { CheckZone("dnset"); }
TEST_F(DifferentialTest, GenericAnswersLikeRbldnsd) { CheckZone("generic"); }
TEST_F(DifferentialTest, CombinedAnswersLikeRbldnsd) { CheckZone("combined"); }
TEST_F(DifferentialTest, SeveralDatasetsInOneZoneAnswerLikeRbldnsd) { CheckZone("multi"); }
TEST_F(DifferentialTest, AclNotMatchingClientAnswersLikeRbldnsd) { CheckZone("aclpass"); }
TEST_F(DifferentialTest, AclRefuseAnswersLikeRbldnsd) { CheckZone("aclrefuse"); }
TEST_F(DifferentialTest, AclAlwaysListedAnswersLikeRbldnsd) { CheckZone("aclalways"); }
TEST_F(DifferentialTest, AclEmptyAnswersLikeRbldnsd) { CheckZone("aclempty"); }
TEST_F(DifferentialTest, AclBareKeywordIsAlwaysListedTextLikeRbldnsd) { CheckZone("aclword"); }
TEST_F(DifferentialTest, AclBlackholeDropsLikeRbldnsd) { CheckZone("acldrop"); }
TEST_F(DifferentialTest, ExpiredZoneAnswersLikeRbldnsd) { CheckZone("expired"); }
TEST_F(DifferentialTest, UnservedNamesAnswerLikeRbldnsd) { CheckZone("routing"); }

}  // namespace
}  // namespace meshbl::integration
