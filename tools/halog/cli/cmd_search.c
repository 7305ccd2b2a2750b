/* `halog tail` and `halog search`: read stored lines through the store's read API (a reader
 * never blocks the writer), filtered by a query (query.h) the store evaluates, printed
 * terminal-safe or as JSON lines; tail -f polls for what was stored after the end it saw. */
#include <errno.h>
#include <signal.h>
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
#include "report/linejson.h"
#include "parse/timearg.h"
#include "store/chhttp.h"
#include "store/read.h"
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

#define SEARCH_BUDGET_MS 30000 /* --budget: a query stops after this long */

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
	int64_t budget_ms;   /* each query stops after this long (0: never) */
	const char *saved;   /* --saved NAME: the saved search, ANDed with QUERY when given */
	int raw;	     /* --raw: the stored bytes only */
	int64_t before;	     /* -B / -C: lines of the same source before each match */
	int64_t after;	     /* -A / -C: and after it */
	int context;	     /* -A, -B or -C given (even 0: "--" between groups, as grep) */
	int histogram;	     /* search --histogram: matches per bucket */
	int64_t bucket_ms;   /* --bucket (0: chosen from the window) */
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
	O_BUDGET,
	O_RAW,
	O_CONTEXT,
	O_AFTER,
	O_BEFORE,
	O_HISTOGRAM,
	O_BUCKET,
};

#define SEARCH_MAX_CONTEXT 1000 /* -A, -B, -C upper bound */

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

#define ROW_RAW                                                                                    \
	{                                                                                          \
		.id = O_RAW, .long_name = "raw", .type = OPT_FLAG,                                 \
		.help = "print each line exactly as stored, nothing else (to pipe\n"               \
			"into HAProxy's halog, grep …)"                                          \
	}
#define ROW_CONTEXT                                                                                \
	{.id = O_CONTEXT,                                                                          \
	 .short_name = 'C',                                                                        \
	 .long_name = "context",                                                                   \
	 .type = OPT_INT,                                                                          \
	 .arg = "N",                                                                               \
	 .min = 0,                                                                                 \
	 .max = SEARCH_MAX_CONTEXT,                                                                \
	 .help = "show N lines of the same source before and after each match"},                   \
		{.id = O_AFTER,                                                                    \
		 .short_name = 'A',                                                                \
		 .long_name = "after",                                                             \
		 .type = OPT_INT,                                                                  \
		 .arg = "N",                                                                       \
		 .min = 0,                                                                         \
		 .max = SEARCH_MAX_CONTEXT,                                                        \
		 .help = "show N lines of the same source after each match"},                      \
	{                                                                                          \
		.id = O_BEFORE, .short_name = 'B', .long_name = "before", .type = OPT_INT,         \
		.arg = "N", .min = 0, .max = SEARCH_MAX_CONTEXT,                                   \
		.help = "show N lines of the same source before each match"                        \
	}

#define ROW_SAVED                                                                                  \
	{                                                                                          \
		.id = O_SAVED, .long_name = "saved", .type = OPT_STR, .arg = "NAME",               \
		.help = "the query saved under NAME (halog saved add), and QUERY too\n"            \
			"when given"                                                               \
	}

#define ROW_BUDGET                                                                                 \
	{                                                                                          \
		.id = O_BUDGET, .long_name = "budget", .type = OPT_STR, .arg = "DUR",              \
		.flags = OPT_NO_USAGE,                                                             \
		.help = "stop a query that runs longer than DUR (default 30s; 0: never),\n"        \
			"exit 1 (a /regex/ can be slow on every line)"                             \
	}

static const char search_epilog[] =
	"WHEN is a duration back from now (30s, 10m, 2h, 1d), @UNIXSECONDS, or a date\n"
	"YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z|+HH:MM] (UTC without a zone).\n"
	"QUERY: words and \"phrases\" (all must match, case-insensitive), OR, -negation\n"
	"(or NOT), (groups), /regex/ and /regex/i, and fields backend: server: frontend:\n"
	"status: state: (term:) host: program: client: kind: path: method: parse: source:\n"
	"and numbers ta: tr: tw: tc: tq: bytes: retries: (ta:>500, bytes:>1M, retries:>0)\n"
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
	FOLLOW_LIMIT_OPTS(O_TIMEOUT, O_MAX_LINES, SEARCH_MAX_N,
			  "with -f: stop after printing N lines in all"),
	ROW_SINCE,
	ROW_JSON,
	ROW_SAVED,
	ROW_BUDGET,
	ROW_RAW,
	ROW_CONTEXT,
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
	{.id = O_HISTOGRAM,
	 .long_name = "histogram",
	 .type = OPT_FLAG,
	 .help = "print the number of matches per time bucket (a hit graph)"},
	{.id = O_BUCKET,
	 .long_name = "bucket",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "the --histogram's bucket: 1s, 10s, 1m, 5m, 1h … (default: from\n"
		 "the window, at most 60 buckets)"},
	ROW_JSON,
	ROW_SAVED,
	ROW_BUDGET,
	ROW_RAW,
	ROW_CONTEXT,
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
	o->budget_ms = SEARCH_BUDGET_MS;
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
		case O_TIMEOUT:
			if (follow_timeout_option(p.val, &o->timeout_ms))
				return opt_bad_value(&p, stderr, FOLLOW_TIMEOUT_EXPECTED);
			break;
		case O_MAX_LINES:
			o->max_lines = p.num;
			break;
		case O_RAW:
			o->raw = 1;
			break;
		case O_CONTEXT:
			o->before = o->after = p.num;
			o->context = 1;
			break;
		case O_AFTER:
			o->after = p.num;
			o->context = 1;
			break;
		case O_BEFORE:
			o->before = p.num;
			o->context = 1;
			break;
		case O_HISTOGRAM:
			o->histogram = 1;
			break;
		case O_BUCKET: {
			uint64_t ms;

			if (parse_duration_ms(p.val, &ms) < 0 || ms < 1000 || ms % 1000 ||
			    ms > 366 * 86400000ull)
				return opt_bad_value(&p, stderr,
						     "expected whole seconds from 1s to 366d, e.g. "
						     "10s, 1m, 1h");
			o->bucket_ms = (int64_t)ms;
			break;
		}
		case O_BUDGET: {
			uint64_t ms = 0;

			if (strcmp(p.val, "0") &&
			    (parse_duration_ms(p.val, &ms) < 0 || ms == 0 || ms > 86400000))
				return opt_bad_value(
					&p, stderr, "expected a duration up to 1d (e.g. 30s) or 0");
			o->budget_ms = (int64_t)ms;
			break;
		}
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
	if (o->raw && o->json)
		return opt_usage_error(cmd, stderr, "--raw and --json exclude each other");
	if (o->context && (o->follow || o->count || o->histogram))
		return opt_usage_error(cmd, stderr,
				       "-A, -B and -C show lines around the matches they print: "
				       "not with -f, --count or --histogram");
	if (o->histogram && o->count)
		return opt_usage_error(cmd, stderr, "--histogram and --count exclude each other");
	if (o->bucket_ms && !o->histogram)
		return opt_usage_error(cmd, stderr, "--bucket needs --histogram");
	return -1;
}

static int add_visible(struct strbuf *sb, struct lr_str v)
{
	return text_add_visible(sb, v.p ? v.p : "", v.len);
}

/* What a line shows: the receive-side fields, and the summary of its parsed fields. */
#define SEARCH_WANT (STORE_WANT_LINE | STORE_WANT_SUMMARY)

/* Formats one line into sb (reset first), newline included: text, JSON (a context line marked
 * "context":true) or, with --raw, the stored bytes. Returns 0 or -1. */
static int format_line(struct strbuf *sb, const struct store_line *ln, const struct search_opts *o,
		       int context)
{
	const struct logrec *r = &ln->rec;
	int64_t ms = ln->recv_ms;
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int msec = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	char when[64];
	int rc = 0;

	strbuf_reset(sb);
	if (o->raw) {
		rc |= strbuf_add(sb, ln->raw.p ? ln->raw.p : "", ln->raw.len);
		rc |= strbuf_addch(sb, '\n');
		return rc ? -1 : 0;
	}
	/* UTC with its Z in every format, as halog report prints and --since/--until read it:
	 * a time copied from the output finds the line */
	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	if (o->json) {
		rc |= line_json(sb, ln, 0);
		if (!rc && context && sb->len && sb->buf[sb->len - 1] == '}') {
			sb->len--;
			rc |= strbuf_addstr(sb, ",\"context\":true}");
		}
		rc |= strbuf_addch(sb, '\n');
		return rc ? -1 : 0;
	}
	rc |= strbuf_addf(sb, "%s.%03dZ ", when, msec);
	rc |= add_visible(sb, r->host.p ? r->host : ln->source);
	rc |= strbuf_addch(sb, ' ');
	if (r->tag.p) {
		rc |= add_visible(sb, r->tag);
		if (r->pid != LR_NONE)
			rc |= strbuf_addf(sb, "[%lld]", (long long)r->pid);
	} else {
		rc |= strbuf_addch(sb, '-');
	}
	rc |= strbuf_addstr(sb, ": ");
	rc |= add_visible(sb, ln->raw);
	rc |= strbuf_addch(sb, '\n');
	return rc ? -1 : 0;
}

struct searcher {
	struct store_reader *rd;
	struct query *q;
	struct strbuf out;
	const char *cmd;
};

static int budget_error(const char *cmd)
{
	fprintf(stderr,
		"halog %s: the query ran out of its time budget (--budget): narrow it (--since, "
		"--until, words before a /regex/) or raise --budget\n",
		cmd);
	return HALOG_EXIT_ERR;
}

static int store_error(struct searcher *s, const char *what)
{
	if (query_budget_spent())
		return budget_error(s->cmd);
	fprintf(stderr, "halog %s: %s: %s\n", s->cmd, what, store_reader_errmsg(s->rd));
	return HALOG_EXIT_ERR;
}

/* The lines of the options: the query, the receive-time window, up to the position `to`. */
static void base_sel(const struct searcher *s, const struct search_opts *o, struct store_pos to,
		     struct store_sel *sel)
{
	store_sel_init(sel);
	sel->query = s->q;
	sel->since_ms = o->since;
	sel->until_ms = o->until;
	sel->to = to;
	sel->want = SEARCH_WANT;
}

/* Prints the lines of sel, counting them in *printed; stops early (returning 0) once max lines
 * were printed in all (max 0: no bound) or on a signal. *truncated: the cursor left older
 * matches out (NULL: not asked). */
static int print_lines(struct searcher *s, const struct store_sel *sel, const struct search_opts *o,
		       int64_t *printed, int64_t max, int *truncated)
{
	struct store_cursor *c = store_cursor_open(s->rd, sel);
	const struct store_line *ln;
	int rc, ret = HALOG_EXIT_OK;

	if (!c)
		return store_error(s, "cannot read");
	while ((rc = store_cursor_next(c, &ln)) > 0) {
		if (format_line(&s->out, ln, o, 0) < 0) {
			fprintf(stderr, "halog %s: out of memory\n", s->cmd);
			ret = HALOG_EXIT_ERR;
			break;
		}
		if (fwrite(s->out.buf, 1, s->out.len, stdout) != s->out.len) {
			fprintf(stderr, "halog %s: cannot write: %s\n", s->cmd, strerror(errno));
			ret = HALOG_EXIT_ERR;
			break;
		}
		++*printed;
		if ((max && *printed >= max) || stop_signal)
			break;
	}
	if (rc < 0)
		ret = store_error(s, "cannot read");
	if (truncated)
		*truncated = store_cursor_truncated(c);
	store_cursor_close(c);
	return ret;
}

/* Writes sb to stdout. Returns 0, or an exit code after saying why. */
static int put(struct searcher *s, const struct strbuf *sb)
{
	if (fwrite(sb->buf, 1, sb->len, stdout) == sb->len)
		return HALOG_EXIT_OK;
	fprintf(stderr, "halog %s: cannot write: %s\n", s->cmd, strerror(errno));
	return HALOG_EXIT_ERR;
}

/* A match, kept to print it with its context: where it is, its source, its text. */
struct hit {
	struct store_pos pos;
	char *source; /* NULL: none */
	char *text;   /* format_line's */
	size_t len;
};

/* The last line printed of each source so far (-A/-B/-C print a line once). */
struct seen {
	char *source;
	struct store_pos last;
};

struct context {
	struct seen *seen;
	size_t nseen;
	const char *prev_source; /* the source of the group printed last (a seen's) */
	int printed;		 /* a group was printed */
};

static struct seen *seen_of(struct context *cx, const char *source)
{
	struct seen *n;

	for (size_t i = 0; i < cx->nseen; i++)
		if (!strcmp(cx->seen[i].source, source))
			return &cx->seen[i];
	n = realloc(cx->seen, (cx->nseen + 1) * sizeof(*n));
	if (!n)
		return NULL;
	cx->seen = n;
	n = &cx->seen[cx->nseen];
	if (!(n->source = strdup(source)))
		return NULL;
	n->last = STORE_POS_MIN;
	cx->nseen++;
	return n;
}

/* The lines of source around a match: up to `limit` before `to` (newest first) or from `from` on
 * (oldest first), any line, matching or not, in or out of the window. Calls fn per line. */
static int context_lines(struct searcher *s, const char *source, struct store_pos from,
			 struct store_pos to, enum store_order order, int64_t limit,
			 int (*fn)(struct searcher *, const struct store_line *, void *), void *arg)
{
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	int rc, ret = HALOG_EXIT_OK;

	store_sel_init(&sel);
	sel.source = source;
	sel.from = from;
	sel.to = to;
	sel.order = order;
	sel.limit = limit;
	sel.want = SEARCH_WANT;
	if (!(c = store_cursor_open(s->rd, &sel)))
		return store_error(s, "cannot read");
	while (ret == HALOG_EXIT_OK && (rc = store_cursor_next(c, &ln)) > 0)
		ret = fn(s, ln, arg);
	if (ret == HALOG_EXIT_OK && rc < 0)
		ret = store_error(s, "cannot read");
	store_cursor_close(c);
	return ret;
}

struct before {
	const struct search_opts *o;
	struct hit *lines; /* newest first */
	size_t n;
};

static int keep_before(struct searcher *s, const struct store_line *ln, void *arg)
{
	struct before *b = arg;
	struct hit *h = &b->lines[b->n];

	if (format_line(&s->out, ln, b->o, 1) < 0 || !(h->text = strbuf_detach(&s->out, &h->len)))
		return HALOG_EXIT_ERR;
	h->pos = ln->pos;
	b->n++;
	return HALOG_EXIT_OK;
}

struct after {
	const struct search_opts *o;
	struct seen *seen;
};

static int print_after(struct searcher *s, const struct store_line *ln, void *arg)
{
	struct after *a = arg;
	int rc;

	if (store_pos_cmp(ln->pos, a->seen->last) <= 0)
		return HALOG_EXIT_OK;
	if (format_line(&s->out, ln, a->o, 1) < 0)
		return HALOG_EXIT_ERR;
	if ((rc = put(s, &s->out)) == HALOG_EXIT_OK)
		a->seen->last = ln->pos;
	return rc;
}

/* Prints the match h with o->before lines of its source before it and o->after after it, each
 * line once; "--" (text) between groups that do not follow each other in their source. */
static int print_group(struct searcher *s, const struct search_opts *o, struct context *cx,
		       const struct hit *h, struct store_pos end)
{
	static const struct strbuf sep = {(char *)"--\n", 3, 0};
	const char *src = h->source ? h->source : "";
	struct seen *sn = seen_of(cx, src);
	struct before b = {o, NULL, 0};
	struct after a = {o, sn};
	int rc = HALOG_EXIT_OK, joined;

	if (!sn)
		return HALOG_EXIT_ERR;
	/* one line more than shown before it: whether the group follows the last one printed */
	if (!(b.lines = calloc((size_t)o->before + 1, sizeof(*b.lines))))
		return HALOG_EXIT_ERR;
	if (store_pos_cmp(h->pos, sn->last) > 0)
		rc = context_lines(s, h->source, STORE_POS_MIN, h->pos, STORE_NEWEST, o->before + 1,
				   keep_before, &b);
	joined = cx->printed && cx->prev_source == sn->source &&
		 (store_pos_cmp(h->pos, sn->last) <= 0 ||
		  (b.n && store_pos_cmp(b.lines[b.n - 1].pos, sn->last) <= 0));
	if (rc == HALOG_EXIT_OK && cx->printed && !joined && !o->json)
		rc = put(s, &sep);
	for (size_t i = b.n; rc == HALOG_EXIT_OK && i-- > 0;) {
		struct strbuf line = {b.lines[i].text, b.lines[i].len, 0};

		if (i == (size_t)o->before || store_pos_cmp(b.lines[i].pos, sn->last) <= 0)
			continue; /* the extra line, or printed already */
		if ((rc = put(s, &line)) == HALOG_EXIT_OK)
			sn->last = b.lines[i].pos;
	}
	if (rc == HALOG_EXIT_OK && store_pos_cmp(h->pos, sn->last) > 0) {
		struct strbuf line = {h->text, h->len, 0};

		if ((rc = put(s, &line)) == HALOG_EXIT_OK)
			sn->last = h->pos;
	}
	if (rc == HALOG_EXIT_OK && o->after)
		rc = context_lines(s, h->source, store_pos_next(h->pos), end, STORE_OLDEST,
				   o->after, print_after, &a);
	for (size_t i = 0; i < b.n; i++)
		free(b.lines[i].text);
	free(b.lines);
	cx->printed = 1;
	cx->prev_source = sn->source;
	return rc;
}

/* The newest n matches before `to` (all when n == 0), oldest first, each with the lines of its
 * source around it (-A, -B, -C). Sets *more when older matches were left out. */
static int show_last_context(struct searcher *s, const struct search_opts *o, struct store_pos to,
			     int64_t n, int64_t *printed, int *more)
{
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	struct hit *hits = NULL;
	size_t nhits = 0, ahits = 0;
	struct context cx = {NULL, 0, NULL, 0};
	int rc, ret = HALOG_EXIT_OK;

	base_sel(s, o, to, &sel);
	sel.order = STORE_TAIL;
	sel.limit = n;
	if (!(c = store_cursor_open(s->rd, &sel)))
		return store_error(s, "cannot read");
	while ((rc = store_cursor_next(c, &ln)) > 0) {
		struct hit *h;

		if (nhits == ahits) {
			size_t na = ahits ? 2 * ahits : 64;
			struct hit *nh = realloc(hits, na * sizeof(*nh));

			if (!nh)
				break;
			hits = nh;
			ahits = na;
		}
		h = &hits[nhits];
		memset(h, 0, sizeof(*h));
		h->pos = ln->pos;
		if (format_line(&s->out, ln, o, 0) < 0 ||
		    (ln->source.p && !(h->source = strndup(ln->source.p, ln->source.len))) ||
		    !(h->text = strbuf_detach(&s->out, &h->len))) {
			free(h->source);
			break;
		}
		nhits++;
	}
	if (rc > 0) {
		fprintf(stderr, "halog %s: out of memory\n", s->cmd);
		ret = HALOG_EXIT_ERR;
	} else if (rc < 0) {
		ret = store_error(s, "cannot read");
	}
	*more = store_cursor_truncated(c);
	store_cursor_close(c);
	for (size_t i = 0; i < nhits && ret == HALOG_EXIT_OK && !stop_signal; i++)
		ret = print_group(s, o, &cx, &hits[i], to);
	*printed += (int64_t)nhits;
	for (size_t i = 0; i < nhits; i++) {
		free(hits[i].source);
		free(hits[i].text);
	}
	free(hits);
	for (size_t i = 0; i < cx.nseen; i++)
		free(cx.seen[i].source);
	free(cx.seen);
	return ret;
}

/* The newest n matches before `to` (all when n == 0), printed oldest first. Sets *more when
 * older matches were left out. */
static int show_last(struct searcher *s, const struct search_opts *o, struct store_pos to,
		     int64_t n, int64_t *printed, int *more)
{
	struct store_sel sel;

	if (o->context)
		return show_last_context(s, o, to, n, printed, more);
	base_sel(s, o, to, &sel);
	sel.order = STORE_TAIL;
	sel.limit = n;
	*more = 0;
	return print_lines(s, &sel, o, printed, 0, more);
}

static void absolute_form_hint(struct searcher *s, const struct search_opts *o);

static int do_count(struct searcher *s, const struct search_opts *o, struct store_pos to)
{
	struct store_sel sel;
	int64_t n;

	base_sel(s, o, to, &sel);
	if (store_count(s->rd, &sel, &n))
		return store_error(s, "cannot count");
	/* a budget spent while counting leaves a count short of the truth: none is printed */
	if (query_budget_spent())
		return budget_error(s->cmd);
	if (o->json)
		printf("{\"count\":%lld}\n", (long long)n);
	else
		printf("%lld\n", (long long)n);
	if (!n)
		absolute_form_hint(s, o);
	return HALOG_EXIT_OK;
}

#define HIST_AUTO_BINS 60    /* --histogram without --bucket: at most this many buckets */
#define HIST_MAX_BINS 100000 /* with --bucket */
#define HIST_BAR 50	     /* the widest bar, in characters */

/* The receive time of the oldest (or newest) match before `to`, in *ms; 0, 1 when none, -1. */
static int match_time(struct searcher *s, const struct search_opts *o, struct store_pos to,
		      enum store_order order, int64_t *ms)
{
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	int rc;

	base_sel(s, o, to, &sel);
	sel.order = order;
	sel.limit = 1;
	sel.want = STORE_WANT_LINE;
	if (!(c = store_cursor_open(s->rd, &sel)))
		return -1;
	rc = store_cursor_next(c, &ln);
	if (rc > 0)
		*ms = ln->recv_ms;
	store_cursor_close(c);
	return rc < 0 ? -1 : rc == 0;
}

/* --histogram: the matches per bucket of receive time, over --since/--until or else from the
 * oldest match to the newest, as text (time, count, a bar) or one JSON object. */
static int do_histogram(struct searcher *s, const struct search_opts *o, struct store_pos to)
{
	static const int64_t steps[] = {1000,	  2000,	    5000,     10000,	30000,	 60000,
					120000,	  300000,   600000,   1800000,	3600000, 7200000,
					21600000, 43200000, 86400000, 604800000};
	int64_t since = o->since, until = o->until, bucket = o->bucket_ms, t0, *counts = NULL;
	int64_t total = 0, max = 0;
	size_t nbins;
	struct store_sel sel;
	struct strbuf sb = STRBUF_INIT;
	int rc = HALOG_EXIT_OK, none = 0, err = 0;
	char bname[32];

	if (since == INT64_MIN && (none = match_time(s, o, to, STORE_OLDEST, &since)) < 0)
		return store_error(s, "cannot read");
	if (!none && until == INT64_MAX) {
		if ((none = match_time(s, o, to, STORE_NEWEST, &until)) < 0)
			return store_error(s, "cannot read");
		until++;
	}
	if (none) { /* no match and no window to show zeros over */
		if (o->json)
			printf("{\"bucket_ms\":%lld,\"total\":0,\"bins\":[]}\n", (long long)bucket);
		else
			printf("0 matches\n");
		return HALOG_EXIT_OK;
	}
	for (size_t i = 0; !bucket && i < sizeof(steps) / sizeof(steps[0]); i++)
		if ((until - since + steps[i] - 1) / steps[i] <= HIST_AUTO_BINS ||
		    i + 1 == sizeof(steps) / sizeof(steps[0]))
			bucket = steps[i];
	t0 = since >= 0 ? since / bucket * bucket : -((-since + bucket - 1) / bucket) * bucket;
	if ((until - t0 + bucket - 1) / bucket > HIST_MAX_BINS) {
		fprintf(stderr,
			"halog search: --histogram: more than %d buckets of %llds: give a larger "
			"--bucket or a shorter window\n",
			HIST_MAX_BINS, (long long)(bucket / 1000));
		return HALOG_EXIT_USAGE;
	}
	nbins = (size_t)((until - t0 + bucket - 1) / bucket);
	if (!(counts = calloc(nbins ? nbins : 1, sizeof(*counts)))) {
		fprintf(stderr, "halog search: out of memory\n");
		return HALOG_EXIT_ERR;
	}
	base_sel(s, o, to, &sel);
	sel.since_ms = since;
	sel.until_ms = until;
	if (store_histogram(s->rd, &sel, t0, bucket, nbins, counts)) {
		free(counts);
		return store_error(s, "cannot count");
	}
	for (size_t i = 0; i < nbins; i++) {
		total += counts[i];
		if (counts[i] > max)
			max = counts[i];
	}
	if (o->json) {
		err |= strbuf_addf(&sb, "{\"bucket_ms\":%lld,\"since\":", (long long)bucket);
		err |= line_json_time(&sb, t0);
		err |= strbuf_addstr(&sb, ",\"until\":");
		err |= line_json_time(&sb, t0 + (int64_t)nbins * bucket);
		err |= strbuf_addf(&sb, ",\"total\":%lld,\"bins\":[", (long long)total);
		for (size_t i = 0; i < nbins; i++) {
			err |= strbuf_addf(&sb, "%s{\"time\":", i ? "," : "");
			err |= line_json_time(&sb, t0 + (int64_t)i * bucket);
			err |= strbuf_addf(&sb, ",\"count\":%lld}", (long long)counts[i]);
		}
		err |= strbuf_addstr(&sb, "]}\n");
	} else {
		int w = snprintf(NULL, 0, "%lld", (long long)max);

		for (size_t i = 0; i < nbins; i++) {
			int64_t t = t0 + (int64_t)i * bucket;
			time_t secs = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
			struct tm tm;
			char when[40];
			int bar = max ? (int)((counts[i] * HIST_BAR + max - 1) / max) : 0;

			if (!gmtime_r(&secs, &tm) ||
			    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
				snprintf(when, sizeof(when), "?");
			err |= strbuf_addf(&sb, "%s  %*lld  ", when, w, (long long)counts[i]);
			for (int k = 0; k < bar; k++)
				err |= strbuf_addch(&sb, '#');
			err |= strbuf_addch(&sb, '\n');
		}
		if (bucket % 86400000 == 0)
			snprintf(bname, sizeof(bname), "%lldd", (long long)(bucket / 86400000));
		else if (bucket % 3600000 == 0)
			snprintf(bname, sizeof(bname), "%lldh", (long long)(bucket / 3600000));
		else if (bucket % 60000 == 0)
			snprintf(bname, sizeof(bname), "%lldm", (long long)(bucket / 60000));
		else
			snprintf(bname, sizeof(bname), "%llds", (long long)(bucket / 1000));
		err |= strbuf_addf(&sb, "%lld matches in %zu buckets of %s\n", (long long)total,
				   nbins, bname);
	}
	free(counts);
	if (err) {
		fprintf(stderr, "halog search: out of memory\n");
		rc = HALOG_EXIT_ERR;
	} else {
		rc = put(s, &sb);
	}
	strbuf_release(&sb);
	return rc;
}

/* tail -f: the lines stored after `from`, as they come; each poll is a short read. */
static int follow(struct searcher *s, const struct search_opts *o, struct store_pos from,
		  int64_t printed)
{
	int64_t start = clock_mono_ms();
	int rc;

	while (!stop_signal) {
		struct store_pos end;
		struct store_sel sel;

		if (o->max_lines && printed >= o->max_lines)
			break;
		if (o->timeout_ms && clock_mono_ms() - start >= o->timeout_ms)
			break;
		query_budget_start(o->budget_ms); /* each round of new lines has its own */
		if (store_end(s->rd, &end))
			return store_error(s, "cannot read");
		if (store_pos_cmp(end, from) > 0) {
			base_sel(s, o, end, &sel);
			sel.from = from;
			rc = print_lines(s, &sel, o, &printed, o->max_lines, NULL);
			if (rc != HALOG_EXIT_OK)
				return rc;
			if (fflush(stdout) == EOF) {
				fprintf(stderr, "halog tail: cannot write: %s\n", strerror(errno));
				return HALOG_EXIT_ERR;
			}
			from = end;
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
	return HALOG_EXIT_OK;
}

/* A phrase "METHOD /path…" of the query found nothing: when requests with that method and path
 * were logged in absolute form ("GET https://host/path", as HTTP/2 requests are), says so on
 * stderr and suggests path:. Looks at the phrases of the query's top level (and its AND). */
static void absolute_form_hint(struct searcher *s, const struct search_opts *o)
{
	const struct query_node *r = query_root(s->q);
	const struct query_node *const *kids = &r;
	size_t nkids = 1;

	if (r->op == QUERY_AND) {
		kids = (const struct query_node *const *)r->kids;
		nkids = r->nkids;
	}
	for (size_t i = 0; i < nkids; i++) {
		const struct query_node *n = kids[i];
		const char *t = o->query.buf + (n->col ? n->col - 1 : 0);
		size_t m = 0, sp, pend;
		struct strbuf probe = STRBUF_INIT, hint = STRBUF_INIT;
		struct diag_list dl = DIAG_LIST_INIT;
		struct query *pq;
		struct store_sel sel;
		int64_t count = 0;
		char meth[16];

		if (n->op != QUERY_TEXT || *t != '"')
			continue;
		t++; /* the phrase as typed (its case matters for the path) */
		while (m < sizeof(meth) - 1 &&
		       ((t[m] >= 'A' && t[m] <= 'Z') || (t[m] >= 'a' && t[m] <= 'z')))
			m++;
		sp = m;
		if (!m || t[sp] != ' ' || t[sp + 1] != '/')
			continue;
		for (size_t k = 0; k < m; k++)
			meth[k] = (char)(t[k] >= 'a' ? t[k] - ('a' - 'A') : t[k]);
		meth[m] = '\0';
		pend = sp + 1;
		while (t[pend] && t[pend] != '"' && t[pend] != ' ' && t[pend] != '?' &&
		       t[pend] != '\\')
			pend++;
		if (strbuf_addf(&probe, "method:%s path:\"%.*s\" \"%s http\"", meth,
				(int)(pend - sp - 1), t + sp + 1, meth) < 0 ||
		    !(pq = query_parse(probe.buf, probe.len, &dl))) {
			strbuf_release(&probe);
			diag_release(&dl);
			continue;
		}
		base_sel(s, o, STORE_POS_MAX, &sel);
		sel.query = pq;
		if (!store_count(s->rd, &sel, &count) && count > 0 &&
		    strbuf_addf(&hint, "method:%s path:%.*s", meth, (int)(pend - sp - 1),
				t + sp + 1) == 0)
			fprintf(stderr,
				"halog search: no line holds \"%s %.*s\", but %lld request%s with "
				"that method and path %s logged in absolute form (\"%s "
				"https://HOST%.*s\", as HTTP/2 requests are): try '%s'\n",
				meth, (int)(pend - sp - 1), t + sp + 1, (long long)count,
				count == 1 ? "" : "s", count == 1 ? "was" : "were", meth,
				(int)(pend - sp - 1), t + sp + 1, hint.buf);
		query_free(pq);
		strbuf_release(&probe);
		strbuf_release(&hint);
		diag_release(&dl);
	}
}

/* --saved NAME: the query becomes "(SAVED) QUERY" (or SAVED alone). Returns -1 to go on, or an
 * exit code. */
static int resolve_saved(struct search_opts *o, const char *cmd)
{
	struct store_saved sv;
	struct strbuf q = STRBUF_INIT;
	char err[512], shown[CH_SHOWN_MAX];
	struct store *st = store_state_open(o->db, STORE_READONLY, err, sizeof(err));
	int rc;

	if (!st) {
		fprintf(stderr, "halog %s: %s\n", cmd, err);
		return HALOG_EXIT_ERR;
	}
	rc = store_saved_get(st, o->saved, &sv);
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "halog %s: '%s': %s\n", cmd,
				ch_url_redact(o->db, shown, sizeof(shown)), store_errmsg(st));
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
	int64_t printed = 0;
	struct store_pos end;

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
	s.rd = store_reader_open(o.db, err, sizeof(err));
	if (!s.rd) {
		fprintf(stderr, "halog %s: %s\n", s.cmd, err);
		rc = HALOG_EXIT_ERR;
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
	query_budget_start(o.budget_ms);
	if (store_end(s.rd, &end)) {
		rc = store_error(&s, "cannot read");
		goto out;
	}
	rc = HALOG_EXIT_OK;
	if (o.count) {
		rc = do_count(&s, &o, end);
		goto out;
	}
	if (o.histogram) {
		rc = do_histogram(&s, &o, end);
		goto out;
	}
	if (!tail || o.n) {
		int more;

		rc = show_last(&s, &o, end, o.n, &printed, &more);
		if (rc != HALOG_EXIT_OK)
			goto out;
		if (!tail && !printed)
			absolute_form_hint(&s, &o);
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
		rc = follow(&s, &o, end, printed);
out:
	/* a budget spent on the last rows may not have interrupted the statement: still an error */
	if (rc == HALOG_EXIT_OK && query_budget_spent())
		rc = budget_error(s.cmd);
	if (query_regex_limit_hits() && !query_budget_spent()) /* a stopped query said so */
		fprintf(stderr,
			"halog %s: warning: a regex reached its match limit on %llu lines, "
			"counted as not matching\n",
			s.cmd, (unsigned long long)query_regex_limit_hits());
	query_free(s.q);
	store_reader_close(s.rd);
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
