/* For implementers of a read backend (store layer only): the operations behind store/read.h.
 * read.c picks a backend by the scheme of the path or URL given to store_reader_open (the table
 * there), checks what is the same for every backend (the selection members a function does not
 * honour, arguments), then calls these. A backend keeps its state in rd->impl and reports errors
 * with store_reader_fail. Readers never include this header. */
#ifndef HALOG_STORE_BACKEND_H
#define HALOG_STORE_BACKEND_H
#include <stdarg.h>

#include "store/read.h"

struct store_ops {
	const char *name; /* "sqlite": store_info.backend */
	/* Opens `where` (the scheme removed) and sets rd->impl. Returns 0, or -1 with the
	 * message in rd, naming the path ("cannot open 'x.db': …"). */
	int (*open)(struct store_reader *rd, const char *where);
	void (*close)(struct store_reader *rd); /* frees rd->impl; never fails */
	int (*snapshot_begin)(struct store_reader *rd);
	void (*snapshot_end)(struct store_reader *rd);
	int (*info)(struct store_reader *rd, struct store_info *out);
	int (*end)(struct store_reader *rd, struct store_pos *out);
	/* Cursors: open returns the backend's cursor state or NULL; next fills *line (owned by
	 * the state) and returns 1, 0 or -1; truncated and close never fail. */
	void *(*cursor_open)(struct store_reader *rd, const struct store_sel *sel);
	int (*cursor_next)(struct store_reader *rd, void *cur, const struct store_line **line);
	int (*cursor_truncated)(const void *cur);
	void (*cursor_close)(void *cur);
	int (*count)(struct store_reader *rd, const struct store_sel *sel, int64_t *n);
	int (*histogram)(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			 int64_t width_ms, size_t nbins, int64_t *counts);
	int (*aggregate)(struct store_reader *rd, const struct store_sel *sel, store_agg_fn fn,
			 void *arg);
	int (*line_stats)(struct store_reader *rd, const struct store_sel *sel,
			  struct store_line_stats *out);
	int (*error_paths)(struct store_reader *rd, const struct store_sel *sel, size_t top,
			   store_errpath_fn fn, void *arg);
	int (*series)(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
		      int64_t width_ms, size_t nbins, struct store_bin *bins);
	/* t0, width_ms and the window already checked to be whole buckets; nbins > 0 */
	int (*series_timer)(struct store_reader *rd, const struct store_sel *sel, int64_t t0,
			    int64_t width_ms, size_t nbins, enum rollup_timer t,
			    store_bin_timer_fn fn, void *arg);
	int (*counters)(struct store_reader *rd, store_counter_fn fn, void *arg);
};

struct store_reader {
	const struct store_ops *ops;
	void *impl; /* the backend's */
	int in_snapshot;
	int64_t limit_ms;    /* store_reader_deadline's bound; 0: none */
	int64_t deadline_ms; /* clock_mono_ms() when reads must stop; 0: never */
	int timed_out;	     /* the bound stopped a read (set by store_reader_expired) */
	char err[512];
};

/* For backends, while a read runs (e.g. from a progress callback): 1 when rd's deadline has
 * passed (timed_out is then set, and the backend stops the read), else 0. Cheap. */
int store_reader_expired(struct store_reader *rd);

/* Sets rd's message (what store_reader_errmsg returns). Returns -1, for `return fail(…)`. */
int store_reader_fail(struct store_reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The SQLite backend (sqlite_read.c). */
extern const struct store_ops store_sqlite_ops;
/* The ClickHouse backend (chread.c). */
extern const struct store_ops store_clickhouse_ops;

#endif
