// The UDP worker loops: the per-packet path. Nothing here allocates, builds
// a Status or throws (hot_path_rules); setup lives in udp_setup.cc.
#include "server/udp_worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "meshbl/server/listen.h"

namespace meshbl::server::internal {

namespace {

constexpr std::uint64_t Pack(std::uint32_t op, std::uint32_t index) noexcept {
  return (std::uint64_t{op} << 32) | index;
}
constexpr std::uint32_t OpOf(std::uint64_t user_data) noexcept {
  return static_cast<std::uint32_t>(user_data >> 32);
}
constexpr std::uint32_t IndexOf(std::uint64_t user_data) noexcept {
  return static_cast<std::uint32_t>(user_data & 0xffffffffu);
}

std::int64_t NowSeconds() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

// An idle worker still refreshes its ZoneSet (so an old snapshot is let go)
// at least this often.
constexpr int kIdleRefreshMs = 1000;

}  // namespace

void Wake(int efd) noexcept {
  std::uint64_t one = 1;
  ssize_t rc = ::write(efd, &one, sizeof(one));
  (void)rc;  // the counter saturating still leaves the fd readable
}

// ---------------------------------------------------------------- io_uring

io_uring_sqe* UringUdpLoop::Sqe() noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_->get());
  if (sqe == nullptr) {
    // The SQ is sized for every slot, so this is only reached if more than
    // that was queued: flush and retry once (query log lines first: `-l +`
    // writes a reply's line before the reply goes out).
    if (qlog_ != nullptr) qlog_->Flush();
    io_uring_submit(ring_->get());
    sqe = io_uring_get_sqe(ring_->get());
  }
  return sqe;
}

void UringUdpLoop::ArmRecv(unsigned sock) noexcept {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;  // need_arm_ stays set; retried next batch
  io_uring_prep_recvmsg_multishot(sqe, sockets_[sock].get(), &recv_msg_, MSG_TRUNC);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kGroup;
  io_uring_sqe_set_data64(sqe, Pack(kRecv, sock));
  need_arm_[sock] = 0;
}

void UringUdpLoop::ArmWake() noexcept {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return;
  io_uring_prep_read(sqe, wake_.get(), &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(sqe, Pack(kWake, 0));
}

void UringUdpLoop::RecycleBuffer(unsigned bid) noexcept {
  io_uring_buf_ring_add(br_, buf_mem_.data() + std::size_t{bid} * buf_size_, buf_size_,
                        static_cast<unsigned short>(bid), io_uring_buf_ring_mask(buffers_),
                        static_cast<int>(recycled_));
  ++recycled_;
}

void UringUdpLoop::OnRecv(const io_uring_cqe* cqe, const table::ZoneSet* zones,
                          std::int64_t now) noexcept {
  unsigned sock = IndexOf(cqe->user_data);
  if (sock >= sockets_.size()) return;
  if ((cqe->flags & IORING_CQE_F_MORE) == 0) need_arm_[sock] = 1;
  const bool has_buffer = (cqe->flags & IORING_CQE_F_BUFFER) != 0;
  const unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
  if (has_buffer && bid >= buffers_) return;  // not one of ours; cannot happen
  if (cqe->res < 0) {
    if (cqe->res == -ENOBUFS) {
      ++io_.uring_enobufs;
    } else if (cqe->res != -ECANCELED) {
      ++io_.udp_recv_errors;
    }
    if (has_buffer) RecycleBuffer(bid);
    return;
  }
  if (!has_buffer) return;
  ++io_.udp_received;
  std::uint8_t* buf = buf_mem_.data() + std::size_t{bid} * buf_size_;
  io_uring_recvmsg_out* o = io_uring_recvmsg_validate(buf, cqe->res, &recv_msg_);
  if (o == nullptr || (o->flags & MSG_TRUNC) != 0 || o->namelen > sizeof(sockaddr_in6)) {
    ++io_.udp_truncated;
    RecycleBuffer(bid);
    return;
  }
  if (free_count_ == 0) {
    ++io_.udp_no_slot;
    RecycleBuffer(bid);
    return;
  }
  std::uint32_t slot_index = free_slots_[free_count_ - 1];
  SendSlot& slot = slot_[slot_index];
  const auto* name = static_cast<const std::uint8_t*>(io_uring_recvmsg_name(o));
  const socklen_t namelen = o->namelen;
  std::memcpy(&slot.name, name, namelen);
  table::ClientAddr client = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&slot.name));
  std::span<const std::uint8_t> query(
      static_cast<const std::uint8_t*>(io_uring_recvmsg_payload(o, &recv_msg_)),
      io_uring_recvmsg_payload_length(o, cqe->res, &recv_msg_));
  std::size_t out_len = 0;
  Verdict v =
      Respond(zones, *env_.responder, query, client, Transport::kUdp, now, scratch_.get(),
              std::span<std::uint8_t>(slot.data, sizeof(slot.data)), &out_len, &stats_, overlays_);
  if (v == Verdict::kReply && out_len != 0 && qlog_ != nullptr) {
    qlog_->Record(now, client, query, std::span<const std::uint8_t>(slot.data, out_len));
  }
  RecycleBuffer(bid);  // the query has been read; the reply lives in the slot
  if (v != Verdict::kReply || out_len == 0) return;
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) {
    ++io_.udp_no_slot;
    return;
  }
  slot.iov.iov_base = slot.data;
  slot.iov.iov_len = out_len;
  slot.msg = {};
  slot.msg.msg_name = &slot.name;
  slot.msg.msg_namelen = namelen;
  slot.msg.msg_iov = &slot.iov;
  slot.msg.msg_iovlen = 1;
  io_uring_prep_sendmsg(sqe, sockets_[sock].get(), &slot.msg, 0);
  io_uring_sqe_set_data64(sqe, Pack(kSend, slot_index));
  --free_count_;
}

void UringUdpLoop::Run() noexcept {
  io_uring* ring = ring_->get();
  for (unsigned i = 0; i < sockets_.size(); ++i) ArmRecv(i);
  ArmWake();
  __kernel_timespec idle{};
  idle.tv_sec = kIdleRefreshMs / 1000;
  idle.tv_nsec = (kIdleRefreshMs % 1000) * 1000000LL;
  while (!env_.stop->load(std::memory_order_acquire)) {
    io_uring_cqe* first = nullptr;
    // `-l +`: the last batch's log lines are written (one write) before its
    // replies are submitted.
    if (qlog_ != nullptr) qlog_->Flush();
    // One submit per batch: the sends and re-arms queued by the last batch
    // go out here, and the call waits for the next completions.
    int rc = io_uring_submit_and_wait_timeout(ring, &first, 1, &idle, nullptr);
    if (env_.stop->load(std::memory_order_acquire)) break;
    const table::ZoneSet* zones = reader_.Refresh();
    overlays_ = overlay_reader_.Refresh();
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      ++io_.udp_recv_errors;
    }
    std::int64_t now = NowSeconds();
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring, head, cqe) {
      // At most one batch per pass, so that replies go out (next submit)
      // and the ZoneSet is refreshed at a bounded interval under load.
      if (seen == batch_) break;
      ++seen;
      switch (OpOf(cqe->user_data)) {
        case kRecv:
          OnRecv(cqe, zones, now);
          break;
        case kSend: {
          std::uint32_t i = IndexOf(cqe->user_data);
          if (cqe->res < 0) {
            ++io_.udp_send_errors;
          } else {
            ++io_.udp_sent;
          }
          if (i < slots_) free_slots_[free_count_++] = i;
          break;
        }
        case kWake:
          if (!env_.stop->load(std::memory_order_acquire)) ArmWake();
          break;
        default:
          break;
      }
    }
    io_uring_cq_advance(ring, seen);
    if (recycled_ != 0) {
      io_uring_buf_ring_advance(br_, static_cast<int>(recycled_));
      recycled_ = 0;
    }
    // Multishot receives that ended (ENOBUFS, or no F_MORE for any other
    // reason) are re-armed now that the buffers are back in the ring.
    for (unsigned i = 0; i < sockets_.size(); ++i) {
      if (need_arm_[i] != 0) {
        ++io_.uring_rearms;
        ArmRecv(i);
      }
    }
    if (seen != 0) PublishStats();
  }
  PublishStats();
  reader_.Release();
  overlay_reader_.Release();
}

// -------------------------------------------------------- recvmmsg/sendmmsg

void MmsgUdpLoop::ServeSocket(int fd, const table::ZoneSet* zones, std::int64_t now) noexcept {
  // A bounded number of full batches per wake-up keeps the other sockets
  // (and the stop flag) serviced.
  for (int round = 0; round < 8; ++round) {
    for (unsigned i = 0; i < batch_; ++i) {
      in_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
      in_[i].msg_hdr.msg_flags = 0;
      in_[i].msg_len = 0;
    }
    int n = ::recvmmsg(fd, in_.data(), batch_, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ++io_.udp_recv_errors;
      }
      return;
    }
    io_.udp_received += static_cast<std::uint64_t>(n);
    // Replies go out every kFlushEvery answers rather than once per batch: the
    // first query of a full batch then waits for at most that many others, not
    // for the whole batch (tail latency), at a few more sendmmsg calls. The
    // first reply of every batch goes out alone, at once: at moderate load
    // batches are short bursts and their first query should not wait for the
    // rest (one more send call per batch).
    constexpr unsigned kFlushEvery = 16;
    unsigned k = 0;
    unsigned flush_at = 1;
    auto flush = [&]() noexcept {
      // `-l +`: these replies' log lines are written (one write) first.
      if (qlog_ != nullptr) qlog_->Flush();
      unsigned off = 0;
      while (off < k) {
        int r = ::sendmmsg(fd, out_.data() + off, k - off, MSG_DONTWAIT);
        if (r <= 0) {
          ++io_.udp_send_errors;  // this datagram is dropped; go on with the rest
          ++off;
          continue;
        }
        io_.udp_sent += static_cast<std::uint64_t>(r);
        off += static_cast<unsigned>(r);
      }
      k = 0;
      flush_at = kFlushEvery;
    };
    for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) {
      Slot& s = slot_[i];
      const msghdr& h = in_[i].msg_hdr;
      if ((h.msg_flags & MSG_TRUNC) != 0 || h.msg_namelen > sizeof(sockaddr_in6)) {
        ++io_.udp_truncated;
        continue;
      }
      table::ClientAddr client = ClientFromSockaddr(reinterpret_cast<const sockaddr*>(&s.name));
      std::size_t out_len = 0;
      Verdict v =
          Respond(zones, *env_.responder, std::span<const std::uint8_t>(s.in, in_[i].msg_len),
                  client, Transport::kUdp, now, scratch_.get(),
                  std::span<std::uint8_t>(s.out, sizeof(s.out)), &out_len, &stats_, overlays_);
      if (v != Verdict::kReply || out_len == 0) continue;
      if (qlog_ != nullptr) {
        qlog_->Record(now, client, std::span<const std::uint8_t>(s.in, in_[i].msg_len),
                      std::span<const std::uint8_t>(s.out, out_len));
      }
      s.out_iov.iov_len = out_len;
      msghdr& o = out_[k].msg_hdr;
      o.msg_name = &s.name;
      o.msg_namelen = h.msg_namelen;
      o.msg_iov = &s.out_iov;
      o.msg_iovlen = 1;
      o.msg_control = nullptr;
      o.msg_controllen = 0;
      o.msg_flags = 0;
      if (++k == flush_at) flush();
    }
    flush();
    if (static_cast<unsigned>(n) < batch_) return;
  }
}

void MmsgUdpLoop::Run() noexcept {
  const auto nsock = static_cast<unsigned>(sockets_.size());
  while (!env_.stop->load(std::memory_order_acquire)) {
    int n = ::poll(pfds_.data(), pfds_.size(), kIdleRefreshMs);
    if (env_.stop->load(std::memory_order_acquire)) break;
    const table::ZoneSet* zones = reader_.Refresh();
    overlays_ = overlay_reader_.Refresh();
    if (n <= 0) continue;
    std::int64_t now = NowSeconds();
    for (unsigned i = 0; i < nsock; ++i) {
      if ((pfds_[i].revents & POLLIN) != 0) ServeSocket(sockets_[i].get(), zones, now);
    }
    if ((pfds_[nsock].revents & POLLIN) != 0) {
      std::uint64_t v;
      ssize_t rc = ::read(wake_.get(), &v, sizeof(v));
      (void)rc;
    }
    PublishStats();
  }
  PublishStats();
  reader_.Release();
  overlay_reader_.Release();
}

}  // namespace meshbl::server::internal
