/* The store's writer thread (store_int.h): it owns the connection while it runs, writing the
 * full blocks store_add hands it and the batches store_commit hands it (names, rollups, event
 * rows, what ingest took, then COMMIT), and applying retention after commits. On two cores the
 * caller's parsing and folding overlap compression and SQLite. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "clock.h"
#include "store/blockdb.h"
#include "store/store_int.h"

/* Prune steps after commits: at most this many blocks a step, and a look at the limits this
 * often when the store is within them (every commit while it is beyond). */
#define STORE_PRUNE_BLOCKS 256
#define STORE_PRUNE_EVERY_MS 1000
/* Checkpoints run on a thread of their own with a second connection, so copying the WAL into
 * the database (and its fsyncs) overlaps the next batch. A commit that leaves STORE_CKPT_FRAMES
 * frames in the WAL starts one; at STORE_CKPT_HARD the commit waits for it, so the next
 * transaction can restart the WAL from its beginning and the file stays bounded. */
#define STORE_CKPT_FRAMES 256 /* 16 MiB of 64 KiB pages */
#define STORE_CKPT_HARD 2048  /* 128 MiB */

static int retention_read(struct store *st, struct store_retention *r, unsigned *set);

/* ---- names: the caller's local ids to the names table's ---- */

/* The names table's id of a local id (0 for 0; known: the batch that used it first was
 * written before). */
static int32_t db_id(const struct store *st, int32_t local)
{
	return local > 0 && (size_t)local < st->nlocal_db ? st->local_db[local] : 0;
}

/* Stores the names the batch met first and learns their ids. Returns 0 or -1. */
static int intern_names(struct store *st, const struct batch *b)
{
	for (size_t i = 0; i < b->nnames; i++) {
		const struct new_name *nn = &b->names[i];
		if ((size_t)nn->local >= st->nlocal_db) {
			size_t na = st->nlocal_db ? st->nlocal_db : 64;
			while (na <= (size_t)nn->local)
				na *= 2;
			int32_t *m = realloc(st->local_db, na * sizeof(*m));
			if (!m) {
				store_set_err(st, "out of memory");
				return -1;
			}
			memset(m + st->nlocal_db, 0, (na - st->nlocal_db) * sizeof(*m));
			st->local_db = m;
			st->nlocal_db = na;
		}
		sqlite3_stmt *ins = store_stmt(st, S_NAME_INS), *sel = store_stmt(st, S_NAME_SEL);
		if (!ins || !sel)
			return -1;
		sqlite3_bind_text(ins, 1, nn->s, (int)nn->len, SQLITE_STATIC);
		if (store_run(st, ins, "cannot store a name"))
			return -1;
		sqlite3_bind_text(sel, 1, nn->s, (int)nn->len, SQLITE_STATIC);
		int rc = sqlite3_step(sel);
		int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(sel, 0) : -1;
		sqlite3_reset(sel);
		if (id <= 0 || id > INT32_MAX)
			return store_db_fail(st, "cannot read a name id");
		st->local_db[nn->local] = (int32_t)id;
	}
	return 0;
}

/* ---- rows ---- */

static void bind_null(sqlite3_stmt *s, uint64_t *nulls, int i)
{
	uint64_t bit = (uint64_t)1 << i;
	if (!(*nulls & bit)) {
		sqlite3_bind_null(s, i);
		*nulls |= bit;
	}
}

static void bind_text(sqlite3_stmt *s, uint64_t *nulls, int i, const char *p, size_t len)
{
	sqlite3_bind_text(s, i, p, (int)len, SQLITE_STATIC);
	*nulls &= ~((uint64_t)1 << i);
}

static void bind_int(sqlite3_stmt *s, uint64_t *nulls, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v);
	*nulls &= ~((uint64_t)1 << i);
}

static void bind_str(sqlite3_stmt *s, uint64_t *nulls, int i, struct lr_str v)
{
	if (v.p)
		bind_text(s, nulls, i, v.p, v.len);
	else
		bind_null(s, nulls, i);
}

static void bind_i64(sqlite3_stmt *s, uint64_t *nulls, int i, int64_t v)
{
	if (v != LR_NONE)
		bind_int(s, nulls, i, v);
	else
		bind_null(s, nulls, i);
}

static void bind_timer(sqlite3_stmt *s, uint64_t *nulls, int i, int32_t v)
{
	if (v != LR_TIMER_NONE)
		bind_int(s, nulls, i, v);
	else
		bind_null(s, nulls, i);
}

static int insert_event(struct store *st, int64_t line_id, int64_t ts, const struct logrec *r)
{
	sqlite3_stmt *s = store_stmt(st, S_EVENT);
	if (!s)
		return -1;
	uint64_t *nm = &st->nulls[S_EVENT];
	int i = 1;
	bind_int(s, nm, i++, line_id);
	bind_int(s, nm, i++, ts);
	bind_int(s, nm, i++, (int)r->kind);
	if (r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR) {
		bind_str(s, nm, i++, r->frontend);
		bind_str(s, nm, i++, r->bind);
		bind_null(s, nm, i++); /* state */
		bind_null(s, nm, i++); /* reason */
		bind_str(s, nm, i++, r->message);
	} else {
		bind_str(s, nm, i++, r->ev_proxy.p ? r->ev_proxy : r->backend);
		bind_str(s, nm, i++, r->ev_server);
		bind_str(s, nm, i++, r->ev_state);
		bind_str(s, nm, i++, r->ev_reason);
		bind_str(s, nm, i++, r->ev_info.p ? r->ev_info : r->message);
	}
	bind_timer(s, nm, i++, r->ev_check_ms);
	bind_int(s, nm, i++, r->ev_backup);
	bind_i64(s, nm, i++, r->ev_active_left);
	bind_i64(s, nm, i++, r->ev_backup_left);
	bind_str(s, nm, i++, r->client_ip);
	bind_i64(s, nm, i++, r->client_port);
	bind_str(s, nm, i++, r->dst_ip);
	bind_i64(s, nm, i++, r->dst_port);
	bind_str(s, nm, i++, r->mode);
	return store_run(st, s, "cannot store an event");
}

static void bind_key(sqlite3_stmt *s, const struct rollup_key *k)
{
	sqlite3_bind_int64(s, 1, k->bucket);
	sqlite3_bind_int(s, 2, k->fe);
	sqlite3_bind_int(s, 3, k->be);
	sqlite3_bind_int(s, 4, k->srv);
	sqlite3_bind_int(s, 5, k->kind);
}

static int flush_agg(struct store *st, const struct batch_agg *ba)
{
	const struct rollup_agg *a0 = &ba->a;
	struct rollup_agg tmp = *a0; /* the key with the names table's ids */
	const struct rollup_agg *a = &tmp;
	tmp.key.fe = db_id(st, a0->key.fe);
	tmp.key.be = db_id(st, a0->key.be);
	tmp.key.srv = db_id(st, a0->key.srv);
	sqlite3_stmt *s = store_stmt(st, S_ROLLUP);
	if (!s)
		return -1;
	bind_key(s, &a->key);
	int i = 6;
	sqlite3_bind_int64(s, i++, a->requests);
	for (int c = 0; c < RC_N; c++)
		sqlite3_bind_int64(s, i++, a->cls[c]);
	sqlite3_bind_int64(s, i++, a->errors);
	sqlite3_bind_int64(s, i++, a->retries);
	sqlite3_bind_int64(s, i++, a->redispatches);
	sqlite3_bind_int64(s, i++, a->bytes_read);
	sqlite3_bind_int64(s, i++, a->bytes_up);
	sqlite3_bind_int64(s, i++, a->logasap);
	if (store_run(st, s, "cannot update rollup"))
		return -1;
	if (a->ncodes && !(s = store_stmt(st, S_CODE)))
		return -1;
	for (size_t j = 0; j < a->ncodes; j++) {
		bind_key(s, &a->key);
		sqlite3_bind_int64(s, 6, a->codes[j].key);
		sqlite3_bind_int64(s, 7, a->codes[j].n);
		if (store_run(st, s, "cannot update rollup_code"))
			return -1;
	}
	if (a->nterms && !(s = store_stmt(st, S_TERM)))
		return -1;
	for (size_t j = 0; j < a->nterms; j++) {
		char t[2] = {(char)(a->terms[j].key >> 8), (char)(a->terms[j].key & 0xff)};
		bind_key(s, &a->key);
		sqlite3_bind_text(s, 6, t, 2, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 7, a->terms[j].n);
		if (store_run(st, s, "cannot update rollup_term"))
			return -1;
	}
	for (int t = 0; t < RT_N; t++) {
		if (!a->tn[t])
			continue;
		if (!(s = store_stmt(st, S_TIMER)))
			return -1;
		strbuf_reset(&st->wscratch);
		if (hist_encode_chunks(ba->h[t], &st->wscratch)) {
			store_set_err(st, "out of memory");
			return -1;
		}
		bind_key(s, &a->key);
		sqlite3_bind_int(s, 6, t);
		sqlite3_bind_int64(s, 7, a->tn[t]);
		sqlite3_bind_int64(s, 8, a->tsum[t]);
		sqlite3_bind_int64(s, 9, a->tmax[t]);
		sqlite3_bind_blob(s, 10, st->wscratch.buf, (int)st->wscratch.len, SQLITE_STATIC);
		if (store_run(st, s, "cannot update rollup_timer"))
			return -1;
	}
	return 0;
}

static int flush(struct store *st, struct batch *b)
{
	sqlite3_stmt *s;
	for (size_t i = 0; i < b->aggs.cap; i++)
		if (b->aggs.tab[i].key && flush_agg(st, b->aggs.tab[i].val))
			return -1;
	for (size_t i = 0; i < b->errpaths.cap; i++) {
		const struct hmap_ent *e = &b->errpaths.tab[i];
		if (!e->key)
			continue;
		struct errpath_key k;
		memcpy(&k, e->key, sizeof(k));
		k.fe = db_id(st, k.fe);
		k.be = db_id(st, k.be);
		k.srv = db_id(st, k.srv);
		if (!(s = store_stmt(st, S_ERRPATH)))
			return -1;
		sqlite3_bind_int64(s, 1, k.bucket);
		sqlite3_bind_int(s, 2, k.fe);
		sqlite3_bind_int(s, 3, k.be);
		sqlite3_bind_int(s, 4, k.srv);
		sqlite3_bind_int(s, 5, k.status);
		sqlite3_bind_text(s, 6, e->key + sizeof(k), (int)(e->klen - sizeof(k)),
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, *(int64_t *)e->val);
		if (store_run(st, s, "cannot update rollup_errpath"))
			return -1;
		/* all time, per backend: what a report without a window reads */
		if (!(s = store_stmt(st, S_ERRPATH_ALL)))
			return -1;
		sqlite3_bind_int(s, 1, k.be);
		sqlite3_bind_int(s, 2, k.status);
		sqlite3_bind_text(s, 3, e->key + sizeof(k), (int)(e->klen - sizeof(k)),
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, *(int64_t *)e->val);
		if (store_run(st, s, "cannot update rollup_errpath_all"))
			return -1;
	}
	for (size_t i = 0; i < b->lineaggs.cap; i++) {
		const struct hmap_ent *e = &b->lineaggs.tab[i];
		if (!e->key)
			continue;
		struct lines_key k;
		const struct lines_val *v = e->val;
		memcpy(&k, e->key, sizeof(k));
		if (!(s = store_stmt(st, S_LINES)))
			return -1;
		sqlite3_bind_int64(s, 1, k.bucket);
		sqlite3_bind_int(s, 2, k.kind);
		sqlite3_bind_int(s, 3, k.status);
		sqlite3_bind_int64(s, 4, v->n);
		sqlite3_bind_int64(s, 5, v->truncated);
		sqlite3_bind_int64(s, 6, v->min_ts);
		sqlite3_bind_int64(s, 7, v->max_ts);
		if (store_run(st, s, "cannot update rollup_lines"))
			return -1;
	}
	for (size_t i = 0; i < b->counters.cap; i++) {
		const struct hmap_ent *e = &b->counters.tab[i];
		if (!e->key)
			continue;
		if (!(s = store_stmt(st, S_COUNTER)))
			return -1;
		sqlite3_bind_text(s, 1, e->key, (int)e->klen, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, *(int64_t *)e->val);
		if (store_run(st, s, "cannot update counters"))
			return -1;
	}
	return 0;
}

static void *ckpt_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->ckpt_done == st->ckpt_req && !st->ckpt_stop)
			pthread_cond_wait(&st->ckpt, &st->mu);
		if (st->ckpt_done == st->ckpt_req)
			break;
		uint64_t seq = st->ckpt_req;
		pthread_mutex_unlock(&st->mu);
		/* PASSIVE: never waits for readers or the writer; what it cannot copy now the next
		 * one will. Errors (busy, I/O) leave the WAL as it is, which stays correct. */
		sqlite3_wal_checkpoint_v2(st->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&st->mu);
		st->ckpt_done = seq;
		pthread_cond_broadcast(&st->ckpt_end);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* The main connection's WAL hook, run after each commit by the committing thread. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;
	(void)db;
	(void)name;
	if (frames < STORE_CKPT_FRAMES)
		return SQLITE_OK;
	pthread_mutex_lock(&st->mu);
	uint64_t seq = ++st->ckpt_req;
	pthread_cond_signal(&st->ckpt);
	while (frames >= STORE_CKPT_HARD && st->ckpt_done < seq)
		pthread_cond_wait(&st->ckpt_end, &st->mu);
	pthread_mutex_unlock(&st->mu);
	return SQLITE_OK;
}

/* Starts the checkpointer; without it SQLite's own autocheckpoint stays on. */
static void start_ckpt(struct store *st)
{
	if (sqlite3_open_v2(st->path, &st->cdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto fail;
	/* a connection knows it is in WAL mode only once it has read the file */
	if (sqlite3_exec(st->cdb, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (pthread_cond_init(&st->ckpt, NULL))
		goto fail;
	if (clock_cond_init(&st->ckpt_end))
		goto fail_cond;
	if (pthread_create(&st->cthr, NULL, ckpt_main, st))
		goto fail_end;
	st->ckpt_started = 1;
	sqlite3_wal_hook(st->db, wal_hook, st);
	return;
fail_end:
	pthread_cond_destroy(&st->ckpt_end);
fail_cond:
	pthread_cond_destroy(&st->ckpt);
fail:
	sqlite3_close(st->cdb);
	st->cdb = NULL;
}

/* ---- the block writer ---- */

static int flush_files(struct store *st, const struct batch *b)
{
	for (size_t i = 0; i < b->nfiles; i++) {
		const struct file_mark *fm = &b->files[i];
		sqlite3_stmt *s = store_stmt(st, S_FILE_SET);
		if (!s)
			return -1;
		sqlite3_bind_blob(s, 1, fm->ident, (int)fm->identlen, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, fm->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, fm->f.bytes);
		sqlite3_bind_int64(s, 4, fm->f.lines);
		sqlite3_bind_int64(s, 5, fm->f.at_ms);
		if (store_run(st, s, "cannot record what was ingested"))
			return -1;
	}
	return 0;
}

/* At the start of a transaction: when another writer appended lines after this writer's last
 * commit, this writer's lines go after them. Its next block (the open block, whose first
 * w_open_k lines a committed row holds at their old ids) then moves whole to the file's end:
 * that row is deleted, its events renumbered, and every id from then on shifted. Without it
 * two writers (halog listen and halog ingest) numbered their lines from the same end, and the
 * later block rows replaced the earlier ones. Returns 0 or -1. */
static int follow_end(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, S_END);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	int64_t end = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 1;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(st, "cannot read the blocks");
	if (end <= st->w_end)
		return 0;
	int64_t shift = end - st->w_open_local;
	if (st->w_open_k) {
		int64_t old = st->w_open_local + st->w_shift;
		sqlite3_stmt *d = NULL, *u = NULL;
		int ok = sqlite3_prepare_v2(st->db, "DELETE FROM blocks WHERE first_id = ?1", -1,
					    &d, NULL) == SQLITE_OK &&
			 sqlite3_prepare_v2(st->db,
					    "UPDATE events SET line_id = line_id + ?3"
					    " WHERE line_id >= ?1 AND line_id < ?2",
					    -1, &u, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_int64(d, 1, old);
			sqlite3_bind_int64(u, 1, old);
			sqlite3_bind_int64(u, 2, old + st->w_open_k);
			sqlite3_bind_int64(u, 3, shift - st->w_shift);
			ok = sqlite3_step(d) == SQLITE_DONE && sqlite3_step(u) == SQLITE_DONE;
		}
		if (!ok)
			store_db_fail(st,
				      "cannot move the open block after another writer's lines");
		sqlite3_finalize(d);
		sqlite3_finalize(u);
		if (!ok)
			return -1;
	}
	st->w_shift = shift;
	return 0;
}

static int begin(struct store *st)
{
	if (st->w_in_tx)
		return 0;
	/* IMMEDIATE: take the write lock now, waiting (busy timeout) for another writer, rather
	 * than failing later when a read snapshot would have to be upgraded; halog's writers first
	 * wait for their turn (store_turn_take) */
	if (store_turn_take(st))
		return -1;
	if (store_exec(st, "BEGIN IMMEDIATE")) {
		store_turn_give(st);
		return -1;
	}
	st->w_in_tx = 1;
	return follow_end(st); /* on failure, the caller rolls back */
}

/* After a commit: a prune step now and then, or at every commit while the store is beyond its
 * limits. A failure (a full disk …) is not the commit's: a later commit tries again. */
static int used_bytes(struct store *st, int64_t *used);

static void maybe_prune(struct store *st)
{
	int64_t now = clock_mono_ms(), used;
	int due = st->prune_more || now >= st->prune_next_ms;
	/* the size is two header reads: looked at after every commit */
	if (!due && st->prune_max_size > 0 && !used_bytes(st, &used) && used > st->prune_max_size)
		due = 1;
	if (due) {
		char msg[sizeof(st->err)];
		int rc = writer_prune(st, STORE_PRUNE_BLOCKS, NULL, msg, sizeof(msg));
		st->prune_more = rc > 0;
		st->prune_next_ms = now + STORE_PRUNE_EVERY_MS;
	}
}

int writer_write_batch(struct store *st, struct batch *b, char *err, size_t errsz)
{
	if (begin(st))
		goto fail;
	if (b->commit && b->open_n) {
		/* the open block as it was at the commit: a row the next commit or the full block
		 * replaces */
		sqlite3_stmt *s = store_stmt(st, S_BLOCK);
		if (!s || blockdb_write_parts(st->db, s, st->wzip, &b->m, b->raw.p, b->cols.p,
					      b->open_first + st->w_shift, store_errbuf(st),
					      sizeof(st->err)))
			goto fail;
	}
	if (intern_names(st, b) || flush(st, b) || flush_files(st, b))
		goto fail;
	for (size_t i = 0; i < b->nev; i++)
		if (insert_event(st, b->ev[i].id + st->w_shift, b->ev[i].ts, &b->ev[i].rec))
			goto fail;
	if (b->commit) {
		if (store_exec(st, "COMMIT"))
			goto fail;
		st->w_in_tx = 0;
		store_turn_give(st);
		st->w_open_local = b->open_n ? b->open_first : b->next_id;
		st->w_open_k = b->open_n;
		st->w_shift_c = st->w_shift;
		st->w_end = b->next_id + st->w_shift;
		st->protect_id = st->w_open_local + st->w_shift;
		maybe_prune(st);
	}
	return 0;
fail:
	if (err != store_errbuf(st))
		snprintf(err, errsz, "%s", store_errbuf(st));
	return -1;
}

/* ---- the thread ---- */

/* Before the writer of a bulk ingest (helper mode) begins a transaction while a checkpoint
 * runs. SQLite starts the WAL again from its beginning only for a transaction that began after
 * a checkpoint copied every frame; the writer began its next one right after each commit,
 * while the checkpoint that commit started was still copying, so the WAL of a 1M-line ingest
 * never restarted and reached 102 MB, and unlinking it at close took 50-90 ms. So the writer
 * first compresses the queued blocks (work it does anyway), then waits for the checkpoint in
 * 5 ms steps, but never once the caller waits for it or past STORE_CKPT_LET_MS. */
#define STORE_CKPT_LET_MS 100
static int pack_one(struct store *st, struct block_zip **z, int from_tail);
static void before_begin(struct store *st)
{
	pthread_mutex_lock(&st->mu);
	uint64_t want = st->ckpt_req;
	int64_t until = clock_mono_ms() + STORE_CKPT_LET_MS;
	while (st->help && st->ckpt_started && st->ckpt_done < want && !st->failed) {
		if (pack_one(st, &st->wzip, 0))
			continue;
		if (st->c_waiting || clock_mono_ms() >= until)
			break;
		struct timespec ts;
		clock_cond_deadline(&ts, 5);
		pthread_cond_timedwait(&st->ckpt_end, &st->mu, &ts);
	}
	pthread_mutex_unlock(&st->mu);
}

static void *writer_main(void *arg)
{
	struct store *st = arg;
	store_writer_of = st;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while ((!st->qn || st->q[st->qhead].zip == Z_PACKING) && !st->stop) {
			if (st->c_waiting)
				pthread_cond_broadcast(&st->done);
			st->w_waiting = 1;
			pthread_cond_wait(&st->work, &st->mu);
			st->w_waiting = 0;
		}
		if (!st->qn)
			break; /* stop, nothing left */
		if (st->q[st->qhead].kind == JOB_BLOCK && st->q[st->qhead].zip == Z_NONE)
			st->q[st->qhead].zip = Z_WRITER; /* the caller leaves it alone now */
		struct job j = st->q[st->qhead];
		int skip = st->failed;
		st->busy = 1;
		pthread_mutex_unlock(&st->mu);
		int bad = 0, committed = 0;
		int64_t next_id = 0;
		if (j.kind == JOB_BLOCK) {
			if (!skip && !st->w_in_tx)
				before_begin(st);
			bad = !skip &&
			      (begin(st) ||
			       (j.zip == Z_PACKED
					? blockdb_insert(st->db, st->stmt[S_BLOCK], &j.pk,
							 j.first + st->w_shift, st->wmsg,
							 sizeof(st->wmsg))
					: blockdb_write(st->db, st->stmt[S_BLOCK], st->wzip, j.enc,
							j.first + st->w_shift, st->wmsg,
							sizeof(st->wmsg))));
			block_enc_reset(j.enc);
		} else {
			bad = !skip && writer_write_batch(st, j.b, st->wmsg, sizeof(st->wmsg));
			committed = !bad && !skip && j.b->commit;
			next_id = j.b->next_id;
			batch_clear(j.b);
		}
		if (bad) {
			/* the whole transaction goes: nothing of the batch is in the file */
			if (!sqlite3_get_autocommit(st->db))
				sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			st->w_in_tx = 0;
			store_turn_give(st);
		}
		pthread_mutex_lock(&st->mu);
		if (bad) {
			memcpy(st->werr, st->wmsg, sizeof(st->werr));
			st->failed = 1;
		}
		if (j.kind == JOB_BLOCK) {
			st->spare[st->nspare++] = j.enc;
			if (j.zbuf.p)
				st->zspare[st->nzspare++] = j.zbuf;
			st->qblocks--;
		} else {
			st->bspare[st->nbspare++] = j.b;
			st->w_done_seq = j.seq;
			if (committed)
				st->committed_next = next_id;
		}
		st->qhead = (st->qhead + 1) % STORE_QJOBS;
		st->qn--;
		st->busy = 0;
		if (st->c_waiting)
			pthread_cond_broadcast(&st->done);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Compresses a queued full block nobody has taken yet, with z, into a buffer of its own that
 * the writer inserts and frees: the last one (from_tail: the caller, while the writer goes on
 * from the head) or the first one. mu is held, and released while compressing. Returns 1 when
 * it did one, 0 when there was none to take (or helping is off). */
static int pack_one(struct store *st, struct block_zip **z, int from_tail)
{
	struct job *j = NULL;
	if (!st->help || st->failed)
		return 0;
	for (size_t k = 0; k < st->qn && !j; k++) {
		size_t i = from_tail ? st->qn - 1 - k : k;
		struct job *c = &st->q[(st->qhead + i) % STORE_QJOBS];
		if (c->kind == JOB_BLOCK && c->zip == Z_NONE)
			j = c;
	}
	if (!j)
		return 0;
	j->zip = Z_PACKING; /* the ring does not move it: the writer waits for it at the head */
	struct zbuf zb = {NULL, 0};
	if (st->nzspare)
		zb = st->zspare[--st->nzspare];
	pthread_mutex_unlock(&st->mu);
	struct blockdb_packed pk;
	char err[128];
	int ok = 0;
	if (!*z)
		*z = block_zip_new();
	if (*z && !blockdb_pack(*z, j->enc, &pk, err, sizeof(err))) {
		size_t need = pk.nr + pk.nc;
		if (need > zb.cap) {
			/* a quarter more: the next blocks compress to about as much */
			unsigned char *p = realloc(zb.p, need + need / 4);
			if (p) {
				zb.p = p;
				zb.cap = need + need / 4;
			}
		}
		if (need <= zb.cap) {
			memcpy(zb.p, pk.zr, pk.nr);
			memcpy(zb.p + pk.nr, pk.zc, pk.nc);
			pk.zr = zb.p;
			pk.zc = zb.p + pk.nr;
			ok = 1;
		}
	}
	pthread_mutex_lock(&st->mu);
	if (ok) {
		j->pk = pk;
		j->zbuf = zb;
		j->zip = Z_PACKED;
	} else {
		if (zb.p)
			st->zspare[st->nzspare++] = zb;
		j->zip = Z_NONE; /* the writer compresses it in its turn, as without help */
		st->help = 0;
	}
	if (st->w_waiting)
		pthread_cond_signal(&st->work);
	return 1;
}

/* The caller's help: the last queued block the writer has not reached (mu held). */
static int help_pack(struct store *st)
{
	return pack_one(st, &st->czip, 1);
}

/* Waits on done, or compresses a queued block instead (help_pack); mu is held. */
static void wait_done(struct store *st)
{
	if (help_pack(st))
		return;
	st->c_waiting++;
	pthread_cond_wait(&st->done, &st->mu);
	st->c_waiting--;
}

int writer_push(struct store *st, const struct job *j)
{
	pthread_mutex_lock(&st->mu);
	while (!st->failed &&
	       (st->qn == STORE_QJOBS || (j->kind == JOB_BLOCK && st->qblocks == st->qblocks_max)))
		wait_done(st);
	int failed = st->failed;
	if (!failed) {
		st->q[(st->qhead + st->qn) % STORE_QJOBS] = *j;
		st->qn++;
		if (j->kind == JOB_BLOCK)
			st->qblocks++;
		if (st->w_waiting)
			pthread_cond_signal(&st->work);
	}
	pthread_mutex_unlock(&st->mu);
	if (failed) {
		memcpy(st->err, st->werr, sizeof(st->err));
		return -1;
	}
	return 0;
}

int writer_drain(struct store *st)
{
	if (!st->started)
		return 0;
	pthread_mutex_lock(&st->mu);
	while (st->qn)
		wait_done(st);
	int failed = st->failed;
	pthread_mutex_unlock(&st->mu);
	if (failed)
		memcpy(st->err, st->werr, sizeof(st->err));
	return failed ? -1 : 0;
}

int writer_wait(struct store *st, uint64_t seq)
{
	pthread_mutex_lock(&st->mu);
	while (st->w_done_seq < seq && !st->failed)
		wait_done(st);
	int failed = st->failed;
	pthread_mutex_unlock(&st->mu);
	if (failed)
		memcpy(st->err, st->werr, sizeof(st->err));
	return failed ? -1 : 0;
}

void writer_reset(struct store *st)
{
	if (st->started) {
		pthread_mutex_lock(&st->mu);
		st->failed = 1; /* skip what is queued */
		while (st->qn)
			wait_done(st);
		st->failed = 0;
		pthread_mutex_unlock(&st->mu);
	}
	for (int i = 0; i < S_N; i++)
		if (st->stmt[i])
			sqlite3_reset(st->stmt[i]);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->w_in_tx = 0;
	store_turn_give(st);
	/* the rolled-back lines are numbered again from the last commit (store_rollback), in a
	 * block of their own: the committed open row stays */
	st->w_shift = st->w_shift_c;
	st->w_open_local = st->committed_next;
	st->w_open_k = 0;
	st->w_end = st->committed_next + st->w_shift;
	/* names stored by the rolled-back transaction are gone: learn every id again */
	free(st->local_db);
	st->local_db = NULL;
	st->nlocal_db = 0;
}

struct batch *writer_batch(struct store *st)
{
	struct batch *b = NULL;
	if (!st->started) {
		b = calloc(1, sizeof(*b));
		if (!b)
			store_set_err(st, "out of memory");
		return b;
	}
	pthread_mutex_lock(&st->mu);
	while (!st->nbspare)
		wait_done(st);
	b = st->bspare[--st->nbspare];
	pthread_mutex_unlock(&st->mu);
	return b;
}

/* n encoders' raw lines (BLOCK_MAX_RAW each) in one anonymous mapping aligned on and asking
 * for 2 MiB huge pages (transparent huge pages are "madvise" on most systems): filling the
 * 8 MiB of ingest's queue in 4 KiB pages took ~2,000 page faults, several µs each on a virtual
 * machine. Without huge pages it is plain memory. Returns the start (*len bytes), or NULL. */
#define STORE_HUGE (2u << 20)
static unsigned char *raw_map(size_t n, size_t *len)
{
	size_t want = (n * BLOCK_MAX_RAW + STORE_HUGE - 1) / STORE_HUGE * STORE_HUGE;
	size_t all = want + STORE_HUGE;
	unsigned char *p = mmap(NULL, all, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
				0);
	if (p == MAP_FAILED)
		return NULL;
	size_t head = (STORE_HUGE - (uintptr_t)p % STORE_HUGE) % STORE_HUGE;
	if (head)
		munmap(p, head);
	munmap(p + head + want, all - head - want);
	p += head;
#ifdef MADV_HUGEPAGE
	madvise(p, want, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
#endif
	*len = want;
	return p;
}

int writer_start(struct store *st)
{
	if (st->started)
		return 0;
	if (!store_stmt(st, S_BLOCK)) /* prepared here: preparing touches the connection */
		return -1;
	if (!st->qblocks_max)
		st->qblocks_max = STORE_QBLOCKS;
	st->rawmap = raw_map(st->qblocks_max, &st->rawmap_len);
	for (size_t i = 0; i < st->qblocks_max; i++) {
		if (!(st->spare[st->nspare] =
			      st->rawmap ? block_enc_new_raw(st->rawmap + i * BLOCK_MAX_RAW,
							     BLOCK_MAX_RAW)
					 : block_enc_new()))
			goto nomem;
		st->nspare++;
	}
	if (!(st->bspare[0] = calloc(1, sizeof(struct batch))))
		goto nomem;
	st->nbspare = 1;
	if (pthread_mutex_init(&st->mu, NULL))
		goto fail;
	if (pthread_cond_init(&st->work, NULL))
		goto fail_mu;
	if (pthread_cond_init(&st->done, NULL))
		goto fail_work;
	if (pthread_create(&st->thr, NULL, writer_main, st))
		goto fail_done;
	st->started = 1;
	start_ckpt(st);
	return 0;
nomem:
	store_set_err(st, "out of memory");
	return -1;
fail_done:
	pthread_cond_destroy(&st->done);
fail_work:
	pthread_cond_destroy(&st->work);
fail_mu:
	pthread_mutex_destroy(&st->mu);
fail:
	store_set_err(st, "cannot start the store writer thread");
	return -1;
}

/* Sets *flag under mu, wakes the thread waiting on c and waits for it to end. */
static void stop_thread(struct store *st, int *flag, pthread_cond_t *c, pthread_t thr)
{
	pthread_mutex_lock(&st->mu);
	*flag = 1;
	pthread_cond_signal(c);
	pthread_mutex_unlock(&st->mu);
	pthread_join(thr, NULL);
}

void writer_stop(struct store *st)
{
	if (st->started) {
		/* the writer first: its last commits may wait for a checkpoint (wal_hook), so the
		 * checkpointer stops only after it (stopping both at once hung a writer that held
		 * the write turn, and every other writer of the store with it) */
		stop_thread(st, &st->stop, &st->work, st->thr);
		if (st->ckpt_started) {
			stop_thread(st, &st->ckpt_stop, &st->ckpt, st->cthr);
			/* back to SQLite's own checkpoints for what the connection still commits */
			sqlite3_wal_autocheckpoint(st->db, 1024);
			pthread_cond_destroy(&st->ckpt_end);
			pthread_cond_destroy(&st->ckpt);
			st->ckpt_started = 0;
		}
		sqlite3_close(st->cdb);
		st->cdb = NULL;
		pthread_cond_destroy(&st->done);
		pthread_cond_destroy(&st->work);
		pthread_mutex_destroy(&st->mu);
		st->started = 0;
	}
	for (size_t i = 0; i < st->nspare; i++)
		block_enc_free(st->spare[i]);
	st->nspare = 0;
	for (size_t i = 0; i < st->nzspare; i++)
		free(st->zspare[i].p);
	st->nzspare = 0;
	/* the open block came from the same pool: it goes with the others, before the mapping
	 * that may hold its lines (the writer, which never touches it, is stopped) */
	block_enc_free(st->open);
	st->open = NULL;
	if (st->rawmap)
		munmap(st->rawmap, st->rawmap_len);
	st->rawmap = NULL;
	for (size_t i = 0; i < st->nbspare; i++)
		batch_free(st->bspare[i]);
	st->nbspare = 0;
	free(st->local_db);
	st->local_db = NULL;
	st->nlocal_db = 0;
}

/* ---- retention ---- */

static int meta_get(struct store *st, const char *key, int64_t *v, int *found)
{
	sqlite3_stmt *s;
	*found = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_db_fail(st, "cannot read meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*v = sqlite3_column_int64(s, 0);
		*found = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(st, "cannot read meta");
	return 0;
}

static int meta_set(struct store *st, const char *key, int64_t v)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1,
			       &s, NULL) != SQLITE_OK)
		return store_db_fail(st, "cannot write meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_fail(st, "cannot write meta");
}

/* The limits (store_retention_get) on the calling thread, the writer idle. */
static int retention_read(struct store *st, struct store_retention *r, unsigned *set)
{
	static const struct {
		const char *key;
		unsigned bit;
		size_t off;
		int64_t def;
	} lim[] = {
		{"retain_ms", STORE_RETAIN_AGE, offsetof(struct store_retention, retain_ms), 0},
		{"max_size", STORE_RETAIN_SIZE, offsetof(struct store_retention, max_size),
		 STORE_DEFAULT_MAX_SIZE},
		{"retain_rollups_ms", STORE_RETAIN_ROLLUPS,
		 offsetof(struct store_retention, retain_rollups_ms), STORE_DEFAULT_RETAIN_ROLLUPS},
	};
	unsigned got = 0;
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		int64_t v = lim[i].def;
		int found;
		if (meta_get(st, lim[i].key, &v, &found))
			return -1;
		if (found)
			got |= lim[i].bit;
		else
			v = lim[i].def;
		memcpy((char *)r + lim[i].off, &v, sizeof(v));
	}
	if (set)
		*set = got;
	return 0;
}

int store_retention_get(struct store *st, struct store_retention *r, unsigned *set)
{
	if (writer_drain(st))
		return -1;
	return retention_read(st, r, set);
}

int store_retention_set(struct store *st, const struct store_retention *r, unsigned mask)
{
	if (st->in_batch || st->readonly) {
		store_set_err(st, st->readonly ? "the store is open read-only"
					       : "store_retention_set: a batch is open");
		return -1;
	}
	if (writer_drain(st) || store_turn_take(st))
		return -1;
	if (store_exec(st, "BEGIN IMMEDIATE")) {
		store_turn_give(st);
		return -1;
	}
	if (((mask & STORE_RETAIN_AGE) && meta_set(st, "retain_ms", r->retain_ms)) ||
	    ((mask & STORE_RETAIN_SIZE) && meta_set(st, "max_size", r->max_size)) ||
	    ((mask & STORE_RETAIN_ROLLUPS) &&
	     meta_set(st, "retain_rollups_ms", r->retain_rollups_ms)) ||
	    store_exec(st, "COMMIT")) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		store_turn_give(st);
		return -1;
	}
	store_turn_give(st);
	st->prune_next_ms = 0; /* apply them at the next commit */
	return 0;
}

static int one_i64(struct store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(st, "cannot read the store");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_type(s, 0) == SQLITE_NULL ? LR_NONE
							      : sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_db_fail(st, "cannot read the store");
}

/* Bytes of the database file in use (pages not on the free list). */
static int used_bytes(struct store *st, int64_t *used)
{
	int64_t pages, freep, psize;
	if (one_i64(st, "PRAGMA page_count", &pages) ||
	    one_i64(st, "PRAGMA freelist_count", &freep) || one_i64(st, "PRAGMA page_size", &psize))
		return -1;
	*used = (pages - freep) * psize;
	return 0;
}

int store_pruned(struct store *st, int64_t *first_id, int64_t *recv_ms, int64_t *ts_ms)
{
	int f1, f2, f3;
	*first_id = 0;
	*recv_ms = *ts_ms = LR_NONE;
	if (writer_drain(st) || meta_get(st, "pruned_id", first_id, &f1) ||
	    meta_get(st, "pruned_recv_ms", recv_ms, &f2) ||
	    meta_get(st, "pruned_ts_ms", ts_ms, &f3))
		return -1;
	return 0;
}

static const char *const rollup_tables[] = {"rollup",	    "rollup_code",    "rollup_term",
					    "rollup_timer", "rollup_errpath", "rollup_lines"};

int store_prune_step(struct store *st, size_t max_blocks, struct store_prune_stats *out)
{
	if (st->readonly || st->in_batch) {
		store_set_err(st, st->readonly ? "the store is open read-only"
					       : "store_prune_step: a batch is open");
		return -1;
	}
	if (writer_drain(st))
		return -1;
	return writer_prune(st, max_blocks, out, st->err, sizeof(st->err));
}

/* Adds n to the counter name in the open transaction: what retention removed stays countable
 * (the steps that removed blocks, the blocks and their lines), whoever pruned. */
static int prune_count(struct store *st, const char *name, int64_t n)
{
	sqlite3_stmt *s = store_stmt(st, S_COUNTER);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	return store_run(st, s, "cannot update counters");
}

/* One step, on the writer's thread or with the writer idle; messages go to st->err, copied
 * to err. */
int writer_prune(struct store *st, size_t max_blocks, struct store_prune_stats *out, char *err,
		 size_t errsz)
{
	struct store_retention r;
	int64_t newest_recv, newest_ts, used, avg = 0, nblocks = 0;
	int more = 0;
	sqlite3_stmt *sel = NULL, *del = NULL, *dev = NULL;

	if (retention_read(st, &r, NULL) || store_turn_take(st))
		goto fail;
	if (store_exec(st, "BEGIN IMMEDIATE"))
		goto fail;
	st->prune_max_size = r.max_size;
	if (one_i64(st, "SELECT max(recv_max) FROM blocks", &newest_recv) ||
	    one_i64(st, "SELECT max(ts_max) FROM blocks", &newest_ts) || used_bytes(st, &used) ||
	    one_i64(st, "SELECT count(*) FROM blocks", &nblocks))
		goto fail;
	if (nblocks && one_i64(st, "SELECT avg(length(raw) + length(cols)) FROM blocks", &avg))
		goto fail;
	/* how many of the oldest blocks the size limit wants gone: down to 95% of it, so that
	 * a store at its limit does not prune at every commit */
	int64_t by_size = 0;
	if (r.max_size > 0 && used > r.max_size && avg > 0)
		by_size = (used - r.max_size * 95 / 100) / avg + 1;
	int64_t cutoff =
		r.retain_ms > 0 && newest_recv != LR_NONE ? newest_recv - r.retain_ms : INT64_MIN;
	/* the oldest blocks first; the block lines are being added to (and any after it) stays */
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT first_id, n, recv_max, ts_max FROM blocks WHERE first_id < ?1"
		    " ORDER BY first_id LIMIT ?2",
		    -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM blocks WHERE first_id = ?1", -1, &del, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM events WHERE line_id >= ?1 AND line_id < ?2",
			       -1, &dev, NULL) != SQLITE_OK) {
		store_db_fail(st, "cannot prepare a prune");
		goto fail;
	}
	sqlite3_bind_int64(sel, 1, st->protect_id);
	sqlite3_bind_int64(sel, 2, (int64_t)max_blocks + 1);
	int64_t removed = 0, rm_lines = 0, last_id = 0, last_recv = LR_NONE, last_ts = LR_NONE;
	int rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t first = sqlite3_column_int64(sel, 0), n = sqlite3_column_int64(sel, 1);
		int64_t rmax = sqlite3_column_int64(sel, 2), tmax = sqlite3_column_int64(sel, 3);
		if (removed >= by_size && rmax >= cutoff)
			break; /* the oldest remaining block is within both limits */
		if ((size_t)removed == max_blocks) {
			more = 1;
			break;
		}
		sqlite3_bind_int64(del, 1, first);
		sqlite3_bind_int64(dev, 1, first);
		sqlite3_bind_int64(dev, 2, first + n);
		if (sqlite3_step(del) != SQLITE_DONE || sqlite3_step(dev) != SQLITE_DONE) {
			store_db_fail(st, "cannot remove old lines");
			goto fail;
		}
		sqlite3_reset(del);
		sqlite3_reset(dev);
		removed++;
		rm_lines += n;
		last_id = first + n;
		last_recv = last_recv == LR_NONE || rmax > last_recv ? rmax : last_recv;
		last_ts = last_ts == LR_NONE || tmax > last_ts ? tmax : last_ts;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(st, "cannot read the blocks");
		goto fail;
	}
	sqlite3_reset(sel);
	if (removed) {
		int64_t prev_id, prev_recv, prev_ts;
		int f;
		if (meta_get(st, "pruned_id", &prev_id, &f) ||
		    (!f || last_id > prev_id ? meta_set(st, "pruned_id", last_id) : 0) ||
		    meta_get(st, "pruned_recv_ms", &prev_recv, &f) ||
		    (!f || last_recv > prev_recv ? meta_set(st, "pruned_recv_ms", last_recv) : 0) ||
		    meta_get(st, "pruned_ts_ms", &prev_ts, &f) ||
		    (!f || last_ts > prev_ts ? meta_set(st, "pruned_ts_ms", last_ts) : 0) ||
		    prune_count(st, "prune.steps", 1) || prune_count(st, "prune.blocks", removed) ||
		    prune_count(st, "prune.lines", rm_lines))
			goto fail;
	}
	int64_t rrows = 0, oldest_ts = LR_NONE;
	if (r.retain_rollups_ms > 0 && newest_ts != LR_NONE &&
	    one_i64(st, "SELECT min(ts_min) FROM blocks", &oldest_ts))
		goto fail;
	if (r.retain_rollups_ms > 0 && newest_ts != LR_NONE) {
		/* never the aggregates of lines still kept (an old log ingested late) */
		int64_t bcut = store_bucket_of(newest_ts - r.retain_rollups_ms);
		if (oldest_ts != LR_NONE && store_bucket_of(oldest_ts) < bcut)
			bcut = store_bucket_of(oldest_ts);
		for (size_t i = 0; i < sizeof(rollup_tables) / sizeof(rollup_tables[0]); i++) {
			char sql[128];
			snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE bucket < ?1",
				 rollup_tables[i]);
			sqlite3_stmt *s;
			if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
				store_db_fail(st, "cannot prepare a prune");
				goto fail;
			}
			sqlite3_bind_int64(s, 1, bcut);
			rc = sqlite3_step(s);
			sqlite3_finalize(s);
			if (rc != SQLITE_DONE) {
				store_db_fail(st, "cannot remove old aggregates");
				goto fail;
			}
			rrows += sqlite3_changes(st->db);
		}
	}
	if (store_exec(st, "COMMIT"))
		goto fail;
	store_turn_give(st);
	if (out) {
		out->blocks += removed;
		out->lines += rm_lines;
		out->rollup_rows += rrows;
		if (used_bytes(st, &out->used_bytes))
			out->used_bytes = -1;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(dev);
	return more;
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(dev);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	store_turn_give(st);
	if (err != store_errbuf(st))
		snprintf(err, errsz, "%s", store_errbuf(st));
	return -1;
}
