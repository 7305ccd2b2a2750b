#!/bin/sh
# e2e: halog serve, saved searches and alerts over a ClickHouse database (issue 18). One `halog
# ingest --db FILE --sink clickhouse://…` run fills both stores with the same lines; halog serve
# on each answers /api/search and /api/report the same (positions aside); a saved search made
# through serve's API on ClickHouse lands in the URL's state= file, `halog saved` and `search
# --saved` see it; `halog alert add` and `alert test` over ClickHouse fire on lines received in
# the last minute, as over the SQLite store. The URL carries a password (password=): no output
# of halog, nor /api/meta, shows it.
set -u
. "$TOP/tests/e2e/clickhouse-lib"
command -v python3 >/dev/null || skip "python3 is not installed"
LOGGEN=$O/helpers/loggen
[ -x "$LOGGEN" ] || skip "helpers/loggen not built"

HP=$(free_port) && TP=$(free_port) && S1=$(free_port) && S2=$(free_port) || fail "no free port"
ch_config ch1 "$HP" "$TP"
ch_start ch1 "$HP"
STATE=$TMP/ch-state.db
URL="clickhouse://127.0.0.1:$HP/halog?user=$CH_PW_USER&password=$CH_PW&spool=$TMP/sink.spool&state=$STATE"
"$HALOG" clickhouse init "$URL" >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; fail "init"; }
"$LOGGEN" --lines 5000 --format mixed >"$TMP/gen.log" || fail "loggen"
"$HALOG" ingest --db "$TMP/a.db" --sink "$URL" "$TMP/gen.log" >"$TMP/ingest.log" 2>&1 ||
	{ cat "$TMP/ingest.log"; fail "ingest"; }
grep -q "overflow 0, spooled 0 " "$TMP/ingest.log" || fail "the sink did not insert everything"
# the end of a ClickHouse store lags the clock by 2 s (CH_SETTLE_MS in store/chread.c): a search
# from the end shows the lines received before then
sleep 3

# ---- serve: --listen cannot store into ClickHouse; otherwise the API answers from it ----------
"$HALOG" serve --db "$URL" --bind "127.0.0.1:$S1" --listen "udp://127.0.0.1:$S2" \
	>"$TMP/refused.out" 2>&1 && fail "serve --listen over ClickHouse started"
grep -q "listen stores into a SQLite file" "$TMP/refused.out" || fail "refusal: $(cat "$TMP/refused.out")"
lib_start "$TMP/serve-ch.log" "$HALOG" serve --db "$URL" --bind "127.0.0.1:$S1"
lib_start "$TMP/serve-sq.log" "$HALOG" serve --db "$TMP/a.db" --bind "127.0.0.1:$S2"
wait_for 15 curl -sf -o /dev/null "http://127.0.0.1:$S1/api/meta" || { cat "$TMP/serve-ch.log"; fail "serve on ClickHouse did not start"; }
wait_for 15 curl -sf -o /dev/null "http://127.0.0.1:$S2/api/meta" || { cat "$TMP/serve-sq.log"; fail "serve on SQLite did not start"; }
curl -sf -o "$TMP/meta.json" "http://127.0.0.1:$S1/api/meta" || fail "/api/meta"
grep -q "password=\*\*\*&" "$TMP/meta.json" || fail "/api/meta: $(cat "$TMP/meta.json")"
# the start line is written once the server answers, not before: waited for
wait_for 15 grep -q "serving clickhouse://127.0.0.1:$HP/halog?user=$CH_PW_USER&password=\*\*\*&" \
	"$TMP/serve-ch.log" || fail "serve's start line: $(cat "$TMP/serve-ch.log")"

# same PATH: the answer of both servers, equal but for positions (each store's own) and timing
checked=0
same() {
	_c1=$(curl -s -o "$TMP/c.json" -w '%{http_code}' "http://127.0.0.1:$S1/$1")
	_c2=$(curl -s -o "$TMP/s.json" -w '%{http_code}' "http://127.0.0.1:$S2/$1")
	[ "$_c1" = "$_c2" ] || fail "$1: HTTP $_c1 from ClickHouse, $_c2 from SQLite: $(head -c 300 "$TMP/c.json")"
	python3 - "$TMP/c.json" "$TMP/s.json" <<'PY' || fail "$1 differs"
import json, re, sys
def load(p):
    t = open(p, encoding="utf-8").read()
    try:
        d = json.loads(t)
    except ValueError:
        return re.sub(r'"(pos|id)":[0-9]+', "", t)
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("id", "pos", "next", "took_ms", "store")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    return strip(d)
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    print(str(a)[:400], "\n", str(b)[:400], file=sys.stderr)
    sys.exit(1)
PY
	checked=$((checked + 1))
}
same "api/search?q=status:503&limit=50"
same "api/search?q=kind:server&limit=200"
same "api/search?q=be_app%20-status:200&limit=100"
same "api/search?q=status:5xx&limit=20&since=2025-12-01T00:00:05Z&until=2025-12-01T00:00:30Z"
same "api/report"
same "api/report?format=text"
same "api/report?backend=be_app&format=json"
same "api/report?since=2025-12-01T00:00:00Z&until=2025-12-01T00:01:00Z&format=html"
echo "ok: $checked serve answers equal from ClickHouse and SQLite"

# ---- saved searches: through serve's API into the state file, seen by the CLI ------------------
CSRF=$(curl -sf "http://127.0.0.1:$S1/api/meta" | python3 -c 'import json, sys; print(json.load(sys.stdin)["csrf"])')
code=$(curl -s -o "$TMP/put.json" -w '%{http_code}' -X POST -H "X-CSRF-Token: $CSRF" \
	-H 'Content-Type: application/json' --data '{"name":"errs","query":"status:503"}' \
	"http://127.0.0.1:$S1/api/saved")
[ "$code" = 200 ] || [ "$code" = 201 ] || fail "save through serve: HTTP $code $(cat "$TMP/put.json")"
[ -s "$STATE" ] || fail "no state file at $STATE"
curl -sf "http://127.0.0.1:$S1/api/saved" | grep -q '"name":"errs"' || fail "serve does not list errs"
"$HALOG" saved list --db "$URL" >"$TMP/saved.out" 2>&1 || { cat "$TMP/saved.out"; fail "saved list"; }
grep -q "errs" "$TMP/saved.out" || fail "halog saved list: $(cat "$TMP/saved.out")"
"$HALOG" search --db "$URL" --saved errs --count >"$TMP/c.count" 2>&1 || fail "search --saved over ClickHouse: $(cat "$TMP/c.count")"
"$HALOG" search --db "$TMP/a.db" --count status:503 >"$TMP/s.count" 2>&1 || fail "search --count on SQLite"
cmp -s "$TMP/c.count" "$TMP/s.count" || fail "search --saved errs: $(cat "$TMP/c.count") from ClickHouse, $(cat "$TMP/s.count") from SQLite"
echo "ok: a saved search made through serve on ClickHouse is kept in state= and used by the CLI"

# ---- alerts: defined in the state file, evaluated over ClickHouse ------------------------------
# lines received now (ingest stamps the receive time) make the last minute's window
"$HALOG" ingest --db "$TMP/a.db" --sink "$URL" "$TMP/gen.log" >"$TMP/ingest2.log" 2>&1 ||
	{ cat "$TMP/ingest2.log"; fail "second ingest"; }
"$HALOG" saved add --db "$TMP/a.db" errs status:503 >/dev/null 2>&1 || fail "saved add on SQLite"
for db in "$URL" "$TMP/a.db"; do
	"$HALOG" alert add e503 --db "$db" --saved errs --when 'count >= 1' --every 1m \
		--webhook "http://127.0.0.1:$S2/hook" >"$TMP/add.out" 2>&1 || { cat "$TMP/add.out"; fail "alert add on $db"; }
	"$HALOG" alert add none --db "$db" --query 'status:599' --when 'count >= 1' --every 1m \
		--webhook "http://127.0.0.1:$S2/hook" >"$TMP/add.out" 2>&1 || { cat "$TMP/add.out"; fail "alert add on $db"; }
	"$HALOG" alert test --db "$db" e503 >"$TMP/test.json" 2>"$TMP/test.err" || { cat "$TMP/test.err"; fail "alert test on $db"; }
	grep -q "e503 would fire: count = " "$TMP/test.err" || fail "alert test on $db: $(cat "$TMP/test.err")"
	"$HALOG" alert test --db "$db" none >"$TMP/test.json" 2>"$TMP/test.err" || { cat "$TMP/test.err"; fail "alert test on $db"; }
	grep -q "none would not fire" "$TMP/test.err" || fail "alert test none on $db: $(cat "$TMP/test.err")"
done
"$HALOG" alert list --db "$URL" >"$TMP/list.out" 2>&1 || fail "alert list over ClickHouse"
grep -q "e503" "$TMP/list.out" || fail "alert list: $(cat "$TMP/list.out")"
echo "ok: alerts over ClickHouse are kept in state= and fire on its lines"

# ---- the password: in no output of halog (the server's own logs aside) ------------------------
"$HALOG" search --db "$URL&compress=zstd" x >"$TMP/bad.out" 2>&1 && fail "a bad URL was taken"
grep -q "password=\*\*\*" "$TMP/bad.out" || fail "bad URL: $(cat "$TMP/bad.out")"
leaks=$(cd "$TMP" && grep -l -- "$CH_PW" ./*.log ./*.out ./*.json ./*.err 2>/dev/null)
[ -z "$leaks" ] || fail "the password is shown in $leaks"
echo "ok: the password is in no message, start line or /api/meta"
