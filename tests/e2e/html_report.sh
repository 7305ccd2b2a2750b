#!/bin/sh
# halog report --format html in a real browser. Runs the demo (Debian's haproxy, the sample
# backends, halog listen, halog drive; web2 stopped mid-run, so a DOWN event is stored), writes the
# HTML report of its store, then opens it in headless Chromium with selenium-webdriver
# (tests/browser/report.test.mjs): the backends, servers and counts that sqlite3 reads from the
# store must be in the charts and tables, the DOWN event on the timeline, no console error and no
# network request, no share-chart value past its chart (also on a report of the widest values: a
# server expected at 100% that got nothing). Screenshots and a PDF go to $O/html-report*.{png,pdf};
# UPDATE_SCREENSHOT=1 also copies two to docs/report-screenshot{,-backend}.png.
set -u
. "$TOP/tests/lib.sh"
APP=${SAMPLE_APP:-$O/sample-app}
for b in "$HAGEN" "$HALOG" "$APP"; do [ -x "$b" ] || skip "no $b"; done
for c in haproxy curl sqlite3 jq; do command -v $c >/dev/null || skip "$c is not installed"; done
mkdir -p "$TMP"
. "$TOP/tests/e2e/browser-lib"

# ---- traffic: the demo, with a longer second phase (about 20 s at 100/s) -----------------------
out=$TMP/demo
DEMO_OUT=$out DEMO_N1=300 DEMO_N2=2000 DEMO_RATE=100 O=$O sh "$TOP/samples/demo.sh" >"$TMP/demo.out" 2>&1 ||
	{ tail -40 "$TMP/demo.out"; fail "the demo failed"; }
db=$out/halog.db
[ -s "$db" ] || fail "no store"
[ "$(sqlite3 "$db" "select count(*) from events where state like '%DOWN%'")" -ge 1 ] ||
	fail "the demo stored no DOWN event"

# ---- the report --------------------------------------------------------------------------------
html=$TMP/report.html
SECS="--backends --paths --clients --series --slowest --top 8"
"$HALOG" report --db "$db" --inventory "$out/inventory.yaml" --check-balance 10 $SECS --format html \
	-o "$html" 2>"$TMP/report.err"
rc=$?
[ $rc = 0 ] || [ $rc = 3 ] || { cat "$TMP/report.err"; fail "report exited $rc"; }
[ -s "$html" ] || fail "empty report"
# the same store gives the same page
"$HALOG" report --db "$db" --inventory "$out/inventory.yaml" --check-balance 10 $SECS --format html \
	>"$TMP/again.html" 2>/dev/null
cmp -s "$html" "$TMP/again.html" || fail "two runs on the same store differ"
# self-contained: nothing fetched, every chart named
! grep -Eiq '(src|href)="?(https?:)?//|<script|@import|url\([^#]' "$html" || fail "a remote reference"
n_svg=$(grep -o '<svg class="chart"[^>]*role="img"[^>]*aria-label="[^"]\{10,\}"' "$html" | wc -l)
[ "$n_svg" -ge 8 ] || fail "$n_svg named charts"

# ---- a report at its widest values: a server expected at 100% gets nothing, an unlisted one all
edge=$TMP/edge
mkdir -p "$edge"
printf '%s\n' 'entrypoints:' '  web: { bind: "127.0.0.1:8080" }' 'services:' '  one:' '    servers:' \
	'      - { name: s1, address: "127.0.0.1:9001" }' \
	'      - { name: s2, address: "127.0.0.1:9002", weight: 0 }' >"$edge/inventory.yaml"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	echo "<134>Nov 25 04:20:31 haproxy[1]: 127.0.0.1:3000$i [25/Nov/2026:04:20:31.000] fe_web be_one/s2 0/0/1/0/1 200 100 - - ---- 1/1/0/0/0 0/0 \"GET /x HTTP/1.1\""
done >"$edge/one.log"
"$HALOG" ingest --db "$edge/e.db" "$edge/one.log" >/dev/null 2>&1 || fail "ingest (edge)"
"$HALOG" report --db "$edge/e.db" --inventory "$edge/inventory.yaml" --check-balance 10 \
	--format html -o "$edge/edge.html" 2>/dev/null
[ $? = 3 ] || fail "the edge report should fail its balance check"
grep -q 'expected 100.0%, -100.0 pts' "$edge/edge.html" || fail "the edge report has no 100% expectation"

# ---- what the browser must show: ground truth from the store -----------------------------------
"$HALOG" export --db "$db" -o "$TMP/x.db" || fail "export"
sqlite3 -json "$TMP/x.db" "select backend, server, count(*) n from requests group by 1, 2" >"$TMP/bs.json"
sqlite3 -json "$db" "select proxy backend, server from events where state like '%DOWN%'
	and server is not null group by 1, 2" >"$TMP/down.json"
[ -s "$TMP/down.json" ] || echo '[]' >"$TMP/down.json"
# the paths and clients rows: the JSON report of the same sections, checked against the store
"$HALOG" report --db "$db" --paths --clients --series --slowest --top 8 --format json >"$TMP/ranked.json" ||
	fail "report --format json"
[ "$(jq '.paths.requests' "$TMP/ranked.json")" = "$(sqlite3 "$TMP/x.db" "select count(*) from requests where mode = 'http'")" ] ||
	fail "paths: requests differ from the store's http rows"
jq -n --slurpfile bs "$TMP/bs.json" --slurpfile dn "$TMP/down.json" --slurpfile rk "$TMP/ranked.json" '{
	total: ([$bs[0][].n] | add),
	backends: (reduce $bs[0][] as $r ({}; .[$r.backend].requests += $r.n
		| .[$r.backend].servers[$r.server] = $r.n)),
	down: $dn[0], paths: $rk[0].paths.rows, clients: $rk[0].clients.rows,
	series: $rk[0].series.bins, slowest: $rk[0].slowest.backends}' >"$TMP/expect.json" ||
	fail "expectations"
cat "$TMP/expect.json"

# ---- the browser test --------------------------------------------------------------------------
mkdir -p "$TMP/browser"
# the Chromium profile lives under $TMP/browser, so whatever it leaves is found below
(cd "$BR" && TMPDIR=$TMP/browser REPORT_HTML=$html EXPECT_JSON=$TMP/expect.json SHOT_DIR=$O \
	CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER timeout 240 node --test report.test.mjs) \
	>"$TMP/node.out" 2>&1
rc=$?
cat "$TMP/node.out"
browser_stop_left "$TMP/browser"
[ $rc = 0 ] || fail "the browser test failed (exit $rc)"
grep -q '^# pass 11$' "$TMP/node.out" || fail "not every browser check passed"
[ -s "$O/html-report.png" ] || fail "no screenshot"
cp "$html" "$O/html-report.html"
if [ -n "${UPDATE_SCREENSHOT:-}" ]; then
	cp "$O/html-report.png" "$TOP/docs/report-screenshot.png" &&
		cp "$O/html-report-backend.png" "$TOP/docs/report-screenshot-backend.png" ||
		fail "cannot update the screenshots"
	echo "updated docs/report-screenshot.png and docs/report-screenshot-backend.png"
fi
# ---- the share charts at their widest values, measured in the browser -------------------------
(cd "$BR" && TMPDIR=$TMP/browser REPORT_HTML=$html EDGE_HTML=$edge/edge.html EXPECT_JSON=$TMP/expect.json \
	SHOT_DIR=$TMP/browser CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER timeout 240 \
	node --test --test-name-pattern='^share charts' report.test.mjs) >"$TMP/edge.out" 2>&1
rc=$?
cat "$TMP/edge.out"
left=$(pgrep -f -- "$TMP/browser" | tr '\n' ' ')
for p in $left; do lib_stop "$p"; done
[ -z "$left" ] || fail "browser processes left running: $left"
[ $rc = 0 ] && grep -q '^# pass 1$' "$TMP/edge.out" && grep -q '^# fail 0$' "$TMP/edge.out" ||
	fail "the share charts' values run past their charts"
# ---- the sections of captured headers, bad requests and --compare, against their JSON -----------
sec=$TMP/sections
mkdir -p "$sec"
"$HALOG" ingest --db "$sec/s.db" "$TOP/tests/cases/halog-search-db/sample.log" \
	"$TOP/tests/cases/halog-report/data/compare.log" >/dev/null 2>&1 || fail "ingest (sections)"
# the headers and the bad request are in sample.log, the two minutes to compare in compare.log
"$HALOG" report --db "$sec/s.db" --headers --conn-errors --format json >"$sec/hc.json" &&
	"$HALOG" report --db "$sec/s.db" --since 2025-12-01T10:01:00Z --until 2025-12-01T10:02:00Z \
		--compare 1m --format json >"$sec/cmp.json" &&
	jq -s '{headers: .[0].headers, conn_errors: .[0].conn_errors, compare: .[1].compare}' \
		"$sec/hc.json" "$sec/cmp.json" >"$sec/sections.json" || fail "sections (json)"
# two pages: the headers and connection errors of the whole store, the two minutes compared
"$HALOG" report --db "$sec/s.db" --headers --conn-errors --format html -o "$sec/hc.html" &&
	"$HALOG" report --db "$sec/s.db" --since 2025-12-01T10:01:00Z --until 2025-12-01T10:02:00Z \
		--compare 1m --format html -o "$sec/cmp.html" || fail "sections (html)"
for page in hc cmp; do
	(cd "$BR" && TMPDIR=$TMP/browser REPORT_HTML=$html EXPECT_JSON=$TMP/expect.json \
		SECTIONS_HTML=$sec/$page.html SECTIONS_JSON=$sec/sections.json SECTIONS_ONLY=$page \
		SHOT_DIR=$TMP/browser CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER timeout 240 \
		node --test --test-name-pattern='^new sections' report.test.mjs) >"$TMP/sec-$page.out" 2>&1
	rc=$?
	cat "$TMP/sec-$page.out"
	left=$(pgrep -f -- "$TMP/browser" | tr '\n' ' ')
	for p in $left; do lib_stop "$p"; done
	[ -z "$left" ] || fail "browser processes left running: $left"
	[ $rc = 0 ] && grep -q '^# pass 1$' "$TMP/sec-$page.out" && grep -q '^# fail 0$' "$TMP/sec-$page.out" ||
		fail "the $page sections do not hold the rows of their JSON report"
done
echo "html report: browser checks passed; screenshot $O/html-report.png"
