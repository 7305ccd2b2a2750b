#!/bin/sh
# e2e: a hanging webhook does not hold up storing. 400,000 lines are sent at 50,000 lines/s
# across a 10 s window boundary; three alerts fire at that boundary into a receiver that
# accepts the requests and never answers (30 s timeout), so deliveries hang while the sender
# goes on. Every line sent is stored (received == stored == 400000, 0 dropped by the kernel),
# lines kept arriving and being stored after the hang began, and the alerts still fired and
# were attempted.
set -u
. "$TOP/tests/e2e/alert-lib"
N=400000 RATE=50000

P=$(free_port) || fail "no free port"
W=$(free_port) || fail "no free port"
DB=$TMP/h.db
start_receiver "$W" "$TMP/recv.log"
"$HALOG" ingest --db "$DB" /dev/null 2>/dev/null || fail "cannot create the store"
for a in all errors slow; do
	case $a in
	all) q='' w='count >= 1' ;;
	errors) q='status:2xx' w='rate > 1/s' ;;
	slow) q='-status:5xx' w='p95(ta) >= 0' ;;
	esac
	"$HALOG" alert add "$a" --db "$DB" --query "$q" --when "$w" --every 10s \
		--webhook "http://127.0.0.1:$W/never" --timeout 30s || fail "alert add $a"
done
start_listener "$TMP/l.log" --db "$DB" --bind "udp://127.0.0.1:$P"
# the alerts' first window starts at B at the latest; the boundary B+10 falls 3 s into the 8 s
# of sending
sleep 1
wait_boundary 10 9
sleep 6
t0=$(date +%s%N)
"$SEND" --udp "127.0.0.1:$P" --count $N --rate $RATE --prefix hang >"$TMP/send.out" 2>&1 || fail "send"
t1=$(date +%s%N)
cat "$TMP/send.out"
# all stored; the hung deliveries are still hanging
wait_for 120 sh -c "kill -USR1 $lpid; sleep 0.3; grep '^halog listen: received' '$TMP/l.log' | tail -1 | grep -q 'stored $N,'" ||
	{ tail -3 "$TMP/l.log"; fail "not all $N lines stored"; }
hung=$(pyq "sum(1 for l in lines if l['answer']=='never')" "$TMP/recv.log")
[ "$hung" -ge 3 ] || fail "$hung hanging requests, want the 3 alerts' deliveries"
first_hang=$(pyq "min(l['t'] for l in lines if l['answer']=='never')" "$TMP/recv.log")
stop_listener "$lpid" "$TMP/l.log"
tail -2 "$TMP/l.log"
[ "$(field "$TMP/l.log" received)" = $N ] || fail "received $(field "$TMP/l.log" received), want $N"
[ "$(field "$TMP/l.log" stored)" = $N ] || fail "stored $(field "$TMP/l.log" stored), want $N"
[ "$(field "$TMP/l.log" dropped)" = 0 ] || fail "the kernel dropped $(field "$TMP/l.log" dropped) datagrams"
got=$(seqs "$DB" "CAST(raw AS TEXT) LIKE '%/hang/seq=%'")
[ "$got" = "$N|$N|0000000|0$((N - 1))" ] || fail "stored seqs: $got"
# lines were received and stored after the first delivery hung
after=$(sqlite3 "$DB" "SELECT count(*) FROM lines WHERE recv_ms > $first_hang * 1000")
[ "$after" -gt 0 ] || fail "no line was received after the webhook hung (the send ended first: make it longer)"
fired=$("$HALOG" alert log --db "$DB" -n 1000 | grep -c ' fired ')
[ "$fired" -ge 3 ] || fail "$fired alerts fired, want 3"
echo "ok: $N lines at $RATE/s in $(( (t1 - t0) / 1000000 )) ms: all stored, 0 dropped; $after stored after the first of $hung webhook requests hung"
