/* The search query language: a recursive-descent parser from query text to a small tree, and a
 * compiler from that tree to an SQL expression over lines l / requests r / events e. User text
 * only ever reaches SQLite as bound parameters. See docs/halog-search.md for the language. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/query.h"

#include <arpa/inet.h>
#include <pcre2.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "parse/logrec.h"
#include "parse.h"

/* Bounds on one regex match, so a hostile pattern costs at most this much per line. */
#define QUERY_RE_MATCH_LIMIT 200000
#define QUERY_RE_DEPTH_LIMIT 5000
#define QUERY_RE_HEAP_KIB 4096
#define QUERY_RE_PTR_TYPE "halog_regex"

enum qn_type {
	QN_ALL,	  /* the empty query */
	QN_AND,	  /* kids */
	QN_OR,	  /* kids */
	QN_NOT,	  /* kids[0] */
	QN_TEXT,  /* case-insensitive substring of the raw line */
	QN_REGEX, /* PCRE2 on the raw line */
	QN_FIELD, /* field:value */
};

enum qf_id {
	QF_BACKEND,
	QF_SERVER,
	QF_FRONTEND,
	QF_STATUS,
	QF_STATE,
	QF_HOST,
	QF_PROGRAM,
	QF_CLIENT,
	QF_KIND,
	QF_PATH,
	QF_METHOD,
	QF_PARSE,
	QF_SOURCE,
	QF_COUNT
};

static const char *const field_names[QF_COUNT] = {
	[QF_BACKEND] = "backend", [QF_SERVER] = "server", [QF_FRONTEND] = "frontend",
	[QF_STATUS] = "status",	  [QF_STATE] = "state",	  [QF_HOST] = "host",
	[QF_PROGRAM] = "program", [QF_CLIENT] = "client", [QF_KIND] = "kind",
	[QF_PATH] = "path",	  [QF_METHOD] = "method", [QF_PARSE] = "parse",
	[QF_SOURCE] = "source",
};

struct qregex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

enum qp_type { QP_TEXT, QP_BLOB, QP_INT, QP_PTR };

struct qparam {
	enum qp_type type;
	char *s; /* owned: QP_TEXT, QP_BLOB */
	size_t len;
	int64_t i;	   /* QP_INT */
	struct qregex *re; /* QP_PTR: borrowed from the node */
};

struct qnode {
	enum qn_type type;
	unsigned col;	     /* 1-based column of the term in the query */
	struct qnode **kids; /* owned */
	size_t nkids, akids;
	enum qf_id field;
	char *val; /* owned, NUL-terminated: TEXT needle (lowercased) or FIELD value */
	size_t vlen;
	int glob;	       /* FIELD: value holds a '*' wildcard */
	struct qregex re;      /* QN_REGEX */
	unsigned char net[18]; /* QF_CLIENT CIDR: family (4 or 6), prefix, 16 address bytes */
};

struct query {
	struct qnode *root;
	unsigned needs;
	struct strbuf sql;
	struct qparam *params;
	size_t nparams, aparams;
};

struct qparser {
	const char *s;
	size_t len, pos;
	struct diag_list *dl;
	unsigned depth;
	unsigned terms;
	int fatal;  /* a structural error: stop parsing */
	int errors; /* any error seen */
};

static uint64_t regex_limit_hits;

uint64_t query_regex_limit_hits(void)
{
	return regex_limit_hits;
}

/* ---------------------------------------------------------------- tree */

static void node_free(struct qnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->val);
	pcre2_match_data_free(n->re.md);
	pcre2_match_context_free(n->re.mctx);
	pcre2_code_free(n->re.code);
	free(n);
}

static struct qnode *node_new(enum qn_type type, unsigned col)
{
	struct qnode *n = calloc(1, sizeof(*n));

	if (n) {
		n->type = type;
		n->col = col;
	}
	return n;
}

static int node_add(struct qnode *n, struct qnode *kid)
{
	if (n->nkids == n->akids) {
		size_t na = n->akids ? 2 * n->akids : 4;
		struct qnode **k = realloc(n->kids, na * sizeof(*k));

		if (!k)
			return -1;
		n->kids = k;
		n->akids = na;
	}
	n->kids[n->nkids++] = kid;
	return 0;
}

static char *dup_bytes(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* ---------------------------------------------------------------- parser */

static void perr(struct qparser *p, size_t pos, int fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void perr(struct qparser *p, size_t pos, int fatal, const char *fmt, ...)
{
	char msg[512];
	struct strbuf vis = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* values from the query are quoted in messages: keep the terminal safe */
	if (text_add_visible(&vis, msg, strlen(msg)) < 0)
		strbuf_reset(&vis);
	diag_add(p->dl, DIAG_ERROR, "query", 1, (unsigned)pos + 1, "%s", vis.len ? vis.buf : msg);
	strbuf_release(&vis);
	p->errors = 1;
	if (fatal)
		p->fatal = 1;
}

static void perr_oom(struct qparser *p)
{
	perr(p, p->pos, 1, "out of memory");
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A byte that ends a word: blank or a parenthesis. */
static int is_delim(int c)
{
	return is_space(c) || c == '(' || c == ')';
}

static void skip_space(struct qparser *p)
{
	while (p->pos < p->len && is_space((unsigned char)p->s[p->pos]))
		p->pos++;
}

/* True when the keyword kw (upper case, exact) stands at pos as a whole token. */
static int at_keyword(const struct qparser *p, const char *kw)
{
	size_t n = strlen(kw);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, kw, n))
		return 0;
	return p->pos + n == p->len || is_delim((unsigned char)p->s[p->pos + n]);
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int to_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* Reads a "quoted phrase" at p->pos (which holds the quote) into out, handling \" and \\.
 * Returns 0, or -1 after reporting an unterminated quote (fatal). */
static int read_quoted(struct qparser *p, struct strbuf *out)
{
	size_t start = p->pos;

	p->pos++;
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c == '\\' && p->pos + 1 < p->len &&
		    (p->s[p->pos + 1] == '"' || p->s[p->pos + 1] == '\\')) {
			c = p->s[p->pos + 1];
			p->pos += 2;
		} else if (c == '"') {
			p->pos++;
			return 0;
		} else {
			p->pos++;
		}
		if (strbuf_addch(out, c) < 0) {
			perr_oom(p);
			return -1;
		}
	}
	perr(p, start, 1, "unterminated quoted phrase");
	return -1;
}

static int count_term(struct qparser *p, size_t at)
{
	char lim[32];

	if (++p->terms <= QUERY_MAX_TERMS)
		return 0;
	snprintf(lim, sizeof(lim), "%d", QUERY_MAX_TERMS);
	perr(p, at, 1, "more than %s terms in the query", lim);
	return -1;
}

static struct qnode *make_text(struct qparser *p, size_t at, const char *s, size_t len)
{
	struct qnode *n = node_new(QN_TEXT, (unsigned)at + 1);

	if (!n || !(n->val = dup_bytes(s, len))) {
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	n->vlen = len;
	for (size_t i = 0; i < len; i++)
		n->val[i] = (char)to_lower((unsigned char)n->val[i]);
	return n;
}

/* The end of a /regex/ starting at p->pos, or 0 when the token there is not a regex (then it is
 * a word such as /index.html). *icase is set for a trailing 'i'. */
static size_t regex_end(const struct qparser *p, int *icase)
{
	size_t j = p->pos + 1;

	*icase = 0;
	while (j < p->len && p->s[j] != '/') {
		if (p->s[j] == '\\' && j + 1 < p->len)
			j++;
		j++;
	}
	if (j >= p->len)
		return 0;
	j++; /* past the closing slash */
	if (j < p->len && p->s[j] == 'i' &&
	    (j + 1 == p->len || is_delim((unsigned char)p->s[j + 1]))) {
		*icase = 1;
		return j + 1;
	}
	if (j == p->len || is_delim((unsigned char)p->s[j]))
		return j;
	return 0;
}

static struct qnode *parse_regex(struct qparser *p, size_t end, int icase)
{
	size_t start = p->pos, plen = end - start - 2 - (size_t)icase;
	const char *pat = p->s + start + 1;
	struct qnode *n;
	int errcode;
	PCRE2_SIZE erroff;

	p->pos = end;
	if (plen == 0) {
		perr(p, start, 0, "empty regex");
		return NULL;
	}
	n = node_new(QN_REGEX, (unsigned)start + 1);
	if (!n) {
		perr_oom(p);
		return NULL;
	}
	n->re.code = pcre2_compile((PCRE2_SPTR)pat, plen, icase ? PCRE2_CASELESS : 0, &errcode,
				   &erroff, NULL);
	if (!n->re.code) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", errcode);
		perr(p, start + 1 + erroff, 0, "bad regex: %s", (const char *)msg);
		node_free(n);
		return NULL;
	}
	(void)pcre2_jit_compile(n->re.code,
				PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	n->re.md = pcre2_match_data_create(1, NULL);
	n->re.mctx = pcre2_match_context_create(NULL);
	if (!n->re.md || !n->re.mctx) {
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	pcre2_set_match_limit(n->re.mctx, QUERY_RE_MATCH_LIMIT);
	pcre2_set_depth_limit(n->re.mctx, QUERY_RE_DEPTH_LIMIT);
	pcre2_set_heap_limit(n->re.mctx, QUERY_RE_HEAP_KIB);
	return n;
}

static int field_lookup(const char *name, size_t len)
{
	for (int i = 0; i < QF_COUNT; i++)
		if (strlen(field_names[i]) == len && !memcmp(field_names[i], name, len))
			return i;
	return -1;
}

/* field_lookup for a name in any case, up to 31 bytes. */
static int field_lookup_ci(const char *s, size_t len)
{
	char name[32];

	if (len >= sizeof(name))
		return -1;
	for (size_t i = 0; i < len; i++)
		name[i] = (char)to_lower((unsigned char)s[i]);
	return field_lookup(name, len);
}

/* Checks and normalises the value of a field node. Returns 0, or -1 after reporting. */
static int field_value(struct qparser *p, struct qnode *n, size_t vat)
{
	char *v = n->val;

	n->glob = memchr(v, '*', n->vlen) != NULL;
	if (n->field == QF_KIND || n->field == QF_PARSE || n->field == QF_HOST)
		for (size_t i = 0; i < n->vlen; i++)
			v[i] = (char)to_lower((unsigned char)v[i]);
	switch (n->field) {
	case QF_STATUS: {
		int64_t a;
		const char *num = v;

		if (n->vlen == 3 && v[0] >= '1' && v[0] <= '9' &&
		    to_lower((unsigned char)v[1]) == 'x' && to_lower((unsigned char)v[2]) == 'x')
			return 0;
		if (num[0] == '>' || num[0] == '<')
			num += num[1] == '=' ? 2 : 1;
		if (parse_int64(num, 0, 999, &a) < 0) {
			perr(p, vat, 0, "invalid status '%s' (expected e.g. 503, 5xx, >=500, <400)",
			     v);
			return -1;
		}
		return 0;
	}
	case QF_KIND:
		if (!strcmp(v, "event"))
			return 0;
		for (int k = 0; k < LR_KIND_MAX; k++)
			if (!strcmp(v, lr_kind_name((enum lr_kind)k)))
				return 0;
		{
			const char *names[LR_KIND_MAX + 1];
			const char *sug;

			for (int k = 0; k < LR_KIND_MAX; k++)
				names[k] = lr_kind_name((enum lr_kind)k);
			names[LR_KIND_MAX] = "event";
			sug = diag_suggest(v, names, LR_KIND_MAX + 1);
			if (sug)
				perr(p, vat, 0, "unknown kind '%s' (did you mean '%s'?)", v, sug);
			else
				perr(p, vat, 0,
				     "unknown kind '%s' (expected http, tcp, connect, conn_error, "
				     "server, check, nosrv, proxy, other, unparsed or event)",
				     v);
			return -1;
		}
	case QF_PARSE:
		if (!strcmp(v, "ok") || !strcmp(v, "partial") || !strcmp(v, "bad"))
			return 0;
		perr(p, vat, 0, "unknown parse status '%s' (expected ok, partial or bad)", v);
		return -1;
	case QF_CLIENT: {
		int fam;
		unsigned prefix;

		if (n->glob)
			return 0;
		if (parse_cidr(v, &fam, n->net + 2, &prefix) < 0) {
			perr(p, vat, 0,
			     "invalid client address '%s' (expected an IP, a CIDR such as "
			     "10.0.0.0/8, or a pattern with *)",
			     v);
			return -1;
		}
		n->net[0] = fam == AF_INET6 ? 6 : 4;
		n->net[1] = (unsigned char)prefix;
		return 0;
	}
	case QF_METHOD:
		for (size_t i = 0; i < n->vlen; i++)
			v[i] = (char)to_upper((unsigned char)v[i]);
		return 0;
	default:
		return 0;
	}
}

/* word, field:value, field:"value" (p->pos at the first byte). */
static struct qnode *parse_word(struct qparser *p)
{
	size_t start = p->pos, end = start, colon = 0;
	struct qnode *n;
	struct strbuf val = STRBUF_INIT;
	int f;

	/* colon: the first ':' of the token, 0 when none (a field name is never empty, so a ':'
	 * at the start of the token cannot make a field either) */
	while (end < p->len && !is_delim((unsigned char)p->s[end])) {
		if (!colon && p->s[end] == ':' && end > start)
			colon = end;
		end++;
	}
	if (colon > start) {
		int alpha = 1;

		for (size_t i = start; i < colon; i++) {
			int c = (unsigned char)p->s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
				alpha = 0;
		}
		/* "http://…" and the like are text, not an unknown field */
		if (!alpha ||
		    (end - colon >= 3 && p->s[colon + 1] == '/' && p->s[colon + 2] == '/' &&
		     field_lookup_ci(p->s + start, colon - start) < 0))
			colon = 0;
	} else {
		colon = 0;
	}
	if (!colon) {
		p->pos = end;
		if (count_term(p, start) < 0)
			return NULL;
		return make_text(p, start, p->s + start, end - start);
	}

	/* a field */
	{
		char name[32];
		size_t nlen = colon - start;

		if (nlen >= sizeof(name))
			nlen = sizeof(name) - 1;
		for (size_t i = 0; i < nlen; i++)
			name[i] = (char)to_lower((unsigned char)p->s[start + i]);
		name[nlen] = '\0';
		f = colon - start < sizeof(name) ? field_lookup(name, nlen) : -1;
		if (f < 0) {
			const char *sug = diag_suggest(name, field_names, QF_COUNT);

			if (sug)
				perr(p, start, 0, "unknown field '%s' (did you mean '%s'?)", name,
				     sug);
			else
				perr(p, start, 0,
				     "unknown field '%s' (put the term in quotes to search for it "
				     "as text)",
				     name);
		}
	}
	p->pos = colon + 1;
	if (p->pos < p->len && p->s[p->pos] == '"') {
		if (read_quoted(p, &val) < 0) {
			strbuf_release(&val);
			return NULL;
		}
	} else {
		p->pos = end;
		if (strbuf_add(&val, p->s + colon + 1, end - colon - 1) < 0) {
			perr_oom(p);
			return NULL;
		}
	}
	if (count_term(p, start) < 0 || f < 0) {
		strbuf_release(&val);
		return NULL;
	}
	if (val.len == 0) {
		perr(p, start, 0, "empty value for field '%s'", field_names[f]);
		strbuf_release(&val);
		return NULL;
	}
	if (memchr(val.buf, '\0', val.len)) {
		perr(p, colon + 1, 0, "NUL byte in the value of field '%s'", field_names[f]);
		strbuf_release(&val);
		return NULL;
	}
	n = node_new(QN_FIELD, (unsigned)start + 1);
	if (!n) {
		strbuf_release(&val);
		perr_oom(p);
		return NULL;
	}
	n->field = (enum qf_id)f;
	n->vlen = val.len;
	n->val = strbuf_detach(&val, NULL);
	if (field_value(p, n, colon + 1) < 0) {
		node_free(n);
		return NULL;
	}
	return n;
}

static struct qnode *parse_or(struct qparser *p);

/* ( expr ), "phrase", /regex/, word or field (no leading '-'). NULL on error or, with no error
 * recorded, for a term that was rejected but lets parsing go on. */
static struct qnode *parse_primary(struct qparser *p)
{
	size_t start = p->pos;
	char c = p->s[start];

	if (c == '(') {
		struct qnode *inner;
		char lim[16];

		if (++p->depth > QUERY_MAX_DEPTH) {
			snprintf(lim, sizeof(lim), "%d", QUERY_MAX_DEPTH);
			perr(p, start, 1, "parentheses nested deeper than %s", lim);
			return NULL;
		}
		p->pos++;
		inner = parse_or(p);
		p->depth--;
		if (p->fatal) {
			node_free(inner);
			return NULL;
		}
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] != ')') {
			node_free(inner);
			perr(p, start, 1, "unbalanced parenthesis");
			return NULL;
		}
		p->pos++;
		if (!inner && !p->errors)
			perr(p, start, 0, "empty parentheses");
		return inner;
	}
	if (c == '"') {
		struct strbuf sb = STRBUF_INIT;
		struct qnode *n;

		if (read_quoted(p, &sb) < 0) {
			strbuf_release(&sb);
			return NULL;
		}
		if (sb.len == 0) {
			perr(p, start, 0, "empty phrase");
			strbuf_release(&sb);
			return NULL;
		}
		n = count_term(p, start) < 0 ? NULL : make_text(p, start, sb.buf, sb.len);
		strbuf_release(&sb);
		return n;
	}
	if (c == '/') {
		int icase;
		size_t end = regex_end(p, &icase);

		if (end) {
			if (count_term(p, start) < 0)
				return NULL;
			return parse_regex(p, end, icase);
		}
	}
	return parse_word(p);
}

static struct qnode *parse_unary(struct qparser *p)
{
	size_t start = p->pos;
	struct qnode *kid, *n;

	if (p->s[start] != '-')
		return parse_primary(p);
	p->pos++;
	if (p->pos >= p->len || is_space((unsigned char)p->s[p->pos]) || p->s[p->pos] == ')') {
		perr(p, start, 1,
		     "nothing to negate after '-' (put \"-\" in quotes to search for it)");
		return NULL;
	}
	kid = parse_primary(p);
	if (!kid)
		return NULL;
	n = node_new(QN_NOT, (unsigned)start + 1);
	if (!n || node_add(n, kid) < 0) {
		node_free(kid);
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	return n;
}

/* Folds kids into an AND/OR node, or returns the single kid. */
static struct qnode *fold(struct qparser *p, enum qn_type type, struct qnode *acc,
			  struct qnode *kid)
{
	if (!acc)
		return kid;
	if (acc->type != type) {
		struct qnode *n = node_new(type, 0);

		if (!n || node_add(n, acc) < 0) {
			free(n);
			goto oom;
		}
		acc = n;
	}
	if (node_add(acc, kid) < 0)
		goto oom;
	return acc;
oom:
	node_free(kid);
	node_free(acc);
	perr_oom(p);
	return NULL;
}

/* Terms joined by blanks or AND, up to OR, ')' or the end. NULL when there are none. */
static struct qnode *parse_and(struct qparser *p)
{
	struct qnode *acc = NULL;
	size_t and_at = 0;
	int want = 0; /* an AND was read and needs a term after it */

	for (;;) {
		struct qnode *kid;

		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] == ')' || at_keyword(p, "OR"))
			break;
		if (at_keyword(p, "AND")) {
			if ((!acc || want) && !p->errors) {
				perr(p, p->pos, 1, "'AND' needs a term on both sides");
				break;
			}
			and_at = p->pos;
			p->pos += 3;
			want = 1;
			continue;
		}
		want = 0;
		kid = parse_unary(p);
		if (p->fatal) {
			node_free(kid);
			break;
		}
		if (!kid)
			continue; /* a recoverable error: keep looking for more */
		acc = fold(p, QN_AND, acc, kid);
		if (!acc)
			break;
	}
	if (want && !p->fatal)
		perr(p, and_at, 1, "'AND' needs a term on both sides");
	if (p->fatal) {
		node_free(acc);
		return NULL;
	}
	return acc;
}

static struct qnode *parse_or(struct qparser *p)
{
	struct qnode *acc = parse_and(p);

	for (;;) {
		size_t or_at;
		struct qnode *rhs;

		if (p->fatal) {
			node_free(acc);
			return NULL;
		}
		skip_space(p);
		if (!at_keyword(p, "OR"))
			return acc;
		or_at = p->pos;
		if (!acc && !p->errors) {
			perr(p, or_at, 1, "'OR' needs a term on both sides");
			return NULL;
		}
		p->pos += 2;
		rhs = parse_and(p);
		if (p->fatal) {
			node_free(acc);
			node_free(rhs);
			return NULL;
		}
		if (!rhs) {
			if (!p->errors)
				perr(p, or_at, 1, "'OR' needs a term on both sides");
			node_free(acc);
			if (p->fatal)
				return NULL;
			acc = NULL;
			continue;
		}
		if (!acc) {
			node_free(rhs);
			continue;
		}
		acc = fold(p, QN_OR, acc, rhs);
		if (!acc)
			return NULL;
	}
}

/* ---------------------------------------------------------------- SQL */

static int add_param(struct query *q, enum qp_type type, const char *s, size_t len, int64_t i,
		     struct qregex *re)
{
	struct qparam *pp;

	if (q->nparams == q->aparams) {
		size_t na = q->aparams ? 2 * q->aparams : 8;
		struct qparam *np = realloc(q->params, na * sizeof(*np));

		if (!np)
			return -1;
		q->params = np;
		q->aparams = na;
	}
	pp = &q->params[q->nparams];
	memset(pp, 0, sizeof(*pp));
	pp->type = type;
	pp->i = i;
	pp->re = re;
	if (s) {
		pp->s = dup_bytes(s, len);
		if (!pp->s)
			return -1;
		pp->len = len;
	}
	q->nparams++;
	return (int)q->nparams;
}

/* Appends value as a GLOB pattern: '*' stays a wildcard, and '?' too when keep_q; every other
 * GLOB metacharacter is matched literally; a trailing '*' is added when prefix. */
static int glob_pattern(struct strbuf *sb, const char *v, size_t len, int keep_q, int prefix)
{
	for (size_t i = 0; i < len; i++) {
		int rc;

		if (v[i] == '[' || (v[i] == '?' && !keep_q))
			rc = strbuf_addf(sb, "[%c]", v[i]);
		else
			rc = strbuf_addch(sb, v[i]);
		if (rc < 0)
			return -1;
	}
	if (prefix && (!len || v[len - 1] != '*'))
		return strbuf_addch(sb, '*');
	return 0;
}

/* A name field: exact, or GLOB when the value holds '*'; over one or two columns. */
static int sql_name(struct query *q, struct strbuf *sb, const struct qnode *n, const char *col1,
		    const char *col2, const char *wrap)
{
	int i;

	if (n->glob) {
		struct strbuf pat = STRBUF_INIT;

		if (glob_pattern(&pat, n->val, n->vlen, 0, 0) < 0) {
			strbuf_release(&pat);
			return -1;
		}
		i = add_param(q, QP_TEXT, pat.buf, pat.len, 0, NULL);
		strbuf_release(&pat);
	} else {
		i = add_param(q, QP_TEXT, n->val, n->vlen, 0, NULL);
	}
	if (i < 0)
		return -1;
	if (col2)
		return strbuf_addf(sb, "coalesce(%s(%s) %s ?%d OR %s(%s) %s ?%d, 0)", wrap, col1,
				   n->glob ? "GLOB" : "=", i, wrap, col2, n->glob ? "GLOB" : "=",
				   i);
	return strbuf_addf(sb, "coalesce(%s(%s) %s ?%d, 0)", wrap, col1, n->glob ? "GLOB" : "=", i);
}

static int sql_status(struct query *q, struct strbuf *sb, const struct qnode *n)
{
	const char *v = n->val;
	int64_t lo = 0, hi = 999, a = 0;
	int i, j;

	if (n->vlen == 3 && (v[1] == 'x' || v[1] == 'X')) {
		lo = (v[0] - '0') * 100;
		hi = lo + 99;
	} else if (v[0] == '>' && v[1] == '=') {
		(void)parse_int64(v + 2, 0, 999, &a);
		lo = a;
	} else if (v[0] == '>') {
		(void)parse_int64(v + 1, 0, 999, &a);
		lo = a + 1;
	} else if (v[0] == '<' && v[1] == '=') {
		(void)parse_int64(v + 2, 0, 999, &a);
		hi = a;
	} else if (v[0] == '<') {
		(void)parse_int64(v + 1, 0, 999, &a);
		hi = a - 1;
	} else {
		(void)parse_int64(v, 0, 999, &a);
		lo = hi = a;
	}
	i = add_param(q, QP_INT, NULL, 0, lo, NULL);
	j = add_param(q, QP_INT, NULL, 0, hi, NULL);
	if (i < 0 || j < 0)
		return -1;
	q->needs |= QUERY_NEEDS_REQUESTS;
	return strbuf_addf(sb, "coalesce(r.status BETWEEN ?%d AND ?%d, 0)", i, j);
}

static int sql_field(struct query *q, struct strbuf *sb, const struct qnode *n)
{
	int i;

	switch (n->field) {
	case QF_BACKEND:
		q->needs |= QUERY_NEEDS_REQUESTS | QUERY_NEEDS_EVENTS;
		return sql_name(q, sb, n, "r.backend", "e.proxy", "");
	case QF_SERVER:
		q->needs |= QUERY_NEEDS_REQUESTS | QUERY_NEEDS_EVENTS;
		return sql_name(q, sb, n, "r.server", "e.server", "");
	case QF_FRONTEND:
		q->needs |= QUERY_NEEDS_REQUESTS;
		return sql_name(q, sb, n, "r.frontend", NULL, "");
	case QF_HOST:
		return sql_name(q, sb, n, "l.host", NULL, "lower");
	case QF_PROGRAM:
		return sql_name(q, sb, n, "l.program", NULL, "");
	case QF_SOURCE:
		return sql_name(q, sb, n, "l.source", NULL, "");
	case QF_METHOD:
		q->needs |= QUERY_NEEDS_REQUESTS;
		return sql_name(q, sb, n, "r.method", NULL, "upper");
	case QF_STATUS:
		return sql_status(q, sb, n);
	case QF_STATE: {
		/* a prefix of the termination state (HTTP 4 chars, TCP 2), whose case matters
		 * ('s' server timeout, 'S' server abort), or the event state in any case */
		struct strbuf pat = STRBUF_INIT;
		int j;

		if (glob_pattern(&pat, n->val, n->vlen, 1, 1) < 0) {
			strbuf_release(&pat);
			return -1;
		}
		i = add_param(q, QP_TEXT, pat.buf, pat.len, 0, NULL);
		for (size_t k = 0; k < pat.len; k++)
			pat.buf[k] = (char)to_upper((unsigned char)pat.buf[k]);
		j = add_param(q, QP_TEXT, pat.buf, pat.len, 0, NULL);
		strbuf_release(&pat);
		if (i < 0 || j < 0)
			return -1;
		q->needs |= QUERY_NEEDS_REQUESTS | QUERY_NEEDS_EVENTS;
		return strbuf_addf(sb, "coalesce(r.term GLOB ?%d OR upper(e.state) GLOB ?%d, 0)", i,
				   j);
	}
	case QF_PATH: {
		struct strbuf pat = STRBUF_INIT;

		if (glob_pattern(&pat, n->val, n->vlen, 0, !n->glob) < 0) {
			strbuf_release(&pat);
			return -1;
		}
		i = add_param(q, QP_TEXT, pat.buf, pat.len, 0, NULL);
		strbuf_release(&pat);
		if (i < 0)
			return -1;
		q->needs |= QUERY_NEEDS_REQUESTS;
		return strbuf_addf(sb, "coalesce(r.path GLOB ?%d, 0)", i);
	}
	case QF_CLIENT:
		q->needs |= QUERY_NEEDS_REQUESTS;
		if (n->glob)
			return sql_name(q, sb, n, "r.client_ip", NULL, "");
		i = add_param(q, QP_BLOB, (const char *)n->net, sizeof(n->net), 0, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "halog_cidr(r.client_ip, ?%d)", i);
	case QF_KIND: {
		int64_t mask = 0;

		if (!strcmp(n->val, "event"))
			mask = (1 << LR_SERVER) | (1 << LR_CHECK) | (1 << LR_NOSRV) |
			       (1 << LR_PROXY);
		for (int k = 0; k < LR_KIND_MAX; k++)
			if (!strcmp(n->val, lr_kind_name((enum lr_kind)k)))
				mask = (int64_t)1 << k;
		i = add_param(q, QP_INT, NULL, 0, mask, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "coalesce((?%d >> l.kind) & 1, 0)", i);
	}
	case QF_PARSE: {
		int64_t st = !strcmp(n->val, "ok")	  ? LR_OK
			     : !strcmp(n->val, "partial") ? LR_PARTIAL
							  : LR_BAD;

		i = add_param(q, QP_INT, NULL, 0, st, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "coalesce(l.status = ?%d, 0)", i);
	}
	case QF_COUNT:
		break;
	}
	return -1;
}

static int sql_node(struct query *q, struct strbuf *sb, struct qnode *n)
{
	int i;

	switch (n->type) {
	case QN_ALL:
		return strbuf_addstr(sb, "1");
	case QN_AND:
	case QN_OR:
		if (strbuf_addch(sb, '(') < 0)
			return -1;
		for (size_t k = 0; k < n->nkids; k++) {
			if (k && strbuf_addstr(sb, n->type == QN_AND ? " AND " : " OR ") < 0)
				return -1;
			if (sql_node(q, sb, n->kids[k]) < 0)
				return -1;
		}
		return strbuf_addch(sb, ')');
	case QN_NOT:
		if (strbuf_addstr(sb, "NOT ") < 0)
			return -1;
		return sql_node(q, sb, n->kids[0]);
	case QN_TEXT:
		i = add_param(q, QP_BLOB, n->val, n->vlen, 0, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "halog_contains(l.raw, ?%d)", i);
	case QN_REGEX:
		i = add_param(q, QP_PTR, NULL, 0, 0, &n->re);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "halog_regexp(?%d, l.raw)", i);
	case QN_FIELD:
		return sql_field(q, sb, n);
	}
	return -1;
}

void query_free(struct query *q)
{
	if (!q)
		return;
	node_free(q->root);
	strbuf_release(&q->sql);
	for (size_t i = 0; i < q->nparams; i++)
		free(q->params[i].s);
	free(q->params);
	free(q);
}

struct query *query_parse(const char *text, size_t len, struct diag_list *dl)
{
	struct qparser p = {text, len, 0, dl, 0, 0, 0, 0};
	struct query *q;
	struct qnode *root;
	char lim[16];

	if (len > QUERY_MAX_LEN) {
		snprintf(lim, sizeof(lim), "%d", QUERY_MAX_LEN);
		perr(&p, QUERY_MAX_LEN, 1, "query longer than %s bytes", lim);
		return NULL;
	}
	root = parse_or(&p);
	if (!p.fatal) {
		skip_space(&p);
		if (p.pos < p.len) /* only a ')' stops parse_or before the end */
			perr(&p, p.pos, 1, "unbalanced parenthesis");
	}
	if (p.errors) {
		node_free(root);
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		goto oom;
	strbuf_init(&q->sql);
	q->root = root ? root : node_new(QN_ALL, 0);
	if (!q->root || sql_node(q, &q->sql, q->root) < 0)
		goto oom;
	return q;
oom:
	if (!q)
		node_free(root);
	query_free(q);
	perr_oom(&p);
	return NULL;
}

unsigned query_needs(const struct query *q)
{
	return q->needs;
}

int query_sql(const struct query *q, struct strbuf *sb)
{
	return strbuf_add(sb, q->sql.buf, q->sql.len);
}

int query_param_count(const struct query *q)
{
	return (int)q->nparams;
}

int query_bind(const struct query *q, sqlite3_stmt *stmt)
{
	for (size_t k = 0; k < q->nparams; k++) {
		const struct qparam *pp = &q->params[k];
		int i = (int)k + 1, rc = SQLITE_OK;

		switch (pp->type) {
		case QP_TEXT:
			rc = sqlite3_bind_text(stmt, i, pp->s, (int)pp->len, SQLITE_STATIC);
			break;
		case QP_BLOB:
			rc = sqlite3_bind_blob(stmt, i, pp->s, (int)pp->len, SQLITE_STATIC);
			break;
		case QP_INT:
			rc = sqlite3_bind_int64(stmt, i, pp->i);
			break;
		case QP_PTR:
			rc = sqlite3_bind_pointer(stmt, i, pp->re, QUERY_RE_PTR_TYPE, NULL);
			break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* ---------------------------------------------------------------- SQL functions */

int query_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	const unsigned char *h = (const unsigned char *)hay, *nd = (const unsigned char *)needle;
	const unsigned char *end, *lo, *up;
	unsigned char c0, c0u;
	int letters = 0;

	if (nlen == 0)
		return 1;
	if (hlen < nlen)
		return 0;
	for (size_t i = 0; i < nlen && !letters; i++)
		letters = nd[i] >= 'a' && nd[i] <= 'z';
	if (!letters) /* no case to fold: libc's memmem is faster than anything below */
		return memmem(hay, hlen, needle, nlen) != NULL;
	end = h + (hlen - nlen) + 1; /* candidates start before end */
	c0 = nd[0];
	c0u = (unsigned char)to_upper(c0);
	lo = memchr(h, c0, (size_t)(end - h));
	up = c0u != c0 ? memchr(h, c0u, (size_t)(end - h)) : NULL;
	while (lo || up) {
		const unsigned char *c = !up || (lo && lo < up) ? lo : up;
		size_t i = 1;

		while (i < nlen && to_lower(c[i]) == nd[i])
			i++;
		if (i == nlen)
			return 1;
		if (c == lo)
			lo = c + 1 < end ? memchr(c + 1, c0, (size_t)(end - c - 1)) : NULL;
		else
			up = c + 1 < end ? memchr(c + 1, c0u, (size_t)(end - c - 1)) : NULL;
	}
	return 0;
}

static void fn_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const void *hay, *nd;
	int hl, nl;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	hay = sqlite3_value_blob(argv[0]);
	hl = sqlite3_value_bytes(argv[0]);
	nd = sqlite3_value_blob(argv[1]);
	nl = sqlite3_value_bytes(argv[1]);
	sqlite3_result_int(ctx,
			   query_contains(hay ? hay : "", (size_t)hl, nd ? nd : "", (size_t)nl));
}

static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct qregex *re = sqlite3_value_pointer(argv[0], QUERY_RE_PTR_TYPE);
	const void *subj;
	int len, rc;

	(void)argc;
	if (!re) {
		sqlite3_result_error(ctx, "halog_regexp: not a compiled regex", -1);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	subj = sqlite3_value_blob(argv[1]);
	len = sqlite3_value_bytes(argv[1]);
	rc = pcre2_match(re->code, (PCRE2_SPTR)(subj ? subj : ""), (PCRE2_SIZE)len, 0, 0, re->md,
			 re->mctx);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		regex_limit_hits++;
	sqlite3_result_int(ctx, rc >= 0);
}

/* halog_cidr(ip TEXT, net BLOB[18]): 1 when ip lies in the network. */
static void fn_cidr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *net = sqlite3_value_blob(argv[1]);
	const unsigned char *ip = sqlite3_value_text(argv[0]);
	unsigned char addr[16];
	char buf[64];
	int n = sqlite3_value_bytes(argv[0]), fam, bits;
	const unsigned char *a = addr;

	(void)argc;
	sqlite3_result_int(ctx, 0);
	if (!ip || !net || sqlite3_value_bytes(argv[1]) != 18 || n <= 0 || n >= (int)sizeof(buf))
		return;
	memcpy(buf, ip, (size_t)n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1) {
		fam = 4;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		fam = 6;
		if (net[0] == 4 && !memcmp(addr, mapped, sizeof(mapped))) {
			fam = 4;
			a = addr + 12;
		}
	} else {
		return;
	}
	if (fam != net[0])
		return;
	bits = net[1];
	for (int i = 0; bits > 0; i++, bits -= 8) {
		unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;

		if ((a[i] & mask) != (net[2 + i] & mask))
			return;
	}
	sqlite3_result_int(ctx, 1);
}

int query_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	int rc = sqlite3_create_function(db, "halog_contains", 2, flags, NULL, fn_contains, NULL,
					 NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "halog_regexp", 2, SQLITE_UTF8, NULL, fn_regexp,
					     NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "halog_cidr", 2, flags, NULL, fn_cidr, NULL, NULL);
	return rc;
}

/* ---------------------------------------------------------------- errors */

static size_t display_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

void query_print_errors(const struct diag_list *dl, const char *text, size_t len, FILE *fp,
			const char *prog)
{
	struct strbuf vis = STRBUF_INIT, pre = STRBUF_INIT;

	if (len > QUERY_MAX_LEN + 64)
		len = QUERY_MAX_LEN + 64;
	if (text_add_visible(&vis, text, len) < 0)
		goto out;
	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->items[i];
		struct diag_list one = {(struct diag *)d, 1, 1, 1, 0, 0};
		size_t col = d->col ? d->col - 1 : 0, w;

		if (col > len)
			col = len;
		diag_print(&one, fp, prog);
		strbuf_reset(&pre);
		if (text_add_visible(&pre, text, col) < 0)
			goto out;
		w = display_width(pre.buf, pre.len);
		fprintf(fp, "    %s\n    %*s^\n", vis.buf, (int)w, "");
	}
	if (dl->dropped)
		fprintf(fp, "%s%s%zu more errors not shown\n", prog ? prog : "", prog ? ": " : "",
			dl->dropped);
out:
	strbuf_release(&vis);
	strbuf_release(&pre);
}
