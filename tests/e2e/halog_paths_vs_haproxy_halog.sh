#!/bin/sh
# halog report --paths and --clients vs HAProxy's own halog on the same files: with folding off,
# every path's requests, errors, time and bytes equal `halog -u` (and -uc, -ue, -ut, -ubt, which
# print the same rows in other orders), every client's equal `halog -ic`. HAProxy's halog counts a
# request with a -1 timer as an error and sums Tr (TR for -ic), else Ta, as its time: our JSON
# gives these as paths.rows[].halog.{err,time_ms,bytes} beside the report's own errors and Ta.
# Files: a generated httplog file, and the httplog lines of every corpus file (HAProxy's halog
# reads no other format).
. "$TOP/tests/lib.sh"

HAP_HALOG=/usr/sbin/halog
[ -x "$HAP_HALOG" ] || skip "no $HAP_HALOG (Debian package haproxy)"
command -v jq >/dev/null 2>&1 || skip "no jq"
LOGGEN=$O/helpers/loggen
[ -x "$LOGGEN" ] || fail "no $LOGGEN (make helpers)"
mkdir -p "$TMP"
cd "$TMP" || fail "cannot enter $TMP"

# compare NAME FILE [SKIP]: ingests FILE, compares every -u* and -ic output with ours (SKIP: the
# fields before the client address, 5 for a traditional syslog header: halog -s takes it minus 4)
compare() {
	name=$1 file=$2 skip=$((${3:-5} - 4))
	rm -f "$name.db"
	"$HALOG" ingest --db "$name.db" "$file" 2>ingest.err || { cat ingest.err; fail "$name: ingest"; }
	"$HALOG" report --db "$name.db" --paths --clients --no-fold --top 0 --format json \
		>"$name.json" || fail "$name: report"
	# "#req err ttot tavg oktot okavg bavg btot url": requests, errors, total time, total bytes
	jq -r '.paths.rows[] | "\(.requests) \(.halog.err) \(.halog.time_ms) \(.halog.bytes) \(.path)"' \
		"$name.json" | sort >"$name.ours-u"
	for flag in -u -uc -ue -ut -ubt; do
		"$HAP_HALOG" -s "$skip" $flag -q <"$file" >"$name.theirs$flag" || fail "$name: halog $flag"
		# its key of a bad request is the quoted "<BADREQ>" (or "" when empty: ours is
		# <BADREQ> for both); of a request line cut before its version (HAProxy's 1024-byte
		# cap), the URI with the closing quote
		awk 'NR > 1 { print $1, $2, $3, $8, $9 }' "$name.theirs$flag" |
			sed -e 's/ "<BADREQ>"$/ <BADREQ>/' -e 's/ ""$/ <BADREQ>/' -e 's/\([^ ]\)"$/\1/' | sort >"$name.theirs$flag.rows"
		[ -s "$name.theirs$flag.rows" ] || fail "$name: halog $flag printed no path"
		diff -u "$name.theirs$flag.rows" "$name.ours-u" >"$name.diff$flag" ||
			{ head -40 "$name.diff$flag"; fail "$name: paths differ from halog $flag (-: haproxy, +: ours)"; }
	done
	# -uc ranks by requests as --sort requests does (the default): the same counts in the same order
	awk 'NR > 1 { print $1 }' "$name.theirs-uc" >"$name.theirs-uc.n"
	jq -r '.paths.rows[].requests' "$name.json" >"$name.ours-uc.n"
	cmp -s "$name.theirs-uc.n" "$name.ours-uc.n" || fail "$name: ranking by requests differs from halog -uc"
	# -ic: per client address
	# a line that starts with its <PRI> (no header) gives halog a client field "<134>10.0.0.1"
	"$HAP_HALOG" -s "$skip" -ic -q <"$file" | awk 'NR > 1 { print $1, $2, $3, $8, $9 }' |
		sed 's/ <[0-9]*>/ /' | sort >"$name.theirs-ic"
	jq -r '.clients.rows[] | "\(.requests) \(.halog.err) \(.halog.time_ms) \(.halog.bytes) \(.client)"' \
		"$name.json" | sort >"$name.ours-ic"
	[ -s "$name.theirs-ic" ] || fail "$name: halog -ic printed no client"
	diff -u "$name.theirs-ic" "$name.ours-ic" >"$name.diff-ic" ||
		{ head -40 "$name.diff-ic"; fail "$name: clients differ from halog -ic (-: haproxy, +: ours)"; }
	echo "$name: $(wc -l <"$name.ours-u") paths and $(wc -l <"$name.ours-ic") clients agree with $HAP_HALOG"
}

"$LOGGEN" --lines 20000 --seed 7 --format httplog --framing rfc3164 >gen.log || fail "loggen"
compare gen gen.log
[ "$(wc -l <gen.ours-u)" -ge 1000 ] || fail "too few paths: $(wc -l <gen.ours-u)"

# each ranking is in its order, and --top N is the first N rows of the whole table
for col in requests errors error-rate p50 p95 p99 max time bytes; do
	"$HALOG" report --db gen.db --paths --sort $col --top 0 --format json >sort.json || fail "--sort $col"
	field=$(printf '%s' "$col" | sed 's/error-rate/error_rate/; s/^p\(..\)$/ta_ms.p\1/; s/^max$/ta_ms.max/; s/^time$/ta_ms.total/')
	jq -e "[.paths.rows[].$field // -1] as \$v | [range(1; \$v | length) | select(\$v[.] > \$v[. - 1])] | length == 0" \
		sort.json >/dev/null || fail "--sort $col: rows not in descending $field"
	"$HALOG" report --db gen.db --paths --sort $col --top 5 --format json >top.json || fail "--top 5"
	[ "$(jq -c '.paths.rows' top.json)" = "$(jq -c '.paths.rows[:5]' sort.json)" ] ||
		fail "--sort $col --top 5 is not the first five rows"
done
"$HALOG" report --db gen.db --paths --sort name --top 0 --format json | jq -r '.paths.rows[].path' >names.txt
LC_ALL=C sort -c names.txt || fail "--sort name: paths not in byte order"

# folding: fewer keys, the same requests, errors, bytes and time in total
"$HALOG" report --db gen.db --paths --top 0 --format json >fold.json || fail "folded report"
for k in requests errors bytes ta_ms.total; do
	a=$(jq "[.paths.rows[].$k] | add" gen.json) b=$(jq "[.paths.rows[].$k] | add" fold.json)
	[ "$a" = "$b" ] || fail "folding changed the total $k: $a vs $b"
done
[ "$(jq '.paths.distinct' fold.json)" -lt "$(jq '.paths.distinct' gen.json)" ] || fail "nothing folded"
jq -e '[.paths.rows[].path | select(test("/[0-9]+(/|$)"))] | length == 0' fold.json >/dev/null ||
	fail "a numeric segment was not folded"

# the corpus: its httplog lines (five timers after the frontend, backend/server), grouped by the
# number of fields before the client address (the syslog header's: halog -s)
corpus=${HALOG_CORPUS:-}
[ -n "$corpus" ] || for c in "$TOP/tests/corpus" "$TOP/../shared/corpus" /work/shared/corpus; do
	[ -d "$c" ] && corpus=$c && break
done
n=0
if [ -n "$corpus" ] && [ -d "$corpus" ]; then
	find "$corpus" -type f -name '*.log' | sort >files
	while IFS= read -r f; do
		grep -aE '\] [^ ]+ [^ ]+/[^ ]+ -?[0-9]+/-?[0-9]+/-?[0-9]+/-?[0-9]+/\+?-?[0-9]+ -?[0-9]+ ' \
			"$f" >httplog.txt || continue
		rm -f skip.*
		awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^\[[0-9][0-9]\/[A-Z][a-z][a-z]\/[0-9]+:/) {
			print > ("skip." (i - 2)); break } }' httplog.txt
		for sf in skip.*; do
			[ -s "$sf" ] || continue
			cp "$sf" "corpus$n.log"
			compare "corpus$n" "corpus$n.log" "${sf#skip.}"
			n=$((n + 1))
		done
	done <files
	[ "$n" -ge 1 ] || fail "no httplog line in the corpus $corpus"
else
	echo "no corpus: generated file only"
fi
echo "ok: paths and clients equal $HAP_HALOG -u, -uc, -ue, -ut, -ubt and -ic on $((n + 1)) files"
