#!/bin/sh
# e2e: halog drive --format csv names servers by their X-Server header, which the server
# chooses: a name a spreadsheet would compute ("+cmd|..." or "-2+3") is written as text (a
# leading apostrophe), never as a formula (issue 11 §3). In --format markdown, a name holding
# '|' stays in its cell (escaped), so the row keeps its three columns.
set -u
. "$TOP/tests/lib.sh"
APP=${SAMPLE_APP:-$O/sample-app}
[ -x "$APP" ] || skip "no $APP"
p1=$(free_port) && p2=$(free_port) || fail "no free port"
lib_start "$TMP/a1.log" "$APP" --name '+cmd|calc!A0' --listen "127.0.0.1:$p1" >/dev/null
lib_start "$TMP/a2.log" "$APP" --name '-2+3' --listen "127.0.0.1:$p2" >/dev/null
wait_for 10 curl -sf "http://127.0.0.1:$p1/health" || fail "app 1 did not start: $(cat "$TMP/a1.log")"
wait_for 10 curl -sf "http://127.0.0.1:$p2/health" || fail "app 2 did not start: $(cat "$TMP/a2.log")"
"$HALOG" drive "http://127.0.0.1:$p1" -n 4 -c 1 --format csv >"$TMP/a1.csv" 2>"$TMP/err" ||
	{ cat "$TMP/err"; fail "drive app 1"; }
"$HALOG" drive "http://127.0.0.1:$p2" -n 4 -c 1 --format csv >"$TMP/a2.csv" 2>"$TMP/err" ||
	{ cat "$TMP/err"; fail "drive app 2"; }
cat "$TMP/a1.csv" "$TMP/a2.csv"
grep -qxF "'+cmd|calc!A0,4,4" "$TMP/a1.csv" || fail "a formula name reached the CSV as a formula"
grep -qxF "'-2+3,4,4" "$TMP/a2.csv" || fail "a name with a leading '-' is not a text cell"
! grep -q '^[=+@-]' "$TMP/a1.csv" "$TMP/a2.csv" || fail "a cell starts with a formula character"
"$HALOG" drive "http://127.0.0.1:$p1" -n 4 -c 1 --format markdown >"$TMP/a1.md" 2>"$TMP/err" ||
	{ cat "$TMP/err"; fail "drive app 1, markdown"; }
cat "$TMP/a1.md"
grep -qxF '| +cmd\|calc!A0 | 4 | 4 |' "$TMP/a1.md" || fail "a name with '|' breaks its Markdown table row"
echo "ok: server names from X-Server are text cells in drive's CSV and stay in their Markdown cells"
