/* HTML report writer tests: a hand-built struct report with hostile names goes through
 * report_html() (no store: no time charts) and report_html_write() with a store; names are
 * escaped, long names cut in charts but whole in tables, one named chart per picture, the same
 * report gives the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "report/report.h"
#include "report/report_html.h"
#include "store/read.h"
#include "store/store.h"
#include "../../common/strbuf.h"

static char *xdup(const char *s)
{
	char *p = strdup(s);
	assert_non_null(p);
	return p;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static const char long_name[] = "a-server-with-a-very-long-name-indeed";

/* One backend, two servers (a hostile name and a long one), latencies, an error path and a
 * DOWN/UP pair. Freed with report_release. */
static void build(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->since_ms = r->until_ms = r->from_ms = r->to_ms = LR_NONE;
	r->first_ms = 1764583200000LL;
	r->last_ms = r->first_ms + 90000;
	r->check_balance = -1;
	r->lines_total = r->lines_parsed = 30;
	r->nbackends = 1;
	r->backends = calloc(1, sizeof(*r->backends));
	assert_non_null(r->backends);
	struct report_group *g = &r->backends[0];
	g->name = xdup("be_<b>\"x\"&'");
	g->kinds = 1u << LR_HTTP;
	g->agg.requests = 30;
	g->agg.errors = 3;
	g->agg.cls[RC_2XX] = 27;
	g->agg.cls[RC_5XX] = 3;
	g->agg.hist[RT_TA] = calloc(HIST_N, sizeof(uint64_t));
	assert_non_null(g->agg.hist[RT_TA]);
	g->agg.hist[RT_TA][hist_bucket(3)] = 20;
	g->agg.hist[RT_TA][hist_bucket(250)] = 10;
	g->agg.tn[RT_TA] = 30;
	g->nmembers = 2;
	g->members = calloc(2, sizeof(*g->members));
	assert_non_null(g->members);
	const char *names[2] = {"s\xff<script>", long_name};
	for (int i = 0; i < 2; i++) {
		struct report_server *m = &g->members[i];
		m->name = xdup(names[i]);
		m->agg.requests = 15;
		m->share = 50;
		m->expected = -1;
		m->weight = -1;
		struct report_lat *l = &m->lat[RT_TA];
		l->n = 15;
		l->p50 = 3 + i;
		l->p90 = 200;
		l->p95 = 240;
		l->p99 = 250;
		l->max = 260;
	}
	g->nerrpaths = 1;
	g->errpaths = calloc(1, sizeof(*g->errpaths));
	assert_non_null(g->errpaths);
	g->errpaths[0].path = xdup("/<img src=x onerror=alert(1)>\x1b[31m");
	g->errpaths[0].status = 503;
	g->errpaths[0].n = 3;
	g->nevents = 2;
	g->events = calloc(2, sizeof(*g->events));
	assert_non_null(g->events);
	for (int i = 0; i < 2; i++) {
		g->events[i].ts_ms = r->first_ms + 20000 + 40000 * i;
		g->events[i].kind = LR_SERVER;
		g->events[i].server = xdup(names[0]);
		g->events[i].state = xdup(i ? "UP" : "DOWN");
		g->events[i].reason = xdup("Layer4 <timeout>");
	}
}

static void test_escaping_and_charts(void **state)
{
	struct report r;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	build(&r);
	assert_int_equal(report_html(&r, &a), 0);
	assert_int_equal(report_html(&r, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len); /* deterministic */
	const char *h = a.buf;
	assert_true(!strncmp(h, "<!DOCTYPE html>", 15));
	/* nothing from the log is markup */
	assert_int_equal(count(h, "<script"), 0);
	assert_int_equal(count(h, "<img"), 0);
	assert_int_equal(count(h, "<b>"), 0);
	assert_int_equal(count(h, "\x1b"), 0);
	assert_int_equal(count(h, "\xff"), 0);
	assert_true(count(h, "be_&lt;b&gt;&quot;x&quot;&amp;&#39;") > 3);
	assert_true(count(h, "s\\xff&lt;script&gt;") > 3);
	assert_true(count(h, "/&lt;img src=x onerror=alert(1)&gt;\\x1b[31m") == 1);
	assert_true(count(h, "Layer4 &lt;timeout&gt;") >= 1);
	/* charts without a store: share, latency, histogram, events; no time chart */
	assert_int_equal(count(h, "role=\"img\""), 4);
	assert_int_equal(count(h, "aria-label=\""), 4 + 2); /* + the banner and the nav */
	assert_int_equal(count(h, "data-chart=\"status-time\""), 0);
	assert_int_equal(count(h, "data-chart=\"events\""), 1);
	assert_int_equal(count(h, "<rect class=\"downtime\""), 1); /* DOWN to UP */
	/* a long name is cut in the charts (with an ellipsis) and whole in the table */
	assert_true(count(h, "a-server-with-a-&#8230;") >= 2);
	assert_true(count(h, "<th scope=\"row\">a-server-with-a-very-long-name-indeed</th>") == 1);
	/* the histogram: 20 in 2-4 ms, 10 in 200-499 ms */
	assert_int_equal(count(h, "data-count=\"20\""), 1);
	assert_int_equal(count(h, "data-count=\"10\""), 1);
	/* no remote reference at all */
	assert_int_equal(count(h, "http://"), 0);
	assert_int_equal(count(h, "https://"), 0);
	strbuf_release(&a);
	strbuf_release(&b);
	report_release(&r);
}

static struct lr_str S(const char *v) {
	struct lr_str r = {v, (uint32_t)strlen(v)};
	return r;
}

static void
test_write_with_store_and_error(void **state)
{
	struct report r;
	char dir[256], path[512], err[256];
	struct logrec rec;
	build(&r);
	snprintf(dir, sizeof(dir), "%s/halog-html-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.db", dir);
	/* one stored request: the page has its time charts; one bin per second over 90 s is too
	 * many, so 2 s bins (46 of them), read from the request records (the store is small) */
	struct store *st = store_open(path, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	logrec_clear(&rec);
	rec.kind = LR_HTTP;
	rec.ts_ms = 1764583201000LL;
	rec.frontend = S("fe");
	rec.backend = S("be_<b>\"x\"&'");
	rec.server = S("s");
	rec.status_code = 503;
	memcpy(rec.term, "SC--", 5);
	rec.retries = 0;
	struct store_msg m = {"raw", 3, rec.ts_ms, "test", 0};
	assert_int_equal(store_add(st, &m, &rec), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));
	assert_non_null(rd);
	FILE *fp = tmpfile();
	assert_non_null(fp);
	assert_int_equal(report_html_write(rd, &r, fp, err, sizeof(err)), 0);
	long len = ftell(fp);
	assert_true(len > 1000);
	char *buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(fp);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	assert_int_equal(count(buf, "data-chart=\"status-time\""), 2); /* overview + backend */
	assert_non_null(strstr(buf, "requests per 2 s"));
	assert_int_equal(count(buf, "data-requests=\"1\""), 2); /* the one row, in both charts */
	free(buf);
	store_reader_close(rd);

	/* a store whose request records cannot be read: the page fails with the reason */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE blocks SET cols = x'00'", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	rd = store_reader_open(path, err, sizeof(err));
	assert_non_null(rd);
	rewind(fp);
	assert_int_equal(report_html_write(rd, &r, fp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "time series"));
	store_reader_close(rd);
	fclose(fp);
	unlink(path);
	rmdir(dir);
	report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping_and_charts),
		cmocka_unit_test(test_write_with_store_and_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
