#!/bin/sh
# e2e: alert windows and deliveries survive listener restarts, a clean one (SIGTERM) and a crash
# (SIGKILL), while the webhook hangs. An alert fires on every 10 s window holding a line:
#   listener 1: 10 lines; the window fires; the receiver never answers; 10 more lines; SIGTERM
#   (down for more than a window)
#   listener 2: the receiver answers 200; 10 lines; everything so far gets delivered; the
#   receiver hangs again; 10 lines; their window fires and is retried; SIGKILL
#   listener 3: the receiver answers 200
# At the end, the windows that fired are exactly the windows holding lines (by receive time,
# read from the store), each fired once, their counts add up to the 40 lines stored (no line
# counted twice or skipped), and the receiver answered 200 once per idempotency key.
set -u
. "$TOP/tests/e2e/alert-lib"

P=$(free_port) || fail "no free port"
W=$(free_port) || fail "no free port"
DB=$TMP/r.db
echo never >"$TMP/mode"
start_receiver "$W" "$TMP/recv.log" "$TMP/mode"
"$HALOG" ingest --db "$DB" /dev/null 2>/dev/null || fail "cannot create the store"
"$HALOG" alert add r --db "$DB" --query '"/r/seq="' --when 'count >= 1' --every 10s \
	--webhook "http://127.0.0.1:$W/hook" --timeout 1s || fail "alert add"
send() { "$SEND" --udp "127.0.0.1:$P" --count 10 --start "$1" --prefix r >/dev/null || fail "send"; }
n_fired() { "$HALOG" alert log --db "$DB" -n 1000 | grep -c ' fired '; }
# check delivered|retry: every window holding a line (in the store) has fired, no other one
# has, and every firing was delivered, or the newest one was retried
check() {
	rm -f "$TMP/lines.db"
	"$HALOG" export --db "$DB" -o "$TMP/lines.db" 2>/dev/null || return 1
	python3 - "$DB" "$1" "$TMP/lines.db" <<'PY'
import sqlite3, sys
db, want, lines = sys.argv[1], sys.argv[2], sys.argv[3]
c = sqlite3.connect(db)
wins = {r[0] for r in sqlite3.connect(lines).execute("SELECT DISTINCT recv_ms / 10000 * 10000 FROM lines WHERE CAST(raw AS TEXT) LIKE '%/r/seq=%'")}
fired = {r[0]: r[1] for r in c.execute("SELECT window_start, key FROM alert_log WHERE event = 'fired'")}
if set(fired) != wins:
    sys.exit(1)
ev = lambda e: {r[0] for r in c.execute("SELECT key FROM alert_log WHERE event = ?", (e,))}
if want == "delivered" and set(fired.values()) - ev("delivered"):
    sys.exit(1)
if want == "retry" and fired[max(fired)] not in ev("retry"):
    sys.exit(1)
PY
}

start_listener "$TMP/l1.log" --db "$DB" --bind "udp://127.0.0.1:$P"
send 0
wait_for 40 check retry || { "$HALOG" alert log --db "$DB"; fail "the first window did not fire and retry"; }
send 10
stop_listener "$lpid" "$TMP/l1.log"
[ "$(field "$TMP/l1.log" stored)" = 20 ] || fail "the first listener stored $(field "$TMP/l1.log" stored) lines"
sleep 12 # a whole window with the listener down
echo 200 >"$TMP/mode"
start_listener "$TMP/l2.log" --db "$DB" --bind "udp://127.0.0.1:$P"
send 20
wait_for 60 check delivered || { "$HALOG" alert log --db "$DB"; fail "not delivered after the restart"; }
echo never >"$TMP/mode"
sleep 1 # the next lines fall in a new window (a window fires once)
send 30
wait_for 40 check retry || { "$HALOG" alert log --db "$DB"; fail "the last window did not fire and retry"; }
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
echo 200 >"$TMP/mode"
start_listener "$TMP/l3.log" --db "$DB" --bind "udp://127.0.0.1:$P"
wait_for 60 check delivered || { "$HALOG" alert log --db "$DB"; fail "not delivered after the crash"; }
stop_listener "$lpid" "$TMP/l3.log"
"$HALOG" alert log --db "$DB" -n 1000
"$HALOG" alert log --db "$DB" -n 1000 --json >"$TMP/alog.json"

stored=$(store_count "$DB")
[ "$stored" = 40 ] || fail "stored $stored lines, want 40"
nf=$(n_fired)
[ "$nf" -ge 2 ] || fail "only $nf windows fired"
# each key answered 200 once, and the counts of the delivered windows add up to the lines
keys=$(pyq "[l['key'] for l in lines if l['event']=='fired']" "$TMP/alog.json")
total=0
for k in $keys; do
	c=$(pyq "sum(1 for l in lines if l['key']=='$k' and l['answer']=='200')" "$TMP/recv.log")
	[ "$c" = 1 ] || fail "key $k answered 200 $c times, want 1"
	n=$(pyq "[l['body']['count'] for l in lines if l['key']=='$k' and l['answer']=='200'][0]" "$TMP/recv.log")
	total=$((total + n))
done
[ "$total" = 40 ] || fail "the delivered windows count $total lines, want 40"
hung=$(pyq "sum(1 for l in lines if l['answer']=='never')" "$TMP/recv.log")
echo "ok: $nf windows fired once each across SIGTERM and SIGKILL, 40 lines counted once, $hung hung attempts retried, each key answered 200 once"
