#!/bin/sh
# e2e: the readers over ClickHouse give what they give over SQLite. One `halog ingest --db FILE
# --sink clickhouse://…` run fills both stores with the same lines (generated traffic of every
# kind, and the corpus's real HAProxy 2.6 lines in every framing); then `halog report` prints
# the same bytes from either store, for every section and format, and so do `halog search` and
# `halog tail` (positions, the JSON "pos" and "id", are the store's own and are left out of the
# comparison).
set -u
. "$TOP/tests/e2e/clickhouse-lib"
ch_corpus
ch_halog ch1

"$LOGGEN" --lines 20000 --format mixed >"$TMP/gen.log" || fail "loggen"
"$HALOG" ingest --db "$TMP/a.db" --sink "$URL" "$TMP/gen.log" "$CORPUS"/udp/*.log \
	"$CORPUS"/rsyslog-files/*.log >"$TMP/ingest.log" 2>&1 || { cat "$TMP/ingest.log"; fail "ingest"; }
cat "$TMP/ingest.log"
grep -q "overflow 0, spooled 0 " "$TMP/ingest.log" || fail "the sink did not insert everything"
n=$("$HALOG" report --db "$TMP/a.db" --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["lines"]["total"])')
got=$(chq "$HP" "SELECT count() FROM halog.lines FORMAT TSV")
[ "$got" = "$n" ] || fail "ClickHouse holds $got lines, the SQLite store $n"

checked=0
# same FORMAT ARGS...: the report from both stores, byte for byte
same() {
	_f=$1; shift
	"$HALOG" report --db "$TMP/a.db" --format "$_f" "$@" >"$TMP/s.out" 2>"$TMP/s.err"; _r1=$?
	"$HALOG" report --db "$URL" --format "$_f" "$@" >"$TMP/c.out" 2>"$TMP/c.err"; _r2=$?
	[ "$_r1" = "$_r2" ] || fail "report $_f $*: exit $_r1 from SQLite, $_r2 from ClickHouse: $(cat "$TMP/c.err")"
	[ -s "$TMP/s.out" ] || [ "$_r1" != 0 ] || fail "report $_f $*: empty"
	sed 's/"pos":[0-9]*//g' "$TMP/s.out" >"$TMP/s.cmp"
	sed 's/"pos":[0-9]*//g' "$TMP/c.out" >"$TMP/c.cmp"
	cmp -s "$TMP/s.cmp" "$TMP/c.cmp" || { diff "$TMP/s.cmp" "$TMP/c.cmp" | cut -c1-200 | head -20; fail "report $_f $* differs"; }
	cmp -s "$TMP/s.err" "$TMP/c.err" || { diff "$TMP/s.err" "$TMP/c.err" | head; fail "report $_f $*: stderr differs"; }
	checked=$((checked + 1))
}
W="--since 2025-12-01T00:00:00Z --until 2025-12-01T00:00:20Z"
for f in text json csv markdown html; do
	same "$f"
	same "$f" --paths --clients --slowest --conn-errors
	same "$f" --series --bucket 1d
	same "$f" --since 2025-12-01T00:00:00Z --until 2025-12-02T00:00:00Z --series
	same "$f" $W --series --bucket 7s --paths
	same "$f" --backend be_app --clients --clients-by net
	same "$f" --frontend fe_api --since 2025-12-01T00:00:05.5Z --no-fold --paths --sort p95
	same "$f" --headers --sort name --top 0
	same "$f" $W --backends --headers --slowest --compare 10s
	same "$f" --min-ta 200 --min-tw 1 --paths --clients --headers --series --bucket 1h
	same "$f" --since 2025-12-01T00:00:03.25Z --until 2025-12-01T00:01:07.7Z --compare \
		2025-11-24T00:00:00Z..2025-11-25T00:00:00Z --slowest --top 3 --conn-errors
done
same text --check-balance 5
same text --backend be_static --check-balance 50
echo "ok: $checked reports equal from SQLite and ClickHouse"

checked=0
same_cmd search status:503
same_cmd search -n 0 be_api -status:200
same_cmd search --count backend:be_app
same_cmd search --json -n 7 kind:server OR kind:check
same_cmd search -n 0 '/v[12]/i' method:POST
same_cmd search --since 2025-12-01T00:00:05Z --until 2025-12-01T00:00:06Z 'status:5xx'
same_cmd search -n 0 'ta:>500' 'tr:>=100' 'tw:<5'
same_cmd search -n 0 'bytes:>1M' OR 'retries:>0' OR 'tq:>0'
same_cmd search --json -n 0 term:SC OR 'term:sD*' OR 'state:CD'
same_cmd search -n 0 '(be_app OR fe_dl)' NOT status:2xx NOT 'tc:>10'
same_cmd search --histogram --bucket 1s status:5xx
same_cmd search --json --histogram --bucket 1s 'ta:>1000'
same_cmd search --raw -n 0 'ta:>1000'
same_cmd search -C 2 -n 5 status:503
same_cmd search -A 3 -n 5 kind:server
same_cmd search --json -B 2 -n 5 term:CD
same_cmd search --raw -C 1 -n 5 status:502
same_cmd search --json -n 0 parse:partial OR parse:bad
same_cmd tail --raw -n 30 'ta:>500'
same_cmd tail -C 2 -n 3 status:503
same_cmd search -n 0 '"Connection refused"'
same_cmd search --json -n 0 client:10.0.0.0/8 path:/api/v1/search
same_cmd tail -n 25
same_cmd tail -n 3 status:503
same_cmd tail -n 0 fe_dl
echo "ok: $checked searches and tails equal from SQLite and ClickHouse"

# small pages: a cursor in receive order reads windows of recv_ms (store/chread.c), narrowed
# after a full page and widened after a nearly empty one; with pages of 500 rows the reads of
# lines go through many windows, oldest first (report, search) and newest first (tail)
checked=0
URL0=$URL
URL="$URL&page=500"
same json --paths --clients --slowest --conn-errors
same text --headers --sort name --top 0 --backend be_app
same_cmd search -n 0 status:503
same_cmd search --json -n 0 kind:server OR kind:check
same_cmd tail -n 2000
same_cmd tail -C 2 -n 30 status:503
# in logged-time order (connection errors, server events) the windows are of ts_ms: pages of 7
# rows take them through many windows
URL="$URL0&page=7"
same json --conn-errors
same text --backend be_app
same text --check-balance 5
URL=$URL0
echo "ok: $checked reads equal from SQLite and ClickHouse with pages of 500 and 7 rows"

# tail -f over ClickHouse: lines inserted while it follows are shown, once each. It follows once
# a marker line inserted after its start shows (inserted again each second until one does).
lib_start "$TMP/follow.out" "$HALOG" tail -f -n 0 --db "$URL"
fpid=$_pid
i=0
until grep -q "follow-marker" "$TMP/follow.out"; do
	i=$((i + 1))
	[ $i -le 30 ] || { cat "$TMP/follow.out"; fail "tail -f showed no marker in 30 s"; }
	echo "<134>Dec  1 00:00:00 lb1 haproxy[1]: follow-marker $i" >"$TMP/marker.log"
	"$HALOG" ingest --db none --sink "$URL&batch_ms=100" "$TMP/marker.log" >/dev/null 2>&1
	sleep 1
done
head -n 7 "$TMP/gen.log" >"$TMP/seven.log"
# gzip-compressed: on loopback the default is none, and that path must stay tested too
"$HALOG" ingest --db none --sink "$URL&batch_ms=100&compress=gzip" "$TMP/seven.log" >"$TMP/ingest7.log" 2>&1 ||
	{ cat "$TMP/ingest7.log"; fail "ingest of 7 lines"; }
# seen N: how many of the 7 lines tail -f showed (each line's bytes, found once each)
seen() {
	_n=0
	while IFS= read -r _l; do
		[ "$(grep -cF -- "$_l" "$TMP/follow.out")" = "$1" ] && _n=$((_n + 1))
	done <"$TMP/seven.log"
	echo $_n
}
wait_for 30 sh -c "[ \$(grep -c 'haproxy\[4242\]' '$TMP/follow.out') -ge 7 ]" ||
	{ cat "$TMP/follow.out" "$TMP/ingest7.log"; fail "tail -f did not show the 7 new lines"; }
sleep 1
lib_stop "$fpid"
[ "$(seen 1)" = 7 ] || { cat "$TMP/follow.out"; fail "tail -f: $(seen 1) of the 7 lines shown exactly once"; }
echo "ok: tail -f over ClickHouse showed the 7 lines inserted while it followed, once each"

# halog clickhouse copy: the SQLite store copied into another database reads the same
URL3="clickhouse://127.0.0.1:$HP/copied?spool=$TMP/copy.spool"
"$HALOG" clickhouse init "$URL3" >/dev/null 2>&1 || fail "init copied"
"$HALOG" clickhouse copy --db "$TMP/a.db" "$URL3" >"$TMP/copy.log" 2>&1 || { cat "$TMP/copy.log"; fail "copy"; }
cat "$TMP/copy.log"
grep -q "overflow 0, spooled 0 " "$TMP/copy.log" || fail "copy: not everything was inserted"
URL1=$URL
URL=$URL3
checked=0
for f in text json; do
	same "$f"
	same "$f" --paths --clients --slowest --conn-errors
	same "$f" $W --series --bucket 7s
done
same_cmd search -n 0 status:503
same_cmd search --json -n 0 kind:server OR kind:check OR kind:conn_error
same_cmd tail -n 40
echo "ok: $checked reports and searches equal from a copied store"

# a lines table of an older halog (without a column of today's): the readers refuse it with
# the remedy, init adds the column, the rows already there read as before
chq "$HP" "ALTER TABLE copied.lines DROP COLUMN fields" >/dev/null
"$HALOG" report --db "$URL3" >"$TMP/old.out" 2>&1 && fail "a table without fields was read"
grep -q "lack the columns fields of this halog (run 'halog clickhouse init" "$TMP/old.out" ||
	{ cat "$TMP/old.out"; fail "no remedy for an older table"; }
"$HALOG" clickhouse init "$URL3" >/dev/null 2>&1 || fail "init over an older table"
"$HALOG" report --db "$URL3" >"$TMP/old.out" 2>&1 || { cat "$TMP/old.out"; fail "report after init"; }
echo "ok: a table of an older halog is refused with its remedy, and read after init"
URL=$URL1

# the same through halog listen: the listener's counters reach ClickHouse too
P=$(free_port) || fail "no free port"
URL2="clickhouse://127.0.0.1:$HP/live?spool=$TMP/live.spool"
"$HALOG" clickhouse init "$URL2" >"$TMP/init2.log" 2>&1 || { cat "$TMP/init2.log"; fail "init live"; }
lib_start "$TMP/listen.log" "$HALOG" listen --db "$TMP/b.db" --sink "$URL2" --bind "tcp://127.0.0.1:$P" --no-alerts
lpid=$_pid
wait_for 10 grep -q "listening on" "$TMP/listen.log" || { cat "$TMP/listen.log"; fail "listener did not start"; }
python3 - "$P" "$TMP/gen.log" <<'PY' || fail "could not send the lines"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.close()
PY
n=$(wc -l <"$TMP/gen.log")
wait_for 60 sh -c "kill -USR1 $lpid; grep -q 'stored $n,' '$TMP/listen.log'" || { cat "$TMP/listen.log"; fail "the listener did not store $n lines"; }
kill -TERM "$lpid"
wait "$lpid" || { cat "$TMP/listen.log"; fail "listener exit"; }
grep "sink" "$TMP/listen.log"
URL=$URL2
mv "$TMP/b.db" "$TMP/a.db" 2>/dev/null; rm -f "$TMP/b.db-wal" "$TMP/b.db-shm"
checked=0
for f in text json; do
	same "$f"
	same "$f" --paths --series --bucket 10s
done
grep -q '"listen.received":'"$n" "$TMP/c.out" || fail "the counters are not in ClickHouse's report"
echo "ok: $checked reports of a listener run equal, its counters included"
