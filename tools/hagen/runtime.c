/* HAProxy's runtime API and master CLI; see runtime.h. */
#include "runtime.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "parse.h"

/* A connected socket to addr (a path, or HOST:PORT), or -1 with err set. */
static int rt_connect(const char *addr, char *err, size_t errsz)
{
	char host[256];
	unsigned port;
	int v6, fd = -1;
	const char *why;

	if (!strncmp(addr, "unix@", 5))
		addr += 5;
	if (!strncmp(addr, "ipv4@", 5) || !strncmp(addr, "ipv6@", 5))
		addr += 5;
	if (addr[0] == '/' || parse_hostport(addr, host, sizeof(host), &port, &v6, &why) < 0) {
		struct sockaddr_un sa;

		if (strlen(addr) >= sizeof(sa.sun_path)) {
			snprintf(err, errsz, "socket path '%s' is too long", addr);
			return -1;
		}
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, addr, strlen(addr) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
			snprintf(err, errsz, "cannot connect to %s: %s", addr, strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		return fd;
	} else {
		struct addrinfo hints, *res = NULL, *ai;
		char ps[16];
		int gai;

		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(ps, sizeof(ps), "%u", port);
		if ((gai = getaddrinfo(host[0] ? host : "127.0.0.1", ps, &hints, &res)) != 0) {
			snprintf(err, errsz, "cannot resolve %s: %s", addr, gai_strerror(gai));
			return -1;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd != -1 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			if (fd != -1)
				close(fd);
			fd = -1;
		}
		if (fd == -1)
			snprintf(err, errsz, "cannot connect to %s: %s", addr, strerror(errno));
		freeaddrinfo(res);
		return fd;
	}
}

int rt_command(const char *addr, int master, const char *cmd, int timeout_ms, struct strbuf *out,
	       char *err, size_t errsz)
{
	struct strbuf line = STRBUF_INIT;
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int fd = rt_connect(addr, err, errsz), rc = -1;

	if (fd == -1)
		return -1;
	if (strchr(cmd, '\n')) {
		snprintf(err, errsz, "a command is one line");
		goto out;
	}
	strbuf_addstr(&line, cmd);
	/* the master CLI waits for more unless told to quit; "reload" closes by itself */
	if (master && strcmp(cmd, "reload"))
		strbuf_addstr(&line, ";quit");
	strbuf_addch(&line, '\n');
	if (fd_write_all(fd, line.buf, line.len) < 0) {
		snprintf(err, errsz, "%s: %s", addr, strerror(errno));
		goto out;
	}
	for (;;) {
		char buf[16384];
		struct pollfd pf = {fd, POLLIN, 0};
		int64_t now = clock_mono_ms();
		int pr;
		ssize_t r;

		if (now >= deadline) {
			snprintf(err, errsz, "%s did not answer '%s' within %d ms", addr, cmd,
				 timeout_ms);
			goto out;
		}
		pr = poll(&pf, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			snprintf(err, errsz, "%s: %s", addr, strerror(errno));
			goto out;
		}
		if (!pr)
			continue;
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "%s: %s", addr, strerror(errno));
			goto out;
		}
		if (!r)
			break;
		if (out->len + (size_t)r > RT_MAX_REPLY) {
			snprintf(err, errsz, "%s answered more than %u bytes", addr, RT_MAX_REPLY);
			goto out;
		}
		strbuf_add(out, buf, (size_t)r);
	}
	rc = 0;
out:
	close(fd);
	strbuf_release(&line);
	return rc;
}

int rt_parse_procs(const char *text, struct rt_procs *p)
{
	const char *l = text;
	int section = 0; /* 0 master, 1 workers, 2 old workers, 3 programs */

	memset(p, 0, sizeof(*p));
	if (strncmp(text, "#<PID>", 6))
		return -1;
	while (*l) {
		size_t n = strcspn(l, "\n");
		char *end;
		long pid;

		if (!strncmp(l, "# workers", 9))
			section = 1;
		else if (!strncmp(l, "# old workers", 13))
			section = 2;
		else if (!strncmp(l, "# programs", 10))
			section = 3;
		else if (l[0] >= '0' && l[0] <= '9') {
			pid = strtol(l, &end, 10);
			if (section == 0 && strstr(l, "master")) {
				const char *f;

				p->master = (pid_t)pid;
				while (*end == ' ' || *end == '\t')
					end++;
				end += strcspn(end, " \t"); /* the type */
				p->reloads = (unsigned)strtoul(end, NULL, 10);
				if ((f = strstr(l, "[failed: ")) && f < l + n)
					p->failed = (unsigned)strtoul(f + 9, NULL, 10);
			} else if (section == 1 && p->nworkers < RT_MAX_PROCS) {
				p->workers[p->nworkers++] = (pid_t)pid;
			} else if (section == 2 && p->nold < RT_MAX_PROCS) {
				p->old[p->nold++] = (pid_t)pid;
			}
		}
		l += n + (l[n] == '\n');
	}
	return p->master ? 0 : -1;
}

int rt_parse_stat(const char *text, size_t len, struct rt_stat *st)
{
	int col_px = -1, col_sv = -1, col_status = -1, col_weight = -1, col_check = -1,
	    col_addr = -1;
	char *p, *eol, *end;
	size_t alloc = 0;

	memset(st, 0, sizeof(*st));
	if (len < 2 || strncmp(text, "# ", 2))
		return -1;
	st->text = malloc(len + 1);
	if (!st->text)
		return -1;
	memcpy(st->text, text, len);
	st->text[len] = '\0';
	end = st->text + len;
	/* the header: "# pxname,svname,..." */
	eol = strchr(st->text, '\n');
	if (!eol)
		goto bad;
	*eol = '\0';
	{
		int c = 0;

		for (char *f = st->text + 2, *next; f; f = next, c++) {
			next = strchr(f, ',');
			if (next)
				*next++ = '\0';
			if (!strcmp(f, "pxname"))
				col_px = c;
			else if (!strcmp(f, "svname"))
				col_sv = c;
			else if (!strcmp(f, "status"))
				col_status = c;
			else if (!strcmp(f, "weight"))
				col_weight = c;
			else if (!strcmp(f, "check_status"))
				col_check = c;
			else if (!strcmp(f, "addr"))
				col_addr = c;
		}
	}
	if (col_px < 0 || col_sv < 0 || col_status < 0)
		goto bad;
	for (p = eol + 1; p < end; p = eol + 1) {
		struct rt_row r = {"", "", "", "", -1, ""};
		int c = 0;

		eol = strchr(p, '\n');
		if (!eol)
			eol = end;
		*eol = '\0';
		if (*p)
			for (char *f = p, *next; f; f = next, c++) {
				next = strchr(f, ',');
				if (next)
					*next++ = '\0';
				if (c == col_px)
					r.px = f;
				else if (c == col_sv)
					r.sv = f;
				else if (c == col_status)
					r.status = f;
				else if (c == col_check)
					r.check = f;
				else if (c == col_addr)
					r.addr = f;
				else if (c == col_weight && *f)
					r.weight = strtol(f, NULL, 10);
			}
		if (*p) {
			if (st->n == alloc) {
				size_t na = alloc ? alloc * 2 : 64;
				struct rt_row *rows = realloc(st->rows, na * sizeof(*rows));

				if (!rows)
					goto bad;
				st->rows = rows;
				alloc = na;
			}
			st->rows[st->n++] = r;
		}
	}
	return 0;
bad:
	rt_stat_release(st);
	return -1;
}

void rt_stat_release(struct rt_stat *st)
{
	free(st->text);
	free(st->rows);
	memset(st, 0, sizeof(*st));
}

const struct rt_row *rt_stat_find(const struct rt_stat *st, const char *px, const char *sv)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->rows[i].px, px) && !strcmp(st->rows[i].sv, sv))
			return &st->rows[i];
	return NULL;
}
