/* The ClickHouse read backend (store/backend.h): the read API over the tables `halog clickhouse
 * init` creates. Lines come from `lines` in pages (RowBinary, decoded by chschema.c's column
 * table); aggregates from the per-minute views. A query (query.h) goes into the WHERE of each
 * read as a predicate that passes at least its lines (chquery.c), and is evaluated here in C on
 * each line sent, so search means the same as on the SQLite store. No snapshots: ClickHouse has no read
 * transactions, so each read sees the table as it is when it runs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "query/query.h"
#include "store/backend.h"
#include "store/chhttp.h"
#include "store/chquery.h"
#include "store/chschema.h"
#include "store/rollup.h"
#include "strbuf.h"

#define EVENT_KINDS_SQL "(5, 6, 7, 8)"

struct chr {
	struct ch_conn *conn;
	char lines[200], traffic[200], lines1m[200], errpaths[200], counters[200], meta[200];
	struct ch_fmt fmt; /* the columns of lines: what a SELECT of lines asks for */
};

static struct chr *chr_of(struct store_reader *rd)
{
	return rd->impl;
}

/* Runs sql; the answer in out. Returns 0 or -1 (rd's message). */
static int q(struct store_reader *rd, const char *sql, struct strbuf *out)
{
	char err[1024];

	if (store_reader_expired(rd))
		return store_reader_fail(rd, "%s: the read ran over its time limit (%lld ms)",
					 ch_conn_url(chr_of(rd)->conn)->text, (long long)rd->limit_ms);
	if (ch_exec(chr_of(rd)->conn, sql, NULL, 0, 0, NULL, out, NULL, err, sizeof(err)) < 0)
		return store_reader_fail(rd, "%s", err);
	return 0;
}

static int ch_open(struct store_reader *rd, const char *where)
{
	struct strbuf url = STRBUF_INIT, out = STRBUF_INIT, sql = STRBUF_INIT;
	struct chr *c = calloc(1, sizeof(*c));
	struct ch_url u;
	char err[1024];
	int ret = -1;

	if (!c)
		return store_reader_fail(rd, "out of memory");
	rd->impl = c;
	strbuf_addstr(&url, CH_SCHEME);
	strbuf_addstr(&url, where);
	if (ch_url_parse(url.buf, &u, err, sizeof(err)) < 0) {
		store_reader_fail(rd, "%s", err);
		goto out;
	}
	if (!(c->conn = ch_conn_new(&u))) {
		store_reader_fail(rd, "out of memory");
		goto out;
	}
	ch_table(&u, "lines", c->lines, sizeof(c->lines));
	ch_table(&u, "traffic_1m", c->traffic, sizeof(c->traffic));
	ch_table(&u, "lines_1m", c->lines1m, sizeof(c->lines1m));
	ch_table(&u, "errpaths_1m", c->errpaths, sizeof(c->errpaths));
	ch_table(&u, "counters", c->counters, sizeof(c->counters));
	snprintf(c->meta, sizeof(c->meta), "%s.halog_meta", u.db);
	strbuf_addf(&sql,
		    "SELECT count() FROM system.tables WHERE database = '%s' AND name = '%s%s'",
		    u.db, "lines", u.cluster[0] ? "_all" : "");
	if (q(rd, sql.buf, &out) < 0)
		goto out;
	if (strtol(out.buf, NULL, 10) != 1) {
		store_reader_fail(rd, "%s: no halog tables there (run 'halog clickhouse init %s')",
				  u.text, u.text);
		goto out;
	}
	strbuf_reset(&out);
	if (ch_read_fmt(c->conn, u.cluster[0] ? "lines_all" : "lines", &c->fmt, &out, err,
			sizeof(err)) < 0) {
		store_reader_fail(rd, "%s", err);
		goto out;
	}
	if (out.len) {
		store_reader_fail(rd,
				  "%s: its lines lack the columns %s of this halog (run 'halog"
				  " clickhouse init %s' to add them)",
				  u.text, out.buf, u.text);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&url);
	strbuf_release(&out);
	strbuf_release(&sql);
	if (ret < 0) { /* store_reader_open frees rd without a close when open fails */
		ch_conn_free(c->conn);
		free(c);
		rd->impl = NULL;
	}
	return ret;
}

static void ch_close(struct store_reader *rd)
{
	struct chr *c = chr_of(rd);

	if (!c)
		return;
	ch_conn_free(c->conn);
	free(c);
	rd->impl = NULL;
}

static int ch_snapshot_begin(struct store_reader *rd)
{
	return 0;
}

static void ch_snapshot_end(struct store_reader *rd)
{
}

/* One integer answer. */
static int one_int(struct store_reader *rd, const char *sql, int64_t *v)
{
	struct strbuf out = STRBUF_INIT;
	int ret = q(rd, sql, &out);

	if (ret == 0)
		*v = strtoll(out.buf, NULL, 10);
	strbuf_release(&out);
	return ret;
}

static int ch_info(struct store_reader *rd, struct store_info *out)
{
	char sql[400];
	int64_t v = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT toInt64OrZero(argMax(value, at)) FROM %s WHERE name = 'schema'",
		 chr_of(rd)->meta);
	if (one_int(rd, sql, &v) < 0)
		return -1;
	out->schema_version = (int)v;
	out->rollup_ms = ROLLUP_BUCKET_MS;
	snprintf(sql, sizeof(sql), "SELECT count() FROM %s", chr_of(rd)->lines);
	return one_int(rd, sql, &out->records_hint);
}

/* The end lags the clock by CH_SETTLE_MS: an insert becomes visible part by part (one part per
 * day partition), and a listener's batch lands up to its batch_ms after its lines arrived, so
 * the last moments are not final yet. A follower (tail -f) shows lines that late, and misses
 * those inserted later still (a spool sent after an outage). */
#define CH_SETTLE_MS 2000

static int ch_end(struct store_reader *rd, struct store_pos *out)
{
	char sql[300];
	int64_t v = 0, settled = clock_wall_ms() - CH_SETTLE_MS;

	snprintf(sql, sizeof(sql), "SELECT max(recv_ms) FROM %s", chr_of(rd)->lines);
	if (one_int(rd, sql, &v) < 0)
		return -1;
	v++;
	if (v > settled)
		v = settled;
	out->v = v << CH_POS_SHIFT;
	return 0;
}

/* ------------------------------------------------------------------------ SQL pieces */

/* A string literal, quoted and escaped for ClickHouse (chquery.c's rule). */
static void add_lit(struct strbuf *sb, const char *s)
{
	chq_lit(sb, s, strlen(s));
}

static void add_kinds(struct strbuf *sb, unsigned kinds)
{
	int n = 0;

	strbuf_addstr(sb, " AND kind IN (");
	for (int k = 0; k < LR_KIND_MAX; k++)
		if (kinds & STORE_KIND(k))
			strbuf_addf(sb, "%s%d", n++ ? ", " : "", k);
	strbuf_addch(sb, ')');
}

/* " AND (a request whose column req is v, or an event whose column ev is v)": a backend or
 * server filter matches the requests it served and the events HAProxy logged about it. */
static void add_req_or_event(struct strbuf *sb, const char *req, const char *ev, const char *v)
{
	strbuf_addf(sb, " AND ((kind IN (1, 2) AND %s = ", req);
	add_lit(sb, v);
	strbuf_addf(sb, ") OR (kind IN " EVENT_KINDS_SQL " AND %s = ", ev);
	add_lit(sb, v);
	strbuf_addstr(sb, "))");
}

/* The WHERE of a read of lines (without the query, which runs in C). */
static void add_where(struct strbuf *sb, const struct store_sel *sel)
{
	const char *t = sel->clock == STORE_LOGGED ? "ts_ms" : "recv_ms";

	strbuf_addstr(sb, " WHERE 1");
	if (sel->since_ms != INT64_MIN)
		strbuf_addf(sb, " AND %s >= %" PRId64, t, sel->since_ms);
	if (sel->until_ms != INT64_MAX)
		strbuf_addf(sb, " AND %s < %" PRId64, t, sel->until_ms);
	if (sel->from.v != INT64_MIN)
		strbuf_addf(sb, " AND recv_ms >= %" PRId64 " AND " CH_POS_SQL " >= %" PRId64,
			    sel->from.v >> CH_POS_SHIFT, sel->from.v);
	if (sel->to.v != INT64_MAX)
		strbuf_addf(sb, " AND recv_ms <= %" PRId64 " AND " CH_POS_SQL " < %" PRId64,
			    sel->to.v >> CH_POS_SHIFT, sel->to.v);
	if (sel->kinds)
		add_kinds(sb, sel->kinds);
	if (sel->frontend) {
		strbuf_addstr(sb, " AND kind IN (1, 2) AND frontend = ");
		add_lit(sb, sel->frontend);
	}
	if (sel->backend)
		add_req_or_event(sb, "backend", "ev_proxy", sel->backend);
	if (sel->server)
		add_req_or_event(sb, "server", "ev_server", sel->server);
	if (sel->source) {
		strbuf_addstr(sb, " AND source = ");
		add_lit(sb, sel->source);
	}
}

/* q as chquery.h's predicate: " PREWHERE (…)" of its terms on small columns into pre, " AND (…)"
 * of the others into where, to put after the FROM and after add_where's WHERE (on a cluster's
 * Distributed table both go to the WHERE). Nothing for a part that filters nothing. Returns 1
 * when the SQL passes exactly q's lines, 0 when more, -1 (rd's message: out of memory). */
static int add_query(struct store_reader *rd, const struct query *q, struct strbuf *pre,
		     struct strbuf *where)
{
	struct strbuf p = STRBUF_INIT, w = STRBUF_INIT;
	int exact = chq_predicate(q, &p, &w);
	int cluster = ch_conn_url(chr_of(rd)->conn)->cluster[0] != '\0';

	if (exact >= 0 && strcmp(p.buf, "1") &&
	    strbuf_addf(cluster ? where : pre, cluster ? " AND (%s)" : " PREWHERE (%s)", p.buf) < 0)
		exact = -1;
	if (exact >= 0 && strcmp(w.buf, "1") && strbuf_addf(where, " AND (%s)", w.buf) < 0)
		exact = -1;
	strbuf_release(&p);
	strbuf_release(&w);
	return exact < 0 ? store_reader_fail(rd, "out of memory") : exact;
}

/* ------------------------------------------------------------------------ cursors */

/* Where a cursor's paging is. Every order pages through windows [win_lo, win_hi) of one
 * column, the column it is ordered by first (recv_ms in receive order, ts_ms or recv_ms by
 * time): each page reads the rows of its window, not every later row. */
enum chpaging {
	CHP_START,  /* no page yet: the first reads the rows' range and sizes the windows */
	CHP_WINDOW, /* reading windows */
	CHP_DONE,   /* the last page was fetched */
};

struct chcur {
	struct store_reader *rd;
	struct store_sel sel;
	int desc;	     /* pages newest first (NEWEST, TAIL) */
	enum chpaging paging;
	const char *wcol;    /* the column of the windows and of the order's first key */
	int64_t delivered;   /* lines given (limit) */
	struct strbuf qpre, qwhere; /* the query's PREWHERE and " AND (…)" (add_query) */
	int qexact;	      /* qwhere passes exactly the query's lines */
	struct strbuf page;  /* the current page, RowBinary */
	const char *p, *end; /* the next row in page */
	const char *row;     /* where the last row read begins */
	int64_t rows;	     /* rows of the page read so far */
	int64_t page_want;   /* rows the page was asked for */
	/* the window of wcol the next page reads: in receive order the primary key narrows to
	 * it (a page of 20M rows read them all); by logged time, ts_ms is no key (the table is
	 * ordered by receive time), but the read is bounded all the same: wcol is the one column
	 * read whole (the other conditions and columns are read for the window's rows only), and
	 * the day partitions outside the window are skipped */
	int64_t win_lo, win_hi, win_span, win_min, win_max;
	/* the key of the last row read, for the next page: (last_t, last_recv, seq, batch) by
	 * time, (last_recv, seq, batch) in receive order; last_t is wcol's value either way */
	int have_last;
	int64_t last_t, last_recv;
	uint32_t last_seq;
	uint64_t last_batch;
	struct store_line line;
	char reason[256];
	/* STORE_TAIL: the matches, newest first, delivered from the end */
	struct tailrow {
		struct strbuf bytes; /* the row's RowBinary */
	} *tail;
	size_t ntail, itail;
	int truncated;
	struct strbuf tailbuf; /* the current tail row */
};

/* Rows a page asks for (the URL's page=). */
static int64_t page_rows(const struct chcur *c)
{
	return (int64_t)ch_conn_url(chr_of(c->rd)->conn)->page;
}

/* Rows the next page asks for: a page, or, without a query (or with one the SQL tells exactly),
 * no more than a limit leaves (STORE_TAIL keeps limit + 1 rows: the last says there are more). */
static int64_t rows_wanted(const struct chcur *c)
{
	int64_t want = page_rows(c), left;

	if (!c->sel.limit || (c->sel.query && !c->qexact))
		return want;
	left = c->sel.order == STORE_TAIL ? c->sel.limit + 1 - (int64_t)c->ntail
					  : c->sel.limit - c->delivered;
	return left < want ? left : want;
}

/* The first window: the matching rows' range of wcol, cut into spans of about a page each.
 * None match: done. Returns 0 or -1. */
static int window_init(struct chcur *c)
{
	struct strbuf sql = STRBUF_INIT, ans = STRBUF_INIT;
	int64_t n = 0, want;
	int ret;

	c->paging = CHP_WINDOW;
	strbuf_addf(&sql, "SELECT min(%s), max(%s), count() FROM %s%s", c->wcol, c->wcol,
		    chr_of(c->rd)->lines, c->qpre.buf);
	add_where(&sql, &c->sel);
	strbuf_add(&sql, c->qwhere.buf, c->qwhere.len);
	strbuf_addstr(&sql, " FORMAT TabSeparated");
	ret = q(c->rd, sql.buf, &ans);
	if (ret == 0) {
		char *e = ans.buf;

		c->win_min = strtoll(e, &e, 10);
		c->win_max = strtoll(e, &e, 10);
		n = strtoll(e, &e, 10);
		if (*e != '\n')
			ret = store_reader_fail(c->rd, "%s: unexpected answer '%.40s'",
						chr_of(c->rd)->lines, ans.buf);
	}
	strbuf_release(&sql);
	strbuf_release(&ans);
	if (ret < 0)
		return -1;
	if (n <= 0 || c->win_max < c->win_min) {
		c->paging = CHP_DONE;
		return 0;
	}
	/* spans of about 3/4 of a page of rows where the rows are even, so that few windows
	 * hold more than a page (each of those costs a read more); the double keeps the product
	 * of a range in ms and a page in rows from overflowing. Under a limit smaller than a
	 * page, 1.5 times the rows it wants: a wider window reads more rows of the table for
	 * each page (ClickHouse reads a window whole before its ORDER BY … LIMIT), and a full
	 * one ends the read */
	want = rows_wanted(c);
	c->win_span = (int64_t)((double)(c->win_max - c->win_min + 1) *
				(want < page_rows(c) ? 1.5 : 0.75) * (double)want / (double)n);
	if (c->win_span < 1)
		c->win_span = 1;
	if (c->desc) {
		c->win_hi = c->win_max + 1;
		c->win_lo = c->win_hi - c->win_span;
	} else {
		c->win_lo = c->win_min;
		c->win_hi = c->win_lo + c->win_span;
	}
	return 0;
}

/* The page just read was the last of its window: the next window, or done after the last.
 * A window that held few rows makes the next one wider. */
static void window_next(struct chcur *c)
{
	if (c->rows < c->page_want / 4 && c->win_span <= (c->win_max - c->win_min) / 2)
		c->win_span *= 2;
	if (c->desc) {
		if (c->win_lo <= c->win_min) {
			c->paging = CHP_DONE;
			return;
		}
		c->win_hi = c->win_lo;
		c->win_lo = c->win_hi - c->win_span;
	} else {
		if (c->win_hi > c->win_max) {
			c->paging = CHP_DONE;
			return;
		}
		c->win_lo = c->win_hi;
		c->win_hi = c->win_lo + c->win_span;
	}
}

static int fetch_page(struct chcur *c)
{
	struct chr *r = chr_of(c->rd);
	struct strbuf sql = STRBUF_INIT;
	const char *dir = c->desc ? " DESC" : "";
	const char *cmp = c->desc ? "<" : ">";
	int by_time = c->sel.order == STORE_BY_TIME;
	const char *t = c->wcol;
	int64_t want = rows_wanted(c);
	int ret;

	if (c->paging == CHP_START) {
		if (window_init(c) < 0)
			return -1;
		if (c->paging == CHP_DONE) {
			strbuf_reset(&c->page);
			c->p = c->end = c->page.buf;
			return 0;
		}
	}
	strbuf_addf(&sql, "SELECT %s FROM %s%s", r->fmt.cols, r->lines, c->qpre.buf);
	add_where(&sql, &c->sel);
	strbuf_add(&sql, c->qwhere.buf, c->qwhere.len);
	strbuf_addf(&sql, " AND %s >= %" PRId64 " AND %s < %" PRId64, t, c->win_lo, t, c->win_hi);
	if (!strcmp(t, "ts_ms") && !ch_conn_url(r->conn)->cluster[0])
		/* the partitions (days of ts_ms) the window touches, within the rows' range (a
		 * window may reach past what a DateTime holds); a Distributed table has no `day`
		 * column (chschema.c) */
		strbuf_addf(&sql,
			    " AND day >= toDate(toDateTime(intDiv(%" PRId64 ", 1000)))"
			    " AND day <= toDate(toDateTime(intDiv(%" PRId64 ", 1000)))",
			    c->win_lo > c->win_min ? c->win_lo : c->win_min,
			    c->win_hi - 1 < c->win_max ? c->win_hi - 1 : c->win_max);
	if (c->have_last) {
		if (by_time)
			strbuf_addf(&sql,
				    " AND (%s, recv_ms, seq, batch) %s (%" PRId64 ", %" PRId64
				    ", %" PRIu32 ", %" PRIu64 ")",
				    t, cmp, c->last_t, c->last_recv, c->last_seq, c->last_batch);
		else
			strbuf_addf(&sql,
				    " AND (recv_ms, seq, batch) %s (%" PRId64 ", %" PRIu32 ", %" PRIu64
				    ")",
				    cmp, c->last_recv, c->last_seq, c->last_batch);
	}
	if (by_time)
		strbuf_addf(&sql, " ORDER BY %s%s, recv_ms%s, seq%s, batch%s", t, dir, dir, dir, dir);
	else
		strbuf_addf(&sql, " ORDER BY recv_ms%s, seq%s, batch%s", dir, dir, dir);
	strbuf_addf(&sql, " LIMIT %" PRId64 " FORMAT RowBinary", want);
	strbuf_reset(&c->page);
	ret = q(c->rd, sql.buf, &c->page);
	strbuf_release(&sql);
	if (ret < 0)
		return -1;
	c->p = c->page.buf;
	c->end = c->page.buf + c->page.len;
	c->rows = 0;
	c->page_want = want;
	return 0;
}

/* The page just read was full: the window holds more rows than a page, and the next page
 * would read all that remains of it again. The window ends sooner (rows are often bunched:
 * a batch's rows share a few milliseconds), at least one millisecond past the last row read,
 * so that the rows of its millisecond that follow it are in; the next window begins there. */
static void window_narrow(struct chcur *c)
{
	if (c->win_span > 1)
		c->win_span /= 2;
	if (c->desc) {
		int64_t lo = c->last_t + 1 - c->win_span;

		if (lo > c->win_lo)
			c->win_lo = lo;
	} else {
		int64_t hi = c->last_t + c->win_span;

		if (hi < c->win_hi)
			c->win_hi = hi;
	}
}

/* The next line of the SQL order that passes the query: 1, 0 at the end, -1. c->row is where
 * its bytes begin in c->page. */
static int next_row(struct chcur *c, const struct store_line **line)
{
	for (;;) {
		struct chrow_id id;

		if (c->p == c->end) {
			if (c->paging == CHP_DONE)
				return 0;
			if (fetch_page(c) < 0)
				return -1;
			if (c->p == c->end) {
				if (c->paging == CHP_WINDOW)
					window_next(c); /* an empty window */
				if (c->paging == CHP_DONE)
					return 0;
				continue;
			}
		}
		c->row = c->p;
		if (chrow_decode(&c->p, c->end, &chr_of(c->rd)->fmt, &c->line, &id, c->reason,
				 sizeof(c->reason)) < 0)
			return store_reader_fail(c->rd, "%s: a row of the answer is cut short",
						 chr_of(c->rd)->lines);
		c->rows++;
		c->have_last = 1;
		c->last_t = strcmp(c->wcol, "ts_ms") ? c->line.recv_ms : c->line.ts_ms;
		c->last_recv = c->line.recv_ms;
		c->last_seq = id.seq;
		c->last_batch = id.batch;
		/* a page shorter than asked for is the last (of its window) */
		if (c->p == c->end && c->rows < c->page_want)
			window_next(c);
		else if (c->p == c->end)
			window_narrow(c);
		if (c->sel.query && !query_match(c->sel.query, c->line.raw.p, c->line.raw.len,
						 c->line.source, &c->line.rec))
			continue;
		*line = &c->line;
		return 1;
	}
}

static void ch_cursor_close(void *cur);

static void *ch_cursor_open(struct store_reader *rd, const struct store_sel *sel)
{
	struct chcur *c = calloc(1, sizeof(*c));

	if (!c) {
		store_reader_fail(rd, "out of memory");
		return NULL;
	}
	c->rd = rd;
	c->sel = *sel;
	c->desc = sel->order == STORE_NEWEST || sel->order == STORE_TAIL;
	c->wcol = sel->order == STORE_BY_TIME && sel->clock == STORE_LOGGED ? "ts_ms" : "recv_ms";
	strbuf_init(&c->page);
	strbuf_init(&c->tailbuf);
	strbuf_init(&c->qpre);
	strbuf_init(&c->qwhere);
	if (sel->query && (c->qexact = add_query(rd, sel->query, &c->qpre, &c->qwhere)) < 0) {
		ch_cursor_close(c);
		return NULL;
	}
	if (sel->order == STORE_TAIL) {
		/* the newest limit + 1 matches (the extra one says there were more), kept as
		 * rows and given back oldest first */
		const struct store_line *ln;
		int rc;

		for (;;) {
			struct tailrow *nt;

			if ((rc = next_row(c, &ln)) <= 0)
				break;
			if (sel->limit && (int64_t)c->ntail == sel->limit) {
				c->truncated = 1;
				break;
			}
			nt = realloc(c->tail, (c->ntail + 1) * sizeof(*c->tail));
			if (!nt) {
				rc = store_reader_fail(rd, "out of memory");
				break;
			}
			c->tail = nt;
			strbuf_init(&c->tail[c->ntail].bytes);
			if (strbuf_add(&c->tail[c->ntail++].bytes, c->row, (size_t)(c->p - c->row)) <
			    0) {
				rc = store_reader_fail(rd, "out of memory");
				break;
			}
		}
		if (rc < 0) {
			ch_cursor_close(c);
			return NULL;
		}
		c->itail = c->ntail;
	}
	return c;
}

static int ch_cursor_next(struct store_reader *rd, void *cur, const struct store_line **line)
{
	struct chcur *c = cur;

	if (c->sel.order == STORE_TAIL) {
		struct chrow_id id;
		const char *p, *end;

		if (!c->itail)
			return 0;
		c->itail--;
		strbuf_reset(&c->tailbuf);
		strbuf_add(&c->tailbuf, c->tail[c->itail].bytes.buf, c->tail[c->itail].bytes.len);
		p = c->tailbuf.buf;
		end = p + c->tailbuf.len;
		if (chrow_decode(&p, end, &chr_of(rd)->fmt, &c->line, &id, c->reason,
				 sizeof(c->reason)) < 0)
			return store_reader_fail(rd, "a kept row is cut short");
		*line = &c->line;
		return 1;
	}
	if (c->sel.limit && c->delivered >= c->sel.limit)
		return 0;
	int rc = next_row(c, line);

	if (rc > 0)
		c->delivered++;
	return rc;
}

static int ch_cursor_truncated(const void *cur)
{
	const struct chcur *c = cur;

	return c->truncated;
}

static void ch_cursor_close(void *cur)
{
	struct chcur *c = cur;

	if (!c)
		return;
	for (size_t i = 0; i < c->ntail; i++)
		strbuf_release(&c->tail[i].bytes);
	free(c->tail);
	strbuf_release(&c->page);
	strbuf_release(&c->tailbuf);
	strbuf_release(&c->qpre);
	strbuf_release(&c->qwhere);
	free(c);
}

static int ch_count(struct store_reader *rd, const struct store_sel *sel, int64_t *n)
{
	struct strbuf sql = STRBUF_INIT, qp = STRBUF_INIT, qw = STRBUF_INIT;
	int ret;

	if (sel->query && (ret = add_query(rd, sel->query, &qp, &qw)) <= 0) {
		/* the SQL passes more lines than the query: count the cursor's */
		struct store_sel s = *sel;
		const struct store_line *ln;
		void *c;

		s.order = STORE_OLDEST;
		s.limit = 0;
		strbuf_release(&qp);
		strbuf_release(&qw);
		if (ret < 0 || !(c = ch_cursor_open(rd, &s)))
			return -1;
		while ((ret = ch_cursor_next(rd, c, &ln)) > 0)
			++*n;
		ch_cursor_close(c);
		return ret < 0 ? -1 : 0;
	}
	strbuf_addf(&sql, "SELECT count() FROM %s%s", chr_of(rd)->lines, qp.buf);
	add_where(&sql, sel);
	strbuf_add(&sql, qw.buf, qw.len);
	ret = one_int(rd, sql.buf, n);
	strbuf_release(&sql);
	strbuf_release(&qp);
	strbuf_release(&qw);
	return ret;
}

static int64_t bin_of(int64_t t, int64_t t0, int64_t w, size_t n)
{
	int64_t d;

	if (__builtin_sub_overflow(t, t0, &d) || d < 0)
		return -1;
	d /= w;
	return d < (int64_t)n ? d : -1;
}

static int ch_histogram(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			int64_t width_ms, size_t nbins, int64_t *counts)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT, qp = STRBUF_INIT, qw = STRBUF_INIT;
	const char *t = sel->clock == STORE_LOGGED ? "ts_ms" : "recv_ms";
	int ret;

	if (sel->query && (ret = add_query(rd, sel->query, &qp, &qw)) <= 0) {
		/* the SQL passes more lines than the query: bin the cursor's */
		struct store_sel s = *sel;
		const struct store_line *ln;
		void *c;

		s.order = STORE_OLDEST;
		s.limit = 0;
		strbuf_release(&qp);
		strbuf_release(&qw);
		if (ret < 0 || !(c = ch_cursor_open(rd, &s)))
			return -1;
		while ((ret = ch_cursor_next(rd, c, &ln)) > 0) {
			int64_t b = bin_of(sel->clock == STORE_LOGGED ? ln->ts_ms : ln->recv_ms, t0,
					   width_ms, nbins);

			if (b >= 0)
				counts[b]++;
		}
		ch_cursor_close(c);
		return ret < 0 ? -1 : 0;
	}
	strbuf_addf(&sql, "SELECT intDiv(%s - %" PRId64 ", %" PRId64 ") AS b, count() FROM %s%s",
		    t, t0, width_ms, chr_of(rd)->lines, qp.buf);
	add_where(&sql, sel);
	strbuf_add(&sql, qw.buf, qw.len);
	strbuf_addf(&sql, " AND %s >= %" PRId64 " GROUP BY b FORMAT TabSeparated", t, t0);
	ret = q(rd, sql.buf, &out);
	for (char *p = out.buf; ret == 0 && *p;) {
		char *e;
		long long b = strtoll(p, &e, 10), n = strtoll(e, &e, 10);

		if (b >= 0 && (size_t)b < nbins)
			counts[b] += n;
		p = strchr(e, '\n');
		if (!p)
			break;
		p++;
	}
	strbuf_release(&sql);
	strbuf_release(&out);
	strbuf_release(&qp);
	strbuf_release(&qw);
	return ret;
}

/* ------------------------------------------------------------------------ aggregates */

/* The WHERE of a read of a per-minute view. */
static void add_agg_where(struct strbuf *sb, const struct store_sel *sel)
{
	strbuf_addstr(sb, " WHERE 1");
	if (sel->since_ms != INT64_MIN)
		strbuf_addf(sb, " AND toInt64(toUInt32(minute)) * 1000 >= %" PRId64, sel->since_ms);
	if (sel->until_ms != INT64_MAX)
		strbuf_addf(sb, " AND toInt64(toUInt32(minute)) * 1000 < %" PRId64, sel->until_ms);
	if (sel->kinds)
		add_kinds(sb, sel->kinds);
	if (sel->frontend) {
		strbuf_addstr(sb, " AND frontend = ");
		add_lit(sb, sel->frontend);
	}
	if (sel->backend) {
		strbuf_addstr(sb, " AND backend = ");
		add_lit(sb, sel->backend);
	}
	if (sel->server) {
		strbuf_addstr(sb, " AND server = ");
		add_lit(sb, sel->server);
	}
}

/* A TabSeparated field in place: unescapes it, NUL-terminates it, returns the next field. */
static char *tsv_field(char *p, char **val)
{
	char *o = p;

	*val = p;
	for (; *p && *p != '\t' && *p != '\n'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			switch (*p) {
			case 't':
				*o++ = '\t';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case '0':
				*o++ = '\0';
				break;
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			default:
				*o++ = *p;
				break;
			}
		} else {
			*o++ = *p;
		}
	}
	{
		char *next = *p ? p + 1 : p;

		*o = '\0';
		return next;
	}
}

/* "[1,2,3]" into at most n int64 values. Returns how many. */
static size_t int_array(const char *s, int64_t *v, size_t n)
{
	size_t k = 0;

	if (*s == '[')
		s++;
	while (*s && *s != ']' && k < n) {
		char *e;

		v[k++] = strtoll(s, &e, 10);
		s = *e == ',' ? e + 1 : e;
		if (e == s && *s != ',')
			break;
	}
	return k;
}

#define AGG_SCALARS 14 /* requests, 6 classes, errors, retries, redispatches, bytes x2, logasap */
static const char *const agg_timer_names[RT_N] = {"tr", "tw", "tc", "trs", "ta"};

/* The five columns of timer t in a read of the traffic view: n, sum, max, histogram keys and
 * counts (what timer_fields reads back). */
static void add_timer_cols(struct strbuf *sql, enum rollup_timer t)
{
	strbuf_addf(sql,
		    ", sumMerge(tn_%1$s), sumMerge(tsum_%1$s), maxMerge(tmax_%1$s),"
		    " tupleElement(sumMapMerge(th_%1$s), 1), tupleElement(sumMapMerge(th_%1$s), 2)",
		    agg_timer_names[t]);
}

/* Reads the add_timer_cols fields at p into timer t of a (hist allocated when n > 0), with
 * keys and vals as room for HIST_N values each. Returns the next field, or NULL: no memory. */
static char *timer_fields(char *p, enum rollup_timer t, struct rollup_agg *a, int64_t *keys,
			  int64_t *vals)
{
	char *f;
	size_t nk, nv;

	p = tsv_field(p, &f);
	a->tn[t] = strtoll(f, NULL, 10);
	p = tsv_field(p, &f);
	a->tsum[t] = strtoll(f, NULL, 10);
	p = tsv_field(p, &f);
	a->tmax[t] = a->tn[t] ? strtoll(f, NULL, 10) : 0;
	p = tsv_field(p, &f);
	nk = int_array(f, keys, HIST_N);
	p = tsv_field(p, &f);
	nv = int_array(f, vals, HIST_N);
	if (!a->tn[t])
		return p;
	if (!(a->hist[t] = calloc(HIST_N, sizeof(uint64_t))))
		return NULL;
	for (size_t i = 0; i < nk && i < nv; i++)
		if (keys[i] >= 0 && keys[i] < HIST_N)
			a->hist[t][keys[i]] += (uint64_t)vals[i];
	return p;
}

static int ch_aggregate(struct store_reader *rd, const struct store_sel *sel, store_agg_fn fn,
			void *arg)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	int64_t *keys = malloc(sizeof(int64_t) * HIST_N), *vals = malloc(sizeof(int64_t) * HIST_N);
	int ret = -1;

	if (!keys || !vals) {
		store_reader_fail(rd, "out of memory");
		goto out;
	}
	strbuf_addstr(&sql,
		      "SELECT frontend, backend, server, kind, sumMerge(n_requests), sumMerge(n_1xx),"
		      " sumMerge(n_2xx), sumMerge(n_3xx), sumMerge(n_4xx), sumMerge(n_5xx),"
		      " sumMerge(n_other), sumMerge(n_errors), sumMerge(n_retries),"
		      " sumMerge(n_redispatches), sumMerge(n_bytes_read), sumMerge(n_bytes_up),"
		      " sumMerge(n_logasap), tupleElement(sumMapMerge(codes), 1),"
		      " tupleElement(sumMapMerge(codes), 2), tupleElement(sumMapMerge(terms), 1),"
		      " tupleElement(sumMapMerge(terms), 2)");
	for (int t = 0; t < RT_N; t++)
		add_timer_cols(&sql, (enum rollup_timer)t);
	strbuf_addf(&sql, " FROM %s", chr_of(rd)->traffic);
	add_agg_where(&sql, sel);
	strbuf_addstr(&sql, " GROUP BY frontend, backend, server, kind"
			    " ORDER BY frontend, backend, server, kind FORMAT TabSeparated");
	if (q(rd, sql.buf, &out) < 0)
		goto out;
	ret = 0;
	for (char *p = out.buf; *p && ret == 0;) {
		struct rollup_agg a;
		char *fe, *be, *srv, *f;
		int64_t *sc[AGG_SCALARS];
		size_t nk, nv;

		memset(&a, 0, sizeof(a));
		p = tsv_field(p, &fe);
		p = tsv_field(p, &be);
		p = tsv_field(p, &srv);
		p = tsv_field(p, &f);
		a.key.kind = (int32_t)strtol(f, NULL, 10);
		sc[0] = &a.requests;
		for (int k = 0; k < RC_N; k++)
			sc[1 + k] = &a.cls[k];
		sc[7] = &a.errors;
		sc[8] = &a.retries;
		sc[9] = &a.redispatches;
		sc[10] = &a.bytes_read;
		sc[11] = &a.bytes_up;
		sc[12] = &a.logasap;
		for (int k = 0; k < 13; k++) {
			p = tsv_field(p, &f);
			*sc[k] = strtoll(f, NULL, 10);
		}
		for (int m = 0; m < 2 && ret == 0; m++) { /* codes, then terms */
			p = tsv_field(p, &f);
			nk = int_array(f, keys, HIST_N);
			p = tsv_field(p, &f);
			nv = int_array(f, vals, HIST_N);
			for (size_t i = 0; i < nk && i < nv; i++)
				if ((m == 0 ? rollup_pair_add(&a.codes, &a.ncodes, &a.acodes, keys[i],
							      vals[i])
					    : rollup_pair_add(&a.terms, &a.nterms, &a.aterms, keys[i],
							      vals[i])) < 0)
					ret = store_reader_fail(rd, "out of memory");
		}
		for (int t = 0; t < RT_N && ret == 0; t++)
			if (!(p = timer_fields(p, (enum rollup_timer)t, &a, keys, vals)))
				ret = store_reader_fail(rd, "out of memory");
		if (ret == 0) {
			int r = fn(arg, *fe ? fe : NULL, *be ? be : NULL, *srv ? srv : NULL, &a);

			if (r)
				ret = r;
		}
		rollup_agg_release(&a);
	}
out:
	free(keys);
	free(vals);
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}

static int ch_line_stats(struct store_reader *rd, const struct store_sel *sel,
			 struct store_line_stats *out)
{
	struct strbuf sql = STRBUF_INIT, ans = STRBUF_INIT;
	int ret;

	strbuf_addf(&sql,
		    "SELECT kind, status, sumMerge(n), sumMerge(n_truncated), minMerge(first_ms),"
		    " maxMerge(last_ms) FROM %s",
		    chr_of(rd)->lines1m);
	add_agg_where(&sql, sel);
	strbuf_addstr(&sql, " GROUP BY kind, status FORMAT TabSeparated");
	ret = q(rd, sql.buf, &ans);
	for (char *p = ans.buf; ret == 0 && *p;) {
		char *f[6];

		for (int k = 0; k < 6; k++)
			p = tsv_field(p, &f[k]);
		int kind = (int)strtol(f[0], NULL, 10), status = (int)strtol(f[1], NULL, 10);
		int64_t n = strtoll(f[2], NULL, 10), lo = strtoll(f[4], NULL, 10),
			hi = strtoll(f[5], NULL, 10);

		out->total += n;
		if (kind >= 0 && kind < LR_KIND_MAX)
			out->by_kind[kind] += n;
		if (status >= 0 && status <= LR_BAD)
			out->by_status[status] += n;
		out->truncated += strtoll(f[3], NULL, 10);
		if (out->first_ms == LR_NONE || lo < out->first_ms)
			out->first_ms = lo;
		if (out->last_ms == LR_NONE || hi > out->last_ms)
			out->last_ms = hi;
	}
	strbuf_release(&sql);
	strbuf_release(&ans);
	return ret;
}

static int ch_error_paths(struct store_reader *rd, const struct store_sel *sel, size_t top,
			  store_errpath_fn fn, void *arg)
{
	struct strbuf sql = STRBUF_INIT, ans = STRBUF_INIT;
	int ret;

	if (sel->kinds == STORE_KIND(LR_TCP))
		return 0;
	/* most frequent first, then lower status, then path bytes; `top` per backend */
	strbuf_addf(&sql,
		    "SELECT backend, if(status_code < 0, -1, status_code) AS st, epath, sumMerge(n) AS"
		    " c FROM %s",
		    chr_of(rd)->errpaths);
	add_agg_where(&sql, sel);
	strbuf_addf(&sql,
		    " GROUP BY backend, st, epath ORDER BY backend, c DESC, st, epath LIMIT %zu BY"
		    " backend FORMAT TabSeparated",
		    top);
	ret = q(rd, sql.buf, &ans);
	for (char *p = ans.buf; ret == 0 && *p;) {
		char *be, *st, *path, *n;

		p = tsv_field(p, &be);
		p = tsv_field(p, &st);
		p = tsv_field(p, &path);
		p = tsv_field(p, &n);
		/* a path may hold a NUL (\0 in TSV): its length is up to the next field */
		ret = fn(arg, *be ? be : NULL, strtoll(st, NULL, 10), path,
			 (size_t)(n - 1 - path > 0 ? strnlen(path, (size_t)(n - 1 - path)) : 0),
			 strtoll(n, NULL, 10));
	}
	strbuf_release(&sql);
	strbuf_release(&ans);
	return ret;
}

static int whole(int64_t v, int64_t b)
{
	return v % b == 0;
}

static int ch_series(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		     int64_t width_ms, size_t nbins, struct store_bin *bins)
{
	struct strbuf sql = STRBUF_INIT, ans = STRBUF_INIT;
	const int64_t bk = ROLLUP_BUCKET_MS;
	int ret;

	if (whole(t0, bk) && whole(width_ms, bk) &&
	    (sel->since_ms == INT64_MIN || whole(sel->since_ms, bk)) &&
	    (sel->until_ms == INT64_MAX || whole(sel->until_ms, bk))) {
		strbuf_addf(&sql,
			    "SELECT intDiv(toInt64(toUInt32(minute)) * 1000 - %" PRId64 ", %" PRId64
			    ") AS b, sumMerge(n_1xx), sumMerge(n_2xx), sumMerge(n_3xx),"
			    " sumMerge(n_4xx), sumMerge(n_5xx), sumMerge(n_other), sumMerge(n_errors),"
			    " sumMerge(n_requests) FROM %s",
			    t0, width_ms, chr_of(rd)->traffic);
		add_agg_where(&sql, sel);
		strbuf_addf(&sql, " AND toInt64(toUInt32(minute)) * 1000 >= %" PRId64, t0);
	} else { /* exactly, from the lines */
		struct store_sel s = *sel;

		s.clock = STORE_LOGGED;
		if (!s.kinds)
			s.kinds = STORE_KINDS_TRAFFIC;
		strbuf_addf(&sql,
			    "SELECT intDiv(ts_ms - %" PRId64 ", %" PRId64
			    ") AS b, countIf(cls = 0), countIf(cls = 1), countIf(cls = 2),"
			    " countIf(cls = 3), countIf(cls = 4), countIf(cls = 5), sum(is_error),"
			    " count() FROM %s",
			    t0, width_ms, chr_of(rd)->lines);
		add_where(&sql, &s);
		strbuf_addf(&sql, " AND ts_ms >= %" PRId64, t0);
	}
	strbuf_addstr(&sql, " GROUP BY b FORMAT TabSeparated");
	ret = q(rd, sql.buf, &ans);
	for (char *p = ans.buf; ret == 0 && *p;) {
		char *f[9];

		for (int k = 0; k < 9; k++)
			p = tsv_field(p, &f[k]);
		long long b = strtoll(f[0], NULL, 10);

		if (b < 0 || (size_t)b >= nbins)
			continue;
		for (int k = 0; k < RC_N; k++)
			bins[b].cls[k] += strtoll(f[1 + k], NULL, 10);
		bins[b].errors += strtoll(f[7], NULL, 10);
		bins[b].requests += strtoll(f[8], NULL, 10);
	}
	strbuf_release(&sql);
	strbuf_release(&ans);
	return ret;
}

/* One read for every bin: the view's timer states merged per bin on the server. */
static int ch_series_timer(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			   int64_t width_ms, size_t nbins, enum rollup_timer t,
			   store_bin_timer_fn fn, void *arg)
{
	struct strbuf sql = STRBUF_INIT, ans = STRBUF_INIT;
	int64_t *keys = malloc(sizeof(int64_t) * HIST_N), *vals = malloc(sizeof(int64_t) * HIST_N);
	int ret = -1;

	if (!keys || !vals) {
		store_reader_fail(rd, "out of memory");
		goto out;
	}
	strbuf_addf(&sql,
		    "SELECT intDiv(toInt64(toUInt32(minute)) * 1000 - %" PRId64 ", %" PRId64 ") AS b",
		    t0, width_ms);
	add_timer_cols(&sql, t);
	strbuf_addf(&sql, " FROM %s", chr_of(rd)->traffic);
	add_agg_where(&sql, sel);
	strbuf_addf(&sql,
		    " AND toInt64(toUInt32(minute)) * 1000 >= %" PRId64
		    " GROUP BY b ORDER BY b FORMAT TabSeparated",
		    t0);
	if (q(rd, sql.buf, &ans) < 0)
		goto out;
	ret = 0;
	for (char *p = ans.buf; ret == 0 && p && *p;) {
		struct rollup_agg a;
		char *f;

		memset(&a, 0, sizeof(a));
		p = tsv_field(p, &f);
		long long b = strtoll(f, NULL, 10);

		if (!(p = timer_fields(p, t, &a, keys, vals)))
			ret = store_reader_fail(rd, "out of memory");
		else if (b >= 0 && (size_t)b < nbins && a.hist[t])
			ret = fn(arg, (size_t)b, &a);
		rollup_agg_release(&a);
	}
out:
	free(keys);
	free(vals);
	strbuf_release(&sql);
	strbuf_release(&ans);
	return ret;
}

static int ch_counters(struct store_reader *rd, store_counter_fn fn, void *arg)
{
	struct strbuf sql = STRBUF_INIT, ans = STRBUF_INIT;
	int ret;

	/* each run's latest values, added up */
	strbuf_addf(&sql,
		    "SELECT name, sum(v) FROM (SELECT name, listener, argMax(value, ver) AS v FROM %s"
		    " GROUP BY name, listener) GROUP BY name ORDER BY name FORMAT TabSeparated",
		    chr_of(rd)->counters);
	ret = q(rd, sql.buf, &ans);
	for (char *p = ans.buf; ret == 0 && *p;) {
		char *name, *v;

		p = tsv_field(p, &name);
		p = tsv_field(p, &v);
		ret = fn(arg, name, strtoll(v, NULL, 10));
	}
	strbuf_release(&sql);
	strbuf_release(&ans);
	return ret;
}

const struct store_ops store_clickhouse_ops = {
	.name = "clickhouse",
	.open = ch_open,
	.close = ch_close,
	.snapshot_begin = ch_snapshot_begin,
	.snapshot_end = ch_snapshot_end,
	.info = ch_info,
	.end = ch_end,
	.cursor_open = ch_cursor_open,
	.cursor_next = ch_cursor_next,
	.cursor_truncated = ch_cursor_truncated,
	.cursor_close = ch_cursor_close,
	.count = ch_count,
	.histogram = ch_histogram,
	.aggregate = ch_aggregate,
	.line_stats = ch_line_stats,
	.error_paths = ch_error_paths,
	.series = ch_series,
	.series_timer = ch_series_timer,
	.counters = ch_counters,
};
