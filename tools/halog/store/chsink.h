/* The ClickHouse sink: halog listen and halog ingest hand it every stored message; it batches
 * them as RowBinary rows and inserts each batch (as one Native block, gzip-compressed unless
 * the server is on loopback) over HTTP from a thread of its own, so the caller never waits on
 * ClickHouse.
 *
 * Batches (of up to memory/4 bytes, 64 MiB at most) wait in memory (the URL's memory=, 256
 * MiB), then in a spool file (spool=, at most spool_max=, 1 GiB) while ClickHouse is slow or
 * down, and are inserted in the order they were made; a batch that fits nowhere is dropped and
 * its rows counted (overflow). A spool file left by a previous run is sent first. Idempotence:
 * every row carries its batch's random id and its place in it; a batch whose insert may have
 * reached the server (a timeout, an error answer, a restart) is checked first and only the
 * rows the table lacks are inserted again, so a retried batch is never stored twice
 * (docs/scaling.md). */
#ifndef HALOG_STORE_CHSINK_H
#define HALOG_STORE_CHSINK_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"
#include "store/read.h"
#include "store/store.h"

struct chsink;

struct chsink_stats {
	uint64_t rows_added;	/* handed to the sink */
	uint64_t rows_sent;	/* inserted and acknowledged */
	uint64_t rows_dup;	/* of retried batches, already in ClickHouse: not inserted again */
	uint64_t rows_overflow; /* dropped: neither memory nor the spool had room */
	uint64_t rows_waiting;	/* in memory or in the spool now */
	uint64_t retries;	/* failed insert attempts */
};

/* Opens the sink for a clickhouse:// URL (store/chhttp.h) and starts its thread. The spool file
 * is the URL's spool=, else default_spool; it is created (mode 0600) and locked. The server
 * need not be up. Returns the sink, or NULL with the reason in err. */
struct chsink *chsink_open(const char *url, const char *default_spool, char *err, size_t errsz);

#define CHSINK_NEW UINT64_MAX /* n of a caller that never adds a message twice */

/* Adds one message with its parse result. n numbers the caller's messages: one with an n below
 * one added before is ignored (a caller that replays a batch, e.g. after a failed SQLite
 * commit, stores nothing twice); CHSINK_NEW is always added. Never blocks on the network (unless chsink_set_wait). Returns 0, or -1 when out of
 * memory (the row is counted in overflow). */
int chsink_add(struct chsink *s, uint64_t n, const struct store_msg *m, const struct logrec *rec);
/* Adds a line another store delivered (STORE_WANT_LINE | STORE_WANT_FIELDS), with the logged
 * time that store gave it: copying a store. Returns as chsink_add. */
int chsink_add_line(struct chsink *s, const struct store_line *ln);

/* Sets the value of a counter of the caller's ("listen.received" …) for this run: the sink
 * writes the counters it holds to the counters table after the batches before them, as
 * absolute values of this run, so writing them again changes nothing; the readers add up the
 * runs. A counter that was never set and is 0 is not written. name is copied (at most
 * CHSINK_COUNTERS names). */
#define CHSINK_COUNTERS 32
void chsink_counter_set(struct chsink *s, const char *name, int64_t value);

/* on: chsink_add and chsink_add_line wait when a batch is full while the one before is still
 * being inserted (back-pressure: a caller reading a file has no sender to outrun, so ClickHouse
 * sets the pace; memory holds two batches, the spool none); except while inserts fail,
 * when batches wait in memory and the spool as for a caller that never waits (the default,
 * halog listen's). */
void chsink_set_wait(struct chsink *s, int on);

void chsink_get_stats(struct chsink *s, struct chsink_stats *out);
/* The sink's watermark: every row added with a receive time before it is acknowledged by
 * ClickHouse (inserted, or found there when a batch was retried). Batches are inserted in the
 * order they were made, so it is the receive time of the oldest row still waiting (in memory,
 * being inserted, or in the spool, a previous run's included), or now_ms when that is earlier
 * or none waits. While ClickHouse is down it stays where it is. */
int64_t chsink_watermark(struct chsink *s, int64_t now_ms);
/* "clickhouse://HOST:PORT/DB" */
const char *chsink_text(const struct chsink *s);

/* Sends what is left for up to grace_ms, writes what is still unsent to the spool (the next
 * run sends it), prints a summary line on stderr prefixed with who ("halog listen"), frees s.
 * NULL is fine. */
void chsink_close(struct chsink *s, int64_t grace_ms, const char *who);

#endif
