/* hagen: renders haproxy.cfg from a service inventory. Subcommands come from a table; a first
 * argument that is not a subcommand means "render", so `hagen inventory.yaml > haproxy.cfg`. */
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "inventory/inventory.h"
#include "opt.h"
#include "outfile.h"
#include "render.h"
#include "tmpl.h"

#define EXIT_INPUT EXIT_CODE_ERR
#define EXIT_USAGE EXIT_CODE_USAGE

enum { O_ENV = 1, O_TARGET, O_OUTPUT, O_TEMPLATES, O_MARKDOWN };

#define ROW_ENV                                                                                    \
	{                                                                                          \
		.id = O_ENV, .short_name = 'e', .long_name = "env", .type = OPT_STR, .arg = "ENV", \
		.help = "deep-merge environments.ENV over the inventory"                           \
	}
#define ROW_TARGET                                                                                 \
	{                                                                                          \
		.id = O_TARGET, .long_name = "target", .type = OPT_STR, .arg = "X.Y",              \
		.help = "HAProxy version to emit for (render: the file's target, else 2.6;\n"      \
			"check: the version of the haproxy that checks)"                           \
	}
#define ROW_TEMPLATES                                                                              \
	{                                                                                          \
		.id = O_TEMPLATES, .long_name = "templates", .type = OPT_STR, .arg = "DIR",        \
		.help = "use DIR/NAME.tmpl instead of the built-in templates"                      \
	}

static const struct opt render_opts[] = {
	ROW_ENV,
	ROW_TARGET,
	{.id = O_OUTPUT,
	 .short_name = 'o',
	 .long_name = "output",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "write the configuration to FILE (render only)"},
	ROW_TEMPLATES,
	{0},
};
static const struct opt check_opts[] = {ROW_ENV, ROW_TARGET, ROW_TEMPLATES, {0}};
static const struct opt no_opts[] = {{0}};
static const struct opt keys_opts[] = {
	{.id = O_MARKDOWN,
	 .long_name = "markdown",
	 .type = OPT_FLAG,
	 .help = "the tables of docs/hagen.md (a test diffs the two)"},
	{0},
};

static const char epilog[] =
	"exit status: 0 ok, 1 invalid inventory or haproxy rejected the result, 2 usage error\n"
	"docs: docs/hagen.md\n";

static const struct opt_cmd render_cmd = {
	"hagen render",
	"INVENTORY",
	"Validates the inventory and writes haproxy.cfg (stdout, or FILE).\n",
	render_opts,
	epilog,
	0};
/* `hagen INVENTORY`: render without the subcommand's name */
static const struct opt_cmd bare_cmd = {"hagen", "INVENTORY", NULL, render_opts, epilog, 0};
static const struct opt_cmd check_cmd = {
	"hagen check",
	"INVENTORY",
	"Renders, then runs haproxy -c -dW on the result; its errors point at the inventory.\n",
	check_opts,
	epilog,
	0};
static const struct opt_cmd targets_cmd = {
	"hagen targets", NULL, "Lists the supported HAProxy versions and the version rules.\n",
	no_opts,	 NULL, 0};

static const struct opt_cmd keys_cmd = {
	"hagen keys",
	"[SECTION]",
	"Lists the inventory keys of the keyword table (every section of the inventory): type,\n"
	"default, the targets that accept each, and what it renders.\n",
	keys_opts,
	NULL,
	0};

struct hagen_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const struct opt_cmd *opts;
	const char *help;
};

static int cmd_render(int argc, char **argv);
static int cmd_check(int argc, char **argv);
static int cmd_targets(int argc, char **argv);
static int cmd_keys(int argc, char **argv);

static const struct hagen_cmd commands[] = {
	{"render", cmd_render, &render_cmd,
	 "validate the inventory and write haproxy.cfg (stdout, or FILE)"},
	{"check", cmd_check, &check_cmd,
	 "render, then run haproxy -c -dW on the result; errors point at the inventory"},
	{"targets", cmd_targets, &targets_cmd,
	 "list the supported HAProxy versions and the version rules"},
	{"import", cmd_import, &import_cmd,
	 "write the inventory of an existing haproxy.cfg on stdout"},
	{"compare", cmd_compare, &compare_cmd,
	 "say whether two haproxy.cfg files are the same configuration"},
	{"apply", cmd_apply, &apply_cmd,
	 "render, check, install and reload a running HAProxy; roll back when it does not come up"},
	{"server", cmd_server, &server_cmd,
	 "change a server on the running HAProxy (and in the inventory with --write)"},
	{"keys", cmd_keys, &keys_cmd, "list the inventory keys: type, default, targets, rendering"},
	{NULL, NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: hagen INVENTORY > haproxy.cfg\n");
	for (const struct hagen_cmd *c = commands; c->name; c++)
		opt_usage(c->opts, fp, "   or: ");
	fprintf(fp, "   or: hagen --help | --version\n\n");
	for (const struct hagen_cmd *c = commands; c->name; c++)
		fprintf(fp, "  %-8s %s\n", c->name, c->help);
	fprintf(fp, "\noptions:\n");
	opt_list(render_opts, fp);
	fprintf(fp, "\n%s", epilog);
}

struct opts {
	const char *env, *target, *output, *templates, *inventory;
};

/* Parses the options of render and check (cmd). Returns 0, or the exit code after --help (0)
 * or a usage error (reported, 2). */
static int parse_opts(int argc, char **argv, const struct opt_cmd *cmd, struct opts *o)
{
	struct opt_parser p;
	int r;

	memset(o, 0, sizeof(*o));
	opt_init(&p, cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_ENV:
			o->env = p.val;
			break;
		case O_TARGET: {
			int t;

			if (inv_parse_target(p.val, &t) < 0)
				return opt_bad_value(&p, stderr, "supported targets are %s",
						     inv_targets_text());
			o->target = p.val;
			break;
		}
		case O_OUTPUT:
			o->output = p.val;
			break;
		case O_TEMPLATES: {
			struct stat st;

			if (stat(p.val, &st) == -1)
				return opt_bad_value(&p, stderr, "%s", strerror(errno));
			if (!S_ISDIR(st.st_mode))
				return opt_bad_value(&p, stderr, "not a directory");
			o->templates = p.val;
			break;
		}
		case OPT_OPERAND:
			if (o->inventory)
				return opt_usage_error(cmd, stderr,
						       "too many arguments ('%s' after '%s')",
						       p.val, o->inventory);
			o->inventory = p.val;
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!o->inventory)
		return opt_usage_error(cmd, stderr, "no inventory file given");
	return -1;
}

/* Loads, validates and renders. Prints diagnostics. Returns 0 with out filled, or -1. */
static int load_and_render(const struct opts *o, struct inv *inv, struct tmpl_out *out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv_opts io = {o->env, o->target};
	int rc = -1;

	dl.max = INV_MAX_DIAGS;
	if (inv_load(o->inventory, &io, inv, &dl) == 0 &&
	    render_config(inv, o->templates, out, &dl) == 0)
		rc = 0;
	diag_sort(&dl);
	diag_print(&dl, stderr, "hagen");
	if (rc == 0 && dl.errors)
		rc = -1;
	diag_release(&dl);
	return rc;
}

/* Writes buf to path whole or not at all (common/outfile). Returns 0 or -1 (reported). */
static int write_file(const char *path, const char *buf, size_t len)
{
	struct outfile of;
	char err[512];

	if (outfile_open(&of, path, err, sizeof(err))) {
		fprintf(stderr, "hagen: %s\n", err);
		return -1;
	}
	if (fwrite(buf, 1, len, of.fp) != len) {
		fprintf(stderr, "hagen: cannot write '%s': %s\n", path, strerror(errno));
		outfile_abort(&of);
		return -1;
	}
	if (outfile_commit(&of, err, sizeof(err))) {
		fprintf(stderr, "hagen: %s\n", err);
		return -1;
	}
	return 0;
}

/* What render and check share: options, then load and render. Returns -1 with inv and out
 * filled, else the exit code: 0 after --help, EXIT_USAGE or EXIT_INPUT (reported). The caller
 * releases inv and out either way. */
static int prepare(int argc, char **argv, const struct opt_cmd *cmd, struct opts *o,
		   struct inv *inv, struct tmpl_out *out)
{
	int rc;

	memset(inv, 0, sizeof(*inv));
	if ((rc = parse_opts(argc, argv, cmd, o)) >= 0)
		return rc;
	return load_and_render(o, inv, out) < 0 ? EXIT_INPUT : -1;
}

/* render as cmd: "hagen render" or, without the subcommand's name, "hagen" */
static int render_as(int argc, char **argv, const struct opt_cmd *cmd)
{
	struct opts o;
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	int rc = prepare(argc, argv, cmd, &o, &inv, &out);

	if (rc >= 0)
		goto out;
	rc = EXIT_INPUT;
	if (o.output) {
		const struct outfile_input in[] = {{o.inventory, 0}};
		char err[512];

		if (outfile_check(o.output, in, 1, err, sizeof(err))) {
			fprintf(stderr, "hagen: -o: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
		if (write_file(o.output, out.text.buf, out.text.len) < 0)
			goto out;
	} else if (fwrite(out.text.buf, 1, out.text.len, stdout) != out.text.len ||
		   fflush(stdout) != 0) {
		fprintf(stderr, "hagen: writing stdout: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	inv_release(&inv);
	tmpl_out_release(&out);
	return rc;
}

static int cmd_render(int argc, char **argv)
{
	return render_as(argc, argv, &render_cmd);
}

static int cmd_check(int argc, char **argv)
{
	struct opts o;
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	const char *haproxy;
	char tbuf[16];
	int rc, v, t;

	memset(&inv, 0, sizeof(inv));
	if ((rc = parse_opts(argc, argv, &check_cmd, &o)) >= 0)
		return rc;
	/* the target: --target, else the version of the haproxy that checks */
	if (!o.target && (haproxy = check_find_haproxy()) &&
	    check_haproxy_target(haproxy, &v) == 0) {
		if (inv_nearest_target(v, &t) < 0)
			fprintf(stderr,
				"hagen: note: %s is HAProxy %d.%d; rendering for %d.%d, the "
				"closest "
				"target hagen knows\n",
				haproxy, v / 100, v % 100, t / 100, t % 100);
		snprintf(tbuf, sizeof(tbuf), "%d.%d", t / 100, t % 100);
		o.target = tbuf;
	}
	if (load_and_render(&o, &inv, &out) < 0)
		rc = EXIT_INPUT;
	else
		rc = check_with_haproxy(&inv, &out) >= 0 ? 0 : EXIT_INPUT;
	inv_release(&inv);
	tmpl_out_release(&out);
	return rc;
}

static int cmd_targets(int argc, char **argv)
{
	struct opt_parser p;
	int o;

	opt_init(&p, &targets_cmd, argc, argv);
	if ((o = opt_next(&p)) == OPT_OPERAND)
		return opt_usage_error(&targets_cmd, stderr, "unexpected argument '%s'", p.val);
	if (o != OPT_DONE)
		return opt_finish(&p, o, stdout, stderr);
	printf("supported targets: %s (default 2.6)\n\n", inv_targets_text());
	for (const struct inv_rule *r = inv_rules; r->what; r++) {
		char since[16] = "-", until[16] = "-";

		int s, u;

		inv_rule_targets(r, &s, &u);
		if (s)
			snprintf(since, sizeof(since), "%d.%d", s / 100, s % 100);
		if (u)
			snprintf(until, sizeof(until), "%d.%d", u / 100, u % 100);
		printf("%-45s since %-4s until %-4s %s\n", r->what, since, until, r->note);
	}
	return 0;
}

/* "X.Y" of a target (major * 100 + minor) into buf. */
static const char *target_text(int t, char *buf, size_t sz)
{
	snprintf(buf, sz, "%d.%d", t / 100, t % 100);
	return buf;
}

/* The type column of k with its version gates and its mode, as the reference shows it. */
static void key_type(const struct inv_key *k, char *buf, size_t sz)
{
	char t[128], h[160], a[16], b[16];
	const char *ty = inv_key_type_text(k, t, sizeof(t));

	if (k->http) {
		snprintf(h, sizeof(h), "%s (http only)", ty);
		ty = h;
	}

	if (k->since && k->until)
		snprintf(buf, sz, "%s (%s ≤ target < %s)", ty, target_text(k->since, a, sizeof(a)),
			 target_text(k->until, b, sizeof(b)));
	else if (k->since)
		snprintf(buf, sz, "%s (target ≥ %s)", ty, target_text(k->since, a, sizeof(a)));
	else if (k->until)
		snprintf(buf, sz, "%s (target < %s)", ty, target_text(k->until, b, sizeof(b)));
	else
		snprintf(buf, sz, "%s", ty);
}

/* A cell of a Markdown table: "| text " or "| " when empty. */
static void md_cell(const char *s, const char *quote)
{
	if (s && *s)
		printf("| %s%s%s ", quote, s, quote);
	else
		printf("| ");
}

static int cmd_keys(int argc, char **argv)
{
	struct opt_parser p;
	const char *only = NULL, *sec = NULL;
	int o, md = 0, found = 0;

	opt_init(&p, &keys_cmd, argc, argv);
	while ((o = opt_next(&p)) != OPT_DONE) {
		if (o == O_MARKDOWN)
			md = 1;
		else if (o == OPT_OPERAND && !only)
			only = p.val;
		else if (o == OPT_OPERAND)
			return opt_usage_error(&keys_cmd, stderr, "unexpected argument '%s'",
					       p.val);
		else
			return opt_finish(&p, o, stdout, stderr);
	}
	for (size_t i = 0; inv_key_at(i); i++) {
		const struct inv_key *k = inv_key_at(i);
		char ty[256];

		if ((only && strcmp(only, k->section)) || (md && k->map))
			continue;
		key_type(k, ty, sizeof(ty));
		if (!sec || strcmp(sec, k->section)) {
			if (md)
				printf("%s### %s\n\n| key | type | default | renders "
				       "|\n|---|---|---|---|"
				       "\n",
				       sec ? "\n" : "", k->section);
			sec = k->section;
		}
		found = 1;
		if (md) {
			md_cell(k->key, "`");
			md_cell(ty, "");
			md_cell(k->dflt, "");
			md_cell(k->doc, "");
			printf("|\n");
		} else {
			printf("%s.%s: %s%s%s\n", k->section, k->key, ty,
			       k->dflt ? ", default " : "", k->dflt ? k->dflt : "");
		}
	}
	if (only && !found) {
		fprintf(stderr, "hagen keys: no section '%s' in the keyword table\n", only);
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* hagen builds trees of small nodes and frees them all at the end: glibc's fast bins only
	 * add consolidation passes over them (about 15% of the CPU time of rendering the
	 * 5,000-service bench inventory) */
	mallopt(M_MXFAST, 0);
#endif
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("hagen %s\n", HAGEN_VERSION);
		return 0;
	}
	for (const struct hagen_cmd *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	/* no subcommand: render, with argv[0] standing in for the command name */
	return render_as(argc, argv, &bare_cmd);
}
