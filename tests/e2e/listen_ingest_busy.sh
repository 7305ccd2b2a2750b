#!/bin/sh
# e2e: `halog ingest` into a store that a busy listener writes waits its turn and succeeds
# (writers take turns through the store's turnstile, docs/reliability.md), and readers never
# hold the listener back: while 6,000 msg/s stream into the listener, three ingests of 20,000
# lines each (in batches of 500, so each needs the write lock 40 times) all exit 0 with every
# line stored, and a reader holding a read transaction open the whole time does not stop the
# listener from storing.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
LOGGEN=$O/helpers/loggen
[ -x "$LOGGEN" ] || skip "helpers/loggen not built"

P=$(free_port) || fail "no free port"
db=$TMP/busy.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --batch-ms 50
"$LOGGEN" --lines 20000 --seed 7 >"$TMP/in.log" || fail "loggen"

# a reader that keeps a read transaction (a snapshot) open while everything runs
python3 - "$db" "$TMP/reader.stop" >"$TMP/reader.out" 2>&1 <<'PY' &
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
con.execute("BEGIN")
n0 = con.execute("SELECT count(*) FROM blocks").fetchone()[0]
end = time.monotonic() + 300
while not os.path.exists(sys.argv[2]) and time.monotonic() < end:
    time.sleep(0.1)
print(n0, con.execute("SELECT count(*) FROM blocks").fetchone()[0])
con.execute("COMMIT")
PY
rpid=$!

# 6000 msg/s until stopped below
lib_start "$TMP/send.log" "$SEND" --udp "127.0.0.1:$P" --count 100000000 --rate 6000 --prefix busy
spid=$_pid
LIB_PIDS="$LIB_PIDS $rpid"
sleep 1
fails=0
for k in 1 2 3; do
	"$HALOG" ingest --db "$db" --batch 500 --force "$TMP/in.log" >"$TMP/ingest$k.out" 2>&1 || {
		fails=$((fails + 1))
		cat "$TMP/ingest$k.out"
	}
done
# the listener kept storing meanwhile, and the reader's snapshot did not stop it
before=$(store_count "$db" busy)
wait_for 30 sh -c "[ \"\$('$HALOG' search --db '$db' --count busy 2>/dev/null || echo 0)\" -gt $before ]" ||
	{ tail -5 "$log"; sqlite3 "$db" "SELECT name, value FROM counters"; fail "the listener stopped storing while the reader held its snapshot (before: $before)"; }
touch "$TMP/reader.stop"
wait "$rpid" || fail "reader failed: $(cat "$TMP/reader.out")"
lib_stop "$spid"
stop_listener "$lpid" "$log"
[ "$(field "$log" received)" = "$(field "$log" stored)" ] || fail "received $(field "$log" received), stored $(field "$log" stored)"
[ "$fails" = 0 ] || fail "$fails of 3 ingests failed beside a busy listener"
n=$(store_sql "$db" "SELECT count(*) FROM lines WHERE source LIKE 'file:%'")
[ "$n" = 60000 ] || fail "$n ingested lines stored, want 60000"
read -r r0 r1 <"$TMP/reader.out"
[ "$r0" = "$r1" ] || fail "the reader's snapshot moved: $r0 then $r1"
echo "ok: 3 ingests of 20000 lines (batches of 500) beside a listener at 6000 msg/s ($(field "$log" stored) stored): all stored; a reader's open snapshot did not stop the listener"
