#!/bin/sh
# halog drive --db: haproxy (hand-written config) logs to halog listen; drive waits until every
# request it sent is stored, reports "logged N of N", and its window holds exactly its requests
# (a request sent before the run is outside it). Missing log lines make it exit 1.
set -u
. "$TOP/tests/e2e/drive-lib"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
drive_start_apps
lg=$(free_port) || fail "no free port"
cat >"$TMP/haproxy.cfg" <<EOF
global
	log 127.0.0.1:$lg format rfc3164 local0 info
defaults
	mode http
	log global
	option httplog
	timeout connect 2s
	timeout client 10s
	timeout server 10s
frontend fe_web
	bind 127.0.0.1:$fe
	default_backend be_web
backend be_web
	balance roundrobin
	server web1 127.0.0.1:$port1 weight 1
	server web2 127.0.0.1:$port2 weight 1
	server web3 127.0.0.1:$port3 weight 2
EOF
db=$TMP/halog.db
lib_start "$TMP/listen.log" "$HALOG" listen --db "$db" --bind "udp://127.0.0.1:$lg" >/dev/null
listen=$_pid
# haproxy logs the first request at once: the listener must be bound before it starts (under ASan
# on a busy machine it can take seconds), or that datagram is refused and never stored
wait_for 60 grep -q 'listening on' "$TMP/listen.log" || fail "listener did not start: $(cat "$TMP/listen.log")"
lib_start "$TMP/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg" >/dev/null
url=http://127.0.0.1:$fe
wait_for 10 curl -sf "$url/before" || fail "haproxy did not come up: $(cat "$TMP/haproxy.log")"
wait_for 30 test -s "$db" || fail "no store: $(cat "$TMP/listen.log")"
# the request above must be stored before the run starts, so it is outside the run's window
wait_for 60 sh -c "[ \"\$("$HALOG" search --db '$db' --count 'kind:http OR kind:tcp')\" -ge 1 ]" || fail "first request not logged"
sleep 0.1

"$HALOG" drive "$url" -n 300 -c 6 --path /a --path /b --db "$db" --format json >"$TMP/out.json" 2>"$TMP/err"
rc=$?
cat "$TMP/err"
[ $rc = 0 ] || [ $rc = 1 ] || fail "drive exited $rc"
[ $rc = 0 ] || fail "drive exited $rc with every line logged"
jq -e '.sent == 300 and .logged == 300 and
	([.stored[] | select(.backend == "be_web") | .requests] | add) == 300 and
	([.stored[] | select(.server == "web3")][0].requests == 150)' "$TMP/out.json" >/dev/null ||
	fail "json: $(cat "$TMP/out.json")"

# the store holds exactly those 300 in the window: 75/75/150 and the two paths only
store_sql "$db" "select server, count(*) from requests where path in ('/a', '/b') group by 1 order by 1" >"$TMP/by_server"
printf 'web1|75\nweb2|75\nweb3|150\n' | cmp -s - "$TMP/by_server" || fail "stored distribution: $(cat "$TMP/by_server")"

# a text run in the same store: the summary leads stdout and counts only its own requests
"$HALOG" drive "$url" -n 40 -c 4 --db "$db" >"$TMP/out.txt" 2>&1
cat "$TMP/out.txt"
head -1 "$TMP/out.txt" | grep -q '^drive: sent 40, ok 40, failed 0 (200: 40), logged 40 of 40' ||
	fail "second run: $(head -1 "$TMP/out.txt")"
grep -Eq '^  be_web +web3 +20 ' "$TMP/out.txt" || fail "window table: web3 should have 20 of 40"

# --report appends halog report (of the run's window); csv and markdown give the window table
"$HALOG" drive "$url" -n 20 -c 2 --db "$db" --report >"$TMP/rep.txt" 2>&1 || fail "--report run"
[ "$(grep -c '^drive: sent 20' "$TMP/rep.txt")" = 1 ] || fail "--report: no summary"
[ "$(wc -l <"$TMP/rep.txt")" -gt 12 ] || fail "--report printed no report: $(cat "$TMP/rep.txt")"
"$HALOG" drive "$url" -n 8 -c 2 --db "$db" --format csv >"$TMP/w.csv" 2>/dev/null || fail "csv run"
head -1 "$TMP/w.csv" | grep -q '^backend,server,requests,' || fail "csv header: $(head -1 "$TMP/w.csv")"
grep -q '^be_web,web3,4,' "$TMP/w.csv" || fail "csv rows: $(cat "$TMP/w.csv")"
"$HALOG" drive "$url" -n 8 -c 2 --db "$db" --format markdown >"$TMP/w.md" 2>/dev/null || fail "md run"
grep -q '^| be_web | web3 | 4 |' "$TMP/w.md" || fail "markdown rows: $(cat "$TMP/w.md")"

# the listener is gone: the lines never arrive, drive gives up after --timeout and exits 1
lib_stop "$listen"
"$HALOG" drive "$url" -n 10 --db "$db" --timeout 2 --settle-ms 500 >"$TMP/lost.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "lost log lines: exit $rc"
grep -q 'logged 0 of 10' "$TMP/lost.out" || fail "lost log lines not reported: $(head -3 "$TMP/lost.out")"
grep -q 'only 0 of 10 answered requests were logged' "$TMP/lost.out" || fail "no explanation"

# a store that does not exist: exit 1 with the path in the message
"$HALOG" drive "$url" -n 2 --db "$TMP/nope.db" --timeout 1 --settle-ms 200 >"$TMP/nodb.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "missing store: exit $rc"
grep -q "nope.db" "$TMP/nodb.out" || fail "missing store not named"
echo "drive --db: all checks passed"
