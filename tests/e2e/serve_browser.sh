#!/bin/sh
# halog serve in a real browser: `halog serve --listen udp://…` on loopback, its page opened in
# headless Chromium with selenium-webdriver (tests/browser/serve.test.mjs): UDP lines reach the
# live tail, a bad query shows its caret, a click on a field refines a search, the report links
# into the search, a saved search is stored and reopened (and is the one `halog search --saved`
# runs), a /search?q=… link made outside the page opens its search, hostile lines stay text; no
# console message and no request outside the server.
# Screenshots go to $O/serve-search.png and $O/serve-hostile.png; UPDATE_SCREENSHOT=1 also copies
# the first to docs/serve-screenshot.png.
set -u
. "$TOP/tests/lib.sh"
[ -x "$HALOG" ] || skip "no $HALOG"
command -v curl >/dev/null || skip "curl is not installed"
mkdir -p "$TMP"
. "$TOP/tests/e2e/browser-lib"

HP=$(free_port) || fail "no free port"
UP=$(free_port) || fail "no free port"
db=$TMP/serve.db
tok=run$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
lib_start "$TMP/serve.log" "$HALOG" serve --db "$db" --bind "127.0.0.1:$HP" --listen "udp://127.0.0.1:$UP"
spid=$LIB_LAST_PID
wait_for 15 curl -sf "http://127.0.0.1:$HP/api/meta" || { cat "$TMP/serve.log"; fail "halog serve did not start"; }

mkdir -p "$TMP/browser"
# the Chromium profile lives under $TMP/browser, so whatever it leaves is found below
(cd "$BR" && TMPDIR=$TMP/browser SERVE_URL="http://127.0.0.1:$HP/" UDP_PORT=$UP RUN_TOKEN=$tok \
	SAVED_NAME="errors-$tok" SHOT_DIR=$O CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER \
	timeout 300 node --test serve.test.mjs) >"$TMP/node.out" 2>&1
rc=$?
cat "$TMP/node.out"
browser_stop_left "$TMP/browser"
lib_alive "$spid" || { cat "$TMP/serve.log"; fail "halog serve died"; }
[ $rc = 0 ] || { tail -20 "$TMP/serve.log"; fail "the browser test failed (exit $rc)"; }
grep -q '^# fail 0$' "$TMP/node.out" && grep -q '^# pass 10$' "$TMP/node.out" ||
	fail "not every browser check passed"

# the search saved in the page is the command line's
n=$("$HALOG" search --db "$db" --saved "errors-$tok" --count 2>"$TMP/saved.err") ||
	{ cat "$TMP/saved.err"; fail "halog search --saved errors-$tok"; }
[ "$n" = 3 ] || fail "halog search --saved counted $n, not 3"

# SIGTERM: the server and its listener stop cleanly
kill -TERM "$spid"
wait "$spid"
src=$?
[ "$src" = 0 ] || { cat "$TMP/serve.log"; fail "halog serve exited $src"; }
grep -q '^halog listen: received' "$TMP/serve.log" || fail "the listener printed no counters"
if [ -n "${UPDATE_SCREENSHOT:-}" ]; then
	cp "$O/serve-search.png" "$TOP/docs/serve-screenshot.png" || fail "cannot update the screenshot"
	echo "updated docs/serve-screenshot.png"
fi
echo "serve browser test: passed; screenshots $O/serve-search.png, $O/serve-hostile.png"
