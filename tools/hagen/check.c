/* hagen check: haproxy -c -dW on the rendered file, messages mapped back to the inventory. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "render.h"

#define CHECK_DUMMY_SECRET "hagen-check-dummy"

static int executable(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

const char *check_find_haproxy(void)
{
	static char found[4096];
	const char *env = getenv("HAPROXY"), *path = getenv("PATH");
	static const char *const fixed[] = {"/usr/sbin/haproxy", "/usr/local/sbin/haproxy", NULL};

	if (env && *env)
		return executable(env) ? env : NULL;
	while (path && *path) {
		size_t l = strcspn(path, ":");

		if (l && l + 9 < sizeof(found)) {
			snprintf(found, sizeof(found), "%.*s/haproxy", (int)l, path);
			if (executable(found))
				return found;
		}
		path += l + (path[l] == ':');
	}
	for (size_t i = 0; fixed[i]; i++)
		if (executable(fixed[i]))
			return fixed[i];
	return NULL;
}

/* Strips "[LEVEL]   (pid) : config : " and "parsing [file:N] : " prefixes. */
static const char *message_body(const char *line)
{
	const char *p = strstr(line, " : ");

	/* "[ALERT]    (123) : config : parsing [f:1] : msg" */
	while (p) {
		const char *q = p + 3;

		if (!strncmp(q, "config : ", 9))
			q += 9;
		if (!strncmp(q, "parsing [", 9)) {
			const char *e = strstr(q, "] : ");

			if (e)
				return e + 4;
		}
		if (strncmp(p + 3, "config : ", 9) && p > line && p[-1] == ')')
			return q;
		if (!strncmp(p + 3, "config : ", 9))
			return q;
		p = strstr(p + 3, " : ");
	}
	return line;
}

static void map_line(const char *line, const char *cfg_path, const struct inv *inv,
		     const struct tmpl_out *out, struct diag_list *dl)
{
	enum diag_level lvl;
	size_t cl = strlen(cfg_path);
	const char *p, *body;
	unsigned iline = 0, icol = 0;
	size_t cfgline = 0;
	char entry[160] = "";

	if (!strncmp(line, "[ALERT]", 7))
		lvl = DIAG_ERROR;
	else if (!strncmp(line, "[WARNING]", 9))
		lvl = DIAG_WARNING;
	else
		return; /* NOTICE and the like */
	body = message_body(line);
	if (strstr(line, "Error(s) found in configuration file") ||
	    strstr(line, "Fatal errors found in configuration") ||
	    strstr(line, "'zero-warning' is set"))
		return; /* summaries; the exit status says it */
	/* "[path:N]" anywhere in the line */
	for (p = line; (p = strchr(p, '[')); p++) {
		if (!strncmp(p + 1, cfg_path, cl) && p[1 + cl] == ':') {
			char *end;
			long n = strtol(p + 2 + cl, &end, 10);

			if (*end == ']' && n > 0) {
				cfgline = (size_t)n;
				break;
			}
		}
	}
	if (!cfgline) {
		/* "proxy 'be_api'", "backend 'be_api'", "frontend 'fe_web'" */
		static const char *const kinds[] = {"backend", "frontend", "listen", "proxy"};

		for (size_t k = 0; k < 4 && !cfgline; k++) {
			char pat[32];
			const char *q;

			snprintf(pat, sizeof(pat), "%s '", kinds[k]);
			if ((q = strstr(line, pat))) {
				char name[128];
				size_t nl;

				q += strlen(pat);
				nl = strcspn(q, "'");
				if (nl < sizeof(name)) {
					memcpy(name, q, nl);
					name[nl] = '\0';
					cfgline = render_find_section(out, "backend", name);
					if (!cfgline)
						cfgline =
							render_find_section(out, "frontend", name);
					if (!cfgline)
						cfgline = render_find_section(out, "listen", name);
				}
			}
		}
	}
	if (cfgline)
		render_origin(out, cfgline, &iline, &icol, entry, sizeof(entry));
	if (cfgline && entry[0])
		diag_add(dl, lvl, inv->file, iline, icol, "haproxy: %s (%s, haproxy.cfg line %zu)",
			 body, entry, cfgline);
	else if (cfgline)
		diag_add(dl, lvl, inv->file, iline, icol, "haproxy: %s (haproxy.cfg line %zu)",
			 body, cfgline);
	else
		diag_add(dl, lvl, inv->file, 0, 0, "haproxy: %s", body);
}

void check_map_output(const char *text, size_t len, const char *cfg_path, const struct inv *inv,
		      const struct tmpl_out *out, struct diag_list *dl)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, l);

		if (line) {
			map_line(line, cfg_path, inv, out, dl);
			free(line);
		}
		p += l + 1;
	}
}


/* Runs haproxy with the arguments of mode: -c -dW -f cfg (check), or -v (version, cfg unused),
 * collecting stdout+stderr (capped). Returns its exit status, or -1. */
static int run_haproxy(const char *haproxy, const char *cfg, const struct inv *inv,
		       struct strbuf *output, int version)
{
	int pfd[2];
	pid_t pid;
	int status = 0, rc = -1;
	time_t start = time(NULL);

	if (pipe(pfd) == -1) {
		fprintf(stderr, "hagen: check: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "hagen: check: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		for (size_t i = 0; inv && i < inv->nsecret_envs; i++)
			if (!getenv(inv->secret_envs[i]))
				setenv(inv->secret_envs[i], CHECK_DUMMY_SECRET, 1);
		if (version)
			execl(haproxy, haproxy, "-v", (char *)NULL);
		else
			execl(haproxy, haproxy, "-c", "-dW", "-f", cfg, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", haproxy, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd pf = {pfd[0], POLLIN, 0};
		char buf[4096];
		ssize_t r;
		int pr = poll(&pf, 1, 1000);

		if (pr < 0 && errno != EINTR)
			break;
		if (time(NULL) - start > CHECK_TIMEOUT_S) {
			fprintf(stderr,
				"hagen: check: haproxy did not finish within %d s; stopped\n",
				CHECK_TIMEOUT_S);
			kill(pid, SIGKILL);
			break;
		}
		if (pr <= 0)
			continue;
		r = read(pfd[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (output->len + (size_t)r <= CHECK_MAX_OUTPUT)
			strbuf_add(output, buf, (size_t)r);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	return rc;
}

/* haproxy -c says "haproxy version is 2.6.12-..." in a NOTICE: warn when it is not the target. */
static void note_version(const char *text, const struct inv *inv)
{
	const char *v = strstr(text, "haproxy version is ");
	long maj, min;
	char *end;

	if (!v)
		return;
	v += strlen("haproxy version is ");
	maj = strtol(v, &end, 10);
	if (*end != '.')
		return;
	min = strtol(end + 1, &end, 10);
	if (maj * 100 + min != inv->target)
		fprintf(stderr,
			"hagen: note: rendered for HAProxy %d.%d but checked with haproxy %ld.%ld; "
			"directives "
			"that differ between the two may be reported\n",
			inv->target / 100, inv->target % 100, maj, min);
}

int check_haproxy_target(const char *haproxy, int *target)
{
	struct strbuf out = STRBUF_INIT;
	const char *v;
	long maj, min;
	char *end;
	int rc = -1;

	if (run_haproxy(haproxy, NULL, NULL, &out, 1) == 0 &&
	    (v = strstr(out.buf, "version ")) != NULL) {
		maj = strtol(v + 8, &end, 10);
		if (*end == '.') {
			min = strtol(end + 1, &end, 10);
			*target = (int)(maj * 100 + min);
			rc = 0;
		}
	}
	strbuf_release(&out);
	return rc;
}

int check_file(const char *haproxy, const char *path, const struct inv *inv,
	       const struct tmpl_out *out)
{
	struct strbuf output = STRBUF_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	int st, rc = -1;

	for (size_t i = 0; i < inv->nsecret_envs; i++)
		if (!getenv(inv->secret_envs[i]))
			fprintf(stderr,
				"hagen: note: %s is not set; the check uses a dummy value for it "
				"(only for this check)\n",
				inv->secret_envs[i]);
	st = run_haproxy(haproxy, path, inv, &output, 0);
	check_map_output(output.buf, output.len, path, inv, out, &dl);
	note_version(output.buf, inv);
	diag_sort(&dl);
	diag_print(&dl, stderr, "hagen");
	if (st == 0 && !dl.errors) {
		rc = 0;
	} else {
		if (!dl.n && output.len)
			fprintf(stderr, "%s", output.buf);
		fprintf(stderr, "hagen: check: %s rejected the configuration rendered from %s\n",
			haproxy, inv->file);
	}
	strbuf_release(&output);
	diag_release(&dl);
	return rc;
}

int check_with_haproxy(const struct inv *inv, const struct tmpl_out *out)
{
	const char *haproxy = check_find_haproxy(), *tmpdir = getenv("TMPDIR");
	struct strbuf path = STRBUF_INIT;
	int fd, rc = -1;

	if (!haproxy) {
		fprintf(stderr,
			"hagen: check: haproxy not found (install it, or set "
			"HAPROXY=/path/to/haproxy); "
			"%s is valid for hagen but was not checked by HAProxy\n",
			inv->file);
		return -1;
	}
	strbuf_addf(&path, "%s/hagen-check-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemp(path.buf);
	if (fd == -1) {
		fprintf(stderr, "hagen: check: %s: %s\n", path.buf, strerror(errno));
		goto out;
	}
	if (fd_write_all(fd, out->text.buf, out->text.len) < 0) {
		fprintf(stderr, "hagen: check: %s: %s\n", path.buf, strerror(errno));
		close(fd);
		unlink(path.buf);
		goto out;
	}
	close(fd);
	rc = check_file(haproxy, path.buf, inv, out);
	unlink(path.buf);
	if (rc == 0)
		printf("%s: valid: %s -c -dW accepts it with zero warnings (target %d.%d)\n",
		       inv->file, haproxy, inv->target / 100, inv->target % 100);
out:
	strbuf_release(&path);
	return rc;
}
