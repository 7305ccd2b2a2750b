/* What halog report needs from a hagen inventory: per service the backend name (be_<service>),
 * its servers with weight, backup and maintenance flags, and dns discovery slots. */
#ifndef HALOG_INVWEIGHTS_H
#define HALOG_INVWEIGHTS_H
#include <stddef.h>
#include <stdint.h>

struct invw_server {
	char *name;	/* owned */
	int64_t weight; /* HAProxy's default is 1; 0 takes no traffic */
	int backup;	/* backup: true */
	int maint;	/* disabled: true or maintenance: true (HAProxy "disabled") */
	int slot;	/* 1..N for a dns discovery slot, 0 for a listed server */
};

struct invw_backend {
	char *name;		     /* "be_<service>", owned */
	char *service;		     /* owned */
	struct invw_server *servers; /* owned */
	size_t n;
	int slots; /* dns discovery slots (0: none) */
};

struct invweights {
	struct invw_backend *backends; /* owned, in inventory order */
	size_t n;
};

/* Reads path (a hagen inventory) with the environment overlay env (environments.<env>, deep-merged
 * over the base; NULL for none). Returns 0, or -1 with "FILE:LINE:COL: message" in err. */
int invweights_load(const char *path, const char *env, struct invweights *out, char *err,
		    size_t errsz);
void invweights_release(struct invweights *w);
/* The backend called name, or NULL. */
const struct invw_backend *invweights_find(const struct invweights *w, const char *name);

#endif
