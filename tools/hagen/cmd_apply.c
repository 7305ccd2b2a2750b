/* hagen apply: put an inventory into production on a running HAProxy. Render; check with the
 * haproxy that runs (its version is the target unless --target says otherwise); show the
 * difference with the installed file; install it atomically, keeping the previous one as
 * CONFIG.prev; reload without dropping connections (the master CLI's "reload" in master-worker
 * mode, a new process with -sf and the old PIDs, or systemctl reload); then verify through the
 * runtime API that a new worker runs, that every service exists and that its servers reach their
 * expected state within the timeout. When they do not, the previous file goes back, HAProxy
 * reloads again, and the command exits 1 saying what failed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fdio.h"
#include "inventory/inventory.h"
#include "linediff.h"
#include "opt.h"
#include "parse.h"
#include "render.h"
#include "runtime.h"

#define APPLY_DEFAULT_TIMEOUT 30
#define APPLY_POLL_MS 200
#define APPLY_RT_MS 3000 /* one runtime API exchange */

enum method { M_NONE, M_MASTER, M_PIDFILE, M_SYSTEMD };

struct apply {
	const char *env, *target, *templates, *inventory, *config;
	const char *master, *pidfile, *unit, *stats, *haproxy;
	int dry_run, timeout_s;
	enum method method;
	struct inv inv;
	struct tmpl_out out;
	char *newpath, *prevpath, *rejpath;
	struct rt_stat before; /* server states before the reload (may be empty) */
	pid_t old[RT_MAX_PROCS];
	size_t nold;
	unsigned failed0; /* the master's failed reloads before ours */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("hagen: apply: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

enum {
	O_ENV = 1,
	O_TARGET,
	O_TEMPLATES,
	O_CONFIG,
	O_MASTER,
	O_PIDFILE,
	O_SYSTEMD,
	O_STATS,
	O_HAPROXY,
	O_TIMEOUT,
	O_DRY_RUN,
};

static const struct opt apply_opts[] = {
	{.id = O_CONFIG,
	 .long_name = "config",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the configuration file HAProxy runs with (required)"},
	{.id = O_MASTER,
	 .long_name = "master-socket",
	 .type = OPT_STR,
	 .arg = "PATH",
	 .help = "reload through the master CLI (master-worker mode, haproxy -W -S PATH)"},
	{.id = O_PIDFILE,
	 .long_name = "pidfile",
	 .type = OPT_STR,
	 .arg = "PATH",
	 .help = "reload with a new haproxy -D -p PATH -sf and the PIDs PATH holds"},
	{.id = O_SYSTEMD,
	 .long_name = "systemd",
	 .type = OPT_STR,
	 .arg = "UNIT",
	 .help = "reload with systemctl reload UNIT"},
	{.id = O_STATS,
	 .long_name = "stats-socket",
	 .type = OPT_STR,
	 .arg = "ADDR",
	 .help = "the runtime API to verify with (default: the inventory's global.stats_socket)"},
	{.id = O_ENV,
	 .short_name = 'e',
	 .long_name = "env",
	 .type = OPT_STR,
	 .arg = "ENV",
	 .help = "deep-merge environments.ENV over the inventory"},
	{.id = O_TARGET,
	 .long_name = "target",
	 .type = OPT_STR,
	 .arg = "X.Y",
	 .help = "HAProxy version to render for (default: the version of the haproxy that runs)"},
	{.id = O_TEMPLATES,
	 .long_name = "templates",
	 .type = OPT_STR,
	 .arg = "DIR",
	 .help = "use DIR/NAME.tmpl instead of the built-in templates"},
	{.id = O_HAPROXY,
	 .long_name = "haproxy",
	 .type = OPT_STR,
	 .arg = "BIN",
	 .help = "the haproxy binary (default: $HAPROXY, then $PATH)"},
	{.id = O_TIMEOUT,
	 .long_name = "timeout",
	 .type = OPT_INT,
	 .arg = "SECONDS",
	 .min = 1,
	 .max = 3600,
	 .help = "how long the new worker and its servers may take (default 30)"},
	{.id = O_DRY_RUN,
	 .long_name = "dry-run",
	 .type = OPT_FLAG,
	 .help = "show the difference and the checks only; change nothing"},
	{0},
};

const struct opt_cmd apply_cmd = {
	"hagen apply",
	"INVENTORY",
	"Renders, checks with the haproxy that runs, shows the difference with the installed file,\n"
	"installs it keeping the previous one as FILE.prev, reloads without dropping connections and\n"
	"verifies through the runtime API; puts the previous file back when it does not come up.\n",
	apply_opts,
	"exit status: 0 applied (or nothing to do), 1 failed (and rolled back), 2 usage error\n"
	"docs: docs/hagen.md\n",
	0};

/* Returns -1 to go on, or the exit code (help shown, or a usage error reported). */
static int parse_args(int argc, char **argv, struct apply *a)
{
	struct opt_parser p;
	struct stat st;
	int r, t;

	a->timeout_s = APPLY_DEFAULT_TIMEOUT;
	opt_init(&p, &apply_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_ENV:
			a->env = p.val;
			break;
		case O_TARGET:
			if (inv_parse_target(p.val, &t) < 0)
				return opt_bad_value(&p, stderr, "supported targets are %s",
						     inv_targets_text());
			a->target = p.val;
			break;
		case O_TEMPLATES:
			a->templates = p.val;
			break;
		case O_CONFIG:
			a->config = p.val;
			break;
		case O_MASTER:
			a->master = p.val;
			break;
		case O_PIDFILE:
			a->pidfile = p.val;
			break;
		case O_SYSTEMD:
			a->unit = p.val;
			break;
		case O_STATS:
			a->stats = p.val;
			break;
		case O_HAPROXY:
			a->haproxy = p.val;
			break;
		case O_TIMEOUT:
			a->timeout_s = (int)p.num;
			break;
		case O_DRY_RUN:
			a->dry_run = 1;
			break;
		case OPT_OPERAND:
			if (a->inventory)
				return opt_usage_error(&apply_cmd, stderr,
						       "too many arguments ('%s' after '%s')", p.val,
						       a->inventory);
			a->inventory = p.val;
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!a->inventory)
		return opt_usage_error(&apply_cmd, stderr, "no inventory file given");
	if (!a->config)
		return opt_usage_error(&apply_cmd, stderr,
				       "apply needs --config (the file HAProxy runs with)");
	/* the new file is renamed over it: never over a device or a FIFO (/dev/null) */
	if (stat(a->config, &st) == 0 && !S_ISREG(st.st_mode))
		return opt_usage_error(&apply_cmd, stderr,
				       "--config %s is not a regular file (apply installs the "
				       "configuration by renaming a new file over it)",
				       a->config);
	if (!!a->master + !!a->pidfile + !!a->unit > 1)
		return opt_usage_error(&apply_cmd, stderr,
				       "give one of --master-socket, --pidfile, --systemd");
	a->method = a->master ? M_MASTER : a->pidfile ? M_PIDFILE : a->unit ? M_SYSTEMD : M_NONE;
	if (a->method == M_NONE && !a->dry_run)
		return opt_usage_error(&apply_cmd, stderr,
				       "apply needs --master-socket, --pidfile or --systemd (how to "
				       "reload HAProxy); --dry-run needs none");
	return -1;
}

static int read_all(const char *path, struct strbuf *sb, int *exists)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[65536];
	ssize_t r;

	*exists = 0;
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	*exists = 1;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || strbuf_add(sb, buf, (size_t)r) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* The directory of path, opened for fsync (-1 when it cannot be). */
static int open_dir_of(const char *path)
{
	char *d = strdup(path), *slash;
	int fd;

	if (!d)
		return -1;
	slash = strrchr(d, '/');
	if (!slash)
		strcpy(d, ".");
	else if (slash == d)
		d[1] = '\0';
	else
		*slash = '\0';
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(d);
	return fd;
}

/* Writes text to path (created 0644, or with the mode of like when it exists), synced. */
static int write_synced(const char *path, const char *like, const char *text, size_t len)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1)
		return -1;
	if (like && stat(like, &st) == 0)
		(void)fchmod(fd, st.st_mode & 07777);
	if (fd_write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* path becomes a second name of what `from` names now (replacing path atomically). */
static int keep_copy(const char *from, const char *path)
{
	struct strbuf tmp = STRBUF_INIT;
	int rc;

	strbuf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	unlink(tmp.buf);
	rc = link(from, tmp.buf) == 0 && rename(tmp.buf, path) == 0 ? 0 : -1;
	if (rc < 0)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return rc;
}

static void sync_dir(const char *path)
{
	int d = open_dir_of(path);

	if (d != -1) {
		(void)fsync(d);
		close(d);
	}
}

/* Runs argv, waits at most timeout_s; returns the exit status, or -1. */
static int run_wait(char *const argv[], int timeout_s)
{
	pid_t pid = fork();
	int status;
	int64_t deadline = clock_mono_ms() + (int64_t)timeout_s * 1000;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "hagen: apply: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w == -1 && errno != EINTR)
			return -1;
		if (clock_mono_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		clock_sleep_ms(20);
	}
}

/* ---- the running HAProxy ---- */

static const char *stats_addr(const struct apply *a)
{
	const struct yn_node *p = yn_path(a->inv.view, "global.stats_socket.path");

	if (a->stats)
		return a->stats;
	return p && yn_is_text(p) ? p->str : NULL;
}

/* The PIDs of the pidfile. */
static size_t read_pidfile(const char *path, pid_t *pids, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	int exists;
	size_t n = 0;

	if (read_all(path, &sb, &exists) == 0)
		for (char *p = sb.buf; *p && n < max;) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (v > 0)
				pids[n++] = (pid_t)v;
			p = end + strspn(end, " \n\t");
		}
	strbuf_release(&sb);
	return n;
}

/* The current workers (master: its list; pidfile: its PIDs; systemd: the Pid the stats socket
 * answers). Fills p->workers. Returns 0, or -1 with err. */
static int current_workers(const struct apply *a, struct rt_procs *p, char *err, size_t errsz)
{
	struct strbuf out = STRBUF_INIT;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (a->method == M_MASTER) {
		if (rt_command(a->master, 1, "show proc", APPLY_RT_MS, &out, err, errsz) == 0) {
			if (rt_parse_procs(out.buf, p) == 0)
				rc = 0;
			else
				snprintf(err, errsz, "%s: not a master CLI (no 'show proc' answer)",
					 a->master);
		}
	} else if (a->method == M_PIDFILE) {
		p->nworkers = read_pidfile(a->pidfile, p->workers, RT_MAX_PROCS);
		for (size_t i = 0; i < p->nworkers; i++)
			if (kill(p->workers[i], 0) == 0)
				rc = 0;
		if (rc < 0)
			snprintf(err, errsz, "no running process in %s", a->pidfile);
	} else {
		const char *s = stats_addr(a);
		const char *pid;

		if (!s)
			snprintf(err, errsz, "no stats socket: set global.stats_socket or "
					     "--stats-socket");
		else if (rt_command(s, 0, "show info", APPLY_RT_MS, &out, err, errsz) == 0) {
			if ((pid = strstr(out.buf, "\nPid: ")) ||
			    (pid = !strncmp(out.buf, "Pid: ", 5) ? out.buf - 1 : NULL)) {
				p->workers[p->nworkers++] = (pid_t)strtol(pid + 6, NULL, 10);
				rc = 0;
			} else {
				snprintf(err, errsz, "%s: 'show info' gave no Pid", s);
			}
		}
	}
	strbuf_release(&out);
	return rc;
}

/* `show stat` of worker pid. */
static int worker_stat(const struct apply *a, pid_t pid, struct rt_stat *st, char *err, size_t errsz)
{
	struct strbuf out = STRBUF_INIT, cmd = STRBUF_INIT;
	int rc = -1;
	const char *s = a->method == M_MASTER ? a->master : stats_addr(a);

	memset(st, 0, sizeof(*st));
	if (!s) {
		snprintf(err, errsz, "no stats socket to verify with: set global.stats_socket or "
				     "--stats-socket");
		return -1;
	}
	if (a->method == M_MASTER)
		strbuf_addf(&cmd, "@!%ld show stat", (long)pid);
	else
		strbuf_addstr(&cmd, "show stat");
	if (rt_command(s, a->method == M_MASTER, cmd.buf, APPLY_RT_MS, &out, err, errsz) == 0) {
		if (rt_parse_stat(out.buf, out.len, st) == 0)
			rc = 0;
		else
			snprintf(err, errsz, "%s: 'show stat' did not answer a table", s);
	}
	strbuf_release(&out);
	strbuf_release(&cmd);
	return rc;
}

static int is_old(const struct apply *a, pid_t pid)
{
	for (size_t i = 0; i < a->nold; i++)
		if (a->old[i] == pid)
			return 1;
	return 0;
}

/* Reloads HAProxy and waits for the new worker. Returns its PID, or -1 with err. */
static pid_t reload(const struct apply *a, char *err, size_t errsz)
{
	int64_t deadline = clock_mono_ms() + (int64_t)a->timeout_s * 1000;
	struct strbuf out = STRBUF_INIT;
	struct rt_procs p;
	pid_t got = -1;

	if (a->method == M_MASTER) {
		if (rt_command(a->master, 1, "reload", APPLY_RT_MS, &out, err, errsz) < 0)
			goto out;
	} else if (a->method == M_PIDFILE) {
		/* a new process, told to finish the old ones softly (-sf) and to take their
		 * listening sockets over the stats socket (-x) when it can */
		char *argv[16 + RT_MAX_PROCS];
		char pidbuf[RT_MAX_PROCS][24];
		size_t n = 0;
		const char *sock = stats_addr(a);
		int st;

		argv[n++] = (char *)a->haproxy;
		argv[n++] = (char *)"-D";
		argv[n++] = (char *)"-f";
		argv[n++] = (char *)a->config;
		argv[n++] = (char *)"-p";
		argv[n++] = (char *)a->pidfile;
		if (sock && sock[0] == '/') {
			argv[n++] = (char *)"-x";
			argv[n++] = (char *)sock;
		}
		argv[n++] = (char *)"-sf";
		for (size_t i = 0; i < a->nold; i++) {
			snprintf(pidbuf[i], sizeof(pidbuf[i]), "%ld", (long)a->old[i]);
			argv[n++] = pidbuf[i];
		}
		argv[n] = NULL;
		st = run_wait(argv, a->timeout_s);
		if (st != 0) {
			snprintf(err, errsz, "%s -D -f %s -sf ... exited with %d", a->haproxy,
				 a->config, st);
			goto out;
		}
	} else {
		char *argv[] = {(char *)"systemctl", (char *)"reload", (char *)a->unit, NULL};
		int st = run_wait(argv, a->timeout_s);

		if (st != 0) {
			snprintf(err, errsz, "systemctl reload %s exited with %d", a->unit, st);
			goto out;
		}
	}
	while (clock_mono_ms() < deadline) {
		char e2[256];

		clock_sleep_ms(APPLY_POLL_MS);
		if (current_workers(a, &p, e2, sizeof(e2)) < 0)
			continue; /* the master re-executes itself: its socket comes back */
		if (a->method == M_MASTER && p.failed > a->failed0) {
			snprintf(err, errsz, "HAProxy refused the new configuration when reloading "
					     "(see its log); the old workers still run");
			goto out;
		}
		for (size_t i = 0; i < p.nworkers; i++)
			if (!is_old(a, p.workers[i]) && kill(p.workers[i], 0) == 0) {
				got = p.workers[i];
				goto out;
			}
	}
	snprintf(err, errsz, "no new worker appeared within %d s", a->timeout_s);
out:
	strbuf_release(&out);
	return got;
}

/* ---- verification ---- */

struct want {
	const char *px, *sv; /* "be_api", "api1" or "BACKEND" */
	int check, maint;    /* what the configuration says of the server */
	int excused;	     /* it was not UP before the reload either */
	int pending;	     /* not there yet */
	char why[32];	     /* the last state seen, while not reached */
};

static int has_param(const struct yn_node *params, const char *p)
{
	for (size_t i = 0; params && i < params->n; i++)
		if (yn_is_text(params->items[i]) && !strcmp(params->items[i]->str, p))
			return 1;
	return 0;
}

/* What the inventory says must run: every backend, and every server with its state. */
static struct want *wanted(const struct apply *a, size_t *n)
{
	const struct yn_node *bes = yn_get(a->inv.view, "backends");
	struct want *w;
	size_t cap = 0, k = 0;

	for (size_t i = 0; bes && i < bes->n; i++)
		cap += 1 + (yn_get(bes->items[i], "servers") ? yn_get(bes->items[i], "servers")->n : 0);
	w = calloc(cap ? cap : 1, sizeof(*w));
	if (!w)
		return NULL;
	for (size_t i = 0; bes && i < bes->n; i++) {
		const struct yn_node *be = bes->items[i], *sv = yn_get(be, "servers");
		char *px = malloc(strlen(yn_get(be, "name")->str) + 4);

		if (!px)
			break;
		snprintf(px, strlen(yn_get(be, "name")->str) + 4, "be_%s", yn_get(be, "name")->str);
		w[k].px = px;
		w[k++].sv = "BACKEND";
		for (size_t j = 0; sv && j < sv->n; j++) {
			const struct yn_node *params = yn_get(sv->items[j], "params");

			w[k].px = px;
			w[k].sv = yn_get(sv->items[j], "name")->str;
			w[k].check = has_param(params, "check");
			w[k].maint = has_param(params, "disabled");
			k++;
		}
	}
	*n = k;
	return w;
}

static void wanted_free(struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w[i].sv, "BACKEND"))
			free((char *)w[i].px);
	free(w);
}

/* Waits until worker pid runs every backend and every server is in its state. Returns 0, or -1
 * after printing each thing that did not get there. */
static int verify(struct apply *a, pid_t pid)
{
	int64_t deadline = clock_mono_ms() + (int64_t)a->timeout_s * 1000;
	size_t n = 0, excused = 0, checked = 0;
	struct want *w = wanted(a, &n);
	int rc = -1, done = 0, down = 0;
	char err[256] = "";

	if (!w) {
		say("out of memory");
		return -1;
	}
	/* a server that was not UP before (same backend, same name) may stay so */
	for (size_t i = 0; i < n; i++) {
		const struct rt_row *r = rt_stat_find(&a->before, w[i].px, w[i].sv);

		if (r && w[i].check && strcmp(w[i].sv, "BACKEND") && strncmp(r->status, "UP", 2) &&
		    strcmp(r->status, "no check"))
			w[i].excused = 1, excused++;
	}
	while (!done && !down && clock_mono_ms() < deadline) {
		struct rt_stat st;

		if (kill(pid, 0) != 0) {
			snprintf(err, sizeof(err), "the new worker %ld is gone", (long)pid);
			break;
		}
		if (worker_stat(a, pid, &st, err, sizeof(err)) < 0) {
			clock_sleep_ms(APPLY_POLL_MS);
			continue;
		}
		done = 1;
		checked = 0;
		for (size_t i = 0; i < n; i++) {
			const struct rt_row *r = rt_stat_find(&st, w[i].px, w[i].sv);
			int ok;

			if (!r) {
				w[i].pending = 1;
				snprintf(w[i].why, sizeof(w[i].why), "missing");
				done = 0;
				continue;
			}
			if (!strcmp(w[i].sv, "BACKEND"))
				ok = 1;
			else if (w[i].maint)
				ok = !strncmp(r->status, "MAINT", 5);
			else if (w[i].excused || !w[i].check)
				ok = 1;
			else {
				ok = !strcmp(r->status, "UP") && !strncmp(r->check, "L", 1) &&
				     strstr(r->check, "OK");
				if (!strcmp(r->status, "DOWN"))
					down = 1;
				checked += ok;
			}
			w[i].pending = !ok;
			snprintf(w[i].why, sizeof(w[i].why), "%s", r->status);
			if (!ok)
				done = 0;
		}
		rt_stat_release(&st);
		if (!done && !down)
			clock_sleep_ms(APPLY_POLL_MS);
	}
	if (done) {
		say("worker %ld runs every service; %zu checked server%s UP%s", (long)pid, checked,
		    checked == 1 ? "" : "s",
		    excused ? " (servers already down before are not counted)" : "");
		rc = 0;
	} else {
		if (err[0])
			say("%s", err);
		for (size_t i = 0; i < n; i++) {
			if (!w[i].pending)
				continue;
			if (!strcmp(w[i].sv, "BACKEND"))
				say("backend %s is missing in worker %ld", w[i].px, (long)pid);
			else
				say("server %s/%s is %s%s", w[i].px, w[i].sv, w[i].why,
				    w[i].maint ? " (expected MAINT)" : " (expected UP with a passing check)");
		}
		if (!down)
			say("not there after %d s", a->timeout_s);
	}
	wanted_free(w, n);
	return rc;
}

/* ---- the command ---- */

static int rollback(struct apply *a)
{
	char err[256];
	pid_t pid;
	struct rt_procs p;

	if (access(a->prevpath, F_OK) != 0) {
		say("no previous configuration to go back to (%s was new); %s stays in place",
		    a->config, a->config);
		return -1;
	}
	keep_copy(a->config, a->rejpath);
	if (rename(a->prevpath, a->config) == -1) {
		say("cannot put back %s: %s", a->prevpath, strerror(errno));
		return -1;
	}
	sync_dir(a->config);
	say("rolled back: %s is the previous configuration again (the rejected one is %s)",
	    a->config, a->rejpath);
	/* the workers of the failed attempt are the old ones now */
	if (current_workers(a, &p, err, sizeof(err)) == 0) {
		a->nold = p.nworkers;
		memcpy(a->old, p.workers, p.nworkers * sizeof(pid_t));
		if (a->method == M_MASTER) {
			struct strbuf out = STRBUF_INIT;
			struct rt_procs m;

			if (rt_command(a->master, 1, "show proc", APPLY_RT_MS, &out, err,
				       sizeof(err)) == 0 &&
			    rt_parse_procs(out.buf, &m) == 0)
				a->failed0 = m.failed;
			strbuf_release(&out);
		}
	}
	pid = reload(a, err, sizeof(err));
	if (pid < 0) {
		say("reloading the previous configuration failed too: %s", err);
		return -1;
	}
	say("HAProxy reloaded with the previous configuration (worker %ld)", (long)pid);
	return 0;
}

int cmd_apply(int argc, char **argv)
{
	struct apply a;
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf installed = STRBUF_INIT, diff = STRBUF_INIT, tg = STRBUF_INIT;
	struct inv_opts io;
	struct rt_procs procs;
	int exists = 0, rc = EXIT_CODE_ERR, target;
	size_t changes = 0;
	char err[256];
	pid_t pid;

	memset(&a, 0, sizeof(a));
	a.out.text = (struct strbuf)STRBUF_INIT;
	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	rc = EXIT_CODE_ERR;
	if (!a.haproxy)
		a.haproxy = check_find_haproxy();
	if (!a.haproxy) {
		say("haproxy not found (install it, set HAPROXY or give --haproxy)");
		return EXIT_CODE_ERR;
	}
	/* the target: --target, else the version of the haproxy that runs */
	if (!a.target) {
		int v;

		if (check_haproxy_target(a.haproxy, &v) < 0) {
			say("cannot tell the version of %s (haproxy -v)", a.haproxy);
			return EXIT_CODE_ERR;
		}
		if (inv_nearest_target(v, &target) < 0)
			say("%s is HAProxy %d.%d; rendering for %d.%d, the closest target hagen knows",
			    a.haproxy, v / 100, v % 100, target / 100, target % 100);
		strbuf_addf(&tg, "%d.%d", target / 100, target % 100);
		a.target = tg.buf;
	}
	io.env = a.env;
	io.target = a.target;
	dl.max = 200;
	if (render_inventory(a.inventory, &io, a.templates, &a.inv, &a.out, &dl) < 0) {
		diag_sort(&dl);
		diag_print(&dl, stderr, "hagen");
		say("the inventory is invalid: nothing was installed");
		goto out;
	}
	diag_sort(&dl);
	diag_print(&dl, stderr, "hagen");
	strbuf_addf(&diff, "%s.hagen-new.%ld", a.config, (long)getpid());
	a.newpath = strbuf_detach(&diff, NULL);
	strbuf_addf(&diff, "%s.prev", a.config);
	a.prevpath = strbuf_detach(&diff, NULL);
	strbuf_addf(&diff, "%s.rejected", a.config);
	a.rejpath = strbuf_detach(&diff, NULL);
	/* check where it will live (relative paths in it resolve the same) */
	if (write_synced(a.newpath, a.config, a.out.text.buf, a.out.text.len) < 0) {
		say("cannot write %s: %s", a.newpath, strerror(errno));
		goto out;
	}
	if (check_file(a.haproxy, a.newpath, &a.inv, &a.out) < 0) {
		unlink(a.newpath);
		say("%s rejected the configuration: nothing was installed", a.haproxy);
		goto out;
	}
	say("%s -c accepts the configuration rendered for HAProxy %s", a.haproxy, a.target);
	if (read_all(a.config, &installed, &exists) < 0) {
		say("cannot read %s: %s", a.config, strerror(errno));
		unlink(a.newpath);
		goto out;
	}
	if (linediff_unified(installed.buf, installed.len, a.out.text.buf, a.out.text.len,
			     a.config, a.inventory, 3, &diff, &changes) < 0) {
		say("out of memory");
		unlink(a.newpath);
		goto out;
	}
	fwrite(diff.buf, 1, diff.len, stdout);
	fflush(stdout);
	if (exists && !changes) {
		unlink(a.newpath);
		say("%s already holds this configuration: nothing to do", a.config);
		rc = EXIT_CODE_OK;
		goto out;
	}
	if (a.dry_run) {
		unlink(a.newpath);
		say("dry run: %zu line%s would change in %s; it would be installed (previous kept as "
		    "%s) and HAProxy reloaded %s, then every service and server verified within %d s",
		    changes, changes == 1 ? "" : "s", a.config, a.prevpath,
		    a.method == M_MASTER    ? "through the master CLI"
		    : a.method == M_PIDFILE ? "with -sf and the PIDs of the pidfile"
		    : a.method == M_SYSTEMD ? "with systemctl reload"
					    : "(no reload method given)",
		    a.timeout_s);
		rc = EXIT_CODE_OK;
		goto out;
	}
	/* the running HAProxy, before anything changes */
	if (current_workers(&a, &procs, err, sizeof(err)) < 0) {
		unlink(a.newpath);
		say("cannot reach the running HAProxy: %s; nothing was installed", err);
		goto out;
	}
	a.nold = procs.nworkers;
	memcpy(a.old, procs.workers, procs.nworkers * sizeof(pid_t));
	a.failed0 = procs.failed;
	if (procs.nworkers && worker_stat(&a, procs.workers[0], &a.before, err, sizeof(err)) < 0)
		memset(&a.before, 0, sizeof(a.before)); /* no baseline: every check must pass */
	/* install: the previous file keeps a second name, then the new one takes its place */
	if (exists && keep_copy(a.config, a.prevpath) < 0) {
		say("cannot keep the previous configuration as %s: %s; nothing was installed",
		    a.prevpath, strerror(errno));
		unlink(a.newpath);
		goto out;
	}
	if (rename(a.newpath, a.config) == -1) {
		say("cannot install %s: %s", a.config, strerror(errno));
		unlink(a.newpath);
		goto out;
	}
	sync_dir(a.config);
	say("installed %s (%zu line%s changed; the previous one is %s)", a.config, changes,
	    changes == 1 ? "" : "s", exists ? a.prevpath : "none");
	pid = reload(&a, err, sizeof(err));
	if (pid < 0) {
		say("reload failed: %s", err);
		rollback(&a);
		goto out;
	}
	say("reloaded: new worker %ld", (long)pid);
	if (verify(&a, pid) < 0) {
		rollback(&a);
		say("apply failed: the new configuration did not come up; the previous one runs");
		goto out;
	}
	rc = EXIT_CODE_OK;
out:
	diag_release(&dl);
	inv_release(&a.inv);
	tmpl_out_release(&a.out);
	rt_stat_release(&a.before);
	strbuf_release(&installed);
	strbuf_release(&diff);
	strbuf_release(&tg);
	free(a.newpath);
	free(a.prevpath);
	free(a.rejpath);
	return rc;
}
