/* halog serve's access rules (serve/guard.h) on their own: which binds may start without
 * credentials, which Host and Origin headers are answered, Basic and bearer checks, the CSRF
 * token; and the query terms the page and the report build (query_add_term) read back as the
 * exact names they came from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "diag.h"
#include "query/query.h"
#include "serve/guard.h"
#include "strbuf.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(8690);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(8690);
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	return ss;
}

static void test_bind_needs_auth_off_loopback(void **state)
{
	const char *why = NULL;
	struct sockaddr_storage ss;

	(void)state;
	ss = v4("127.0.0.1");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), 0);
	ss = v4("127.3.2.1");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), 0);
	ss = v6("::1");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), 0);
	ss = v4("0.0.0.0");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), -1);
	assert_non_null(strstr(why, "--auth"));
	ss = v4("192.168.1.5");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), -1);
	ss = v6("::");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), -1);
	ss = v6("::ffff:10.0.0.1");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 0, &why), -1);
	ss = v4("0.0.0.0");
	assert_int_equal(guard_check_bind((struct sockaddr *)&ss, 1, &why), 0);
}

static void test_host_header(void **state)
{
	struct guard g;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.port = 8690;
	g.loopback = 1;
	assert_true(guard_host_ok(&g, "127.0.0.1:8690"));
	assert_true(guard_host_ok(&g, "localhost:8690"));
	assert_true(guard_host_ok(&g, "LOCALHOST:8690"));
	assert_true(guard_host_ok(&g, "[::1]:8690"));
	assert_true(guard_host_ok(&g, "127.255.0.9:8690"));
	assert_false(guard_host_ok(&g, NULL));
	assert_false(guard_host_ok(&g, ""));
	assert_false(guard_host_ok(&g, "127.0.0.1"));	 /* port 80 */
	assert_false(guard_host_ok(&g, "127.0.0.1:8691")); /* another port */
	assert_false(guard_host_ok(&g, "evil.example:8690"));
	assert_false(guard_host_ok(&g, "127.0.0.1.evil.example:8690"));
	assert_false(guard_host_ok(&g, "localhost.evil.example:8690"));
	assert_false(guard_host_ok(&g, "127.0.0.1:8690:8690"));
	assert_false(guard_host_ok(&g, "[::1"));
	assert_false(guard_host_ok(&g, "[::2]:8690"));
	assert_false(guard_host_ok(&g, "127.0.0.1:86900"));
	assert_false(guard_host_ok(&g, "0x7f000001:8690"));
	g.port = 80;
	assert_true(guard_host_ok(&g, "localhost"));
	/* credentials protect the server whatever name it is reached by */
	g.token = "t";
	assert_true(guard_host_ok(&g, "logs.example.net"));
}

static void test_origin(void **state)
{
	struct guard g;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.port = 8690;
	assert_true(guard_origin_ok(&g, NULL, "127.0.0.1:8690"));
	assert_true(guard_origin_ok(&g, "http://127.0.0.1:8690", "127.0.0.1:8690"));
	assert_false(guard_origin_ok(&g, "http://evil.example", "127.0.0.1:8690"));
	assert_false(guard_origin_ok(&g, "null", "127.0.0.1:8690"));
	assert_false(guard_origin_ok(&g, "http://localhost:8690", "127.0.0.1:8690"));
	assert_false(guard_origin_ok(&g, "https://127.0.0.1:8690", "127.0.0.1:8690"));
	assert_false(guard_origin_ok(&g, "http://evil.example:8690", "evil.example:8690"));
}

static void test_credentials(void **state)
{
	struct guard g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_false(guard_needs_auth(&g));
	assert_true(guard_auth_ok(&g, NULL, NULL, NULL));
	g.user = "admin";
	g.pass = "s3cret";
	assert_true(guard_needs_auth(&g));
	assert_true(guard_auth_ok(&g, "admin", "s3cret", NULL));
	assert_false(guard_auth_ok(&g, "admin", "s3cret ", NULL));
	assert_false(guard_auth_ok(&g, "admin", "s3cre", NULL));
	assert_false(guard_auth_ok(&g, "admin", "", NULL));
	assert_false(guard_auth_ok(&g, "Admin", "s3cret", NULL));
	assert_false(guard_auth_ok(&g, NULL, NULL, NULL));
	assert_false(guard_auth_ok(&g, "admin", NULL, "Bearer s3cret"));
	g.token = "tok-123";
	assert_true(guard_auth_ok(&g, NULL, NULL, "Bearer tok-123"));
	assert_true(guard_auth_ok(&g, NULL, NULL, "bearer tok-123"));
	assert_false(guard_auth_ok(&g, NULL, NULL, "Bearer tok-1234"));
	assert_false(guard_auth_ok(&g, NULL, NULL, "Bearer tok-12"));
	assert_false(guard_auth_ok(&g, NULL, NULL, "Basic tok-123"));
	assert_false(guard_auth_ok(&g, NULL, NULL, "Bearer "));
	assert_true(guard_equal("abc", 3, "abc", 3));
	assert_false(guard_equal("abd", 3, "abc", 3));
	assert_false(guard_equal("ab", 2, "abc", 3));
	assert_false(guard_equal("abcd", 4, "abc", 3));
	assert_true(guard_equal("", 0, "", 0));
}

static void test_csrf(void **state)
{
	struct guard a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(guard_init_csrf(&a), 0);
	assert_int_equal(guard_init_csrf(&b), 0);
	assert_int_equal(strlen(a.csrf), GUARD_TOKEN_HEX);
	assert_int_equal(strspn(a.csrf, "0123456789abcdef"), GUARD_TOKEN_HEX);
	assert_string_not_equal(a.csrf, b.csrf);
	assert_true(guard_csrf_ok(&a, a.csrf));
	assert_false(guard_csrf_ok(&a, b.csrf));
	assert_false(guard_csrf_ok(&a, NULL));
	assert_false(guard_csrf_ok(&a, ""));
	{
		char cut[GUARD_TOKEN_HEX];

		memcpy(cut, a.csrf, GUARD_TOKEN_HEX - 1);
		cut[GUARD_TOKEN_HEX - 1] = '\0';
		assert_false(guard_csrf_ok(&a, cut));
	}
}

/* query_add_term: any name becomes a term that parses and quotes back what it was given */
static void test_query_terms(void **state)
{
	static const char *const names[] = {
		"be_app", "be_<b>&amp;", "srv\"q", "back\\slash", "a b  c", "é-ü", "x\"\\\"y", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		struct diag_list dl = DIAG_LIST_INIT;
		struct query *q;

		assert_int_equal(query_add_term(&sb, "backend", names[i]), 0);
		q = query_parse(sb.buf, sb.len, &dl);
		if (!names[i][0]) {
			/* an empty value is a query error, as typed by hand */
			assert_null(q);
			assert_true(dl.n >= 1);
		} else {
			assert_non_null(q);
			assert_int_equal(dl.n, 0);
		}
		query_free(q);
		diag_release(&dl);
		strbuf_release(&sb);
	}
	{
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(query_add_term(&sb, "server", "a\"b\\c"), 0);
		assert_string_equal(sb.buf, "server:\"a\\\"b\\\\c\"");
		strbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_needs_auth_off_loopback),
		cmocka_unit_test(test_host_header),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_query_terms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
