/* hagen: renders haproxy.cfg from a service inventory. Subcommands come from a table; a first
 * argument that is not a subcommand means "render", so `hagen inventory.yaml > haproxy.cfg`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "diag.h"
#include "inv.h"
#include "render.h"
#include "tmpl.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

struct hagen_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int cmd_render(int argc, char **argv);
static int cmd_check(int argc, char **argv);
static int cmd_targets(int argc, char **argv);

static const struct hagen_cmd commands[] = {
	{"render", cmd_render,
	 "hagen render [-e ENV] [--target X.Y] [-o FILE] [--templates DIR] INVENTORY",
	 "validate the inventory and write haproxy.cfg (stdout, or FILE)"},
	{"check", cmd_check, "hagen check [-e ENV] [--target X.Y] [--templates DIR] INVENTORY",
	 "render, then run haproxy -c -dW on the result; errors point at the inventory"},
	{"targets", cmd_targets, "hagen targets",
	 "list the supported HAProxy versions and the version rules"},
	{NULL, NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: hagen INVENTORY > haproxy.cfg\n");
	for (const struct hagen_cmd *c = commands; c->name; c++)
		fprintf(fp, "   or: %s\n", c->usage);
	fprintf(fp, "   or: hagen --help | --version\n\n");
	for (const struct hagen_cmd *c = commands; c->name; c++)
		fprintf(fp, "  %-8s %s\n", c->name, c->help);
	fprintf(fp, "\noptions:\n"
		    "  -e, --env ENV        deep-merge environments.ENV over the inventory\n"
		    "  --target X.Y         HAProxy version to emit for (default: the file's "
		    "target, else 2.6)\n"
		    "  -o, --output FILE    write the configuration to FILE (render only)\n"
		    "  --templates DIR      use DIR/NAME.tmpl instead of the built-in templates\n"
		    "\nexit status: 0 ok, 1 invalid inventory or haproxy rejected the result, 2 "
		    "usage error\n"
		    "docs: docs/hagen.md\n");
}

struct opts {
	const char *env, *target, *output, *templates, *inventory;
};

/* Parses the options shared by render and check. Returns 0, or -1 after printing why. */
static int parse_opts(int argc, char **argv, struct opts *o, int allow_output)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, **dst = NULL;
		size_t l;

		if (!strcmp(a, "--")) {
			if (i + 1 < argc && !o->inventory)
				o->inventory = argv[++i];
			if (i + 1 < argc) {
				fprintf(stderr, "hagen: too many arguments\n");
				return -1;
			}
			break;
		}
		if (!strcmp(a, "-e") || !strncmp(a, "--env", 5))
			dst = &o->env;
		else if (!strncmp(a, "--target", 8))
			dst = &o->target;
		else if (!strcmp(a, "-o") || !strncmp(a, "--output", 8))
			dst = allow_output ? &o->output : NULL;
		else if (!strncmp(a, "--templates", 11))
			dst = &o->templates;
		if (a[0] == '-' && a[1] && !dst) {
			fprintf(stderr, "hagen: unknown option '%s'\n", a);
			return -1;
		}
		if (!dst) {
			if (o->inventory) {
				fprintf(stderr, "hagen: too many arguments ('%s' after '%s')\n", a,
					o->inventory);
				return -1;
			}
			o->inventory = a;
			continue;
		}
		l = a[1] == '-' ? strcspn(a, "=") : strlen(a);
		if (a[1] == '-' && a[l] == '=')
			val = a + l + 1;
		else if (a[1] == '-' && strcmp(a, "--env") && strcmp(a, "--target") &&
			 strcmp(a, "--output") && strcmp(a, "--templates")) {
			fprintf(stderr, "hagen: unknown option '%s'\n", a);
			return -1;
		} else if (i + 1 < argc)
			val = argv[++i];
		if (!val || !*val) {
			fprintf(stderr, "hagen: option '%s' needs a value\n", a);
			return -1;
		}
		*dst = val;
	}
	if (!o->inventory) {
		fprintf(stderr, "hagen: no inventory file given\n");
		return -1;
	}
	if (o->templates) {
		struct stat st;

		if (stat(o->templates, &st) == -1) {
			fprintf(stderr, "hagen: --templates '%s': %s\n", o->templates,
				strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "hagen: --templates '%s': not a directory\n", o->templates);
			return -1;
		}
	}
	if (o->target) {
		int t;

		if (inv_parse_target(o->target, &t) < 0) {
			fprintf(stderr, "hagen: unsupported --target '%s' (supported: %s)\n",
				o->target, inv_targets_text());
			return -1;
		}
	}
	return 0;
}

/* Loads, validates and renders. Prints diagnostics. Returns 0 with out filled, or -1. */
static int load_and_render(const struct opts *o, struct inv *inv, struct tmpl_out *out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv_opts io = {o->env, o->target};
	int rc = -1;

	dl.max = 200;
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

static int write_file(const char *path, const char *buf, size_t len)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	FILE *fp;
	int rc = -1;

	if (!tmp)
		return -1;
	snprintf(tmp, pl + 16, "%s.tmp.%ld", path, (long)getpid());
	fp = fopen(tmp, "w");
	if (!fp) {
		fprintf(stderr, "hagen: cannot write '%s': %s\n", path, strerror(errno));
		goto out;
	}
	/* fclose always, even after a short write: the FILE must not leak */
	if ((fwrite(buf, 1, len, fp) != len) + (fclose(fp) != 0)) {
		fprintf(stderr, "hagen: %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		fprintf(stderr, "hagen: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

/* What render and check share: options, then load and render. Returns 0 with inv and out
 * filled, else EXIT_USAGE or EXIT_INPUT (reported). The caller releases inv and out either way. */
static int prepare(int argc, char **argv, const struct hagen_cmd *cmd, struct opts *o,
		   struct inv *inv, struct tmpl_out *out)
{
	memset(inv, 0, sizeof(*inv));
	if (parse_opts(argc, argv, o, cmd->fn == cmd_render) < 0) {
		fprintf(stderr, "usage: %s\n", cmd->usage);
		return EXIT_USAGE;
	}
	return load_and_render(o, inv, out) < 0 ? EXIT_INPUT : 0;
}

static int cmd_render(int argc, char **argv)
{
	struct opts o;
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	int rc = prepare(argc, argv, &commands[0], &o, &inv, &out);

	if (rc)
		goto out;
	rc = EXIT_INPUT;
	if (o.output) {
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

static int cmd_check(int argc, char **argv)
{
	struct opts o;
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	int rc = prepare(argc, argv, &commands[1], &o, &inv, &out);

	if (!rc)
		rc = check_with_haproxy(&inv, &out) == 0 ? 0 : EXIT_INPUT;
	inv_release(&inv);
	tmpl_out_release(&out);
	return rc;
}

static int cmd_targets(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", commands[2].usage);
		return EXIT_USAGE;
	}
	printf("supported targets: %s (default 2.6)\n\n", inv_targets_text());
	for (const struct inv_rule *r = inv_rules; r->what; r++) {
		char since[16] = "-", until[16] = "-";

		if (r->since)
			snprintf(since, sizeof(since), "%d.%d", r->since / 100, r->since % 100);
		if (r->until)
			snprintf(until, sizeof(until), "%d.%d", r->until / 100, r->until % 100);
		printf("%-45s since %-4s until %-4s %s\n", r->what, since, until, r->note);
	}
	return 0;
}

int main(int argc, char **argv)
{
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
	for (const struct hagen_cmd *c = commands; c->name; c++) {
		if (strcmp(argv[1], c->name))
			continue;
		/* "hagen render --help": the whole usage, on stdout (options up to "--" only) */
		for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				usage(stdout);
				return 0;
			}
		return c->fn(argc - 1, argv + 1);
	}
	/* no subcommand: render, with argv[0] standing in for the command name */
	return cmd_render(argc, argv);
}
