#!/bin/sh
# e2e: the disk fills up while messages arrive: the listener says "disk full: N messages
# waiting, retrying", keeps every batch in memory, and stores all of them once space is back.
# Needs root (a small tmpfs); skipped otherwise.
set -u
. "$TOP/tests/e2e/listen-lib"
[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
small=$TMP/small
mkdir -p "$small"
mount -t tmpfs -o size=32M tmpfs "$small" 2>/dev/null || skip "cannot mount a tmpfs here"
# replaces lib.sh's trap: also remove its port list (never /dev/null, its fallback)
trap 'lib_stop_all; umount "$small" 2>/dev/null; [ "$LIB_PORTS_FILE" = /dev/null ] || rm -f "$LIB_PORTS_FILE"' EXIT INT TERM

P=$(free_port) || fail "no free port"
db=$small/listen.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --batch 500 --batch-ms 50

"$SEND" --udp "127.0.0.1:$P" --count 2000 --rate 20000 --prefix before >/dev/null || fail "send"
wait_for 10 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$log' | tail -1 | grep -q 'stored 2000,'" ||
	fail "first 2000 not stored"
# fill the disk
dd if=/dev/zero of="$small/fill" bs=64k >/dev/null 2>&1
df -k "$small" | tail -1
"$SEND" --udp "127.0.0.1:$P" --count 8000 --rate 20000 --prefix during >/dev/null || fail "send"
wait_for 20 grep -q "disk full: [0-9]* messages waiting, retrying" "$log" ||
	{ cat "$log"; fail "no 'disk full' message"; }
kill -USR1 "$lpid"
sleep 0.5
# space comes back: everything waiting gets stored
rm -f "$small/fill"
wait_for 30 sh -c "kill -USR1 $lpid; sleep 0.3; grep '^halog listen: received' '$log' | tail -1 | grep -q 'stored 10000,'" ||
	{ grep -v "^halog listen: received" "$log" | tail -20; fail "the waiting messages were not stored after the disk freed up"; }
stop_listener "$lpid" "$log"
grep "disk full\|storing again" "$log" | head -3
[ "$(field "$log" received)" = 10000 ] || fail "received $(field "$log" received)"
got=$(seqs "$db" "CAST(raw AS TEXT) LIKE '%/during/seq=%'")
[ "$got" = "8000|8000|0000000|0007999" ] || fail "during: $got"
got=$(seqs "$db" "CAST(raw AS TEXT) LIKE '%/before/seq=%'")
[ "$got" = "2000|2000|0000000|0001999" ] || fail "before: $got"
echo "ok: 8000 messages waited out a full disk and were stored"
