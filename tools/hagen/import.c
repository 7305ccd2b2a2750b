/* hagen import; see import.h. Each section is read once: typed mappers mark the lines they
 * express as used, then every line left goes to the extra list of its entry, in order. Where
 * hagen renders typed lines before extra ones (rules of one family, servers), a line can be typed
 * only while every earlier line of its family was: the first line that cannot be typed sends
 * itself and the rest of its family to extra, so the order HAProxy evaluates stays the same. */
#include "import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgnorm.h"
#include "inventory/inventory.h"
#include "parse.h"
#include "yamlemit.h"
#include "yamlnode.h"

#define IMPORT_MAX_PROXIES 20000
#define IMPORT_MAX_NAME 64

struct route {
	size_t line;	 /* index of the use_backend line in its section */
	struct px *svc;	 /* the service it names, or NULL (dynamic, unknown) */
	int typed;	 /* expressed as the service's match */
	char *spec;	 /* canonical text of the match it would be ("host a|path_beg /x") */
	int cat;	 /* hagen's order: 0 host+path, 1 host, 2 path */
	size_t longest;	 /* longest path pattern */
	const char *acl_host, *acl_path; /* ACL names the condition uses */
	struct yn_node *match;		 /* the match map it would be (owned until given away) */
};

struct px {
	const struct cfg_section *s;
	const char *name; /* hagen's name (cfgnorm_canon_name) */
	int tcp;
	int fe, be;  /* halves: an entrypoint, a service */
	int stats;   /* typed as the inventory's stats */
	int has_stick;
	unsigned char *used; /* per line: expressed by a typed key */
	struct yn_node *ep, *svc;
	struct yn_node *ep_extra, *svc_extra;
	/* frontend half: routing */
	struct route *routes;
	size_t nroutes;
	long dflt_line;	   /* own default_backend line, or -1 */
	struct px *dflt;   /* the default service (own line, or itself for a listen) */
	int dflt_typed;
	/* backend half */
	int attached_default; /* default of the entrypoints it is attached to */
	struct yn_node *match;
	const char *resolvers; /* from its default-server line */
	int discovery;	       /* typed server-template */
};

struct imp {
	const struct cfg *cfg;
	const char *file;
	struct diag_list *dl;
	const struct import_opts *o;
	struct px *px;
	size_t npx;
	const struct cfg_section *dh, *dt; /* the defaults sections of http and tcp proxies */
	int have_http, have_tcp;
	int default_tcp; /* the inventory's defaults.mode is tcp */
	int logging;	 /* global.log got typed targets */
	struct yn_node *root, *global, *defaults, *resolvers, *userlists, *stats, *eps, *svcs;
	struct yn_node *gextra;
	unsigned char *gused[64]; /* per global section */
	const struct cfg_section *gsect[64];
	size_t ngsect;
	unsigned char *dhused, *dtused;
	struct yaml_comment *cm;
	char **cmtext;
	size_t ncm, acm;
	int oom;
	int refused;
};

/* ---- diagnostics ---- */

static void say(struct imp *im, enum diag_level lvl, unsigned line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void say(struct imp *im, enum diag_level lvl, unsigned line, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	diag_add(im->dl, lvl, im->file, line, 0, "%s", msg);
	if (lvl == DIAG_ERROR)
		im->refused = 1;
}

static void note(struct imp *im, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct imp *im, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(im, DIAG_NOTE, line, fmt, ap);
	va_end(ap);
}

/* A refusal: the configuration cannot be imported. */
static void refuse(struct imp *im, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(struct imp *im, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(im, DIAG_ERROR, line, fmt, ap);
	va_end(ap);
}

/* A comment above node in the YAML output, and the same text as a note on stderr. */
static void approx(struct imp *im, const struct yn_node *node, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void approx(struct imp *im, const struct yn_node *node, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(im->dl, DIAG_NOTE, im->file, line, 0, "approximated: %s", msg);
	if (!node)
		return;
	if (im->ncm == im->acm) {
		size_t na = im->acm ? im->acm * 2 : 16;
		struct yaml_comment *p = realloc(im->cm, na * sizeof(*p));
		char **t = realloc(im->cmtext, na * sizeof(*t));

		if (p)
			im->cm = p;
		if (t)
			im->cmtext = t;
		if (!p || !t) {
			im->oom = 1;
			return;
		}
		im->acm = na;
	}
	/* several notes on one node: one comment, several lines */
	for (size_t i = 0; i < im->ncm; i++)
		if (im->cm[i].node == node) {
			size_t l = strlen(im->cmtext[i]);
			char *t = realloc(im->cmtext[i], l + strlen(msg) + 16);

			if (!t) {
				im->oom = 1;
				return;
			}
			snprintf(t + l, strlen(msg) + 16, "\napproximated: %s", msg);
			im->cmtext[i] = t;
			im->cm[i].text = t;
			return;
		}
	im->cmtext[im->ncm] = malloc(strlen(msg) + 16);
	if (!im->cmtext[im->ncm]) {
		im->oom = 1;
		return;
	}
	snprintf(im->cmtext[im->ncm], strlen(msg) + 16, "approximated: %s", msg);
	im->cm[im->ncm].node = node;
	im->cm[im->ncm].text = im->cmtext[im->ncm];
	im->ncm++;
}

/* ---- building the inventory tree ---- */

static struct yn_node *ystr(struct imp *im, const char *s)
{
	struct yn_node *n = yn_new_scalar(s, 0, 0);

	if (!n)
		im->oom = 1;
	else
		n->style = YN_SINGLE_QUOTED;
	return n;
}

static struct yn_node *ynum(struct imp *im, long long v)
{
	char b[32];
	struct yn_node *n;

	snprintf(b, sizeof(b), "%lld", v);
	n = yn_new_scalar(b, 0, 0);
	if (!n)
		im->oom = 1;
	return n;
}

static struct yn_node *ybool(struct imp *im, int v)
{
	struct yn_node *n = yn_new_scalar(v ? "true" : "false", 0, 0);

	if (!n)
		im->oom = 1;
	return n;
}

static struct yn_node *ymap(struct imp *im)
{
	struct yn_node *n = yn_new_map(0, 0);

	if (!n)
		im->oom = 1;
	return n;
}

static struct yn_node *yseq(struct imp *im)
{
	struct yn_node *n = yn_new_seq(0, 0);

	if (!n)
		im->oom = 1;
	return n;
}

/* Sets map[key] = v (v may be NULL after an allocation failure). Returns v. */
static struct yn_node *yset(struct imp *im, struct yn_node *map, const char *key,
			    struct yn_node *v)
{
	if (!map || !v) {
		yn_free(v);
		return NULL;
	}
	if (yn_map_set(map, key, v) < 0) {
		im->oom = 1;
		return NULL;
	}
	return yn_get(map, key);
}

static struct yn_node *ypush(struct imp *im, struct yn_node *seq, struct yn_node *v)
{
	if (!seq || !v) {
		yn_free(v);
		return NULL;
	}
	if (yn_seq_push(seq, v) < 0) {
		im->oom = 1;
		return NULL;
	}
	return seq->items[seq->n - 1];
}

/* map[key] as a map, created when absent. */
static struct yn_node *ysub(struct imp *im, struct yn_node *map, const char *key)
{
	struct yn_node *m = yn_get(map, key);

	return m ? m : yset(im, map, key, ymap(im));
}

static struct yn_node *ysubseq(struct imp *im, struct yn_node *map, const char *key)
{
	struct yn_node *m = yn_get(map, key);

	return m ? m : yset(im, map, key, yseq(im));
}

/* ---- words ---- */

static int wis(const struct cfg_line *l, size_t i, const char *s)
{
	return i < l->nw && !strcmp(l->w[i], s);
}

/* The word is safe to type: written without environment variables. */
static int wplainish(const struct cfg_line *l, size_t i)
{
	return i < l->nw && !(l->wflags[i] & CFG_W_ENV);
}

static int name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '.' || s[n] == ':' ||
		      s[n] == '-'))
			return 0;
	return n > 0 && n <= IMPORT_MAX_NAME;
}

/* One word an inventory token may hold (no blank, quote, '#', '\\' or control byte). */
static int token_ok(const char *s)
{
	if (!*s || strlen(s) > 4096)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\'' || *p == '#' ||
		    *p == '\\' || *p == 0x7f)
			return 0;
	return 1;
}

/* Free text hagen can quote back (see quote_text in lib/inventory/inventory.c). */
static int text_ok(const char *s)
{
	if (strlen(s) > 4096)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return 0;
	return !(strchr(s, '\'') && strpbrk(s, "\"\\$"));
}

static int int_ok(const char *s, long long min, long long max, long long *v)
{
	int64_t x;

	if (parse_int64(s, min, max, &x) < 0)
		return 0;
	*v = x;
	return 1;
}

static int dur_ok(const char *s)
{
	uint64_t ms;

	return parse_duration_ms(s, &ms) == 0 && ms <= 2147483647u;
}

static int same_ms(const char *a, const char *b)
{
	char x[32], y[32];

	return cfgnorm_ms(a, x) && cfgnorm_ms(b, y) && !strcmp(x, y);
}

/* The keyword of l ("timeout client", "option httplog", "http-request") into key. */
static const struct cfg_kw *kw_of(const struct cfg_line *l, int *neg, char *key, size_t keysz)
{
	size_t nw, first = (size_t)(wis(l, 0, "no") || wis(l, 0, "default"));
	const struct cfg_kw *kw = cfg_kw_find(l, neg, &nw);

	key[0] = '\0';
	for (size_t i = first; i < first + nw && i < l->nw; i++) {
		size_t o = strlen(key);

		snprintf(key + o, keysz - o, "%s%s", i > first ? " " : "", l->w[i]);
	}
	return kw;
}

/* ---- proxies ---- */

static struct px *px_by_name(struct imp *im, const char *name, int want_backend)
{
	struct px *any = NULL;

	for (size_t i = 0; i < im->npx; i++) {
		if (strcmp(im->px[i].s->name, name))
			continue;
		if (want_backend ? im->px[i].be : im->px[i].fe)
			return &im->px[i];
		any = &im->px[i];
	}
	return any;
}

/* The name hagen renders for a reference of kind to proxy p. */
static void rendered_name(const struct px *p, enum cfg_ref kind, struct strbuf *sb)
{
	int be;

	if (p->stats) {
		strbuf_addstr(sb, "stats");
		return;
	}
	if (p->s->kind == CFG_FRONTEND)
		be = 0;
	else if (p->s->kind == CFG_BACKEND)
		be = 1;
	else if (kind == CFG_REF_FRONTEND)
		be = !p->fe;
	else if (kind == CFG_REF_TABLE)
		be = p->has_stick ? p->be : !p->fe;
	else
		be = p->be || !p->fe;
	strbuf_addf(sb, "%s%s", be ? "be_" : "fe_", p->name);
}

struct rw {
	struct imp *im;
	const struct cfg_line *l;
	struct strbuf *out;
	size_t pos;    /* raw bytes copied so far */
	int unrenamed; /* a reference inside a quoted word was left as written */
};

static void rw_ref(void *ctx, const struct cfg_line *l, size_t word, size_t start, size_t end,
		   enum cfg_ref kind)
{
	struct rw *rw = ctx;
	char name[256];
	struct px *p;
	size_t len = end - start, at;

	if (len >= sizeof(name))
		return;
	memcpy(name, l->w[word] + start, len);
	name[len] = '\0';
	p = px_by_name(rw->im, name, kind != CFG_REF_FRONTEND);
	if (!p)
		return;
	if (!(l->wflags[word] & CFG_W_PLAIN)) {
		rw->unrenamed = 1;
		return;
	}
	at = l->woff[word] + start;
	if (at < rw->pos)
		return;
	strbuf_add(rw->out, l->raw + rw->pos, at - rw->pos);
	rendered_name(p, kind, rw->out);
	rw->pos = at + len;
}

/* The line as written, with the proxy names it refers to as hagen renders them and the tabs
 * between its words made spaces (an inventory string holds no control character). */
static void rewrite(struct imp *im, const struct cfg_line *orig, struct strbuf *out)
{
	struct cfg_line copy = *orig, *l = &copy;
	struct rw rw = {im, l, out, 0, 0};
	char *raw = strdup(orig->raw);
	size_t w = 0;

	if (!raw) {
		im->oom = 1;
		return;
	}
	for (size_t i = 0; raw[i]; i++) {
		while (w < l->nw && i >= l->wend[w])
			w++;
		if (raw[i] == '\t' && (w >= l->nw || i < l->woff[w]))
			raw[i] = ' ';
		else if (raw[i] == '\t')
			refuse(im, l->lineno,
			       "a tab inside a quoted word cannot be kept in an inventory line: write "
			       "it \\t");
	}
	copy.raw = raw;
	rw.l = l;
	cfg_proxy_refs(l, rw_ref, &rw);
	strbuf_addstr(out, l->raw + rw.pos);
	free(raw);
	if (rw.unrenamed)
		note(im, l->lineno,
		     "a proxy name inside a quoted word is kept as written: hagen renames "
		     "proxies (fe_NAME, be_NAME)");
	for (size_t i = 0; i < l->nw; i++)
		if (!strncmp(l->w[i], "%[", 2) && (wis(l, 0, "use_backend") || wis(l, 0, "default_backend"))) {
			note(im, l->lineno,
			     "a backend chosen at run time keeps its expression: hagen names "
			     "backends be_NAME, so maps and variables must give the new names");
			break;
		}
}

/* Appends line l to the extra list seq (created in map under key when NULL), with a note. */
static void keep_extra(struct imp *im, struct yn_node **seq, struct yn_node *map, const char *key,
		       const struct cfg_line *l)
{
	struct strbuf sb = STRBUF_INIT;

	if (!*seq)
		*seq = ysubseq(im, map, key);
	rewrite(im, l, &sb);
	ypush(im, *seq, ystr(im, sb.buf));
	note(im, l->lineno, "kept as extra: %s", sb.buf);
	strbuf_release(&sb);
}

/* ---- refusals and the shape of the file ---- */

static int check_shape(struct imp *im)
{
	const struct cfg *cfg = im->cfg;

	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_section *s = &cfg->s[i];

		if (s->kind == CFG_TOP && s->n)
			refuse(im, s->lines[0].lineno,
			       "'%s' before the first section: an inventory has no place for it",
			       s->lines[0].w[0]);
		if (s->kind != CFG_TOP && s->head.cond)
			refuse(im, s->head.lineno,
			       "section '%s%s%s' is inside a conditional block: hagen keeps "
			       "conditional blocks only inside one section",
			       s->head.w[0], s->name[0] ? " " : "", s->name);
		if (s->kind == CFG_OTHER) {
			if (!strcmp(s->head.w[0], "program"))
				refuse(im, s->head.lineno,
				       "'program %s' sections are refused: HAProxy deprecates them "
				       "(3.1) and hagen never renders them; run the program under your "
				       "service manager",
				       s->name);
			else
				refuse(im, s->head.lineno,
				       "'%s' sections cannot be expressed in an inventory (hagen has "
				       "no key for them, and extra lines stay inside their entry)",
				       s->head.w[0]);
		}
		/* a conditional block must end in the section it starts in */
		if (s->kind != CFG_TOP && s->n && s->lines[s->n - 1].cond &&
		    s->lines[s->n - 1].directive != 4)
			refuse(im, s->lines[s->n - 1].lineno,
			       "a conditional block runs past the end of section '%s%s%s'",
			       s->head.w[0], s->name[0] ? " " : "", s->name);
		if ((s->kind == CFG_FRONTEND || s->kind == CFG_BACKEND || s->kind == CFG_LISTEN ||
		     s->kind == CFG_USERLIST || s->kind == CFG_RESOLVERS) &&
		    !name_ok(s->name))
			refuse(im, s->head.lineno,
			       "%s name '%s' is not a name hagen accepts (letters, digits, '_', '.', "
			       "':', '-'; at most %d)",
			       s->head.w[0], s->name, IMPORT_MAX_NAME);
	}
	return im->refused ? -1 : 0;
}

/* The mode of proxy s: its own "mode" line, else its defaults', else tcp (HAProxy's). */
static int mode_tcp(const struct imp *im, const struct cfg_section *s)
{
	const char *m = NULL;

	for (const struct cfg_section *d = cfgnorm_defaults_of(im->cfg, s); d && !m;
	     d = d->from ? cfgnorm_defaults_of(im->cfg, d) : NULL)
		for (size_t i = d->n; i-- > 0 && !m;)
			if (wis(&d->lines[i], 0, "mode") && d->lines[i].nw == 2)
				m = d->lines[i].w[1];
	for (size_t i = 0; i < s->n; i++)
		if (wis(&s->lines[i], 0, "mode") && s->lines[i].nw == 2 && !s->lines[i].cond)
			m = s->lines[i].w[1];
	return !m || strcmp(m, "http");
}

static int setup_proxies(struct imp *im)
{
	const struct cfg *cfg = im->cfg;
	size_t n = 0;
	int nfe = 0, nhttp = 0, ntcp = 0;

	for (size_t i = 0; i < cfg->n; i++)
		if (cfg->s[i].kind == CFG_FRONTEND || cfg->s[i].kind == CFG_BACKEND ||
		    cfg->s[i].kind == CFG_LISTEN)
			n++;
	if (n > IMPORT_MAX_PROXIES) {
		refuse(im, 0, "more than %d proxies", IMPORT_MAX_PROXIES);
		return -1;
	}
	im->px = calloc(n ? n : 1, sizeof(*im->px));
	if (!im->px) {
		im->oom = 1;
		return -1;
	}
	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_section *s = &cfg->s[i];
		struct px *p;

		if (s->kind != CFG_FRONTEND && s->kind != CFG_BACKEND && s->kind != CFG_LISTEN)
			continue;
		p = &im->px[im->npx++];
		p->s = s;
		p->name = cfgnorm_canon_name(s);
		p->tcp = mode_tcp(im, s);
		p->dflt_line = -1;
		p->used = calloc(s->n ? s->n : 1, 1);
		if (!p->used) {
			im->oom = 1;
			return -1;
		}
		for (size_t j = 0; j < s->n; j++)
			if (wis(&s->lines[j], 0, "stick"))
				p->has_stick = 1;
		if (s->kind == CFG_FRONTEND)
			p->fe = 1;
		else if (s->kind == CFG_BACKEND)
			p->be = 1;
		else
			cfgnorm_listen_halves(s, &p->fe, &p->be);
		nfe += p->fe;
		if (p->tcp)
			ntcp++;
		else
			nhttp++;
	}
	/* names: unique per kind once hagen's prefixes are taken off */
	for (size_t i = 0; i < im->npx; i++)
		for (size_t j = 0; j < i; j++) {
			const struct px *a = &im->px[j], *b = &im->px[i];

			if (strcmp(a->name, b->name))
				continue;
			if ((a->fe && b->fe) || (a->be && b->be))
				refuse(im, b->s->head.lineno,
				       "%s '%s' and %s '%s' (line %u) would both be named '%s' in the "
				       "inventory",
				       b->s->head.w[0], b->s->name, a->s->head.w[0], a->s->name,
				       a->s->head.lineno, b->name);
		}
	if (!nfe)
		refuse(im, 0,
		       "no frontend or listen section binds an address: an inventory needs at "
		       "least one entrypoint");
	im->default_tcp = ntcp > nhttp;
	return im->refused ? -1 : 0;
}

/* ---- global ---- */

static int in_list(const char *s, const char *const *l)
{
	for (size_t i = 0; l[i]; i++)
		if (!strcmp(s, l[i]))
			return 1;
	return 0;
}

/* A log target hagen accepts: HOST:PORT (a port added when missing), /path, stdout, stderr,
 * udp@/tcp@HOST:PORT. Fills out. */
static int log_target_ok(const char *t, struct strbuf *out)
{
	char host[256];
	unsigned port;
	int v6;
	const char *why, *a = t;

	if (!token_ok(t))
		return 0;
	if (t[0] == '/' || !strcmp(t, "stdout") || !strcmp(t, "stderr"))
		return strbuf_addstr(out, t) == 0;
	if (!strncmp(t, "udp@", 4) || !strncmp(t, "tcp@", 4))
		a = t + 4;
	if (parse_hostport(a, host, sizeof(host), &port, &v6, &why) == 0 && host[0] &&
	    strcmp(host, "*"))
		return strbuf_addstr(out, t) == 0;
	/* no port: HAProxy sends to 514 */
	if (a == t && (parse_is_ip(a) || parse_is_hostname(a)) && !strchr(a, ':'))
		return strbuf_addf(out, "%s:514", a) == 0;
	return 0;
}

/* log ADDR [len N] [format F] FACILITY [LEVEL] -> { target, len, format, facility, level } */
static struct yn_node *log_item(struct imp *im, const struct cfg_line *l)
{
	struct strbuf t = STRBUF_INIT;
	const char *fmt = NULL, *len = NULL;
	size_t i = 2;
	long long lv = 0;
	struct yn_node *m = NULL;

	for (size_t k = 0; k < l->nw; k++)
		if (!wplainish(l, k))
			return NULL;
	if (l->nw < 3 || !log_target_ok(l->w[1], &t))
		goto out;
	while (i + 1 < l->nw && (wis(l, i, "len") || wis(l, i, "format"))) {
		if (wis(l, i, "len"))
			len = l->w[i + 1];
		else
			fmt = l->w[i + 1];
		i += 2;
	}
	if (i >= l->nw || !in_list(l->w[i], inv_log_facilities) || l->nw > i + 2 ||
	    (i + 1 < l->nw && !in_list(l->w[i + 1], inv_log_levels)) || (fmt && !in_list(fmt, inv_log_formats)) ||
	    (len && !int_ok(len, 80, 65535, &lv)))
		goto out;
	m = ymap(im);
	yset(im, m, "target", ystr(im, t.buf));
	if (fmt && strcmp(fmt, "rfc3164"))
		yset(im, m, "format", ystr(im, fmt));
	if (strcmp(l->w[i], "local0"))
		yset(im, m, "facility", ystr(im, l->w[i]));
	if (i + 1 < l->nw)
		yset(im, m, "level", ystr(im, l->w[i + 1]));
	if (len)
		yset(im, m, "len", ynum(im, lv));
out:
	strbuf_release(&t);
	return m;
}

/* The last line of the global sections whose first words are w0 [w1], or NULL; marks every such
 * line used when mark. */
static const struct cfg_line *global_last(struct imp *im, const char *w0, const char *w1, int mark)
{
	const struct cfg_line *last = NULL;

	for (size_t g = 0; g < im->ngsect; g++)
		for (size_t i = 0; i < im->gsect[g]->n; i++) {
			const struct cfg_line *l = &im->gsect[g]->lines[i];

			if (l->cond || !wis(l, 0, w0) || (w1 && !wis(l, 1, w1)))
				continue;
			last = l;
			if (mark)
				im->gused[g][i] = 1;
		}
	return last;
}

static void global_mark(struct imp *im, const struct cfg_line *l)
{
	for (size_t g = 0; g < im->ngsect; g++)
		for (size_t i = 0; i < im->gsect[g]->n; i++)
			if (&im->gsect[g]->lines[i] == l)
				im->gused[g][i] = 1;
}

/* stats socket PATH [mode M] [level L] expose-fd listeners, and stats timeout. */
static void map_stats_socket(struct imp *im)
{
	const struct cfg_line *l = NULL, *t;
	const char *mode = NULL, *level = NULL;
	int expose = 0, nsock = 0;
	struct yn_node *m;

	for (size_t g = 0; g < im->ngsect; g++)
		for (size_t i = 0; i < im->gsect[g]->n; i++) {
			const struct cfg_line *x = &im->gsect[g]->lines[i];

			if (!x->cond && wis(x, 0, "stats") && wis(x, 1, "socket") && !nsock++)
				l = x;
		}
	if (!l || l->nw < 3 || !token_ok(l->w[2]) ||
	    (l->w[2][0] != '/' && strncmp(l->w[2], "ipv4@", 5) && strncmp(l->w[2], "ipv6@", 5)))
		return;
	for (size_t i = 3; i < l->nw; i++) {
		if (wis(l, i, "mode") && i + 1 < l->nw && strspn(l->w[i + 1], "01234567") ==
		    strlen(l->w[i + 1]) && strlen(l->w[i + 1]) <= 4 && l->w[i + 1][0])
			mode = l->w[++i];
		else if (wis(l, i, "level") && i + 1 < l->nw &&
			 (wis(l, i + 1, "user") || wis(l, i + 1, "operator") || wis(l, i + 1, "admin")))
			level = l->w[++i];
		else if (wis(l, i, "expose-fd") && wis(l, i + 1, "listeners"))
			expose = 1, i++;
		else
			return;
	}
	/* hagen always writes mode, level and expose-fd listeners */
	if (!mode || !level || !expose)
		return;
	global_mark(im, l);
	t = global_last(im, "stats", "timeout", 0);
	if (t && (t->nw != 3 || !dur_ok(t->w[2])))
		return;
	if (t)
		global_last(im, "stats", "timeout", 1);
	if (!strcmp(mode, "660") && !strcmp(level, "admin") && t && !strcmp(t->w[2], "30s")) {
		yset(im, im->global, "stats_socket", ystr(im, l->w[2]));
		return;
	}
	m = yset(im, im->global, "stats_socket", ymap(im));
	yset(im, m, "path", ystr(im, l->w[2]));
	if (strcmp(mode, "660"))
		yset(im, m, "mode", ystr(im, mode));
	if (strcmp(level, "admin"))
		yset(im, m, "level", ystr(im, level));
	/* without "stats timeout", HAProxy's is 10s; hagen's is 30s */
	if (!t || strcmp(t->w[2], "30s"))
		yset(im, m, "timeout", ystr(im, t ? t->w[2] : "10s"));
}

/* ssl-default-bind-X V and ssl-default-server-X V with the same value: tls.KEY. */
static void map_tls_pair(struct imp *im, const char *what, const char *key, int min_ver)
{
	char b[64], s[64];
	const struct cfg_line *lb, *ls;
	const char *v;
	static const char *const vers[] = {"SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3",
					   NULL};

	snprintf(b, sizeof(b), "ssl-default-bind-%s", what);
	snprintf(s, sizeof(s), "ssl-default-server-%s", what);
	lb = global_last(im, b, NULL, 0);
	ls = global_last(im, s, NULL, 0);
	if (!lb || !ls)
		return;
	if (min_ver) {
		if (lb->nw != 3 || ls->nw != 3 || !wis(lb, 1, "ssl-min-ver") ||
		    !wis(ls, 1, "ssl-min-ver") || strcmp(lb->w[2], ls->w[2]) ||
		    !in_list(lb->w[2], vers))
			return;
		v = lb->w[2];
	} else {
		if (lb->nw != 2 || ls->nw != 2 || strcmp(lb->w[1], ls->w[1]) || !token_ok(lb->w[1]) ||
		    !wplainish(lb, 1))
			return;
		v = lb->w[1];
	}
	/* every line of that keyword says the same (the last one wins in HAProxy) */
	global_last(im, b, NULL, 1);
	global_last(im, s, NULL, 1);
	yset(im, ysub(im, im->global, "tls"), key, ystr(im, v));
}

static int defaults_logging_ok(struct imp *im);

static void map_global(struct imp *im)
{
	const struct cfg_line *l;
	long long v;
	struct yn_node *logs = NULL;
	/* typed targets make hagen write "log global" and a log format in its defaults: only
	 * when the original's defaults say exactly that */
	int logs_typed = defaults_logging_ok(im);

	for (size_t i = 0; i < im->cfg->n && im->ngsect < 64; i++)
		if (im->cfg->s[i].kind == CFG_GLOBAL) {
			im->gsect[im->ngsect] = &im->cfg->s[i];
			im->gused[im->ngsect] = calloc(im->cfg->s[i].n + 1, 1);
			if (!im->gused[im->ngsect++])
				im->oom = 1;
		}
	if (im->oom)
		return;
	/* log lines, in order, while they can be typed */
	for (size_t g = 0; g < im->ngsect; g++)
		for (size_t i = 0; i < im->gsect[g]->n; i++) {
			struct yn_node *it;

			l = &im->gsect[g]->lines[i];
			if (l->cond || !wis(l, 0, "log") || !logs_typed)
				continue;
			it = log_item(im, l);
			if (!it) {
				logs_typed = 0;
				continue;
			}
			if (!logs)
				logs = ysubseq(im, im->global, "log");
			ypush(im, logs, it);
			im->gused[g][i] = 1;
		}
	im->logging = logs && logs->n;
	if ((l = global_last(im, "maxconn", NULL, 0)) && l->nw == 2 &&
	    int_ok(l->w[1], 1, 10000000, &v)) {
		global_last(im, "maxconn", NULL, 1);
		yset(im, im->global, "maxconn", ynum(im, v));
	}
	if ((l = global_last(im, "nbthread", NULL, 0)) && l->nw == 2 &&
	    int_ok(l->w[1], 1, 4096, &v)) {
		global_last(im, "nbthread", NULL, 1);
		yset(im, im->global, "nbthread", ynum(im, v));
	}
	map_stats_socket(im);
	map_tls_pair(im, "options", "min_version", 1);
	map_tls_pair(im, "ciphers", "ciphers", 0);
	map_tls_pair(im, "ciphersuites", "ciphersuites", 0);
	for (size_t g = 0; g < im->ngsect; g++)
		for (size_t i = 0; i < im->gsect[g]->n; i++)
			if (!im->gused[g][i])
				keep_extra(im, &im->gextra, im->global, "extra",
					   &im->gsect[g]->lines[i]);
}

/* ---- defaults ---- */

/* Which defaults section the http and the tcp proxies use; refuses more than one per mode. */
static int pick_defaults(struct imp *im)
{
	const struct cfg_section *seen[2] = {NULL, NULL};
	const struct px *first[2] = {NULL, NULL};

	for (size_t i = 0; i < im->npx; i++) {
		const struct px *p = &im->px[i];
		const struct cfg_section *d = cfgnorm_defaults_of(im->cfg, p->s);
		int t = p->tcp;

		if (!first[t]) {
			first[t] = p;
			seen[t] = d;
			continue;
		}
		if (seen[t] != d) {
			refuse(im, p->s->head.lineno,
			       "%s '%s' uses %s%s%s, but %s '%s' (line %u), also in mode %s, uses "
			       "%s%s%s: hagen import handles one defaults section per mode",
			       p->s->head.w[0], p->s->name, d ? "the defaults of line " : "no defaults",
			       d ? "" : "", d ? "" : "", first[t]->s->head.w[0], first[t]->s->name,
			       first[t]->s->head.lineno, t ? "tcp" : "http",
			       seen[t] ? "the defaults of another line" : "no defaults", "", "");
			return -1;
		}
	}
	im->have_http = first[0] != NULL;
	im->have_tcp = first[1] != NULL;
	im->dh = seen[0];
	im->dt = seen[1];
	for (int t = 0; t < 2; t++) {
		const struct cfg_section *d = seen[t];

		for (int depth = 0; d && d->from && depth < 8; depth++) {
			d = cfgnorm_defaults_of(im->cfg, d);
			if (d && d->n)
				refuse(im, seen[t]->head.lineno,
				       "defaults '%s' inherits from defaults '%s' (line %u): hagen "
				       "import reads one defaults section per mode",
				       seen[t]->name, d->name, d->head.lineno);
		}
	}
	return im->refused ? -1 : 0;
}

/* The last line of defaults d spelling keyword key (marks the matching lines in used when
 * mark); *neg: it was "no ...". */
static const struct cfg_line *dlast(const struct cfg_section *d, unsigned char *used,
				    const char *key, int *neg, int mark)
{
	const struct cfg_line *last = NULL;
	char k[160];
	int ng;

	if (neg)
		*neg = 0;
	for (size_t i = 0; d && i < d->n; i++) {
		const struct cfg_line *l = &d->lines[i];

		if (l->cond || l->directive)
			continue;
		kw_of(l, &ng, k, sizeof(k));
		if (strcmp(k, key))
			continue;
		last = l;
		if (neg)
			*neg = ng;
		if (mark)
			used[i] = 1;
	}
	return last;
}

static void dmark(struct imp *im, const char *key)
{
	dlast(im->dh, im->dhused, key, NULL, 1);
	dlast(im->dt, im->dtused, key, NULL, 1);
}

/* The log format line of an http defaults section, when hagen can write it (option httplog,
 * option httplog clf, option httpslog, or a one-word log-format with %-variables). */
static const struct cfg_line *http_log_format(const struct cfg_section *d, size_t *idx)
{
	const struct cfg_line *lf = NULL;

	for (size_t i = 0; d && i < d->n; i++) {
		const struct cfg_line *l = &d->lines[i];

		if (l->cond)
			continue;
		if ((wis(l, 0, "option") &&
		     (wis(l, 1, "httplog") || wis(l, 1, "httpslog") || wis(l, 1, "tcplog"))) ||
		    wis(l, 0, "log-format") || (wis(l, 0, "no") && wis(l, 1, "option") &&
						(wis(l, 2, "httplog") || wis(l, 2, "tcplog"))))
			lf = l, *idx = i;
	}
	if (!lf)
		return NULL;
	if (wis(lf, 0, "log-format"))
		return lf->nw == 2 && strchr(lf->w[1], '%') && text_ok(lf->w[1]) && wplainish(lf, 1)
			       ? lf
			       : NULL;
	if ((wis(lf, 1, "httplog") && lf->nw == 2) ||
	    (wis(lf, 1, "httplog") && lf->nw == 3 && wis(lf, 2, "clf")) ||
	    (wis(lf, 1, "httpslog") && lf->nw == 2))
		return lf;
	return NULL;
}

static int defaults_logging_ok(struct imp *im)
{
	const struct cfg_section *ds[2] = {im->have_http ? im->dh : NULL,
					   im->have_tcp ? im->dt : NULL};
	int have[2] = {im->have_http, im->have_tcp};

	for (int t = 0; t < 2; t++) {
		const struct cfg_line *l = NULL;
		size_t idx;

		if (!have[t])
			continue;
		if (!ds[t])
			return 0;
		for (size_t i = 0; i < ds[t]->n; i++)
			if (!ds[t]->lines[i].cond &&
			    (wis(&ds[t]->lines[i], 0, "log") ||
			     (wis(&ds[t]->lines[i], 0, "no") && wis(&ds[t]->lines[i], 1, "log"))))
				l = &ds[t]->lines[i];
		if (!l || l->nw != 2 || !wis(l, 0, "log") || !wis(l, 1, "global"))
			return 0;
		if (t == 0 && !http_log_format(ds[t], &idx))
			return 0;
		if (t == 1) {
			const struct cfg_line *f = NULL;

			for (size_t i = 0; i < ds[t]->n; i++) {
				const struct cfg_line *x = &ds[t]->lines[i];

				if (!x->cond && ((wis(x, 0, "option") &&
						  (wis(x, 1, "httplog") || wis(x, 1, "tcplog") ||
						   wis(x, 1, "httpslog"))) ||
						 wis(x, 0, "log-format")))
					f = x;
			}
			/* tcp proxies log with tcplog; an httplog there falls back to it */
			if (!f || f->nw != 2 || !wis(f, 0, "option") ||
			    !(wis(f, 1, "tcplog") || wis(f, 1, "httplog")))
				return 0;
		}
	}
	return 1;
}

struct tmo_key {
	const char *key, *haproxy;
	int http_only;
	int fe; /* 1: frontend side, 2: backend side */
};

static const struct tmo_key tmo_keys[] = {
	{"connect", "timeout connect", 0, 2},
	{"client", "timeout client", 0, 1},
	{"server", "timeout server", 0, 2},
	{"http_request", "timeout http-request", 1, 1},
	{"http_keep_alive", "timeout http-keep-alive", 1, 1},
	{"queue", "timeout queue", 0, 2},
	{"tunnel", "timeout tunnel", 0, 2},
	{"client_fin", "timeout client-fin", 0, 1},
	{"server_fin", "timeout server-fin", 0, 2},
	{"check", "timeout check", 0, 2},
	{"client_hs", "timeout client-hs", 0, 1},
	{NULL, NULL, 0, 0},
};

/* A setting typed in defaults must say the same for every mode hagen renders it for. */
static void map_defaults(struct imp *im)
{
	const struct cfg_section *dh = im->have_http ? im->dh : NULL,
				 *dt = im->have_tcp ? im->dt : NULL;
	const struct cfg_line *a, *b;
	struct yn_node *tm = NULL, *dextra = NULL, *hextra = NULL, *textra = NULL;
	int na, nb, target = 206;
	long long v;

	im->dhused = calloc(dh ? dh->n + 1 : 1, 1);
	im->dtused = calloc(dt ? dt->n + 1 : 1, 1);
	if (!im->dhused || !im->dtused) {
		im->oom = 1;
		return;
	}
	if (im->o->target) {
		int maj = 0, min = 0;

		if (sscanf(im->o->target, "%d.%d", &maj, &min) == 2)
			target = maj * 100 + min;
	}
	if (im->default_tcp)
		yset(im, im->defaults, "mode", ystr(im, "tcp"));
	dmark(im, "mode");
	/* timeouts */
	for (size_t k = 0; tmo_keys[k].key; k++) {
		const struct tmo_key *t = &tmo_keys[k];

		if (!strcmp(t->key, "client_hs"))
			continue; /* not a defaults key in hagen */
		a = dlast(dh, NULL, t->haproxy, NULL, 0);
		b = dlast(dt, NULL, t->haproxy, NULL, 0);
		if (t->http_only)
			b = NULL;
		if ((dh && !a && !t->http_only && dt && b) || (dt && !b && !t->http_only && dh && a))
			continue; /* one mode has it, the other not: extras */
		if ((a && (a->nw != 3 || !dur_ok(a->w[2]))) || (b && (b->nw != 3 || !dur_ok(b->w[2]))))
			continue;
		if (a && b && !same_ms(a->w[2], b->w[2]))
			continue;
		if (!a && !b)
			continue;
		if (!tm)
			tm = ysub(im, im->defaults, "timeouts");
		yset(im, tm, t->key, ystr(im, a ? a->w[2] : b->w[2]));
		dlast(dh, im->dhused, t->haproxy, NULL, 1);
		if (!t->http_only)
			dlast(dt, im->dtused, t->haproxy, NULL, 1);
	}
	{
		static const char *const need[] = {"connect", "client", "server"};
		static const char *const val[] = {"5s", "30s", "30s"};

		for (int k = 0; k < 3; k++) {
			const char *who = NULL;

			if (yn_get(tm, need[k]))
				continue;
			/* only a proxy that sets none itself gets hagen's */
			for (size_t i = 0; i < im->npx && !who; i++) {
				const struct px *p = &im->px[i];
				int own = 0;

				if (k == 1 ? !p->fe : !p->be)
					continue;
				for (size_t j = 0; j < p->s->n; j++)
					if (!p->s->lines[j].cond && wis(&p->s->lines[j], 0, "timeout") &&
					    wis(&p->s->lines[j], 1, need[k]))
						own = 1;
				if (!own)
					who = p->s->name;
			}
			if (who)
				approx(im, NULL, (dh ? dh : dt) ? (dh ? dh : dt)->head.lineno : 0,
				       "'%s' and maybe others have no 'timeout %s'; hagen renders "
				       "timeout %s %s",
				       who, need[k], need[k], val[k]);
		}
	}
	/* retries */
	a = dlast(dh, NULL, "retries", NULL, 0);
	b = dlast(dt, NULL, "retries", NULL, 0);
	{
		const struct cfg_line *x = a ? a : b;

		if (x && !((dh && !a) || (dt && !b)) &&
		    (!a || (a->nw == 2 && int_ok(a->w[1], 0, 100, &v))) &&
		    (!b || (b->nw == 2 && int_ok(b->w[1], 0, 100, &v))) &&
		    (!a || !b || !strcmp(a->w[1], b->w[1])) && int_ok(x->w[1], 0, 100, &v)) {
			yset(im, im->defaults, "retries", ynum(im, v));
			dmark(im, "retries");
		}
	}
	/* option redispatch: on in every mode */
	a = dlast(dh, NULL, "option redispatch", &na, 0);
	b = dlast(dt, NULL, "option redispatch", &nb, 0);
	if ((!dh || (a && !na && a->nw == 2)) && (!dt || (b && !nb && b->nw == 2)) && (a || b)) {
		yset(im, im->defaults, "redispatch", ybool(im, 1));
		dmark(im, "option redispatch");
	}
	/* option forwardfor: http only */
	a = dlast(dh, NULL, "option forwardfor", &na, 0);
	if (a && !na && a->nw == 2) {
		yset(im, im->defaults, "forwardfor", ybool(im, 1));
		dlast(dh, im->dhused, "option forwardfor", NULL, 1);
	}
	/* logging: log global and the log format (defaults_logging_ok() made sure hagen writes
	 * exactly what these say) */
	if (im->logging) {
		size_t idx = 0;
		const struct cfg_line *lf;

		dmark(im, "log");
		if (dh && (lf = http_log_format(dh, &idx))) {
			if (wis(lf, 0, "log-format"))
				yset(im, im->defaults, "log_format", ystr(im, lf->w[1]));
			else if (wis(lf, 1, "httpslog"))
				yset(im, im->defaults, "log_format", ystr(im, "httpslog"));
			else if (lf->nw == 3)
				yset(im, im->defaults, "log_format", ystr(im, "clf"));
			/* every format line is overridden by the last one */
			for (size_t i = 0; i <= idx; i++)
				if ((wis(&dh->lines[i], 0, "option") &&
				     (wis(&dh->lines[i], 1, "httplog") || wis(&dh->lines[i], 1, "httpslog") ||
				      wis(&dh->lines[i], 1, "tcplog"))) ||
				    wis(&dh->lines[i], 0, "log-format"))
					im->dhused[i] = 1;
			if ((a = dlast(dh, NULL, "error-log-format", NULL, 0)) &&
			    inv_target_accepts(target, INV_RULE_ERROR_LOG_FORMAT) &&
			    a->nw == 2 && text_ok(a->w[1]) && wplainish(a, 1)) {
				yset(im, im->defaults, "error_log_format", ystr(im, a->w[1]));
				dlast(dh, im->dhused, "error-log-format", NULL, 1);
			}
		}
		if (dt && dt != dh)
			for (size_t i = 0; i < dt->n; i++) {
				const struct cfg_line *l = &dt->lines[i];

				if (!l->cond && wis(l, 0, "option") && l->nw == 2 &&
				    (wis(l, 1, "tcplog") || wis(l, 1, "httplog") || wis(l, 1, "httpslog")))
					im->dtused[i] = 1;
			}
	}
	/* default-server init-addr none resolvers R in every mode's defaults */
	a = dlast(dh, NULL, "default-server", NULL, 0);
	b = dlast(dt, NULL, "default-server", NULL, 0);
	if ((a || b) && !((dh && !a) || (dt && !b))) {
		const struct cfg_line *x = a ? a : b;

		if (x->nw == 5 && wis(x, 1, "init-addr") && wis(x, 2, "none") &&
		    wis(x, 3, "resolvers") && name_ok(x->w[4]) &&
		    (!a || !b || !strcmp(a->raw, b->raw)) &&
		    dlast(dh, NULL, "default-server", NULL, 0) == a) {
			yset(im, im->defaults, "resolvers", ystr(im, x->w[4]));
			dmark(im, "default-server");
		}
	}
	/* the rest: lines in both modes' defaults go to extra, the others to http_extra or
	 * tcp_extra */
	for (size_t i = 0; dh && i < dh->n; i++) {
		const struct cfg_line *l = &dh->lines[i];
		int both = dh == dt;

		if (im->dhused[i])
			continue;
		for (size_t j = 0; !both && dt && j < dt->n; j++)
			if (!im->dtused[j] && !strcmp(dt->lines[j].raw, l->raw)) {
				im->dtused[j] = 1;
				both = 1;
				break;
			}
		if (both || !dt)
			keep_extra(im, &dextra, im->defaults, "extra", l);
		else
			keep_extra(im, &hextra, im->defaults, "http_extra", l);
	}
	for (size_t i = 0; dt && dt != dh && i < dt->n; i++)
		if (!im->dtused[i])
			keep_extra(im, dh ? &textra : &dextra, im->defaults, dh ? "tcp_extra" : "extra",
				   &dt->lines[i]);
}

/* ---- resolvers and userlists ---- */

static void map_resolvers(struct imp *im, const struct cfg_section *r)
{
	struct yn_node *m = yset(im, im->resolvers, r->name, ymap(im)), *ns = NULL, *extra = NULL;
	int prc = 0, has_ns = 0, has_aps = 0;
	long long v;

	for (size_t i = 0; i < r->n; i++) {
		const struct cfg_line *l = &r->lines[i];
		char host[256];
		unsigned port;
		int v6, typed = 0;
		const char *why;

		if (l->cond) {
			keep_extra(im, &extra, m, "extra", l);
			continue;
		}
		if (wis(l, 0, "nameserver") && l->nw == 3 && token_ok(l->w[2]) && wplainish(l, 2) &&
		    parse_hostport(l->w[2], host, sizeof(host), &port, &v6, &why) == 0 && host[0] &&
		    strcmp(host, "*") && !extra) {
			if (!ns)
				ns = ysubseq(im, m, "nameservers");
			ypush(im, ns, ystr(im, l->w[2]));
			typed = has_ns = 1;
		} else if (wis(l, 0, "parse-resolv-conf") && l->nw == 1) {
			prc = typed = 1;
		} else if (wis(l, 0, "hold") && l->nw == 3 && dur_ok(l->w[2]) &&
			   (wis(l, 1, "valid") || wis(l, 1, "nx"))) {
			yset(im, m, wis(l, 1, "valid") ? "hold_valid" : "hold_nx", ystr(im, l->w[2]));
			typed = 1;
		} else if (wis(l, 0, "resolve_retries") && l->nw == 2 &&
			   int_ok(l->w[1], 1, 100, &v)) {
			yset(im, m, "resolve_retries", ynum(im, v));
			typed = 1;
		} else if (wis(l, 0, "timeout") && l->nw == 3 && dur_ok(l->w[2]) &&
			   (wis(l, 1, "resolve") || wis(l, 1, "retry"))) {
			yset(im, m, wis(l, 1, "resolve") ? "timeout_resolve" : "timeout_retry",
			     ystr(im, l->w[2]));
			typed = 1;
		} else if (wis(l, 0, "accepted_payload_size") && l->nw == 2 &&
			   int_ok(l->w[1], 512, 65535, &v)) {
			yset(im, m, "accepted_payload_size", ynum(im, v));
			typed = has_aps = 1;
		}
		if (!typed)
			keep_extra(im, &extra, m, "extra", l);
	}
	if (prc)
		yset(im, m, "parse_resolv_conf", ybool(im, 1));
	if (!has_ns && !prc)
		refuse(im, r->head.lineno,
		       "resolvers '%s' has no nameserver hagen can write (an inventory needs "
		       "'nameservers' or parse_resolv_conf)",
		       r->name);
	/* hagen's defaults differ from HAProxy's here only for the payload size (8192 vs 512);
	 * the others are the same, and omitted */
	if (!has_aps)
		yset(im, m, "accepted_payload_size", ynum(im, 512));
	{
		static const char *const same[][2] = {{"hold_valid", "10s"},
						      {"timeout_resolve", "1s"},
						      {"timeout_retry", "1s"},
						      {NULL, NULL}};

		for (size_t k = 0; same[k][0]; k++) {
			struct yn_node *x = yn_get(m, same[k][0]);

			if (x && same_ms(x->str, same[k][1])) {
				struct yn_pair *p = yn_get_pair(m, same[k][0]);
				struct yn_node *tmp = ymap(im);

				/* remove: rebuild the map without that key */
				for (size_t q = 0; tmp && q < m->n; q++)
					if (&m->pairs[q] != p)
						yset(im, tmp, m->pairs[q].key->str,
						     yn_copy(m->pairs[q].value));
				if (tmp) {
					m = yset(im, im->resolvers, r->name, tmp);
					if (!m)
						return;
				}
			}
		}
		if ((ns = yn_get(m, "resolve_retries")) && !strcmp(ns->str, "3")) {
			struct yn_node *tmp = ymap(im);

			for (size_t q = 0; tmp && q < m->n; q++)
				if (strcmp(m->pairs[q].key->str, "resolve_retries"))
					yset(im, tmp, m->pairs[q].key->str, yn_copy(m->pairs[q].value));
			if (tmp)
				yset(im, im->resolvers, r->name, tmp);
		}
	}
}

/* A variable name as the user's secret: USERLIST_<LIST>_<USER>, upper case. */
static void secret_var(const char *list, const char *user, char *out, size_t sz)
{
	size_t o = 0;

	o += (size_t)snprintf(out, sz, "USERLIST_");
	for (const char *p = list; *p && o + 2 < sz; p++)
		out[o++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32)
			   : ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ? *p
										     : '_';
	if (o + 2 < sz)
		out[o++] = '_';
	for (const char *p = user; *p && o + 1 < sz; p++)
		out[o++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32)
			   : ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ? *p
										     : '_';
	out[o] = '\0';
}

static int env_ref(const struct cfg_line *l, size_t i, char *name, size_t sz)
{
	const char *w = l->w[i];
	size_t n = strlen(w);

	if (!(l->wflags[i] & CFG_W_ENV) || n < 4 || strncmp(w, "${", 2) || w[n - 1] != '}' ||
	    n - 3 >= sz)
		return 0;
	memcpy(name, w + 2, n - 3);
	name[n - 3] = '\0';
	for (size_t k = 0; name[k]; k++)
		if (!((name[k] >= 'A' && name[k] <= 'Z') || (name[k] >= 'a' && name[k] <= 'z') ||
		      (name[k] >= '0' && name[k] <= '9') || name[k] == '_'))
			return 0;
	return 1;
}

static void map_userlist(struct imp *im, const struct cfg_section *u)
{
	struct yn_node *m = yset(im, im->userlists, u->name, ymap(im)), *users = NULL,
		       *extra = NULL;

	for (size_t i = 0; i < u->n; i++) {
		const struct cfg_line *l = &u->lines[i];
		char var[128];
		struct yn_node *it;

		if (!l->cond && wis(l, 0, "user") && l->nw == 4 && name_ok(l->w[1]) &&
		    (wis(l, 2, "insecure-password") || wis(l, 2, "password"))) {
			int hashed = wis(l, 2, "password");

			if (!users)
				users = ysubseq(im, m, "users");
			it = ypush(im, users, ymap(im));
			yset(im, it, "name", ystr(im, l->w[1]));
			if (env_ref(l, 3, var, sizeof(var))) {
				yset(im, it, hashed ? "password_hash_env" : "password_env",
				     ystr(im, var));
				continue;
			}
			secret_var(u->name, l->w[1], var, sizeof(var));
			yset(im, it, hashed ? "password_hash_env" : "password_env", ystr(im, var));
			approx(im, it, l->lineno,
			       "user '%s' of userlist '%s' has its password in the file; hagen keeps "
			       "secrets in the environment: set %s before HAProxy starts",
			       l->w[1], u->name, var);
			continue;
		}
		keep_extra(im, &extra, m, "extra", l);
	}
	if (!users)
		refuse(im, u->head.lineno,
		       "userlist '%s' has no 'user NAME password|insecure-password SECRET' line hagen "
		       "can write",
		       u->name);
}

/* ---- entrypoints (frontend halves) ---- */

/* A bind address hagen accepts (host an IP, '*' or empty; "[::]:P" only with v6only). */
static int bind_addr_ok(const struct cfg_line *l, size_t wi, int has_v6only)
{
	char host[256];
	unsigned port;
	int v6;
	const char *why, *a = l->w[wi];

	if (!wplainish(l, wi) || !token_ok(a) || strchr(a, ','))
		return 0;
	if (parse_hostport(a, host, sizeof(host), &port, &v6, &why) < 0)
		return 0;
	if (host[0] && strcmp(host, "*") && !parse_is_ip(host))
		return 0;
	if (v6 && !strcmp(host, "::") && !has_v6only)
		return 0;
	if (has_v6only && !(v6 && !strcmp(host, "::")))
		return 0;
	return 1;
}

static void add_word_key(struct strbuf *key, const char *w)
{
	strbuf_addf(key, " %s", w);
}

/* The TLS parameters of a bind line (after the address, v6only removed) as hagen writes them:
 * " ssl crt A [crt B] [alpn X,Y] [ssl-min-ver V] [EXTRA]". Fills tls (map) or leaves it NULL when
 * the bind has no parameters. Returns 0 when hagen can write them, -1 otherwise. */
static int bind_params(struct imp *im, const struct cfg_line *l, struct strbuf *key,
		       struct yn_node **tls)
{
	size_t i = 2;
	struct yn_node *certs = NULL;
	struct strbuf extra = STRBUF_INIT;

	*tls = NULL;
	for (size_t k = 2; k < l->nw; k++)
		if (!wis(l, k, "v6only"))
			add_word_key(key, l->w[k]);
	if (i < l->nw && wis(l, i, "v6only"))
		i++;
	if (i >= l->nw)
		return 0;
	if (!wis(l, i, "ssl"))
		return -1;
	i++;
	*tls = ymap(im);
	while (i + 1 < l->nw && wis(l, i, "crt") && token_ok(l->w[i + 1]) && wplainish(l, i + 1)) {
		if (!certs)
			certs = ysubseq(im, *tls, "certs");
		ypush(im, certs, ystr(im, l->w[i + 1]));
		i += 2;
	}
	if (!certs)
		goto bad;
	if (i + 1 < l->nw && wis(l, i, "alpn")) {
		struct yn_node *al = ysubseq(im, *tls, "alpn");
		const char *p = l->w[i + 1];

		while (*p) {
			size_t n = strcspn(p, ",");
			char *one = strndup(p, n);

			if (!one || !token_ok(one)) {
				free(one);
				goto bad;
			}
			ypush(im, al, ystr(im, one));
			free(one);
			p += n + (p[n] == ',');
		}
		i += 2;
	}
	if (i + 1 < l->nw && wis(l, i, "ssl-min-ver") &&
	    (wis(l, i + 1, "TLSv1.0") || wis(l, i + 1, "TLSv1.1") || wis(l, i + 1, "TLSv1.2") ||
	     wis(l, i + 1, "TLSv1.3"))) {
		yset(im, *tls, "min_version", ystr(im, l->w[i + 1]));
		i += 2;
	}
	if (i < l->nw) {
		/* the rest, as written, is tls.extra */
		size_t from = l->woff[i], to = l->wend[l->nw - 1];

		for (size_t k = i; k < l->nw; k++)
			if (wis(l, k, "v6only"))
				goto bad;
		strbuf_add(&extra, l->raw + from, to - from);
		if (strchr(extra.buf, '#'))
			goto bad;
		yset(im, *tls, "extra", ystr(im, extra.buf));
	}
	strbuf_release(&extra);
	return 0;
bad:
	strbuf_release(&extra);
	yn_free(*tls);
	*tls = NULL;
	return -1;
}

/* Lines of proxy p on the given half (1 frontend, 2 backend) that are not in a conditional
 * block. */
static int on_side(const struct px *p, size_t i, unsigned side)
{
	const struct cfg_line *l = &p->s->lines[i];

	if (l->cond || l->directive || !l->nw)
		return 0;
	if (p->s->kind != CFG_LISTEN)
		return 1;
	return (cfgnorm_listen_side(l, p->has_stick) & side) != 0;
}

/* The last own line of p (on side) spelling key; marks every such line used when mark. */
static const struct cfg_line *own_last(struct px *p, unsigned side, const char *key, int *neg,
				       int mark)
{
	const struct cfg_line *last = NULL;
	char k[160];
	int ng;

	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];

		if (!on_side(p, i, side))
			continue;
		kw_of(l, &ng, k, sizeof(k));
		if (strcmp(k, key))
			continue;
		last = l;
		if (neg)
			*neg = ng;
		if (mark)
			p->used[i] = 1;
	}
	return last;
}

static size_t line_index(const struct px *p, const struct cfg_line *l)
{
	return (size_t)(l - p->s->lines);
}

static void map_timeouts(struct imp *im, struct px *p, struct yn_node *m, unsigned side,
			 int target)
{
	struct yn_node *tm = NULL;

	for (size_t k = 0; tmo_keys[k].key; k++) {
		const struct tmo_key *t = &tmo_keys[k];
		const struct cfg_line *l;

		if (t->fe != (int)side)
			continue;
		if (t->http_only && p->tcp)
			continue;
		if (!strcmp(t->key, "client_hs") && !inv_target_accepts(target, INV_RULE_CLIENT_HS))
			continue;
		if (side == 2 && t->http_only)
			continue;
		l = own_last(p, side, t->haproxy, NULL, 0);
		if (!l || l->nw != 3 || !dur_ok(l->w[2]))
			continue;
		own_last(p, side, t->haproxy, NULL, 1);
		if (!tm)
			tm = ysub(im, m, "timeouts");
		yset(im, tm, t->key, ystr(im, l->w[2]));
	}
}

/* hsts value "max-age=N[; includeSubDomains][; preload]" -> the inventory's hsts. */
static struct yn_node *hsts_value(struct imp *im, const char *v)
{
	long long age;
	int sub = 0, pre = 0;
	const char *p;
	char num[32];
	struct yn_node *m;
	size_t n;

	if (strncmp(v, "max-age=", 8))
		return NULL;
	p = v + 8;
	n = strspn(p, "0123456789");
	if (!n || n >= sizeof(num))
		return NULL;
	memcpy(num, p, n);
	num[n] = '\0';
	if (!int_ok(num, 0, 1000000000, &age))
		return NULL;
	p += n;
	if (!strncmp(p, "; includeSubDomains", 19))
		sub = 1, p += 19;
	if (!strncmp(p, "; preload", 9))
		pre = 1, p += 9;
	if (*p)
		return NULL;
	if (age == 31536000 && sub && !pre)
		return ybool(im, 1);
	m = ymap(im);
	if (age != 31536000)
		yset(im, m, "max_age", ynum(im, age));
	if (!sub)
		yset(im, m, "include_subdomains", ybool(im, 0));
	if (pre)
		yset(im, m, "preload", ybool(im, 1));
	return m;
}

/* The rate limit hagen writes: "stick-table type ipv6 size N expire P store http_req_rate(P)",
 * then as the first two http-request rules "track-sc0 src" and "deny deny_status S if {
 * sc_http_req_rate(0) gt N }". */
static void map_rate_limit(struct imp *im, struct px *p)
{
	const struct cfg_line *t = own_last(p, 1, "stick-table", NULL, 0), *r[2] = {NULL, NULL};
	size_t ri[2] = {0, 0}, n = 0;
	long long size, req, st;
	char want[80];
	struct yn_node *m;

	if (!t || t->nw != 9 || !wis(t, 1, "type") || !wis(t, 2, "ipv6") || !wis(t, 3, "size") ||
	    !int_ok(t->w[4], 1, 100000000, &size) || !wis(t, 5, "expire") || !dur_ok(t->w[6]) ||
	    !wis(t, 7, "store"))
		return;
	snprintf(want, sizeof(want), "http_req_rate(%s)", t->w[6]);
	if (!wis(t, 8, want))
		return;
	for (size_t i = 0; i < p->s->n && n < 2; i++)
		if (on_side(p, i, 1) && wis(&p->s->lines[i], 0, "http-request"))
			r[n] = &p->s->lines[i], ri[n++] = i;
	if (n < 2 || r[0]->nw != 3 || !wis(r[0], 1, "track-sc0") || !wis(r[0], 2, "src") ||
	    r[1]->nw != 10 || !wis(r[1], 1, "deny") || !wis(r[1], 2, "deny_status") ||
	    !int_ok(r[1]->w[3], 200, 599, &st) || !wis(r[1], 4, "if") || !wis(r[1], 5, "{") ||
	    !wis(r[1], 6, "sc_http_req_rate(0)") || !wis(r[1], 7, "gt") ||
	    !int_ok(r[1]->w[8], 1, 1000000000, &req) || !wis(r[1], 9, "}"))
		return;
	own_last(p, 1, "stick-table", NULL, 1);
	p->used[ri[0]] = p->used[ri[1]] = 1;
	m = yset(im, p->ep, "rate_limit", ymap(im));
	yset(im, m, "requests", ynum(im, req));
	yset(im, m, "period", ystr(im, t->w[6]));
	if (st != 429)
		yset(im, m, "status", ynum(im, st));
	if (size != 100000)
		yset(im, m, "size", ynum(im, size));
}

/* Header rules of one family, typed while they come in hagen's order: [hsts or redirect,]
 * set-header, add-header, del-header, without conditions. kw0: "http-request" ... */
static void map_headers(struct imp *im, struct px *p, unsigned side, const char *fam,
			struct yn_node *m, const char *key, int allow_redirect, int allow_hsts)
{
	int rank = 0;
	struct yn_node *h = NULL;

	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];
		int r = -1;

		if (!on_side(p, i, side) || !wis(l, 0, fam) || p->used[i])
			continue;
		if (allow_redirect && l->nw == 10 && wis(l, 1, "redirect") && wis(l, 2, "scheme") &&
		    wis(l, 3, "https") && wis(l, 4, "code") && wis(l, 6, "unless") &&
		    wis(l, 7, "{") && wis(l, 8, "ssl_fc") && wis(l, 9, "}") &&
		    (wis(l, 5, "301") || wis(l, 5, "302") || wis(l, 5, "303") || wis(l, 5, "307") ||
		     wis(l, 5, "308")) &&
		    !yn_get(p->ep, "redirect_to")) {
			r = 0;
		} else if (allow_hsts && l->nw == 4 && wis(l, 1, "set-header") &&
			   !strcasecmp(l->w[2], "Strict-Transport-Security") &&
			   !yn_get(m, "hsts")) {
			r = 0;
		} else if ((wis(l, 1, "set-header") || wis(l, 1, "add-header")) && l->nw == 4 &&
			   token_ok(l->w[2]) && wplainish(l, 2) && wplainish(l, 3) &&
			   text_ok(l->w[3])) {
			r = wis(l, 1, "set-header") ? 1 : 2;
			if (yn_get(yn_get(h, r == 1 ? "set" : "add"), l->w[2]))
				r = -1; /* a map holds one value per header */
		} else if (wis(l, 1, "del-header") && l->nw == 3 && token_ok(l->w[2]) &&
			   wplainish(l, 2)) {
			r = 3;
		}
		if (r < rank)
			break;
		if (r == 0 && allow_redirect) {
			yset(im, m, "redirect_to", ystr(im, "https"));
			if (!wis(l, 5, "301"))
				yset(im, m, "redirect_code", ynum(im, atoi(l->w[5])));
		} else if (r == 0) {
			struct yn_node *v = hsts_value(im, l->w[3]);

			if (!v)
				break;
			yset(im, m, "hsts", v);
		} else {
			if (!h)
				h = ysub(im, m, key);
			if (r == 3)
				ypush(im, ysubseq(im, h, "del"), ystr(im, l->w[2]));
			else
				yset(im, ysub(im, h, r == 1 ? "set" : "add"), l->w[2],
				     ystr(im, l->w[3]));
		}
		rank = r;
		p->used[i] = 1;
	}
}

static void map_compression(struct imp *im, struct px *p)
{
	static const char *const algos[] = {"gzip", "deflate", "raw-deflate", "identity", NULL};
	static const char *const dtypes[] = {"text/html",      "text/plain",
					     "text/css",       "text/javascript",
					     "application/javascript", "application/json",
					     "image/svg+xml",  NULL};
	const struct cfg_line *a = NULL, *t = NULL;
	int na = 0, nt = 0, dflt = 1;
	struct yn_node *m;

	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];

		if (!on_side(p, i, 1) || !wis(l, 0, "compression"))
			continue;
		if (wis(l, 1, "algo"))
			a = l, na++;
		else if (wis(l, 1, "type"))
			t = l, nt++;
		else
			return;
	}
	if (na != 1 || nt != 1 || a->nw < 3 || t->nw < 3)
		return;
	for (size_t i = 2; i < a->nw; i++)
		if (!in_list(a->w[i], algos))
			return;
	for (size_t i = 2; i < t->nw; i++)
		if (!token_ok(t->w[i]) || !wplainish(t, i))
			return;
	if (a->nw != 3 || !wis(a, 2, "gzip") || t->nw != 9)
		dflt = 0;
	for (size_t i = 2; dflt && i < t->nw; i++)
		dflt = !strcmp(t->w[i], dtypes[i - 2]);
	p->used[line_index(p, a)] = p->used[line_index(p, t)] = 1;
	if (dflt) {
		yset(im, p->ep, "compression", ybool(im, 1));
		return;
	}
	m = yset(im, p->ep, "compression", ymap(im));
	if (!(a->nw == 3 && wis(a, 2, "gzip"))) {
		struct yn_node *s = ysubseq(im, m, "algos");

		for (size_t i = 2; i < a->nw; i++)
			ypush(im, s, ystr(im, a->w[i]));
	}
	{
		struct yn_node *s = ysubseq(im, m, "types");

		for (size_t i = 2; i < t->nw; i++)
			ypush(im, s, ystr(im, t->w[i]));
	}
}

/* An ACL of p that hagen can write as a match: the host form (one plain line, then one "-m end"
 * line) or the path form (path_beg, path, path_reg, one line each, in that order). kind: 1 host,
 * 2 path. Fills match. */
static int acl_match(struct imp *im, struct px *p, const char *name, int *kind,
		     struct yn_node *match, size_t *longest)
{
	static const char *const crit[] = {"path_beg", "path", "path_reg"};
	static const char *const keys[] = {"path_prefix", "path", "path_regex"};
	static const char *const hostcrit = "req.hdr(host),field(1,:)";
	int stage = 0, found = 0;

	*kind = 0;
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];
		struct yn_node *seq;
		size_t v0;

		if (!wis(l, 0, "acl") || !wis(l, 1, name))
			continue;
		if (l->cond || l->nw < 4)
			return -1;
		for (size_t k = 2; k < l->nw; k++)
			if (!wplainish(l, k))
				return -1;
		found = 1;
		if (wis(l, 2, hostcrit) && wis(l, 3, "-i")) {
			int wild = wis(l, 4, "-m") && wis(l, 5, "end");

			if ((*kind && *kind != 1) || stage >= 1 + wild)
				return -1;
			*kind = 1;
			stage = 1 + wild;
			v0 = wild ? 6 : 4;
			if (v0 >= l->nw)
				return -1;
			seq = ysubseq(im, match, "host");
			for (size_t k = v0; k < l->nw; k++) {
				const char *h = l->w[k];
				char b[300];

				if (wild) {
					if (h[0] != '.' || !parse_is_hostname(h + 1))
						return -1;
					snprintf(b, sizeof(b), "*%s", h);
					h = b;
				} else if (!parse_is_hostname(h) && !parse_is_ip(h)) {
					return -1;
				}
				ypush(im, seq, ystr(im, h));
			}
			continue;
		}
		{
			int c = -1;

			for (int k = 0; k < 3; k++)
				if (wis(l, 2, crit[k]))
					c = k;
			if (c < 0 || (*kind && *kind != 2) || c + 1 <= stage)
				return -1;
			*kind = 2;
			stage = c + 1;
			seq = ysubseq(im, match, keys[c]);
			for (size_t k = 3; k < l->nw; k++) {
				const char *v = l->w[k];

				if (c < 2 ? (!token_ok(v) || v[0] != '/') : (!text_ok(v) || !*v))
					return -1;
				if (strlen(v) > *longest)
					*longest = strlen(v);
				ypush(im, seq, ystr(im, v));
			}
		}
	}
	return found ? 0 : -1;
}

static void collect_routes(struct imp *im, struct px *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->s->n; i++)
		if (on_side(p, i, 1) && wis(&p->s->lines[i], 0, "use_backend"))
			n++;
	p->routes = calloc(n ? n : 1, sizeof(*p->routes));
	if (!p->routes) {
		im->oom = 1;
		return;
	}
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];
		struct route *r;
		int k1 = 0, k2 = 0;
		struct strbuf sb = STRBUF_INIT;

		if (!on_side(p, i, 1))
			continue;
		if (wis(l, 0, "default_backend") && l->nw == 2) {
			p->dflt_line = (long)i;
			p->dflt = strncmp(l->w[1], "%[", 2) ? px_by_name(im, l->w[1], 1) : NULL;
			if (p->dflt && !p->dflt->be)
				p->dflt = NULL;
			continue;
		}
		if (!wis(l, 0, "use_backend"))
			continue;
		r = &p->routes[p->nroutes++];
		r->line = i;
		if (l->nw < 4 || l->nw > 5 || !wis(l, 2, "if") || !strncmp(l->w[1], "%[", 2))
			continue;
		r->svc = px_by_name(im, l->w[1], 1);
		if (!r->svc || !r->svc->be || r->svc->stats)
			continue;
		r->match = ymap(im);
		if (acl_match(im, p, l->w[3], &k1, r->match, &r->longest) < 0 ||
		    (l->nw == 5 && acl_match(im, p, l->w[4], &k2, r->match, &r->longest) < 0) ||
		    (l->nw == 5 && !(k1 == 1 && k2 == 2))) {
			yn_free(r->match);
			r->match = NULL;
			r->svc = NULL;
			continue;
		}
		if (k1 == 1)
			r->acl_host = l->w[3];
		else
			r->acl_path = l->w[3];
		if (l->nw == 5)
			r->acl_path = l->w[4];
		r->cat = r->acl_host && r->acl_path ? 0 : r->acl_host ? 1 : 2;
		{
			struct em_tmp {
				int x;
			};
			struct yaml_emit_opts o = {1000, NULL, 0, NULL, 0, 0};
			struct yn_node *wrap = ymap(im);

			if (wrap && yn_map_set(wrap, "m", yn_copy(r->match)) == 0)
				yaml_emit(wrap, &o, &sb);
			yn_free(wrap);
		}
		r->spec = strbuf_detach(&sb, NULL);
	}
	/* a listen's own backend half is its default */
	if (p->s->kind == CFG_LISTEN && p->be && p->dflt_line < 0)
		p->dflt = p;
}

static void map_entry(struct imp *im, struct px *p, int target)
{
	struct yn_node *ep = yset(im, im->eps, p->name, ymap(im)), *binds, *tls = NULL;
	const struct cfg_line *l;
	struct strbuf want = STRBUF_INIT;
	int have_want = 0;
	long long v;
	int neg;

	p->ep = ep;
	if (p->tcp != im->default_tcp)
		yset(im, ep, "mode", ystr(im, p->tcp ? "tcp" : "http"));
	own_last(p, 3, "mode", NULL, 1);
	binds = yset(im, ep, "bind", yseq(im));
	/* the old "frontend NAME ADDR" / "listen NAME ADDR" */
	if (p->s->head.nw > 2 && !wis(&p->s->head, 2, "from")) {
		if (bind_addr_ok(&p->s->head, 2, 0)) {
			ypush(im, binds, ystr(im, p->s->head.w[2]));
			strbuf_addstr(&want, "");
			have_want = 1;
		} else {
			refuse(im, p->s->head.lineno,
			       "the address '%s' on the section line cannot be written as an "
			       "entrypoint bind",
			       p->s->head.w[2]);
		}
	}
	for (size_t i = 0; i < p->s->n; i++) {
		struct strbuf key = STRBUF_INIT;
		struct yn_node *t = NULL;
		int v6only = 0;

		l = &p->s->lines[i];
		if (!on_side(p, i, 1) || !wis(l, 0, "bind") || l->nw < 2)
			continue;
		for (size_t k = 2; k < l->nw; k++)
			v6only |= wis(l, k, "v6only");
		if (bind_addr_ok(l, 1, v6only) && bind_params(im, l, &key, &t) == 0 &&
		    (!have_want || !strcmp(key.buf, want.buf))) {
			if (!have_want) {
				strbuf_addstr(&want, key.buf);
				have_want = 1;
				tls = t;
				t = NULL;
			}
			ypush(im, binds, ystr(im, l->w[1]));
			p->used[i] = 1;
		}
		yn_free(t);
		strbuf_release(&key);
	}
	if (tls && !p->tcp)
		yset(im, ep, "tls", tls);
	else if (tls) {
		/* TLS on a tcp entrypoint: hagen writes the same bind options */
		yset(im, ep, "tls", tls);
	}
	strbuf_release(&want);
	if ((l = own_last(p, 1, "maxconn", NULL, 0)) && l->nw == 2 &&
	    int_ok(l->w[1], 1, 10000000, &v)) {
		own_last(p, 1, "maxconn", NULL, 1);
		yset(im, ep, "maxconn", ynum(im, v));
	}
	map_timeouts(im, p, ep, 1, target);
	if (!p->tcp) {
		const char *opt = !inv_target_accepts(target, INV_RULE_ACCEPT_INVALID)
					  ? "option accept-unsafe-violations-in-http-request"
					  : "option accept-invalid-http-request";

		if ((l = own_last(p, 1, opt, &neg, 0)) && !neg && l->nw == 2) {
			own_last(p, 1, opt, NULL, 1);
			yset(im, ep, "accept_invalid_http", ybool(im, 1));
		}
		map_rate_limit(im, p);
		map_headers(im, p, 1, "http-request", ep, "request_headers", 1, 0);
		map_headers(im, p, 1, "http-after-response", ep, "response_headers", 0, 1);
		map_compression(im, p);
	}
	collect_routes(im, p);
}

/* ---- stats ---- */

/* A listen or frontend "stats" shaped as hagen renders it becomes the inventory's stats. */
static int map_stats(struct imp *im, struct px *p)
{
	const struct cfg_line *uri = NULL, *refresh = NULL, *mon = NULL, *prom = NULL,
			      *auth = NULL, *admin = NULL, *prom_auth = NULL;
	struct yn_node *st, *binds;
	const char *ul = NULL;
	int seen503 = 0; /* the exporter after the 503 rules must sit behind the auth */

	if (strcmp(p->name, "stats") || p->be || p->tcp ||
	    (p->s->head.nw > 2 && !(p->s->head.nw == 4 && wis(&p->s->head, 2, "from"))))
		return 0;
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];

		if (l->cond)
			return 0;
		if (wis(l, 0, "stats") && wis(l, 1, "uri") && l->nw == 3 && token_ok(l->w[2]) &&
		    l->w[2][0] == '/')
			uri = l;
		else if (wis(l, 0, "stats") && wis(l, 1, "refresh") && l->nw == 3 &&
			 dur_ok(l->w[2]))
			refresh = l;
		else if (wis(l, 0, "monitor-uri") && l->nw == 2 && token_ok(l->w[1]) &&
			 l->w[1][0] == '/')
			mon = l;
		else if (wis(l, 0, "stats") && wis(l, 1, "http-request") && l->nw == 9 &&
			 wis(l, 2, "auth") && wis(l, 3, "realm") && name_ok(l->w[4]) &&
			 wis(l, 5, "unless") && wis(l, 6, "{") && wis(l, 8, "}") &&
			 !strncmp(l->w[7], "http_auth(", 10) && !auth)
			auth = l;
		else if (wis(l, 0, "stats") && wis(l, 1, "admin") && l->nw == 6 &&
			 wis(l, 2, "if") && wis(l, 3, "{") && wis(l, 5, "}") && !admin)
			admin = l;
		else if (wis(l, 0, "bind") && !(l->nw == 2 && bind_addr_ok(l, 1, 0)))
			return 0;
	}
	if (!uri || !refresh)
		return 0;
	p->stats = 1;
	st = im->stats = ymap(im);
	binds = ysubseq(im, st, "bind");
	for (size_t i = 0; i < p->s->n; i++)
		if (wis(&p->s->lines[i], 0, "bind")) {
			ypush(im, binds, ystr(im, p->s->lines[i].w[1]));
			p->used[i] = 1;
		}
	if (binds && binds->n == 1) {
		struct yn_node *one = ystr(im, binds->items[0]->str);

		yset(im, st, "bind", one);
	}
	if (strcmp(uri->w[2], "/stats"))
		yset(im, st, "uri", ystr(im, uri->w[2]));
	if (!same_ms(refresh->w[2], "10s"))
		yset(im, st, "refresh", ystr(im, refresh->w[2]));
	own_last(p, 3, "stats uri", NULL, 1);
	own_last(p, 3, "stats refresh", NULL, 1);
	own_last(p, 3, "stats enable", NULL, 1);
	own_last(p, 3, "mode", NULL, 1);
	if (mon) {
		own_last(p, 3, "monitor-uri", NULL, 1);
		yset(im, st, "health_uri", ystr(im, mon->w[1]));
	}
	if (auth) {
		size_t n = strlen(auth->w[7]);

		if (auth->w[7][n - 1] == ')' && n > 11) {
			static char name[128];

			snprintf(name, sizeof(name), "%.*s", (int)(n - 11), auth->w[7] + 10);
			ul = name;
		}
	}
	/* as hagen renders them, in either order it has used: the exporter, then the 503 rules;
	 * or the 503 rules, then the exporter behind the page's auth ("http-request auth realm R
	 * if { path P } !{ http_auth(UL) }" right before it) */
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];

		if (!wis(l, 0, "http-request"))
			continue;
		if (!prom && l->nw == 8 && wis(l, 1, "use-service") &&
		    wis(l, 2, "prometheus-exporter") && wis(l, 3, "if") && wis(l, 4, "{") &&
		    wis(l, 5, "path") && wis(l, 7, "}") && token_ok(l->w[6]) && l->w[6][0] == '/' &&
		    (prom_auth ? !strcmp(prom_auth->w[7], l->w[6]) : !seen503)) {
			prom = l;
			p->used[i] = 1;
			continue;
		}
		if (ul && !prom && !prom_auth && l->nw == 12 && wis(l, 1, "auth") &&
		    wis(l, 2, "realm") && auth && !strcmp(l->w[3], auth->w[4]) && wis(l, 4, "if") &&
		    wis(l, 5, "{") && wis(l, 6, "path") && wis(l, 8, "}") && wis(l, 9, "!{") &&
		    wis(l, 11, "}") && !strncmp(l->w[10], "http_auth(", 10) &&
		    !strncmp(l->w[10] + 10, ul, strlen(ul)) && !strcmp(l->w[10] + 10 + strlen(ul), ")")) {
			prom_auth = l;
			p->used[i] = 1;
			continue;
		}
		if (ul && !prom_auth && l->nw == 15 &&
		    wis(l, 1, "return") && wis(l, 4, "content-type") && wis(l, 6, "string") &&
		    wis(l, 8, "unless") && wis(l, 11, "-m") && !strncmp(l->w[10], "env(", 4)) {
			p->used[i] = 1;
			seen503 = 1;
			continue;
		}
		break;
	}
	if (prom_auth && !prom) /* an auth rule for a path without the exporter: not hagen's */
		p->used[line_index(p, prom_auth)] = 0;
	if (prom) {
		if (!strcmp(prom->w[6], "/metrics"))
			yset(im, st, "prometheus", ybool(im, 1));
		else
			yset(im, ysub(im, st, "prometheus"), "path", ystr(im, prom->w[6]));
	}
	if (auth && ul && name_ok(ul)) {
		struct yn_node *a = ysub(im, st, "auth");

		p->used[line_index(p, auth)] = 1;
		yset(im, a, "userlist", ystr(im, ul));
		if (strcmp(auth->w[4], "stats"))
			yset(im, a, "realm", ystr(im, auth->w[4]));
		if (admin) {
			char want[160];

			snprintf(want, sizeof(want), "http_auth(%s)", ul);
			if (!strcmp(admin->w[4], want)) {
				p->used[line_index(p, admin)] = 1;
				yset(im, a, "admin", ybool(im, 1));
			}
		}
	}
	{
		struct yn_node *extra = NULL;

		for (size_t i = 0; i < p->s->n; i++)
			if (!p->used[i])
				keep_extra(im, &extra, st, "extra", &p->s->lines[i]);
	}
	return 1;
}

/* ---- services (backend halves) ---- */

static void map_balance(struct imp *im, struct px *p)
{
	static const char *const simple[] = {"roundrobin", "static-rr", "leastconn", "first",
					     "source",	   "random",	"uri",	     NULL};
	const struct cfg_line *l = own_last(p, 2, "balance", NULL, 0);
	char b[160];

	if (!l)
		return;
	if (l->nw == 2 && in_list(l->w[1], simple) && !(p->tcp && wis(l, 1, "uri"))) {
		snprintf(b, sizeof(b), "%s", l->w[1]);
	} else if (!p->tcp && l->nw == 2 && !strncmp(l->w[1], "hdr(", 4) &&
		   l->w[1][strlen(l->w[1]) - 1] == ')' && strlen(l->w[1]) > 5) {
		snprintf(b, sizeof(b), "%s", l->w[1]);
		for (size_t i = 4; i + 1 < strlen(b); i++)
			if (!name_ok((char[]){b[i], 0}))
				return;
	} else if (!p->tcp && l->nw == 3 && wis(l, 1, "url_param") && name_ok(l->w[2])) {
		snprintf(b, sizeof(b), "url_param(%s)", l->w[2]);
	} else {
		return;
	}
	own_last(p, 2, "balance", NULL, 1);
	yset(im, p->svc, "balance", ystr(im, b));
}

/* option httpchk + "http-check send meth M uri P ver HTTP/1.1 hdr Host H" + "http-check expect
 * status S": the http health check. */
static int map_httpchk(struct imp *im, struct px *p, struct yn_node *hc, const char **host)
{
	const struct cfg_line *opt, *send = NULL, *exp = NULL;
	size_t nchk = 0;
	int neg;
	long long v;

	*host = NULL;
	opt = own_last(p, 2, "option httpchk", &neg, 0);
	if (!opt || neg || opt->nw != 2 || p->tcp)
		return 0;
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];

		if (!on_side(p, i, 2) || !wis(l, 0, "http-check"))
			continue;
		nchk++;
		if (nchk == 1)
			send = l;
		else if (nchk == 2)
			exp = l;
	}
	if (nchk != 2 || send->nw != 11 || !wis(send, 1, "send") || !wis(send, 2, "meth") ||
	    !wis(send, 4, "uri") || !wis(send, 6, "ver") || !wis(send, 7, "HTTP/1.1") ||
	    !wis(send, 8, "hdr") || !wis(send, 9, "Host") || exp->nw != 4 ||
	    !wis(exp, 1, "expect") || !wis(exp, 2, "status"))
		return 0;
	if (!(wis(send, 3, "GET") || wis(send, 3, "HEAD") || wis(send, 3, "OPTIONS") ||
	      wis(send, 3, "POST")) ||
	    !token_ok(send->w[5]) || send->w[5][0] != '/' || !token_ok(send->w[10]))
		return 0;
	if (!int_ok(exp->w[3], 100, 599, &v)) {
		const char *s = exp->w[3];

		if (!(strlen(s) == 7 && s[3] == '-' && strspn(s, "0123456789") == 3 &&
		      strspn(s + 4, "0123456789") == 3 && memcmp(s, s + 4, 3) <= 0 && s[0] >= '1' &&
		      s[0] <= '5' && s[4] >= '1' && s[4] <= '5'))
			return 0;
	}
	own_last(p, 2, "option httpchk", NULL, 1);
	p->used[line_index(p, send)] = p->used[line_index(p, exp)] = 1;
	if (!wis(send, 3, "GET"))
		yset(im, hc, "method", ystr(im, send->w[3]));
	if (strcmp(send->w[5], "/"))
		yset(im, hc, "path", ystr(im, send->w[5]));
	*host = send->w[10];
	if (strcmp(exp->w[3], "200")) {
		if (int_ok(exp->w[3], 100, 599, &v))
			yset(im, hc, "expect_status", ynum(im, v));
		else
			yset(im, hc, "expect_status", ystr(im, exp->w[3]));
	}
	return 1;
}

/* default-server [inter X] [fall N] [rise N] [init-addr none resolvers R], before any server. */
static void map_default_server(struct imp *im, struct px *p, struct yn_node *hc, int *typed)
{
	const struct cfg_line *l = NULL;
	size_t first_server = p->s->n, i = 1, n = 0, idx = 0;
	long long v;

	*typed = 0;
	for (size_t k = 0; k < p->s->n; k++) {
		if (!on_side(p, k, 2))
			continue;
		if ((wis(&p->s->lines[k], 0, "server") || wis(&p->s->lines[k], 0, "server-template")) &&
		    first_server == p->s->n)
			first_server = k;
		if (wis(&p->s->lines[k], 0, "default-server"))
			l = &p->s->lines[k], n++, idx = k;
	}
	if (!l) {
		*typed = 1;
		return;
	}
	if (n != 1 || idx > first_server)
		return;
	if (wis(l, i, "inter") && i + 1 < l->nw && dur_ok(l->w[i + 1]))
		i += 2;
	if (wis(l, i, "fall") && i + 1 < l->nw && int_ok(l->w[i + 1], 1, 1000, &v))
		i += 2;
	if (wis(l, i, "rise") && i + 1 < l->nw && int_ok(l->w[i + 1], 1, 1000, &v))
		i += 2;
	if (i + 4 == l->nw && wis(l, i, "init-addr") && wis(l, i + 1, "none") &&
	    wis(l, i + 2, "resolvers") && name_ok(l->w[i + 3]) &&
	    yn_get(im->resolvers, l->w[i + 3])) {
		p->resolvers = l->w[i + 3];
		i += 4;
	}
	if (i != l->nw) {
		p->resolvers = NULL;
		return;
	}
	for (i = 1; i + 1 < l->nw; i += 2) {
		if (wis(l, i, "inter"))
			yset(im, hc, "interval", ystr(im, l->w[i + 1]));
		else if (wis(l, i, "fall") && int_ok(l->w[i + 1], 1, 1000, &v))
			yset(im, hc, "fall", ynum(im, v));
		else if (wis(l, i, "rise") && int_ok(l->w[i + 1], 1, 1000, &v))
			yset(im, hc, "rise", ynum(im, v));
		else
			break;
	}
	p->used[idx] = 1;
	*typed = 1;
}

/* A server hagen can write: its name, address, and the parameters it types; the others, as
 * written, go to the server's extra. cookie_name: the sticky cookie (server cookie = name). */
static struct yn_node *server_item(struct imp *im, const struct cfg_line *l, int sticky_cookie,
				   int *check)
{
	char host[256];
	unsigned port;
	int v6;
	const char *why;
	struct yn_node *m;
	struct strbuf extra = STRBUF_INIT;
	long long v;

	*check = 0;
	if (l->nw < 3 || !name_ok(l->w[1]) || !token_ok(l->w[2]) || !wplainish(l, 2) ||
	    parse_hostport(l->w[2], host, sizeof(host), &port, &v6, &why) < 0 || !host[0] ||
	    !strcmp(host, "*"))
		return NULL;
	m = ymap(im);
	yset(im, m, "name", ystr(im, l->w[1]));
	yset(im, m, "address", ystr(im, l->w[2]));
	for (size_t i = 3; i < l->nw;) {
		int args = cfgnorm_param_args(l->w[i]);

		if (wis(l, i, "check")) {
			*check = 1;
		} else if (wis(l, i, "weight") && i + 1 < l->nw && int_ok(l->w[i + 1], 0, 256, &v) &&
			   !yn_get(m, "weight")) {
			yset(im, m, "weight", ynum(im, v));
		} else if (wis(l, i, "maxconn") && i + 1 < l->nw &&
			   int_ok(l->w[i + 1], 1, 10000000, &v) && !yn_get(m, "maxconn")) {
			yset(im, m, "maxconn", ynum(im, v));
		} else if (wis(l, i, "backup")) {
			yset(im, m, "backup", ybool(im, 1));
		} else if (wis(l, i, "disabled")) {
			yset(im, m, "maintenance", ybool(im, 1));
		} else if (sticky_cookie && wis(l, i, "cookie") && wis(l, i + 1, l->w[1])) {
			/* rendered by the sticky cookie */
		} else if (wis(l, i, "track") && i + 1 < l->nw && strchr(l->w[i + 1], '/') &&
			   wplainish(l, i + 1)) {
			/* track BACKEND/SERVER: the backend as hagen names it */
			const char *slash = strchr(l->w[i + 1], '/');
			char name[256];
			struct px *t;

			snprintf(name, sizeof(name), "%.*s", (int)(slash - l->w[i + 1]), l->w[i + 1]);
			t = px_by_name(im, name, 1);
			if (extra.len)
				strbuf_addch(&extra, ' ');
			strbuf_addstr(&extra, "track ");
			if (t)
				rendered_name(t, CFG_REF_BACKEND, &extra);
			else
				strbuf_addstr(&extra, name);
			strbuf_addstr(&extra, slash);
		} else {
			size_t end = i + (size_t)args < l->nw ? i + (size_t)args : l->nw - 1;

			if (extra.len)
				strbuf_addch(&extra, ' ');
			strbuf_add(&extra, l->raw + l->woff[i], l->wend[end] - l->woff[i]);
		}
		i += (size_t)args + 1;
	}
	if (extra.len) {
		if (strchr(extra.buf, '#')) {
			yn_free(m);
			strbuf_release(&extra);
			return NULL;
		}
		yset(im, m, "extra", ystr(im, extra.buf));
	}
	strbuf_release(&extra);
	return m;
}

static void map_service(struct imp *im, struct px *p, int target)
{
	struct yn_node *sv = yset(im, im->svcs, p->name, ymap(im)), *servers, *hc = ymap(im);
	const struct cfg_line *l, *ck = NULL;
	const char *chkhost = NULL;
	int httpchk, ds_typed, sticky_cookie = 0, neg, any_check = 0, any_nocheck = 0, stop = 0;
	size_t nservers = 0;

	p->svc = sv;
	if (p->tcp != im->default_tcp)
		yset(im, sv, "mode", ystr(im, p->tcp ? "tcp" : "http"));
	own_last(p, 3, "mode", NULL, 1);
	map_balance(im, p);
	map_timeouts(im, p, sv, 2, target);
	httpchk = map_httpchk(im, p, hc, &chkhost);
	map_default_server(im, p, hc, &ds_typed);
	/* a cookie "insert indirect nocache" whose server values are the server names */
	if (!p->tcp && (ck = own_last(p, 2, "cookie", NULL, 0)) && ck->nw == 5 &&
	    wis(ck, 2, "insert") && wis(ck, 3, "indirect") && wis(ck, 4, "nocache") &&
	    token_ok(ck->w[1])) {
		sticky_cookie = 1;
		for (size_t i = 0; i < p->s->n; i++) {
			const struct cfg_line *s = &p->s->lines[i];
			int has = 0;

			if (!on_side(p, i, 2) || !wis(s, 0, "server"))
				continue;
			for (size_t k = 3; k + 1 < s->nw; k++)
				if (wis(s, k, "cookie"))
					has = wis(s, k + 1, s->w[1]) ? 1 : -1;
			if (has != 1)
				sticky_cookie = 0;
		}
	}
	servers = yset(im, sv, "servers", yseq(im));
	for (size_t i = 0; i < p->s->n && ds_typed; i++) {
		struct yn_node *it;
		int check;

		if (!on_side(p, i, 2))
			continue;
		l = &p->s->lines[i];
		if (wis(l, 0, "default-server") && !p->used[i])
			stop = 1;
		if (!wis(l, 0, "server") || stop)
			continue;
		it = server_item(im, l, sticky_cookie, &check);
		if (!it) {
			stop = 1;
			continue;
		}
		for (size_t k = 0; k < servers->n; k++)
			if (!strcmp(yn_get(servers->items[k], "name")->str, l->w[1]))
				refuse(im, l->lineno, "server '%s' is declared twice in '%s'",
				       l->w[1], p->s->name);
		ypush(im, servers, it);
		p->used[i] = 1;
		nservers++;
		if (check)
			any_check = 1;
		else
			any_nocheck = 1;
		(void)yn_get(it, "name");
		yn_map_set(it, ".check", ybool(im, check)); /* resolved below */
	}
	if (sticky_cookie && nservers) {
		struct yn_node *s = ysub(im, sv, "sticky");

		own_last(p, 2, "cookie", NULL, 1);
		yset(im, s, "type", ystr(im, "cookie"));
		if (strcmp(ck->w[1], "SRVID"))
			yset(im, s, "name", ystr(im, ck->w[1]));
	} else if (sticky_cookie) {
		/* no typed server: the server lines keep their cookies in extra */
	}
	/* stick-table type ipv6 size N expire E + stick on src */
	{
		const struct cfg_line *t = own_last(p, 2, "stick-table", NULL, 0), *on = NULL;
		long long sz;

		for (size_t i = 0; i < p->s->n && !on; i++)
			if (on_side(p, i, 2) && wis(&p->s->lines[i], 0, "stick"))
				on = &p->s->lines[i];
		if (t && on && t->nw == 7 && wis(t, 1, "type") && wis(t, 2, "ipv6") &&
		    wis(t, 3, "size") && int_ok(t->w[4], 1, 100000000, &sz) && wis(t, 5, "expire") &&
		    dur_ok(t->w[6]) && on->nw == 3 && wis(on, 1, "on") && wis(on, 2, "src") &&
		    !yn_get(sv, "sticky")) {
			struct yn_node *s = ysub(im, sv, "sticky");

			own_last(p, 2, "stick-table", NULL, 1);
			p->used[line_index(p, on)] = 1;
			yset(im, s, "type", ystr(im, "source"));
			if (strcmp(t->w[6], "30m"))
				yset(im, s, "expire", ystr(im, t->w[6]));
			if (sz != 200000)
				yset(im, s, "size", ynum(im, sz));
		}
	}
	if (!p->tcp) {
		map_headers(im, p, 2, "http-request", sv, "request_headers", 0, 0);
		map_headers(im, p, 2, "http-response", sv, "response_headers", 0, 0);
		{
			const char *opt = !inv_target_accepts(target, INV_RULE_ACCEPT_INVALID)
						  ? "option accept-unsafe-violations-in-http-response"
						  : "option accept-invalid-http-response";

			if ((l = own_last(p, 2, opt, &neg, 0)) && !neg && l->nw == 2) {
				own_last(p, 2, opt, NULL, 1);
				yset(im, sv, "accept_invalid_http", ybool(im, 1));
			}
		}
	}
	/* server-template PREFIX SLOTS NAME:PORT [check] [resolvers R init-addr none] */
	{
		const struct cfg_line *t = NULL;
		size_t nt = 0, ti = 0;

		for (size_t i = 0; i < p->s->n; i++)
			if (on_side(p, i, 2) && wis(&p->s->lines[i], 0, "server-template"))
				t = &p->s->lines[i], nt++, ti = i;
		if (nt == 1 && t->nw >= 4 && name_ok(t->w[1]) && !stop) {
			long long slots;
			char host[256];
			unsigned port;
			int v6, tcheck = 0;
			const char *why, *res = NULL;
			size_t i = 4;

			if (wis(t, i, "check"))
				tcheck = 1, i++;
			if (i + 4 == t->nw && wis(t, i, "resolvers") && wis(t, i + 2, "init-addr") &&
			    wis(t, i + 3, "none") && yn_get(im->resolvers, t->w[i + 1]))
				res = t->w[i + 1], i += 4;
			if (i == t->nw && res && int_ok(t->w[2], 1, 10000, &slots) &&
			    parse_hostport(t->w[3], host, sizeof(host), &port, &v6, &why) == 0 &&
			    !v6 && parse_is_hostname(host) &&
			    (tcheck ? !any_nocheck : !any_check)) {
				struct yn_node *dns = ysub(im, ysub(im, sv, "discovery"), "dns");

				yset(im, dns, "name", ystr(im, host));
				yset(im, dns, "port", ynum(im, port));
				if (slots != 5)
					yset(im, dns, "slots", ynum(im, slots));
				if (strcmp(t->w[1], p->name))
					yset(im, dns, "prefix", ystr(im, t->w[1]));
				if (!p->resolvers || strcmp(res, p->resolvers))
					yset(im, dns, "resolvers", ystr(im, res));
				p->used[ti] = 1;
				p->discovery = 1;
				if (tcheck)
					any_check = 1;
				else
					any_nocheck = 1;
			}
		}
	}
	/* checks: hagen writes "check" on every server unless told */
	{
		int none = !any_check && any_nocheck && !httpchk;
		struct yn_node *health = NULL;

		if (httpchk || hc->n || none) {
			health = yset(im, sv, "health_check", hc);
			hc = NULL;
			if (none && !httpchk) {
				struct yn_node *tmp = ymap(im);

				yset(im, tmp, "type", ystr(im, "none"));
				for (size_t k = 0; health && k < health->n; k++)
					yset(im, tmp, health->pairs[k].key->str,
					     yn_copy(health->pairs[k].value));
				health = yset(im, sv, "health_check", tmp);
			} else if (!httpchk && !p->tcp) {
				struct yn_node *tmp = ymap(im);

				yset(im, tmp, "type", ystr(im, "tcp"));
				for (size_t k = 0; health && k < health->n; k++)
					yset(im, tmp, health->pairs[k].key->str,
					     yn_copy(health->pairs[k].value));
				health = yset(im, sv, "health_check", tmp);
			} else if (httpchk && !health->n) {
				yset(im, health, "type", ystr(im, "http"));
			}
			if (httpchk && chkhost)
				yset(im, health, ".host", ystr(im, chkhost));
		}
		yn_free(hc);
		/* per server: check: false where the others check */
		for (size_t k = 0; servers && k < servers->n; k++) {
			struct yn_node *it = servers->items[k], *tmp;
			int c = !strcmp(yn_get(it, ".check")->str, "true");

			tmp = ymap(im);
			for (size_t q = 0; tmp && q < it->n; q++) {
				if (it->pairs[q].key->str[0] == '.')
					continue;
				yset(im, tmp, it->pairs[q].key->str, yn_copy(it->pairs[q].value));
				if (!strcmp(it->pairs[q].key->str, "address") && !c && !none)
					yset(im, tmp, "check", ybool(im, 0));
			}
			if (tmp) {
				yn_free(servers->items[k]);
				servers->items[k] = tmp;
			}
		}
	}
}

/* ---- routing ---- */

static int route_order(const struct route *a, const struct route *b)
{
	if (a->cat != b->cat)
		return a->cat < b->cat ? -1 : 1;
	if (a->longest != b->longest)
		return a->longest > b->longest ? -1 : 1;
	return strcmp(a->svc->name, b->svc->name);
}

static void resolve_routing(struct imp *im)
{
	int changed = 1, guard = 0;

	while (changed && guard++ < 1000) {
		changed = 0;
		for (size_t f = 0; f < im->npx; f++) {
			struct px *p = &im->px[f];
			const struct route *prev = NULL;
			int stop = 0;

			if (!p->fe || p->stats)
				continue;
			for (size_t i = 0; i < p->nroutes; i++) {
				struct route *r = &p->routes[i];
				int ok = !stop && r->svc && r->spec && r->svc->tcp == p->tcp &&
					 (!prev || route_order(prev, r) < 0);

				for (size_t k = 0; ok && k < i; k++)
					if (p->routes[k].typed && p->routes[k].svc == r->svc)
						ok = 0;
				if (!ok)
					stop = 1;
				r->typed = ok;
				if (ok)
					prev = r;
			}
			p->dflt_typed = p->dflt && p->dflt->tcp == p->tcp && !p->dflt->stats;
		}
		/* a service's match is one for all its entrypoints */
		for (size_t s = 0; s < im->npx; s++) {
			struct px *sv = &im->px[s];
			const char *spec = NULL;
			int bad = 0, nr = 0, nd = 0, same = 1;

			if (!sv->be)
				continue;
			for (size_t f = 0; f < im->npx; f++) {
				struct px *p = &im->px[f];
				int r_here = 0;

				for (size_t i = 0; i < p->nroutes; i++) {
					struct route *r = &p->routes[i];

					if (!r->typed || r->svc != sv)
						continue;
					r_here = 1;
					if (spec && strcmp(spec, r->spec))
						bad = 1;
					spec = r->spec;
				}
				nr += r_here;
				nd += p->fe && p->dflt_typed && p->dflt == sv;
				if (p->fe && r_here != (p->dflt_typed && p->dflt == sv))
					same = 0;
			}
			if (bad) {
				for (size_t f = 0; f < im->npx; f++)
					for (size_t i = 0; i < im->px[f].nroutes; i++)
						if (im->px[f].routes[i].svc == sv) {
							im->px[f].routes[i].svc = NULL;
							changed = 1;
						}
				continue;
			}
			/* routed and default in different entrypoints: the defaults go to extra */
			if (nr && nd && !same)
				for (size_t f = 0; f < im->npx; f++)
					if (im->px[f].dflt == sv && im->px[f].dflt_typed) {
						im->px[f].dflt = NULL;
						changed = 1;
					}
		}
	}
}

/* The service keys that routing decides: match, default, entrypoints. */
static void write_attachments(struct imp *im)
{
	for (size_t s = 0; s < im->npx; s++) {
		struct px *sv = &im->px[s];
		struct yn_node *eps = yseq(im), *match = NULL;
		int is_default = 0, all = 1, n_same_mode = 0;

		if (!sv->be || !sv->svc) {
			yn_free(eps);
			continue;
		}
		for (size_t f = 0; f < im->npx; f++) {
			struct px *p = &im->px[f];
			int routed = 0, dflt = p->fe && !p->stats && p->dflt_typed && p->dflt == sv;

			if (!p->fe || p->stats)
				continue;
			for (size_t i = 0; i < p->nroutes; i++)
				if (p->routes[i].typed && p->routes[i].svc == sv) {
					routed = 1;
					if (!match)
						match = p->routes[i].match;
				}
			if (p->tcp == sv->tcp)
				n_same_mode++;
			if (routed || dflt)
				ypush(im, eps, ystr(im, p->name));
			else if (p->tcp == sv->tcp)
				all = 0;
			is_default |= dflt;
		}
		if (match)
			yset(im, sv->svc, "match", yn_copy(match));
		if (match && is_default)
			yset(im, sv->svc, "default", ybool(im, 1));
		if (eps->n && all && eps->n == (size_t)n_same_mode) {
			yn_free(eps);
		} else {
			yset(im, sv->svc, "entrypoints", eps);
		}
		sv->attached_default = is_default;
		/* the health check Host: hagen's default is the first plain match host */
		{
			struct yn_node *hc = yn_get(sv->svc, "health_check"), *h;

			if (hc && (h = yn_get(hc, ".host"))) {
				const struct yn_node *hosts = yn_get(yn_get(sv->svc, "match"), "host");
				const char *dflt = "localhost";
				struct yn_node *tmp = ymap(im);

				if (hosts && hosts->n && hosts->items[0]->str[0] != '*')
					dflt = hosts->items[0]->str;
				for (size_t q = 0; tmp && q < hc->n; q++) {
					const char *k = hc->pairs[q].key->str;

					if (k[0] == '.')
						continue;
					yset(im, tmp, k, yn_copy(hc->pairs[q].value));
				}
				if (tmp && strcmp(h->str, dflt))
					yset(im, tmp, "host", ystr(im, h->str));
				if (tmp)
					yset(im, sv->svc, "health_check", tmp);
			}
		}
	}
}

/* ---- the lines left: extra ---- */

/* Does any line of p (other than acl lines of name) on side use ACL name? */
static int acl_used_by(const struct px *p, const char *name, unsigned side, int unused_only)
{
	char bang[140];

	snprintf(bang, sizeof(bang), "!%s", name);
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];

		if (wis(l, 0, "acl") || (unused_only && p->used[i]))
			continue;
		if (p->s->kind == CFG_LISTEN && !(cfgnorm_listen_side(l, p->has_stick) & side))
			continue;
		for (size_t k = 1; k < l->nw; k++)
			if (!strcmp(l->w[k], name) || !strcmp(l->w[k], bang))
				return 1;
	}
	return 0;
}

static void sweep(struct imp *im, struct px *p)
{
	/* typed routes: their use_backend lines, and ACLs nobody else needs */
	for (size_t i = 0; i < p->nroutes; i++) {
		struct route *r = &p->routes[i];

		if (!r->typed)
			continue;
		p->used[r->line] = 1;
	}
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];
		int typed_only = 0;

		if (!wis(l, 0, "acl") || l->nw < 2 || l->cond)
			continue;
		for (size_t k = 0; k < p->nroutes; k++)
			if (p->routes[k].typed &&
			    ((p->routes[k].acl_host && !strcmp(p->routes[k].acl_host, l->w[1])) ||
			     (p->routes[k].acl_path && !strcmp(p->routes[k].acl_path, l->w[1]))))
				typed_only = 1;
		if (typed_only && !acl_used_by(p, l->w[1], 3, 1))
			p->used[i] = 1;
	}
	if (p->dflt_line >= 0 && p->dflt_typed)
		p->used[p->dflt_line] = 1;
	for (size_t i = 0; i < p->s->n; i++) {
		const struct cfg_line *l = &p->s->lines[i];
		unsigned side;

		if (p->used[i])
			continue;
		if (p->s->kind != CFG_LISTEN)
			side = p->fe ? 1 : 2;
		else if (l->directive || l->cond)
			side = p->fe ? 1 : 2;
		else {
			side = cfgnorm_listen_side(l, p->has_stick);
			if (wis(l, 0, "acl") && l->nw > 1 && p->be && acl_used_by(p, l->w[1], 2, 0))
				side |= 2;
			if (!p->fe)
				side = 2;
			if (!p->be)
				side = 1;
		}
		if ((side & 1) && p->ep)
			keep_extra(im, &p->ep_extra, p->ep, "extra", l);
		if ((side & 2) && p->svc)
			keep_extra(im, &p->svc_extra, p->svc, "extra", l);
	}
	/* a listen whose own backend is no longer its typed default */
	if (p->s->kind == CFG_LISTEN && p->fe && p->be && p->dflt_line < 0 && !p->dflt_typed &&
	    p->ep) {
		char b[160];

		snprintf(b, sizeof(b), "default_backend be_%s", p->name);
		if (!p->ep_extra)
			p->ep_extra = ysubseq(im, p->ep, "extra");
		ypush(im, p->ep_extra, ystr(im, b));
		note(im, p->s->head.lineno, "kept as extra: %s (the listen's own backend)", b);
	}
}

/* ---- assembling ---- */

static const char *const ep_order[] = {"mode",	     "bind",	      "tls",	     "maxconn",
				       "timeouts",   "redirect_to",   "redirect_code", "hsts",
				       "rate_limit", "compression",   "request_headers",
				       "response_headers", "accept_invalid_http", "extra", NULL};
static const char *const svc_order[] = {
	"entrypoints",	   "mode",     "match",	    "default",		   "balance",
	"health_check",	   "sticky",   "request_headers", "response_headers", "resolvers",
	"timeouts",	   "servers",  "discovery", "accept_invalid_http", "extra",
	NULL};

static const char *const ul_order[] = {"users", "extra", NULL};
static const char *const res_order[] = {"nameservers",	  "parse_resolv_conf", "hold_valid",
					"hold_nx",	  "resolve_retries",	"timeout_resolve",
					"timeout_retry",  "accepted_payload_size", "extra", NULL};

static size_t key_rank(const char *k, const char *const *order)
{
	size_t i = 0;

	for (; order[i]; i++)
		if (!strcmp(order[i], k))
			return i;
	return i;
}

/* Puts the keys of map in the order of the documentation (the pairs move; nothing is copied, so
 * comments attached to values stay attached). */
static void reorder(struct yn_node *map, const char *const *order)
{
	for (size_t i = 1; map && i < map->n; i++) {
		struct yn_pair t = map->pairs[i];
		size_t j = i, r = key_rank(t.key->str, order);

		while (j > 0 && key_rank(map->pairs[j - 1].key->str, order) > r) {
			map->pairs[j] = map->pairs[j - 1];
			j--;
		}
		map->pairs[j] = t;
	}
}

static const char *const block_keys[] = {"extra", "http_extra", "tcp_extra", "servers",
					 "users", NULL};

int import_cfg(const struct cfg *cfg, const struct import_opts *opts, struct strbuf *out,
	       struct diag_list *dl)
{
	struct import_opts none = {NULL};
	struct imp im;
	int rc = -1, target = 206;
	size_t errors0 = dl->errors;

	memset(&im, 0, sizeof(im));
	im.cfg = cfg;
	im.file = cfg->file;
	im.dl = dl;
	im.o = opts ? opts : &none;
	if (im.o->target) {
		int maj = 0, min = 0;

		if (sscanf(im.o->target, "%d.%d", &maj, &min) == 2)
			target = maj * 100 + min;
	}
	if (check_shape(&im) < 0 || setup_proxies(&im) < 0 || pick_defaults(&im) < 0)
		goto out;
	im.root = ymap(&im);
	im.global = ymap(&im);
	im.defaults = ymap(&im);
	im.resolvers = ymap(&im);
	im.userlists = ymap(&im);
	im.eps = ymap(&im);
	im.svcs = ymap(&im);
	if (im.oom)
		goto out;
	map_global(&im);
	for (size_t i = 0; i < cfg->n; i++) {
		if (cfg->s[i].kind == CFG_RESOLVERS)
			map_resolvers(&im, &cfg->s[i]);
		else if (cfg->s[i].kind == CFG_USERLIST)
			map_userlist(&im, &cfg->s[i]);
	}
	map_defaults(&im);
	for (size_t i = 0; i < im.npx; i++)
		if (im.px[i].fe && !im.stats && map_stats(&im, &im.px[i]))
			break;
	for (size_t i = 0; i < im.npx; i++)
		if (im.px[i].fe && !im.px[i].stats)
			map_entry(&im, &im.px[i], target);
	for (size_t i = 0; i < im.npx; i++)
		if (im.px[i].be)
			map_service(&im, &im.px[i], target);
	if (!im.eps->n)
		refuse(&im, 0,
		       "the only frontend is the stats page: an inventory needs at least one "
		       "entrypoint");
	if (!im.svcs->n)
		refuse(&im, 0, "no backend or listen section has servers: an inventory needs at "
			       "least one service");
	if (im.refused || im.oom)
		goto out;
	resolve_routing(&im);
	write_attachments(&im);
	/* services' resolvers: in defaults when every service has the same */
	{
		const char *common = NULL;
		int all = 1;

		for (size_t i = 0; i < im.npx; i++) {
			if (!im.px[i].be)
				continue;
			if (!im.px[i].resolvers || (common && strcmp(common, im.px[i].resolvers)))
				all = 0;
			else
				common = im.px[i].resolvers;
		}
		if (yn_get(im.defaults, "resolvers"))
			all = 0;
		for (size_t i = 0; i < im.npx; i++)
			if (im.px[i].be && im.px[i].resolvers && !all)
				yset(&im, im.px[i].svc, "resolvers", ystr(&im, im.px[i].resolvers));
		if (all && common)
			yset(&im, im.defaults, "resolvers", ystr(&im, common));
	}
	for (size_t i = 0; i < im.npx; i++)
		if (!im.px[i].stats)
			sweep(&im, &im.px[i]);
	if (im.refused || im.oom)
		goto out;
	for (size_t i = 0; i < im.eps->n; i++)
		reorder(im.eps->pairs[i].value, ep_order);
	for (size_t i = 0; i < im.userlists->n; i++)
		reorder(im.userlists->pairs[i].value, ul_order);
	for (size_t i = 0; i < im.resolvers->n; i++)
		reorder(im.resolvers->pairs[i].value, res_order);
	for (size_t i = 0; i < im.svcs->n; i++) {
		struct yn_node *sv = im.svcs->pairs[i].value, *sl = yn_get(sv, "servers");

		if (sl && !sl->n && yn_get(sv, "discovery")) {
			/* discovery alone: no empty server list */
			struct yn_pair *p = yn_get_pair(sv, "servers");
			size_t at = (size_t)(p - sv->pairs);

			yn_free(p->key);
			yn_free(p->value);
			memmove(&sv->pairs[at], &sv->pairs[at + 1], (sv->n - at - 1) * sizeof(*p));
			sv->n--;
		}
		reorder(sv, svc_order);
	}
	/* the tree, in the order of the inventory's documentation */
	if (im.o->target)
		yset(&im, im.root, "target", ystr(&im, im.o->target));
	if (im.global->n)
		yset(&im, im.root, "global", im.global), im.global = NULL;
	if (im.defaults->n)
		yset(&im, im.root, "defaults", im.defaults), im.defaults = NULL;
	if (im.resolvers->n)
		yset(&im, im.root, "resolvers", im.resolvers), im.resolvers = NULL;
	if (im.userlists->n)
		yset(&im, im.root, "userlists", im.userlists), im.userlists = NULL;
	if (im.stats)
		yset(&im, im.root, "stats", im.stats), im.stats = NULL;
	yset(&im, im.root, "entrypoints", im.eps), im.eps = NULL;
	yset(&im, im.root, "services", im.svcs), im.svcs = NULL;
	{
		struct yaml_emit_opts eo = {100, im.cm, im.ncm, block_keys, 1, 2};

		strbuf_addf(out, "# imported by hagen import from %s\n", cfg->file);
		if (yaml_emit(im.root, &eo, out) < 0)
			im.oom = 1;
	}
	if (!im.oom && dl->errors == errors0)
		rc = 0;
out:
	if (im.oom)
		diag_add(dl, DIAG_ERROR, im.file, 0, 0, "out of memory");
	for (size_t i = 0; i < im.npx; i++) {
		free(im.px[i].used);
		for (size_t k = 0; k < im.px[i].nroutes; k++) {
			free(im.px[i].routes[k].spec);
			yn_free(im.px[i].routes[k].match);
		}
		free(im.px[i].routes);
	}
	free(im.px);
	for (size_t g = 0; g < im.ngsect; g++)
		free(im.gused[g]);
	free(im.dhused);
	free(im.dtused);
	yn_free(im.root);
	yn_free(im.global);
	yn_free(im.defaults);
	yn_free(im.resolvers);
	yn_free(im.userlists);
	yn_free(im.stats);
	yn_free(im.eps);
	yn_free(im.svcs);
	for (size_t i = 0; i < im.ncm; i++)
		free(im.cmtext[i]);
	free(im.cmtext);
	free(im.cm);
	return rc;
}
