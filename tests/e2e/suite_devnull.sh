#!/bin/sh
# e2e: the runner fails a test that leaves /dev/null other than the null device (a test once
# replaced it with a regular file, and the tests after it read each other's output), naming the
# test, and ends the run there. Run on a copy of tests/run.sh in a scratch tree holding three
# e2e scripts, inside a mount namespace of its own, where the second script bind-mounts a
# regular file over /dev/null: the machine's /dev/null is never touched. Needs root and
# unshare(1).
set -u
. "$TOP/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (a bind mount over /dev/null in a namespace of its own)"
command -v unshare >/dev/null 2>&1 || skip "unshare missing"
unshare -m --propagation private true 2>/dev/null || skip "cannot make a mount namespace here"
mkdir -p "$TMP/tree/tests/e2e" "$TMP/build"
cp "$TOP/tests/run.sh" "$TMP/tree/tests/run.sh"
cat >"$TMP/tree/tests/e2e/a_fine.sh" <<'T'
echo quiet >/dev/null
T
cat >"$TMP/tree/tests/e2e/b_breaks.sh" <<'T'
echo "a regular file" >"$TMP/plain"
mount --bind "$TMP/plain" /dev/null
T
cat >"$TMP/tree/tests/e2e/c_after.sh" <<'T'
exit 0
T
O=$TMP/build unshare -m --propagation private sh "$TMP/tree/tests/run.sh" >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
[ -c /dev/null ] && [ "$(stat -c %t,%T /dev/null)" = 1,3 ] || fail "the machine's /dev/null changed"
[ "$rc" = 1 ] || fail "the run exited $rc, not 1"
grep -q '^FAIL e2e/b_breaks (after it, /dev/null is no longer the null device: regular' "$TMP/out" ||
	fail "the test that broke /dev/null is not named"
grep -q '^failed: e2e/b_breaks' "$TMP/out" || fail "the summary does not name it"
grep -q 'c_after' "$TMP/out" && fail "the run went on after /dev/null broke"
grep -q '^1 passed, 1 failed$' "$TMP/out" || fail "unexpected summary"
echo "ok: a test that replaces /dev/null fails by name and ends the run"
