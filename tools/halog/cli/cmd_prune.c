/* halog prune [--db FILE] [--retain DUR] [--max-size SIZE] [--retain-rollups DUR]: sets the
 * store's retention limits (when given) and applies them now, until the store is within them. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "opt.h"
#include "store/store.h"

enum { O_DB = 1, O_RETAIN, O_MAX_SIZE, O_RETAIN_ROLLUPS };

static const struct opt prune_opts[] = {
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the store (default: $HALOG_DB, else ./halog.db)"},
	RETENTION_OPTS(O_RETAIN, O_MAX_SIZE, O_RETAIN_ROLLUPS),
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
	const char *db = NULL;
	struct store_retention r;
	struct store_prune_stats ps;
	unsigned mask = 0, set;
	char err[512], desc[256];
	struct opt_parser p;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&ps, 0, sizeof(ps));
	opt_init(&p, &prune_cmd, argc, argv);
	while ((rc = opt_next(&p)) != OPT_DONE) {
		switch (rc) {
		case O_DB:
			db = p.val;
			break;
		case O_RETAIN:
		case O_MAX_SIZE:
		case O_RETAIN_ROLLUPS:
			if (retention_option(p.name, p.val, &r, &mask, err, sizeof(err)) < 0)
				return opt_bad_value(&p, stderr, "%s", err);
			break;
		case OPT_OPERAND:
			return opt_usage_error(&prune_cmd, stderr, "unexpected argument '%s'",
					       p.val);
		default:
			return opt_finish(&p, rc, stdout, stderr);
		}
	}
	if (!db)
		db = store_default_path();
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
