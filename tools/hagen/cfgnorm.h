/* The normalising comparison of two haproxy.cfg files (hagen compare, and the check hagen
 * import runs on its own result). Each file becomes a canonical text: per proxy, what it
 * effectively runs with once its defaults section is applied (mode, binds, every setting and
 * option, loggers, servers with their default-server parameters merged in, rules in order with
 * named ACLs replaced by their definitions), plus global, userlist, resolvers and other
 * sections. Cosmetic differences disappear: comments, layout, quoting, line order where HAProxy
 * does not care, ACL names, durations written differently, values equal to HAProxy's defaults,
 * hagen's fe_/be_ name prefixes, and a listen section against a frontend plus a backend.
 * docs/hagen.md ("hagen compare") lists every rule. */
#ifndef HAGEN_CFGNORM_H
#define HAGEN_CFGNORM_H
#include <stddef.h>
#include <stdio.h>

#include "cfg.h"
#include "strbuf.h"

/* One canonical section: "frontend web", "backend api", "global", "userlist admins" ... and
 * its canonical lines (in the order that matters, or sorted where order does not). */
struct cfgnorm_sect {
	char *key;
	char **lines;
	size_t n, alloc;
	unsigned lineno; /* where it starts in its file (0 when made up, e.g. a listen half) */
};

struct cfgnorm {
	struct cfgnorm_sect *s; /* sorted by key */
	size_t n, alloc;
};

/* Builds the canonical form of cfg. Returns 0, or -1 when out of memory. Release with
 * cfgnorm_release(). */
int cfgnorm_build(const struct cfg *cfg, struct cfgnorm *out);
void cfgnorm_release(struct cfgnorm *n);

/* Writes the canonical text (what "hagen compare --dump" prints). */
void cfgnorm_print(const struct cfgnorm *n, FILE *fp);

/* Appends to out one line per difference between a and b ("frontend web: only in A: ...",
 * "only in B: backend api"), labelled with la and lb. Returns how many differences. */
size_t cfgnorm_diff(const struct cfgnorm *a, const struct cfgnorm *b, const char *la,
		    const char *lb, struct strbuf *out);

/* ---- shared with hagen import ---- */

/* The defaults section proxy section s uses (its "from", else the last defaults section before
 * it), or NULL. */
const struct cfg_section *cfgnorm_defaults_of(const struct cfg *cfg, const struct cfg_section *s);

/* The name hagen would give proxy section s: a frontend without its "fe_" prefix, a backend
 * without "be_", a listen unchanged. Returns a pointer into s->name. */
const char *cfgnorm_canon_name(const struct cfg_section *s);

/* Where a line of a listen section goes when the listen is seen as a frontend and a backend:
 * 1 frontend, 2 backend, 3 both. has_stick: the listen has "stick" rules (its stick-table then
 * belongs to the backend half). */
unsigned cfgnorm_listen_side(const struct cfg_line *l, int has_stick);

/* Which halves a listen section has: a frontend when it binds, a backend when it has lines of
 * the backend side (servers, balance, checks ...). */
void cfgnorm_listen_halves(const struct cfg_section *s, int *fe, int *be);

/* How many arguments a bind, server or default-server parameter takes (0 for flags and for
 * parameters this table does not know). */
int cfgnorm_param_args(const char *word);

/* A duration in milliseconds as text ("5000"), or NULL when s is not a duration. buf: 32 bytes. */
const char *cfgnorm_ms(const char *s, char *buf);

#endif
