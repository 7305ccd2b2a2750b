/* `halog clickhouse init|prune|copy URL`: creates halog's tables in a ClickHouse database (the
 * sink of halog listen and halog ingest, and a store the readers accept), drops expired days
 * where the server has no table TTL, copies a SQLite store into ClickHouse. The schema itself
 * is store/chschema.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "clock.h"
#include "opt.h"
#include "store/chhttp.h"
#include "store/chschema.h"
#include "store/chsink.h"
#include "store/read.h"
#include "store/store.h"

enum { O_RETENTION = 1, O_DB };

static const struct opt init_opts[] = {
	{.id = O_RETENTION,
	 .long_name = "retention",
	 .type = OPT_INT,
	 .arg = "DAYS",
	 .min = 0,
	 .max = 36500,
	 .help = "keep this many days, by the lines' logged day (0: keep all;\n"
		 "default: as set before, else all)"},
	{0},
};
static const struct opt no_opts[] = {{0}};
static const struct opt copy_opts[] = {
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the SQLite store to copy (default: $HALOG_DB, else ./halog.db)"},
	{0},
};

static const char ch_epilog[] =
	"URL: clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?user=U&password=P&cluster=C]\n"
	"(or $HALOG_CLICKHOUSE_USER and $HALOG_CLICKHOUSE_PASSWORD). With cluster=C, run init on\n"
	"every shard's server: it creates the local tables and the *_all Distributed tables.\n"
	"See docs/scaling.md.\n";

static const struct opt_cmd init_cmd = {
	"halog clickhouse init", "URL",
	"Creates the database, the lines table (partitioned by day) and the per-minute rollups\n"
	"(materialized views). Running it again changes nothing.\n",
	init_opts, ch_epilog, 0};
static const struct opt_cmd prune_cmd = {
	"halog clickhouse prune", "URL",
	"Drops the days older than the retention given to init (what a TTL does on servers\n"
	"from 19.6 on; halog listen --sink runs it hourly).\n",
	no_opts, ch_epilog, 0};

static const struct opt_cmd copy_cmd = {
	"halog clickhouse copy", "URL",
	"Copies every line of a SQLite store into ClickHouse (the tables of init), raw and\n"
	"parsed, with the times the store gave them. Copying twice stores the lines twice.\n",
	copy_opts, ch_epilog, 0};

static void ch_usage(FILE *fp)
{
	opt_usage(&init_cmd, fp, "usage: ");
	opt_usage(&prune_cmd, fp, "   or: ");
	opt_usage(&copy_cmd, fp, "   or: ");
	fprintf(fp, "\n%s", ch_epilog);
}

/* `copy`: every line of the store at db, oldest first, through the sink. */
static int copy_store(const char *db, const char *url)
{
	struct store_reader *rd;
	struct store_cursor *cur;
	const struct store_line *ln;
	struct store_sel sel;
	struct chsink *sink;
	struct chsink_stats st;
	char err[1024], spool[4200], shown_buf[CH_SHOWN_MAX];
	const char *shown = ch_url_redact(db, shown_buf, sizeof(shown_buf));
	uint64_t n = 0;
	int rc;

	if (!(rd = store_reader_open(db, err, sizeof(err)))) {
		fprintf(stderr, "halog clickhouse copy: %s\n", err);
		return HALOG_EXIT_ERR;
	}
	/* a store read through a URL has no folder of its own: the spool goes where the sink's
	 * does without a SQLite store (halog ingest/listen --db none) */
	snprintf(spool, sizeof(spool), "%s.chspool", ch_is_url(db) ? "halog-sink" : db);
	if (!(sink = chsink_open(url, spool, err, sizeof(err)))) {
		fprintf(stderr, "halog clickhouse copy: %s\n", err);
		store_reader_close(rd);
		return HALOG_EXIT_ERR;
	}
	chsink_set_wait(sink, 1); /* the store waits, as a file does for ingest */
	store_sel_init(&sel);
	sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
	if (!(cur = store_cursor_open(rd, &sel))) {
		rc = -1;
	} else {
		while ((rc = store_cursor_next(cur, &ln)) > 0) {
			chsink_add_line(sink, ln);
			n++;
		}
		store_cursor_close(cur);
	}
	if (rc < 0)
		fprintf(stderr, "halog clickhouse copy: %s: %s\n", shown, store_reader_errmsg(rd));
	chsink_get_stats(sink, &st);
	/* up to 10 minutes for ClickHouse to take the rest; what it does not is spooled */
	chsink_close(sink, 600000, "halog clickhouse copy");
	store_reader_close(rd);
	printf("halog clickhouse copy: %" PRIu64 " lines read from %s\n", n, shown);
	return rc < 0 || st.rows_overflow ? HALOG_EXIT_ERR : HALOG_EXIT_OK;
}

int cmd_clickhouse(int argc, char **argv)
{
	const struct opt_cmd *cmd;
	struct opt_parser p;
	struct ch_url u;
	struct ch_conn *c;
	const char *url = NULL, *db = NULL;
	char err[1024], shown[CH_SHOWN_MAX];
	int retention = -1, r, rc = HALOG_EXIT_ERR;

	if (argc < 2) {
		ch_usage(stderr);
		return HALOG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ch_usage(stdout);
		return HALOG_EXIT_OK;
	}
	if (!strcmp(argv[1], "init"))
		cmd = &init_cmd;
	else if (!strcmp(argv[1], "prune"))
		cmd = &prune_cmd;
	else if (!strcmp(argv[1], "copy"))
		cmd = &copy_cmd;
	else {
		fprintf(stderr, "halog clickhouse: unknown verb '%s' (init, prune, copy)\n", argv[1]);
		ch_usage(stderr);
		return HALOG_EXIT_USAGE;
	}
	opt_init(&p, cmd, argc - 1, argv + 1);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_RETENTION:
			retention = (int)p.num;
			break;
		case O_DB:
			db = p.val;
			break;
		case OPT_OPERAND:
			if (url)
				return opt_usage_error(cmd, stderr, "unexpected argument '%s'", p.val);
			url = p.val;
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!url)
		return opt_usage_error(cmd, stderr, "missing URL");
	if (ch_url_parse(url, &u, err, sizeof(err)) < 0)
		return opt_value_error(cmd, stderr, "URL", ch_url_redact(url, shown, sizeof(shown)),
				       "%s", err);
	if (cmd == &copy_cmd)
		return copy_store(db ? db : store_default_path(), url);
	if (!(c = ch_conn_new(&u))) {
		fprintf(stderr, "%s: out of memory\n", cmd->prog);
		return HALOG_EXIT_ERR;
	}
	if (cmd == &init_cmd) {
		struct strbuf added = STRBUF_INIT;

		if (ch_init(c, retention, &added, err, sizeof(err)) < 0) {
			strbuf_release(&added);
			goto fail;
		}
		if (added.len) /* a table of an older halog: its rows read as they were */
			printf("halog clickhouse: %s: added the columns %s\n", u.text, added.buf);
		strbuf_release(&added);
		printf("halog clickhouse: %s ready (schema %d%s)\n", u.text, CH_SCHEMA_VERSION,
		       u.cluster[0] ? ", cluster tables *_all" : "");
	} else {
		int dropped;

		if (ch_prune(c, clock_wall_ms(), &dropped, err, sizeof(err)) < 0)
			goto fail;
		printf("halog clickhouse: %s: %d partitions dropped\n", u.text, dropped);
	}
	rc = HALOG_EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "%s: %s\n", cmd->prog, err);
out:
	ch_conn_free(c);
	return rc;
}
