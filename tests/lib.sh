# Shell helpers for end-to-end tests and the demo: free loopback ports, waiting with a bound,
# and starting/stopping processes by PID. Source it: . "$TOP/tests/lib.sh"
# Every process started with lib_start is stopped by lib_stop_all (also on EXIT).

LIB_PIDS=

# free_port: prints a TCP+UDP port on loopback that nothing uses (random, 20000-59999) and that
# this script has not been given before.
LIB_PORTS_FILE=$(mktemp "${TMPDIR:-/tmp}/lib-ports.XXXXXX" 2>/dev/null || echo /dev/null)
free_port() {
	LIB_PORTS=$(cat "$LIB_PORTS_FILE" 2>/dev/null | tr '\n' ' ')
	_i=0
	while [ $_i -lt 200 ]; do
		_p=$(( ($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000) + 20000 ))
		case " $LIB_PORTS " in *" $_p "*) _i=$((_i + 1)); continue ;; esac
		if ! ss -Hantu 2>/dev/null | awk '{print $5}' | grep -q ":$_p\$"; then
			# remembered in a file: free_port usually runs in $(...), a subshell
			echo "$_p" >>"${LIB_PORTS_FILE:-/dev/null}"
			echo "$_p"
			return 0
		fi
		_i=$((_i + 1))
	done
	echo "free_port: no free port found" >&2
	return 1
}

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds or SECONDS pass.
wait_for() {
	_n=$(( $1 * 10 )); shift
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# lib_start LOGFILE CMD...: starts CMD in the background; its PID goes to LIB_PIDS (stopped by
# lib_stop_all on exit) and to LIB_LAST_PID. Call it directly, never inside $(...): a command
# substitution runs in a subshell, which would lose the PID.
lib_start() {
	_log=$1; shift
	"$@" >"$_log" 2>&1 &
	LIB_LAST_PID=$!
	_pid=$LIB_LAST_PID
	LIB_PIDS="$LIB_PIDS $LIB_LAST_PID"
}

# lib_stop PID [SIGNAL]: signals PID (TERM by default), waits up to 10 s, then KILLs it.
lib_stop() {
	kill -"${2:-TERM}" "$1" 2>/dev/null || return 0
	_n=100
	while kill -0 "$1" 2>/dev/null && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

lib_stop_all() {
	for _p in $LIB_PIDS; do lib_stop "$_p"; done
	LIB_PIDS=
}

# have_ipv6_loopback: true when a socket can bind [::1]. Containers (CircleCI's docker executor
# among them) often have no IPv6 loopback: a test then skips its IPv6 part, saying so.
have_ipv6_loopback() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null
	else
		grep -qi '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null
	fi
}

# lib_gen_store SEED: the generated store of the report tests (halog_report_*.sh): skips without
# jq or the sqlite3 CLI, enters $TMP, writes gen.log (20,000 mixed lines from helpers/loggen,
# seeded with SEED), gen.db (halog ingest of it, its messages in ingest.err) and rows.db (its
# lines and requests as plain tables, halog export: the store keeps lines in compressed blocks).
lib_gen_store() {
	command -v jq >/dev/null 2>&1 || skip "no jq"
	command -v sqlite3 >/dev/null 2>&1 || skip "no sqlite3"
	_gen=$O/helpers/loggen
	[ -x "$_gen" ] || fail "no $_gen (make helpers)"
	mkdir -p "$TMP" && cd "$TMP" || fail "cannot enter $TMP"
	"$_gen" --lines 20000 --seed "$1" --format mixed --framing rfc3164 >gen.log || fail "loggen"
	"$HALOG" ingest --db gen.db gen.log 2>ingest.err || { cat ingest.err; fail "ingest"; }
	"$HALOG" export --db gen.db -o rows.db 2>export.err || { cat export.err; fail "export"; }
}

# lib_alive PID: true while PID runs.
lib_alive() { kill -0 "$1" 2>/dev/null; }

# fail MSG: prints MSG and exits 1 (the EXIT trap stops the processes).
fail() { echo "FAIL: $*" >&2; exit 1; }

# skip MSG: exit 77, reported as skipped by tests/run.sh.
skip() { echo "$*"; exit 77; }

# lib_cleanup: what the EXIT trap runs; scripts that set their own trap call it too.
lib_cleanup() {
	lib_stop_all
	case $LIB_PORTS_FILE in /dev/null | "") ;; *) rm -f "$LIB_PORTS_FILE" ;; esac
}

trap 'lib_cleanup' EXIT INT TERM

# store_count DB [QUERY]: how many lines the store DB holds (that match QUERY), read as halog
# search reads them; 0 when the store cannot be read yet (a listener still starting).
store_count() {
	"$HALOG" search --db "$1" --count "${2:-}" 2>/dev/null || echo 0
}

# store_sql DB SQL: runs SQL over the lines of the store DB exported as plain tables (halog
# export: lines, requests), with the store's own tables (events, counters, rollup …) attached
# read-only; prints what sqlite3 prints. Returns sqlite3's status (1 when the export fails).
store_sql() {
	_sx=$(mktemp "${TMPDIR:-/tmp}/store-sql.XXXXXX") && rm -f "$_sx" || return 1
	if ! "$HALOG" export --db "$1" -o "$_sx" 2>"$_sx.err"; then
		cat "$_sx.err" >&2
		rm -f "$_sx" "$_sx.err"
		return 1
	fi
	sqlite3 "$_sx" "ATTACH 'file:$1?mode=ro' AS s; $2"
	_sr=$?
	rm -f "$_sx" "$_sx.err"
	return $_sr
}
