#!/bin/sh
# e2e: --echo to a stdout nobody reads (a FIFO whose reader never reads: the pipe fills after
# 64 KiB) never holds back storing, and one SIGTERM ends the process: every message is
# stored, the echo lines that did not fit are dropped and counted (listen.echo_dropped), and
# the listener exits 0 after a single signal.
set -u
. "$TOP/tests/e2e/listen-lib"

P=$(free_port) || fail "no free port"
db=$TMP/echo.db
log=$TMP/listen.log
mkfifo "$TMP/out.fifo" || skip "cannot make a FIFO"
# the listener's stdout is the FIFO; this shell opens the reading end and never reads it
"$HALOG" listen --db "$db" --bind "udp://127.0.0.1:$P" --bind "tcp://127.0.0.1:$P" --echo \
	>"$TMP/out.fifo" 2>"$log" &
lpid=$!
LIB_PIDS="$LIB_PIDS $lpid"
exec 3<"$TMP/out.fifo"
wait_for 10 grep -q "listening on" "$log" || { cat "$log"; fail "listener did not start"; }

"$SEND" --udp "127.0.0.1:$P" --count 20000 --rate 20000 --prefix stall >/dev/null 2>&1 || fail "send udp"
"$SEND" --tcp "127.0.0.1:$P" --count 5000 --prefix stallt >/dev/null 2>&1 || fail "send tcp"
wait_for 60 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$log' | tail -1 | grep -q 'stored 25000,'" ||
	{ tail -3 "$log"; fail "storing stopped while stdout was full"; }

# one SIGTERM ends it, though its stdout is still full
kill -TERM "$lpid"
wait_for 30 sh -c "! kill -0 $lpid" || { kill -KILL "$lpid"; fail "one SIGTERM did not end the listener (stdout full)"; }
wait "$lpid"
rc=$?
exec 3<&-
[ "$rc" = 0 ] || { cat "$log"; fail "exit $rc after SIGTERM"; }
[ "$(field "$log" stored)" = 25000 ] || fail "stored $(field "$log" stored), want 25000"
rows=$(store_sql "$db" "SELECT count(*) FROM lines")
[ "$rows" = 25000 ] || fail "$rows rows, want 25000"
dropped=$(sqlite3 "$db" "SELECT value FROM counters WHERE name = 'listen.echo_dropped'")
[ -n "$dropped" ] && [ "$dropped" -gt 0 ] || fail "listen.echo_dropped = '$dropped', want > 0"
echo "ok: stdout full: 25000 stored, $dropped echo lines dropped and counted, one SIGTERM ended it (exit 0)"
