/* The search query language: a recursive-descent parser from query text to the tree of
 * query.h, which says what each term means (values normalised: cases folded, patterns built,
 * status ranges, kind masks, networks), and the matching helpers every evaluator of the tree
 * uses. No evaluation strategy here: the store compiles or scans (store/sqlite_query.c). See
 * docs/halog-search.md for the language. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/query.h"

#include <arpa/inet.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "parse/logrec.h"
#include "parse.h"

/* Bounds on one regex match, so a hostile pattern costs at most this much per line. */
#define QUERY_RE_MATCH_LIMIT 200000
#define QUERY_RE_DEPTH_LIMIT 5000
#define QUERY_RE_HEAP_KIB 4096

static const char *const field_names[QUERY_NFIELDS] = {
	[QUERY_F_BACKEND] = "backend", [QUERY_F_SERVER] = "server",
	[QUERY_F_FRONTEND] = "frontend", [QUERY_F_STATUS] = "status",
	[QUERY_F_STATE] = "state",	 [QUERY_F_HOST] = "host",
	[QUERY_F_PROGRAM] = "program",	 [QUERY_F_CLIENT] = "client",
	[QUERY_F_KIND] = "kind",	 [QUERY_F_PATH] = "path",
	[QUERY_F_METHOD] = "method",	 [QUERY_F_PARSE] = "parse",
	[QUERY_F_SOURCE] = "source",	 [QUERY_F_TQ] = "tq",
	[QUERY_F_TW] = "tw",		 [QUERY_F_TC] = "tc",
	[QUERY_F_TR] = "tr",		 [QUERY_F_TA] = "ta",
	[QUERY_F_BYTES] = "bytes",	 [QUERY_F_RETRIES] = "retries",
};

/* Other names of fields. */
static const struct {
	const char *name;
	enum query_field field;
} field_aliases[] = {
	{"term", QUERY_F_STATE},
};

/* The numbers of a traffic line: how a value is read, what a line holds (query.h). */
enum num_unit { NUM_MS, NUM_BYTES, NUM_COUNT };
static const struct {
	enum query_field field;
	enum num_unit unit;
} num_fields[] = {
	{QUERY_F_TQ, NUM_MS},	 {QUERY_F_TW, NUM_MS},	     {QUERY_F_TC, NUM_MS},
	{QUERY_F_TR, NUM_MS},	 {QUERY_F_TA, NUM_MS},	     {QUERY_F_BYTES, NUM_BYTES},
	{QUERY_F_RETRIES, NUM_COUNT},
};

/* The prefix hagen gives the backends it renders (be_<service>): backend:api also finds be_api. */
#define QUERY_BACKEND_PREFIX "be_"

struct query_regex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

struct query {
	struct query_node *root;
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

static int64_t budget_deadline; /* monotonic ms; 0: no budget */
static int budget_spent;

void query_budget_start(int64_t ms)
{
	budget_spent = 0;
	budget_deadline = ms > 0 ? clock_mono_ms() + ms : 0;
}

int query_budget_over(void)
{
	if (budget_deadline && !budget_spent && clock_mono_ms() >= budget_deadline)
		budget_spent = 1;
	return budget_spent;
}

int query_budget_spent(void)
{
	return budget_spent;
}

uint64_t query_regex_limit_hits(void)
{
	return regex_limit_hits;
}

/* ---------------------------------------------------------------- tree */

static void node_free(struct query_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free((char *)n->val); /* owned: const only to the readers of the tree */
	if (n->re) {
		pcre2_match_data_free(n->re->md);
		pcre2_match_context_free(n->re->mctx);
		pcre2_code_free(n->re->code);
		free(n->re);
	}
	free(n);
}

static struct query_node *node_new(enum query_op type, unsigned col)
{
	struct query_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->op = type;
		n->col = col;
	}
	return n;
}

/* Appends kid (at most QUERY_MAX_TERMS of them, so growing one at a time is cheap). */
static int node_add(struct query_node *n, struct query_node *kid)
{
	struct query_node **k = realloc(n->kids, (n->nkids + 1) * sizeof(*k));

	if (!k)
		return -1;
	n->kids = k;
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

static struct query_node *make_text(struct qparser *p, size_t at, const char *s, size_t len)
{
	struct query_node *n = node_new(QUERY_TEXT, (unsigned)at + 1);
	char *v = n ? dup_bytes(s, len) : NULL;

	if (!v) {
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		v[i] = (char)to_lower((unsigned char)v[i]);
	n->val = v;
	n->vlen = len;
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

static struct query_node *parse_regex(struct qparser *p, size_t end, int icase)
{
	size_t start = p->pos, plen = end - start - 2 - (size_t)icase;
	const char *pat = p->s + start + 1;
	struct query_node *n;
	int errcode;
	PCRE2_SIZE erroff;

	p->pos = end;
	if (plen == 0) {
		perr(p, start, 0, "empty regex");
		return NULL;
	}
	n = node_new(QUERY_REGEX, (unsigned)start + 1);
	if (!n || !(n->re = calloc(1, sizeof(*n->re)))) {
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	n->re->code = pcre2_compile((PCRE2_SPTR)pat, plen, icase ? PCRE2_CASELESS : 0, &errcode,
				   &erroff, NULL);
	if (!n->re->code) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", errcode);
		perr(p, start + 1 + erroff, 0, "bad regex: %s", (const char *)msg);
		node_free(n);
		return NULL;
	}
	(void)pcre2_jit_compile(n->re->code,
				PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	n->re->md = pcre2_match_data_create(1, NULL);
	n->re->mctx = pcre2_match_context_create(NULL);
	if (!n->re->md || !n->re->mctx) {
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	pcre2_set_match_limit(n->re->mctx, QUERY_RE_MATCH_LIMIT);
	pcre2_set_depth_limit(n->re->mctx, QUERY_RE_DEPTH_LIMIT);
	pcre2_set_heap_limit(n->re->mctx, QUERY_RE_HEAP_KIB);
	return n;
}

static int field_lookup(const char *name, size_t len)
{
	for (int i = 0; i < QUERY_NFIELDS; i++)
		if (strlen(field_names[i]) == len && !memcmp(field_names[i], name, len))
			return i;
	for (size_t i = 0; i < sizeof(field_aliases) / sizeof(field_aliases[0]); i++)
		if (strlen(field_aliases[i].name) == len && !memcmp(field_aliases[i].name, name, len))
			return (int)field_aliases[i].field;
	return -1;
}

/* The unit of a number field, or -1 for a field that is no number. */
static int num_unit_of(enum query_field f)
{
	for (size_t i = 0; i < sizeof(num_fields) / sizeof(num_fields[0]); i++)
		if (num_fields[i].field == f)
			return (int)num_fields[i].unit;
	return -1;
}

/* A number as a field of unit u takes it: ms with an optional unit (500, 500ms, 2s, 1m), bytes
 * with an optional k, m or g (HAProxy's: powers of 1024), a count. Returns 0 or -1. */
static int parse_num(const char *v, enum num_unit u, int64_t *out)
{
	uint64_t ms;
	size_t len = strlen(v);
	int shift = 0;
	char digits[32];

	switch (u) {
	case NUM_MS:
		if (parse_duration_ms(v, &ms) < 0 || ms > INT32_MAX)
			return -1;
		*out = (int64_t)ms;
		return 0;
	case NUM_BYTES:
		if (len && strchr("kK", v[len - 1]))
			shift = 10;
		else if (len && strchr("mM", v[len - 1]))
			shift = 20;
		else if (len && strchr("gG", v[len - 1]))
			shift = 30;
		if (shift)
			len--;
		if (!len || len >= sizeof(digits))
			return -1;
		memcpy(digits, v, len);
		digits[len] = '\0';
		if (parse_int64(digits, 0, (INT64_MAX >> shift) - 1, out) < 0)
			return -1;
		*out <<= shift;
		return 0;
	case NUM_COUNT:
		return parse_int64(v, 0, INT64_MAX - 1, out);
	}
	return -1;
}

/* A comparison with a number, "N", ">N", ">=N", "<N", "<=N", read into [lo, hi] (status: and
 * the number fields). Returns 0 or -1. */
static int parse_compare(const char *v, enum num_unit u, int64_t max, int64_t *lo, int64_t *hi)
{
	const char *num = v;
	int64_t a;

	if (num[0] == '>' || num[0] == '<')
		num += num[1] == '=' ? 2 : 1;
	if (u == NUM_COUNT ? parse_int64(num, 0, max, &a) < 0 : parse_num(num, u, &a) < 0)
		return -1;
	*lo = 0;
	*hi = max;
	if (v[0] == '>')
		*lo = v[1] == '=' ? a : a + 1;
	else if (v[0] == '<')
		*hi = v[1] == '=' ? a : a - 1;
	else
		*lo = *hi = a;
	return 0;
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

/* Appends a '*' to the pattern in val (a strbuf) unless it ends with one. Returns 0 or -1. */
static int add_star(struct strbuf *val)
{
	if (val->len && val->buf[val->len - 1] == '*')
		return 0;
	return strbuf_addch(val, '*');
}

/* Checks the value of a field node and puts its meaning into n (query.h): folds cases, builds
 * patterns, reads status ranges, kinds, parse statuses and networks. Takes val (emptied either
 * way). Returns 0, or -1 after reporting (or out of memory). */
static int field_value(struct qparser *p, struct query_node *n, struct strbuf *val, size_t vat)
{
	char *v = val->buf;
	size_t vlen = val->len;

	n->glob = memchr(v, '*', vlen) != NULL;
	if (n->field == QUERY_F_KIND || n->field == QUERY_F_PARSE || n->field == QUERY_F_HOST)
		for (size_t i = 0; i < vlen; i++)
			v[i] = (char)to_lower((unsigned char)v[i]);
	if (num_unit_of(n->field) >= 0) {
		static const char *const expect[] = {
			[NUM_MS] = "milliseconds, e.g. 500, >500, >=2s, <=100ms",
			[NUM_BYTES] = "bytes, e.g. 1000, >1M, <=64k",
			[NUM_COUNT] = "a count, e.g. 0, >0, >=3",
		};
		int u = num_unit_of(n->field);

		if (parse_compare(v, (enum num_unit)u, INT64_MAX - 1, &n->lo, &n->hi) < 0) {
			perr(p, vat, 0, "invalid %s '%s' (expected %s)", field_names[n->field], v,
			     expect[u]);
			goto bad;
		}
	}
	switch (n->field) {
	case QUERY_F_STATUS:
		if (vlen == 3 && v[0] >= '1' && v[0] <= '9' &&
		    to_lower((unsigned char)v[1]) == 'x' && to_lower((unsigned char)v[2]) == 'x') {
			n->lo = (v[0] - '0') * 100;
			n->hi = n->lo + 99;
			break;
		}
		if (parse_compare(v, NUM_COUNT, 999, &n->lo, &n->hi) < 0) {
			perr(p, vat, 0, "invalid status '%s' (expected e.g. 503, 5xx, >=500, <400)",
			     v);
			goto bad;
		}
		break;
	case QUERY_F_KIND:
		if (!strcmp(v, "event")) {
			n->kinds = (1u << LR_SERVER) | (1u << LR_CHECK) | (1u << LR_NOSRV) |
				   (1u << LR_PROXY);
			break;
		}
		for (int k = 0; k < LR_KIND_MAX; k++)
			if (!strcmp(v, lr_kind_name((enum lr_kind)k)))
				n->kinds = 1u << k;
		if (n->kinds)
			break;
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
			goto bad;
		}
	case QUERY_F_PARSE:
		if (!strcmp(v, "ok"))
			n->parse = LR_OK;
		else if (!strcmp(v, "partial"))
			n->parse = LR_PARTIAL;
		else if (!strcmp(v, "bad"))
			n->parse = LR_BAD;
		else {
			perr(p, vat, 0, "unknown parse status '%s' (expected ok, partial or bad)",
			     v);
			goto bad;
		}
		break;
	case QUERY_F_CLIENT: {
		int fam;
		unsigned prefix;

		if (n->glob)
			break;
		if (parse_cidr(v, &fam, n->net + 2, &prefix) < 0) {
			perr(p, vat, 0,
			     "invalid client address '%s' (expected an IP, a CIDR such as "
			     "10.0.0.0/8, or a pattern with *)",
			     v);
			goto bad;
		}
		n->net[0] = fam == AF_INET6 ? 6 : 4;
		n->net[1] = (unsigned char)prefix;
		break;
	}
	case QUERY_F_METHOD:
		for (size_t i = 0; i < vlen; i++)
			v[i] = (char)to_upper((unsigned char)v[i]);
		break;
	case QUERY_F_PATH:
		/* a prefix, unless the value says where the path may go on */
		if (!n->glob && add_star(val) < 0)
			goto oom;
		n->glob = 1;
		break;
	case QUERY_F_STATE:
		/* a prefix of the termination state (HTTP 4 chars, TCP 2), '?' for any one */
		if (add_star(val) < 0)
			goto oom;
		n->glob = n->qmark = 1;
		break;
	default:
		break;
	}
	n->vlen = val->len;
	n->val = strbuf_detach(val, NULL);
	return 0;
oom:
	perr_oom(p);
bad:
	strbuf_release(val);
	return -1;
}

/* backend:NAME: NAME, or hagen's backend for the service NAME (QUERY_BACKEND_PREFIX NAME) when
 * NAME does not start with the prefix already. Takes n; returns n, an OR of n and its prefixed
 * copy, or NULL (out of memory, reported). */
static struct query_node *with_backend_prefix(struct qparser *p, struct query_node *n)
{
	const size_t plen = sizeof(QUERY_BACKEND_PREFIX) - 1;
	struct query_node *alt, *or;
	char *v;

	if (n->vlen >= plen && !memcmp(n->val, QUERY_BACKEND_PREFIX, plen))
		return n;
	alt = node_new(QUERY_FIELD, n->col);
	or = node_new(QUERY_OR, n->col);
	v = malloc(plen + n->vlen + 1);
	if (!alt || !or || !v) {
		free(v);
		goto oom;
	}
	memcpy(v, QUERY_BACKEND_PREFIX, plen);
	memcpy(v + plen, n->val, n->vlen + 1);
	alt->field = n->field;
	alt->val = v;
	alt->vlen = plen + n->vlen;
	alt->glob = n->glob;
	alt->qmark = n->qmark;
	if (node_add(or, n) < 0)
		goto oom;
	n = NULL;
	if (node_add(or, alt) < 0)
		goto oom;
	return or;
oom:
	node_free(n);
	node_free(alt);
	node_free(or);
	perr_oom(p);
	return NULL;
}

/* word, field:value, field:"value" (p->pos at the first byte). */
static struct query_node *parse_word(struct qparser *p)
{
	size_t start = p->pos, end = start, colon = 0;
	struct query_node *n;
	struct strbuf val = STRBUF_INIT;
	int f, exact = 0;
	size_t vstart;

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
			enum { NALIASES = sizeof(field_aliases) / sizeof(field_aliases[0]) };
			const char *names[QUERY_NFIELDS + NALIASES];
			const char *sug;

			memcpy(names, field_names, sizeof(field_names));
			for (size_t i = 0; i < NALIASES; i++)
				names[QUERY_NFIELDS + i] = field_aliases[i].name;
			sug = diag_suggest(name, names, QUERY_NFIELDS + NALIASES);

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
	/* backend:=NAME is NAME exactly, without hagen's prefix added */
	if (f == QUERY_F_BACKEND && p->pos < p->len && p->s[p->pos] == '=') {
		exact = 1;
		p->pos++;
	}
	vstart = p->pos;
	if (p->pos < p->len && p->s[p->pos] == '"') {
		if (read_quoted(p, &val) < 0) {
			strbuf_release(&val);
			return NULL;
		}
	} else {
		p->pos = end;
		if (strbuf_add(&val, p->s + vstart, end - vstart) < 0) {
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
		perr(p, vstart, 0, "NUL byte in the value of field '%s'", field_names[f]);
		strbuf_release(&val);
		return NULL;
	}
	n = node_new(QUERY_FIELD, (unsigned)start + 1);
	if (!n) {
		strbuf_release(&val);
		perr_oom(p);
		return NULL;
	}
	n->field = (enum query_field)f;
	if (field_value(p, n, &val, vstart) < 0) {
		node_free(n);
		return NULL;
	}
	if (f == QUERY_F_BACKEND && !exact)
		return with_backend_prefix(p, n);
	return n;
}

static struct query_node *parse_or(struct qparser *p);

/* ( expr ), "phrase", /regex/, word or field (no leading '-'). NULL on error or, with no error
 * recorded, for a term that was rejected but lets parsing go on. */
static struct query_node *parse_primary(struct qparser *p)
{
	size_t start = p->pos;
	char c = p->s[start];

	if (c == '(') {
		struct query_node *inner;
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
		struct query_node *n;

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

/* -term, NOT term (NOT upper case and a word of its own, as OR and AND), or a term. */
static struct query_node *parse_unary(struct qparser *p)
{
	size_t start = p->pos;
	struct query_node *kid, *n;

	if (at_keyword(p, "NOT")) {
		p->pos += 3;
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] == ')' || at_keyword(p, "OR") ||
		    at_keyword(p, "AND") || at_keyword(p, "NOT") || p->s[p->pos] == '-') {
			perr(p, start, 1,
			     "nothing to negate after 'NOT' (put \"NOT\" in quotes to search for "
			     "it)");
			return NULL;
		}
		kid = parse_primary(p);
		goto negate;
	}
	if (p->s[start] != '-')
		return parse_primary(p);
	p->pos++;
	if (p->pos >= p->len || is_space((unsigned char)p->s[p->pos]) || p->s[p->pos] == ')') {
		perr(p, start, 1,
		     "nothing to negate after '-' (put \"-\" in quotes to search for it)");
		return NULL;
	}
	kid = parse_primary(p);
negate:
	if (!kid)
		return NULL;
	n = node_new(QUERY_NOT, (unsigned)start + 1);
	if (!n || node_add(n, kid) < 0) {
		node_free(kid);
		node_free(n);
		perr_oom(p);
		return NULL;
	}
	return n;
}

/* Folds kids into an AND/OR node, or returns the single kid. */
static struct query_node *fold(struct qparser *p, enum query_op type, struct query_node *acc,
			  struct query_node *kid)
{
	if (!acc)
		return kid;
	if (acc->op != type) {
		struct query_node *n = node_new(type, 0);

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
static struct query_node *parse_and(struct qparser *p)
{
	struct query_node *acc = NULL;
	size_t and_at = 0;
	int want = 0; /* an AND was read and needs a term after it */

	for (;;) {
		struct query_node *kid;

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
		acc = fold(p, QUERY_AND, acc, kid);
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

static struct query_node *parse_or(struct qparser *p)
{
	struct query_node *acc = parse_and(p);

	for (;;) {
		size_t or_at;
		struct query_node *rhs;

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
		acc = fold(p, QUERY_OR, acc, rhs);
		if (!acc)
			return NULL;
	}
}

/* ---------------------------------------------------------------- queries */

void query_free(struct query *q)
{
	if (!q)
		return;
	node_free(q->root);
	free(q);
}

struct query *query_parse(const char *text, size_t len, struct diag_list *dl)
{
	struct qparser p = {text, len, 0, dl, 0, 0, 0, 0};
	struct query *q;
	struct query_node *root;
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
	if (!root && !(root = node_new(QUERY_ALL, 0)))
		goto oom;
	q = calloc(1, sizeof(*q));
	if (!q)
		goto oom;
	q->root = root;
	return q;
oom:
	node_free(root);
	perr_oom(&p);
	return NULL;
}

const struct query_node *query_root(const struct query *q)
{
	return q->root;
}

/* ---------------------------------------------------------------- matching helpers */

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

int query_regex_match(const struct query_regex *re, const char *subj, size_t len)
{
	int rc;

	if (query_budget_over())
		return 0;
	rc = pcre2_match(re->code, (PCRE2_SPTR)subj, (PCRE2_SIZE)len, 0, 0, re->md, re->mctx);

	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		regex_limit_hits++;
	return rc >= 0;
}

int query_cidr_match(const unsigned char net[18], const char *ip, size_t len)
{
	unsigned char addr[16];
	const unsigned char *a = addr;
	char buf[64];
	int fam, bits;

	if (!len || len >= sizeof(buf))
		return 0;
	memcpy(buf, ip, len);
	buf[len] = '\0';
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
		return 0;
	}
	if (fam != net[0])
		return 0;
	bits = net[1];
	for (int i = 0; bits > 0; i++, bits -= 8) {
		unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;

		if ((a[i] & mask) != (net[2 + i] & mask))
			return 0;
	}
	return 1;
}

/* A byte folded: 'l' to lower case, 'u' to upper case, 0 as it is. */
static int fold_ch(int c, char fold)
{
	return fold == 'l' ? to_lower(c) : fold == 'u' ? to_upper(c) : c;
}

/* query_glob with both sides folded (fold_ch). */
static int glob_fold(const char *pat, size_t plen, int qmark, const char *s, size_t slen,
		     char fold)
{
	size_t p = 0, i = 0, star_p = 0, star_i = 0;
	int star = 0;

	/* one backtracking point (the last '*') is enough for '*' and '?' patterns */
	while (i < slen) {
		if (p < plen && pat[p] == '*') {
			star = 1;
			star_p = ++p;
			star_i = i;
		} else if (p < plen && ((qmark && pat[p] == '?') ||
					fold_ch((unsigned char)pat[p], fold) ==
						fold_ch((unsigned char)s[i], fold))) {
			p++;
			i++;
		} else if (star) {
			p = star_p;
			i = ++star_i;
		} else {
			return 0;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

int query_glob(const char *pat, size_t plen, int qmark, const char *s, size_t slen)
{
	return glob_fold(pat, plen, qmark, s, slen, 0);
}

/* ---------------------------------------------------------------- evaluating */

struct subject {
	const char *raw;
	size_t len;
	struct lr_str source;
	const struct logrec *rec;
	int traffic, conn, event; /* kinds: HTTP/TCP; connect lines and connection errors; the
				     other events */
};

/* A pattern field against v (absent: no match), both sides folded (fold_ch). */
static int name_match(const struct query_node *n, struct lr_str v, char fold)
{
	if (!v.p)
		return 0;
	if (n->glob)
		return glob_fold(n->val, n->vlen, n->qmark, v.p, v.len, fold);
	if (v.len != n->vlen)
		return 0;
	for (uint32_t i = 0; i < v.len; i++)
		if (fold_ch((unsigned char)v.p[i], fold) != fold_ch((unsigned char)n->val[i], fold))
			return 0;
	return 1;
}

/* The field of a line as query.h defines it for each kind. */
static struct lr_str field_of(const struct subject *sj, enum query_field f)
{
	const struct logrec *r = sj->rec;
	struct lr_str none = {NULL, 0};

	switch (f) {
	case QUERY_F_BACKEND:
		if (sj->traffic)
			return r->backend;
		if (sj->conn)
			return r->frontend;
		return sj->event ? (r->ev_proxy.p ? r->ev_proxy : r->backend) : none;
	case QUERY_F_SERVER:
		if (sj->traffic)
			return r->server;
		if (sj->conn)
			return r->bind;
		return sj->event ? r->ev_server : none;
	case QUERY_F_FRONTEND:
		return sj->traffic ? r->frontend : none;
	case QUERY_F_HOST:
		return r->host;
	case QUERY_F_PROGRAM:
		return r->tag;
	case QUERY_F_SOURCE:
		return sj->source;
	case QUERY_F_CLIENT:
		return sj->traffic ? r->client_ip : none;
	case QUERY_F_PATH:
		return sj->traffic ? r->path : none;
	case QUERY_F_METHOD:
		return sj->traffic ? r->method : none;
	default:
		return none;
	}
}

/* A number field of a traffic line (query.h), LR_NONE when absent. */
static int64_t number_of(const struct logrec *r, enum query_field f)
{
	int32_t t;

	switch (f) {
	case QUERY_F_TQ:
		t = r->t_req;
		break;
	case QUERY_F_TW:
		t = r->t_wait;
		break;
	case QUERY_F_TC:
		t = r->t_connect;
		break;
	case QUERY_F_TR:
		t = r->t_resp;
		break;
	case QUERY_F_TA:
		t = r->t_active;
		break;
	case QUERY_F_BYTES:
		return r->bytes_read;
	case QUERY_F_RETRIES:
		return r->retries;
	default:
		return LR_NONE;
	}
	return t == LR_TIMER_NONE ? LR_NONE : t;
}

static int eval(const struct query_node *n, const struct subject *sj)
{
	const struct logrec *r = sj->rec;

	switch (n->op) {
	case QUERY_ALL:
		return 1;
	case QUERY_AND:
		for (size_t k = 0; k < n->nkids; k++)
			if (!eval(n->kids[k], sj))
				return 0;
		return 1;
	case QUERY_OR:
		for (size_t k = 0; k < n->nkids; k++)
			if (eval(n->kids[k], sj))
				return 1;
		return 0;
	case QUERY_NOT:
		return !eval(n->kids[0], sj);
	case QUERY_TEXT:
		return query_contains(sj->raw, sj->len, n->val, n->vlen);
	case QUERY_REGEX:
		return query_regex_match(n->re, sj->raw, sj->len);
	case QUERY_FIELD:
		break;
	}
	if (num_unit_of(n->field) >= 0) {
		int64_t v = number_of(r, n->field);

		return sj->traffic && v != LR_NONE && v >= n->lo && v <= n->hi;
	}
	switch (n->field) {
	case QUERY_F_STATUS:
		return sj->traffic && r->status_code != LR_NONE && r->status_code >= n->lo &&
		       r->status_code <= n->hi;
	case QUERY_F_STATE:
		if (sj->traffic) {
			struct lr_str t = {r->term, (uint32_t)strlen(r->term)};

			return t.len && name_match(n, t, 0);
		}
		/* an event's state in any case */
		return sj->event && name_match(n, r->ev_state, 'u');
	case QUERY_F_KIND:
		return (unsigned)r->kind < 32 && (n->kinds >> r->kind & 1u);
	case QUERY_F_PARSE:
		return (int)r->status == n->parse;
	case QUERY_F_CLIENT:
		if (!n->glob) {
			struct lr_str ip = field_of(sj, QUERY_F_CLIENT);

			return ip.p && query_cidr_match(n->net, ip.p, ip.len);
		}
		return name_match(n, field_of(sj, QUERY_F_CLIENT), 0);
	case QUERY_F_HOST:
		return name_match(n, r->host, 'l');
	case QUERY_F_METHOD:
		return name_match(n, field_of(sj, QUERY_F_METHOD), 'u');
	default:
		return name_match(n, field_of(sj, n->field), 0);
	}
}

int query_match(const struct query *q, const char *raw, size_t len, struct lr_str source,
		const struct logrec *rec)
{
	struct subject sj = {raw ? raw : "", raw ? len : 0, source, rec, 0, 0, 0};

	sj.traffic = rec->kind == LR_HTTP || rec->kind == LR_TCP;
	sj.conn = rec->kind == LR_CONNECT || rec->kind == LR_CONN_ERROR;
	sj.event = rec->kind == LR_SERVER || rec->kind == LR_CHECK || rec->kind == LR_NOSRV ||
		   rec->kind == LR_PROXY;
	return eval(q->root, &sj);
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

int query_add_term(struct strbuf *sb, const char *field, const char *value)
{
	if (strbuf_addstr(sb, field) < 0 || strbuf_addstr(sb, ":\"") < 0)
		return -1;
	for (const char *c = value; *c; c++)
		if (((*c == '"' || *c == '\\') && strbuf_addch(sb, '\\') < 0) ||
		    strbuf_addch(sb, *c) < 0)
			return -1;
	return strbuf_addch(sb, '"');
}
