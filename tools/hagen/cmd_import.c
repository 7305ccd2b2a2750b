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
#include "inventory/inventory.h"
#include "opt.h"
#include "render.h"

enum { O_TARGET = 1 };

static const struct opt import_opts[] = {
	{.id = O_TARGET,
	 .long_name = "target",
	 .type = OPT_STR,
	 .arg = "X.Y",
	 .help = "the HAProxy version the inventory is for (written as its target)"},
	{0},
};

const struct opt_cmd import_cmd = {
	"hagen import",
	"HAPROXY.CFG",
	"Writes the inventory of an existing configuration on stdout; what it cannot express goes\n"
	"to extra lines, listed on stderr; the result is rendered and compared with the original.\n",
	import_opts,
	"exit status: 0 written, 1 refused or unreadable, 2 usage error\ndocs: docs/hagen.md\n",
	0};

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
	struct opt_parser p;
	struct cfg cfg;
	int rc = EXIT_CODE_ERR, t, r;

	opt_init(&p, &import_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		if (r == O_TARGET) {
			if (inv_parse_target(p.val, &t) < 0)
				return opt_bad_value(&p, stderr, "supported targets are %s",
						     inv_targets_text());
			target = p.val;
		} else if (r == OPT_OPERAND) {
			if (file)
				return opt_usage_error(&import_cmd, stderr,
						       "too many arguments ('%s' after '%s')", p.val,
						       file);
			file = p.val;
		} else {
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!file)
		return opt_usage_error(&import_cmd, stderr, "no haproxy.cfg given");
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
