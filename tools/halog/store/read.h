/* The read side of the store: everything a reader (report, search, tail, drive; later serve and
 * alerts) may ask of the stored logs, whatever holds them: the SQLite file today, a block store
 * or ClickHouse later. Nothing above this header sees rows, row ids, tables or SQL, so the
 * store can change behind it without a reader changing.
 *
 * How to use it:
 *   struct store_reader *rd = store_reader_open(path_or_url, err, sizeof(err));
 *   struct store_sel sel;
 *   store_sel_init(&sel);                  // everything open: every line, oldest first
 *   sel.since_ms = …; sel.query = q;       // a window, a query from query_parse, …
 *   struct store_cursor *c = store_cursor_open(rd, &sel);
 *   const struct store_line *ln;
 *   while ((rc = store_cursor_next(c, &ln)) > 0)
 *           … ln->raw, ln->rec.backend, …   // valid until the next call
 *   store_cursor_close(c);                 // rc < 0: store_reader_errmsg(rd)
 *   store_reader_close(rd);
 *
 * Two kinds of reads:
 *   - lines and records, through cursors, counts and histograms: exact, filtered by a window, a
 *     query, kinds and names; for search, tail, drive and request-level report sections;
 *   - aggregates (store_aggregate, store_series, store_series_timer, store_line_stats,
 *     store_error_paths): summed
 *     from the per-bucket rollups the store keeps at ingest, so a report over millions of lines
 *     reads thousands of rows. Their windows are whole buckets (store_info.rollup_ms).
 *
 * Threads: a reader is used by one thread at a time; open one per thread (halog serve). A reader
 * never takes a write lock and never delays a writer.
 * Errors: functions return 0 (or a pointer, or a count) on success and -1 (or NULL) on error,
 * with the message in store_reader_errmsg(rd). Nothing here prints or exits. */
#ifndef HALOG_STORE_READ_H
#define HALOG_STORE_READ_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"
#include "store/rollup.h"

struct query;
struct store_reader;
struct store_cursor;

/* ------------------------------------------------------------------------ opening */

/* Opens a reader on `where`: a file path (the SQLite store `halog listen` writes; "file://PATH"
 * too), or a URL whose scheme names another backend ("clickhouse://HOST[:PORT]/DB?…", the tables
 * `halog clickhouse init` made; docs/scaling.md). The path must exist; a store of another schema
 * version is refused with the reason. Returns the reader (close with store_reader_close), or NULL with the
 * reason, naming the path or URL, in err (errsz bytes, NUL-terminated). */
struct store_reader *store_reader_open(const char *where, char *err, size_t errsz);
/* Close every cursor of rd first. NULL is fine. */
void store_reader_close(struct store_reader *rd);
/* The message of the last failed call on rd; valid until the next call. */
const char *store_reader_errmsg(const struct store_reader *rd);

/* Bounds the reads of rd in time, for servers that answer many requests with one reader (halog
 * serve): from this call on, a read still running ms milliseconds later stops and fails with
 * "…: the read ran over its time limit (ms ms)", until the next call; ms <= 0 lifts the bound.
 * A cursor counts as one read from its opening to its close. */
void store_reader_deadline(struct store_reader *rd, int64_t ms);
/* Whether rd's last failure was its time limit. */
int store_reader_timed_out(const struct store_reader *rd);

/* Every read from store_snapshot_begin to store_snapshot_end sees the store as it was at the
 * first read (a listener may go on writing); without a snapshot, each call sees the store as it
 * is when it runs. Not nested. Returns 0 or -1. */
int store_snapshot_begin(struct store_reader *rd);
void store_snapshot_end(struct store_reader *rd);

struct store_info {
	const char *backend;	  /* "sqlite"; static */
	int schema_version;	  /* of the store's layout */
	int64_t rollup_ms;	  /* width of the aggregate buckets, aligned on the unix epoch */
	int64_t records_hint;	  /* an upper bound on the stored request records, cheap to get: for
				     choosing between a scan and the rollups, never for counting */
	int64_t lines_removed_ms; /* retention removed the lines logged up to this time (their
				     aggregates may remain); LR_NONE: no line was removed */
};
int store_info(struct store_reader *rd, struct store_info *out);

/* ------------------------------------------------------------------------ positions */

/* Where a line sits in the store's order, the order lines were stored in (the receive order,
 * give or take a batch). Opaque: compare positions, step one with store_pos_next, copy them,
 * print v as an id or carry it (e.g. in a URL) back to the same store; never do arithmetic or
 * take v for a count. */
struct store_pos {
	int64_t v;
};
#define STORE_POS_MIN ((struct store_pos){INT64_MIN})
#define STORE_POS_MAX ((struct store_pos){INT64_MAX})

/* <0, 0, >0 as a is before, at, after b. */
int store_pos_cmp(struct store_pos a, struct store_pos b);
/* The smallest position after p (p itself when p is STORE_POS_MAX). */
struct store_pos store_pos_next(struct store_pos p);
/* The end of the store now: every stored line is before *out, every line stored later is at or
 * after it. What `tail -f` polls and `drive` takes before sending. Returns 0 or -1. */
int store_end(struct store_reader *rd, struct store_pos *out);

/* Recipes with positions (struct store_sel below):
 *   - follow (tail -f): E0 = store_end; then again and again E = store_end, read [E0, E) with
 *     from = E0, to = E, and E0 = E: no line twice, none missed;
 *   - the N lines around a hit h from its source (search -C N): source = h's source, to =
 *     h->pos, order STORE_NEWEST, limit N for those before; from = store_pos_next(h->pos),
 *     order STORE_OLDEST, limit N for those after;
 *   - pages of a search, newest first: to = the last position shown, order STORE_NEWEST. */

/* ------------------------------------------------------------------------ selections */

/* Which time a window applies to. */
enum store_clock {
	STORE_RECEIVED = 0, /* when halog received the line (listen) or read it (ingest): what
			       search and tail show and filter on */
	STORE_LOGGED = 1,   /* the line's own time: the request or accept date of traffic, else
			       its syslog header's time, else the receive time. What reports,
			       rollups and drive use */
};

enum store_order {
	STORE_OLDEST = 0, /* ascending positions */
	STORE_NEWEST = 1, /* descending positions */
	STORE_TAIL = 2,	  /* the newest `limit` matches (every match when limit is 0), delivered
			     oldest first: tail -n, the last page of a search */
	STORE_BY_TIME = 3 /* ascending time on the selection's clock, ties by position */
};

#define STORE_KIND(k) (1u << (k)) /* a bit of store_sel.kinds for an enum lr_kind */
#define STORE_KINDS_TRAFFIC (STORE_KIND(LR_HTTP) | STORE_KIND(LR_TCP))

/* What a cursor fills in each struct store_line besides pos, ts_ms and rec.kind:
 *   LINE     recv_ms, source, raw, flags; rec.status, host, tag, pid, reason;
 *   SUMMARY  the fields search and tail show: for traffic frontend, backend, server,
 *            status_code, term, client_ip; for events ev_proxy, ev_server, ev_state; for
 *            connect lines and connection errors frontend and bind;
 *   FIELDS   every parsed field the store keeps (implies SUMMARY): timers, bytes, retries,
 *            queues, method, path, query, uri, version, captures, cookies, ssl, ids, the
 *            events' reason, info, check duration … (the backend says which it keeps);
 *   TRAFFIC  only what aggregating traffic needs (rollup_agg_add, e.g. an alert's window):
 *            frontend, backend, server, status_code, term, the five timers, bytes_read,
 *            retries, the redispatch and other flags; much cheaper than FIELDS on many lines
 *            (names and numbers come from the columns alone: the raw lines of a block are not
 *            even decompressed);
 *   REQUEST  TRAFFIC and the request's strings a per-request table keys by (halog report's
 *            paths, clients and headers): client_ip, uri, path, cap_req, cap_resp; these are
 *            slices of the raw line, so the raw lines are read too, but no other field is. */
#define STORE_WANT_LINE 0x1
#define STORE_WANT_SUMMARY 0x2
#define STORE_WANT_FIELDS 0x4
#define STORE_WANT_TRAFFIC 0x8
#define STORE_WANT_REQUEST 0x10

/* What to read. Start from store_sel_init (everything open) and set what you need. Each function
 * says which members it honours; a member it cannot honour that is not at its initial value makes
 * it fail with a message (never silently ignored). */
struct store_sel {
	int64_t since_ms, until_ms;   /* window [since, until) on clock; INT64_MIN / INT64_MAX:
					 open */
	enum store_clock clock;	      /* STORE_RECEIVED */
	struct store_pos from, to;    /* positions [from, to); STORE_POS_MIN / STORE_POS_MAX */
	const struct query *query;    /* from query_parse (borrowed); NULL: every line */
	unsigned kinds;		      /* STORE_KIND() bits; 0: every kind */
	const char *frontend;	      /* exact name; NULL: any. Traffic of that frontend */
	const char *backend, *server; /* exact names; NULL: any. Traffic of that backend or
					 server, and events about it (as backend: and server:
					 in a query) */
	const char *source;	      /* exact source ("udp:127.0.0.1:40001"); NULL: any */
	enum store_order order;	      /* STORE_OLDEST */
	int64_t limit;		      /* lines at most; 0: no limit */
	unsigned want;		      /* STORE_WANT_* */
};
void store_sel_init(struct store_sel *sel);

/* ------------------------------------------------------------------------ lines and records */

/* One line as a cursor delivers it. Strings are slices of the cursor's memory: valid until the
 * next store_cursor_next or store_cursor_close on that cursor. What was not asked for (want) is
 * absent (NULL slices, LR_NONE, LR_TIMER_NONE). */
struct store_line {
	struct store_pos pos;
	int64_t ts_ms;	      /* logged time (STORE_LOGGED) */
	int64_t recv_ms;      /* receive time (STORE_WANT_LINE) */
	struct lr_str source; /* "udp:127.0.0.1:40001", "file:x.log" (STORE_WANT_LINE) */
	struct lr_str raw;    /* the bytes received, may hold NULs (STORE_WANT_LINE) */
	unsigned flags;	      /* STORE_MSG_* of store.h (STORE_WANT_LINE) */
	struct logrec rec;    /* kind always; the rest as wanted */
};

/* Opens a cursor over the lines of sel (every member is honoured). rd must outlive it. Returns
 * the cursor (close with store_cursor_close), or NULL (store_reader_errmsg). */
struct store_cursor *store_cursor_open(struct store_reader *rd, const struct store_sel *sel);
/* Points *line at the next line: returns 1, 0 at the end, or -1 on error (a regex that gave up
 * is not an error: the line does not match). */
int store_cursor_next(struct store_cursor *c, const struct store_line **line);
/* STORE_TAIL: 1 when more lines matched than the limit (older ones were left out); known once
 * the first line was delivered. 0 otherwise. */
int store_cursor_truncated(const struct store_cursor *c);
void store_cursor_close(struct store_cursor *c);

/* The number of lines of sel (order, limit and want are not used). Returns 0 or -1. */
int store_count(struct store_reader *rd, const struct store_sel *sel, int64_t *n);
/* Adds to counts[i] the lines of sel whose time on sel->clock lies in [t0 + i * width_ms,
 * t0 + (i + 1) * width_ms), for i < nbins (width_ms > 0); lines outside every bin are not
 * counted. Order, limit and want are not used. Returns 0 or -1. */
int store_histogram(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		    int64_t width_ms, size_t nbins, int64_t *counts);

/* ------------------------------------------------------------------------ aggregates */
/* They honour since/until on the logged time (clock must be STORE_LOGGED), frontend, backend,
 * server and kinds (a subset of STORE_KINDS_TRAFFIC); a rollup bucket counts when its start lies
 * in [since, until), so align a window on store_info.rollup_ms first for it to mean whole
 * buckets. Names given to callbacks are NULL when the log had none, and valid during the call. */

/* Calls fn once per (frontend, backend, server, kind) with traffic in the window, with the sum
 * of its buckets (agg->key.kind is LR_HTTP or LR_TCP; its other key fields mean nothing here).
 * agg is the store's, valid during the call. fn returns 0 to go on, anything else to stop (then
 * store_aggregate returns that value). Returns 0 or -1. */
typedef int (*store_agg_fn)(void *arg, const char *frontend, const char *backend,
			    const char *server, const struct rollup_agg *agg);
int store_aggregate(struct store_reader *rd, const struct store_sel *sel, store_agg_fn fn,
		    void *arg);

/* The lines of the window by kind and parse status (every line, traffic or not; frontend,
 * backend and server must be open). */
struct store_line_stats {
	int64_t total;		       /* every line */
	int64_t by_kind[LR_KIND_MAX];  /* by enum lr_kind */
	int64_t by_status[LR_BAD + 1]; /* by enum lr_status */
	int64_t truncated;	       /* cut by the receiver at its line cap */
	int64_t first_ms, last_ms;     /* logged times of the earliest and latest line, or
					  LR_NONE when there is none */
};
int store_line_stats(struct store_reader *rd, const struct store_sel *sel,
		     struct store_line_stats *out);

/* Error requests of HTTP traffic (rollup_is_error) by backend, status (-1 when none) and path
 * (the path without its query, else the URI, cut at 256 bytes; plen bytes, not NUL-terminated):
 * for each backend, its `top` most frequent, most frequent first (ties: lower status, then path
 * bytes), one backend after the other. fn as for store_aggregate. Returns 0 or -1. */
typedef int (*store_errpath_fn)(void *arg, const char *backend, int64_t status, const char *path,
				size_t plen, int64_t n);
int store_error_paths(struct store_reader *rd, const struct store_sel *sel, size_t top,
		      store_errpath_fn fn, void *arg);

/* Traffic per time bin: bins[i] gets what lies in [t0 + i * width_ms, t0 + (i + 1) * width_ms)
 * added to it, for i < nbins. Summed from the rollups when t0, width_ms and the window are whole
 * buckets; otherwise read from the request records, exactly (so a fine series costs a scan). */
struct store_bin {
	int64_t requests;
	int64_t errors;	   /* rollup_is_error */
	int64_t cls[RC_N]; /* HTTP requests by status class (TCP has none) */
};
int store_series(struct store_reader *rd, const struct store_sel *sel, int64_t t0, int64_t width_ms,
		 size_t nbins, struct store_bin *bins);

/* One timer per time bin, from the rollups, in one read whatever the number of bins (a report's
 * series asks for every bin's p95 at once, not a read per bin). Calls fn once per bin i < nbins
 * that holds a value of timer t, in ascending i, with a whose tn[t], tsum[t], tmax[t] and
 * hist[t] are the sums of the buckets of every key in [t0 + i * width_ms, t0 + (i + 1) *
 * width_ms) and the window (what rollup_agg_merge of each key's aggregate would give); a's
 * other members mean nothing. t0, width_ms and the window must be whole buckets
 * (store_info.rollup_ms): the histograms are per bucket. a is the store's, valid during the
 * call. fn returns 0 to go on, anything else to stop (then that value is returned). Returns 0 or
 * -1. */
typedef int (*store_bin_timer_fn)(void *arg, size_t i, const struct rollup_agg *a);
int store_series_timer(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		       int64_t width_ms, size_t nbins, enum rollup_timer t, store_bin_timer_fn fn,
		       void *arg);

/* The receiver's counters (received, stored, dropped, refused …), in name order; they are not
 * windowed. fn as for store_aggregate. Returns 0 or -1. */
typedef int (*store_counter_fn)(void *arg, const char *name, int64_t value);
int store_counters(struct store_reader *rd, store_counter_fn fn, void *arg);

#endif
