/* Command-line options from a table. Each subcommand of hagen and halog declares one table of
 * rows (struct opt) and one struct opt_cmd; the same rows drive parsing, the usage line shown
 * after a mistake and --help, so an option cannot exist without its help or the other way round.
 *
 * What every command then accepts, the same way:
 *   --name VALUE, --name=VALUE, -x VALUE, -xVALUE, flags --name / -x, -h / --help;
 *   options anywhere on the line: `halog ingest FILE --db X` (options and operands mixed);
 *   "--" ends the options: what follows is an operand even when it starts with '-' (a file
 *   named "-x"); a lone "-" is an operand (stdin);
 *   one message style: "PROG: unknown option '--dbb' (did you mean '--db'?)",
 *   "PROG: option '--db' needs a value", "PROG: option '--json' takes no value",
 *   "PROG: bad value 'x' for '--batch': expected a whole number from 1 to 1000000", each
 *   followed by the usage line on stderr, exit code 2.
 *
 * Adding an option to a command (the whole job):
 *   1. add an id to the command's enum and a row to its table (designated initializers, so
 *      a row names what it sets), e.g.
 *        {.id = O_BATCH, .long_name = "batch", .type = OPT_INT, .arg = "N", .min = 1,
 *         .max = 10000000, .help = "lines per transaction (default 65536)"},
 *      (typed rows are checked here: OPT_INT fills p.num, OPT_NUM p.dbl, OPT_ENUM p.idx;
 *      OPT_STR leaves p.val for the command to check, reporting with opt_bad_value());
 *   2. add a `case O_BATCH:` to the command's opt_next() loop.
 *   --help, the usage line and "did you mean" follow from the row; the command's page in docs/
 *   (and the README's synopsis) are still written by hand.
 *
 * common/ never prints on its own: the functions that print take the FILE to print on. */
#ifndef COMMON_OPT_H
#define COMMON_OPT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_END = 0, /* ends a table: {0} */
	OPT_FLAG,    /* no value */
	OPT_STR,     /* a non-empty string in p.val, checked by the command */
	OPT_INT,     /* a whole number in [min, max], in p.num */
	OPT_NUM,     /* a decimal number in [min, max], in p.dbl */
	OPT_ENUM,    /* one of values[], its index in p.idx */
	OPT_DOC,     /* not an option: a line of the option list (arg: left column, help: text) */
};

/* Row flags. */
#define OPT_MANY 1u	/* repeatable: shown as "[--bind ADDR]..." in the usage line */
#define OPT_EMPTY_OK 2u /* OPT_STR: an empty value is accepted */
#define OPT_NO_USAGE 4u /* listed in --help but not in the usage line */

struct opt {
	int id;		       /* what opt_next() returns for this option; > 0 */
	char short_name;       /* 'e' for -e; 0 when the option has no short form */
	const char *long_name; /* "env" for --env; NULL when it has no long form */
	enum opt_type type;
	const char *arg;	   /* the value's name in help ("FILE"); NULL for a flag */
	const char *help;	   /* help text; '\n' starts a new line */
	int64_t min, max;	   /* OPT_INT, OPT_NUM: the accepted range, inclusive */
	const char *const *values; /* OPT_ENUM: the accepted words, NULL-terminated */
	unsigned flags;		   /* OPT_MANY, OPT_EMPTY_OK, OPT_NO_USAGE */
};

/* Command flags. */
#define OPT_CMD_WORDS                                                                              \
	1u /* operands may start with '-' (search's "-negation"): a "-word" that is                \
	    * not an option is an operand; "-x" and "--x" unknown stay errors */

struct opt_cmd {
	const char *prog;	/* "halog report": starts every message and the usage line */
	const char *operands;	/* the operands in the usage line, "[FILE...|-]"; NULL: none */
	const char *intro;	/* --help: a paragraph after the usage line, or NULL */
	const struct opt *opts; /* the table, ended by {0} */
	const char *epilog;	/* --help: text after the option list, or NULL */
	unsigned flags;		/* OPT_CMD_WORDS */
};

/* What opt_next() returns besides an option's id. */
enum {
	OPT_DONE = 0,	  /* no more arguments */
	OPT_OPERAND = -1, /* an operand, in p.val */
	OPT_HELP = -2,	  /* -h or --help: print opt_help() on stdout, exit 0 */
	OPT_ERROR = -3,	  /* a bad command line: the message is in p.err */
};

struct opt_parser {
	const struct opt_cmd *cmd;
	int argc;
	char **argv;
	int i;		   /* next argv index */
	int operands_only; /* after "--" */
	char **operands;   /* every operand so far, in order: argv + 1, reordered (see opt_next) */
	int noperands;
	/* the result of the last opt_next() */
	const struct opt *opt; /* the option found (NULL for an operand) */
	char name[64];	       /* the option as written, "--db" or "-e", for messages */
	const char *val;       /* its value (borrowed from argv), or the operand */
	int64_t num;	       /* OPT_INT */
	double dbl;	       /* OPT_NUM */
	size_t idx;	       /* OPT_ENUM */
	char err[512];	       /* OPT_ERROR: what is wrong, without the PROG prefix */
};

/* Starts parsing argv[1..argc-1] (argv[0] is the command's name) against cmd. */
void opt_init(struct opt_parser *p, const struct opt_cmd *cmd, int argc, char **argv);

/* The next option or operand, in command-line order. Returns the option's id (p.opt, p.name,
 * p.val and the typed value set), OPT_OPERAND (p.val), OPT_HELP, OPT_ERROR (p.err) or
 * OPT_DONE. Operands are also gathered at the front of argv, as getopt does: after OPT_DONE,
 * p.operands[0 .. p.noperands-1] are the operands in order (argv's other slots are reordered
 * too, so read options from p.val, never from argv by index). */
int opt_next(struct opt_parser *p);

/* Ends a command after OPT_HELP or OPT_ERROR: OPT_HELP prints the help on out and returns 0;
 * OPT_ERROR prints "PROG: <p.err>" and the usage line on err and returns 2 (usage error). */
int opt_finish(struct opt_parser *p, int r, FILE *out, FILE *err);

/* For a value the command checks itself (OPT_STR): prints "PROG: bad value 'V' for 'NAME':
 * <fmt…>" and the usage line on err. Returns 2. */
int opt_bad_value(const struct opt_parser *p, FILE *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same for a value checked after parsing (a --log-format compiled later): name is the
 * option as the user knows it ("--log-format"). Returns 2. */
int opt_value_error(const struct opt_cmd *cmd, FILE *err, const char *name, const char *val,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A mistake that is not about one value (a missing operand, two options that exclude each
 * other): prints "PROG: <fmt…>" and the usage line on err. Returns 2. */
int opt_usage_error(const struct opt_cmd *cmd, FILE *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The usage line(s): "usage: PROG [-e ENV] [--target X.Y] ... OPERANDS", wrapped at 80
 * columns; lead replaces "usage: " (e.g. "   or: "). */
void opt_usage(const struct opt_cmd *cmd, FILE *fp, const char *lead);

/* The option list alone: one entry per row, "  -e, --env ENV   help", help aligned. */
void opt_list(const struct opt *opts, FILE *fp);

/* The whole --help: usage line, intro, option list, epilog. */
void opt_help(const struct opt_cmd *cmd, FILE *fp);

#endif
