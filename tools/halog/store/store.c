/* The SQLite store, schema 3 (docs/storage.md): the caller's side (store_add folds each line
 * into the rollups and the open block; store_commit hands the batch to the writer thread,
 * store_writer.c, which owns the connection) and opening, migrating and upgrading the file. See
 * store.h for the contract. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "strkey.h"
#include "store/blockdb.h"
#include "store/chhttp.h"
#include "store/rollup.h"
#include "store/sqlite.h"
#include "store/store_int.h"
#include "store/upgrade.h"

#define STORE_BUSY_MS 5000
/* Readers map the file (up to this many bytes) instead of reading its pages: a block's columns
 * sit after its raw lines in the row, and SQLite walks the raw lines' overflow pages to reach
 * them; mapped, that walk copies nothing (halog report --slowest: 0.3 s of kernel copies per
 * million lines without it). The file only grows (no VACUUM), so a mapping stays valid. */
#define STORE_READ_MMAP "1099511627776"

/* Schema steps: migrations[i] upgrades a database from version i to i + 1. Append only. A
 * step may leave data for a C step to move (store_upgrade_v1 after 2 -> 3). */
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
	/* 2 -> 3: lines in blocks (docs/storage.md); store_upgrade_v1 then moves the rows of
	 * lines and requests into blocks and drops both tables. events stays: an index of the
	 * event lines. ingested: what halog ingest took from each file. */
	"CREATE TABLE blocks(first_id INTEGER PRIMARY KEY, n INTEGER NOT NULL,"
	" recv_min INTEGER NOT NULL, recv_max INTEGER NOT NULL, ts_min INTEGER NOT NULL,"
	" ts_max INTEGER NOT NULL, raw_len INTEGER NOT NULL, cols_len INTEGER NOT NULL,"
	" format INTEGER NOT NULL, raw BLOB NOT NULL, cols BLOB NOT NULL);"
	"CREATE INDEX blocks_recv ON blocks(recv_max);"
	"CREATE INDEX blocks_ts ON blocks(ts_max);"
	"CREATE TABLE ingested(ident BLOB PRIMARY KEY, name TEXT, bytes INTEGER NOT NULL,"
	" lines INTEGER NOT NULL, at_ms INTEGER NOT NULL) WITHOUT ROWID;",
};
#define STORE_NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[S_N] = {
	[S_BLOCK] = BLOCKDB_INSERT_SQL,
	[S_EVENT] =
		"INSERT OR REPLACE INTO events(line_id, ts_ms, kind, proxy, server, state,"
		" reason, info, check_ms, backup, active_left, backup_left, client_ip,"
		" client_port, dst_ip, dst_port, mode) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
	[S_FILE_SET] = "INSERT OR REPLACE INTO ingested(ident, name, bytes, lines, at_ms)"
		       " VALUES(?,?,?,?,?)",
	[S_FILE_GET] = "SELECT bytes, lines, at_ms, name FROM ingested WHERE ident = ?",
	[S_END] = "SELECT first_id + n FROM blocks ORDER BY first_id DESC LIMIT 1",
};

static uint64_t hand_over(struct store *st, int commit);
static int read_version(struct store *st, int *version);

_Thread_local struct store *store_writer_of; /* set by the writer thread: whose it is */

char *store_errbuf(struct store *st)
{
	return store_writer_of == st ? st->wmsg : st->err;
}

void store_set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(store_errbuf(st), sizeof(st->err), fmt, ap);
	va_end(ap);
}

int store_db_fail(struct store *st, const char *what)
{
	store_set_err(st, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

int store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_set_err(st, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* halog_hist_merge(a, b): the histogram blob holding the counts of both (NULLs are empty). */
static void fn_hist_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct strbuf sb = STRBUF_INIT;
	const void *b[2] = {"", ""};
	int n[2] = {0, 0};
	for (int i = 0; i < argc && i < 2; i++) {
		const void *p = sqlite3_value_blob(argv[i]);
		if (p) {
			b[i] = p;
			n[i] = sqlite3_value_bytes(argv[i]);
		}
	}
	int rc = hist_merge(b[0], n[0] > 0 ? (size_t)n[0] : 0, b[1], n[1] > 0 ? (size_t)n[1] : 0,
			    &sb);
	if (rc == -1)
		sqlite3_result_error(ctx, "halog_hist_merge: malformed histogram", -1);
	else if (rc)
		sqlite3_result_error_nomem(ctx);
	else
		sqlite3_result_blob(ctx, sb.len ? sb.buf : "", (int)sb.len, SQLITE_TRANSIENT);
	strbuf_release(&sb);
}

static int read_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db,
				    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				    " AND name = 'meta'",
				    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_db_fail(st, "cannot read the schema");
	int has_meta = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	*version = 0;
	if (!has_meta) {
		/* no meta: an empty file is version 0; anything else is not ours */
		rc = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL);
		if (rc != SQLITE_OK)
			return store_db_fail(st, "cannot read the schema");
		int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
		sqlite3_finalize(s);
		if (n != 0) {
			store_set_err(st, "not a halog database (no meta table)");
			return -1;
		}
		return 0;
	}
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
				&s, NULL);
	if (rc != SQLITE_OK)
		return store_db_fail(st, "cannot read the schema version");
	if (sqlite3_step(s) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static void turn_open(struct store *st, const char *path);

static int migrate(struct store *st)
{
	int version;
	if (store_turn_take(st))
		return -1;
	if (store_exec(st, "BEGIN IMMEDIATE")) {
		store_turn_give(st);
		return -1;
	}
	if (read_version(st, &version))
		goto fail;
	if (version > STORE_NMIGRATIONS) {
		store_set_err(st, "schema version %d is newer than this halog (%d)", version,
			      STORE_NMIGRATIONS);
		goto fail;
	}
	for (int v = version; v < STORE_NMIGRATIONS; v++) {
		char sql[128];
		if (store_exec(st, migrations[v]))
			goto fail;
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', %d)",
			 v + 1);
		if (store_exec(st, sql))
			goto fail;
	}
	if (store_exec(st, "COMMIT"))
		goto fail;
	store_turn_give(st);
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	store_turn_give(st);
	return -1;
}

#define STORE_TURN_MS 120000 /* the longest a writer waits for its turn (see store_turn_take) */

/* Writers take turns. SQLite's busy handler sleeps and retries without queueing, so a writer
 * that commits often (halog listen) could take the write lock again right after releasing it,
 * and a second writer (halog ingest) kept failing with "database is locked". Two
 * open-file-description locks on "<path>-lock" make writers take turns: a writer takes the
 * turnstile (byte 0), then the write turn (byte 1), then lets the turnstile go. A writer that
 * waits for the write turn holds the turnstile, so the one that just finished cannot come back
 * before it: each waiting writer gets the next turn. Readers never take either lock. Without the
 * lock file (read-only folder), writers fall back to SQLite's busy timeout. */
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
			store_set_err(st, "database is locked: another writer has held it for %d s",
				      STORE_TURN_MS / 1000);
			return -1;
		}
		clock_sleep_ms(pause);
		if (pause < 10)
			pause++;
	}
	return 0;
}

int store_turn_take(struct store *st)
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

void store_turn_give(struct store *st)
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

static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

/* No global allocation statistics: they take a process-wide mutex on every malloc. Fails
 * harmlessly (SQLITE_MISUSE) when SQLite was initialised before. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The next line id: after the last block's lines. */
static int init_ids(struct store *st)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT first_id + n FROM blocks ORDER BY first_id DESC"
			       " LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(st, "cannot read the blocks");
	int rc = sqlite3_step(s);
	st->next_id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 1;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(st, "cannot read the blocks");
	st->committed_next = st->open_first = st->protect_id = st->next_id;
	st->w_shift = st->w_shift_c = st->w_open_k = 0;
	st->w_end = st->w_open_local = st->next_id;
	return 0;
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
			 "file, which this folder does not let us create (%s); copy the store with "
			 "its "
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
	if (ch_is_url(path)) { /* else "cannot create" it as a file, its password in the message */
		char shown[CH_SHOWN_MAX];

		snprintf(errbuf, errsz,
			 "'%s': a ClickHouse database, not a SQLite file (halog writes to one with "
			 "--sink)",
			 ch_url_redact(path, shown, sizeof(shown)));
		goto fail;
	}
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
	if (open_conn(st, path, st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, errbuf,
		      errsz))
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
		if (store_exec(st, "PRAGMA page_size=65536") ||
		    store_exec(st, "PRAGMA journal_mode=WAL") ||
		    store_exec(st, "PRAGMA synchronous=NORMAL") ||
		    store_exec(st, "PRAGMA cache_size=-8192") ||
		    store_exec(st, "PRAGMA temp_store=MEMORY") ||
		    /* Debian's SQLite zeroes every freed page by default: each commit that
		     * replaces the open block's row, and each prune, wrote the old pages again
		     * (into the WAL, then the file) only to clear them */
		    store_exec(st, "PRAGMA secure_delete=OFF") ||
		    store_exec(st, "PRAGMA wal_autocheckpoint=1024") || migrate(st) ||
		    store_upgrade_v1(st->db, st->err, sizeof(st->err)) || init_ids(st)) {
			snprintf(errbuf, errsz, "'%s': %s", path, st->err);
			goto fail;
		}
		if (!(st->open = block_enc_new()) || !(st->wzip = block_zip_new()) ||
		    !(st->b = calloc(1, sizeof(*st->b)))) {
			snprintf(errbuf, errsz, "out of memory");
			goto fail;
		}
	} else {
		int version;
		if (store_exec(st, "PRAGMA cache_size=-65536") ||
		    store_exec(st, "PRAGMA mmap_size=" STORE_READ_MMAP) ||
		    read_version(st, &version)) {
			/* a WAL store on read-only media, or in a folder this reader cannot write,
			 * cannot get its -shm file: read the file alone, unchanging */
			int ec = sqlite3_extended_errcode(st->db);

			if (((ec & 0xff) != SQLITE_READONLY && (ec & 0xff) != SQLITE_CANTOPEN) ||
			    reopen_immutable(st, path, errbuf, errsz) ||
			    store_exec(st, "PRAGMA cache_size=-65536") ||
			    read_version(st, &version)) {
				if (!errbuf[0])
					snprintf(errbuf, errsz, "'%s': %s", path, st->err);
				goto fail;
			}
		}
		if (version != STORE_NMIGRATIONS) {
			snprintf(errbuf, errsz, "'%s': schema version %d, this halog reads %d%s",
				 path, version, STORE_NMIGRATIONS,
				 version < STORE_NMIGRATIONS ? " (run 'halog upgrade' once)" : "");
			goto fail;
		}
		int pend = store_upgrade_pending(st->db);
		if (pend) {
			snprintf(errbuf, errsz, "'%s': %s", path,
				 pend < 0 ? sqlite3_errmsg(st->db)
					  : "an upgrade to schema 3 is not finished (open it for "
					    "writing once to finish it)");
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

sqlite3_stmt *store_stmt(struct store *st, int which)
{
	if (!st->stmt[which] &&
	    sqlite3_prepare_v3(st->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &st->stmt[which], NULL) != SQLITE_OK) {
		store_db_fail(st, "prepare");
		return NULL;
	}
	return st->stmt[which];
}

/* Steps an insert and resets it. Every caller binds every parameter each time (NULLs
 * included), which is cheaper than clearing the bindings. Returns 0 or -1. */
int store_run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, what);
	return 0;
}

int64_t store_bucket_of(int64_t ts)
{
	int64_t b = ts / ROLLUP_BUCKET_MS;
	if (ts < 0 && ts % ROLLUP_BUCKET_MS)
		b--;
	return b * ROLLUP_BUCKET_MS;
}

static void free_ptr(void *p)
{
	free(p);
}

void batch_clear(struct batch *b)
{
	hmap_release(&b->aggs, rollup_agg_free);
	b->hslab.used = 0;
	while (b->hslab.nblk > HSLAB_KEEP)
		free(b->hslab.blk[--b->hslab.nblk]);
	hmap_release(&b->errpaths, free_ptr);
	hmap_release(&b->lineaggs, free_ptr);
	hmap_release(&b->counters, free_ptr);
	b->nev = 0;
	for (size_t i = 0; i < b->nfiles; i++) {
		free(b->files[i].ident);
		free(b->files[i].name);
	}
	b->nfiles = 0;
	for (size_t i = 0; i < b->nnames; i++)
		free(b->names[i].s);
	b->nnames = 0;
	b->commit = 0;
	b->open_n = 0;
	b->lv_last = NULL;
	memset(b->agg_memo, 0, sizeof(b->agg_memo));
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	batch_clear(b);
	for (size_t i = 0; i < b->hslab.nblk; i++)
		free(b->hslab.blk[i]);
	free(b->hslab.blk);
	for (size_t i = 0; i < b->aev; i++)
		free(b->ev[i].buf);
	free(b->ev);
	free(b->files);
	free(b->names);
	free(b->raw.p);
	free(b->cols.p);
	free(b);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->in_batch)
		store_rollback(st);
	writer_stop(st);
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(st->stmt[i]);
	batch_free(st->b);
	block_zip_free(st->wzip);
	block_zip_free(st->czip);
	hmap_release(&st->lnames, NULL);
	strbuf_release(&st->scratch);
	strbuf_release(&st->wscratch);
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
	writer_drain(st);
	return st->db;
}

void store_set_cache_kib(struct store *st, int kib)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib > 0 ? kib : 1);
	sqlite3_exec(store_sqlite_db(st), sql, NULL, NULL, NULL); /* the writer idle first */
}

void store_set_queue(struct store *st, int blocks)
{
	if (blocks > STORE_QBLOCKS_MAX)
		blocks = STORE_QBLOCKS_MAX;
	if (!st->started && blocks >= 1) {
		st->qblocks_max = (size_t)blocks;
		/* a deep queue is a bulk writer's (halog ingest): while the caller waits for the
		 * writer it compresses queued blocks too, for the memory of one more zstd context
		 * (the listener keeps the default queue and stays small) */
		st->help = blocks > STORE_QBLOCKS;
	}
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
	return st->in_batch ? st->pending : 0;
}

int store_schema_version(struct store *st)
{
	int v;
	return read_version(st, &v) ? -1 : v;
}

/* ---- the caller's side ---- */

/* The caller's id for a name (0 for none), given the first time it is met; a name met for the
 * first time is also listed in the batch, for the writer to store. -1: out of memory. */
static int32_t intern_local(struct store *st, struct lr_str name)
{
	int isnew;
	if (!name.p || !name.len)
		return 0;
	struct hmap_ent *e = hmap_put(&st->lnames, name.p, name.len, &isnew);
	if (!e)
		goto nomem;
	if (isnew) {
		struct batch *b = st->b;
		if (b->nnames == b->anames) {
			size_t na = b->anames ? b->anames * 2 : 16;
			struct new_name *nn = realloc(b->names, na * sizeof(*nn));
			if (!nn)
				goto nomem;
			b->names = nn;
			b->anames = na;
		}
		struct new_name *nn = &b->names[b->nnames];
		if (!(nn->s = malloc(name.len)))
			goto nomem;
		memcpy(nn->s, name.p, name.len);
		nn->len = name.len;
		nn->local = ++st->nlocal;
		b->nnames++;
		e->val = (void *)(intptr_t)nn->local;
	}
	return (int32_t)(intptr_t)e->val;
nomem:
	store_set_err(st, "out of memory");
	return -1;
}

/* intern_local behind the names of frontend, backend and server met lately (which = 0, 1, 2),
 * each in the slot its key picks: most lines repeat names a line before them had, found here
 * with one compare instead of hashing the name into lnames. */
static int32_t intern_cached(struct store *st, int which, struct lr_str name)
{
	if (!name.p || !name.len)
		return 0;
	uint64_t key = strkey8(name.p, name.len);
	uint64_t h = (key ^ name.len) * 0x9e3779b97f4a7c15u;
	struct name_memo *m = &st->memo[which][h >> 58 & (STORE_MEMO - 1)];
	if (m->key == key && m->len == name.len &&
	    (name.len <= 8 || !memcmp(m->s + 8, name.p + 8, name.len - 8)))
		return m->id;
	int32_t id = intern_local(st, name);
	if (id > 0 && name.len <= sizeof(m->s)) {
		m->key = key;
		memcpy(m->s, name.p, name.len);
		m->len = (uint32_t)name.len;
		m->id = id;
	}
	return id;
}

/* The agg_memo slot of a rollup key: its names and minute mixed, so the keys a batch meets
 * mostly get slots of their own (the memo only saves hashing the whole key into aggs). */
static inline unsigned agg_memo_slot(const struct rollup_key *k)
{
	uint32_t h = (uint32_t)k->srv * 0x9e3779b1u ^ (uint32_t)k->be * 0x85ebca77u ^
		     (uint32_t)k->fe * 0xc2b2ae3du ^ (uint32_t)k->kind ^
		     (uint32_t)(k->bucket / 60000);
	h *= 0x27d4eb2fu;
	return h >> 26 & (STORE_AGG_MEMO - 1);
}

/* A zeroed chunk of HIST_CHUNK counts from the batch's slab, or NULL (no memory). */
static uint64_t *hslab_chunk(struct hslab *s)
{
	size_t blk = s->used / HSLAB_BLOCK;
	if (blk == s->nblk) {
		if (s->nblk == s->ablk) {
			size_t na = s->ablk ? s->ablk * 2 : 16;
			uint64_t **nb = realloc(s->blk, na * sizeof(*nb));
			if (!nb)
				return NULL;
			s->blk = nb;
			s->ablk = na;
		}
		if (!(s->blk[s->nblk] = malloc(HSLAB_BLOCK * HIST_CHUNK * sizeof(uint64_t))))
			return NULL;
		s->nblk++;
	}
	uint64_t *c = s->blk[blk] + s->used % HSLAB_BLOCK * HIST_CHUNK;
	memset(c, 0, HIST_CHUNK * sizeof(uint64_t));
	s->used++;
	return c;
}

/* Folds a traffic record into the batch's rollups. Returns 0 or -1. */
static int rollup_request(struct store *st, int64_t ts, const struct logrec *r)
{
	struct batch *b = st->b;
	struct rollup_key k;
	memset(&k, 0, sizeof(k));
	k.bucket = store_bucket_of(ts);
	if ((k.fe = intern_cached(st, 0, r->frontend)) < 0 ||
	    (k.be = intern_cached(st, 1, r->backend)) < 0 ||
	    (k.srv = intern_cached(st, 2, r->server)) < 0)
		return -1;
	k.kind = (int32_t)r->kind;
	int isnew;
	struct hmap_ent *e;
	struct agg_memo *am = &b->agg_memo[agg_memo_slot(&k)];
	if (!am->a || memcmp(&am->k, &k, sizeof(k))) {
		if (!(e = hmap_put(&b->aggs, &k, sizeof(k), &isnew)))
			goto nomem;
		if (isnew) {
			struct batch_agg *ba = calloc(1, sizeof(*ba));
			if (!ba)
				goto nomem;
			ba->a.key = k;
			e->val = ba;
		}
		am->k = k;
		am->a = e->val;
	}
	struct batch_agg *ba = am->a;
	unsigned bucket[RT_N];
	if (rollup_agg_add_nohist(&ba->a, r, bucket))
		goto nomem;
#pragma GCC unroll 8
	for (int t = 0; t < RT_N; t++) {
		if (bucket[t] == HIST_N)
			continue;
		uint64_t **c = &ba->h[t][bucket[t] / HIST_CHUNK];
		if (!*c && !(*c = hslab_chunk(&b->hslab)))
			goto nomem;
		(*c)[bucket[t] % HIST_CHUNK]++;
	}
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
		e = hmap_put(&b->errpaths, st->scratch.buf, st->scratch.len, &isnew);
		if (!e)
			goto nomem;
		if (isnew && !(e->val = calloc(1, sizeof(int64_t))))
			goto nomem;
		(*(int64_t *)e->val)++;
	}
	return 0;
nomem:
	store_set_err(st, "out of memory");
	return -1;
}

/* Per minute, kind and parse status: the lines of the batch. Returns 0 or -1. */
static int count_line(struct store *st, int64_t ts, const struct logrec *rec, unsigned lflags)
{
	struct batch *b = st->b;
	struct lines_key lk;
	memset(&lk, 0, sizeof(lk));
	lk.bucket = store_bucket_of(ts);
	lk.kind = (int32_t)rec->kind;
	lk.status = (int32_t)rec->status;
	struct lines_val *lv = b->lv_last;
	if (!lv || memcmp(&lk, &b->lk_last, sizeof(lk))) {
		int isnew;
		struct hmap_ent *e = hmap_put(&b->lineaggs, &lk, sizeof(lk), &isnew);
		if (!e || (isnew && !(e->val = calloc(1, sizeof(struct lines_val))))) {
			store_set_err(st, "out of memory");
			return -1;
		}
		lv = b->lv_last = e->val;
		b->lk_last = lk;
	}
	if (!lv->n++ || ts < lv->min_ts)
		lv->min_ts = ts;
	if (lv->n == 1 || ts > lv->max_ts)
		lv->max_ts = ts;
	if (lflags & STORE_MSG_TRUNCATED)
		lv->truncated++;
	return 0;
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

/* Queues a copy of an event line for its events row. Returns 0 or -1. */
static int queue_event(struct store *st, int64_t id, const struct store_msg *msg,
		       const struct logrec *rec, int64_t ts)
{
	struct batch *b = st->b;
	if (b->nev == STORE_EVENTS_MAX && !hand_over(st, 0))
		return -1;
	b = st->b;
	if (b->nev == b->aev) {
		size_t na = b->aev ? b->aev * 2 : 16;
		struct slot *ns = realloc(b->ev, na * sizeof(*ns));
		if (!ns)
			goto nomem;
		memset(ns + b->aev, 0, (na - b->aev) * sizeof(*ns));
		b->ev = ns;
		b->aev = na;
	}
	struct slot *sl = &b->ev[b->nev];
	if (fill_slot(sl, msg, rec))
		goto nomem;
	sl->id = id;
	sl->ts = ts;
	b->nev++;
	return 0;
nomem:
	store_set_err(st, "out of memory");
	return -1;
}

static int is_event_kind(enum lr_kind k)
{
	return k == LR_CONNECT || k == LR_CONN_ERROR || k == LR_SERVER || k == LR_CHECK ||
	       k == LR_NOSRV || k == LR_PROXY;
}

/* Copies the open block, serialised, into b (the writer writes it while more lines go on
 * being added). Returns 0 or -1. */
static int snapshot_open(struct store *st, struct batch *b)
{
	const void *raw, *cols;
	b->open_first = st->open_first;
	b->open_n = (int64_t)block_enc_count(st->open);
	if (!b->open_n)
		return 0;
	if (block_enc_finish(st->open, &b->m, &raw, &cols))
		goto nomem;
	struct bbuf_plain *dst[2] = {&b->raw, &b->cols};
	const void *src[2] = {raw, cols};
	size_t len[2] = {(size_t)b->m.raw_len, (size_t)b->m.cols_len};
	for (int i = 0; i < 2; i++) {
		if (len[i] > dst[i]->cap) {
			unsigned char *p = realloc(dst[i]->p, len[i]);
			if (!p)
				goto nomem;
			dst[i]->p = p;
			dst[i]->cap = len[i];
		}
		memcpy(dst[i]->p, src[i], len[i]);
		dst[i]->len = len[i];
	}
	return 0;
nomem:
	store_set_err(st, "out of memory");
	return -1;
}

/* Hands the batch to the writer and starts a new one: written in the open transaction, then
 * committed when commit is set (with the open block as it is). Returns the job's sequence
 * number (for writer_wait), or 0 on failure (message in err). */
static uint64_t hand_over(struct store *st, int commit)
{
	struct batch *b = st->b;
	struct job j;
	memset(&j, 0, sizeof(j));
	if (!st->started && writer_start(st))
		return 0;
	if (commit) {
		if (snapshot_open(st, b))
			return 0;
		b->commit = 1;
		b->next_id = st->next_id;
	}
	j.kind = JOB_BATCH;
	j.b = b;
	j.seq = ++st->seq;
	if (writer_push(st, &j))
		return 0;
	if (!(st->b = writer_batch(st)))
		return 0;
	return j.seq;
}

int store_add(struct store *st, const struct store_msg *msg, const struct logrec *rec)
{
	if (st->readonly) {
		store_set_err(st, "the store is open read-only");
		return -1;
	}
	if (!st->started && writer_start(st))
		return -1;
	if (!st->in_batch) {
		st->in_batch = 1;
		st->pending = 0;
	}
	int64_t ts = msg->recv_ms;
	if (rec->ts_ms != LR_NONE)
		ts = rec->ts_ms;
	else if (rec->syslog_ms != LR_NONE)
		ts = rec->syslog_ms;
	unsigned lflags = msg->flags & STORE_MSG_TRUNCATED;

	if ((rec->kind == LR_HTTP || rec->kind == LR_TCP) && rollup_request(st, ts, rec))
		return -1;
	if (!block_enc_fits(st->open, msg->len)) {
		/* the full block goes to the writer; an empty one takes its place */
		struct job j;
		memset(&j, 0, sizeof(j));
		j.kind = JOB_BLOCK;
		j.enc = st->open;
		j.first = st->open_first;
		if (writer_push(st, &j))
			return -1;
		pthread_mutex_lock(&st->mu);
		st->open = st->spare[--st->nspare]; /* writer_push waited for room: one is free */
		pthread_mutex_unlock(&st->mu);
		st->open_first = st->next_id;
	}
	struct block_line ln = {msg->raw,
				msg->len,
				msg->recv_ms,
				ts,
				msg->source,
				(lflags ? BLOCK_LINE_TRUNCATED : 0) |
					(msg->flags & STORE_MSG_NO_LF ? BLOCK_LINE_NO_LF : 0)};
	if (block_enc_add(st->open, &ln, rec)) {
		store_set_err(st, "out of memory");
		return -1;
	}
	if (is_event_kind(rec->kind) && queue_event(st, st->next_id, msg, rec, ts))
		return -1;
	if (count_line(st, ts, rec, lflags))
		return -1;
	st->next_id++;
	st->pending++;
	struct batch *b = st->b;
	if ((b->aggs.n >= STORE_FLUSH_AGGS || b->errpaths.n >= STORE_FLUSH_PATHS ||
	     b->lineaggs.n >= STORE_FLUSH_PATHS) &&
	    !hand_over(st, 0))
		return -1;
	return 0;
}

int store_file_get(struct store *st, const void *ident, size_t len, struct store_file *out,
		   char *name, size_t namesz)
{
	const struct batch *b = st->b;
	for (size_t i = b ? b->nfiles : 0; i-- > 0;) { /* this batch's, newest first */
		const struct file_mark *fm = &b->files[i];
		if (fm->identlen == len && !memcmp(fm->ident, ident, len)) {
			*out = fm->f;
			if (namesz)
				snprintf(name, namesz, "%s", fm->name);
			return 1;
		}
	}
	if (writer_drain(st))
		return -1;
	sqlite3_stmt *s = store_stmt(st, S_FILE_GET);
	if (!s)
		return -1;
	sqlite3_bind_blob(s, 1, ident, (int)len, SQLITE_STATIC);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW) {
		out->bytes = sqlite3_column_int64(s, 0);
		out->lines = sqlite3_column_int64(s, 1);
		out->at_ms = sqlite3_column_int64(s, 2);
		if (namesz) {
			const unsigned char *n = sqlite3_column_text(s, 3);
			snprintf(name, namesz, "%s", n ? (const char *)n : "");
		}
		found = 1;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(st, "cannot read what was ingested");
	return found;
}

int store_file_set(struct store *st, const void *ident, size_t len, const char *name,
		   const struct store_file *f)
{
	struct batch *b = st->b;
	if (b->nfiles == b->afiles) {
		size_t na = b->afiles ? b->afiles * 2 : 4;
		struct file_mark *nf = realloc(b->files, na * sizeof(*nf));
		if (!nf)
			goto nomem;
		b->files = nf;
		b->afiles = na;
	}
	struct file_mark *fm = &b->files[b->nfiles];
	fm->ident = malloc(len ? len : 1);
	fm->name = strdup(name ? name : "");
	if (!fm->ident || !fm->name) {
		free(fm->ident);
		free(fm->name);
		goto nomem;
	}
	memcpy(fm->ident, ident, len);
	fm->identlen = len;
	fm->f = *f;
	b->nfiles++;
	st->in_batch = 1;
	return 0;
nomem:
	store_set_err(st, "out of memory");
	return -1;
}

int store_counter_add(struct store *st, const char *name, int64_t delta)
{
	int isnew;
	struct hmap_ent *e = hmap_put(&st->b->counters, name, strlen(name), &isnew);
	if (!e || (isnew && !(e->val = calloc(1, sizeof(int64_t))))) {
		store_set_err(st, "out of memory");
		return -1;
	}
	*(int64_t *)e->val += delta;
	st->in_batch = 1;
	return 0;
}

static int commit(struct store *st, int wait)
{
	if (st->readonly || !st->in_batch)
		return 0;
	uint64_t seq = hand_over(st, 1);
	if (!seq || (wait && writer_wait(st, seq))) {
		char keep[sizeof(st->err)];
		memcpy(keep, st->err, sizeof(keep));
		store_rollback(st);
		memcpy(st->err, keep, sizeof(keep));
		return -1;
	}
	st->in_batch = 0;
	st->pending = 0;
	return 0;
}

int store_commit(struct store *st)
{
	return commit(st, 1);
}

int store_commit_async(struct store *st)
{
	return commit(st, 0);
}

int store_sync(struct store *st)
{
	if (st->started && writer_wait(st, st->seq)) {
		char keep[sizeof(st->err)];
		memcpy(keep, st->err, sizeof(keep));
		store_rollback(st);
		memcpy(st->err, keep, sizeof(keep));
		return -1;
	}
	return 0;
}

void store_rollback(struct store *st)
{
	writer_reset(st);
	if (st->b)
		batch_clear(st->b);
	st->in_batch = 0;
	st->pending = 0;
	/* the lines of the batches not committed are gone; the open block's committed row stays
	 * as it is and the next line starts a block of its own */
	st->next_id = st->committed_next;
	if (st->open)
		block_enc_reset(st->open);
	st->open_first = st->next_id;
	/* the writer forgot every name: give them new local ids */
	hmap_release(&st->lnames, NULL);
	st->nlocal = 0;
	memset(st->memo, 0, sizeof(st->memo));
}

/* "7d", "36h", "90m", "45s", "250ms": the largest unit that divides ms. */
static void fmt_duration(char *buf, size_t sz, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} u[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (ms % u[i].ms == 0) {
			snprintf(buf, sz, "%lld%s", (long long)(ms / u[i].ms), u[i].unit);
			return;
		}
	}
	snprintf(buf, sz, "%lldms", (long long)ms);
}

void store_retention_describe(const struct store_retention *r, unsigned set, char *buf, size_t sz)
{
	char age[32], size[32], roll[32];
	if (r->retain_ms > 0)
		fmt_duration(age, sizeof(age), r->retain_ms);
	else
		snprintf(age, sizeof(age), "no age limit");
	if (r->max_size >= (INT64_C(1) << 30))
		snprintf(size, sizeof(size), "%.1f GiB", (double)r->max_size / (1 << 30));
	else if (r->max_size > 0)
		snprintf(size, sizeof(size), "%.0f MiB", (double)r->max_size / (1 << 20));
	else
		snprintf(size, sizeof(size), "no size limit");
	if (r->retain_rollups_ms > 0)
		fmt_duration(roll, sizeof(roll), r->retain_rollups_ms);
	else
		snprintf(roll, sizeof(roll), "forever");
	snprintf(buf, sz, "lines %s%s, store %s%s, aggregates %s%s", age,
		 set & STORE_RETAIN_AGE ? "" : " (default)", size,
		 set & STORE_RETAIN_SIZE ? "" : " (default)", roll,
		 set & STORE_RETAIN_ROLLUPS ? "" : " (default)");
}
