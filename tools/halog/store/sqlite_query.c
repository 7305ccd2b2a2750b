/* A parsed query compiled to SQL over the SQLite store (sqlite_query.h): each node of the tree
 * (query/query.h says what it means) becomes an expression over lines l, requests r and events
 * e. User text only ever reaches SQLite as bound parameters. */
#include "store/sqlite_query.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "parse/logrec.h"
#include "query/query.h"

#define SQLQ_RE_PTR_TYPE "halog_regex"

enum sp_type { SP_TEXT, SP_BLOB, SP_INT, SP_PTR };

struct sqlq_param {
	enum sp_type type;
	char *s; /* owned: SP_TEXT, SP_BLOB */
	size_t len;
	int64_t i;		      /* SP_INT */
	const struct query_regex *re; /* SP_PTR: the query's */
};

/* Adds a parameter; returns its number (1-based) or -1. s is copied. */
static int add_param(struct sqlq *c, enum sp_type type, const char *s, size_t len, int64_t i,
		     const struct query_regex *re)
{
	struct sqlq_param *pp;
	if (c->nparams == c->aparams) {
		size_t na = c->aparams ? 2 * c->aparams : 8;
		struct sqlq_param *np = realloc(c->params, na * sizeof(*np));
		if (!np)
			return -1;
		c->params = np;
		c->aparams = na;
	}
	pp = &c->params[c->nparams];
	memset(pp, 0, sizeof(*pp));
	pp->type = type;
	pp->i = i;
	pp->re = re;
	if (s) {
		if (!(pp->s = malloc(len + 1)))
			return -1;
		memcpy(pp->s, s, len);
		pp->s[len] = '\0';
		pp->len = len;
	}
	c->nparams++;
	return (int)c->nparams;
}

/* A node's pattern in GLOB syntax: '*' stays a wildcard, and '?' too when qmark; every other
 * GLOB metacharacter is matched literally. Returns the parameter number or -1. */
static int add_pattern(struct sqlq *c, const char *v, size_t len, int qmark, int upper)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0, i;
	for (size_t k = 0; k < len && !rc; k++) {
		char ch = v[k];
		if (upper && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (ch == '[' || (ch == '?' && !qmark))
			rc = strbuf_addf(&sb, "[%c]", ch);
		else
			rc = strbuf_addch(&sb, ch);
	}
	i = rc ? -1 : add_param(c, SP_TEXT, sb.buf ? sb.buf : "", sb.len, 0, NULL);
	strbuf_release(&sb);
	return i;
}

/* A pattern field over one or two columns, each wrapped in fn (e.g. "lower"). */
static int sql_name(struct sqlq *c, struct strbuf *sb, const struct query_node *n, const char *col1,
		    const char *col2, const char *fn)
{
	int i = n->glob ? add_pattern(c, n->val, n->vlen, n->qmark, 0)
			: add_param(c, SP_TEXT, n->val, n->vlen, 0, NULL);
	const char *op = n->glob ? "GLOB" : "=";
	if (i < 0)
		return -1;
	if (col2)
		return strbuf_addf(sb, "coalesce(%s(%s) %s ?%d OR %s(%s) %s ?%d, 0)", fn, col1, op,
				   i, fn, col2, op, i);
	return strbuf_addf(sb, "coalesce(%s(%s) %s ?%d, 0)", fn, col1, op, i);
}

static int sql_field(struct sqlq *c, struct strbuf *sb, const struct query_node *n)
{
	int i, j;
	switch (n->field) {
	case QUERY_F_BACKEND:
		c->needs |= SQLQ_REQUESTS | SQLQ_EVENTS;
		return sql_name(c, sb, n, "r.backend", "e.proxy", "");
	case QUERY_F_SERVER:
		c->needs |= SQLQ_REQUESTS | SQLQ_EVENTS;
		return sql_name(c, sb, n, "r.server", "e.server", "");
	case QUERY_F_FRONTEND:
		c->needs |= SQLQ_REQUESTS;
		return sql_name(c, sb, n, "r.frontend", NULL, "");
	case QUERY_F_HOST:
		return sql_name(c, sb, n, "l.host", NULL, "lower");
	case QUERY_F_PROGRAM:
		return sql_name(c, sb, n, "l.program", NULL, "");
	case QUERY_F_SOURCE:
		return sql_name(c, sb, n, "l.source", NULL, "");
	case QUERY_F_METHOD:
		c->needs |= SQLQ_REQUESTS;
		return sql_name(c, sb, n, "r.method", NULL, "upper");
	case QUERY_F_PATH:
		c->needs |= SQLQ_REQUESTS;
		return sql_name(c, sb, n, "r.path", NULL, "");
	case QUERY_F_STATUS:
		i = add_param(c, SP_INT, NULL, 0, n->lo, NULL);
		j = add_param(c, SP_INT, NULL, 0, n->hi, NULL);
		if (i < 0 || j < 0)
			return -1;
		c->needs |= SQLQ_REQUESTS;
		return strbuf_addf(sb, "coalesce(r.status BETWEEN ?%d AND ?%d, 0)", i, j);
	case QUERY_F_TQ:
	case QUERY_F_TW:
	case QUERY_F_TC:
	case QUERY_F_TR:
	case QUERY_F_TA:
	case QUERY_F_BYTES:
	case QUERY_F_RETRIES: {
		static const char *const cols[QUERY_NFIELDS] = {
			[QUERY_F_TQ] = "t_req",	     [QUERY_F_TW] = "t_wait",
			[QUERY_F_TC] = "t_connect",  [QUERY_F_TR] = "t_resp",
			[QUERY_F_TA] = "t_active",   [QUERY_F_BYTES] = "bytes_read",
			[QUERY_F_RETRIES] = "retries",
		};
		i = add_param(c, SP_INT, NULL, 0, n->lo, NULL);
		j = add_param(c, SP_INT, NULL, 0, n->hi, NULL);
		if (i < 0 || j < 0)
			return -1;
		c->needs |= SQLQ_REQUESTS;
		return strbuf_addf(sb, "coalesce(r.%s BETWEEN ?%d AND ?%d, 0)", cols[n->field], i,
				   j);
	}
	case QUERY_F_STATE:
		/* the termination state's case matters ('s' server timeout, 'S' server abort);
		 * an event state's does not */
		i = add_pattern(c, n->val, n->vlen, n->qmark, 0);
		j = add_pattern(c, n->val, n->vlen, n->qmark, 1);
		if (i < 0 || j < 0)
			return -1;
		c->needs |= SQLQ_REQUESTS | SQLQ_EVENTS;
		return strbuf_addf(sb, "coalesce(r.term GLOB ?%d OR upper(e.state) GLOB ?%d, 0)", i,
				   j);
	case QUERY_F_CLIENT:
		c->needs |= SQLQ_REQUESTS;
		if (n->glob)
			return sql_name(c, sb, n, "r.client_ip", NULL, "");
		i = add_param(c, SP_BLOB, (const char *)n->net, sizeof(n->net), 0, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "halog_cidr(r.client_ip, ?%d)", i);
	case QUERY_F_KIND:
		i = add_param(c, SP_INT, NULL, 0, n->kinds, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "coalesce((?%d >> l.kind) & 1, 0)", i);
	case QUERY_F_PARSE:
		i = add_param(c, SP_INT, NULL, 0, n->parse, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "coalesce(l.status = ?%d, 0)", i);
	case QUERY_NFIELDS:
		break;
	}
	return -1;
}

static int sql_node(struct sqlq *c, struct strbuf *sb, const struct query_node *n)
{
	int i;
	switch (n->op) {
	case QUERY_ALL:
		return strbuf_addstr(sb, "1");
	case QUERY_AND:
	case QUERY_OR:
		if (strbuf_addch(sb, '(') < 0)
			return -1;
		for (size_t k = 0; k < n->nkids; k++) {
			if (k && strbuf_addstr(sb, n->op == QUERY_AND ? " AND " : " OR ") < 0)
				return -1;
			if (sql_node(c, sb, n->kids[k]) < 0)
				return -1;
		}
		return strbuf_addch(sb, ')');
	case QUERY_NOT:
		if (strbuf_addstr(sb, "NOT ") < 0)
			return -1;
		return sql_node(c, sb, n->kids[0]);
	case QUERY_TEXT:
		i = add_param(c, SP_BLOB, n->val, n->vlen, 0, NULL);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "halog_contains(l.raw, ?%d)", i);
	case QUERY_REGEX:
		i = add_param(c, SP_PTR, NULL, 0, 0, n->re);
		if (i < 0)
			return -1;
		return strbuf_addf(sb, "halog_regexp(?%d, l.raw)", i);
	case QUERY_FIELD:
		return sql_field(c, sb, n);
	}
	return -1;
}

int sqlq_compile(const struct query *q, struct sqlq *c)
{
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->sql);
	return sql_node(c, &c->sql, query_root(q)) < 0 ? -1 : 0;
}

void sqlq_release(struct sqlq *c)
{
	strbuf_release(&c->sql);
	for (size_t i = 0; i < c->nparams; i++)
		free(c->params[i].s);
	free(c->params);
	memset(c, 0, sizeof(*c));
}

int sqlq_bind(const struct sqlq *c, sqlite3_stmt *stmt)
{
	for (size_t k = 0; k < c->nparams; k++) {
		const struct sqlq_param *pp = &c->params[k];
		int i = (int)k + 1, rc = SQLITE_OK;
		switch (pp->type) {
		case SP_TEXT:
			rc = sqlite3_bind_text(stmt, i, pp->s, (int)pp->len, SQLITE_STATIC);
			break;
		case SP_BLOB:
			rc = sqlite3_bind_blob(stmt, i, pp->s, (int)pp->len, SQLITE_STATIC);
			break;
		case SP_INT:
			rc = sqlite3_bind_int64(stmt, i, pp->i);
			break;
		case SP_PTR:
			rc = sqlite3_bind_pointer(stmt, i, (void *)pp->re, SQLQ_RE_PTR_TYPE, NULL);
			break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static void fn_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	const void *hay = sqlite3_value_blob(argv[0]);
	int hl = sqlite3_value_bytes(argv[0]);
	const void *nd = sqlite3_value_blob(argv[1]);
	int nl = sqlite3_value_bytes(argv[1]);
	sqlite3_result_int(ctx,
			   query_contains(hay ? hay : "", (size_t)hl, nd ? nd : "", (size_t)nl));
}

static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct query_regex *re = sqlite3_value_pointer(argv[0], SQLQ_RE_PTR_TYPE);
	(void)argc;
	if (!re) {
		sqlite3_result_error(ctx, "halog_regexp: not a compiled regex", -1);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	const void *subj = sqlite3_value_blob(argv[1]);
	int len = sqlite3_value_bytes(argv[1]);
	sqlite3_result_int(ctx, query_regex_match(re, subj ? subj : "", (size_t)len));
}

/* halog_cidr(ip TEXT, net BLOB[18]): 1 when ip lies in the network. */
static void fn_cidr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *net = sqlite3_value_blob(argv[1]);
	const unsigned char *ip = sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	(void)argc;
	if (!ip || !net || sqlite3_value_bytes(argv[1]) != 18 || n <= 0) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, query_cidr_match(net, (const char *)ip, (size_t)n));
}

/* SQLite's progress handler: a non-zero return interrupts the statement (SQLITE_INTERRUPT). */
static int budget_progress(void *arg)
{
	(void)arg;
	return query_budget_over();
}

int sqlq_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	int rc = sqlite3_create_function(db, "halog_contains", 2, flags, NULL, fn_contains, NULL,
					 NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "halog_regexp", 2, SQLITE_UTF8, NULL, fn_regexp,
					     NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "halog_cidr", 2, flags, NULL, fn_cidr, NULL, NULL);
	/* the query budget (query_budget_start) stops a long scan, not only a slow regex */
	sqlite3_progress_handler(db, 1000, budget_progress, NULL);
	return rc;
}
