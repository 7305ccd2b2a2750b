/* Webhook delivery policy (alert/deliver.h): which answers are retried, and the backoff with
 * its jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alert/deliver.h"

static void test_verdict(void **state)
{
	assert_int_equal(deliver_verdict(0, 200), 0);
	assert_int_equal(deliver_verdict(0, 204), 0);
	assert_int_equal(deliver_verdict(0, 299), 0);
	/* worth another try */
	assert_int_equal(deliver_verdict(7, 0), 1);  /* could not connect */
	assert_int_equal(deliver_verdict(28, 0), 1); /* timed out */
	assert_int_equal(deliver_verdict(56, 0), 1); /* reset */
	assert_int_equal(deliver_verdict(0, 500), 1);
	assert_int_equal(deliver_verdict(0, 503), 1);
	assert_int_equal(deliver_verdict(0, 408), 1);
	assert_int_equal(deliver_verdict(0, 425), 1);
	assert_int_equal(deliver_verdict(0, 429), 1);
	assert_int_equal(deliver_verdict(0, 0), 1); /* no status line */
	/* refused for good */
	assert_int_equal(deliver_verdict(0, 400), 2);
	assert_int_equal(deliver_verdict(0, 401), 2);
	assert_int_equal(deliver_verdict(0, 404), 2);
	assert_int_equal(deliver_verdict(0, 410), 2);
	assert_int_equal(deliver_verdict(0, 301), 2); /* redirects are not followed */
}

static void test_backoff(void **state)
{
	/* the base doubles from 1 s to 5 min; the jitter takes off at most half of it */
	int64_t base = DELIVER_BACKOFF_MS;
	for (int64_t n = 1; n <= 20; n++) {
		int64_t lo = INT64_MAX, hi = 0;
		for (uint32_t r = 0; r < 5000; r += 7) {
			int64_t d = deliver_backoff_ms(n, r * 2654435761u);
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
		}
		assert_true(hi <= base);
		assert_true(lo >= base / 2);
		assert_true(hi - lo >= base / 4); /* the jitter spreads */
		base = base * 2 > DELIVER_BACKOFF_MAX_MS ? DELIVER_BACKOFF_MAX_MS : base * 2;
	}
	assert_int_equal(deliver_backoff_ms(1, 0), DELIVER_BACKOFF_MS);
	assert_int_equal(deliver_backoff_ms(40, 0), DELIVER_BACKOFF_MAX_MS);
	assert_int_equal(deliver_backoff_ms(1000000, 0), DELIVER_BACKOFF_MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
