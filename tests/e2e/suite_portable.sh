#!/bin/sh
# e2e: the suite runs where CI runs it. A checkout without ../shared/corpus (CircleCI has only
# the repository) skips the corpus golden case with its reason instead of failing it.
# (The IPv6 side of this: listen_no_ipv6.sh.)
set -u
. "$TOP/tests/lib.sh"
mkdir -p "$TMP"
HALOG_CORPUS=$TMP/no-corpus O=$O sh "$TOP/tests/run.sh" case/halog-parse-corpus >"$TMP/out" 2>&1
cat "$TMP/out"
grep -q '^skip case/halog-parse-corpus/001-every-corpus-line: no corpus at ../shared/corpus' "$TMP/out" ||
	fail "the corpus case was not skipped without a corpus"
grep -q '^0 passed, 0 failed, 1 skipped$' "$TMP/out" || fail "unexpected summary"
echo "ok: without a corpus the corpus case is skipped, saying why"
