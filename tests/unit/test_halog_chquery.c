/* The ClickHouse predicate of a parsed query (store/chquery.c): the SQL text for a table of
 * queries, and whether it is exact. Whether the predicate passes every line the query matches
 * is checked against a real server by e2e/clickhouse_search.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "query/query.h"
#include "store/chquery.h"
#include "strbuf.h"

static const struct {
	const char *query;
	int exact;
	const char *sql;
} cases[] = {
	{"", 1,
	 "1 | 1"},
	{"status:503", 1,
	 "(kind IN (1, 2) AND status_code >= 503 AND status_code <= 503) | 1"},
	{"-status:2xx", 1,
	 "NOT ((kind IN (1, 2) AND status_code >= 200 AND status_code <= 299)) | 1"},
	{"ta:>500 bytes:<=1k", 1,
	 "(kind IN (1, 2) AND t_active >= 501) AND (kind IN (1, 2) AND bytes_read >= 0 AND bytes_read <= 1024) | 1"},
	{"be_api ta:>500", 1,
	 "(kind IN (1, 2) AND t_active >= 501) | positionCaseInsensitive(raw, 'be_api') > 0"},
	{"retries:>0", 1,
	 "(kind IN (1, 2) AND retries >= 1) | 1"},
	{"kind:event", 1,
	 "kind IN (5, 6, 7, 8) | 1"},
	{"-parse:ok", 1,
	 "NOT (status = 0) | 1"},
	{"frontend:fe_api", 1,
	 "(kind IN (1, 2) AND frontend = 'fe_api') | 1"},
	{"frontend:fe_*", 1,
	 "(kind IN (1, 2) AND (substring(frontend, 1, 3) = 'fe_')) | 1"},
	{"frontend:*api*", 1,
	 "(kind IN (1, 2) AND (position(frontend, 'api') > 0)) | 1"},
	{"frontend:*~", 1,
	 "(kind IN (1, 2) AND (endsWith(frontend, '~'))) | 1"},
	{"frontend:a*b*c", 0,
	 "(kind IN (1, 2) AND (substring(frontend, 1, 1) = 'a' AND position(frontend, 'b') > 0 AND endsWith(frontend, 'c'))) | 1"},
	{"frontend:**", 0,
	 "kind IN (1, 2) | 1"},
	{"-frontend:*", 0,
	 "1 | 1"},
	{"path:/api", 1,
	 "(kind IN (1, 2) AND (substring(path, 1, 4) = '/api')) | 1"},
	{"source:udp:*", 1,
	 "(substring(source, 1, 4) = 'udp:') | 1"},
	{"backend:api", 0,
	 "(((kind IN (1, 2) AND backend = 'api') OR (kind IN (3, 4) AND frontend = 'api') OR (kind IN (5, 6, 7, 8) AND (ev_proxy = 'api' OR backend = 'api'))) OR ((kind IN (1, 2) AND backend = 'be_api') OR (kind IN (3, 4) AND frontend = 'be_api') OR (kind IN (5, 6, 7, 8) AND (ev_proxy = 'be_api' OR backend = 'be_api')))) | 1"},
	{"backend:=be_api", 0,
	 "((kind IN (1, 2) AND backend = 'be_api') OR (kind IN (3, 4) AND frontend = 'be_api') OR (kind IN (5, 6, 7, 8) AND (ev_proxy = 'be_api' OR backend = 'be_api'))) | 1"},
	{"-backend:api", 0,
	 "1 | 1"},
	{"server:api1", 0,
	 "((kind IN (1, 2) AND server = 'api1') OR kind IN (3, 4) OR (kind IN (5, 6, 7, 8) AND ev_server = 'api1')) | 1"},
	{"state:sD", 0,
	 "((kind IN (1, 2) AND term_key != 0 AND intDiv(term_key, 256) = 115 AND term_key % 256 = 68) OR kind IN (5, 6, 7, 8)) | 1"},
	{"term:?D--", 0,
	 "((kind IN (1, 2) AND term_key != 0 AND term_key % 256 = 68) OR kind IN (5, 6, 7, 8)) | 1"},
	{"host:lb1 program:haproxy method:get client:10.0.0.0/8", 0,
	 "1 | 1"},
	{"/re/ OR status:503", 0,
	 "1 | 1"},
	{"status:503 /re/", 0,
	 "(kind IN (1, 2) AND status_code >= 503 AND status_code <= 503) | 1"},
	{"NOT (status:503 OR api)", 1,
	 "1 | NOT (((kind IN (1, 2) AND status_code >= 503 AND status_code <= 503) OR positionCaseInsensitive(raw, 'api') > 0))"},
	{"NOT (status:503 OR host:x)", 0,
	 "1 | 1"},
	{"Caf\xc3""\xa9"" \"it's a\\\\b\"", 1,
	 "1 | positionCaseInsensitive(raw, 'caf\\xC3\\xA9') > 0 AND positionCaseInsensitive(raw, 'it\\x27s a\\x5Cb') > 0"},
	{"status:>=500 -path:/api (a OR b) (c OR (d -e))", 1,
	 "(kind IN (1, 2) AND status_code >= 500 AND status_code <= 999) AND NOT ((kind IN (1, 2) AND (substring(path, 1, 4) = '/api'))) | (positionCaseInsensitive(raw, 'a') > 0 OR positionCaseInsensitive(raw, 'b') > 0) AND (positionCaseInsensitive(raw, 'c') > 0 OR (positionCaseInsensitive(raw, 'd') > 0 AND NOT (positionCaseInsensitive(raw, 'e') > 0)))"},
	{"(a OR b) (c OR (d -e))", 1,
	 "1 | (positionCaseInsensitive(raw, 'a') > 0 OR positionCaseInsensitive(raw, 'b') > 0) AND (positionCaseInsensitive(raw, 'c') > 0 OR (positionCaseInsensitive(raw, 'd') > 0 AND NOT (positionCaseInsensitive(raw, 'e') > 0)))"},
};

/* s as a C string literal's contents, for CHQ_PRINT */
static void print_c(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x\"\"", c);
		else
			putchar(c);
	}
}

static void test_predicates(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct strbuf sb = STRBUF_INIT, rest = STRBUF_INIT;
		struct query *q = query_parse(cases[i].query, strlen(cases[i].query), &dl);
		int exact;

		assert_non_null(q);
		exact = chq_predicate(q, &sb, &rest);
		/* the cases' SQL: "PREWHERE part | the rest" */
		assert_int_equal(strbuf_addstr(&sb, " | "), 0);
		assert_int_equal(strbuf_add(&sb, rest.buf, rest.len), 0);
		if (getenv("CHQ_PRINT")) {
			printf("\t{\"");
			print_c(cases[i].query);
			printf("\", %d,\n\t \"", exact);
			print_c(sb.buf);
			printf("\"},\n");
		} else {
			assert_string_equal(sb.buf, cases[i].sql);
			assert_int_equal(exact, cases[i].exact);
		}
		strbuf_release(&sb);
		strbuf_release(&rest);
		query_free(q);
		diag_release(&dl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
