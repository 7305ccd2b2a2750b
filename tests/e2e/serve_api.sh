#!/bin/sh
# halog serve's live tail and limits over real HTTP on loopback: the /api/tail event stream
# (lines oldest first, positions that grow, a filter applied, a reconnection resumed from
# Last-Event-ID), the limit on open streams, a search over its time limit, a search refused
# while the only slot is busy, and a SIGTERM that ends open streams and stops the server (and its
# listener) with exit 0.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v curl >/dev/null || skip "curl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"

HP=$(free_port) || fail "no free port"
UP=$(free_port) || fail "no free port"
URL=http://127.0.0.1:$HP
db=$TMP/tail.db
lib_start "$TMP/serve.log" "$HALOG" serve --db "$db" --bind "127.0.0.1:$HP" --listen "udp://127.0.0.1:$UP" --max-streams 2
spid=$LIB_LAST_PID
wait_for 15 curl -sf -o /dev/null "$URL/api/meta" || { cat "$TMP/serve.log"; fail "halog serve did not start"; }

# the page's address is in the store, for alert payloads to link to
[ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'serve.url'")" = "$URL/" ] ||
	fail "serve.url is not recorded in the store"

# ---- two streams: every line, and a filter nothing matches -------------------------------------
lib_start "$TMP/a.out" curl -sN --max-time 60 "$URL/api/tail?q=tailtest"
apid=$LIB_LAST_PID
lib_start "$TMP/b.out" curl -sN --max-time 60 "$URL/api/tail?q=status%3A5xx"
bpid=$LIB_LAST_PID
wait_for 10 grep -q '^event: hello' "$TMP/a.out" || fail "no hello on stream a"
wait_for 10 grep -q '^event: hello' "$TMP/b.out" || fail "no hello on stream b"

# ---- a third is refused: the limit is 2 --------------------------------------------------------
code=$(curl -s -o "$TMP/c.out" -w '%{http_code}' --max-time 10 "$URL/api/tail")
[ "$code" = 503 ] || fail "a third stream got $code"
grep -q 'too many live tails open (2)' "$TMP/c.out" || fail "the refusal says: $(cat "$TMP/c.out")"

# ---- 300 lines over UDP reach stream a, in order ------------------------------------------------
"$SEND" --udp "127.0.0.1:$UP" --count 300 --prefix tailtest >/dev/null || fail "syslogsend"
wait_for 20 sh -c "[ \$(grep -o 'tailtest' '$TMP/a.out' | wc -l) -ge 600 ]" ||
	fail "stream a got $(grep -o tailtest "$TMP/a.out" | wc -l) of 600 mentions (raw and text of 300 lines)"
python3 - "$TMP/a.out" <<'PY' || fail "stream a is not what it should be"
import json, re, sys
events, ev = [], {}
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        if ev: events.append(ev)
        ev = {}
    elif not line.startswith(":"):
        k, _, v = line.partition(": ")
        ev[k] = v
hello = [e for e in events if e.get("event") == "hello"]
assert len(hello) == 1, hello
assert json.loads(hello[0]["data"])["q"] == "tailtest"
seqs, last_to, prev_id = [], -1, 0
for e in events:
    if e.get("event") != "lines":
        continue
    d = json.loads(e["data"])
    assert int(e["id"]) == d["to"] > last_to and d["from"] >= last_to, (e["id"], d, last_to)
    assert d["stored"] >= d["shown"] == len(d["lines"]), d
    assert not d["limited"] and d["dropped"] == 0 and d["unscanned"] == 0, d
    last_to = d["to"]
    for l in d["lines"]:
        assert l["id"] > prev_id, "lines oldest first"
        assert d["from"] <= l["id"] < d["to"]
        prev_id = l["id"]
        seqs.append(int(re.search(r"seq=(\d+)", l["raw"]).group(1)))
assert seqs == list(range(len(seqs))) and len(seqs) == 300, seqs[:5]
print("stream a: %d lines in %d events" % (len(seqs), len([e for e in events if e.get("event") == "lines"])))
PY
grep -q '^event: lines' "$TMP/b.out" && fail "stream b (status:5xx) got lines that do not match"
last=$(sed -n 's/^id: //p' "$TMP/a.out" | tail -1)

# ---- a reconnection goes on from Last-Event-ID --------------------------------------------------
lib_stop "$apid"
lib_stop "$bpid"
"$SEND" --udp "127.0.0.1:$UP" --count 20 --prefix resumed --start 1000 >/dev/null || fail "syslogsend"
sleep 0.5
# the server notices a closed stream when it next writes to it (a ping within 5 s)
wait_for 20 sh -c "curl -s -o /dev/null -w '%{http_code}' --max-time 2 '$URL/api/tail?q=resumed' | grep -q 200" ||
	fail "the stream slots were not freed"
lib_start "$TMP/r.out" curl -sN --max-time 60 -H "Last-Event-ID: $last" "$URL/api/tail?q=resumed"
rpid=$LIB_LAST_PID
wait_for 15 sh -c "[ \$(grep -o 'resumed' '$TMP/r.out' | wc -l) -ge 40 ]" ||
	fail "the resumed stream did not get the 20 lines sent while it was away"
grep -q "\"from\":$last," "$TMP/r.out" || fail "the resumed stream did not start at $last"

# ---- repeated searches and graphs read only what is new, and agree with the command line -------
ids() { python3 -c 'import json,sys; print(" ".join(str(l["id"]) for l in json.load(sys.stdin)["lines"]))'; }
cli_ids() { "$HALOG" search --db "$db" --json -n "$1" "$2" 2>/dev/null | python3 -c 'import json,sys; print(" ".join(reversed([str(json.loads(l)["id"]) for l in sys.stdin])))'; }
curl -sf "$URL/api/search?q=tailtest&limit=50" | ids >"$TMP/s1" || fail "search"
curl -sf "$URL/api/hits?q=tailtest&bins=10" >"$TMP/h1" || fail "hits"
"$SEND" --udp "127.0.0.1:$UP" --count 30 --prefix tailtest --start 2000 >/dev/null || fail "syslogsend"
wait_for 10 sh -c "[ \$('$HALOG' search --db '$db' --count tailtest) = 330 ]" || fail "the 30 new lines were not stored"
for lim in 50 7; do
	curl -sf "$URL/api/search?q=tailtest&limit=$lim" | ids >"$TMP/s2" || fail "search again"
	cli_ids "$lim" tailtest >"$TMP/c2"
	cmp -s "$TMP/s2" "$TMP/c2" || fail "the repeated search (limit $lim) differs from halog search: $(cat "$TMP/s2") vs $(cat "$TMP/c2")"
done
cmp -s "$TMP/s1" "$TMP/s2" && fail "the repeated search did not see the new lines"
total=$(curl -sf "$URL/api/hits?q=tailtest&bins=10" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
[ "$total" = 330 ] || fail "the repeated hit graph counts $total lines, not 330 (first: $(cat "$TMP/h1"))"

# ---- more lines in one step than a page is sent: the newest 500 of them, and the event says so --
lib_stop "$rpid"
# a slot frees once the server notices the closed stream (its next ping): retry until then
for i in $(seq 1 25); do
	lib_start "$TMP/burst.out" curl -sN --max-time 60 "$URL/api/tail"
	bpid=$LIB_LAST_PID
	wait_for 5 grep -q '^event: hello\|too many live tails' "$TMP/burst.out"
	grep -q '^event: hello' "$TMP/burst.out" && break
	lib_stop "$bpid"
	sleep 1
done
grep -q '^event: hello' "$TMP/burst.out" || fail "no hello on the burst stream"
"$O/helpers/loggen" --lines 20000 --seed 3 >"$TMP/burst.log" || fail "loggen"
"$HALOG" ingest --db "$db" "$TMP/burst.log" >/dev/null 2>&1 || fail "ingest into the served store"
wait_for 15 grep -q '"limited":true' "$TMP/burst.out" || fail "no sampled event for 20000 lines in one step"
python3 - "$TMP/burst.out" <<'PY' || fail "the sampled event is not what it should be"
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("data: ") and '"limited":true' in line:
        d = json.loads(line[6:])
        assert d["shown"] == len(d["lines"]) == 500 and d["stored"] >= 20000 - 500, d
        ids = [l["id"] for l in d["lines"]]
        assert ids == sorted(ids) and ids[-1] == d["to"] - 1, "the newest, oldest first"
        print("sampled: %d of %d new lines shown" % (d["shown"], d["stored"]))
        break
PY

# ---- SIGTERM with a stream open: everything stops, exit 0 ---------------------------------------
kill -TERM "$spid"
wait "$spid"
rc=$?
[ "$rc" = 0 ] || { cat "$TMP/serve.log"; fail "halog serve exited $rc"; }
wait_for 10 sh -c "! kill -0 $bpid 2>/dev/null" || fail "the stream stayed open after the server stopped"
grep -q '^halog listen: received 350, stored 350' "$TMP/serve.log" || { cat "$TMP/serve.log"; fail "listener counters"; }

# ---- time limit and busy slots ------------------------------------------------------------------
# lines of x's make /(x+x+)+[^xn ]/ backtrack to its match limit on each: about 2 ms a line
python3 -c "
for i in range(20000): print('<134>Nov 25 04:20:31 haproxy[1]: ' + 'x' * 40 + ' n=%d' % i)" >"$TMP/x.log"
"$HALOG" ingest --db "$TMP/x.db" "$TMP/x.log" >/dev/null 2>&1 || fail "ingest"
slow='q=%2F(x%2Bx%2B)%2B%5B%5Exn%20%5D%2F'
HP=$(free_port) || fail "no free port"
URL=http://127.0.0.1:$HP
lib_start "$TMP/serve2.log" "$HALOG" serve --db "$TMP/x.db" --bind "127.0.0.1:$HP" --query-timeout 100ms
s2=$LIB_LAST_PID
wait_for 15 curl -sf -o /dev/null "$URL/api/meta" || { cat "$TMP/serve2.log"; fail "halog serve did not start"; }
code=$(curl -s -o "$TMP/t.out" -w '%{http_code}' --max-time 60 "$URL/api/search?$slow")
[ "$code" = 503 ] && grep -q 'the read ran over its time limit (100 ms)' "$TMP/t.out" ||
	fail "a search over its time limit got $code: $(cat "$TMP/t.out")"
lib_stop "$s2"

HP=$(free_port) || fail "no free port"
URL=http://127.0.0.1:$HP
lib_start "$TMP/serve3.log" "$HALOG" serve --db "$TMP/x.db" --bind "127.0.0.1:$HP" --query-timeout 8s --max-searches 1
s3=$LIB_LAST_PID
wait_for 15 curl -sf -o /dev/null "$URL/api/query?q=x" || { cat "$TMP/serve3.log"; fail "halog serve did not start"; }
lib_start "$TMP/slow.out" curl -s --max-time 60 "$URL/api/search?$slow"
# once the slow search holds the slot (for 8 s), another one waits 2 s and is refused
busy=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	code=$(curl -s -o "$TMP/busy.out" -w '%{http_code}' --max-time 30 "$URL/api/search?q=x")
	[ "$code" = 503 ] && { busy=1; break; }
	sleep 0.2
done
[ $busy = 1 ] && grep -q 'busy: 1 searches are running' "$TMP/busy.out" ||
	fail "a search while the only slot is busy got $code: $(cat "$TMP/busy.out")"
lib_stop "$s3"
echo "ok: live tail stream, resume, limits on streams, time and slots"
