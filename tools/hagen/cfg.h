/* Reading an existing haproxy.cfg: HAProxy's line syntax (words, weak and strong quotes,
 * backslash escapes, comments, conditional-block directives) into sections of lines that keep
 * their line number and raw text, plus the table of proxy keywords (where each may be used,
 * how repeated lines combine) that hagen import and hagen compare share. Knows nothing of the
 * inventory. */
#ifndef HAGEN_CFG_H
#define HAGEN_CFG_H
#include <stddef.h>

#include "diag.h"

#define CFG_MAX_BYTES (16u << 20) /* one configuration file */
#define CFG_MAX_LINE 65536	  /* bytes of one line */
#define CFG_MAX_WORDS 256	  /* words of one line */

enum cfg_kind {
	CFG_TOP, /* lines before the first section (only comments and directives are valid) */
	CFG_GLOBAL,
	CFG_DEFAULTS,
	CFG_FRONTEND,
	CFG_BACKEND,
	CFG_LISTEN,
	CFG_USERLIST,
	CFG_RESOLVERS,
	CFG_OTHER, /* peers, cache, mailers, program, ring, http-errors, ... */
};

/* Word flags. */
#define CFG_W_PLAIN 1u /* the word is written as-is in raw: no quote, no escape */
#define CFG_W_ENV 2u   /* the word expands an environment variable ("$X" in double quotes) */

struct cfg_line {
	unsigned lineno; /* 1-based line in the file */
	char *raw;	 /* the line from its first word, trailing blanks removed (owned) */
	char **w;	 /* decoded words, w[nw] == NULL (owned); an expanded variable is kept
			    as written, "${NAME}", a literal '$' in a weakly quoted word as "\\$" */
	size_t nw;
	size_t *woff;	       /* start of each word in raw (owned) */
	size_t *wend;	       /* end of each word in raw, exclusive (owned) */
	unsigned char *wflags; /* CFG_W_* of each word (owned) */
	size_t comment;	       /* offset in raw where a trailing comment starts, or strlen(raw) */
	int directive;	       /* a ".if", ".elif", ".else", ".endif", ".notice", ... line */
	int cond;	       /* depth of conditional blocks around this line (0: none) */
};

struct cfg_section {
	enum cfg_kind kind;
	struct cfg_line head; /* "backend be_api from d_http": kind word, name, ... */
	const char *name;     /* head.w[1] or "" (borrowed from head) */
	const char *from;     /* the "from NAME" of a proxy or defaults, or NULL (borrowed) */
	struct cfg_line *lines;
	size_t n, alloc;
};

struct cfg {
	char *file; /* the name used in diagnostics (owned) */
	struct cfg_section *s;
	size_t n, alloc;
};

/* Splits buf (len bytes, the contents of file) into sections and lines. Syntax errors (an
 * unterminated quote, a bad escape, a line too long, too many words, a NUL byte, unbalanced
 * conditional blocks) go to dl as FILE:LINE errors. Returns 0 when dl got no error (cfg filled;
 * release with cfg_release()), -1 otherwise (cfg released). */
int cfg_parse(const char *file, const char *buf, size_t len, struct cfg *cfg,
	      struct diag_list *dl);
/* Reads path ("-": stdin, at most CFG_MAX_BYTES) and parses it; errors go to dl. Returns 0 or -1. */
int cfg_load(const char *path, struct cfg *cfg, struct diag_list *dl);
void cfg_release(struct cfg *cfg);

/* The section kind named by a section keyword ("backend" -> CFG_BACKEND, "peers" ->
 * CFG_OTHER), or -1 when word does not start a section. */
int cfg_section_kind(const char *word);
const char *cfg_kind_name(enum cfg_kind k);

/* ---- proxy keywords ---- */

/* Where a keyword may be used (HAProxy's proxy keywords matrix). */
#define CFG_IN_D 1u	  /* defaults */
#define CFG_IN_DNAMED 2u /* named defaults only */
#define CFG_IN_F 4u	  /* frontend */
#define CFG_IN_L 8u	  /* listen */
#define CFG_IN_B 16u	  /* backend */

enum cfg_combine {
	CFG_SET,    /* one value: a later line replaces an earlier one (key: the keyword) */
	CFG_OPTION, /* "option X" / "no option X": on or off, a later line wins */
	CFG_LIST,   /* ordered rules: every line counts, in order, in its family */
	CFG_ACL,    /* acl NAME ...: named conditions */
	CFG_BIND,
	CFG_SERVER,
	CFG_DEFSRV, /* default-server: parameters for the servers declared after it */
	CFG_LOG,    /* log lines accumulate; "no log" empties the list */
	CFG_KEYED,  /* a later line replaces an earlier one with the same key (errorfile 503) */
};

struct cfg_kw {
	const char *name;	  /* "timeout client", "option httplog", "http-request" */
	unsigned in;		  /* CFG_IN_* */
	enum cfg_combine combine; /* how repeated lines combine */
	const char *family;	  /* CFG_LIST: rules of one family keep their relative order */
	unsigned flags;		  /* CFG_KW_* */
};

#define CFG_KW_HTTP 1u	   /* only meaningful in mode http (HAProxy ignores it in tcp) */
#define CFG_KW_BSIDE 2u	   /* in a listen section, belongs to the backend half */
#define CFG_KW_BOTHSIDES 4u /* in a listen section, belongs to both halves */

/* The keyword of a proxy or defaults line: the longest table entry that the line's first words
 * spell ("no"/"default" prefixes skipped; *neg set for "no"). Unknown keywords get a generic
 * entry (a CFG_LIST usable everywhere but in defaults, family: the first word), so nothing is
 * ever lost. *nwords: how many words the keyword takes (after a prefix). Never NULL. */
const struct cfg_kw *cfg_kw_find(const struct cfg_line *l, int *neg, size_t *nwords);

/* True when key (a keyword name such as "option forwardfor", or a rule family such as
 * "http-request" or "capture") only means something in mode http. */
int cfg_key_is_http(const char *key);

/* ---- references to proxies inside words ---- */

/* Calls fn for every place in line l (a line of a proxy section) that names a proxy or a
 * stick-table (use_backend NAME, default_backend NAME, stats scope NAME, "table NAME" arguments,
 * track BE/SRV, fetches such as nbsrv(NAME), be_conn(NAME), srv_is_up(BE/SRV), table_cnt(NAME),
 * sc_*(N,NAME)), with the word index and the name's byte range inside the decoded word. */
enum cfg_ref {
	CFG_REF_BACKEND,  /* use_backend, default_backend, track, nbsrv(), be_*(), srv_*(), queue() */
	CFG_REF_FRONTEND, /* fe_*() */
	CFG_REF_TABLE,	  /* a stick-table: "table NAME", table_*(), sc_*(), src_*() */
	CFG_REF_ANY,	  /* stats scope */
};
typedef void (*cfg_ref_fn)(void *ctx, const struct cfg_line *l, size_t word, size_t start,
			   size_t end, enum cfg_ref kind);
void cfg_proxy_refs(const struct cfg_line *l, cfg_ref_fn fn, void *ctx);

#endif
