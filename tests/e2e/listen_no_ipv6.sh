#!/bin/sh
# e2e: the listen tests that use [::1] still run where it cannot be bound (containers, CircleCI's
# docker executor): each of them is run here inside a network namespace whose loopback has no
# IPv6, and must pass, saying that it skipped its IPv6 part. Needs root and unshare(1).
set -u
. "$TOP/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 || skip "unshare or ip missing"
command -v sysctl >/dev/null 2>&1 || skip "sysctl missing"
mkdir -p "$TMP"
unshare -n sh -c 'ip link set lo up && sysctl -q -w net.ipv6.conf.lo.disable_ipv6=1' 2>/dev/null ||
	skip "cannot make a network namespace without IPv6 here"

for t in listen_refused listen_tcp_many listen_transports; do
	mkdir -p "$TMP/$t"
	TMP=$TMP/$t unshare -n sh -c 'ip link set lo up && sysctl -q -w net.ipv6.conf.lo.disable_ipv6=1 &&
		! python3 -c "import socket; socket.socket(socket.AF_INET6).bind((\"::1\", 0))" 2>/dev/null &&
		exec sh "$0"' "$TOP/tests/e2e/$t.sh" </dev/null >"$TMP/$t.out" 2>&1 &
	wait $!
	rc=$?
	[ "$rc" = 0 ] || { tail -20 "$TMP/$t.out"; fail "$t without IPv6: exit $rc"; }
	grep -q "skip the IPv6 part" "$TMP/$t.out" || { cat "$TMP/$t.out"; fail "$t did not say it skipped IPv6"; }
	echo "$t without IPv6: $(tail -1 "$TMP/$t.out")"
done
echo "ok: the three IPv6 listen tests pass without [::1], each saying what it skipped"
