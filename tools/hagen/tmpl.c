/* The template language: parse once into a small tree, render against a yamlnode context.
 * See tmpl.h for the contract and docs/hagen.md for the language. */
#include "tmpl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "templates_embed.h"

enum tnode_type { T_TEXT, T_VAR, T_IF, T_UNLESS, T_EACH, T_PARTIAL };

struct tnode {
	enum tnode_type type;
	const char *s; /* text (T_TEXT) or name; points into the template's buffer */
	size_t len;
	unsigned line, col; /* of the tag in the template */
	struct tnode *body; /* blocks: the main branch */
	struct tnode *alt;  /* {{else}} branch */
	struct tnode *next;
};

struct tmpl {
	char *name; /* "global" */
	char *file; /* shown in diagnostics */
	char *buf;  /* owned text */
	size_t len;
	struct tnode *root;
	int bad; /* failed to load or parse (already reported) */
	struct tmpl *next;
};

struct tmpl_set {
	char *dir;
	struct tmpl *list;
};

struct tmpl_set *tmpl_set_new(const char *dir)
{
	struct tmpl_set *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	if (dir && !(ts->dir = strdup(dir))) {
		free(ts);
		return NULL;
	}
	return ts;
}

static void tnode_free(struct tnode *n)
{
	while (n) {
		struct tnode *next = n->next;

		tnode_free(n->body);
		tnode_free(n->alt);
		free(n);
		n = next;
	}
}

void tmpl_set_free(struct tmpl_set *ts)
{
	if (!ts)
		return;
	while (ts->list) {
		struct tmpl *t = ts->list;

		ts->list = t->next;
		tnode_free(t->root);
		free(t->name);
		free(t->file);
		free(t->buf);
		free(t);
	}
	free(ts->dir);
	free(ts);
}

void tmpl_out_release(struct tmpl_out *out)
{
	strbuf_release(&out->text);
	free(out->lines);
	out->lines = NULL;
	out->nlines = out->alloc = 0;
}

/* ---- parsing ---- */

struct cursor {
	const char *buf;
	size_t off;
	unsigned line, col;
};

static void cursor_to(struct cursor *c, size_t off)
{
	for (; c->off < off; c->off++) {
		if (c->buf[c->off] == '\n') {
			c->line++;
			c->col = 1;
		} else {
			c->col++;
		}
	}
}

struct open_block {
	struct tnode *node;
	struct tnode **tail;
	int in_else;
};

static int is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int valid_name(const char *s, size_t len, int partial)
{
	if (!len)
		return 0;
	if (!partial && len == 1 && s[0] == '.')
		return 1;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      (!partial && ch == '.')))
			return 0;
	}
	return 1;
}

static struct tnode *tnode_new(enum tnode_type type, const char *s, size_t len, struct cursor *c)
{
	struct tnode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->s = s;
	n->len = len;
	n->line = c->line;
	n->col = c->col;
	return n;
}

static const char *block_word(enum tnode_type t)
{
	return t == T_IF ? "if" : t == T_UNLESS ? "unless" : "each";
}

static int parse(struct tmpl *t, struct diag_list *dl)
{
	struct open_block stack[TMPL_MAX_NEST + 1];
	size_t depth = 0, pos = 0;
	struct cursor cur = {t->buf, 0, 1, 1};
	const char *b = t->buf;
	int rc = 0;

	stack[0].node = NULL;
	stack[0].tail = &t->root;
	stack[0].in_else = 0;
	while (pos < t->len) {
		const char *q = memmem(b + pos, t->len - pos, "{{", 2);
		size_t qo = q ? (size_t)(q - b) : t->len, ro, after, tstart, tend, tlen,
		       text_end = qo;
		const char *r, *tag;
		int standalone = 0;
		struct tnode *n = NULL;

		if (!q) {
			n = tnode_new(T_TEXT, b + pos, t->len - pos, &cur);
			if (!n)
				goto oom;
			*stack[depth].tail = n;
			stack[depth].tail = &n->next;
			break;
		}
		r = memmem(q + 2, t->len - qo - 2, "}}", 2);
		if (!r) {
			cursor_to(&cur, qo);
			diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
				 "unclosed '{{' in template");
			return -1;
		}
		ro = (size_t)(r - b);
		after = ro + 2;
		tstart = qo + 2;
		tend = ro;
		while (tstart < tend && is_ws(b[tstart]))
			tstart++;
		while (tend > tstart && is_ws(b[tend - 1]))
			tend--;
		tag = b + tstart;
		tlen = tend - tstart;
		if (tlen && (tag[0] == '#' || tag[0] == '/' || tag[0] == '!' || tag[0] == '>' ||
			     (tlen == 4 && !memcmp(tag, "else", 4)))) {
			size_t ls = qo, le = after;

			while (ls > pos && is_ws(b[ls - 1]))
				ls--;
			while (le < t->len && is_ws(b[le]))
				le++;
			if ((ls == 0 || b[ls - 1] == '\n') && (le == t->len || b[le] == '\n')) {
				standalone = 1;
				text_end = ls;
				after = le < t->len ? le + 1 : le;
			}
		}
		if (text_end > pos) {
			n = tnode_new(T_TEXT, b + pos, text_end - pos, &cur);
			if (!n)
				goto oom;
			*stack[depth].tail = n;
			stack[depth].tail = &n->next;
		}
		cursor_to(&cur, qo);
		(void)standalone;
		if (tlen && tag[0] == '!') {
			/* comment */
		} else if (tlen == 4 && !memcmp(tag, "else", 4)) {
			if (!depth || stack[depth].in_else) {
				diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
					 "'{{else}}' outside an if/unless/each block");
				rc = -1;
			} else {
				stack[depth].in_else = 1;
				stack[depth].tail = &stack[depth].node->alt;
			}
		} else if (tlen && tag[0] == '#') {
			const char *w = tag + 1, *sp = memchr(tag, ' ', tlen);
			size_t wl = sp ? (size_t)(sp - w) : tlen - 1;
			const char *arg = sp ? sp : tag + tlen;
			size_t al = (size_t)(tag + tlen - arg);
			enum tnode_type ty;

			while (al && is_ws(*arg)) {
				arg++;
				al--;
			}
			if (wl == 2 && !memcmp(w, "if", 2))
				ty = T_IF;
			else if (wl == 6 && !memcmp(w, "unless", 6))
				ty = T_UNLESS;
			else if (wl == 4 && !memcmp(w, "each", 4))
				ty = T_EACH;
			else {
				diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
					 "unknown block '#%.*s' (expected #if, #unless or #each)",
					 (int)(wl > 40 ? 40 : wl), w);
				return -1;
			}
			if (!valid_name(arg, al, 0)) {
				diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
					 "'#%s' needs a variable name", block_word(ty));
				return -1;
			}
			if (depth >= TMPL_MAX_NEST) {
				diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
					 "blocks nested deeper than %d", TMPL_MAX_NEST);
				return -1;
			}
			n = tnode_new(ty, arg, al, &cur);
			if (!n)
				goto oom;
			*stack[depth].tail = n;
			stack[depth].tail = &n->next;
			depth++;
			stack[depth].node = n;
			stack[depth].tail = &n->body;
			stack[depth].in_else = 0;
		} else if (tlen && tag[0] == '/') {
			const char *w = tag + 1;
			size_t wl = tlen - 1;

			if (!depth) {
				diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
					 "'{{/%.*s}}' closes no block", (int)(wl > 40 ? 40 : wl),
					 w);
				return -1;
			}
			if (strlen(block_word(stack[depth].node->type)) != wl ||
			    memcmp(w, block_word(stack[depth].node->type), wl)) {
				diag_add(
					dl, DIAG_ERROR, t->file, cur.line, cur.col,
					"'{{/%.*s}}' closes '{{#%s}}' opened at line %u, column %u",
					(int)(wl > 40 ? 40 : wl), w,
					block_word(stack[depth].node->type),
					stack[depth].node->line, stack[depth].node->col);
				return -1;
			}
			depth--;
		} else if (tlen && tag[0] == '>') {
			const char *arg = tag + 1;
			size_t al = tlen - 1;

			while (al && is_ws(*arg)) {
				arg++;
				al--;
			}
			if (!valid_name(arg, al, 1)) {
				diag_add(dl, DIAG_ERROR, t->file, cur.line, cur.col,
					 "'{{>' needs a template name of letters, digits, '_' and "
					 "'-'");
				return -1;
			}
			n = tnode_new(T_PARTIAL, arg, al, &cur);
			if (!n)
				goto oom;
			*stack[depth].tail = n;
			stack[depth].tail = &n->next;
		} else {
			if (!valid_name(tag, tlen, 0)) {
				diag_add(
					dl, DIAG_ERROR, t->file, cur.line, cur.col,
					"bad variable name '%.*s' (letters, digits, '_', '-', '.')",
					(int)(tlen > 40 ? 40 : tlen), tag);
				return -1;
			}
			n = tnode_new(T_VAR, tag, tlen, &cur);
			if (!n)
				goto oom;
			*stack[depth].tail = n;
			stack[depth].tail = &n->next;
		}
		pos = after;
	}
	if (depth) {
		diag_add(dl, DIAG_ERROR, t->file, stack[depth].node->line, stack[depth].node->col,
			 "'{{#%s}}' is never closed", block_word(stack[depth].node->type));
		return -1;
	}
	return rc;
oom:
	diag_add(dl, DIAG_ERROR, t->file, 0, 0, "out of memory");
	return -1;
}

static int read_file(const char *path, char **buf, size_t *len, int *missing, const char **why)
{
	FILE *fp = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char chunk[8192];
	size_t r;

	*missing = 0;
	if (!fp) {
		*missing = errno == ENOENT;
		*why = strerror(errno);
		return -1;
	}
	while ((r = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (sb.len + r > TMPL_MAX_BYTES) {
			*why = "larger than 1 MiB";
			goto fail;
		}
		if (strbuf_add(&sb, chunk, r) < 0) {
			*why = "out of memory";
			goto fail;
		}
	}
	if (ferror(fp)) {
		*why = strerror(errno);
		goto fail;
	}
	fclose(fp);
	*len = sb.len;
	*buf = strbuf_detach(&sb, NULL);
	return *buf ? 0 : -1;
fail:
	fclose(fp);
	strbuf_release(&sb);
	return -1;
}

static struct tmpl *tmpl_get(struct tmpl_set *ts, const char *name, size_t nlen,
			     struct diag_list *dl, const char *from_file, unsigned from_line,
			     unsigned from_col)
{
	struct tmpl *t;
	struct strbuf path = STRBUF_INIT;
	int missing = 1;
	const char *why = NULL;

	for (t = ts->list; t; t = t->next)
		if (strlen(t->name) == nlen && !memcmp(t->name, name, nlen))
			return t->bad ? NULL : t;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->name = strndup(name, nlen))) {
		free(t);
		diag_add(dl, DIAG_ERROR, from_file, from_line, from_col, "out of memory");
		return NULL;
	}
	t->next = ts->list;
	ts->list = t;
	if (ts->dir) {
		strbuf_addf(&path, "%s/%s.tmpl", ts->dir, t->name);
		if (read_file(path.buf, &t->buf, &t->len, &missing, &why) == 0)
			t->file = strbuf_detach(&path, NULL);
		else if (!missing) {
			diag_add(dl, DIAG_ERROR, path.buf, 0, 0, "cannot read template: %s", why);
			strbuf_release(&path);
			t->bad = 1;
			return NULL;
		}
		strbuf_release(&path);
	}
	if (!t->buf) {
		for (const struct tmpl_embed *e = tmpl_embedded; e->name; e++) {
			if (strlen(e->name) == nlen + 5 && !memcmp(e->name, name, nlen) &&
			    !strcmp(e->name + nlen, ".tmpl")) {
				t->buf = malloc(e->len + 1);
				if (t->buf) {
					memcpy(t->buf, e->text, e->len);
					t->buf[e->len] = '\0';
					t->len = e->len;
				}
				strbuf_addf(&path, "templates/%s", e->name);
				t->file = strbuf_detach(&path, NULL);
				break;
			}
		}
	}
	if (!t->buf) {
		diag_add(dl, DIAG_ERROR, from_file, from_line, from_col,
			 "no template named '%s'%s%s", t->name, ts->dir ? " in " : " built in",
			 ts->dir ? ts->dir : "");
		t->bad = 1;
		return NULL;
	}
	if (parse(t, dl) < 0) {
		t->bad = 1;
		return NULL;
	}
	return t;
}

/* ---- rendering ---- */

struct rstate {
	struct tmpl_set *ts;
	struct tmpl_out *out;
	struct diag_list *dl;
	const struct yn_node *ctx[TMPL_MAX_NEST * (TMPL_MAX_PARTIALS + 1) + 2];
	size_t nctx;
	unsigned partials;
	struct tmpl_origin line_origin; /* first data position used on the current output line */
};

int tmpl_truthy(const struct yn_node *n)
{
	if (!n)
		return 0;
	if (n->kind != YN_SCALAR)
		return n->n > 0;
	if (yn_is_null(n))
		return 0;
	return n->len && strcmp(n->str, "false");
}

static int end_line(struct rstate *rs)
{
	struct tmpl_out *o = rs->out;
	struct tmpl_origin org = rs->line_origin;

	if (!org.line)
		for (size_t i = rs->nctx; i-- > 0;)
			if (rs->ctx[i] && rs->ctx[i]->line) {
				org.line = rs->ctx[i]->line;
				org.col = rs->ctx[i]->col;
				break;
			}
	if (o->nlines == o->alloc) {
		size_t na = o->alloc ? o->alloc * 2 : 256;
		struct tmpl_origin *p = realloc(o->lines, na * sizeof(*p));

		if (!p)
			return -1;
		o->lines = p;
		o->alloc = na;
	}
	o->lines[o->nlines++] = org;
	rs->line_origin.line = rs->line_origin.col = 0;
	return 0;
}

static int emit(struct rstate *rs, const char *s, size_t len)
{
	if (rs->out->text.len + len > TMPL_MAX_OUTPUT)
		return -1;
	while (len) {
		const char *nl = memchr(s, '\n', len);
		size_t chunk = nl ? (size_t)(nl - s) + 1 : len;

		if (strbuf_add(&rs->out->text, s, chunk) < 0)
			return -1;
		if (nl && end_line(rs) < 0)
			return -1;
		s += chunk;
		len -= chunk;
	}
	return 0;
}

/* Copies the first dot-separated segment of name[0..len) into seg (NUL-terminated). Returns 0,
 * or -1 when it does not fit; *dot is the '.' after it, or NULL. */
static int first_segment(const char *name, size_t len, char *seg, size_t segsz, const char **dot)
{
	size_t sl;

	*dot = memchr(name, '.', len);
	sl = *dot ? (size_t)(*dot - name) : len;
	if (sl >= segsz)
		return -1;
	memcpy(seg, name, sl);
	seg[sl] = '\0';
	return 0;
}

static const struct yn_node *lookup(struct rstate *rs, const char *name, size_t len)
{
	const struct yn_node *n = NULL;
	const char *dot;
	char seg[128];

	if (len == 1 && name[0] == '.')
		return rs->nctx ? rs->ctx[rs->nctx - 1] : NULL;
	if (first_segment(name, len, seg, sizeof(seg), &dot) < 0)
		return NULL;
	for (size_t i = rs->nctx; i-- > 0;) {
		if (rs->ctx[i] && rs->ctx[i]->kind == YN_MAP && (n = yn_get(rs->ctx[i], seg)))
			break;
	}
	while (n && dot) {
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
		if (first_segment(name, len, seg, sizeof(seg), &dot) < 0)
			return NULL;
		n = yn_get(n, seg);
	}
	return n;
}

static int render_list(struct rstate *rs, const struct tmpl *t, const struct tnode *n);

static int render_node(struct rstate *rs, const struct tmpl *t, const struct tnode *n)
{
	const struct yn_node *v;

	switch (n->type) {
	case T_TEXT:
		if (emit(rs, n->s, n->len) < 0)
			goto oom;
		return 0;
	case T_VAR:
		v = lookup(rs, n->s, n->len);
		if (!v) {
			diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col,
				 "unknown variable '%.*s'", (int)n->len, n->s);
			return -1;
		}
		if (v->kind != YN_SCALAR) {
			diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col,
				 "'%.*s' is a %s, not a value (use #each or #if)", (int)n->len,
				 n->s, yn_kind_name(v));
			return -1;
		}
		/* a value is one piece of a directive: a line break would start another one */
		if (strpbrk(v->str, "\r\n")) {
			diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col,
				 "the value of '%.*s' contains a line break", (int)n->len, n->s);
			return -1;
		}
		if (!rs->line_origin.line && v->line) {
			rs->line_origin.line = v->line;
			rs->line_origin.col = v->col;
		}
		if (emit(rs, v->str, strlen(v->str)) < 0)
			goto oom;
		return 0;
	case T_IF:
	case T_UNLESS:
		v = lookup(rs, n->s, n->len);
		if (tmpl_truthy(v) == (n->type == T_IF))
			return render_list(rs, t, n->body);
		return render_list(rs, t, n->alt);
	case T_EACH:
		v = lookup(rs, n->s, n->len);
		if (v && v->kind != YN_SEQ) {
			if (yn_is_null(v))
				return render_list(rs, t, n->alt);
			diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col,
				 "'#each %.*s' needs a list, not a %s", (int)n->len, n->s,
				 yn_kind_name(v));
			return -1;
		}
		if (!v || !v->n)
			return render_list(rs, t, n->alt);
		if (rs->nctx >= sizeof(rs->ctx) / sizeof(rs->ctx[0]))
			goto deep;
		for (size_t i = 0; i < v->n; i++) {
			int rc;

			rs->ctx[rs->nctx++] = v->items[i];
			rc = render_list(rs, t, n->body);
			rs->nctx--;
			if (rc < 0)
				return -1;
		}
		return 0;
	case T_PARTIAL: {
		struct tmpl *p;
		int rc;

		if (rs->partials >= TMPL_MAX_PARTIALS) {
			diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col,
				 "templates included more than %d deep (a loop?)",
				 TMPL_MAX_PARTIALS);
			return -1;
		}
		p = tmpl_get(rs->ts, n->s, n->len, rs->dl, t->file, n->line, n->col);
		if (!p)
			return -1;
		rs->partials++;
		rc = render_list(rs, p, p->root);
		rs->partials--;
		return rc;
	}
	}
	return 0;
deep:
	diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col, "blocks nested too deep");
	return -1;
oom:
	diag_add(rs->dl, DIAG_ERROR, t->file, n->line, n->col,
		 "out of memory or output larger than %u bytes", TMPL_MAX_OUTPUT);
	return -1;
}

static int render_list(struct rstate *rs, const struct tmpl *t, const struct tnode *n)
{
	for (; n; n = n->next)
		if (render_node(rs, t, n) < 0)
			return -1;
	return 0;
}

int tmpl_render(struct tmpl_set *ts, const char *name, const struct yn_node *ctx,
		struct tmpl_out *out, struct diag_list *dl)
{
	struct rstate *rs;
	struct tmpl *t;
	int rc = -1;

	t = tmpl_get(ts, name, strlen(name), dl, NULL, 0, 0);
	if (!t)
		return -1;
	rs = calloc(1, sizeof(*rs));
	if (!rs) {
		diag_add(dl, DIAG_ERROR, t->file, 0, 0, "out of memory");
		return -1;
	}
	rs->ts = ts;
	rs->out = out;
	rs->dl = dl;
	rs->ctx[rs->nctx++] = ctx;
	rc = render_list(rs, t, t->root);
	/* a last line without '\n' still gets its origin */
	if (!rc && out->text.len && out->text.buf[out->text.len - 1] != '\n' && end_line(rs) < 0)
		rc = -1;
	free(rs);
	return rc;
}
