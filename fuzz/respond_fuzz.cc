// Fuzz target: arbitrary bytes as a query packet through server::Respond()
// (parse, Resolve, encode) over UDP and TCP against a small fixed ZoneSet.
// Besides not crashing, every reply must stay within the transport's size
// limit, echo the query ID and carry QR.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "meshbl/dns/name.h"
#include "meshbl/server/respond.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"

namespace {

using namespace meshbl;

std::string L(const char* text) {
  std::string out;
  if (!dns::ParseName(text, &out)) std::abort();
  return out;
}

std::shared_ptr<const table::ZoneSet> MakeZones() {
  table::SnapshotBuilder b;
  auto ip = std::make_unique<table::DatasetBuilder>(table::DatasetType::kIp4Set, "ip4set:f");
  table::SoaData soa;
  soa.ttl = 3600;
  soa.origin = L("ns1.bl.test");
  soa.person = L("hostmaster.bl.test");
  soa.serial = 1;
  soa.minimum = 600;
  ip->SetSoa(soa);
  ip->SetNs({3600, {L("ns1.bl.test"), L("ns2.example.net")}});
  table::Value v{0x7f000002, std::string("listed $")};
  ip->AddIp4Range(0x7f000002, 0x7f0000ff, &v);
  auto g = std::make_unique<table::DatasetBuilder>(table::DatasetType::kGeneric, "generic:f");
  g->AddGenericRecord(L("ns1"), table::kTypeA, 300, std::string("\xc0\x00\x02\x35", 4));
  for (int i = 0; i < 6; ++i) {
    g->AddGenericRecord(L("big"), table::kTypeTxt, 300,
                        std::string(1, static_cast<char>(200)) + std::string(200, 'a'));
  }
  g->AddGenericRecord(L("mx"), table::kTypeMx, 300, std::string("\0\x0a\2mx\2bl\4test\0", 14));
  auto d = std::make_unique<table::DatasetBuilder>(table::DatasetType::kDnSet, "dnset:f");
  d->AddName(L("spam.example.com"), false, &v);
  d->AddName(L("wild.example"), true, &v);
  auto* pip = b.AdoptDataset(std::move(ip));
  auto* pg = b.AdoptDataset(std::move(g));
  auto* pd = b.AdoptDataset(std::move(d));
  b.AddToZone(L("bl.test"), pip);
  b.AddToZone(L("bl.test"), pg);
  b.AddToZone(L("dn.test"), pd);
  auto snap = table::Snapshot::FromImage(b.Build(1700000000), "fuzz");
  if (!snap.ok()) std::abort();
  auto zs = table::ZoneSet::Create({*snap});
  if (!zs.ok()) std::abort();
  return *zs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto* zones = new std::shared_ptr<const table::ZoneSet>(MakeZones());
  static auto* scratch = new table::Answer();
  static auto* out = new std::vector<std::uint8_t>(server::kMaxTcpMessage);
  const std::span<const std::uint8_t> query(data, size);
  server::ResponderConfig cfg;
  server::ResponderStats stats;
  for (auto t : {server::Transport::kUdp, server::Transport::kTcp}) {
    std::size_t len = 0;
    const auto v = server::Respond(zones->get(), cfg, query, {4, 0x7f000001, 0, 0}, t, 1, scratch,
                                   *out, &len, &stats);
    if (v == server::Verdict::kDrop) {
      if (len != 0) std::abort();
      continue;
    }
    const std::size_t limit =
        t == server::Transport::kTcp ? server::kMaxTcpMessage : server::kMaxUdpPayload;
    if (len < 12 || len > limit || (*out)[0] != data[0] || (*out)[1] != data[1] ||
        ((*out)[2] & 0x80) == 0) {
      std::abort();
    }
  }
  return 0;
}
