#!/bin/sh
# e2e: malformed input is stored raw, never dropped, never a crash: UDP datagrams that are empty,
# hold NULs, binary (its LF byte separates two messages, as every LF in a datagram does),
# "<999>", the largest datagram (65507 bytes); over TCP an over-long LF frame
# (cut at 65536 and flagged), an octet-counted frame cut short by the close (flagged), and a last
# line without LF.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || skip "python3 missing"

P=$(free_port) || fail "no free port"
db=$TMP/listen.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --bind "tcp://127.0.0.1:$P"

python3 - "$P" <<'PY' || fail "python sender failed"
import socket, sys, time
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dgrams = [
    b"",                                  # 1 empty
    b"abc\x00def\x00\x00",                # 2 NUL inside; trailing NULs go
    bytes(range(256)),                    # 3 binary (ends in 0xff: nothing stripped)
    b"<999>not a priority\n",             # 4 bad PRI; one LF stripped
    b"<134>" + b"x" * (65507 - 5),        # 5 the largest IPv4 UDP payload
    b"\n",                                # 6 only the LF: an empty message
    b"<134>two LFs\n\n",                  # 7 LFs end lines: one message, no empty one
]
for d in dgrams:
    u.sendto(d, ("127.0.0.1", port))
    time.sleep(0.01)
time.sleep(0.3)
# TCP: an LF frame of 70000 bytes, then a normal line, then an unterminated last line
t = socket.create_connection(("127.0.0.1", port))
t.sendall(b"<134>" + b"y" * 69995 + b"\n<134>after the long one\n<134>no LF at the end")
t.close()
time.sleep(0.3)
# TCP octet counting: one good frame, then a frame announcing 100 bytes and closing after 10
t = socket.create_connection(("127.0.0.1", port))
t.sendall(b"15 <134>octet good100 <134>short")
t.close()
PY

wait_for 15 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$log' | tail -1 | grep -q 'stored 13,'" ||
	{ cat "$log"; fail "not all 13 messages stored"; }
stop_listener "$lpid" "$log"
kill -0 "$lpid" 2>/dev/null && fail "still running"

"$HALOG" export --db "$db" -o "$TMP/x.db" || fail "export"
q() { sqlite3 "$TMP/x.db" "$1"; }
row() { q "SELECT length(raw), hex(substr(raw, 1, 12)), kind, flags FROM lines WHERE id = $1"; }
exp() { got=$(row "$1"); [ "$got" = "$2" ] || fail "line $1: got '$got', want '$2'"; }
exp 1 "0||0|0"
exp 2 "7|61626300646566|0|0"
# binary: bytes 0x00-0x09, then (after the LF byte 0x0a) 0x0b-0xff
exp 3 "10|00010203040506070809|0|0"
exp 4 "245|0B0C0D0E0F10111213141516|0|0"
exp 5 "19|3C3939393E6E6F7420612070|0|0"
exp 6 "65507|3C3133343E78787878787878|$(q 'SELECT kind FROM lines WHERE id = 6')|0"
exp 7 "0||0|0"
exp 8 "12|3C3133343E74776F204C4673|$(q 'SELECT kind FROM lines WHERE id = 8')|0"
# TCP: cut at 65536 and flagged; the rest of that frame is skipped, the next line is intact
exp 9 "65536|3C3133343E79797979797979|$(q 'SELECT kind FROM lines WHERE id = 9')|1"
[ "$(q "SELECT CAST(raw AS TEXT) FROM lines WHERE id = 10")" = "<134>after the long one" ] || fail "line 10"
[ "$(q "SELECT CAST(raw AS TEXT) || '|' || flags FROM lines WHERE id = 11")" = "<134>no LF at the end|0" ] || fail "line 11"
[ "$(q "SELECT CAST(raw AS TEXT) || '|' || flags FROM lines WHERE id = 12")" = "<134>octet good|0" ] || fail "line 12"
[ "$(q "SELECT CAST(raw AS TEXT) || '|' || flags FROM lines WHERE id = 13")" = "<134>short|1" ] || fail "line 13 (partial octet frame)"
# the garbage is unparsed with a reason, and counted
bad=$(q "SELECT count(*) FROM lines WHERE id IN (1, 2, 3, 4, 5, 7) AND kind = 0 AND status = 2 AND reason IS NOT NULL")
[ "$bad" = 6 ] || fail "only $bad lines unparsed with a reason"
[ "$(field "$log" unparsed)" = "$(q 'SELECT count(*) FROM lines WHERE kind = 0')" ] || fail "unparsed count differs from the store"
[ "$(field "$log" received)" = 13 ] || fail "received $(field "$log" received), want 13"
q "SELECT id, length(raw), kind, status, flags, reason FROM lines"
echo "ok: 13 malformed messages stored raw"
