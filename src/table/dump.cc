// BIND master-format dump of the served zones: see dump.h.
#include "meshbl/table/dump.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "meshbl/table/dataset_type.h"
#include "meshbl/table/ip_text.h"
#include "meshbl/table/txt_template.h"
#include "table/dump_util.h"

namespace meshbl::table {

namespace f = format;

namespace {

// ---- zones ------------------------------------------------------------------

std::string Absolute(std::span<const std::uint8_t> labels) {
  std::string s;
  AppendAbsolute(&s, labels);
  return s;
}

void WriteDataset(DumpWriter& out, const DsNode& ds, std::span<const std::uint8_t> origin) {
  const DatasetTypeOps& ops = OpsFor(ds.view.type());
  if (ops.has_children) {
    // Each sub-zone under its own origin (label sequences concatenate).
    for (const SubZoneNode& sub : ds.subs) {
      std::vector<std::uint8_t> name(sub.name.begin(), sub.name.end());
      name.insert(name.end(), origin.begin(), origin.end());
      absl::StrAppend(&out.text(), "$ORIGIN\t", Absolute(name), "\n");
      for (const DsNode* child : sub.datasets) WriteDataset(out, *child, name);
    }
    absl::StrAppend(&out.text(), "$ORIGIN\t", Absolute(origin), "\n");
    return;
  }
  if (ops.dump == nullptr) return;  // acl
  absl::StrAppend(&out.text(), "$TTL ", ds.view.ttl(), "\n");
  ops.dump(out, ds);
}

void WriteApex(DumpWriter& out, const ZoneNode& z) {
  std::string& o = out.text();
  bool first = true;
  if (z.soa != nullptr) {
    const f::DatasetRec& r = z.soa->view.rec();
    const Snapshot& snap = z.soa->view.snapshot();
    const std::uint32_t serial = r.soa_serial != 0 ? r.soa_serial : z.stamp;
    absl::StrAppend(&o, "@\t", r.soa_ttl, "\tSOA\t", Absolute(snap.Bytes(r.soa_origin)), "\t",
                    Absolute(snap.Bytes(r.soa_person)), "\t(", serial, " ", r.soa_refresh, " ",
                    r.soa_retry, " ", r.soa_expire, " ", r.soa_minimum, ")\n");
    first = false;
  }
  if (z.ns != nullptr) {
    const f::DatasetRec& r = z.ns->view.rec();
    const Snapshot& snap = z.ns->view.snapshot();
    for (std::uint32_t ref : snap.Pool(r.ns_first, r.ns_count)) {
      absl::StrAppend(&o, first ? "@" : "", "\t", r.ns_ttl, "\tNS\t", Absolute(snap.Bytes(ref)),
                      "\n");
      first = false;
    }
  }
}

std::string DumpTime(std::int64_t now) {
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return std::string(buf, n);
}

}  // namespace

void DumpZones(const ZoneSet& zones, const DumpOptions& options,
               absl::FunctionRef<void(std::string_view)> sink) {
  DumpWriter out(sink);
  absl::StrAppend(&out.text(), "; zone dump made ", DumpTime(options.now), "\n; ",
                  std::string(options.producer), "\n");
  for (const ZoneNode& z : zones.zones()) {
    absl::StrAppend(&out.text(), "$ORIGIN\t", Absolute(z.name), "\n");
    WriteApex(out, z);
    for (const DsNode* d : z.datasets) WriteDataset(out, *d, z.name);
    out.MaybeFlush();
  }
}

}  // namespace meshbl::table
