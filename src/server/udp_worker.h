// UDP worker loops (private to the server layer). A worker is one thread
// that owns one SO_REUSEPORT socket per listen address, its own
// ZoneSetReader, its own Answer scratch and its own counters. The loop is a
// strategy object chosen once when the worker is built (UringUdpLoop or
// MmsgUdpLoop); Run() contains no backend branch per packet.
//
// Setup (Create) lives in udp_setup.cc and may allocate; Run() lives in
// udp_worker.cc, a hot-path file (no allocation, no Status, no exceptions).
#ifndef MESHBL_SERVER_UDP_WORKER_H_
#define MESHBL_SERVER_UDP_WORKER_H_

#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "meshbl/server/respond.h"
#include "meshbl/server/server.h"
#include "meshbl/table/query.h"
#include "meshbl/table/swap.h"
#include "meshbl/util/mapped_file.h"

namespace meshbl::server::internal {

// Counters a worker publishes once per batch with relaxed stores (no RMW)
// and a stats reader sums. One cache line (or more) per worker.
template <typename T>
class alignas(64) PublishedStats {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 8 == 0 &&
                    alignof(T) == alignof(std::uint64_t),
                "stats structs are plain uint64 counters");
  static constexpr std::size_t kWords = sizeof(T) / 8;

 public:
  // Worker side: copies `local` out. Allocation-free.
  void Publish(const T& local) noexcept {
    std::uint64_t w[kWords];
    std::memcpy(w, &local, sizeof(T));
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_relaxed);
  }
  // Reader side: adds this worker's last published values to `sum`.
  void AddTo(T* sum) const noexcept {
    std::uint64_t w[kWords];
    std::memcpy(w, sum, sizeof(T));
    for (std::size_t i = 0; i < kWords; ++i) w[i] += words_[i].load(std::memory_order_relaxed);
    std::memcpy(sum, w, sizeof(T));
  }

 private:
  std::atomic<std::uint64_t> words_[kWords] = {};
};

// What every loop shares with its Server (read-only while running, except
// `stop`, which Server::Stop sets before waking the loop).
struct LoopEnv {
  const ResponderConfig* responder = nullptr;
  table::ZoneSetHolder* zones = nullptr;
  const table::OverlaySetHolder* overlays = nullptr;  // live lists, or nullptr
  const std::atomic<bool>* stop = nullptr;
  QueryLog* query_log = nullptr;  // -l: each loop records its replies in its own ring
};

// A wake-up eventfd: Stop() writes it, the loop waits on it.
absl::StatusOr<util::UniqueFd> MakeEventFd();
void Wake(int efd) noexcept;

// The per-worker strategy.
class UdpLoop {
 public:
  virtual ~UdpLoop() = default;
  // Serves until *env.stop is set and the wake fd is written. Runs on the
  // worker thread only.
  virtual void Run() noexcept = 0;
  int wake_fd() const noexcept { return wake_.get(); }
  PublishedStats<ResponderStats>& published_responder() noexcept { return pub_responder_; }
  PublishedStats<IoStats>& published_io() noexcept { return pub_io_; }

 protected:
  UdpLoop(const LoopEnv& env, util::UniqueFd wake)
      : env_(env),
        reader_(*env.zones),
        overlay_reader_(env.overlays),
        wake_(std::move(wake)),
        qlog_(env.query_log != nullptr ? env.query_log->AddRing() : nullptr) {}
  void PublishStats() noexcept {
    pub_responder_.Publish(stats_);
    pub_io_.Publish(io_);
  }

  LoopEnv env_;
  table::ZoneSetReader reader_;
  table::OverlaySetReader overlay_reader_;
  const table::OverlaySet* overlays_ = nullptr;  // current for this batch
  util::UniqueFd wake_;
  QueryLogRing* qlog_;  // nullptr without -l
  std::unique_ptr<table::Answer> scratch_ = std::make_unique<table::Answer>();
  ResponderStats stats_;
  IoStats io_;
  PublishedStats<ResponderStats> pub_responder_;
  PublishedStats<IoStats> pub_io_;
};

// An anonymous private mapping (ring memory, buffers). Move-only.
class Region {
 public:
  static absl::StatusOr<Region> Map(std::size_t size);
  Region() = default;
  Region(Region&& o) noexcept : addr_(o.addr_), size_(o.size_) {
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  Region& operator=(Region&& o) noexcept;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region();
  std::uint8_t* data() const noexcept { return static_cast<std::uint8_t*>(addr_); }
  std::size_t size() const noexcept { return size_; }

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

// An initialised io_uring. Move-only would need care with the ring's
// pointers into itself, so it is neither copyable nor movable; hold it by
// unique_ptr.
class Ring {
 public:
  // SINGLE_ISSUER (+ DEFER_TASKRUN when the kernel has it), SUBMIT_ALL and
  // a CQ of `cq_entries`. Must be called on the thread that will submit.
  static absl::StatusOr<std::unique_ptr<Ring>> Create(unsigned sq_entries, unsigned cq_entries);
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() { io_uring_queue_exit(&ring_); }
  io_uring* get() noexcept { return &ring_; }
  bool defer_taskrun() const noexcept { return defer_taskrun_; }

 private:
  Ring() = default;
  io_uring ring_{};
  bool defer_taskrun_ = false;
};

// Checks once, on a throw-away ring, that io_uring can run the UDP loop:
// ring setup, IORING_OP_RECVMSG / SENDMSG / READ, the provided-buffer ring
// and multishot recvmsg. The error names what is missing and the kernel.
absl::Status ProbeUring();

// io_uring backend: multishot recvmsg on a provided-buffer ring, replies
// from per-slot send buffers with batched sendmsg SQEs.
class UringUdpLoop final : public UdpLoop {
 public:
  struct Options {
    unsigned buffers = 1024;  // power of two
    unsigned batch = 64;
  };
  // Builds the ring and buffers. Must run on the worker thread (the ring is
  // SINGLE_ISSUER).
  static absl::StatusOr<std::unique_ptr<UringUdpLoop>> Create(const LoopEnv& env,
                                                              std::vector<util::UniqueFd> sockets,
                                                              const Options& o);
  void Run() noexcept override;

 private:
  // user_data = kind << 32 | index.
  enum Op : std::uint32_t { kRecv = 1, kSend = 2, kWake = 3 };
  static constexpr std::uint16_t kGroup = 0;
  struct SendSlot {
    msghdr msg;
    iovec iov;
    sockaddr_in6 name;
    std::uint8_t data[kMaxUdpPayload];
  };

  UringUdpLoop(const LoopEnv& env, util::UniqueFd wake) : UdpLoop(env, std::move(wake)) {}
  io_uring_sqe* Sqe() noexcept;
  void ArmRecv(unsigned sock) noexcept;
  void ArmWake() noexcept;
  void OnRecv(const io_uring_cqe* cqe, const table::ZoneSet* zones, std::int64_t now) noexcept;
  void RecycleBuffer(unsigned bid) noexcept;

  std::vector<util::UniqueFd> sockets_;
  std::vector<std::uint8_t> need_arm_;
  Region ring_mem_;  // io_uring_buf_ring
  Region buf_mem_;   // buffers_ * buf_size_
  Region slot_mem_;  // SendSlot[slots_]
  std::vector<std::uint32_t> free_slots_;
  std::size_t free_count_ = 0;
  io_uring_buf_ring* br_ = nullptr;
  unsigned buffers_ = 0;
  unsigned buf_size_ = 0;
  unsigned recycled_ = 0;  // buffers added since the last advance
  unsigned slots_ = 0;
  unsigned batch_ = 0;
  msghdr recv_msg_{};
  std::uint64_t wake_value_ = 0;
  SendSlot* slot_ = nullptr;
  std::unique_ptr<Ring> ring_;  // destroyed first: the kernel lets go of the memory above
};

// recvmmsg/sendmmsg backend: poll() over the worker's sockets and wake fd,
// then up to `batch` datagrams per system call.
class MmsgUdpLoop final : public UdpLoop {
 public:
  struct Options {
    unsigned batch = 64;
  };
  static absl::StatusOr<std::unique_ptr<MmsgUdpLoop>> Create(const LoopEnv& env,
                                                             std::vector<util::UniqueFd> sockets,
                                                             const Options& o);
  void Run() noexcept override;

 private:
  struct Slot {
    sockaddr_in6 name;
    iovec in_iov;
    iovec out_iov;
    std::uint8_t in[kMaxUdpPayload];
    std::uint8_t out[kMaxUdpPayload];
  };
  MmsgUdpLoop(const LoopEnv& env, util::UniqueFd wake) : UdpLoop(env, std::move(wake)) {}
  void ServeSocket(int fd, const table::ZoneSet* zones, std::int64_t now) noexcept;

  std::vector<util::UniqueFd> sockets_;
  std::vector<pollfd> pfds_;
  Region slot_mem_;
  Slot* slot_ = nullptr;
  std::vector<mmsghdr> in_;
  std::vector<mmsghdr> out_;
  unsigned batch_ = 0;
};

}  // namespace meshbl::server::internal

#endif  // MESHBL_SERVER_UDP_WORKER_H_
