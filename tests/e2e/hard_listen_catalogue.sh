#!/bin/sh
# e2e (hardening): the bad-input catalogue for `halog listen`, beyond listen_malformed.sh:
# invalid UTF-8, CR and CRLF endings, several lines in one datagram (one message each), <abc>,
# a HAProxy 1.1/1.2 line with two connection counters,
# a missing PRI, raw lines that start with digits and a leading-zero count over TCP, an
# octet-count prefix over UDP, escape sequences, binary garbage and broken frames over TCP, and
# a flood of numbered messages from 200 source ports. Each: the listener survives, every message
# is stored (raw, parsed or not), counted, and the report's totals agree with the store.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v python3 >/dev/null 2>&1 || command -v jq >/dev/null 2>&1 || skip "python3 or jq missing"

P=$(free_port) || fail "no free port"
db=$TMP/cat.db
log=$TMP/listen.log
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --bind "tcp://127.0.0.1:$P" --echo

python3 - "$P" >"$TMP/sent.txt" <<'PY' || fail "python sender failed"
import socket, sys, time
port = int(sys.argv[1])
HL = ('<134>Nov 25 04:20:31 haproxy[8311]: 127.0.0.1:%d [25/Nov/2026:04:20:31.000] fe_http '
      'be_app/s1 0/0/1/0/1 200 100 - - ---- 1/1/0/0/0 0/0 "GET /hc=%s HTTP/1.1"')
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cat = [
    b"<134>bad utf8 \xff\xfe\xc3\x28\xed\xa0\x80 hc=U01",      # invalid UTF-8, a surrogate
    b"<134>cr end hc=U02\r",                                   # CR only
    b"<134>crlf end hc=U03\r\n",                               # CRLF
    b"<134>multi a hc=U04\n<134>multi b hc=U05\n<134>multi c hc=U06",  # three lines, one datagram
    b"<abc>no numeric pri hc=U07",
    b"Nov 25 04:20:31 haproxy[1]: no pri hc=U08",
    b"28 <134>octet over udp hc=U09",                          # an octet-count prefix over UDP
    b"<134>esc \x1b[31mred\x1b]0;title\x07\x1b[0m hc=U10",     # terminal escape sequences
    b"<1340>pri too big hc=U11",
    b"<>empty pri hc=U12",
    b"<134" + b"9" * 40 + b"> long pri hc=U13",
    (HL % (40000, "U14")).encode(),                            # a good HTTP line
    (HL % (40001, "U15")).encode() + b"\r\n",                  # a good HTTP line with CRLF
    b"<134>lines a hc=U16\r\n\n<134>lines b hc=U17\r\n",       # CRLF lines and an empty one
    (HL % (40002, "U18")).encode() + b"\n" + (HL % (40003, "U19")).encode(),  # two HTTP lines
    b'<134>Nov 24 06:23:58 haproxy[1]: 10.0.0.1:1234 [09/Aug/2004:20:26:09] px srv1 1/2/3/4 502 '
    b'210 - - PH-- 2/3 "GET /hc=U20 HTTP/1.0"',                # HAProxy 1.1/1.2: two counters
]
for d in cat:
    u.sendto(d, ("127.0.0.1", port))
    time.sleep(0.005)
# the flood: 200 source ports, 5 numbered HTTP lines each
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(200)]
n = 0
for r in range(5):
    for i, s in enumerate(socks):
        s.sendto((HL % (20000 + i, "F%05d" % n)).encode(), ("127.0.0.1", port))
        n += 1
    time.sleep(0.02)
for s in socks:
    s.close()
# TCP: garbage and broken frames, each on its own connection
tcp = [
    bytes(range(256)) * 4 + b"\n",                             # binary, then LF
    b"<134>nul \x00 inside tcp hc=T01\n",
    b"<134>crlf tcp hc=T02\r\n<134>next hc=T03\r\n",
    b"99999999999 <134>absurd octet count hc=T04",             # count beyond any frame
    b"0 <134>zero count hc=T05\n",
    b"12x <134>bad count hc=T06\n",
    b"40 <134>cut by close hc=T07",                            # announced 40, sends fewer
    b"<134>no LF, closed hc=T08",
    b"200 1234 GET /raw hc=T09\n35 12 GET /raw hc=T10\n",     # format raw: digits first (LF)
    b"05 <134>leading zero hc=T11\n",                          # a leading zero is no count
    b"19 <134>counted hc=T1219 <134>counted hc=T13",           # octet counting, two frames
]
for d in tcp:
    t = socket.create_connection(("127.0.0.1", port))
    t.sendall(d)
    t.close()
    time.sleep(0.05)
print(len(cat), n, len(tcp))
PY
read ncat nflood ntcp <"$TMP/sent.txt"
lib_alive "$lpid" || { cat "$log"; fail "the listener died"; }

# a good line on a fresh TCP connection still goes through after all that
"$SEND" --tcp "127.0.0.1:$P" --count 1 --prefix after >/dev/null 2>&1 || fail "tcp send after the catalogue"
wait_for 15 sh -c "test \"\$('$HALOG' search --db '$db' --count '\"hc=F\"')\" = $nflood" ||
	fail "flood: $(store_sql "$db" "SELECT count(*) FROM lines WHERE instr(CAST(raw AS TEXT), 'hc=F') > 0") of $nflood stored"
stop_listener "$lpid" "$log"

"$HALOG" export --db "$db" -o "$TMP/x.db" || fail "export"
q() { sqlite3 "$TMP/x.db" "$1"; }
has() { [ "$(q "SELECT count(*) FROM lines WHERE instr(CAST(raw AS TEXT), '$1') > 0")" -ge 1 ] || fail "$1 not stored"; }
for t in U01 U02 U03 U04 U05 U06 U07 U08 U09 U10 U11 U12 U13 U14 U15 U16 U17 U18 U19 U20 \
	T01 T02 T03 T04 T05 T06 T07 T08 T09 T10 T11 T12 T13; do has "hc=$t"; done
# several lines in one datagram: one message per line, each whole (an empty line is none; a CR
# before the LF stays, as over TCP)
one() { [ "$(q "SELECT count(*) FROM lines WHERE CAST(raw AS TEXT) = '$1'")" = 1 ] || fail "not stored alone: $1"; }
one "<134>multi a hc=U04"
one "<134>multi b hc=U05"
one "<134>multi c hc=U06"
one "$(printf '<134>lines a hc=U16\r')"
one "$(printf '<134>lines b hc=U17\r')"
[ "$(q "SELECT count(*) FROM requests r JOIN lines l ON l.id = r.line_id WHERE instr(CAST(l.raw AS TEXT), 'hc=U18') + instr(CAST(l.raw AS TEXT), 'hc=U19') > 0")" = 2 ] ||
	fail "the two HTTP lines of one datagram are not two parsed requests"
# HAProxy 1.1/1.2 (two connection counters, issue 11 §5): parsed, its request line kept
[ "$(q "SELECT r.method || ' ' || r.path || ' ' || r.status FROM requests r WHERE r.path = '/hc=U20'")" = "GET /hc=U20 502" ] ||
	fail "the HAProxy 1.1/1.2 line lost its request line"
# TCP: raw lines that start with digits stay whole on an LF connection; a leading zero is text
one "200 1234 GET /raw hc=T09"
one "35 12 GET /raw hc=T10"
one "05 <134>leading zero hc=T11"
one "<134>counted hc=T12"
one "<134>counted hc=T13"
# every flood message exactly once: 1000 distinct numbers
[ "$(q "SELECT count(DISTINCT substr(CAST(raw AS TEXT), instr(CAST(raw AS TEXT), 'hc=F'), 9)) FROM lines WHERE instr(CAST(raw AS TEXT), 'hc=F') > 0")" = "$nflood" ] ||
	fail "flood: duplicates or missing numbers"
[ "$(q "SELECT count(DISTINCT source) FROM lines WHERE instr(CAST(raw AS TEXT), 'hc=F') > 0")" -ge 200 ] ||
	echo "note: fewer than 200 distinct sources recorded"
# the good HTTP lines are parsed, the garbage is not, and every unparsed line has a reason
[ "$(q "SELECT count(*) FROM requests r JOIN lines l ON l.id = r.line_id WHERE instr(CAST(l.raw AS TEXT), 'hc=U14') + instr(CAST(l.raw AS TEXT), 'hc=U15') > 0")" = 2 ] ||
	fail "the good HTTP lines of the catalogue are not parsed"
[ "$(q "SELECT count(*) FROM lines WHERE status = 2 AND reason IS NULL")" = 0 ] || fail "an unparsed line without a reason"
# escape sequences reach the terminal only escaped (--echo)
grep -q "$(printf '\033')" "$log" && fail "--echo wrote a raw ESC byte to the terminal"
grep -q 'hc=U10' "$log" || fail "--echo did not print the escape-sequence line"
# counted: the listener's totals, the store and the report agree
rows=$(q "SELECT count(*) FROM lines")
[ "$(field "$log" received)" = "$rows" ] || fail "received $(field "$log" received), $rows rows"
[ "$(field "$log" stored)" = "$rows" ] || fail "stored $(field "$log" stored), $rows rows"
"$HALOG" report --db "$db" --format json >"$TMP/report.json" || fail "report failed"
python3 - "$TMP/report.json" "$rows" "$(q 'SELECT count(*) FROM requests')" <<'PY' || fail "report totals differ from the store"
import json, sys
r = json.load(open(sys.argv[1]))
rows, reqs = int(sys.argv[2]), int(sys.argv[3])
l = r["lines"]
assert l["total"] == rows, (l["total"], rows)
assert l["parsed"] + l["unparsed"] == rows, l
assert sum(b["requests"] for b in r["backends"]) == reqs, reqs
PY
echo "ok: $ncat UDP catalogue datagrams, $nflood flood messages from 200 ports, $ntcp TCP cases: $rows rows, all found"
