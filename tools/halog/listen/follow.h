/* halog ingest --follow FILE: the lines a syslog daemon appends to FILE, as they come, through
 * rotations by rename (logrotate's default, rsyslog reopening) and by copy-truncate, with the
 * read position kept in the store in the same transaction as the lines, so a restart goes on
 * where the last commit ended: no line twice, none missed (docs/halog-ingest-follow.md). */
#ifndef HALOG_FOLLOW_H
#define HALOG_FOLLOW_H
#include <signal.h>
#include <stdint.h>

#include "listen/ingest.h"

struct store;
struct store_reader;
struct logparser;

#define FOLLOW_POLL_MS 200			/* between looks at the file */
#define FOLLOW_COUNTER_PREFIX "ingest.follow." /* the store counters of a followed file */

struct follow_opts {
	int64_t timeout_ms;	      /* stop after this long (0: never) */
	int64_t max_lines;	      /* stop once this many lines were stored (0: never) */
	volatile sig_atomic_t *stop;  /* set by a signal: stop after committing (may be NULL) */
	int from_end;		      /* a file never followed before: start at its end */
};

/* Follows path into st (parsing with lp), committing what each look found, with the position
 * (counters FOLLOW_COUNTER_PREFIX "offset|inode|device:" path, same transaction). rd reads the
 * counters of st's file at start, to resume. Adds to stats. Returns 0 when stopped (signal,
 * timeout, max_lines), or -1 with a message in err: a read or store error; what was committed
 * before stays. */
int ingest_follow(struct store *st, struct store_reader *rd, struct logparser *lp,
		  const char *path, const struct follow_opts *fo, struct ingest_stats *stats,
		  char *err, size_t errsz);

#endif
