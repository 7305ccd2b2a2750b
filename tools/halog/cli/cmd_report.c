/* halog report: per-frontend and per-backend distribution, errors and latency from the store's
 * rollups, as text, JSON, CSV or Markdown; --check-balance turns it into a CI gate (exit 3). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "clock.h"
#include "report/invweights.h"
#include "parse.h"
#include "report/report.h"
#include "report/report_html.h"
#include "parse/timearg.h"
#include "store/store.h"

static const char report_usage[] =
	"usage: halog report [--db FILE] [--since DUR|TIME] [--until DUR|TIME]\n"
	"                    [--frontend F] [--backend B] [--inventory FILE [-e ENV]]\n"
	"                    [--check-balance PCT] [--format text|json|csv|markdown|html]\n"
	"                    [-o FILE]\n"
	"  --db FILE            SQLite store (default: $HALOG_DB, else ./halog.db)\n"
	"  --since, --until     a duration before now (10m, 2h, 1d) or a UTC time\n"
	"                       (2025-12-01T10:00:00Z, 2025-12-01 10:00, @UNIXSECONDS);\n"
	"                       applied in whole minutes (the rollup bucket)\n"
	"  --frontend, --backend  only that frontend's / backend's traffic\n"
	"  --inventory FILE     hagen inventory: expected shares from the servers' weights\n"
	"  -e, --env ENV        the inventory's environment overlay\n"
	"  --check-balance PCT  exit 3 when a server's share deviates from the expected one\n"
	"                       by more than PCT percentage points\n"
	"  --format F           text (default), json, csv, markdown or html (one\n"
	"                       self-contained page with charts)\n"
	"  -o FILE              write the report to FILE instead of stdout\n";

static int parse_pct(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < 0 || v > 100)
		return -1;
	*out = v;
	return 0;
}

int cmd_report(int argc, char **argv)
{
	const char *db = NULL, *inv_path = NULL, *env = NULL, *out_path = NULL;
	enum report_format fmt = REPORT_TEXT;
	struct report_opts opts = {LR_NONE, LR_NONE, NULL, NULL, NULL, -1};
	struct invweights inv;
	struct report rep;
	char err[1024];
	int64_t now = clock_wall_ms();
	int ret = HALOG_EXIT_ERR, have_inv = 0, have_rep = 0;
	struct store *st = NULL;
	FILE *fp = stdout;

	memset(&inv, 0, sizeof(inv));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(report_usage, stdout);
			return HALOG_EXIT_OK;
		}
		static const char *const valued[] = {"--db",	   "--since",	"--until",
						     "--frontend", "--backend", "--inventory",
						     "-e",	   "--env",	"--check-balance",
						     "--format",   "-o",	"--output"};
		int known = 0;
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			known |= !strcmp(a, valued[k]);
		if (!known) {
			fprintf(stderr, "halog report: unknown %s '%s'\n%s",
				a[0] == '-' ? "option" : "argument", a, report_usage);
			return HALOG_EXIT_USAGE;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "halog report: option '%s' needs a value\n%s", a,
				report_usage);
			return HALOG_EXIT_USAGE;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--db")) {
			db = v;
		} else if (!strcmp(a, "--since") || !strcmp(a, "--until")) {
			int64_t t;
			if (timearg_parse(v, now, &t)) {
				fprintf(stderr,
					"halog report: %s: '%s' is neither a duration (10m, 2h) "
					"nor a"
					" time (2025-12-01T10:00:00Z)\n",
					a, v);
				return HALOG_EXIT_USAGE;
			}
			if (a[2] == 's')
				opts.since_ms = t;
			else
				opts.until_ms = t;
		} else if (!strcmp(a, "--frontend")) {
			opts.frontend = v;
		} else if (!strcmp(a, "--backend")) {
			opts.backend = v;
		} else if (!strcmp(a, "--inventory")) {
			inv_path = v;
		} else if (!strcmp(a, "-e") || !strcmp(a, "--env")) {
			env = v;
		} else if (!strcmp(a, "--check-balance")) {
			if (parse_pct(v, &opts.check_balance)) {
				fprintf(stderr,
					"halog report: --check-balance: '%s' is not a number of"
					" percentage points (0..100)\n",
					v);
				return HALOG_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--format")) {
			if (report_format_parse(v, &fmt)) {
				fprintf(stderr,
					"halog report: --format: '%s' is not one of text, json, "
					"csv, markdown, html\n",
					v);
				return HALOG_EXIT_USAGE;
			}
		} else {
			out_path = v;
		}
	}
	if (env && !inv_path) {
		fprintf(stderr, "halog report: -e needs --inventory\n%s", report_usage);
		return HALOG_EXIT_USAGE;
	}
	if (opts.since_ms != LR_NONE && opts.until_ms != LR_NONE &&
	    opts.until_ms <= opts.since_ms) {
		fprintf(stderr, "halog report: --until must be after --since\n");
		return HALOG_EXIT_USAGE;
	}
	if (!db)
		db = store_default_path();
	if (inv_path) {
		if (invweights_load(inv_path, env, &inv, err, sizeof(err))) {
			fprintf(stderr, "halog report: %s\n", err);
			return HALOG_EXIT_ERR;
		}
		have_inv = 1;
		opts.inv = &inv;
	}
	st = store_open(db, STORE_READONLY, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "halog report: %s\n", err);
		goto out;
	}
	if (report_build(store_db(st), &opts, &rep, err, sizeof(err))) {
		fprintf(stderr, "halog report: %s: %s\n", db, err);
		goto out;
	}
	have_rep = 1;
	if (out_path && strcmp(out_path, "-") && !(fp = fopen(out_path, "w"))) {
		fprintf(stderr, "halog report: cannot write '%s': %s\n", out_path, strerror(errno));
		fp = stdout;
		goto out;
	}
	if (fmt == REPORT_HTML) {
		/* the HTML writer reads time series from the store too */
		if (report_html_write(store_db(st), &rep, fp, err, sizeof(err))) {
			fprintf(stderr, "halog report: cannot write '%s': %s\n",
				out_path ? out_path : "stdout", err);
			goto out;
		}
	} else if (report_write(&rep, fmt, fp)) {
		fprintf(stderr, "halog report: cannot write '%s': %s\n",
			out_path ? out_path : "stdout", strerror(errno));
		goto out;
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
		}
		ret = HALOG_EXIT_BALANCE;
	}
out:
	if (fp != stdout && fclose(fp) && ret != HALOG_EXIT_ERR) {
		fprintf(stderr, "halog report: cannot write '%s': %s\n", out_path, strerror(errno));
		ret = HALOG_EXIT_ERR;
	}
	if (have_rep)
		report_release(&rep);
	if (have_inv)
		invweights_release(&inv);
	store_close(st);
	return ret;
}
