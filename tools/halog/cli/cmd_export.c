/* halog export [--db FILE] -o OUT [--since WHEN] [--until WHEN] [QUERY...]: the stored lines as
 * plain SQLite tables, one row per line and one per request, for SQL of your own (the store
 * itself keeps lines compressed in blocks, docs/storage.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "clock.h"
#include "opt.h"
#include "parse/timearg.h"
#include "query/query.h"
#include "store/chhttp.h"
#include "store/export.h"
#include "store/read.h"
#include "strbuf.h"

enum { O_DB = 1, O_OUT, O_SINCE, O_UNTIL };

static const struct opt export_opts[] = {
	STORE_DB_OPT(O_DB),
	{.id = O_OUT,
	 .short_name = 'o',
	 .long_name = "output",
	 .type = OPT_STR,
	 .arg = "OUT",
	 .help = "a new SQLite file (an existing one is refused); required"},
	{.id = O_SINCE,
	 .long_name = "since",
	 .type = OPT_STR,
	 .arg = "WHEN",
	 .help = "lines received at or after WHEN (as for halog search)"},
	{.id = O_UNTIL,
	 .long_name = "until",
	 .type = OPT_STR,
	 .arg = "WHEN",
	 .help = "lines received before WHEN"},
	{.type = OPT_DOC,
	 .arg = "QUERY",
	 .help = "only the lines matching it (halog search's language)"},
	{0},
};

static const struct opt_cmd export_cmd = {
	"halog export", "[QUERY...]", NULL, export_opts, "Writes tables " STORE_EXPORT_TABLES ".\n",
	OPT_CMD_WORDS};

int cmd_export(int argc, char **argv)
{
	const char *db = NULL, *out = NULL;
	int64_t since = INT64_MIN, until = INT64_MAX, now = clock_wall_ms(), n = 0;
	struct strbuf qtext = STRBUF_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *q = NULL;
	struct store_reader *rd = NULL;
	struct store_cursor *c = NULL;
	struct store_export *x = NULL;
	struct stat sb;
	char err[512], shown[CH_SHOWN_MAX];
	struct opt_parser p;
	int rc = HALOG_EXIT_ERR, i;

	opt_init(&p, &export_cmd, argc, argv);
	while ((i = opt_next(&p)) != OPT_DONE) {
		switch (i) {
		case O_DB:
			db = p.val;
			break;
		case O_OUT:
			out = p.val;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (timearg_parse(p.val, now, i == O_SINCE ? &since : &until) < 0)
				return opt_bad_value(
					&p, stderr,
					"expected e.g. 10m, 2h, 2026-11-24T06:00:00Z or "
					"@1700000000");
			break;
		case OPT_OPERAND:
			break;
		default:
			return opt_finish(&p, i, stdout, stderr);
		}
	}
	if (!out)
		return opt_usage_error(&export_cmd, stderr, "-o OUT is required");
	for (i = 0; i < p.noperands; i++)
		if ((qtext.len && strbuf_addch(&qtext, ' ')) ||
		    strbuf_addstr(&qtext, p.operands[i]))
			goto oom;
	dl.max = 20;
	if (!(q = query_parse(qtext.buf, qtext.len, &dl))) {
		query_print_errors(&dl, qtext.buf, qtext.len, stderr, "halog");
		rc = HALOG_EXIT_USAGE;
		goto out;
	}
	if (!db)
		db = store_default_path();
	if (stat(out, &sb) == 0 || errno != ENOENT) {
		fprintf(stderr, "halog export: '%s' exists: give a new file\n", out);
		goto out;
	}
	if (!(rd = store_reader_open(db, err, sizeof(err)))) {
		fprintf(stderr, "halog export: %s\n", err);
		goto out;
	}
	if (!(x = store_export_create(out, err, sizeof(err)))) {
		fprintf(stderr, "halog export: %s\n", err);
		goto out;
	}
	struct store_sel sel;
	store_sel_init(&sel);
	sel.query = q;
	sel.since_ms = since;
	sel.until_ms = until;
	sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
	if (!(c = store_cursor_open(rd, &sel))) {
		fprintf(stderr, "halog export: '%s': %s\n",
			ch_url_redact(db, shown, sizeof(shown)), store_reader_errmsg(rd));
		goto out;
	}
	const struct store_line *ln;
	int r;
	while ((r = store_cursor_next(c, &ln)) > 0) {
		if (store_export_line(x, ln, err, sizeof(err))) {
			fprintf(stderr, "halog export: %s\n", err);
			goto out;
		}
		n++;
	}
	if (r < 0) {
		fprintf(stderr, "halog export: '%s': %s\n",
			ch_url_redact(db, shown, sizeof(shown)), store_reader_errmsg(rd));
		goto out;
	}
	if (store_export_commit(x, err, sizeof(err))) {
		fprintf(stderr, "halog export: %s\n", err);
		goto out;
	}
	fprintf(stderr, "halog export: %lld lines into %s\n", (long long)n, out);
	rc = HALOG_EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "halog export: out of memory\n");
out:
	store_cursor_close(c);
	store_reader_close(rd);
	store_export_close(x);
	query_free(q);
	strbuf_release(&qtext);
	diag_release(&dl);
	return rc;
}
