#!/bin/sh
# The config the load-balancer image bakes is byte for byte what hagen renders for the same
# inventory and HAProxy version, and HAProxy accepts it. Without a Docker engine: this runs the
# Dockerfile's own bake command (samples/compose/bake.sh) with our hagen, for the Dockerfile's
# default inventory and for the compose stack's.
# Which HAProxy checks what: the image build runs `haproxy -c` with the image's HAProxy
# (HAPROXY_VERSION, 3.0 by default) on the --target 3.0 render. Here, Debian's haproxy (2.6)
# checks the --target <its own version> render with -dW (warnings fatal), and the 3.0 render
# too when hagen emitted nothing 2.6 lacks (the two renders are diffed to show what differs).
set -u
. "$TOP/tests/lib.sh"
[ -x "$HAGEN" ] || skip "no $HAGEN"
command -v haproxy >/dev/null || skip "haproxy is not installed"
"$HAGEN" render --help >"$TMP.help" 2>&1
grep -q -- --target "$TMP.help" || { rm -f "$TMP.help"; skip "this hagen has no 'render --target' yet"; }
rm -f "$TMP.help"
mkdir -p "$TMP"
cd "$TOP" || fail "no $TOP"
df=Dockerfile.haproxy
bake=samples/compose/bake.sh

# --- the Dockerfile bakes with bake.sh and copies exactly that file ---------------------------
grep -q 'sh samples/compose/bake.sh config /out/hagen "$INVENTORY" "$HAPROXY_VERSION" /out/image' "$df" ||
	fail "$df does not render with: sh $bake config /out/hagen \"\$INVENTORY\" \"\$HAPROXY_VERSION\" /out/image"
grep -q '^COPY --from=build /out/image/haproxy.cfg /usr/local/etc/haproxy/haproxy.cfg$' "$df" ||
	fail "$df does not copy /out/image/haproxy.cfg to /usr/local/etc/haproxy/haproxy.cfg"
version=$(sed -n 's/^ARG HAPROXY_VERSION=\(.*\)$/\1/p' "$df" | head -1)
default_inv=$(sed -n 's/^ARG INVENTORY=\(.*\)$/\1/p' "$df" | head -1)
[ -n "$version" ] || fail "$df: no default for ARG HAPROXY_VERSION"
[ -n "$default_inv" ] || fail "$df: no default for ARG INVENTORY"
grep -q '^ARG HAGEN_ENV=$' "$df" || fail "$df: ARG HAGEN_ENV should default to empty (no -e)"
target=$(sh "$bake" target "$version") || fail "bake.sh target $version"
echo "image: haproxy:$version, configs rendered with --target $target"

local_ver=$(haproxy -v | sed -n 's/^HAProxy version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
[ -n "$local_ver" ] || fail "cannot read the local haproxy version"

sh "$bake" probe "$TMP/probe" >"$TMP/cc.log" 2>&1 || fail "bake.sh probe: $(cat "$TMP/cc.log")"
checked=0
for inv in "$default_inv" samples/compose/inventory.yaml; do
	if [ ! -f "$inv" ]; then
		[ "$inv" = "$default_inv" ] && echo "$inv: not written yet, not checked"
		continue
	fi
	name=$(echo "$inv" | tr '/.' '__')
	out=$TMP/$name
	mkdir -p "$out"
	# what the image build runs (paths /out/hagen and /out/image replaced)
	sh "$bake" config "$HAGEN" "$inv" "$version" "$out/image" >"$out/bake.log" 2>&1 ||
		fail "$inv: bake.sh config failed: $(cat "$out/bake.log")"
	# hagen by hand, both output forms, twice
	"$HAGEN" render --target "$target" "$inv" >"$out/stdout.cfg" 2>"$out/err" ||
		fail "$inv: hagen render --target $target: $(cat "$out/err")"
	"$HAGEN" render --target "$target" -o "$out/o.cfg" "$inv" 2>"$out/err" ||
		fail "$inv: hagen render -o: $(cat "$out/err")"
	cmp "$out/image/haproxy.cfg" "$out/stdout.cfg" ||
		fail "$inv: the baked config differs from hagen render's output"
	cmp "$out/image/haproxy.cfg" "$out/o.cfg" || fail "$inv: -o and stdout renders differ"
	[ -s "$out/o.cfg" ] || fail "$inv: empty render"
	echo "$inv: baked config = hagen render --target $target ($(wc -l <"$out/o.cfg") lines)"
	# what the image needs at run time: ports >= 1024 (uid 99), a health URL for HEALTHCHECK
	# (the build runs this very `probe -n -c` and stops without one)
	grep -Eq '^[[:space:]]*bind[[:space:]]+[^[:space:]]*:([0-9]|[1-9][0-9]|[1-9][0-9][0-9]|10[01][0-9]|102[0-3])([[:space:],]|$)' "$out/o.cfg" &&
		fail "$inv: binds a port below 1024, which the image (uid 99) cannot"
	hurl=$("$TMP/probe/probe" -n -c "$out/o.cfg" 2>"$out/err") ||
		fail "$inv: no health URL for the image's HEALTHCHECK: $(cat "$out/err")"
	echo "$inv: ports >= 1024, HEALTHCHECK probes $hurl"
	# a loopback bind inside a container is out of reach of published ports
	if grep -Eq '^[[:space:]]*bind[[:space:]]+(127\.[0-9.]+|\[::1\]|ipv4@127\.[0-9.]+):' "$out/o.cfg"; then
		[ "$inv" = samples/compose/inventory.yaml ] &&
			fail "$inv: binds loopback, which lb's published ports cannot reach"
		echo "$inv: note: binds loopback only; run it with HAGEN_ENV naming an environment that binds ':PORT'"
	fi

	# the local HAProxy checks the render for its own version, warnings fatal
	"$HAGEN" render --target "$local_ver" -o "$out/local.cfg" "$inv" 2>"$out/err" ||
		fail "$inv: hagen render --target $local_ver: $(cat "$out/err")"
	haproxy -c -dW -f "$out/local.cfg" >"$out/check" 2>&1 ||
		fail "$inv: haproxy $local_ver -c -dW rejects the --target $local_ver render: $(cat "$out/check")"
	echo "$inv: haproxy $local_ver -c -dW accepts the --target $local_ver render"
	if cmp -s "$out/local.cfg" "$out/o.cfg"; then
		echo "$inv: the --target $target render is the same bytes, so $local_ver checked it too"
	else
		echo "$inv: --target $local_ver vs --target $target:"
		diff "$out/local.cfg" "$out/o.cfg" | sed 's/^/    /'
		if haproxy -c -dW -f "$out/o.cfg" >"$out/check2" 2>&1; then
			echo "$inv: haproxy $local_ver also accepts the --target $target render"
		else
			echo "$inv: haproxy $local_ver rejects the --target $target render (only haproxy:$version checks it, in the image build):"
			sed 's/^/    /' "$out/check2" | head -5
		fi
	fi
	checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || fail "no inventory checked"

# --- HAGEN_ENV (--build-arg): bake.sh renders that environment, as hagen render -e does ---------
python3 - samples/compose/inventory.yaml "$TMP/env.yaml" <<'EOF' || fail "cannot write an inventory with an environment"
import sys, yaml
inv = yaml.safe_load(open(sys.argv[1]))
inv.setdefault("environments", {})["deploytest"] = {"entrypoints": {"web": {"bind": [":18080"]}}}
yaml.safe_dump(inv, open(sys.argv[2], "w"), sort_keys=False)
EOF
HAGEN_ENV=deploytest sh "$bake" config "$HAGEN" "$TMP/env.yaml" "$version" "$TMP/env" >"$TMP/env.log" 2>&1 ||
	fail "HAGEN_ENV=deploytest bake.sh config: $(cat "$TMP/env.log")"
"$HAGEN" render -e deploytest --target "$target" -o "$TMP/env-direct.cfg" "$TMP/env.yaml" 2>"$TMP/err" ||
	fail "hagen render -e deploytest: $(cat "$TMP/err")"
cmp "$TMP/env/haproxy.cfg" "$TMP/env-direct.cfg" || fail "HAGEN_ENV bake differs from hagen render -e"
grep -Eq '^[[:space:]]+bind[[:space:]]+:18080$' "$TMP/env/haproxy.cfg" || fail "HAGEN_ENV: the environment was not applied"
echo "HAGEN_ENV=deploytest: baked config = hagen render -e deploytest"

# --- the compose render: what docker-compose.yml and the image expect of it ----------------------
c=$TMP/samples_compose_inventory_yaml/o.cfg
grep -Eq '^[[:space:]]+bind[[:space:]]+(\*|0\.0\.0\.0|::|\[::\])?:8080([[:space:]]|$)' "$c" ||
	fail "compose render: no bind on :8080 (lb publishes 8080)"
grep -Eq '^[[:space:]]+bind[[:space:]]+(\*|0\.0\.0\.0|::|\[::\])?:8404([[:space:]]|$)' "$c" ||
	fail "compose render: no bind on :8404 (lb publishes 8404)"
grep -Eq '^[[:space:]]*log[[:space:]]+"\$\{HALOG_ADDR\}:5140"[[:space:]]' "$c" ||
	fail "compose render: does not log to halog at \"\${HALOG_ADDR}:5140\" (lb's environment)"
grep -Eq '^[[:space:]]*nameserver[[:space:]]+[^[:space:]]+[[:space:]]+127\.0\.0\.11:53' "$c" ||
	fail "compose render: no nameserver 127.0.0.11:53 (Docker's DNS)"
grep -Eq '^[[:space:]]*server-template[[:space:]]+[^[:space:]]+[[:space:]]+5[[:space:]]+app:8000' "$c" ||
	fail "compose render: no server-template with 5 slots for app:8000"
grep -q 'init-addr none' "$c" || fail "compose render: no init-addr none (lb would wait for the apps)"
url=$("$TMP/probe/probe" -n -c "$c") || fail "probe -n -c: no health URL in the compose render"
[ "$url" = "http://127.0.0.1:8404/healthz" ] || fail "compose render: health URL $url"
echo "compose render: binds 8080 and 8404, logs to halog at \$HALOG_ADDR, server-template app:8000 x5, health $url"
