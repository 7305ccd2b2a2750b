/* Reading log files (plain or gzip) or stdin into the store: one message per line, lines of any
 * length (cut at a cap and flagged, never dropped), any bytes. */
#ifndef HALOG_INGEST_H
#define HALOG_INGEST_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct store;
struct logparser;
struct chsink;

#define INGEST_MAX_LINE (1024 * 1024) /* bytes of a line kept; the rest is skipped, flagged */
#define INGEST_BATCH 262144	      /* lines per transaction */

struct ingest_stats {
	uint64_t lines;	    /* messages stored (one per input line) */
	uint64_t parsed;    /* kind != LR_UNPARSED */
	uint64_t partial;   /* status LR_PARTIAL */
	uint64_t unparsed;  /* kind == LR_UNPARSED */
	uint64_t truncated; /* lines longer than the cap */
	uint64_t by_kind[LR_KIND_MAX];
	uint64_t bytes; /* input bytes read (after gunzip) */
};

#define INGEST_IDENT_MAX 4096 /* bytes of an input's first line that identify it */

#define INGEST_FORCE 0x1 /* take the whole input, even what the store took from it before */
#define INGEST_REPLAY                                                                              \
	0x2 /* a line's receive time is its own time (syslog header, else body                     \
	       date, else the previous line's), as if received when it was logged */

/* How ingest_path takes an input. */
struct ingest_opts {
	size_t batch;	    /* lines per transaction (0: INGEST_BATCH) */
	unsigned flags;	    /* INGEST_* */
	int64_t recv_first; /* when recv_step > 0: the receive time of the next line, then */
	int64_t recv_step;  /* recv_step ms more for each line (reproducible stores) */
	struct chsink *sink; /* also every line into ClickHouse (store/chsink.h); NULL: none */
};

/* What ingest_path left out of one input because the store had taken it before. */
struct ingest_skip {
	uint64_t bytes, lines; /* skipped (0: nothing) */
	int64_t at_ms;	       /* when they were taken */
	int known;	       /* the store knew the input */
	int unknowable;	       /* too short to be known again: not remembered */
};

/* Reads path ("-" for stdin; gzip or plain, detected by content) line by line, parses each line
 * with lp and adds it to st (NULL: no local store, then o->sink is set) and to o->sink,
 * committing every o->batch lines and at the end (with recv_step,
 * o->recv_first moves on past the lines taken, for the next input);
 * lp's reference time for year-less syslog dates follows the dates of the lines read.
 * source is stored with every line ("file:NAME", "stdin"). Adds to stats.
 * The store remembers what it took from each input, known by its first line (up to
 * INGEST_IDENT_MAX bytes; an input without an LF in its first INGEST_IDENT_MAX bytes and shorter
 * than that is not remembered): the bytes taken, recorded in the transaction of the lines they
 * hold. An input seen before is read from where it was left (a grown log takes only its new
 * lines; one taken whole, nothing), unless flags has INGEST_FORCE; *skip says what was left out.
 * Returns 0, or -1 with a message in err (errsz bytes): on a read error what was read before is
 * committed; on a store error the open batch is rolled back and stats count only committed
 * lines. */
int ingest_path(struct store *st, struct logparser *lp, const char *path, const char *source,
		struct ingest_opts *o, struct ingest_stats *stats, struct ingest_skip *skip,
		char *err, size_t errsz);

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
