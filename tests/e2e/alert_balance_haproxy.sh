#!/bin/sh
# e2e: alerts on real haproxy traffic. The sample inventory is rendered by hagen and served by
# Debian's haproxy in front of sample-apps, logging to halog listen. Within one minute: 120
# balanced requests (`halog alert test` says the balance alert would not fire), then web2 is
# stopped and 360 more requests go out. When that minute closes, the balance alert
# (--balance inventory.yaml --tolerance 10, 1m windows, halog report's own rule) fires with
# be_web out of tolerance and web2 the worst server, and a 10 s alert on the DOWN event fires
# as well; both reach the HTTP receiver.
set -u
. "$TOP/tests/e2e/alert-lib"
APP=${SAMPLE_APP:-$O/sample-app}
for b in "$HAGEN" "$APP"; do [ -x "$b" ] || skip "no $b"; done
for c in haproxy curl; do command -v $c >/dev/null || skip "$c is not installed"; done
DEMO_OUT=$TMP/stack
mkdir -p "$DEMO_OUT"
: >"$DEMO_OUT/pids"
. "$TOP/samples/demo-lib.sh"
demo_move_ports "$TOP/samples/inventory.yaml" "$DEMO_OUT/inventory.yaml" || fail "ports"
"$HAGEN" "$DEMO_OUT/inventory.yaml" >"$DEMO_OUT/haproxy.cfg" || fail "render"
demo_parse_cfg "$DEMO_OUT/haproxy.cfg"
STATS_PASSWORD=test
export STATS_PASSWORD
W=$(demo_free_port) || fail "no free port"
start_receiver "$W" "$TMP/recv.log"
demo_start_apps || fail "apps"
demo_start_listen || fail "listen"
DB=$DEMO_OUT/halog.db
"$HALOG" alert add balance --db "$DB" --balance "$DEMO_OUT/inventory.yaml" --tolerance 10 \
	--backend be_web --min-requests 50 --every 1m --webhook "http://127.0.0.1:$W/balance" ||
	fail "alert add balance"
"$HALOG" alert add down --db "$DB" --query 'kind:server state:DOWN' --when 'count >= 1' \
	--every 10s --webhook "http://127.0.0.1:$W/down" --format slack || fail "alert add down"
url=http://$(demo_bind fe_web)
demo_start_haproxy "$DEMO_OUT/haproxy.cfg" "$url/_ready" || fail "haproxy"

# a minute M that starts now: wait for its first second (at most a minute)
while [ $(( $(date +%s) % 60 )) -ne 1 ]; do sleep 0.2; done
M=$(( $(date +%s) / 60 * 60 ))
"$HALOG" drive "$url" -n 120 -c 4 --path / --db "$DB" --quiet >"$TMP/d1.out" 2>&1 || { cat "$TMP/d1.out"; fail "balanced drive"; }
"$HALOG" alert test --db "$DB" balance >"$TMP/test.json" 2>"$TMP/test.err" || fail "alert test"
cat "$TMP/test.err"
grep -q 'balance would not fire' "$TMP/test.err" || fail "the balanced traffic would fire"
lib_stop "$(demo_app_pid web2)"
"$HALOG" drive "$url" -n 360 -c 4 --path / --db "$DB" --quiet >"$TMP/d2.out" 2>&1
cat "$TMP/d2.out"
[ $(( $(date +%s) / 60 * 60 )) = "$M" ] || skip "the traffic did not fit in one minute (machine too slow)"

# M closes; the balance alert fires and is delivered; so is the DOWN alert
wait_for 90 grep -q '"/balance"' "$TMP/recv.log" || { "$HALOG" alert log --db "$DB"; fail "the balance alert did not reach the receiver"; }
wait_for 30 grep -q '"/down"' "$TMP/recv.log" || { "$HALOG" alert log --db "$DB"; fail "the DOWN alert did not reach the receiver"; }
"$HALOG" alert log --db "$DB"
ok=$(pyq "[1 for l in lines if l['path']=='/balance' and l['answer']=='200'
	and l['body']['alert']=='balance' and l['body']['window']['start_ms']==$M*1000
	and l['body']['window']['seconds']==60 and l['body']['tolerance']==10
	and [b for b in l['body']['backends'] if b['backend']=='be_web' and b['out_of_tolerance']
	     and b['worst']=='web2' and b['max_deviation'] > 10
	     and [s for s in b['servers'] if s['server']=='web2' and s['expected']==25.0]]]" "$TMP/recv.log")
[ "$ok" = 1 ] || { head -c 2000 "$TMP/recv.log"; fail "the balance payload does not name be_web and web2"; }
pyq "[l['body']['text'] for l in lines if l['path']=='/down']" "$TMP/recv.log" | grep -q 'halog alert down firing: count = ' ||
	fail "the DOWN alert's Slack text"
# the report of the same minute agrees with the alert (one rule: report's)
"$HALOG" report --db "$DB" --since "@$M" --until "@$((M + 60))" --backend be_web \
	--inventory "$DEMO_OUT/inventory.yaml" --check-balance 10 >"$TMP/report.txt" 2>&1
[ $? = 3 ] || { cat "$TMP/report.txt"; fail "halog report does not fail the same minute"; }

lib_stop "$DEMO_PID_HAPROXY"
lib_stop "$DEMO_PID_LISTEN"
lib_stop_all
echo "ok: balance alert fired on be_web (web2 stopped) for the minute halog report fails; DOWN alert fired"
