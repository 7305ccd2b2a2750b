#!/bin/sh
# e2e (hardening): safe defaults. `halog listen` without --bind listens on loopback only; the
# store and its -wal/-shm files are 0600 even under umask 000; message content never becomes a
# path, SQL or a terminal escape (search, tail, report print control bytes escaped); hagen writes
# stats passwords as "${VAR}" (taken from the environment by HAProxy), never the value.
# (--allow: listen_refused.sh; names and values breaking out of a directive: hagen-errors/010
# and the fuzz_hagen_render invariant.)
set -u
. "$TOP/tests/e2e/listen-lib"
umask 000
cd "$TMP" || fail "cd"

# 1. default bind: loopback (only when the default port 5140 is free here)
if ss -Hlntu 2>/dev/null | grep -q ':5140 '; then
	echo "note: port 5140 in use, default-bind check skipped"
else
	start_listener "$TMP/def.log" --db "$TMP/def.db"
	ss -Hlntu | grep ':5140 ' >"$TMP/ss" || true
	stop_listener "$lpid" "$TMP/def.log"
	cat "$TMP/ss"
	[ "$(grep -c '127.0.0.1:5140' "$TMP/ss")" = 2 ] || fail "default: not UDP+TCP on 127.0.0.1:5140"
	grep -v '127.0.0.1:5140' "$TMP/ss" | grep -q . && fail "default: listening beyond loopback"
fi

# 2. hostile content through a listener; files 0600 while it runs
P=$(free_port) || fail "no free port"
db=$TMP/safe.db
start_listener "$TMP/l.log" --db "$db" --bind "udp://127.0.0.1:$P"
python3 - "$P" <<'PY' || fail "sender"
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in [b"<134>haproxy[1]: x'); DROP TABLE lines; -- sqlmark",
          b"<134>haproxy[1]: ../../../../tmp/pathmark-owned \x00/etc/passwd",
          b"<134>haproxy[1]: escmark \x1b[2J\x1b]0;pwned\x07\x9b31m \x1bP+q\x1b\\ end"]:
    u.sendto(m, ("127.0.0.1", int(sys.argv[1])))
PY
wait_for 10 sh -c "test \$("$HALOG" search --db '$db' --count '') = 3" || fail "hostile messages not stored"
for f in "$db" "$db-wal" "$db-shm"; do
	[ -e "$f" ] || continue
	m=$(stat -c %a "$f")
	[ "$m" = 600 ] || fail "$f has mode $m, want 600"
done
stop_listener "$lpid" "$TMP/l.log"
[ "$(stat -c %a "$db")" = 600 ] || fail "$db mode $(stat -c %a "$db")"
[ -e /tmp/pathmark-owned ] && fail "message content became a path"
ls "$TMP" | grep -q pathmark && fail "message content became a path"
[ "$(store_sql "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'lines'")" = 1 ] || fail "the lines table is gone"
[ "$(store_sql "$db" "SELECT count(*) FROM lines WHERE instr(CAST(raw AS TEXT), 'DROP TABLE') > 0")" = 1 ] || fail "SQL text not stored verbatim"

# 3. queries are data too
"$HALOG" search --db "$db" "x'); DROP TABLE lines; --" >"$TMP/s1" 2>&1
rc=$?
[ $rc -le 2 ] || fail "search with SQL text exited $rc"
[ "$(store_count "$db")" = 3 ] || fail "a search query changed the store"

# 4. no raw escape byte reaches a terminal: search, tail, report
ESC=$(printf '\033') CSI=$(printf '\233') BEL=$(printf '\007')
"$HALOG" search --db "$db" escmark >"$TMP/s2" 2>&1 || fail "search escmark"
"$HALOG" tail --db "$db" >"$TMP/t" 2>&1 || fail "tail"
"$HALOG" report --db "$db" >"$TMP/r" 2>&1 || fail "report"
grep -q escmark "$TMP/s2" || fail "search did not find escmark"
grep -q escmark "$TMP/t" || fail "tail did not show escmark"
for f in s2 t r; do
	LC_ALL=C grep -q "[$ESC$CSI$BEL]" "$TMP/$f" && { od -c "$TMP/$f" | head; fail "$f printed a raw control byte"; }
done

# 5. ingest: store files are 0600 under umask 000 too
"$HALOG" ingest --db "$TMP/ing.db" /dev/null 2>/dev/null || fail "ingest"
[ "$(stat -c %a "$TMP/ing.db")" = 600 ] || fail "ingest created the store with mode $(stat -c %a "$TMP/ing.db")"

# 6. hagen: stats passwords only from the environment
cat >"$TMP/inv.yaml" <<'Y'
version: 1
userlists:
  admins:
    users:
      - { name: admin, password_env: STATS_PASSWORD }
stats:
  bind: "127.0.0.1:8404"
  uri: /stats
  auth: { userlist: admins }
entrypoints:
  web: { bind: ["127.0.0.1:8080"] }
services:
  web:
    entrypoints: [web]
    default: true
    servers:
      - { name: web1, address: "127.0.0.1:9001" }
Y
STATS_PASSWORD=hunter2-secret "$HAGEN" render "$TMP/inv.yaml" >"$TMP/h.cfg" 2>"$TMP/h.err" || { cat "$TMP/h.err"; fail "hagen render"; }
grep -q 'hunter2-secret' "$TMP/h.cfg" && fail "hagen wrote the password value into the config"
grep -q '"${STATS_PASSWORD}"\|${STATS_PASSWORD}' "$TMP/h.cfg" || fail "hagen did not reference \${STATS_PASSWORD}"
echo "ok: loopback default, 0600 files, content stays data, no raw escapes, password by reference"
