/* The block codec: a run of consecutive stored lines as two byte strings, the raw lines (LF
 * after each) and the parsed fields in columns, each compressed with zstd. A block is
 * self-contained (its own dictionary of names), so it can be read, moved or dropped alone.
 * No SQLite and no I/O here; docs/storage.md describes the format and why it is so.
 *
 * The column format (before compression):
 *   u8 BLOCK_FORMAT, varint nlines, varint nstreams, nstreams x (varint id, varint bytes),
 *   then the streams' bytes in that order. Streams are identified by number (append-only:
 *   a reader skips ids it does not know); each holds one value per line that has it.
 */
#ifndef STORE_BLOCK_H
#define STORE_BLOCK_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

#define BLOCK_FORMAT 1
#define BLOCK_MAX_LINES 4096	 /* lines of a block at most */
#define BLOCK_MAX_RAW (1u << 20) /* raw bytes of a block at most (a longer line is alone) */
#define BLOCK_ZSTD_LEVEL 1	 /* measured in docs/storage.md */

#define BLOCK_LINE_TRUNCATED 0x1 /* the reader cut the line at its cap (STORE_MSG_TRUNCATED) */
#define BLOCK_LINE_NO_LF 0x2	 /* raw holds no LF: block_enc_add does not look (not stored) */

/* What the store keeps of one line besides its parse result. */
struct block_line {
	const char *raw; /* exact bytes (any byte, LF included); not NUL-terminated */
	size_t len;
	int64_t recv_ms;    /* receive time, unix ms */
	int64_t ts_ms;	    /* the line's time as the store chose it (body, header, or receive) */
	const char *source; /* NUL-terminated, or NULL */
	unsigned flags;	    /* BLOCK_LINE_* */
};

/* The summary of a block, kept beside it (the store indexes these). */
struct block_meta {
	int64_t n;		    /* lines */
	int64_t recv_min, recv_max; /* receive times */
	int64_t ts_min, ts_max;	    /* line times */
	int64_t raw_len;	    /* bytes of the raw lines, an LF after each */
	int64_t cols_len;	    /* bytes of the columns before compression */
};

/* ---- writing ---- */
struct block_enc;

/* A new, empty encoder (caller frees with block_enc_free), or NULL without memory. */
struct block_enc *block_enc_new(void);
/* The same, its raw lines kept in the cap bytes at raw (cap >= BLOCK_MAX_RAW), which stay the
 * caller's: block_enc_free leaves them, and a line that does not fit moves the lines to memory
 * of the encoder's own. For a caller that places them, as in huge pages. */
struct block_enc *block_enc_new_raw(unsigned char *raw, size_t cap);
void block_enc_free(struct block_enc *e);
/* Empties e for the next block, keeping its buffers. */
void block_enc_reset(struct block_enc *e);
/* Whether a line of len raw bytes still fits (an empty block takes any line). */
int block_enc_fits(const struct block_enc *e, size_t len);
/* Lines added since the last reset. */
size_t block_enc_count(const struct block_enc *e);
/* Appends one line and its parse result. Strings of rec that lie inside ln->raw are kept as
 * positions in it; others are copied into the block's dictionary. Nothing is borrowed after
 * the call. Returns 0, or -1 when out of memory (e is then unusable until reset). */
int block_enc_add(struct block_enc *e, const struct block_line *ln, const struct logrec *rec);
/* The block so far, serialised: *raw (meta->raw_len bytes) and *cols (meta->cols_len bytes)
 * point into e and stay valid until the next add or reset. Lines may still be added after it
 * (a store writes a block that is not full yet, then again once it has grown). Returns 0 or
 * -1 (no memory). */
int block_enc_finish(struct block_enc *e, struct block_meta *meta, const void **raw,
		     const void **cols);

/* ---- compression (zstd) ---- */
struct block_zip;
struct block_zip *block_zip_new(void);
void block_zip_free(struct block_zip *z);
/* Compresses len bytes at p; *out points into z until its next pack with the same slot (0 or
 * 1: the raw lines and the columns of one block). Returns the compressed size, or 0 on
 * failure. */
size_t block_zip_pack(struct block_zip *z, int slot, const void *p, size_t len, const void **out);
/* Decompresses zlen bytes into exactly len bytes; *out points into z until its next unpack
 * with the same slot (0 or 1: two buffers, for the raw lines and the columns of one block).
 * Returns 0, or -1 when the data is not len bytes of zstd (message in err). */
int block_zip_unpack(struct block_zip *z, int slot, const void *zp, size_t zlen, size_t len,
		     const void **out, char *err, size_t errsz);

/* ---- reading ---- */
/* One decoded line. Slices point into the decoder's buffers: valid until the next
 * block_dec_open or block_dec_release. */
struct block_rec {
	size_t index;	   /* 0-based position in the block */
	struct lr_str raw; /* the exact bytes stored */
	int64_t recv_ms, ts_ms;
	struct lr_str source; /* absent when none */
	unsigned flags;	      /* BLOCK_LINE_* */
	struct logrec rec;    /* every parsed field; reason NUL-terminated or NULL */
};

struct block_dec {
	/* private */
	const unsigned char *raw, *raw_end, *rawp; /* decoded raw lines and the next one */
	const unsigned char *s[128], *se[128];	   /* stream cursors and ends, by id (BS_MAX) */
	struct lr_str *dict;			   /* dictionary entries (NUL-terminated) */
	size_t ndict, adict;
	char *dictbuf;
	size_t dictcap;
	size_t n, next;	  /* lines, and the index of the next one */
	int64_t recv, ts; /* of the previous line */
	size_t lf_next;	  /* index of the next line holding LFs, or SIZE_MAX */
	int have_raw;
	uint64_t fields; /* the fields decoded (block_dec_only); all by default */
};

/* Reads the columns (cols, cols_len bytes, uncompressed) and, when raw is not NULL, the raw
 * lines (raw_len bytes) of one block. Both buffers are borrowed and must outlive the reading.
 * Without raw, block_dec_next leaves raw and every string that is a slice of it absent.
 * Returns 0, or -1 with a message in err when the columns are malformed. */
int block_dec_open(struct block_dec *d, const void *cols, size_t cols_len, const void *raw,
		   size_t raw_len, char *err, size_t errsz);
/* Decodes only the fields of struct logrec at the byte offsets offs[0..n) (offsetof(struct
 * logrec, …)) and the source when source is set; the others stay absent. The kind, parse
 * status, flags, framing, times and raw line always come back. A reader that filters on a few
 * fields skips the cost of the rest. Call after block_dec_open. */
void block_dec_only(struct block_dec *d, const size_t *offs, size_t n, int source);
/* The next line into out. Returns 1, 0 at the end, or -1 (malformed: message in err). */
int block_dec_next(struct block_dec *d, struct block_rec *out, char *err, size_t errsz);
/* Whether no line of the block holds an LF: its raw lines are then exactly LF-terminated
 * lines, and a scan of the raw bytes may split them at LFs. */
int block_dec_plain(const struct block_dec *d);
/* The decoded raw lines (NULL when opened without them) and their length. */
const char *block_dec_raw(const struct block_dec *d, size_t *len);
/* Frees what d holds (it can be opened again). */
void block_dec_release(struct block_dec *d);

#endif
