#!/usr/bin/env bash
# What an operator does with a live list through meshbl ctl and meshbl report,
# against a running meshbld (no Postfix needed), checked with dig:
#   report -s (3 hits from 3 messages list a source; 2 do not), add with
#   code/ttl/reason for IPv4 networks, IPv6 prefixes and names, a more
#   specific entry winning over a covering one, del revealing the covering
#   entry, whitelist add (delists what it covers, refuses covered adds, wins
#   over a covering listing) and del, load FILE (all or nothing: a bad line
#   applies nothing and the error names file:line), expire, list, stats, and a
#   control socket that is not there (exit 2).
# Needs dig (skips with 77 naming it otherwise). Bounded waits; meshbld is
# killed on any exit.
# Usage: live_ctl_test.sh MESHBLD MESHBL
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# shellcheck disable=SC2015  # `cond && ok ... || bad ...`: ok always succeeds
set -u
meshbld=$1
meshbl=$2
command -v dig >/dev/null || { echo "SKIP: dig is not installed (apt-get install bind9-dnsutils)"; exit 77; }
run_user=rbldns
getent passwd "$run_user" >/dev/null || run_user=nobody
user_args=()
[[ $(id -u) == 0 ]] && user_args=(-u "$run_user")

work=$(mktemp -d /tmp/meshbl_live_ctl.XXXXXX)
chmod 755 "$work"
mkdir "$work/store"
[[ $(id -u) == 0 ]] && chown "$run_user" "$work/store"
ctl_sock=$work/ctl
pid=
fail=0
cleanup() {
  [[ -n $pid ]] && { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  ((fail)) && { echo "--- meshbld log"; tail -n 30 "$work/meshbld.log"; }
  rm -rf "$work"
}
trap cleanup EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
die() { echo "FAIL: $*"; fail=1; exit 1; }

cat >"$work/live.toml" <<'TOML'
[list.traps]
threshold = 3.0
window = "1h"
listing = ["1h"]
never_list = ["private", "link-local"]
ttl = "17s"
TOML

"$meshbld" -n "${user_args[@]}" -b 127.0.0.1/0 --live-config "$work/live.toml" \
  --live-store "$work/store/live.mdb" --control-socket "$ctl_sock" \
  live.example:live:traps >"$work/meshbld.log" 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do
  grep -q 'started (' "$work/meshbld.log" && break
  kill -0 "$pid" 2>/dev/null || die "meshbld exited"
  sleep 0.05
done
port=$(grep -o 'listening on 127.0.0.1/[0-9]*' "$work/meshbld.log" | cut -d/ -f2)
[[ -n $port ]] || die "meshbld did not start"

ctl() { "$meshbl" ctl -s "$ctl_sock" "$@"; }
# The A and TXT answers of NAME in live.example ("NXDOMAIN" when none).
ask() {
  local out status
  out=$(dig +norec +time=2 +tries=2 -p "$port" @127.0.0.1 "$1.live.example" ANY +noall +comments +answer)
  status=$(grep -o 'status: [A-Z]*' <<<"$out" | cut -d' ' -f2)
  [[ $status == NOERROR ]] || { echo "$status"; return; }
  awk '$4 == "A" || $4 == "TXT" { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' <<<"$out" | sort | tr '\n' ' ' |
    sed 's/ $//'
}
expect() {  # NAME WANT WHAT
  local got
  got=$(ask "$1")
  [[ $got == "$2" ]] && ok "$3" || bad "$3: $1 answered '$got', want '$2'"
}

# report -s: two hits are not enough, the third message lists.
printf 'hit 192.0.2.55 spamtrap@example.net id=1\nhit 192.0.2.55 honeypot@example.net id=2\n' |
  "$meshbl" report -s "$ctl_sock" - >/dev/null || bad "report -s failed"
expect 55.2.0.192 NXDOMAIN "two hits from two messages do not list"
"$meshbl" report -s "$ctl_sock" hit 192.0.2.55 spamtrap@example.net id=3 >/dev/null || bad "report -s hit failed"
expect 55.2.0.192 'A 127.0.0.2 TXT "Listed by meshbl: 192.0.2.55 hit spamtraps"' "the third message lists"
ctl show traps 192.0.2.55 | grep -q 'score 3.00' && ok "show explains the score" || bad "show: no score"

# add: networks, IPv6, names; the most specific entry decides.
ctl add traps 203.0.113.0/24 code=3 reason='net $' >/dev/null || bad "add /24"
ctl add traps 203.0.113.7 code=4 ttl=1h reason='host $' >/dev/null || bad "add /32"
expect 9.113.0.203 'A 127.0.0.3 TXT "net 203.0.113.9"' "a /24 answers for its addresses"
expect 7.113.0.203 'A 127.0.0.4 TXT "host 203.0.113.7"' "the /32 wins over the /24"
ttls=$(dig +norec +time=2 +tries=2 -p "$port" @127.0.0.1 7.113.0.203.live.example ANY +noall +answer |
  awk '{ print $2 }' | sort -u | tr '\n' ' ')
[[ $ttls == "17 " ]] && ok "answers carry the list's ttl" || bad "answer TTLs '$ttls', want the list's ttl 17"
ctl del traps 203.0.113.7 >/dev/null || bad "del /32"
expect 7.113.0.203 'A 127.0.0.3 TXT "net 203.0.113.7"' "deleting the /32 reveals the /24"
ctl add traps 2001:db8::/32 code=5 reason=v6 >/dev/null || bad "add v6"
v6name=$(printf '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2')
expect "$v6name" 'A 127.0.0.5 TXT "v6"' "an IPv6 prefix answers"
ctl add traps .spam.example code=6 reason='name $' >/dev/null || bad "add name"
expect www.spam.example 'A 127.0.0.6 TXT "name spam.example"' "a wildcard name answers below it ($ = the entry, as in dnset)"
expect spam.example 'A 127.0.0.6 TXT "name spam.example"' "and for itself"

# whitelist: delists what it covers, refuses covered adds, wins over a covering listing.
ctl whitelist add traps 203.0.113.0/28 reason=relay >/dev/null || bad "whitelist add"
expect 7.113.0.203 NXDOMAIN "a whitelisted /28 is not answered inside a listed /24"
expect 99.113.0.203 'A 127.0.0.3 TXT "net 203.0.113.99"' "outside the /28 the /24 still answers"
ctl add traps 203.0.113.5 >/dev/null 2>"$work/err" && bad "a whitelisted subject was listed"
grep -q whitelisted "$work/err" && ok "adding a whitelisted subject is refused: $(cat "$work/err")" ||
  bad "no whitelist error: $(cat "$work/err")"
ctl whitelist list traps | grep -q '^203.0.113.0/28' && ok "whitelist list" || bad "whitelist list"
ctl whitelist del traps 203.0.113.0/28 >/dev/null || bad "whitelist del"
expect 7.113.0.203 'A 127.0.0.3 TXT "net 203.0.113.7"' "after whitelist del the /24 answers again"

# load: all or nothing.
printf '198.18.0.1 :7:loaded\n198.18.0.2\n' >"$work/good.txt"
printf '198.18.1.1\nnot-an-address/99 :2\n198.18.1.3\n' >"$work/bad.txt"
ctl load traps "$work/bad.txt" >/dev/null 2>"$work/err" && bad "a bad file loaded"
grep -q "bad.txt:2" "$work/err" && ok "a bad file names its line: $(cat "$work/err")" ||
  bad "no file:line in '$(cat "$work/err")'"
expect 1.1.18.198 NXDOMAIN "nothing of a bad file is applied"
ctl load traps "$work/good.txt" >/dev/null || bad "load good file"
expect 1.0.18.198 'A 127.0.0.7 TXT "loaded"' "a loaded file answers"

# expire, list, stats; a socket that is not there.
ctl add traps 192.0.2.200 expires=1 >/dev/null || bad "add already expired"
ctl expire traps >/dev/null || bad "expire"
expect 200.2.0.192 NXDOMAIN "expire removes what is due"
n=$(ctl list traps | wc -l)
[[ $n -ge 6 ]] && ok "list shows $n listings" || bad "list shows $n listings"
ctl stats | grep -q '^live list traps:' && ok "stats" || bad "stats"
"$meshbl" ctl -s "$work/nope" stats >/dev/null 2>&1
[[ $? == 2 ]] && ok "no socket: exit 2" || bad "no socket: not exit 2"
exit $fail
