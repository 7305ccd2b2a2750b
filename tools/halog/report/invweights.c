/* Reads the services of a hagen inventory for halog report's expected balance. hagen validates
 * the inventory fully; here only the keys the balance needs are read, and unknown keys are
 * ignored. */
#include "report/invweights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlnode.h"

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* A deep copy of base with over merged in: maps merge key by key, anything else replaces. */
static struct yn_node *merge(const struct yn_node *base, const struct yn_node *over)
{
	if (!over)
		return base ? yn_copy(base) : NULL;
	if (!base || base->kind != YN_MAP || over->kind != YN_MAP)
		return yn_copy(over);
	struct yn_node *out = yn_copy(base);
	if (!out)
		return NULL;
	for (size_t i = 0; i < over->n; i++) {
		const struct yn_pair *p = &over->pairs[i];
		struct yn_node *m = merge(yn_get(base, p->key->str), p->value);
		if (!m || yn_map_set(out, p->key->str, m)) {
			yn_free(out);
			return NULL;
		}
	}
	return out;
}

static int where(char *err, size_t errsz, const char *path, const struct yn_node *n,
		 const char *msg)
{
	snprintf(err, errsz, "%s:%u:%u: %s", path, n ? n->line : 0, n ? n->col : 0, msg);
	return -1;
}

static int flag(const struct yn_node *map, const char *key)
{
	int b = 0;
	const struct yn_node *n = yn_get(map, key);
	return n && !yn_bool(n, &b) && b;
}

static int add_server(struct invw_backend *be, const char *name, int64_t weight, int backup,
		      int maint, int slot)
{
	struct invw_server *s = realloc(be->servers, (be->n + 1) * sizeof(*s));
	if (!s)
		return -1;
	be->servers = s;
	s += be->n;
	if (!(s->name = xstrdup(name)))
		return -1;
	s->weight = weight;
	s->backup = backup;
	s->maint = maint;
	s->slot = slot;
	be->n++;
	return 0;
}

static int load_service(const char *path, const char *svc, const struct yn_node *def,
			struct invw_backend *be, char *err, size_t errsz)
{
	char name[512];
	snprintf(name, sizeof(name), "be_%s", svc);
	if (!(be->name = xstrdup(name)) || !(be->service = xstrdup(svc)))
		return where(err, errsz, path, def, "out of memory");
	const struct yn_node *servers = yn_get(def, "servers");
	if (servers && servers->kind == YN_SEQ) {
		for (size_t i = 0; i < servers->n; i++) {
			const struct yn_node *s = servers->items[i];
			const struct yn_node *nm = yn_get(s, "name");
			int64_t w = 1;
			if (!nm || nm->kind != YN_SCALAR || !yn_is_text(nm))
				return where(err, errsz, path, s, "server without a name");
			const struct yn_node *wn = yn_get(s, "weight");
			if (wn && yn_int64(wn, 0, 256, &w))
				return where(err, errsz, path, wn, "weight must be 0..256");
			if (flag(s, "drain"))
				w = 0; /* drained: hagen renders weight 0 */
			if (add_server(be, nm->str, w, flag(s, "backup"),
				       flag(s, "disabled") || flag(s, "maintenance"), 0))
				return where(err, errsz, path, s, "out of memory");
		}
	}
	const struct yn_node *dns = yn_path(def, "discovery.dns");
	if (dns) {
		int64_t slots = 5; /* hagen's default */
		const struct yn_node *sn = yn_get(dns, "slots");
		if (sn && yn_int64(sn, 1, 10000, &slots))
			return where(err, errsz, path, sn, "discovery.dns.slots must be 1..10000");
		/* server-template <prefix> <slots> …: HAProxy names the servers <prefix>1..N */
		const struct yn_node *pn = yn_get(dns, "prefix");
		const char *prefix = pn && pn->kind == YN_SCALAR && yn_is_text(pn) ? pn->str : svc;
		int64_t w = 1;
		const struct yn_node *wn = yn_get(dns, "weight");
		if (wn && yn_int64(wn, 0, 256, &w))
			return where(err, errsz, path, wn, "weight must be 0..256");
		be->slots = (int)slots;
		for (int64_t i = 1; i <= slots; i++) {
			snprintf(name, sizeof(name), "%s%lld", prefix, (long long)i);
			if (add_server(be, name, w, 0, 0, (int)i))
				return where(err, errsz, path, dns, "out of memory");
		}
	}
	return 0;
}

int invweights_load(const char *path, const char *env, struct invweights *out, char *err,
		    size_t errsz)
{
	struct yn_node *root = NULL, *services = NULL;
	struct yn_error ye;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (yn_load_file(path, NULL, &root, &ye)) {
		if (ye.line)
			snprintf(err, errsz, "%s:%u:%u: %s", path, ye.line, ye.col, ye.msg);
		else
			snprintf(err, errsz, "%s: %s", path, ye.msg);
		return -1;
	}
	if (!root || root->kind != YN_MAP) {
		where(err, errsz, path, root, "the inventory is not a map");
		goto out;
	}
	const struct yn_node *over = NULL;
	if (env) {
		const struct yn_node *envs = yn_get(root, "environments");
		const struct yn_node *e = yn_get(envs, env);
		if (!e) {
			char msg[300];
			snprintf(msg, sizeof(msg), "unknown environment '%s'", env);
			where(err, errsz, path, envs ? envs : root, msg);
			goto out;
		}
		over = yn_get(e, "services");
	}
	services = merge(yn_get(root, "services"), over);
	if (!services || services->kind != YN_MAP) {
		where(err, errsz, path, root, "no services map");
		goto out;
	}
	out->backends = calloc(services->n ? services->n : 1, sizeof(*out->backends));
	if (!out->backends) {
		where(err, errsz, path, root, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < services->n; i++) {
		out->n++;
		if (load_service(path, services->pairs[i].key->str, services->pairs[i].value,
				 &out->backends[i], err, errsz))
			goto out;
	}
	ret = 0;
out:
	if (ret)
		invweights_release(out);
	yn_free(services);
	yn_free(root);
	return ret;
}

void invweights_release(struct invweights *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct invw_backend *be = &w->backends[i];
		for (size_t j = 0; j < be->n; j++)
			free(be->servers[j].name);
		free(be->servers);
		free(be->name);
		free(be->service);
	}
	free(w->backends);
	memset(w, 0, sizeof(*w));
}

const struct invw_backend *invweights_find(const struct invweights *w, const char *name)
{
	for (size_t i = 0; w && i < w->n; i++)
		if (!strcmp(w->backends[i].name, name))
			return &w->backends[i];
	return NULL;
}
