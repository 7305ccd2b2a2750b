# Shell functions shared by the demo (samples/demo.sh, `make demo`) and its end-to-end test
# (tests/e2e/demo_e2e.sh): move an inventory to free loopback ports, render it, start the sample
# backends, halog listen and haproxy, and stop any of them by PID. Source tests/lib.sh first.
# Needs: TOP, O (absolute), HAGEN, HALOG, APP (sample-app), DEMO_OUT (a writable folder).

# demo_free_port: a free port that this run has not handed out yet.
DEMO_USED_PORTS=" "
demo_free_port() {
	_n=0
	while [ $_n -lt 50 ]; do
		_fp=$(free_port) || return 1
		case $DEMO_USED_PORTS in *" $_fp "*) _n=$((_n + 1)); continue ;; esac
		DEMO_USED_PORTS="$DEMO_USED_PORTS$_fp "
		echo "$_fp"
		return 0
	done
	return 1
}

# demo_move_ports SRC DST: copies the inventory SRC to DST with every port written as
# "127.0.0.1:PORT" or ":PORT" (quoted) moved to a free one. Writes the mapping, one "OLD NEW"
# per line, to $DEMO_OUT/ports.
demo_move_ports() {
	: >"$DEMO_OUT/ports"
	: >"$DEMO_OUT/ports.sed"
	for _old in $(grep -oE '(127\.0\.0\.1|\[::1\]|"):[0-9]{2,5}' "$1" | sed 's/.*://' | sort -un | awk '$1 <= 65535'); do
		_new=$(demo_free_port) || return 1
		echo "$_old $_new" >>"$DEMO_OUT/ports"
		printf 's/\\(127\\.0\\.0\\.1:\\|\\[::1\\]:\\|":\\)%s\\([^0-9]\\|$\\)/\\1%s\\2/g\n' "$_old" "$_new" >>"$DEMO_OUT/ports.sed"
	done
	sed -f "$DEMO_OUT/ports.sed" "$1" >"$2"
}

# demo_new_port OLD: the port OLD was moved to (OLD itself when it was not moved).
demo_new_port() {
	awk -v p="$1" '$1 == p { print $2; f = 1 } END { if (!f) print p }' "$DEMO_OUT/ports"
}

# demo_parse_cfg CFG: reads what the rendered config says into
#   $DEMO_OUT/servers  "BACKEND SERVER HOST:PORT WEIGHT" per server line
#   $DEMO_OUT/binds    "FRONTEND HOST:PORT" per bind line (stats included, as "stats")
#   DEMO_LOG           the first "log HOST:PORT" target of the global section
demo_parse_cfg() {
	awk '
		/^[a-z]/ { sec = $1; name = $2 }
		sec == "backend" && $1 == "server" {
			w = 1
			for (i = 4; i < NF; i++) if ($i == "weight") w = $(i + 1)
			print name, $2, $3, w
		}' "$1" >"$DEMO_OUT/servers"
	awk '
		/^[a-z]/ { sec = $1; name = $2 }
		(sec == "frontend" || sec == "listen") && $1 == "bind" { print name, $2 }' "$1" >"$DEMO_OUT/binds"
	DEMO_LOG=$(awk '/^[a-z]/ { sec = $1 } sec == "global" && $1 == "log" && $2 ~ /:/ { print $2; exit }' "$1")
	DEMO_LOG=${DEMO_LOG#udp@}
	DEMO_LOG=${DEMO_LOG#udp4@}
}

# demo_bind NAME: the first address frontend (or listen section) NAME binds, as host:port.
demo_bind() {
	awk -v n="$1" '$1 == n { a = $2; sub(/^(ipv4@|ipv6@)/, "", a); if (a ~ /^:/) a = "127.0.0.1" a; print a; exit }' "$DEMO_OUT/binds"
}

# demo_start_apps: one sample-app per server of the config, named as the server. Sets
# DEMO_PID_<server> and appends "PID name" to $DEMO_OUT/pids.
demo_start_apps() {
	while read -r _be _srv _addr _w; do
		lib_start "$DEMO_OUT/app-$_srv.log" "$APP" --name "$_srv" --listen "$_addr" >/dev/null
		eval "DEMO_PID_$(echo "$_srv" | tr -c 'A-Za-z0-9_\n' '_')=$_pid"
		echo "$_pid sample-app:$_srv" >>"$DEMO_OUT/pids"
	done <"$DEMO_OUT/servers"
	while read -r _be _srv _addr _w; do
		wait_for 5 curl -sf "http://$_addr/health" || { echo "sample-app $_srv did not start:" >&2; cat "$DEMO_OUT/app-$_srv.log" >&2; return 1; }
	done <"$DEMO_OUT/servers"
}

# demo_app_pid SERVER: the PID of that server's sample-app.
demo_app_pid() {
	eval "echo \${DEMO_PID_$(echo "$1" | tr -c 'A-Za-z0-9_\n' '_'):-}"
}

# demo_start_listen: halog listen on the config's log target (UDP) into $DEMO_OUT/halog.db.
demo_start_listen() {
	lib_start "$DEMO_OUT/listen.log" "$HALOG" listen --db "$DEMO_OUT/halog.db" \
		--bind "udp://$DEMO_LOG" >/dev/null
	DEMO_PID_LISTEN=$_pid
	echo "$_pid halog-listen" >>"$DEMO_OUT/pids"
	wait_for 5 test -s "$DEMO_OUT/halog.db" || { echo "halog listen did not start:" >&2; cat "$DEMO_OUT/listen.log" >&2; return 1; }
}

# demo_start_haproxy CFG URL: haproxy in master-worker mode in the foreground (-W -db) on CFG,
# its master CLI on $DEMO_OUT/master.sock (for hagen apply); waits until URL answers.
demo_start_haproxy() {
	lib_start "$DEMO_OUT/haproxy.log" haproxy -W -db -S "$DEMO_OUT/master.sock" -f "$1" >/dev/null
	DEMO_PID_HAPROXY=$_pid
	echo "$_pid haproxy" >>"$DEMO_OUT/pids"
	wait_for 10 curl -sf -o /dev/null "$2" || { echo "haproxy did not answer on $2:" >&2; cat "$DEMO_OUT/haproxy.log" >&2; return 1; }
}

# demo_weights BACKEND: "server=weight,…" of that backend, for halog drive --weights.
demo_weights() {
	awk -v b="$1" '$1 == b { printf "%s%s=%s", (n++ ? "," : ""), $2, $4 } END { print "" }' "$DEMO_OUT/servers"
}

# demo_left_running: prints the PIDs of $DEMO_OUT/pids that still run (nothing when all stopped).
demo_left_running() {
	while read -r _p _what; do
		kill -0 "$_p" 2>/dev/null && echo "$_p $_what"
	done <"$DEMO_OUT/pids"
	return 0
}
