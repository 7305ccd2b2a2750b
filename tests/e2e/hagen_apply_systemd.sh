#!/bin/sh
# hagen apply --systemd UNIT on a real HAProxy run the way Debian's haproxy.service runs it
# (haproxy -Ws -f CONFIG -p PIDFILE -S SOCKET), with a `systemctl` first on PATH that stands in
# for systemd (no systemd here): it records every call, and `reload UNIT` does what the unit's
# ExecReload lines do (haproxy -Ws -f CONFIG -c -q, then kill -USR2 MAINPID), exiting 1 when
# either fails, as systemctl does when a reload job fails. The test checks:
#  1. a weight change: one `systemctl reload UNIT`, a new worker (the stats socket's Pid), no
#     request of a stream over one kept-alive connection lost, verified;
#  2. --dry-run and a broken inventory never call systemctl;
#  3. systemctl reload fails once (a failed job): apply says so, puts the previous file back,
#     reloads again with it and exits 1;
#  4. a change whose server fails its checks: rolled back with a second reload;
#  5. systemctl reload always fails: apply exits 1, says the rollback reload failed too, and the
#     previous file is in place;
#  6. no systemctl at all: the same, with the shell's 127.
. "$TOP/tests/e2e/apply-lib"

UNIT=hagen-test-haproxy
# the stand-in must stay true to the unit it imitates, where that unit is installed
svc=/lib/systemd/system/haproxy.service
if [ -f "$svc" ]; then
	grep -q '^ExecReload=/usr/sbin/haproxy -Ws -f $CONFIG -c -q' "$svc" &&
		grep -q '^ExecReload=/bin/kill -USR2 $MAINPID' "$svc" ||
		fail "$svc reloads otherwise than this test's systemctl does: $(grep ExecReload "$svc")"
fi

apply_inventory 1 1
"$HAGEN" render --target "$HAPROXY_TARGET" -o "$TMP/haproxy.cfg" "$TMP/inventory.yaml" || fail "render v1"
lib_start "$TMP/haproxy.log" "$HAPROXY_BIN" -Ws -f "$TMP/haproxy.cfg" -p "$TMP/haproxy.pid" -S "$TMP/master.sock"
MAINPID=$LIB_LAST_PID
wait_for 10 "$RS" 127.0.0.1 "$FE" 1 || { cat "$TMP/haproxy.log"; fail "haproxy did not start"; }

# systemctl: $TMP/calls gets "ARGS -> EXIT" per call; $TMP/fail-once fails the next reload,
# $TMP/fail-always every one (the job's message on stderr, as systemctl prints it)
mkdir -p "$TMP/bin" "$TMP/nobin"
cat >"$TMP/bin/systemctl" <<EOF
#!/bin/sh
rc=0
if [ "\$#" != 2 ] || [ "\$1" != reload ] || [ "\$2" != "$UNIT" ]; then
	echo "systemctl (test): unexpected call: \$*" >&2
	rc=2
elif [ -e "$TMP/fail-always" ] || { [ -e "$TMP/fail-once" ] && rm -f "$TMP/fail-once"; }; then
	echo "Job for $UNIT.service failed because the control process exited with error code." >&2
	rc=1
elif ! "$HAPROXY_BIN" -Ws -f "$TMP/haproxy.cfg" -c -q -S "$TMP/master.sock"; then
	rc=1
elif ! kill -USR2 "$MAINPID"; then
	rc=1
fi
echo "\$* -> \$rc" >>"$TMP/calls"
exit \$rc
EOF
chmod +x "$TMP/bin/systemctl"
PATH_SD="$TMP/bin:$PATH"
# the shell and the few tools the apply needs, but no systemctl (for 6)
for t in sh; do ln -s "$(command -v $t)" "$TMP/nobin/$t"; done

apply() { # apply NAME [ARGS...]: hagen apply --systemd with the stand-in first on PATH
	_n=$1; shift
	PATH=$PATH_SD "$HAGEN" apply --config "$TMP/haproxy.cfg" --systemd "$UNIT" --timeout 15 "$@" \
		"$TMP/inventory.yaml" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
}
pid_now() { sock_cmd "$TMP/admin.sock" "show info" | sed -n 's/^Pid: //p'; } # the Pid the stats socket answers
calls() { wc -l <"$TMP/calls" 2>/dev/null | tr -d ' ' || echo 0; }
P0=$(pid_now)
[ -n "$P0" ] || fail "no Pid from the stats socket"

# 1. weights 1:1 -> 1:3 under a stream of requests
apply_inventory 1 3
"$RS" 127.0.0.1 "$FE" 1500 2 >"$TMP/rs.out" 2>&1 &
RSP=$!
sleep 1
apply v2 || { cat "$TMP/v2.err" "$TMP/haproxy.log"; fail "apply v2"; }
wait "$RSP"
rs=$?
cat "$TMP/rs.out"
[ "$rs" = 0 ] || fail "requests lost across the reload: $(cat "$TMP/rs.out")"
grep -q "^sent 1500 ok 1500 other 0 failed 0 retried 0" "$TMP/rs.out" || fail "client summary: $(cat "$TMP/rs.out")"
[ "$(cat "$TMP/calls")" = "reload $UNIT -> 0" ] || fail "systemctl calls: $(cat "$TMP/calls")"
grep -q '^+.*server web2 .* weight 3$' "$TMP/v2.out" || { cat "$TMP/v2.out"; fail "no diff line for the new weight"; }
grep -q "reloaded: new worker" "$TMP/v2.err" || { cat "$TMP/v2.err"; fail "apply did not say it reloaded"; }
grep -q "runs every service; 2 checked servers UP" "$TMP/v2.err" || { cat "$TMP/v2.err"; fail "apply did not verify"; }
P1=$(pid_now)
[ -n "$P1" ] && [ "$P1" != "$P0" ] || fail "no new worker after systemctl reload ($P0 -> $P1)"
grep -q "reloaded: new worker $P1\$" "$TMP/v2.err" || { cat "$TMP/v2.err"; fail "apply names another worker than $P1"; }
"$HAGEN" render --target "$HAPROXY_TARGET" "$TMP/inventory.yaml" | cmp -s - "$TMP/haproxy.cfg" || fail "installed file is not the v2 rendering"
lib_alive "$MAINPID" || fail "the master exited"

# 2. a dry run and a broken inventory: no systemctl call
cp "$TMP/haproxy.cfg" "$TMP/before.cfg"
apply_inventory 2 3
apply dry --dry-run || { cat "$TMP/dry.err"; fail "dry run"; }
grep -q "reloaded with systemctl reload" "$TMP/dry.err" || { cat "$TMP/dry.err"; fail "dry run does not say how it would reload"; }
printf 'services:\n  web: { servers: [{ name: a, adress: "x" }] }\n' >"$TMP/inventory.yaml"
apply bad && fail "a broken inventory was applied"
grep -q "nothing was installed" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "bad: no refusal line"; }
[ "$(calls)" = 1 ] || fail "systemctl called by a dry run or a refused inventory: $(cat "$TMP/calls")"
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "a dry run or a refused inventory changed the file"

# 3. the reload job fails once: reported, the previous file back, reloaded with it
apply_inventory 2 3
: >"$TMP/fail-once"
apply v3 && { cat "$TMP/v3.err"; fail "v3: a failed reload was kept"; }
grep -q "reload failed: systemctl reload $UNIT exited with 1" "$TMP/v3.err" || { cat "$TMP/v3.err"; fail "v3: the failed reload is not said"; }
grep -q "rolled back" "$TMP/v3.err" || { cat "$TMP/v3.err"; fail "v3: no rollback"; }
grep -q "reloaded with the previous configuration" "$TMP/v3.err" || { cat "$TMP/v3.err"; fail "v3: no rollback reload"; }
[ "$(tail -n 2 "$TMP/calls" | tr '\n' ' ')" = "reload $UNIT -> 1 reload $UNIT -> 0 " ] || fail "v3: systemctl calls: $(cat "$TMP/calls")"
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v3: the previous file is not back"
"$HAGEN" render --target "$HAPROXY_TARGET" "$TMP/inventory.yaml" | cmp -s - "$TMP/haproxy.cfg.rejected" || fail "v3: the rejected file is not kept"
P3=$(pid_now)
[ -n "$P3" ] && [ "$P3" != "$P1" ] || fail "v3: no worker of the rollback reload ($P1 -> $P3)"

# 4. web1 moved to a dead port: its check fails, rolled back with a second reload
apply_inventory 1 3 "$DEAD"
apply v4 && { cat "$TMP/v4.err"; fail "v4 was not rolled back"; }
grep -q "server be_web/web1 is DOWN" "$TMP/v4.err" || { cat "$TMP/v4.err"; fail "v4: what failed is not said"; }
grep -q "reloaded with the previous configuration" "$TMP/v4.err" || { cat "$TMP/v4.err"; fail "v4: no rollback reload"; }
[ "$(tail -n 2 "$TMP/calls" | tr '\n' ' ')" = "reload $UNIT -> 0 reload $UNIT -> 0 " ] || fail "v4: systemctl calls: $(cat "$TMP/calls")"
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v4: the previous file is not back"
wait_for 10 "$RS" 127.0.0.1 "$FE" 20 || fail "v4: no traffic after the rollback"

# 5. every reload fails: the previous file is back, both failures said
apply_inventory 2 3
: >"$TMP/fail-always"
P5=$(pid_now)
apply v5 && { cat "$TMP/v5.err"; fail "v5: a failed reload was kept"; }
grep -q "reload failed: systemctl reload $UNIT exited with 1" "$TMP/v5.err" || { cat "$TMP/v5.err"; fail "v5: the failed reload is not said"; }
grep -q "reloading the previous configuration failed too: systemctl reload $UNIT exited with 1" "$TMP/v5.err" || { cat "$TMP/v5.err"; fail "v5: the failed rollback reload is not said"; }
[ "$(tail -n 2 "$TMP/calls" | tr '\n' ' ')" = "reload $UNIT -> 1 reload $UNIT -> 1 " ] || fail "v5: systemctl calls: $(cat "$TMP/calls")"
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v5: the previous file is not back"
[ "$(pid_now)" = "$P5" ] || fail "v5: the worker changed without a reload"
rm -f "$TMP/fail-always"

# 6. no systemctl on PATH
n=$(calls)
PATH=$TMP/nobin "$HAGEN" apply --config "$TMP/haproxy.cfg" --systemd "$UNIT" --timeout 15 \
	"$TMP/inventory.yaml" >"$TMP/v6.out" 2>"$TMP/v6.err" && { cat "$TMP/v6.err"; fail "v6: applied without systemctl"; }
grep -q "cannot run systemctl" "$TMP/v6.err" || { cat "$TMP/v6.err"; fail "v6: the missing systemctl is not said"; }
grep -q "reload failed: systemctl reload $UNIT exited with 127" "$TMP/v6.err" || { cat "$TMP/v6.err"; fail "v6: the failed reload is not said"; }
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v6: the previous file is not back"
[ "$(calls)" = "$n" ] || fail "v6: the stand-in was called"
lib_alive "$MAINPID" || fail "the master exited"
wait_for 10 "$RS" 127.0.0.1 "$FE" 20 || fail "no traffic at the end"
echo "apply --systemd: $(calls) systemctl calls as expected; reload under a stream: $(cat "$TMP/rs.out"); failed reloads and a failed check rolled back"
