#!/bin/sh
# halog ingest on every file of the real-log corpus: no crash, no loss. Each file goes into a
# fresh store; the lines table must hold exactly one row per input line (a last line without
# LF counts), every raw byte must be kept, and the rollups must count every line.
# The corpus: $HALOG_CORPUS, else tests/corpus, else ../shared/corpus beside the checkout (as CI
# has it), else /work/shared/corpus (skip when none).
. "$TOP/tests/lib.sh"

corpus=${HALOG_CORPUS:-}
[ -n "$corpus" ] || for c in "$TOP/tests/corpus" "$TOP/../shared/corpus" /work/shared/corpus; do
	[ -d "$c" ] && corpus=$c && break
done
[ -n "$corpus" ] && [ -d "$corpus" ] || skip "no corpus (set HALOG_CORPUS)"
command -v sqlite3 >/dev/null 2>&1 || skip "no sqlite3 CLI"
mkdir -p "$TMP"

n=0
find "$corpus" -type f | sort >"$TMP/files"
while IFS= read -r f; do
	n=$((n + 1))
	db=$TMP/c$n.db
	"$HALOG" ingest --db "$db" "$f" 2>"$TMP/err"
	rc=$?
	[ "$rc" = 0 ] || { cat "$TMP/err"; fail "$f: ingest exit $rc"; }
	# lines in the file: LFs, plus one when the last byte is not a LF
	want=$(wc -l <"$f")
	if [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' \n')" != 0a ]; then
		want=$((want + 1))
	fi
	got=$(store_count "$db")
	[ "$got" = "$want" ] || fail "$f: $got lines stored, $want in the file"
	roll=$(sqlite3 "$db" "SELECT coalesce(sum(n), 0) FROM rollup_lines")
	[ "$roll" = "$want" ] || fail "$f: rollup_lines counts $roll, expected $want"
	# every byte kept: raw rows + one LF per line (minus the missing last one) = file size
	bytes=$(store_sql "$db" "SELECT coalesce(sum(length(raw)), 0) + count(*) FROM lines")
	size=$(wc -c <"$f")
	if [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' \n')" != 0a ]; then
		bytes=$((bytes - 1))
	fi
	[ "$bytes" = "$size" ] || fail "$f: $bytes bytes stored, file has $size"
	req=$(store_sql "$db" "SELECT count(*) FROM requests")
	sum=$(store_sql "$db" "SELECT coalesce(sum(requests), 0) FROM rollup")
	[ "$req" = "$sum" ] || fail "$f: $req request rows, rollup counts $sum"
	"$HALOG" report --db "$db" --format json >"$TMP/r.json" || fail "$f: report failed"
	echo "ok $got lines ($req requests): ${f#"$corpus"/}"
	rm -f "$db" "$db-wal" "$db-shm"
done <"$TMP/files"
[ "$n" -gt 0 ] || fail "no file in $corpus"
echo "$n corpus files ingested without loss"
