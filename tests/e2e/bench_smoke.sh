#!/bin/sh
# The benchmark script at tiny sizes (BENCH_QUICK=1): it runs to the end, prints its table, and
# writes a results.json holding every metric, each either measured or "skipped: <reason>".
# Timings are not checked (they are noise at this size); the plumbing and the JSON are.
set -u
. "$TOP/tests/lib.sh"
[ -x "$O/helpers/loggen" ] || skip "no $O/helpers/loggen"
command -v jq >/dev/null || skip "jq is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$TMP"
R=$TMP/results.json

BENCH_QUICK=1 BENCH_LINES=5000 BENCH_BIG=8000 BENCH_DATAGRAMS=5000 BENCH_SERVICES=20 \
	BENCH_PRUNE_DATAGRAMS=20000 BENCH_OUT=$TMP/out BENCH_RESULTS=$R O=$O sh "$TOP/bench/run.sh" >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
[ $rc -eq 0 ] || fail "bench/run.sh exit $rc: $(tail -n 5 "$TMP/stderr")"
jq -e . "$R" >/dev/null || fail "results.json is not JSON"

# the table: a header, then one row per metric
grep -q '^metric  *value  *reference  *ratio  *cpu ratio  *target  *met$' "$TMP/stdout" || fail "no table header"
grep -q '^results: ' "$TMP/stdout" || fail "no results line"

for k in lines big_lines datagrams services runs seed quick cpus cpu_model date version; do
	jq -e ".env | has(\"$k\")" "$R" >/dev/null || fail "env.$k missing"
done
[ "$(jq -r .env.lines "$R")" = 5000 ] || fail "BENCH_LINES not honoured"

metrics="ref_wc_lines_per_s ref_halog_srv_lines_per_s ref_halog_pct_lines_per_s
ref_goaccess_lines_per_s ref_sqlceiling_lines_per_s ref_loggen_lines_per_s
ingest_lines_per_s ingest_time_vs_halog_srv ingest_speedup_vs_goaccess
ingest_time_vs_sqlite_ceiling ingest_peak_rss_mib ingest_big_lines_per_s ingest_big_rate_vs_main
ingest_huge_lines_per_s ingest_rows_stored ingest_big_rows_stored ingest_huge_rows_stored
ingest_store_vs_raw ingest_big_store_vs_raw search_word_time_vs_grep search_word_count_match
search_field_s since_10m_big_vs_main
report_time_vs_halog_srv_big report_s report_all_time_vs_halog_srv_big report_paths_time_vs_halog_u_big
report_counts_match start_time_vs_halog parse_lines_per_s parse_speed_vs_halog_srv
listen_lost_after_kernel listen_kernel_dropped listen_lost_end_to_end listen_stored_per_s listen_sender_per_s tail_f_worst_latency_s listen_peak_rss_mib
listen_prune_lost listen_prune_kernel_dropped listen_prune_rate listen_prune_steps
listen_prune_blocks_removed listen_prune_size_vs_limit listen_prune_peak_rss_mib
listen_prune_cpu_vs_noprune
serve_listen_lost_with_20_tails serve_listen_kernel_dropped serve_listen_time_vs_listen
serve_search_p99_ms serve_search_p50_ms serve_search_cold_p99_ms serve_search_cold_p50_ms serve_searches_per_s serve_search_errors
serve_tail_delay_p99_ms serve_tail_delay_p50_ms serve_streams_kept serve_tail_lines_missed
serve_hits_p50_ms serve_hits_requests serve_hits_errors serve_load_listen_lost
ch_sink_lines_per_s ch_sink_time_vs_bulk_insert ch_sink_rate_vs_listen_stored
ch_sink_halog_cpu_s ch_sink_server_cpu_s ch_sink_server_cpu_vs_bulk_insert
ch_sink_server_cpu_vs_bulk_native ch_sink_time_vs_bulk_native ch_sink_rows_stored
ch_sink_big_lines_per_s ch_report_time_vs_sqlite_report ch_report_time_vs_halog_srv_big
ch_report_counts_match ch_huge_report_time_vs_halog_srv ch_huge_report_time_vs_sqlite_report
ch_huge_sink_lines_per_s ch_huge_report_equal
hagen_time_vs_haproxy_c hagen_s hagen_peak_rss_mib hagen_rss_per_input_byte hagen_rss_vs_haproxy_c"
n=0
for m in $metrics; do
	n=$((n + 1))
	jq -e ".metrics | has(\"$m\")" "$R" >/dev/null || fail "metric $m missing"
	for f in unit value reference reference_value ratio ratio_cpu target met skipped measured_s; do
		jq -e ".metrics[\"$m\"] | has(\"$f\")" "$R" >/dev/null || fail "$m.$f missing"
	done
	# measured (a number) or skipped (with a reason), never both, never neither
	jq -e ".metrics[\"$m\"] | (.value | type) == \"number\" and .skipped == null
		or (.value == null and (.skipped | startswith(\"skipped: \")))" "$R" >/dev/null ||
		fail "$m is neither measured nor skipped: $(jq -c ".metrics[\"$m\"]" "$R")"
	grep -q "^$m " "$TMP/stdout" || fail "$m not in the table"
done
[ "$(jq '.metrics | length' "$R")" -eq $n ] || fail "unexpected metrics: $(jq -c '.metrics | keys' "$R")"

# what needs nothing but loggen and coreutils is always measured
jq -e '.metrics.ref_wc_lines_per_s.value > 0 and .metrics.ref_loggen_lines_per_s.value > 0' "$R" \
	>/dev/null || fail "wc / loggen references not measured"
# a ratio is the value's own reference ratio when both sides were measured
jq -e '.metrics | to_entries | map(select(.value.reference != null and .value.skipped == null))
	| all(.value.ratio != null and .value.reference_value > 0)' "$R" >/dev/null ||
	fail "a measured ratio lacks its reference"
# when halog ingest ran, it stored every line
if jq -e '.metrics.ingest_rows_stored.skipped == null' "$R" >/dev/null; then
	jq -e '.metrics.ingest_rows_stored.value == 5000' "$R" >/dev/null || fail "ingest lost lines"
fi
# when the report ran, its counts are loggen's; when the listener ran, it lost nothing it received
if jq -e '.metrics.report_counts_match.skipped == null' "$R" >/dev/null; then
	jq -e '.metrics.report_counts_match.value == 1' "$R" >/dev/null ||
		fail "halog report's per-server counts differ from loggen --expect"
fi
if jq -e '.metrics.listen_lost_after_kernel.skipped == null' "$R" >/dev/null; then
	jq -e '.metrics.listen_lost_after_kernel.value == 0' "$R" >/dev/null ||
		fail "halog listen lost $(jq .metrics.listen_lost_after_kernel.value "$R") received datagrams"
fi
if jq -e '.metrics.listen_prune_lost.skipped == null' "$R" >/dev/null; then
	jq -e '.metrics.listen_prune_lost.value == 0' "$R" >/dev/null ||
		fail "halog listen --max-size lost $(jq .metrics.listen_prune_lost.value "$R") datagrams"
fi
# BENCH_ONLY: one section runs; the others are "not measured" and left out of the table
R2=$TMP/only.json
BENCH_ONLY=hagen BENCH_QUICK=1 BENCH_SERVICES=20 BENCH_OUT=$TMP/out BENCH_RESULTS=$R2 O=$O \
	sh "$TOP/bench/run.sh" >"$TMP/only.out" 2>"$TMP/only.err" || fail "BENCH_ONLY=hagen: $(tail -n 5 "$TMP/only.err")"
jq -e '.metrics.hagen_s.skipped == null' "$R2" >/dev/null || fail "BENCH_ONLY=hagen did not measure hagen"
jq -e '.metrics.ingest_lines_per_s.skipped | startswith("skipped: not measured")' "$R2" >/dev/null ||
	fail "BENCH_ONLY=hagen ran the ingest"
! grep -q '^ingest_lines_per_s ' "$TMP/only.out" || fail "BENCH_ONLY=hagen shows the ingest's row"
echo "bench smoke: $n metrics, $(jq '[.metrics[] | select(.skipped == null)] | length' "$R") measured"
