/* Recent search and hit-graph results of halog serve; see scache.h. */
#include "serve/scache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One kept result: a search (kind 0) or a hit graph (kind 1, with its bin width). */
struct entry {
	char *key; /* the query text; NULL: a free slot */
	int kind;
	int64_t width;
	uint64_t used;
	struct scache_search s;
	struct scache_hits h;
};

struct scache {
	pthread_mutex_t mu;
	uint64_t clock; /* bumps on every use: the smallest `used` is replaced first */
	struct entry e[2 * SCACHE_ENTRIES];
};

struct scache *scache_new(void)
{
	struct scache *c = calloc(1, sizeof(*c));

	if (c && pthread_mutex_init(&c->mu, NULL)) {
		free(c);
		return NULL;
	}
	return c;
}

void scache_search_release(struct scache_search *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i].json);
	free(s->lines);
	memset(s, 0, sizeof(*s));
}

void scache_hits_release(struct scache_hits *h)
{
	free(h->counts);
	memset(h, 0, sizeof(*h));
}

void scache_free(struct scache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < 2 * SCACHE_ENTRIES; i++) {
		free(c->e[i].key);
		scache_search_release(&c->e[i].s);
		scache_hits_release(&c->e[i].h);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* With c->mu held: the entry of (kind, q, width), or NULL. */
static struct entry *find(struct scache *c, int kind, const char *q, int64_t width)
{
	for (size_t i = 0; i < 2 * SCACHE_ENTRIES; i++) {
		struct entry *e = &c->e[i];

		if (e->key && e->kind == kind && e->width == width && !strcmp(e->key, q))
			return e;
	}
	return NULL;
}

/* With c->mu held: the entry to fill for (kind, q, width): its own, a free one, or the least
 * recently used of its kind; emptied and keyed. NULL when out of memory. */
static struct entry *slot_for(struct scache *c, int kind, const char *q, int64_t width)
{
	struct entry *slot = find(c, kind, q, width);
	size_t base = kind ? SCACHE_ENTRIES : 0;

	if (!slot) {
		char *k = strdup(q);

		if (!k)
			return NULL;
		slot = &c->e[base];
		for (size_t i = base; i < base + SCACHE_ENTRIES; i++)
			if (!c->e[i].key || c->e[i].used < slot->used) {
				slot = &c->e[i];
				if (!slot->key)
					break;
			}
		free(slot->key);
		slot->key = k;
		slot->kind = kind;
		slot->width = width;
	}
	scache_search_release(&slot->s);
	scache_hits_release(&slot->h);
	slot->used = ++c->clock;
	return slot;
}

/* A deep copy of src into dst. Returns 0, or -1 (out of memory: dst is then empty). */
static int search_copy(struct scache_search *dst, const struct scache_search *src)
{
	*dst = *src;
	dst->lines = NULL;
	dst->n = 0;
	if (!src->n)
		return 0;
	if (!(dst->lines = calloc(src->n, sizeof(*dst->lines))))
		return -1;
	for (size_t i = 0; i < src->n; i++) {
		dst->lines[i] = src->lines[i];
		if (!(dst->lines[i].json = malloc(src->lines[i].len + 1))) {
			scache_search_release(dst);
			return -1;
		}
		memcpy(dst->lines[i].json, src->lines[i].json, src->lines[i].len + 1);
		dst->n = i + 1;
	}
	return 0;
}

static int hits_copy(struct scache_hits *dst, const struct scache_hits *src)
{
	*dst = *src;
	dst->counts = malloc((src->n ? src->n : 1) * sizeof(*dst->counts));
	if (!dst->counts) {
		memset(dst, 0, sizeof(*dst));
		return -1;
	}
	memcpy(dst->counts, src->counts, src->n * sizeof(*dst->counts));
	return 0;
}

int scache_search_get(struct scache *c, const char *q, struct scache_search *out)
{
	struct entry *e;
	int found = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->mu);
	if ((e = find(c, 0, q, 0))) {
		e->used = ++c->clock;
		found = search_copy(out, &e->s) == 0;
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}

void scache_search_put(struct scache *c, const char *q, const struct scache_search *s)
{
	struct scache_search copy;
	struct entry *e;

	if (s->n > SCACHE_MAX_LINES || search_copy(&copy, s) < 0)
		return;
	pthread_mutex_lock(&c->mu);
	if ((e = slot_for(c, 0, q, 0))) {
		e->s = copy;
		copy.lines = NULL;
		copy.n = 0;
	}
	pthread_mutex_unlock(&c->mu);
	scache_search_release(&copy);
}

int scache_hits_get(struct scache *c, const char *q, int64_t width, struct scache_hits *out)
{
	struct entry *e;
	int found = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->mu);
	if ((e = find(c, 1, q, width))) {
		e->used = ++c->clock;
		found = hits_copy(out, &e->h) == 0;
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}

void scache_hits_put(struct scache *c, const char *q, const struct scache_hits *h)
{
	struct scache_hits copy;
	struct entry *e;

	if (hits_copy(&copy, h) < 0)
		return;
	pthread_mutex_lock(&c->mu);
	if ((e = slot_for(c, 1, q, h->width))) {
		e->h = copy;
		copy.counts = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	scache_hits_release(&copy);
}
