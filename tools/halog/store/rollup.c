/* Rollup building blocks: log-linear histograms, a small hash map, per-key aggregates. */
#include "store/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "varint.h"

unsigned hist_bucket(int64_t v)
{
	if (v < 0)
		v = 0;
	if (v > INT32_MAX)
		v = INT32_MAX;
	if (v < HIST_LINEAR)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll((unsigned long long)v); /* 6..30 */
	unsigned sub = (unsigned)(v >> (e - 5)) & (HIST_SUB - 1);
	return HIST_LINEAR + (e - 6) * HIST_SUB + sub;
}

int64_t hist_lower(unsigned b)
{
	if (b < HIST_LINEAR)
		return b;
	unsigned e = (b - HIST_LINEAR) / HIST_SUB + 6;
	unsigned sub = (b - HIST_LINEAR) % HIST_SUB;
	return (int64_t)(HIST_SUB + sub) << (e - 5);
}

int64_t hist_upper(unsigned b)
{
	if (b < HIST_LINEAR)
		return b;
	if (b + 1 >= HIST_N)
		return INT32_MAX;
	return hist_lower(b + 1) - 1;
}

int64_t hist_value(unsigned b)
{
	if (b < HIST_LINEAR)
		return b;
	return (hist_lower(b) + hist_upper(b)) / 2;
}

static int put_varint(struct strbuf *sb, uint64_t v)
{
	unsigned char tmp[VARINT_MAX];
	return strbuf_add(sb, tmp, varint_put(tmp, v));
}

int hist_encode(const uint64_t *counts, struct strbuf *out)
{
	unsigned prev = 0;
	for (unsigned b = 0; b < HIST_N; b++) {
		if (!counts[b])
			continue;
		if (put_varint(out, b - prev) || put_varint(out, counts[b]))
			return -1;
		prev = b;
	}
	return 0;
}

int hist_encode_chunks(uint64_t *const *chunks, struct strbuf *out)
{
	unsigned prev = 0;
	for (unsigned c = 0; c < HIST_NCHUNK; c++) {
		if (!chunks[c])
			continue;
		for (unsigned i = 0; i < HIST_CHUNK; i++) {
			unsigned b = c * HIST_CHUNK + i;
			if (!chunks[c][i])
				continue;
			if (put_varint(out, b - prev) || put_varint(out, chunks[c][i]))
				return -1;
			prev = b;
		}
	}
	return 0;
}

int hist_decode_add(const void *blob, size_t len, uint64_t *counts)
{
	const unsigned char *p = blob, *end = p + len;
	uint64_t b = 0;
	while (p < end) {
		uint64_t gap, n;
		if (varint_get(&p, end, &gap) || varint_get(&p, end, &n))
			return -1;
		b += gap;
		if (b >= HIST_N)
			return -1;
		counts[b] += n;
	}
	return 0;
}

/* A blob read bucket by bucket (hist_merge). */
struct hist_cur {
	const unsigned char *p, *end;
	uint64_t b, n; /* the bucket and count read last */
	int have;      /* b and n hold an entry */
};

/* The next entry of c. Returns 0, or -1 when the blob is malformed or its buckets go past
 * HIST_N or back (a gap that wraps): hist_merge then leaves it to the dense counts. */
static int hist_cur_next(struct hist_cur *c)
{
	uint64_t gap, n;
	if (c->p >= c->end) {
		c->have = 0;
		return 0;
	}
	if (varint_get(&c->p, c->end, &gap) || varint_get(&c->p, c->end, &n))
		return -1;
	if (c->b + gap < c->b || c->b + gap >= HIST_N)
		return -1;
	c->b += gap;
	c->n = n;
	c->have = 1;
	return 0;
}

/* hist_merge by the dense counts: every case, malformed blobs included. */
static int hist_merge_dense(const void *a, size_t alen, const void *b, size_t blen,
			    struct strbuf *out)
{
	uint64_t *counts = calloc(HIST_N, sizeof(*counts));
	int rc = -2;
	if (!counts)
		return -2;
	if (hist_decode_add(a, alen, counts) || hist_decode_add(b, blen, counts))
		rc = -1;
	else if (!hist_encode(counts, out))
		rc = 0;
	free(counts);
	return rc;
}

int hist_merge(const void *a, size_t alen, const void *b, size_t blen, struct strbuf *out)
{
	struct hist_cur c[2] = {{a, (const unsigned char *)a + alen, 0, 0, 0},
				{b, (const unsigned char *)b + blen, 0, 0, 0}};
	size_t len0 = out->len;
	unsigned prev = 0;
	if (hist_cur_next(&c[0]) || hist_cur_next(&c[1]))
		goto dense;
	while (c[0].have || c[1].have) {
		uint64_t bk = !c[1].have || (c[0].have && c[0].b < c[1].b) ? c[0].b : c[1].b;
		uint64_t n = 0;
		for (int i = 0; i < 2; i++) {
			while (c[i].have && c[i].b == bk) { /* a gap of 0 repeats a bucket */
				n += c[i].n;
				if (hist_cur_next(&c[i]))
					goto dense;
			}
		}
		if (!n)
			continue;
		if (put_varint(out, bk - prev) || put_varint(out, n))
			return -2;
		prev = (unsigned)bk;
	}
	return 0;
dense:
	out->len = len0;
	return hist_merge_dense(a, alen, b, blen, out);
}

int64_t hist_percentile(const uint64_t *counts, uint64_t n, double p, int64_t max)
{
	if (!n)
		return -1;
	/* nearest rank: the smallest value with at least ceil(p/100 * n) values at or below it */
	double r = p / 100.0 * (double)n;
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	uint64_t seen = 0;
	for (unsigned b = 0; b < HIST_N; b++) {
		seen += counts[b];
		if (seen >= rank) {
			int64_t v = hist_value(b);
			return v > max ? max : v;
		}
	}
	return max;
}

/* ---- hash map (FNV-1a, linear probing, load <= 1/2) ---- */
uint64_t hmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

struct hmap_ent *hmap_get(const struct hmap *m, const void *key, size_t len)
{
	if (!m->cap)
		return NULL;
	uint64_t h = hmap_hash(key, len);
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hmap_ent *e = &m->tab[i];
		if (!e->key)
			return NULL;
		if (e->hash == h && e->klen == len && !memcmp(e->key, key, len))
			return e;
	}
}

static int hmap_grow(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct hmap_ent *nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		struct hmap_ent *e = &m->tab[i];
		if (!e->key)
			continue;
		size_t j = e->hash & (ncap - 1);
		while (nt[j].key)
			j = (j + 1) & (ncap - 1);
		nt[j] = *e;
	}
	free(m->tab);
	m->tab = nt;
	m->cap = ncap;
	return 0;
}

struct hmap_ent *hmap_put(struct hmap *m, const void *key, size_t len, int *isnew)
{
	*isnew = 0;
	if ((m->n + 1) * 2 > m->cap && hmap_grow(m))
		return NULL;
	uint64_t h = hmap_hash(key, len);
	size_t i = h & (m->cap - 1);
	for (;; i = (i + 1) & (m->cap - 1)) {
		struct hmap_ent *e = &m->tab[i];
		if (!e->key)
			break;
		if (e->hash == h && e->klen == len && !memcmp(e->key, key, len))
			return e;
	}
	char *k = malloc(len + 1);
	if (!k)
		return NULL;
	if (len)
		memcpy(k, key, len);
	k[len] = '\0';
	m->tab[i].hash = h;
	m->tab[i].key = k;
	m->tab[i].klen = len;
	m->tab[i].val = NULL;
	m->n++;
	*isnew = 1;
	return &m->tab[i];
}

void hmap_release(struct hmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->tab[i].key)
			continue;
		if (free_val && m->tab[i].val)
			free_val(m->tab[i].val);
		free(m->tab[i].key);
	}
	free(m->tab);
	m->tab = NULL;
	m->n = m->cap = 0;
}

/* ---- aggregates ---- */
int32_t rollup_timer_of(const struct logrec *rec, enum rollup_timer t)
{
	switch (t) {
	case RT_TR:
		return rec->t_req;
	case RT_TW:
		return rec->t_wait;
	case RT_TC:
		return rec->t_connect;
	case RT_TR_RESP:
		return rec->t_resp;
	case RT_TA:
	case RT_N:
		break;
	}
	return rec->t_active;
}

enum rollup_class rollup_class_of(int64_t status)
{
	if (status == LR_NONE || status < 100 || status > 599)
		return RC_OTHER;
	return (enum rollup_class)(status / 100 - 1);
}

int rollup_is_error(const struct logrec *rec)
{
	if (rec->kind == LR_HTTP) {
		if (rec->status_code == LR_NONE || rec->status_code < 0 || rec->status_code >= 500)
			return 1;
		if (rec->flags & LR_F_BADREQ)
			return 1;
	}
	if (rec->term[0] && rec->term[0] != '-' && rec->term[0] != 'L')
		return 1;
	/* Retries count against the logged server only when they happened on it: "+N" means the
	 * request was redispatched after failing elsewhere, so a success here is not this
	 * server's error (redispatches are counted on their own). */
	if (!(rec->flags & LR_F_REDISPATCH) && rec->retries != LR_NONE && rec->retries > 0)
		return 1;
	return 0;
}

int rollup_pair_add(struct rollup_pair **arr, size_t *n, size_t *alloc, int64_t key, int64_t delta)
{
	for (size_t i = 0; i < *n; i++) {
		if ((*arr)[i].key == key) {
			(*arr)[i].n += delta;
			return 0;
		}
	}
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 4;
		struct rollup_pair *p = realloc(*arr, na * sizeof(*p));
		if (!p)
			return -1;
		*arr = p;
		*alloc = na;
	}
	(*arr)[*n].key = key;
	(*arr)[*n].n = delta;
	(*n)++;
	return 0;
}

static uint64_t *agg_hist(struct rollup_agg *a, enum rollup_timer t)
{
	if (!a->hist[t])
		a->hist[t] = calloc(HIST_N, sizeof(uint64_t));
	return a->hist[t];
}

int rollup_agg_add_nohist(struct rollup_agg *a, const struct logrec *rec, unsigned bucket[RT_N])
{
	a->requests++;
	if (rec->kind == LR_HTTP)
		a->cls[rollup_class_of(rec->status_code)]++;
	if (rollup_is_error(rec))
		a->errors++;
	if (rec->flags & LR_F_REDISPATCH)
		a->redispatches++;
	else if (rec->retries != LR_NONE && rec->retries > 0)
		a->retries += rec->retries;
	if (rec->bytes_read != LR_NONE && rec->bytes_read > 0)
		a->bytes_read += rec->bytes_read;
	if (rec->bytes_uploaded != LR_NONE && rec->bytes_uploaded > 0)
		a->bytes_up += rec->bytes_uploaded;
	if (rec->flags & LR_F_LOGASAP)
		a->logasap++;
	if (rec->kind == LR_HTTP && rec->status_code != LR_NONE &&
	    rollup_pair_add(&a->codes, &a->ncodes, &a->acodes, rec->status_code, 1))
		return -1;
	if (rec->term[0]) {
		int64_t tk = ((int64_t)(unsigned char)rec->term[0] << 8) |
			     (unsigned char)(rec->term[1] ? rec->term[1] : '-');
		if (rollup_pair_add(&a->terms, &a->nterms, &a->aterms, tk, 1))
			return -1;
	}
#pragma GCC unroll 8 /* rollup_timer_of's switch folds away */
	for (int t = 0; t < RT_N; t++) {
		int32_t v = rollup_timer_of(rec, (enum rollup_timer)t);
		if (v == LR_TIMER_NONE || v < 0) {
			bucket[t] = HIST_N;
			continue;
		}
		bucket[t] = hist_bucket(v);
		a->tn[t]++;
		a->tsum[t] += v;
		if (v > a->tmax[t])
			a->tmax[t] = v;
	}
	return 0;
}

int rollup_agg_add(struct rollup_agg *a, const struct logrec *rec)
{
	unsigned bucket[RT_N];
	if (rollup_agg_add_nohist(a, rec, bucket))
		return -1;
	for (int t = 0; t < RT_N; t++) {
		if (bucket[t] == HIST_N)
			continue;
		uint64_t *h = agg_hist(a, (enum rollup_timer)t);
		if (!h)
			return -1;
		h[bucket[t]]++;
	}
	return 0;
}

int rollup_agg_add_timer(struct rollup_agg *a, enum rollup_timer t, int64_t n, int64_t sum,
			 int64_t max, const void *blob, size_t len)
{
	uint64_t *h = agg_hist(a, t);
	if (!h)
		return -1;
	if (hist_decode_add(blob, len, h))
		return -1;
	a->tn[t] += n;
	a->tsum[t] += sum;
	if (max > a->tmax[t])
		a->tmax[t] = max;
	return 0;
}

int rollup_agg_merge(struct rollup_agg *dst, const struct rollup_agg *src)
{
	dst->requests += src->requests;
	for (int i = 0; i < RC_N; i++)
		dst->cls[i] += src->cls[i];
	dst->errors += src->errors;
	dst->retries += src->retries;
	dst->redispatches += src->redispatches;
	dst->bytes_read += src->bytes_read;
	dst->bytes_up += src->bytes_up;
	dst->logasap += src->logasap;
	for (size_t i = 0; i < src->ncodes; i++)
		if (rollup_pair_add(&dst->codes, &dst->ncodes, &dst->acodes, src->codes[i].key,
				    src->codes[i].n))
			return -1;
	for (size_t i = 0; i < src->nterms; i++)
		if (rollup_pair_add(&dst->terms, &dst->nterms, &dst->aterms, src->terms[i].key,
				    src->terms[i].n))
			return -1;
	for (int t = 0; t < RT_N; t++) {
		if (!src->hist[t])
			continue;
		uint64_t *h = agg_hist(dst, (enum rollup_timer)t);
		if (!h)
			return -1;
		for (unsigned b = 0; b < HIST_N; b++)
			h[b] += src->hist[t][b];
		dst->tn[t] += src->tn[t];
		dst->tsum[t] += src->tsum[t];
		if (src->tmax[t] > dst->tmax[t])
			dst->tmax[t] = src->tmax[t];
	}
	return 0;
}

void rollup_agg_release(struct rollup_agg *a)
{
	free(a->codes);
	free(a->terms);
	for (int t = 0; t < RT_N; t++)
		free(a->hist[t]);
	memset(a, 0, sizeof(*a));
}

void rollup_agg_free(void *p)
{
	if (!p)
		return;
	rollup_agg_release(p);
	free(p);
}

const char *rollup_term_cause(char c)
{
	switch (c) {
	case 'C':
		return "client abort";
	case 'S':
		return "server abort or refusal";
	case 'P':
		return "proxy deny, limit or security check";
	case 'L':
		return "handled locally";
	case 'R':
		return "resource exhausted";
	case 'I':
		return "internal error";
	case 'D':
		return "server down, killed";
	case 'U':
		return "killed on backup when active came back";
	case 'K':
		return "admin kill";
	case 'c':
		return "client timeout";
	case 's':
		return "server timeout";
	case '-':
		return "normal";
	default:
		return "unknown";
	}
}

const char *rollup_term_phase(char c)
{
	switch (c) {
	case 'R':
		return "waiting for the request";
	case 'Q':
		return "in queue";
	case 'C':
		return "connecting to the server";
	case 'H':
		return "waiting for response headers";
	case 'D':
		return "transferring data";
	case 'L':
		return "sending last data";
	case 'T':
		return "tarpitted";
	case '-':
		return "completed";
	default:
		return "unknown";
	}
}
