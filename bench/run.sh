#!/bin/sh
# The benchmark behind `make bench`: halog and hagen against references measured in the same run
# on the same files (HAProxy's own halog, GoAccess, wc -l, a bare SQLite bulk insert, haproxy -c).
# Prints a table (metric, value, reference, ratio, target, met) and writes bench/results.json.
# A component that is not built (or fails) is recorded as "skipped: <reason>", never a crash.
#
# usage: O=build sh bench/run.sh
# env:   BENCH_LINES=1000000   lines of the main log file (ingest, parser, references)
#        BENCH_BIG=5000000     lines of the big file (report vs halog -srv on the raw file)
#        BENCH_HUGE=20000000   lines ingested from loggen through a pipe (0: not measured)
#        BENCH_CH_HUGE=0       lines loaded into ClickHouse and SQLite for the report at scale
#                              (bench/ch_huge.sh, which runs on its own too; 20000000: ~9 GB)
#        BENCH_WORD=okhttp     the word searched for (search --count vs grep -c)
#        BENCH_DATAGRAMS=1000000  datagrams sent to `halog listen`
#        BENCH_SERVICES=5000   services in the generated hagen inventory
#        BENCH_RUNS=3          runs of each short measurement (the best is kept)
#        BENCH_QUICK=1         tiny sizes (a smoke run: checks the plumbing, not the speed)
#        BENCH_OUT=bench/out   work files (logs, databases, outputs; gitignored)
#        BENCH_RESULTS=bench/results.json
#        BENCH_KEEP=1          keep the ingested databases in BENCH_OUT (removed by default)
#        BENCH_PRUNE_DATAGRAMS=1000000  datagrams sent to `halog listen --max-size 16M` (pruning)
#        BENCH_PRUNE_RATE=100000        their rate (lines/s)
#        BENCH_ONLY=a,b        run only these sections: files (the generated logs, ingest, the
#                              references, search, report, parser), listen, listen_prune,
#                              serve_listen, serve_load and clickhouse (these two need what
#                              files leaves: its store, its logs), hagen, start (halog's
#                              process start against HAProxy's halog), ch_huge (with
#                              BENCH_CH_HUGE: its own file, store and server);
#                              the results then go to bench/results-a,b.json by default
# Docs: docs/bench.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
HALOG=$O/halog
HAGEN=$O/hagen
H=$O/helpers
OUT=${BENCH_OUT:-$top/bench/out}
RESULTS=${BENCH_RESULTS:-$top/bench/results${BENCH_ONLY:+-$BENCH_ONLY}.json}
export TZ=UTC LC_ALL=C

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	LINES=${BENCH_LINES:-20000}
	BIG=${BENCH_BIG:-50000}
	HUGE=${BENCH_HUGE:-0}
	DGRAMS=${BENCH_DATAGRAMS:-20000}
	SERVICES=${BENCH_SERVICES:-100}
	RUNS=${BENCH_RUNS:-1}
	PRUNE_DGRAMS=${BENCH_PRUNE_DATAGRAMS:-400000}
else
	LINES=${BENCH_LINES:-1000000}
	BIG=${BENCH_BIG:-5000000}
	HUGE=${BENCH_HUGE:-20000000}
	DGRAMS=${BENCH_DATAGRAMS:-1000000}
	SERVICES=${BENCH_SERVICES:-5000}
	RUNS=${BENCH_RUNS:-3}
	PRUNE_DGRAMS=${BENCH_PRUNE_DATAGRAMS:-1000000}
fi
PRUNE_RATE=${BENCH_PRUNE_RATE:-100000}
SEED=${BENCH_SEED:-1}
WORD=${BENCH_WORD:-okhttp}

# The GoAccess log format for loggen's rfc3164 httplog lines: skip the syslog header up to
# "haproxy[pid]: ", then client, [date:time.ms], frontend, backend/server, TR/Tw/Tc/Tr/Ta (Ta as
# the serving time), status, bytes, cookies, termination state, counters, queues, the two capture
# blocks ({Host|User-Agent} {Content-Type}) and the request line. IPv6 clients and <BADREQ>
# lines (about 5%) do not match it; GoAccess counts them as failed, which costs it no less time.
GOACCESS_FMT='%^]: %h:%^ [%d:%t.%^] %^ %v/%^ %^/%^/%^/%^/%L %s %b %^ %^ %^ %^ %^ {%^|%u} {%^} "%r"'

mkdir -p "$OUT" || exit 1
M=$OUT/metrics.tsv
: >"$M"
. "$top/tests/lib.sh"

say() { echo "bench: $*" >&2; }
rec() { printf '%s\t%s\n' "$1" "$2" >>"$M"; }
skipped() {
	printf '%s\tskipped: %s\n' "$1" "$2" >>"$M"
	say "skip $1: $2"
}
now_ns() { date +%s%N; }
# only SECTION: true when BENCH_ONLY is unset or names SECTION
only() { case ,${BENCH_ONLY:-$1}, in *,"$1",*) return 0 ;; *) return 1 ;; esac; }
have_time=0
[ -x /usr/bin/time ] && have_time=1

# bench_cmd KEY RUNS CMD: runs the shell command CMD RUNS times (after $PRE, untimed, each time)
# and records KEY_s (the best wall time, seconds), KEY_cpu_s (user+sys CPU of that run: steadier
# than wall time when the machine is busy) and KEY_rss_kib (the largest peak RSS). On a failure
# records KEY as skipped with the end of its stderr and returns 1.
PRE=:
bench_cmd() {
	_key=$1 _runs=$2 _cmd=$3 _best= _cpu= _rss=0 _i=0
	while [ "$_i" -lt "$_runs" ]; do
		sh -c "$PRE" || { skipped "$_key" "setup failed: $PRE"; return 1; }
		_t0=$(now_ns)
		if [ $have_time = 1 ]; then
			/usr/bin/time -f '%M %U %S' -o "$OUT/.rss" sh -c "$_cmd" 2>"$OUT/$_key.err"
		else
			sh -c "$_cmd" 2>"$OUT/$_key.err"
		fi
		_rc=$?
		_t1=$(now_ns)
		if [ $_rc -ne 0 ]; then
			skipped "$_key" "exit $_rc: $(grep -v '^Command exited' "$OUT/$_key.err" | tail -n 2 | tr '\n\t' '  ' | cut -c1-200)"
			return 1
		fi
		_d=$((_t1 - _t0))
		_r=0 _c=
		if [ $have_time = 1 ]; then
			set -- $(tail -n 1 "$OUT/.rss")
			case ${1:-} in '' | *[!0-9]*) ;; *) _r=$1 _c=$(awk -v u="${2:-0}" -v s="${3:-0}" 'BEGIN { printf "%.2f", u + s }') ;; esac
			[ "$_r" -gt "$_rss" ] && _rss=$_r
		fi
		if [ -z "$_best" ] || [ "$_d" -lt "$_best" ]; then _best=$_d; fi
		if [ -n "$_c" ] && { [ -z "$_cpu" ] || awk -v a="$_c" -v b="$_cpu" 'BEGIN { exit !(a < b) }'; }; then _cpu=$_c; fi
		_i=$((_i + 1))
	done
	rec "${_key}_s" "$(awk -v d="$_best" 'BEGIN { printf "%.6f", d / 1e9 }')"
	[ -n "$_cpu" ] && rec "${_key}_cpu_s" "$_cpu"
	[ $have_time = 1 ] && rec "${_key}_rss_kib" "$_rss"
	say "$_key: $(awk -v d="$_best" 'BEGIN { printf "%.3f s", d / 1e9 }')${_cpu:+, cpu $_cpu s}${_rss:+, peak $_rss KiB}"
	return 0
}

# available NAME PATH: true when the built program exists and is not a placeholder.
available() {
	[ -x "$2" ] || return 1
	case $1 in
	halog-*)
		"$2" "${1#halog-}" --help >/dev/null 2>"$OUT/.avail" || true
		! grep -q 'not available in this build' "$OUT/.avail"
		;;
	*) return 0 ;;
	esac
}

rec lines "$LINES"
rec big_lines "$BIG"
rec huge_lines "$HUGE"
rec word "$WORD"
rec datagrams "$DGRAMS"
rec services "$SERVICES"
rec runs "$RUNS"
rec seed "$SEED"
rec quick "${BENCH_QUICK:-0}"
rec prune_datagrams "$PRUNE_DGRAMS"
rec prune_rate "$PRUNE_RATE"
rec only "${BENCH_ONLY:-}"
rec cpus "$(nproc 2>/dev/null || echo 1)"
rec cpu_model "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
rec date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rec version "$(cat "$top/VERSION" 2>/dev/null || echo 0.0.0)"

# --- input files -------------------------------------------------------------------------------
F1=$OUT/httplog-$LINES-s$SEED.log
FB=$OUT/httplog-$BIG-s$SEED.log
if ! [ -x "$H/loggen" ]; then
	say "$H/loggen is missing: run 'make O=$O bench' (it builds the helpers)"
	exit 1
fi
gen() { # gen LINES FILE: (re)generates when missing or older than loggen
	if [ ! -s "$2" ] || [ "$H/loggen" -nt "$2" ]; then
		say "generating $1 lines into $2"
		"$H/loggen" --lines "$1" --seed "$SEED" --format httplog --framing rfc3164 \
			--expect "$2.expect.json" >"$2.tmp" && mv "$2.tmp" "$2" || return 1
	fi
}
db_count() { "$HALOG" search --db "$1" --count '' 2>/dev/null || echo 0; }
rmdb() { rm -f "$1" "$1-wal" "$1-shm"; }
# db_bytes DB: the store's size on disk, everything included (the database, its WAL and index)
db_bytes() { cat "$1" "$1-wal" "$1-shm" 2>/dev/null | wc -c; }
# recv_times N: ingest's --recv-times for N lines received one a millisecond, the last one now,
# so that --since 10m finds the last 600,000 lines of any store of more lines
recv_times() { echo "$(( $(now_ns) / 1000000 - $1 )):1"; }
# after_ingest KEY DB FILE: what is measured on a store right after its ingest: its rows, its
# size, and the cost of a search of the last 10 minutes (the same on any store of more lines)
after_ingest() {
	PRE=:
	rec "$1_rows" "$(db_count "$2")"
	rec "$1_db_bytes" "$(db_bytes "$2")"
	rec "$1_file_bytes" "$(wc -c <"$3")"
	bench_cmd "$1_since" "$RUNS" "'$HALOG' search --db '$2' --since 10m --count '$WORD' > '$OUT/$1_since.txt'" &&
		rec "$1_since_count" "$(cat "$OUT/$1_since.txt")"
}
# bench_ingest KEY LINES DB FILE [RUNS]: ingests FILE (LINES lines) into DB, new each run (the
# best of RUNS, 1 by default), then measures the store the last run left (after_ingest). The
# receive times are fixed before the first run: a later run's last line is its start minus the
# earlier runs' seconds, so --since 10m finds that many thousand lines fewer (informative only).
bench_ingest() {
	PRE="rm -f '$3' '$3-wal' '$3-shm'"
	bench_cmd "$1" "${5:-1}" "'$HALOG' ingest --recv-times $(recv_times "$2") --db '$3' '$4'" &&
		after_ingest "$1" "$3" "$4"
	PRE=:
}
have_halog=0
[ -x /usr/sbin/halog ] && have_halog=1
halog_ref() { # halog_ref KEY FILE FLAG OUTFILE
	if [ $have_halog = 1 ]; then
		bench_cmd "$1" "$RUNS" "/usr/sbin/halog $3 -q < '$2' > '$4'"
	else
		skipped "$1" "/usr/sbin/halog not installed (Debian package haproxy)"
		return 1
	fi
}

D1=$OUT/ingest-$LINES.db DB=$OUT/ingest-$BIG.db
if only files; then
	gen "$LINES" "$F1" || exit 1
	gen "$BIG" "$FB" || exit 1
	bench_cmd loggen 1 "'$H/loggen' --lines $LINES --seed $SEED >/dev/null"

	# --- the main file: the references and halog ingest, each ratio's two sides back to back --
	# (the machine's load drifts: a reference measured next to its subject is a fairer divisor)
	bench_cmd wc "$RUNS" "wc -l < '$F1' >/dev/null"
	if available sqlceiling "$H/sqlceiling"; then
		PRE="rm -f '$OUT/ceiling.db' '$OUT/ceiling.db-wal' '$OUT/ceiling.db-shm'"
		bench_cmd sqlceiling 1 "'$H/sqlceiling' --db '$OUT/ceiling.db' '$F1' >/dev/null"
		PRE=:
		rmdb "$OUT/ceiling.db"
	else
		skipped sqlceiling "$H/sqlceiling not built"
	fi
	if available halog-ingest "$HALOG"; then
		# the best of BENCH_RUNS, as the references beside it (halog -srv, halog -pct, wc)
		bench_ingest ingest "$LINES" "$D1" "$F1" "$RUNS"
	else
		skipped ingest "halog ingest not built yet"
	fi
	halog_ref halog_srv "$F1" -srv "$OUT/halog-srv.txt" &&
		rec halog_srv_requests "$(awk 'NR > 1 { n += $8 } END { print n + 0 }' "$OUT/halog-srv.txt")"
	halog_ref halog_pct "$F1" -pct "$OUT/halog-pct.txt"
	if command -v goaccess >/dev/null 2>&1; then
		bench_cmd goaccess 1 "goaccess '$F1' --no-global-config --no-progress --log-format='$GOACCESS_FMT' --date-format='%d/%b/%Y' --time-format='%H:%M:%S' -o json > '$OUT/goaccess.json'" &&
			rec goaccess_valid "$(sed -n 's/.*"valid_requests": *\([0-9]*\).*/\1/p' "$OUT/goaccess.json" | head -n 1)"
	else
		skipped goaccess "goaccess not installed (Debian package goaccess)"
	fi

	# --- the big file: ingest it, then halog -srv on the raw file and halog report on the database
	if available halog-ingest "$HALOG"; then
		bench_ingest ingest_big "$BIG" "$DB" "$FB"
	else
		skipped ingest_big "halog ingest not built yet"
	fi
	halog_ref halog_srv_big "$FB" -srv "$OUT/halog-srv-big.txt"
	# search: a word over the whole big store, next to grep -c on the raw file; a field filter
	if available halog-search "$HALOG" && [ -s "$DB" ]; then
		bench_cmd grep_word "$RUNS" "grep -c '$WORD' '$FB' > '$OUT/grep_word.txt'"
		rec grep_word_count "$(cat "$OUT/grep_word.txt" 2>/dev/null)"
		rec grep_word_i_count "$(grep -ci "$WORD" "$FB")"
		bench_cmd search_word "$RUNS" "'$HALOG' search --db '$DB' --count '$WORD' > '$OUT/search_word.txt'" &&
			rec search_word_count "$(cat "$OUT/search_word.txt")"
		bench_cmd search_field "$RUNS" "'$HALOG' search --db '$DB' --count 'status:5xx backend:be_app' > '$OUT/search_field.txt'" &&
			rec search_field_count "$(cat "$OUT/search_field.txt")"
	else
		skipped search_word "halog search not built yet, or no ingested database"
	fi
	if available halog-report "$HALOG" && [ -s "$DB" ]; then
		bench_cmd report "$RUNS" "'$HALOG' report --db '$DB' --format json > '$OUT/report.json'"
		rec report_bytes "$(stat -c %s "$OUT/report.json" 2>/dev/null || echo 0)"
		# every section on, next to halog -srv again (the other side of its ratio)
		halog_ref halog_srv_big2 "$FB" -srv "$OUT/halog-srv-big.txt"
		bench_cmd report_all "$RUNS" "'$HALOG' report --db '$DB' --backends --paths --clients --series --slowest --conn-errors --headers --format json > '$OUT/report-all.json'"
		# the paths section alone (ids folded, the default) next to HAProxy's halog -u
		halog_ref halog_u_big "$FB" -u "$OUT/halog-u-big.txt"
		bench_cmd report_paths "$RUNS" "'$HALOG' report --db '$DB' --paths --format json > '$OUT/report-paths.json'"
	else
		skipped report "halog report not built yet, or no ingested database"
	fi

	# --- a bigger ingest: HUGE lines from loggen through a pipe (no file on disk) -------------
	DH=$OUT/ingest-huge.db
	if [ "$HUGE" -gt 0 ] && available halog-ingest "$HALOG"; then
		PRE="rm -f '$DH' '$DH-wal' '$DH-shm'"
		bench_cmd ingest_huge 1 "'$H/loggen' --lines $HUGE --seed $SEED --format httplog --framing rfc3164 | '$HALOG' ingest --db '$DH' -" &&
			{ rec ingest_huge_rows "$(db_count "$DH")"; rec ingest_huge_db_bytes "$(db_bytes "$DH")"; }
		PRE=:
		rmdb "$DH"
	else
		skipped ingest_huge "BENCH_HUGE=0, or halog ingest not built"
	fi

	# --- the parser alone ---------------------------------------------------------------------
	if [ -x "$H/parsebench" ]; then
		# parsebench reads the file into memory once and parses it ROUNDS times (about 3M lines in
		# all); it prints "... N lines/s ..."; the best of RUNS is kept.
		rounds=$(( 3000000 / LINES ))
		[ "$rounds" -ge 1 ] || rounds=1
		best=0 i=0
		while [ $i -lt "$RUNS" ]; do
			if ! "$H/parsebench" "$F1" "$rounds" >"$OUT/parsebench.txt" 2>&1; then
				best=; skipped parse "parsebench failed: $(tail -n 1 "$OUT/parsebench.txt")"; break
			fi
			v=$(sed -n 's/.* \([0-9][0-9]*\) lines\/s.*/\1/p' "$OUT/parsebench.txt")
			[ -n "$v" ] && [ "$v" -gt "$best" ] && best=$v
			i=$((i + 1))
		done
		if [ -n "$best" ]; then
			rec parse_lps "$best"
			rec parse_unparsed_per_round "$(sed -n 's/.*(\([0-9]*\) unparsed.*/\1/p' "$OUT/parsebench.txt")"
			say "parse: $best lines/s ($(cat "$OUT/parsebench.txt"))"
		fi
	else
		skipped parse "$H/parsebench not built yet"
	fi
fi

# --- halog listen: DGRAMS datagrams at full speed over loopback UDP ----------------------------
# listen_burst KEY DB PORT PID LOG: sends DGRAMS datagrams at full speed to the receiver PID
# (already started on udp 127.0.0.1:PORT, storing in DB, logging to LOG), waits until the store
# stops growing, stops it with SIGINT and records KEY_sent, KEY_send_s, KEY_s, KEY_stored,
# KEY_kernel_dropped, KEY_rss_kib and the store's counters (KEY_counter_NAME).
udp_drops() { awk -v p=":$(printf '%04X' "$1")" '$2 ~ p"$" { print $NF; exit }' /proc/net/udp; }
listen_burst() {
	_k=$1 _db=$2 _port=$3 _pid=$4 _log=$5
	if ! wait_for 10 sh -c "grep -q ':$(printf '%04X' "$_port") ' /proc/net/udp"; then
		lib_stop "$_pid"
		skipped "$_k" "nothing bound udp 127.0.0.1:$_port: $(tail -n 2 "$_log" | tr '\n' ' ')"
		return 1
	fi
	_d0=$(udp_drops "$_port")
	_tpid= _want=$DGRAMS
	if [ "$_k" = listen ]; then
		# tail -f under that load: marker datagrams sent among the others, each timed from its
		# send to the moment `halog tail -f` prints it
		python3 - "$HALOG" "$_db" "$_port" >"$OUT/tail.txt" 2>&1 <<'PY' &
import os, select, socket, subprocess, sys, time
halog, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = subprocess.Popen([halog, "tail", "-f", "-n", "0", "--timeout", "60s", "--db", db, "tailmark"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
buf, worst, seen = b"", 0.0, 0
time.sleep(1.0)
for i in range(8):
    time.sleep(0.3)
    mark = b"tailmark-%d" % i
    t0 = time.monotonic()
    u.sendto(b"<134>Dec  1 00:00:00 lb1 haproxy[1]: " + mark, ("127.0.0.1", port))
    while mark not in buf and time.monotonic() - t0 < 5:
        r, _, _ = select.select([t.stdout], [], [], 0.05)
        if r:
            buf += os.read(t.stdout.fileno(), 65536)
    if mark in buf:
        seen += 1
        worst = max(worst, time.monotonic() - t0)
    else:
        worst = max(worst, 5.0)
t.kill()
print("tail_sent 8\ntail_seen %d\ntail_worst_s %.6f" % (seen, worst))
PY
		_tpid=$! _want=$((DGRAMS + 8))
	fi
	_t0=$(now_ns)
	"$H/syslogsend" --udp "127.0.0.1:$_port" --count "$DGRAMS" --full-speed >"$OUT/$_k-send.txt" 2>&1
	_t1=$(now_ns)
	# Wait until the store stops growing (bounded: 120 s).
	_last=-1 _stable=0 _n=0 _tdone=$_t1
	while [ $_n -lt 600 ] && [ $_stable -lt 5 ]; do
		_c=$(db_count "$_db")
		if [ "$_c" = "$_last" ]; then _stable=$((_stable + 1)); else _stable=0 _last=$_c _tdone=$(now_ns); fi
		[ "$_c" -ge "$_want" ] && break
		sleep 0.2
		_n=$((_n + 1))
	done
	if [ -n "$_tpid" ]; then
		wait "$_tpid"
		while read -r k v; do rec "$k" "$v"; done <"$OUT/tail.txt"
	fi
	_d1=$(udp_drops "$_port")
	_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$_pid/status" 2>/dev/null)
	lib_stop "$_pid" INT
	_stored=$(db_count "$_db")
	rec "${_k}_sent" "$(sed -n 's/.*sent \([0-9]*\) messages.*/\1/p' "$OUT/$_k-send.txt")"
	rec "${_k}_send_s" "$(awk -v d=$((_t1 - _t0)) 'BEGIN { printf "%.6f", d / 1e9 }')"
	rec "${_k}_s" "$(awk -v d=$((_tdone - _t0)) 'BEGIN { printf "%.6f", d / 1e9 }')"
	rec "${_k}_stored" "$_stored"
	rec "${_k}_kernel_dropped" "$(( ${_d1:-0} - ${_d0:-0} ))"
	rec "${_k}_rss_kib" "${_hwm:-0}"
	sqlite3 -readonly "$_db" "SELECT name, value FROM counters" 2>/dev/null |
		while IFS='|' read -r k v; do rec "${_k}_counter_$k" "$v"; done
	say "$_k: sent $DGRAMS, stored $_stored, kernel drops $(( ${_d1:-0} - ${_d0:-0} )), peak ${_hwm:-?} KiB"
}
if only listen; then
	if available halog-listen "$HALOG" && [ -x "$H/syslogsend" ] && port=$(free_port); then
		LDB=$OUT/listen.db
		rmdb "$LDB"
		"$HALOG" listen --db "$LDB" --bind "udp://127.0.0.1:$port" >"$OUT/listen.log" 2>&1 &
		lpid=$!
		LIB_PIDS="$LIB_PIDS $lpid"
		listen_burst listen "$LDB" "$port" "$lpid" "$OUT/listen.log"
		rmdb "$LDB"
	else
		skipped listen "halog listen or $H/syslogsend not built yet (or no free port)"
	fi
fi

# --- halog listen --max-size 16M: PRUNE_DGRAMS datagrams at PRUNE_RATE a second while it prunes --
# loggen's lines (syslogsend's numbered template compresses to 17 bytes a line and would take a
# million lines to fill 16 MiB; these take about 70), a file of 200,000 sent in turn. The store
# reaches its limit after about 230,000 of them; from then on every commit is beyond it and the
# writer removes the oldest blocks in small steps. The reference is the same run into a store
# without that limit (listen_noprune: the default 2 GiB cap is not reached).
# listen_paced KEY PORT [LISTEN_ARGS]: records KEY_{sent,send_s,s,received,stored,
# kernel_dropped,accounted,steps,blocks,lines_removed,file_bytes,db_bytes,rss_kib,cpu_s}.
# accounted is halog report's lines.total: the per-minute aggregates count every line, pruned
# or not.
listen_paced() {
	_k=$1 _port=$2 _f=$OUT/prune-send-200000.log _db=$OUT/$1.db _log=$OUT/$1.log
	shift 2
	gen 200000 "$_f" || { skipped "$_k" "loggen failed"; return 1; }
	rmdb "$_db"
	"$HALOG" listen --db "$_db" --bind "udp://127.0.0.1:$_port" "$@" >"$_log" 2>&1 &
	_pid=$!
	LIB_PIDS="$LIB_PIDS $_pid"
	if ! wait_for 10 grep -q 'listening on' "$_log"; then
		lib_stop "$_pid"
		skipped "$_k" "halog listen did not start: $(tail -n 2 "$_log" | tr '\n' ' ')"
		return 1
	fi
	_t0=$(now_ns)
	"$H/syslogsend" --udp "127.0.0.1:$_port" --file "$_f" --count "$PRUNE_DGRAMS" --rate "$PRUNE_RATE" \
		>"$OUT/$_k-send.txt" 2>&1
	_t1=$(now_ns)
	# until the listener has stored what it received (its counters, committed with the lines;
	# the store's line count shrinks as it prunes): bounded, 120 s
	_cnt() { sqlite3 -readonly "$_db" "SELECT coalesce((SELECT value FROM counters WHERE name = '$1'), 0)" 2>/dev/null || echo 0; }
	_last=-1 _stable=0 _n=0 _tdone=$_t1
	while [ $_n -lt 600 ] && [ $_stable -lt 5 ]; do
		_c=$(_cnt listen.stored)
		if [ "$_c" = "$_last" ]; then _stable=$((_stable + 1)); else _stable=0 _last=$_c _tdone=$(now_ns); fi
		[ "$_c" -ge "$PRUNE_DGRAMS" ] && break
		sleep 0.2
		_n=$((_n + 1))
	done
	_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$_pid/status" 2>/dev/null)
	_cpu=$(awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$_pid/stat" 2>/dev/null)
	lib_stop "$_pid" INT
	# shellcheck disable=SC2046 # three numbers, split on purpose
	set -- $(sed -n 's/^halog listen: received \([0-9]*\), stored \([0-9]*\), dropped \([0-9]*\).*/\1 \2 \3/p' "$_log" | tail -n 1)
	rec "${_k}_sent" "$(sed -n 's/.*sent \([0-9]*\) messages (.*, 0 errors).*/\1/p' "$OUT/$_k-send.txt")"
	rec "${_k}_send_s" "$(awk -v d=$((_t1 - _t0)) 'BEGIN { printf "%.6f", d / 1e9 }')"
	rec "${_k}_s" "$(awk -v d=$((_tdone - _t0)) 'BEGIN { printf "%.6f", d / 1e9 }')"
	rec "${_k}_received" "${1:-}"
	rec "${_k}_stored" "${2:-}"
	rec "${_k}_kernel_dropped" "${3:-}"
	rec "${_k}_accounted" "$("$HALOG" report --db "$_db" --format json | sed -n 's/.*"lines":{"total":\([0-9]*\),.*/\1/p')"
	rec "${_k}_steps" "$(_cnt prune.steps)"
	rec "${_k}_blocks" "$(_cnt prune.blocks)"
	rec "${_k}_lines_removed" "$(_cnt prune.lines)"
	rec "${_k}_file_bytes" "$(stat -c %s "$_db")"
	rec "${_k}_db_bytes" "$(db_bytes "$_db")"
	rec "${_k}_rss_kib" "${_hwm:-0}"
	[ -n "$_cpu" ] && rec "${_k}_cpu_s" "$_cpu"
	say "$_k: sent $PRUNE_DGRAMS at $PRUNE_RATE/s, received ${1:-?}, stored ${2:-?}, kernel drops ${3:-?}, $(_cnt prune.steps) prune steps, $(stat -c %s "$_db") bytes, peak ${_hwm:-?} KiB"
	rmdb "$_db"
}
if only listen_prune; then
	if available halog-listen "$HALOG" && [ -x "$H/syslogsend" ] && command -v sqlite3 >/dev/null &&
		port=$(free_port); then
		listen_paced listen_prune "$port" --max-size 16M
		rec listen_prune_limit_bytes $((16 * 1048576))
		port=$(free_port) && listen_paced listen_noprune "$port"
	else
		skipped listen_prune "halog listen, $H/syslogsend or the sqlite3 CLI missing (or no free port)"
	fi
fi

# --- halog serve: the same burst into `serve --listen` with 20 live tails open ------------------
if [ "${BENCH_QUICK:-0}" = 1 ]; then SV_SECONDS=5 SV_STREAMS=5 SV_RATE=5 SV_COLD=3; else SV_SECONDS=30 SV_STREAMS=50 SV_RATE=20 SV_COLD=15; fi
SV_QUERIES='status:5xx|backend:be_api|server:api3 status:>=400|/api/v2|state:sH|GET /login||client:10.0.0.0/8'
serve_up() { # serve_up PORT: waits for a server on 127.0.0.1:PORT (bounded)
	wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$1/api/query?q=x"
}
if only serve_listen; then
	if available halog-serve "$HALOG" && [ -x "$H/servebench" ] && [ -x "$H/syslogsend" ] &&
		command -v curl >/dev/null && hp=$(free_port) && up=$(free_port); then
		SDB=$OUT/listen-serve.db
		rmdb "$SDB"
		"$HALOG" serve --db "$SDB" --bind "127.0.0.1:$hp" --listen "udp://127.0.0.1:$up" >"$OUT/serve-listen.log" 2>&1 &
		spid=$!
		LIB_PIDS="$LIB_PIDS $spid"
		if serve_up "$hp"; then
			# 20 unfiltered tails (the page's default), open through the burst and the drain
			"$H/servebench" --url "http://127.0.0.1:$hp" --streams 20 --search-rate 0 --stream-query '' \
				--seconds 600 >"$OUT/servebench-burst.json" 2>&1 &
			bpid=$!
			LIB_PIDS="$LIB_PIDS $bpid"
			sleep 3
			listen_burst serve_listen "$SDB" "$up" "$spid" "$OUT/serve-listen.log"
			lib_stop "$bpid"
			rec serve_listen_streams 20
		else
			lib_stop "$spid"
			skipped serve_listen "halog serve did not answer on 127.0.0.1:$hp: $(tail -n 2 "$OUT/serve-listen.log" | tr '\n' ' ')"
		fi
		rmdb "$SDB"
	else
		skipped serve_listen "halog serve, $H/servebench or curl missing (or no free port)"
	fi
fi

# --- halog serve under load: live tails and searches on the LINES-line store -------------------
# SV_STREAMS streams and SV_RATE searches per second (--since 1h, newest 100) for SV_SECONDS,
# with 100 lines/s sent to its listener to time the tail; the reference is the same searches run
# one after the other by the command line (halog search --since 1h -n 100), in the same run.
if only serve_load; then
	if available halog-serve "$HALOG" && [ -x "$H/servebench" ] && [ -s "$D1" ] &&
		command -v curl >/dev/null && hp=$(free_port) && up=$(free_port); then
		nq=0 cli=
		IFS='|'
		for q in $SV_QUERIES; do
			nq=$((nq + 1))
			cli="$cli '$HALOG' search --db '$D1' --since 1h -n 100 '$q' >/dev/null 2>&1;"
		done
		unset IFS
		bench_cmd serve_cli_searches "$RUNS" "$cli" && rec serve_cli_queries "$nq"
		"$HALOG" serve --db "$D1" --bind "127.0.0.1:$hp" --listen "udp://127.0.0.1:$up" >"$OUT/serve.log" 2>&1 &
		spid=$!
		LIB_PIDS="$LIB_PIDS $spid"
		if serve_up "$hp"; then
			set --
			IFS='|'
			for q in $SV_QUERIES; do set -- "$@" --query "$q"; done
			unset IFS
			"$H/servebench" --url "http://127.0.0.1:$hp" --streams "$SV_STREAMS" --search-rate "$SV_RATE" \
				--hits-rate 0.5 --since 1h --udp "127.0.0.1:$up" --send-rate 100 --seconds "$SV_SECONDS" \
				"$@" >"$OUT/servebench.json" 2>"$OUT/servebench.err" ||
				skipped serve_load "servebench failed: $(tail -n 2 "$OUT/servebench.err" | tr '\n' ' ')"
			# cold searches: each one new (none answered from the server's recent results)
			"$H/servebench" --url "http://127.0.0.1:$hp" --streams 0 --search-rate 4 --unique \
				--since 1h --seconds "$SV_COLD" "$@" >"$OUT/servebench-cold.json" 2>>"$OUT/servebench.err" ||
				skipped serve_cold "servebench --unique failed: $(tail -n 2 "$OUT/servebench.err" | tr '\n' ' ')"
			sleep 1
			lib_stop "$spid" INT
			set -- $(sed -n 's/^halog listen: received \([0-9]*\), stored \([0-9]*\), dropped \([0-9]*\).*/\1 \2 \3/p' "$OUT/serve.log")
			rec serve_load_received "${1:-}"
			rec serve_load_stored "${2:-}"
			rec serve_load_kernel_dropped "${3:-}"
			say "serve: $(cat "$OUT/servebench.json")"
		else
			lib_stop "$spid"
			skipped serve_load "halog serve did not answer on 127.0.0.1:$hp: $(tail -n 2 "$OUT/serve.log" | tr '\n' ' ')"
		fi
	else
		skipped serve_load "halog serve, $H/servebench, curl or the ingested store missing (or no free port)"
	fi
fi

# --- process start: START_N runs of halog --version, next to as many of HAProxy's halog -h -----
# (each from the same shell loop, whose fork and exec both sides pay: what differs is the
# programs' own start, the dynamic loader's libraries first)
START_N=200
if only start; then
	if [ $have_halog = 1 ] && [ -x "$HALOG" ]; then
		_loop() { echo "i=0; while [ \$i -lt $START_N ]; do $1 >/dev/null 2>&1 || exit 1; i=\$((i + 1)); done"; }
		rec start_n "$START_N"
		bench_cmd start_ref "$RUNS" "$(_loop "/usr/sbin/halog -h")" &&
			bench_cmd start "$RUNS" "$(_loop "'$HALOG' --version")"
	else
		skipped start "halog not built, or /usr/sbin/halog not installed (Debian package haproxy)"
	fi
fi

# --- hagen: a SERVICES-service inventory vs haproxy -c on its output ---------------------------
if only hagen; then
	python3 "$top/tests/helpers/invgen.py" --services "$SERVICES" --seed "$SEED" >"$OUT/inventory.yaml" ||
		skipped hagen "invgen failed"
	if available hagen "$HAGEN" && [ -s "$OUT/inventory.yaml" ]; then
		rm -f "$OUT/haproxy.cfg"
		rec hagen_input_bytes "$(wc -c <"$OUT/inventory.yaml")"
		# the memory of the program itself: the smallest inventory, rendered the same way
		bench_cmd hagen_base 1 "'$HAGEN' render -o '$OUT/minimal.cfg' '$top/samples/minimal.yaml'"
		if bench_cmd hagen "$RUNS" "'$HAGEN' render -o '$OUT/haproxy.cfg' '$OUT/inventory.yaml' >'$OUT/hagen.out' && test -s '$OUT/haproxy.cfg' || { echo 'hagen render wrote no haproxy.cfg' >&2; exit 1; }"; then
			rec hagen_cfg_lines "$(wc -l <"$OUT/haproxy.cfg")"
			if command -v haproxy >/dev/null 2>&1; then
				bench_cmd haproxy_c "$RUNS" "haproxy -c -q -f '$OUT/haproxy.cfg'"
			else
				skipped haproxy_c "haproxy not installed"
			fi
		fi
	else
		skipped hagen "hagen not built yet"
	fi
fi

# The databases take ~600 bytes a line: keep them only when asked (the logs are reused).
# --- ClickHouse (issue 18): the sink against ClickHouse's own bulk insert of the same rows, and
# the report over the big file's rows against the SQLite store's and halog -srv ----------------
CH_SERVER=$(command -v clickhouse-server 2>/dev/null || echo /usr/sbin/clickhouse-server)
if only clickhouse; then
	if [ -x "$CH_SERVER" ] && available halog-ingest "$HALOG" && chh=$(free_port) && cht=$(free_port); then
		. "$top/tests/e2e/clickhouse-config"
		CHD=$OUT/clickhouse
		rm -rf "$CHD"
		ch_config_write "$CHD" "$chh" "$cht"
		env MALLOC_CONF="$CH_MALLOC_CONF" "$CH_SERVER" --config-file="$CHD/config.xml" >"$CHD/stdout.log" 2>&1 &
		chpid=$!
		LIB_PIDS="$LIB_PIDS $chpid"
		chq() { curl -sf "http://127.0.0.1:$chh/" --data-binary "$1"; }
		if wait_for 60 curl -sf "http://127.0.0.1:$chh/?query=SELECT%201"; then
			CU=clickhouse://127.0.0.1:$chh
			for d in main copy big; do "$HALOG" clickhouse init "$CU/$d" >/dev/null 2>&1; done
			# the server's CPU (user + system, seconds) so far: where the sink's time goes
			chcpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$chpid/stat"; }
			# rec_server KEY CPU0: records KEY_server_cpu_s, the server's CPU since CPU0
			rec_server() { rec "$1_server_cpu_s" "$(awk -v a="$2" -v b="$(chcpu)" 'BEGIN { printf "%.2f", b - a }')"; }
			# the sink: halog ingest --db none --sink, until ClickHouse acknowledged every row
			c0=$(chcpu)
			bench_cmd ch_sink 1 "'$HALOG' ingest --db none --sink '$CU/main?spool=$CHD/s1' '$F1'" &&
				rec_server ch_sink "$c0" &&
				rec ch_sink_rows "$(chq "SELECT count() FROM main.lines")"
			# the reference: the same rows inserted by curl, same tables and views, in bodies of
			# 250k rows (a million wide rows in one body pass the server's 2 GB query memory),
			# as RowBinary and as Native
			n=$(chq "SELECT count() FROM main.lines")
			for f in RowBinary Native; do
				k=0
				while [ "$k" -lt "${n:-0}" ]; do
					chq "SELECT * FROM main.lines LIMIT $k, 250000 FORMAT $f" >"$CHD/rows.$f.$k"
					k=$((k + 250000))
				done
			done
			c0=$(chcpu)
			bench_cmd ch_bulk 1 "for b in '$CHD'/rows.RowBinary.*; do curl -sS --fail-with-body 'http://127.0.0.1:$chh/?query=INSERT%20INTO%20copy.lines%20FORMAT%20RowBinary' --data-binary @\$b >&2 || exit 1; done" &&
				rec_server ch_bulk "$c0"
			chq "TRUNCATE TABLE copy.lines" >/dev/null
			c0=$(chcpu)
			bench_cmd ch_bulk_native 1 "for b in '$CHD'/rows.Native.*; do curl -sS --fail-with-body 'http://127.0.0.1:$chh/?query=INSERT%20INTO%20copy.lines%20FORMAT%20Native' --data-binary @\$b >&2 || exit 1; done" &&
				rec_server ch_bulk_native "$c0"
			rm -f "$CHD"/rows.*
			# the big file, then the report over its rows
			bench_cmd ch_sink_big 1 "'$HALOG' ingest --db none --sink '$CU/big?spool=$CHD/s2' '$FB'"
			bench_cmd ch_report "$RUNS" "'$HALOG' report --db '$CU/big' --format json > '$OUT/ch-report.json'"
		else
			skipped ch_sink "clickhouse-server did not start: $(tail -n 2 "$CHD/error.log" 2>/dev/null | tr '\n' ' ')"
		fi
		lib_stop "$chpid"
		[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$CHD"
	else
		skipped ch_sink "clickhouse-server not installed (Debian package clickhouse-server), or halog ingest missing"
	fi
fi

# --- ClickHouse at scale: the report over BENCH_CH_HUGE rows (bench/ch_huge.sh) -----------------
if only ch_huge; then
	if [ "${BENCH_CH_HUGE:-0}" -gt 0 ]; then
		BENCH_OUT=$OUT BENCH_RUNS=$RUNS BENCH_SEED=$SEED O=$O sh "$top/bench/ch_huge.sh" >&2 &&
			sed 's/^/ch_huge_/' "$OUT/ch-huge.tsv" >>"$M" ||
			skipped ch_huge "bench/ch_huge.sh failed"
	else
		skipped ch_huge "BENCH_CH_HUGE=0 (BENCH_CH_HUGE=20000000 sh bench/ch_huge.sh runs it alone)"
	fi
fi

if [ "${BENCH_KEEP:-0}" != 1 ]; then
	rmdb "$D1"
	rmdb "$DB"
fi

# --- the table and results.json ----------------------------------------------------------------
python3 - "$M" "$RESULTS" "$OUT/report.json" "$FB.expect.json" "$OUT/servebench.json" "$OUT/servebench-cold.json" "$OUT/ch-report.json" <<'EOF'
import json, os, sys

raw = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    k, _, v = line.rstrip("\n").partition("\t")
    raw[k] = v

def num(k):
    v = raw.get(k)
    if v is None or v.startswith("skipped"):
        return None
    try:
        return float(v)
    except ValueError:
        return None

def why(*keys):
    for k in keys:
        for kk in (k, k + "_s"):
            v = raw.get(kk, "")
            if v.startswith("skipped"):
                return v
    return "skipped: not measured (" + ", ".join(keys) + ")"

lines, big, dgrams = num("lines"), num("big_lines"), num("datagrams")
metrics = {}

def metric(name, unit, value, ref_name=None, ref_value=None, ratio=None, target=None,
           ok=None, needs=(), measured_s=None):
    m = {"unit": unit, "value": value, "reference": ref_name, "reference_value": ref_value,
         "ratio": ratio, "target": target, "met": ok, "skipped": None, "measured_s": measured_s}
    if value is None or (ref_name is not None and ref_value is None):
        m.update(value=None, ratio=None, met=None, measured_s=None, skipped=why(*needs))
    metrics[name] = m

def rate(n, k):
    s = num(k + "_s")
    return n / s if n and s else None

def div(a, b):
    return a / b if a is not None and b else None

t = {k: num(k + "_s") for k in ("wc", "halog_srv", "halog_srv_big", "halog_pct", "goaccess",
                                 "halog_srv_big2", "report_all", "halog_u_big", "report_paths",
                                 "sqlceiling", "ingest", "ingest_big", "ingest_huge", "report",
                                 "parse", "hagen", "haproxy_c", "loggen", "listen", "grep_word",
                                 "search_word", "search_field", "ingest_since",
                                 "ingest_big_since", "serve_listen", "serve_cli_searches",
                                 "start", "start_ref")}
huge = num("huge_lines")

# references, in lines per second
for k, label in (("wc", "wc -l"), ("halog_srv", "halog -srv"), ("halog_pct", "halog -pct"),
                 ("goaccess", "goaccess"), ("sqlceiling", "sqlite ceiling"), ("loggen", "loggen")):
    metric("ref_%s_lines_per_s" % k, "lines/s", rate(lines, k), needs=(k,))

ing = rate(lines, "ingest")
metric("ingest_lines_per_s", "lines/s", ing, target=">= 1000000",
       ok=None if ing is None else ing >= 1000000, needs=("ingest",))
r = div(t["ingest"], t["halog_srv"])
metric("ingest_time_vs_halog_srv", "x", r, "halog -srv", t["halog_srv"], r, "<= 7",
       None if r is None else r <= 7, needs=("ingest", "halog_srv"), measured_s=t["ingest"])
r = div(t["goaccess"], t["ingest"])
metric("ingest_speedup_vs_goaccess", "x", r, "goaccess", t["goaccess"], r, ">= 10",
       None if r is None else r >= 10, needs=("ingest", "goaccess"), measured_s=t["ingest"])
r = div(t["ingest"], t["sqlceiling"])
metric("ingest_time_vs_sqlite_ceiling", "x", r, "sqlite ceiling", t["sqlceiling"], r,
       needs=("ingest", "sqlceiling"), measured_s=t["ingest"])
rss = num("ingest_rss_kib")
metric("ingest_peak_rss_mib", "MiB", rss / 1024 if rss and t["ingest"] else None,
       needs=("ingest",))
ingb = rate(big, "ingest_big")
metric("ingest_big_lines_per_s", "lines/s", ingb, needs=("ingest_big",))
r = div(ingb, ing)
metric("ingest_big_rate_vs_main", "x", r, "main file ingest", t["ingest"], r,
       ">= 0.9", None if r is None else r >= 0.9, needs=("ingest", "ingest_big"),
       measured_s=t["ingest_big"])
metric("ingest_huge_lines_per_s", "lines/s", rate(huge, "ingest_huge"), needs=("ingest_huge",))
for k, n in (("ingest", lines), ("ingest_big", big), ("ingest_huge", huge)):
    rows = num(k + "_rows")
    metric(k + "_rows_stored", "rows", rows, ok=None if rows is None else rows == n,
           target="= lines", needs=(k,))
# on disk, everything included (database, WAL, index), over the raw file's size
for k, target in (("ingest", None), ("ingest_big", 0.35)):
    r = div(num(k + "_db_bytes"), num(k + "_file_bytes"))
    metric(k + "_store_vs_raw", "x", r, "raw file", div(num(k + "_file_bytes"), 1e6), r,
           None if target is None else "<= %g" % target,
           None if r is None or target is None else r <= target, needs=(k,),
           measured_s=None)
    metrics[k + "_store_vs_raw"]["measured_mb"] = div(num(k + "_db_bytes"), 1e6)
    metrics[k + "_store_vs_raw"]["ref_unit"] = "MB"

# search: a word over the whole big store vs grep -c on the raw file (counts must agree with
# grep -ci: words ignore case); a field filter; the last 10 minutes of a 1M and a 5M store
r = div(t["search_word"], t["grep_word"])
metric("search_word_time_vs_grep", "x", r, "grep -c (big file)", t["grep_word"], r, "<= 1",
       None if r is None else r <= 1, needs=("search_word", "grep_word"),
       measured_s=t["search_word"])
sc, gc = num("search_word_count"), num("grep_word_i_count")
metric("search_word_count_match", "bool", None if sc is None else float(sc == gc),
       target="= grep -ci", ok=None if sc is None else sc == gc, needs=("search_word",))
metric("search_field_s", "s", t["search_field"], needs=("search_field",))
r = div(t["ingest_big_since"], t["ingest_since"])
full = lines is not None and lines > 600000
metric("since_10m_big_vs_main", "x", r, "--since 10m on the main store", t["ingest_since"], r,
       "0.8 .. 1.2" if full else "0.8 .. 1.2 (needs > 600k lines)",
       None if r is None or not full else 0.8 <= r <= 1.2,
       needs=("ingest_since", "ingest_big_since"), measured_s=t["ingest_big_since"])

r = div(t["start"], t["start_ref"])
metric("start_time_vs_halog", "x", r, "halog -h x%d" % (num("start_n") or 0), t["start_ref"], r,
       needs=("start", "start_ref"), measured_s=t["start"])

r = div(t["report"], t["halog_srv_big"])
metric("report_time_vs_halog_srv_big", "x", r, "halog -srv (big file)", t["halog_srv_big"], r,
       "<= 0.1", None if r is None else r <= 0.1, needs=("report", "halog_srv_big"),
       measured_s=t["report"])
metric("report_s", "s", t["report"], needs=("report",))
r = div(t["report_all"], t["halog_srv_big2"])
metric("report_all_time_vs_halog_srv_big", "x", r, "halog -srv (big file)", t["halog_srv_big2"],
       r, "<= 0.1", None if r is None else r <= 0.1, needs=("report_all", "halog_srv_big2"),
       measured_s=t["report_all"])
r = div(t["report_paths"], t["halog_u_big"])
metric("report_paths_time_vs_halog_u_big", "x", r, "halog -u (big file)", t["halog_u_big"], r,
       "< 1", None if r is None else r < 1, needs=("report_paths", "halog_u_big"),
       measured_s=t["report_paths"])

# The report must also be right: its per-backend/server request counts against loggen's summary
# of the big file.
def counts_match(measured, path):
    """1.0 when the JSON report at path has the big file's counts, 0.0 when not, None when the
    report was not measured."""
    if measured is None:
        return None
    try:
        rep = json.load(open(path, encoding="utf-8"))
        exp = json.load(open(sys.argv[4], encoding="utf-8"))
        got = {(b["name"], s["name"]): s["requests"] for b in rep.get("backends", [])
               for s in b.get("servers", [])}
        want = {(b, s): n for b, v in exp["backends"].items() for s, n in v["servers"].items()}
        return 1.0 if got == want else 0.0
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
match = counts_match(t["report"], sys.argv[3])
metric("report_counts_match", "bool", match, target="= loggen --expect",
       ok=None if match is None else match == 1.0, needs=("report",))

p = num("parse_lps")
metric("parse_lines_per_s", "lines/s", p, target=">= 3000000",
       ok=None if p is None else p >= 3000000, needs=("parse",))
hs = rate(lines, "halog_srv")
r = div(p, hs)
metric("parse_speed_vs_halog_srv", "x", r, "halog -srv", t["halog_srv"], r,
       needs=("parse", "halog_srv"), measured_s=div(lines, p))

sent, stored = num("listen_sent"), num("listen_stored")
# received: the listener's own counter when it keeps one, else sent minus the kernel's drops
recv = num("listen_counter_listen.received")
kd = num("listen_kernel_dropped")
if recv is None and sent is not None and kd is not None:
    recv = sent - kd
lost_in = None if recv is None or stored is None else recv - stored
metric("listen_lost_after_kernel", "datagrams", lost_in, target="= 0",
       ok=None if lost_in is None else lost_in == 0, needs=("listen",))
metric("listen_kernel_dropped", "datagrams", kd, needs=("listen",))
marks = num("tail_sent") or 0
lost = None if sent is None or stored is None else sent + marks - stored
metric("listen_lost_end_to_end", "datagrams", lost, needs=("listen",))
metric("listen_stored_per_s", "msg/s", div(stored, t["listen"]), needs=("listen",))
metric("listen_sender_per_s", "msg/s", div(sent, num("listen_send_s")), needs=("listen",))
ts, tw = num("tail_seen"), num("tail_worst_s")
metric("tail_f_worst_latency_s", "s", tw if ts == num("tail_sent") else None, target="<= 1",
       ok=None if tw is None or ts != num("tail_sent") else tw <= 1, needs=("listen",))
if tw is not None and ts != num("tail_sent"):
    metrics["tail_f_worst_latency_s"]["skipped"] = "skipped: tail -f printed %s of %s markers" % (ts, num("tail_sent"))
rss = num("listen_rss_kib")
metric("listen_peak_rss_mib", "MiB", rss / 1024 if rss else None, target="< 64",
       ok=None if not rss else rss / 1024 < 64, needs=("listen",))

# halog listen --max-size 16M at 100k lines/s, pruning as it goes: nothing lost (the store's
# line count, kept by the aggregates, is what was sent less the kernel's drops, which are
# reported apart), the stored rate against the sender's, the file against its limit
sent, kd = num("listen_prune_sent"), num("listen_prune_kernel_dropped")
acc, tp = num("listen_prune_accounted"), num("listen_prune_s")
lost = sent - kd - acc if None not in (sent, kd, acc) else None
metric("listen_prune_lost", "datagrams", lost, target="= 0",
       ok=None if lost is None else lost == 0, needs=("listen_prune",))
metric("listen_prune_kernel_dropped", "datagrams", kd, needs=("listen_prune",))
sr = div(sent, num("listen_prune_send_s"))
r = div(div(acc, tp), sr)
metric("listen_prune_rate", "msg/s", div(acc, tp), "sender (paced)", sr, r, ">= 0.95x",
       None if r is None else r >= 0.95, needs=("listen_prune",), measured_s=tp)
metrics["listen_prune_rate"]["ref_unit"] = "msg/s"
metric("listen_prune_steps", "steps", num("listen_prune_steps"), needs=("listen_prune",))
metric("listen_prune_blocks_removed", "blocks", num("listen_prune_blocks"), needs=("listen_prune",))
fb, lim = num("listen_prune_file_bytes"), num("listen_prune_limit_bytes")
r = div(fb, lim)
metric("listen_prune_size_vs_limit", "x", r, "--max-size 16M", div(lim, 1e6), r,
       "<= 1.125", None if r is None else r <= 1.125, needs=("listen_prune",))
metrics["listen_prune_size_vs_limit"]["measured_mb"] = div(fb, 1e6)
metrics["listen_prune_size_vs_limit"]["ref_unit"] = "MB"
# the reference: the same datagrams into a store without the limit (no pruning)
rss, rss0 = num("listen_prune_rss_kib"), num("listen_noprune_rss_kib")
metric("listen_prune_peak_rss_mib", "MiB", rss / 1024 if rss else None,
       "without --max-size", rss0 / 1024 if rss0 else None, div(rss, rss0), "< 64",
       None if not rss else rss / 1024 < 64, needs=("listen_prune", "listen_noprune"))
metrics["listen_prune_peak_rss_mib"]["ref_unit"] = "MiB"
c, c0 = num("listen_prune_cpu_s"), num("listen_noprune_cpu_s")
metric("listen_prune_cpu_vs_noprune", "x", div(c, c0), "without --max-size", c0, div(c, c0),
       needs=("listen_prune", "listen_noprune"), measured_s=c)

# halog serve --listen with 20 live tails open, the same burst: nothing may be lost
sent, stored = num("serve_listen_sent"), num("serve_listen_stored")
recv = num("serve_listen_counter_listen.received")
kd = num("serve_listen_kernel_dropped")
lost = None if sent is None or stored is None else sent - stored
metric("serve_listen_lost_with_20_tails", "datagrams", lost, target="= 0",
       ok=None if lost is None else lost == 0, needs=("serve_listen",))
metric("serve_listen_kernel_dropped", "datagrams", kd, target="= 0",
       ok=None if kd is None else kd == 0, needs=("serve_listen",))
r = div(t["serve_listen"], t["listen"])
metric("serve_listen_time_vs_listen", "x", r, "halog listen alone", t["listen"], r,
       needs=("serve_listen", "listen"), measured_s=t["serve_listen"])

# halog serve under load: live tails and searches at once
def load_json(path, key):
    if raw.get(key, "").startswith("skipped") or (raw.get("only") and
                                                  "serve_load" not in raw["only"].split(",")):
        return None  # failed, or not run (the file is an older run's)
    try:
        return json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError):
        return None
sb, sc = load_json(sys.argv[5], "serve_load"), load_json(sys.argv[6], "serve_cold")
def sbv(k, sub=None, d=None):
    d = sb if d is None else d
    if not d:
        return None
    v = d.get(k)
    return v.get(sub) if sub and isinstance(v, dict) else v
cli_each = div(t["serve_cli_searches"], num("serve_cli_queries"))
p99 = sbv("search_ms", "p99")
metric("serve_search_p99_ms", "ms", p99, "halog search --since 1h -n 100 (each)",
       cli_each, div(p99 / 1000 if p99 is not None else None, cli_each), "< 300",
       None if p99 is None else p99 < 300, needs=("serve_load", "serve_cli_searches"))
metric("serve_search_p50_ms", "ms", sbv("search_ms", "p50"), needs=("serve_load",))
cold = sbv("search_ms", "p99", sc or {})
metric("serve_search_cold_p99_ms", "ms", cold, "halog search --since 1h -n 100 (each)", cli_each,
       div(cold / 1000 if cold is not None else None, cli_each), needs=("serve_cold", "serve_cli_searches"))
metric("serve_search_cold_p50_ms", "ms", sbv("search_ms", "p50", sc or {}), needs=("serve_cold",))
metric("serve_searches_per_s", "1/s", div(sbv("searches"), sbv("seconds")), needs=("serve_load",))
err = sbv("search_errors")
metric("serve_search_errors", "requests", err, target="= 0", ok=None if err is None else err == 0,
       needs=("serve_load",))
tp99 = sbv("tail_ms", "p99")
metric("serve_tail_delay_p99_ms", "ms", tp99, target="< 1000",
       ok=None if tp99 is None else tp99 < 1000, needs=("serve_load",))
metric("serve_tail_delay_p50_ms", "ms", sbv("tail_ms", "p50"), needs=("serve_load",))
kept = sbv("streams_open_at_end")
metric("serve_streams_kept", "streams", kept, target="= %s" % sbv("streams"),
       ok=None if kept is None else kept == sbv("streams"), needs=("serve_load",))
got = sbv("lines_per_stream_min")
metric("serve_tail_lines_missed", "lines", None if got is None else sbv("sent") - got, target="= 0",
       ok=None if got is None else sbv("sent") == got, needs=("serve_load",))
metric("serve_hits_p50_ms", "ms", sbv("hits_ms", "p50"), needs=("serve_load",))
metric("serve_hits_requests", "requests", sbv("hits"), needs=("serve_load",))
metric("serve_hits_errors", "requests", sbv("hits_errors"), needs=("serve_load",))
rl, rs = num("serve_load_received"), num("serve_load_stored")
lost = None if sb is None or rs is None else sbv("sent") - rs
metric("serve_load_listen_lost", "datagrams", lost, target="= 0",
       ok=None if lost is None else lost == 0, needs=("serve_load",))

# ClickHouse: the sink's rate against ClickHouse's own bulk insert of the same rows and against
# the listener's stored rate; the report over the big file's rows
tc = {k: num(k + "_s") for k in ("ch_sink", "ch_bulk", "ch_sink_big", "ch_report")}
csr = rate(lines, "ch_sink")
metric("ch_sink_lines_per_s", "lines/s", csr, needs=("ch_sink",))
r = div(tc["ch_sink"], tc["ch_bulk"])
metric("ch_sink_time_vs_bulk_insert", "x", r, "ClickHouse bulk insert", tc["ch_bulk"], r,
       needs=("ch_sink", "ch_bulk"), measured_s=tc["ch_sink"])
r = div(csr, div(num("listen_stored"), t["listen"]))
metric("ch_sink_rate_vs_listen_stored", "x", r, ratio=r, target=">= 1",
       ok=None if r is None else r >= 1, needs=("ch_sink", "listen"), measured_s=tc["ch_sink"])
# where the sink's time goes: halog's CPU and the server's during the sink, against the
# server's CPU for ClickHouse's own inserts of the same rows
sc = {k: num(k) for k in ("ch_sink_cpu_s", "ch_sink_server_cpu_s", "ch_bulk_server_cpu_s",
                          "ch_bulk_native_server_cpu_s")}
metric("ch_sink_halog_cpu_s", "s", sc["ch_sink_cpu_s"], needs=("ch_sink",))
metric("ch_sink_server_cpu_s", "s", sc["ch_sink_server_cpu_s"], needs=("ch_sink",))
r = div(sc["ch_sink_server_cpu_s"], sc["ch_bulk_server_cpu_s"])
metric("ch_sink_server_cpu_vs_bulk_insert", "x", r, "server CPU, ClickHouse bulk insert (RowBinary)",
       sc["ch_bulk_server_cpu_s"], r, needs=("ch_sink", "ch_bulk"))
r = div(sc["ch_sink_server_cpu_s"], sc["ch_bulk_native_server_cpu_s"])
metric("ch_sink_server_cpu_vs_bulk_native", "x", r, "server CPU, ClickHouse bulk insert (Native)",
       sc["ch_bulk_native_server_cpu_s"], r, needs=("ch_sink", "ch_bulk_native"))
r = div(tc["ch_sink"], num("ch_bulk_native_s"))
metric("ch_sink_time_vs_bulk_native", "x", r, "ClickHouse bulk insert (Native)",
       num("ch_bulk_native_s"), r, needs=("ch_sink", "ch_bulk_native"), measured_s=tc["ch_sink"])
rows = num("ch_sink_rows")
metric("ch_sink_rows_stored", "rows", rows, target="= lines",
       ok=None if rows is None else rows == lines, needs=("ch_sink",))
metric("ch_sink_big_lines_per_s", "lines/s", rate(big, "ch_sink_big"), needs=("ch_sink_big",))
r = div(tc["ch_report"], t["report"])
metric("ch_report_time_vs_sqlite_report", "x", r, "SQLite store's report", t["report"], r,
       needs=("ch_report", "report"), measured_s=tc["ch_report"])
r = div(tc["ch_report"], t["halog_srv_big"])
metric("ch_report_time_vs_halog_srv_big", "x", r, "halog -srv (big file)", t["halog_srv_big"],
       r, needs=("ch_report", "halog_srv_big"), measured_s=tc["ch_report"])
match = counts_match(tc["ch_report"], sys.argv[7])
hk = {k: num("ch_huge_" + k) for k in ("report_ch_s", "report_sqlite_s", "halog_srv_s",
                                           "report_equal", "ingest_sink_s", "lines")}
r = div(hk["report_ch_s"], hk["halog_srv_s"])
metric("ch_huge_report_time_vs_halog_srv", "x", r, "halog -srv (huge file)", hk["halog_srv_s"],
       r, needs=("ch_huge",), measured_s=hk["report_ch_s"])
r = div(hk["report_ch_s"], hk["report_sqlite_s"])
metric("ch_huge_report_time_vs_sqlite_report", "x", r, "SQLite store's report",
       hk["report_sqlite_s"], r, needs=("ch_huge",), measured_s=hk["report_ch_s"])
metric("ch_huge_sink_lines_per_s", "lines/s", div(hk["lines"], hk["ingest_sink_s"]),
       needs=("ch_huge",))
metric("ch_huge_report_equal", "bool", hk["report_equal"], target="= SQLite store's report",
       ok=None if hk["report_equal"] is None else hk["report_equal"] == 1, needs=("ch_huge",))
metric("ch_report_counts_match", "bool", match, target="= loggen --expect",
       ok=None if match is None else match == 1.0, needs=("ch_report",))

r = div(t["hagen"], t["haproxy_c"])
metric("hagen_time_vs_haproxy_c", "x", r, "haproxy -c", t["haproxy_c"], r, "<= 0.2",
       None if r is None else r <= 0.2, needs=("hagen", "haproxy_c"), measured_s=t["hagen"])
metric("hagen_s", "s", t["hagen"], needs=("hagen",))
# memory: peak RSS, and what the inventory adds to the program's own (the minimal sample's) per
# byte of input, bounded by the multiple docs/bench.md documents
hrss, hbase, hin = num("hagen_rss_kib"), num("hagen_base_rss_kib"), num("hagen_input_bytes")
metric("hagen_peak_rss_mib", "MiB", hrss / 1024 if hrss and t["hagen"] else None,
       needs=("hagen",))
r = (hrss - hbase) * 1024 / hin if hrss and hbase and hin and t["hagen"] else None
metric("hagen_rss_per_input_byte", "B/B", r, target="<= 48", ok=None if r is None else r <= 48,
       needs=("hagen", "hagen_base"))
hc = num("haproxy_c_rss_kib")
r = div(hrss, hc) if hrss and hc else None
metric("hagen_rss_vs_haproxy_c", "x", r, ratio=r, needs=("hagen", "haproxy_c"))

# The same ratios on CPU time (user+sys, all threads): steadier than wall time on a busy machine.
RATIO_KEYS = {"ingest_time_vs_halog_srv": ("ingest", "halog_srv"),
              "ingest_speedup_vs_goaccess": ("goaccess", "ingest"),
              "ingest_time_vs_sqlite_ceiling": ("ingest", "sqlceiling"),
              "report_time_vs_halog_srv_big": ("report", "halog_srv_big"),
              "report_all_time_vs_halog_srv_big": ("report_all", "halog_srv_big2"),
              "report_paths_time_vs_halog_u_big": ("report_paths", "halog_u_big"),
              "search_word_time_vs_grep": ("search_word", "grep_word"),
              "since_10m_big_vs_main": ("ingest_big_since", "ingest_since"),
              "hagen_time_vs_haproxy_c": ("hagen", "haproxy_c"),
              "start_time_vs_halog": ("start", "start_ref")}
for name, m in metrics.items():
    m["ratio_cpu"] = None
    if name in RATIO_KEYS and not m["skipped"]:
        a, b = RATIO_KEYS[name]
        ca, cb = num(a + "_cpu_s"), num(b + "_cpu_s")
        # /usr/bin/time counts in 10 ms steps: below 50 ms a CPU ratio would be noise
        if ca is not None and cb is not None and ca >= 0.05 and cb >= 0.05:
            m["ratio_cpu"] = ca / cb

env = {k: raw.get(k) for k in ("lines", "big_lines", "datagrams", "services", "runs", "seed",
                               "quick", "prune_datagrams", "prune_rate", "only", "cpus",
                               "cpu_model", "date", "version")}
out = {"env": env, "metrics": metrics,
       "raw": {k: (num(k) if num(k) is not None else v) for k, v in raw.items()}}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write("\n")

def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "x":
        return "%.3g" % v
    if abs(v) >= 1000:
        return "{:,.0f}".format(v)
    return "%.3g" % v

rows = [("metric", "value", "reference", "ratio", "cpu ratio", "target", "met")]
notes = []
only = os.environ.get("BENCH_ONLY")
for name, m in metrics.items():
    if only and m["skipped"] and "not measured" in m["skipped"]:
        continue  # a section BENCH_ONLY left out
    if m["skipped"]:
        notes.append("  %s: %s" % (name, m["skipped"]))
        rows.append((name, "-", "", "", "", m["target"] or "", "skip"))
        continue
    ref = "" if m["reference"] is None else "%s %.3f%s" % (m["reference"], m["reference_value"],
                                                            " " + m.get("ref_unit", "")
                                                            if m.get("ref_unit") else "s")
    met = "" if m["met"] is None else ("yes" if m["met"] else "NO")
    if m["unit"] == "x" and m.get("measured_mb") is not None:
        val = "%.1f MB" % m["measured_mb"]
    elif m["unit"] == "x":
        val = "%.3fs" % m["measured_s"] if m["measured_s"] is not None else ""
    else:
        val = fmt(m["value"]) + " " + m["unit"]
    rows.append((name, val, ref, fmt(m["ratio"], "x"),
                 "" if m["ratio_cpu"] is None else fmt(m["ratio_cpu"], "x"), m["target"] or "", met))
w = [max(len(r[i]) for r in rows) for i in range(7)]
print("bench: %s lines, %s big, %s datagrams, %s services, %s cpus (%s)" % (
    env["lines"], env["big_lines"], env["datagrams"], env["services"], env["cpus"], env["cpu_model"]))
for i, r in enumerate(rows):
    print("  ".join(c.ljust(w[j]) for j, c in enumerate(r)).rstrip())
    if i == 0:
        print("  ".join("-" * w[j] for j in range(7)))
if notes:
    print("skipped:")
    print("\n".join(notes))
print("results: " + sys.argv[2])
EOF
