/* halog ingest [--db FILE] [--log-format STR] [--batch N] [--force] [--replay] [FILE…|-]: log
 * files or stdin into the store, remembering what it took from each input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "clock.h"
#include "listen/follow.h"
#include "listen/ingest.h"
#include "parse/logparse.h"
#include "opt.h"
#include "parse.h"
#include "store/read.h"
#include "store/chhttp.h"
#include "store/chsink.h"
#include "store/store.h"

#define INGEST_SINK_GRACE_MS 60000
/* Full blocks that may wait for the store's writer (store_set_queue): enough that the reader
 * runs on through the writer's commits and a descheduled writer on a busy machine; the
 * listener keeps the default to stay small. */
#define INGEST_QUEUE_BLOCKS 8

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

enum {
	O_DB = 1,
	O_LOG_FORMAT,
	O_BATCH,
	O_FORCE,
	O_REPLAY,
	O_RECV_TIMES,
	O_FOLLOW,
	O_FROM_END,
	O_TIMEOUT,
	O_MAX_LINES,
	O_SINK
};

static const struct opt ingest_opts[] = {
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "SQLite store (default: $HALOG_DB, else ./halog.db); 'none': no\n"
		 "local store (needs --sink)"},
	{.id = O_SINK,
	 .long_name = "sink",
	 .type = OPT_STR,
	 .arg = "URL",
	 .help = "also insert every line into ClickHouse: clickhouse://HOST:PORT/DB\n"
		 "(docs/scaling.md)"},
	{.id = O_LOG_FORMAT,
	 .long_name = "log-format",
	 .type = OPT_STR,
	 .arg = "STR",
	 .help = "HAProxy log-format string or httplog|httpslog|tcplog|clf\n"
		 "(default: detect the built-in formats line by line)"},
	{.id = O_BATCH,
	 .long_name = "batch",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = 10000000,
	 .help = "lines per transaction (default 262144)"},
	{.id = O_FORCE,
	 .long_name = "force",
	 .type = OPT_FLAG,
	 .help = "take every line again, even from inputs taken before"},
	{.id = O_REPLAY,
	 .long_name = "replay",
	 .type = OPT_FLAG,
	 .help = "store each line as received when it was logged (its\n"
		 "syslog or request time), not when it was read"},
	{.id = O_RECV_TIMES,
	 .long_name = "recv-times",
	 .type = OPT_STR,
	 .arg = "MS:STEP",
	 .flags = OPT_NO_USAGE,
	 .help = "receive times MS, MS+STEP, ... for the lines in\n"
		 "order (unix ms; for reproducible stores: tests)"},
	{.id = O_FOLLOW,
	 .short_name = 'f',
	 .long_name = "follow",
	 .type = OPT_FLAG,
	 .help = "follow the one FILE as a syslog daemon writes it, through\n"
		 "rotations, from where the last run stopped"},
	{.id = O_FROM_END,
	 .long_name = "from-end",
	 .type = OPT_FLAG,
	 .help = "with -f, a file never followed: start at its end"},
	FOLLOW_LIMIT_OPTS(O_TIMEOUT, O_MAX_LINES, INT32_MAX,
			  "with -f: stop once N lines were stored"),
	{.type = OPT_DOC, .arg = "FILE", .help = "plain or gzip; '-' or none reads stdin"},
	{0},
};

static const struct opt_cmd ingest_cmd = {
	"halog ingest",
	"[FILE...|-]",
	NULL,
	ingest_opts,
	"The store remembers what it took from each input (known by its first lines): an\n"
	"input ingested again gives only the lines it did not have then.\n",
	0};

/* Says what was left out of an input because the store had it. */
static void skipped(const char *path, const struct ingest_skip *sk, uint64_t taken)
{
	char when[64];
	time_t t = (time_t)(sk->at_ms / 1000);
	struct tm tm;
	if (sk->unknowable)
		fprintf(stderr,
			"halog ingest: %s: not remembered (too short to be recognised again)\n",
			path);
	if (!sk->lines && !sk->bytes)
		return;
	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "?");
	fprintf(stderr,
		"halog ingest: %s: skipped %llu lines (%llu bytes) already stored on %s%s; "
		"--force stores them again\n",
		path, (unsigned long long)sk->lines, (unsigned long long)sk->bytes, when,
		taken ? "" : ", nothing new");
}

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
	const char *db = NULL, *fmt = NULL, *sink_url = NULL;
	struct ingest_opts io;
	struct store *st = NULL;
	int r, nfiles = 0, ret = HALOG_EXIT_OK, follow = 0;
	struct follow_opts fo = {0, 0, &stop_signal, 0};
	char err[512];
	struct opt_parser p;

	memset(&io, 0, sizeof(io));
	opt_init(&p, &ingest_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_DB:
			db = p.val;
			break;
		case O_LOG_FORMAT:
			fmt = p.val;
			break;
		case O_FORCE:
			io.flags |= INGEST_FORCE;
			break;
		case O_REPLAY:
			io.flags |= INGEST_REPLAY;
			break;
		case O_RECV_TIMES: {
			char first[32];
			const char *colon = strchr(p.val, ':');
			size_t fl = colon ? (size_t)(colon - p.val) : 0;
			if (!colon || fl >= sizeof(first) ||
			    (memcpy(first, p.val, fl), first[fl] = '\0',
			     parse_int64(first, 0, INT64_MAX / 2, &io.recv_first)) ||
			    parse_int64(colon + 1, 1, 86400000, &io.recv_step))
				return opt_bad_value(
					&p, stderr,
					"expected MS:STEP (unix ms, then 1 to 86400000 ms)");
			break;
		} break;
		case O_BATCH:
			io.batch = (size_t)p.num;
			break;
		case O_FOLLOW:
			follow = 1;
			break;
		case O_FROM_END:
			fo.from_end = 1;
			break;
		case O_TIMEOUT:
			if (follow_timeout_option(p.val, &fo.timeout_ms))
				return opt_bad_value(&p, stderr, FOLLOW_TIMEOUT_EXPECTED);
			break;
		case O_MAX_LINES:
			fo.max_lines = p.num;
			break;
		case O_SINK: {
			struct ch_url u;
			char shown[CH_SHOWN_MAX];

			if (ch_url_parse(p.val, &u, err, sizeof(err)) < 0)
				return opt_value_error(&ingest_cmd, stderr, "--sink",
						       ch_url_redact(p.val, shown, sizeof(shown)),
						       "%s", err);
			sink_url = p.val;
			break;
		}
		case OPT_OPERAND:
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	nfiles = p.noperands;
	if (!db)
		db = store_default_path();
	if (follow && (nfiles != 1 || !strcmp(p.operands[0], "-")))
		return opt_usage_error(&ingest_cmd, stderr, "-f follows one FILE (not stdin)");
	if (follow && (io.flags || io.recv_step))
		return opt_usage_error(&ingest_cmd, stderr,
				       "-f takes neither --force, --replay nor --recv-times");
	if (!strcmp(db, "none") && !sink_url)
		return opt_usage_error(&ingest_cmd, stderr, "--db none needs --sink");
	if (follow && sink_url)
		return opt_usage_error(&ingest_cmd, stderr, "-f takes no --sink");
	if (!follow && (fo.from_end || fo.timeout_ms || fo.max_lines))
		return opt_usage_error(&ingest_cmd, stderr,
				       "--from-end, --timeout and --max-lines need -f");

	struct logparser *lp = logparser_new(fmt, err, sizeof(err));
	if (!lp) {
		return opt_value_error(&ingest_cmd, stderr, "--log-format", fmt, "%s", err);
	}
	if (strcmp(db, "none") && !(st = store_open(db, STORE_CREATE, err, sizeof(err)))) {
		fprintf(stderr, "halog ingest: %s\n", err);
		logparser_free(lp);
		return HALOG_EXIT_ERR;
	}
	if (st)
		store_set_queue(st, INGEST_QUEUE_BLOCKS);
	if (sink_url) {
		char spool[4200];

		snprintf(spool, sizeof(spool), "%s.chspool", st ? db : "halog-sink");
		if (!(io.sink = chsink_open(sink_url, spool, err, sizeof(err)))) {
			fprintf(stderr, "halog ingest: --sink: %s\n", err);
			store_close(st);
			logparser_free(lp);
			return HALOG_EXIT_ERR;
		}
		/* a file waits: ClickHouse sets the pace, not memory and the spool */
		chsink_set_wait(io.sink, 1);
	}
	struct ingest_stats stats;
	memset(&stats, 0, sizeof(stats));
	double t0 = clock_mono_s();
	if (follow) {
		struct store_reader *rd = store_reader_open(db, err, sizeof(err));
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (!rd ||
		    ingest_follow(st, rd, lp, p.operands[0], &fo, &stats, err, sizeof(err))) {
			fprintf(stderr, "halog ingest: %s\n", err);
			ret = HALOG_EXIT_ERR;
		}
		store_reader_close(rd);
		nfiles = -1; /* the files are read */
	}
	for (int f = 0; f < (nfiles ? nfiles : 1) && nfiles >= 0; f++) {
		const char *path = nfiles ? p.operands[f] : "-";
		char source[4096];
		if (!strcmp(path, "-"))
			snprintf(source, sizeof(source), "stdin");
		else
			snprintf(source, sizeof(source), "file:%s", path);
		struct ingest_skip sk;
		uint64_t before = stats.lines;
		if (ingest_path(st, lp, path, source, &io, &stats, &sk, err, sizeof(err))) {
			fprintf(stderr, "halog ingest: %s\n", err);
			ret = HALOG_EXIT_ERR;
		}
		skipped(path, &sk, stats.lines - before);
	}
	/* up to 60 s for ClickHouse to take the rest; what it does not is spooled */
	chsink_close(io.sink, INGEST_SINK_GRACE_MS, "halog ingest");
	summary(&stats, clock_mono_s() - t0);
	store_close(st);
	logparser_free(lp);
	return ret;
}
