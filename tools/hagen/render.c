/* Rendering and the line-to-origin map; see render.h. */
#include "render.h"

#include <string.h>

int render_config(const struct inv *inv, const char *tmpl_dir, struct tmpl_out *out,
		  struct diag_list *dl)
{
	struct tmpl_set *ts = tmpl_set_new(tmpl_dir);
	int rc;

	if (!ts) {
		diag_add(dl, DIAG_ERROR, NULL, 0, 0, "out of memory");
		return -1;
	}
	rc = tmpl_render(ts, RENDER_MAIN_TEMPLATE, inv->view, out, dl);
	tmpl_set_free(ts);
	return rc;
}

int render_inventory(const char *file, const struct inv_opts *opts, const char *tmpl_dir,
		     struct inv *inv, struct tmpl_out *out, struct diag_list *dl)
{
	memset(inv, 0, sizeof(*inv));
	if (inv_load(file, opts, inv, dl) < 0 || render_config(inv, tmpl_dir, out, dl) < 0)
		return -1;
	return dl->errors ? -1 : 0;
}

/* Start of line n (1-based) in text, or NULL. */
static const char *line_start(const struct tmpl_out *out, size_t n, size_t *len)
{
	const char *p = out->text.buf, *end = out->text.buf + out->text.len, *nl;

	for (size_t i = 1; i < n && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p >= end)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	return p;
}

static int is_section(const char *p, size_t len)
{
	static const char *const kw[] = {"global", "defaults",	"frontend", "backend",
					 "listen", "resolvers", "userlist", "peers",
					 "cache",  "program",	NULL};

	for (size_t i = 0; kw[i]; i++) {
		size_t k = strlen(kw[i]);

		if (len >= k && !memcmp(p, kw[i], k) && (len == k || p[k] == ' '))
			return 1;
	}
	return 0;
}

/* The line before the one starting at p (p > text), with its length. */
static const char *line_before(const struct tmpl_out *out, const char *p, size_t *len)
{
	const char *end = p - 1, *q = end; /* end: the '\n' that ends the previous line */

	while (q > out->text.buf && q[-1] != '\n')
		q--;
	*len = (size_t)(end - q);
	return q;
}

int render_origin(const struct tmpl_out *out, size_t line, unsigned *iline, unsigned *icol,
		  char *entry, size_t entrysz)
{
	size_t len;
	const char *p;

	*iline = *icol = 0;
	if (entrysz)
		entry[0] = '\0';
	if (line == 0 || line > out->nlines)
		return -1;
	*iline = out->lines[line - 1].line;
	*icol = out->lines[line - 1].col;
	/* the section header at or above line, and the "# entry (file:line)" comment above it;
	 * walked back from line once (each step is one line, not a scan from the top) */
	p = line_start(out, line, &len);
	for (size_t l = line; p && l > 0; l--) {
		if (!is_section(p, len)) {
			p = l > 1 ? line_before(out, p, &len) : NULL;
			continue;
		}
		if (l > 1 && (p = line_before(out, p, &len)) && len > 2 && p[0] == '#' &&
		    p[1] == ' ') {
			const char *paren = NULL;

			for (size_t i = len; i-- > 2;)
				if (p[i] == '(') {
					paren = p + i;
					break;
				}
			len = paren && paren > p + 3 ? (size_t)(paren - p) - 3 : len - 2;
			if (len >= entrysz)
				len = entrysz ? entrysz - 1 : 0;
			if (entrysz) {
				memcpy(entry, p + 2, len);
				entry[len] = '\0';
			}
		}
		break;
	}
	return 0;
}

size_t render_find_section(const struct tmpl_out *out, const char *kind, const char *name)
{
	size_t kl = strlen(kind), nl = strlen(name);
	const char *p = out->text.buf, *end = out->text.buf + out->text.len;

	/* one pass over the text (a scan from the top per line would be quadratic) */
	for (size_t l = 1; l <= out->nlines && p < end; l++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len >= kl + 1 + nl && !memcmp(p, kind, kl) && p[kl] == ' ' &&
		    !memcmp(p + kl + 1, name, nl) && (len == kl + 1 + nl || p[kl + 1 + nl] == ' '))
			return l;
		if (!eol)
			break;
		p = eol + 1;
	}
	return 0;
}
