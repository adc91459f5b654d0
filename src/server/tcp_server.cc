#include "server/tcp_server.h"

#include <time.h>

#include "meshbl/server/listen.h"

namespace meshbl::server::internal {

// One per connection: the client address, kept for Respond and the query
// log.
class TcpServer::Session : public util::StreamSession {
 public:
  Session(TcpServer* server, const table::ClientAddr& client) : server_(server), client_(client) {}
  bool OnMessage(util::StreamConn& conn, std::span<const std::uint8_t> query) noexcept override {
    return server_->Answer(conn, client_, query);
  }

 private:
  TcpServer* server_;
  table::ClientAddr client_;
};

absl::StatusOr<std::unique_ptr<TcpServer>> TcpServer::Create(const LoopEnv& env,
                                                             std::vector<util::UniqueFd> listeners,
                                                             const Options& o) {
  std::unique_ptr<TcpServer> t(new TcpServer(env));
  auto loop = util::EventLoop::Create();
  if (!loop.ok()) return loop.status();
  t->loop_ = std::move(*loop);
  util::StreamLimits limits;
  limits.max_connections = o.max_connections;
  limits.max_per_address = o.max_per_address;
  limits.max_message =
      (o.max_query == 0 || o.max_query > kMaxTcpMessage) ? kMaxTcpMessage : o.max_query;
  limits.max_queued = o.max_queued;
  limits.idle_timeout = o.idle_timeout;
  limits.message_timeout = o.query_timeout;
  t->service_ = t->loop_->AddService(t.get(), util::Framing::LengthPrefix(2), limits);
  for (util::UniqueFd& l : listeners) {
    if (absl::Status s = t->loop_->AddListener(t->service_, std::move(l)); !s.ok()) return s;
  }
  t->reply_ = std::make_unique<std::uint8_t[]>(2 + kMaxTcpMessage);
  TcpServer* self = t.get();
  t->loop_->set_before_events([self] { self->BeforeEvents(); });
  t->loop_->set_after_events([self] { self->AfterEvents(); });
  return t;
}

TcpServer::TcpServer(const LoopEnv& env)
    : env_(env),
      reader_(*env.zones),
      overlay_reader_(env.overlays),
      qlog_(env.query_log != nullptr ? env.query_log->AddRing() : nullptr) {}

TcpServer::~TcpServer() = default;

std::unique_ptr<util::StreamSession> TcpServer::Open(const sockaddr_storage& peer) noexcept {
  return std::make_unique<Session>(this,
                                   ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&peer)));
}

bool TcpServer::Answer(util::StreamConn& conn, const table::ClientAddr& client,
                       std::span<const std::uint8_t> query) noexcept {
  std::size_t out_len = 0;
  Verdict v = Respond(zones_, *env_.responder, query, client, Transport::kTcp, now_, scratch_.get(),
                      std::span<std::uint8_t>(reply_.get() + 2, kMaxTcpMessage), &out_len, &stats_,
                      overlays_);
  if (v != Verdict::kReply || out_len == 0) return true;
  if (qlog_ != nullptr) {
    qlog_->Record(now_, client, query, std::span<const std::uint8_t>(reply_.get() + 2, out_len));
    qlog_->Flush();  // `-l +`: the line is written before the reply is sent
  }
  reply_[0] = static_cast<std::uint8_t>(out_len >> 8);
  reply_[1] = static_cast<std::uint8_t>(out_len);
  if (!conn.Send(std::span<const std::uint8_t>(reply_.get(), out_len + 2))) return false;
  ++io_.tcp_replies;
  return true;
}

void TcpServer::BeforeEvents() noexcept {
  if (env_.stop->load(std::memory_order_acquire)) {
    loop_->Stop();
    return;
  }
  zones_ = reader_.Refresh();
  overlays_ = overlay_reader_.Refresh();
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  now_ = ts.tv_sec;
}

void TcpServer::AfterEvents() noexcept {
  const util::StreamStats& s = loop_->stats(service_);
  io_.tcp_accepted = s.accepted;
  io_.tcp_refused = s.refused;
  io_.tcp_refused_per_address = s.refused_per_address;
  io_.tcp_oversized = s.framing_errors;
  io_.tcp_query_timeouts = s.message_timeouts;
  io_.tcp_reply_timeouts = s.reply_timeouts;
  io_.tcp_idle_closed = s.idle_closed;
  pub_responder_.Publish(stats_);
  pub_io_.Publish(io_);
}

void TcpServer::Run() noexcept {
  loop_->Run();
  reader_.Release();
  overlay_reader_.Release();
}

}  // namespace meshbl::server::internal
