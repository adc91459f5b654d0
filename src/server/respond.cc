// Per-packet code (MESHBL_HOT_SOURCES): no allocation, no exceptions, no locks.
#include "meshbl/server/respond.h"

namespace meshbl::server {

Verdict Respond(const table::ZoneSet* zones, const ResponderConfig& cfg,
                std::span<const std::uint8_t> query, const table::ClientAddr& client,
                Transport transport, std::int64_t now, table::Answer* scratch,
                std::span<std::uint8_t> out, std::size_t* out_len, ResponderStats* stats) noexcept {
  (void)zones, (void)cfg, (void)client, (void)transport, (void)now, (void)scratch, (void)out;
  *out_len = 0;
  ++stats->queries;
  stats->bytes_in += query.size();
  return Verdict::kDrop;  // stub: filled in by the DNS behaviour layer
}

}  // namespace meshbl::server
