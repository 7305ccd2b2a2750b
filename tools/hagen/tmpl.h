/* hagen's small template language (see docs/hagen.md): {{var}}, {{a.b}}, {{.}}, {{#if x}},
 * {{#unless x}}, {{else}}, {{#each list}}, {{> partial}}, {{! comment}}. Templates come from a
 * directory (when given) or from the table compiled into the binary. Rendering records, for
 * every output line, the position of the data it came from (the line-to-origin map). */
#ifndef HAGEN_TMPL_H
#define HAGEN_TMPL_H
#include <stddef.h>

#include "diag.h"
#include "inventory/inventory.h"
#include "strbuf.h"
#include "yamlnode.h"

#define TMPL_MAX_BYTES (1u << 20) /* one template file */
#define TMPL_MAX_NEST 32	  /* nested blocks in one template */
#define TMPL_MAX_PARTIALS 16	  /* {{> x}} inside {{> y}} ... */
/* the rendered file: one limit with the inventory's view (lib/inventory) */
#define TMPL_MAX_OUTPUT INV_MAX_OUTPUT

struct tmpl_set;

/* Where one output line came from: a position in the data's source (0 when unknown). */
struct tmpl_origin {
	unsigned line, col;
};

struct tmpl_out {
	struct strbuf text;
	struct tmpl_origin *lines; /* lines[i] for output line i+1 */
	size_t nlines, alloc;
};

/* A set that loads templates by name ("global" -> "global.tmpl") from dir first (may be NULL),
 * then from the embedded table. Returns NULL when out of memory; free with tmpl_set_free(). */
struct tmpl_set *tmpl_set_new(const char *dir);
void tmpl_set_free(struct tmpl_set *ts);

/* Renders template name with ctx (a map) as the data. Appends to out. Every problem (missing
 * template, syntax error, unknown variable, a list used as a value) is added to dl with the
 * template's file name, line and column. Returns 0, or -1 on error (out then partial). */
int tmpl_render(struct tmpl_set *ts, const char *name, const struct yn_node *ctx,
		struct tmpl_out *out, struct diag_list *dl);

void tmpl_out_release(struct tmpl_out *out);

/* Truthiness used by {{#if}}: false for a missing node, null, "", "false", an empty list/map. */
int tmpl_truthy(const struct yn_node *n);

#endif
