/* The ClickHouse sink (store/chsink.h): batches in memory, then in a spool file, inserted in
 * order by one thread; a batch that may have reached the server is checked before it is sent
 * again. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "store/chhttp.h"
#include "store/chschema.h"
#include "store/chsink.h"

#define SPOOL_MAGIC "HALOGCH1"
#define SPOOL_HDR 16		 /* magic, then the offset of the first unsent record */
#define REC_MAGIC 0x32424843u	 /* "CHB2": rows of schema 3 */
#define REC_MAGIC_WIDE 0x31424843u /* "CHB1": rows of schema 2 (an older halog), rewritten as read */
#define REC_HDR 44 /* magic, rows, id, min_recv, max_recv, attempted, datalen, seq0 */
#define SEQ_MASK ((UINT32_C(1) << CH_POS_SHIFT) - 1)
#define BATCH_MAX_BYTES (64u << 20) /* an open batch is sealed at this size */
#define PRUNE_EVERY_MS 3600000	 /* expired days are dropped hourly (no TTL before 19.6) */

struct chbatch {
	struct chbatch *next;
	uint64_t id;
	uint32_t rows;
	int attempted; /* an insert of it may have reached the server */
	uint32_t seq0;	/* the seq of its first row: row i has (seq0 + i) & SEQ_MASK */
	int64_t min_recv, max_recv;
	int64_t began_ms; /* monotonic: the first row */
	struct strbuf data;
	uint32_t *offs; /* rows start offsets into data */
	size_t aoffs;
};

struct chsink {
	struct ch_url u;
	struct ch_conn *conn; /* the sender thread's */
	char lines[200];      /* the table rows go to */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t room; /* a waiting caller (chsink_set_wait): the sender took a batch */
	pthread_t th;
	int started;
	int closing;
	int wait;    /* chsink_set_wait: a full sink makes the caller wait, not spool */
	int failing; /* the last insert failed: waiting callers spool again */
	int64_t grace_end; /* monotonic: stop trying to send then */
	uint64_t next_n;   /* the next message number chsink_add accepts */
	uint32_t next_seq; /* rows are numbered across batches, so that rows of one millisecond
			      keep their order in the line positions (CH_POS) */
	struct chbatch *open;
	struct chbatch *head, *tail; /* sealed batches in memory, oldest first */
	uint64_t mem_bytes;	     /* of head..tail and the inflight memory batch */
	uint64_t mem_rows;
	/* the spool: [read_off, size) holds records newer than every memory batch */
	int fd;
	int locked;	/* the spool's lock is ours */
	uint64_t check_until; /* records before this offset were left by an earlier run, which may
				 have inserted them before it died: each is checked first */
	char *spool_path;
	uint64_t read_off, size, disk_rows;
	/* the batch being sent: from memory (owned here) or the record at read_off */
	struct chbatch *inflight;
	int inflight_disk;
	uint64_t inflight_reclen;
	struct chsink_stats st;
	int64_t last_err_print;
	/* the data buffer of the last batch sent, for the next batch: a buffer of megabytes
	 * reused, not mapped and faulted in anew (under mu) */
	struct strbuf spare;
	/* the sender's request bodies (Native, then gzip), reused likewise */
	struct strbuf native, gz;
	/* counters: this run's values, written when dirty and no batch waits before them */
	struct {
		char name[64];
		int64_t value;
	} ctr[CHSINK_COUNTERS];
	size_t nctr;
	int ctr_dirty;
	uint64_t ctr_ver; /* version of the rows written: later rows replace earlier ones */
	char run[17];	  /* this run's id (hex), the counters' listener column */
	/* the oldest receive time of the spool record at first_recv_off (chsink_watermark) */
	uint64_t first_recv_off;
	int64_t first_recv;
	char counters[200]; /* the table */
};

/* ------------------------------------------------------------------------ batches */

static struct chbatch *batch_new(void)
{
	struct chbatch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	strbuf_init(&b->data);
	if (getrandom(&b->id, sizeof(b->id), 0) != sizeof(b->id))
		b->id = (uint64_t)clock_mono_ns() ^ ((uint64_t)getpid() << 40);
	b->min_recv = INT64_MAX;
	b->max_recv = INT64_MIN;
	return b;
}

static void batch_free(struct chbatch *b)
{
	if (!b)
		return;
	strbuf_release(&b->data);
	free(b->offs);
	free(b);
}

static uint64_t batch_cost(const struct chbatch *b)
{
	return b->data.len + (uint64_t)b->rows * 4 + sizeof(*b);
}

/* ------------------------------------------------------------------------ the spool file */

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}
static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static int write_all(int fd, const void *p, size_t n, off_t at)
{
	const char *c = p;

	while (n) {
		ssize_t w = pwrite(fd, c, n, at);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n, off_t at)
{
	char *c = p;

	while (n) {
		ssize_t r = pread(fd, c, n, at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
		at += r;
	}
	return 0;
}

static uint64_t rec_len(const struct chbatch *b)
{
	return REC_HDR + (uint64_t)b->rows * 4 + b->data.len;
}

/* Appends b as a record at the end of the spool. Returns 0 or -1. */
static int spool_append(struct chsink *s, const struct chbatch *b)
{
	unsigned char hdr[REC_HDR];
	uint64_t at = s->size;

	put32(hdr, REC_MAGIC);
	put32(hdr + 4, b->rows);
	put64(hdr + 8, b->id);
	put64(hdr + 16, (uint64_t)b->min_recv);
	put64(hdr + 24, (uint64_t)b->max_recv);
	put32(hdr + 32, (uint32_t)b->attempted);
	put32(hdr + 36, (uint32_t)b->data.len);
	put32(hdr + 40, b->seq0);
	if (write_all(s->fd, hdr, REC_HDR, (off_t)at) < 0 ||
	    write_all(s->fd, b->offs, (size_t)b->rows * 4, (off_t)(at + REC_HDR)) < 0 ||
	    write_all(s->fd, b->data.buf, b->data.len, (off_t)(at + REC_HDR + b->rows * 4)) < 0) {
		/* a record cut short is not a record: the file ends where it began */
		if (ftruncate(s->fd, (off_t)at) < 0)
			return -1;
		return -1;
	}
	s->size = at + rec_len(b);
	s->disk_rows += b->rows;
	return 0;
}

/* Reads the record at off. Returns the batch (*len its length), or NULL when none is whole. */
static struct chbatch *spool_read(struct chsink *s, uint64_t off, uint64_t *len)
{
	unsigned char hdr[REC_HDR];
	struct chbatch *b;
	uint32_t rows, dlen;

	if (off + REC_HDR > s->size || read_all(s->fd, hdr, REC_HDR, (off_t)off) < 0 ||
	    (get32(hdr) != REC_MAGIC && get32(hdr) != REC_MAGIC_WIDE))
		return NULL;
	rows = get32(hdr + 4);
	dlen = get32(hdr + 36);
	if (off + REC_HDR + (uint64_t)rows * 4 + dlen > s->size || !(b = batch_new()))
		return NULL;
	b->rows = rows;
	b->id = get64(hdr + 8);
	b->min_recv = (int64_t)get64(hdr + 16);
	b->max_recv = (int64_t)get64(hdr + 24);
	b->attempted = (int)get32(hdr + 32);
	b->seq0 = get32(hdr + 40);
	b->offs = malloc((size_t)rows * 4 + 4);
	if (!b->offs || strbuf_grow(&b->data, dlen) < 0 ||
	    read_all(s->fd, b->offs, (size_t)rows * 4, (off_t)(off + REC_HDR)) < 0 ||
	    read_all(s->fd, b->data.buf, dlen, (off_t)(off + REC_HDR + (uint64_t)rows * 4)) < 0) {
		batch_free(b);
		return NULL;
	}
	b->data.len = dlen;
	b->data.buf[dlen] = '\0';
	if (get32(hdr) == REC_MAGIC_WIDE) {
		/* an older halog's wide rows, as this one's: same batch, same seqs */
		struct strbuf narrow = STRBUF_INIT;

		if (chrows_from_wide(b->data.buf, b->data.len, rows, &narrow, b->offs) < 0) {
			strbuf_release(&narrow);
			batch_free(b);
			return NULL;
		}
		strbuf_release(&b->data);
		b->data = narrow;
	}
	*len = REC_HDR + (uint64_t)rows * 4 + dlen;
	return b;
}

static int spool_set_read(struct chsink *s, uint64_t off)
{
	unsigned char v[8];

	s->read_off = off;
	s->first_recv_off = 0; /* the file may start over at off: read its first record again */
	put64(v, off);
	return write_all(s->fd, v, 8, 8);
}

/* Opens (creating) and locks the spool, keeps its whole records from the read offset on. */
static int spool_open(struct chsink *s, char *err, size_t errsz)
{
	unsigned char hdr[SPOOL_HDR];
	struct stat sb;
	uint64_t off;

	s->fd = open(s->spool_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		snprintf(err, errsz, "cannot open the spool '%s': %s", s->spool_path,
			 strerror(errno));
		return -1;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errsz, "the spool '%s' is in use by another process (spool=FILE)",
			 s->spool_path);
		return -1;
	}
	s->locked = 1;
	if (fstat(s->fd, &sb) < 0)
		goto ioerr;
	s->size = (uint64_t)sb.st_size;
	if (s->size < SPOOL_HDR || read_all(s->fd, hdr, SPOOL_HDR, 0) < 0 ||
	    memcmp(hdr, SPOOL_MAGIC, 8)) {
		if (s->size > 0)
			fprintf(stderr, "halog: %s is not a sink spool: starting it anew\n",
				s->spool_path);
		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, SPOOL_MAGIC, 8);
		put64(hdr + 8, SPOOL_HDR);
		if (ftruncate(s->fd, 0) < 0 || write_all(s->fd, hdr, SPOOL_HDR, 0) < 0)
			goto ioerr;
		s->size = SPOOL_HDR;
	}
	s->read_off = get64(hdr + 8);
	if (s->read_off < SPOOL_HDR || s->read_off > s->size)
		s->read_off = SPOOL_HDR;
	/* count the whole records; a torn one at the end (a crash mid-write) is cut off */
	for (off = s->read_off; off < s->size;) {
		uint64_t len;
		struct chbatch *b = spool_read(s, off, &len);

		if (!b)
			break;
		s->disk_rows += b->rows;
		batch_free(b);
		off += len;
	}
	if (off < s->size && ftruncate(s->fd, (off_t)off) < 0)
		goto ioerr;
	s->size = off;
	s->check_until = off;
	if (s->disk_rows)
		fprintf(stderr, "halog: %s: %" PRIu64 " rows of an earlier run are sent first\n",
			s->spool_path, s->disk_rows);
	return 0;
ioerr:
	snprintf(err, errsz, "spool '%s': %s", s->spool_path, strerror(errno));
	return -1;
}

/* ------------------------------------------------------------------------ sealing */

/* Moves the open batch to memory, or to the spool when memory is full or the spool already
 * holds newer-than-memory batches (order), or drops it. Under mu. A caller that may wait
 * (chsink_set_wait, not the sender) first waits while a batch is being inserted, so that
 * ClickHouse, not memory or the spool, takes up the difference in speed (the caller fills the
 * next batch meanwhile); not while inserts fail (ClickHouse down), when batches go to memory and the spool. */
static void seal(struct chsink *s, int may_wait)
{
	struct chbatch *b = s->open;

	s->open = NULL;
	if (!b || !b->rows) {
		batch_free(b);
		return;
	}
	while (may_wait && s->wait && !s->failing && !s->closing && (s->head || s->inflight) &&
	       s->size == s->read_off)
		pthread_cond_wait(&s->room, &s->mu);
	if (s->size == s->read_off && s->mem_bytes + batch_cost(b) <= s->u.memory) {
		if (s->tail)
			s->tail->next = b;
		else
			s->head = b;
		s->tail = b;
		s->mem_bytes += batch_cost(b);
		s->mem_rows += b->rows;
		pthread_cond_signal(&s->cv);
		return;
	}
	if (s->size + rec_len(b) <= s->u.spool_max && spool_append(s, b) == 0) {
		pthread_cond_signal(&s->cv);
	} else {
		s->st.rows_overflow += b->rows;
	}
	batch_free(b);
}

static int add_row(struct chsink *s, uint64_t n, const struct store_msg *m,
		   const struct logrec *rec, int64_t ts_ms);

int chsink_add(struct chsink *s, uint64_t n, const struct store_msg *m, const struct logrec *rec)
{
	return add_row(s, n, m, rec, ch_logged_ms(m, rec));
}

int chsink_add_line(struct chsink *s, const struct store_line *ln)
{
	struct store_msg m;
	char src[512];

	/* the source is a slice: the row wants it NUL-terminated */
	snprintf(src, sizeof(src), "%.*s", (int)ln->source.len, ln->source.p ? ln->source.p : "");
	m.raw = ln->raw.p;
	m.len = ln->raw.len;
	m.recv_ms = ln->recv_ms;
	m.source = src;
	m.flags = ln->flags;
	/* the same range as ch_logged_ms keeps */
	return add_row(s, CHSINK_NEW, &m, &ln->rec,
		       ln->ts_ms < 0 ? 0
		       : ln->ts_ms > INT64_C(4294967295) * 1000 ? INT64_C(4294967295) * 1000
								 : ln->ts_ms);
}

static int add_row(struct chsink *s, uint64_t n, const struct store_msg *m,
		   const struct logrec *rec, int64_t ts_ms)
{
	struct chbatch *b;
	struct chrow_id id;
	int ret = 0;

	pthread_mutex_lock(&s->mu);
	if (n != CHSINK_NEW) {
		if (n < s->next_n)
			goto out;
		s->next_n = n + 1;
	}
	s->st.rows_added++;
	if (!s->open) {
		if (!(s->open = batch_new())) {
			s->st.rows_overflow++;
			ret = -1;
			goto out;
		}
		s->open->seq0 = s->next_seq;
		if (s->spare.alloc) {
			strbuf_release(&s->open->data);
			s->open->data = s->spare;
			strbuf_init(&s->spare);
		}
	}
	b = s->open;
	if (b->rows + 1 > b->aoffs) {
		size_t na = b->aoffs ? b->aoffs * 2 : 1024;
		uint32_t *no = realloc(b->offs, na * 4);

		if (!no) {
			s->st.rows_overflow++;
			ret = -1;
			goto out;
		}
		b->offs = no;
		b->aoffs = na;
	}
	id.batch = b->id;
	id.seq = (b->seq0 + b->rows) & SEQ_MASK;
	id.ts_ms = ts_ms;
	b->offs[b->rows] = (uint32_t)b->data.len;
	if (chrow_encode(&b->data, &id, m, rec) < 0) {
		s->st.rows_overflow++;
		ret = -1;
		goto out;
	}
	if (!b->rows)
		b->began_ms = clock_mono_ms();
	b->rows++;
	s->next_seq = (s->next_seq + 1) & SEQ_MASK;
	if (m->recv_ms < b->min_recv)
		b->min_recv = m->recv_ms;
	if (m->recv_ms > b->max_recv)
		b->max_recv = m->recv_ms;
	if (b->rows >= s->u.batch || b->data.len >= BATCH_MAX_BYTES ||
	    b->data.len >= s->u.memory / 4)
		seal(s, 1);
out:
	pthread_mutex_unlock(&s->mu);
	return ret;
}

void chsink_counter_set(struct chsink *s, const char *name, int64_t value)
{
	size_t i;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nctr && strcmp(s->ctr[i].name, name); i++)
		;
	if (i == s->nctr) {
		if (!value || i == CHSINK_COUNTERS || strlen(name) >= sizeof(s->ctr[i].name))
			goto out;
		snprintf(s->ctr[i].name, sizeof(s->ctr[i].name), "%s", name);
		s->nctr++;
	} else if (s->ctr[i].value == value) {
		goto out;
	}
	s->ctr[i].value = value;
	s->ctr_dirty = 1;
out:
	pthread_mutex_unlock(&s->mu);
}

/* Writes the counters (called without the lock, by the sender). Returns 0 or -1. */
static int write_counters(struct chsink *s, char *err, size_t errsz)
{
	struct strbuf sql = STRBUF_INIT, body = STRBUF_INIT;
	int ret;

	pthread_mutex_lock(&s->mu);
	s->ctr_ver++;
	for (size_t i = 0; i < s->nctr; i++)
		strbuf_addf(&body, "%s\t%s\t%" PRId64 "\t%" PRIu64 "\n", s->ctr[i].name, s->run,
			    s->ctr[i].value, s->ctr_ver);
	s->ctr_dirty = 0;
	pthread_mutex_unlock(&s->mu);
	strbuf_addf(&sql, "INSERT INTO %s (name, listener, value, ver) FORMAT TabSeparated",
		    s->counters);
	ret = ch_exec(s->conn, sql.buf, body.buf, body.len, 0,
		      s->u.cluster[0] ? "&insert_distributed_sync=1" : NULL, NULL, NULL, err, errsz);
	if (ret < 0) {
		pthread_mutex_lock(&s->mu);
		s->ctr_dirty = 1;
		pthread_mutex_unlock(&s->mu);
	}
	strbuf_release(&sql);
	strbuf_release(&body);
	return ret;
}

/* ------------------------------------------------------------------------ sending */

/* The seqs of batch b the table holds, as a bitmap (rows bits). Returns how many, or -1. */
static int64_t present_rows(struct chsink *s, const struct chbatch *b, unsigned char *bits,
			    char *err, size_t errsz)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	int64_t n = -1;

	strbuf_addf(&sql,
		    "SELECT seq FROM %s WHERE recv_ms >= %" PRId64 " AND recv_ms <= %" PRId64
		    " AND batch = %" PRIu64 " FORMAT TabSeparated",
		    s->lines, b->min_recv, b->max_recv, b->id);
	if (ch_exec(s->conn, sql.buf, NULL, 0, 0, NULL, &out, NULL, err, errsz) == 0) {
		n = 0;
		for (char *p = out.buf; *p;) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			v = (v - b->seq0) & SEQ_MASK; /* the row's index in b */
			if (v < b->rows && !(bits[v / 8] & (1u << (v % 8)))) {
				bits[v / 8] |= (unsigned char)(1u << (v % 8));
				n++;
			}
			p = *end ? end + 1 : end;
		}
	}
	strbuf_release(&sql);
	strbuf_release(&out);
	return n;
}

/* Inserts b (what the table lacks of it when b was attempted before). Returns 0 or -1. Without
 * the lock. */
static int deliver(struct chsink *s, struct chbatch *b, char *err, size_t errsz)
{
	struct strbuf sql = STRBUF_INIT, part = STRBUF_INIT;
	struct strbuf *native = &s->native, *body = &s->gz;
	unsigned char *bits = NULL;
	const char *data = b->data.buf;
	size_t len = b->data.len;
	uint64_t rows = b->rows, dup = 0;
	const int gz = !strcmp(s->u.compress, "gzip");
	int ret = -1;

	if (b->attempted) {
		int64_t have;

		bits = calloc((size_t)b->rows / 8 + 1, 1);
		if (!bits) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
		have = present_rows(s, b, bits, err, errsz);
		if (have < 0)
			goto out;
		dup = (uint64_t)have;
		if (have == b->rows) {
			rows = 0;
			ret = 0;
			goto done;
		}
		if (have > 0) {
			for (uint32_t i = 0; i < b->rows; i++) {
				uint32_t end = i + 1 < b->rows ? b->offs[i + 1] : (uint32_t)b->data.len;

				if (!(bits[i / 8] & (1u << (i % 8))) &&
				    strbuf_add(&part, b->data.buf + b->offs[i], end - b->offs[i]) < 0) {
					snprintf(err, errsz, "out of memory");
					goto out;
				}
			}
			data = part.buf;
			len = part.len;
			rows = b->rows - (uint64_t)have;
		}
	}
	/* the rows as columns (Native): the server parses a column at once */
	strbuf_reset(native);
	strbuf_reset(body);
	if (chrows_native(data, len, rows, native) < 0 ||
	    (gz && ch_gzip(native->buf, native->len, body) < 0)) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	strbuf_addf(&sql, "INSERT INTO %s (%s) FORMAT Native", s->lines, ch_insert_columns);
	/* Any failure may hide an insert that took place: even "connection refused" can end a
	 * request that libcurl sent on a kept-alive connection the server closed as it died,
	 * then retried on a new one. So every batch that failed once is checked next time. */
	b->attempted = 1;
	if (ch_exec(s->conn, sql.buf, gz ? body->buf : native->buf, gz ? body->len : native->len, gz,
		    s->u.cluster[0] ? "&insert_distributed_sync=1" : NULL, NULL, NULL, err,
		    errsz) < 0)
		goto out;
	ret = 0;
done:
	pthread_mutex_lock(&s->mu);
	s->st.rows_sent += rows;
	s->st.rows_dup += dup;
	pthread_mutex_unlock(&s->mu);
out:
	free(bits);
	strbuf_release(&sql);
	strbuf_release(&part);
	return ret;
}

/* Takes the next batch to send into s->inflight, under mu. Returns 1, or 0 when none. */
static int take_next(struct chsink *s)
{
	if (s->inflight)
		return 1;
	if (s->head) {
		s->inflight = s->head;
		s->head = s->head->next;
		if (!s->head)
			s->tail = NULL;
		s->inflight->next = NULL;
		s->inflight_disk = 0;
		pthread_cond_signal(&s->room);
		return 1;
	}
	if (s->read_off < s->size) {
		uint64_t len;
		struct chbatch *b = spool_read(s, s->read_off, &len);

		if (!b) { /* unreadable: what follows cannot be trusted either */
			fprintf(stderr, "halog: %s: unreadable record, %" PRIu64 " rows given up\n",
				s->spool_path, s->disk_rows);
			s->st.rows_overflow += s->disk_rows;
			s->disk_rows = 0;
			s->size = s->read_off;
			if (ftruncate(s->fd, (off_t)s->size) < 0)
				return 0;
			return 0;
		}
		if (s->read_off < s->check_until)
			b->attempted = 1;
		s->inflight = b;
		s->inflight_disk = 1;
		s->inflight_reclen = len;
		return 1;
	}
	return 0;
}

/* The inflight batch is in ClickHouse: forget it. Under mu. */
static void done_inflight(struct chsink *s)
{
	struct chbatch *b = s->inflight;

	if (s->inflight_disk) {
		s->disk_rows -= b->rows;
		if (s->read_off + s->inflight_reclen >= s->size) {
			/* everything sent: the file starts over */
			if (ftruncate(s->fd, SPOOL_HDR) == 0)
				s->size = SPOOL_HDR;
			s->check_until = 0;
			spool_set_read(s, SPOOL_HDR);
		} else {
			spool_set_read(s, s->read_off + s->inflight_reclen);
		}
	} else {
		s->mem_bytes -= batch_cost(b);
		s->mem_rows -= b->rows;
	}
	if (!s->spare.alloc) {
		s->spare = b->data;
		strbuf_init(&b->data);
		strbuf_reset(&s->spare);
	}
	batch_free(b);
	s->inflight = NULL;
}

static void *sender_main(void *arg)
{
	struct chsink *s = arg;
	unsigned backoff = 0;
	int ctr_failed = 0;
	int64_t ctr_tried = 0;
	int64_t last_prune = 0;
	char err[1024];

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int64_t now = clock_mono_ms();

		if (s->open && s->open->rows &&
		    (s->closing || now - s->open->began_ms >= (int64_t)s->u.batch_ms))
			seal(s, 0);
		if (s->closing && now >= s->grace_end)
			break;
		if (!take_next(s)) {
			struct timespec ts;

			if (s->ctr_dirty && (!ctr_failed || now - ctr_tried >= 1000)) {
				/* every batch before these values is in: write them */
				ctr_tried = now;
				pthread_mutex_unlock(&s->mu);
				ctr_failed = write_counters(s, err, sizeof(err)) < 0;
				pthread_mutex_lock(&s->mu);
				continue;
			}
			if (s->closing && !s->open)
				break;
			if (now - last_prune >= PRUNE_EVERY_MS && !s->u.cluster[0]) {
				int dropped;

				last_prune = now;
				pthread_mutex_unlock(&s->mu);
				if (ch_prune(s->conn, clock_wall_ms(), &dropped, err, sizeof(err)) ==
					    0 &&
				    dropped)
					fprintf(stderr,
						"halog: %s: %d expired day partitions dropped\n",
						s->u.text, dropped);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			clock_cond_deadline(&ts, 100);
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		if (backoff) {
			struct timespec ts;

			clock_cond_deadline(&ts, backoff);
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			if (clock_mono_ms() >= s->grace_end && s->closing)
				break;
		}
		pthread_mutex_unlock(&s->mu);
		int rc = deliver(s, s->inflight, err, sizeof(err));
		pthread_mutex_lock(&s->mu);
		if (rc == 0) {
			if (backoff)
				fprintf(stderr, "halog: %s: inserting again\n", s->u.text);
			done_inflight(s);
			backoff = 0;
			s->failing = 0;
			pthread_cond_signal(&s->room);
			continue;
		}
		s->failing = 1;
		pthread_cond_signal(&s->room);
		s->st.retries++;
		now = clock_mono_ms();
		if (!backoff || now - s->last_err_print >= 10000) {
			fprintf(stderr,
				"halog: %s: insert failed (%s): %" PRIu64
				" rows waiting, retrying\n",
				s->u.text, err, s->mem_rows + s->disk_rows);
			s->last_err_print = now;
		}
		backoff = backoff ? (backoff < 2000 ? backoff * 2 : 2000) : 100;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ------------------------------------------------------------------------ open and close */

struct chsink *chsink_open(const char *url, const char *default_spool, char *err, size_t errsz)
{
	struct chsink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->fd = -1;
	strbuf_init(&s->spare);
	strbuf_init(&s->native);
	strbuf_init(&s->gz);
	pthread_mutex_init(&s->mu, NULL);
	clock_cond_init(&s->cv);
	clock_cond_init(&s->room);
	if (ch_url_parse(url, &s->u, err, errsz) < 0)
		goto fail;
	ch_table(&s->u, "lines", s->lines, sizeof(s->lines));
	ch_table(&s->u, "counters", s->counters, sizeof(s->counters));
	{
		uint64_t r = 0;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint64_t)clock_mono_ns() ^ ((uint64_t)getpid() << 40);
		snprintf(s->run, sizeof(s->run), "%016" PRIx64, r);
	}
	s->spool_path = strdup(s->u.spool[0] ? s->u.spool : default_spool);
	if (!s->spool_path || !(s->conn = ch_conn_new(&s->u))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	if (spool_open(s, err, errsz) < 0)
		goto fail;
	if (pthread_create(&s->th, NULL, sender_main, s) != 0) {
		snprintf(err, errsz, "cannot start the sink's thread");
		goto fail;
	}
	s->started = 1;
	return s;
fail:
	chsink_close(s, 0, NULL);
	return NULL;
}

void chsink_set_wait(struct chsink *s, int on)
{
	pthread_mutex_lock(&s->mu);
	s->wait = on;
	pthread_mutex_unlock(&s->mu);
}

void chsink_get_stats(struct chsink *s, struct chsink_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	out->rows_waiting = s->mem_rows + s->disk_rows + (s->open ? s->open->rows : 0) +
			    (s->inflight && !s->inflight_disk ? s->inflight->rows : 0);
	pthread_mutex_unlock(&s->mu);
}

/* The receive time of the oldest row of the first spool record, or INT64_MAX. The spool's
 * records are newer than every memory batch and in the order they were made, so its first
 * record holds its oldest rows. Under mu. */
static int64_t spool_first_recv(struct chsink *s)
{
	unsigned char hdr[REC_HDR];

	if (s->fd < 0 || s->read_off + REC_HDR > s->size)
		return INT64_MAX;
	if (s->first_recv_off != s->read_off) {
		if (read_all(s->fd, hdr, REC_HDR, (off_t)s->read_off) < 0)
			return INT64_MIN; /* unknown: hold the watermark */
		s->first_recv = (int64_t)get64(hdr + 16);
		s->first_recv_off = s->read_off;
	}
	return s->first_recv;
}

int64_t chsink_watermark(struct chsink *s, int64_t now_ms)
{
	int64_t w = now_ms, v;

	pthread_mutex_lock(&s->mu);
	if (s->open && s->open->rows && s->open->min_recv < w)
		w = s->open->min_recv;
	if (s->inflight && s->inflight->min_recv < w)
		w = s->inflight->min_recv;
	for (const struct chbatch *b = s->head; b; b = b->next)
		if (b->min_recv < w)
			w = b->min_recv;
	v = spool_first_recv(s);
	if (v < w)
		w = v;
	pthread_mutex_unlock(&s->mu);
	return w;
}

const char *chsink_text(const struct chsink *s)
{
	return s->u.text;
}

/* After the thread stopped: everything unsent goes to the spool, in order: the memory batches
 * (inflight first) before the records already there. */
static void spool_rest(struct chsink *s)
{
	struct chbatch *mem = NULL, **tailp = &mem;
	uint64_t old_read = s->read_off, old_size = s->size;
	char *tmp = NULL;
	int ofd = s->fd;

	if (s->inflight && !s->inflight_disk) {
		s->inflight->next = s->head;
		s->head = s->inflight;
		if (!s->tail)
			s->tail = s->inflight;
	} else {
		batch_free(s->inflight);
	}
	s->inflight = NULL;
	if (s->open && s->open->rows) {
		if (s->tail)
			s->tail->next = s->open;
		else
			s->head = s->open;
		s->tail = s->open;
	} else {
		batch_free(s->open);
	}
	s->open = NULL;
	mem = s->head;
	s->head = s->tail = NULL;
	if (!mem || ofd < 0)
		goto drop;
	/* a new file: header, memory batches, then the old file's unsent records */
	if (asprintf(&tmp, "%s.tmp", s->spool_path) < 0) {
		tmp = NULL;
		goto drop;
	}
	s->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s->fd < 0)
		goto restore;
	{
		unsigned char hdr[SPOOL_HDR];

		memcpy(hdr, SPOOL_MAGIC, 8);
		put64(hdr + 8, SPOOL_HDR);
		if (write_all(s->fd, hdr, SPOOL_HDR, 0) < 0)
			goto restore;
	}
	s->size = SPOOL_HDR;
	s->read_off = SPOOL_HDR;
	s->disk_rows = 0;
	for (struct chbatch *b = mem; b; b = b->next)
		if (spool_append(s, b) < 0)
			goto restore;
	{
		char buf[65536];

		for (uint64_t off = old_read; off < old_size;) {
			size_t n = old_size - off < sizeof(buf) ? (size_t)(old_size - off) : sizeof(buf);

			if (read_all(ofd, buf, n, (off_t)off) < 0 ||
			    write_all(s->fd, buf, n, (off_t)s->size) < 0)
				goto restore;
			off += n;
			s->size += n;
		}
	}
	if (fsync(s->fd) < 0 || rename(tmp, s->spool_path) < 0)
		goto restore;
	close(ofd);
	for (struct chbatch *b = mem; b;) {
		struct chbatch *nx = b->next;

		s->mem_rows -= b->rows;
		batch_free(b);
		b = nx;
	}
	mem = NULL;
	/* the old records are in the new file: count them once */
	s->disk_rows = 0;
	{
		uint64_t len;

		for (uint64_t off = SPOOL_HDR; off < s->size; off += len) {
			struct chbatch *b = spool_read(s, off, &len);

			if (!b)
				break;
			s->disk_rows += b->rows;
			batch_free(b);
		}
	}
	free(tmp);
	return;
restore:
	if (s->fd >= 0)
		close(s->fd);
	unlink(tmp);
	s->fd = ofd;
	s->read_off = old_read;
	s->size = old_size;
drop:
	for (struct chbatch *b = mem; b;) {
		struct chbatch *nx = b->next;

		s->st.rows_overflow += b->rows;
		s->mem_rows -= b->rows;
		batch_free(b);
		b = nx;
	}
	(void)tailp;
	free(tmp);
}

void chsink_close(struct chsink *s, int64_t grace_ms, const char *who)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->closing = 1;
		s->grace_end = clock_mono_ms() + grace_ms;
		pthread_cond_signal(&s->cv);
		pthread_cond_signal(&s->room);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
		spool_rest(s);
	} else {
		batch_free(s->open);
		s->open = NULL;
	}
	if (who)
		fprintf(stderr,
			"%s: sink %s: added %" PRIu64 ", inserted %" PRIu64
			", already there %" PRIu64 ", overflow %" PRIu64 ", spooled %" PRIu64
			" (%s)\n",
			who, s->u.text, s->st.rows_added, s->st.rows_sent, s->st.rows_dup,
			s->st.rows_overflow, s->disk_rows, s->spool_path);
	for (struct chbatch *b = s->head; b;) {
		struct chbatch *nx = b->next;

		batch_free(b);
		b = nx;
	}
	batch_free(s->inflight);
	strbuf_release(&s->spare);
	strbuf_release(&s->native);
	strbuf_release(&s->gz);
	if (s->fd >= 0) {
		/* an empty spool is not left behind */
		if (s->disk_rows == 0 && s->locked)
			unlink(s->spool_path);
		close(s->fd);
	}
	ch_conn_free(s->conn);
	free(s->spool_path);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->room);
	free(s);
}
