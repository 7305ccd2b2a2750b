/* Unit tests for tools/halog/parse/timearg.c: the WHEN of --since/--until. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "parse/timearg.h"

static void test_forms(void **state)
{
	const int64_t now = 1764000000000; /* 2025-11-24T16:00:00Z */
	int64_t ms;

	(void)state;
	assert_int_equal(timearg_parse("10m", now, &ms), 0);
	assert_int_equal(ms, now - 600000);
	assert_int_equal(timearg_parse("1d", now, &ms), 0);
	assert_int_equal(ms, now - 86400000);
	assert_int_equal(timearg_parse("@1764000000", now, &ms), 0);
	assert_int_equal(ms, 1764000000000);
	/* no zone means UTC, whatever TZ says */
	assert_int_equal(timearg_parse("2025-11-24T16:00:00", now, &ms), 0);
	assert_int_equal(ms, now);
	assert_int_equal(timearg_parse("2025-11-24 16:00", now, &ms), 0);
	assert_int_equal(ms, now);
	assert_int_equal(timearg_parse("2025-11-24T17:00:00+01:00", now, &ms), 0);
	assert_int_equal(ms, now);
	assert_int_equal(timearg_parse("2025-11-24T15:30:00.250-0030", now, &ms), 0);
	assert_int_equal(ms, now + 250);
	assert_int_equal(timearg_parse("2025-11-24", now, &ms), 0);
	assert_int_equal(ms, now - 16 * 3600000);
}

static void test_rejects(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(timearg_parse("", 1000, &ms), -1);
	assert_int_equal(timearg_parse("10", 1000000, &ms), -1);     /* a unit is required */
	assert_int_equal(timearg_parse("10x", 1000000, &ms), -1);
	assert_int_equal(timearg_parse("1d", 1000, &ms), -1);        /* before 1970 */
	assert_int_equal(timearg_parse("2025-13-01", 0, &ms), -1);
	assert_int_equal(timearg_parse("2025-11-24T25:00", 0, &ms), -1);
	assert_int_equal(timearg_parse("2025-11-24T10:00:00.", 0, &ms), -1);
	assert_int_equal(timearg_parse("2025-11-24T10:00+2", 0, &ms), -1);
	assert_int_equal(timearg_parse("@-5", 0, &ms), -1);
	assert_int_equal(timearg_parse("yesterday", 0, &ms), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
