#!/bin/sh
# Runs every libFuzzer harness in $O/fuzz/ for FUZZ_SECONDS (default 30) each, after replaying
# the committed regression inputs (tests/fuzz/regress/<harness>/). Seeds come from the real
# corpus (../shared/corpus), samples/ and the golden tests. Ends with one line per harness and
# "N passed, N failed"; crashing inputs are left in $O/fuzz-crashes/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build-fuzz}
case $O in /*) ;; *) O=$top/$O ;; esac
secs=${FUZZ_SECONDS:-30}
work=$O/fuzz-work
mkdir -p "$work" "$O/fuzz-crashes"
pass=0 fail=0
summary=$O/fuzz-summary.txt
: >"$summary"

# seeds: one file per input
seed() {
	name=$1 dir=$work/seed-$1
	[ -d "$dir" ] && return 0
	mkdir -p "$dir"
	case $name in
	*logparse* | *listen*)
		i=0
		for f in "$top"/../shared/corpus/*/*.log "$top"/../shared/corpus/*/*/*.log "$top"/../shared/corpus/lnav/logfile_haproxy.0; do
			[ -f "$f" ] || continue
			while IFS= read -r line; do
				i=$((i + 1))
				printf '%s' "$line" >"$dir/l$i"
			done <"$f"
		done ;;
	*logformat*)
		grep -ho 'log-format .*' "$top"/../shared/corpus/generated-haproxy-2.6.12/setup/*.cfg 2>/dev/null |
			sed 's/^log-format //; s/^"//; s/"$//' | awk '{ f = sprintf("'"$dir"'/f%d", NR); printf "%s", $0 > f; close(f) }'
		printf '%s' '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r' >"$dir/httplog" ;;
	*query*)
		i=0
		for q in 'error' '"GET /api" OR status:5xx' '-backend:be_web (server:web1 OR server:web2)' '/time[o]ut/i state:SC' 'client:127.0.0.1 program:haproxy host:lb1' '((a OR b) -c)'; do
			i=$((i + 1)); printf '%s' "$q" >"$dir/q$i"
		done
		find "$top/tests/cases" -path '*search*' -name cmd -exec sh -c 'i=0; for f; do i=$((i+1)); cp "$f" "$0/c$i"; done' "$dir" {} + ;;
	*inventory* | *hagen*)
		i=0
		for f in "$top"/samples/*.yaml "$top"/samples/*/*.yaml "$top"/tests/cases/hagen*/*/*.yaml; do
			[ -f "$f" ] || continue
			i=$((i + 1)); cp "$f" "$dir/y$i"
		done ;;
	esac
	# past crashers steer the fuzzer too
	cp "$top/tests/fuzz/regress/$name"/* "$dir"/ 2>/dev/null || true
}

for bin in "$O"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	bad=
	if [ -d "$top/tests/fuzz/regress/$name" ] && [ -n "$(ls "$top/tests/fuzz/regress/$name")" ]; then
		"$bin" -runs=0 "$top/tests/fuzz/regress/$name"/* >"$work/$name.regress.log" 2>&1 || bad="regression input fails"
	fi
	seed "$name"
	mkdir -p "$work/corpus-$name"
	if [ -z "$bad" ]; then
		# FUZZ_RUNS=N: a fixed number of inputs from a fixed seed, so a CI run is reproducible
		if [ -n "${FUZZ_RUNS:-}" ]; then budget="-runs=$FUZZ_RUNS -seed=1"; else budget="-max_total_time=$secs"; fi
		# shellcheck disable=SC2086
		"$bin" $budget -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
			-artifact_prefix="$O/fuzz-crashes/$name-" "$work/corpus-$name" "$work/seed-$name" \
			>"$work/$name.log" 2>&1 || bad="crash (see $O/fuzz-crashes/)"
	fi
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" 2>/dev/null | grep -o '[0-9]*$' | tail -1)
	took=${secs}s
	[ -n "${FUZZ_RUNS:-}" ] && took="a fixed-seed run"
	echo "$name ${runs:-0} executions in $took" >>"$summary"
	if [ -z "$bad" ]; then
		pass=$((pass + 1)); echo "ok   fuzz/$name: ${runs:-0} executions in $took"
	else
		fail=$((fail + 1)); echo "FAIL fuzz/$name: $bad"; tail -30 "$work/$name.log" 2>/dev/null | sed 's/^/    /'
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
