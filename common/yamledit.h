/* Changing one key of a YAML file in place: the rest of the text (comments, layout, quoting,
 * key order) stays byte for byte. The map to change is a node of the tree yn_load_buffer() built
 * from the same text, whose positions locate it. Knows block and flow maps. */
#ifndef YAMLEDIT_H
#define YAMLEDIT_H
#include <stddef.h>

#include "strbuf.h"
#include "yamlnode.h"

/* Writes to out (reset first) the text with map[key] set to value, a YAML scalar written as it
 * must appear ("3", "true", a quoted string): the old value's text is replaced, or "key: value"
 * is added after the map's last entry (", key: value" in a flow map). Returns 0, or -1 with a
 * message in err (a value that is not a scalar, a position the text does not have). */
int yamledit_set(const char *text, size_t len, const struct yn_node *map, const char *key,
		 const char *value, struct strbuf *out, char *err, size_t errsz);

/* The same, removing map[key] (its line in a block map, its entry in a flow map). Returns 0 (out
 * is the text unchanged when key is absent), or -1 with err. */
int yamledit_remove(const char *text, size_t len, const struct yn_node *map, const char *key,
		    struct strbuf *out, char *err, size_t errsz);

#endif
