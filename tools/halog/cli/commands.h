/* Entry points of halog's subcommands: argv[0] is the command name. Each returns the exit code
 * (0 ok, 1 runtime/input error, 2 usage error, 3 balance check failed). */
#ifndef HALOG_COMMANDS_H
#define HALOG_COMMANDS_H

int cmd_listen(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_drive(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_saved(int argc, char **argv);
int cmd_alert(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_clickhouse(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_upgrade(int argc, char **argv);
int cmd_export(int argc, char **argv);

#include "store/store.h"

/* The retention options of the writers (cli/retention.c), as rows of a command's option table:
 * RETENTION_OPTS(O_RETAIN, O_MAX_SIZE, O_RETAIN_ROLLUPS) with the command's three ids. For one
 * of them, retention_option(p.name, p.val, ...) sets the limit in *r and its STORE_RETAIN_* bit
 * in *mask and returns 0, or -1 when the value is bad (what was expected in err, for
 * opt_bad_value). */
/* The --db option row of every command that opens one store (id ID); the value is the path. */
#define STORE_DB_OPT(ID)                                                                           \
	{.id = (ID),                                                                               \
	 .long_name = "db",                                                                        \
	 .type = OPT_STR,                                                                          \
	 .arg = "FILE",                                                                            \
	 .help = "the store (default: $HALOG_DB, else ./halog.db)"}
#define RETENTION_MIN_SIZE (16u << 20)
int retention_option(const char *name, const char *v, struct store_retention *r, unsigned *mask,
		     char *err, size_t errsz);
#define RETENTION_OPTS(RETAIN, MAX_SIZE, RETAIN_ROLLUPS)                                           \
	{.id = (RETAIN),                                                                           \
	 .long_name = "retain",                                                                    \
	 .type = OPT_STR,                                                                          \
	 .arg = "DUR",                                                                             \
	 .help = "remove lines received DUR before the newest one\n"                               \
		 "(7d, 12h; 0: no age limit); kept in the store for\n"                             \
		 "every writer"},                                                                  \
		{.id = (MAX_SIZE),                                                                 \
		 .long_name = "max-size",                                                          \
		 .type = OPT_STR,                                                                  \
		 .arg = "SIZE",                                                                    \
		 .help = "remove the oldest lines while the store holds\n"                         \
			 "more than SIZE (500M, 2G; 0: no limit; default 2G)"},                    \
	{                                                                                          \
		.id = (RETAIN_ROLLUPS), .long_name = "retain-rollups", .type = OPT_STR,            \
		.arg = "DUR",                                                                      \
		.help = "remove per-minute aggregates older than DUR\n(default 366d)"              \
	}

/* The options that bound a follow (halog ingest -f, halog tail -f), as rows of a command's
 * option table: FOLLOW_LIMIT_OPTS(O_TIMEOUT, O_MAX_LINES, MAX, MAX_HELP) with the command's ids,
 * the largest --max-lines it takes and what --max-lines counts. follow_timeout_option(v, &ms)
 * reads --timeout's value: 0, or -1 when it is not a duration (then opt_bad_value with
 * FOLLOW_TIMEOUT_EXPECTED). */
int follow_timeout_option(const char *v, int64_t *ms);
#define FOLLOW_TIMEOUT_EXPECTED "expected a duration, e.g. 30s"
#define FOLLOW_LIMIT_OPTS(TIMEOUT, MAX_LINES, MAX, MAX_HELP)                                       \
	{.id = (TIMEOUT),                                                                          \
	 .long_name = "timeout",                                                                   \
	 .type = OPT_STR,                                                                          \
	 .arg = "DUR",                                                                             \
	 .help = "with -f: stop after DUR (e.g. 30s)"},                                            \
	{                                                                                          \
		.id = (MAX_LINES), .long_name = "max-lines", .type = OPT_INT, .arg = "N",          \
		.min = 1, .max = (MAX), .help = (MAX_HELP)                                         \
	}

#include "exitcode.h"

#define HALOG_EXIT_OK EXIT_CODE_OK
#define HALOG_EXIT_ERR EXIT_CODE_ERR
#define HALOG_EXIT_USAGE EXIT_CODE_USAGE
#define HALOG_EXIT_BALANCE EXIT_CODE_TOOL /* the balance check failed */

#endif
