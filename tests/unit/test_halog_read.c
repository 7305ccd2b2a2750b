/* The store's read API (store/read.h) against a real store written by store_add: the contract a
 * backend must keep. Cursors (orders, positions, limits, tail, kinds, names, sources, clocks,
 * fields), counts and histograms, aggregates checked against the request records they summarise,
 * snapshots, and the refusals. Nothing here knows a table or a row id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "parse/logrec.h"
#include "query/query.h"
#include "store/read.h"
#include "store/rollup.h"
#include "store/store.h"

#define T0 1764583200000LL /* 2025-12-01T10:00:00Z, a minute boundary */
#define RECV0 1764590000000LL

static char dir[256], path[512];

static struct lr_str S(const char *s) {
	struct lr_str r = {s, (uint32_t)strlen(s)};
	return r;
}

/* A request: fe/be/srv, status, Ta, at logged time ts, received at recv from source src. */
static void
add_req(struct store *st, int64_t recv, int64_t ts, const char *src, const char *fe, const char *be,
	const char *srv, int status, int ta)
{
	char raw[256];
	struct logrec r;
	logrec_clear(&r);
	snprintf(raw, sizeof(raw), "%s %s/%s %d %d", fe, be, srv, status, ta);
	r.kind = LR_HTTP;
	r.ts_ms = ts;
	r.host = S("lb1");
	r.tag = S("haproxy");
	r.pid = 42;
	r.frontend = S(fe);
	r.backend = S(be);
	r.server = S(srv);
	r.status_code = status;
	r.t_req = 1;
	r.t_wait = 0;
	r.t_connect = 2;
	r.t_resp = ta - 3 > 0 ? ta - 3 : 0;
	r.t_active = ta;
	r.retries = status == 503 ? 1 : 0;
	r.bytes_read = 1000 + status;
	r.client_ip = S("10.0.0.7");
	r.client_port = 5555;
	r.method = S("GET");
	r.path = S(status >= 500 ? "/fail" : "/ok");
	r.query = S("a=1");
	r.uri = S(status >= 500 ? "/fail?a=1" : "/ok?a=1");
	r.version = S("HTTP/1.1");
	r.cap_req = S("agent");
	memcpy(r.term, status >= 500 ? "SH--" : "----", 5);
	struct store_msg m = {raw, strlen(raw), recv, src, 0};
	assert_int_equal(store_add(st, &m, &r), 0);
}

static void add_event(struct store *st, int64_t recv, int64_t ts, enum lr_kind kind,
		      const char *proxy, const char *srv, const char *state)
{
	char raw[128];
	struct logrec r;
	logrec_clear(&r);
	snprintf(raw, sizeof(raw), "event %s/%s %s", proxy, srv, state);
	r.kind = kind;
	r.ts_ms = ts;
	r.ev_proxy = S(proxy);
	r.ev_server = S(srv);
	r.ev_state = S(state);
	r.ev_reason = S("Layer4 connection problem");
	r.ev_info = S("Connection refused");
	r.ev_check_ms = 3;
	struct store_msg m = {raw, strlen(raw), recv, "udp:127.0.0.1:9", 0};
	assert_int_equal(store_add(st, &m, &r), 0);
}

static void add_conn_error(struct store *st, int64_t recv, int64_t ts)
{
	static const char raw[] = "10.1.1.1:4000 [x] fe_tls/bind1: SSL handshake failure";
	struct logrec r;
	logrec_clear(&r);
	r.kind = LR_CONN_ERROR;
	r.ts_ms = ts;
	r.frontend = S("fe_tls");
	r.bind = S("bind1");
	r.message = S("SSL handshake failure");
	r.client_ip = S("10.1.1.1");
	r.client_port = 4000;
	struct store_msg m = {raw, sizeof(raw) - 1, recv, "udp:127.0.0.1:9", 0};
	assert_int_equal(store_add(st, &m, &r), 0);
}

static void add_garbage(struct store *st, int64_t recv)
{
	static const char raw[] = "garbage\0with a NUL";
	struct logrec r;
	logrec_clear(&r);
	r.kind = LR_UNPARSED;
	r.status = LR_BAD;
	r.reason = "not a log line";
	struct store_msg m = {raw, sizeof(raw) - 1, recv, "tcp:[::1]:7", STORE_MSG_TRUNCATED};
	assert_int_equal(store_add(st, &m, &r), 0);
}

/* The fixture, in store order (positions ascend with it):
 *  0..11  requests over minutes 0..2 (logged), received 1 s apart, from udp:a (even) and udp:b
 *         (odd): fe_a be_web/{w1,w2} 200 and be_api/a1 503
 *  12     a DOWN event of be_web/w2 (minute 1)
 *  13     a connection error on fe_tls/bind1
 *  14     an unparsed line holding a NUL, received over TCP, truncated */
#define NLINES 15
static int setup(void **state)
{
	char err[256];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/halog-read-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.db", dir);
	struct store *st = store_open(path, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	for (int i = 0; i < 12; i++) {
		int64_t ts = T0 + (i / 4) * 60000 + (i % 4) * 5000;
		const char *src = i % 2 ? "udp:b" : "udp:a";
		if (i % 3 == 2)
			add_req(st, RECV0 + i * 1000, ts, src, "fe_a", "be_api", "a1", 503, 40 + i);
		else
			add_req(st, RECV0 + i * 1000, ts, src, "fe_a", "be_web",
				i % 2 ? "w1" : "w2", 200, 10 + i);
	}
	add_event(st, RECV0 + 12000, T0 + 61000, LR_SERVER, "be_web", "w2", "DOWN");
	add_conn_error(st, RECV0 + 13000, T0 + 62000);
	add_garbage(st, RECV0 + 14000);
	assert_int_equal(store_counter_add(st, "received", 15), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store_reader *open_rd(void)
{
	char err[512];
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));
	if (!rd)
		fail_msg("%s", err);
	return rd;
}

/* The raw lines a selection delivers, joined by '|' (NULs shown as '0'), into out. */
static const char *lines(struct store_reader *rd, const struct store_sel *sel, int *truncated)
{
	static char out[4096];
	struct store_cursor *c = store_cursor_open(rd, sel);
	const struct store_line *ln;
	size_t n = 0;
	int rc;
	if (!c)
		fail_msg("%s", store_reader_errmsg(rd));
	out[0] = '\0';
	while ((rc = store_cursor_next(c, &ln)) > 0) {
		if (n)
			out[n++] = '|';
		for (uint32_t i = 0; ln->raw.p && i < ln->raw.len && n < sizeof(out) - 2; i++)
			out[n++] = ln->raw.p[i] ? ln->raw.p[i] : '0';
		out[n] = '\0';
	}
	assert_int_equal(rc, 0);
	if (truncated)
		*truncated = store_cursor_truncated(c);
	store_cursor_close(c);
	return out;
}

/* The number of lines a cursor delivers, checking that positions strictly rise (or fall). */
static int64_t walk(struct store_reader *rd, const struct store_sel *sel, int dir_sign)
{
	struct store_cursor *c = store_cursor_open(rd, sel);
	const struct store_line *ln;
	struct store_pos last = STORE_POS_MIN;
	int64_t n = 0;
	int rc;
	if (!c)
		fail_msg("%s", store_reader_errmsg(rd));
	while ((rc = store_cursor_next(c, &ln)) > 0) {
		if (n && dir_sign)
			assert_int_equal(store_pos_cmp(ln->pos, last), dir_sign);
		last = ln->pos;
		n++;
	}
	assert_int_equal(rc, 0);
	store_cursor_close(c);
	return n;
}

static void test_open_refusals(void **state)
{
	char err[512], p[600];
	(void)state;
	assert_null(store_reader_open("/nonexistent/x.db", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open '/nonexistent/x.db'"));
	/* port 1: nothing answers there; the reason names the store */
	assert_null(store_reader_open("clickhouse://127.0.0.1:1/halog", err, sizeof(err)));
	assert_non_null(strstr(err, "clickhouse://127.0.0.1:1/halog: "));
	assert_null(store_reader_open("clickhouse://127.0.0.1:1/no-such!", err, sizeof(err)));
	assert_non_null(strstr(err, "expected clickhouse://HOST:PORT/DATABASE"));
	assert_null(store_reader_open("gopher://x", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown store scheme 'gopher'"));
	snprintf(p, sizeof(p), "file://%s", path);
	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	assert_non_null(rd);
	struct store_info info;
	assert_int_equal(store_info(rd, &info), 0);
	assert_string_equal(info.backend, "sqlite");
	assert_int_equal(info.rollup_ms, 60000);
	assert_true(info.records_hint >= 12);
	store_reader_close(rd);
}

static void test_orders_positions_limits(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	int trunc;
	(void)state;
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE;
	assert_int_equal(walk(rd, &sel, 1), NLINES);
	sel.order = STORE_NEWEST;
	assert_int_equal(walk(rd, &sel, -1), NLINES);
	/* the newest 3 requests (9, 10, 11: the kinds leave the later lines out), oldest first */
	sel.order = STORE_TAIL;
	sel.limit = 3;
	sel.kinds = STORE_KINDS_TRAFFIC;
	assert_string_equal(lines(rd, &sel, &trunc),
			    "fe_a be_web/w1 200 19|fe_a be_web/w2 200 20|fe_a be_api/a1 503 51" +
				    0);
	assert_int_equal(trunc, 1);
	sel.limit = 12;
	assert_int_equal(walk(rd, &sel, 1), 12);
	lines(rd, &sel, &trunc);
	assert_int_equal(trunc, 0);
	/* positions: [from, to) and store_pos_next */
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE;
	sel.limit = 2;
	struct store_cursor *c = store_cursor_open(rd, &sel);
	const struct store_line *ln;
	assert_int_equal(store_cursor_next(c, &ln), 1);
	struct store_pos first = ln->pos;
	assert_int_equal(store_cursor_next(c, &ln), 1);
	struct store_pos second = ln->pos;
	assert_int_equal(store_cursor_next(c, &ln), 0); /* the limit */
	store_cursor_close(c);
	assert_true(store_pos_cmp(first, second) < 0);
	sel.limit = 0;
	sel.from = store_pos_next(first);
	assert_int_equal(walk(rd, &sel, 1), NLINES - 1);
	sel.to = second;
	assert_int_equal(walk(rd, &sel, 1), 0);
	sel.to = store_pos_next(second);
	assert_int_equal(walk(rd, &sel, 1), 1);
	struct store_pos end;
	assert_int_equal(store_end(rd, &end), 0);
	store_sel_init(&sel);
	sel.from = end;
	assert_int_equal(walk(rd, &sel, 1), 0);
	sel.from = STORE_POS_MIN;
	sel.to = end;
	assert_int_equal(walk(rd, &sel, 1), NLINES);
	assert_int_equal(store_pos_cmp(store_pos_next(STORE_POS_MAX), STORE_POS_MAX), 0);
	store_reader_close(rd);
}

static void test_fields(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	(void)state;
	/* a request with every group of fields, from the request records */
	store_sel_init(&sel);
	sel.kinds = STORE_KINDS_TRAFFIC;
	sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
	sel.limit = 1;
	sel.order = STORE_NEWEST;
	assert_non_null(c = store_cursor_open(rd, &sel));
	assert_int_equal(store_cursor_next(c, &ln), 1);
	const struct logrec *r = &ln->rec;
	assert_int_equal(r->kind, LR_HTTP);
	assert_int_equal(r->status, LR_OK);
	assert_int_equal(ln->recv_ms, RECV0 + 11000);
	assert_int_equal(ln->ts_ms, T0 + 2 * 60000 + 3 * 5000);
	assert_memory_equal(ln->source.p, "udp:b", 5);
	assert_int_equal(ln->raw.len, 21);
	assert_memory_equal(ln->raw.p, "fe_a be_api/a1 503 51", 21);
	assert_memory_equal(r->host.p, "lb1", 3);
	assert_memory_equal(r->tag.p, "haproxy", 7);
	assert_int_equal(r->pid, 42);
	assert_int_equal(r->backend.len, 6);
	assert_memory_equal(r->backend.p, "be_api", 6);
	assert_int_equal(r->server.len, 2);
	assert_memory_equal(r->server.p, "a1", 2);
	assert_int_equal(r->status_code, 503);
	assert_string_equal(r->term, "SH--");
	assert_int_equal(r->t_active, 51);
	assert_int_equal(r->t_connect, 2);
	assert_int_equal(r->bytes_read, 1503);
	assert_int_equal(r->retries, 1);
	assert_int_equal(r->client_port, 5555);
	assert_int_equal(r->path.len, 5);
	assert_memory_equal(r->path.p, "/fail", 5);
	assert_memory_equal(r->query.p, "a=1", r->query.len);
	assert_memory_equal(r->cap_req.p, "agent", r->cap_req.len);
	assert_null(r->cookie_req.p); /* absent stays absent */
	assert_int_equal(r->bytes_uploaded, LR_NONE);
	assert_int_equal(store_cursor_next(c, &ln), 0);
	store_cursor_close(c);
	/* without STORE_WANT_LINE: no raw bytes */
	sel.want = STORE_WANT_SUMMARY;
	assert_non_null(c = store_cursor_open(rd, &sel));
	assert_int_equal(store_cursor_next(c, &ln), 1);
	assert_null(ln->raw.p);
	assert_non_null(ln->rec.backend.p);
	assert_int_equal(ln->rec.t_active, LR_TIMER_NONE); /* not a summary field */
	store_cursor_close(c);
	/* events: the server event, then the connection error's frontend, bind and message */
	store_sel_init(&sel);
	sel.kinds = STORE_KIND(LR_SERVER) | STORE_KIND(LR_CONN_ERROR);
	sel.want = STORE_WANT_FIELDS;
	assert_non_null(c = store_cursor_open(rd, &sel));
	assert_int_equal(store_cursor_next(c, &ln), 1);
	assert_int_equal(ln->rec.kind, LR_SERVER);
	assert_memory_equal(ln->rec.ev_proxy.p, "be_web", 6);
	assert_memory_equal(ln->rec.ev_state.p, "DOWN", 4);
	assert_memory_equal(ln->rec.ev_info.p, "Connection refused", 18);
	assert_int_equal(ln->rec.ev_check_ms, 3);
	assert_int_equal(store_cursor_next(c, &ln), 1);
	assert_int_equal(ln->rec.kind, LR_CONN_ERROR);
	assert_memory_equal(ln->rec.frontend.p, "fe_tls", 6);
	assert_memory_equal(ln->rec.bind.p, "bind1", 5);
	assert_memory_equal(ln->rec.message.p, "SSL handshake failure", 21);
	assert_memory_equal(ln->rec.client_ip.p, "10.1.1.1", 8);
	assert_null(ln->rec.ev_proxy.p);
	assert_int_equal(store_cursor_next(c, &ln), 0);
	store_cursor_close(c);
	/* the unparsed line: bytes past a NUL, its reason, parse status and flags */
	store_sel_init(&sel);
	sel.kinds = STORE_KIND(LR_UNPARSED);
	sel.want = STORE_WANT_LINE | STORE_WANT_SUMMARY;
	assert_non_null(c = store_cursor_open(rd, &sel));
	assert_int_equal(store_cursor_next(c, &ln), 1);
	assert_int_equal(ln->raw.len, 18);
	assert_memory_equal(ln->raw.p, "garbage\0with a NUL", 18);
	assert_int_equal(ln->rec.status, LR_BAD);
	assert_string_equal(ln->rec.reason, "not a log line");
	assert_int_equal(ln->flags & STORE_MSG_TRUNCATED, STORE_MSG_TRUNCATED);
	assert_null(ln->rec.backend.p);
	assert_int_equal(store_cursor_next(c, &ln), 0);
	store_cursor_close(c);
	store_reader_close(rd);
}

/* The context recipe of read.h: the lines around a hit from the same source. */
static void test_context(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	struct store_pos hit;
	char source[64];
	(void)state;
	/* the hit: request 6 (udp:a, like every even one) */
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE;
	sel.limit = 7;
	assert_non_null(c = store_cursor_open(rd, &sel));
	for (int i = 0; i < 7; i++)
		assert_int_equal(store_cursor_next(c, &ln), 1);
	hit = ln->pos;
	snprintf(source, sizeof(source), "%.*s", (int)ln->source.len, ln->source.p);
	store_cursor_close(c);
	assert_string_equal(source, "udp:a");
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE;
	sel.source = source;
	sel.to = hit;
	sel.order = STORE_NEWEST;
	sel.limit = 2;
	assert_string_equal(lines(rd, &sel, NULL), "fe_a be_web/w2 200 14|fe_a be_api/a1 503 42");
	sel.to = STORE_POS_MAX;
	sel.from = store_pos_next(hit);
	sel.order = STORE_OLDEST;
	assert_string_equal(lines(rd, &sel, NULL), "fe_a be_api/a1 503 48|fe_a be_web/w2 200 20");
	store_reader_close(rd);
}

static int64_t count_of(struct store_reader *rd, const struct store_sel *sel)
{
	int64_t n;
	if (store_count(rd, sel, &n))
		fail_msg("%s", store_reader_errmsg(rd));
	/* a count is what a cursor delivers */
	assert_int_equal(walk(rd, sel, 0), n);
	return n;
}

static struct query *Q(const char *text)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *q = query_parse(text, strlen(text), &dl);
	assert_non_null(q);
	diag_release(&dl);
	return q;
}

static void test_filters(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	(void)state;
	store_sel_init(&sel);
	sel.backend = "be_web";
	assert_int_equal(count_of(rd, &sel), 9); /* 8 requests and the event about it */
	sel.kinds = STORE_KINDS_TRAFFIC;
	assert_int_equal(count_of(rd, &sel), 8);
	sel.kinds = STORE_KIND(LR_SERVER);
	assert_int_equal(count_of(rd, &sel), 1);
	store_sel_init(&sel);
	sel.server = "w2";
	assert_int_equal(count_of(rd, &sel), 5);
	sel.server = "nobody";
	assert_int_equal(count_of(rd, &sel), 0);
	store_sel_init(&sel);
	sel.frontend = "fe_a";
	assert_int_equal(count_of(rd, &sel), 12);
	sel.kinds = STORE_KIND(LR_TCP);
	assert_int_equal(count_of(rd, &sel), 0);
	store_sel_init(&sel);
	sel.source = "udp:b";
	assert_int_equal(count_of(rd, &sel), 6);
	/* clocks: received 1 s apart from RECV0; logged over three minutes from T0 */
	store_sel_init(&sel);
	sel.since_ms = RECV0 + 3000;
	sel.until_ms = RECV0 + 6000;
	assert_int_equal(count_of(rd, &sel), 3);
	sel.clock = STORE_LOGGED;
	assert_int_equal(count_of(rd, &sel), 0);
	sel.since_ms = T0 + 60000;
	sel.until_ms = T0 + 120000;
	assert_int_equal(count_of(rd, &sel), 6); /* 4 requests, the event, the connection error */
	sel.kinds = STORE_KINDS_TRAFFIC;
	assert_int_equal(count_of(rd, &sel), 4);
	/* by time on the logged clock: the event of minute 1 comes between the requests */
	store_sel_init(&sel);
	sel.clock = STORE_LOGGED;
	sel.order = STORE_BY_TIME;
	sel.want = STORE_WANT_LINE;
	sel.since_ms = T0 + 60000;
	sel.until_ms = T0 + 65000;
	assert_string_equal(lines(rd, &sel, NULL),
			    "fe_a be_web/w2 200 14|event be_web/w2 DOWN|10.1.1.1:4000 [x] "
			    "fe_tls/bind1: SSL handshake failure");
	/* a query, with the other members */
	struct query *q = Q("status:5xx OR state:DOWN");
	store_sel_init(&sel);
	sel.query = q;
	assert_int_equal(count_of(rd, &sel), 5);
	sel.source = "udp:a";
	assert_int_equal(count_of(rd, &sel), 2);
	query_free(q);
	q = Q("NUL");
	store_sel_init(&sel);
	sel.query = q;
	assert_int_equal(count_of(rd, &sel), 1); /* past the NUL byte */
	query_free(q);
	store_reader_close(rd);
}

static void test_histogram(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	int64_t bins[4] = {0};
	(void)state;
	store_sel_init(&sel);
	sel.clock = STORE_LOGGED;
	sel.kinds = STORE_KINDS_TRAFFIC;
	assert_int_equal(store_histogram(rd, &sel, T0, 60000, 4, bins), 0);
	assert_int_equal(bins[0], 4);
	assert_int_equal(bins[1], 4);
	assert_int_equal(bins[2], 4);
	assert_int_equal(bins[3], 0);
	/* received clock, 5 s bins from RECV0 + 2 s: lines 2..6, 7..11, 12..14 */
	int64_t rb[3] = {0};
	store_sel_init(&sel);
	assert_int_equal(store_histogram(rd, &sel, RECV0 + 2000, 5000, 3, rb), 0);
	assert_int_equal(rb[0], 5);
	assert_int_equal(rb[1], 5);
	assert_int_equal(rb[2], 3);
	assert_int_equal(store_histogram(rd, &sel, 0, 0, 3, rb), -1);
	store_reader_close(rd);
}

struct sums {
	int64_t requests, errors, ta_n, ta_sum, ta_max;
	int64_t n200, n503;
};

/* Adds one request record to s, as the rollups count it. */
static void sums_add(struct sums *s, const struct logrec *r)
{
	s->requests++;
	s->errors += rollup_is_error(r);
	s->ta_n++;
	s->ta_sum += r->t_active;
	if (r->t_active > s->ta_max)
		s->ta_max = r->t_active;
	s->n200 += r->status_code == 200;
	s->n503 += r->status_code == 503;
}

static int on_agg(void *arg, const char *fe, const char *be, const char *srv,
		  const struct rollup_agg *a)
{
	struct sums *s = arg;
	assert_string_equal(fe, "fe_a");
	assert_non_null(be);
	assert_non_null(srv);
	assert_int_equal(a->key.kind, LR_HTTP);
	s->requests += a->requests;
	s->errors += a->errors;
	s->ta_n += a->tn[RT_TA];
	s->ta_sum += a->tsum[RT_TA];
	if (a->tmax[RT_TA] > s->ta_max)
		s->ta_max = a->tmax[RT_TA];
	for (size_t i = 0; i < a->ncodes; i++) {
		if (a->codes[i].key == 200)
			s->n200 += a->codes[i].n;
		if (a->codes[i].key == 503)
			s->n503 += a->codes[i].n;
	}
	return 0;
}

/* store_series_timer's callback: bin i's Ta into ((struct sums *)arg)[i]. */
static int on_bin_ta(void *arg, size_t i, const struct rollup_agg *a)
{
	struct sums *s = (struct sums *)arg + i;
	assert_int_equal(s->requests, 0); /* one call per bin */
	s->requests = 1;
	s->ta_n = a->tn[RT_TA];
	s->ta_sum = a->tsum[RT_TA];
	s->ta_max = a->tmax[RT_TA];
	assert_non_null(a->hist[RT_TA]);
	return 0;
}

/* The aggregates sum what the request records hold, for any window of whole buckets. */
static void test_aggregates_match_records(void **state)
{
	struct store_reader *rd = open_rd();
	(void)state;
	for (int lo = 0; lo < 3; lo++) {
		for (int hi = lo + 1; hi <= 3; hi++) {
			struct store_sel sel;
			struct sums agg, rec;
			memset(&agg, 0, sizeof(agg));
			memset(&rec, 0, sizeof(rec));
			store_sel_init(&sel);
			sel.clock = STORE_LOGGED;
			sel.since_ms = T0 + lo * 60000;
			sel.until_ms = T0 + hi * 60000;
			assert_int_equal(store_aggregate(rd, &sel, on_agg, &agg), 0);
			sel.kinds = STORE_KINDS_TRAFFIC;
			sel.want = STORE_WANT_FIELDS;
			struct store_cursor *c = store_cursor_open(rd, &sel);
			const struct store_line *ln;
			assert_non_null(c);
			while (store_cursor_next(c, &ln) > 0) {
				sums_add(&rec, &ln->rec);
			}
			store_cursor_close(c);
			assert_memory_equal(&agg, &rec, sizeof(agg));
			assert_int_equal(agg.requests, 4 * (hi - lo));
			/* STORE_WANT_TRAFFIC: the same aggregate from fewer columns */
			memset(&rec, 0, sizeof(rec));
			sel.want = STORE_WANT_TRAFFIC;
			c = store_cursor_open(rd, &sel);
			assert_non_null(c);
			while (store_cursor_next(c, &ln) > 0) {
				assert_null(ln->rec.path.p); /* not asked for */
				assert_non_null(ln->rec.backend.p);
				sums_add(&rec, &ln->rec);
			}
			store_cursor_close(c);
			assert_memory_equal(&agg, &rec, sizeof(agg));
			/* STORE_WANT_REQUEST: TRAFFIC and the strings requests are keyed by */
			memset(&rec, 0, sizeof(rec));
			sel.want = STORE_WANT_REQUEST;
			c = store_cursor_open(rd, &sel);
			assert_non_null(c);
			while (store_cursor_next(c, &ln) > 0) {
				assert_non_null(ln->rec.path.p);
				assert_non_null(ln->rec.uri.p);
				assert_non_null(ln->rec.client_ip.p);
				assert_null(ln->rec.method.p); /* not asked for */
				assert_null(ln->raw.p);
				sums_add(&rec, &ln->rec);
			}
			store_cursor_close(c);
			assert_memory_equal(&agg, &rec, sizeof(agg));

			/* series: from the rollups (whole minutes) and from the records (5 s
			 * bins) give the same totals */
			struct store_bin coarse[3], fine[36];
			memset(coarse, 0, sizeof(coarse));
			memset(fine, 0, sizeof(fine));
			sel.kinds = 0;
			sel.want = 0;
			assert_int_equal(store_series(rd, &sel, T0, 60000, 3, coarse), 0);
			assert_int_equal(store_series(rd, &sel, T0, 5000, 36, fine), 0);
			for (int m = 0; m < 3; m++) {
				int64_t req = 0, err = 0, c5 = 0;
				for (int b = 0; b < 12; b++) {
					req += fine[m * 12 + b].requests;
					err += fine[m * 12 + b].errors;
					c5 += fine[m * 12 + b].cls[RC_5XX];
				}
				assert_int_equal(coarse[m].requests, req);
				assert_int_equal(coarse[m].errors, err);
				assert_int_equal(coarse[m].cls[RC_5XX], c5);
				assert_int_equal(req, m >= lo && m < hi ? 4 : 0);
			}

			/* series_timer: one read gives each bin's Ta as store_aggregate over the
			 * bin's minutes, for bins of one and of two minutes */
			for (int w = 1; w <= 2; w++) {
				struct sums tb[3], want;
				memset(tb, 0, sizeof(tb));
				assert_int_equal(store_series_timer(rd, &sel, T0, w * 60000, 3, RT_TA,
								    on_bin_ta, tb),
						 0);
				for (int b = 0; b < 3; b++) {
					struct store_sel one = sel;
					memset(&want, 0, sizeof(want));
					one.since_ms = T0 + b * w * 60000;
					one.until_ms = one.since_ms + w * 60000;
					if (one.since_ms < sel.since_ms)
						one.since_ms = sel.since_ms;
					if (one.until_ms > sel.until_ms)
						one.until_ms = sel.until_ms;
					if (one.since_ms < one.until_ms)
						assert_int_equal(
							store_aggregate(rd, &one, on_agg, &want), 0);
					assert_int_equal(tb[b].requests, want.ta_n > 0);
					assert_int_equal(tb[b].ta_n, want.ta_n);
					assert_int_equal(tb[b].ta_sum, want.ta_sum);
					assert_int_equal(tb[b].ta_max, want.ta_max);
				}
			}
		}
	}
	/* name filters narrow the aggregates */
	struct store_sel sel;
	struct sums s;
	memset(&s, 0, sizeof(s));
	store_sel_init(&sel);
	sel.backend = "be_api";
	assert_int_equal(store_aggregate(rd, &sel, on_agg, &s), 0);
	assert_int_equal(s.requests, 4);
	assert_int_equal(s.n503, 4);
	memset(&s, 0, sizeof(s));
	sel.backend = "be_none";
	assert_int_equal(store_aggregate(rd, &sel, on_agg, &s), 0);
	assert_int_equal(s.requests, 0);
	store_reader_close(rd);
}

static int on_path(void *arg, const char *backend, int64_t status, const char *p, size_t plen,
		   int64_t n)
{
	char *out = arg;
	size_t len = strlen(out);
	snprintf(out + len, 256 - len, "%s %lld %.*s %lld;", backend, (long long)status, (int)plen,
		 p, (long long)n);
	return 0;
}

static int on_counter(void *arg, const char *name, int64_t v)
{
	char *out = arg;
	size_t len = strlen(out);
	snprintf(out + len, 256 - len, "%s=%lld;", name, (long long)v);
	return 0;
}

static void test_stats_paths_counters(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	struct store_line_stats ls;
	char out[256] = "";
	(void)state;
	store_sel_init(&sel);
	assert_int_equal(store_line_stats(rd, &sel, &ls), 0);
	assert_int_equal(ls.total, NLINES);
	assert_int_equal(ls.by_kind[LR_HTTP], 12);
	assert_int_equal(ls.by_kind[LR_SERVER], 1);
	assert_int_equal(ls.by_kind[LR_UNPARSED], 1);
	assert_int_equal(ls.by_status[LR_BAD], 1);
	assert_int_equal(ls.truncated, 1);
	assert_int_equal(ls.first_ms, T0);
	assert_int_equal(ls.last_ms,
			 RECV0 + 14000); /* the unparsed line has only its receive time */
	sel.clock = STORE_LOGGED;
	sel.until_ms = T0 + 60000;
	assert_int_equal(store_line_stats(rd, &sel, &ls), 0);
	assert_int_equal(ls.total, 4);
	assert_int_equal(store_error_paths(rd, &sel, 5, on_path, out), 0);
	assert_string_equal(out, "be_api 503 /fail 1;");
	store_sel_init(&sel);
	out[0] = '\0';
	assert_int_equal(store_error_paths(rd, &sel, 5, on_path, out), 0);
	assert_string_equal(out, "be_api 503 /fail 4;");
	out[0] = '\0';
	assert_int_equal(store_counters(rd, on_counter, out), 0);
	assert_string_equal(out, "received=15;");
	store_reader_close(rd);
}

static void test_refusals(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	struct sums s;
	struct query *q = Q("x");
	(void)state;
	store_sel_init(&sel);
	sel.query = q;
	assert_int_equal(store_aggregate(rd, &sel, on_agg, &s), -1);
	assert_non_null(strstr(store_reader_errmsg(rd), "no query"));
	store_sel_init(&sel);
	sel.since_ms = 0; /* on the received clock */
	assert_int_equal(store_aggregate(rd, &sel, on_agg, &s), -1);
	assert_non_null(strstr(store_reader_errmsg(rd), "STORE_LOGGED"));
	store_sel_init(&sel);
	sel.limit = -1;
	assert_null(store_cursor_open(rd, &sel));
	store_sel_init(&sel);
	sel.backend = "be_web";
	struct store_line_stats ls;
	assert_int_equal(store_line_stats(rd, &sel, &ls), -1);
	store_sel_init(&sel); /* bins of part of a bucket: the histograms are per bucket */
	assert_int_equal(store_series_timer(rd, &sel, T0, 5000, 3, RT_TA, on_bin_ta, &s), -1);
	assert_non_null(strstr(store_reader_errmsg(rd), "whole buckets"));
	query_free(q);
	store_reader_close(rd);
}

/* A snapshot sees the store as it was; a reader sees what a writer commits after it opened. */
static void test_snapshot_and_follow(void **state)
{
	struct store_reader *rd = open_rd();
	struct store_sel sel;
	struct store_pos end;
	char err[256];
	int64_t n;
	(void)state;
	store_sel_init(&sel);
	assert_int_equal(store_end(rd, &end), 0);
	assert_int_equal(store_snapshot_begin(rd), 0);
	assert_int_equal(store_snapshot_begin(rd), -1); /* not nested */
	assert_int_equal(store_count(rd, &sel, &n), 0);
	assert_int_equal(n, NLINES);
	struct store *st = store_open(path, 0, err, sizeof(err));
	assert_non_null(st);
	add_req(st, RECV0 + 20000, T0 + 200000, "udp:c", "fe_a", "be_web", "w9", 200, 1);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_count(rd, &sel, &n), 0);
	assert_int_equal(n, NLINES);
	store_snapshot_end(rd);
	sel.from = end; /* tail -f: what came after the end seen before */
	sel.want = STORE_WANT_LINE;
	assert_string_equal(lines(rd, &sel, NULL), "fe_a be_web/w9 200 1");
	/* and the line leaves the store as it came: remove it for the other tests */
	store_close(st);
	store_reader_close(rd);
	teardown(NULL);
	setup(NULL);
}

/* A reader per thread (halog serve): each opens its own, counts and aggregates while a writer
 * commits batches; every count a thread sees is whole batches and never goes back. */
struct reader_job {
	int64_t seen_min, seen_max;
	int fails, regress;
};

static void *reader_thread(void *arg)
{
	struct reader_job *job = arg;
	char err[512];
	int64_t last = 0;
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));

	job->seen_min = INT64_MAX;
	if (!rd) {
		job->fails++;
		return NULL;
	}
	for (int i = 0; i < 40; i++) {
		struct store_sel sel;
		struct sums s;
		int64_t n;

		store_sel_init(&sel);
		if (store_count(rd, &sel, &n)) {
			job->fails++;
			continue;
		}
		job->regress += n < last;
		last = n;
		if (n < job->seen_min)
			job->seen_min = n;
		if (n > job->seen_max)
			job->seen_max = n;
		memset(&s, 0, sizeof(s));
		if (store_aggregate(rd, &sel, on_agg, &s))
			job->fails++;
	}
	store_reader_close(rd);
	return NULL;
}

static void test_reader_per_thread(void **state)
{
	struct reader_job jobs[4];
	pthread_t th[4];
	char err[256];
	(void)state;
	memset(jobs, 0, sizeof(jobs));
	struct store *st = store_open(path, 0, err, sizeof(err));
	assert_non_null(st);
	for (int t = 0; t < 4; t++)
		assert_int_equal(pthread_create(&th[t], NULL, reader_thread, &jobs[t]), 0);
	for (int b = 0; b < 20; b++) {
		for (int i = 0; i < 10; i++)
			add_req(st, RECV0 + 100000 + b * 10 + i, T0 + 300000, "udp:t", "fe_a",
				"be_web", "w1", 200, 5);
		assert_int_equal(store_commit(st), 0);
	}
	for (int t = 0; t < 4; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(jobs[t].fails, 0);
		assert_int_equal(jobs[t].regress, 0);
		assert_true(jobs[t].seen_min >= NLINES);
		assert_int_equal((jobs[t].seen_min - NLINES) % 10, 0); /* whole batches */
		assert_int_equal((jobs[t].seen_max - NLINES) % 10, 0);
	}
	store_close(st);
	teardown(NULL);
	setup(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_orders_positions_limits),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_aggregates_match_records),
		cmocka_unit_test(test_stats_paths_counters),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_snapshot_and_follow),
		cmocka_unit_test(test_reader_per_thread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
