/* Store access shared by halog saved and halog alert (cli/storecmd.h). */
#include "cli/storecmd.h"

#include <stdio.h>

#include "cli/commands.h"
#include "store/state.h"

struct store *cli_store_open(const char *prog, const char *db, int flags)
{
	char err[512];
	struct store *st = store_state_open(db, flags, err, sizeof(err));

	if (!st)
		fprintf(stderr, "%s: %s\n", prog, err);
	return st;
}

int cli_store_rm(const char *prog, const char *db, const char *what, const char *name, cli_rm_fn rm,
		 cli_in_use_fn in_use)
{
	struct store *st = cli_store_open(prog, db, 0);
	int rc;

	if (!st)
		return HALOG_EXIT_ERR;
	rc = rm(st, name);
	if (rc < 0 || (rc == 2 && !in_use))
		fprintf(stderr, "%s: %s\n", prog, store_errmsg(st));
	else if (rc == 1)
		fprintf(stderr, "%s: no %s '%s'\n", prog, what, name);
	else if (rc == 2)
		in_use(st, name);
	store_close(st);
	return rc ? HALOG_EXIT_ERR : HALOG_EXIT_OK;
}
