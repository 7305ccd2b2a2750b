/* The store's insides, shared by store.c (opening, the caller's side of store_add and
 * store_commit) and store_writer.c (the writer thread, which owns the connection while it
 * runs). Private to the store layer. */
#ifndef STORE_INT_H
#define STORE_INT_H
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/block.h"
#include "store/blockdb.h"
#include "store/rollup.h"
#include "store/store.h"
#include "strbuf.h"

#define STORE_ERRPATH_MAX 256 /* bytes of a path kept in rollup_errpath */
/* A batch's aggregates go to the writer early (written in the open transaction) once they hold
 * this many keys, so memory stays bounded (~35 KB of histograms per key) on logs that span many
 * minutes and servers. */
#define STORE_FLUSH_AGGS 1024
#define STORE_FLUSH_PATHS 65536
#define STORE_AGG_MEMO 64 /* a power of 2 */
/* Event lines wait in copies until their batch's rows are written; past this many the batch
 * hands them over early. */
#define STORE_EVENTS_MAX 4096
/* Full blocks waiting for the writer: STORE_QBLOCKS by default (each holds ~1.6 MB, and the
 * listener must stay under 64 MiB), up to STORE_QBLOCKS_MAX for a writer that asks
 * (store_set_queue: halog ingest, where a deeper queue lets the caller run on while the
 * writer is descheduled or committing). Jobs in all (full blocks, batches to write or commit):
 * at most STORE_QJOBS, so memory is bounded by blocks, not by batches. */
#define STORE_QBLOCKS 2
#define STORE_QBLOCKS_MAX 8
#define STORE_QJOBS (STORE_QBLOCKS_MAX + 2)

enum {
	S_BLOCK,
	S_EVENT,
	S_NAME_INS,
	S_NAME_SEL,
	S_ROLLUP,
	S_CODE,
	S_TERM,
	S_TIMER,
	S_ERRPATH,
	S_ERRPATH_ALL,
	S_LINES,
	S_COUNTER,
	S_FILE_SET,
	S_FILE_GET,
	S_END,
	S_N
};

struct errpath_key {
	int64_t bucket;
	int32_t fe, be, srv, status; /* names: local ids (struct batch) */
				     /* followed by the path bytes */
};

struct lines_key {
	int64_t bucket;
	int32_t kind, status;
};

struct lines_val {
	int64_t n, truncated;
	int64_t min_ts, max_ts; /* of the lines' ts_ms */
};

/* A copy of one event line and its parse result (the strings relocated into buf), waiting for
 * its events row. */
struct slot {
	struct logrec rec;
	struct store_msg msg;
	int64_t id;    /* its line id */
	int64_t ts;    /* the line's time as store_add chose it */
	size_t srclen; /* strlen(msg.source) */
	char *buf;     /* raw bytes, then source, then strings that were not inside raw */
	size_t cap;
};

/* What ingest took from one file, waiting for its batch's commit. */
struct file_mark {
	char *ident, *name;
	size_t identlen;
	struct store_file f;
};

/* A name the caller first met in this batch: the writer stores it and learns its id. */
struct new_name {
	int32_t local; /* the caller's id for it */
	char *s;
	size_t len;
};

/* A batch's aggregate: its histograms in chunks (rollup.h, HIST_CHUNK) taken from the batch's
 * slab, a.hist staying NULL. A dense histogram a timer was 6.9 KB calloc'd and freed with its
 * batch, for some 5 to 80 buckets in use: a fifth of an ingest's page faults. */
struct batch_agg {
	struct rollup_agg a; /* first: the aggs map frees it as a rollup_agg */
	uint64_t *h[RT_N][HIST_NCHUNK];
};

/* The batch's histogram chunks, blocks of HSLAB_BLOCK kept from batch to batch (at most
 * HSLAB_KEEP of them), so a batch reuses the pages the one before it touched. */
#define HSLAB_BLOCK 256 /* chunks: 64 KiB */
#define HSLAB_KEEP 32
struct hslab {
	uint64_t **blk; /* HSLAB_BLOCK * HIST_CHUNK counts each */
	size_t nblk, ablk;
	size_t used; /* chunks handed out */
};

/* What store_add folded in since the batch began, besides the lines' blocks: handed to the
 * writer whole (to write in the open transaction, then commit or not). Rollup keys hold the
 * caller's local name ids; the writer maps them to the names table's. */
struct batch {
	struct hmap aggs;     /* struct rollup_key -> struct batch_agg * */
	struct hslab hslab;   /* their histograms' chunks */
	struct hmap errpaths; /* struct errpath_key + path -> int64_t * */
	struct hmap lineaggs; /* struct lines_key -> struct lines_val * */
	struct hmap counters; /* name -> int64_t * */
	struct slot *ev;      /* event lines */
	size_t nev, aev;
	struct file_mark *files;
	size_t nfiles, afiles;
	struct new_name *names;
	size_t nnames, anames;
	/* commit: the open block as it was (first line open_first, open_n lines; 0: none) */
	int commit;
	int64_t open_first, open_n;
	struct bbuf_plain {
		unsigned char *p;
		size_t len, cap;
	} raw, cols;
	struct block_meta m;
	int64_t next_id; /* commit: the id after the batch's last line */
	/* last lines_key seen: consecutive lines mostly share it */
	struct lines_key lk_last;
	struct lines_val *lv_last;
	/* rollup keys met lately, each in the slot its names pick (agg_memo_slot): a line's
	 * aggregate found without hashing its key into aggs (a: NULL when empty) */
	struct agg_memo {
		struct rollup_key k;
		struct batch_agg *a;
	} agg_memo[STORE_AGG_MEMO];
};

enum job_kind { JOB_BLOCK, JOB_BATCH };
/* Who compresses a queued full block: the writer as it comes to it, or ahead of its turn
 * (Z_PACKING, then Z_PACKED) the caller while it would otherwise wait for the writer, or the
 * writer while it lets a checkpoint end before its next transaction (store_set_queue's
 * helper mode). Set under mu. */
enum job_zip { Z_NONE, Z_WRITER, Z_PACKING, Z_PACKED };
struct job {
	enum job_kind kind;
	struct block_enc *enc; /* BLOCK: a full block, its lines from first */
	int64_t first;
	enum job_zip zip;	  /* BLOCK */
	struct blockdb_packed pk; /* Z_PACKED: the frames, in zbuf (back to zspare after) */
	struct zbuf {
		unsigned char *p;
		size_t cap;
	} zbuf;
	struct batch *b; /* BATCH */
	uint64_t seq;	 /* BATCH: store_commit waits for w_done_seq to reach it */
};

#define STORE_MEMO 64 /* a power of 2 */
struct name_memo {
	uint64_t key; /* strkey8 of s */
	char s[48];
	uint32_t len; /* 0: empty */
	int32_t id;
};

struct store {
	sqlite3 *db;
	int readonly;
	int lockfd;		 /* the writers' turnstile, "<path>-lock" (-1: none) */
	int has_turn;		 /* holds the write turn (store_turn_take) */
	sqlite3_stmt *stmt[S_N]; /* prepared lazily */
	uint64_t nulls[S_N];	 /* row statements: parameters bound to NULL (bind_null) */
	struct strbuf scratch;	 /* the caller's */
	char err[512];

	/* ---- the caller's side ---- */
	int in_batch;			      /* store_add has added since the last commit */
	size_t pending;			      /* store_add calls in the open batch */
	struct batch *b;		      /* the batch being filled */
	struct hmap lnames;		      /* name -> (void *)(intptr_t)local id */
	int32_t nlocal;			      /* local ids given */
	struct name_memo memo[3][STORE_MEMO]; /* intern_local: fe, be, srv, by memo_slot */
	/* line ids: the next line gets next_id; lines before committed_next are committed */
	int64_t next_id;
	/* the open block: lines open_first … next_id - 1 */
	struct block_enc *open;
	int64_t open_first;

	/* ---- the writer thread and its queue; everything below is guarded by mu ---- */
	int started;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t work; /* to the writer: jobs, or stop */
	pthread_cond_t done; /* to the caller: a job done */
	struct job q[STORE_QJOBS];
	size_t qhead, qn, qblocks;			/* jobs queued, of which full blocks */
	size_t qblocks_max;				/* full blocks queued at most */
	int busy;					/* the writer is working on q[qhead] */
	struct block_enc *spare[STORE_QBLOCKS_MAX + 1]; /* empty encoders */
	size_t nspare;
	/* buffers of blocks compressed ahead (pack_one), kept for the next ones: one a queued
	 * block at most, so a freed and malloc'd one no longer touches new pages every block */
	struct zbuf zspare[STORE_QBLOCKS_MAX];
	size_t nzspare;
	unsigned char *rawmap; /* the spare encoders' raw lines (raw_map), rawmap_len bytes */
	size_t rawmap_len;
	struct batch *bspare[2]; /* empty batches */
	size_t nbspare;
	uint64_t seq, w_done_seq; /* batch jobs queued / done */
	int64_t committed_next;	  /* next_id after the last commit that succeeded */
	int stop;		  /* store_close: the writer exits */
	int failed;		  /* a job failed: the rest is skipped until store_rollback */
	int w_waiting, c_waiting; /* writer / caller sleeps on its condition */
	int help;		  /* the caller compresses queued blocks while it waits */
	struct block_zip *czip;	  /* the caller's compression, for that */
	char werr[512];		  /* the writer's error, copied to err by the caller */
	char wmsg[512];		  /* the writer thread's messages as they happen (store_errbuf) */

	/* ---- the writer's own (the caller's when no writer runs) ---- */
	int w_in_tx;	   /* a BEGIN is open */
	int32_t *local_db; /* local name id -> names.id (0: not known yet) */
	size_t nlocal_db;
	struct block_zip *wzip; /* compression */
	struct strbuf wscratch; /* encoding histograms */
	int64_t prune_next_ms;	/* monotonic: the next look at the limits */
	int prune_more;		/* beyond the limits after the last step */
	int64_t prune_max_size; /* --max-size as read at the last step (0: none): checked at
				   every commit, so a fast writer cannot outgrow it for long */
	int64_t protect_id;	/* blocks from this line id on are never pruned */
	/* Line ids: the caller numbers lines from the store's end at open (next_id); other
	 * writers may append between two of this writer's transactions, so the writer follows
	 * the file's end (follow_end): a line's id in the file is its number + w_shift. */
	int64_t w_shift, w_shift_c; /* now, and as of the last commit (a rollback goes back) */
	int64_t w_end;		    /* the file's end as the last commit left it (file ids) */
	int64_t w_open_local;	    /* the number of the first line the next block holds */
	int64_t w_open_k;	    /* of its lines, those a committed row already holds */

	/* ---- the checkpointer: its own connection and thread, guarded by mu too ---- */
	char *path;
	sqlite3 *cdb;
	int ckpt_started;
	pthread_t cthr;
	pthread_cond_t ckpt;	 /* to the checkpointer: a request, or stop */
	pthread_cond_t ckpt_end; /* to a committer: a checkpoint ended */
	uint64_t ckpt_req, ckpt_done;
	int ckpt_stop; /* the checkpointer exits: set only once the writer thread has, since
			  every commit the writer makes may wait for a checkpoint (wal_hook) */
};

/* store.c */
/* The store whose writer thread this is (NULL on other threads). */
extern _Thread_local struct store *store_writer_of;
/* Where a message of the calling thread goes: wmsg on the writer thread, err elsewhere. */
char *store_errbuf(struct store *st);
void store_set_err(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_db_fail(struct store *st, const char *what); /* sqlite3_errmsg into err; -1 */
int store_exec(struct store *st, const char *sql);
sqlite3_stmt *store_stmt(struct store *st, int which);
int store_run(struct store *st, sqlite3_stmt *s, const char *what);
int64_t store_bucket_of(int64_t ts);
void batch_clear(struct batch *b);
void batch_free(struct batch *b);

/* store_writer.c */
int writer_start(struct store *st);
/* Stops the writer and checkpointer threads (when started) and frees the block encoders, the
 * open one included (st->open is NULL after), and the other buffers they lent each other. */
void writer_stop(struct store *st);
/* Queues a job (waiting for room). Returns 0, or -1 when the writer failed (message in err). */
int writer_push(struct store *st, const struct job *j);
/* Waits until every queued job is done and the writer idle: the caller may use the connection.
 * Returns 0, or -1 when a job failed (message in err). */
int writer_drain(struct store *st);
/* Waits for the batch job seq. Returns 0, or -1 when it (or one before it) failed. */
int writer_wait(struct store *st, uint64_t seq);
/* Forgets everything queued and the failure: the batch in the writer's transaction is rolled
 * back. The caller resets its own side. */
void writer_reset(struct store *st);
/* A free batch (waiting for one). NULL: out of memory (err). */
struct batch *writer_batch(struct store *st);
/* Writes the batch b now on the calling thread (the writer is idle or not started): what the
 * writer does for a batch job. Returns 0 or -1 (err). */
int writer_write_batch(struct store *st, struct batch *b, char *err, size_t errsz);
/* One prune step on the calling thread (writer idle); see store_prune_step. */
int writer_prune(struct store *st, size_t max_blocks, struct store_prune_stats *out, char *err,
		 size_t errsz);

/* Writers take turns through "<path>-lock" (store.c): take the turn before a write transaction,
 * give it after its COMMIT or ROLLBACK. Returns 0, or -1 (the store's message). */
int store_turn_take(struct store *st);
void store_turn_give(struct store *st);

#endif
