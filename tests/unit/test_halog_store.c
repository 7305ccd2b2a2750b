/* Store tests: schema and mode of a new file, migration refusals, rollback and disk-full,
 * and rollups equal to GROUP BY over the lines read back on random data. Lines are read
 * through the read API (store/read.h) into schema-1-like tables of an in-memory database, so
 * the comparisons stay plain SQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "parse/logrec.h"
#include "store/read.h"
#include "store/rollup.h"
#include "store/sqlite.h" /* the store's own tests look at its tables */
#include "store/store.h"
#include "varint.h"

static char dir[256];

static void db_path(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, "%s/%s", dir, name);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s/halog-store-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];
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

static void bind_str(sqlite3_stmt *s, int i, struct lr_str v)
{
	if (v.p)
		sqlite3_bind_text(s, i, v.p, (int)v.len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
	if (v != LR_NONE)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Every line of the store at path, read back through the read API, as the rows schema 1 kept:
 * tables lines and requests of an in-memory database, with the store attached (its rollups and
 * names answer unqualified). Caller closes it. */
static sqlite3 *rows_of(const char *path)
{
	char err[256], sql[600];
	sqlite3 *m;
	sqlite3_stmt *li, *rq;
	assert_int_equal(sqlite3_open(":memory:", &m), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE lines(id INTEGER PRIMARY KEY, recv_ms, ts_ms, source, kind, status,"
		 " reason, pri, host, program, pid, flags, raw BLOB);"
		 "CREATE TABLE requests(line_id INTEGER PRIMARY KEY, ts_ms, mode, backend, server,"
		 " status, term, retries, redispatched, bytes_read, t_resp, t_active);"
		 "ATTACH 'file:%s?mode=ro' AS s;",
		 path);
	assert_int_equal(sqlite3_exec(m, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(m,
					    "INSERT INTO lines VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
					    -1, &li, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(m,
					    "INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
					    -1, &rq, NULL),
			 SQLITE_OK);
	struct store_reader *rd = store_reader_open(path, err, sizeof(err));
	if (!rd)
		fail_msg("%s", err);
	struct store_sel sel;
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
	struct store_cursor *c = store_cursor_open(rd, &sel);
	assert_non_null(c);
	const struct store_line *ln;
	int rc;
	while ((rc = store_cursor_next(c, &ln)) > 0) {
		const struct logrec *r = &ln->rec;
		sqlite3_reset(li);
		sqlite3_clear_bindings(li);
		sqlite3_bind_int64(li, 1, ln->pos.v);
		sqlite3_bind_int64(li, 2, ln->recv_ms);
		sqlite3_bind_int64(li, 3, ln->ts_ms);
		bind_str(li, 4, ln->source);
		sqlite3_bind_int(li, 5, r->kind);
		sqlite3_bind_int(li, 6, r->status);
		if (r->reason)
			sqlite3_bind_text(li, 7, r->reason, -1, SQLITE_TRANSIENT);
		if (r->pri >= 0)
			sqlite3_bind_int(li, 8, r->pri);
		bind_str(li, 9, r->host);
		bind_str(li, 10, r->tag);
		bind_i64(li, 11, r->pid);
		sqlite3_bind_int(li, 12, (int)ln->flags);
		sqlite3_bind_blob(li, 13, ln->raw.p ? ln->raw.p : "", (int)ln->raw.len,
				  SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(li), SQLITE_DONE);
		if (r->kind != LR_HTTP && r->kind != LR_TCP)
			continue;
		sqlite3_reset(rq);
		sqlite3_clear_bindings(rq);
		sqlite3_bind_int64(rq, 1, ln->pos.v);
		sqlite3_bind_int64(rq, 2, ln->ts_ms);
		sqlite3_bind_text(rq, 3, r->kind == LR_HTTP ? "http" : "tcp", -1, SQLITE_STATIC);
		bind_str(rq, 4, r->backend);
		bind_str(rq, 5, r->server);
		bind_i64(rq, 6, r->status_code);
		if (r->term[0])
			sqlite3_bind_text(rq, 7, r->term, -1, SQLITE_TRANSIENT);
		bind_i64(rq, 8, r->retries);
		sqlite3_bind_int(rq, 9, !!(r->flags & LR_F_REDISPATCH));
		bind_i64(rq, 10, r->bytes_read);
		if (r->t_resp != LR_TIMER_NONE)
			sqlite3_bind_int(rq, 11, r->t_resp);
		if (r->t_active != LR_TIMER_NONE)
			sqlite3_bind_int(rq, 12, r->t_active);
		assert_int_equal(sqlite3_step(rq), SQLITE_DONE);
	}
	assert_int_equal(rc, 0);
	store_cursor_close(c);
	store_reader_close(rd);
	sqlite3_finalize(li);
	sqlite3_finalize(rq);
	return m;
}

/* The number of stored lines, through the read API. */
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

static struct lr_str S(const char *s) {
	struct lr_str r = {s, s ? (uint32_t)strlen(s) : 0};
	return r;
}

static void
http_rec(struct logrec *r, int64_t ts, const char *be, const char *srv, int status, int ta)
{
	logrec_clear(r);
	r->kind = LR_HTTP;
	r->status = LR_OK;
	r->ts_ms = ts;
	r->frontend = S("fe_http");
	r->backend = S(be);
	r->server = S(srv);
	r->status_code = status;
	r->t_req = 0;
	r->t_wait = 0;
	r->t_connect = 1;
	r->t_resp = ta / 2;
	r->t_active = ta;
	r->bytes_read = 100;
	memcpy(r->term, "----", 5);
	r->retries = 0;
	r->method = S("GET");
	r->path = S("/x");
}

static struct store_msg msg(const char *raw)
{
	struct store_msg m = {raw, strlen(raw), 1700000000000, "test", 0};
	return m;
}

static void test_create_mode_version(void **state)
{
	char p[512], err[256];
	struct stat sb;
	db_path(p, sizeof(p), "new.db");
	mode_t old = umask(0);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	umask(old);
	assert_non_null(st);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(
		q_i64(store_sqlite_db(st), "SELECT value FROM meta WHERE key='schema_version'"),
		STORE_SCHEMA_VERSION);
	assert_string_equal((const char *)"wal", "wal");
	sqlite3_stmt *s;
	assert_int_equal(
		sqlite3_prepare_v2(store_sqlite_db(st), "PRAGMA journal_mode", -1, &s, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	store_close(st);

	/* reopening is idempotent; read-only works on a current file */
	st = store_open(p, 0, err, sizeof(err));
	assert_non_null(st);
	store_close(st);
	st = store_open(p, STORE_READONLY, err, sizeof(err));
	assert_non_null(st);
	struct logrec r;
	http_rec(&r, 1, "b", "s", 200, 5);
	struct store_msg m = msg("x");
	assert_int_equal(store_add(st, &m, &r), -1);
	store_close(st);

	/* a missing file without STORE_CREATE is an error */
	db_path(p, sizeof(p), "missing.db");
	assert_null(store_open(p, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "missing.db"));
}

static void test_refuse_foreign_and_newer(void **state)
{
	char p[512], err[256];
	sqlite3 *db;
	db_path(p, sizeof(p), "foreign.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(p, STORE_CREATE, err, sizeof(err)));
	assert_non_null(strstr(err, "not a halog database"));

	db_path(p, sizeof(p), "newer.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	store_close(st);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value=99 WHERE key='schema_version'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(p, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_null(store_open(p, STORE_READONLY, err, sizeof(err)));
}

/* v0: an empty file (what a crash between create and migration leaves) upgrades to the
 * current schema */
static void test_migrate_v0(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "v0.db");
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_null(store_open(p, STORE_READONLY, err, sizeof(err)));
	struct store *st = store_open(p, 0, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(q_i64(store_sqlite_db(st),
			       "SELECT count(*) FROM sqlite_master WHERE name IN"
			       " ('blocks','ingested','events','counters','rollup')"),
			 5);
	assert_int_equal(q_i64(store_sqlite_db(st),
			       "SELECT count(*) FROM sqlite_master WHERE name IN"
			       " ('lines','requests')"),
			 0);
	store_close(st);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_rollback_and_full(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "rb.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	struct logrec r;
	struct store_msg m = msg("a line");
	http_rec(&r, 1700000000000, "be_a", "s1", 200, 10);
	assert_int_equal(store_add(st, &m, &r), 0);
	assert_int_equal(store_counter_add(st, "received", 1), 0);
	assert_int_equal(store_pending(st), 1);
	store_rollback(st);
	assert_int_equal(store_pending(st), 0);
	assert_int_equal(store_commit(st), 0);
	sqlite3 *db = store_sqlite_db(st);
	assert_int_equal(lines_of(p), 0);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM rollup"), 0);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM names"), 0);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM counters"), 0);

	/* one good commit */
	assert_int_equal(store_add(st, &m, &r), 0);
	assert_int_equal(store_counter_add(st, "received", 1), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(lines_of(p), 1);

	/* disk full: cap the file at its current size, write a big batch */
	int64_t pages = q_i64(db, "PRAGMA page_count");
	char sql[128];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld", (long long)pages + 2);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	/* lines that do not compress: the blocks must need more pages than the cap leaves */
	static char big[20000];
	struct store_msg bm = {big, sizeof(big) - 1, 1700000000000, "test", 0};
	int failed = 0;
	for (int i = 0; i < 50 && !failed; i++) {
		for (size_t k = 0; k + 1 < sizeof(big); k++)
			big[k] = (char)('!' + rnd() % 90);
		http_rec(&r, 1700000000000 + i * 60000, "be_new", "s9", 503, 10);
		if (store_add(st, &bm, &r))
			failed = 1;
	}
	if (!failed)
		failed = store_commit(st) == -1;
	else
		store_rollback(st);
	assert_true(failed);
	assert_non_null(strstr(store_errmsg(st), "full"));
	db = store_sqlite_db(st);
	assert_int_equal(lines_of(p), 1);
	assert_int_equal(q_i64(db, "SELECT sum(requests) FROM rollup"), 1);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM names WHERE name='be_new'"), 0);
	assert_int_equal(q_i64(db, "SELECT value FROM counters WHERE name='received'"), 1);

	/* room again: the caller's retry succeeds, names interned anew */
	assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count=1000000", NULL, NULL, NULL),
			 SQLITE_OK);
	http_rec(&r, 1700000000000, "be_new", "s9", 503, 10);
	assert_int_equal(store_add(st, &m, &r), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(lines_of(p), 2);
	assert_int_equal(q_i64(db, "SELECT sum(requests) FROM rollup r JOIN names n ON n.id=r.be"
				   " WHERE n.name='be_new'"),
			 1);
	store_close(st);
}

/* Random traffic over several batches; every rollup figure equals the GROUP BY of the rows. */
static void test_rollup_equals_group_by(void **state)
{
	char p[512], err[256];
	static const char *const bes[] = {"be_a", "be_b", "be_c"};
	static const char *const srvs[] = {"s1", "s2", "s3", "<NOSRV>"};
	static const int codes[] = {200, 200, 200, 301, 404, 500, 502, 503};
	static const char *const terms[] = {"----", "--NI", "SC--", "CD--", "sH--", "LR--"};
	db_path(p, sizeof(p), "rand.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	const int n = 20000;
	for (int i = 0; i < n; i++) {
		struct logrec r;
		http_rec(&r, 1700000000000 + (int64_t)(rnd() % (30 * 60000)), bes[rnd() % 3],
			 srvs[rnd() % 4], codes[rnd() % 8], 0);
		if (rnd() % 5 == 0) {
			r.kind = LR_TCP;
			r.status_code = LR_NONE;
			r.term[2] = '\0';
		}
		memcpy(r.term, terms[rnd() % 6], 2);
		r.t_active = (int32_t)(rnd() % 5000);
		r.t_resp = rnd() % 7 ? (int32_t)(rnd() % 3000) : LR_TIMER_NONE;
		r.retries = (int64_t)(rnd() % 4 == 0);
		if (rnd() % 50 == 0)
			r.flags |= LR_F_REDISPATCH;
		char raw[64];
		snprintf(raw, sizeof(raw), "line %d", i);
		struct store_msg m = msg(raw);
		assert_int_equal(store_add(st, &m, &r), 0);
		if (i % 3000 == 2999)
			assert_int_equal(store_commit(st), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	sqlite3 *db = rows_of(p);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM lines"), n);
	assert_int_equal(q_i64(db, "SELECT sum(n) FROM rollup_lines"), n);

	/* per backend x server, requests / 5xx / errors / retries / redispatches */
	const char *cmp =
		"SELECT count(*) FROM (SELECT backend, server, count(*) AS c,"
		" sum(status BETWEEN 500 AND 599) AS c5,"
		" sum(mode='http' AND status < 500 AND substr(term,1,1) IN ('-','L') AND retries = "
		"0"
		"     AND redispatched = 0) AS ok,"
		" sum(CASE WHEN redispatched THEN 0 ELSE retries END) AS rt, sum(redispatched) AS "
		"rd,"
		" sum(bytes_read) AS br"
		" FROM requests GROUP BY backend, server) g"
		" JOIN (SELECT b.name AS be, s.name AS srv, sum(requests) AS c, sum(c5xx) AS c5,"
		"  sum(requests) - sum(errors) AS notbad, sum(retries) AS rt,"
		"  sum(redispatches) AS rd, sum(bytes_read) AS br"
		"  FROM rollup r JOIN names b ON b.id = r.be JOIN names s ON s.id = r.srv"
		"  GROUP BY 1, 2) r ON r.be = g.backend AND r.srv = g.server"
		" WHERE g.c = r.c AND g.c5 = r.c5 AND g.rt = r.rt AND g.rd = r.rd AND g.br = r.br";
	assert_int_equal(q_i64(db, cmp), 12);
	/* errors: everything but ok http rows; tcp rows are errors only by term/retries */
	assert_int_equal(q_i64(db, "SELECT sum(errors) FROM rollup"),
			 q_i64(db,
			       "SELECT count(*) FROM requests WHERE (mode='http' AND status >= 500)"
			       " OR substr(term,1,1) NOT IN ('-','L') OR (retries > 0 AND NOT "
			       "redispatched)"));
	/* per-code counts per minute */
	assert_int_equal(
		q_i64(db,
		      "SELECT count(*) FROM (SELECT ts_ms/60000*60000 AS b, status, count(*) AS c"
		      " FROM requests WHERE mode='http' GROUP BY 1, 2) g JOIN"
		      " (SELECT bucket, code, sum(n) AS c FROM rollup_code GROUP BY 1, 2) r"
		      " ON r.bucket = g.b AND r.code = g.status AND r.c = g.c"),
		q_i64(db, "SELECT count(*) FROM (SELECT DISTINCT ts_ms/60000, status FROM requests"
			  " WHERE mode='http')"));
	/* termination states */
	assert_int_equal(
		q_i64(db, "SELECT count(*) FROM (SELECT substr(term,1,2) AS t, count(*) AS c FROM"
			  " requests GROUP BY 1) g JOIN (SELECT term, sum(n) AS c FROM rollup_term"
			  " GROUP BY 1) r ON r.term = g.t AND r.c = g.c"),
		5); /* "----" and "--NI" share "--" */
	/* timers: count, sum, max */
	assert_int_equal(q_i64(db, "SELECT sum(n) FROM rollup_timer WHERE timer = 3"),
			 q_i64(db, "SELECT count(t_resp) FROM requests"));
	assert_int_equal(q_i64(db, "SELECT sum(sum) FROM rollup_timer WHERE timer = 4"),
			 q_i64(db, "SELECT sum(t_active) FROM requests"));
	assert_int_equal(q_i64(db, "SELECT max(max) FROM rollup_timer WHERE timer = 4"),
			 q_i64(db, "SELECT max(t_active) FROM requests"));

	/* p50/p99 of Ta for be_a from merged histograms vs the exact nearest-rank value */
	uint64_t *h = calloc(HIST_N, sizeof(*h));
	assert_non_null(h);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT hist FROM rollup_timer r JOIN names b ON"
					    " b.id = r.be WHERE b.name = 'be_a' AND timer = 4",
					    -1, &s, NULL),
			 SQLITE_OK);
	uint64_t cnt = 0;
	while (sqlite3_step(s) == SQLITE_ROW)
		assert_int_equal(hist_decode_add(sqlite3_column_blob(s, 0),
						 (size_t)sqlite3_column_bytes(s, 0), h),
				 0);
	sqlite3_finalize(s);
	for (unsigned b = 0; b < HIST_N; b++)
		cnt += h[b];
	int64_t total = q_i64(db, "SELECT count(*) FROM requests WHERE backend='be_a'");
	assert_int_equal(cnt, total);
	static const int pct[] = {50, 90, 99};
	for (int i = 0; i < 3; i++) {
		char sql[256];
		int64_t rank = (total * pct[i] + 99) / 100;
		snprintf(sql, sizeof(sql),
			 "SELECT t_active FROM requests WHERE backend='be_a' ORDER BY t_active"
			 " LIMIT 1 OFFSET %lld",
			 (long long)rank - 1);
		int64_t exact = q_i64(db, sql);
		int64_t est = hist_percentile(h, cnt, pct[i], 5000);
		double rel = exact ? (double)llabs(est - exact) / (double)exact : (double)est;
		assert_true(rel <= 0.02);
	}
	free(h);
	sqlite3_close(db);
}

static void test_hist(void **state)
{
	for (int64_t v = 0; v < 3000000; v += 1 + v / 50) {
		unsigned b = hist_bucket(v);
		assert_true(b < HIST_N);
		assert_true(hist_lower(b) <= v && v <= hist_upper(b));
		double rel = v ? (double)llabs(hist_value(b) - v) / (double)v : 0;
		assert_true(rel <= 0.016);
	}
	assert_int_equal(hist_bucket(INT32_MAX), HIST_N - 1);
	assert_int_equal(hist_bucket(-5), 0);
	uint64_t c[HIST_N] = {0}, d[HIST_N] = {0};
	c[3] = 5;
	c[700] = 1;
	c[HIST_N - 1] = 2;
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(hist_encode(c, &sb), 0);
	assert_int_equal(hist_decode_add(sb.buf, sb.len, d), 0);
	assert_memory_equal(c, d, sizeof(c));
	assert_int_equal(hist_decode_add("\xff", 1, d), -1);
	assert_int_equal(hist_percentile(c, 8, 50, 1000000), 3);
	strbuf_release(&sb);
}

/* A batch's histogram in chunks encodes to the bytes of the same counts kept dense: buckets
 * at both ends, on both sides of chunk boundaries, and chunks left NULL between them. */
static void test_hist_chunks(void **state)
{
	static const unsigned used[] = {0, 1, 31, 32, 63, 64, 65, 200, 480, 511, 512, HIST_N - 1};
	uint64_t c[HIST_N] = {0}, store[HIST_NCHUNK][HIST_CHUNK];
	uint64_t *chunks[HIST_NCHUNK] = {NULL};
	memset(store, 0, sizeof(store));
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		unsigned b = used[i];
		c[b] = 1 + (uint64_t)b * 1000; /* multi-byte varints too */
		chunks[b / HIST_CHUNK] = store[b / HIST_CHUNK];
		chunks[b / HIST_CHUNK][b % HIST_CHUNK] = c[b];
	}
	struct strbuf dense = STRBUF_INIT, chunked = STRBUF_INIT;
	assert_int_equal(hist_encode(c, &dense), 0);
	assert_int_equal(hist_encode_chunks(chunks, &chunked), 0);
	assert_int_equal(dense.len, chunked.len);
	assert_memory_equal(dense.buf, chunked.buf, dense.len);
	strbuf_reset(&chunked);
	memset(chunks, 0, sizeof(chunks));
	assert_int_equal(hist_encode_chunks(chunks, &chunked), 0);
	assert_int_equal(chunked.len, 0);
	strbuf_release(&dense);
	strbuf_release(&chunked);
}

/* hist_merge of two blobs: the bytes of hist_decode_add of both then hist_encode, and the
 * same verdict on malformed ones, for random blobs with repeated buckets (a gap of 0), zero
 * counts, sums that wrap to 0, gaps that wrap or pass HIST_N, and cut varints. */
static size_t rand_blob(unsigned char *p, unsigned *seed)
{
	size_t len = 0;
	uint64_t b = 0;
	int n = rand_r(seed) % 12;
	for (int i = 0; i < n; i++) {
		uint64_t gap, cnt;
		switch (rand_r(seed) % 10) {
		case 0:
			gap = 0;
			break;
		case 1:
			gap = (uint64_t)0 - b - 1 + (uint64_t)(rand_r(seed) % 3); /* wraps */
			break;
		case 2:
			gap = HIST_N - b + (uint64_t)(rand_r(seed) % 2); /* past the end, or the end */
			break;
		default:
			gap = (uint64_t)(rand_r(seed) % 200);
		}
		switch (rand_r(seed) % 6) {
		case 0:
			cnt = 0;
			break;
		case 1:
			cnt = UINT64_MAX - (uint64_t)(rand_r(seed) % 3);
			break;
		default:
			cnt = 1 + (uint64_t)(rand_r(seed) % 100000);
		}
		b += gap;
		len += varint_put(p + len, gap);
		len += varint_put(p + len, cnt);
	}
	if (len && rand_r(seed) % 8 == 0)
		p[len - 1] |= 0x80; /* cut short */
	return len;
}

static void test_hist_merge(void **state)
{
	unsigned seed = 13;
	unsigned char a[256], b[256];
	uint64_t *c = malloc(HIST_N * sizeof(*c));
	assert_non_null(c);
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	int bad = 0, good = 0;
	for (int round = 0; round < 20000; round++) {
		size_t na = rand_blob(a, &seed), nb = rand_blob(b, &seed);
		memset(c, 0, HIST_N * sizeof(*c));
		strbuf_reset(&want);
		strbuf_reset(&got);
		int malformed = hist_decode_add(a, na, c) || hist_decode_add(b, nb, c);
		if (!malformed)
			assert_int_equal(hist_encode(c, &want), 0);
		int rc = hist_merge(a, na, b, nb, &got);
		assert_int_equal(rc, malformed ? -1 : 0);
		if (malformed) {
			bad++;
			continue;
		}
		good++;
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.buf ? got.buf : "", want.buf ? want.buf : "", want.len);
	}
	assert_true(bad > 1000 && good > 1000);
	strbuf_release(&want);
	strbuf_release(&got);
	free(c);
}

static void test_events_and_counters(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "ev.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	struct logrec r;
	logrec_clear(&r);
	r.kind = LR_SERVER;
	r.ts_ms = 1700000000123;
	r.ev_proxy = S("be_a");
	r.ev_server = S("s1");
	r.ev_state = S("DOWN");
	r.ev_reason = S("Layer4 connection problem");
	r.ev_info = S("Connection refused");
	struct store_msg m = msg("Server be_a/s1 is DOWN");
	assert_int_equal(store_add(st, &m, &r), 0);
	logrec_clear(&r);
	r.kind = LR_UNPARSED;
	r.status = LR_BAD;
	r.reason = "garbage";
	static const char raw[] = "bin\0ary\xff";
	/* (received near the other line: aggregates a year older than the newest line go) */
	struct store_msg m2 = {raw, sizeof(raw) - 1, 1700000000005, "stdin", STORE_MSG_TRUNCATED};
	assert_int_equal(store_add(st, &m2, &r), 0);
	assert_int_equal(store_counter_add(st, "dropped", 3), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_counter_add(st, "dropped", 2), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	sqlite3 *db = rows_of(p);
	assert_int_equal(q_i64(db, "SELECT value FROM counters WHERE name='dropped'"), 5);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM events WHERE proxy='be_a' AND server='s1'"
				   " AND state='DOWN' AND info='Connection refused'"),
			 1);
	assert_int_equal(q_i64(db, "SELECT length(raw) FROM lines WHERE kind=0"), 8);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM lines WHERE kind=0 AND"
				   " raw = CAST(X'62696E00617279FF' AS BLOB)"),
			 1);
	assert_int_equal(q_i64(db, "SELECT flags FROM lines WHERE kind=0"), 1);
	assert_int_equal(q_i64(db, "SELECT ts_ms FROM lines WHERE kind=0"), 1700000000005);
	assert_int_equal(q_i64(db, "SELECT sum(truncated) FROM rollup_lines"), 1);
	sqlite3_close(db);
}

/* A record with every field, then a bare one: the second comes back with none of the first's
 * fields (the block codec keeps no state from line to line that could leak). */
static void test_no_stale_fields(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "stale.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	struct logrec full, bare;
	http_rec(&full, 1700000000000, "be", "s", 200, 5);
	full.client_ip = S("10.0.0.1");
	full.client_port = 1234;
	full.query = S("q=1");
	full.version = S("HTTP/1.1");
	full.uri = S("/x?q=1");
	full.bytes_uploaded = 7;
	full.cookie_req = S("c=1");
	full.cookie_resp = S("c=2");
	full.actconn = full.feconn = full.beconn = full.srv_conn = 1;
	full.srv_queue = full.backend_queue = 0;
	full.cap_req = S("host");
	full.cap_resp = S("type");
	full.ssl_sni = S("sni");
	full.ssl_version = S("TLSv1.3");
	full.ssl_cipher = S("AES");
	full.ssl_errors = S("0/0");
	full.unique_id = S("id");
	full.dst_ip = S("10.0.0.2");
	full.dst_port = 443;
	full.pri = 134;
	full.host = S("h");
	full.tag = S("haproxy");
	full.pid = 42;
	full.reason = "r";
	logrec_clear(&bare);
	bare.kind = LR_HTTP;
	struct store_msg m = msg("line");
	struct store_msg m2 = {"bare", 4, 5, NULL, 0};
	assert_int_equal(store_add(st, &m, &full), 0);
	assert_int_equal(store_add(st, &m2, &bare), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);

	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	assert_non_null(rd);
	struct store_sel sel;
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
	struct store_cursor *c = store_cursor_open(rd, &sel);
	const struct store_line *ln;
	assert_int_equal(store_cursor_next(c, &ln), 1);
	const struct logrec *r = &ln->rec;
	assert_int_equal(r->client_port, 1234);
	assert_int_equal(r->dst_port, 443);
	assert_int_equal(r->pid, 42);
	assert_int_equal(r->pri, 134);
	assert_string_equal(r->reason, "r");
	assert_memory_equal(r->ssl_cipher.p, "AES", 3);
	assert_memory_equal(r->cookie_resp.p, "c=2", 3);
	assert_int_equal(store_cursor_next(c, &ln), 1);
	r = &ln->rec;
	struct logrec want;
	logrec_clear(&want);
	want.kind = LR_HTTP;
	assert_null(ln->source.p);
	assert_int_equal(ln->recv_ms, 5);
	assert_memory_equal(ln->raw.p, "bare", 4);
	/* every field absent: compare the record with a cleared one, strings by presence */
	assert_null(r->reason);
	assert_int_equal(r->pri, -1);
	assert_int_equal(r->pid, LR_NONE);
	assert_int_equal(r->client_port, LR_NONE);
	assert_int_equal(r->status_code, LR_NONE);
	assert_int_equal(r->t_active, LR_TIMER_NONE);
	assert_int_equal(r->bytes_uploaded, LR_NONE);
	assert_int_equal(r->actconn, LR_NONE);
	assert_int_equal(r->dst_port, LR_NONE);
	assert_string_equal(r->term, "");
	const struct lr_str *strs[] = {
		&r->host,      &r->tag,		&r->frontend,	 &r->backend,	 &r->server,
		&r->client_ip, &r->query,	&r->version,	 &r->uri,	 &r->path,
		&r->method,    &r->cookie_req,	&r->cookie_resp, &r->cap_req,	 &r->cap_resp,
		&r->ssl_sni,   &r->ssl_version, &r->ssl_cipher,	 &r->ssl_errors, &r->unique_id,
		&r->dst_ip};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i]->p)
			fail_msg("second line: string field %zu is not absent", i);
	assert_int_equal(store_cursor_next(c, &ln), 0);
	store_cursor_close(c);
	store_reader_close(rd);
}

/* A batch with more keys than the in-memory limit: aggregates are written out mid-batch, in the
 * same transaction, so sums stay exact and a rollback still removes everything. */
static void test_big_batch_flush(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "big.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	sqlite3 *db = store_sqlite_db(st);
	struct logrec r;
	struct store_msg m = msg("x");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 5000; i++) {
			http_rec(&r, 1700000000000 + (int64_t)i * 60000, "be_a",
				 i % 2 ? "s1" : "s2", i % 7 ? 200 : 503, i % 100);
			assert_int_equal(store_add(st, &m, &r), 0);
		}
		assert_int_equal(store_pending(st), 5000);
		if (pass == 0) {
			store_rollback(st);
			assert_int_equal(q_i64(db, "SELECT count(*) FROM rollup"), 0);
			assert_int_equal(lines_of(p), 0);
		} else {
			assert_int_equal(store_commit(st), 0);
		}
	}
	store_close(st);
	db = rows_of(p);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM lines"), 5000);
	assert_int_equal(q_i64(db, "SELECT sum(requests) FROM rollup"), 5000);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM rollup"), 5000);
	assert_int_equal(q_i64(db, "SELECT sum(c5xx) FROM rollup"),
			 q_i64(db, "SELECT count(*) FROM requests WHERE status = 503"));
	assert_int_equal(q_i64(db, "SELECT sum(n) FROM rollup_errpath"),
			 q_i64(db, "SELECT count(*) FROM requests WHERE status = 503"));
	assert_int_equal(q_i64(db, "SELECT sum(sum) FROM rollup_timer WHERE timer = 4"),
			 q_i64(db, "SELECT sum(t_active) FROM requests"));
	assert_int_equal(q_i64(db, "SELECT sum(n) FROM rollup_lines"), 5000);
	sqlite3_close(db);
}

/* A deep queue (store_set_queue, as halog ingest asks): many full blocks wait for the writer;
 * a rollback drops every one of them, a commit stores every line. */
static void test_deep_queue(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "deep.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	store_set_queue(st, 100); /* at most STORE_QBLOCKS_MAX */
	struct logrec r;
	struct store_msg m = msg("x");
	const int n = 12 * 4096 + 17; /* 12 full blocks and an open one */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			http_rec(&r, 1700000000000 + (int64_t)i, "be_a", i % 2 ? "s1" : "s2", 200,
				 i % 100);
			assert_int_equal(store_add(st, &m, &r), 0);
		}
		if (pass == 0) {
			store_set_queue(st, 1); /* too late: ignored */
			store_rollback(st);
			assert_int_equal(lines_of(p), 0);
		} else {
			assert_int_equal(store_commit(st), 0);
		}
	}
	store_close(st);
	assert_int_equal(lines_of(p), n);
	/* whichever thread compressed a block (the caller helps with a deep queue), each row
	 * holds its own lines: line i has time base + i, so time - first id is the same in every
	 * row and a row's times span its n lines */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM blocks"), 13);
	assert_int_equal(q_i64(db, "SELECT count(DISTINCT ts_min - first_id) FROM blocks"), 1);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM blocks WHERE ts_max - ts_min != n - 1"), 0);
	sqlite3_close(db);
}

/* A selection of event kinds reads the events table, never the blocks, even when there are no
 * events at all (it used to decode every block then: a report on a store without server events
 * read every line). The blocks are made unreadable to show it. */
static void test_events_only_reads_no_block(void **state)
{
	char p[512], err[256];
	db_path(p, sizeof(p), "noev.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	struct logrec r;
	struct store_msg m = msg("a line");
	for (int i = 0; i < 9000; i++) {
		http_rec(&r, 1700000000000 + i, "be_a", "s1", 200, 10);
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db, "UPDATE blocks SET raw = X'00', cols = X'00'", NULL, NULL, NULL),
		SQLITE_OK);
	assert_true(q_i64(db, "SELECT count(*) FROM blocks") >= 2);
	sqlite3_close(db);

	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	assert_non_null(rd);
	enum store_order orders[] = {STORE_BY_TIME, STORE_OLDEST, STORE_NEWEST, STORE_TAIL};
	for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
		struct store_sel sel;
		store_sel_init(&sel);
		sel.kinds = STORE_KIND(LR_SERVER) | STORE_KIND(LR_NOSRV);
		sel.order = orders[o];
		sel.limit = orders[o] == STORE_TAIL ? 10 : 0;
		sel.want = STORE_WANT_FIELDS;
		struct store_cursor *c = store_cursor_open(rd, &sel);
		if (!c)
			fail_msg("order %d: %s", (int)orders[o], store_reader_errmsg(rd));
		const struct store_line *ln;
		assert_int_equal(store_cursor_next(c, &ln), 0);
		store_cursor_close(c);
		int64_t n = -1;
		assert_int_equal(store_count(rd, &sel, &n), 0);
		assert_int_equal(n, 0);
	}
	/* and a selection that needs the lines does read them (the blocks really are broken) */
	struct store_sel all;
	store_sel_init(&all);
	all.order = STORE_BY_TIME;
	assert_null(store_cursor_open(rd, &all));
	store_reader_close(rd);
}

/* Two writers of one store (halog listen and halog ingest) take turns: each numbers its lines
 * from the store's end when it opened, so each must follow the other's appends. Lines from both,
 * interleaved, commits in between, one round filling more than a block (a full block written
 * before the commit), event lines among them: every line is stored once, under an id of its
 * own, and every event row points at its line. */
static void add_round(struct store *st, const char *who, int round, int n)
{
	char raw[64];
	struct logrec r;
	for (int i = 0; i < n; i++) {
		snprintf(raw, sizeof(raw), "%s round %d line %d", who, round, i);
		if (i % 100 == 7) {
			logrec_clear(&r);
			r.kind = LR_SERVER;
			r.ts_ms = 1700000000000 + i;
			r.ev_proxy = S("be_a");
			r.ev_server = S(raw); /* the event names its own line */
			r.ev_state = S("DOWN");
		} else {
			http_rec(&r, 1700000000000 + i, "be_a", "s1", 200, 10);
		}
		struct store_msg m = {raw, strlen(raw), 1700000000000 + i, who, 0};
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	assert_int_equal(store_commit(st), 0);
}

static void test_two_writers_take_turns(void **state)
{
	char p[512], err[256];
	(void)state;
	db_path(p, sizeof(p), "two.db");
	struct store *a = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(a);
	struct store *b = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(b);
	static const int rounds[][2] = {{5, 7}, {5, 3}, {5000, 11}, {20, 4200}, {3, 3}};
	int64_t total = 0, events = 0;
	for (int k = 0; k < 5; k++) {
		add_round(a, "a", k, rounds[k][0]);
		add_round(b, "b", k, rounds[k][1]);
		for (int w = 0; w < 2; w++) {
			total += rounds[k][w];
			events += (rounds[k][w] + 92) / 100;
		}
	}
	store_close(a);
	store_close(b);
	assert_int_equal(lines_of(p), total);
	sqlite3 *db = rows_of(p); /* fails on two lines under one id */
	assert_int_equal(q_i64(db, "SELECT count(*) FROM lines"), total);
	assert_int_equal(q_i64(db, "SELECT count(DISTINCT raw) FROM lines"), total);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM s.events"), events);
	assert_int_equal(q_i64(db,
			       "SELECT count(*) FROM s.events e JOIN lines l ON l.id = e.line_id"
			       " WHERE CAST(l.raw AS TEXT) = e.server"),
			 events);
	sqlite3_close(db);
}

/* store_histogram without a query reads the blocks' time ranges as an index: a block whose lines
 * all fall in one bin adds its n unread, the others are decoded. Three full blocks, each inside
 * a 10 s span, and 100 lines after: every bin width and window counts what the lines say, and
 * with the full blocks' frames broken, bins that hold them whole still count them. */
#define HB_T0 1700000000000LL
static int64_t hb_recv(int64_t i)
{
	return i < 12288 ? HB_T0 + (i / 4096) * 10000 + i % 4096 : HB_T0 + 35000 + (i - 12288);
}

static void hb_check(const char *p, int64_t t0, int64_t w, size_t nbins, int64_t since,
		     int64_t until, int want_ok)
{
	char err[256];
	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	assert_non_null(rd);
	struct store_sel sel;
	store_sel_init(&sel);
	sel.since_ms = since;
	sel.until_ms = until;
	int64_t got[8] = {0}, want[8] = {0};
	assert_true(nbins <= 8);
	for (int64_t i = 0; i < 12388; i++) {
		int64_t t = hb_recv(i);
		if (t >= since && t < until && t >= t0 && t < t0 + w * (int64_t)nbins)
			want[(t - t0) / w]++;
	}
	int rc = store_histogram(rd, &sel, t0, w, nbins, got);
	if (!want_ok) {
		assert_int_equal(rc, -1);
	} else {
		if (rc)
			fail_msg("%s", store_reader_errmsg(rd));
		for (size_t b = 0; b < nbins; b++)
			assert_int_equal(got[b], want[b]);
	}
	store_reader_close(rd);
}

static void test_histogram_by_blocks(void **state)
{
	char p[512], err[256];
	(void)state;
	db_path(p, sizeof(p), "hb.db");
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	struct logrec r;
	for (int64_t i = 0; i < 12388; i++) {
		http_rec(&r, hb_recv(i), "be_a", "s1", 200, 10);
		struct store_msg m = {"a line", 6, hb_recv(i), "test", 0};
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	static const int64_t widths[] = {10000, 5000, 3000, 1000, 40000};
	for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
		size_t nb = (size_t)(40000 / widths[k]) < 8 ? (size_t)(40000 / widths[k]) : 8;
		hb_check(p, HB_T0, widths[k], nb, INT64_MIN, INT64_MAX, 1);
		hb_check(p, HB_T0 - 2000, widths[k], nb, HB_T0 + 1000, HB_T0 + 33000, 1);
	}
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(q_i64(db, "SELECT count(*) FROM blocks"), 4);
	assert_int_equal(sqlite3_exec(db,
				      "UPDATE blocks SET raw = X'00', cols = X'00' WHERE n = 4096",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	hb_check(p, HB_T0, 10000, 4, INT64_MIN, INT64_MAX, 1); /* not one full block read */
	hb_check(p, HB_T0, 1000, 8, INT64_MIN, INT64_MAX, 0);  /* they are really broken */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_hist_chunks),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_create_mode_version),
		cmocka_unit_test(test_refuse_foreign_and_newer),
		cmocka_unit_test(test_migrate_v0),
		cmocka_unit_test(test_rollback_and_full),
		cmocka_unit_test(test_events_and_counters),
		cmocka_unit_test(test_rollup_equals_group_by),
		cmocka_unit_test(test_big_batch_flush),
		cmocka_unit_test(test_deep_queue),
		cmocka_unit_test(test_no_stale_fields),
		cmocka_unit_test(test_events_only_reads_no_block),
		cmocka_unit_test(test_two_writers_take_turns),
		cmocka_unit_test(test_histogram_by_blocks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
