/* Recent results of halog serve's searches and hit graphs, so that the same request again (a
 * page polling, a second user, the live tail's neighbour) reads only the lines stored since the
 * last answer. Exact: store positions split the store into the lines that were read and those
 * stored after, and a result is only reused when what it lacks is known to be in the new lines.
 * Entries are replaced oldest first; everything here is behind one lock and copies its data. */
#ifndef SERVE_SCACHE_H
#define SERVE_SCACHE_H
#include <stddef.h>
#include <stdint.h>

#include "store/read.h"

#define SCACHE_ENTRIES 32   /* searches, and as many hit graphs */
#define SCACHE_MAX_LINES 201 /* a search with more lines than this is not kept */

struct scache;

/* One line of a search result: its position, receive time and JSON object. */
struct scache_line {
	int64_t pos, recv_ms;
	char *json; /* owned; len bytes, NUL-terminated */
	size_t len;
};

/* A search result: the newest matches of a query in a window open at its end, newest first. */
struct scache_search {
	struct scache_line *lines;
	size_t n;
	int all;		/* lines holds every match of its window (no older one) */
	int64_t since;		/* the window's start (receive time; INT64_MIN: open) */
	struct store_pos end;	/* the store's end when it was read: lines are before it */
};

/* A hit graph: counts per bin of width, the bins starting at t0, of the lines before end; the
 * bins from done_from on are complete (done_from == t0: all of them), the older ones were not
 * counted yet (a graph counted within a time budget, newest first). */
struct scache_hits {
	int64_t t0, width;
	int64_t *counts; /* n bins */
	size_t n;
	struct store_pos end;
	int64_t done_from;
};

struct scache *scache_new(void);
void scache_free(struct scache *c);

/* A copy of the search result kept for query text q (caller releases with
 * scache_search_release). Returns 1 when there is one, else 0 (out is then empty). */
int scache_search_get(struct scache *c, const char *q, struct scache_search *out);
/* Keeps a copy of s for q (replacing the older one). s keeps its data. */
void scache_search_put(struct scache *c, const char *q, const struct scache_search *s);
void scache_search_release(struct scache_search *s);

/* The same for hit graphs, keyed by query text and bin width. */
int scache_hits_get(struct scache *c, const char *q, int64_t width, struct scache_hits *out);
void scache_hits_put(struct scache *c, const char *q, const struct scache_hits *h);
void scache_hits_release(struct scache_hits *h);

#endif
