/* The --when expressions of alerts: parsing (every example of the docs, units, errors with
 * their column) and evaluation over a window's numbers built the way the engine builds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert/expr.h"
#include "parse/logrec.h"

static struct alert_expr *parse(const char *s)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct alert_expr *e = alert_expr_parse(s, strlen(s), &dl);
	if (!e)
		for (size_t i = 0; i < dl.n; i++)
			fprintf(stderr, "%s: col %u: %s\n", s, dl.items[i].col, dl.items[i].msg);
	diag_release(&dl);
	return e;
}

/* The first error's column and message, for an expression that must not parse. */
static void bad(const char *s, unsigned col, const char *msg_part)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct alert_expr *e = alert_expr_parse(s, strlen(s), &dl);
	if (e || !dl.n || dl.items[0].col != col || !strstr(dl.items[0].msg, msg_part))
		fprintf(stderr, "'%s': got %s col %u '%s'\n", s, e ? "a parse" : "an error",
			dl.n ? dl.items[0].col : 0, dl.n ? dl.items[0].msg : "");
	assert_null(e);
	assert_true(dl.n > 0);
	assert_string_equal(dl.items[0].file, "--when");
	assert_int_equal(dl.items[0].col, col);
	assert_non_null(strstr(dl.items[0].msg, msg_part));
	diag_release(&dl);
}

/* A window of n requests with Ta = 0..n-1 ms, the first nerr of them 503s, plus extra
 * non-traffic lines. */
static void window(struct alert_stats *s, int n, int nerr, int extra, int64_t ms)
{
	memset(s, 0, sizeof(*s));
	s->window_ms = ms;
	for (int i = 0; i < n; i++) {
		struct logrec r;
		logrec_clear(&r);
		r.kind = LR_HTTP;
		r.status_code = i < nerr ? 503 : 200;
		r.t_req = 0;
		r.t_wait = 0;
		r.t_connect = 1;
		r.t_resp = i;
		r.t_active = i;
		memcpy(r.term, "----", 5);
		r.retries = 0;
		assert_int_equal(rollup_agg_add(&s->agg, &r), 0);
	}
	s->count = n + extra;
}

static int eval(const char *expr, const struct alert_stats *s)
{
	struct alert_expr *e = parse(expr);
	assert_non_null(e);
	int v = alert_expr_eval(e, s);
	alert_expr_free(e);
	return v;
}

static void test_examples(void **state)
{
	struct alert_stats s;
	window(&s, 1000, 30, 200, 60000); /* 1200 lines in 60 s, 3% errors, Ta 0..999 */
	assert_true(eval("count >= 10", &s));
	assert_true(eval("count == 1200", &s));
	assert_false(eval("count > 1200", &s));
	assert_true(eval("rate > 5/s", &s)); /* 20/s */
	assert_false(eval("rate > 20/s", &s));
	assert_true(eval("rate >= 1200/m", &s));
	assert_true(eval("rate > 72000/h", &s) == 0);
	assert_true(eval("p95(ta) > 800", &s)); /* ~950 */
	assert_false(eval("p95(ta) > 1s", &s));
	assert_true(eval("p95(Ta) > 0.8s", &s));
	assert_true(eval("p50(Tr) < 600ms", &s));
	assert_true(eval("p99.9(tt) >= 990", &s));
	assert_true(eval("errors% > 2", &s));
	assert_true(eval("errors% > 2.9%", &s));
	assert_false(eval("errors% > 3", &s));
	assert_true(eval("errors == 30 and requests == 1000", &s));
	assert_true(eval("max(ta) == 999 AND avg(ta) > 499 and avg(ta) < 500", &s));
	assert_true(eval("count < 5 or errors% >= 3", &s));
	assert_true(eval("not (count < 5)", &s));
	assert_true(eval("(count<5 or rate>1/s) and not errors%>50", &s));
	assert_false(eval("count != 1200", &s));
	alert_expr_free(NULL);
	rollup_agg_release(&s.agg);
}

/* Percentiles and errors% of a window without requests are absent: every comparison with them
 * is false, so neither "> x" nor "< x" fires on an empty window. */
static void test_absent(void **state)
{
	struct alert_stats s;
	window(&s, 0, 0, 7, 10000);
	assert_true(eval("count == 7", &s));
	assert_true(eval("requests == 0", &s));
	assert_false(eval("p95(ta) > 800", &s));
	assert_false(eval("p95(ta) < 800", &s));
	assert_false(eval("errors% > 2", &s));
	assert_false(eval("errors% < 2", &s));
	assert_true(eval("not errors% > 2", &s));
	double v;
	struct alert_metric m = {AM_PCT, RT_TA, 95};
	assert_int_equal(alert_metric_value(&m, &s, &v), -1);
	m.kind = AM_RATE;
	assert_int_equal(alert_metric_value(&m, &s, &v), 0);
	assert_true(v > 0.69 && v < 0.71);
	rollup_agg_release(&s.agg);
}

static void test_explain_and_metrics(void **state)
{
	struct alert_stats s;
	struct strbuf sb = STRBUF_INIT;
	window(&s, 10, 1, 0, 10000);
	struct alert_expr *e = parse("count >= 10 and p95(ta) > 1.5s or errors% > 2");
	assert_non_null(e);
	assert_int_equal(alert_expr_explain(e, &s, &sb), 0);
	assert_string_equal(sb.buf, "count = 10 (>= 10), p95(Ta) = 9 ms (> 1500), "
				    "errors% = 10 (> 2)");
	size_t n;
	const struct alert_metric *m = alert_expr_metrics(e, &n);
	assert_int_equal(n, 3);
	assert_int_equal(m[1].kind, AM_PCT);
	assert_int_equal(m[1].timer, RT_TA);
	alert_expr_free(e);
	strbuf_reset(&sb);
	rollup_agg_release(&s.agg);
	window(&s, 0, 0, 0, 10000);
	e = parse("p99(treq) > 5");
	assert_int_equal(alert_expr_explain(e, &s, &sb), 0);
	assert_string_equal(sb.buf, "p99(TR) = none (> 5)");
	alert_expr_free(e);
	strbuf_release(&sb);
	rollup_agg_release(&s.agg);
}

static void test_errors(void **state)
{
	bad("", 1, "empty expression");
	bad("   ", 4, "empty expression");
	bad("cout >= 10", 1, "unknown number 'cout' (did you mean 'count'?)");
	bad("count >= ", 10, "expected a number");
	bad("count 10", 7, "expected a comparison");
	bad("count => 10", 7, "did you mean '>='?");
	bad("count >= 10 and", 16, "expected a number to watch");
	bad("count >= 10 10", 13, "expected 'and', 'or'");
	bad("count >= 10x", 12, "takes no unit");
	bad("rate > 5/d", 9, "a rate's unit is /s, /m or /h");
	bad("p95(ta) > 5min", 12, "a time's unit is ms or s");
	bad("p95 > 5", 5, "expected '('");
	bad("p95(tx) > 5", 5, "expected a timer");
	bad("p95(ta > 5", 8, "expected ')'");
	bad("p0(ta) > 5", 1, "a percentile is p followed by a number");
	bad("p101(ta) > 5", 1, "a percentile");
	bad("errors% > 200", 11, "at most 100");
	bad("(count > 1", 1, "unbalanced parenthesis");
	bad("count > 1)", 10, "unbalanced parenthesis");
	bad("()", 1, "empty parentheses");
	bad("count ! 1", 7, "expected a comparison");
	bad("count > 1.2.3", 9, "not a number");
	bad("count > 1 & rate > 2", 11, "expected 'and', 'or'");
	/* a NUL byte, and the length bound */
	struct diag_list dl = DIAG_LIST_INIT;
	assert_null(alert_expr_parse("count\0 > 1", 10, &dl));
	assert_int_equal(dl.items[0].col, 6);
	diag_release(&dl);
	char big[1100];
	memset(big, ' ', sizeof(big));
	memcpy(big, "count > 1", 9);
	assert_null(alert_expr_parse(big, sizeof(big), &dl));
	assert_non_null(strstr(dl.items[0].msg, "too long"));
	diag_release(&dl);
	/* 33 nested parentheses, and more than 64 parts */
	char deep[200] = "";
	for (int i = 0; i < 33; i++)
		strcat(deep, "(");
	strcat(deep, "count > 1");
	for (int i = 0; i < 33; i++)
		strcat(deep, ")");
	assert_null(alert_expr_parse(deep, strlen(deep), &dl));
	assert_non_null(strstr(dl.items[0].msg, "nested"));
	diag_release(&dl);
	char many[1024] = "count > 1";
	for (int i = 0; i < 40; i++)
		strcat(many, " or count > 1");
	assert_null(alert_expr_parse(many, strlen(many), &dl));
	assert_non_null(strstr(dl.items[0].msg, "too long"));
	diag_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_explain_and_metrics),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
