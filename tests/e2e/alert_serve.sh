#!/bin/sh
# e2e: alerts are evaluated inside `halog serve --listen` (it runs halog listen's receiver, alert
# engine included) and their payloads link to that serve: real UDP syslog and a real webhook
# receiver on loopback. An alert fires on every 10 s window holding one of its lines:
#   serve --listen: 5 lines; every window holding them fires once, delivered with a count that
#   adds up to 5 and links.search = serve's address + /search?q=…&since=@S&until=@E, a link the
#   server answers with 303 to its page, and whose range and query find the window's lines in
#   serve's own search API; SIGTERM ends serve with 0
#   halog listen alone afterwards: 5 more lines fire without links (no serve runs any more)
set -u
. "$TOP/tests/e2e/alert-lib"
command -v curl >/dev/null || skip "curl is not installed"

P=$(free_port) || fail "no free port"
H=$(free_port) || fail "no free port"
W=$(free_port) || fail "no free port"
DB=$TMP/s.db
URL=http://127.0.0.1:$H
start_receiver "$W" "$TMP/recv.log"
"$HALOG" ingest --db "$DB" /dev/null 2>/dev/null || fail "cannot create the store"
"$HALOG" alert add sv --db "$DB" --query '"/sv/seq="' --when 'count >= 1' --every 10s \
	--webhook "http://127.0.0.1:$W/hook" || fail "alert add"
send() { "$SEND" --udp "127.0.0.1:$P" --count 5 --start "$1" --prefix sv >/dev/null || fail "send"; }
# delivered N: N lines counted by the deliveries answered 200 (one per window)
delivered() { pyq "sum(l['body']['count'] for l in lines if l['answer']=='200')" "$TMP/recv.log"; }
delivered_is() { [ "$(delivered 2>/dev/null)" = "$1" ]; }

lib_start "$TMP/serve.log" "$HALOG" serve --db "$DB" --bind "127.0.0.1:$H" --listen "udp://127.0.0.1:$P"
spid=$LIB_LAST_PID
wait_for 15 curl -sf -o /dev/null "$URL/api/meta" || { cat "$TMP/serve.log"; fail "halog serve did not start"; }
wait_for 10 grep -q "listening on" "$TMP/serve.log" || { cat "$TMP/serve.log"; fail "serve's listener did not start"; }
send 0
wait_for 40 delivered_is 5 || { cat "$TMP/serve.log"; "$HALOG" alert log --db "$DB"; fail "serve --listen delivered $(delivered) of 5 lines"; }
"$HALOG" alert log --db "$DB" -n 100
n=$(pyq "len(lines)" "$TMP/recv.log")
keys=$(pyq "len({l['key'] for l in lines})" "$TMP/recv.log")
[ "$n" = "$keys" ] || fail "$n deliveries for $keys keys: a window was delivered twice"

# every payload links to this serve; each link opens the page and finds its window's lines
i=0
while [ "$i" -lt "$n" ]; do
	link=$(pyq "lines[$i]['body'].get('links', {}).get('search', '')" "$TMP/recv.log")
	count=$(pyq "lines[$i]['body']['count']" "$TMP/recv.log")
	start=$(pyq "lines[$i]['body']['window']['start_ms'] // 1000" "$TMP/recv.log")
	end=$(pyq "lines[$i]['body']['window']['end_ms'] // 1000" "$TMP/recv.log")
	want="$URL/search?q=%22%2Fsv%2Fseq%3D%22&since=%40$start&until=%40$end"
	[ "$link" = "$want" ] || fail "links.search is '$link', want '$want'"
	code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 "$link")
	case $code in
	"303 $URL/#search?"*) ;;
	*) fail "the link answered '$code', not 303 to the page's search" ;;
	esac
	api=$(echo "$link" | sed 's,/search?,/api/search?,')
	curl -sf --max-time 10 "$api" >"$TMP/api.json" || fail "$api failed"
	got=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['count'])" "$TMP/api.json")
	[ "$got" = "$count" ] || fail "the link's search finds $got lines, the payload counts $count"
	i=$((i + 1))
done

kill -TERM "$spid"
wait "$spid"; rc=$?
[ "$rc" = 0 ] || { cat "$TMP/serve.log"; fail "halog serve exited $rc"; }

# without serve, a listener's payloads have no links to it
sleep 1 # the next lines fall in a new window
start_listener "$TMP/l.log" --db "$DB" --bind "udp://127.0.0.1:$P"
send 5
wait_for 40 delivered_is 10 || { "$HALOG" alert log --db "$DB"; fail "listen delivered $(delivered) of 10 lines"; }
stop_listener "$lpid" "$TMP/l.log"
late=$(pyq "[i for i, l in enumerate(lines) if i >= $n and 'links' in l['body']]" "$TMP/recv.log")
[ -z "$late" ] || fail "payloads sent after serve stopped link to it: $(pyq "[l['body']['links']['search'] for l in lines if 'links' in l['body']]" "$TMP/recv.log")"
echo "ok: serve --listen fired $n windows for 5 lines, each linked to $URL and found there; none linked once serve stopped"
