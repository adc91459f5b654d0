#!/usr/bin/env bash
# Loading 10M /32 ip4set entries, side by side, in alternating rounds:
#   rbldnsd        Debian's rbldnsd: process start to first answer, and RSS
#   compile        `meshbl compile` of the same text into a snapshot (incl. fsync)
#   open           `meshbl lookup` on the snapshot: process start, mmap,
#                  validate every checksum, first answer
# Prints medians with [min..max]. Each program is pinned to CPU 1.
# Usage: bench/load_compare.sh [BUILD_DIR] [ENTRIES] [ROUNDS]   (127.0.0.1 only)
set -euo pipefail
build=${1:-build}
n=${2:-10000000}
rounds=${3:-5}
work=$(mktemp -d /tmp/meshbl-load.XXXXXX)
chmod 755 "$work"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$n" > "$work/ip4.txt" <<'PY'
import sys
n = int(sys.argv[1])
buf = []
for i in range(n):
    a = (i * 2654435761) & 0xffffffff
    buf.append(f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}\n")
    if len(buf) == 100000:
        sys.stdout.write("".join(buf)); buf = []
sys.stdout.write("".join(buf))
PY
chmod 644 "$work/ip4.txt"
echo "entries: $n ($(du -h "$work/ip4.txt" | cut -f1) of text), $rounds alternating rounds"
q="0.0.0.0.bl.test"  # entry 0 is 0.0.0.0
now() { date +%s.%N; }
declare -a t_rbl rss_rbl t_comp rss_comp t_open rss_open
for r in $(seq 1 "$rounds"); do
  port=$((20000 + RANDOM % 20000))
  s=$(now)
  taskset -c 1 /usr/sbin/rbldnsd -n -b 127.0.0.1/$port bl.test:ip4set:"$work/ip4.txt" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    dig +short +tries=1 +time=1 @127.0.0.1 -p $port $q A 2>/dev/null | grep -q 127.0.0.2 && break
    sleep 0.02
  done
  e=$(now)
  t_rbl+=("$(echo "$e - $s" | bc)")
  rss_rbl+=("$(awk '/VmRSS/ {print $2}' /proc/$pid/status)")
  kill $pid; wait $pid 2>/dev/null || true; pid=

  out=$( { /usr/bin/time -f "%e %M" taskset -c 1 "$build/meshbl" compile -o "$work/ip4.mbs" \
           bl.test:ip4set:"$work/ip4.txt" >/dev/null; } 2>&1 )
  t_comp+=("${out% *}"); rss_comp+=("${out#* }")
  s=$(now)
  taskset -c 1 "$build/meshbl" lookup "$work/ip4.mbs" $q A | grep -q 127.0.0.2
  e=$(now)
  t_open+=("$(echo "$e - $s" | bc)")
  out=$( { /usr/bin/time -f "%M" "$build/meshbl" lookup "$work/ip4.mbs" $q A >/dev/null; } 2>&1 )
  rss_open+=("$out")
done
summary() {  # label unit values...
  local label=$1 unit=$2
  shift 2
  printf '%s\n' "$@" | sort -g | awk -v l="$label" -v u="$unit" '
    {v[NR]=$1} END {printf "%-44s median %s %s [%s..%s]\n", l, v[int((NR+1)/2)], u, v[1], v[NR]}'
}
summary "rbldnsd: start to first answer" s "${t_rbl[@]}"
summary "meshbl compile (parse, build, fsync, rename)" s "${t_comp[@]}"
summary "meshbl lookup on snapshot (start..answer)" s "${t_open[@]}"
summary "rbldnsd RSS" KiB "${rss_rbl[@]}"
summary "meshbl compile peak RSS" KiB "${rss_comp[@]}"
summary "meshbl lookup peak RSS (snapshot mapped)" KiB "${rss_open[@]}"
size=$(stat -c %s "$work/ip4.mbs")
echo "snapshot file: $size bytes = $(echo "scale=2; $size / $n" | bc) bytes/entry mapped;" \
     "rbldnsd RSS/entry: $(echo "scale=2; ${rss_rbl[0]} * 1024 / $n" | bc) bytes"
