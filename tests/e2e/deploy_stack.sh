#!/bin/sh
# The compose stack without Docker: the compose inventory rendered by hagen and run by the local
# HAProxy on loopback, with Docker's DNS played by a small responder (the name `app` gives three
# replicas, 127.0.0.2-4, all on one port as in the stack), halog listen receiving the logs over
# UDP, and the stack's own check, samples/compose/verify.sh (hagen-verify in the image), driving
# traffic and checking the balance against the inventory. Only what Docker provides is
# replaced: addresses and ports (moved to free loopback ones) and the DNS server.
set -u
. "$TOP/tests/lib.sh"
for b in "$HAGEN" "$HALOG" "$SAMPLE_APP"; do [ -x "$b" ] || skip "no $b"; done
command -v haproxy >/dev/null || skip "haproxy is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v curl >/dev/null || skip "curl is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
"$HAGEN" render --help >"$TMP.help" 2>&1
grep -q -- --target "$TMP.help" || { rm -f "$TMP.help"; skip "this hagen has no 'render --target' yet"; }
rm -f "$TMP.help"
"$HALOG" drive --help >"$TMP.help" 2>&1
grep -q -- --inventory "$TMP.help" || { rm -f "$TMP.help"; skip "this halog has no 'drive --inventory' yet"; }
rm -f "$TMP.help"
mkdir -p "$TMP/reports"
cd "$TOP" || fail "no $TOP"

web=$(free_port) && stats=$(free_port) && logp=$(free_port) && dns=$(free_port) &&
	appp=$(free_port) || fail "no free port"
ver=$(haproxy -v | sed -n 's/^HAProxy version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)

# --- the compose inventory on loopback ----------------------------------------------------------
python3 - samples/compose/inventory.yaml "$TMP/inventory.yaml" "$web" "$stats" "$logp" "$dns" "$appp" "$TMP" <<'EOF' ||
import sys, yaml
src, dst, web, stats, logp, dns, appp, tmp = sys.argv[1:9]
inv = yaml.safe_load(open(src))
g = inv["global"]
halog_line = 'log "${HALOG_ADDR}:5140" format rfc3164 local0 info'
assert halog_line in g["extra"], g.get("extra")
# halog's port moves to a free one; its address stays lb's HALOG_ADDR (127.0.0.1 below)
g["extra"] = [halog_line.replace(":5140", f":{logp}") if l == halog_line else l for l in g["extra"]]
g["stats_socket"] = f"{tmp}/admin.sock"
assert inv["resolvers"]["docker"]["nameservers"] == ["127.0.0.11:53"]
inv["resolvers"]["docker"]["nameservers"] = [f"127.0.0.1:{dns}"]
assert inv["stats"]["bind"] == ":8404"
inv["stats"]["bind"] = f"127.0.0.1:{stats}"
assert inv["entrypoints"]["web"]["bind"] == [":8080"]
inv["entrypoints"]["web"]["bind"] = [f"127.0.0.1:{web}"]
d = inv["services"]["app"]["discovery"]["dns"]
assert d["name"] == "app" and d["port"] == 8000
d["port"] = int(appp)
yaml.safe_dump(inv, open(dst, "w"), sort_keys=False)
EOF
	fail "cannot move the compose inventory to loopback"
"$HAGEN" render --target "$ver" -o "$TMP/haproxy.cfg" "$TMP/inventory.yaml" 2>"$TMP/err" ||
	fail "hagen render: $(cat "$TMP/err")"

# --- Docker's DNS: app -> 127.0.0.2, .3, .4 ------------------------------------------------------
cat >"$TMP/dns.py" <<'EOF'
# A DNS responder for one name: A queries for "app" get the replicas, AAAA gets no answer,
# anything else NXDOMAIN. Enough for HAProxy's resolvers; stops after 120 s.
import socket, struct, sys, time
port, name, addrs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
s.settimeout(1)
end = time.time() + 120
while time.time() < end:
    try:
        q, peer = s.recvfrom(4096)
    except socket.timeout:
        continue
    if len(q) < 17:
        continue
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qend = i + 5
    if qend > len(q):
        continue
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:qend]
    known = ".".join(labels).lower().rstrip(".") == name
    answers = b""
    if known and qtype == 1:
        for a in addrs:
            answers += struct.pack(">HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(a)
    rcode = 0 if known else 3
    head = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1,
                       len(addrs) if known and qtype == 1 else 0, 0, 0)
    s.sendto(head + question + answers, peer)
EOF
lib_start "$TMP/dns.log" python3 "$TMP/dns.py" "$dns" app 127.0.0.2 127.0.0.3 127.0.0.4 >/dev/null
wait_for 5 sh -c "ss -Hlnu | grep -q ':$dns '" || fail "DNS responder: $(cat "$TMP/dns.log")"

# --- the replicas (named like containers, by hostname), halog, haproxy -------------------------
for n in 2 3 4; do
	lib_start "$TMP/app$n.log" "$SAMPLE_APP" --name "c0ffee00000$n" --listen "127.0.0.$n:$appp" >/dev/null
done
lib_start "$TMP/halog.log" "$HALOG" listen --db "$TMP/halog.db" --bind "udp://127.0.0.1:$logp" >/dev/null
for n in 2 3 4; do
	wait_for 5 sh -c "ss -Hlnt | grep -q '127.0.0.$n:$appp '" || fail "app $n: $(cat "$TMP/app$n.log")"
done
wait_for 5 sh -c "ss -Hlnu | grep -q ':$logp '" || fail "halog listen: $(cat "$TMP/halog.log")"
lib_start "$TMP/haproxy.log" env HALOG_ADDR=127.0.0.1 STATS_PASSWORD=stack-test haproxy -W -db -f "$TMP/haproxy.cfg" >/dev/null

# every replica resolved and UP before the check (a late one would take less than its share)
all_up() {
	curl -s -u admin:stack-test "http://127.0.0.1:$stats/stats;csv" >"$TMP/stats.csv" 2>/dev/null || return 1
	[ "$(grep -c '^be_app,app[0-9]*,.*,UP,' "$TMP/stats.csv")" -eq 3 ]
}
wait_for 30 all_up || fail "not 3 servers UP in be_app: $(grep '^be_app' "$TMP/stats.csv" | cut -d, -f1,2,18)"
grep '^be_app,app' "$TMP/stats.csv" | cut -d, -f2,18 | tr '\n' ' '
echo

# --- the stack's check, as the verify service runs it --------------------------------------------
sh samples/compose/bake.sh probe "$TMP" >"$TMP/cc.log" 2>&1 || fail "bake.sh probe: $(cat "$TMP/cc.log")"
HALOG=$HALOG PROBE=$TMP/probe VERIFY_URL="http://127.0.0.1:$web/" VERIFY_REQUESTS=300 \
	VERIFY_CONCURRENCY=6 VERIFY_TOLERANCE=25 VERIFY_WARMUP=20 VERIFY_SETTLE=1 \
	HALOG_DB="$TMP/halog.db" VERIFY_INVENTORY="$TMP/inventory.yaml" VERIFY_REPORTS="$TMP/reports" \
	sh samples/compose/verify.sh >"$TMP/verify.out" 2>&1
rc=$?
cat "$TMP/verify.out"
[ "$rc" -eq 0 ] || fail "verify.sh exited $rc (haproxy: $(tail -5 "$TMP/haproxy.log"))"
[ -s "$TMP/reports/report.txt" ] || fail "no reports/report.txt"
for s in app1 app2 app3; do
	grep -q "$s" "$TMP/reports/report.txt" || fail "report does not name server $s"
done
# the HTML report for CI artifacts, once halog report has that format
"$HALOG" report --help >"$TMP/rh" 2>&1
if grep -q html "$TMP/rh"; then
	[ -s "$TMP/reports/report.html" ] || fail "halog report knows html, but verify.sh wrote no report.html"
	grep -qi '<html' "$TMP/reports/report.html" || fail "report.html is not HTML"
	grep -q 'app1' "$TMP/reports/report.html" || fail "report.html does not name app1"
	echo "verify.sh wrote reports/report.html ($(wc -c <"$TMP/reports/report.html") bytes)"
else
	echo "halog report has no html format yet: report.html not checked"
fi
echo "the compose stack's check passed on loopback: 3 replicas found by DNS, balanced"

# --- verify.sh passes drive's verdict on, and gives up on a dead lb --------------------------------
printf '#!/bin/sh\ncase $1 in drive) echo "stub: unbalanced"; exit 3 ;; *) exit 1 ;; esac\n' >"$TMP/stub-halog"
chmod +x "$TMP/stub-halog"
rm -rf "$TMP/reports" && mkdir -p "$TMP/reports"
HALOG=$TMP/stub-halog PROBE=$TMP/probe VERIFY_URL="http://127.0.0.1:$web/" VERIFY_SETTLE=0 \
	VERIFY_INVENTORY="$TMP/inventory.yaml" VERIFY_REPORTS="$TMP/reports" HALOG_DB="$TMP/halog.db" \
	sh samples/compose/verify.sh >"$TMP/v2.out" 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "verify.sh with drive exiting 3: exit $rc: $(cat "$TMP/v2.out")"
grep -q "stub: unbalanced" "$TMP/reports/report.txt" || fail "verify.sh did not keep drive's output"
[ -e "$TMP/reports/report.html" ] && fail "verify.sh kept an HTML report although report failed"
dead=$(free_port) || fail "no free port"
HALOG=$TMP/stub-halog PROBE=$TMP/probe VERIFY_URL="http://127.0.0.1:$dead/" VERIFY_WARMUP=2 \
	VERIFY_REPORTS="$TMP/reports" sh samples/compose/verify.sh >"$TMP/v3.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "verify.sh against a dead lb: exit $rc: $(cat "$TMP/v3.out")"
grep -q "gave no 2xx answer in 2s" "$TMP/v3.out" || fail "verify.sh dead lb: $(cat "$TMP/v3.out")"
echo "verify.sh: exit 3 passed on from drive, exit 1 when lb never answers"

# --- a numeric URL needs no name lookup: in a network namespace with only loopback (a container
# on `network_mode: none`, or sharing lb's), getent finds no IPv4 address for 127.0.0.1 ----------
un=
if unshare -n true 2>/dev/null; then un="unshare -n"; elif unshare -rn true 2>/dev/null; then un="unshare -rn"; fi
if [ -n "$un" ]; then
	$un sh -c 'ip link set lo up 2>/dev/null; exec "$@"' sh env HALOG="$TMP/stub-halog" PROBE="$TMP/probe" \
		VERIFY_URL="http://127.0.0.1:$dead/" VERIFY_WARMUP=1 VERIFY_REPORTS="$TMP/reports" \
		sh samples/compose/verify.sh >"$TMP/v4.out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && grep -q "gave no 2xx answer in 1s" "$TMP/v4.out" ||
		fail "verify.sh in a loopback-only namespace: exit $rc: $(cat "$TMP/v4.out")"
	echo "verify.sh in a loopback-only network namespace: 127.0.0.1 taken as it is (no lookup)"
else
	echo "verify.sh in a loopback-only namespace: not checked (unshare -n is not allowed here)"
fi
