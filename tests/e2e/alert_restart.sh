#!/bin/sh
# e2e: alert windows and deliveries survive listener restarts, a clean one (SIGTERM) and a crash
# (SIGKILL), while the webhook hangs. 10 s windows W1..W5 from a clock boundary B:
#   W1, W2: 10 lines each; the receiver never answers; SIGTERM at B+12 (W2 still open)
#   W3: the listener is down (no lines)
#   W4: restarted at B+32 with the receiver answering 200; 10 lines
#   W5: 10 lines; the receiver hangs again; SIGKILL once W5 fired and was retried
# then a third listener with the receiver answering 200. Every window with lines fires once
# (W1, W2, W4, W5), the windows counted add up to the 40 lines stored (none counted twice or
# skipped), and each firing is answered 200 exactly once by the receiver (by idempotency key).
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
fired() { "$HALOG" alert log --db "$DB" -n 1000 | grep -c ' fired '; }

sleep 1 # the alert's first window starts at or before B
wait_boundary 10 9 # B+1
B=$(( $(date +%s) / 10 * 10 ))
start_listener "$TMP/l1.log" --db "$DB" --bind "udp://127.0.0.1:$P"
send 0
sleep 10 # B+11
send 10
sleep 1
stop_listener "$lpid" "$TMP/l1.log"
[ "$(field "$TMP/l1.log" stored)" = 20 ] || fail "the first listener stored $(field "$TMP/l1.log" stored) lines"
[ "$(fired)" = 1 ] || { "$HALOG" alert log --db "$DB"; fail "W1 did not fire (or more fired) before the stop"; }
# down through W3
while [ "$(date +%s)" -lt $((B + 32)) ]; do sleep 0.2; done
echo 200 >"$TMP/mode"
start_listener "$TMP/l2.log" --db "$DB" --bind "udp://127.0.0.1:$P"
sleep 1 # B+33
send 20
# W2 (caught up) and W1 (pending since the stop) are delivered now
wait_for 40 sh -c "[ \$(\"$HALOG\" alert log --db '$DB' -n 1000 | grep -c ' delivered ') -ge 2 ]" ||
	{ "$HALOG" alert log --db "$DB"; fail "W1 and W2 were not delivered after the restart"; }
while [ "$(date +%s)" -lt $((B + 41)) ]; do sleep 0.2; done
send 30 # W5
echo never >"$TMP/mode"
# W4 fires at about B+40 and W5 at about B+50; kill once W5 has fired and been retried
wait_for 40 sh -c "[ \$(\"$HALOG\" alert log --db '$DB' -n 1000 | grep -c ' fired ') -ge 4 ]" ||
	{ "$HALOG" alert log --db "$DB"; fail "W4 and W5 did not fire"; }
w5_retried() {
	"$HALOG" alert log --db "$DB" -n 1000 --json >"$TMP/a.json" &&
		[ "$(pyq "sum(1 for l in lines if l['event']=='retry' and l['key']==[x for x in lines if x['event']=='fired'][-1]['key'])" "$TMP/a.json")" -ge 1 ]
}
wait_for 20 w5_retried || { "$HALOG" alert log --db "$DB"; fail "W5's delivery was not retried"; }
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
echo 200 >"$TMP/mode"
start_listener "$TMP/l3.log" --db "$DB" --bind "udp://127.0.0.1:$P"
wait_for 60 sh -c "[ \$(\"$HALOG\" alert log --db '$DB' -n 1000 | grep -c ' delivered ') -ge 4 ]" ||
	{ "$HALOG" alert log --db "$DB"; fail "not every firing was delivered after the crash"; }
stop_listener "$lpid" "$TMP/l3.log"
"$HALOG" alert log --db "$DB" -n 1000
"$HALOG" alert log --db "$DB" -n 1000 --json >"$TMP/alog.json"

stored=$(sqlite3 "$DB" "SELECT count(*) FROM lines")
[ "$stored" = 40 ] || fail "stored $stored lines, want 40"
# the windows that fired: W1, W2, W4, W5, each once
got=$(pyq "[(l['window_start'] or '')[11:19] for l in lines if l['event']=='fired']" "$TMP/alog.json")
want=$(python3 -c "import time,sys; b=int(sys.argv[1]); print(' '.join(sorted(time.strftime('%H:%M:%S', time.gmtime(b+d)) for d in (0,10,30,40))))" "$B")
[ "$got" = "$want" ] || fail "fired windows $got, want $want"
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
echo "ok: 4 windows fired once each across SIGTERM and SIGKILL, 40 lines counted once, $hung hung attempts retried, each key answered 200 once"
