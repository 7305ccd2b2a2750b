#!/bin/sh
# e2e: a real HAProxy sends `format raw` lines whose log-format starts with %ST (so every line
# begins with digits and a space, "200 2 0 GET /raw/…") through two rings over TCP, one with
# LF framing (log-proto legacy) and one with octet counting. Each connection's framing is
# chosen from its first frame, so on both every line is stored whole, once, never merged with
# the next or cut into a count (issue 11).
set -u
. "$TOP/tests/e2e/listen-lib"
command -v haproxy >/dev/null 2>&1 || skip "haproxy missing"
command -v curl >/dev/null 2>&1 || skip "curl missing"

LF=$(free_port) || fail "no free port"
OC=$(free_port) || fail "no free port"
F=$(free_port) || fail "no free port"
B=$(free_port) || fail "no free port"
db=$TMP/listen.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "tcp://127.0.0.1:$LF" --bind "tcp://127.0.0.1:$OC"

cat >"$TMP/haproxy.cfg" <<CFG
global
    log ring@lfring local0
    log ring@ocring local0
ring lfring
    format raw
    maxlen 2048
    size 65536
    timeout connect 2s
    timeout server 5s
    server halog 127.0.0.1:$LF log-proto legacy
ring ocring
    format raw
    maxlen 2048
    size 65536
    timeout connect 2s
    timeout server 5s
    server halog 127.0.0.1:$OC log-proto octet-count
defaults
    log global
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe_raw
    bind 127.0.0.1:$F
    log-format "%ST %B %Tt %HM %HU"
    default_backend be_raw
backend be_raw
    server app1 127.0.0.1:$B
frontend fe_app
    bind 127.0.0.1:$B
    no log
    http-request return status 200 content-type text/plain string ok if { path_beg /raw/ok }
    http-request return status 404 content-type text/plain string no
CFG
haproxy -c -q -f "$TMP/haproxy.cfg" || fail "haproxy rejects the test config"
lib_start "$TMP/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg" >/dev/null
hpid=$_pid
wait_for 10 curl -fsS -o /dev/null "http://127.0.0.1:$F/raw/ok/warmup" || { cat "$TMP/haproxy.log"; fail "haproxy did not answer"; }
N=40
i=1
while [ $i -le $N ]; do
	# 200 and 404 answers of different sizes: lines start with "200 2 " or "404 2 "
	case $((i % 3)) in 0) p=/raw/missing/seq=$i ;; *) p=/raw/ok/seq=$i ;; esac
	curl -sS -o /dev/null "http://127.0.0.1:$F$p" || fail "request $i"
	i=$((i + 1))
done
want=$((N + 1))
wait_for 30 sh -c "[ \"\$('$HALOG' search --db '$db' --count '' 2>/dev/null || echo 0)\" -ge $((2 * want)) ]" ||
	{ store_sql "$db" "SELECT source, CAST(raw AS TEXT) FROM lines LIMIT 5"; fail "the $((2 * want)) lines did not arrive"; }
lib_stop "$hpid"
stop_listener "$lpid" "$log"

# every line whole: "STATUS BYTES TT GET /raw/...", one per request on each ring
total=$(store_sql "$db" "SELECT count(*) FROM lines")
whole=$(store_sql "$db" "SELECT count(*) FROM lines WHERE CAST(raw AS TEXT) GLOB '[24]0[04] [0-9]* [0-9]* GET /raw/*' AND CAST(raw AS TEXT) NOT LIKE '%GET /raw/%GET /raw/%'")
[ "$total" = $((2 * want)) ] || { store_sql "$db" "SELECT source, CAST(raw AS TEXT) FROM lines"; fail "$total lines stored, want $((2 * want)) (merged or cut lines)"; }
[ "$whole" = "$total" ] || { store_sql "$db" "SELECT source, CAST(raw AS TEXT) FROM lines"; fail "only $whole of $total lines are whole"; }
# each request twice (once per ring), no other line
odd=$(store_sql "$db" "SELECT count(*) FROM (SELECT substr(CAST(raw AS TEXT), instr(CAST(raw AS TEXT), 'GET ')) AS k, count(*) AS c FROM lines GROUP BY k HAVING c != 2)")
[ "$odd" = 0 ] || fail "$odd requests not stored exactly twice"
[ "$(store_sql "$db" "SELECT count(DISTINCT substr(CAST(raw AS TEXT), instr(CAST(raw AS TEXT), 'GET '))) FROM lines")" = $want ] || fail "not $want distinct requests"
n404=$(store_sql "$db" "SELECT count(*) FROM lines WHERE CAST(raw AS TEXT) LIKE '404 %'")
[ "$n404" = $((2 * (N / 3))) ] || fail "$n404 lines of 404 answers, want $((2 * (N / 3)))"
echo "ok: $want raw lines starting with digits, each stored whole once over LF framing and over octet counting"
