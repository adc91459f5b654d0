// Fuzz target: the snapshot validator, then lookups over whatever it accepts.
// A hostile image must be rejected or answered safely, never crash. When the
// first byte is odd the rest is resealed (every checksum recomputed) so that
// mutations reach the structural checks and the lookups behind them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "meshbl/table/query.h"
#include "meshbl/table/snapshot.h"
#include "meshbl/table/zone_set.h"
#include "tests/table/reseal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace meshbl::table;
  if (size == 0) return 0;
  std::vector<std::uint8_t> image(data + 1, data + size);
  if (data[0] & 1) meshbl::table::testing::Reseal(image);
  auto snap = Snapshot::FromImage(std::move(image), "fuzz");
  if (!snap.ok()) return 0;
  auto zs = ZoneSet::Create({*snap});
  if (!zs.ok()) return 0;
  static auto* answer = new Answer();
  static const char* const kNames[] = {
      "\1\x32\1\x30\1\x30\x03\x31\x32\x37\2bl\4test",  // 2.0.0.127.bl.test
      "\4spam\7example\2bl\4test",
      "\2bl\4test",
      "\1x\1g\4test",
  };
  static const std::size_t kLens[] = {17, 21, 8, 8};
  for (const auto& z : (*zs)->zones()) {
    for (int i = 0; i < 4; ++i) {
      // Route each probe name into every zone: the name, then the zone.
      std::uint8_t buf[300];
      std::size_t n = kLens[i] > 8 ? kLens[i] - 8 : 0;
      if (n + z.name.size() > sizeof buf) continue;
      for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::uint8_t>(kNames[i][k]);
      for (std::size_t k = 0; k < z.name.size(); ++k) buf[n + k] = z.name[k];
      for (std::uint16_t t : {kTypeA, kTypeTxt, kTypeAny, kTypeSoa, kTypeNs, kTypeMx}) {
        Query q;
        q.qname = {buf, n + z.name.size()};
        q.qtype = t;
        q.client = {4, 0x7f000001, 0, 0};
        Resolve(**zs, {}, q, answer);
      }
    }
  }
  return 0;
}
