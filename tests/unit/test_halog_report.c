/* Report tests: numbers computed from the rollups (shares, expected shares from an inventory
 * with weights, backups, maintenance and dns slots, bucket windows, filters, percentiles). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "inventory/inventory.h"
#include "parse/logrec.h"
#include "report/report.h"
#include "store/read.h"
#include "store/store.h"
#include "strbuf.h"

#define T0 1764583200000LL /* 2025-12-01T10:00:00Z */

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s/halog-report-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct lr_str S(const char *s) {
	struct lr_str r = {s, (uint32_t)strlen(s)};
	return r;
}

static void
add(struct store *st, int64_t ts, const char *fe, const char *be, const char *srv, int status,
    int ta)
{
	struct logrec r;
	logrec_clear(&r);
	r.kind = LR_HTTP;
	r.ts_ms = ts;
	r.frontend = S(fe);
	r.backend = S(be);
	r.server = S(srv);
	r.status_code = status;
	r.t_req = 0;
	r.t_wait = 0;
	r.t_connect = 1;
	r.t_resp = ta;
	r.t_active = ta;
	r.retries = 0;
	memcpy(r.term, status >= 500 ? "SH--" : "----", 5);
	r.path = S("/p");
	struct store_msg m = {"raw", 3, ts, "test", 0};
	assert_int_equal(store_add(st, &m, &r), 0);
}

/* Stores made by make_store and their paths, for build() to open a reader on. */
static struct {
	struct store *st;
	char path[512];
} stores[16];

static struct store *make_store(const char *name)
{
	char p[512], err[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	/* a closed store's address may come back: the newest entry wins */
	for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++)
		if (stores[i].st == st)
			stores[i].st = NULL;
	for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
		if (!stores[i].st) {
			stores[i].st = st;
			snprintf(stores[i].path, sizeof(stores[i].path), "%s", p);
			return st;
		}
	}
	abort();
}

/* report_build on what st committed, through a reader of its own as halog report does. */
static int build(struct store *st, const struct report_opts *o, struct report *r, char *err,
		 size_t errsz)
{
	for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
		if (stores[i].st != st)
			continue;
		struct store_reader *rd = store_reader_open(stores[i].path, err, errsz);
		assert_non_null(rd);
		int rc = report_build(rd, o, r, err, errsz);
		store_reader_close(rd);
		return rc;
	}
	abort();
}

/* The backend called name; a missing one fails the test. */
static const struct report_group *group(const struct report *r, const char *name)
{
	for (size_t i = 0; i < r->nbackends; i++)
		if (!strcmp(r->backends[i].name, name))
			return &r->backends[i];
	fprintf(stderr, "no backend '%s' in the report\n", name);
	abort();
}

static const struct report_server *find_member(const struct report_group *g, const char *name)
{
	for (size_t i = 0; i < g->nmembers; i++)
		if (!strcmp(g->members[i].name, name))
			return &g->members[i];
	return NULL;
}

/* The member called name; a missing one fails the test. */
static const struct report_server *member(const struct report_group *g, const char *name)
{
	const struct report_server *m = find_member(g, name);
	if (!m) {
		fprintf(stderr, "no member '%s' in '%s'\n", name, g->name);
		abort();
	}
	return m;
}

static void write_file(const char *name, const char *text, char *path, size_t sz)
{
	snprintf(path, sz, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* A hagen inventory: halog reads it with hagen's rules (lib/inventory) */
static const char inventory[] =
	"entrypoints: { web: { bind: \":8080\" } }\n"
	"resolvers: { dns: { nameservers: [\"127.0.0.11:53\"] } }\n"
	"services:\n"
	"  api:\n"
	"    match: { path_prefix: /api }\n"
	"    servers:\n"
	"      - { name: a1, address: \"10.0.0.1:80\", weight: 3 }\n"
	"      - { name: a2, address: \"10.0.0.2:80\" }\n"
	"      - { name: a3, address: \"10.0.0.3:80\", maintenance: true }\n"
	"      - { name: b1, address: \"10.0.0.4:80\", backup: true }\n"
	"  web:\n"
	"    default: true\n"
	"    discovery: { dns: { name: web, port: 80, slots: 4, resolvers: dns } }\n"
	"  old:\n"
	"    match: { path_prefix: /old }\n"
	"    servers: [{ name: o1, address: \"10.0.1.1:80\" }, { name: ob, address: "
	"\"10.0.1.2:80\", "
	"backup: true }]\n"
	"environments:\n"
	"  even: { services: { api: { servers: [{ name: a1, address: \"10.0.0.1:80\" }, { name: "
	"a2, "
	"address: \"10.0.0.2:80\" }] } } }\n";

/* Loads path with hagen's rules; the diagnostics go to stderr. */
static int load_inventory(const char *path, const char *env, struct inv *inv)
{
	struct inv_opts io = {env, NULL};

	return inv_load_report(path, &io, inv, stderr, "test");
}

static void test_balance_inventory(void **state)
{
	struct store *st = make_store("bal.db");
	/* api: a1 70, a2 30 (3:1 expects 75/25); web: web1, web2 seen (slots 3, 4 unresolved);
	 * old: only the backup served (the primary is down) */
	for (int i = 0; i < 70; i++)
		add(st, T0 + i, "fe", "be_api", "a1", 200, 10);
	for (int i = 0; i < 30; i++)
		add(st, T0 + i, "fe", "be_api", "a2", 200, 10);
	add(st, T0, "fe", "be_api", "<NOSRV>", 503, 0);
	for (int i = 0; i < 10; i++)
		add(st, T0 + i, "fe", "be_web", i % 2 ? "web1" : "web2", 200, 5);
	for (int i = 0; i < 4; i++)
		add(st, T0 + i, "fe", "be_old", "ob", 200, 5);
	assert_int_equal(store_commit(st), 0);

	char path[512], err[256];
	write_file("inv.yaml", inventory, path, sizeof(path));
	struct inv inv;
	assert_int_equal(load_inventory(path, NULL, &inv), 0);
	struct report_opts o = {.since_ms = LR_NONE, .until_ms = LR_NONE, .inv = &inv, .check_balance = 4.0};
	struct report r;
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);

	const struct report_group *api = group(&r, "be_api");
	assert_int_equal(api->agg.requests, 101);
	const struct report_server *a1 = member(api, "a1"), *a2 = member(api, "a2"),
				   *a3 = member(api, "a3"), *b1 = member(api, "b1"),
				   *ns = member(api, "<NOSRV>");
	assert_non_null(a1);
	assert_non_null(a3);
	assert_non_null(b1);
	assert_non_null(ns);
	assert_true(ns->special);
	assert_true(ns->expected < 0);
	assert_float_equal(a1->share, 70.0, 0.001);
	assert_float_equal(a1->expected, 75.0, 0.001);
	assert_float_equal(a1->deviation, -5.0, 0.001);
	assert_float_equal(a2->expected, 25.0, 0.001);
	assert_float_equal(a3->expected, 0.0, 0.001); /* maintenance */
	assert_float_equal(b1->expected, 0.0, 0.001); /* backup while primaries serve */
	assert_int_equal(a3->agg.requests, 0);
	assert_true(api->balance_failed);
	assert_float_equal(api->max_deviation, 5.0, 0.001);

	const struct report_group *web = group(&r, "be_web");
	assert_non_null(web);
	assert_int_equal(web->nmembers, 2); /* unresolved slots are not listed */
	assert_float_equal(member(web, "web1")->expected, 50.0, 0.001);
	assert_false(web->balance_failed);

	const struct report_group *old = group(&r, "be_old");
	assert_non_null(old);
	assert_float_equal(member(old, "ob")->expected, 100.0, 0.001);
	assert_float_equal(member(old, "o1")->expected, 0.0, 0.001);
	assert_false(old->balance_failed);
	assert_int_equal(r.balance_failed, 1);
	report_release(&r);
	inv_release(&inv);

	/* the overlay replaces the server list: 1:1 */
	assert_int_equal(load_inventory(path, "even", &inv), 0);
	o.inv = &inv;
	o.check_balance = 25;
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	api = group(&r, "be_api");
	assert_float_equal(member(api, "a1")->expected, 50.0, 0.001);
	assert_null(find_member(api, "b1"));
	assert_false(api->balance_failed);
	assert_int_equal(r.balance_failed, 0);
	report_release(&r);
	inv_release(&inv);

	/* an unknown environment: hagen's message */
	{
		struct diag_list dl = DIAG_LIST_INIT;
		struct inv_opts io = {"nope", NULL};

		assert_int_equal(inv_load(path, &io, &inv, &dl), -1);
		assert_int_equal(dl.n, 1);
		assert_string_equal(dl.items[0].msg, "unknown environment 'nope' (defined: even)");
		diag_release(&dl);
	}
	store_close(st);
}

static void test_window_and_filters(void **state)
{
	struct store *st = make_store("win.db");
	/* minute 0: 3 requests, minute 1: 5, minute 2: 7 */
	for (int m = 0; m < 3; m++)
		for (int i = 0; i < 3 + 2 * m; i++)
			add(st, T0 + m * 60000 + i * 1000, m ? "fe_b" : "fe_a", "be", "s", 200, 1);
	assert_int_equal(store_commit(st), 0);
	char err[256];
	struct report r;
	/* since inside minute 1, until inside minute 2: exactly [60.5 s, 120.001 s), no whole
	 * minute inside, so all of it from the records: 60..64 s are before, 120 s is in */
	struct report_opts o = {.since_ms = T0 + 60000 + 30000, .until_ms = T0 + 120000 + 1, .check_balance = -1};
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.from_ms, T0 + 90000);
	assert_int_equal(r.to_ms, T0 + 120001);
	assert_int_equal(r.window_exact, 1);
	assert_int_equal(group(&r, "be")->agg.requests, 1);
	assert_int_equal(r.lines_total, 1);
	assert_int_equal(r.first_ms, T0 + 120000);
	report_release(&r);
	/* [61.5 s, 123.5 s): 62..64 s of minute 1 and 120..123 s of minute 2 */
	o.since_ms = T0 + 61500;
	o.until_ms = T0 + 123500;
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(group(&r, "be")->agg.requests, 7);
	assert_int_equal(r.lines_total, 7);
	report_release(&r);
	/* [30 s, 150 s): minute 1 whole (rollups), the edges from the records: 5 + 7 */
	o.since_ms = T0 + 30000;
	o.until_ms = T0 + 150000;
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(group(&r, "be")->agg.requests, 12);
	assert_int_equal(r.lines_total, 12);
	assert_int_equal(group(&r, "be")->lat[RT_TA].n, 12);
	report_release(&r);
	/* on whole minutes: the rollups only, the window as asked */
	o.since_ms = T0 + 60000;
	o.until_ms = T0 + 180000;
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.window_exact, 0);
	assert_int_equal(group(&r, "be")->agg.requests, 12);
	report_release(&r);
	/* until on a minute boundary excludes that minute */
	o.since_ms = LR_NONE;
	o.until_ms = T0 + 60000;
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(group(&r, "be")->agg.requests, 3);
	report_release(&r);
	/* frontend filter */
	struct report_opts f = {.since_ms = LR_NONE, .until_ms = LR_NONE, .frontend = "fe_b", .check_balance = -1};
	assert_int_equal(build(st, &f, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nfrontends, 1);
	assert_int_equal(group(&r, "be")->agg.requests, 12);
	report_release(&r);
	f.frontend = "fe_none";
	assert_int_equal(build(st, &f, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nbackends, 0);
	assert_int_equal(r.lines_total, 15);
	report_release(&r);
	store_close(st);
}

/* Top error paths: the all-time table (no window) and the per-minute one agree. */
static void test_errpaths(void **state)
{
	struct store *st = make_store("ep.db");
	static const char *const paths[] = {"/a", "/b", "/c", "/d", "/e", "/f", "/g"};
	for (int i = 0; i < 400; i++) {
		struct logrec r;
		logrec_clear(&r);
		r.kind = LR_HTTP;
		r.ts_ms = T0 + (i % 90) * 60000;
		r.frontend = S("fe");
		r.backend = S(i % 3 ? "be1" : "be2");
		r.server = S(i % 2 ? "s1" : "s2");
		r.status_code = i % 5 ? 503 : 200;
		r.retries = 1;
		r.path = S(paths[(i * 7 + i / 13) % 7]);
		struct store_msg m = {"raw", 3, r.ts_ms, "test", 0};
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	assert_int_equal(store_commit(st), 0);
	char err[256];
	struct report a, b;
	struct report_opts all = {.since_ms = LR_NONE, .until_ms = LR_NONE, .check_balance = -1};
	struct report_opts win = {.since_ms = T0 - 1, .until_ms = T0 + 1000 * 60000, .check_balance = -1};
	assert_int_equal(build(st, &all, &a, err, sizeof(err)), 0);
	assert_int_equal(build(st, &win, &b, err, sizeof(err)), 0);
	assert_int_equal(a.nbackends, 2);
	for (size_t i = 0; i < a.nbackends; i++) {
		const struct report_group *x = &a.backends[i], *y = group(&b, x->name);
		assert_int_equal(x->nerrpaths, REPORT_TOP_PATHS);
		assert_int_equal(x->nerrpaths, y->nerrpaths);
		for (size_t j = 0; j < x->nerrpaths; j++) {
			assert_string_equal(x->errpaths[j].path, y->errpaths[j].path);
			assert_int_equal(x->errpaths[j].status, y->errpaths[j].status);
			assert_int_equal(x->errpaths[j].n, y->errpaths[j].n);
			if (j)
				assert_true(x->errpaths[j - 1].n >= x->errpaths[j].n);
		}
	}
	report_release(&a);
	report_release(&b);
	store_close(st);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void test_percentiles(void **state)
{
	struct store *st = make_store("pct.db");
	enum { N = 5000 };
	static int v[N];
	uint64_t x = 12345;
	for (int i = 0; i < N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		/* long-tailed: mostly 5..200 ms, some seconds */
		v[i] = (int)((x >> 33) % 200) + 5;
		if (i % 50 == 0)
			v[i] = (int)((x >> 33) % 30000);
		add(st, T0 + (i % 600) * 1000, "fe", "be", i % 2 ? "s1" : "s2", 200, v[i]);
	}
	assert_int_equal(store_commit(st), 0);
	char err[256];
	struct report r;
	struct report_opts o = {.since_ms = LR_NONE, .until_ms = LR_NONE, .check_balance = -1};
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	const struct report_group *g = group(&r, "be");
	qsort(v, N, sizeof(v[0]), cmp_int);
	const double ps[4] = {50, 90, 95, 99};
	const int64_t got[4] = {g->lat[RT_TA].p50, g->lat[RT_TA].p90, g->lat[RT_TA].p95,
				g->lat[RT_TA].p99};
	for (int i = 0; i < 4; i++) {
		int rank = (int)((ps[i] * N + 99) / 100);
		int exact = v[rank - 1];
		double rel = (double)llabs(got[i] - exact) / (double)exact;
		assert_true(rel <= 0.02);
	}
	assert_int_equal(g->lat[RT_TA].max, v[N - 1]);
	assert_int_equal(g->lat[RT_TA].n, N);
	report_release(&r);
	store_close(st);
}

static void test_writers(void **state)
{
	struct store *st = make_store("w.db");
	add(st, T0, "fe\x1b[31m", "be|x", "s\"1,", 200, 3);
	assert_int_equal(store_commit(st), 0);
	char err[256], path[512];
	struct report r;
	struct report_opts o = {.since_ms = LR_NONE, .until_ms = LR_NONE, .check_balance = -1};
	assert_int_equal(build(st, &o, &r, err, sizeof(err)), 0);
	static const enum report_format fmts[] = {REPORT_TEXT, REPORT_JSON, REPORT_CSV,
						  REPORT_MARKDOWN};
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/out%zu", dir, i);
		FILE *fp = fopen(path, "w+");
		assert_non_null(fp);
		assert_int_equal(report_write(&r, fmts[i], fp), 0);
		rewind(fp);
		char buf[65536];
		size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		assert_null(memchr(buf, 0x1b, n)); /* no raw escape byte reaches the output */
		if (fmts[i] == REPORT_CSV)
			assert_non_null(strstr(buf, ",\"s\"\"1,\","));
		if (fmts[i] == REPORT_MARKDOWN)
			assert_non_null(strstr(buf, "be\\|x"));
		if (fmts[i] == REPORT_JSON)
			assert_non_null(strstr(buf, "\"name\":\"s\\\"1,\""));
	}
	enum report_format f;
	assert_int_equal(report_format_parse("md", &f), 0);
	assert_int_equal(f, REPORT_MARKDOWN);
	assert_int_equal(report_format_parse("xml", &f), -1);
	assert_int_equal(report_format_parse("html", &f), 0);
	assert_int_equal(f, REPORT_HTML);
	report_release(&r);
	store_close(st);
}

/* report_path_key's folding rule, segment by segment (ranked.h). */
static void test_path_key(void **state)
{
	static const struct {
		const char *uri, *path; /* as the parser gives them; path NULL: none */
		int fold;
		const char *want;
	} cases[] = {
		{"/v1/orders/1234", "/v1/orders/1234", 1, "/v1/orders/{num}"},
		{"/v1/orders/98?x=1", "/v1/orders/98", 1, "/v1/orders/{num}"},
		{"/a/5;jsessionid=1", "/a/5;jsessionid=1", 1, "/a/{num}"},
		{"/u/3F2504E0-4F89-11D3-9A0C-0305E82C3302/c", "/u/3F2504E0-4F89-11D3-9A0C-0305E82C3302/c",
		 1, "/u/{uuid}/c"},
		{"/u/3F2504E0-4F89-11D3-9A0C-0305E82C330/c", "/u/3F2504E0-4F89-11D3-9A0C-0305E82C330/c", 1,
		 "/u/3F2504E0-4F89-11D3-9A0C-0305E82C330/c"}, /* 35 chars: not a UUID */
		{"/h/9f86d081/x", "/h/9f86d081/x", 1, "/h/{hex}/x"},
		{"/h/9f86d08/x", "/h/9f86d08/x", 1, "/h/9f86d08/x"},	 /* 7 hex digits */
		{"/h/deadbeefcafe", "/h/deadbeefcafe", 1, "/h/deadbeefcafe"}, /* no 0-9 */
		{"/v2/app.9f86d081.js", "/v2/app.9f86d081.js", 1, "/v2/app.9f86d081.js"},
		{"/7/", "/7/", 1, "/{num}/"},
		{"//8", "//8", 1, "//{num}"},
		{"/", "/", 1, "/"},
		{"https://h.example/v1/7?q", "/v1/7", 1, "/v1/{num}"},
		{"https://h.example/v1/7?q", "/v1/7", 0, "https://h.example/v1/7"},
		{"/v1/7 junk", "/v1/7 junk", 0, "/v1/7"},
		{"/v1/orders/1234", "/v1/orders/1234", 0, "/v1/orders/1234"},
	};
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct logrec rec;
		memset(&rec, 0, sizeof(rec));
		rec.kind = LR_HTTP;
		rec.uri = (struct lr_str){cases[i].uri, strlen(cases[i].uri)};
		if (cases[i].path)
			rec.path = (struct lr_str){cases[i].path, strlen(cases[i].path)};
		assert_int_equal(report_path_key(&rec, cases[i].fold, &sb), 0);
		assert_string_equal(sb.buf, cases[i].want);
	}
	struct logrec bad;
	memset(&bad, 0, sizeof(bad));
	bad.kind = LR_HTTP;
	bad.flags = LR_F_BADREQ;
	assert_int_equal(report_path_key(&bad, 1, &sb), 0);
	assert_string_equal(sb.buf, "<BADREQ>");
	bad.flags = 0;
	assert_int_equal(report_path_key(&bad, 0, &sb), 0);
	assert_string_equal(sb.buf, "-");
	/* clients by network */
	static const struct {
		const char *ip;
		const char *want;
	} ips[] = {{"10.1.2.3", "10.1.2.0/24"},
		   {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		   {"::ffff:10.9.8.7", "10.9.8.0/24"},
		   {"unix", "unix"}};
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		struct logrec rec;
		memset(&rec, 0, sizeof(rec));
		rec.client_ip = (struct lr_str){ips[i].ip, strlen(ips[i].ip)};
		assert_int_equal(report_client_key(&rec, REPORT_CLIENT_NET, &sb), 0);
		assert_string_equal(sb.buf, ips[i].want);
		assert_int_equal(report_client_key(&rec, REPORT_CLIENT_ADDR, &sb), 0);
		assert_string_equal(sb.buf, ips[i].ip);
	}
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_balance_inventory), cmocka_unit_test(test_window_and_filters),
		cmocka_unit_test(test_percentiles),	  cmocka_unit_test(test_errpaths),
		cmocka_unit_test(test_writers),		  cmocka_unit_test(test_path_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
