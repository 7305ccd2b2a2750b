#!/bin/sh
# hagen server on a real HAProxy: drain, maint, ready and weight through the stats socket named
# by the inventory and through the master CLI, each read back from `show stat` and seen in the
# traffic; --write puts the same change into the inventory, which keeps its comments and layout
# (only the edited values change) and renders what now runs; HAProxy's refusal of an unknown
# server and an inventory without that server are errors.
. "$TOP/tests/e2e/apply-lib"
command -v curl >/dev/null 2>&1 || skip "curl not installed"
cat >"$TMP/inventory.yaml" <<EOF
# the web tier (comments and layout must survive hagen server --write)
global:
  stats_socket: { path: $TMP/admin.sock, mode: "600" }   # runtime API
defaults:
  timeouts: { connect: 2s, client: 30s, server: 30s }
entrypoints:
  web: { bind: "127.0.0.1:$FE" }
services:
  web:
    balance: roundrobin
    servers:
      - { name: web1, address: "127.0.0.1:$W1" }   # the old box
      - name: web2
        address: "127.0.0.1:$W2"
        weight: 1          # grows with traffic
EOF
cp "$TMP/inventory.yaml" "$TMP/original.yaml"
"$HAGEN" render --target "$HAPROXY_TARGET" -o "$TMP/haproxy.cfg" "$TMP/inventory.yaml" || fail "render"
lib_start "$TMP/haproxy.log" "$HAPROXY_BIN" -W -db -S "$TMP/master.sock" -f "$TMP/haproxy.cfg"
wait_for 10 "$RS" 127.0.0.1 "$FE" 1 || { cat "$TMP/haproxy.log"; fail "haproxy did not start"; }

# served BY: how many of 20 requests went to each server
served() {
	: >"$TMP/who"
	i=0
	while [ $i -lt 20 ]; do
		curl -fsS "http://127.0.0.1:$FE/" >>"$TMP/who" 2>/dev/null
		i=$((i + 1))
	done
	echo "web1=$(grep -c '^web1' "$TMP/who") web2=$(grep -c '^web2' "$TMP/who")"
}
[ "$(served)" = "web1=10 web2=10" ] || fail "not balanced at start: $(served)"

# drain web1 through the inventory's stats socket, and write it down
"$HAGEN" server drain web web1 --inventory "$TMP/inventory.yaml" --write >"$TMP/o" 2>"$TMP/e" ||
	{ cat "$TMP/e"; fail "drain"; }
grep -q "^be_web/web1: DRAIN" "$TMP/o" || { cat "$TMP/o" "$TMP/e"; fail "drain not read back"; }
[ "$(served)" = "web1=0 web2=20" ] || fail "web1 still gets traffic while drained: $(served)"
grep -q '{ name: web1, address: "127.0.0.1:'"$W1"'", drain: true }   # the old box' "$TMP/inventory.yaml" ||
	{ cat "$TMP/inventory.yaml"; fail "drain not written in place"; }
"$HAGEN" render --target "$HAPROXY_TARGET" "$TMP/inventory.yaml" | grep -q "server web1 127.0.0.1:$W1 check weight 0" ||
	fail "a drained server does not render weight 0"

# maint through the master CLI
"$HAGEN" server maint web web1 --master-socket "$TMP/master.sock" >"$TMP/o" 2>"$TMP/e" ||
	{ cat "$TMP/e"; fail "maint"; }
grep -q "^be_web/web1: MAINT" "$TMP/o" || { cat "$TMP/o"; fail "maint not read back"; }

# ready again, written: drain and maintenance leave the inventory
"$HAGEN" server ready web web1 --inventory "$TMP/inventory.yaml" --write >"$TMP/o" 2>"$TMP/e" ||
	{ cat "$TMP/e"; fail "ready"; }
grep -q "^be_web/web1: UP\|^be_web/web1: no check" "$TMP/o" || { cat "$TMP/o"; fail "ready not read back"; }
cmp -s "$TMP/original.yaml" "$TMP/inventory.yaml" || { diff "$TMP/original.yaml" "$TMP/inventory.yaml"; fail "ready did not give back the original file"; }

# weight 3 on web2, written in place; the traffic follows 1:3
"$HAGEN" server weight web web2 3 --inventory "$TMP/inventory.yaml" --write >"$TMP/o" 2>"$TMP/e" ||
	{ cat "$TMP/e"; fail "weight"; }
grep -q "^be_web/web2: .*, weight 3" "$TMP/o" || { cat "$TMP/o"; fail "weight not read back"; }
[ "$(served)" = "web1=5 web2=15" ] || fail "weights 1:3 not followed: $(served)"
diff "$TMP/original.yaml" "$TMP/inventory.yaml" >"$TMP/d"
[ "$(grep -c '^[<>]' "$TMP/d")" = 2 ] || { cat "$TMP/d"; fail "more than the weight line changed"; }
grep -q '^>         weight: 3          # grows with traffic$' "$TMP/d" || { cat "$TMP/d"; fail "the weight line lost its comment"; }
# what is written renders what runs
"$HAGEN" render --target "$HAPROXY_TARGET" "$TMP/inventory.yaml" | grep -q "server web2 127.0.0.1:$W2 check weight 3" || fail "the written inventory does not render weight 3"

# errors: HAProxy's refusal, an inventory without the server, a bad weight
"$HAGEN" server drain web nosuch --stats-socket "$TMP/admin.sock" >"$TMP/o" 2>"$TMP/e" && fail "unknown server accepted"
grep -q "HAProxy refused 'set server be_web/nosuch state drain'" "$TMP/e" || { cat "$TMP/e"; fail "HAProxy's refusal not shown"; }
"$HAGEN" server drain web web3 --inventory "$TMP/inventory.yaml" >"$TMP/o" 2>"$TMP/e" && fail "server missing from the inventory accepted"
grep -q "service 'web' has no server 'web3' (did you mean 'web1'?)" "$TMP/e" || { cat "$TMP/e"; fail "no suggestion"; }
"$HAGEN" server weight web web2 300 --stats-socket "$TMP/admin.sock" 2>"$TMP/e"
[ $? = 2 ] || fail "weight 300 is not a usage error"
echo "server: drain, maint, ready, weight applied and read back; --write edits in place"
