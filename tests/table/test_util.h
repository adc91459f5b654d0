// Helpers for table-layer tests: build a ZoneSet from builder calls and
// resolve names into comparable text.
#ifndef MESHBL_TESTS_TABLE_TEST_UTIL_H_
#define MESHBL_TESTS_TABLE_TEST_UTIL_H_

#include <arpa/inet.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "meshbl/dns/name.h"
#include "meshbl/dns/types.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/query.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"

namespace meshbl::table::testing {

inline std::string Labels(const std::string& text) {
  std::string out;
  EXPECT_TRUE(dns::ParseName(text, &out)) << text;
  return out;
}

inline std::uint32_t Ip4(const char* s) {
  in_addr a;
  EXPECT_EQ(inet_pton(AF_INET, s, &a), 1) << s;
  return ntohl(a.s_addr);
}

inline std::array<std::uint8_t, 16> Ip6(const char* s) {
  std::array<std::uint8_t, 16> b{};
  EXPECT_EQ(inet_pton(AF_INET6, s, b.data()), 1) << s;
  return b;
}

inline Value Val(std::uint32_t last_octet, std::optional<std::string> txt = std::nullopt) {
  return Value{0x7f000000u | last_octet, std::move(txt)};
}

inline std::shared_ptr<const ZoneSet> MakeZoneSet(const SnapshotBuilder& b) {
  auto snap = Snapshot::FromImage(b.Build(1700000000), "<test>");
  EXPECT_TRUE(snap.ok()) << snap.status();
  auto zs = ZoneSet::Create({*snap});
  EXPECT_TRUE(zs.ok()) << zs.status();
  return *zs;
}

// "NXDOMAIN", or "NOERROR A=127.0.0.2/2100 TXT=text/2100 | auth SOA" style.
inline std::string Ask(const ZoneSet& zs, const std::string& name, std::uint16_t qtype = kTypeA,
                       ClientAddr client = {4, 0x7f000001, 0, 0}, QueryOptions opts = {},
                       std::int64_t now = 1700000000, const OverlaySet* overlays = nullptr) {
  static auto* answer = new Answer();
  std::string labels = Labels(name);
  Query q;
  q.qname = {reinterpret_cast<const std::uint8_t*>(labels.data()), labels.size()};
  q.qtype = qtype;
  q.client = client;
  q.now = now;
  q.overlays = overlays;
  Resolve(zs, opts, q, answer);
  if (answer->drop) return "DROP";
  std::string out(dns::RcodeName(answer->rcode));
  auto rr_text = [&](const Rr& rr) {
    auto rd = answer->rdata(rr);
    std::string s;
    switch (rr.type) {
      case kTypeA:
        s = "A=" + std::to_string(rd[0]) + "." + std::to_string(rd[1]) + "." +
            std::to_string(rd[2]) + "." + std::to_string(rd[3]);
        break;
      case kTypeTxt:
        s = "TXT=" + std::string(reinterpret_cast<const char*>(rd.data()) + 1, rd.size() - 1);
        break;
      case kTypeSoa:
        s = "SOA";
        break;
      case kTypeNs:
        s = "NS=" + dns::NameToText(rd.first(rd.size() - 1));
        break;
      case kTypeMx:
        s = "MX=" + std::to_string((rd[0] << 8) | rd[1]);
        break;
      default:
        s = "TYPE" + std::to_string(rr.type);
    }
    return s + "/" + std::to_string(rr.ttl);
  };
  for (int i = 0; i < answer->answer_count; ++i) out += " " + rr_text(answer->answer[i]);
  if (answer->authority_count > 0) {
    out += " |";
    for (int i = 0; i < answer->authority_count; ++i) out += " " + rr_text(answer->authority[i]);
  }
  return out;
}

}  // namespace meshbl::table::testing

#endif  // MESHBL_TESTS_TABLE_TEST_UTIL_H_
