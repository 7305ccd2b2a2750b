/* halog ingest [--db FILE] [--log-format STR] [FILE…|-]: log files or stdin into the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "clock.h"
#include "listen/ingest.h"
#include "parse/logparse.h"
#include "parse.h"
#include "store/store.h"

static const char ingest_usage[] =
	"usage: halog ingest [--db FILE] [--log-format STR] [--batch N] [FILE...|-]\n"
	"  --db FILE          SQLite store (default: $HALOG_DB, else ./halog.db)\n"
	"  --log-format STR   HAProxy log-format string or httplog|httpslog|tcplog|clf\n"
	"                     (default: detect the built-in formats line by line)\n"
	"  --batch N          lines per transaction (default 65536)\n"
	"  FILE               plain or gzip; '-' or none reads stdin\n";

static void summary(const struct ingest_stats *s, double secs)
{
	fprintf(stderr, "halog ingest: %llu lines, %llu parsed, %llu unparsed",
		(unsigned long long)s->lines, (unsigned long long)s->parsed,
		(unsigned long long)s->unparsed);
	if (s->partial)
		fprintf(stderr, ", %llu partial", (unsigned long long)s->partial);
	if (s->truncated)
		fprintf(stderr, ", %llu truncated", (unsigned long long)s->truncated);
	const char *sep = " (";
	for (int k = 1; k < LR_KIND_MAX; k++) {
		if (!s->by_kind[k])
			continue;
		fprintf(stderr, "%s%s %llu", sep, lr_kind_name((enum lr_kind)k),
			(unsigned long long)s->by_kind[k]);
		sep = ", ";
	}
	if (*sep == ',')
		fputc(')', stderr);
	fprintf(stderr, " in %.2f s, %.0f lines/s\n", secs,
		secs > 0 ? (double)s->lines / secs : 0.0);
}

int cmd_ingest(int argc, char **argv)
{
	const char *db = NULL, *fmt = NULL;
	size_t batch = 0;
	int i, nfiles = 0, ret = HALOG_EXIT_OK;
	char err[512];

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(ingest_usage, stdout);
			return HALOG_EXIT_OK;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--db") || !strcmp(a, "--log-format") ||
			   !strcmp(a, "--batch")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "halog ingest: option '%s' needs a value\n%s", a,
					ingest_usage);
				return HALOG_EXIT_USAGE;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--db")) {
				db = v;
			} else if (!strcmp(a, "--log-format")) {
				fmt = v;
			} else {
				int64_t n;
				if (parse_int64(v, 1, 10000000, &n)) {
					fprintf(stderr,
						"halog ingest: --batch: '%s' is not a number of "
						"lines"
						" (1..10000000)\n",
						v);
					return HALOG_EXIT_USAGE;
				}
				batch = (size_t)n;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "halog ingest: unknown option '%s'\n%s", a, ingest_usage);
			return HALOG_EXIT_USAGE;
		} else {
			break;
		}
	}
	nfiles = argc - i;
	if (!db)
		db = store_default_path();

	struct logparser *lp = logparser_new(fmt, err, sizeof(err));
	if (!lp) {
		fprintf(stderr, "halog ingest: --log-format: %s\n", err);
		return HALOG_EXIT_USAGE;
	}
	struct store *st = store_open(db, STORE_CREATE, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "halog ingest: %s\n", err);
		logparser_free(lp);
		return HALOG_EXIT_ERR;
	}
	struct ingest_stats stats;
	memset(&stats, 0, sizeof(stats));
	double t0 = clock_mono_s();
	for (int f = 0; f < (nfiles ? nfiles : 1); f++) {
		const char *path = nfiles ? argv[i + f] : "-";
		char source[4096];
		if (!strcmp(path, "-"))
			snprintf(source, sizeof(source), "stdin");
		else
			snprintf(source, sizeof(source), "file:%s", path);
		if (ingest_path(st, lp, path, source, batch, &stats, err, sizeof(err))) {
			fprintf(stderr, "halog ingest: %s\n", err);
			ret = HALOG_EXIT_ERR;
		}
	}
	summary(&stats, clock_mono_s() - t0);
	store_close(st);
	logparser_free(lp);
	return ret;
}
