/* halog prune [--db FILE] [--retain DUR] [--max-size SIZE] [--retain-rollups DUR]: sets the
 * store's retention limits (when given) and applies them now, until the store is within them. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/storecmd.h"
#include "opt.h"
#include "store/store.h"

static const struct opt prune_opts[] = {
	STORE_DB_OPT(CLI_STORE_O_DB),
	RETENTION_OPTS(CLI_STORE_O_RETAIN, CLI_STORE_O_MAX_SIZE, CLI_STORE_O_RETAIN_ROLLUPS),
	{0},
};

static const struct opt_cmd prune_cmd = {
	.prog = "halog prune",
	.opts = prune_opts,
	.epilog = "Sets the limits given (they stay in the store for every writer), then removes\n"
		  "what lies beyond the store's limits now. halog listen and ingest apply them as\n"
		  "they go.\n",
};

int cmd_prune(int argc, char **argv)
{
	const char *db;
	struct store_retention r;
	struct store_prune_stats ps;
	unsigned mask = 0, set;
	char err[512], desc[256];
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&ps, 0, sizeof(ps));
	if ((rc = cli_store_args(&prune_cmd, argc, argv, &db, &r, &mask)) >= 0)
		return rc;
	struct store *st = store_open(db, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "halog prune: %s\n", err);
		return HALOG_EXIT_ERR;
	}
	if ((mask && store_retention_set(st, &r, mask)) || store_retention_get(st, &r, &set)) {
		fprintf(stderr, "halog prune: '%s': %s\n", db, store_errmsg(st));
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	store_retention_describe(&r, set, desc, sizeof(desc));
	fprintf(stderr, "halog prune: keeping %s\n", desc);
	while ((rc = store_prune_step(st, 256, &ps)) > 0)
		;
	if (rc < 0) {
		fprintf(stderr, "halog prune: '%s': %s\n", db, store_errmsg(st));
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	fprintf(stderr,
		"halog prune: removed %lld lines in %lld blocks and %lld aggregate rows; %.1f MiB "
		"in use\n",
		(long long)ps.lines, (long long)ps.blocks, (long long)ps.rollup_rows,
		(double)ps.used_bytes / (1 << 20));
	store_close(st);
	return HALOG_EXIT_OK;
}
