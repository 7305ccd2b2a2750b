#!/bin/sh
# e2e (hardening): the bad-input catalogue for `halog ingest` (files): NUL bytes, invalid UTF-8,
# CR and CRLF endings, <999>, <abc>, a missing PRI, binary garbage, a line of 1 MiB, a file
# without a final LF, a gzip file cut short, and an empty file. Each line is stored raw (parsed
# or not) and counted; the report's totals agree with the store.
# Issue 11 §3 and §5 added lines whose trouble shows in what halog writes of them: HAProxy
# 1.1/1.2 lines with two connection counters (parsed, request kept), names a spreadsheet would
# compute (CSV cells stay text), wide UTF-8 names longer than a column (the text report cuts
# them on character boundaries), and quotes and backslashes in a value (halog parse's key=value
# output reads back to the exact bytes).
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
    # issue 11 §5: HAProxy 1.1/1.2, two connection counters and no queue counters
    b'<134>Nov 24 06:23:58 haproxy[1]: 10.0.0.1:1234 [09/Aug/2004:20:26:09] px srv1 1/2/3/4 502 '
    b'210 - - PH-- 2/3 "GET /hc=I15 HTTP/1.0"',
    # issue 11 §3: names a spreadsheet would compute
    (HL % "I16").replace("fe_http be_app/s1", "@fe =cmd|x!A0/+s1").encode(),
    # issue 11 §3: wide UTF-8 names, longer than the text report's columns
    (HL % "I17").replace("be_app/s1", "be_ü/サーバー一号機サーバー二号機サーバー三号機").encode(),
    # issue 11 §3: quotes and backslashes inside a value
    (HL % 'I18?q=\\"x\\"\\\\y').encode(),
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
"$HALOG" export --db "$db" -o "$TMP/x.db" || fail "export"
q() { sqlite3 "$TMP/x.db" "$1"; }
for t in I01 I02 I03 I04 I05 I06 I07 I08 I09 I10 I11 I12 I14 I15 I16 I17 I18; do
	[ "$(q "SELECT count(*) FROM lines WHERE instr(CAST(raw AS TEXT), 'hc=$t') > 0 OR instr(raw, CAST('hc=$t' AS BLOB)) > 0")" -ge 1 ] || fail "hc=$t not stored"
done
rows=$(q "SELECT count(*) FROM lines")
# 16 catalogue lines + the CR-separated pair (one or two rows) + the unterminated last line
[ "$rows" -ge 18 ] && [ "$rows" -le 19 ] || fail "$rows rows, want 18 or 19"
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

# §5: the two-counter line is parsed and keeps its request line
[ "$(q "SELECT l.status || ' ' || r.method || ' ' || r.path || ' ' || r.status FROM requests r JOIN lines l ON l.id = r.line_id WHERE r.path = '/hc=I15'")" = "0 GET /hc=I15 502" ] ||
	fail "the HAProxy 1.1/1.2 line (two connection counters) lost its request line"
# §3: no CSV cell of the report is a formula; the names are there, as text
"$HALOG" report --db "$db" --format csv >"$TMP/r.csv" || fail "report --format csv failed"
python3 - "$TMP/r.csv" <<'PY' || fail "a CSV cell would be computed by a spreadsheet"
import csv, re, sys
cells = [c for row in csv.reader(open(sys.argv[1], encoding="utf-8", newline="")) for c in row]
bad = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or re.match(r"-(?![0-9.]+$)", c)]
assert not bad, bad
assert "'=cmd|x!A0" in cells and "'+s1" in cells and "'@fe" in cells, "names missing"
PY
# §3: the text report cuts the wide names on character boundaries (valid UTF-8 throughout)
"$HALOG" report --db "$db" >"$TMP/r.txt" || fail "report (text) failed"
python3 -c "
import sys
t = open(sys.argv[1], 'rb').read().decode('utf-8')  # strict: a cut inside a character fails
assert 'サーバー一号~' in t, 'the wide name is not cut to its column'
" "$TMP/r.txt" || fail "the text report cut a name inside a UTF-8 character"
# §3: halog parse's key=value output reads back to the exact bytes (quotes, backslashes)
"$HALOG" parse "$TMP/bad.log" >"$TMP/parse.kv" || fail "halog parse failed"
python3 - "$TMP/parse.kv" "$TMP/bad.log" <<'PY' || fail "halog parse's key=value output is ambiguous"
import re, sys
def fields(line):  # the grammar of docs/halog-parse.md
    out, i = {}, 0
    while i < len(line):
        m = re.compile(rb"([a-z_0-9]+)=").match(line, i)
        assert m, line[i:i + 40]
        i = m.end()
        if line[i:i + 1] == b'"':
            v, i = bytearray(), i + 1
            while line[i:i + 1] != b'"':
                c = line[i:i + 1]
                if c == b"\\":
                    e = line[i + 1:i + 2]
                    if e == b"x":
                        v.append(int(line[i + 2:i + 4], 16)); i += 4; continue
                    v += {b'"': b'"', b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t"}[e]; i += 2
                else:
                    v += c; i += 1
            i += 1
        else:
            j = line.find(b" ", i)
            j = len(line) if j < 0 else j
            v, i = line[i:j], j
        out[m.group(1)] = bytes(v)
        assert line[i:i + 1] in (b" ", b""), line[i:i + 40]
        i += 1
    return out
recs = [fields(l) for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
i18 = [r for r in recs if b"hc=I18" in r.get(b"body", b"")]
assert len(i18) == 1, len(i18)
assert b'q=\\"x\\"\\\\y' in i18[0][b"body"], i18[0][b"body"]
raw = [l for l in open(sys.argv[2], "rb").read().split(b"\n") if b"hc=I18" in l][0]
assert raw.endswith(i18[0][b"body"]), (raw, i18[0][b"body"])
PY

# the cut gzip file: an error exit with the file named, and the whole lines before the cut kept
"$HALOG" ingest --db "$TMP/gz.db" "$TMP/cut.log.gz" >"$TMP/gzout" 2>"$TMP/gzerr"
rc=$?
cat "$TMP/gzerr"
[ $rc = 1 ] || [ $rc = 0 ] || fail "cut gzip: exit $rc"
[ $rc = 1 ] && { grep -q 'cut.log.gz' "$TMP/gzerr" || fail "cut gzip: the error does not name the file"; }
kept=$(store_count "$TMP/gz.db" 2>/dev/null || echo 0)
[ "$kept" -gt 0 ] || fail "cut gzip: nothing kept"
echo "ok: ingest catalogue: $rows rows; cut gzip: exit $rc, $kept of 2000 lines kept"
