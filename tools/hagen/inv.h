/* The inventory: load inventory.yaml, apply an environment overlay, validate every key, and
 * compile it into the data the templates render (a yamlnode tree whose scalars keep the
 * inventory position they came from). See docs/hagen.md for the keys. */
#ifndef HAGEN_INV_H
#define HAGEN_INV_H
#include <stddef.h>

#include "diag.h"
#include "yamlnode.h"

#define INV_DEFAULT_TARGET 206 /* "2.6" */

struct inv_opts {
	const char *env;    /* environment overlay name (-e), or NULL */
	const char *target; /* --target "X.Y", overrides the file's target; NULL when not given */
};

struct inv {
	char *file;	      /* the path as given, used in every diagnostic */
	int target;	      /* major * 100 + minor, e.g. 206 */
	struct yn_node *root; /* the merged inventory (owned) */
	struct yn_node *view; /* the template data (owned) */
	char **secret_envs;   /* names of the password_env variables, sorted, unique (owned) */
	size_t nsecret_envs;
};

/* Parses "X.Y" into major * 100 + minor when hagen supports that target (2.4 .. 3.3).
 * Returns 0 or -1. */
int inv_parse_target(const char *s, int *target);
/* The supported target closest to version (major * 100 + minor) from below (the oldest one when
 * version is older than all). Returns 0 when version itself is supported, -1 when another was
 * chosen. */
int inv_nearest_target(int version, int *target);
/* The supported targets as text, "2.4, 2.5, ..." (static). */
const char *inv_targets_text(void);

/* Loads and compiles file. Every problem found goes to dl (errors and warnings, with
 * FILE:LINE:COL). Returns 0 when dl got no error (inv filled; release with inv_release()),
 * -1 otherwise (inv released). */
int inv_load(const char *file, const struct inv_opts *opts, struct inv *inv, struct diag_list *dl);
void inv_release(struct inv *inv);

/* The values a global log target's format, facility and level may take (NULL-terminated). */
extern const char *const inv_log_formats[];
extern const char *const inv_log_facilities[];
extern const char *const inv_log_levels[];

/* One row of the version rules table (docs and --help print it). */
struct inv_rule {
	const char *what; /* the directive or keyword */
	int since;	  /* first target that accepts it (0: always) */
	int until;	  /* first target that rejects it (0: never) */
	const char *note; /* what hagen does */
};
extern const struct inv_rule inv_rules[];

#endif
