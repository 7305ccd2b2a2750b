#!/bin/sh
# e2e: a hanging webhook does not hold up storing. Three alerts fire into a receiver that
# accepts the requests and never answers (30 s timeout, retries hang too); then, while those
# deliveries hang, 400,000 lines are sent at 50,000 lines/s. Every line is stored (received ==
# stored, 0 dropped by the kernel), every one of them was received after the first delivery
# hung, and the receiver answered nothing meanwhile.
set -u
. "$TOP/tests/e2e/alert-lib"
[ -z "${MEMCHECK:-}" ] || skip "a load test: valgrind cannot store 50,000 lines/s"
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
# a first window with a few lines makes the three alerts fire; their deliveries hang
"$SEND" --udp "127.0.0.1:$P" --count 20 --prefix first >/dev/null || fail "send"
wait_for 40 sh -c "[ \$(grep -c '\"answer\": \"never\"' '$TMP/recv.log' 2>/dev/null) -ge 3 ]" ||
	{ "$HALOG" alert log --db "$DB"; fail "the alerts did not fire into the hanging webhook"; }
first_hang=$(pyq "min(l['t'] for l in lines if l['answer']=='never')" "$TMP/recv.log")
# now the load, all of it while the webhook hangs (30 s timeout, then retries that hang too)
t0=$(date +%s%N)
"$SEND" --udp "127.0.0.1:$P" --count $N --rate $RATE --prefix hang >"$TMP/send.out" 2>&1 || fail "send"
t1=$(date +%s%N)
cat "$TMP/send.out"
wait_for 120 sh -c "kill -USR1 $lpid; sleep 0.3; grep '^halog listen: received' '$TMP/l.log' | tail -1 | grep -q 'stored $((N + 20)),'" ||
	{ tail -3 "$TMP/l.log"; fail "not all $((N + 20)) lines stored"; }
# no delivery was answered while the load ran: the webhook hung throughout
[ "$(pyq "sum(1 for l in lines if l['answer']!='never')" "$TMP/recv.log")" = 0 ] || fail "the receiver answered"
stop_listener "$lpid" "$TMP/l.log"
tail -2 "$TMP/l.log"
[ "$(field "$TMP/l.log" received)" = $((N + 20)) ] || fail "received $(field "$TMP/l.log" received)"
[ "$(field "$TMP/l.log" stored)" = $((N + 20)) ] || fail "stored $(field "$TMP/l.log" stored)"
[ "$(field "$TMP/l.log" dropped)" = 0 ] || fail "the kernel dropped $(field "$TMP/l.log" dropped) datagrams"
got=$(seqs "$DB" "CAST(raw AS TEXT) LIKE '%/hang/seq=%'")
[ "$got" = "$N|$N|0000000|0$((N - 1))" ] || fail "stored seqs: $got"
# every line of the load was received after the first delivery hung
before=$(store_sql "$DB" "SELECT count(*) FROM lines WHERE CAST(raw AS TEXT) LIKE '%/hang/seq=%' AND recv_ms <= $first_hang * 1000")
[ "$before" = 0 ] || fail "$before lines of the load came before the webhook hung"
hung=$(pyq "sum(1 for l in lines if l['answer']=='never')" "$TMP/recv.log")
echo "ok: $N lines sent in $(( (t1 - t0) / 1000000 )) ms (rate asked $RATE/s) while $hung webhook requests hung: all stored, 0 dropped"
