#!/bin/sh
# The benchmark behind `make bench`: halog and hagen against references measured in the same run
# on the same files (HAProxy's own halog, GoAccess, wc -l, a bare SQLite bulk insert, haproxy -c).
# Prints a table (metric, value, reference, ratio, target, met) and writes bench/results.json.
# A component that is not built (or fails) is recorded as "skipped: <reason>", never a crash.
#
# usage: O=build sh bench/run.sh
# env:   BENCH_LINES=1000000   lines of the main log file (ingest, parser, references)
#        BENCH_BIG=5000000     lines of the big file (report vs halog -srv on the raw file)
#        BENCH_DATAGRAMS=1000000  datagrams sent to `halog listen`
#        BENCH_SERVICES=5000   services in the generated hagen inventory
#        BENCH_RUNS=3          runs of each short measurement (the best is kept)
#        BENCH_QUICK=1         tiny sizes (a smoke run: checks the plumbing, not the speed)
#        BENCH_OUT=bench/out   work files (logs, databases, outputs; gitignored)
#        BENCH_RESULTS=bench/results.json
#        BENCH_KEEP=1          keep the ingested databases in BENCH_OUT (removed by default)
# Docs: docs/bench.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
HALOG=$O/halog
HAGEN=$O/hagen
H=$O/helpers
OUT=${BENCH_OUT:-$top/bench/out}
RESULTS=${BENCH_RESULTS:-$top/bench/results.json}
export TZ=UTC LC_ALL=C

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	LINES=${BENCH_LINES:-20000}
	BIG=${BENCH_BIG:-50000}
	DGRAMS=${BENCH_DATAGRAMS:-20000}
	SERVICES=${BENCH_SERVICES:-100}
	RUNS=${BENCH_RUNS:-1}
else
	LINES=${BENCH_LINES:-1000000}
	BIG=${BENCH_BIG:-5000000}
	DGRAMS=${BENCH_DATAGRAMS:-1000000}
	SERVICES=${BENCH_SERVICES:-5000}
	RUNS=${BENCH_RUNS:-3}
fi
SEED=${BENCH_SEED:-1}

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
rec datagrams "$DGRAMS"
rec services "$SERVICES"
rec runs "$RUNS"
rec seed "$SEED"
rec quick "${BENCH_QUICK:-0}"
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
gen "$LINES" "$F1" || exit 1
gen "$BIG" "$FB" || exit 1
bench_cmd loggen 1 "'$H/loggen' --lines $LINES --seed $SEED >/dev/null"

# --- the main file: the references and halog ingest, each ratio's two sides back to back --------
# (the machine's load drifts: a reference measured next to its subject is a fairer divisor)
db_count() { sqlite3 -readonly "$1" "SELECT count(*) FROM lines" 2>/dev/null || echo 0; }
rmdb() { rm -f "$1" "$1-wal" "$1-shm"; }
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

bench_cmd wc "$RUNS" "wc -l < '$F1' >/dev/null"
if available sqlceiling "$H/sqlceiling"; then
	PRE="rm -f '$OUT/ceiling.db' '$OUT/ceiling.db-wal' '$OUT/ceiling.db-shm'"
	bench_cmd sqlceiling 1 "'$H/sqlceiling' --db '$OUT/ceiling.db' '$F1' >/dev/null"
	PRE=:
	rmdb "$OUT/ceiling.db"
else
	skipped sqlceiling "$H/sqlceiling not built"
fi
D1=$OUT/ingest-$LINES.db DB=$OUT/ingest-$BIG.db
if available halog-ingest "$HALOG"; then
	PRE="rm -f '$D1' '$D1-wal' '$D1-shm'"
	bench_cmd ingest 1 "'$HALOG' ingest --db '$D1' '$F1'" && rec ingest_rows "$(db_count "$D1")"
	PRE=:
	rec ingest_db_bytes "$(stat -c %s "$D1" 2>/dev/null || echo 0)"
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

# --- the big file: ingest it, then halog -srv on the raw file and halog report on the database --
if available halog-ingest "$HALOG"; then
	PRE="rm -f '$DB' '$DB-wal' '$DB-shm'"
	bench_cmd ingest_big 1 "'$HALOG' ingest --db '$DB' '$FB'" && rec ingest_big_rows "$(db_count "$DB")"
	PRE=:
else
	skipped ingest_big "halog ingest not built yet"
fi
halog_ref halog_srv_big "$FB" -srv "$OUT/halog-srv-big.txt"
if available halog-report "$HALOG" && [ -s "$DB" ]; then
	bench_cmd report "$RUNS" "'$HALOG' report --db '$DB' --format json > '$OUT/report.json'"
	rec report_bytes "$(stat -c %s "$OUT/report.json" 2>/dev/null || echo 0)"
else
	skipped report "halog report not built yet, or no ingested database"
fi

# --- the parser alone --------------------------------------------------------------------------
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

# --- halog listen: DGRAMS datagrams at full speed over loopback UDP ----------------------------
if available halog-listen "$HALOG" && [ -x "$H/syslogsend" ] && port=$(free_port); then
	LDB=$OUT/listen.db
	rmdb "$LDB"
	"$HALOG" listen --db "$LDB" --bind "udp://127.0.0.1:$port" >"$OUT/listen.log" 2>&1 &
	lpid=$!
	LIB_PIDS="$LIB_PIDS $lpid"
	hexport=$(printf '%04X' "$port")
	if wait_for 10 sh -c "grep -q ':$hexport ' /proc/net/udp"; then
		drops0=$(awk -v p=":$hexport" '$2 ~ p"$" { print $NF; exit }' /proc/net/udp)
		t0=$(now_ns)
		"$H/syslogsend" --udp "127.0.0.1:$port" --count "$DGRAMS" --full-speed >"$OUT/send.txt" 2>&1
		t1=$(now_ns)
		# Wait until the store stops growing (bounded: 120 s).
		last=-1 stable=0 n=0 tdone=$t1
		while [ $n -lt 600 ] && [ $stable -lt 5 ]; do
			c=$(db_count "$LDB")
			if [ "$c" = "$last" ]; then stable=$((stable + 1)); else stable=0 last=$c tdone=$(now_ns); fi
			[ "$c" -ge "$DGRAMS" ] && break
			sleep 0.2
			n=$((n + 1))
		done
		drops1=$(awk -v p=":$hexport" '$2 ~ p"$" { print $NF; exit }' /proc/net/udp)
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$lpid/status" 2>/dev/null)
		lib_stop "$lpid" INT
		stored=$(db_count "$LDB")
		rec listen_sent "$(sed -n 's/.*sent \([0-9]*\) messages.*/\1/p' "$OUT/send.txt")"
		rec listen_send_s "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.6f", d / 1e9 }')"
		rec listen_s "$(awk -v d=$((tdone - t0)) 'BEGIN { printf "%.6f", d / 1e9 }')"
		rec listen_stored "$stored"
		rec listen_kernel_dropped "$(( ${drops1:-0} - ${drops0:-0} ))"
		rec listen_rss_kib "${hwm:-0}"
		sqlite3 -readonly "$LDB" "SELECT name, value FROM counters" 2>/dev/null |
			while IFS='|' read -r k v; do rec "listen_counter_$k" "$v"; done
		say "listen: sent $DGRAMS, stored $stored, kernel drops $(( ${drops1:-0} - ${drops0:-0} )), peak ${hwm:-?} KiB"
	else
		lib_stop "$lpid"
		skipped listen "halog listen did not bind udp 127.0.0.1:$port: $(tail -n 2 "$OUT/listen.log" | tr '\n' ' ')"
	fi
	rmdb "$LDB"
else
	skipped listen "halog listen or $H/syslogsend not built yet (or no free port)"
fi

# --- hagen: a SERVICES-service inventory vs haproxy -c on its output ---------------------------
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

# The databases take ~600 bytes a line: keep them only when asked (the logs are reused).
if [ "${BENCH_KEEP:-0}" != 1 ]; then
	rmdb "$D1"
	rmdb "$DB"
fi

# --- the table and results.json ----------------------------------------------------------------
python3 - "$M" "$RESULTS" "$OUT/report.json" "$FB.expect.json" <<'EOF'
import json, sys

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
                                 "sqlceiling", "ingest", "ingest_big", "report", "parse",
                                 "hagen", "haproxy_c", "loggen", "listen")}

# references, in lines per second
for k, label in (("wc", "wc -l"), ("halog_srv", "halog -srv"), ("halog_pct", "halog -pct"),
                 ("goaccess", "goaccess"), ("sqlceiling", "sqlite ceiling"), ("loggen", "loggen")):
    metric("ref_%s_lines_per_s" % k, "lines/s", rate(lines, k), needs=(k,))

ing = rate(lines, "ingest")
metric("ingest_lines_per_s", "lines/s", ing, target=">= 500000",
       ok=None if ing is None else ing >= 500000, needs=("ingest",))
r = div(t["ingest"], t["halog_srv"])
metric("ingest_time_vs_halog_srv", "x", r, "halog -srv", t["halog_srv"], r, "<= 13",
       None if r is None else r <= 13, needs=("ingest", "halog_srv"), measured_s=t["ingest"])
r = div(t["goaccess"], t["ingest"])
metric("ingest_speedup_vs_goaccess", "x", r, "goaccess", t["goaccess"], r, ">= 5",
       None if r is None else r >= 5, needs=("ingest", "goaccess"), measured_s=t["ingest"])
r = div(t["ingest"], t["sqlceiling"])
metric("ingest_time_vs_sqlite_ceiling", "x", r, "sqlite ceiling", t["sqlceiling"], r,
       needs=("ingest", "sqlceiling"), measured_s=t["ingest"])
rss = num("ingest_rss_kib")
metric("ingest_peak_rss_mib", "MiB", rss / 1024 if rss and t["ingest"] else None,
       needs=("ingest",))
metric("ingest_big_lines_per_s", "lines/s", rate(big, "ingest_big"), needs=("ingest_big",))
stored_rows = num("ingest_rows")
metric("ingest_rows_stored", "rows", stored_rows,
       ok=None if stored_rows is None else stored_rows == lines,
       target="= lines", needs=("ingest",))

r = div(t["report"], t["halog_srv_big"])
metric("report_time_vs_halog_srv_big", "x", r, "halog -srv (big file)", t["halog_srv_big"], r,
       "<= 0.25 (aim 0.1)", None if r is None else r <= 0.25, needs=("report", "halog_srv_big"),
       measured_s=t["report"])
metric("report_s", "s", t["report"], needs=("report",))

# The report must also be right: its per-backend/server request counts against loggen's summary
# of the big file.
match = None
if t["report"] is not None:
    try:
        rep = json.load(open(sys.argv[3], encoding="utf-8"))
        exp = json.load(open(sys.argv[4], encoding="utf-8"))
        got = {(b["name"], s["name"]): s["requests"] for b in rep.get("backends", [])
               for s in b.get("servers", [])}
        want = {(b, s): n for b, v in exp["backends"].items() for s, n in v["servers"].items()}
        match = 1.0 if got == want else 0.0
    except (OSError, ValueError, KeyError, TypeError):
        match = 0.0
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
lost = None if sent is None or stored is None else sent - stored
metric("listen_lost_end_to_end", "datagrams", lost, needs=("listen",))
metric("listen_stored_per_s", "msg/s", div(stored, t["listen"]), needs=("listen",))
metric("listen_sender_per_s", "msg/s", div(sent, num("listen_send_s")), needs=("listen",))
rss = num("listen_rss_kib")
metric("listen_peak_rss_mib", "MiB", rss / 1024 if rss else None, target="< 64",
       ok=None if not rss else rss / 1024 < 64, needs=("listen",))

r = div(t["hagen"], t["haproxy_c"])
metric("hagen_time_vs_haproxy_c", "x", r, "haproxy -c", t["haproxy_c"], r, "< 0.10",
       None if r is None else r < 0.10, needs=("hagen", "haproxy_c"), measured_s=t["hagen"])
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
              "hagen_time_vs_haproxy_c": ("hagen", "haproxy_c")}
for name, m in metrics.items():
    m["ratio_cpu"] = None
    if name in RATIO_KEYS and not m["skipped"]:
        a, b = RATIO_KEYS[name]
        ca, cb = num(a + "_cpu_s"), num(b + "_cpu_s")
        # /usr/bin/time counts in 10 ms steps: below 50 ms a CPU ratio would be noise
        if ca is not None and cb is not None and ca >= 0.05 and cb >= 0.05:
            m["ratio_cpu"] = ca / cb

env = {k: raw.get(k) for k in ("lines", "big_lines", "datagrams", "services", "runs", "seed",
                               "quick", "cpus", "cpu_model", "date", "version")}
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
for name, m in metrics.items():
    if m["skipped"]:
        notes.append("  %s: %s" % (name, m["skipped"]))
        rows.append((name, "-", "", "", "", m["target"] or "", "skip"))
        continue
    ref = "" if m["reference"] is None else "%s %.3fs" % (m["reference"], m["reference_value"])
    met = "" if m["met"] is None else ("yes" if m["met"] else "NO")
    if m["unit"] == "x":
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
