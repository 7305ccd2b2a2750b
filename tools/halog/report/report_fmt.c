/* halog report's writers: text (80 columns), JSON (schema in docs/halog-report.md), CSV and
 * Markdown, from a struct report. Names from logs pass through json.h escaping (JSON) or the
 * terminal-safe filter (text, CSV, Markdown), so no log byte can break the output. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"
#include "report/report.h"
#include "strbuf.h"

#define W_NAME 14 /* name column of the text tables */

static const char *const class_names[RC_N] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

int report_format_parse(const char *s, enum report_format *f)
{
	if (!strcmp(s, "text"))
		*f = REPORT_TEXT;
	else if (!strcmp(s, "json"))
		*f = REPORT_JSON;
	else if (!strcmp(s, "csv"))
		*f = REPORT_CSV;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*f = REPORT_MARKDOWN;
	else if (!strcmp(s, "html"))
		*f = REPORT_HTML;
	else
		return -1;
	return 0;
}

/* The sections r holds: a report built by hand (sections 0) holds the backends. */
static unsigned secs(const struct report *r)
{
	return r->sections ? r->sections : REPORT_SEC_BACKENDS;
}

/* A name made safe for a terminal, cut to width (with a trailing '~' when cut). */
static const char *vis(struct strbuf *tmp, const char *s, size_t width)
{
	strbuf_reset(tmp);
	text_add_visible(tmp, s, strlen(s));
	/* width counts display columns, and the cut falls on a character boundary: a multi-byte
	 * character is never split, and a wide one counts two columns */
	if (width && utf8_width(tmp->buf, tmp->len) > width) {
		strbuf_setlen(tmp, utf8_fit(tmp->buf, tmp->len, width - 1, NULL));
		strbuf_addch(tmp, '~');
	}
	return tmp->buf;
}

/* vis(), then padded with spaces to exactly width columns (printf's %-*s counts bytes). */
static const char *vis_pad(struct strbuf *tmp, const char *s, size_t width)
{
	size_t w;

	vis(tmp, s, width);
	for (w = utf8_width(tmp->buf, tmp->len); w < width; w++)
		strbuf_addch(tmp, ' ');
	return tmp->buf;
}

/* Appends line to sb cut to width columns (UTF-8 characters), with '~' marking a cut. */
static void add_fit(struct strbuf *sb, const struct strbuf *line, size_t width)
{
	size_t cols = 0, i = 0, cut = 0;
	while (i < line->len) {
		size_t n = 1;
		unsigned char c = (unsigned char)line->buf[i];
		if (c >= 0xc0)
			while (i + n < line->len &&
			       ((unsigned char)line->buf[i + n] & 0xc0) == 0x80)
				n++;
		if (cols == width - 1)
			cut = i;
		if (++cols > width) {
			strbuf_add(sb, line->buf, cut);
			strbuf_addch(sb, '~');
			return;
		}
		i += n;
	}
	strbuf_add(sb, line->buf, line->len);
}

/* Appends item to a list line after lead (" " or ", "), or, when it would pass 80 columns,
 * on a new line indented by cont (a comma in lead stays at the end of the line). */
static void wrap_item(struct strbuf *sb, size_t *col, const char *cont, const char *lead,
		      const char *item)
{
	size_t n = strlen(item), l = strlen(lead);
	if (*col + l + n > 80 && *col > strlen(cont)) {
		if (lead[0] == ',')
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '\n');
		strbuf_addstr(sb, cont);
		*col = strlen(cont);
	} else {
		strbuf_addstr(sb, lead);
		*col += l;
	}
	strbuf_addstr(sb, item);
	*col += n;
}

static void num_or_dash(struct strbuf *sb, int width, int64_t v)
{
	if (v < 0)
		strbuf_addf(sb, "%*s", width, "-");
	else
		strbuf_addf(sb, "%*lld", width, (long long)v);
}

static void term_words(struct strbuf *sb, int64_t key)
{
	char c1 = (char)(key >> 8), c2 = (char)(key & 0xff);
	strbuf_addf(sb, "%s, %s", rollup_term_cause(c1), rollup_term_phase(c2));
}

/* ------------------------------------------------------------------------------ text */

static void text_header(struct strbuf *sb, const struct report *r)
{
	char a[40], b[40];
	struct strbuf tmp = STRBUF_INIT;
	if (r->first_ms != LR_NONE) {
		report_fmt_time(r->first_ms, a, sizeof(a));
		report_fmt_time(r->last_ms, b, sizeof(b));
		strbuf_addf(sb, "halog report: %s .. %s (", a, b);
		report_fmt_dur(sb, r->last_ms - r->first_ms, REPORT_DUR_COMPACT);
		strbuf_addstr(sb, ")\n");
	} else {
		strbuf_addstr(sb, "halog report: no lines\n");
	}
	if (r->since_ms != LR_NONE || r->until_ms != LR_NONE) {
		strbuf_addstr(sb, "window:");
		if (r->from_ms != LR_NONE) {
			report_fmt_time(r->from_ms, a, sizeof(a));
			strbuf_addf(sb, " from %s", a);
		}
		if (r->to_ms != LR_NONE) {
			report_fmt_time(r->to_ms, a, sizeof(a));
			strbuf_addf(sb, " until %s", a);
		}
		strbuf_addstr(sb, r->window_exact ? " (exact)\n" : " (whole minutes)\n");
	}
	if (r->lines_removed_ms != LR_NONE) {
		report_fmt_time(r->lines_removed_ms, a, sizeof(a));
		strbuf_addf(sb,
			    "retention: the raw lines logged up to %s are removed (search and tail "
			    "no longer show them); their counts below are kept\n",
			    a);
	}
	if (r->frontend)
		strbuf_addf(sb, "frontend: %s\n", vis(&tmp, r->frontend, 60));
	if (r->backend)
		strbuf_addf(sb, "backend: %s\n", vis(&tmp, r->backend, 60));
	if (r->min_ta > 0 || r->min_tw > 0) {
		strbuf_addstr(sb, "only requests with");
		if (r->min_ta > 0)
			strbuf_addf(sb, " Ta >= %lld ms", (long long)r->min_ta);
		if (r->min_tw > 0)
			strbuf_addf(sb, "%s Tw >= %lld ms", r->min_ta > 0 ? " and" : "",
				    (long long)r->min_tw);
		strbuf_addstr(sb, " (read from the request records)\n");
	}
	char item[128];
	size_t col = 6;
	strbuf_addstr(sb, "lines:");
	const int64_t lv[5] = {r->lines_total, r->lines_parsed, r->lines_unparsed, r->lines_partial,
			       r->lines_truncated};
	static const char *const ln[5] = {"total", "parsed", "unparsed", "partial", "truncated"};
	for (int i = 0; i < 5; i++) {
		if (i >= 3 && !lv[i])
			continue;
		snprintf(item, sizeof(item), "%lld %s", (long long)lv[i], ln[i]);
		wrap_item(sb, &col, "  ", i ? ", " : " ", item);
	}
	strbuf_addstr(sb, "\n");
	int first = 1;
	for (int k = 0; k < LR_KIND_MAX; k++) {
		if (!r->by_kind[k])
			continue;
		if (first) {
			strbuf_addstr(sb, "  by kind:");
			col = 10;
		}
		snprintf(item, sizeof(item), "%s %lld", lr_kind_name((enum lr_kind)k),
			 (long long)r->by_kind[k]);
		wrap_item(sb, &col, "    ", first ? " " : ", ", item);
		first = 0;
	}
	if (!first)
		strbuf_addstr(sb, "\n");
	/* the store's counters: the listener's (listen.*) and retention's (prune.*), by name */
	if (r->ncounters) {
		strbuf_addstr(sb, "counters:");
		col = 9;
		for (size_t i = 0; i < r->ncounters; i++) {
			snprintf(item, sizeof(item), "%s %lld", vis(&tmp, r->counters[i].name, 30),
				 (long long)r->counters[i].value);
			wrap_item(sb, &col, "  ", i ? ", " : " ", item);
		}
		strbuf_addstr(sb, "\n");
	}
	strbuf_release(&tmp);
}

static void text_lat_table(struct strbuf *sb, const struct report_lat *lat, int tcp)
{
	strbuf_addf(sb, "  %-8s%9s%8s%8s%8s%8s%9s\n", "latency", "count", "p50", "p90", "p95",
		    "p99", "max ms");
	for (int t = 0; t < RT_N; t++) {
		if (tcp && (t == RT_TR || t == RT_TR_RESP))
			continue;
		const struct report_lat *l = &lat[t];
		strbuf_addf(sb, "  %-8s%9lld", report_timer_name((enum rollup_timer)t, tcp),
			    (long long)l->n);
		num_or_dash(sb, 8, l->p50);
		num_or_dash(sb, 8, l->p90);
		num_or_dash(sb, 8, l->p95);
		num_or_dash(sb, 8, l->p99);
		num_or_dash(sb, 9, l->max);
		strbuf_addstr(sb, "\n");
	}
}

static void text_group(struct strbuf *sb, const struct report *r, const struct report_group *g,
		       int backend)
{
	struct strbuf tmp = STRBUF_INIT;
	const struct rollup_agg *a = &g->agg;
	int tcp = report_is_tcp(g->kinds);
	int expect = backend && g->balance_checked;
	struct strbuf head = STRBUF_INIT;
	if (!a->requests)
		strbuf_addf(&head, "%s %s: no requests", backend ? "backend" : "frontend",
			    vis(&tmp, g->name, 60));
	else
		strbuf_addf(&head, "%s %s (%s): %lld requests, %lld errors (%.1f%%)",
			    backend ? "backend" : "frontend", vis(&tmp, g->name, 40),
			    report_mode(g->kinds), (long long)a->requests, (long long)a->errors,
			    report_pct(a->errors, a->requests));
	strbuf_addch(sb, '\n');
	add_fit(sb, &head, 80);
	strbuf_addch(sb, '\n');
	strbuf_release(&head);
	if (g->nmembers) {
		strbuf_addf(sb, "  %-*s%9s%7s%7s%7s%7s%7s%6s%7s%7s\n", W_NAME,
			    backend ? "server" : "backend", "reqs", "share", "expect", "dev",
			    "errors", "err%", tcp ? "Tt50" : "Ta50", "p99", "max");
		for (size_t j = 0; j < g->nmembers; j++) {
			const struct report_server *m = &g->members[j];
			const struct report_lat *l = &m->lat[RT_TA];
			strbuf_addf(sb, "  %s%9lld", vis_pad(&tmp, m->name, W_NAME),
				    (long long)m->agg.requests);
			if (m->special)
				strbuf_addf(sb, "%7s", "-");
			else
				strbuf_addf(sb, "%6.1f%%", m->share);
			if (expect && m->expected >= 0)
				strbuf_addf(sb, "%6.1f%%%+7.1f", m->expected, m->deviation);
			else
				strbuf_addf(sb, "%7s%7s", "-", "-");
			strbuf_addf(sb, "%7lld", (long long)m->agg.errors);
			if (m->agg.requests)
				strbuf_addf(sb, " %5.1f%%", report_pct(m->agg.errors, m->agg.requests));
			else
				strbuf_addf(sb, "%7s", "-");
			num_or_dash(sb, 6, l->p50);
			num_or_dash(sb, 7, l->p99);
			num_or_dash(sb, 7, l->max);
			strbuf_addstr(sb, "\n");
		}
	}
	if (backend && g->balance_checked) {
		strbuf_addf(sb, "  balance: max deviation %.1f points (%s)", g->max_deviation,
			    g->worst ? vis(&tmp, g->worst, 30) : "-");
		if (r->check_balance >= 0)
			strbuf_addf(sb, ", %s the %.1f limit",
				    g->balance_failed ? "OVER" : "within", r->check_balance);
		strbuf_addstr(sb, "\n");
	}
	if (backend && g->unlisted)
		strbuf_addf(sb, "  balance: not in the inventory (no service for this backend)%s\n",
			    report_unlisted_fail(r) ? ": FAILS the check" : "");
	char item[64];
	size_t col;
	if (a->requests && !tcp) {
		strbuf_addstr(sb, "  status:");
		col = 9;
		for (int k = 0; k < RC_N; k++) {
			snprintf(item, sizeof(item), "%s %lld", class_names[k],
				 (long long)a->cls[k]);
			wrap_item(sb, &col, "         ", " ", item);
		}
		strbuf_addstr(sb, "\n");
	}
	if (a->ncodes) {
		strbuf_addstr(sb, "  codes:");
		col = 8;
		for (size_t i = 0; i < a->ncodes; i++) {
			snprintf(item, sizeof(item), "%lld:%lld", (long long)a->codes[i].key,
				 (long long)a->codes[i].n);
			wrap_item(sb, &col, "        ", " ", item);
		}
		strbuf_addstr(sb, "\n");
	}
	if (a->nterms) {
		strbuf_addstr(sb, "  termination states:\n");
		for (size_t i = 0; i < a->nterms; i++) {
			strbuf_addf(sb, "    %c%c %9lld  ", (char)(a->terms[i].key >> 8),
				    (char)(a->terms[i].key & 0xff), (long long)a->terms[i].n);
			term_words(sb, a->terms[i].key);
			strbuf_addstr(sb, "\n");
		}
	}
	if (a->retries || a->redispatches)
		strbuf_addf(sb, "  retries %lld, redispatches %lld\n", (long long)a->retries,
			    (long long)a->redispatches);
	if (a->requests)
		text_lat_table(sb, g->lat, tcp);
	if (g->nerrpaths) {
		strbuf_addstr(sb, "  top error paths:\n");
		for (size_t i = 0; i < g->nerrpaths; i++) {
			strbuf_addf(
				sb, "    %4lld %8lld  %s\n", (long long)g->errpaths[i].status,
				(long long)g->errpaths[i].n,
				vis(&tmp, g->errpaths[i].path[0] ? g->errpaths[i].path : "-", 60));
		}
	}
	if (g->nevents) {
		strbuf_addstr(sb, "  server events:\n");
		if (g->events_dropped)
			strbuf_addf(sb, "    (%lld older events not shown)\n",
				    (long long)g->events_dropped);
		for (size_t i = 0; i < g->nevents; i++) {
			const struct report_event *ev = &g->events[i];
			char t[40];
			struct strbuf line = STRBUF_INIT;
			report_fmt_time(ev->ts_ms, t, sizeof(t));
			t[19] = '\0'; /* seconds are enough at 80 columns */
			strbuf_addf(&line, "    %s %s", t,
				    ev->kind == LR_NOSRV
					    ? "no server available"
					    : vis(&tmp, ev->server ? ev->server : "-", W_NAME));
			if (ev->state && ev->kind != LR_NOSRV)
				strbuf_addf(&line, " %s", vis(&tmp, ev->state, 12));
			if (ev->reason)
				strbuf_addf(&line, ": %s", vis(&tmp, ev->reason, 60));
			if (ev->info) {
				/* the info goes on its own line when it would not fit: cut, it
				 * would lose the words that say what happened */
				const char *info = vis(&tmp, ev->info, 60);

				if (line.len + strlen(info) + 3 <= 80) {
					strbuf_addf(&line, " (%s)", info);
				} else {
					add_fit(sb, &line, 80);
					strbuf_addstr(sb, "\n");
					strbuf_reset(&line);
					strbuf_addf(&line, "      (%s)", info);
				}
			}
			add_fit(sb, &line, 80);
			strbuf_addstr(sb, "\n");
			strbuf_release(&line);
		}
	}
	strbuf_release(&tmp);
}

/* The inventory's services that got no traffic, and the backends it does not list. */
static void text_gaps(struct strbuf *sb, const struct report *r)
{
	struct strbuf tmp = STRBUF_INIT;
	if (r->nunlisted || r->nidle)
		strbuf_addstr(sb, "\n");
	for (size_t i = 0; i < r->nbackends; i++)
		if (r->backends[i].unlisted)
			strbuf_addf(sb, "inventory: backend %s has traffic but no service%s\n",
				    vis(&tmp, r->backends[i].name, 40),
				    r->allow_unlisted ? " (allowed)" : "");
	for (size_t i = 0; i < r->nidle; i++)
		strbuf_addf(sb, "inventory: backend %s got no traffic in the window%s\n",
			    vis(&tmp, r->idle[i], 40), r->allow_idle ? " (allowed)" : "");
	strbuf_release(&tmp);
}

/* A compact duration for a 5-column cell: ms below 10 s, then seconds, hours, days. */
static void short_ms(struct strbuf *sb, int64_t ms)
{
	if (ms < 0)
		strbuf_addstr(sb, "-");
	else if (ms < 10000)
		strbuf_addf(sb, "%lld", (long long)ms);
	else if (ms < 100000)
		strbuf_addf(sb, "%.1fs", (double)ms / 1000);
	else if (ms < 10000000)
		strbuf_addf(sb, "%llds", (long long)(ms / 1000));
	else if (ms < 360000000)
		strbuf_addf(sb, "%lldh", (long long)(ms / 3600000));
	else
		strbuf_addf(sb, "%lldd", (long long)(ms / 86400000));
}

/* A compact byte count for a 6-column cell: 9999, 123.4K, 12.3M, 1.2G, 3.4T. */
static void short_bytes(struct strbuf *sb, int64_t b)
{
	static const char units[] = "KMGTPE";
	double v = (double)b;
	int u = -1;
	if (b < 10000) {
		strbuf_addf(sb, "%lld", (long long)b);
		return;
	}
	while (v >= 999.95 && u < 5) {
		v /= 1024;
		u++;
	}
	strbuf_addf(sb, "%.1f%c", v, units[u]);
}

static void cell(struct strbuf *sb, struct strbuf *tmp, int width)
{
	strbuf_addf(sb, " %*s", width, tmp->buf);
	strbuf_reset(tmp);
}

/* What a ranked table says about itself: "12 of 340 paths, by requests". */
static void ranked_title(struct strbuf *sb, const struct report_table *t, const char *what)
{
	strbuf_addf(sb, "%zu of %lld %s, by %s", t->nrows, (long long)t->distinct, what,
		    report_sort_names[t->sort]);
}

/* A ranked table: the numbers, then the key where it fits in 80 columns, else the key on its
 * own line above its numbers. */
static void text_ranked(struct strbuf *sb, const struct report *r, const struct report_table *t)
{
	struct strbuf tmp = STRBUF_INIT, head = STRBUF_INIT, v = STRBUF_INIT;
	struct report_words wd;
	int paths;
	report_table_words(r, t, &wd);
	paths = wd.paths;
	strbuf_addf(&head, "%s: ", wd.sec);
	ranked_title(&head, t, wd.what);
	strbuf_addf(&head, " (%lld requests%s)", (long long)t->requests,
		    paths ? (r->paths_folded ? ", ids folded" : ", as logged") : "");
	strbuf_addch(sb, '\n');
	add_fit(sb, &head, 80);
	strbuf_addstr(sb, "\n");
	strbuf_addf(sb, "%8s%7s%6s%6s%6s%6s%6s%6s%7s  %s\n", "reqs", "errs", "err%", "p50", "p95",
		    "p99", "max", "time", "bytes", wd.key);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct report_row *w = &t->rows[i];
		const char *key = vis(&tmp, w->key, 0);
		size_t klen = strlen(key);
		if (klen > 20) {
			strbuf_reset(&head);
			strbuf_addf(&head, "  %s", key);
			add_fit(sb, &head, 80);
			strbuf_addch(sb, '\n');
		}
		strbuf_addf(sb, "%8lld%7lld", (long long)w->requests, (long long)w->errors);
		strbuf_addf(&v, "%.1f", report_pct(w->errors, w->requests));
		cell(sb, &v, 5);
		const int64_t ms[4] = {w->p50, w->p95, w->p99, w->max};
		for (int k = 0; k < 4; k++) {
			short_ms(&v, ms[k]);
			cell(sb, &v, 5);
		}
		short_ms(&v, w->ta_sum);
		cell(sb, &v, 5);
		short_bytes(&v, w->bytes);
		cell(sb, &v, 6);
		if (klen <= 20)
			strbuf_addf(sb, "  %s", key);
		strbuf_addch(sb, '\n');
	}
	strbuf_release(&tmp);
	strbuf_release(&head);
	strbuf_release(&v);
}

/* "10s", "1m", "5m", "1h", "90s" …: a bucket width in its largest whole unit. */
static void bucket_words(struct strbuf *sb, int64_t ms)
{
	if (ms % 86400000 == 0)
		strbuf_addf(sb, "%lldd", (long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		strbuf_addf(sb, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		strbuf_addf(sb, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		strbuf_addf(sb, "%llds", (long long)(ms / 1000));
	else
		strbuf_addf(sb, "%lldms", (long long)ms);
}

static const char *series_source(const struct report_series *s)
{
	return s->exact ? "from the request records, exact" : "from the rollups";
}

static void text_series(struct strbuf *sb, const struct report_series *s)
{
	char t[40];
	strbuf_addf(sb, "\nseries: %zu buckets of ", s->nbins);
	bucket_words(sb, s->bucket_ms);
	strbuf_addf(sb, ", %s\n", series_source(s));
	strbuf_addf(sb, "  %-24s%9s%8s%7s%8s\n", "time (UTC)", "reqs", "errs", "err%", "p95 ms");
	for (size_t i = 0; i < s->nbins; i++) {
		const struct report_bin *b = &s->bins[i];
		report_fmt_time(b->t_ms, t, sizeof(t));
		strbuf_addf(sb, "  %-24s%9lld%8lld%7.1f", t, (long long)b->requests,
			    (long long)b->errors, report_pct(b->errors, b->requests));
		num_or_dash(sb, 8, b->p95);
		strbuf_addch(sb, '\n');
	}
}

/* The stored line as a terminal shows it: control bytes and invalid UTF-8 escaped. */
static const char *line_vis(struct strbuf *tmp, const struct report_slow *w)
{
	strbuf_reset(tmp);
	text_add_visible(tmp, w->line ? w->line : "", w->line ? w->linelen : 0);
	return tmp->buf;
}

static void text_slowest(struct strbuf *sb, const struct report *r)
{
	struct strbuf tmp = STRBUF_INIT;
	char t[40];
	strbuf_addf(sb, "\nslowest: %zu per backend, by Ta (Tt for tcp)\n", r->slowest_top);
	for (size_t i = 0; i < r->nslowest; i++) {
		const struct report_slow_group *g = &r->slowest[i];
		strbuf_addf(sb, "backend %s\n", vis(&tmp, g->backend, 60));
		for (size_t j = 0; j < g->nrows; j++) {
			const struct report_slow *w = &g->rows[j];
			report_fmt_time(w->ts_ms, t, sizeof(t));
			strbuf_addf(sb, "  %8lld ms  %s  %s", (long long)w->ta, t,
				    vis(&tmp, w->server ? w->server : "-", 20));
			if (w->status >= 0)
				strbuf_addf(sb, " %lld", (long long)w->status);
			strbuf_addf(sb, " %s", w->term[0] ? w->term : "-");
			if (w->tw > 0)
				strbuf_addf(sb, " Tw %lld", (long long)w->tw);
			strbuf_addf(sb, "\n    %s\n", line_vis(&tmp, w));
		}
	}
	strbuf_release(&tmp);
}

static void text_connerrs(struct strbuf *sb, const struct report *r)
{
	struct strbuf tmp = STRBUF_INIT, head = STRBUF_INIT;
	char a[40], b[40];
	strbuf_addf(sb, "\nconnection errors: %lld\n", (long long)r->connerrs_total);
	const char *fe = NULL, *bind = NULL;
	for (size_t i = 0; i < r->nconnerrs; i++) {
		const struct report_connerr *ce = &r->connerrs[i];
		if (!fe || strcmp(fe, ce->frontend) || strcmp(bind, ce->bind)) {
			strbuf_reset(&head);
			strbuf_addf(&head, "  frontend %s", vis(&tmp, ce->frontend, 40));
			strbuf_addf(&head, ", bind %s", vis(&tmp, ce->bind, 30));
			add_fit(sb, &head, 80);
			strbuf_addch(sb, '\n');
			fe = ce->frontend;
			bind = ce->bind;
		}
		report_fmt_time(ce->first_ms, a, sizeof(a));
		report_fmt_time(ce->last_ms, b, sizeof(b));
		strbuf_reset(&head);
		strbuf_addf(&head, "  %8lld  %s", (long long)ce->n, vis(&tmp, ce->message, 0));
		add_fit(sb, &head, 80);
		strbuf_addf(sb, "\n            %s .. %s\n", a, b);
	}
	strbuf_release(&tmp);
	strbuf_release(&head);
}

/* A change in points, "+1.5" / "-0.3", or "-" when either side has none. */
static void pts(struct strbuf *sb, double now, double base, int ok)
{
	if (ok)
		strbuf_addf(sb, "%+.1f", now - base);
	else
		strbuf_addch(sb, '-');
}

static void text_compare(struct strbuf *sb, const struct report *r)
{
	const struct report_compare *c = &r->compare;
	struct strbuf tmp = STRBUF_INIT, v = STRBUF_INIT, head = STRBUF_INIT;
	char w0[96], w1[96], fl[64];
	report_cmp_window(c->since[0], c->until[0], w0, sizeof(w0));
	report_cmp_window(c->since[1], c->until[1], w1, sizeof(w1));
	strbuf_addf(&head, "\ncompare: %s against %s: %zu significant change%s", w0, w1,
		    c->nflagged, c->nflagged == 1 ? "" : "s");
	strbuf_add(sb, head.buf, head.len);
	strbuf_addf(sb, "\n%-18s%7s%7s%7s%7s%6s%6s%6s%6s%6s%6s  %s\n", "backend/server", "reqs",
		    "base", "share", "base", "pts", "err%", "base", "pts", "p95", "base", "flags");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct report_cmp_row *w = &c->rows[i];
		const char *name = w->server ? w->server : w->backend;
		strbuf_reset(&head);
		strbuf_addf(&head, "%s%s", w->server ? "  " : "", vis(&tmp, name, 0));
		if (head.len > 18) {
			add_fit(sb, &head, 80);
			strbuf_addf(sb, "\n%-18s", "");
		} else {
			strbuf_addf(sb, "%-18s", head.buf);
		}
		strbuf_addf(sb, "%7lld%7lld", (long long)w->req[0], (long long)w->req[1]);
		for (int s = 0; s < 2; s++) {
			strbuf_reset(&v);
			if (w->share[s] >= 0)
				strbuf_addf(&v, "%.1f%%", w->share[s]);
			else
				strbuf_addch(&v, '-');
			cell(sb, &v, 6);
		}
		strbuf_reset(&v);
		pts(&v, w->share[0], w->share[1], w->share[0] >= 0 && w->share[1] >= 0);
		cell(sb, &v, 5);
		for (int s = 0; s < 2; s++) {
			strbuf_reset(&v);
			if (w->req[s])
				strbuf_addf(&v, "%.1f", report_pct(w->err[s], w->req[s]));
			else
				strbuf_addch(&v, '-');
			cell(sb, &v, 5);
		}
		strbuf_reset(&v);
		pts(&v, report_pct(w->err[0], w->req[0]), report_pct(w->err[1], w->req[1]),
		    w->req[0] && w->req[1]);
		cell(sb, &v, 5);
		for (int s = 0; s < 2; s++) {
			short_ms(&v, w->p95[s]);
			cell(sb, &v, 5);
		}
		report_cmp_flag_words(w->flags, fl, sizeof(fl));
		if (fl[0])
			strbuf_addf(sb, "  %s", fl);
		strbuf_addch(sb, '\n');
	}
	strbuf_release(&tmp);
	strbuf_release(&v);
	strbuf_release(&head);
}

static void write_text(struct strbuf *sb, const struct report *r)
{
	text_header(sb, r);
	if (secs(r) & REPORT_SEC_PATHS)
		text_ranked(sb, r, &r->paths);
	if (secs(r) & REPORT_SEC_CLIENTS)
		text_ranked(sb, r, &r->clients);
	if (secs(r) & REPORT_SEC_HEADERS) {
		if (!r->nheaders)
			strbuf_addstr(sb, "\nheaders: none captured in the window\n");
		for (size_t i = 0; i < r->nheaders; i++)
			text_ranked(sb, r, &r->headers[i].t);
	}
	if (secs(r) & REPORT_SEC_SERIES)
		text_series(sb, &r->series);
	if (secs(r) & REPORT_SEC_SLOWEST)
		text_slowest(sb, r);
	if (secs(r) & REPORT_SEC_CONNERRS)
		text_connerrs(sb, r);
	if (secs(r) & REPORT_SEC_COMPARE)
		text_compare(sb, r);
	for (size_t i = 0; i < r->nbackends; i++)
		text_group(sb, r, &r->backends[i], 1);
	for (size_t i = 0; i < r->nfrontends; i++)
		text_group(sb, r, &r->frontends[i], 0);
	text_gaps(sb, r);
	if (r->check_balance >= 0) {
		strbuf_addf(sb, "\nbalance check (%.1f points): ", r->check_balance);
		if (!r->balance_failed) {
			strbuf_addstr(sb, "ok\n");
		} else {
			struct strbuf tmp = STRBUF_INIT, tmp2 = STRBUF_INIT;
			strbuf_addf(sb, "FAILED for %d backend%s\n", r->balance_failed,
				    r->balance_failed > 1 ? "s" : "");
			for (size_t i = 0; i < r->nbackends; i++) {
				const struct report_group *g = &r->backends[i];
				if (g->balance_failed)
					strbuf_addf(sb, "  %s: %s off by %.1f points\n",
						    vis(&tmp, g->name, 30),
						    g->worst ? vis(&tmp2, g->worst, 30) : "-",
						    g->max_deviation);
				if (g->unlisted && report_unlisted_fail(r))
					strbuf_addf(sb, "  %s: not in the inventory\n",
						    vis(&tmp, g->name, 30));
			}
			for (size_t i = 0; report_idle_fail(r) && i < r->nidle; i++)
				strbuf_addf(sb, "  %s: no traffic\n", vis(&tmp, r->idle[i], 30));
			strbuf_release(&tmp);
			strbuf_release(&tmp2);
		}
	}
}

/* ------------------------------------------------------------------------------ JSON */

static void jkey(struct strbuf *sb, int *first, const char *k)
{
	if (!*first)
		strbuf_addch(sb, ',');
	*first = 0;
	json_add_key(sb, k);
}

static void jstr(struct strbuf *sb, const char *s)
{
	if (s)
		json_add_str(sb, s, strlen(s));
	else
		strbuf_addstr(sb, "null");
}

static void jnum_or_null(struct strbuf *sb, int64_t v, int64_t none)
{
	if (v == none)
		strbuf_addstr(sb, "null");
	else
		json_add_i64(sb, v);
}

static void jtime(struct strbuf *sb, int64_t ms)
{
	char t[40];
	if (ms == LR_NONE) {
		strbuf_addstr(sb, "null");
		return;
	}
	report_fmt_time(ms, t, sizeof(t));
	jstr(sb, t);
}

static void jlat(struct strbuf *sb, const struct report_lat *l)
{
	int f = 1;
	strbuf_addch(sb, '{');
	jkey(sb, &f, "count");
	json_add_i64(sb, l->n);
	static const char *const k[5] = {"p50", "p90", "p95", "p99", "max"};
	const int64_t v[5] = {l->p50, l->p90, l->p95, l->p99, l->max};
	for (int i = 0; i < 5; i++) {
		jkey(sb, &f, k[i]);
		jnum_or_null(sb, v[i], -1);
	}
	jkey(sb, &f, "avg");
	if (l->n)
		json_add_double(sb, l->avg, 1);
	else
		strbuf_addstr(sb, "null");
	strbuf_addch(sb, '}');
}

static void jtimers(struct strbuf *sb, const struct report_lat *lat, int tcp)
{
	int f = 1;
	strbuf_addch(sb, '{');
	for (int t = 0; t < RT_N; t++) {
		jkey(sb, &f, report_timer_name((enum rollup_timer)t, tcp));
		jlat(sb, &lat[t]);
	}
	strbuf_addch(sb, '}');
}

static void jcounts(struct strbuf *sb, int *f, const struct rollup_agg *a, int tcp)
{
	jkey(sb, f, "errors");
	json_add_i64(sb, a->errors);
	jkey(sb, f, "error_rate");
	json_add_double(sb, report_pct(a->errors, a->requests), 2);
	jkey(sb, f, "retries");
	json_add_i64(sb, a->retries);
	jkey(sb, f, "redispatches");
	json_add_i64(sb, a->redispatches);
	jkey(sb, f, "bytes_read");
	json_add_i64(sb, a->bytes_read);
	jkey(sb, f, "status");
	strbuf_addch(sb, '{');
	int g = 1;
	for (int k = 0; k < RC_N; k++) {
		jkey(sb, &g, class_names[k]);
		json_add_i64(sb, tcp ? 0 : a->cls[k]);
	}
	strbuf_addch(sb, '}');
	jkey(sb, f, "codes");
	strbuf_addch(sb, '{');
	g = 1;
	for (size_t i = 0; i < a->ncodes; i++) {
		char k[32];
		snprintf(k, sizeof(k), "%lld", (long long)a->codes[i].key);
		jkey(sb, &g, k);
		json_add_i64(sb, a->codes[i].n);
	}
	strbuf_addch(sb, '}');
	jkey(sb, f, "termination");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < a->nterms; i++) {
		char st[3] = {(char)(a->terms[i].key >> 8), (char)(a->terms[i].key & 0xff), 0};
		int h = 1;
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '{');
		jkey(sb, &h, "state");
		json_add_str(sb, st, 2);
		jkey(sb, &h, "count");
		json_add_i64(sb, a->terms[i].n);
		jkey(sb, &h, "cause");
		jstr(sb, rollup_term_cause(st[0]));
		jkey(sb, &h, "phase");
		jstr(sb, rollup_term_phase(st[1]));
		strbuf_addch(sb, '}');
	}
	strbuf_addch(sb, ']');
}

static void jmember(struct strbuf *sb, const struct report_server *m, int tcp, int backend)
{
	int f = 1;
	strbuf_addch(sb, '{');
	jkey(sb, &f, "name");
	jstr(sb, m->name);
	jkey(sb, &f, "requests");
	json_add_i64(sb, m->agg.requests);
	jkey(sb, &f, "share");
	if (m->special)
		strbuf_addstr(sb, "null");
	else
		json_add_double(sb, m->share, 2);
	if (backend) {
		jkey(sb, &f, "special");
		strbuf_addstr(sb, m->special ? "true" : "false");
		jkey(sb, &f, "expected");
		if (m->expected >= 0)
			json_add_double(sb, m->expected, 2);
		else
			strbuf_addstr(sb, "null");
		jkey(sb, &f, "deviation");
		if (m->expected >= 0)
			json_add_double(sb, m->deviation, 2);
		else
			strbuf_addstr(sb, "null");
		jkey(sb, &f, "weight");
		jnum_or_null(sb, m->weight, -1);
		jkey(sb, &f, "backup");
		strbuf_addstr(sb, m->backup ? "true" : "false");
		jkey(sb, &f, "maintenance");
		strbuf_addstr(sb, m->maint ? "true" : "false");
	}
	jcounts(sb, &f, &m->agg, tcp);
	jkey(sb, &f, "latency_ms");
	jlat(sb, &m->lat[RT_TA]);
	jkey(sb, &f, "timers_ms");
	jtimers(sb, m->lat, tcp);
	strbuf_addch(sb, '}');
}

static void jgroup(struct strbuf *sb, const struct report *r, const struct report_group *g,
		   int backend)
{
	int f = 1, tcp = report_is_tcp(g->kinds);
	strbuf_addch(sb, '{');
	jkey(sb, &f, "name");
	jstr(sb, g->name);
	jkey(sb, &f, "mode");
	jstr(sb, report_mode(g->kinds));
	jkey(sb, &f, "requests");
	json_add_i64(sb, g->agg.requests);
	jcounts(sb, &f, &g->agg, tcp);
	jkey(sb, &f, "latency_ms");
	jlat(sb, &g->lat[RT_TA]);
	jkey(sb, &f, "timers_ms");
	jtimers(sb, g->lat, tcp);
	jkey(sb, &f, backend ? "servers" : "backends");
	strbuf_addch(sb, '[');
	for (size_t j = 0; j < g->nmembers; j++) {
		if (j)
			strbuf_addch(sb, ',');
		jmember(sb, &g->members[j], tcp, backend);
	}
	strbuf_addch(sb, ']');
	if (backend) {
		jkey(sb, &f, "balance");
		strbuf_addch(sb, '{');
		int h = 1;
		jkey(sb, &h, "checked");
		strbuf_addstr(sb, g->balance_checked ? "true" : "false");
		jkey(sb, &h, "max_deviation");
		if (g->balance_checked)
			json_add_double(sb, g->max_deviation, 2);
		else
			strbuf_addstr(sb, "null");
		jkey(sb, &h, "server");
		jstr(sb, g->balance_checked ? g->worst : NULL);
		jkey(sb, &h, "failed");
		strbuf_addstr(sb, g->balance_failed ? "true" : "false");
		if (r->inventory) {
			jkey(sb, &h, "in_inventory");
			strbuf_addstr(sb, g->listed ? "true" : "false");
		}
		strbuf_addch(sb, '}');
		jkey(sb, &f, "top_error_paths");
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < g->nerrpaths; i++) {
			int e = 1;
			strbuf_addstr(sb, i ? ",{" : "{");
			jkey(sb, &e, "status");
			jnum_or_null(sb, g->errpaths[i].status, -1);
			jkey(sb, &e, "path");
			jstr(sb, g->errpaths[i].path);
			jkey(sb, &e, "count");
			json_add_i64(sb, g->errpaths[i].n);
			strbuf_addch(sb, '}');
		}
		strbuf_addch(sb, ']');
		jkey(sb, &f, "events");
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < g->nevents; i++) {
			const struct report_event *ev = &g->events[i];
			int e = 1;
			strbuf_addstr(sb, i ? ",{" : "{");
			jkey(sb, &e, "time");
			jtime(sb, ev->ts_ms);
			jkey(sb, &e, "kind");
			jstr(sb, lr_kind_name((enum lr_kind)ev->kind));
			jkey(sb, &e, "server");
			jstr(sb, ev->server);
			jkey(sb, &e, "state");
			jstr(sb, ev->state);
			jkey(sb, &e, "reason");
			jstr(sb, ev->reason);
			jkey(sb, &e, "info");
			jstr(sb, ev->info);
			strbuf_addch(sb, '}');
		}
		strbuf_addch(sb, ']');
		jkey(sb, &f, "events_dropped");
		json_add_i64(sb, g->events_dropped);
	}
	strbuf_addch(sb, '}');
}

static void jranked(struct strbuf *sb, const struct report *r, const struct report_table *t)
{
	int f = 1;
	struct report_words wd;
	report_table_words(r, t, &wd);
	strbuf_addch(sb, '{');
	if (wd.paths) {
		jkey(sb, &f, "folded");
		strbuf_addstr(sb, r->paths_folded ? "true" : "false");
	} else if (wd.h) {
		jkey(sb, &f, "direction");
		jstr(sb, wd.h->response ? "response" : "request");
		jkey(sb, &f, "index");
		json_add_i64(sb, wd.h->index);
	} else {
		jkey(sb, &f, "by");
		jstr(sb, r->client_by == REPORT_CLIENT_NET ? "net" : "addr");
	}
	jkey(sb, &f, "sort");
	jstr(sb, report_sort_names[t->sort]);
	jkey(sb, &f, "top");
	json_add_i64(sb, (int64_t)t->top);
	jkey(sb, &f, "distinct");
	json_add_i64(sb, t->distinct);
	jkey(sb, &f, "requests");
	json_add_i64(sb, t->requests);
	jkey(sb, &f, "rows");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < t->nrows; i++) {
		const struct report_row *w = &t->rows[i];
		int g = 1;
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '{');
		jkey(sb, &g, wd.key);
		jstr(sb, w->key);
		jkey(sb, &g, "requests");
		json_add_i64(sb, w->requests);
		jkey(sb, &g, "errors");
		json_add_i64(sb, w->errors);
		jkey(sb, &g, "error_rate");
		json_add_double(sb, report_pct(w->errors, w->requests), 2);
		static const char *const k[4] = {"p50", "p95", "p99", "max"};
		const int64_t v[4] = {w->p50, w->p95, w->p99, w->max};
		jkey(sb, &g, "ta_ms");
		strbuf_addch(sb, '{');
		int h = 1;
		jkey(sb, &h, "count");
		json_add_i64(sb, w->ta_n);
		for (int j = 0; j < 4; j++) {
			jkey(sb, &h, k[j]);
			jnum_or_null(sb, v[j], -1);
		}
		jkey(sb, &h, "total");
		json_add_i64(sb, w->ta_sum);
		strbuf_addch(sb, '}');
		jkey(sb, &g, "bytes");
		json_add_i64(sb, w->bytes);
		jkey(sb, &g, "halog");
		strbuf_addch(sb, '{');
		h = 1;
		jkey(sb, &h, "err");
		json_add_i64(sb, w->halog_err);
		jkey(sb, &h, "time_ms");
		json_add_i64(sb, w->halog_time);
		jkey(sb, &h, "bytes");
		json_add_i64(sb, w->halog_bytes);
		strbuf_addstr(sb, "}}");
	}
	strbuf_addstr(sb, "]}");
}

static void jseries(struct strbuf *sb, const struct report_series *s)
{
	int f = 1;
	strbuf_addch(sb, '{');
	jkey(sb, &f, "bucket_ms");
	json_add_i64(sb, s->bucket_ms);
	jkey(sb, &f, "source");
	jstr(sb, s->exact ? "records" : "rollups");
	jkey(sb, &f, "from");
	jtime(sb, s->nbins ? s->from_ms : LR_NONE);
	jkey(sb, &f, "to");
	jtime(sb, s->nbins ? s->to_ms : LR_NONE);
	jkey(sb, &f, "bins");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < s->nbins; i++) {
		const struct report_bin *b = &s->bins[i];
		int g = 1;
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '{');
		jkey(sb, &g, "time");
		jtime(sb, b->t_ms);
		jkey(sb, &g, "requests");
		json_add_i64(sb, b->requests);
		jkey(sb, &g, "errors");
		json_add_i64(sb, b->errors);
		jkey(sb, &g, "error_rate");
		json_add_double(sb, report_pct(b->errors, b->requests), 2);
		jkey(sb, &g, "p95");
		jnum_or_null(sb, b->p95, -1);
		strbuf_addch(sb, '}');
	}
	strbuf_addstr(sb, "]}");
}

static void jslowest(struct strbuf *sb, const struct report *r)
{
	int f = 1;
	strbuf_addch(sb, '{');
	jkey(sb, &f, "top");
	json_add_i64(sb, (int64_t)r->slowest_top);
	jkey(sb, &f, "backends");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < r->nslowest; i++) {
		const struct report_slow_group *g = &r->slowest[i];
		int h = 1;
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '{');
		jkey(sb, &h, "name");
		jstr(sb, g->backend);
		jkey(sb, &h, "rows");
		strbuf_addch(sb, '[');
		for (size_t j = 0; j < g->nrows; j++) {
			const struct report_slow *w = &g->rows[j];
			int k = 1;
			if (j)
				strbuf_addch(sb, ',');
			strbuf_addch(sb, '{');
			jkey(sb, &k, "time");
			jtime(sb, w->ts_ms);
			jkey(sb, &k, "ta");
			json_add_i64(sb, w->ta);
			jkey(sb, &k, "tw");
			jnum_or_null(sb, w->tw, -1);
			jkey(sb, &k, "status");
			jnum_or_null(sb, w->status, -1);
			jkey(sb, &k, "term");
			jstr(sb, w->term);
			jkey(sb, &k, "server");
			jstr(sb, w->server);
			jkey(sb, &k, "pos");
			json_add_i64(sb, w->pos.v);
			jkey(sb, &k, "line");
			if (w->line)
				json_add_str(sb, w->line, w->linelen);
			else
				strbuf_addstr(sb, "null");
			strbuf_addch(sb, '}');
		}
		strbuf_addstr(sb, "]}");
	}
	strbuf_addstr(sb, "]}");
}

static void jcompare(struct strbuf *sb, const struct report *r)
{
	const struct report_compare *c = &r->compare;
	int f = 1;
	char fl[64];
	strbuf_addch(sb, '{');
	static const char *const side[2] = {"window", "baseline"};
	for (int s = 0; s < 2; s++) {
		int g = 1;
		jkey(sb, &f, side[s]);
		strbuf_addch(sb, '{');
		jkey(sb, &g, "since");
		jtime(sb, c->since[s]);
		jkey(sb, &g, "until");
		jtime(sb, c->until[s]);
		strbuf_addch(sb, '}');
	}
	jkey(sb, &f, "flagged");
	json_add_i64(sb, (int64_t)c->nflagged);
	jkey(sb, &f, "rows");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < c->nrows; i++) {
		const struct report_cmp_row *w = &c->rows[i];
		int g = 1;
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '{');
		jkey(sb, &g, "backend");
		jstr(sb, w->backend);
		jkey(sb, &g, "server");
		if (w->server)
			jstr(sb, w->server);
		else
			strbuf_addstr(sb, "null");
		static const char *const k[2][5] = {
			{"requests", "errors", "error_rate", "share", "p95_ms"},
			{"base_requests", "base_errors", "base_error_rate", "base_share",
			 "base_p95_ms"}};
		for (int s = 0; s < 2; s++) {
			jkey(sb, &g, k[s][0]);
			json_add_i64(sb, w->req[s]);
			jkey(sb, &g, k[s][1]);
			json_add_i64(sb, w->err[s]);
			jkey(sb, &g, k[s][2]);
			if (w->req[s])
				json_add_double(sb, report_pct(w->err[s], w->req[s]), 2);
			else
				strbuf_addstr(sb, "null");
			jkey(sb, &g, k[s][3]);
			if (w->share[s] >= 0)
				json_add_double(sb, w->share[s], 2);
			else
				strbuf_addstr(sb, "null");
			jkey(sb, &g, k[s][4]);
			jnum_or_null(sb, w->p95[s], -1);
		}
		jkey(sb, &g, "flags");
		strbuf_addch(sb, '[');
		report_cmp_flag_words(w->flags, fl, sizeof(fl));
		for (char *p = fl, *e; *p; p = *e ? e + 1 : e) {
			e = p + strcspn(p, " ");
			if (p != fl)
				strbuf_addch(sb, ',');
			json_add_str(sb, p, (size_t)(e - p));
		}
		strbuf_addstr(sb, "]}");
	}
	strbuf_addstr(sb, "]}");
}

static void write_json(struct strbuf *sb, const struct report *r)
{
	int f = 1, g;
	strbuf_addch(sb, '{');
	jkey(sb, &f, "report_version");
	json_add_i64(sb, 1);
	jkey(sb, &f, "window");
	strbuf_addch(sb, '{');
	g = 1;
	jkey(sb, &g, "since");
	jtime(sb, r->since_ms);
	jkey(sb, &g, "until");
	jtime(sb, r->until_ms);
	jkey(sb, &g, "from");
	jtime(sb, r->from_ms);
	jkey(sb, &g, "to");
	jtime(sb, r->to_ms);
	jkey(sb, &g, "bucket_ms");
	json_add_i64(sb, ROLLUP_BUCKET_MS);
	jkey(sb, &g, "first");
	jtime(sb, r->first_ms);
	jkey(sb, &g, "last");
	jtime(sb, r->last_ms);
	jkey(sb, &g, "span_ms");
	if (r->first_ms == LR_NONE)
		strbuf_addstr(sb, "null");
	else
		json_add_i64(sb, r->last_ms - r->first_ms);
	if (r->lines_removed_ms != LR_NONE) { /* present only then */
		jkey(sb, &g, "lines_removed_until");
		jtime(sb, r->lines_removed_ms);
	}
	strbuf_addch(sb, '}');
	jkey(sb, &f, "filters");
	strbuf_addch(sb, '{');
	g = 1;
	jkey(sb, &g, "frontend");
	jstr(sb, r->frontend);
	jkey(sb, &g, "backend");
	jstr(sb, r->backend);
	strbuf_addch(sb, '}');
	jkey(sb, &f, "lines");
	strbuf_addch(sb, '{');
	g = 1;
	jkey(sb, &g, "total");
	json_add_i64(sb, r->lines_total);
	jkey(sb, &g, "parsed");
	json_add_i64(sb, r->lines_parsed);
	jkey(sb, &g, "unparsed");
	json_add_i64(sb, r->lines_unparsed);
	jkey(sb, &g, "partial");
	json_add_i64(sb, r->lines_partial);
	jkey(sb, &g, "truncated");
	json_add_i64(sb, r->lines_truncated);
	jkey(sb, &g, "by_kind");
	strbuf_addch(sb, '{');
	int h = 1;
	for (int k = 0; k < LR_KIND_MAX; k++) {
		jkey(sb, &h, lr_kind_name((enum lr_kind)k));
		json_add_i64(sb, r->by_kind[k]);
	}
	strbuf_addstr(sb, "}}");
	jkey(sb, &f, "counters");
	strbuf_addch(sb, '{');
	g = 1;
	for (size_t i = 0; i < r->ncounters; i++) {
		if (!g)
			strbuf_addch(sb, ',');
		g = 0;
		json_add_str(sb, r->counters[i].name, strlen(r->counters[i].name));
		strbuf_addch(sb, ':');
		json_add_i64(sb, r->counters[i].value);
	}
	strbuf_addch(sb, '}');
	jkey(sb, &f, "sections");
	strbuf_addch(sb, '[');
	static const char *const sec_names[8] = {"backends", "paths",	    "clients",
						 "series",   "slowest",	    "conn_errors",
						 "headers",  "compare"};
	g = 1;
	for (int i = 0; i < 8; i++) {
		if (!(secs(r) & (1u << i)))
			continue;
		if (!g)
			strbuf_addch(sb, ',');
		g = 0;
		jstr(sb, sec_names[i]);
	}
	strbuf_addch(sb, ']');
	if (secs(r) & REPORT_SEC_PATHS) {
		jkey(sb, &f, "paths");
		jranked(sb, r, &r->paths);
	}
	if (secs(r) & REPORT_SEC_CLIENTS) {
		jkey(sb, &f, "clients");
		jranked(sb, r, &r->clients);
	}
	if (secs(r) & REPORT_SEC_COMPARE) {
		jkey(sb, &f, "compare");
		jcompare(sb, r);
	}
	if (secs(r) & REPORT_SEC_HEADERS) {
		jkey(sb, &f, "headers");
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < r->nheaders; i++) {
			if (i)
				strbuf_addch(sb, ',');
			jranked(sb, r, &r->headers[i].t);
		}
		strbuf_addch(sb, ']');
	}
	if (secs(r) & REPORT_SEC_SERIES) {
		jkey(sb, &f, "series");
		jseries(sb, &r->series);
	}
	if (secs(r) & REPORT_SEC_SLOWEST) {
		jkey(sb, &f, "slowest");
		jslowest(sb, r);
	}
	if (secs(r) & REPORT_SEC_CONNERRS) {
		jkey(sb, &f, "conn_errors");
		strbuf_addch(sb, '{');
		int ce1 = 1;
		jkey(sb, &ce1, "total");
		json_add_i64(sb, r->connerrs_total);
		jkey(sb, &ce1, "rows");
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < r->nconnerrs; i++) {
			const struct report_connerr *ce = &r->connerrs[i];
			int k = 1;
			if (i)
				strbuf_addch(sb, ',');
			strbuf_addch(sb, '{');
			jkey(sb, &k, "frontend");
			jstr(sb, ce->frontend);
			jkey(sb, &k, "bind");
			jstr(sb, ce->bind);
			jkey(sb, &k, "message");
			jstr(sb, ce->message);
			jkey(sb, &k, "count");
			json_add_i64(sb, ce->n);
			jkey(sb, &k, "first");
			jtime(sb, ce->first_ms);
			jkey(sb, &k, "last");
			jtime(sb, ce->last_ms);
			strbuf_addch(sb, '}');
		}
		strbuf_addstr(sb, "]}");
	}
	if (r->min_ta > 0 || r->min_tw > 0) {
		jkey(sb, &f, "timer_floors");
		strbuf_addch(sb, '{');
		int tf = 1;
		jkey(sb, &tf, "min_ta");
		jnum_or_null(sb, r->min_ta, 0);
		jkey(sb, &tf, "min_tw");
		jnum_or_null(sb, r->min_tw, 0);
		strbuf_addch(sb, '}');
	}
	if (!(secs(r) & REPORT_SEC_BACKENDS)) {
		strbuf_addstr(sb, "}\n");
		return;
	}
	jkey(sb, &f, "backends");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < r->nbackends; i++) {
		if (i)
			strbuf_addch(sb, ',');
		jgroup(sb, r, &r->backends[i], 1);
	}
	strbuf_addch(sb, ']');
	jkey(sb, &f, "frontends");
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < r->nfrontends; i++) {
		if (i)
			strbuf_addch(sb, ',');
		jgroup(sb, r, &r->frontends[i], 0);
	}
	strbuf_addch(sb, ']');
	jkey(sb, &f, "balance");
	strbuf_addch(sb, '{');
	g = 1;
	jkey(sb, &g, "inventory");
	strbuf_addstr(sb, r->inventory ? "true" : "false");
	jkey(sb, &g, "threshold");
	if (r->check_balance >= 0)
		json_add_double(sb, r->check_balance, 2);
	else
		strbuf_addstr(sb, "null");
	jkey(sb, &g, "ok");
	strbuf_addstr(sb, r->balance_failed ? "false" : "true");
	jkey(sb, &g, "failed");
	strbuf_addch(sb, '[');
	int first = 1;
	for (size_t i = 0; i < r->nbackends; i++) {
		const struct report_group *b = &r->backends[i];
		if (!b->balance_failed)
			continue;
		int e = 1;
		strbuf_addstr(sb, first ? "{" : ",{");
		first = 0;
		jkey(sb, &e, "backend");
		jstr(sb, b->name);
		jkey(sb, &e, "server");
		jstr(sb, b->worst);
		jkey(sb, &e, "deviation");
		json_add_double(sb, b->max_deviation, 2);
		strbuf_addch(sb, '}');
	}
	/* what the inventory and the traffic disagree on, when it fails the check */
	for (size_t i = 0; report_unlisted_fail(r) && i < r->nbackends; i++) {
		if (!r->backends[i].unlisted)
			continue;
		strbuf_addstr(sb, first ? "{\"backend\":" : ",{\"backend\":");
		first = 0;
		jstr(sb, r->backends[i].name);
		strbuf_addstr(sb, ",\"server\":null,\"deviation\":null,\"reason\":\"unlisted\"}");
	}
	for (size_t i = 0; report_idle_fail(r) && i < r->nidle; i++) {
		strbuf_addstr(sb, first ? "{\"backend\":" : ",{\"backend\":");
		first = 0;
		jstr(sb, r->idle[i]);
		strbuf_addstr(sb, ",\"server\":null,\"deviation\":null,\"reason\":\"idle\"}");
	}
	strbuf_addch(sb, ']');
	/* present when not empty: a report without these gaps reads as before */
	if (r->nunlisted) {
		jkey(sb, &g, "unlisted");
		strbuf_addch(sb, '[');
		for (size_t i = 0, n = 0; i < r->nbackends; i++) {
			if (!r->backends[i].unlisted)
				continue;
			if (n++)
				strbuf_addch(sb, ',');
			jstr(sb, r->backends[i].name);
		}
		strbuf_addch(sb, ']');
	}
	if (r->nidle) {
		jkey(sb, &g, "idle");
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < r->nidle; i++) {
			if (i)
				strbuf_addch(sb, ',');
			jstr(sb, r->idle[i]);
		}
		strbuf_addch(sb, ']');
	}
	strbuf_addstr(sb, "}}\n");
}

/* ------------------------------------------------------------------------------ CSV */

/* One CSV cell, neutralised for spreadsheets (csv_add_cell). */
static void csv_field(struct strbuf *sb, const char *s)
{
	csv_add_cell(sb, s, strlen(s));
}

static void csv_row(struct strbuf *sb, const char *section, const char *fe, const char *be,
		    const char *srv, const struct rollup_agg *a, const struct report_lat *lat,
		    const struct report_server *m)
{
	strbuf_addf(sb, "%s,", section);
	csv_field(sb, fe);
	strbuf_addch(sb, ',');
	csv_field(sb, be);
	strbuf_addch(sb, ',');
	csv_field(sb, srv);
	strbuf_addf(sb, ",%lld,", (long long)a->requests);
	if (m && !m->special)
		strbuf_addf(sb, "%.2f", m->share);
	strbuf_addch(sb, ',');
	if (m && m->expected >= 0)
		strbuf_addf(sb, "%.2f,%.2f", m->expected, m->deviation);
	else
		strbuf_addch(sb, ',');
	strbuf_addf(sb, ",%lld,%.2f", (long long)a->errors, report_pct(a->errors, a->requests));
	for (int k = 0; k < RC_N; k++)
		strbuf_addf(sb, ",%lld", (long long)a->cls[k]);
	strbuf_addf(sb, ",%lld,%lld", (long long)a->retries, (long long)a->redispatches);
	const struct report_lat *l = &lat[RT_TA];
	const int64_t v[5] = {l->p50, l->p90, l->p95, l->p99, l->max};
	for (int i = 0; i < 5; i++) {
		strbuf_addch(sb, ',');
		if (v[i] >= 0)
			strbuf_addf(sb, "%lld", (long long)v[i]);
	}
	strbuf_addstr(sb, "\n");
}

/* A ranked section as its own table: section (path or client), the key, then the numbers. */
static void csv_ranked(struct strbuf *sb, const struct report *r, const struct report_table *t)
{
	struct report_words wd;
	report_table_words(r, t, &wd);
	const char *sec = wd.h ? wd.id : wd.key;
	strbuf_addf(sb,
		    "section,%s,requests,errors,error_pct,ta_p50,ta_p95,ta_p99,ta_max,ta_total_ms,"
		    "bytes\n",
		    wd.key);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct report_row *w = &t->rows[i];
		strbuf_addf(sb, "%s,", sec);
		csv_field(sb, w->key);
		strbuf_addf(sb, ",%lld,%lld,%.2f", (long long)w->requests, (long long)w->errors,
			    report_pct(w->errors, w->requests));
		const int64_t v[4] = {w->p50, w->p95, w->p99, w->max};
		for (int k = 0; k < 4; k++) {
			strbuf_addch(sb, ',');
			if (v[k] >= 0)
				strbuf_addf(sb, "%lld", (long long)v[k]);
		}
		strbuf_addf(sb, ",%lld,%lld\n", (long long)w->ta_sum, (long long)w->bytes);
	}
}

/* Each section is a table with its own header; tables are separated by an empty line. */
static void csv_compare(struct strbuf *sb, const struct report *r)
{
	const struct report_compare *c = &r->compare;
	char fl[64];
	strbuf_addstr(sb, "section,backend,server,requests,base_requests,share_pct,base_share_pct,"
			  "error_pct,base_error_pct,p95_ms,base_p95_ms,flags\n");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct report_cmp_row *w = &c->rows[i];
		strbuf_addstr(sb, "compare,");
		csv_field(sb, w->backend);
		strbuf_addch(sb, ',');
		if (w->server)
			csv_field(sb, w->server);
		strbuf_addf(sb, ",%lld,%lld", (long long)w->req[0], (long long)w->req[1]);
		for (int s = 0; s < 2; s++) {
			strbuf_addch(sb, ',');
			if (w->share[s] >= 0)
				strbuf_addf(sb, "%.2f", w->share[s]);
		}
		for (int s = 0; s < 2; s++) {
			strbuf_addch(sb, ',');
			if (w->req[s])
				strbuf_addf(sb, "%.2f", report_pct(w->err[s], w->req[s]));
		}
		for (int s = 0; s < 2; s++) {
			strbuf_addch(sb, ',');
			if (w->p95[s] >= 0)
				strbuf_addf(sb, "%lld", (long long)w->p95[s]);
		}
		report_cmp_flag_words(w->flags, fl, sizeof(fl));
		strbuf_addf(sb, ",%s\n", fl);
	}
}

static void write_csv(struct strbuf *sb, const struct report *r)
{
	int sep = 0;
	if (secs(r) & REPORT_SEC_PATHS) {
		csv_ranked(sb, r, &r->paths);
		sep = 1;
	}
	if (secs(r) & REPORT_SEC_CLIENTS) {
		if (sep)
			strbuf_addch(sb, '\n');
		csv_ranked(sb, r, &r->clients);
		sep = 1;
	}
	for (size_t i = 0; (secs(r) & REPORT_SEC_HEADERS) && i < r->nheaders; i++) {
		if (sep)
			strbuf_addch(sb, '\n');
		csv_ranked(sb, r, &r->headers[i].t);
		sep = 1;
	}
	if (secs(r) & REPORT_SEC_COMPARE) {
		if (sep)
			strbuf_addch(sb, '\n');
		csv_compare(sb, r);
		sep = 1;
	}
	if (secs(r) & REPORT_SEC_SERIES) {
		if (sep)
			strbuf_addch(sb, '\n');
		strbuf_addstr(sb, "section,time,bucket_ms,requests,errors,error_pct,ta_p95\n");
		for (size_t i = 0; i < r->series.nbins; i++) {
			const struct report_bin *b = &r->series.bins[i];
			char t[40];
			report_fmt_time(b->t_ms, t, sizeof(t));
			strbuf_addf(sb, "series,%s,%lld,%lld,%lld,%.2f,", t,
				    (long long)r->series.bucket_ms, (long long)b->requests,
				    (long long)b->errors, report_pct(b->errors, b->requests));
			if (b->p95 >= 0)
				strbuf_addf(sb, "%lld", (long long)b->p95);
			strbuf_addch(sb, '\n');
		}
		sep = 1;
	}
	if (secs(r) & REPORT_SEC_SLOWEST) {
		if (sep)
			strbuf_addch(sb, '\n');
		strbuf_addstr(sb, "section,backend,time,ta_ms,tw_ms,status,term,server,line\n");
		for (size_t i = 0; i < r->nslowest; i++) {
			const struct report_slow_group *g = &r->slowest[i];
			for (size_t j = 0; j < g->nrows; j++) {
				const struct report_slow *w = &g->rows[j];
				char t[40];
				struct strbuf tmp = STRBUF_INIT;
				report_fmt_time(w->ts_ms, t, sizeof(t));
				strbuf_addstr(sb, "slowest,");
				csv_field(sb, g->backend);
				strbuf_addf(sb, ",%s,%lld,", t, (long long)w->ta);
				if (w->tw >= 0)
					strbuf_addf(sb, "%lld", (long long)w->tw);
				strbuf_addch(sb, ',');
				if (w->status >= 0)
					strbuf_addf(sb, "%lld", (long long)w->status);
				strbuf_addf(sb, ",%s,", w->term);
				csv_field(sb, w->server ? w->server : "");
				strbuf_addch(sb, ',');
				csv_field(sb, line_vis(&tmp, w));
				strbuf_addch(sb, '\n');
				strbuf_release(&tmp);
			}
		}
		sep = 1;
	}
	if (secs(r) & REPORT_SEC_CONNERRS) {
		if (sep)
			strbuf_addch(sb, '\n');
		strbuf_addstr(sb, "section,frontend,bind,message,count,first,last\n");
		for (size_t i = 0; i < r->nconnerrs; i++) {
			const struct report_connerr *ce = &r->connerrs[i];
			char a[40], b[40];
			report_fmt_time(ce->first_ms, a, sizeof(a));
			report_fmt_time(ce->last_ms, b, sizeof(b));
			strbuf_addstr(sb, "conn_error,");
			csv_field(sb, ce->frontend);
			strbuf_addch(sb, ',');
			csv_field(sb, ce->bind);
			strbuf_addch(sb, ',');
			csv_field(sb, ce->message);
			strbuf_addf(sb, ",%lld,%s,%s\n", (long long)ce->n, a, b);
		}
		sep = 1;
	}
	if (!(secs(r) & REPORT_SEC_BACKENDS))
		return;
	if (sep)
		strbuf_addch(sb, '\n');
	strbuf_addstr(sb, "section,frontend,backend,server,requests,share_pct,expected_pct,"
			  "deviation_pp,errors,error_pct,c1xx,c2xx,c3xx,c4xx,c5xx,cother,retries,"
			  "redispatches,ta_p50,ta_p90,ta_p95,ta_p99,ta_max\n");
	for (size_t i = 0; i < r->nbackends; i++) {
		const struct report_group *g = &r->backends[i];
		csv_row(sb, "backend", "", g->name, "", &g->agg, g->lat, NULL);
		for (size_t j = 0; j < g->nmembers; j++)
			csv_row(sb, "server", "", g->name, g->members[j].name, &g->members[j].agg,
				g->members[j].lat, &g->members[j]);
	}
	/* the inventory's gaps: a backend it does not list, a service without traffic */
	for (size_t i = 0; i < r->nbackends; i++) {
		const struct report_group *g = &r->backends[i];
		if (g->unlisted)
			csv_row(sb, "unlisted_backend", "", g->name, "", &g->agg, g->lat, NULL);
	}
	if (r->nidle) {
		struct rollup_agg none;
		struct report_lat lat[RT_N];
		memset(&none, 0, sizeof(none));
		for (int t = 0; t < RT_N; t++)
			lat[t] = (struct report_lat){0, -1, -1, -1, -1, -1, 0};
		for (size_t i = 0; i < r->nidle; i++)
			csv_row(sb, "idle_service", "", r->idle[i], "", &none, lat, NULL);
	}
	for (size_t i = 0; i < r->nfrontends; i++) {
		const struct report_group *g = &r->frontends[i];
		csv_row(sb, "frontend", g->name, "", "", &g->agg, g->lat, NULL);
		for (size_t j = 0; j < g->nmembers; j++)
			csv_row(sb, "frontend_backend", g->name, g->members[j].name, "",
				&g->members[j].agg, g->members[j].lat, &g->members[j]);
	}
}

/* ------------------------------------------------------------------------------ Markdown */

static const char *md(struct strbuf *tmp, const char *s)
{
	strbuf_reset(tmp);
	md_add_cell(tmp, s, strlen(s));
	return tmp->buf;
}

static void md_cell_num(struct strbuf *sb, int64_t v)
{
	if (v < 0)
		strbuf_addstr(sb, " - |");
	else
		strbuf_addf(sb, " %lld |", (long long)v);
}

static void md_group(struct strbuf *sb, const struct report *r, const struct report_group *g,
		     int backend)
{
	struct strbuf tmp = STRBUF_INIT;
	const struct rollup_agg *a = &g->agg;
	int tcp = report_is_tcp(g->kinds);
	strbuf_addf(sb, "\n### %s %s (%s)\n\n", backend ? "Backend" : "Frontend", md(&tmp, g->name),
		    report_mode(g->kinds));
	strbuf_addf(sb, "%lld requests, %lld errors (%.1f%%)", (long long)a->requests,
		    (long long)a->errors, report_pct(a->errors, a->requests));
	if (a->retries || a->redispatches)
		strbuf_addf(sb, ", %lld retries, %lld redispatches", (long long)a->retries,
			    (long long)a->redispatches);
	strbuf_addstr(sb, ".\n");
	if (backend && g->balance_checked) {
		strbuf_addf(sb, "Balance: max deviation %.1f points (%s)", g->max_deviation,
			    md(&tmp, g->worst ? g->worst : "-"));
		if (r->check_balance >= 0)
			strbuf_addf(sb, ", %s the %.1f limit",
				    g->balance_failed ? "**over**" : "within", r->check_balance);
		strbuf_addstr(sb, ".\n");
	}
	if (g->nmembers) {
		strbuf_addf(sb,
			    "\n| %s | requests | share | expected | deviation | errors | error %% |"
			    " %s p50 | p90 | p99 | max |\n",
			    backend ? "server" : "backend", tcp ? "Tt" : "Ta");
		strbuf_addstr(sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (size_t j = 0; j < g->nmembers; j++) {
			const struct report_server *m = &g->members[j];
			const struct report_lat *l = &m->lat[RT_TA];
			strbuf_addf(sb, "| %s | %lld |", md(&tmp, m->name),
				    (long long)m->agg.requests);
			if (m->special)
				strbuf_addstr(sb, " - |");
			else
				strbuf_addf(sb, " %.1f%% |", m->share);
			if (backend && g->balance_checked && m->expected >= 0)
				strbuf_addf(sb, " %.1f%% | %+.1f |", m->expected, m->deviation);
			else
				strbuf_addstr(sb, " - | - |");
			strbuf_addf(sb, " %lld | %.1f%% |", (long long)m->agg.errors,
				    report_pct(m->agg.errors, m->agg.requests));
			md_cell_num(sb, l->p50);
			md_cell_num(sb, l->p90);
			md_cell_num(sb, l->p99);
			md_cell_num(sb, l->max);
			strbuf_addstr(sb, "\n");
		}
	}
	if (a->requests && !tcp) {
		strbuf_addstr(sb, "\nStatus:");
		for (int k = 0; k < RC_N; k++)
			strbuf_addf(sb, " %s %lld%s", class_names[k], (long long)a->cls[k],
				    k + 1 < RC_N ? "," : ".");
		strbuf_addstr(sb, "\nCodes:");
		for (size_t i = 0; i < a->ncodes; i++)
			strbuf_addf(sb, " %lld: %lld%s", (long long)a->codes[i].key,
				    (long long)a->codes[i].n, i + 1 < a->ncodes ? "," : ".");
		strbuf_addstr(sb, "\n");
	}
	if (a->nterms) {
		strbuf_addstr(sb, "\n| termination | count | meaning |\n|---|---:|---|\n");
		for (size_t i = 0; i < a->nterms; i++) {
			char st[3] = {(char)(a->terms[i].key >> 8), (char)(a->terms[i].key & 0xff),
				      0};
			strbuf_addf(sb, "| %s | %lld | ", md(&tmp, st), (long long)a->terms[i].n);
			term_words(sb, a->terms[i].key);
			strbuf_addstr(sb, " |\n");
		}
	}
	if (a->requests) {
		strbuf_addstr(sb, "\n| timer | count | p50 | p90 | p95 | p99 | max |\n"
				  "|---|---:|---:|---:|---:|---:|---:|\n");
		for (int t = 0; t < RT_N; t++) {
			if (tcp && (t == RT_TR || t == RT_TR_RESP))
				continue;
			const struct report_lat *l = &g->lat[t];
			strbuf_addf(sb, "| %s | %lld |",
				    report_timer_name((enum rollup_timer)t, tcp), (long long)l->n);
			md_cell_num(sb, l->p50);
			md_cell_num(sb, l->p90);
			md_cell_num(sb, l->p95);
			md_cell_num(sb, l->p99);
			md_cell_num(sb, l->max);
			strbuf_addstr(sb, "\n");
		}
	}
	if (g->nerrpaths) {
		strbuf_addstr(sb, "\n| status | count | error path |\n|---:|---:|---|\n");
		for (size_t i = 0; i < g->nerrpaths; i++)
			strbuf_addf(sb, "| %lld | %lld | %s |\n", (long long)g->errpaths[i].status,
				    (long long)g->errpaths[i].n,
				    md(&tmp, g->errpaths[i].path[0] ? g->errpaths[i].path : "-"));
	}
	if (g->nevents) {
		strbuf_addstr(sb, "\n| time | server | state | reason |\n|---|---|---|---|\n");
		for (size_t i = 0; i < g->nevents; i++) {
			const struct report_event *ev = &g->events[i];
			char t[40];
			report_fmt_time(ev->ts_ms, t, sizeof(t));
			strbuf_addf(sb, "| %s | %s", t,
				    ev->kind == LR_NOSRV ? "(none)"
							 : md(&tmp, ev->server ? ev->server : "-"));
			strbuf_addf(sb, " | %s",
				    ev->kind == LR_NOSRV ? "no server available"
							 : md(&tmp, ev->state ? ev->state : "-"));
			strbuf_addf(sb, " | %s", md(&tmp, ev->reason ? ev->reason : ""));
			if (ev->info)
				strbuf_addf(sb, " (%s)", md(&tmp, ev->info));
			strbuf_addstr(sb, " |\n");
		}
	}
	strbuf_release(&tmp);
}

static void md_ranked(struct strbuf *sb, const struct report *r, const struct report_table *t)
{
	struct strbuf tmp = STRBUF_INIT;
	struct report_words wd;
	report_table_words(r, t, &wd);
	int paths = wd.paths;
	strbuf_addf(sb, "\n### %s\n\n", wd.title);
	ranked_title(sb, t, wd.what);
	strbuf_addf(sb, "; %lld requests", (long long)t->requests);
	if (paths)
		strbuf_addstr(sb, r->paths_folded ? "; ids folded" : "; as logged");
	strbuf_addstr(sb, ".\n");
	if (!t->nrows) {
		strbuf_release(&tmp);
		return;
	}
	strbuf_addf(sb,
		    "\n| %s | requests | errors | error %% | Ta p50 | p95 | p99 | max | total time |"
		    " bytes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		    wd.key);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct report_row *w = &t->rows[i];
		strbuf_addf(sb, "| %s | %lld | %lld | %.1f%% |", md(&tmp, w->key),
			    (long long)w->requests, (long long)w->errors,
			    report_pct(w->errors, w->requests));
		md_cell_num(sb, w->p50);
		md_cell_num(sb, w->p95);
		md_cell_num(sb, w->p99);
		md_cell_num(sb, w->max);
		strbuf_addch(sb, ' ');
		report_fmt_dur(sb, w->ta_sum, REPORT_DUR_COMPACT);
		strbuf_addf(sb, " | %lld |\n", (long long)w->bytes);
	}
	strbuf_release(&tmp);
}

static void md_series(struct strbuf *sb, const struct report_series *s)
{
	strbuf_addf(sb, "\n### Series\n\n%zu buckets of ", s->nbins);
	bucket_words(sb, s->bucket_ms);
	strbuf_addf(sb, ", %s.\n", series_source(s));
	if (!s->nbins)
		return;
	strbuf_addstr(sb, "\n| time (UTC) | requests | errors | error % | Ta p95 |\n"
			  "|---|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < s->nbins; i++) {
		const struct report_bin *b = &s->bins[i];
		char t[40];
		report_fmt_time(b->t_ms, t, sizeof(t));
		strbuf_addf(sb, "| %s | %lld | %lld | %.1f%% |", t, (long long)b->requests,
			    (long long)b->errors, report_pct(b->errors, b->requests));
		md_cell_num(sb, b->p95);
		strbuf_addch(sb, '\n');
	}
}

static void md_slowest(struct strbuf *sb, const struct report *r)
{
	struct strbuf tmp = STRBUF_INIT, tmp2 = STRBUF_INIT;
	strbuf_addf(sb, "\n### Slowest requests\n\n%zu per backend, by Ta (Tt for TCP).\n",
		    r->slowest_top);
	for (size_t i = 0; i < r->nslowest; i++) {
		const struct report_slow_group *g = &r->slowest[i];
		strbuf_addf(sb, "\n| %s: Ta ms | time (UTC) | server | status | term | line |\n"
				"|---:|---|---|---:|---|---|\n",
			    md(&tmp, g->backend));
		for (size_t j = 0; j < g->nrows; j++) {
			const struct report_slow *w = &g->rows[j];
			char t[40];
			report_fmt_time(w->ts_ms, t, sizeof(t));
			strbuf_addf(sb, "| %lld | %s | %s |", (long long)w->ta, t,
				    md(&tmp, w->server ? w->server : "-"));
			md_cell_num(sb, w->status);
			strbuf_addf(sb, " %s |", md(&tmp, w->term[0] ? w->term : "-"));
			line_vis(&tmp2, w);
			strbuf_addf(sb, " %s |\n", md(&tmp, tmp2.buf));
		}
	}
	strbuf_release(&tmp);
	strbuf_release(&tmp2);
}

static void md_connerrs(struct strbuf *sb, const struct report *r)
{
	struct strbuf tmp = STRBUF_INIT;
	strbuf_addf(sb, "\n### Connection errors\n\n%lld connection errors.\n",
		    (long long)r->connerrs_total);
	if (r->nconnerrs)
		strbuf_addstr(sb, "\n| frontend | bind | count | message | first | last |\n"
				  "|---|---|---:|---|---|---|\n");
	for (size_t i = 0; i < r->nconnerrs; i++) {
		const struct report_connerr *ce = &r->connerrs[i];
		char a[40], b[40];
		report_fmt_time(ce->first_ms, a, sizeof(a));
		report_fmt_time(ce->last_ms, b, sizeof(b));
		strbuf_addf(sb, "| %s |", md(&tmp, ce->frontend));
		strbuf_addf(sb, " %s | %lld |", md(&tmp, ce->bind), (long long)ce->n);
		strbuf_addf(sb, " %s | %s | %s |\n", md(&tmp, ce->message), a, b);
	}
	strbuf_release(&tmp);
}

static void md_compare(struct strbuf *sb, const struct report *r)
{
	const struct report_compare *c = &r->compare;
	struct strbuf tmp = STRBUF_INIT;
	char w0[96], w1[96], fl[64];
	report_cmp_window(c->since[0], c->until[0], w0, sizeof(w0));
	report_cmp_window(c->since[1], c->until[1], w1, sizeof(w1));
	strbuf_addf(sb, "\n### Compare\n\n%s against %s: %zu significant change%s.\n", w0, w1,
		    c->nflagged, c->nflagged == 1 ? "" : "s");
	if (c->nrows)
		strbuf_addstr(sb, "\n| backend | server | requests | base | share | base | error % |"
				  " base | p95 | base | flags |\n"
				  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct report_cmp_row *w = &c->rows[i];
		strbuf_addf(sb, "| %s |", md(&tmp, w->backend));
		strbuf_addf(sb, " %s | %lld | %lld |", w->server ? md(&tmp, w->server) : "",
			    (long long)w->req[0], (long long)w->req[1]);
		for (int s = 0; s < 2; s++)
			if (w->share[s] >= 0)
				strbuf_addf(sb, " %.1f%% |", w->share[s]);
			else
				strbuf_addstr(sb, " - |");
		for (int s = 0; s < 2; s++)
			if (w->req[s])
				strbuf_addf(sb, " %.1f%% |", report_pct(w->err[s], w->req[s]));
			else
				strbuf_addstr(sb, " - |");
		md_cell_num(sb, w->p95[0]);
		md_cell_num(sb, w->p95[1]);
		report_cmp_flag_words(w->flags, fl, sizeof(fl));
		strbuf_addf(sb, " %s |\n", fl);
	}
	strbuf_release(&tmp);
}

static void write_markdown(struct strbuf *sb, const struct report *r)
{
	char a[40], b[40];
	strbuf_addstr(sb, "## halog report\n\n");
	if (r->first_ms != LR_NONE) {
		report_fmt_time(r->first_ms, a, sizeof(a));
		report_fmt_time(r->last_ms, b, sizeof(b));
		strbuf_addf(sb, "From %s to %s (", a, b);
		report_fmt_dur(sb, r->last_ms - r->first_ms, REPORT_DUR_COMPACT);
		strbuf_addstr(sb, ").\n");
	}
	if (r->from_ms != LR_NONE || r->to_ms != LR_NONE) {
		strbuf_addstr(sb, r->window_exact ? "Window (exact):" : "Window (whole minutes):");
		if (r->from_ms != LR_NONE) {
			report_fmt_time(r->from_ms, a, sizeof(a));
			strbuf_addf(sb, " from %s", a);
		}
		if (r->to_ms != LR_NONE) {
			report_fmt_time(r->to_ms, b, sizeof(b));
			strbuf_addf(sb, " until %s", b);
		}
		strbuf_addstr(sb, ".\n");
	}
	if (r->lines_removed_ms != LR_NONE) {
		report_fmt_time(r->lines_removed_ms, a, sizeof(a));
		strbuf_addf(sb,
			    "Retention removed the raw lines logged up to %s (search and tail no "
			    "longer show them); their counts here are kept.\n",
			    a);
	}
	if (r->frontend || r->backend) {
		struct strbuf tmp = STRBUF_INIT;
		if (r->frontend)
			strbuf_addf(sb, "Frontend: %s.\n", md(&tmp, r->frontend));
		if (r->backend)
			strbuf_addf(sb, "Backend: %s.\n", md(&tmp, r->backend));
		strbuf_release(&tmp);
	}
	if (r->min_ta > 0 || r->min_tw > 0) {
		strbuf_addstr(sb, "Only requests with");
		if (r->min_ta > 0)
			strbuf_addf(sb, " Ta >= %lld ms", (long long)r->min_ta);
		if (r->min_tw > 0)
			strbuf_addf(sb, "%s Tw >= %lld ms", r->min_ta > 0 ? " and" : "",
				    (long long)r->min_tw);
		strbuf_addstr(sb, ".\n");
	}
	strbuf_addf(sb, "Lines: %lld total, %lld parsed, %lld unparsed", (long long)r->lines_total,
		    (long long)r->lines_parsed, (long long)r->lines_unparsed);
	for (int k = 1; k < LR_KIND_MAX; k++)
		if (r->by_kind[k])
			strbuf_addf(sb, ", %s %lld", lr_kind_name((enum lr_kind)k),
				    (long long)r->by_kind[k]);
	strbuf_addstr(sb, ".\n");
	if (r->ncounters) {
		struct strbuf tmp = STRBUF_INIT;
		strbuf_addstr(sb, "Listener:");
		for (size_t i = 0; i < r->ncounters; i++)
			strbuf_addf(sb, " %s %lld%s", md(&tmp, r->counters[i].name),
				    (long long)r->counters[i].value,
				    i + 1 < r->ncounters ? "," : ".");
		strbuf_addstr(sb, "\n");
		strbuf_release(&tmp);
	}
	if (secs(r) & REPORT_SEC_PATHS)
		md_ranked(sb, r, &r->paths);
	if (secs(r) & REPORT_SEC_CLIENTS)
		md_ranked(sb, r, &r->clients);
	if ((secs(r) & REPORT_SEC_HEADERS) && !r->nheaders)
		strbuf_addstr(sb, "\n### Headers\n\nNone captured in the window.\n");
	for (size_t i = 0; (secs(r) & REPORT_SEC_HEADERS) && i < r->nheaders; i++)
		md_ranked(sb, r, &r->headers[i].t);
	if (secs(r) & REPORT_SEC_SERIES)
		md_series(sb, &r->series);
	if (secs(r) & REPORT_SEC_SLOWEST)
		md_slowest(sb, r);
	if (secs(r) & REPORT_SEC_CONNERRS)
		md_connerrs(sb, r);
	if (secs(r) & REPORT_SEC_COMPARE)
		md_compare(sb, r);
	for (size_t i = 0; i < r->nbackends; i++)
		md_group(sb, r, &r->backends[i], 1);
	for (size_t i = 0; i < r->nfrontends; i++)
		md_group(sb, r, &r->frontends[i], 0);
	if (r->nunlisted || r->nidle) {
		struct strbuf tmp = STRBUF_INIT;
		strbuf_addstr(sb, "\n");
		for (size_t i = 0; i < r->nbackends; i++)
			if (r->backends[i].unlisted)
				strbuf_addf(sb, "- Inventory: backend %s has traffic but no service%s.\n",
					    md(&tmp, r->backends[i].name),
					    r->allow_unlisted ? " (allowed)" : "");
		for (size_t i = 0; i < r->nidle; i++)
			strbuf_addf(sb, "- Inventory: backend %s got no traffic in the window%s.\n",
				    md(&tmp, r->idle[i]), r->allow_idle ? " (allowed)" : "");
		strbuf_release(&tmp);
	}
	if (r->check_balance >= 0)
		strbuf_addf(sb, "\nBalance check (%.1f points): %s.\n", r->check_balance,
			    r->balance_failed ? "**failed**" : "ok");
}

int report_write(const struct report *r, enum report_format f, FILE *fp)
{
	struct strbuf sb = STRBUF_INIT;
	switch (f) {
	case REPORT_TEXT:
		write_text(&sb, r);
		break;
	case REPORT_JSON:
		write_json(&sb, r);
		break;
	case REPORT_CSV:
		write_csv(&sb, r);
		break;
	case REPORT_MARKDOWN:
		write_markdown(&sb, r);
		break;
	case REPORT_HTML:
		if (report_html(r, &sb)) {
			strbuf_release(&sb);
			errno = ENOMEM;
			return -1;
		}
		break;
	}
	int ret = 0;
	if (fwrite(sb.buf, 1, sb.len, fp) != sb.len || fflush(fp))
		ret = -1;
	strbuf_release(&sb);
	return ret;
}
