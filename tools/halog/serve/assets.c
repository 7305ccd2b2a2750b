/* The page, script and style of halog serve, compiled in by mk/embed.sh (serve_assets). */
#include <string.h>

#include "serve/server.h"
#include "templates_embed.h"

extern const struct tmpl_embed serve_assets[];

static const struct {
	const char *ext, *ctype;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".svg", "image/svg+xml"},
};

const char *serve_asset(const char *name, size_t *len, const char **ctype)
{
	size_t n = strlen(name);

	for (const struct tmpl_embed *e = serve_assets; e->name; e++) {
		if (strcmp(e->name, name))
			continue;
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			size_t k = strlen(types[i].ext);

			if (n > k && !strcmp(name + n - k, types[i].ext)) {
				*ctype = types[i].ctype;
				*len = e->len;
				return e->text;
			}
		}
		return NULL; /* a file of a type we do not serve */
	}
	return NULL;
}
