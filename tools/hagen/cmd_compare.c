/* hagen compare: are two haproxy.cfg files the same configuration? Both are read and brought
 * to their canonical form (cfgnorm.h); the differences are printed one per line. */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfgnorm.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"

#define COMPARE_USAGE "hagen compare [--dump] ORIGINAL [OTHER]"

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
	int dump = 0, nf = 0, rc = EXIT_CODE_ERR;
	size_t diffs;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dump"))
			dump = 1;
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "hagen: unknown option '%s'\nusage: %s\n", argv[i],
				COMPARE_USAGE);
			return EXIT_CODE_USAGE;
		} else if (nf < 2)
			files[nf++] = argv[i];
		else {
			fprintf(stderr, "hagen: too many arguments\nusage: %s\n", COMPARE_USAGE);
			return EXIT_CODE_USAGE;
		}
	}
	if (nf != (dump ? 1 : 2)) {
		fprintf(stderr, "hagen: compare needs %s\nusage: %s\n",
			dump ? "one file with --dump" : "two files", COMPARE_USAGE);
		return EXIT_CODE_USAGE;
	}
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
