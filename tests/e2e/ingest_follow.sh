#!/bin/sh
# halog ingest --follow with a writer running: 1500 numbered lines appended to a file that is
# rotated by rename (the writer goes on writing into the renamed file for 20 lines, then reopens
# the path, as a syslog daemon does after its HUP) and then by copy-truncate, while the follower
# is killed with SIGKILL and started again. Every line must be stored exactly once. Then a
# rotation while no follower runs: the rest of the renamed file (h.log.1) is read first.
# The copy-truncate is done once the follower has stored what was written before it (what a
# writer adds between the last look and the copy is in the copy only: the documented limit), and
# the writer adds a few short lines after it and waits for them, so that the truncation is seen
# (a file shorter than the position) whatever the machine's speed. The writer goes on past its
# first line only once the follower has stored it: a follower slow to start (ASan, a loaded machine)
# would otherwise first open the path after the rename, and the store, which had never seen the
# empty file's lines, has nothing that leads it to h.log.1 (lines 1 to 420 were missed at load 2.4).
. "$TOP/tests/lib.sh"

mkdir -p "$TMP"
cd "$TMP" || fail "cannot enter $TMP"
N=1500
db=$TMP/f.db

count() { "$HALOG" search --db "$db" --count '' 2>/dev/null || echo 0; }
# wait_count N: until N lines are stored (at most 60 s)
wait_count() {
	_t=600
	while [ "$(count)" -lt "$1" ] && [ $_t -gt 0 ]; do sleep 0.1; _t=$((_t - 1)); done
	[ "$(count)" -ge "$1" ]
}

writer() {
	exec 3>>h.log
	i=1
	while [ $i -le $N ]; do
		echo "<134>Dec  3 10:00:00 lb1 haproxy[7]: follow line $i" >&3
		case $i in
		1) wait_count 1 || exit 1 ;;         # the follower has opened the file (it knew none)
		400) mv h.log h.log.1 ;;             # rotated by rename: still writing to the old file
		420) exec 3>>h.log ;;                # the daemon reopens the path
		900) wait_count 900 || exit 1        # copy-truncate once the follower has it all
			cp h.log h.log.2 && : >h.log ;;
		905) wait_count 905 || exit 1 ;;     # the truncation was seen
		esac
		[ $((i % 50)) = 0 ] && sleep 0.02
		i=$((i + 1))
	done
	echo "writer done"
}

: >h.log
"$HALOG" ingest --db "$db" h.log >/dev/null 2>&1 || fail "cannot create the store"
lib_start "$TMP/follow1.log" "$HALOG" ingest --db "$db" -f h.log
f1=$LIB_LAST_PID
lib_start "$TMP/writer.log" writer
w=$LIB_LAST_PID
wait_count 1100 || { cat "$TMP/follow1.log" "$TMP/writer.log"; fail "the follower stored $(count) of 1100 lines"; }
lib_stop "$f1" KILL
lib_start "$TMP/follow2.log" "$HALOG" ingest --db "$db" -f h.log
f2=$LIB_LAST_PID
wait_count $N || { cat "$TMP/follow2.log" "$TMP/writer.log"; fail "stored $(count) of $N lines"; }
sleep 0.5 # a line stored twice would show now
lib_stop "$f2"
lib_stop "$w"
grep -q "writer done" "$TMP/writer.log" || { cat "$TMP/writer.log"; fail "the writer did not finish"; }
"$HALOG" search --db "$db" --raw -n 0 '' | sed 's/.*follow line //' >got.txt
seq 1 $N >want.txt
sort -n got.txt | cmp -s - want.txt || {
	sort -n got.txt | uniq -d | head
	sort -n got.txt | diff - want.txt | head
	fail "stored $(wc -l <got.txt) lines, not each of 1..$N once"
}
grep -q "halog ingest: .* lines" "$TMP/follow2.log" || { cat "$TMP/follow2.log"; fail "no summary after SIGTERM"; }
# a restart on the same file reads nothing again
"$HALOG" ingest --db "$db" -f h.log --timeout 300ms 2>follow3.log || fail "third run"
grep -q "halog ingest: 0 lines" follow3.log || { cat follow3.log; fail "a restart read lines again"; }
# rotated while no follower ran: the rest of the old file (now h.log.1) first, then the new one
echo "<134>Dec  3 10:00:01 lb1 haproxy[7]: late line 1" >>h.log
mv h.log h.log.1
echo "<134>Dec  3 10:00:01 lb1 haproxy[7]: late line 2" >h.log
"$HALOG" ingest --db "$db" -f h.log --timeout 500ms 2>follow4.log || fail "fourth run"
"$HALOG" search --db "$db" --raw -n 0 late | sed 's/.*late //' >late.txt
printf 'line 1\nline 2\n' | cmp -s - late.txt || { cat late.txt follow4.log; fail "the lines around a rotation while away"; }
[ "$(count)" = $((N + 2)) ] || fail "$(count) lines after the rotation while away, not $((N + 2))"
echo "ingest --follow: $N lines through a rename, a copy-truncate and a SIGKILL, each once"
