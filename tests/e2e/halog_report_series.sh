#!/bin/sh
# halog report --series on a generated store: the per-minute series from the rollups and the same
# minutes read exactly from the request records agree (requests and errors equal, p95 within the
# rollup histogram's 1.6%); finer buckets add up to the minutes; every request is in a bucket;
# a window of seconds holds exactly the requests logged in it (counted with sqlite3).
. "$TOP/tests/lib.sh"

lib_gen_store 11
total=$(sqlite3 rows.db "select count(*) from requests")
first=$(sqlite3 rows.db "select min(ts_ms) from requests")

# whole minutes: from the rollups
"$HALOG" report --db gen.db --series --format json >roll.json || fail "series (rollups)"
[ "$(jq -r .series.source roll.json)" = rollups ] || fail "a 1m series did not read the rollups"
[ "$(jq '[.series.bins[].requests] | add' roll.json)" = "$total" ] || fail "rollup series total"
[ "$(jq '.series.bins | length' roll.json)" -ge 5 ] || fail "too few minutes"

# the same minutes from the records: a window from 1 s before the first request's minute
"$HALOG" report --db gen.db --series --since "@$((first / 60000 * 60 - 1))" --format json >exact.json ||
	fail "series (records)"
[ "$(jq -r .series.source exact.json)" = records ] || fail "an unaligned window did not read the records"
jq -c '[.series.bins[] | select(.requests > 0) | [.time, .requests, .errors]]' roll.json >a.txt
jq -c '[.series.bins[] | select(.requests > 0) | [.time, .requests, .errors]]' exact.json >b.txt
cmp -s a.txt b.txt || { head -c 600 a.txt; echo; head -c 600 b.txt; fail "minutes differ between rollups and records"; }
# p95: the rollup's bucket midpoint is within 1.6% of the exact value (exact below 64 ms)
jq -n --slurpfile a roll.json --slurpfile b exact.json '
	[$a[0].series.bins[] | select(.requests > 0)] as $x |
	[$b[0].series.bins[] | select(.requests > 0)] as $y |
	[range(0; $x | length) as $i | select((($x[$i].p95 - $y[$i].p95) | fabs) > ($y[$i].p95 * 0.016 + 1))]
	| length == 0' |
	grep -q true || fail "p95 of the rollups is not within 1.6% of the exact p95"

# 30 s buckets add up to the minutes
"$HALOG" report --db gen.db --bucket 30s --format json >half.json || fail "--bucket 30s"
[ "$(jq -r .series.source half.json)" = records ] || fail "30s buckets did not read the records"
jq -c '[.series.bins[] | {m: (.time[0:16]), requests, errors}] | group_by(.m) |
	map([.[0].m, (map(.requests) | add), (map(.errors) | add)]) | map(select(.[1] > 0))' half.json >h.txt
jq -c '[.series.bins[] | select(.requests > 0) | [.time[0:16], .requests, .errors]]' roll.json >m.txt
cmp -s h.txt m.txt || fail "30 s buckets do not add up to the minutes"

# a window of 7 seconds: exactly the requests logged in it
w0=$((first + 90000)) w1=$((first + 97000))
t0=$(date -u -d "@$((w0 / 1000))" +%Y-%m-%dT%H:%M:%SZ) t1=$(date -u -d "@$((w1 / 1000))" +%Y-%m-%dT%H:%M:%SZ)
want=$(sqlite3 rows.db "select count(*) from requests where ts_ms >= $((w0 / 1000 * 1000)) and ts_ms < $((w1 / 1000 * 1000))")
"$HALOG" report --db gen.db --series --bucket 1s --since "$t0" --until "$t1" --format json >win.json ||
	fail "a 7 s window"
[ "$(jq '[.series.bins[].requests] | add' win.json)" = "$want" ] ||
	fail "the 7 s window holds $(jq '[.series.bins[].requests] | add' win.json) requests, the store $want"
[ "$(jq '.series.bins | length' win.json)" = 7 ] || fail "7 one-second buckets expected"
echo "ok: $total requests; rollup and exact series agree; a 7 s window holds its $want requests"
