#!/bin/sh
# hagen check maps haproxy's "[file:line]" messages back to the inventory line that produced the
# configuration line: a bad `extra:` line and a missing certificate are reported at their own
# inventory positions, with the entry named; warnings (-dW) fail the check too.
. "$TOP/tests/lib.sh"
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY_BIN" ] || skip "haproxy not installed"
mkdir -p "$TMP"
cd "$TMP" || fail "no TMP"
cat >inv.yaml <<'YAML'
entrypoints:
  web:
    bind: "127.0.0.1:8080"
services:
  app:
    servers: [{ name: a, address: "127.0.0.1:9001" }]
    extra:
      - "http-reuse safe"
      - "bogus-directive 42"
YAML
"$HAGEN" check inv.yaml >out 2>err && fail "hagen check accepted a bad extra line"
cat err
grep -q "^hagen: inv.yaml:9:9: error: haproxy: unknown keyword 'bogus-directive' in 'backend' section (service app, haproxy.cfg line [0-9]*)\$" err ||
	fail "the haproxy error does not name inventory line 9 and service app"
[ ! -s out ] || fail "stdout not empty on failure"

cat >tls.yaml <<'YAML'
entrypoints:
  https:
    bind: "127.0.0.1:8443"
    tls: { certs: [/nonexistent/certs/] }
services:
  app:
    servers: [{ name: a, address: "127.0.0.1:9001" }]
YAML
"$HAGEN" check tls.yaml >out 2>err && fail "hagen check accepted a missing certificate"
cat err
grep -q "^hagen: tls.yaml:3:11: error: haproxy: .*unable to stat SSL certificate.*(entrypoint https, haproxy.cfg line [0-9]*)\$" err ||
	fail "the certificate error does not point at the bind line of entrypoint https"

# a warning only (zero-warning mode): an extra line HAProxy warns about
cat >warn.yaml <<'YAML'
entrypoints:
  web: { bind: "127.0.0.1:8080" }
services:
  app:
    servers: [{ name: a, address: "127.0.0.1:9001" }]
    extra: ["http-reuse safe", "option tcplog"]
YAML
"$HAGEN" check warn.yaml >out 2>err
rc=$?
cat err
[ $rc -eq 1 ] || fail "a haproxy warning did not fail the check (exit $rc)"
grep -q "^hagen: warn.yaml:6:32: warning: haproxy: backend 'be_app' : 'option tcplog' directive is ignored in backends. (service app, haproxy.cfg line [0-9]*)\$" err ||
	fail "the warning is not mapped to line 6"
# the target is the version of the haproxy that checks: a file saying 3.1 is rendered for 2.6
# (the option keeps its 2.6 name); --target 3.1 renders the renamed 3.1 option, which 2.6
# rejects, and says why
cat >v31.yaml <<'YAML'
target: "3.1"
entrypoints:
  web: { bind: "127.0.0.1:8080", accept_invalid_http: true }
services:
  app: { servers: [{ name: a, address: "127.0.0.1:9001" }] }
YAML
if "$HAPROXY_BIN" -v 2>/dev/null | grep -q "version 2\.6\."; then
	"$HAGEN" check v31.yaml >out 2>err || { cat err; fail "check did not render for the haproxy that runs"; }
	grep -q "zero warnings (target 2.6)" out || fail "check did not take the target from haproxy -v"
	"$HAGEN" check --target 3.1 v31.yaml >out 2>err && fail "2.6 accepted a 3.1 directive?"
	cat err
	grep -q "^hagen: note: rendered for HAProxy 3.1 but checked with haproxy 2.6" err || fail "no version note"
	grep -q "^hagen: v31.yaml:3:55: error: haproxy: unknown option 'accept-unsafe-violations-in-http-request'" err ||
		fail "the 3.1 option is not mapped to line 3"
fi
echo "haproxy messages mapped to inventory lines"
