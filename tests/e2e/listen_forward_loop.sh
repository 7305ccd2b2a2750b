#!/bin/sh
# e2e: --forward cannot turn one message into millions.
#   1. at start, a forward address that reaches the listener's own bind is refused (exit 2):
#      a wildcard bind with a loopback forward, and a v4-mapped IPv6 forward address;
#   2. two listeners forwarding to each other (which no start-up check can see): each message
#      sent to A is stored once in A and once in B; its copy coming back to A is recognised,
#      counted in listen.forward_loops, and neither stored nor forwarded again.
set -u
. "$TOP/tests/e2e/listen-lib"

P=$(free_port) || fail "no free port"
for args in "--bind udp://*:$P --forward udp://127.0.0.1:$P" \
	"--bind udp://127.0.0.1:$P --forward udp://[::ffff:127.0.0.1]:$P" \
	"--bind udp://*:$P --forward udp://[::ffff:127.0.0.1]:$P" \
	"--bind udp://127.0.0.1:$P --forward udp://127.0.0.2:9 --forward udp://localhost:$P"; do
	# shellcheck disable=SC2086
	"$HALOG" listen --db "$TMP/never.db" $args >"$TMP/out" 2>&1 &
	pid=$!
	wait_for 10 sh -c "! kill -0 $pid" || { kill $pid; fail "'$args' was not refused"; }
	wait $pid
	rc=$?
	[ "$rc" = 2 ] || { cat "$TMP/out"; fail "'$args': exit $rc, want 2"; }
	grep -q "reaches this listener's own --bind: it would loop" "$TMP/out" || { cat "$TMP/out"; fail "'$args': no loop message"; }
	[ ! -e "$TMP/never.db" ] || fail "'$args' created the store"
done
echo "1. refused: a wildcard bind with a loopback forward, v4-mapped forward addresses, localhost"

# 2. A forwards to B, B forwards to A
PA=$(free_port) || fail "no free port"
PB=$(free_port) || fail "no free port"
start_listener "$TMP/a.log" --db "$TMP/a.db" --bind "udp://127.0.0.1:$PA" --bind "tcp://127.0.0.1:$PA" --forward "udp://127.0.0.1:$PB"
apid=$lpid
start_listener "$TMP/b.log" --db "$TMP/b.db" --bind "udp://127.0.0.1:$PB" --forward "udp://127.0.0.1:$PA"
bpid=$lpid
"$SEND" --udp "127.0.0.1:$PA" --count 100 --rate 2000 --prefix loopu >/dev/null 2>&1 || fail "send udp"
"$SEND" --tcp "127.0.0.1:$PA" --count 50 --prefix loopt >/dev/null 2>&1 || fail "send tcp"
# every copy back at A is caught: A counts 150 loops (an endless loop would never settle here,
# and would store far more than 150 rows)
wait_for 30 sh -c "[ \"\$(sqlite3 '$TMP/a.db' \"SELECT value FROM counters WHERE name = 'listen.forward_loops'\")\" = 150 ]" ||
	fail "A's listen.forward_loops never reached 150: $(sqlite3 "$TMP/a.db" "SELECT name, value FROM counters") rows $(store_count "$TMP/a.db")"
stop_listener "$apid" "$TMP/a.log"
stop_listener "$bpid" "$TMP/b.log"
grep -q "a forwarding loop" "$TMP/a.log" || fail "A did not warn about the loop"
for side in a b; do
	n=$(store_sql "$TMP/$side.db" "SELECT count(*) FROM lines")
	[ "$n" = 150 ] || fail "$side stored $n messages, want 150 (each once)"
	got=$(seqs "$TMP/$side.db" "CAST(raw AS TEXT) LIKE '%/loopu/seq=%'")
	[ "$got" = "100|100|0000000|0000099" ] || fail "$side udp: $got"
done
[ "$(field "$TMP/a.log" received)" = 150 ] || fail "A received $(field "$TMP/a.log" received), want 150 (copies are not messages)"
echo "ok: start-up loops refused; A<->B: 150 sent, 150 stored in each, 150 copies stopped at A"
