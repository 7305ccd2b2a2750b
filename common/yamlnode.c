/* YAML to a positioned node tree with libyaml's event parser; see yamlnode.h. The parser keeps
 * an explicit stack (never recursion on input), so depth, nodes and time stay bounded. */
#include "yamlnode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <yaml.h>

#define YN_DEF_DEPTH 64
#define YN_DEF_NODES 200000
#define YN_DEF_BYTES (16u << 20)
#define YN_MAX_ANCHORS 10000

struct frame {
	struct yn_node *node;	 /* the collection being filled */
	struct yn_node *key;	 /* map: the key waiting for its value */
	char *anchor;		 /* owned anchor name of node, or NULL */
	struct yn_node **merges; /* map: values of "<<" keys, in order */
	size_t nmerges;
};

struct anchor {
	char *name;
	struct yn_node *node; /* borrowed: lives in the tree (or was freed with it on error) */
};

struct loader {
	const char *buf;
	size_t len;
	struct yn_limits lim;
	struct frame *stack;
	size_t depth;
	size_t nodes;
	size_t copied; /* bytes of scalars copied by alias expansion (bounded by max_bytes) */
	struct anchor *anchors;
	size_t nanchors;
	struct yn_node *root;
	struct yn_node *grave; /* merge sources, freed when the load ends */
	int docs;
	struct yn_error *err;
};

static void set_err(struct yn_error *err, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_err(struct yn_error *err, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ---- arenas ---- */

/* The blocks of a node (yn_node.mem): in an arena, or from malloc when the bit is clear. */
#define MEM_NODE 1u  /* the node itself, with a scalar's text and its tag */
#define MEM_ARRAY 2u /* items or pairs */

#define ARENA_BLOCK (256u << 10) /* the first block; each next one is twice as big, up to 8 MiB */
#define ARENA_BLOCK_MAX (8u << 20)

/* Under AddressSanitizer the unused part of a block and a red zone after each allocation are
 * poisoned, so that a read or write past a node, a text or an array is reported as with malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define YN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define YN_ASAN 1
#endif
#endif
#ifdef YN_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE 16u
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ARENA_REDZONE 0u
#endif

struct arena_block {
	struct arena_block *next;
	size_t size, used; /* bytes of the mapping; bytes of it handed out (the header included) */
};

struct yn_arena {
	struct arena_block *head; /* the block being filled, then the older ones */
	size_t next;		  /* the size of the next block */
};

static _Thread_local struct yn_arena *arena_now;

struct yn_arena *yn_arena_new(void)
{
	struct yn_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->next = ARENA_BLOCK;
	return a;
}

struct yn_arena *yn_arena_use(struct yn_arena *a)
{
	struct yn_arena *was = arena_now;

	arena_now = a;
	return was;
}

void yn_arena_free(struct yn_arena *a)
{
	if (!a)
		return;
	if (arena_now == a)
		arena_now = NULL;
	for (struct arena_block *b = a->head, *nx; b; b = nx) {
		nx = b->next;
		ASAN_UNPOISON_MEMORY_REGION(b, b->size);
		munmap(b, b->size);
	}
	free(a);
}

#define ARENA_HUGE (2u << 20) /* a transparent huge page (x86-64, arm64 with 4 KiB pages) */

/* A block of bs bytes, populated, or NULL. A block of ARENA_HUGE or more starts on a huge page's
 * boundary and is asked for as huge pages (THP's "madvise" mode, the default of many
 * distributions, gives them only to who asks): 5,000 services fill 70 MB of nodes, visited out
 * of order, and with 4 KiB pages their 18,850 page faults and TLB misses were about half of the
 * render's CPU time (docs/bench.md). Where huge pages are not given, they are ordinary pages. */
static void *block_map(size_t bs)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned char *p;

#ifdef MADV_HUGEPAGE
	if (bs >= ARENA_HUGE) {
		size_t skip;

		p = mmap(NULL, bs + ARENA_HUGE, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		skip = (ARENA_HUGE - (uintptr_t)p % ARENA_HUGE) % ARENA_HUGE;
		if (skip)
			munmap(p, skip);
		munmap(p + skip + bs, ARENA_HUGE - skip);
		p += skip;
		(void)madvise(p, bs, MADV_HUGEPAGE); /* refused: ordinary pages */
#ifdef MADV_POPULATE_WRITE
		(void)madvise(p, bs, MADV_POPULATE_WRITE); /* refused: faults on first use */
#endif
		return p;
	}
#endif
#ifdef MAP_POPULATE
	flags |= MAP_POPULATE;
#endif
	p = mmap(NULL, bs, PROT_READ | PROT_WRITE, flags, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

#define ARENA_ALIGN 16u
#define ARENA_HEAD ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

/* sz bytes, aligned for any node, text or array, from arena a; NULL when out of memory. The
 * blocks are mapped with their pages populated (block_map): one system call instead of a page
 * fault for every 4 KiB, which was a fifth of rendering 5,000 services. */
static void *arena_alloc(struct yn_arena *a, size_t sz)
{
	struct arena_block *b = a->head;
	size_t need;
	unsigned char *p;

	if (sz > (SIZE_MAX >> 2))
		return NULL;
	need = (sz + ARENA_REDZONE + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (!b || b->size - b->used < need) {
		size_t bs = a->next;

		while (bs < need + ARENA_HEAD)
			bs *= 2;
		if (!(b = block_map(bs)))
			return NULL;
		b->size = bs;
		b->used = ARENA_HEAD;
		ASAN_POISON_MEMORY_REGION((unsigned char *)b + ARENA_HEAD, bs - ARENA_HEAD);
		/* the old head keeps its unused tail: blocks are filled in order */
		b->next = a->head;
		a->head = b;
		if (a->next < ARENA_BLOCK_MAX)
			a->next *= 2;
	}
	p = (unsigned char *)b + b->used;
	b->used += need;
	ASAN_UNPOISON_MEMORY_REGION(p, sz);
	return p;
}

/* A block of sz bytes: from the arena in effect (*mem gets bit), else from malloc. */
static void *mem_alloc(size_t sz, unsigned short *mem, unsigned bit)
{
	if (arena_now) {
		*mem = (unsigned short)(*mem | bit);
		return arena_alloc(arena_now, sz);
	}
	*mem = (unsigned short)(*mem & ~bit);
	return malloc(sz);
}

/* The node's items/pairs array resized to na elements of esz bytes (n elements kept). */
static void *array_resize(struct yn_node *n, void *old, size_t esz, size_t na)
{
	void *p;

	if (na > SIZE_MAX / esz)
		return NULL;
	if (!arena_now && !(n->mem & MEM_ARRAY))
		return realloc(old, na * esz);
	/* an arena cannot grow a block in place: a new one, the old left to the arena */
	{
		unsigned short mem = n->mem;

		if (!(p = mem_alloc(na * esz, &mem, MEM_ARRAY)))
			return NULL;
		if (n->n)
			memcpy(p, old, n->n * esz);
		if (!(n->mem & MEM_ARRAY))
			free(old);
		n->mem = mem;
	}
	return p;
}

/* A copy of s for node n's tag, in n's own kind of memory. */
static char *tag_dup(const struct yn_node *n, const char *s)
{
	size_t l = strlen(s) + 1;
	char *p;

	if (!(n->mem & MEM_NODE))
		return strdup(s);
	if ((p = arena_now ? arena_alloc(arena_now, l) : NULL))
		memcpy(p, s, l);
	return p;
}

void yn_free(struct yn_node *n)
{
	if (!n)
		return;
	if (n->kind == YN_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			yn_free(n->items[i]);
	} else if (n->kind == YN_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			yn_free(n->pairs[i].key);
			yn_free(n->pairs[i].value);
		}
	}
	if (!(n->mem & MEM_ARRAY))
		free(n->items); /* or pairs: the same pointer */
	if (n->mem & MEM_NODE)
		return;
	if (n->str != (char *)(n + 1)) /* a scalar's text lives in the node's own block */
		free(n->str);
	free(n->tag);
	free(n);
}

static struct yn_node *node_new(enum yn_kind kind, unsigned line, unsigned col)
{
	unsigned short mem = 0;
	struct yn_node *n = mem_alloc(sizeof(*n), &mem, MEM_NODE);

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->mem = mem;
	n->kind = kind;
	n->line = line;
	n->col = col;
	n->weight = 1;
	return n;
}

/* A scalar node with room for len bytes of text and a NUL in the same allocation (one malloc
 * a scalar instead of two: most of a document's nodes are scalars). str is filled by the
 * caller, str[len] is already NUL. */
static struct yn_node *scalar_new(const char *s, size_t len, unsigned line, unsigned col)
{
	struct yn_node *n;
	unsigned short mem = 0;

	if (len > SIZE_MAX - sizeof(*n) - 1 || !(n = mem_alloc(sizeof(*n) + len + 1, &mem, MEM_NODE)))
		return NULL;
	memset(n, 0, sizeof(*n));
	n->mem = mem;
	n->kind = YN_SCALAR;
	n->line = line;
	n->col = col;
	n->weight = 1;
	n->len = len;
	n->str = (char *)(n + 1);
	memcpy(n->str, s, len);
	n->str[len] = '\0';
	return n;
}

struct yn_node *yn_new_scalar(const char *s, unsigned line, unsigned col)
{
	return scalar_new(s, strlen(s), line, col);
}

struct yn_node *yn_new_map(unsigned line, unsigned col)
{
	return node_new(YN_MAP, line, col);
}

struct yn_node *yn_new_seq(unsigned line, unsigned col)
{
	return node_new(YN_SEQ, line, col);
}

static int grow(struct yn_node *n)
{
	size_t na;

	if (n->n < n->alloc)
		return 0;
	na = n->alloc ? n->alloc * 2 : 4;
	if (n->kind == YN_MAP) {
		struct yn_pair *p = array_resize(n, n->pairs, sizeof(*p), na);

		if (!p)
			return -1;
		n->pairs = p;
	} else {
		struct yn_node **p = array_resize(n, n->items, sizeof(*p), na);

		if (!p)
			return -1;
		n->items = p;
	}
	n->alloc = na;
	return 0;
}

int yn_seq_push(struct yn_node *seq, struct yn_node *item)
{
	if (!seq || seq->kind != YN_SEQ || !item || grow(seq) < 0) {
		yn_free(item);
		return -1;
	}
	seq->items[seq->n++] = item;
	seq->weight += item->weight;
	return 0;
}

static int map_add(struct yn_node *map, struct yn_node *key, struct yn_node *value)
{
	if (grow(map) < 0)
		return -1;
	map->pairs[map->n].key = key;
	map->pairs[map->n].value = value;
	map->n++;
	map->weight += key->weight + value->weight;
	return 0;
}

int yn_map_set(struct yn_node *map, const char *key, struct yn_node *value)
{
	struct yn_pair *p = yn_get_pair(map, key);
	struct yn_node *k;

	if (!map || map->kind != YN_MAP || !value) {
		yn_free(value);
		return -1;
	}
	if (p) {
		map->weight -= p->value->weight;
		yn_free(p->value);
		p->value = value;
		map->weight += value->weight;
		return 0;
	}
	k = yn_new_scalar(key, value->line, value->col);
	if (!k || map_add(map, k, value) < 0) {
		yn_free(k);
		yn_free(value);
		return -1;
	}
	return 0;
}

struct yn_node *yn_copy(const struct yn_node *n)
{
	struct yn_node *c;

	if (!n)
		return NULL;
	c = n->kind == YN_SCALAR ? scalar_new(n->str, n->len, n->line, n->col)
				 : node_new(n->kind, n->line, n->col);
	if (!c)
		return NULL;
	c->style = n->style;
	if (n->tag && !(c->tag = tag_dup(c, n->tag)))
		goto fail;
	if (n->kind == YN_SCALAR)
		return c;
	for (size_t i = 0; i < n->n; i++) {
		if (n->kind == YN_SEQ) {
			if (yn_seq_push(c, yn_copy(n->items[i])) < 0)
				goto fail;
		} else {
			struct yn_node *k = yn_copy(n->pairs[i].key),
				       *v = yn_copy(n->pairs[i].value);

			if (!k || !v || map_add(c, k, v) < 0) {
				yn_free(k);
				yn_free(v);
				goto fail;
			}
		}
	}
	return c;
fail:
	yn_free(c);
	return NULL;
}

static unsigned height(const struct yn_node *n)
{
	unsigned h = 0, c;

	/* recursion bounded by max_depth: only called on trees the loader built */
	if (n->kind == YN_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if ((c = height(n->items[i])) > h)
				h = c;
	} else if (n->kind == YN_MAP) {
		for (size_t i = 0; i < n->n; i++)
			if ((c = height(n->pairs[i].value)) > h)
				h = c;
	} else {
		return 0;
	}
	return h + 1;
}

static int key_eq(const struct yn_node *k, const char *s, size_t len)
{
	/* the first byte tells most keys apart without a call to memcmp */
	return k->len == len && (!len || k->str[0] == s[0]) && !memcmp(k->str, s, len);
}

struct yn_pair *yn_get_pair(const struct yn_node *map, const char *key)
{
	size_t len;

	if (!map || map->kind != YN_MAP || !key)
		return NULL;
	len = strlen(key);
	for (size_t i = 0; i < map->n; i++)
		if (key_eq(map->pairs[i].key, key, len))
			return &map->pairs[i];
	return NULL;
}

struct yn_node *yn_get(const struct yn_node *map, const char *key)
{
	struct yn_pair *p = yn_get_pair(map, key);

	return p ? p->value : NULL;
}

struct yn_node *yn_at(const struct yn_node *seq, size_t i)
{
	if (!seq || seq->kind != YN_SEQ || i >= seq->n)
		return NULL;
	return seq->items[i];
}

struct yn_node *yn_path(const struct yn_node *root, const char *dotted)
{
	const struct yn_node *n = root;
	char part[128];

	while (n && *dotted) {
		const char *dot = strchr(dotted, '.');
		size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);

		if (l >= sizeof(part))
			return NULL;
		memcpy(part, dotted, l);
		part[l] = '\0';
		n = yn_get(n, part);
		dotted += l + (dot != NULL);
	}
	return (struct yn_node *)n;
}

static int plain(const struct yn_node *n)
{
	return n && n->kind == YN_SCALAR && n->style == YN_PLAIN && !n->tag;
}

int yn_is_null(const struct yn_node *n)
{
	if (n && n->kind == YN_SCALAR && n->tag && !strcmp(n->tag, "tag:yaml.org,2002:null"))
		return 1;
	return plain(n) && (!n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
			    !strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

int yn_bool(const struct yn_node *n, int *out)
{
	if (!plain(n))
		return -1;
	if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE"))
		*out = 1;
	else if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "FALSE"))
		*out = 0;
	else
		return -1;
	return 0;
}

int yn_int64(const struct yn_node *n, int64_t min, int64_t max, int64_t *out)
{
	const char *p;
	int neg = 0;
	uint64_t v = 0, lim;

	if (!plain(n) || !n->len || n->len != strlen(n->str))
		return -1;
	p = n->str;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!*p)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (lim - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	{
		int64_t s =
			neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;

		if (s < min || s > max)
			return -1;
		*out = s;
	}
	return 0;
}

int yn_is_text(const struct yn_node *n)
{
	return n && n->kind == YN_SCALAR && strlen(n->str) == n->len;
}

const char *yn_kind_name(const struct yn_node *n)
{
	int b;
	int64_t i;

	if (!n)
		return "nothing";
	if (n->kind == YN_MAP)
		return "map";
	if (n->kind == YN_SEQ)
		return "list";
	if (yn_is_null(n))
		return "null";
	if (yn_bool(n, &b) == 0)
		return "boolean";
	if (yn_int64(n, INT64_MIN, INT64_MAX, &i) == 0)
		return "number";
	return "string";
}

/* ---- loader ---- */

static void pos_of_offset(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int count_node(struct loader *ld, size_t w, unsigned line, unsigned col)
{
	if (ld->nodes + w > ld->lim.max_nodes || ld->nodes + w < ld->nodes) {
		set_err(ld->err, line, col,
			"document too large: more than %zu nodes (alias expansion included)",
			ld->lim.max_nodes);
		return -1;
	}
	ld->nodes += w;
	return 0;
}

static int oom(struct loader *ld, unsigned line, unsigned col)
{
	set_err(ld->err, line, col, "out of memory");
	return -1;
}

static int add_anchor(struct loader *ld, char *name, struct yn_node *n)
{
	if (ld->nanchors >= YN_MAX_ANCHORS) {
		free(name);
		set_err(ld->err, n->line, n->col, "too many anchors (limit %d)", YN_MAX_ANCHORS);
		return -1;
	}
	if (!(ld->nanchors & (ld->nanchors + 1)) || !ld->anchors) {
		size_t na = (ld->nanchors + 1) * 2;
		struct anchor *a = realloc(ld->anchors, na * sizeof(*a));

		if (!a) {
			free(name);
			return oom(ld, n->line, n->col);
		}
		ld->anchors = a;
	}
	ld->anchors[ld->nanchors].name = name;
	ld->anchors[ld->nanchors].node = n;
	ld->nanchors++;
	return 0;
}

static int is_merge_key(const struct yn_node *k)
{
	return k->style == YN_PLAIN && !k->tag && !strcmp(k->str, "<<");
}

/* Gives node to the collection on top of the stack (or makes it the root). Takes ownership. */
static int attach(struct loader *ld, struct yn_node *node)
{
	struct frame *f;

	if (!ld->depth) {
		if (ld->root) {
			set_err(ld->err, node->line, node->col, "more than one root node");
			yn_free(node);
			return -1;
		}
		ld->root = node;
		return 0;
	}
	f = &ld->stack[ld->depth - 1];
	if (f->node->kind == YN_SEQ) {
		if (yn_seq_push(f->node, node) < 0)
			return oom(ld, 0, 0);
		return 0;
	}
	if (!f->key) {
		if (node->kind != YN_SCALAR) {
			set_err(ld->err, node->line, node->col,
				"a key must be a plain value, not a %s",
				node->kind == YN_MAP ? "map" : "list");
			yn_free(node);
			return -1;
		}
		f->key = node;
		return 0;
	}
	if (is_merge_key(f->key) && !ld->lim.no_merge) {
		struct yn_node **m;
		/* a map, or a non-empty list whose every item is a map */
		int ok = node->kind == YN_MAP || (node->kind == YN_SEQ && node->n > 0);

		for (size_t i = 0; node->kind == YN_SEQ && i < node->n; i++)
			if (node->items[i]->kind != YN_MAP)
				ok = 0;
		if (!ok) {
			set_err(ld->err, node->line, node->col,
				"the value of a '<<' merge key must be a map or a list of maps");
			yn_free(node);
			return -1;
		}
		m = realloc(f->merges, (f->nmerges + 1) * sizeof(*m));
		if (!m) {
			yn_free(node);
			return oom(ld, 0, 0);
		}
		f->merges = m;
		f->merges[f->nmerges++] = node;
		/* the "<<" key may carry an anchor ("&k <<: …") that a later alias copies: it
		 * lives until the load ends, like the merge sources */
		if (yn_seq_push(ld->grave, f->key) < 0) {
			yn_free(f->key);
			f->key = NULL;
			return oom(ld, 0, 0);
		}
		f->key = NULL;
		return 0;
	}
	if (is_merge_key(f->key)) {
		set_err(ld->err, f->key->line, f->key->col,
			"'<<' merge keys are not supported here");
		yn_free(node);
		return -1;
	}
	if (map_add(f->node, f->key, node) < 0) {
		yn_free(node);
		return oom(ld, 0, 0);
	}
	f->key = NULL;
	return 0;
}

struct cand {
	struct yn_pair p;
	size_t prio, idx; /* prio 0: explicit key; k: from the k-th merged map */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	size_t l = x->p.key->len < y->p.key->len ? x->p.key->len : y->p.key->len;
	int c = memcmp(x->p.key->str, y->p.key->str, l);

	if (c)
		return c;
	if (x->p.key->len != y->p.key->len)
		return x->p.key->len < y->p.key->len ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int order_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void add_cands(struct cand *c, size_t *nc, struct yn_node *m, size_t prio)
{
	for (size_t i = 0; i < m->n; i++) {
		c[*nc].p = m->pairs[i];
		c[*nc].prio = prio;
		c[*nc].idx = i;
		(*nc)++;
	}
}

/* Checks duplicate keys and applies merges in O(n log n): a hostile map with many keys must not
 * cost quadratic time. Merged pairs are copied (merge sources stay intact: an anchor may still
 * name them). */
static int finish_map(struct loader *ld, struct frame *f)
{
	struct yn_node *map = f->node;
	size_t total = map->n, nc = 0, prio = 1, keep = 0;
	struct cand *c;
	int rc = 0;

	/* most maps are small and merge nothing: comparing every pair is cheaper than sorting, and
	 * when it finds a duplicate the sort below says which one, as for any map */
	if (!f->nmerges && map->n <= 16) {
		int dup = 0;

		for (size_t i = 1; i < map->n && !dup; i++)
			for (size_t j = 0; j < i && !dup; j++)
				dup = key_eq(map->pairs[j].key, map->pairs[i].key->str,
					     map->pairs[i].key->len);
		if (!dup)
			return 0;
	}
	for (size_t i = 0; i < f->nmerges; i++) {
		if (f->merges[i]->kind == YN_MAP)
			total += f->merges[i]->n;
		else
			for (size_t j = 0; j < f->merges[i]->n; j++)
				total += f->merges[i]->items[j]->n;
	}
	if (!total)
		return 0;
	c = calloc(total, sizeof(*c));
	if (!c)
		return oom(ld, map->line, map->col);
	add_cands(c, &nc, map, 0);
	for (size_t i = 0; i < f->nmerges; i++) {
		if (f->merges[i]->kind == YN_MAP)
			add_cands(c, &nc, f->merges[i], prio++);
		else
			for (size_t j = 0; j < f->merges[i]->n; j++)
				add_cands(c, &nc, f->merges[i]->items[j], prio++);
	}
	map->n = 0; /* its pairs now live in c */
	map->weight = 1;
	qsort(c, nc, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < nc; i++) {
		const struct yn_node *pk = keep ? c[keep - 1].p.key : NULL, *k = c[i].p.key;
		int dup = pk && pk->len == k->len && !memcmp(pk->str, k->str, k->len);

		if (dup && c[i].prio == 0) {
			/* both explicit: the sort put explicit keys first in their group */
			if (!rc)
				set_err(ld->err, k->line, k->col,
					"duplicate key '%.100s' (first at line %u, column %u)",
					k->str, pk->line, pk->col);
			rc = -1;
			yn_free(c[i].p.key);
			yn_free(c[i].p.value);
		} else if (!dup) {
			c[keep++] = c[i];
		}
	}
	qsort(c, keep, sizeof(*c), order_cmp);
	for (size_t i = 0; i < keep; i++) {
		struct yn_pair p = c[i].p;

		if (c[i].prio) {
			if (!rc && count_node(ld, p.key->weight + p.value->weight, p.key->line,
					      p.key->col) < 0)
				rc = -1;
			if (rc)
				continue;
			p.key = yn_copy(c[i].p.key);
			p.value = yn_copy(c[i].p.value);
			if (!p.key || !p.value) {
				yn_free(p.key);
				yn_free(p.value);
				rc = oom(ld, map->line, map->col);
				continue;
			}
		}
		if (map_add(map, p.key, p.value) < 0) {
			/* cannot happen: finish_collection reserved room */
			if (c[i].prio) {
				yn_free(p.key);
				yn_free(p.value);
			}
			rc = oom(ld, map->line, map->col);
		}
	}
	free(c);
	return rc;
}

static int finish_collection(struct loader *ld)
{
	struct frame f = ld->stack[--ld->depth];
	int rc = 0;

	if (f.node->kind == YN_MAP) {
		size_t total = f.node->n;

		for (size_t i = 0; i < f.nmerges; i++)
			total += f.merges[i]->weight;
		/* reserve so finish_map's map_add cannot fail */
		if (total > f.node->alloc) {
			struct yn_pair *p = array_resize(f.node, f.node->pairs, sizeof(*p), total);

			if (!p)
				rc = oom(ld, f.node->line, f.node->col);
			else {
				f.node->pairs = p;
				f.node->alloc = total;
			}
		}
		if (!rc)
			rc = finish_map(ld, &f);
		yn_free(f.key);
	}
	/* merge sources stay alive until the load ends: anchors may point into them */
	for (size_t i = 0; i < f.nmerges; i++)
		if (yn_seq_push(ld->grave, f.merges[i]) < 0 && !rc)
			rc = oom(ld, 0, 0);
	free(f.merges);
	if (rc) {
		free(f.anchor);
		yn_free(f.node);
		return -1;
	}
	if (f.anchor && add_anchor(ld, f.anchor, f.node) < 0) {
		yn_free(f.node);
		return -1;
	}
	return attach(ld, f.node);
}

static enum yn_style style_of(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		return YN_SINGLE_QUOTED;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		return YN_DOUBLE_QUOTED;
	case YAML_LITERAL_SCALAR_STYLE:
		return YN_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE:
		return YN_FOLDED;
	default:
		return YN_PLAIN;
	}
}

static int on_scalar(struct loader *ld, yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1,
		 col = (unsigned)ev->start_mark.column + 1;
	struct yn_node *n;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (count_node(ld, 1, line, col) < 0)
		return -1;
	n = scalar_new((const char *)ev->data.scalar.value, ev->data.scalar.length, line, col);
	if (!n)
		return oom(ld, line, col);
	n->style = style_of(ev->data.scalar.style);
	/* "!" alone only forces a plain scalar to be a string */
	if (tag && !strcmp(tag, "!"))
		tag = "tag:yaml.org,2002:str";
	if (tag && !(n->tag = tag_dup(n, tag))) {
		yn_free(n);
		return oom(ld, line, col);
	}
	if (ev->data.scalar.anchor) {
		char *a = strdup((const char *)ev->data.scalar.anchor);

		if (!a || add_anchor(ld, a, n) < 0) {
			yn_free(n);
			return a ? -1 : oom(ld, line, col);
		}
	}
	return attach(ld, n);
}

static int on_start(struct loader *ld, yaml_event_t *ev, enum yn_kind kind)
{
	unsigned line = (unsigned)ev->start_mark.line + 1,
		 col = (unsigned)ev->start_mark.column + 1;
	const yaml_char_t *anchor =
		kind == YN_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	const yaml_char_t *tag =
		kind == YN_MAP ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	struct frame *f;

	if (ld->depth >= ld->lim.max_depth) {
		set_err(ld->err, line, col, "nesting deeper than %zu levels", ld->lim.max_depth);
		return -1;
	}
	if (count_node(ld, 1, line, col) < 0)
		return -1;
	f = &ld->stack[ld->depth];
	memset(f, 0, sizeof(*f));
	f->node = node_new(kind, line, col);
	if (!f->node)
		return oom(ld, line, col);
	if (tag && !(f->node->tag = tag_dup(f->node, (const char *)tag))) {
		yn_free(f->node);
		return oom(ld, line, col);
	}
	if (anchor && !(f->anchor = strdup((const char *)anchor))) {
		yn_free(f->node);
		return oom(ld, line, col);
	}
	ld->depth++;
	return 0;
}

/* Bytes of every scalar (keys included) in n's subtree. */
static size_t subtree_bytes(const struct yn_node *n)
{
	size_t b = 0;

	if (n->kind == YN_SCALAR)
		return n->len;
	for (size_t i = 0; i < n->n; i++) {
		if (n->kind == YN_SEQ) {
			b += subtree_bytes(n->items[i]);
		} else {
			b += n->pairs[i].key->len;
			b += subtree_bytes(n->pairs[i].value);
		}
	}
	return b;
}

static int on_alias(struct loader *ld, yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1,
		 col = (unsigned)ev->start_mark.column + 1;
	const char *name = (const char *)ev->data.alias.anchor;
	struct yn_node *src = NULL, *c;

	for (size_t i = ld->nanchors; i-- > 0;)
		if (!strcmp(ld->anchors[i].name, name)) {
			src = ld->anchors[i].node;
			break;
		}
	if (!src) {
		set_err(ld->err, line, col, "undefined alias '%.100s'", name);
		return -1;
	}
	if (count_node(ld, src->weight, line, col) < 0)
		return -1;
	/* a few nodes can still hold many bytes: 4000 aliases of a 64 KiB string are 256 MiB */
	{
		size_t b = subtree_bytes(src);

		if (b > ld->lim.max_bytes - ld->copied) {
			set_err(ld->err, line, col,
				"document too large: aliases expand to more than %zu bytes",
				ld->lim.max_bytes);
			return -1;
		}
		ld->copied += b;
	}
	if (src->kind != YN_SCALAR && ld->depth + height(src) > ld->lim.max_depth) {
		set_err(ld->err, line, col,
			"nesting deeper than %zu levels (through alias '%.100s')",
			ld->lim.max_depth, name);
		return -1;
	}
	c = yn_copy(src);
	if (!c)
		return oom(ld, line, col);
	c->line = line;
	c->col = col;
	return attach(ld, c);
}

static void set_libyaml_err(struct loader *ld, yaml_parser_t *p)
{
	unsigned line, col;

	if (p->error == YAML_READER_ERROR) {
		pos_of_offset(ld->buf, ld->len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			set_err(ld->err, line, col, "invalid input: %s (byte 0x%02x)", p->problem,
				(unsigned)p->problem_value & 0xff);
		else
			set_err(ld->err, line, col, "invalid input: %s", p->problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		set_err(ld->err, 0, 0, "out of memory");
		return;
	}
	line = (unsigned)p->problem_mark.line + 1;
	col = (unsigned)p->problem_mark.column + 1;
	if (p->context)
		set_err(ld->err, line, col, "malformed YAML: %s %s",
			p->problem ? p->problem : "error", p->context);
	else
		set_err(ld->err, line, col, "malformed YAML: %s",
			p->problem ? p->problem : "error");
}

int yn_load_buffer(const char *buf, size_t len, const struct yn_limits *limits,
		   struct yn_node **root, struct yn_error *err)
{
	struct loader ld;
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, rc = -1;

	memset(&ld, 0, sizeof(ld));
	if (limits)
		ld.lim = *limits;
	if (!ld.lim.max_depth)
		ld.lim.max_depth = YN_DEF_DEPTH;
	if (!ld.lim.max_nodes)
		ld.lim.max_nodes = YN_DEF_NODES;
	if (!ld.lim.max_bytes)
		ld.lim.max_bytes = YN_DEF_BYTES;
	ld.buf = buf;
	ld.len = len;
	ld.err = err;
	if (err)
		memset(err, 0, sizeof(*err));
	*root = NULL;
	if (len > ld.lim.max_bytes) {
		set_err(err, 0, 0, "input too large: %zu bytes (limit %zu)", len, ld.lim.max_bytes);
		return -1;
	}
	ld.stack = calloc(ld.lim.max_depth + 1, sizeof(*ld.stack));
	ld.grave = yn_new_seq(0, 0);
	if (!ld.stack || !ld.grave) {
		free(ld.stack);
		yn_free(ld.grave);
		set_err(err, 0, 0, "out of memory");
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(ld.stack);
		yn_free(ld.grave);
		set_err(err, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		int r = 0;

		if (!yaml_parser_parse(&parser, &ev)) {
			set_libyaml_err(&ld, &parser);
			goto out;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ld.docs > 1) {
				set_err(err, (unsigned)ev.start_mark.line + 1,
					(unsigned)ev.start_mark.column + 1,
					"more than one YAML document in the input");
				r = -1;
			}
			break;
		case YAML_SCALAR_EVENT:
			r = on_scalar(&ld, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			r = on_start(&ld, &ev, YN_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			r = on_start(&ld, &ev, YN_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			r = ld.depth ? finish_collection(&ld) : -1;
			break;
		case YAML_ALIAS_EVENT:
			r = on_alias(&ld, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
	*root = ld.root;
	ld.root = NULL;
	rc = 0;
out:
	while (ld.depth) {
		struct frame *f = &ld.stack[--ld.depth];

		yn_free(f->node);
		yn_free(f->key);
		for (size_t i = 0; i < f->nmerges; i++)
			yn_free(f->merges[i]);
		free(f->merges);
		free(f->anchor);
	}
	yn_free(ld.root);
	yn_free(ld.grave);
	for (size_t i = 0; i < ld.nanchors; i++)
		free(ld.anchors[i].name);
	free(ld.anchors);
	free(ld.stack);
	yaml_parser_delete(&parser);
	return rc;
}

int yn_load_file(const char *path, const struct yn_limits *limits, struct yn_node **root,
		 struct yn_error *err)
{
	size_t cap = limits && limits->max_bytes ? limits->max_bytes : YN_DEF_BYTES;
	size_t len = 0, alloc = 0;
	char *buf = NULL;
	FILE *fp;
	int rc;

	*root = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!fp) {
		set_err(err, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		size_t r;

		if (len == alloc) {
			size_t na = alloc ? alloc * 2 : 8192;
			char *p;

			if (alloc > cap) {
				set_err(err, 0, 0, "input too large (limit %zu bytes)", cap);
				goto fail;
			}
			p = realloc(buf, na);
			if (!p) {
				set_err(err, 0, 0, "out of memory");
				goto fail;
			}
			buf = p;
			alloc = na;
		}
		r = fread(buf + len, 1, alloc - len, fp);
		len += r;
		if (r == 0) {
			if (ferror(fp)) {
				set_err(err, 0, 0, "cannot read: %s", strerror(errno));
				goto fail;
			}
			break;
		}
	}
	if (fp != stdin)
		fclose(fp);
	if (len > cap) {
		free(buf);
		set_err(err, 0, 0, "input too large (limit %zu bytes)", cap);
		return -1;
	}
	rc = yn_load_buffer(buf ? buf : "", len, limits, root, err);
	free(buf);
	return rc;
fail:
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return -1;
}
