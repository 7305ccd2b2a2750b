/* Rollups: the per-minute aggregates the store maintains at ingest and the report reads back.
 * Log-linear latency histograms (values < 64 exact, then 32 sub-buckets per power of two: a
 * bucket midpoint is within 1.6% of any value in it), a byte-keyed hash map, and the aggregate
 * of one (minute, frontend, backend, server, kind) key. No SQLite here. */
#ifndef ROLLUP_H
#define ROLLUP_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"
#include "strbuf.h"

#define ROLLUP_BUCKET_MS 60000 /* rollup time bucket: one minute, aligned on the unix epoch */

/* ---- histograms ---- */
#define HIST_LINEAR 64				   /* values 0..63 have a bucket each */
#define HIST_SUB 32				   /* sub-buckets per power of two above that */
#define HIST_N (HIST_LINEAR + (31 - 6) * HIST_SUB) /* covers 0..INT32_MAX */

/* The bucket of v (v >= 0; larger than INT32_MAX is clamped). */
unsigned hist_bucket(int64_t v);
/* Smallest and largest value of bucket b. */
int64_t hist_lower(unsigned b);
int64_t hist_upper(unsigned b);
/* The value reported for bucket b: exact below HIST_LINEAR, else the midpoint. */
int64_t hist_value(unsigned b);

/* Appends the non-empty buckets of counts[HIST_N] as varint pairs (bucket gap, count).
 * Returns 0 or -1 (no memory). */
int hist_encode(const uint64_t *counts, struct strbuf *out);
/* A histogram in HIST_NCHUNK chunks of HIST_CHUNK buckets, a chunk NULL while its buckets are
 * all 0: what a store's batch keeps, where a dense one touched 6.9 KB for a few dozen buckets.
 * hist_encode_chunks appends the same bytes as hist_encode of the dense counts. */
#define HIST_CHUNK 32
#define HIST_NCHUNK (HIST_N / HIST_CHUNK)
_Static_assert(HIST_N % HIST_CHUNK == 0, "whole chunks");
int hist_encode_chunks(uint64_t *const *chunks, struct strbuf *out);
/* Adds the buckets encoded in blob (len bytes) to counts[HIST_N]. Returns 0, or -1 when the blob
 * is malformed (counts then hold what was decoded before the fault). */
int hist_decode_add(const void *blob, size_t len, uint64_t *counts);
/* Appends the encoding of the counts of blobs a and b added up (alen and blen bytes; either
 * may be empty): what hist_decode_add of both into zeroed counts then hist_encode write,
 * merged without the dense counts. Returns 0, -1 when a blob is malformed, -2 (no memory). */
int hist_merge(const void *a, size_t alen, const void *b, size_t blen, struct strbuf *out);
/* The nearest-rank p-th percentile (0 < p <= 100) of the n values in counts, as hist_value of its
 * bucket, never above max. Returns -1 when n == 0. */
int64_t hist_percentile(const uint64_t *counts, uint64_t n, double p, int64_t max);

/* ---- a hash map from byte strings to a pointer ---- */
struct hmap_ent {
	uint64_t hash;
	char *key; /* owned copy, NUL-terminated after klen bytes */
	size_t klen;
	void *val; /* caller's */
};
struct hmap {
	struct hmap_ent *tab; /* cap slots; key == NULL means empty */
	size_t n, cap;
};
#define HMAP_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

uint64_t hmap_hash(const void *key, size_t len);
/* The slot holding key, or NULL. */
struct hmap_ent *hmap_get(const struct hmap *m, const void *key, size_t len);
/* The slot of key, inserted with val NULL when missing (*isnew set to 1). NULL: no memory. */
struct hmap_ent *hmap_put(struct hmap *m, const void *key, size_t len, int *isnew);
/* Calls free_val(val) for each entry (when not NULL), frees keys and table; m is empty after. */
void hmap_release(struct hmap *m, void (*free_val)(void *));

/* ---- aggregates ---- */
enum rollup_timer { RT_TR, RT_TW, RT_TC, RT_TR_RESP, RT_TA, RT_N }; /* TR Tw Tc Tr Ta/Tt */
enum rollup_class { RC_1XX, RC_2XX, RC_3XX, RC_4XX, RC_5XX, RC_OTHER, RC_N }; /* OTHER: none/-1 */

struct rollup_key {
	int64_t bucket;	     /* start of the minute, unix ms */
	int32_t fe, be, srv; /* name ids (0: absent) */
	int32_t kind;	     /* LR_HTTP or LR_TCP */
};

struct rollup_pair {
	int64_t key; /* a status code, or a termination state's two chars (c1 << 8 | c2) */
	int64_t n;
};

struct rollup_agg {
	struct rollup_key key;
	int64_t requests;
	int64_t cls[RC_N];
	int64_t errors;	      /* rows matching rollup_is_error */
	int64_t retries;      /* sum of retries, redispatched rows excluded */
	int64_t redispatches; /* rows with '+' on retries */
	int64_t bytes_read, bytes_up;
	int64_t logasap; /* rows with partial (logasap) timers */
	struct rollup_pair *codes, *terms;
	size_t ncodes, nterms, acodes, aterms;
	uint64_t *hist[RT_N]; /* HIST_N counts each, NULL until a value arrives */
	int64_t tn[RT_N], tsum[RT_N], tmax[RT_N];
};

/* The traffic timer t of rec, or LR_TIMER_NONE. */
int32_t rollup_timer_of(const struct logrec *rec, enum rollup_timer t);
/* True when rec is an error row (log-formats.md §3.3): status >= 500 or absent/-1 on HTTP,
 * <BADREQ>, termination char 1 not '-' or 'L', or retries > 0 on this server. A redispatch
 * ("+N" retries) alone is not an error of the server that finally answered. */
int rollup_is_error(const struct logrec *rec);
/* Class of an HTTP status (LR_NONE or out of 100..599: RC_OTHER). */
enum rollup_class rollup_class_of(int64_t status);

/* Adds one traffic record to a. Returns 0 or -1 (no memory: a is then partly updated). */
int rollup_agg_add(struct rollup_agg *a, const struct logrec *rec);
/* rollup_agg_add without the histograms: the timers go to a's tn, tsum and tmax, and the
 * bucket of each into bucket[t] (HIST_N when rec has none), for the caller's histograms.
 * Returns 0 or -1 (no memory). */
int rollup_agg_add_nohist(struct rollup_agg *a, const struct logrec *rec, unsigned bucket[RT_N]);
/* Adds n to the pair with key in the array (grown as needed). Returns 0 or -1. */
int rollup_pair_add(struct rollup_pair **arr, size_t *n, size_t *alloc, int64_t key, int64_t delta);
/* Adds counts of timer t (n values, sum, max and the encoded histogram) to a. Returns 0 or -1. */
int rollup_agg_add_timer(struct rollup_agg *a, enum rollup_timer t, int64_t n, int64_t sum,
			 int64_t max, const void *blob, size_t len);
/* Adds every count of src to dst (the keys are not compared). Returns 0 or -1. */
int rollup_agg_merge(struct rollup_agg *dst, const struct rollup_agg *src);
/* Frees what a holds (not a itself) and zeroes it. */
void rollup_agg_release(struct rollup_agg *a);
/* Frees a and what it holds (an hmap value destructor). */
void rollup_agg_free(void *agg);

/* Words for a termination state's first and second characters (log-formats.md §3.3). */
const char *rollup_term_cause(char c);
const char *rollup_term_phase(char c);

#endif
