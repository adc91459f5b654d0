// A simple closed-loop UDP load generator and a reflector, until the full
// harness (`meshbl bench`, issue 4) exists.
//
//   udp_load --reflect PORT
//       Answers every datagram on 127.0.0.1:PORT by echoing it with QR set
//       (recvmmsg/sendmmsg, batches of 64): the ceiling of this machine's
//       loopback UDP path with no lookup at all.
//   udp_load --target 127.0.0.1:PORT --zone ZONE [--seconds S] [--window N]
//            [--rate QPS] [--hit-file FILE] [--qtype A|TXT]
//       Closed loop: keeps N queries outstanding (default 256) for S seconds
//       (default 5); open loop with --rate: sends QPS queries per second
//       whatever the replies. Names are reversed IPv4 under ZONE, half of them
//       from FILE (one IPv4 address per line: listed entries), half random.
//       Prints queries/s, replies, lost, latency percentiles (send to
//       receive, per query ID) and the RCODE histogram.
// Only 127.0.0.1 is allowed as a target. Every loop is bounded in time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kBatch = 64;

int Fail(const char* what) {
  std::perror(what);
  return 1;
}

int Reflect(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fail("bind");
  static char bufs[kBatch][2048];
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_in peers[kBatch];
  std::fprintf(stderr, "reflecting on 127.0.0.1:%d\n", port);
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {bufs[i], sizeof bufs[i]};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) {
      iov[i].iov_len = msgs[i].msg_len;
      if (msgs[i].msg_len > 2) bufs[i][2] = static_cast<char>(bufs[i][2] | 0x80);
    }
    sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
  }
}

std::string QueryPacket(std::uint16_t id, std::uint32_t ip, const std::string& zone,
                        std::uint16_t qtype) {
  std::string p;
  p.push_back(static_cast<char>(id >> 8));
  p.push_back(static_cast<char>(id));
  p += std::string("\0\0\0\1\0\0\0\0\0\0", 10);
  for (int k = 0; k < 4; ++k) {
    std::string label = std::to_string((ip >> (8 * k)) & 0xff);
    p.push_back(static_cast<char>(label.size()));
    p += label;
  }
  std::size_t start = 0;
  while (start <= zone.size()) {
    std::size_t dot = zone.find('.', start);
    if (dot == std::string::npos) dot = zone.size();
    if (dot > start) {
      p.push_back(static_cast<char>(dot - start));
      p += zone.substr(start, dot - start);
    }
    start = dot + 1;
  }
  p.push_back('\0');
  p.push_back(static_cast<char>(qtype >> 8));
  p.push_back(static_cast<char>(qtype));
  p += std::string("\0\1", 2);
  return p;
}

// Latency histogram: 1 us buckets up to 100 ms, then one overflow bucket.
class Histogram {
 public:
  void Add(std::int64_t ns) {
    std::int64_t us = ns / 1000;
    ++buckets_[static_cast<std::size_t>(us < 0 ? 0 : (us >= kBuckets ? kBuckets : us))];
    ++n_;
    if (ns > max_) max_ = ns;
  }
  double PercentileUs(double p) const {
    std::uint64_t want = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(n_));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i <= kBuckets; ++i) {
      seen += buckets_[i];
      if (seen > want) return static_cast<double>(i);
    }
    return static_cast<double>(kBuckets);
  }
  double MaxUs() const { return static_cast<double>(max_) / 1000.0; }

 private:
  static constexpr std::int64_t kBuckets = 100000;
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kBuckets + 1);
  std::uint64_t n_ = 0;
  std::int64_t max_ = 0;
};

int Load(const std::string& target, const std::string& zone, double seconds, std::uint64_t window,
         double rate, const std::string& hit_file, std::uint16_t qtype) {
  auto colon = target.rfind(':');
  if (colon == std::string::npos || target.substr(0, colon) != "127.0.0.1") {
    std::fprintf(stderr, "target must be 127.0.0.1:PORT\n");
    return 2;
  }
  int port = std::atoi(target.c_str() + colon + 1);
  std::vector<std::uint32_t> ips;
  if (!hit_file.empty()) {
    std::ifstream in(hit_file);
    std::string line;
    while (std::getline(in, line) && ips.size() < 1000000) {
      in_addr a;
      if (inet_pton(AF_INET, line.c_str(), &a) == 1) ips.push_back(ntohl(a.s_addr));
    }
  }
  std::mt19937 rng(1);
  constexpr std::size_t kPackets = 1 << 16;  // one per ID
  std::vector<std::string> packets(kPackets);
  for (std::size_t i = 0; i < kPackets; ++i) {
    std::uint32_t ip =
        (!ips.empty() && i % 2 == 0) ? ips[rng() % ips.size()] : static_cast<std::uint32_t>(rng());
    packets[i] = QueryPacket(static_cast<std::uint16_t>(i), ip, zone, qtype);
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fail("connect");

  static char rbufs[kBatch][4096];
  mmsghdr smsg[kBatch], rmsg[kBatch];
  iovec siov[kBatch], riov[kBatch];
  std::uint64_t sent = 0, received = 0, rcodes[16] = {};
  std::vector<std::int64_t> sent_at(kPackets, 0);  // send time per query ID
  Histogram latency;
  auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  std::size_t next = 0;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto stop =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto drain_until = stop + std::chrono::milliseconds(500);
  bool sending = true;
  while (Clock::now() < drain_until) {
    if (sending && Clock::now() >= stop) sending = false;
    if (!sending && received >= sent) break;
    int want = 0;
    if (sending && rate > 0) {  // open loop: the schedule decides, not the replies
      const double due = rate * std::chrono::duration<double>(Clock::now() - start).count() -
                         static_cast<double>(sent);
      want = static_cast<int>(std::min<double>(kBatch, due));
    } else if (sending) {
      want = static_cast<int>(std::min<std::uint64_t>(
          kBatch, window - std::min<std::uint64_t>(window, sent - received)));
    }
    if (want > 0) {
      const std::int64_t t = now_ns();
      for (int i = 0; i < want; ++i) {
        sent_at[(next + static_cast<std::size_t>(i)) & (kPackets - 1)] = t;
      }
      for (int i = 0; i < want; ++i) {
        const std::string& p = packets[next++ & (kPackets - 1)];
        siov[i] = {const_cast<char*>(p.data()), p.size()};
        smsg[i].msg_hdr = {};
        smsg[i].msg_hdr.msg_iov = &siov[i];
        smsg[i].msg_hdr.msg_iovlen = 1;
      }
      int n = sendmmsg(fd, smsg, static_cast<unsigned>(want), 0);
      if (n > 0) sent += static_cast<std::uint64_t>(n);
    }
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, rate > 0 && sending ? 0 : (sent > received ? 10 : 0)) <= 0) continue;
    for (int i = 0; i < kBatch; ++i) {
      riov[i] = {rbufs[i], sizeof rbufs[i]};
      rmsg[i].msg_hdr = {};
      rmsg[i].msg_hdr.msg_iov = &riov[i];
      rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, rmsg, kBatch, MSG_DONTWAIT, nullptr);
    const std::int64_t t = now_ns();
    for (int i = 0; i < n; ++i) {
      ++received;
      if (rmsg[i].msg_len < 4) continue;
      ++rcodes[rbufs[i][3] & 0xf];
      const auto id = static_cast<std::size_t>((static_cast<std::uint8_t>(rbufs[i][0]) << 8) |
                                               static_cast<std::uint8_t>(rbufs[i][1]));
      latency.Add(t - sent_at[id]);
    }
  }
  double elapsed = std::chrono::duration<double>(std::min(Clock::now(), stop) - start).count();
  std::printf("sent %llu, replies %llu, lost %llu, %.0f queries/s over %.2f s\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
              static_cast<unsigned long long>(sent - std::min(sent, received)),
              static_cast<double>(received) / elapsed, elapsed);
  std::printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
              latency.PercentileUs(50), latency.PercentileUs(90), latency.PercentileUs(99),
              latency.PercentileUs(99.9), latency.MaxUs());
  static const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  for (int r = 0; r < 16; ++r) {
    if (rcodes[r]) {
      std::printf("  %s: %llu\n", r < 6 ? kNames[r] : "other",
                  static_cast<unsigned long long>(rcodes[r]));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, zone = "bl.test", hit_file;
  double seconds = 5;
  std::uint64_t window = 256;
  double rate = 0;
  std::uint16_t qtype = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--reflect") return Reflect(std::atoi(next().c_str()));
    if (a == "--target")
      target = next();
    else if (a == "--zone")
      zone = next();
    else if (a == "--seconds")
      seconds = std::atof(next().c_str());
    else if (a == "--window")
      window = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--rate")
      rate = std::atof(next().c_str());
    else if (a == "--hit-file")
      hit_file = next();
    else if (a == "--qtype")
      qtype = next() == "TXT" ? 16 : 1;
    else {
      std::fprintf(stderr,
                   "usage: udp_load --reflect PORT | --target 127.0.0.1:PORT [--zone Z] "
                   "[--seconds S] [--window N] [--rate QPS] [--hit-file F] [--qtype A|TXT]\n");
      return 2;
    }
  }
  if (target.empty() || seconds <= 0 || seconds > 600 || window < 1 || window > 65536) {
    std::fprintf(stderr, "need --target 127.0.0.1:PORT, 0 < seconds <= 600, window >= 1\n");
    return 2;
  }
  return Load(target, zone, seconds, window, rate, hit_file, qtype);
}
