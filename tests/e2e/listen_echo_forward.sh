#!/bin/sh
# e2e: --echo prints each message as it arrives with its source and control bytes made visible
# (an ESC never reaches the terminal); --forward udp://HOST:PORT relays every message, UDP and
# TCP alike, to a second listener, which stores them all.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"

P1=$(free_port) || fail "no free port"
P2=$(free_port) || fail "no free port"
[ "$P1" != "$P2" ] || P2=$(free_port)
# B: the relay target
start_listener "$TMP/b.log" --db "$TMP/b.db" --bind "udp://127.0.0.1:$P2"
bpid=$lpid
# A: echoes and forwards to B
start_listener "$TMP/a.log" --db "$TMP/a.db" --bind "udp://127.0.0.1:$P1" --bind "tcp://127.0.0.1:$P1" \
	--echo --forward "udp://127.0.0.1:$P2"
apid=$lpid

python3 - "$P1" <<'PY' || fail "python sender failed"
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"<134>hello \x1b[31mred\x1b[0m bell\x07 done\n", ("127.0.0.1", int(sys.argv[1])))
PY
"$SEND" --udp "127.0.0.1:$P1" --count 300 --rate 20000 --prefix fwdu >/dev/null || fail "send udp"
"$SEND" --tcp "127.0.0.1:$P1" --count 200 --prefix fwdt >/dev/null || fail "send tcp"

wait_for 15 sh -c "kill -USR1 $apid; sleep 0.2; grep '^halog listen: received' '$TMP/a.log' | tail -1 | grep -q 'stored 501,'" ||
	{ cat "$TMP/a.log" | tail; fail "A did not store 501"; }
wait_for 15 sh -c "kill -USR1 $bpid; sleep 0.2; grep '^halog listen: received' '$TMP/b.log' | tail -1 | grep -q 'stored 501,'" ||
	{ tail -3 "$TMP/b.log"; fail "B did not store the 501 forwarded messages"; }
stop_listener "$apid" "$TMP/a.log"
stop_listener "$bpid" "$TMP/b.log"

# echo: one line per message, with the source, the ESC and BEL shown as \x1b and \x07
esc=$(printf '\033')
if grep -q "$esc" "$TMP/a.log"; then fail "a raw ESC byte reached the output"; fi
grep -q 'Z udp:127\.0\.0\.1:[0-9]* <134>hello \\x1b\[31mred\\x1b\[0m bell\\x07 done$' "$TMP/a.log" ||
	{ head -3 "$TMP/a.log"; fail "echo line for the ESC message not found"; }
n=$(grep -c ' tcp:127\.0\.0\.1:[0-9]* <134>.*/fwdt/seq=' "$TMP/a.log")
[ "$n" = 200 ] || fail "$n TCP messages echoed, want 200"
n=$(grep -c ' udp:127\.0\.0\.1:[0-9]* <134>.*/fwdu/seq=' "$TMP/a.log")
[ "$n" = 300 ] || fail "$n UDP messages echoed, want 300"

# forward: B holds the same messages, byte for byte, sent from A's forwarding socket
got=$(seqs "$TMP/b.db" "CAST(raw AS TEXT) LIKE '%/fwdu/seq=%'")
[ "$got" = "300|300|0000000|0000299" ] || fail "B udp: $got"
got=$(seqs "$TMP/b.db" "CAST(raw AS TEXT) LIKE '%/fwdt/seq=%'")
[ "$got" = "200|200|0000000|0000199" ] || fail "B tcp: $got"
"$HALOG" export --db "$TMP/a.db" -o "$TMP/a.x.db" || fail "export A"
same=$(store_sql "$TMP/b.db" "ATTACH '$TMP/a.x.db' AS a; SELECT count(*) FROM main.lines b JOIN a.lines x ON x.raw = b.raw")
[ "$same" = 501 ] || fail "only $same messages identical in A and B"
echo "ok: echo shows control bytes; 501 messages forwarded"
