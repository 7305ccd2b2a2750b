/* Store writer-queue tests: store_add copies what it is given (the caller's buffers may change
 * at once), nothing of a batch is visible before its commit, and a rollback drops what is
 * still queued. Lines are read back through the read API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "parse/logrec.h"
#include "query/query.h"
#include "store/sqlite.h" /* the store's own tests look at its tables */
#include "store/read.h"
#include "store/store.h"

#define NLINES 3000 /* more than the queue holds */

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/halog-storeq-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t q_i64(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	int64_t v = -999;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The number of lines a reader sees in the store at path. */
static int64_t lines_of(const char *path)
{
	char err[256];
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));
	struct store_sel sel;
	int64_t n = -1;
	if (!rd)
		fail_msg("%s", err);
	store_sel_init(&sel);
	assert_int_equal(store_count(rd, &sel, &n), 0);
	store_reader_close(rd);
	return n;
}

/* Line i into the caller's reused buffers: raw holds "i fe<i%3> /p<i>", the record's frontend
 * and path are slices of it, its unique_id a slice of another buffer. */
static void make_line(int i, char *raw, size_t rawsz, char *other, size_t othersz,
		      struct store_msg *m, struct logrec *r)
{
	int n = snprintf(raw, rawsz, "%d fe%d /p%d", i, i % 3, i);
	int o = snprintf(other, othersz, "uid-%d", i);
	const char *fe = strchr(raw, ' ') + 1, *path = strchr(fe, ' ') + 1;
	logrec_clear(r);
	r->kind = LR_HTTP;
	r->status = LR_OK;
	r->ts_ms = 1700000000000 + (int64_t)i * 1000;
	r->frontend.p = fe;
	r->frontend.len = (uint32_t)(path - 1 - fe);
	r->backend = r->frontend;
	r->path.p = path;
	r->path.len = (uint32_t)strlen(path);
	r->unique_id.p = other;
	r->unique_id.len = (uint32_t)o;
	r->status_code = 200;
	m->raw = raw;
	m->len = (size_t)n;
	m->recv_ms = 1700000000000;
	m->source = other; /* reused too */
	m->flags = 0;
}

static void test_copies_and_drain(void **state)
{
	char p[512], err[256], raw[64], other[64];
	(void)state;
	snprintf(p, sizeof(p), "%s/q.db", dir);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	for (int i = 0; i < NLINES; i++) {
		struct store_msg m;
		struct logrec r;
		make_line(i, raw, sizeof(raw), other, sizeof(other), &m, &r);
		assert_int_equal(store_add(st, &m, &r), 0);
		/* the caller's buffers change as soon as store_add returns */
		memset(raw, 'Z', sizeof(raw) - 1);
		memset(other, 'Y', sizeof(other) - 1);
	}
	/* nothing of the batch shows before its commit; every line after it */
	assert_int_equal(lines_of(p), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(lines_of(p), NLINES);

	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	assert_non_null(rd);
	struct store_sel sel;
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
	struct store_cursor *c = store_cursor_open(rd, &sel);
	assert_non_null(c);
	const struct store_line *ln;
	for (int i = 0; i < NLINES; i++) {
		char want_raw[64], want_uid[64], want_fe[16], want_path[16];
		assert_int_equal(store_cursor_next(c, &ln), 1);
		snprintf(want_raw, sizeof(want_raw), "%d fe%d /p%d", i, i % 3, i);
		snprintf(want_uid, sizeof(want_uid), "uid-%d", i);
		snprintf(want_fe, sizeof(want_fe), "fe%d", i % 3);
		snprintf(want_path, sizeof(want_path), "/p%d", i);
		assert_int_equal(ln->raw.len, strlen(want_raw));
		assert_memory_equal(ln->raw.p, want_raw, strlen(want_raw));
		assert_int_equal(ln->source.len, strlen(want_uid));
		assert_memory_equal(ln->source.p, want_uid, strlen(want_uid));
		assert_int_equal(ln->rec.frontend.len, strlen(want_fe));
		assert_memory_equal(ln->rec.frontend.p, want_fe, strlen(want_fe));
		assert_int_equal(ln->rec.path.len, strlen(want_path));
		assert_memory_equal(ln->rec.path.p, want_path, strlen(want_path));
		assert_int_equal(ln->rec.unique_id.len, strlen(want_uid));
		assert_memory_equal(ln->rec.unique_id.p, want_uid, strlen(want_uid));
	}
	assert_int_equal(store_cursor_next(c, &ln), 0);
	store_cursor_close(c);
	store_reader_close(rd);
	sqlite3 *db = store_sqlite_db(st);
	/* the rollups count every line once */
	assert_int_equal(q_i64(db, "SELECT sum(requests) FROM rollup"), NLINES);
	store_close(st);
}

static void test_rollback_drops_queue(void **state)
{
	char p[512], err[256], raw[64], other[64];
	(void)state;
	snprintf(p, sizeof(p), "%s/r.db", dir);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	struct store_msg m;
	struct logrec r;
	for (int i = 0; i < NLINES; i++) {
		make_line(i, raw, sizeof(raw), other, sizeof(other), &m, &r);
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	store_rollback(st);
	assert_int_equal(store_pending(st), 0);
	make_line(7, raw, sizeof(raw), other, sizeof(other), &m, &r);
	assert_int_equal(store_add(st, &m, &r), 0);
	assert_int_equal(store_commit(st), 0);
	sqlite3 *db = store_sqlite_db(st);
	assert_int_equal(lines_of(p), 1);
	assert_int_equal(q_i64(db, "SELECT sum(requests) FROM rollup"), 1);
	/* closing with a batch still queued drops it too */
	for (int i = 0; i < NLINES; i++) {
		make_line(i, raw, sizeof(raw), other, sizeof(other), &m, &r);
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	store_close(st);
	assert_int_equal(lines_of(p), 1);
}

/* Whether hay holds the lowercase word w, ASCII case ignored (what a word query asks). */
static int holds(const char *hay, const char *w)
{
	for (size_t i = 0; hay[i]; i++) {
		size_t j = 0;
		while (w[j] && hay[i + j] &&
		       (hay[i + j] >= 'A' && hay[i + j] <= 'Z' ? hay[i + j] + 32 : hay[i + j]) ==
			       w[j])
			j++;
		if (!w[j])
			return 1;
	}
	return 0;
}

/* search --count of words over blocks read without their columns (the raw lines alone, split at
 * LFs) and over a block holding lines with an LF inside, which is counted again with its
 * columns: every count equals the lines that hold the word, each line once. */
static void test_count_words(void **state)
{
	enum { N = 10000 };
	static const char *words[] = {"fe1", "word", "FE2 /P2", "7", "/p99", "absent"};
	char p[512], err[256], raw[64], other[64];
	int64_t want[6] = {0};
	(void)state;
	snprintf(p, sizeof(p), "%s/w.db", dir);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	for (int i = 0; i < N; i++) {
		struct store_msg m;
		struct logrec r;
		make_line(i, raw, sizeof(raw), other, sizeof(other), &m, &r);
		if (i >= 5000 && i < 5004) { /* a line holding an LF, then a word */
			snprintf(raw + m.len, sizeof(raw) - m.len, "\nWord %d", i);
			m.len = strlen(raw);
		}
		for (size_t w = 0; w < 6; w++) {
			char lw[16];
			size_t k = 0;
			for (; words[w][k]; k++)
				lw[k] = words[w][k] >= 'A' && words[w][k] <= 'Z'
						? (char)(words[w][k] + 32)
						: words[w][k];
			lw[k] = '\0';
			want[w] += holds(raw, lw);
		}
		assert_int_equal(store_add(st, &m, &r), 0);
		if (i % 3000 == 2999)
			assert_int_equal(store_commit(st), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	assert_int_equal(want[1], 4);

	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	assert_non_null(rd);
	for (size_t w = 0; w < 6; w++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct query *q = query_parse(words[w], strlen(words[w]), &dl);
		struct store_sel sel;
		int64_t n = -1;
		assert_non_null(q);
		store_sel_init(&sel);
		sel.query = q;
		assert_int_equal(store_count(rd, &sel, &n), 0);
		if (n != want[w])
			fail_msg("%s: %lld lines, %lld expected", words[w], (long long)n,
				 (long long)want[w]);
		/* and inside a snapshot (the reader's own transaction) */
		assert_int_equal(store_snapshot_begin(rd), 0);
		assert_int_equal(store_count(rd, &sel, &n), 0);
		store_snapshot_end(rd);
		assert_int_equal(n, want[w]);
		query_free(q);
	}
	store_reader_close(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies_and_drain),
		cmocka_unit_test(test_rollback_drops_queue),
		cmocka_unit_test(test_count_words),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
