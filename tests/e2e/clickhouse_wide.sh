#!/bin/sh
# e2e: a ClickHouse database and a sink spool of schema 2 (the wide rows, a column a field, that
# halog wrote before lines.fields) after the change to narrow rows: the readers refuse the
# older table and name `halog clickhouse init`, which adds `fields`; its wide rows then read as
# before, and the rows of an older spool, sent by this sink as narrow rows into that table, too.
# Reports and searches are compared with a SQLite store of the same lines.
set -u
. "$TOP/tests/e2e/clickhouse-lib"
LOGGEN=$O/helpers/loggen
WIDE=$O/helpers/chwide
[ -x "$LOGGEN" ] && [ -x "$WIDE" ] || skip "helpers/loggen or helpers/chwide not built"

HP=$(free_port) && TP=$(free_port) || fail "no free port"
ch_config ch1 "$HP" "$TP"
ch_start ch1 "$HP"
"$LOGGEN" --lines 3000 --format mixed >"$TMP/a.log" || fail "loggen"
"$LOGGEN" --lines 2000 --seed 7 --format mixed --start 1764547260 >"$TMP/b.log" || fail "loggen"
"$HALOG" ingest --db "$TMP/a.db" "$TMP/a.log" >/dev/null 2>&1 || fail "ingest a"
"$HALOG" ingest --db "$TMP/ab.db" "$TMP/a.log" "$TMP/b.log" >/dev/null 2>&1 || fail "ingest ab"

# the database as the previous halog's init and sink left it: the wide lines, the views
URL="clickhouse://127.0.0.1:$HP/old?spool=$TMP/old.spool"
chq "$HP" "CREATE DATABASE old" >/dev/null
chq "$HP" "CREATE TABLE old.lines ($("$WIDE" columns), day Date MATERIALIZED
	toDate(toDateTime(intDiv(ts_ms, 1000)))) ENGINE = MergeTree() PARTITION BY day
	ORDER BY (recv_ms, batch, seq)" >/dev/null
"$HALOG" clickhouse init "$URL" >/dev/null 2>&1 || fail "init (views)"
chq "$HP" "ALTER TABLE old.lines DROP COLUMN fields" >/dev/null
"$WIDE" rows "$TMP/a.log" 1764547200000 >"$TMP/a.rows" || fail "chwide rows"
q=$(echo "INSERT INTO old.lines ($("$WIDE" names)) FORMAT RowBinary" | sed 's/ /%20/g; s/,/%2C/g')
curl -sS --fail-with-body "http://127.0.0.1:$HP/?query=$q" --data-binary @"$TMP/a.rows" ||
	fail "insert the wide rows"

"$HALOG" report --db "$URL" >"$TMP/old.out" 2>&1 && fail "a table of schema 2 was read"
grep -q "lack the columns fields of this halog (run 'halog clickhouse init clickhouse://127.0.0.1:$HP/old'" "$TMP/old.out" ||
	{ cat "$TMP/old.out"; fail "no remedy for a table of schema 2"; }
"$HALOG" clickhouse init "$URL" >"$TMP/init.out" 2>&1 || { cat "$TMP/init.out"; fail "init over schema 2"; }
grep -q "old: added the columns lines.fields$" "$TMP/init.out" && grep -q "schema 3" "$TMP/init.out" ||
	{ cat "$TMP/init.out"; fail "init: what it did is not said"; }

checked=0
# same DB CMD ARGS...: halog CMD from the SQLite store DB and from ClickHouse, the same bytes
# (positions and ids, the stores' own, and the receive times, chwide's, left out)
same() {
	_db=$1 _c=$2; shift 2
	"$HALOG" "$_c" --db "$TMP/$_db" "$@" >"$TMP/s.out" 2>"$TMP/s.err"; _r1=$?
	"$HALOG" "$_c" --db "$URL" "$@" >"$TMP/c.out" 2>"$TMP/c.err"; _r2=$?
	[ "$_r1" = "$_r2" ] || fail "$_c $*: exit $_r1 from SQLite, $_r2 from ClickHouse: $(cat "$TMP/c.err")"
	[ -s "$TMP/s.out" ] || fail "$_c $*: empty"
	for _s in s c; do
		sed 's/"pos":[0-9]*//g; s/"id":[0-9]*//g; s/"recv_ms":[0-9]*,"time":"[^"]*"//
			s/^[0-9][-0-9T:.]*Z //' "$TMP/$_s.out" >"$TMP/$_s.cmp"
	done
	cmp -s "$TMP/s.cmp" "$TMP/c.cmp" || { diff "$TMP/s.cmp" "$TMP/c.cmp" | cut -c1-200 | head -20; fail "$_c $* differs"; }
	checked=$((checked + 1))
}
each() {
	same "$1" report --format json
	same "$1" report --paths --clients --headers --conn-errors --sort name
	same "$1" search -n 0 status:503
	same "$1" search --json -n 40 be_api -status:200
	same "$1" search --count method:POST
}
each a.db
echo "ok: a table of schema 2 is refused with its remedy, and its rows read as before after init"

# a spool of that halog: its batch is sent first, as narrow rows into the widened table
"$WIDE" spool "$TMP/b.log" 1764547300000 >"$TMP/old.spool" || fail "chwide spool"
: >"$TMP/empty.log"
"$HALOG" ingest --db none --sink "$URL" "$TMP/empty.log" >"$TMP/spool.out" 2>&1 ||
	{ cat "$TMP/spool.out"; fail "ingest with an older spool"; }
grep -q "2000 rows of an earlier run are sent first" "$TMP/spool.out" || { cat "$TMP/spool.out"; fail "the older spool was not read"; }
grep -q "overflow 0, spooled 0 " "$TMP/spool.out" || { cat "$TMP/spool.out"; fail "the older spool was not sent"; }
[ "$(chq "$HP" "SELECT count(), countIf(fields != '') FROM old.lines FORMAT TSV")" = "5000	2000" ] ||
	fail "not 3000 wide and 2000 narrow rows"
each ab.db
echo "ok: a spool of schema 2 is sent as schema 3; wide and narrow rows of one table read alike ($checked compared)"
