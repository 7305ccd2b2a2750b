/* The SQLite store: every message raw, parsed traffic rows, health/server events, and the
 * rollups that keep reports fast. One writer (ingest or listen), any number of readers.
 *
 * Contract on the schema (other modules query these names; the store may add columns/tables):
 *   meta(key TEXT PRIMARY KEY, value)                 -- 'schema_version', …
 *   lines(id INTEGER PRIMARY KEY, recv_ms, ts_ms, source, kind, status, reason,
 *         pri, host, program, pid, raw BLOB)          -- one row per message, raw bytes kept
 *   requests(line_id INTEGER PRIMARY KEY, ts_ms, mode, frontend, backend, server, status,
 *         term, client_ip, client_port, method, path, query, version, …timers, bytes…)
 *   events(line_id INTEGER PRIMARY KEY, ts_ms, kind, proxy, server, state, reason, info)
 *   counters(name TEXT PRIMARY KEY, value INTEGER)    -- listen: received/stored/dropped/refused
 * kind/status are the integers of enum lr_kind / lr_status (logrec.h). Times are unix ms (UTC).
 */
#ifndef STORE_H
#define STORE_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct sqlite3;
struct store;

#define STORE_CREATE 0x1   /* create the file (mode 0600) and schema when missing */
#define STORE_READONLY 0x2 /* open for reading only (report, tail, search) */

/* Opens (and migrates) the DB at path with WAL, synchronous=NORMAL and a busy timeout.
 * Returns a store, or NULL with a message in errbuf (errsz bytes, NUL-terminated). */
struct store *store_open(const char *path, int flags, char *errbuf, size_t errsz);
/* Commits nothing: call store_commit first. Closes and frees. NULL is fine. */
void store_close(struct store *st);
/* The underlying connection, for readers that run their own queries. */
struct sqlite3 *store_db(struct store *st);

/* One received message. */
struct store_msg {
	const char *raw;    /* exact bytes received (one trailing LF/NULs removed); may hold NULs */
	size_t len;
	int64_t recv_ms;    /* wall clock when received or read, unix ms */
	const char *source; /* NUL-terminated: "udp:127.0.0.1:40001", "tcp:[::1]:5000", "file:x.log" */
	unsigned flags;     /* STORE_MSG_*; 0 when unused */
};
#define STORE_MSG_TRUNCATED 0x1 /* the reader cut the line at its cap: raw holds the first bytes */

/* Adds msg and its parse result rec to the current batch, opening a transaction if needed.
 * Rollups are updated in the same transaction. Returns 0, or -1 on a SQLite error (the batch
 * must then be rolled back with store_rollback and retried by the caller). */
int store_add(struct store *st, const struct store_msg *msg, const struct logrec *rec);
/* Adds delta to a named counter in the current batch. Returns 0 or -1. */
int store_counter_add(struct store *st, const char *name, int64_t delta);
/* Commits the batch. Returns 0, or -1 (e.g. SQLITE_FULL: see store_errmsg); on -1 the batch
 * is rolled back and nothing of it is in the file. */
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* Rows added since the batch began (0 when no batch is open). */
size_t store_pending(const struct store *st);
/* The last SQLite error message; valid until the next store call. */
const char *store_errmsg(const struct store *st);
/* Sets the message store_errmsg returns: for the store layer's own modules (state.c). */
void store_set_errmsg(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Added by the store module (additive):
 *   names(id INTEGER PRIMARY KEY, name TEXT UNIQUE)   -- interned frontend/backend/server names
 *   rollup, rollup_code, rollup_term, rollup_timer, rollup_errpath, rollup_lines
 *                                                     -- per-minute aggregates (store.c) */
/* Added by the alerts work (additive): saved_searches, alerts, alert_deliveries, alert_log
 *                                                     -- the state area, see store/state.h */
#define STORE_SCHEMA_VERSION 2
/* The store path when no --db is given: $HALOG_DB when set and not empty, else "halog.db". */
const char *store_default_path(void);
/* The schema version of an open store (after migration: STORE_SCHEMA_VERSION). */
int store_schema_version(struct store *st);

#endif
