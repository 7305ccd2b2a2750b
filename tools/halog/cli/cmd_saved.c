/* `halog saved add|list|rm`: named queries kept in the store (store/state.h), run with
 * `halog search --saved NAME` and watched by alerts (`halog alert add --saved NAME`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "clock.h"
#include "json.h"
#include "query/query.h"
#include "store/state.h"
#include "store/store.h"
#include "strbuf.h"

static const char saved_usage[] =
	"usage: halog saved add [--db FILE] [--replace] NAME QUERY...\n"
	"       halog saved list [--db FILE] [--json]\n"
	"       halog saved rm [--db FILE] NAME\n"
	"\n"
	"  add       save QUERY (the language of halog search) under NAME; --replace\n"
	"            changes an existing one\n"
	"  list      the saved searches, by name\n"
	"  rm        remove one (refused while an alert watches it)\n"
	"  --db FILE the store (default: $HALOG_DB, else ./halog.db)\n"
	"\n"
	"NAME: 1 to 64 letters, digits, '_', '-' or '.'. Run one with 'halog search --saved "
	"NAME'.\n";

static int usage_error(const char *msg, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;

	text_add_visible(&sb, arg ? arg : "", arg ? strlen(arg) : 0);
	fprintf(stderr, "halog saved: %s%s%s%s\n", msg, arg ? " '" : "", arg ? sb.buf : "",
		arg ? "'" : "");
	strbuf_release(&sb);
	fputs(saved_usage, stderr);
	return HALOG_EXIT_USAGE;
}

static struct store *open_store(const char *db, int write)
{
	char err[512];
	struct store *st = store_open(db, write ? STORE_CREATE : STORE_READONLY, err, sizeof(err));

	if (!st)
		fprintf(stderr, "halog saved: %s\n", err);
	return st;
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
		return usage_error("a query cannot hold a NUL byte", NULL);
	if (!(st = open_store(db, 1)))
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
	struct store *st = open_store(db, 0);
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

static int do_rm(const char *db, const char *name)
{
	struct store *st = open_store(db, 1);
	int rc;

	if (!st)
		return HALOG_EXIT_ERR;
	rc = store_saved_rm(st, name);
	if (rc < 0)
		fprintf(stderr, "halog saved: %s\n", store_errmsg(st));
	else if (rc == 1)
		fprintf(stderr, "halog saved: no saved search '%s'\n", name);
	else if (rc == 2)
		fprintf(stderr,
			"halog saved: alert '%s' watches '%s': remove the alert first "
			"(halog alert rm %s)\n",
			store_errmsg(st), name, store_errmsg(st));
	store_close(st);
	return rc ? HALOG_EXIT_ERR : HALOG_EXIT_OK;
}

int cmd_saved(int argc, char **argv)
{
	const char *db = store_default_path(), *verb, *name = NULL, *why;
	struct strbuf query = STRBUF_INIT;
	int replace = 0, json = 0, only_query = 0, have_query = 0, rc;

	if (argc < 2)
		return usage_error("missing a subcommand: add, list or rm", NULL);
	verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		fputs(saved_usage, stdout);
		return HALOG_EXIT_OK;
	}
	if (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "rm"))
		return usage_error("unknown subcommand", verb);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!only_query && !strcmp(a, "--")) {
			only_query = 1;
		} else if (!only_query && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			fputs(saved_usage, stdout);
			rc = HALOG_EXIT_OK;
			goto out;
		} else if (!only_query && !strcmp(a, "--db")) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				rc = usage_error("--db needs a file name", NULL);
				goto out;
			}
			db = argv[++i];
		} else if (!only_query && !strncmp(a, "--db=", 5)) {
			db = a + 5;
		} else if (!only_query && !strcmp(verb, "add") && !strcmp(a, "--replace")) {
			replace = 1;
		} else if (!only_query && !strcmp(verb, "list") && !strcmp(a, "--json")) {
			json = 1;
		} else if (!only_query && a[0] == '-' && a[1] == '-') {
			rc = usage_error("unknown option", a);
			goto out;
		} else if (!name && strcmp(verb, "list")) {
			name = a;
		} else if (!strcmp(verb, "add")) {
			/* the rest is the query, words joined by spaces as for halog search */
			have_query = 1;
			if ((query.len && strbuf_addch(&query, ' ') < 0) ||
			    strbuf_addstr(&query, a) < 0) {
				fputs("halog saved: out of memory\n", stderr);
				rc = HALOG_EXIT_ERR;
				goto out;
			}
		} else {
			rc = usage_error("unexpected argument", a);
			goto out;
		}
	}
	if (strcmp(verb, "list")) {
		if (!name) {
			rc = usage_error("missing NAME", NULL);
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
	if (!strcmp(verb, "add")) {
		if (!have_query) {
			rc = usage_error("missing QUERY ('' matches every line)", NULL);
			goto out;
		}
		rc = do_add(db, name, &query, replace);
	} else if (!strcmp(verb, "list")) {
		rc = do_list(db, json);
	} else {
		rc = do_rm(db, name);
	}
out:
	strbuf_release(&query);
	return rc;
}
