/* halog report's numbers, read from the rollups (see report.h). Raw rows are never scanned:
 * time windows are applied at the rollup bucket granularity (one minute). */
#include "report/report.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/invweights.h"

/* Scratch aggregation keys: a backend (be), a server of a backend (be, srv), a frontend (fe),
 * a backend under a frontend (fe, be). */
enum { K_BE, K_BESRV, K_FE, K_FEBE };
struct gkey {
	int32_t type, a, b;
};

struct ctx {
	sqlite3 *db;
	const struct report_opts *opts;
	struct report *r;
	char **names; /* id -> name (owned) */
	size_t nnames;
	struct hmap aggs; /* struct gkey -> struct rollup_agg * (key.kind is a bitmask of kinds) */
	int32_t fe_id, be_id; /* filters: 0 none, -1 unknown name (no rows) */
	char *err;
	size_t errsz;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errsz, fmt, ap);
	va_end(ap);
	return -1;
}

static int dbfail(struct ctx *c, const char *what)
{
	return fail(c, "%s: %s", what, sqlite3_errmsg(c->db));
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static char *col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	if (!t)
		return NULL;
	return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

static const char *name_of(const struct ctx *c, int32_t id)
{
	if (id > 0 && (size_t)id < c->nnames && c->names[id])
		return c->names[id];
	return "-";
}

static int load_names(struct ctx *c)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db, "SELECT id, name FROM names ORDER BY id", -1, &s, NULL))
		return dbfail(c, "cannot read names");
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		if (id <= 0 || id > INT32_MAX)
			continue;
		if ((size_t)id >= c->nnames) {
			size_t n = (size_t)id + 64;
			char **p = realloc(c->names, n * sizeof(*p));
			if (!p)
				break;
			memset(p + c->nnames, 0, (n - c->nnames) * sizeof(*p));
			c->names = p;
			c->nnames = n;
		}
		free(c->names[id]);
		c->names[id] = col_str(s, 1);
		if (c->opts->frontend && c->names[id] && !strcmp(c->names[id], c->opts->frontend))
			c->fe_id = (int32_t)id;
		if (c->opts->backend && c->names[id] && !strcmp(c->names[id], c->opts->backend))
			c->be_id = (int32_t)id;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(c, "cannot read names: %s",
			    rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(c->db));
	return 0;
}

static struct rollup_agg *agg(struct ctx *c, int type, int32_t a, int32_t b)
{
	struct gkey k = {type, a, b};
	int isnew;
	struct hmap_ent *e = hmap_put(&c->aggs, &k, sizeof(k), &isnew);
	if (!e)
		return NULL;
	if (isnew && !(e->val = calloc(1, sizeof(struct rollup_agg))))
		return NULL;
	return e->val;
}

/* The four aggregates a rollup row (fe, be, srv) adds to. */
static int aggs_of(struct ctx *c, int32_t fe, int32_t be, int32_t srv, struct rollup_agg *out[4])
{
	out[0] = agg(c, K_BE, be, 0);
	out[1] = agg(c, K_BESRV, be, srv);
	out[2] = agg(c, K_FE, fe, 0);
	out[3] = agg(c, K_FEBE, fe, be);
	for (int i = 0; i < 4; i++)
		if (!out[i])
			return fail(c, "out of memory");
	return 0;
}

/* Prepares sql + the window/filter clause; binds ?1 from, ?2 to, ?3 fe, ?4 be. */
static sqlite3_stmt *prep(struct ctx *c, const char *select, const char *from_where,
			  const char *tail, int filters)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "%s %s bucket >= ?1 AND bucket < ?2%s%s %s", select, from_where,
		 filters && c->fe_id ? " AND fe = ?3" : "",
		 filters && c->be_id ? " AND be = ?4" : "", tail);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
		dbfail(c, "cannot query rollups");
		return NULL;
	}
	sqlite3_bind_int64(s, 1, c->r->from_ms == LR_NONE ? INT64_MIN : c->r->from_ms);
	sqlite3_bind_int64(s, 2, c->r->to_ms == LR_NONE ? INT64_MAX : c->r->to_ms);
	if (filters && c->fe_id)
		sqlite3_bind_int(s, 3, c->fe_id);
	if (filters && c->be_id)
		sqlite3_bind_int(s, 4, c->be_id);
	return s;
}

static int finish(struct ctx *c, sqlite3_stmt *s, int rc, const char *what)
{
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? fail(c, "%s: out of memory", what)
					: fail(c, "%s: %s", what, sqlite3_errmsg(c->db));
	return 0;
}

static int read_rollup(struct ctx *c)
{
	sqlite3_stmt *s = prep(c,
			       "SELECT fe, be, srv, kind, requests, c1xx, c2xx, c3xx, c4xx, c5xx,"
			       " cother, errors, retries, redispatches, bytes_read, bytes_up,"
			       " logasap",
			       "FROM rollup WHERE", "", 1);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a[4];
		if (aggs_of(c, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
			    sqlite3_column_int(s, 2), a))
			break;
		int kind = sqlite3_column_int(s, 3);
		for (int i = 0; i < 4; i++) {
			int col = 4;
			if (kind > 0 && kind < 31)
				a[i]->key.kind |= 1 << kind;
			a[i]->requests += sqlite3_column_int64(s, col++);
			for (int k = 0; k < RC_N; k++)
				a[i]->cls[k] += sqlite3_column_int64(s, col++);
			a[i]->errors += sqlite3_column_int64(s, col++);
			a[i]->retries += sqlite3_column_int64(s, col++);
			a[i]->redispatches += sqlite3_column_int64(s, col++);
			a[i]->bytes_read += sqlite3_column_int64(s, col++);
			a[i]->bytes_up += sqlite3_column_int64(s, col++);
			a[i]->logasap += sqlite3_column_int64(s, col++);
		}
	}
	return finish(c, s, rc, "cannot read rollup");
}

static int read_pairs(struct ctx *c, int terms)
{
	sqlite3_stmt *s =
		prep(c, terms ? "SELECT fe, be, srv, term, n" : "SELECT fe, be, srv, code, n",
		     terms ? "FROM rollup_term WHERE" : "FROM rollup_code WHERE", "", 1);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a[4];
		if (aggs_of(c, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
			    sqlite3_column_int(s, 2), a))
			break;
		int64_t key;
		if (terms) {
			const unsigned char *t = sqlite3_column_text(s, 3);
			if (!t || sqlite3_column_bytes(s, 3) != 2)
				continue;
			key = ((int64_t)t[0] << 8) | t[1];
		} else {
			key = sqlite3_column_int64(s, 3);
		}
		int64_t n = sqlite3_column_int64(s, 4);
		for (int i = 0; i < 4; i++) {
			struct rollup_agg *x = a[i];
			if (terms ? rollup_pair_add(&x->terms, &x->nterms, &x->aterms, key, n)
				  : rollup_pair_add(&x->codes, &x->ncodes, &x->acodes, key, n)) {
				sqlite3_finalize(s);
				return fail(c, "out of memory");
			}
		}
	}
	return finish(c, s, rc, terms ? "cannot read rollup_term" : "cannot read rollup_code");
}

static int read_timers(struct ctx *c)
{
	sqlite3_stmt *s = prep(c, "SELECT fe, be, srv, timer, n, sum, max, hist",
			       "FROM rollup_timer WHERE", "", 1);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollup_agg *a[4];
		if (aggs_of(c, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
			    sqlite3_column_int(s, 2), a))
			break;
		int t = sqlite3_column_int(s, 3);
		if (t < 0 || t >= RT_N)
			continue;
		const void *blob = sqlite3_column_blob(s, 7);
		size_t len = (size_t)sqlite3_column_bytes(s, 7);
		for (int i = 0; i < 4; i++) {
			if (rollup_agg_add_timer(
				    a[i], (enum rollup_timer)t, sqlite3_column_int64(s, 4),
				    sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6),
				    blob ? blob : "", len)) {
				sqlite3_finalize(s);
				return fail(c, "malformed latency histogram in rollup_timer");
			}
		}
	}
	return finish(c, s, rc, "cannot read rollup_timer");
}

static int read_lines(struct ctx *c)
{
	struct report *r = c->r;
	sqlite3_stmt *s = prep(c,
			       "SELECT kind, status, sum(n), sum(truncated), min(min_ts),"
			       " max(max_ts)",
			       "FROM rollup_lines WHERE", "GROUP BY 1, 2", 0);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(s, 0), status = sqlite3_column_int(s, 1);
		int64_t n = sqlite3_column_int64(s, 2);
		r->lines_total += n;
		if (kind == LR_UNPARSED)
			r->lines_unparsed += n;
		else
			r->lines_parsed += n;
		if (status == LR_PARTIAL)
			r->lines_partial += n;
		if (kind >= 0 && kind < LR_KIND_MAX)
			r->by_kind[kind] += n;
		r->lines_truncated += sqlite3_column_int64(s, 3);
		int64_t lo = sqlite3_column_int64(s, 4), hi = sqlite3_column_int64(s, 5);
		if (r->first_ms == LR_NONE || lo < r->first_ms)
			r->first_ms = lo;
		if (r->last_ms == LR_NONE || hi > r->last_ms)
			r->last_ms = hi;
	}
	return finish(c, s, rc, "cannot read rollup_lines");
}

static int read_counters(struct ctx *c)
{
	struct report *r = c->r;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db, "SELECT name, value FROM counters ORDER BY name", -1, &s,
			       NULL) != SQLITE_OK)
		return dbfail(c, "cannot read counters");
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct report_counter *p = realloc(r->counters, (r->ncounters + 1) * sizeof(*p));
		if (!p)
			break;
		r->counters = p;
		p += r->ncounters;
		if (!(p->name = col_str(s, 0)))
			break;
		p->value = sqlite3_column_int64(s, 1);
		r->ncounters++;
	}
	return finish(c, s, rc, "cannot read counters");
}

static int is_special(const char *name)
{
	return name[0] == '<';
}

static void latencies(struct rollup_agg *a, struct report_lat *lat)
{
	static const double pct[4] = {50, 90, 95, 99};
	for (int t = 0; t < RT_N; t++) {
		struct report_lat *l = &lat[t];
		uint64_t n = a->hist[t] ? (uint64_t)a->tn[t] : 0;
		l->n = (int64_t)n;
		int64_t *dst[4] = {&l->p50, &l->p90, &l->p95, &l->p99};
		for (int i = 0; i < 4; i++)
			*dst[i] = n ? hist_percentile(a->hist[t], n, pct[i], a->tmax[t]) : -1;
		l->max = n ? a->tmax[t] : -1;
		l->avg = n ? (double)a->tsum[t] / (double)n : 0;
	}
}

static int cmp_server(const void *x, const void *y)
{
	const struct report_server *a = x, *b = y;
	return strcmp(a->name, b->name);
}

static int cmp_group(const void *x, const void *y)
{
	const struct report_group *a = x, *b = y;
	return strcmp(a->name, b->name);
}

static int cmp_pair(const void *x, const void *y)
{
	const struct rollup_pair *a = x, *b = y;
	return a->key < b->key ? -1 : a->key > b->key;
}

static void sort_pairs(struct rollup_agg *a)
{
	if (a->ncodes)
		qsort(a->codes, a->ncodes, sizeof(*a->codes), cmp_pair);
	if (a->nterms)
		qsort(a->terms, a->nterms, sizeof(*a->terms), cmp_pair);
}

static struct report_group *find_group(struct report_group *g, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i].name, name))
			return &g[i];
	return NULL;
}

static struct report_server *add_member(struct report_group *g, const char *name)
{
	struct report_server *m = realloc(g->members, (g->nmembers + 1) * sizeof(*m));
	if (!m)
		return NULL;
	g->members = m;
	m += g->nmembers;
	memset(m, 0, sizeof(*m));
	if (!(m->name = xstrndup(name, strlen(name))))
		return NULL;
	m->special = is_special(name);
	m->expected = -1;
	m->weight = -1;
	g->nmembers++;
	return m;
}

static struct report_group *add_group(struct report_group **arr, size_t *n, const char *name)
{
	struct report_group *g = realloc(*arr, (*n + 1) * sizeof(*g));
	if (!g)
		return NULL;
	*arr = g;
	g += *n;
	memset(g, 0, sizeof(*g));
	if (!(g->name = xstrndup(name, strlen(name))))
		return NULL;
	(*n)++;
	return g;
}

/* Moves the scratch aggregates into the report's groups and members. */
static int build_groups(struct ctx *c)
{
	struct report *r = c->r;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->aggs.cap; i++) {
			struct hmap_ent *e = &c->aggs.tab[i];
			if (!e->key || !e->val)
				continue;
			struct gkey k;
			memcpy(&k, e->key, sizeof(k));
			struct rollup_agg *a = e->val;
			int tops = k.type == K_BE || k.type == K_FE;
			if (pass == 0 && tops) {
				struct report_group *g =
					k.type == K_BE ? add_group(&r->backends, &r->nbackends,
								   name_of(c, k.a))
						       : add_group(&r->frontends, &r->nfrontends,
								   name_of(c, k.a));
				if (!g)
					return fail(c, "out of memory");
				g->kinds = (unsigned)a->key.kind;
				g->agg = *a;
				free(a);
				e->val = NULL;
			} else if (pass == 1 && !tops) {
				struct report_group *g =
					k.type == K_BESRV ? find_group(r->backends, r->nbackends,
								       name_of(c, k.a))
							  : find_group(r->frontends, r->nfrontends,
								       name_of(c, k.a));
				if (!g)
					continue;
				struct report_server *m = add_member(g, name_of(c, k.b));
				if (!m)
					return fail(c, "out of memory");
				m->agg = *a;
				free(a);
				e->val = NULL;
			}
		}
	}
	return 0;
}

struct errpath_acc {
	int32_t be;
	int64_t status, n;
	const char *path; /* the hmap key after the fixed part (borrowed) */
	size_t plen;
};

static int cmp_errpath(const void *x, const void *y)
{
	const struct errpath_acc *a = x, *b = y;
	if (a->be != b->be)
		return a->be < b->be ? -1 : 1;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	if (a->status != b->status)
		return a->status < b->status ? -1 : 1;
	size_t n = a->plen < b->plen ? a->plen : b->plen;
	int d = memcmp(a->path, b->path, n);
	return d ? d : (a->plen > b->plen) - (a->plen < b->plen);
}

/* Puts (status, path, n) among g's top REPORT_TOP_PATHS if it belongs there. Returns 0 or -1. */
static int top_insert(struct report_group *g, int64_t status, const char *path, size_t plen,
		      int64_t n)
{
	struct errpath_acc cand = {0, status, n, path, plen};
	size_t pos = g->nerrpaths;
	while (pos > 0) {
		const struct report_errpath *o = &g->errpaths[pos - 1];
		struct errpath_acc other = {0, o->status, o->n, o->path, strlen(o->path)};
		if (cmp_errpath(&cand, &other) >= 0)
			break;
		pos--;
	}
	if (pos >= REPORT_TOP_PATHS)
		return 0;
	char *copy = xstrndup(path, plen);
	if (!copy)
		return -1;
	if (g->nerrpaths == REPORT_TOP_PATHS) {
		free(g->errpaths[REPORT_TOP_PATHS - 1].path);
		g->nerrpaths--;
	} else {
		struct report_errpath *p = realloc(g->errpaths, (g->nerrpaths + 1) * sizeof(*p));
		if (!p) {
			free(copy);
			return -1;
		}
		g->errpaths = p;
	}
	memmove(g->errpaths + pos + 1, g->errpaths + pos,
		(g->nerrpaths - pos) * sizeof(*g->errpaths));
	g->errpaths[pos].path = copy;
	g->errpaths[pos].status = status;
	g->errpaths[pos].n = n;
	g->nerrpaths++;
	return 0;
}

/* Without a window or a frontend filter, the all-time table is already summed per backend,
 * status and path: one pass keeps each backend's top paths. */
static int read_errpaths_all(struct ctx *c)
{
	struct report *r = c->r;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db,
			       c->be_id ? "SELECT be, status, path, n FROM rollup_errpath_all"
					  " WHERE be = ?1"
					: "SELECT be, status, path, n FROM rollup_errpath_all",
			       -1, &s, NULL) != SQLITE_OK)
		return dbfail(c, "cannot read rollup_errpath_all");
	if (c->be_id)
		sqlite3_bind_int(s, 1, c->be_id);
	struct report_group *g = NULL;
	int32_t gbe = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int32_t be = sqlite3_column_int(s, 0);
		if (!g || be != gbe) {
			gbe = be;
			g = find_group(r->backends, r->nbackends, name_of(c, be));
		}
		if (!g)
			continue;
		const char *path = (const char *)sqlite3_column_blob(s, 2);
		size_t plen = (size_t)sqlite3_column_bytes(s, 2);
		if (top_insert(g, sqlite3_column_int64(s, 1), path ? path : "", plen,
			       sqlite3_column_int64(s, 3)))
			break;
	}
	return finish(c, s, rc, "cannot read rollup_errpath_all");
}

/* Top error paths per backend: the rows are summed over buckets and servers in a hash map
 * (cheaper than an SQL GROUP BY that sorts every row), then only the sums are sorted. */
static int read_errpaths(struct ctx *c)
{
	if (c->r->from_ms == LR_NONE && c->r->to_ms == LR_NONE && !c->fe_id)
		return read_errpaths_all(c);
	struct report *r = c->r;
	struct hmap sums = HMAP_INIT;
	struct errpath_acc *acc = NULL;
	struct strbuf key = STRBUF_INIT;
	size_t nacc = 0;
	int ret = -1;
	sqlite3_stmt *s = prep(c, "SELECT be, status, path, n", "FROM rollup_errpath WHERE", "", 1);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int32_t k[3] = {sqlite3_column_int(s, 0), sqlite3_column_int(s, 1), 0};
		const void *path = sqlite3_column_blob(s, 2);
		size_t plen = (size_t)sqlite3_column_bytes(s, 2);
		int isnew;
		strbuf_reset(&key);
		if (strbuf_add(&key, k, sizeof(k)) || (plen && strbuf_add(&key, path, plen)))
			break;
		struct hmap_ent *e = hmap_put(&sums, key.buf, key.len, &isnew);
		if (!e || (isnew && !(e->val = calloc(1, sizeof(int64_t)))))
			break;
		*(int64_t *)e->val += sqlite3_column_int64(s, 3);
	}
	if (finish(c, s, rc, "cannot read rollup_errpath"))
		goto out;
	if (sums.n && !(acc = calloc(sums.n, sizeof(*acc)))) {
		fail(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sums.cap; i++) {
		const struct hmap_ent *e = &sums.tab[i];
		if (!e->key)
			continue;
		int32_t k[3];
		memcpy(k, e->key, sizeof(k));
		acc[nacc].be = k[0];
		acc[nacc].status = k[1];
		acc[nacc].n = *(int64_t *)e->val;
		acc[nacc].path = e->key + sizeof(k);
		acc[nacc].plen = e->klen - sizeof(k);
		nacc++;
	}
	if (nacc)
		qsort(acc, nacc, sizeof(*acc), cmp_errpath);
	struct report_group *g = NULL;
	int32_t gbe = 0;
	for (size_t i = 0; i < nacc; i++) {
		if (!g || gbe != acc[i].be) {
			gbe = acc[i].be;
			g = find_group(r->backends, r->nbackends, name_of(c, gbe));
		}
		if (!g || g->nerrpaths >= REPORT_TOP_PATHS)
			continue;
		struct report_errpath *p = realloc(g->errpaths, (g->nerrpaths + 1) * sizeof(*p));
		if (!p) {
			fail(c, "out of memory");
			goto out;
		}
		g->errpaths = p;
		p += g->nerrpaths;
		if (!(p->path = xstrndup(acc[i].path, acc[i].plen))) {
			fail(c, "out of memory");
			goto out;
		}
		p->status = acc[i].status;
		p->n = acc[i].n;
		g->nerrpaths++;
	}
	ret = 0;
out:
	free(acc);
	strbuf_release(&key);
	hmap_release(&sums, free);
	return ret;
}

static int read_events(struct ctx *c)
{
	struct report *r = c->r;
	sqlite3_stmt *s;
	/* events have no rollup: their table is small (state changes only) and scanned */
	if (sqlite3_prepare_v2(c->db,
			       "SELECT ts_ms, kind, proxy, server, state, reason, info FROM events"
			       " WHERE kind IN (5, 7) AND ts_ms >= ?1 AND ts_ms < ?2"
			       " ORDER BY ts_ms, line_id",
			       -1, &s, NULL) != SQLITE_OK)
		return dbfail(c, "cannot read events");
	sqlite3_bind_int64(s, 1, r->from_ms == LR_NONE ? INT64_MIN : r->from_ms);
	sqlite3_bind_int64(s, 2, r->to_ms == LR_NONE ? INT64_MAX : r->to_ms);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *proxy = (const char *)sqlite3_column_text(s, 2);
		if (!proxy)
			continue;
		if (c->opts->backend && strcmp(proxy, c->opts->backend))
			continue;
		if (c->opts->frontend && !c->opts->backend)
			continue; /* events belong to backends; a frontend filter hides them */
		struct report_group *g = find_group(r->backends, r->nbackends, proxy);
		if (!g && !(g = add_group(&r->backends, &r->nbackends, proxy)))
			break;
		if (g->nevents == REPORT_MAX_EVENTS) {
			/* keep the latest: drop the oldest */
			free(g->events[0].server);
			free(g->events[0].state);
			free(g->events[0].reason);
			free(g->events[0].info);
			memmove(g->events, g->events + 1, (g->nevents - 1) * sizeof(*g->events));
			g->nevents--;
			g->events_dropped++;
		}
		struct report_event *ev = realloc(g->events, (g->nevents + 1) * sizeof(*ev));
		if (!ev)
			break;
		g->events = ev;
		ev += g->nevents++;
		ev->ts_ms = sqlite3_column_int64(s, 0);
		ev->kind = sqlite3_column_int(s, 1);
		ev->server = col_str(s, 3);
		ev->state = col_str(s, 4);
		ev->reason = col_str(s, 5);
		ev->info = col_str(s, 6);
	}
	return finish(c, s, rc, "cannot read events");
}

/* Expected shares from the inventory (or equal weights), deviations, balance verdicts. */
static int balance(struct ctx *c, struct report_group *g)
{
	const struct invw_backend *ib = invweights_find(c->opts->inv, g->name);
	if (c->opts->inv && !ib)
		return 0;
	if (!ib && c->opts->check_balance < 0)
		return 0;
	if (ib) {
		/* servers of the inventory that got no traffic are listed with 0 */
		for (size_t i = 0; i < ib->n; i++) {
			int seen = 0;
			for (size_t j = 0; j < g->nmembers; j++)
				seen |= !strcmp(g->members[j].name, ib->servers[i].name);
			if (!seen && !ib->servers[i].slot && !add_member(g, ib->servers[i].name))
				return fail(c, "out of memory");
		}
	}
	int slots_seen = 0;
	int64_t prim_req = 0, backup_req = 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		struct report_server *m = &g->members[j];
		if (m->special)
			continue;
		m->weight = ib ? 0 : 1;
		if (!ib)
			continue;
		for (size_t i = 0; i < ib->n; i++) {
			const struct invw_server *is = &ib->servers[i];
			if (strcmp(is->name, m->name))
				continue;
			m->in_inventory = 1;
			m->weight = is->weight;
			m->backup = is->backup;
			m->maint = is->maint;
			if (is->slot && m->agg.requests)
				slots_seen++;
		}
		if (m->backup)
			backup_req += m->agg.requests;
		else
			prim_req += m->agg.requests;
	}
	/* backups take traffic only when no primary does (then they share it by weight) */
	int use_backups = prim_req == 0 && backup_req > 0;
	int64_t wsum = 0, total = 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		struct report_server *m = &g->members[j];
		if (m->special)
			continue;
		total += m->agg.requests;
		int64_t w = m->weight;
		if (m->maint || !m->in_inventory || m->backup != use_backups)
			w = ib ? 0 : w;
		/* dns slots: only the resolved ones (those seen) serve, unless none was seen */
		if (ib && slots_seen && m->in_inventory && !m->agg.requests)
			for (size_t i = 0; i < ib->n; i++)
				if (ib->servers[i].slot && !strcmp(ib->servers[i].name, m->name))
					w = 0;
		m->expected = (double)w; /* weight for now */
		wsum += w;
	}
	g->balance_checked = wsum > 0 && total > 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		struct report_server *m = &g->members[j];
		if (m->special) {
			m->expected = -1;
			continue;
		}
		if (!g->balance_checked) {
			m->expected = -1;
			continue;
		}
		m->expected = 100.0 * m->expected / (double)wsum;
		m->deviation = m->share - m->expected;
		if (fabs(m->deviation) > g->max_deviation) {
			g->max_deviation = fabs(m->deviation);
			g->worst = m->name;
		}
	}
	if (g->balance_checked && c->opts->check_balance >= 0 &&
	    g->max_deviation > c->opts->check_balance) {
		g->balance_failed = 1;
		c->r->balance_failed++;
	}
	return 0;
}

static void shares(struct report_group *g)
{
	int64_t total = 0;
	for (size_t j = 0; j < g->nmembers; j++)
		if (!g->members[j].special)
			total += g->members[j].agg.requests;
	for (size_t j = 0; j < g->nmembers; j++) {
		struct report_server *m = &g->members[j];
		m->share =
			total && !m->special ? 100.0 * (double)m->agg.requests / (double)total : 0;
	}
}

int report_build(struct sqlite3 *db, const struct report_opts *opts, struct report *r, char *err,
		 size_t errsz)
{
	struct ctx c;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.opts = opts;
	c.r = r;
	c.err = err;
	c.errsz = errsz;
	r->since_ms = opts->since_ms;
	r->until_ms = opts->until_ms;
	r->first_ms = r->last_ms = LR_NONE;
	r->inventory = opts->inv != NULL;
	r->check_balance = opts->check_balance;
	/* the window, widened to whole buckets: a bucket counts when it overlaps [since, until) */
	r->from_ms = LR_NONE;
	r->to_ms = LR_NONE;
	if (opts->since_ms != LR_NONE) {
		int64_t b = opts->since_ms / ROLLUP_BUCKET_MS;
		if (opts->since_ms < 0 && opts->since_ms % ROLLUP_BUCKET_MS)
			b--;
		r->from_ms = b * ROLLUP_BUCKET_MS;
	}
	if (opts->until_ms != LR_NONE) {
		int64_t b = opts->until_ms / ROLLUP_BUCKET_MS;
		if (opts->until_ms < 0 && opts->until_ms % ROLLUP_BUCKET_MS)
			b--;
		r->to_ms = b * ROLLUP_BUCKET_MS;
		if (r->to_ms < opts->until_ms)
			r->to_ms += ROLLUP_BUCKET_MS;
	}
	if ((opts->frontend && !(r->frontend = xstrndup(opts->frontend, strlen(opts->frontend)))) ||
	    (opts->backend && !(r->backend = xstrndup(opts->backend, strlen(opts->backend))))) {
		fail(&c, "out of memory");
		goto out;
	}
	/* a consistent snapshot while a listener keeps writing */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		dbfail(&c, "cannot start a read transaction");
		goto out;
	}
	if (load_names(&c))
		goto rollback;
	if ((opts->frontend && !c.fe_id) || (opts->backend && !c.be_id)) {
		/* an unknown name: no traffic rows, but lines and counters still count */
		if (opts->frontend && !c.fe_id)
			c.fe_id = -1;
		if (opts->backend && !c.be_id)
			c.be_id = -1;
	}
	if (read_lines(&c) || read_counters(&c) || read_rollup(&c) || read_pairs(&c, 0) ||
	    read_pairs(&c, 1) || read_timers(&c) || build_groups(&c) || read_errpaths(&c) ||
	    read_events(&c))
		goto rollback;
	if (r->nbackends)
		qsort(r->backends, r->nbackends, sizeof(*r->backends), cmp_group);
	if (r->nfrontends)
		qsort(r->frontends, r->nfrontends, sizeof(*r->frontends), cmp_group);
	for (int pass = 0; pass < 2; pass++) {
		struct report_group *arr = pass ? r->frontends : r->backends;
		size_t n = pass ? r->nfrontends : r->nbackends;
		for (size_t i = 0; i < n; i++) {
			struct report_group *g = &arr[i];
			shares(g);
			if (!pass && balance(&c, g))
				goto rollback;
			if (g->nmembers)
				qsort(g->members, g->nmembers, sizeof(*g->members), cmp_server);
			g->worst = NULL;
			for (size_t j = 0; j < g->nmembers; j++) {
				struct report_server *m = &g->members[j];
				sort_pairs(&m->agg);
				latencies(&m->agg, m->lat);
				if (g->balance_checked && !m->special &&
				    fabs(m->deviation) == g->max_deviation && !g->worst)
					g->worst = m->name;
			}
			sort_pairs(&g->agg);
			latencies(&g->agg, g->lat);
		}
	}
	ret = 0;
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	hmap_release(&c.aggs, rollup_agg_free);
	for (size_t i = 0; i < c.nnames; i++)
		free(c.names[i]);
	free(c.names);
	if (ret)
		report_release(r);
	return ret;
}

static void release_group(struct report_group *g)
{
	free(g->name);
	rollup_agg_release(&g->agg);
	for (size_t j = 0; j < g->nmembers; j++) {
		free(g->members[j].name);
		rollup_agg_release(&g->members[j].agg);
	}
	free(g->members);
	for (size_t j = 0; j < g->nerrpaths; j++)
		free(g->errpaths[j].path);
	free(g->errpaths);
	for (size_t j = 0; j < g->nevents; j++) {
		free(g->events[j].server);
		free(g->events[j].state);
		free(g->events[j].reason);
		free(g->events[j].info);
	}
	free(g->events);
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->nbackends; i++)
		release_group(&r->backends[i]);
	for (size_t i = 0; i < r->nfrontends; i++)
		release_group(&r->frontends[i]);
	free(r->backends);
	free(r->frontends);
	for (size_t i = 0; i < r->ncounters; i++)
		free(r->counters[i].name);
	free(r->counters);
	free(r->frontend);
	free(r->backend);
	memset(r, 0, sizeof(*r));
}

const char *report_timer_name(enum rollup_timer t, int tcp)
{
	static const char *const names[RT_N] = {"TR", "Tw", "Tc", "Tr", "Ta"};
	if (t == RT_TA && tcp)
		return "Tt";
	return (unsigned)t < RT_N ? names[t] : "?";
}

void report_fmt_time(int64_t ms, char *buf, size_t sz)
{
	struct tm tm;
	time_t secs = (time_t)(ms / 1000);
	int64_t frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, sz, "%lld", (long long)ms);
		return;
	}
	snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100, (int)frac);
}

const char *report_mode(unsigned kinds)
{
	unsigned h = kinds & (1u << LR_HTTP), t = kinds & (1u << LR_TCP);
	if (h && t)
		return "mixed";
	if (h)
		return "http";
	if (t)
		return "tcp";
	return "-";
}
