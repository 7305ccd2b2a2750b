/* The blocks table: rows in and out of the block codec (see blockdb.h). */
#include "store/blockdb.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compresses a serialised block's two parts with z (the frames stay in z until it packs
 * again). Returns 0, or -1 with a message in err. */
static int pack_parts(struct block_zip *z, const struct block_meta *m, const void *raw,
		      const void *cols, struct blockdb_packed *out, char *err, size_t errsz)
{
	out->m = *m;
	out->nr = block_zip_pack(z, 0, raw, (size_t)m->raw_len, &out->zr);
	out->nc = block_zip_pack(z, 1, cols, (size_t)m->cols_len, &out->zc);
	if (!out->nr || !out->nc || out->nr > INT32_MAX || out->nc > INT32_MAX) {
		snprintf(err, errsz, "cannot compress a block");
		return -1;
	}
	return 0;
}

int blockdb_pack(struct block_zip *z, struct block_enc *e, struct blockdb_packed *out, char *err,
		 size_t errsz)
{
	struct block_meta m;
	const void *raw, *cols;

	if (block_enc_finish(e, &m, &raw, &cols)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return pack_parts(z, &m, raw, cols, out, err, errsz);
}

int blockdb_write(sqlite3 *db, sqlite3_stmt *ins, struct block_zip *z, struct block_enc *e,
		  int64_t first_id, char *err, size_t errsz)
{
	struct blockdb_packed pk;

	if (blockdb_pack(z, e, &pk, err, errsz))
		return -1;
	return blockdb_insert(db, ins, &pk, first_id, err, errsz);
}

int blockdb_write_parts(sqlite3 *db, sqlite3_stmt *ins, struct block_zip *z,
			const struct block_meta *mp, const void *raw, const void *cols,
			int64_t first_id, char *err, size_t errsz)
{
	struct blockdb_packed pk;

	if (pack_parts(z, mp, raw, cols, &pk, err, errsz))
		return -1;
	return blockdb_insert(db, ins, &pk, first_id, err, errsz);
}

int blockdb_insert(sqlite3 *db, sqlite3_stmt *ins, const struct blockdb_packed *pk,
		   int64_t first_id, char *err, size_t errsz)
{
	const struct block_meta m = pk->m;

	sqlite3_bind_int64(ins, 1, first_id);
	sqlite3_bind_int64(ins, 2, m.n);
	sqlite3_bind_int64(ins, 3, m.recv_min);
	sqlite3_bind_int64(ins, 4, m.recv_max);
	sqlite3_bind_int64(ins, 5, m.ts_min);
	sqlite3_bind_int64(ins, 6, m.ts_max);
	sqlite3_bind_int64(ins, 7, m.raw_len);
	sqlite3_bind_int64(ins, 8, m.cols_len);
	sqlite3_bind_int(ins, 9, BLOCK_FORMAT);
	sqlite3_bind_blob(ins, 10, pk->zr, (int)pk->nr, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 11, pk->zc, (int)pk->nc, SQLITE_STATIC);
	int rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE) {
		snprintf(err, errsz, "cannot store a block: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* The summary columns 0-8 of a row, checked with the frames' sizes r->raw_z and r->cols_z. */
static int fill_summary(sqlite3_stmt *s, struct blockdb_row *r, char *err, size_t errsz)
{
	r->first_id = sqlite3_column_int64(s, 0);
	r->m.n = sqlite3_column_int64(s, 1);
	r->m.recv_min = sqlite3_column_int64(s, 2);
	r->m.recv_max = sqlite3_column_int64(s, 3);
	r->m.ts_min = sqlite3_column_int64(s, 4);
	r->m.ts_max = sqlite3_column_int64(s, 5);
	r->m.raw_len = sqlite3_column_int64(s, 6);
	r->m.cols_len = sqlite3_column_int64(s, 7);
	r->format = sqlite3_column_int(s, 8);
	if (r->format != BLOCK_FORMAT) {
		snprintf(err, errsz, "block %lld has format %d, this halog reads %d",
			 (long long)r->first_id, r->format, BLOCK_FORMAT);
		return -1;
	}
	if (r->m.n <= 0 || r->m.raw_len < r->m.n || r->m.cols_len <= 0 || !r->raw_z || !r->cols_z ||
	    r->m.raw_len > ((int64_t)1 << 31) || r->m.cols_len > ((int64_t)1 << 31)) {
		snprintf(err, errsz, "corrupt block %lld", (long long)r->first_id);
		return -1;
	}
	return 0;
}

int blockdb_fill(sqlite3_stmt *s, struct blockdb_row *r, char *err, size_t errsz)
{
	r->raw = sqlite3_column_blob(s, 9);
	r->raw_z = r->raw ? (size_t)sqlite3_column_bytes(s, 9) : 0;
	r->cols = sqlite3_column_blob(s, 10);
	r->cols_z = r->cols ? (size_t)sqlite3_column_bytes(s, 10) : 0;
	return fill_summary(s, r, err, errsz);
}

int blockdb_fill_meta(sqlite3_stmt *s, struct blockdb_row *r, char *err, size_t errsz)
{
	r->raw = r->cols = NULL;
	r->raw_z = (size_t)sqlite3_column_int64(s, 9);
	r->cols_z = (size_t)sqlite3_column_int64(s, 10);
	return fill_summary(s, r, err, errsz);
}

int blockdb_read_frame(sqlite3 *db, struct blockdb_frames *fr, int cols, int64_t first_id,
		       size_t len, char *err, size_t errsz)
{
	sqlite3_blob **bh = &fr->bh[!!cols];
	void **buf = &fr->buf[!!cols];
	size_t *cap = &fr->cap[!!cols];
	const char *col = cols ? "cols" : "raw";
	int rc = *bh ? sqlite3_blob_reopen(*bh, first_id)
		     : sqlite3_blob_open(db, "main", "blocks", col, first_id, 0, bh);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "cannot read block %lld: %s", (long long)first_id,
			 sqlite3_errmsg(db));
		sqlite3_blob_close(*bh);
		*bh = NULL;
		return -1;
	}
	if ((size_t)sqlite3_blob_bytes(*bh) != len || len > INT32_MAX) {
		snprintf(err, errsz, "corrupt block %lld", (long long)first_id);
		return -1;
	}
	if (len > *cap) {
		void *p = realloc(*buf, len);
		if (!p) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		*buf = p;
		*cap = len;
	}
	if (sqlite3_blob_read(*bh, *buf, (int)len, 0) != SQLITE_OK) {
		snprintf(err, errsz, "cannot read block %lld: %s", (long long)first_id,
			 sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

void blockdb_frames_release(struct blockdb_frames *fr)
{
	for (int i = 0; i < 2; i++) {
		sqlite3_blob_close(fr->bh[i]);
		free(fr->buf[i]);
	}
	memset(fr, 0, sizeof(*fr));
}

int blockdb_open(const struct blockdb_row *r, struct block_zip *z, struct block_dec *d,
		 int with_raw, char *err, size_t errsz)
{
	const void *raw = NULL, *cols;

	if (block_zip_unpack(z, 1, r->cols, r->cols_z, (size_t)r->m.cols_len, &cols, err, errsz))
		return -1;
	if (with_raw &&
	    block_zip_unpack(z, 0, r->raw, r->raw_z, (size_t)r->m.raw_len, &raw, err, errsz))
		return -1;
	if (block_dec_open(d, cols, (size_t)r->m.cols_len, raw, (size_t)r->m.raw_len, err, errsz))
		return -1;
	if ((int64_t)d->n != r->m.n) {
		snprintf(err, errsz, "corrupt block %lld: %zu lines, %lld expected",
			 (long long)r->first_id, d->n, (long long)r->m.n);
		return -1;
	}
	return 0;
}
