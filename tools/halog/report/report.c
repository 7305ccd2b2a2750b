/* halog report's numbers, read through the store's read API (store/read.h): aggregates from the
 * rollups, so raw lines are never scanned and windows are applied in whole rollup buckets (one
 * minute); server events from a cursor. See report.h. */
#include "report/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/balance.h"
#include "inventory/inventory.h"
#include "store/read.h"
#include "store/store.h"
#include "strbuf.h"

/* Scratch aggregation keys: a backend (be), a server of a backend (be, srv), a frontend (fe),
 * a backend under a frontend (fe, be). A key is the type byte, then the two names, each
 * NUL-terminated. */
enum { K_BE, K_BESRV, K_FE, K_FEBE };

struct ctx {
	struct store_reader *rd;
	const struct report_opts *opts;
	struct report *r;
	struct hmap aggs; /* key -> struct rollup_agg * (key.kind is a bitmask of kinds) */
	struct hmap errp; /* from the records: backend NUL status(8 bytes) path -> int64_t * count */
	int from_records; /* the error paths are in errp (timer floors, an exact window) */
	int exact;	  /* the window does not fall on whole rollup buckets */
	int64_t in_lo, in_hi; /* exact: its whole buckets [in_lo, in_hi), from the rollups (empty
				 when in_lo >= in_hi; INT64_MIN / INT64_MAX: open) */
	struct strbuf key;
	char *err;
	size_t errsz;
	int failed; /* fail() ran: err holds the message */
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errsz, fmt, ap);
	va_end(ap);
	c->failed = 1;
	return -1;
}

static int storefail(struct ctx *c)
{
	return fail(c, "%s", store_reader_errmsg(c->rd));
}

/* Whether rec passes the timer floors (--min-ta, --min-tw; 0: none): a -1 timer passes no
 * floor. */
static int timers_pass(const struct report_opts *o, const struct logrec *rec)
{
	if (o->min_ta > 0 && (rec->t_active == LR_TIMER_NONE || rec->t_active < o->min_ta))
		return 0;
	if (o->min_tw > 0 && (rec->t_wait == LR_TIMER_NONE || rec->t_wait < o->min_tw))
		return 0;
	return 1;
}

static int timer_floors(const struct report_opts *o)
{
	return o->min_ta > 0 || o->min_tw > 0;
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

/* A copy of a slice, or NULL when it is absent (or memory ran out: *oom set). */
static char *slice_dup(struct lr_str v, int *oom)
{
	char *p;
	if (!v.p)
		return NULL;
	if (!(p = xstrndup(v.p, v.len)))
		*oom = 1;
	return p;
}

/* A name as the report shows it: "-" when the log had none. */
static const char *shown(const char *name)
{
	return name ? name : "-";
}

static struct rollup_agg *agg(struct ctx *c, int type, const char *a, const char *b)
{
	int isnew;
	strbuf_reset(&c->key);
	if (strbuf_addch(&c->key, (char)type) || strbuf_add(&c->key, a, strlen(a) + 1) ||
	    strbuf_add(&c->key, b, strlen(b) + 1))
		return NULL;
	struct hmap_ent *e = hmap_put(&c->aggs, c->key.buf, c->key.len, &isnew);
	if (!e)
		return NULL;
	if (isnew && !(e->val = calloc(1, sizeof(struct rollup_agg))))
		return NULL;
	return e->val;
}

/* One (frontend, backend, server, kind) of the window, added to the four aggregates it
 * belongs to. */
static int on_agg(void *arg, const char *fe, const char *be, const char *srv,
		  const struct rollup_agg *a)
{
	struct ctx *c = arg;
	struct rollup_agg *to[4] = {agg(c, K_BE, shown(be), ""),
				    agg(c, K_BESRV, shown(be), shown(srv)),
				    agg(c, K_FE, shown(fe), ""), agg(c, K_FEBE, shown(fe), shown(be))};
	for (int i = 0; i < 4; i++) {
		if (!to[i] || rollup_agg_merge(to[i], a))
			return fail(c, "out of memory");
		if (a->key.kind > 0 && a->key.kind < 31)
			to[i]->key.kind |= 1 << a->key.kind;
	}
	return 0;
}

/* The window and filters every aggregate read uses. */
static void agg_sel(const struct ctx *c, struct store_sel *sel)
{
	store_sel_init(sel);
	sel->clock = STORE_LOGGED;
	if (c->r->from_ms != LR_NONE)
		sel->since_ms = c->r->from_ms;
	if (c->r->to_ms != LR_NONE)
		sel->until_ms = c->r->to_ms;
	sel->frontend = c->opts->frontend;
	sel->backend = c->opts->backend;
}

/* The parts of an exact window the rollups cannot give: [since, in_lo) and [in_hi, until), or
 * the whole window when it holds no whole bucket. Returns how many (0..2) in lo[] / hi[]. */
static int window_edges(const struct ctx *c, int64_t lo[2], int64_t hi[2])
{
	const struct report *r = c->r;
	int64_t since = r->from_ms == LR_NONE ? INT64_MIN : r->from_ms;
	int64_t until = r->to_ms == LR_NONE ? INT64_MAX : r->to_ms;
	int n = 0;
	if (c->in_lo >= c->in_hi) {
		lo[0] = since;
		hi[0] = until;
		return 1;
	}
	if (since < c->in_lo) {
		lo[n] = since;
		hi[n++] = c->in_lo;
	}
	if (c->in_hi < until) {
		lo[n] = c->in_hi;
		hi[n++] = until;
	}
	return n;
}

/* Adds the lines of [lo, hi) (logged time) to ls, one by one. */
static int line_stats_records(struct ctx *c, int64_t lo, int64_t hi, struct store_line_stats *ls)
{
	struct store_sel sel;
	struct store_cursor *cur;
	const struct store_line *ln;
	int rc;
	store_sel_init(&sel);
	sel.clock = STORE_LOGGED;
	sel.since_ms = lo;
	sel.until_ms = hi;
	sel.want = STORE_WANT_LINE;
	if (!(cur = store_cursor_open(c->rd, &sel)))
		return storefail(c);
	while ((rc = store_cursor_next(cur, &ln)) > 0) {
		ls->total++;
		if ((unsigned)ln->rec.kind < LR_KIND_MAX)
			ls->by_kind[ln->rec.kind]++;
		if ((unsigned)ln->rec.status <= LR_BAD)
			ls->by_status[ln->rec.status]++;
		ls->truncated += (ln->flags & STORE_MSG_TRUNCATED) != 0;
		if (ls->first_ms == LR_NONE || ln->ts_ms < ls->first_ms)
			ls->first_ms = ln->ts_ms;
		if (ls->last_ms == LR_NONE || ln->ts_ms > ls->last_ms)
			ls->last_ms = ln->ts_ms;
	}
	if (rc < 0)
		storefail(c);
	store_cursor_close(cur);
	return rc < 0 ? -1 : 0;
}

static int read_lines(struct ctx *c)
{
	struct report *r = c->r;
	struct store_line_stats ls;
	struct store_sel sel;
	agg_sel(c, &sel);
	sel.frontend = sel.backend = NULL; /* lines count whatever the filters */
	if (c->exact) {
		int64_t lo[2], hi[2];
		int n = window_edges(c, lo, hi);
		memset(&ls, 0, sizeof(ls));
		ls.first_ms = ls.last_ms = LR_NONE;
		if (c->in_lo < c->in_hi) {
			sel.since_ms = c->in_lo;
			sel.until_ms = c->in_hi;
			if (store_line_stats(c->rd, &sel, &ls))
				return storefail(c);
		}
		for (int i = 0; i < n; i++)
			if (line_stats_records(c, lo[i], hi[i], &ls))
				return -1;
	} else if (store_line_stats(c->rd, &sel, &ls)) {
		return storefail(c);
	}
	r->lines_total = ls.total;
	r->lines_unparsed = ls.by_kind[LR_UNPARSED];
	r->lines_parsed = ls.total - ls.by_kind[LR_UNPARSED];
	r->lines_partial = ls.by_status[LR_PARTIAL];
	r->lines_truncated = ls.truncated;
	memcpy(r->by_kind, ls.by_kind, sizeof(r->by_kind));
	r->first_ms = ls.first_ms;
	r->last_ms = ls.last_ms;
	return 0;
}

static int on_counter(void *arg, const char *name, int64_t value)
{
	struct ctx *c = arg;
	struct report *r = c->r;
	/* ingest --follow's positions (FOLLOW_COUNTER_PREFIX of listen/follow.h, a layer above)
	 * are its bookkeeping, not the receiver's counts */
	if (!strncmp(name, "ingest.follow.", 14))
		return 0;
	struct report_counter *p = realloc(r->counters, (r->ncounters + 1) * sizeof(*p));
	if (!p)
		return fail(c, "out of memory");
	r->counters = p;
	p += r->ncounters;
	if (!(p->name = xstrndup(name, strlen(name))))
		return fail(c, "out of memory");
	p->value = value;
	r->ncounters++;
	return 0;
}

static int read_counters(struct ctx *c)
{
	if (store_counters(c->rd, on_counter, c))
		return c->failed ? -1 : storefail(c);
	return 0;
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
	m->special = balance_special(name);
	m->expected = -1;
	m->weight = -1;
	g->nmembers++;
	return m;
}

struct report_server *report_group_add(struct report_group *g, const char *name,
				       int64_t requests)
{
	struct report_server *m = add_member(g, name);
	if (m)
		m->agg.requests = requests;
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
			int type = e->key[0];
			const char *ka = e->key + 1, *kb = ka + strlen(ka) + 1;
			struct rollup_agg *a = e->val;
			int tops = type == K_BE || type == K_FE;
			if (pass == 0 && tops) {
				struct report_group *g =
					type == K_BE ? add_group(&r->backends, &r->nbackends, ka)
						     : add_group(&r->frontends, &r->nfrontends, ka);
				if (!g)
					return fail(c, "out of memory");
				g->kinds = (unsigned)a->key.kind;
				g->agg = *a;
				free(a);
				e->val = NULL;
			} else if (pass == 1 && !tops) {
				struct report_group *g =
					type == K_BESRV
						? find_group(r->backends, r->nbackends, ka)
						: find_group(r->frontends, r->nfrontends, ka);
				if (!g)
					continue;
				struct report_server *m = add_member(g, kb);
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

/* One of a backend's top error paths, most frequent first (store_error_paths ranks them). */
static int on_errpath(void *arg, const char *backend, int64_t status, const char *path,
		      size_t plen, int64_t n)
{
	struct ctx *c = arg;
	struct report *r = c->r;
	struct report_group *g = find_group(r->backends, r->nbackends, shown(backend));
	if (!g || g->nerrpaths >= REPORT_TOP_PATHS)
		return 0;
	struct report_errpath *p = realloc(g->errpaths, (g->nerrpaths + 1) * sizeof(*p));
	if (!p)
		return fail(c, "out of memory");
	g->errpaths = p;
	p += g->nerrpaths;
	if (!(p->path = xstrndup(path, plen)))
		return fail(c, "out of memory");
	p->status = status;
	p->n = n;
	g->nerrpaths++;
	return 0;
}

/* ---- the backends section from the request records (when timer floors are set) ---- */

/* One record into the four aggregates it belongs to, as the rollups would count it. */
static int record_into_aggs(struct ctx *c, const struct logrec *rec)
{
	char fe[512], be[512], srv[512];
	const struct lr_str *v[3] = {&rec->frontend, &rec->backend, &rec->server};
	char *d[3] = {fe, be, srv};
	for (int i = 0; i < 3; i++) {
		size_t n = v[i]->p ? (v[i]->len < 511 ? v[i]->len : 511) : 1;
		memcpy(d[i], v[i]->p ? v[i]->p : "-", n);
		d[i][n] = '\0';
	}
	struct rollup_agg *to[4] = {agg(c, K_BE, be, ""), agg(c, K_BESRV, be, srv),
				    agg(c, K_FE, fe, ""), agg(c, K_FEBE, fe, be)};
	for (int i = 0; i < 4; i++) {
		if (!to[i] || rollup_agg_add(to[i], rec))
			return fail(c, "out of memory");
		to[i]->key.kind |= 1 << rec->kind;
	}
	if (rec->kind != LR_HTTP || !rollup_is_error(rec))
		return 0;
	/* its error path, as the store's error-path rollup keys it */
	struct lr_str path = rec->path.p ? rec->path : rec->uri;
	size_t plen = path.p ? (path.len < 256 ? path.len : 256) : 0;
	int64_t st = rec->status_code == LR_NONE ? -1 : rec->status_code;
	int isnew;
	strbuf_reset(&c->key);
	if (strbuf_add(&c->key, be, strlen(be) + 1) || strbuf_add(&c->key, &st, sizeof(st)) ||
	    (plen && strbuf_add(&c->key, path.p, plen)))
		return fail(c, "out of memory");
	struct hmap_ent *e = hmap_put(&c->errp, c->key.buf, c->key.len, &isnew);
	if (!e || (isnew && !(e->val = calloc(1, sizeof(int64_t)))))
		return fail(c, "out of memory");
	++*(int64_t *)e->val;
	return 0;
}

/* The traffic records of [lo, hi) into the aggregates and the error-path counts. */
static int aggregate_records(struct ctx *c, int64_t lo, int64_t hi)
{
	struct store_sel sel;
	struct store_cursor *cur;
	const struct store_line *ln;
	int rc;
	agg_sel(c, &sel);
	sel.since_ms = lo;
	sel.until_ms = hi;
	sel.kinds = STORE_KINDS_TRAFFIC;
	sel.want = STORE_WANT_FIELDS;
	if (!(cur = store_cursor_open(c->rd, &sel)))
		return storefail(c);
	while ((rc = store_cursor_next(cur, &ln)) > 0)
		if (timers_pass(c->opts, &ln->rec) && record_into_aggs(c, &ln->rec)) {
			store_cursor_close(cur);
			return -1;
		}
	if (rc < 0)
		storefail(c);
	store_cursor_close(cur);
	c->from_records = 1;
	return rc < 0 ? -1 : 0;
}

/* An error path of the rollups (the inner whole buckets of an exact window) into errp. The
 * store ranks the paths of those buckets and gives the first REPORT_INNER_ERRPATHS of each
 * backend; the edges' counts are added to them, and the top REPORT_TOP_PATHS ranked again.
 * That is exact unless a path outside the inner buckets' first 64 would rank among the top 5
 * with its edge counts (a path with at most as many errors in the minutes as the 64th). */
#define REPORT_INNER_ERRPATHS 64
static int on_errpath_count(void *arg, const char *backend, int64_t status, const char *path,
			    size_t plen, int64_t n)
{
	struct ctx *c = arg;
	const char *be = shown(backend);
	int isnew;
	strbuf_reset(&c->key);
	if (strbuf_add(&c->key, be, strlen(be) + 1) || strbuf_add(&c->key, &status, sizeof(status)) ||
	    (plen && strbuf_add(&c->key, path, plen)))
		return fail(c, "out of memory");
	struct hmap_ent *e = hmap_put(&c->errp, c->key.buf, c->key.len, &isnew);
	if (!e || (isnew && !(e->val = calloc(1, sizeof(int64_t)))))
		return fail(c, "out of memory");
	*(int64_t *)e->val += n;
	return 0;
}

struct errp_row {
	const char *be, *path;
	size_t plen;
	int64_t status, n;
};

static int cmp_errp(const void *x, const void *y)
{
	const struct errp_row *a = x, *b = y;
	int d = strcmp(a->be, b->be);
	if (d)
		return d;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	if (a->status != b->status)
		return a->status < b->status ? -1 : 1;
	size_t n = a->plen < b->plen ? a->plen : b->plen;
	d = n ? memcmp(a->path, b->path, n) : 0;
	return d ? d : (a->plen > b->plen) - (a->plen < b->plen);
}

/* The top error paths of each backend from the records' counts, ranked as the store ranks. */
static int errpaths_from_records(struct ctx *c)
{
	struct errp_row *rows = calloc(c->errp.n ? c->errp.n : 1, sizeof(*rows));
	size_t n = 0;
	if (!rows)
		return fail(c, "out of memory");
	for (size_t i = 0; i < c->errp.cap; i++) {
		struct hmap_ent *e = &c->errp.tab[i];
		if (!e->key || !e->val)
			continue;
		struct errp_row *w = &rows[n++];
		w->be = e->key;
		size_t bl = strlen(e->key) + 1;
		memcpy(&w->status, e->key + bl, sizeof(w->status));
		w->path = e->key + bl + sizeof(int64_t);
		w->plen = e->klen - bl - sizeof(int64_t);
		w->n = *(int64_t *)e->val;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_errp);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = on_errpath(c, rows[i].be, rows[i].status, rows[i].path, rows[i].plen, rows[i].n);
	free(rows);
	return rc;
}

static int read_errpaths(struct ctx *c)
{
	struct store_sel sel;
	if (c->from_records)
		return errpaths_from_records(c);
	agg_sel(c, &sel);
	if (store_error_paths(c->rd, &sel, REPORT_TOP_PATHS, on_errpath, c))
		return c->failed ? -1 : storefail(c);
	return 0;
}

/* ---- the sections read from the request records, all in one pass ---- */

/* What the pass over the window's request records feeds: each section asked for that the
 * rollups cannot give. One cursor reads every record once with only the columns they need
 * (STORE_WANT_TRAFFIC, and STORE_WANT_REQUEST when a table keys by a request string). */
struct reqscan {
	struct report_ranker *paths, *clients;		       /* NULL: not asked */
	struct report_ranker *hdr[2][REPORT_MAX_HEADER_SLOTS]; /* made on first use */
	int headers;
	struct hmap slow; /* backend -> struct slow_cands * */
	int slowest;
	int series;   /* the series' bins from the records (r->series.bins) */
	int32_t **ta; /* per bin (nbins): its Ta values, for an exact p95 */
	size_t *nta, *ata, nbins;
	int badreq;	  /* bad requests (HTTP lines with LR_F_BADREQ) into cerr */
	struct hmap cerr; /* connection errors: frontend NUL bind NUL message NUL ->
			     struct report_connerr * (counts and times only) */
};

static void reqscan_release(struct reqscan *q);

/* Adds rec under each of its captured header values: hdr[0] request headers, hdr[1] response
 * headers, by place (a ranker made on first use; a request with fewer captures leaves the
 * later places alone). Returns 0 or -1 (out of memory). */
static int add_captures(struct report_ranker *hdr[2][REPORT_MAX_HEADER_SLOTS],
			const struct logrec *rec)
{
	const struct lr_str caps[2] = {rec->cap_req, rec->cap_resp};
	for (int d = 0; d < 2; d++) {
		const char *p = caps[d].p, *end = p ? p + caps[d].len : NULL;
		for (unsigned i = 0; p && i < REPORT_MAX_HEADER_SLOTS; i++) {
			const char *bar = memchr(p, '|', (size_t)(end - p));
			const char *vend = bar ? bar : end;
			if (!hdr[d][i] && !(hdr[d][i] = report_ranker_new(REPORT_RANK_CLIENTS)))
				return -1;
			if (report_ranker_add(hdr[d][i], p, (size_t)(vend - p), rec))
				return -1;
			p = bar ? bar + 1 : NULL;
		}
	}
	return 0;
}

/* The ranked tables (paths, clients, headers) of the pass, cut to the top rows. */
static int ranked_finish(struct ctx *c, struct reqscan *q)
{
	struct report *r = c->r;
	const struct report_opts *o = c->opts;
	size_t top = o->top;
	if ((q->paths && report_ranker_finish(q->paths, o->sort, top, &r->paths)) ||
	    (q->clients && report_ranker_finish(q->clients, o->sort, top, &r->clients)))
		return fail(c, "out of memory");
	for (int d = 0; d < 2; d++)
		for (unsigned i = 0; i < REPORT_MAX_HEADER_SLOTS && q->hdr[d][i]; i++) {
			struct report_headers *h =
				realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
			if (!h)
				return fail(c, "out of memory");
			r->headers = h;
			h = &r->headers[r->nheaders];
			memset(h, 0, sizeof(*h));
			h->response = d;
			h->index = i + 1;
			r->nheaders++;
			if (report_ranker_finish(q->hdr[d][i], o->sort, top, &h->t))
				return fail(c, "out of memory");
		}
	r->paths_folded = !o->no_fold;
	r->client_by = o->client_by;
	return 0;
}

/* ---- the series section ---- */

/* The p95 of bin i from the rollups: the Ta histograms of every key of the bin, merged. */
static int on_series_ta(void *arg, size_t i, const struct rollup_agg *a)
{
	struct report_series *s = arg;
	s->bins[i].p95 = hist_percentile(a->hist[RT_TA], (uint64_t)a->tn[RT_TA], 95, a->tmax[RT_TA]);
	return 0;
}

static int cmp_i32v(const void *x, const void *y)
{
	int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
	return a < b ? -1 : a > b;
}

/* Adds a record to its bin of the series read from the records: the window is the asked one
 * exactly (the bins' edges only group). Returns 0 or -1 (out of memory). */
static int series_add(struct reqscan *q, struct report_series *s, const struct store_line *ln)
{
	if (ln->ts_ms < s->from_ms || ln->ts_ms >= s->to_ms)
		return 0;
	size_t i = (size_t)((ln->ts_ms - s->from_ms) / s->bucket_ms);
	struct report_bin *b = &s->bins[i];
	b->requests++;
	b->errors += rollup_is_error(&ln->rec) != 0;
	if (ln->rec.t_active == LR_TIMER_NONE)
		return 0;
	if (q->nta[i] == q->ata[i]) {
		size_t n = q->ata[i] ? q->ata[i] * 2 : 8;
		int32_t *p = realloc(q->ta[i], n * sizeof(*p));
		if (!p)
			return -1;
		q->ta[i] = p;
		q->ata[i] = n;
	}
	q->ta[i][q->nta[i]++] = ln->rec.t_active;
	return 0;
}

/* The exact p95 of each bin read from the records. */
static void series_finish(struct reqscan *q, struct report_series *s)
{
	for (size_t i = 0; i < s->nbins; i++) {
		if (!q->nta[i])
			continue;
		qsort(q->ta[i], q->nta[i], sizeof(*q->ta[i]), cmp_i32v);
		size_t rank = (q->nta[i] * 95 + 99) / 100;
		s->bins[i].p95 = q->ta[i][(rank ? rank : 1) - 1];
	}
}

static int64_t floor_to(int64_t t, int64_t w)
{
	return report_floordiv(t, w) * w;
}

/* Requests, errors and p95 per bucket of the window (epoch-aligned buckets). From the rollups
 * when the bucket and the window are whole rollup buckets, else from the request records (the
 * pass of read_requests: q->series is set and the bins are filled there). */
static int read_series(struct ctx *c, int64_t rollup_ms, struct reqscan *q)
{
	struct report *r = c->r;
	const struct report_opts *o = c->opts;
	struct report_series *s = &r->series;
	struct store_sel sel;
	if (!(r->sections & REPORT_SEC_SERIES))
		return 0;
	s->on = 1;
	s->bucket_ms = o->bucket_ms > 0 ? o->bucket_ms : rollup_ms;
	s->exact = s->bucket_ms % rollup_ms ||
		   (o->since_ms != LR_NONE && o->since_ms % rollup_ms) ||
		   (o->until_ms != LR_NONE && o->until_ms % rollup_ms) || timer_floors(o);
	int64_t start = o->since_ms != LR_NONE ? o->since_ms : r->first_ms;
	int64_t end = o->until_ms != LR_NONE  ? o->until_ms
		      : r->last_ms != LR_NONE ? r->last_ms + 1
					      : LR_NONE;
	if (start == LR_NONE || end == LR_NONE || end <= start)
		return 0; /* no line: no bin */
	s->from_ms = floor_to(start, s->bucket_ms);
	s->to_ms = floor_to(end - 1, s->bucket_ms) + s->bucket_ms;
	int64_t n = (s->to_ms - s->from_ms) / s->bucket_ms;
	if (n > REPORT_SERIES_MAX_BINS)
		return fail(c,
			    "the series would have %lld buckets (at most %d): use a wider --bucket",
			    (long long)n, REPORT_SERIES_MAX_BINS);
	if (!(s->bins = calloc((size_t)n, sizeof(*s->bins))))
		return fail(c, "out of memory");
	s->nbins = (size_t)n;
	for (size_t i = 0; i < s->nbins; i++) {
		s->bins[i].t_ms = s->from_ms + (int64_t)i * s->bucket_ms;
		s->bins[i].p95 = -1;
	}
	if (s->exact) {
		q->series = 1;
		q->ta = calloc(s->nbins, sizeof(*q->ta));
		q->nta = calloc(s->nbins, sizeof(*q->nta));
		q->ata = calloc(s->nbins, sizeof(*q->ata));
		if (!q->ta || !q->nta || !q->ata)
			return fail(c, "out of memory");
		q->nbins = s->nbins;
		return 0;
	}
	agg_sel(c, &sel);
	sel.kinds = STORE_KINDS_TRAFFIC;
	sel.since_ms = s->from_ms;
	sel.until_ms = s->to_ms;
	struct store_bin *bins = calloc(s->nbins, sizeof(*bins));
	if (!bins)
		return fail(c, "out of memory");
	if (store_series(c->rd, &sel, s->from_ms, s->bucket_ms, s->nbins, bins)) {
		free(bins);
		return storefail(c);
	}
	for (size_t i = 0; i < s->nbins; i++) {
		s->bins[i].requests = bins[i].requests;
		s->bins[i].errors = bins[i].errors;
	}
	free(bins);
	if (store_series_timer(c->rd, &sel, s->from_ms, s->bucket_ms, s->nbins, RT_TA,
			       on_series_ta, s))
		return storefail(c);
	return 0;
}

/* ---- the slowest requests ---- */

struct slow_cands {
	struct report_slow *rows; /* at most n, slowest first */
	size_t n;
};

static void slow_free(void *p)
{
	struct slow_cands *sc = p;
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->rows[i].server);
		free(sc->rows[i].line);
	}
	free(sc->rows);
	free(sc);
}

/* Offers rec to its backend's candidates (kept sorted: Ta descending, the earlier first). */
static int slow_offer(struct hmap *m, size_t top, const struct store_line *ln)
{
	const struct logrec *rec = &ln->rec;
	const char *be = rec->backend.p ? rec->backend.p : "-";
	size_t blen = rec->backend.p ? rec->backend.len : 1;
	int isnew;
	struct hmap_ent *e = hmap_put(m, be, blen, &isnew);
	if (!e)
		return -1;
	if (isnew) {
		struct slow_cands *sc = calloc(1, sizeof(*sc));
		if (!sc || !(sc->rows = calloc(top, sizeof(*sc->rows)))) {
			free(sc);
			return -1;
		}
		e->val = sc;
	}
	struct slow_cands *sc = e->val;
	int64_t ta = rec->t_active;
	if (sc->n == top && ta <= sc->rows[top - 1].ta)
		return 0;
	size_t at = sc->n < top ? sc->n : top - 1;
	if (sc->n == top)
		free(sc->rows[at].server);
	else
		sc->n++;
	while (at > 0 && sc->rows[at - 1].ta < ta) {
		sc->rows[at] = sc->rows[at - 1];
		at--;
	}
	struct report_slow *w = &sc->rows[at];
	memset(w, 0, sizeof(*w));
	w->ts_ms = ln->ts_ms;
	w->ta = ta;
	w->tw = rec->t_wait == LR_TIMER_NONE ? -1 : rec->t_wait;
	w->status = rec->status_code == LR_NONE ? -1 : rec->status_code;
	snprintf(w->term, sizeof(w->term), "%s", rec->term);
	w->pos = ln->pos;
	int oom = 0;
	w->server = slice_dup(rec->server, &oom);
	return oom ? -1 : 0;
}

/* The stored line at pos (its raw bytes), copied into w. */
static int slow_line(struct ctx *c, struct report_slow *w)
{
	struct store_sel sel;
	struct store_cursor *cur;
	const struct store_line *ln;
	int rc;
	store_sel_init(&sel);
	sel.from = w->pos;
	sel.to = store_pos_next(w->pos);
	sel.want = STORE_WANT_LINE;
	if (!(cur = store_cursor_open(c->rd, &sel)))
		return storefail(c);
	if ((rc = store_cursor_next(cur, &ln)) > 0) {
		if (!(w->line = malloc(ln->raw.len + 1))) {
			store_cursor_close(cur);
			return fail(c, "out of memory");
		}
		if (ln->raw.len)
			memcpy(w->line, ln->raw.p, ln->raw.len);
		w->line[ln->raw.len] = '\0';
		w->linelen = ln->raw.len;
	}
	if (rc < 0)
		storefail(c);
	store_cursor_close(cur);
	return rc < 0 ? -1 : 0;
}

static int cmp_slow_group(const void *x, const void *y)
{
	const struct report_slow_group *a = x, *b = y;
	return strcmp(a->backend, b->backend);
}

/* The N slowest requests (Ta, Tt for TCP) of each backend in the window, with their lines:
 * the candidates the pass kept, their lines read now. */
static int slowest_finish(struct ctx *c, struct reqscan *q)
{
	struct report *r = c->r;
	struct hmap *m = &q->slow;
	if (m->n && !(r->slowest = calloc(m->n, sizeof(*r->slowest))))
		return fail(c, "out of memory");
	for (size_t i = 0; i < m->cap; i++) {
		struct hmap_ent *e = &m->tab[i];
		if (!e->key || !e->val)
			continue;
		struct report_slow_group *g = &r->slowest[r->nslowest++];
		struct slow_cands *sc = e->val;
		if (!(g->backend = xstrndup(e->key, e->klen)))
			return fail(c, "out of memory");
		g->rows = sc->rows;
		g->nrows = sc->n;
		sc->rows = NULL;
		sc->n = 0;
		for (size_t j = 0; j < g->nrows; j++)
			if (slow_line(c, &g->rows[j]))
				return -1;
	}
	if (r->nslowest)
		qsort(r->slowest, r->nslowest, sizeof(*r->slowest), cmp_slow_group);
	return 0;
}

/* ---- connection errors ---- */

static void connerr_free(void *p)
{
	free(p);
}

static int cmp_connerr(const void *x, const void *y)
{
	const struct report_connerr *a = x, *b = y;
	int d = strcmp(a->frontend, b->frontend);
	if (!d)
		d = strcmp(a->bind, b->bind);
	if (!d && a->n != b->n)
		d = a->n > b->n ? -1 : 1;
	return d ? d : strcmp(a->message, b->message);
}

/* Ends a read of records: closes cur and releases key. Returns 0, or -1 with the message when
 * the read failed (rc < 0) or memory ran out (oom). */
static int loop_end(struct ctx *c, struct store_cursor *cur, struct strbuf *key, int rc, int oom)
{
	if (rc < 0)
		storefail(c);
	store_cursor_close(cur);
	strbuf_release(key);
	if (oom)
		return fail(c, "out of memory");
	return rc < 0 ? -1 : 0;
}

/* Counts one connection error of frontend fe, bind and message at ts into m. Returns 0 or -1
 * (out of memory). */
static int connerr_add(struct hmap *m, struct strbuf *key, const struct lr_str v[3], int64_t ts)
{
	strbuf_reset(key);
	for (int i = 0; i < 3; i++)
		if ((v[i].p && v[i].len ? strbuf_add(key, v[i].p, v[i].len)
					: strbuf_addch(key, '-')) ||
		    strbuf_addch(key, '\0'))
			return -1;
	int isnew;
	struct hmap_ent *e = hmap_put(m, key->buf, key->len, &isnew);
	if (!e || (isnew && !(e->val = calloc(1, sizeof(struct report_connerr)))))
		return -1;
	struct report_connerr *ce = e->val;
	if (!ce->n || ts < ce->first_ms)
		ce->first_ms = ts;
	if (!ce->n || ts > ce->last_ms)
		ce->last_ms = ts;
	ce->n++;
	return 0;
}

/* A bad request (an HTTP line with LR_F_BADREQ: "<BADREQ>" or an empty request) of the pass,
 * as a connection error of its frontend (its format has no bind). */
static int badreq_add(struct reqscan *q, struct strbuf *key, const struct store_line *ln)
{
	const struct logrec *rec = &ln->rec;
	char msg[64];
	snprintf(msg, sizeof(msg), "bad request (<BADREQ>): %lld %s",
		 (long long)(rec->status_code == LR_NONE ? -1 : rec->status_code),
		 rec->term[0] ? rec->term : "-");
	struct lr_str v[3] = {rec->frontend, {NULL, 0}, {msg, (uint32_t)strlen(msg)}};
	return connerr_add(&q->cerr, key, v, ln->ts_ms);
}

/* The connection errors of the window (connection-level lines: a TLS handshake that failed, a
 * bad PROXY header …) by frontend, bind and message, into q->cerr; the bad requests are HTTP
 * lines, counted by the pass (q->badreq). --frontend keeps that frontend's; --backend keeps
 * none (they come before any backend). */
static int read_connerrs(struct ctx *c, struct reqscan *q)
{
	struct report *r = c->r;
	struct strbuf key = STRBUF_INIT;
	struct store_sel sel;
	struct store_cursor *cur;
	const struct store_line *ln;
	int rc = 0, oom = 0;
	if (!(r->sections & REPORT_SEC_CONNERRS) || c->opts->backend)
		return 0;
	agg_sel(c, &sel);
	sel.frontend = sel.backend = NULL; /* they are events: filtered here */
	sel.kinds = STORE_KIND(LR_CONN_ERROR);
	sel.order = STORE_BY_TIME;
	sel.want = STORE_WANT_FIELDS;
	if (!(cur = store_cursor_open(c->rd, &sel)))
		return storefail(c);
	while ((rc = store_cursor_next(cur, &ln)) > 0) {
		const struct logrec *rec = &ln->rec;
		struct lr_str v[3] = {rec->frontend, rec->bind, rec->message};
		if (c->opts->frontend && (!v[0].p || v[0].len != strlen(c->opts->frontend) ||
					  memcmp(v[0].p, c->opts->frontend, v[0].len)))
			continue;
		if (connerr_add(&q->cerr, &key, v, ln->ts_ms)) {
			oom = 1;
			break;
		}
	}
	if (loop_end(c, cur, &key, rc, oom))
		return -1;
	q->badreq = 1;
	return 0;
}

/* The connection errors counted in q->cerr, sorted into r. */
static int connerrs_finish(struct ctx *c, struct reqscan *q)
{
	struct report *r = c->r;
	struct hmap *m = &q->cerr;
	if (m->n && !(r->connerrs = calloc(m->n, sizeof(*r->connerrs))))
		return fail(c, "out of memory");
	for (size_t i = 0; i < m->cap; i++) {
		struct hmap_ent *e = &m->tab[i];
		if (!e->key || !e->val)
			continue;
		struct report_connerr *ce = &r->connerrs[r->nconnerrs++];
		*ce = *(struct report_connerr *)e->val;
		r->connerrs_total += ce->n;
		const char *k = e->key;
		ce->frontend = xstrndup(k, strlen(k));
		k += strlen(k) + 1;
		ce->bind = xstrndup(k, strlen(k));
		k += strlen(k) + 1;
		ce->message = xstrndup(k, strlen(k));
		if (!ce->frontend || !ce->bind || !ce->message)
			return fail(c, "out of memory");
	}
	if (r->nconnerrs)
		qsort(r->connerrs, r->nconnerrs, sizeof(*r->connerrs), cmp_connerr);
	return 0;
}

/* ---- the pass ---- */

/* Feeds one record to every section of q that reads it. Returns 0 or -1 (out of memory). */
static int reqscan_add(struct ctx *c, struct reqscan *q, struct strbuf *key,
		       const struct store_line *ln)
{
	const struct report_opts *o = c->opts;
	const struct logrec *rec = &ln->rec;
	if (q->badreq && rec->kind == LR_HTTP && (rec->flags & LR_F_BADREQ) &&
	    badreq_add(q, key, ln))
		return -1;
	if (!timers_pass(o, rec))
		return 0;
	if (q->paths && rec->kind == LR_HTTP && report_ranker_add_path(q->paths, rec, !o->no_fold))
		return -1;
	if (q->clients && (report_client_key(rec, o->client_by, key) ||
			   report_ranker_add(q->clients, key->buf, key->len, rec)))
		return -1;
	if (q->headers && rec->kind == LR_HTTP && add_captures(q->hdr, rec) < 0)
		return -1;
	if (q->series && series_add(q, &c->r->series, ln))
		return -1;
	if (q->slowest && rec->t_active != LR_TIMER_NONE &&
	    slow_offer(&q->slow, c->r->slowest_top, ln))
		return -1;
	return 0;
}

/* One pass over the window's request records (HTTP and TCP, the report's filters) for every
 * section q needs them for. */
static int read_requests(struct ctx *c, struct reqscan *q)
{
	struct strbuf key = STRBUF_INIT;
	struct store_cursor *cur;
	const struct store_line *ln;
	struct store_sel sel;
	int rc, oom = 0;
	int strings = q->paths || q->clients || q->headers;
	if (!strings && !q->series && !q->slowest && !q->badreq)
		return 0;
	agg_sel(c, &sel);
	sel.kinds = STORE_KINDS_TRAFFIC;
	if (!q->clients && !q->series && !q->slowest)
		sel.kinds = STORE_KIND(LR_HTTP); /* paths, headers and bad requests are HTTP */
	sel.want = strings ? STORE_WANT_REQUEST : STORE_WANT_TRAFFIC;
	if (!(cur = store_cursor_open(c->rd, &sel)))
		return storefail(c);
	while ((rc = store_cursor_next(cur, &ln)) > 0)
		if (reqscan_add(c, q, &key, ln)) {
			oom = 1;
			break;
		}
	return loop_end(c, cur, &key, rc, oom);
}

/* Sets q up for the sections asked for, reads them (with the series and connection errors that
 * need more than the pass) and fills r. */
static int read_record_sections(struct ctx *c, int64_t rollup_ms)
{
	struct report *r = c->r;
	struct reqscan q;
	int ret = -1;
	memset(&q, 0, sizeof(q));
	if (((r->sections & REPORT_SEC_PATHS) &&
	     !(q.paths = report_ranker_new(REPORT_RANK_PATHS))) ||
	    ((r->sections & REPORT_SEC_CLIENTS) &&
	     !(q.clients = report_ranker_new(REPORT_RANK_CLIENTS)))) {
		fail(c, "out of memory");
		goto out;
	}
	q.headers = !!(r->sections & REPORT_SEC_HEADERS);
	if (r->sections & REPORT_SEC_SLOWEST) {
		q.slowest = 1;
		r->slowest_top = c->opts->slowest ? c->opts->slowest : REPORT_SLOWEST_DEFAULT;
	}
	if (read_series(c, rollup_ms, &q) || read_connerrs(c, &q) || read_requests(c, &q))
		goto out;
	if (q.series)
		series_finish(&q, &r->series);
	if ((q.paths || q.clients || q.headers) && ranked_finish(c, &q))
		goto out;
	if ((q.slowest && slowest_finish(c, &q)) ||
	    ((r->sections & REPORT_SEC_CONNERRS) && connerrs_finish(c, &q)))
		goto out;
	ret = 0;
out:
	reqscan_release(&q);
	return ret;
}

static void reqscan_release(struct reqscan *q)
{
	report_ranker_free(q->paths);
	report_ranker_free(q->clients);
	for (int d = 0; d < 2; d++)
		for (unsigned i = 0; i < REPORT_MAX_HEADER_SLOTS; i++)
			report_ranker_free(q->hdr[d][i]);
	hmap_release(&q->slow, slow_free);
	hmap_release(&q->cerr, connerr_free);
	for (size_t i = 0; q->ta && i < q->nbins; i++)
		free(q->ta[i]);
	free(q->ta);
	free(q->nta);
	free(q->ata);
}

/* Server events (UP/DOWN, no server available) of the window, oldest first, the latest
 * REPORT_MAX_EVENTS kept per backend. Events belong to backends: a frontend filter hides them. */
static int read_events(struct ctx *c)
{
	struct report *r = c->r;
	struct store_sel sel;
	struct store_cursor *cur;
	const struct store_line *ln;
	int rc, oom = 0;
	if (c->opts->frontend && !c->opts->backend)
		return 0;
	agg_sel(c, &sel);
	sel.frontend = NULL;
	sel.kinds = STORE_KIND(LR_SERVER) | STORE_KIND(LR_NOSRV);
	sel.order = STORE_BY_TIME;
	sel.want = STORE_WANT_FIELDS;
	if (!(cur = store_cursor_open(c->rd, &sel)))
		return storefail(c);
	while ((rc = store_cursor_next(cur, &ln)) > 0) {
		const struct logrec *rec = &ln->rec;
		char *proxy = slice_dup(rec->ev_proxy, &oom);
		if (!proxy) {
			if (oom)
				break;
			continue;
		}
		struct report_group *g = find_group(r->backends, r->nbackends, proxy);
		if (!g)
			g = add_group(&r->backends, &r->nbackends, proxy);
		free(proxy);
		if (!g) {
			oom = 1;
			break;
		}
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
		if (!ev) {
			oom = 1;
			break;
		}
		g->events = ev;
		ev += g->nevents++;
		ev->ts_ms = ln->ts_ms;
		ev->kind = (int)rec->kind;
		ev->server = slice_dup(rec->ev_server, &oom);
		ev->state = slice_dup(rec->ev_state, &oom);
		ev->reason = slice_dup(rec->ev_reason, &oom);
		ev->info = slice_dup(rec->ev_info, &oom);
		if (oom)
			break;
	}
	if (rc < 0)
		storefail(c);
	store_cursor_close(cur);
	if (oom)
		return fail(c, "out of memory");
	return rc < 0 ? -1 : 0;
}

int report_balance_group(struct report_group *g, const struct inv *inv, double check)
{
	const struct inv_backend *ib = inv ? inv_backend_find(inv, g->name) : NULL;
	struct balance_member *bm;
	struct balance_verdict v;
	if (inv && !ib)
		return 0;
	if (!ib && check < 0)
		return 0;
	if (ib) {
		/* servers of the inventory that got no traffic are listed with 0 */
		for (size_t i = 0; i < ib->n; i++) {
			int seen = 0;
			for (size_t j = 0; j < g->nmembers; j++)
				seen |= !strcmp(g->members[j].name, ib->servers[i].name);
			if (!seen && !ib->servers[i].slot && !add_member(g, ib->servers[i].name))
				return -1;
		}
	}
	if (g->nmembers)
		qsort(g->members, g->nmembers, sizeof(*g->members), cmp_server);
	if (!(bm = calloc(g->nmembers ? g->nmembers : 1, sizeof(*bm))))
		return -1;
	for (size_t j = 0; j < g->nmembers; j++) {
		struct report_server *m = &g->members[j];
		bm[j].name = m->name;
		bm[j].requests = m->agg.requests;
		bm[j].special = m->special;
		if (m->special)
			continue;
		m->weight = ib ? 0 : 1;
		for (size_t i = 0; ib && i < ib->n; i++) {
			const struct inv_server *is = &ib->servers[i];
			if (strcmp(is->name, m->name))
				continue;
			m->in_inventory = bm[j].listed = 1;
			m->weight = is->weight;
			bm[j].weight = (double)is->weight;
			m->backup = bm[j].backup = is->backup;
			m->maint = bm[j].maint = is->maint;
			bm[j].slot = is->slot != 0;
		}
	}
	balance_check(bm, g->nmembers, ib != NULL, check, &v);
	for (size_t j = 0; j < g->nmembers; j++) {
		g->members[j].share = bm[j].share;
		g->members[j].expected = bm[j].expected;
		g->members[j].deviation = bm[j].deviation;
	}
	free(bm);
	g->balance_checked = v.checked;
	g->max_deviation = v.max_deviation;
	g->worst = v.worst; /* a member's name: the members are not moved again */
	g->balance_failed = v.failed;
	return 0;
}

int report_unlisted_fail(const struct report *r)
{
	return r->check_balance >= 0 && r->nunlisted && !r->allow_unlisted;
}

int report_idle_fail(const struct report *r)
{
	return r->check_balance >= 0 && r->nidle && !r->allow_idle;
}

/* Requests of g served by real servers (the balance's traffic). */
static int64_t real_requests(const struct report_group *g)
{
	int64_t n = 0;
	for (size_t j = 0; j < g->nmembers; j++)
		n += g->members[j].special ? 0 : g->members[j].agg.requests;
	return n;
}

int report_expects_traffic(const struct inv_backend *ib)
{
	for (size_t i = 0; i < ib->n; i++)
		if (ib->servers[i].weight > 0 && !ib->servers[i].maint)
			return 1;
	return 0;
}

/* The two ways an inventory and the traffic disagree without a deviation to measure: a backend
 * the inventory does not list (a renamed service, say) and a service of the inventory that got
 * no traffic. Both are reported; with --check-balance they fail it unless allowed. */
static int inventory_gaps(struct ctx *c)
{
	struct report *r = c->r;
	const struct inv *inv = c->opts->inv;
	if (!inv)
		return 0;
	for (size_t i = 0; i < r->nbackends; i++) {
		struct report_group *g = &r->backends[i];
		g->listed = inv_backend_find(inv, g->name) != NULL;
		if (!g->listed && real_requests(g) > 0) {
			g->unlisted = 1;
			r->nunlisted++;
		}
	}
	/* which services a frontend routes to is the inventory's routing, not read here */
	for (size_t i = 0; !c->opts->frontend && i < inv->nbackends; i++) {
		const struct inv_backend *ib = &inv->backends[i];
		const struct report_group *g = find_group(r->backends, r->nbackends, ib->name);
		if ((c->opts->backend && strcmp(c->opts->backend, ib->name)) ||
		    !report_expects_traffic(ib) || (g && real_requests(g) > 0))
			continue;
		char **p = realloc(r->idle, (r->nidle + 1) * sizeof(*p));
		if (!p)
			return fail(c, "out of memory");
		r->idle = p;
		if (!(p[r->nidle] = xstrndup(ib->name, strlen(ib->name))))
			return fail(c, "out of memory");
		r->nidle++;
	}
	if (report_unlisted_fail(r))
		r->balance_failed += (int)r->nunlisted;
	if (report_idle_fail(r))
		r->balance_failed += (int)r->nidle;
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

int report_build(struct store_reader *rd, const struct report_opts *opts, struct report *r,
		 char *err, size_t errsz)
{
	struct ctx c;
	struct store_info info;
	struct store_sel sel;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.rd = rd;
	c.opts = opts;
	c.r = r;
	c.err = err;
	c.errsz = errsz;
	strbuf_init(&c.key);
	r->since_ms = opts->since_ms;
	r->until_ms = opts->until_ms;
	r->first_ms = r->last_ms = LR_NONE;
	r->lines_removed_ms = LR_NONE;
	r->inventory = opts->inv != NULL;
	r->check_balance = opts->check_balance;
	r->allow_unlisted = opts->allow_unlisted;
	r->allow_idle = opts->allow_idle;
	r->sections = opts->sections ? opts->sections : REPORT_SEC_BACKENDS;
	r->min_ta = opts->min_ta;
	r->min_tw = opts->min_tw;
	r->from_ms = LR_NONE;
	r->to_ms = LR_NONE;
	if ((opts->frontend && !(r->frontend = xstrndup(opts->frontend, strlen(opts->frontend)))) ||
	    (opts->backend && !(r->backend = xstrndup(opts->backend, strlen(opts->backend))))) {
		fail(&c, "out of memory");
		goto out;
	}
	/* a consistent snapshot while a listener keeps writing */
	if (store_snapshot_begin(rd)) {
		storefail(&c);
		goto out;
	}
	if (store_info(rd, &info)) {
		storefail(&c);
		goto end;
	}
	/* the window, exactly: whole buckets from the rollups, what lies outside them from the
	 * records (a window on whole buckets reads the rollups only) */
	r->from_ms = opts->since_ms;
	r->to_ms = opts->until_ms;
	c.exact = r->window_exact = (opts->since_ms != LR_NONE && opts->since_ms % info.rollup_ms) ||
				    (opts->until_ms != LR_NONE && opts->until_ms % info.rollup_ms);
	c.in_lo = opts->since_ms == LR_NONE ? INT64_MIN
					    : report_floordiv(opts->since_ms + info.rollup_ms - 1,
							      info.rollup_ms) *
						      info.rollup_ms;
	c.in_hi = opts->until_ms == LR_NONE ? INT64_MAX : report_floordiv(opts->until_ms, info.rollup_ms) *
						      info.rollup_ms;
	agg_sel(&c, &sel);
	if (read_lines(&c) || read_counters(&c) || read_record_sections(&c, info.rollup_ms))
		goto end;
	if (info.lines_removed_ms != LR_NONE && r->first_ms != LR_NONE &&
	    r->first_ms <= info.lines_removed_ms)
		r->lines_removed_ms = info.lines_removed_ms;
	if (!(r->sections & REPORT_SEC_BACKENDS)) {
		ret = 0;
		goto end;
	}
	if (timer_floors(opts)) {
		if (aggregate_records(&c, sel.since_ms, sel.until_ms))
			goto end;
	} else if (c.exact) {
		/* whole buckets from the rollups, the edges from the records */
		int64_t lo[2], hi[2];
		int n = window_edges(&c, lo, hi);
		struct store_sel in = sel;
		in.since_ms = c.in_lo;
		in.until_ms = c.in_hi;
		if (c.in_lo < c.in_hi &&
		    (store_aggregate(rd, &in, on_agg, &c) ||
		     store_error_paths(rd, &in, REPORT_INNER_ERRPATHS, on_errpath_count, &c))) {
			if (!c.failed)
				storefail(&c);
			goto end;
		}
		for (int i = 0; i < n; i++)
			if (aggregate_records(&c, lo[i], hi[i]))
				goto end;
	} else if (store_aggregate(rd, &sel, on_agg, &c)) {
		if (!c.failed)
			storefail(&c);
		goto end;
	}
	if (build_groups(&c) || read_errpaths(&c) || read_events(&c))
		goto end;
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
			if (!pass) {
				if (report_balance_group(g, opts->inv, opts->check_balance)) {
					fail(&c, "out of memory");
					goto end;
				}
				r->balance_failed += g->balance_failed;
			}
			if (g->nmembers)
				qsort(g->members, g->nmembers, sizeof(*g->members), cmp_server);
			for (size_t j = 0; j < g->nmembers; j++) {
				sort_pairs(&g->members[j].agg);
				latencies(&g->members[j].agg, g->members[j].lat);
			}
			sort_pairs(&g->agg);
			latencies(&g->agg, g->lat);
		}
	}
	if (inventory_gaps(&c))
		goto end;
	ret = 0;
end:
	store_snapshot_end(rd);
out:
	hmap_release(&c.aggs, rollup_agg_free);
	hmap_release(&c.errp, free);
	strbuf_release(&c.key);
	if (ret)
		report_release(r);
	return ret;
}

void report_group_release(struct report_group *g)
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
	memset(g, 0, sizeof(*g));
}

void report_table_words(const struct report *r, const struct report_table *t,
			struct report_words *w)
{
	memset(w, 0, sizeof(*w));
	if (t == &r->paths) {
		w->paths = 1;
		snprintf(w->sec, sizeof(w->sec), "paths");
		snprintf(w->what, sizeof(w->what), "paths");
		snprintf(w->key, sizeof(w->key), "path");
		snprintf(w->title, sizeof(w->title), "Paths");
		snprintf(w->id, sizeof(w->id), "paths");
		return;
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct report_headers *h = &r->headers[i];
		if (t != &h->t)
			continue;
		w->h = h;
		snprintf(w->sec, sizeof(w->sec), "%s header %u", h->response ? "response" : "request",
			 h->index);
		snprintf(w->what, sizeof(w->what), "values");
		snprintf(w->key, sizeof(w->key), "value");
		snprintf(w->title, sizeof(w->title), "%s header %u",
			 h->response ? "Response" : "Request", h->index);
		snprintf(w->id, sizeof(w->id), "%s-header-%u", h->response ? "resp" : "req",
			 h->index);
		return;
	}
	snprintf(w->sec, sizeof(w->sec), "clients");
	snprintf(w->what, sizeof(w->what), "%s",
		 r->client_by == REPORT_CLIENT_NET ? "client networks" : "clients");
	snprintf(w->key, sizeof(w->key), "client");
	snprintf(w->title, sizeof(w->title), "Clients");
	snprintf(w->id, sizeof(w->id), "clients");
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->nbackends; i++)
		report_group_release(&r->backends[i]);
	for (size_t i = 0; i < r->nfrontends; i++)
		report_group_release(&r->frontends[i]);
	free(r->backends);
	free(r->frontends);
	for (size_t i = 0; i < r->ncounters; i++)
		free(r->counters[i].name);
	free(r->counters);
	for (size_t i = 0; i < r->nidle; i++)
		free(r->idle[i]);
	free(r->idle);
	free(r->frontend);
	free(r->backend);
	report_table_release(&r->paths);
	report_table_release(&r->clients);
	for (size_t i = 0; i < r->nheaders; i++)
		report_table_release(&r->headers[i].t);
	free(r->headers);
	free(r->series.bins);
	for (size_t i = 0; i < r->nslowest; i++) {
		for (size_t j = 0; j < r->slowest[i].nrows; j++) {
			free(r->slowest[i].rows[j].server);
			free(r->slowest[i].rows[j].line);
		}
		free(r->slowest[i].rows);
		free(r->slowest[i].backend);
	}
	free(r->slowest);
	for (size_t i = 0; i < r->nconnerrs; i++) {
		free(r->connerrs[i].frontend);
		free(r->connerrs[i].bind);
		free(r->connerrs[i].message);
	}
	free(r->connerrs);
	for (size_t i = 0; i < r->compare.nrows; i++) {
		free(r->compare.rows[i].backend);
		free(r->compare.rows[i].server);
	}
	free(r->compare.rows);
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

int report_is_tcp(unsigned kinds)
{
	return kinds == (1u << LR_TCP);
}

double report_pct(int64_t part, int64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

int64_t report_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

int report_fmt_dur(struct strbuf *sb, int64_t ms, enum report_dur_style style)
{
	long long s = (long long)(ms / 1000), d = s / 86400, h = s % 86400 / 3600,
		  m = s % 3600 / 60, sec = s % 60, milli = (long long)(ms % 1000);
	int words = style == REPORT_DUR_WORDS;
	if (s >= 86400)
		return words ? strbuf_addf(sb, "%lld d %lld h %lld min", d, h, m)
			     : strbuf_addf(sb, "%lldd%02lldh%02lldm", d, h, m);
	if (s >= 3600)
		return words ? strbuf_addf(sb, "%lld h %lld min", s / 3600, m)
			     : strbuf_addf(sb, "%lldh%02lldm%02llds", s / 3600, m, sec);
	if (s >= 60)
		return words ? strbuf_addf(sb, "%lld min %lld s", s / 60, sec)
			     : strbuf_addf(sb, "%lldm%02llds", s / 60, sec);
	return words ? strbuf_addf(sb, "%lld.%03lld s", s, milli)
		     : strbuf_addf(sb, "%lld.%03llds", s, milli);
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
