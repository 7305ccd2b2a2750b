/* Reading log files (plain or gzip) or stdin into the store: one message per line, lines of any
 * length (cut at a cap and flagged, never dropped), any bytes. */
#ifndef HALOG_INGEST_H
#define HALOG_INGEST_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct store;
struct logparser;

#define INGEST_MAX_LINE (1024 * 1024) /* bytes of a line kept; the rest is skipped, flagged */
#define INGEST_BATCH 65536	      /* lines per transaction */

struct ingest_stats {
	uint64_t lines;	    /* messages stored (one per input line) */
	uint64_t parsed;    /* kind != LR_UNPARSED */
	uint64_t partial;   /* status LR_PARTIAL */
	uint64_t unparsed;  /* kind == LR_UNPARSED */
	uint64_t truncated; /* lines longer than the cap */
	uint64_t by_kind[LR_KIND_MAX];
	uint64_t bytes; /* input bytes read (after gunzip) */
};

/* Reads path ("-" for stdin; gzip or plain, detected by content) line by line, parses each line
 * with lp and adds it to st, committing every batch lines (0: INGEST_BATCH) and at the end;
 * lp's reference time for year-less syslog dates follows the dates of the lines read.
 * source is stored with every line ("file:NAME", "stdin"). Adds to stats. Returns 0, or -1 with
 * a message in err (errsz bytes): on a read error what was read before is committed; on a
 * store error the open batch is rolled back and stats count only committed lines. */
int ingest_path(struct store *st, struct logparser *lp, const char *path, const char *source,
		size_t batch, struct ingest_stats *stats, char *err, size_t errsz);

/* One line at a time, for readers that are not a whole file (ingest --follow): sink lines into
 * st as ingest_path does (the same parsing, dates and counts), then commit. */
struct ingest_sink {
	struct store *st;
	struct logparser *lp;
	const char *source;	 /* stored with every line */
	int64_t last_ts;	 /* LR_NONE to start */
	struct ingest_stats pend; /* lines of the open batch */
};
/* Adds one line (len bytes, any byte; truncated: cut at INGEST_MAX_LINE) received at recv.
 * Returns 0, or -1 with a message in err (the open batch is rolled back: pend is cleared). */
int ingest_sink_line(struct ingest_sink *k, const char *line, size_t len, int truncated,
		     int64_t recv, char *err, size_t errsz);
/* Commits the open batch and adds its counts to stats. Returns 0 or -1 with a message. */
int ingest_sink_commit(struct ingest_sink *k, struct ingest_stats *stats, char *err, size_t errsz);

#endif
