#!/usr/bin/env bash
# End-to-end UDP throughput, one server core: the recvmmsg reflector (no
# lookup, the machine's ceiling), Debian's rbldnsd, meshbld with the io_uring
# backend and meshbld with the recvmmsg backend, one worker each, pinned to
# CPU 1; the load generator (bench/udp_load, closed loop, 256 outstanding,
# half listed names) pinned to CPU 0. Rounds alternate the servers; prints
# medians with [min..max]. Each round also runs an open-loop phase at a fixed
# offered load (RATE q/s, below every server's saturation) and records p50 and
# p99 latency. 127.0.0.1 only.
# Usage: bench/e2e_compare.sh [BUILD_DIR] [ROUNDS] [SECONDS] [ENTRIES] [RATE]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
secs=${3:-5}
n=${4:-1000000}
rate=${5:-100000}
work=$(mktemp -d /tmp/meshbl-e2e.XXXXXX)
chmod 755 "$work"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$n" "$work/ip4.txt" "$work/hits.txt" <<'PY'
import sys
n, data, hits = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(data, "w") as d, open(hits, "w") as h:
    d.write(":127.0.0.2:Listed: see https://bl.example/$\n")
    for i in range(n):
        a = (i * 2654435761) & 0xffffffff
        s = f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}\n"
        d.write(s)
        if i < 100000: h.write(s)
PY
chmod 644 "$work"/*.txt
port=$((20000 + RANDOM % 20000))
wait_up() {
  for _ in $(seq 1 300); do
    dig +short +tries=1 +time=1 @127.0.0.1 -p $port x.bl.test A >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
declare -A results p50s p99s
servers=(reflector rbldnsd meshbld-uring meshbld-mmsg)
for r in $(seq 1 "$rounds"); do
  for s in "${servers[@]}"; do
    case $s in
      reflector) taskset -c 1 "$build/bench/udp_load" --reflect $port >/dev/null 2>&1 & ;;
      rbldnsd) taskset -c 1 /usr/sbin/rbldnsd -n -b 127.0.0.1/$port bl.test:ip4set:"$work/ip4.txt" >/dev/null 2>&1 & ;;
      meshbld-*) taskset -c 1 "$build/meshbld" -n -b 127.0.0.1/$port --threads 1 \
                   --udp-backend "${s#meshbld-}" bl.test:ip4set:"$work/ip4.txt" >/dev/null 2>&1 & ;;
    esac
    pid=$!
    if [ "$s" != reflector ]; then wait_up || { echo "$s did not start"; exit 1; }; else sleep 0.3; fi
    out=$(taskset -c 0 "$build/bench/udp_load" --target 127.0.0.1:$port --zone bl.test \
            --seconds "$secs" --hit-file "$work/hits.txt" --qtype TXT)
    qps=$(sed -n 's/.* \([0-9]*\) queries\/s.*/\1/p' <<<"$out" | head -1)
    results[$s]+="$qps "
    echo "round $r $s: $(head -1 <<<"$out")"
    lat=$(taskset -c 0 "$build/bench/udp_load" --target 127.0.0.1:$port --zone bl.test \
            --seconds "$secs" --rate "$rate" --hit-file "$work/hits.txt" --qtype TXT)
    p50s[$s]+="$(sed -n 's/.*p50 \([0-9]*\) .*/\1/p' <<<"$lat") "
    p99s[$s]+="$(sed -n 's/.* p99 \([0-9]*\) .*/\1/p' <<<"$lat") "
    echo "round $r $s at $rate q/s: $(sed -n 1,2p <<<"$lat" | tr '\n' ' ')"
    kill $pid; wait $pid 2>/dev/null || true; pid=
    port=$((port + 1))
  done
done
echo
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {printf "%d [%d..%d]", v[int((NR+1)/2)], v[1], v[NR]}'; }
for s in "${servers[@]}"; do
  # shellcheck disable=SC2086
  printf "%-14s closed loop %s q/s; at %s q/s: p50 %s us, p99 %s us\n" "$s" "$(med ${results[$s]})" \
    "$rate" "$(med ${p50s[$s]})" "$(med ${p99s[$s]})"
done
