/* A parsed query translated to a ClickHouse predicate over `lines` (chquery.h). The tree of
 * query.h already says what each term means (aliases, units and hagen's backend prefix are
 * resolved by the parser), so this file only maps meanings to columns. Each node becomes an
 * expression that every line the node matches passes (a superset), and says whether it is
 * exact: only an exact node may be negated. Values reach the SQL as literals whose every byte
 * outside printable ASCII is escaped. */
#include "store/chquery.h"

#include <inttypes.h>
#include <string.h>

#include "parse/logrec.h"
#include "query/query.h"
#include "strbuf.h"

#define TRAFFIC_SQL "kind IN (1, 2)"
#define CONN_SQL "kind IN (3, 4)"
#define EVENT_SQL "kind IN (5, 6, 7, 8)"
_Static_assert(LR_HTTP == 1 && LR_TCP == 2 && LR_CONNECT == 3 && LR_CONN_ERROR == 4 &&
		       LR_SERVER == 5 && LR_CHECK == 6 && LR_NOSRV == 7 && LR_PROXY == 8,
	       "the kinds of the SQL above");

/* A node's translation: FILTER when sb got an expression, NONE when it got nothing (no
 * filtering: "1"); -1 when out of memory. *exact tells whether the lines that pass are exactly
 * the node's. */
enum { NONE = 0, FILTER = 1 };

int chq_lit(struct strbuf *sb, const char *s, size_t len)
{
	int rc = strbuf_addch(sb, '\'');

	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			rc = strbuf_addf(sb, "\\x%02X", c);
		else
			rc = strbuf_addch(sb, c);
	}
	return rc < 0 ? -1 : strbuf_addch(sb, '\'');
}

/* A name pattern (query_glob, without '?') over col: the name equals val, or, for a pattern,
 * starts with its part before the first '*', ends with its part after the last, and holds each
 * part between (byte-wise: substring, position and endsWith count bytes). That is every name the
 * pattern matches, and exactly those when the pattern has one run of bytes ("a*", "*a*", "*a").
 * A pattern of '*' only matches the empty name, which the columns cannot tell from an absent
 * one: no filter. */
static int name_sql(struct strbuf *sb, const struct query_node *n, const char *col, int *exact)
{
	const char *v = n->val, *end = n->val + n->vlen;
	size_t parts = 0;
	int rc = 0;

	*exact = 1;
	if (!n->glob) {
		rc |= strbuf_addf(sb, "%s = ", col);
		rc |= chq_lit(sb, v, n->vlen);
		return rc < 0 ? -1 : FILTER;
	}
	if (n->qmark) { /* no column pattern of ours has '?' (state has its own) */
		*exact = 0;
		return NONE;
	}
	while (v < end) {
		const char *star = memchr(v, '*', (size_t)(end - v));
		const char *pe = star ? star : end;
		size_t len = (size_t)(pe - v);

		if (len) {
			rc |= strbuf_addstr(sb, parts++ ? " AND " : "(");
			if (v == n->val) { /* the pattern's first bytes: a prefix */
				rc |= strbuf_addf(sb, "substring(%s, 1, %zu) = ", col, len);
				rc |= chq_lit(sb, v, len);
			} else if (!star) { /* its last: a suffix */
				rc |= strbuf_addf(sb, "endsWith(%s, ", col);
				rc |= chq_lit(sb, v, len);
				rc |= strbuf_addch(sb, ')');
			} else {
				rc |= strbuf_addf(sb, "position(%s, ", col);
				rc |= chq_lit(sb, v, len);
				rc |= strbuf_addstr(sb, ") > 0");
			}
		}
		v = star ? star + 1 : end;
	}
	if (!parts) {
		*exact = 0;
		return NONE;
	}
	*exact = parts == 1;
	rc |= strbuf_addch(sb, ')');
	return rc < 0 ? -1 : FILTER;
}

/* "(KINDS AND name_sql)", or the kinds alone when the name is not filtered. */
static int kinds_name(struct strbuf *sb, const char *kinds, const struct query_node *n,
		      const char *col, int *exact)
{
	struct strbuf t = STRBUF_INIT;
	int r = name_sql(&t, n, col, exact), rc = 0;

	if (r < 0)
		goto out;
	if (r == FILTER)
		rc = strbuf_addf(sb, "(%s AND %s)", kinds, t.buf);
	else
		rc = strbuf_addstr(sb, kinds);
	r = rc < 0 ? -1 : FILTER;
out:
	strbuf_release(&t);
	return r;
}

/* name_sql, or 1 when it does not filter. Returns 0 or -1. */
static int name_or_one(struct strbuf *sb, const struct query_node *n, const char *col)
{
	int e, r = name_sql(sb, n, col, &e);

	if (r == NONE)
		return strbuf_addch(sb, '1');
	return r < 0 ? -1 : 0;
}

/* A traffic line's termination state against the pattern (query.h: a prefix, '?' any one
 * byte, case as logged): its first two bytes are term_key's (schema 3's derived column, the
 * second '-' when the state has one byte), so the pattern's first two bytes test them, and the
 * rest is not tested. An event's state has no column: every event passes. Never exact. */
static int state_sql(struct strbuf *sb, const struct query_node *n, int *exact)
{
	int rc = strbuf_addstr(sb, "((" TRAFFIC_SQL " AND term_key != 0");

	*exact = 0;
	for (size_t i = 0; i < 2 && i < n->vlen && n->val[i] != '*'; i++)
		if (n->val[i] != '?')
			rc |= strbuf_addf(sb,
					  i ? " AND term_key %% 256 = %u"
					    : " AND intDiv(term_key, 256) = %u",
					  (unsigned char)n->val[i]);
	rc |= strbuf_addstr(sb, ") OR " EVENT_SQL ")");
	return rc < 0 ? -1 : FILTER;
}

static int field_sql(struct strbuf *sb, const struct query_node *n, int *exact)
{
	static const char *const num_cols[QUERY_NFIELDS] = {
		[QUERY_F_TQ] = "t_req",	       [QUERY_F_TW] = "t_wait",
		[QUERY_F_TC] = "t_connect",    [QUERY_F_TR] = "t_resp",
		[QUERY_F_TA] = "t_active",     [QUERY_F_BYTES] = "bytes_read",
		[QUERY_F_RETRIES] = "retries", [QUERY_F_STATUS] = "status_code",
	};
	int rc = 0, e;

	*exact = 1;
	if (num_cols[n->field]) {
		/* lo >= 0 leaves out the absent values (LR_NONE, LR_TIMER_NONE) */
		rc |= strbuf_addf(sb, "(" TRAFFIC_SQL " AND %s >= %" PRId64, num_cols[n->field],
				  n->lo);
		if (n->hi < INT64_MAX - 1)
			rc |= strbuf_addf(sb, " AND %s <= %" PRId64, num_cols[n->field], n->hi);
		rc |= strbuf_addch(sb, ')');
		return rc < 0 ? -1 : FILTER;
	}
	switch (n->field) {
	case QUERY_F_KIND:
		rc |= strbuf_addstr(sb, "kind IN (");
		for (int k = 0, m = 0; k < 32; k++)
			if (n->kinds >> k & 1u)
				rc |= strbuf_addf(sb, "%s%d", m++ ? ", " : "", k);
		rc |= strbuf_addch(sb, ')');
		return rc < 0 ? -1 : FILTER;
	case QUERY_F_PARSE:
		return strbuf_addf(sb, "status = %d", n->parse) < 0 ? -1 : FILTER;
	case QUERY_F_FRONTEND:
		return kinds_name(sb, TRAFFIC_SQL, n, "frontend", exact);
	case QUERY_F_PATH:
		return kinds_name(sb, TRAFFIC_SQL, n, "path", exact);
	case QUERY_F_SOURCE:
		return name_sql(sb, n, "source", exact);
	case QUERY_F_BACKEND:
		/* an event's proxy, or its backend when it names none: either may hold it */
		*exact = 0;
		rc |= strbuf_addch(sb, '(');
		rc |= kinds_name(sb, TRAFFIC_SQL, n, "backend", &e) < 0 ? -1 : 0;
		rc |= strbuf_addstr(sb, " OR ");
		rc |= kinds_name(sb, CONN_SQL, n, "frontend", &e) < 0 ? -1 : 0;
		rc |= strbuf_addstr(sb, " OR (" EVENT_SQL " AND (");
		rc |= name_or_one(sb, n, "ev_proxy");
		rc |= strbuf_addstr(sb, " OR ");
		rc |= name_or_one(sb, n, "backend");
		rc |= strbuf_addstr(sb, ")))");
		return rc < 0 ? -1 : FILTER;
	case QUERY_F_SERVER:
		/* a connection error's bind has no column */
		*exact = 0;
		rc |= strbuf_addch(sb, '(');
		rc |= kinds_name(sb, TRAFFIC_SQL, n, "server", &e) < 0 ? -1 : 0;
		rc |= strbuf_addstr(sb, " OR " CONN_SQL " OR ");
		rc |= kinds_name(sb, EVENT_SQL, n, "ev_server", &e) < 0 ? -1 : 0;
		rc |= strbuf_addch(sb, ')');
		return rc < 0 ? -1 : FILTER;
	case QUERY_F_STATE:
		return state_sql(sb, n, exact);
	default:
		break;
	}
	/* in `fields` only (schema 3) */
	*exact = 0;
	return NONE;
}

static int node_sql(struct strbuf *sb, const struct query_node *n, int *exact);

/* AND or OR: the kids that filter, joined; an OR with a kid that does not filter passes
 * every line. */
static int junction_sql(struct strbuf *sb, const struct query_node *n, int *exact)
{
	int and = n->op == QUERY_AND, parts = 0, rc = 0;
	struct strbuf t = STRBUF_INIT;

	*exact = 1;
	for (size_t k = 0; k < n->nkids; k++) {
		int e, r;

		strbuf_reset(&t);
		if ((r = node_sql(&t, n->kids[k], &e)) < 0)
			goto oom;
		*exact &= e;
		if (r == NONE) {
			if (and)
				continue;
			parts = 0;
			break;
		}
		rc |= strbuf_addstr(sb, parts++ ? (and? " AND " : " OR ") : "(");
		rc |= strbuf_add(sb, t.buf, t.len);
	}
	if (parts)
		rc |= strbuf_addch(sb, ')');
	strbuf_release(&t);
	if (rc < 0)
		return -1;
	return parts ? FILTER : NONE;
oom:
	strbuf_release(&t);
	return -1;
}

static int node_sql(struct strbuf *sb, const struct query_node *n, int *exact)
{
	struct strbuf t = STRBUF_INIT;
	int r, e;

	*exact = 1;
	switch (n->op) {
	case QUERY_ALL:
		return NONE;
	case QUERY_AND:
	case QUERY_OR: {
		/* the kids go to t first: an OR whose kid does not filter appends nothing */
		r = junction_sql(&t, n, exact);
		if (r == FILTER && strbuf_add(sb, t.buf, t.len) < 0)
			r = -1;
		strbuf_release(&t);
		return r;
	}
	case QUERY_NOT:
		r = node_sql(&t, n->kids[0], &e);
		if (r >= 0 && !e) {
			*exact = 0;
			r = NONE;
		} else if (r == NONE) { /* exactly every line: none */
			r = strbuf_addch(sb, '0') < 0 ? -1 : FILTER;
		} else if (r == FILTER) {
			r = strbuf_addf(sb, "NOT (%s)", t.buf) < 0 ? -1 : FILTER;
		}
		strbuf_release(&t);
		return r;
	case QUERY_TEXT:
		/* query_contains: the raw bytes hold the needle, ASCII letters in any case, every
		 * other byte as it is (positionCaseInsensitive folds ASCII only) */
		if (strbuf_addstr(sb, "positionCaseInsensitive(raw, ") < 0 ||
		    chq_lit(sb, n->val, n->vlen) < 0 || strbuf_addstr(sb, ") > 0") < 0)
			return -1;
		return FILTER;
	case QUERY_REGEX: /* PCRE's syntax is not re2's */
		*exact = 0;
		return NONE;
	case QUERY_FIELD:
		return field_sql(sb, n, exact);
	}
	*exact = 0;
	return NONE;
}

/* 1 when n's subtree holds a word or phrase (reads raw, the widest column). */
static int reads_raw(const struct query_node *n)
{
	if (n->op == QUERY_TEXT)
		return 1;
	for (size_t k = 0; k < n->nkids; k++)
		if (reads_raw(n->kids[k]))
			return 1;
	return 0;
}

/* Appends the translation of n (an AND's kid, or the root) to pre or rest, after " AND " when
 * that already holds one. Returns 0 or -1; *exact tells whether it was exact. */
static int add_part(struct strbuf *pre, struct strbuf *rest, const struct query_node *n,
		    int *exact)
{
	struct strbuf t = STRBUF_INIT, *to = reads_raw(n) ? rest : pre;
	int r = node_sql(&t, n, exact);

	if (r == FILTER && ((to->len && strbuf_addstr(to, " AND ") < 0) ||
			    strbuf_add(to, t.buf, t.len) < 0))
		r = -1;
	strbuf_release(&t);
	return r < 0 ? -1 : 0;
}

int chq_predicate(const struct query *q, struct strbuf *pre, struct strbuf *rest)
{
	const struct query_node *root = query_root(q);
	struct strbuf p = STRBUF_INIT, w = STRBUF_INIT;
	int exact = 1, e, r = 0;

	/* the root's terms one by one, so that each goes where it is cheapest */
	if (root->op == QUERY_AND)
		for (size_t k = 0; k < root->nkids && r == 0; k++) {
			r = add_part(&p, &w, root->kids[k], &e);
			exact &= e;
		}
	else
		r = add_part(&p, &w, root, &exact);
	if (r == 0 && (strbuf_add(pre, p.len ? p.buf : "1", p.len ? p.len : 1) < 0 ||
		       strbuf_add(rest, w.len ? w.buf : "1", w.len ? w.len : 1) < 0))
		r = -1;
	strbuf_release(&p);
	strbuf_release(&w);
	return r < 0 ? -1 : exact;
}
