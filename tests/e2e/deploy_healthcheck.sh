#!/bin/sh
# The image's HEALTHCHECK against a real HAProxy: the compose render, moved to free loopback
# ports, run as the official image runs it (haproxy -W -db); the probe built as the Dockerfile
# builds it and run with the HEALTHCHECK's own arguments passes; after a graceful stop (SIGUSR1,
# the image's STOPSIGNAL) it fails. Also the probe's answers to a 503, a non-HTTP peer, and
# bad URLs.
set -u
. "$TOP/tests/lib.sh"
[ -x "$HAGEN" ] || skip "no $HAGEN"
command -v haproxy >/dev/null || skip "haproxy is not installed"
"$HAGEN" render --help >"$TMP.help" 2>&1
grep -q -- --target "$TMP.help" || { rm -f "$TMP.help"; skip "this hagen has no 'render --target' yet"; }
rm -f "$TMP.help"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$TMP"
cd "$TOP" || fail "no $TOP"
df=Dockerfile.haproxy

# the probe, built by the Dockerfile's command
sh samples/compose/bake.sh probe "$TMP" >"$TMP/cc.log" 2>&1 || fail "bake.sh probe: $(cat "$TMP/cc.log")"
[ -s "$TMP/cc.log" ] && fail "the probe does not build silently: $(cat "$TMP/cc.log")"
probe=$TMP/probe

# the lb stage's HEALTHCHECK command, as Docker would exec it
python3 - "$df" >"$TMP/hc.argv" <<'EOF' || fail "$df: cannot read the lb HEALTHCHECK"
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
lb = text[text.rindex("\nFROM haproxy:"):]
m = re.search(r"(?m)^HEALTHCHECK\s.*?\bCMD\s+(\[.*\])\s*$", lb)
for a in json.loads(m.group(1)):
    print(a)
EOF
[ "$(head -1 "$TMP/hc.argv")" = /usr/local/bin/probe ] ||
	fail "HEALTHCHECK does not run /usr/local/bin/probe: $(tr '\n' ' ' <"$TMP/hc.argv")"
grep -qx /usr/local/etc/haproxy/haproxy.cfg "$TMP/hc.argv" ||
	fail "HEALTHCHECK does not read /usr/local/etc/haproxy/haproxy.cfg"

# the compose config for the local HAProxy (its own version), moved to loopback ports
ver=$(haproxy -v | sed -n 's/^HAProxy version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
"$HAGEN" render --target "$ver" -o "$TMP/rendered.cfg" samples/compose/inventory.yaml 2>"$TMP/err" ||
	fail "hagen render: $(cat "$TMP/err")"
web=$(free_port) && stats=$(free_port) && logp=$(free_port) || fail "no free port"
[ "$web" != "$stats" ] || fail "free_port gave the same port twice"
# bind :8080/:8404 -> 127.0.0.1:<free>; halog's "${HALOG_ADDR}:5140" -> loopback; the stats socket -> $TMP;
# no chroot/user/group/daemon (this test is not root-owned territory)
sed -e "s/^\([[:space:]]*bind[[:space:]]\{1,\}\)[^[:space:]]*:8080\b/\1127.0.0.1:$web/" \
	-e "s/^\([[:space:]]*bind[[:space:]]\{1,\}\)[^[:space:]]*:8404\b/\1127.0.0.1:$stats/" \
	-e "s/\"\\\${HALOG_ADDR}:5140\"/127.0.0.1:$logp/" \
	-e "s#stats socket [^[:space:]]*#stats socket $TMP/admin.sock#" \
	-e '/^[[:space:]]*\(chroot\|user\|group\|daemon\|pidfile\)\([[:space:]]\|$\)/d' \
	"$TMP/rendered.cfg" >"$TMP/haproxy.cfg"
grep -q "127.0.0.1:$stats" "$TMP/haproxy.cfg" || fail "the render has no :8404 bind to move"
haproxy -c -f "$TMP/haproxy.cfg" >"$TMP/check" 2>&1 || fail "adapted config: $(cat "$TMP/check")"

# the HEALTHCHECK argv with the image's paths mapped to this test's files
set --
while IFS= read -r a; do
	case $a in
	/usr/local/bin/probe) a=$probe ;;
	/usr/local/etc/haproxy/haproxy.cfg) a=$TMP/haproxy.cfg ;;
	esac
	set -- "$@" "$a"
done <"$TMP/hc.argv"
echo "healthcheck: $*"
"$@" >"$TMP/hc.out" 2>&1 && fail "healthy before haproxy runs: $(cat "$TMP/hc.out")"

lib_start "$TMP/haproxy.log" haproxy -W -db -f "$TMP/haproxy.cfg" >/dev/null
hap=$_pid
wait_for 10 "$probe" "http://127.0.0.1:$stats/healthz" ||
	fail "haproxy did not come up: $(cat "$TMP/haproxy.log")"
"$@" >"$TMP/hc.out" 2>&1 || fail "HEALTHCHECK failed with haproxy up: $(cat "$TMP/hc.out")"
grep -q "http://127.0.0.1:$stats/healthz: HTTP 200" "$TMP/hc.out" || fail "probe said: $(cat "$TMP/hc.out")"
echo "haproxy up:   exit 0, $(cat "$TMP/hc.out")"

# the app backend has no server up (nothing resolves 'app' here): 503 through the entrypoint
"$probe" "http://127.0.0.1:$web/" >"$TMP/p.out" 2>&1 && fail "2xx from an entrypoint with no app"
grep -q "HTTP 503" "$TMP/p.out" || fail "entrypoint without apps: $(cat "$TMP/p.out")"
echo "entrypoint without apps: exit 1, $(cat "$TMP/p.out")"

lib_stop "$hap" USR1
lib_alive "$hap" && fail "haproxy still runs after SIGUSR1"
"$@" >"$TMP/hc.out" 2>&1 && fail "HEALTHCHECK passed with haproxy stopped"
echo "haproxy gone: exit 1, $(cat "$TMP/hc.out")"

# a peer that is not HTTP, one that never answers, and URLs the probe refuses
python3 - "$web" >"$TMP/peer.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.settimeout(15)
c, _ = s.accept(); c.recv(1024); c.sendall(b"SSH-2.0-nope\r\n"); c.close()
c, _ = s.accept(); time.sleep(3); c.close()
EOF
peer=$!
LIB_PIDS="$LIB_PIDS $peer"
wait_for 5 sh -c "ss -Hlnt | grep -q ':$web '" || fail "test peer did not listen"
"$probe" "http://127.0.0.1:$web/" >"$TMP/p.out" 2>&1 && fail "non-HTTP peer passed"
grep -q "not an HTTP answer" "$TMP/p.out" || fail "non-HTTP peer: $(cat "$TMP/p.out")"
"$probe" -t 1 "http://127.0.0.1:$web/" >"$TMP/p.out" 2>&1 && fail "silent peer passed"
grep -q "timed out" "$TMP/p.out" || fail "silent peer: $(cat "$TMP/p.out")"
lib_stop "$peer"
for bad in "http://localhost:80/" "https://127.0.0.1/" "http://127.0.0.1:0/" "http://127.0.0.1:80/a b" ""; do
	"$probe" "$bad" >"$TMP/p.out" 2>&1
	[ $? -eq 1 ] || fail "probe '$bad': want exit 1 (Docker reserves 2)"
done
echo "probe refuses names, https, port 0, spaces, and an empty URL: exit 1"
