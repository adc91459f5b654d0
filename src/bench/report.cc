#include "meshbl/bench/report.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace meshbl::bench {

namespace {

// 1234567 -> "1,234,567".
std::string Grouped(std::uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

double Us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Mode(const LoadReport& r) {
  const char* proto = r.transport == Transport::kUdp ? "udp" : "tcp";
  if (r.open_loop) return absl::StrFormat("%s open loop at %.0f q/s", proto, r.offered_rate);
  return absl::StrFormat("%s closed loop, %u outstanding", proto, r.window);
}

std::string Verdict(const LoadReport& r) {
  const std::string s = r.Saturated();
  if (r.open_loop) {
    return s == "rate" ? "the offered rate was sent on schedule"
                       : "the generator could NOT send at the offered rate";
  }
  if (s == "server") {
    return absl::StrFormat("server-bound: the generator waited for replies %.0f%% of the time",
                           100 * r.idle_fraction);
  }
  return "GENERATOR-bound: it never waited, so the figure is a lower bound for the server";
}

}  // namespace

std::string FormatText(const LoadReport& r, const RunDescription& d) {
  std::string o;
  absl::StrAppendFormat(&o, "meshbl bench: %s to %s, %.2f s measured after %.1f s warm-up%s\n",
                        Mode(r), d.target, r.seconds, d.warmup,
                        r.transport == Transport::kTcp
                            ? absl::StrFormat(", %d connections", d.connections)
                            : (r.gso ? ", UDP GSO" : ""));
  absl::StrAppendFormat(&o, "  queries         %s\n", d.queries);
  absl::StrAppendFormat(&o, "  sent            %s\n", Grouped(r.sent));
  absl::StrAppendFormat(&o, "  replies         %s  (%s q/s)\n", Grouped(r.replies),
                        Grouped(static_cast<std::uint64_t>(r.reply_rate() + 0.5)));
  absl::StrAppendFormat(
      &o, "  lost            %s  (%.4f%%; no reply within %.2f s), late %s\n", Grouped(r.lost),
      r.sent ? 100.0 * static_cast<double>(r.lost) / static_cast<double>(r.sent) : 0.0, d.timeout,
      Grouped(r.late));
  absl::StrAppendFormat(&o,
                        "  invalid         %s  (malformed %s, wrong question %s, wrong rcode %s), "
                        "unexpected IDs %s\n",
                        Grouped(r.invalid()), Grouped(r.malformed), Grouped(r.wrong_question),
                        Grouped(r.wrong_rcode), Grouped(r.unexpected));
  std::vector<std::string> rc;
  for (unsigned i = 0; i < 16; ++i) {
    if (r.rcodes[i]) rc.push_back(absl::StrCat(RcodeName(i), " ", Grouped(r.rcodes[i])));
  }
  absl::StrAppendFormat(&o, "  rcodes          %s%s\n", rc.empty() ? "-" : absl::StrJoin(rc, ", "),
                        r.truncated ? absl::StrCat("; TC set ", Grouped(r.truncated)) : "");
  const auto& h = r.latency;
  absl::StrAppendFormat(&o,
                        "  latency (us)    p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  "
                        "mean %.1f\n",
                        Us(h.Percentile(50)), Us(h.Percentile(90)), Us(h.Percentile(99)),
                        Us(h.Percentile(99.9)), Us(h.max()), h.mean() / 1000.0);
  absl::StrAppendFormat(&o, "  longest gap     %.2f ms without a reply while sending\n",
                        static_cast<double>(r.max_gap_ns) / 1e6);
  absl::StrAppendFormat(
      &o,
      "  generator       idle %.1f%%, receive batches %.0f%% full, %.1f queries "
      "per send call%s\n",
      100 * r.idle_fraction, 100 * r.recv_batch_fill, r.sends_per_call,
      r.send_errors ? absl::StrCat(", send errors ", Grouped(r.send_errors)) : "");
  if (r.tcp_reconnects) {
    absl::StrAppendFormat(&o, "  reconnects      %s\n", Grouped(r.tcp_reconnects));
  }
  absl::StrAppendFormat(&o, "  saturated       %s\n", Verdict(r));
  return o;
}

std::string FormatJson(const LoadReport& r, const RunDescription& d) {
  const auto& h = r.latency;
  std::string rc;
  for (unsigned i = 0; i < 16; ++i) {
    if (r.rcodes[i]) {
      absl::StrAppend(&rc, rc.empty() ? "" : ", ", JsonString(RcodeName(i)), ": ", r.rcodes[i]);
    }
  }
  return absl::StrFormat(
      "{\"target\": %s, \"transport\": \"%s\", \"mode\": \"%s\", \"offered_rate\": %.0f, "
      "\"window\": %u, \"connections\": %d, \"gso\": %s, \"queries\": %s, \"query_count\": %u, "
      "\"listed\": %u, \"warmup_s\": %.3f, \"timeout_s\": %.3f, \"seconds\": %.6f, "
      "\"sent\": %u, \"replies\": %u, \"lost\": %u, \"late\": %u, \"unexpected\": %u, "
      "\"malformed\": %u, \"wrong_question\": %u, \"wrong_rcode\": %u, \"truncated\": %u, "
      "\"rcodes\": {%s}, \"qps\": %.1f, "
      "\"latency_us\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p999\": %.2f, "
      "\"max\": %.2f, \"mean\": %.2f, \"min\": %.2f}, "
      "\"max_gap_ms\": %.3f, \"idle_fraction\": %.4f, \"recv_batch_fill\": %.4f, "
      "\"sends_per_call\": %.2f, \"send_calls\": %u, \"recv_calls\": %u, \"send_errors\": %u, "
      "\"tcp_reconnects\": %u, \"saturated\": \"%s\"}\n",
      JsonString(d.target), r.transport == Transport::kUdp ? "udp" : "tcp",
      r.open_loop ? "open" : "closed", r.offered_rate, r.window, d.connections,
      r.gso ? "true" : "false", JsonString(d.queries), d.query_count, d.listed, d.warmup, d.timeout,
      r.seconds, r.sent, r.replies, r.lost, r.late, r.unexpected, r.malformed, r.wrong_question,
      r.wrong_rcode, r.truncated, rc, r.reply_rate(), Us(h.Percentile(50)), Us(h.Percentile(90)),
      Us(h.Percentile(99)), Us(h.Percentile(99.9)), Us(h.max()), h.mean() / 1000.0, Us(h.min()),
      static_cast<double>(r.max_gap_ns) / 1e6, r.idle_fraction, r.recv_batch_fill, r.sends_per_call,
      r.send_calls, r.recv_calls, r.send_errors, r.tcp_reconnects, r.Saturated());
}

std::string FormatProgress(const LoadReport& r, double elapsed, std::uint64_t interval_replies) {
  return absl::StrFormat("%5.0f s  %9s q/s  sent %s  replies %s  lost %s  invalid %s  p99 %.0f us",
                         elapsed, Grouped(interval_replies), Grouped(r.sent), Grouped(r.replies),
                         Grouped(r.lost), Grouped(r.invalid()), Us(r.latency.Percentile(99)));
}

}  // namespace meshbl::bench
