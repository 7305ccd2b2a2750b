/* The SQLite read backend (store/backend.h): the read API over the tables store.c writes. With
 * sqlite_query.c, the only reader of those tables: lines l, requests r and events e joined by
 * line id (l.id is the position), names and the per-minute rollups (store.c's migrations). */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "store/backend.h"
#include "store/rollup.h"
#include "store/sqlite.h"
#include "store/sqlite_query.h"
#include "store/store.h"
#include "strbuf.h"

#define EVENT_KINDS                                                                                \
	(STORE_KIND(LR_CONNECT) | STORE_KIND(LR_CONN_ERROR) | STORE_KIND(LR_SERVER) |              \
	 STORE_KIND(LR_CHECK) | STORE_KIND(LR_NOSRV) | STORE_KIND(LR_PROXY))
#define ERRPATH_KEY_MAX 256 /* store.c keeps the first 256 bytes of a path */

struct sq {
	struct store *st;
	sqlite3 *db;
};

static struct sq *sq_of(struct store_reader *rd)
{
	return rd->impl;
}

static int dbfail(struct store_reader *rd, const char *what)
{
	if (rd->timed_out)
		return store_reader_fail(rd, "%s: the read ran over its time limit (%lld ms)", what,
					 (long long)rd->limit_ms);
	return store_reader_fail(rd, "%s: %s", what, sqlite3_errmsg(sq_of(rd)->db));
}

/* SQLite's progress callback, the only one a connection has: a nonzero return interrupts the
 * statement, once the reader's deadline (store_reader_deadline) or the query's budget
 * (query_budget_start, the one sqlq_register installed) is spent. */
static int sq_progress(void *cls)
{
	return store_reader_expired(cls) || query_budget_over();
}

/* Finalizes s after a step loop that ended with rc. Returns 0 or -1. */
static int finish(struct store_reader *rd, sqlite3_stmt *s, int rc, const char *what)
{
	int ret = 0;
	if (rc != SQLITE_DONE)
		ret = rc == SQLITE_ROW ? store_reader_fail(rd, "%s: out of memory", what)
				       : dbfail(rd, what);
	sqlite3_finalize(s);
	return ret;
}

static sqlite3_stmt *prepare(struct store_reader *rd, const char *sql, size_t len, const char *what)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sq_of(rd)->db, sql, (int)len, &s, NULL) != SQLITE_OK) {
		dbfail(rd, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Binds v to the parameter called name when the statement has it. */
static void bind_named(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);
	if (i)
		sqlite3_bind_int64(s, i, v);
}

static void bind_named_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);
	if (i && v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* The bin of time t in bins of width w from t0, or -1 when outside [0, n). */
static int64_t bin_of(int64_t t, int64_t t0, int64_t w, size_t n)
{
	int64_t d;
	if (__builtin_sub_overflow(t, t0, &d) || d < 0)
		return -1;
	d /= w;
	return (uint64_t)d < n ? d : -1;
}

/* ------------------------------------------------------------------------ open, snapshots */

static int sq_open(struct store_reader *rd, const char *where)
{
	struct sq *q = calloc(1, sizeof(*q));
	if (!q)
		return store_reader_fail(rd, "out of memory");
	q->st = store_open(where, STORE_READONLY, rd->err, sizeof(rd->err));
	if (!q->st) {
		free(q);
		return -1;
	}
	q->db = store_sqlite_db(q->st);
	rd->impl = q;
	if (sqlq_register(q->db) != SQLITE_OK) {
		dbfail(rd, "cannot register the search functions");
		store_close(q->st);
		free(q);
		rd->impl = NULL;
		return -1;
	}
	/* every 1000 virtual-machine steps: a few microseconds, so a bound is kept to the ms */
	sqlite3_progress_handler(q->db, 1000, sq_progress, rd);
	return 0;
}

static void sq_close(struct store_reader *rd)
{
	struct sq *q = sq_of(rd);
	if (!q)
		return;
	store_close(q->st);
	free(q);
	rd->impl = NULL;
}

static int sq_snapshot_begin(struct store_reader *rd)
{
	if (sqlite3_exec(sq_of(rd)->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(rd, "cannot start a read transaction");
	return 0;
}

static void sq_snapshot_end(struct store_reader *rd)
{
	sqlite3_exec(sq_of(rd)->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The first column of the first row of sql as an integer (def when NULL or no row). */
static int one_int(struct store_reader *rd, const char *sql, int64_t def, int64_t *out)
{
	sqlite3_stmt *s = prepare(rd, sql, strlen(sql), "cannot read the store");
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	*out = def;
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(s, 0);
	return finish(rd, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "cannot read the store");
}

static int sq_info(struct store_reader *rd, struct store_info *out)
{
	int64_t bucket;
	out->schema_version = store_schema_version(sq_of(rd)->st);
	if (one_int(rd, "SELECT value FROM meta WHERE key = 'rollup_bucket_ms'", ROLLUP_BUCKET_MS,
		    &bucket) ||
	    one_int(rd, "SELECT max(line_id) FROM requests", 0, &out->records_hint))
		return -1;
	out->rollup_ms = bucket > 0 ? bucket : ROLLUP_BUCKET_MS;
	return 0;
}

static int sq_end(struct store_reader *rd, struct store_pos *out)
{
	int64_t id;
	if (one_int(rd, "SELECT max(id) FROM lines", 0, &id))
		return -1;
	out->v = id < INT64_MAX ? id + 1 : id;
	return 0;
}

/* ------------------------------------------------------------------------ lines: SQL */

enum src { SRC_LINES, SRC_REQ, SRC_EV };

/* The tables a read joins and the expressions it uses. */
struct plan {
	enum src src;
	int l, r, e;	  /* lines l, requests r, events e joined */
	const char *pos;  /* the position (line id) column */
	const char *time; /* the window's time column */
	unsigned want;
	int has_q; /* q holds the compiled query */
	struct sqlq q;
};

static void plan_release(struct plan *p)
{
	if (p->has_q)
		sqlq_release(&p->q);
	p->has_q = 0;
}

/* Compiles sel's query and chooses the tables. Returns 0, or -1 (release p either way). */
static int make_plan(struct store_reader *rd, const struct store_sel *sel, unsigned want,
		     struct plan *p)
{
	int windowed = sel->since_ms != INT64_MIN || sel->until_ms != INT64_MAX;
	unsigned qneeds = 0;
	memset(p, 0, sizeof(*p));
	if (sel->query) {
		p->has_q = 1;
		if (sqlq_compile(sel->query, &p->q))
			return store_reader_fail(rd, "out of memory");
		qneeds = p->q.needs;
	}
	if (want & STORE_WANT_FIELDS)
		want |= STORE_WANT_SUMMARY;
	p->want = want;
	/* the table that holds every candidate drives the scan: the requests or events table
	 * when only those kinds are asked for (small, or a range of line ids), else lines */
	if (!sel->query && sel->kinds && !(sel->kinds & ~(unsigned)STORE_KINDS_TRAFFIC))
		p->src = SRC_REQ;
	else if (!sel->query && sel->kinds && !(sel->kinds & ~(unsigned)EVENT_KINDS))
		p->src = SRC_EV;
	else
		p->src = SRC_LINES;
	p->l = p->src == SRC_LINES || (want & STORE_WANT_LINE) || sel->source ||
	       (windowed && sel->clock == STORE_RECEIVED);
	if (p->src == SRC_LINES) {
		int names = sel->backend || sel->server;
		p->r = (want & (STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC)) ||
		       (qneeds & SQLQ_REQUESTS) || names || sel->frontend;
		p->e = (want & STORE_WANT_SUMMARY) || (qneeds & SQLQ_EVENTS) || names;
	} else {
		p->r = p->src == SRC_REQ;
		p->e = p->src == SRC_EV;
	}
	p->pos = p->src == SRC_REQ ? "r.line_id" : p->src == SRC_EV ? "e.line_id" : "l.id";
	if (sel->clock == STORE_RECEIVED)
		p->time = "l.recv_ms";
	else
		p->time = p->src == SRC_REQ ? "r.ts_ms" : p->src == SRC_EV ? "e.ts_ms" : "l.ts_ms";
	return 0;
}

/* Appends " FROM … WHERE …" for sel. Parameters: the query's ?1..?N, then named ones bound by
 * bind_where. Returns 0 or -1 (out of memory). */
static int add_from_where(struct strbuf *sb, const struct store_sel *sel, const struct plan *p)
{
	int rc = 0;
	switch (p->src) {
	case SRC_LINES:
		rc |= strbuf_addstr(sb, " FROM lines l");
		if (p->r)
			rc |= strbuf_addstr(sb, " LEFT JOIN requests r ON r.line_id = l.id");
		if (p->e)
			rc |= strbuf_addstr(sb, " LEFT JOIN events e ON e.line_id = l.id");
		break;
	case SRC_REQ:
		rc |= strbuf_addstr(sb, " FROM requests r");
		if (p->l)
			rc |= strbuf_addstr(sb, " JOIN lines l ON l.id = r.line_id");
		break;
	case SRC_EV:
		rc |= strbuf_addstr(sb, " FROM events e");
		if (p->l)
			rc |= strbuf_addstr(sb, " JOIN lines l ON l.id = e.line_id");
		break;
	}
	rc |= strbuf_addstr(sb, " WHERE ");
	if (p->has_q)
		rc |= strbuf_add(sb, p->q.sql.buf, p->q.sql.len);
	else
		rc |= strbuf_addstr(sb, "1");
	if (sel->since_ms != INT64_MIN)
		rc |= strbuf_addf(sb, " AND %s >= :since", p->time);
	if (sel->until_ms != INT64_MAX)
		rc |= strbuf_addf(sb, " AND %s < :until", p->time);
	if (sel->from.v != INT64_MIN)
		rc |= strbuf_addf(sb, " AND %s >= :from", p->pos);
	if (sel->to.v != INT64_MAX)
		rc |= strbuf_addf(sb, " AND %s < :to", p->pos);
	if (sel->kinds) {
		if (p->src == SRC_REQ) {
			if (sel->kinds == STORE_KIND(LR_HTTP))
				rc |= strbuf_addstr(sb, " AND r.mode = 'http'");
			else if (sel->kinds == STORE_KIND(LR_TCP))
				rc |= strbuf_addstr(sb, " AND r.mode = 'tcp'");
		} else {
			rc |= strbuf_addf(sb, " AND ((:kinds >> %s.kind) & 1)",
					  p->src == SRC_EV ? "e" : "l");
		}
	}
	if (sel->frontend)
		rc |= strbuf_addstr(sb, p->r ? " AND r.frontend = :fe" : " AND 0");
	if (sel->backend)
		rc |= strbuf_addstr(sb, p->src == SRC_REQ ? " AND r.backend = :be"
					: p->src == SRC_EV
						? " AND e.proxy = :be"
						: " AND (r.backend = :be OR e.proxy = :be)");
	if (sel->server)
		rc |= strbuf_addstr(sb, p->src == SRC_REQ ? " AND r.server = :srv"
					: p->src == SRC_EV
						? " AND e.server = :srv"
						: " AND (r.server = :srv OR e.server = :srv)");
	if (sel->source)
		rc |= strbuf_addstr(sb, " AND l.source = :source");
	return rc ? -1 : 0;
}

static int bind_where(struct store_reader *rd, sqlite3_stmt *s, const struct store_sel *sel,
		      const struct plan *p)
{
	if (p->has_q && sqlq_bind(&p->q, s) != SQLITE_OK)
		return dbfail(rd, "cannot bind the query");
	bind_named(s, ":since", sel->since_ms);
	bind_named(s, ":until", sel->until_ms);
	bind_named(s, ":from", sel->from.v);
	bind_named(s, ":to", sel->to.v);
	bind_named(s, ":kinds", sel->kinds);
	bind_named_text(s, ":fe", sel->frontend);
	bind_named_text(s, ":be", sel->backend);
	bind_named_text(s, ":srv", sel->server);
	bind_named_text(s, ":source", sel->source);
	return 0;
}

/* Prepares "SELECT what" + FROM/WHERE + tail for sel and binds it. NULL on error. */
static sqlite3_stmt *prepare_sel(struct store_reader *rd, const char *head, const char *what,
				 const struct store_sel *sel, const struct plan *p,
				 const char *tail)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *s = NULL;
	if (strbuf_addstr(&sql, head) || strbuf_addstr(&sql, what) ||
	    add_from_where(&sql, sel, p) || strbuf_addstr(&sql, tail)) {
		store_reader_fail(rd, "out of memory");
		goto out;
	}
	s = prepare(rd, sql.buf, sql.len, "cannot prepare the read");
	if (s && bind_where(rd, s, sel, p)) {
		sqlite3_finalize(s);
		s = NULL;
	}
out:
	strbuf_release(&sql);
	return s;
}

/* ------------------------------------------------------------------------ cursors */

/* Cursor columns: each is selected when its table is joined and the reader wants its group. */
enum col {
	K_POS,
	K_TS,
	K_KIND, /* always, from the driving table */
	K_RECV,
	K_SOURCE,
	K_RAW,
	K_LFLAGS,
	K_HOST,
	K_PROGRAM,
	K_PID,
	K_REASON,
	K_STATUS,
	R_FE,
	R_BE,
	R_SRV,
	R_CODE,
	R_TERM,
	R_CLIENT,
	E_PROXY,
	E_SERVER,
	E_STATE,
	R_CPORT,
	R_METHOD,
	R_PATH,
	R_QUERY,
	R_VERSION,
	R_URI,
	R_TREQ,
	R_TWAIT,
	R_TCONN,
	R_TRESP,
	R_TACT,
	R_BREAD,
	R_BUP,
	R_CKREQ,
	R_CKRESP,
	R_ACTCONN,
	R_FECONN,
	R_BECONN,
	R_SRVCONN,
	R_RETRIES,
	R_REDISP,
	R_SQUEUE,
	R_BQUEUE,
	R_CAPREQ,
	R_CAPRESP,
	R_SNI,
	R_SSLVER,
	R_CIPHER,
	R_SSLERR,
	R_UID,
	R_DSTIP,
	R_DSTPORT,
	R_FLAGS,
	E_REASON,
	E_INFO,
	E_CHECK,
	E_BACKUP,
	E_ALEFT,
	E_BLEFT,
	E_CLIENT,
	E_CPORT,
	E_DSTIP,
	E_DSTPORT,
	E_MODE,
	N_COLS
};

static const struct colspec {
	char tab;	  /* 'l', 'r', 'e'; 0: depends on the plan */
	const char *name; /* column */
	unsigned want;	  /* STORE_WANT_* group; 0: always */
} colspec[N_COLS] = {
	[K_POS] = {0, NULL, 0},
	[K_TS] = {0, NULL, 0},
	[K_KIND] = {0, NULL, 0},
	[K_RECV] = {'l', "recv_ms", STORE_WANT_LINE},
	[K_SOURCE] = {'l', "source", STORE_WANT_LINE},
	[K_RAW] = {'l', "raw", STORE_WANT_LINE},
	[K_LFLAGS] = {'l', "flags", STORE_WANT_LINE},
	[K_HOST] = {'l', "host", STORE_WANT_LINE},
	[K_PROGRAM] = {'l', "program", STORE_WANT_LINE},
	[K_PID] = {'l', "pid", STORE_WANT_LINE},
	[K_REASON] = {'l', "reason", STORE_WANT_LINE},
	[K_STATUS] = {'l', "status", STORE_WANT_LINE},
	[R_FE] = {'r', "frontend", STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC},
	[R_BE] = {'r', "backend", STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC},
	[R_SRV] = {'r', "server", STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC},
	[R_CODE] = {'r', "status", STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC},
	[R_TERM] = {'r', "term", STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC},
	[R_CLIENT] = {'r', "client_ip", STORE_WANT_SUMMARY},
	[E_PROXY] = {'e', "proxy", STORE_WANT_SUMMARY},
	[E_SERVER] = {'e', "server", STORE_WANT_SUMMARY},
	[E_STATE] = {'e', "state", STORE_WANT_SUMMARY},
	[R_CPORT] = {'r', "client_port", STORE_WANT_FIELDS},
	[R_METHOD] = {'r', "method", STORE_WANT_FIELDS},
	[R_PATH] = {'r', "path", STORE_WANT_FIELDS},
	[R_QUERY] = {'r', "query", STORE_WANT_FIELDS},
	[R_VERSION] = {'r', "version", STORE_WANT_FIELDS},
	[R_URI] = {'r', "uri", STORE_WANT_FIELDS},
	[R_TREQ] = {'r', "t_req", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_TWAIT] = {'r', "t_wait", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_TCONN] = {'r', "t_connect", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_TRESP] = {'r', "t_resp", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_TACT] = {'r', "t_active", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_BREAD] = {'r', "bytes_read", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_BUP] = {'r', "bytes_uploaded", STORE_WANT_FIELDS},
	[R_CKREQ] = {'r', "cookie_req", STORE_WANT_FIELDS},
	[R_CKRESP] = {'r', "cookie_resp", STORE_WANT_FIELDS},
	[R_ACTCONN] = {'r', "actconn", STORE_WANT_FIELDS},
	[R_FECONN] = {'r', "feconn", STORE_WANT_FIELDS},
	[R_BECONN] = {'r', "beconn", STORE_WANT_FIELDS},
	[R_SRVCONN] = {'r', "srv_conn", STORE_WANT_FIELDS},
	[R_RETRIES] = {'r', "retries", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_REDISP] = {'r', "redispatched", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[R_SQUEUE] = {'r', "srv_queue", STORE_WANT_FIELDS},
	[R_BQUEUE] = {'r', "backend_queue", STORE_WANT_FIELDS},
	[R_CAPREQ] = {'r', "cap_req", STORE_WANT_FIELDS},
	[R_CAPRESP] = {'r', "cap_resp", STORE_WANT_FIELDS},
	[R_SNI] = {'r', "ssl_sni", STORE_WANT_FIELDS},
	[R_SSLVER] = {'r', "ssl_version", STORE_WANT_FIELDS},
	[R_CIPHER] = {'r', "ssl_cipher", STORE_WANT_FIELDS},
	[R_SSLERR] = {'r', "ssl_errors", STORE_WANT_FIELDS},
	[R_UID] = {'r', "unique_id", STORE_WANT_FIELDS},
	[R_DSTIP] = {'r', "dst_ip", STORE_WANT_FIELDS},
	[R_DSTPORT] = {'r', "dst_port", STORE_WANT_FIELDS},
	[R_FLAGS] = {'r', "flags", STORE_WANT_FIELDS | STORE_WANT_TRAFFIC},
	[E_REASON] = {'e', "reason", STORE_WANT_FIELDS},
	[E_INFO] = {'e', "info", STORE_WANT_FIELDS},
	[E_CHECK] = {'e', "check_ms", STORE_WANT_FIELDS},
	[E_BACKUP] = {'e', "backup", STORE_WANT_FIELDS},
	[E_ALEFT] = {'e', "active_left", STORE_WANT_FIELDS},
	[E_BLEFT] = {'e', "backup_left", STORE_WANT_FIELDS},
	[E_CLIENT] = {'e', "client_ip", STORE_WANT_FIELDS},
	[E_CPORT] = {'e', "client_port", STORE_WANT_FIELDS},
	[E_DSTIP] = {'e', "dst_ip", STORE_WANT_FIELDS},
	[E_DSTPORT] = {'e', "dst_port", STORE_WANT_FIELDS},
	[E_MODE] = {'e', "mode", STORE_WANT_FIELDS},
};

struct sq_cursor {
	sqlite3_stmt *s;
	struct plan p;	 /* the compiled query lives as long as the statement */
	int idx[N_COLS]; /* column of each, or -1 */
	int tail;	 /* STORE_TAIL with a limit: a last column counts the rows */
	int64_t limit;
	int first; /* no row delivered yet */
	int truncated;
	struct store_line line;
};

/* Appends the SELECT list of a cursor and fills idx. Returns 0 or -1. */
static int add_columns(struct strbuf *sb, const struct plan *p, int *idx)
{
	int n = 0, rc = 0;
	for (int c = 0; c < N_COLS; c++) {
		const struct colspec *cs = &colspec[c];
		idx[c] = -1;
		if (cs->want && !(p->want & cs->want))
			continue;
		if ((cs->tab == 'l' && !p->l) || (cs->tab == 'r' && !p->r) ||
		    (cs->tab == 'e' && !p->e))
			continue;
		if (n)
			rc |= strbuf_addstr(sb, ", ");
		if (c == K_POS)
			rc |= strbuf_addstr(sb, p->pos);
		else if (c == K_TS)
			rc |= strbuf_addstr(sb, p->src == SRC_REQ  ? "r.ts_ms"
						: p->src == SRC_EV ? "e.ts_ms"
								   : "l.ts_ms");
		else if (c == K_KIND)
			rc |= strbuf_addstr(sb, p->src == SRC_REQ ? "CASE r.mode WHEN 'http' THEN 1"
								    " ELSE 2 END"
						: p->src == SRC_EV ? "e.kind"
								   : "l.kind");
		else
			rc |= strbuf_addf(sb, "%c.%s", cs->tab, cs->name);
		idx[c] = n++;
	}
	return rc ? -1 : 0;
}

static void *sq_cursor_open(struct store_reader *rd, const struct store_sel *sel)
{
	struct sq_cursor *c = calloc(1, sizeof(*c));
	struct strbuf cols = STRBUF_INIT;
	char tail[128];
	if (!c) {
		store_reader_fail(rd, "out of memory");
		return NULL;
	}
	struct plan *pp = &c->p;
	if (make_plan(rd, sel, sel->want, pp))
		goto fail;
	c->first = 1;
	c->limit = sel->limit;
	c->tail = sel->order == STORE_TAIL && sel->limit > 0;
	if (add_columns(&cols, pp, c->idx)) {
		store_reader_fail(rd, "out of memory");
		goto fail;
	}
	if (c->tail) {
		/* the newest limit + 1 inside, oldest first outside; the extra row only tells
		 * that there were more (store_cursor_truncated) */
		snprintf(tail, sizeof(tail), " ORDER BY %s DESC LIMIT :limit) ORDER BY 1", pp->pos);
		c->s = prepare_sel(rd, "SELECT *, count(*) OVER () FROM (SELECT ", cols.buf, sel,
				   pp, tail);
		if (c->s)
			bind_named(c->s, ":limit", sel->limit < INT64_MAX ? sel->limit + 1 : 0);
	} else {
		int n = 0;
		switch (sel->order) {
		case STORE_NEWEST:
			n = snprintf(tail, sizeof(tail), " ORDER BY %s DESC", pp->pos);
			break;
		case STORE_BY_TIME:
			n = snprintf(tail, sizeof(tail), " ORDER BY %s, %s", pp->time, pp->pos);
			break;
		case STORE_OLDEST:
		case STORE_TAIL:
			n = snprintf(tail, sizeof(tail), " ORDER BY %s", pp->pos);
			break;
		}
		if (sel->limit)
			snprintf(tail + n, sizeof(tail) - (size_t)n, " LIMIT :limit");
		c->s = prepare_sel(rd, "SELECT ", cols.buf, sel, pp, tail);
		if (c->s)
			bind_named(c->s, ":limit", sel->limit);
	}
	if (!c->s)
		goto fail;
	strbuf_release(&cols);
	return c;
fail:
	strbuf_release(&cols);
	plan_release(&c->p);
	free(c);
	return NULL;
}

static struct lr_str col_str(sqlite3_stmt *s, int i)
{
	struct lr_str v = {NULL, 0};
	if (i < 0 || sqlite3_column_type(s, i) == SQLITE_NULL)
		return v;
	const void *p = sqlite3_column_blob(s, i);
	v.len = (uint32_t)sqlite3_column_bytes(s, i);
	v.p = p ? p : "";
	return v;
}

static int64_t col_i64(sqlite3_stmt *s, int i)
{
	if (i < 0 || sqlite3_column_type(s, i) == SQLITE_NULL)
		return LR_NONE;
	return sqlite3_column_int64(s, i);
}

static int32_t col_timer(sqlite3_stmt *s, int i)
{
	if (i < 0 || sqlite3_column_type(s, i) == SQLITE_NULL)
		return LR_TIMER_NONE;
	return sqlite3_column_int(s, i);
}

static void fill_line(struct sq_cursor *c)
{
	sqlite3_stmt *s = c->s;
	const int *x = c->idx;
	struct store_line *ln = &c->line;
	struct logrec *r = &ln->rec;
	memset(ln, 0, sizeof(*ln));
	logrec_clear(r);
	ln->pos.v = sqlite3_column_int64(s, x[K_POS]);
	ln->ts_ms = col_i64(s, x[K_TS]);
	r->kind = (enum lr_kind)sqlite3_column_int(s, x[K_KIND]);
	ln->recv_ms = col_i64(s, x[K_RECV]);
	ln->source = col_str(s, x[K_SOURCE]);
	ln->raw = col_str(s, x[K_RAW]);
	if (x[K_LFLAGS] >= 0)
		ln->flags = (unsigned)sqlite3_column_int(s, x[K_LFLAGS]);
	r->host = col_str(s, x[K_HOST]);
	r->tag = col_str(s, x[K_PROGRAM]);
	r->pid = col_i64(s, x[K_PID]);
	if (x[K_REASON] >= 0)
		r->reason = (const char *)sqlite3_column_text(s, x[K_REASON]);
	if (x[K_STATUS] >= 0)
		r->status = (enum lr_status)sqlite3_column_int(s, x[K_STATUS]);

	/* traffic */
	r->frontend = col_str(s, x[R_FE]);
	r->backend = col_str(s, x[R_BE]);
	r->server = col_str(s, x[R_SRV]);
	r->status_code = col_i64(s, x[R_CODE]);
	struct lr_str term = col_str(s, x[R_TERM]);
	if (term.p) {
		size_t n = term.len < sizeof(r->term) - 1 ? term.len : sizeof(r->term) - 1;
		memcpy(r->term, term.p, n);
		r->term[n] = '\0';
	}
	r->client_ip = col_str(s, x[R_CLIENT]);
	r->client_port = col_i64(s, x[R_CPORT]);
	r->method = col_str(s, x[R_METHOD]);
	r->path = col_str(s, x[R_PATH]);
	r->query = col_str(s, x[R_QUERY]);
	r->version = col_str(s, x[R_VERSION]);
	r->uri = col_str(s, x[R_URI]);
	r->t_req = col_timer(s, x[R_TREQ]);
	r->t_wait = col_timer(s, x[R_TWAIT]);
	r->t_connect = col_timer(s, x[R_TCONN]);
	r->t_resp = col_timer(s, x[R_TRESP]);
	r->t_active = col_timer(s, x[R_TACT]);
	r->bytes_read = col_i64(s, x[R_BREAD]);
	r->bytes_uploaded = col_i64(s, x[R_BUP]);
	r->cookie_req = col_str(s, x[R_CKREQ]);
	r->cookie_resp = col_str(s, x[R_CKRESP]);
	r->actconn = col_i64(s, x[R_ACTCONN]);
	r->feconn = col_i64(s, x[R_FECONN]);
	r->beconn = col_i64(s, x[R_BECONN]);
	r->srv_conn = col_i64(s, x[R_SRVCONN]);
	r->retries = col_i64(s, x[R_RETRIES]);
	r->srv_queue = col_i64(s, x[R_SQUEUE]);
	r->backend_queue = col_i64(s, x[R_BQUEUE]);
	r->cap_req = col_str(s, x[R_CAPREQ]);
	r->cap_resp = col_str(s, x[R_CAPRESP]);
	r->ssl_sni = col_str(s, x[R_SNI]);
	r->ssl_version = col_str(s, x[R_SSLVER]);
	r->ssl_cipher = col_str(s, x[R_CIPHER]);
	r->ssl_errors = col_str(s, x[R_SSLERR]);
	r->unique_id = col_str(s, x[R_UID]);
	r->dst_ip = col_str(s, x[R_DSTIP]);
	r->dst_port = col_i64(s, x[R_DSTPORT]);
	if (x[R_FLAGS] >= 0 && sqlite3_column_type(s, x[R_FLAGS]) != SQLITE_NULL)
		r->flags = (uint32_t)sqlite3_column_int64(s, x[R_FLAGS]);
	if (col_i64(s, x[R_REDISP]) > 0)
		r->flags |= LR_F_REDISPATCH;

	/* events: store.c keeps a connection's frontend, bind and message in proxy, server and
	 * info */
	if (r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR) {
		r->frontend = col_str(s, x[E_PROXY]);
		r->bind = col_str(s, x[E_SERVER]);
		r->message = col_str(s, x[E_INFO]);
		r->mode = col_str(s, x[E_MODE]);
	} else {
		r->ev_proxy = col_str(s, x[E_PROXY]);
		r->ev_server = col_str(s, x[E_SERVER]);
		r->ev_state = col_str(s, x[E_STATE]);
		r->ev_reason = col_str(s, x[E_REASON]);
		r->ev_info = col_str(s, x[E_INFO]);
	}
	if (x[E_CLIENT] >= 0 && r->kind != LR_HTTP && r->kind != LR_TCP) {
		r->client_ip = col_str(s, x[E_CLIENT]);
		r->client_port = col_i64(s, x[E_CPORT]);
		r->dst_ip = col_str(s, x[E_DSTIP]);
		r->dst_port = col_i64(s, x[E_DSTPORT]);
		r->ev_check_ms = col_timer(s, x[E_CHECK]);
		r->ev_backup = col_i64(s, x[E_BACKUP]) > 0;
		r->ev_active_left = col_i64(s, x[E_ALEFT]);
		r->ev_backup_left = col_i64(s, x[E_BLEFT]);
	}
}

static int sq_cursor_next(struct store_reader *rd, void *cur, const struct store_line **line)
{
	struct sq_cursor *c = cur;
	for (;;) {
		int rc = sqlite3_step(c->s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return dbfail(rd, "cannot read");
		if (c->tail && c->first) {
			c->first = 0;
			if (sqlite3_column_int64(c->s, sqlite3_column_count(c->s) - 1) > c->limit) {
				c->truncated = 1;
				continue;
			}
		}
		c->first = 0;
		fill_line(c);
		*line = &c->line;
		return 1;
	}
}

static int sq_cursor_truncated(const void *cur)
{
	const struct sq_cursor *c = cur;
	return c->truncated;
}

static void sq_cursor_close(void *cur)
{
	struct sq_cursor *c = cur;
	if (!c)
		return;
	sqlite3_finalize(c->s);
	plan_release(&c->p);
	free(c);
}

static int sq_count(struct store_reader *rd, const struct store_sel *sel, int64_t *n)
{
	struct plan p;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (!make_plan(rd, sel, 0, &p) &&
	    (s = prepare_sel(rd, "SELECT ", "count(*)", sel, &p, ""))) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*n = sqlite3_column_int64(s, 0);
		ret = finish(rd, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "cannot count");
	}
	plan_release(&p);
	return ret;
}

static int sq_histogram(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			int64_t width_ms, size_t nbins, int64_t *counts)
{
	struct store_sel hs = *sel;
	struct plan p;
	char what[160];
	sqlite3_stmt *s = NULL;
	int64_t span, end;
	int ret = -1, rc;
	/* only the bins' span is read, and counted per bin in SQL */
	if (__builtin_mul_overflow((int64_t)nbins, width_ms, &span) ||
	    __builtin_add_overflow(t0, span, &end))
		end = INT64_MAX;
	if (hs.since_ms < t0)
		hs.since_ms = t0;
	if (hs.until_ms > end)
		hs.until_ms = end;
	if (hs.until_ms <= hs.since_ms)
		return 0;
	if (make_plan(rd, &hs, 0, &p))
		goto out;
	/* the bins as numbers: a named parameter here, before the query's ?1..?N in the text,
	 * would be given index 1 and take the query's first value */
	snprintf(what, sizeof(what), "(%s - (%lld)) / %lld, count(*)", p.time, (long long)t0,
		 (long long)width_ms);
	if (!(s = prepare_sel(rd, "SELECT ", what, &hs, &p, " GROUP BY 1")))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_INTEGER)
			continue;
		int64_t b = sqlite3_column_int64(s, 0);
		if (b >= 0 && (uint64_t)b < nbins)
			counts[b] += sqlite3_column_int64(s, 1);
	}
	ret = finish(rd, s, rc, "cannot count");
out:
	plan_release(&p);
	return ret;
}

/* ------------------------------------------------------------------------ aggregates */

/* Interned names: id -> name. */
struct names {
	char **v; /* owned, v[id] may be NULL */
	size_t n;
};

static void names_release(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	memset(nm, 0, sizeof(*nm));
}

static int names_load(struct store_reader *rd, struct names *nm)
{
	const char *sql = "SELECT id, name FROM names";
	sqlite3_stmt *s = prepare(rd, sql, strlen(sql), "cannot read names");
	int rc;
	memset(nm, 0, sizeof(*nm));
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		if (id <= 0 || id > INT32_MAX)
			continue;
		if ((size_t)id >= nm->n) {
			size_t n = (size_t)id + 64;
			char **v = realloc(nm->v, n * sizeof(*v));
			if (!v)
				break;
			memset(v + nm->n, 0, (n - nm->n) * sizeof(*v));
			nm->v = v;
			nm->n = n;
		}
		const unsigned char *t = sqlite3_column_text(s, 1);
		free(nm->v[id]);
		nm->v[id] = t ? strdup((const char *)t) : NULL;
		if (t && !nm->v[id])
			break;
	}
	if (finish(rd, s, rc, "cannot read names")) {
		names_release(nm);
		return -1;
	}
	return 0;
}

static const char *names_get(const struct names *nm, int64_t id)
{
	return id > 0 && (uint64_t)id < nm->n ? nm->v[id] : NULL;
}

/* The id of name, or -1 when the store has none by that name. */
static int64_t names_find(const struct names *nm, const char *name)
{
	for (size_t i = 1; i < nm->n; i++)
		if (nm->v[i] && !strcmp(nm->v[i], name))
			return (int64_t)i;
	return -1;
}

/* The filter of a rollup read: the window in buckets and name ids (0: any). */
struct rfilter {
	int64_t lo, hi;
	int64_t fe, be, srv;
	int kind; /* 0: any */
	int none; /* a name the store does not know, or no kind: no rows */
};

static void make_rfilter(const struct store_sel *sel, const struct names *nm, struct rfilter *f)
{
	memset(f, 0, sizeof(*f));
	f->lo = sel->since_ms;
	f->hi = sel->until_ms;
	if (sel->frontend && (f->fe = names_find(nm, sel->frontend)) < 0)
		f->none = 1;
	if (sel->backend && (f->be = names_find(nm, sel->backend)) < 0)
		f->none = 1;
	if (sel->server && (f->srv = names_find(nm, sel->server)) < 0)
		f->none = 1;
	if (sel->kinds == STORE_KIND(LR_HTTP))
		f->kind = LR_HTTP;
	else if (sel->kinds == STORE_KIND(LR_TCP))
		f->kind = LR_TCP;
}

/* Prepares "select FROM table WHERE bucket … [AND fe/be/srv/kind …] tail", binding the filter.
 * has_srv, has_kind: the table has those columns. NULL on error. */
static sqlite3_stmt *prepare_rollup(struct store_reader *rd, const char *select, const char *table,
				    const struct rfilter *f, int has_srv, int has_kind,
				    const char *tail)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "%s FROM %s WHERE bucket >= ?1 AND bucket < ?2%s%s%s%s %s",
		 select, table, f->fe ? " AND fe = ?3" : "", f->be ? " AND be = ?4" : "",
		 f->srv && has_srv ? " AND srv = ?5" : "",
		 f->kind && has_kind ? " AND kind = ?6" : "", tail);
	sqlite3_stmt *s = prepare(rd, sql, strlen(sql), "cannot read the rollups");
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, f->lo);
	sqlite3_bind_int64(s, 2, f->hi);
	if (f->fe)
		sqlite3_bind_int64(s, 3, f->fe);
	if (f->be)
		sqlite3_bind_int64(s, 4, f->be);
	if (f->srv && has_srv)
		sqlite3_bind_int64(s, 5, f->srv);
	if (f->kind && has_kind)
		sqlite3_bind_int64(s, 6, f->kind);
	return s;
}

struct akey {
	int32_t fe, be, srv, kind;
};

/* The aggregate of the key in the first four columns of s (created empty). NULL: no memory. */
static struct rollup_agg *agg_at(struct hmap *m, sqlite3_stmt *s)
{
	struct akey k = {sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
			 sqlite3_column_int(s, 2), sqlite3_column_int(s, 3)};
	int isnew;
	struct hmap_ent *e = hmap_put(m, &k, sizeof(k), &isnew);
	if (!e)
		return NULL;
	if (isnew) {
		struct rollup_agg *a = calloc(1, sizeof(*a));
		if (!a)
			return NULL;
		a->key.fe = k.fe;
		a->key.be = k.be;
		a->key.srv = k.srv;
		a->key.kind = k.kind;
		e->val = a;
	}
	return e->val;
}

static int read_sums(struct store_reader *rd, const struct rfilter *f, struct hmap *m)
{
	sqlite3_stmt *s = prepare_rollup(rd,
					 "SELECT fe, be, srv, kind, requests, c1xx, c2xx, c3xx,"
					 " c4xx, c5xx, cother, errors, retries, redispatches,"
					 " bytes_read, bytes_up, logasap",
					 "rollup", f, 1, 1, "");
	int rc;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a = agg_at(m, s);
		int col = 4;
		if (!a)
			break;
		a->requests += sqlite3_column_int64(s, col++);
		for (int k = 0; k < RC_N; k++)
			a->cls[k] += sqlite3_column_int64(s, col++);
		a->errors += sqlite3_column_int64(s, col++);
		a->retries += sqlite3_column_int64(s, col++);
		a->redispatches += sqlite3_column_int64(s, col++);
		a->bytes_read += sqlite3_column_int64(s, col++);
		a->bytes_up += sqlite3_column_int64(s, col++);
		a->logasap += sqlite3_column_int64(s, col++);
	}
	return finish(rd, s, rc, "cannot read rollup");
}

static int read_pairs(struct store_reader *rd, const struct rfilter *f, struct hmap *m, int terms)
{
	sqlite3_stmt *s = prepare_rollup(rd,
					 terms ? "SELECT fe, be, srv, kind, term, n"
					       : "SELECT fe, be, srv, kind, code, n",
					 terms ? "rollup_term" : "rollup_code", f, 1, 1, "");
	int rc;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a = agg_at(m, s);
		int64_t key;
		if (!a)
			break;
		if (terms) {
			const unsigned char *t = sqlite3_column_text(s, 4);
			if (!t || sqlite3_column_bytes(s, 4) != 2)
				continue;
			key = ((int64_t)t[0] << 8) | t[1];
		} else {
			key = sqlite3_column_int64(s, 4);
		}
		int64_t n = sqlite3_column_int64(s, 5);
		if (terms ? rollup_pair_add(&a->terms, &a->nterms, &a->aterms, key, n)
			  : rollup_pair_add(&a->codes, &a->ncodes, &a->acodes, key, n))
			break;
	}
	return finish(rd, s, rc, terms ? "cannot read rollup_term" : "cannot read rollup_code");
}

static int read_timers(struct store_reader *rd, const struct rfilter *f, struct hmap *m)
{
	sqlite3_stmt *s = prepare_rollup(rd, "SELECT fe, be, srv, kind, timer, n, sum, max, hist",
					 "rollup_timer", f, 1, 1, "");
	int rc;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a = agg_at(m, s);
		int t = sqlite3_column_int(s, 4);
		if (!a)
			break;
		if (t < 0 || t >= RT_N)
			continue;
		const void *blob = sqlite3_column_blob(s, 8);
		size_t len = (size_t)sqlite3_column_bytes(s, 8);
		if (rollup_agg_add_timer(a, (enum rollup_timer)t, sqlite3_column_int64(s, 5),
					 sqlite3_column_int64(s, 6), sqlite3_column_int64(s, 7),
					 blob ? blob : "", len)) {
			sqlite3_finalize(s);
			return store_reader_fail(rd, "malformed latency histogram in rollup_timer");
		}
	}
	return finish(rd, s, rc, "cannot read rollup_timer");
}

static int sq_aggregate(struct store_reader *rd, const struct store_sel *sel, store_agg_fn fn,
			void *arg)
{
	struct names nm;
	struct rfilter f;
	struct hmap m = HMAP_INIT;
	int ret = -1;
	if (names_load(rd, &nm))
		return -1;
	make_rfilter(sel, &nm, &f);
	if (f.none) {
		ret = 0;
		goto out;
	}
	if (read_sums(rd, &f, &m) || read_pairs(rd, &f, &m, 0) || read_pairs(rd, &f, &m, 1) ||
	    read_timers(rd, &f, &m))
		goto out;
	ret = 0;
	for (size_t i = 0; i < m.cap && !ret; i++) {
		const struct rollup_agg *a = m.tab[i].val;
		if (!m.tab[i].key || !a)
			continue;
		ret = fn(arg, names_get(&nm, a->key.fe), names_get(&nm, a->key.be),
			 names_get(&nm, a->key.srv), a);
	}
out:
	hmap_release(&m, rollup_agg_free);
	names_release(&nm);
	return ret;
}

static int sq_line_stats(struct store_reader *rd, const struct store_sel *sel,
			 struct store_line_stats *out)
{
	struct rfilter f;
	memset(&f, 0, sizeof(f));
	f.lo = sel->since_ms;
	f.hi = sel->until_ms;
	sqlite3_stmt *s = prepare_rollup(rd,
					 "SELECT kind, status, sum(n), sum(truncated), min(min_ts),"
					 " max(max_ts)",
					 "rollup_lines", &f, 0, 0, "GROUP BY 1, 2");
	int rc;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(s, 0), status = sqlite3_column_int(s, 1);
		int64_t n = sqlite3_column_int64(s, 2);
		out->total += n;
		if (kind >= 0 && kind < LR_KIND_MAX)
			out->by_kind[kind] += n;
		if (status >= 0 && status <= LR_BAD)
			out->by_status[status] += n;
		out->truncated += sqlite3_column_int64(s, 3);
		int64_t lo = sqlite3_column_int64(s, 4), hi = sqlite3_column_int64(s, 5);
		if (out->first_ms == LR_NONE || lo < out->first_ms)
			out->first_ms = lo;
		if (out->last_ms == LR_NONE || hi > out->last_ms)
			out->last_ms = hi;
	}
	return finish(rd, s, rc, "cannot read rollup_lines");
}

/* One error path: (status, path) and its count. */
struct errpath {
	int64_t status, n;
	char *path; /* owned */
	size_t plen;
};

/* Most frequent first, then lower status, then path bytes. */
static int cmp_errpath(int64_t an, int64_t as, const char *ap, size_t al, const struct errpath *b)
{
	if (an != b->n)
		return an > b->n ? -1 : 1;
	if (as != b->status)
		return as < b->status ? -1 : 1;
	size_t n = al < b->plen ? al : b->plen;
	int d = memcmp(ap, b->path, n);
	return d ? d : (al > b->plen) - (al < b->plen);
}

/* The top error paths of each backend id, kept ranked as candidates arrive: one comparison
 * with the last of a full list rejects most candidates. */
struct errtop {
	struct errpath *e; /* per backend id: top slots */
	size_t *n;	   /* per backend id: slots used */
	size_t nbe, top;
};

static void errtop_release(struct errtop *t)
{
	for (size_t b = 0; b < t->nbe; b++)
		for (size_t i = 0; i < t->n[b]; i++)
			free(t->e[b * t->top + i].path);
	free(t->e);
	free(t->n);
	memset(t, 0, sizeof(*t));
}

/* Offers (be, status, path, n). Returns 0 or -1 (out of memory). */
static int errtop_offer(struct errtop *t, int64_t be, int64_t status, const char *path, size_t plen,
			int64_t n)
{
	if (be < 0 || be > INT32_MAX)
		return 0;
	if ((size_t)be >= t->nbe) {
		size_t nbe = (size_t)be + 16;
		struct errpath *e = realloc(t->e, nbe * t->top * sizeof(*e));
		size_t *cnt;
		if (!e)
			return -1;
		t->e = e;
		if (!(cnt = realloc(t->n, nbe * sizeof(*cnt))))
			return -1;
		memset(cnt + t->nbe, 0, (nbe - t->nbe) * sizeof(*cnt));
		t->n = cnt;
		t->nbe = nbe;
	}
	struct errpath *list = t->e + (size_t)be * t->top;
	size_t used = t->n[be], pos = used;
	while (pos > 0 && cmp_errpath(n, status, path, plen, &list[pos - 1]) < 0)
		pos--;
	if (pos >= t->top)
		return 0;
	char *copy = malloc(plen + 1);
	if (!copy)
		return -1;
	memcpy(copy, path, plen);
	copy[plen] = '\0';
	if (used == t->top)
		free(list[--used].path);
	memmove(list + pos + 1, list + pos, (used - pos) * sizeof(*list));
	list[pos] = (struct errpath){status, n, copy, plen};
	t->n[be] = used + 1;
	return 0;
}

/* Without a window or a frontend or server filter, the all-time table is already summed per
 * backend, status and path: its rows go straight to the top lists. Otherwise the rows (per
 * bucket, frontend and server) are summed in a hash map first. */
static int sq_error_paths(struct store_reader *rd, const struct store_sel *sel, size_t top,
			  store_errpath_fn fn, void *arg)
{
	struct names nm;
	struct rfilter f;
	struct hmap sums = HMAP_INIT;
	struct errtop t = {NULL, NULL, 0, top};
	struct strbuf key = STRBUF_INIT;
	int ret = -1, rc, summed = 0;
	sqlite3_stmt *s;
	if (names_load(rd, &nm))
		return -1;
	make_rfilter(sel, &nm, &f);
	if (f.none || sel->kinds == STORE_KIND(LR_TCP)) {
		ret = 0;
		goto out;
	}
	if (f.lo == INT64_MIN && f.hi == INT64_MAX && !f.fe && !f.srv) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT be, status, path, n FROM rollup_errpath_all%s",
			 f.be ? " WHERE be = ?1" : "");
		s = prepare(rd, sql, strlen(sql), "cannot read rollup_errpath_all");
		if (s && f.be)
			sqlite3_bind_int64(s, 1, f.be);
	} else {
		s = prepare_rollup(rd, "SELECT be, status, path, n", "rollup_errpath", &f, 1, 0,
				   "");
		summed = 1;
	}
	if (!s)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const void *path = sqlite3_column_blob(s, 2);
		size_t plen = (size_t)sqlite3_column_bytes(s, 2);
		if (!summed) {
			if (errtop_offer(&t, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
					 path ? path : "", plen, sqlite3_column_int64(s, 3)))
				break;
			continue;
		}
		int32_t k[2] = {sqlite3_column_int(s, 0), sqlite3_column_int(s, 1)};
		int isnew;
		strbuf_reset(&key);
		if (strbuf_add(&key, k, sizeof(k)) || (plen && strbuf_add(&key, path, plen)))
			break;
		struct hmap_ent *e = hmap_put(&sums, key.buf, key.len, &isnew);
		if (!e || (isnew && !(e->val = calloc(1, sizeof(int64_t)))))
			break;
		*(int64_t *)e->val += sqlite3_column_int64(s, 3);
	}
	if (finish(rd, s, rc, "cannot read rollup_errpath"))
		goto out;
	for (size_t i = 0; i < sums.cap; i++) {
		const struct hmap_ent *e = &sums.tab[i];
		int32_t k[2];
		if (!e->key)
			continue;
		memcpy(k, e->key, sizeof(k));
		if (errtop_offer(&t, k[0], k[1], e->key + sizeof(k), e->klen - sizeof(k),
				 *(int64_t *)e->val)) {
			store_reader_fail(rd, "out of memory");
			goto out;
		}
	}
	ret = 0;
	for (size_t b = 0; b < t.nbe && !ret; b++)
		for (size_t i = 0; i < t.n[b] && !ret; i++) {
			const struct errpath *x = &t.e[b * top + i];
			ret = fn(arg, names_get(&nm, (int64_t)b), x->status, x->path, x->plen,
				 x->n);
		}
out:
	errtop_release(&t);
	strbuf_release(&key);
	hmap_release(&sums, free);
	names_release(&nm);
	return ret;
}

static int whole(int64_t v, int64_t bucket)
{
	return v % bucket == 0;
}

/* Series from the request records, exactly: the columns rollup_is_error looks at, so both ways
 * count errors alike. */
static int series_records(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			  int64_t w, size_t nbins, struct store_bin *bins)
{
	struct store_sel rs = *sel;
	struct plan p;
	rs.clock = STORE_LOGGED;
	rs.kinds = sel->kinds ? sel->kinds : STORE_KINDS_TRAFFIC;
	if (make_plan(rd, &rs, 0, &p))
		return -1; /* no query: nothing to release */
	sqlite3_stmt *s = prepare_sel(rd, "SELECT ",
				      "r.ts_ms, r.mode = 'http', r.status, r.term, r.retries,"
				      " r.flags, r.redispatched",
				      &rs, &p, "");
	int rc;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL)
			continue;
		int64_t b = bin_of(sqlite3_column_int64(s, 0), t0, w, nbins);
		if (b < 0)
			continue;
		struct store_bin *bin = &bins[b];
		struct logrec rec;
		memset(&rec, 0, sizeof(rec));
		rec.kind = sqlite3_column_int(s, 1) ? LR_HTTP : LR_TCP;
		rec.status_code = col_i64(s, 2);
		const unsigned char *term = sqlite3_column_text(s, 3);
		if (term)
			snprintf(rec.term, sizeof(rec.term), "%s", (const char *)term);
		rec.retries = col_i64(s, 4);
		rec.flags = (uint32_t)sqlite3_column_int64(s, 5);
		if (sqlite3_column_int(s, 6))
			rec.flags |= LR_F_REDISPATCH;
		if (rec.kind == LR_HTTP)
			bin->cls[rollup_class_of(rec.status_code)]++;
		bin->errors += rollup_is_error(&rec);
		bin->requests++;
	}
	return finish(rd, s, rc, "cannot read the time series");
}

static int sq_series(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		     int64_t width_ms, size_t nbins, struct store_bin *bins)
{
	struct store_info info;
	struct names nm;
	struct rfilter f;
	if (sq_info(rd, &info))
		return -1;
	int64_t bk = info.rollup_ms;
	if (!whole(t0, bk) || !whole(width_ms, bk) ||
	    (sel->since_ms != INT64_MIN && !whole(sel->since_ms, bk)) ||
	    (sel->until_ms != INT64_MAX && !whole(sel->until_ms, bk)))
		return series_records(rd, sel, t0, width_ms, nbins, bins);
	if (names_load(rd, &nm))
		return -1;
	make_rfilter(sel, &nm, &f);
	names_release(&nm);
	if (f.none)
		return 0;
	sqlite3_stmt *s = prepare_rollup(rd,
					 "SELECT bucket, c1xx, c2xx, c3xx, c4xx, c5xx, cother,"
					 " errors, requests",
					 "rollup", &f, 1, 1, "");
	int rc;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t b = bin_of(sqlite3_column_int64(s, 0), t0, width_ms, nbins);
		if (b < 0)
			continue;
		for (int k = 0; k < RC_N; k++)
			bins[b].cls[k] += sqlite3_column_int64(s, 1 + k);
		bins[b].errors += sqlite3_column_int64(s, 7);
		bins[b].requests += sqlite3_column_int64(s, 8);
	}
	return finish(rd, s, rc, "cannot read the time series");
}

static int sq_counters(struct store_reader *rd, store_counter_fn fn, void *arg)
{
	const char *sql = "SELECT name, value FROM counters ORDER BY name";
	sqlite3_stmt *s = prepare(rd, sql, strlen(sql), "cannot read counters");
	int rc, ret = 0;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);
		if (!name)
			continue;
		if ((ret = fn(arg, (const char *)name, sqlite3_column_int64(s, 1))) != 0) {
			sqlite3_finalize(s);
			return ret;
		}
	}
	return finish(rd, s, rc, "cannot read counters");
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.snapshot_begin = sq_snapshot_begin,
	.snapshot_end = sq_snapshot_end,
	.info = sq_info,
	.end = sq_end,
	.cursor_open = sq_cursor_open,
	.cursor_next = sq_cursor_next,
	.cursor_truncated = sq_cursor_truncated,
	.cursor_close = sq_cursor_close,
	.count = sq_count,
	.histogram = sq_histogram,
	.aggregate = sq_aggregate,
	.line_stats = sq_line_stats,
	.error_paths = sq_error_paths,
	.series = sq_series,
	.counters = sq_counters,
};
