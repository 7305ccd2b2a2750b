/* Store access shared by halog saved and halog alert, and the command line of halog prune and
 * halog upgrade (cli/storecmd.h). */
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

int cli_store_args(const struct opt_cmd *cmd, int argc, char **argv, const char **db,
		   struct store_retention *r, unsigned *mask)
{
	struct opt_parser p;
	char err[512];
	int rc;

	*db = NULL;
	opt_init(&p, cmd, argc, argv);
	while ((rc = opt_next(&p)) != OPT_DONE) {
		switch (rc) {
		case CLI_STORE_O_DB:
			*db = p.val;
			break;
		case CLI_STORE_O_RETAIN:
		case CLI_STORE_O_MAX_SIZE:
		case CLI_STORE_O_RETAIN_ROLLUPS:
			if (retention_option(p.name, p.val, r, mask, err, sizeof(err)) < 0)
				return opt_bad_value(&p, stderr, "%s", err);
			break;
		case OPT_OPERAND:
			return opt_usage_error(cmd, stderr, "unexpected argument '%s'", p.val);
		default:
			return opt_finish(&p, rc, stdout, stderr);
		}
	}
	if (!*db)
		*db = store_default_path();
	return -1;
}
