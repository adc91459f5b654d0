#!/usr/bin/env bash
# `meshbl bench` end to end on 127.0.0.1: the reflector, a JSON report whose
# counts add up, validation against --data (the reflector's NOERROR is wrong
# for unlisted names; --strict turns that into exit 3), --write-queries,
# --startup against meshbld, and usage errors. No timing is asserted.
# Usage: bench_cli_test.sh MESHBL_BINARY MESHBLD_BINARY SOURCE_DIR
set -u
meshbl=$1
meshbld=$2
src=$3
work=$(mktemp -d)
chmod 755 "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
# A world-readable copy: meshbld started as root reads its data as the
# rbldns user, as rbldnsd does, and a checkout under mktemp -d is private.
cp "$src/examples/bl-ip4.txt" "$work/bl-ip4.txt"
chmod 644 "$work/bl-ip4.txt"
data=bl.example:ip4set:"$work/bl-ip4.txt"
port=$((30000 + RANDOM % 20000))

"$meshbl" bench --help | grep -q -- '--reflect ADDR:PORT' && ok "--help" || bad "--help"
"$meshbl" bench --bogus 127.0.0.1 >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown option exits 2" || bad "unknown option exit status"
"$meshbl" bench --data "$data" >/dev/null 2>&1
[ $? -eq 2 ] && ok "no target exits 2" || bad "no target exit status"
"$meshbl" bench --queries /nonexistent 127.0.0.1:$port >/dev/null 2>&1
[ $? -eq 1 ] && ok "missing query file exits 1" || bad "missing query file exit status"

"$meshbl" bench --data "$data" --pool 50 --write-queries "$work/q.txt"
if [ "$(wc -l <"$work/q.txt")" -eq 50 ] && grep -qE '^[0-9.]+\.bl\.example (A|TXT)$' "$work/q.txt"; then
  ok "--write-queries writes dnsperf lines"
else
  bad "--write-queries"; cat "$work/q.txt"
fi

"$meshbl" bench --reflect 127.0.0.1:$port --seconds 60 2>"$work/reflect.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q reflecting "$work/reflect.err" && break; sleep 0.05; done

check_json() {  # file, python condition on j
  python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {}, {"j": j})
if not ok:
    print(json.dumps(j, indent=1))
sys.exit(0 if ok else 1)
PY
}

"$meshbl" bench --data "$data" --expect-rcode NOERROR --seconds 0.5 --warmup 0.1 --json \
  127.0.0.1:$port >"$work/r1.json"
if check_json "$work/r1.json" \
  'j["sent"] == j["replies"] + j["lost"] and j["replies"] > 0 and j["wrong_rcode"] == 0 and j["malformed"] == 0 and j["rcodes"].get("NOERROR") == j["replies"]'; then
  ok "reflector run: counts add up, every reply valid"
else
  bad "reflector run"
fi

"$meshbl" bench --queries "$work/q.txt" --rate 2000 --count 300 --warmup 0 --json \
  --expect-rcode NOERROR 127.0.0.1:$port >"$work/r2.json"
check_json "$work/r2.json" 'j["sent"] == 300 and j["mode"] == "open" and j["sent"] == j["replies"] + j["lost"]' \
  && ok "open loop sends exactly --count" || bad "open loop --count"

"$meshbl" bench --data "$data" --seconds 0.3 --warmup 0 --strict --json 127.0.0.1:$port \
  >"$work/r3.json"
rc=$?
if [ $rc -eq 3 ] && check_json "$work/r3.json" 'j["wrong_rcode"] > 0'; then
  ok "--data catches NOERROR for unlisted names; --strict exits 3"
else
  bad "validation against --data (exit $rc)"
fi

"$meshbl" bench --data "$data" --tcp 127.0.0.1:$port --seconds 0.2 >/dev/null 2>&1
[ $? -eq 1 ] && ok "TCP to a UDP-only reflector fails to connect (exit 1)" || bad "tcp connect failure"

kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
grep -qE 'received [0-9]+, answered [0-9]+' "$work/reflect.err" && ok "reflector reports its counts" \
  || { bad "reflector counts"; cat "$work/reflect.err"; }

port2=$((port + 1))
out=$("$meshbl" bench --startup --data "$data" 127.0.0.1:$port2 -- "$meshbld" -n -b 127.0.0.1/$port2 \
      "$data" 2>&1)
grep -qE '^first answer after [0-9.]+ s .*RSS then [1-9][0-9]* KiB' <<<"$out" && ok "--startup against meshbld" \
  || { bad "--startup"; echo "$out"; }
out=$("$meshbl" bench --startup 127.0.0.1:$port2 -- false 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q 'exited (status 1) before answering' <<<"$out" && ok "--startup: a server that exits" \
  || { bad "--startup with a failing command (exit $rc)"; echo "$out"; }

exit $fail
