/* Ranked request tables (paths, clients): keys, accumulation with exact Ta percentiles, ranking.
 * See ranked.h. */
#include "report/ranked.h"

#include <arpa/inet.h>
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

/* The placeholder for segment s (n bytes), or NULL when it stays as it is. */
static const char *fold_segment(const char *s, size_t n)
{
	size_t digits = 0, hex = 0;
	if (!n)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		digits += is_digit(s[i]);
		hex += is_hex(s[i]);
	}
	if (digits == n)
		return "{num}";
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
	if (n >= 8 && hex == n && digits)
		return "{hex}";
	return NULL;
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
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v.p[j] != '/')
			j++;
		const char *ph = fold_segment(v.p + i, j - i);
		if (ph ? strbuf_addstr(out, ph) : strbuf_add(out, v.p + i, j - i))
			return -1;
		if (j < n && strbuf_addch(out, '/'))
			return -1;
		i = j + 1;
	}
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

struct acc {
	struct report_row row; /* key not set until finish */
	int32_t *ta;	       /* the Ta values, for exact percentiles */
	size_t nta, ata;
};

struct report_ranker {
	enum report_ranker_kind kind;
	struct hmap map; /* key -> struct acc * */
};

struct report_ranker *report_ranker_new(enum report_ranker_kind kind)
{
	struct report_ranker *k = calloc(1, sizeof(*k));
	if (k)
		k->kind = kind;
	return k;
}

static void acc_free(void *p)
{
	struct acc *a = p;
	if (a) {
		free(a->row.key);
		free(a->ta);
		free(a);
	}
}

void report_ranker_free(struct report_ranker *k)
{
	if (!k)
		return;
	hmap_release(&k->map, acc_free);
	free(k);
}

int report_ranker_add(struct report_ranker *k, const char *key, size_t klen,
		      const struct logrec *rec)
{
	int isnew;
	struct hmap_ent *e = hmap_put(&k->map, key, klen, &isnew);
	if (!e)
		return -1;
	if (isnew && !(e->val = calloc(1, sizeof(struct acc))))
		return -1;
	struct acc *a = e->val;
	struct report_row *w = &a->row;
	w->requests++;
	w->errors += rollup_is_error(rec) != 0;
	if (rec->bytes_read != LR_NONE && rec->bytes_read > 0)
		w->bytes += rec->bytes_read;
	if (rec->t_active != LR_TIMER_NONE) {
		if (a->nta == a->ata) {
			size_t n = a->ata ? a->ata * 2 : 4;
			int32_t *p = realloc(a->ta, n * sizeof(*p));
			if (!p)
				return -1;
			a->ta = p;
			a->ata = n;
		}
		a->ta[a->nta++] = rec->t_active;
		w->ta_n++;
		w->ta_sum += rec->t_active;
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

static int cmp_i32(const void *x, const void *y)
{
	int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
	return a < b ? -1 : a > b;
}

/* The nearest-rank p-th percentile of the n sorted values v. */
static int64_t nearest_rank(const int32_t *v, size_t n, int p)
{
	size_t rank = (n * (size_t)p + 99) / 100;
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static int64_t sort_value(const struct report_row *r, enum report_sort s)
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

static int cmp_row(const void *x, const void *y, void *arg)
{
	const struct report_row *a = x, *b = y;
	enum report_sort s = *(const enum report_sort *)arg;
	if (s != REPORT_SORT_KEY) {
		int64_t va = sort_value(a, s), vb = sort_value(b, s);
		if (va != vb)
			return va > vb ? -1 : 1;
	}
	return strcmp(a->key, b->key);
}

int report_ranker_finish(struct report_ranker *k, enum report_sort sort, size_t top,
			 struct report_table *t)
{
	size_t n = 0;
	memset(t, 0, sizeof(*t));
	t->on = 1;
	t->sort = sort;
	t->top = top;
	struct report_row *rows = calloc(k->map.n ? k->map.n : 1, sizeof(*rows));
	if (!rows)
		return -1;
	for (size_t i = 0; i < k->map.cap; i++) {
		struct hmap_ent *e = &k->map.tab[i];
		if (!e->key || !e->val)
			continue;
		struct acc *a = e->val;
		struct report_row *w = &rows[n++];
		*w = a->row;
		w->p50 = w->p95 = w->p99 = w->max = -1;
		if (a->nta) {
			qsort(a->ta, a->nta, sizeof(*a->ta), cmp_i32);
			w->p50 = nearest_rank(a->ta, a->nta, 50);
			w->p95 = nearest_rank(a->ta, a->nta, 95);
			w->p99 = nearest_rank(a->ta, a->nta, 99);
			w->max = a->ta[a->nta - 1];
		}
		if (!(w->key = malloc(e->klen + 1))) {
			for (size_t j = 0; j + 1 < n; j++)
				free(rows[j].key);
			free(rows);
			return -1;
		}
		memcpy(w->key, e->key, e->klen);
		w->key[e->klen] = '\0';
		t->requests += w->requests;
	}
	if (n)
		qsort_r(rows, n, sizeof(*rows), cmp_row, &sort);
	t->distinct = (int64_t)n;
	if (top && n > top) {
		for (size_t j = top; j < n; j++)
			free(rows[j].key);
		n = top;
	}
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
