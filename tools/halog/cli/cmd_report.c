/* halog report: per-frontend and per-backend distribution, errors and latency from the store's
 * rollups, as text, JSON, CSV or Markdown; --check-balance turns it into a CI gate (exit 3). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "clock.h"
#include "inventory/inventory.h"
#include "opt.h"
#include "outfile.h"
#include "parse.h"
#include "report/report.h"
#include "report/report_html.h"
#include "parse/timearg.h"
#include "store/chhttp.h"
#include "store/read.h"
#include "store/store.h"

enum {
	O_DB = 1,
	O_SINCE,
	O_UNTIL,
	O_FRONTEND,
	O_BACKEND,
	O_INVENTORY,
	O_ENV,
	O_CHECK_BALANCE,
	O_ALLOW_UNLISTED,
	O_ALLOW_IDLE,
	O_FORMAT,
	O_OUTPUT,
	O_BACKENDS,
	O_PATHS,
	O_CLIENTS,
	O_NO_FOLD,
	O_CLIENTS_BY,
	O_SORT,
	O_TOP,
	O_SERIES,
	O_BUCKET,
	O_SLOWEST,
	O_MIN_TA,
	O_MIN_TW,
	O_CONNERRS,
	O_HEADERS,
	O_COMPARE,
};

static const char *const formats[] = {"text", "json", "csv", "markdown", "html", "md", NULL};
static const char *const client_bys[] = {"addr", "net", NULL};

static const struct opt report_opts[] = {
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "SQLite store (default: $HALOG_DB, else ./halog.db)"},
	{.id = O_SINCE,
	 .long_name = "since",
	 .type = OPT_STR,
	 .arg = "WHEN",
	 .help = "only traffic at or after WHEN"},
	{.id = O_UNTIL,
	 .long_name = "until",
	 .type = OPT_STR,
	 .arg = "WHEN",
	 .help = "only traffic before WHEN"},
	{.id = O_FRONTEND,
	 .long_name = "frontend",
	 .type = OPT_STR,
	 .arg = "F",
	 .help = "only that frontend's traffic"},
	{.id = O_BACKEND,
	 .long_name = "backend",
	 .type = OPT_STR,
	 .arg = "B",
	 .help = "only that backend's traffic"},
	{.id = O_INVENTORY,
	 .long_name = "inventory",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "hagen inventory: expected shares from the servers' weights"},
	{.id = O_ENV,
	 .short_name = 'e',
	 .long_name = "env",
	 .type = OPT_STR,
	 .arg = "ENV",
	 .help = "the inventory's environment overlay"},
	{.id = O_CHECK_BALANCE,
	 .long_name = "check-balance",
	 .type = OPT_NUM,
	 .arg = "PCT",
	 .min = 0,
	 .max = 100,
	 .help = "exit 3 when a server's share deviates from the expected one\n"
		 "by more than PCT percentage points, or (with --inventory) a\n"
		 "backend with traffic has no service in the inventory, or a\n"
		 "service of the inventory got no traffic"},
	{.id = O_ALLOW_UNLISTED,
	 .long_name = "allow-unlisted",
	 .type = OPT_FLAG,
	 .help = "backends the inventory does not list pass the check"},
	{.id = O_ALLOW_IDLE,
	 .long_name = "allow-idle",
	 .type = OPT_FLAG,
	 .help = "services of the inventory without traffic pass the check"},
	{.id = O_FORMAT,
	 .long_name = "format",
	 .type = OPT_ENUM,
	 .arg = "F",
	 .values = formats,
	 .help = "text (default), json, csv, markdown or html (one\n"
		 "self-contained page with charts)"},
	{.id = O_OUTPUT,
	 .short_name = 'o',
	 .long_name = "output",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "write the report to FILE instead of stdout"},
	{.type = OPT_DOC,
	 .arg = "Sections",
	 .help = "(without one of these, --backends; with several, each in turn)"},
	{.id = O_BACKENDS,
	 .long_name = "backends",
	 .type = OPT_FLAG,
	 .help = "per backend and per frontend: shares, errors, codes,\n"
		 "terminations, timers, error paths, server events"},
	{.id = O_PATHS,
	 .long_name = "paths",
	 .type = OPT_FLAG,
	 .help = "per path (ids folded): requests, errors, Ta percentiles,\n"
		 "total time, bytes"},
	{.id = O_CLIENTS,
	 .long_name = "clients",
	 .type = OPT_FLAG,
	 .help = "per client address: requests, errors, Ta, bytes"},
	{.id = O_SERIES,
	 .long_name = "series",
	 .type = OPT_FLAG,
	 .help = "requests, errors and p95 per time bucket"},
	{.id = O_SLOWEST,
	 .long_name = "slowest",
	 .type = OPT_FLAG,
	 .help = "the slowest requests of each backend (Ta, Tt for TCP),\n"
		 "with their lines (5 each, or --top N)"},
	{.id = O_CONNERRS,
	 .long_name = "conn-errors",
	 .type = OPT_FLAG,
	 .help = "connection errors (TLS handshake, PROXY header …) per\n"
		 "frontend and bind, with their messages"},
	{.id = O_HEADERS,
	 .long_name = "headers",
	 .type = OPT_FLAG,
	 .help = "the top values of each captured request and response\n"
		 "header (user agent, host, referer … as captured)"},
	{.id = O_COMPARE,
	 .long_name = "compare",
	 .type = OPT_STR,
	 .arg = "BASELINE",
	 .help = "per backend and server, this window against BASELINE:\n"
		 "WHEN..WHEN, or DUR (the window DUR earlier): share, error\n"
		 "rate and p95, significant changes flagged"},
	{.id = O_NO_FOLD,
	 .long_name = "no-fold",
	 .type = OPT_FLAG,
	 .help = "paths as logged: no {num}/{uuid}/{hex} folding, absolute\n"
		 "URIs kept (as HAProxy's halog -u keys them)"},
	{.id = O_CLIENTS_BY,
	 .long_name = "clients-by",
	 .type = OPT_ENUM,
	 .arg = "BY",
	 .values = client_bys,
	 .help = "addr (default) or net: IPv4 /24 and IPv6 /64 networks"},
	{.id = O_SORT,
	 .long_name = "sort",
	 .type = OPT_ENUM,
	 .arg = "COL",
	 .values = report_sort_names,
	 .help = "rank paths, clients and headers by requests (default), errors,\n"
		 "error-rate, p50, p95, p99, max, time, bytes or name"},
	{.id = O_TOP,
	 .long_name = "top",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 0,
	 .max = 1000000000,
	 .help = "rows of paths, clients and headers (default 20; 0: all)"},
	{.id = O_MIN_TA,
	 .long_name = "min-ta",
	 .type = OPT_INT,
	 .arg = "MS",
	 .min = 1,
	 .max = INT32_MAX,
	 .help = "only requests whose Ta (Tt for TCP) is at least MS, in every\n"
		 "section (read from the request records)"},
	{.id = O_MIN_TW,
	 .long_name = "min-tw",
	 .type = OPT_INT,
	 .arg = "MS",
	 .min = 1,
	 .max = INT32_MAX,
	 .help = "only requests that waited in a queue (Tw) at least MS"},
	{.id = O_BUCKET,
	 .long_name = "bucket",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "the series' bucket: 10s, 1m (default), 5m, 1h …"},
	{0},
};

static const struct opt_cmd report_cmd = {
	.prog = "halog report",
	.opts = report_opts,
	.epilog =
		"WHEN is a duration before now (10m, 2h, 1d) or a UTC time (2025-12-01T10:00:00Z,\n"
		"2025-12-01 10:00, @UNIXSECONDS), applied exactly: the whole minutes inside\n"
		"from the rollups, the seconds at the edges from the request records.\n",
};

/* A series bucket: digits and a unit s, m, h or d; at least a second, at most 366 days. */
static int parse_bucket(const char *s, int64_t *ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || end[0] == '\0' || end[1] != '\0' || *s == '+')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (*end == units[i].unit && v <= 366LL * 86400000 / units[i].ms) {
			*ms = v * units[i].ms;
			return 0;
		}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	const char *db = NULL, *inv_path = NULL, *env = NULL, *out_path = NULL;
	enum report_format fmt = REPORT_TEXT;
	struct report_opts opts = {.since_ms = LR_NONE,
				   .until_ms = LR_NONE,
				   .check_balance = -1,
				   .top = REPORT_TOP_DEFAULT,
				   .cmp_since = LR_NONE,
				   .cmp_until = LR_NONE};
	int compare = 0;
	int64_t cmp_shift = 0;
	struct inv inv;
	struct report rep;
	char err[1024], shown[CH_SHOWN_MAX];
	int64_t now = clock_wall_ms();
	int ret = HALOG_EXIT_ERR, have_inv = 0, have_rep = 0;
	struct store_reader *rd = NULL;
	FILE *fp = stdout;
	struct outfile of;
	struct opt_parser p;
	int r;

	memset(&inv, 0, sizeof(inv));
	opt_init(&p, &report_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		int64_t t;

		switch (r) {
		case O_DB:
			db = p.val;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (timearg_parse(p.val, now, &t))
				return opt_bad_value(&p, stderr,
						     "expected a duration (10m, 2h) or a time "
						     "(2025-12-01T10:00:00Z)");
			if (r == O_SINCE)
				opts.since_ms = t;
			else
				opts.until_ms = t;
			break;
		case O_FRONTEND:
			opts.frontend = p.val;
			break;
		case O_BACKEND:
			opts.backend = p.val;
			break;
		case O_INVENTORY:
			inv_path = p.val;
			break;
		case O_ENV:
			env = p.val;
			break;
		case O_CHECK_BALANCE:
			opts.check_balance = p.dbl;
			break;
		case O_ALLOW_UNLISTED:
			opts.allow_unlisted = 1;
			break;
		case O_ALLOW_IDLE:
			opts.allow_idle = 1;
			break;
		case O_FORMAT:
			report_format_parse(formats[p.idx], &fmt);
			break;
		case O_OUTPUT:
			out_path = p.val;
			break;
		case O_BACKENDS:
			opts.sections |= REPORT_SEC_BACKENDS;
			break;
		case O_PATHS:
			opts.sections |= REPORT_SEC_PATHS;
			break;
		case O_CLIENTS:
			opts.sections |= REPORT_SEC_CLIENTS;
			break;
		case O_NO_FOLD:
			opts.no_fold = 1;
			break;
		case O_CLIENTS_BY:
			opts.client_by = p.idx ? REPORT_CLIENT_NET : REPORT_CLIENT_ADDR;
			break;
		case O_SORT:
			opts.sort = (enum report_sort)p.idx;
			break;
		case O_TOP:
			opts.top = (size_t)p.num;
			opts.slowest = p.num ? (size_t)p.num : REPORT_SLOWEST_DEFAULT;
			break;
		case O_SERIES:
			opts.sections |= REPORT_SEC_SERIES;
			break;
		case O_SLOWEST:
			opts.sections |= REPORT_SEC_SLOWEST;
			break;
		case O_CONNERRS:
			opts.sections |= REPORT_SEC_CONNERRS;
			break;
		case O_HEADERS:
			opts.sections |= REPORT_SEC_HEADERS;
			break;
		case O_COMPARE: {
			const char *dots = strstr(p.val, "..");
			uint64_t shift;
			if (dots) {
				char a[64];
				size_t alen = (size_t)(dots - p.val);
				if (alen >= sizeof(a) || !alen || !dots[2])
					return opt_bad_value(&p, stderr,
							     "expected WHEN..WHEN or a duration");
				memcpy(a, p.val, alen);
				a[alen] = '\0';
				if (timearg_parse(a, now, &opts.cmp_since) ||
				    timearg_parse(dots + 2, now, &opts.cmp_until) ||
				    opts.cmp_until <= opts.cmp_since)
					return opt_bad_value(&p, stderr,
							     "expected WHEN..WHEN (the second after "
							     "the first) or a duration");
				cmp_shift = 0;
			} else if (!parse_duration_ms(p.val, &shift) && shift > 0 &&
				   shift < (uint64_t)INT64_MAX / 4 && strpbrk(p.val, "smhd")) {
				cmp_shift = (int64_t)shift;
			} else {
				return opt_bad_value(&p, stderr,
						     "expected WHEN..WHEN or a duration (1h, 1d)");
			}
			compare = 1;
			break;
		}
		case O_MIN_TA:
			opts.min_ta = p.num;
			break;
		case O_MIN_TW:
			opts.min_tw = p.num;
			break;
		case O_BUCKET:
			if (parse_bucket(p.val, &opts.bucket_ms))
				return opt_bad_value(&p, stderr,
						     "expected a duration of whole seconds (10s, 1m, "
						     "5m, 1h, 1d)");
			break;
		case OPT_OPERAND:
			return opt_usage_error(&report_cmd, stderr, "unexpected argument '%s'",
					       p.val);
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (env && !inv_path) {
		return opt_usage_error(&report_cmd, stderr, "-e needs --inventory");
	}
	if ((opts.allow_unlisted || opts.allow_idle) && !inv_path)
		return opt_usage_error(&report_cmd, stderr,
				       "--allow-unlisted and --allow-idle need --inventory");
	if (opts.since_ms != LR_NONE && opts.until_ms != LR_NONE &&
	    opts.until_ms <= opts.since_ms) {
		return opt_usage_error(&report_cmd, stderr, "--until must be after --since");
	}
	if (opts.bucket_ms)
		opts.sections |= REPORT_SEC_SERIES; /* --bucket alone asks for the series */
	if (compare && cmp_shift) {
		/* the same window, cmp_shift earlier */
		if (opts.since_ms == LR_NONE)
			return opt_usage_error(&report_cmd, stderr,
					       "--compare DUR needs --since (the window to shift)");
		opts.cmp_since = opts.since_ms - cmp_shift;
		opts.cmp_until = (opts.until_ms == LR_NONE ? now : opts.until_ms) - cmp_shift;
	}
	if (compare)
		opts.sections |= REPORT_SEC_COMPARE;
	/* the balance is a figure of the backends section */
	if (opts.sections && (inv_path || opts.check_balance >= 0))
		opts.sections |= REPORT_SEC_BACKENDS;
	if (!db)
		db = store_default_path();
	if (out_path) {
		/* never over the store (or its -wal, -shm ...) or the inventory it reads */
		const struct outfile_input in[] = {{db, 1}, {inv_path, 0}};

		if (outfile_check(out_path, in, 2, err, sizeof(err)))
			return opt_usage_error(&report_cmd, stderr, "-o: %s", err);
	}
	if (inv_path) {
		struct inv_opts io = {env, NULL};

		if (inv_load_report(inv_path, &io, &inv, stderr, "halog report") < 0)
			return HALOG_EXIT_ERR;
		have_inv = 1;
		opts.inv = &inv;
	}
	rd = store_reader_open(db, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "halog report: %s\n", err);
		goto out;
	}
	if (report_build(rd, &opts, &rep, err, sizeof(err))) {
		fprintf(stderr, "halog report: %s: %s\n", ch_url_redact(db, shown, sizeof(shown)),
			err);
		goto out;
	}
	have_rep = 1;
	if (compare && report_compare(rd, &opts, &rep, err, sizeof(err))) {
		fprintf(stderr, "halog report: %s: --compare: %s\n",
			ch_url_redact(db, shown, sizeof(shown)), err);
		goto out;
	}
	/* written beside the target and renamed over it once whole: a failure below leaves the
	 * old file as it was */
	if (out_path && strcmp(out_path, "-")) {
		if (outfile_open(&of, out_path, err, sizeof(err))) {
			fprintf(stderr, "halog report: %s\n", err);
			goto out;
		}
		fp = of.fp;
	}
	if (fmt == REPORT_HTML) {
		/* the HTML writer reads time series from the store too */
		if (report_html_write(rd, &rep, fp, err, sizeof(err))) {
			fprintf(stderr, "halog report: cannot write '%s': %s\n",
				out_path ? out_path : "stdout", err);
			goto out;
		}
	} else if (report_write(&rep, fmt, fp)) {
		fprintf(stderr, "halog report: cannot write '%s': %s\n",
			out_path ? out_path : "stdout", strerror(errno));
		goto out;
	}
	if (fp != stdout) {
		fp = stdout;
		if (outfile_commit(&of, err, sizeof(err))) {
			fprintf(stderr, "halog report: %s\n", err);
			goto out;
		}
	}
	ret = HALOG_EXIT_OK;
	if (rep.balance_failed) {
		for (size_t i = 0; i < rep.nbackends; i++) {
			const struct report_group *g = &rep.backends[i];
			if (g->balance_failed)
				fprintf(stderr,
					"halog report: balance: backend '%s': server '%s' is %.1f"
					" points off its expected share (limit %.1f)\n",
					g->name, g->worst ? g->worst : "-", g->max_deviation,
					opts.check_balance);
			if (g->unlisted && report_unlisted_fail(&rep))
				fprintf(stderr,
					"halog report: balance: backend '%s' has traffic but no"
					" service in the inventory (--allow-unlisted to pass)\n",
					g->name);
		}
		for (size_t i = 0; report_idle_fail(&rep) && i < rep.nidle; i++)
			fprintf(stderr,
				"halog report: balance: backend '%s' of the inventory got no"
				" traffic (--allow-idle to pass)\n",
				rep.idle[i]);
		ret = HALOG_EXIT_BALANCE;
	}
out:
	if (fp != stdout)
		outfile_abort(&of); /* the report failed: the old file stays */
	if (have_rep)
		report_release(&rep);
	if (have_inv)
		inv_release(&inv);
	store_reader_close(rd);
	return ret;
}
