/* libcurl and libmicrohttpd opened with dlopen on first need; see lazylib.h. */
#define LAZYLIB_NO_NAMES /* the table below names the functions, not their slots */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct lazylib_curl_funcs lazylib_curl;
struct lazylib_mhd_funcs lazylib_mhd;

struct func {
	const char *name;
	size_t off; /* of its slot in the library's struct */
};

#define CURL_FUNC(name) { #name, offsetof(struct lazylib_curl_funcs, name) },
static const struct func curl_funcs[] = { LAZYLIB_CURL_FUNCS(CURL_FUNC) };
#define MHD_FUNC(name) { #name, offsetof(struct lazylib_mhd_funcs, name) },
static const struct func mhd_funcs[] = { LAZYLIB_MHD_FUNCS(MHD_FUNC) };

static struct lib {
	const char *name;         /* what dlopen opens */
	void *slots;              /* lazylib_curl or lazylib_mhd */
	size_t size;              /* of *slots */
	const struct func *funcs; /* its table */
	size_t nfuncs;
	int state;                /* 0 not tried, 1 loaded, -1 failed (why says why) */
	char why[512];
} libs[LAZYLIB_COUNT] = {
	[LAZYLIB_CURL] = { "libcurl.so.4", &lazylib_curl, sizeof(lazylib_curl), curl_funcs,
			   sizeof(curl_funcs) / sizeof(curl_funcs[0]), 0, "" },
	[LAZYLIB_MHD] = { "libmicrohttpd.so.12", &lazylib_mhd, sizeof(lazylib_mhd), mhd_funcs,
			  sizeof(mhd_funcs) / sizeof(mhd_funcs[0]), 0, "" },
};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* POSIX makes dlsym's void * convertible to a function pointer; the copy does it without a
 * cast between object and function pointers, which ISO C leaves undefined. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers are not void *");

void lazylib_use(enum lazylib_id id, const char *path)
{
	libs[id].name = path;
}

const char *lazylib_name(enum lazylib_id id)
{
	return libs[id].name;
}

/* dlerror's text, without the file name it starts with when that is the one we show */
static const char *reason(const char *name, const char *e)
{
	size_t n = strlen(name);

	if (!e)
		return "unknown error";
	if (!strncmp(e, name, n) && !strncmp(e + n, ": ", 2))
		return e + n + 2;
	return e;
}

static int load(struct lib *l)
{
	void *h = dlopen(l->name, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(l->why, sizeof(l->why), "%s: %s", l->name, reason(l->name, dlerror()));
		return -1;
	}
	for (size_t i = 0; i < l->nfuncs; i++) {
		void *sym = dlsym(h, l->funcs[i].name);

		if (!sym) {
			snprintf(l->why, sizeof(l->why), "%s: no function %s", l->name,
				 l->funcs[i].name);
			memset(l->slots, 0, l->size);
			dlclose(h);
			return -1;
		}
		memcpy((char *)l->slots + l->funcs[i].off, &sym, sizeof(sym));
	}
	return 0;
}

int lazylib_load(enum lazylib_id id, char *err, size_t errsz)
{
	struct lib *l = &libs[id];
	int rc;

	pthread_mutex_lock(&lock);
	if (!l->state)
		l->state = load(l) ? -1 : 1;
	rc = l->state > 0 ? 0 : -1;
	if (rc)
		snprintf(err, errsz, "%s", l->why);
	pthread_mutex_unlock(&lock);
	return rc;
}

int lazylib_curl_init(char *err, size_t errsz)
{
	char why[512];

	if (lazylib_load(LAZYLIB_CURL, why, sizeof(why)) == -1) {
		snprintf(err, errsz, "needs %s", why);
		return -1;
	}
	if (lazylib_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "cannot initialise libcurl");
		return -1;
	}
	return 0;
}
