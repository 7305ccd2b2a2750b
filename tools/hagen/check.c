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

/* Strips "[LEVEL]   (pid) : config : " and "parsing [file:N] : " (or "]: ") prefixes. */
static const char *message_body(const char *line)
{
	const char *p = strstr(line, " : ");

	/* "[ALERT]    (123) : config : parsing [f:1] : msg" */
	while (p) {
		const char *q = p + 3;

		if (!strncmp(q, "config : ", 9))
			q += 9;
		if (!strncmp(q, "parsing [", 9)) {
			const char *e = strstr(q, "] : "), *e2 = strstr(q, "]: ");

			/* "parsing [f:1] : msg", and "parsing [f:1]: msg" in some newer messages */
			if (e2 && (!e || e2 < e))
				return e2 + 3;
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

/* Maps one line of haproxy's output; returns 1 when it was a deprecation warning tolerated as a
 * note (newer > 0: haproxy is a newer version than the target), else 0. */
static int map_line(const char *line, const char *cfg_path, const struct inv *inv,
		    const struct tmpl_out *out, int newer, struct diag_list *dl)
{
	enum diag_level lvl;
	size_t cl = strlen(cfg_path);
	const char *p, *body;
	unsigned iline = 0, icol = 0;
	size_t cfgline = 0;
	char entry[160] = "", why[96] = "";

	if (!strncmp(line, "[ALERT]", 7))
		lvl = DIAG_ERROR;
	else if (!strncmp(line, "[WARNING]", 9))
		lvl = DIAG_WARNING;
	else
		return 0; /* NOTICE and the like */
	body = message_body(line);
	if (strstr(line, "Error(s) found in configuration file") ||
	    strstr(line, "Fatal errors found in configuration") ||
	    strstr(line, "'zero-warning' is set"))
		return 0; /* summaries; the exit status says it */
	/* a newer haproxy deprecating what the target needs: the rendering is right for its target */
	if (lvl == DIAG_WARNING && newer > 0 && strstr(body, "deprecated")) {
		lvl = DIAG_NOTE;
		snprintf(why, sizeof(why), "; rendered for HAProxy %d.%d, deprecated by %d.%d",
			 inv->target / 100, inv->target % 100, newer / 100, newer % 100);
	}
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
		diag_add(dl, lvl, inv->file, iline, icol, "haproxy: %s (%s, haproxy.cfg line %zu%s)",
			 body, entry, cfgline, why);
	else if (cfgline)
		diag_add(dl, lvl, inv->file, iline, icol, "haproxy: %s (haproxy.cfg line %zu%s)",
			 body, cfgline, why);
	else
		diag_add(dl, lvl, inv->file, 0, 0, "haproxy: %s%s%s%s", body, why[0] ? " (" : "",
			 why[0] ? why + 2 : "", why[0] ? ")" : "");
	return lvl == DIAG_NOTE;
}

/* The version haproxy -c names in its NOTICE ("haproxy version is 3.4.0"), or 0. */
static int output_version(const char *text, size_t len)
{
	static const char key[] = "haproxy version is ";
	const char *v = text, *end = text + len;
	long maj, min;
	char *e;

	while (v < end && (v = memchr(v, 'h', (size_t)(end - v))) != NULL) {
		if ((size_t)(end - v) > sizeof(key) && !memcmp(v, key, sizeof(key) - 1))
			break;
		v++;
	}
	if (!v || v >= end)
		return 0;
	v += sizeof(key) - 1;
	maj = strtol(v, &e, 10);
	if (*e != '.' || maj < 0 || maj > 99)
		return 0;
	min = strtol(e + 1, &e, 10);
	return min >= 0 && min <= 99 ? (int)(maj * 100 + min) : 0;
}

size_t check_map_output(const char *text, size_t len, const char *cfg_path, const struct inv *inv,
			const struct tmpl_out *out, struct diag_list *dl)
{
	const char *p = text, *end = text + len;
	int v = output_version(text, len);
	int newer = v > inv->target ? v : 0;
	size_t tolerated = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, l);

		if (line) {
			tolerated += (size_t)map_line(line, cfg_path, inv, out, newer, dl);
			free(line);
		}
		p += l + 1;
	}
	return tolerated;
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
static void note_version(const char *text, size_t len, const struct inv *inv)
{
	int v = output_version(text, len);

	if (v && v != inv->target)
		fprintf(stderr,
			"hagen: note: rendered for HAProxy %d.%d but checked with haproxy %d.%d; "
			"directives "
			"that differ between the two may be reported\n",
			inv->target / 100, inv->target % 100, v / 100, v % 100);
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
	size_t tolerated, warnings = 0;

	for (size_t i = 0; i < inv->nsecret_envs; i++)
		if (!getenv(inv->secret_envs[i]))
			fprintf(stderr,
				"hagen: note: %s is not set; the check uses a dummy value for it "
				"(only for this check)\n",
				inv->secret_envs[i]);
	st = run_haproxy(haproxy, path, inv, &output, 0);
	tolerated = check_map_output(output.buf, output.len, path, inv, out, &dl);
	note_version(output.buf, output.len, inv);
	diag_sort(&dl);
	diag_print(&dl, stderr, "hagen");
	for (size_t i = 0; i < dl.n; i++)
		warnings += dl.items[i].level == DIAG_WARNING;
	/* -dW fails on any warning: when the only ones were deprecations by a newer haproxy of
	 * what the target needs, the configuration is right for its target */
	if (!dl.errors && (st == 0 || (st == 1 && tolerated && !warnings))) {
		rc = tolerated ? 1 : 0;
		if (tolerated) {
			int v = output_version(output.buf, output.len), t;

			(void)inv_nearest_target(v, &t); /* the newest hagen knows up to v */
			fprintf(stderr,
				"hagen: note: %zu deprecation warning%s of haproxy %d.%d about what "
				"target %d.%d needs; --target %d.%d renders the new forms\n",
				tolerated, tolerated == 1 ? "" : "s", v / 100, v % 100,
				inv->target / 100, inv->target % 100, t / 100, t % 100);
		}
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
	else if (rc == 1)
		printf("%s: valid: %s -c -dW accepts it with only deprecation warnings of what "
		       "target %d.%d needs\n",
		       inv->file, haproxy, inv->target / 100, inv->target % 100);
out:
	strbuf_release(&path);
	return rc;
}
