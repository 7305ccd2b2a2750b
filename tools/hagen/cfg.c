/* Reading haproxy.cfg into sections and lines, the proxy keywords table and proxy references;
 * see cfg.h. The line syntax follows HAProxy's configuration manual, section 2.2 (quoting and
 * escaping), 2.3 (environment variables) and 2.4 (conditional blocks). */
#include "cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static const struct {
	const char *word;
	enum cfg_kind kind;
} sections[] = {
	{"global", CFG_GLOBAL},	   {"defaults", CFG_DEFAULTS},	{"frontend", CFG_FRONTEND},
	{"backend", CFG_BACKEND},  {"listen", CFG_LISTEN},	{"userlist", CFG_USERLIST},
	{"resolvers", CFG_RESOLVERS}, {"peers", CFG_OTHER},	{"mailers", CFG_OTHER},
	{"program", CFG_OTHER},	   {"cache", CFG_OTHER},	{"ring", CFG_OTHER},
	{"http-errors", CFG_OTHER}, {"fcgi-app", CFG_OTHER},	{"crt-store", CFG_OTHER},
	{"log-forward", CFG_OTHER}, {"traces", CFG_OTHER},	{"acme", CFG_OTHER},
	{"log-profile", CFG_OTHER}, {"quic-initial", CFG_OTHER}, {NULL, CFG_OTHER},
};

int cfg_section_kind(const char *word)
{
	for (size_t i = 0; sections[i].word; i++)
		if (!strcmp(word, sections[i].word))
			return (int)sections[i].kind;
	return -1;
}

const char *cfg_kind_name(enum cfg_kind k)
{
	static const char *const names[] = {"(top)",	"global",   "defaults",
					    "frontend", "backend",  "listen",
					    "userlist", "resolvers", "section"};

	return names[k];
}

/* ---- the line syntax ---- */

struct split {
	struct strbuf word;
	char **w;
	size_t nw, *woff, *wend;
	unsigned char *wflags;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int env_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
	       (!first && c >= '0' && c <= '9');
}

/* Splits one line (raw, len bytes, no newline) into words. Returns 0, or -1 with *why set. */
static int split_words(const char *raw, size_t len, struct split *sp, size_t *comment,
		       const char **why)
{
	size_t i = 0;

	*comment = len;
	while (i < len) {
		size_t start;
		char quote = 0;
		unsigned fl = CFG_W_PLAIN;

		while (i < len && (raw[i] == ' ' || raw[i] == '\t'))
			i++;
		if (i >= len)
			break;
		if (raw[i] == '#') {
			*comment = i;
			break;
		}
		if (sp->nw >= CFG_MAX_WORDS) {
			*why = "too many words on one line";
			return -1;
		}
		start = i;
		strbuf_reset(&sp->word);
		while (i < len) {
			char c = raw[i];

			if (!quote && (c == ' ' || c == '\t' || c == '#'))
				break;
			if (quote == '\'') {
				if (c == '\'')
					quote = 0;
				else
					strbuf_addch(&sp->word, c);
				i++;
				continue;
			}
			if (c == '\'' && !quote) {
				quote = '\'';
				fl &= ~CFG_W_PLAIN;
				i++;
				continue;
			}
			if (c == '"') {
				quote = quote ? 0 : '"';
				fl &= ~CFG_W_PLAIN;
				i++;
				continue;
			}
			if (c == '\\' && i + 1 < len) {
				char e = raw[i + 1];
				int h1, h2;

				fl &= ~CFG_W_PLAIN;
				if (e == ' ' || e == '\t' || e == '#' || e == '\\' || e == '\'' ||
				    e == '"' || e == '$') {
					strbuf_addch(&sp->word, e);
					i += 2;
				} else if (e == 'n' || e == 'r' || e == 't') {
					strbuf_addch(&sp->word, e == 'n' ? '\n' : e == 'r' ? '\r' : '\t');
					i += 2;
				} else if (e == 'x' && i + 3 < len && (h1 = hexval(raw[i + 2])) >= 0 &&
					   (h2 = hexval(raw[i + 3])) >= 0) {
					strbuf_addch(&sp->word, (char)(h1 * 16 + h2));
					i += 4;
				} else {
					/* an unknown escape keeps its backslash (old regexes: "\.") */
					strbuf_addch(&sp->word, '\\');
					i++;
				}
				continue;
			}
			if (c == '$' && quote == '"' && i + 1 < len &&
			    (raw[i + 1] == '{' || env_char(raw[i + 1], 1))) {
				size_t j = i + 1;

				fl |= CFG_W_ENV;
				if (raw[j] == '{') {
					while (j < len && raw[j] != '}' && raw[j] != '"')
						j++;
					if (j >= len || raw[j] != '}') {
						*why = "unterminated '${' in a double-quoted word";
						return -1;
					}
					strbuf_add(&sp->word, raw + i, j + 1 - i);
					i = j + 1;
				} else {
					while (j < len && env_char(raw[j], 0))
						j++;
					strbuf_addf(&sp->word, "${%.*s}", (int)(j - i - 1), raw + i + 1);
					i = j;
				}
				continue;
			}
			strbuf_addch(&sp->word, c);
			i++;
		}
		if (quote) {
			*why = quote == '"' ? "unterminated double quote" : "unterminated single quote";
			return -1;
		}
		if (i - start == sp->word.len && !memcmp(raw + start, sp->word.buf, sp->word.len))
			fl |= CFG_W_PLAIN;
		else
			fl &= ~CFG_W_PLAIN;
		if (memchr(sp->word.buf, '\0', sp->word.len)) {
			*why = "a word contains a NUL byte (\\x00)";
			return -1;
		}
		sp->w[sp->nw] = strdup(sp->word.buf);
		if (!sp->w[sp->nw]) {
			*why = "out of memory";
			return -1;
		}
		sp->woff[sp->nw] = start;
		sp->wend[sp->nw] = i;
		sp->wflags[sp->nw] = (unsigned char)fl;
		sp->nw++;
	}
	return 0;
}

static void line_release(struct cfg_line *l)
{
	for (size_t i = 0; l->w && i < l->nw; i++)
		free(l->w[i]);
	free(l->w);
	free(l->woff);
	free(l->wend);
	free(l->wflags);
	free(l->raw);
	memset(l, 0, sizeof(*l));
}

/* Fills l from one line of text. Returns 1 (words found), 0 (blank or comment only), -1 (error
 * reported). */
static int read_line(const char *file, unsigned lineno, const char *p, size_t len,
		     struct cfg_line *l, struct diag_list *dl)
{
	struct split sp = {STRBUF_INIT, NULL, 0, NULL, NULL, NULL};
	const char *why = NULL;
	size_t comment, end;
	int rc = -1;

	memset(l, 0, sizeof(*l));
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (len && p[len - 1] == '\r')
		len--; /* CRLF files */
	if (!len || *p == '#')
		return 0;
	if (len > CFG_MAX_LINE) {
		diag_add(dl, DIAG_ERROR, file, lineno, 0, "line longer than %d bytes", CFG_MAX_LINE);
		return -1;
	}
	if (memchr(p, '\0', len)) {
		diag_add(dl, DIAG_ERROR, file, lineno, 0, "the line contains a NUL byte");
		return -1;
	}
	sp.w = calloc(CFG_MAX_WORDS + 1, sizeof(char *));
	sp.woff = calloc(CFG_MAX_WORDS, sizeof(size_t));
	sp.wend = calloc(CFG_MAX_WORDS, sizeof(size_t));
	sp.wflags = calloc(CFG_MAX_WORDS, 1);
	if (!sp.w || !sp.woff || !sp.wend || !sp.wflags) {
		why = "out of memory";
		goto out;
	}
	if (split_words(p, len, &sp, &comment, &why) < 0)
		goto out;
	if (!sp.nw) {
		rc = 0;
		goto out;
	}
	end = len;
	while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t') &&
	       !(end >= 2 && p[end - 2] == '\\' && end - 1 > comment))
		end--;
	if (end < sp.wend[sp.nw - 1])
		end = sp.wend[sp.nw - 1];
	l->raw = strndup(p, end);
	if (!l->raw) {
		why = "out of memory";
		goto out;
	}
	l->lineno = lineno;
	l->w = sp.w;
	l->nw = sp.nw;
	l->woff = sp.woff;
	l->wend = sp.wend;
	l->wflags = sp.wflags;
	l->comment = comment < end ? comment : end;
	sp.w = NULL;
	sp.woff = sp.wend = NULL;
	sp.wflags = NULL;
	rc = 1;
out:
	if (why)
		diag_add(dl, DIAG_ERROR, file, lineno, 0, "%s", why);
	for (size_t i = 0; sp.w && i < sp.nw; i++)
		free(sp.w[i]);
	free(sp.w);
	free(sp.woff);
	free(sp.wend);
	free(sp.wflags);
	strbuf_release(&sp.word);
	return rc;
}

static int directive_kind(const char *w)
{
	static const char *const d[] = {".if",	   ".elif",    ".else",	 ".endif",
					".notice", ".warning", ".alert", ".diag", NULL};

	for (size_t i = 0; d[i]; i++)
		if (!strcmp(w, d[i]))
			return (int)i + 1;
	return 0;
}

static struct cfg_section *new_section(struct cfg *cfg, enum cfg_kind kind)
{
	struct cfg_section *s;

	if (cfg->n == cfg->alloc) {
		size_t na = cfg->alloc ? cfg->alloc * 2 : 16;
		struct cfg_section *p = realloc(cfg->s, na * sizeof(*p));

		if (!p)
			return NULL;
		cfg->s = p;
		cfg->alloc = na;
	}
	s = &cfg->s[cfg->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->name = "";
	return s;
}

static int push_line(struct cfg_section *s, struct cfg_line *l)
{
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 16;
		struct cfg_line *p = realloc(s->lines, na * sizeof(*p));

		if (!p)
			return -1;
		s->lines = p;
		s->alloc = na;
	}
	s->lines[s->n++] = *l;
	memset(l, 0, sizeof(*l));
	return 0;
}

int cfg_parse(const char *file, const char *buf, size_t len, struct cfg *cfg,
	      struct diag_list *dl)
{
	size_t errors0 = dl->errors, off = 0;
	unsigned lineno = 0, depth = 0, if_line[64];
	struct cfg_section *cur;

	memset(cfg, 0, sizeof(*cfg));
	cfg->file = strdup(file);
	if (!cfg->file || !(cur = new_section(cfg, CFG_TOP))) {
		diag_add(dl, DIAG_ERROR, file, 0, 0, "out of memory");
		cfg_release(cfg);
		return -1;
	}
	if (len > CFG_MAX_BYTES) {
		diag_add(dl, DIAG_ERROR, file, 0, 0, "the file is larger than %u MiB",
			 CFG_MAX_BYTES >> 20);
		cfg_release(cfg);
		return -1;
	}
	while (off < len) {
		const char *p = buf + off, *nl = memchr(p, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - p) : len - off;
		struct cfg_line l;
		int k, d;

		off += ll + (nl != NULL);
		lineno++;
		if (read_line(file, lineno, p, ll, &l, dl) <= 0)
			continue;
		if ((d = directive_kind(l.w[0]))) {
			l.directive = d;
			if (d == 2 || d == 3 || d == 4) { /* .elif .else .endif */
				if (!depth) {
					diag_add(dl, DIAG_ERROR, file, lineno, 0,
						 "'%s' without a matching '.if'", l.w[0]);
					line_release(&l);
					continue;
				}
				if (d == 4)
					depth--;
			}
			l.cond = (int)depth + (d == 2 || d == 3 ? 0 : 0);
			if (d == 1) {
				if (depth < 64)
					if_line[depth] = lineno;
				depth++;
			}
		} else {
			l.cond = (int)depth;
			if ((k = cfg_section_kind(l.w[0])) >= 0) {
				struct cfg_section *s = new_section(cfg, (enum cfg_kind)k);

				if (!s) {
					diag_add(dl, DIAG_ERROR, file, lineno, 0, "out of memory");
					line_release(&l);
					break;
				}
				s->head = l;
				if (s->head.nw > 1 && strcmp(s->head.w[1], "from"))
					s->name = s->head.w[1];
				for (size_t i = 1; i + 1 < s->head.nw; i++)
					if (!strcmp(s->head.w[i], "from"))
						s->from = s->head.w[i + 1];
				cur = s;
				continue;
			}
		}
		if (push_line(cur, &l) < 0) {
			diag_add(dl, DIAG_ERROR, file, lineno, 0, "out of memory");
			line_release(&l);
			break;
		}
	}
	if (depth)
		diag_add(dl, DIAG_ERROR, file, depth <= 64 ? if_line[depth - 1] : lineno, 0,
			 "'.if' block never closed with '.endif'");
	if (dl->errors != errors0) {
		cfg_release(cfg);
		return -1;
	}
	return 0;
}

int cfg_load(const char *path, struct cfg *cfg, struct diag_list *dl)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t r;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!fp) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((r = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (sb.len + r > CFG_MAX_BYTES) {
			diag_add(dl, DIAG_ERROR, path, 0, 0, "the file is larger than %u MiB",
				 CFG_MAX_BYTES >> 20);
			goto fail;
		}
		if (strbuf_add(&sb, buf, r) < 0) {
			diag_add(dl, DIAG_ERROR, path, 0, 0, "out of memory");
			goto fail;
		}
	}
	if (ferror(fp)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "read error: %s", strerror(errno));
		goto fail;
	}
	if (fp != stdin)
		fclose(fp);
	rc = cfg_parse(path, sb.buf, sb.len, cfg, dl);
	strbuf_release(&sb);
	return rc;
fail:
	if (fp != stdin)
		fclose(fp);
	strbuf_release(&sb);
	return -1;
}

void cfg_release(struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		struct cfg_section *s = &cfg->s[i];

		line_release(&s->head);
		for (size_t j = 0; j < s->n; j++)
			line_release(&s->lines[j]);
		free(s->lines);
	}
	free(cfg->s);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- the proxy keywords table ---- */

#define D CFG_IN_D
#define N (CFG_IN_D | CFG_IN_DNAMED)
#define F CFG_IN_F
#define L CFG_IN_L
#define B CFG_IN_B
#define H CFG_KW_HTTP
#define BS CFG_KW_BSIDE
#define BOTH CFG_KW_BOTHSIDES

/* From HAProxy's proxy keywords matrix (configuration manual 4.1), with how repeated lines
 * combine. Options are listed where their sections differ from "everywhere". Append-only. */
static const struct cfg_kw kws[] = {
	{"acl", F | L | B | N, CFG_ACL, NULL, 0},
	{"backlog", D | F | L, CFG_SET, NULL, 0},
	{"balance", D | L | B, CFG_SET, NULL, BS},
	{"bind", F | L, CFG_BIND, NULL, 0},
	{"bind-process", D | F | L | B, CFG_SET, NULL, 0},
	{"capture cookie", F | L, CFG_LIST, "capture", H},
	{"capture request", F | L, CFG_LIST, "capture", H},
	{"capture response", F | L, CFG_LIST, "capture", H},
	{"clitcpka-cnt", D | F | L, CFG_SET, NULL, 0},
	{"clitcpka-idle", D | F | L, CFG_SET, NULL, 0},
	{"clitcpka-intvl", D | F | L, CFG_SET, NULL, 0},
	{"compression algo", D | F | L | B, CFG_SET, NULL, H},
	{"compression type", D | F | L | B, CFG_SET, NULL, H},
	{"compression offload", D | F | L | B, CFG_SET, NULL, H},
	{"compression algo-req", D | F | L | B, CFG_SET, NULL, H},
	{"compression algo-res", D | F | L | B, CFG_SET, NULL, H},
	{"compression type-req", D | F | L | B, CFG_SET, NULL, H},
	{"compression type-res", D | F | L | B, CFG_SET, NULL, H},
	{"compression direction", D | F | L | B, CFG_SET, NULL, H},
	{"cookie", D | L | B, CFG_SET, NULL, H | BS},
	{"declare capture", F | L, CFG_LIST, "capture", 0},
	{"default-server", D | L | B, CFG_DEFSRV, NULL, BS},
	{"default_backend", D | F | L, CFG_SET, NULL, 0},
	{"description", F | L | B, CFG_SET, NULL, BOTH},
	{"disabled", D | F | L | B, CFG_SET, NULL, BOTH},
	{"dispatch", L | B, CFG_SET, NULL, BS},
	{"email-alert from", D | F | L | B, CFG_SET, NULL, BS},
	{"email-alert level", D | F | L | B, CFG_SET, NULL, BS},
	{"email-alert mailers", D | F | L | B, CFG_SET, NULL, BS},
	{"email-alert myhostname", D | F | L | B, CFG_SET, NULL, BS},
	{"email-alert to", D | F | L | B, CFG_SET, NULL, BS},
	{"enabled", D | F | L | B, CFG_SET, NULL, BOTH},
	{"errorfile", D | F | L | B, CFG_KEYED, NULL, H},
	{"errorfiles", D | F | L | B, CFG_LIST, "errorfiles", H},
	{"errorloc", D | F | L | B, CFG_KEYED, NULL, H},
	{"errorloc302", D | F | L | B, CFG_KEYED, NULL, H},
	{"errorloc303", D | F | L | B, CFG_KEYED, NULL, H},
	{"error-log-format", D | F | L, CFG_SET, NULL, 0},
	{"force-persist", L | B, CFG_LIST, "force-persist", BS},
	{"filter", F | L | B, CFG_LIST, "filter", 0},
	{"fullconn", D | L | B, CFG_SET, NULL, BS},
	{"hash-type", D | L | B, CFG_SET, NULL, BS},
	{"http-after-response", N | F | L | B, CFG_LIST, "http-after-response", H},
	{"http-check", D | L | B, CFG_LIST, "http-check", BS},
	{"http-error", D | F | L | B, CFG_LIST, "http-error", H},
	{"http-request", N | F | L | B, CFG_LIST, "http-request", H},
	{"http-response", N | F | L | B, CFG_LIST, "http-response", H},
	{"http-reuse", D | L | B, CFG_SET, NULL, H | BS},
	{"http-send-name-header", D | L | B, CFG_SET, NULL, H | BS},
	{"id", F | L | B, CFG_SET, NULL, 0},
	{"ignore-persist", L | B, CFG_LIST, "ignore-persist", BS},
	{"load-server-state-from-file", D | L | B, CFG_SET, NULL, BS},
	{"log", D | F | L | B, CFG_LOG, NULL, BOTH},
	{"log-format", D | F | L, CFG_SET, NULL, 0},
	{"log-format-sd", D | F | L, CFG_SET, NULL, 0},
	{"log-tag", D | F | L | B, CFG_SET, NULL, BOTH},
	{"max-keep-alive-queue", D | L | B, CFG_SET, NULL, BS},
	{"maxconn", D | F | L, CFG_SET, NULL, 0},
	{"mode", D | F | L | B, CFG_SET, NULL, BOTH},
	{"monitor fail", F | L, CFG_LIST, "monitor fail", H},
	{"monitor-uri", D | F | L, CFG_SET, NULL, H},
	{"option abortonclose", D | L | B, CFG_OPTION, NULL, BS},
	{"option accept-invalid-http-request", D | F | L, CFG_OPTION, NULL, H},
	{"option accept-invalid-http-response", D | L | B, CFG_OPTION, NULL, H | BS},
	{"option accept-unsafe-violations-in-http-request", D | F | L, CFG_OPTION, NULL, H},
	{"option accept-unsafe-violations-in-http-response", D | L | B, CFG_OPTION, NULL, H | BS},
	{"option allbackups", D | L | B, CFG_OPTION, NULL, BS},
	{"option checkcache", D | L | B, CFG_OPTION, NULL, H | BS},
	{"option clitcpka", D | F | L, CFG_OPTION, NULL, 0},
	{"option contstats", D | F | L, CFG_OPTION, NULL, 0},
	{"option disable-h2-upgrade", D | F | L, CFG_OPTION, NULL, H},
	{"option dontlog-normal", D | F | L, CFG_OPTION, NULL, 0},
	{"option dontlognull", D | F | L, CFG_OPTION, NULL, 0},
	{"option forwardfor", D | F | L | B, CFG_OPTION, NULL, H},
	{"option h1-case-adjust-bogus-client", D | F | L, CFG_OPTION, NULL, H},
	{"option h1-case-adjust-bogus-server", D | L | B, CFG_OPTION, NULL, H | BS},
	{"option http-buffer-request", D | F | L | B, CFG_OPTION, NULL, H},
	{"option http-ignore-probes", D | F | L, CFG_OPTION, NULL, H},
	{"option http-keep-alive", D | F | L | B, CFG_OPTION, NULL, H},
	{"option http-no-delay", D | F | L | B, CFG_OPTION, NULL, H},
	{"option http-pretend-keepalive", D | L | B, CFG_OPTION, NULL, H | BS},
	{"option http-restrict-req-hdr-names", D | F | L | B, CFG_OPTION, NULL, H},
	{"option http-server-close", D | F | L | B, CFG_OPTION, NULL, H},
	{"option http-use-proxy-header", D | F | L, CFG_OPTION, NULL, H},
	{"option httpchk", D | L | B, CFG_OPTION, NULL, BS},
	{"option httpclose", D | F | L | B, CFG_OPTION, NULL, H},
	{"option httplog", D | F | L, CFG_OPTION, NULL, 0},
	{"option httpslog", D | F | L, CFG_OPTION, NULL, 0},
	{"option independent-streams", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option ldap-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option external-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option log-health-checks", D | L | B, CFG_OPTION, NULL, BS},
	{"option log-separate-errors", D | F | L, CFG_OPTION, NULL, 0},
	{"option logasap", D | F | L, CFG_OPTION, NULL, 0},
	{"option mysql-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option nolinger", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option originalto", D | F | L | B, CFG_OPTION, NULL, H},
	{"option persist", D | L | B, CFG_OPTION, NULL, BS},
	{"option pgsql-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option prefer-last-server", D | L | B, CFG_OPTION, NULL, BS},
	{"option redispatch", D | L | B, CFG_OPTION, NULL, BS},
	{"option redis-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option smtpchk", D | L | B, CFG_OPTION, NULL, BS},
	{"option socket-stats", D | F | L, CFG_OPTION, NULL, 0},
	{"option splice-auto", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option splice-request", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option splice-response", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option spop-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option srvtcpka", D | L | B, CFG_OPTION, NULL, BS},
	{"option ssl-hello-chk", D | L | B, CFG_OPTION, NULL, BS},
	{"option tcp-check", D | L | B, CFG_OPTION, NULL, BS},
	{"option tcp-smart-accept", D | F | L, CFG_OPTION, NULL, 0},
	{"option tcp-smart-connect", D | L | B, CFG_OPTION, NULL, BS},
	{"option tcpka", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option tcplog", D | F | L | B, CFG_OPTION, NULL, 0},
	{"option transparent", D | L | B, CFG_OPTION, NULL, BS},
	{"option idle-close-on-response", D | F | L, CFG_OPTION, NULL, H},
	{"external-check command", D | L | B, CFG_SET, NULL, BS},
	{"external-check path", D | L | B, CFG_SET, NULL, BS},
	{"persist rdp-cookie", D | L | B, CFG_SET, NULL, BS},
	{"rate-limit sessions", D | F | L, CFG_SET, NULL, 0},
	{"redirect", F | L | B, CFG_LIST, "redirect", H},
	{"retries", D | L | B, CFG_SET, NULL, BS},
	{"retry-on", D | L | B, CFG_SET, NULL, BS},
	{"server", L | B, CFG_SERVER, NULL, BS},
	{"server-state-file-name", D | L | B, CFG_SET, NULL, BS},
	{"server-template", L | B, CFG_LIST, "server-template", BS},
	{"source", D | L | B, CFG_SET, NULL, BS},
	{"srvtcpka-cnt", D | L | B, CFG_SET, NULL, BS},
	{"srvtcpka-idle", D | L | B, CFG_SET, NULL, BS},
	{"srvtcpka-intvl", D | L | B, CFG_SET, NULL, BS},
	{"stats admin", F | L | B, CFG_LIST, "stats admin", H},
	{"stats auth", D | F | L | B, CFG_LIST, "stats auth", H},
	{"stats enable", D | F | L | B, CFG_SET, NULL, H},
	{"stats hide-version", D | F | L | B, CFG_SET, NULL, H},
	{"stats http-request", F | L | B, CFG_LIST, "stats http-request", H},
	{"stats realm", D | F | L | B, CFG_SET, NULL, H},
	{"stats refresh", D | F | L | B, CFG_SET, NULL, H},
	{"stats scope", D | F | L | B, CFG_LIST, "stats scope", H},
	{"stats show-desc", D | F | L | B, CFG_SET, NULL, H},
	{"stats show-legends", D | F | L | B, CFG_SET, NULL, H},
	{"stats show-modules", D | F | L | B, CFG_SET, NULL, H},
	{"stats show-node", D | F | L | B, CFG_SET, NULL, H},
	{"stats uri", D | F | L | B, CFG_SET, NULL, H},
	{"stick", L | B, CFG_LIST, "stick", BS},
	{"stick-table", F | L | B, CFG_SET, NULL, 0},
	{"tcp-check", D | L | B, CFG_LIST, "tcp-check", BS},
	{"tcp-request connection", N | F | L, CFG_LIST, "tcp-request connection", 0},
	{"tcp-request content", N | F | L | B, CFG_LIST, "tcp-request content", 0},
	{"tcp-request inspect-delay", N | F | L | B, CFG_SET, NULL, 0},
	{"tcp-request session", N | F | L, CFG_LIST, "tcp-request session", 0},
	{"tcp-response content", N | L | B, CFG_LIST, "tcp-response content", BS},
	{"tcp-response inspect-delay", N | L | B, CFG_SET, NULL, BS},
	{"timeout check", D | L | B, CFG_SET, NULL, BS},
	{"timeout client", D | F | L, CFG_SET, NULL, 0},
	{"timeout client-fin", D | F | L, CFG_SET, NULL, 0},
	{"timeout client-hs", D | F | L, CFG_SET, NULL, 0},
	{"timeout connect", D | L | B, CFG_SET, NULL, BS},
	{"timeout http-keep-alive", D | F | L | B, CFG_SET, NULL, H},
	{"timeout http-request", D | F | L | B, CFG_SET, NULL, H},
	{"timeout queue", D | L | B, CFG_SET, NULL, BS},
	{"timeout server", D | L | B, CFG_SET, NULL, BS},
	{"timeout server-fin", D | L | B, CFG_SET, NULL, BS},
	{"timeout tarpit", D | F | L | B, CFG_SET, NULL, 0},
	{"timeout tunnel", D | L | B, CFG_SET, NULL, BS},
	{"transparent", D | L | B, CFG_SET, NULL, BS},
	{"unique-id-format", D | F | L, CFG_SET, NULL, 0},
	{"unique-id-header", D | F | L, CFG_SET, NULL, 0},
	{"use_backend", F | L, CFG_LIST, "use_backend", 0},
	{"use-fcgi-app", L | B, CFG_SET, NULL, BS},
	{"use-server", L | B, CFG_LIST, "use-server", BS},
	{"guid", F | L | B, CFG_SET, NULL, 0},
	{"hash-balance-factor", D | L | B, CFG_SET, NULL, BS},
	{"hash-preserve-affinity", D | L | B, CFG_SET, NULL, BS},
	{"log-steps", D | F | L, CFG_SET, NULL, 0},
	{"quic-initial", F | L, CFG_LIST, "quic-initial", 0},
	{NULL, 0, CFG_SET, NULL, 0},
};

#undef D
#undef N
#undef F
#undef L
#undef B
#undef H
#undef BS
#undef BOTH

/* Keywords of the form "FIRST SECOND" whose second word is part of the keyword. */
static int two_word(const char *w)
{
	static const char *const tw[] = {"timeout",	 "option",	  "stats",
					 "tcp-request",	 "tcp-response",  "capture",
					 "email-alert",	 "rate-limit",	  "persist",
					 "external-check", "monitor",	  "declare",	"compression",
					 NULL};

	for (size_t i = 0; tw[i]; i++)
		if (!strcmp(w, tw[i]))
			return 1;
	return 0;
}

const struct cfg_kw *cfg_kw_find(const struct cfg_line *l, int *neg, size_t *nwords)
{
	static struct cfg_kw generic_opt = {NULL, CFG_IN_D | CFG_IN_F | CFG_IN_L | CFG_IN_B,
					    CFG_OPTION, NULL, 0};
	static struct cfg_kw generic_timeout = {NULL, CFG_IN_D | CFG_IN_F | CFG_IN_L | CFG_IN_B,
						CFG_SET, NULL, 0};
	static struct cfg_kw generic = {NULL, CFG_IN_F | CFG_IN_L | CFG_IN_B, CFG_LIST, NULL, 0};
	size_t first = 0;
	char key[160];

	*neg = 0;
	*nwords = 1;
	if (l->nw > 1 && (!strcmp(l->w[0], "no") || !strcmp(l->w[0], "default"))) {
		*neg = !strcmp(l->w[0], "no");
		first = 1;
	}
	if (two_word(l->w[first]) && first + 1 < l->nw) {
		snprintf(key, sizeof(key), "%s %s", l->w[first], l->w[first + 1]);
		for (size_t i = 0; kws[i].name; i++)
			if (!strcmp(kws[i].name, key)) {
				*nwords = 2;
				return &kws[i];
			}
		*nwords = 2;
		if (!strcmp(l->w[first], "option"))
			return &generic_opt;
		if (!strcmp(l->w[first], "timeout"))
			return &generic_timeout;
		*nwords = 1;
	}
	for (size_t i = 0; kws[i].name; i++)
		if (!strcmp(kws[i].name, l->w[first]))
			return &kws[i];
	return &generic;
}

int cfg_key_is_http(const char *key)
{
	for (size_t i = 0; kws[i].name; i++)
		if ((!strcmp(kws[i].name, key) || (kws[i].family && !strcmp(kws[i].family, key))) &&
		    (kws[i].flags & CFG_KW_HTTP))
			return 1;
	return 0;
}

/* ---- proxy references ---- */

/* Sample fetches and converters whose first argument names a proxy ('/' ends it: BE/SRV). */
static const char *const proxy_fetches[] = {
	"avg_queue", "be_conn",	    "be_conn_free",  "be_sess_rate", "connslots",
	"fe_conn",   "fe_req_rate", "fe_sess_rate",  "nbsrv",	     "queue",
	"srv_conn",  "srv_conn_free", "srv_is_up",   "srv_queue",    "srv_sess_rate",
	"srv_weight", "srv_iweight", "srv_uweight",  "table_avl",    "table_cnt",
	"in_table",  NULL,
};

static int fetch_arg(const char *name, size_t len, enum cfg_ref *kind)
{
	*kind = CFG_REF_TABLE;
	for (size_t i = 0; proxy_fetches[i]; i++)
		if (strlen(proxy_fetches[i]) == len && !strncmp(proxy_fetches[i], name, len)) {
			*kind = !strncmp(name, "fe_", 3)      ? CFG_REF_FRONTEND
				: !strncmp(name, "table_", 6) ? CFG_REF_TABLE
				: !strcmp(name, "in_table")   ? CFG_REF_TABLE
							      : CFG_REF_BACKEND;
			return 1;
		}
	/* sc0_*(T), sc1_*, sc2_*, src_*(T), table_*(T): the table is the first argument;
	 * sc_*(N,T): the second */
	if ((len > 4 && (!strncmp(name, "sc0_", 4) || !strncmp(name, "sc1_", 4) ||
			 !strncmp(name, "sc2_", 4) || !strncmp(name, "src_", 4))) ||
	    (len > 6 && !strncmp(name, "table_", 6)))
		return 1;
	if (len > 3 && !strncmp(name, "sc_", 3))
		return 2;
	return 0;
}

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

static void word_fetch_refs(const struct cfg_line *l, size_t wi, cfg_ref_fn fn, void *ctx)
{
	const char *w = l->w[wi];

	for (size_t i = 0; w[i]; i++) {
		size_t s = i, a, e;
		int which;
		enum cfg_ref kind;

		if (i && ident_char(w[i - 1]))
			continue;
		while (ident_char(w[i]))
			i++;
		if (w[i] != '(' || i == s) {
			if (i > s)
				i--;
			continue;
		}
		which = fetch_arg(w + s, i - s, &kind);
		a = i + 1;
		if (which == 2) { /* skip "N," */
			while (w[a] && w[a] != ',' && w[a] != ')')
				a++;
			if (w[a] != ',') {
				continue;
			}
			a++;
		}
		if (!which)
			continue;
		e = a;
		while (w[e] && w[e] != ')' && w[e] != ',' && w[e] != '/')
			e++;
		if (e > a)
			fn(ctx, l, wi, a, e, kind);
	}
}

void cfg_proxy_refs(const struct cfg_line *l, cfg_ref_fn fn, void *ctx)
{
	int neg;
	size_t nwords, first;
	const struct cfg_kw *kw;

	if (!l->nw || l->directive)
		return;
	kw = cfg_kw_find(l, &neg, &nwords);
	first = (size_t)(!strcmp(l->w[0], "no") || !strcmp(l->w[0], "default")) + nwords;
	if (kw->name && (!strcmp(kw->name, "use_backend") || !strcmp(kw->name, "default_backend"))) {
		if (l->nw > 1 && strncmp(l->w[1], "%[", 2))
			fn(ctx, l, 1, 0, strlen(l->w[1]), CFG_REF_BACKEND);
	}
	if (kw->name && !strcmp(kw->name, "stats scope") && l->nw > 2 && strcmp(l->w[2], "."))
		fn(ctx, l, 2, 0, strlen(l->w[2]), CFG_REF_ANY);
	for (size_t i = first; i < l->nw; i++) {
		if (i + 1 < l->nw && !strcmp(l->w[i], "table") && kw->family &&
		    (!strncmp(kw->family, "http-", 5) || !strncmp(kw->family, "tcp-", 4) ||
		     !strcmp(kw->family, "stick")))
			fn(ctx, l, i + 1, 0, strlen(l->w[i + 1]), CFG_REF_TABLE);
		if (i + 1 < l->nw && !strcmp(l->w[i], "track") && kw->name &&
		    (kw->combine == CFG_SERVER || kw->combine == CFG_DEFSRV ||
		     !strcmp(kw->name, "server-template"))) {
			const char *slash = strchr(l->w[i + 1], '/');

			if (slash)
				fn(ctx, l, i + 1, 0, (size_t)(slash - l->w[i + 1]),
				   CFG_REF_BACKEND);
		}
		word_fetch_refs(l, i, fn, ctx);
	}
}
