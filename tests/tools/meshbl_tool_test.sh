#!/usr/bin/env bash
# The operator tool on the bundled example zone: RFC 5782 test points
# (127.0.0.2 and TEST listed, 127.0.0.1 and INVALID not), compile -> inspect
# -> lookup on the snapshot gives the same answers as lookup on the text,
# check reports a broken line as file:line and exits 1, inspect rejects a
# corrupted snapshot, dump writes the same master file from both.
# Usage: meshbl_tool_test.sh MESHBL_BINARY SOURCE_DIR
set -u
meshbl=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() {  # description, pattern, command...
  local what=$1 pattern=$2
  shift 2
  local out
  out=$("$@" 2>&1)
  if ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $what: wanted /$pattern/ in:"; echo "$out"; fail=1
  else
    echo "ok: $what"
  fi
}
specs=(bl.example:ip4set:"$src/examples/bl-ip4.txt" bl.example:dnset:"$src/examples/bl-domains.txt")
"$meshbl" compile -o "$work/bl.mbs" "${specs[@]}" >/dev/null || { echo "FAIL: compile"; exit 1; }
for data in "$work/bl.mbs" "${specs[*]}"; do
  # shellcheck disable=SC2086
  expect "127.0.0.2 listed ($data)" $'IN\tA\t127.0.0.2' "$meshbl" lookup $data 2.0.0.127.bl.example A
  expect "127.0.0.2 TXT names the IP" 'TXT.*ip=127.0.0.2' "$meshbl" lookup $data 2.0.0.127.bl.example TXT
  expect "127.0.0.1 not listed" 'NXDOMAIN' "$meshbl" lookup $data 1.0.0.127.bl.example A
  expect "TEST listed" 'Domain test is listed' "$meshbl" lookup $data test.bl.example TXT
  expect "INVALID not listed" 'NXDOMAIN' "$meshbl" lookup $data invalid.bl.example A
  expect "apex SOA" $'IN\tSOA\tns1.bl.example.' "$meshbl" lookup $data bl.example SOA
done
expect "inspect shows checksums" 'checksums: header, section table and [0-9]+ sections verified' \
  "$meshbl" inspect "$work/bl.mbs"
printf '10.0.0.1\nnot-an-ip\n' > "$work/bad.txt"
expect "check names file:line" "bad.txt:2: " "$meshbl" check x:ip4set:"$work/bad.txt"
if "$meshbl" check x:ip4set:"$work/bad.txt" >/dev/null 2>&1; then echo "FAIL: check exit 0"; fail=1; fi
cp "$work/bl.mbs" "$work/corrupt.mbs"
printf 'X' | dd of="$work/corrupt.mbs" bs=1 seek=200 conv=notrunc 2>/dev/null
expect "corrupt snapshot rejected" 'invalid snapshot' "$meshbl" inspect "$work/corrupt.mbs"
if "$meshbl" inspect "$work/corrupt.mbs" >/dev/null 2>&1; then echo "FAIL: inspect exit 0"; fail=1; fi
expect "--help documents lookup" 'lookup \[options\]' "$meshbl" --help
# dump: the snapshot and the text it came from give the same master file
# (after the two header comments); the example's 127.0.0.2 is in it.
"$meshbl" dump "$work/bl.mbs" > "$work/snap.zone" 2>/dev/null || { echo "FAIL: dump snapshot"; fail=1; }
"$meshbl" dump "${specs[@]}" > "$work/text.zone" 2>/dev/null || { echo "FAIL: dump text"; fail=1; }
if ! diff <(tail -n +3 "$work/snap.zone") <(tail -n +3 "$work/text.zone") >/dev/null; then
  echo "FAIL: dump of the snapshot differs from the dump of its text"; fail=1
else
  echo "ok: dump of snapshot equals dump of text"
fi
expect "dump lists 127.0.0.2" $'^2\\.0\\.0\\.127\tA\t127\\.0\\.0\\.2' cat "$work/snap.zone"
expect "dump starts the zone" $'^\\$ORIGIN\tbl\\.example\\.$' cat "$work/snap.zone"
# One source grammar (issue 10 item 5): every command that reads data takes
# every form meshbld takes, and gives the same answer from each.
forms=("$work/bl.mbs" "bl.example:snapshot:$work/bl.mbs" "bl.example:snapshot:$work/bl.mbs,"
       ":snapshot:$work/bl.mbs" "${specs[*]}")
"$meshbl" dump "$work/bl.mbs" 2>/dev/null | tail -n +3 > "$work/want.zone"
for data in "${forms[@]}"; do
  # shellcheck disable=SC2086
  expect "lookup: $data" $'IN\tA\t127.0.0.2' "$meshbl" lookup $data 2.0.0.127.bl.example A
  # shellcheck disable=SC2086
  expect "check: $data" '^ok: ' "$meshbl" check $data
  # shellcheck disable=SC2086
  expect "inspect: $data" 'checksums: header, section table and [0-9]+ sections verified' \
    "$meshbl" inspect $data
  # shellcheck disable=SC2086
  if ! diff <("$meshbl" dump $data 2>/dev/null | tail -n +3) "$work/want.zone" >/dev/null; then
    echo "FAIL: dump: $data"; fail=1
  else
    echo "ok: dump: $data"
  fi
  bench_args=()
  for one in $data; do bench_args+=(--data "$one"); done
  rm -f "$work/q.txt"
  "$meshbl" bench "${bench_args[@]}" --pool 50 --write-queries "$work/q.txt" >/dev/null 2>&1
  expect "bench --data: $data" '^50$' grep -c 'bl\.example' "$work/q.txt"
done
# compile writes text zone specs; a snapshot source is named in the refusal.
expect "compile refuses a snapshot source" "is a compiled snapshot" \
  "$meshbl" compile -o "$work/x.mbs" "bl.example:snapshot:$work/bl.mbs"
# A snapshot named after a zone it lacks is served, with a warning check counts.
expect "lookup: other zone name warns" "has no zone .other.example." \
  "$meshbl" lookup "other.example:snapshot:$work/bl.mbs" 2.0.0.127.bl.example A
if "$meshbl" check "other.example:snapshot:$work/bl.mbs" >/dev/null 2>&1; then
  echo "FAIL: check of a snapshot without the named zone exit 0"; fail=1
fi
# Bad sources: the same rbldnsd message from every command.
for cmd in check inspect lookup dump compile; do
  for bad in "bl.txt|invalid zone spec .bl.txt." "bl:snapshot:,|missing filenames for snapshot" \
             "bl:ip4sett:f|unknown dataset type .ip4sett."; do
    args=("${bad%%|*}")
    [ "$cmd" = lookup ] && args+=(x.bl)
    [ "$cmd" = compile ] && args=(-o "$work/x.mbs" "${args[@]}")
    expect "$cmd ${bad%%|*}" "${bad#*|}" "$meshbl" "$cmd" "${args[@]}"
  done
done
# ctl without a daemon: exit 2 naming the socket and the errno text (a
# missing socket; a path that is a regular file), usage errors exit 2.
exit_is() {  # description, wanted exit code, command...
  local what=$1 want=$2
  shift 2
  "$@" >/dev/null 2>&1 </dev/null
  local rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL: $what: exit $rc, wanted $want"; fail=1; else echo "ok: $what"; fi
}
expect "ctl: no socket names path and errno" \
  "meshbl ctl: $work/none.ctl: connect: No such file or directory" "$meshbl" ctl -s "$work/none.ctl" stats
exit_is "ctl: no socket exits 2" 2 "$meshbl" ctl -s "$work/none.ctl" stats
exit_is "ctl -: no socket exits 2" 2 "$meshbl" ctl -s "$work/none.ctl" -
: > "$work/plain.ctl"
expect "ctl: not a socket" "meshbl ctl: $work/plain.ctl: connect: Connection refused" \
  "$meshbl" ctl --socket="$work/plain.ctl" stats
exit_is "ctl: no command exits 2" 2 "$meshbl" ctl -s "$work/none.ctl"
exit_is "ctl --help exits 0" 0 "$meshbl" ctl --help
expect "ctl --help lists load" 'load LIST FILE' "$meshbl" ctl --help
expect "--help mentions ctl" 'ctl \[-s SOCKET\]' "$meshbl" --help
# ctl against a stand-in server (python3): data lines printed unstuffed,
# exit 0 on ok, 1 on error with the message on stderr; `ctl -` sends every
# line and names the failing one; load's relative FILE made absolute.
fake_server() {  # SOCKET: answers each line "ok", "echo:LINE", ".x"; lines "bad..." an error
  python3 - "$1" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1] + ".new"); os.rename(sys.argv[1] + ".new", sys.argv[1]); s.listen(4)
s.settimeout(20)
for _ in range(4):  # one connection per ctl run below
    c, _ = s.accept(); f = c.makefile("rwb")
    for line in f:
        line = line.rstrip(b"\n")
        if line.startswith(b"bad"):
            f.write(b"error: no such thing: " + line + b"\n.\n")
        else:
            f.write(b"ok\necho:" + line + b"\n..x\n.\n")
        f.flush()
    c.close()
PY
  for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
  echo "FAIL: stand-in server did not start"; fail=1
}
fake_server "$work/fake.ctl"
out=$("$meshbl" ctl -s "$work/fake.ctl" list traps 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [ "$out" = $'echo:list traps\n.x' ]; then echo "ok: ctl prints data lines";
else echo "FAIL: ctl ok: exit $rc, output: $out"; fail=1; fi
out=$("$meshbl" ctl -s "$work/fake.ctl" bad del x 2>&1 >/dev/null); rc=$?
if [ "$rc" -eq 1 ] && [ "$out" = "meshbl ctl: no such thing: bad del x" ]; then echo "ok: ctl error exits 1";
else echo "FAIL: ctl error: exit $rc, stderr: $out"; fail=1; fi
meshbl_abs=$(realpath "$meshbl")
out=$(cd "$work" && printf 'stats\n# comment\n\nbad one\nload traps sub/../f.txt\n' |
      "$meshbl_abs" ctl -s "$work/fake.ctl" - 2>&1); rc=$?
if [ "$rc" -eq 1 ] && grep -q "^meshbl ctl: stdin:4: no such thing: bad one$" <<<"$out" &&
   grep -q "^echo:stats$" <<<"$out" && grep -qx "echo:load traps $work/sub/../f.txt" <<<"$out"; then
  echo "ok: ctl - sends every line, names the failing one, makes load paths absolute"
else echo "FAIL: ctl -: exit $rc, output: $out"; fail=1; fi
"$meshbl" ctl -s "$work/fake.ctl" stats >/dev/null 2>&1  # the server's last connection
wait
exit $fail
