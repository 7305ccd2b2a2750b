/* halog report: per-frontend and per-backend distribution, errors and latency from the store's
 * rollups, as text, JSON, CSV or Markdown; --check-balance turns it into a CI gate (exit 3). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "invweights.h"
#include "parse.h"
#include "report.h"
#include "report_html.h"
#include "store.h"

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

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh:mm]" (UTC unless an offset is given), or "@SECONDS". */
static int parse_time(const char *s, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	if (*p == '@') {
		int64_t v;
		if (parse_int64(p + 1, 0, 253402300799LL, &v))
			return -1;
		*ms = v * 1000;
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				p++;
				int n = 0, scale = 100;
				while (*p >= '0' && *p <= '9') {
					if (n++ < 3) {
						frac += (*p - '0') * scale;
						scale /= 10;
					}
					p++;
				}
				if (!n)
					return -1;
			}
		}
	}
	int64_t off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000 + frac;
	return 0;
}

/* A duration before now (digits + us|ms|s|m|h|d; a unit is required) or a time. */
static int parse_when(const char *s, int64_t now, int64_t *ms)
{
	uint64_t d;
	size_t n = strlen(s);
	if (n && s[n - 1] >= 'a' && s[n - 1] <= 'z' && !parse_duration_ms(s, &d)) {
		if (d > (uint64_t)INT64_MAX / 2)
			return -1;
		*ms = now - (int64_t)d;
		return 0;
	}
	return parse_time(s, ms);
}

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
	int64_t now = now_ms();
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
			if (parse_when(v, now, &t)) {
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
