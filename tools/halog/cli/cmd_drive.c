/* `halog drive`: sends N requests through a load balancer, tallies who answered, waits until the
 * balancer's log lines for them are in the store, then shows the stored rows of exactly that
 * window and checks the shares against the weights (exit 3): the CI proof that balancing works. */
#include <curl/curl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "clock.h"
#include "drive/drive.h"
#include "report/invweights.h"
#include "json.h"
#include "opt.h"
#include "parse.h"
#include "strbuf.h"

#define DRIVE_MAX_PATHS 256
#define DRIVE_MAX_HEADERS 64
#define DRIVE_POLL_MS 100
#define DRIVE_MAX_ROWS 4096 /* (backend, server) pairs shown from the window */

enum {
	O_N = 1,
	O_C,
	O_HEADER,
	O_PATH,
	O_RATE,
	O_FRESH_CONN,
	O_REQUEST_TIMEOUT,
	O_DB,
	O_TIMEOUT,
	O_SETTLE_MS,
	O_BACKEND,
	O_INVENTORY,
	O_ENV,
	O_WEIGHTS,
	O_TOLERANCE,
	O_REPORT,
	O_FORMAT,
	O_QUIET,
};

static const char *const formats[] = {"text", "json", "csv", "markdown", "md", NULL};

static const struct opt drive_opts[] = {
	{.id = O_N,
	 .short_name = 'n',
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = DRIVE_MAX_N,
	 .help = "requests to send (default 100)"},
	{.id = O_C,
	 .short_name = 'c',
	 .type = OPT_INT,
	 .arg = "C",
	 .min = 1,
	 .max = DRIVE_MAX_C,
	 .help = "requests in flight (default 10)"},
	{.id = O_HEADER,
	 .short_name = 'H',
	 .type = OPT_STR,
	 .arg = "'Name: value'",
	 .flags = OPT_MANY,
	 .help = "extra request header (repeatable), e.g. -H 'Host: shop.test'"},
	{.id = O_PATH,
	 .long_name = "path",
	 .type = OPT_STR,
	 .arg = "P",
	 .flags = OPT_MANY,
	 .help = "path appended to URL; repeat to rotate through several"},
	{.id = O_RATE,
	 .long_name = "rate",
	 .type = OPT_NUM,
	 .arg = "R",
	 .min = 0,
	 .max = 1000000,
	 .help = "start at most R requests per second (default: no limit)"},
	{.id = O_FRESH_CONN,
	 .long_name = "fresh-conn",
	 .type = OPT_FLAG,
	 .help = "open a new connection for every request (no keep-alive)"},
	{.id = O_REQUEST_TIMEOUT,
	 .long_name = "request-timeout",
	 .type = OPT_INT,
	 .arg = "S",
	 .min = 1,
	 .max = 3600,
	 .help = "per request, seconds (default 10)"},
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the store `halog listen` writes: wait for the lines, show them"},
	{.id = O_TIMEOUT,
	 .long_name = "timeout",
	 .type = OPT_INT,
	 .arg = "S",
	 .min = 1,
	 .max = 3600,
	 .help = "longest wait for the log lines, seconds (default 10)"},
	{.id = O_SETTLE_MS,
	 .long_name = "settle-ms",
	 .type = OPT_INT,
	 .arg = "MS",
	 .min = 0,
	 .max = 600000,
	 .help = "stop waiting once no new line arrived for MS (default 2000)"},
	{.id = O_BACKEND,
	 .long_name = "backend",
	 .type = OPT_STR,
	 .arg = "B",
	 .help = "with --db: only backend B in the table and the check"},
	{.id = O_INVENTORY,
	 .long_name = "inventory",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "with --db: expected shares from the inventory's weights"},
	{.id = O_ENV,
	 .short_name = 'e',
	 .long_name = "env",
	 .type = OPT_STR,
	 .arg = "ENV",
	 .help = "the inventory's environment overlay"},
	{.id = O_WEIGHTS,
	 .long_name = "weights",
	 .type = OPT_STR,
	 .arg = "a=1,b=2",
	 .help = "expected shares by X-Server name, checked on the answers"},
	{.id = O_TOLERANCE,
	 .long_name = "tolerance",
	 .type = OPT_NUM,
	 .arg = "PCT",
	 .min = 0,
	 .max = 100,
	 .help = "largest deviation of a share from the expected one, in\n"
		 "percentage points (default 10); beyond it, exit 3"},
	{.id = O_REPORT,
	 .long_name = "report",
	 .type = OPT_FLAG,
	 .help = "with --db: also print `halog report` for the window (its\n"
		 "numbers cover whole minutes)"},
	{.id = O_FORMAT,
	 .long_name = "format",
	 .type = OPT_ENUM,
	 .arg = "F",
	 .values = formats,
	 .help = "text (default), json, csv or markdown"},
	{.id = O_QUIET,
	 .long_name = "quiet",
	 .type = OPT_FLAG,
	 .help = "text: only the summary line and the balance verdicts"},
	{0},
};

static const struct opt_cmd drive_cmd = {
	.prog = "halog drive",
	.operands = "URL",
	.intro = "Sends N requests through URL (C at a time) and counts the answers by status and "
		 "by "
		 "the\n"
		 "server that answered (X-Server header, or the first line of a 2xx body). With "
		 "--db "
		 "it\n"
		 "then waits until the balancer's log lines for them are stored, and shows the "
		 "stored "
		 "rows\n"
		 "of exactly that time window per backend and server.\n",
	.opts = drive_opts,
	.epilog = "exit: 0 ok, 1 runtime error, no answer at all or log lines missing, 2 usage,\n"
		  "      3 balance check failed\n",
};

enum drive_fmt { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_MARKDOWN };

struct drive_cli {
	struct drive_opts o;
	const char *paths[DRIVE_MAX_PATHS];
	const char *headers[DRIVE_MAX_HEADERS];
	const char *db, *backend, *inventory, *env, *weights, *format;
	enum drive_fmt fmt;
	int64_t timeout_s, settle_ms;
	double tol;
	int quiet, report;
};

/* One (backend, server) of the window, read from the requests table. */
struct win_row {
	char *backend, *server; /* owned */
	long n, ok, c4xx, c5xx, noresp, retried, redisp;
	int32_t p50, p95, p99, max; /* Ta in ms; -1 when no value */
	int special;		    /* <NOSRV>, <STATS>…: outside the balance */
	double weight;		    /* from the inventory; -1 unknown */
	double share;		    /* % of its backend's requests to real servers */
	struct drive_share sh;	    /* filled by the check */
};

struct win {
	struct win_row *rows;
	size_t n;
	long total;
};

/* The verdict for one backend (or for the X-Server tally: backend NULL). */
struct verdict {
	const char *backend; /* borrowed; NULL for the client-side tally */
	int result;	     /* drive_balance(): 1, 0, -1 */
	double max_dev;
	const char *worst; /* borrowed */
};

/* Fills cli from argv. Returns 0 to go on, or the exit code (after --help: -1, exit 0). */
static int parse_args(int argc, char **argv, struct drive_cli *cli)
{
	static const enum drive_fmt fmt_of[] = {FMT_TEXT, FMT_JSON, FMT_CSV, FMT_MARKDOWN,
						FMT_MARKDOWN};
	struct opt_parser p;
	int r;

	memset(cli, 0, sizeof(*cli));
	cli->o.n = 100;
	cli->o.concurrency = 10;
	cli->o.timeout_ms = 10000;
	cli->o.paths = cli->paths;
	cli->o.headers = cli->headers;
	cli->timeout_s = 10;
	cli->settle_ms = 2000;
	cli->tol = 10.0;
	cli->format = "text";
	opt_init(&p, &drive_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_N:
			cli->o.n = (long)p.num;
			break;
		case O_C:
			cli->o.concurrency = (long)p.num;
			break;
		case O_HEADER:
			if (cli->o.nheaders >= DRIVE_MAX_HEADERS)
				return opt_usage_error(&drive_cmd, stderr,
						       "too many -H (at most %d)",
						       DRIVE_MAX_HEADERS);
			cli->headers[cli->o.nheaders++] = p.val;
			break;
		case O_PATH:
			if (cli->o.npaths >= DRIVE_MAX_PATHS)
				return opt_usage_error(&drive_cmd, stderr,
						       "too many --path (at most %d)",
						       DRIVE_MAX_PATHS);
			cli->paths[cli->o.npaths++] = p.val;
			break;
		case O_RATE:
			if (!(p.dbl > 0))
				return opt_bad_value(&p, stderr,
						     "expected requests per second above 0");
			cli->o.rate = p.dbl;
			break;
		case O_FRESH_CONN:
			cli->o.fresh_conn = 1;
			break;
		case O_REQUEST_TIMEOUT:
			cli->o.timeout_ms = (long)p.num * 1000;
			break;
		case O_DB:
			cli->db = p.val;
			break;
		case O_TIMEOUT:
			cli->timeout_s = p.num;
			break;
		case O_SETTLE_MS:
			cli->settle_ms = p.num;
			break;
		case O_FORMAT:
			cli->fmt = fmt_of[p.idx];
			cli->format = p.val;
			break;
		case O_BACKEND:
			cli->backend = p.val;
			break;
		case O_INVENTORY:
			cli->inventory = p.val;
			break;
		case O_ENV:
			cli->env = p.val;
			break;
		case O_WEIGHTS:
			cli->weights = p.val;
			break;
		case O_TOLERANCE:
			cli->tol = p.dbl;
			break;
		case O_REPORT:
			cli->report = 1;
			break;
		case O_QUIET:
			cli->quiet = 1;
			break;
		case OPT_OPERAND:
			if (cli->o.url)
				return opt_usage_error(&drive_cmd, stderr,
						       "unexpected argument '%s'", p.val);
			cli->o.url = p.val;
			break;
		case OPT_HELP:
			opt_help(&drive_cmd, stdout);
			return -1;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!cli->o.url)
		return opt_usage_error(&drive_cmd, stderr, "missing URL");
	if ((cli->inventory || cli->backend || cli->report) && !cli->db)
		return opt_usage_error(
			&drive_cmd, stderr,
			"--inventory, --backend and --report read the stored logs: add --db");
	if (cli->env && !cli->inventory)
		return opt_usage_error(&drive_cmd, stderr, "-e needs --inventory");
	return 0;
}

/* ---- the store ---- */

static sqlite3 *db_open(const char *path, char *err, size_t errsz)
{
	sqlite3 *db = NULL;
	struct stat sb;

	if (stat(path, &sb) == -1) {
		snprintf(err, errsz, "no such file");
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 2000);
	return db;
}

/* The newest request row id; the run's rows come after it (ids grow as lines are stored), which
 * keeps every window query a range scan on the primary key. 0 when the store is empty or absent. */
static int64_t last_row_id(const char *path)
{
	char err[256];
	sqlite3 *db = db_open(path, err, sizeof(err));
	sqlite3_stmt *st = NULL;
	int64_t id = 0;

	if (!db)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT max(line_id) FROM requests", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return id;
}

#define WIN_WHERE " FROM requests WHERE line_id > ?1 AND ts_ms BETWEEN ?2 AND ?3"

/* Request rows of the window; -1 with the SQLite message in err. */
static int64_t count_logged(sqlite3 *db, int64_t after, int64_t since, int64_t until, char *err,
			    size_t errsz)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*)" WIN_WHERE, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, until);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		snprintf(err, errsz, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return n;
}

/* Waits (bounded by --timeout) until the store holds a row for every request sent, or stops
 * growing for --settle-ms. Returns the last count, or -1 when the store could not be read
 * (message printed). */
static int64_t wait_logged(const struct drive_cli *cli, const struct drive_stats *st, int64_t after)
{
	int64_t deadline = clock_mono_ms() + cli->timeout_s * 1000, last = -1;
	int64_t last_change = clock_mono_ms();
	char err[256] = "";
	sqlite3 *db = NULL;

	for (;;) {
		int64_t n = -1, now;

		if (!db)
			db = db_open(cli->db, err, sizeof(err));
		if (db)
			n = count_logged(db, after, st->start_ms, st->end_ms, err, sizeof(err));
		now = clock_mono_ms();
		if (n != last) {
			last = n;
			last_change = now;
		}
		/* all there; or nothing new for settle-ms: what is missing is lost */
		if (n >= st->sent || (n >= 0 && now - last_change >= cli->settle_ms) ||
		    now >= deadline)
			break;
		clock_sleep_ms(DRIVE_POLL_MS);
	}
	sqlite3_close(db);
	if (last < 0)
		fprintf(stderr, "halog drive: cannot read the store '%s': %s\n", cli->db, err);
	return last;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "-");
}

static void win_release(struct win *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->rows[i].backend);
		free(w->rows[i].server);
	}
	free(w->rows);
	memset(w, 0, sizeof(*w));
}

static int32_t pick(const int32_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	if (n == 0)
		return -1;
	return v[(rank < 1 ? 1 : rank) - 1];
}

/* Reads the window's rows grouped by backend and server, with Ta percentiles. Returns 0 or -1. */
static int win_read(const char *path, const char *backend, int64_t after, int64_t since,
		    int64_t until, struct win *w, char *err, size_t errsz)
{
	static const char sql[] = "SELECT coalesce(backend, '-'), coalesce(server, '-'), status, "
				  "retries, redispatched,"
				  " t_active" WIN_WHERE " AND (?4 IS NULL OR backend = ?4)"
				  " ORDER BY 1, 2, t_active IS NULL, t_active";
	sqlite3 *db = db_open(path, err, errsz);
	sqlite3_stmt *st = NULL;
	int32_t *ta = NULL;
	size_t nta = 0, ata = 0;
	struct win_row *cur = NULL;
	int rc = -1, r;

	memset(w, 0, sizeof(*w));
	if (!db)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, until);
	if (backend)
		sqlite3_bind_text(st, 4, backend, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	for (;;) {
		const char *be, *srv;
		int64_t status;

		r = sqlite3_step(st);
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			snprintf(err, errsz, "%s", sqlite3_errmsg(db));
			goto out;
		}
		be = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		srv = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : NULL;
		if (cur &&
		    (r == SQLITE_DONE || strcmp(cur->backend, be) || strcmp(cur->server, srv))) {
			cur->p50 = pick(ta, nta, 50);
			cur->p95 = pick(ta, nta, 95);
			cur->p99 = pick(ta, nta, 99);
			cur->max = nta ? ta[nta - 1] : -1;
			nta = 0;
			cur = NULL;
		}
		if (r == SQLITE_DONE)
			break;
		if (!cur) {
			struct win_row *nr;

			if (w->n >= DRIVE_MAX_ROWS) {
				snprintf(err, errsz,
					 "more than %d backend/server pairs in the window",
					 DRIVE_MAX_ROWS);
				goto out;
			}
			nr = realloc(w->rows, (w->n + 1) * sizeof(*nr));
			if (!nr)
				goto oom;
			w->rows = nr;
			cur = &w->rows[w->n++];
			memset(cur, 0, sizeof(*cur));
			cur->backend = col_dup(st, 0);
			cur->server = col_dup(st, 1);
			cur->weight = -1;
			if (!cur->backend || !cur->server)
				goto oom;
			cur->special = cur->server[0] == '<' || !strcmp(cur->server, "-");
		}
		cur->n++;
		w->total++;
		status = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1
								   : sqlite3_column_int64(st, 2);
		if (status >= 200 && status < 400)
			cur->ok++;
		else if (status >= 400 && status < 500)
			cur->c4xx++;
		else if (status >= 500)
			cur->c5xx++;
		else
			cur->noresp++;
		/* as in the report: a redispatched row counts there, not among the retries */
		if (sqlite3_column_int64(st, 4) > 0)
			cur->redisp++;
		else if (sqlite3_column_int64(st, 3) > 0)
			cur->retried++;
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			if (nta == ata) {
				size_t na = ata ? ata * 2 : 256;
				int32_t *nt = realloc(ta, na * sizeof(*nt));

				if (!nt)
					goto oom;
				ta = nt;
				ata = na;
			}
			ta[nta++] = (int32_t)sqlite3_column_int(st, 5);
		}
	}
	/* shares within each backend, real servers only */
	for (size_t i = 0, j; i < w->n; i = j) {
		long total = 0;

		for (j = i; j < w->n && !strcmp(w->rows[j].backend, w->rows[i].backend); j++)
			total += w->rows[j].special ? 0 : w->rows[j].n;
		for (size_t k = i; k < j; k++)
			w->rows[k].share = total && !w->rows[k].special
						   ? 100.0 * (double)w->rows[k].n / (double)total
						   : 0.0;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	if (rc)
		win_release(w);
	free(ta);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* Applies the inventory's weights to the window and checks each backend it lists. Returns the
 * number of verdicts written to v (at most nv). */
static size_t check_inventory(struct win *w, const struct invweights *iw, double tol,
			      struct verdict *v, size_t nv)
{
	size_t nverd = 0;

	for (size_t i = 0; i < w->n;) {
		const struct invw_backend *ib = invweights_find(iw, w->rows[i].backend);
		struct drive_share sh[DRIVE_MAX_SERVERS];
		size_t j = i, k = 0, nsh = 0;
		long prim = 0;
		int r;

		while (j < w->n && !strcmp(w->rows[j].backend, w->rows[i].backend))
			j++;
		if (!ib || nverd >= nv) {
			i = j;
			continue;
		}
		/* backups serve only when no primary does */
		for (k = i; k < j; k++)
			for (size_t s = 0; s < ib->n; s++)
				if (!strcmp(ib->servers[s].name, w->rows[k].server) &&
				    !ib->servers[s].backup)
					prim += w->rows[k].n;
		for (k = i; k < j && nsh < DRIVE_MAX_SERVERS; k++) {
			struct win_row *row = &w->rows[k];

			if (row->special)
				continue;
			row->weight = -1;
			for (size_t s = 0; s < ib->n; s++) {
				const struct invw_server *is = &ib->servers[s];

				if (strcmp(is->name, row->server))
					continue;
				row->weight = is->maint || (is->backup != (prim == 0))
						      ? 0
						      : (double)is->weight;
			}
			memset(&sh[nsh], 0, sizeof(sh[nsh]));
			sh[nsh].name = row->server;
			sh[nsh].n = row->n;
			sh[nsh].weight = row->weight;
			nsh++;
		}
		/* listed servers that served nothing in the window still count (with 0) */
		for (size_t s = 0; s < ib->n && nsh < DRIVE_MAX_SERVERS; s++) {
			const struct invw_server *is = &ib->servers[s];
			int seen = 0;

			for (k = i; k < j; k++)
				seen |= !strcmp(w->rows[k].server, is->name);
			if (seen || is->slot)
				continue;
			memset(&sh[nsh], 0, sizeof(sh[nsh]));
			sh[nsh].name = is->name;
			sh[nsh].weight =
				is->maint || (is->backup != (prim == 0)) ? 0 : (double)is->weight;
			nsh++;
		}
		r = drive_balance(sh, nsh, tol);
		v[nverd].backend = w->rows[i].backend;
		v[nverd].result = r;
		v[nverd].max_dev = 0;
		v[nverd].worst = NULL;
		for (size_t s = 0; s < nsh; s++) {
			for (k = i; k < j; k++)
				if (!strcmp(w->rows[k].server, sh[s].name))
					w->rows[k].sh = sh[s];
			if (fabs(sh[s].deviation) > v[nverd].max_dev || !v[nverd].worst) {
				v[nverd].max_dev = fabs(sh[s].deviation);
				v[nverd].worst = sh[s].name;
			}
			if (sh[s].n == 0 && sh[s].bad) {
				/* not in the window's rows: name it in the verdict */
				v[nverd].worst = sh[s].name;
				v[nverd].max_dev = fabs(sh[s].deviation);
			}
		}
		nverd++;
		i = j;
	}
	return nverd;
}

/* ---- output ---- */

static void add_status_list(struct strbuf *sb, const struct drive_stats *st)
{
	int first = 1;

	for (int code = 100; code < 600; code++) {
		if (!st->by_status[code])
			continue;
		strbuf_addf(sb, "%s%d: %ld", first ? "" : ", ", code, st->by_status[code]);
		first = 0;
	}
	for (size_t i = 0; i < st->nerrs; i++) {
		strbuf_addf(sb, "%sno answer (%s): %ld", first ? "" : ", ",
			    curl_easy_strerror((CURLcode)st->errs[i].code), st->errs[i].n);
		first = 0;
	}
}

static void vis(struct strbuf *sb, const char *s)
{
	text_add_visible(sb, s, strlen(s));
}

static void summary_line(struct strbuf *sb, const struct drive_cli *cli,
			 const struct drive_stats *st, int64_t logged)
{
	strbuf_addf(sb, "drive: sent %ld, ok %ld, failed %ld (", st->sent, st->ok, st->failed);
	add_status_list(sb, st);
	strbuf_addch(sb, ')');
	if (cli->db) {
		strbuf_addf(sb, ", logged %lld of %ld", (long long)(logged < 0 ? 0 : logged),
			    st->sent);
		if (logged > st->sent)
			strbuf_addf(sb, " (%lld more from other clients)",
				    (long long)(logged - st->sent));
	}
	strbuf_addf(sb, ", in %.2f s\n", (double)(st->end_ms - st->start_ms) / 1000.0);
}

static void ms_col(struct strbuf *sb, int32_t v)
{
	if (v < 0)
		strbuf_addf(sb, " %6s", "-");
	else
		strbuf_addf(sb, " %6d", v);
}

static void fmt_clock(int64_t ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, sz, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000));
}

static void verdict_line(struct strbuf *sb, const struct verdict *v, double tol, const char *what)
{
	strbuf_addf(sb, "balance %s", what);
	if (v->backend) {
		strbuf_addch(sb, ' ');
		vis(sb, v->backend);
	}
	if (v->result < 0) {
		strbuf_addstr(sb, ": not checked (no requests, or no weight to compare with)\n");
		return;
	}
	strbuf_addf(sb, ": %s, largest deviation %.1f points", v->result ? "ok" : "FAILED",
		    v->max_dev);
	if (v->worst) {
		strbuf_addstr(sb, " (");
		vis(sb, v->worst);
		strbuf_addch(sb, ')');
	}
	strbuf_addf(sb, ", tolerance %g\n", tol);
}

static void print_text(FILE *fp, const struct drive_cli *cli, const struct drive_stats *st,
		       int64_t logged, const struct drive_share *xs, size_t nxs,
		       const struct verdict *xv, const struct win *w, const struct verdict *v,
		       size_t nv)
{
	struct strbuf sb = STRBUF_INIT;

	summary_line(&sb, cli, st, logged);
	if (!cli->quiet) {
		strbuf_addstr(&sb, "answered by (X-Server):\n");
		for (size_t i = 0; i < st->nservers; i++) {
			const struct drive_server *s = &st->servers[i];
			size_t before = sb.len;

			strbuf_addstr(&sb, "  ");
			vis(&sb, s->name);
			while (sb.len - before < 22)
				strbuf_addch(&sb, ' ');
			strbuf_addf(&sb, " %7ld  %5.1f%%", s->n,
				    st->answered ? 100.0 * (double)s->n / (double)st->answered
						 : 0.0);
			if (s->ok != s->n)
				strbuf_addf(&sb, "  (%ld not ok)", s->n - s->ok);
			strbuf_addch(&sb, '\n');
		}
		if (!st->nservers)
			strbuf_addstr(&sb, "  (nobody)\n");
		if (st->nlat)
			strbuf_addf(&sb,
				    "client latency: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max "
				    "%.1f ms\n",
				    drive_percentile(st, 50) / 1000.0,
				    drive_percentile(st, 95) / 1000.0,
				    drive_percentile(st, 99) / 1000.0,
				    st->lat_us[st->nlat - 1] / 1000.0);
	}
	if (xv) {
		verdict_line(&sb, xv, cli->tol, "by X-Server");
		for (size_t i = 0; i < nxs && (!cli->quiet || !xv->result); i++) {
			if (cli->quiet && !xs[i].bad)
				continue;
			strbuf_addstr(&sb, "  ");
			vis(&sb, xs[i].name);
			strbuf_addf(&sb,
				    ": %ld requests, %.1f%% (expected %.1f%%, %+.1f points)%s\n",
				    xs[i].n, xs[i].share, xs[i].expected, xs[i].deviation,
				    xs[i].bad ? "  OUT OF TOLERANCE" : "");
		}
	}
	if (w && !cli->quiet) {
		char a[32], b[32];

		fmt_clock(st->start_ms, a, sizeof(a));
		fmt_clock(st->end_ms, b, sizeof(b));
		strbuf_addf(&sb, "stored in %s for %s .. %s UTC (this run only):\n", cli->db, a, b);
		strbuf_addf(&sb, "  %-12s %-10s %6s %6s %6s %6s %5s %5s %5s %5s %6s %6s %6s\n",
			    "backend", "server", "reqs", "share", "expect", "2xx3xx", "4xx", "5xx",
			    "retry", "redis", "Ta p50", "p95", "max");
		for (size_t i = 0; i < w->n; i++) {
			const struct win_row *r = &w->rows[i];
			size_t before = sb.len;

			strbuf_addstr(&sb, "  ");
			vis(&sb, r->backend);
			while (sb.len - before < 14)
				strbuf_addch(&sb, ' ');
			strbuf_addch(&sb, ' ');
			before = sb.len;
			vis(&sb, r->server);
			while (sb.len - before < 10)
				strbuf_addch(&sb, ' ');
			strbuf_addf(&sb, " %6ld", r->n);
			if (r->special)
				strbuf_addf(&sb, " %6s %6s", "-", "-");
			else if (!r->sh.name)
				strbuf_addf(&sb, " %5.1f%% %6s", r->share, "-");
			else
				strbuf_addf(&sb, " %5.1f%% %5.1f%%", r->sh.share, r->sh.expected);
			strbuf_addf(&sb, " %6ld %5ld %5ld %5ld %5ld", r->ok, r->c4xx, r->c5xx,
				    r->retried, r->redisp);
			ms_col(&sb, r->p50);
			ms_col(&sb, r->p95);
			ms_col(&sb, r->max);
			if (r->sh.bad)
				strbuf_addstr(&sb, "  <- out of tolerance");
			strbuf_addch(&sb, '\n');
		}
		if (!w->n)
			strbuf_addstr(&sb, "  (no rows)\n");
	}
	for (size_t i = 0; i < nv; i++)
		verdict_line(&sb, &v[i], cli->tol, "by inventory for");
	fputs(sb.buf, fp);
	strbuf_release(&sb);
}

static void json_share(struct strbuf *sb, const struct drive_share *s)
{
	strbuf_addstr(sb, "{\"name\":");
	json_add_str(sb, s->name, strlen(s->name));
	strbuf_addf(sb, ",\"n\":%ld,\"share\":", s->n);
	json_add_double(sb, s->share, 2);
	strbuf_addstr(sb, ",\"expected\":");
	json_add_double(sb, s->expected, 2);
	strbuf_addstr(sb, ",\"deviation\":");
	json_add_double(sb, s->deviation, 2);
	strbuf_addf(sb, ",\"ok\":%s}", s->bad ? "false" : "true");
}

static void json_verdict(struct strbuf *sb, const struct verdict *v)
{
	strbuf_addstr(sb, "{\"backend\":");
	if (v->backend)
		json_add_str(sb, v->backend, strlen(v->backend));
	else
		strbuf_addstr(sb, "null");
	strbuf_addf(sb, ",\"result\":\"%s\",\"max_deviation\":",
		    v->result < 0 ? "unchecked"
		    : v->result	  ? "ok"
				  : "failed");
	json_add_double(sb, v->max_dev, 2);
	strbuf_addstr(sb, ",\"worst\":");
	if (v->worst)
		json_add_str(sb, v->worst, strlen(v->worst));
	else
		strbuf_addstr(sb, "null");
	strbuf_addch(sb, '}');
}

static void print_json(FILE *fp, const struct drive_cli *cli, const struct drive_stats *st,
		       int64_t logged, const struct drive_share *xs, size_t nxs,
		       const struct verdict *xv, const struct win *w, const struct verdict *v,
		       size_t nv)
{
	struct strbuf sb = STRBUF_INIT;
	int first = 1;

	strbuf_addstr(&sb, "{\"url\":");
	json_add_str(&sb, cli->o.url, strlen(cli->o.url));
	strbuf_addf(&sb,
		    ",\"start_ms\":%lld,\"end_ms\":%lld,\"sent\":%ld,\"answered\":%ld,"
		    "\"ok\":%ld,\"failed\":%ld",
		    (long long)st->start_ms, (long long)st->end_ms, st->sent, st->answered, st->ok,
		    st->failed);
	if (cli->db)
		strbuf_addf(&sb, ",\"logged\":%lld", (long long)(logged < 0 ? 0 : logged));
	strbuf_addstr(&sb, ",\"by_status\":{");
	for (int code = 100; code < 600; code++) {
		if (!st->by_status[code])
			continue;
		strbuf_addf(&sb, "%s\"%d\":%ld", first ? "" : ",", code, st->by_status[code]);
		first = 0;
	}
	strbuf_addstr(&sb, "},\"no_answer\":{");
	for (size_t i = 0; i < st->nerrs; i++) {
		const char *e = curl_easy_strerror((CURLcode)st->errs[i].code);

		if (i)
			strbuf_addch(&sb, ',');
		json_add_str(&sb, e, strlen(e));
		strbuf_addf(&sb, ":%ld", st->errs[i].n);
	}
	strbuf_addstr(&sb, "},\"servers\":[");
	for (size_t i = 0; i < st->nservers; i++) {
		strbuf_addf(&sb, "%s{\"name\":", i ? "," : "");
		json_add_str(&sb, st->servers[i].name, strlen(st->servers[i].name));
		strbuf_addf(&sb, ",\"n\":%ld,\"ok\":%ld}", st->servers[i].n, st->servers[i].ok);
	}
	strbuf_addstr(&sb, "]");
	if (st->nlat) {
		strbuf_addstr(&sb, ",\"latency_ms\":{\"p50\":");
		json_add_double(&sb, drive_percentile(st, 50) / 1000.0, 3);
		strbuf_addstr(&sb, ",\"p95\":");
		json_add_double(&sb, drive_percentile(st, 95) / 1000.0, 3);
		strbuf_addstr(&sb, ",\"p99\":");
		json_add_double(&sb, drive_percentile(st, 99) / 1000.0, 3);
		strbuf_addstr(&sb, ",\"max\":");
		json_add_double(&sb, st->lat_us[st->nlat - 1] / 1000.0, 3);
		strbuf_addch(&sb, '}');
	}
	if (xv) {
		strbuf_addstr(&sb, ",\"balance_by_x_server\":");
		json_verdict(&sb, xv);
		strbuf_setlen(&sb, sb.len - 1);
		strbuf_addstr(&sb, ",\"members\":[");
		for (size_t i = 0; i < nxs; i++) {
			if (i)
				strbuf_addch(&sb, ',');
			json_share(&sb, &xs[i]);
		}
		strbuf_addstr(&sb, "]}");
	}
	if (w) {
		strbuf_addstr(&sb, ",\"stored\":[");
		for (size_t i = 0; i < w->n; i++) {
			const struct win_row *r = &w->rows[i];

			strbuf_addf(&sb, "%s{\"backend\":", i ? "," : "");
			json_add_str(&sb, r->backend, strlen(r->backend));
			strbuf_addstr(&sb, ",\"server\":");
			json_add_str(&sb, r->server, strlen(r->server));
			strbuf_addf(&sb,
				    ",\"requests\":%ld,\"ok\":%ld,\"4xx\":%ld,\"5xx\":%ld,"
				    "\"no_status\":%ld,\"retried\":%ld,\"redispatched\":%ld,"
				    "\"ta_p50\":%d,\"ta_p95\":%d,\"ta_p99\":%d,\"ta_max\":%d",
				    r->n, r->ok, r->c4xx, r->c5xx, r->noresp, r->retried, r->redisp,
				    r->p50, r->p95, r->p99, r->max);
			if (!r->special) {
				strbuf_addstr(&sb, ",\"share\":");
				json_add_double(&sb, r->share, 2);
			}
			if (r->sh.name) {
				strbuf_addstr(&sb, ",\"expected\":");
				json_add_double(&sb, r->sh.expected, 2);
			}
			strbuf_addch(&sb, '}');
		}
		strbuf_addstr(&sb, "],\"balance\":[");
		for (size_t i = 0; i < nv; i++) {
			if (i)
				strbuf_addch(&sb, ',');
			json_verdict(&sb, &v[i]);
		}
		strbuf_addch(&sb, ']');
	}
	strbuf_addstr(&sb, "}\n");
	fputs(sb.buf, fp);
	strbuf_release(&sb);
}

/* CSV and Markdown: the stored rows of the window (or the X-Server tally without --db). */
static void print_table(FILE *fp, const struct drive_cli *cli, const struct drive_stats *st,
			int64_t logged, const struct win *w, const struct verdict *v, size_t nv)
{
	struct strbuf sb = STRBUF_INIT;
	int md = cli->fmt == FMT_MARKDOWN;
	const char *sep = md ? " | " : ",";

	if (md) {
		strbuf_addstr(&sb, "**");
		summary_line(&sb, cli, st, logged);
		strbuf_setlen(&sb, sb.len - 1);
		strbuf_addstr(&sb, "**\n\n");
	}
	if (!w) {
		strbuf_addf(&sb, "%sserver%sanswers%sok%s\n", md ? "| " : "", sep, sep,
			    md ? " |" : "");
		if (md)
			strbuf_addstr(&sb, "|---|---:|---:|\n");
		for (size_t i = 0; i < st->nservers; i++) {
			strbuf_addstr(&sb, md ? "| " : "");
			vis(&sb, st->servers[i].name);
			strbuf_addf(&sb, "%s%ld%s%ld%s\n", sep, st->servers[i].n, sep,
				    st->servers[i].ok, md ? " |" : "");
		}
	} else {
		strbuf_addf(&sb,
			    "%sbackend%sserver%srequests%sshare%sexpected%sok%s4xx%s5xx%sretried"
			    "%sredispatched%sta_p50%sta_p95%sta_max%s\n",
			    md ? "| " : "", sep, sep, sep, sep, sep, sep, sep, sep, sep, sep, sep,
			    sep, md ? " |" : "");
		if (md)
			strbuf_addstr(&sb, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|-"
					   "--:|---:|\n");
		for (size_t i = 0; i < w->n; i++) {
			const struct win_row *r = &w->rows[i];

			strbuf_addstr(&sb, md ? "| " : "");
			vis(&sb, r->backend);
			strbuf_addstr(&sb, sep);
			vis(&sb, r->server);
			strbuf_addf(&sb, "%s%ld%s", sep, r->n, sep);
			if (r->special)
				strbuf_addf(&sb, "%s", sep);
			else if (r->sh.name)
				strbuf_addf(&sb, "%.1f%s%.1f", r->share, sep, r->sh.expected);
			else
				strbuf_addf(&sb, "%.1f%s", r->share, sep);
			strbuf_addf(&sb, "%s%ld%s%ld%s%ld%s%ld%s%ld%s%d%s%d%s%d%s\n", sep, r->ok,
				    sep, r->c4xx, sep, r->c5xx, sep, r->retried, sep, r->redisp,
				    sep, r->p50, sep, r->p95, sep, r->max, md ? " |" : "");
		}
		if (md)
			for (size_t i = 0; i < nv; i++) {
				if (!i)
					strbuf_addch(&sb, '\n');
				verdict_line(&sb, &v[i], cli->tol, "by inventory for");
			}
	}
	fputs(sb.buf, fp);
	strbuf_release(&sb);
}

/* Formats unix ms as the ISO 8601 UTC timestamp `halog report --since/--until` accepts. */
static void fmt_time(int64_t ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Runs `halog report` in-process over [since, until]; returns its exit code. */
static int run_report(const struct drive_cli *cli, int64_t since, int64_t until)
{
	char s_buf[64], u_buf[64];
	char *av[20];
	int ac = 0;

	fmt_time(since, s_buf, sizeof(s_buf));
	fmt_time(until + 1, u_buf, sizeof(u_buf)); /* report's window is [since, until) */
	av[ac++] = (char *)"report";
	av[ac++] = (char *)"--db";
	av[ac++] = (char *)cli->db;
	av[ac++] = (char *)"--since";
	av[ac++] = s_buf;
	av[ac++] = (char *)"--until";
	av[ac++] = u_buf;
	av[ac++] = (char *)"--format";
	av[ac++] = (char *)cli->format;
	if (cli->backend) {
		av[ac++] = (char *)"--backend";
		av[ac++] = (char *)cli->backend;
	}
	if (cli->inventory) {
		av[ac++] = (char *)"--inventory";
		av[ac++] = (char *)cli->inventory;
		if (cli->env) {
			av[ac++] = (char *)"-e";
			av[ac++] = (char *)cli->env;
		}
	}
	av[ac] = NULL;
	fflush(stdout);
	return cmd_report(ac, av);
}

/* The X-Server tally against --weights. Returns the number of members written to xs. */
static size_t client_shares(const struct drive_stats *st, const struct drive_weight *wt, size_t nw,
			    struct drive_share *xs, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < st->nservers && n < cap; i++) {
		if (!strcmp(st->servers[i].name, "-"))
			continue;
		memset(&xs[n], 0, sizeof(xs[n]));
		xs[n].name = st->servers[i].name;
		xs[n].n = st->servers[i].n;
		xs[n].weight = -1;
		for (size_t j = 0; j < nw; j++)
			if (!strcmp(wt[j].name, xs[n].name))
				xs[n].weight = wt[j].weight;
		n++;
	}
	for (size_t j = 0; j < nw && n < cap; j++) {
		int seen = 0;

		for (size_t i = 0; i < n; i++)
			seen |= !strcmp(xs[i].name, wt[j].name);
		if (seen)
			continue;
		memset(&xs[n], 0, sizeof(xs[n]));
		xs[n].name = wt[j].name;
		xs[n].weight = wt[j].weight;
		n++;
	}
	return n;
}

int cmd_drive(int argc, char **argv)
{
	static struct drive_share xs[DRIVE_MAX_SERVERS * 2];
	struct verdict xv, v[64];
	struct drive_cli cli;
	struct drive_stats st;
	struct drive_weight *wt = NULL;
	struct invweights iw;
	struct win w;
	int nw = 0, rc, exit_code = HALOG_EXIT_OK, have_iw = 0, have_win = 0;
	size_t nxs = 0, nv = 0;
	int64_t logged = -1, after = 0;
	char err[1024];
	FILE *out = stdout;

	memset(&iw, 0, sizeof(iw));
	memset(&w, 0, sizeof(w));
	memset(&st, 0, sizeof(st));
	rc = parse_args(argc, argv, &cli);
	if (rc)
		return rc < 0 ? HALOG_EXIT_OK : rc;
	if (drive_check_opts(&cli.o, err, sizeof(err)) == -1) {
		fprintf(stderr, "halog drive: %s\n", err);
		return HALOG_EXIT_USAGE;
	}
	if (cli.weights) {
		nw = drive_parse_weights(cli.weights, &wt, err, sizeof(err));
		if (nw < 0) {
			fprintf(stderr, "halog drive: --%s\n", err);
			return HALOG_EXIT_USAGE;
		}
	}
	if (cli.inventory) {
		if (invweights_load(cli.inventory, cli.env, &iw, err, sizeof(err))) {
			fprintf(stderr, "halog drive: %s\n", err);
			exit_code = HALOG_EXIT_ERR;
			goto out;
		}
		have_iw = 1;
	}
	if (cli.db)
		after = last_row_id(cli.db);
	if (drive_run(&cli.o, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "halog drive: %s\n", err);
		exit_code = HALOG_EXIT_ERR;
		goto out;
	}
	if (st.answered == 0) {
		fprintf(stderr, "halog drive: no request got an HTTP answer from '%s'\n",
			cli.o.url);
		exit_code = HALOG_EXIT_ERR;
	}
	if (cli.db) {
		logged = wait_logged(&cli, &st, after);
		if (logged < 0) {
			exit_code = HALOG_EXIT_ERR;
		} else {
			if (logged < st.answered) {
				fprintf(stderr,
					"halog drive: only %lld of %ld answered requests were "
					"logged within %lld s\n",
					(long long)logged, st.answered, (long long)cli.timeout_s);
				exit_code = HALOG_EXIT_ERR;
			}
			if (win_read(cli.db, cli.backend, after, st.start_ms, st.end_ms, &w, err,
				     sizeof(err))) {
				fprintf(stderr, "halog drive: %s: %s\n", cli.db, err);
				exit_code = HALOG_EXIT_ERR;
			} else {
				have_win = 1;
			}
		}
	}
	if (wt) {
		nxs = client_shares(&st, wt, (size_t)nw, xs, sizeof(xs) / sizeof(xs[0]));
		xv.backend = NULL;
		xv.result = drive_balance(xs, nxs, cli.tol);
		xv.max_dev = 0;
		xv.worst = NULL;
		for (size_t i = 0; i < nxs; i++)
			if (!xv.worst || fabs(xs[i].deviation) > xv.max_dev) {
				xv.max_dev = fabs(xs[i].deviation);
				xv.worst = xs[i].name;
			}
		if (xv.result == 0)
			exit_code = exit_code ? exit_code : HALOG_EXIT_BALANCE;
	}
	if (have_win && have_iw) {
		nv = check_inventory(&w, &iw, cli.tol, v, sizeof(v) / sizeof(v[0]));
		for (size_t i = 0; i < nv; i++)
			if (v[i].result == 0)
				exit_code = exit_code ? exit_code : HALOG_EXIT_BALANCE;
	}

	switch (cli.fmt) {
	case FMT_TEXT:
		print_text(out, &cli, &st, logged, xs, nxs, wt ? &xv : NULL, have_win ? &w : NULL,
			   v, nv);
		break;
	case FMT_JSON:
		print_json(out, &cli, &st, logged, xs, nxs, wt ? &xv : NULL, have_win ? &w : NULL,
			   v, nv);
		break;
	default:
		print_table(out, &cli, &st, logged, have_win ? &w : NULL, v, nv);
		if (cli.fmt == FMT_CSV) {
			struct strbuf sb = STRBUF_INIT;

			summary_line(&sb, &cli, &st, logged);
			fputs(sb.buf, stderr);
			strbuf_release(&sb);
		}
		break;
	}
	if (cli.report && have_win) {
		if (cli.fmt == FMT_TEXT || cli.fmt == FMT_MARKDOWN)
			fputc('\n', out);
		rc = run_report(&cli, st.start_ms, st.end_ms);
		if (rc != HALOG_EXIT_OK && rc != HALOG_EXIT_BALANCE && !exit_code)
			exit_code = HALOG_EXIT_ERR;
	}
	fflush(stdout);
out:
	drive_stats_release(&st);
	if (have_iw)
		invweights_release(&iw);
	win_release(&w);
	drive_weights_free(wt, (size_t)nw);
	return exit_code;
}
