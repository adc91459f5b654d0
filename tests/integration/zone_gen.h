// Deterministic rbldnsd data generator shared by the integration tests
// (differential_test: meshbl's library against rbldnsd; wire_differential_test:
// the meshbld binary against rbldnsd on the wire).
//
// Generator::Run() writes data files of every dataset type (ip4set, ip4tset,
// ip4trie, ip6trie, ip6tset, dnset, generic, combined, acl, several datasets
// in one zone, an expired zone) into a directory, and fills the rbldnsd
// command-line zone specs and the questions to ask, keyed by test (the
// zone's first label, or "routing" for unserved names). Everything comes from
// one std::mt19937 with a fixed seed: the same files and questions each run.
//
// It also indexes the names the data can answer (possible_names(),
// ip4_zones(), ip6_zones()), so a test can tell an empty non-terminal (a
// proper parent of such a name) from a name that does not exist.
#ifndef MESHBL_TESTS_INTEGRATION_ZONE_GEN_H_
#define MESHBL_TESTS_INTEGRATION_ZONE_GEN_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"

namespace meshbl::integration {

using U128 = unsigned __int128;

inline constexpr std::uint32_t kSeed = 20240611;

inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kNs = 2;
inline constexpr std::uint16_t kCname = 5;
inline constexpr std::uint16_t kSoa = 6;
inline constexpr std::uint16_t kPtr = 12;
inline constexpr std::uint16_t kMx = 15;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
inline constexpr std::uint16_t kAny = 255;

struct TestQuery {
  std::string name;  // presentation form, no trailing dot
  std::uint16_t qtype;
  bool class_any = false;  // QCLASS ANY (255) instead of IN
};

struct Range4 {
  std::uint32_t lo, hi;
};

struct Range6 {
  U128 lo, hi;
};

// ---------------------------------------------------------------------------
// Address text helpers.

inline std::string Ip4Text(std::uint32_t ip) {
  return absl::StrFormat("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255u, (ip >> 8) & 255u, ip & 255u);
}

// The reversed query name of `ip` under `zone`.
inline std::string Ip4Name(std::uint32_t ip, const std::string& zone) {
  return absl::StrFormat("%u.%u.%u.%u.%s", ip & 255u, (ip >> 8) & 255u, (ip >> 16) & 255u, ip >> 24,
                         zone);
}

inline std::uint32_t Mask4(int len) { return len == 0 ? 0 : ~std::uint32_t{0} << (32 - len); }

inline U128 Mask6(int len) { return len == 0 ? 0 : ~U128{0} << (128 - len); }

inline std::uint16_t Group(U128 a, int i) {
  return static_cast<std::uint16_t>(a >> (112 - 16 * i));
}

// RFC 5952 text (inet_ntop).
inline std::string Ip6Text(U128 a) {
  in6_addr addr;
  for (int i = 0; i < 16; ++i) addr.s6_addr[i] = static_cast<std::uint8_t>(a >> (120 - 8 * i));
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &addr, buf, sizeof buf);
  return buf;
}

// All eight groups, no `::`.
inline std::string Ip6Full(U128 a) {
  std::string s;
  for (int i = 0; i < 8; ++i) absl::StrAppendFormat(&s, "%s%x", i ? ":" : "", Group(a, i));
  return s;
}

// The 32-nibble reversed query name of `a` under `zone`.
inline std::string Ip6Name(U128 a, const std::string& zone) {
  std::string s;
  for (int i = 0; i < 32; ++i) {
    absl::StrAppendFormat(&s, "%x.", static_cast<unsigned>((a >> (4 * i)) & 15u));
  }
  return s + zone;
}

inline std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------------------
// Data and question generator.

class Generator {
 public:
  explicit Generator(std::string dir) : dir_(std::move(dir)), rng_(kSeed) {}

  // Writes every data file into the directory and fills specs() and
  // queries(). Deterministic: the same files and questions on every run.
  void Run() {
    GenGlobalAcl();
    GenIp4Set();
    GenIp4TSet();
    GenIp4Trie();
    GenIp6Trie();
    GenIp6TSet();
    GenDnSet();
    GenGeneric();
    GenCombined();
    GenMulti();
    GenAclZones();
    GenExpired();
    GenRouting();
    IndexNames();
  }

  // rbldnsd command-line zone specs, in command-line order.
  const std::vector<std::string>& specs() const { return specs_; }
  // Questions per test key (the zone's first label, or "routing").
  const std::map<std::string, std::vector<TestQuery>>& queries() const { return queries_; }
  // Lowercased fully qualified names (no trailing dot) that hold data or are
  // served zones / sub-zones: their proper parents are empty non-terminals.
  const std::set<std::string>& possible_names() const { return possible_names_; }
  // Zones and sub-zones whose names are reversed IPv4 (1-4 decimal labels;
  // IPv4 zones also answer 32-nibble 6to4 / v4-mapped names) or IPv6
  // (nibble labels) addresses.
  const std::vector<std::string>& ip4_zones() const { return ip4_zones_; }
  const std::vector<std::string>& ip6_zones() const { return ip6_zones_; }

 private:
  std::uint32_t Rand(std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_);
  }
  bool Chance(std::uint32_t percent) { return Rand(0, 99) < percent; }
  U128 Rand128() {
    U128 v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 32) | rng_();
    return v;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Rand(0, static_cast<std::uint32_t>(v.size() - 1))];
  }

  std::string Write(const std::string& file, const std::string& text) {
    const std::string path = dir_ + "/" + file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    chmod(path.c_str(), 0644);
    return path;
  }

  void Add(const std::string& key, std::string name, std::uint16_t qtype) {
    if (Chance(4)) {  // rbldnsd and meshbl both match names case-insensitively
      for (char& c : name) {
        if (Chance(50)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    // QCLASS ANY is answered like IN but without AA (§5 step 5).
    const bool class_any = Chance(2);
    queries_[key].push_back({std::move(name), qtype, class_any});
  }

  std::uint16_t OtherType() {
    static const std::vector<std::uint16_t> kTypes = {kMx, kAaaa, kNs, kSoa, kPtr, kCname, kAny};
    return Pick(kTypes);
  }

  // A and TXT for a data name, sometimes ANY or another type.
  void AddDataQueries(const std::string& key, const std::string& name) {
    Add(key, name, kA);
    Add(key, name, kTxt);
    if (Chance(8)) Add(key, name, kAny);
    if (Chance(6)) Add(key, name, OtherType());
  }

  void AddApexQueries(const std::string& key, const std::string& zone) {
    for (std::uint16_t t : {kA, kTxt, kNs, kSoa, kMx, kAaaa, kAny, kPtr}) Add(key, zone, t);
  }

  void AddIp4Points(const std::string& key, const std::string& zone,
                    const std::vector<Range4>& ranges) {
    for (const Range4& r : ranges) {
      std::vector<std::uint32_t> pts = {r.lo, r.hi};
      if (r.lo > 0) pts.push_back(r.lo - 1);
      if (r.hi < 0xffffffffu) pts.push_back(r.hi + 1);
      if (r.hi > r.lo) pts.push_back(r.lo + Rand(0, r.hi - r.lo));
      for (std::uint32_t p : pts) AddDataQueries(key, Ip4Name(p, zone));
    }
  }

  void AddIp6Points(const std::string& key, const std::string& zone,
                    const std::vector<Range6>& ranges) {
    for (const Range6& r : ranges) {
      std::vector<U128> pts = {r.lo, r.hi};
      if (r.lo > 0) pts.push_back(r.lo - 1);
      if (r.hi != ~U128{0}) pts.push_back(r.hi + 1);
      if (r.hi > r.lo) pts.push_back(r.lo + (Rand128() & (r.hi - r.lo)));
      for (U128 p : pts) AddDataQueries(key, Ip6Name(p, zone));
    }
  }

  // Names in an IPv4 zone that are not plain IPv4 questions.
  void AddIp4Extras(const std::string& key, const std::string& zone,
                    const std::vector<Range4>& ranges) {
    AddApexQueries(key, zone);
    for (const char* rel : {"foo", "1.2.3", "1.2.3.4.5", "256.0.0.10", "003.002.001.010",
                            "0003.2.1.10", "a.b.c.d", "x.1.2.3.10", "3.2.1", "*.2.1.10"}) {
      AddDataQueries(key, std::string(rel) + "." + zone);
    }
    for (std::size_t i = 0; i < ranges.size() && i < 12; ++i) {
      const U128 v4 = ranges[i].lo;
      // 6to4 (mapped to IPv4), v4-mapped (mapped), v4-compatible (not mapped).
      AddDataQueries(key, Ip6Name((U128{0x2002} << 112) | (v4 << 80) | Rand(0, 65535), zone));
      AddDataQueries(key, Ip6Name((U128{0xffff} << 32) | v4, zone));
      AddDataQueries(key, Ip6Name(v4, zone));
    }
    AddDataQueries(key, Upper(Ip6Name((U128{0x2002} << 112) | (U128{ranges[0].lo} << 80), zone)));
  }

  static std::string Soa(const std::string& zone, const std::string& ttl, const std::string& serial,
                         const std::string& minimum) {
    // Mixed letter case: both servers keep it (compressed parts take the
    // question's).
    return absl::StrFormat("$SOA %s ns1.%s. HostMaster.%s. %s 2h 30m 1w %s\n", ttl, zone, zone,
                           serial, minimum);
  }

  // A value after an ip4set/ip4trie/ip6trie key (§3), or nothing.
  std::string IpValue() {
    switch (Rand(0, 23)) {
      case 0:
        return " :3:Listed $";
      case 1:
        return " :4:Listed $ by $1 and $2";
      case 2:
        return ":5:Cost $$5 for $";  // directly after the key
      case 3:
        return " :6:";
      case 4:
        return " :7";
      case 5:
        return " Text only for $ with #hash; semi";
      case 6:
        return " :127.0.0.8:Var nine $9 undefined $7 end $";
      case 7:
        return " :10.9:two-part A $=";
      case 8:
        return Chance(30) ? " :3:" + std::string(240, 'L') + " $" : " :3:short";
      case 9:
        return " # a comment means the default";
      case 10:
        return " :4:  leading blanks";
      case 11:
        return " :2:dup-prone";
      case 12:
        return " :3:Listed $";
      default:
        return "";
    }
  }

  // One random ip4set line inside net.{0..3}.{0..15}.*; appends its range.
  std::string Ip4SetLine(std::uint32_t net, std::vector<Range4>* ranges) {
    const std::uint32_t x = Rand(0, 3), y = Rand(0, 15);
    const std::uint32_t base = net | (x << 16) | (y << 8);
    const std::string p2 = absl::StrFormat("%u.%u", net >> 24, ((net >> 16) & 255u) + x);
    const std::string p3 = absl::StrFormat("%s.%u", p2, y);
    std::string key;
    std::uint32_t lo, hi;
    const std::uint32_t k = Rand(0, 99);
    if (k < 32) {
      lo = hi = base | Rand(0, 255);
      key = Ip4Text(lo);
    } else if (k < 47) {
      lo = base;
      hi = base | 255u;
      key = p3;
    } else if (k < 49) {
      lo = base & 0xffff0000u;
      hi = lo | 0xffffu;
      key = p2;
    } else if (k < 63) {
      const int len = static_cast<int>(Rand(17, 31));
      lo = (base | Rand(0, 255)) & Mask4(len);
      hi = lo | ~Mask4(len);
      key = absl::StrFormat("%s/%d", Ip4Text(lo), len);
    } else if (k < 73) {
      lo = base | Rand(0, 255);
      hi = lo + Rand(1, 700);
      key = Ip4Text(lo) + "-" + Ip4Text(hi);
    } else if (k < 78) {
      const std::uint32_t y2 = y + Rand(0, 3);
      lo = base;
      hi = (base & 0xffff0000u) | (y2 << 8) | 255u;
      key = absl::StrFormat("%s-%s.%u", p3, p2, y2);
    } else if (k < 86) {
      const std::uint32_t z1 = Rand(0, 250), z2 = z1 + Rand(0, 5);
      lo = base | z1;
      hi = base | z2;
      key = absl::StrFormat("%s.%u-%u", p3, z1, z2);
    } else {
      const std::uint32_t y2 = y + Rand(0, 2);
      lo = base;
      hi = (base & 0xffff0000u) | (y2 << 8) | 255u;
      key = absl::StrFormat("%s-%u", p3, y2);
    }
    ranges->push_back({lo, hi});
    if (Chance(18)) return (Chance(50) ? "! " : "!") + key + (Chance(20) ? " :3:ignored" : "");
    return key + IpValue();
  }

  void Fixed4(std::string* file, const std::string& line, std::uint32_t lo, std::uint32_t hi,
              std::vector<Range4>* ranges) {
    *file += line + "\n";
    ranges->push_back({lo, hi});
  }

  static std::uint32_t Ip(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
  }

  void GenGlobalAcl() {
    // Nothing here matches the client 127.0.0.1. Keywords need a `:` or `=`
    // (§4.9); a bare word is TXT for an "always listed" value.
    const std::string p = Write("global.acl",
                                "# global acl\n"
                                "10.0.0.0/8\n"
                                "192.0.2.0/24 :refuse\n"
                                "198.51.100.7 :3:always $\n"
                                "2001:db8::/32 =ignore\n"
                                "::1 :refuse\n"
                                "127.0.0.2 :ignore\n"
                                "127.0.0.0/32 :refuse\n"
                                "127.1.0.0/16 :empty\n"
                                "127.2.0.0/16 refuse\n");
    specs_.push_back(":acl:" + p);
  }

  void GenIp4Set() {
    const std::string z = "ip4set.test";
    std::vector<Range4>& r = ip4set_ranges_;
    std::string a = "# ip4set, first file\n$TTL 1200\n" + Soa(z, "0", "2024010101", "300") +
                    "$NS 0 NS1.IP4set.test. Ns2.Example.net. -ns3.example.net.\n"
                    "$1 one\n$2 two-$\n$9 nine\n:7:Default $ ($1)\n";
    static const std::vector<std::string> kDefaults = {
        ":8:Default two $2", ":9", ":10.0.0.5:", ":6:  Default with blanks $$ $", ":bogus"};
    for (int i = 0; i < 200; ++i) {
      if (i % 45 == 44) a += Pick(kDefaults) + "\n";
      a += Ip4SetLine(Ip(10, 0, 0, 0), &r) + "\n";
    }
    const std::uint32_t n = Ip(10, 250, 0, 0);
    Fixed4(&a, "10.250.0.1:9:direct colon value $", n | 1, n | 1, &r);
    Fixed4(&a, "10.250.0.2 :10.6:inet_aton two parts", n | 2, n | 2, &r);
    Fixed4(&a, "10.250.0.3 :10.0.7:three parts", n | 3, n | 3, &r);
    Fixed4(&a, "10.250.0.4 :127.0.0.8:full quad", n | 4, n | 4, &r);
    Fixed4(&a, "10.250.0.5 ; semicolon comment", n | 5, n | 5, &r);
    Fixed4(&a, "10.250.0.7 :4:", n | 7, n | 7, &r);
    Fixed4(&a, "10.250.0.10 :0:zero is invalid", n | 10, n | 10, &r);
    Fixed4(&a, "10.250.0.11 :3 junk", n | 11, n | 11, &r);
    Fixed4(&a, "10.250.0.12 :256:bad", n | 12, n | 12, &r);
    Fixed4(&a, "172", Ip(172, 0, 0, 0), Ip(172, 0, 0, 0), &r);
    Fixed4(&a, "10.250.0.300", n | 255, n | 255, &r);
    Fixed4(&a, "10.250.1.9-3", n | 0x103, n | 0x109, &r);
    Fixed4(&a, "10.250.2.1/24", n | 0x200, n | 0x2ff, &r);
    Fixed4(&a, "010.250.003.001 :3:leading zeros", n | 0x301, n | 0x301, &r);
    Fixed4(&a, "10.250.4.0/33", n | 0x400, n | 0x400, &r);
    Fixed4(&a, "! 10.250.5.0/24", n | 0x500, n | 0x5ff, &r);
    Fixed4(&a, "10.250.6.0/25 :3:half", n | 0x600, n | 0x67f, &r);
    Fixed4(&a, "10.250.6.77 :4:single inside the half", n | 0x64d, n | 0x64d, &r);
    Fixed4(&a, "!10.250.7.0/25", n | 0x700, n | 0x77f, &r);
    Fixed4(&a, "10.250.7.5 :3:excluded by the /25", n | 0x705, n | 0x705, &r);
    Fixed4(&a, "10.250.8.0/24 :3:a", n | 0x800, n | 0x8ff, &r);
    Fixed4(&a, "10.250.8.0/24 :4:b", n | 0x800, n | 0x8ff, &r);
    Fixed4(&a, "10.250.8 :3:a", n | 0x800, n | 0x8ff, &r);
    Fixed4(&a, "10.250.9.1 :2:listed inside an excluded /24", n | 0x901, n | 0x901, &r);
    Fixed4(&a, "!10.250.9", n | 0x900, n | 0x9ff, &r);
    Fixed4(&a, "11.0.0.0/8 :5:slash eight", Ip(11, 0, 0, 0), Ip(11, 255, 255, 255), &r);
    Fixed4(&a, "12/8", Ip(12, 0, 0, 0), Ip(12, 255, 255, 255), &r);
    Fixed4(&a, "13.1-13.3 :3:two-octet range", Ip(13, 1, 0, 0), Ip(13, 3, 255, 255), &r);
    Fixed4(&a, "13.10-20 :3:two-octet suffix range", Ip(13, 10, 0, 0), Ip(13, 20, 255, 255), &r);
    Fixed4(&a, "12.5.5.5 :4:deeper than the /8", Ip(12, 5, 5, 5), Ip(12, 5, 5, 5), &r);

    std::string b = "# ip4set, second file: the default resets to 127.0.0.2 without TXT\n";
    for (int i = 0; i < 40; ++i) b += Ip4SetLine(Ip(10, 0, 0, 0), &r) + "\n";
    b += ":3:file two default $\n";
    for (int i = 0; i < 40; ++i) b += Ip4SetLine(Ip(10, 0, 0, 0), &r) + "\n";
    b += "$MAXRANGE4 65536\n";
    Fixed4(&b, "10.200.0.0/15 :3:over maxrange", Ip(10, 200, 0, 0), Ip(10, 201, 255, 255), &r);
    Fixed4(&b, "10.202.0.0/16 :4:at maxrange", Ip(10, 202, 0, 0), Ip(10, 202, 255, 255), &r);
    b += "$MAXRANGE4 /8\n10.100.0.0/12 :3:maxrange cannot be raised\n$TTL 900\n";
    r.push_back({Ip(10, 96, 0, 0), Ip(10, 111, 255, 255)});

    ip4set_spec_ = "ip4set:" + Write("ip4set-1.txt", a) + "," + Write("ip4set-2.txt", b);
    specs_.push_back(z + ":" + ip4set_spec_);
    AddIp4Points("ip4set", z, r);
    AddIp4Extras("ip4set", z, r);
  }

  void GenIp4TSet() {
    const std::string z = "ip4tset.test";
    std::vector<Range4>& r = ip4tset_ranges_;
    // No $NS: NS and ANY at the apex are REFUSED.
    std::string a = "$TTL 45m\n" + Soa(z, "0", "7", "2m") +
                    "$1 tset-var\n:3:tset $ listed $1\n:4:second default is ignored\n";
    for (int i = 0; i < 200; ++i) {
      const std::uint32_t start = Ip(10, 20, Rand(0, 3), Rand(0, 250));
      const std::uint32_t run = Chance(25) ? Rand(2, 4) : 1;
      for (std::uint32_t k = 0; k < run; ++k) {
        a += Ip4Text(start + k) + (Chance(10) ? " :5:value is ignored" : "") + "\n";
        if (Chance(5)) a += Ip4Text(start + k) + "\n";
      }
      r.push_back({start, start + run - 1});
    }
    Fixed4(&a, "!10.20.9.1", Ip(10, 20, 9, 1), Ip(10, 20, 9, 1), &r);
    Fixed4(&a, "10.20.9", Ip(10, 20, 9, 0), Ip(10, 20, 9, 255), &r);
    Fixed4(&a, "10.20.10.0/24", Ip(10, 20, 10, 0), Ip(10, 20, 10, 255), &r);
    Fixed4(&a, "10.20.11.1-10.20.11.5", Ip(10, 20, 11, 1), Ip(10, 20, 11, 5), &r);
    Fixed4(&a, "10.20.12.1:7:direct value ignored", Ip(10, 20, 12, 1), Ip(10, 20, 12, 1), &r);
    std::string b = ":6:file two default is ignored too\n";
    for (int i = 0; i < 60; ++i) {
      const std::uint32_t ip = Ip(10, 20, Rand(4, 5), Rand(0, 255));
      b += Ip4Text(ip) + "\n";
      r.push_back({ip, ip});
    }
    b += "$TTL 77\n";
    ip4tset_spec_ = "ip4tset:" + Write("ip4tset-1.txt", a) + "," + Write("ip4tset-2.txt", b);
    specs_.push_back(z + ":" + ip4tset_spec_);
    AddIp4Points("ip4tset", z, r);
    AddIp4Extras("ip4tset", z, r);
  }

  std::string TrieValue() {
    switch (Rand(0, 11)) {
      case 0:
        return " :4:";
      case 1:
        return " :5:$ plain";
      case 2:
        return " =bypass $= and $";
      case 3:
        return " =";
      case 4:
        return " :6:with base $1 $0";
      case 5:
        return " text only";
      case 6:
        return " :7";
      case 7:
        return " :3:$$ $5 $";
      default:
        return "";
    }
  }

  void GenIp4Trie() {
    const std::string z = "ip4trie.test";
    std::vector<Range4> r;
    std::string a = Soa(z, "1h", "2024020202", "10m") +
                    "$NS 2h ns1.ip4trie.test. ns2.example.net.\n$TTL 1800\n"
                    "$TIMESTAMP 2020:01:01 2099:12:31\n"
                    "$= [$=] lookup http://example.com/q?$\n$0 zero\n$5 five\n"
                    ":3:trie default $0\n"
                    "0/0 :2:everywhere $\n!10.0.0.0/8\n10.30.0.0/16 :3:base $5\n";
    struct Pfx {
      std::uint32_t addr;
      int len;
    };
    std::vector<Pfx> pfx = {{Ip(10, 30, 0, 0), 16}};
    std::vector<std::string> keys;
    for (int i = 0; i < 220; ++i) {
      const Pfx parent = Pick(pfx);
      if (parent.len >= 32) continue;
      const int len = std::min(32, parent.len + static_cast<int>(Rand(1, 8)));
      const std::uint32_t addr =
          (parent.addr | (static_cast<std::uint32_t>(rng_()) & ~Mask4(parent.len))) & Mask4(len);
      std::string key;
      if (len == 32 && Chance(50)) {
        key = Ip4Text(addr);
      } else if (len == 24 && Chance(50)) {
        key = absl::StrFormat("%u.%u.%u", addr >> 24, (addr >> 16) & 255u, (addr >> 8) & 255u);
      } else {
        key = absl::StrFormat("%s/%d", Ip4Text(addr), len);
      }
      if (Chance(30)) {
        a += "!" + key + "\n";
      } else {
        a += key + TrieValue() + "\n";
      }
      if (Chance(6) && !keys.empty()) a += Pick(keys) + " :5:duplicate, first wins\n";
      keys.push_back(key);
      pfx.push_back({addr, len});
      r.push_back({addr, addr | ~Mask4(len)});
    }
    Fixed4(&a, "10.30.1.1-10.30.1.5 :3:ranges are invalid in a trie", Ip(10, 30, 1, 1),
           Ip(10, 30, 1, 5), &r);
    Fixed4(&a, "10.31.0.1/24", Ip(10, 31, 0, 0), Ip(10, 31, 0, 255), &r);
    Fixed4(&a, "10", Ip(10, 0, 0, 0), Ip(10, 0, 0, 0), &r);
    Fixed4(&a, "192.0.2.0/24 :4:outside ten", Ip(192, 0, 2, 0), Ip(192, 0, 2, 255), &r);
    Fixed4(&a, "!192.0.2.128/25", Ip(192, 0, 2, 128), Ip(192, 0, 2, 255), &r);
    Fixed4(&a, "192.0.2.200 :5:inside the exclusion", Ip(192, 0, 2, 200), Ip(192, 0, 2, 200), &r);
    r.push_back({0, 0});
    r.push_back({0xffffffffu, 0xffffffffu});
    r.push_back({Ip(10, 99, 0, 1), Ip(10, 99, 0, 1)});
    specs_.push_back(z + ":ip4trie:" + Write("ip4trie.txt", a));
    AddIp4Points("ip4trie", z, r);
    AddIp4Extras("ip4trie", z, r);
  }

  void GenIp6Trie() {
    const std::string z = "ip6trie.test";
    std::vector<Range6>& r = ip6trie_ranges_;
    std::string a = Soa(z, "0", "99", "1m") +
                    "$NS 0 ns1.ip6trie.test.\n$TTL 600\n$1 six\n:3:v6 listed $\n"
                    "2001:db8::/32 :2:documentation $\n";
    struct Pfx {
      U128 addr;
      int len;
    };
    const U128 doc = U128{0x20010db8} << 96;
    std::vector<Pfx> pfx = {{doc, 32}};
    for (int i = 0; i < 200; ++i) {
      const Pfx parent = Pick(pfx);
      if (parent.len >= 128) continue;
      const int len = std::min(128, parent.len + static_cast<int>(Rand(1, 24)));
      const U128 addr = (parent.addr | (Rand128() & ~Mask6(parent.len))) & Mask6(len);
      std::string key;
      if (len == 128) {
        key = Chance(50) ? Ip6Text(addr) : Ip6Full(addr);
      } else if (len % 16 == 0 && Chance(40)) {
        for (int g = 0; g < len / 16; ++g) {
          absl::StrAppendFormat(&key, "%s%x", g ? ":" : "", Group(addr, g));
        }
      } else {
        key = absl::StrFormat("%s/%d", Chance(70) ? Ip6Text(addr) : Ip6Full(addr), len);
      }
      if (Chance(10)) key = Upper(key);
      if (Chance(30)) {
        a += "!" + key + "\n";
      } else {
        a += key + IpValue() + "\n";
      }
      pfx.push_back({addr, len});
      r.push_back({addr, addr | ~Mask6(len)});
    }
    a += "1:2:3:4:5:6:7:8:9\n2001\n2001:db8::1/64\n2001:db8::/129\n:4:new default $\n"
         "2001:db8:ffff::/48\n!2001:db8:ffff:1::/64\n2001:db8:ffff:1::1 :5:inside the exclusion\n"
         "::1 :6:loopback $\n";
    const U128 ffff = doc | (U128{0xffff} << 80);
    r.push_back({(U128{0x00010002} << 96) | (U128{0x00030004} << 64) | (U128{0x00050006} << 32) |
                     0x00070008,
                 (U128{0x00010002} << 96) | (U128{0x00030004} << 64) | (U128{0x00050006} << 32) |
                     0x00070008});
    r.push_back({ffff, ffff | ~Mask6(48)});
    r.push_back({ffff | (U128{1} << 64), ffff | (U128{1} << 64) | ~Mask6(64)});
    r.push_back({ffff | (U128{1} << 64) | 1, ffff | (U128{1} << 64) | 1});
    r.push_back({1, 1});
    ip6trie_spec_ = "ip6trie:" + Write("ip6trie.txt", a);
    specs_.push_back(z + ":" + ip6trie_spec_);
    AddApexQueries("ip6trie", z);
    AddIp6Points("ip6trie", z, r);
    for (const char* rel : {"foo", "4.3.2.1", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
                            "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
                            "00.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"}) {
      AddDataQueries("ip6trie", std::string(rel) + "." + z);
    }
    AddDataQueries("ip6trie", Upper(Ip6Name(r[3].lo, z)));
  }

  void GenIp6TSet() {
    const std::string z = "ip6tset.test";
    std::vector<Range6> r;
    std::string a = Soa(z, "0", "5", "45") + "$NS 0 ns1.ip6tset.test. ns2.example.net.\n" +
                    "$1 six\n:4:v6 tset $ $1\n";
    std::vector<U128> nets;
    for (int i = 0; i < 150; ++i) {
      const std::uint32_t x = Rand(0, 3), y = Rand(0, 60);
      const U128 net = (U128{0x20010db8} << 96) | (U128{x} << 80) | (U128{y} << 64);
      std::string key = absl::StrFormat("2001:db8:%x:%x", x, y);
      if (Chance(10)) key = absl::StrFormat("2001:0DB8:%04x:%04X", x, y);
      a += key + (Chance(10) ? " :5:value is ignored" : "") + "\n";
      nets.push_back(net);
      r.push_back({net, net | ~Mask6(64)});
      const U128 next = (net + (U128{1} << 64)) | (Rand128() & ~Mask6(64));
      r.push_back({next, next});
    }
    for (int i = 0; i < 60; ++i) {
      const U128 host = Pick(nets) | (Chance(30) ? Rand(0, 3) : (Rand128() & ~Mask6(64)));
      a += '!';
      a += Chance(50) ? Ip6Text(host) : Ip6Full(host);
      a += '\n';
      r.push_back({host, host});
    }
    a += "2001:db8::/64\n2001:db8:1:2:3\n!2001:db8:1:2\n::1\n:5:second default ignored\n"
         "2001:db8:0:1:7:value ignored\n";
    specs_.push_back(z + ":ip6tset:" + Write("ip6tset.txt", a));
    AddApexQueries("ip6tset", z);
    AddIp6Points("ip6tset", z, r);
    AddDataQueries("ip6tset", "foo." + z);
    AddDataQueries("ip6tset", Ip4Name(Ip(10, 1, 2, 3), z));
  }

  std::string RandomName() {
    static const std::vector<std::string> kLabels = {"spam", "ham", "mail", "www",  "a",  "b",
                                                     "c",    "x-1", "bad",  "evil", "mx", "cdn"};
    static const std::vector<std::string> kSuffixes = {"example", "example.org", "foo.bar", "net",
                                                       "co.uk"};
    std::string name = Pick(kLabels);
    if (Chance(40)) name += "." + Pick(kLabels);
    return name + "." + Pick(kSuffixes);
  }

  std::string DnValue() {
    switch (Rand(0, 13)) {
      case 0:
        return " :4:";
      case 1:
        return " :5";
      case 2:
        return " :127.0.0.6:name is $";
      case 3:
        return " txt for $ only";
      case 4:
        return " :3:$1 $$ $";
      case 5:
        return " :2:two";
      case 6:
        return ":7:direct colon $";
      default:
        return "";
    }
  }

  void AddDnQueries(const std::string& key, const std::string& zone,
                    const std::vector<std::string>& bases) {
    for (const std::string& base : bases) {
      AddDataQueries(key, base + "." + zone);
      AddDataQueries(key, "x." + base + "." + zone);
      if (Chance(40)) AddDataQueries(key, "y.x." + base + "." + zone);
      const std::size_t dot = base.find('.');
      if (dot != std::string::npos && Chance(50)) {
        AddDataQueries(key, base.substr(dot + 1) + "." + zone);
      }
    }
  }

  void GenDnSet() {
    const std::string z = "dnset.test";
    std::vector<std::string>& bases = dn_bases_;
    std::string a = Soa(z, "0", "2024030303", "15m") +
                    "$NS 1d ns1.example.net. ns2.example.net.\n$TTL 30m\n$1 dn-one\n"
                    ":3:dn $ listed $1\n";
    for (int i = 0; i < 200; ++i) {
      const std::string base = RandomName();
      const std::uint32_t k = Rand(0, 99);
      const char* prefix = k < 40   ? ""
                           : k < 60 ? "*."
                           : k < 80 ? "."
                           : k < 88 ? "!"
                           : k < 94 ? "!*."
                                    : "!.";
      std::string text = base;
      if (Chance(10)) text = Upper(text);
      if (Chance(5)) text += ".";
      const bool excl = prefix[0] == '!';
      std::string line = prefix + text + (excl ? "" : DnValue());
      a += line + "\n";
      if (!excl && Chance(10)) a += prefix + text + DnValue() + " second value\n";
      bases.push_back(base);
      if (!excl && prefix[0] != '\0') dn_wild_bases_.push_back(base);  // `*.` or `.`
    }
    a += "*\n*.wild.example :4:wild $\n!*.wild.example\na.*.b :5:literal star $\n.\n*.\n"
         "x..y.example :6:empty label $\nesc\\.aped.example :7:escaped $\n"
         "ok.wild2.example\n*.wild2.example :4:w2 $\n!ok.wild2.example\n"
         ".both.example :5:both $\n!both.example\n*.deep.example\n!*.sub.deep.example\n"
         "sub.deep.example :6:plain under excluded wildcard\n";
    for (const char* b : {"wild.example", "wild2.example", "both.example", "deep.example"}) {
      dn_wild_bases_.push_back(b);  // the fixed `*.` and `.` lines above
    }
    for (const char* b : {"wild.example", "a.*.b", "x.y.example", "esc\\.aped.example",
                          "ok.wild2.example", "wild2.example", "both.example", "deep.example",
                          "sub.deep.example", "a.sub.deep.example"}) {
      bases.push_back(b);
    }
    std::string b =
        "spam.file-b.example\n*.file-b.example :3:b $\n:6:b default $\n"
        "ham.file-b.example\n" +
        Soa("other.test", "0", "1", "1") + "$TTL 20m\n";
    for (const char* n : {"spam.file-b.example", "ham.file-b.example", "x.file-b.example"}) {
      bases.push_back(n);
    }
    dnset_spec_ = "dnset:" + Write("dnset-1.txt", a) + "," + Write("dnset-2.txt", b);
    specs_.push_back(z + ":" + dnset_spec_);
    AddApexQueries("dnset", z);
    AddDnQueries("dnset", z, bases);
    for (const char* rel : {"*", "*.wild.example", "*.x.wild.example", "nothing.example", "co.uk",
                            "example", "1.2.3.4"}) {
      AddDataQueries("dnset", std::string(rel) + "." + z);
    }
    for (int i = 0; i < 60; ++i) AddDataQueries("dnset", "miss" + std::to_string(i) + "." + z);
  }

  std::string GenericLine(const std::string& name, std::string* type_used) {
    static const std::vector<std::string> kTtls = {"", "", "300 ", "5m ", "1h ", "0 ", "2d "};
    std::string line = name + " " + Pick(kTtls) + (Chance(50) ? "IN " : "");
    switch (Rand(0, 2)) {
      case 0:
        *type_used = "A";
        return line + (Chance(20) ? "a " : "A ") + Ip4Text(Ip(10, 50, Rand(0, 255), Rand(1, 254)));
      case 1:
        *type_used = "TXT";
        if (Chance(40)) return line + "TXT unquoted text " + std::to_string(Rand(0, 99999));
        return line + (Chance(20) ? "txt" : "TXT") + " \"quoted text " +
               std::to_string(Rand(0, 99999)) + "\"";
      default:
        *type_used = "MX";
        return line + "MX " + std::to_string(Rand(0, 65535)) + " mx" + std::to_string(Rand(0, 9)) +
               ".example.net.";
    }
  }

  void GenGeneric() {
    const std::string z = "generic.test";
    std::vector<std::string>& names = generic_names_;
    std::string a = Soa(z, "0", "2024040404", "20m") +
                    "$NS 0 nS1.Generic.TEST. ns2.example.net.\n$TTL 1h\n"
                    "@ A 127.0.0.2\n@ TXT \"apex text\"\n@ MX 10 mx.generic.test.\n"
                    "ns1 A 10.51.0.1\n"
                    "www 300 A 10.0.0.1\nwww IN A 10.0.0.2\nwww TXT \"hello world\"\n"
                    "mail MX 20 mx1.example.net.\nmail 5m IN MX 30 mx2.example.net\n"
                    "mail MX 40 Mixed.Case.Example.\na.b.c A 10.0.0.3\nftp AAAA ::1\n"
                    "ftp2 CNAME www\ntxt2 TXT unquoted text with \"quotes\" inside\n"
                    "txt3 TXT \"half quote\ntxt4 TXT \"\"\nUpper A 10.0.0.9\nttl0 0 A 10.0.0.5\n"
                    "dup A 10.0.0.7\ndup A 10.0.0.7\nshortip A 10.5\njunkip A 10.0.0.8 junk\n"
                    "$TTL 2h\nlate A 10.0.0.6\nlate2 0 TXT \"ttl zero after the second $TTL\"\n";
    for (const char* n : {"@",   "ns1",     "www",    "mail", "a.b.c", "b.c",   "c",
                          "ftp", "ftp2",    "txt2",   "txt3", "txt4",  "upper", "ttl0",
                          "dup", "shortip", "junkip", "late", "late2", "nope",  "x.www"}) {
      names.push_back(n);
    }
    static const std::vector<std::string> kLabels = {"host", "srv", "node", "db", "web"};
    for (int i = 0; i < 150; ++i) {
      std::string name = Pick(kLabels) + std::to_string(Rand(0, 60));
      if (Chance(25)) name += "." + Pick(kLabels);
      const std::uint32_t n = Rand(1, 3);
      std::string type;
      for (std::uint32_t k = 0; k < n; ++k) a += GenericLine(name, &type) + "\n";
      names.push_back(name);
    }
    generic_spec_ = "generic:" + Write("generic.txt", a);
    specs_.push_back(z + ":" + generic_spec_);
    AddApexQueries("generic", z);
    for (const std::string& n : names) {
      const std::string q = n == "@" ? z : n + "." + z;
      for (std::uint16_t t : {kA, kTxt, kMx, kAny}) Add("generic", q, t);
      if (Chance(30)) Add("generic", q, OtherType());
    }
  }

  void GenCombined() {
    const std::string z = "combined.test";
    std::vector<Range4> bl, trie;
    std::string a = Soa(z, "0", "0", "5m") +
                    "$NS 0 ns1.example.net. ns2.example.net.\n$TTL 10m\n$1 comb-one\n"
                    "$DATASET ip4set bl @\n:2:Blocked $ ($1)\n10.40.0.0/16\n!10.40.1.0/24\n"
                    "10.40.1.7 :3:exception inside the exclusion $1\n";
    bl.push_back({Ip(10, 40, 0, 0), Ip(10, 40, 255, 255)});
    bl.push_back({Ip(10, 40, 1, 0), Ip(10, 40, 1, 255)});
    bl.push_back({Ip(10, 40, 1, 7), Ip(10, 40, 1, 7)});
    for (int i = 0; i < 80; ++i) a += Ip4SetLine(Ip(10, 40, 0, 0), &bl) + "\n";
    a += "$DATASET dnset dn # comment after a blank\n$TTL 5m\n$1 nested-cannot-override\n"
         "$2 nested-two\n:3:name $ listed $1 $2\nspam.example\n*.wild.example\n.both.example\n"
         "!ok.wild.example\nmulti.example :4:first\nmulti.example :5:second\n"
         "$DATASET ip4trie:named sub.ip\n10.41.0.0/16 :4:trie $\n!10.41.5.0/24\n"
         "10.41.5.5 :5:inside $\n";
    trie.push_back({Ip(10, 41, 0, 0), Ip(10, 41, 255, 255)});
    trie.push_back({Ip(10, 41, 5, 0), Ip(10, 41, 5, 255)});
    trie.push_back({Ip(10, 41, 5, 5), Ip(10, 41, 5, 5)});
    a += "$DATASET generic @\ninfo A 10.0.0.1\ninfo TXT \"combined info\"\n"
         "@ MX 10 mx.combined.test.\n"
         "$DATASET ip6tset v6 v6b\n:5:v6 in combined $\n2001:db8:c0:1\n!2001:db8:c0:1::5\n"
         "$DATASET dnset shadow\nshadowed.name :3:never seen\n"
         "$DATASET ip4tset empty-sub\n"
         "$DATASET dnset\nignored.name\n"
         "$SOA 0 late.soa. is.ignored. 1 1 1 1 1\n";
    specs_.push_back(z + ":combined:" + Write("combined.txt", a));
    specs_.push_back("shadow." + z + ":dnset:" +
                     Write("shadow.txt", "other.name :4:from the command-line zone $\n"));
    const std::string k = "combined";
    AddApexQueries(k, z);
    AddIp4Points(k, z, bl);
    AddIp4Points(k, "sub.ip." + z, trie);
    AddApexQueries(k, "sub.ip." + z);
    AddApexQueries(k, "ip." + z);
    AddApexQueries(k, "dn." + z);
    AddApexQueries(k, "empty-sub." + z);
    AddDnQueries(k, "dn." + z,
                 {"spam.example", "wild.example", "ok.wild.example", "both.example",
                  "multi.example", "nothing.example"});
    for (const char* rel :
         {"info", "x.info", "nope", "ignored.name", "1.0.41.10.ip", "shadowed.name.shadow",
          "other.name.shadow", "shadow", "v6", "5.5.41.10.sub", "foo.empty-sub"}) {
      AddDataQueries(k, std::string(rel) + "." + z);
    }
    const U128 net = (U128{0x20010db8} << 96) | (U128{0xc0} << 80) | (U128{1} << 64);
    for (const std::string sub : {"v6.", "v6b."}) {
      for (U128 p : {net, net | 5, net | 6, net | ~Mask6(64), net + (U128{1} << 64)}) {
        AddDataQueries(k, Ip6Name(p, sub + z));
      }
    }
    AddApexQueries(k, "shadow." + z);
  }

  void GenMulti() {
    const std::string z = "multi.test";
    std::vector<Range4> r;
    std::string a = "$TTL 300\n" + Soa(z, "0", "11", "1m") + ":3:same $\n";
    std::string b = "$TTL 120\n" + Soa(z, "0", "22", "2m") +
                    "$NS 0 ns1.example.net.\n:3:same $\n10.60.0.128/25 :5:b\n10.60.2.0/24\n";
    a += "10.60.0.0/24\n10.60.1.1 :4:a\n";
    b += "10.60.0.0/24\n";
    r.push_back({Ip(10, 60, 0, 0), Ip(10, 60, 0, 255)});
    r.push_back({Ip(10, 60, 0, 128), Ip(10, 60, 0, 255)});
    r.push_back({Ip(10, 60, 1, 1), Ip(10, 60, 1, 1)});
    r.push_back({Ip(10, 60, 2, 0), Ip(10, 60, 2, 255)});
    for (int i = 0; i < 60; ++i) a += Ip4SetLine(Ip(10, 60, 0, 0), &r) + "\n";
    for (int i = 0; i < 30; ++i) {
      const int len = static_cast<int>(Rand(20, 32));
      const std::uint32_t addr = Ip(10, 60, Rand(0, 15), Rand(0, 255)) & Mask4(len);
      b += absl::StrFormat("%s%s/%d%s\n", Chance(20) ? "!" : "", Ip4Text(addr), len, TrieValue());
      r.push_back({addr, addr | ~Mask4(len)});
    }
    specs_.push_back(z + ":ip4set:" + Write("multi-a.txt", a));
    specs_.push_back(z + ":ip4trie:" + Write("multi-b.txt", b));
    AddIp4Points("multi", z, r);
    AddApexQueries("multi", z);
  }

  void GenAclZones() {
    // aclpass: nothing matches except a /32 `pass` beating a /8 `refuse`.
    const std::string pass = Write("pass.acl",
                                   "10.0.0.0/8 :refuse\n127.0.0.2 :ignore\n127.0.0.4/30 :empty\n"
                                   "127.0.1.0/24 :3:always\n::1 :refuse\n0.0.0.0/8 :refuse\n"
                                   "127.0.0.0/8 :refuse\n127.0.0.1/32 :pass\n");
    specs_.push_back("aclpass.test:" + ip4set_spec_);
    specs_.push_back("aclpass.test:" + dnset_spec_);
    specs_.push_back("aclpass.test:acl:" + pass);
    // aclrefuse: the acl comes first on the command line.
    const std::string refuse = Write("refuse.acl", "10.0.0.0/8 :pass\n127.0.0.0/8 =refuse\n");
    specs_.push_back("aclrefuse.test:acl:" + refuse);
    specs_.push_back("aclrefuse.test:" + ip4tset_spec_);
    // aclalways: every valid data question is listed with the ACL's value.
    const std::string always = Write(
        "always.acl", "$TTL 123\n127.0.0.0/24 :4:Always listed $ client\n10.0.0.0/8 :refuse\n");
    specs_.push_back("aclalways.test:" + ip4set_spec_);
    specs_.push_back("aclalways.test:" + dnset_spec_);
    specs_.push_back("aclalways.test:" + generic_spec_);
    specs_.push_back("aclalways.test:" + ip6trie_spec_);
    specs_.push_back("aclalways.test:acl:" + always);
    // aclempty: data datasets report nothing; generic, SOA and NS still answer.
    const std::string empty = Write("empty.acl", "127.0.0.1 :empty\n");
    specs_.push_back("aclempty.test:" + ip4set_spec_);
    specs_.push_back("aclempty.test:" + generic_spec_);
    specs_.push_back("aclempty.test:acl:" + empty);
    // aclword: a bare keyword is not a keyword but TXT: always listed.
    const std::string word = Write("word.acl", "127.0.0.0/8 refuse\n");
    specs_.push_back("aclword.test:" + ip4tset_spec_);
    specs_.push_back("aclword.test:acl:" + word);

    // acldrop: `blackhole` (= ignore): no reply at all.
    const std::string drop = Write("drop.acl", "127.0.0.1 :blackhole\n");
    specs_.push_back("acldrop.test:" + ip4tset_spec_);
    specs_.push_back("acldrop.test:acl:" + drop);
    for (std::uint16_t t : {kA, kTxt, kSoa, kNs}) Add("acldrop", "acldrop.test", t);
    AddDataQueries("acldrop", Ip4Name(ip4tset_ranges_[0].lo, "acldrop.test"));

    for (const std::string key : {"aclpass", "aclrefuse", "aclalways", "aclempty", "aclword"}) {
      const std::string z = key + ".test";
      AddApexQueries(key, z);
      std::vector<Range4> r(ip4set_ranges_.begin(), ip4set_ranges_.begin() + 40);
      if (key == "aclrefuse" || key == "aclword")
        r.assign(ip4tset_ranges_.begin(), ip4tset_ranges_.begin() + 20);
      AddIp4Points(key, z, r);
      std::vector<std::string> dn(dn_bases_.begin(), dn_bases_.begin() + 25);
      AddDnQueries(key, z, dn);
      for (std::size_t i = 0; i < 25 && i < generic_names_.size(); ++i) {
        const std::string& n = generic_names_[i];
        AddDataQueries(key, n == "@" ? z : n + "." + z);
        Add(key, n == "@" ? z : n + "." + z, kMx);
      }
      for (std::size_t i = 0; i < 15; ++i) {
        AddDataQueries(key, Ip6Name(ip6trie_ranges_[i].lo, z));
      }
      AddDataQueries(key, Ip6Name((U128{0xffff} << 32) | ip4set_ranges_[0].lo, z));
    }
  }

  void GenExpired() {
    const std::string z = "expired.test";
    specs_.push_back(z + ":ip4tset:" +
                     Write("expired.txt", Soa(z, "0", "1", "1m") +
                                              "$NS 0 ns1.example.net.\n"
                                              "$TIMESTAMP 2020:01:01 2021:01:01\n10.70.0.1\n"));
    AddApexQueries("expired", z);
    AddDataQueries("expired", Ip4Name(Ip(10, 70, 0, 1), z));
    AddDataQueries("expired", Ip4Name(Ip(10, 70, 0, 2), z));
  }

  void GenRouting() {
    for (const char* n : {"example.com", "test", "nonexistent.test", "xip4set.test",
                          "ip4set.test.example", "com", ".", "2.0.0.127.ip4set.test.net"}) {
      for (std::uint16_t t : {kA, kTxt, kSoa, kNs, kAny}) Add("routing", n, t);
    }
  }

  // Fills possible_names_, ip4_zones_ and ip6_zones_ from specs_ and the
  // names the Gen* functions recorded. Draws no random numbers.
  void IndexNames() {
    for (const std::string& spec : specs_) {
      const std::string zone = Lower(spec.substr(0, spec.find(':')));
      if (zone.empty()) continue;  // the global ACL
      const std::string rest = spec.substr(spec.find(':') + 1);
      const std::string type = rest.substr(0, rest.find(':'));
      possible_names_.insert(zone);
      if (type.rfind("ip4", 0) == 0) ip4_zones_.push_back(zone);
      if (type.rfind("ip6", 0) == 0) ip6_zones_.push_back(zone);
      if (rest == dnset_spec_) {
        for (const std::string& b : dn_bases_) possible_names_.insert(Lower(b) + "." + zone);
        // A wildcard's base is a parent of the names the wildcard lists.
        for (const std::string& b : dn_wild_bases_) {
          possible_names_.insert("x." + Lower(b) + "." + zone);
        }
      } else if (type == "dnset") {
        possible_names_.insert("other.name." + zone);  // the shadowing command-line zone
      }
      if (rest == generic_spec_) {
        for (const std::string& n : generic_names_) {
          if (n != "@") possible_names_.insert(Lower(n) + "." + zone);
        }
      }
      if (type == "combined") {  // GenCombined's $DATASET sub-zones and names
        ip4_zones_.push_back(zone);
        ip4_zones_.push_back("sub.ip." + zone);
        ip6_zones_.push_back("v6." + zone);
        ip6_zones_.push_back("v6b." + zone);
        for (const char* rel : {"sub.ip", "dn", "v6", "v6b", "shadow", "empty-sub", "info",
                                "spam.example.dn", "wild.example.dn", "both.example.dn",
                                "ok.wild.example.dn", "multi.example.dn", "shadowed.name.shadow"}) {
          possible_names_.insert(std::string(rel) + "." + zone);
        }
      }
    }
  }

  std::string dir_;
  std::mt19937 rng_;
  std::vector<std::string> specs_;
  std::map<std::string, std::vector<TestQuery>> queries_;
  std::string ip4set_spec_, ip4tset_spec_, ip6trie_spec_, dnset_spec_, generic_spec_;
  std::vector<Range4> ip4set_ranges_, ip4tset_ranges_;
  std::vector<Range6> ip6trie_ranges_;
  std::vector<std::string> dn_bases_, generic_names_;
  std::vector<std::string> dn_wild_bases_;  // dnset bases listed by `*.base` or `.base`
  std::set<std::string> possible_names_;
  std::vector<std::string> ip4_zones_, ip6_zones_;
};

// The labels of lowercase `n` relative to `zone` when `n` is strictly below
// it; false otherwise.
inline bool LabelsUnder(const std::string& n, const std::string& zone,
                        std::vector<std::string>* out) {
  if (n.size() <= zone.size() + 1 || n.compare(n.size() - zone.size(), zone.size(), zone) != 0 ||
      n[n.size() - zone.size() - 1] != '.') {
    return false;
  }
  const std::string rel = n.substr(0, n.size() - zone.size() - 1);
  out->clear();
  for (std::size_t at = 0;;) {
    const std::size_t dot = rel.find('.', at);
    out->push_back(rel.substr(at, dot == std::string::npos ? std::string::npos : dot - at));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  return true;
}

// True when `name` (any case, no trailing dot) is a proper parent of a name
// the generated data can answer: an empty non-terminal.
inline bool IsEmptyNonTerminal(const Generator& gen, const std::string& name) {
  const std::string n = Lower(name);
  for (const std::string& p : gen.possible_names()) {
    if (p.size() > n.size() + 1 && p.compare(p.size() - n.size(), n.size(), n) == 0 &&
        p[p.size() - n.size() - 1] == '.') {
      return true;
    }
  }
  auto labels_under = [&](const std::string& zone, std::vector<std::string>* out) {
    return LabelsUnder(n, zone, out);
  };
  // IP zones (docs/ARCHITECTURE.md, "Empty non-terminals"): 1-3 decimal
  // labels (an IPv4 prefix) or 1-31 nibble labels (an IPv6 prefix; IPv4
  // zones answer 32-nibble 6to4 / v4-mapped names too) have possible names
  // below them.
  auto decimal = [](const std::string& l) {
    return !l.empty() && l.size() <= 3 && l.find_first_not_of("0123456789") == std::string::npos;
  };
  auto nibble = [](const std::string& l) {
    return l.size() == 1 && std::isxdigit(static_cast<unsigned char>(l[0]));
  };
  std::vector<std::string> labels;
  for (const std::string& z : gen.ip4_zones()) {
    if (!labels_under(z, &labels)) continue;
    if (labels.size() <= 3 && std::all_of(labels.begin(), labels.end(), decimal)) return true;
    if (labels.size() <= 31 && std::all_of(labels.begin(), labels.end(), nibble)) return true;
  }
  for (const std::string& z : gen.ip6_zones()) {
    if (!labels_under(z, &labels)) continue;
    if (labels.size() <= 31 && std::all_of(labels.begin(), labels.end(), nibble)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Issue 9 families (answers): RRsets of 1 to 300 records for every dataset
// type that holds several values for one key, dnset names with every byte
// rbldnsd escapes in `$`, every ACL action (global and zone, chosen by the
// client address 127.0.0.X) over every dataset type, and random IP data for
// empty non-terminal precision. Deterministic (own seed); written next to
// Generator's files by its own Run().

// RRset sizes: every size up to 40, then both sides of every power of two
// and the sizes of the issue, up to 300.
inline std::vector<int> RrsetSizes() {
  std::vector<int> v;
  for (int n = 1; n <= 40; ++n) v.push_back(n);
  for (int n : {50, 63, 64, 65, 70, 100, 127, 128, 129, 150, 200, 255, 256, 257, 300}) {
    v.push_back(n);
  }
  return v;
}

// One name whose RRsets the family knows in full.
struct RrsetName {
  std::string name;  // presentation, no trailing dot
  int a = 0;         // distinct A RRs
  int txt = 0;       // distinct TXT RRs
};

// A zone of the ACL matrix: its dataset type and the names asked.
struct AclZone {
  std::string zone, type;
  std::vector<std::string> names;  // relative to the zone ("" = apex)
  // Names relative to the zone that exist for a passing client: listed
  // names (IP names as their reversed labels) and generic names. For the
  // empty non-terminal rule their proper parents exist too.
  std::vector<std::string> listed;
  std::vector<std::string> generic;   // generic names (an ACL hides none)
  std::vector<std::string> subzones;  // combined sub-zones (always exist)
  bool ip4 = false, ip6 = false;      // IPv4 / IPv6 data in the zone
};

// A client of the ACL matrix: its address and the ACL action it gets.
struct AclClient {
  std::string addr;    // 127.0.0.X
  std::string global;  // action of the global ACL ("pass" if none)
  std::string zone;    // action of every zone ACL ("pass" if none)
};

class AnswerFamilies {
 public:
  explicit AnswerFamilies(std::string dir) : dir_(std::move(dir)), rng_(kSeed + 9) {}

  void Run() {
    GenGlobalAcl();
    GenRrsets();
    GenEscapes();
    GenAclMatrix();
    GenEntPrecision();
  }

  const std::vector<std::string>& specs() const { return specs_; }
  const std::vector<RrsetName>& rrsets() const { return rrsets_; }
  // dnset names (presentation, \DDD escapes) whose TXT is `[$]`.
  const std::vector<std::string>& escape_names() const { return escape_names_; }
  const std::vector<AclZone>& acl_zones() const { return acl_zones_; }
  const std::vector<AclClient>& acl_clients() const { return acl_clients_; }
  // ENT precision zones: IPv4 or IPv6 data; entry boundaries (first address
  // of each piece of the listed set) and the prefixes asked.
  struct EntZone {
    std::string zone;
    bool v6 = false;
    std::set<U128> cuts;                         // IPv4 in the low 32 bits
    std::vector<std::pair<U128, int>> prefixes;  // address, labels (octets or nibbles)
  };
  const std::vector<EntZone>& ent_zones() const { return ent_zones_; }

 private:
  std::uint32_t Rand(std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_);
  }
  std::string Write(const std::string& file, const std::string& text) {
    const std::string path = dir_ + "/" + file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    chmod(path.c_str(), 0644);
    return path;
  }
  static std::string Head(const std::string& zone) {
    return absl::StrFormat("$SOA 0 ns1.%s. hostmaster.%s. 1 2h 30m 1w 60\n$NS 0 ns1.example.net.\n",
                           zone, zone);
  }
  // The i-th value of a name of `n` values: distinct A and TXT, TXT lengths
  // varying with n and i so that every size crosses message limits
  // differently.
  static std::string Value(int n, int i) {
    return absl::StrFormat(":127.1.%d.%d:t%d.%d %s", i >> 8, i & 255, n, i,
                           std::string(static_cast<std::size_t>((n * 7 + i * 3) % 50), 'x'));
  }

  void GenGlobalAcl() {
    // Clients 127.0.0.21..26 get each action from the global ACL; .31..36
    // from every zone ACL; .37: global always + zone empty (empty wins).
    acl_clients_ = {{"127.0.0.1", "pass", "pass"},       {"127.0.0.21", "empty", "pass"},
                    {"127.0.0.22", "refuse", "pass"},    {"127.0.0.23", "ignore", "pass"},
                    {"127.0.0.24", "blackhole", "pass"}, {"127.0.0.25", "always", "pass"},
                    {"127.0.0.26", "pass", "pass"},      {"127.0.0.31", "pass", "empty"},
                    {"127.0.0.32", "pass", "refuse"},    {"127.0.0.33", "pass", "ignore"},
                    {"127.0.0.34", "pass", "blackhole"}, {"127.0.0.35", "pass", "always"},
                    {"127.0.0.36", "pass", "pass"},      {"127.0.0.37", "always", "empty"}};
    specs_.push_back(":acl:" + Write("families-global.acl",
                                     "127.0.0.21 :empty\n127.0.0.22 :refuse\n127.0.0.23 :ignore\n"
                                     "127.0.0.24 :blackhole\n127.0.0.25 :4:global always $\n"
                                     "127.0.0.26 :pass\n127.0.0.37 :5:global always $\n"));
  }

  void GenRrsets() {
    const std::vector<int> sizes = RrsetSizes();
    // dnset: a plain name and a wildcard listed n times.
    {
      const std::string z = "rr-dnset.test";
      std::string t = Head(z) + "$TTL 300\n";
      for (int n : sizes) {
        for (int i = 0; i < n; ++i) {
          t += absl::StrFormat("n%d %s\n*.w%d %s\n", n, Value(n, i), n, Value(n, i));
        }
        rrsets_.push_back({absl::StrFormat("n%d.%s", n, z), n, n});
        rrsets_.push_back({absl::StrFormat("x.w%d.%s", n, z), n, n});
      }
      specs_.push_back(z + ":dnset:" + Write("rr-dnset.txt", t));
    }
    // ip4set: one address listed n times (and a /24 block n times).
    {
      const std::string z = "rr-ip4set.test";
      std::string t = Head(z) + "$TTL 300\n";
      for (int n : sizes) {
        for (int i = 0; i < n; ++i) {
          t += absl::StrFormat("10.9.%d.%d %s\n10.%d.%d.0/24 %s\n", n >> 8, n & 255, Value(n, i),
                               20 + (n >> 8), n & 255, Value(n, i));
        }
        rrsets_.push_back({absl::StrFormat("%d.%d.9.10.%s", n & 255, n >> 8, z), n, n});
        rrsets_.push_back({absl::StrFormat("7.%d.%d.10.%s", n & 255, 20 + (n >> 8), z), n, n});
      }
      specs_.push_back(z + ":ip4set:" + Write("rr-ip4set.txt", t));
    }
    // generic: n A and n TXT records.
    {
      const std::string z = "rr-generic.test";
      std::string t = Head(z) + "$TTL 300\n";
      for (int n : sizes) {
        for (int i = 0; i < n; ++i) {
          t += absl::StrFormat("n%d A 127.1.%d.%d\nn%d TXT \"t%d.%d %s\"\n", n, i >> 8, i & 255, n,
                               n, i,
                               std::string(static_cast<std::size_t>((n * 7 + i * 3) % 50), 'x'));
        }
        rrsets_.push_back({absl::StrFormat("n%d.%s", n, z), n, n});
      }
      specs_.push_back(z + ":generic:" + Write("rr-generic.txt", t));
    }
    // combined: nested dnset and ip4set sub-zones.
    {
      const std::string z = "rr-combined.test";
      std::string dn = "$DATASET dnset dn\n", ip = "$DATASET ip4set ip\n";
      for (int n : sizes) {
        for (int i = 0; i < n; ++i) {
          dn += absl::StrFormat("n%d %s\n", n, Value(n, i));
          ip += absl::StrFormat("10.7.%d.%d %s\n", n >> 8, n & 255, Value(n, i));
        }
        rrsets_.push_back({absl::StrFormat("n%d.dn.%s", n, z), n, n});
        rrsets_.push_back({absl::StrFormat("%d.%d.7.10.ip.%s", n & 255, n >> 8, z), n, n});
      }
      specs_.push_back(z + ":combined:" + Write("rr-combined.txt", Head(z) + dn + ip));
    }
    // several datasets in one zone: two ip4set files share the values.
    {
      const std::string z = "rr-multi.test";
      std::string a = Head(z), b = "$TTL 200\n";
      for (int n : sizes) {
        for (int i = 0; i < n; ++i) {
          (i % 2 == 0 ? a : b) += absl::StrFormat("10.6.%d.%d %s\n", n >> 8, n & 255, Value(n, i));
        }
        rrsets_.push_back({absl::StrFormat("%d.%d.6.10.%s", n & 255, n >> 8, z), n, n});
      }
      specs_.push_back(z + ":ip4set:" + Write("rr-multi-a.txt", a));
      specs_.push_back(z + ":ip4set:" + Write("rr-multi-b.txt", b));
    }
  }

  void GenEscapes() {
    // Every byte 1..255 in a label (upper case letters fold to lower case),
    // in the middle and at the ends of a label, and in a wildcard base.
    const std::string z = "esc.test";
    std::string t = Head(z) + ":2:[$]\n";
    for (int c = 1; c < 256; ++c) {
      if (c >= 'A' && c <= 'Z') continue;
      const std::string e = absl::StrFormat("\\%03d", c);
      for (const std::string& rel : {"a" + e + "b.example", e + ".e" + e + "x.example"}) {
        t += rel + "\n";
        escape_names_.push_back(rel + "." + z);
      }
      t += "*.w" + e + ".example\n";
      escape_names_.push_back("q.w" + e + ".example." + z);
    }
    specs_.push_back(z + ":dnset:" + Write("esc.txt", t));
  }

  void GenAclMatrix() {
    struct TypeData {
      std::string type, text;
      std::vector<std::string> names, listed, generic, subzones;
      bool ip4, ip6;
    };
    const std::vector<std::string> ip4_names = {
        "2.0.0.127", "3.0.0.127", "9.0.0.127", "0.0.127", "0.127", "127",     "9.9.9",
        "5.2.1.10",  "2.1.10",    "1.10",      "10",      "11",    "1.1.1.1", "x.0.0.127"};
    const std::string six = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2";
    const std::vector<std::string> ip6_names = {
        six,
        six.substr(2),
        six.substr(40),
        six.substr(50),
        six.substr(56),
        "2",
        "3.0.0.2",
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2",
        "f.f.f.f"};
    const std::vector<std::string> dn_names = {"c.b.a.example.net",
                                               "b.a.example.net",
                                               "a.example.net",
                                               "example.net",
                                               "net",
                                               "d.c.b.a.example.net",
                                               "x.c.b.a.example.net",
                                               "spam.example",
                                               "example",
                                               "x.wild.example",
                                               "wild.example",
                                               "nothing.example"};
    const std::vector<std::string> gen_names = {"www", "y.gen", "x.y.gen", "gen", "nope", "z.www"};
    std::vector<TypeData> types = {
        {"ip4set",
         "127.0.0.2\n127.0.0.3 :3:three $\n10.1.2.0/24 :4:block\n",
         ip4_names,
         {"2.0.0.127", "3.0.0.127", "7.2.1.10"},
         {},
         {},
         true,
         false},
        {"ip4tset",
         ":2:tset $\n127.0.0.2\n127.0.0.4\n",
         ip4_names,
         {"2.0.0.127", "4.0.0.127"},
         {},
         {},
         true,
         false},
        {"ip4trie",
         "127.0.0.0/30 :2:trie $\n!127.0.0.1\n10.1.0.0/16 :3:sixteen\n",
         ip4_names,
         {"2.0.0.127", "7.2.1.10", "7.7.1.10"},
         {},
         {},
         true,
         false},
        {"ip6trie",
         "2001:db8:1::/64 :2:six $\n!2001:db8:1::2\n",
         ip6_names,
         {six},
         {},
         {},
         false,
         true},
        {"ip6tset",
         ":2:tset6 $\n2001:db8:1:0\n!2001:db8:1::2\n",
         ip6_names,
         {six},
         {},
         {},
         false,
         true},
        {"dnset",
         ".c.b.a.example.net :2:dn $\nd.c.b.a.example.net :3:deeper\nspam.example\n"
         "*.wild.example :4:wild $\n",
         dn_names,
         {"c.b.a.example.net", "x.c.b.a.example.net", "d.c.b.a.example.net", "spam.example",
          "x.wild.example"},
         {},
         {},
         false,
         false},
        {"generic",
         "www A 127.0.0.2\nwww TXT \"www\"\nx.y.gen TXT \"gen\"\n@ MX 10 mx.example.\n",
         gen_names,
         {},
         {"www", "x.y.gen"},
         {},
         false,
         false},
        {"combined",
         "$DATASET ip4set @\n127.0.0.2 :2:comb $\n$DATASET dnset dn\n.c.b.a.example :3:cdn $\n"
         "$DATASET generic gen\nwww A 127.0.0.5\n$DATASET ip4trie sub.ip\n10.1.0.0/16 :4:t $\n",
         {"2.0.0.127", "0.0.127", "127", "9.9.9", "c.b.a.example.dn", "b.a.example.dn",
          "example.dn", "dn", "www.gen", "gen", "x.www.gen", "ip", "sub.ip", "1.10.sub.ip",
          "7.7.1.10.sub.ip", "10.sub.ip", "nope"},
         {"2.0.0.127", "c.b.a.example.dn", "x.c.b.a.example.dn", "7.7.1.10.sub.ip"},
         {"www.gen"},
         {"dn", "gen", "sub.ip"},
         true,
         false},
    };
    const std::string acl_text =
        "127.0.0.31 :empty\n127.0.0.32 :refuse\n127.0.0.33 :ignore\n127.0.0.34 :blackhole\n"
        "127.0.0.35 :6:zone always $\n127.0.0.36 :pass\n127.0.0.37 :empty\n";
    const std::string acl = Write("families-zone.acl", acl_text);
    for (const TypeData& d : types) {
      const std::string z = "acl-" + d.type + ".test";
      AclZone az{z, d.type, d.names, d.listed, d.generic, d.subzones, d.ip4, d.ip6};
      az.names.push_back("");
      acl_zones_.push_back(az);
      specs_.push_back(z + ":" + d.type + ":" + Write("acl-" + d.type + ".txt", Head(z) + d.text));
      specs_.push_back(z + ":acl:" + acl);
    }
  }

  void GenEntPrecision() {
    for (const std::string type : {"ip4set", "ip4tset", "ip4trie", "ip6trie", "ip6tset"}) {
      EntZone ez;
      ez.zone = "ent-" + type + ".test";
      ez.v6 = type[2] == '6';
      ez.cuts.insert(0);
      std::string t = Head(ez.zone) + ":2:listed $\n";
      std::vector<U128> addrs;
      for (int i = 0; i < 70; ++i) {
        if (!ez.v6) {
          const std::uint32_t a = ((Rand(0, 1) ? 10u : 11u) << 24) | (Rand(0, 3) << 16) |
                                  (Rand(0, 7) << 8) | Rand(0, 255);
          int len = 32;
          if (type == "ip4set") len = static_cast<int>(8 * Rand(2, 4));
          if (type == "ip4trie") len = static_cast<int>(Rand(12, 32));
          const std::uint32_t lo = a & Mask4(len), hi = lo | ~Mask4(len);
          const bool excl = type != "ip4tset" && Rand(0, 3) == 0;
          if (type == "ip4tset") {
            t += Ip4Text(lo) + "\n";  // full addresses only
          } else {
            t += absl::StrFormat("%s%s/%d\n", excl ? "!" : "", Ip4Text(lo), len);
          }
          ez.cuts.insert(lo);
          if (hi != ~0u) ez.cuts.insert(U128{hi} + 1);
          addrs.push_back(a);
        } else {
          const U128 a = (U128{0x20010db8} << 96) | (U128{Rand(0, 3)} << 80) |
                         (U128{Rand(0, 15)} << 64) | (U128{rng_()} << 32) | rng_();
          const int len = type == "ip6tset" ? 64 : static_cast<int>(Rand(36, 128));
          const U128 lo = a & Mask6(len), hi = lo | ~Mask6(len);
          const bool excl = type == "ip6trie" && Rand(0, 3) == 0;
          if (type == "ip6tset") {
            t += absl::StrFormat("%x:%x:%x:%x\n", Group(lo, 0), Group(lo, 1), Group(lo, 2),
                                 Group(lo, 3));
          } else {
            t += absl::StrFormat("%s%s/%d\n", excl ? "!" : "", Ip6Text(lo), len);
          }
          ez.cuts.insert(lo);
          if (hi != ~U128{0}) ez.cuts.insert(hi + 1);
          addrs.push_back(a);
        }
      }
      for (U128 a : addrs) {
        if (!ez.v6) {
          for (int n = 1; n <= 3; ++n) ez.prefixes.push_back({a, n});
          ez.prefixes.push_back({a ^ (U128{1} << Rand(8, 31)), static_cast<int>(Rand(1, 3))});
        } else {
          for (int n = static_cast<int>(Rand(1, 4)); n <= 31; n += static_cast<int>(Rand(2, 6))) {
            ez.prefixes.push_back({a, n});
            ez.prefixes.push_back({a ^ (U128{1} << (127 - 4 * n + 1)), n});
          }
        }
      }
      if (!ez.v6) {
        for (std::uint32_t o : {0u, 1u, 2u, 9u, 10u, 11u, 12u, 127u, 255u}) {
          ez.prefixes.push_back({U128{o} << 24, 1});
        }
        ez.prefixes.push_back({U128{0}, 2});
        ez.prefixes.push_back({U128{2} << 16, 3});
      }
      specs_.push_back(ez.zone + ":" + type + ":" + Write(ez.zone + ".txt", t));
      ent_zones_.push_back(std::move(ez));
    }
  }

  std::string dir_;
  std::mt19937 rng_;
  std::vector<std::string> specs_;
  std::vector<RrsetName> rrsets_;
  std::vector<std::string> escape_names_;
  std::vector<AclZone> acl_zones_;
  std::vector<AclClient> acl_clients_;
  std::vector<EntZone> ent_zones_;
};

}  // namespace meshbl::integration

#endif  // MESHBL_TESTS_INTEGRATION_ZONE_GEN_H_
