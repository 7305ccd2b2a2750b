/* A YAML document as a tree of nodes (maps, sequences, scalars) with the line and column of
 * every node and key, loaded with libyaml under hard limits (depth, node count, alias
 * expansion, input size), so hostile input costs bounded time and memory. Knows no schema. */
#ifndef YAMLNODE_H
#define YAMLNODE_H
#include <stddef.h>
#include <stdint.h>

enum yn_kind { YN_SCALAR, YN_SEQ, YN_MAP };

/* How a scalar was written: a quoted "1" is a string, a plain 1 may be a number. */
enum yn_style { YN_PLAIN, YN_SINGLE_QUOTED, YN_DOUBLE_QUOTED, YN_LITERAL, YN_FOLDED };

struct yn_pair {
	struct yn_node *key;   /* always a scalar; owned */
	struct yn_node *value; /* owned; never NULL (an empty value is the plain scalar "") */
};

/* 72 bytes: a document of 250,000 nodes is 18 MB of them, so the fields are packed. */
struct yn_node {
	unsigned char kind;  /* enum yn_kind */
	unsigned char style; /* enum yn_style, of a YN_SCALAR */
	unsigned short mem;  /* private to yamlnode.c: which of its blocks live in an arena */
	unsigned line, col;  /* 1-based position of the node's first character; 0 when built */
	/* YN_SCALAR */
	char *str;  /* owned, NUL-terminated; may hold NULs before len */
	size_t len; /* bytes in str */
	char *tag; /* owned explicit tag ("tag:yaml.org,2002:str", "!foo") or NULL */
	/* YN_SEQ: items[0..n); YN_MAP: pairs[0..n), in document order, keys unique */
	union {
		struct yn_node **items;
		struct yn_pair *pairs;
	};
	size_t n, alloc;
	size_t weight; /* nodes in this subtree, itself included */
};

struct yn_limits {
	size_t max_depth; /* nesting of collections; 0 means 64 */
	size_t max_nodes; /* nodes in the tree, alias copies included; 0 means 200000 */
	size_t max_bytes; /* input size; 0 means 16 MiB */
	int no_merge;	  /* reject "<<" merge keys instead of applying them */
};

struct yn_error {
	unsigned line, col; /* 1-based; 0 when unknown */
	char msg[240];	    /* lowercase, no trailing period */
};

/* Parses one YAML document from buf (len bytes). Aliases are expanded into copies (counted
 * against max_nodes); "<<" merge keys are applied (explicit keys win, then earlier merged maps)
 * unless limits->no_merge; duplicate keys, non-scalar keys, undefined aliases, more than one
 * document and invalid UTF-8 are errors. limits may be NULL (defaults).
 * Returns 0 and sets *root (NULL for an empty document; caller frees with yn_free()), or -1 with
 * err filled (line:col of the problem). */
int yn_load_buffer(const char *buf, size_t len, const struct yn_limits *limits,
		   struct yn_node **root, struct yn_error *err);
/* Same for a file; "-" reads stdin. Errors opening/reading have line 0. */
int yn_load_file(const char *path, const struct yn_limits *limits, struct yn_node **root,
		 struct yn_error *err);

void yn_free(struct yn_node *n);

/* Lookups. Each returns NULL when node is NULL, not a map/seq, or the key/index is absent. */
struct yn_node *yn_get(const struct yn_node *map, const char *key);
struct yn_pair *yn_get_pair(const struct yn_node *map, const char *key);
struct yn_node *yn_at(const struct yn_node *seq, size_t i);
/* Follows dotted keys, "global.log"; NULL when any step is missing. */
struct yn_node *yn_path(const struct yn_node *root, const char *dotted);

/* Scalar interpretation (YAML 1.2 core schema; quoted scalars are always strings).
 * Each returns 0 and sets *out, or -1 when node is not such a scalar. */
int yn_is_null(const struct yn_node *n);	/* plain "", ~, null */
int yn_bool(const struct yn_node *n, int *out); /* plain true/false */
int yn_int64(const struct yn_node *n, int64_t min, int64_t max, int64_t *out); /* plain decimal */
/* True when n is a scalar that holds no NUL byte (safe to use as a C string). */
int yn_is_text(const struct yn_node *n);
const char *yn_kind_name(const struct yn_node *n); /* "map", "list", "string", "number", ... */

/* Building trees by hand (positions may be 0). Each returns NULL / -1 when out of memory;
 * yn_map_set replaces an existing key's value (freeing the old one) and takes ownership of
 * value in every case. */
struct yn_node *yn_new_scalar(const char *s, unsigned line, unsigned col);
struct yn_node *yn_new_map(unsigned line, unsigned col);
struct yn_node *yn_new_seq(unsigned line, unsigned col);
int yn_map_set(struct yn_node *map, const char *key, struct yn_node *value);
int yn_seq_push(struct yn_node *seq, struct yn_node *item);
/* Deep copy, positions kept. NULL when out of memory. */
struct yn_node *yn_copy(const struct yn_node *n);

/* Arenas: while an arena is in effect on a thread (yn_arena_use), every node, text and array
 * yamlnode makes on that thread comes from it, in large blocks, and yn_free releases none of
 * it: yn_arena_free releases it all at once. A document of 250,000 nodes costs ~40 ms less to
 * load and to free that way (glibc's malloc/free per node, and their headers).
 * The owner of an arena owns every node made in it: after yn_arena_free, none may be used, and
 * a tree whose every node came from the arena need not be yn_free'd (yn_free of such a tree only
 * walks it). Nodes made outside the arena may be attached to its trees: yn_free still frees
 * them. yn_arena_new returns NULL when out of memory; yn_arena_use returns the arena in effect
 * before (restore it when done); NULL puts none in effect. */
struct yn_arena;
struct yn_arena *yn_arena_new(void);
struct yn_arena *yn_arena_use(struct yn_arena *a);
void yn_arena_free(struct yn_arena *a);

#endif
