/* halog upgrade [--db FILE]: brings a store written by an earlier halog to this one's schema
 * (any writer does it too; readers refuse an old store until then). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/storecmd.h"
#include "opt.h"
#include "store/store.h"

static const struct opt upgrade_opts[] = {STORE_DB_OPT(CLI_STORE_O_DB), {0}};

static const struct opt_cmd upgrade_cmd = {
	.prog = "halog upgrade",
	.opts = upgrade_opts,
	.epilog = "Upgrades a store written by an earlier halog in place, keeping every line and\n"
		  "count (halog listen and ingest do the same when they open it). A store of this\n"
		  "halog's schema is left as it is.\n",
};

int cmd_upgrade(int argc, char **argv)
{
	const char *db;
	char err[512];
	int rc = cli_store_args(&upgrade_cmd, argc, argv, &db, NULL, NULL);

	if (rc >= 0)
		return rc;
	struct store *st = store_open(db, STORE_READONLY, err, sizeof(err));
	int before = st ? store_schema_version(st) : 0;
	store_close(st);
	if (!(st = store_open(db, 0, err, sizeof(err)))) {
		fprintf(stderr, "halog upgrade: %s\n", err);
		return HALOG_EXIT_ERR;
	}
	if (before == STORE_SCHEMA_VERSION)
		fprintf(stderr, "halog upgrade: %s: already at schema %d\n", db,
			STORE_SCHEMA_VERSION);
	else
		fprintf(stderr, "halog upgrade: %s: upgraded to schema %d\n", db,
			STORE_SCHEMA_VERSION);
	store_close(st);
	return HALOG_EXIT_OK;
}
