#!/bin/sh
# make bench's ClickHouse report at scale (issue 18), runnable on its own:
#   BENCH_CH_HUGE=20000000 sh bench/ch_huge.sh
# loads BENCH_CH_HUGE generated lines into a SQLite store (halog ingest --db) and into a
# clickhouse-server of its own on loopback (halog ingest --db none --sink, which waits on
# ClickHouse), then times halog report (the default sections, then every section) over each
# against HAProxy's halog -srv on the raw file, and checks that both stores' reports are the
# same bytes. Wall and CPU seconds (user + system; the
# server's from /proc/PID/stat) go to $OUT/ch-huge.tsv and to stdout.
# env: BENCH_CH_HUGE (lines, 20000000 by default), BENCH_RUNS (report runs, best kept, 3),
#      BENCH_SEED, BENCH_OUT (bench/out), BENCH_KEEP=1 keeps the file, store and server data.
# Disk: ~270 bytes a line for the file, ~75 for the store, ~100 for ClickHouse (~9 GB at 20M).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
HALOG=$O/halog
N=${BENCH_CH_HUGE:-20000000}
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-1}
OUT=${BENCH_OUT:-$top/bench/out}
export TZ=UTC LC_ALL=C
mkdir -p "$OUT" || exit 1
. "$top/tests/lib.sh"
. "$top/tests/e2e/clickhouse-config"
T=$OUT/ch-huge.tsv
: >"$T"
F=$OUT/ch-huge.log
DB=$OUT/ch-huge.db
CHD=$OUT/ch-huge-server
CH_SERVER=$(command -v clickhouse-server 2>/dev/null || echo /usr/sbin/clickhouse-server)
say() { echo "ch_huge: $*" >&2; }
rec() { printf '%s\t%s\n' "$1" "$2" >>"$T"; }
[ -x "$CH_SERVER" ] || { say "skipped: clickhouse-server is not installed"; exit 0; }
[ -x "$HALOG" ] && [ -x "$O/helpers/loggen" ] || { say "skipped: build halog and helpers first"; exit 0; }
[ -x /usr/bin/time ] || { say "skipped: /usr/bin/time missing"; exit 0; }

# timed KEY CMD: runs CMD once, records KEY_s (wall) and KEY_cpu_s (user + system)
timed() {
	_t0=$(date +%s%N)
	/usr/bin/time -f '%U %S %M' -o "$OUT/.ch-huge-time" sh -c "$2" 2>"$OUT/ch-huge-$1.err" ||
		{ say "$1 failed: $(tail -n 3 "$OUT/ch-huge-$1.err")"; return 1; }
	_t1=$(date +%s%N)
	set -- "$1" $(tail -n 1 "$OUT/.ch-huge-time")
	rec "$1_s" "$(awk -v d=$((_t1 - _t0)) 'BEGIN { printf "%.3f", d / 1e9 }')"
	rec "$1_cpu_s" "$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')"
	rec "$1_rss_kib" "$4"
	say "$1: $(tail -n 3 "$T" | cut -f2 | tr '\n' ' ')(wall s, cpu s, peak KiB)"
}
# best KEY CMD: timed RUNS times, the best wall and CPU kept
best() {
	_bw= _bc=
	for _r in $(seq "$RUNS"); do
		timed "$1" "$2" || return 1
		_w=$(grep "^$1_s	" "$T" | cut -f2) _c=$(grep "^$1_cpu_s	" "$T" | cut -f2)
		sed -i "/^$1_/d" "$T"
		[ -z "$_bw" ] || awk -v a="$_w" -v b="$_bw" 'BEGIN { exit !(a < b) }' && _bw=$_w
		[ -z "$_bc" ] || awk -v a="$_c" -v b="$_bc" 'BEGIN { exit !(a < b) }' && _bc=$_c
	done
	rec "$1_s" "$_bw"
	rec "$1_cpu_s" "$_bc"
}

rec lines "$N"
rec load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -s "$F" ] || [ "$O/helpers/loggen" -nt "$F" ]; then
	say "generating $N lines into $F"
	"$O/helpers/loggen" --lines "$N" --seed "$SEED" --format httplog --framing rfc3164 \
		>"$F.tmp" && mv "$F.tmp" "$F" || exit 1
fi
rec file_bytes "$(stat -c %s "$F")"

rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-lock"
timed ingest_sqlite "'$HALOG' ingest --db '$DB' '$F'" || exit 1
rec store_bytes "$(cat "$DB" "$DB-wal" 2>/dev/null | wc -c)"
best halog_srv "/usr/sbin/halog -srv -q < '$F' > '$OUT/ch-huge-halog-srv.txt'" || exit 1

rm -rf "$CHD"
chh=$(free_port) && cht=$(free_port) || exit 1
ch_config_write "$CHD" "$chh" "$cht"
env MALLOC_CONF="$CH_MALLOC_CONF" "$CH_SERVER" --config-file="$CHD/config.xml" >"$CHD/stdout.log" 2>&1 &
chpid=$!
trap 'lib_stop $chpid' EXIT
wait_for 60 curl -sf "http://127.0.0.1:$chh/?query=SELECT%201" || { say "clickhouse-server did not start"; exit 1; }
chq() { curl -sf "http://127.0.0.1:$chh/" --data-binary "$1"; }
chcpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$chpid/stat"; }
U=clickhouse://127.0.0.1:$chh/huge
"$HALOG" clickhouse init "$U" >/dev/null || exit 1
c0=$(chcpu)
timed ingest_sink "'$HALOG' ingest --db none --sink '$U?spool=$CHD/spool' '$F'" || exit 1
rec ingest_sink_server_cpu_s "$(awk -v a="$c0" -v b="$(chcpu)" 'BEGIN { printf "%.2f", b - a }')"
rec ch_rows "$(chq "SELECT count() FROM huge.lines")"
# the server merges parts for a while after the inserts: the reports are timed once it is done
wait_for 600 sh -c "[ \"\$(curl -sf 'http://127.0.0.1:$chh/' --data-binary 'SELECT count() FROM system.merges')\" = 0 ]"
rec ch_bytes "$(du -sb "$CHD/data" | cut -f1)"

best report_sqlite "'$HALOG' report --db '$DB' --format json > '$OUT/ch-huge-sqlite.json'" || exit 1
c0=$(chcpu)
best report_ch "'$HALOG' report --db '$U' --format json > '$OUT/ch-huge-ch.json'" || exit 1
rec report_ch_server_cpu_s "$(awk -v a="$c0" -v b="$(chcpu)" -v r="$RUNS" 'BEGIN { printf "%.2f", (b - a) / r }')"
# every section: paths, clients, the slowest requests and connection errors read the lines
ALL="--backends --paths --clients --series --slowest --conn-errors --headers --format json"
# (one HTTP request may take long here: the timeout is raised from 30 s to an hour)
timed report_all_sqlite "'$HALOG' report --db '$DB' $ALL > '$OUT/ch-huge-all-sqlite.json'" || exit 1
c0=$(chcpu)
timed report_all_ch "'$HALOG' report --db '$U?timeout=3600s' $ALL > '$OUT/ch-huge-all-ch.json'" ||
	exit 1
rec report_all_ch_server_cpu_s "$(awk -v a="$c0" -v b="$(chcpu)" 'BEGIN { printf "%.2f", b - a }')"
# equal but for the slowest requests' positions, which are each store's own (docs/scaling.md)
same() { sed 's/"pos":[0-9]*//g' "$1" >"$1.cmp" && sed 's/"pos":[0-9]*//g' "$2" >"$2.cmp" && cmp -s "$1.cmp" "$2.cmp"; }
if same "$OUT/ch-huge-sqlite.json" "$OUT/ch-huge-ch.json" &&
	same "$OUT/ch-huge-all-sqlite.json" "$OUT/ch-huge-all-ch.json"; then
	rec report_equal 1
else
	rec report_equal 0
fi
rec load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

lib_stop "$chpid"
trap - EXIT
if [ "${BENCH_KEEP:-0}" != 1 ]; then
	rm -rf "$CHD" "$F" "$DB" "$DB-wal" "$DB-shm" "$DB-lock" "$OUT"/ch-huge-*.json "$OUT"/ch-huge-*.cmp
fi

# the table: each measurement and its ratio to the references
awk -F'\t' '
{ v[$1] = $2 }
function r(a, b) { return (b + 0 > 0) ? sprintf("%.3g", a / b) : "-" }
END {
	n = v["lines"]
	printf "ch_huge: %d lines (%.1f GB raw), load %s -> %s\n", n, v["file_bytes"] / 1e9, v["load_before"], v["load_after"]
	printf "  %-32s %10s %10s\n", "", "wall s", "cpu s"
	printf "  %-32s %10s %10s\n", "halog ingest --db (SQLite)", v["ingest_sqlite_s"], v["ingest_sqlite_cpu_s"]
	printf "  %-32s %10s %10s  (+ server %s s)\n", "halog ingest --db none --sink", v["ingest_sink_s"], v["ingest_sink_cpu_s"], v["ingest_sink_server_cpu_s"]
	printf "  %-32s %10s %10s\n", "halog -srv on the raw file", v["halog_srv_s"], v["halog_srv_cpu_s"]
	printf "  %-32s %10s %10s\n", "halog report, SQLite store", v["report_sqlite_s"], v["report_sqlite_cpu_s"]
	printf "  %-32s %10s %10s  (+ server %s s)\n", "halog report, ClickHouse", v["report_ch_s"], v["report_ch_cpu_s"], v["report_ch_server_cpu_s"]
	printf "  sink lines/s %.0f, SQLite lines/s %.0f (ratio %s)\n", n / v["ingest_sink_s"], n / v["ingest_sqlite_s"], r(v["ingest_sqlite_s"], v["ingest_sink_s"])
	printf "  ClickHouse report vs SQLite report: %s (wall), vs halog -srv: %s (wall), %s (halog + server CPU vs halog -srv CPU)\n", r(v["report_ch_s"], v["report_sqlite_s"]), r(v["report_ch_s"], v["halog_srv_s"]), r(v["report_ch_cpu_s"] + v["report_ch_server_cpu_s"], v["halog_srv_cpu_s"])
	printf "  %-32s %10s %10s\n", "every section, SQLite store", v["report_all_sqlite_s"], v["report_all_sqlite_cpu_s"]
	printf "  %-32s %10s %10s  (+ server %s s)\n", "every section, ClickHouse", v["report_all_ch_s"], v["report_all_ch_cpu_s"], v["report_all_ch_server_cpu_s"]
	printf "  every section: ClickHouse vs SQLite %s (wall), vs halog -srv %s (wall)\n", r(v["report_all_ch_s"], v["report_all_sqlite_s"]), r(v["report_all_ch_s"], v["halog_srv_s"])
	printf "  rows in ClickHouse %s of %d; reports equal: %s; store %.2f GB, ClickHouse %.2f GB\n", v["ch_rows"], n, v["report_equal"] ? "yes" : "NO", v["store_bytes"] / 1e9, v["ch_bytes"] / 1e9
}' "$T"
