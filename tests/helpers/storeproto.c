/* storeproto: the measurements behind the store's block layout (docs/storage.md). It parses a
 * log file with the real parser, cuts it into blocks, and times and sizes the choices: the
 * codec and level for the raw lines, the block size, two encodings of the parsed fields, the
 * scan speed of a word search over the compressed blocks (one and two threads, with and without
 * a per-block trigram sketch) and what SQLite costs to hold the blocks.
 *
 * usage: storeproto [--quick] [--word W]... [--db FILE] FILE
 *   --quick     one block size and codec (the chosen ones) instead of the whole matrix
 *   --word W    a word to count with the scan (default: "tarpit", "be_app", "haproxy")
 *   --db FILE   also store the chosen layout's blocks in a new SQLite file (WAL, 64 KiB pages)
 * Prints Markdown tables on stdout. Exit: 0 ok, 1 I/O error, 2 usage. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "clock.h"
#include "store/block.h"
#include "varint.h"

/* Helpers link only libcommon, so the parser is compiled in here (as parsebench does). */
#include "../../tools/halog/parse/logformat.c"
#include "../../tools/halog/parse/logparse.c"
#include "../../tools/halog/parse/logrec.c"
#include "../../tools/halog/parse/syslog.c"

/* ---- clocks and buffers ---- */
/* CPU time of the process (common/clock.h has no CPU clock): the measured sections run on one
 * thread, except the scans, whose CPU is the sum of their threads. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#define CPU() cpu_s()
#define WALL() clock_mono_s()

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "storeproto: out of memory\n");
		exit(1);
	}
	return p;
}

static void buf_need(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p) {
		fprintf(stderr, "storeproto: out of memory\n");
		exit(1);
	}
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	buf_need(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void put_uv(struct buf *b, uint64_t v)
{
	buf_need(b, VARINT_MAX);
	b->len += varint_put(b->p + b->len, v);
}

static inline void put_sv(struct buf *b, int64_t v)
{
	put_uv(b, zigzag(v));
}

/* ---- the input: lines and their parse results ---- */
struct line {
	const char *p;
	uint32_t len;
};

static char *data; /* the file */
static struct line *lines;
static struct logrec *recs;
static size_t nlines;
static double parse_cpu;

static void load(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "storeproto: cannot open '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	fseek(fp, 0, SEEK_END);
	long sz = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = xmalloc((size_t)sz + 1);
	if (fread(data, 1, (size_t)sz, fp) != (size_t)sz) {
		fprintf(stderr, "storeproto: cannot read '%s'\n", path);
		exit(1);
	}
	fclose(fp);
	size_t cap = 1 << 20;
	lines = xmalloc(cap * sizeof(*lines));
	for (char *p = data, *end = data + sz; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nlines == cap) {
			cap *= 2;
			lines = realloc(lines, cap * sizeof(*lines));
			if (!lines)
				exit(1);
		}
		lines[nlines].p = p;
		lines[nlines++].len = (uint32_t)(nl - p);
		p = nl + 1;
	}
	recs = xmalloc(nlines * sizeof(*recs));
	char err[256];
	struct logparser *lp = logparser_new(NULL, err, sizeof(err));
	if (!lp)
		exit(1);
	double c0 = CPU();
	for (size_t i = 0; i < nlines; i++) {
		logparse_message(lp, lines[i].p, lines[i].len, &recs[i]);
		if (recs[i].ts_ms != LR_NONE)
			logparser_set_now(lp, recs[i].ts_ms);
	}
	parse_cpu = CPU() - c0;
	logparser_free(lp);
}

/* ---- blocks ---- */
struct block {
	size_t first, n;
	size_t rawlen;
};
static struct block *blocks;
static size_t nblocks;

/* Cuts the lines into blocks of at most max_lines lines and max_bytes raw bytes. */
static void cut(size_t max_lines, size_t max_bytes)
{
	size_t cap = 64;
	free(blocks);
	blocks = xmalloc(cap * sizeof(*blocks));
	nblocks = 0;
	for (size_t i = 0; i < nlines;) {
		struct block b = {i, 0, 0};
		while (i < nlines && b.n < max_lines && b.rawlen + lines[i].len <= max_bytes) {
			b.rawlen += lines[i].len;
			b.n++;
			i++;
		}
		if (!b.n) { /* a line longer than max_bytes: alone */
			b.rawlen = lines[i].len;
			b.n = 1;
			i++;
		}
		if (nblocks == cap) {
			cap *= 2;
			blocks = realloc(blocks, cap * sizeof(*blocks));
			if (!blocks)
				exit(1);
		}
		blocks[nblocks++] = b;
	}
}

/* The raw bytes of block b: the lines, each followed by an LF. */
static void block_raw(const struct block *b, struct buf *out)
{
	out->len = 0;
	buf_need(out, b->rawlen + b->n);
	for (size_t i = b->first; i < b->first + b->n; i++) {
		memcpy(out->p + out->len, lines[i].p, lines[i].len);
		out->len += lines[i].len;
		out->p[out->len++] = '\n';
	}
}

/* ---- codecs ---- */
enum codec { C_ZSTD, C_ZLIB };
struct codec_cfg {
	const char *name;
	enum codec c;
	int level;
};

static size_t compress_buf(const struct codec_cfg *cc, ZSTD_CCtx *zc, const struct buf *in,
			   struct buf *out)
{
	out->len = 0;
	if (cc->c == C_ZSTD) {
		size_t bound = ZSTD_compressBound(in->len);
		buf_need(out, bound);
		size_t n = ZSTD_compressCCtx(zc, out->p, bound, in->p, in->len, cc->level);
		if (ZSTD_isError(n)) {
			fprintf(stderr, "storeproto: zstd: %s\n", ZSTD_getErrorName(n));
			exit(1);
		}
		out->len = n;
	} else {
		uLongf bound = compressBound((uLong)in->len);
		buf_need(out, bound);
		if (compress2(out->p, &bound, in->p, (uLong)in->len, cc->level) != Z_OK)
			exit(1);
		out->len = bound;
	}
	return out->len;
}

static void decompress_buf(enum codec c, ZSTD_DCtx *zd, const unsigned char *in, size_t inlen,
			   unsigned char *out, size_t outlen)
{
	if (c == C_ZSTD) {
		size_t n = ZSTD_decompressDCtx(zd, out, outlen, in, inlen);
		if (ZSTD_isError(n) || n != outlen) {
			fprintf(stderr, "storeproto: zstd decompress failed\n");
			exit(1);
		}
	} else {
		uLongf n = outlen;
		if (uncompress(out, &n, in, (uLong)inlen) != Z_OK || n != outlen)
			exit(1);
	}
}

/* Compresses in into out and back, adding the CPU time of each to *cc and *dc. */
static void timed_roundtrip(const struct codec_cfg *cc_cfg, ZSTD_CCtx *zc, ZSTD_DCtx *zd,
			    const struct buf *in, struct buf *out, struct buf *dec, double *cc,
			    double *dc)
{
	double c0 = CPU();
	compress_buf(cc_cfg, zc, in, out);
	*cc += CPU() - c0;
	dec->len = 0;
	buf_need(dec, in->len);
	c0 = CPU();
	decompress_buf(cc_cfg->c, zd, out->p, out->len, dec->p, in->len);
	*dc += CPU() - c0;
}

/* ---- the parsed fields: two encodings ---- */
/* A field of struct logrec kept per line, in a stream of its own. INT and TIMER values are
 * zigzag varints. NAME fields go through a per-block dictionary (a varint index). STR fields are
 * slices of the raw line, kept as (gap, length) where the gap is counted from an anchor: the
 * start or the end of the line or of another slice, forwards (start = anchor + gap) or
 * backwards (end = anchor - gap). With anchors that follow the layout of a log line the gaps are
 * almost constant, so they cost next to nothing once compressed. `reader` marks the fields a
 * reader filters, groups or sums on (encoding B keeps only those; the rest is re-derived by
 * parsing the raw line again). */
enum ftype { F_INT, F_TIMER, F_STR, F_NAME };
enum anchor { A_START, A_END, A_FIELD_START, A_FIELD_END }; /* of the line / of field ref */
struct field {
	const char *name;
	enum ftype t;
	size_t off;
	int reader;
	enum anchor an;
	int ref;  /* the anchor field (index in fields[]) for A_FIELD_* */
	int back; /* gap counted backwards: this slice ends gap bytes before the anchor */
};
#define FI(n, t, r)                                                                                \
	{                                                                                          \
#n, t, offsetof(struct logrec, n), r, A_START, -1, 0                               \
	}
#define FS(n, t, r, an, ref, back)                                                                 \
	{                                                                                          \
#n, t, offsetof(struct logrec, n), r, an, ref, back                                \
	}
enum {
	X_PRI,
	X_HOST,
	X_TAG,
	X_PID,
	X_SD,
	X_BODY,
	X_CLIENT_IP,
	X_CLIENT_PORT,
	X_FRONTEND,
	X_BIND,
	X_BACKEND,
	X_SERVER,
	X_TR,
	X_TW,
	X_TC,
	X_TRESP,
	X_TA,
	X_STATUS,
	X_BYTES,
	X_BYTES_UP,
	X_COOKIE_REQ,
	X_COOKIE_RESP,
	X_ACTCONN,
	X_FECONN,
	X_BECONN,
	X_SRVCONN,
	X_RETRIES,
	X_SRVQ,
	X_BEQ,
	X_REQUEST,
	X_CAP_RESP,
	X_CAP_REQ,
	X_METHOD,
	X_URI,
	X_PATH,
	X_QUERY,
	X_VERSION,
	X_SSL_SNI,
	X_SSL_VERSION,
	X_SSL_CIPHER,
	X_SSL_ERRORS,
	X_UNIQUE_ID,
	X_DST_IP,
	X_DST_PORT,
	X_MODE,
	X_MESSAGE,
	X_EV_PROXY,
	X_EV_SERVER,
	X_EV_STATE,
	X_EV_REASON,
	X_EV_INFO,
	X_EV_CHECK,
	X_EV_ACTIVE,
	X_EV_BACKUP,
	NFIELDS
};
static const struct field fields[NFIELDS] = {
	[X_PRI] = FI(pri, F_INT, 1), /* an int, read apart */
	[X_HOST] = FI(host, F_NAME, 1),
	[X_TAG] = FI(tag, F_NAME, 1),
	[X_PID] = FI(pid, F_INT, 1),
	[X_SD] = FS(sd, F_STR, 0, A_START, -1, 0),
	[X_BODY] = FS(body, F_STR, 1, A_START, -1, 0),
	[X_CLIENT_IP] = FS(client_ip, F_STR, 1, A_FIELD_START, X_BODY, 0),
	[X_CLIENT_PORT] = FI(client_port, F_INT, 0),
	[X_FRONTEND] = FI(frontend, F_NAME, 1),
	[X_BIND] = FI(bind, F_NAME, 1),
	[X_BACKEND] = FI(backend, F_NAME, 1),
	[X_SERVER] = FI(server, F_NAME, 1),
	[X_TR] = FI(t_req, F_TIMER, 1),
	[X_TW] = FI(t_wait, F_TIMER, 1),
	[X_TC] = FI(t_connect, F_TIMER, 1),
	[X_TRESP] = FI(t_resp, F_TIMER, 1),
	[X_TA] = FI(t_active, F_TIMER, 1),
	[X_STATUS] = FI(status_code, F_INT, 1),
	[X_BYTES] = FI(bytes_read, F_INT, 1),
	[X_BYTES_UP] = FI(bytes_uploaded, F_INT, 0),
	[X_COOKIE_REQ] = FS(cookie_req, F_STR, 0, A_FIELD_END, X_CLIENT_IP, 0),
	[X_COOKIE_RESP] = FS(cookie_resp, F_STR, 0, A_FIELD_END, X_COOKIE_REQ, 0),
	[X_ACTCONN] = FI(actconn, F_INT, 0),
	[X_FECONN] = FI(feconn, F_INT, 0),
	[X_BECONN] = FI(beconn, F_INT, 0),
	[X_SRVCONN] = FI(srv_conn, F_INT, 0),
	[X_RETRIES] = FI(retries, F_INT, 1),
	[X_SRVQ] = FI(srv_queue, F_INT, 0),
	[X_BEQ] = FI(backend_queue, F_INT, 0),
	[X_REQUEST] = FS(request, F_STR, 1, A_END, -1, 1),
	[X_CAP_RESP] = FS(cap_resp, F_STR, 0, A_FIELD_START, X_REQUEST, 1),
	[X_CAP_REQ] = FS(cap_req, F_STR, 0, A_FIELD_START, X_CAP_RESP, 1),
	[X_METHOD] = FI(method, F_NAME, 1),
	[X_URI] = FS(uri, F_STR, 1, A_FIELD_START, X_REQUEST, 0),
	[X_PATH] = FS(path, F_STR, 1, A_FIELD_START, X_URI, 0),
	[X_QUERY] = FS(query, F_STR, 1, A_FIELD_END, X_PATH, 0),
	[X_VERSION] = FI(version, F_NAME, 1),
	[X_SSL_SNI] = FS(ssl_sni, F_STR, 0, A_FIELD_END, X_CLIENT_IP, 0),
	[X_SSL_VERSION] = FI(ssl_version, F_NAME, 0),
	[X_SSL_CIPHER] = FI(ssl_cipher, F_NAME, 0),
	[X_SSL_ERRORS] = FS(ssl_errors, F_STR, 0, A_FIELD_END, X_CLIENT_IP, 0),
	[X_UNIQUE_ID] = FS(unique_id, F_STR, 0, A_FIELD_END, X_CLIENT_IP, 0),
	[X_DST_IP] = FS(dst_ip, F_STR, 1, A_FIELD_END, X_CLIENT_IP, 0),
	[X_DST_PORT] = FI(dst_port, F_INT, 1),
	[X_MODE] = FI(mode, F_NAME, 1),
	[X_MESSAGE] = FS(message, F_STR, 1, A_FIELD_START, X_BODY, 0),
	[X_EV_PROXY] = FI(ev_proxy, F_NAME, 1),
	[X_EV_SERVER] = FI(ev_server, F_NAME, 1),
	[X_EV_STATE] = FI(ev_state, F_NAME, 1),
	[X_EV_REASON] = FI(ev_reason, F_NAME, 1),
	[X_EV_INFO] = FS(ev_info, F_STR, 1, A_FIELD_START, X_BODY, 0),
	[X_EV_CHECK] = FI(ev_check_ms, F_TIMER, 1),
	[X_EV_ACTIVE] = FI(ev_active_left, F_INT, 1),
	[X_EV_BACKUP] = FI(ev_backup_left, F_INT, 1),
};
/* streams: one per field, plus the per-line ones */
enum { ST_LEN = NFIELDS, ST_TIME, ST_TS, ST_KIND, ST_MASK, ST_FLAGS, ST_TERM, ST_DICT, ST_N };

/* A tiny per-block dictionary of byte strings (open addressing on a small table). */
#define DICT_CAP 4096
struct dict {
	uint32_t hash[DICT_CAP];
	int32_t idx[DICT_CAP];
	const char *p[DICT_CAP];
	uint32_t len[DICT_CAP];
	int32_t n;
};

static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h | 1;
}

/* The index of s in d, added when new; -1 when the dictionary is full (then kept as a slice). */
static int32_t dict_id(struct dict *d, struct buf *out, const char *p, size_t n)
{
	uint32_t h = hash_bytes(p, n);
	for (uint32_t i = h & (DICT_CAP - 1);; i = (i + 1) & (DICT_CAP - 1)) {
		if (!d->hash[i]) {
			if (d->n >= DICT_CAP / 2)
				return -1;
			d->hash[i] = h;
			d->p[i] = p;
			d->len[i] = (uint32_t)n;
			d->idx[i] = d->n;
			put_uv(out, n);
			buf_add(out, p, n);
			return d->n++;
		}
		if (d->hash[i] == h && d->len[i] == n && !memcmp(d->p[i], p, n))
			return d->idx[i];
	}
}

/* Encodes the parsed fields of block b into out: streams back to back, each preceded by its
 * length. reader_only: encoding B (only the fields readers use). The raw lines are stored
 * LF-joined, so there is no length column (a line holding an LF would go to an exception
 * list; loggen writes none). */
static void encode_cols(const struct block *b, int reader_only, struct buf *st, struct buf *out,
			struct dict *d)
{
	for (int s = 0; s < ST_N; s++)
		st[s].len = 0;
	memset(d, 0, sizeof(*d));
	int64_t prev_recv = 0, prev_ts = 0;
	for (size_t i = b->first; i < b->first + b->n; i++) {
		const struct logrec *r = &recs[i];
		const char *raw = lines[i].p;
		uint64_t mask = 0;
		int64_t sstart[NFIELDS], send[NFIELDS];
		int64_t recv = 1764547200000 + (int64_t)(i / 65536) * 10; /* ingest: per chunk */
		put_sv(&st[ST_TIME], recv - prev_recv);
		prev_recv = recv;
		int64_t ts = r->ts_ms != LR_NONE       ? r->ts_ms
			     : r->syslog_ms != LR_NONE ? r->syslog_ms
						       : recv;
		put_sv(&st[ST_TS], ts - prev_ts);
		prev_ts = ts;
		buf_add(&st[ST_KIND], (unsigned char[]){(unsigned char)(r->kind | r->status << 4)},
			1);
		put_uv(&st[ST_FLAGS], r->flags | (uint64_t)r->framing << 16);
		if (r->term[0])
			buf_add(&st[ST_TERM], r->term, 4);
		for (int f = 0; f < (int)NFIELDS; f++) {
			const char *fp = (const char *)r + fields[f].off;
			struct buf *o = &st[f];
			sstart[f] = send[f] = -1;
			if (reader_only && !fields[f].reader)
				continue;
			switch (fields[f].t) {
			case F_INT: {
				int64_t v;
				if (f == X_PRI)
					v = r->pri < 0 ? LR_NONE : r->pri;
				else
					memcpy(&v, fp, sizeof(v));
				if (v == LR_NONE)
					continue;
				put_sv(o, v);
				break;
			}
			case F_TIMER: {
				int32_t v;
				memcpy(&v, fp, sizeof(v));
				if (v == LR_TIMER_NONE)
					continue;
				put_sv(o, v);
				break;
			}
			case F_NAME: {
				struct lr_str v;
				memcpy(&v, fp, sizeof(v));
				if (!v.p)
					continue;
				put_uv(o, (uint64_t)dict_id(d, &st[ST_DICT], v.p, v.len));
				break;
			}
			case F_STR: {
				struct lr_str v;
				memcpy(&v, fp, sizeof(v));
				if (!v.p)
					continue;
				int64_t start = v.p - raw, end = start + v.len, at;
				int ref = fields[f].ref;
				switch (fields[f].an) {
				case A_FIELD_START:
					if (sstart[ref] >= 0) {
						at = sstart[ref];
						break;
					}
					/* fallthrough */
				case A_START:
					at = fields[f].back ? (int64_t)lines[i].len : 0;
					break;
				case A_FIELD_END:
					if (send[ref] >= 0) {
						at = send[ref];
						break;
					}
					at = fields[f].back ? (int64_t)lines[i].len : 0;
					break;
				case A_END:
				default:
					at = (int64_t)lines[i].len;
					break;
				}
				put_sv(o, fields[f].back ? at - end : start - at);
				put_uv(o, v.len);
				sstart[f] = start;
				send[f] = end;
				break;
			}
			}
			mask |= (uint64_t)1 << f;
		}
		put_uv(&st[ST_MASK], mask);
	}
	out->len = 0;
	for (int s = 0; s < ST_N; s++) {
		put_uv(out, st[s].len);
		buf_add(out, st[s].p, st[s].len);
	}
}

/* Adds line i to the real block encoder, with the times the store would give it (ingest: one
 * receive time per 64 Ki lines). */
static void enc_line(struct block_enc *be, size_t i)
{
	const struct logrec *r = &recs[i];
	int64_t recv = 1764547200000 + (int64_t)(i / 65536) * 10;
	int64_t ts = r->ts_ms != LR_NONE ? r->ts_ms : r->syslog_ms != LR_NONE ? r->syslog_ms : recv;
	struct block_line ln = {lines[i].p, lines[i].len, recv, ts, "file:bench.log", 0};
	if (block_enc_add(be, &ln, r))
		exit(1);
}

/* ---- word search ---- */
static inline unsigned char lower(unsigned char c)
{
	return (unsigned char)(c + ((unsigned char)(c - 'A') < 26 ? 32 : 0));
}

/* Finds the first place at or after p where needle (lowercase, nlen >= 1) occurs ignoring ASCII
 * case, or NULL. With SSE2: 16 candidate positions at a time whose first and last bytes match,
 * then a full check of each (the "generic SIMD" substring search); otherwise a byte loop. */
#ifdef __SSE2__
#include <emmintrin.h>
static inline __m128i lower16(__m128i x)
{
	__m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
				   _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
	return _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20)));
}
#endif

static int eq_fold(const unsigned char *h, const char *n, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (lower(h[i]) != (unsigned char)n[i])
			return 0;
	return 1;
}

static const unsigned char *find_fold(const unsigned char *p, const unsigned char *end,
				      const char *needle, size_t nlen)
{
	if ((size_t)(end - p) < nlen)
		return NULL;
	const unsigned char *last = end - nlen; /* the last possible start */
#ifdef __SSE2__
	const __m128i f = _mm_set1_epi8(needle[0]), l = _mm_set1_epi8(needle[nlen - 1]);
	while (p + 16 <= last + 1) {
		__m128i a = lower16(_mm_loadu_si128((const __m128i *)(const void *)p));
		__m128i b = lower16(_mm_loadu_si128((const __m128i *)(const void *)(p + nlen - 1)));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
		while (m) {
			unsigned i = (unsigned)__builtin_ctz(m);
			if (eq_fold(p + i, needle, nlen))
				return p + i;
			m &= m - 1;
		}
		p += 16;
	}
#endif
	for (; p <= last; p++)
		if (lower(*p) == (unsigned char)needle[0] && eq_fold(p, needle, nlen))
			return p;
	return NULL;
}

/* Counts lines of the decoded block (LF-terminated lines) that contain needle (lowercase),
 * ignoring ASCII case. */
static size_t count_in_block(unsigned char *p, size_t len, const uint32_t *lens, size_t n,
			     const char *needle, size_t nlen)
{
	size_t count = 0;
	const unsigned char *cur = p, *end = p + len;
	(void)lens;
	(void)n;
	while (cur < end) {
		const unsigned char *m = find_fold(cur, end, needle, nlen);
		if (!m)
			break;
		/* the match must lie inside one line: no LF in it */
		if (memchr(m, '\n', nlen)) {
			cur = m + 1;
			continue;
		}
		count++;
		const unsigned char *nl = memchr(m + nlen, '\n', (size_t)(end - m - nlen));
		cur = nl ? nl + 1 : end;
	}
	return count;
}

/* Trigram sketch: a bitset of 1 << SK_BITS bits; the lowercased trigrams of the block set one
 * bit each. A word whose every trigram's bit is set may be in the block; otherwise it is not. */
#define SK_BITS 17
static inline uint32_t tri_hash(unsigned a, unsigned b, unsigned c)
{
	uint32_t h = (a << 16 | b << 8 | c) * 2654435761u;
	return h >> (32 - SK_BITS);
}

static void sketch_build(const unsigned char *p, size_t len, const uint32_t *lens, size_t n,
			 uint64_t *sk)
{
	memset(sk, 0, (1u << SK_BITS) / 8);
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *l = p + start;
		for (size_t j = 0; j + 2 < lens[i]; j++) {
			uint32_t h = tri_hash(lower(l[j]), lower(l[j + 1]), lower(l[j + 2]));
			sk[h >> 6] |= (uint64_t)1 << (h & 63);
		}
		start += lens[i] + 1;
	}
	(void)len;
}

static int sketch_may(const uint64_t *sk, const char *w, size_t n)
{
	for (size_t j = 0; j + 2 < n; j++) {
		uint32_t h = tri_hash((unsigned char)w[j], (unsigned char)w[j + 1],
				      (unsigned char)w[j + 2]);
		if (!(sk[h >> 6] & ((uint64_t)1 << (h & 63))))
			return 0;
	}
	return 1;
}

/* ---- the stored layout of one configuration ---- */
struct stored {
	enum codec c;
	unsigned char **raw; /* compressed raw per block */
	size_t *rawz;
	uint32_t **lens; /* line lengths (decoded from the column stream in the real thing) */
	uint64_t **sk;	 /* sketches, or NULL */
};

struct scan_job {
	struct stored *s;
	const char *word;
	size_t from, step;
	int use_sketch;
	size_t count, read;
};

static void *scan_main(void *arg)
{
	struct scan_job *j = arg;
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	unsigned char *tmp = NULL;
	size_t tcap = 0, wlen = strlen(j->word);
	for (size_t bi = j->from; bi < nblocks; bi += j->step) {
		const struct block *b = &blocks[bi];
		if (j->use_sketch && j->s->sk && !sketch_may(j->s->sk[bi], j->word, wlen))
			continue;
		if (b->rawlen + b->n > tcap) {
			free(tmp);
			tcap = b->rawlen + b->n;
			tmp = xmalloc(tcap);
		}
		decompress_buf(j->s->c, zd, j->s->raw[bi], j->s->rawz[bi], tmp, b->rawlen + b->n);
		j->read++;
		j->count +=
			count_in_block(tmp, b->rawlen + b->n, j->s->lens[bi], b->n, j->word, wlen);
	}
	free(tmp);
	ZSTD_freeDCtx(zd);
	return NULL;
}

/* Counts lines containing word over every block with nthreads threads; prints one row. */
static void scan(struct stored *s, const char *word, int nthreads, int use_sketch)
{
	struct scan_job jobs[8];
	pthread_t thr[8];
	double w0 = WALL(), c0 = CPU();
	for (int t = 0; t < nthreads; t++) {
		jobs[t] = (struct scan_job){s, word, (size_t)t, (size_t)nthreads, use_sketch, 0, 0};
		if (pthread_create(&thr[t], NULL, scan_main, &jobs[t]))
			exit(1);
	}
	size_t count = 0, read = 0;
	for (int t = 0; t < nthreads; t++) {
		pthread_join(thr[t], NULL);
		count += jobs[t].count;
		read += jobs[t].read;
	}
	double wall = WALL() - w0, cpu = CPU() - c0;
	printf("| `%s` | %d | %s | %zu | %zu of %zu | %.3f | %.3f |\n", word, nthreads,
	       use_sketch ? "yes" : "no", count, read, nblocks, wall, cpu);
}

static size_t grep_count(const char *word)
{
	size_t n = 0, wl = strlen(word);
	for (size_t i = 0; i < nlines; i++) {
		int hit = 0;
		for (size_t j = 0; !hit && j + wl <= lines[i].len; j++) {
			size_t k = 0;
			while (k < wl &&
			       lower((unsigned char)lines[i].p[j + k]) == (unsigned char)word[k])
				k++;
			hit = k == wl;
		}
		n += (size_t)hit;
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *dbpath = NULL;
	char *words[16];
	int nwords = 0, quick = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--word") && i + 1 < argc && nwords < 16)
			words[nwords++] = strdup(argv[++i]);
		else if (!strcmp(argv[i], "--db") && i + 1 < argc)
			dbpath = argv[++i];
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else {
			fprintf(stderr,
				"usage: storeproto [--quick] [--word W]... [--db FILE] FILE\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: storeproto [--quick] [--word W]... [--db FILE] FILE\n");
		return 2;
	}
	if (!nwords) {
		words[nwords++] = strdup("tarpit");
		words[nwords++] = strdup("be_legacy");
		words[nwords++] = strdup("haproxy");
	}
	for (int i = 0; i < nwords; i++) /* the scan compares lowercase */
		for (char *c = words[i]; *c; c++)
			*c = (char)lower((unsigned char)*c);

	double w0 = WALL();
	load(path);
	size_t total = 0;
	for (size_t i = 0; i < nlines; i++)
		total += lines[i].len + 1;
	printf("# storeproto: %s, %zu lines, %zu bytes (load + parse %.2f s wall, parse %.2f s "
	       "CPU, "
	       "%.0f lines/s)\n\n",
	       path, nlines, total, WALL() - w0, parse_cpu, (double)nlines / parse_cpu);

	static const struct codec_cfg codecs[] = {
		{"zstd --fast=3", C_ZSTD, -3}, {"zstd --fast=1", C_ZSTD, -1}, {"zstd 1", C_ZSTD, 1},
		{"zstd 3", C_ZSTD, 3},	       {"zstd 6", C_ZSTD, 6},	      {"zlib 1", C_ZLIB, 1},
		{"zlib 6", C_ZLIB, 6},
	};
	static const size_t sizes[][2] = {
		{1024, 256 << 10}, {4096, 1 << 20}, {16384, 4 << 20}, {65536, 16 << 20}};
	const struct codec_cfg *chosen = &codecs[2];
	const size_t *chosen_size = sizes[1];
	ZSTD_CCtx *zc = ZSTD_createCCtx();
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	struct buf in = {0}, out = {0}, dec = {0};

	/* 1. raw lines: codec x block size */
	printf("## Raw lines: codec and block size\n\n"
	       "| block (lines / bytes max) | codec | blocks | ratio to raw | bytes/line | "
	       "compress "
	       "CPU s | MB/s | decompress CPU s | MB/s |\n|---|---|---|---|---|---|---|---|---|\n");
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		if (quick && sizes[si] != chosen_size)
			continue;
		cut(sizes[si][0], sizes[si][1]);
		for (size_t ci = 0; ci < sizeof(codecs) / sizeof(codecs[0]); ci++) {
			if (quick && &codecs[ci] != chosen)
				continue;
			if (codecs[ci].c == C_ZLIB && sizes[si][0] != 4096)
				continue; /* zlib is slower at every size: one row is enough */
			size_t zbytes = 0, rawb = 0;
			double cc = 0, dc = 0;
			for (size_t bi = 0; bi < nblocks; bi++) {
				block_raw(&blocks[bi], &in);
				timed_roundtrip(&codecs[ci], zc, zd, &in, &out, &dec, &cc, &dc);
				zbytes += out.len;
				rawb += in.len;
			}
			printf("| %zu / %zu KiB | %s | %zu | %.3f | %.1f | %.3f | %.0f | %.3f | "
			       "%.0f |\n",
			       sizes[si][0], sizes[si][1] >> 10, codecs[ci].name, nblocks,
			       (double)zbytes / (double)total, (double)zbytes / (double)nlines, cc,
			       (double)rawb / cc / 1e6, dc, (double)rawb / dc / 1e6);
			fflush(stdout);
		}
	}

	/* 2. parsed fields: two encodings, chosen codec, chosen block size */
	cut(chosen_size[0], chosen_size[1]);
	struct buf st[ST_N];
	memset(st, 0, sizeof(st));
	struct dict *d = xmalloc(sizeof(*d));
	printf("\n## Parsed fields (%zu-line blocks, %s)\n\n"
	       "| encoding | encoded bytes/line | compressed bytes/line | ratio to raw | encode "
	       "CPU s "
	       "| compress CPU s | decompress CPU s |\n|---|---|---|---|---|---|---|\n",
	       chosen_size[0], chosen->name);
	for (int enc = 0; enc < 2; enc++) {
		size_t eb = 0, zb = 0;
		double ec = 0, cc = 0, dc = 0;
		for (size_t bi = 0; bi < nblocks; bi++) {
			double c0 = CPU();
			encode_cols(&blocks[bi], enc, st, &in, d);
			ec += CPU() - c0;
			timed_roundtrip(chosen, zc, zd, &in, &out, &dec, &cc, &dc);
			eb += in.len;
			zb += out.len;
		}
		printf("| %s | %.1f | %.1f | %.3f | %.3f | %.3f | %.3f |\n",
		       enc ? "B: the fields readers filter, group or sum on"
			   : "A: every parsed field",
		       (double)eb / (double)nlines, (double)zb / (double)nlines,
		       (double)zb / (double)total, ec, cc, dc);
	}
	/* what each stream of encoding B weighs, compressed alone */
	{
		size_t per[ST_N];
		memset(per, 0, sizeof(per));
		for (size_t bi = 0; bi < nblocks; bi++) {
			encode_cols(&blocks[bi], 1, st, &in, d);
			for (int s = 0; s < ST_N; s++) {
				if (!st[s].len)
					continue;
				compress_buf(chosen, zc, &st[s], &out);
				per[s] += out.len;
			}
		}
		printf("\nEncoding B, each stream compressed alone (bytes/line, the largest):");
		for (int k = 0; k < 8; k++) {
			int best = -1;
			for (int s = 0; s < ST_N; s++)
				if (per[s] && (best < 0 || per[s] > per[best]))
					best = s;
			if (best < 0)
				break;
			static const char *const extra[] = {"len",  "recv",  "ts",   "kind",
							    "mask", "flags", "term", "dict"};
			printf(" %s %.2f,",
			       best < (int)NFIELDS ? fields[best].name : extra[best - NFIELDS],
			       (double)per[best] / (double)nlines);
			per[best] = 0;
		}
		printf("\n");
	}

	/* 2b. the block codec as built (tools/halog/store/block.c): every parsed field */
	{
		struct block_enc *be = block_enc_new();
		struct block_zip *bz = block_zip_new();
		struct block_dec bd;
		memset(&bd, 0, sizeof(bd));
		double ec = 0, zc_raw = 0, zc_cols = 0, dc_cols = 0, dc_all = 0;
		size_t zraw = 0, zcols = 0, ucols = 0, nb = 0;
		char err[256];
		size_t i = 0;
		struct buf keepr = {0}, keepc = {0};
		while (i < nlines) {
			double c0 = CPU();
			block_enc_reset(be);
			while (i < nlines && block_enc_fits(be, lines[i].len))
				enc_line(be, i++);
			struct block_meta m;
			const void *raw, *cols, *z;
			if (block_enc_finish(be, &m, &raw, &cols))
				exit(1);
			ec += CPU() - c0;
			c0 = CPU();
			size_t n = block_zip_pack(bz, 0, raw, (size_t)m.raw_len, &z);
			zc_raw += CPU() - c0;
			zraw += n;
			keepr.len = 0;
			buf_add(&keepr, z, n);
			c0 = CPU();
			size_t nc = block_zip_pack(bz, 1, cols, (size_t)m.cols_len, &z);
			zc_cols += CPU() - c0;
			zcols += nc;
			ucols += (size_t)m.cols_len;
			keepc.len = 0;
			buf_add(&keepc, z, nc);
			nb++;
			/* read back: the columns alone, then columns and raw lines */
			const void *uc, *ur;
			struct block_rec br;
			c0 = CPU();
			if (block_zip_unpack(bz, 1, keepc.p, nc, (size_t)m.cols_len, &uc, err,
					     sizeof(err)) ||
			    block_dec_open(&bd, uc, (size_t)m.cols_len, NULL, 0, err, sizeof(err)))
				exit(1);
			while (block_dec_next(&bd, &br, err, sizeof(err)) == 1)
				;
			dc_cols += CPU() - c0;
			c0 = CPU();
			if (block_zip_unpack(bz, 0, keepr.p, n, (size_t)m.raw_len, &ur, err,
					     sizeof(err)) ||
			    block_zip_unpack(bz, 1, keepc.p, nc, (size_t)m.cols_len, &uc, err,
					     sizeof(err)) ||
			    block_dec_open(&bd, uc, (size_t)m.cols_len, ur, (size_t)m.raw_len, err,
					   sizeof(err)))
				exit(1);
			while (block_dec_next(&bd, &br, err, sizeof(err)) == 1)
				;
			dc_all += CPU() - c0;
		}
		printf("\n## The block codec as built (store/block.c: every parsed field, %zu "
		       "blocks)\n\n"
		       "| columns bytes/line | compressed columns bytes/line | raw compressed "
		       "bytes/line | "
		       "both, ratio to raw | encode CPU s | compress raw CPU s | compress columns "
		       "CPU s | "
		       "decode columns CPU s | decode columns + raw CPU s |\n"
		       "|---|---|---|---|---|---|---|---|---|\n"
		       "| %.1f | %.1f | %.1f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
		       nb, (double)ucols / (double)nlines, (double)zcols / (double)nlines,
		       (double)zraw / (double)nlines, (double)(zraw + zcols) / (double)total, ec,
		       zc_raw, zc_cols, dc_cols, dc_all);
		free(keepr.p);
		free(keepc.p);
		block_dec_release(&bd);
		block_zip_free(bz);
		block_enc_free(be);
	}

	/* 3. the stored layout of the chosen configuration, and the search scan over it */
	struct stored s = {chosen->c, NULL, NULL, NULL, NULL};
	s.raw = xmalloc(nblocks * sizeof(*s.raw));
	s.rawz = xmalloc(nblocks * sizeof(*s.rawz));
	s.lens = xmalloc(nblocks * sizeof(*s.lens));
	s.sk = xmalloc(nblocks * sizeof(*s.sk));
	double skc = 0;
	for (size_t bi = 0; bi < nblocks; bi++) {
		const struct block *b = &blocks[bi];
		block_raw(b, &in);
		compress_buf(chosen, zc, &in, &out);
		s.raw[bi] = xmalloc(out.len);
		memcpy(s.raw[bi], out.p, out.len);
		s.rawz[bi] = out.len;
		s.lens[bi] = xmalloc(b->n * sizeof(uint32_t));
		for (size_t i = 0; i < b->n; i++)
			s.lens[bi][i] = lines[b->first + i].len;
		s.sk[bi] = xmalloc((1u << SK_BITS) / 8);
		double c0 = CPU();
		sketch_build(in.p, in.len, s.lens[bi], b->n, s.sk[bi]);
		skc += CPU() - c0;
	}
	printf("\n## Word search: count the lines holding a word (ASCII case ignored)\n\n"
	       "Trigram sketch: %u bits (%u KiB) per block, built in %.3f s CPU (%.0f ns/line).\n\n"
	       "| word | threads | sketch | count | blocks read | wall s | CPU s |\n"
	       "|---|---|---|---|---|---|---|\n",
	       1u << SK_BITS, (1u << SK_BITS) / 8192, skc, skc * 1e9 / (double)nlines);
	for (int w = 0; w < nwords; w++) {
		size_t want = grep_count(words[w]);
		scan(&s, words[w], 1, 0);
		scan(&s, words[w], 2, 0);
		scan(&s, words[w], 2, 1);
		printf("| (`%s`: %zu lines by a plain line-by-line check) |||||||\n", words[w],
		       want);
		fflush(stdout);
	}

	/* 4. SQLite: the blocks as rows (raw + columns + time range), one transaction per 64 */
	if (dbpath) {
		sqlite3 *db;
		sqlite3_stmt *ins;
		remove(dbpath);
		if (sqlite3_open(dbpath, &db) != SQLITE_OK)
			return 1;
		sqlite3_exec(
			db,
			"PRAGMA page_size=65536; PRAGMA journal_mode=WAL; PRAGMA "
			"synchronous=NORMAL;"
			"CREATE TABLE blocks(id INTEGER PRIMARY KEY, first_id INTEGER, n INTEGER,"
			" recv_min INTEGER, recv_max INTEGER, ts_min INTEGER, ts_max INTEGER,"
			" raw BLOB, cols BLOB);"
			"CREATE INDEX blocks_recv ON blocks(recv_max);"
			"CREATE INDEX blocks_ts ON blocks(ts_max, ts_min);",
			NULL, NULL, NULL);
		sqlite3_prepare_v2(db, "INSERT INTO blocks VALUES(?,?,?,?,?,?,?,?,?)", -1, &ins,
				   NULL);
		double w1 = WALL(), c1 = CPU();
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		struct buf cz = {0};
		struct block_enc *be = block_enc_new();
		for (size_t bi = 0; bi < nblocks; bi++) {
			const struct block *b = &blocks[bi];
			/* the columns as the store writes them (block.c) */
			struct block_meta m;
			const void *braw, *bcols;
			block_enc_reset(be);
			for (size_t i = b->first; i < b->first + b->n; i++)
				enc_line(be, i);
			if (block_enc_finish(be, &m, &braw, &bcols))
				exit(1);
			in.len = 0;
			buf_add(&in, bcols, (size_t)m.cols_len);
			compress_buf(chosen, zc, &in, &cz);
			sqlite3_bind_int64(ins, 1, (int64_t)bi + 1);
			sqlite3_bind_int64(ins, 2, (int64_t)b->first + 1);
			sqlite3_bind_int64(ins, 3, (int64_t)b->n);
			for (int k = 4; k <= 7; k++)
				sqlite3_bind_int64(ins, k, 1764547200000 + (int64_t)bi);
			sqlite3_bind_blob(ins, 8, s.raw[bi], (int)s.rawz[bi], SQLITE_STATIC);
			sqlite3_bind_blob(ins, 9, cz.p, (int)cz.len, SQLITE_STATIC);
			if (sqlite3_step(ins) != SQLITE_DONE)
				return 1;
			sqlite3_reset(ins);
			if (bi % 64 == 63) {
				sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
				sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
			}
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_finalize(ins);
		sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(db);
		FILE *fp = fopen(dbpath, "rb");
		long sz = 0;
		if (fp) {
			fseek(fp, 0, SEEK_END);
			sz = ftell(fp);
			fclose(fp);
		}
		block_enc_free(be);
		printf("\n## SQLite holding the blocks\n\n%zu block rows (raw + columns as built, "
		       "%s, %zu-line "
		       "blocks): %ld bytes, %.3f of the raw log, %.1f bytes/line; insert + encode "
		       "+ "
		       "compress columns %.2f s wall, %.2f s CPU (this thread)\n",
		       nblocks, chosen->name, chosen_size[0], sz, (double)sz / (double)total,
		       (double)sz / (double)nlines, WALL() - w1, CPU() - c1);
		free(cz.p);
	}
	for (size_t bi = 0; bi < nblocks; bi++) {
		free(s.raw[bi]);
		free(s.lens[bi]);
		free(s.sk[bi]);
	}
	free(s.raw);
	free(s.rawz);
	free(s.lens);
	free(s.sk);
	for (int k = 0; k < ST_N; k++)
		free(st[k].p);
	free(d);
	free(in.p);
	free(out.p);
	free(dec.p);
	for (int w = 0; w < nwords; w++)
		free(words[w]);
	free(blocks);
	free(recs);
	free(lines);
	free(data);
	ZSTD_freeCCtx(zc);
	ZSTD_freeDCtx(zd);
	return 0;
}
