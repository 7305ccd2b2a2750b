# Runs halog serve against a store and prints what each request of stdin got, for the golden
# cases of this folder. usage (from a case's cmd): sh ../api.sh DB [SERVE OPTION...] < stdin
# The server listens on a free loopback port; each stdin line holds curl arguments (shell
# words, with $URL the server's root without the final slash and $CSRF its token), e.g.
#   "$URL/api/search?q=status%3A5xx&limit=2"
#   -X POST -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' --data '{}' "$URL/api/saved"
# Printed per request: "== LINE", "-> STATUS" plus the headers named in $SHOW_HEADERS, then the
# body, with the port replaced by PORT and took_ms, created_ms and updated_ms by 0 (the only things
# that vary). At the end,
# the server is stopped with SIGTERM and its exit code printed; its stderr goes to $TMP/serve.err.
set -u
. "$TOP/tests/lib.sh"
db=$1
shift
P=$(free_port) || fail "no free port"
URL=http://127.0.0.1:$P
lib_start "$TMP/serve.err" "$HALOG" serve --db "$db" --bind "127.0.0.1:$P" "$@"
spid=$LIB_LAST_PID
wait_for 15 curl -sf -o /dev/null ${SERVE_CURL_AUTH:-} "$URL/api/meta" ||
	{ cat "$TMP/serve.err" >&2; fail "halog serve did not start"; }
CSRF=$(curl -s ${SERVE_CURL_AUTH:-} "$URL/api/meta" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p')
export URL CSRF
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	printf '== %s\n' "$line"
	eval "set -- $line"
	curl -s -D "$TMP/h" -o "$TMP/b" "$@"
	printf -- '-> %s\n' "$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$TMP/h")"
	for h in ${SHOW_HEADERS:-}; do
		grep -i "^$h:" "$TMP/h" | tr -d '\r' | sed "s/:$P\\b/:PORT/g"
	done
	sed -e "s/:$P\\b/:PORT/g" -e 's/"\(took\|created\|updated\)_ms":[0-9]*/"\1_ms":0/g' "$TMP/b"
	[ -s "$TMP/b" ] && [ "$(tail -c1 "$TMP/b" | od -An -c | tr -d ' ')" != '\n' ] && echo
done
kill -TERM "$spid"
wait "$spid"
echo "serve exit $?"
LIB_PIDS=
