#!/bin/sh
# The demo as a test. Part 1 runs samples/demo.sh (short, free ports) and checks what it left:
# every request sent is stored, be_web's phase-1 split follows 1:1:2, the DOWN event of the
# stopped server is stored, the reports are written, no process is left running. Part 2 builds
# the same stack with samples/demo-lib.sh and checks that `halog drive --inventory --tolerance`
# exits 0 when the weights match the config and 3 when the inventory disagrees with it.
set -u
. "$TOP/tests/lib.sh"
APP=${SAMPLE_APP:-$O/sample-app}
for b in "$HAGEN" "$HALOG" "$APP"; do [ -x "$b" ] || skip "no $b"; done
for c in haproxy curl sqlite3 jq; do command -v $c >/dev/null || skip "$c is not installed"; done
mkdir -p "$TMP"
q() { store_sql "$1" "$2"; }

# ---- part 1: the demo itself -----------------------------------------------------------------
out=$TMP/demo
DEMO_OUT=$out DEMO_N1=200 DEMO_N2=300 DEMO_RATE=100 O=$O sh "$TOP/samples/demo.sh" >"$TMP/demo.out" 2>&1
rc=$?
cat "$TMP/demo.out"
[ $rc = 0 ] || fail "demo exited $rc"
db=$out/halog.db
[ -s "$db" ] || fail "no store"

# sent == logged: each drive says so, and the store holds exactly their requests
grep -q '^drive: sent 200, ok 200, failed 0 (200: 200), logged 200 of 200' "$TMP/demo.out" ||
	fail "phase 1 summary"
grep -Eq '^drive: sent 300, .*logged 300 of 300' "$TMP/demo.out" || fail "phase 2 summary"
n=$(q "$db" "select count(*) from requests where path <> '/_demo/ready'")
[ "$n" = 700 ] || fail "store holds $n requests, the demo sent 700"

# phase 1 (paths /, /products, /cart): be_web split 1:1:2 within 3 points
q "$db" "select server, count(*) from requests where backend = 'be_web' and path in ('/', '/products', '/cart')
	group by 1 order by 1" >"$TMP/split"
cat "$TMP/split"
awk -F'|' '{ n[$1] = $2; t += $2 }
	END {
		if (t != 200) { print "phase 1 total " t; exit 1 }
		split("web1 25 web2 25 web3 50", e, " ")
		for (i = 1; i < 6; i += 2) {
			d = 100 * n[e[i]] / t - e[i + 1]
			if (d > 3 || d < -3) { print e[i] " off by " d " points"; exit 1 }
		}
	}' "$TMP/split" || fail "phase 1 is not balanced 1:1:2"
grep -q '^balance by inventory for be_web: ok' "$TMP/demo.out" || fail "phase 1 verdict"
# the balanced phases (3 and 3b) send to be_web only and check be_web only: they pass (exit 0);
# be_api, idle there, must not fail them
! grep -q '^(halog drive exited [0-9]*: see above)' "$TMP/demo.out" ||
	fail "a drive failed: $(grep -B2 '^(halog drive exited [0-9]*: see above)' "$TMP/demo.out")"

# step 3b: hagen apply moved web1's weight 1 -> 3 on the running haproxy; the traffic after it
# (path /catalog) splits 3:1:2, and halog report since then sees it
grep -q "hagen: apply: reloaded: new worker" "$TMP/demo.out" || fail "the demo did not apply"
grep -q "runs every service; 5 checked servers UP" "$TMP/demo.out" || fail "apply did not verify"
grep -q '^  +    server web1 127.0.0.1:[0-9]* check weight 3$' "$TMP/demo.out" || fail "apply showed no diff"
grep -q 'weight: 3 }' "$out/inventory.yaml" || fail "hagen server did not write the weight"
[ -s "$out/haproxy.cfg.prev" ] || fail "no haproxy.cfg.prev"
q "$db" "select server, count(*) from requests where backend = 'be_web' and path = '/catalog'
	group by 1 order by 1" >"$TMP/split2"
awk -F'|' '{ n[$1] = $2; t += $2 }
	END {
		if (t != 200) { print "after-apply total " t; exit 1 }
		split("web1 50 web2 16.7 web3 33.3", e, " ")
		for (i = 1; i < 6; i += 2) {
			d = 100 * n[e[i]] / t - e[i + 1]
			if (d > 3 || d < -3) { print e[i] " off by " d " points"; exit 1 }
		}
	}' "$TMP/split2" || fail "after the apply, be_web does not split 3:1:2: $(cat "$TMP/split2")"
sed -n '/^halog report on be_web since/,/balance:/p' "$TMP/demo.out" | grep -q '^  web1 *100  50.0%  50.0%' ||
	fail "halog report after the apply does not show web1's new share"

# the stopped server's DOWN event is stored (whether phase 2's balance check fails depends on
# how much of the short phase ran after the stop, so it is not asserted here)
[ "$(q "$db" "select count(*) from events where server = 'web2' and state = 'DOWN'")" -ge 1 ] ||
	fail "no DOWN event for web2: $(q "$db" 'select * from events')"
grep -q 'health check: the DOWN event of web2 is stored' "$TMP/demo.out" || fail "demo did not see the DOWN event"
# api2 failed a share of its requests on purpose: the 500s are stored against it
[ "$(q "$db" "select count(*) from requests where server = 'api2' and status = 500")" -ge 1 ] ||
	fail "no 500 from api2"

# the report files
jq -e '.' "$out/report.json" >/dev/null || fail "report.json is not JSON"
[ -s "$out/report.md" ] || fail "no report.md"
grep -q '^== 6. halog report' "$TMP/demo.out" || fail "no report heading"

# the alert: the window with web2's DOWN event fired once and reached the webhook receiver
# (a sample-app recording POST bodies) with the JSON payload
hook=$out/webhook.jsonl
[ -s "$hook" ] || fail "the webhook received nothing"
jq -e 'select(.alert == "server-down") | .status == "firing" and .count >= 1
	and (.sample | length) >= 1 and (.sample[0].line | test("web2.*DOWN"))
	and .window.seconds == 10 and (.idempotency_key | startswith("halog-"))' "$hook" >/dev/null ||
	fail "the webhook payload: $(head -c 600 "$hook")"
[ "$(q "$db" "select count(*) from alert_log where alert = 'server-down' and event = 'delivered'")" -ge 1 ] ||
	fail "the delivery is not in the alert log"
grep -q 'server-down  delivered' "$TMP/demo.out" || fail "the demo does not show the delivery"
grep -q 'web2 DOWN' "$TMP/demo.out" || fail "the report does not show the DOWN event"

# nothing left running
[ "$(wc -l <"$out/pids")" = 9 ] || fail "expected 9 started processes: $(cat "$out/pids")"
while read -r pid what; do
	kill -0 "$pid" 2>/dev/null && fail "$what (PID $pid) still runs after the demo"
done <"$out/pids"

# ---- part 2: drive --inventory on a live stack ----------------------------------------------
DEMO_OUT=$TMP/stack
mkdir -p "$DEMO_OUT"
: >"$DEMO_OUT/pids"
. "$TOP/samples/demo-lib.sh"
demo_move_ports "$TOP/samples/inventory.yaml" "$DEMO_OUT/inventory.yaml" || fail "ports"
"$HAGEN" "$DEMO_OUT/inventory.yaml" >"$DEMO_OUT/haproxy.cfg" || fail "render"
demo_parse_cfg "$DEMO_OUT/haproxy.cfg"
STATS_PASSWORD=test
export STATS_PASSWORD
demo_start_apps || fail "apps"
demo_start_listen || fail "listen"
url=http://$(demo_bind fe_web)
demo_start_haproxy "$DEMO_OUT/haproxy.cfg" "$url/_ready" || fail "haproxy"
sdb=$DEMO_OUT/halog.db

# the run goes through be_web only: be_web is its scope (--backend), or be_api's silence is
# allowed (--allow-idle); without either, be_api got none of the run: that fails the check
"$HALOG" drive "$url" -n 200 -c 4 --db "$sdb" --inventory "$DEMO_OUT/inventory.yaml" \
	--backend be_web --tolerance 5 >"$TMP/good.out" 2>&1
rc=$?
cat "$TMP/good.out"
[ $rc = 0 ] || fail "balanced run: exit $rc"
"$HALOG" drive "$url" -n 40 -c 4 --db "$sdb" --inventory "$DEMO_OUT/inventory.yaml" \
	--tolerance 5 --allow-idle >"$TMP/idle-ok.out" 2>&1
rc=$?
[ $rc = 0 ] || fail "--allow-idle run: exit $rc: $(cat "$TMP/idle-ok.out")"
grep -q '^balance by inventory for be_api: not checked (no traffic in this run, allowed)' \
	"$TMP/idle-ok.out" || fail "allowed idle service not reported: $(cat "$TMP/idle-ok.out")"
"$HALOG" drive "$url" -n 40 -c 4 --db "$sdb" --inventory "$DEMO_OUT/inventory.yaml" \
	--tolerance 5 >"$TMP/idle.out" 2>&1
rc=$?
[ $rc = 3 ] || fail "idle service: exit $rc, expected 3: $(cat "$TMP/idle.out")"
grep -q '^balance by inventory for be_api: FAILED, no traffic in this run' "$TMP/idle.out" ||
	fail "idle service verdict: $(cat "$TMP/idle.out")"

# a renamed service: the inventory says www, haproxy still logs be_web (rendered from the old
# name): be_web is not in the inventory and be_www got nothing; both fail the check
sed '/^services:/,$ s/^  web:$/  www:/' "$DEMO_OUT/inventory.yaml" >"$DEMO_OUT/renamed.yaml"
! cmp -s "$DEMO_OUT/inventory.yaml" "$DEMO_OUT/renamed.yaml" || fail "could not rename the service"
"$HALOG" drive "$url" -n 40 -c 4 --db "$sdb" --inventory "$DEMO_OUT/renamed.yaml" \
	--tolerance 5 --format json >"$TMP/renamed.json" 2>/dev/null
rc=$?
[ $rc = 3 ] || fail "renamed service: exit $rc, expected 3"
jq -e '[.balance[] | select(.result == "failed") | "\(.backend) \(.reason)"] | sort ==
	["be_api idle", "be_web unlisted", "be_www idle"]' "$TMP/renamed.json" >/dev/null ||
	fail "renamed service verdicts: $(cat "$TMP/renamed.json")"

# an inventory that says web3 has weight 1 (the config gives it 2): 50% seen, 33.3% expected
sed 's/name: web3, address: \("[^"]*"\), weight: 2/name: web3, address: \1, weight: 1/' \
	"$DEMO_OUT/inventory.yaml" >"$DEMO_OUT/wrong.yaml"
! cmp -s "$DEMO_OUT/inventory.yaml" "$DEMO_OUT/wrong.yaml" || fail "could not write the wrong inventory"
"$HALOG" drive "$url" -n 200 -c 4 --db "$sdb" --inventory "$DEMO_OUT/wrong.yaml" \
	--backend be_web --tolerance 5 >"$TMP/bad.out" 2>&1
rc=$?
cat "$TMP/bad.out"
[ $rc = 3 ] || fail "unbalanced run: exit $rc, expected 3"
grep -q '^balance by inventory for be_web: FAILED, largest deviation 16.7 points (web3)' "$TMP/bad.out" ||
	fail "unbalanced verdict"
# the same check in JSON names the failing backend
"$HALOG" drive "$url" -n 40 -c 4 --db "$sdb" --inventory "$DEMO_OUT/wrong.yaml" --format json \
	>"$TMP/bad.json" 2>/dev/null
[ $? = 3 ] || fail "json unbalanced run: exit not 3"
jq -e '.balance[] | select(.backend == "be_web") | .result == "failed"' "$TMP/bad.json" >/dev/null ||
	fail "json verdict: $(cat "$TMP/bad.json")"

lib_stop "$DEMO_PID_HAPROXY"
lib_stop "$DEMO_PID_LISTEN"
lib_stop_all
left=$(demo_left_running)
[ -z "$left" ] || fail "still running: $left"
echo "demo e2e: all checks passed"
