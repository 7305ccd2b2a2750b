#!/bin/sh
# e2e: halog listen forwards to a real Debian rsyslog over tcp:// (RFC 6587 octet counting) and
# tls:// (RFC 5425, rsyslog's gtls driver, a CA made here with openssl, the client
# authenticated by its certificate), both at once. 3000 numbered messages arrive over UDP at
# about 1000/s; both rsyslogs are stopped for a second and restarted mid-stream: every number
# reaches both output files (a message may arrive twice, none is missing). A CA that did not
# sign rsyslog's certificate fails with a clear error and nothing of that listener reaches
# rsyslog; a queue that overflows while the receiver is down counts what it dropped.
set -u
. "$TOP/tests/e2e/listen-lib"
command -v rsyslogd >/dev/null 2>&1 || skip "rsyslogd missing (apt-get install rsyslog rsyslog-gnutls)"
[ -f /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 ||
	skip "rsyslog-gnutls missing"
command -v openssl >/dev/null 2>&1 || skip "openssl missing"
N=3000

# ---- a test CA, rsyslog's certificate (localhost), a client certificate, another CA ----
pki=$TMP/pki
mkdir -p "$pki"
ossl() { openssl "$@" >>"$pki/openssl.log" 2>&1 || { cat "$pki/openssl.log"; fail "openssl $1"; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=halog test CA"
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/other.key" -out "$pki/other.pem" -days 2 -subj "/CN=another CA"
for who in server client; do
	ossl req -newkey rsa:2048 -nodes -keyout "$pki/$who.key" -out "$pki/$who.csr" -subj "/CN=localhost"
	printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=%s\n' \
		"$([ $who = server ] && echo serverAuth || echo clientAuth)" >"$pki/$who.ext"
	ossl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
		-out "$pki/$who.pem" -days 2 -extfile "$pki/$who.ext"
done

# ---- two rsyslogs: plain TCP, and TLS requiring a client certificate of the CA ----
PT=$(free_port) || fail "no free port"
PS=$(free_port) || fail "no free port"
P=$(free_port) || fail "no free port"
rs_conf() { # NAME PORT TLS
	mkdir -p "$TMP/$1"
	{
		if [ "$3" = 1 ]; then
			echo "global(workDirectory=\"$TMP/$1\" defaultNetstreamDriverCAFile=\"$pki/ca.pem\"" \
				"defaultNetstreamDriverCertFile=\"$pki/server.pem\" defaultNetstreamDriverKeyFile=\"$pki/server.key\")"
			echo 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="x509/certvalid")'
		else
			echo "global(workDirectory=\"$TMP/$1\")"
			echo 'module(load="imtcp")'
		fi
		echo 'template(name="raw" type="string" string="%rawmsg%\n")'
		echo "input(type=\"imtcp\" port=\"$2\" address=\"127.0.0.1\")"
		echo "action(type=\"omfile\" file=\"$TMP/$1/out.log\" template=\"raw\")"
	} >"$TMP/$1/rsyslog.conf"
	rsyslogd -N1 -f "$TMP/$1/rsyslog.conf" >"$TMP/$1/check.log" 2>&1 || { cat "$TMP/$1/check.log"; fail "rsyslog rejects its config"; }
}
rs_start() { # NAME PORT
	lib_start "$TMP/$1/rsyslogd.log" rsyslogd -n -f "$TMP/$1/rsyslog.conf" -i "$TMP/$1/rsyslogd.pid"
	eval "pid_$1=\$LIB_LAST_PID"
	wait_for 10 sh -c "ss -Htln | grep -q '127.0.0.1:$2 '" || { cat "$TMP/$1/rsyslogd.log"; fail "rsyslog $1 did not listen"; }
}
rs_conf plain "$PT" 0
rs_conf tls "$PS" 1
rs_start plain "$PT"
rs_start tls "$PS"

TLSURL="tls://127.0.0.1:$PS?ca=$pki/ca.pem&cert=$pki/client.pem&key=$pki/client.key&name=localhost"
start_listener "$TMP/l.log" --db "$TMP/f.db" --bind "udp://127.0.0.1:$P" \
	--forward "tcp://127.0.0.1:$PT" --forward "$TLSURL"
"$SEND" --udp "127.0.0.1:$P" --count $N --rate 1000 --prefix fwd >"$TMP/send.out" 2>&1 &
spid=$!
sleep 1
# restart both receivers mid-stream
lib_stop "$pid_plain"
lib_stop "$pid_tls"
sleep 1
rs_start plain "$PT"
rs_start tls "$PS"
wait "$spid" || fail "send"
seqs_in() { grep -o '/fwd/seq=[0-9]*' "$1" 2>/dev/null | sort -u | wc -l; }
wait_for 60 sh -c "[ \$(grep -o '/fwd/seq=[0-9]*' '$TMP/plain/out.log' | sort -u | wc -l) = $N ] &&
	[ \$(grep -o '/fwd/seq=[0-9]*' '$TMP/tls/out.log' | sort -u | wc -l) = $N ]" ||
	{ tail -5 "$TMP/l.log"; fail "tcp: $(seqs_in "$TMP/plain/out.log"), tls: $(seqs_in "$TMP/tls/out.log") of $N"; }
stop_listener "$lpid" "$TMP/l.log"
cat "$TMP/l.log"
[ "$(field "$TMP/l.log" stored)" = $N ] || fail "stored $(field "$TMP/l.log" stored)"
grep -q "forward tcp://127.0.0.1:$PT: $N queued, [0-9]* sent, 0 dropped" "$TMP/l.log" || fail "tcp stats"
grep -q "forward tls://127.0.0.1:$PS: $N queued, [0-9]* sent, 0 dropped" "$TMP/l.log" || fail "tls stats"
grep -q "forward tcp://127.0.0.1:$PT: connected again" "$TMP/l.log" || fail "no reconnection said"
# the bytes arrive as sent: the first message, as rsyslog stored it
head -1 "$TMP/tls/out.log" | grep -q '^<134>.* "GET /fwd/seq=0000000 HTTP/1.1"$' || fail "tls: $(head -1 "$TMP/tls/out.log")"
dup_t=$(( $(grep -c '/fwd/seq=' "$TMP/plain/out.log") - N ))
dup_s=$(( $(grep -c '/fwd/seq=' "$TMP/tls/out.log") - N ))

# ---- a wrong CA: a clear error, and nothing of it reaches rsyslog ----
start_listener "$TMP/w.log" --db "$TMP/w.db" --bind "udp://127.0.0.1:$P" \
	--forward "tls://127.0.0.1:$PS?ca=$pki/other.pem&cert=$pki/client.pem&key=$pki/client.key&name=localhost"
"$SEND" --udp "127.0.0.1:$P" --count 20 --prefix wrongca >/dev/null 2>&1 || fail "send"
wait_for 10 grep -q 'certificate' "$TMP/w.log" || { cat "$TMP/w.log"; fail "no certificate error"; }
stop_listener "$lpid" "$TMP/w.log"
cat "$TMP/w.log"
grep -q "halog listen: forward tls://127.0.0.1:$PS: cannot connect: SSL certificate problem: unable to get local issuer certificate" "$TMP/w.log" ||
	fail "the wrong CA's error is not clear"
grep -q "20 messages were never sent" "$TMP/w.log" || fail "the unsent messages are not reported"
[ "$(grep -c wrongca "$TMP/tls/out.log")" = 0 ] || fail "messages went through a connection with a wrong CA"
[ "$(field "$TMP/w.log" stored)" = 20 ] || fail "the local store missed messages"

# ---- a queue of 100 while the receiver is down: 400 dropped, counted and reported ----
lib_stop "$pid_plain"
start_listener "$TMP/q.log" --db "$TMP/q.db" --bind "udp://127.0.0.1:$P" \
	--forward "tcp://127.0.0.1:$PT?queue=100"
"$SEND" --udp "127.0.0.1:$P" --count 500 --rate 5000 --prefix over >/dev/null 2>&1 || fail "send"
wait_for 10 sh -c "kill -USR1 $lpid; sleep 0.2; grep '^halog listen: received' '$TMP/q.log' | tail -1 | grep -q 'stored 500,'" ||
	fail "not stored"
stop_listener "$lpid" "$TMP/q.log"
grep -q "forward tcp://127.0.0.1:$PT: 100 queued, 0 sent, 400 dropped (queue full)" "$TMP/q.log" ||
	{ cat "$TMP/q.log"; fail "overflow not reported"; }
[ "$(sqlite3 "$TMP/q.db" "SELECT value FROM counters WHERE name = 'listen.forward_failed'")" = 400 ] ||
	fail "listen.forward_failed is not 400"
[ "$(field "$TMP/q.log" stored)" = 500 ] || fail "the local store missed messages"
lib_stop "$pid_tls"
echo "ok: $N messages over tcp:// and tls:// through rsyslog restarts, all arrived (duplicates: tcp $dup_t, tls $dup_s); wrong CA refused clearly; overflow counted"
