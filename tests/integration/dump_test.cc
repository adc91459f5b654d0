// `meshbld -d` (rbldnsd's -d): the BIND master-format dump.
//
// DumpLayout: a small hand-made zone set dumped and compared line by line
// with what the rules of include/meshbl/table/dump.h say: rbldnsd's layout
// ($ORIGIN, apex SOA/NS, $TTL per dataset, `*.` wildcards for blocks,
// `CNAME excluded`), blocks split at octet/nibble boundaries, wildcards
// repeated where a more specific entry would stop them (RFC 4592 §2.2),
// combined sub-zone origins, generic records, and exit codes.
//
// DumpServedByNsd: the generated data of every dataset type (zone_gen.h) is
// dumped one zone at a time, checked with nsd-checkzone, loaded into NSD (an
// independent authoritative server) and asked the generator's questions next
// to meshbld serving the same files. Over UDP, for class IN and the types A,
// TXT and MX (ANY: RCODE only), both must give the same RCODE and the same
// A/TXT/MX records with the same TTLs (an exclusion's `CNAME excluded`
// counts as the NXDOMAIN it stands for, whatever follows it). Allowed, as
// dump.h documents:
//  - TXT text is compared with every IP address in it replaced by "IP" (a
//    wildcard's `$` is the block's first address in a master file, the
//    queried address when served);
//  - the apex of a zone without $SOA (NSD needs one: the test adds it), and
//    ANY at an apex (REFUSED without $NS, reference §5 step 9);
//  - meshbld's NODATA for an empty non-terminal it answers by rule (issue 3:
//    every 1-3 label IPv4 prefix) where NSD has no such name (NXDOMAIN), and
//    for a combined sub-zone apex with no data (reference §4.8);
//  - only names an rbldnsd zone can answer are asked: in IP zones, reversed
//    addresses in canonical form (no 6to4 names in IPv4 zones, no `*`
//    labels, no other names), because a master-file wildcard also matches
//    other names.
// Skips when NSD is not installed (scripts/dev installs it).
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wire_decode.h"
#include "wire_test_util.h"
#include "zone_gen.h"

#ifndef MESHBLD_PATH
#error "MESHBLD_PATH must name the meshbld binary"
#endif

namespace meshbl::integration {
namespace {

constexpr char kNsd[] = "/usr/sbin/nsd";
constexpr char kNsdCheckzone[] = "/usr/sbin/nsd-checkzone";
constexpr int kMaxReported = 20;

// Runs `program args...` with stdout into `out_path` and stderr into
// `err_path`; the exit status, or -1 (killed after 60 s, or no fork).
int RunProgram(const std::string& program, const std::vector<std::string>& args,
               const std::string& out_path, const std::string& err_path) {
  Child child;
  if (!child.Start(program, args, out_path, err_path)) return -1;
  for (int i = 0; i < 6000 && child.Running(); ++i) {  // 60 s
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (child.Running()) return -1;  // ~Child kills it
  return WIFEXITED(child.status()) ? WEXITSTATUS(child.status()) : -1;
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  chmod(path.c_str(), 0644);
  return path;
}

std::string MakeTempDir(const char* prefix) {
  std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  chmod(tmpl.c_str(), 0755);  // meshbld started as root reads as its -u user
  return tmpl;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The layout, line by line.

class DumpLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("meshbl-dump-layout");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string File(const std::string& name, const std::string& text) {
    return WriteFile(dir_ + "/" + name, text);
  }
  // meshbld -d with `specs`; the dump's lines after the two header comments.
  std::vector<std::string> Dump(const std::vector<std::string>& specs, int* status) {
    std::vector<std::string> args = {"-d"};
    args.insert(args.end(), specs.begin(), specs.end());
    *status = RunProgram(MESHBLD_PATH, args, dir_ + "/out", dir_ + "/err");
    std::vector<std::string> lines = Lines(ReadWholeFile(dir_ + "/out"));
    if (*status != 0) return lines;
    if (lines.size() >= 2 && lines[0].starts_with("; zone dump made ") &&
        lines[1].starts_with("; ")) {
      lines.erase(lines.begin(), lines.begin() + 2);
    } else {
      ADD_FAILURE() << "no header comments in the dump:\n" << ReadWholeFile(dir_ + "/out");
    }
    return lines;
  }
  std::string Err() const { return ReadWholeFile(dir_ + "/err"); }

  std::string dir_;
};

using Want = std::vector<std::string>;

TEST_F(DumpLayoutTest, Ip4SetBlocksExclusionsAndWildcardsStoppedByInnerEntries) {
  const std::string f = File("ip4.txt",
                             "$SOA 3600 ns.bl.example. hostmaster.bl.example. 7 600 300 86400 60\n"
                             "$NS 1800 ns1.bl.example. ns2.bl.example.\n"
                             ":127.0.0.2:Listed $\n"
                             "1.2.3.4\n"
                             "10.0.0.0/24 :127.0.0.3:Net $\n"
                             "!10.0.0.5\n"
                             "10.1.0.0/16\n"
                             "10.1.2.3 :127.0.0.4:Inner\n"
                             "192.168.1.1-192.168.1.3\n");
  int status = 0;
  const Want lines = Dump({"bl.example:ip4set:" + f}, &status);
  EXPECT_EQ(status, 0) << Err();
  const Want want = {
      "$ORIGIN\tbl.example.",
      "@\t3600\tSOA\tns.bl.example.\thostmaster.bl.example.\t(7 600 300 86400 60)",
      "\t1800\tNS\tns1.bl.example.",
      "\t1800\tNS\tns2.bl.example.",
      "$TTL 2100",
      "4.3.2.1\tA\t127.0.0.2",
      "\tTXT\t\"Listed 1.2.3.4\"",
      "*.0.0.10\tA\t127.0.0.3",
      "\tTXT\t\"Net 10.0.0.0\"",
      "5.0.0.10\tCNAME\texcluded",
      "*.1.10\tA\t127.0.0.2",
      "\tTXT\t\"Listed 10.1.0.0\"",
      // 2.1.10 exists because of 10.1.2.3: the /16 is repeated below it.
      "*.2.1.10\tA\t127.0.0.2",
      "\tTXT\t\"Listed 10.1.0.0\"",
      "3.2.1.10\tA\t127.0.0.4",
      "\tTXT\t\"Inner\"",
      "1.1.168.192\tA\t127.0.0.2",
      "\tTXT\t\"Listed 192.168.1.1\"",
      "2.1.168.192\tA\t127.0.0.2",
      "\tTXT\t\"Listed 192.168.1.2\"",
      "3.1.168.192\tA\t127.0.0.2",
      "\tTXT\t\"Listed 192.168.1.3\"",
  };
  EXPECT_EQ(lines, want);
}

TEST_F(DumpLayoutTest, Ip4TrieBlocksSplitAtOctetsLongestPrefixWins) {
  const std::string f = File("trie.txt",
                             ":127.0.0.2:T\n"
                             "10.0.0.0/22\n"
                             "10.0.2.0/23 :127.0.0.3:longer\n"
                             "10.9.9.8/31\n");
  int status = 0;
  const Want lines = Dump({"tr.example:ip4trie:" + f}, &status);
  EXPECT_EQ(status, 0) << Err();
  const Want want = {
      "$ORIGIN\ttr.example.",   "$TTL 2100",         "*.0.0.10\tA\t127.0.0.2", "\tTXT\t\"T\"",
      "*.1.0.10\tA\t127.0.0.2", "\tTXT\t\"T\"",      "*.2.0.10\tA\t127.0.0.3", "\tTXT\t\"longer\"",
      "*.3.0.10\tA\t127.0.0.3", "\tTXT\t\"longer\"", "8.9.9.10\tA\t127.0.0.2", "\tTXT\t\"T\"",
      "9.9.9.10\tA\t127.0.0.2", "\tTXT\t\"T\"",
  };
  EXPECT_EQ(lines, want);
}

TEST_F(DumpLayoutTest, Ip6TrieWildcardsAtNibblesAndAroundAnExclusion) {
  const std::string f = File("v6.txt",
                             ":127.0.0.2:v6 $\n"
                             "2001:db8::/126\n"
                             "!2001:db8::2\n");
  int status = 0;
  const Want lines = Dump({"v6.example:ip6trie:" + f}, &status);
  EXPECT_EQ(status, 0) << Err();
  const std::string net = "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2";
  const Want want = {
      "$ORIGIN\tv6.example.",
      "$TTL 2100",
      "0." + net.substr(2) + "\tA\t127.0.0.2",
      "\tTXT\t\"v6 2001:db8::\"",
      "1." + net.substr(2) + "\tA\t127.0.0.2",
      "\tTXT\t\"v6 2001:db8::\"",
      "2." + net.substr(2) + "\tCNAME\texcluded",
      "3." + net.substr(2) + "\tA\t127.0.0.2",
      "\tTXT\t\"v6 2001:db8::\"",
  };
  EXPECT_EQ(lines, want);
}

TEST_F(DumpLayoutTest, DnSetWildcardsRepeatedBelowNamesThatExist) {
  const std::string f = File("dn.txt",
                             ":127.0.0.2:Domain $\n"
                             "example.com\n"
                             "*.wild.net :127.0.0.3:wild $\n"
                             "!ok.wild.net\n"
                             "a.b.wild.net :127.0.0.4:deep\n"
                             ".both.org\n");
  int status = 0;
  const Want lines = Dump({"dbl.example:dnset:" + f}, &status);
  EXPECT_EQ(status, 0) << Err();
  const Want want = {
      "$ORIGIN\tdbl.example.",
      "$TTL 2100",
      "example.com\tA\t127.0.0.2",
      "\tTXT\t\"Domain example.com\"",
      "*.wild.net\tA\t127.0.0.3",
      "\tTXT\t\"wild wild.net\"",
      // b.wild.net exists (parent of a.b.wild.net): *.wild.net does not
      // reach it or below it in DNS, but does in rbldnsd.
      "b.wild.net\tA\t127.0.0.3",
      "\tTXT\t\"wild wild.net\"",
      "*.b.wild.net\tA\t127.0.0.3",
      "\tTXT\t\"wild wild.net\"",
      "a.b.wild.net\tA\t127.0.0.4",
      "\tTXT\t\"deep\"",
      "*.a.b.wild.net\tA\t127.0.0.3",
      "\tTXT\t\"wild wild.net\"",
      "ok.wild.net\tCNAME\texcluded",
      "*.ok.wild.net\tA\t127.0.0.3",
      "\tTXT\t\"wild wild.net\"",
      "both.org\tA\t127.0.0.2",
      "\tTXT\t\"Domain both.org\"",
      "*.both.org\tA\t127.0.0.2",
      "\tTXT\t\"Domain both.org\"",
  };
  EXPECT_EQ(lines, want);
}

TEST_F(DumpLayoutTest, GenericAndCombinedSubZones) {
  const std::string g = File("gen.txt",
                             "@ A 127.0.0.2\n"
                             "@ TXT \"apex; text\"\n"
                             "host 300 MX 10 mail.example.com.\n");
  const std::string c = File("comb.txt",
                             "$TTL 600\n"
                             "$DATASET ip4set sbl\n"
                             ":127.0.0.2:sbl\n"
                             "1.2.3.4\n"
                             "$DATASET dnset dbl\n"
                             "foo.com :127.0.0.3:dbl\n");
  int status = 0;
  const Want lines = Dump({"gen.example:generic:" + g, "c.example:combined:" + c}, &status);
  EXPECT_EQ(status, 0) << Err();
  const Want want = {
      "$ORIGIN\tgen.example.",
      "$TTL 2100",
      "@\t2100\tA\t127.0.0.2",
      "\t2100\tTXT\t\"apex; text\"",
      "host\t300\tMX\t10\tmail.example.com.",
      "$ORIGIN\tc.example.",
      "$ORIGIN\tsbl.c.example.",
      "$TTL 600",
      "4.3.2.1\tA\t127.0.0.2",
      "\tTXT\t\"sbl\"",
      "$ORIGIN\tdbl.c.example.",
      "$TTL 600",
      "foo.com\tA\t127.0.0.3",
      "\tTXT\t\"dbl\"",
      "$ORIGIN\tc.example.",
  };
  EXPECT_EQ(lines, want);
}

TEST_F(DumpLayoutTest, LoadErrorExitsOneWithoutDump) {
  int status = 0;
  const Want lines = Dump({"bl.example:ip4set:" + dir_ + "/missing.txt"}, &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(Err().find("missing.txt"), std::string::npos) << Err();
  EXPECT_NE(Err().find("zone loading errors, aborting"), std::string::npos) << Err();
}

TEST_F(DumpLayoutTest, LogLinesGoToStderrNotIntoTheDump) {
  const std::string f = File("one.txt", "1.2.3.4\n");
  int status = 0;
  const Want lines = Dump({"bl.example:ip4set:" + f}, &status);
  EXPECT_EQ(status, 0);
  for (const std::string& l : lines) EXPECT_EQ(l.find("meshbld:"), std::string::npos) << l;
  EXPECT_NE(Err().find("ip4set:"), std::string::npos) << Err();
}

// ---------------------------------------------------------------------------
// The dump served by NSD answers as meshbld does.

const std::vector<std::string> kKeys = {"ip4set",  "ip4tset", "ip4trie", "ip6trie",
                                        "ip6tset", "dnset",   "generic", "combined"};

bool IsIp4Key(const std::string& key) {
  return key == "ip4set" || key == "ip4tset" || key == "ip4trie";
}

class NsdEnv {
 public:
  NsdEnv() = default;
  NsdEnv(const NsdEnv&) = delete;
  NsdEnv& operator=(const NsdEnv&) = delete;
  ~NsdEnv() {
    nsd_.Stop(SIGTERM);
    meshbld_.Stop(SIGTERM);
    std::error_code ec;
    if (std::getenv("MESHBL_KEEP_TEST_DIR") != nullptr) {  // for debugging a failure
      std::printf("kept %s\n", dir_.c_str());
    } else if (!dir_.empty()) {
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void Start() {
    dir_ = MakeTempDir("meshbl-dump-nsd");
    if (dir_.empty()) {
      error_ = "mkdtemp failed";
      return;
    }
    gen_ = std::make_unique<Generator>(dir_);
    gen_->Run();
    std::vector<std::string> all;
    std::string zones_conf;
    for (const std::string& key : kKeys) {
      const std::string zone = key + ".test";
      std::vector<std::string> specs = {"-d"};
      for (const std::string& s : gen_->specs()) {
        if (s.starts_with(zone + ":")) specs.push_back(s);
      }
      all.insert(all.end(), specs.begin() + 1, specs.end());
      const std::string file = dir_ + "/" + key + ".zone";
      const int rc = RunProgram(MESHBLD_PATH, specs, file, dir_ + "/" + key + ".dump.log");
      if (rc != 0) {
        error_ = absl::StrFormat("meshbld -d for %s exited %d:\n%s", zone, rc,
                                 ReadWholeFile(dir_ + "/" + key + ".dump.log"));
        return;
      }
      const std::string dump = ReadWholeFile(file);
      if (dump.find("\tSOA\t") == std::string::npos) synthetic_soa_.insert(key);
      WriteFile(file, WithSoa(dump));
      zones_conf += absl::StrFormat("zone:\n  name: %s\n  zonefile: %s\n", zone, file);
    }
    // A port found free can be taken by a parallel test before NSD binds
    // it (NSD then exits at once): start again on another, at most 3 times.
    bool up = false;
    std::string why;
    for (int attempt = 0; attempt < 3 && !up; ++attempt) {
      port_ = FreeUdpPort();
      const std::string conf = WriteFile(
          dir_ + "/nsd.conf",
          absl::StrFormat("server:\n  ip-address: 127.0.0.1\n  port: %u\n  username: \"\"\n"
                          "  chroot: \"\"\n  zonesdir: \"%s\"\n  pidfile: \"%s/nsd.pid\"\n"
                          "  database: \"\"\n  zonelistfile: \"%s/zone.list\"\n"
                          "  xfrdfile: \"%s/xfrd.state\"\n  xfrdir: \"%s\"\n  server-count: 1\n"
                          "  verbosity: 1\n  logfile: \"%s/nsd.log\"\n  reuseport: no\n"
                          "  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n"
                          "remote-control:\n  control-enable: no\n%s",
                          port_, dir_, dir_, dir_, dir_, dir_, dir_, zones_conf));
      if (!nsd_.Start(kNsd, {"-d", "-c", conf}, dir_ + "/nsd.out")) {
        error_ = "fork failed";
        return;
      }
      nsd_sock_ = std::make_unique<UdpSocket>(port_);
      // ID 0: questions count from 1, so a late probe reply is skipped.
      const Bytes probe = BuildQuery(WireQuery{.name = "ip4set.test", .qtype = kSoa}, 0);
      Bytes reply;
      for (int i = 0; i < 100 && !up; ++i) {  // 10 s
        if (!nsd_.Running()) break;
        up = nsd_sock_->Exchange(probe, 100, &reply) && Decode(reply).rcode() == 0;
      }
      if (!up) {
        why += nsd_.Log() + ReadWholeFile(dir_ + "/nsd.log");
        nsd_.Stop(SIGTERM);
      }
    }
    if (!up) {
      error_ = "NSD did not answer within 10 s (3 attempts):\n" + why;
      return;
    }
    const std::uint16_t mesh_port =
        integration::StartMeshbld(&meshbld_, MESHBLD_PATH, all, dir_ + "/meshbld.log");
    if (mesh_port == 0) {
      error_ = "meshbld did not start:\n" + meshbld_.Log();
      return;
    }
    mesh_sock_ = std::make_unique<UdpSocket>(mesh_port);
  }

  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  const Generator& gen() const { return *gen_; }
  const std::set<std::string>& synthetic_soa() const { return synthetic_soa_; }
  UdpSocket& nsd() { return *nsd_sock_; }
  UdpSocket& mesh() { return *mesh_sock_; }

 private:
  // NSD serves only zones with an SOA; the generator leaves some out.
  static std::string WithSoa(const std::string& dump) {
    const std::size_t origin = dump.find("$ORIGIN\t");
    if (origin == std::string::npos || dump.find("\tSOA\t") != std::string::npos) return dump;
    const std::size_t eol = dump.find('\n', origin);
    return dump.substr(0, eol + 1) +
           "@\t3600\tSOA\tns.invalid.\thostmaster.invalid.\t(1 3600 600 86400 60)\n" +
           dump.substr(eol + 1);
  }

  std::string dir_, error_;
  std::unique_ptr<Generator> gen_;
  std::set<std::string> synthetic_soa_;  // keys whose dump had no SOA
  std::uint16_t port_ = 0;
  Child nsd_, meshbld_;
  std::unique_ptr<UdpSocket> nsd_sock_, mesh_sock_;
};

NsdEnv* g_env = nullptr;

// Relative labels of `name` under `zone` (lowercase; none for the apex),
// or false.
bool RelativeLabels(const std::string& name, const std::string& zone,
                    std::vector<std::string>* out) {
  const std::string n = Lower(name);
  out->clear();
  return n == zone || LabelsUnder(n, zone, out);
}

bool IsCanonicalOctet(const std::string& l) {
  if (l.empty() || l.size() > 3 || l.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  return (l.size() == 1 || l[0] != '0') && std::stoi(l) <= 255;
}

bool IsNibble(const std::string& l) {
  return l.size() == 1 && std::isxdigit(static_cast<unsigned char>(l[0])) &&
         !std::isupper(static_cast<unsigned char>(l[0]));
}

bool IsNumeric(const std::string& l) {
  return !l.empty() && l.find_first_not_of("0123456789abcdef") == std::string::npos &&
         (l.size() == 1 || l.find_first_not_of("0123456789") == std::string::npos);
}

// Whether a question is one a master file can answer as rbldnsd does: no
// `*` label, and numeric labels only as a whole reversed address (4
// canonical octets, or 32 nibbles outside IPv4 zones) at the front.
bool Comparable(const std::string& key, const TestQuery& q) {
  if (q.class_any) return false;
  if (q.qtype != kA && q.qtype != kTxt && q.qtype != kMx && q.qtype != kAny) return false;
  std::vector<std::string> labels;
  if (!RelativeLabels(q.name, key + ".test", &labels)) return false;
  for (const std::string& l : labels) {
    if (l == "*") return false;
  }
  if (key == "dnset" || key == "generic") return true;
  const bool ip_only = key != "combined";  // only address names are data there
  std::size_t numeric = 0;
  while (numeric < labels.size() && IsNumeric(labels[numeric])) ++numeric;
  for (std::size_t i = numeric; i < labels.size(); ++i) {
    if (IsNumeric(labels[i])) return false;
  }
  if (numeric == 0) return !ip_only || labels.empty();
  if (numeric == 4) {
    return std::all_of(labels.begin(), labels.begin() + 4, IsCanonicalOctet);
  }
  if (numeric == 32 && !IsIp4Key(key)) {
    return std::all_of(labels.begin(), labels.begin() + 32, IsNibble);
  }
  return false;
}

// Every IPv4/IPv6 address in TXT text replaced by "IP".
std::string MaskAddresses(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    bool sep = false, digit = false;
    while (j < s.size() &&
           (std::isxdigit(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == ':')) {
      sep |= s[j] == '.' || s[j] == ':';
      digit |= std::isdigit(static_cast<unsigned char>(s[j])) != 0;
      ++j;
    }
    if (j > i && sep && digit && j - i >= 3) {
      out += "IP";
      i = j;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

// The A/TXT/MX records of the ANSWER section, as comparable strings.
std::multiset<std::string> Records(const Decoded& d) {
  std::multiset<std::string> out;
  for (const Rec& r : d.sections[0]) {
    if (r.type != kA && r.type != kTxt && r.type != kMx) continue;
    std::string rd(r.rdata.begin(), r.rdata.end());
    if (r.type == kTxt) {  // the strings without their length bytes
      std::string text;
      for (std::size_t i = 0; i < r.rdata.size(); i += 1u + r.rdata[i]) {
        text += "|" + rd.substr(i + 1, r.rdata[i]);
      }
      rd = MaskAddresses(text);
    } else if (r.type == kMx) {  // NSD shares one letter case per name
      rd = Lower(rd);
    }
    out.insert(absl::StrFormat("%u %u %s", r.type, r.ttl, rd));
  }
  return out;
}

bool IsSubZoneApex(const std::string& key, const std::string& name) {
  std::vector<std::string> labels;
  if (key != "combined" || !RelativeLabels(name, "combined.test", &labels)) return false;
  static const std::set<std::string> kSubZones = {"ip",  "sub.ip",    "dn",     "v6",
                                                  "v6b", "empty-sub", "shadow", "bl"};
  std::string rel;
  for (const std::string& l : labels) rel += (rel.empty() ? "" : ".") + l;
  return kSubZones.contains(rel);
}

class DumpServedByNsdTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    if (access(kNsd, X_OK) != 0) return;
    g_env = new NsdEnv();
    g_env->Start();
  }
  static void TearDownTestSuite() {
    delete g_env;
    g_env = nullptr;
  }
  void SetUp() override {
    if (g_env == nullptr) GTEST_SKIP() << kNsd << " is not installed (apt-get install nsd)";
    ASSERT_TRUE(g_env->error().empty()) << g_env->error();
  }
};

TEST_P(DumpServedByNsdTest, NsdCheckzoneAcceptsTheDump) {
  const std::string key = GetParam();
  const std::string dir = g_env->dir();
  const int rc = RunProgram(kNsdCheckzone, {key + ".test", dir + "/" + key + ".zone"},
                            dir + "/check.out", dir + "/check.err");
  EXPECT_EQ(rc, 0) << ReadWholeFile(dir + "/check.out") << ReadWholeFile(dir + "/check.err");
}

TEST_P(DumpServedByNsdTest, NsdAnswersLikeMeshbld) {
  const std::string key = GetParam();
  const auto it = g_env->gen().queries().find(key);
  ASSERT_NE(it, g_env->gen().queries().end());
  int compared = 0, mismatches = 0, allowed = 0;
  std::uint16_t id = 0;
  for (const TestQuery& tq : it->second) {
    if (!Comparable(key, tq)) continue;
    // The apex of a zone without $SOA: NSD serves the SOA the test added.
    if (Lower(tq.name) == key + ".test" &&
        (g_env->synthetic_soa().contains(key) || tq.qtype == kAny)) {
      continue;
    }
    const Bytes query = BuildQuery(WireQuery{.name = tq.name, .qtype = tq.qtype}, ++id);
    Bytes mine_raw, theirs_raw;
    ASSERT_TRUE(g_env->mesh().Exchange(query, 2000, &mine_raw)) << tq.name << ": no meshbld reply";
    ASSERT_TRUE(g_env->nsd().Exchange(query, 2000, &theirs_raw)) << tq.name << ": no NSD reply";
    const Decoded mine = Decode(mine_raw);
    Decoded theirs = Decode(theirs_raw);
    ASSERT_TRUE(mine.ok && theirs.ok) << tq.name;
    // An exclusion is `CNAME excluded`: it stands for NXDOMAIN, whatever
    // NSD finds when it follows it (nothing, or a wildcard that also
    // matches `excluded`).
    if (std::any_of(theirs.sections[0].begin(), theirs.sections[0].end(),
                    [](const Rec& r) { return r.type == kCname; })) {
      theirs.flags2 = static_cast<std::uint8_t>((theirs.flags2 & 0xf0) | LDNS_RCODE_NXDOMAIN);
      theirs.sections[0].clear();
    }
    ++compared;
    std::string why;
    const bool mine_nodata = mine.rcode() == LDNS_RCODE_NOERROR && Records(mine).empty();
    if (mine.rcode() != theirs.rcode()) {
      if (mine_nodata && theirs.rcode() == LDNS_RCODE_NXDOMAIN &&
          (IsEmptyNonTerminal(g_env->gen(), tq.name) || IsSubZoneApex(key, tq.name))) {
        ++allowed;
        continue;
      }
      why = absl::StrFormat("RCODE: meshbld %d, NSD %d", mine.rcode(), theirs.rcode());
    } else if (tq.qtype != kAny && Records(mine) != Records(theirs)) {
      why = "A/TXT/MX records";
    }
    if (why.empty()) continue;
    if (++mismatches <= kMaxReported) {
      ADD_FAILURE() << tq.name << " " << TypeText(tq.qtype) << ": " << why << "\n"
                    << Show("meshbld", true, mine) << Show("NSD serving the dump", true, theirs);
    }
  }
  std::printf("[ %s ] %d questions compared, %d allowed NODATA/NXDOMAIN, %d differ\n", key.c_str(),
              compared, allowed, mismatches);
  EXPECT_EQ(mismatches, 0);
  EXPECT_GE(compared, 40) << "too few comparable questions: the test would prove little";
}

INSTANTIATE_TEST_SUITE_P(EveryDatasetType, DumpServedByNsdTest, ::testing::ValuesIn(kKeys),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace meshbl::integration
