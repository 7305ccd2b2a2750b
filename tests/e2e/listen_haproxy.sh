#!/bin/sh
# e2e: a real HAProxy (Debian's) logs to halog listen over UDP and through a `ring` over TCP with
# octet counting; requests sent with curl arrive parsed (frontend, backend, server, status, path)
# on both transports.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v haproxy >/dev/null 2>&1 || skip "haproxy missing"
command -v curl >/dev/null 2>&1 || skip "curl missing"

L=$(free_port) || fail "no free port"
F=$(free_port) || fail "no free port"
B=$(free_port) || fail "no free port"
[ "$L" != "$F" ] && [ "$F" != "$B" ] && [ "$L" != "$B" ] || skip "port collision, rerun"
db=$TMP/listen.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$L" --bind "tcp://127.0.0.1:$L"

cat >"$TMP/haproxy.cfg" <<CFG
global
    log 127.0.0.1:$L local0
    log ring@halogring local0
ring halogring
    format rfc5424
    maxlen 2048
    size 32768
    timeout connect 2s
    timeout server 5s
    server halog 127.0.0.1:$L log-proto octet-count
defaults
    log global
    mode http
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe_listen
    bind 127.0.0.1:$F
    default_backend be_listen
backend be_listen
    server app1 127.0.0.1:$B
frontend fe_app
    bind 127.0.0.1:$B
    no log
    http-request return status 200 content-type text/plain string ok
CFG
haproxy -c -q -f "$TMP/haproxy.cfg" || fail "haproxy rejects the test config"
lib_start "$TMP/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg" >/dev/null
hpid=$_pid
wait_for 10 curl -fsS -o /dev/null "http://127.0.0.1:$F/hap/warmup" || { cat "$TMP/haproxy.log"; fail "haproxy did not answer"; }
for i in 1 2 3 4 5; do
	curl -fsS -o /dev/null "http://127.0.0.1:$F/hap/seq=000000$i?x=$i" || fail "request $i"
done

# 6 requests, each logged twice (UDP and ring/TCP)
cnt() {
	store_sql "$db" "SELECT count(*) FROM requests r JOIN lines l ON l.id = r.line_id
		WHERE l.source LIKE '$1:127.0.0.1:%' AND r.frontend = 'fe_listen' AND r.backend = 'be_listen'
		AND r.server = 'app1' AND r.status = 200 AND r.method = 'GET' AND r.path LIKE '/hap/%'"
}
wait_for 15 sh -c "kill -USR1 $lpid; sleep 0.3; [ \"\$(\"$HALOG\" search --db '$db' --count 'kind:http OR kind:tcp')\" -ge 12 ]" ||
	{ tail -3 "$log"; store_sql "$db" "SELECT source, kind, status, CAST(raw AS TEXT) FROM lines"; fail "the 12 request lines did not arrive"; }
lib_stop "$hpid"
stop_listener "$lpid" "$log"

[ "$(cnt udp)" = 6 ] || fail "udp: $(cnt udp) parsed requests, want 6"
[ "$(cnt tcp)" = 6 ] || { store_sql "$db" "SELECT source, kind, status, reason, CAST(raw AS TEXT) FROM lines WHERE source LIKE 'tcp:%'"; fail "tcp ring: $(cnt tcp) parsed requests, want 6"; }
# the ring sends RFC5424, the UDP target the default local format
f=$(store_sql "$db" "SELECT group_concat(DISTINCT framing) FROM lines l JOIN requests r ON r.line_id = l.id WHERE l.source LIKE 'tcp:%'")
[ "$f" = 2 ] || fail "ring framing $f, want 2 (rfc5424)"
q=$(store_sql "$db" "SELECT query FROM requests r JOIN lines l ON l.id = r.line_id WHERE l.source LIKE 'udp:%' AND r.path = '/hap/seq=0000003'")
[ "$q" = "x=3" ] || fail "query of request 3: '$q'"
bad=$(store_sql "$db" "SELECT count(*) FROM lines WHERE kind = 0")
[ "$bad" = 0 ] || { store_sql "$db" "SELECT source, reason, CAST(raw AS TEXT) FROM lines WHERE kind = 0"; fail "$bad unparsed lines from haproxy"; }
echo "ok: haproxy's 6 requests arrived parsed over UDP and over the TCP ring"
