#!/bin/sh
# halog report --slowest and --min-ta/--min-tw on a generated store, against the store's own rows
# (sqlite3): the N slowest of each backend are the N largest Ta of its records, each with its
# exact stored line; a timer floor keeps exactly the records at or above it, in the backends
# section (per server), the paths and the series alike.
. "$TOP/tests/lib.sh"

lib_gen_store 5

# --- slowest: the 3 largest Ta of each backend, and their lines
"$HALOG" report --db gen.db --slowest --top 3 --format json >slow.json || fail "--slowest"
jq -r '.slowest.backends[] | .name as $b | .rows[] | "\($b) \(.ta)"' slow.json >ours.txt
sqlite3 rows.db "select backend, t_active from (select backend, t_active, row_number() over
	(partition by backend order by t_active desc) n from requests where t_active is not null)
	where n <= 3 order by backend, t_active desc" | tr '|' ' ' >theirs.txt
[ "$(wc -l <theirs.txt)" -ge 10 ] || fail "too few rows in the store"
diff -u theirs.txt ours.txt || fail "the slowest Ta per backend differ from the store's"
# each line is the stored line of a request of that backend with that Ta
jq -r '.slowest.backends[] | .name as $b | .rows[] | [$b, (.ta | tostring), .line] | @tsv' slow.json |
	while IFS="$(printf '\t')" read -r be ta line; do
		grep -qF -- "$line" gen.log || fail "not a line of the file: $line"
		case "$line" in *" $be/"*) ;; *) fail "line of another backend than $be: $line" ;; esac
		case "$line" in *"/$ta "* | *"/+$ta "*) ;; *) fail "line without Ta $ta: $line" ;; esac
	done || exit 1

# --- timer floors: per server, the records at or above the floor
"$HALOG" report --db gen.db --min-ta 500 --backends --paths --series --top 0 --format json >floor.json || fail "--min-ta"
jq -r '.backends[] | .name as $b | .servers[] | "\($b) \(.name) \(.requests)"' floor.json | sort >ours-srv.txt
sqlite3 rows.db "select backend, server, count(*) from requests where t_active >= 500 group by 1, 2" |
	tr '|' ' ' | sort >theirs-srv.txt
diff -u theirs-srv.txt ours-srv.txt || fail "--min-ta 500: per-server requests differ from the store's"
n=$(sqlite3 rows.db "select count(*) from requests where t_active >= 500")
[ "$(jq '[.series.bins[].requests] | add' floor.json)" = "$n" ] || fail "--min-ta 500: the series"
[ "$(jq '.series.source' floor.json)" = '"records"' ] || fail "a floor must read the records"
h=$(sqlite3 rows.db "select count(*) from requests where t_active >= 500 and mode = 'http'")
[ "$(jq '.paths.requests' floor.json)" = "$h" ] || fail "--min-ta 500: the paths"
"$HALOG" report --db gen.db --min-tw 1 --format json >tw.json || fail "--min-tw"
w=$(sqlite3 rows.db "select count(*) from requests where t_wait >= 1")
[ "$w" -gt 0 ] || fail "no queued request in the store"
[ "$(jq '[.backends[].requests] | add' tw.json)" = "$w" ] || fail "--min-tw 1: $(jq '[.backends[].requests] | add' tw.json), the store $w"
echo "ok: slowest per backend and $n requests with Ta >= 500 ms, $w with Tw >= 1 ms agree with the store"
