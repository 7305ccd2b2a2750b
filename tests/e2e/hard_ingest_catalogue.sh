#!/bin/sh
# e2e (hardening): the bad-input catalogue for `halog ingest` (files): NUL bytes, invalid UTF-8,
# CR and CRLF endings, <999>, <abc>, a missing PRI, binary garbage, a line of 1 MiB, a file
# without a final LF, a gzip file cut short, and an empty file. Each line is stored raw (parsed
# or not) and counted; the report's totals agree with the store.
set -u
. "$TOP/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 CLI missing"
mkdir -p "$TMP"
db=$TMP/ing.db

python3 - "$TMP/bad.log" <<'PY' || fail "python failed"
import sys
HL = ('<134>Nov 25 04:20:31 haproxy[8311]: 127.0.0.1:40000 [25/Nov/2026:04:20:31.000] fe_http '
      'be_app/s1 0/0/1/0/1 200 100 - - ---- 1/1/0/0/0 0/0 "GET /hc=%s HTTP/1.1"')
lines = [
    (HL % "I01").encode(),
    b"<134>nul \x00 in a line hc=I02",
    b"<134>bad utf8 \xff\xfe\xc3\x28 hc=I03",
    b"<134>crlf hc=I04\r",                    # the LF below makes it CRLF
    b"<999>bad pri hc=I05",
    b"<abc>bad pri hc=I06",
    b"no pri at all hc=I07",
    bytes(b for b in range(256) if b != 10) + b" hc=I08",
    b"<134>huge hc=I09 " + b"x" * (1 << 20),  # a line of 1 MiB
    b"",                                      # an empty line
    b"<134>esc \x1b[2J\x1b]0;t\x07 hc=I10",
    (HL % "I11").encode() + b"\r",
]
with open(sys.argv[1], "wb") as f:
    f.write(b"\n".join(lines) + b"\n")
    f.write(b"<134>cr only hc=I12\r<134>after a bare CR hc=I13\n")
    f.write((HL % "I14").encode())            # no final LF
PY
: >"$TMP/empty.log"
# a gzip file cut in the middle: what was decompressed is kept, the error is reported
python3 -c "
import gzip, sys
hl = open(sys.argv[1], 'rb').read().split(b'\n')[0]
data = gzip.compress(b''.join(hl.replace(b'hc=I01', b'hc=Z%04d' % i) + b'\n' for i in range(2000)))
open(sys.argv[2], 'wb').write(data[: len(data) // 2])
" "$TMP/bad.log" "$TMP/cut.log.gz" || fail "python gzip failed"

"$HALOG" ingest --db "$db" "$TMP/bad.log" "$TMP/empty.log" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/err"
[ $rc = 0 ] || fail "ingest of the catalogue exited $rc"
q() { sqlite3 "$db" "$1"; }
for t in I01 I02 I03 I04 I05 I06 I07 I08 I09 I10 I11 I12 I14; do
	[ "$(q "SELECT count(*) FROM lines WHERE instr(CAST(raw AS TEXT), 'hc=$t') > 0 OR instr(raw, CAST('hc=$t' AS BLOB)) > 0")" -ge 1 ] || fail "hc=$t not stored"
done
rows=$(q "SELECT count(*) FROM lines")
# 12 catalogue lines + the CR-separated pair (one or two rows) + the unterminated last line
[ "$rows" -ge 14 ] && [ "$rows" -le 15 ] || fail "$rows rows, want 14 or 15"
# the 1 MiB line: stored (whole, or cut and flagged), never dropped
big=$(q "SELECT length(raw) || '|' || flags FROM lines WHERE instr(CAST(substr(raw, 1, 30) AS TEXT), 'hc=I09') > 0")
echo "1 MiB line stored as: $big (length|flags)"
case $big in 10485*"|"* | 1048*"|"0) ;; *"|"[1-9]*) ;; *) fail "1 MiB line: $big" ;; esac
[ "$(q "SELECT count(*) FROM requests")" -ge 3 ] || fail "the good HTTP lines (I01, I11, I14) are not all parsed"
grep -q "$rows lines" "$TMP/err" || fail "ingest's summary does not count $rows lines"
"$HALOG" report --db "$db" --format json >"$TMP/r.json" || fail "report failed"
python3 -c "
import json, sys
l = json.load(open(sys.argv[1]))['lines']
assert l['total'] == int(sys.argv[2]) and l['parsed'] + l['unparsed'] == l['total'], l
" "$TMP/r.json" "$rows" || fail "report totals differ from the store"

# the cut gzip file: an error exit with the file named, and the whole lines before the cut kept
"$HALOG" ingest --db "$TMP/gz.db" "$TMP/cut.log.gz" >"$TMP/gzout" 2>"$TMP/gzerr"
rc=$?
cat "$TMP/gzerr"
[ $rc = 1 ] || [ $rc = 0 ] || fail "cut gzip: exit $rc"
[ $rc = 1 ] && { grep -q 'cut.log.gz' "$TMP/gzerr" || fail "cut gzip: the error does not name the file"; }
kept=$(sqlite3 "$TMP/gz.db" "SELECT count(*) FROM lines" 2>/dev/null || echo 0)
[ "$kept" -gt 0 ] || fail "cut gzip: nothing kept"
echo "ok: ingest catalogue: $rows rows; cut gzip: exit $rc, $kept of 2000 lines kept"
