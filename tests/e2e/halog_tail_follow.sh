#!/bin/sh
# halog tail -f follows a store while another process writes it: `halog ingest` appends lines
# every 0.2 s, tail prints exactly the matching ones, once each and in order, the writer is
# never refused, and tail exits 0 on SIGTERM and SIGINT.
. "$TOP/tests/lib.sh"

HALOG=${HALOG:-$O/halog}
[ -x "$HALOG" ] || skip "no halog binary at $HALOG"
mkdir -p "$TMP"
db=$TMP/follow.db

# line N BACKEND STATUS: one httplog line whose path is /nN
line() {
	printf '<134>Nov 24 06:24:%02d haproxy[4242]: 127.0.0.1:%d [24/Nov/2026:06:24:%02d.000]' \
		$(($1 % 60)) $((40000 + $1)) $(($1 % 60))
	printf ' fe_http %s/s1 0/0/0/1/1 %s 100 - - ---- 1/1/0/0/0 0/0 "GET /n%d HTTP/1.1"\n' \
		"$2" "$3" "$1"
}

line 0 be_app 503 >"$TMP/seed.log"
"$HALOG" ingest --db "$db" "$TMP/seed.log" >/dev/null 2>&1 || fail "seed ingest failed"

# --- 1. follow while a writer appends ---
"$HALOG" tail --db "$db" -n 100 -f --timeout 30s --max-lines 11 \
	'backend:be_app status:5xx' >"$TMP/tail.out" 2>"$TMP/tail.err" &
tpid=$!
LIB_PIDS="$LIB_PIDS $tpid"
sleep 0.5
lib_alive "$tpid" || fail "tail -f exited early: $(cat "$TMP/tail.err")"

i=1
while [ $i -le 10 ]; do
	{
		line $i be_app $((500 + i))          # matches
		line $((i + 100)) be_app 200         # same backend, not 5xx
		line $((i + 200)) be_other 503       # 5xx, other backend
	} >"$TMP/chunk.log"
	"$HALOG" ingest --db "$db" "$TMP/chunk.log" >"$TMP/ingest.out" 2>&1 ||
		fail "ingest $i failed while tail -f was reading: $(cat "$TMP/ingest.out")"
	sleep 0.2
	i=$((i + 1))
done

# tail stops by itself after 11 lines (the seed and the 10 new matches)
n=0
while lib_alive "$tpid" && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
lib_alive "$tpid" && fail "tail -f did not stop after --max-lines 11: $(cat "$TMP/tail.out")"
wait "$tpid"
rc=$?
[ "$rc" = 0 ] || fail "tail -f exited $rc: $(cat "$TMP/tail.err")"

got=$(sed 's/.*"GET \(\/n[0-9]*\) .*/\1/' "$TMP/tail.out" | tr '\n' ' ')
want="/n0 /n1 /n2 /n3 /n4 /n5 /n6 /n7 /n8 /n9 /n10 "
[ "$got" = "$want" ] || fail "tail -f printed '$got', expected '$want'"
grep -q 'haproxy\[4242\]: <134>Nov 24' "$TMP/tail.out" || fail "unexpected line format: $(head -1 "$TMP/tail.out")"
echo "ok: tail -f printed the 11 matching lines in order while ingest appended 30"

# --- 2. new lines only with -n 0, JSON ---
"$HALOG" tail --db "$db" -n 0 -f --json --timeout 20s --max-lines 1 '/n99[0-9]/' \
	>"$TMP/tail2.out" 2>&1 &
tpid=$!
LIB_PIDS="$LIB_PIDS $tpid"
sleep 0.5
line 995 be_app 200 >"$TMP/chunk.log"
"$HALOG" ingest --db "$db" "$TMP/chunk.log" >/dev/null 2>&1 || fail "ingest failed"
n=0
while lib_alive "$tpid" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
lib_alive "$tpid" && fail "tail -f -n 0 --max-lines 1 did not stop"
wait "$tpid" || fail "tail -f -n 0 exited non-zero"
[ "$(wc -l <"$TMP/tail2.out")" -eq 1 ] || fail "expected one JSON line: $(cat "$TMP/tail2.out")"
jq -e '.backend == "be_app" and .status == 200 and (.raw | contains("/n995"))' \
	"$TMP/tail2.out" >/dev/null || fail "bad JSON line: $(cat "$TMP/tail2.out")"
echo "ok: tail -f -n 0 --json printed only the new line"

# --- 3. SIGTERM and SIGINT end tail -f cleanly ---
for sig in TERM INT; do
	"$HALOG" tail --db "$db" -f -n 1 >"$TMP/tail3.out" 2>&1 &
	tpid=$!
	LIB_PIDS="$LIB_PIDS $tpid"
	sleep 0.5
	lib_alive "$tpid" || fail "tail -f exited before SIG$sig: $(cat "$TMP/tail3.out")"
	kill -"$sig" "$tpid"
	n=0
	while lib_alive "$tpid" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	lib_alive "$tpid" && fail "tail -f still running 5 s after SIG$sig"
	wait "$tpid"
	rc=$?
	[ "$rc" = 0 ] || fail "tail -f exited $rc on SIG$sig"
	[ "$(wc -l <"$TMP/tail3.out")" -eq 1 ] || fail "tail -f -n 1 printed: $(cat "$TMP/tail3.out")"
done
echo "ok: tail -f exits 0 on SIGTERM and SIGINT"

# --- 4. follow a store that `halog listen` writes while datagrams arrive ---
SEND=$O/helpers/syslogsend
[ -x "$SEND" ] || { echo "skip part 4: helpers/syslogsend not built"; exit 0; }
P=$(free_port) || fail "no free port"
ldb=$TMP/listen.db
"$HALOG" listen --db "$ldb" --bind "udp://127.0.0.1:$P" >"$TMP/listen.log" 2>&1 &
lpid=$!
LIB_PIDS="$LIB_PIDS $lpid"
wait_for 10 grep -q "listening on" "$TMP/listen.log" || fail "listen did not start: $(cat "$TMP/listen.log")"
wait_for 10 test -f "$ldb" || fail "listen did not create $ldb"
"$HALOG" tail --db "$ldb" -f -n 0 --timeout 30s --max-lines 1000 'seq=' >"$TMP/tail4.out" 2>&1 &
tpid=$!
LIB_PIDS="$LIB_PIDS $tpid"
sleep 0.5
lib_alive "$tpid" || fail "tail -f on the listen store exited: $(cat "$TMP/tail4.out")"
"$SEND" --udp "127.0.0.1:$P" --count 1000 --rate 1000 >"$TMP/send.log" 2>&1 || fail "syslogsend failed"
n=0
while lib_alive "$tpid" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
lib_stop "$tpid"
lib_stop "$lpid"
"$HALOG" search --db "$ldb" -n 0 'seq=' >"$TMP/all4.out" 2>&1 || fail "search failed: $(cat "$TMP/all4.out")"
stored=$(wc -l <"$TMP/all4.out")
[ "$stored" -gt 900 ] || fail "only $stored of 1000 datagrams stored"
cmp -s "$TMP/tail4.out" "$TMP/all4.out" ||
	fail "tail -f output differs from the stored lines: $(diff "$TMP/tail4.out" "$TMP/all4.out" | head -5)"
echo "ok: tail -f printed all $stored lines halog listen stored, once each, in order"
