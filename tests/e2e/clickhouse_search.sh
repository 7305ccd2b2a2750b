#!/bin/sh
# e2e: search and tail over ClickHouse, whose query goes into the SQL as a predicate that passes
# at least the query's lines (store/chquery.c), find exactly what the SQLite store fed the same
# lines finds: for queries over every field, comparison, operator, negation, words and phrases
# in any case, names with bytes outside ASCII and quotes, and absent values; in pages of the
# default size and of 7 rows; --count and --histogram (read in SQL when the predicate is
# exact) too.
set -u
. "$TOP/tests/e2e/clickhouse-lib"
ch_corpus
ch_halog ch1

"$LOGGEN" --lines 5000 --format mixed >"$TMP/gen.log" || fail "loggen"
# names and words that a byte-wise or case-folding mistake would lose or add: bytes outside
# ASCII (in upper and lower case), quotes, backslashes, LIKE's and GLOB's metacharacters
H='<134>Dec  1 00:00:09 lb1 haproxy[4242]:'
E=$(printf '\303\251') UA=$(printf '\303\204') LA=$(printf '\303\244')
printf '%s\n' \
	"$H 10.1.2.3:4000 [01/Dec/2025:00:00:09.001] fe_x be_api/api1 0/0/1/2/3 200 10 - - ---- 1/1/1/1/0 0/0 \"GET /caf$E/${UA}BC?x=1 HTTP/1.1\"" \
	"$H 10.1.2.4:4000 [01/Dec/2025:00:00:09.002] fe_x be_api/api1 0/0/1/2/3 503 10 - - sC-- 1/1/1/1/0 0/0 \"GET /p%5F_c*d?[x] HTTP/1.1\"" \
	"$H 10.1.2.5:4000 [01/Dec/2025:00:00:09.003] fe_x be_it's/s\\1 0/0/1/2/3 404 10 - - ---- 1/1/1/1/0 0/0 \"GET /it's/a\\b HTTP/1.1\"" \
	"$H 10.1.2.6:4000 [01/Dec/2025:00:00:09.004] fe_x be_api/api1 0/0/1/2/3 200 10 - - ---- 1/1/1/1/0 0/0 \"GET /${LA}bc HTTP/1.1\"" \
	>"$TMP/odd.log"
"$HALOG" ingest --db "$TMP/a.db" --sink "$URL" "$TMP/gen.log" "$TMP/odd.log" "$CORPUS"/udp/*.log \
	"$CORPUS"/rsyslog-files/*.log >"$TMP/ingest.log" 2>&1 || { cat "$TMP/ingest.log"; fail "ingest"; }
grep -q "overflow 0, spooled 0 " "$TMP/ingest.log" || { cat "$TMP/ingest.log"; fail "the sink did not insert everything"; }
sleep 3 # the end of a ClickHouse store lags the clock by 2 s (store/chread.c, CH_SETTLE_MS)

checked=0
# every query: the lines, their count, their hit graph, the newest 5 (search's newest N and
# tail read alike: newest first, under a limit)
run_queries() {
	while IFS= read -r qy; do
		[ -n "$qy" ] || continue
		same_cmd search -n 0 --raw -- "$qy"
		same_cmd search --count -- "$qy"
		same_cmd search --histogram --bucket 2s -- "$qy"
		same_cmd search -n 5 -- "$qy"
	done <<'Q'
status:503
status:5xx
status:>=400 status:<500
-status:200
NOT status:2xx NOT status:3xx
ta:>500
be_api ta:>500
tq:>0
tw:>=1
tc:<=0
tr:>100 tr:<200
ta:1674
bytes:>1M
bytes:<=1k
retries:>0
-retries:0
backend:api
backend:=api
backend:be_app
backend:*stat*
-backend:be_app
backend:*
server:api1
server:*1
-server:api1
frontend:fe_api
frontend:fe_http*
frontend:*http*
frontend:*~
-frontend:fe_api
-frontend:fe_*
path:/api/v1
path:/static/*.css
path:*/stock
path:/caf
-path:/api
path:*
state:sD
term:SC
state:?D
term:CD--
-state:--
state:s
kind:http
kind:tcp OR kind:connect
kind:event
kind:conn_error
-kind:http
parse:partial OR parse:bad
-parse:ok
source:*
host:lb1
program:haproxy
method:post
client:10.0.0.0/8
-client:10.0.0.0/8
/v[12]/i
-/orders/
api
API
"Connection refused"
"red shoes"
-"GET"
café
CAFÉ
äbc
ÄBC
it's
a\b
"it's/a\\b"
p%5F_c
[x]
be_it's
backend:"be_it's"
server:"s\\1"
path:"/it's"
(be_app OR fe_dl) NOT status:2xx NOT tc:>10
status:503 OR ta:>1000
(status:503 OR path:/api) -kind:tcp
NOT (status:503 OR /x/)
NOT (backend:api OR status:404)
-(frontend:fe_api path:/api/v2)
(api OR static) (status:200 OR status:304) -bytes:<100
Q
}
run_queries
echo "ok: $checked searches, counts, hit graphs and newest 5 equal from SQLite and ClickHouse"

# pages of 7 rows: the predicate's rows through many windows, oldest and newest first
URL="$URL&page=7"
checked=0
for qy in status:5xx 'be_api ta:>500' '-status:200 kind:http' '"Connection refused"' 'state:sD'; do
	same_cmd search -n 0 --raw -- "$qy"
	same_cmd tail -n 30 -- "$qy"
done
echo "ok: $checked searches and tails equal in pages of 7 rows"
