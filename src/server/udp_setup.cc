// Setup of the UDP worker loops: rings, provided-buffer rings, slots, the
// io_uring probe. Control plane (may allocate); the loops are in
// udp_worker.cc.
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/udp_worker.h"

namespace meshbl::server::internal {

namespace {

std::string KernelRelease() {
  utsname u;
  if (::uname(&u) != 0) return "unknown kernel";
  return absl::StrCat("kernel ", u.release);
}

absl::Status UringError(std::string_view what, int neg_errno) {
  return absl::UnavailableError(
      absl::StrCat(std::string(what), ": ", std::strerror(-neg_errno), " (", KernelRelease(), ")"));
}

constexpr std::size_t RoundUp(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

absl::StatusOr<util::UniqueFd> MakeEventFd() {
  util::UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd.valid()) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  return fd;
}

absl::StatusOr<Region> Region::Map(std::size_t size) {
  Region r;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("mmap of ", size, " bytes: ", std::strerror(errno)));
  }
  r.addr_ = p;
  r.size_ = size;
  return r;
}

Region& Region::operator=(Region&& o) noexcept {
  if (this != &o) {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = o.addr_;
    size_ = o.size_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

Region::~Region() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(unsigned sq_entries, unsigned cq_entries) {
  std::unique_ptr<Ring> r(new Ring());
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
            IORING_SETUP_CQSIZE;
  p.cq_entries = cq_entries;
  int rc = io_uring_queue_init_params(sq_entries, &r->ring_, &p);
  if (rc == -EINVAL) {
    // DEFER_TASKRUN needs 6.1; the rest 6.0.
    p = {};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    rc = io_uring_queue_init_params(sq_entries, &r->ring_, &p);
  } else if (rc == 0) {
    r->defer_taskrun_ = true;
  }
  if (rc != 0) return UringError("io_uring_queue_init(SINGLE_ISSUER|SUBMIT_ALL|CQSIZE)", rc);
  return r;
}

absl::Status ProbeUring() {
  auto ring = Ring::Create(8, 16);
  if (!ring.ok()) return ring.status();
  io_uring* rp = (*ring)->get();
  io_uring_probe* probe = io_uring_get_probe_ring(rp);
  if (probe == nullptr) return UringError("io_uring_get_probe_ring", -EINVAL);
  const char* missing = nullptr;
  if (!io_uring_opcode_supported(probe, IORING_OP_RECVMSG)) missing = "IORING_OP_RECVMSG";
  if (!io_uring_opcode_supported(probe, IORING_OP_SENDMSG)) missing = "IORING_OP_SENDMSG";
  if (!io_uring_opcode_supported(probe, IORING_OP_READ)) missing = "IORING_OP_READ";
  io_uring_free_probe(probe);
  if (missing != nullptr) return UringError(absl::StrCat(missing, " not supported"), -EOPNOTSUPP);

  // A provided-buffer ring of two buffers.
  constexpr unsigned kBufs = 2;
  auto ring_mem = Region::Map(RoundUp(kBufs * sizeof(io_uring_buf), 4096));
  if (!ring_mem.ok()) return ring_mem.status();
  auto buf_mem = Region::Map(4096);
  if (!buf_mem.ok()) return buf_mem.status();
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_mem->data());
  reg.ring_entries = kBufs;
  reg.bgid = 0;
  int rc = io_uring_register_buf_ring(rp, &reg, 0);
  if (rc != 0) return UringError("io_uring_register_buf_ring (provided-buffer ring)", rc);
  auto* br = reinterpret_cast<io_uring_buf_ring*>(ring_mem->data());
  io_uring_buf_ring_init(br);
  for (unsigned i = 0; i < kBufs; ++i) {
    io_uring_buf_ring_add(br, buf_mem->data() + i * 2048, 2048, static_cast<unsigned short>(i),
                          io_uring_buf_ring_mask(kBufs), static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br, kBufs);

  // Multishot recvmsg on a loopback socket that sends itself one datagram:
  // a kernel without it fails the request with -EINVAL.
  util::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sin);
  bool can_send = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0 &&
                  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0;
  msghdr msg{};
  msg.msg_namelen = sizeof(sockaddr_in6);
  io_uring_sqe* sqe = io_uring_get_sqe(rp);
  io_uring_prep_recvmsg_multishot(sqe, fd.get(), &msg, MSG_TRUNC);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = 0;
  io_uring_sqe_set_data64(sqe, 1);
  rc = io_uring_submit(rp);
  if (rc < 0) return UringError("io_uring_submit", rc);
  if (can_send) {
    std::uint8_t byte = 0;
    (void)::sendto(fd.get(), &byte, 1, 0, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  }
  __kernel_timespec ts{};
  ts.tv_nsec = 200'000'000;
  io_uring_cqe* cqe = nullptr;
  rc = io_uring_wait_cqe_timeout(rp, &cqe, &ts);
  if (rc == 0 && cqe != nullptr) {
    int res = cqe->res;
    unsigned flags = cqe->flags;
    io_uring_cqe_seen(rp, cqe);
    if (res < 0) return UringError("multishot recvmsg (needs kernel 6.0)", res);
    if ((flags & IORING_CQE_F_MORE) == 0) {
      return UringError("multishot recvmsg ended after one datagram", -EOPNOTSUPP);
    }
  } else if (rc != -ETIME) {
    return UringError("io_uring_wait_cqe_timeout", rc);
  }
  return absl::OkStatus();  // the ring (and the pending receive) are torn down here
}

absl::StatusOr<std::unique_ptr<UringUdpLoop>> UringUdpLoop::Create(
    const LoopEnv& env, std::vector<util::UniqueFd> sockets, const Options& o) {
  if (o.buffers == 0 || o.buffers > 32768 || (o.buffers & (o.buffers - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("io_uring buffers must be a power of two in [1, 32768], not ", o.buffers));
  }
  if (sockets.empty()) return absl::InvalidArgumentError("a UDP worker needs a socket");
  auto wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  std::unique_ptr<UringUdpLoop> w(new UringUdpLoop(env, std::move(*wake)));
  w->sockets_ = std::move(sockets);
  w->need_arm_.assign(w->sockets_.size(), 0);
  w->buffers_ = o.buffers;
  w->batch_ = o.batch == 0 ? 64 : o.batch;
  w->buf_size_ = static_cast<unsigned>(
      RoundUp(sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_in6) + kMaxUdpPayload, 64));
  w->slots_ = o.buffers < 64 ? 64 : o.buffers;

  auto ring_mem = Region::Map(RoundUp(std::size_t{o.buffers} * sizeof(io_uring_buf), 4096));
  if (!ring_mem.ok()) return ring_mem.status();
  w->ring_mem_ = std::move(*ring_mem);
  auto buf_mem = Region::Map(std::size_t{o.buffers} * w->buf_size_);
  if (!buf_mem.ok()) return buf_mem.status();
  w->buf_mem_ = std::move(*buf_mem);
  auto slot_mem = Region::Map(std::size_t{w->slots_} * sizeof(SendSlot));
  if (!slot_mem.ok()) return slot_mem.status();
  w->slot_mem_ = std::move(*slot_mem);
  w->slot_ = reinterpret_cast<SendSlot*>(w->slot_mem_.data());
  w->free_slots_.resize(w->slots_);
  for (unsigned i = 0; i < w->slots_; ++i) w->free_slots_[i] = w->slots_ - 1 - i;
  w->free_count_ = w->slots_;

  const auto nsock = static_cast<unsigned>(w->sockets_.size());
  auto ring = Ring::Create(w->slots_ + nsock + 8, 2 * (o.buffers + w->slots_));
  if (!ring.ok()) return ring.status();
  w->ring_ = std::move(*ring);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(w->ring_mem_.data());
  reg.ring_entries = o.buffers;
  reg.bgid = kGroup;
  int rc = io_uring_register_buf_ring(w->ring_->get(), &reg, 0);
  if (rc != 0) return UringError("io_uring_register_buf_ring", rc);
  w->br_ = reinterpret_cast<io_uring_buf_ring*>(w->ring_mem_.data());
  io_uring_buf_ring_init(w->br_);
  for (unsigned i = 0; i < o.buffers; ++i) w->RecycleBuffer(i);
  io_uring_buf_ring_advance(w->br_, static_cast<int>(w->recycled_));
  w->recycled_ = 0;

  w->recv_msg_ = {};
  w->recv_msg_.msg_namelen = sizeof(sockaddr_in6);
  return w;
}

absl::StatusOr<std::unique_ptr<MmsgUdpLoop>> MmsgUdpLoop::Create(
    const LoopEnv& env, std::vector<util::UniqueFd> sockets, const Options& o) {
  if (sockets.empty()) return absl::InvalidArgumentError("a UDP worker needs a socket");
  auto wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  std::unique_ptr<MmsgUdpLoop> w(new MmsgUdpLoop(env, std::move(*wake)));
  w->sockets_ = std::move(sockets);
  w->batch_ = o.batch == 0 ? 64 : (o.batch > 1024 ? 1024 : o.batch);
  auto slot_mem = Region::Map(std::size_t{w->batch_} * sizeof(Slot));
  if (!slot_mem.ok()) return slot_mem.status();
  w->slot_mem_ = std::move(*slot_mem);
  w->slot_ = reinterpret_cast<Slot*>(w->slot_mem_.data());
  w->in_.assign(w->batch_, mmsghdr{});
  w->out_.assign(w->batch_, mmsghdr{});
  for (unsigned i = 0; i < w->batch_; ++i) {
    Slot& s = w->slot_[i];
    s.in_iov = {s.in, sizeof(s.in)};
    s.out_iov = {s.out, sizeof(s.out)};
    msghdr& h = w->in_[i].msg_hdr;
    h.msg_name = &s.name;
    h.msg_namelen = sizeof(s.name);
    h.msg_iov = &s.in_iov;
    h.msg_iovlen = 1;
  }
  for (const util::UniqueFd& fd : w->sockets_) w->pfds_.push_back({fd.get(), POLLIN, 0});
  w->pfds_.push_back({w->wake_.get(), POLLIN, 0});
  return w;
}

}  // namespace meshbl::server::internal
