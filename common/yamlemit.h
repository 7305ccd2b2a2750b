/* Writing a yamlnode tree as YAML that people read and edit: block maps, small maps and lists
 * of scalars in flow style on one line, strings quoted only when they must be, and comments
 * attached to keys. Also the quoting of one scalar, for tools that edit YAML text in place. */
#ifndef YAMLEMIT_H
#define YAMLEMIT_H
#include <stddef.h>

#include "strbuf.h"
#include "yamlnode.h"

/* Scalar styles the emitter reads from yn_node.style: YN_PLAIN marks a number, boolean or
 * null written bare (7, true); any other style marks a string, written plain when YAML would
 * read it back as the same string, else quoted. */

/* A comment written on its own line(s) above the pair or item whose value is node. */
struct yaml_comment {
	const struct yn_node *node;
	const char *text; /* may hold newlines: one "# " line each */
};

struct yaml_emit_opts {
	size_t width;			    /* flow style only when the line fits (0: 100) */
	const struct yaml_comment *comments; /* may be NULL */
	size_t ncomments;
	const char *const *block_keys; /* keys whose value is always written in block style
					  (NULL-terminated list, may be NULL) */
	int blank_between_top;	       /* a blank line between the top-level keys */
	int block_depth;	       /* maps nested less deep than this are always written in
					  block style (0: none) */
};

/* Appends root (a map) to out. Returns 0, or -1 when out of memory. */
int yaml_emit(const struct yn_node *root, const struct yaml_emit_opts *opts, struct strbuf *out);

/* Appends s as a YAML string scalar that reads back as exactly s: bare when safe, in single
 * quotes when that suffices, in double quotes with escapes otherwise (a ':' always quotes, so
 * that no YAML 1.1 reader takes "1:30" for a number). Returns 0 or -1. */
int yaml_quote(const char *s, struct strbuf *out);

#endif
