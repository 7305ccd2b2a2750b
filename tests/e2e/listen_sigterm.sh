#!/bin/sh
# e2e: SIGTERM while a sender runs at full speed: the listener stops taking new datagrams,
# reads what the kernel already holds, commits it and exits 0 with stored == received; the
# kernel drops are reported; every stored message is there exactly once.
set -u
. "$TOP/tests/e2e/listen-lib"

P=$(free_port) || fail "no free port"
db=$TMP/listen.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --rcvbuf 1M --batch 2000

"$SEND" --udp "127.0.0.1:$P" --count 400000 --full-speed >"$TMP/send.log" 2>&1 &
spid=$!
LIB_PIDS="$LIB_PIDS $spid"
# stop the listener while the sender is still going (it needs more than a second for 400k)
sleep 1
lib_alive "$spid" || echo "note: the sender finished before SIGTERM"
stop_listener "$lpid" "$log"
lib_stop "$spid"
cat "$log"

rcv=$(field "$log" received) sto=$(field "$log" stored) drop=$(field "$log" dropped)
[ -n "$rcv" ] && [ "$rcv" -gt 0 ] || fail "nothing received"
[ "$rcv" = "$sto" ] || fail "received $rcv but stored $sto"
rows=$(store_count "$db")
[ "$rows" = "$sto" ] || fail "$rows rows in the store, the listener said $sto"
got=$(seqs "$db" "1")
case $got in "$rows|$rows|"*) ;; *) fail "duplicates: rows|distinct|min|max = $got" ;; esac
c=$(sqlite3 "$db" "SELECT value FROM counters WHERE name = 'listen.stored'")
[ "$c" = "$sto" ] || fail "counter listen.stored = '$c', want $sto"
c=$(sqlite3 "$db" "SELECT coalesce((SELECT value FROM counters WHERE name = 'listen.kernel_dropped'), 0)")
[ "$c" = "$drop" ] || fail "counter listen.kernel_dropped = '$c', the listener said $drop"
echo "udp: received $rcv, stored $sto, kernel dropped $drop"

# the same over TCP (octet counting): what was read is stored, a frame cut by the stop is
# stored flagged, nothing twice
P2=$(free_port) || fail "no free port"
db2=$TMP/tcp.db
start_listener "$TMP/tcp.log" --db "$db2" --bind "tcp://127.0.0.1:$P2"
"$SEND" --tcp-octet "127.0.0.1:$P2" --count 2000000 --full-speed >"$TMP/send2.log" 2>&1 &
spid=$!
LIB_PIDS="$LIB_PIDS $spid"
sleep 1
lib_alive "$spid" || fail "the TCP sender finished before SIGTERM: raise its count"
stop_listener "$lpid" "$TMP/tcp.log"
lib_stop "$spid"
rcv=$(field "$TMP/tcp.log" received) sto=$(field "$TMP/tcp.log" stored)
[ "$rcv" -gt 0 ] && [ "$rcv" = "$sto" ] || fail "tcp: received $rcv, stored $sto"
rows=$(store_count "$db2")
[ "$rows" = "$sto" ] || fail "tcp: $rows rows, the listener said $sto"
whole=$(store_sql "$db2" "SELECT count(*) FROM lines WHERE flags = 0")
cut=$(store_sql "$db2" "SELECT count(*) FROM lines WHERE flags != 0")
[ "$cut" -le 1 ] || fail "tcp: $cut flagged frames, at most the last one may be cut"
got=$(seqs "$db2" "flags = 0")
[ "$got" = "$whole|$whole|0000000|$(printf '%07d' $((whole - 1)))" ] || fail "tcp: rows|distinct|min|max = $got"
echo "ok: tcp received $rcv, stored $sto ($cut cut by the stop)"
