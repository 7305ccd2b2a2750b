#!/bin/sh
# e2e (hardening): the store cannot grow (a file-size limit, `ulimit -f`, halog itself ignores SIGXFSZ,
# so write() fails with EFBIG the way it fails with ENOSPC on a full disk; needs no root).
# listen: says "cannot store ... retrying", keeps the backlog; a first SIGTERM still waits for
# the store, a second gives up, counts what was not stored and exits 1; the file is intact and
# holds a gap-free prefix of the numbers. ingest: stops with an error naming the cause, exit 1,
# the committed batches intact. (Space coming back on a real full disk: listen_diskfull.sh.)
set -u
. "$TOP/tests/e2e/listen-lib"
LIMIT=16384 # ulimit -f blocks of 512 bytes (dash, POSIX sh): 8 MiB

P=$(free_port) || fail "no free port"
db=$TMP/fs.db
log=$TMP/listen.log
lib_start "$log" sh -c "ulimit -f $LIMIT; exec \"\$0\" \"\$@\"" "$HALOG" listen --db "$db" \
	--bind "udp://127.0.0.1:$P" --batch 500 --batch-ms 50
lpid=$LIB_LAST_PID
wait_for 10 grep -q "listening on" "$log" || { cat "$log"; fail "listener did not start"; }
"$SEND" --udp "127.0.0.1:$P" --count 60000 --rate 30000 --template httplog >/dev/null 2>&1 || fail "send"
wait_for 20 grep -q "cannot store (.*): [0-9]* messages waiting, retrying\|disk full: [0-9]* messages waiting" "$log" ||
	{ cat "$log"; fail "no 'cannot store ... retrying' message"; }
kill -TERM "$lpid"
sleep 1
lib_alive "$lpid" || { cat "$log"; fail "the first SIGTERM dropped the backlog"; }
kill -TERM "$lpid"
wait "$lpid"; rc=$?
grep -v '^halog listen: cannot store' "$log"
[ "$rc" = 1 ] || fail "exit $rc after giving up, want 1"
lost=$(sed -n 's/^halog listen: \([0-9]*\) received messages were not stored$/\1/p' "$log")
rcv=$(field "$log" received) sto=$(field "$log" stored)
[ -n "$lost" ] && [ "$lost" -gt 0 ] || fail "the messages not stored are not counted"
[ $((sto + lost)) = "$rcv" ] || fail "received $rcv != stored $sto + not stored $lost"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "the database is damaged"
rows=$(store_count "$db")
[ "$rows" = "$sto" ] || fail "$rows rows, the listener said stored $sto"
if [ "$rows" -gt 0 ]; then
	got=$(seqs "$db" "1")
	[ "$got" = "$rows|$rows|0000000|$(printf '%07d' $((rows - 1)))" ] || fail "not a gap-free prefix: $got"
fi
echo "listen: sent 60000, received $rcv, stored $sto, counted as not stored $lost, database intact"

# ingest: a file bigger than the limit
"$SEND" --udp "127.0.0.1:9" --count 60000 --template httplog --print >"$TMP/big.log" 2>/dev/null
sh -c "ulimit -f $LIMIT; exec \"\$0\" \"\$@\"" "$HALOG" ingest --db "$TMP/ing.db" --batch 1000 \
	"$TMP/big.log" >"$TMP/ing.out" 2>"$TMP/ing.err"
rc=$?
cat "$TMP/ing.err"
[ "$rc" = 1 ] || fail "ingest exit $rc, want 1"
grep -q "cannot commit .*: disk I/O error\|disk full\|too large\|No space" "$TMP/ing.err" || fail "ingest does not say why it stopped"
[ "$(sqlite3 "$TMP/ing.db" "PRAGMA integrity_check")" = ok ] || fail "ingest left a damaged database"
n=$(store_count "$TMP/ing.db")
[ "$n" -gt 0 ] && [ $((n % 1000)) = 0 ] || fail "ingest kept $n lines, want whole batches of 1000"
echo "ok: ingest stopped at the limit with $n lines in whole batches, database intact"
