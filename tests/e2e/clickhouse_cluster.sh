#!/bin/sh
# e2e: a sharded ClickHouse: two clickhouse-server processes as the two shards of a cluster
# (remote_servers, no ZooKeeper) behind Distributed tables; three HAProxy instances on loopback,
# each logging to its own `halog listen --db none --sink clickhouse://…?cluster=halog` (two
# listeners insert through one server, one through the other), and all three also to one
# reference listener with a SQLite store. The report over the cluster equals the reference
# store's, per backend and server, and the balance check gives the same verdict.
set -u
. "$TOP/tests/e2e/listen-lib"
. "$TOP/tests/e2e/clickhouse-lib"
command -v haproxy >/dev/null 2>&1 || skip "haproxy missing"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"

ports=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
	p=$(free_port) || fail "no free port"
	ports="$ports $p"
done
set -- $ports
H1=$1 T1=$2 H2=$3 T2=$4 L1=$5 L2=$6 L3=$7 R=$8 F1=$9
shift 9
F2=$1 F3=$2 A1=$3 A2=$4 A3=$5

cluster="<halog><shard><replica><host>127.0.0.1</host><port>$T1</port></replica></shard><shard><replica><host>127.0.0.1</host><port>$T2</port></replica></shard></halog>"
ch_config ch1 "$H1" "$T1" "$cluster"
ch_config ch2 "$H2" "$T2" "$cluster"
ch_start ch1 "$H1"
ch_start ch2 "$H2"
U1="clickhouse://127.0.0.1:$H1/halog?cluster=halog"
U2="clickhouse://127.0.0.1:$H2/halog?cluster=halog"
for u in "$U1" "$U2"; do
	"$HALOG" clickhouse init "$u" >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; fail "init $u"; }
done

# the listeners: one per HAProxy into the cluster, and the reference. A batch goes to one shard
# whole (the sharding key is its id), and a listener that gets its 601 lines within a second
# sends one or two batches: with batches of 50 rows (13 or more a listener, 39 in all), both
# shards get rows but once in 2^38 runs, instead of one run in a few.
start_listener "$TMP/l1.log" --db none --sink "$U1&spool=$TMP/l1.spool&batch=50" --bind "udp://127.0.0.1:$L1" --no-alerts
p1=$lpid
start_listener "$TMP/l2.log" --db none --sink "$U2&spool=$TMP/l2.spool&batch=50" --bind "udp://127.0.0.1:$L2" --no-alerts
p2=$lpid
start_listener "$TMP/l3.log" --db none --sink "$U1&spool=$TMP/l3.spool&batch=50" --bind "udp://127.0.0.1:$L3" --no-alerts
p3=$lpid
start_listener "$TMP/ref.log" --db "$TMP/ref.db" --bind "udp://127.0.0.1:$R" --no-alerts
pr=$lpid

# the application: three servers answering on their own ports, /err with a 503
cat >"$TMP/app.cfg" <<CFG
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend app
    bind 127.0.0.1:$A1
    bind 127.0.0.1:$A2
    bind 127.0.0.1:$A3
    http-request return status 503 content-type text/plain string down if { path_beg /err }
    http-request return status 200 content-type text/plain string ok
CFG
lib_start "$TMP/app.log" haproxy -db -f "$TMP/app.cfg" >/dev/null
# three load balancers, weighted servers (1:2:3), each logging to its listener and the reference
i=0
for pair in "$F1 $L1" "$F2 $L2" "$F3 $L3"; do
	i=$((i + 1))
	set -- $pair
	cat >"$TMP/lb$i.cfg" <<CFG
global
    log 127.0.0.1:$2 local0
    log 127.0.0.1:$R local0
defaults
    log global
    mode http
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe_lb
    bind 127.0.0.1:$1
    use_backend be_api if { path_beg /api }
    default_backend be_web
backend be_web
    balance roundrobin
    server w1 127.0.0.1:$A1 weight 1
    server w2 127.0.0.1:$A2 weight 2
    server w3 127.0.0.1:$A3 weight 3
backend be_api
    balance roundrobin
    server a1 127.0.0.1:$A1
    server a2 127.0.0.1:$A2
CFG
	haproxy -c -q -f "$TMP/lb$i.cfg" || fail "haproxy rejects lb$i.cfg"
	lib_start "$TMP/lb$i.log" haproxy -db -f "$TMP/lb$i.cfg" >/dev/null
done
for f in "$F1" "$F2" "$F3"; do
	wait_for 10 curl -fsS -o /dev/null "http://127.0.0.1:$f/warmup" || fail "lb on $f did not answer"
done

# 600 requests through each load balancer: web pages, API calls, errors
N=600
python3 - "$N" "$F1" "$F2" "$F3" <<'PY' || fail "traffic"
import http.client, sys
n = int(sys.argv[1])
for port in sys.argv[2:]:
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    for i in range(n):
        path = "/api/v1/items/%d" % i if i % 3 == 0 else "/err/%d" % i if i % 17 == 0 else "/page/%d" % (i % 40)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
    c.close()
PY
total=$((3 * (N + 1)))
# every request line in the reference store (counted through halog, whatever its layout)
refcount() { "$HALOG" search --db "$TMP/ref.db" --count kind:http 2>/dev/null || echo 0; }
wait_for 60 sh -c "[ \"\$('$HALOG' search --db '$TMP/ref.db' --count kind:http 2>/dev/null || echo 0)\" -ge $total ]" ||
	fail "the reference store holds $(refcount) requests, want $total"
stop_listener "$p1" "$TMP/l1.log"
stop_listener "$p2" "$TMP/l2.log"
stop_listener "$p3" "$TMP/l3.log"
for l in l1 l2 l3; do
	cat "$TMP/$l.log"
	grep -q "overflow 0, spooled 0 " "$TMP/$l.log" || fail "$l: not everything was inserted"
done
stop_listener "$pr" "$TMP/ref.log"
got=$(chq "$H1" "SELECT count() FROM halog.lines_all WHERE kind = 1 FORMAT TSV")
[ "$got" = "$total" ] || fail "the cluster holds $got request lines, want $total"
s1=$(chq "$H1" "SELECT count() FROM halog.lines FORMAT TSV")
s2=$(chq "$H2" "SELECT count() FROM halog.lines FORMAT TSV")
echo "shards: $s1 and $s2 lines"
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "one shard holds nothing: $s1 / $s2"

# the reports: from either server of the cluster, equal to the reference store's
for u in "$U1" "$U2"; do
	for f in text json; do
		"$HALOG" report --db "$TMP/ref.db" --format "$f" --paths >"$TMP/s.out" 2>&1 || fail "report ref"
		"$HALOG" report --db "$u" --format "$f" --paths >"$TMP/c.out" 2>&1 || fail "report cluster: $(cat "$TMP/c.out")"
		cmp -s "$TMP/s.out" "$TMP/c.out" || { diff "$TMP/s.out" "$TMP/c.out" | head -20; fail "report $f from $u differs"; }
	done
done
# the balance check: the same verdict (exit 3) and the same reasons
"$HALOG" report --db "$TMP/ref.db" --check-balance 5 >"$TMP/s.out" 2>"$TMP/s.err"; r1=$?
"$HALOG" report --db "$U2" --check-balance 5 >"$TMP/c.out" 2>"$TMP/c.err"; r2=$?
[ "$r1" = 3 ] || fail "the reference's balance check exited $r1, want 3 (weights 1:2:3 against an even share)"
[ "$r1" = "$r2" ] && cmp -s "$TMP/s.err" "$TMP/c.err" || { cat "$TMP/s.err" "$TMP/c.err"; fail "balance verdicts differ: $r1 / $r2"; }
"$HALOG" report --db "$TMP/ref.db" --backend be_api --check-balance 5 >/dev/null 2>&1; r1=$?
"$HALOG" report --db "$U1" --backend be_api --check-balance 5 >/dev/null 2>&1; r2=$?
[ "$r1" = 0 ] && [ "$r2" = 0 ] || fail "be_api is even: verdicts $r1 / $r2, want 0"
# searches through the Distributed table (the query's predicate all in its WHERE, no PREWHERE):
# the same lines and counts as the reference store (raw lines sorted: the receive times and
# so the order are each store's own)
for qy in 'path:/err' '-path:/page kind:http' 'GET items' 'path:/page/1*' 'ta:>=0 /api/v1'; do
	"$HALOG" search --db "$TMP/ref.db" --count -- "$qy" >"$TMP/s.out" 2>&1 || fail "search ref $qy"
	"$HALOG" search --db "$U1" --count -- "$qy" >"$TMP/c.out" 2>&1 || fail "search cluster $qy: $(cat "$TMP/c.out")"
	cmp -s "$TMP/s.out" "$TMP/c.out" || fail "search --count $qy: $(cat "$TMP/s.out") from the reference, $(cat "$TMP/c.out") from the cluster"
	"$HALOG" search --db "$TMP/ref.db" -n 0 --raw -- "$qy" >"$TMP/s.raw" 2>&1 || fail "search ref $qy"
	sort "$TMP/s.raw" >"$TMP/s.out"
	"$HALOG" search --db "$U2" -n 0 --raw -- "$qy" >"$TMP/c.raw" 2>&1 || fail "search cluster $qy: $(cat "$TMP/c.raw")"
	sort "$TMP/c.raw" >"$TMP/c.out"
	[ -s "$TMP/s.out" ] || fail "search $qy: no lines"
	cmp -s "$TMP/s.out" "$TMP/c.out" || { diff "$TMP/s.out" "$TMP/c.out" | head; fail "search $qy differs"; }
done
echo "ok: $total requests through 3 HAProxy and 3 listeners into 2 shards; reports, balance verdicts and searches equal"
