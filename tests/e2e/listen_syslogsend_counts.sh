#!/bin/sh
# e2e: syslogsend, the tests' and the bench's sender, says what it really sent. Datagrams to a
# loopback port nobody listens on come back as ICMP port unreachable, so later sends fail: its
# "sent N messages" counts only the ones the kernel took (it printed the requested count before),
# N + errors = the count, the shortfall is said on stderr, and it exits 1.
set -u
. "$TOP/tests/e2e/listen-lib"

P=$(free_port) || fail "no free port"
"$SEND" --udp "127.0.0.1:$P" --count 2000 --rate 20000 >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out" "$TMP/err"
[ "$rc" = 1 ] || fail "exit $rc with refused datagrams, want 1"
sent=$(sed -n 's/^syslogsend: sent \([0-9]*\) messages (of 2000, [0-9]* bytes, \([0-9]*\) errors).*/\1/p' "$TMP/out")
errs=$(sed -n 's/^syslogsend: sent [0-9]* messages (of 2000, [0-9]* bytes, \([0-9]*\) errors).*/\1/p' "$TMP/out")
[ -n "$sent" ] && [ -n "$errs" ] || fail "no summary line"
[ "$sent" -lt 2000 ] || fail "sent $sent of 2000 to a closed port"
[ $((sent + errs)) = 2000 ] || fail "sent $sent + errors $errs is not 2000"
grep -q "^syslogsend: $errs of 2000 messages not sent\$" "$TMP/err" || fail "no shortfall on stderr"

# a listener that takes them all: sent = the count, exit 0
log=$TMP/listen.log
start_listener "$log" --db "$TMP/l.db" --bind "udp://127.0.0.1:$P"
"$SEND" --udp "127.0.0.1:$P" --count 500 --rate 20000 >"$TMP/out2" 2>&1 || fail "send: $(cat "$TMP/out2")"
grep -q "^syslogsend: sent 500 messages (of 500, [0-9]* bytes, 0 errors)" "$TMP/out2" ||
	fail "summary: $(cat "$TMP/out2")"
stop_listener "$lpid" "$log"
echo "ok: to a closed port sent $sent of 2000 ($errs refused, exit 1); to a listener 500 of 500"
