/* hagen check: run HAProxy's own parser (haproxy -c -dW) on a rendered configuration and map
 * every message about a configuration line back to the inventory line that produced it. */
#ifndef HAGEN_CHECK_H
#define HAGEN_CHECK_H
#include <stddef.h>

#include "diag.h"
#include "inventory/inventory.h"
#include "strbuf.h"
#include "tmpl.h"

#define CHECK_TIMEOUT_S 30
#define CHECK_MAX_OUTPUT (1u << 20)

/* The haproxy binary: $HAPROXY when set, else the first haproxy in $PATH, /usr/sbin,
 * /usr/local/sbin. Returns a static path, or NULL. */
const char *check_find_haproxy(void);

/* Turns haproxy's output (for cfg_path, the rendered file) into diagnostics on the inventory:
 * "[cfg_path:N]" becomes the inventory position of cfg line N, with the entry named; messages
 * naming a proxy ('be_api') go to that section. ALERTs are errors, WARNINGs warnings, except a
 * warning that says "deprecated" when the output names a newer haproxy than inv->target ("haproxy
 * version is X.Y"): the target needs that form, so it is a note. Returns how many such notes. */
size_t check_map_output(const char *text, size_t len, const char *cfg_path, const struct inv *inv,
			const struct tmpl_out *out, struct diag_list *dl);

/* The version of haproxy (`haproxy -v`) as a target, major * 100 + minor. Returns 0 or -1. */
int check_haproxy_target(const char *haproxy, int *target);

/* Runs haproxy -c -dW -f path (path holds out's text) and prints the messages mapped to the
 * inventory. Returns 0 when haproxy accepts it with zero warnings, 1 when its only warnings are
 * deprecations by a newer haproxy of what the target needs (notes, see check_map_output), -1
 * when it rejects it. */
int check_file(const char *haproxy, const char *path, const struct inv *inv,
	       const struct tmpl_out *out);

/* Writes out to a temporary file, runs haproxy -c -dW -f on it (dummy values for unset
 * password_env variables, said on stderr), prints the mapped messages and a "valid" line. Returns
 * check_file's answer (0, 1 or -1), -1 also when haproxy is not installed. */
int check_with_haproxy(const struct inv *inv, const struct tmpl_out *out);

#endif
