/* halog report --format html: the text report's numbers as one self-contained page. Charts are
 * inline SVG drawn here (no script, no font, no URL: it opens from file:// with no network), each
 * with role="img", a <title> and an aria-label that says what it shows, and its numbers in a
 * table next to it. A Content-Security-Policy forbids every fetch, so nothing can leak out. */
#include "report/report_html.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "query/query.h"
#include "store/read.h"
#include "strbuf.h"

#ifndef HAGEN_VERSION
#define HAGEN_VERSION "0"
#endif

#define W_CHART 540  /* viewBox width of a chart in a column: about its size in pixels */
#define W_WIDE 1100  /* of a chart across the page (time charts) */
#define NAME_CUT 16  /* chart labels longer than this are cut (the table has them whole) */
#define EV_LABELS 24 /* a timeline lane writes its DOWN/UP words up to this many events */

static const char *const class_names[RC_N] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
/* stacking order, bottom first: good news at the bottom, errors on top */
static const int class_order[RC_N] = {RC_2XX, RC_3XX, RC_1XX, RC_4XX, RC_5XX, RC_OTHER};

struct series {
	int64_t t0, w; /* start of the first bin, bin width (ms) */
	size_t n;      /* bins */
	int64_t *cls;  /* n * RC_N */
	int64_t *req, *err;
	int raw; /* from the requests table (bins under a minute) */
};

struct html {
	struct strbuf *sb;
	struct store_reader *rd; /* NULL: no time charts */
	const struct report *r;
	const struct report_html_opts *opts; /* NULL: none */
	int64_t t0, w; /* the page's time bins (t0: LR_NONE when no time chart) */
	size_t nbins;
	int raw;    /* bins are finer than the rollups: read requests */
	int nchart; /* ids */
	char *err;
	size_t errsz;
	int failed;
};

/* ------------------------------------------------------------------------------ helpers */

/* s made visible (control bytes and invalid UTF-8 as \xHH) and HTML-escaped; at most cut
 * characters when cut > 0 (then ends with an ellipsis). */
static void esc_cut(struct strbuf *sb, const char *s, size_t cut)
{
	struct strbuf v = STRBUF_INIT;
	if (!s)
		s = "-";
	text_add_visible(&v, s, strlen(s));
	size_t chars = 0;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.buf[i];
		if ((c & 0xc0) != 0x80 && cut && ++chars > cut) {
			strbuf_addstr(sb, "&#8230;");
			break;
		}
		switch (c) {
		case '&':
			strbuf_addstr(sb, "&amp;");
			break;
		case '<':
			strbuf_addstr(sb, "&lt;");
			break;
		case '>':
			strbuf_addstr(sb, "&gt;");
			break;
		case '"':
			strbuf_addstr(sb, "&quot;");
			break;
		case '\'':
			strbuf_addstr(sb, "&#39;");
			break;
		default:
			strbuf_addch(sb, c);
		}
	}
	strbuf_release(&v);
}

static void esc(struct strbuf *sb, const char *s)
{
	esc_cut(sb, s, 0);
}

/* "2025-12-01 10:00:05" (sec) or with .mmm (ms) */
static void fmt_time(struct strbuf *sb, int64_t ms, int with_ms)
{
	char t[40];
	report_fmt_time(ms, t, sizeof(t));
	t[10] = ' ';
	t[with_ms ? 23 : 19] = '\0';
	strbuf_addstr(sb, t);
}

/* A short axis label of a bin start: the time of day, or the date too on spans over a day. */
static void axis_time(struct strbuf *sb, int64_t ms, int64_t span)
{
	char t[40];
	report_fmt_time(ms, t, sizeof(t));
	if (span >= 86400000LL * 2) {
		t[16] = '\0';
		strbuf_addstr(sb, t + 5); /* MM-DDThh:mm */
		sb->buf[sb->len - 6] = ' ';
	} else if (span >= 600000) {
		t[16] = '\0';
		strbuf_addstr(sb, t + 11); /* hh:mm */
	} else {
		t[19] = '\0';
		strbuf_addstr(sb, t + 11); /* hh:mm:ss */
	}
}

static void bin_width_words(struct strbuf *sb, int64_t w)
{
	if (w % 86400000 == 0)
		strbuf_addf(sb, "%lld d", (long long)(w / 86400000));
	else if (w % 3600000 == 0)
		strbuf_addf(sb, "%lld h", (long long)(w / 3600000));
	else if (w % 60000 == 0)
		strbuf_addf(sb, "%lld min", (long long)(w / 60000));
	else
		strbuf_addf(sb, "%lld s", (long long)(w / 1000));
}

/* A round axis for values up to top: a step of 1, 2 or 5 × 10^k (at least minstep) giving
 * at most 5 intervals; *max is the step times the intervals. Returns the intervals. */
static int axis(double top, double minstep, double *max, double *step)
{
	if (top <= 0)
		top = 1;
	double p = pow(10, floor(log10(top / 5)));
	double st = p;
	static const double m[] = {1, 2, 2.5, 5, 10};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		st = m[i] * p;
		if (top / st <= 5 + 1e-9)
			break;
	}
	if (st < minstep)
		st = minstep;
	int n = (int)ceil(top / st - 1e-9);
	if (n < 1)
		n = 1;
	*step = st;
	*max = st * n;
	return n;
}

static void num_td(struct strbuf *sb, const char *col, int64_t v)
{
	if (v < 0)
		strbuf_addf(sb, "<td class=\"num\" data-col=\"%s\">&#8211;</td>", col);
	else
		strbuf_addf(sb, "<td class=\"num\" data-col=\"%s\">%lld</td>", col, (long long)v);
}

/* ------------------------------------------------------------------ links into search */

/* One term of a search link, field:"value"; a NULL field ends the list. */
struct qterm {
	const char *field, *value;
};

/* Opens a link to the search of the lines the terms select, when the page has links; returns
 * whether it did (then link_close ends it). The report's window goes along, in seconds. */
static int link_open(struct html *h, const struct qterm *t)
{
	struct strbuf q = STRBUF_INIT, url = STRBUF_INIT;
	if (!h->opts || !h->opts->search_href)
		return 0;
	for (size_t i = 0; t[i].field; i++) {
		if (i)
			strbuf_addch(&q, ' ');
		query_add_term(&q, t[i].field, t[i].value);
	}
	strbuf_addstr(&url, h->opts->search_href);
	strbuf_addstr(&url, "?q=");
	strbuf_add_urlenc(&url, q.buf);
	/* whole seconds that hold the window: its start rounded down, its end up */
	if (h->r->since_ms != LR_NONE)
		strbuf_addf(&url, "&since=%%40%lld",
			    (long long)(h->r->since_ms / 1000 - (h->r->since_ms % 1000 < 0)));
	if (h->r->until_ms != LR_NONE)
		strbuf_addf(&url, "&until=%%40%lld",
			    (long long)(h->r->until_ms / 1000 + (h->r->until_ms % 1000 > 0)));
	strbuf_addstr(h->sb, "<a class=\"search\" target=\"_top\" href=\"");
	esc(h->sb, url.buf);
	strbuf_addstr(h->sb, "\" title=\"search these lines\">");
	strbuf_release(&q);
	strbuf_release(&url);
	return 1;
}

static void link_close(struct html *h, int opened)
{
	if (opened)
		strbuf_addstr(h->sb, "</a>");
}

/* A number cell whose number links to the search of terms (when the page has links). */
static void num_td_link(struct html *h, const char *col, int64_t v, const struct qterm *t)
{
	if (v <= 0 || !h->opts || !h->opts->search_href) {
		num_td(h->sb, col, v);
		return;
	}
	strbuf_addf(h->sb, "<td class=\"num\" data-col=\"%s\">", col);
	int opened = link_open(h, t);
	strbuf_addf(h->sb, "%lld", (long long)v);
	link_close(h, opened);
	strbuf_addstr(h->sb, "</td>");
}

static int fail(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct html *h, const char *fmt, ...)
{
	va_list ap;
	if (!h->failed) {
		va_start(ap, fmt);
		vsnprintf(h->err, h->errsz, fmt, ap);
		va_end(ap);
	}
	h->failed = 1;
	return -1;
}

/* ------------------------------------------------------------------------------ time bins */

static const int64_t bin_widths[] = {
	1000,	  2000,	    5000,     10000,	15000,	   30000,     60000,
	120000,	  300000,   600000,   900000,	1800000,   3600000,   7200000,
	10800000, 21600000, 43200000, 86400000, 172800000, 604800000,
};

/* Picks the page's bin width: the smallest giving at most REPORT_HTML_MAX_BINS bins; under a
 * minute only when the requests table is small enough to scan. */
static void choose_bins(struct html *h)
{
	const struct report *r = h->r;
	h->t0 = LR_NONE;
	if (!h->rd || r->first_ms == LR_NONE || r->last_ms < r->first_ms)
		return;
	struct store_info info;
	int raw_ok = !store_info(h->rd, &info) && info.records_hint <= REPORT_HTML_RAW_ROWS;
	int64_t w = 0;
	for (size_t i = 0; i < sizeof(bin_widths) / sizeof(bin_widths[0]); i++) {
		int64_t c = bin_widths[i];
		if (c < ROLLUP_BUCKET_MS && !raw_ok)
			continue;
		if (report_floordiv(r->last_ms, c) - report_floordiv(r->first_ms, c) + 1 <=
		    REPORT_HTML_MAX_BINS) {
			w = c;
			break;
		}
	}
	if (!w)
		w = ((r->last_ms - r->first_ms) / (REPORT_HTML_MAX_BINS - 1) / 86400000 + 1) *
		    86400000;
	h->w = w;
	h->raw = w < ROLLUP_BUCKET_MS;
	h->t0 = report_floordiv(r->first_ms, w) * w;
	h->nbins = (size_t)(report_floordiv(r->last_ms, w) - report_floordiv(r->first_ms, w) + 1);
}

static void series_release(struct series *s)
{
	free(s->cls);
	free(s->req);
	free(s->err);
	memset(s, 0, sizeof(*s));
}

/* The status classes (and errors) per bin of the traffic of frontend fe and backend be (NULL:
 * any; the report's filters apply on top). Returns 0 or -1. */
static int series_load(struct html *h, const char *fe, const char *be, struct series *out)
{
	const struct report *r = h->r;
	struct store_bin *bins = NULL;
	struct store_sel sel;
	memset(out, 0, sizeof(*out));
	if (h->t0 == LR_NONE)
		return 0;
	out->t0 = h->t0;
	out->w = h->w;
	out->n = h->nbins;
	out->raw = h->raw;
	out->cls = calloc(out->n * RC_N, sizeof(int64_t));
	out->req = calloc(out->n, sizeof(int64_t));
	out->err = calloc(out->n, sizeof(int64_t));
	bins = calloc(out->n, sizeof(*bins));
	if (!out->cls || !out->req || !out->err || !bins) {
		free(bins);
		return fail(h, "out of memory");
	}
	store_sel_init(&sel);
	sel.clock = STORE_LOGGED;
	if (r->from_ms != LR_NONE)
		sel.since_ms = r->from_ms;
	if (r->to_ms != LR_NONE)
		sel.until_ms = r->to_ms;
	sel.frontend = fe ? fe : r->frontend;
	sel.backend = be ? be : r->backend;
	if (store_series(h->rd, &sel, h->t0, h->w, h->nbins, bins)) {
		free(bins);
		return fail(h, "cannot read the time series: %s", store_reader_errmsg(h->rd));
	}
	for (size_t b = 0; b < out->n; b++) {
		for (int k = 0; k < RC_N; k++)
			out->cls[b * RC_N + (size_t)k] = bins[b].cls[k];
		out->req[b] = bins[b].requests;
		out->err[b] = bins[b].errors;
	}
	free(bins);
	return 0;
}

/* ------------------------------------------------------------------------------ charts */

static int chart_open(struct html *h, const char *kind, int width, int height,
		      const char *label_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Opens <figure><svg role="img" aria-label=…><title>…</title>; the label is plain text that
 * chart_open escapes (callers pass names through it). Returns the chart's number. */
static int chart_open(struct html *h, const char *kind, int width, int height,
		      const char *label_fmt, ...)
{
	struct strbuf label = STRBUF_INIT;
	va_list ap;
	va_start(ap, label_fmt);
	strbuf_vaddf(&label, label_fmt, ap);
	va_end(ap);
	int id = ++h->nchart;
	strbuf_addf(h->sb,
		    "<svg class=\"chart\" data-chart=\"%s\" role=\"img\" viewBox=\"0 0 %d %d\""
		    " aria-labelledby=\"c%d-t\" aria-label=\"",
		    kind, width, height, id);
	esc(h->sb, label.buf);
	strbuf_addf(h->sb, "\"><title id=\"c%d-t\">", id);
	esc(h->sb, label.buf);
	strbuf_addstr(h->sb, "</title>\n");
	strbuf_release(&label);
	return id;
}

/* Appends "a; b; …" (up to 12 items, then a note) to a label, plain (escaped later). */
static void label_list_add(struct strbuf *l, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void label_list_add(struct strbuf *l, size_t i, const char *fmt, ...)
{
	va_list ap;
	if (i >= 12) {
		if (i == 12)
			strbuf_addstr(l, "; more in the table");
		return;
	}
	strbuf_addstr(l, i ? "; " : "");
	va_start(ap, fmt);
	strbuf_vaddf(l, fmt, ap);
	va_end(ap);
}

static const char *visname(struct strbuf *tmp, const char *s)
{
	strbuf_reset(tmp);
	text_add_visible(tmp, s ? s : "-", s ? strlen(s) : 1);
	return tmp->buf;
}

/* Observed share per member (and the expected one when the inventory gives it). */
static void chart_shares(struct html *h, const struct report_group *g, int backend)
{
	struct strbuf *sb = h->sb, label = STRBUF_INIT, tmp = STRBUF_INIT;
	int expect = backend && g->balance_checked;
	size_t n = 0;
	double top = 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_server *m = &g->members[j];
		if (m->special)
			continue;
		label_list_add(&label, n, "%s %.1f%%", visname(&tmp, m->name), m->share);
		if (expect && m->expected >= 0)
			strbuf_addf(&label, " (expected %.1f%%)", m->expected);
		n++;
		if (m->share > top)
			top = m->share;
		if (expect && m->expected > top)
			top = m->expected;
	}
	if (!n) {
		strbuf_release(&label);
		strbuf_release(&tmp);
		return;
	}
	/* the values are written right of their bars: leave room for the longest at full width
	 * ("expected 100.0%, -100.0 pts" and a sign), at 7 units a character of the 12 px font */
	int right = 175;
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_server *m = &g->members[j];
		char t[96];
		int w;
		if (m->special)
			continue;
		w = snprintf(t, sizeof(t), "%.1f%% . %lld", m->share, (long long)m->agg.requests);
		if (6 + 7 * w + 4 > right)
			right = 6 + 7 * w + 4;
		if (expect && m->expected >= 0) {
			w = snprintf(t, sizeof(t), "expected %.1f%%, %+.1f pts ##", m->expected,
				     m->deviation);
			if (6 + 7 * w + 4 > right)
				right = 6 + 7 * w + 4;
		}
	}
	if (right > W_CHART - 120 - 120)
		right = W_CHART - 120 - 120; /* bars keep at least 120 units */
	double max, step;
	int nticks = axis(top > 50 ? 100 : top * 1.08, 1, &max, &step);
	int row = expect ? 40 : 26, x0 = 120, x1 = W_CHART - right, y0 = expect ? 34 : 22;
	int height = y0 + (int)n * row + 26;
	strbuf_addstr(sb, "<figure class=\"fig\">");
	chart_open(h, "share", W_CHART, height, "%s %s: share of requests per %s%s: %s",
		   backend ? "Backend" : "Frontend", visname(&tmp, g->name),
		   backend ? "server" : "backend",
		   expect ? ", observed against expected from the inventory" : "", label.buf);
	if (expect)
		strbuf_addf(sb,
			    "<g class=\"legend\"><rect x=\"%d\" y=\"6\" width=\"14\" height=\"12\""
			    " class=\"obs\"/><text x=\"%d\" y=\"16\">observed share</text>"
			    "<rect x=\"%d\" y=\"6\" width=\"14\" height=\"12\" class=\"exp\"/>"
			    "<text x=\"%d\" y=\"16\">expected (inventory weights)</text></g>\n",
			    x0, x0 + 20, x0 + 130, x0 + 150);
	/* grid */
	for (int k = 0; k <= nticks; k++) {
		double v = step * k;
		int x = x0 + (int)lround((x1 - x0) * (v / max));
		strbuf_addf(sb,
			    "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			    "<text class=\"tick\" x=\"%d\" y=\"%d\" "
			    "text-anchor=\"middle\">%g%%</text>\n",
			    x, y0 - 4, x, y0 + (int)n * row, x, y0 + (int)n * row + 16, v);
	}
	size_t i = 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_server *m = &g->members[j];
		if (m->special)
			continue;
		int y = y0 + (int)i * row + 3;
		double wv = (x1 - x0) * (m->share / max);
		strbuf_addstr(sb, "<g class=\"row\" data-name=\"");
		esc(sb, m->name);
		strbuf_addf(sb, "\"><text class=\"name\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			    x0 - 8, y + 13);
		esc_cut(sb, m->name, NAME_CUT);
		strbuf_addf(sb,
			    "</text><rect class=\"bar obs\" x=\"%d\" y=\"%d\" width=\"%.1f\""
			    " height=\"18\" data-share=\"%.1f\" data-requests=\"%lld\"><title>",
			    x0, y, wv, m->share, (long long)m->agg.requests);
		esc(sb, m->name);
		strbuf_addf(sb, ": %.1f%% (%lld requests)</title></rect>", m->share,
			    (long long)m->agg.requests);
		strbuf_addf(sb, "<text class=\"val\" x=\"%.1f\" y=\"%d\">%.1f%% &#183; %lld</text>",
			    x0 + wv + 6, y + 13, m->share, (long long)m->agg.requests);
		if (expect && m->expected >= 0) {
			double we = (x1 - x0) * (m->expected / max);
			int off = fabs(m->deviation) >
				  (h->r->check_balance >= 0 ? h->r->check_balance : 1e9);
			strbuf_addf(
				sb,
				"<rect class=\"bar exp\" x=\"%d\" y=\"%d\" width=\"%.1f\""
				" height=\"9\" data-expected=\"%.1f\"><title>expected %.1f%%"
				"</title></rect><text class=\"val%s\" x=\"%.1f\" y=\"%d\">expected"
				" %.1f%%, %+.1f pts%s</text>",
				x0, y + 21, we, m->expected, m->expected, off ? " bad" : "",
				x0 + we + 6, y + 29, m->expected, m->deviation,
				off ? " &#9888;" : "");
		}
		strbuf_addstr(sb, "</g>\n");
		i++;
	}
	strbuf_addstr(sb, "</svg><figcaption>");
	if (expect)
		strbuf_addstr(sb, "Share of requests per server: solid bar observed, hatched bar "
				  "expected from the inventory's weights.");
	else
		strbuf_addf(sb, "Share of requests per %s.", backend ? "server" : "backend");
	strbuf_addstr(sb, "</figcaption></figure>\n");
	strbuf_release(&label);
	strbuf_release(&tmp);
}

/* Stacked status classes per bin (ok/errors for tcp). */
static void chart_status_time(struct html *h, const struct series *s, const char *what, int tcp,
			      int wide)
{
	struct strbuf *sb = h->sb, tmp = STRBUF_INIT;
	if (!s->n)
		return;
	int64_t top = 0, total = 0;
	for (size_t b = 0; b < s->n; b++) {
		if (s->req[b] > top)
			top = s->req[b];
		total += s->req[b];
	}
	if (!total)
		return;
	const int W = wide ? W_WIDE : W_CHART;
	const int x0 = 56, x1 = W - 10, y0 = 48, y1 = 206, height = 246;
	double max, step;
	int nticks = axis((double)top, 1, &max, &step);
	double bw = (double)(x1 - x0) / (double)s->n;
	int64_t span = (int64_t)s->n * s->w;
	struct strbuf wtxt = STRBUF_INIT;
	bin_width_words(&wtxt, s->w);
	strbuf_addstr(sb, wide ? "<figure class=\"fig wide\">" : "<figure class=\"fig\">");
	if (tcp) {
		int64_t errs = 0;
		for (size_t b = 0; b < s->n; b++)
			errs += s->err[b];
		chart_open(h, "status-time", W, height,
			   "%s: connections per %s over time, %lld in all, %lld errors", what,
			   wtxt.buf, (long long)total, (long long)errs);
	} else {
		int64_t c[RC_N] = {0};
		for (size_t b = 0; b < s->n; b++)
			for (int k = 0; k < RC_N; k++)
				c[k] += s->cls[b * RC_N + k];
		chart_open(h, "status-time", W, height,
			   "%s: requests per %s by status class over time, %lld in all: 2xx %lld,"
			   " 3xx %lld, 4xx %lld, 5xx %lld, other %lld",
			   what, wtxt.buf, (long long)total, (long long)c[RC_2XX],
			   (long long)c[RC_3XX], (long long)c[RC_4XX], (long long)c[RC_5XX],
			   (long long)(c[RC_OTHER] + c[RC_1XX]));
	}
	/* legend */
	strbuf_addstr(sb, "<g class=\"legend\">");
	int lx = x0;
	if (tcp) {
		strbuf_addf(sb,
			    "<rect x=\"%d\" y=\"6\" width=\"14\" height=\"12\" class=\"k-ok\"/>"
			    "<text x=\"%d\" y=\"16\">ok</text><rect x=\"%d\" y=\"6\" width=\"14\""
			    " height=\"12\" class=\"k-err\"/><text x=\"%d\" y=\"16\">error</text>",
			    lx, lx + 18, lx + 60, lx + 78);
	} else {
		for (int i = 0; i < RC_N; i++) {
			int k = class_order[i];
			strbuf_addf(
				sb,
				"<rect x=\"%d\" y=\"6\" width=\"14\" height=\"12\" class=\"k-%s\"/>"
				"<text x=\"%d\" y=\"16\">%s</text>",
				lx, class_names[k], lx + 18, class_names[k]);
			lx += 52;
		}
	}
	if (!tcp)
		strbuf_addf(sb,
			    "<path class=\"errline\" d=\"M%d 30 h16\"/><circle class=\"errdot\""
			    " cx=\"%d\" cy=\"30\" r=\"2.5\"/><text x=\"%d\" y=\"34\">errors (any"
			    " cause)</text>",
			    x0, x0 + 8, x0 + 22);
	strbuf_addf(sb,
		    "<text x=\"%d\" y=\"34\" text-anchor=\"end\" class=\"tick\">%s per %s"
		    "</text></g>\n",
		    x1, tcp ? "connections" : "requests", wtxt.buf);
	/* y grid */
	for (int k = 0; k <= nticks; k++) {
		double v = step * k;
		int y = y1 - (int)lround((y1 - y0) * (v / max));
		strbuf_addf(
			sb,
			"<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%g</text>\n",
			x0, y, x1, y, x0 - 6, y + 4, v);
	}
	/* bars */
	for (size_t b = 0; b < s->n; b++) {
		if (!s->req[b])
			continue;
		double x = x0 + bw * (double)b + (bw > 6 ? 1 : 0);
		double w = bw > 6 ? bw - 2 : bw;
		double y = y1;
		strbuf_reset(&tmp);
		fmt_time(&tmp, s->t0 + (int64_t)b * s->w, 0);
		strbuf_addf(sb,
			    "<g class=\"bin\" data-t=\"%s\" data-requests=\"%lld\"><title>%s: %lld",
			    tmp.buf, (long long)s->req[b], tmp.buf, (long long)s->req[b]);
		if (tcp) {
			strbuf_addf(sb, ", errors %lld", (long long)s->err[b]);
		} else {
			for (int i = 0; i < RC_N; i++) {
				int k = class_order[i];
				if (s->cls[b * RC_N + k])
					strbuf_addf(sb, ", %s %lld", class_names[k],
						    (long long)s->cls[b * RC_N + k]);
			}
			strbuf_addf(sb, "; errors %lld", (long long)s->err[b]);
		}
		strbuf_addstr(sb, "</title>");
		int nparts = tcp ? 2 : RC_N;
		for (int i = 0; i < nparts; i++) {
			int64_t v;
			const char *cl;
			if (tcp) {
				v = i ? s->err[b] : s->req[b] - s->err[b];
				cl = i ? "k-err" : "k-ok";
			} else {
				v = s->cls[b * RC_N + class_order[i]];
				cl = NULL;
			}
			if (v <= 0)
				continue;
			double hgt = (y1 - y0) * ((double)v / max);
			y -= hgt;
			if (cl)
				strbuf_addf(sb, "<rect class=\"%s\"", cl);
			else
				strbuf_addf(sb, "<rect class=\"k-%s\"",
					    class_names[class_order[i]]);
			strbuf_addf(sb, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
				    x, y, w, hgt);
		}
		strbuf_addstr(sb, "</g>\n");
	}
	/* errors of any cause (5xx, aborts, retries) as a line over the bars */
	if (!tcp) {
		const char *cmd = "M";
		strbuf_addstr(sb, "<path class=\"errline\" d=\"");
		for (size_t b = 0; b < s->n; b++) {
			if (!s->req[b]) {
				cmd = "M"; /* no traffic: the line breaks */
				continue;
			}
			strbuf_addf(sb, "%s%s%.1f %.1f", *cmd == 'M' && b ? " " : "", cmd,
				    x0 + bw * ((double)b + 0.5),
				    y1 - (y1 - y0) * ((double)s->err[b] / max));
			cmd = " L";
		}
		strbuf_addstr(sb, "\"/>");
		for (size_t b = 0; b < s->n; b++)
			if (s->req[b] && s->err[b])
				strbuf_addf(sb,
					    "<circle class=\"errdot\" cx=\"%.1f\" cy=\"%.1f\""
					    " r=\"2.5\"/>",
					    x0 + bw * ((double)b + 0.5),
					    y1 - (y1 - y0) * ((double)s->err[b] / max));
		strbuf_addch(sb, '\n');
	}
	/* x axis: about 6 labels (4 on a narrow chart) */
	size_t every = s->n / (wide ? 6 : 4) + 1;
	strbuf_addf(sb, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x0, y1,
		    x1, y1);
	for (size_t b = 0; b < s->n; b += every) {
		double x = x0 + bw * (double)b;
		strbuf_reset(&tmp);
		axis_time(&tmp, s->t0 + (int64_t)b * s->w, span);
		strbuf_addf(sb,
			    "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			    "<text class=\"tick\" x=\"%.1f\" y=\"%d\">%s</text>",
			    x, y1, x, y1 + 5, x, y1 + 18, tmp.buf);
	}
	strbuf_addstr(sb, "\n</svg><figcaption>");
	if (tcp)
		strbuf_addf(sb, "Connections per %s, errors on top (UTC).", wtxt.buf);
	else
		strbuf_addf(sb,
			    "Requests per %s by status class (4xx, 5xx on top); the line counts"
			    " errors of any cause (UTC).",
			    wtxt.buf);
	if (s->raw)
		strbuf_addstr(sb, " Bins under a minute come from the stored requests.");
	strbuf_addstr(sb, "</figcaption>");
	/* the numbers */
	strbuf_addstr(sb, "<details><summary>Numbers per bin</summary><table class=\"series\" "
			  "data-table=\"series\">"
			  "<thead><tr><th scope=\"col\">from (UTC)</th>");
	if (tcp)
		strbuf_addstr(sb, "<th scope=\"col\" class=\"num\">ok</th>"
				  "<th scope=\"col\" class=\"num\">errors</th>");
	else
		for (int k = 0; k < RC_N; k++)
			strbuf_addf(sb, "<th scope=\"col\" class=\"num\">%s</th>", class_names[k]);
	if (!tcp)
		strbuf_addstr(sb, "<th scope=\"col\" class=\"num\">errors</th>");
	strbuf_addstr(sb, "<th scope=\"col\" class=\"num\">total</th></tr></thead><tbody>\n");
	for (size_t b = 0; b < s->n; b++) {
		if (!s->req[b])
			continue;
		strbuf_reset(&tmp);
		fmt_time(&tmp, s->t0 + (int64_t)b * s->w, 0);
		strbuf_addf(sb, "<tr><td>%s</td>", tmp.buf);
		if (tcp) {
			num_td(sb, "ok", s->req[b] - s->err[b]);
			num_td(sb, "errors", s->err[b]);
		} else {
			for (int k = 0; k < RC_N; k++)
				num_td(sb, class_names[k], s->cls[b * RC_N + k]);
			num_td(sb, "errors", s->err[b]);
		}
		num_td(sb, "total", s->req[b]);
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></details></figure>\n");
	strbuf_release(&tmp);
	strbuf_release(&wtxt);
}

/* Percentile bars per member on a log scale. */
static void chart_latency(struct html *h, const struct report_group *g, int backend)
{
	struct strbuf *sb = h->sb, label = STRBUF_INIT, tmp = STRBUF_INIT;
	int tcp = report_is_tcp(g->kinds);
	const char *tn = tcp ? "Tt" : "Ta";
	size_t n = 0;
	int64_t top = 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_lat *l = &g->members[j].lat[RT_TA];
		if (!l->n)
			continue;
		label_list_add(&label, n, "%s p50 %lld, p90 %lld, p99 %lld, max %lld ms",
			       visname(&tmp, g->members[j].name), (long long)l->p50,
			       (long long)l->p90, (long long)l->p99, (long long)l->max);
		n++;
		if (l->max > top)
			top = l->max;
	}
	if (!n) {
		strbuf_release(&label);
		strbuf_release(&tmp);
		return;
	}
	/* log10(v + 1) scale up to the next power of ten */
	double decades = ceil(log10((double)top + 1));
	if (decades < 1)
		decades = 1;
	const int x0 = 210, x1 = W_CHART - 70, y0 = 26, bar = 9, gap = 2;
	int row = 4 * (bar + gap) + 12;
	int height = y0 + (int)n * row + 22;
	strbuf_addstr(sb, "<figure class=\"fig\">");
	chart_open(h, "latency", W_CHART, height, "%s %s: %s percentiles per %s in ms: %s",
		   backend ? "Backend" : "Frontend", visname(&tmp, g->name), tn,
		   backend ? "server" : "backend", label.buf);
	static const char *const pn[4] = {"p50", "p90", "p99", "max"};
	strbuf_addstr(sb, "<g class=\"legend\">");
	for (int k = 0; k < 4; k++)
		strbuf_addf(sb,
			    "<rect x=\"%d\" y=\"6\" width=\"14\" height=\"10\" class=\"l-%s\"/>"
			    "<text x=\"%d\" y=\"15\">%s</text>",
			    x0 + k * 62, pn[k], x0 + k * 62 + 18, pn[k]);
	strbuf_addf(sb,
		    "<text x=\"%d\" y=\"15\" text-anchor=\"end\" class=\"tick\">%s, ms (log)"
		    "</text></g>\n",
		    x1 + 60, tn);
	for (int d = 0; d <= (int)decades; d++) {
		int x = x0 + (int)lround((x1 - x0) * (d / decades));
		int64_t v = (int64_t)pow(10, d);
		strbuf_addf(sb,
			    "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			    "<text class=\"tick\" x=\"%d\" y=\"%d\" "
			    "text-anchor=\"middle\">%lld</text>\n",
			    x, y0 - 2, x, y0 + (int)n * row, x, y0 + (int)n * row + 14,
			    (long long)(d ? v : 0));
	}
	size_t i = 0;
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_server *m = &g->members[j];
		const struct report_lat *l = &m->lat[RT_TA];
		if (!l->n)
			continue;
		int y = y0 + (int)i * row + 4;
		strbuf_addstr(sb, "<g class=\"row\" data-name=\"");
		esc(sb, m->name);
		strbuf_addf(sb, "\"><text class=\"name\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			    x0 - 44, y + 2 * (bar + gap) + 4);
		esc_cut(sb, m->name, NAME_CUT);
		strbuf_addstr(sb, "</text>");
		const int64_t v[4] = {l->p50, l->p90, l->p99, l->max};
		for (int k = 0; k < 4; k++) {
			double w = (x1 - x0) * (log10((double)v[k] + 1) / decades);
			int yy = y + k * (bar + gap);
			strbuf_addf(
				sb,
				"<text class=\"pn\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
				"<rect class=\"l-%s\" x=\"%d\" y=\"%d\" width=\"%.1f\""
				" height=\"%d\" data-p=\"%s\" data-ms=\"%lld\"/>"
				"<text class=\"val sm\" x=\"%.1f\" y=\"%d\">%lld</text>",
				x0 - 4, yy + bar - 1, pn[k], pn[k], x0, yy, w < 1 ? 1 : w, bar,
				pn[k], (long long)v[k], x0 + (w < 1 ? 1 : w) + 4, yy + bar - 1,
				(long long)v[k]);
		}
		strbuf_addstr(sb, "</g>\n");
		i++;
	}
	strbuf_addf(sb,
		    "</svg><figcaption>%s (%s) percentiles per %s, in milliseconds on a"
		    " logarithmic scale.</figcaption></figure>\n",
		    tn, tcp ? "session duration" : "total request time",
		    backend ? "server" : "backend");
	strbuf_release(&label);
	strbuf_release(&tmp);
}

/* Histogram bins of the total time, in ms: [edge[i], edge[i+1]). */
static const int64_t hist_edges[] = {0,	  1,	2,    5,    10,	   20,	  50,	 100,	   200,
				     500, 1000, 2000, 5000, 10000, 30000, 60000, INT64_MAX};
#define NHBINS (sizeof(hist_edges) / sizeof(hist_edges[0]) - 1)

/* A bin's range: "2&#8211;4" (ms), "1&#8211;2s", "&#8805;60s"; with units, ms is written. */
static void hbin_label(struct strbuf *sb, size_t i, int units)
{
	int64_t a = hist_edges[i], b = hist_edges[i + 1];
	if (b == INT64_MAX)
		strbuf_addf(sb, "&#8805;%llds", (long long)(a / 1000));
	else if (a >= 1000)
		strbuf_addf(sb, "%lld&#8211;%llds", (long long)(a / 1000), (long long)(b / 1000));
	else if (b - a == 1)
		strbuf_addf(sb, "%lld%s", (long long)a, units ? " ms" : "");
	else
		strbuf_addf(sb, "%lld&#8211;%lld%s", (long long)a, (long long)(b - 1),
			    units ? " ms" : "");
}

static void chart_histogram(struct html *h, const struct report_group *g, int backend)
{
	struct strbuf *sb = h->sb, label = STRBUF_INIT, tmp = STRBUF_INIT;
	const uint64_t *hc = g->agg.hist[RT_TA];
	int tcp = report_is_tcp(g->kinds);
	const char *tn = tcp ? "Tt" : "Ta";
	if (!hc || !g->agg.tn[RT_TA])
		return;
	int64_t bins[NHBINS] = {0};
	for (unsigned b = 0; b < HIST_N; b++) {
		if (!hc[b])
			continue;
		int64_t v = hist_value(b);
		for (size_t i = 0; i < NHBINS; i++)
			if (v >= hist_edges[i] && v < hist_edges[i + 1]) {
				bins[i] += (int64_t)hc[b];
				break;
			}
	}
	size_t lo = NHBINS, hi = 0;
	int64_t top = 0;
	for (size_t i = 0; i < NHBINS; i++) {
		if (!bins[i])
			continue;
		if (lo == NHBINS)
			lo = i;
		hi = i;
		if (bins[i] > top)
			top = bins[i];
	}
	if (lo == NHBINS) {
		strbuf_release(&label);
		strbuf_release(&tmp);
		return;
	}
	/* at least six bins wide, so one bar does not fill the chart */
	while (hi - lo + 1 < 6 && (hi + 1 < NHBINS - 1 || lo > 0)) {
		if (hi + 1 < NHBINS - 1)
			hi++;
		if (hi - lo + 1 < 6 && lo > 0)
			lo--;
	}
	for (size_t i = lo; i <= hi; i++) {
		strbuf_reset(&tmp);
		hbin_label(&tmp, i, 1);
		/* the label is plain text: turn the two entities back */
		char plain[64];
		size_t k = 0;
		for (size_t c = 0; c < tmp.len && k + 4 < sizeof(plain); c++) {
			if (!strncmp(tmp.buf + c, "&#8211;", 7)) {
				plain[k++] = '-';
				c += 6;
			} else if (!strncmp(tmp.buf + c, "&#8805;", 7)) {
				plain[k++] = '>';
				plain[k++] = '=';
				c += 6;
			} else {
				plain[k++] = tmp.buf[c];
			}
		}
		plain[k] = '\0';
		label_list_add(&label, i - lo, "%s: %lld", plain, (long long)bins[i]);
	}
	const int x0 = 56, x1 = W_CHART - 10, y0 = 30, y1 = 170, height = 214;
	double max, step;
	int nticks = axis((double)top, 1, &max, &step);
	size_t nb = hi - lo + 1;
	double bw = (double)(x1 - x0) / (double)nb;
	strbuf_addstr(sb, "<figure class=\"fig\">");
	chart_open(h, "histogram", W_CHART, height,
		   "%s %s: histogram of %s (requests per time range): %s",
		   backend ? "Backend" : "Frontend", visname(&tmp, g->name), tn, label.buf);
	for (int k = 0; k <= nticks; k++) {
		double v = step * k;
		int y = y1 - (int)lround((y1 - y0) * (v / max));
		strbuf_addf(
			sb,
			"<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%g</text>\n",
			x0, y, x1, y, x0 - 6, y + 4, v);
	}
	for (size_t i = lo; i <= hi; i++) {
		double x = x0 + bw * (double)(i - lo);
		double hg = (y1 - y0) * ((double)bins[i] / max);
		strbuf_reset(&tmp);
		hbin_label(&tmp, i, 1);
		strbuf_addf(
			sb,
			"<rect class=\"hbar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
			" data-count=\"%lld\"><title>%s: %lld</title></rect>",
			x + 2, y1 - hg, bw - 4, hg, (long long)bins[i], tmp.buf,
			(long long)bins[i]);
		strbuf_reset(&tmp);
		hbin_label(&tmp, i, 0);
		if (bins[i])
			strbuf_addf(sb,
				    "<text class=\"val sm\" x=\"%.1f\" y=\"%.1f\""
				    " text-anchor=\"middle\">%lld</text>",
				    x + bw / 2, y1 - hg - 4, (long long)bins[i]);
		strbuf_addf(sb,
			    "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s"
			    "</text>\n",
			    x + bw / 2, y1 + 16, tmp.buf);
	}
	strbuf_addf(sb,
		    "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		    "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s, ms</text>",
		    x0, y1, x1, y1, (x0 + x1) / 2, y1 + 36, tn);
	strbuf_addf(sb, "</svg><figcaption>How many requests took how long (%s, ms).</figcaption>",
		    tn);
	strbuf_addf(sb,
		    "<details><summary>Numbers per time range</summary><table class=\"hist\" "
		    "data-table=\"histogram\">"
		    "<thead><tr><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">"
		    "requests</th></tr></thead><tbody>",
		    tn);
	for (size_t i = lo; i <= hi; i++) {
		strbuf_reset(&tmp);
		hbin_label(&tmp, i, 1);
		strbuf_addf(sb, "<tr><td>%s</td>", tmp.buf);
		num_td(sb, "count", bins[i]);
		strbuf_addstr(sb, "</tr>");
	}
	strbuf_addstr(sb, "</tbody></table></details></figure>\n");
	strbuf_release(&label);
	strbuf_release(&tmp);
}

static int state_down(const char *st)
{
	return st && (strstr(st, "DOWN") || strstr(st, "MAINT") || strstr(st, "down"));
}

static int state_up(const char *st)
{
	return st && (!strcmp(st, "UP") || strstr(st, "READY") || strstr(st, "up"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Server events on a time line: a lane per server, DOWN..UP shaded. */
static void chart_events(struct html *h, const struct report_group *g)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb, label = STRBUF_INIT, tmp = STRBUF_INIT;
	if (!g->nevents)
		return;
	/* lanes: the servers named, sorted; "no server available" last */
	const char **lanes = calloc(g->nevents + 1, sizeof(*lanes));
	if (!lanes) {
		fail(h, "out of memory");
		return;
	}
	size_t nl = 0;
	int nosrv = 0;
	for (size_t i = 0; i < g->nevents; i++) {
		const struct report_event *ev = &g->events[i];
		if (ev->kind == LR_NOSRV) {
			nosrv = 1;
			continue;
		}
		const char *s = ev->server ? ev->server : "-";
		int seen = 0;
		for (size_t k = 0; k < nl && !seen; k++)
			seen = !strcmp(lanes[k], s);
		if (!seen)
			lanes[nl++] = s;
	}
	if (nl)
		qsort(lanes, nl, sizeof(*lanes), cmp_str);
	size_t nlanes = nl + (size_t)nosrv;
	int64_t a = g->events[0].ts_ms, b = g->events[g->nevents - 1].ts_ms;
	if (r->first_ms != LR_NONE && r->first_ms < a)
		a = r->first_ms;
	if (r->last_ms != LR_NONE && r->last_ms > b)
		b = r->last_ms;
	if (b <= a)
		b = a + 1000;
	for (size_t i = 0; i < g->nevents; i++) {
		const struct report_event *ev = &g->events[i];
		strbuf_reset(&tmp);
		fmt_time(&tmp, ev->ts_ms, 0);
		struct strbuf v = STRBUF_INIT;
		label_list_add(&label, i, "%s %s %s", tmp.buf,
			       ev->kind == LR_NOSRV ? "no server available"
						    : visname(&v, ev->server),
			       ev->kind == LR_NOSRV ? "" : (ev->state ? ev->state : ""));
		strbuf_release(&v);
	}
	const int x0 = 150, x1 = W_WIDE - 20, y0 = 28, lane = 34;
	int height = y0 + (int)nlanes * lane + 30;
	double span = (double)(b - a);
#define XOF(t) (x0 + (x1 - x0) * ((double)((t)-a) / span))
	strbuf_addstr(sb, "<figure class=\"fig wide\">");
	chart_open(h, "events", W_WIDE, height, "Backend %s: server health events over time: %s",
		   visname(&tmp, g->name), label.buf);
	strbuf_addf(sb,
		    "<g class=\"legend\"><path class=\"ev-down\" d=\"M%d 7 l12 0 l-6 10 z\"/>"
		    "<text x=\"%d\" y=\"16\">DOWN</text><path class=\"ev-up\" d=\"M%d 17 l12 0"
		    " l-6 -10 z\"/><text x=\"%d\" y=\"16\">UP</text><rect x=\"%d\" y=\"6\""
		    " width=\"14\" height=\"12\" class=\"downtime\"/><text x=\"%d\" y=\"16\">down"
		    " (no traffic expected)</text></g>\n",
		    x0, x0 + 16, x0 + 70, x0 + 86, x0 + 130, x0 + 148);
	for (size_t l = 0; l < nlanes; l++) {
		const char *lname = l < nl ? lanes[l] : NULL;
		int y = y0 + (int)l * lane;
		strbuf_addf(sb, "<g class=\"lane\" data-name=\"");
		esc(sb, lname ? lname : "<NOSRV>");
		strbuf_addf(sb,
			    "\"><line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			    "<text class=\"name\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			    x0, y + lane / 2, x1, y + lane / 2, x0 - 8, y + lane / 2 + 4);
		if (lname)
			esc_cut(sb, lname, 18);
		else
			strbuf_addstr(sb, "no server");
		strbuf_addstr(sb, "</text>");
		/* downtime bands */
		int64_t down_at = LR_NONE;
		size_t nev = 0;
		for (size_t i = 0; i < g->nevents; i++) {
			const struct report_event *ev = &g->events[i];
			if (lname ? (ev->kind == LR_NOSRV ||
				     strcmp(ev->server ? ev->server : "-", lname))
				  : ev->kind != LR_NOSRV)
				continue;
			nev++;
			if (lname && state_down(ev->state) && down_at == LR_NONE)
				down_at = ev->ts_ms;
			else if (lname && state_up(ev->state) && down_at != LR_NONE) {
				strbuf_addf(sb,
					    "<rect class=\"downtime\" x=\"%.1f\" y=\"%d\""
					    " width=\"%.1f\" height=\"%d\"/>",
					    XOF(down_at), y + 6, XOF(ev->ts_ms) - XOF(down_at),
					    lane - 12);
				down_at = LR_NONE;
			}
		}
		if (down_at != LR_NONE)
			strbuf_addf(sb,
				    "<rect class=\"downtime\" x=\"%.1f\" y=\"%d\" width=\"%.1f\""
				    " height=\"%d\"/>",
				    XOF(down_at), y + 6, x1 - XOF(down_at), lane - 12);
		for (size_t i = 0; i < g->nevents; i++) {
			const struct report_event *ev = &g->events[i];
			if (lname ? (ev->kind == LR_NOSRV ||
				     strcmp(ev->server ? ev->server : "-", lname))
				  : ev->kind != LR_NOSRV)
				continue;
			double x = XOF(ev->ts_ms);
			int cy = y + lane / 2;
			const char *st = lname ? (ev->state ? ev->state : "?") : "NOSRV";
			int dn = !lname || state_down(st), up = lname && state_up(st);
			strbuf_addstr(sb, "<g class=\"event\" data-state=\"");
			esc(sb, st);
			strbuf_addstr(sb, "\"><title>");
			strbuf_reset(&tmp);
			fmt_time(&tmp, ev->ts_ms, 1);
			strbuf_addf(sb, "%s ", tmp.buf);
			esc(sb, lname ? lname : "no server available");
			strbuf_addch(sb, ' ');
			esc(sb, lname ? st : "");
			if (ev->reason) {
				strbuf_addstr(sb, ": ");
				esc(sb, ev->reason);
			}
			strbuf_addstr(sb, "</title>");
			if (dn)
				strbuf_addf(sb,
					    "<path class=\"ev-down\" d=\"M%.1f %d l7 0 l-7 12 l-7 "
					    "-12 z\"/>",
					    x, cy - 8);
			else if (up)
				strbuf_addf(sb,
					    "<path class=\"ev-up\" d=\"M%.1f %d l7 0 l-7 -12 l-7 "
					    "12 z\"/>",
					    x, cy + 8);
			else
				strbuf_addf(sb,
					    "<path class=\"ev-other\" d=\"M%.1f %d l6 6 l-6 6 l-6 "
					    "-6 z\"/>",
					    x, cy - 6);
			if (nev <= EV_LABELS) {
				strbuf_addf(sb,
					    "<text class=\"val sm\" x=\"%.1f\" y=\"%d\""
					    " text-anchor=\"middle\">",
					    x, dn ? cy - 10 : cy + 18);
				esc_cut(sb, lname ? st : "NOSRV", 10);
				strbuf_addstr(sb, "</text>");
			}
			strbuf_addstr(sb, "</g>");
		}
		strbuf_addstr(sb, "</g>\n");
	}
	int ya = y0 + (int)nlanes * lane;
	strbuf_addf(sb, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x0, ya,
		    x1, ya);
	for (int k = 0; k <= 4; k++) {
		int64_t t = a + (int64_t)((double)(b - a) * k / 4);
		strbuf_reset(&tmp);
		axis_time(&tmp, t, b - a < 600000 ? 0 : b - a);
		strbuf_addf(sb,
			    "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>",
			    XOF(t), ya + 16,
			    k == 0   ? "start"
			    : k == 4 ? "end"
				     : "middle",
			    tmp.buf);
	}
#undef XOF
	strbuf_addstr(sb, "\n</svg><figcaption>Health events of the servers over the report's time"
			  " span (UTC); shaded: from DOWN to the next UP.</figcaption></figure>\n");
	free(lanes);
	strbuf_release(&label);
	strbuf_release(&tmp);
}

/* ------------------------------------------------------------------------------ tables */

static const char *status_words(int64_t st)
{
	switch (st) {
	case -1:
		return "no response (aborted before a status)";
	case 200:
		return "OK, but retried or aborted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Payload Too Large";
	case 425:
		return "Too Early";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway (invalid or no response from the server)";
	case 503:
		return "Service Unavailable (no server, or queue timeout)";
	case 504:
		return "Gateway Timeout (the server took too long)";
	default:
		if (st >= 500)
			return "server error";
		if (st >= 400)
			return "client error";
		return "counted as an error by its termination state or retries";
	}
}

static void table_members(struct html *h, const struct report_group *g, int backend)
{
	struct strbuf *sb = h->sb;
	int expect = backend && g->balance_checked, tcp = report_is_tcp(g->kinds);
	if (!g->nmembers)
		return;
	strbuf_addf(sb,
		    "<table class=\"members\" data-table=\"%s\"><caption>%s</caption><thead>"
		    "<tr><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">requests</th>"
		    "<th scope=\"col\" class=\"num\">share</th>",
		    backend ? "servers" : "backends", backend ? "Servers" : "Backends",
		    backend ? "server" : "backend");
	if (expect)
		strbuf_addstr(sb, "<th scope=\"col\" class=\"num\">expected</th>"
				  "<th scope=\"col\" class=\"num\">deviation</th>");
	strbuf_addf(sb,
		    "<th scope=\"col\" class=\"num\">errors</th><th scope=\"col\" class=\"num\">"
		    "error rate</th><th scope=\"col\" class=\"num\">%s p50</th>"
		    "<th scope=\"col\" class=\"num\">p90</th><th scope=\"col\" class=\"num\">"
		    "p99</th><th scope=\"col\" class=\"num\">max ms</th></tr></thead><tbody>\n",
		    tcp ? "Tt" : "Ta");
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_server *m = &g->members[j];
		const struct report_lat *l = &m->lat[RT_TA];
		strbuf_addstr(sb, "<tr data-name=\"");
		esc(sb, m->name);
		strbuf_addstr(sb, "\"><th scope=\"row\">");
		esc(sb, m->name);
		if (m->backup)
			strbuf_addstr(sb, " <span class=\"tag\">backup</span>");
		if (m->maint)
			strbuf_addstr(sb, " <span class=\"tag\">maintenance</span>");
		strbuf_addstr(sb, "</th>");
		{
			struct qterm t[] = {{backend ? "backend" : "frontend", g->name},
					    {backend ? "server" : "backend", m->name},
					    {NULL, NULL}};
			num_td_link(h, "requests", m->agg.requests, t);
		}
		if (m->special)
			strbuf_addstr(sb, "<td class=\"num\" data-col=\"share\">&#8211;</td>");
		else
			strbuf_addf(sb, "<td class=\"num\" data-col=\"share\">%.1f%%</td>",
				    m->share);
		if (expect) {
			if (m->expected >= 0) {
				int off = h->r->check_balance >= 0 &&
					  fabs(m->deviation) > h->r->check_balance;
				strbuf_addf(
					sb,
					"<td class=\"num\" data-col=\"expected\">%.1f%%</td>"
					"<td class=\"num%s\" data-col=\"deviation\">%+.1f%s</td>",
					m->expected, off ? " bad" : "", m->deviation,
					off ? " &#9888;" : "");
			} else {
				strbuf_addstr(sb, "<td class=\"num\">&#8211;</td>"
						  "<td class=\"num\">&#8211;</td>");
			}
		}
		num_td(sb, "errors", m->agg.errors);
		if (m->agg.requests)
			strbuf_addf(sb, "<td class=\"num%s\" data-col=\"error-rate\">%.1f%%</td>",
				    m->agg.errors ? " warn" : "",
				    report_pct(m->agg.errors, m->agg.requests));
		else
			strbuf_addstr(sb, "<td class=\"num\" data-col=\"error-rate\">&#8211;</td>");
		num_td(sb, "p50", l->p50);
		num_td(sb, "p90", l->p90);
		num_td(sb, "p99", l->p99);
		num_td(sb, "max", l->max);
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table>\n");
}

static void table_latency(struct html *h, const struct report_group *g)
{
	struct strbuf *sb = h->sb;
	int tcp = report_is_tcp(g->kinds);
	static const char *const what[RT_N] = {"request received", "queued", "connect",
					       "server response", "total"};
	strbuf_addstr(sb,
		      "<table class=\"timers\" data-table=\"timers\"><caption>Timers (ms)"
		      "</caption><thead><tr><th scope=\"col\">timer</th><th scope=\"col\">"
		      "time spent</th>"
		      "<th scope=\"col\" class=\"num\">count</th><th scope=\"col\" class=\"num\">"
		      "p50</th><th scope=\"col\" class=\"num\">p90</th><th scope=\"col\""
		      " class=\"num\">p95</th><th scope=\"col\" class=\"num\">p99</th>"
		      "<th scope=\"col\" class=\"num\">max</th><th scope=\"col\" class=\"num\">"
		      "avg</th></tr></thead><tbody>\n");
	for (int t = 0; t < RT_N; t++) {
		if (tcp && (t == RT_TR || t == RT_TR_RESP))
			continue;
		const struct report_lat *l = &g->lat[t];
		const char *name = report_timer_name((enum rollup_timer)t, tcp);
		strbuf_addf(sb, "<tr data-name=\"%s\"><th scope=\"row\">%s</th><td>%s</td>", name,
			    name, tcp && t == RT_TA ? "session" : what[t]);
		num_td(sb, "count", l->n);
		num_td(sb, "p50", l->p50);
		num_td(sb, "p90", l->p90);
		num_td(sb, "p95", l->p95);
		num_td(sb, "p99", l->p99);
		num_td(sb, "max", l->max);
		if (l->n)
			strbuf_addf(sb, "<td class=\"num\" data-col=\"avg\">%.1f</td>", l->avg);
		else
			strbuf_addstr(sb, "<td class=\"num\" data-col=\"avg\">&#8211;</td>");
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table>\n");
}

static void table_codes_terms(struct html *h, const struct report_group *g)
{
	struct strbuf *sb = h->sb;
	const struct rollup_agg *a = &g->agg;
	if (a->requests && !report_is_tcp(g->kinds)) {
		strbuf_addstr(sb,
			      "<table class=\"codes\" data-table=\"codes\"><caption>Status codes"
			      "</caption><thead><tr><th scope=\"col\">class</th>"
			      "<th scope=\"col\">codes</th><th scope=\"col\" class=\"num\">"
			      "requests</th></tr></thead><tbody>\n");
		for (int k = 0; k < RC_N; k++) {
			if (!a->cls[k])
				continue;
			strbuf_addf(
				sb,
				"<tr data-name=\"%s\"><th scope=\"row\"><span class=\"sw k-%s\">"
				"</span> %s</th><td>",
				class_names[k], class_names[k], class_names[k]);
			const char *sep = "";
			for (size_t i = 0; i < a->ncodes; i++) {
				if (rollup_class_of(a->codes[i].key) != (enum rollup_class)k)
					continue;
				strbuf_addf(sb, "%s%lld&#215;%lld", sep, (long long)a->codes[i].key,
					    (long long)a->codes[i].n);
				sep = ", ";
			}
			strbuf_addstr(sb, "</td>");
			{
				/* "other" (no status) has no status: term */
				struct qterm t[] = {{"backend", g->name},
						    {"status", class_names[k]},
						    {NULL, NULL}};
				if (k == RC_OTHER)
					t[1].field = NULL;
				num_td_link(h, "count", a->cls[k], t);
			}
			strbuf_addstr(sb, "</tr>\n");
		}
		strbuf_addstr(sb, "</tbody></table>\n");
	}
	if (a->nterms) {
		strbuf_addstr(sb, "<table class=\"terms\" data-table=\"terms\"><caption>Termination"
				  " states: how sessions ended</caption><thead><tr>"
				  "<th scope=\"col\">state</th><th scope=\"col\" class=\"num\">"
				  "sessions</th><th scope=\"col\">cause</th><th scope=\"col\">phase"
				  "</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < a->nterms; i++) {
			char c1 = (char)(a->terms[i].key >> 8), c2 = (char)(a->terms[i].key & 0xff);
			char st[3] = {c1, c2, 0};
			int bad = c1 != '-' && c1 != 'L';
			strbuf_addstr(sb,
				      bad ? "<tr class=\"bad\" data-name=\"" : "<tr data-name=\"");
			esc(sb, st);
			strbuf_addstr(sb, "\"><th scope=\"row\"><code>");
			esc(sb, st);
			strbuf_addstr(sb, "</code></th>");
			{
				struct qterm t[] = {{"backend", g->name}, {"state", st}, {NULL, NULL}};
				num_td_link(h, "count", a->terms[i].n, t);
			}
			strbuf_addf(sb, "<td>%s</td><td>%s</td></tr>\n", rollup_term_cause(c1),
				    rollup_term_phase(c2));
		}
		strbuf_addstr(sb, "</tbody></table>\n");
	}
}

static void table_errpaths(struct html *h, const struct report_group *g)
{
	struct strbuf *sb = h->sb;
	if (!g->nerrpaths)
		return;
	strbuf_addstr(sb,
		      "<table class=\"errpaths\" data-table=\"errpaths\"><caption>Top error"
		      " paths</caption><thead><tr><th scope=\"col\" class=\"num\">status</th>"
		      "<th scope=\"col\">meaning</th><th scope=\"col\" class=\"num\">errors</th>"
		      "<th scope=\"col\">path</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < g->nerrpaths; i++) {
		const struct report_errpath *p = &g->errpaths[i];
		strbuf_addstr(sb, "<tr>");
		num_td(sb, "status", p->status);
		strbuf_addf(sb, "<td>%s</td>", status_words(p->status));
		{
			char code[24];
			struct qterm t[4];
			size_t k = 0;
			snprintf(code, sizeof(code), "%lld", (long long)p->status);
			t[k++] = (struct qterm){"backend", g->name};
			if (p->status >= 0)
				t[k++] = (struct qterm){"status", code};
			if (p->path[0])
				t[k++] = (struct qterm){"path", p->path};
			t[k] = (struct qterm){NULL, NULL};
			num_td_link(h, "count", p->n, t);
		}
		strbuf_addstr(sb, "<td class=\"path\"><code>");
		esc(sb, p->path[0] ? p->path : "-");
		strbuf_addstr(sb, "</code></td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table>\n");
}

static void table_events(struct html *h, const struct report_group *g)
{
	struct strbuf *sb = h->sb, tmp = STRBUF_INIT;
	strbuf_addstr(sb, "<table class=\"events\" data-table=\"events\"><caption>Server events"
			  "</caption><thead><tr><th scope=\"col\">time (UTC)</th><th scope=\"col\">"
			  "server</th><th scope=\"col\">state</th><th scope=\"col\">reason</th>"
			  "</tr></thead><tbody>\n");
	if (g->events_dropped)
		strbuf_addf(sb, "<tr><td colspan=\"4\">%lld older events not shown</td></tr>\n",
			    (long long)g->events_dropped);
	for (size_t i = 0; i < g->nevents; i++) {
		const struct report_event *ev = &g->events[i];
		strbuf_reset(&tmp);
		fmt_time(&tmp, ev->ts_ms, 1);
		int nos = ev->kind == LR_NOSRV;
		strbuf_addf(sb, "<tr class=\"%s\" data-name=\"",
			    nos || state_down(ev->state) ? "bad"
			    : state_up(ev->state)	 ? "good"
							 : "");
		esc(sb, nos ? "<NOSRV>" : ev->server);
		strbuf_addf(sb, "\"><td>%s</td><td>", tmp.buf);
		{
			struct qterm t[] = {{"kind", "event"},
					    {"backend", g->name},
					    {"server", ev->server ? ev->server : ""},
					    {NULL, NULL}};
			if (nos || !ev->server)
				t[2].field = NULL;
			int opened = link_open(h, t);
			if (nos)
				strbuf_addstr(sb, "no server available");
			else
				esc(sb, ev->server);
			link_close(h, opened);
		}
		strbuf_addstr(sb, "</td><td data-col=\"state\">");
		if (nos)
			strbuf_addstr(sb, "&#9660; NOSRV");
		else {
			strbuf_addstr(sb, state_down(ev->state) ? "&#9660; "
					  : state_up(ev->state) ? "&#9650; "
								: "");
			esc(sb, ev->state ? ev->state : "-");
		}
		strbuf_addstr(sb, "</td><td>");
		if (ev->reason)
			esc(sb, ev->reason);
		if (ev->info) {
			strbuf_addstr(sb, " (");
			esc(sb, ev->info);
			strbuf_addch(sb, ')');
		}
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table>\n");
	strbuf_release(&tmp);
}

/* ------------------------------------------------------------------------------ page */

static const char css[] =
	":root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;"
	"--ok:#1a7f37;--bad:#b3261e;--warn:#9a5b00;--accent:#0b5cad}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
	"\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
	"header.top{background:#0f2a44;color:#fff;padding:18px 28px 20px}\n"
	"header.top h1{margin:0 0 4px;font-size:24px;font-weight:650}\n"
	"header.top p{margin:0;color:#d5e2f0}\n"
	".wrap{max-width:1180px;margin:0 auto;padding:0 28px}\n"
	".banner{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;"
	"margin:18px 0}\n"
	".card{border:1px solid var(--line);border-radius:8px;padding:10px "
	"14px;background:var(--panel)}\n"
	".card "
	".k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}\n"
	".card .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}\n"
	".card .s{font-size:13px;color:var(--muted)}\n"
	".card.bad{border-color:var(--bad);background:#fdecea}.card.bad .v{color:var(--bad)}\n"
	".card.good{border-color:var(--ok);background:#e9f6ec}.card.good .v{color:var(--ok)}\n"
	"nav.toc{margin:8px 0 0;font-size:14px}nav.toc a{margin-right:14px}\n"
	"a{color:var(--accent)}\n"
	"section.group{border-top:3px solid #0f2a44;margin:28px 0 8px;padding-top:6px}\n"
	"section.group>h2{font-size:21px;margin:4px 0}\n"
	"h2 .mode,.tag{font-size:12px;font-weight:600;border:1px solid "
	"var(--line);border-radius:10px;"
	"padding:1px 8px;color:var(--muted);vertical-align:middle;background:var(--panel)}\n"
	"h3{font-size:16px;margin:20px 0 6px;color:#24292f}\n"
	"p.sum{margin:2px 0 10px;color:var(--muted)}p.sum b{color:var(--fg)}\n"
	".figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(470px,1fr));gap:16px}\n"
	"figure.fig{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px;"
	"break-inside:avoid}\n"
	"figure.wide{grid-column:1/-1}\n"
	"figcaption{font-size:13px;color:var(--muted);margin-top:4px}\n"
	"svg.chart{width:100%;height:auto;display:block;font-size:12px}\n"
	"svg text{fill:#24292f}svg .tick{fill:#57606a;font-size:11px}svg .name{font-weight:600}\n"
	"svg .val{font-size:11.5px;font-variant-numeric:tabular-nums}svg .sm{font-size:10.5px}\n"
	"svg .pn{font-size:10px;fill:#57606a}svg .bad{fill:var(--bad);font-weight:700}\n"
	"svg .grid{stroke:#e3e7eb;stroke-width:1}svg .axis{stroke:#8c959f;stroke-width:1}\n"
	".obs{fill:#0b5cad}.exp{fill:url(#pat-exp);stroke:#5a3e00;stroke-width:1}\n"
	".k-2xx{fill:#2e7d32;background:#2e7d32}.k-3xx{fill:#1f6fb2;background:#1f6fb2}"
	".k-1xx{fill:#8c959f;background:#8c959f}"
	".k-4xx{fill:url(#pat-4xx);background:#e08a00;stroke:#a05a00;stroke-width:.6}"
	".k-5xx{fill:url(#pat-5xx);background:#c62828;stroke:#7f1010;stroke-width:.6}"
	".k-other{fill:url(#pat-oth);background:#6a3d9a;stroke:#4a2a70;stroke-width:.6}"
	".k-ok{fill:#2e7d32}.k-err{fill:url(#pat-5xx);stroke:#7f1010;stroke-width:.6}\n"
	".l-p50{fill:#9ecae1}.l-p90{fill:#4292c6}.l-p99{fill:#08519c}.l-max{fill:#08306b}\n"
	".hbar{fill:#3b7dd8}.errline{fill:none;stroke:#111;stroke-width:1.6;stroke-dasharray:5 3}"
	".errdot{fill:#111}\n"
	".ev-down{fill:#c62828}.ev-up{fill:#1a7f37}.ev-other{fill:#6e7781}"
	".downtime{fill:url(#pat-down)}\n"
	".sw{display:inline-block;width:11px;height:11px;border:1px solid "
	"#0003;vertical-align:-1px}\n"
	"table{border-collapse:collapse;margin:8px 0 14px;font-size:14px;"
	"font-variant-numeric:tabular-nums}\n"
	"caption{text-align:left;font-weight:650;padding:4px 0;color:#24292f}\n"
	"th,td{padding:4px 10px;border-bottom:1px solid "
	"var(--line);text-align:left;vertical-align:top}\n"
	"thead th{background:var(--panel);font-size:12.5px;color:#424a53;border-bottom:2px solid"
	" var(--line)}\n"
	"tbody th{font-weight:600}\n"
	".num{text-align:right}td.bad,tr.bad td:first-child,tr.bad "
	"th{color:var(--bad);font-weight:650}"
	"td.warn{color:var(--warn)}tr.good td:first-child{color:var(--ok)}\n"
	"td.path code{word-break:break-all}\n"
	".tables{display:flex;flex-wrap:wrap;gap:0 28px;align-items:flex-start}\n"
	"details{margin-top:6px;font-size:13px}summary{cursor:pointer;color:var(--accent)}\n"
	"footer{margin:30px 0 40px;color:var(--muted);font-size:13px;border-top:1px solid"
	" var(--line);padding-top:10px}\n"
	".verdict{font-weight:700}.verdict.bad{color:var(--bad)}.verdict.good{color:var(--ok)}\n"
	".figs>*{min-width:0}details{overflow-x:auto}\n"
	"@media (max-width:700px){.figs{grid-template-columns:1fr}.wrap{padding:0 12px}"
	".tables{display:block;overflow-x:auto}section.overview{overflow-x:auto}}\n"
	"@media print{@page{size:A4;margin:12mm}body{font-size:10pt}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	"header.top{background:#fff;color:#000;padding:0 0 6px;border-bottom:2px solid #000}"
	"header.top p{color:#333}nav.toc,summary{display:none}"
	".wrap{max-width:none;padding:0}.figs{grid-template-columns:1fr;gap:8px}"
	".banner{grid-template-columns:repeat(5,1fr);gap:6px;margin:8px 0}.card{padding:6px 8px}"
	".card .v{font-size:15pt}figure.fig{padding:4px 6px}"
	"figure.fig:not(.wide) svg.chart{max-width:600px;margin:0 auto}"
	"section.group{break-before:auto}figure.fig,table,.card{break-inside:avoid}"
	"h2,h3{break-after:avoid}a{color:inherit;text-decoration:none}}\n";

/* The fill patterns the charts share: hatching keeps classes apart without colour. */
static const char defs[] =
	"<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\""
	" focusable=\"false\"><defs>"
	"<pattern id=\"pat-4xx\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
	" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f0a030\"/>"
	"<rect width=\"2.2\" height=\"6\" fill=\"#a05a00\"/></pattern>"
	"<pattern id=\"pat-5xx\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
	"<rect width=\"6\" height=\"6\" fill=\"#d32f2f\"/><path d=\"M0 0L6 6M6 0L0 6\""
	" stroke=\"#6d0b0b\" stroke-width=\"1.2\"/></pattern>"
	"<pattern id=\"pat-oth\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
	"<rect width=\"5\" height=\"5\" fill=\"#8e63c0\"/><circle cx=\"2.5\" cy=\"2.5\" r=\"1.1\""
	" fill=\"#2e1a4a\"/></pattern>"
	"<pattern id=\"pat-exp\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\""
	" patternTransform=\"rotate(-45)\"><rect width=\"5\" height=\"5\" fill=\"#fff4d6\"/>"
	"<rect width=\"2\" height=\"5\" fill=\"#b07d10\"/></pattern>"
	"<pattern id=\"pat-down\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\""
	" patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#fbe3e1\"/>"
	"<rect width=\"3\" height=\"8\" fill=\"#f1a9a3\"/></pattern>"
	"</defs></svg>\n";

static int64_t traffic_total(const struct report *r, int errors)
{
	int64_t n = 0;
	/* every request has a frontend; backends only when no frontend row was read */
	const struct report_group *g = r->nfrontends ? r->frontends : r->backends;
	size_t ng = r->nfrontends ? r->nfrontends : r->nbackends;
	for (size_t i = 0; i < ng; i++)
		n += errors ? g[i].agg.errors : g[i].agg.requests;
	return n;
}

static void write_banner(struct html *h)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb, tmp = STRBUF_INIT;
	int64_t req = traffic_total(r, 0), err = traffic_total(r, 1);
	strbuf_addstr(sb, "<div class=\"banner\" role=\"region\" aria-label=\"Summary\">\n");
	strbuf_addf(sb,
		    "<div class=\"card\" data-card=\"requests\"><div class=\"k\">requests</div>"
		    "<div class=\"v\">%lld</div><div class=\"s\">%zu frontend%s, %zu backend%s"
		    "</div></div>\n",
		    (long long)req, r->nfrontends, r->nfrontends == 1 ? "" : "s", r->nbackends,
		    r->nbackends == 1 ? "" : "s");
	strbuf_addf(sb,
		    "<div class=\"card%s\" data-card=\"errors\"><div class=\"k\">error rate</div>"
		    "<div class=\"v\">%.1f%%</div><div class=\"s\">%lld error%s</div></div>\n",
		    err ? " bad" : "", report_pct(err, req), (long long)err, err == 1 ? "" : "s");
	strbuf_addstr(sb, "<div class=\"card\" data-card=\"span\"><div class=\"k\">time span</div>"
			  "<div class=\"v\">");
	if (r->first_ms != LR_NONE) {
		report_fmt_dur(sb, r->last_ms - r->first_ms, REPORT_DUR_WORDS);
		strbuf_addstr(sb, "</div><div class=\"s\">");
		fmt_time(sb, r->first_ms, 0);
		strbuf_addstr(sb, " &#8594; ");
		fmt_time(&tmp, r->last_ms, 0);
		/* the same day: only the time */
		if (!strncmp(tmp.buf, sb->buf + sb->len - 19 - 9, 10))
			strbuf_addstr(sb, tmp.buf + 11);
		else
			strbuf_addstr(sb, tmp.buf);
		strbuf_addstr(sb, " UTC");
	} else {
		strbuf_addstr(sb, "&#8211;</div><div class=\"s\">no lines");
	}
	strbuf_addstr(sb, "</div></div>\n");
	strbuf_addf(sb,
		    "<div class=\"card\" data-card=\"lines\"><div class=\"k\">log lines</div>"
		    "<div class=\"v\">%lld</div><div class=\"s\">%lld parsed, %lld unparsed"
		    "</div></div>\n",
		    (long long)r->lines_total, (long long)r->lines_parsed,
		    (long long)r->lines_unparsed);
	/* balance */
	const char *cls = "", *v = "not checked";
	strbuf_reset(&tmp);
	double worst = 0;
	const struct report_group *wg = NULL;
	for (size_t i = 0; i < r->nbackends; i++)
		if (r->backends[i].balance_checked &&
		    (!wg || r->backends[i].max_deviation > worst)) {
			worst = r->backends[i].max_deviation;
			wg = &r->backends[i];
		}
	int over = 0;
	for (size_t i = 0; i < r->nbackends; i++)
		over += r->backends[i].balance_failed;
	if (r->check_balance >= 0) {
		cls = r->balance_failed ? " bad" : " good";
		v = r->balance_failed ? "FAILED" : "ok";
		if (over)
			strbuf_addf(&tmp, "%d backend%s over %.1f points", over, over > 1 ? "s" : "",
				    r->check_balance);
		else if (!r->nunlisted && !r->nidle)
			strbuf_addf(&tmp, "every backend within %.1f points", r->check_balance);
		else
			strbuf_addf(&tmp, "no backend over %.1f points", r->check_balance);
	} else if (wg) {
		v = "not gated";
		strbuf_addf(&tmp, "largest deviation %.1f points", worst);
	} else {
		strbuf_addstr(&tmp, r->inventory ? "no backend of the inventory seen"
						 : "no inventory given");
	}
	strbuf_addf(sb,
		    "<div class=\"card%s\" data-card=\"balance\"><div class=\"k\">balance check"
		    "</div><div class=\"v\">%s</div><div class=\"s\">",
		    cls, v);
	esc(sb, tmp.buf);
	if (wg && wg->worst) {
		strbuf_addstr(sb, " (");
		esc(sb, wg->name);
		strbuf_addstr(sb, " / ");
		esc(sb, wg->worst);
		strbuf_addch(sb, ')');
	}
	/* the inventory's gaps: backends it does not list, services without traffic */
	strbuf_reset(&tmp);
	if (r->nunlisted)
		strbuf_addf(&tmp, "; %zu backend%s not in the inventory", r->nunlisted,
			    r->nunlisted > 1 ? "s" : "");
	for (size_t i = 0; i < r->nidle; i++)
		strbuf_addf(&tmp, "%s%s", i ? ", " : "; no traffic: ", r->idle[i]);
	if (tmp.len)
		esc(sb, tmp.buf);
	strbuf_addstr(sb, "</div></div>\n</div>\n");
	strbuf_release(&tmp);
}

static void write_overview(struct html *h)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb;
	if (!r->nbackends)
		return;
	strbuf_addstr(sb, "<section class=\"overview\" id=\"overview\"><h2>Overview</h2>\n");
	if (h->t0 != LR_NONE) {
		struct series s;
		if (!series_load(h, NULL, NULL, &s)) {
			strbuf_addstr(sb, "<div class=\"figs\">");
			chart_status_time(h, &s, "All traffic", 0, 1);
			strbuf_addstr(sb, "</div>\n");
		}
		series_release(&s);
	}
	strbuf_addstr(sb,
		      "<table class=\"backends\" data-table=\"backends\"><caption>Backends"
		      "</caption><thead><tr><th scope=\"col\">backend</th><th scope=\"col\">"
		      "mode</th><th scope=\"col\" class=\"num\">requests</th><th scope=\"col\""
		      " class=\"num\">errors</th><th scope=\"col\" class=\"num\">error rate</th>"
		      "<th scope=\"col\" class=\"num\">p50 ms</th><th scope=\"col\" class=\"num\">"
		      "p99 ms</th><th scope=\"col\" class=\"num\">events</th><th scope=\"col\">"
		      "balance</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < r->nbackends; i++) {
		const struct report_group *g = &r->backends[i];
		strbuf_addstr(sb, "<tr data-name=\"");
		esc(sb, g->name);
		strbuf_addf(sb, "\"><th scope=\"row\"><a href=\"#be-%zu\">", i);
		esc(sb, g->name);
		strbuf_addf(sb, "</a></th><td>%s</td>", report_mode(g->kinds));
		{
			struct qterm t[] = {{"backend", g->name}, {NULL, NULL}};
			num_td_link(h, "requests", g->agg.requests, t);
		}
		num_td(sb, "errors", g->agg.errors);
		if (g->agg.requests)
			strbuf_addf(sb, "<td class=\"num%s\" data-col=\"error-rate\">%.1f%%</td>",
				    g->agg.errors ? " warn" : "",
				    report_pct(g->agg.errors, g->agg.requests));
		else
			strbuf_addstr(sb, "<td class=\"num\" data-col=\"error-rate\">&#8211;</td>");
		num_td(sb, "p50", g->lat[RT_TA].p50);
		num_td(sb, "p99", g->lat[RT_TA].p99);
		num_td(sb, "events", (int64_t)g->nevents);
		if (g->unlisted)
			strbuf_addf(sb, "<td%s>not in the inventory</td>",
				    report_unlisted_fail(r) ? " class=\"bad\"" : "");
		else if (!g->balance_checked)
			strbuf_addstr(sb, "<td>&#8211;</td>");
		else if (g->balance_failed)
			strbuf_addf(sb, "<td class=\"bad\">&#9888; off by %.1f pts</td>",
				    g->max_deviation);
		else
			strbuf_addf(sb, "<td>max %.1f pts</td>", g->max_deviation);
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></section>\n");
}

/* A ranked section (paths, clients) as one table, in its rank order. */
static void write_ranked(struct html *h, const struct report_table *t)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb;
	struct report_words wd;
	report_table_words(r, t, &wd);
	int paths = wd.paths;
	const char *id = wd.id;
	const char *what = wd.what;
	strbuf_addf(sb,
		    "<section class=\"ranked\" id=\"%s\"><h2>%s</h2>\n<p>%zu of %lld %s, by %s;"
		    " %lld requests%s. Times in ms, exact (nearest rank).</p>\n",
		    id, wd.title, t->nrows, (long long)t->distinct, what,
		    report_sort_names[t->sort], (long long)t->requests,
		    paths ? (r->paths_folded ? "; ids folded to {num}, {uuid}, {hex}" : "; as logged")
			  : "");
	strbuf_addf(sb,
		    "<table class=\"ranked\" data-table=\"%s\"><caption>%s</caption><thead><tr>"
		    "<th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">requests</th>"
		    "<th scope=\"col\" class=\"num\">errors</th><th scope=\"col\" class=\"num\">"
		    "error rate</th><th scope=\"col\" class=\"num\">Ta p50</th><th scope=\"col\""
		    " class=\"num\">p95</th><th scope=\"col\" class=\"num\">p99</th>"
		    "<th scope=\"col\" class=\"num\">max</th><th scope=\"col\" class=\"num\">"
		    "total time</th><th scope=\"col\" class=\"num\">bytes</th></tr></thead>"
		    "<tbody>\n",
		    id, wd.title, wd.key);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct report_row *w = &t->rows[i];
		strbuf_addstr(sb, "<tr data-name=\"");
		esc(sb, w->key);
		strbuf_addstr(sb, "\"><th scope=\"row\" class=\"path\"><code>");
		esc(sb, w->key);
		strbuf_addstr(sb, "</code></th>");
		num_td(sb, "requests", w->requests);
		num_td(sb, "errors", w->errors);
		strbuf_addf(sb, "<td class=\"num%s\" data-col=\"error-rate\">%.1f%%</td>",
			    w->errors ? " warn" : "", report_pct(w->errors, w->requests));
		num_td(sb, "p50", w->p50);
		num_td(sb, "p95", w->p95);
		num_td(sb, "p99", w->p99);
		num_td(sb, "max", w->max);
		strbuf_addstr(sb, "<td class=\"num\" data-col=\"time\">");
		report_fmt_dur(sb, w->ta_sum, REPORT_DUR_WORDS);
		strbuf_addstr(sb, "</td>");
		num_td(sb, "bytes", w->bytes);
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></section>\n");
}

/* The series section: one row per bucket (the charts above draw the status classes). */
static void write_buckets(struct html *h, const struct report_series *s)
{
	struct strbuf *sb = h->sb;
	strbuf_addf(sb, "<section class=\"ranked\" id=\"series\"><h2>Series</h2>\n<p>%zu buckets of ",
		    s->nbins);
	bin_width_words(sb, s->bucket_ms);
	strbuf_addf(sb, ", %s.</p>\n",
		    s->exact ? "from the request records, exact" : "from the rollups");
	strbuf_addstr(sb, "<table class=\"ranked\" data-table=\"buckets\"><caption>Requests per"
			  " bucket</caption><thead><tr><th scope=\"col\">time (UTC)</th>"
			  "<th scope=\"col\" class=\"num\">requests</th><th scope=\"col\""
			  " class=\"num\">errors</th><th scope=\"col\" class=\"num\">error rate</th>"
			  "<th scope=\"col\" class=\"num\">Ta p95</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < s->nbins; i++) {
		const struct report_bin *b = &s->bins[i];
		strbuf_addf(sb, "<tr data-t=\"%lld\"><th scope=\"row\">", (long long)b->t_ms);
		fmt_time(sb, b->t_ms, 1);
		strbuf_addstr(sb, "</th>");
		num_td(sb, "requests", b->requests);
		num_td(sb, "errors", b->errors);
		strbuf_addf(sb, "<td class=\"num%s\" data-col=\"error-rate\">%.1f%%</td>",
			    b->errors ? " warn" : "", report_pct(b->errors, b->requests));
		num_td(sb, "p95", b->p95);
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></section>\n");
}

/* The slowest requests: one table, backend by backend, each row with its stored line. */
static void write_slowest(struct html *h)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb;
	strbuf_addf(sb,
		    "<section class=\"ranked\" id=\"slowest\"><h2>Slowest requests</h2>\n<p>%zu"
		    " per backend, by Ta (Tt for TCP), with the line as stored.</p>\n",
		    r->slowest_top);
	strbuf_addstr(sb, "<table class=\"ranked\" data-table=\"slowest\"><caption>Slowest"
			  " requests</caption><thead><tr><th scope=\"col\">backend</th>"
			  "<th scope=\"col\" class=\"num\">Ta ms</th><th scope=\"col\">time (UTC)"
			  "</th><th scope=\"col\">server</th><th scope=\"col\" class=\"num\">status"
			  "</th><th scope=\"col\">term</th><th scope=\"col\">line</th></tr></thead>"
			  "<tbody>\n");
	for (size_t i = 0; i < r->nslowest; i++) {
		const struct report_slow_group *g = &r->slowest[i];
		for (size_t j = 0; j < g->nrows; j++) {
			const struct report_slow *w = &g->rows[j];
			strbuf_addstr(sb, "<tr data-name=\"");
			esc(sb, g->backend);
			strbuf_addstr(sb, "\"><th scope=\"row\">");
			esc(sb, g->backend);
			strbuf_addstr(sb, "</th>");
			num_td(sb, "ta", w->ta);
			strbuf_addstr(sb, "<td>");
			fmt_time(sb, w->ts_ms, 1);
			strbuf_addstr(sb, "</td><td>");
			esc(sb, w->server ? w->server : "-");
			strbuf_addstr(sb, "</td>");
			num_td(sb, "status", w->status);
			strbuf_addstr(sb, "<td><code>");
			esc(sb, w->term[0] ? w->term : "-");
			strbuf_addstr(sb, "</code></td><td class=\"path\"><code>");
			/* the line may hold NULs: esc stops at the first, as the text writers do */
			esc(sb, w->line ? w->line : "");
			strbuf_addstr(sb, "</code></td></tr>\n");
		}
	}
	strbuf_addstr(sb, "</tbody></table></section>\n");
}

/* Connection errors: one table, by frontend and bind. */
static void write_connerrs(struct html *h)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb;
	strbuf_addf(sb,
		    "<section class=\"ranked\" id=\"conn-errors\"><h2>Connection errors</h2>\n"
		    "<p>%lld connection errors (TLS handshakes, PROXY headers …) by frontend and"
		    " bind.</p>\n",
		    (long long)r->connerrs_total);
	strbuf_addstr(sb, "<table class=\"ranked\" data-table=\"conn-errors\"><caption>Connection"
			  " errors</caption><thead><tr><th scope=\"col\">frontend</th><th scope="
			  "\"col\">bind</th><th scope=\"col\" class=\"num\">count</th><th scope="
			  "\"col\">message</th><th scope=\"col\">first (UTC)</th><th scope=\"col\">"
			  "last</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < r->nconnerrs; i++) {
		const struct report_connerr *ce = &r->connerrs[i];
		strbuf_addstr(sb, "<tr data-name=\"");
		esc(sb, ce->frontend);
		strbuf_addstr(sb, "\"><th scope=\"row\">");
		esc(sb, ce->frontend);
		strbuf_addstr(sb, "</th><td>");
		esc(sb, ce->bind);
		strbuf_addstr(sb, "</td>");
		num_td(sb, "count", ce->n);
		strbuf_addstr(sb, "<td>");
		esc(sb, ce->message);
		strbuf_addstr(sb, "</td><td>");
		fmt_time(sb, ce->first_ms, 1);
		strbuf_addstr(sb, "</td><td>");
		fmt_time(sb, ce->last_ms, 1);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></section>\n");
}

/* --compare: one row per backend, then its servers; a flagged row carries class "warn". */
static void write_compare(struct html *h)
{
	const struct report_compare *c = &h->r->compare;
	struct strbuf *sb = h->sb;
	char w0[96], w1[96], fl[64];
	report_cmp_window(c->since[0], c->until[0], w0, sizeof(w0));
	report_cmp_window(c->since[1], c->until[1], w1, sizeof(w1));
	strbuf_addstr(sb, "<section class=\"ranked\" id=\"compare\"><h2>Compare</h2>\n<p>");
	esc(sb, w0);
	strbuf_addstr(sb, " against ");
	esc(sb, w1);
	strbuf_addf(sb, ": %zu significant change%s (share and error rate: two-proportion test,"
			" |z| &#8805; 3; p95: &#215;1.5 and 50 ms).</p>\n",
		    c->nflagged, c->nflagged == 1 ? "" : "s");
	strbuf_addstr(sb, "<table class=\"ranked\" data-table=\"compare\"><caption>Compare"
			  "</caption><thead><tr><th scope=\"col\">backend / server</th>"
			  "<th scope=\"col\" class=\"num\">requests</th><th scope=\"col\""
			  " class=\"num\">baseline</th><th scope=\"col\" class=\"num\">share</th>"
			  "<th scope=\"col\" class=\"num\">baseline</th><th scope=\"col\""
			  " class=\"num\">error rate</th><th scope=\"col\" class=\"num\">"
			  "baseline</th><th scope=\"col\" class=\"num\">Ta p95</th><th scope="
			  "\"col\" class=\"num\">baseline</th><th scope=\"col\">flags</th></tr>"
			  "</thead><tbody>\n");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct report_cmp_row *w = &c->rows[i];
		report_cmp_flag_words(w->flags, fl, sizeof(fl));
		strbuf_addstr(sb, "<tr data-name=\"");
		esc(sb, w->backend);
		if (w->server) {
			strbuf_addch(sb, '/');
			esc(sb, w->server);
		}
		strbuf_addf(sb, "\"%s><th scope=\"row\">%s", fl[0] ? " class=\"warn\"" : "",
			    w->server ? "&#160;&#160;" : "");
		esc(sb, w->server ? w->server : w->backend);
		strbuf_addstr(sb, "</th>");
		num_td(sb, "requests", w->req[0]);
		num_td(sb, "base-requests", w->req[1]);
		for (int s = 0; s < 2; s++) {
			strbuf_addf(sb, "<td class=\"num\" data-col=\"%sshare\">", s ? "base-" : "");
			if (w->share[s] >= 0)
				strbuf_addf(sb, "%.1f%%", w->share[s]);
			else
				strbuf_addstr(sb, "&#8211;");
			strbuf_addstr(sb, "</td>");
		}
		for (int s = 0; s < 2; s++) {
			strbuf_addf(sb, "<td class=\"num\" data-col=\"%serror-rate\">",
				    s ? "base-" : "");
			if (w->req[s])
				strbuf_addf(sb, "%.1f%%", report_pct(w->err[s], w->req[s]));
			else
				strbuf_addstr(sb, "&#8211;");
			strbuf_addstr(sb, "</td>");
		}
		num_td(sb, "p95", w->p95[0]);
		num_td(sb, "base-p95", w->p95[1]);
		strbuf_addstr(sb, "<td data-col=\"flags\">");
		esc(sb, fl);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></section>\n");
}

static void write_group(struct html *h, const struct report_group *g, size_t idx, int backend)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb;
	const struct rollup_agg *a = &g->agg;
	int tcp = report_is_tcp(g->kinds);
	strbuf_addf(sb, "<section class=\"group\" id=\"%s-%zu\" data-kind=\"%s\" data-name=\"",
		    backend ? "be" : "fe", idx, backend ? "backend" : "frontend");
	esc(sb, g->name);
	strbuf_addf(sb, "\">\n<h2>%s <code>", backend ? "Backend" : "Frontend");
	esc(sb, g->name);
	strbuf_addf(sb, "</code> <span class=\"mode\">%s</span></h2>\n", report_mode(g->kinds));
	if (!a->requests)
		strbuf_addstr(sb, "<p class=\"sum\">No requests.</p>\n");
	else {
		strbuf_addf(sb,
			    "<p class=\"sum\"><b data-sum=\"requests\">%lld</b> requests, "
			    "<b data-sum=\"errors\">%lld</b> errors (%.1f%%)",
			    (long long)a->requests, (long long)a->errors,
			    report_pct(a->errors, a->requests));
		if (a->retries || a->redispatches)
			strbuf_addf(sb, ", %lld retries, %lld redispatches", (long long)a->retries,
				    (long long)a->redispatches);
		if (g->lat[RT_TA].n)
			strbuf_addf(sb, "; %s p50 %lld ms, p99 %lld ms", tcp ? "Tt" : "Ta",
				    (long long)g->lat[RT_TA].p50, (long long)g->lat[RT_TA].p99);
		strbuf_addstr(sb, ".");
		if (backend && g->balance_checked) {
			strbuf_addf(sb, " Balance: largest deviation %.1f points (",
				    g->max_deviation);
			esc(sb, g->worst ? g->worst : "-");
			strbuf_addch(sb, ')');
			if (r->check_balance >= 0)
				strbuf_addf(sb,
					    ", <span class=\"verdict %s\">%s the %.1f limit</span>",
					    g->balance_failed ? "bad" : "good",
					    g->balance_failed ? "&#9888; OVER" : "&#10003; within",
					    r->check_balance);
			strbuf_addch(sb, '.');
		}
		strbuf_addstr(sb, "</p>\n");
	}
	/* where requests went, how it went over time, how slow */
	strbuf_addstr(sb, "<div class=\"figs\">\n");
	chart_shares(h, g, backend);
	chart_latency(h, g, backend);
	if (h->t0 != LR_NONE && a->requests) {
		struct series s;
		struct strbuf what = STRBUF_INIT;
		strbuf_addf(&what, "%s ", backend ? "Backend" : "Frontend");
		text_add_visible(&what, g->name, strlen(g->name));
		if (!series_load(h, backend ? NULL : g->name, backend ? g->name : NULL, &s))
			chart_status_time(h, &s, what.buf, tcp, 0);
		series_release(&s);
		strbuf_release(&what);
	}
	chart_histogram(h, g, backend);
	if (backend)
		chart_events(h, g);
	strbuf_addstr(sb, "</div>\n");
	strbuf_addstr(sb, "<div class=\"tables\">\n");
	table_members(h, g, backend);
	if (a->requests)
		table_latency(h, g);
	strbuf_addstr(sb, "</div>\n");
	if (g->nerrpaths || a->nterms || a->ncodes) {
		strbuf_addstr(sb,
			      "<h3>Errors and how sessions ended</h3>\n<div class=\"tables\">\n");
		table_errpaths(h, g);
		table_codes_terms(h, g);
		strbuf_addstr(sb, "</div>\n");
	}
	if (g->nevents)
		table_events(h, g);
	strbuf_addstr(sb, "</section>\n");
}

static void write_page(struct html *h)
{
	const struct report *r = h->r;
	struct strbuf *sb = h->sb, tmp = STRBUF_INIT;
	strbuf_addstr(sb,
		      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
		      " style-src 'unsafe-inline'; img-src data:\">\n"
		      "<link rel=\"icon\" href=\"data:,\">\n<title>halog report");
	if (r->first_ms != LR_NONE) {
		strbuf_addstr(sb, ": ");
		fmt_time(sb, r->first_ms, 0);
		strbuf_addstr(sb, " UTC");
	}
	strbuf_addf(sb, "</title>\n<style>\n%s</style>\n</head>\n<body>\n%s", css, defs);
	strbuf_addstr(sb, "<header class=\"top\"><div class=\"wrap\"><h1>halog report</h1><p>");
	if (r->first_ms != LR_NONE) {
		fmt_time(sb, r->first_ms, 1);
		strbuf_addstr(sb, " &#8594; ");
		fmt_time(sb, r->last_ms, 1);
		strbuf_addstr(sb, " UTC");
	} else {
		strbuf_addstr(sb, "no lines");
	}
	if (r->from_ms != LR_NONE || r->to_ms != LR_NONE) {
		strbuf_addstr(sb, " &#183; window");
		if (r->from_ms != LR_NONE) {
			strbuf_addstr(sb, " from ");
			fmt_time(sb, r->from_ms, 0);
		}
		if (r->to_ms != LR_NONE) {
			strbuf_addstr(sb, " until ");
			fmt_time(sb, r->to_ms, 0);
		}
		strbuf_addstr(sb, r->window_exact ? " (exact)" : " (whole minutes)");
	}
	if (r->frontend) {
		strbuf_addstr(sb, " &#183; frontend <code>");
		esc(sb, r->frontend);
		strbuf_addstr(sb, "</code>");
	}
	if (r->backend) {
		strbuf_addstr(sb, " &#183; backend <code>");
		esc(sb, r->backend);
		strbuf_addstr(sb, "</code>");
	}
	if (r->min_ta > 0)
		strbuf_addf(sb, " &#183; Ta &#8805; %lld ms", (long long)r->min_ta);
	if (r->min_tw > 0)
		strbuf_addf(sb, " &#183; Tw &#8805; %lld ms", (long long)r->min_tw);
	strbuf_addstr(sb, "</p></div></header>\n<main class=\"wrap\">\n");
	/* the banner sums the backends section: without it, the sections' own totals say it */
	if (!r->sections || (r->sections & REPORT_SEC_BACKENDS))
		write_banner(h);
	if (r->nbackends || r->nfrontends || r->paths.on || r->clients.on || r->series.on ||
	    (r->sections &
	     (REPORT_SEC_SLOWEST | REPORT_SEC_CONNERRS | REPORT_SEC_HEADERS | REPORT_SEC_COMPARE))) {
		strbuf_addstr(sb, "<nav class=\"toc\" aria-label=\"Sections\">");
		if (r->nbackends)
			strbuf_addstr(sb, "<a href=\"#overview\">Overview</a>");
		if (r->paths.on)
			strbuf_addstr(sb, "<a href=\"#paths\">Paths</a>");
		if (r->clients.on)
			strbuf_addstr(sb, "<a href=\"#clients\">Clients</a>");
		if (r->sections & REPORT_SEC_HEADERS)
			strbuf_addf(sb, "<a href=\"#%s\">Headers</a>",
				    r->nheaders ? (r->headers[0].response ? "resp-header-1"
									  : "req-header-1")
						: "headers");
		if (r->series.on)
			strbuf_addstr(sb, "<a href=\"#series\">Series</a>");
		if (r->sections & REPORT_SEC_SLOWEST)
			strbuf_addstr(sb, "<a href=\"#slowest\">Slowest</a>");
		if (r->sections & REPORT_SEC_CONNERRS)
			strbuf_addstr(sb, "<a href=\"#conn-errors\">Connection errors</a>");
		if (r->sections & REPORT_SEC_COMPARE)
			strbuf_addstr(sb, "<a href=\"#compare\">Compare</a>");
		for (size_t i = 0; i < r->nbackends; i++) {
			strbuf_addf(sb, "<a href=\"#be-%zu\">", i);
			esc(sb, r->backends[i].name);
			strbuf_addstr(sb, "</a>");
		}
		for (size_t i = 0; i < r->nfrontends; i++) {
			strbuf_addf(sb, "<a href=\"#fe-%zu\">frontend ", i);
			esc(sb, r->frontends[i].name);
			strbuf_addstr(sb, "</a>");
		}
		strbuf_addstr(sb, "</nav>\n");
	}
	write_overview(h);
	if (r->paths.on)
		write_ranked(h, &r->paths);
	if (r->clients.on)
		write_ranked(h, &r->clients);
	if ((r->sections & REPORT_SEC_HEADERS) && !r->nheaders)
		strbuf_addstr(sb, "<section class=\"ranked\" id=\"headers\"><h2>Headers</h2>\n"
				  "<p>None captured in the window.</p></section>\n");
	for (size_t i = 0; (r->sections & REPORT_SEC_HEADERS) && i < r->nheaders; i++)
		write_ranked(h, &r->headers[i].t);
	if (r->series.on)
		write_buckets(h, &r->series);
	if (r->sections & REPORT_SEC_SLOWEST)
		write_slowest(h);
	if (r->sections & REPORT_SEC_CONNERRS)
		write_connerrs(h);
	if (r->sections & REPORT_SEC_COMPARE)
		write_compare(h);
	for (size_t i = 0; i < r->nbackends && !h->failed; i++)
		write_group(h, &r->backends[i], i, 1);
	for (size_t i = 0; i < r->nfrontends && !h->failed; i++)
		write_group(h, &r->frontends[i], i, 0);
	/* footer: lines by kind, listener counters */
	strbuf_addstr(sb, "<footer><p>Lines by kind:");
	const char *sep = " ";
	for (int k = 0; k < LR_KIND_MAX; k++) {
		if (!r->by_kind[k])
			continue;
		strbuf_addf(sb, "%s%s %lld", sep, lr_kind_name((enum lr_kind)k),
			    (long long)r->by_kind[k]);
		sep = ", ";
	}
	if (*sep == ' ')
		strbuf_addstr(sb, " none");
	if (r->lines_partial)
		strbuf_addf(sb, "; %lld partial", (long long)r->lines_partial);
	if (r->lines_truncated)
		strbuf_addf(sb, "; %lld truncated", (long long)r->lines_truncated);
	strbuf_addstr(sb, ".");
	if (r->ncounters) {
		strbuf_addstr(sb, " Counters:");
		for (size_t i = 0; i < r->ncounters; i++) {
			strbuf_addstr(sb, i ? ", " : " ");
			esc(sb, r->counters[i].name);
			strbuf_addf(sb, " %lld", (long long)r->counters[i].value);
		}
		strbuf_addch(sb, '.');
	}
	strbuf_addf(sb,
		    "</p><p>Written by halog %s report --format html. Times are UTC."
		    " Errors follow halog's rule (docs/halog-report.md): a 5xx or missing"
		    " status, a bad request, an abnormal termination state, or retries on the"
		    " logged server.</p></footer>\n",
		    HAGEN_VERSION);
	strbuf_addstr(sb, "</main>\n</body>\n</html>\n");
	strbuf_release(&tmp);
}

/* Writes the page into sb; rd may be NULL. Returns 0, or -1 with a message in err. */
static int html_page(struct store_reader *rd, const struct report *r,
		     const struct report_html_opts *opts, struct strbuf *sb, char *err,
		     size_t errsz)
{
	struct html h;
	int began = 0;
	char dummy[8];
	memset(&h, 0, sizeof(h));
	h.sb = sb;
	h.rd = rd;
	h.r = r;
	h.opts = opts;
	h.err = err && errsz ? err : dummy;
	h.errsz = err && errsz ? errsz : sizeof(dummy);
	h.err[0] = '\0';
	/* one snapshot for every read, as report_build has */
	if (rd && !store_snapshot_begin(rd))
		began = 1;
	choose_bins(&h);
	write_page(&h);
	if (began)
		store_snapshot_end(rd);
	return h.failed ? -1 : 0;
}

int report_html(const struct report *r, struct strbuf *sb)
{
	return html_page(NULL, r, NULL, sb, NULL, 0);
}

int report_html_write(struct store_reader *rd, const struct report *r, FILE *fp, char *err,
		      size_t errsz)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = -1;
	if (html_page(rd, r, NULL, &sb, err, errsz))
		goto out;
	if (fwrite(sb.buf, 1, sb.len, fp) != sb.len || fflush(fp)) {
		if (err && errsz)
			snprintf(err, errsz, "%s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

int report_html_page(struct store_reader *rd, const struct report *r,
		     const struct report_html_opts *opts, struct strbuf *sb, char *err,
		     size_t errsz)
{
	return html_page(rd, r, opts, sb, err, errsz);
}
