/* halog export's writing side: the lines a reader gives, as plain SQLite tables of a new file
 * (one row per line, one per request) for SQL of people's own. The store keeps lines in blocks;
 * this is the one place that writes the old one-row-per-line layout. */
#ifndef STORE_EXPORT_H
#define STORE_EXPORT_H
#include <stddef.h>

#include "store/read.h"

struct store_export;

/* The tables store_export writes, for a command's help. */
#define STORE_EXPORT_TABLES                                                                        \
	"lines (one row per line: id, recv_ms, ts_ms, source, kind, status, reason, pri, host,\n"  \
	"program, pid, framing, flags, raw) and requests (one row per traffic line, every "        \
	"parsed\n"                                                                                 \
	"field, line_id = lines.id)"

/* Creates path (it must not exist) with the two tables, in one open transaction. Returns the
 * export, or NULL with a message in err (errsz bytes). */
struct store_export *store_export_create(const char *path, char *err, size_t errsz);
/* Adds ln (read with STORE_WANT_LINE | STORE_WANT_FIELDS): a lines row, and a requests row for
 * traffic. Returns 0, or -1 with a message in err. */
int store_export_line(struct store_export *x, const struct store_line *ln, char *err, size_t errsz);
/* Commits. Returns 0, or -1 with a message in err. */
int store_export_commit(struct store_export *x, char *err, size_t errsz);
/* Closes and frees x (NULL is fine); when it was not committed, the file is removed. */
void store_export_close(struct store_export *x);

#endif
