#!/bin/sh
# e2e: ClickHouse down for 30 s while lines arrive at 20000/s (the issue's failure case): the
# listener never stops taking lines; batches wait in memory, then in the spool file, and what
# fits in neither is dropped and counted; when ClickHouse is back, the spool is inserted in the
# order the batches were made. Every line is either in ClickHouse exactly once or counted as
# overflow, and the inserts' order (ClickHouse's block numbers) follows the lines' order.
set -u
. "$TOP/tests/e2e/listen-lib"
. "$TOP/tests/e2e/clickhouse-lib"

RATE=20000 DOWN=30
N=$((RATE * (DOWN + 10)))
HP=$(free_port) && TP=$(free_port) && P=$(free_port) || fail "no free port"
ch_config ch1 "$HP" "$TP"
ch_start ch1 "$HP"
SPOOL=$TMP/sink.spool
# small bounds, so that 30 s of lines do not all fit
URL="clickhouse://127.0.0.1:$HP/halog?batch_ms=500&memory=8M&spool_max=96M&spool=$SPOOL"
"$HALOG" clickhouse init "$URL" >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; fail "init"; }

start_listener "$TMP/l.log" --db none --sink "$URL" --bind "tcp://127.0.0.1:$P" --no-alerts
"$SEND" --tcp-octet "127.0.0.1:$P" --count "$N" --rate "$RATE" >"$TMP/send.log" 2>&1 &
spid=$!
LIB_PIDS="$LIB_PIDS $spid"
sleep 3
ch_stop "$chpid"
sleep "$DOWN"
ch_start ch1 "$HP"
wait "$spid" || fail "sender: $(cat "$TMP/send.log")"
cat "$TMP/send.log"
# until the spool is empty and the table stops growing (180 s at most)
last=-1 n=0
while [ $n -lt 180 ]; do
	c=$(chq "$HP" "SELECT count() FROM halog.lines FORMAT TSV")
	sz=$(stat -c %s "$SPOOL" 2>/dev/null || echo 0)
	[ "$c" = "$last" ] && [ "$sz" -le 16 ] && break
	last=$c
	sleep 1
	n=$((n + 1))
done
stop_listener "$lpid" "$TMP/l.log"
grep -v "insert failed" "$TMP/l.log"
grep -q "insert failed" "$TMP/l.log" || fail "ClickHouse's outage was not seen"

sum=$(grep 'sink .*: added' "$TMP/l.log" | sed 's/.*added \([0-9]*\), inserted \([0-9]*\), already there \([0-9]*\), overflow \([0-9]*\), spooled \([0-9]*\) .*/\1 \2 \3 \4 \5/')
set -- $sum
added=$1 inserted=$2 dup=$3 over=$4 spooled=$5
rcv=$(field "$TMP/l.log" received)
[ "$added" = "$rcv" ] || fail "the sink was given $added of $rcv lines"
[ "$rcv" = "$N" ] || fail "the listener received $rcv of $N lines (over TCP: none may be lost)"
[ "$spooled" = 0 ] || fail "$spooled rows left in the spool"
[ "$over" -gt 0 ] || fail "nothing overflowed: raise DOWN or lower the bounds"
got=$(chq "$HP" "SELECT count(), uniqExact(extract(raw, 'seq=([0-9]+)')) FROM halog.lines FORMAT TSV")
[ "$got" = "$((inserted + dup))	$((inserted + dup))" ] || fail "ClickHouse holds (rows, distinct) $got; the sink inserted $inserted (+$dup found there)"
[ $((inserted + dup + over)) = "$N" ] || fail "inserted $inserted + already there $dup + overflow $over != $N"
# the order: parts by their first block number hold increasing line numbers
chq "$HP" "SELECT toUInt64(splitByChar('_', _part)[2]) AS b, min(s), max(s) FROM (SELECT _part, toUInt64(extract(raw, 'seq=([0-9]+)')) AS s FROM halog.lines) GROUP BY _part ORDER BY b FORMAT TSV" >"$TMP/parts"
awk -F'\t' 'NR > 1 && $2 <= prev { bad = 1; print "part at block " $1 " starts at line " $2 " after line " prev } { prev = $3 } END { exit bad }' "$TMP/parts" ||
	fail "inserts out of order"
echo "ok: $N lines at $RATE/s with ClickHouse down ${DOWN}s: $((inserted + dup)) in ClickHouse once each, $over counted as overflow, $(wc -l <"$TMP/parts") parts in order"
