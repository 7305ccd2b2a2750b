/* halog report --compare: this window's backends and servers against a baseline window's (the
 * hour before a deploy against the hour after), with the changes that are significant flagged.
 * Both sides are ordinary backends sections (report_build), so they read the rollups and are as
 * exact as the report. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static char *dup_or_null(const char *s, int *oom)
{
	char *d;
	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*oom = 1;
	return d;
}

/* |z| of the two-proportion test of a1/n1 against a2/n2; 0 when either is empty. */
static double ztest(int64_t a1, int64_t n1, int64_t a2, int64_t n2)
{
	double p1, p2, p, se;
	if (n1 <= 0 || n2 <= 0)
		return 0;
	p1 = (double)a1 / (double)n1;
	p2 = (double)a2 / (double)n2;
	p = (double)(a1 + a2) / (double)(n1 + n2);
	se = sqrt(p * (1 - p) * (1.0 / (double)n1 + 1.0 / (double)n2));
	return se > 0 ? fabs(p1 - p2) / se : 0;
}

static void flag(struct report_cmp_row *w, int64_t total0, int64_t total1)
{
	if (!w->req[1] && w->req[0])
		w->flags |= REPORT_CMP_NEW;
	if (!w->req[0] && w->req[1])
		w->flags |= REPORT_CMP_GONE;
	if (w->share[0] >= 0 && w->share[1] >= 0 &&
	    fabs(w->share[0] - w->share[1]) >= REPORT_CMP_SHARE_PTS &&
	    ztest(w->req[0], total0, w->req[1], total1) >= REPORT_CMP_Z)
		w->flags |= REPORT_CMP_SHARE;
	if (w->req[0] && w->req[1] &&
	    fabs(report_pct(w->err[0], w->req[0]) - report_pct(w->err[1], w->req[1])) >=
		    REPORT_CMP_ERR_PTS &&
	    ztest(w->err[0], w->req[0], w->err[1], w->req[1]) >= REPORT_CMP_Z)
		w->flags |= REPORT_CMP_ERRORS;
	if (w->ta_n[0] >= REPORT_CMP_MIN_N && w->ta_n[1] >= REPORT_CMP_MIN_N && w->p95[0] >= 0 &&
	    w->p95[1] >= 0) {
		int64_t hi = w->p95[0] > w->p95[1] ? w->p95[0] : w->p95[1];
		int64_t lo = w->p95[0] > w->p95[1] ? w->p95[1] : w->p95[0];
		if (hi - lo >= REPORT_CMP_P95_MS && (double)hi >= REPORT_CMP_P95_RATIO * (double)lo)
			w->flags |= REPORT_CMP_P95;
	}
}

static const struct report_group *find_group(const struct report *r, const char *name)
{
	for (size_t i = 0; i < r->nbackends; i++)
		if (!strcmp(r->backends[i].name, name))
			return &r->backends[i];
	return NULL;
}

static const struct report_server *find_member(const struct report_group *g, const char *name)
{
	for (size_t i = 0; g && i < g->nmembers; i++)
		if (!strcmp(g->members[i].name, name))
			return &g->members[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of both sides (backends of r[0] and r[1], or members of g[0] and g[1]), sorted and
 * unique, in *out (borrowed strings; caller frees the array). Returns the count, or -1. */
static long names_of(const struct report *r, const struct report_group *const g[2],
		     const char ***out)
{
	size_t n = 0, cap = 0;
	const char **v = NULL;
	for (int s = 0; s < 2; s++) {
		size_t m = g ? (g[s] ? g[s]->nmembers : 0) : r[s].nbackends;
		for (size_t i = 0; i < m; i++) {
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				const char **nv = realloc(v, nc * sizeof(*nv));
				if (!nv) {
					free(v);
					return -1;
				}
				v = nv;
				cap = nc;
			}
			v[n++] = g ? g[s]->members[i].name : r[s].backends[i].name;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || strcmp(v[u - 1], v[i]))
			v[u++] = v[i];
	*out = v;
	return (long)u;
}

static struct report_cmp_row *add_row(struct report_compare *c)
{
	struct report_cmp_row *n = realloc(c->rows, (c->nrows + 1) * sizeof(*n));
	if (!n)
		return NULL;
	c->rows = n;
	n = &c->rows[c->nrows++];
	memset(n, 0, sizeof(*n));
	n->share[0] = n->share[1] = -1;
	n->p95[0] = n->p95[1] = -1;
	return n;
}

static int fill(struct report_compare *c, const struct report side[2])
{
	const char **bes = NULL;
	long nb = names_of(side, NULL, &bes);
	int oom = nb < 0;
	for (long i = 0; i < nb && !oom; i++) {
		const struct report_group *g[2] = {find_group(&side[0], bes[i]),
						   find_group(&side[1], bes[i])};
		int64_t real[2] = {0, 0};
		struct report_cmp_row *w = add_row(c);
		if (!w || !(w->backend = dup_or_null(bes[i], &oom)))
			break;
		for (int s = 0; s < 2; s++) {
			if (!g[s])
				continue;
			w->req[s] = g[s]->agg.requests;
			w->err[s] = g[s]->agg.errors;
			w->p95[s] = g[s]->lat[RT_TA].p95;
			w->ta_n[s] = g[s]->lat[RT_TA].n;
			for (size_t j = 0; j < g[s]->nmembers; j++)
				if (!g[s]->members[j].special)
					real[s] += g[s]->members[j].agg.requests;
		}
		flag(w, 0, 0);
		if (w->flags & (REPORT_CMP_ERRORS | REPORT_CMP_P95))
			c->nflagged++;
		const char **srvs = NULL;
		long ns = names_of(NULL, g, &srvs);
		if (ns < 0)
			oom = 1;
		for (long k = 0; k < ns && !oom; k++) {
			struct report_cmp_row *v = add_row(c);
			if (!v || !(v->backend = dup_or_null(bes[i], &oom)) ||
			    !(v->server = dup_or_null(srvs[k], &oom))) {
				oom = 1;
				break;
			}
			for (int s = 0; s < 2; s++) {
				const struct report_server *m = find_member(g[s], srvs[k]);
				if (!m)
					continue;
				v->req[s] = m->agg.requests;
				v->err[s] = m->agg.errors;
				v->p95[s] = m->lat[RT_TA].p95;
				v->ta_n[s] = m->lat[RT_TA].n;
				if (!m->special && real[s])
					v->share[s] = m->share;
			}
			flag(v, real[0], real[1]);
			if (v->flags & (REPORT_CMP_SHARE | REPORT_CMP_ERRORS | REPORT_CMP_P95))
				c->nflagged++;
		}
		free(srvs);
	}
	free(bes);
	return oom ? -1 : 0;
}

int report_compare(struct store_reader *rd, const struct report_opts *opts, struct report *r,
		   char *err, size_t errsz)
{
	struct report side[2];
	struct report_opts o = *opts;
	int rc = -1;
	memset(side, 0, sizeof(side));
	o.sections = REPORT_SEC_BACKENDS;
	o.inv = NULL;
	o.check_balance = -1;
	if (report_build(rd, &o, &side[0], err, errsz))
		return -1;
	o.since_ms = opts->cmp_since;
	o.until_ms = opts->cmp_until;
	if (report_build(rd, &o, &side[1], err, errsz))
		goto out;
	r->compare.since[0] = opts->since_ms;
	r->compare.until[0] = opts->until_ms;
	r->compare.since[1] = opts->cmp_since;
	r->compare.until[1] = opts->cmp_until;
	r->sections |= REPORT_SEC_COMPARE;
	if (fill(&r->compare, side)) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	rc = 0;
out:
	report_release(&side[0]);
	report_release(&side[1]);
	return rc;
}

void report_cmp_flag_words(unsigned flags, char *buf, size_t sz)
{
	static const struct {
		unsigned bit;
		const char *word;
	} words[] = {{REPORT_CMP_NEW, "new"},
		     {REPORT_CMP_GONE, "gone"},
		     {REPORT_CMP_SHARE, "share"},
		     {REPORT_CMP_ERRORS, "errors"},
		     {REPORT_CMP_P95, "p95"}};
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if ((flags & words[i].bit) && n < sz)
			n += (size_t)snprintf(buf + n, sz - n, "%s%s", n ? " " : "", words[i].word);
}

void report_cmp_window(int64_t since, int64_t until, char *buf, size_t sz)
{
	char a[40] = "(open)", b[40] = "(open)";
	if (since != LR_NONE)
		report_fmt_time(since, a, sizeof(a));
	if (until != LR_NONE)
		report_fmt_time(until, b, sizeof(b));
	snprintf(buf, sz, "%s .. %s", a, b);
}
