/* Unit tests for common/: strbuf, diag, parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "diag.h"
#include "parse.h"
#include "strbuf.h"

static void test_duration(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(parse_duration_ms("5s", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(parse_duration_ms("250", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(parse_duration_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(parse_duration_ms("1500us", &ms), 0);
	assert_int_equal(ms, 2);
	assert_int_equal(parse_duration_ms("", &ms), -1);
	assert_int_equal(parse_duration_ms("5 s", &ms), -1);
	assert_int_equal(parse_duration_ms("-5s", &ms), -1);
	assert_int_equal(parse_duration_ms("1.5s", &ms), -1);
	assert_int_equal(parse_duration_ms("5sec", &ms), -1);
	assert_int_equal(parse_duration_ms("99999999999999999999d", &ms), -1);
}

static void test_size(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(parse_size("1048576", &b), 0);
	assert_int_equal(b, 1048576);
	assert_int_equal(parse_size("2G", &b), 0);
	assert_int_equal(b, UINT64_C(2) << 30);
	assert_int_equal(parse_size("500m", &b), 0);
	assert_int_equal(b, UINT64_C(500) << 20);
	assert_int_equal(parse_size("64KiB", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(parse_size("1TB", &b), 0);
	assert_int_equal(b, UINT64_C(1) << 40);
	assert_int_equal(parse_size("", &b), -1);
	assert_int_equal(parse_size("G", &b), -1);
	assert_int_equal(parse_size("1.5G", &b), -1);
	assert_int_equal(parse_size("-1G", &b), -1);
	assert_int_equal(parse_size("1 G", &b), -1);
	assert_int_equal(parse_size("1Gb", &b), -1);
	assert_int_equal(parse_size("1X", &b), -1);
	assert_int_equal(parse_size("99999999999999999999", &b), -1);
	assert_int_equal(parse_size("99999999999T", &b), -1);
}

static void test_hostport(void **state)
{
	char host[256];
	unsigned port;
	int v6;
	const char *why;

	(void)state;
	assert_int_equal(parse_hostport(":8080", host, sizeof(host), &port, &v6, &why), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 8080);
	assert_int_equal(parse_hostport("[::1]:443", host, sizeof(host), &port, &v6, &why), 0);
	assert_string_equal(host, "::1");
	assert_true(v6);
	assert_int_equal(parse_hostport("api3:8080", host, sizeof(host), &port, &v6, &why), 0);
	assert_string_equal(host, "api3");
	assert_int_equal(parse_hostport("10.0.0.1:0", host, sizeof(host), &port, &v6, &why), -1);
	assert_int_equal(parse_hostport("10.0.0.1:65536", host, sizeof(host), &port, &v6, &why),
			 -1);
	assert_int_equal(parse_hostport("::1:443", host, sizeof(host), &port, &v6, &why), -1);
	assert_int_equal(parse_hostport("300.1.1.1:80", host, sizeof(host), &port, &v6, &why), -1);
	assert_int_equal(parse_hostport("bad host:80", host, sizeof(host), &port, &v6, &why), -1);
	assert_int_equal(parse_hostport("10.0.0.1", host, sizeof(host), &port, &v6, &why), -1);
}

static void test_cidr(void **state)
{
	unsigned char a[16];
	unsigned p;
	int fam;

	(void)state;
	assert_int_equal(parse_cidr("127.0.0.0/8", &fam, a, &p), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(p, 8);
	assert_int_equal(parse_cidr("::1", &fam, a, &p), 0);
	assert_int_equal(p, 128);
	assert_int_equal(parse_cidr("10.0.0.0/33", &fam, a, &p), -1);
	assert_int_equal(parse_cidr("nope/8", &fam, a, &p), -1);
}

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_string_equal(sb.buf, "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(strbuf_addf(&sb, "%d,", i), 0);
	assert_int_equal(strncmp(sb.buf, "0,1,2,", 6), 0);
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_setlen(&sb, 2);
	assert_string_equal(sb.buf, "0,");
	strbuf_release(&sb);
}

static void test_suggest(void **state)
{
	static const char *const keys[] = {"backend", "servers", "balance", "entrypoints"};

	(void)state;
	assert_string_equal(diag_suggest("bakend", keys, 4), "backend");
	assert_string_equal(diag_suggest("entrypoint", keys, 4), "entrypoints");
	assert_null(diag_suggest("zzzzzz", keys, 4));
}

static void test_diag_order(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	diag_add(&dl, DIAG_ERROR, "a.yaml", 9, 3, "second");
	diag_add(&dl, DIAG_ERROR, "a.yaml", 2, 5, "first %s", "x");
	diag_sort(&dl);
	assert_int_equal(dl.errors, 2);
	assert_string_equal(dl.items[0].msg, "first x");
	assert_int_equal(dl.items[1].line, 9);
	diag_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),   cmocka_unit_test(test_size),
		cmocka_unit_test(test_hostport),   cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_strbuf),	   cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_diag_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
