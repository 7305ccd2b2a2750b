/* Tables of files compiled into a binary by mk/embed.sh: hagen's templates (templates/) and
 * halog serve's web assets (tools/halog/serve/assets/). */
#ifndef TEMPLATES_EMBED_H
#define TEMPLATES_EMBED_H
#include <stddef.h>

struct tmpl_embed {
	const char *name; /* file name, e.g. "backend.tmpl" */
	const char *text; /* contents, not NUL-terminated in the source file sense: use len */
	size_t len;       /* bytes in text */
};

/* Ends with an entry whose name is NULL. */
extern const struct tmpl_embed tmpl_embedded[];

#endif
