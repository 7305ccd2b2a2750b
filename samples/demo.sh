#!/bin/sh
# `make demo`: renders samples/inventory.yaml with hagen, starts the sample backends, halog
# listen and Debian's haproxy on loopback (free ports), sends traffic with `halog drive`, breaks
# things on purpose (a slow server, a failing one, one stopped mid-run), shows the alert that
# fires to a local webhook when the stopped server goes DOWN, prints halog's report and stops
# every process it started. usage: O=build sh samples/demo.sh
# Knobs (environment): DEMO_OUT (output folder, default $O/demo), DEMO_INVENTORY, DEMO_N1,
# DEMO_N2 (requests per phase), DEMO_RATE (requests per second in phase 2).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
HAGEN=$O/hagen
HALOG=$O/halog
APP=$O/sample-app
DEMO_OUT=${DEMO_OUT:-$O/demo}
INVENTORY=${DEMO_INVENTORY:-$TOP/samples/inventory.yaml}
N1=${DEMO_N1:-400}
N2=${DEMO_N2:-1000}
RATE=${DEMO_RATE:-100}

. "$TOP/tests/lib.sh"
. "$TOP/samples/demo-lib.sh"
cd "$TOP" || exit 1 # so the paths printed below are short and relative

demo_cleanup() {
	trap '' INT TERM
	[ -n "${LIB_PIDS:-}" ] || return 0
	# haproxy first (no new log lines), then the listener (it stores what it holds), then the rest
	[ -n "${DEMO_PID_HAPROXY:-}" ] && lib_stop "$DEMO_PID_HAPROXY"
	[ -n "${DEMO_PID_LISTEN:-}" ] && lib_stop "$DEMO_PID_LISTEN"
	lib_stop_all
}
# replaces lib.sh's trap: also remove its port list (never /dev/null, its fallback)
trap 'demo_cleanup; [ "${LIB_PORTS_FILE:-/dev/null}" = /dev/null ] || rm -f "$LIB_PORTS_FILE"' EXIT
trap 'echo; echo "demo: interrupted, stopping everything"; demo_cleanup; exit 130' INT TERM HUP

die() { echo "demo: $*" >&2; exit 1; }
h() { printf '\n== %s ==\n' "$*"; }
rel() { case $1 in "$TOP"/*) echo "${1#"$TOP"/}" ;; *) echo "$1" ;; esac; }

for b in "$HAGEN" "$HALOG" "$APP"; do
	[ -x "$b" ] || die "$b is missing: run 'make demo' (or 'make O=$(rel "$O")') first"
done
command -v haproxy >/dev/null || die "haproxy is not installed (apt-get install haproxy)"
command -v curl >/dev/null || die "curl is not installed (apt-get install curl)"
[ -f "$INVENTORY" ] || die "no inventory at $INVENTORY"

rm -rf "$DEMO_OUT"
mkdir -p "$DEMO_OUT" || die "cannot create $DEMO_OUT"
: >"$DEMO_OUT/pids"
DB=$(rel "$DEMO_OUT/halog.db")
INV=$(rel "$DEMO_OUT/inventory.yaml")
# the stats page's password (the inventory names the variable; haproxy reads it at start)
STATS_PASSWORD=${STATS_PASSWORD:-demo-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')}
export STATS_PASSWORD
start_s=$(date +%s)

echo "hagen + haproxy + halog demo: everything runs on 127.0.0.1 and stops at the end."
echo "Output folder: $(rel "$DEMO_OUT")/"

# ---------------------------------------------------------------------------------------------
h "1. Render the inventory"
demo_move_ports "$INVENTORY" "$DEMO_OUT/inventory.yaml" || die "no free ports"
"$HAGEN" "$INV" >"$DEMO_OUT/haproxy.cfg" 2>"$DEMO_OUT/hagen.err" ||
	{ cat "$DEMO_OUT/hagen.err" >&2; die "hagen could not render $(rel "$INVENTORY")"; }
haproxy -c -q -f "$DEMO_OUT/haproxy.cfg" >"$DEMO_OUT/check.log" 2>&1 ||
	{ cat "$DEMO_OUT/check.log" >&2; die "haproxy -c rejects the rendered config"; }
echo "hagen rendered $(rel "$INVENTORY") into $(rel "$DEMO_OUT/haproxy.cfg")" \
	"($(wc -l <"$DEMO_OUT/haproxy.cfg") lines); haproxy -c says it is valid."
printf 'Fixed ports moved to free ones (copy: %s):' "$(rel "$DEMO_OUT/inventory.yaml")"
while read -r old new; do printf ' %s->%s' "$old" "$new"; done <"$DEMO_OUT/ports"
echo

# ---------------------------------------------------------------------------------------------
h "2. Start backends, halog listen and haproxy"
demo_parse_cfg "$DEMO_OUT/haproxy.cfg"
[ -s "$DEMO_OUT/servers" ] || die "the config has no server lines"
[ -n "$DEMO_LOG" ] || die "the config logs nowhere (no 'log HOST:PORT' in global)"
FE=$(demo_bind fe_web)
[ -n "$FE" ] || FE=$(awk '$1 != "stats" { a = $2; sub(/^:/, "127.0.0.1:", a); print a; exit }' "$DEMO_OUT/binds")
URL=http://$FE
STATS=$(demo_bind stats)
demo_start_apps || die "backends did not start"
while read -r be srv addr w; do
	printf '  %-8s sample-app on %-16s (%s, weight %s, PID %s)\n' "$srv" "$addr" "$be" "$w" "$(demo_app_pid "$srv")"
done <"$DEMO_OUT/servers"
demo_start_listen || die "halog listen did not start"
printf '  %-8s on udp://%s, storing in %s (PID %s)\n' "halog" "$DEMO_LOG" "$(rel "$DB")" "$DEMO_PID_LISTEN"
demo_start_haproxy "$DEMO_OUT/haproxy.cfg" "$URL/_demo/ready" || die "haproxy did not start"
printf '  %-8s on %s/ (PID %s)\n' "haproxy" "$URL" "$DEMO_PID_HAPROXY"
[ -n "$STATS" ] && printf '  %-8s http://%s/stats (user admin, password %s)\n' "stats" "$STATS" "$STATS_PASSWORD"
# a webhook receiver (a sample-app that records what is POSTed to it) and the alert
HOOK_PORT=$(demo_free_port) || die "no free port"
HOOK=$DEMO_OUT/webhook.jsonl
: >"$HOOK"
lib_start "$DEMO_OUT/app-webhook.log" "$APP" --name webhook --listen "127.0.0.1:$HOOK_PORT" --record "$HOOK" >/dev/null
echo "$_pid webhook-receiver" >>"$DEMO_OUT/pids"
wait_for 5 curl -sf "http://127.0.0.1:$HOOK_PORT/health" || die "the webhook receiver did not start"
"$HALOG" alert add server-down --db "$DB" --query 'kind:server state:DOWN' --when 'count >= 1' \
	--every 10s --webhook "http://127.0.0.1:$HOOK_PORT/hooks/halog" ||
	die "halog alert add failed"
printf '  %-8s http://127.0.0.1:%s/hooks/halog records the alerts POSTed to it (PID %s)\n' "webhook" "$HOOK_PORT" "$_pid"
echo "  alert    server-down: halog listen checks 'kind:server state:DOWN' every 10 s window"
echo "           and POSTs to the webhook when a window holds one (halog alert list)"

# ---------------------------------------------------------------------------------------------
web_weights=$(demo_weights be_web)
h "3. Balanced traffic: $N1 requests to be_web (weights $web_weights)"
echo "halog drive sends them, counts who answered (X-Server), waits until haproxy's log lines"
echo "are stored, and checks each server's share against the inventory's weights (10 points)."
echo
"$HALOG" drive "$URL" -n "$N1" -c 8 --path / --path /products --path /cart \
	--db "$DB" --inventory "$INV" --backend be_web --tolerance 10
rc=$?
[ $rc = 0 ] || echo "(halog drive exited $rc: see above)"

# ---------------------------------------------------------------------------------------------
h "3b. hagen apply: web1's weight 1 -> 3 on the running haproxy, and the new shares"
echo "hagen server writes the new weight into the inventory (comments and layout kept); hagen"
echo "apply renders it, checks it with haproxy -c, shows the difference, installs it (the old one"
echo "stays as haproxy.cfg.prev), reloads through the master CLI and waits until every server of"
echo "the new worker is UP."
echo
"$HAGEN" server weight web web1 3 --inventory "$INV" --inventory-only 2>&1 | sed 's/^/  /'
if "$HAGEN" apply --config "$(rel "$DEMO_OUT/haproxy.cfg")" --master-socket "$(rel "$DEMO_OUT/master.sock")" \
	--timeout 30 "$INV" >"$DEMO_OUT/apply.out" 2>"$DEMO_OUT/apply.err"; then
	sed 's/^/  /' "$DEMO_OUT/apply.out"
	sed 's/^/  /' "$DEMO_OUT/apply.err"
	echo
	# halog report applies a window exactly (to the millisecond), so the new traffic only needs
	# to start after a whole second that no earlier request reached: the next one
	applied_s=$(($(date +%s) + 1))
	sleep 1
	applied_at=$(date -u -d "@$applied_s" +%Y-%m-%dT%H:%M:%S)
	echo "$N1 requests to /catalog; halog drive checks the shares against the changed inventory:"
	"$HALOG" drive "$URL" -n "$N1" -c 8 --path /catalog \
		--db "$DB" --inventory "$INV" --backend be_web --tolerance 10
	rc=$?
	[ $rc = 0 ] || echo "(halog drive exited $rc: see above)"
	echo
	echo "halog report on be_web since $applied_at UTC, after the apply:"
	"$HALOG" report --db "$DB" --inventory "$INV" --backend be_web --since "$applied_at"
	rc=$?
	[ $rc = 0 ] || [ $rc = 3 ] || echo "(halog report exited $rc)"
else
	cat "$DEMO_OUT/apply.out" "$DEMO_OUT/apply.err"
	echo "(hagen apply failed: see above)"
fi

# ---------------------------------------------------------------------------------------------
h "4. Trouble: slow web3, failing api2, web2 stopped mid-run"
slow=$(awk '$1 == "be_web" { s = $2 } END { print s }' "$DEMO_OUT/servers")
failing=$(awk '$1 == "be_api" { s = $2 } END { print s }' "$DEMO_OUT/servers")
victim=$(awk '$1 == "be_web" && ++n == 2 { print $2 }' "$DEMO_OUT/servers")
[ -n "$slow" ] && curl -s "http://$(awk -v s="$slow" '$2 == s { print $3 }' "$DEMO_OUT/servers")/_ctl/slow?ms=40&jitter=40" >/dev/null &&
	echo "  $slow now answers 40-80 ms late"
[ -n "$failing" ] && curl -s "http://$(awk -v s="$failing" '$2 == s { print $3 }' "$DEMO_OUT/servers")/_ctl/fail?rate=0.2" >/dev/null &&
	echo "  $failing now answers 20% of its requests with 500"
echo "  sending $N2 requests at $RATE/s to /home and /api/items; $victim is stopped after 3 s"
echo "  (the balance check is expected to fail here: $victim serves nothing once it is stopped)"
echo
"$HALOG" drive "$URL" -n "$N2" -c 8 --rate "$RATE" --path /home --path /api/items \
	--db "$DB" --inventory "$INV" --tolerance 10 >"$DEMO_OUT/drive2.out" 2>&1 &
drive_pid=$!
LIB_PIDS="$LIB_PIDS $drive_pid" # stopped with the rest if the demo is interrupted
echo "$drive_pid halog-drive" >>"$DEMO_OUT/pids"
sleep 3
if [ -n "$victim" ]; then
	vpid=$(demo_app_pid "$victim")
	lib_stop "$vpid"
	echo "  [+3 s] stopped $victim (PID $vpid): haproxy retries and redispatches, then its health check marks it DOWN"
fi
wait "$drive_pid"
rc=$?
cat "$DEMO_OUT/drive2.out"
case $rc in
0) ;;
3) echo "(halog drive exited 3: the balance check failed, as a CI job would see it)" ;;
*) echo "(halog drive exited $rc: see above)" ;;
esac
if [ -n "$victim" ]; then
	if wait_for 20 sh -c "[ \"\$('$HALOG' search --db '$DB' --count 'server:$victim state:DOWN' 2>/dev/null)\" -ge 1 ]"; then
		echo "health check: the DOWN event of $victim is stored"
	else
		echo "health check: no DOWN event of $victim within 20 s (see $(rel "$DEMO_OUT/haproxy.log"))"
	fi
fi

# ---------------------------------------------------------------------------------------------
h "5. The alert: $victim DOWN reached the webhook"
echo "halog listen evaluates each 10 s window once it has stored every line received in it;"
echo "the window holding the DOWN event fires, and the payload goes to the receiver."
echo
if wait_for 30 grep -q '"alert":"server-down"' "$HOOK"; then
	"$HALOG" alert log --db "$DB" server-down
	echo
	echo "What the webhook received ($(rel "$HOOK"), the sample lines abridged):"
	head -1 "$HOOK" | sed -E 's/,"sample":\[.*\],"halog"/,"sample":[…],"halog"/' | cut -c1-600
	printf 'sample[0]: '
	head -1 "$HOOK" | sed -n 's/.*"sample":\[{[^}]*"line":"\(\([^"\\]\|\\.\)*\)".*/\1/p' | cut -c1-160
else
	echo "no alert reached the webhook within 30 s (halog alert log --db $(rel "$DB"))"
	"$HALOG" alert log --db "$DB"
fi

# ---------------------------------------------------------------------------------------------
h "6. halog report: the whole run"
echo "Where requests went: share vs expect (from the weights). Which failed and why: errors,"
echo "codes, termination states, error paths, server events. How slow: the latency table in ms"
echo "(TR request, Tw queue, Tc connect, Tr server response, Ta total)."
echo
"$HALOG" report --db "$DB" --inventory "$INV"
rc=$?
[ $rc = 0 ] || [ $rc = 3 ] || echo "(halog report exited $rc)"
for f in markdown json csv; do
	ext=$f
	[ $f = markdown ] && ext=md
	"$HALOG" report --db "$DB" --inventory "$INV" --format $f \
		>"$DEMO_OUT/report.$ext" 2>"$DEMO_OUT/report.$ext.err" || [ $? = 3 ] || rm -f "$DEMO_OUT/report.$ext"
done
# hook: the HTML report (with its chart) is written when this build of halog has it
"$HALOG" report --db "$DB" --inventory "$INV" --format html \
	>"$DEMO_OUT/report.html" 2>/dev/null || [ $? = 3 ] || rm -f "$DEMO_OUT/report.html"

# ---------------------------------------------------------------------------------------------
h "7. Stop"
demo_cleanup
left=$(demo_left_running)
[ -z "$left" ] || die "still running: $left"
echo "stopped all $(wc -l <"$DEMO_OUT/pids") processes the demo started (PIDs in $(rel "$DEMO_OUT/pids"))."
echo
echo "Files in $(rel "$DEMO_OUT")/:"
for f in haproxy.cfg inventory.yaml halog.db report.md report.json report.csv report.html webhook.jsonl haproxy.log listen.log; do
	[ -s "$DEMO_OUT/$f" ] && echo "  $f"
done
echo "Explore the stored logs: $(rel "$HALOG") search --db $(rel "$DB") 'status:500'"
echo "Or in a browser: $(rel "$HALOG") serve --db $(rel "$DB"), then open http://127.0.0.1:8690/"
echo "  ('make demo-serve' does both: it serves this store until Ctrl-C)"
echo "demo finished in $(($(date +%s) - start_s)) s"
