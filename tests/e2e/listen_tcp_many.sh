#!/bin/sh
# e2e: many TCP clients at once (LF and octet-counted, in parallel) are all stored exactly once;
# --max-conns closes connections beyond the limit and counts them (listen.conn_limited).
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"

P=$(free_port) || fail "no free port"
db=$TMP/listen.db
log=$TMP/listen.log
# clients 2 and 3 of every 4 connect over IPv6 when [::1] can be bound here
v6=127.0.0.1 bind6=
if have_ipv6_loopback; then v6="[::1]" bind6="--bind tcp://[::1]:$P"; else echo "skip the IPv6 part: cannot bind [::1] here, every client uses 127.0.0.1"; fi
# shellcheck disable=SC2086
start_listener "$log" --db "$db" --bind "tcp://127.0.0.1:$P" $bind6

spids=
for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
	case $((i % 4)) in
	0) how="--tcp 127.0.0.1:$P" ;;
	1) how="--tcp-octet 127.0.0.1:$P" ;;
	2) how="--tcp $v6:$P" ;;
	3) how="--tcp-octet $v6:$P" ;;
	esac
	# shellcheck disable=SC2086
	"$SEND" $how --count 1000 --start $((i * 1000)) --prefix many >"$TMP/send$i.log" 2>&1 &
	spids="$spids $!"
done
for p in $spids; do wait "$p" || fail "a sender failed: $(cat "$TMP"/send*.log | grep -v sent | head -3)"; done
wait_for 20 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$log' | tail -1 | grep -q 'stored 20000,'" ||
	{ tail -2 "$log"; fail "not all 20000 stored"; }
stop_listener "$lpid" "$log"
got=$(seqs "$db" "1")
[ "$got" = "20000|20000|0000000|0019999" ] || fail "rows|distinct|min|max = $got"

# the connection limit
P2=$(free_port) || fail "no free port"
start_listener "$TMP/l2.log" --db "$TMP/lim.db" --bind "tcp://127.0.0.1:$P2" --max-conns 2
python3 - "$P2" <<'PY' || fail "python client failed"
import socket, sys, time
port = int(sys.argv[1])
conns = []
for i in range(3):
    c = socket.create_connection(("127.0.0.1", port))
    conns.append(c)
    time.sleep(0.2)
for i, c in enumerate(conns):
    try:
        c.sendall(b"<134>conn %d\n" % i)
    except OSError:
        pass
time.sleep(0.5)
for c in conns:
    c.close()
PY
wait_for 10 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$TMP/l2.log' | tail -1 | grep -q 'stored 2,'" ||
	{ cat "$TMP/l2.log"; fail "2 connections' lines not stored"; }
stop_listener "$lpid" "$TMP/l2.log"
grep -q "more than 2 busy TCP connections" "$TMP/l2.log" || fail "no warning about the connection limit"
c=$(sqlite3 "$TMP/lim.db" "SELECT value FROM counters WHERE name = 'listen.conn_limited'")
[ "$c" = 1 ] || fail "listen.conn_limited = '$c', want 1"
[ "$(store_sql "$TMP/lim.db" "SELECT group_concat(CAST(raw AS TEXT), ',') FROM lines")" = "<134>conn 0,<134>conn 1" ] ||
	fail "wrong lines kept under the limit"
echo "ok: 20 parallel TCP clients, 20000 messages once each; the 3rd connection over --max-conns 2 closed"
