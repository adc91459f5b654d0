#!/usr/bin/env bash
# Compares loading 10M /32 ip4set entries: Debian's rbldnsd (start until the
# first answer, and its RSS) against `meshbl compile` (text -> snapshot) and
# `meshbl lookup` on the snapshot (open + validate + first answer).
# Usage: bench/load_compare.sh [BUILD_DIR] [ENTRIES]   (127.0.0.1 only)
set -euo pipefail
build=${1:-build}
n=${2:-10000000}
work=$(mktemp -d /tmp/meshbl-load.XXXXXX)
chmod 755 "$work"
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
pid=
python3 - "$n" > "$work/ip4.txt" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
buf = []
for i in range(n):
    a = (i * 2654435761) & 0xffffffff
    buf.append(f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}\n")
    if len(buf) == 100000:
        out.write("".join(buf)); buf = []
out.write("".join(buf))
PY
chmod 644 "$work/ip4.txt"
echo "entries: $n ($(du -h "$work/ip4.txt" | cut -f1) of text)"
first=$(python3 -c 'a=0; print(f"{a&255}.{(a>>8)&255}.{(a>>16)&255}.{a>>24}")')  # key of entry 0, reversed

port=$((20000 + RANDOM % 20000))
start=$(date +%s.%N)
/usr/sbin/rbldnsd -n -b 127.0.0.1/$port bl.test:ip4set:"$work/ip4.txt" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  if dig +short +tries=1 +time=1 @127.0.0.1 -p $port "$first.bl.test" A 2>/dev/null | grep -q 127.0.0.2; then break; fi
  sleep 0.05
done
end=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "rbldnsd: start to first answer $(echo "$end - $start" | bc) s, RSS ${rss} KiB ($(echo "scale=2; $rss * 1024 / $n" | bc) bytes/entry)"
kill $pid; wait $pid 2>/dev/null || true; pid=

/usr/bin/time -f "meshbl compile: %e s wall, %M KiB peak RSS" \
  "$build/meshbl" compile -o "$work/ip4.mbs" bl.test:ip4set:"$work/ip4.txt" >/dev/null
size=$(stat -c %s "$work/ip4.mbs")
echo "snapshot: $size bytes ($(echo "scale=2; $size / $n" | bc) bytes/entry mapped)"
/usr/bin/time -f "meshbl lookup on the snapshot (process start, mmap, validate, answer): %e s wall, %M KiB peak RSS" \
  "$build/meshbl" lookup "$work/ip4.mbs" "$first.bl.test" A | head -3
