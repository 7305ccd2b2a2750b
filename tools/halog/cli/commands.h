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

#include "exitcode.h"

#define HALOG_EXIT_OK EXIT_CODE_OK
#define HALOG_EXIT_ERR EXIT_CODE_ERR
#define HALOG_EXIT_USAGE EXIT_CODE_USAGE
#define HALOG_EXIT_BALANCE EXIT_CODE_TOOL /* the balance check failed */

#endif
