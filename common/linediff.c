/* Unified line diff; see linediff.h. */
#include "linediff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

enum op { OP_EQ, OP_DEL, OP_INS };

struct edit {
	enum op op;
	size_t a, b; /* line indexes (a for EQ/DEL, b for EQ/INS) */
};

static int split(const char *t, size_t len, struct lines *l)
{
	size_t n = 0, i = 0;

	for (size_t k = 0; k < len; k++)
		n += t[k] == '\n';
	n += len && t[len - 1] != '\n';
	l->n = 0;
	l->p = malloc((n ? n : 1) * sizeof(*l->p));
	l->len = malloc((n ? n : 1) * sizeof(*l->len));
	if (!l->p || !l->len)
		return -1;
	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - t) : len;

		l->p[l->n] = t + i;
		l->len[l->n++] = e - i;
		i = e + 1;
	}
	return 0;
}

static int eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->p[i], b->p[j], a->len[i]);
}

struct edits {
	struct edit *e;
	size_t n, alloc;
};

static int push(struct edits *es, enum op op, size_t a, size_t b)
{
	if (es->n == es->alloc) {
		size_t na = es->alloc ? es->alloc * 2 : 256;
		struct edit *p = realloc(es->e, na * sizeof(*p));

		if (!p)
			return -1;
		es->e = p;
		es->alloc = na;
	}
	es->e[es->n].op = op;
	es->e[es->n].a = a;
	es->e[es->n].b = b;
	es->n++;
	return 0;
}

/* Myers on a[off..off+n) and b[off..off+m): the edits in reverse order, appended to rev.
 * Returns 0, 1 when more than LINEDIFF_MAX_EDITS edits are needed, -1 out of memory. */
static int myers(const struct lines *a, const struct lines *b, size_t off, size_t n, size_t m,
		 struct edits *rev)
{
	long N = (long)n, M = (long)m, max = N + M, D = -1;
	long lim = max < LINEDIFF_MAX_EDITS ? max : LINEDIFF_MAX_EDITS;
	long *v = calloc((size_t)(2 * lim + 3), sizeof(long)), **trace;
	int rc = -1;

	trace = calloc((size_t)lim + 1, sizeof(long *));
	if (!v || !trace)
		goto out;
#define V(k) v[(k) + lim + 1]
	V(1) = 0;
	for (long d = 0; d <= lim && D < 0; d++) {
		/* the state before round d, over the diagonals round d reads: -d-1 .. d+1 */
		trace[d] = malloc((size_t)(2 * d + 3) * sizeof(long));
		if (!trace[d])
			goto out;
		memcpy(trace[d], &V(-d - 1), (size_t)(2 * d + 3) * sizeof(long));
		for (long k = -d; k <= d; k += 2) {
			long x = (k == -d || (k != d && V(k - 1) < V(k + 1))) ? V(k + 1) : V(k - 1) + 1,
			     y = x - k;

			while (x < N && y < M && eq(a, off + (size_t)x, b, off + (size_t)y))
				x++, y++;
			V(k) = x;
			if (x >= N && y >= M) {
				D = d;
				break;
			}
		}
	}
#undef V
	if (D < 0) {
		rc = 1;
		goto out;
	}
	{
		long x = N, y = M;

		for (long d = D; d >= 0; d--) {
			const long *t = trace[d];
			long k = x - y, pk, px, py;

#define T(k) t[(k) + d + 1]
			pk = (k == -d || (k != d && T(k - 1) < T(k + 1))) ? k + 1 : k - 1;
			px = d ? T(pk) : 0;
			py = px - pk;
#undef T
			if (!d)
				py = 0;
			while (x > px && y > py) {
				if (push(rev, OP_EQ, off + (size_t)(x - 1), off + (size_t)(y - 1)) < 0)
					goto out;
				x--, y--;
			}
			if (d) {
				if (x == px ? push(rev, OP_INS, off + (size_t)x, off + (size_t)(y - 1))
					    : push(rev, OP_DEL, off + (size_t)(x - 1), off + (size_t)y))
					goto out;
				x = px;
				y = py;
			}
		}
	}
	rc = 0;
out:
	for (long d = 0; trace && d <= lim; d++)
		free(trace[d]);
	free(trace);
	free(v);
	return rc;
}

static void range(struct strbuf *out, char sign, size_t start, size_t len)
{
	/* GNU diff: "-3" for one line, "-3,4" for several, "-2,0" (the line before) for none */
	if (len == 1)
		strbuf_addf(out, " %c%zu", sign, start + 1);
	else
		strbuf_addf(out, " %c%zu,%zu", sign, len ? start + 1 : start, len);
}

int linediff_unified(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
		     const char *bname, unsigned context, struct strbuf *out, size_t *changes)
{
	struct lines la = {NULL, NULL, 0}, lb = {NULL, NULL, 0};
	struct edits rev = {NULL, 0, 0}, es = {NULL, 0, 0};
	size_t pre = 0, suf = 0, n, m;
	int rc = -1, r;

	*changes = 0;
	if (split(a, alen, &la) < 0 || split(b, blen, &lb) < 0)
		goto out;
	while (pre < la.n && pre < lb.n && eq(&la, pre, &lb, pre))
		pre++;
	while (suf < la.n - pre && suf < lb.n - pre &&
	       eq(&la, la.n - 1 - suf, &lb, lb.n - 1 - suf))
		suf++;
	n = la.n - pre - suf;
	m = lb.n - pre - suf;
	if (!n && !m) {
		rc = 0;
		goto out;
	}
	r = myers(&la, &lb, pre, n, m, &rev);
	if (r < 0)
		goto out;
	if (r > 0) {
		*changes = n + m;
		strbuf_addf(out, "--- %s\n+++ %s\n(more than %d lines differ: %zu lines removed or "
				 "replaced by %zu)\n",
			    aname, bname, LINEDIFF_MAX_EDITS, n, m);
		rc = 0;
		goto out;
	}
	/* the whole script in order: head, middle (reversed back), tail */
	for (size_t i = 0; i < pre; i++)
		if (push(&es, OP_EQ, i, i) < 0)
			goto out;
	for (size_t i = rev.n; i-- > 0;)
		if (push(&es, rev.e[i].op, rev.e[i].a, rev.e[i].b) < 0)
			goto out;
	for (size_t i = 0; i < suf; i++)
		if (push(&es, OP_EQ, la.n - suf + i, lb.n - suf + i) < 0)
			goto out;
	strbuf_addf(out, "--- %s\n+++ %s\n", aname, bname);
	for (size_t i = 0; i < es.n;) {
		size_t first, last, start, end, an = 0, bn = 0, as = 0, bs = 0;

		while (i < es.n && es.e[i].op == OP_EQ)
			i++;
		if (i >= es.n)
			break;
		first = last = i;
		/* extend while the next change is within 2 * context equal lines */
		for (size_t j = i + 1; j < es.n; j++) {
			if (es.e[j].op == OP_EQ)
				continue;
			if (j - last > 2 * (size_t)context)
				break;
			last = j;
		}
		start = first > context ? first - context : 0;
		end = last + context + 1 < es.n ? last + context + 1 : es.n;
		/* where the hunk starts in each file */
		for (size_t j = 0; j < start; j++) {
			as += es.e[j].op != OP_INS;
			bs += es.e[j].op != OP_DEL;
		}
		for (size_t j = start; j < end; j++) {
			an += es.e[j].op != OP_INS;
			bn += es.e[j].op != OP_DEL;
		}
		strbuf_addstr(out, "@@");
		range(out, '-', as, an);
		range(out, '+', bs, bn);
		strbuf_addstr(out, " @@\n");
		for (size_t j = start; j < end; j++) {
			const struct edit *e = &es.e[j];
			const struct lines *l = e->op == OP_INS ? &lb : &la;
			size_t idx = e->op == OP_INS ? e->b : e->a;

			strbuf_addch(out, e->op == OP_EQ ? ' ' : e->op == OP_DEL ? '-' : '+');
			strbuf_add(out, l->p[idx], l->len[idx]);
			strbuf_addch(out, '\n');
			*changes += e->op != OP_EQ;
		}
		i = end;
	}
	rc = 0;
out:
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	free(rev.e);
	free(es.e);
	return rc;
}
