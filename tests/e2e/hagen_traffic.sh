#!/bin/sh
# Real traffic through a hagen-rendered config: the course inventory with its ports rewritten to
# free ones, python http.server backends, haproxy in the foreground; checks weighted balancing
# (1:1:2), path routing (/api), the stats page and Prometheus metrics behind basic auth, the health
# URI; then the minimal sample. Every process is stopped by its PID.
. "$TOP/tests/lib.sh"
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY_BIN" ] || skip "haproxy not installed"
command -v curl >/dev/null 2>&1 || skip "curl not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
mkdir -p "$TMP"

# start_backend NAME PORT [SUBDIR]: serves a directory whose /health and /[SUBDIR/]who name it
start_backend() {
	d=$TMP/www-$1
	mkdir -p "$d/${3:-.}"
	echo ok >"$d/health"
	echo "$1" >"$d/${3:-.}/who"
	lib_start "$TMP/$1.log" python3 -m http.server --bind 127.0.0.1 --directory "$d" "$2" >/dev/null
	wait_for 10 curl -fsS "http://127.0.0.1:$2/health" || fail "backend $1 did not start"
}

FE=$(free_port); ST=$(free_port); LG=$(free_port)
W1=$(free_port); W2=$(free_port); W3=$(free_port); A1=$(free_port); A2=$(free_port)
sed -e "s/127.0.0.1:8080/127.0.0.1:$FE/; s/127.0.0.1:8404/127.0.0.1:$ST/; s/127.0.0.1:5140/127.0.0.1:$LG/" \
	-e "s/127.0.0.1:9001/127.0.0.1:$W1/; s/127.0.0.1:9002/127.0.0.1:$W2/; s/127.0.0.1:9003/127.0.0.1:$W3/" \
	-e "s/127.0.0.1:9101/127.0.0.1:$A1/; s/127.0.0.1:9102/127.0.0.1:$A2/" \
	"$TOP/samples/inventory.yaml" >"$TMP/inventory.yaml"
grep -q "127.0.0.1:$W3" "$TMP/inventory.yaml" || fail "port rewrite failed"
"$HAGEN" render -o "$TMP/haproxy.cfg" "$TMP/inventory.yaml" || fail "hagen render"

start_backend web1 "$W1"; start_backend web2 "$W2"; start_backend web3 "$W3"
start_backend api1 "$A1" api; start_backend api2 "$A2" api

export STATS_PASSWORD=s3cret
lib_start "$TMP/haproxy.log" "$HAPROXY_BIN" -db -f "$TMP/haproxy.cfg"; HP=$LIB_LAST_PID
wait_for 10 curl -fsS "http://127.0.0.1:$ST/healthz" || { cat "$TMP/haproxy.log"; fail "haproxy did not start"; }
lib_alive "$HP" || fail "haproxy exited"

# weighted round robin: 8 requests to the default service give web1:web2:web3 = 2:2:4
: >"$TMP/who"
i=0
while [ $i -lt 8 ]; do
	curl -fsS "http://127.0.0.1:$FE/who" >>"$TMP/who" || fail "request $i through haproxy failed"
	i=$((i + 1))
done
sort "$TMP/who" | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ' >"$TMP/dist"
echo "default service: $(cat "$TMP/dist")"
[ "$(cat "$TMP/dist")" = "web1=2 web2=2 web3=4 " ] || fail "weights 1,1,2 not honoured: $(cat "$TMP/dist")"

# /api goes to the api service, alternating over its two servers (leastconn, idle)
: >"$TMP/api"
for i in 1 2 3 4; do curl -fsS "http://127.0.0.1:$FE/api/who" >>"$TMP/api" || fail "/api request failed"; done
grep -q '^api[12]$' "$TMP/api" || fail "/api not routed to the api service: $(cat "$TMP/api")"
grep -q web "$TMP/api" && fail "/api answered by a web server"

# stats: 401 without credentials, 200 with the password from STATS_PASSWORD
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ST/stats")
[ "$code" = 401 ] || fail "stats without auth gave $code, expected 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:s3cret "http://127.0.0.1:$ST/stats")
[ "$code" = 200 ] || fail "stats with auth gave $code, expected 200"
# the Prometheus exporter sits behind the same auth as the page (issue 11 §4)
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ST/metrics")
[ "$code" = 401 ] || fail "metrics without auth gave $code, expected 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:wrong "http://127.0.0.1:$ST/metrics")
[ "$code" = 401 ] || fail "metrics with a wrong password gave $code, expected 401"
curl -fsS -u admin:s3cret -o "$TMP/metrics" "http://127.0.0.1:$ST/metrics" || fail "metrics request with auth failed"
grep -q '^haproxy_backend_' "$TMP/metrics" || fail "no prometheus metrics"
lib_stop "$HP"

# an empty STATS_PASSWORD would make HAProxy accept an empty password: the page is refused
STATS_PASSWORD= lib_start "$TMP/haproxy-nopw.log" "$HAPROXY_BIN" -db -f "$TMP/haproxy.cfg"; HP=$LIB_LAST_PID
wait_for 10 curl -fsS "http://127.0.0.1:$ST/healthz" || { cat "$TMP/haproxy-nopw.log"; fail "haproxy (empty password) did not start"; }
code=$(curl -s -o "$TMP/nopw" -w '%{http_code}' -u admin: "http://127.0.0.1:$ST/stats")
[ "$code" = 503 ] || fail "stats with an empty STATS_PASSWORD gave $code, expected 503"
grep -q 'STATS_PASSWORD is empty' "$TMP/nopw" || fail "the 503 does not say why: $(cat "$TMP/nopw")"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin: "http://127.0.0.1:$ST/metrics")
[ "$code" = 503 ] || fail "metrics with an empty STATS_PASSWORD gave $code, expected 503"
lib_stop "$HP"

# the minimal sample, ports rewritten, one backend
FE=$(free_port); B1=$(free_port); B2=$(free_port)
sed -e "s/127.0.0.1:8080/127.0.0.1:$FE/; s/127.0.0.1:9001/127.0.0.1:$B1/; s/127.0.0.1:9002/127.0.0.1:$B2/" \
	"$TOP/samples/minimal.yaml" >"$TMP/minimal.yaml"
"$HAGEN" "$TMP/minimal.yaml" >"$TMP/minimal.cfg" || fail "hagen minimal"
start_backend app1 "$B1"
lib_start "$TMP/haproxy2.log" "$HAPROXY_BIN" -db -f "$TMP/minimal.cfg"; HP=$LIB_LAST_PID
wait_for 10 curl -fsS "http://127.0.0.1:$FE/who" || { cat "$TMP/haproxy2.log"; fail "minimal: no answer"; }
# app2 is down: after its checks fail every request still succeeds on app1
ok=0
for i in 1 2 3 4 5 6; do curl -fsS "http://127.0.0.1:$FE/who" 2>/dev/null | grep -q app1 && ok=$((ok + 1)); sleep 0.5; done
[ $ok -ge 4 ] || fail "minimal: only $ok of 6 requests answered by app1"
echo "traffic flows through the rendered configurations"
