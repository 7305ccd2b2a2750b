/* What halog serve asks of the store's read API beyond search and report: store_reader_deadline (a
 * read that runs past its bound stops with a message that says so and store_reader_timed_out
 * set; lifting the bound, or a read within it, works on the same reader; the slow read is a
 * regex that backtracks to its match limit on each of 3000 lines, about 2 ms a line, against a
 * bound of 50 ms), and store_histogram with a query (the hit graph). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "parse/logrec.h"
#include "query/query.h"
#include "store/read.h"
#include "store/store.h"

#define NLINES 3000

static char dir[256], path[512];

static int setup(void **state)
{
	char err[256], raw[128];
	struct store *st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/halog-deadline-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.db", dir);
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	for (int i = 0; i < NLINES; i++) {
		struct logrec r;
		struct store_msg m;
		int n = snprintf(raw, sizeof(raw), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx n=%d", i);

		logrec_clear(&r);
		r.kind = LR_UNPARSED;
		r.status = LR_BAD;
		r.reason = "test";
		m.raw = raw;
		m.len = (size_t)n;
		m.recv_ms = 1764590000000LL + i;
		m.source = "file:x.log";
		m.flags = 0;
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	return 0;
}

static int teardown(void **state)
{
	char p[600];

	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* Reads every line of q through a cursor. Returns the cursor's last result (0 or -1). */
static int read_all(struct store_reader *rd, const char *text, int64_t *n)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *q = query_parse(text, strlen(text), &dl);
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	int rc;

	assert_non_null(q);
	store_sel_init(&sel);
	sel.query = q;
	sel.want = STORE_WANT_LINE;
	c = store_cursor_open(rd, &sel);
	*n = 0;
	rc = c ? 0 : -1;
	if (c) {
		while ((rc = store_cursor_next(c, &ln)) > 0)
			++*n;
		store_cursor_close(c);
	}
	query_free(q);
	diag_release(&dl);
	return rc;
}

static void test_deadline_stops_a_slow_read(void **state)
{
	char err[256];
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));
	int64_t n;

	(void)state;
	assert_non_null(rd);
	assert_int_equal(store_reader_timed_out(rd), 0);
	store_reader_deadline(rd, 50);
	assert_int_equal(read_all(rd, "/(x+x+)+[^xn ]/", &n), -1);
	assert_int_equal(store_reader_timed_out(rd), 1);
	assert_non_null(strstr(store_reader_errmsg(rd), "ran over its time limit (50 ms)"));
	assert_true(n < NLINES);
	/* a bound a cheap read stays within */
	store_reader_deadline(rd, 60000);
	assert_int_equal(store_reader_timed_out(rd), 0);
	assert_int_equal(read_all(rd, "n=1", &n), 0);
	assert_int_equal(n, 1111); /* n=1, n=10..19, n=100..199, n=1000..1999 */
	/* no bound at all */
	store_reader_deadline(rd, 0);
	assert_int_equal(read_all(rd, "", &n), 0);
	assert_int_equal(n, NLINES);
	assert_int_equal(store_reader_timed_out(rd), 0);
	store_reader_close(rd);
}

/* store_histogram of a query counts the matches per bin, as a cursor over the same selection */
static void test_histogram_of_a_query(void **state)
{
	static const char *const queries[] = {"n=1", "n=29", "\"n=2\" OR \"n=5\"", "-n=1", ""};
	char err[256];
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));

	(void)state;
	assert_non_null(rd);
	for (size_t k = 0; k < sizeof(queries) / sizeof(queries[0]); k++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct query *q = query_parse(queries[k], strlen(queries[k]), &dl);
		struct store_sel sel;
		int64_t counts[4] = {0, 0, 0, 0}, want = 0, sum = 0;

		assert_non_null(q);
		assert_int_equal(read_all(rd, queries[k], &want), 0);
		store_sel_init(&sel);
		sel.query = q;
		/* lines are received 1 ms apart from 1764590000000: 4 bins of 1 s hold them all */
		assert_int_equal(store_histogram(rd, &sel, 1764590000000LL, 1000, 4, counts), 0);
		for (int i = 0; i < 4; i++)
			sum += counts[i];
		assert_int_equal(sum, want);
		assert_true(want > 0);
		assert_int_equal(counts[3], 0);
		query_free(q);
		diag_release(&dl);
	}
	store_reader_close(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_stops_a_slow_read),
		cmocka_unit_test(test_histogram_of_a_query),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
