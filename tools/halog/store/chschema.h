/* halog's tables in ClickHouse: the columns of `lines` (one row per received message, raw and
 * parsed) as a table that both the writer (RowBinary rows) and the readers (RowBinary answers)
 * use, so the two cannot disagree; the statements of `halog clickhouse init`. Store layer. */
#ifndef HALOG_STORE_CHSCHEMA_H
#define HALOG_STORE_CHSCHEMA_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"
#include "store/chhttp.h"
#include "store/read.h"
#include "store/store.h"
#include "strbuf.h"

#define CH_SCHEMA_VERSION 3 /* 2: lines.empties; 3: narrow rows, lines.fields */
#define CH_FIELDS_VERSION 1 /* the first byte of lines.fields (docs/scaling.md) */

/* Which columns of `lines` a row holds (of the table of chschema.c, in its order), and their
 * names as an SQL list. */
#define CH_MAXCOLS 96
struct ch_fmt {
	unsigned char has[CH_MAXCOLS];
	char cols[2048];
};
/* Schema 3 (what the sink writes and init creates): the columns SQL uses, then `fields`, every
 * other field packed (the parsed strings as places in raw). */
extern const struct ch_fmt *const ch_fmt_narrow;
/* Schema 2 (halog up to this change): every field a column of its own, and `empties`. */
extern const struct ch_fmt *const ch_fmt_wide;

/* Appends fmt's columns with their types, "ts_ms Int64, recv_ms Int64, …" (a CREATE TABLE's). */
void ch_col_defs(const struct ch_fmt *fmt, struct strbuf *sql);

/* The columns the writer fills, in the order of chrow_encode (ch_fmt_narrow's). */
extern const char *const ch_insert_columns; /* "ts_ms, recv_ms, batch, seq, …" */

/* The identity of a row: which insert (batch, random 64 bits) and its number (seq, < 2^20,
 * consecutive within a batch). A batch is inserted again only for the seqs the table does not
 * hold (chsink.c). */
struct chrow_id {
	uint64_t batch;
	uint32_t seq;
	int64_t ts_ms; /* the logged time (ch_logged_ms, or the one a store gave the line) */
};

/* Appends one row of schema 3 in ClickHouse's RowBinary format. Returns 0 or -1 (no memory,
 * out as it was). */
int chrow_encode(struct strbuf *out, const struct chrow_id *id, const struct store_msg *m,
		 const struct logrec *rec);
/* The same with the columns of fmt (ch_fmt_wide: a row of schema 2, for the tests). */
int chrow_encode_fmt(struct strbuf *out, const struct ch_fmt *fmt, const struct chrow_id *id,
		     const struct store_msg *m, const struct logrec *rec);

/* Rewrites nrows rows of schema 2 (rows[0..len), a spool of an older halog) as rows of schema
 * 3 appended to out; offs[r] gets where row r begins in out. Returns 0, or -1 when they are not
 * nrows whole rows or memory is short. */
int chrows_from_wide(const char *rows, size_t len, uint32_t nrows, struct strbuf *out,
		     uint32_t *offs);

/* Appends the nrows RowBinary rows of rows[0..len) (chrow_encode's) as one block of ClickHouse's
 * Native format (column after column: the server reads a column at once instead of a value at
 * a time, half its parsing CPU; docs/scaling.md). Returns 0, or -1 when the rows are not
 * nrows whole rows or memory is short (out as it was). */
int chrows_native(const char *rows, size_t len, uint64_t nrows, struct strbuf *out);

/* Reads one row of fmt's columns in RowBinary from *p (up to end) into ln: pos (from recv_ms
 * and seq, see CH_POS), ts_ms, recv_ms, source, raw, flags and every rec field, from `fields`
 * when the row has one (schema 3), else from the wide columns fmt has (schema 2). Strings point
 * into the buffer (a schema 2 string is absent when empty, unless `empties` says otherwise);
 * the reason is copied into reason (rsz bytes). *id gets the row's identity. Advances *p.
 * Returns 0, or -1 when the row is cut short or its `fields` is not one. */
int chrow_decode(const char **p, const char *end, const struct ch_fmt *fmt, struct store_line *ln,
		 struct chrow_id *id, char *reason, size_t rsz);

/* A line's position in a ClickHouse store: its receive time, then its seq (a writer numbers its
 * rows across batches, modulo 2^20, so one writer's rows keep their order; rows of different
 * writers in one millisecond may share a position). As SQL, over lines. */
#define CH_POS_SHIFT 20
#define CH_POS_SQL "bitOr(bitShiftLeft(recv_ms, 20), toInt64(seq))"

/* The logged time a store gives a line (store.c's rule): the record's date, else the syslog
 * header's, else the receive time. */
int64_t ch_logged_ms(const struct store_msg *m, const struct logrec *rec);

/* Creates the database and every table and view that are missing (CREATE … IF NOT EXISTS:
 * running it again changes nothing). retention_days > 0 keeps that many days: a TTL where the
 * server has them (19.6 on, on tables it creates), else the sink drops older day partitions
 * (ch_prune); 0 keeps everything; < 0 leaves the recorded retention as it is. With a
 * cluster, run it once on every shard's server: the local tables, plus the *_all Distributed
 * tables over the cluster. The columns it added to a table of an older halog are appended to
 * added ("lines.fields"; NULL: not told). Prints nothing. Returns 0, or -1 with the reason in
 * err. */
int ch_init(struct ch_conn *c, int retention_days, struct strbuf *added, char *err,
	    size_t errsz);

/* The columns of table (lines or lines_all of the URL's database) to read into fmt (what its
 * SELECTs ask for and chrow_decode reads: of a table of schema 3 only, neither the parsed
 * strings, which fields holds, nor the derived columns), and to missing the columns of schema 3 it lacks, as "a, b"
 * (a table an older halog created; ch_init adds them). Returns 0 or -1 with the reason in
 * err. */
int ch_read_fmt(struct ch_conn *c, const char *table, struct ch_fmt *fmt, struct strbuf *missing,
		char *err, size_t errsz);

/* Drops the day partitions of the local tables older than the retention ch_init recorded
 * (none recorded: does nothing). *dropped gets how many. Returns 0 or -1. */
int ch_prune(struct ch_conn *c, int64_t now_ms, int *dropped, char *err, size_t errsz);

/* The name of table t ("lines", "traffic_1m" …) as written and read: t itself, or t_all when
 * the URL names a cluster. Into buf. */
const char *ch_table(const struct ch_url *u, const char *t, char *buf, size_t sz);

#endif
