/* Reading the lines of a schema-3 store out of its blocks (docs/storage.md): cursors, counts,
 * histograms and request series over a selection of store/read.h, for the SQLite read backend
 * (sqlite_read.c). Private to the store layer. Every function reports its failure in err (errsz
 * bytes) and returns -1 (or NULL). */
#ifndef STORE_BLOCK_READ_H
#define STORE_BLOCK_READ_H
#include <stddef.h>
#include <stdint.h>

#include "store/read.h"

struct sqlite3;
struct bread_cursor;

/* What stops a long read (the reader's deadline, a query's budget): fn(arg) returns non-zero
 * once the read must stop (copied: it need not outlive the call). It is asked before every block
 * and every BREAD_STOP_EVERY lines (every line when the query holds a regex), by one thread at a
 * time though a read may use several. A stopped read fails with "the read was stopped". NULL: no
 * stop. */
struct bread_stop {
	int (*fn)(void *arg);
	void *arg;
};
#define BREAD_STOP_EVERY 64

/* The position after the newest stored line (1 for an empty store). */
int bread_end(struct sqlite3 *db, int64_t *end, char *err, size_t errsz);

/* A cursor over the lines of sel (every member honoured; sel and its query must outlive it).
 * db is the reader's connection. */
struct bread_cursor *bread_cursor_open(struct sqlite3 *db, const struct store_sel *sel,
				       const struct bread_stop *stop, char *err, size_t errsz);
/* 1 with *line set (valid until the next call), 0 at the end, -1 on an error. */
int bread_cursor_next(struct bread_cursor *c, const struct store_line **line, char *err,
		      size_t errsz);
int bread_cursor_truncated(const struct bread_cursor *c);
void bread_cursor_close(struct bread_cursor *c);

/* The lines of sel (order, limit and want are not used). Large scans use two threads. */
int bread_count(struct sqlite3 *db, const struct store_sel *sel, const struct bread_stop *stop,
		int64_t *n, char *err, size_t errsz);
/* store_histogram's bins over the lines of sel. */
int bread_histogram(struct sqlite3 *db, const struct store_sel *sel, const struct bread_stop *stop,
		    int64_t t0, int64_t w, size_t nbins, int64_t *counts, char *err, size_t errsz);
/* store_series from the request records (traffic lines of sel on the logged clock). */
int bread_series(struct sqlite3 *db, const struct store_sel *sel, const struct bread_stop *stop,
		 int64_t t0, int64_t w, size_t nbins, struct store_bin *bins, char *err,
		 size_t errsz);

#endif
