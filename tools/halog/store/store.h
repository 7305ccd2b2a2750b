/* The store's write side: every message raw, parsed traffic rows, health/server events, and the
 * rollups that keep reports fast, written by one writer (ingest or listen). Readers do not use
 * this header: they read through store/read.h, any number of them. The tables (store.c's
 * migrations) are the store layer's own; no module outside it names them (mk/layers.sh).
 * kind/status are the integers of enum lr_kind / lr_status (logrec.h). Times are unix ms (UTC).
 */
#ifndef STORE_H
#define STORE_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct store;

#define STORE_CREATE 0x1   /* create the file (mode 0600) and schema when missing */
#define STORE_READONLY 0x2 /* open for reading only (what the SQLite read backend does) */

/* Opens (and migrates) the DB at path with WAL, synchronous=NORMAL and a busy timeout.
 * Returns a store, or NULL with a message in errbuf (errsz bytes, NUL-terminated). */
struct store *store_open(const char *path, int flags, char *errbuf, size_t errsz);
/* Commits nothing: call store_commit first. Closes and frees. NULL is fine. */
void store_close(struct store *st);
/* The page cache of st's connection, in KiB (a writer that must stay small sets it). A hint:
 * a store may ignore it. */
void store_set_cache_kib(struct store *st, int kib);

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

#define STORE_SCHEMA_VERSION 2 /* the tables: store.c's migrations; the state area: state.h */
/* The store path when no --db is given: $HALOG_DB when set and not empty, else "halog.db". */
const char *store_default_path(void);
/* The schema version of an open store (after migration: STORE_SCHEMA_VERSION). */
int store_schema_version(struct store *st);

#endif
