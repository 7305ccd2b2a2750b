/* Placeholders for subcommands still being written: weak, so a module that defines the real
 * command replaces it at link time. This file is deleted once every command exists. */
#include <stdio.h>

#include "commands.h"

#define PENDING(fn, name)                                                                  \
	__attribute__((weak)) int fn(int argc, char **argv)                                \
	{                                                                                  \
		(void)argc;                                                                \
		(void)argv;                                                                \
		fprintf(stderr, "halog: '%s' is not available in this build\n", name);     \
		return 1;                                                                  \
	}

PENDING(cmd_listen, "listen")
PENDING(cmd_ingest, "ingest")
PENDING(cmd_report, "report")
PENDING(cmd_tail, "tail")
PENDING(cmd_search, "search")
PENDING(cmd_drive, "drive")
PENDING(cmd_parse, "parse")
