#!/bin/sh
# e2e: --allow: senders outside the networks are refused and counted (UDP datagrams dropped,
# TCP connections closed); nothing of theirs is stored; listen.refused reaches the store.
# Usage errors exit 2.
set -u
. "$TOP/tests/e2e/listen-lib"

# usage errors first
for bad in "--allow 10.1.2.3/8" "--allow nonsense" "--bind 127.0.0.1" "--bind :5140" \
	"--forward ftp://127.0.0.1:1" "--forward tls://127.0.0.1:1?ca=/nonexistent" "--tcp 127.0.0.1:5999 --forward tcp://127.0.0.1:5999" "--batch 0" "--rcvbuf 2T" "--queue 10" "--queue-bytes 100K" "--bogus"; do
	# shellcheck disable=SC2086
	"$HALOG" listen --db "$TMP/never.db" $bad >"$TMP/usage.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] || { cat "$TMP/usage.out"; fail "'$bad' exited $rc, want 2"; }
	grep -q "^halog listen: " "$TMP/usage.out" || fail "'$bad': no error message"
done
[ ! -e "$TMP/never.db" ] || fail "a usage error created the db"

P=$(free_port) || fail "no free port"
db=$TMP/listen.db
log=$TMP/listen.log
v6=
if have_ipv6_loopback; then v6="--bind udp://[::1]:$P"; else echo "skip the IPv6 part: cannot bind [::1] here"; fi
# shellcheck disable=SC2086
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" $v6 \
	--bind "tcp://127.0.0.1:$P" --allow 10.0.0.0/8 --allow fd00::/8

"$SEND" --udp "127.0.0.1:$P" --count 500 --rate 20000 >/dev/null || fail "send udp v4"
want=501 # 500 datagrams, 1 TCP connection (+ 200 datagrams over IPv6)
if [ -n "$v6" ]; then
	"$SEND" --udp "[::1]:$P" --count 200 --rate 20000 >/dev/null || fail "send udp v6"
	want=701
fi
"$SEND" --tcp "127.0.0.1:$P" --count 10 >/dev/null 2>&1 # the connection is closed on it
wait_for 15 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$log' | tail -1 | grep -q 'refused $want,'" ||
	{ cat "$log"; fail "refused never reached $want"; }
# the counters are written to the store at least once a second, even with no message
wait_for 10 sh -c "[ \"\$(sqlite3 '$db' \"SELECT value FROM counters WHERE name = 'listen.refused'\")\" = $want ]" ||
	fail "counter listen.refused never reached $want while running"
stop_listener "$lpid" "$log"
[ "$(field "$log" refused)" = $want ] || fail "refused $(field "$log" refused), want $want"
[ "$(field "$log" stored)" = 0 ] || fail "stored $(field "$log" stored), want 0"
[ "$(field "$log" received)" = 0 ] || fail "received $(field "$log" received), want 0"
rows=$(store_count "$db")
[ "$rows" = 0 ] || fail "$rows lines stored from refused senders"
c=$(sqlite3 "$db" "SELECT value FROM counters WHERE name = 'listen.refused'")
[ "$c" = $want ] || fail "counter listen.refused = '$c', want $want"

# and an allowed sender next to it: loopback allowed, v4-mapped or not
P2=$(free_port) || fail "no free port"
start_listener "$TMP/l2.log" --db "$TMP/ok.db" --bind "udp://127.0.0.1:$P2" --allow 127.0.0.0/8
"$SEND" --udp "127.0.0.1:$P2" --count 100 --rate 20000 >/dev/null || fail "send"
wait_for 10 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$TMP/l2.log' | tail -1 | grep -q 'stored 100,'" ||
	{ cat "$TMP/l2.log"; fail "allowed sender not stored"; }
stop_listener "$lpid" "$TMP/l2.log"
[ "$(field "$TMP/l2.log" refused)" = 0 ] || fail "allowed sender refused"
echo "ok: $want refused, 0 stored; 100 from an allowed sender stored"
