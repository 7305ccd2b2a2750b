#!/bin/sh
# loggen, the log generator of the tests and the benchmark: deterministic bytes, usage errors,
# a summary (--expect) that adds up, every feature it promises present, and lines that HAProxy's
# own halog (Debian's /usr/sbin/halog) reads with the same per-server and per-status counts.
set -u
. "$TOP/tests/lib.sh"
G=$O/helpers/loggen
[ -x "$G" ] || skip "no $G"
command -v jq >/dev/null || skip "jq is not installed"
mkdir -p "$TMP"
N=20000

# determinism: same flags, same bytes; another seed, other bytes
"$G" --lines $N --seed 5 --expect "$TMP/a.json" >"$TMP/a.log" || fail "loggen failed"
"$G" --lines $N --seed 5 >"$TMP/b.log" || fail "loggen failed"
cmp -s "$TMP/a.log" "$TMP/b.log" || fail "same seed gave different output"
"$G" --lines $N --seed 6 >"$TMP/c.log" || fail "loggen failed"
cmp -s "$TMP/a.log" "$TMP/c.log" && fail "different seeds gave the same output"
[ "$(wc -l <"$TMP/a.log")" -eq $N ] || fail "expected $N lines, got $(wc -l <"$TMP/a.log")"
"$G" --lines 0 >"$TMP/empty.log" || fail "--lines 0 failed"
[ -s "$TMP/empty.log" ] && fail "--lines 0 wrote something"

# usage errors exit 2
for bad in "--format json" "--framing xml" "--lines -3" "--lines x" "--rate 0" "--bogus 1" "--lines"; do
	# shellcheck disable=SC2086
	"$G" $bad >/dev/null 2>"$TMP/err"
	rc=$?
	[ $rc -eq 2 ] || fail "loggen $bad: exit $rc, expected 2"
	grep -q '^usage: loggen' "$TMP/err" || fail "loggen $bad: no usage on stderr"
done

# the summary adds up
E=$TMP/a.json
[ "$(jq '.lines' "$E")" -eq $N ] || fail "expect: lines"
[ "$(jq '[.frontends[]] | add' "$E")" -eq $N ] || fail "expect: frontends do not sum to $N"
[ "$(jq '[.backends[].total] | add' "$E")" -eq $N ] || fail "expect: backends do not sum to $N"
jq -e '[.backends[] | (.total == ([.servers[]] | add))] | all' "$E" >/dev/null ||
	fail "expect: a backend's servers do not sum to its total"
[ "$(jq '[.status[]] | add' "$E")" -eq $N ] || fail "expect: status codes do not sum to $N"
[ "$(jq '.kinds.http' "$E")" -eq $N ] || fail "expect: httplog is not all http"

# the features are there: every status class, -1 timers, <NOSRV> 503, <BADREQ>, <STATS>,
# logasap '+', redispatch '+N', retries, captures with spaces and #XX, IPv6, SSL '~', HTTP/2
for cls in 1xx 2xx 3xx 4xx 5xx; do
	[ "$(jq ".status_class[\"$cls\"] // 0" "$E")" -gt 0 ] || fail "no $cls status"
done
for k in badreq logasap redispatch retried ipv6 ssl not_routed; do
	[ "$(jq ".flags.$k" "$E")" -gt 0 ] || fail "flag $k never generated"
done
has() { grep -q -- "$1" "$TMP/a.log" || fail "no line matches '$1'"; }
has ' -1/-1/-1/-1/[0-9]* 400 0 - - CR-- .* "<BADREQ>"$'
has 'be_legacy/<NOSRV> 0/-1/-1/-1/0 503 '
has '/<STATS> '
has '/[0-9]*/[0-9]*/[0-9]*/+[0-9]* [0-9]* +[0-9]'
has ' [0-9]*/[0-9]*/[0-9]*/[0-9]*/+1 '
has ' [0-9]*/[0-9]*/[0-9]*/[0-9]*/3 '
has ' [0-9]*/[0-9]*/-1/-1/[0-9]* 503 .* SC'
has ' sH-- \| sHVN \| sHNI '
has '{www.example.com|Mozilla/5.0 (X11; Linux'
has '#7C'
has '{} "'
has '|} {'
has ': 2001:db8:[0-9a-f:]*:[0-9]* \['
has ': ::ffff:10\.'
has ' fe_https~ '
has ' HTTP/2.0"$'
has ' --VN \| --NI '
awk 'length($0) > 1023 { exit 1 }' "$TMP/a.log" || fail "a line is longer than 1023 bytes"

# tcplog and mixed
"$G" --lines 5000 --format tcplog --expect "$TMP/t.json" >"$TMP/t.log" || fail "tcplog failed"
[ "$(jq '.kinds.tcp' "$TMP/t.json")" -eq 5000 ] || fail "tcplog is not all tcp"
grep -q '"' "$TMP/t.log" && fail "a tcplog line has a request"
grep -q ' [0-9]*/-1/[0-9]* 0 SC ' "$TMP/t.log" || fail "no tcplog connection failure"
"$G" --lines 5000 --format mixed --expect "$TMP/m.json" >/dev/null || fail "mixed failed"
jq -e '.kinds.http > 0 and .kinds.tcp > 0' "$TMP/m.json" >/dev/null || fail "mixed is not mixed"

# framings and time
"$G" --lines 2 --framing rfc5424 --start 1700000000 --rate 2 >"$TMP/r.log"
head -n 1 "$TMP/r.log" | grep -q '^<134>1 2023-11-14T22:13:20.000000+00:00 - haproxy 4242 - - ' ||
	fail "rfc5424 header: $(head -n 1 "$TMP/r.log")"
sed -n 2p "$TMP/r.log" | grep -q '^<134>1 2023-11-14T22:13:20.500000+00:00 ' || fail "--rate 2: $(sed -n 2p "$TMP/r.log")"
"$G" --lines 1 --framing local --start 1700000000 | grep -q '^<134>Nov 14 22:13:20 haproxy\[4242\]: ' ||
	fail "local header"
"$G" --lines 1 --framing rfc3164 --start 1701388800 | grep -q '^<134>Dec  1 00:00:00 lb1 haproxy\[4242\]: ' ||
	fail "rfc3164 header (space-padded day)"
"$G" --lines 1 --framing raw | grep -Eq '^[0-9a-f.:]+:[0-9]+ \[' || fail "raw has a header"

# HAProxy's own halog reads them: per-server and per-status counts equal the summary
[ -x /usr/sbin/halog ] || skip "/usr/sbin/halog not installed (Debian package haproxy); loggen checks passed"
# -s counts header fields beyond 4 (rfc3164 with HOST has 5, the default)
for fr in rfc3164:1 local:0 rfc5424:3 raw:-4; do
	"$G" --lines $N --seed 9 --framing "${fr%:*}" --expect "$TMP/f.json" >"$TMP/f.log"
	/usr/sbin/halog -s "${fr#*:}" -srv -q <"$TMP/f.log" | awk 'NR > 1 { print $1, $8 }' | sort >"$TMP/srv.got"
	jq -r '.backends | to_entries[] | .key as $b | .value.servers | to_entries[] | "\($b)/\(.key) \(.value)"' \
		"$TMP/f.json" | sort >"$TMP/srv.want"
	cmp -s "$TMP/srv.want" "$TMP/srv.got" ||
		fail "halog -srv (${fr%:*}) disagrees with --expect: $(diff "$TMP/srv.want" "$TMP/srv.got" | head -n 6)"
	/usr/sbin/halog -s "${fr#*:}" -st -q <"$TMP/f.log" | sort >"$TMP/st.got"
	jq -r '.status | to_entries[] | "\(.key) \(.value)"' "$TMP/f.json" | sort >"$TMP/st.want"
	cmp -s "$TMP/st.want" "$TMP/st.got" ||
		fail "halog -st (${fr%:*}) disagrees with --expect: $(diff "$TMP/st.want" "$TMP/st.got" | head -n 6)"
done
/usr/sbin/halog -pct <"$TMP/a.log" >"$TMP/pct" 2>"$TMP/pct.err"
grep -q '^100\.0 ' "$TMP/pct" || fail "halog -pct printed no 100th percentile"
echo "loggen: $N lines checked against /usr/sbin/halog -srv and -st in 4 framings"
