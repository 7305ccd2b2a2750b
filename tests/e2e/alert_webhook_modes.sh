#!/bin/sh
# e2e: alerts evaluated by `halog listen` on exact 10 s windows and delivered to a real HTTP
# receiver on loopback that answers 200, 500 then 200, slowly, never, with a TCP reset then
# 200, and 404. Two windows with 5 matching lines each fire each alert twice; every firing is
# delivered exactly once per idempotency key where the receiver eventually answers 2xx, is
# retried (and logged) while it does not, and is given up on a 404. Payloads: the generic JSON
# (key, window, count, sample) and Slack's incoming-webhook shape.
set -u
. "$TOP/tests/e2e/alert-lib"

P=$(free_port) || fail "no free port"
W=$(free_port) || fail "no free port"
DB=$TMP/a.db
start_receiver "$W" "$TMP/recv.log"
"$HALOG" ingest --db "$DB" /dev/null 2>/dev/null || fail "cannot create the store"
URL=http://127.0.0.1:$W

# one alert per receiver behaviour, each watching its own lines
add() {
	_n=$1 _p=$2; shift 2
	"$HALOG" alert add "$_n" --db "$DB" --query "\"/$_n/seq=\"" --when 'count >= 1' \
		--every 10s --webhook "$URL$_p" "$@" || fail "alert add $_n"
}
add ok /ok
add flaky /flaky/2
add slow /slow/2 --timeout 6s
add never /never --timeout 1s
add reset /reset-then-ok/1
add refused /status/404
add slack /ok --format slack
add quiet /ok --cooldown 1h

start_listener "$TMP/l.log" --db "$DB" --bind "udp://127.0.0.1:$P"
send() {
	for n in ok flaky slow never reset refused slack quiet; do
		"$SEND" --udp "127.0.0.1:$P" --count 5 --start "$1" --prefix "$n" >/dev/null || fail "send"
	done
}
# windows [B, B+10) and [B+10, B+20): 5 lines of each alert in each (the alerts were added more
# than a second before B, so their first window starts at B at the latest)
sleep 1
wait_boundary 10 9
send 0
sleep 10
send 5
wait_for 20 sh -c "[ \$('$HALOG' search --db '$DB' --count '' 2>/dev/null) = 80 ]" || fail "the 80 lines were not stored"
# windows with lines, per alert, by receive time (normally 2: [B, B+10) and [B+10, B+20))
wins() { store_sql "$DB" "SELECT count(DISTINCT recv_ms / 10000) FROM lines WHERE CAST(raw AS TEXT) LIKE '%/$1/seq=%'"; }
want=1 # quiet fires once
for n in ok flaky slow reset slack; do want=$((want + $(wins $n))); done
# the second window closes in at most 9 s; then the retries: flaky ~3 s, slow 2 s
wait_for 60 sh -c "\"$HALOG\" alert log --db \"$DB\" -n 1000 | grep -c ' delivered ' | grep -qx $want" ||
	{ "$HALOG" alert log --db "$DB" -n 100; fail "not every deliverable firing was delivered ($want)"; }
# never: at least one timed-out retry per key
wait_for 20 sh -c "\"$HALOG\" alert log --db \"$DB\" never -n 1000 | grep ' retry ' | grep -c 'timed out' | awk '\$1 >= 2 {ok=1} END {exit !ok}'" ||
	{ "$HALOG" alert log --db "$DB" never; fail "the hanging webhook was not retried"; }
stop_listener "$lpid" "$TMP/l.log"
"$HALOG" alert log --db "$DB" -n 1000 --json >"$TMP/alog.json" || fail "alert log --json"
"$HALOG" alert log --db "$DB" -n 1000
n=$(field "$TMP/l.log" stored)
[ "$n" = 80 ] || fail "stored $n lines, want 80"

fired() { pyq "[l['key'] for l in lines if l['alert']=='$1' and l['event']=='fired']" "$TMP/alog.json"; }

for n in ok flaky slow reset slack refused never; do
	k=$(fired $n)
	[ "$(echo "$k" | wc -w)" = "$(wins $n)" ] || fail "$n fired '$k', want $(wins $n) windows"
done
# quiet: the cooldown kept the later windows from firing
[ "$(fired quiet | wc -w)" = 1 ] || fail "quiet fired $(fired quiet | wc -w) times despite --cooldown 1h"
pyq "sum(1 for l in lines if l['alert']=='quiet' and l['event']=='cooldown')" "$TMP/alog.json" | grep -qx $(($(wins quiet) - 1)) ||
	fail "the cooled-down windows are not in the log"

# exactly once per key among the 2xx answers of the receiver, for each deliverable alert
for n in ok flaky slow reset slack; do
	for k in $(fired $n); do
		c=$(pyq "sum(1 for l in lines if l['key']=='$k' and l['answer']=='200')" "$TMP/recv.log")
		[ "$c" = 1 ] || fail "$n: key $k answered 200 $c times, want 1"
		d=$(pyq "sum(1 for l in lines if l['key']=='$k' and l['event']=='delivered')" "$TMP/alog.json")
		[ "$d" = 1 ] || fail "$n: key $k delivered $d times in the alert log"
	done
done
# flaky: two 500s then the 200, per key, and two retries logged with the status
for k in $(fired flaky); do
	[ "$(pyq "[l['answer'] for l in lines if l['key']=='$k']" "$TMP/recv.log")" = "200 500 500" ] ||
		fail "flaky $k: answers $(pyq "[l['answer'] for l in lines if l['key']=='$k']" "$TMP/recv.log")"
	[ "$(pyq "sum(1 for l in lines if l['key']=='$k' and l['event']=='retry' and l.get('http_status')==500)" "$TMP/alog.json")" = 2 ] ||
		fail "flaky $k: the two 500s are not logged as retries"
done
# reset: one reset, logged with curl's reason, then delivered
for k in $(fired reset); do
	[ "$(pyq "[l['answer'] for l in lines if l['key']=='$k']" "$TMP/recv.log")" = "200 reset" ] ||
		fail "reset $k: answers $(pyq "[l['answer'] for l in lines if l['key']=='$k']" "$TMP/recv.log")"
	pyq "[l['detail'] for l in lines if l['key']=='$k' and l['event']=='retry']" "$TMP/alog.json" | grep -qi 'reset\|recv failure\|empty reply' ||
		fail "reset $k: no retry with the connection's error in the log"
done
# never: nothing delivered, every attempt logged as a timed-out retry
[ "$(pyq "sum(1 for l in lines if l['alert']=='never' and l['event']=='delivered')" "$TMP/alog.json")" = 0 ] ||
	fail "never: a delivery is logged as delivered"
# refused: one attempt each, given up with the status
for k in $(fired refused); do
	[ "$(pyq "sum(1 for l in lines if l['key']=='$k')" "$TMP/recv.log")" = 1 ] || fail "refused $k: retried after a 404"
	pyq "[l['http_status'] for l in lines if l['key']=='$k' and l['event']=='gave-up']" "$TMP/alog.json" | grep -qx 404 ||
		fail "refused $k: no gave-up with HTTP 404"
done

# the generic payload: its key is the header's, its window the exact 10 s, 5 lines counted
for k in $(fired ok); do
	pyq "[l for l in lines if l['key']=='$k' and l['answer']=='200'][0]['body']" "$TMP/recv.log" >"$TMP/body.txt"
	ok=$(pyq "[1 for l in lines if l['key']=='$k' and l['answer']=='200'
		and l['content_type']=='application/json' and l['alert']=='ok'
		and l['body']['idempotency_key']=='$k' and l['body']['status']=='firing'
		and l['body']['alert']=='ok' and l['body']['count']>=1
		and l['body']['values']['count']==l['body']['count'] and l['body']['condition']=='count >= 1'
		and l['body']['window']['seconds']==10 and l['body']['window']['end_ms']-l['body']['window']['start_ms']==10000
		and l['body']['window']['start_ms'] % 10000 == 0
		and len(l['body']['sample'])==min(5, l['body']['count'])
		and all('/ok/seq=' in s['line'] for s in l['body']['sample'])]" "$TMP/recv.log")
	[ "$ok" = 1 ] || { cat "$TMP/body.txt"; fail "ok $k: the JSON payload is not as documented"; }
done
# the windows' counts add up to the 10 lines of the alert
[ "$(pyq "sum(l['body']['count'] for l in lines if l['alert']=='ok' and l['answer']=='200')" "$TMP/recv.log")" = 10 ] ||
	fail "ok: the delivered counts do not add up to 10"
# Slack: text, blocks with mrkdwn sections and the key in a context block
for k in $(fired slack); do
	ok=$(pyq "[1 for l in lines if l['key']=='$k' and l['answer']=='200'
		and 'halog alert slack firing' in l['body']['text']
		and l['body']['blocks'][0]['text']['type']=='mrkdwn'
		and '$k' in l['body']['blocks'][-1]['elements'][0]['text']]" "$TMP/recv.log")
	[ "$ok" = 1 ] || fail "slack $k: not Slack's incoming-webhook shape"
done
# every request the receiver saw carried valid JSON
[ "$(pyq "sum(1 for l in lines if not l['json_ok'])" "$TMP/recv.log")" = 0 ] || fail "a payload was not valid JSON"
echo "ok: 8 alerts x $(wins ok) windows: $want delivered once per key, retries on 500/reset/timeout, 404 given up, cooldown kept"
