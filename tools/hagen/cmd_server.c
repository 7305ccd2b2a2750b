/* hagen server: the frequent runtime changes without a reload. drain, ready and maint set a
 * server's state, weight its weight, through HAProxy's runtime API (the stats socket, or the
 * master CLI of master-worker mode); with --write the same change goes into the inventory, edited
 * in place so that its comments and layout stay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fdio.h"
#include "opt.h"
#include "parse.h"
#include "runtime.h"
#include "strbuf.h"
#include "yamledit.h"
#include "yamlnode.h"

#define SERVER_RT_MS 5000

struct srvcmd {
	const char *action, *service, *server, *weight;
	const char *master, *stats, *inventory;
	int write, inventory_only;
	int64_t w;
};

enum { O_MASTER = 1, O_STATS, O_INVENTORY, O_WRITE, O_INVENTORY_ONLY };

static const struct opt server_opts[] = {
	{.id = O_MASTER,
	 .long_name = "master-socket",
	 .type = OPT_STR,
	 .arg = "PATH",
	 .help = "change the current worker through the master CLI"},
	{.id = O_STATS,
	 .long_name = "stats-socket",
	 .type = OPT_STR,
	 .arg = "ADDR",
	 .help = "change it through the stats socket (default: the inventory's)"},
	{.id = O_INVENTORY,
	 .long_name = "inventory",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the inventory: SERVICE and SERVER must be in it"},
	{.id = O_WRITE,
	 .long_name = "write",
	 .type = OPT_FLAG,
	 .help = "also write the change into the inventory (edited in place)"},
	{.id = O_INVENTORY_ONLY,
	 .long_name = "inventory-only",
	 .type = OPT_FLAG,
	 .help = "write the change into the inventory and leave HAProxy alone"},
	{0},
};

const struct opt_cmd server_cmd = {
	"hagen server",
	"drain|ready|maint|weight SERVICE SERVER [N]",
	"Changes one server at run time (state, or weight 0..256) through HAProxy's runtime API,\n"
	"and with --write in the inventory too.\n",
	server_opts,
	"exit status: 0 done, 1 HAProxy or the inventory refused, 2 usage error\n"
	"docs: docs/hagen.md\n",
	0};

/* Returns -1 to go on, or the exit code (help shown, or a usage error reported). */
static int parse_args(int argc, char **argv, struct srvcmd *c)
{
	const char *pos[4] = {NULL, NULL, NULL, NULL};
	struct opt_parser p;
	int np = 0, r;

	opt_init(&p, &server_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_MASTER:
			c->master = p.val;
			break;
		case O_STATS:
			c->stats = p.val;
			break;
		case O_INVENTORY:
			c->inventory = p.val;
			break;
		case O_WRITE:
			c->write = 1;
			break;
		case O_INVENTORY_ONLY:
			c->inventory_only = c->write = 1;
			break;
		case OPT_OPERAND:
			if (np == 4)
				return opt_usage_error(&server_cmd, stderr, "too many arguments");
			pos[np++] = p.val;
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	c->action = pos[0];
	c->service = pos[1];
	c->server = pos[2];
	c->weight = pos[3];
	if (!c->action || (strcmp(c->action, "drain") && strcmp(c->action, "ready") &&
			   strcmp(c->action, "maint") && strcmp(c->action, "weight")))
		return opt_usage_error(&server_cmd, stderr,
				       "server needs drain, ready, maint or weight%s%s%s",
				       c->action ? " (not '" : "", c->action ? c->action : "",
				       c->action ? "')" : "");
	if (!c->server)
		return opt_usage_error(&server_cmd, stderr, "server %s needs SERVICE and SERVER",
				       c->action);
	if (!strcmp(c->action, "weight") != !!c->weight)
		return opt_usage_error(&server_cmd, stderr, "%s",
				       c->weight ? "only 'weight' takes a number"
						 : "weight needs N (0 to 256)");
	if (c->weight && parse_int64(c->weight, 0, 256, &c->w) < 0)
		return opt_usage_error(&server_cmd, stderr,
				       "bad weight '%s': a whole number from 0 to 256", c->weight);
	if (c->master && c->stats)
		return opt_usage_error(&server_cmd, stderr,
				       "give --master-socket or --stats-socket, not both");
	if (c->write && !c->inventory)
		return opt_usage_error(&server_cmd, stderr, "--write needs --inventory FILE");
	return -1;
}

static int read_file(const char *path, struct strbuf *sb)
{
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t r;

	if (!fp)
		return -1;
	while ((r = fread(buf, 1, sizeof(buf), fp)) > 0)
		if (strbuf_add(sb, buf, r) < 0) {
			fclose(fp);
			return -1;
		}
	r = (size_t)ferror(fp);
	fclose(fp);
	return r ? -1 : 0;
}

/* The server's map in the inventory tree, or NULL after saying why. */
static const struct yn_node *find_server(const struct yn_node *root, const struct srvcmd *c)
{
	const struct yn_node *svcs = yn_get(root, "services"), *svc, *list;
	const char *names[256];
	size_t nn = 0;

	svc = yn_get(svcs, c->service);
	if (!svc) {
		for (size_t i = 0; svcs && svcs->kind == YN_MAP && i < svcs->n && nn < 256; i++)
			names[nn++] = svcs->pairs[i].key->str;
		const char *s = diag_suggest(c->service, names, nn);

		fprintf(stderr, "hagen: %s: unknown service '%s'%s%s%s\n", c->inventory, c->service,
			s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		return NULL;
	}
	list = yn_get(svc, "servers");
	for (size_t i = 0; list && list->kind == YN_SEQ && i < list->n; i++) {
		const struct yn_node *nm = yn_get(list->items[i], "name");

		if (nm && yn_is_text(nm) && !strcmp(nm->str, c->server) &&
		    list->items[i]->kind == YN_MAP)
			return list->items[i];
		if (nm && yn_is_text(nm) && nn < 256)
			names[nn++] = nm->str;
	}
	{
		const char *s = diag_suggest(c->server, names, nn);

		fprintf(stderr, "hagen: %s: service '%s' has no server '%s'%s%s%s\n", c->inventory,
			c->service, c->server, s ? " (did you mean '" : "", s ? s : "",
			s ? "'?)" : "");
	}
	return NULL;
}

/* Applies the change to the inventory text: weight N, maintenance: true, drain: true, or (ready)
 * neither. Writes the file atomically. */
static int write_inventory(const struct srvcmd *c, const char *text, size_t len,
			   const struct yn_node *root)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, tmp = STRBUF_INIT;
	struct yn_node *r2 = NULL;
	struct yn_error ye;
	const struct yn_node *srv = find_server(root, c);
	char err[256], num[32];
	int rc = -1, fd;
	struct stat st;

	if (!srv)
		return -1;
	if (!strcmp(c->action, "weight")) {
		snprintf(num, sizeof(num), "%lld", (long long)c->w);
		if (yamledit_set(text, len, srv, "weight", num, &a, err, sizeof(err)) < 0)
			goto fail;
	} else if (!strcmp(c->action, "maint")) {
		if (yamledit_set(text, len, srv, "maintenance", "true", &a, err, sizeof(err)) < 0)
			goto fail;
	} else if (!strcmp(c->action, "drain")) {
		if (yamledit_set(text, len, srv, "drain", "true", &a, err, sizeof(err)) < 0)
			goto fail;
	} else {
		/* ready: no maintenance, no drain; the second edit works on the first's text */
		if (yamledit_remove(text, len, srv, "maintenance", &a, err, sizeof(err)) < 0)
			goto fail;
		if (yn_load_buffer(a.buf, a.len, NULL, &r2, &ye) < 0 || !(srv = find_server(r2, c))) {
			snprintf(err, sizeof(err), "the edited inventory does not read back");
			goto fail;
		}
		if (yamledit_remove(a.buf, a.len, srv, "drain", &b, err, sizeof(err)) < 0)
			goto fail;
		strbuf_reset(&a);
		strbuf_add(&a, b.buf, b.len);
	}
	/* the result must still be YAML with the change in it */
	yn_free(r2);
	r2 = NULL;
	ye.msg[0] = '\0';
	if (yn_load_buffer(a.buf, a.len, NULL, &r2, &ye) < 0 || !find_server(r2, c)) {
		snprintf(err, sizeof(err), "the edit would break the file (%.200s)", ye.msg);
		goto fail;
	}
	/* the new text is renamed over the file: never over a device or a FIFO (/dev/stdin) */
	if (stat(c->inventory, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, sizeof(err), "not a regular file: --write replaces the file");
		goto fail;
	}
	strbuf_addf(&tmp, "%s.tmp.%ld", c->inventory, (long)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || fd_write_all(fd, a.buf, a.len) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp.buf, c->inventory) < 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		unlink(tmp.buf);
		goto fail;
	}
	fprintf(stderr, "hagen: server: %s: services.%s.servers[%s] updated\n", c->inventory,
		c->service, c->server);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "hagen: server: cannot write the change into %s: %s\n", c->inventory, err);
out:
	yn_free(r2);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&tmp);
	return rc;
}

/* Sends the change to HAProxy and reads back the server's state. */
static int runtime_change(const struct srvcmd *c, const char *sock, int master)
{
	struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT, st = STRBUF_INIT;
	const char *at = master ? "@1 " : "";
	struct rt_stat rs;
	const struct rt_row *r;
	char err[256], px[200];
	int rc = -1;

	snprintf(px, sizeof(px), "be_%s", c->service);
	if (!strcmp(c->action, "weight"))
		strbuf_addf(&cmd, "%sset server %s/%s weight %lld", at, px, c->server,
			    (long long)c->w);
	else
		strbuf_addf(&cmd, "%sset server %s/%s state %s", at, px, c->server, c->action);
	if (rt_command(sock, master, cmd.buf, SERVER_RT_MS, &out, err, sizeof(err)) < 0) {
		fprintf(stderr, "hagen: server: %s\n", err);
		goto out;
	}
	/* success is a blank answer; anything else is HAProxy's complaint */
	for (size_t i = 0; i < out.len; i++)
		if (out.buf[i] != '\n' && out.buf[i] != ' ') {
			while (out.len && (out.buf[out.len - 1] == '\n' || out.buf[out.len - 1] == ' '))
				strbuf_setlen(&out, out.len - 1);
			fprintf(stderr, "hagen: server: HAProxy refused '%s': %s\n",
				cmd.buf + strlen(at), out.buf);
			goto out;
		}
	strbuf_addf(&st, "%sshow stat", at);
	strbuf_reset(&out);
	if (rt_command(sock, master, st.buf, SERVER_RT_MS, &out, err, sizeof(err)) == 0 &&
	    rt_parse_stat(out.buf, out.len, &rs) == 0) {
		if ((r = rt_stat_find(&rs, px, c->server)))
			printf("%s/%s: %s, weight %ld\n", px, c->server, r->status, r->weight);
		rt_stat_release(&rs);
	}
	rc = 0;
out:
	strbuf_release(&cmd);
	strbuf_release(&out);
	strbuf_release(&st);
	return rc;
}

int cmd_server(int argc, char **argv)
{
	struct srvcmd c;
	struct strbuf text = STRBUF_INIT;
	struct yn_node *root = NULL;
	struct yn_error ye;
	const char *sock;
	int rc = EXIT_CODE_ERR;

	memset(&c, 0, sizeof(c));
	if ((rc = parse_args(argc, argv, &c)) >= 0)
		return rc;
	rc = EXIT_CODE_ERR;
	if (c.inventory) {
		if (read_file(c.inventory, &text) < 0) {
			fprintf(stderr, "hagen: %s: %s\n", c.inventory, strerror(errno));
			goto out;
		}
		if (yn_load_buffer(text.buf, text.len, NULL, &root, &ye) < 0) {
			fprintf(stderr, "hagen: %s:%u:%u: error: %s\n", c.inventory, ye.line, ye.col,
				ye.msg);
			goto out;
		}
		if (!find_server(root, &c))
			goto out;
	}
	if (!c.inventory_only) {
		const struct yn_node *p = yn_path(root, "global.stats_socket");

		if (p && p->kind == YN_MAP)
			p = yn_get(p, "path");
		sock = c.master ? c.master : c.stats ? c.stats : p && yn_is_text(p) ? p->str : NULL;
		if (!sock) {
			fprintf(stderr, "hagen: server: no runtime socket: give --master-socket, "
					"--stats-socket, or an --inventory with global.stats_socket\n");
			rc = EXIT_CODE_USAGE;
			goto out;
		}
		if (runtime_change(&c, sock, c.master != NULL) < 0)
			goto out;
	}
	if (c.write && write_inventory(&c, text.buf, text.len, root) < 0)
		goto out;
	rc = EXIT_CODE_OK;
out:
	yn_free(root);
	strbuf_release(&text);
	return rc;
}
