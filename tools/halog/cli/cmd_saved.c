/* `halog saved add|list|rm`: named queries kept in the store (store/state.h), run with
 * `halog search --saved NAME` and watched by alerts (`halog alert add --saved NAME`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/storecmd.h"
#include "clock.h"
#include "json.h"
#include "opt.h"
#include "query/query.h"
#include "store/state.h"
#include "store/store.h"
#include "strbuf.h"

enum { O_DB = 1, O_REPLACE, O_JSON };

#define ROW_DB STORE_DB_OPT(O_DB)

static const struct opt add_opts[] = {
	ROW_DB,
	{.id = O_REPLACE,
	 .long_name = "replace",
	 .type = OPT_FLAG,
	 .help = "change the query of an existing NAME"},
	{0},
};
static const struct opt list_opts[] = {
	ROW_DB,
	{.id = O_JSON, .long_name = "json", .type = OPT_FLAG, .help = "one JSON object per line"},
	{0},
};
static const struct opt rm_opts[] = {ROW_DB, {0}};

static const char saved_epilog[] =
	"NAME: 1 to 64 letters, digits, '_', '-' or '.'. Run one with 'halog search --saved "
	"NAME'.\n";

/* add takes a query, whose words may start with '-' as in halog search */
static const struct opt_cmd add_cmd = {"halog saved add",
				       "NAME QUERY...",
				       "Saves QUERY (the language of halog search) under NAME.\n",
				       add_opts,
				       saved_epilog,
				       OPT_CMD_WORDS};
static const struct opt_cmd list_cmd = {
	"halog saved list", NULL, "Lists the saved searches, by name.\n", list_opts, NULL, 0};
static const struct opt_cmd rm_cmd = {
	"halog saved rm", "NAME",	"Removes one (refused while an alert watches it).\n",
	rm_opts,	  saved_epilog, 0};
static const struct opt_cmd *const verbs[] = {&add_cmd, &list_cmd, &rm_cmd};

static void saved_usage(FILE *fp)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		opt_usage(verbs[i], fp, i ? "   or: " : "usage: ");
	fprintf(fp, "\n%s", saved_epilog);
}

static int do_add(const char *db, const char *name, const struct strbuf *query, int replace)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *q;
	struct store *st;
	int rc;

	dl.max = 20;
	q = query_parse(query->buf, query->len, &dl);
	if (!q) {
		query_print_errors(&dl, query->buf, query->len, stderr, "halog");
		diag_release(&dl);
		return HALOG_EXIT_USAGE;
	}
	query_free(q);
	diag_release(&dl);
	if (memchr(query->buf, '\0', query->len))
		return opt_usage_error(&add_cmd, stderr, "a query cannot hold a NUL byte");
	if (!(st = cli_store_open("halog saved", db, STORE_CREATE)))
		return HALOG_EXIT_ERR;
	rc = store_saved_put(st, name, query->buf, replace, clock_wall_ms());
	if (rc < 0)
		fprintf(stderr, "halog saved: %s\n", store_errmsg(st));
	else if (rc == 1)
		fprintf(stderr, "halog saved: '%s' exists (--replace changes it)\n", name);
	store_close(st);
	return rc ? HALOG_EXIT_ERR : HALOG_EXIT_OK;
}

static int do_list(const char *db, int json)
{
	struct store_saved *all = NULL;
	struct store *st = cli_store_open("halog saved", db, STORE_READONLY);
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0, w = 4;
	int rc = HALOG_EXIT_OK;

	if (!st)
		return HALOG_EXIT_ERR;
	if (store_saved_list(st, &all, &n)) {
		fprintf(stderr, "halog saved: %s\n", store_errmsg(st));
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(all[i].name) > w)
			w = strlen(all[i].name);
	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&sb);
		if (json) {
			strbuf_addstr(&sb, "{\"name\":");
			json_add_str(&sb, all[i].name, strlen(all[i].name));
			strbuf_addstr(&sb, ",\"query\":");
			json_add_str(&sb, all[i].query, strlen(all[i].query));
			strbuf_addf(&sb, ",\"created_ms\":%lld,\"updated_ms\":%lld}\n",
				    (long long)all[i].created_ms, (long long)all[i].updated_ms);
		} else {
			strbuf_addf(&sb, "%-*s  ", (int)w, all[i].name);
			text_add_visible(&sb, all[i].query, strlen(all[i].query));
			strbuf_addch(&sb, '\n');
		}
		fwrite(sb.buf, 1, sb.len, stdout);
	}
	if (fflush(stdout) == EOF) {
		perror("halog saved: cannot write");
		rc = HALOG_EXIT_ERR;
	}
	strbuf_release(&sb);
	store_saved_free(all, n);
	store_close(st);
	return rc;
}

/* rm's words when an alert watches the saved search (its name is in store_errmsg). */
static void watched(struct store *st, const char *name)
{
	fprintf(stderr,
		"halog saved: alert '%s' watches '%s': remove the alert first "
		"(halog alert rm %s)\n",
		store_errmsg(st), name, store_errmsg(st));
}

int cmd_saved(int argc, char **argv)
{
	const char *db = store_default_path(), *name = NULL, *why;
	const struct opt_cmd *cmd = NULL;
	struct strbuf query = STRBUF_INIT;
	struct opt_parser p;
	int replace = 0, json = 0, have_query = 0, rc = -1, r;

	if (argc < 2) {
		fputs("halog saved: missing a subcommand: add, list or rm\n", stderr);
		saved_usage(stderr);
		return HALOG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		saved_usage(stdout);
		return HALOG_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i]->prog + strlen("halog saved ")))
			cmd = verbs[i];
	if (!cmd) {
		struct strbuf sb = STRBUF_INIT;

		text_add_visible(&sb, argv[1], strlen(argv[1]));
		fprintf(stderr, "halog saved: unknown subcommand '%s'\n", sb.buf);
		strbuf_release(&sb);
		saved_usage(stderr);
		return HALOG_EXIT_USAGE;
	}
	opt_init(&p, cmd, argc - 1, argv + 1);
	while (rc < 0 && (r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_DB:
			db = p.val;
			break;
		case O_REPLACE:
			replace = 1;
			break;
		case O_JSON:
			json = 1;
			break;
		case OPT_OPERAND:
			if (!name && cmd != &list_cmd) {
				name = p.val;
			} else if (cmd == &add_cmd) {
				/* the rest is the query, words joined by spaces as for halog search
				 */
				have_query = 1;
				if ((query.len && strbuf_addch(&query, ' ') < 0) ||
				    strbuf_addstr(&query, p.val) < 0) {
					fputs("halog saved: out of memory\n", stderr);
					rc = HALOG_EXIT_ERR;
				}
			} else {
				rc = opt_usage_error(cmd, stderr, "unexpected argument '%s'",
						     p.val);
			}
			break;
		default:
			rc = opt_finish(&p, r, stdout, stderr);
		}
	}
	if (rc >= 0)
		goto out;
	if (cmd != &list_cmd) {
		if (!name) {
			rc = opt_usage_error(cmd, stderr, "missing NAME");
			goto out;
		}
		if (!state_name_valid(name, &why)) {
			struct strbuf sb = STRBUF_INIT;

			text_add_visible(&sb, name, strlen(name));
			fprintf(stderr, "halog saved: invalid name '%s': %s\n", sb.buf, why);
			strbuf_release(&sb);
			rc = HALOG_EXIT_USAGE;
			goto out;
		}
	}
	if (cmd == &add_cmd) {
		if (!have_query) {
			rc = opt_usage_error(cmd, stderr, "missing QUERY ('' matches every line)");
			goto out;
		}
		rc = do_add(db, name, &query, replace);
	} else if (cmd == &list_cmd) {
		rc = do_list(db, json);
	} else {
		rc = cli_store_rm("halog saved", db, "saved search", name, store_saved_rm, watched);
	}
out:
	strbuf_release(&query);
	return rc;
}
