/* The read API's front (store/read.h): picks the backend by the scheme of the path or URL,
 * checks the selection members each operation honours, and hands over to the backend's
 * operations (store/backend.h). */
#include "store/read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store/backend.h"
#include "store/chhttp.h"

/* Backends by scheme, first match wins; a path without "scheme://" is a SQLite file. ops NULL:
 * known but not built in this halog. */
static const struct {
	const char *scheme;
	const struct store_ops *ops;
	const char *why; /* when ops is NULL */
} backends[] = {
	{"clickhouse://", &store_clickhouse_ops, NULL},
	{"file://", &store_sqlite_ops, NULL},
};

struct store_cursor {
	struct store_reader *rd;
	void *impl;
};

int store_reader_fail(struct store_reader *rd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rd->err, sizeof(rd->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* The scheme's length when where starts with "letters://", else 0. */
static size_t scheme_len(const char *where)
{
	size_t i = 0;
	while ((where[i] >= 'a' && where[i] <= 'z') || (where[i] >= 'A' && where[i] <= 'Z') ||
	       (i && where[i] >= '0' && where[i] <= '9') || (i && where[i] == '+'))
		i++;
	return i && !strncmp(where + i, "://", 3) ? i + 3 : 0;
}

struct store_reader *store_reader_open(const char *where, char *err, size_t errsz)
{
	const struct store_ops *ops = &store_sqlite_ops;
	const char *rest = where;
	size_t sl = scheme_len(where);
	if (sl) {
		char shown[CH_SHOWN_MAX]; /* a URL in a message hides its password */

		ops = NULL;
		for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
			if (strncmp(where, backends[i].scheme, sl) || backends[i].scheme[sl])
				continue;
			if (!backends[i].ops) {
				snprintf(err, errsz, "'%s': %s",
					 ch_url_redact(where, shown, sizeof(shown)),
					 backends[i].why);
				return NULL;
			}
			ops = backends[i].ops;
			rest = where + sl;
		}
		if (!ops) {
			snprintf(err, errsz,
				 "'%s': unknown store scheme '%.*s' (a file path, or %s)",
				 ch_url_redact(where, shown, sizeof(shown)), (int)(sl - 3), where,
				 "file://PATH");
			return NULL;
		}
	}
	struct store_reader *rd = calloc(1, sizeof(*rd));
	if (!rd) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	rd->ops = ops;
	if (ops->open(rd, rest)) {
		snprintf(err, errsz, "%s", rd->err);
		free(rd);
		return NULL;
	}
	return rd;
}

void store_reader_close(struct store_reader *rd)
{
	if (!rd)
		return;
	if (rd->in_snapshot)
		rd->ops->snapshot_end(rd);
	rd->ops->close(rd);
	free(rd);
}

const char *store_reader_errmsg(const struct store_reader *rd)
{
	return rd->err;
}

void store_reader_deadline(struct store_reader *rd, int64_t ms)
{
	rd->timed_out = 0;
	rd->limit_ms = ms > 0 ? ms : 0;
	rd->deadline_ms = ms > 0 ? clock_mono_ms() + ms : 0;
}

int store_reader_timed_out(const struct store_reader *rd)
{
	return rd->timed_out;
}

int store_reader_expired(struct store_reader *rd)
{
	if (!rd->deadline_ms || clock_mono_ms() < rd->deadline_ms)
		return 0;
	rd->timed_out = 1;
	return 1;
}

int store_snapshot_begin(struct store_reader *rd)
{
	if (rd->in_snapshot)
		return store_reader_fail(rd, "a snapshot is already open");
	if (rd->ops->snapshot_begin(rd))
		return -1;
	rd->in_snapshot = 1;
	return 0;
}

void store_snapshot_end(struct store_reader *rd)
{
	if (!rd->in_snapshot)
		return;
	rd->ops->snapshot_end(rd);
	rd->in_snapshot = 0;
}

int store_info(struct store_reader *rd, struct store_info *out)
{
	memset(out, 0, sizeof(*out));
	out->backend = rd->ops->name;
	return rd->ops->info(rd, out);
}

int store_pos_cmp(struct store_pos a, struct store_pos b)
{
	return (a.v > b.v) - (a.v < b.v);
}

struct store_pos store_pos_next(struct store_pos p)
{
	if (p.v < INT64_MAX)
		p.v++;
	return p;
}

int store_end(struct store_reader *rd, struct store_pos *out)
{
	return rd->ops->end(rd, out);
}

void store_sel_init(struct store_sel *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->since_ms = INT64_MIN;
	sel->until_ms = INT64_MAX;
	sel->clock = STORE_RECEIVED;
	sel->from = STORE_POS_MIN;
	sel->to = STORE_POS_MAX;
	sel->order = STORE_OLDEST;
}

/* Checks what every line read needs. Returns 0 or -1. */
static int check_lines(struct store_reader *rd, const struct store_sel *sel)
{
	if (sel->clock != STORE_RECEIVED && sel->clock != STORE_LOGGED)
		return store_reader_fail(rd, "unknown clock %d", (int)sel->clock);
	if ((unsigned)sel->order > STORE_BY_TIME)
		return store_reader_fail(rd, "unknown order %d", (int)sel->order);
	if (sel->limit < 0)
		return store_reader_fail(rd, "negative limit");
	if (sel->kinds >> LR_KIND_MAX)
		return store_reader_fail(rd, "unknown kinds 0x%x", sel->kinds);
	return 0;
}

/* Checks the members aggregates honour (see read.h). Returns 0 or -1. */
static int check_agg(struct store_reader *rd, const struct store_sel *sel, int names,
		     const char *what)
{
	int windowed = sel->since_ms != INT64_MIN || sel->until_ms != INT64_MAX;
	if (windowed && sel->clock != STORE_LOGGED)
		return store_reader_fail(rd,
					 "%s: aggregates are kept by logged time: use "
					 "STORE_LOGGED",
					 what);
	if (sel->query)
		return store_reader_fail(rd, "%s: aggregates take no query", what);
	if (store_pos_cmp(sel->from, STORE_POS_MIN) || store_pos_cmp(sel->to, STORE_POS_MAX))
		return store_reader_fail(rd, "%s: aggregates take no positions", what);
	if (sel->source)
		return store_reader_fail(rd, "%s: aggregates take no source", what);
	if (sel->limit)
		return store_reader_fail(rd, "%s: aggregates take no limit", what);
	if (sel->kinds & ~(unsigned)STORE_KINDS_TRAFFIC)
		return store_reader_fail(rd, "%s: aggregates cover traffic kinds only", what);
	if (!names && (sel->frontend || sel->backend || sel->server || sel->kinds))
		return store_reader_fail(rd, "%s: takes no names or kinds", what);
	return 0;
}

struct store_cursor *store_cursor_open(struct store_reader *rd, const struct store_sel *sel)
{
	if (check_lines(rd, sel))
		return NULL;
	struct store_cursor *c = calloc(1, sizeof(*c));
	if (!c) {
		store_reader_fail(rd, "out of memory");
		return NULL;
	}
	c->rd = rd;
	if (!(c->impl = rd->ops->cursor_open(rd, sel))) {
		free(c);
		return NULL;
	}
	return c;
}

int store_cursor_next(struct store_cursor *c, const struct store_line **line)
{
	return c->rd->ops->cursor_next(c->rd, c->impl, line);
}

int store_cursor_truncated(const struct store_cursor *c)
{
	return c->rd->ops->cursor_truncated(c->impl);
}

void store_cursor_close(struct store_cursor *c)
{
	if (!c)
		return;
	c->rd->ops->cursor_close(c->impl);
	free(c);
}

int store_count(struct store_reader *rd, const struct store_sel *sel, int64_t *n)
{
	*n = 0;
	if (check_lines(rd, sel))
		return -1;
	return rd->ops->count(rd, sel, n);
}

int store_histogram(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		    int64_t width_ms, size_t nbins, int64_t *counts)
{
	if (check_lines(rd, sel))
		return -1;
	if (width_ms <= 0)
		return store_reader_fail(rd, "histogram: the bin width must be positive");
	if (!nbins)
		return 0;
	return rd->ops->histogram(rd, sel, t0, width_ms, nbins, counts);
}

int store_aggregate(struct store_reader *rd, const struct store_sel *sel, store_agg_fn fn,
		    void *arg)
{
	if (check_agg(rd, sel, 1, "aggregate"))
		return -1;
	return rd->ops->aggregate(rd, sel, fn, arg);
}

int store_line_stats(struct store_reader *rd, const struct store_sel *sel,
		     struct store_line_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->first_ms = out->last_ms = LR_NONE;
	if (check_agg(rd, sel, 0, "line stats"))
		return -1;
	return rd->ops->line_stats(rd, sel, out);
}

int store_error_paths(struct store_reader *rd, const struct store_sel *sel, size_t top,
		      store_errpath_fn fn, void *arg)
{
	if (check_agg(rd, sel, 1, "error paths"))
		return -1;
	if (!top)
		return 0;
	return rd->ops->error_paths(rd, sel, top, fn, arg);
}

int store_series(struct store_reader *rd, const struct store_sel *sel, int64_t t0, int64_t width_ms,
		 size_t nbins, struct store_bin *bins)
{
	if (check_agg(rd, sel, 1, "series"))
		return -1;
	if (width_ms <= 0)
		return store_reader_fail(rd, "series: the bin width must be positive");
	if (!nbins)
		return 0;
	return rd->ops->series(rd, sel, t0, width_ms, nbins, bins);
}

int store_series_timer(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		       int64_t width_ms, size_t nbins, enum rollup_timer t, store_bin_timer_fn fn,
		       void *arg)
{
	struct store_info info;
	if (check_agg(rd, sel, 1, "series timer"))
		return -1;
	if (width_ms <= 0)
		return store_reader_fail(rd, "series timer: the bin width must be positive");
	if ((unsigned)t >= RT_N)
		return store_reader_fail(rd, "series timer: unknown timer %d", (int)t);
	if (!nbins)
		return 0;
	if (store_info(rd, &info))
		return -1;
	int64_t bk = info.rollup_ms;
	if (t0 % bk || width_ms % bk || (sel->since_ms != INT64_MIN && sel->since_ms % bk) ||
	    (sel->until_ms != INT64_MAX && sel->until_ms % bk))
		return store_reader_fail(rd,
					 "series timer: the bins and the window must be whole "
					 "buckets of %lld ms",
					 (long long)bk);
	return rd->ops->series_timer(rd, sel, t0, width_ms, nbins, t, fn, arg);
}

int store_counters(struct store_reader *rd, store_counter_fn fn, void *arg)
{
	return rd->ops->counters(rd, fn, arg);
}
