/* halog upgrade [--db FILE]: brings a store written by an earlier halog to this one's schema
 * (any writer does it too; readers refuse an old store until then). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "opt.h"
#include "store/store.h"

enum { O_DB = 1 };

static const struct opt upgrade_opts[] = {
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the store (default: $HALOG_DB, else ./halog.db)"},
	{0},
};

static const struct opt_cmd upgrade_cmd = {
	.prog = "halog upgrade",
	.opts = upgrade_opts,
	.epilog = "Upgrades a store written by an earlier halog in place, keeping every line and\n"
		  "count (halog listen and ingest do the same when they open it). A store of this\n"
		  "halog's schema is left as it is.\n",
};

int cmd_upgrade(int argc, char **argv)
{
	const char *db = NULL;
	char err[512];
	struct opt_parser p;
	int r;

	opt_init(&p, &upgrade_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		if (r == O_DB)
			db = p.val;
		else if (r == OPT_OPERAND)
			return opt_usage_error(&upgrade_cmd, stderr, "unexpected argument '%s'",
					       p.val);
		else
			return opt_finish(&p, r, stdout, stderr);
	}
	if (!db)
		db = store_default_path();
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
