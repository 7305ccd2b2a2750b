/* The canonical form of a haproxy.cfg and the difference of two; see cfgnorm.h. Each proxy is
 * simulated as HAProxy builds it: its defaults section first (only the keywords valid for the
 * proxy, rules only from named defaults, check rules only when the proxy has none), then its
 * own lines. The result is a set of keyed settings, lists that keep their order, and servers
 * with their effective parameters. */
#include "cfgnorm.h"

#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ---- small containers ---- */

struct ent {
	char *key;    /* settings: the key; lists: the family; NULL for a removed entry */
	char *text;   /* canonical text */
	unsigned side; /* 1 frontend half, 2 backend half (listen sections) */
	unsigned seq; /* order of insertion */
};

struct ents {
	struct ent *e;
	size_t n, alloc;
};

struct acldef {
	char *name;
	char *def; /* canonical "criterion flags values" */
};

struct pstate {
	struct ents set;     /* keyed settings */
	struct ents rules;   /* ordered rules, key = family */
	struct ents logs;    /* loggers, text "global" for log global */
	struct ents binds;   /* text */
	struct ents servers; /* text */
	struct ents defsrv;  /* parameter groups of default-server, key = parameter keyword */
	struct acldef *acls;
	size_t nacls, aacls;
	int own_httpchk, own_tcpchk; /* the proxy wrote its own http-check/tcp-check rules */
	int has_stick;
	unsigned seq;
	int oom;
};

static char *xstrdup(struct pstate *st, const char *s)
{
	char *p = strdup(s);

	if (!p)
		st->oom = 1;
	return p;
}

static void ents_release(struct ents *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->e[i].key);
		free(es->e[i].text);
	}
	free(es->e);
	memset(es, 0, sizeof(*es));
}

static struct ent *ents_push(struct pstate *st, struct ents *es, const char *key, const char *text,
			     unsigned side)
{
	struct ent *e;

	if (es->n == es->alloc) {
		size_t na = es->alloc ? es->alloc * 2 : 8;
		struct ent *p = realloc(es->e, na * sizeof(*p));

		if (!p) {
			st->oom = 1;
			return NULL;
		}
		es->e = p;
		es->alloc = na;
	}
	e = &es->e[es->n++];
	e->key = key ? xstrdup(st, key) : NULL;
	e->text = xstrdup(st, text);
	e->side = side;
	e->seq = st->seq++;
	return e;
}

static struct ent *ents_find(const struct ents *es, const char *key)
{
	for (size_t i = 0; i < es->n; i++)
		if (es->e[i].key && !strcmp(es->e[i].key, key))
			return &es->e[i];
	return NULL;
}

/* Sets key to text (replacing an earlier value). */
static void ents_set(struct pstate *st, struct ents *es, const char *key, const char *text,
		     unsigned side)
{
	struct ent *e = ents_find(es, key);

	if (e) {
		char *t = xstrdup(st, text);

		if (t) {
			free(e->text);
			e->text = t;
			e->side = side;
		}
		return;
	}
	ents_push(st, es, key, text, side);
}

static void ents_del(struct ents *es, const char *key)
{
	struct ent *e = ents_find(es, key);

	if (e) {
		free(e->key);
		e->key = NULL;
	}
}

static void ents_del_family(struct ents *es, const char *fam)
{
	for (size_t i = 0; i < es->n; i++)
		if (es->e[i].key && !strcmp(es->e[i].key, fam)) {
			free(es->e[i].key);
			es->e[i].key = NULL;
		}
}

static void pstate_release(struct pstate *st)
{
	ents_release(&st->set);
	ents_release(&st->rules);
	ents_release(&st->logs);
	ents_release(&st->binds);
	ents_release(&st->servers);
	ents_release(&st->defsrv);
	for (size_t i = 0; i < st->nacls; i++) {
		free(st->acls[i].name);
		free(st->acls[i].def);
	}
	free(st->acls);
}

/* ---- words ---- */

const char *cfgnorm_ms(const char *s, char *buf)
{
	uint64_t ms;

	if (parse_duration_ms(s, &ms) < 0)
		return NULL;
	snprintf(buf, 32, "%llu", (unsigned long long)ms);
	return buf;
}

const char *cfgnorm_canon_name(const struct cfg_section *s)
{
	const char *n = s->name;

	if (s->kind == CFG_FRONTEND && !strncmp(n, "fe_", 3) && n[3])
		return n + 3;
	if (s->kind == CFG_BACKEND && !strncmp(n, "be_", 3) && n[3])
		return n + 3;
	return n;
}

static const struct cfg_section *find_proxy(const struct cfg *cfg, const char *name, int backend)
{
	const struct cfg_section *any = NULL;

	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_section *s = &cfg->s[i];

		if (s->kind != CFG_FRONTEND && s->kind != CFG_BACKEND && s->kind != CFG_LISTEN)
			continue;
		if (strcmp(s->name, name))
			continue;
		if (!backend || s->kind != CFG_FRONTEND)
			return s;
		any = s;
	}
	return any;
}

struct refctx {
	const struct cfg *cfg;
	char **w; /* words being rewritten */
	struct {
		size_t word, start, end;
	} r[32];
	size_t nr;
};

static void collect_ref(void *ctx, const struct cfg_line *l, size_t word, size_t start, size_t end,
			enum cfg_ref kind)
{
	struct refctx *rc = ctx;

	(void)l;
	(void)kind;
	if (rc->nr < 32) {
		rc->r[rc->nr].word = word;
		rc->r[rc->nr].start = start;
		rc->r[rc->nr].end = end;
		rc->nr++;
	}
}

/* Appends one word so that the joined text stays unambiguous: quoted when it holds a blank, a
 * quote or a control byte, or is empty; an expanded environment variable is marked. */
static void add_word(struct strbuf *sb, const char *w, unsigned flags)
{
	int q = !*w;

	for (const char *p = w; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			q = 1;
	if (sb->len)
		strbuf_addch(sb, ' ');
	if (flags & CFG_W_ENV)
		strbuf_addstr(sb, "<env>");
	if (!q) {
		strbuf_addstr(sb, w);
		return;
	}
	strbuf_addch(sb, '"');
	for (const char *p = w; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else if (c < ' ' || c == 0x7f)
			strbuf_addf(sb, "\\x%02x", c);
		else
			strbuf_addch(sb, (char)c);
	}
	strbuf_addch(sb, '"');
}

/* The words of l from index from (proxy names made canonical) joined into sb. */
static void canon_words(const struct cfg *cfg, const struct cfg_line *l, size_t from,
			struct strbuf *sb)
{
	struct refctx rc;

	memset(&rc, 0, sizeof(rc));
	rc.cfg = cfg;
	cfg_proxy_refs(l, collect_ref, &rc);
	for (size_t i = from; i < l->nw; i++) {
		struct strbuf w = STRBUF_INIT;
		size_t pos = 0;

		/* refs of this word, in order of position (cfg_proxy_refs gives them so) */
		for (size_t k = 0; k < rc.nr; k++) {
			const struct cfg_section *p;
			char name[256];
			size_t len = rc.r[k].end - rc.r[k].start;

			if (rc.r[k].word != i || rc.r[k].start < pos || len >= sizeof(name))
				continue;
			memcpy(name, l->w[i] + rc.r[k].start, len);
			name[len] = '\0';
			strbuf_add(&w, l->w[i] + pos, rc.r[k].start - pos);
			p = find_proxy(cfg, name, 1);
			strbuf_addstr(&w, p ? cfgnorm_canon_name(p) : name);
			pos = rc.r[k].end;
		}
		strbuf_addstr(&w, l->w[i] + pos);
		add_word(sb, w.buf, l->wflags[i]);
		strbuf_release(&w);
	}
}

/* ---- parameters of bind, server, default-server and stats socket lines ---- */

struct param {
	const char *name;
	int args;
};

/* Parameters that take arguments (all others take none). Append-only. */
static const struct param params[] = {
	{"accept-netscaler-cip", 1}, {"addr", 1}, {"agent-addr", 1}, {"agent-inter", 1},
	{"agent-port", 1}, {"agent-send", 1}, {"alpn", 1}, {"backlog", 1}, {"ca-file", 1},
	{"ca-ignore-err", 1}, {"ca-sign-file", 1}, {"ca-sign-pass", 1}, {"ca-verify-file", 1},
	{"check-alpn", 1}, {"check-proto", 1}, {"check-sni", 1}, {"ciphers", 1},
	{"ciphersuites", 1}, {"client-sigalgs", 1}, {"cookie", 1}, {"crl-file", 1}, {"crt", 1},
	{"crt-ignore-err", 1}, {"crt-list", 1}, {"curves", 1}, {"downinter", 1}, {"ecdhe", 1},
	{"error-limit", 1}, {"expose-fd", 1}, {"fall", 1}, {"fastinter", 1}, {"gid", 1},
	{"group", 1}, {"guid", 1}, {"guid-prefix", 1}, {"hash-key", 1}, {"id", 1},
	{"init-addr", 1}, {"inter", 1}, {"interface", 1}, {"level", 1}, {"log-bufsize", 1},
	{"log-proto", 1}, {"max-reuse", 1}, {"maxconn", 1}, {"maxqueue", 1}, {"minconn", 1},
	{"mode", 1}, {"mss", 1}, {"name", 1}, {"namespace", 1}, {"nice", 1}, {"npn", 1},
	{"observe", 1}, {"on-error", 1}, {"on-marked-down", 1}, {"on-marked-up", 1},
	{"pool-conn-name", 1}, {"pool-low-conn", 1}, {"pool-max-conn", 1},
	{"pool-purge-delay", 1}, {"port", 1}, {"process", 1}, {"proto", 1},
	{"proxy-v2-options", 1}, {"quic-cc-algo", 1}, {"redir", 1}, {"resolve-net", 1},
	{"resolve-opts", 1}, {"resolve-prefer", 1}, {"resolvers", 1}, {"rise", 1},
	{"severity-output", 1}, {"shard", 1}, {"shards", 1}, {"sigalgs", 1}, {"slowstart", 1},
	{"sni", 1}, {"source", 1}, {"ssl-max-ver", 1}, {"ssl-min-ver", 1}, {"tcp-ut", 1},
	{"thread", 1}, {"tls-ticket-keys", 1}, {"track", 1}, {"uid", 1}, {"user", 1},
	{"verify", 1}, {"verifyhost", 1}, {"weight", 1}, {"ws", 1}, {"usesrc", 1},
	{NULL, 0},
};

/* Parameter values equal to HAProxy's defaults, dropped from the canonical form. */
static const char *const default_params[] = {"weight 1", "inter 2000", "fall 3", "rise 2",
					     "enabled", NULL};

int cfgnorm_param_args(const char *w)
{
	for (size_t i = 0; params[i].name; i++)
		if (!strcmp(params[i].name, w))
			return params[i].args;
	return 0;
}

/* Parameter groups of words w[from..nw): each is a keyword with its arguments; durations of
 * inter/fastinter/downinter/slowstart/... become milliseconds. */
static void param_groups(struct pstate *st, const struct cfg *cfg, const struct cfg_line *l,
			 size_t from, struct ents *out)
{
	struct strbuf all = STRBUF_INIT;
	char ms[32];

	(void)cfg;
	for (size_t i = from; i < l->nw;) {
		int n = cfgnorm_param_args(l->w[i]);
		struct strbuf g = STRBUF_INIT;

		add_word(&g, l->w[i], l->wflags[i]);
		for (int k = 1; k <= n && i + (size_t)k < l->nw; k++) {
			const char *v = l->w[i + (size_t)k];

			if ((!strcmp(l->w[i], "inter") || !strcmp(l->w[i], "fastinter") ||
			     !strcmp(l->w[i], "downinter") || !strcmp(l->w[i], "slowstart") ||
			     !strcmp(l->w[i], "pool-purge-delay") || !strcmp(l->w[i], "agent-inter")) &&
			    cfgnorm_ms(v, ms))
				v = ms;
			add_word(&g, v, l->wflags[i + (size_t)k]);
		}
		ents_push(st, out, l->w[i], g.buf, 0);
		strbuf_release(&g);
		i += (size_t)n + 1;
	}
	strbuf_release(&all);
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = strcmp(x->key ? x->key : "", y->key ? y->key : "");

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The parameter groups joined, sorted by keyword (stable), defaults dropped. */
static void join_params(struct ents *g, struct strbuf *sb)
{
	if (g->n)
		qsort(g->e, g->n, sizeof(*g->e), ent_cmp);
	for (size_t i = 0; i < g->n; i++) {
		int dflt = 0;

		if (!g->e[i].key)
			continue;
		for (size_t k = 0; default_params[k]; k++)
			if (!strcmp(g->e[i].text, default_params[k]))
				dflt = 1;
		if (dflt)
			continue;
		strbuf_addch(sb, ' ');
		strbuf_addstr(sb, g->e[i].text);
	}
}

/* Merges group list over into base: a parameter replaces the one of the same keyword, "no-X"
 * removes X, "enabled" removes "disabled". */
static void merge_params(struct pstate *st, struct ents *base, const struct ents *over)
{
	for (size_t i = 0; i < over->n; i++) {
		const struct ent *o = &over->e[i];

		if (!o->key)
			continue;
		if (!strncmp(o->key, "no-", 3) && strcmp(o->key, "no-sslv3") &&
		    strncmp(o->key, "no-tls", 6) && strcmp(o->key, "no-ca-names")) {
			ents_del(base, o->key + 3);
			continue;
		}
		if (!strcmp(o->key, "enabled")) {
			ents_del(base, "disabled");
			continue;
		}
		if (!strcmp(o->key, "crt") || !strcmp(o->key, "source")) {
			ents_push(st, base, o->key, o->text, 0);
			continue;
		}
		ents_set(st, base, o->key, o->text, 0);
	}
}

/* "127.0.0.1:80", ":80", "*:80", "0.0.0.0:80", "ipv4@:80" -> one form per address. */
static void canon_bind_addr(const char *a, struct strbuf *sb)
{
	if (!strncmp(a, "ipv4@", 5))
		a += 5;
	if (a[0] == ':')
		strbuf_addf(sb, "*%s", a);
	else if (!strncmp(a, "0.0.0.0:", 8))
		strbuf_addf(sb, "*%s", a + 7);
	else
		strbuf_addstr(sb, a);
}

/* A log target: "log ADDR [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]". */
static void canon_log(const struct cfg_line *l, size_t from, struct strbuf *sb)
{
	const char *addr = l->w[from], *fmt = "rfc3164", *len = NULL, *sample = NULL;
	size_t i = from + 1;

	if (!strncmp(addr, "udp@", 4))
		addr += 4;
	strbuf_addstr(sb, addr);
	/* an IPv4 address or a name without a port: 514 */
	if (addr[0] != '/' && strcmp(addr, "stdout") && strcmp(addr, "stderr") &&
	    strncmp(addr, "fd@", 3) && strncmp(addr, "ring@", 5) && !strchr(addr, ':') &&
	    !strchr(addr, '@'))
		strbuf_addstr(sb, ":514");
	while (i + 1 < l->nw) {
		if (!strcmp(l->w[i], "len"))
			len = l->w[i + 1];
		else if (!strcmp(l->w[i], "format"))
			fmt = l->w[i + 1];
		else if (!strcmp(l->w[i], "sample"))
			sample = l->w[i + 1];
		else
			break;
		i += 2;
	}
	if (len)
		strbuf_addf(sb, " len %s", len);
	strbuf_addf(sb, " format %s", fmt);
	if (sample)
		strbuf_addf(sb, " sample %s", sample);
	for (; i < l->nw; i++)
		add_word(sb, l->w[i], l->wflags[i]);
}

/* ---- building a proxy ---- */

/* HTTP connection modes and log formats are each one setting, whichever line wrote it. */
static const char *option_group(const char *opt)
{
	static const char *const conn[] = {"option httpclose", "option http-server-close",
					   "option http-keep-alive", NULL};
	static const char *const logf[] = {"option httplog", "option httpslog", "option tcplog",
					   NULL};
	static const char *const chk[] = {
		"option httpchk",     "option ssl-hello-chk", "option smtpchk",
		"option pgsql-check", "option redis-check",   "option mysql-check",
		"option ldap-check",  "option spop-check",    "option tcp-check",
		"option external-check", NULL};

	for (size_t i = 0; conn[i]; i++)
		if (!strcmp(opt, conn[i]))
			return "http-connection-mode";
	for (size_t i = 0; logf[i]; i++)
		if (!strcmp(opt, logf[i]))
			return "log-format";
	for (size_t i = 0; chk[i]; i++)
		if (!strcmp(opt, chk[i]))
			return "check-type";
	return NULL;
}

static unsigned kind_bit(enum cfg_kind k)
{
	return k == CFG_FRONTEND ? CFG_IN_F : k == CFG_BACKEND ? CFG_IN_B : CFG_IN_L;
}

unsigned cfgnorm_listen_side(const struct cfg_line *l, int has_stick)
{
	int neg;
	size_t nw;
	const struct cfg_kw *kw = cfg_kw_find(l, &neg, &nw);

	if (kw->flags & CFG_KW_BOTHSIDES)
		return 3;
	if (kw->name && !strcmp(kw->name, "stick-table"))
		return has_stick ? 2 : 1;
	if (kw->flags & CFG_KW_BSIDE)
		return 2;
	if (kw->name && !(kw->in & CFG_IN_F) && (kw->in & CFG_IN_B))
		return 2;
	return 1;
}

/* The side of an inherited keyword in a listen: every half where it is valid. */
static unsigned inherited_side(const struct cfg_kw *kw)
{
	unsigned s = 0;

	if (!kw->name)
		return 3;
	if (kw->in & CFG_IN_F)
		s |= 1;
	if (kw->in & CFG_IN_B)
		s |= 2;
	return s ? s : 3;
}

static void add_acl(struct pstate *st, const char *name, const char *def)
{
	if (st->nacls == st->aacls) {
		size_t na = st->aacls ? st->aacls * 2 : 8;
		struct acldef *p = realloc(st->acls, na * sizeof(*p));

		if (!p) {
			st->oom = 1;
			return;
		}
		st->acls = p;
		st->aacls = na;
	}
	st->acls[st->nacls].name = xstrdup(st, name);
	st->acls[st->nacls].def = xstrdup(st, def);
	st->nacls++;
}

/* Applies one line to the proxy state. dflt: the line comes from the defaults section; kind:
 * the proxy's kind; has_stick: for the listen split. */
static void apply_line(struct pstate *st, const struct cfg *cfg, const struct cfg_line *l,
		       int dflt, enum cfg_kind kind)
{
	int neg;
	size_t nw, first;
	const struct cfg_kw *kw;
	struct strbuf sb = STRBUF_INIT, key = STRBUF_INIT;
	unsigned side;
	char ms[32];

	if (!l->nw)
		return;
	if (l->directive || l->cond) {
		/* conditional blocks stay as written, in order */
		canon_words(cfg, l, 0, &sb);
		ents_push(st, &st->rules, "(conditional block)", sb.buf, 1);
		goto out;
	}
	kw = cfg_kw_find(l, &neg, &nw);
	first = (size_t)(!strcmp(l->w[0], "no") || !strcmp(l->w[0], "default"));
	if (dflt) {
		if (!(kw->in & kind_bit(kind)) && kw->name)
			goto out;
		if (!kw->name && kw->combine == CFG_LIST)
			goto out; /* unknown keywords of defaults: HAProxy would have refused them */
		side = kind == CFG_LISTEN ? inherited_side(kw) : 3;
	} else {
		side = kind == CFG_LISTEN ? cfgnorm_listen_side(l, st->has_stick) : 3;
	}
	/* the key: the keyword's words */
	for (size_t i = first; i < first + nw && i < l->nw; i++)
		strbuf_addf(&key, "%s%s", i > first ? " " : "", l->w[i]);
	switch (kw->combine) {
	case CFG_SET:
		if (neg) {
			ents_del(&st->set, key.buf);
			break;
		}
		if ((!strncmp(key.buf, "timeout ", 8) || !strcmp(key.buf, "stats refresh") ||
		     strstr(key.buf, "inspect-delay")) &&
		    l->nw == first + nw + 1 && cfgnorm_ms(l->w[first + nw], ms)) {
			ents_set(st, &st->set, key.buf, ms, side);
			break;
		}
		if (!strcmp(key.buf, "log-format")) {
			strbuf_addstr(&sb, "custom");
			canon_words(cfg, l, first + nw, &sb);
			ents_set(st, &st->set, "log-format", sb.buf, side);
			break;
		}
		canon_words(cfg, l, first + nw, &sb);
		if (!strcmp(key.buf, "stats uri") || !strcmp(key.buf, "stats enable"))
			ents_set(st, &st->set, "stats enable", "", side);
		if (strcmp(key.buf, "stats enable"))
			ents_set(st, &st->set, key.buf, sb.buf, side);
		break;
	case CFG_OPTION: {
		const char *grp = option_group(key.buf);

		canon_words(cfg, l, first + nw, &sb);
		if (!strcmp(l->w[0], "default")) {
			ents_del(&st->set, grp ? grp : key.buf);
			break;
		}
		if (grp) {
			struct ent *e = ents_find(&st->set, grp);

			if (neg) {
				if (e && !strncmp(e->text, key.buf + 7, strlen(key.buf + 7)))
					ents_del(&st->set, grp);
				break;
			}
			strbuf_reset(&key);
			strbuf_addstr(&key, l->w[first + 1]);
			if (sb.len)
				strbuf_addf(&key, " %s", sb.buf);
			ents_set(st, &st->set, grp, key.buf, side);
			break;
		}
		if (neg)
			ents_set(st, &st->set, key.buf, "off", side);
		else
			ents_set(st, &st->set, key.buf, sb.len ? sb.buf : "on", side);
		break;
	}
	case CFG_KEYED:
		/* errorfile CODE FILE, errorloc CODE URL: one per status code */
		if (l->nw > first + 1) {
			strbuf_reset(&key);
			strbuf_addf(&key, "error %s", l->w[first + 1]);
			canon_words(cfg, l, first, &sb);
			ents_set(st, &st->set, key.buf, sb.buf, side);
		}
		break;
	case CFG_LIST: {
		const char *fam = kw->family ? kw->family : l->w[first];

		if (!dflt && !strcmp(fam, "http-check") && !st->own_httpchk) {
			ents_del_family(&st->rules, fam); /* own rules replace inherited ones */
			st->own_httpchk = 1;
		}
		if (!dflt && !strcmp(fam, "tcp-check") && !st->own_tcpchk) {
			ents_del_family(&st->rules, fam);
			st->own_tcpchk = 1;
		}
		canon_words(cfg, l, first, &sb);
		ents_push(st, &st->rules, fam, sb.buf, side);
		break;
	}
	case CFG_ACL:
		if (l->nw > first + 2) {
			canon_words(cfg, l, first + 2, &sb);
			add_acl(st, l->w[first + 1], sb.buf);
		}
		break;
	case CFG_BIND: {
		struct ents g = {NULL, 0, 0};
		struct strbuf ps = STRBUF_INIT;

		if (l->nw < 2)
			break;
		param_groups(st, cfg, l, 2, &g);
		join_params(&g, &ps);
		/* "bind :80,:81 params" is two listeners */
		for (const char *a = l->w[1]; *a;) {
			size_t al = strcspn(a, ",");
			char *one = strndup(a, al);

			strbuf_reset(&sb);
			if (one)
				canon_bind_addr(one, &sb);
			strbuf_addstr(&sb, ps.buf);
			ents_push(st, &st->binds, NULL, sb.buf, 1);
			free(one);
			a += al + (a[al] == ',');
		}
		ents_release(&g);
		strbuf_release(&ps);
		break;
	}
	case CFG_DEFSRV: {
		struct ents g = {NULL, 0, 0};

		param_groups(st, cfg, l, 1, &g);
		merge_params(st, &st->defsrv, &g);
		ents_release(&g);
		break;
	}
	case CFG_SERVER: {
		struct ents g = {NULL, 0, 0}, own = {NULL, 0, 0};

		if (l->nw < 3)
			break;
		merge_params(st, &g, &st->defsrv);
		param_groups(st, cfg, l, 3, &own);
		merge_params(st, &g, &own);
		add_word(&sb, l->w[1], l->wflags[1]);
		add_word(&sb, l->w[2], l->wflags[2]);
		join_params(&g, &sb);
		ents_push(st, &st->servers, NULL, sb.buf, 2);
		ents_release(&g);
		ents_release(&own);
		break;
	}
	case CFG_LOG:
		if (neg) {
			ents_del_family(&st->logs, "log");
			for (size_t i = 0; i < st->logs.n; i++)
				if (st->logs.e[i].key) {
					free(st->logs.e[i].key);
					st->logs.e[i].key = NULL;
				}
			break;
		}
		if (l->nw > 1 && !strcmp(l->w[1], "global"))
			ents_push(st, &st->logs, "log", "global", side);
		else if (l->nw > 2) {
			canon_log(l, 1, &sb);
			ents_push(st, &st->logs, "log", sb.buf, side);
		}
		break;
	}
out:
	strbuf_release(&sb);
	strbuf_release(&key);
}

static int is_proxy(enum cfg_kind k)
{
	return k == CFG_FRONTEND || k == CFG_BACKEND || k == CFG_LISTEN;
}

const struct cfg_section *cfgnorm_defaults_of(const struct cfg *cfg, const struct cfg_section *s)
{
	const struct cfg_section *last = NULL;

	if (s->from) {
		for (size_t i = 0; i < cfg->n && &cfg->s[i] != s; i++)
			if (cfg->s[i].kind == CFG_DEFAULTS && !strcmp(cfg->s[i].name, s->from))
				last = &cfg->s[i];
		return last;
	}
	for (size_t i = 0; i < cfg->n && &cfg->s[i] != s; i++)
		if (cfg->s[i].kind == CFG_DEFAULTS)
			last = &cfg->s[i];
	return last;
}

/* Applies a defaults section (and the ones it inherits with "from"), at most 8 deep. */
static void apply_defaults(struct pstate *st, const struct cfg *cfg, const struct cfg_section *d,
			   enum cfg_kind kind, int depth)
{
	if (!d || depth > 8)
		return;
	if (d->from)
		apply_defaults(st, cfg, cfgnorm_defaults_of(cfg, d), kind, depth + 1);
	for (size_t i = 0; i < d->n; i++) {
		const struct cfg_line *l = &d->lines[i];
		int neg;
		size_t nw;
		const struct cfg_kw *kw = cfg_kw_find(l, &neg, &nw);

		/* rules in defaults count only in named ones */
		if ((kw->in & CFG_IN_DNAMED) && !d->name[0])
			continue;
		apply_line(st, cfg, l, 1, kind);
	}
}

/* ---- output ---- */

static int add_sect(struct cfgnorm *out, const char *key, unsigned lineno,
		    struct cfgnorm_sect **res)
{
	struct cfgnorm_sect *s;

	if (out->n == out->alloc) {
		size_t na = out->alloc ? out->alloc * 2 : 16;
		struct cfgnorm_sect *p = realloc(out->s, na * sizeof(*p));

		if (!p)
			return -1;
		out->s = p;
		out->alloc = na;
	}
	s = &out->s[out->n++];
	memset(s, 0, sizeof(*s));
	s->key = strdup(key);
	s->lineno = lineno;
	*res = s;
	return s->key ? 0 : -1;
}

static int sect_line(struct cfgnorm_sect *s, const char *text)
{
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 16;
		char **p = realloc(s->lines, na * sizeof(*p));

		if (!p)
			return -1;
		s->lines = p;
		s->alloc = na;
	}
	s->lines[s->n] = strdup(text);
	return s->lines[s->n++] ? 0 : -1;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The condition of a rule with ACL names replaced by their definitions, in parentheses like
 * anonymous ACLs ("{ path_beg /a }" and a named "acl x path_beg /a" both read "(path_beg /a)"),
 * and "or" written "||". */
static void expand_acls(const struct pstate *st, const char *text, struct strbuf *out)
{
	const char *p = text;
	int in_cond = 0, glue = 1; /* glue: no space before the next word */

	while (*p) {
		size_t l = strcspn(p, " ");
		char w[256];
		int found = 0;

		if (l < sizeof(w)) {
			memcpy(w, p, l);
			w[l] = '\0';
		} else {
			w[0] = '\0';
		}
		if (!in_cond && (!strcmp(w, "if") || !strcmp(w, "unless")))
			in_cond = 1;
		if (in_cond && (!strcmp(w, "}") || !strcmp(w, "or"))) {
			strbuf_addstr(out, !strcmp(w, "}") ? ")" : " ||");
			glue = 0;
		} else if (in_cond && (!strcmp(w, "{") || !strcmp(w, "!{"))) {
			if (!glue)
				strbuf_addch(out, ' ');
			strbuf_addstr(out, w[0] == '!' ? "!(" : "(");
			glue = 1;
		} else if (in_cond && w[0] && strcmp(w, "if") && strcmp(w, "unless")) {
			const char *name = w + (w[0] == '!');

			for (size_t i = 0; i < st->nacls; i++)
				if (!strcmp(st->acls[i].name, name)) {
					if (!found && !glue)
						strbuf_addch(out, ' ');
					strbuf_addstr(out, found ? " || " : w[0] == '!' ? "!(" : "(");
					strbuf_addstr(out, st->acls[i].def);
					found = 1;
				}
			if (found) {
				strbuf_addch(out, ')');
			} else {
				if (!glue)
					strbuf_addch(out, ' ');
				strbuf_addstr(out, w);
			}
			glue = 0;
		} else {
			if (!glue)
				strbuf_addch(out, ' ');
			strbuf_add(out, p, l);
			glue = 0;
		}
		p += l;
		while (*p == ' ')
			p++;
	}
}

/* Settings HAProxy uses when none is written: dropped so that writing them changes nothing. */
static int is_default_setting(const char *key, const char *val)
{
	static const char *const dv[][2] = {
		{"balance", "roundrobin"},
		{"retries", "3"},
		{"http-connection-mode", "http-keep-alive"},
		{"hash-type", "map-based"},
		{"http-reuse", "safe"},
		{NULL, NULL},
	};

	for (size_t i = 0; dv[i][0]; i++)
		if (!strcmp(key, dv[i][0]) && !strcmp(val, dv[i][1]))
			return 1;
	return 0;
}

/* Keys meaningful only when the proxy logs somewhere. */
static int logging_key(const char *key)
{
	static const char *const k[] = {"log-format",	      "log-format-sd",
					"error-log-format",   "option dontlognull",
					"option dontlog-normal", "option log-separate-errors",
					"option logasap",     "option log-health-checks",
					"log-tag",	      NULL};

	for (size_t i = 0; k[i]; i++)
		if (!strcmp(key, k[i]))
			return 1;
	return 0;
}

static int http_only_key(const char *key)
{
	return !strcmp(key, "http-connection-mode") || !strncmp(key, "error ", 6) ||
	       cfg_key_is_http(key);
}

struct gctx {
	const struct cfg *cfg;
	char **global_logs;
	size_t nglobal_logs;
};

/* Emits one proxy half (side 1: frontend, 2: backend, 3: whole) as section "KIND NAME". */
static int emit_proxy(struct cfgnorm *out, const struct gctx *g, const struct pstate *st,
		      const char *kind, const char *name, unsigned side, const char *dflt_backend,
		      unsigned lineno)
{
	struct cfgnorm_sect *s;
	struct strbuf sb = STRBUF_INIT, k = STRBUF_INIT;
	const struct ent *mode = NULL;
	int tcp, logs = 0, rc = -1;
	char **sorted = NULL;
	size_t ns = 0;

	strbuf_addf(&k, "%s %s", kind, name);
	if (add_sect(out, k.buf, lineno, &s) < 0)
		goto out;
	for (size_t i = 0; i < st->set.n; i++)
		if (st->set.e[i].key && !strcmp(st->set.e[i].key, "mode"))
			mode = &st->set.e[i];
	tcp = !mode || strcmp(mode->text, "http");
	strbuf_addf(&sb, "mode %s", tcp ? "tcp" : "http");
	sect_line(s, sb.buf);
	/* loggers, "log global" replaced by the global ones */
	for (size_t i = 0; i < st->logs.n; i++) {
		const struct ent *e = &st->logs.e[i];

		if (!e->key || !(e->side & side))
			continue;
		if (!strcmp(e->text, "global")) {
			for (size_t j = 0; j < g->nglobal_logs; j++, logs++) {
				strbuf_reset(&sb);
				strbuf_addf(&sb, "log %s", g->global_logs[j]);
				sect_line(s, sb.buf);
			}
			continue;
		}
		strbuf_reset(&sb);
		strbuf_addf(&sb, "log %s", e->text);
		sect_line(s, sb.buf);
		logs++;
	}
	/* binds, sorted */
	sorted = calloc(st->binds.n + st->set.n + 2, sizeof(char *));
	if (!sorted)
		goto out;
	for (size_t i = 0; i < st->binds.n; i++)
		if (side & 1)
			sorted[ns++] = st->binds.e[i].text;
	qsort(sorted, ns, sizeof(char *), str_cmp);
	for (size_t i = 0; i < ns; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "bind %s", sorted[i]);
		sect_line(s, sb.buf);
	}
	/* settings, sorted by key */
	ns = 0;
	for (size_t i = 0; i < st->set.n; i++) {
		const struct ent *e = &st->set.e[i];
		const char *val = e->text;
		char *t;

		if (!e->key || !(e->side & side) || !strcmp(e->key, "mode"))
			continue;
		if (tcp && http_only_key(e->key))
			continue;
		if (!logs && logging_key(e->key))
			continue;
		if (tcp && !strcmp(e->key, "log-format") && !strncmp(val, "http", 4))
			val = "tcplog"; /* HAProxy falls back to tcplog */
		/* a backend never logs traffic in its own format: the frontend's is used */
		if (!strcmp(kind, "backend") && !strcmp(e->key, "log-format"))
			continue;
		if (is_default_setting(e->key, val))
			continue;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "set %s%s%s", e->key, *val ? " = " : "", val);
		t = strdup(sb.buf);
		if (!t)
			goto out;
		sorted[ns++] = t;
	}
	if (dflt_backend && !ents_find(&st->set, "default_backend")) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "set default_backend = %s", dflt_backend);
		if (!(sorted[ns] = strdup(sb.buf)))
			goto out;
		ns++;
	}
	qsort(sorted, ns, sizeof(char *), str_cmp);
	for (size_t i = 0; i < ns; i++) {
		sect_line(s, sorted[i]);
		free(sorted[i]);
	}
	ns = 0;
	/* servers in order */
	for (size_t i = 0; i < st->servers.n; i++) {
		if (!(st->servers.e[i].side & side))
			continue;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "server %s", st->servers.e[i].text);
		sect_line(s, sb.buf);
	}
	/* rules: by family, in order inside each family (families sorted) */
	{
		const char *fams[64];
		size_t nf = 0;

		for (size_t i = 0; i < st->rules.n; i++) {
			const struct ent *e = &st->rules.e[i];
			size_t j;

			if (!e->key || !(e->side & side))
				continue;
			if (tcp && http_only_key(e->key))
				continue;
			for (j = 0; j < nf && strcmp(fams[j], e->key); j++)
				;
			if (j == nf && nf < 64)
				fams[nf++] = e->key;
		}
		qsort(fams, nf, sizeof(char *), str_cmp);
		for (size_t f = 0; f < nf; f++)
			for (size_t i = 0; i < st->rules.n; i++) {
				const struct ent *e = &st->rules.e[i];

				if (!e->key || !(e->side & side) || strcmp(e->key, fams[f]))
					continue;
				strbuf_reset(&sb);
				strbuf_addstr(&sb, "rule ");
				expand_acls(st, e->text, &sb);
				sect_line(s, sb.buf);
			}
	}
	rc = 0;
out:
	free(sorted);
	strbuf_release(&sb);
	strbuf_release(&k);
	return rc;
}

/* The listen's own lines decide which halves exist: a frontend half when it binds, a backend
 * half when it has backend-side lines (servers, balance, checks ...). */
void cfgnorm_listen_halves(const struct cfg_section *s, int *fe, int *be)
{
	int has_stick = 0;

	*fe = *be = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->lines[i].nw && !strcmp(s->lines[i].w[0], "stick"))
			has_stick = 1;
	for (size_t i = 2; i < s->head.nw; i++)
		if (strcmp(s->head.w[i - 1], "from") && strcmp(s->head.w[i], "from"))
			*fe = 1; /* "listen NAME ADDR" */
	for (size_t i = 0; i < s->n; i++) {
		const struct cfg_line *l = &s->lines[i];
		unsigned side;

		if (!l->nw || l->directive)
			continue;
		if (!strcmp(l->w[0], "bind"))
			*fe = 1;
		side = cfgnorm_listen_side(l, has_stick);
		if (side == 2)
			*be = 1;
	}
}

static int build_proxy(struct cfgnorm *out, const struct gctx *g, const struct cfg *cfg,
		       const struct cfg_section *s)
{
	struct pstate st;
	int rc = 0;
	const char *name = cfgnorm_canon_name(s);

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < s->n; i++)
		if (s->lines[i].nw && !strcmp(s->lines[i].w[0], "stick"))
			st.has_stick = 1;
	apply_defaults(&st, cfg, cfgnorm_defaults_of(cfg, s), s->kind, 0);
	/* "listen NAME ADDR" and "frontend NAME ADDR": the address of old configurations */
	if (s->head.nw > 2 && strcmp(s->head.w[2], "from")) {
		struct cfg_line bl = s->head;
		char bindw[] = "bind";
		char *w[3] = {bindw, s->head.w[2], NULL};
		unsigned char fl[2] = {0, s->head.wflags[2]};

		bl.w = w;
		bl.nw = 2;
		bl.wflags = fl;
		apply_line(&st, cfg, &bl, 0, s->kind);
	}
	for (size_t i = 0; i < s->n; i++)
		apply_line(&st, cfg, &s->lines[i], 0, s->kind);
	if (st.oom)
		rc = -1;
	else if (s->kind == CFG_FRONTEND)
		rc = emit_proxy(out, g, &st, "frontend", name, 3, NULL, s->head.lineno);
	else if (s->kind == CFG_BACKEND)
		rc = emit_proxy(out, g, &st, "backend", name, 3, NULL, s->head.lineno);
	else {
		int fe, be;

		cfgnorm_listen_halves(s, &fe, &be);
		if (fe)
			rc = emit_proxy(out, g, &st, "frontend", name, 1, be ? name : NULL,
					s->head.lineno);
		if (be && rc == 0)
			rc = emit_proxy(out, g, &st, "backend", name, 2, NULL, s->head.lineno);
	}
	pstate_release(&st);
	return rc;
}

/* global: log lines in order, the rest sorted; stats socket parameters sorted. */
static int build_global(struct cfgnorm *out, struct gctx *g, const struct cfg *cfg)
{
	struct cfgnorm_sect *s = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct pstate st;
	char **other = NULL;
	size_t no = 0, total = 0;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < cfg->n; i++)
		if (cfg->s[i].kind == CFG_GLOBAL)
			total += cfg->s[i].n;
	other = calloc(total + 2, sizeof(char *));
	if (!other || add_sect(out, "global", 0, &s) < 0)
		goto out;
	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_section *gs = &cfg->s[i];

		if (gs->kind != CFG_GLOBAL)
			continue;
		for (size_t j = 0; j < gs->n; j++) {
			const struct cfg_line *l = &gs->lines[j];
			char ms[32];

			strbuf_reset(&sb);
			if (!strcmp(l->w[0], "log") && l->nw > 2) {
				char **p;

				canon_log(l, 1, &sb);
				p = realloc(g->global_logs, (g->nglobal_logs + 1) * sizeof(char *));
				if (!p)
					goto out;
				g->global_logs = p;
				g->global_logs[g->nglobal_logs++] = strdup(sb.buf);
				strbuf_reset(&sb);
				strbuf_addf(&sb, "log %s", g->global_logs[g->nglobal_logs - 1]);
				sect_line(s, sb.buf);
				continue;
			}
			if (!strcmp(l->w[0], "stats") && l->nw > 2 && !strcmp(l->w[1], "socket")) {
				struct ents gr = {NULL, 0, 0};

				strbuf_addf(&sb, "stats socket %s", l->w[2]);
				param_groups(&st, cfg, l, 3, &gr);
				join_params(&gr, &sb);
				ents_release(&gr);
			} else if (!strcmp(l->w[0], "stats") && l->nw == 3 &&
				   !strcmp(l->w[1], "timeout") && cfgnorm_ms(l->w[2], ms)) {
				strbuf_addf(&sb, "stats timeout %s", ms);
			} else {
				canon_words(cfg, l, 0, &sb);
			}
			other[no++] = strdup(sb.buf);
		}
	}
	/* a stats socket without "stats timeout" has HAProxy's, 10s */
	{
		int sock = 0, tmo = 0;

		for (size_t i = 0; i < no; i++) {
			sock |= other[i] && !strncmp(other[i], "stats socket ", 13);
			tmo |= other[i] && !strncmp(other[i], "stats timeout ", 14);
		}
		if (sock && !tmo)
			other[no++] = strdup("stats timeout 10000");
	}
	qsort(other, no, sizeof(char *), str_cmp);
	for (size_t i = 0; i < no; i++)
		if (other[i])
			sect_line(s, other[i]);
	rc = 0;
out:
	for (size_t i = 0; other && i < no; i++)
		free(other[i]);
	free(other);
	pstate_release(&st);
	strbuf_release(&sb);
	return rc;
}

/* resolvers: nameserver addresses in order (names are cosmetic), settings with HAProxy's
 * defaults filled in. */
static int build_resolvers(struct cfgnorm *out, const struct cfg *cfg,
			   const struct cfg_section *r)
{
	static const char *const dflt[][2] = {
		{"accepted_payload_size", "512"}, {"resolve_retries", "3"},
		{"timeout resolve", "1000"},	  {"timeout retry", "1000"},
		{"hold valid", "10000"},	  {NULL, NULL},
	};
	struct cfgnorm_sect *s;
	struct strbuf sb = STRBUF_INIT, key = STRBUF_INIT;
	struct pstate st;
	int rc = -1;
	char ms[32];

	memset(&st, 0, sizeof(st));
	strbuf_addf(&key, "resolvers %s", r->name);
	if (add_sect(out, key.buf, r->head.lineno, &s) < 0)
		goto out;
	for (size_t i = 0; dflt[i][0]; i++)
		ents_set(&st, &st.set, dflt[i][0], dflt[i][1], 3);
	for (size_t i = 0; i < r->n; i++) {
		const struct cfg_line *l = &r->lines[i];

		strbuf_reset(&sb);
		strbuf_reset(&key);
		if (!strcmp(l->w[0], "nameserver") && l->nw > 2) {
			canon_words(cfg, l, 2, &sb);
			ents_push(&st, &st.rules, "nameserver", sb.buf, 3);
			continue;
		}
		if ((!strcmp(l->w[0], "hold") || !strcmp(l->w[0], "timeout")) && l->nw == 3 &&
		    cfgnorm_ms(l->w[2], ms)) {
			strbuf_addf(&key, "%s %s", l->w[0], l->w[1]);
			ents_set(&st, &st.set, key.buf, ms, 3);
			continue;
		}
		if (l->nw == 2) {
			ents_set(&st, &st.set, l->w[0], l->w[1], 3);
			continue;
		}
		canon_words(cfg, l, 0, &sb);
		ents_push(&st, &st.rules, "other", sb.buf, 3);
	}
	for (size_t i = 0; i < st.rules.n; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s %s", st.rules.e[i].key, st.rules.e[i].text);
		sect_line(s, sb.buf);
	}
	qsort(st.set.e, st.set.n, sizeof(*st.set.e), ent_cmp);
	for (size_t i = 0; i < st.set.n; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "set %s = %s", st.set.e[i].key, st.set.e[i].text);
		sect_line(s, sb.buf);
	}
	rc = st.oom ? -1 : 0;
out:
	pstate_release(&st);
	strbuf_release(&sb);
	strbuf_release(&key);
	return rc;
}

static int str_cmp(const void *a, const void *b);

/* Any other section (userlist, peers, cache, ...): its lines in order, canonical words; a
 * userlist's lines in any order (users and groups name each other, order means nothing). */
static int build_plain(struct cfgnorm *out, const struct cfg *cfg, const struct cfg_section *x)
{
	struct cfgnorm_sect *s;
	struct strbuf sb = STRBUF_INIT;

	if (x->kind == CFG_TOP)
		strbuf_addstr(&sb, "(before the first section)");
	else
		canon_words(cfg, &x->head, 0, &sb);
	if (add_sect(out, sb.buf, x->head.lineno, &s) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	for (size_t i = 0; i < x->n; i++) {
		strbuf_reset(&sb);
		canon_words(cfg, &x->lines[i], 0, &sb);
		sect_line(s, sb.buf);
	}
	if (x->kind == CFG_USERLIST)
		if (s->n)
			qsort(s->lines, s->n, sizeof(char *), str_cmp);
	strbuf_release(&sb);
	return 0;
}

static int sect_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cfgnorm_sect *)a)->key, ((const struct cfgnorm_sect *)b)->key);
}

int cfgnorm_build(const struct cfg *cfg, struct cfgnorm *out)
{
	struct gctx g = {cfg, NULL, 0};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (build_global(out, &g, cfg) < 0)
		goto out;
	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_section *s = &cfg->s[i];

		if (is_proxy(s->kind)) {
			if (build_proxy(out, &g, cfg, s) < 0)
				goto out;
		} else if (s->kind == CFG_RESOLVERS) {
			if (build_resolvers(out, cfg, s) < 0)
				goto out;
		} else if (s->kind == CFG_USERLIST || s->kind == CFG_OTHER) {
			if (build_plain(out, cfg, s) < 0)
				goto out;
		} else if (s->kind == CFG_TOP && s->n) {
			if (build_plain(out, cfg, s) < 0)
				goto out;
		}
	}
	if (out->n)
		qsort(out->s, out->n, sizeof(*out->s), sect_cmp);
	rc = 0;
out:
	for (size_t i = 0; i < g.nglobal_logs; i++)
		free(g.global_logs[i]);
	free(g.global_logs);
	if (rc < 0)
		cfgnorm_release(out);
	return rc;
}

void cfgnorm_release(struct cfgnorm *n)
{
	for (size_t i = 0; i < n->n; i++) {
		for (size_t j = 0; j < n->s[i].n; j++)
			free(n->s[i].lines[j]);
		free(n->s[i].lines);
		free(n->s[i].key);
	}
	free(n->s);
	memset(n, 0, sizeof(*n));
}

void cfgnorm_print(const struct cfgnorm *n, FILE *fp)
{
	for (size_t i = 0; i < n->n; i++) {
		fprintf(fp, "%s\n", n->s[i].key);
		for (size_t j = 0; j < n->s[i].n; j++)
			fprintf(fp, "    %s\n", n->s[i].lines[j]);
	}
}

/* Line differences of two sections by longest common subsequence (sections are short). */
static size_t diff_lines(const struct cfgnorm_sect *a, const struct cfgnorm_sect *b,
			 const char *la, const char *lb, struct strbuf *out)
{
	size_t n = a->n, m = b->n, diffs = 0;
	unsigned *t;

	if (n > 4000 || m > 4000 || !(t = calloc((n + 1) * (m + 1), sizeof(unsigned)))) {
		/* too long for the table: report the sections as different */
		strbuf_addf(out, "%s: differs (%zu and %zu lines)\n", a->key, n, m);
		return 1;
	}
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			t[i * (m + 1) + j] = !strcmp(a->lines[i], b->lines[j])
						     ? t[(i + 1) * (m + 1) + j + 1] + 1
						     : (t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1]
								? t[(i + 1) * (m + 1) + j]
								: t[i * (m + 1) + j + 1]);
	for (size_t i = 0, j = 0; i < n || j < m;) {
		if (i < n && j < m && !strcmp(a->lines[i], b->lines[j])) {
			i++, j++;
		} else if (j >= m || (i < n && t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
			strbuf_addf(out, "%s: only in %s: %s\n", a->key, la, a->lines[i++]);
			diffs++;
		} else {
			strbuf_addf(out, "%s: only in %s: %s\n", b->key, lb, b->lines[j++]);
			diffs++;
		}
	}
	free(t);
	return diffs;
}

size_t cfgnorm_diff(const struct cfgnorm *a, const struct cfgnorm *b, const char *la,
		    const char *lb, struct strbuf *out)
{
	size_t i = 0, j = 0, diffs = 0;

	while (i < a->n || j < b->n) {
		int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->s[i].key, b->s[j].key);

		if (c < 0) {
			strbuf_addf(out, "only in %s: %s\n", la, a->s[i++].key);
			diffs++;
		} else if (c > 0) {
			strbuf_addf(out, "only in %s: %s\n", lb, b->s[j++].key);
			diffs++;
		} else {
			diffs += diff_lines(&a->s[i++], &b->s[j++], la, lb, out);
		}
	}
	return diffs;
}
