#!/bin/sh
# e2e: `halog listen --max-size 16M` prunes in the background while datagrams keep coming, and
# loses none of them (issue 13, Retention; docs/reliability.md). The store is first filled past
# its limit by `halog ingest` (300,000 lines, about 21 MB of blocks), so every commit of the
# listener is beyond it; then 100,000 datagrams at 20,000 a second (a rate an ASan build keeps
# up with), loggen's lines (about 7 MB of blocks: several prune steps; syslogsend's own numbered
# template compresses to 17 bytes a line and would not reach the limit). Checked: the listener stored all it received; the store's line count (kept in the
# per-minute aggregates, which outlive the raw lines) is the ingested lines plus what was sent
# less the kernel's drops; prune steps ran during the send (prune.steps grew between its two
# halves) and removed blocks; the oldest kept line moved on; the file stays within one batch of
# the limit.
set -u
. "$TOP/tests/e2e/listen-lib"
L=$O/helpers/loggen
[ -x "$L" ] || skip "no $L"

db=$TMP/prune.db
PRE=300000 HALF=50000
"$L" --lines "$PRE" --seed 3 --format mixed --rate 50 >"$TMP/pre.log" || fail "loggen"
"$L" --lines $((2 * HALF)) --seed 4 --format mixed --framing rfc3164 >"$TMP/send.log" || fail "loggen"
head -n 100 "$TMP/pre.log" >"$TMP/first.log"
"$HALOG" ingest --db "$db" "$TMP/first.log" 2>/dev/null || fail "ingest the first lines"
"$HALOG" prune --db "$db" --max-size 16M 2>/dev/null || fail "prune --max-size 16M"
tail -n +101 "$TMP/pre.log" >"$TMP/rest.log"
"$HALOG" ingest --db "$db" --batch 20000 "$TMP/rest.log" 2>"$TMP/ingest.err" ||
	{ cat "$TMP/ingest.err"; fail "ingest"; }

# counter NAME: a counter of the store (0 when absent)
counter() { sqlite3 "$db" "SELECT coalesce((SELECT value FROM counters WHERE name = '$1'), 0)"; }
# total: the lines the store accounts for, pruned or not (halog report's lines.total)
total() {
	"$HALOG" report --db "$db" --format json >"$TMP/rep.json" || fail "report"
	sed -n 's/.*"lines":{"total":\([0-9]*\),.*/\1/p' "$TMP/rep.json"
}
# first_id: the id of the oldest line kept
first_id() {
	"$HALOG" search --db "$db" --json -n 0 '' >"$TMP/all.json" 2>/dev/null || fail "search"
	sed -n '1s/^{"id":\([0-9]*\),.*/\1/p' "$TMP/all.json"
}

[ "$(total)" = "$PRE" ] || fail "after ingest the store accounts for $(total) lines, want $PRE"
steps0=$(counter prune.steps) blocks0=$(counter prune.blocks) id0=$(first_id)
echo "before: $steps0 prune steps, $blocks0 blocks removed, oldest line $id0, $(stat -c %s "$db") bytes"
[ "$steps0" -gt 0 ] || fail "the ingest past --max-size did not prune"

P=$(free_port) || fail "no free port"
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --max-size 16M
grep -q 'keeping lines no age limit (default), store 16 MiB' "$log" || fail "listen: $(cat "$log")"
"$SEND" --udp "127.0.0.1:$P" --file "$TMP/send.log" --count "$HALF" --rate 20000 >"$TMP/send1.log" 2>&1 || fail "send"
# a prune step after the first half's commits, before the second half is sent
wait_for 30 sh -c "[ \"\$(sqlite3 '$db' \"SELECT coalesce((SELECT value FROM counters WHERE name = 'prune.steps'), 0)\")\" -gt $steps0 ]" ||
	fail "no prune step while the listener stored the first $HALF datagrams"
steps1=$(counter prune.steps)
"$SEND" --udp "127.0.0.1:$P" --file "$TMP/send.log" --count "$HALF" --start "$HALF" --rate 20000 \
	>"$TMP/send2.log" 2>&1 ||
	fail "send"
wait_for 30 sh -c "[ \"\$(sqlite3 '$db' \"SELECT coalesce((SELECT value FROM counters WHERE name = 'prune.steps'), 0)\")\" -gt $steps1 ]" ||
	fail "no prune step while the listener stored the second $HALF datagrams"
# shellcheck disable=SC2154 # set by start_listener
stop_listener "$lpid" "$log"
cat "$log"

sent=$(($(sed -n 's/.*sent \([0-9]*\) messages.*/\1/p' "$TMP/send1.log") + $(sed -n 's/.*sent \([0-9]*\) messages.*/\1/p' "$TMP/send2.log")))
rcv=$(field "$log" received) sto=$(field "$log" stored) drop=$(field "$log" dropped)
[ "$sent" = $((2 * HALF)) ] || fail "the sender sent $sent"
[ "$rcv" = "$sto" ] || fail "received $rcv but stored $sto"
[ "$rcv" = $((sent - drop)) ] || fail "sent $sent, the kernel dropped $drop, but received $rcv"
tot=$(total) steps=$(counter prune.steps) blocks=$(counter prune.blocks) id1=$(first_id)
size=$(stat -c %s "$db")
echo "after: sent $sent, kernel dropped $drop, stored $sto; the store accounts for $tot lines;" \
	"$((steps - steps0)) prune steps removed $((blocks - blocks0)) blocks; oldest line $id1; $size bytes"
lost=$((PRE + sent - drop - tot))
[ "$lost" = 0 ] || fail "$lost lines lost: $tot accounted, want $PRE + $sent - $drop"
[ "$((blocks - blocks0))" -gt 0 ] || fail "no block removed while listening"
[ "$id1" -gt "$id0" ] || fail "the oldest line did not move ($id0, then $id1)"
# one batch and the last 64 KiB pages beyond the limit at most (as e2e/store_retention)
[ "$size" -le $((16 * 1048576 + 2 * 1048576)) ] || fail "the store holds $size bytes, over --max-size 16M"
# the newest lines are kept: the last datagram sent is the newest line
tail -n 1 "$TMP/send.log" | sed 's/^[^]]*]: //' | cut -c 1-60 >"$TMP/lastline"
"$HALOG" search --db "$db" --json -n 1 '' >"$TMP/last.json" 2>/dev/null || fail "search -n 1"
grep -qF "$(cat "$TMP/lastline")" "$TMP/last.json" || [ "$drop" -gt 0 ] ||
	fail "the last datagram is not the newest line"
echo "ok: 0 lost while pruning"
