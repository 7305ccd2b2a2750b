/* Ranked request tables (paths, clients): keys, accumulation with exact Ta percentiles, ranking.
 * See ranked.h. */
#include "report/ranked.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/rollup.h"
#include "strbuf.h"

const char *const report_sort_names[REPORT_SORT_N + 1] = {
	[REPORT_SORT_REQUESTS] = "requests",
	[REPORT_SORT_ERRORS] = "errors",
	[REPORT_SORT_ERROR_RATE] = "error-rate",
	[REPORT_SORT_P50] = "p50",
	[REPORT_SORT_P95] = "p95",
	[REPORT_SORT_P99] = "p99",
	[REPORT_SORT_MAX] = "max",
	[REPORT_SORT_TIME] = "time",
	[REPORT_SORT_BYTES] = "bytes",
	[REPORT_SORT_KEY] = "name",
	[REPORT_SORT_N] = NULL,
};

/* ------------------------------------------------------------------------ keys */

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The placeholder for segment s (n bytes), or NULL when it stays as it is. Most segments are
 * words: the first byte that is not a hex digit settles them. */
static const char *fold_segment(const char *s, size_t n)
{
	int only_digits = 1, digit = 0;
	if (!n)
		return NULL;
	if (n == 36) {
		static const size_t dash[4] = {8, 13, 18, 23};
		int uuid = 1;
		for (size_t i = 0, d = 0; i < n && uuid; i++) {
			if (d < 4 && i == dash[d]) {
				uuid = s[i] == '-';
				d++;
			} else {
				uuid = is_hex(s[i]);
			}
		}
		if (uuid)
			return "{uuid}";
	}
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			digit = 1;
			continue;
		}
		only_digits = 0;
		if (!is_hex(s[i]))
			return NULL;
	}
	if (only_digits)
		return "{num}";
	return n >= 8 && digit ? "{hex}" : NULL;
}

/* The URI's length up to its first '?', ';' or space (a request-target has none). */
static size_t cut_params(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '?' || p[i] == ';' || p[i] == ' ')
			return i;
	return n;
}

int report_path_key(const struct logrec *rec, int fold, struct strbuf *out)
{
	struct lr_str v = fold && rec->path.p ? rec->path : rec->uri;
	strbuf_reset(out);
	if (!v.p || !v.len) {
		if (!rec->path.p || !rec->path.len)
			return strbuf_addstr(out, rec->flags & LR_F_BADREQ ? "<BADREQ>" : "-");
		v = rec->path;
	}
	size_t n = cut_params(v.p, v.len);
	if (!fold)
		return strbuf_add(out, v.p, n);
	/* a placeholder is at most 6 bytes for a segment of at least 1: room for the worst case
	 * once, then written in place (this runs once per request) */
	if (strbuf_grow(out, 6 * n + 1))
		return -1;
	char *o = out->buf;
	for (size_t i = 0; i < n;) {
		const char *seg = v.p + i, *slash = memchr(seg, '/', n - i);
		size_t j = slash ? (size_t)(slash - v.p) : n;
		const char *ph = fold_segment(seg, j - i);
		size_t l = ph ? strlen(ph) : j - i;
		memcpy(o, ph ? ph : seg, l);
		o += l;
		if (j < n)
			*o++ = '/';
		i = j + 1;
	}
	out->len = (size_t)(o - out->buf);
	out->buf[out->len] = '\0';
	return 0;
}

int report_client_key(const struct logrec *rec, enum report_client_by by, struct strbuf *out)
{
	char ip[INET6_ADDRSTRLEN + 8];
	unsigned char a[16];
	strbuf_reset(out);
	if (!rec->client_ip.p || !rec->client_ip.len)
		return strbuf_addstr(out, "-");
	if (by == REPORT_CLIENT_ADDR || rec->client_ip.len >= INET6_ADDRSTRLEN)
		return strbuf_add(out, rec->client_ip.p, rec->client_ip.len);
	memcpy(ip, rec->client_ip.p, rec->client_ip.len);
	ip[rec->client_ip.len] = '\0';
	if (inet_pton(AF_INET, ip, a) == 1) {
		a[3] = 0;
		if (!inet_ntop(AF_INET, a, ip, sizeof(ip)))
			return -1;
		return strbuf_addf(out, "%s/24", ip);
	}
	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (!memcmp(a, mapped, sizeof(mapped))) {
			/* ::ffff:a.b.c.d is an IPv4 client: its /24 */
			a[15] = 0;
			if (!inet_ntop(AF_INET, a + 12, ip, sizeof(ip)))
				return -1;
			return strbuf_addf(out, "%s/24", ip);
		}
		memset(a + 8, 0, 8);
		if (!inet_ntop(AF_INET6, a, ip, sizeof(ip)))
			return -1;
		return strbuf_addf(out, "%s/64", ip);
	}
	return strbuf_add(out, rec->client_ip.p, rec->client_ip.len);
}

/* ------------------------------------------------------------------------ accumulation */

/* One row while records are added: what a lookup compares and an add updates lies in its first
 * 64 bytes (the length, then the counts every record adds to), the key right after; rows start
 * on a cache line (struct arena), so a lookup of a short key reads one or two lines. */
struct acc {
	uint32_t klen, id; /* id: in the order rows were made, 0, 1, … */
	int64_t requests, errors, bytes, ta_n, ta_sum, halog_err, halog_time; /* report_row's */
	int64_t halog_bytes;
	int32_t max, p50, p95, p99; /* -1: none; the percentiles are set by rows_percentiles */
	char key[];		    /* klen bytes */
};
_Static_assert(offsetof(struct acc, halog_bytes) == 64, "an add's counts fill one cache line");

/* The rows' memory: chunks that rows are cut from, each on a 64-byte boundary, freed at once
 * (no allocation per row, no allocator header between two rows). */
#define ARENA_CHUNK ((size_t)1 << 20)
#define ARENA_ALIGN 64
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	_Alignas(ARENA_ALIGN) unsigned char mem[];
};
struct arena {
	struct arena_chunk *head; /* the chunk rows are cut from now; the older ones follow */
};

/* n bytes, 64-byte aligned and zeroed, that live until arena_release. NULL: out of memory. */
static void *arena_alloc(struct arena *ar, size_t n)
{
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct arena_chunk *c = ar->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		if (!(c = aligned_alloc(ARENA_ALIGN, sizeof(*c) + size)))
			return NULL;
		c->size = size;
		c->used = 0;
		if (ar->head && size != ARENA_CHUNK) { /* a big one: keep cutting from the head */
			c->next = ar->head->next;
			ar->head->next = c;
		} else {
			c->next = ar->head;
			ar->head = c;
		}
	}
	void *p = c->mem + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static void arena_release(struct arena *ar)
{
	while (ar->head) {
		struct arena_chunk *c = ar->head;
		ar->head = c->next;
		free(c);
	}
}

/* The rows by key: open addressing on the key's hash, each slot the hash and its row (the key
 * lives in the row), so a lookup touches the slot and the row it updates anyway. */
struct slot {
	uint64_t hash;
	struct acc *a; /* NULL: empty */
};

/* One Ta value and the row it belongs to. The values of every row go into one array, in the
 * order they come: no array per row to grow, and only the rows shown are gathered at the end
 * for their percentiles. */
struct tval {
	uint32_t id; /* the row's */
	int32_t ta;
};

struct report_ranker {
	enum report_ranker_kind kind;
	struct slot *tab; /* cap slots, a power of two, at most half full */
	size_t n, cap;	  /* rows (their ids are 0 .. n - 1), slots */
	struct tval *vals;
	size_t nvals, avals;
	struct strbuf key;
	struct arena rows; /* the struct acc of every row */
};

struct report_ranker *report_ranker_new(enum report_ranker_kind kind)
{
	struct report_ranker *k = calloc(1, sizeof(*k));
	if (k) {
		k->kind = kind;
		strbuf_init(&k->key);
	}
	return k;
}

void report_ranker_free(struct report_ranker *k)
{
	if (!k)
		return;
	arena_release(&k->rows);
	free(k->tab);
	free(k->vals);
	strbuf_release(&k->key);
	free(k);
}

/* A hash of n bytes at p, eight at a time. */
static uint64_t key_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

static int ranker_grow(struct report_ranker *k)
{
	size_t ncap = k->cap ? k->cap * 2 : 256;
	struct slot *nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -1;
	for (size_t i = 0; i < k->cap; i++) {
		if (!k->tab[i].a)
			continue;
		size_t j = k->tab[i].hash & (ncap - 1);
		while (nt[j].a)
			j = (j + 1) & (ncap - 1);
		nt[j] = k->tab[i];
	}
	free(k->tab);
	k->tab = nt;
	k->cap = ncap;
	return 0;
}

/* The row of key, made on first use. NULL: out of memory. */
static struct acc *acc_of(struct report_ranker *k, const char *key, size_t klen)
{
	if (((k->n + 1) * 2 > k->cap && ranker_grow(k)) || k->n >= UINT32_MAX)
		return NULL;
	uint64_t h = key_hash(key, klen);
	size_t i = h & (k->cap - 1);
	for (;; i = (i + 1) & (k->cap - 1)) {
		struct acc *a = k->tab[i].a;
		if (!a)
			break;
		if (k->tab[i].hash == h && a->klen == klen && !memcmp(a->key, key, klen))
			return a;
	}
	if (klen > UINT32_MAX)
		return NULL;
	struct acc *a = arena_alloc(&k->rows, sizeof(*a) + klen);
	if (!a)
		return NULL;
	a->max = a->p50 = a->p95 = a->p99 = -1;
	a->id = (uint32_t)k->n;
	a->klen = (uint32_t)klen;
	if (klen)
		memcpy(a->key, key, klen);
	k->tab[i].hash = h;
	k->tab[i].a = a;
	k->n++;
	return a;
}

/* Adds rec to its row a. Returns 0 or -1 (out of memory). */
static int acc_add(struct report_ranker *k, struct acc *a, const struct logrec *rec)
{
	struct acc *w = a;
	w->requests++;
	w->errors += rollup_is_error(rec) != 0;
	if (rec->bytes_read != LR_NONE && rec->bytes_read > 0)
		w->bytes += rec->bytes_read;
	if (rec->t_active != LR_TIMER_NONE) {
		if (k->nvals == k->avals) {
			size_t n = k->avals ? k->avals * 2 : 1024;
			struct tval *p = realloc(k->vals, n * sizeof(*p));
			if (!p)
				return -1;
			k->vals = p;
			k->avals = n;
		}
		k->vals[k->nvals++] = (struct tval){a->id, rec->t_active};
		w->ta_n++;
		w->ta_sum += rec->t_active;
		if (rec->t_active > w->max)
			w->max = rec->t_active;
	}
	/* HAProxy's halog: a -1 timer is its error; its time is Tr (-u) or TR (-ic), else Ta (-1
	 * counting as -1: it adds the value as it reads it) */
	int32_t first = k->kind == REPORT_RANK_PATHS ? rec->t_resp : rec->t_req;
	int32_t ta = rec->t_active;
	int64_t bytes = rec->bytes_read != LR_NONE && rec->bytes_read > 0 ? rec->bytes_read : 0;
	if (rec->flags & LR_F_LOGASAP) {
		/* "+N" reads as 0 there: logasap prefixes both Ta and the bytes */
		if (ta != LR_TIMER_NONE)
			ta = 0;
		bytes = 0;
	}
	int err = first == LR_TIMER_NONE || ta == LR_TIMER_NONE;
	if (k->kind == REPORT_RANK_PATHS)
		err |= rec->t_req == LR_TIMER_NONE || rec->t_wait == LR_TIMER_NONE ||
		       rec->t_connect == LR_TIMER_NONE;
	w->halog_err += err;
	w->halog_time += first != LR_TIMER_NONE ? first : ta != LR_TIMER_NONE ? ta : -1;
	w->halog_bytes += bytes;
	return 0;
}

int report_ranker_add(struct report_ranker *k, const char *key, size_t klen,
		      const struct logrec *rec)
{
	struct acc *a = acc_of(k, key, klen);
	return a ? acc_add(k, a, rec) : -1;
}

int report_ranker_add_path(struct report_ranker *k, const struct logrec *rec, int fold)
{
	struct acc *a;
	if (report_path_key(rec, fold, &k->key) || !(a = acc_of(k, k->key.buf, k->key.len)))
		return -1;
	return acc_add(k, a, rec);
}

/* Puts the k-th smallest (0-based) of v[lo..hi] at v[k], the smaller ones before it and the
 * larger ones after (quickselect, Hoare's partition around a median of three). */
static void select_kth(int32_t *v, ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t k)
{
	while (lo < hi) {
		int32_t a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
		int32_t pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				int32_t t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		/* v[lo..j] <= pivot, v[i..hi] >= pivot, and what lies between equals it */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* The nearest-rank p-th percentile's 0-based index among n values. */
static size_t rank_index(size_t n, int p)
{
	size_t rank = (n * (size_t)p + 99) / 100;
	return rank < 1 ? 0 : rank - 1;
}

/* p50, p95 and p99 of the n values v of row w, exact (nearest rank), as if they were sorted. */
static void percentiles(struct acc *w, int32_t *v, size_t n)
{
	w->p50 = w->p95 = w->p99 = -1;
	if (!n)
		return;
	size_t i99 = rank_index(n, 99), i95 = rank_index(n, 95), i50 = rank_index(n, 50);
	select_kth(v, 0, (ptrdiff_t)n - 1, (ptrdiff_t)i99);
	w->p99 = v[i99];
	if (i95 < i99)
		select_kth(v, 0, (ptrdiff_t)i99 - 1, (ptrdiff_t)i95);
	w->p95 = v[i95];
	if (i50 < i95)
		select_kth(v, 0, (ptrdiff_t)i95 - 1, (ptrdiff_t)i50);
	w->p50 = v[i50];
}

/* Sets the percentiles of the m rows accs: their values gathered from k->vals (one pass), each
 * row's together. Returns 0 or -1 (out of memory). */
static int rows_percentiles(const struct report_ranker *k, struct acc **accs, size_t m)
{
	size_t *pos = malloc((k->n ? k->n : 1) * sizeof(*pos)), total = 0;
	int32_t *v = NULL;
	if (!pos)
		return -1;
	for (size_t i = 0; i < k->n; i++)
		pos[i] = SIZE_MAX;
	for (size_t j = 0; j < m; j++) {
		pos[accs[j]->id] = total;
		total += (size_t)accs[j]->ta_n;
	}
	if (!(v = malloc((total ? total : 1) * sizeof(*v)))) {
		free(pos);
		return -1;
	}
	for (size_t i = 0; i < k->nvals; i++) {
		size_t p = pos[k->vals[i].id];
		if (p != SIZE_MAX) {
			v[p] = k->vals[i].ta;
			pos[k->vals[i].id] = p + 1;
		}
	}
	for (size_t j = 0; j < m; j++) {
		size_t n = (size_t)accs[j]->ta_n; /* pos is now the end of the row's values */
		percentiles(accs[j], v + pos[accs[j]->id] - n, n);
	}
	free(v);
	free(pos);
	return 0;
}

static int64_t sort_value(const struct acc *r, enum report_sort s)
{
	switch (s) {
	case REPORT_SORT_REQUESTS:
		return r->requests;
	case REPORT_SORT_ERRORS:
		return r->errors;
	case REPORT_SORT_ERROR_RATE:
		/* errors per million requests: a rate without floating point ties */
		return r->requests ? r->errors * 1000000 / r->requests : 0;
	case REPORT_SORT_P50:
		return r->p50;
	case REPORT_SORT_P95:
		return r->p95;
	case REPORT_SORT_P99:
		return r->p99;
	case REPORT_SORT_MAX:
		return r->max;
	case REPORT_SORT_TIME:
		return r->ta_sum;
	case REPORT_SORT_BYTES:
		return r->bytes;
	default:
		return 0;
	}
}

static int cmp_acc(const void *x, const void *y, void *arg)
{
	const struct acc *a = *(const struct acc *const *)x, *b = *(const struct acc *const *)y;
	enum report_sort s = *(const enum report_sort *)arg;
	if (s != REPORT_SORT_KEY) {
		int64_t va = sort_value(a, s), vb = sort_value(b, s);
		if (va != vb)
			return va > vb ? -1 : 1;
	}
	/* byte order, the shorter first on a tie: strcmp's order for keys without NUL */
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int d = memcmp(a->key, b->key, n);
	return d ? d : (a->klen > b->klen) - (a->klen < b->klen);
}

/* Moves down heap[i] of the n-long heap whose first element ranks last (cmp_acc). */
static void sift_down(struct acc **heap, size_t n, size_t i, enum report_sort *sort)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && cmp_acc(&heap[l], &heap[m], sort) > 0)
			m = l;
		if (r < n && cmp_acc(&heap[r], &heap[m], sort) > 0)
			m = r;
		if (m == i)
			return;
		struct acc *t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

/* Puts the top rows of the n accs (by cmp_acc, a total order: keys differ) first, in no order:
 * a heap of the best top seen so far, its worst at the root. O(n log top) instead of sorting
 * every row when only a few are shown. */
static void keep_top(struct acc **accs, size_t n, size_t top, enum report_sort *sort)
{
	for (size_t i = top / 2; i-- > 0;)
		sift_down(accs, top, i, sort);
	for (size_t i = top; i < n; i++)
		if (cmp_acc(&accs[i], &accs[0], sort) < 0) {
			accs[0] = accs[i];
			sift_down(accs, top, 0, sort);
		}
}

int report_ranker_finish(struct report_ranker *k, enum report_sort sort, size_t top,
			 struct report_table *t)
{
	size_t n = 0;
	memset(t, 0, sizeof(*t));
	t->on = 1;
	t->sort = sort;
	t->top = top;
	struct acc **accs = malloc((k->n ? k->n : 1) * sizeof(*accs));
	if (!accs)
		return -1;
	for (size_t i = 0; i < k->cap; i++) {
		if (!k->tab[i].a)
			continue;
		accs[n] = k->tab[i].a;
		t->requests += accs[n]->requests;
		n++;
	}
	/* percentiles cost a gathering and a selection over each row's values: only the rows shown
	 * need them, unless they are what the rows are ranked by */
	int by_pct = sort == REPORT_SORT_P50 || sort == REPORT_SORT_P95 || sort == REPORT_SORT_P99;
	if (by_pct && rows_percentiles(k, accs, n)) {
		free(accs);
		return -1;
	}
	t->distinct = (int64_t)n;
	if (top && n > top) {
		keep_top(accs, n, top, &sort);
		n = top;
	}
	if (n)
		qsort_r(accs, n, sizeof(*accs), cmp_acc, &sort);
	struct report_row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows || (!by_pct && rows_percentiles(k, accs, n))) {
		free(rows);
		free(accs);
		return -1;
	}
	for (size_t j = 0; j < n; j++) {
		struct acc *a = accs[j];
		rows[j] = (struct report_row){
			.requests = a->requests,
			.errors = a->errors,
			.bytes = a->bytes,
			.ta_n = a->ta_n,
			.ta_sum = a->ta_sum,
			.p50 = a->p50,
			.p95 = a->p95,
			.p99 = a->p99,
			.max = a->max,
			.halog_err = a->halog_err,
			.halog_time = a->halog_time,
			.halog_bytes = a->halog_bytes,
		};
		if (!(rows[j].key = malloc(a->klen + 1))) {
			for (size_t i = 0; i < j; i++)
				free(rows[i].key);
			free(rows);
			free(accs);
			return -1;
		}
		memcpy(rows[j].key, a->key, a->klen);
		rows[j].key[a->klen] = '\0';
	}
	free(accs);
	t->rows = rows;
	t->nrows = n;
	return 0;
}

void report_table_release(struct report_table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i].key);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
