#!/bin/sh
# e2e: halog listen stores N numbered messages sent over UDP (IPv4 and IPv6), TCP with LF
# framing and TCP with octet counting, each exactly once; the DB is 0600; SIGUSR1 prints the
# status line; the counters reach the store.
set -u
. "$TOP/tests/e2e/listen-lib"

N=3000
P=$(free_port) || fail "no free port"
db=$TMP/listen.db
log=$TMP/listen.log
umask 022
# IPv6: UDP and octet-counted TCP over [::1] when it can be bound here; otherwise the UDP/IPv6
# part is skipped (said so) and octet counting goes over 127.0.0.1
if have_ipv6_loopback; then
	a6="[::1]" src6="[::1]" v6binds="--bind udp://[::1]:$P --bind tcp://[::1]:$P" parts="u4 u6 tlf toc"
else
	echo "skip the IPv6 part: cannot bind [::1] here (UDP over IPv6 not tested; octet counting over 127.0.0.1)"
	a6=127.0.0.1 src6=127.0.0.1 v6binds= parts="u4 tlf toc"
fi
# shellcheck disable=SC2086
start_listener "$log" --db "$db" --bind "udp://127.0.0.1:$P" --tcp "127.0.0.1:$P" $v6binds

"$SEND" --udp "127.0.0.1:$P" --count $N --rate 50000 --prefix u4 || fail "send udp v4"
case " $parts " in *" u6 "*) "$SEND" --udp "[::1]:$P" --count $N --rate 50000 --prefix u6 || fail "send udp v6" ;; esac
"$SEND" --tcp "127.0.0.1:$P" --count $N --prefix tlf || fail "send tcp lf"
"$SEND" --tcp-octet "$a6:$P" --count $N --prefix toc || fail "send tcp octet"
# the same two framings, mixed on one connection, are not needed: each frame is detected alone

total=$(($(echo $parts | wc -w) * N))
# SIGUSR1 prints the status line; ask until everything sent is stored
wait_for 15 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$log' | tail -1 | grep -q 'stored $total,'" ||
	{ cat "$log"; fail "SIGUSR1 status line never showed stored $total"; }

stop_listener "$lpid" "$log"
[ "$(field "$log" received)" = $total ] || fail "received $(field "$log" received), want $total"
[ "$(field "$log" stored)" = $total ] || fail "stored $(field "$log" stored), want $total"
[ "$(field "$log" refused)" = 0 ] || fail "refused is not 0"

last=$(printf '%07d' $((N - 1)))
for case in "u4|source LIKE 'udp:127.0.0.1:%'" "u6|source LIKE 'udp:[::1]:%'" \
	"tlf|source LIKE 'tcp:127.0.0.1:%'" "toc|source LIKE 'tcp:$src6:%'"; do
	pfx=${case%%|*} where=${case#*|}
	case " $parts " in *" $pfx "*) ;; *) continue ;; esac
	got=$(seqs "$db" "$where AND CAST(raw AS TEXT) LIKE '%/$pfx/seq=%'")
	[ "$got" = "$N|$N|0000000|$last" ] || fail "$pfx: rows|distinct|min|max = $got, want $N|$N|0000000|$last"
done
# parsed, not just kept: every line is an http request row
req=$(store_sql "$db" "SELECT count(*) FROM requests WHERE status = 200 AND backend IS NOT NULL")
[ "$req" = $total ] || {
	store_sql "$db" "SELECT kind, status, reason, CAST(raw AS TEXT) FROM lines LIMIT 3"
	fail "requests rows: $req, want $total"
}
# one trailing LF was stripped from every message
lf=$(store_sql "$db" "SELECT count(*) FROM lines WHERE hex(raw) LIKE '%0A'")
[ "$lf" = 0 ] || fail "$lf messages kept their trailing LF"

mode=$(stat -c %a "$db")
[ "$mode" = 600 ] || fail "db mode is $mode, want 600"
c=$(sqlite3 "$db" "SELECT value FROM counters WHERE name = 'listen.stored'")
[ "$c" = $total ] || fail "counter listen.stored = '$c', want $total"
c=$(sqlite3 "$db" "SELECT value FROM counters WHERE name = 'listen.received'")
[ "$c" = $total ] || fail "counter listen.received = '$c', want $total"
echo "ok: $total messages over $parts (udp4, udp6, tcp lf, tcp octet-count), each stored once"
