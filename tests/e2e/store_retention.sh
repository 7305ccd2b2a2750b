#!/bin/sh
# Retention keeps a store's size flat (docs/storage.md, "Retention"):
# 1. six simulated days of traffic replayed into one store (`ingest --replay`) with
#    `--retain 12h --retain-rollups 2d` set by `halog prune`: from the fourth day on the file
#    does not grow (freed pages are reused), only the newest day's lines remain, and the
#    aggregates of the last two days; a report over those aggregates says the raw lines of its
#    window are gone;
# 2. `--max-size 16M`, then 300,000 lines (about 21 MB of blocks): the file ends within one
#    batch of the limit and the lines kept are the newest, without a gap;
# 3. `halog listen --max-size 16M` says what it keeps when it starts.
set -u
. "$TOP/tests/lib.sh"
L=$O/helpers/loggen
[ -x "$L" ] || skip "no $L"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 CLI missing"
mkdir -p "$TMP"
db=$TMP/days.db
day0=1764547200

i=0
while [ $i -lt 6 ]; do
	"$L" --lines 20000 --seed $((i + 1)) --format mixed --start $((day0 + i * 86400)) --rate 1 \
		>"$TMP/d$i.log" || fail "loggen day $i"
	"$HALOG" ingest --db "$db" --replay "$TMP/d$i.log" 2>>"$TMP/ingest.err" ||
		{ cat "$TMP/ingest.err"; fail "ingest day $i"; }
	if [ $i = 0 ]; then
		"$HALOG" prune --db "$db" --retain 12h --retain-rollups 2d 2>"$TMP/prune.err" ||
			{ cat "$TMP/prune.err"; fail "prune"; }
		grep -q '^halog prune: keeping lines 12h, store 2.0 GiB (default), aggregates 2d$' \
			"$TMP/prune.err" || fail "prune does not say what it keeps: $(cat "$TMP/prune.err")"
	fi
	n=$(store_count "$db")
	size=$(stat -c %s "$db")
	broll=$(sqlite3 "$db" "SELECT min(bucket) FROM rollup")
	echo "day $i: $n lines, $size bytes, oldest aggregate $broll"
	eval "size$i=$size"
	# the newest day only (each day's lines span 5.5 hours, 18.5 hours apart)
	[ "$n" = 20000 ] || fail "day $i: $n lines kept, want the newest day's 20000"
	# the aggregates of the two days before the newest line, never older
	newest=$(((day0 + i * 86400 + 19999) * 1000))
	[ "$broll" -ge $((newest - 2 * 86400000 - 60000)) ] || fail "day $i: aggregates older than 2 days kept"
	i=$((i + 1))
done
# the lines of the newest day are the ones kept
"$HALOG" search --db "$db" --json -n 1 '' | grep -q "\"time\":\"2025-12-06T" ||
	fail "the newest line is not of the last day"
[ "$(sqlite3 "$db" "SELECT min(bucket) >= ($day0 + 3 * 86400) * 1000 FROM rollup")" = 1 ] ||
	fail "the first three days' aggregates are still there"
# the plateau: once two days of aggregates exist, the file stops growing
# shellcheck disable=SC2154
[ "$size5" -le $((size3 + size3 / 20)) ] || fail "the store grew from $size3 to $size5 bytes at its limits"
echo "ok: plateau at $size5 bytes from day 3 (day 0: $size0)"
# a report over the aggregates kept says the raw lines of its window are gone, in text and JSON;
# one over a window of kept lines does not
"$HALOG" report --db "$db" >"$TMP/rep.txt" || fail "report"
grep -q '^retention: the raw lines logged up to 2025-12-05T0.* are removed' "$TMP/rep.txt" ||
	fail "the report does not say lines were removed: $(head -n 4 "$TMP/rep.txt")"
"$HALOG" report --db "$db" --format json | grep -q '"lines_removed_until":"2025-12-05T0' ||
	fail "the JSON report has no lines_removed_until"
"$HALOG" report --db "$db" --format markdown | grep -q '^Retention removed the raw lines' ||
	fail "the Markdown report does not say lines were removed"
"$HALOG" report --db "$db" --since 2025-12-06T00:00:00Z >"$TMP/rep6.txt" || fail "report --since"
grep -q '^lines: 199[0-9][0-9] total' "$TMP/rep6.txt" || fail "report --since day 6: $(head -n 4 "$TMP/rep6.txt")"
! grep -q '^retention:' "$TMP/rep6.txt" || fail "a window of kept lines says lines were removed"

# --- 2. --max-size
db2=$TMP/size.db
"$L" --lines 300000 --seed 3 --format mixed --rate 50 >"$TMP/big.log" || fail "loggen big"
head -n 100 "$TMP/big.log" >"$TMP/small.log"
"$HALOG" ingest --db "$db2" "$TMP/small.log" 2>/dev/null || fail "ingest small"
"$HALOG" prune --db "$db2" --max-size 16M 2>"$TMP/p2.err" || { cat "$TMP/p2.err"; fail "prune --max-size"; }
grep -q 'store 16 MiB' "$TMP/p2.err" || fail "prune: $(cat "$TMP/p2.err")"
"$HALOG" ingest --db "$db2" --batch 20000 "$TMP/big.log" 2>"$TMP/i2.err" || { cat "$TMP/i2.err"; fail "ingest big"; }
size=$(stat -c %s "$db2")
n=$(store_count "$db2")
echo "--max-size 16M: $size bytes, $n of 300000 lines kept"
# one batch (20000 lines, about 1.4 MB) and the last 64 KiB pages beyond the limit at most
[ "$size" -le $((16 * 1048576 + 2 * 1048576)) ] || fail "the store holds $size bytes, over --max-size 16M"
[ "$n" -gt 100000 ] && [ "$n" -lt 300000 ] || fail "$n lines kept"
# what is kept is the newest lines, in one piece: the last line of the file, and a run of ids
"$HALOG" search --db "$db2" --json -n 1 '' >"$TMP/last.json"
tail -c 200 "$TMP/big.log" | tail -n 1 | cut -c 1-60 >"$TMP/lastline"
grep -qF "$(cat "$TMP/lastline")" "$TMP/last.json" || fail "the newest line is gone"
first=$("$HALOG" search --db "$db2" --json -n 0 '' | head -n 1 | sed 's/^{"id":\([0-9]*\),.*/\1/')
last=$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$TMP/last.json")
[ $((last - first + 1)) = "$n" ] || fail "ids $first..$last for $n lines: a gap"

# --- 3. the listener says what it keeps
P=$(free_port) || fail "no free port"
lib_start "$TMP/listen.log" "$HALOG" listen --db "$TMP/l.db" --bind "udp://127.0.0.1:$P" --max-size 16M
lpid=$LIB_LAST_PID
wait_for 10 grep -q 'keeping' "$TMP/listen.log" || { cat "$TMP/listen.log"; fail "listen does not say what it keeps"; }
lib_stop "$lpid"
grep -q 'keeping lines no age limit (default), store 16 MiB, aggregates 366d (default)' "$TMP/listen.log" ||
	fail "listen: $(grep keeping "$TMP/listen.log")"
echo "ok: retention"
