/* Unit tests for listen/forward: URL parsing, the address loop check (v4-mapped addresses,
 * wildcard binds) and the loop guard on message copies (another sender; the repeat bound; the
 * time window). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "listen/forward.h"
#include "listen/listen.h"

static struct listen_addr bind_of(const char *s)
{
	struct listen_addr a;
	char wb[128];
	const char *why = NULL;

	assert_int_equal(listen_parse_addr(s, LISTEN_UDP, &a, wb, sizeof(wb), &why), 0);
	return a;
}

static int reaches(const char *fwd, const char *bind)
{
	struct forward_target t;
	struct listen_addr b = bind_of(bind);
	char wb[128];
	const char *why = NULL;

	assert_int_equal(forward_parse(fwd, &t, wb, sizeof(wb), &why), 0);
	return forward_reaches_bind(&t, &b, 1);
}

static void test_parse(void **state)
{
	struct forward_target t;
	char wb[128];
	const char *why = NULL;

	(void)state;
	assert_int_equal(forward_parse("udp://127.0.0.1:514", &t, wb, sizeof(wb), &why), 0);
	assert_string_equal(t.addr.text, "udp://127.0.0.1:514");
	assert_string_equal(t.scheme->prefix, "udp://");
	assert_string_equal(forward_text(&t), "udp://127.0.0.1:514");
	/* the stream schemes: their options stay out of the text shown */
	assert_int_equal(forward_parse("tcp://127.0.0.1:514", &t, wb, sizeof(wb), &why), 0);
	assert_string_equal(t.scheme->prefix, "tcp://");
	assert_int_equal(t.addr.proto, LISTEN_TCP);
	assert_int_equal(t.stream.tls, 0);
	assert_string_equal(forward_text(&t), "tcp://127.0.0.1:514");
	assert_int_equal(
		forward_parse("tls://[::1]:6514?name=logs.example.net&queue=100", &t, wb, sizeof(wb), &why),
		0);
	assert_string_equal(t.scheme->prefix, "tls://");
	assert_int_equal(t.stream.tls, 1);
	assert_int_equal(t.stream.queue, 100);
	assert_string_equal(t.stream.name, "logs.example.net");
	assert_string_equal(t.stream.host, "::1");
	assert_int_equal(t.addr.ss.ss_family, AF_INET6);
	assert_string_equal(forward_text(&t), "tls://[::1]:6514");
	assert_int_equal(forward_parse("tls://127.0.0.1:6514?bogus=1", &t, wb, sizeof(wb), &why), -1);
	assert_string_equal(why, "unknown option 'bogus' (ca, cert, key, name or queue)");
	assert_int_equal(forward_parse("ftp://127.0.0.1:514", &t, wb, sizeof(wb), &why), -1);
	assert_int_equal(forward_parse("127.0.0.1:514", &t, wb, sizeof(wb), &why), -1);
	assert_int_equal(forward_parse("udp://127.0.0.1", &t, wb, sizeof(wb), &why), -1);
}

static void test_reaches_bind(void **state)
{
	(void)state;
	/* exact, and after normalising a v4-mapped address */
	assert_true(reaches("udp://127.0.0.1:5140", "udp://127.0.0.1:5140"));
	assert_true(reaches("udp://[::ffff:127.0.0.1]:5140", "udp://127.0.0.1:5140"));
	assert_true(reaches("udp://127.0.0.1:5140", "udp://[::ffff:127.0.0.1]:5140"));
	/* a wildcard bind is every local address: loopback, the wildcard itself, v4-mapped */
	assert_true(reaches("udp://127.0.0.1:5140", "udp://*:5140"));
	assert_true(reaches("udp://127.0.0.2:5140", "udp://*:5140"));
	assert_true(reaches("udp://0.0.0.0:5140", "udp://*:5140"));
	assert_true(reaches("udp://[::ffff:127.0.0.1]:5140", "udp://*:5140"));
	assert_true(reaches("udp://[::1]:5140", "udp://[::]:5140"));
	/* not this listener: another port, another loopback address, a TCP bind, another family
	 * (IPv6 sockets are IPv6-only), an address of another host */
	assert_false(reaches("udp://127.0.0.1:5141", "udp://127.0.0.1:5140"));
	assert_false(reaches("udp://127.0.0.2:5140", "udp://127.0.0.1:5140"));
	assert_false(reaches("udp://127.0.0.1:5140", "tcp://127.0.0.1:5140"));
	assert_false(reaches("udp://127.0.0.1:5140", "udp://[::]:5140"));
	assert_false(reaches("udp://192.0.2.1:5140", "udp://*:5140"));
	/* tcp:// and tls:// reach a TCP bind */
	assert_true(reaches("tcp://127.0.0.1:5140", "tcp://127.0.0.1:5140"));
	assert_true(reaches("tls://127.0.0.1:5140", "tcp://*:5140"));
	assert_false(reaches("tcp://127.0.0.1:5140", "udp://127.0.0.1:5140"));
}

static void sa4(struct sockaddr_in *a, const char *ip, unsigned port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a->sin_addr);
}

static void test_guard(void **state)
{
	struct forward_target t;
	struct forwarder *f;
	struct sockaddr_in haproxy, peer;
	char wb[128], err[128];
	const char *why = NULL;
	const char m[] = "<134>Nov 25 04:20:31 haproxy[1]: one message\n";
	const struct sockaddr *h = (const struct sockaddr *)&haproxy;
	const struct sockaddr *p = (const struct sockaddr *)&peer;

	(void)state;
	assert_int_equal(forward_parse("udp://127.0.0.1:9", &t, wb, sizeof(wb), &why), 0);
	f = forward_new(&t, 1, err, sizeof(err));
	assert_non_null(f);
	sa4(&haproxy, "127.0.0.1", 40000);
	sa4(&peer, "127.0.0.1", 40001);

	/* first seen from haproxy: forwarded; back from the peer (the same bytes, LF or not):
	 * a loop copy, again and again */
	assert_int_equal(forward_guard(f, m, sizeof(m) - 1, h, 1000), FORWARD_PASS);
	assert_int_equal(forward_guard(f, m, sizeof(m) - 2, p, 1001), FORWARD_LOOP);
	assert_int_equal(forward_guard(f, m, sizeof(m) - 1, p, 1002), FORWARD_LOOP);
	assert_int_equal(forward_loops(f), 2);
	/* another message is not a copy */
	assert_int_equal(forward_guard(f, "other", 5, p, 1003), FORWARD_PASS);

	/* the same bytes again from haproxy: forwarded up to FORWARD_REPEAT_MAX times in the
	 * window, then stored but not forwarded (the backstop when the peer's copy came back
	 * after its entry was lost) */
	assert_int_equal(forward_guard(f, m, sizeof(m) - 1, h, 1004), FORWARD_PASS);
	assert_int_equal(forward_guard(f, m, sizeof(m) - 1, h, 1005), FORWARD_PASS);
	assert_int_equal(forward_guard(f, m, sizeof(m) - 1, h, 1006), FORWARD_NO_MORE);
	assert_int_equal(forward_loops(f), 3);

	/* after the window: forgotten, a new first sighting */
	assert_int_equal(forward_guard(f, m, sizeof(m) - 1, p, 1006 + FORWARD_LOOP_MS + 1),
			 FORWARD_PASS);
	forward_free(f);
}

/* Many messages in flight at once (5,000 forwarded before the first copy comes back): every
 * copy is still caught. 65,536 are remembered, 4 per set, the oldest of a set replaced first;
 * far more in flight can push some out, and the repeat bound then stops them. */
static void test_guard_many(void **state)
{
	struct forward_target t;
	struct forwarder *f;
	struct sockaddr_in haproxy, peer;
	char wb[128], err[128], m[64];
	const char *why = NULL;
	int loops = 0;

	(void)state;
	assert_int_equal(forward_parse("udp://127.0.0.1:9", &t, wb, sizeof(wb), &why), 0);
	f = forward_new(&t, 1, err, sizeof(err));
	assert_non_null(f);
	sa4(&haproxy, "127.0.0.1", 40000);
	sa4(&peer, "127.0.0.1", 40001);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(m, sizeof(m), "message %d", i);

		assert_int_equal(forward_guard(f, m, (size_t)n, (struct sockaddr *)&haproxy, 5000),
				 FORWARD_PASS);
	}
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(m, sizeof(m), "message %d", i);

		loops += forward_guard(f, m, (size_t)n, (struct sockaddr *)&peer, 5001) ==
			 FORWARD_LOOP;
	}
	assert_int_equal(loops, 5000);
	forward_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reaches_bind),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_guard_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
