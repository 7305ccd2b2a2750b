/* YAML output of a yamlnode tree; see yamlemit.h. */
#include "yamlemit.h"

#include <string.h>

static int word_is(const char *s, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcmp(s, words[i]))
			return 1;
	return 0;
}

/* Would YAML read s, written bare, as something else than this string (a number, a boolean,
 * null)? The YAML 1.1 words too, for readers that still use them. */
static int looks_special(const char *s)
{
	static const char *const special[] = {
		"~",	 "null",  "Null", "NULL", "true", "True", "TRUE", "false", "False",
		"FALSE", "yes",	  "Yes",  "YES",  "no",	  "No",	  "NO",	  "on",	   "On",
		"ON",	 "off",	  "Off",  "OFF",  "y",	  "Y",	  "n",	  "N",	   ".inf",
		".Inf",	 ".INF",  "-.inf", "+.inf", ".nan", ".NaN", ".NAN", NULL};
	const char *p = s;
	int digits = 0, dot = 0;

	if (word_is(s, special))
		return 1;
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o'))
		return 1;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits = 1;
		else if (*p == '.' && !dot)
			dot = 1;
		else if ((*p == 'e' || *p == 'E') && digits) {
			p++;
			if (*p == '-' || *p == '+')
				p++;
			if (!*p)
				return 0;
			while (*p >= '0' && *p <= '9')
				p++;
			return !*p;
		} else
			return 0;
	}
	return digits;
}

static int plain_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
		return 0;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return 0;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f || strchr(",[]{}\\\"':", c))
			return 0;
		if ((c == ':' && p[1] == ' ') || (c == ' ' && p[1] == '#'))
			return 0;
	}
	return !looks_special(s);
}

int yaml_quote(const char *s, struct strbuf *out)
{
	int ctrl = 0;

	if (plain_ok(s))
		return strbuf_addstr(out, s);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ctrl = 1;
	if (!ctrl && (strchr(s, '\\') || strchr(s, '"'))) {
		/* single quotes: nothing is escaped but the quote itself, doubled */
		if (strbuf_addch(out, '\'') < 0)
			return -1;
		for (const char *p = s; *p; p++)
			if ((*p == '\'' && strbuf_addch(out, '\'') < 0) || strbuf_addch(out, *p) < 0)
				return -1;
		return strbuf_addch(out, '\'');
	}
	if (strbuf_addch(out, '"') < 0)
		return -1;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int rc;

		if (c == '"' || c == '\\')
			rc = strbuf_addf(out, "\\%c", c);
		else if (c == '\n')
			rc = strbuf_addstr(out, "\\n");
		else if (c == '\t')
			rc = strbuf_addstr(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			rc = strbuf_addf(out, "\\x%02x", c);
		else
			rc = strbuf_addch(out, (char)c);
		if (rc < 0)
			return -1;
	}
	return strbuf_addch(out, '"');
}

struct em {
	const struct yaml_emit_opts *o;
	int depth; /* of the collection being written */
	size_t width;
	struct strbuf *out;
	int oom;
};

static void put(struct em *e, const char *s)
{
	if (strbuf_addstr(e->out, s) < 0)
		e->oom = 1;
}

static void indent(struct em *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strbuf_addch(e->out, ' ') < 0)
			e->oom = 1;
}

static void scalar(struct em *e, const struct yn_node *n, struct strbuf *to)
{
	int rc = n->style == YN_PLAIN ? strbuf_addstr(to, n->str) : yaml_quote(n->str, to);

	if (rc < 0)
		e->oom = 1;
}

static const struct yaml_comment *comment_of(const struct em *e, const struct yn_node *n)
{
	for (size_t i = 0; i < e->o->ncomments; i++)
		if (e->o->comments[i].node == n)
			return &e->o->comments[i];
	return NULL;
}

static int block_key(const struct em *e, const char *k);

/* n must be written in block style: it holds a comment or a key whose value is always a block. */
static int needs_block(const struct em *e, const struct yn_node *n)
{
	if (n->kind == YN_SCALAR)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		const struct yn_node *c = n->kind == YN_MAP ? n->pairs[i].value : n->items[i];

		if (comment_of(e, c) || needs_block(e, c) ||
		    (n->kind == YN_MAP && c->kind != YN_SCALAR && c->n &&
		     block_key(e, n->pairs[i].key->str)))
			return 1;
	}
	return 0;
}

/* n in flow style, appended to to. */
static void flow(struct em *e, const struct yn_node *n, struct strbuf *to)
{
	if (n->kind == YN_SCALAR) {
		scalar(e, n, to);
		return;
	}
	if (n->kind == YN_SEQ) {
		strbuf_addch(to, '[');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				strbuf_addstr(to, ", ");
			flow(e, n->items[i], to);
		}
		strbuf_addch(to, ']');
		return;
	}
	if (!n->n) {
		strbuf_addstr(to, "{}");
		return;
	}
	strbuf_addstr(to, "{ ");
	for (size_t i = 0; i < n->n; i++) {
		if (i)
			strbuf_addstr(to, ", ");
		if (yaml_quote(n->pairs[i].key->str, to) < 0)
			e->oom = 1;
		strbuf_addstr(to, ": ");
		flow(e, n->pairs[i].value, to);
	}
	strbuf_addstr(to, " }");
}

static void comment(struct em *e, const struct yn_node *n, size_t ind)
{
	const struct yaml_comment *c = comment_of(e, n);
	const char *p;

	if (!c)
		return;
	for (p = c->text; *p;) {
		size_t l = strcspn(p, "\n");

		indent(e, ind);
		put(e, "# ");
		if (strbuf_add(e->out, p, l) < 0)
			e->oom = 1;
		put(e, "\n");
		p += l + (p[l] == '\n');
	}
}

static int block_key(const struct em *e, const char *k)
{
	if (!e->o->block_keys)
		return 0;
	return e->o->block_keys && word_is(k, e->o->block_keys);
}

static void block(struct em *e, const struct yn_node *n, size_t ind, int depth);

/* The value of a pair or item: on the same line when it fits (col: where it would start), else
 * on the next lines. */
static void value(struct em *e, const struct yn_node *v, size_t ind, size_t col, int force_block)
{
	struct strbuf f = STRBUF_INIT;

	if (v->kind == YN_SCALAR || !v->n) {
		put(e, " ");
		flow(e, v, e->out);
		put(e, "\n");
		return;
	}
	if (!force_block && !needs_block(e, v)) {
		flow(e, v, &f);
		if (col + 1 + f.len <= e->width && !strchr(f.buf, '\n')) {
			put(e, " ");
			put(e, f.buf);
			put(e, "\n");
			strbuf_release(&f);
			return;
		}
	}
	strbuf_release(&f);
	put(e, "\n");
	block(e, v, ind + 2, e->depth + 1);
}

static void block(struct em *e, const struct yn_node *n, size_t ind, int depth)
{
	int top = depth == 0, saved = e->depth;

	e->depth = depth;
	if (n->kind == YN_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			const struct yn_pair *p = &n->pairs[i];
			size_t before = e->out->len;

			if (top && i && e->o->blank_between_top)
				put(e, "\n");
			comment(e, p->value, ind);
			indent(e, ind);
			if (yaml_quote(p->key->str, e->out) < 0)
				e->oom = 1;
			put(e, ":");
			value(e, p->value, ind, e->out->len - before,
			      block_key(e, p->key->str) ||
				      (p->value->kind == YN_MAP && depth + 1 < e->o->block_depth));
		}
		e->depth = saved;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct yn_node *it = n->items[i];
		struct strbuf f = STRBUF_INIT;

		comment(e, it, ind);
		indent(e, ind);
		put(e, "-");
		if (it->kind == YN_MAP && it->n && !needs_block(e, it)) {
			flow(e, it, &f);
			if (ind + 2 + f.len > e->width) {
				/* a block map whose first key follows the dash */
				struct em sub = *e;
				struct strbuf tmp = STRBUF_INIT;

				sub.out = &tmp;
				block(&sub, it, ind + 2, depth + 1);
				e->oom |= sub.oom;
				put(e, " ");
				put(e, tmp.buf + ind + 2);
				strbuf_release(&tmp);
				strbuf_release(&f);
				continue;
			}
		}
		strbuf_release(&f);
		value(e, it, ind, ind + 1, 0);
	}
	e->depth = saved;
}

int yaml_emit(const struct yn_node *root, const struct yaml_emit_opts *opts, struct strbuf *out)
{
	struct yaml_emit_opts none = {0, NULL, 0, NULL, 0, 0};
	struct em e = {opts ? opts : &none, 0, 0, out, 0};

	e.width = e.o->width ? e.o->width : 100;
	if (root && root->kind == YN_MAP)
		block(&e, root, 0, 0);
	return e.oom ? -1 : 0;
}
