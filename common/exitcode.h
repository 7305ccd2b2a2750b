/* The exit codes both tools share. STYLE: main picks the code; a layer that runs a whole command
 * (halog's listener) returns one of these for main to pass on. Tool-specific codes (halog's 3,
 * the balance check) start at EXIT_CODE_TOOL. */
#ifndef COMMON_EXITCODE_H
#define COMMON_EXITCODE_H

enum exit_code {
	EXIT_CODE_OK = 0,    /* success */
	EXIT_CODE_ERR = 1,   /* runtime or input error */
	EXIT_CODE_USAGE = 2, /* bad command line */
	EXIT_CODE_TOOL = 3,  /* first code a tool may define for itself */
};

#endif
