/* halog ingest's engine: gzip-or-plain input split into lines, each parsed and stored. */
#include "listen/ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "parse/logparse.h"
#include "store/store.h"

#define INGEST_CHUNK (1024 * 1024)

/* zlib's message without the "PATH: " it puts in front. */
static const char *zmessage(const char *msg, const char *path)
{
	size_t n = strlen(path);
	if (!strncmp(msg, path, n) && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
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

static int commit(struct store *st, struct ingest_stats *stats, struct ingest_stats *pend,
		  char *err, size_t errsz)
{
	if (store_commit(st)) {
		snprintf(err, errsz, "cannot commit %llu lines: %s",
			 (unsigned long long)pend->lines, store_errmsg(st));
		memset(pend, 0, sizeof(*pend));
		return -1;
	}
	fold(stats, pend);
	return 0;
}

struct reader {
	struct store *st;
	struct logparser *lp; /* its "now" follows the file's own dates (see add_line) */
	const char *src;
	int64_t last_ts; /* time of the last line that had one, or LR_NONE */
};

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
	msg.raw = line;
	msg.len = len;
	msg.recv_ms = recv;
	msg.source = rd->src;
	msg.flags = truncated ? STORE_MSG_TRUNCATED : 0;
	if (store_add(st, &msg, &rec)) {
		snprintf(err, errsz, "cannot store a line: %s", store_errmsg(st));
		store_rollback(st);
		return -1;
	}
	pend->lines++;
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

int ingest_path(struct store *st, struct logparser *lp, const char *path, const char *source,
		size_t batch, struct ingest_stats *stats, char *err, size_t errsz)
{
	int ret = -1;
	char *buf = NULL;   /* INGEST_CHUNK of input */
	char *carry = NULL; /* a line spanning chunks, up to INGEST_MAX_LINE */
	size_t clen = 0;
	int skipping = 0; /* past the cap of the current line: drop bytes until LF */
	struct ingest_stats pend;
	gzFile gz;

	struct reader rd = {st, lp, source, LR_NONE};

	memset(&pend, 0, sizeof(pend));
	if (!batch)
		batch = INGEST_BATCH;
	if (!strcmp(path, "-")) {
		int fd = dup(0);
		gz = fd == -1 ? NULL : gzdopen(fd, "rb");
		if (!gz && fd != -1)
			close(fd);
	} else {
		gz = gzopen(path, "rb");
	}
	if (!gz) {
		snprintf(err, errsz, "cannot open '%s': %s", path,
			 errno ? strerror(errno) : "out of memory");
		return -1;
	}
	gzbuffer(gz, INGEST_CHUNK);
	buf = malloc(INGEST_CHUNK);
	carry = malloc(INGEST_MAX_LINE);
	if (!buf || !carry) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	for (;;) {
		int n = gzread(gz, buf, INGEST_CHUNK);
		if (n < 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			snprintf(err, errsz, "cannot read '%s': %s", path,
				 zerr == Z_ERRNO ? strerror(errno) : zmessage(msg, path));
			/* keep what was read: the partial line and the open batch */
			if (clen && add_line(&rd, carry, clen, skipping, clock_wall_ms(), &pend,
					     err + strlen(err), 0))
				goto out;
			commit(st, stats, &pend, err, 0);
			goto out;
		}
		if (n == 0)
			break;
		stats->bytes += (uint64_t)n;
		int64_t recv = clock_wall_ms();
		const char *p = buf, *end = buf + n;
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
				if (add_line(&rd, line, len, trunc, recv, &pend, err, errsz))
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
					if (add_line(&rd, carry, clen, skipping, recv, &pend, err,
						     errsz))
						goto out;
					clen = 0;
					skipping = 0;
				}
			}
			p = nl ? nl + 1 : end;
			if (pend.lines >= batch && commit(st, stats, &pend, err, errsz))
				goto out;
		}
	}
	/* a last line without LF is a line too */
	if ((clen || skipping) && add_line(&rd, carry, clen, skipping, clock_wall_ms(), &pend, err, errsz))
		goto out;
	if (commit(st, stats, &pend, err, errsz))
		goto out;
	/* a gzip stream cut short reads as a clean end: zlib says so only here */
	int zerr;
	const char *zmsg = gzerror(gz, &zerr);
	if (zerr != Z_OK && zerr != Z_STREAM_END) {
		snprintf(err, errsz, "cannot read '%s': %s (the lines before were stored)", path,
			 zmessage(zmsg, path));
		goto out;
	}
	ret = 0;
out:
	gzclose(gz);
	free(buf);
	free(carry);
	return ret;
}

int ingest_sink_line(struct ingest_sink *k, const char *line, size_t len, int truncated,
		     int64_t recv, char *err, size_t errsz)
{
	struct reader rd = {k->st, k->lp, k->source, k->last_ts};
	int rc = add_line(&rd, line, len, truncated, recv, &k->pend, err, errsz);
	k->last_ts = rd.last_ts;
	if (rc)
		memset(&k->pend, 0, sizeof(k->pend));
	return rc;
}

int ingest_sink_commit(struct ingest_sink *k, struct ingest_stats *stats, char *err, size_t errsz)
{
	return commit(k->st, stats, &k->pend, err, errsz);
}
