#!/bin/sh
# e2e: alerts evaluated as their windows close by `halog listen --db none --sink` over a real
# clickhouse-server, the definitions and state in the URL's state file. An alert fires on every
# 10 s window holding a line, another one never fires:
#   listener 1: 10 lines; their window fires and is delivered; SIGTERM (down for a window)
#   listener 2: 10 lines; fired and delivered; ClickHouse stops; 10 lines wait in the sink and
#   their window does not fire, however long ClickHouse is down; SIGTERM: they go to the spool
#   listener 3 (ClickHouse still down): its alerts wait; ClickHouse starts again: the spool is
#   inserted and the window fires then, once
# At the end, the windows that fired are exactly the windows holding lines (by receive time, read
# from ClickHouse), each fired once, their counts add up to the 30 lines, the receiver answered
# 200 once per idempotency key, and the other alert never fired.
set -u
. "$TOP/tests/e2e/alert-lib"
. "$TOP/tests/e2e/clickhouse-lib"

HP=$(free_port) && TP=$(free_port) && P=$(free_port) && W=$(free_port) || fail "no free port"
ch_config ch1 "$HP" "$TP"
ch_start ch1 "$HP"
STATE=$TMP/state.db
URL="clickhouse://127.0.0.1:$HP/halog?batch_ms=200&spool=$TMP/sink.spool&state=$STATE"
"$HALOG" clickhouse init "$URL" >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; fail "init"; }
echo 200 >"$TMP/mode"
start_receiver "$W" "$TMP/recv.log" "$TMP/mode"
"$HALOG" alert add r --db "$URL" --query '"/r/seq="' --when 'count >= 1' --every 10s \
	--webhook "http://127.0.0.1:$W/hook" --timeout 1s || fail "alert add r"
"$HALOG" alert add quiet --db "$URL" --query '"/no-such-path/"' --when 'count >= 1' --every 10s \
	--webhook "http://127.0.0.1:$W/hook" --timeout 1s || fail "alert add quiet"
send() { "$SEND" --udp "127.0.0.1:$P" --count 10 --start "$1" --prefix r >/dev/null || fail "send"; }
# the windows holding lines, from ClickHouse
wins() { chq "$HP" "SELECT DISTINCT intDiv(recv_ms, 10000) * 10000 FROM halog.lines WHERE position(raw, '/r/seq=') > 0 FORMAT TSV" >"$TMP/wins"; }
# have_rows N: ClickHouse holds N lines
have_rows() { [ "$(chq "$HP" "SELECT count() FROM halog.lines FORMAT TSV")" = "$1" ]; }
# check: every window holding a line has fired, no other one has, each firing was delivered
check() {
	wins || return 1
	python3 - "$STATE" "$TMP/wins" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
wins = {int(l) for l in open(sys.argv[2]) if l.strip()}
fired = {r[0]: r[1] for r in c.execute("SELECT window_start, key FROM alert_log WHERE event = 'fired'")}
if not wins or set(fired) != wins:
    sys.exit(1)
done = {r[0] for r in c.execute("SELECT key FROM alert_log WHERE event = 'delivered'")}
sys.exit(1 if set(fired.values()) - done else 0)
PY
}
# fired_from MS: how many windows starting at or after MS fired
fired_from() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM alert_log WHERE event = 'fired' AND window_start >= ?\", (int(sys.argv[2]),)).fetchone()[0])" "$STATE" "$1"; }

start_listener "$TMP/l1.log" --db none --sink "$URL" --bind "udp://127.0.0.1:$P"
send 0
wait_for 60 have_rows 10 || fail "the first lines did not reach ClickHouse"
wait_for 60 check || { "$HALOG" alert log --db "$URL"; cat "$TMP/l1.log"; fail "the first window did not fire"; }
stop_listener "$lpid" "$TMP/l1.log"
sleep 11 # a whole window with the listener down
start_listener "$TMP/l2.log" --db none --sink "$URL" --bind "udp://127.0.0.1:$P"
send 10
wait_for 60 have_rows 20 || fail "the lines of the second listener did not reach ClickHouse"
wait_for 60 check || { "$HALOG" alert log --db "$URL"; cat "$TMP/l2.log"; fail "not fired after the restart"; }

# ClickHouse down: the lines wait in the sink, and so does their window
ch_stop "$chpid"
sleep 1 # the next lines fall in a window of their own (a window fires once)
down_ms=$(($(date +%s) / 10 * 10000))
send 20
sleep 12 # their window has ended (a negative check: nothing can fire while ClickHouse is down)
n=$(fired_from "$down_ms")
[ "$n" = 0 ] || { "$HALOG" alert log --db "$URL" 2>&1; fail "$n windows fired while ClickHouse was down"; }
# a listener restart while ClickHouse is down: the lines go to the spool, the next listener
# sends them first, and its alerts wait both for them and for ClickHouse to be readable
stop_listener "$lpid" "$TMP/l2.log"
start_listener "$TMP/l3.log" --db none --sink "$URL" --bind "udp://127.0.0.1:$P"
sleep 3
n=$(fired_from "$down_ms")
[ "$n" = 0 ] || { "$HALOG" alert log --db "$URL" 2>&1; fail "$n windows fired while ClickHouse was down"; }
ch_start ch1 "$HP"
wait_for 60 have_rows 30 || fail "ClickHouse holds $(chq "$HP" "SELECT count() FROM halog.lines FORMAT TSV") lines, want 30"
wait_for 90 check || { "$HALOG" alert log --db "$URL"; cat "$TMP/l2.log"; fail "the window did not fire once ClickHouse was back"; }
[ "$(fired_from "$down_ms")" -ge 1 ] || fail "no window fired after the outage"
stop_listener "$lpid" "$TMP/l3.log"
cat "$TMP/l2.log" "$TMP/l3.log"
grep -q "insert failed" "$TMP/l2.log" || fail "ClickHouse's outage was not seen"
grep -q "spooled 10 " "$TMP/l2.log" || fail "the second listener did not spool the lines"
grep -q "alerts wait for the store" "$TMP/l3.log" || fail "the third listener did not wait for ClickHouse"
"$HALOG" alert log --db "$URL" -n 1000
"$HALOG" alert log --db "$URL" -n 1000 --json >"$TMP/alog.json"

rows=$(chq "$HP" "SELECT count(), uniqExact(extract(raw, 'seq=([0-9]+)')) FROM halog.lines FORMAT TSV")
[ "$rows" = "30	30" ] || fail "ClickHouse holds (rows, distinct) $rows, want 30 each"
[ "$(pyq "sum(1 for l in lines if l['event']=='fired' and l['alert']=='quiet')" "$TMP/alog.json")" = 0 ] ||
	fail "the quiet alert fired"
[ "$(pyq "sum(1 for l in lines if l['alert']=='quiet' and l['event']=='error')" "$TMP/alog.json")" = 0 ] ||
	fail "the quiet alert had evaluation errors"
keys=$(pyq "[l['key'] for l in lines if l['event']=='fired']" "$TMP/alog.json")
nf=0 total=0
for k in $keys; do
	c=$(pyq "sum(1 for l in lines if l['key']=='$k' and l['answer']=='200')" "$TMP/recv.log")
	[ "$c" = 1 ] || fail "key $k answered 200 $c times, want 1"
	n=$(pyq "[l['body']['count'] for l in lines if l['key']=='$k' and l['answer']=='200'][0]" "$TMP/recv.log")
	total=$((total + n))
	nf=$((nf + 1))
done
[ "$total" = 30 ] || fail "the delivered windows count $total lines, want 30"
[ "$(pyq "sum(1 for l in lines if l['alert']=='quiet')" "$TMP/recv.log")" = 0 ] || fail "the quiet alert was delivered"
echo "ok: $nf windows fired once each over ClickHouse, across a listener restart and a ClickHouse stop, 30 lines counted once, the quiet alert never fired"
