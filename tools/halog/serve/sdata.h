/* What halog serve reads, on top of the store's read API (store/read.h): a pool of readers for the
 * request threads, each request bounded in time, and the reads the API needs that take more than
 * one call: the time span of the store, the lines around one line from the same source, and hit
 * counts that stop at a time budget with what they counted so far. Nothing here sees SQL. */
#ifndef SERVE_SDATA_H
#define SERVE_SDATA_H
#include <stddef.h>
#include <stdint.h>

#include "store/read.h"

struct query;
struct sdata_pool;

/* Called for each line (valid during the call); returns 0 to go on, anything else to stop. */
typedef int (*sline_fn)(void *cls, const struct store_line *l);

/* What a line of the API is read with: the line, its summary and its parsed fields. */
#define SDATA_WANT (STORE_WANT_LINE | STORE_WANT_FIELDS)

/* A pool of up to n readers of the store at path (opened when first needed); each request's reads
 * are bounded by query_ms in all. Returns the pool, or NULL with a message in err. Free with
 * sdata_pool_free (NULL is fine) once no reader is borrowed. */
struct sdata_pool *sdata_pool_new(const char *path, unsigned n, int64_t query_ms, char *err,
				  size_t errsz);
void sdata_pool_free(struct sdata_pool *p);
/* Borrows a reader for one request, waiting at most wait_ms for one to be free; its reads are
 * bounded by the pool's query_ms from now. Returns NULL when all stay busy (*busy set, err says
 * so) or the store cannot be opened (message in err, *busy 0). Give it back with sdata_put. */
struct store_reader *sdata_get(struct sdata_pool *p, int64_t wait_ms, int *busy, char *err,
			       size_t errsz);
void sdata_put(struct sdata_pool *p, struct store_reader *rd);

/* Calls fn for each line of sel. Sets *truncated (when not NULL) for a STORE_TAIL read that
 * left older matches out. Returns 0, or -1 (store_reader_errmsg; store_reader_timed_out). */
int sdata_each(struct store_reader *rd, const struct store_sel *sel, sline_fn fn, void *cls,
	       int *truncated);

/* The receive times of the oldest and the newest line (LR_NONE when the store is empty). */
int sdata_span(struct store_reader *rd, int64_t *first_ms, int64_t *last_ms);

#define SDATA_CONTEXT_MS 3600000 /* context lines are looked for within an hour of the line */

/* The line at pos, with up to n lines before and n after it from the same source (within
 * SDATA_CONTEXT_MS of its receive time), oldest first. *found is 0 when no line is at pos.
 * Returns 0 or -1. */
int sdata_context(struct store_reader *rd, struct store_pos pos, int64_t n, sline_fn fn,
		  void *cls, int *found);

/* Adds to counts[i] the lines matching q (NULL: all) at positions [from, to) received in bin
 * i, [t0 + i*width, t0 + (i+1)*width), i < nbins. Counts newest first, in slices; once
 * budget_ms has passed (or the request's bound stops a slice) it stops and sets *partial_from to
 * the receive time down to which lines were counted (else LR_NONE). Returns 0, or -1 when even
 * the newest slice could not be counted. */
int sdata_hits(struct store_reader *rd, const struct query *q, struct store_pos from,
	       struct store_pos to, int64_t t0, int64_t width, size_t nbins, int64_t budget_ms,
	       int64_t *counts, int64_t *partial_from);

#endif
