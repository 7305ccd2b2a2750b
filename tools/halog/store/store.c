/* The SQLite store: raw lines, parsed requests and events, and per-minute rollups written in the
 * same transaction as the rows they summarise (see store.h for the contract, and
 * docs/halog-report.md for the schema). */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "store/rollup.h"
#include "store/sqlite.h"

#define STORE_BUSY_MS 5000
#define STORE_TURN_MS 120000 /* the longest a writer waits for its turn (see turn_take) */
#define STORE_ERRPATH_MAX 256 /* bytes of a path kept in rollup_errpath */
/* In-memory aggregates are written out (same transaction) when a batch holds more keys than
 * this, so memory stays bounded (~35 KB of histograms per key) on logs that span many minutes
 * and servers. */
#define STORE_FLUSH_AGGS 1024
#define STORE_FLUSH_PATHS 65536
/* The row writer: store_add parses nothing and writes nothing itself; it folds the line into
 * the rollups, copies it into a queue slot, and a writer thread binds and steps the INSERTs.
 * On two cores the caller's parsing and aggregation overlap SQLite's work. The queue holds at
 * most STORE_QUEUE lines and STORE_QUEUE_BYTES bytes of copies. */
#define STORE_QUEUE 1024 /* a power of two */
#define STORE_QUEUE_BYTES (16u << 20)
#define STORE_SLOT_KEEP 8192 /* a slot buffer larger than this is freed after use */
/* Checkpoints run on a thread of their own with a second connection, so copying the WAL into
 * the database (and its fsyncs) overlaps the next batch. A commit that leaves STORE_CKPT_FRAMES
 * frames in the WAL starts one; at STORE_CKPT_HARD the commit waits for it, so the next
 * transaction can restart the WAL from its beginning and the file stays bounded. */
#define STORE_CKPT_FRAMES 256 /* 16 MiB of 64 KiB pages */
#define STORE_CKPT_HARD 2048  /* 128 MiB */

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
	/* 1 -> 2: the state area (state.h): saved searches, alerts, their delivery outbox, and
	 * the alert log */
	"CREATE TABLE saved_searches(name TEXT PRIMARY KEY, query TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE TABLE alerts(name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, saved TEXT,"
	" query TEXT, expr TEXT, balance TEXT, backend TEXT, tolerance REAL,"
	" min_requests INTEGER, every_ms INTEGER NOT NULL, webhook TEXT NOT NULL,"
	" format TEXT NOT NULL, cooldown_ms INTEGER NOT NULL, timeout_ms INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL, cursor_id INTEGER NOT NULL,"
	" last_fired_ms INTEGER, last_eval_ms INTEGER, last_value REAL,"
	" status TEXT NOT NULL DEFAULT 'new');"
	"CREATE TABLE alert_deliveries(id INTEGER PRIMARY KEY, alert TEXT NOT NULL,"
	" key TEXT NOT NULL UNIQUE, webhook TEXT NOT NULL, format TEXT NOT NULL,"
	" timeout_ms INTEGER NOT NULL, window_start INTEGER NOT NULL,"
	" window_end INTEGER NOT NULL, created_ms INTEGER NOT NULL, payload BLOB NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	" next_ms INTEGER NOT NULL, done_ms INTEGER, last_status INTEGER, last_error TEXT);"
	"CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_ms);"
	"CREATE TABLE alert_log(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
	" alert TEXT NOT NULL, event TEXT NOT NULL, key TEXT, window_start INTEGER,"
	" window_end INTEGER, status INTEGER, ms INTEGER, detail TEXT);"
	"CREATE INDEX alert_log_alert ON alert_log(alert, id);",
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

/* One queued line: a copy of the message and of its parse result, the strings relocated into
 * buf. */
struct slot {
	struct logrec rec;
	struct store_msg msg;
	int64_t ts;    /* the line's time as store_add chose it */
	unsigned lflags; /* lines.flags */
	size_t srclen;	 /* strlen(msg.source) */
	char *buf;     /* raw bytes, then source, then strings that were not inside raw */
	size_t cap;
};

struct store {
	sqlite3 *db;
	int readonly;
	int lockfd;		 /* the writers' turnstile, "<path>-lock" (-1: none) */
	int has_turn;		 /* holds the write turn (see turn_take) */
	int in_tx;		 /* a BEGIN is open */
	size_t pending;		 /* store_add calls in the open batch */
	sqlite3_stmt *stmt[S_N]; /* prepared lazily by writers */
	uint64_t nulls[S_N];	 /* row statements: parameters bound to NULL (bind_null) */
	struct hmap names;	 /* name -> (void *)(intptr_t)id, committed or in this batch */
	struct hmap aggs;	 /* struct rollup_key -> struct rollup_agg * */
	struct hmap errpaths;	 /* struct errpath_key + path -> int64_t * */
	struct hmap lineaggs;	 /* struct lines_key -> struct lines_val * */
	struct hmap counters;	 /* name -> int64_t * */
	struct strbuf scratch;
	char err[512];

	/* the writer thread and its queue; everything below except q's slots in [tail, head) is
	 * guarded by mu. The thread touches the connection only while the queue is not empty:
	 * the caller runs its own statements (BEGIN, names, rollups, COMMIT) after drain(). */
	int started;		/* the thread runs */
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* to the writer: slots to write, or stop */
	pthread_cond_t done;	/* to the caller: slots written */
	struct slot *q;		/* STORE_QUEUE slots */
	uint64_t head, tail;	/* slots [tail, head) are queued */
	size_t qbytes;		/* bytes of the queued copies */
	int stop;		/* store_close: the writer exits */
	int failed;		/* a row failed: the rest of the batch is skipped */
	int discard;		/* store_rollback: skip what is queued */
	int w_waiting, c_waiting; /* writer / caller sleeps on its condition */
	char werr[512];		/* the writer's error, copied to err by the caller */

	/* the checkpointer: its own connection and thread, guarded by mu too */
	char *path;		/* of the file, for the second connection */
	sqlite3 *cdb;
	int ckpt_started;
	pthread_t cthr;
	pthread_cond_t ckpt;	/* to the checkpointer: a request, or stop */
	pthread_cond_t ckpt_end; /* to a committer: a checkpoint ended */
	uint64_t ckpt_req, ckpt_done; /* request sequence numbers */
};

static int drain(struct store *st);
static void stop_writer(struct store *st);

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

static int turn_take(struct store *st);
static void turn_give(struct store *st);
static void turn_open(struct store *st, const char *path);

static int migrate(struct store *st)
{
	int version;
	if (turn_take(st))
		return -1;
	if (exec(st, "BEGIN IMMEDIATE")) {
		turn_give(st);
		return -1;
	}
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
	turn_give(st);
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	turn_give(st);
	return -1;
}

static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

/* No global allocation statistics: they take a process-wide mutex on every malloc. Fails
 * harmlessly (SQLITE_MISUSE) when SQLite was initialised before. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens st->db on name (a path, or a file: URI with SQLITE_OPEN_URI in flags) with the busy
 * timeout, extended result codes and halog's SQL functions. Returns 0, or -1 with errbuf set. */
static int open_conn(struct store *st, const char *name, int flags, char *errbuf, size_t errsz)
{
	if (sqlite3_open_v2(name, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(errbuf, errsz, "cannot open '%s': %s", name,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_create_function(st->db, "halog_hist_merge", 2,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fn_hist_merge, NULL,
				    NULL) != SQLITE_OK) {
		snprintf(errbuf, errsz, "'%s': %s", name, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* The read-only fallback: reopens path as an immutable file (no -shm, no locks, nothing
 * written), which is exact as long as no -wal holds commits the file lacks. A -wal with
 * content is refused with what to do, rather than showing old data. Returns 0 or -1. */
static int reopen_immutable(struct store *st, const char *path, char *errbuf, size_t errsz)
{
	struct strbuf uri = STRBUF_INIT;
	struct stat wb;
	int rc;

	strbuf_addf(&uri, "%s-wal", path);
	if (stat(uri.buf, &wb) == 0 && wb.st_size > 0) {
		snprintf(errbuf, errsz,
			 "cannot read '%s' from here: its -wal file holds commits that need a -shm "
			 "file, which this folder does not let us create (%s); copy the store with its "
			 "-wal to a writable folder, or read it where its writer runs",
			 path, sqlite3_errmsg(st->db));
		strbuf_release(&uri);
		return -1;
	}
	sqlite3_close(st->db);
	st->db = NULL;
	strbuf_reset(&uri);
	strbuf_addstr(&uri, "file:");
	for (const char *p = path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#')
			strbuf_addf(&uri, "%%%02x", (unsigned char)*p);
		else
			strbuf_addch(&uri, *p);
	strbuf_addstr(&uri, "?immutable=1");
	rc = open_conn(st, uri.buf, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, errbuf, errsz);
	strbuf_release(&uri);
	return rc;
}

struct store *store_open(const char *path, int flags, char *errbuf, size_t errsz)
{
	struct store *st = calloc(1, sizeof(*st));
	struct stat sb;
	if (errsz)
		errbuf[0] = '\0';
	if (!st) {
		snprintf(errbuf, errsz, "out of memory");
		return NULL;
	}
	strbuf_init(&st->scratch);
	st->lockfd = -1;
	st->readonly = !!(flags & STORE_READONLY);
	if (!st->readonly && !(st->path = strdup(path))) {
		snprintf(errbuf, errsz, "out of memory");
		goto fail;
	}
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
	/* once per process: sqlite3_config must not run while another thread uses SQLite (a
	 * reader per thread: halog serve) */
	pthread_once(&sqlite_setup_once, sqlite_setup);
	if (open_conn(st, path, st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
		      errbuf, errsz))
		goto fail;
	if (!st->readonly) {
		int version;

		/* a file that is not a halog store is refused before anything writes to it (the
		 * PRAGMAs below would switch it to WAL) */
		if (read_version(st, &version)) {
			snprintf(errbuf, errsz, "'%s': %s", path, st->err);
			goto fail;
		}
		turn_open(st, path);
		/* WAL: readers (report, tail, search) never block the writer. NORMAL: a power loss
		 * may lose the last commits but never corrupts. 64 KiB pages: bulk ingest writes
		 * each page twice (WAL, then checkpoint), and large pages mean 4x fewer frames,
		 * syscalls and checkpoint work than 16 KiB (measured: checkpoint CPU 0.29 s vs
		 * 0.48 s per million lines). Only takes effect on a new, empty file. A small
		 * cache makes the writer thread spill pages into the WAL as it goes instead of
		 * leaving them all to COMMIT. Checkpoints run on their own thread (start_ckpt);
		 * the autocheckpoint below is the fallback when that thread cannot start. */
		if (exec(st, "PRAGMA page_size=65536") || exec(st, "PRAGMA journal_mode=WAL") ||
		    exec(st, "PRAGMA synchronous=NORMAL") || exec(st, "PRAGMA cache_size=-8192") ||
		    exec(st, "PRAGMA temp_store=MEMORY") ||
		    exec(st, "PRAGMA wal_autocheckpoint=1024") || migrate(st)) {
			snprintf(errbuf, errsz, "'%s': %s", path, st->err);
			goto fail;
		}
	} else {
		int version;
		if (exec(st, "PRAGMA cache_size=-65536") || read_version(st, &version)) {
			/* a WAL store on read-only media, or in a folder this reader cannot write,
			 * cannot get its -shm file: read the file alone, unchanging */
			int ec = sqlite3_extended_errcode(st->db);

			if (((ec & 0xff) != SQLITE_READONLY && (ec & 0xff) != SQLITE_CANTOPEN) ||
			    reopen_immutable(st, path, errbuf, errsz) ||
			    exec(st, "PRAGMA cache_size=-65536") || read_version(st, &version)) {
				if (!errbuf[0])
					snprintf(errbuf, errsz, "'%s': %s", path, st->err);
				goto fail;
			}
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
	stop_writer(st);
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(st->stmt[i]);
	clear_batch(st);
	hmap_release(&st->names, NULL);
	strbuf_release(&st->scratch);
	sqlite3_close(st->db);
	/* closed after SQLite's own descriptors: this is another file, so closing it cannot drop
	 * SQLite's POSIX locks on the store */
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st->path);
	free(st);
}

const char *store_default_path(void)
{
	const char *e = getenv("HALOG_DB");
	return e && *e ? e : "halog.db";
}

struct sqlite3 *store_sqlite_db(struct store *st)
{
	/* the caller is about to use the connection: the writer must be idle (a failure stays
	 * recorded for the next store_add or store_commit) */
	drain(st);
	return st->db;
}

void store_set_cache_kib(struct store *st, int kib)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib > 0 ? kib : 1);
	drain(st);
	sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

const char *store_errmsg(const struct store *st)
{
	return st->err;
}

void store_set_errmsg(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
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

/* Row binders (writer thread). *nulls has bit i set while parameter i is bound to NULL:
 * bindings survive sqlite3_reset, so a column that stays NULL from row to row (most of the
 * optional fields) is not rebound. Every non-NULL value is bound anew for each row, so no
 * pointer into an older row's buffer is ever read. Parameters are numbered below 64. */
static void bind_null(sqlite3_stmt *s, uint64_t *nulls, int i)
{
	uint64_t bit = (uint64_t)1 << i;
	if (!(*nulls & bit)) {
		sqlite3_bind_null(s, i);
		*nulls |= bit;
	}
}

static void bind_text(sqlite3_stmt *s, uint64_t *nulls, int i, const char *p, size_t len)
{
	sqlite3_bind_text(s, i, p, (int)len, SQLITE_STATIC);
	*nulls &= ~((uint64_t)1 << i);
}

static void bind_int(sqlite3_stmt *s, uint64_t *nulls, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v);
	*nulls &= ~((uint64_t)1 << i);
}

static void bind_str(sqlite3_stmt *s, uint64_t *nulls, int i, struct lr_str v)
{
	if (v.p)
		bind_text(s, nulls, i, v.p, v.len);
	else
		bind_null(s, nulls, i);
}

static void bind_cstr(sqlite3_stmt *s, uint64_t *nulls, int i, const char *v)
{
	if (v)
		bind_text(s, nulls, i, v, strlen(v));
	else
		bind_null(s, nulls, i);
}

static void bind_i64(sqlite3_stmt *s, uint64_t *nulls, int i, int64_t v)
{
	if (v != LR_NONE)
		bind_int(s, nulls, i, v);
	else
		bind_null(s, nulls, i);
}

static void bind_timer(sqlite3_stmt *s, uint64_t *nulls, int i, int32_t v)
{
	if (v != LR_TIMER_NONE)
		bind_int(s, nulls, i, v);
	else
		bind_null(s, nulls, i);
}

static int flush(struct store *st);

/* ---------------------------------------------------------------------------------------------
 * The writers' turnstile. SQLite lets one writer in at a time and makes the others poll: a
 * writer that commits in a loop (halog listen) takes the lock again a few microseconds after
 * releasing it, so a second writer (halog ingest) kept failing with "database is locked". Two
 * open-file-description locks on "<path>-lock" make writers take turns: a writer takes the
 * turnstile (byte 0), then the write turn (byte 1), then lets the turnstile go. A writer that
 * waits for the write turn holds the turnstile, so the one that just finished cannot come back
 * before it: each waiting writer gets the next turn. Readers never take either lock. Without the
 * lock file (read-only folder), writers fall back to SQLite's busy timeout.
 */

enum { TURN_GATE, TURN_WRITE };

/* Tries to take (type F_WRLCK) or release (F_UNLCK) one byte of the lock file. Returns 0, or
 * -1 with errno (EAGAIN: someone else holds it). */
static int turn_lock(int fd, int which, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = which;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Waits (up to deadline_ms on the monotonic clock) for one byte of the lock file. */
static int turn_wait(struct store *st, int which, int64_t deadline_ms)
{
	int64_t pause = 1;

	while (turn_lock(st->lockfd, which, F_WRLCK) == -1) {
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return 0; /* locks unsupported here: SQLite's own locking still holds */
		if (clock_mono_ms() >= deadline_ms) {
			set_err(st, "database is locked: another writer has held it for %d s",
				STORE_TURN_MS / 1000);
			return -1;
		}
		clock_sleep_ms(pause);
		if (pause < 10)
			pause++;
	}
	return 0;
}

/* Takes the write turn: the turnstile, then the write lock, then lets the turnstile go.
 * Returns 0, or -1 (see st->err). */
static int turn_take(struct store *st)
{
	int64_t deadline;

	if (st->lockfd < 0 || st->has_turn)
		return 0;
	deadline = clock_mono_ms() + STORE_TURN_MS;
	if (turn_wait(st, TURN_GATE, deadline))
		return -1;
	if (turn_wait(st, TURN_WRITE, deadline)) {
		turn_lock(st->lockfd, TURN_GATE, F_UNLCK);
		return -1;
	}
	turn_lock(st->lockfd, TURN_GATE, F_UNLCK);
	st->has_turn = 1;
	return 0;
}

static void turn_give(struct store *st)
{
	if (st->lockfd >= 0 && st->has_turn)
		turn_lock(st->lockfd, TURN_WRITE, F_UNLCK);
	st->has_turn = 0;
}

/* Opens "<path>-lock" (mode 0600, created when missing). No lock file is not an error. */
static void turn_open(struct store *st, const char *path)
{
	char *lp = malloc(strlen(path) + 6);

	st->lockfd = -1;
	if (!lp)
		return;
	memcpy(lp, path, strlen(path));
	memcpy(lp + strlen(path), "-lock", 6);
	st->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(lp);
}

static int begin(struct store *st)
{
	if (st->in_tx)
		return 0;
	/* IMMEDIATE: take the write lock now, waiting (busy timeout) for another writer, rather
	 * than failing later when a read snapshot would have to be upgraded; halog's writers first
	 * wait for their turn */
	if (turn_take(st))
		return -1;
	if (exec(st, "BEGIN IMMEDIATE")) {
		turn_give(st);
		return -1;
	}
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
	if (drain(st))
		return -1;
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

/* The writer thread's failure: the message goes to werr (the caller copies it to err). */
static int w_fail(struct store *st, const char *what)
{
	snprintf(st->werr, sizeof(st->werr), "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* Steps a row insert on the writer thread and resets it. Returns 0 or -1 (see werr). */
static int w_run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return w_fail(st, what);
	return 0;
}

/* Row statements, prepared by the caller before the first slot is queued (prepare touches the
 * connection). */
static int prepare_rows(struct store *st)
{
	return !stmt(st, S_LINE) || !stmt(st, S_REQ) || !stmt(st, S_EVENT) ? -1 : 0;
}

static int insert_request(struct store *st, int64_t line_id, int64_t ts, const struct logrec *r)
{
	sqlite3_stmt *s = st->stmt[S_REQ];
	uint64_t *nm = &st->nulls[S_REQ];
	int i = 1;
	int redispatched = !!(r->flags & LR_F_REDISPATCH);
	bind_int(s, nm, i++, line_id);
	bind_int(s, nm, i++, ts);
	if (r->kind == LR_HTTP)
		bind_text(s, nm, i++, "http", 4);
	else
		bind_text(s, nm, i++, "tcp", 3);
	bind_str(s, nm, i++, r->frontend);
	bind_str(s, nm, i++, r->backend);
	bind_str(s, nm, i++, r->server);
	bind_i64(s, nm, i++, r->status_code);
	if (r->term[0])
		bind_text(s, nm, i, r->term, strnlen(r->term, sizeof(r->term)));
	else
		bind_null(s, nm, i);
	i++;
	bind_str(s, nm, i++, r->client_ip);
	bind_i64(s, nm, i++, r->client_port);
	bind_str(s, nm, i++, r->method);
	bind_str(s, nm, i++, r->path);
	bind_str(s, nm, i++, r->query);
	bind_str(s, nm, i++, r->version);
	bind_str(s, nm, i++, r->uri);
	bind_timer(s, nm, i++, r->t_req);
	bind_timer(s, nm, i++, r->t_wait);
	bind_timer(s, nm, i++, r->t_connect);
	bind_timer(s, nm, i++, r->t_resp);
	bind_timer(s, nm, i++, r->t_active);
	bind_i64(s, nm, i++, r->bytes_read);
	bind_i64(s, nm, i++, r->bytes_uploaded);
	bind_str(s, nm, i++, r->cookie_req);
	bind_str(s, nm, i++, r->cookie_resp);
	bind_i64(s, nm, i++, r->actconn);
	bind_i64(s, nm, i++, r->feconn);
	bind_i64(s, nm, i++, r->beconn);
	bind_i64(s, nm, i++, r->srv_conn);
	bind_i64(s, nm, i++, r->retries);
	bind_int(s, nm, i++, redispatched);
	bind_i64(s, nm, i++, r->srv_queue);
	bind_i64(s, nm, i++, r->backend_queue);
	bind_str(s, nm, i++, r->cap_req);
	bind_str(s, nm, i++, r->cap_resp);
	bind_str(s, nm, i++, r->ssl_sni);
	bind_str(s, nm, i++, r->ssl_version);
	bind_str(s, nm, i++, r->ssl_cipher);
	bind_str(s, nm, i++, r->ssl_errors);
	bind_str(s, nm, i++, r->unique_id);
	bind_str(s, nm, i++, r->dst_ip);
	bind_i64(s, nm, i++, r->dst_port);
	bind_int(s, nm, i++, r->flags);
	return w_run(st, s, "cannot store a request");
}

/* Folds a traffic record into the batch's rollups (caller's thread). Returns 0 or -1. */
static int rollup_request(struct store *st, int64_t ts, const struct logrec *r)
{
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

static int insert_event(struct store *st, int64_t line_id, int64_t ts, const struct logrec *r)
{
	sqlite3_stmt *s = st->stmt[S_EVENT];
	uint64_t *nm = &st->nulls[S_EVENT];
	int i = 1;
	bind_int(s, nm, i++, line_id);
	bind_int(s, nm, i++, ts);
	bind_int(s, nm, i++, (int)r->kind);
	if (r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR) {
		bind_str(s, nm, i++, r->frontend);
		bind_str(s, nm, i++, r->bind);
		bind_null(s, nm, i++); /* state */
		bind_null(s, nm, i++); /* reason */
		bind_str(s, nm, i++, r->message);
	} else {
		bind_str(s, nm, i++, r->ev_proxy.p ? r->ev_proxy : r->backend);
		bind_str(s, nm, i++, r->ev_server);
		bind_str(s, nm, i++, r->ev_state);
		bind_str(s, nm, i++, r->ev_reason);
		bind_str(s, nm, i++, r->ev_info.p ? r->ev_info : r->message);
	}
	bind_timer(s, nm, i++, r->ev_check_ms);
	bind_int(s, nm, i++, r->ev_backup);
	bind_i64(s, nm, i++, r->ev_active_left);
	bind_i64(s, nm, i++, r->ev_backup_left);
	bind_str(s, nm, i++, r->client_ip);
	bind_i64(s, nm, i++, r->client_port);
	bind_str(s, nm, i++, r->dst_ip);
	bind_i64(s, nm, i++, r->dst_port);
	bind_str(s, nm, i++, r->mode);
	return w_run(st, s, "cannot store an event");
}

/* Writes one queued line (writer thread): its lines row, then its requests or events row. */
static int write_slot(struct store *st, const struct slot *sl)
{
	sqlite3_stmt *s = st->stmt[S_LINE];
	uint64_t *nm = &st->nulls[S_LINE];
	const struct store_msg *msg = &sl->msg;
	const struct logrec *rec = &sl->rec;
	int i = 1;
	bind_int(s, nm, i++, msg->recv_ms);
	bind_int(s, nm, i++, sl->ts);
	if (msg->source)
		bind_text(s, nm, i++, msg->source, sl->srclen);
	else
		bind_null(s, nm, i++);
	bind_int(s, nm, i++, (int)rec->kind);
	bind_int(s, nm, i++, (int)rec->status);
	bind_cstr(s, nm, i++, rec->reason);
	if (rec->pri >= 0)
		bind_int(s, nm, i, rec->pri);
	else
		bind_null(s, nm, i);
	i++;
	bind_str(s, nm, i++, rec->host);
	bind_str(s, nm, i++, rec->tag);
	bind_i64(s, nm, i++, rec->pid);
	bind_int(s, nm, i++, (int)rec->framing);
	bind_int(s, nm, i++, (int)sl->lflags);
	sqlite3_bind_blob(s, i++, msg->len ? msg->raw : "", (int)msg->len, SQLITE_STATIC);
	*nm &= ~((uint64_t)1 << (i - 1));
	if (w_run(st, s, "cannot store a line"))
		return -1;
	int64_t id = sqlite3_last_insert_rowid(st->db);

	switch (rec->kind) {
	case LR_HTTP:
	case LR_TCP:
		return insert_request(st, id, sl->ts, rec);
	case LR_CONNECT:
	case LR_CONN_ERROR:
	case LR_SERVER:
	case LR_CHECK:
	case LR_NOSRV:
	case LR_PROXY:
		return insert_event(st, id, sl->ts, rec);
	case LR_UNPARSED:
	case LR_OTHER:
	case LR_KIND_MAX:
		break;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->tail == st->head && !st->stop) {
			if (st->c_waiting)
				pthread_cond_signal(&st->done);
			st->w_waiting = 1;
			pthread_cond_wait(&st->work, &st->mu);
			st->w_waiting = 0;
		}
		if (st->tail == st->head)
			break; /* stop, nothing left */
		uint64_t from = st->tail, to = st->head;
		int skip = st->failed || st->discard;
		pthread_mutex_unlock(&st->mu);
		size_t bytes = 0;
		for (uint64_t i = from; i < to; i++) {
			struct slot *sl = &st->q[i & (STORE_QUEUE - 1)];
			if (!skip && write_slot(st, sl))
				skip = 2;
			bytes += sl->msg.len;
			if (sl->cap > STORE_SLOT_KEEP) {
				free(sl->buf);
				sl->buf = NULL;
				sl->cap = 0;
			}
		}
		pthread_mutex_lock(&st->mu);
		st->tail = to;
		st->qbytes -= bytes;
		if (skip == 2)
			st->failed = 1;
		if (st->c_waiting)
			pthread_cond_signal(&st->done);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Waits until the writer has written (or skipped) every queued line: the caller may then use
 * the connection. Returns 0, or -1 when a row failed (the message is in err). */
static int drain(struct store *st)
{
	if (!st->started)
		return 0;
	pthread_mutex_lock(&st->mu);
	while (st->tail != st->head) {
		st->c_waiting = 1;
		pthread_cond_wait(&st->done, &st->mu);
		st->c_waiting = 0;
	}
	int failed = st->failed;
	pthread_mutex_unlock(&st->mu);
	if (failed)
		memcpy(st->err, st->werr, sizeof(st->err));
	return failed ? -1 : 0;
}

static void *ckpt_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->ckpt_done == st->ckpt_req && !st->stop)
			pthread_cond_wait(&st->ckpt, &st->mu);
		if (st->ckpt_done == st->ckpt_req)
			break;
		uint64_t seq = st->ckpt_req;
		pthread_mutex_unlock(&st->mu);
		/* PASSIVE: never waits for readers or the writer; what it cannot copy now the next
		 * one will. Errors (busy, I/O) leave the WAL as it is, which stays correct. */
		sqlite3_wal_checkpoint_v2(st->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&st->mu);
		st->ckpt_done = seq;
		pthread_cond_broadcast(&st->ckpt_end);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* The main connection's WAL hook, run after each commit by the committing thread. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;
	(void)db;
	(void)name;
	if (frames < STORE_CKPT_FRAMES)
		return SQLITE_OK;
	pthread_mutex_lock(&st->mu);
	uint64_t seq = ++st->ckpt_req;
	pthread_cond_signal(&st->ckpt);
	while (frames >= STORE_CKPT_HARD && st->ckpt_done < seq)
		pthread_cond_wait(&st->ckpt_end, &st->mu);
	pthread_mutex_unlock(&st->mu);
	return SQLITE_OK;
}

/* Starts the checkpointer; without it SQLite's own autocheckpoint stays on. */
static void start_ckpt(struct store *st)
{
	if (sqlite3_open_v2(st->path, &st->cdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto fail;
	/* a connection knows it is in WAL mode only once it has read the file */
	if (sqlite3_exec(st->cdb, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (pthread_cond_init(&st->ckpt, NULL))
		goto fail;
	if (pthread_cond_init(&st->ckpt_end, NULL))
		goto fail_cond;
	if (pthread_create(&st->cthr, NULL, ckpt_main, st))
		goto fail_end;
	st->ckpt_started = 1;
	sqlite3_wal_hook(st->db, wal_hook, st);
	return;
fail_end:
	pthread_cond_destroy(&st->ckpt_end);
fail_cond:
	pthread_cond_destroy(&st->ckpt);
fail:
	sqlite3_close(st->cdb);
	st->cdb = NULL;
}

static int start_writer(struct store *st)
{
	if (st->started)
		return 0;
	st->q = calloc(STORE_QUEUE, sizeof(*st->q));
	if (!st->q) {
		set_err(st, "out of memory");
		return -1;
	}
	if (pthread_mutex_init(&st->mu, NULL))
		goto fail_q;
	if (pthread_cond_init(&st->work, NULL))
		goto fail_mu;
	if (pthread_cond_init(&st->done, NULL))
		goto fail_work;
	if (pthread_create(&st->thr, NULL, writer_main, st))
		goto fail_done;
	st->started = 1;
	start_ckpt(st);
	return 0;
fail_done:
	pthread_cond_destroy(&st->done);
fail_work:
	pthread_cond_destroy(&st->work);
fail_mu:
	pthread_mutex_destroy(&st->mu);
fail_q:
	free(st->q);
	st->q = NULL;
	set_err(st, "cannot start the store writer thread");
	return -1;
}

static void stop_writer(struct store *st)
{
	if (!st->started)
		return;
	pthread_mutex_lock(&st->mu);
	st->stop = 1;
	pthread_cond_signal(&st->work);
	if (st->ckpt_started)
		pthread_cond_signal(&st->ckpt);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thr, NULL);
	if (st->ckpt_started) {
		pthread_join(st->cthr, NULL);
		/* back to SQLite's own checkpoints for what the connection still commits */
		sqlite3_wal_autocheckpoint(st->db, 1024);
		pthread_cond_destroy(&st->ckpt_end);
		pthread_cond_destroy(&st->ckpt);
		st->ckpt_started = 0;
	}
	sqlite3_close(st->cdb);
	st->cdb = NULL;
	pthread_cond_destroy(&st->done);
	pthread_cond_destroy(&st->work);
	pthread_mutex_destroy(&st->mu);
	for (size_t i = 0; i < STORE_QUEUE; i++)
		free(st->q[i].buf);
	free(st->q);
	st->q = NULL;
	st->started = 0;
}

/* Every struct lr_str field of struct logrec (keep in step with logrec.h: a field missing here
 * would still point into the caller's buffer when the writer reads it): a queued copy points
 * them into its own buffer. */
static const size_t lr_str_fields[] = {
	offsetof(struct logrec, host),	      offsetof(struct logrec, tag),
	offsetof(struct logrec, sd),	      offsetof(struct logrec, body),
	offsetof(struct logrec, client_ip),   offsetof(struct logrec, frontend),
	offsetof(struct logrec, bind),	      offsetof(struct logrec, backend),
	offsetof(struct logrec, server),      offsetof(struct logrec, cookie_req),
	offsetof(struct logrec, cookie_resp), offsetof(struct logrec, cap_req),
	offsetof(struct logrec, cap_resp),    offsetof(struct logrec, request),
	offsetof(struct logrec, method),      offsetof(struct logrec, uri),
	offsetof(struct logrec, path),	      offsetof(struct logrec, query),
	offsetof(struct logrec, version),     offsetof(struct logrec, ssl_sni),
	offsetof(struct logrec, ssl_version), offsetof(struct logrec, ssl_cipher),
	offsetof(struct logrec, ssl_errors),  offsetof(struct logrec, unique_id),
	offsetof(struct logrec, dst_ip),      offsetof(struct logrec, mode),
	offsetof(struct logrec, message),     offsetof(struct logrec, ev_proxy),
	offsetof(struct logrec, ev_server),   offsetof(struct logrec, ev_state),
	offsetof(struct logrec, ev_reason),   offsetof(struct logrec, ev_info),
};
#define LR_NSTR (sizeof(lr_str_fields) / sizeof(lr_str_fields[0]))

static struct lr_str *lr_field(struct logrec *r, size_t i)
{
	return (struct lr_str *)(void *)((char *)r + lr_str_fields[i]);
}

/* Whether the slice f lies inside msg's raw bytes (compared as addresses: f may point
 * anywhere). */
static int in_raw(const struct lr_str *f, const struct store_msg *msg)
{
	uintptr_t p = (uintptr_t)f->p, r = (uintptr_t)msg->raw;
	return p >= r && p - r <= msg->len && f->len <= msg->len - (p - r);
}

/* Copies msg and rec into sl: raw first, then source, then every string of rec that does not
 * lie inside raw (the parser's slices do; a hand-built record's may not). Returns 0 or -1. */
static int fill_slot(struct slot *sl, const struct store_msg *msg, const struct logrec *rec)
{
	size_t srclen = msg->source ? strlen(msg->source) + 1 : 0;
	size_t need = msg->len + srclen;
	const char *raw = msg->raw;
	sl->rec = *rec;
	for (size_t i = 0; i < LR_NSTR; i++) {
		const struct lr_str *f = lr_field(&sl->rec, i);
		if (f->p && !in_raw(f, msg))
			need += f->len;
	}
	if (need > sl->cap) {
		size_t cap = need < 512 ? 512 : need;
		char *b = malloc(cap);
		if (!b)
			return -1;
		free(sl->buf);
		sl->buf = b;
		sl->cap = cap;
	}
	char *p = sl->buf;
	if (msg->len)
		memcpy(p, raw, msg->len);
	sl->msg = *msg;
	sl->msg.raw = p;
	p += msg->len;
	sl->srclen = srclen ? srclen - 1 : 0;
	if (srclen) {
		memcpy(p, msg->source, srclen);
		sl->msg.source = p;
		p += srclen;
	}
	for (size_t i = 0; i < LR_NSTR; i++) {
		struct lr_str *f = lr_field(&sl->rec, i);
		if (!f->p)
			continue;
		if (in_raw(f, msg)) {
			f->p = sl->buf + (f->p - raw);
		} else {
			if (f->len)
				memcpy(p, f->p, f->len);
			f->p = p;
			p += f->len;
		}
	}
	return 0;
}

/* Queues a copy of one line for the writer. Returns 0, or -1 when the writer failed on an
 * earlier row (message in err) or memory ran out. */
static int enqueue(struct store *st, const struct store_msg *msg, const struct logrec *rec,
		   int64_t ts, unsigned lflags)
{
	pthread_mutex_lock(&st->mu);
	while (!st->failed && (st->head - st->tail == STORE_QUEUE ||
			       (st->qbytes > STORE_QUEUE_BYTES && st->head != st->tail))) {
		st->c_waiting = 1;
		pthread_cond_wait(&st->done, &st->mu);
		st->c_waiting = 0;
	}
	int failed = st->failed;
	pthread_mutex_unlock(&st->mu);
	if (failed) {
		memcpy(st->err, st->werr, sizeof(st->err));
		return -1;
	}
	/* the slot at head is the caller's until published */
	struct slot *sl = &st->q[st->head & (STORE_QUEUE - 1)];
	if (fill_slot(sl, msg, rec)) {
		set_err(st, "out of memory");
		return -1;
	}
	sl->ts = ts;
	sl->lflags = lflags;
	pthread_mutex_lock(&st->mu);
	st->head++;
	st->qbytes += msg->len;
	if (st->w_waiting)
		pthread_cond_signal(&st->work);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

int store_add(struct store *st, const struct store_msg *msg, const struct logrec *rec)
{
	if (st->readonly) {
		set_err(st, "the store is open read-only");
		return -1;
	}
	if (begin(st))
		return -1;
	if (!st->started && (prepare_rows(st) || start_writer(st)))
		return -1;
	int64_t ts = msg->recv_ms;
	if (rec->ts_ms != LR_NONE)
		ts = rec->ts_ms;
	else if (rec->syslog_ms != LR_NONE)
		ts = rec->syslog_ms;
	unsigned lflags = msg->flags & STORE_MSG_TRUNCATED;

	/* rollups first: interning a new name runs SQL, which drains the queue */
	if ((rec->kind == LR_HTTP || rec->kind == LR_TCP) && rollup_request(st, ts, rec))
		return -1;
	if (enqueue(st, msg, rec, ts, lflags))
		return -1;

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
		if (drain(st) || flush(st))
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
	if (drain(st) || begin(st) || flush(st) || exec(st, "COMMIT")) {
		char keep[sizeof(st->err)];
		memcpy(keep, st->err, sizeof(keep));
		store_rollback(st);
		memcpy(st->err, keep, sizeof(keep));
		return -1;
	}
	st->in_tx = 0;
	turn_give(st);
	clear_batch(st);
	return 0;
}

void store_rollback(struct store *st)
{
	if (st->started) {
		/* what is still queued belongs to the batch being dropped */
		pthread_mutex_lock(&st->mu);
		st->discard = 1;
		pthread_mutex_unlock(&st->mu);
		drain(st);
		pthread_mutex_lock(&st->mu);
		st->discard = 0;
		st->failed = 0;
		pthread_mutex_unlock(&st->mu);
	}
	for (int i = 0; i < S_N; i++)
		if (st->stmt[i])
			sqlite3_reset(st->stmt[i]);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
	turn_give(st);
	clear_batch(st);
	/* ids interned in the rolled-back batch no longer exist */
	hmap_release(&st->names, NULL);
}
