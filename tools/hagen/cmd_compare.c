/* hagen compare: are two haproxy.cfg files the same configuration? Both are read and brought
 * to their canonical form (cfgnorm.h); the differences are printed one per line. */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfgnorm.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "opt.h"

enum { O_DUMP = 1 };

static const struct opt compare_opts[] = {
	{.id = O_DUMP,
	 .long_name = "dump",
	 .type = OPT_FLAG,
	 .help = "print the canonical form of ORIGINAL instead of comparing"},
	{0},
};

const struct opt_cmd compare_cmd = {
	"hagen compare",
	"ORIGINAL [OTHER]",
	"Says whether two haproxy.cfg files are the same configuration, once each proxy is seen\n"
	"with its defaults applied; prints each difference.\n",
	compare_opts,
	"exit status: 0 the same, 1 different or unreadable, 2 usage error\ndocs: docs/hagen.md\n",
	0};

static int load_norm(const char *path, struct cfgnorm *n)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct cfg cfg;
	int rc = -1;

	dl.max = 200;
	if (cfg_load(path, &cfg, &dl) == 0) {
		if (cfgnorm_build(&cfg, n) == 0)
			rc = 0;
		else
			diag_add(&dl, DIAG_ERROR, path, 0, 0, "out of memory");
		cfg_release(&cfg);
	}
	diag_print(&dl, stderr, "hagen");
	diag_release(&dl);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	const char *files[2] = {NULL, NULL};
	struct cfgnorm a, b;
	struct strbuf out = STRBUF_INIT;
	struct opt_parser p;
	int dump = 0, nf = 0, rc = EXIT_CODE_ERR, r;
	size_t diffs;

	opt_init(&p, &compare_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		if (r == O_DUMP) {
			dump = 1;
		} else if (r == OPT_OPERAND) {
			if (nf == 2)
				return opt_usage_error(&compare_cmd, stderr, "too many arguments");
			files[nf++] = p.val;
		} else {
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (nf != (dump ? 1 : 2))
		return opt_usage_error(&compare_cmd, stderr, "compare needs %s",
				       dump ? "one file with --dump" : "two files");
	if (load_norm(files[0], &a) < 0)
		return EXIT_CODE_ERR;
	if (dump) {
		cfgnorm_print(&a, stdout);
		cfgnorm_release(&a);
		return fflush(stdout) == 0 ? EXIT_CODE_OK : EXIT_CODE_ERR;
	}
	if (load_norm(files[1], &b) < 0) {
		cfgnorm_release(&a);
		return EXIT_CODE_ERR;
	}
	diffs = cfgnorm_diff(&a, &b, files[0], files[1], &out);
	fwrite(out.buf, 1, out.len, stdout);
	if (diffs)
		fprintf(stderr, "hagen: compare: %zu difference%s between %s and %s\n", diffs,
			diffs == 1 ? "" : "s", files[0], files[1]);
	else
		printf("%s and %s are the same configuration\n", files[0], files[1]);
	rc = diffs ? EXIT_CODE_ERR : EXIT_CODE_OK;
	strbuf_release(&out);
	cfgnorm_release(&a);
	cfgnorm_release(&b);
	return rc;
}
