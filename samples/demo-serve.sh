#!/bin/sh
# `make demo-serve`: after `make demo`, serves the demo's store with halog serve on loopback
# until Ctrl-C, and prints its URL. Port: $DEMO_SERVE_PORT (default 8690), or a free one when
# that is taken. usage: O=build sh samples/demo-serve.sh
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
DB=${DEMO_OUT:-$O/demo}/halog.db
. "$TOP/tests/lib.sh"
trap - EXIT INT TERM # halog serve stops itself on Ctrl-C; nothing else runs here
[ -s "$DB" ] || { echo "demo-serve: no store at $DB: run 'make demo' first" >&2; exit 1; }
port=${DEMO_SERVE_PORT:-8690}
if ss -Hltn 2>/dev/null | awk '{print $4}' | grep -q ":$port\$"; then
	port=$(free_port) || { echo "demo-serve: no free port" >&2; exit 1; }
fi
rm -f "$LIB_PORTS_FILE"
echo "halog serve: open http://127.0.0.1:$port/ in a browser (Ctrl-C stops it)"
exec "$O/halog" serve --db "$DB" --bind "127.0.0.1:$port"
