/* The subcommands that live in their own files (main.c holds the table). Each takes argv[0] as
 * its own name and returns the exit status (0 ok, 1 input or runtime error, 2 usage). */
#ifndef HAGEN_COMMANDS_H
#define HAGEN_COMMANDS_H

#include "opt.h"

/* Their option tables, for hagen's usage and --help. */
extern const struct opt_cmd import_cmd, compare_cmd, apply_cmd, server_cmd;

int cmd_import(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_server(int argc, char **argv);

#endif
