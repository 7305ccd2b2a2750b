#!/bin/sh
# hagen-verify: the compose stack's check (service `verify`, profile verify, image target halog).
# Waits until the load balancer serves through an app, sends traffic with `halog drive`, which
# waits for HAProxy's log lines in halog's store, prints the report and checks the balance
# against the inventory; then writes the reports to $VERIFY_REPORTS for CI artifacts.
# Exit: drive's (0 ok, 1 error or log lines missing, 3 balance off), 1 when lb never answered.
set -u
url=${VERIFY_URL:-http://lb:8080/}
n=${VERIFY_REQUESTS:-300}
c=${VERIFY_CONCURRENCY:-6}
tol=${VERIFY_TOLERANCE:-25}
warmup=${VERIFY_WARMUP:-60}   # longest wait for a first answer through lb, seconds
settle=${VERIFY_SETTLE:-6}    # then this long, so every replica passes its health check
db=${HALOG_DB:-/var/lib/halog/halog.db}
inv=${VERIFY_INVENTORY:-/etc/hagen/inventory.yaml}
out=${VERIFY_REPORTS:-/reports}
halog=${HALOG:-halog}         # the image's; tests point these at their builds
probe=${PROBE:-probe}

# The probe takes numeric addresses only: resolve lb's name here (getent is in every Debian).
# A numeric host is used as it is: getent asks with AI_ADDRCONFIG, which finds no IPv4 address
# at all in a network namespace that has only loopback, and so cannot "resolve" even 127.0.0.1.
hostport=${url#http://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
path=${url#http://"$hostport"}
path=${path:-/}
case $host in
"") ip= ;;
\[*\]) ip=$host ;;
*[!0-9.]*) ip=$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }') ;;
*) ip=$host ;;
esac
if [ -z "$ip" ]; then
	echo "hagen-verify: cannot resolve '$host'" >&2
	exit 1
fi
i=0
until "$probe" -t 2 "http://$ip:$port$path" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge "$warmup" ]; then
		echo "hagen-verify: $url gave no 2xx answer in ${warmup}s" >&2
		"$probe" -t 2 "http://$ip:$port$path"
		exit 1
	fi
	sleep 1
done
echo "hagen-verify: $url answers; waiting ${settle}s for every replica's health check"
sleep "$settle"

mkdir -p "$out"
"$halog" drive "$url" -n "$n" -c "$c" --db "$db" --timeout 30 \
	--inventory "$inv" --tolerance "$tol" >"$out/report.txt"
rc=$?
cat "$out/report.txt"
echo "hagen-verify: halog drive exited $rc"

# The picture for CI artifacts; a failure here does not hide drive's verdict.
if "$halog" report --db "$db" --inventory "$inv" --format html >"$out/report.html.tmp"; then
	mv "$out/report.html.tmp" "$out/report.html"
	echo "hagen-verify: wrote $out/report.html"
else
	rm -f "$out/report.html.tmp"
	echo "hagen-verify: no HTML report (halog report --format html failed)" >&2
fi
exit "$rc"
