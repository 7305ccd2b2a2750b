/* The SQLite store: raw lines, parsed requests and events, and per-minute rollups written in the
 * same transaction as the rows they summarise (see store.h for the contract, and
 * docs/halog-report.md for the schema). */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rollup.h"

#define STORE_BUSY_MS 5000
#define STORE_ERRPATH_MAX 256 /* bytes of a path kept in rollup_errpath */
/* In-memory aggregates are written out (same transaction) when a batch holds more keys than
 * this, so memory stays bounded (~35 KB of histograms per key) on logs that span many minutes
 * and servers. */
#define STORE_FLUSH_AGGS 1024
#define STORE_FLUSH_PATHS 65536

/* Schema steps: migrations[i] upgrades a database from version i to i + 1. Append only. */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
	"CREATE TABLE names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE lines(id INTEGER PRIMARY KEY, recv_ms INTEGER NOT NULL, ts_ms INTEGER,"
	" source TEXT, kind INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT, pri INTEGER,"
	" host TEXT, program TEXT, pid INTEGER, framing INTEGER, flags INTEGER NOT NULL DEFAULT 0,"
	" raw BLOB NOT NULL);"
	"CREATE TABLE requests(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, mode TEXT,"
	" frontend TEXT, backend TEXT, server TEXT, status INTEGER, term TEXT, client_ip TEXT,"
	" client_port INTEGER, method TEXT, path TEXT, query TEXT, version TEXT, uri TEXT,"
	" t_req INTEGER, t_wait INTEGER, t_connect INTEGER, t_resp INTEGER, t_active INTEGER,"
	" bytes_read INTEGER, bytes_uploaded INTEGER, cookie_req TEXT, cookie_resp TEXT,"
	" actconn INTEGER, feconn INTEGER, beconn INTEGER, srv_conn INTEGER, retries INTEGER,"
	" redispatched INTEGER, srv_queue INTEGER, backend_queue INTEGER, cap_req TEXT,"
	" cap_resp TEXT, ssl_sni TEXT, ssl_version TEXT, ssl_cipher TEXT, ssl_errors TEXT,"
	" unique_id TEXT, dst_ip TEXT, dst_port INTEGER, flags INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE events(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, kind INTEGER NOT NULL,"
	" proxy TEXT, server TEXT, state TEXT, reason TEXT, info TEXT, check_ms INTEGER,"
	" backup INTEGER, active_left INTEGER, backup_left INTEGER, client_ip TEXT,"
	" client_port INTEGER, dst_ip TEXT, dst_port INTEGER, mode TEXT);"
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE rollup(bucket INTEGER, fe INTEGER, be INTEGER, srv INTEGER, kind INTEGER,"
	" requests INTEGER, c1xx INTEGER, c2xx INTEGER, c3xx INTEGER, c4xx INTEGER, c5xx INTEGER,"
	" cother INTEGER, errors INTEGER, retries INTEGER, redispatches INTEGER,"
	" bytes_read INTEGER, bytes_up INTEGER, logasap INTEGER,"
	" PRIMARY KEY(bucket, fe, be, srv, kind)) WITHOUT ROWID;"
	"CREATE TABLE rollup_code(bucket INTEGER, fe INTEGER, be INTEGER, srv INTEGER,"
	" kind INTEGER, code INTEGER, n INTEGER,"
	" PRIMARY KEY(bucket, fe, be, srv, kind, code)) WITHOUT ROWID;"
	"CREATE TABLE rollup_term(bucket INTEGER, fe INTEGER, be INTEGER, srv INTEGER,"
	" kind INTEGER, term TEXT, n INTEGER,"
	" PRIMARY KEY(bucket, fe, be, srv, kind, term)) WITHOUT ROWID;"
	"CREATE TABLE rollup_timer(bucket INTEGER, fe INTEGER, be INTEGER, srv INTEGER,"
	" kind INTEGER, timer INTEGER, n INTEGER, sum INTEGER, max INTEGER, hist BLOB,"
	" PRIMARY KEY(bucket, fe, be, srv, kind, timer)) WITHOUT ROWID;"
	"CREATE TABLE rollup_errpath(bucket INTEGER, fe INTEGER, be INTEGER, srv INTEGER,"
	" status INTEGER, path TEXT, n INTEGER,"
	" PRIMARY KEY(bucket, fe, be, srv, status, path)) WITHOUT ROWID;"
	"CREATE TABLE rollup_errpath_all(be INTEGER, status INTEGER, path TEXT, n INTEGER,"
	" PRIMARY KEY(be, status, path)) WITHOUT ROWID;"
	"CREATE TABLE rollup_lines(bucket INTEGER, kind INTEGER, status INTEGER, n INTEGER,"
	" truncated INTEGER, min_ts INTEGER, max_ts INTEGER,"
	" PRIMARY KEY(bucket, kind, status)) WITHOUT ROWID;"
	"INSERT OR REPLACE INTO meta(key, value) VALUES('rollup_bucket_ms', 60000);",
};
#define STORE_NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum {
	S_LINE,
	S_REQ,
	S_EVENT,
	S_NAME_INS,
	S_NAME_SEL,
	S_ROLLUP,
	S_CODE,
	S_TERM,
	S_TIMER,
	S_ERRPATH,
	S_ERRPATH_ALL,
	S_LINES,
	S_COUNTER,
	S_N
};

static const char *const stmt_sql[S_N] = {
	[S_LINE] = "INSERT INTO lines(recv_ms, ts_ms, source, kind, status, reason, pri, host,"
		   " program, pid, framing, flags, raw) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_REQ] =
		"INSERT INTO requests(line_id, ts_ms, mode, frontend, backend, server, status,"
		" term, client_ip, client_port, method, path, query, version, uri, t_req, t_wait,"
		" t_connect, t_resp, t_active, bytes_read, bytes_uploaded, cookie_req, cookie_resp,"
		" actconn, feconn, beconn, srv_conn, retries, redispatched, srv_queue,"
		" backend_queue, cap_req, cap_resp, ssl_sni, ssl_version, ssl_cipher, ssl_errors,"
		" unique_id, dst_ip, dst_port, flags) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		"?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_EVENT] = "INSERT INTO events(line_id, ts_ms, kind, proxy, server, state, reason, info,"
		    " check_ms, backup, active_left, backup_left, client_ip, client_port, dst_ip,"
		    " dst_port, mode) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_NAME_INS] = "INSERT OR IGNORE INTO names(name) VALUES(?)",
	[S_NAME_SEL] = "SELECT id FROM names WHERE name = ?",
	[S_ROLLUP] =
		"INSERT INTO rollup VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT DO UPDATE SET requests = requests + excluded.requests,"
		" c1xx = c1xx + excluded.c1xx, c2xx = c2xx + excluded.c2xx,"
		" c3xx = c3xx + excluded.c3xx, c4xx = c4xx + excluded.c4xx,"
		" c5xx = c5xx + excluded.c5xx, cother = cother + excluded.cother,"
		" errors = errors + excluded.errors, retries = retries + excluded.retries,"
		" redispatches = redispatches + excluded.redispatches,"
		" bytes_read = bytes_read + excluded.bytes_read,"
		" bytes_up = bytes_up + excluded.bytes_up, logasap = logasap + excluded.logasap",
	[S_CODE] = "INSERT INTO rollup_code VALUES(?,?,?,?,?,?,?)"
		   " ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[S_TERM] = "INSERT INTO rollup_term VALUES(?,?,?,?,?,?,?)"
		   " ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[S_TIMER] = "INSERT INTO rollup_timer VALUES(?,?,?,?,?,?,?,?,?,?)"
		    " ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum,"
		    " max = max(max, excluded.max), hist = halog_hist_merge(hist, excluded.hist)",
	[S_ERRPATH] = "INSERT INTO rollup_errpath VALUES(?,?,?,?,?,?,?)"
		      " ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[S_ERRPATH_ALL] = "INSERT INTO rollup_errpath_all VALUES(?,?,?,?)"
			  " ON CONFLICT DO UPDATE SET n = n + excluded.n",
	[S_LINES] = "INSERT INTO rollup_lines VALUES(?,?,?,?,?,?,?)"
		    " ON CONFLICT DO UPDATE SET n = n + excluded.n,"
		    " truncated = truncated + excluded.truncated,"
		    " min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)",
	[S_COUNTER] = "INSERT INTO counters(name, value) VALUES(?, ?)"
		      " ON CONFLICT DO UPDATE SET value = value + excluded.value",
};

struct errpath_key {
	int64_t bucket;
	int32_t fe, be, srv, status;
	/* followed by the path bytes */
};

struct lines_key {
	int64_t bucket;
	int32_t kind, status;
};

struct lines_val {
	int64_t n, truncated;
	int64_t min_ts, max_ts; /* of the lines' ts_ms */
};

struct store {
	sqlite3 *db;
	int readonly;
	int in_tx;		 /* a BEGIN is open */
	size_t pending;		 /* store_add calls in the open batch */
	sqlite3_stmt *stmt[S_N]; /* prepared lazily by writers */
	struct hmap names;	 /* name -> (void *)(intptr_t)id, committed or in this batch */
	struct hmap aggs;	 /* struct rollup_key -> struct rollup_agg * */
	struct hmap errpaths;	 /* struct errpath_key + path -> int64_t * */
	struct hmap lineaggs;	 /* struct lines_key -> struct lines_val * */
	struct hmap counters;	 /* name -> int64_t * */
	struct strbuf scratch;
	char err[512];
};

static void set_err(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

static int db_fail(struct store *st, const char *what)
{
	set_err(st, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

static int exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_err(st, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* halog_hist_merge(a, b): the histogram blob holding the counts of both (NULLs are empty). */
static void fn_hist_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint64_t *counts = calloc(HIST_N, sizeof(*counts));
	struct strbuf sb = STRBUF_INIT;
	if (!counts) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	for (int i = 0; i < argc; i++) {
		const void *b = sqlite3_value_blob(argv[i]);
		int n = sqlite3_value_bytes(argv[i]);
		if (b && n > 0 && hist_decode_add(b, (size_t)n, counts)) {
			sqlite3_result_error(ctx, "halog_hist_merge: malformed histogram", -1);
			goto out;
		}
	}
	if (hist_encode(counts, &sb)) {
		sqlite3_result_error_nomem(ctx);
		goto out;
	}
	sqlite3_result_blob(ctx, sb.len ? sb.buf : "", (int)sb.len, SQLITE_TRANSIENT);
out:
	strbuf_release(&sb);
	free(counts);
}

static int read_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db,
				    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				    " AND name = 'meta'",
				    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, "cannot read the schema");
	int has_meta = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	*version = 0;
	if (!has_meta) {
		/* no meta: an empty file is version 0; anything else is not ours */
		rc = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL);
		if (rc != SQLITE_OK)
			return db_fail(st, "cannot read the schema");
		int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
		sqlite3_finalize(s);
		if (n != 0) {
			set_err(st, "not a halog database (no meta table)");
			return -1;
		}
		return 0;
	}
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
				&s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, "cannot read the schema version");
	if (sqlite3_step(s) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int migrate(struct store *st)
{
	int version;
	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	if (read_version(st, &version))
		goto fail;
	if (version > STORE_NMIGRATIONS) {
		set_err(st, "schema version %d is newer than this halog (%d)", version,
			STORE_NMIGRATIONS);
		goto fail;
	}
	for (int v = version; v < STORE_NMIGRATIONS; v++) {
		char sql[128];
		if (exec(st, migrations[v]))
			goto fail;
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', %d)",
			 v + 1);
		if (exec(st, sql))
			goto fail;
	}
	if (exec(st, "COMMIT"))
		goto fail;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct store *store_open(const char *path, int flags, char *errbuf, size_t errsz)
{
	struct store *st = calloc(1, sizeof(*st));
	struct stat sb;
	if (!st) {
		snprintf(errbuf, errsz, "out of memory");
		return NULL;
	}
	strbuf_init(&st->scratch);
	st->readonly = !!(flags & STORE_READONLY);
	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || !(flags & STORE_CREATE) || st->readonly) {
			snprintf(errbuf, errsz, "cannot open '%s': %s", path, strerror(errno));
			goto fail;
		}
		/* create it ourselves so the mode is 0600 whatever the umask */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST) {
			snprintf(errbuf, errsz, "cannot create '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (fd != -1)
			close(fd);
	}
	int oflags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(errbuf, errsz, "cannot open '%s': %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_create_function(st->db, "halog_hist_merge", 2,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fn_hist_merge, NULL,
				    NULL) != SQLITE_OK) {
		snprintf(errbuf, errsz, "'%s': %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (!st->readonly) {
		/* WAL: readers (report, tail, search) never block the writer. NORMAL: a power loss
		 * may lose the last commits but never corrupts. A larger page cache and
		 * autocheckpoint keep bulk ingest from stalling on checkpoints. */
		/* 16 KiB pages: a line's row (raw + parsed, ~500 bytes) packs better, and bulk
		 * ingest measured ~15% faster than 4 KiB. Only takes effect on a new, empty file.
		 */
		if (exec(st, "PRAGMA page_size=16384") || exec(st, "PRAGMA journal_mode=WAL") ||
		    exec(st, "PRAGMA synchronous=NORMAL") || exec(st, "PRAGMA cache_size=-65536") ||
		    exec(st, "PRAGMA temp_store=MEMORY") ||
		    exec(st, "PRAGMA wal_autocheckpoint=4096") || migrate(st)) {
			snprintf(errbuf, errsz, "'%s': %s", path, st->err);
			goto fail;
		}
	} else {
		int version;
		if (exec(st, "PRAGMA cache_size=-65536") || read_version(st, &version)) {
			snprintf(errbuf, errsz, "'%s': %s", path, st->err);
			goto fail;
		}
		if (version != STORE_NMIGRATIONS) {
			snprintf(errbuf, errsz, "'%s': schema version %d, this halog reads %d%s",
				 path, version, STORE_NMIGRATIONS,
				 version < STORE_NMIGRATIONS
					 ? " (open it for writing once to upgrade)"
					 : "");
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

static void free_ptr(void *p)
{
	free(p);
}

static void clear_batch(struct store *st)
{
	hmap_release(&st->aggs, rollup_agg_free);
	hmap_release(&st->errpaths, free_ptr);
	hmap_release(&st->lineaggs, free_ptr);
	hmap_release(&st->counters, free_ptr);
	st->pending = 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->in_tx)
		store_rollback(st);
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(st->stmt[i]);
	clear_batch(st);
	hmap_release(&st->names, NULL);
	strbuf_release(&st->scratch);
	sqlite3_close(st->db);
	free(st);
}

const char *store_default_path(void)
{
	const char *e = getenv("HALOG_DB");
	return e && *e ? e : "halog.db";
}

struct sqlite3 *store_db(struct store *st)
{
	return st->db;
}

const char *store_errmsg(const struct store *st)
{
	return st->err;
}

size_t store_pending(const struct store *st)
{
	return st->in_tx ? st->pending : 0;
}

int store_schema_version(struct store *st)
{
	int v;
	return read_version(st, &v) ? -1 : v;
}

static sqlite3_stmt *stmt(struct store *st, int which)
{
	if (!st->stmt[which] &&
	    sqlite3_prepare_v3(st->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &st->stmt[which], NULL) != SQLITE_OK) {
		db_fail(st, "prepare");
		return NULL;
	}
	return st->stmt[which];
}

/* Steps an insert and resets it. Every caller binds every parameter each time (NULLs
 * included), which is cheaper than clearing the bindings. Returns 0 or -1. */
static int run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, what);
	return 0;
}

static void bind_str(sqlite3_stmt *s, int i, struct lr_str v)
{
	if (v.p)
		sqlite3_bind_text(s, i, v.p, (int)v.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void bind_cstr(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
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

static void bind_timer(sqlite3_stmt *s, int i, int32_t v)
{
	if (v != LR_TIMER_NONE)
		sqlite3_bind_int(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int flush(struct store *st);

static int begin(struct store *st)
{
	if (st->in_tx)
		return 0;
	/* IMMEDIATE: take the write lock now, waiting (busy timeout) for another writer, rather
	 * than failing later when a read snapshot would have to be upgraded */
	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	st->in_tx = 1;
	st->pending = 0;
	return 0;
}

/* The id of a name, interned in names: 0 for an absent name, -1 on error (see st->err). */
static int32_t intern(struct store *st, struct lr_str name)
{
	if (!name.p || !name.len)
		return 0;
	struct hmap_ent *e = hmap_get(&st->names, name.p, name.len);
	if (e)
		return (int32_t)(intptr_t)e->val;
	sqlite3_stmt *ins = stmt(st, S_NAME_INS), *sel = stmt(st, S_NAME_SEL);
	if (!ins || !sel)
		return -1;
	sqlite3_bind_text(ins, 1, name.p, (int)name.len, SQLITE_STATIC);
	if (run(st, ins, "cannot store a name"))
		return -1;
	sqlite3_bind_text(sel, 1, name.p, (int)name.len, SQLITE_STATIC);
	int rc = sqlite3_step(sel);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(sel, 0) : -1;
	sqlite3_reset(sel);
	sqlite3_clear_bindings(sel);
	if (id <= 0 || id > INT32_MAX)
		return db_fail(st, "cannot read a name id");
	int isnew;
	e = hmap_put(&st->names, name.p, name.len, &isnew);
	if (!e) {
		set_err(st, "out of memory");
		return -1;
	}
	e->val = (void *)(intptr_t)id;
	return (int32_t)id;
}

static int64_t bucket_of(int64_t ts)
{
	int64_t b = ts / ROLLUP_BUCKET_MS;
	if (ts < 0 && ts % ROLLUP_BUCKET_MS)
		b--;
	return b * ROLLUP_BUCKET_MS;
}

static int add_request(struct store *st, int64_t line_id, int64_t ts, const struct logrec *r)
{
	sqlite3_stmt *s = stmt(st, S_REQ);
	if (!s)
		return -1;
	int i = 1;
	int redispatched = !!(r->flags & LR_F_REDISPATCH);
	sqlite3_bind_int64(s, i++, line_id);
	sqlite3_bind_int64(s, i++, ts);
	sqlite3_bind_text(s, i++, r->kind == LR_HTTP ? "http" : "tcp", -1, SQLITE_STATIC);
	bind_str(s, i++, r->frontend);
	bind_str(s, i++, r->backend);
	bind_str(s, i++, r->server);
	bind_i64(s, i++, r->status_code);
	if (r->term[0])
		sqlite3_bind_text(s, i, r->term, (int)strnlen(r->term, sizeof(r->term)),
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
	i++;
	bind_str(s, i++, r->client_ip);
	bind_i64(s, i++, r->client_port);
	bind_str(s, i++, r->method);
	bind_str(s, i++, r->path);
	bind_str(s, i++, r->query);
	bind_str(s, i++, r->version);
	bind_str(s, i++, r->uri);
	bind_timer(s, i++, r->t_req);
	bind_timer(s, i++, r->t_wait);
	bind_timer(s, i++, r->t_connect);
	bind_timer(s, i++, r->t_resp);
	bind_timer(s, i++, r->t_active);
	bind_i64(s, i++, r->bytes_read);
	bind_i64(s, i++, r->bytes_uploaded);
	bind_str(s, i++, r->cookie_req);
	bind_str(s, i++, r->cookie_resp);
	bind_i64(s, i++, r->actconn);
	bind_i64(s, i++, r->feconn);
	bind_i64(s, i++, r->beconn);
	bind_i64(s, i++, r->srv_conn);
	bind_i64(s, i++, r->retries);
	sqlite3_bind_int(s, i++, redispatched);
	bind_i64(s, i++, r->srv_queue);
	bind_i64(s, i++, r->backend_queue);
	bind_str(s, i++, r->cap_req);
	bind_str(s, i++, r->cap_resp);
	bind_str(s, i++, r->ssl_sni);
	bind_str(s, i++, r->ssl_version);
	bind_str(s, i++, r->ssl_cipher);
	bind_str(s, i++, r->ssl_errors);
	bind_str(s, i++, r->unique_id);
	bind_str(s, i++, r->dst_ip);
	bind_i64(s, i++, r->dst_port);
	sqlite3_bind_int64(s, i++, r->flags);
	if (run(st, s, "cannot store a request"))
		return -1;

	/* rollups */
	struct rollup_key k;
	memset(&k, 0, sizeof(k));
	k.bucket = bucket_of(ts);
	if ((k.fe = intern(st, r->frontend)) < 0 || (k.be = intern(st, r->backend)) < 0 ||
	    (k.srv = intern(st, r->server)) < 0)
		return -1;
	k.kind = (int32_t)r->kind;
	int isnew;
	struct hmap_ent *e = hmap_put(&st->aggs, &k, sizeof(k), &isnew);
	if (!e)
		goto nomem;
	if (isnew) {
		struct rollup_agg *a = calloc(1, sizeof(*a));
		if (!a)
			goto nomem;
		a->key = k;
		e->val = a;
	}
	if (rollup_agg_add(e->val, r))
		goto nomem;
	if (r->kind == LR_HTTP && rollup_is_error(r)) {
		struct errpath_key ek;
		memset(&ek, 0, sizeof(ek));
		ek.bucket = k.bucket;
		ek.fe = k.fe;
		ek.be = k.be;
		ek.srv = k.srv;
		ek.status = r->status_code == LR_NONE ? -1 : (int32_t)r->status_code;
		struct lr_str path = r->path.p ? r->path : r->uri;
		size_t plen = path.p ? path.len : 0;
		if (plen > STORE_ERRPATH_MAX)
			plen = STORE_ERRPATH_MAX;
		strbuf_reset(&st->scratch);
		if (strbuf_add(&st->scratch, &ek, sizeof(ek)) ||
		    (plen && strbuf_add(&st->scratch, path.p, plen)))
			goto nomem;
		e = hmap_put(&st->errpaths, st->scratch.buf, st->scratch.len, &isnew);
		if (!e)
			goto nomem;
		if (isnew && !(e->val = calloc(1, sizeof(int64_t))))
			goto nomem;
		(*(int64_t *)e->val)++;
	}
	return 0;
nomem:
	set_err(st, "out of memory");
	return -1;
}

static int add_event(struct store *st, int64_t line_id, int64_t ts, const struct logrec *r)
{
	sqlite3_stmt *s = stmt(st, S_EVENT);
	if (!s)
		return -1;
	int i = 1;
	sqlite3_bind_int64(s, i++, line_id);
	sqlite3_bind_int64(s, i++, ts);
	sqlite3_bind_int(s, i++, (int)r->kind);
	if (r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR) {
		bind_str(s, i++, r->frontend);
		bind_str(s, i++, r->bind);
		sqlite3_bind_null(s, i++); /* state */
		sqlite3_bind_null(s, i++); /* reason */
		bind_str(s, i++, r->message);
	} else {
		bind_str(s, i++, r->ev_proxy.p ? r->ev_proxy : r->backend);
		bind_str(s, i++, r->ev_server);
		bind_str(s, i++, r->ev_state);
		bind_str(s, i++, r->ev_reason);
		bind_str(s, i++, r->ev_info.p ? r->ev_info : r->message);
	}
	bind_timer(s, i++, r->ev_check_ms);
	sqlite3_bind_int(s, i++, r->ev_backup);
	bind_i64(s, i++, r->ev_active_left);
	bind_i64(s, i++, r->ev_backup_left);
	bind_str(s, i++, r->client_ip);
	bind_i64(s, i++, r->client_port);
	bind_str(s, i++, r->dst_ip);
	bind_i64(s, i++, r->dst_port);
	bind_str(s, i++, r->mode);
	return run(st, s, "cannot store an event");
}

int store_add(struct store *st, const struct store_msg *msg, const struct logrec *rec)
{
	if (st->readonly) {
		set_err(st, "the store is open read-only");
		return -1;
	}
	if (begin(st))
		return -1;
	sqlite3_stmt *s = stmt(st, S_LINE);
	if (!s)
		return -1;
	int64_t ts = msg->recv_ms;
	if (rec->ts_ms != LR_NONE)
		ts = rec->ts_ms;
	else if (rec->syslog_ms != LR_NONE)
		ts = rec->syslog_ms;
	unsigned lflags = msg->flags & STORE_MSG_TRUNCATED;
	int i = 1;
	sqlite3_bind_int64(s, i++, msg->recv_ms);
	sqlite3_bind_int64(s, i++, ts);
	bind_cstr(s, i++, msg->source);
	sqlite3_bind_int(s, i++, (int)rec->kind);
	sqlite3_bind_int(s, i++, (int)rec->status);
	bind_cstr(s, i++, rec->reason);
	if (rec->pri >= 0)
		sqlite3_bind_int(s, i, rec->pri);
	else
		sqlite3_bind_null(s, i);
	i++;
	bind_str(s, i++, rec->host);
	bind_str(s, i++, rec->tag);
	bind_i64(s, i++, rec->pid);
	sqlite3_bind_int(s, i++, (int)rec->framing);
	sqlite3_bind_int(s, i++, (int)lflags);
	sqlite3_bind_blob(s, i++, msg->len ? msg->raw : "", (int)msg->len, SQLITE_STATIC);
	if (run(st, s, "cannot store a line"))
		return -1;
	int64_t id = sqlite3_last_insert_rowid(st->db);

	switch (rec->kind) {
	case LR_HTTP:
	case LR_TCP:
		if (add_request(st, id, ts, rec))
			return -1;
		break;
	case LR_CONNECT:
	case LR_CONN_ERROR:
	case LR_SERVER:
	case LR_CHECK:
	case LR_NOSRV:
	case LR_PROXY:
		if (add_event(st, id, ts, rec))
			return -1;
		break;
	case LR_UNPARSED:
	case LR_OTHER:
	case LR_KIND_MAX:
		break;
	}

	struct lines_key lk;
	memset(&lk, 0, sizeof(lk));
	lk.bucket = bucket_of(ts);
	lk.kind = (int32_t)rec->kind;
	lk.status = (int32_t)rec->status;
	int isnew;
	struct hmap_ent *e = hmap_put(&st->lineaggs, &lk, sizeof(lk), &isnew);
	if (!e || (isnew && !(e->val = calloc(1, sizeof(struct lines_val))))) {
		set_err(st, "out of memory");
		return -1;
	}
	struct lines_val *lv = e->val;
	if (!lv->n++ || ts < lv->min_ts)
		lv->min_ts = ts;
	if (lv->n == 1 || ts > lv->max_ts)
		lv->max_ts = ts;
	if (lflags & STORE_MSG_TRUNCATED)
		lv->truncated++;
	st->pending++;
	if (st->aggs.n >= STORE_FLUSH_AGGS || st->errpaths.n >= STORE_FLUSH_PATHS ||
	    st->lineaggs.n >= STORE_FLUSH_PATHS) {
		size_t pending = st->pending;
		if (flush(st))
			return -1;
		clear_batch(st);
		st->pending = pending;
	}
	return 0;
}

int store_counter_add(struct store *st, const char *name, int64_t delta)
{
	int isnew;
	struct hmap_ent *e = hmap_put(&st->counters, name, strlen(name), &isnew);
	if (!e || (isnew && !(e->val = calloc(1, sizeof(int64_t))))) {
		set_err(st, "out of memory");
		return -1;
	}
	*(int64_t *)e->val += delta;
	return 0;
}

static void bind_key(sqlite3_stmt *s, const struct rollup_key *k)
{
	sqlite3_bind_int64(s, 1, k->bucket);
	sqlite3_bind_int(s, 2, k->fe);
	sqlite3_bind_int(s, 3, k->be);
	sqlite3_bind_int(s, 4, k->srv);
	sqlite3_bind_int(s, 5, k->kind);
}

static int flush_agg(struct store *st, const struct rollup_agg *a)
{
	sqlite3_stmt *s = stmt(st, S_ROLLUP);
	if (!s)
		return -1;
	bind_key(s, &a->key);
	int i = 6;
	sqlite3_bind_int64(s, i++, a->requests);
	for (int c = 0; c < RC_N; c++)
		sqlite3_bind_int64(s, i++, a->cls[c]);
	sqlite3_bind_int64(s, i++, a->errors);
	sqlite3_bind_int64(s, i++, a->retries);
	sqlite3_bind_int64(s, i++, a->redispatches);
	sqlite3_bind_int64(s, i++, a->bytes_read);
	sqlite3_bind_int64(s, i++, a->bytes_up);
	sqlite3_bind_int64(s, i++, a->logasap);
	if (run(st, s, "cannot update rollup"))
		return -1;
	if (a->ncodes && !(s = stmt(st, S_CODE)))
		return -1;
	for (size_t j = 0; j < a->ncodes; j++) {
		bind_key(s, &a->key);
		sqlite3_bind_int64(s, 6, a->codes[j].key);
		sqlite3_bind_int64(s, 7, a->codes[j].n);
		if (run(st, s, "cannot update rollup_code"))
			return -1;
	}
	if (a->nterms && !(s = stmt(st, S_TERM)))
		return -1;
	for (size_t j = 0; j < a->nterms; j++) {
		char t[2] = {(char)(a->terms[j].key >> 8), (char)(a->terms[j].key & 0xff)};
		bind_key(s, &a->key);
		sqlite3_bind_text(s, 6, t, 2, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 7, a->terms[j].n);
		if (run(st, s, "cannot update rollup_term"))
			return -1;
	}
	for (int t = 0; t < RT_N; t++) {
		if (!a->hist[t] || !a->tn[t])
			continue;
		if (!(s = stmt(st, S_TIMER)))
			return -1;
		strbuf_reset(&st->scratch);
		if (hist_encode(a->hist[t], &st->scratch)) {
			set_err(st, "out of memory");
			return -1;
		}
		bind_key(s, &a->key);
		sqlite3_bind_int(s, 6, t);
		sqlite3_bind_int64(s, 7, a->tn[t]);
		sqlite3_bind_int64(s, 8, a->tsum[t]);
		sqlite3_bind_int64(s, 9, a->tmax[t]);
		sqlite3_bind_blob(s, 10, st->scratch.buf, (int)st->scratch.len, SQLITE_STATIC);
		if (run(st, s, "cannot update rollup_timer"))
			return -1;
	}
	return 0;
}

static int flush(struct store *st)
{
	sqlite3_stmt *s;
	for (size_t i = 0; i < st->aggs.cap; i++)
		if (st->aggs.tab[i].key && flush_agg(st, st->aggs.tab[i].val))
			return -1;
	for (size_t i = 0; i < st->errpaths.cap; i++) {
		const struct hmap_ent *e = &st->errpaths.tab[i];
		if (!e->key)
			continue;
		struct errpath_key k;
		memcpy(&k, e->key, sizeof(k));
		if (!(s = stmt(st, S_ERRPATH)))
			return -1;
		sqlite3_bind_int64(s, 1, k.bucket);
		sqlite3_bind_int(s, 2, k.fe);
		sqlite3_bind_int(s, 3, k.be);
		sqlite3_bind_int(s, 4, k.srv);
		sqlite3_bind_int(s, 5, k.status);
		sqlite3_bind_text(s, 6, e->key + sizeof(k), (int)(e->klen - sizeof(k)),
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, *(int64_t *)e->val);
		if (run(st, s, "cannot update rollup_errpath"))
			return -1;
		/* all time, per backend: what a report without a window reads */
		if (!(s = stmt(st, S_ERRPATH_ALL)))
			return -1;
		sqlite3_bind_int(s, 1, k.be);
		sqlite3_bind_int(s, 2, k.status);
		sqlite3_bind_text(s, 3, e->key + sizeof(k), (int)(e->klen - sizeof(k)),
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, *(int64_t *)e->val);
		if (run(st, s, "cannot update rollup_errpath_all"))
			return -1;
	}
	for (size_t i = 0; i < st->lineaggs.cap; i++) {
		const struct hmap_ent *e = &st->lineaggs.tab[i];
		if (!e->key)
			continue;
		struct lines_key k;
		const struct lines_val *v = e->val;
		memcpy(&k, e->key, sizeof(k));
		if (!(s = stmt(st, S_LINES)))
			return -1;
		sqlite3_bind_int64(s, 1, k.bucket);
		sqlite3_bind_int(s, 2, k.kind);
		sqlite3_bind_int(s, 3, k.status);
		sqlite3_bind_int64(s, 4, v->n);
		sqlite3_bind_int64(s, 5, v->truncated);
		sqlite3_bind_int64(s, 6, v->min_ts);
		sqlite3_bind_int64(s, 7, v->max_ts);
		if (run(st, s, "cannot update rollup_lines"))
			return -1;
	}
	for (size_t i = 0; i < st->counters.cap; i++) {
		const struct hmap_ent *e = &st->counters.tab[i];
		if (!e->key)
			continue;
		if (!(s = stmt(st, S_COUNTER)))
			return -1;
		sqlite3_bind_text(s, 1, e->key, (int)e->klen, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, *(int64_t *)e->val);
		if (run(st, s, "cannot update counters"))
			return -1;
	}
	return 0;
}

int store_commit(struct store *st)
{
	if (st->readonly)
		return 0;
	if (!st->in_tx && !st->counters.n)
		return 0;
	if (begin(st) || flush(st) || exec(st, "COMMIT")) {
		char keep[sizeof(st->err)];
		memcpy(keep, st->err, sizeof(keep));
		store_rollback(st);
		memcpy(st->err, keep, sizeof(keep));
		return -1;
	}
	st->in_tx = 0;
	clear_batch(st);
	return 0;
}

void store_rollback(struct store *st)
{
	for (int i = 0; i < S_N; i++)
		if (st->stmt[i])
			sqlite3_reset(st->stmt[i]);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
	clear_batch(st);
	/* ids interned in the rolled-back batch no longer exist */
	hmap_release(&st->names, NULL);
}
