#!/bin/sh
# halog drive through a real haproxy (hand-written config, weights 1:1:2, roundrobin) in front
# of three sample-apps: the client-side tally follows the weights, --weights/--tolerance exits 0
# on the real weights and 3 on wrong ones, failures and paths are counted, bad flags exit 2.
set -u
. "$TOP/tests/e2e/drive-lib"
drive_start_apps
cat >"$TMP/haproxy.cfg" <<EOF
global
	maxconn 1000
defaults
	mode http
	timeout connect 2s
	timeout client 10s
	timeout server 10s
	retries 2
	option redispatch
frontend fe_web
	bind 127.0.0.1:$fe
	default_backend be_web
backend be_web
	balance roundrobin
	option httpchk
	http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost
	http-check expect status 200
	default-server check inter 200ms fall 2 rise 1
	server web1 127.0.0.1:$port1 weight 1
	server web2 127.0.0.1:$port2 weight 1
	server web3 127.0.0.1:$port3 weight 2
EOF
haproxy -c -q -f "$TMP/haproxy.cfg" || fail "config rejected"
lib_start "$TMP/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg" >/dev/null
hap=$_pid
url=http://127.0.0.1:$fe
wait_for 10 curl -sf "$url/" || fail "haproxy did not come up: $(cat "$TMP/haproxy.log")"

# balanced: 400 requests, 1:1:2 within 2 percentage points
"$HALOG" drive "$url" -n 400 -c 8 --path / --path /a --path /b/c \
	--weights web1=1,web2=1,web3=2 --tolerance 2 >"$TMP/ok.out" 2>&1
rc=$?
cat "$TMP/ok.out"
[ $rc = 0 ] || fail "balanced run exited $rc"
grep -q '^drive: sent 400, ok 400, failed 0 (200: 400)' "$TMP/ok.out" || fail "summary line"
for s in web1 web2 web3; do
	grep -Eq "^  $s +[0-9]+ " "$TMP/ok.out" || fail "no tally for $s"
done
n3=$(awk '$1 == "web3" { print $2; exit }' "$TMP/ok.out")
[ "$n3" -ge 190 ] && [ "$n3" -le 210 ] || fail "web3 got $n3 of 400, expected about 200"

# the same traffic against weights that disagree with the config: exit 3
"$HALOG" drive "$url" -n 200 -c 4 --weights web1=1,web2=1,web3=1 --tolerance 10 >"$TMP/bad.out" 2>&1
rc=$?
[ $rc = 3 ] || { cat "$TMP/bad.out"; fail "unbalanced run exited $rc, expected 3"; }
grep -q 'OUT OF TOLERANCE' "$TMP/bad.out" || fail "no explanation of the failed check"
grep -q '^balance by X-Server: FAILED, largest deviation 16.7 points (web3), tolerance 10' "$TMP/bad.out" ||
	fail "verdict line: $(grep '^balance' "$TMP/bad.out")"

# a failing server: its 500s are counted as failed and attributed to it
curl -s "http://127.0.0.1:$port2/_ctl/fail?rate=1" >/dev/null
"$HALOG" drive "$url" -n 100 -c 4 --format json >"$TMP/fail.json" 2>"$TMP/fail.err" || fail "json run"
jq -e '.sent == 100 and .by_status["500"] == 25 and .ok == 75 and
	([.servers[] | select(.name == "web2")][0] | .n == 25 and .ok == 0)' "$TMP/fail.json" >/dev/null ||
	fail "failures not tallied: $(cat "$TMP/fail.json")"
curl -s "http://127.0.0.1:$port2/_ctl/fail?rate=0" >/dev/null

# a Host header reaches the server (haproxy passes it on); fresh connections work too
"$HALOG" drive "$url" -n 10 -c 2 -H 'Host: shop.test' --fresh-conn --quiet >"$TMP/q.out" 2>&1 || fail "-H/--fresh-conn run"
[ "$(wc -l <"$TMP/q.out")" = 1 ] || fail "--quiet printed more than the summary"

# nobody listening: no answer at all is an error (exit 1), and the reason is given
dead=$(free_port)
"$HALOG" drive "http://127.0.0.1:$dead" -n 3 >"$TMP/dead.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "dead URL exited $rc"
grep -q "Couldn't connect" "$TMP/dead.out" || fail "no reason for the failures"

# usage errors: exit 2
for args in "" "-n 0 $url" "-c 5000 $url" "ftp://x/" "$url --path nope" "$url -H novalue" \
	"$url --tolerance 101" "$url --weights a=0" "$url --weights a=1, --tolerance 3" \
	"$url --inventory x.yaml" "$url --report" "$url -e ci" "$url --format xml" "$url extra" \
	"$url --rate 0" "$url --nope"; do
	# shellcheck disable=SC2086
	"$HALOG" drive $args >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ] || fail "'drive $args' exited $rc, expected 2"
done
"$HALOG" drive --help | grep -q '^usage: halog drive' || fail "--help"

lib_stop "$hap"
echo "drive through haproxy: all checks passed"
