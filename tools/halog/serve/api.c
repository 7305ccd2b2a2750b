/* halog serve's read API over lines: /api/meta, /api/query (is this query valid, and where is it
 * not), /api/search (newest first, with a cursor), /api/hits (the hit graph), /api/context (the
 * lines around one line from the same source). JSON shapes: docs/halog-serve.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "diag.h"
#include "json.h"
#include "query/query.h"
#include "report/linejson.h"
#include "serve/scache.h"
#include "serve/sdata.h"
#include "serve/server.h"
#include "store/chhttp.h"

#ifndef HAGEN_VERSION
#define HAGEN_VERSION "0"
#endif

#define API_BODY_MAX (8u << 20) /* bytes of lines in one response; beyond, "more" is set */
#define API_WAIT_MS 2000	/* how long a request waits for a free connection */
#define API_HITS_BINS 60	/* default bars of the hit graph */
#define API_HITS_BUDGET 1500	/* ms the hit graph counts for before it stops (partial) */
#define API_CONTEXT_MAX 100	/* lines on each side of /api/context */

int api_query_errors(struct sresp *o, const struct diag_list *dl, const char *text,
		     unsigned status)
{
	struct strbuf *sb = &o->body;
	int rc = 0;

	strbuf_reset(sb);
	o->status = 400;
	if (!dl->n)
		return sresp_error(o, 400, "the query does not parse");
	rc |= strbuf_addstr(sb, "{\"ok\":false,\"error\":");
	{
		struct strbuf first = STRBUF_INIT;

		rc |= strbuf_addf(&first, "query:1:%u: %s", dl->items[0].col, dl->items[0].msg);
		rc |= json_add_str(sb, first.buf, first.len);
		strbuf_release(&first);
	}
	rc |= strbuf_addstr(sb, ",\"q\":");
	rc |= json_add_str(sb, text, strlen(text));
	rc |= strbuf_addstr(sb, ",\"errors\":[");
	for (size_t i = 0; i < dl->n; i++) {
		rc |= strbuf_addf(sb, "%s{\"col\":%u,\"message\":", i ? "," : "",
				  dl->items[i].col);
		rc |= json_add_str(sb, dl->items[i].msg, strlen(dl->items[i].msg));
		rc |= strbuf_addch(sb, '}');
	}
	rc |= strbuf_addstr(sb, "]}\n");
	sresp_json(o, rc);
	o->status = rc < 0 ? 500 : status;
	return 0;
}

/* Parses the q parameter into *q (NULL for an empty query). Returns 0, or -1 with the errors
 * in o under status (400, or 200 for /api/query, whose answer is the verdict). */
static int parse_q(const struct sreq *r, struct sresp *o, struct query **q, const char **text,
		   unsigned status)
{
	struct diag_list dl = DIAG_LIST_INIT;

	*text = sreq_arg(r, "q");
	if (!*text)
		*text = "";
	*q = NULL;
	if (!**text)
		return 0;
	dl.max = 20;
	*q = query_parse(*text, strlen(*text), &dl);
	if (!*q) {
		api_query_errors(o, &dl, *text, status);
		diag_release(&dl);
		return -1;
	}
	diag_release(&dl);
	return 0;
}

/* A reader from the pool, or a 503/500 in o. */
static struct store_reader *conn_get(struct sreq *r, struct sresp *o)
{
	char err[256];
	int busy;
	struct store_reader *rd = sdata_get(r->srv->pool, API_WAIT_MS, &busy, err, sizeof(err));

	if (!rd)
		sresp_error(o, busy ? 503 : 500, "%s", err);
	return rd;
}

/* The error of a failed read as a response: 503 for its time limit, 500 otherwise. */
static int read_error(struct sresp *o, struct store_reader *rd, const char *what)
{
	if (store_reader_timed_out(rd))
		return sresp_error(o, 503, "%s: %s: narrow the time range or the query", what,
				   store_reader_errmsg(rd));
	return sresp_error(o, 500, "%s: %s", what, store_reader_errmsg(rd));
}

static int add_time_field(struct strbuf *sb, const char *key, int64_t ms)
{
	int rc = strbuf_addf(sb, ",\"%s\":", key);

	if (ms == INT64_MIN || ms == INT64_MAX)
		return rc | strbuf_addstr(sb, "null");
	return rc | json_add_i64(sb, ms);
}

/* ---------------------------------------------------------------------------- /api/meta */

static const char *const no_args[] = {NULL};

int api_meta(struct sreq *r, struct sresp *o)
{
	const struct serve_opts *so = r->srv->o;
	struct strbuf *sb = &o->body;
	struct store_reader *rd;
	struct store_pos end;
	int64_t first = LR_NONE, last = LR_NONE;
	char shown_buf[CH_SHOWN_MAX];
	const char *shown;
	int rc = 0;

	if (sreq_only_args(r, no_args, o) < 0)
		return 0;
	if (!(rd = conn_get(r, o)))
		return 0;
	if (sdata_span(rd, &first, &last) || store_end(rd, &end)) {
		read_error(o, rd, "store");
		sdata_put(r->srv->pool, rd);
		return 0;
	}
	sdata_put(r->srv->pool, rd);
	rc = strbuf_addstr(sb, "{\"halog\":\"" HAGEN_VERSION "\",\"store\":");
	shown = ch_url_redact(so->db, shown_buf, sizeof(shown_buf)); /* never its password */
	rc |= json_add_str(sb, shown, strlen(shown));
	rc |= strbuf_addf(sb, ",\"listening\":%s,\"auth\":%s,\"csrf\":\"%s\"",
			  so->listen ? "true" : "false",
			  guard_needs_auth(&r->srv->guard) ? "true" : "false", r->srv->guard.csrf);
	rc |= strbuf_addf(sb, ",\"end\":%lld", (long long)end.v);
	rc |= add_time_field(sb, "first_ms", first == LR_NONE ? INT64_MIN : first);
	rc |= add_time_field(sb, "last_ms", last == LR_NONE ? INT64_MIN : last);
	rc |= strbuf_addf(sb, ",\"now_ms\":%lld", (long long)clock_wall_ms());
	rc |= strbuf_addf(sb,
			  ",\"limits\":{\"max_rows\":%u,\"query_ms\":%lld,\"max_streams\":%u,"
			  "\"max_queries\":%u,\"tail_ms\":%u,\"tail_batch\":%u,\"context\":%d}}\n",
			  so->max_rows, (long long)so->query_ms, so->max_streams, so->max_queries,
			  so->tail_ms, so->tail_batch, API_CONTEXT_MAX);
	return sresp_json(o, rc);
}

/* ---------------------------------------------------------------------------- /api/query */

static const char *const query_args[] = {"q", NULL};

int api_query(struct sreq *r, struct sresp *o)
{
	struct query *q;
	const char *text;
	int rc;

	if (sreq_only_args(r, query_args, o) < 0 || parse_q(r, o, &q, &text, 200) < 0)
		return 0;
	query_free(q);
	rc = strbuf_addstr(&o->body, "{\"ok\":true,\"q\":");
	rc |= json_add_str(&o->body, text, strlen(text));
	rc |= strbuf_addstr(&o->body, "}\n");
	return sresp_json(o, rc);
}

/* ---------------------------------------------------------------------------- /api/search */

/* The lines of a search page, newest first, each as its JSON object. */
struct page {
	struct scache_line *lines;
	size_t n, alloc, bytes;
	size_t cap; /* lines wanted at most (the page's limit + 1) */
	int failed;
};

static int page_line(void *cls, const struct store_line *l)
{
	struct page *p = cls;
	struct strbuf sb = STRBUF_INIT;

	if (p->n == p->cap || p->bytes > API_BODY_MAX)
		return 1;
	if (p->n == p->alloc) {
		size_t na = p->alloc ? 2 * p->alloc : 64;
		struct scache_line *nl = realloc(p->lines, na * sizeof(*nl));

		if (!nl) {
			p->failed = 1;
			return 1;
		}
		p->lines = nl;
		p->alloc = na;
	}
	if (line_json(&sb, l, LINE_JSON_FULL) < 0) {
		strbuf_release(&sb);
		p->failed = 1;
		return 1;
	}
	p->lines[p->n].pos = l->pos.v;
	p->lines[p->n].recv_ms = l->recv_ms;
	p->lines[p->n].json = strbuf_detach(&sb, &p->lines[p->n].len);
	p->bytes += p->lines[p->n].len;
	p->n++;
	return 0;
}

/* Appends the lines of a kept result that the page still needs (received at or after since),
 * as copies. Returns how many were taken. */
static size_t page_take(struct page *p, const struct scache_search *old, int64_t since)
{
	size_t taken = 0;

	for (size_t i = 0; i < old->n && p->n < p->cap && !p->failed; i++) {
		struct scache_line *l = &old->lines[i];

		if (since != INT64_MIN && l->recv_ms < since)
			continue;
		if (p->n == p->alloc) {
			size_t na = p->alloc ? 2 * p->alloc : 64;
			struct scache_line *nl = realloc(p->lines, na * sizeof(*nl));

			if (!nl) {
				p->failed = 1;
				break;
			}
			p->lines = nl;
			p->alloc = na;
		}
		p->lines[p->n] = *l;
		l->json = NULL; /* moved */
		p->bytes += l->len;
		p->n++;
		taken++;
	}
	return taken;
}

static void page_release(struct page *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->lines[i].json);
	free(p->lines);
	memset(p, 0, sizeof(*p));
}

/* The newest p->cap matches of q in [since, until) before `before` into p. An open-ended search
 * (until and before open) starts from the kept result of the same query when there is one that
 * covers the window, and reads only the lines stored since; its answer is kept in turn.
 * Returns 0 or -1 (store_reader_errmsg). */
static int search_lines(struct serve *srv, struct store_reader *rd, const struct query *q,
			const char *text, int64_t since, int64_t until, int64_t before,
			struct page *p)
{
	struct scache_search old;
	struct store_sel sel;
	struct store_pos end;
	int open = until == INT64_MAX && before == INT64_MAX && p->cap <= SCACHE_MAX_LINES;
	int kept = 0;

	store_sel_init(&sel);
	sel.query = q;
	sel.since_ms = since;
	sel.until_ms = until;
	sel.to.v = before;
	sel.order = STORE_NEWEST;
	sel.limit = (int64_t)p->cap;
	sel.want = SDATA_WANT;
	if (open) {
		if (store_end(rd, &end))
			return -1;
		sel.to = end;
		if (scache_search_get(srv->cache, text, &old)) {
			kept = old.since <= since; /* it holds every line of this window */
			if (!kept)
				scache_search_release(&old);
		}
		if (kept)
			sel.from = old.end; /* only what was stored since */
	}
	if (sdata_each(rd, &sel, page_line, p, NULL))
		goto fail;
	if (kept && p->n < p->cap && !p->failed) {
		size_t need = p->cap - p->n;

		if (page_take(p, &old, since) < need && !old.all) {
			/* the kept lines ran out inside the window: read it all again */
			page_release(p);
			p->cap = (size_t)sel.limit;
			sel.from = STORE_POS_MIN;
			if (sdata_each(rd, &sel, page_line, p, NULL))
				goto fail;
		}
	}
	if (open && !p->failed && p->bytes <= API_BODY_MAX) {
		struct scache_search now = {p->lines, p->n, p->n < p->cap, since, end};

		scache_search_put(srv->cache, text, &now);
	}
	if (kept)
		scache_search_release(&old);
	return 0;
fail:
	if (kept)
		scache_search_release(&old);
	return -1;
}

static const char *const search_args[] = {"q", "since", "until", "before", "limit", NULL};

int api_search(struct sreq *r, struct sresp *o)
{
	const struct serve_opts *so = r->srv->o;
	struct strbuf *sb = &o->body;
	int64_t now = clock_wall_ms(), since, until, before, limit, t0 = clock_mono_ms();
	struct page p = {NULL, 0, 0, 0, 0, 0};
	struct query *q = NULL;
	struct store_reader *rd = NULL;
	const char *text;
	size_t shown;
	int more, rc;

	if (sreq_only_args(r, search_args, o) < 0 ||
	    sreq_time(r, "since", now, INT64_MIN, &since, o) < 0 ||
	    sreq_time(r, "until", now, INT64_MAX, &until, o) < 0 ||
	    sreq_int(r, "before", 1, INT64_MAX, INT64_MAX, &before, o) < 0 ||
	    sreq_int(r, "limit", 1, so->max_rows, 100 < so->max_rows ? 100 : so->max_rows, &limit,
		     o) < 0)
		return 0;
	if (since != INT64_MIN && until != INT64_MAX && until <= since)
		return sresp_error(o, 400, "'until' is not after 'since'");
	if (parse_q(r, o, &q, &text, 400) < 0)
		return 0;
	if (!(rd = conn_get(r, o)))
		goto out;
	p.cap = (size_t)limit + 1; /* one more tells whether older matches remain */
	if (search_lines(r->srv, rd, q, text, since, until, before, &p)) {
		read_error(o, rd, "search");
		goto out;
	}
	/* the page: at most limit lines, and within API_BODY_MAX bytes */
	more = p.n > (size_t)limit || p.bytes > API_BODY_MAX;
	rc = strbuf_addstr(sb, "{\"q\":");
	rc |= json_add_str(sb, text, strlen(text));
	rc |= add_time_field(sb, "since", since);
	rc |= add_time_field(sb, "until", until);
	rc |= strbuf_addstr(sb, ",\"lines\":[");
	for (shown = 0; shown < p.n && shown < (size_t)limit && sb->len <= API_BODY_MAX; shown++) {
		if (shown)
			rc |= strbuf_addch(sb, ',');
		rc |= strbuf_add(sb, p.lines[shown].json, p.lines[shown].len);
	}
	more |= shown < p.n && shown < (size_t)limit;
	rc |= strbuf_addf(sb, "],\"count\":%zu,\"more\":%s,\"next\":", shown,
			  more ? "true" : "false");
	if (more && shown)
		rc |= json_add_i64(sb, p.lines[shown - 1].pos);
	else
		rc |= strbuf_addstr(sb, "null");
	rc |= strbuf_addf(sb, ",\"took_ms\":%lld}\n", (long long)(clock_mono_ms() - t0));
	sresp_json(o, p.failed ? -1 : rc);
out:
	page_release(&p);
	sdata_put(r->srv->pool, rd);
	query_free(q);
	return 0;
}

/* ---------------------------------------------------------------------------- /api/hits */

/* Bin widths of the hit graph: the smallest that gives at most the asked number of bins. */
static const int64_t bin_widths[] = {
	1000,	  2000,	    5000,      10000,	  15000,     30000,	60000,	  120000,
	300000,	  600000,   900000,    1800000,	  3600000,   7200000,	10800000, 21600000,
	43200000, 86400000, 172800000, 604800000, 2592000000,
};

static const char *const hits_args[] = {"q", "since", "until", "bins", NULL};

/* The counts of the hit graph into counts (n bins from t0). The lines stored since the kept graph
 * of the same query and width (when it covers the range's start) are counted and added to its
 * complete bins; the bins it had not finished, or all of them without one, are counted newest
 * first within API_HITS_BUDGET over the lines before its end. *partial is the time from which
 * the counts are complete (LR_NONE: all). The answer is kept in turn, so a graph asked again
 * and again completes. Returns 0 or -1. */
static int hits_counts(struct serve *srv, struct store_reader *rd, const struct query *q,
		       const char *text, int64_t t0, int64_t w, size_t n, int64_t *counts,
		       int64_t *partial)
{
	struct scache_hits old, now;
	struct store_pos end, before;
	int64_t todo = t0 + (int64_t)n * w; /* bins before this are still to count */

	*partial = LR_NONE;
	if (store_end(rd, &end))
		return -1;
	before = end;
	if (scache_hits_get(srv->cache, text, w, &old) && old.t0 > t0)
		scache_hits_release(&old); /* it starts after this range: of no use */
	else if (old.counts) {
		struct store_sel sel;
		size_t off = (size_t)((t0 - old.t0) / w);
		int rc;

		/* lines are received before they are stored: lines after the kept graph's end hold
		 * nothing for its bins but what the new lines bring, counted here for every bin */
		for (size_t i = 0; i < n && off + i < old.n; i++)
			if (t0 + (int64_t)i * w >= old.done_from)
				counts[i] = old.counts[off + i];
		if (old.done_from > t0)
			todo = old.done_from;
		else
			todo = t0;
		before = old.end;
		store_sel_init(&sel);
		sel.query = q;
		sel.from = old.end;
		sel.to = end;
		sel.since_ms = t0;
		sel.until_ms = t0 + (int64_t)n * w;
		rc = store_histogram(rd, &sel, t0, w, n, counts);
		scache_hits_release(&old);
		if (rc)
			return -1;
	}
	if (todo > t0) {
		/* the bins [t0, todo) over the lines before `before`, newest first, within budget */
		size_t k = (size_t)((todo - t0) / w);
		int64_t cut;

		if (sdata_hits(rd, q, STORE_POS_MIN, before, t0, w, k, API_HITS_BUDGET, counts,
			       &cut)) {
			if (!store_reader_timed_out(rd) || todo == t0 + (int64_t)n * w)
				return -1;
			cut = todo; /* no progress this time */
		}
		*partial = cut;
	}
	now.t0 = t0;
	now.width = w;
	now.counts = counts;
	now.n = n;
	now.end = end;
	now.done_from = *partial == LR_NONE ? t0 : *partial;
	scache_hits_put(srv->cache, text, &now);
	return 0;
}

int api_hits(struct sreq *r, struct sresp *o)
{
	struct strbuf *sb = &o->body;
	int64_t now = clock_wall_ms(), since, until, bins, t0, w = 0, partial, first, last;
	int64_t *counts = NULL, total = 0, started = clock_mono_ms();
	struct query *q = NULL;
	struct store_reader *c = NULL;
	const char *text;
	size_t n;
	int rc;

	if (sreq_only_args(r, hits_args, o) < 0 ||
	    sreq_time(r, "since", now, INT64_MIN, &since, o) < 0 ||
	    sreq_time(r, "until", now, INT64_MAX, &until, o) < 0 ||
	    sreq_int(r, "bins", 1, 500, API_HITS_BINS, &bins, o) < 0)
		return 0;
	if (since != INT64_MIN && until != INT64_MAX && until <= since)
		return sresp_error(o, 400, "'until' is not after 'since'");
	if (parse_q(r, o, &q, &text, 400) < 0)
		return 0;
	if (!(c = conn_get(r, o)))
		goto out;
	if (sdata_span(c, &first, &last)) {
		read_error(o, c, "hit graph");
		goto out;
	}
	/* an open end is the store's own: its first line, or now */
	if (since == INT64_MIN)
		since = first == LR_NONE ? now - 3600000 : first;
	if (until == INT64_MAX)
		until = (last == LR_NONE || last < now ? now : last) + 1;
	if (until <= since)
		until = since + 1;
	for (size_t i = 0; i < sizeof(bin_widths) / sizeof(bin_widths[0]); i++) {
		w = bin_widths[i];
		if ((until - since + w - 1) / w <= bins)
			break;
	}
	/* whole bins: the graph covers the range rounded out to its bins */
	t0 = since - (since % w + w) % w;
	n = (size_t)((until - t0 + w - 1) / w);
	if (n > 1000)
		n = 1000;
	if (!(counts = calloc(n, sizeof(*counts)))) {
		sresp_error(o, 500, "out of memory");
		goto out;
	}
	if (hits_counts(r->srv, c, q, text, t0, w, n, counts, &partial)) {
		read_error(o, c, "hit graph");
		goto out;
	}
	rc = strbuf_addstr(sb, "{\"q\":");
	rc |= json_add_str(sb, text, strlen(text));
	rc |= strbuf_addf(sb, ",\"since\":%lld,\"until\":%lld,\"t0\":%lld,\"width_ms\":%lld,",
			  (long long)t0, (long long)(t0 + (int64_t)n * w), (long long)t0,
			  (long long)w);
	rc |= strbuf_addstr(sb, "\"counts\":[");
	for (size_t i = 0; i < n; i++) {
		rc |= strbuf_addf(sb, "%s%lld", i ? "," : "", (long long)counts[i]);
		total += counts[i];
	}
	rc |= strbuf_addf(sb, "],\"total\":%lld", (long long)total);
	rc |= add_time_field(sb, "partial_from", partial == LR_NONE ? INT64_MIN : partial);
	rc |= strbuf_addf(sb, ",\"took_ms\":%lld}\n", (long long)(clock_mono_ms() - started));
	sresp_json(o, rc);
out:
	free(counts);
	sdata_put(r->srv->pool, c);
	query_free(q);
	return 0;
}

/* ---------------------------------------------------------------------------- /api/context */

struct ctx {
	struct strbuf *sb;
	int64_t n;
	int failed;
};

static int ctx_line(void *cls, const struct store_line *l)
{
	struct ctx *x = cls;

	if ((x->n && strbuf_addch(x->sb, ',') < 0) ||
	    line_json(x->sb, l, LINE_JSON_FULL) < 0) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	return 0;
}

static const char *const context_args[] = {"id", "n", NULL};

int api_context(struct sreq *r, struct sresp *o)
{
	struct strbuf *sb = &o->body;
	struct ctx x = {sb, 0, 0};
	struct store_reader *rd;
	struct store_pos pos;
	int64_t n;
	int found = 0, rc;

	if (sreq_only_args(r, context_args, o) < 0 ||
	    sreq_int(r, "id", 1, INT64_MAX - 1, 0, &pos.v, o) < 0 ||
	    sreq_int(r, "n", 0, API_CONTEXT_MAX, 5, &n, o) < 0)
		return 0;
	if (!pos.v)
		return sresp_error(o, 400, "parameter 'id' is required");
	if (!(rd = conn_get(r, o)))
		return 0;
	rc = strbuf_addf(sb, "{\"id\":%lld,\"lines\":[", (long long)pos.v);
	if (!rc && sdata_context(rd, pos, n, ctx_line, &x, &found))
		read_error(o, rd, "context");
	else if (!rc && !found)
		sresp_error(o, 404, "no line with id %lld", (long long)pos.v);
	else
		sresp_json(o, x.failed || rc ? -1 : strbuf_addstr(sb, "]}\n"));
	sdata_put(r->srv->pool, rd);
	return 0;
}
