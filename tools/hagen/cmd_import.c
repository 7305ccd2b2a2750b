/* hagen import: reads an existing haproxy.cfg and writes its inventory on stdout. Then checks
 * its own work: the inventory is loaded and rendered like `hagen render` would, and the result is
 * compared with the original (cfgnorm.h); every difference is reported. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cfgnorm.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fdio.h"
#include "import.h"
#include "inv.h"
#include "render.h"

#define IMPORT_USAGE "hagen import [--target X.Y] HAPROXY.CFG"

/* Renders inventory text yaml (as if it were the file name) and compares the result with the
 * original configuration. Differences and render problems go to dl. Returns the number of
 * differences, or -1 when the inventory does not render. */
static long self_check(const struct cfg *orig, const char *yaml, size_t len, const char *target,
		       struct diag_list *dl)
{
	const char *tmpdir = getenv("TMPDIR");
	struct strbuf path = STRBUF_INIT, diff = STRBUF_INIT;
	struct diag_list idl = DIAG_LIST_INIT;
	struct inv_opts io = {NULL, target};
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	struct cfg rendered;
	struct cfgnorm a, b;
	long rc = -1;
	int fd;

	strbuf_addf(&path, "%s/hagen-import-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemp(path.buf);
	if (fd == -1) {
		diag_add(dl, DIAG_ERROR, NULL, 0, 0, "import: %s: %s", path.buf, strerror(errno));
		goto out;
	}
	if (fd_write_all(fd, yaml, len) < 0) {
		diag_add(dl, DIAG_ERROR, NULL, 0, 0, "import: %s: %s", path.buf, strerror(errno));
		close(fd);
		unlink(path.buf);
		goto out;
	}
	close(fd);
	if (inv_load(path.buf, &io, &inv, &idl) < 0 || render_config(&inv, NULL, &out, &idl) < 0) {
		unlink(path.buf);
		for (size_t i = 0; i < idl.n; i++)
			if (idl.items[i].level == DIAG_ERROR)
				diag_add(dl, DIAG_ERROR, NULL, 0, 0,
					 "import: the inventory written does not render (a bug of "
					 "hagen import): line %u: %s",
					 idl.items[i].line, idl.items[i].msg);
		inv_release(&inv);
		goto out;
	}
	unlink(path.buf);
	inv_release(&inv);
	if (cfg_parse("rendered", out.text.buf, out.text.len, &rendered, dl) < 0)
		goto out;
	if (cfgnorm_build(orig, &a) == 0) {
		if (cfgnorm_build(&rendered, &b) == 0) {
			size_t n = cfgnorm_diff(&a, &b, "the original", "the rendered", &diff);
			const char *p = diff.buf;

			while (*p) {
				size_t l = strcspn(p, "\n");

				diag_add(dl, DIAG_WARNING, orig->file, 0, 0,
					 "import: rendering the inventory changes the configuration: "
					 "%.*s",
					 (int)l, p);
				p += l + (p[l] == '\n');
			}
			rc = (long)n;
			cfgnorm_release(&b);
		}
		cfgnorm_release(&a);
	}
	cfg_release(&rendered);
out:
	tmpl_out_release(&out);
	diag_release(&idl);
	strbuf_release(&path);
	strbuf_release(&diff);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	const char *file = NULL, *target = NULL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct import_opts io = {NULL};
	struct strbuf yaml = STRBUF_INIT;
	struct cfg cfg;
	int rc = EXIT_CODE_ERR, t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--target") && i + 1 < argc) {
			target = argv[++i];
		} else if (!strncmp(argv[i], "--target=", 9)) {
			target = argv[i] + 9;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "hagen: unknown option '%s'\nusage: %s\n", argv[i],
				IMPORT_USAGE);
			return EXIT_CODE_USAGE;
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr, "hagen: too many arguments\nusage: %s\n", IMPORT_USAGE);
			return EXIT_CODE_USAGE;
		}
	}
	if (!file) {
		fprintf(stderr, "hagen: import needs a haproxy.cfg\nusage: %s\n", IMPORT_USAGE);
		return EXIT_CODE_USAGE;
	}
	if (target && inv_parse_target(target, &t) < 0) {
		fprintf(stderr, "hagen: unsupported --target '%s' (supported: %s)\n", target,
			inv_targets_text());
		return EXIT_CODE_USAGE;
	}
	io.target = target;
	if (cfg_load(file, &cfg, &dl) < 0)
		goto out;
	if (import_cfg(&cfg, &io, &yaml, &dl) == 0 &&
	    self_check(&cfg, yaml.buf, yaml.len, target, &dl) >= 0) {
		if (fwrite(yaml.buf, 1, yaml.len, stdout) != yaml.len || fflush(stdout) != 0)
			diag_add(&dl, DIAG_ERROR, NULL, 0, 0, "writing stdout: %s", strerror(errno));
		else
			rc = EXIT_CODE_OK;
	}
	cfg_release(&cfg);
out:
	diag_sort(&dl);
	diag_print(&dl, stderr, "hagen");
	diag_release(&dl);
	strbuf_release(&yaml);
	return rc;
}
