/* `halog tail` and `halog search`: read stored lines through a read-only connection (WAL, so the
 * writer is never blocked), filter them with a query (query.h), print them terminal-safe or as
 * JSON lines; tail -f polls for new rows by id. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli/commands.h"
#include "clock.h"
#include "json.h"
#include "parse/logrec.h"
#include "opt.h"
#include "parse.h"
#include "query/query.h"
#include "parse/timearg.h"
#include "store/state.h"
#include "store/store.h"
#include "strbuf.h"

#define SEARCH_DEFAULT_DB "halog.db"
#define TAIL_DEFAULT_LINES 10
#define SEARCH_DEFAULT_LIMIT 100
#define TAIL_POLL_MS 200       /* sleep between polls of tail -f */
#define SEARCH_MAX_N 100000000 /* -n upper bound */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct search_opts {
	const char *db;
	int follow; /* tail -f */
	int64_t n;  /* lines to show (0: all for search, none before following for tail) */
	int n_set;
	int64_t since; /* unix ms, or INT64_MIN */
	int64_t until; /* unix ms (exclusive), or INT64_MAX */
	int json;
	int have_query;	     /* a QUERY argument was given, even an empty one */
	int count;	     /* search --count */
	int64_t timeout_ms;  /* tail -f: stop after this long (0: never) */
	int64_t max_lines;   /* tail -f: stop after printing this many lines (0: never) */
	const char *saved;   /* --saved NAME: the saved search, ANDed with QUERY when given */
	struct strbuf query; /* the QUERY words joined by spaces */
};

enum {
	O_DB = 1,
	O_N,
	O_FOLLOW,
	O_TIMEOUT,
	O_MAX_LINES,
	O_SINCE,
	O_UNTIL,
	O_COUNT,
	O_JSON,
	O_SAVED,
};

#define ROW_DB                                                                                     \
	{                                                                                          \
		.id = O_DB, .long_name = "db", .type = OPT_STR, .arg = "FILE",                     \
		.help = "the store to read (default: $HALOG_DB, else ./" SEARCH_DEFAULT_DB ")"     \
	}
#define ROW_SINCE                                                                                  \
	{                                                                                          \
		.id = O_SINCE, .long_name = "since", .type = OPT_STR, .arg = "WHEN",               \
		.help = "only lines received at or after WHEN"                                     \
	}
#define ROW_JSON                                                                                   \
	{                                                                                          \
		.id = O_JSON, .long_name = "json", .type = OPT_FLAG,                               \
		.help = "one JSON object per line"                                                 \
	}

#define ROW_SAVED                                                                                  \
	{                                                                                          \
		.id = O_SAVED, .long_name = "saved", .type = OPT_STR, .arg = "NAME",               \
		.help = "the query saved under NAME (halog saved add), and QUERY too\n"            \
			"when given"                                                               \
	}

static const char search_epilog[] =
	"WHEN is a duration back from now (30s, 10m, 2h, 1d), @UNIXSECONDS, or a date\n"
	"YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z|+HH:MM] (UTC without a zone).\n"
	"QUERY: words and \"phrases\" (all must match, case-insensitive), OR, -negation,\n"
	"(groups), /regex/ and /regex/i, and fields backend: server: frontend: status:\n"
	"state: host: program: client: kind: path: method: parse: source:\n"
	"(see docs/halog-search.md). Write -- before a query that starts with '-'.\n";

static const struct opt tail_opts[] = {
	ROW_DB,
	{.id = O_N,
	 .short_name = 'n',
	 .long_name = "lines",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 0,
	 .max = SEARCH_MAX_N,
	 .help = "show the last N matching lines first (default 10)"},
	{.id = O_FOLLOW,
	 .short_name = 'f',
	 .long_name = "follow",
	 .type = OPT_FLAG,
	 .help = "then print new matching lines as they arrive"},
	{.id = O_TIMEOUT,
	 .long_name = "timeout",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "with -f: stop after DUR (e.g. 30s)"},
	{.id = O_MAX_LINES,
	 .long_name = "max-lines",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = SEARCH_MAX_N,
	 .help = "with -f: stop after printing N lines in all"},
	ROW_SINCE,
	ROW_JSON,
	ROW_SAVED,
	{0},
};

static const struct opt search_opts[] = {
	ROW_DB,
	{.id = O_N,
	 .short_name = 'n',
	 .long_name = "limit",
	 .type = OPT_INT,
	 .arg = "LIMIT",
	 .min = 0,
	 .max = SEARCH_MAX_N,
	 .help = "show the newest LIMIT matches (default 100, 0 for all)"},
	ROW_SINCE,
	{.id = O_UNTIL,
	 .long_name = "until",
	 .type = OPT_STR,
	 .arg = "WHEN",
	 .help = "only lines received before WHEN"},
	{.id = O_COUNT,
	 .long_name = "count",
	 .type = OPT_FLAG,
	 .help = "print the number of matching lines only"},
	ROW_JSON,
	ROW_SAVED,
	{0},
};

static const struct opt_cmd tail_cmd = {"halog tail", "[QUERY...]",  NULL,
					tail_opts,    search_epilog, OPT_CMD_WORDS};
static const struct opt_cmd search_cmd = {"halog search", "QUERY...",	 NULL,
					  search_opts,	  search_epilog, OPT_CMD_WORDS};

/* Parses argv into o. Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, int tail, struct search_opts *o)
{
	int64_t now = clock_wall_ms();
	const struct opt_cmd *cmd = tail ? &tail_cmd : &search_cmd;
	struct opt_parser p;
	int r;

	o->db = getenv("HALOG_DB");
	if (!o->db || !*o->db)
		o->db = SEARCH_DEFAULT_DB;
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->n = tail ? TAIL_DEFAULT_LINES : SEARCH_DEFAULT_LIMIT;
	opt_init(&p, cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_DB:
			o->db = p.val;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_COUNT:
			o->count = 1;
			break;
		case O_FOLLOW:
			o->follow = 1;
			break;
		case O_N:
			o->n = p.num;
			o->n_set = 1;
			break;
		case O_SINCE:
		case O_UNTIL: {
			int64_t ms;

			if (timearg_parse(p.val, now, &ms) < 0)
				return opt_bad_value(
					&p, stderr,
					"expected e.g. 10m, 2h, 2026-11-24T06:00:00Z or "
					"@1700000000");
			if (r == O_SINCE)
				o->since = ms;
			else
				o->until = ms;
			break;
		}
		case O_TIMEOUT: {
			uint64_t ms;

			if (parse_duration_ms(p.val, &ms) < 0 || ms == 0 || ms > INT64_MAX / 2)
				return opt_bad_value(&p, stderr, "expected a duration, e.g. 30s");
			o->timeout_ms = (int64_t)ms;
			break;
		}
		case O_MAX_LINES:
			o->max_lines = p.num;
			break;
		case O_SAVED: {
			const char *why;

			if (!state_name_valid(p.val, &why))
				return opt_bad_value(&p, stderr, "%s", why);
			o->saved = p.val;
			break;
		}
		case OPT_OPERAND:
			o->have_query = 1;
			if ((o->query.len && strbuf_addch(&o->query, ' ') < 0) ||
			    strbuf_addstr(&o->query, p.val) < 0) {
				fprintf(stderr, "halog %s: out of memory\n", argv[0]);
				return HALOG_EXIT_ERR;
			}
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!tail && !o->have_query && !o->saved) {
		return opt_usage_error(cmd, stderr, "missing QUERY ('' matches every line)");
	}
	if (!tail && o->since != INT64_MIN && o->until != INT64_MAX && o->until <= o->since) {
		return opt_usage_error(cmd, stderr, "--until is not after --since");
	}
	if (tail && !o->follow && (o->timeout_ms || o->max_lines)) {
		return opt_usage_error(cmd, stderr, "--timeout and --max-lines need -f");
	}
	return -1;
}

/* Columns of every SELECT below, in this order. */
#define ROW_COLS                                                                                   \
	"l.id, l.recv_ms, l.source, l.host, l.program, l.pid, l.kind, l.raw, r.frontend, "         \
	"r.backend, r.server, r.status, r.term, r.client_ip, e.proxy, e.server, e.state"
enum {
	C_ID,
	C_RECV,
	C_SOURCE,
	C_HOST,
	C_PROGRAM,
	C_PID,
	C_KIND,
	C_RAW,
	C_FRONTEND,
	C_BACKEND,
	C_SERVER,
	C_STATUS,
	C_TERM,
	C_CLIENT,
	C_EV_PROXY,
	C_EV_SERVER,
	C_EV_STATE,
};

static const char row_from[] = " FROM lines l LEFT JOIN requests r ON r.line_id = l.id"
			       " LEFT JOIN events e ON e.line_id = l.id";

static int add_visible_col(struct strbuf *sb, sqlite3_stmt *st, int col)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	return text_add_visible(sb, p ? p : "", (size_t)n);
}

static int add_json_col(struct strbuf *sb, sqlite3_stmt *st, int col, const char *key)
{
	int t = sqlite3_column_type(st, col);

	if (t == SQLITE_NULL)
		return 0;
	if (strbuf_addch(sb, ',') < 0 || json_add_key(sb, key) < 0)
		return -1;
	if (t == SQLITE_INTEGER)
		return json_add_i64(sb, sqlite3_column_int64(st, col));
	{
		const void *p = sqlite3_column_blob(st, col);

		return json_add_str(sb, p ? p : "", (size_t)sqlite3_column_bytes(st, col));
	}
}

/* Formats the current row into sb (reset first), newline included. Returns 0 or -1. */
static int format_row(struct strbuf *sb, sqlite3_stmt *st, int json)
{
	int64_t ms = sqlite3_column_int64(st, C_RECV);
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int msec = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	char when[64];
	int rc = 0;

	strbuf_reset(sb);
	if (json) {
		int kind = sqlite3_column_int(st, C_KIND);

		if (!gmtime_r(&secs, &tm) ||
		    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
			snprintf(when, sizeof(when), "?");
		rc |= strbuf_addstr(sb, "{\"id\":");
		rc |= json_add_i64(sb, sqlite3_column_int64(st, C_ID));
		rc |= strbuf_addf(sb, ",\"recv_ms\":%lld,\"time\":\"%s.%03dZ\"", (long long)ms,
				  when, msec);
		rc |= add_json_col(sb, st, C_SOURCE, "source");
		rc |= add_json_col(sb, st, C_HOST, "host");
		rc |= add_json_col(sb, st, C_PROGRAM, "program");
		rc |= add_json_col(sb, st, C_PID, "pid");
		rc |= strbuf_addstr(sb, ",\"kind\":");
		rc |= json_add_str(sb, lr_kind_name((enum lr_kind)kind),
				   strlen(lr_kind_name((enum lr_kind)kind)));
		rc |= add_json_col(sb, st, C_FRONTEND, "frontend");
		rc |= add_json_col(sb, st, C_BACKEND, "backend");
		rc |= add_json_col(sb, st, C_SERVER, "server");
		rc |= add_json_col(sb, st, C_STATUS, "status");
		rc |= add_json_col(sb, st, C_TERM, "term");
		rc |= add_json_col(sb, st, C_CLIENT, "client_ip");
		rc |= add_json_col(sb, st, C_EV_PROXY, "proxy");
		rc |= add_json_col(sb, st, C_EV_SERVER, "event_server");
		rc |= add_json_col(sb, st, C_EV_STATE, "state");
		rc |= add_json_col(sb, st, C_RAW, "raw");
		rc |= strbuf_addstr(sb, "}\n");
		return rc ? -1 : 0;
	}
	if (!localtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	rc |= strbuf_addf(sb, "%s.%03d ", when, msec);
	rc |= add_visible_col(sb, st,
			      sqlite3_column_type(st, C_HOST) != SQLITE_NULL ? C_HOST : C_SOURCE);
	rc |= strbuf_addch(sb, ' ');
	if (sqlite3_column_type(st, C_PROGRAM) != SQLITE_NULL) {
		rc |= add_visible_col(sb, st, C_PROGRAM);
		if (sqlite3_column_type(st, C_PID) != SQLITE_NULL)
			rc |= strbuf_addf(sb, "[%lld]", (long long)sqlite3_column_int64(st, C_PID));
	} else {
		rc |= strbuf_addch(sb, '-');
	}
	rc |= strbuf_addstr(sb, ": ");
	rc |= add_visible_col(sb, st, C_RAW);
	rc |= strbuf_addch(sb, '\n');
	return rc ? -1 : 0;
}

struct searcher {
	struct store *st;
	sqlite3 *db;
	struct query *q;
	struct strbuf out;
	const char *cmd;
	const char *path;
};

static int db_error(struct searcher *s, const char *what)
{
	fprintf(stderr, "halog %s: '%s': %s: %s\n", s->cmd, s->path, what, sqlite3_errmsg(s->db));
	return HALOG_EXIT_ERR;
}

/* Binds v to the parameter called name when the statement has it. Returns an SQLite code. */
static int bind_named(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	return i ? sqlite3_bind_int64(st, i, v) : SQLITE_OK;
}

/* Prepares "SELECT cols FROM … WHERE (query) AND l.id > :after AND l.id <= :upto AND
 * l.recv_ms >= :since AND l.recv_ms < :until" (the time bounds only when set) with an
 * ORDER/LIMIT tail, wrapped between outer and outer_end, and binds it. Returns 0, or -1 after
 * printing why. */
static int prepare(struct searcher *s, const char *outer, const char *cols, const char *tail,
		   const char *outer_end, const struct search_opts *o, int64_t after, int64_t upto,
		   int64_t limit, sqlite3_stmt **out)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	*out = NULL;
	if (strbuf_addf(&sql, "%sSELECT %s%s WHERE ", outer, cols, row_from) < 0 ||
	    query_sql(s->q, &sql) < 0 ||
	    strbuf_addstr(&sql, " AND l.id > :after AND l.id <= :upto") < 0 ||
	    (o->since != INT64_MIN && strbuf_addstr(&sql, " AND l.recv_ms >= :since") < 0) ||
	    (o->until != INT64_MAX && strbuf_addstr(&sql, " AND l.recv_ms < :until") < 0) ||
	    strbuf_addstr(&sql, tail) < 0 || strbuf_addstr(&sql, outer_end) < 0) {
		fprintf(stderr, "halog %s: out of memory\n", s->cmd);
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, sql.buf, (int)sql.len, &st, NULL) != SQLITE_OK) {
		db_error(s, "cannot prepare the query");
		goto out;
	}
	if (query_bind(s->q, st) != SQLITE_OK || bind_named(st, ":after", after) ||
	    bind_named(st, ":upto", upto) || bind_named(st, ":since", o->since) ||
	    bind_named(st, ":until", o->until) || bind_named(st, ":limit", limit)) {
		db_error(s, "cannot bind the query");
		goto out;
	}
	*out = st;
	st = NULL;
	rc = 0;
out:
	sqlite3_finalize(st);
	strbuf_release(&sql);
	return rc;
}

/* Steps st to the end, printing rows and counting them in *printed. Stops early (returning 0)
 * once max rows were printed in all (max 0: no bound). When want >= 0, st has a last column
 * with its row count, and a first row beyond want is skipped (setting *more). */
static int print_rows(struct searcher *s, sqlite3_stmt *st, const struct search_opts *o,
		      int64_t *printed, int64_t max, int64_t want, int *more)
{
	int rc, first = 1;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (first && want >= 0 &&
		    sqlite3_column_int64(st, sqlite3_column_count(st) - 1) > want) {
			first = 0;
			*more = 1;
			continue;
		}
		first = 0;
		if (format_row(&s->out, st, o->json) < 0) {
			fprintf(stderr, "halog %s: out of memory\n", s->cmd);
			return HALOG_EXIT_ERR;
		}
		if (fwrite(s->out.buf, 1, s->out.len, stdout) != s->out.len) {
			fprintf(stderr, "halog %s: cannot write: %s\n", s->cmd, strerror(errno));
			return HALOG_EXIT_ERR;
		}
		++*printed;
		if (max && *printed >= max)
			return HALOG_EXIT_OK;
		if (stop_signal)
			return HALOG_EXIT_OK;
	}
	if (rc != SQLITE_DONE)
		return db_error(s, "cannot read");
	return HALOG_EXIT_OK;
}

static int max_id(struct searcher *s, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(id), 0) FROM lines", -1, &st, NULL))
		return db_error(s, "cannot read");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? HALOG_EXIT_OK : db_error(s, "cannot read");
}

/* The newest n matches with id <= upto (all when n == 0), printed oldest first. Sets *more
 * when older matches were left out. */
static int show_last(struct searcher *s, const struct search_opts *o, int64_t upto, int64_t n,
		     int64_t *printed, int *more)
{
	sqlite3_stmt *st;
	int rc;

	*more = 0;
	if (n) {
		/* the newest n+1 inside, oldest first outside; an extra row only tells that
		 * there were more, so it is skipped */
		rc = prepare(s, "SELECT *, count(*) OVER () FROM (", ROW_COLS,
			     " ORDER BY l.id DESC LIMIT :limit", ") ORDER BY 1", o, 0, upto, n + 1,
			     &st);
	} else {
		rc = prepare(s, "", ROW_COLS, " ORDER BY l.id", "", o, 0, upto, 0, &st);
	}
	if (rc < 0)
		return HALOG_EXIT_ERR;
	rc = print_rows(s, st, o, printed, 0, n ? n : -1, more);
	sqlite3_finalize(st);
	return rc;
}

static int do_count(struct searcher *s, const struct search_opts *o, int64_t upto)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "", "count(*)", "", "", o, 0, upto, 0, &st) < 0)
		return HALOG_EXIT_ERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (o->json)
			printf("{\"count\":%lld}\n", (long long)sqlite3_column_int64(st, 0));
		else
			printf("%lld\n", (long long)sqlite3_column_int64(st, 0));
		rc = HALOG_EXIT_OK;
	} else {
		rc = db_error(s, "cannot count");
	}
	sqlite3_finalize(st);
	return rc;
}

static int follow(struct searcher *s, const struct search_opts *o, int64_t after, int64_t printed)
{
	int64_t start = clock_mono_ms();
	sqlite3_stmt *st;
	int rc;

	/* one statement re-run with new bounds: only the bound ids change */
	if (prepare(s, "", ROW_COLS, " ORDER BY l.id", "", o, after, after, 0, &st) < 0)
		return HALOG_EXIT_ERR;
	while (!stop_signal) {
		int64_t upto;

		if (o->max_lines && printed >= o->max_lines)
			break;
		if (o->timeout_ms && clock_mono_ms() - start >= o->timeout_ms)
			break;
		if ((rc = max_id(s, &upto)) != HALOG_EXIT_OK)
			goto out;
		if (upto > after) {
			sqlite3_reset(st);
			if (sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":after"),
					       after) ||
			    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":upto"),
					       upto)) {
				rc = db_error(s, "cannot bind the query");
				goto out;
			}
			rc = print_rows(s, st, o, &printed, o->max_lines, -1, NULL);
			sqlite3_reset(st); /* ends the read transaction */
			if (rc != HALOG_EXIT_OK)
				goto out;
			if (fflush(stdout) == EOF) {
				fprintf(stderr, "halog tail: cannot write: %s\n", strerror(errno));
				rc = HALOG_EXIT_ERR;
				goto out;
			}
			after = upto;
			continue; /* more may have arrived while printing */
		}
		{
			int64_t wait = TAIL_POLL_MS;

			if (o->timeout_ms) {
				int64_t left = o->timeout_ms - (clock_mono_ms() - start);

				if (left < wait)
					wait = left > 0 ? left : 0;
			}
			clock_sleep_ms(wait);
		}
	}
	rc = HALOG_EXIT_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

/* --saved NAME: the query becomes "(SAVED) QUERY" (or SAVED alone). Returns -1 to go on, or an
 * exit code. */
static int resolve_saved(struct search_opts *o, const char *cmd)
{
	struct store_saved sv;
	struct strbuf q = STRBUF_INIT;
	char err[512];
	struct store *st = store_open(o->db, STORE_READONLY, err, sizeof(err));
	int rc;

	if (!st) {
		fprintf(stderr, "halog %s: %s\n", cmd, err);
		return HALOG_EXIT_ERR;
	}
	rc = store_saved_get(st, o->saved, &sv);
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "halog %s: '%s': %s\n", cmd, o->db, store_errmsg(st));
		else
			fprintf(stderr, "halog %s: no saved search '%s' (halog saved list)\n", cmd,
				o->saved);
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	store_close(st);
	if (o->query.len && sv.query[strspn(sv.query, " \t\r\n")])
		rc = strbuf_addf(&q, "(%s) %s", sv.query, o->query.buf);
	else if (o->query.len)
		rc = strbuf_addstr(&q, o->query.buf);
	else
		rc = strbuf_addstr(&q, sv.query);
	store_saved_release(&sv);
	if (rc < 0) {
		strbuf_release(&q);
		fprintf(stderr, "halog %s: out of memory\n", cmd);
		return HALOG_EXIT_ERR;
	}
	strbuf_release(&o->query);
	o->query = q;
	o->have_query = 1;
	return -1;
}

static int run(int argc, char **argv, int tail)
{
	struct search_opts o;
	struct searcher s;
	struct diag_list dl = DIAG_LIST_INIT;
	char err[512];
	int rc;
	int64_t upto, printed = 0;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	strbuf_init(&o.query);
	strbuf_init(&s.out);
	s.cmd = tail ? "tail" : "search";
	rc = parse_args(argc, argv, tail, &o);
	if (rc >= 0)
		goto out;
	if (o.saved && (rc = resolve_saved(&o, s.cmd)) >= 0)
		goto out;
	dl.max = 20;
	s.q = query_parse(o.query.buf, o.query.len, &dl);
	if (!s.q) {
		query_print_errors(&dl, o.query.buf, o.query.len, stderr, "halog");
		rc = HALOG_EXIT_USAGE;
		goto out;
	}
	s.path = o.db;
	s.st = store_open(o.db, STORE_READONLY, err, sizeof(err));
	if (!s.st) {
		fprintf(stderr, "halog %s: %s\n", s.cmd, err);
		rc = HALOG_EXIT_ERR;
		goto out;
	}
	s.db = store_db(s.st);
	if (query_register(s.db) != SQLITE_OK) {
		rc = db_error(&s, "cannot register functions");
		goto out;
	}
	if (tail && o.follow) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	if ((rc = max_id(&s, &upto)) != HALOG_EXIT_OK)
		goto out;
	if (o.count) {
		rc = do_count(&s, &o, upto);
		goto out;
	}
	if (!tail || o.n) {
		int more;

		rc = show_last(&s, &o, upto, o.n, &printed, &more);
		if (rc != HALOG_EXIT_OK)
			goto out;
		if (more && !tail)
			fprintf(stderr,
				"halog search: showing the newest %lld matches (-n 0 shows all, "
				"--count counts them)\n",
				(long long)o.n);
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "halog %s: cannot write: %s\n", s.cmd, strerror(errno));
		rc = HALOG_EXIT_ERR;
		goto out;
	}
	if (tail && o.follow)
		rc = follow(&s, &o, upto, printed);
out:
	if (query_regex_limit_hits())
		fprintf(stderr,
			"halog %s: warning: a regex reached its match limit on %llu lines, "
			"counted as not matching\n",
			s.cmd, (unsigned long long)query_regex_limit_hits());
	query_free(s.q);
	store_close(s.st);
	strbuf_release(&s.out);
	strbuf_release(&o.query);
	diag_release(&dl);
	return rc;
}

int cmd_tail(int argc, char **argv)
{
	return run(argc, argv, 1);
}

int cmd_search(int argc, char **argv)
{
	return run(argc, argv, 0);
}
