#!/bin/sh
# hagen apply on a real HAProxy in master-worker mode on loopback (Debian's haproxy -W -S):
#  1. a weight change is applied while a client keeps one connection and a stream of requests
#     going through the reload: every request is answered 200, the master runs a new worker, the
#     installed file is the new rendering and the previous one is kept as .prev;
#  2. --dry-run shows the difference and changes nothing;
#  3. a broken inventory (hagen refuses it) and one haproxy -c refuses never reach HAProxy: same
#     file, same worker, no reload;
#  4. a change that makes a service fail its checks (a server moved to a port nobody listens on)
#     is rolled back: exit 1, the previous file is back, HAProxy reloaded with it, servers UP;
#  5. a change haproxy -c accepts but HAProxy cannot start (a second entrypoint on a port another
#     process holds) fails at the reload: the master keeps the old worker, apply rolls back and
#     reloads again, and a client streaming requests through both reloads loses none.
. "$TOP/tests/e2e/apply-lib"
apply_inventory 1 1
"$HAGEN" render --target "$HAPROXY_TARGET" -o "$TMP/haproxy.cfg" "$TMP/inventory.yaml" || fail "render v1"
cp "$TMP/haproxy.cfg" "$TMP/v1.cfg"
lib_start "$TMP/haproxy.log" "$HAPROXY_BIN" -W -db -S "$TMP/master.sock" -f "$TMP/haproxy.cfg"
HP=$LIB_LAST_PID
wait_for 10 "$RS" 127.0.0.1 "$FE" 1 || { cat "$TMP/haproxy.log"; fail "haproxy did not start"; }

procs() { sock_cmd "$TMP/master.sock" "show proc;quit"; } # the master's process list
worker() { procs | sed -n '/^# workers/{n;p;}' | awk '{print $1}'; }
W0=$(worker)
[ -n "$W0" ] || fail "no worker in show proc"

# 1. weights 1:1 -> 1:3 under a stream of requests over one kept-alive connection
apply_inventory 1 3
"$RS" 127.0.0.1 "$FE" 1500 2 >"$TMP/rs.out" 2>&1 &
RSP=$!
sleep 1
"$HAGEN" apply --config "$TMP/haproxy.cfg" --master-socket "$TMP/master.sock" --timeout 20 \
	"$TMP/inventory.yaml" >"$TMP/apply.out" 2>"$TMP/apply.err" ||
	{ cat "$TMP/apply.out" "$TMP/apply.err" "$TMP/haproxy.log"; fail "apply v2"; }
wait "$RSP"
rs=$?
cat "$TMP/rs.out"
[ "$rs" = 0 ] || fail "the client lost requests across the reload: $(cat "$TMP/rs.out")"
grep -q "^sent 1500 ok 1500 other 0 failed 0 retried 0" "$TMP/rs.out" || fail "client summary: $(cat "$TMP/rs.out")"
grep -q '^-.*server web2 .* weight 1$' "$TMP/apply.out" || { cat "$TMP/apply.out"; fail "no diff line for the old weight"; }
grep -q '^+.*server web2 .* weight 3$' "$TMP/apply.out" || fail "no diff line for the new weight"
grep -q "reloaded: new worker" "$TMP/apply.err" || fail "apply did not say it reloaded"
grep -q "runs every service; 2 checked servers UP" "$TMP/apply.err" || { cat "$TMP/apply.err"; fail "apply did not verify"; }
W1P=$(worker)
[ -n "$W1P" ] && [ "$W1P" != "$W0" ] || fail "no new worker after the reload ($W0 -> $W1P)"
"$HAGEN" render --target "$HAPROXY_TARGET" "$TMP/inventory.yaml" | cmp -s - "$TMP/haproxy.cfg" || fail "installed file is not the v2 rendering"
cmp -s "$TMP/v1.cfg" "$TMP/haproxy.cfg.prev" || fail "the previous file was not kept as .prev"
lib_alive "$HP" || fail "the master exited"

# 2. --dry-run: the difference, and nothing else
apply_inventory 2 3
cp "$TMP/haproxy.cfg" "$TMP/before.cfg"
"$HAGEN" apply --dry-run --config "$TMP/haproxy.cfg" --master-socket "$TMP/master.sock" \
	"$TMP/inventory.yaml" >"$TMP/dry.out" 2>"$TMP/dry.err" || { cat "$TMP/dry.err"; fail "dry run"; }
grep -q '^+.*server web1 .* weight 2$' "$TMP/dry.out" || fail "dry run shows no difference"
grep -q "dry run: 2 lines would change" "$TMP/dry.err" || { cat "$TMP/dry.err"; fail "dry run summary"; }
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "dry run changed the installed file"
[ "$(worker)" = "$W1P" ] || fail "dry run reloaded HAProxy"

# 3. what hagen or haproxy refuses never reaches the running HAProxy
printf 'entrypoints:\n  web: { bind: "127.0.0.1:%s" }\nservices:\n  web: { servers: [{ name: a, adress: "x" }] }\n' "$FE" >"$TMP/bad1.yaml"
for b in bad1 bad2; do
	if [ "$b" = bad1 ]; then cp "$TMP/bad1.yaml" "$TMP/inventory.yaml"; else apply_inventory 1 3 && sed -i 's/^services:/services:\n  broken:\n    entrypoints: []\n    servers: [{ name: b, address: "127.0.0.1:1" }]\n    extra: [bogus-directive]/' "$TMP/inventory.yaml"; fi
	"$HAGEN" apply --config "$TMP/haproxy.cfg" --master-socket "$TMP/master.sock" \
		"$TMP/inventory.yaml" >"$TMP/$b.out" 2>"$TMP/$b.err" && fail "$b was applied"
	grep -q "nothing was installed" "$TMP/$b.err" || { cat "$TMP/$b.err"; fail "$b: no refusal line"; }
	cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "$b changed the installed file"
	[ "$(worker)" = "$W1P" ] || fail "$b reloaded HAProxy"
done
grep -q "unknown key 'adress'" "$TMP/bad1.err" || fail "bad1: the inventory error is not shown"
grep -q "bogus-directive" "$TMP/bad2.err" || { cat "$TMP/bad2.err"; fail "bad2: haproxy complaint is not shown"; }

# 4. web1 moved to a dead port: its check fails, apply rolls back
apply_inventory 1 3 "$DEAD"
"$HAGEN" apply --config "$TMP/haproxy.cfg" --master-socket "$TMP/master.sock" --timeout 15 \
	"$TMP/inventory.yaml" >"$TMP/v3.out" 2>"$TMP/v3.err" && { cat "$TMP/v3.err"; fail "v3 was not rolled back"; }
grep -q "server be_web/web1 is DOWN" "$TMP/v3.err" || { cat "$TMP/v3.err"; fail "v3: what failed is not said"; }
grep -q "rolled back" "$TMP/v3.err" || fail "v3: no rollback line"
grep -q "reloaded with the previous configuration" "$TMP/v3.err" || { cat "$TMP/v3.err"; fail "v3: no second reload"; }
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v3: the previous file is not back"
"$HAGEN" render --target "$HAPROXY_TARGET" "$TMP/inventory.yaml" | cmp -s - "$TMP/haproxy.cfg.rejected" || fail "v3: the rejected file is not kept"
W3P=$(worker)
[ -n "$W3P" ] && [ "$W3P" != "$W1P" ] || fail "v3: no worker of the rollback"
wait_for 10 "$RS" 127.0.0.1 "$FE" 20 || fail "traffic does not flow after the rollback"
lib_alive "$HP" || fail "the master exited"

# 5. the new configuration cannot bind (web2's own port): the reload fails, apply rolls back
apply_inventory 1 3 "" "$W2"
"$RS" 127.0.0.1 "$FE" 1500 2 >"$TMP/rs5.out" 2>&1 &
RSP=$!
sleep 1
"$HAGEN" apply --config "$TMP/haproxy.cfg" --master-socket "$TMP/master.sock" --timeout 15 \
	"$TMP/inventory.yaml" >"$TMP/v5.out" 2>"$TMP/v5.err" && { cat "$TMP/v5.err"; fail "v5 was kept"; }
wait "$RSP"
rs=$?
cat "$TMP/rs5.out"
[ "$rs" = 0 ] || fail "the client lost requests across the failed reload: $(cat "$TMP/rs5.out")"
grep -q "^sent 1500 ok 1500 other 0 failed 0 retried 0" "$TMP/rs5.out" || fail "v5 client: $(cat "$TMP/rs5.out")"
grep -q "reload failed: HAProxy refused the new configuration" "$TMP/v5.err" || { cat "$TMP/v5.err"; fail "v5: the failed reload is not said"; }
grep -q "reloaded with the previous configuration" "$TMP/v5.err" || { cat "$TMP/v5.err"; fail "v5: no rollback reload"; }
grep -q "cannot bind socket" "$TMP/haproxy.log" || fail "v5: haproxy did not fail to bind (the case tests nothing)"
cmp -s "$TMP/before.cfg" "$TMP/haproxy.cfg" || fail "v5: the previous file is not back"
W5P=$(worker)
[ -n "$W5P" ] && [ "$W5P" != "$W3P" ] || fail "v5: no worker of the rollback ($W3P -> $W5P)"
wait_for 10 "$RS" 127.0.0.1 "$FE" 20 || fail "v5: traffic does not flow after the rollback"
lib_alive "$HP" || fail "the master exited"
echo "apply: reloads under a request stream lost nothing ($(cat "$TMP/rs.out"); failed reload: $(cat "$TMP/rs5.out")); dry run, refusals and both rollbacks behave"
