#!/usr/bin/env bash
# End to end, issue 11 "Tests": a real Postfix (Debian package, its own config
# directory, 127.0.0.1 on a free port) asks meshbld's trap listener about each
# recipient (check_policy_service); swaks sends mail from loopback sources;
# dig asks meshbld about live.example (live list "traps"):
#   1. three messages to traps from 127.0.0.7: listed (A 127.0.0.2, TXT with
#      $ substituted) within 1 s of the third being accepted, not before it;
#   2. mail to a non-trap recipient is accepted (the listener says DUNNO) and
#      never counts;
#   3. whitelisted sources (meshbl ctl whitelist, the TOML whitelist) sending
#      5 trap messages are never listed, and `meshbl ctl show` says why;
#   4. a listing disappears at its expiry (ladder ["4s", "1h"]), within 1 s;
#      the next offense gets the next step of the ladder;
#   5. kill -9 and a restart on the same store: every listing is answered,
#      `meshbl ctl list` is unchanged, the whitelist and the acknowledged hits
#      of a source not yet listed are kept;
#   6. one message to several traps counts once: with action DISCARD Postfix
#      stops asking after the first trap; restarted (SIGTERM) with action HOLD
#      it asks about every recipient, and the policy requests' `instance`
#      groups them into one message;
#   7. an address added to the traps file is a trap after SIGHUP.
# Needs root (Postfix), postfix, swaks, dig: exits 77 (skipped) naming what is
# missing. Every wait is bounded; Postfix and meshbld are stopped on any exit.
# MESHBL_TEST_KEEP=1 keeps the scratch directory.
# Usage: live_postfix_test.sh MESHBLD MESHBL
# shellcheck disable=SC2015  # `cond && ok ... || bad ...`: ok always succeeds
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
set -u
meshbld=$1
meshbl=$2
PATH=$PATH:/usr/sbin:/sbin

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root to start Postfix"
missing=()
for tool in postfix postconf swaks dig; do command -v "$tool" >/dev/null || missing+=("$tool"); done
((${#missing[@]} == 0)) || skip "not installed: ${missing[*]} (apt-get install postfix swaks dnsutils)"
daemon_dir=$(postconf -dh daemon_directory)
[[ -x $daemon_dir/smtpd ]] || skip "Postfix's smtpd is missing from $daemon_dir"
run_user=rbldns  # meshbld's default -u; `nobody` where that user does not exist
getent passwd "$run_user" >/dev/null || run_user=nobody

work=$(mktemp -d /tmp/meshbl_live_postfix.XXXXXX)
chmod 755 "$work"
pf=$work/postfix
meshbld_pid=
fail=0

log_tail() {  # the logs worth reading when something failed
  for f in "$work/meshbld.log" "$pf/maillog" "$work/swaks.log"; do
    [[ -s $f ]] && { echo "--- tail of $f"; tail -n 25 "$f"; }
  done
}
cleanup() {
  if [[ -n $meshbld_pid ]]; then kill -9 "$meshbld_pid" 2>/dev/null; wait "$meshbld_pid" 2>/dev/null; fi
  if [[ -f $pf/conf/main.cf ]]; then
    timeout 20 postfix -c "$pf/conf" stop >/dev/null 2>&1
    local master
    master=$(tr -dc 0-9 <"$pf/queue/pid/master.pid" 2>/dev/null)
    # postfix stop waits for master; a master still there is killed.
    if [[ -n $master ]] && kill -0 "$master" 2>/dev/null; then kill -9 "$master"; fi
  fi
  ((fail)) && log_tail
  if [[ ${MESHBL_TEST_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; fail=1; exit 1' INT TERM

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
die() { echo "FAIL: $*"; fail=1; exit 1; }
us() { echo "${EPOCHREALTIME/./}"; }  # now, in microseconds
secs() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }

# A TCP port nobody uses, below the ephemeral range (bounded tries).
taken=" "
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ $taken == *" $p "* ]] && continue
    if command -v ss >/dev/null; then
      [[ -n $(ss -Htuan "( sport = :$p )" 2>/dev/null) ]] && continue
    elif (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
      continue
    fi
    taken+="$p "
    echo "$p"
    return 0
  done
  return 1
}

# ---------------------------------------------------------------- meshbld
trap_port=$(free_port) || die "no free port"
smtp_port=$(free_port) || die "no free port"
cat >"$work/traps.txt" <<'EOF'
# spamtraps of the test: one address, and every address at traps.test
spamtrap@trap.test
@traps.test
EOF
trap_action=DISCARD
write_toml() {
cat >"$work/live.toml" <<EOF
[list.traps]
threshold = 3.0
window = "1h"
listing = ["4s", "1h"]
code = 2
reason = "Listed by meshbl: \$ hit spamtraps"
whitelist = ["127.0.0.9"]
never_list = ["private", "link-local"]

[traps]
file = "$work/traps.txt"
action = "$trap_action"
listen = "127.0.0.1:$trap_port"
EOF
}
write_toml
printf '127.0.0.2 :2:test point\n' >"$work/bl-ip4.txt"
chmod 644 "$work"/*.txt "$work/live.toml"
mkdir "$work/store"
chown "$run_user" "$work/store"
ctl_sock=$work/ctl

dns_port=
: >>"$work/meshbld.log"
# (Re)starts meshbld in the background and learns its DNS port; returns 1 if
# it exited at start (its log says why).
start_meshbld() {
  local i before
  before=$(grep -c 'started (' "$work/meshbld.log")
  "$meshbld" -n -u "$run_user" -b 127.0.0.1/0 --live-config "$work/live.toml" \
    --live-store "$work/store/live.mdb" --control-socket "$ctl_sock" \
    bl.example:ip4set:"$work/bl-ip4.txt" live.example:live:traps >>"$work/meshbld.log" 2>&1 &
  meshbld_pid=$!
  for ((i = 0; i < 300; i++)); do
    (($(grep -c 'started (' "$work/meshbld.log") > before)) && break
    kill -0 "$meshbld_pid" 2>/dev/null || { wait "$meshbld_pid"; meshbld_pid=''; return 1; }
    sleep 0.05
  done
  (($(grep -c 'started (' "$work/meshbld.log") > before)) || die "meshbld did not start in 15 s"
  dns_port=$(grep -o 'listening on 127.0.0.1/[0-9]*' "$work/meshbld.log" | tail -n 1 | cut -d/ -f2)
  [[ -n $dns_port ]] || die "no DNS port in meshbld's log"
}
# The trap port was free when probed; another process may take it before
# meshbld binds it: a few tries, each with a new port.
for ((try = 0; try < 3; try++)); do
  start_meshbld && break
  echo "meshbld exited at start: $(tail -n 1 "$work/meshbld.log")"
  trap_port=$(free_port) || die "no free port"
  write_toml
done
[[ -n $meshbld_pid ]] || die "meshbld did not start"
ok "meshbld started: DNS 127.0.0.1/$dns_port, trap listener 127.0.0.1:$trap_port"

# ---------------------------------------------------------------- Postfix
mkdir -p "$pf/conf" "$pf/queue" "$pf/data"
chown postfix "$pf/data"
cat >"$pf/conf/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $pf/conf
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.trap.test
mydestination = trap.test, traps.test, ok.test, fresh.test
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:
default_transport = discard:
smtpd_peername_lookup = no
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$trap_port, permit_mynetworks, reject
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
EOF
# No chroot (5th column n): the spool is the test's directory.
cat >"$pf/conf/master.cf" <<EOF
127.0.0.1:$smtp_port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
# Postfix prints its start errors only to a terminal: script(1) gives it one.
if command -v script >/dev/null; then
  start_out=$(timeout 30 script -eqc "postfix -c $pf/conf start" /dev/null 2>&1)
else
  start_out=$(timeout 30 postfix -c "$pf/conf" start 2>&1)
fi || die "postfix -c $pf/conf start: $start_out"
for ((i = 0; i < 200; i++)); do
  exec 3<>/dev/tcp/127.0.0.1/"$smtp_port" 2>/dev/null && { exec 3>&-; break; }
  sleep 0.05
done
((i < 200)) || die "Postfix does not listen on 127.0.0.1:$smtp_port: $start_out"
ok "Postfix started: 127.0.0.1:$smtp_port, check_policy_service inet:127.0.0.1:$trap_port"

# ---------------------------------------------------------------- helpers
# send SOURCE RECIPIENT...: one message; fails unless Postfix accepted it.
msgs=0
send() {
  local src=$1 out
  shift
  local to
  to=$(IFS=,; echo "$*")
  msgs=$((msgs + 1))
  out=$(timeout 30 swaks --server 127.0.0.1 --port "$smtp_port" --local-interface "$src" \
    --helo "spammer-$src.test" --from "bulk$msgs@sender.test" --to "$to" \
    --header "Subject: test $msgs" --timeout 10 2>&1)
  local rc=$?
  printf '=== message %d from %s to %s: swaks exit %d\n%s\n' "$msgs" "$src" "$to" "$rc" "$out" \
    >>"$work/swaks.log"
  ((rc == 0)) && grep -q '<-  250 .*queued as' <<<"$out"
}
# query NAME TYPE: sets RCODE (NOERROR, NXDOMAIN, ... or TIMEOUT) and ANS
# (the answer's rdata, one a line).
query() {
  local out
  out=$(dig +norec +time=1 +tries=1 -p "$dns_port" @127.0.0.1 "$1" "$2" +noall +comments +answer 2>&1)
  RCODE=$(grep -o 'status: [A-Z]*' <<<"$out" | cut -d' ' -f2)
  [[ -n $RCODE ]] || RCODE=TIMEOUT
  ANS=$(awk '!/^;/ && NF >= 5 { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' <<<"$out")
}
rev() { awk -F. '{ print $4 "." $3 "." $2 "." $1 }' <<<"$1"; }
listed() {  # listed IP: answered A 127.0.0.2 in live.example
  query "$(rev "$1").live.example" A
  [[ $RCODE == NOERROR && $ANS == 127.0.0.2 ]]
}
not_listed() {  # not_listed IP: a real NXDOMAIN (not a lost reply)
  query "$(rev "$1").live.example" A
  [[ $RCODE == NXDOMAIN ]]
}
ctl() { timeout 5 "$meshbl" ctl -s "$ctl_sock" "$@"; }
# wait_listed IP: polls (at most 5 s); sets WAITED to the microseconds it took.
wait_listed() {
  local t0 i
  t0=$(us)
  for ((i = 0; i < 500; i++)); do
    listed "$1" && { WAITED=$(($(us) - t0)); return 0; }
    sleep 0.01
  done
  return 1
}
counter() {  # counter NAME: the trap listener's counter from `ctl stats`
  ctl stats traps | grep -o "$1=[0-9]*" | head -n 1 | cut -d= -f2
}

# ---------------------------------------------------------------- 1. listed
send 127.0.0.7 spamtrap@trap.test || die "message 1 from 127.0.0.7 not accepted"
send 127.0.0.7 a@traps.test || die "message 2 from 127.0.0.7 not accepted"
not_listed 127.0.0.7 && ok "127.0.0.7 not listed after 2 trap messages" ||
  bad "127.0.0.7 answered $RCODE '$ANS' after 2 of 3 messages"
send 127.0.0.7 b@traps.test || die "message 3 from 127.0.0.7 not accepted"
if wait_listed 127.0.0.7; then
  echo "delay: 7.0.0.127.live.example listed $(secs "$WAITED") s after the third message was accepted"
  ((WAITED <= 1000000)) && ok "listed within 1 s" || bad "listed after $(secs "$WAITED") s (> 1 s)"
else
  die "127.0.0.7 not listed 5 s after the third trap message"
fi
query 7.0.0.127.live.example TXT
[[ $ANS == '"Listed by meshbl: 127.0.0.7 hit spamtraps"' ]] && ok "TXT $ANS" ||
  bad "TXT: $RCODE '$ANS'"
n=$(grep -c 'triggers DISCARD action; from=<bulk[123]@sender.test>' "$pf/maillog")
((n == 3)) && ok "Postfix discarded the 3 trap messages (DISCARD)" || bad "$n DISCARD lines in the mail log, want 3"
show=$(ctl show traps 127.0.0.7)
grep -q '^127.0.0.7: listed' <<<"$show" && grep -q 'score 3.00 of threshold 3.00 (3 message(s)' <<<"$show" &&
  ok "ctl show explains the listing" || bad "ctl show traps 127.0.0.7: $show"

# ---------------------------------------------------------------- 2. DUNNO
req0=$(counter requests) hits0=$(counter trap_hits)
send 127.0.0.11 spamtrap@trap.test || die "trap message from 127.0.0.11 not accepted"
send 127.0.0.11 c@traps.test || die "trap message from 127.0.0.11 not accepted"
for ((k = 0; k < 3; k++)); do
  send 127.0.0.11 "user$k@ok.test" || bad "mail to user$k@ok.test was not accepted"
done
req1=$(counter requests) hits1=$(counter trap_hits)
((req1 - req0 == 5 && hits1 - hits0 == 2)) &&
  ok "the listener was asked about 5 recipients, 2 of them traps" ||
  bad "policy requests +$((req1 - req0)) (want 5), trap hits +$((hits1 - hits0)) (want 2)"
grep -q 'discard: RCPT.*<user[0-9]@ok.test>' "$pf/maillog" && bad "a non-trap recipient was discarded"
n=$(grep -c 'to=<user[0-9]@ok.test>.*status=sent' "$pf/maillog")
for ((k = 0; k < 50 && n < 3; k++)); do  # delivery is asynchronous
  sleep 0.1
  n=$(grep -c 'to=<user[0-9]@ok.test>.*status=sent' "$pf/maillog")
done
((n == 3)) && ok "mail to the 3 non-trap recipients was delivered" || bad "$n of 3 non-trap messages delivered"
not_listed 127.0.0.11 && ok "127.0.0.11 (2 trap + 3 other messages) not listed" ||
  bad "127.0.0.11 answered $RCODE '$ANS'"
show=$(ctl show traps 127.0.0.11)
grep -q 'score 2.00 of threshold 3.00 (2 message(s)' <<<"$show" &&
  ok "non-trap mail does not count" || bad "ctl show traps 127.0.0.11: $show"

# ---------------------------------------------------------------- 3. whitelist
ctl whitelist add traps 127.0.0.8 reason=our relay >/dev/null || bad "ctl whitelist add failed"
for src in 127.0.0.8 127.0.0.9; do  # ctl whitelist; the TOML's whitelist
  for ((k = 0; k < 5; k++)); do
    send "$src" "w$k@traps.test" || die "trap message $k from $src not accepted"
  done
  not_listed "$src" && ok "whitelisted $src not listed after 5 trap messages" ||
    bad "whitelisted $src answered $RCODE '$ANS'"
  # The verdict is the DNS answer's: an operator whitelist entry is served
  # (whitelisted), the TOML's only keeps the rules from listing (not listed).
  show=$(ctl show traps "$src")
  [[ $src == 127.0.0.8 ]] && verdict="whitelisted" origin=operator || verdict="not listed" origin=config
  grep -q "^$src: $verdict\$" <<<"$show" && grep -q "whitelisted by $src ($origin)" <<<"$show" &&
    grep -q '5 hit(s) only counted' <<<"$show" && ok "ctl show says why $src is not listed ($origin)" ||
    bad "ctl show traps $src: $show"
done
grep -q '^127.0.0.8 whitelist origin=operator.*reason=our relay' <<<"$(ctl whitelist list traps)" ||
  bad "whitelist list: $(ctl whitelist list traps)"

# ---------------------------------------------------------------- 4. expiry
for ((k = 0; k < 3; k++)); do send 127.0.0.10 "x$k@traps.test" || die "message from 127.0.0.10 not accepted"; done
wait_listed 127.0.0.10 || die "127.0.0.10 not listed"
line=$(ctl list traps 127.0.0.10)
expires=$(grep -o 'expires=[^ ]*' <<<"$line" | cut -d= -f2)
last=$(grep -o 'last=[^ ]*' <<<"$line" | cut -d= -f2)
exp_s=$(date -u -d "$expires" +%s 2>/dev/null) last_s=$(date -u -d "$last" +%s 2>/dev/null)
[[ -n $exp_s && -n $last_s && $((exp_s - last_s)) == 4 ]] || die "1st offense listing: $line"
# A reply is dated when it arrives: one before the expiry is surely early; a
# slow dig (start-up under load) can only make it look later.
gone='' asked=
for ((i = 0; i < 1000; i++)); do  # at most ~10 s (4 s listing, 10 ms polls)
  t=$(us)
  if not_listed 127.0.0.10; then gone=$(us) asked=$t; break; fi
  [[ $RCODE == NOERROR ]] || bad "127.0.0.10 answered $RCODE while listed"
  sleep 0.01
done
[[ -n $gone ]] || die "127.0.0.10 still listed 10 s later ($line)"
late=$((gone - exp_s * 1000000))
echo "expiry: 127.0.0.10 NXDOMAIN received $(secs "$late") s after expires=$expires" \
  "(the query took $(secs $((gone - asked))) s)"
((late >= 0)) && ok "not before its expiry" || bad "answered NXDOMAIN $(secs $((-late))) s before its expiry"
((late <= 1000000)) && ok "gone within 1 s of its expiry" || bad "gone $(secs "$late") s after its expiry"
[[ -z $(ctl list traps 127.0.0.10) ]] && ok "ctl list no longer shows it" || bad "ctl list: $(ctl list traps 127.0.0.10)"
for ((k = 3; k < 6; k++)); do send 127.0.0.10 "x$k@traps.test" || die "message from 127.0.0.10 not accepted"; done
wait_listed 127.0.0.10 || die "127.0.0.10 not listed again"
line=$(ctl list traps 127.0.0.10)
exp_s=$(date -u -d "$(grep -o 'expires=[^ ]*' <<<"$line" | cut -d= -f2)" +%s)
last_s=$(date -u -d "$(grep -o 'last=[^ ]*' <<<"$line" | cut -d= -f2)" +%s)
[[ $((exp_s - last_s)) == 3600 && $line == *offenses=2* ]] &&
  ok "2nd offense: listed for 1h (the next step of the ladder)" || bad "2nd offense: $line"

# ---------------------------------------------------------------- 5. kill -9
ctl add traps 192.0.2.0/24 ttl=1h reason=operator block >/dev/null || bad "ctl add 192.0.2.0/24 failed"
ctl add traps spam.example.org expires=0 >/dev/null || bad "ctl add spam.example.org failed"
before=$(ctl list traps)
[[ $(wc -l <<<"$before") == 3 ]] || bad "before the crash, ctl list shows: $before"
# Two acknowledged trap hits from 127.0.0.12 (not yet listed), then kill -9
# at once: the hits, like the listings, must survive.
send 127.0.0.12 y1@traps.test || die "message from 127.0.0.12 not accepted"
send 127.0.0.12 y2@traps.test || die "message from 127.0.0.12 not accepted"
kill -9 "$meshbld_pid"
wait "$meshbld_pid" 2>/dev/null
start_meshbld || die "meshbld exited at restart"
ok "meshbld killed with SIGKILL and restarted on the same store (DNS 127.0.0.1/$dns_port)"
after=$(ctl list traps)
[[ $after == "$before" ]] && ok "ctl list is the same after the restart" ||
  bad "ctl list before the crash:"$'\n'"$before"$'\n'"after:"$'\n'"$after"
listed 127.0.0.10 && ok "127.0.0.10 still answered" || bad "127.0.0.10 answered $RCODE '$ANS' after the restart"
query 200.2.0.192.live.example TXT
[[ $ANS == '"operator block"' ]] && ok "192.0.2.0/24 still answered" || bad "192.0.2.200: $RCODE '$ANS'"
query spam.example.org.live.example A
[[ $RCODE == NOERROR && $ANS == 127.0.0.2 ]] && ok "spam.example.org still answered" ||
  bad "spam.example.org: $RCODE '$ANS'"
not_listed 127.0.0.8 && grep -q '^127.0.0.8 ' <<<"$(ctl whitelist list traps)" &&
  ok "the whitelist survived" || bad "whitelist after the restart: $(ctl whitelist list traps)"
not_listed 127.0.0.12 || bad "127.0.0.12 listed after 2 messages"
send 127.0.0.12 y3@traps.test || die "message from 127.0.0.12 after the restart not accepted"
wait_listed 127.0.0.12 && ok "127.0.0.12 listed by its 3rd message: the 2 hits before the crash were kept" ||
  bad "127.0.0.12 not listed after the restart: $(ctl show traps 127.0.0.12)"

# ---------------------------------------------------------------- 6. instance
# DISCARD (so far): Postfix asks no more about a message once it is discarded.
req0=$(counter requests) hits0=$(counter trap_hits)
send 127.0.0.13 m1@traps.test m2@traps.test spamtrap@trap.test || die "message from 127.0.0.13 not accepted"
req1=$(counter requests) hits1=$(counter trap_hits)
((req1 - req0 == 1 && hits1 - hits0 == 1)) && ok "DISCARD: one policy request for a message to 3 traps" ||
  bad "DISCARD, 3 trap recipients: requests +$((req1 - req0)), trap hits +$((hits1 - hits0)) (want 1, 1)"
# HOLD: Postfix asks about every recipient. meshbld is stopped cleanly and
# started on the same store with the new action.
kill -TERM "$meshbld_pid"
for ((i = 0; i < 200; i++)); do kill -0 "$meshbld_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$meshbld_pid" 2>/dev/null && die "meshbld still running 10 s after SIGTERM"
wait "$meshbld_pid"
rc=$?
((rc == 0)) || bad "meshbld exited $rc on SIGTERM"
trap_action=HOLD
write_toml
start_meshbld || die "meshbld exited at restart"
after=$(ctl list traps)
[[ $(sort <<<"$after") == "$(sort <<<"$before"$'\n'"$(ctl list traps 127.0.0.12)")" ]] &&
  ok "ctl list kept across a clean restart" || bad "ctl list after SIGTERM and restart: $after"
req0=$(counter requests) hits0=$(counter trap_hits)
for ((k = 0; k < 2; k++)); do
  send 127.0.0.14 "h${k}a@traps.test" "user$k@ok.test" "h${k}b@traps.test" spamtrap@trap.test ||
    die "message $k from 127.0.0.14 not accepted"
done
req1=$(counter requests) hits1=$(counter trap_hits)
((req1 - req0 == 8 && hits1 - hits0 == 6)) && ok "HOLD: Postfix asked about all 8 recipients, 6 traps" ||
  bad "HOLD: requests +$((req1 - req0)) (want 8), trap hits +$((hits1 - hits0)) (want 6)"
n=$(grep -c 'triggers HOLD action; from=<bulk[0-9]*@sender.test> to=<h[01]a@traps.test>' "$pf/maillog")
((n == 2)) && ok "Postfix held the 2 messages" || bad "$n HOLD lines in the mail log, want 2"
not_listed 127.0.0.14 && ok "127.0.0.14 not listed: 6 trap hits in 2 messages" ||
  bad "127.0.0.14 answered $RCODE '$ANS' after 2 messages to 3 traps each"
show=$(ctl show traps 127.0.0.14)
grep -q 'score 2.00 of threshold 3.00 (2 message(s)' <<<"$show" && ok "a message to 3 traps counts once" ||
  bad "ctl show traps 127.0.0.14: $show"
send 127.0.0.14 h2a@traps.test h2b@traps.test || die "message 3 from 127.0.0.14 not accepted"
wait_listed 127.0.0.14 && ok "127.0.0.14 listed by its 3rd message" ||
  bad "127.0.0.14 not listed: $(ctl show traps 127.0.0.14)"

# ---------------------------------------------------------------- 7. traps file
# The trap addresses file is reloaded like the zones (SIGHUP here): an
# address added to it is a trap from then on.
req0=$(counter requests) hits0=$(counter trap_hits)
send 127.0.0.15 new@fresh.test || die "message to new@fresh.test not accepted"
printf 'new@fresh.test\n' >>"$work/traps.txt"
kill -HUP "$meshbld_pid"
for ((i = 0; i < 100; i++)); do
  grep -q 'trap addresses reloaded: 3' "$work/meshbld.log" && break
  sleep 0.05
done
grep -q 'trap addresses reloaded: 3' "$work/meshbld.log" || bad "no 'trap addresses reloaded: 3' after SIGHUP"
send 127.0.0.15 new@fresh.test || die "message to new@fresh.test not accepted"
req1=$(counter requests) hits1=$(counter trap_hits)
((req1 - req0 == 2 && hits1 - hits0 == 1)) && ok "an address added to the traps file is a trap after SIGHUP" ||
  bad "traps file reload: requests +$((req1 - req0)) (want 2), trap hits +$((hits1 - hits0)) (want 1)"

((fail == 0)) && echo "PASS: $msgs messages through Postfix"
exit "$fail"
