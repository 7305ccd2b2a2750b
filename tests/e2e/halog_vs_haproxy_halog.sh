#!/bin/sh
# halog report vs HAProxy's own halog on the same generated log: per backend/server request
# counts and status classes (`halog -srv`), and per status code counts (`halog -st`).
# HAProxy's halog reads HTTP lines only (tcplog lines are its "parsing errors", listed with 0),
# so the -srv comparison covers every server HAProxy's halog counted, and every HTTP server of
# ours; -st runs on an httplog-only file (on tcplog lines it would read bytes as a status).
. "$TOP/tests/lib.sh"

HAP_HALOG=/usr/sbin/halog
[ -x "$HAP_HALOG" ] || skip "no $HAP_HALOG (Debian package haproxy)"
command -v jq >/dev/null 2>&1 || skip "no jq"
LOGGEN=$O/helpers/loggen
[ -x "$LOGGEN" ] || fail "no $LOGGEN (make helpers)"
mkdir -p "$TMP"
cd "$TMP" || fail "cannot enter $TMP"

# --- -srv on a mixed http/tcp log ---
"$LOGGEN" --lines 20000 --seed 42 --format mixed --framing rfc3164 >mixed.log || fail "loggen"
"$HALOG" ingest --db mixed.db mixed.log 2>ingest.err || { cat ingest.err; fail "ingest"; }
"$HALOG" report --db mixed.db --format json >mixed.json || fail "report"
n=$(store_count mixed.db)
[ "$n" = 20000 ] || fail "lines stored: $n, expected 20000"

# HAProxy: "be/srv 1xx 2xx 3xx 4xx 5xx other tot_req req_ok pct_ok avg_ct avg_rt"
"$HAP_HALOG" -srv -q <mixed.log >srv.txt || fail "halog -srv"
awk '!/^#/ && $8 > 0 { print $1, $2, $3, $4, $5, $6, $7, $8 }' srv.txt | sort >theirs.txt
# ours, same columns, for every server of an http backend
jq -r '.backends[] | select(.mode == "http") | .name as $b | .servers[] |
	"\($b)/\(.name) \(.status["1xx"]) \(.status["2xx"]) \(.status["3xx"]) \(.status["4xx"]) \(.status["5xx"]) \(.status.other) \(.requests)"' \
	mixed.json | sort >ours.txt
[ -s theirs.txt ] || fail "halog -srv printed no server"
[ "$(wc -l <ours.txt)" -ge 10 ] || fail "too few servers in our report: $(wc -l <ours.txt)"
if ! diff -u theirs.txt ours.txt; then
	fail "per-server counts differ from halog -srv (-: haproxy, +: ours)"
fi
# the tcp servers HAProxy's halog cannot read are in our report with their requests
tcp=$(jq '[.backends[] | select(.mode == "tcp") | .requests] | add' mixed.json)
tcp_lines=$(store_sql mixed.db "SELECT count(*) FROM requests WHERE mode = 'tcp'")
[ "$tcp" = "$tcp_lines" ] && [ "$tcp" -gt 0 ] || fail "tcp requests: report $tcp, rows $tcp_lines"

# the text form stays within 80 columns on real-sized numbers
"$HALOG" report --db mixed.db -o mixed.txt || fail "report text"
awk 'length > 80 { print FNR ": " $0; bad = 1 } END { exit bad }' mixed.txt ||
	fail "text report wider than 80 columns"

# --- -st on an httplog-only log ---
"$LOGGEN" --lines 20000 --seed 7 --format httplog --framing rfc3164 >http.log || fail "loggen"
"$HALOG" ingest --db http.db http.log 2>ingest.err || { cat ingest.err; fail "ingest"; }
"$HALOG" report --db http.db --format json >http.json || fail "report"
"$HAP_HALOG" -st -q <http.log | sort >theirs-st.txt || fail "halog -st"
jq -r '[.backends[].codes | to_entries[]] | group_by(.key) |
	map("\(.[0].key) \(map(.value) | add)") | .[]' http.json | sort >ours-st.txt
[ "$(wc -l <theirs-st.txt)" -ge 10 ] || fail "halog -st printed too few codes"
if ! diff -u theirs-st.txt ours-st.txt; then
	fail "per-status counts differ from halog -st (-: haproxy, +: ours)"
fi
echo "ok: $(wc -l <ours.txt) servers and $(wc -l <ours-st.txt) status codes agree with $HAP_HALOG"
