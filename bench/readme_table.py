#!/usr/bin/env python3
"""Writes the README's benchmark table from a `make bench` run's results.json.

usage: python3 bench/readme_table.py [RESULTS.json [README.md]]
       (defaults: bench/results.json, README.md)

The table goes between the lines `<!-- bench-table:begin -->` and `<!-- bench-table:end -->` of
the README; everything else is left as it is. Each row is one metric of the run, with its
reference measured in the same run, the ratio on wall time and on CPU time, the target and
whether it was met; a metric the run skipped says so. Nothing here measures: it only formats.
"""
import json
import os
import re
import sys

BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"

# (metric, what it measures): the rows, in this order; metrics not listed are left out
ROWS = [
    ("ingest_lines_per_s", "`halog ingest`, 1M-line file (parse, store every line and field)"),
    ("ingest_lines_per_cpu_s", "… lines per CPU second (user+sys of all its threads)"),
    ("ingest_time_vs_halog_srv", "`halog ingest` time vs `halog -srv`, 1M lines"),
    ("ingest_speedup_vs_goaccess", "GoAccess time vs `halog ingest`, 1M lines"),
    ("ingest_time_vs_sqlite_ceiling", "`halog ingest` vs a bare SQLite insert of one row a line"),
    ("ingest_big_lines_per_s", "`halog ingest`, 5M-line file"),
    ("ingest_big_rate_vs_main", "5M-line ingest rate vs the 1M-line rate"),
    ("ingest_huge_lines_per_s", "`halog ingest`, 20M lines from `loggen` through a pipe"),
    ("ingest_huge_rows_stored", "lines stored of the 20M"),
    ("ingest_peak_rss_mib", "`halog ingest` peak RSS"),
    ("ingest_store_vs_raw", "store on disk vs the raw log, 1M lines (everything included)"),
    ("ingest_big_store_vs_raw", "store on disk vs the raw log, 5M lines (everything included)"),
    ("search_word_time_vs_grep", "`halog search --count WORD`, 5M-line store, vs `grep -c`"),
    ("search_word_count_match", "that count equals `grep -ci`"),
    ("search_field_s", "`halog search --count 'status:5xx backend:be_app'`, 5M-line store"),
    ("since_10m_big_vs_main", "`search --since 10m --count WORD`: 5M-line store vs 1M-line"),
    ("report_time_vs_halog_srv_big", "`halog report --format json`, 5M-line store, vs `halog -srv`"),
    ("report_counts_match", "report counts equal the generator's (`report_counts_match`)"),
    ("report_all_time_vs_halog_srv_big", "`halog report` with every section, 5M-line store, vs `halog -srv`"),
    ("report_paths_time_vs_halog_u_big", "`halog report --paths`, 5M-line store, vs `halog -u`"),
    ("listen_lost_after_kernel", "`halog listen`, 1M datagrams at full speed: lost after the kernel"),
    ("listen_kernel_dropped", "… dropped by the kernel (socket buffer full)"),
    ("listen_stored_per_s", "… stored rate"),
    ("listen_sender_per_s", "… the sender's rate"),
    ("listen_peak_rss_mib", "… listener peak RSS"),
    ("listen_prune_lost", "`halog listen --max-size 16M`, 1M datagrams at 100k/s while it prunes: lost"),
    ("listen_prune_rate", "… stored rate (the sender's paced rate as reference)"),
    ("listen_prune_size_vs_limit", "… file at the end vs the limit"),
    ("listen_prune_peak_rss_mib", "… listener peak RSS"),
    ("tail_f_worst_latency_s", "`halog tail -f` under that load: worst send-to-print time"),
    ("parse_lines_per_s", "the parser alone"),
    ("hagen_time_vs_haproxy_c", "`hagen render`, 5,000 services, vs `haproxy -c`"),
]

REFS = [("ref_wc_lines_per_s", "`wc -l`"), ("ref_halog_srv_lines_per_s", "`halog -srv`"),
        ("ref_halog_pct_lines_per_s", "`halog -pct`"), ("ref_goaccess_lines_per_s", "GoAccess"),
        ("ref_sqlceiling_lines_per_s", "SQLite bare insert")]


def num(v, unit=""):
    if v is None:
        return "-"
    if unit == "x":
        return "%.3g×" % v
    if unit == "bool":
        return "yes" if v else "no"
    if abs(v) >= 1000:
        return "{:,.0f} {}".format(v, unit).rstrip()
    return ("%.3g %s" % (v, unit)).rstrip()


def nice_target(t):
    t = (t or "").replace(">=", "≥").replace("<=", "≤")
    return re.sub(r"\d{4,}", lambda m: "{:,}".format(int(m.group(0))), t)


def derived(res):
    """Figures the run's raw measurements give that its metrics do not spell out."""
    ms, raw = res["metrics"], res.get("raw", {})
    lines, big = raw.get("lines"), raw.get("big_lines")
    cpu, cpub = raw.get("ingest_cpu_s"), raw.get("ingest_big_cpu_s")
    if isinstance(lines, (int, float)) and isinstance(cpu, (int, float)) and cpu > 0:
        ms["ingest_lines_per_cpu_s"] = {"unit": "lines/s", "value": lines / cpu}
    m = ms.get("ingest_big_rate_vs_main")
    if (m and not m.get("skipped") and m.get("ratio_cpu") is None and
            all(isinstance(v, (int, float)) and v > 0 for v in (lines, big, cpu, cpub))):
        m["ratio_cpu"] = (big / cpub) / (lines / cpu)


def row(name, label, m):
    if m is None:
        return None
    target = nice_target(m.get("target"))
    if m.get("skipped"):
        return "| %s | %s | | | | %s | skipped |" % (label, m["skipped"].replace("|", "/"), target)
    met = "" if m.get("met") is None else ("yes" if m["met"] else "**no**")
    if m["unit"] == "x":
        if m.get("measured_mb") is not None:
            ours = "%.1f MB" % m["measured_mb"]
            ref = "%s %.1f MB" % (m["reference"], m["reference_value"])
        else:
            ours = "%.3f s" % m["measured_s"] if m.get("measured_s") is not None else ""
            ref = "%s %.3f s" % (m["reference"], m["reference_value"])
        ratio = num(m["ratio"], "x")
    else:
        ours = num(m["value"], m["unit"])
        ref, ratio = "", ""
    cpu = num(m.get("ratio_cpu"), "x") if m.get("ratio_cpu") is not None else ""
    return "| %s | %s | %s | %s | %s | %s | %s |" % (label, ours, ref, ratio, cpu, target, met)


def table(res, source):
    derived(res)
    env, ms = res["env"], res["metrics"]
    out = ["Measured with `make bench` (%s lines, %s big, %s datagrams) on %s, %s CPUs (%s), "
           "written from `%s` by `python3 bench/readme_table.py`:" % (
               env.get("lines"), env.get("big_lines"), env.get("datagrams"),
               (env.get("date") or "?")[:10], env.get("cpus"), env.get("cpu_model"), source),
           "",
           "| metric | ours | reference (same run) | ratio | cpu ratio | target | met |",
           "|---|---|---|---|---|---|---|"]
    for name, label in ROWS:
        r = row(name, label, ms.get(name))
        if r:
            out.append(r)
    refs = ["%s %s" % (label, num(ms[k]["value"], "lines/s")) for k, label in REFS
            if k in ms and ms[k].get("value") is not None]
    if refs:
        out += ["", "References in the same run: " + ", ".join(refs) + "."]
    return "\n".join(out) + "\n"


def main():
    results = sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    with open(results, encoding="utf-8") as f:
        res = json.load(f)
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        sys.exit("readme_table: %s has no %s ... %s lines" % (readme, BEGIN, END))
    new = text[:a + len(BEGIN)] + "\n" + table(res, results) + text[b:]
    tmp = readme + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, readme)
    print("readme_table: %s: table from %s (%s)" % (readme, results, res["env"].get("date")))


if __name__ == "__main__":
    main()
