/* The SQLite read backend (store/backend.h): the read API over the file store.c writes. Lines
 * and records come out of its blocks (block_read.c: positions are line ids); aggregates out of
 * the per-minute rollups and the names table (store.c's migrations). */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "store/backend.h"
#include "store/rollup.h"
#include "store/sqlite.h"
#include "store/block_read.h"
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
	int64_t end;
	if (one_int(rd, "SELECT value FROM meta WHERE key = 'rollup_bucket_ms'", ROLLUP_BUCKET_MS,
		    &bucket) ||
	    bread_end(sq_of(rd)->db, &end, rd->err, sizeof(rd->err)))
		return -1;
	out->records_hint = end - 1;
	out->rollup_ms = bucket > 0 ? bucket : ROLLUP_BUCKET_MS;
	return one_int(rd, "SELECT value FROM meta WHERE key = 'pruned_ts_ms'", LR_NONE,
		       &out->lines_removed_ms);
}

static int sq_end(struct store_reader *rd, struct store_pos *out)
{
	return bread_end(sq_of(rd)->db, &out->v, rd->err, sizeof(rd->err));
}

/* ------------------------------------------------------------------------ lines */

/* The block reader decodes whole blocks between two SQLite steps, so the progress callback
 * alone would notice a deadline late: it asks the same question before every block and every
 * few lines (block_read.h). */
static struct bread_stop sq_bstop(struct store_reader *rd)
{
	return (struct bread_stop){sq_progress, rd};
}

/* r, the result of a block read; its message says so when the deadline stopped it. */
static int sq_blk(struct store_reader *rd, int r)
{
	if (r < 0 && rd->timed_out)
		return store_reader_fail(rd,
					 "cannot read: the read ran over its time limit (%lld ms)",
					 (long long)rd->limit_ms);
	return r;
}

static void *sq_cursor_open(struct store_reader *rd, const struct store_sel *sel)
{
	struct bread_stop stop = sq_bstop(rd);
	void *c = bread_cursor_open(sq_of(rd)->db, sel, &stop, rd->err, sizeof(rd->err));
	if (!c)
		sq_blk(rd, -1);
	return c;
}

static int sq_cursor_next(struct store_reader *rd, void *cur, const struct store_line **line)
{
	return sq_blk(rd, bread_cursor_next(cur, line, rd->err, sizeof(rd->err)));
}

static int sq_cursor_truncated(const void *cur)
{
	return bread_cursor_truncated(cur);
}

static void sq_cursor_close(void *cur)
{
	bread_cursor_close(cur);
}

static int sq_count(struct store_reader *rd, const struct store_sel *sel, int64_t *n)
{
	struct bread_stop stop = sq_bstop(rd);
	return sq_blk(rd, bread_count(sq_of(rd)->db, sel, &stop, n, rd->err, sizeof(rd->err)));
}

static int sq_histogram(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			int64_t width_ms, size_t nbins, int64_t *counts)
{
	struct bread_stop stop = sq_bstop(rd);
	return sq_blk(rd, bread_histogram(sq_of(rd)->db, sel, &stop, t0, width_ms, nbins, counts,
					  rd->err, sizeof(rd->err)));
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

/* The last key a read found, and its aggregate: the rows come in key order within a bucket, so
 * the next row's key is often the same (a status code or state after another). */
struct alast {
	struct akey k;
	struct rollup_agg *a; /* NULL: none yet */
};

/* The aggregate of the key in the first four columns of s (created empty), looked up in m
 * unless it is the key of *last. NULL: no memory. */
static struct rollup_agg *agg_at(struct hmap *m, sqlite3_stmt *s, struct alast *last)
{
	struct akey k = {sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
			 sqlite3_column_int(s, 2), sqlite3_column_int(s, 3)};
	if (last->a && !memcmp(&k, &last->k, sizeof(k)))
		return last->a;
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
	last->k = k;
	return last->a = e->val;
}

static int read_sums(struct store_reader *rd, const struct rfilter *f, struct hmap *m)
{
	sqlite3_stmt *s = prepare_rollup(rd,
					 "SELECT fe, be, srv, kind, requests, c1xx, c2xx, c3xx,"
					 " c4xx, c5xx, cother, errors, retries, redispatches,"
					 " bytes_read, bytes_up, logasap",
					 "rollup", f, 1, 1, "");
	int rc;
	struct alast last = {{0, 0, 0, 0}, NULL};
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a = agg_at(m, s, &last);
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
	struct alast last = {{0, 0, 0, 0}, NULL};
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a = agg_at(m, s, &last);
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
	struct alast last = {{0, 0, 0, 0}, NULL};
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a = agg_at(m, s, &last);
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

/* Whether a candidate of be with n errors ranks after every path of a full list (fewer errors
 * than its last): then its path need not be read. */
static int errtop_below(const struct errtop *t, int64_t be, int64_t n)
{
	if (be < 0 || (size_t)be >= t->nbe || t->n[be] < t->top || !t->top)
		return 0;
	return n < t->e[(size_t)be * t->top + t->top - 1].n;
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
		if (!summed) {
			int64_t be = sqlite3_column_int64(s, 0), n = sqlite3_column_int64(s, 3);
			if (errtop_below(&t, be, n))
				continue;
			const void *path = sqlite3_column_blob(s, 2);
			size_t plen = (size_t)sqlite3_column_bytes(s, 2);
			if (errtop_offer(&t, be, sqlite3_column_int64(s, 1), path ? path : "", plen, n))
				break;
			continue;
		}
		const void *path = sqlite3_column_blob(s, 2);
		size_t plen = (size_t)sqlite3_column_bytes(s, 2);
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

/* The rollup filter of sel, with the store's names. Returns 0 or -1. */
static int load_rfilter(struct store_reader *rd, const struct store_sel *sel, struct rfilter *f)
{
	struct names nm;
	if (names_load(rd, &nm))
		return -1;
	make_rfilter(sel, &nm, f);
	names_release(&nm);
	return 0;
}

static int sq_series(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		     int64_t width_ms, size_t nbins, struct store_bin *bins)
{
	struct store_info info;
	struct rfilter f;
	if (sq_info(rd, &info))
		return -1;
	int64_t bk = info.rollup_ms;
	if (!whole(t0, bk) || !whole(width_ms, bk) ||
	    (sel->since_ms != INT64_MIN && !whole(sel->since_ms, bk)) ||
	    (sel->until_ms != INT64_MAX && !whole(sel->until_ms, bk))) {
		struct bread_stop stop = sq_bstop(rd);
		return sq_blk(rd, bread_series(sq_of(rd)->db, sel, &stop, t0, width_ms, nbins, bins,
					       rd->err, sizeof(rd->err)));
	}
	if (load_rfilter(rd, sel, &f))
		return -1;
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

/* rollup_timer's key begins with the bucket: its rows come in bucket order, so the bins come one
 * after the other and one aggregate is enough. */
static int sq_series_timer(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			   int64_t width_ms, size_t nbins, enum rollup_timer t,
			   store_bin_timer_fn fn, void *arg)
{
	struct rfilter f;
	struct rollup_agg a;
	char tail[64];
	int64_t cur = -1;
	int rc, ret = 0;
	if (load_rfilter(rd, sel, &f))
		return -1;
	if (f.none)
		return 0;
	snprintf(tail, sizeof(tail), "AND timer = %d ORDER BY bucket", (int)t);
	sqlite3_stmt *s = prepare_rollup(rd, "SELECT bucket, n, sum, max, hist", "rollup_timer", &f,
					 1, 1, tail);
	if (!s)
		return -1;
	memset(&a, 0, sizeof(a));
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t b = bin_of(sqlite3_column_int64(s, 0), t0, width_ms, nbins);
		if (b < 0)
			continue;
		if (b != cur && cur >= 0 && a.hist[t])
			ret = fn(arg, (size_t)cur, &a);
		if (b != cur)
			rollup_agg_release(&a);
		cur = b;
		const void *blob = sqlite3_column_blob(s, 4);
		if (ret == 0 &&
		    rollup_agg_add_timer(&a, t, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
					 sqlite3_column_int64(s, 3), blob ? blob : "",
					 (size_t)sqlite3_column_bytes(s, 4))) {
			rollup_agg_release(&a);
			sqlite3_finalize(s);
			return store_reader_fail(rd, "malformed latency histogram in rollup_timer");
		}
	}
	if (ret) {
		rollup_agg_release(&a);
		sqlite3_finalize(s);
		return ret;
	}
	if (finish(rd, s, rc, "cannot read rollup_timer")) {
		rollup_agg_release(&a);
		return -1;
	}
	if (cur >= 0 && a.hist[t])
		ret = fn(arg, (size_t)cur, &a);
	rollup_agg_release(&a);
	return ret;
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
	.series_timer = sq_series_timer,
	.counters = sq_counters,
};
