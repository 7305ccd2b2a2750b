/* The --when expression: a tokenizer, a recursive-descent parser into a small node array,
 * and its evaluation over a window's numbers (see expr.h and docs/halog-alerts.md). */
#include "alert/expr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EXPR_FILE "--when"

enum node_kind { N_CMP, N_AND, N_OR, N_NOT };
enum cmp_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

struct node {
	enum node_kind kind;
	int a, b; /* children (N_AND, N_OR; N_NOT uses a) */
	/* N_CMP */
	size_t metric; /* index into metrics */
	enum cmp_op op;
	double value; /* threshold, in the metric's unit (ms, per second, percent) */
};

struct alert_expr {
	struct node nodes[ALERT_EXPR_MAX_NODES];
	int n, root;
	struct alert_metric metrics[ALERT_EXPR_MAX_NODES];
	size_t nmetrics;
};

/* ---- tokens ---- */

enum tok_kind { T_END, T_WORD, T_NUM, T_OP, T_LP, T_RP, T_BAD };

struct tok {
	enum tok_kind kind;
	size_t pos, len; /* bytes of the text */
	double num;	 /* T_NUM */
	enum cmp_op op;	 /* T_OP */
};

struct parser {
	const char *s;
	size_t len, pos;
	struct tok t; /* the current token */
	struct alert_expr *e;
	struct diag_list *dl;
	int depth;
};

static void err(struct parser *p, size_t pos, const char *msg)
{
	diag_add(p->dl, DIAG_ERROR, EXPR_FILE, 1, (unsigned)pos + 1, "%s", msg);
}

static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '%' || c == '.';
}

static void next(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;
	struct tok *t = &p->t;

	while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	memset(t, 0, sizeof(*t));
	t->pos = i;
	if (i >= p->len) {
		t->kind = T_END;
		p->pos = i;
		return;
	}
	if (s[i] == '(' || s[i] == ')') {
		t->kind = s[i] == '(' ? T_LP : T_RP;
		t->len = 1;
	} else if (strchr("<>=!", s[i])) {
		int eq = i + 1 < p->len && s[i + 1] == '=';

		t->kind = T_OP;
		t->len = eq ? 2 : 1;
		switch (s[i]) {
		case '>':
			t->op = eq ? OP_GE : OP_GT;
			break;
		case '<':
			t->op = eq ? OP_LE : OP_LT;
			break;
		case '=':
			t->op = OP_EQ;
			if (i + 1 < p->len && (s[i + 1] == '>' || s[i + 1] == '<')) {
				t->kind = T_BAD; /* "=>", "=<" */
				t->len = 2;
			}
			break;
		default:
			t->op = OP_NE;
			if (!eq)
				t->kind = T_BAD;
			break;
		}
	} else if ((s[i] >= '0' && s[i] <= '9') ||
		   (s[i] == '.' && i + 1 < p->len && s[i + 1] >= '0' && s[i + 1] <= '9')) {
		/* a number, then its unit glued to it: 800, 1.5s, 5/s, 2% */
		size_t j = i;
		char buf[64];

		while (j < p->len && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'))
			j++;
		if (j - i >= sizeof(buf)) {
			t->kind = T_BAD;
		} else {
			char *end;

			memcpy(buf, s + i, j - i);
			buf[j - i] = '\0';
			t->num = strtod(buf, &end);
			t->kind = *end || !isfinite(t->num) ? T_BAD : T_NUM;
		}
		/* the unit, if any, is a separate T_WORD that starts right here */
		t->len = j - i;
	} else if (s[i] == '/') {
		t->kind = T_WORD; /* "/s", the unit of a rate */
		t->len = 1;
		while (i + t->len < p->len && is_word((unsigned char)s[i + t->len]))
			t->len++;
	} else if (is_word((unsigned char)s[i])) {
		t->kind = T_WORD;
		while (i + t->len < p->len && is_word((unsigned char)s[i + t->len]))
			t->len++;
	} else {
		t->kind = T_BAD;
		t->len = 1;
	}
	p->pos = i + t->len;
}

static int tok_is(const struct parser *p, const char *word)
{
	size_t n = strlen(word);

	return p->t.kind == T_WORD && p->t.len == n && !strncasecmp(p->s + p->t.pos, word, n);
}

static int new_node(struct parser *p, enum node_kind k)
{
	if (p->e->n >= ALERT_EXPR_MAX_NODES) {
		err(p, p->t.pos, "the expression is too long (at most 64 parts)");
		return -1;
	}
	memset(&p->e->nodes[p->e->n], 0, sizeof(p->e->nodes[0]));
	p->e->nodes[p->e->n].kind = k;
	return p->e->n++;
}

/* ---- metrics ---- */

static const char *const metric_words[] = {"count",   "rate",  "requests", "errors",
					   "errors%", "p50()", "p90()",	   "p95()",
					   "p99()",   "avg()", "max()"};

struct timer_name {
	const char *name;
	int exact_case;
	enum rollup_timer t;
};

/* HAProxy's names, case as in its documentation, and lower-case aliases: "tr" is Tr (the
 * server's response time, the one people watch), TR the request's is "treq". */
static const struct timer_name timers[] = {
	{"TR", 1, RT_TR}, {"Tw", 1, RT_TW},	 {"Tc", 1, RT_TC},   {"Tr", 1, RT_TR_RESP},
	{"Ta", 1, RT_TA}, {"Tt", 1, RT_TA},	 {"treq", 0, RT_TR}, {"tw", 0, RT_TW},
	{"tc", 0, RT_TC}, {"tr", 0, RT_TR_RESP}, {"ta", 0, RT_TA},   {"tt", 0, RT_TA},
};

static int find_timer(const char *s, size_t n, enum rollup_timer *t)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
			const struct timer_name *tn = &timers[i];

			if (strlen(tn->name) != n || tn->exact_case != !pass)
				continue;
			if (pass ? !strncasecmp(s, tn->name, n) : !strncmp(s, tn->name, n)) {
				*t = tn->t;
				return 0;
			}
		}
	return -1;
}

/* A "pNN" word: sets *pct. Returns 0 or -1. */
static int percentile_word(const char *s, size_t n, double *pct)
{
	char buf[16], *end;

	if (n < 2 || n >= sizeof(buf) || (s[0] != 'p' && s[0] != 'P') || s[1] < '0' || s[1] > '9')
		return -1;
	memcpy(buf, s + 1, n - 1);
	buf[n - 1] = '\0';
	*pct = strtod(buf, &end);
	return *end || *pct <= 0 || *pct > 100 ? -1 : 0;
}

/* Parses a metric at the current token into m. Returns 0, or -1 after an error. */
static int parse_metric(struct parser *p, struct alert_metric *m)
{
	const char *w = p->s + p->t.pos;
	size_t n = p->t.len, at = p->t.pos;
	int func;

	memset(m, 0, sizeof(*m));
	if (p->t.kind != T_WORD) {
		err(p, at,
		    "expected a number to watch: count, rate, requests, errors, errors%, "
		    "pNN(timer), avg(timer) or max(timer)");
		return -1;
	}
	if (n == 5 && !strncasecmp(w, "count", 5)) {
		m->kind = AM_COUNT;
	} else if (n == 4 && !strncasecmp(w, "rate", 4)) {
		m->kind = AM_RATE;
	} else if (n == 8 && !strncasecmp(w, "requests", 8)) {
		m->kind = AM_REQUESTS;
	} else if (n == 6 && !strncasecmp(w, "errors", 6)) {
		m->kind = AM_ERRORS;
	} else if (n == 7 && !strncasecmp(w, "errors%", 7)) {
		m->kind = AM_ERRORS_PCT;
	} else if ((func = (n == 3 && !strncasecmp(w, "avg", 3))) ||
		   (n == 3 && !strncasecmp(w, "max", 3)) || !percentile_word(w, n, &m->pct)) {
		m->kind = func ? AM_AVG : (w[0] == 'm' || w[0] == 'M') ? AM_MAX : AM_PCT;
		next(p);
		if (p->t.kind != T_LP) {
			err(p, p->t.pos, "expected '(' and a timer: TR, Tw, Tc, Tr, Ta or Tt");
			return -1;
		}
		next(p);
		if (p->t.kind != T_WORD || find_timer(p->s + p->t.pos, p->t.len, &m->timer)) {
			err(p, p->t.pos,
			    "expected a timer: TR, Tw, Tc, Tr, Ta or Tt (or treq, tw, tc, tr, ta, "
			    "tt)");
			return -1;
		}
		next(p);
		if (p->t.kind != T_RP) {
			err(p, p->t.pos, "expected ')'");
			return -1;
		}
	} else {
		char word[40];
		const char *sug;
		struct strbuf msg = STRBUF_INIT;

		snprintf(word, sizeof(word), "%.*s", n > 30 ? 30 : (int)n, w);
		if (n >= 2 && (w[0] == 'p' || w[0] == 'P') && w[1] >= '0' && w[1] <= '9') {
			err(p, at,
			    "a percentile is p followed by a number from 0 (excluded) to 100");
			return -1;
		}
		sug = diag_suggest(word, metric_words,
				   sizeof(metric_words) / sizeof(metric_words[0]));
		strbuf_addf(&msg, "unknown number '%s'", word);
		if (sug)
			strbuf_addf(&msg, " (did you mean '%.*s'?)",
				    (int)(strchr(sug, '(') ? strchr(sug, '(') - sug
							   : (long)strlen(sug)),
				    sug);
		err(p, at, msg.buf);
		strbuf_release(&msg);
		return -1;
	}
	next(p);
	return 0;
}

/* The threshold after the operator, with its unit, into the metric's unit. Returns 0 or -1. */
static int parse_value(struct parser *p, const struct alert_metric *m, double *v)
{
	size_t at = p->t.pos, end = p->t.pos + p->t.len;
	int timer = m->kind == AM_PCT || m->kind == AM_AVG || m->kind == AM_MAX;

	if (p->t.kind != T_NUM) {
		err(p, at,
		    p->t.kind == T_BAD && p->t.len > 1 ? "not a number" : "expected a number");
		return -1;
	}
	*v = p->t.num;
	next(p);
	/* a unit glued to the number: 5/s, 1.5s, 2% */
	if (p->t.kind == T_WORD && p->t.pos == end) {
		const char *u = p->s + p->t.pos;
		size_t n = p->t.len;

		if (m->kind == AM_RATE && n == 2 && u[0] == '/' && (u[1] == 's' || u[1] == 'S')) {
		} else if (m->kind == AM_RATE && n == 2 && u[0] == '/' &&
			   (u[1] == 'm' || u[1] == 'M')) {
			*v /= 60;
		} else if (m->kind == AM_RATE && n == 2 && u[0] == '/' &&
			   (u[1] == 'h' || u[1] == 'H')) {
			*v /= 3600;
		} else if (timer && n == 2 && !strncasecmp(u, "ms", 2)) {
		} else if (timer && n == 1 && (u[0] == 's' || u[0] == 'S')) {
			*v *= 1000;
		} else if (m->kind == AM_ERRORS_PCT && n == 1 && u[0] == '%') {
		} else {
			err(p, p->t.pos,
			    m->kind == AM_RATE	       ? "a rate's unit is /s, /m or /h"
			    : timer		       ? "a time's unit is ms or s (none means ms)"
			    : m->kind == AM_ERRORS_PCT ? "errors% takes a percentage, e.g. 2 or 2%"
						       : "this number takes no unit");
			return -1;
		}
		next(p);
	}
	if (m->kind == AM_ERRORS_PCT && *v > 100) {
		err(p, at, "errors% is at most 100");
		return -1;
	}
	return 0;
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
	if (tok_is(p, "not")) {
		int n, a;

		next(p);
		if (++p->depth > 32) {
			err(p, p->t.pos, "too deeply nested (at most 32)");
			return -1;
		}
		a = parse_unary(p);
		p->depth--;
		if (a < 0 || (n = new_node(p, N_NOT)) < 0)
			return -1;
		p->e->nodes[n].a = a;
		return n;
	}
	if (p->t.kind == T_LP) {
		size_t open = p->t.pos;
		int a;

		if (++p->depth > 32) {
			err(p, open, "too deeply nested (at most 32)");
			return -1;
		}
		next(p);
		if (p->t.kind == T_RP) {
			err(p, open, "empty parentheses");
			return -1;
		}
		a = parse_or(p);
		p->depth--;
		if (a < 0)
			return -1;
		if (p->t.kind != T_RP) {
			err(p, open, "unbalanced parenthesis");
			return -1;
		}
		next(p);
		return a;
	}
	{
		struct alert_metric m;
		int n;

		if (parse_metric(p, &m))
			return -1;
		if (p->t.kind != T_OP) {
			const char *o = p->s + p->t.pos;

			err(p, p->t.pos,
			    p->t.kind == T_BAD && p->t.len == 2 && o[1] == '>'
				    ? "'=>' is not a comparison (did you mean '>='?)"
			    : p->t.kind == T_BAD && p->t.len == 2 && o[1] == '<'
				    ? "'=<' is not a comparison (did you mean '<='?)"
				    : "expected a comparison: >, >=, <, <=, == or !=");
			return -1;
		}
		if ((n = new_node(p, N_CMP)) < 0)
			return -1;
		p->e->nodes[n].op = p->t.op;
		next(p);
		if (parse_value(p, &m, &p->e->nodes[n].value))
			return -1;
		p->e->nodes[n].metric = p->e->nmetrics;
		p->e->metrics[p->e->nmetrics++] = m;
		return n;
	}
}

static int parse_and(struct parser *p)
{
	int a = parse_unary(p);

	while (a >= 0 && tok_is(p, "and")) {
		int b, n;

		next(p);
		if ((b = parse_unary(p)) < 0 || (n = new_node(p, N_AND)) < 0)
			return -1;
		p->e->nodes[n].a = a;
		p->e->nodes[n].b = b;
		a = n;
	}
	return a;
}

static int parse_or(struct parser *p)
{
	int a = parse_and(p);

	while (a >= 0 && tok_is(p, "or")) {
		int b, n;

		next(p);
		if ((b = parse_and(p)) < 0 || (n = new_node(p, N_OR)) < 0)
			return -1;
		p->e->nodes[n].a = a;
		p->e->nodes[n].b = b;
		a = n;
	}
	return a;
}

struct alert_expr *alert_expr_parse(const char *text, size_t len, struct diag_list *dl)
{
	struct parser p;
	size_t before = dl->errors + dl->dropped;

	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = len;
	p.dl = dl;
	if (len > ALERT_EXPR_MAX_LEN) {
		err(&p, ALERT_EXPR_MAX_LEN, "the expression is too long (at most 1024 bytes)");
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		err(&p, (size_t)((const char *)memchr(text, '\0', len) - text),
		    "a NUL byte in the expression");
		return NULL;
	}
	p.e = calloc(1, sizeof(*p.e));
	if (!p.e) {
		err(&p, 0, "out of memory");
		return NULL;
	}
	next(&p);
	if (p.t.kind == T_END) {
		err(&p, p.t.pos, "empty expression: compare a number, e.g. 'count >= 10'");
	} else {
		p.e->root = parse_or(&p);
		if (p.e->root >= 0 && p.t.kind != T_END)
			err(&p, p.t.pos,
			    p.t.kind == T_RP ? "unbalanced parenthesis"
					     : "expected 'and', 'or' or the end of the expression");
	}
	if (dl->errors + dl->dropped > before) {
		free(p.e);
		return NULL;
	}
	return p.e;
}

void alert_expr_free(struct alert_expr *e)
{
	free(e);
}

/* ---- evaluation ---- */

int alert_metric_value(const struct alert_metric *m, const struct alert_stats *s, double *out)
{
	const struct rollup_agg *a = &s->agg;
	int64_t n;

	if (s->counted_only && m->kind != AM_COUNT && m->kind != AM_RATE)
		return -1;
	switch (m->kind) {
	case AM_COUNT:
		*out = (double)s->count;
		return 0;
	case AM_RATE:
		*out = s->window_ms > 0 ? (double)s->count * 1000.0 / (double)s->window_ms : 0;
		return 0;
	case AM_REQUESTS:
		*out = (double)a->requests;
		return 0;
	case AM_ERRORS:
		*out = (double)a->errors;
		return 0;
	case AM_ERRORS_PCT:
		if (!a->requests)
			return -1;
		*out = 100.0 * (double)a->errors / (double)a->requests;
		return 0;
	case AM_PCT:
	case AM_AVG:
	case AM_MAX:
		n = a->tn[m->timer];
		if (n <= 0 || !a->hist[m->timer])
			return -1;
		if (m->kind == AM_AVG)
			*out = (double)a->tsum[m->timer] / (double)n;
		else if (m->kind == AM_MAX)
			*out = (double)a->tmax[m->timer];
		else
			*out = (double)hist_percentile(a->hist[m->timer], (uint64_t)n, m->pct,
						       a->tmax[m->timer]);
		return 0;
	}
	return -1;
}

static const char *const timer_label[RT_N] = {"TR", "Tw", "Tc", "Tr", "Ta"};

int alert_metric_name(const struct alert_metric *m, struct strbuf *sb)
{
	switch (m->kind) {
	case AM_COUNT:
		return strbuf_addstr(sb, "count");
	case AM_RATE:
		return strbuf_addstr(sb, "rate");
	case AM_REQUESTS:
		return strbuf_addstr(sb, "requests");
	case AM_ERRORS:
		return strbuf_addstr(sb, "errors");
	case AM_ERRORS_PCT:
		return strbuf_addstr(sb, "errors%");
	case AM_PCT:
		return strbuf_addf(sb, "p%g(%s)", m->pct, timer_label[m->timer]);
	case AM_AVG:
		return strbuf_addf(sb, "avg(%s)", timer_label[m->timer]);
	case AM_MAX:
		return strbuf_addf(sb, "max(%s)", timer_label[m->timer]);
	}
	return -1;
}

static int compare(double v, enum cmp_op op, double t)
{
	switch (op) {
	case OP_GT:
		return v > t;
	case OP_GE:
		return v >= t;
	case OP_LT:
		return v < t;
	case OP_LE:
		return v <= t;
	case OP_EQ:
		return v == t;
	case OP_NE:
		return v != t;
	}
	return 0;
}

static int eval_node(const struct alert_expr *e, int i, const struct alert_stats *s)
{
	const struct node *n = &e->nodes[i];
	double v;

	switch (n->kind) {
	case N_CMP:
		return alert_metric_value(&e->metrics[n->metric], s, &v) == 0 &&
		       compare(v, n->op, n->value);
	case N_AND:
		return eval_node(e, n->a, s) && eval_node(e, n->b, s);
	case N_OR:
		return eval_node(e, n->a, s) || eval_node(e, n->b, s);
	case N_NOT:
		return !eval_node(e, n->a, s);
	}
	return 0;
}

int alert_expr_eval(const struct alert_expr *e, const struct alert_stats *s)
{
	return eval_node(e, e->root, s);
}

const struct alert_metric *alert_expr_metrics(const struct alert_expr *e, size_t *n)
{
	*n = e->nmetrics;
	return e->metrics;
}

static const char *const op_text[] = {">", ">=", "<", "<=", "==", "!="};

int alert_expr_explain(const struct alert_expr *e, const struct alert_stats *s, struct strbuf *sb)
{
	int rc = 0, first = 1;

	for (int i = 0; i < e->n; i++) {
		const struct node *n = &e->nodes[i];
		const struct alert_metric *m;
		double v;

		if (n->kind != N_CMP)
			continue;
		m = &e->metrics[n->metric];
		rc |= strbuf_addstr(sb, first ? "" : ", ");
		first = 0;
		rc |= alert_metric_name(m, sb);
		if (alert_metric_value(m, s, &v)) {
			rc |= strbuf_addstr(sb, " = none");
		} else {
			if (v == floor(v) && fabs(v) < 1e15)
				rc |= strbuf_addf(sb, " = %lld", (long long)v);
			else
				rc |= strbuf_addf(sb, " = %.6g", v);
			if (m->kind == AM_PCT || m->kind == AM_AVG || m->kind == AM_MAX)
				rc |= strbuf_addstr(sb, " ms");
			else if (m->kind == AM_RATE)
				rc |= strbuf_addstr(sb, "/s");
		}
		rc |= strbuf_addf(sb, " (%s %.6g)", op_text[n->op], n->value);
	}
	return rc ? -1 : 0;
}
