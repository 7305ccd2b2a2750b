#!/bin/sh
# hagen apply --pidfile on a real HAProxy started the classic way (haproxy -D -p PIDFILE, no
# master): the reload is a new process started with -sf and the old PIDs (and -x with the stats
# socket, which passes the listening sockets over); verification goes through the stats socket the
# inventory names. A weight change under a request stream loses nothing; a failing change is
# rolled back with a second -sf reload; so is one the new process cannot start with (a port
# another process holds), while the old process keeps serving.
. "$TOP/tests/e2e/apply-lib"

# the daemons are not our children: stop whatever the pidfile names, on exit too
stop_daemons() {
	for p in $(cat "$TMP/haproxy.pid" 2>/dev/null) $SEEN; do lib_stop "$p"; done
}
trap 'stop_daemons; lib_cleanup' EXIT INT TERM
apply_inventory 1 1
"$HAGEN" render --target "$HAPROXY_TARGET" -o "$TMP/haproxy.cfg" "$TMP/inventory.yaml" || fail "render"
"$HAPROXY_BIN" -D -f "$TMP/haproxy.cfg" -p "$TMP/haproxy.pid" || fail "haproxy -D"
P0=$(cat "$TMP/haproxy.pid")
SEEN=$P0
wait_for 10 "$RS" 127.0.0.1 "$FE" 1 || fail "haproxy does not answer"

apply_inventory 1 3
"$RS" 127.0.0.1 "$FE" 1500 2 >"$TMP/rs.out" 2>&1 &
RSP=$!
sleep 1
"$HAGEN" apply --config "$TMP/haproxy.cfg" --pidfile "$TMP/haproxy.pid" --timeout 20 \
	"$TMP/inventory.yaml" >"$TMP/apply.out" 2>"$TMP/apply.err" || { cat "$TMP/apply.err"; fail "apply"; }
wait "$RSP"
rs=$?
P1=$(cat "$TMP/haproxy.pid")
SEEN="$SEEN $P1"
cat "$TMP/rs.out"
[ "$rs" = 0 ] || fail "requests lost across the -sf reload: $(cat "$TMP/rs.out")"
grep -q "^sent 1500 ok 1500 other 0 failed 0 retried 0" "$TMP/rs.out" || fail "client summary: $(cat "$TMP/rs.out")"
[ "$P1" != "$P0" ] || fail "the pidfile still names the old process"
wait_for 15 sh -c "! kill -0 $P0" || fail "the old process $P0 did not finish"
grep -q "runs every service; 2 checked servers UP" "$TMP/apply.err" || { cat "$TMP/apply.err"; fail "not verified"; }

cp "$TMP/haproxy.cfg" "$TMP/before.cfg"
apply_inventory 1 3 "$DEAD"
"$HAGEN" apply --config "$TMP/haproxy.cfg" --pidfile "$TMP/haproxy.pid" --timeout 15 \
	"$TMP/inventory.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err" && fail "the failing change was kept"
grep -q "server be_web/web1 is DOWN" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "the failure is not said"; }
grep -q "reloaded with the previous configuration" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "no rollback reload"; }
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "the previous file is not back"
P3=$(cat "$TMP/haproxy.pid")
SEEN="$SEEN $P3"
wait_for 10 "$RS" 127.0.0.1 "$FE" 20 || fail "no traffic after the rollback"
# the new process cannot bind web2's own port: it exits, the old one serves on, apply rolls back
apply_inventory 1 3 "" "$W2"
"$RS" 127.0.0.1 "$FE" 1000 2 >"$TMP/rs5.out" 2>&1 &
RSP=$!
sleep 1
"$HAGEN" apply --config "$TMP/haproxy.cfg" --pidfile "$TMP/haproxy.pid" --timeout 15 \
	"$TMP/inventory.yaml" >"$TMP/v5.out" 2>"$TMP/v5.err" && { cat "$TMP/v5.err"; fail "v5 was kept"; }
wait "$RSP"
rs=$?
P5=$(cat "$TMP/haproxy.pid")
SEEN="$SEEN $P5"
cat "$TMP/rs5.out"
[ "$rs" = 0 ] || fail "requests lost across the failed start: $(cat "$TMP/rs5.out")"
grep -q "^sent 1000 ok 1000 other 0 failed 0 retried 0" "$TMP/rs5.out" || fail "v5 client: $(cat "$TMP/rs5.out")"
grep -q "reload failed: .* exited with" "$TMP/v5.err" || { cat "$TMP/v5.err"; fail "v5: the failed start is not said"; }
grep -q "reloaded with the previous configuration" "$TMP/v5.err" || { cat "$TMP/v5.err"; fail "v5: no rollback reload"; }
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v5: the previous file is not back"
[ "$P5" != "$P3" ] || fail "v5: the pidfile still names $P3 (no rollback reload)"
wait_for 10 "$RS" 127.0.0.1 "$FE" 20 || fail "v5: no traffic after the rollback"
echo "apply --pidfile: $(cat "$TMP/rs.out"); failed start: $(cat "$TMP/rs5.out"); both rollbacks restored $TMP/haproxy.cfg"
