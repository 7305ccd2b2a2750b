/* libFuzzer harness: hagen's inventory loader + validator + renderer, end to end. Whatever
 * inv_load() accepts must render, and the rendered configuration must keep every inventory
 * name and value inside its directive: no control byte, no injected section, directives with a
 * fixed number of words keep that number (HAProxy's own tokenizer rules: blanks split words,
 * quotes and backslashes group, an unquoted '#' starts a comment). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_WORDS 64

static char fz_path[64];


/* Extra lines are raw configuration the user wrote (one directive each): collected from the
 * template data so their word counts are not checked, only that they stay one directive. */
struct fz_set {
	const char **s;
	size_t n, alloc;
};

static void set_add(struct fz_set *set, const char *s)
{
	if (set->n == set->alloc) {
		size_t na = set->alloc ? set->alloc * 2 : 16;
		const char **p = realloc(set->s, na * sizeof(*p));

		if (!p)
			abort();
		set->s = p;
		set->alloc = na;
	}
	set->s[set->n++] = s;
}

static int set_has(const struct fz_set *set, const char *p, size_t len)
{
	for (size_t i = 0; i < set->n; i++)
		if (strlen(set->s[i]) == len && !memcmp(set->s[i], p, len))
			return 1;
	return 0;
}

static void collect_extra(const struct yn_node *n, struct fz_set *set)
{
	if (!n)
		return;
	if (n->kind == YN_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			collect_extra(n->items[i], set);
	} else if (n->kind == YN_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			const struct yn_node *v = n->pairs[i].value;

			if (!strcmp(n->pairs[i].key->str, "extra") && v && v->kind == YN_SEQ) {
				for (size_t j = 0; j < v->n; j++)
					if (v->items[j]->kind == YN_SCALAR)
						set_add(set, v->items[j]->str);
			} else {
				collect_extra(v, set);
			}
		}
	}
}

static size_t count_of(const struct yn_node *view, const char *key)
{
	const struct yn_node *n = yn_get(view, key);

	if (!n)
		return 0;
	return n->kind == YN_SEQ || n->kind == YN_MAP ? n->n : 1;
}

/* One line split the way HAProxy's parser does. */
struct fz_line {
	size_t nw;
	char w[FZ_MAX_WORDS][256]; /* words, truncated; enough to compare keywords */
	int comment_mid;	   /* an unquoted '#' after the first word */
	int unbalanced;		   /* an open quote or a trailing backslash */
};

static void split(const char *p, size_t len, struct fz_line *l)
{
	size_t i = 0, wl = 0;
	int inword = 0;
	char q = 0;

	memset(l, 0, sizeof(*l));
	while (i < len) {
		char ch = p[i];

		if (!q && (ch == ' ' || ch == '\t')) {
			if (inword && l->nw < FZ_MAX_WORDS)
				l->nw++;
			inword = 0, wl = 0, i++;
			continue;
		}
		if (!q && ch == '#') {
			if (l->nw > 0 || inword)
				l->comment_mid = 1;
			break;
		}
		if (!inword && l->nw >= FZ_MAX_WORDS)
			break;
		inword = 1;
		if (ch == '\\' && q != '\'') {
			if (i + 1 >= len) {
				l->unbalanced = 1;
				break;
			}
			ch = p[++i];
		} else if (!q && (ch == '"' || ch == '\'')) {
			q = ch, i++;
			continue;
		} else if (q && ch == q) {
			q = 0, i++;
			continue;
		}
		if (wl + 1 < sizeof(l->w[0]) && l->nw < FZ_MAX_WORDS)
			l->w[l->nw][wl++] = ch;
		i++;
	}
	if (q)
		l->unbalanced = 1;
	if (inword && l->nw < FZ_MAX_WORDS)
		l->nw++;
}

static const char *const fz_sections[] = {
	"global",    "defaults", "frontend",   "backend",   "listen", "resolvers", "userlist",
	"peers",     "mailers",	 "program",    "http-errors", "ring", "cache",	   "crt-store",
	"log-forward", "traces", "fcgi-app",   "namespace_list", NULL};

static int is_section_word(const char *w)
{
	for (size_t i = 0; fz_sections[i]; i++)
		if (!strcmp(w, fz_sections[i]))
			return 1;
	return 0;
}

/* Directives the templates write with a fixed number of words (min, max), keyword included. */
static const struct {
	const char *kw, *kw2;
	size_t min, max;
} fz_arity[] = {
	{"timeout", NULL, 3, 3},
	{"mode", NULL, 2, 2},
	{"maxconn", NULL, 2, 2},
	{"nbthread", NULL, 2, 2},
	{"retries", NULL, 2, 2},
	{"cookie", NULL, 5, 5},
	{"default_backend", NULL, 2, 2},
	{"nameserver", NULL, 3, 3},
	{"user", NULL, 4, 4},
	{"monitor-uri", NULL, 2, 2},
	{"resolve_retries", NULL, 2, 2},
	{"accepted_payload_size", NULL, 2, 2},
	{"log-format", NULL, 2, 2},
	{"error-log-format", NULL, 2, 2},
	{"hold", NULL, 3, 3},
	{"stick", NULL, 3, 3},
	{"stick-table", NULL, 7, 9},
	{"ssl-default-bind-ciphers", NULL, 2, 2},
	{"ssl-default-server-ciphers", NULL, 2, 2},
	{"ssl-default-bind-ciphersuites", NULL, 2, 2},
	{"ssl-default-server-ciphersuites", NULL, 2, 2},
	{"ssl-default-bind-options", NULL, 3, 3},
	{"ssl-default-server-options", NULL, 3, 3},
	{"http-check", "send", 11, 11},
	{"http-check", "expect", 4, 4},
	{"stats", "uri", 3, 3},
	{"stats", "refresh", 3, 3},
	{"stats", "timeout", 3, 3},
	{"stats", "enable", 2, 2},
	{"stats", "socket", 9, 9},
	{"stats", "admin", 6, 6},
	{"http-request", "set-header", 4, 4},
	{"http-request", "add-header", 4, 4},
	{"http-request", "del-header", 3, 3},
	{"http-response", "set-header", 4, 4},
	{"http-response", "add-header", 4, 4},
	{"http-response", "del-header", 3, 3},
	{"http-after-response", "set-header", 4, 4},
	{"http-after-response", "add-header", 4, 4},
	{"http-after-response", "del-header", 3, 3},
	{"server", NULL, 3, FZ_MAX_WORDS},
	{"bind", NULL, 2, FZ_MAX_WORDS},
	{"acl", NULL, 3, FZ_MAX_WORDS},
	{"use_backend", NULL, 4, FZ_MAX_WORDS},
};

/* Lines whose tail is a raw fragment the user wrote (server and bind extra): a '#' there is
 * the user's own comment. */
static int raw_tail(const char *kw)
{
	return !strcmp(kw, "server") || !strcmp(kw, "bind") || !strcmp(kw, "server-template") ||
	       !strcmp(kw, "default-server");
}

static int name_ok(const char *w)
{
	if (!*w)
		return 0;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') || (*w >= '0' && *w <= '9') ||
		      *w == '_' || *w == '.' || *w == ':' || *w == '-'))
			return 0;
	return 1;
}

static void bad(const char *why, const char *p, size_t len)
{
	fprintf(stderr, "rendered line breaks the single-token invariant (%s): '%.*s'\n", why,
		(int)(len > 300 ? 300 : len), p);
	abort();
}

static void check_output(const struct inv *inv, const struct tmpl_out *out)
{
	static struct fz_line l;
	struct fz_set extra = {NULL, 0, 0};
	const char *p = out->text.buf, *end = p + out->text.len;
	size_t sections = 0, expect;

	collect_extra(inv->view, &extra);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t ind = 0;

		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)p[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				bad("control byte", p, len);
		}
		while (ind < len && (p[ind] == ' ' || p[ind] == '\t'))
			ind++;
		split(p, len, &l);
		if (l.nw == 0)
			goto next;
		if (is_section_word(l.w[0])) {
			/* only the templates open sections, at column 1, with checked names */
			if (ind)
				bad("section keyword inside a section", p, len);
			sections++;
			for (size_t i = 1; i < l.nw; i++)
				if (!name_ok(l.w[i]))
					bad("section name is not one name", p, len);
			if (l.comment_mid || l.unbalanced)
				bad("section line with a comment or open quote", p, len);
			goto next;
		}
		if (!ind)
			bad("directive outside any section", p, len);
		if (set_has(&extra, p + ind, len - ind))
			goto next;
		if (l.unbalanced)
			bad("open quote or trailing backslash", p, len);
		if (l.comment_mid && !raw_tail(l.w[0]))
			bad("unquoted '#' cuts the directive", p, len);
		for (size_t i = 0; i < sizeof(fz_arity) / sizeof(fz_arity[0]); i++) {
			if (strcmp(l.w[0], fz_arity[i].kw))
				continue;
			if (fz_arity[i].kw2 && (l.nw < 2 || strcmp(l.w[1], fz_arity[i].kw2)))
				continue;
			if (l.nw < fz_arity[i].min || l.nw > fz_arity[i].max)
				bad("a value became several words", p, len);
			break;
		}
	next:
		p += len + 1;
	}
	/* every section the output opens is one the data asked for */
	expect = 1 + count_of(inv->view, "defaults") + count_of(inv->view, "frontends") +
		 count_of(inv->view, "backends") + count_of(inv->view, "resolvers") +
		 count_of(inv->view, "userlists") + (tmpl_truthy(yn_get(inv->view, "stats")) ? 1 : 0);
	if (sections != expect) {
		fprintf(stderr, "rendered %zu sections, the data has %zu\n", sections, expect);
		abort();
	}
	free(extra.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv_opts io = {NULL, NULL};
	struct diag_list dl = DIAG_LIST_INIT;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	struct inv inv;
	FILE *fp;
	int rc;

	if (!fz_path[0]) {
		const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(fz_path, sizeof(fz_path), "%s/fuzz_hagen_render.%ld.yaml", dir, (long)getpid());
	}
	/* inv_load() reads a file: the input goes to a private one, rewritten each run */
	fp = fopen(fz_path, "wb");
	if (!fp)
		abort();
	if (size && fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);

	memset(&inv, 0, sizeof(inv));
	rc = inv_load(fz_path, &io, &inv, &dl);
	unlink(fz_path); /* nothing left behind, even when the checks below abort */
	if (rc == 0) {
		if (render_config(&inv, NULL, &out, &dl) == 0)
			check_output(&inv, &out);
		tmpl_out_release(&out);
		inv_release(&inv);
	} else {
		/* a refused inventory says why, with a position in the file */
		assert(dl.errors > 0);
	}
	diag_release(&dl);
	return 0;
}
