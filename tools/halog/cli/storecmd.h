/* Store access shared by the subcommands that keep named things in the store (halog saved,
 * halog alert): opening it with the command's name on errors, and "open, remove, report". */
#ifndef HALOG_CLI_STORECMD_H
#define HALOG_CLI_STORECMD_H

#include "opt.h"
#include "store/store.h"

/* Opens the store at db with store_open's flags (STORE_CREATE, STORE_READONLY; 0: read and
 * write, the file must exist). Returns it (the caller closes it with store_close), or NULL
 * after printing "PROG: why" on stderr. */
struct store *cli_store_open(const char *prog, const char *db, int flags);

/* A removal in the store: 0 removed, 1 no such name, 2 in use (nothing removed), -1 a store
 * error (store_errmsg says which). */
typedef int (*cli_rm_fn)(struct store *st, const char *name);
/* Says on stderr why name is in use (rm returned 2); store_errmsg(st) may name the user. */
typedef void (*cli_in_use_fn)(struct store *st, const char *name);

/* Removes name from the store at db, which must exist (a removal never creates a store), with
 * rm, and reports on stderr: "PROG: no WHAT 'NAME'" when there is none, in_use's words when it
 * is in use (in_use may be NULL when rm never returns 2), the store's error otherwise. Returns
 * HALOG_EXIT_OK when it was removed, else HALOG_EXIT_ERR. */
int cli_store_rm(const char *prog, const char *db, const char *what, const char *name, cli_rm_fn rm,
		 cli_in_use_fn in_use);

/* The option ids of the store's maintenance commands (halog prune, halog upgrade): their tables
 * hold STORE_DB_OPT(CLI_STORE_O_DB) and, for the retention limits,
 * RETENTION_OPTS(CLI_STORE_O_RETAIN, CLI_STORE_O_MAX_SIZE, CLI_STORE_O_RETAIN_ROLLUPS). */
enum { CLI_STORE_O_DB = 1, CLI_STORE_O_RETAIN, CLI_STORE_O_MAX_SIZE, CLI_STORE_O_RETAIN_ROLLUPS };

/* Parses the command line of such a command (cmd, argc, argv): sets *db (store_default_path()
 * when --db is not given) and, for retention options, the limits in *r and their bits in *mask
 * (r and mask may be NULL when cmd's table has no retention rows). Returns -1 when the command
 * goes on, else the exit code to return (after --help, or a usage error said on stderr). */
int cli_store_args(const struct opt_cmd *cmd, int argc, char **argv, const char **db,
		   struct store_retention *r, unsigned *mask);

#endif
