/* The service inventory, read the same way by hagen and halog: load inventory.yaml (with the
 * YAML limits below), apply an environment overlay, validate every key with hagen's rules (every
 * mistake at once, with FILE:LINE:COL), and build
 *   - the typed model: one backend per service, its servers with weight, backup, maintenance
 *     and DNS discovery slots (what halog's balance check expects shares from);
 *   - the template data hagen renders (a yamlnode tree whose scalars keep the inventory position
 *     they came from).
 * The naming rules live here and nowhere else: entrypoint NAME is HAProxy's frontend fe_NAME,
 * service NAME its backend be_NAME (inv_frontend_name(), inv_backend_name()).
 * This library includes common/ only; both tools link it (mk/layers.sh checks). See
 * docs/hagen.md for the keys. */
#ifndef INVENTORY_INVENTORY_H
#define INVENTORY_INVENTORY_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "yamlnode.h"

#define INV_DEFAULT_TARGET 206 /* "2.6" */

/* Limits: an inventory beyond them is refused with the limit named (docs/hagen.md, Limits). */
#define INV_MAX_NAME 64		 /* bytes of a name (entrypoint, service, server, user ...) */
#define INV_MAX_EPS 256		 /* entrypoints */
#define INV_MAX_SVCS 10000	 /* services (make bench renders 5,000) */
#define INV_MAX_ITEMS 4096	 /* entries of one list (servers, binds, hosts ...) */
#define INV_MAX_DEPTH 64	 /* YAML nesting */
#define INV_MAX_NODES 400000	 /* YAML nodes, alias expansions included (~8,000 services) */
#define INV_MAX_BYTES (4u << 20) /* the file */
/* the rendered configuration (hagen's TMPL_MAX_OUTPUT): a view that would render past it is
 * refused while it is built */
#define INV_MAX_OUTPUT (64u << 20)

struct inv_opts {
	const char *env;    /* environment overlay name (-e), or NULL */
	const char *target; /* --target "X.Y", overrides the file's target; NULL when not given */
};

/* A server of a backend, as the balance sees it. The strings are borrowed from the inventory
 * (valid until inv_release()). */
struct inv_server {
	const char *name; /* a DNS slot is PREFIX1..PREFIXn, as HAProxy names them */
	int64_t weight;	  /* 0..256; HAProxy's default is 1; 0 takes no traffic */
	int backup;	  /* backup: true */
	int maint;	  /* maintenance: true (HAProxy's "disabled") */
	int slot;	  /* 1..N for a DNS discovery slot, 0 for a listed server */
};

/* One service as its HAProxy backend. */
struct inv_backend {
	const char *name;	    /* "be_<service>" (inv_backend_name), borrowed */
	const char *service;	    /* the inventory key, borrowed */
	struct inv_server *servers; /* the listed servers, then the DNS slots (owned) */
	size_t n;
	int slots;	  /* DNS discovery slots (0: none) */
	int tcp;	  /* mode tcp */
	char *slot_names; /* owned: the DNS slots' names, one block */
};

struct inv {
	char *file;	      /* the path as given, used in every diagnostic */
	int target;	      /* major * 100 + minor, e.g. 206 */
	struct yn_node *root; /* the merged inventory (owned) */
	struct yn_node *view; /* the template data (owned) */
	char **secret_envs;   /* names of the password_env variables, sorted, unique (owned) */
	size_t nsecret_envs;
	struct inv_backend *backends; /* the typed model, in inventory order (owned) */
	size_t nbackends;
	struct yn_arena *arena; /* where root's and view's nodes live (owned) */
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

/* inv_load() for a tool that only reads the inventory (halog report, drive): prints every
 * diagnostic on fp, sorted, as "PROG: FILE:LINE:COL: error: ..." (at most INV_MAX_DIAGS), the
 * same messages as hagen. Returns 0 (inv filled), or -1 when the inventory has an error. */
int inv_load_report(const char *file, const struct inv_opts *opts, struct inv *inv, FILE *fp,
		    const char *prog);
#define INV_MAX_DIAGS 200

/* inv_load() for a caller that says one line: 0 (inv filled), or -1 with the first error as
 * "FILE:LINE:COL: message" in err, followed by " (and N more errors)" when there are more. */
int inv_load_msg(const char *file, const struct inv_opts *opts, struct inv *inv, char *err,
		 size_t errsz);

/* The backend called name ("be_api"), or NULL (also when inv is NULL). */
const struct inv_backend *inv_backend_find(const struct inv *inv, const char *name);

/* The naming rule: HAProxy's name for entrypoint / service `name`, into buf ("fe_web",
 * "be_api"). Returns buf; a name longer than the buffer is cut (never with a valid name). */
const char *inv_frontend_name(const char *name, char *buf, size_t sz);
const char *inv_backend_name(const char *name, char *buf, size_t sz);
#define INV_PROXY_NAME_MAX (INV_MAX_NAME + 4) /* a buffer for either, with the NUL */

/* The keyword table: one row per key of every inventory section, the top level included. The
 * checks, the defaults the templates get, the version
 * gates (`hagen targets`), `hagen keys` and the key tables of docs/hagen.md all read it. */
enum inv_ktype {
	INV_BOOL,  /* true or false; the template data holds "true" only when true */
	INV_INT,   /* a whole number in [min, max] */
	INV_DUR,   /* a duration: "5s", "100ms", a number of ms */
	INV_ENUM,  /* one of values[] (did you mean ...) */
	INV_TEXT,  /* free text, quoted where rendered */
	INV_NAME,  /* a name: letters, digits, '_', '.', ':' and '-' */
	INV_PATH,  /* a URI path: one word that starts with '/' */
	INV_TOKEN, /* one word: no space, quote, '#' or '\\' */
	INV_OTHER, /* checked by the row's own checker (lists, references, raw lines) */
};

struct inv_key {
	const char *section; /* its heading in docs/hagen.md: "resolvers.NAME" */
	const char *key;     /* "hold_valid" */
	enum inv_ktype type; /* how its value is checked */
	int64_t min, max;    /* INV_INT: the accepted range, inclusive */
	const char *dflt;    /* what the template data holds when the key is absent; NULL: none */
	int since, until;    /* the targets that accept it: since <= target < until (0: no bound) */
	const char *type_doc; /* the reference's type column; NULL: said by type, min and max */
	const char *doc;      /* the reference's "renders" column; NULL: empty */
	const char *const *values; /* INV_ENUM: the accepted words, NULL-terminated */
	const char *what;	   /* how messages name it, when not 'key' (or key) */
	int map;  /* a map whose keys are the rows "key.NAME" (the reference lists those) */
	int http; /* an error where the mode is tcp (an entrypoint's http-only keys) */
};

/* Row i of the keyword table, in section order; NULL past the last. */
const struct inv_key *inv_key_at(size_t i);
/* The reference's type column of k ("bool", "1…100", "duration", or k->type_doc), into buf. */
const char *inv_key_type_text(const struct inv_key *k, char *buf, size_t sz);

/* One row of the version rules table (docs and `hagen targets` print it). */
struct inv_rule {
	const char *what; /* the directive or keyword */
	int since;	  /* first target that accepts it (0: always) */
	int until;	  /* first target that rejects it (0: never) */
	const char *note; /* what hagen does */
};
extern const struct inv_rule inv_rules[];
/* The targets rule r covers, since <= target < until (0: no bound): its own, or, for a rule
 * about a key of the keyword table (rule_keys in inventory.c), the key's since/until columns. */
void inv_rule_targets(const struct inv_rule *r, int *since, int *until);
/* The rule called what (one of the INV_RULE_* names), or NULL. */
const struct inv_rule *inv_rule_find(const char *what);
/* Whether target accepts what the rule called what is about (inv_rule_targets); the checks,
 * the templates' data and hagen import ask this, so the version numbers live in inv_rules (or
 * in the keyword table's since/until columns) only. */
int inv_target_accepts(int target, const char *what);
/* The rules the code asks about (a misspelt name does not compile). */
#define INV_RULE_HTTPSLOG "option httpslog"
#define INV_RULE_ERROR_LOG_FORMAT "error-log-format"
#define INV_RULE_CLIENT_HS "timeout client-hs"
#define INV_RULE_ACCEPT_INVALID "option accept-invalid-http-request/response"

/* The row of the keyword table for key of section, or NULL. */
const struct inv_key *inv_key_find(const char *section, const char *key);

#endif
