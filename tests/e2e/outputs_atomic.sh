#!/bin/sh
# e2e: every file hagen and halog write is written whole or not at all, never over an input
# (issue 11; common/outfile):
#   - `halog report -o` refuses the store and its -wal/-shm/-lock, and the inventory;
#     `hagen render -o` refuses the inventory (exit 2; the file untouched);
#   - a report that fails while writing (a file-size limit) leaves the old file as it was and
#     no temporary file behind;
#   - the new file keeps the old one's mode; a symlink at the target is replaced, never written
#     through; a device (a null device node) stays a device.
set -u
. "$TOP/tests/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 missing"
mkdir -p "$TMP/w"
cd "$TMP/w" || fail "cd"
cp "$TOP/samples/minimal.yaml" inv.yaml
# 3000 backends: a report of several hundred KiB
python3 - >big.log <<'PY'
for i in range(3000):
    print('<134>Nov 25 04:20:31 haproxy[1]: 127.0.0.1:%d [25/Nov/2026:04:20:31.000] fe_http '
          'be_%04d/s1 0/0/1/0/1 200 100 - - ---- 1/1/0/0/0 0/0 "GET /x HTTP/1.1"' % (30000 + i, i))
PY
"$HALOG" ingest --db s.db big.log 2>/dev/null || fail "ingest"
# a listener's -wal/-shm: keep them by holding the store open while checking
sum() { cksum <"$1"; }

# --- outputs that are inputs
db_sum=$(sum s.db) inv_sum=$(sum inv.yaml)
for out in s.db s.db-lock inv.yaml; do
	"$HALOG" report --db s.db --inventory inv.yaml -o "$out" >/dev/null 2>"$TMP/err"
	rc=$?
	[ "$rc" = 2 ] || { cat "$TMP/err"; fail "report -o $out: exit $rc, want 2"; }
	grep -q "refusing to overwrite it" "$TMP/err" || { cat "$TMP/err"; fail "report -o $out: no reason"; }
done
ln s.db hard.db # another name of the same file
"$HALOG" report --db s.db -o hard.db >/dev/null 2>&1
[ $? = 2 ] || fail "report -o (a hard link to the store) was not refused"
rm -f hard.db
"$HAGEN" render -o inv.yaml inv.yaml 2>"$TMP/err"
rc=$?
[ "$rc" = 2 ] || { cat "$TMP/err"; fail "hagen render -o inv.yaml inv.yaml: exit $rc, want 2"; }
grep -q "'inv.yaml' is the input 'inv.yaml': refusing to overwrite it" "$TMP/err" || { cat "$TMP/err"; fail "hagen: no reason"; }
[ "$(sum s.db)" = "$db_sum" ] && [ "$(sum inv.yaml)" = "$inv_sum" ] || fail "an input was changed"
echo "1. -o refused over the store, its lock file, a hard link to it and the inventory"

# --- a write that fails half-way: the old file stays
echo "the old report" >old.txt
chmod 640 old.txt
# 256 blocks: room for the reader's -shm (32 KiB), not for the report
"$HALOG" report --db s.db --format json >/dev/null || fail "report"
(ulimit -f 256 && exec "$HALOG" report --db s.db --format json -o old.txt) 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] || { cat "$TMP/err"; fail "report over a file-size limit: exit $rc, want 1"; }
grep -q "cannot write 'old.txt'" "$TMP/err" || { cat "$TMP/err"; fail "no write error"; }
[ "$(cat old.txt)" = "the old report" ] || fail "the old file was changed by a failed report"
[ "$(ls -A | grep -c '^\.old\.txt\.')" = 0 ] || fail "a temporary file was left: $(ls -A)"
# the same command without the limit replaces it, mode kept
"$HALOG" report --db s.db --format json -o old.txt 2>"$TMP/err" || { cat "$TMP/err"; fail "report -o"; }
python3 -c "import json,sys; json.load(open('old.txt'))" 2>/dev/null || grep -q '"report_version"' old.txt || fail "the report is not whole"
[ "$(stat -c %a old.txt)" = 640 ] || fail "mode $(stat -c %a old.txt), want 640 (kept)"
"$HAGEN" render -o out.cfg inv.yaml || fail "hagen render -o"
grep -q '^backend ' out.cfg || fail "hagen's output is not a config"
[ "$(ls -A | grep -c '^\.')" = 0 ] || fail "temporary files were left: $(ls -A)"
echo "2. a report that failed while writing left the old file; a good one replaced it, mode 640 kept"

# --- a symlink at the target is replaced, not followed
echo "precious" >victim.txt
ln -s victim.txt link.txt
"$HALOG" report --db s.db -o link.txt 2>"$TMP/err" || { cat "$TMP/err"; fail "report -o link"; }
[ "$(cat victim.txt)" = precious ] || fail "the report was written through the symlink"
[ -f link.txt ] && [ ! -L link.txt ] || fail "link.txt is not a regular file now"
echo "3. a symlink at the target was replaced, its target untouched"

# --- a device stays a device
if mknod nul c 1 3 2>/dev/null; then
	"$HAGEN" render -o nul inv.yaml || fail "hagen render -o a null device"
	"$HALOG" report --db s.db -o nul || fail "halog report -o a null device"
	[ -c nul ] || fail "the null device was replaced by a file"
	echo "4. a null device written in place, still a device"
else
	echo "4. skipped: cannot make a device node here"
fi
echo "ok: outputs whole or not at all, never over an input, mode kept, links and devices safe"
