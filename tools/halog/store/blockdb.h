/* The blocks table of a schema-2 store (docs/storage.md): one row per block of lines, its
 * summary columns and the two zstd frames. Rows in and out of the block codec. Private to the
 * store layer: nothing above it knows there are blocks. */
#ifndef STORE_BLOCKDB_H
#define STORE_BLOCKDB_H
#include <stddef.h>
#include <stdint.h>

#include "store/block.h"

struct sqlite3;
struct sqlite3_stmt;

/* The statement blockdb_write steps: prepare it on the writing connection. A row whose first
 * line id exists is replaced: a store writes its open block at every commit, then again as it
 * grows. */
#define BLOCKDB_INSERT_SQL                                                                         \
	"INSERT OR REPLACE INTO blocks(first_id, n, recv_min, recv_max, ts_min, ts_max, raw_len,"  \
	" cols_len, format, raw, cols) VALUES(?,?,?,?,?,?,?,?,?,?,?)"

/* Finishes the block in e (lines first_id, first_id + 1 …), compresses it with z and steps ins.
 * e keeps its lines (more may follow). Returns 0, or -1 with a message in err (errsz bytes)
 * naming the SQLite error of db or the codec's failure. */
int blockdb_write(struct sqlite3 *db, struct sqlite3_stmt *ins, struct block_zip *z,
		  struct block_enc *e, int64_t first_id, char *err, size_t errsz);

/* The same for a block already serialised (block_enc_finish's raw and cols, m its summary). */
int blockdb_write_parts(struct sqlite3 *db, struct sqlite3_stmt *ins, struct block_zip *z,
			const struct block_meta *m, const void *raw, const void *cols,
			int64_t first_id, char *err, size_t errsz);

/* A block compressed for its row: its summary and its two zstd frames (borrowed). */
struct blockdb_packed {
	struct block_meta m;
	const void *zr, *zc; /* the raw lines' frame, the columns' frame */
	size_t nr, nc;	     /* their sizes */
};

/* Finishes the block in e and compresses it with z into *out, whose frames stay in z until it
 * packs again: the part of blockdb_write that needs no connection, so another thread with a
 * block_zip of its own can do it. Returns 0, or -1 with a message in err. */
int blockdb_pack(struct block_zip *z, struct block_enc *e, struct blockdb_packed *out, char *err,
		 size_t errsz);

/* Steps ins (BLOCKDB_INSERT_SQL) with the packed block pk as lines first_id …: the rest of
 * blockdb_write. Returns 0, or -1 with SQLite's message in err. */
int blockdb_insert(struct sqlite3 *db, struct sqlite3_stmt *ins, const struct blockdb_packed *pk,
		   int64_t first_id, char *err, size_t errsz);

/* One block row read back: its summary and its compressed frames (borrowed from the
 * statement: valid until it steps or resets). */
struct blockdb_row {
	int64_t first_id;
	struct block_meta m;
	int format;
	const void *raw, *cols; /* zstd frames */
	size_t raw_z, cols_z;
};

/* The columns blockdb_fill reads, in this order, for a SELECT of its own. */
#define BLOCKDB_COLS                                                                               \
	"first_id, n, recv_min, recv_max, ts_min, ts_max, raw_len, cols_len, format, raw, cols"
/* Fills r from the current row of a statement that selects BLOCKDB_COLS first. Returns 0, or
 * -1 when the row does not describe a block this halog reads (message in err). */
int blockdb_fill(struct sqlite3_stmt *s, struct blockdb_row *r, char *err, size_t errsz);

/* The summary columns and the frames' sizes alone, for blockdb_fill_meta: a reader that loads
 * the frames it needs itself (blockdb_read_frame), into buffers it keeps. */
#define BLOCKDB_META_COLS                                                                          \
	"first_id, n, recv_min, recv_max, ts_min, ts_max, raw_len, cols_len, format,"              \
	" length(raw), length(cols)"
/* Fills r from a row of BLOCKDB_META_COLS: r->raw and r->cols NULL, their sizes set. */
int blockdb_fill_meta(struct sqlite3_stmt *s, struct blockdb_row *r, char *err, size_t errsz);

/* Kept buffers and blob handles to read frames with (zero it first). */
struct sqlite3_blob;
struct blockdb_frames {
	struct sqlite3_blob *bh[2]; /* the raw and the cols column */
	void *buf[2];
	size_t cap[2];
};
/* Reads the raw frame (cols 0) or the columns frame (cols 1) of block first_id, len bytes, into
 * fr->buf[cols] (valid until the next read of that frame): straight from the file into a buffer
 * that is kept, so a scan of many blocks neither copies a frame twice nor touches new memory.
 * Reads in the transaction of db's other statements. Returns 0, or -1 with a message in err. */
int blockdb_read_frame(struct sqlite3 *db, struct blockdb_frames *fr, int cols, int64_t first_id,
		       size_t len, char *err, size_t errsz);
void blockdb_frames_release(struct blockdb_frames *fr);

/* Decompresses the block of r with z and opens d on it: the raw lines only when with_raw.
 * Returns 0, or -1 with a message in err. */
int blockdb_open(const struct blockdb_row *r, struct block_zip *z, struct block_dec *d,
		 int with_raw, char *err, size_t errsz);

#endif
