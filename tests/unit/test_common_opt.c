/* Unit tests for common/opt: the option-table parser both tools use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "opt.h"

enum { O_DB = 1, O_ENV, O_N, O_JSON, O_FMT, O_PCT };

static const char *const fmts[] = {"text", "json", "csv", NULL};

static const struct opt rows[] = {
	{.id = O_DB, .long_name = "db", .type = OPT_STR, .arg = "FILE", .help = "the store"},
	{.id = O_ENV,
	 .short_name = 'e',
	 .long_name = "env",
	 .type = OPT_STR,
	 .arg = "ENV",
	 .help = "an overlay\nsecond line"},
	{.id = O_N,
	 .short_name = 'n',
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 0,
	 .max = 100,
	 .help = "how many"},
	{.id = O_JSON, .long_name = "json", .type = OPT_FLAG, .help = "JSON lines"},
	{.id = O_FMT,
	 .long_name = "format",
	 .type = OPT_ENUM,
	 .arg = "F",
	 .values = fmts,
	 .help = "output format"},
	{.id = O_PCT,
	 .long_name = "pct",
	 .type = OPT_NUM,
	 .arg = "PCT",
	 .min = 0,
	 .max = 100,
	 .help = "percentage points",
	 .flags = OPT_MANY},
	{.type = OPT_DOC, .arg = "FILE", .help = "an input"},
	{0},
};

static const struct opt_cmd cmd = {"tool sub", "[FILE...]", NULL, rows, NULL, 0};
static const struct opt_cmd words = {"tool search", "QUERY...", NULL, rows, NULL, OPT_CMD_WORDS};

/* Starts p on a NULL-terminated list of arguments (argv[0] is the command's name), copied to a
 * static argv the parser may reorder. */
static void run(struct opt_parser *p, const struct opt_cmd *c, const char *const *args)
{
	static char *argv[16];
	int argc = 0;

	for (; args[argc]; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	opt_init(p, c, argc, argv);
}

static void test_anywhere(void **state)
{
	const char *argv[] = {"sub",	"a.log", "--db", "x.db",  "b.log", "-eprod",
			      "--json", "-n",	 "7",	 "c.log", NULL};
	struct opt_parser p;

	(void)state;
	run(&p, &cmd, argv);
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_string_equal(p.val, "a.log");
	assert_int_equal(opt_next(&p), O_DB);
	assert_string_equal(p.val, "x.db");
	assert_string_equal(p.name, "--db");
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_int_equal(opt_next(&p), O_ENV);
	assert_string_equal(p.val, "prod");
	assert_string_equal(p.name, "-e");
	assert_int_equal(opt_next(&p), O_JSON);
	assert_int_equal(opt_next(&p), O_N);
	assert_int_equal(p.num, 7);
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_int_equal(opt_next(&p), OPT_DONE);
	assert_int_equal(p.noperands, 3);
	assert_string_equal(p.operands[0], "a.log");
	assert_string_equal(p.operands[1], "b.log");
	assert_string_equal(p.operands[2], "c.log");
}

static void test_equals_and_double_dash(void **state)
{
	const char *argv[] = {"sub", "--db=x=y", "--env=", "-", "--", "-x", "--db", NULL};
	struct opt_parser p;

	(void)state;
	run(&p, &cmd, argv);
	assert_int_equal(opt_next(&p), O_DB);
	assert_string_equal(p.val, "x=y");
	assert_int_equal(opt_next(&p), OPT_ERROR); /* empty value */
	assert_string_equal(p.err, "option '--env' needs a value");
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_string_equal(p.val, "-");
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_string_equal(p.val, "-x");
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_string_equal(p.val, "--db");
	assert_int_equal(opt_next(&p), OPT_DONE);
	assert_int_equal(p.noperands, 3);
}

static void test_errors(void **state)
{
	struct opt_parser p;
	const char *a1[] = {"sub", "--dbb", NULL};
	const char *a2[] = {"sub", "--json=1", NULL};
	const char *a3[] = {"sub", "--db", NULL};
	const char *a4[] = {"sub", "-n", "101", NULL};
	const char *a5[] = {"sub", "--format", "jsn", NULL};
	const char *a6[] = {"sub", "--format", "xml", NULL};
	const char *a7[] = {"sub", "--pct", "1e400", NULL};
	const char *a8[] = {"sub", "-z", NULL};
	const char *a9[] = {"sub", "--db\x1b[2J", NULL};

	(void)state;
	run(&p, &cmd, a1);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err, "unknown option '--dbb' (did you mean '--db'?)");
	run(&p, &cmd, a2);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err, "option '--json' takes no value");
	run(&p, &cmd, a3);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err, "option '--db' needs a value");
	run(&p, &cmd, a4);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err,
			    "bad value '101' for '-n': expected a whole number from 0 to 100");
	run(&p, &cmd, a5);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err, "bad value 'jsn' for '--format' (did you mean 'json'?)");
	run(&p, &cmd, a6);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err,
			    "bad value 'xml' for '--format': expected one of text, json, csv");
	run(&p, &cmd, a7);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	run(&p, &cmd, a8);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(p.err, "unknown option '-z'");
	run(&p, &cmd, a9); /* control bytes never reach the terminal */
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_non_null(strstr(p.err, "\\x1b[2J"));
	assert_null(strchr(p.err, 0x1b));
}

static void test_typed(void **state)
{
	const char *argv[] = {"sub", "--format", "csv", "--pct", "12.5", "-n0", NULL};
	struct opt_parser p;

	(void)state;
	run(&p, &cmd, argv);
	assert_int_equal(opt_next(&p), O_FMT);
	assert_int_equal(p.idx, 2);
	assert_int_equal(opt_next(&p), O_PCT);
	assert_true(p.dbl == 12.5);
	assert_int_equal(opt_next(&p), O_N);
	assert_int_equal(p.num, 0);
	assert_int_equal(opt_next(&p), OPT_DONE);
}

static void test_words(void **state)
{
	const char *argv[] = {"search", "-nginx", "-n20", "-5xx", "status:5xx", NULL};
	const char *bad1[] = {"search", "-q", NULL};
	const char *bad2[] = {"search", "--colour", NULL};
	struct opt_parser p;

	(void)state;
	run(&p, &words, argv);
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_string_equal(p.val, "-nginx");
	assert_int_equal(opt_next(&p), O_N);
	assert_int_equal(p.num, 20);
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_string_equal(p.val, "-5xx");
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_int_equal(opt_next(&p), OPT_DONE);
	assert_int_equal(p.noperands, 3);
	run(&p, &words, bad1);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	run(&p, &words, bad2);
	assert_int_equal(opt_next(&p), OPT_ERROR);
	assert_string_equal(
		p.err, "unknown option '--colour' (use -- before an operand that starts with '-')");
}

static void test_help(void **state)
{
	const char *h1[] = {"sub", "x", "--help", NULL};
	const char *h2[] = {"sub", "-h", NULL};
	const char *h3[] = {"sub", "--", "--help", NULL};
	struct opt_parser p;

	(void)state;
	run(&p, &cmd, h1);
	assert_int_equal(opt_next(&p), OPT_OPERAND);
	assert_int_equal(opt_next(&p), OPT_HELP);
	run(&p, &cmd, h2);
	assert_int_equal(opt_next(&p), OPT_HELP);
	run(&p, &cmd, h3);
	assert_int_equal(opt_next(&p), OPT_OPERAND);
}

static char *capture(void (*fn)(const struct opt_cmd *, FILE *), const struct opt_cmd *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	fn(c, fp);
	fclose(fp);
	return buf;
}

static void usage_plain(const struct opt_cmd *c, FILE *fp)
{
	opt_usage(c, fp, NULL);
}

static void test_printing(void **state)
{
	char *u = capture(usage_plain, &cmd), *h = capture(opt_help, &cmd);

	(void)state;
	assert_string_equal(
		u,
		"usage: tool sub [--db FILE] [-e ENV] [-n N] [--json] [--format F] [--pct PCT]...\n"
		"                [FILE...]\n");
	assert_string_equal(
		h,
		"usage: tool sub [--db FILE] [-e ENV] [-n N] [--json] [--format F] [--pct PCT]...\n"
		"                [FILE...]\n"
		"\n"
		"  --db FILE      the store\n"
		"  -e, --env ENV  an overlay\n"
		"                 second line\n"
		"  -n N           how many\n"
		"  --json         JSON lines\n"
		"  --format F     output format\n"
		"  --pct PCT      percentage points\n"
		"  FILE           an input\n");
	free(u);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anywhere), cmocka_unit_test(test_equals_and_double_dash),
		cmocka_unit_test(test_errors),	 cmocka_unit_test(test_typed),
		cmocka_unit_test(test_words),	 cmocka_unit_test(test_help),
		cmocka_unit_test(test_printing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
