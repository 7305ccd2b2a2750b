/* Evaluating one alert over one window, and the payloads a webhook receives (see eval.h). */
#include "alert/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"
#include "json.h"
#include "query/query.h"
#include "report/report.h"
#include "store/store.h"

/* ---- compiling ---- */

int alert_def_compile(struct store *st, const struct store_alert *a, struct alert_def *d, char *err,
		      size_t errsz)
{
	struct diag_list dl = DIAG_LIST_INIT;

	memset(d, 0, sizeof(*d));
	d->a = a;
	if (a->balance) {
		d->inv = calloc(1, sizeof(*d->inv));
		if (!d->inv) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		if (inv_load_msg(a->balance, NULL, d->inv, err, errsz)) {
			free(d->inv);
			d->inv = NULL;
			goto fail;
		}
		return 0;
	}
	if (a->saved) {
		struct store_saved sv;
		int rc = store_saved_get(st, a->saved, &sv);

		if (rc) {
			snprintf(err, errsz, rc < 0 ? "%s" : "saved search '%s' is gone",
				 rc < 0 ? store_errmsg(st) : a->saved);
			goto fail;
		}
		d->query_text = sv.query;
		sv.query = NULL;
		store_saved_release(&sv);
	} else {
		d->query_text = strdup(a->query ? a->query : "");
		if (!d->query_text) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
	}
	dl.max = 1;
	d->q = query_parse(d->query_text, strlen(d->query_text), &dl);
	if (!d->q) {
		snprintf(err, errsz, "query '%s': column %u: %s", d->query_text,
			 dl.n ? dl.items[0].col : 0, dl.n ? dl.items[0].msg : "invalid");
		goto fail;
	}
	d->e = alert_expr_parse(a->expr ? a->expr : "", a->expr ? strlen(a->expr) : 0, &dl);
	if (!d->e) {
		snprintf(err, errsz, "--when '%s': column %u: %s", a->expr ? a->expr : "",
			 dl.n ? dl.items[0].col : 0, dl.n ? dl.items[0].msg : "invalid");
		goto fail;
	}
	diag_release(&dl);
	return 0;
fail:
	diag_release(&dl);
	alert_def_release(d);
	return -1;
}

void alert_def_release(struct alert_def *d)
{
	free(d->query_text);
	query_free(d->q);
	alert_expr_free(d->e);
	if (d->inv) {
		inv_release(d->inv);
		free(d->inv);
	}
	memset(d, 0, sizeof(*d));
}

/* ---- evaluating ---- */

static void add_time(struct strbuf *sb, int64_t ms)
{
	char t[40];

	report_fmt_time(ms, t, sizeof(t));
	strbuf_addstr(sb, t);
}

int alert_window_end(struct store_reader *rd, struct store_pos from, int64_t end_ms,
		     struct store_pos *to)
{
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	int r, late;

	*to = from;
	/* two cheap looks: the first line from `from` (none, or received at or after the end:
	 * an empty window), then the last one received before the end */
	for (int pass = 0; pass < 2; pass++) {
		store_sel_init(&sel);
		sel.from = from;
		sel.order = pass ? STORE_NEWEST : STORE_OLDEST;
		sel.limit = 1;
		sel.want = STORE_WANT_LINE;
		if (pass) {
			sel.clock = STORE_RECEIVED;
			sel.until_ms = end_ms;
		}
		if (!(c = store_cursor_open(rd, &sel)))
			return -1;
		r = store_cursor_next(c, &ln);
		if (r > 0 && pass)
			*to = store_pos_next(ln->pos);
		/* ln belongs to the cursor: read it before closing */
		late = r > 0 && ln->recv_ms >= end_ms;
		store_cursor_close(c);
		if (r < 0)
			return -1;
		if (!pass && (r == 0 || late))
			return 0;
	}
	return 0;
}

/* True when e reads only count and rate. */
static int counts_only(const struct alert_expr *e)
{
	size_t n;
	const struct alert_metric *m = alert_expr_metrics(e, &n);

	for (size_t i = 0; i < n; i++)
		if (m[i].kind != AM_COUNT && m[i].kind != AM_RATE)
			return 0;
	return 1;
}

/* The window's lines through a cursor: all of them counted, the traffic aggregated as halog
 * report aggregates it (only counted when the condition reads nothing else). Returns 0 or -1
 * (err). */
static int count_lines(struct store_reader *rd, const struct alert_def *d, struct alert_result *res,
		       char *err, size_t errsz)
{
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	int r;

	store_sel_init(&sel);
	sel.from = res->from;
	sel.to = res->to;
	sel.query = d->q;
	sel.want = STORE_WANT_TRAFFIC;
	if (counts_only(d->e)) {
		/* count and rate need no record: the store counts (much cheaper on a busy window)
		 */
		if (store_count(rd, &sel, &res->stats.count)) {
			snprintf(err, errsz, "%s", store_reader_errmsg(rd));
			return -1;
		}
		res->stats.counted_only = 1;
		return 0;
	}
	if (!(c = store_cursor_open(rd, &sel))) {
		snprintf(err, errsz, "%s", store_reader_errmsg(rd));
		return -1;
	}
	while ((r = store_cursor_next(c, &ln)) > 0) {
		res->stats.count++;
		if ((ln->rec.kind == LR_HTTP || ln->rec.kind == LR_TCP) &&
		    rollup_agg_add(&res->stats.agg, &ln->rec)) {
			r = -2;
			break;
		}
	}
	if (r < 0)
		snprintf(err, errsz, "%s", r == -2 ? "out of memory" : store_reader_errmsg(rd));
	store_cursor_close(c);
	return r < 0 ? -1 : 0;
}

/* The newest matching lines of the window, as a JSON array in res->sample. Returns 0 or -1. */
static int sample_lines(struct store_reader *rd, const struct alert_def *d,
			struct alert_result *res, char *err, size_t errsz)
{
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	struct strbuf *sb = &res->sample;
	int r, rc = strbuf_addch(sb, '[');

	store_sel_init(&sel);
	sel.from = res->from;
	sel.to = res->to;
	sel.query = d->q;
	sel.order = STORE_NEWEST;
	sel.limit = ALERT_SAMPLE_LINES;
	sel.want = STORE_WANT_LINE;
	if (res->stats.count) {
		if (!(c = store_cursor_open(rd, &sel))) {
			snprintf(err, errsz, "%s", store_reader_errmsg(rd));
			return -1;
		}
		while ((r = store_cursor_next(c, &ln)) > 0) {
			size_t len =
				ln->raw.len < ALERT_SAMPLE_BYTES ? ln->raw.len : ALERT_SAMPLE_BYTES;

			rc |= strbuf_addstr(sb, sb->len > 1 ? ",{\"id\":" : "{\"id\":");
			rc |= json_add_i64(sb, ln->pos.v);
			rc |= strbuf_addstr(sb, ",\"time\":\"");
			add_time(sb, ln->recv_ms);
			rc |= strbuf_addstr(sb, "\",\"source\":");
			rc |= json_add_str(sb, ln->source.p ? ln->source.p : "", ln->source.len);
			rc |= strbuf_addstr(sb, ",\"line\":");
			rc |= json_add_str(sb, ln->raw.p ? ln->raw.p : "", len);
			if (len < ln->raw.len)
				rc |= strbuf_addstr(sb, ",\"truncated\":true");
			rc |= strbuf_addch(sb, '}');
		}
		store_cursor_close(c);
		if (r < 0) {
			snprintf(err, errsz, "%s", store_reader_errmsg(rd));
			return -1;
		}
	}
	if (rc | strbuf_addch(sb, ']')) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

static int eval_lines(struct store_reader *rd, const struct alert_def *d, struct alert_result *res,
		      char *err, size_t errsz)
{
	size_t nm;
	const struct alert_metric *m;

	if (count_lines(rd, d, res, err, errsz))
		return -1;
	res->firing = alert_expr_eval(d->e, &res->stats);
	m = alert_expr_metrics(d->e, &nm);
	if (nm && alert_metric_value(&m[0], &res->stats, &res->value))
		res->value = NAN;
	if (alert_expr_explain(d->e, &res->stats, &res->detail)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return sample_lines(rd, d, res, err, errsz);
}

static int add_backend(struct alert_result *res, const struct report_group *g,
		       const struct store_alert *a)
{
	struct alert_backend *b = realloc(res->backends, (res->nbackends + 1) * sizeof(*b));
	int rc = 0, first = 1;

	if (!b)
		return -1;
	res->backends = b;
	b += res->nbackends++;
	memset(b, 0, sizeof(*b));
	strbuf_init(&b->servers);
	b->name = strdup(g->name);
	b->worst = g->worst ? strdup(g->worst) : NULL;
	if (!b->name || (g->worst && !b->worst))
		return -1;
	b->requests = g->agg.requests;
	b->max_deviation = g->max_deviation;
	b->judged = g->balance_checked && b->requests >= a->min_requests;
	b->failed = b->judged && g->max_deviation > a->tolerance;
	rc |= strbuf_addch(&b->servers, '[');
	for (size_t j = 0; j < g->nmembers; j++) {
		const struct report_server *m = &g->members[j];

		if (m->special)
			continue;
		rc |= strbuf_addstr(&b->servers, first ? "{\"server\":" : ",{\"server\":");
		first = 0;
		rc |= json_add_str(&b->servers, m->name, strlen(m->name));
		rc |= strbuf_addstr(&b->servers, ",\"requests\":");
		rc |= json_add_i64(&b->servers, m->agg.requests);
		rc |= strbuf_addstr(&b->servers, ",\"share\":");
		rc |= json_add_double(&b->servers, m->share, 1);
		if (m->expected >= 0) {
			rc |= strbuf_addstr(&b->servers, ",\"expected\":");
			rc |= json_add_double(&b->servers, m->expected, 1);
			rc |= strbuf_addstr(&b->servers, ",\"deviation\":");
			rc |= json_add_double(&b->servers, m->deviation, 1);
		}
		rc |= strbuf_addch(&b->servers, '}');
	}
	rc |= strbuf_addch(&b->servers, ']');
	return rc ? -1 : 0;
}

static int eval_balance(struct store_reader *rd, const struct alert_def *d,
			struct alert_result *res, char *err, size_t errsz)
{
	struct report_opts o;
	struct report r;
	const struct store_alert *a = d->a;
	int rc = 0, judged = 0;

	memset(&o, 0, sizeof(o));
	o.since_ms = res->from_ms;
	o.until_ms = res->to_ms;
	o.backend = a->backend;
	o.inv = d->inv;
	o.check_balance = a->tolerance;
	if (report_build(rd, &o, &r, err, errsz))
		return -1;
	res->value = 0;
	for (size_t i = 0; i < r.nbackends && !rc; i++) {
		const struct report_group *g = &r.backends[i];

		if (!inv_backend_find(d->inv, g->name))
			continue;
		if (add_backend(res, g, a)) {
			rc = -1;
			break;
		}
		res->stats.agg.requests += g->agg.requests;
		res->stats.agg.errors += g->agg.errors;
	}
	strbuf_addch(&res->sample, '[');
	for (size_t i = 0; i < res->nbackends && !rc; i++) {
		const struct alert_backend *b = &res->backends[i];

		if (!b->judged)
			continue;
		judged++;
		if (b->max_deviation > res->value)
			res->value = b->max_deviation;
		if (!b->failed)
			continue;
		res->firing = 1;
		rc |= strbuf_addf(&res->detail, "%s%s: %s deviates %.1f points (tolerance %g)",
				  res->detail.len ? ", " : "", b->name, b->worst ? b->worst : "?",
				  b->max_deviation, a->tolerance);
	}
	if (!rc && !res->firing)
		rc |= strbuf_addf(&res->detail,
				  judged ? "%d backend%s within %g points (largest deviation %.1f)"
					 : "no backend with %d or more requests",
				  judged ? judged : (int)a->min_requests, judged == 1 ? "" : "s",
				  a->tolerance, res->value);
	rc |= strbuf_addch(&res->sample, ']');
	report_release(&r);
	if (rc) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

int alert_eval(struct store_reader *rd, const struct alert_def *d, int64_t from_ms, int64_t to_ms,
	       struct store_pos from, struct store_pos to, struct alert_result *res, char *err,
	       size_t errsz)
{
	int rc;

	memset(res, 0, sizeof(*res));
	strbuf_init(&res->detail);
	strbuf_init(&res->sample);
	res->from_ms = from_ms;
	res->to_ms = to_ms;
	res->from = from;
	res->to = to;
	res->stats.window_ms = to_ms - from_ms;
	rc = d->inv ? eval_balance(rd, d, res, err, errsz) : eval_lines(rd, d, res, err, errsz);
	if (rc)
		alert_result_release(res);
	return rc;
}

void alert_result_release(struct alert_result *res)
{
	rollup_agg_release(&res->stats.agg);
	strbuf_release(&res->detail);
	strbuf_release(&res->sample);
	for (size_t i = 0; i < res->nbackends; i++) {
		free(res->backends[i].name);
		free(res->backends[i].worst);
		strbuf_release(&res->backends[i].servers);
	}
	free(res->backends);
	memset(res, 0, sizeof(*res));
}

int alert_key(const struct alert_def *d, int64_t from_ms, struct strbuf *out)
{
	return strbuf_addf(out, "halog-%s-%lld", d->a->id, (long long)from_ms);
}

/* ---- payloads ---- */

/* Percent-encodes s for a URL query value. */
static int url_encode(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			rc |= strbuf_addch(sb, c);
		else
			rc |= strbuf_addf(sb, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc;
}

/* SERVE/search?q=QUERY&since=@S&until=@E: the window's matches in a running halog serve. */
static int search_link(struct strbuf *sb, const char *serve_url, const char *query,
		       const struct alert_result *r)
{
	size_t n = strlen(serve_url);
	int rc;

	while (n && serve_url[n - 1] == '/')
		n--;
	rc = strbuf_add(sb, serve_url, n) | strbuf_addstr(sb, "/search?q=");
	rc |= url_encode(sb, query);
	return rc | strbuf_addf(sb, "&since=%%40%lld&until=%%40%lld",
				(long long)(r->from_ms / 1000), (long long)(r->to_ms / 1000));
}

/* The condition as people read it. */
static int add_condition(struct strbuf *sb, const struct store_alert *a)
{
	if (a->balance)
		return strbuf_addf(sb, "balance within %g points of %s", a->tolerance, a->balance);
	return strbuf_addstr(sb, a->expr ? a->expr : "");
}

static int json_kv_str(struct strbuf *sb, const char *key, const char *v)
{
	int rc = strbuf_addch(sb, ',') | json_add_key(sb, key);

	if (!v)
		return rc | strbuf_addstr(sb, "null");
	return rc | json_add_str(sb, v, strlen(v));
}

/* {"count":…,"rate":…,"requests":…,"errors":…,"errors%":…} and each timer the condition reads
 * ("p95(Ta)":…), null when absent. */
static int add_values(struct strbuf *sb, const struct alert_def *d, const struct alert_result *r)
{
	static const struct alert_metric always[] = {
		{AM_COUNT, RT_TA, 0},  {AM_RATE, RT_TA, 0},	  {AM_REQUESTS, RT_TA, 0},
		{AM_ERRORS, RT_TA, 0}, {AM_ERRORS_PCT, RT_TA, 0},
	};
	const size_t nalways = sizeof(always) / sizeof(always[0]);
	struct strbuf obj = STRBUF_INIT, key = STRBUF_INIT;
	const struct alert_metric *m = NULL;
	size_t nm = 0;
	int rc = strbuf_addch(&obj, '{');

	if (d->e)
		m = alert_expr_metrics(d->e, &nm);
	for (size_t i = 0; i < nalways + nm; i++) {
		const struct alert_metric *x = i < nalways ? &always[i] : &m[i - nalways];
		double v;

		strbuf_reset(&key);
		rc |= strbuf_addch(&key, '"');
		rc |= alert_metric_name(x, &key);
		rc |= strbuf_addch(&key, '"');
		if (strstr(obj.buf, key.buf))
			continue; /* already there */
		rc |= strbuf_addstr(&obj, obj.len > 1 ? "," : "");
		rc |= strbuf_add(&obj, key.buf, key.len);
		rc |= strbuf_addch(&obj, ':');
		if (alert_metric_value(x, &r->stats, &v))
			rc |= strbuf_addstr(&obj, "null");
		else if (v == floor(v) && fabs(v) < 1e15)
			rc |= json_add_i64(&obj, (int64_t)v);
		else
			rc |= json_add_double(&obj, v, 3);
	}
	rc |= strbuf_addch(&obj, '}');
	rc |= strbuf_add(sb, obj.buf, obj.len);
	strbuf_release(&obj);
	strbuf_release(&key);
	return rc;
}

static int payload_json(const struct alert_def *d, const struct alert_result *r, const char *key,
			const char *status, const char *serve_url, const char *host,
			struct strbuf *sb)
{
	const struct store_alert *a = d->a;
	struct strbuf cond = STRBUF_INIT;
	int rc = 0;

	rc |= add_condition(&cond, a);
	rc |= strbuf_addf(sb, "{\"version\":%d", ALERT_PAYLOAD_VERSION);
	rc |= json_kv_str(sb, "idempotency_key", key);
	rc |= json_kv_str(sb, "alert", a->name);
	rc |= json_kv_str(sb, "status", status);
	rc |= json_kv_str(sb, "condition", cond.buf);
	rc |= json_kv_str(sb, "summary", r->detail.buf);
	if (!a->balance) {
		rc |= json_kv_str(sb, "query", d->query_text);
		rc |= json_kv_str(sb, "saved_search", a->saved);
	} else {
		rc |= json_kv_str(sb, "inventory", a->balance);
		rc |= json_kv_str(sb, "backend", a->backend);
	}
	rc |= strbuf_addstr(sb, ",\"window\":{\"start\":\"");
	add_time(sb, r->from_ms);
	rc |= strbuf_addstr(sb, "\",\"end\":\"");
	add_time(sb, r->to_ms);
	rc |= strbuf_addf(sb, "\",\"start_ms\":%lld,\"end_ms\":%lld,\"seconds\":%lld}",
			  (long long)r->from_ms, (long long)r->to_ms,
			  (long long)((r->to_ms - r->from_ms) / 1000));
	if (!a->balance) {
		rc |= strbuf_addstr(sb, ",\"count\":");
		rc |= json_add_i64(sb, r->stats.count);
		rc |= strbuf_addstr(sb, ",\"values\":");
		rc |= add_values(sb, d, r);
		rc |= strbuf_addstr(sb, ",\"sample\":");
		rc |= strbuf_add(sb, r->sample.buf, r->sample.len);
	} else {
		rc |= strbuf_addstr(sb, ",\"max_deviation\":");
		rc |= json_add_double(sb, r->value, 1);
		rc |= strbuf_addf(sb, ",\"tolerance\":%g,\"min_requests\":%lld,\"backends\":[",
				  a->tolerance, (long long)a->min_requests);
		for (size_t i = 0; i < r->nbackends; i++) {
			const struct alert_backend *b = &r->backends[i];

			rc |= strbuf_addstr(sb, i ? ",{\"backend\":" : "{\"backend\":");
			rc |= json_add_str(sb, b->name, strlen(b->name));
			rc |= strbuf_addstr(sb, ",\"requests\":");
			rc |= json_add_i64(sb, b->requests);
			rc |= strbuf_addf(sb, ",\"judged\":%s,\"out_of_tolerance\":%s",
					  b->judged ? "true" : "false",
					  b->failed ? "true" : "false");
			rc |= strbuf_addstr(sb, ",\"max_deviation\":");
			rc |= json_add_double(sb, b->max_deviation, 1);
			rc |= json_kv_str(sb, "worst", b->worst);
			rc |= strbuf_addstr(sb, ",\"servers\":");
			rc |= strbuf_add(sb, b->servers.buf, b->servers.len);
			rc |= strbuf_addch(sb, '}');
		}
		rc |= strbuf_addch(sb, ']');
	}
	if (serve_url && *serve_url && !a->balance) {
		strbuf_reset(&cond);
		rc |= search_link(&cond, serve_url, d->query_text, r);
		rc |= strbuf_addstr(sb, ",\"links\":{\"search\":");
		rc |= json_add_str(sb, cond.buf, cond.len);
		rc |= strbuf_addch(sb, '}');
	}
	rc |= strbuf_addstr(sb, ",\"halog\":{\"host\":");
	rc |= json_add_str(sb, host ? host : "", host ? strlen(host) : 0);
	rc |= strbuf_addstr(sb, "}}");
	strbuf_release(&cond);
	return rc ? -1 : 0;
}

/* Text for Slack's mrkdwn: &, < and > escaped, backticks made harmless inside code blocks. */
static int slack_text(struct strbuf *sb, const char *s, size_t len)
{
	int rc = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '&')
			rc |= strbuf_addstr(sb, "&amp;");
		else if (c == '<')
			rc |= strbuf_addstr(sb, "&lt;");
		else if (c == '>')
			rc |= strbuf_addstr(sb, "&gt;");
		else if (c == '`')
			rc |= strbuf_addch(sb, '\'');
		else
			rc |= strbuf_addch(sb, c);
	}
	return rc;
}

/* The sample's "line" strings, read back from the JSON array the scan built. The JSON
 * escapes are undone only for \" and \\; other escapes stay visible, which is what a chat
 * message wants for control bytes. */
static int slack_sample(struct strbuf *sb, const struct strbuf *sample, size_t max_lines)
{
	const char *p = sample->buf;
	size_t n = 0;
	int rc = 0;

	while (n < max_lines && (p = strstr(p, "\"line\":\"")) != NULL) {
		size_t k = 0;

		p += 8;
		rc |= strbuf_addstr(sb, n ? "\n" : "");
		while (*p && *p != '"' && k < 300) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
				p++;
			}
			rc |= slack_text(sb, p, 1);
			p++;
			k++;
		}
		n++;
	}
	return rc;
}

static int payload_slack(const struct alert_def *d, const struct alert_result *r, const char *key,
			 const char *status, const char *serve_url, const char *host,
			 struct strbuf *sb)
{
	const struct store_alert *a = d->a;
	struct strbuf t = STRBUF_INIT, cond = STRBUF_INIT;
	int rc = 0;

	rc |= add_condition(&cond, a);
	/* the fallback text: what notifications show */
	rc |= strbuf_addf(&t, "halog alert %s %s: ", a->name, status);
	rc |= slack_text(&t, r->detail.buf, r->detail.len);
	rc |= strbuf_addstr(sb, "{\"text\":");
	rc |= json_add_str(sb, t.buf, t.len);
	rc |= strbuf_addstr(sb, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\","
				"\"text\":");
	strbuf_reset(&t);
	rc |= strbuf_addf(&t, ":rotating_light: *halog alert `%s`* %s\n`", a->name, status);
	rc |= slack_text(&t, cond.buf, cond.len);
	rc |= strbuf_addstr(&t, "`: ");
	rc |= slack_text(&t, r->detail.buf, r->detail.len);
	if (!a->balance) {
		rc |= strbuf_addstr(&t, "\nquery `");
		rc |= slack_text(&t, d->query_text, strlen(d->query_text));
		rc |= strbuf_addstr(&t, "`");
		if (serve_url && *serve_url) {
			rc |= strbuf_addstr(&t, " <");
			rc |= search_link(&t, serve_url, d->query_text, r);
			rc |= strbuf_addstr(&t, "|open in halog serve>");
		}
	}
	rc |= json_add_str(sb, t.buf, t.len);
	rc |= strbuf_addstr(sb, "}}");
	if (!a->balance && r->stats.count) {
		strbuf_reset(&t);
		rc |= strbuf_addstr(&t, "```");
		rc |= slack_sample(&t, &r->sample, 3);
		rc |= strbuf_addstr(&t, "```");
		rc |= strbuf_addstr(
			sb, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
		rc |= json_add_str(sb, t.buf, t.len);
		rc |= strbuf_addstr(sb, "}}");
	}
	strbuf_reset(&t);
	rc |= strbuf_addstr(&t, "window ");
	add_time(&t, r->from_ms);
	rc |= strbuf_addstr(&t, " to ");
	add_time(&t, r->to_ms);
	rc |= strbuf_addf(&t, " · %s · key %s", host ? host : "", key);
	rc |= strbuf_addstr(sb, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\","
				"\"text\":");
	rc |= json_add_str(sb, t.buf, t.len);
	rc |= strbuf_addstr(sb, "}]}]}");
	strbuf_release(&t);
	strbuf_release(&cond);
	return rc ? -1 : 0;
}

int alert_payload(const struct alert_def *d, const struct alert_result *res, const char *key,
		  const char *status, const char *serve_url, const char *host, struct strbuf *out)
{
	if (d->a->format && !strcmp(d->a->format, "slack"))
		return payload_slack(d, res, key, status, serve_url, host, out);
	return payload_json(d, res, key, status, serve_url, host, out);
}
