#!/usr/bin/env bash
# End-to-end UDP throughput, one server core: the recvmmsg reflector (no
# lookup, the machine's ceiling), Debian's rbldnsd, meshbld with the io_uring
# backend and meshbld with the recvmmsg backend, one worker each, pinned to
# CPU 1; the load generator (bench/udp_load, closed loop, 256 outstanding,
# half listed names) pinned to CPU 0. Rounds alternate the servers; prints
# medians with [min..max]. 127.0.0.1 only.
# Usage: bench/e2e_compare.sh [BUILD_DIR] [ROUNDS] [SECONDS] [ENTRIES]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
secs=${3:-5}
n=${4:-1000000}
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
declare -A results
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
    kill $pid; wait $pid 2>/dev/null || true; pid=
    port=$((port + 1))
  done
done
echo
for s in "${servers[@]}"; do
  printf '%s\n' ${results[$s]} | sort -n | awk -v s="$s" '{v[NR]=$1} END {
    printf "%-14s median %7d q/s  [%d..%d]\n", s, v[int((NR+1)/2)], v[1], v[NR]}'
done
