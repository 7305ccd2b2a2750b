#!/bin/sh
# sample-app, the demo backend: answers with its name, /health, the /_ctl/ switches, keep-alive,
# bounded and garbage input, and a clean stop on SIGTERM.
set -u
. "$TOP/tests/lib.sh"
APP=${SAMPLE_APP:-$O/sample-app}
[ -x "$APP" ] || skip "no $APP"
command -v curl >/dev/null || skip "curl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$TMP"

port=$(free_port) || fail "no free port"
url=http://127.0.0.1:$port
# lib_start in $(…) would run in a subshell: the PID would be lost to lib_stop_all
lib_start "$TMP/app.log" "$APP" --name app-one --listen "127.0.0.1:$port" >/dev/null
pid=$_pid
wait_for 5 curl -sf "$url/health" || fail "sample-app did not come up: $(cat "$TMP/app.log")"

# every path: 200, body NAME\n, X-Server: NAME
curl -sS -D "$TMP/h" -o "$TMP/b" "$url/some/path?x=1" || fail "GET failed"
head -1 "$TMP/h" | grep -q '^HTTP/1.1 200' || fail "status: $(head -1 "$TMP/h")"
grep -qi '^X-Server: app-one' "$TMP/h" || fail "no X-Server header"
[ "$(cat "$TMP/b")" = "app-one" ] || fail "body: $(cat "$TMP/b")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$url/")" = 200 ] || fail "HEAD"

# keep-alive: two requests over one connection
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$url/a" "$url/b" | tr '\n' ' ')
[ "$n" = "1 0 " ] || fail "keep-alive: connects per request '$n'"

# health switch
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/_ctl/health?status=down")" = 200 ] || fail "ctl health"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health")" = 503 ] || fail "health not 503 when down"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" = 200 ] || fail "/ must stay 200 when health is down"
curl -s "$url/_ctl/health?status=up" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health")" = 200 ] || fail "health not back up"

# failure switch: rate 1 fails everything, rate 0 nothing, bad values are refused
curl -s "$url/_ctl/fail?rate=1" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" = 500 ] || fail "fail rate 1"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/_ctl/fail?rate=1.5")" = 400 ] || fail "rate 1.5 accepted"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/_ctl/fail?rate=abc")" = 400 ] || fail "rate abc accepted"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/_ctl/nope")" = 404 ] || fail "unknown control"
curl -s "$url/_ctl/fail?rate=0" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" = 200 ] || fail "fail rate 0"

# slow switch: 300 ms delay shows in the time taken
curl -s "$url/_ctl/slow?ms=300" >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' "$url/")
python3 -c "import sys; sys.exit(0 if float('$t') >= 0.29 else 1)" || fail "delay not applied ($t s)"
curl -s "$url/_ctl/slow?ms=0" >/dev/null

# garbage, oversized heads, bad versions, bodies: an error status or a close, never a crash
python3 - "$port" <<'EOF' || fail "raw socket checks"
import socket, sys
port = int(sys.argv[1])
def ask(data, want):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
    except OSError:
        pass
    got = b""
    try:
        while len(got) < 65536:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    line = got.split(b"\r\n", 1)[0].decode("latin-1")
    if want is not None and not line.startswith("HTTP/1.1 %d" % want):
        print("sent %r: got %r, wanted %d" % (data[:40], line, want))
        sys.exit(1)
ask(b"garbage\r\n\r\n", 400)
ask(b"\x00\x01\x02\xff\r\n\r\n", 400)
ask(b"GET / HTTP/2.0\r\n\r\n", 505)
ask(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400)
ask(b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431)
ask(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413)
ask(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400)
ask(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501)
ask(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", 200)
# two pipelined requests on one connection, then close
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
if got.count(b"HTTP/1.1 200 OK") != 2:
    print("pipelining: %r" % got[:200]); sys.exit(1)
# a client that connects and says nothing, then goes away
s = socket.create_connection(("127.0.0.1", port), timeout=5); s.close()
EOF

# still alive after all that, and the counters saw it
curl -sf "$url/" >/dev/null || fail "sample-app died on bad input"
curl -s "$url/_ctl/stats" >"$TMP/stats"
grep -q '^bad [1-9]' "$TMP/stats" || fail "bad requests not counted: $(cat "$TMP/stats")"

# bad command lines: usage errors, exit 2
"$APP" --name x >/dev/null 2>&1; [ $? = 2 ] || fail "missing --listen not exit 2"
"$APP" --name 'a b' --listen 127.0.0.1:1 >/dev/null 2>&1; [ $? = 2 ] || fail "bad name not exit 2"
"$APP" --name x --listen 127.0.0.1:1 --fail-rate 2 >/dev/null 2>&1; [ $? = 2 ] || fail "fail-rate 2 not exit 2"
"$APP" --name x --listen 127.0.0.1:99999 >/dev/null 2>&1; [ $? = 1 ] || fail "bad port accepted"
# the port is taken: exit 1 with a message
"$APP" --name x --listen "127.0.0.1:$port" >"$TMP/busy" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'cannot listen' "$TMP/busy" || fail "busy port: rc $rc $(cat "$TMP/busy")"

# SIGTERM: exits 0 promptly, even with an idle keep-alive connection open
python3 -c "
import socket,time
s=socket.create_connection(('127.0.0.1',$port)); s.sendall(b'GET / HTTP/1.1\r\n\r\n'); s.recv(100); time.sleep(4)" &
holder=$!
sleep 0.5
kill -TERM "$pid"
n=0
while lib_alive "$pid" && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
lib_alive "$pid" && fail "sample-app still running 3 s after SIGTERM"
wait "$pid"; rc=$?
[ $rc = 0 ] || fail "exit $rc after SIGTERM"
grep -q 'stopped after' "$TMP/app.log" || fail "no stop line"
wait "$holder" 2>/dev/null
echo "sample-app: all checks passed"
