/* Unit tests for the listener's pure helpers: TCP framing (LF and octet counting), trimming,
 * addresses, --allow networks and source strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "listen/listen.h"

/* Runs the framer over in (fed in chunks of step bytes, then EOF) and joins the messages as
 * "msg|" (with "!" after a truncated one) into out. */
static void frame_all(const char *in, size_t len, size_t step, size_t cap, char *out, size_t outsz)
{
	struct listen_framer fr;
	char buf[256];
	size_t have = 0, fed = 0, o = 0;

	memset(&fr, 0, sizeof(fr));
	out[0] = '\0';
	for (;;) {
		int eof = fed == len;
		struct listen_frame f;

		listen_frame_next(&fr, buf, have, cap, eof, &f);
		if (f.consumed) {
			if (f.has) {
				assert_true(o + f.len + 2 < outsz);
				memcpy(out + o, buf + f.start, f.len);
				o += f.len;
				if (f.truncated)
					out[o++] = '!';
				out[o++] = '|';
				out[o] = '\0';
			}
			memmove(buf, buf + f.consumed, have - f.consumed);
			have -= f.consumed;
			continue;
		}
		if (eof)
			break;
		{
			size_t n = len - fed < step ? len - fed : step;

			assert_true(have + n <= sizeof(buf));
			memcpy(buf + have, in + fed, n);
			have += n;
			fed += n;
		}
	}
}

static void test_framing(void **state)
{
	char out[512];
	static const char lf[] = "<134>one\n<134>two\n\n<134>three";
	static const char oc[] = "8 <134>one9 <134>two\n3 abc";
	static const char mixed[] = "127.0.0.1:80 [x] raw\n5 <1>ab12:00 digits first\n";
	static const char raw[] = "200 1234 GET /a\n200 12 GET /b\n35 GET /c\n";
	static const char raw2[] = "12 200 GET /x HTTP/1.1\n7 x\n";

	(void)state;
	for (size_t step = 1; step <= 7; step++) {
		frame_all(lf, sizeof(lf) - 1, step, 64, out, sizeof(out));
		assert_string_equal(out, "<134>one|<134>two|<134>three|");
		frame_all(oc, sizeof(oc) - 1, step, 64, out, sizeof(out));
		assert_string_equal(out, "<134>one|<134>two\n|abc|");
		/* the first frame chose LF framing: a later "5 " is text, not a count */
		frame_all(mixed, sizeof(mixed) - 1, step, 64, out, sizeof(out));
		assert_string_equal(out, "127.0.0.1:80 [x] raw|5 <1>ab12:00 digits first|");
		/* HAProxy format raw with a log-format that starts with %ST %B or %Tt: lines that
		 * begin with 1-6 digits and a space stay whole */
		frame_all(raw, sizeof(raw) - 1, step, 64, out, sizeof(out));
		assert_string_equal(out, "200 1234 GET /a|200 12 GET /b|35 GET /c|");
		/* the count would end inside the line: what follows is no count, so LF */
		frame_all(raw2, sizeof(raw2) - 1, step, 64, out, sizeof(out));
		assert_string_equal(out, "12 200 GET /x HTTP/1.1|7 x|");
		/* a line exactly as long as its leading number, LF included: still LF */
		frame_all("5 abcd\n5 efgh\n", 14, step, 64, out, sizeof(out));
		assert_string_equal(out, "5 abcd|5 efgh|");
		/* a leading zero is not a count */
		frame_all("05 abcde\n", 9, step, 64, out, sizeof(out));
		assert_string_equal(out, "05 abcde|");
		frame_all("0 \nx\n", 5, step, 64, out, sizeof(out));
		assert_string_equal(out, "0 |x|");
		/* octet counting, an LF after each frame */
		frame_all("3 abc\n4 defg\n", 13, step, 64, out, sizeof(out));
		assert_string_equal(out, "abc|defg|");
		/* octet counting, then a frame without a count: read to its LF */
		frame_all("3 abc2 ok\nxyz\n", 14, step, 64, out, sizeof(out));
		assert_string_equal(out, "abc|ok|xyz|");
	}
	/* over-long LF frame: cut at cap, the rest up to LF skipped */
	frame_all("abcdefghij\nok\n", 14, 3, 4, out, sizeof(out));
	assert_string_equal(out, "abcd!|ok|");
	/* over-long octet frame: cut at cap, the rest of its announced length skipped */
	frame_all("10 abcdefghij2 ok", 17, 2, 4, out, sizeof(out));
	assert_string_equal(out, "abcd!|ok|");
	/* octet frame cut short by the close: kept, flagged */
	frame_all("20 <134>short", 13, 5, 64, out, sizeof(out));
	assert_string_equal(out, "<134>short!|");
	/* octet counting, then the close inside the next frame's count: its digits are kept,
	 * flagged, not taken for a whole line (e2e/listen_sigterm once stored "1" unflagged) */
	for (size_t step = 1; step <= 7; step++) {
		frame_all("3 abc12", 7, step, 64, out, sizeof(out));
		assert_string_equal(out, "abc|12!|");
		frame_all("3 abc\n4", 7, step, 64, out, sizeof(out));
		assert_string_equal(out, "abc|4!|");
	}
	/* only digits, then the close */
	frame_all("12345", 5, 1, 64, out, sizeof(out));
	assert_string_equal(out, "12345|");
	/* seven digits are not a length */
	frame_all("1234567 x\n", 10, 3, 64, out, sizeof(out));
	assert_string_equal(out, "1234567 x|");
}

static void test_trim(void **state)
{
	(void)state;
	assert_int_equal(listen_trim("abc\n", 4), 3);
	assert_int_equal(listen_trim("abc\n\n", 5), 4);
	assert_int_equal(listen_trim("abc\0\0", 5), 3);
	assert_int_equal(listen_trim("abc\n\0", 5), 3);
	assert_int_equal(listen_trim("a\0c", 3), 3);
	assert_int_equal(listen_trim("\n", 1), 0);
	assert_int_equal(listen_trim("", 0), 0);
}

static void test_addr(void **state)
{
	struct listen_addr a;
	char whybuf[128];
	const char *why;

	(void)state;
	assert_int_equal(
		listen_parse_addr("127.0.0.1:5140", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why),
		0);
	assert_int_equal(a.proto, LISTEN_UDP);
	assert_string_equal(a.text, "udp://127.0.0.1:5140");
	assert_int_equal(
		listen_parse_addr("tcp://[::1]:514", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why),
		0);
	assert_int_equal(a.proto, LISTEN_TCP);
	assert_string_equal(a.text, "tcp://[::1]:514");
	assert_int_equal(listen_parse_addr("*:5140", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why),
			 0);
	assert_string_equal(a.text, "udp://0.0.0.0:5140");
	assert_int_equal(listen_parse_addr(":5140", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why),
			 -1);
	assert_int_equal(
		listen_parse_addr("127.0.0.1", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why), -1);
	assert_int_equal(listen_parse_addr("http://127.0.0.1:80", LISTEN_UDP, &a, whybuf,
					   sizeof(whybuf), &why),
			 -1);
	assert_int_equal(
		listen_parse_addr("127.0.0.1:0", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why), -1);
	assert_int_equal(
		listen_parse_addr("::1:5140", LISTEN_UDP, &a, whybuf, sizeof(whybuf), &why), -1);
}

static void sa4(struct sockaddr_in *a, const char *ip, unsigned port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
}

static void sa6(struct sockaddr_in6 *a, const char *ip, unsigned port)
{
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
}

static void test_allow(void **state)
{
	struct listen_cidr n[3];
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	char src[LISTEN_SRC_MAX];

	(void)state;
	assert_int_equal(listen_parse_cidr("10.0.0.0/8", &n[0]), 0);
	assert_int_equal(listen_parse_cidr("192.168.1.128/25", &n[1]), 0);
	assert_int_equal(listen_parse_cidr("fd00::/8", &n[2]), 0);
	assert_int_equal(listen_parse_cidr("10.1.0.0/8", &n[0]), -1); /* host bits set */
	assert_int_equal(listen_parse_cidr("10.0.0.0/33", &n[0]), -1);
	assert_int_equal(listen_parse_cidr("x", &n[0]), -1);
	assert_int_equal(listen_parse_cidr("10.0.0.0/8", &n[0]), 0);

	sa4(&a4, "10.200.3.4", 1);
	assert_true(listen_allowed(n, 3, (struct sockaddr *)&a4));
	sa4(&a4, "11.0.0.1", 1);
	assert_false(listen_allowed(n, 3, (struct sockaddr *)&a4));
	assert_true(listen_allowed(n, 0, (struct sockaddr *)&a4));
	sa4(&a4, "192.168.1.200", 1);
	assert_true(listen_allowed(n, 3, (struct sockaddr *)&a4));
	sa4(&a4, "192.168.1.100", 1);
	assert_false(listen_allowed(n, 3, (struct sockaddr *)&a4));
	sa6(&a6, "fd12::1", 1);
	assert_true(listen_allowed(n, 3, (struct sockaddr *)&a6));
	sa6(&a6, "::1", 1);
	assert_false(listen_allowed(n, 3, (struct sockaddr *)&a6));
	sa6(&a6, "::ffff:10.1.2.3", 7); /* v4-mapped counts as v4 */
	assert_true(listen_allowed(n, 3, (struct sockaddr *)&a6));
	listen_format_source(src, sizeof(src), LISTEN_TCP, (struct sockaddr *)&a6);
	assert_string_equal(src, "tcp:10.1.2.3:7");
	sa6(&a6, "::1", 5140);
	listen_format_source(src, sizeof(src), LISTEN_UDP, (struct sockaddr *)&a6);
	assert_string_equal(src, "udp:[::1]:5140");
	assert_true(listen_is_loopback((struct sockaddr *)&a6));
	sa4(&a4, "127.0.0.1", 40001);
	listen_format_source(src, sizeof(src), LISTEN_UDP, (struct sockaddr *)&a4);
	assert_string_equal(src, "udp:127.0.0.1:40001");
	assert_true(listen_is_loopback((struct sockaddr *)&a4));
	sa4(&a4, "0.0.0.0", 1);
	assert_false(listen_is_loopback((struct sockaddr *)&a4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
