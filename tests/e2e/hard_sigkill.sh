#!/bin/sh
# e2e (hardening): what `halog listen` promises when it is killed with SIGKILL
# (docs/reliability.md, "SIGKILL"): it loses at most the messages it has received and not yet
# committed, and those all sit in its queue, whose capacity is fixed at start (--queue N
# messages, --queue-bytes B bytes). Datagrams still in the kernel's socket buffer were never
# received; the test keeps them out of the count by pacing the sender on the socket's
# rx_queue and killing only once that queue is empty, so nothing here depends on how fast the
# machine is (ASan, valgrind, a busy CI runner).
#   1. a steady stream of 30,000 numbered datagrams, --queue 4096: killed once the kernel has
#      handed every datagram to the listener, it has lost at most 4096; the file passes
#      integrity_check and holds a gap-free prefix of the numbers.
#   2. the writer held back by another process's write lock: the queue fills to exactly
#      --queue messages, the receiver stops there, and SIGKILL loses exactly those.
#   3. the same with --queue-bytes: the messages held never exceed it.
#   4. a restarted listener appends to the killed one's store.
# (SIGTERM under load losing nothing: listen_sigterm.sh.)
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
QUEUE=4096

# the python side: paced sender, SIGUSR1 reader, lock holder (one script, one mode per call)
cat >"$TMP/kill.py" <<'PY'
import os, re, signal, socket, sqlite3, sys, time

def rxq(port):
    """(rx_queue bytes, drops) of the UDP socket bound to 127.0.0.1:port, from /proc."""
    want = ":%04X" % port
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            w = line.split()
            if w[1].endswith(want) and w[1].startswith("0100007F"):
                return int(w[4].split(":")[1], 16), int(w[-1])
    raise SystemExit("no UDP socket on port %d" % port)

def status(log, pid):
    """(received, stored) from a fresh SIGUSR1 status line."""
    before = open(log).read().count("halog listen: received")
    os.kill(pid, signal.SIGUSR1)
    for _ in range(600):
        text = open(log).read()
        if text.count("halog listen: received") > before:
            m = re.findall(r"halog listen: received (\d+), stored (\d+)", text)[-1]
            return int(m[0]), int(m[1])
        time.sleep(0.05)
    raise SystemExit("no status line after SIGUSR1")

def msg(i, size):
    m = b"<134>Nov 25 04:20:31 haproxy[1]: kill test seq=%07d " % i
    return m + b"x" * max(0, size - len(m))

def until(what, secs, cond):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit("gave up waiting: " + what)

mode, port, pid, log, db = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rcvbuf = int(sys.argv[6])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("127.0.0.1", port)
# a burst never fills the socket buffer: at most a quarter of it in flight, and a datagram
# costs the kernel far less than 4 KiB of buffer on loopback
limit = rcvbuf // 4
burst = max(1, min(32, limit // 4096))

if mode == "stream":
    n, i = int(sys.argv[7]), 0
    while i < n:
        until("the listener to read its socket", 300, lambda: rxq(port)[0] < limit)
        for _ in range(min(burst, n - i)):
            u.sendto(msg(i, 0), dst)
            i += 1
    until("the kernel queue to empty", 300, lambda: rxq(port)[0] == 0)
    drops = rxq(port)[1]
    if drops:
        raise SystemExit("the kernel dropped %d datagrams: the pacing failed" % drops)
    os.kill(pid, signal.SIGKILL)
    print(n)
else:
    # hold the write lock: the listener's writer cannot commit until the kill
    held = sqlite3.connect(db, isolation_level=None, timeout=60)
    held.execute("BEGIN IMMEDIATE")
    rec0, sto0 = status(log, pid)
    if rec0 != sto0:
        raise SystemExit("not everything stored before the lock: %d/%d" % (sto0, rec0))
    size, n = int(sys.argv[7]), int(sys.argv[8])
    start = rec0
    for i in range(start, start + n):
        u.sendto(msg(i, size), dst)
        if i % 16 == 15:
            time.sleep(0.002)
    # wait until the receiver stops: its count no longer moves while the kernel holds more
    last, still = -1, 0
    end = time.monotonic() + 300
    while still < 3 and time.monotonic() < end:
        time.sleep(0.5)
        r, s = status(log, pid)
        still = still + 1 if r == last and rxq(port)[0] > 0 else 0
        last = r
    if still < 3:
        raise SystemExit("the receiver never stopped (received %d)" % last)
    os.kill(pid, signal.SIGKILL)
    held.execute("ROLLBACK")
    held.close()
    print(r - start, s)
PY

rcvbuf_of() { sed -n 's/.*(rcvbuf \([0-9]*\)).*/\1/p' "$1" | head -1; }

# --- 1. a steady stream, killed once every datagram has reached the listener
P=$(free_port) || fail "no free port"
db=$TMP/kill.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --queue $QUEUE --batch 2000 --batch-ms 200
python3 "$TMP/kill.py" stream "$P" "$lpid" "$log" "$db" "$(rcvbuf_of "$log")" 30000 >"$TMP/sent" ||
	fail "sender failed"
wait "$lpid" 2>/dev/null
sent=$(cat "$TMP/sent")
chk=$(sqlite3 "$db" "PRAGMA integrity_check") || fail "the database does not open after SIGKILL"
[ "$chk" = ok ] || fail "integrity_check: $chk"
rows=$(store_count "$db")
if [ "$rows" -gt 0 ]; then
	got=$(seqs "$db" "1")
	[ "$got" = "$rows|$rows|0000000|$(printf '%07d' $((rows - 1)))" ] || fail "not a gap-free prefix: rows|distinct|min|max = $got"
fi
lost=$((sent - rows))
echo "1. SIGKILL after $sent datagrams, all received: $rows stored, $lost lost (bound: --queue $QUEUE)"
[ "$lost" -le $QUEUE ] || fail "lost $lost received messages, more than the queue holds ($QUEUE)"

# --- 2. the writer held back: the queue fills to exactly --queue messages, and no further
start_listener "$TMP/l2.log" --db "$db" --bind "udp://127.0.0.1:$P" --queue $QUEUE --batch 2000
# every old row is in; messages of 100 bytes, QUEUE + 200 of them: the last 200 stay in the kernel
python3 "$TMP/kill.py" held "$P" "$lpid" "$TMP/l2.log" "$db" "$(rcvbuf_of "$TMP/l2.log")" 100 $((QUEUE + 200)) >"$TMP/held" ||
	{ tail -3 "$TMP/l2.log"; fail "held-lock run failed"; }
wait "$lpid" 2>/dev/null
read -r held stored_at_kill <"$TMP/held"
rows2=$(store_count "$db")
echo "2. writer locked out: the receiver stopped with $held messages held (--queue $QUEUE); after SIGKILL $rows2 rows (before: $rows)"
[ "$held" = $QUEUE ] || fail "held $held messages, want exactly --queue $QUEUE"
[ "$rows2" = "$rows" ] || fail "rows changed under the lock: $rows2, was $rows"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "integrity after the second kill"

# --- 3. the byte bound: 2,000-byte messages, --queue-bytes 1M
start_listener "$TMP/l3.log" --db "$db" --bind "udp://127.0.0.1:$P" --queue-bytes 1M --batch 2000
python3 "$TMP/kill.py" held "$P" "$lpid" "$TMP/l3.log" "$db" "$(rcvbuf_of "$TMP/l3.log")" 2000 800 >"$TMP/held3" ||
	{ tail -3 "$TMP/l3.log"; fail "byte-bound run failed"; }
wait "$lpid" 2>/dev/null
read -r held3 _ <"$TMP/held3"
echo "3. writer locked out, --queue-bytes 1M: $held3 messages of 2000 bytes held ($((held3 * 2000)) bytes)"
[ $((held3 * 2000)) -le 1048576 ] || fail "held $((held3 * 2000)) bytes, more than --queue-bytes 1M"
[ "$held3" -gt 0 ] || fail "nothing received"
[ "$(store_count "$db")" = "$rows" ] || fail "rows changed under the lock"

# --- 4. restart on the same file: it opens, takes new messages, and keeps the old ones
start_listener "$TMP/listen4.log" --db "$db" --bind "udp://127.0.0.1:$P"
"$SEND" --udp "127.0.0.1:$P" --count 100 --rate 5000 --prefix again >/dev/null 2>&1 || fail "send after restart"
wait_for 30 sh -c "test \$("$HALOG" search --db '$db' --count '') -ge $((rows + 100))" || fail "the restarted listener stores nothing"
stop_listener "$lpid" "$TMP/listen4.log"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "integrity after restart"
echo "ok: SIGKILL lost $lost of $sent (bound $QUEUE); held exactly $held with the writer locked out; $held3 x 2000 B under --queue-bytes 1M; restart clean"
