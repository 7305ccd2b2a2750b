/* The conclusions of a drive run (check.h): its window read back through the store's read API,
 * and the balance verdicts by the report's rule. */
#include "drive/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report/balance.h"
#include "inventory/inventory.h"
#include "report/report.h"
#include "store/rollup.h"

#define DRIVE_POLL_MS 100

struct store_pos drive_store_mark(const char *db)
{
	char err[512];
	struct store_pos end = STORE_POS_MIN;
	struct store_reader *rd = store_reader_open(db, err, sizeof(err));
	if (rd && store_end(rd, &end))
		end = STORE_POS_MIN;
	store_reader_close(rd);
	return end;
}

/* The run's request lines: from the mark, logged between the first request and the last
 * answer (both inclusive). */
static void run_sel(struct store_pos from, const struct drive_stats *st, struct store_sel *sel)
{
	store_sel_init(sel);
	sel->clock = STORE_LOGGED;
	sel->since_ms = st->start_ms;
	sel->until_ms = st->end_ms < INT64_MAX ? st->end_ms + 1 : INT64_MAX;
	sel->from = from;
	sel->kinds = STORE_KINDS_TRAFFIC;
}

int drive_wait_logged(const char *db, struct store_pos from, const struct drive_stats *st,
		      int64_t timeout_ms, int64_t settle_ms, int64_t *logged, char *err,
		      size_t errsz)
{
	int64_t now = clock_mono_ms(), deadline = now + timeout_ms, last_change = now;
	struct store_reader *rd = NULL;
	struct store_sel sel;

	*logged = -1;
	snprintf(err, errsz, "not read");
	run_sel(from, st, &sel);
	for (;;) {
		int64_t n = -1;

		/* the listener may create the store only now: open it until it is there */
		if (!rd)
			rd = store_reader_open(db, err, errsz);
		if (rd && store_count(rd, &sel, &n)) {
			snprintf(err, errsz, "%s", store_reader_errmsg(rd));
			n = -1;
		}
		now = clock_mono_ms();
		if (n != *logged) {
			*logged = n;
			last_change = now;
		}
		/* all there; or nothing new for settle-ms: what is missing is lost */
		if (n >= st->sent || (n >= 0 && now - last_change >= settle_ms) || now >= deadline)
			break;
		clock_sleep_ms(DRIVE_POLL_MS);
	}
	store_reader_close(rd);
	return *logged < 0 ? -1 : 0;
}

/* Ta values of one (backend, server) while the window is read. */
struct acc {
	struct drive_row row;
	int32_t *ta;
	size_t nta, ata;
};

static void acc_free(void *p)
{
	struct acc *a = p;
	if (!a)
		return;
	free(a->row.backend);
	free(a->row.server);
	free(a->ta);
	free(a);
}

static char *dup_or_dash(struct lr_str v)
{
	const char *p = v.p && v.len ? v.p : "-";
	size_t n = v.p && v.len ? v.len : 1;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_row(const void *a, const void *b)
{
	const struct drive_row *x = a, *y = b;
	int d = strcmp(x->backend, y->backend);
	return d ? d : strcmp(x->server, y->server);
}

static int32_t pick(const int32_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (n == 0)
		return -1;
	return v[(rank < 1 ? 1 : rank) - 1];
}

/* Adds one request to its (backend, server) in m. Returns 0, or -1 with a message in err. */
static int add_request(struct hmap *m, const struct logrec *r, char *err, size_t errsz)
{
	struct lr_str be = r->backend, srv = r->server;
	char key[1024];
	int isnew;
	size_t bl = be.p ? be.len : 0, sl = srv.p ? srv.len : 0;
	if (bl + sl + 1 > sizeof(key)) {
		snprintf(err, errsz, "a backend or server name longer than %zu bytes",
			 sizeof(key) / 2);
		return -1;
	}
	memcpy(key, be.p ? be.p : "", bl);
	key[bl] = '\0';
	memcpy(key + bl + 1, srv.p ? srv.p : "", sl);
	struct hmap_ent *e = hmap_put(m, key, bl + 1 + sl, &isnew);
	if (!e)
		goto oom;
	if (isnew) {
		struct acc *a;
		if (m->n > DRIVE_MAX_ROWS) {
			snprintf(err, errsz, "more than %d backend/server pairs in the window",
				 DRIVE_MAX_ROWS);
			return -1;
		}
		if (!(a = calloc(1, sizeof(*a))))
			goto oom;
		e->val = a;
		a->row.backend = dup_or_dash(be);
		a->row.server = dup_or_dash(srv);
		if (!a->row.backend || !a->row.server)
			goto oom;
		a->row.special = balance_special(a->row.server);
	}
	struct acc *a = e->val;
	struct drive_row *row = &a->row;
	int64_t status = r->status_code == LR_NONE ? -1 : r->status_code;
	row->n++;
	if (status >= 200 && status < 400)
		row->ok++;
	else if (status >= 400 && status < 500)
		row->c4xx++;
	else if (status >= 500)
		row->c5xx++;
	else
		row->noresp++;
	/* as in the report: a redispatched row counts there, not among the retries */
	if (r->flags & LR_F_REDISPATCH)
		row->redisp++;
	else if (r->retries != LR_NONE && r->retries > 0)
		row->retried++;
	if (r->t_active != LR_TIMER_NONE) {
		if (a->nta == a->ata) {
			size_t na = a->ata ? a->ata * 2 : 256;
			int32_t *nt = realloc(a->ta, na * sizeof(*nt));
			if (!nt)
				goto oom;
			a->ta = nt;
			a->ata = na;
		}
		a->ta[a->nta++] = r->t_active;
	}
	return 0;
oom:
	snprintf(err, errsz, "out of memory");
	return -1;
}

int drive_window_read(const char *db, const char *backend, struct store_pos from,
		      const struct drive_stats *st, struct drive_window *w, char *err, size_t errsz)
{
	struct store_reader *rd;
	struct store_cursor *c = NULL;
	struct store_sel sel;
	struct hmap m = HMAP_INIT;
	const struct store_line *ln;
	int rc = -1, r;

	memset(w, 0, sizeof(*w));
	if (!(rd = store_reader_open(db, err, errsz)))
		return -1;
	run_sel(from, st, &sel);
	sel.backend = backend;
	sel.want = STORE_WANT_FIELDS;
	if (!(c = store_cursor_open(rd, &sel))) {
		snprintf(err, errsz, "%s", store_reader_errmsg(rd));
		goto out;
	}
	while ((r = store_cursor_next(c, &ln)) > 0) {
		if (add_request(&m, &ln->rec, err, errsz))
			goto out;
		w->total++;
	}
	if (r < 0) {
		snprintf(err, errsz, "%s", store_reader_errmsg(rd));
		goto out;
	}
	if (m.n && !(w->rows = calloc(m.n, sizeof(*w->rows)))) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m.cap; i++) {
		struct acc *a = m.tab[i].val;
		if (!m.tab[i].key || !a)
			continue;
		if (a->nta)
			qsort(a->ta, a->nta, sizeof(*a->ta), cmp_i32);
		a->row.p50 = pick(a->ta, a->nta, 50);
		a->row.p95 = pick(a->ta, a->nta, 95);
		a->row.p99 = pick(a->ta, a->nta, 99);
		a->row.max = a->nta ? a->ta[a->nta - 1] : -1;
		w->rows[w->n++] = a->row; /* the strings move to the window */
		a->row.backend = a->row.server = NULL;
	}
	if (w->n)
		qsort(w->rows, w->n, sizeof(*w->rows), cmp_row);
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
out:
	if (rc)
		drive_window_release(w);
	store_cursor_close(c);
	store_reader_close(rd);
	hmap_release(&m, acc_free);
	return rc;
}

void drive_window_release(struct drive_window *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->rows[i].backend);
		free(w->rows[i].server);
	}
	free(w->rows);
	memset(w, 0, sizeof(*w));
}

void drive_verdicts_free(struct drive_verdict *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].backend);
		free(v[i].worst);
	}
	free(v);
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The verdict of one backend (rows [i, j) of w) against inv; adds it to *v. 0 or -1. */
static int check_backend(struct drive_window *w, size_t i, size_t j, const struct inv *inv,
			 double tol, struct drive_verdict **v, size_t *nv)
{
	struct report_group g;
	struct drive_verdict *nvv, *x;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	if (!(g.name = strdup(w->rows[i].backend)))
		return -1;
	for (size_t k = i; k < j; k++)
		if (!report_group_add(&g, w->rows[k].server, w->rows[k].n))
			goto out;
	if (report_balance_group(&g, inv, tol))
		goto out;
	for (size_t k = i; k < j; k++) {
		struct drive_row *row = &w->rows[k];
		for (size_t m = 0; m < g.nmembers; m++) {
			const struct report_server *s = &g.members[m];
			if (strcmp(s->name, row->server) || s->special || !g.balance_checked)
				continue;
			row->checked = 1;
			row->expected = s->expected;
			row->out = fabs(s->deviation) > tol;
		}
	}
	if (!(nvv = realloc(*v, (*nv + 1) * sizeof(**v))))
		goto out;
	*v = nvv;
	x = &nvv[*nv];
	memset(x, 0, sizeof(*x));
	x->result = !g.balance_checked ? -1 : !g.balance_failed;
	x->max_dev = g.max_deviation;
	x->backend = strdup(g.name);
	x->worst = xstrdup(g.worst);
	(*nv)++;
	if (!x->backend || (g.worst && !x->worst))
		goto out;
	rc = 0;
out:
	report_group_release(&g);
	return rc;
}

/* Adds a gap verdict for backend. Returns 0 or -1. */
static int add_gap(const char *backend, int gap, int allowed, struct drive_verdict **v, size_t *nv)
{
	struct drive_verdict *nvv = realloc(*v, (*nv + 1) * sizeof(**v));
	if (!nvv)
		return -1;
	*v = nvv;
	memset(&nvv[*nv], 0, sizeof(**v));
	nvv[*nv].result = allowed ? -1 : 0;
	nvv[*nv].gap = gap;
	if (!(nvv[*nv].backend = strdup(backend)))
		return -1;
	(*nv)++;
	return 0;
}

/* Requests of the rows [i, j) served by real servers. */
static long real_requests(const struct drive_window *w, size_t i, size_t j)
{
	long n = 0;
	for (size_t k = i; k < j; k++)
		n += w->rows[k].special ? 0 : w->rows[k].n;
	return n;
}

int drive_check_inventory(struct drive_window *w, const struct inv *inv, double tol,
			  const struct drive_gaps *g, struct drive_verdict **v, size_t *nv)
{
	*v = NULL;
	*nv = 0;
	for (size_t i = 0, j; i < w->n; i = j) {
		for (j = i; j < w->n && !strcmp(w->rows[j].backend, w->rows[i].backend); j++)
			;
		if (inv_backend_find(inv, w->rows[i].backend)) {
			if (check_backend(w, i, j, inv, tol, v, nv))
				return -1;
		} else if (real_requests(w, i, j) > 0 &&
			   add_gap(w->rows[i].backend, DRIVE_GAP_UNLISTED, g->allow_unlisted, v,
				   nv)) {
			return -1;
		}
	}
	/* the services of the run's scope that expected some of its traffic */
	for (size_t s = 0; s < inv->nbackends; s++) {
		const struct inv_backend *ib = &inv->backends[s];
		long n = 0;
		if ((g->backend && strcmp(g->backend, ib->name)) || !report_expects_traffic(ib))
			continue;
		for (size_t i = 0, j; i < w->n; i = j) {
			for (j = i; j < w->n && !strcmp(w->rows[j].backend, w->rows[i].backend);
			     j++)
				;
			if (!strcmp(w->rows[i].backend, ib->name))
				n += real_requests(w, i, j);
		}
		if (!n && add_gap(ib->name, DRIVE_GAP_IDLE, g->allow_idle, v, nv))
			return -1;
	}
	return 0;
}

int drive_check_weights(const struct drive_stats *st, const struct drive_weight *wt, size_t nw,
			double tol, struct drive_xshare **xs, size_t *nxs, struct drive_verdict *xv)
{
	struct balance_member *m = calloc(st->nservers + nw + 1, sizeof(*m));
	struct drive_xshare *out = calloc(st->nservers + nw + 1, sizeof(*out));
	struct balance_verdict bv;
	size_t n = 0;

	memset(xv, 0, sizeof(*xv));
	*xs = NULL;
	*nxs = 0;
	if (!m || !out) {
		free(m);
		free(out);
		return -1;
	}
	/* the servers that answered, then the weighted ones that did not */
	for (size_t i = 0; i < st->nservers; i++) {
		if (!strcmp(st->servers[i].name, "-"))
			continue;
		m[n].name = st->servers[i].name;
		m[n].requests = st->servers[i].n;
		for (size_t j = 0; j < nw; j++)
			if (!strcmp(wt[j].name, m[n].name)) {
				m[n].listed = 1;
				m[n].weight = wt[j].weight;
			}
		n++;
	}
	for (size_t j = 0; j < nw; j++) {
		int seen = 0;
		for (size_t i = 0; i < n; i++)
			seen |= !strcmp(m[i].name, wt[j].name);
		if (seen)
			continue;
		m[n].name = wt[j].name;
		m[n].listed = 1;
		m[n].weight = wt[j].weight;
		n++;
	}
	balance_check(m, n, 1, tol, &bv);
	for (size_t i = 0; i < n; i++) {
		out[i].name = m[i].name;
		out[i].n = (long)m[i].requests;
		out[i].share = m[i].share;
		out[i].expected = m[i].expected < 0 ? 0 : m[i].expected;
		out[i].deviation = m[i].deviation;
		out[i].bad = m[i].out;
	}
	xv->result = !bv.checked ? -1 : !bv.failed;
	xv->max_dev = bv.max_deviation;
	xv->worst = xstrdup(bv.worst);
	free(m);
	if (bv.worst && !xv->worst) {
		free(out);
		return -1;
	}
	*xs = out;
	*nxs = n;
	return 0;
}
