#!/bin/sh
# e2e: halog listen --sink into a real clickhouse-server on loopback. Numbered lines over TCP
# reach ClickHouse exactly once: across a ClickHouse restart mid-stream; across a listener
# restart while ClickHouse is down (the spool file, sent first by the next run); when an
# earlier run's spool is replayed whole (each of its batches is checked, none inserted twice);
# and with --db none. The rollup views count what the table holds. halog ingest --sink of a file
# waits on ClickHouse rather than dropping what memory and the spool cannot hold.
set -u
. "$TOP/tests/e2e/listen-lib"
. "$TOP/tests/e2e/clickhouse-lib"

HP=$(free_port) && TP=$(free_port) && P=$(free_port) || fail "no free port"
ch_config ch1 "$HP" "$TP"
ch_start ch1 "$HP"
ch1=$chpid
SPOOL=$TMP/sink.spool
URL="clickhouse://127.0.0.1:$HP/halog?batch_ms=200&spool=$SPOOL"
"$HALOG" clickhouse init "$URL" --retention 30 >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; fail "init"; }
"$HALOG" clickhouse init "$URL" >"$TMP/init2.log" 2>&1 || { cat "$TMP/init2.log"; fail "init twice"; }
grep -q "ready" "$TMP/init2.log" || fail "init: $(cat "$TMP/init2.log")"

# rows and distinct seq= numbers in the table
counts() { chq "$HP" "SELECT count(), uniqExact(extract(raw, 'seq=([0-9]+)')) FROM halog.lines FORMAT TSV"; }
# wait_rows N: until N distinct lines are in (90 s at most)
wait_rows() {
	_n=0
	while [ $_n -lt 900 ]; do
		case $(counts 2>/dev/null) in *"	$1") return 0 ;; esac
		sleep 0.1
		_n=$((_n + 1))
	done
	fail "ClickHouse holds $(counts), want $1 distinct lines"
}
expect_exactly() {
	got=$(counts)
	[ "$got" = "$1	$1" ] || fail "$2: rows and distinct lines $got, want $1 each"
	echo "ok: $2: $1 lines, each once"
}

# 1. ClickHouse is killed and restarted while 30000 lines arrive at 10000/s
start_listener "$TMP/l1.log" --db "$TMP/a.db" --sink "$URL" --bind "tcp://127.0.0.1:$P" --no-alerts
"$SEND" --tcp-octet "127.0.0.1:$P" --count 30000 --rate 10000 >"$TMP/send1.log" 2>&1 &
spid=$!
LIB_PIDS="$LIB_PIDS $spid"
sleep 1
ch_stop "$ch1" KILL
sleep 1
ch_start ch1 "$HP"
ch1=$chpid
wait "$spid" || fail "sender: $(cat "$TMP/send1.log")"
wait_rows 30000
stop_listener "$lpid" "$TMP/l1.log"
cat "$TMP/l1.log"
grep -q "insert failed" "$TMP/l1.log" || fail "the restart did not interrupt an insert"
[ "$(field "$TMP/l1.log" stored)" = 30000 ] || fail "the listener stored $(field "$TMP/l1.log" stored)"
expect_exactly 30000 "ClickHouse restarted mid-stream"
# ClickHouse writes an insert's rows and its views' rows one after the other, not atomically:
# a batch whose rows were written when the server was killed may miss from the views (see
# docs/scaling.md). What follows stops nothing abruptly, so the views gain exactly its lines.
views() { chq "$HP" "SELECT (SELECT sumMerge(n_requests) FROM halog.traffic_1m WHERE backend = 'be_app'), (SELECT sumMerge(n) FROM halog.lines_1m) FORMAT TSV"; }
v0=$(views)
echo "views after the kill: $v0 (of 30000)"

# 2. the listener stops while ClickHouse is down: its batches wait in the spool for the next run
ch_stop "$ch1"
start_listener "$TMP/l2.log" --db "$TMP/a.db" --sink "$URL" --bind "tcp://127.0.0.1:$P" --no-alerts
"$SEND" --tcp-octet "127.0.0.1:$P" --count 5000 --start 30000 --rate 10000 >"$TMP/send2.log" 2>&1 ||
	fail "sender: $(cat "$TMP/send2.log")"
wait_for 20 sh -c "grep -q 'stored 5000' '$TMP/l2.log' || { kill -USR1 $lpid; false; }" || true
stop_listener "$lpid" "$TMP/l2.log"
cat "$TMP/l2.log"
grep -q "overflow 0, spooled 5000 " "$TMP/l2.log" || fail "the 5000 lines are not in the spool"
cp "$SPOOL" "$TMP/spool.bak"
ch_start ch1 "$HP"
ch1=$chpid
start_listener "$TMP/l3.log" --db "$TMP/a.db" --sink "$URL" --bind "tcp://127.0.0.1:$P" --no-alerts
wait_rows 35000
stop_listener "$lpid" "$TMP/l3.log"
cat "$TMP/l3.log"
grep -q "rows of an earlier run are sent first" "$TMP/l3.log" || fail "the spool was not resumed"
[ ! -e "$SPOOL" ] || fail "an empty spool was left behind"
expect_exactly 35000 "listener restarted while ClickHouse was down"

# 3. an earlier run died after inserting its spool but before forgetting it: replaying that
# spool inserts nothing again; --db none keeps no local store
cp "$TMP/spool.bak" "$SPOOL"
start_listener "$TMP/l4.log" --db none --sink "$URL" --bind "tcp://127.0.0.1:$P" --no-alerts
"$SEND" --tcp-octet "127.0.0.1:$P" --count 1000 --start 35000 --rate 5000 >"$TMP/send4.log" 2>&1 ||
	fail "sender: $(cat "$TMP/send4.log")"
wait_rows 36000
stop_listener "$lpid" "$TMP/l4.log"
cat "$TMP/l4.log"
grep -q "already there 5000," "$TMP/l4.log" || fail "the replayed spool was not recognised as inserted"
expect_exactly 36000 "an inserted spool replayed"
[ ! -e "$TMP/halog-sink.chspool" ] || fail "--db none left a spool"

# the views: every line of this test is an HTTP request of be_app, with status 200
v1=$(views)
[ "$(echo "$v1" | cut -f1)" = $(($(echo "$v0" | cut -f1) + 6000)) ] &&
	[ "$(echo "$v1" | cut -f2)" = $(($(echo "$v0" | cut -f2) + 6000)) ] ||
	fail "the views went from $v0 to $v1, want 6000 more in each"
got=$(chq "$HP" "SELECT sumMerge(n_requests) = sumMerge(n_2xx) FROM halog.traffic_1m FORMAT TSV")
[ "$got" = 1 ] || fail "traffic_1m: not every request is a 2xx"
echo "ok: the per-minute views gained the 6000 requests stored after the kill"

# 4. halog ingest of a file waits on ClickHouse instead of filling memory and the spool: with
# room for 4 small batches in memory and none in the spool, 20000 lines all go in, none dropped
# (a sink that never waits drops whatever it reads faster than ClickHouse inserts)
"$O/helpers/loggen" --lines 20000 --seed 3 >"$TMP/file.log"
FURL="clickhouse://127.0.0.1:$HP/file?memory=4M&spool_max=1&spool=$TMP/file.spool"
"$HALOG" clickhouse init "$FURL" >/dev/null 2>&1 || fail "init of the database file"
"$HALOG" ingest --db none --sink "$FURL" "$TMP/file.log" >"$TMP/file.ingest" 2>&1 ||
	{ cat "$TMP/file.ingest"; fail "ingest --sink of a file"; }
cat "$TMP/file.ingest"
grep -q "inserted 20000, already there 0, overflow 0, spooled 0 " "$TMP/file.ingest" ||
	fail "ingest --sink did not wait on ClickHouse"
got=$(chq "$HP" "SELECT count() FROM file.lines FORMAT TSV")
[ "$got" = 20000 ] || fail "ClickHouse holds $got of the file's 20000 lines"
echo "ok: ingest --sink of a file waits on ClickHouse: 20000 lines through 1 MiB, no spool"

# retention where the server has no TTL (18.16): prune drops the days older than --retention
chq "$HP" "INSERT INTO halog.lines (ts_ms, recv_ms, batch, seq, kind, raw) VALUES (1000000000000, 1000000000000, 1, 0, 0, 'old')" >/dev/null
"$HALOG" clickhouse prune "$URL" >"$TMP/prune.log" 2>&1 || fail "prune: $(cat "$TMP/prune.log")"
grep -q ": [1-9][0-9]* partitions dropped" "$TMP/prune.log" || fail "prune: $(cat "$TMP/prune.log")"
got=$(chq "$HP" "SELECT count() FROM halog.lines WHERE raw = 'old' FORMAT TSV")
[ "$got" = 0 ] || fail "a line of 2001 outlived a retention of 30 days"
expect_exactly 36000 "after prune"
