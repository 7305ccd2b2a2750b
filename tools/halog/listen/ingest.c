/* halog ingest's engine: gzip-or-plain input split into lines, each parsed and stored. */
#include "listen/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "parse/logparse.h"
#include "store/chsink.h"
#include "store/store.h"

#define INGEST_CHUNK (1024 * 1024)

/* zlib's message without the "PATH: " it puts in front ("<fd:N>: " for a stream it was given
 * as a descriptor). */
static const char *zmessage(const char *msg, const char *path)
{
	size_t n = strlen(path);
	if (!strncmp(msg, path, n) && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	if (!strncmp(msg, "<fd:", 4)) {
		const char *e = strstr(msg, ">: ");
		if (e)
			return e + 3;
	}
	return msg;
}

/* Whether fd is a regular file that is not gzip: read with read(2) rather than through zlib,
 * whose transparent mode copies every byte once more (1.8% of a whole ingest's instructions,
 * all on the reading thread). Pipes and stdin keep zlib. */
static int plain_file(int fd)
{
	struct stat sb;
	unsigned char m[2];
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		return 0;
	return !(pread(fd, m, sizeof(m), 0) == 2 && m[0] == 0x1f && m[1] == 0x8b);
}

/* Reads up to n bytes of fd into buf, fewer only at its end, as gzread does. Returns how many,
 * or -1 (errno). */
static int read_full(int fd, char *buf, int n)
{
	int got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, (size_t)(n - got));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (int)r;
	}
	return got;
}

struct batch_stats {
	struct ingest_stats s; /* lines of the open batch, folded into the caller's on commit */
};

static void fold(struct ingest_stats *dst, struct ingest_stats *src)
{
	dst->lines += src->lines;
	dst->parsed += src->parsed;
	dst->partial += src->partial;
	dst->unparsed += src->unparsed;
	dst->truncated += src->truncated;
	for (int k = 0; k < LR_KIND_MAX; k++)
		dst->by_kind[k] += src->by_kind[k];
	memset(src, 0, sizeof(*src));
}

struct reader {
	struct store *st;
	struct logparser *lp; /* its "now" follows the file's own dates (see add_line) */
	const char *src;
	int64_t last_ts;   /* time of the last line that had one, or LR_NONE */
	int64_t last_recv; /* INGEST_REPLAY: receive time of the last line */
	unsigned flags;
	unsigned msg_flags;    /* STORE_MSG_NO_LF when lines come split at LFs */
	struct ingest_opts *o; /* recv_first / recv_step */
	/* what the store remembers of this input: its first line, and how much was taken */
	char ident[INGEST_IDENT_MAX];
	size_t identlen; /* 0: not remembered */
	uint64_t taken;	 /* input bytes of the lines added so far (committed or in the batch) */
	uint64_t ntaken; /* those lines */
	uint64_t marked; /* taken as last recorded in the store */
};

/* Commits the batch, with the reader's progress on its input in the same transaction. An
 * intermediate batch (wait 0) is handed to the store's writer thread while reading goes on; a
 * failure shows at the next commit (the lines of the batches not committed are then rolled
 * back, and a later ingest of the input takes them again). */
static int commit(struct reader *rd, struct ingest_stats *stats, struct ingest_stats *pend,
		  int wait, char *err, size_t errsz)
{
	struct store *st = rd->st;
	if (!st) { /* --db none: the sink has the lines */
		fold(stats, pend);
		return 0;
	}
	if (rd->identlen && rd->taken != rd->marked) {
		struct store_file f = {(int64_t)rd->taken, (int64_t)rd->ntaken, clock_wall_ms()};
		if (store_file_set(st, rd->ident, rd->identlen, rd->src, &f)) {
			snprintf(err, errsz, "%s", store_errmsg(st));
			store_rollback(st);
			memset(pend, 0, sizeof(*pend));
			return -1;
		}
	}
	if (wait ? store_commit(st) : store_commit_async(st)) {
		rd->marked = UINT64_MAX; /* unknown: record it again with the next batch */
		snprintf(err, errsz, "cannot commit %llu lines: %s",
			 (unsigned long long)pend->lines, store_errmsg(st));
		memset(pend, 0, sizeof(*pend));
		return -1;
	}
	rd->marked = rd->taken;
	fold(stats, pend);
	return 0;
}

/* Parses and stores one line. A line without a date (unparsed, or a header-less event) is
 * stored at the time of the line before it rather than at the time the file was read. */
static int add_line(struct reader *rd, const char *line, size_t len, int truncated, int64_t recv,
		    struct ingest_stats *pend, char *err, size_t errsz)
{
	struct store *st = rd->st;
	struct logrec rec;
	struct store_msg msg;
	size_t plen = len;
	/* the parser sees the line without trailing CR/NULs; the raw copy keeps them */
	while (plen && (line[plen - 1] == '\r' || line[plen - 1] == '\0'))
		plen--;
	logparse_message(rd->lp, line, plen, &rec);
	if (truncated)
		rec.flags |= LR_F_TRUNCATED;
	if (rec.ts_ms != LR_NONE) {
		rd->last_ts = rec.ts_ms;
		/* a syslog date has no year: an old file's event lines take the year of the
		 * traffic around them, not the year the file is read */
		logparser_set_now(rd->lp, rec.ts_ms);
	} else if (rec.syslog_ms != LR_NONE)
		rd->last_ts = rec.syslog_ms;
	else if (rd->last_ts != LR_NONE)
		rec.ts_ms = rd->last_ts;
	if (rd->flags & INGEST_REPLAY) {
		/* received when logged: the syslog header's time, else the body's */
		if (rec.syslog_ms != LR_NONE)
			rd->last_recv = rec.syslog_ms;
		else if (rec.ts_ms != LR_NONE)
			rd->last_recv = rec.ts_ms;
		if (rd->last_recv != LR_NONE)
			recv = rd->last_recv;
	}
	if (rd->o->recv_step > 0) {
		recv = rd->o->recv_first;
		rd->o->recv_first += rd->o->recv_step;
	}
	msg.raw = line;
	msg.len = len;
	msg.recv_ms = recv;
	msg.source = rd->src;
	msg.flags = rd->msg_flags | (truncated ? STORE_MSG_TRUNCATED : 0);
	if (rd->o->sink) /* a line is read once, except after a failed commit (docs/scaling.md) */
		chsink_add(rd->o->sink, CHSINK_NEW, &msg, &rec);
	if (st && store_add(st, &msg, &rec)) {
		snprintf(err, errsz, "cannot store a line: %s", store_errmsg(st));
		store_rollback(st);
		return -1;
	}
	pend->lines++;
	rd->ntaken++;
	if (rec.kind == LR_UNPARSED)
		pend->unparsed++;
	else
		pend->parsed++;
	if (rec.status == LR_PARTIAL)
		pend->partial++;
	if ((unsigned)rec.kind < LR_KIND_MAX)
		pend->by_kind[rec.kind]++;
	if (truncated)
		pend->truncated++;
	return 0;
}

/* The identity of an input from its first n bytes: whole lines covering at least
 * INGEST_IDENT_MIN bytes, at most INGEST_IDENT_MAX; else, for an input with no LF that early,
 * its first INGEST_IDENT_MAX bytes. Sets rd->identlen (0: the input is too short to be known
 * again: it is not remembered). */
#define INGEST_IDENT_MIN 64
static void identify(struct reader *rd, const char *buf, size_t n)
{
	size_t lim = n < INGEST_IDENT_MAX ? n : INGEST_IDENT_MAX;
	const char *p = buf, *nl;
	rd->identlen = 0;
	while ((nl = memchr(p, '\n', lim - (size_t)(p - buf)))) {
		if ((size_t)(nl + 1 - buf) >= INGEST_IDENT_MIN) {
			rd->identlen = (size_t)(nl + 1 - buf);
			break;
		}
		p = nl + 1;
	}
	if (!rd->identlen && n >= INGEST_IDENT_MAX)
		rd->identlen = INGEST_IDENT_MAX;
	memcpy(rd->ident, buf, rd->identlen);
}

int ingest_path(struct store *st, struct logparser *lp, const char *path, const char *source,
		struct ingest_opts *o, struct ingest_stats *stats, struct ingest_skip *skip,
		char *err, size_t errsz)
{
	size_t batch = o->batch;
	unsigned flags = o->flags;
	int ret = -1;
	char *buf = NULL;   /* INGEST_CHUNK of input */
	char *carry = NULL; /* a line spanning chunks, up to INGEST_MAX_LINE */
	size_t clen = 0;
	int skipping = 0; /* past the cap of the current line: drop bytes until LF */
	struct ingest_stats pend;
	gzFile gz = NULL;
	int plain = -1; /* a plain file read directly (plain_file), else -1 and gz */
	struct reader *rd = calloc(1, sizeof(*rd)); /* large: not on the stack */
	uint64_t base = 0;			    /* input offset of buf[0] */
	uint64_t to_skip = 0;			    /* input bytes the store took before */

	memset(skip, 0, sizeof(*skip));
	if (!rd) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	struct reader rd_init = {.st = st,
				 .lp = lp,
				 .src = source,
				 .last_ts = LR_NONE,
				 .last_recv = LR_NONE,
				 .flags = flags,
				 .msg_flags = STORE_MSG_NO_LF,
				 .o = o};
	*rd = rd_init;

	memset(&pend, 0, sizeof(pend));
	if (!batch)
		batch = INGEST_BATCH;
	if (!strcmp(path, "-")) {
		int fd = dup(0);
		gz = fd == -1 ? NULL : gzdopen(fd, "rb");
		if (!gz && fd != -1)
			close(fd);
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		errno = fd == -1 ? errno : 0;
		if (fd != -1 && plain_file(fd))
			plain = fd;
		else if (fd != -1 && !(gz = gzdopen(fd, "rb")))
			close(fd);
	}
	if (!gz && plain == -1) {
		snprintf(err, errsz, "cannot open '%s': %s", path,
			 errno ? strerror(errno) : "out of memory");
		free(rd);
		return -1;
	}
	if (gz)
		gzbuffer(gz, INGEST_CHUNK);
	buf = malloc(INGEST_CHUNK);
	carry = malloc(INGEST_MAX_LINE);
	if (!buf || !carry) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	for (;;) {
		int n = gz ? gzread(gz, buf, INGEST_CHUNK) : read_full(plain, buf, INGEST_CHUNK);
		if (n < 0) {
			int zerr = Z_ERRNO;
			const char *msg = gz ? gzerror(gz, &zerr) : "";
			snprintf(err, errsz, "cannot read '%s': %s", path,
				 zerr == Z_ERRNO ? strerror(errno) : zmessage(msg, path));
			/* keep what was read: the partial line and the open batch */
			if (clen && add_line(rd, carry, clen, skipping, clock_wall_ms(), &pend,
					     err + strlen(err), 0))
				goto out;
			commit(rd, stats, &pend, 1, err, 0);
			goto out;
		}
		if (n == 0)
			break;
		if (!base) {
			/* the first bytes: is this an input the store took lines from before? */
			identify(rd, buf, (size_t)n);
			skip->unknowable = !rd->identlen;
			struct store_file f;
			int known = rd->identlen && st ? store_file_get(st, rd->ident, rd->identlen,
									&f, NULL, 0)
						       : 0;
			if (known < 0) {
				snprintf(err, errsz, "%s", store_errmsg(st));
				goto out;
			}
			if (known) {
				skip->known = 1;
				skip->at_ms = f.at_ms;
				if (!(flags & INGEST_FORCE)) {
					to_skip = rd->taken = rd->marked = (uint64_t)f.bytes;
					rd->ntaken = (uint64_t)f.lines;
					skip->lines = (uint64_t)f.lines;
				}
			}
		}
		stats->bytes += (uint64_t)n;
		int64_t recv = clock_wall_ms();
		const char *p = buf, *end = buf + n;
		base += (uint64_t)n;
		if (to_skip) {
			size_t k = to_skip < (uint64_t)n ? (size_t)to_skip : (size_t)n;
			p += k;
			to_skip -= k;
			skip->bytes += k;
		}
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl : end;
			size_t seg = (size_t)(stop - p);
			if (!clen && !skipping && nl) {
				/* the common case: the whole line is in this chunk */
				const char *line = p;
				size_t len = seg;
				int trunc = 0;
				if (len > INGEST_MAX_LINE) {
					len = INGEST_MAX_LINE;
					trunc = 1;
				}
				rd->taken = base - (uint64_t)(end - nl) + 1;
				if (add_line(rd, line, len, trunc, recv, &pend, err, errsz))
					goto out;
			} else {
				if (!skipping) {
					size_t room = INGEST_MAX_LINE - clen;
					size_t take = seg < room ? seg : room;
					memcpy(carry + clen, p, take);
					clen += take;
					if (take < seg)
						skipping = 1;
				}
				if (nl) {
					rd->taken = base - (uint64_t)(end - nl) + 1;
					if (add_line(rd, carry, clen, skipping, recv, &pend, err,
						     errsz))
						goto out;
					clen = 0;
					skipping = 0;
				}
			}
			p = nl ? nl + 1 : end;
			if (pend.lines >= batch && commit(rd, stats, &pend, 0, err, errsz))
				goto out;
		}
	}
	/* a last line without LF is a line too */
	rd->taken = base > rd->taken ? base : rd->taken;
	if ((clen || skipping) &&
	    add_line(rd, carry, clen, skipping, clock_wall_ms(), &pend, err, errsz))
		goto out;
	if (commit(rd, stats, &pend, 1, err, errsz))
		goto out;
	/* a gzip stream cut short reads as a clean end: zlib says so only here */
	int zerr = Z_OK;
	const char *zmsg = gz ? gzerror(gz, &zerr) : "";
	if (zerr != Z_OK && zerr != Z_STREAM_END) {
		snprintf(err, errsz, "cannot read '%s': %s (the lines before were stored)", path,
			 zmessage(zmsg, path));
		goto out;
	}
	ret = 0;
out:
	if (gz)
		gzclose(gz);
	else
		close(plain);
	free(buf);
	free(carry);
	free(rd);
	return ret;
}

/* The reader of a sink: one line at a time, nothing remembered of the input (the follower keeps
 * its own position), receive times as read. */
static struct reader sink_reader(struct ingest_sink *k, struct ingest_opts *none)
{
	memset(none, 0, sizeof(*none));
	struct reader rd = {.st = k->st,
			    .lp = k->lp,
			    .src = k->source,
			    .last_ts = k->last_ts,
			    .last_recv = LR_NONE,
			    .o = none};
	return rd;
}

int ingest_sink_line(struct ingest_sink *k, const char *line, size_t len, int truncated,
		     int64_t recv, char *err, size_t errsz)
{
	struct ingest_opts none;
	struct reader rd = sink_reader(k, &none);
	int rc = add_line(&rd, line, len, truncated, recv, &k->pend, err, errsz);
	k->last_ts = rd.last_ts;
	if (rc)
		memset(&k->pend, 0, sizeof(k->pend));
	return rc;
}

int ingest_sink_commit(struct ingest_sink *k, struct ingest_stats *stats, char *err, size_t errsz)
{
	struct ingest_opts none;
	struct reader rd = sink_reader(k, &none);
	return commit(&rd, stats, &k->pend, 1, err, errsz);
}
