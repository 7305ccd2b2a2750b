/* Inventory loading, validation and compilation into the typed model and the template data;
 * see inventory.h. One pass per section checks every key (all errors of a file in one run) and
 * builds the view; references and routing are resolved once every section is known. */
#include "inventory/inventory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "strbuf.h"

#define MAX_NAME INV_MAX_NAME
#define MAX_EPS INV_MAX_EPS
#define MAX_SVCS INV_MAX_SVCS
#define MAX_ITEMS INV_MAX_ITEMS

const struct inv_rule inv_rules[] = {
	{INV_RULE_HTTPSLOG, 205, 0, "on 2.4 hagen falls back to option httplog with a warning"},
	{INV_RULE_ERROR_LOG_FORMAT, 0, 0, "defaults.error_log_format is an error before 2.5"},
	{"nbproc", 0, 205, "never emitted"},
	{"tune.stick-counters, more than 3 track-sc", 208, 0, "hagen tracks only sc0"},
	{"compression algo-res/type-res", 208, 0,
	 "hagen emits plain compression algo/type everywhere"},
	{INV_RULE_CLIENT_HS, 300, 0, "entrypoints.*.timeouts.client_hs is an error before 3.0"},
	{"crt-store, guid", 300, 0, "never emitted"},
	{"log-profile", 301, 0, "never emitted"},
	{INV_RULE_ACCEPT_INVALID, 0, 301,
	 "accept_invalid_http renders option accept-unsafe-violations-in-http-* from 3.1"},
	{"global master-worker, program", 0, 301, "never emitted (deprecated)"},
	{"dispatch, transparent, option transparent", 0, 303,
	 "never emitted (deprecated in 3.3, removed in 3.5)"},
	{"stats socket ... expose-fd listeners", 0, 0,
	 "always emitted (needed on 2.4, harmless later)"},
	{NULL, 0, 0, NULL},
};

/* Append a release here (and its rules above) to support it: see "Adding a HAProxy release" in
 * docs/hagen.md. */
static const int targets[] = {204, 205, 206, 207, 208, 209, 300, 301, 302, 303, 304};

int inv_parse_target(const char *s, int *target)
{
	int64_t maj, min;
	const char *dot = s ? strchr(s, '.') : NULL;
	char a[8];

	if (!dot || (size_t)(dot - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(dot - s));
	a[dot - s] = '\0';
	if (parse_int64(a, 0, 99, &maj) < 0 || parse_int64(dot + 1, 0, 99, &min) < 0 ||
	    (dot[1] == '0' && dot[2]))
		return -1;
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (targets[i] == maj * 100 + min) {
			*target = (int)(maj * 100 + min);
			return 0;
		}
	return -1;
}

int inv_nearest_target(int version, int *target)
{
	size_t n = sizeof(targets) / sizeof(targets[0]);

	*target = targets[0];
	for (size_t i = 0; i < n; i++)
		if (targets[i] <= version)
			*target = targets[i];
	return *target == version ? 0 : -1;
}

const char *inv_targets_text(void)
{
	static char text[8 * sizeof(targets) / sizeof(targets[0])];
	size_t n = 0;

	if (!text[0])
		for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%d.%d", i ? ", " : "",
					      targets[i] / 100, targets[i] % 100);
	return text;
}

/* ---- compile state ---- */

struct ep {
	const char *name;
	const struct yn_node *key, *node;
	int tcp;
	struct yn_node *view;
	const char *default_svc; /* service name */
	const struct yn_node *default_at;
};

struct svc {
	const char *name;
	const struct yn_node *key, *node;
	int tcp;
	const struct yn_node *eps;   /* list of entrypoint names, or NULL (all of the same mode) */
	const struct yn_node *match; /* validated map, or NULL */
	int is_default;
	size_t longest; /* longest path pattern in match */
	int has_host, has_path;
	struct inv_backend *be; /* its typed model entry (c->backends); NULL when out of memory */
};

struct bindrec {
	char addr[80]; /* as rendered: "127.0.0.1:8080", ":8080", "[::]:80" */
	const struct yn_node *at;
	char owner[80]; /* "entrypoint 'web'" */
};

#define MAX_BINDS 1024

/* The rows "PREFIXkey" of a section of the keyword table, in row order, with their names inside
 * that map (rows_of). */
#define ROWSET_MAX 63
#define ROWSET_KEPT 32 /* rowsets a compile keeps (the code asks for about 20) */
struct rowset {
	char sec[48], prefix[48];   /* what it is for (copies) */
	const char *secp, *prefixp; /* ... and where the caller held them */
	size_t n;
	const struct key_row *row[ROWSET_MAX];
	const char *name[ROWSET_MAX + 1]; /* NULL-terminated: check_map's allowed keys */
};

struct comp {
	struct bindrec binds[MAX_BINDS];
	size_t nbinds;
	const char *file;
	struct diag_list *dl;
	int target;
	struct yn_node *root, *view;
	int oom;
	size_t vbytes; /* what the view holds so far, about (view_grow) */
	int too_big;   /* the view passed INV_MAX_OUTPUT: said once, nothing more is added */
	struct ep eps[MAX_EPS];
	size_t neps;
	struct svc svcs[MAX_SVCS];
	size_t nsvcs;
	const char *resolver_names[MAX_EPS];
	size_t nresolvers;
	const char *userlist_names[MAX_EPS];
	size_t nuserlists;
	const char *default_resolvers;
	int stop_rows;	      /* a row found the rest meaningless (the format version) */
	struct ep *ep;	      /* the entrypoint being checked (its rows' checkers) */
	struct strbuf ep_tls; /* its bind's tls arguments, " ssl crt ..." */
	char tcp_who[96];     /* "entrypoint 'NAME'" while the rows of a tcp one run, else "" */
	struct svc *svc;      /* the service being checked (its rows' checkers) */
	const char *svc_res;  /* its resolvers: its own, or defaults.resolvers */
	const char *svc_hc;   /* its health check type: "http", "tcp" or "none" */
	int svc_check;	      /* its servers get "check" */
	int svc_cookie;	      /* sticky cookie: its servers get "cookie NAME" */
	struct strbuf svc_ds; /* its default-server arguments, " inter 2s fall 3 ..." */
	const struct yn_node *srv_list; /* the servers of c->svc; srv_idx is the one checked */
	size_t srv_idx;
	const char *srv_name; /* its name when good, and what its model entry gets: */
	int64_t srv_weight;
	int srv_drain, srv_backup, srv_maint;
	int need_http, need_tcp;
	int logging;		      /* global.log has targets */
	struct strbuf secrets;	      /* NUL-separated variable names */
	struct inv_backend *backends; /* the typed model: one per service (MAX_SVCS, owned) */
	size_t nbackends;
	struct rowset rowsets[ROWSET_KEPT]; /* rows_of's, never replaced once made */
	size_t nrowsets;
};

static void err_at(struct comp *c, const struct yn_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err_at(struct comp *c, const struct yn_node *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(c->dl, DIAG_ERROR, c->file, at ? at->line : 0, at ? at->col : 0, "%s", msg);
}

static void warn_at(struct comp *c, const struct yn_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn_at(struct comp *c, const struct yn_node *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(c->dl, DIAG_WARNING, c->file, at ? at->line : 0, at ? at->col : 0, "%s", msg);
}

/* Shows at most 60 bytes of a user value in a message, control bytes escaped. */
static const char *show(const struct yn_node *n, char *buf, size_t sz)
{
	size_t o = 0;

	if (!n || n->kind != YN_SCALAR)
		return n ? yn_kind_name(n) : "";
	for (size_t i = 0; i < n->len && o + 5 < sz; i++) {
		unsigned char ch = (unsigned char)n->str[i];

		if (i >= 60) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f) {
			int w = snprintf(buf + o, sz - o, "\\x%02x", ch);

			if (w < 0 || (size_t)w >= sz - o)
				break;
			o += (size_t)w;
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* What HAProxy does with traffic that has no server to go to, by mode (http, tcp): the text of
 * the warnings about an entrypoint without a service and a service without a server. */
static const char *const no_server_effect[2] = {
	"every request gets 503",
	"every connection is accepted and closed at once (logged as <NOSRV>, state SC)",
};

static void vset(struct comp *c, struct yn_node *map, const char *key, const char *s,
		 const struct yn_node *at);

/* ---- names and the typed model ---- */

const char *inv_frontend_name(const char *name, char *buf, size_t sz)
{
	snprintf(buf, sz, "fe_%s", name);
	return buf;
}

const char *inv_backend_name(const char *name, char *buf, size_t sz)
{
	snprintf(buf, sz, "be_%s", name);
	return buf;
}

/* The model's backend for service s: its name is the view's "backend" value (the naming rule),
 * its service the inventory's key; both borrowed. NULL when out of memory. */
static struct inv_backend *model_backend(struct comp *c, const char *service, struct yn_node *v,
					 const struct yn_node *at)
{
	struct inv_backend *be;
	char buf[INV_PROXY_NAME_MAX];

	if (!c->backends && !(c->backends = calloc(MAX_SVCS, sizeof(*c->backends)))) {
		c->oom = 1;
		return NULL;
	}
	vset(c, v, "backend", inv_backend_name(service, buf, sizeof(buf)), at);
	if (!yn_get(v, "backend"))
		return NULL;
	be = &c->backends[c->nbackends++];
	be->name = yn_get(v, "backend")->str;
	be->service = service;
	return be;
}

/* Room for n more servers of be (one allocation per list). Returns 0 or -1 (c->oom). */
static int model_reserve(struct comp *c, struct inv_backend *be, size_t n)
{
	struct inv_server *s = realloc(be->servers, (be->n + n) * sizeof(*s));

	if (!s) {
		c->oom = 1;
		return -1;
	}
	be->servers = s;
	return 0;
}

/* Adds a server to be (room reserved); name is borrowed. */
static void model_server(struct inv_backend *be, const char *name, int64_t weight, int backup,
			 int maint, int slot)
{
	struct inv_server *s = &be->servers[be->n++];

	s->name = name;
	s->weight = weight;
	s->backup = backup;
	s->maint = maint;
	s->slot = slot;
}

/* server-template PREFIX SLOTS ...: HAProxy names the servers PREFIX1..PREFIXn. */
static void model_slots(struct comp *c, struct inv_backend *be, const char *prefix, int64_t slots)
{
	size_t each = strlen(prefix) + 8, o = 0; /* slots <= 10000: at most 5 digits */

	if (!be || be->slot_names || model_reserve(c, be, (size_t)slots) < 0)
		return;
	if (!(be->slot_names = malloc(each * (size_t)slots))) {
		c->oom = 1;
		return;
	}
	be->slots = (int)slots;
	for (int64_t k = 1; k <= slots; k++, o += each) {
		snprintf(be->slot_names + o, each, "%s%lld", prefix, (long long)k);
		model_server(be, be->slot_names + o, 1, 0, 0, (int)k);
	}
}

static void model_release(struct inv_backend *b, size_t n)
{
	for (size_t i = 0; b && i < n; i++) {
		free(b[i].servers);
		free(b[i].slot_names);
	}
	free(b);
}

int inv_load_report(const char *file, const struct inv_opts *opts, struct inv *inv, FILE *fp,
		    const char *prog)
{
	struct diag_list dl = DIAG_LIST_INIT;
	int rc;

	dl.max = INV_MAX_DIAGS;
	rc = inv_load(file, opts, inv, &dl);
	diag_sort(&dl);
	diag_print(&dl, fp, prog);
	diag_release(&dl);
	return rc;
}

int inv_load_msg(const char *file, const struct inv_opts *opts, struct inv *inv, char *err,
		 size_t errsz)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const struct diag *d = NULL;
	int rc = inv_load(file, opts, inv, &dl);

	diag_sort(&dl);
	for (size_t i = 0; rc && i < dl.n && !d; i++)
		if (dl.items[i].level == DIAG_ERROR)
			d = &dl.items[i];
	if (rc && d) {
		int n = snprintf(err, errsz, "%s", d->file ? d->file : file);

		if (d->line && n >= 0 && (size_t)n < errsz)
			n += snprintf(err + n, errsz - (size_t)n, d->col ? ":%u:%u" : ":%u",
				      d->line, d->col);
		if (n >= 0 && (size_t)n < errsz)
			n += snprintf(err + n, errsz - (size_t)n, ": %s", d->msg);
		if (dl.errors > 1 && n >= 0 && (size_t)n < errsz)
			snprintf(err + n, errsz - (size_t)n, " (and %zu more errors)",
				 dl.errors - 1);
	} else if (rc) {
		snprintf(err, errsz, "%s: cannot be read", file);
	}
	diag_release(&dl);
	return rc;
}

const struct inv_backend *inv_backend_find(const struct inv *inv, const char *name)
{
	for (size_t i = 0; inv && i < inv->nbackends; i++)
		if (!strcmp(inv->backends[i].name, name))
			return &inv->backends[i];
	return NULL;
}

/* ---- view building ---- */

/* Counts bytes the view is about to hold. The rendered file prints (nearly) everything the
 * view holds, so a view past the output limit (INV_MAX_OUTPUT) can only fail later, after
 * using many times that in memory and time: an inventory whose aliases multiply (services x
 * entrypoints x match lists) stops here, at the first node past the limit, with the limit
 * named. Returns 0, or -1 when over (said once; the caller adds nothing). */
static int view_grow(struct comp *c, size_t bytes, const struct yn_node *at)
{
	if (c->too_big)
		return -1;
	c->vbytes += bytes + sizeof(struct yn_node);
	if (c->vbytes <= INV_MAX_OUTPUT)
		return 0;
	c->too_big = 1;
	err_at(c, at,
	       "the configuration would be larger than %u MiB (hagen's output limit): the "
	       "inventory multiplies (services x entrypoints x match lists, aliases); stopped "
	       "here",
	       INV_MAX_OUTPUT >> 20);
	return -1;
}

static struct yn_node *vscalar(struct comp *c, const char *s, const struct yn_node *at)
{
	struct yn_node *n;

	if (view_grow(c, strlen(s) + 1, at))
		return NULL;
	if (!(n = yn_new_scalar(s, at ? at->line : 0, at ? at->col : 0)))
		c->oom = 1;
	return n;
}

static void vset(struct comp *c, struct yn_node *map, const char *key, const char *s,
		 const struct yn_node *at)
{
	struct yn_node *n;

	if (map && (n = vscalar(c, s, at)) && yn_map_set(map, key, n) < 0)
		c->oom = 1;
}

static void vsetf(struct comp *c, struct yn_node *map, const char *key, const struct yn_node *at,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void vsetf(struct comp *c, struct yn_node *map, const char *key, const struct yn_node *at,
		  const char *fmt, ...)
{
	char small[256]; /* most values fit: no allocation but the node's own (render speed) */
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		vset(c, map, key, small, at);
		return;
	}
	va_start(ap, fmt);
	if (strbuf_vaddf(&sb, fmt, ap) < 0)
		c->oom = 1;
	va_end(ap);
	vset(c, map, key, sb.buf, at);
	strbuf_release(&sb);
}

static struct yn_node *vmap(struct comp *c, struct yn_node *parent, const char *key,
			    const struct yn_node *at)
{
	struct yn_node *m;

	if (view_grow(c, 0, at))
		return NULL;
	m = yn_new_map(at ? at->line : 0, at ? at->col : 0);
	if (!m || !parent || yn_map_set(parent, key, m) < 0) {
		c->oom = 1;
		return NULL;
	}
	return m;
}

static struct yn_node *vseq(struct comp *c, struct yn_node *parent, const char *key,
			    const struct yn_node *at)
{
	struct yn_node *s = yn_get(parent, key);

	if (s)
		return s;
	if (view_grow(c, 0, at))
		return NULL;
	s = yn_new_seq(at ? at->line : 0, at ? at->col : 0);
	if (!s || !parent || yn_map_set(parent, key, s) < 0) {
		c->oom = 1;
		return NULL;
	}
	return s;
}

static void vpush(struct comp *c, struct yn_node *seq, const char *s, const struct yn_node *at)
{
	struct yn_node *n;

	if (seq && (n = vscalar(c, s, at)) && yn_seq_push(seq, n) < 0)
		c->oom = 1;
}

static struct yn_node *vpush_map(struct comp *c, struct yn_node *seq, const struct yn_node *at)
{
	struct yn_node *m;

	if (view_grow(c, 0, at))
		return NULL;
	m = yn_new_map(at ? at->line : 0, at ? at->col : 0);

	if (!m || !seq || yn_seq_push(seq, m) < 0) {
		c->oom = 1;
		return NULL;
	}
	return m;
}

/* Bytes of the text in the match lists of s. */
static size_t match_bytes(const struct svc *s)
{
	size_t n = 0;

	for (size_t k = 0; s->match && s->match->kind == YN_MAP && k < s->match->n; k++) {
		const struct yn_node *l = s->match->pairs[k].value;

		for (size_t j = 0; j < (l->kind == YN_SEQ ? l->n : 1); j++) {
			const struct yn_node *it = l->kind == YN_SEQ ? l->items[j] : l;

			n += it->kind == YN_SCALAR ? it->len + 1 : 0;
		}
	}
	return n;
}

/* Each frontend copies the match lists of every service it routes into its ACLs: an inventory
 * of aliases (many services x many entrypoints x long lists) multiplies them. Checks their
 * total (an upper bound: a service counts once per entrypoint it may attach to) against the
 * output limit before any is built. Returns 0, or -1 (said). */
static int routes_fit(struct comp *c)
{
	size_t est = 0, neps[2] = {0, 0};

	for (size_t i = 0; i < c->neps; i++)
		neps[c->eps[i].tcp ? 1 : 0]++;
	for (size_t i = 0; i < c->nsvcs; i++) {
		const struct svc *s = &c->svcs[i];
		size_t n = s->eps ? (s->eps->kind == YN_SEQ ? s->eps->n : 1) : neps[s->tcp ? 1 : 0];

		if (s->match)
			est += match_bytes(s) * n;
	}
	if (c->vbytes + est <= INV_MAX_OUTPUT)
		return 0;
	return view_grow(c, est, c->nsvcs ? c->svcs[0].key : NULL);
}

static void vorigin(struct comp *c, struct yn_node *map, const struct yn_node *at)
{
	if (at)
		vsetf(c, map, "origin", at, "%s:%u", c->file, at->line);
	else
		vset(c, map, "origin", "built-in defaults", NULL);
}

/* ---- checking values ---- */

/* Checks that n is a map whose keys are all in allowed (NULL-terminated). Unknown keys are
 * errors with a suggestion. Returns 0 when n is a map, -1 (reported) otherwise. */
static int check_map(struct comp *c, const struct yn_node *n, const char *what,
		     const char *const *allowed)
{
	size_t na = 0;

	if (!n || n->kind != YN_MAP) {
		err_at(c, n, "%s must be a map, not a %s", what, yn_kind_name(n));
		return -1;
	}
	while (allowed[na])
		na++;
	for (size_t i = 0; i < n->n; i++) {
		const struct yn_node *k = n->pairs[i].key;
		const char *sug;
		size_t j;
		char b[80];

		if (yn_is_text(k)) {
			for (j = 0; j < na; j++)
				if (k->str[0] == allowed[j][0] && !strcmp(k->str, allowed[j]))
					break;
			if (j < na)
				continue;
		}
		sug = yn_is_text(k) ? diag_suggest(k->str, allowed, na) : NULL;
		if (sug)
			err_at(c, k, "unknown key '%s' in %s (did you mean '%s'?)",
			       show(k, b, sizeof(b)), what, sug);
		else
			err_at(c, k, "unknown key '%s' in %s", show(k, b, sizeof(b)), what);
	}
	return 0;
}

enum skind {
	S_NAME,	 /* [A-Za-z0-9_.:-], as HAProxy names proxies, servers, ACLs */
	S_TOKEN, /* one directive argument: no space, quote, '#', '\\' or control byte */
	S_PATH,	 /* a URI path: a token that starts with '/' */
	S_TEXT,	 /* free text, rendered quoted (see quote_text): no control byte */
	S_LINE,	 /* a raw configuration line: no control byte */
};

static int name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == ':' || ch == '-';
}

/* Checks a scalar string of kind k. Returns its text, or NULL (reported). */
static const char *check_str(struct comp *c, const struct yn_node *n, const char *what,
			     enum skind k)
{
	char b[80];

	if (!n || n->kind != YN_SCALAR || (yn_is_null(n) && k != S_TEXT && k != S_LINE)) {
		err_at(c, n, "%s must be a string, not a %s", what, yn_kind_name(n));
		return NULL;
	}
	if (!yn_is_text(n)) {
		err_at(c, n, "%s contains a NUL byte", what);
		return NULL;
	}
	if (!n->len && k != S_TEXT) {
		err_at(c, n, "%s is empty", what);
		return NULL;
	}
	if (n->len > 4096) {
		err_at(c, n, "%s is longer than 4096 bytes", what);
		return NULL;
	}
	for (size_t i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->str[i];

		if (ch < 0x20 || ch == 0x7f) {
			err_at(c, n,
			       "%s '%s' contains a control character (a newline would break out of "
			       "its directive)",
			       what, show(n, b, sizeof(b)));
			return NULL;
		}
		if (k == S_NAME && !name_char((char)ch)) {
			err_at(c, n, "bad %s '%s': use only letters, digits, '_', '.', ':' and '-'",
			       what, show(n, b, sizeof(b)));
			return NULL;
		}
		if ((k == S_TOKEN || k == S_PATH) &&
		    (ch == ' ' || ch == '"' || ch == '\'' || ch == '#' || ch == '\\')) {
			err_at(c, n,
			       "%s '%s' must be one word: spaces, quotes, '#' and '\\' would break "
			       "out of its directive",
			       what, show(n, b, sizeof(b)));
			return NULL;
		}
		if (k == S_TEXT && ch == '\'' && strpbrk(n->str, "\"\\$")) {
			err_at(c, n,
			       "%s '%s' mixes a single quote with '\"', '\\' or '$': it cannot be "
			       "quoted safely",
			       what, show(n, b, sizeof(b)));
			return NULL;
		}
	}
	if (k == S_NAME && n->len > MAX_NAME) {
		err_at(c, n, "%s '%s' is longer than %d characters", what, show(n, b, sizeof(b)),
		       MAX_NAME);
		return NULL;
	}
	if (k == S_PATH && n->str[0] != '/') {
		err_at(c, n, "%s '%s' must start with '/'", what, show(n, b, sizeof(b)));
		return NULL;
	}
	return n->str;
}

/* s (checked S_TEXT) as one HAProxy argument: in single quotes (no expansion at all), or in
 * double quotes when s holds a single quote (check_str made sure it has no '"', '\\', '$'). */
static const char *quote_text(const char *s, char *buf, size_t sz)
{
	snprintf(buf, sz, strchr(s, '\'') ? "\"%s\"" : "'%s'", s);
	return buf;
}

/* Integer in [min, max]. Returns 1 and sets *out, 0 when n is NULL, -1 (reported). */
static int check_int(struct comp *c, const struct yn_node *n, const char *what, int64_t min,
		     int64_t max, int64_t *out)
{
	char b[80];

	if (!n)
		return 0;
	if (yn_int64(n, min, max, out) == 0)
		return 1;
	if (n->kind == YN_SCALAR && n->style != YN_PLAIN) {
		int64_t v;

		if (parse_int64(n->str, min, max, &v) == 0) {
			err_at(c, n,
			       "%s must be a number, not the string \"%s\" (remove the quotes)",
			       what, show(n, b, sizeof(b)));
			return -1;
		}
	}
	err_at(c, n, "%s must be a whole number from %lld to %lld, not '%s'", what, (long long)min,
	       (long long)max, show(n, b, sizeof(b)));
	return -1;
}

static int check_bool(struct comp *c, const struct yn_node *n, const char *what, int *out)
{
	char b[80];

	if (!n)
		return 0;
	if (yn_bool(n, out) == 0)
		return 1;
	err_at(c, n, "%s must be true or false, not '%s'", what, show(n, b, sizeof(b)));
	return -1;
}

/* A duration ("5s", "100ms", "1h", or a number of ms). Returns its text, NULL when absent or bad
 * (*bad set when reported). */
static const char *check_dur(struct comp *c, const struct yn_node *n, const char *what, int *bad)
{
	uint64_t ms;
	char b[80];

	if (!n)
		return NULL;
	if (n->kind == YN_SCALAR && yn_is_text(n) && parse_duration_ms(n->str, &ms) == 0) {
		if (ms > 2147483647u) {
			err_at(c, n, "%s '%s' is longer than HAProxy accepts (about 24 days)", what,
			       show(n, b, sizeof(b)));
			*bad = 1;
			return NULL;
		}
		return n->str;
	}
	err_at(c, n,
	       "%s: bad duration '%s' (a number with a unit: us, ms, s, m, h, d; no unit means ms)",
	       what, show(n, b, sizeof(b)));
	*bad = 1;
	return NULL;
}

/* host:port as a string for HAProxy (IPv6 kept in brackets). allow_any: ":8080" and "*:8080".
 * need_ip: the host must be an IP literal (bind). Returns 0 or -1 (reported). */
static int check_addr(struct comp *c, const struct yn_node *n, const char *what, int allow_any,
		      int need_ip, struct strbuf *out)
{
	char host[256], b[80];
	unsigned port;
	int v6;
	const char *why = NULL;

	if (!check_str(c, n, what, S_TOKEN))
		return -1;
	if (parse_hostport(n->str, host, sizeof(host), &port, &v6, &why) < 0) {
		err_at(c, n, "bad %s '%s': %s", what, show(n, b, sizeof(b)),
		       why ? why : "expected HOST:PORT");
		return -1;
	}
	if (!allow_any && (!host[0] || !strcmp(host, "*"))) {
		err_at(c, n, "bad %s '%s': a host is needed before the port", what,
		       show(n, b, sizeof(b)));
		return -1;
	}
	if (need_ip && host[0] && strcmp(host, "*") && !parse_is_ip(host)) {
		err_at(c, n, "bad %s '%s': a bind address must be an IP address, '*' or empty",
		       what, show(n, b, sizeof(b)));
		return -1;
	}
	/* "[%s]:%u" or "%s:%u", without printf: one per server of the inventory */
	char num[12], *d = num + sizeof(num);

	do
		*--d = (char)('0' + port % 10);
	while (port /= 10);
	strbuf_reset(out);
	if (v6)
		strbuf_addch(out, '[');
	strbuf_addstr(out, host);
	strbuf_add(out, v6 ? "]:" : ":", v6 ? 2 : 1);
	strbuf_add(out, d, (size_t)(num + sizeof(num) - d));
	return 0;
}

/* Two listeners on one address and port fail when HAProxy starts (haproxy -c does not see it).
 * IPv4 wildcards (":P", "*:P", "0.0.0.0:P") clash with every IPv4 address on port P. */
static void bind_claim(struct comp *c, const char *addr, const struct yn_node *at,
		       const char *owner)
{
	const char *pa = strrchr(addr, ':');
	int wild_a = addr[0] == ':' || !strncmp(addr, "*:", 2) || !strncmp(addr, "0.0.0.0:", 8);

	for (size_t i = 0; pa && i < c->nbinds; i++) {
		const struct bindrec *b = &c->binds[i];
		const char *pb = strrchr(b->addr, ':');
		int wild_b = b->addr[0] == ':' || !strncmp(b->addr, "*:", 2) ||
			     !strncmp(b->addr, "0.0.0.0:", 8);

		if (!pb || strcmp(pa, pb))
			continue;
		if (!strcmp(addr, b->addr) ||
		    ((wild_a || wild_b) && addr[0] != '[' && b->addr[0] != '[')) {
			err_at(c, at, "%s binds %s, which %s already uses (line %u)", owner, addr,
			       b->owner, b->at->line);
			return;
		}
	}
	if (c->nbinds < MAX_BINDS) {
		struct bindrec *b = &c->binds[c->nbinds++];

		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		snprintf(b->owner, sizeof(b->owner), "%s", owner);
		b->at = at;
	}
}

/* A list, or a single scalar standing for a one-item list. Returns the node to iterate, or
 * NULL (reported when bad). *single tells which. */
static const struct yn_node *check_list(struct comp *c, const struct yn_node *n, const char *what,
					int *single)
{
	*single = 0;
	if (!n)
		return NULL;
	if (n->kind == YN_SEQ) {
		if (n->n > MAX_ITEMS) {
			err_at(c, n, "%s has more than %d items", what, MAX_ITEMS);
			return NULL;
		}
		return n;
	}
	if (n->kind == YN_SCALAR && !yn_is_null(n)) {
		*single = 1;
		return n;
	}
	err_at(c, n, "%s must be a list, not a %s", what, yn_kind_name(n));
	return NULL;
}

static const struct yn_node *list_item(const struct yn_node *l, int single, size_t i)
{
	if (single)
		return i == 0 ? l : NULL;
	return yn_at(l, i);
}

static size_t list_len(const struct yn_node *l, int single)
{
	return !l ? 0 : single ? 1 : l->n;
}

static const char *one_of(struct comp *c, const struct yn_node *n, const char *what,
			  const char *const *vals)
{
	size_t nv = 0;
	const char *sug;
	char b[80];

	if (!n)
		return NULL;
	while (vals[nv])
		nv++;
	if (n->kind == YN_SCALAR && yn_is_text(n))
		for (size_t i = 0; i < nv; i++)
			if (!strcmp(n->str, vals[i]))
				return vals[i];
	sug = n->kind == YN_SCALAR && yn_is_text(n) ? diag_suggest(n->str, vals, nv) : NULL;
	{
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < nv; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", vals[i]);
		if (sug)
			err_at(c, n, "bad %s '%s' (did you mean '%s'?)", what,
			       show(n, b, sizeof(b)), sug);
		else
			err_at(c, n, "bad %s '%s' (expected one of: %s)", what,
			       show(n, b, sizeof(b)), sb.buf);
		strbuf_release(&sb);
	}
	return NULL;
}

static void ref_error(struct comp *c, const struct yn_node *n, const char *kind,
		      const char *const *names, size_t nn)
{
	const char *sug = yn_is_text(n) ? diag_suggest(n->str, names, nn) : NULL;
	char b[80];

	if (sug)
		err_at(c, n, "unknown %s '%s' (did you mean '%s'?)", kind, show(n, b, sizeof(b)),
		       sug);
	else if (nn)
		err_at(c, n, "unknown %s '%s'", kind, show(n, b, sizeof(b)));
	else
		err_at(c, n, "unknown %s '%s' (none is defined)", kind, show(n, b, sizeof(b)));
}

static int find_name(const char *const *names, size_t nn, const char *s)
{
	for (size_t i = 0; i < nn; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* The start of one named item of a section (a resolvers, a userlist, an entrypoint, a
 * service): checks its key k as a name (what says which, in messages), then pushes a map onto
 * seq holding "name" and "origin". Returns the name and sets *view (NULL when out of memory),
 * or returns NULL (reported) when the name is bad. */
static const char *named_entry(struct comp *c, struct yn_node *seq, const struct yn_node *k,
			       const char *what, struct yn_node **view)
{
	const char *name = check_str(c, k, what, S_NAME);

	*view = NULL;
	if (!name)
		return NULL;
	*view = vpush_map(c, seq, k);
	vset(c, *view, "name", name, k);
	vorigin(c, *view, k);
	return name;
}

/* Checks that section n (key in the inventory) maps names to items (what). Returns 0, or -1
 * (reported). */
static int check_named_map(struct comp *c, const struct yn_node *n, const char *key,
			   const char *what)
{
	if (n->kind == YN_MAP)
		return 0;
	err_at(c, n, "'%s' must be a map of names to %s, not a %s", key, what, yn_kind_name(n));
	return -1;
}

/* Renders extra: a list of raw lines (or one string) into view[key]. */
/* The keyword of s (its first word) when it starts a configuration section, else NULL. An
 * extra line is raw, but it stays inside the section it is written for. */
static const char *section_keyword(const char *s)
{
	static const char *const kw[] = {"global",	"defaults",  "frontend",    "backend",
					 "listen",	"userlist",  "resolvers",   "peers",
					 "mailers",	"program",   "ring",	    "cache",
					 "http-errors", "crt-store", "log-forward", "fcgi-app",
					 "traces",	"acme",	     "log-profile", NULL};
	size_t n;

	s += strspn(s, " \t");
	n = strcspn(s, " \t");
	for (size_t i = 0; kw[i]; i++)
		if (strlen(kw[i]) == n && !strncmp(s, kw[i], n))
			return kw[i];
	return NULL;
}

static void do_extra(struct comp *c, const struct yn_node *n, struct yn_node *view)
{
	int single;
	const struct yn_node *l = check_list(c, n, "'extra'", &single);
	struct yn_node *seq = vseq(c, view, "extra", n);

	for (size_t i = 0; i < list_len(l, single); i++) {
		const struct yn_node *it = list_item(l, single, i);
		const char *s = check_str(c, it, "extra line", S_LINE), *kw;

		if (s && (kw = section_keyword(s))) {
			err_at(c, it,
			       "extra line '%.60s' would start a new '%s' section; extra lines go "
			       "inside the section they are written for",
			       s, kw);
			continue;
		}
		if (s)
			vpush(c, seq, s, it);
	}
}

/* Timeouts: keys of allowed map to HAProxy names (same order). */
struct tmo {
	const char *key, *haproxy;
	const char *rule; /* the inv_rules row that says which targets accept it, or NULL: all */
};

static void do_timeouts(struct comp *c, const struct yn_node *n, const struct tmo *t,
			struct yn_node *view, struct yn_node *fallback, int report)
{
	const char *keys[24];
	size_t nk = 0;
	int bad = 0;
	struct yn_node *seq = vseq(c, view, "timeouts", n);

	for (; t[nk].key && nk < 23; nk++)
		keys[nk] = t[nk].key;
	keys[nk] = NULL;
	if (n && n->kind != YN_MAP) {
		if (report)
			check_map(c, n, "timeouts", keys);
		n = NULL;
	} else if (n && report) {
		check_map(c, n, "timeouts", keys);
	}
	for (size_t i = 0; i < nk; i++) {
		const struct yn_node *v = yn_get(n, t[i].key);
		const struct yn_node *fb = yn_get(fallback, t[i].key);
		const char *s = NULL;
		uint64_t ms;
		struct yn_node *m;

		if (report)
			s = check_dur(c, v, t[i].key, &bad);
		else if (v && yn_is_text(v) && parse_duration_ms(v->str, &ms) == 0 &&
			 ms <= 2147483647u)
			s = v->str;
		if (!s && !fb)
			continue;
		if (s && t[i].rule && !inv_target_accepts(c->target, t[i].rule)) {
			int since, until;

			inv_rule_targets(inv_rule_find(t[i].rule), &since, &until);
			if (report)
				err_at(c, v,
				       "timeout %s needs HAProxy %d.%d or later (target is %d.%d)",
				       t[i].haproxy, since / 100, since % 100, c->target / 100,
				       c->target % 100);
			continue;
		}
		m = vpush_map(c, seq, s ? v : fb);
		vset(c, m, "name", t[i].haproxy, NULL);
		vset(c, m, "value", s ? s : fb->str, s ? v : fb);
	}
}

/* Header rules: { set: {Name: value}, add: {Name: value}, del: [Name] }. */
static void do_headers(struct comp *c, const struct yn_node *n, const char *what,
		       struct yn_node *view, const char *key)
{
	static const char *const keys[] = {"set", "add", "del", NULL};
	struct yn_node *seq;
	int single;
	const struct yn_node *del;

	if (!n)
		return;
	if (check_map(c, n, what, keys) < 0)
		return;
	seq = vseq(c, view, key, n);
	for (int a = 0; a < 2; a++) {
		const struct yn_node *m = yn_get(n, a ? "add" : "set");

		if (!m)
			continue;
		if (m->kind != YN_MAP) {
			err_at(c, m, "'%s' must be a map of header names to values, not a %s",
			       a ? "add" : "set", yn_kind_name(m));
			continue;
		}
		for (size_t i = 0; i < m->n; i++) {
			const char *name = check_str(c, m->pairs[i].key, "header name", S_TOKEN);
			const char *val = check_str(c, m->pairs[i].value, "header value", S_TEXT);
			struct yn_node *h;

			if (!name || !val)
				continue;
			h = vpush_map(c, seq, m->pairs[i].key);
			vset(c, h, "action", a ? "add-header" : "set-header", NULL);
			vset(c, h, "name", name, m->pairs[i].key);
			char q[4200];

			vset(c, h, "value", quote_text(val, q, sizeof(q)), m->pairs[i].value);
		}
	}
	del = check_list(c, yn_get(n, "del"), "'del'", &single);
	for (size_t i = 0; i < list_len(del, single); i++) {
		const struct yn_node *it = list_item(del, single, i);
		const char *name = check_str(c, it, "header name", S_TOKEN);
		struct yn_node *h;

		if (!name)
			continue;
		h = vpush_map(c, seq, it);
		vset(c, h, "action", "del-header", NULL);
		vset(c, h, "name", name, it);
	}
}

/* The timeouts of the two named defaults (the http ones are what defaults.timeouts accepts). */
static const struct tmo tm_http[] = {
	{"connect", "connect", 0},
	{"client", "client", 0},
	{"server", "server", 0},
	{"http_request", "http-request", 0},
	{"http_keep_alive", "http-keep-alive", 0},
	{"queue", "queue", 0},
	{"tunnel", "tunnel", 0},
	{"client_fin", "client-fin", 0},
	{"server_fin", "server-fin", 0},
	{"check", "check", 0},
	{NULL, NULL, 0},
};
static const struct tmo tm_tcp[] = {
	{"connect", "connect", 0},	 {"client", "client", 0}, {"server", "server", 0},
	{"queue", "queue", 0},		 {"tunnel", "tunnel", 0}, {"client_fin", "client-fin", 0},
	{"server_fin", "server-fin", 0}, {"check", "check", 0},	  {NULL, NULL, 0},
};

/* ---- the keyword table ----
 *
 * One row per key of a converted section: its name, type, range, default, the targets that
 * accept it, its reference text, and (for a key no type describes) its checker. The allowed
 * names of the section, the value checks, the defaults the templates get, the version gates,
 * `hagen keys` and the tables of docs/hagen.md all come from these rows (a test diffs the last
 * two). A section's rows are contiguous, in the order its keys are checked and its view is
 * built. */

/* A key no type describes: x is its value (NULL when absent), view the section's template data,
 * at the position the section's own entries take (its name). */
typedef void key_checker(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at);

struct key_row {
	struct inv_key k;
	key_checker *check; /* INV_OTHER only */
};

static key_checker ck_log, ck_log_dest, ck_stats_socket, ck_tls;
static const char *const global_tls_versions[] = {"SSLv3",   "TLSv1.0", "TLSv1.1",
						  "TLSv1.2", "TLSv1.3", NULL};
static key_checker ck_version, ck_target, ck_global, ck_resolvers, ck_userlists, ck_entrypoints,
	ck_services, ck_stats, ck_defaults, ck_environments;
static key_checker ck_ep_mode, ck_ep_tls, ck_ep_certs, ck_ep_alpn, ck_ep_min_version,
	ck_ep_tls_extra, ck_ep_bind, ck_ep_timeouts, ck_ep_redirect_to, ck_ep_redirect_code,
	ck_ep_hsts, ck_ep_rate_limit, ck_ep_compression, ck_ep_request_headers,
	ck_ep_response_headers, ck_ep_accept_invalid;
static key_checker ck_svc_mode, ck_svc_eps, ck_svc_match, ck_match_host, ck_match_path_prefix,
	ck_match_path, ck_match_path_regex, ck_svc_default, ck_svc_balance, ck_svc_resolvers,
	ck_svc_timeouts, ck_svc_health_check, ck_hc_type, ck_hc_path, ck_hc_method, ck_hc_host,
	ck_hc_expect_status, ck_hc_interval, ck_hc_fall, ck_hc_rise, ck_svc_sticky,
	ck_svc_request_headers, ck_svc_response_headers, ck_svc_servers, ck_svc_discovery,
	ck_svc_dns, ck_svc_accept_invalid;
static key_checker ck_srv_name, ck_srv_address, ck_srv_check, ck_srv_drain, ck_srv_weight,
	ck_srv_maxconn, ck_srv_backup, ck_srv_maintenance, ck_srv_extra;
static key_checker ck_users, ck_user_name, ck_user_password, ck_user_hash;
static key_checker ck_stats_bind, ck_stats_auth, ck_stats_userlist, ck_prometheus;
static key_checker ck_nameservers, ck_extra, ck_rendered, ck_log_format, ck_timeouts,
	ck_resolvers_ref;
static const char *const modes[] = {"http", "tcp", NULL};

static const struct key_row key_rows[] = {
	{.k = {.section = "top level",
	       .key = "version",
	       .type = INV_OTHER,
	       .dflt = "1",
	       .type_doc = "1",
	       .doc = "— (the inventory format version)"},
	 .check = ck_version},
	{.k = {.section = "top level",
	       .key = "target",
	       .type = INV_OTHER,
	       .dflt = "`\"2.6\"`",
	       .type_doc = "string `\"2.4\"`…`\"3.4\"`",
	       .doc = "which directives are emitted (see Version rules)"},
	 .check = ck_target},
	{.k = {.section = "top level",
	       .key = "global",
	       .type = INV_OTHER,
	       .type_doc = "map",
	       .doc = "`global` section"},
	 .check = ck_global},
	{.k = {.section = "top level",
	       .key = "resolvers",
	       .type = INV_OTHER,
	       .type_doc = "map name → resolvers",
	       .doc = "one `resolvers NAME` section each"},
	 .check = ck_resolvers},
	{.k = {.section = "top level",
	       .key = "userlists",
	       .type = INV_OTHER,
	       .type_doc = "map name → userlist",
	       .doc = "one `userlist NAME` section each"},
	 .check = ck_userlists},
	{.k = {.section = "top level",
	       .key = "entrypoints",
	       .type = INV_OTHER,
	       .type_doc = "map name → entrypoint (required)",
	       .doc = "`frontend fe_NAME`"},
	 .check = ck_entrypoints},
	{.k = {.section = "top level",
	       .key = "services",
	       .type = INV_OTHER,
	       .type_doc = "map name → service (required)",
	       .doc = "`backend be_NAME`"},
	 .check = ck_services},
	{.k = {.section = "top level",
	       .key = "stats",
	       .type = INV_OTHER,
	       .type_doc = "map",
	       .doc = "`listen stats`"},
	 .check = ck_stats},
	{.k = {.section = "top level",
	       .key = "defaults",
	       .type = INV_OTHER,
	       .type_doc = "map",
	       .doc = "`defaults d_http` / `defaults d_tcp`"},
	 .check = ck_defaults},
	{.k = {.section = "top level",
	       .key = "environments",
	       .type = INV_OTHER,
	       .type_doc = "map name → overlay",
	       .doc = "— (`-e NAME`)"},
	 .check = ck_environments},
	{.k = {.section = "global",
	       .key = "maxconn",
	       .type = INV_INT,
	       .min = 1,
	       .max = 10000000,
	       .doc = "`maxconn N`"}},
	{.k = {.section = "global",
	       .key = "nbthread",
	       .type = INV_INT,
	       .min = 1,
	       .max = 4096,
	       .doc = "`nbthread N`"}},
	{.k = {.section = "global",
	       .key = "log",
	       .type = INV_OTHER,
	       .dflt = "none",
	       .type_doc = "list of log targets",
	       .doc = "`log TARGET [len N] format F FACILITY [LEVEL]`"},
	 .check = ck_log},
	{.k = {.section = "global",
	       .key = "log[].target",
	       .type = INV_OTHER,
	       .dflt = "required",
	       .type_doc =
		       "`HOST:PORT`, `udp@`/`tcp@HOST:PORT`, `/path/socket`, `stdout`, `stderr`"},
	 .check = ck_log_dest},
	{.k = {.section = "global",
	       .key = "log[].format",
	       .type = INV_ENUM,
	       .dflt = "rfc3164",
	       .type_doc = "rfc3164 rfc5424 short raw iso local priority timed",
	       .values = inv_log_formats,
	       .what = "log format"}},
	{.k = {.section = "global",
	       .key = "log[].facility",
	       .type = INV_ENUM,
	       .dflt = "local0",
	       .type_doc = "kern … local7",
	       .values = inv_log_facilities,
	       .what = "log facility"}},
	{.k = {.section = "global",
	       .key = "log[].level",
	       .type = INV_ENUM,
	       .type_doc = "emerg alert crit err warning notice info debug",
	       .doc = "max level",
	       .values = inv_log_levels,
	       .what = "log level"}},
	{.k = {.section = "global",
	       .key = "log[].len",
	       .type = INV_INT,
	       .min = 80,
	       .max = 65535,
	       .doc = "`len N`"}},
	{.k = {.section = "global",
	       .key = "stats_socket",
	       .type = INV_OTHER,
	       .dflt = "mode 660, level admin, timeout 30s",
	       .type_doc =
		       "absolute path, or `{ path, mode: \"660\", level: user\\|operator\\|admin, "
		       "timeout }`",
	       .doc = "`stats socket PATH mode M level L expose-fd listeners` + `stats timeout`"},
	 .check = ck_stats_socket},
	{.k = {.section = "global", .key = "tls", .type = INV_OTHER, .map = 1}, .check = ck_tls},
	{.k = {.section = "global",
	       .key = "tls.min_version",
	       .type = INV_ENUM,
	       .type_doc = "SSLv3 TLSv1.0 … TLSv1.3",
	       .doc = "`ssl-default-bind-options ssl-min-ver V` (and `-server-`)",
	       .values = global_tls_versions,
	       .what = "TLS version"}},
	{.k = {.section = "global",
	       .key = "tls.ciphers",
	       .type = INV_TOKEN,
	       .type_doc = "string",
	       .doc = "`ssl-default-bind-ciphers` (and `-server-`)",
	       .what = "'ciphers'"}},
	{.k = {.section = "global",
	       .key = "tls.ciphersuites",
	       .type = INV_TOKEN,
	       .type_doc = "string",
	       .doc = "`ssl-default-bind-ciphersuites` (and `-server-`)",
	       .what = "'ciphersuites'"}},
	{.k = {.section = "global",
	       .key = "extra",
	       .type = INV_OTHER,
	       .type_doc = "list of raw lines",
	       .doc = "appended to `global`"},
	 .check = ck_extra},
	{.k = {.section = "defaults",
	       .key = "mode",
	       .type = INV_ENUM,
	       .values = modes,
	       .dflt = "http",
	       .doc = "the mode of entrypoints and services that do not say"}},
	{.k = {.section = "defaults",
	       .key = "log_format",
	       .type = INV_OTHER,
	       .dflt = "httplog",
	       .type_doc =
		       "httplog \\| httpslog \\| tcplog \\| clf \\| a log-format string with `%`",
	       .doc = "`option httplog` / `option httpslog` / `option httplog clf` / `log-format "
		      "'…'` in d_http; d_tcp always `option tcplog`"},
	 .check = ck_log_format},
	{.k = {.section = "defaults",
	       .key = "error_log_format",
	       .type = INV_TEXT,
	       .since = 205,
	       .type_doc = "log-format string",
	       .doc = "`error-log-format '…'`"}},
	{.k = {.section = "defaults",
	       .key = "timeouts",
	       .type = INV_OTHER,
	       .dflt = "connect 5s, client 30s, server 30s",
	       .type_doc = "map: connect client server http_request http_keep_alive queue tunnel "
			   "client_fin server_fin check",
	       .doc = "`timeout NAME V` (http_* only in d_http)"},
	 .check = ck_timeouts},
	{.k = {.section = "defaults",
	       .key = "retries",
	       .type = INV_INT,
	       .min = 0,
	       .max = 100,
	       .doc = "`retries N`"}},
	{.k = {.section = "defaults",
	       .key = "redispatch",
	       .type = INV_BOOL,
	       .dflt = "false",
	       .doc = "`option redispatch`"}},
	{.k = {.section = "defaults",
	       .key = "forwardfor",
	       .type = INV_BOOL,
	       .dflt = "false",
	       .doc = "`option forwardfor` (d_http)"}},
	{.k = {.section = "defaults",
	       .key = "resolvers",
	       .type = INV_OTHER,
	       .type_doc = "a `resolvers` name",
	       .doc = "every service: `default-server init-addr none resolvers NAME`"},
	 .check = ck_resolvers_ref},
	{.k = {.section = "defaults",
	       .key = "extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines",
	       .doc = "appended to both defaults"},
	 .check = ck_rendered},
	{.k = {.section = "defaults",
	       .key = "http_extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines",
	       .doc = "appended to d_http"},
	 .check = ck_rendered},
	{.k = {.section = "defaults",
	       .key = "tcp_extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines",
	       .doc = "appended to d_tcp"},
	 .check = ck_rendered},
	{.k = {.section = "resolvers.NAME",
	       .key = "nameservers",
	       .type = INV_OTHER,
	       .type_doc = "list of `HOST:PORT` (required unless parse_resolv_conf)",
	       .doc = "`nameserver nsN ADDR`"},
	 .check = ck_nameservers},
	{.k = {.section = "resolvers.NAME",
	       .key = "parse_resolv_conf",
	       .type = INV_BOOL,
	       .dflt = "false",
	       .doc = "`parse-resolv-conf`"}},
	{.k = {.section = "resolvers.NAME",
	       .key = "hold_valid",
	       .type = INV_DUR,
	       .dflt = "10s",
	       .doc = "`hold valid`"}},
	{.k = {.section = "resolvers.NAME", .key = "hold_nx", .type = INV_DUR, .doc = "`hold nx`"}},
	{.k = {.section = "resolvers.NAME",
	       .key = "resolve_retries",
	       .type = INV_INT,
	       .min = 1,
	       .max = 100,
	       .dflt = "3",
	       .doc = "`resolve_retries`"}},
	{.k = {.section = "resolvers.NAME",
	       .key = "timeout_resolve",
	       .type = INV_DUR,
	       .dflt = "1s",
	       .doc = "`timeout resolve`"}},
	{.k = {.section = "resolvers.NAME",
	       .key = "timeout_retry",
	       .type = INV_DUR,
	       .dflt = "1s",
	       .doc = "`timeout retry`"}},
	{.k = {.section = "resolvers.NAME",
	       .key = "accepted_payload_size",
	       .type = INV_INT,
	       .min = 512,
	       .max = 65535,
	       .dflt = "8192",
	       .doc = "`accepted_payload_size`"}},
	{.k = {.section = "resolvers.NAME",
	       .key = "extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines"},
	 .check = ck_extra},
	{.k = {.section = "userlists.NAME",
	       .key = "users",
	       .type = INV_OTHER,
	       .type_doc = "list of users (required)",
	       .doc = "one `user` line each"},
	 .check = ck_users},
	{.k = {.section = "userlists.NAME",
	       .key = "users[].name",
	       .type = INV_OTHER,
	       .dflt = "required",
	       .type_doc = "name, unique in its userlist",
	       .doc = "`user NAME`"},
	 .check = ck_user_name},
	{.k = {.section = "userlists.NAME",
	       .key = "users[].password_env",
	       .type = INV_OTHER,
	       .type_doc = "an environment variable's name",
	       .doc = "`insecure-password \"${VAR}\"`"},
	 .check = ck_user_password},
	{.k = {.section = "userlists.NAME",
	       .key = "users[].password_hash_env",
	       .type = INV_OTHER,
	       .type_doc = "an environment variable's name (a crypt(3) hash)",
	       .doc = "`password \"${VAR}\"`"},
	 .check = ck_user_hash},
	{.k = {.section = "userlists.NAME",
	       .key = "extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines"},
	 .check = ck_extra},
	{.k = {.section = "entrypoints.NAME",
	       .key = "mode",
	       .type = INV_OTHER,
	       .dflt = "defaults.mode",
	       .type_doc = "http \\| tcp",
	       .doc = "the `from d_http`/`from d_tcp`"},
	 .check = ck_ep_mode},
	{.k = {.section = "entrypoints.NAME", .key = "tls", .type = INV_OTHER, .map = 1},
	 .check = ck_ep_tls},
	{.k = {.section = "entrypoints.NAME",
	       .key = "tls.certs",
	       .type = INV_OTHER,
	       .type_doc = "files or directories (PEM with key), required with tls",
	       .doc = "`ssl crt P` on every bind"},
	 .check = ck_ep_certs},
	{.k = {.section = "entrypoints.NAME",
	       .key = "tls.alpn",
	       .type = INV_OTHER,
	       .type_doc = "list, e.g. `[h2, http/1.1]`",
	       .doc = "`alpn h2,http/1.1`"},
	 .check = ck_ep_alpn},
	{.k = {.section = "entrypoints.NAME",
	       .key = "tls.min_version",
	       .type = INV_OTHER,
	       .type_doc = "TLSv1.0 … TLSv1.3",
	       .doc = "`ssl-min-ver`"},
	 .check = ck_ep_min_version},
	{.k = {.section = "entrypoints.NAME",
	       .key = "tls.extra",
	       .type = INV_OTHER,
	       .type_doc = "raw bind arguments",
	       .doc = "appended to the bind line"},
	 .check = ck_ep_tls_extra},
	{.k = {.section = "entrypoints.NAME",
	       .key = "bind",
	       .type = INV_OTHER,
	       .type_doc = "address or list (required); host is an IP, `*` or empty",
	       .doc = "`bind ADDR [v6only] [ssl crt … alpn …]` (`[::]:P` gets `v6only`, so "
		      "`\":P\"` can sit beside it)"},
	 .check = ck_ep_bind},
	{.k = {.section = "entrypoints.NAME",
	       .key = "maxconn",
	       .type = INV_INT,
	       .min = 1,
	       .max = 10000000,
	       .doc = "`maxconn`"}},
	{.k = {.section = "entrypoints.NAME",
	       .key = "timeouts",
	       .type = INV_OTHER,
	       .type_doc = "client http_request http_keep_alive client_fin client_hs (≥ 3.0)",
	       .doc = "`timeout …`"},
	 .check = ck_ep_timeouts},
	{.k = {.section = "entrypoints.NAME",
	       .key = "redirect_to",
	       .type = INV_OTHER,
	       .type_doc = "https",
	       .doc = "`http-request redirect scheme https code C unless { ssl_fc }`",
	       .http = 1},
	 .check = ck_ep_redirect_to},
	{.k = {.section = "entrypoints.NAME",
	       .key = "redirect_code",
	       .type = INV_OTHER,
	       .dflt = "301",
	       .type_doc = "301 302 303 307 308"},
	 .check = ck_ep_redirect_code},
	{.k = {.section = "entrypoints.NAME",
	       .key = "hsts",
	       .type = INV_OTHER,
	       .type_doc = "`true` or `{ max_age: 31536000, include_subdomains: true, preload: "
			   "false }`",
	       .doc = "`http-after-response set-header Strict-Transport-Security \"…\"` (so "
		      "HAProxy's own 503/429 carry it)",
	       .http = 1},
	 .check = ck_ep_hsts},
	{.k = {.section = "entrypoints.NAME",
	       .key = "rate_limit",
	       .type = INV_OTHER,
	       .type_doc =
		       "`{ requests (required), period (required), status: 429, size: 100000 }`",
	       .doc = "`stick-table type ipv6 … store http_req_rate(P)`, `http-request track-sc0 "
		      "src`, `http-request deny deny_status S if { sc_http_req_rate(0) gt N }`",
	       .http = 1},
	 .check = ck_ep_rate_limit},
	{.k = {.section = "entrypoints.NAME",
	       .key = "compression",
	       .type = INV_OTHER,
	       .dflt = "gzip; text, JS, JSON, SVG",
	       .type_doc = "`true` or `{ algos: [gzip, deflate, raw-deflate, identity], types: "
			   "[MIME…] }`",
	       .doc = "`compression algo …`, `compression type …`",
	       .http = 1},
	 .check = ck_ep_compression},
	{.k = {.section = "entrypoints.NAME",
	       .key = "request_headers",
	       .type = INV_OTHER,
	       .type_doc = "`{ set: {H: v}, add: {H: v}, del: [H] }`",
	       .doc = "`http-request set-header/add-header/del-header`",
	       .http = 1},
	 .check = ck_ep_request_headers},
	{.k = {.section = "entrypoints.NAME",
	       .key = "response_headers",
	       .type = INV_OTHER,
	       .type_doc = "same",
	       .doc = "`http-after-response set-header/…`",
	       .http = 1},
	 .check = ck_ep_response_headers},
	{.k = {.section = "entrypoints.NAME",
	       .key = "accept_invalid_http",
	       .type = INV_OTHER,
	       .type_doc = "bool",
	       .doc = "`option accept-invalid-http-request` (3.1+: "
		      "`accept-unsafe-violations-in-http-request`)"},
	 .check = ck_ep_accept_invalid},
	{.k = {.section = "entrypoints.NAME",
	       .key = "extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines",
	       .doc = "appended last"},
	 .check = ck_extra},
	{.k = {.section = "services.NAME",
	       .key = "mode",
	       .type = INV_OTHER,
	       .dflt = "defaults.mode",
	       .type_doc = "http \\| tcp",
	       .doc = "`from d_http`/`from d_tcp`; must match its entrypoints"},
	 .check = ck_svc_mode},
	{.k = {.section = "services.NAME",
	       .key = "entrypoints",
	       .type = INV_OTHER,
	       .dflt = "every entrypoint of the service's mode",
	       .type_doc = "list of entrypoint names; `[]`: none (only `extra` lines route to it)",
	       .doc = "routing in those frontends"},
	 .check = ck_svc_eps},
	{.k = {.section = "services.NAME", .key = "match", .type = INV_OTHER, .map = 1},
	 .check = ck_svc_match},
	{.k = {.section = "services.NAME",
	       .key = "match.host",
	       .type = INV_OTHER,
	       .type_doc = "list of host names (`*.example.test` allowed)",
	       .doc = "`acl host_NAME req.hdr(host),field(1,:) -i …`"},
	 .check = ck_match_host},
	{.k = {.section = "services.NAME",
	       .key = "match.path_prefix",
	       .type = INV_OTHER,
	       .type_doc = "list of paths",
	       .doc = "`acl path_NAME path_beg …`"},
	 .check = ck_match_path_prefix},
	{.k = {.section = "services.NAME",
	       .key = "match.path",
	       .type = INV_OTHER,
	       .type_doc = "list of exact paths",
	       .doc = "`acl path_NAME path …`"},
	 .check = ck_match_path},
	{.k = {.section = "services.NAME",
	       .key = "match.path_regex",
	       .type = INV_OTHER,
	       .type_doc = "list of PCRE regexes",
	       .doc = "`acl path_NAME path_reg '…'`"},
	 .check = ck_match_path_regex},
	{.k = {.section = "services.NAME",
	       .key = "default",
	       .type = INV_OTHER,
	       .dflt = "true when there is no `match`",
	       .type_doc = "bool",
	       .doc = "`default_backend be_NAME`; two defaults on one entrypoint are an error"},
	 .check = ck_svc_default},
	{.k = {.section = "services.NAME",
	       .key = "balance",
	       .type = INV_OTHER,
	       .dflt = "HAProxy's (roundrobin)",
	       .type_doc = "roundrobin static-rr leastconn first source random uri hdr(NAME) "
			   "url_param(NAME)",
	       .doc = "`balance …`; `url_param(q)` renders `balance url_param q` "
		      "(uri/hdr/url_param need http)"},
	 .check = ck_svc_balance},
	{.k = {.section = "services.NAME",
	       .key = "resolvers",
	       .type = INV_OTHER,
	       .dflt = "defaults.resolvers",
	       .type_doc = "a resolvers name",
	       .doc = "`default-server init-addr none resolvers R` (HAProxy starts even when a "
		      "container is down)"},
	 .check = ck_svc_resolvers},
	{.k = {.section = "services.NAME",
	       .key = "timeouts",
	       .type = INV_OTHER,
	       .type_doc = "connect server queue tunnel server_fin check",
	       .doc = "`timeout …`"},
	 .check = ck_svc_timeouts},
	{.k = {.section = "services.NAME", .key = "health_check", .type = INV_OTHER, .map = 1},
	 .check = ck_svc_health_check},
	{.k = {.section = "services.NAME",
	       .key = "health_check.type",
	       .type = INV_OTHER,
	       .dflt = "http for http services, else tcp",
	       .type_doc = "http \\| tcp \\| none",
	       .doc = "http: `option httpchk`, `http-check send meth M uri P ver HTTP/1.1 hdr Host "
		      "H`, `http-check expect status S`; tcp: connect check; none: no `check`"},
	 .check = ck_hc_type},
	{.k = {.section = "services.NAME",
	       .key = "health_check.path",
	       .type = INV_OTHER,
	       .dflt = "/",
	       .type_doc = "path (type http)"},
	 .check = ck_hc_path},
	{.k = {.section = "services.NAME",
	       .key = "health_check.method",
	       .type = INV_OTHER,
	       .dflt = "GET",
	       .type_doc = "GET HEAD OPTIONS POST (type http)"},
	 .check = ck_hc_method},
	{.k = {.section = "services.NAME",
	       .key = "health_check.host",
	       .type = INV_OTHER,
	       .dflt = "first match host or localhost",
	       .type_doc = "host (type http)"},
	 .check = ck_hc_host},
	{.k = {.section = "services.NAME",
	       .key = "health_check.expect_status",
	       .type = INV_OTHER,
	       .dflt = "200",
	       .type_doc = "200 or \"200-399\" (type http)"},
	 .check = ck_hc_expect_status},
	{.k = {.section = "services.NAME",
	       .key = "health_check.interval",
	       .type = INV_OTHER,
	       .dflt = "HAProxy's (2s)",
	       .type_doc = "duration",
	       .doc = "`default-server inter …`"},
	 .check = ck_hc_interval},
	{.k = {.section = "services.NAME",
	       .key = "health_check.fall",
	       .type = INV_OTHER,
	       .dflt = "HAProxy's (3)",
	       .type_doc = "1…1000",
	       .doc = "`default-server fall …`"},
	 .check = ck_hc_fall},
	{.k = {.section = "services.NAME",
	       .key = "health_check.rise",
	       .type = INV_OTHER,
	       .dflt = "HAProxy's (2)",
	       .type_doc = "1…1000",
	       .doc = "`default-server rise …`"},
	 .check = ck_hc_rise},
	{.k = {.section = "services.NAME",
	       .key = "sticky",
	       .type = INV_OTHER,
	       .type_doc = "`{ type: cookie, name: SRVID }` or `{ type: source, expire: 30m, size: "
			   "200000 }`",
	       .doc = "`cookie NAME insert indirect nocache` + `cookie SERVER` per server; or "
		      "`stick-table type ipv6` + `stick on src`"},
	 .check = ck_svc_sticky},
	{.k = {.section = "services.NAME",
	       .key = "request_headers",
	       .type = INV_OTHER,
	       .type_doc = "as for entrypoints",
	       .doc = "`http-request …-header`"},
	 .check = ck_svc_request_headers},
	{.k = {.section = "services.NAME",
	       .key = "response_headers",
	       .type = INV_OTHER,
	       .type_doc = "as for entrypoints",
	       .doc = "`http-response …-header`"},
	 .check = ck_svc_response_headers},
	{.k = {.section = "services.NAME",
	       .key = "servers",
	       .type = INV_OTHER,
	       .type_doc = "list of servers",
	       .doc = "`server NAME ADDR [check] [weight W] [maxconn M] [backup] [disabled] "
		      "[cookie NAME] [EXTRA]`"},
	 .check = ck_svc_servers},
	{.k = {.section = "services.NAME",
	       .key = "servers[].name",
	       .type = INV_OTHER,
	       .dflt = "required",
	       .type_doc = "name, unique in its service",
	       .doc = "`server NAME`"},
	 .check = ck_srv_name},
	{.k = {.section = "services.NAME",
	       .key = "servers[].address",
	       .type = INV_OTHER,
	       .dflt = "required",
	       .type_doc = "`HOST:PORT`",
	       .doc = "`server NAME ADDR`"},
	 .check = ck_srv_address},
	{.k = {.section = "services.NAME",
	       .key = "servers[].check",
	       .type = INV_OTHER,
	       .dflt = "true unless health_check type none",
	       .type_doc = "bool",
	       .doc = "`check`"},
	 .check = ck_srv_check},
	{.k = {.section = "services.NAME",
	       .key = "servers[].drain",
	       .type = INV_OTHER,
	       .dflt = "false",
	       .type_doc = "bool",
	       .doc = "`weight 0` (no new traffic; `weight` stays for `hagen server ready`)"},
	 .check = ck_srv_drain},
	{.k = {.section = "services.NAME",
	       .key = "servers[].weight",
	       .type = INV_OTHER,
	       .dflt = "1",
	       .type_doc = "0…256",
	       .doc = "`weight W`"},
	 .check = ck_srv_weight},
	{.k = {.section = "services.NAME",
	       .key = "servers[].maxconn",
	       .type = INV_OTHER,
	       .type_doc = "1…10000000",
	       .doc = "`maxconn M`"},
	 .check = ck_srv_maxconn},
	{.k = {.section = "services.NAME",
	       .key = "servers[].backup",
	       .type = INV_OTHER,
	       .dflt = "false",
	       .type_doc = "bool",
	       .doc = "`backup`"},
	 .check = ck_srv_backup},
	{.k = {.section = "services.NAME",
	       .key = "servers[].maintenance",
	       .type = INV_OTHER,
	       .dflt = "false",
	       .type_doc = "bool",
	       .doc = "`disabled`"},
	 .check = ck_srv_maintenance},
	{.k = {.section = "services.NAME",
	       .key = "servers[].extra",
	       .type = INV_OTHER,
	       .type_doc = "raw arguments",
	       .doc = "appended to the server line (after a sticky cookie's `cookie NAME`)"},
	 .check = ck_srv_extra},
	{.k = {.section = "services.NAME", .key = "discovery", .type = INV_OTHER, .map = 1},
	 .check = ck_svc_discovery},
	{.k = {.section = "services.NAME",
	       .key = "discovery.dns",
	       .type = INV_OTHER,
	       .type_doc = "`{ name (required), port (required), slots: 5, prefix: SERVICE, "
			   "resolvers }`",
	       .doc = "`server-template PREFIX SLOTS NAME:PORT check resolvers R init-addr none`"},
	 .check = ck_svc_dns},
	{.k = {.section = "services.NAME",
	       .key = "accept_invalid_http",
	       .type = INV_OTHER,
	       .type_doc = "bool",
	       .doc = "`option accept-invalid-http-response` (3.1+: renamed)"},
	 .check = ck_svc_accept_invalid},
	{.k = {.section = "services.NAME",
	       .key = "extra",
	       .type = INV_OTHER,
	       .type_doc = "raw lines",
	       .doc = "appended last"},
	 .check = ck_extra},
	{.k = {.section = "stats",
	       .key = "bind",
	       .type = INV_OTHER,
	       .type_doc = "address or list (required)",
	       .doc = "`bind`"},
	 .check = ck_stats_bind},
	{.k = {.section = "stats",
	       .key = "uri",
	       .type = INV_PATH,
	       .dflt = "/stats",
	       .doc = "`stats uri`",
	       .what = "stats uri"}},
	{.k = {.section = "stats",
	       .key = "refresh",
	       .type = INV_DUR,
	       .dflt = "10s",
	       .doc = "`stats refresh`"}},
	{.k = {.section = "stats", .key = "auth", .type = INV_OTHER, .map = 1},
	 .check = ck_stats_auth},
	{.k = {.section = "stats",
	       .key = "auth.userlist",
	       .type = INV_OTHER,
	       .type_doc = "a userlist name",
	       .doc = "`stats http-request auth realm R unless { http_auth(U) }`"},
	 .check = ck_stats_userlist},
	{.k = {.section = "stats",
	       .key = "auth.realm",
	       .type = INV_NAME,
	       .dflt = "stats",
	       .doc = "the realm",
	       .what = "realm"}},
	{.k = {.section = "stats",
	       .key = "auth.admin",
	       .type = INV_BOOL,
	       .dflt = "false",
	       .doc = "`stats admin if { http_auth(U) }`"}},
	{.k = {.section = "stats",
	       .key = "prometheus",
	       .type = INV_OTHER,
	       .dflt = "/metrics",
	       .type_doc = "`true` or `{ path }`",
	       .doc = "`http-request use-service prometheus-exporter if { path P }`"},
	 .check = ck_prometheus},
	{.k = {.section = "stats",
	       .key = "health_uri",
	       .type = INV_PATH,
	       .doc = "`monitor-uri P` (200 while HAProxy runs)",
	       .what = "health_uri"}},
	{.k = {.section = "stats", .key = "extra", .type = INV_OTHER, .type_doc = "raw lines"},
	 .check = ck_extra},
};
#define NKEY_ROWS (sizeof(key_rows) / sizeof(key_rows[0]))

const struct inv_key *inv_key_at(size_t i)
{
	return i < NKEY_ROWS ? &key_rows[i].k : NULL;
}

const char *inv_key_type_text(const struct inv_key *k, char *buf, size_t sz)
{
	switch (k->type) {
	case INV_BOOL:
		return "bool";
	case INV_INT:
		snprintf(buf, sz, "%lld…%lld", (long long)k->min, (long long)k->max);
		return buf;
	case INV_DUR:
		return "duration";
	case INV_ENUM:
		if (k->type_doc)
			break;
		buf[0] = '\0';
		for (size_t i = 0; k->values[i]; i++)
			snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s", i ? " \\| " : "",
				 k->values[i]);
		return buf;
	case INV_NAME:
		return k->type_doc ? k->type_doc : "name";
	case INV_PATH:
		return k->type_doc ? k->type_doc : "path";
	case INV_TEXT:
	case INV_TOKEN:
	case INV_OTHER:
		break;
	}
	return k->type_doc ? k->type_doc : k->map ? "map" : "";
}

const struct inv_key *inv_key_find(const char *section, const char *key)
{
	for (size_t i = 0; i < NKEY_ROWS; i++)
		if (!strcmp(key_rows[i].k.section, section) && !strcmp(key_rows[i].k.key, key))
			return &key_rows[i].k;
	return NULL;
}

/* The rules of inv_rules about a key of the keyword table: their since/until are the key's
 * (the rule's own are 0). */
static const struct {
	const char *what, *section, *key;
} rule_keys[] = {
	{INV_RULE_ERROR_LOG_FORMAT, "defaults", "error_log_format"},
};

void inv_rule_targets(const struct inv_rule *r, int *since, int *until)
{
	const struct inv_key *k = NULL;

	for (size_t i = 0; i < sizeof(rule_keys) / sizeof(rule_keys[0]) && !k; i++)
		if (!strcmp(rule_keys[i].what, r->what))
			k = inv_key_find(rule_keys[i].section, rule_keys[i].key);

	*since = k ? k->since : r->since;
	*until = k ? k->until : r->until;
}

const struct inv_rule *inv_rule_find(const char *what)
{
	for (const struct inv_rule *r = inv_rules; r->what; r++)
		if (!strcmp(r->what, what))
			return r;
	return NULL;
}

int inv_target_accepts(int target, const char *what)
{
	const struct inv_rule *r = inv_rule_find(what);
	int since = 0, until = 0;

	if (r)
		inv_rule_targets(r, &since, &until);
	return (!since || target >= since) && (!until || target < until);
}

/* The rows of section sec: *n of them from the returned one (NULL when none). */
static const struct key_row *section_rows(const char *sec, size_t *n)
{
	size_t i = 0;

	while (i < NKEY_ROWS && strcmp(key_rows[i].k.section, sec))
		i++;
	for (*n = 0; i + *n < NKEY_ROWS && !strcmp(key_rows[i + *n].k.section, sec); (*n)++)
		;
	return *n ? &key_rows[i] : NULL;
}

/* Whether target accepts row k; reports at x when it does not. */
static int key_gate(struct comp *c, const struct inv_key *k, const struct yn_node *x)
{
	if (k->since && c->target < k->since) {
		err_at(c, x, "%s needs HAProxy %d.%d or later (target is %d.%d)", k->key,
		       k->since / 100, k->since % 100, c->target / 100, c->target % 100);
		return 0;
	}
	if (k->until && c->target >= k->until) {
		err_at(c, x, "%s is not accepted from HAProxy %d.%d on (target is %d.%d)", k->key,
		       k->until / 100, k->until % 100, c->target / 100, c->target % 100);
		return 0;
	}
	return 1;
}

/* Checks map n, a section sec (what names it in messages): every key known, every value of its
 * type, range and targets, and sets view[key] to each value (or its default). Returns 0, or -1
 * (reported) when n is not a map. */
static int do_keys_in(struct comp *c, const char *sec, const char *prefix, const struct yn_node *n,
		      const char *what, struct yn_node *view, const struct yn_node *at);

static int keys_known(struct comp *c, const char *sec, const char *prefix, const struct yn_node *n,
		      const char *what);
static void rows_run(struct comp *c, const char *sec, const char *prefix, const struct yn_node *n,
		     struct yn_node *view, const struct yn_node *at);

static int do_keys(struct comp *c, const char *sec, const struct yn_node *n, const char *what,
		   struct yn_node *view, const struct yn_node *at)
{
	return do_keys_in(c, sec, "", n, what, view, at);
}

/* The name of row k inside the map prefix names ("admin" of "auth.admin"), or NULL when k is not
 * a key of that map. */
static const char *key_in(const struct inv_key *k, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(k->key, prefix, pl) || strchr(k->key + pl, '.'))
		return NULL;
	return k->key + pl;
}

/* do_keys for the map n that the rows "PREFIXkey" of sec describe (prefix "auth." for
 * stats.auth; "" for the section itself). */
static int do_keys_in(struct comp *c, const char *sec, const char *prefix, const struct yn_node *n,
		      const char *what, struct yn_node *view, const struct yn_node *at)
{
	if (keys_known(c, sec, prefix, n, what) < 0)
		return -1;
	rows_run(c, sec, prefix, n, view, at);
	return 0;
}

/* The rowset of sec and prefix. It is asked for every map of a section (5,000 services with
 * 3 servers each: ~50,000 times, and each time a scan of the table was a tenth of the render),
 * so the compile keeps each one it makes, found by the address of the caller's strings and
 * confirmed by their text. A kept one is never replaced: a row's checker may ask for another
 * rowset while its caller walks this one. Past ROWSET_KEPT, it is made in *spare. */
static const struct rowset *rows_of(struct comp *c, const char *sec, const char *prefix,
				    struct rowset *spare)
{
	struct rowset *rs = spare;
	const struct key_row *r;
	size_t nr;

	for (size_t m = 0; m < c->nrowsets; m++) {
		const struct rowset *k = &c->rowsets[m];

		if (k->secp == sec && k->prefixp == prefix && !strcmp(k->sec, sec) &&
		    !strcmp(k->prefix, prefix))
			return k;
	}
	if (c->nrowsets < ROWSET_KEPT && strlen(sec) < sizeof(rs->sec) &&
	    strlen(prefix) < sizeof(rs->prefix)) {
		rs = &c->rowsets[c->nrowsets++];
		strcpy(rs->sec, sec);
		strcpy(rs->prefix, prefix);
		rs->secp = sec;
		rs->prefixp = prefix;
	}
	rs->n = 0;
	r = section_rows(sec, &nr);
	for (size_t i = 0; i < nr && rs->n < ROWSET_MAX; i++) {
		const char *name = key_in(&r[i].k, prefix);

		if (!name)
			continue;
		rs->row[rs->n] = &r[i];
		rs->name[rs->n++] = name;
	}
	rs->name[rs->n] = NULL;
	return rs;
}

/* check_map of n against the names of the rows "PREFIXkey" of sec. */
static int keys_known(struct comp *c, const char *sec, const char *prefix, const struct yn_node *n,
		      const char *what)
{
	struct rowset spare;

	return check_map(c, n, what, rows_of(c, sec, prefix, &spare)->name);
}

/* The checks of the rows "PREFIXkey" of sec on the map n, in row order (keys_known said n is a
 * map whose keys are all known). */
static void rows_run(struct comp *c, const char *sec, const char *prefix, const struct yn_node *n,
		     struct yn_node *view, const struct yn_node *at)
{
	struct rowset spare;
	const struct rowset *rs = rows_of(c, sec, prefix, &spare);

	for (size_t i = 0; i < rs->n && !c->stop_rows; i++) {
		const struct inv_key *k = &rs->row[i]->k;
		const char *name = rs->name[i];
		const struct yn_node *x = yn_get(n, name);
		size_t ql;
		char q[80];
		int64_t iv;
		int b, bad = 0;
		const char *d;

		if (x && !key_gate(c, k, x))
			continue;
		if (x && k->http && c->tcp_who[0])
			err_at(c, yn_get_pair(n, name)->key, "'%s' needs mode http (%s is tcp)",
			       name, c->tcp_who);
		/* how the messages name a key that is there: 'name' (snprintf for each key of
		 * 20,000 maps was a twentieth of the render) */
		q[0] = '\0';
		if (x && (ql = strlen(name)) + 3 <= sizeof(q)) {
			q[0] = '\'';
			memcpy(q + 1, name, ql);
			q[ql + 1] = '\'';
			q[ql + 2] = '\0';
		}
		switch (k->type) {
		case INV_BOOL:
			if (check_bool(c, x, k->what ? k->what : q, &b) == 1 && b)
				vset(c, view, name, "true", x);
			break;
		case INV_INT:
			if (check_int(c, x, k->what ? k->what : q, k->min, k->max, &iv) == 1)
				vsetf(c, view, name, x, "%lld", (long long)iv);
			else if (k->dflt)
				vset(c, view, name, k->dflt, x);
			break;
		case INV_DUR:
			if ((d = check_dur(c, x, k->what ? k->what : q, &bad)) || (d = k->dflt))
				vset(c, view, name, d, x);
			break;
		case INV_ENUM:
			if ((d = x ? one_of(c, x, k->what ? k->what : name, k->values) : k->dflt))
				vset(c, view, name, d, x);
			break;
		case INV_TEXT:
		case INV_NAME:
		case INV_PATH:
		case INV_TOKEN:
			if (x ? (d = check_str(c, x, k->what ? k->what : name,
					       k->type == INV_TEXT   ? S_TEXT
					       : k->type == INV_NAME ? S_NAME
					       : k->type == INV_PATH ? S_PATH
								     : S_TOKEN)) != NULL
			      : (d = k->dflt) != NULL)
				vset(c, view, name, d, x ? x : at);
			break;
		case INV_OTHER:
			rs->row[i]->check(c, x, view, at);
			break;
		}
	}
}

static void ck_extra(struct comp *c, const struct yn_node *x, struct yn_node *view,
		     const struct yn_node *at)
{
	(void)at;
	if (x)
		do_extra(c, x, view);
}

/* Checked where it is rendered (a defaults' extra lines go into each of the two). */
static void ck_rendered(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	(void)c, (void)x, (void)view, (void)at;
}

/* defaults.log_format: a named format (view log_named) or a log-format string (log_custom). */
static void ck_log_format(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	(void)at;
	if (!x || !check_str(c, x, "log_format", S_TEXT))
		return;
	if (!strcmp(x->str, "httplog") || !strcmp(x->str, "tcplog") || !strcmp(x->str, "clf") ||
	    !strcmp(x->str, "httpslog"))
		vset(c, view, "log_named", x->str, x);
	else if (!strchr(x->str, '%'))
		err_at(c, x,
		       "log_format '%s' is neither httplog, httpslog, tcplog, clf nor a log-format "
		       "string with %%-variables",
		       x->str);
	else
		vset(c, view, "log_custom", x->str, x);
}

/* defaults.timeouts: checked once against every key the http defaults accept (each mode
 * renders its own subset). */
static void ck_timeouts(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	struct yn_node *scratch;

	(void)view, (void)at;
	if (!x)
		return;
	scratch = yn_new_map(0, 0);
	do_timeouts(c, x, tm_http, scratch, NULL, 1);
	yn_free(scratch);
}

/* defaults.resolvers: a resolvers section's name. */
static void ck_resolvers_ref(struct comp *c, const struct yn_node *x, struct yn_node *view,
			     const struct yn_node *at)
{
	(void)view, (void)at;
	if (!x || !check_str(c, x, "resolvers name", S_NAME))
		return;
	if (find_name(c->resolver_names, c->nresolvers, x->str) < 0)
		ref_error(c, x, "resolvers", c->resolver_names, c->nresolvers);
	else
		c->default_resolvers = x->str;
}

static void do_log_target(struct comp *c, const struct yn_node *it, struct yn_node *seq);

/* global.log: a list of log targets (or one, as a map). */
static void ck_log(struct comp *c, const struct yn_node *n, struct yn_node *view,
		   const struct yn_node *at)
{
	int single;
	const struct yn_node *l;

	(void)at;
	if (!n)
		return;
	if (n->kind == YN_MAP) {
		do_log_target(c, n, yn_get(view, "log"));
		return;
	}
	l = check_list(c, n, "'log'", &single);
	if (l && single)
		err_at(c, n,
		       "'log' must be a list of maps like { target: \"127.0.0.1:514\", "
		       "facility: local0 }");
	else
		for (size_t k = 0; l && k < l->n; k++)
			do_log_target(c, l->items[k], yn_get(view, "log"));
}

/* global.log[].target: HOST:PORT, udp@ or tcp@HOST:PORT, a /path to a socket, stdout, stderr
 * (at: the log target). */
static void ck_log_dest(struct comp *c, const struct yn_node *t, struct yn_node *m,
			const struct yn_node *at)
{
	struct strbuf addr = STRBUF_INIT;
	const char *ts;

	if (!t) {
		err_at(c, at,
		       "log target needs 'target' (HOST:PORT, a /path to a socket, stdout or "
		       "stderr)");
	} else if ((ts = check_str(c, t, "log target", S_TOKEN))) {
		if (ts[0] == '/' || !strcmp(ts, "stdout") || !strcmp(ts, "stderr"))
			vset(c, m, "target", ts, t);
		else if (!strncmp(ts, "udp@", 4) || !strncmp(ts, "tcp@", 4)) {
			struct yn_node tmp = *t;

			tmp.str = (char *)ts + 4;
			tmp.len = t->len - 4;
			if (check_addr(c, &tmp, "log target", 0, 0, &addr) == 0)
				vsetf(c, m, "target", t, "%.4s%s", ts, addr.buf);
		} else if (check_addr(c, t, "log target", 0, 0, &addr) == 0)
			vset(c, m, "target", addr.buf, t);
	}
	strbuf_release(&addr);
}

/* global.stats_socket: an absolute path, or { path, mode, level, timeout }. */
static void ck_stats_socket(struct comp *c, const struct yn_node *n, struct yn_node *view,
			    const struct yn_node *at)
{
	static const char *const sock_keys[] = {"path", "mode", "level", "timeout", NULL};
	static const char *const sock_levels[] = {"user", "operator", "admin", NULL};
	struct yn_node *s;
	const struct yn_node *p = n;
	const char *mode = "660", *level = "admin", *tmo = "30s";
	int bad = 0;

	(void)at;
	if (!n)
		return;
	s = vmap(c, view, "stats_socket", n);
	if (n->kind == YN_MAP) {
		if (check_map(c, n, "stats_socket", sock_keys) == 0) {
			p = yn_get(n, "path");
			if (!p)
				err_at(c, n, "stats_socket needs 'path'");
			if (yn_get(n, "mode")) {
				const struct yn_node *mn = yn_get(n, "mode");

				if (!check_str(c, mn, "socket mode", S_TOKEN) ||
				    strspn(mn->str, "01234567") != mn->len || mn->len > 4)
					err_at(c, mn, "socket mode must be octal digits like 660");
				else
					mode = mn->str;
			}
			if (yn_get(n, "level"))
				level = one_of(c, yn_get(n, "level"), "socket level", sock_levels);
			if (yn_get(n, "timeout"))
				tmo = check_dur(c, yn_get(n, "timeout"), "socket timeout", &bad);
		}
	}
	if (p && check_str(c, p, "stats_socket path", S_TOKEN)) {
		if (p->str[0] != '/' && strncmp(p->str, "ipv4@", 5) && strncmp(p->str, "ipv6@", 5))
			err_at(c, p, "stats_socket path must be absolute (or ipv4@HOST:PORT)");
		vset(c, s, "path", p->str, p);
	}
	vset(c, s, "mode", mode, n);
	vset(c, s, "level", level ? level : "admin", n);
	vset(c, s, "timeout", tmo ? tmo : "30s", n);
}

/* global.tls: its keys are the rows tls.*, in a map of their own in the template data. */
static void ck_tls(struct comp *c, const struct yn_node *x, struct yn_node *view,
		   const struct yn_node *at)
{
	(void)at;
	if (x && x->kind == YN_MAP)
		do_keys_in(c, "global", "tls.", x, "tls", vmap(c, view, "tls", x), x);
	else if (x)
		do_keys_in(c, "global", "tls.", x, "tls", NULL, x);
}

static void stats_secret_envs(struct comp *c, struct yn_node *v, const char *name,
			      const struct yn_node *at);

/* stats.bind: where the stats page listens (at: the stats map). */
static void ck_stats_bind(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	int single;
	const struct yn_node *binds = check_list(c, x, "'bind'", &single);
	struct yn_node *bv;
	struct strbuf addr = STRBUF_INIT;

	if (!x)
		err_at(c, at, "stats needs 'bind' (for example \"127.0.0.1:8404\")");
	bv = vseq(c, view, "binds", at);
	for (size_t i = 0; i < list_len(binds, single); i++) {
		const struct yn_node *it = list_item(binds, single, i);

		if (check_addr(c, it, "bind address", 1, 1, &addr) == 0) {
			bind_claim(c, addr.buf, it, "stats");
			vpush(c, bv, addr.buf, it);
		}
	}
	strbuf_release(&addr);
}

/* stats.auth: its keys are the rows auth.*; they go into the stats view. */
static void ck_stats_auth(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	(void)at;
	if (x)
		do_keys_in(c, "stats", "auth.", x, "auth", view, x);
}

/* stats.auth.userlist: a userlist's name; the page needs its password variables (at: auth). */
static void ck_stats_userlist(struct comp *c, const struct yn_node *u, struct yn_node *view,
			      const struct yn_node *at)
{
	if (!u)
		err_at(c, at, "auth needs 'userlist'");
	else if (check_str(c, u, "userlist name", S_NAME)) {
		if (find_name(c->userlist_names, c->nuserlists, u->str) < 0) {
			ref_error(c, u, "userlist", c->userlist_names, c->nuserlists);
		} else {
			vset(c, view, "userlist", u->str, u);
			stats_secret_envs(c, view, u->str, u);
		}
	}
}

/* stats.prometheus: true, or { path: /metrics }. */
static void ck_prometheus(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	static const char *const prom_keys[] = {"path", NULL};
	int b;

	(void)at;
	if (!x)
		return;
	if (x->kind == YN_SCALAR && check_bool(c, x, "'prometheus'", &b) == 1) {
		if (b)
			vset(c, view, "prometheus", "/metrics", x);
	} else if (x->kind == YN_MAP && check_map(c, x, "prometheus", prom_keys) == 0) {
		const struct yn_node *p = yn_get(x, "path");

		if (p && check_str(c, p, "prometheus path", S_PATH))
			vset(c, view, "prometheus", p->str, p);
		else if (!p)
			vset(c, view, "prometheus", "/metrics", x);
	} else if (x->kind == YN_SEQ) {
		err_at(c, x, "prometheus must be true or { path: /metrics }");
	}
}

static void ck_nameservers(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	int single;
	const struct yn_node *ns = check_list(c, x, "'nameservers'", &single);
	struct yn_node *nsv = vseq(c, view, "nameservers", at);
	struct strbuf addr = STRBUF_INIT;

	for (size_t j = 0; j < list_len(ns, single); j++) {
		const struct yn_node *it = list_item(ns, single, j);
		struct yn_node *m;

		if (check_addr(c, it, "nameserver address", 0, 0, &addr) < 0)
			continue;
		m = vpush_map(c, nsv, it);
		vsetf(c, m, "name", it, "ns%zu", j + 1);
		vset(c, m, "address", addr.buf, it);
	}
	strbuf_release(&addr);
}

/* ---- sections ---- */

const char *const inv_log_formats[] = {"rfc3164", "rfc5424",  "short", "raw", "iso",
				       "local",	  "priority", "timed", NULL};
const char *const inv_log_facilities[] = {
	"kern",	  "user",   "mail",   "daemon", "auth",	  "syslog", "lpr",   "news",   "uucp",
	"cron",	  "auth2",  "ftp",    "ntp",	"audit",  "alert",  "cron2", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7", NULL};
const char *const inv_log_levels[] = {"emerg",	"alert", "crit",  "err", "warning",
				      "notice", "info",	 "debug", NULL};

static void do_log_target(struct comp *c, const struct yn_node *it, struct yn_node *seq)
{
	struct yn_node *m;

	if (it && it->kind == YN_MAP)
		m = vpush_map(c, seq, it);
	else
		m = NULL;
	do_keys_in(c, "global", "log[].", it, "a log target", m, it);
}

static void do_global(struct comp *c, const struct yn_node *g)
{
	struct yn_node *v = vmap(c, c->view, "global", g);

	vorigin(c, v, g ? yn_get_pair(c->root, "global")->key : NULL);
	vseq(c, v, "log", g);
	vseq(c, v, "extra", g);
	if (!g)
		return;
	do_keys(c, "global", g, "global", v, g);
	c->logging = yn_get(v, "log") && yn_get(v, "log")->n > 0;
}

static void do_resolvers(struct comp *c, const struct yn_node *r)
{
	struct yn_node *seq = vseq(c, c->view, "resolvers", r);

	if (!r || check_named_map(c, r, "resolvers", "resolvers") < 0)
		return;
	for (size_t i = 0; i < r->n; i++) {
		const struct yn_node *k = r->pairs[i].key, *n = r->pairs[i].value, *ns;
		struct yn_node *v;
		const char *name = named_entry(c, seq, k, "resolvers name", &v);

		if (!name)
			continue;
		if (c->nresolvers < MAX_EPS)
			c->resolver_names[c->nresolvers++] = name;
		if (do_keys(c, "resolvers.NAME", n, "resolvers", v, k) < 0)
			continue;
		/* as written: a list of bad addresses is not "no nameservers", a map is */
		ns = yn_get(n, "nameservers");
		if (!(ns &&
		      (ns->kind == YN_SEQ ? ns->n : ns->kind == YN_SCALAR && !yn_is_null(ns))) &&
		    !yn_get(v, "parse_resolv_conf"))
			err_at(c, k,
			       "resolvers '%s' needs 'nameservers' (or parse_resolv_conf: true)",
			       name);
	}
}

static int env_name_ok(const char *s)
{
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* userlists.NAME.users: a list of users (at: the userlist's name), each checked by the rows
 * users[].*. */
static void ck_users(struct comp *c, const struct yn_node *x, struct yn_node *view,
		     const struct yn_node *at)
{
	int single;
	const struct yn_node *users = check_list(c, x, "'users'", &single);
	struct yn_node *uv = yn_get(view, "users");

	if (!list_len(users, single) || single)
		err_at(c, users ? users : at,
		       "userlist '%s' needs 'users': a list of { name, password_env }", at->str);
	for (size_t j = 0; users && !single && j < users->n; j++) {
		const struct yn_node *it = users->items[j], *un;
		struct yn_node *m;

		if (keys_known(c, "userlists.NAME", "users[].", it, "a user") < 0)
			continue;
		if (!yn_get(it, "name")) {
			err_at(c, it, "user needs 'name'");
			continue;
		}
		m = vpush_map(c, uv, it);
		rows_run(c, "userlists.NAME", "users[].", it, m, it);
		/* names are unique in a userlist (a good name is in the user's view) */
		un = yn_get(it, "name");
		for (size_t q = 0; m && yn_get(m, "name") && q < j; q++) {
			const struct yn_node *o = yn_get(users->items[q], "name");

			if (o && yn_is_text(o) && !strcmp(o->str, un->str)) {
				err_at(c, un, "duplicate user '%s' (first at line %u)", un->str,
				       o->line);
				break;
			}
		}
	}
}

/* users[].name (at: the user; its presence was checked before). */
static void ck_user_name(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	const char *un = check_str(c, x, "user name", S_NAME);

	(void)at;
	if (un)
		vset(c, view, "name", un, x);
}

/* A user's secret, from password_env (pe) or password_hash_env (ph): exactly one of them, an
 * environment variable's name (secrets come from the environment). */
static void user_secret(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at, int hash)
{
	const struct yn_node *pe = yn_get(at, "password_env"),
			     *ph = yn_get(at, "password_hash_env");
	const char *env;

	if (!!pe == !!ph) {
		if (!hash)
			err_at(c, at,
			       "user needs exactly one of 'password_env' or 'password_hash_env' "
			       "(secrets come from the environment, never from the file)");
		return;
	}
	if (!x)
		return;
	env = check_str(c, x, hash ? "'password_hash_env'" : "'password_env'", S_TOKEN);
	if (env && !env_name_ok(env)) {
		err_at(c, x, "bad environment variable name '%s'", env);
		return;
	}
	if (!env)
		return;
	vset(c, view, "password_kind", hash ? "password" : "insecure-password", x);
	vsetf(c, view, "secret", x, "\"${%s}\"", env);
	strbuf_add(&c->secrets, env, strlen(env) + 1);
}

static void ck_user_password(struct comp *c, const struct yn_node *x, struct yn_node *view,
			     const struct yn_node *at)
{
	user_secret(c, x, view, at, 0);
}

static void ck_user_hash(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	user_secret(c, x, view, at, 1);
}

static void do_userlists(struct comp *c, const struct yn_node *u)
{
	struct yn_node *seq = vseq(c, c->view, "userlists", u);

	if (!u || check_named_map(c, u, "userlists", "user lists") < 0)
		return;
	for (size_t i = 0; i < u->n; i++) {
		const struct yn_node *k = u->pairs[i].key, *n = u->pairs[i].value;
		struct yn_node *v;
		const char *name = named_entry(c, seq, k, "userlist name", &v);

		if (!name)
			continue;
		if (c->nuserlists < MAX_EPS)
			c->userlist_names[c->nuserlists++] = name;
		vseq(c, v, "users", k);
		do_keys(c, "userlists.NAME", n, "userlist", v, k);
	}
}

/* The named defaults: d_http and/or d_tcp, built once the modes in use are known. */
static void do_defaults(struct comp *c, const struct yn_node *d)
{
	struct yn_node *seq = vseq(c, c->view, "defaults", d);
	struct yn_node *fb = yn_new_map(0, 0);
	struct yn_node *dv = yn_new_map(0, 0); /* the checked values (do_keys) */
	const struct yn_node *lf = yn_get(d, "log_format"), *tmo = NULL, *x;
	const char *custom = NULL, *named = NULL, *elf = NULL;
	int ok = 1;

	/* fallback timeouts so HAProxy never warns about missing ones */
	yn_map_set(fb, "connect", yn_new_scalar("5s", 0, 0));
	yn_map_set(fb, "client", yn_new_scalar("30s", 0, 0));
	yn_map_set(fb, "server", yn_new_scalar("30s", 0, 0));
	if (!dv)
		c->oom = 1;
	if (d && dv && (ok = do_keys(c, "defaults", d, "defaults", dv, d) == 0)) {
		named = (x = yn_get(dv, "log_named")) ? x->str : NULL;
		custom = (x = yn_get(dv, "log_custom")) ? x->str : NULL;
		elf = (x = yn_get(dv, "error_log_format")) ? x->str : NULL;
		tmo = yn_get(d, "timeouts");
	}
	if (named && !strcmp(named, "httpslog") &&
	    !inv_target_accepts(c->target, INV_RULE_HTTPSLOG)) {
		warn_at(c, lf,
			"option httpslog needs HAProxy 2.5; falling back to httplog for target "
			"%d.%d",
			c->target / 100, c->target % 100);
		named = "httplog";
	}
	for (int m = 0; m < 2; m++) {
		int tcp = m == 1;
		struct yn_node *v;
		char q[4200];

		if (tcp ? !c->need_tcp : !c->need_http)
			continue;
		v = vpush_map(c, seq, d);
		vset(c, v, "name", tcp ? "d_tcp" : "d_http", NULL);
		vset(c, v, "mode", tcp ? "tcp" : "http", NULL);
		vorigin(c, v, d ? yn_get_pair(c->root, "defaults")->key : NULL);
		if (c->logging)
			vset(c, v, "logging", "true", NULL);
		if (!c->logging)
			; /* no global log target: a log format would only draw a warning */
		else if (tcp)
			vset(c, v, "log_option", "tcplog", lf);
		else if (custom)
			vset(c, v, "log_format", quote_text(custom, q, sizeof(q)), lf);
		else if (named && !strcmp(named, "clf"))
			vset(c, v, "log_option", "httplog clf", lf);
		else
			vset(c, v, "log_option", named ? named : "httplog", lf);
		if (elf && c->logging)
			vset(c, v, "error_log_format", quote_text(elf, q, sizeof(q)),
			     yn_get(d, "error_log_format"));
		do_timeouts(c, tmo, tcp ? tm_tcp : tm_http, v, fb, 0);
		if ((x = yn_get(dv, "retries")))
			vset(c, v, "retries", x->str, yn_get(d, "retries"));
		if (yn_get(dv, "redispatch"))
			vset(c, v, "redispatch", "true", yn_get(d, "redispatch"));
		if (yn_get(dv, "forwardfor") && !tcp)
			vset(c, v, "forwardfor", "true", yn_get(d, "forwardfor"));
		if (d && ok && yn_get(d, "extra"))
			do_extra(c, yn_get(d, "extra"), v);
		if (d && ok && yn_get(d, tcp ? "tcp_extra" : "http_extra"))
			do_extra(c, yn_get(d, tcp ? "tcp_extra" : "http_extra"), v);
	}
	yn_free(fb);
	yn_free(dv);
}

static int is_tcp_mode(struct comp *c, const struct yn_node *n, int dflt)
{
	const char *m;

	if (!n)
		return dflt;
	m = one_of(c, n, "mode", modes);
	return m ? !strcmp(m, "tcp") : dflt;
}

static int default_tcp(const struct comp *c)
{
	const struct yn_node *m = yn_path(c->root, "defaults.mode");

	return m && yn_is_text(m) && !strcmp(m->str, "tcp");
}

/* ---- entrypoints.NAME: the checkers of its rows read and fill c->ep, the entrypoint being
 * checked ---- */

static const char *const ep_tls_versions[] = {"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL};
static const char *const ep_redirects[] = {"https", NULL};

/* mode: the entrypoint's mode, and the named defaults it uses (needed before its other rows:
 * the rows marked http are errors on a tcp entrypoint). */
static void ck_ep_mode(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	struct ep *e = c->ep;

	(void)at;
	e->tcp = is_tcp_mode(c, x, default_tcp(c));
	vset(c, view, "defaults", e->tcp ? "d_tcp" : "d_http", NULL);
	if (e->tcp)
		c->need_tcp = 1;
	else
		c->need_http = 1;
	if (e->tcp)
		snprintf(c->tcp_who, sizeof(c->tcp_who), "entrypoint '%s'", e->name);
}

/* tls: its keys are the rows tls.*; they build the bind arguments (c->ep_tls). */
static void ck_ep_tls(struct comp *c, const struct yn_node *x, struct yn_node *view,
		      const struct yn_node *at)
{
	(void)at;
	if (x && do_keys_in(c, "entrypoints.NAME", "tls.", x, "tls", view, x) == 0)
		vset(c, view, "tls", "true", x);
}

static void ck_ep_certs(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	int single;
	const struct yn_node *certs = check_list(c, x, "'certs'", &single);

	(void)view;
	if (!list_len(certs, single))
		err_at(c, at,
		       "tls needs 'certs': certificate files or directories (PEM with the key)");
	strbuf_addstr(&c->ep_tls, " ssl");
	for (size_t i = 0; i < list_len(certs, single); i++) {
		const struct yn_node *it = list_item(certs, single, i);

		if (check_str(c, it, "certificate path", S_TOKEN))
			strbuf_addf(&c->ep_tls, " crt %s", it->str);
	}
}

static void ck_ep_alpn(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	int single;
	const struct yn_node *alpn = check_list(c, x, "'alpn'", &single);

	(void)view, (void)at;
	for (size_t i = 0; i < list_len(alpn, single); i++) {
		const struct yn_node *it = list_item(alpn, single, i);

		if (check_str(c, it, "ALPN protocol", S_TOKEN)) {
			if (strchr(it->str, ','))
				err_at(c, it,
				       "ALPN protocol '%s' contains a comma: give one protocol per "
				       "item",
				       it->str);
			strbuf_addf(&c->ep_tls, "%s%s", i ? "," : " alpn ", it->str);
		}
	}
}

static void ck_ep_min_version(struct comp *c, const struct yn_node *x, struct yn_node *view,
			      const struct yn_node *at)
{
	const char *m = x ? one_of(c, x, "TLS version", ep_tls_versions) : NULL;

	(void)view, (void)at;
	if (m)
		strbuf_addf(&c->ep_tls, " ssl-min-ver %s", m);
}

static void ck_ep_tls_extra(struct comp *c, const struct yn_node *x, struct yn_node *view,
			    const struct yn_node *at)
{
	(void)view, (void)at;
	if (x && check_str(c, x, "tls extra", S_LINE))
		strbuf_addf(&c->ep_tls, " %s", x->str);
}

/* bind: the addresses, each with the tls arguments (at: the entrypoint's name). */
static void ck_ep_bind(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	struct ep *e = c->ep;
	int single;
	const struct yn_node *binds = check_list(c, x, "'bind'", &single);
	struct yn_node *bv;
	struct strbuf addr = STRBUF_INIT, sb = STRBUF_INIT;

	if (!x)
		err_at(c, at,
		       "entrypoint '%s' needs 'bind' (for example \":8080\" or \"127.0.0.1:8080\")",
		       e->name);
	bv = vseq(c, view, "binds", e->node);
	for (size_t i = 0; i < list_len(binds, single); i++) {
		const struct yn_node *it = list_item(binds, single, i);

		if (check_addr(c, it, "bind address", 1, 1, &addr) < 0)
			continue;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "entrypoint '%s'", e->name);
		bind_claim(c, addr.buf, it, sb.buf);
		strbuf_reset(&sb);
		/* "[::]:P" also takes IPv4 unless v6only: then ":P" beside it would clash */
		strbuf_addf(&sb, "%s%s%s", addr.buf, strncmp(addr.buf, "[::]:", 5) ? "" : " v6only",
			    c->ep_tls.buf);
		vpush(c, bv, sb.buf, it);
	}
	strbuf_release(&addr);
	strbuf_release(&sb);
}

static void ck_ep_timeouts(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	static const struct tmo tm[] = {
		{"client", "client", 0},
		{"http_request", "http-request", 0},
		{"http_keep_alive", "http-keep-alive", 0},
		{"client_fin", "client-fin", 0},
		{"client_hs", "client-hs", INV_RULE_CLIENT_HS},
		{NULL, NULL, 0},
	};

	(void)at;
	do_timeouts(c, x, tm, view, NULL, 1);
}

static void ck_ep_redirect_to(struct comp *c, const struct yn_node *x, struct yn_node *view,
			      const struct yn_node *at)
{
	(void)at;
	if (x && one_of(c, x, "redirect_to", ep_redirects))
		vset(c, view, "redirect_https", "true", x);
}

/* redirect_code: with a good redirect_to only. */
static void ck_ep_redirect_code(struct comp *c, const struct yn_node *x, struct yn_node *view,
				const struct yn_node *at)
{
	int64_t iv = 301;

	(void)at;
	if (!yn_get(c->ep->node, "redirect_to")) {
		if (x)
			err_at(c, x, "'redirect_code' needs 'redirect_to'");
		return;
	}
	if (!yn_get(view, "redirect_https"))
		return;
	if (x && check_int(c, x, "'redirect_code'", 301, 308, &iv) == 1 &&
	    (iv == 304 || iv == 305 || iv == 306))
		err_at(c, x, "'redirect_code' must be 301, 302, 303, 307 or 308");
	vsetf(c, view, "redirect_code", x, "%lld", (long long)iv);
}

/* hsts: true, or { max_age, include_subdomains, preload }. */
static void ck_ep_hsts(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	static const char *const hsts_keys[] = {"max_age", "include_subdomains", "preload", NULL};
	int64_t age = 31536000;
	int b, sub = 1, pre = 0;

	(void)at;
	if (!x || c->ep->tcp)
		return;
	if (x->kind == YN_SCALAR && check_bool(c, x, "'hsts'", &b) == 1) {
		if (b)
			vset(c, view, "hsts", "max-age=31536000; includeSubDomains", x);
	} else if (x->kind != YN_SCALAR && check_map(c, x, "hsts", hsts_keys) == 0) {
		check_int(c, yn_get(x, "max_age"), "'max_age'", 0, 1000000000, &age);
		check_bool(c, yn_get(x, "include_subdomains"), "'include_subdomains'", &sub);
		check_bool(c, yn_get(x, "preload"), "'preload'", &pre);
		vsetf(c, view, "hsts", x, "max-age=%lld%s%s", (long long)age,
		      sub ? "; includeSubDomains" : "", pre ? "; preload" : "");
	}
}

/* rate_limit: { requests, period, status, size }. */
static void ck_ep_rate_limit(struct comp *c, const struct yn_node *x, struct yn_node *view,
			     const struct yn_node *at)
{
	static const char *const rl_keys[] = {"requests", "period", "status", "size", NULL};
	struct yn_node *r;
	int64_t req = 0, st = 429, size = 100000;
	int bad = 0;
	const char *period;

	(void)at;
	if (!x || c->ep->tcp || check_map(c, x, "rate_limit", rl_keys) < 0)
		return;
	r = vmap(c, view, "rate_limit", x);
	period = check_dur(c, yn_get(x, "period"), "'period'", &bad);
	if (check_int(c, yn_get(x, "requests"), "'requests'", 1, 1000000000, &req) == 0)
		err_at(c, x, "rate_limit needs 'requests' (how many per period)");
	if (!yn_get(x, "period"))
		err_at(c, x, "rate_limit needs 'period' (for example 10s)");
	check_int(c, yn_get(x, "status"), "'status'", 200, 599, &st);
	check_int(c, yn_get(x, "size"), "'size'", 1, 100000000, &size);
	vsetf(c, r, "requests", yn_get(x, "requests"), "%lld", (long long)req);
	vset(c, r, "period", period ? period : "10s", yn_get(x, "period"));
	vsetf(c, r, "status", yn_get(x, "status"), "%lld", (long long)st);
	vsetf(c, r, "size", yn_get(x, "size"), "%lld", (long long)size);
}

/* compression: true, or { algos, types }. */
static void ck_ep_compression(struct comp *c, const struct yn_node *x, struct yn_node *view,
			      const struct yn_node *at)
{
	static const char *const cmp_keys[] = {"algos", "types", NULL};
	static const char *const algos[] = {"gzip", "deflate", "raw-deflate", "identity", NULL};
	const char *def_types = "text/html text/plain text/css text/javascript "
				"application/javascript application/json image/svg+xml";
	int b;

	(void)at;
	if (!x || c->ep->tcp)
		return;
	if (x->kind == YN_SCALAR && check_bool(c, x, "'compression'", &b) == 1) {
		if (b) {
			struct yn_node *cm = vmap(c, view, "compression", x);

			vset(c, cm, "algos", "gzip", x);
			vset(c, cm, "types", def_types, x);
		}
	} else if (x->kind != YN_SCALAR && check_map(c, x, "compression", cmp_keys) == 0) {
		struct yn_node *cm = vmap(c, view, "compression", x);
		struct strbuf sb = STRBUF_INIT;
		const struct yn_node *l;
		int s2;

		l = check_list(c, yn_get(x, "algos"), "'algos'", &s2);
		for (size_t i = 0; i < list_len(l, s2); i++) {
			const char *a =
				one_of(c, list_item(l, s2, i), "compression algorithm", algos);

			if (a)
				strbuf_addf(&sb, "%s%s", sb.len ? " " : "", a);
		}
		vset(c, cm, "algos", sb.len ? sb.buf : "gzip", x);
		strbuf_reset(&sb);
		l = check_list(c, yn_get(x, "types"), "'types'", &s2);
		for (size_t i = 0; i < list_len(l, s2); i++)
			if (check_str(c, list_item(l, s2, i), "MIME type", S_TOKEN))
				strbuf_addf(&sb, "%s%s", sb.len ? " " : "",
					    list_item(l, s2, i)->str);
		vset(c, cm, "types", sb.len ? sb.buf : def_types, x);
		strbuf_release(&sb);
	}
}

static void ck_ep_request_headers(struct comp *c, const struct yn_node *x, struct yn_node *view,
				  const struct yn_node *at)
{
	(void)at;
	do_headers(c, x, "request_headers", view, "request_headers");
}

static void ck_ep_response_headers(struct comp *c, const struct yn_node *x, struct yn_node *view,
				   const struct yn_node *at)
{
	(void)at;
	do_headers(c, x, "response_headers", view, "response_headers");
}

static void ck_ep_accept_invalid(struct comp *c, const struct yn_node *x, struct yn_node *view,
				 const struct yn_node *at)
{
	int b;

	(void)at;
	if (check_bool(c, x, "'accept_invalid_http'", &b) == 1 && b && !c->ep->tcp)
		vpush(c, vseq(c, view, "options", x),
		      !inv_target_accepts(c->target, INV_RULE_ACCEPT_INVALID)
			      ? "accept-unsafe-violations-in-http-request"
			      : "accept-invalid-http-request",
		      x);
}

static void do_entrypoint(struct comp *c, struct ep *e)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "entrypoint '%s'", e->name);
	c->ep = e;
	strbuf_init(&c->ep_tls);
	c->tcp_who[0] = '\0';
	do_keys(c, "entrypoints.NAME", e->node, sb.buf, e->view, e->key);
	c->tcp_who[0] = '\0';
	c->ep = NULL;
	strbuf_release(&c->ep_tls);
	strbuf_release(&sb);
}

static const char *const balances[] = {
	"roundrobin", "static-rr",   "leastconn",	  "first", "source", "random",
	"uri",	      "hdr(<name>)", "url_param(<name>)", NULL};

static const char *check_balance(struct comp *c, const struct yn_node *x, int tcp)
{
	const char *s = check_str(c, x, "balance", S_TOKEN);
	const char *sug;
	size_t l;
	char b[80];

	if (!s)
		return NULL;
	l = strlen(s);
	for (size_t i = 0; i < 6; i++) /* the ones without a request to read (not uri) */
		if (!strcmp(s, balances[i]))
			return s;
	if (!strcmp(s, "uri") || (!strncmp(s, "hdr(", 4) && s[l - 1] == ')' && l > 5) ||
	    (!strncmp(s, "url_param(", 10) && s[l - 1] == ')' && l > 11)) {
		const char *arg = strchr(s, '(');

		if (arg) {
			for (const char *p = arg + 1; p < s + l - 1; p++)
				if (!name_char(*p)) {
					err_at(c, x,
					       "bad balance '%s': the name in parentheses must be "
					       "a header or parameter name",
					       show(x, b, sizeof(b)));
					return NULL;
				}
		}
		if (tcp) {
			err_at(c, x, "balance '%s' needs mode http", s);
			return NULL;
		}
		return s;
	}
	sug = diag_suggest(s, balances, 9);
	if (sug)
		err_at(c, x, "bad balance '%s' (did you mean '%s'?)", show(x, b, sizeof(b)), sug);
	else
		err_at(c, x,
		       "bad balance '%s' (expected roundrobin, static-rr, leastconn, first, "
		       "source, random, uri, hdr(<name>) or url_param(<name>))",
		       show(x, b, sizeof(b)));
	return NULL;
}

/* match.KIND: a list of hosts or path patterns (kind 0 host, 1 path_prefix, 2 path,
 * 3 path_regex); c->svc's has_host, has_path and longest follow. */
static void match_kind(struct comp *c, const struct yn_node *x, int k)
{
	static const char *const kinds[] = {"host", "path_prefix", "path", "path_regex"};
	struct svc *s = c->svc;
	int single;
	const struct yn_node *l = check_list(c, x, kinds[k], &single);

	if (x && !list_len(l, single) && l)
		err_at(c, l, "'%s' is an empty list", kinds[k]);
	for (size_t i = 0; i < list_len(l, single); i++) {
		const struct yn_node *it = list_item(l, single, i);

		if (k == 0) {
			if (check_str(c, it, "host", S_TOKEN) && !parse_is_hostname(it->str) &&
			    !parse_is_ip(it->str) &&
			    !(it->str[0] == '*' && it->str[1] == '.' &&
			      parse_is_hostname(it->str + 2)))
				err_at(c, it,
				       "bad host '%s': a DNS name (optionally *.name) or an IP "
				       "address",
				       it->str);
			s->has_host = 1;
		} else {
			if (!check_str(c, it, kinds[k], k == 3 ? S_TEXT : S_PATH))
				continue;
			if (k == 3 && !it->len)
				err_at(c, it, "path_regex is empty");
			s->has_path = 1;
			if (it->len > s->longest)
				s->longest = it->len;
		}
	}
}

static void ck_match_host(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	(void)view, (void)at;
	match_kind(c, x, 0);
}

static void ck_match_path_prefix(struct comp *c, const struct yn_node *x, struct yn_node *view,
				 const struct yn_node *at)
{
	(void)view, (void)at;
	match_kind(c, x, 1);
}

static void ck_match_path(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	(void)view, (void)at;
	match_kind(c, x, 2);
}

static void ck_match_path_regex(struct comp *c, const struct yn_node *x, struct yn_node *view,
				const struct yn_node *at)
{
	(void)view, (void)at;
	match_kind(c, x, 3);
}

/* ---- services.NAME.servers[]: the checkers of its rows fill the server's view (its "params",
 * the arguments of its server line, in row order) and c->srv_* ---- */

static void srv_param(struct comp *c, struct yn_node *view, const char *s, const struct yn_node *at)
{
	vpush(c, yn_get(view, "params"), s, at);
}

/* servers[].name: required, unique in its service (at: the server). */
static void ck_srv_name(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	const char *name;

	if (!x) {
		err_at(c, at, "server needs 'name'");
		return;
	}
	if (!(name = check_str(c, x, "server name", S_NAME)))
		return;
	c->srv_name = name;
	vset(c, view, "name", name, x);
	for (size_t q = 0; q < c->srv_idx; q++) {
		const struct yn_node *o = yn_get(c->srv_list->items[q], "name");

		if (o && yn_is_text(o) && !strcmp(o->str, name))
			err_at(c, x,
			       "duplicate server name '%s' in service '%s' (first at line %u)",
			       name, c->svc->name, o->line);
	}
}

static void ck_srv_address(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	struct strbuf addr = STRBUF_INIT;

	if (!x)
		err_at(c, at, "server needs 'address' (HOST:PORT)");
	else if (check_addr(c, x, "server address", 0, 0, &addr) == 0)
		vset(c, view, "address", addr.buf, x);
	strbuf_release(&addr);
}

static void ck_srv_check(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	int b = c->svc_check;

	check_bool(c, x, "'check'", &b);
	if (b)
		srv_param(c, view, "check", at);
}

/* servers[].drain: no new traffic (weight 0, as "hagen server drain" does at run time); the
 * weight stays written for "hagen server ready" to bring back. */
static void ck_srv_drain(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	int b;
	int64_t iv;

	if (check_bool(c, x, "'drain'", &b) == 1 && b) {
		check_int(c, yn_get(at, "weight"), "'weight'", 0, 256, &iv);
		c->srv_drain = 1;
		c->srv_weight = 0; /* the balance expects no traffic either */
		srv_param(c, view, "weight", at);
		srv_param(c, view, "0", x);
	}
}

static void ck_srv_weight(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	int64_t iv;
	char num[32];

	if (c->srv_drain || check_int(c, x, "'weight'", 0, 256, &iv) != 1)
		return;
	c->srv_weight = iv;
	snprintf(num, sizeof(num), "%lld", (long long)iv);
	srv_param(c, view, "weight", at);
	srv_param(c, view, num, x);
}

static void ck_srv_maxconn(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	int64_t iv;
	char num[32];

	if (check_int(c, x, "'maxconn'", 1, 10000000, &iv) != 1)
		return;
	snprintf(num, sizeof(num), "%lld", (long long)iv);
	srv_param(c, view, "maxconn", at);
	srv_param(c, view, num, x);
}

static void ck_srv_backup(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	int b;

	(void)at;
	if (check_bool(c, x, "'backup'", &b) == 1 && b)
		srv_param(c, view, "backup", x), c->srv_backup = 1;
}

static void ck_srv_maintenance(struct comp *c, const struct yn_node *x, struct yn_node *view,
			       const struct yn_node *at)
{
	int b;

	(void)at;
	if (check_bool(c, x, "'maintenance'", &b) == 1 && b)
		srv_param(c, view, "disabled", x), c->srv_maint = 1;
}

/* servers[].extra: the last arguments of the line, after the sticky cookie's. */
static void ck_srv_extra(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	if (c->svc_cookie && yn_get(view, "name")) {
		srv_param(c, view, "cookie", at);
		srv_param(c, view, yn_get(view, "name")->str, at);
	}
	if (x && check_str(c, x, "server extra", S_LINE))
		srv_param(c, view, x->str, x);
}

/* Server idx of the list servers of service s: its view goes onto seq, its model into s->be. */
static void do_server(struct comp *c, struct svc *s, const struct yn_node *servers, size_t idx,
		      struct yn_node *seq)
{
	const struct yn_node *it = servers->items[idx];
	struct yn_node *m;

	if (keys_known(c, "services.NAME", "servers[].", it, "a server") < 0)
		return;
	m = vpush_map(c, seq, it);
	vseq(c, m, "params", it);
	c->srv_list = servers;
	c->srv_idx = idx;
	c->srv_name = NULL;
	c->srv_weight = 1;
	c->srv_drain = c->srv_backup = c->srv_maint = 0;
	rows_run(c, "services.NAME", "servers[].", it, m, it);
	if (c->srv_name && s->be)
		model_server(s->be, c->srv_name, c->srv_weight, c->srv_backup, c->srv_maint, 0);
}

/* "200-399": two status codes from 100 to 599, the first not above the second. */
static int status_range_ok(const struct yn_node *y)
{
	const char *s = y->str;

	if (!yn_is_text(y) || y->len != 7 || s[3] != '-' || strspn(s, "0123456789") != 3 ||
	    strspn(s + 4, "0123456789") != 3)
		return 0;
	return s[0] >= '1' && s[0] <= '5' && s[4] >= '1' && s[4] <= '5' && memcmp(s, s + 4, 3) <= 0;
}

/* ---- services.NAME: the checkers of its rows read and fill c->svc, the service being checked,
 * and c->svc_* ---- */

/* mode: the service's mode, and the named defaults it uses. */
static void ck_svc_mode(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	struct svc *s = c->svc;

	(void)at;
	s->tcp = is_tcp_mode(c, x, default_tcp(c));
	if (s->be)
		s->be->tcp = s->tcp;
	vset(c, view, "defaults", s->tcp ? "d_tcp" : "d_http", NULL);
	if (s->tcp)
		c->need_tcp = 1;
	else
		c->need_http = 1;
}

/* entrypoints: names (checked against the entrypoints once all are known, check_service_eps). */
static void ck_svc_eps(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	struct svc *s = c->svc;
	int single;

	(void)view, (void)at;
	if (!x)
		return;
	s->eps = check_list(c, x, "'entrypoints'", &single);
	/* an empty list attaches the service nowhere: extra lines route to it */
	if (s->eps && single)
		s->eps = NULL, err_at(c, x, "'entrypoints' must be a list like [web]");
	else if (s->eps && s->eps->n > MAX_EPS)
		s->eps = NULL, err_at(c, x, "'entrypoints' has more than %d items", MAX_EPS);
	for (size_t i = 0; s->eps && i < s->eps->n; i++)
		check_str(c, s->eps->items[i], "entrypoint name", S_NAME);
}

/* match: its keys are the rows match.*; a tcp service is the default of its entrypoints. */
static void ck_svc_match(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	struct svc *s = c->svc;

	(void)at;
	if (!x)
		return;
	if (s->tcp) {
		err_at(c, x,
		       "'match' needs mode http (service '%s' is tcp: it can only be the default "
		       "of "
		       "its entrypoints)",
		       s->name);
		return;
	}
	s->match = x;
	if (do_keys_in(c, "services.NAME", "match.", x, "match", view, x) < 0)
		return;
	if (!s->has_host && !s->has_path)
		err_at(c, x, "match needs 'host', 'path_prefix', 'path' or 'path_regex'");
}

static void ck_svc_default(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	int b;

	(void)view, (void)at;
	if (check_bool(c, x, "'default'", &b) == 1)
		c->svc->is_default = b;
	if (!yn_get(c->svc->node, "match") && !x)
		c->svc->is_default = 1; /* a service without match is its entrypoints' default */
}

static void ck_svc_balance(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	const char *bal = x ? check_balance(c, x, c->svc->tcp) : NULL;

	(void)at;
	/* HAProxy writes hdr(<name>) but "url_param <name>" */
	if (bal && !strncmp(bal, "url_param(", 10))
		vsetf(c, view, "balance", x, "url_param %.*s", (int)(strlen(bal) - 11), bal + 10);
	else if (bal)
		vset(c, view, "balance", bal, x);
}

/* resolvers: the service's own (c->svc_res; defaults.resolvers when it has none). */
static void ck_svc_resolvers(struct comp *c, const struct yn_node *x, struct yn_node *view,
			     const struct yn_node *at)
{
	(void)view, (void)at;
	if (!x || !check_str(c, x, "resolvers name", S_NAME))
		return;
	if (find_name(c->resolver_names, c->nresolvers, x->str) < 0)
		ref_error(c, x, "resolvers", c->resolver_names, c->nresolvers);
	else
		c->svc_res = x->str;
}

static void ck_svc_timeouts(struct comp *c, const struct yn_node *x, struct yn_node *view,
			    const struct yn_node *at)
{
	static const struct tmo tm[] = {
		{"connect", "connect", 0}, {"server", "server", 0},	    {"queue", "queue", 0},
		{"tunnel", "tunnel", 0},   {"server_fin", "server-fin", 0}, {"check", "check", 0},
		{NULL, NULL, 0},
	};

	(void)at;
	do_timeouts(c, x, tm, view, NULL, 1);
}

/* health_check: its keys are the rows health_check.*; they build the default-server arguments
 * (c->svc_ds), which end with the service's resolvers. */
static void ck_svc_health_check(struct comp *c, const struct yn_node *x, struct yn_node *view,
				const struct yn_node *at)
{
	const struct yn_node *n = c->svc->node;

	(void)at;
	if (x && keys_known(c, "services.NAME", "health_check.", x, "health_check") == 0) {
		static const char *const hc_types[] = {"http", "tcp", "none", NULL};
		const struct yn_node *t = yn_get(x, "type");

		c->svc_hc = t ? one_of(c, t, "health check type", hc_types)
			      : (c->svc->tcp ? "tcp" : "http");
		if (!c->svc_hc)
			c->svc_hc = "tcp";
		if (!strcmp(c->svc_hc, "none"))
			c->svc_check = 0;
		if (!strcmp(c->svc_hc, "http")) {
			struct yn_node *h;

			if (c->svc->tcp)
				err_at(c, t ? t : x, "an http health check needs mode http");
			h = vmap(c, view, "httpchk", x);
			vset(c, h, "method", "GET", x);
			vset(c, h, "path", "/", x);
		}
		rows_run(c, "services.NAME", "health_check.", x, yn_get(view, "httpchk"), x);
	}
	if (c->svc_res)
		strbuf_addf(&c->svc_ds, " init-addr none resolvers %s", c->svc_res);
	if (c->svc_ds.len)
		vset(c, view, "default_server", c->svc_ds.buf + 1, x ? x : n);
}

/* health_check.type: read by health_check itself (the other rows depend on it). */
static void ck_hc_type(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	(void)c, (void)x, (void)view, (void)at;
}

/* A key of an http health check (at: the health_check map); an error with another type. */
static int hc_http_key(struct comp *c, const struct yn_node *x, const struct yn_node *at,
		       const char *key)
{
	if (!strcmp(c->svc_hc, "http"))
		return 1;
	if (x)
		err_at(c, yn_get_pair(at, key)->key, "'%s' needs health check type http", key);
	return 0;
}

static void ck_hc_path(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	if (hc_http_key(c, x, at, "path") && x && check_str(c, x, "health check path", S_PATH))
		vset(c, view, "path", x->str, x);
}

static void ck_hc_method(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	static const char *const methods[] = {"GET", "HEAD", "OPTIONS", "POST", NULL};

	if (hc_http_key(c, x, at, "method") && x && one_of(c, x, "method", methods))
		vset(c, view, "method", x->str, x);
}

/* health_check.host: given, or the first host the service matches (not a wildcard), or
 * localhost. */
static void ck_hc_host(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	const struct yn_node *y = x;
	const char *host = NULL;

	if (!hc_http_key(c, x, at, "host"))
		return;
	if (x) {
		if (check_str(c, x, "health check host", S_TOKEN))
			host = x->str;
	} else if (c->svc->match && (y = yn_get(c->svc->match, "host"))) {
		const struct yn_node *first = y->kind == YN_SEQ ? yn_at(y, 0) : y;

		if (first && yn_is_text(first) && first->str[0] != '*')
			host = first->str;
	}
	vset(c, view, "host", host ? host : "localhost", y);
}

static void ck_hc_expect_status(struct comp *c, const struct yn_node *x, struct yn_node *view,
				const struct yn_node *at)
{
	int64_t iv;

	if (!hc_http_key(c, x, at, "expect_status"))
		return;
	vset(c, view, "status", "200", at);
	if (!x)
		return;
	if (yn_int64(x, 100, 599, &iv) == 0 || status_range_ok(x))
		vset(c, view, "status", x->str, x);
	else
		err_at(c, x,
		       "expect_status must be a status code like 200 or a range like \"200-399\"");
}

static void ck_hc_interval(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	int bad = 0;
	const char *d = check_dur(c, x, "'interval'", &bad);

	(void)view, (void)at;
	if (d)
		strbuf_addf(&c->svc_ds, " inter %s", d);
}

static void ck_hc_fall(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	int64_t iv;

	(void)view, (void)at;
	if (check_int(c, x, "'fall'", 1, 1000, &iv) == 1)
		strbuf_addf(&c->svc_ds, " fall %lld", (long long)iv);
}

static void ck_hc_rise(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	int64_t iv;

	(void)view, (void)at;
	if (check_int(c, x, "'rise'", 1, 1000, &iv) == 1)
		strbuf_addf(&c->svc_ds, " rise %lld", (long long)iv);
}

/* sticky: { type: cookie, name } or { type: source, expire, size }. */
static void ck_svc_sticky(struct comp *c, const struct yn_node *x, struct yn_node *view,
			  const struct yn_node *at)
{
	static const char *const sticky_keys[] = {"type", "name", "expire", "size", NULL};
	static const char *const sticky_types[] = {"cookie", "source", NULL};
	const char *t;
	const struct yn_node *y;

	(void)at;
	if (!x || check_map(c, x, "sticky", sticky_keys) < 0)
		return;
	t = yn_get(x, "type") ? one_of(c, yn_get(x, "type"), "sticky type", sticky_types) : NULL;
	if (!yn_get(x, "type"))
		err_at(c, x, "sticky needs 'type': cookie or source");
	if (t && !strcmp(t, "cookie")) {
		if (c->svc->tcp)
			err_at(c, yn_get(x, "type"), "sticky cookie needs mode http");
		c->svc_cookie = 1;
		vset(c, view, "cookie", "SRVID", x);
		if ((y = yn_get(x, "name")) && check_str(c, y, "cookie name", S_TOKEN))
			vset(c, view, "cookie", y->str, y);
	} else if (t) {
		struct yn_node *st = vmap(c, view, "stick_source", x);
		int bad = 0;
		const char *e = check_dur(c, yn_get(x, "expire"), "'expire'", &bad);
		int64_t iv = 200000;

		check_int(c, yn_get(x, "size"), "'size'", 1, 100000000, &iv);
		vset(c, st, "expire", e ? e : "30m", yn_get(x, "expire"));
		vsetf(c, st, "size", yn_get(x, "size"), "%lld", (long long)iv);
	}
}

/* request_headers, response_headers: one error for both on a tcp service. */
static void ck_svc_request_headers(struct comp *c, const struct yn_node *x, struct yn_node *view,
				   const struct yn_node *at)
{
	(void)at;
	if (c->svc->tcp && x)
		err_at(c, x, "headers need mode http (service '%s' is tcp)", c->svc->name);
	else if (!c->svc->tcp)
		do_headers(c, x, "request_headers", view, "request_headers");
}

static void ck_svc_response_headers(struct comp *c, const struct yn_node *x, struct yn_node *view,
				    const struct yn_node *at)
{
	(void)at;
	if (c->svc->tcp && x && !yn_get(c->svc->node, "request_headers"))
		err_at(c, x, "headers need mode http (service '%s' is tcp)", c->svc->name);
	else if (!c->svc->tcp)
		do_headers(c, x, "response_headers", view, "response_headers");
}

static void ck_svc_servers(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	struct svc *s = c->svc;
	int single;
	const struct yn_node *servers = check_list(c, x, "'servers'", &single);
	struct yn_node *sv;

	(void)at;
	if (servers && single)
		servers = NULL, err_at(c, x, "'servers' must be a list of { name, address }");
	sv = vseq(c, view, "servers", s->node);
	if (servers && s->be && model_reserve(c, s->be, servers->n) < 0)
		s->be = NULL;
	for (size_t i = 0; servers && i < servers->n; i++)
		do_server(c, s, servers, i, sv);
	if (servers && !servers->n && !yn_get(s->node, "discovery") && !yn_get(s->node, "extra"))
		warn_at(c, x, "service '%s' has no server: %s", s->name,
			no_server_effect[s->tcp ? 1 : 0]);
}

/* discovery: its one key is the row discovery.dns. */
static void ck_svc_discovery(struct comp *c, const struct yn_node *x, struct yn_node *view,
			     const struct yn_node *at)
{
	(void)at;
	vseq(c, view, "server_templates", c->svc->node);
	if (x)
		do_keys_in(c, "services.NAME", "discovery.", x, "discovery", view, x);
}

/* discovery.dns: server-template slots filled from DNS (at: the discovery map). */
static void ck_svc_dns(struct comp *c, const struct yn_node *dns, struct yn_node *view,
		       const struct yn_node *at)
{
	static const char *const dns_keys[] = {"name",	    "port",   "slots",
					       "resolvers", "prefix", NULL};
	struct svc *s = c->svc;
	const struct yn_node *y;
	struct yn_node *t, *params;
	const char *fq = NULL, *res = c->svc_res, *prefix = s->name;
	int64_t port = 0, slots = 5;

	if (!dns) {
		err_at(c, at, "discovery needs 'dns'");
		return;
	}
	if (check_map(c, dns, "dns", dns_keys) < 0)
		return;
	t = vpush_map(c, yn_get(view, "server_templates"), dns);
	params = vseq(c, t, "params", dns);
	if (!(y = yn_get(dns, "name")))
		err_at(c, dns, "dns needs 'name' (the DNS name of the replicas)");
	else if ((fq = check_str(c, y, "dns name", S_TOKEN)) && !parse_is_hostname(fq))
		err_at(c, y, "bad dns name '%s'", fq), fq = NULL;
	if (check_int(c, yn_get(dns, "port"), "'port'", 1, 65535, &port) == 0)
		err_at(c, dns, "dns needs 'port'");
	check_int(c, yn_get(dns, "slots"), "'slots'", 1, 10000, &slots);
	if ((y = yn_get(dns, "prefix")))
		prefix = check_str(c, y, "server prefix", S_NAME);
	if ((y = yn_get(dns, "resolvers")) && check_str(c, y, "resolvers name", S_NAME)) {
		if (find_name(c->resolver_names, c->nresolvers, y->str) < 0)
			ref_error(c, y, "resolvers", c->resolver_names, c->nresolvers);
		else
			res = y->str;
	}
	if (!res && !yn_get(dns, "resolvers"))
		err_at(c, dns,
		       "dns discovery needs resolvers: set 'resolvers' here, in the service or in "
		       "defaults");
	vset(c, t, "prefix", prefix ? prefix : s->name, yn_get(dns, "prefix"));
	if (prefix)
		model_slots(c, s->be, prefix, slots);
	vsetf(c, t, "slots", yn_get(dns, "slots"), "%lld", (long long)slots);
	vsetf(c, t, "fqdn", yn_get(dns, "name"), "%s:%lld", fq ? fq : "", (long long)port);
	if (c->svc_check)
		vpush(c, params, "check", dns);
	if (res) {
		vpush(c, params, "resolvers", dns);
		vpush(c, params, res, dns);
		vpush(c, params, "init-addr", dns);
		vpush(c, params, "none", dns);
	}
}

static void ck_svc_accept_invalid(struct comp *c, const struct yn_node *x, struct yn_node *view,
				  const struct yn_node *at)
{
	int b;

	(void)at;
	if (check_bool(c, x, "'accept_invalid_http'", &b) == 1 && b && !c->svc->tcp)
		vpush(c, vseq(c, view, "extra", x),
		      !inv_target_accepts(c->target, INV_RULE_ACCEPT_INVALID)
			      ? "option accept-unsafe-violations-in-http-response"
			      : "option accept-invalid-http-response",
		      x);
}

static void do_service(struct comp *c, struct svc *s, struct yn_node *v)
{
	struct strbuf what = STRBUF_INIT;

	strbuf_addf(&what, "service '%s'", s->name);
	c->svc = s;
	c->svc_res = c->default_resolvers;
	c->svc_hc = "tcp";
	c->svc_check = 1;
	c->svc_cookie = 0;
	strbuf_init(&c->svc_ds);
	if (do_keys(c, "services.NAME", s->node, what.buf, v, s->key) == 0 &&
	    !yn_get(s->node, "servers") && !yn_get(s->node, "discovery"))
		err_at(c, s->key, "service '%s' needs 'servers' or 'discovery'", s->name);
	c->svc = NULL;
	strbuf_release(&c->svc_ds);
	strbuf_release(&what);
}

static int route_cmp_cat(const struct svc *s)
{
	return s->has_host && s->has_path ? 0 : s->has_host ? 1 : 2;
}

/* qsort order of routes: category, then the longest path pattern first, then the name. */
static int route_order(const void *a, const void *b)
{
	const struct svc *p = *(struct svc *const *)a, *t = *(struct svc *const *)b;
	int cp = route_cmp_cat(p), ct = route_cmp_cat(t);

	if (cp != ct)
		return cp < ct ? -1 : 1;
	if (p->longest != t->longest)
		return p->longest > t->longest ? -1 : 1;
	return strcmp(p->name, t->name);
}

/* Routes of one entrypoint: host + longest path, host, path (then name for a stable order). */
static void do_routes(struct comp *c, struct ep *e)
{
	struct svc *list[MAX_SVCS];
	size_t nl = 0;
	struct strbuf cond = STRBUF_INIT, sb = STRBUF_INIT;
	struct yn_node *acls = vseq(c, e->view, "acls", e->node),
		       *routes = vseq(c, e->view, "routes", e->node);

	for (size_t i = 0; i < c->nsvcs; i++) {
		struct svc *s = &c->svcs[i];
		int attached = 0;

		if (s->eps) {
			/* every service for every entrypoint: the first byte rules most out */
			for (size_t j = 0; j < s->eps->n; j++) {
				const struct yn_node *it = s->eps->items[j];

				if (it->kind == YN_SCALAR && it->str[0] == e->name[0] &&
				    yn_is_text(it) && !strcmp(it->str, e->name))
					attached = 1;
			}
		} else {
			attached = s->tcp == e->tcp;
		}
		if (!attached)
			continue;
		if (s->tcp != e->tcp) {
			err_at(c, s->key,
			       "service '%s' (mode %s) cannot attach to entrypoint '%s' (mode %s)",
			       s->name, s->tcp ? "tcp" : "http", e->name, e->tcp ? "tcp" : "http");
			continue;
		}
		if (s->is_default) {
			if (e->default_svc) {
				err_at(c, s->key,
				       "entrypoint '%s' has two default services: '%s' (line %u) "
				       "and '%s'",
				       e->name, e->default_svc, e->default_at->line, s->name);
			} else {
				e->default_svc = s->name;
				e->default_at = s->key;
				vset(c, e->view, "default_backend", s->be ? s->be->name : "",
				     s->key);
			}
		}
		if (s->match)
			list[nl++] = s;
	}
	/* a total order (service names are unique): n log n, as one entrypoint may route to
	 * thousands of services */
	if (nl > 1)
		qsort(list, nl, sizeof(list[0]), route_order);
	for (size_t i = 0; i < nl; i++) {
		struct svc *s = list[i];
		static const char *const kinds[] = {"host", "path_prefix", "path", "path_regex"};
		static const char *const crit[] = {"req.hdr(host),field(1,:) -i", "path_beg",
						   "path", "path_reg"};
		struct yn_node *r;

		if (c->too_big)
			break;
		strbuf_reset(&cond); /* both reused from route to route */
		strbuf_reset(&sb);
		for (int k = 0; k < 4; k++) {
			const struct yn_node *l = yn_get(s->match, kinds[k]);
			struct yn_node *a;

			if (!l)
				continue;
			strbuf_reset(&sb);
			for (size_t j = 0; j < (l->kind == YN_SEQ ? l->n : 1); j++) {
				const struct yn_node *it = l->kind == YN_SEQ ? l->items[j] : l;

				if (!yn_is_text(it))
					continue;
				if (k == 0 && it->str[0] == '*')
					continue; /* wildcards below */
				char q[4200];

				strbuf_addf(&sb, " %s",
					    k == 3 ? quote_text(it->str, q, sizeof(q)) : it->str);
			}
			if (sb.len) {
				a = vpush_map(c, acls, l);
				vsetf(c, a, "name", l, "%s_%s", k == 0 ? "host" : "path", s->name);
				vsetf(c, a, "criterion", l, "%s%s", crit[k], sb.buf);
			}
			if (k == 0) {
				strbuf_reset(&sb);
				for (size_t j = 0; j < (l->kind == YN_SEQ ? l->n : 1); j++) {
					const struct yn_node *it =
						l->kind == YN_SEQ ? l->items[j] : l;

					if (yn_is_text(it) && it->str[0] == '*')
						strbuf_addf(&sb, " %s", it->str + 1);
				}
				if (sb.len) {
					a = vpush_map(c, acls, l);
					vsetf(c, a, "name", l, "host_%s", s->name);
					vsetf(c, a, "criterion", l,
					      "req.hdr(host),field(1,:) -i -m end%s", sb.buf);
				}
			}
		}
		if (s->has_host)
			strbuf_addf(&cond, "host_%s", s->name);
		if (s->has_path)
			strbuf_addf(&cond, "%spath_%s", cond.len ? " " : "", s->name);
		r = vpush_map(c, routes, s->match);
		vset(c, r, "service", s->name, s->match);
		vset(c, r, "backend", s->be ? s->be->name : "", s->match);
		vset(c, r, "condition", cond.buf, s->match);
	}
	strbuf_release(&cond);
	strbuf_release(&sb);
	if (!e->default_svc && !nl && !yn_get(e->node, "redirect_to") && !yn_get(e->node, "extra"))
		warn_at(c, e->key, "entrypoint '%s' has no service: %s", e->name,
			no_server_effect[e->tcp ? 1 : 0]);
}

/* The environment variables holding the passwords of userlist name, as stats.secret_envs: an
 * unset or empty variable would make HAProxy accept an empty password, so the stats page is
 * refused while any of them is empty (see templates/stats.tmpl). */
static void stats_secret_envs(struct comp *c, struct yn_node *v, const char *name,
			      const struct yn_node *at)
{
	const struct yn_node *users = yn_get(yn_get(yn_get(c->root, "userlists"), name), "users");
	struct yn_node *seq = NULL;

	if (!users || users->kind != YN_SEQ)
		return;
	for (size_t i = 0; i < users->n; i++) {
		const struct yn_node *e = yn_get(users->items[i], "password_env");

		if (!e)
			e = yn_get(users->items[i], "password_hash_env");
		if (!e || e->kind != YN_SCALAR || !yn_is_text(e) || !env_name_ok(e->str))
			continue;
		if (!seq)
			seq = vseq(c, v, "secret_envs", at);
		vpush(c, seq, e->str, e);
	}
}

/* 1 when a bind address ("HOST:PORT" or "[V6]:PORT", as check_addr writes it) only listens on
 * the loopback interface: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. A wildcard is not. */
static int bind_is_loopback(const char *addr)
{
	char host[64];
	const char *end = addr[0] == '[' ? strchr(addr, ']') : strrchr(addr, ':');
	const char *start = addr[0] == '[' ? addr + 1 : addr;

	if (!end || (size_t)(end - start) >= sizeof(host))
		return 0;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
	       !strncasecmp(host, "::ffff:127.", 11);
}

static void do_stats(struct comp *c, const struct yn_node *n)
{
	struct yn_node *v;
	const struct yn_node *binds;
	int single;

	if (!n)
		return;
	c->need_http = 1;
	v = vmap(c, c->view, "stats", n);
	vorigin(c, v, yn_get_pair(c->root, "stats")->key);
	vset(c, v, "defaults", "d_http", NULL);
	if (do_keys(c, "stats", n, "stats", v, n) < 0)
		return;
	/* without auth, anyone who reaches a non-loopback bind reads every backend and server */
	binds = yn_get(n, "bind"); /* a list, or one address (as check_list reads it) */
	single = binds && binds->kind == YN_SCALAR;
	if (binds && binds->kind != YN_SEQ && (!single || yn_is_null(binds)))
		binds = NULL;
	for (size_t i = 0; !yn_get(v, "userlist") && binds && i < list_len(binds, single); i++) {
		const struct yn_node *bn = list_item(binds, single, i);

		if (yn_is_text(bn) && !bind_is_loopback(bn->str)) {
			char sb[80];

			warn_at(c, bn,
				"the stats page%s binds '%s' without auth: anyone who "
				"reaches it "
				"sees every backend and server; add stats.auth or bind "
				"127.0.0.1",
				yn_get(v, "prometheus") ? " (and Prometheus metrics)" : "",
				show(bn, sb, sizeof(sb)));
			break;
		}
	}
}

/* version: the inventory format; a file of another version is not checked further. */
static void ck_version(struct comp *c, const struct yn_node *x, struct yn_node *view,
		       const struct yn_node *at)
{
	int64_t ver;

	(void)view, (void)at;
	if (x && check_int(c, x, "'version'", 1, 1, &ver) < 0)
		c->stop_rows = 1;
}

/* target: read (and checked) before the sections, which depend on it (inv_load). */
static void ck_target(struct comp *c, const struct yn_node *x, struct yn_node *view,
		      const struct yn_node *at)
{
	char tb[16];

	(void)x, (void)at;
	snprintf(tb, sizeof(tb), "%d.%d", c->target / 100, c->target % 100);
	vset(c, view, "target", tb, NULL);
}

/* environments: the selected overlay was merged before the checks (apply_env). */
static void ck_environments(struct comp *c, const struct yn_node *x, struct yn_node *view,
			    const struct yn_node *at)
{
	(void)c, (void)x, (void)view, (void)at;
}

static void ck_global(struct comp *c, const struct yn_node *x, struct yn_node *view,
		      const struct yn_node *at)
{
	(void)view, (void)at;
	do_global(c, x);
}

static void ck_resolvers(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	(void)view, (void)at;
	do_resolvers(c, x);
}

static void ck_userlists(struct comp *c, const struct yn_node *x, struct yn_node *view,
			 const struct yn_node *at)
{
	(void)view, (void)at;
	do_userlists(c, x);
}

/* entrypoints: a map of names to entrypoints (required). */
static void ck_entrypoints(struct comp *c, const struct yn_node *x, struct yn_node *view,
			   const struct yn_node *at)
{
	(void)at;
	/* defaults.resolvers is needed by services: resolve the name first */
	{
		const struct yn_node *dr = yn_path(c->root, "defaults.resolvers");

		if (dr && yn_is_text(dr) &&
		    find_name(c->resolver_names, c->nresolvers, dr->str) >= 0)
			c->default_resolvers = dr->str;
	}
	vseq(c, view, "frontends", x);
	vseq(c, view, "backends", x);
	if (!x)
		err_at(c, NULL, "the inventory needs 'entrypoints' (where HAProxy listens)");
	else if (x->kind != YN_MAP || !x->n)
		err_at(c, x, "'entrypoints' must be a map of names to entrypoints");
	else
		for (size_t i = 0; i < x->n && c->neps < MAX_EPS; i++) {
			struct ep *e = &c->eps[c->neps];
			char fe[INV_PROXY_NAME_MAX];

			memset(e, 0, sizeof(*e));
			e->key = x->pairs[i].key;
			e->node = x->pairs[i].value;
			if (!(e->name = named_entry(c, yn_get(view, "frontends"), e->key,
						    "entrypoint name", &e->view)))
				continue;
			c->neps++;
			vset(c, e->view, "frontend", inv_frontend_name(e->name, fe, sizeof(fe)),
			     e->key);
			do_entrypoint(c, e);
		}
	if (x && x->kind == YN_MAP && x->n > MAX_EPS)
		err_at(c, x, "more than %d entrypoints", MAX_EPS);
}

/* Every service's entrypoints exist, once each; a service without a list has one of its
 * mode. */
static void check_service_eps(struct comp *c)
{
	const char *names[MAX_EPS];

	for (size_t i = 0; i < c->neps; i++)
		names[i] = c->eps[i].name;
	for (size_t i = 0; i < c->nsvcs; i++) {
		const struct svc *s = &c->svcs[i];
		int any = 0;

		for (size_t j = 0; s->eps && j < s->eps->n; j++) {
			const struct yn_node *it = s->eps->items[j];

			if (!yn_is_text(it) || !it->len)
				continue;
			if (find_name(names, c->neps, it->str) < 0)
				ref_error(c, it, "entrypoint", names, c->neps);
			for (size_t q = 0; q < j; q++)
				if (yn_is_text(s->eps->items[q]) &&
				    !strcmp(s->eps->items[q]->str, it->str))
					err_at(c, it, "entrypoint '%s' listed twice", it->str);
			any = 1;
		}
		if (!s->eps) {
			for (size_t j = 0; j < c->neps; j++)
				any |= c->eps[j].tcp == s->tcp;
			if (!any && c->neps)
				err_at(c, s->key,
				       "service '%s' (mode %s) has no entrypoint of its mode: set "
				       "'entrypoints'",
				       s->name, s->tcp ? "tcp" : "http");
		}
	}
}

/* services: a map of names to services (required); then the references between services and
 * entrypoints, and each entrypoint's routes. */
static void ck_services(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	(void)at;
	if (!x)
		err_at(c, NULL, "the inventory needs 'services'");
	else if (x->kind != YN_MAP || !x->n)
		err_at(c, x, "'services' must be a map of names to services");
	else
		for (size_t i = 0; i < x->n && c->nsvcs < MAX_SVCS; i++) {
			struct svc *s = &c->svcs[c->nsvcs];
			struct yn_node *v;

			memset(s, 0, sizeof(*s));
			s->key = x->pairs[i].key;
			s->node = x->pairs[i].value;
			if (!(s->name = named_entry(c, yn_get(view, "backends"), s->key,
						    "service name", &v)))
				continue;
			c->nsvcs++;
			s->be = model_backend(c, s->name, v, s->key);
			do_service(c, s, v);
		}
	if (x && x->kind == YN_MAP && x->n > MAX_SVCS)
		err_at(c, x, "more than %d services", MAX_SVCS);
	check_service_eps(c);
	if (routes_fit(c) == 0)
		for (size_t i = 0; i < c->neps; i++)
			do_routes(c, &c->eps[i]);
}

static void ck_stats(struct comp *c, const struct yn_node *x, struct yn_node *view,
		     const struct yn_node *at)
{
	(void)view, (void)at;
	if (x)
		do_stats(c, x);
}

/* defaults: checked last, once the modes in use are known (d_http and/or d_tcp). */
static void ck_defaults(struct comp *c, const struct yn_node *x, struct yn_node *view,
			const struct yn_node *at)
{
	(void)view, (void)at;
	do_defaults(c, x);
}

/* The inventory: its top level's rows, in the order they are checked (a section's checks may
 * need what an earlier one found: the userlists for stats, the modes in use for defaults). */
static void compile(struct comp *c)
{
	const struct yn_node *r = c->root;
	/* "x-..." keys hold YAML anchors to reuse (as in compose files): skip them */
	struct yn_node tmp = *r;
	struct yn_pair *kept = calloc(r->n ? r->n : 1, sizeof(*kept));
	size_t nk = 0;

	if (!kept) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < r->n; i++)
		if (!(yn_is_text(r->pairs[i].key) && !strncmp(r->pairs[i].key->str, "x-", 2)))
			kept[nk++] = r->pairs[i];
	tmp.pairs = kept;
	tmp.n = nk;
	keys_known(c, "top level", "", &tmp, "the inventory");
	free(kept);
	rows_run(c, "top level", "", r, c->view, NULL);
}

/* Deep merge of over into base: maps merge key by key, anything else replaces. */
static int merge(struct yn_node *base, const struct yn_node *over)
{
	for (size_t i = 0; i < over->n; i++) {
		const struct yn_pair *p = &over->pairs[i];
		struct yn_pair *bp = yn_get_pair(base, p->key->str);

		if (bp && bp->value->kind == YN_MAP && p->value->kind == YN_MAP) {
			if (merge(bp->value, p->value) < 0)
				return -1;
		} else if (bp) {
			struct yn_node *cp = yn_copy(p->value);

			if (!cp)
				return -1;
			yn_free(bp->value);
			bp->value = cp;
		} else {
			struct yn_node *cp = yn_copy(p->value);

			if (!cp || yn_map_set(base, p->key->str, cp) < 0)
				return -1;
			/* keep the overlay key's position */
			bp = yn_get_pair(base, p->key->str);
			bp->key->line = p->key->line;
			bp->key->col = p->key->col;
		}
	}
	return 0;
}

static int apply_env(struct comp *c, const char *env)
{
	const struct yn_node *envs = yn_get(c->root, "environments"), *e;
	const char *names[256];
	size_t nn = 0;

	if (envs && envs->kind != YN_MAP) {
		err_at(c, envs, "'environments' must be a map of names to overlays, not a %s",
		       yn_kind_name(envs));
		return -1;
	}
	for (size_t i = 0; envs && i < envs->n && nn < 256; i++)
		if (yn_is_text(envs->pairs[i].key))
			names[nn++] = envs->pairs[i].key->str;
	if (!env)
		return 0;
	e = yn_get(envs, env);
	if (!e) {
		const char *sug = diag_suggest(env, names, nn);
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < nn; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
		if (sug)
			diag_add(c->dl, DIAG_ERROR, c->file, 0, 0,
				 "unknown environment '%s' (did you mean '%s'?)", env, sug);
		else
			diag_add(c->dl, DIAG_ERROR, c->file, 0, 0,
				 "unknown environment '%s' (defined: %s)", env,
				 nn ? sb.buf : "none");
		strbuf_release(&sb);
		return -1;
	}
	/* the name lands in the header comment of haproxy.cfg: a newline would end it */
	if (!check_str(c, yn_get_pair(envs, env)->key, "environment name", S_NAME))
		return -1;
	if (e->kind != YN_MAP) {
		err_at(c, e, "environment '%s' must be a map (an overlay of the inventory)", env);
		return -1;
	}
	if (yn_get_pair(e, "environments")) {
		err_at(c, yn_get_pair(e, "environments")->key,
		       "an environment cannot define environments");
		return -1;
	}
	if (merge(c->root, e) < 0) {
		c->oom = 1;
		return -1;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int inv_load(const char *file, const struct inv_opts *opts, struct inv *inv, struct diag_list *dl)
{
	struct comp *c;
	struct yn_error yerr;
	struct yn_limits lim = {INV_MAX_DEPTH, INV_MAX_NODES, INV_MAX_BYTES, 0};
	struct yn_arena *was;
	const struct yn_node *t;
	int rc = -1;
	size_t errors0 = dl->errors;

	memset(inv, 0, sizeof(*inv));
	/* the file name lands in comments of haproxy.cfg: a newline would end them */
	for (const char *p = file; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			diag_add(dl, DIAG_ERROR, NULL, 0, 0,
				 "the inventory file name contains a control character");
			return -1;
		}
	inv->file = strdup(file);
	c = calloc(1, sizeof(*c));
	if (!c || !inv->file) {
		diag_add(dl, DIAG_ERROR, file, 0, 0, "out of memory");
		free(c);
		inv_release(inv);
		return -1;
	}
	c->file = inv->file;
	c->dl = dl;
	strbuf_init(&c->secrets);
	/* the document and the template data are made in the inventory's own arena (nodes come in
	 * blocks, released at once): a quarter of the time of rendering 5,000 services went to malloc,
	 * free and a page fault every 4 KiB of nodes */
	if (!(inv->arena = yn_arena_new())) {
		diag_add(dl, DIAG_ERROR, file, 0, 0, "out of memory");
		free(c);
		inv_release(inv);
		return -1;
	}
	was = yn_arena_use(inv->arena);
	if (yn_load_file(file, &lim, &c->root, &yerr) < 0) {
		diag_add(dl, DIAG_ERROR, file, yerr.line, yerr.col, "%s", yerr.msg);
		goto out;
	}
	if (!c->root || c->root->kind != YN_MAP) {
		diag_add(dl, DIAG_ERROR, file, c->root ? c->root->line : 0,
			 c->root ? c->root->col : 0,
			 "the inventory must be a map with 'entrypoints' and 'services'%s",
			 c->root ? "" : " (the file is empty)");
		goto out;
	}
	if (apply_env(c, opts ? opts->env : NULL) < 0)
		goto out;
	c->target = INV_DEFAULT_TARGET;
	if (opts && opts->target) {
		if (inv_parse_target(opts->target, &c->target) < 0) {
			diag_add(dl, DIAG_ERROR, file, 0, 0,
				 "unsupported target '%s' (supported: %s)", opts->target,
				 inv_targets_text());
			goto out;
		}
	} else if ((t = yn_get(c->root, "target"))) {
		char b[80];

		if (!yn_is_text(t) || inv_parse_target(t->str, &c->target) < 0)
			err_at(c, t,
			       "unsupported target '%s' (supported: %s; write it as a string, "
			       "\"2.6\")",
			       show(t, b, sizeof(b)), inv_targets_text());
	}
	c->view = yn_new_map(0, 0);
	if (!c->view) {
		c->oom = 1;
		goto out;
	}
	vset(c, c->view, "hagen_version", HAGEN_VERSION, NULL);
	vset(c, c->view, "source", file, NULL);
	if (opts && opts->env)
		vset(c, c->view, "environment", opts->env, NULL);
	compile(c);
	if (c->oom)
		diag_add(dl, DIAG_ERROR, file, 0, 0, "out of memory");
	if (dl->errors == errors0) {
		size_t n = 0;
		const char *p = c->secrets.buf;

		for (size_t o = 0; o < c->secrets.len; o += strlen(c->secrets.buf + o) + 1)
			n++;
		inv->secret_envs = calloc(n ? n : 1, sizeof(char *));
		for (size_t i = 0; inv->secret_envs && i < n; i++, p += strlen(p) + 1)
			if ((inv->secret_envs[inv->nsecret_envs] = strdup(p)))
				inv->nsecret_envs++;
		if (!inv->secret_envs || inv->nsecret_envs < n) {
			diag_add(dl, DIAG_ERROR, file, 0, 0, "out of memory");
			goto out;
		}
		qsort(inv->secret_envs, inv->nsecret_envs, sizeof(char *), str_cmp);
		inv->target = c->target;
		inv->root = c->root;
		inv->view = c->view;
		inv->backends = c->backends;
		inv->nbackends = c->nbackends;
		c->root = c->view = NULL;
		c->backends = NULL;
		c->nbackends = 0;
		rc = 0;
	}
out:
	yn_arena_use(was);
	yn_free(c->root);
	yn_free(c->view);
	model_release(c->backends, c->nbackends);
	strbuf_release(&c->secrets);
	free(c);
	if (rc < 0)
		inv_release(inv);
	return rc;
}

void inv_release(struct inv *inv)
{
	free(inv->file);
	/* every node of both trees came from the arena: no walk to free them one by one */
	if (!inv->arena) {
		yn_free(inv->root);
		yn_free(inv->view);
	}
	yn_arena_free(inv->arena);
	for (size_t i = 0; i < inv->nsecret_envs; i++)
		free(inv->secret_envs[i]);
	free(inv->secret_envs);
	model_release(inv->backends, inv->nbackends);
	memset(inv, 0, sizeof(*inv));
}
