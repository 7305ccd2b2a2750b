#!/bin/sh
# e2e: a store can be read where it cannot be written (issue 11): `halog report`, `search` and
# `tail` read it from a folder the reader may not write (run as nobody) and from read-only
# media (a read-only bind mount), falling back to reading the file as it is; nothing is
# created beside it. A store whose -wal still holds commits (its writer was killed) is refused
# there with what to do, never shown without them.
set -u
. "$TOP/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (setpriv, mount namespaces)"
command -v setpriv >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 || skip "setpriv or unshare missing"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
# a folder of its own under /tmp that another user can reach ($TMP's parent is private)
base=$(mktemp -d /tmp/halog-ro.XXXXXX) || fail "mktemp"
trap 'lib_cleanup; chmod -R u+w "$base" 2>/dev/null; rm -rf "$base"' EXIT INT TERM
chmod 755 "$base"
R=$base/ro
mkdir -p "$R"
"$HALOG" ingest --db "$R/x.db" "$TOP/tests/cases/halog-report/data/small.log" 2>/dev/null || fail "ingest"
rm -f "$R/x.db-lock"
chmod 644 "$R/x.db"
chmod 555 "$R"
[ "$(ls "$R")" = x.db ] || fail "ingest left $(ls "$R")"

# 1. a folder this user cannot write
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody test -w "$R" && skip "nobody can write the folder here"
as_nobody "$HALOG" report --db "$R/x.db" >"$TMP/r1.txt" 2>"$TMP/e1.txt" || { cat "$TMP/e1.txt"; fail "report as nobody in a read-only folder"; }
grep -q '^lines: 35 total' "$TMP/r1.txt" || fail "report as nobody: $(head -3 "$TMP/r1.txt")"
n=$(as_nobody "$HALOG" search --db "$R/x.db" --count be_api 2>"$TMP/e2.txt") || { cat "$TMP/e2.txt"; fail "search as nobody"; }
[ "$n" -gt 0 ] || fail "search as nobody found $n"
as_nobody "$HALOG" tail --db "$R/x.db" -n 3 >"$TMP/t1.txt" 2>&1 || { cat "$TMP/t1.txt"; fail "tail as nobody"; }
[ "$(wc -l <"$TMP/t1.txt")" = 3 ] || fail "tail as nobody printed $(wc -l <"$TMP/t1.txt") lines"
echo "1. unwritable folder: report, search ($n), tail read the store"

# 2. read-only media: a read-only bind mount of the folder
chmod 755 "$R"
unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1"' sh "$R" 2>/dev/null ||
	skip "cannot make a read-only bind mount here"
unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" &&
	"$2" report --db "$1/x.db" && "$2" search --db "$1/x.db" --count be_api && "$2" tail --db "$1/x.db" -n 1' \
	sh "$R" "$HALOG" >"$TMP/r2.txt" 2>"$TMP/e2.txt" || { cat "$TMP/e2.txt"; fail "reading from read-only media"; }
grep -q '^lines: 35 total' "$TMP/r2.txt" || fail "report on read-only media: $(head -3 "$TMP/r2.txt")"
[ "$(ls "$R")" = x.db ] || fail "files appeared beside the store: $(ls "$R")"
echo "2. read-only media: report, search and tail read the store; nothing created"

# 3. a -wal with commits (a writer killed after committing) cannot be read from there: refused
python3 - "$R/x.db" <<'PY'
import os, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA wal_autocheckpoint=0")
con.execute("INSERT INTO counters(name, value) VALUES('test.killed', 1)")
os._exit(0)  # no close: the -wal keeps the commit, as after a SIGKILL
PY
[ -s "$R/x.db-wal" ] || skip "no -wal left to test with"
chmod 644 "$R/x.db-wal" "$R/x.db-shm" 2>/dev/null
rm -f "$R/x.db-shm"
chmod 555 "$R"
as_nobody "$HALOG" report --db "$R/x.db" >/dev/null 2>"$TMP/e3.txt"
rc=$?
[ "$rc" = 1 ] || fail "a store with an unreadable -wal: exit $rc, want 1"
grep -q "its -wal file holds commits that need a -shm file" "$TMP/e3.txt" || { cat "$TMP/e3.txt"; fail "no clear message"; }
chmod 755 "$R"
echo "ok: unwritable folder and read-only media read; an unreadable -wal refused with what to do"
