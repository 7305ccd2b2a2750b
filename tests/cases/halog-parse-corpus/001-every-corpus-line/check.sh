# Runs every line of every file of the shared corpus ($TOP/../shared/corpus) through
# `halog parse --json`, one file at a time, and prints per file: the exit code when not 0,
# whether every input line gave exactly one record, the count of each kind, and for log files
# (*.log, *.stream, *.0) each unparsed or partial line with its reason. The expected output (stdout) is the
# reviewed list; see README in this folder for why each unparsed line is unparsed.
# Like e2e/halog-ingest-corpus: $HALOG_CORPUS, else ../shared/corpus beside the checkout, else
# /work/shared/corpus; skipped (exit 77) when there is none, as in a CI checkout of the
# repository alone.
corpus=${HALOG_CORPUS:-}
[ -n "$corpus" ] || for c in "$TOP/../shared/corpus" /work/shared/corpus; do
	[ -d "$c" ] && corpus=$c && break
done
if [ -z "$corpus" ] || [ ! -d "$corpus" ]; then
	echo "no corpus at ../shared/corpus (set HALOG_CORPUS)"
	exit 77
fi
total=0
unparsed=0
for f in $(cd "$corpus" && find . -type f | LC_ALL=C sort); do
	"$HALOG" parse --json --now=1795501438000 "$corpus/$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 0 ] || echo "$f: exit $rc: $(cat "$TMP/err")"
	in=$(awk 'END { print NR }' "$corpus/$f")
	out=$(awk 'END { print NR }' "$TMP/out")
	if [ "$in" -ne "$out" ]; then
		echo "$f: $in lines in, $out records out"
	fi
	kinds=$(sed 's/^{"line":[0-9]*,"kind":"\([a-z_]*\)".*/\1/' "$TMP/out" | LC_ALL=C sort | uniq -c |
		awk '{ printf " %s=%s", $2, $1 }')
	echo "$f: $in lines:$kinds"
	case $f in
	*.log | *.stream | *.0)
		sed -n -e 's/^{"line":\([0-9]*\),"kind":"unparsed","status":"bad","reason":"\([^"]*\)".*/  unparsed line \1: \2/p' \
			-e 's/^{"line":\([0-9]*\),"kind":"\([a-z_]*\)","status":"partial","reason":"\([^"]*\)".*/  partial \2 line \1: \3/p' "$TMP/out"
		;;
	esac
	n=$(grep -c '^{"line":[0-9]*,"kind":"unparsed"' "$TMP/out")
	total=$((total + in))
	unparsed=$((unparsed + n))
done
echo "total: $total lines, $unparsed unparsed"
