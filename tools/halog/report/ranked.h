/* The report's ranked request tables: per normalised path and per client address (or network),
 * computed from the stored request records (exact, not from the rollups), ranked by a column,
 * cut to the top N. Computation only: the writers in report_fmt.c and report_html.c print
 * struct report_table; halog serve can call the same functions. */
#ifndef HALOG_REPORT_RANKED_H
#define HALOG_REPORT_RANKED_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct strbuf;

/* One row of a ranked table: every request of one key (a path, an address, a network). */
struct report_row {
	char *key;		    /* owned: the normalised path, the address or the network */
	int64_t requests;	    /* records */
	int64_t errors;		    /* rollup_is_error, the report's rule */
	int64_t bytes;		    /* bytes sent to the client (%B), summed */
	int64_t ta_n;		    /* Ta values (Tt for TCP) that were not -1 */
	int64_t ta_sum;		    /* their sum, ms: the total time spent on this key */
	int64_t p50, p95, p99, max; /* Ta, exact nearest rank over its values, ms; -1: none */
	/* as HAProxy's halog counts them (-u for paths, -ic for clients), for comparing: */
	int64_t halog_err;   /* requests with a -1 timer (-u: any of the five; -ic: TR or Ta) */
	int64_t halog_time;  /* sum of Tr (-u) or TR (-ic), Ta when that one is -1 */
	int64_t halog_bytes; /* bytes, a logasap "+N" (partial) read as 0 */
};

/* Columns a table can be ranked by (--sort): the descending numbers, or the key ascending. */
enum report_sort {
	REPORT_SORT_REQUESTS,
	REPORT_SORT_ERRORS,
	REPORT_SORT_ERROR_RATE,
	REPORT_SORT_P50,
	REPORT_SORT_P95,
	REPORT_SORT_P99,
	REPORT_SORT_MAX,
	REPORT_SORT_TIME,
	REPORT_SORT_BYTES,
	REPORT_SORT_KEY,
	REPORT_SORT_N
};
/* The --sort words, indexed by enum report_sort, NULL-terminated ("requests", "errors",
 * "error-rate", "p50", "p95", "p99", "max", "time", "bytes", "name"). */
extern const char *const report_sort_names[REPORT_SORT_N + 1];

struct report_table {
	int on;			 /* the section was asked for (and computed) */
	struct report_row *rows; /* ranked, at most top */
	size_t nrows;
	int64_t distinct;      /* keys before the cut to top */
	int64_t requests;      /* every request counted in the table */
	enum report_sort sort; /* as ranked */
	size_t top;	       /* as asked; 0: every row */
};

/* How paths are keyed. Folded (the default): the path of the request (an absolute-form URI,
 * HTTP/2's "https://host/p", gives "/p"), cut at the first '?' or ';', then every segment
 * between two '/' that is one of these becomes a placeholder:
 *   only decimal digits                              {num}
 *   a UUID (8-4-4-4-12 hex digits)                    {uuid}
 *   8 or more hex digits with at least one 0-9 in it  {hex}
 * Not folded (fold = 0): the URI as logged, cut at the first '?' or ';' (what HAProxy's halog -u
 * keys by). A request without a URI (<BADREQ>, a truncated line) is keyed "<BADREQ>" or "-".
 * Either way the cut is at the first '?', ';' or space (no request-target holds a space).
 * Appends the key of rec to out (emptied first). Returns 0, or -1 when out of memory. */
int report_path_key(const struct logrec *rec, int fold, struct strbuf *out);

/* How client addresses are grouped: each address, or its network (IPv4 /24, IPv6 /64, written
 * "10.1.2.0/24", "2001:db8::/64"; an IPv4-mapped ::ffff:a.b.c.d is grouped with its IPv4 /24).
 * An address that is not an IP ("unix") stays as it is.
 * Appends the key of rec to out (emptied first; "-" when the log has no address). Returns 0, or
 * -1 when out of memory. */
enum report_client_by { REPORT_CLIENT_ADDR, REPORT_CLIENT_NET };
int report_client_key(const struct logrec *rec, enum report_client_by by, struct strbuf *out);

/* An accumulator for one table: add records, then rank. */
struct report_ranker;
enum report_ranker_kind { REPORT_RANK_PATHS, REPORT_RANK_CLIENTS };
struct report_ranker *report_ranker_new(enum report_ranker_kind kind);
/* Adds rec (an LR_HTTP or LR_TCP record with its fields) under key (klen bytes). Returns 0, or -1
 * when out of memory. */
int report_ranker_add(struct report_ranker *k, const char *key, size_t klen,
		      const struct logrec *rec);
/* Adds rec (an LR_HTTP record with its uri and path) under its path key, report_path_key(rec,
 * fold), made in the ranker's own buffer. Returns 0, or -1 when out of memory. */
int report_ranker_add_path(struct report_ranker *k, const struct logrec *rec, int fold);
/* Ranks what was added by sort (ties: key ascending) and moves the first top rows (0: all) into
 * t, which the caller releases with report_table_release. Returns 0, or -1 when out of memory
 * (t is then empty). */
int report_ranker_finish(struct report_ranker *k, enum report_sort sort, size_t top,
			 struct report_table *t);
void report_ranker_free(struct report_ranker *k);
void report_table_release(struct report_table *t);

#endif
