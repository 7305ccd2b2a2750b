/* The store's write side: every message raw and parsed, the rollups that keep reports fast,
 * the receiver's counters and what ingest took from each file, in one SQLite file, written by
 * one writer (ingest or listen). Readers do not use this header: they read through
 * store/read.h, any number of them. The tables (store.c's migrations, docs/storage.md) are the
 * store layer's own; no module outside it names them (mk/layers.sh).
 *
 * Schema 3 (docs/storage.md): lines are kept in blocks of up to 4096 consecutive lines, each one
 * row with its raw lines and every parsed field compressed; line ids are consecutive from 1 in
 * the order lines were stored. A store of schema 1 or 2 (a lines and a requests row per line) is
 * upgraded in place when a writer opens it. kind/status are the integers of enum lr_kind /
 * lr_status (logrec.h). Times are unix ms (UTC).
 */
#ifndef STORE_H
#define STORE_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct store;

#define STORE_CREATE 0x1   /* create the file (mode 0600) and schema when missing */
#define STORE_READONLY 0x2 /* open for reading only (what the SQLite read backend does) */

/* Opens (and migrates: a schema-1 store's lines are moved into blocks, which takes about a
 * second per million lines) the DB at path with WAL, synchronous=NORMAL and a busy timeout.
 * Read-only opens refuse a store of another schema, or one whose upgrade is not finished, and
 * every open refuses a clickhouse:// URL (store/read.h reads one). Returns a store, or NULL
 * with a message in errbuf (errsz bytes, NUL-terminated). */
struct store *store_open(const char *path, int flags, char *errbuf, size_t errsz);
/* Commits nothing: call store_commit first. Closes and frees. NULL is fine. */
void store_close(struct store *st);
/* The page cache of st's connection, in KiB (a writer that must stay small sets it). A hint:
 * a store may ignore it. */
void store_set_cache_kib(struct store *st, int kib);
/* How many full blocks may wait for the writer thread (1 to 8; default 2, ~1.6 MB each): more
 * let store_add run on while the writer is busy or descheduled; above 2, the caller also
 * compresses queued blocks whenever it would wait for the writer (one more zstd context, a
 * few MB). Takes effect only before the first store_add; later calls are ignored. */
void store_set_queue(struct store *st, int blocks);

/* One received message. */
struct store_msg {
	const char *raw; /* exact bytes received (one trailing LF/NULs removed); may hold NULs */
	size_t len;
	int64_t recv_ms; /* wall clock when received or read, unix ms */
	const char
		*source; /* NUL-terminated: "udp:127.0.0.1:40001", "tcp:[::1]:5000", "file:x.log" */
	unsigned flags;	 /* STORE_MSG_*; 0 when unused */
};
#define STORE_MSG_TRUNCATED 0x1 /* the reader cut the line at its cap: raw holds the first bytes   \
				 */
/* raw holds no LF (the reader split its input at LFs): the store does not search it for one */
#define STORE_MSG_NO_LF 0x2

/* Adds msg and its parse result rec to the current batch, opening a transaction if needed; the
 * line gets the next id. Rollups are updated in the same transaction. Nothing of msg or rec is
 * borrowed after the call. Returns 0, or -1 on an error (the batch must then be rolled back
 * with store_rollback and retried by the caller). */
int store_add(struct store *st, const struct store_msg *msg, const struct logrec *rec);
/* Adds delta to a named counter in the current batch. Returns 0 or -1. */
int store_counter_add(struct store *st, const char *name, int64_t delta);
/* Commits the batch: every line added so far is then visible to readers (the last block,
 * not full yet, is written as it is and rewritten as it grows). Returns 0, or -1 (e.g.
 * SQLITE_FULL: see store_errmsg); on -1 the batch is rolled back and nothing of it is in the
 * file. */
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* store_commit without waiting: the batch is handed to the writer thread and the caller goes
 * on adding lines (bulk ingest). Its outcome shows at a later call: store_add, store_commit,
 * store_commit_async or store_sync return -1 when it failed, with everything after the last
 * commit that succeeded rolled back. Returns 0, or -1 when an earlier one failed. */
int store_commit_async(struct store *st);
/* Waits for every batch handed over. Returns 0, or -1 when one failed (rolled back as above). */
int store_sync(struct store *st);
/* Rows added since the batch began (0 when no batch is open). */
size_t store_pending(const struct store *st);
/* The last SQLite error message; valid until the next store call. */
const char *store_errmsg(const struct store *st);
/* Sets the message store_errmsg returns: for the store layer's own modules (state.c). */
void store_set_errmsg(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What halog ingest took from one input: an input is known by an identity its reader computes
 * (ident, len bytes: e.g. a hash of its first bytes), so a rotated or renamed file is the same
 * input and a new one is not. */
struct store_file {
	int64_t bytes; /* bytes of the input (after gunzip) stored */
	int64_t lines; /* lines stored from it */
	int64_t at_ms; /* when, unix ms */
};
/* What was stored from the input ident, with the name it had then (name, namesz bytes;
 * namesz 0: not wanted). Returns 1 when known, 0 when not, -1 on an error (store_errmsg). */
int store_file_get(struct store *st, const void *ident, size_t len, struct store_file *out,
		   char *name, size_t namesz);
/* Records, in the current batch (so it commits with the lines it counts), what was stored of
 * the input ident so far. Returns 0 or -1 (no memory). */
int store_file_set(struct store *st, const void *ident, size_t len, const char *name,
		   const struct store_file *f);

/* ---- retention ----
 * How much the store keeps; 0 means no limit. Limits are kept in the store (every later writer
 * applies them) and applied by store_commit itself, in steps, while lines go on arriving:
 * removed lines' space is reused by new ones, so the file stops growing at its limit. Ages
 * count back from the newest line, not from the clock, so a store left alone keeps its lines.
 */
struct store_retention {
	int64_t retain_ms;	   /* lines received this long before the newest one are removed */
	int64_t max_size;	   /* bytes of the database file (its WAL adds up to 128 MiB):
				      the oldest lines are removed while it holds more */
	int64_t retain_rollups_ms; /* per-minute aggregates this long before the newest line's
				      time are removed (reports over older windows then say so) */
};
#define STORE_RETAIN_AGE 0x1
#define STORE_RETAIN_SIZE 0x2
#define STORE_RETAIN_ROLLUPS 0x4
#define STORE_DEFAULT_MAX_SIZE (INT64_C(2) << 30)	       /* safe for a laptop */
#define STORE_DEFAULT_RETAIN_ROLLUPS (INT64_C(366) * 86400000) /* a year */

/* The limits the store applies: those set last, else the defaults (no age limit,
 * STORE_DEFAULT_MAX_SIZE, STORE_DEFAULT_RETAIN_ROLLUPS). *set (may be NULL) gets the
 * STORE_RETAIN_* bits of the limits that were set rather than defaulted. Returns 0 or -1. */
int store_retention_get(struct store *st, struct store_retention *r, unsigned *set);
/* Keeps the members of r flagged in mask as the store's limits, in a transaction of its own
 * (no batch may be open). Returns 0 or -1. */
int store_retention_set(struct store *st, const struct store_retention *r, unsigned mask);

/* Writes the limits as people read them ("lines 7d, store 2.0 GiB (default), aggregates 366d
 * (default)") into buf (sz bytes); set: the STORE_RETAIN_* bits of the limits set rather than
 * defaulted. */
void store_retention_describe(const struct store_retention *r, unsigned set, char *buf, size_t sz);

struct store_prune_stats {
	int64_t blocks, lines; /* removed */
	int64_t rollup_rows;   /* aggregate rows removed */
	int64_t used_bytes;    /* bytes of the file in use after the step */
};
/* One step of retention, in a transaction of its own (no batch may be open): removes up to
 * max_blocks of the oldest blocks beyond the limits (never the one lines are being added to),
 * the rows of their event lines, and the aggregates beyond their age; adds what it did to
 * *out (may be NULL). Returns 1 when more remains beyond the limits, 0 when within them, -1 on
 * an error (nothing removed). */
int store_prune_step(struct store *st, size_t max_blocks, struct store_prune_stats *out);

/* What was removed so far: lines before *first_id (ids are positions; 0: none removed), up to
 * the receive time *recv_ms and the line time *ts_ms of the newest removed one (LR_NONE: none).
 * Returns 0 or -1. */
int store_pruned(struct store *st, int64_t *first_id, int64_t *recv_ms, int64_t *ts_ms);

#define STORE_SCHEMA_VERSION 3 /* the tables: store.c's migrations and docs/storage.md; the
				  state area: state.h */
/* The store path when no --db is given: $HALOG_DB when set and not empty, else "halog.db". */
const char *store_default_path(void);
/* The schema version of an open store (after migration: STORE_SCHEMA_VERSION). */
int store_schema_version(struct store *st);

#endif
