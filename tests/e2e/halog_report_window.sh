#!/bin/sh
# halog report with a window that does not fall on whole minutes: every figure is exact (the
# whole minutes from the rollups, the seconds at each edge from the request records). Checked
# against the store's rows (sqlite3) on a generated store: lines, requests and errors per server,
# status codes per backend, and a window of a few seconds inside one minute.
. "$TOP/tests/lib.sh"

lib_gen_store 3
last=$(sqlite3 rows.db "select max(ts_ms) from requests")
m=$((last / 60000 * 60000 - 120000)) # the busiest minute is the last

# the error rule of docs/halog-report.md, in SQL
ERR="(mode = 'http' and (status is null or status < 0 or status >= 500 or (flags & 16) != 0))
	or (term is not null and term != '' and substr(term, 1, 1) not in ('-', 'L'))
	or (retries > 0 and not redispatched)"

check() { # SINCE_MS UNTIL_MS: the report of [since, until) against the store's rows
	s=$1 u=$2
	"$HALOG" report --db gen.db --since "@$((s / 1000))" --until "@$((u / 1000))" --format json \
		>w.json || fail "report [$s, $u)"
	sm=$((s / 1000 * 1000)) um=$((u / 1000 * 1000))
	jq -r '.backends[] | .name as $b | .servers[] | "\($b) \(.name) \(.requests) \(.errors)"' w.json |
		sort >ours.txt
	sqlite3 rows.db "select backend, server, count(*), sum(case when $ERR then 1 else 0 end)
		from requests where ts_ms >= $sm and ts_ms < $um group by 1, 2" | tr '|' ' ' | sort >theirs.txt
	[ -s theirs.txt ] || fail "no request in [$sm, $um)"
	diff -u theirs.txt ours.txt || fail "[$sm, $um): requests and errors per server differ from the store's"
	jq -r '.backends[] | .name as $b | .codes | to_entries[] | "\($b) \(.key) \(.value)"' w.json |
		sort >ours-c.txt
	sqlite3 rows.db "select backend, status, count(*) from requests where ts_ms >= $sm and ts_ms < $um
		and mode = 'http' and status is not null group by 1, 2" | tr '|' ' ' | sort >theirs-c.txt
	diff -u theirs-c.txt ours-c.txt || fail "[$sm, $um): status codes differ"
	lines=$(sqlite3 rows.db "select count(*) from lines where ts_ms >= $sm and ts_ms < $um")
	[ "$(jq .lines.total w.json)" = "$lines" ] || fail "[$sm, $um): $(jq .lines.total w.json) lines, the store $lines"
	case "$(jq -r .window.from w.json)" in *":$(printf %02d $((sm / 1000 % 60))).000Z") ;;
	*) fail "window.from $(jq -r .window.from w.json) is not the asked second" ;; esac
	echo "[$sm, $um): $(wc -l <ours.txt) servers, $lines lines exact"
}
check $((m + 90000 + 7000)) $((m + 300000 + 13000)) # whole minutes inside, two edges
check $((m + 130000)) $((m + 136000))                # six seconds inside one minute
check $((m + 60000)) $((m + 200500))                 # whole start, an edge at the end
"$HALOG" report --db gen.db --since "@$(((m + 130000) / 1000))" --until "@$(((m + 136000) / 1000))" \
	>w.txt || fail "text"
grep -q '(exact)$' w.txt || fail "the text report does not say the window is exact"
echo "ok: windows off whole minutes are exact"
