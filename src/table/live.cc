// Building live layers (control plane): entries → an in-memory snapshot of
// up to three datasets → a one-zone ZoneSet that owns the DsNodes (with their
// TXT context and empty non-terminal summaries) that the query path reads.
#include "meshbl/table/live.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "meshbl/table/builder.h"
#include "meshbl/table/snapshot.h"

namespace meshbl::table {

namespace {

// The zone the layer's datasets are filed under inside its own snapshot; the
// query path never looks it up (it reads the DsNodes directly).
constexpr std::string_view kLayerZone = "\x04live";

std::uint32_t Ip4Of(const std::array<std::uint8_t, 16>& a) {
  return (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) |
         a[3];
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LiveLayer>> LiveLayer::Build(
    std::string_view list, std::span<const LiveEntry> entries, std::uint32_t ttl) {
  const std::string l(list);
  auto ip4 =
      std::make_unique<DatasetBuilder>(DatasetType::kIp4Trie, absl::StrCat("live:", l, ":ip4"));
  auto ip6 =
      std::make_unique<DatasetBuilder>(DatasetType::kIp6Trie, absl::StrCat("live:", l, ":ip6"));
  auto names =
      std::make_unique<DatasetBuilder>(DatasetType::kDnSet, absl::StrCat("live:", l, ":names"));
  for (DatasetBuilder* b : {ip4.get(), ip6.get(), names.get()}) b->SetTtl(ttl);
  for (const LiveEntry& e : entries) {
    const Value* v = e.excluded ? nullptr : &e.value;
    switch (e.kind) {
      case LiveEntry::Kind::kIp4:
        if (e.len > 32) return absl::InvalidArgumentError("live entry: IPv4 prefix above /32");
        ip4->AddIp4Prefix(Ip4Of(e.addr), e.len, v);
        break;
      case LiveEntry::Kind::kIp6:
        if (e.len > 128) return absl::InvalidArgumentError("live entry: IPv6 prefix above /128");
        ip6->AddIp6Prefix(e.addr, e.len, v);
        break;
      case LiveEntry::Kind::kName:
        if (e.name.empty()) return absl::InvalidArgumentError("live entry: empty name");
        names->AddName(e.name, e.wildcard, v);
        break;
    }
  }
  auto layer = std::make_shared<LiveLayer>();
  layer->entries_ = entries.size();
  const bool has4 = ip4->entry_count() > 0, has6 = ip6->entry_count() > 0,
             has_names = names->entry_count() > 0;
  {
    SnapshotBuilder sb;
    if (has4) sb.AddToZone(kLayerZone, sb.AdoptDataset(std::move(ip4)));
    if (has6) sb.AddToZone(kLayerZone, sb.AdoptDataset(std::move(ip6)));
    if (has_names) sb.AddToZone(kLayerZone, sb.AdoptDataset(std::move(names)));
    if (!has4 && !has6 && !has_names) return std::shared_ptr<const LiveLayer>(std::move(layer));
    std::vector<std::uint8_t> image = sb.Build(0);
    layer->image_bytes_ = image.size();
    auto snap = Snapshot::FromImage(std::move(image), absl::StrCat("live list ", l));
    if (!snap.ok()) return snap.status();
    auto zs = ZoneSet::Create({*std::move(snap)});
    if (!zs.ok()) return zs.status();
    layer->zs_ = *std::move(zs);
  }
  for (const ZoneNode& z : layer->zs_->zones()) {
    for (const DsNode* d : z.datasets) {
      switch (d->view.type()) {
        case DatasetType::kIp4Trie:
          layer->ip4_ = d;
          break;
        case DatasetType::kIp6Trie:
          layer->ip6_ = d;
          break;
        case DatasetType::kDnSet:
          layer->names_ = d;
          break;
        default:
          break;
      }
    }
  }
  return std::shared_ptr<const LiveLayer>(std::move(layer));
}

}  // namespace meshbl::table
