/* Unit tests for common/clock: the monotonic clock never goes back, the units agree, the wall
 * clock is unix time, sleeps and monotonic condition deadlines end. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "clock.h"

static void test_monotonic(void **state)
{
	int64_t prev = clock_mono_ns();

	(void)state;
	for (int i = 0; i < 10000; i++) {
		int64_t now = clock_mono_ns();

		assert_true(now >= prev);
		prev = now;
	}
	/* the units are the same clock: ms <= us/1000 <= ns/1e6, read in that order */
	int64_t ms = clock_mono_ms(), us = clock_mono_us(), ns = clock_mono_ns();
	assert_true(ms <= us / 1000);
	assert_true(us <= ns / 1000);
	assert_true(clock_mono_s() * 1000.0 >= (double)ms);
}

static void test_wall(void **state)
{
	int64_t before = (int64_t)time(NULL) * 1000, w = clock_wall_ms();
	int64_t after = (int64_t)time(NULL) * 1000 + 1000;

	(void)state;
	assert_true(w >= before && w <= after);
}

static void test_sleep(void **state)
{
	int64_t t0 = clock_mono_ms();

	(void)state;
	assert_int_equal(clock_sleep_ms(0), 0);
	assert_int_equal(clock_sleep_ms(-5), 0);
	assert_int_equal(clock_sleep_ms(20), 0);
	assert_true(clock_mono_ms() - t0 >= 20); /* at least, never at most: no timing bound */
}

static void test_cond_deadline(void **state)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c;
	struct timespec ts, now;
	int rc;

	(void)state;
	assert_int_equal(clock_cond_init(&c), 0);
	clock_cond_deadline(&ts, 1500);
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* the deadline is on the monotonic clock, 1.5 s ahead (not a wall-clock time) */
	assert_true(ts.tv_sec - now.tv_sec >= 1 && ts.tv_sec - now.tv_sec <= 2);
	assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
	clock_cond_deadline(&ts, 10);
	pthread_mutex_lock(&mu);
	do
		rc = pthread_cond_timedwait(&c, &mu, &ts);
	while (rc == 0);
	pthread_mutex_unlock(&mu);
	assert_int_equal(rc, ETIMEDOUT);
	pthread_cond_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_wall),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_cond_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
