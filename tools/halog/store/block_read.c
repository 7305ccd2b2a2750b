/* Lines out of blocks (block_read.h): the blocks a selection can touch, chosen by their
 * summary columns (positions, receive and line times); each decoded and filtered line by line.
 * Word searches find candidate lines with a case-folding scan of the raw lines first. */
#include "store/block_read.h"

#include <pthread.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "store/block.h"
#include "store/blockdb.h"
#include "store/rollup.h"
#include "store/store.h"

#define EVENT_KINDS                                                                                \
	(STORE_KIND(LR_CONNECT) | STORE_KIND(LR_CONN_ERROR) | STORE_KIND(LR_SERVER) |              \
	 STORE_KIND(LR_CHECK) | STORE_KIND(LR_NOSRV) | STORE_KIND(LR_PROXY))
#define MAX_WORDS 8

static int fail(char *err, size_t errsz, const char *what, sqlite3 *db)
{
	snprintf(err, errsz, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

int bread_end(sqlite3 *db, int64_t *end, char *err, size_t errsz)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT first_id + n FROM blocks ORDER BY first_id DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(err, errsz, "cannot read the store", db);
	int rc = sqlite3_step(s);
	*end = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 1;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(err, errsz, "cannot read the store", db);
	return 0;
}

/* ------------------------------------------------------------------------ stopping */

/* A read's bread_stop, asked by one thread at a time; once it says stop, the read stops. */
struct stopper {
	struct bread_stop stop; /* fn NULL: never stops */
	pthread_mutex_t mu;
	int stopped;	/* guarded by mu */
	unsigned every; /* lines between two questions */
};

static void stopper_init(struct stopper *sp, const struct bread_stop *stop, int has_regex)
{
	memset(sp, 0, sizeof(*sp));
	if (stop)
		sp->stop = *stop;
	sp->every = has_regex ? 1 : BREAD_STOP_EVERY;
	pthread_mutex_init(&sp->mu, NULL);
}

static void stopper_release(struct stopper *sp)
{
	pthread_mutex_destroy(&sp->mu);
}

/* 1 when the read must stop (asks the bread_stop now), else 0. */
static int halt(struct stopper *sp)
{
	if (!sp || !sp->stop.fn)
		return 0;
	pthread_mutex_lock(&sp->mu);
	if (!sp->stopped && sp->stop.fn(sp->stop.arg))
		sp->stopped = 1;
	int r = sp->stopped;
	pthread_mutex_unlock(&sp->mu);
	return r;
}

/* halt every sp->every calls (*tick counts them, one counter a thread). */
static int halt_tick(struct stopper *sp, unsigned *tick)
{
	if (!sp || !sp->stop.fn || ++*tick < sp->every)
		return 0;
	*tick = 0;
	return halt(sp);
}

static int stopped(char *err, size_t errsz)
{
	snprintf(err, errsz, "the read was stopped");
	return -1;
}

/* ------------------------------------------------------------------------ the filter */

struct filt {
	const struct store_sel *sel;
	const struct query *q;		/* NULL also for the empty query */
	struct lr_str fe, be, srv, src; /* the names asked for (p NULL: any) */
	int need_raw;			/* the raw lines must be decoded */
	int fields;			/* some filter reads the record (not only raw bytes) */
	size_t offs[64];		/* the record fields to decode (block_dec_only) */
	size_t noffs;
	int source, all;		/* decode the source too; every field */
	struct lr_str words[MAX_WORDS]; /* lowercase words every match holds */
	size_t nwords;
	int has_regex;
	int one_word; /* the query is words[0] alone (no LF in it): a line holding it matches */
	struct stopper *sp; /* NULL: never stops */
};

static struct lr_str cstr(const char *s)
{
	struct lr_str v = {s, s ? (uint32_t)strlen(s) : 0};
	return v;
}

static int same(struct lr_str a, struct lr_str b)
{
	return a.p && a.len == b.len && !memcmp(a.p, b.p, a.len);
}

/* What a query reads: 1 raw bytes, 2 fields, 4 slices of the raw line, 8 regexes. */
static unsigned uses(const struct query_node *n)
{
	unsigned u = 0;
	if (n->op == QUERY_TEXT)
		u |= 1;
	if (n->op == QUERY_REGEX)
		u |= 1 | 8;
	if (n->op == QUERY_FIELD)
		u |= (n->field == QUERY_F_PATH || n->field == QUERY_F_CLIENT) ? 2 | 4 : 2;
	for (size_t i = 0; i < n->nkids; i++)
		u |= uses(n->kids[i]);
	return u;
}

#define OFF(x) offsetof(struct logrec, x)
static void need(struct filt *f, size_t off)
{
	for (size_t i = 0; i < f->noffs; i++)
		if (f->offs[i] == off)
			return;
	if (f->noffs < sizeof(f->offs) / sizeof(f->offs[0]))
		f->offs[f->noffs++] = off;
}

/* The fields a query reads (field_of in query.c says which per kind). */
static void need_query(struct filt *f, const struct query_node *n)
{
	if (n->op == QUERY_FIELD) {
		switch (n->field) {
		case QUERY_F_BACKEND:
			need(f, OFF(backend));
			need(f, OFF(frontend));
			need(f, OFF(ev_proxy));
			break;
		case QUERY_F_SERVER:
			need(f, OFF(server));
			need(f, OFF(bind));
			need(f, OFF(ev_server));
			break;
		case QUERY_F_FRONTEND:
			need(f, OFF(frontend));
			break;
		case QUERY_F_STATUS:
			need(f, OFF(status_code));
			break;
		case QUERY_F_TQ:
			need(f, OFF(t_req));
			break;
		case QUERY_F_TW:
			need(f, OFF(t_wait));
			break;
		case QUERY_F_TC:
			need(f, OFF(t_connect));
			break;
		case QUERY_F_TR:
			need(f, OFF(t_resp));
			break;
		case QUERY_F_TA:
			need(f, OFF(t_active));
			break;
		case QUERY_F_BYTES:
			need(f, OFF(bytes_read));
			break;
		case QUERY_F_RETRIES:
			need(f, OFF(retries));
			break;
		case QUERY_F_STATE:
			need(f, OFF(term));
			need(f, OFF(ev_state));
			break;
		case QUERY_F_HOST:
			need(f, OFF(host));
			break;
		case QUERY_F_PROGRAM:
			need(f, OFF(tag));
			break;
		case QUERY_F_CLIENT:
			need(f, OFF(client_ip));
			break;
		case QUERY_F_PATH:
			need(f, OFF(path));
			break;
		case QUERY_F_METHOD:
			need(f, OFF(method));
			break;
		case QUERY_F_SOURCE:
			f->source = 1;
			break;
		case QUERY_F_KIND:
		case QUERY_F_PARSE:
		case QUERY_NFIELDS:
			break;
		}
	}
	for (size_t i = 0; i < n->nkids; i++)
		need_query(f, n->kids[i]);
}

static void filt_init(struct filt *f, const struct store_sel *sel, unsigned want)
{
	memset(f, 0, sizeof(*f));
	f->sel = sel;
	f->fe = cstr(sel->frontend);
	f->be = cstr(sel->backend);
	f->srv = cstr(sel->server);
	f->src = cstr(sel->source);
	unsigned u = 0;
	if (sel->query && query_root(sel->query)->op != QUERY_ALL) {
		const struct query_node *r = query_root(sel->query);
		f->q = sel->query;
		u = uses(r);
		if (r->op == QUERY_TEXT) {
			f->words[f->nwords++] = (struct lr_str){r->val, (uint32_t)r->vlen};
			f->one_word = !memchr(r->val, '\n', r->vlen);
		} else if (r->op == QUERY_AND) {
			for (size_t i = 0; i < r->nkids && f->nwords < MAX_WORDS; i++)
				if (r->kids[i]->op == QUERY_TEXT)
					f->words[f->nwords++] = (struct lr_str){
						r->kids[i]->val, (uint32_t)r->kids[i]->vlen};
		}
	}
	f->has_regex = !!(u & 8);
	/* what to decode: the query's fields, the names asked for, what the reader wants */
	if (f->q)
		need_query(f, query_root(f->q));
	if (f->fe.p)
		need(f, OFF(frontend));
	if (f->be.p || f->srv.p) {
		static const size_t names[] = {OFF(frontend), OFF(backend),  OFF(server),
					       OFF(bind),     OFF(ev_proxy), OFF(ev_server)};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			need(f, names[i]);
	}
	f->source |= !!f->src.p;
	if (want & STORE_WANT_FIELDS)
		f->all = 1;
	if (want & STORE_WANT_LINE) {
		static const size_t line[] = {OFF(host), OFF(tag), OFF(pid), OFF(reason)};
		for (size_t i = 0; i < sizeof(line) / sizeof(line[0]); i++)
			need(f, line[i]);
		f->source = 1;
	}
	if (want & STORE_WANT_SUMMARY) {
		static const size_t sum[] = {OFF(frontend),    OFF(backend),  OFF(server),
					     OFF(status_code), OFF(term),     OFF(client_ip),
					     OFF(bind),	       OFF(ev_proxy), OFF(ev_server),
					     OFF(ev_state)};
		for (size_t i = 0; i < sizeof(sum) / sizeof(sum[0]); i++)
			need(f, sum[i]);
	}
	if (want & STORE_WANT_REQUEST)
		want |= STORE_WANT_TRAFFIC;
	if (want & STORE_WANT_TRAFFIC) { /* what rollup_agg_add reads (read.h) */
		static const size_t traffic[] = {OFF(frontend),	   OFF(backend),    OFF(server),
						 OFF(status_code), OFF(term),	    OFF(t_req),
						 OFF(t_wait),	   OFF(t_connect),  OFF(t_resp),
						 OFF(t_active),	   OFF(bytes_read), OFF(retries)};
		for (size_t i = 0; i < sizeof(traffic) / sizeof(traffic[0]); i++)
			need(f, traffic[i]);
	}
	if (want & STORE_WANT_REQUEST) { /* TRAFFIC and the strings requests are keyed by */
		static const size_t request[] = {OFF(client_ip), OFF(uri), OFF(path), OFF(cap_req),
						 OFF(cap_resp)};
		for (size_t i = 0; i < sizeof(request) / sizeof(request[0]); i++)
			need(f, request[i]);
	}
	/* paths, addresses and the other strings are slices of the raw line; names (frontend,
	 * backend, server, term …) and numbers are in the columns: TRAFFIC alone reads no raw */
	f->need_raw = (u & (1 | 4)) || (want & (STORE_WANT_LINE | STORE_WANT_SUMMARY |
						STORE_WANT_FIELDS | STORE_WANT_REQUEST));
	f->fields = (u & 2) || sel->kinds || f->fe.p || f->be.p || f->srv.p || f->src.p;
}

/* The backend and server a selection's names compare with, per kind (as read.h says: a
 * traffic line's, or an event's proxy and server; connect lines: frontend and bind). */
static int names_ok(const struct filt *f, const struct logrec *r)
{
	int traffic = r->kind == LR_HTTP || r->kind == LR_TCP;
	int conn = r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR;
	if (f->fe.p && !(traffic && same(r->frontend, f->fe)))
		return 0;
	if (f->be.p) {
		struct lr_str b = traffic ? r->backend
				  : conn  ? r->frontend
					  : (r->ev_proxy.p ? r->ev_proxy : r->backend);
		if (!(traffic || conn || r->kind >= LR_SERVER) || !same(b, f->be))
			return 0;
	}
	if (f->srv.p) {
		struct lr_str s = traffic ? r->server : conn ? r->bind : r->ev_server;
		if (!same(s, f->srv))
			return 0;
	}
	return 1;
}

/* Whether the decoded line at pos is in the selection. */
static int line_ok(const struct filt *f, int64_t pos, const struct block_rec *br)
{
	const struct store_sel *sel = f->sel;
	if (pos < sel->from.v || pos >= sel->to.v)
		return 0;
	int64_t t = sel->clock == STORE_RECEIVED ? br->recv_ms : br->ts_ms;
	if (t < sel->since_ms || t >= sel->until_ms)
		return 0;
	if (sel->kinds && !((unsigned)br->rec.kind < 32 && (sel->kinds >> br->rec.kind & 1u)))
		return 0;
	if ((f->fe.p || f->be.p || f->srv.p) && !names_ok(f, &br->rec))
		return 0;
	if (f->src.p && !same(br->source, f->src))
		return 0;
	if (f->q && !query_match(f->q, br->raw.p, br->raw.len, br->source, &br->rec))
		return 0;
	return 1;
}

/* ------------------------------------------------------------------------ finding words */

static inline unsigned char lower(unsigned char c)
{
	return (unsigned char)(c + ((unsigned char)(c - 'A') < 26 ? 32 : 0));
}

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int eq_fold(const unsigned char *h, const char *n, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (lower(h[i]) != (unsigned char)n[i])
			return 0;
	return 1;
}

/* The first place in [p, end) where needle (lowercase, nlen >= 1) starts, ASCII case ignored,
 * or NULL. With SSE2, 16 candidate places a step: those whose first and last bytes match. */
/* c in upper case (a byte of a lowercase needle, for the SIMD compares of both cases). */
static inline char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

/* The first of the places p + i (bit i of m set) where needle starts, or NULL. */
static inline const unsigned char *candidates(const unsigned char *p, unsigned m,
					      const char *needle, size_t nlen)
{
	for (; m; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctz(m);
		if (eq_fold(p + i, needle, nlen))
			return p + i;
	}
	return NULL;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_FIND_FOLD32 1 /* find_fold32 and count_lf32 */
/* find_fold's first part with AVX2, where the CPU has it: 32 candidate places a step. Returns
 * the match, or NULL with *pp moved to where the rest must be looked at. */
__attribute__((target("avx2"))) static const unsigned char *
find_fold32(const unsigned char **pp, const unsigned char *last, const char *needle, size_t nlen)
{
	const unsigned char *p = *pp;
	const char f0 = needle[0], l0 = needle[nlen - 1];
	const __m256i f = _mm256_set1_epi8(f0), l = _mm256_set1_epi8(l0);
	const __m256i fu = _mm256_set1_epi8(upper(f0));
	const __m256i lu = _mm256_set1_epi8(upper(l0));
	while (last - p >= 31) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + nlen - 1));
		unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(a, f), _mm256_cmpeq_epi8(a, fu)),
			_mm256_or_si256(_mm256_cmpeq_epi8(b, l), _mm256_cmpeq_epi8(b, lu))));
		const unsigned char *hit = candidates(p, m, needle, nlen);
		if (hit)
			return hit;
		p += 32;
	}
	*pp = p;
	return NULL;
}
#endif

static const unsigned char *find_fold(const unsigned char *p, const unsigned char *end,
				      const char *needle, size_t nlen)
{
	if ((size_t)(end - p) < nlen)
		return NULL;
	const unsigned char *last = end - nlen;
#ifdef HAVE_FIND_FOLD32
	if (__builtin_cpu_supports("avx2")) {
		const unsigned char *m = find_fold32(&p, last, needle, nlen);
		if (m)
			return m;
	}
#endif
#ifdef __SSE2__
	/* each of the two bytes compared with both its cases (the same byte twice when not a
	 * letter) */
	const char f0 = needle[0], l0 = needle[nlen - 1];
	const __m128i f = _mm_set1_epi8(f0), l = _mm_set1_epi8(l0);
	const __m128i fu = _mm_set1_epi8(upper(f0));
	const __m128i lu = _mm_set1_epi8(upper(l0));
	while (last - p >= 15) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + nlen - 1));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_or_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(a, fu)),
				      _mm_or_si128(_mm_cmpeq_epi8(b, l), _mm_cmpeq_epi8(b, lu))));
		const unsigned char *hit = candidates(p, m, needle, nlen);
		if (hit)
			return hit;
		p += 16;
	}
#endif
	for (; p <= last; p++)
		if (lower(*p) == (unsigned char)needle[0] && eq_fold(p, needle, nlen))
			return p;
	return NULL;
}

/* ------------------------------------------------------------------------ block rows */

/* The blocks a selection can touch, in order of first line (desc: newest first). */
static sqlite3_stmt *select_cols(sqlite3 *db, const struct store_sel *sel, int desc,
				 const char *cols, char *err, size_t errsz)
{
	char sql[512];
	const char *t = sel->clock == STORE_RECEIVED ? "recv" : "ts";
	int n = snprintf(sql, sizeof(sql),
			 "SELECT %s FROM blocks WHERE first_id > ?1"
			 " AND first_id < ?2",
			 cols);
	if (sel->since_ms != INT64_MIN)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND %s_max >= ?3", t);
	if (sel->until_ms != INT64_MAX)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND %s_min < ?4", t);
	snprintf(sql + n, sizeof(sql) - (size_t)n, " ORDER BY first_id%s", desc ? " DESC" : "");
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fail(err, errsz, "cannot read the blocks", db);
		return NULL;
	}
	/* a block holds at most BLOCK_MAX_LINES lines: one starting that far before from may
	 * still hold it */
	sqlite3_bind_int64(s, 1,
			   sel->from.v > INT64_MIN + BLOCK_MAX_LINES ? sel->from.v - BLOCK_MAX_LINES
								     : INT64_MIN);
	sqlite3_bind_int64(s, 2, sel->to.v);
	sqlite3_bind_int64(s, 3, sel->since_ms);
	sqlite3_bind_int64(s, 4, sel->until_ms);
	return s;
}

static sqlite3_stmt *select_blocks(sqlite3 *db, const struct store_sel *sel, int desc, char *err,
				   size_t errsz)
{
	return select_cols(db, sel, desc, BLOCKDB_COLS, err, errsz);
}

/* Candidate positions from the events table, for selections of event kinds only: ascending,
 * *n of them (caller frees). *out is never NULL on success, even for none: scan reads every
 * block when given no candidates at all. */
static int event_positions(sqlite3 *db, const struct store_sel *sel, int64_t **out, size_t *n,
			   char *err, size_t errsz)
{
	char sql[256];
	int k = snprintf(sql, sizeof(sql),
			 "SELECT line_id FROM events WHERE ((?1 >> kind) & 1)"
			 " AND line_id >= ?2 AND line_id < ?3");
	if (sel->clock == STORE_LOGGED && sel->since_ms != INT64_MIN)
		k += snprintf(sql + k, sizeof(sql) - (size_t)k, " AND ts_ms >= ?4");
	if (sel->clock == STORE_LOGGED && sel->until_ms != INT64_MAX)
		k += snprintf(sql + k, sizeof(sql) - (size_t)k, " AND ts_ms < ?5");
	snprintf(sql + k, sizeof(sql) - (size_t)k, " ORDER BY line_id");
	sqlite3_stmt *s;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(err, errsz, "cannot read the events", db);
	sqlite3_bind_int64(s, 1, sel->kinds);
	sqlite3_bind_int64(s, 2, sel->from.v);
	sqlite3_bind_int64(s, 3, sel->to.v);
	sqlite3_bind_int64(s, 4, sel->since_ms);
	sqlite3_bind_int64(s, 5, sel->until_ms);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *p = realloc(*out, cap * sizeof(*p));
			if (!p) {
				sqlite3_finalize(s);
				free(*out);
				*out = NULL;
				return fail(err, errsz, "cannot read the events", NULL);
			}
			*out = p;
		}
		(*out)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		fail(err, errsz, "cannot read the events", db);
		sqlite3_finalize(s);
		free(*out);
		*out = NULL;
		return -1;
	}
	sqlite3_finalize(s);
	if (!*out && !(*out = malloc(sizeof(**out))))
		return fail(err, errsz, "cannot read the events", NULL);
	return 0;
}

static int events_only(const struct store_sel *sel)
{
	return sel->kinds && !(sel->kinds & ~(unsigned)EVENT_KINDS);
}

/* ------------------------------------------------------------------------ decoded blocks */

/* One block, decoded whole (its lines in recs) or line by line (stream: the next line only, in
 * recs[0], which a reader in order needs; a block's 4096 records would not stay in the cache
 * between their decoding and their reading). */
struct dblock {
	int64_t first; /* 0: none */
	size_t n;
	struct block_rec *recs;
	size_t cap;
	int stream; /* recs[0] holds line "next - 1" only */
	size_t next;
	struct block_zip *z;
	struct block_dec d;
};

static void dblock_release(struct dblock *b)
{
	free(b->recs);
	block_zip_free(b->z);
	block_dec_release(&b->d);
	memset(b, 0, sizeof(*b));
}

/* Decodes the block of the current row of s into b: every line, or none yet when stream (then
 * dblock_line reads them in order). Returns 0 or -1. */
static int dblock_load(struct dblock *b, sqlite3_stmt *s, const struct filt *f, int stream,
		       char *err, size_t errsz)
{
	int with_raw = f->need_raw;
	struct blockdb_row row;
	if (blockdb_fill(s, &row, err, errsz))
		return -1;
	if (!b->z && !(b->z = block_zip_new()))
		return fail(err, errsz, "cannot read a block", NULL);
	if (blockdb_open(&row, b->z, &b->d, with_raw, err, errsz))
		return -1;
	if (!f->all)
		block_dec_only(&b->d, f->offs, f->noffs, f->source);
	size_t need = stream ? 1 : (size_t)row.m.n;
	if (need > b->cap) {
		struct block_rec *r = realloc(b->recs, need * sizeof(*r));
		if (!r)
			return fail(err, errsz, "cannot read a block", NULL);
		b->recs = r;
		b->cap = need;
	}
	b->stream = stream;
	b->next = 0;
	b->n = 0;
	if (stream) {
		b->n = (size_t)row.m.n;
		b->first = row.first_id;
		return 0;
	}
	int rc;
	while ((rc = block_dec_next(&b->d, &b->recs[b->n], err, errsz)) == 1)
		b->n++;
	if (rc < 0)
		return -1;
	b->first = row.first_id;
	return 0;
}

/* Loads the block holding pos into b (kept when it already is). 1: loaded, 0: no such block
 * (pruned), -1: error. */
static int dblock_at(struct dblock *b, sqlite3 *db, sqlite3_stmt **at, int64_t pos,
		     const struct filt *f, char *err, size_t errsz)
{
	if (b->first && pos >= b->first && pos < b->first + (int64_t)b->n)
		return 1;
	if (!*at && sqlite3_prepare_v2(db,
				       "SELECT " BLOCKDB_COLS " FROM blocks WHERE first_id <= ?1"
				       " ORDER BY first_id DESC LIMIT 1",
				       -1, at, NULL) != SQLITE_OK)
		return fail(err, errsz, "cannot read the blocks", db);
	sqlite3_reset(*at);
	sqlite3_bind_int64(*at, 1, pos);
	int rc = sqlite3_step(*at);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return fail(err, errsz, "cannot read the blocks", db);
	b->first = 0;
	int r = dblock_load(b, *at, f, 0, err, errsz);
	sqlite3_reset(*at);
	if (r)
		return -1;
	return pos < b->first + (int64_t)b->n ? 1 : 0;
}

/* Line i of b: decoded now when b streams (i must then be the line after the last one asked
 * for). NULL: a corrupt block (err says why). */
static const struct block_rec *dblock_line(struct dblock *b, size_t i, char *err, size_t errsz)
{
	if (!b->stream)
		return &b->recs[i];
	int rc = i == b->next ? block_dec_next(&b->d, &b->recs[0], err, errsz) : 0;
	if (rc != 1) {
		if (!rc) /* fewer lines than the block's row says (-1: block_dec_next said why) */
			snprintf(err, errsz, "corrupt block %lld: a line is missing",
				 (long long)b->first);
		return NULL;
	}
	b->next++;
	return &b->recs[0];
}

/* ------------------------------------------------------------------------ cursors */

enum cmode {
	CM_SCAN,     /* blocks in order, lines in order (reversed for STORE_NEWEST) */
	CM_POSITIONS /* a list of positions, delivered in its order */
};

struct bread_cursor {
	sqlite3 *db;
	struct store_sel sel;
	struct filt f;
	enum cmode mode;
	int desc;	      /* CM_SCAN: newest first */
	sqlite3_stmt *blocks; /* CM_SCAN */
	struct dblock b;
	size_t at;    /* CM_SCAN: the next line of b (counting down when desc) */
	int64_t *pos; /* CM_POSITIONS: positions to deliver, in order */
	size_t npos, ipos;
	sqlite3_stmt *one; /* CM_POSITIONS: the block of a position */
	int64_t limit, given;
	int truncated;
	struct store_line line;
	struct stopper sp;
	unsigned tick;
};

/* Fills c->line from a decoded line, with only what sel->want asks for. Runs once per line
 * delivered: the record is built once (not copied whole and cleared again). Without
 * STORE_WANT_FIELDS the same fields are set on every line and the others stay as
 * bread_cursor_open cleared them, so the record is not cleared per line. */
static void deliver(struct bread_cursor *c, int64_t pos, const struct block_rec *br)
{
	struct store_line *ln = &c->line;
	const struct logrec *k = &br->rec;
	struct logrec *r = &ln->rec;
	unsigned want = c->sel.want;
	if (want & STORE_WANT_FIELDS)
		want |= STORE_WANT_SUMMARY;
	if (want & STORE_WANT_REQUEST)
		want |= STORE_WANT_TRAFFIC;
	ln->pos.v = pos;
	ln->ts_ms = br->ts_ms;
	if (want & STORE_WANT_FIELDS) {
		*r = *k;
	} else {
		/* the summary (or less): what search and tail show */
		r->kind = k->kind;
		r->status = k->status;
		if (want & (STORE_WANT_SUMMARY | STORE_WANT_TRAFFIC)) {
			r->frontend = k->frontend;
			r->backend = k->backend;
			r->server = k->server;
			r->status_code = k->status_code;
			memcpy(r->term, k->term, sizeof(r->term));
		}
		if (want & STORE_WANT_SUMMARY) {
			r->client_ip = k->client_ip;
			r->bind = k->bind;
			r->ev_proxy = k->ev_proxy;
			r->ev_server = k->ev_server;
			r->ev_state = k->ev_state;
		}
		if (want & STORE_WANT_TRAFFIC) { /* what rollup_agg_add reads (read.h) */
			r->t_req = k->t_req;
			r->t_wait = k->t_wait;
			r->t_connect = k->t_connect;
			r->t_resp = k->t_resp;
			r->t_active = k->t_active;
			r->bytes_read = k->bytes_read;
			r->retries = k->retries;
			r->flags = k->flags;
		}
		if (want & STORE_WANT_REQUEST) {
			r->client_ip = k->client_ip;
			r->uri = k->uri;
			r->path = k->path;
			r->cap_req = k->cap_req;
			r->cap_resp = k->cap_resp;
		}
	}
	if (want & STORE_WANT_LINE) {
		r->host = k->host;
		r->tag = k->tag;
		r->pid = k->pid;
		r->reason = k->reason;
		ln->recv_ms = br->recv_ms;
		ln->source = br->source;
		ln->raw = br->raw;
		ln->flags = br->flags & BLOCK_LINE_TRUNCATED ? STORE_MSG_TRUNCATED : 0;
	} else {
		ln->recv_ms = LR_NONE;
		ln->source = (struct lr_str){NULL, 0};
		ln->raw = (struct lr_str){NULL, 0};
		ln->flags = 0;
		r->host.p = r->tag.p = NULL;
		r->pid = LR_NONE;
		r->reason = NULL;
	}
}

/* The matching positions of sel in the order they are wanted: the newest limit (+ 1, to tell
 * truncation) oldest first for STORE_TAIL; by time for STORE_BY_TIME. */
struct posent {
	int64_t t, pos;
};

static int cmp_posent(const void *x, const void *y)
{
	const struct posent *a = x, *b = y;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

/* Scans sel's lines newest first (desc) or oldest first, or only the candidate positions
 * cand (ascending; NULL: every line), calling fn for each match until it returns non-zero.
 * Returns 0 or -1. */
typedef int (*match_fn)(void *arg, int64_t pos, const struct block_rec *br);
static int scan(sqlite3 *db, const struct store_sel *sel, const struct filt *f, int desc,
		const int64_t *cand, size_t ncand, match_fn fn, void *arg, char *err, size_t errsz)
{
	struct dblock b;
	sqlite3_stmt *s = NULL, *one = NULL;
	int ret = -1, rc = 0;
	unsigned tick = 0;
	memset(&b, 0, sizeof(b));
	if (cand) {
		for (size_t k = 0; k < ncand; k++) {
			size_t i = desc ? ncand - 1 - k : k;
			if (halt_tick(f->sp, &tick)) {
				stopped(err, errsz);
				goto out;
			}
			int r = dblock_at(&b, db, &one, cand[i], f, err, errsz);
			if (r < 0)
				goto out;
			if (!r)
				continue;
			const struct block_rec *br = &b.recs[cand[i] - b.first];
			if (line_ok(f, cand[i], br) && (rc = fn(arg, cand[i], br)))
				break;
		}
		ret = 0;
		goto out;
	}
	if (!(s = select_blocks(db, sel, desc, err, errsz)))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (halt(f->sp)) {
			stopped(err, errsz);
			goto out;
		}
		if (dblock_load(&b, s, f, !desc, err, errsz))
			goto out;
		for (size_t k = 0; k < b.n; k++) {
			size_t i = desc ? b.n - 1 - k : k;
			if (halt_tick(f->sp, &tick)) {
				stopped(err, errsz);
				goto out;
			}
			const struct block_rec *br = dblock_line(&b, i, err, errsz);
			if (!br)
				goto out;
			if (line_ok(f, b.first + (int64_t)i, br) && fn(arg, b.first + (int64_t)i, br)) {
				ret = 0;
				goto out;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		fail(err, errsz, "cannot read the blocks", db);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(one);
	dblock_release(&b);
	return ret;
}

struct collect {
	struct posent *v;
	size_t n, cap;
	int64_t max; /* stop after this many (0: all) */
	int clock;   /* STORE_RECEIVED or STORE_LOGGED: the time kept */
	int oom;
};

static int collect_one(void *arg, int64_t pos, const struct block_rec *br)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		struct posent *v = realloc(c->v, nc * sizeof(*v));
		if (!v) {
			c->oom = 1;
			return 1;
		}
		c->v = v;
		c->cap = nc;
	}
	c->v[c->n].pos = pos;
	c->v[c->n].t = c->clock == STORE_RECEIVED ? br->recv_ms : br->ts_ms;
	c->n++;
	return c->max && (int64_t)c->n >= c->max;
}

struct bread_cursor *bread_cursor_open(sqlite3 *db, const struct store_sel *sel,
				       const struct bread_stop *stop, char *err, size_t errsz)
{
	struct bread_cursor *c = calloc(1, sizeof(*c));
	int64_t *cand = NULL;
	size_t ncand = 0;
	if (!c) {
		fail(err, errsz, "cannot open a cursor", NULL);
		return NULL;
	}
	c->db = db;
	c->sel = *sel;
	c->limit = sel->limit;
	logrec_clear(&c->line.rec); /* deliver sets the same fields on every line */
	filt_init(&c->f, &c->sel, sel->want);
	stopper_init(&c->sp, stop, c->f.has_regex);
	c->f.sp = &c->sp;
	if (events_only(sel) && event_positions(db, sel, &cand, &ncand, err, errsz))
		goto fail;
	if (sel->order == STORE_OLDEST || sel->order == STORE_NEWEST ||
	    (sel->order == STORE_TAIL && !sel->limit)) {
		if (cand) {
			/* only the event lines' blocks: their positions are the candidates */
			c->mode = CM_POSITIONS;
			c->pos = cand;
			c->npos = ncand;
			cand = NULL;
			if (sel->order == STORE_NEWEST)
				for (size_t i = 0; i < c->npos / 2; i++) {
					int64_t t = c->pos[i];
					c->pos[i] = c->pos[c->npos - 1 - i];
					c->pos[c->npos - 1 - i] = t;
				}
		} else {
			c->mode = CM_SCAN;
			c->desc = sel->order == STORE_NEWEST;
			if (!(c->blocks = select_blocks(db, sel, c->desc, err, errsz)))
				goto fail;
		}
		return c;
	}
	/* STORE_TAIL with a limit, STORE_BY_TIME: find the positions first, deliver them after */
	struct collect col;
	memset(&col, 0, sizeof(col));
	col.clock = sel->clock;
	if (sel->order == STORE_TAIL)
		col.max = sel->limit < INT64_MAX ? sel->limit + 1 : 0;
	if (scan(db, sel, &c->f, sel->order == STORE_TAIL, cand, ncand, collect_one, &col, err,
		 errsz) ||
	    col.oom) {
		if (col.oom)
			fail(err, errsz, "cannot read", NULL);
		free(col.v);
		goto fail;
	}
	if (sel->order == STORE_TAIL) {
		if (sel->limit && (int64_t)col.n > sel->limit) {
			c->truncated = 1;
			col.n = (size_t)sel->limit;
		}
		c->limit = 0;
	} else {
		if (col.n)
			qsort(col.v, col.n, sizeof(*col.v), cmp_posent);
		if (sel->limit && (int64_t)col.n > sel->limit)
			col.n = (size_t)sel->limit;
		c->limit = 0;
	}
	c->mode = CM_POSITIONS;
	c->pos = malloc((col.n ? col.n : 1) * sizeof(*c->pos));
	if (!c->pos) {
		free(col.v);
		fail(err, errsz, "cannot read", NULL);
		goto fail;
	}
	for (size_t i = 0; i < col.n; i++)
		c->pos[i] = col.v[i].pos;
	c->npos = col.n;
	if (sel->order == STORE_TAIL) /* collected newest first: deliver oldest first */
		qsort(c->pos, c->npos, sizeof(*c->pos), cmp_i64);
	free(col.v);
	free(cand);
	return c;
fail:
	free(cand);
	bread_cursor_close(c);
	return NULL;
}

int bread_cursor_next(struct bread_cursor *c, const struct store_line **line, char *err,
		      size_t errsz)
{
	if (c->limit && c->given >= c->limit)
		return 0;
	if (c->mode == CM_POSITIONS) {
		while (c->ipos < c->npos) {
			if (halt_tick(&c->sp, &c->tick))
				return stopped(err, errsz);
			int64_t pos = c->pos[c->ipos++];
			int r = dblock_at(&c->b, c->db, &c->one, pos, &c->f, err, errsz);
			if (r < 0)
				return -1;
			if (!r)
				continue;
			const struct block_rec *br = &c->b.recs[pos - c->b.first];
			if (!line_ok(&c->f, pos, br))
				continue;
			deliver(c, pos, br);
			c->given++;
			*line = &c->line;
			return 1;
		}
		return 0;
	}
	for (;;) {
		while (c->at < c->b.n) {
			if (halt_tick(&c->sp, &c->tick))
				return stopped(err, errsz);
			size_t i = c->desc ? c->b.n - 1 - c->at : c->at;
			c->at++;
			int64_t pos = c->b.first + (int64_t)i;
			const struct block_rec *br = dblock_line(&c->b, i, err, errsz);
			if (!br)
				return -1;
			if (!line_ok(&c->f, pos, br))
				continue;
			deliver(c, pos, br);
			c->given++;
			*line = &c->line;
			return 1;
		}
		if (halt(&c->sp))
			return stopped(err, errsz);
		int rc = sqlite3_step(c->blocks);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return fail(err, errsz, "cannot read the blocks", c->db);
		if (dblock_load(&c->b, c->blocks, &c->f, !c->desc, err, errsz))
			return -1;
		c->at = 0;
	}
}

int bread_cursor_truncated(const struct bread_cursor *c)
{
	return c->truncated;
}

void bread_cursor_close(struct bread_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->blocks);
	sqlite3_finalize(c->one);
	dblock_release(&c->b);
	free(c->pos);
	stopper_release(&c->sp);
	free(c);
}

/* ------------------------------------------------------------------------ counting */

/* The lines of one block row in the selection, without keeping them: the raw lines alone
 * when nothing but words and regexes is asked and the block lies inside the selection's bounds
 * (the words found by a scan first), else every line decoded. */
struct counter {
	const struct filt *f;
	struct block_zip *z;
	struct block_dec d;
	struct block_rec br;
	unsigned tick; /* halt_tick's */
};

/* Counts the LF-terminated lines of [p, end) that match the filter's query (words and regexes
 * only): the longest word every match holds finds the candidates first. */
static int count_raw(struct counter *k, const unsigned char *p, const unsigned char *end,
		     int64_t *n)
{
	const struct filt *f = k->f;
	const struct lr_str *w = NULL;
	struct lr_str none = {NULL, 0};
	logrec_clear(&k->br.rec); /* the query reads no field of it */
	for (size_t i = 0; i < f->nwords; i++)
		if (!w || f->words[i].len > w->len)
			w = &f->words[i];
	if (f->one_word && w->len) {
		/* the word found is the match: count its line, go on after it */
		while (p < end) {
			const unsigned char *m = find_fold(p, end, w->p, w->len);
			if (!m)
				break;
			if (halt_tick(f->sp, &k->tick))
				return -1;
			++*n;
			m += w->len - 1; /* the word holds no LF */
			const unsigned char *nl = memchr(m, '\n', (size_t)(end - m));
			p = nl ? nl + 1 : end;
		}
		return 0;
	}
	while (p < end) {
		const unsigned char *ls = p;
		if (w && w->len) {
			const unsigned char *m = find_fold(p, end, w->p, w->len);
			if (!m)
				break;
			ls = m > p ? memrchr(p, '\n', (size_t)(m - p)) : NULL;
			ls = ls ? ls + 1 : p;
		}
		if (halt_tick(f->sp, &k->tick))
			return -1;
		const unsigned char *nl = memchr(ls, '\n', (size_t)(end - ls));
		const unsigned char *le = nl ? nl : end;
		if (query_match(f->q, (const char *)ls, (size_t)(le - ls), none, &k->br.rec))
			++*n;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

#ifdef HAVE_FIND_FOLD32
/* count_lf's first part with AVX2: the LFs of the whole 32-byte steps from *pp, which moves. */
__attribute__((target("avx2"))) static size_t count_lf32(const unsigned char **pp,
							 const unsigned char *end)
{
	const unsigned char *p = *pp;
	const __m256i lf = _mm256_set1_epi8('\n'), zero = _mm256_setzero_si256();
	size_t lfs = 0;
	while (end - p >= 32) {
		__m256i acc = zero; /* byte counters, summed before any reaches 256 */
		for (int i = 0; i < 255 && end - p >= 32; i++, p += 32)
			acc = _mm256_sub_epi8(
				acc,
				_mm256_cmpeq_epi8(
					_mm256_loadu_si256((const __m256i *)(const void *)p), lf));
		__m256i s = _mm256_sad_epu8(acc, zero);
		lfs += (size_t)_mm256_extract_epi64(s, 0) + (size_t)_mm256_extract_epi64(s, 1) +
		       (size_t)_mm256_extract_epi64(s, 2) + (size_t)_mm256_extract_epi64(s, 3);
	}
	*pp = p;
	return lfs;
}
#endif

/* The LFs in [p, end). */
static size_t count_lf(const unsigned char *p, const unsigned char *end)
{
	size_t lfs = 0;
#ifdef HAVE_FIND_FOLD32
	if (__builtin_cpu_supports("avx2"))
		lfs = count_lf32(&p, end);
#endif
#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	while (end - p >= 16) {
		/* byte counters (each LF subtracts -1), summed before any reaches 256 */
		__m128i acc = zero;
		for (int i = 0; i < 255 && end - p >= 16; i++, p += 16)
			acc = _mm_sub_epi8(
				acc,
				_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p),
					       lf));
		__m128i s = _mm_sad_epu8(acc, zero);
		lfs += (size_t)_mm_cvtsi128_si32(s) +
		       (size_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
	}
#endif
	for (; p < end; p++)
		lfs += *p == '\n';
	return lfs;
}

/* Counts the lines of row in the selection into *n. Returns 0, -1 (message in err), or 1 when
 * row came without its columns (row->cols NULL) and they are needed after all: nothing was
 * counted. */
static int count_block(struct counter *k, const struct blockdb_row *row, int64_t *n, char *err,
		       size_t errsz)
{
	const struct filt *f = k->f;
	const struct store_sel *sel = f->sel;
	int64_t tmin = sel->clock == STORE_RECEIVED ? row->m.recv_min : row->m.ts_min;
	int64_t tmax = sel->clock == STORE_RECEIVED ? row->m.recv_max : row->m.ts_max;
	int inside = row->first_id >= sel->from.v && row->first_id + row->m.n <= sel->to.v &&
		     tmin >= sel->since_ms && tmax < sel->until_ms;
	if (inside && !f->fields && !f->q) {
		*n += row->m.n; /* every line of it */
		return 0;
	}
	if (inside && !f->fields && f->need_raw) {
		/* the raw lines alone, when each ends at the block's LFs (as many LFs as lines:
		 * none holds one): nothing per line but the query on its bytes */
		const void *rawp;
		if (block_zip_unpack(k->z, 0, row->raw, row->raw_z, (size_t)row->m.raw_len, &rawp,
				     err, errsz))
			return -1;
		const unsigned char *p = rawp, *end = p + row->m.raw_len;
		if (count_lf(p, end) == (size_t)row->m.n)
			return count_raw(k, p, end, n) ? stopped(err, errsz) : 0;
		if (!row->cols)
			return 1; /* a line holds an LF: the columns say where lines end */
	}
	if (blockdb_open(row, k->z, &k->d, f->need_raw, err, errsz))
		return -1;
	if (!f->all)
		block_dec_only(&k->d, f->offs, f->noffs, f->source);
	int rc;
	for (int64_t i = 0; (rc = block_dec_next(&k->d, &k->br, err, errsz)) == 1; i++) {
		if (halt_tick(f->sp, &k->tick))
			return stopped(err, errsz);
		*n += line_ok(f, row->first_id + i, &k->br);
	}
	return rc < 0 ? -1 : 0;
}

/* Two threads count blocks in turn: the caller reads the rows (one connection, one thread)
 * with their frames into the slots' kept buffers, and hands the slots over. */
#define COUNT_SLOTS 4
#define COUNT_MMAP "1073741824" /* bytes of the file a count maps at most */
struct cslot {
	struct blockdb_row row;
	struct blockdb_frames fr; /* the frames read, into buffers kept from block to block */
	int full, redo;		  /* redo: counted without its columns, which it needs */
};

struct cpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct cslot slot[COUNT_SLOTS];
	size_t head, tail; /* slots [tail, head) are full, by sequence mod COUNT_SLOTS */
	int done, failed;
	int64_t n;
	char err[256];
	const struct filt *f;
};

static void *count_main(void *arg)
{
	struct cpool *cp = arg;
	struct counter k;
	int64_t n = 0;
	memset(&k, 0, sizeof(k));
	k.f = cp->f;
	k.z = block_zip_new();
	pthread_mutex_lock(&cp->mu);
	for (;;) {
		while (cp->tail == cp->head && !cp->done && !cp->failed)
			pthread_cond_wait(&cp->cv, &cp->mu);
		if (cp->failed || cp->tail == cp->head)
			break;
		struct cslot *sl = &cp->slot[cp->tail % COUNT_SLOTS];
		cp->tail++;
		pthread_mutex_unlock(&cp->mu);
		char err[256];
		int r = k.z ? count_block(&k, &sl->row, &n, err, sizeof(err)) : -1;
		pthread_mutex_lock(&cp->mu);
		sl->full = 0;
		sl->redo = r == 1;
		if (r < 0 && !cp->failed) {
			cp->failed = 1;
			snprintf(cp->err, sizeof(cp->err), "%s", k.z ? err : "out of memory");
		}
		pthread_cond_broadcast(&cp->cv);
	}
	cp->n += n;
	pthread_cond_broadcast(&cp->cv);
	pthread_mutex_unlock(&cp->mu);
	block_dec_release(&k.d);
	block_zip_free(k.z);
	return NULL;
}

/* Counts a slot that needs its columns after all, on the caller's thread (a block holding a
 * line with an LF in it: rare). */
static int count_redo(sqlite3 *db, struct counter *k, struct cslot *sl, int64_t *n, char *err,
		      size_t errsz)
{
	if (!sl->redo)
		return 0;
	sl->redo = 0;
	if (!k->z && !(k->z = block_zip_new()))
		return fail(err, errsz, "cannot count: out of memory", NULL);
	if (blockdb_read_frame(db, &sl->fr, 1, sl->row.first_id, sl->row.cols_z, err, errsz))
		return -1;
	sl->row.cols = sl->fr.buf[1];
	return count_block(k, &sl->row, n, err, errsz) ? -1 : 0;
}

static int count(sqlite3 *db, const struct store_sel *sel, struct filt *f, int64_t *n, char *err,
		 size_t errsz);

int bread_count(sqlite3 *db, const struct store_sel *sel, const struct bread_stop *stop, int64_t *n,
		char *err, size_t errsz)
{
	struct filt f;
	struct stopper sp;
	filt_init(&f, sel, 0);
	stopper_init(&sp, stop, f.has_regex);
	f.sp = &sp;
	int r = count(db, sel, &f, n, err, errsz);
	stopper_release(&sp);
	return r;
}

static int count(sqlite3 *db, const struct store_sel *sel, struct filt *fp, int64_t *n, char *err,
		 size_t errsz)
{
	const struct filt f = *fp;
	*n = 0;
	if (events_only(sel)) {
		int64_t *cand;
		size_t ncand;
		struct collect col;
		memset(&col, 0, sizeof(col));
		if (event_positions(db, sel, &cand, &ncand, err, errsz))
			return -1;
		int r = scan(db, sel, &f, 0, cand, ncand, collect_one, &col, err, errsz);
		free(cand);
		free(col.v);
		if (r || col.oom)
			return col.oom ? fail(err, errsz, "cannot count", NULL) : -1;
		*n = (int64_t)col.n;
		return 0;
	}
	/* one snapshot for the rows and the frames read beside them (blob handles), until the
	 * blocks counted without their columns are counted again with them; the frames copied
	 * from the file's pages mapped, not read into the page cache first. Not for a count
	 * of every line, which reads the frames of a window's edge blocks at most. */
	int frames = f.q || f.fields;
	int tx = frames && sqlite3_get_autocommit(db) &&
		 sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	if (frames)
		sqlite3_exec(db, "PRAGMA mmap_size=" COUNT_MMAP, NULL, NULL, NULL);
	sqlite3_stmt *s = select_cols(db, sel, 0, BLOCKDB_META_COLS, err, errsz);
	if (!s) {
		if (tx)
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return -1;
	}
	/* regexes keep their match space in the query: one thread then */
	int threads = f.has_regex ? 1 : 2;
	struct cpool cp;
	struct counter mk; /* the caller's, for the blocks counted again */
	pthread_t thr[2];
	int started = 0, rc, ret = -1;
	int64_t mine = 0;
	memset(&cp, 0, sizeof(cp));
	memset(&mk, 0, sizeof(mk));
	mk.f = &f;
	cp.f = &f;
	pthread_mutex_init(&cp.mu, NULL);
	pthread_cond_init(&cp.cv, NULL);
	for (int t = 0; t < threads; t++)
		if (!pthread_create(&thr[t], NULL, count_main, &cp))
			started++;
	if (!started) {
		fail(err, errsz, "cannot start counting", NULL);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct blockdb_row row;
		if (halt(f.sp)) {
			stopped(err, errsz);
			break;
		}
		if (blockdb_fill_meta(s, &row, err, errsz))
			break;
		int64_t tmin = sel->clock == STORE_RECEIVED ? row.m.recv_min : row.m.ts_min;
		int64_t tmax = sel->clock == STORE_RECEIVED ? row.m.recv_max : row.m.ts_max;
		int inside = row.first_id >= sel->from.v && row.first_id + row.m.n <= sel->to.v &&
			     tmin >= sel->since_ms && tmax < sel->until_ms;
		if (inside && !f.fields && !f.q) {
			mine += row.m.n; /* every line of it, nothing to read */
			continue;
		}
		pthread_mutex_lock(&cp.mu);
		while (cp.head - cp.tail == COUNT_SLOTS || cp.slot[cp.head % COUNT_SLOTS].full)
			pthread_cond_wait(&cp.cv, &cp.mu);
		struct cslot *sl = &cp.slot[cp.head % COUNT_SLOTS];
		int failed = cp.failed;
		pthread_mutex_unlock(&cp.mu);
		if (failed)
			break;
		/* the slot is the caller's until head moves */
		if (count_redo(db, &mk, sl, &mine, err, errsz))
			break;
		sl->row = row;
		/* the raw lines alone when the words can be looked for in them (count_block) */
		int cols = !(inside && !f.fields && f.need_raw);
		if (f.need_raw &&
		    blockdb_read_frame(db, &sl->fr, 0, row.first_id, row.raw_z, err, errsz))
			break;
		if (cols &&
		    blockdb_read_frame(db, &sl->fr, 1, row.first_id, row.cols_z, err, errsz))
			break;
		sl->row.raw = f.need_raw ? sl->fr.buf[0] : NULL;
		sl->row.cols = cols ? sl->fr.buf[1] : NULL;
		pthread_mutex_lock(&cp.mu);
		sl->full = 1;
		cp.head++;
		pthread_cond_broadcast(&cp.cv);
		pthread_mutex_unlock(&cp.mu);
	}
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc != SQLITE_ROW)
		fail(err, errsz, "cannot read the blocks", db);
out:
	pthread_mutex_lock(&cp.mu);
	cp.done = 1;
	if (ret)
		cp.failed = 1;
	pthread_cond_broadcast(&cp.cv);
	pthread_mutex_unlock(&cp.mu);
	for (int t = 0; t < started; t++)
		pthread_join(thr[t], NULL);
	if (!ret && cp.failed) {
		snprintf(err, errsz, "%s", cp.err);
		ret = -1;
	}
	for (int i = 0; i < COUNT_SLOTS; i++) {
		if (!ret && count_redo(db, &mk, &cp.slot[i], &mine, err, errsz))
			ret = -1;
		blockdb_frames_release(&cp.slot[i].fr);
	}
	*n = cp.n + mine;
	block_dec_release(&mk.d);
	block_zip_free(mk.z);
	pthread_cond_destroy(&cp.cv);
	pthread_mutex_destroy(&cp.mu);
	sqlite3_finalize(s);
	if (tx)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (frames)
		sqlite3_exec(db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
	return ret;
}

/* ------------------------------------------------------------------------ bins */

static int64_t bin_of(int64_t t, int64_t t0, int64_t w, size_t n)
{
	int64_t d;
	if (__builtin_sub_overflow(t, t0, &d) || d < 0)
		return -1;
	d /= w;
	return (uint64_t)d < n ? d : -1;
}

struct hist {
	int64_t t0, w;
	size_t n;
	int64_t *counts;
	struct store_bin *bins;
	int clock;
};

static int hist_one(void *arg, int64_t pos, const struct block_rec *br)
{
	struct hist *h = arg;
	(void)pos;
	int64_t b = bin_of(h->clock == STORE_RECEIVED ? br->recv_ms : br->ts_ms, h->t0, h->w, h->n);
	if (b < 0)
		return 0;
	if (h->counts) {
		h->counts[b]++;
		return 0;
	}
	const struct logrec *r = &br->rec;
	struct store_bin *bin = &h->bins[b];
	if (r->kind == LR_HTTP)
		bin->cls[rollup_class_of(r->status_code)]++;
	bin->errors += rollup_is_error(r);
	bin->requests++;
	return 0;
}

/* The bins' span as a window within sel's. 0 when it is empty. */
static int clip(struct store_sel *hs, int64_t t0, int64_t w, size_t nbins)
{
	int64_t span, end;
	if (__builtin_mul_overflow((int64_t)nbins, w, &span) ||
	    __builtin_add_overflow(t0, span, &end))
		end = INT64_MAX;
	if (hs->since_ms < t0)
		hs->since_ms = t0;
	if (hs->until_ms > end)
		hs->until_ms = end;
	return hs->until_ms > hs->since_ms;
}

/* Counts per bin with the blocks' time ranges as the index (no query, no field filter): a block
 * inside the selection whose lines all fall in one bin adds its n there without being read (its
 * summary columns come first in the row, so its compressed frames are not even loaded); only
 * the blocks across a bin's edge or the selection's are decoded. A receive-time hit graph over
 * millions of lines costs a few thousand block rows, not their lines. */
static int hist_by_blocks(sqlite3 *db, const struct store_sel *hs, const struct filt *f,
			  struct hist *h, char *err, size_t errsz)
{
	const char *cols = hs->clock == STORE_RECEIVED ? "first_id, n, recv_min, recv_max"
						       : "first_id, n, ts_min, ts_max";
	sqlite3_stmt *s = select_cols(db, hs, 0, cols, err, errsz), *one = NULL;
	struct dblock b;
	int rc, ret = -1;
	unsigned tick = 0;
	if (!s)
		return -1;
	memset(&b, 0, sizeof(b));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (halt(f->sp)) {
			stopped(err, errsz);
			goto out;
		}
		int64_t first = sqlite3_column_int64(s, 0), n = sqlite3_column_int64(s, 1);
		int64_t tmin = sqlite3_column_int64(s, 2), tmax = sqlite3_column_int64(s, 3);
		int64_t bin = bin_of(tmin, h->t0, h->w, h->n);
		if (first >= hs->from.v && first + n <= hs->to.v && tmin >= hs->since_ms &&
		    tmax < hs->until_ms && bin >= 0 && bin == bin_of(tmax, h->t0, h->w, h->n)) {
			h->counts[bin] += n;
			continue;
		}
		int r = dblock_at(&b, db, &one, first, f, err, errsz);
		if (r < 0)
			goto out;
		for (size_t i = 0; r && i < b.n; i++) {
			if (halt_tick(f->sp, &tick)) {
				stopped(err, errsz);
				goto out;
			}
			if (line_ok(f, b.first + (int64_t)i, &b.recs[i]))
				hist_one(h, b.first + (int64_t)i, &b.recs[i]);
		}
	}
	if (rc != SQLITE_DONE) {
		fail(err, errsz, "cannot read the blocks", db);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(one);
	dblock_release(&b);
	return ret;
}

static int scan_bins(sqlite3 *db, const struct store_sel *hs, const struct bread_stop *stop,
		     struct hist *h, char *err, size_t errsz)
{
	struct filt f;
	struct stopper sp;
	filt_init(&f, hs, 0);
	stopper_init(&sp, stop, f.has_regex);
	f.sp = &sp;
	if (h->bins) { /* rollup_class_of and rollup_is_error read these */
		need(&f, OFF(status_code));
		need(&f, OFF(term));
		need(&f, OFF(retries));
	}
	int64_t *cand = NULL;
	size_t ncand = 0;
	int r = -1;
	if (h->counts && !f.q && !f.fields)
		r = hist_by_blocks(db, hs, &f, h, err, errsz);
	else if (!events_only(hs) || !event_positions(db, hs, &cand, &ncand, err, errsz))
		r = scan(db, hs, &f, 0, cand, ncand, hist_one, h, err, errsz);
	free(cand);
	stopper_release(&sp);
	return r;
}

int bread_histogram(sqlite3 *db, const struct store_sel *sel, const struct bread_stop *stop,
		    int64_t t0, int64_t w, size_t nbins, int64_t *counts, char *err, size_t errsz)
{
	struct store_sel hs = *sel;
	if (!clip(&hs, t0, w, nbins))
		return 0;
	struct hist h = {t0, w, nbins, counts, NULL, sel->clock};
	return scan_bins(db, &hs, stop, &h, err, errsz);
}

int bread_series(sqlite3 *db, const struct store_sel *sel, const struct bread_stop *stop,
		 int64_t t0, int64_t w, size_t nbins, struct store_bin *bins, char *err,
		 size_t errsz)
{
	struct store_sel hs = *sel;
	hs.clock = STORE_LOGGED;
	hs.kinds = sel->kinds ? sel->kinds : STORE_KINDS_TRAFFIC;
	if (!clip(&hs, t0, w, nbins))
		return 0;
	struct hist h = {t0, w, nbins, NULL, bins, STORE_LOGGED};
	return scan_bins(db, &hs, stop, &h, err, errsz);
}
