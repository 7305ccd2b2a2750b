/* The options that bound a follow, shared by halog ingest -f and halog tail -f (commands.h). */
#include "cli/commands.h"
#include "parse.h"

int follow_timeout_option(const char *v, int64_t *ms)
{
	uint64_t x;
	if (parse_duration_ms(v, &x) < 0 || !x || x > INT64_MAX / 2)
		return -1;
	*ms = (int64_t)x;
	return 0;
}
