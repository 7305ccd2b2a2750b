/* The retention options writers share (listen, prune): --retain, --max-size, --retain-rollups. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "parse.h"

/* A duration with its unit (a bare number would be ambiguous here). */
static int duration(const char *v, int64_t *ms)
{
	uint64_t x;
	size_t n = v ? strlen(v) : 0;
	if (!n || (v[n - 1] >= '0' && v[n - 1] <= '9') || parse_duration_ms(v, &x) || x > INT64_MAX)
		return -1;
	*ms = (int64_t)x;
	return 0;
}

int retention_option(const char *name, const char *v, struct store_retention *r, unsigned *mask,
		     char *err, size_t errsz)
{
	uint64_t b;
	if (!strcmp(name, "--retain") || !strcmp(name, "--retain-rollups")) {
		int rollups = name[8] == '-';
		int64_t *ms = rollups ? &r->retain_rollups_ms : &r->retain_ms;
		if (v && !strcmp(v, "0")) {
			*ms = 0;
		} else if (duration(v, ms)) {
			snprintf(err, errsz, "expected a duration with its unit (%s), or 0 %s",
				 rollups ? "366d, 90d" : "7d, 12h, 30m",
				 rollups ? "to keep them forever" : "for no age limit");
			return -1;
		}
		*mask |= rollups ? STORE_RETAIN_ROLLUPS : STORE_RETAIN_AGE;
		return 0;
	}
	if (!v || parse_size(v, &b) || b > INT64_MAX || (b && b < RETENTION_MIN_SIZE)) {
		snprintf(err, errsz,
			 "expected a size of at least 16M (500M, 2G, 1T), or 0 for no size limit");
		return -1;
	}
	r->max_size = (int64_t)b;
	*mask |= STORE_RETAIN_SIZE;
	return 0;
}
