#!/bin/sh
# halog search on a generated httplog file, checked against the file itself: the number fields
# count what awk counts in the log's own columns (ta:, tr:, tw:, bytes:, retries:, status:),
# --histogram adds up to --count, --raw gives the file back byte for byte, and -C / -A / -B
# print exactly what grep -C / -A / -B print for the same lines (one source: the file). Where
# HAProxy's own halog computes the same thing, its answer is checked too: -rt (tr:>=), -hs
# (status:), -tcn / -TCN (term:), and -hdr against halog report --headers.
. "$TOP/tests/lib.sh"

LOGGEN=$O/helpers/loggen
[ -x "$LOGGEN" ] || fail "no $LOGGEN (make helpers)"
mkdir -p "$TMP"
cd "$TMP" || fail "cannot enter $TMP"
"$LOGGEN" --lines 5000 --seed 7 --format httplog --framing rfc3164 >g.log || fail "loggen"
"$HALOG" ingest --db g.db g.log 2>ingest.err || { cat ingest.err; fail "ingest"; }

# the columns of these lines: $10 TR/Tw/Tc/Tr/Ta, $11 status, $12 bytes, $16 …/retries
check() { # check QUERY AWK-CONDITION
	want=$(awk "{ split(\$10, t, \"/\"); split(\$16, c, \"/\") } $2 { n++ } END { print n + 0 }" g.log)
	got=$("$HALOG" search --db g.db --count "$1") || fail "search --count '$1'"
	[ "$got" = "$want" ] || fail "'$1': $got lines, awk counts $want"
	[ "$want" -gt 0 ] || fail "'$1' matches nothing: the check proves nothing"
	echo "$1: $got"
}
check 'ta:>500' 't[5] + 0 > 500'
check 'ta:>=1s' 't[5] + 0 >= 1000'
check 'tr:<=5' 't[4] != "-1" && t[4] + 0 <= 5'
check 'tw:>0' 't[2] + 0 > 0'
check 'tc:>=2' 't[3] + 0 >= 2'
check 'bytes:>64k' '$12 + 0 > 65536'
check 'bytes:<=100' '$12 + 0 <= 100'
check 'retries:>0' 'c[5] + 0 > 0'
check 'status:>=500 ta:>100' '$11 + 0 >= 500 && t[5] + 0 > 100'
check 'NOT status:2xx' '!($11 >= 200 && $11 <= 299)'
check 'term:sH' '$15 ~ /^sH/'

# the hit graph adds up to the count
n=$("$HALOG" search --db g.db --count 'status:5xx')
h=$("$HALOG" search --db g.db --histogram --json 'status:5xx' | jq .total) || fail "histogram"
[ "$n" = "$h" ] || fail "histogram total $h, count $n"
h=$("$HALOG" search --db g.db --histogram 'status:5xx' | awk 'NF == 3 || NF == 2 { s += $2 } END { print s }')
[ "$n" = "$h" ] || fail "histogram (text) total $h, count $n"

# the lines back, exactly
"$HALOG" search --db g.db --raw -n 0 '' | cmp -s - g.log || fail "--raw -n 0 '' is not the file"

# context: as grep prints it
for opt in "-C 2" "-A 3" "-B 1" "-C 0" "-A 1 -B 4"; do
	# shellcheck disable=SC2086
	"$HALOG" search --db g.db --raw -n 0 $opt '"sH--"' >ours.txt || fail "search $opt"
	# shellcheck disable=SC2086
	grep -iF $opt 'sH--' g.log >grep.txt
	cmp -s ours.txt grep.txt || { diff ours.txt grep.txt | head; fail "search $opt differs from grep $opt"; }
	echo "$opt: $(wc -l <ours.txt) lines, as grep"
done

# HAProxy's halog (Debian's haproxy package) on the same file
HH=/usr/sbin/halog
if [ -x "$HH" ]; then
	same() { # same QUERY HALOG-ARGS...
		_q=$1; shift
		got=$("$HALOG" search --db g.db --count "$_q") || fail "search --count '$_q'"
		want=$("$HH" "$@" -c <g.log 2>/dev/null) || fail "$HH $*"
		[ "$got" = "$want" ] || fail "'$_q': $got lines, HAProxy's halog $* counts $want"
		echo "$_q: $got, as halog $*"
	}
	same 'tr:>=100' -rt 100
	same 'NOT tr:>=100' -RT 100 # a -1 Tr (no response) counts as small there
	same 'status:5xx' -hs 500:599
	same 'status:>=300 status:<=404' -hs 300:404
	same 'term:sH' -tcn sH
	same 'NOT term:--' -TCN --
	# captured headers: the values and their counts of request header 2 (the user agent);
	# halog -hdr prints an empty value for a line without that capture, which the report does
	# not count: those are added to the empty value's count here
	n=$(wc -l <g.log)
	"$HALOG" report --db g.db --headers --top 0 --format json |
		jq -r --argjson n "$n" '.headers[] | select(.direction == "request" and .index == 2) |
			(.rows | map({key: .value, value: .requests}) | from_entries) as $m |
			$m + {"": (($m[""] // 0) + $n - .requests)} | to_entries[] |
			"\(.value) \(.key)"' | sort >ours.txt || fail "report --headers"
	"$HH" -hdr 1:2 <g.log 2>/dev/null | sort | uniq -c | sed 's/^ *//' | sort >theirs.txt
	[ -s ours.txt ] && cmp -s ours.txt theirs.txt ||
		{ diff ours.txt theirs.txt | head; fail "request header 2 differs from halog -hdr 1:2"; }
	echo "request header 2: $(wc -l <ours.txt) values, as halog -hdr 1:2"
else
	echo "no $HH: the comparison with HAProxy's halog is left out"
fi
