/* halog serve's reads over the store's read API; see sdata.h. */
#include "serve/sdata.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* The hit graph is counted in this many slices of its bins, newest first, so that a budget cut
 * keeps the recent part. 1 while the store's only backend (SQLite) reads a receive-time window
 * by scanning every line: each slice would cost a whole scan, and on a 1M-line store (about
 * 1.5 s a scan on the loaded 2-core machine) ten slices ran out of the budget where one pass
 * counts the whole graph. Raise it for a backend that reads a time window by its bounds. */
#define SDATA_HIT_SLICES 1

struct sdata_pool {
	char *path;
	int64_t query_ms;
	pthread_mutex_t mu;
	pthread_cond_t freed;
	unsigned n;
	struct store_reader **rds; /* n slots; NULL until first opened */
	unsigned char *busy;	   /* n flags */
};

struct sdata_pool *sdata_pool_new(const char *path, unsigned n, int64_t query_ms, char *err,
				  size_t errsz)
{
	struct sdata_pool *p = calloc(1, sizeof(*p));

	if (!p || !(p->path = strdup(path)) || !(p->rds = calloc(n, sizeof(*p->rds))) ||
	    !(p->busy = calloc(n, 1)) || pthread_mutex_init(&p->mu, NULL) ||
	    clock_cond_init(&p->freed)) {
		snprintf(err, errsz, "out of memory");
		free(p ? p->busy : NULL);
		free(p ? p->rds : NULL);
		free(p ? p->path : NULL);
		free(p);
		return NULL;
	}
	p->n = n;
	p->query_ms = query_ms;
	return p;
}

void sdata_pool_free(struct sdata_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++)
		store_reader_close(p->rds[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->freed);
	free(p->rds);
	free(p->busy);
	free(p->path);
	free(p);
}

static unsigned free_slot(const struct sdata_pool *p)
{
	unsigned i = 0;

	while (i < p->n && p->busy[i])
		i++;
	return i;
}

struct store_reader *sdata_get(struct sdata_pool *p, int64_t wait_ms, int *busy, char *err,
			       size_t errsz)
{
	struct timespec until;
	unsigned slot;

	*busy = 0;
	clock_cond_deadline(&until, wait_ms);
	pthread_mutex_lock(&p->mu);
	while ((slot = free_slot(p)) == p->n)
		if (pthread_cond_timedwait(&p->freed, &p->mu, &until) == ETIMEDOUT) {
			slot = free_slot(p);
			break;
		}
	if (slot == p->n) {
		pthread_mutex_unlock(&p->mu);
		*busy = 1;
		snprintf(err, errsz, "busy: %u searches are running", p->n);
		return NULL;
	}
	p->busy[slot] = 1;
	pthread_mutex_unlock(&p->mu);
	if (!p->rds[slot] && !(p->rds[slot] = store_reader_open(p->path, err, errsz))) {
		/* opened outside the lock: the slot is ours until given back */
		pthread_mutex_lock(&p->mu);
		p->busy[slot] = 0;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	store_reader_deadline(p->rds[slot], p->query_ms);
	return p->rds[slot];
}

void sdata_put(struct sdata_pool *p, struct store_reader *rd)
{
	if (!rd)
		return;
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		if (p->rds[i] == rd)
			p->busy[i] = 0;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

int sdata_each(struct store_reader *rd, const struct store_sel *sel, sline_fn fn, void *cls,
	       int *truncated)
{
	struct store_cursor *c = store_cursor_open(rd, sel);
	const struct store_line *ln;
	int rc, first = 1;

	if (truncated)
		*truncated = 0;
	if (!c)
		return -1;
	while ((rc = store_cursor_next(c, &ln)) > 0) {
		if (first && truncated)
			*truncated = store_cursor_truncated(c);
		first = 0;
		if (fn(cls, ln))
			break;
	}
	store_cursor_close(c);
	return rc < 0 ? -1 : 0;
}

static int take_recv(void *cls, const struct store_line *l)
{
	*(int64_t *)cls = l->recv_ms;
	return 1;
}

int sdata_span(struct store_reader *rd, int64_t *first_ms, int64_t *last_ms)
{
	struct store_sel sel;

	*first_ms = *last_ms = LR_NONE;
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE;
	sel.limit = 1;
	if (sdata_each(rd, &sel, take_recv, first_ms, NULL))
		return -1;
	sel.order = STORE_NEWEST;
	return sdata_each(rd, &sel, take_recv, last_ms, NULL);
}

/* The line at a position: its source (copied) and receive time. */
struct ctx_line {
	char *source;
	int64_t recv_ms;
	int found;
};

static int take_line(void *cls, const struct store_line *l)
{
	struct ctx_line *x = cls;

	x->found = 1;
	x->recv_ms = l->recv_ms;
	if (l->source.p && !memchr(l->source.p, '\0', l->source.len))
		x->source = strndup(l->source.p, l->source.len);
	return 1;
}

int sdata_context(struct store_reader *rd, struct store_pos pos, int64_t n, sline_fn fn,
		  void *cls, int *found)
{
	struct ctx_line x = {NULL, 0, 0};
	struct store_sel sel;
	int rc = -1;

	*found = 0;
	store_sel_init(&sel);
	sel.from = pos;
	sel.to = store_pos_next(pos);
	sel.want = STORE_WANT_LINE;
	if (sdata_each(rd, &sel, take_line, &x, NULL))
		goto out;
	if (!x.found) {
		rc = 0;
		goto out;
	}
	*found = 1;
	store_sel_init(&sel);
	sel.want = SDATA_WANT;
	sel.source = x.source;
	if (n > 0 && x.source) {
		/* before it: the newest n, delivered oldest first */
		sel.to = pos;
		sel.since_ms = x.recv_ms - SDATA_CONTEXT_MS;
		sel.order = STORE_TAIL;
		sel.limit = n;
		if (sdata_each(rd, &sel, fn, cls, NULL))
			goto out;
	}
	/* the line itself */
	sel.since_ms = INT64_MIN;
	sel.from = pos;
	sel.to = store_pos_next(pos);
	sel.source = NULL;
	sel.order = STORE_OLDEST;
	sel.limit = 0;
	if (sdata_each(rd, &sel, fn, cls, NULL))
		goto out;
	if (n > 0 && x.source) {
		sel.source = x.source;
		sel.from = store_pos_next(pos);
		sel.to = STORE_POS_MAX;
		sel.until_ms = x.recv_ms + SDATA_CONTEXT_MS;
		sel.limit = n;
		if (sdata_each(rd, &sel, fn, cls, NULL))
			goto out;
	}
	rc = 0;
out:
	free(x.source);
	return rc;
}

int sdata_hits(struct store_reader *rd, const struct query *q, struct store_pos from,
	       struct store_pos to, int64_t t0, int64_t width, size_t nbins, int64_t budget_ms,
	       int64_t *counts, int64_t *partial_from)
{
	int64_t stop_at = clock_mono_ms() + budget_ms;
	size_t per = (nbins + SDATA_HIT_SLICES - 1) / SDATA_HIT_SLICES;
	struct store_sel sel;

	*partial_from = LR_NONE;
	if (!per)
		return 0;
	store_sel_init(&sel);
	sel.query = q;
	sel.from = from;
	sel.to = to;
	/* newest slice first: a budget cut keeps the recent part of the graph */
	for (size_t hi = nbins; hi > 0;) {
		size_t lo = hi > per ? hi - per : 0;

		sel.since_ms = t0 + (int64_t)lo * width;
		sel.until_ms = t0 + (int64_t)hi * width;
		if (store_histogram(rd, &sel, sel.since_ms, width, hi - lo, counts + lo)) {
			if (hi == nbins || !store_reader_timed_out(rd))
				return -1;
			/* this slice was cut short: what it added so far is not a count */
			memset(counts + lo, 0, (hi - lo) * sizeof(*counts));
			*partial_from = t0 + (int64_t)hi * width;
			break;
		}
		hi = lo;
		if (hi && clock_mono_ms() > stop_at) {
			*partial_from = t0 + (int64_t)hi * width;
			break;
		}
	}
	return 0;
}
