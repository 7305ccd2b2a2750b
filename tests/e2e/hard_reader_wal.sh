#!/bin/sh
# e2e (hardening): readers during heavy ingest. While `halog ingest --batch 5000` stores 300000
# lines, `halog tail -f` follows (and must print all 300000 once, in order), and `halog report`
# and a plain SQLite reader run in a loop: every count they see is a whole
# number of batches (never a half-written one), the writer is not blocked (it finishes within
# 3x its time alone), and the WAL stays bounded (checkpoints keep up; printed).
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
N=300000 B=5000

"$SEND" --udp "127.0.0.1:9" --count $N --template httplog --print 2>/dev/null | grep -v "^syslogsend:" >"$TMP/big.log"
[ "$(wc -l <"$TMP/big.log")" = $N ] || fail "could not generate $N lines"
t0=$(date +%s%N)
"$HALOG" ingest --db "$TMP/alone.db" --batch $B "$TMP/big.log" 2>/dev/null || fail "ingest alone"
alone=$(( ($(date +%s%N) - t0) / 1000000 ))

db=$TMP/busy.db
"$HALOG" ingest --db "$db" --batch 1 /dev/null 2>/dev/null # create the schema first
# tail -f follows from the start: it must print every line once, in order
lib_start "$TMP/tail.out" "$HALOG" tail --db "$db" -n 0 -f --max-lines $N --timeout 300s
tpid=$LIB_LAST_PID
sleep 0.5
t0=$(date +%s%N)
lib_start "$TMP/ing.err" "$HALOG" ingest --db "$db" --batch $B "$TMP/big.log"
ipid=$LIB_LAST_PID
: >"$TMP/seen" ; maxwal=0 reads=0
while lib_alive "$ipid" && [ $reads -lt 2000 ]; do
	c=$(store_count "$db" 2>/dev/null) && echo "sql $c" >>"$TMP/seen"
	if "$HALOG" report --db "$db" --format json >"$TMP/r.json" 2>/dev/null; then
		python3 -c "import json,sys; print('report', json.load(open(sys.argv[1]))['lines']['total'])" "$TMP/r.json" >>"$TMP/seen"
	fi
	w=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
	[ "$w" -gt "$maxwal" ] && maxwal=$w
	reads=$((reads + 1))
done
wait "$ipid"; rc=$?
busy=$(( ($(date +%s%N) - t0) / 1000000 ))
cat "$TMP/ing.err"
[ "$rc" = 0 ] || fail "ingest with readers exited $rc"
[ "$(store_count "$db")" = $N ] || fail "not all $N lines stored"
wait_for 120 sh -c "! kill -0 $tpid" || fail "tail -f did not reach $N lines"
wait "$tpid"; trc=$?
[ "$trc" = 0 ] || { tail -3 "$TMP/tail.out"; fail "tail -f exited $trc"; }
tl=$(grep -c 'seq=' "$TMP/tail.out")
[ "$tl" = $N ] || fail "tail -f printed $tl lines, want $N"
sed -n 's/.*seq=\([0-9]*\).*/\1/p' "$TMP/tail.out" | awk '$1 != NR - 1 { print "tail -f out of order at line " NR ": " $1; exit 1 }' ||
	fail "tail -f skipped, repeated or reordered lines"
half=$(awk -v b=$B '$2 % b != 0 { print }' "$TMP/seen" | head -3)
[ -z "$half" ] && [ -s "$TMP/seen" ] || fail "a reader saw a partial batch: $half"
n=$(wc -l <"$TMP/seen")
echo "ingest alone ${alone} ms, with readers ${busy} ms; $reads reader rounds, $n counts all whole batches; WAL max $maxwal bytes"
[ "$busy" -le $((alone * 3 + 2000)) ] || fail "the readers slowed the writer down more than 3x"
[ "$maxwal" -le $((256 * 1024 * 1024)) ] || fail "the WAL grew to $maxwal bytes"
w=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
echo "ok: WAL after the writer closed: $w bytes"
