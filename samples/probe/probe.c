/* probe: a container health check for images without curl or wget (the official haproxy image).
 * One HTTP/1.0 GET to a numeric address, given as a URL or found in haproxy.cfg (the first
 * `monitor-uri` and the first `bind` of its section); exit 0 on a 2xx answer, 1 otherwise.
 * Built static (cc -static), so it needs no library in the image and does no DNS lookup. */
#include "parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_URL_MAX 512      /* longest URL accepted */
#define PROBE_REPLY_MAX 512    /* bytes of the answer read: the status line fits */
#define PROBE_TIMEOUT_MS 3000  /* default total time allowed, -t overrides */
#define PROBE_CFG_LINE 4096    /* longer haproxy.cfg lines are skipped */
#define PROBE_CFG_LINES 200000 /* a haproxy.cfg longer than this is refused */

/* Docker reserves exit code 2 for health checks, so every failure, usage included, is 1. */
#define PROBE_OK 0
#define PROBE_FAIL 1

struct probe_url {
	char host[64];	/* numeric IPv4 or IPv6, without brackets */
	unsigned port;	/* 1..65535 */
	char path[256]; /* starts with '/' */
	int is_ipv6;
};

static void usage(void)
{
	fputs("usage: probe [-t SECONDS] [URL]\n"
	      "       probe [-t SECONDS] [-n] -c HAPROXY_CFG\n"
	      "  URL is http://ADDRESS:PORT/PATH with a numeric address (127.0.0.1, [::1]);\n"
	      "  without URL and -c, $PROBE_URL is used. -c takes the URL from haproxy.cfg:\n"
	      "  the first monitor-uri and the first bind of its frontend (a wildcard address\n"
	      "  becomes loopback). -n prints that URL and exits without probing.\n"
	      "  Exit 0 on a 2xx answer (or a URL found with -n), 1 otherwise.\n",
	      stderr);
}

/* Splits "http://HOST:PORT/PATH" into u. HOST must be a numeric address: the probe is
 * linked static and does no name lookups. Returns 0, or -1 with a reason in *why. */
static int url_parse(const char *s, struct probe_url *u, const char **why)
{
	char hostport[128];
	const char *rest, *slash;
	size_t n;

	if (strlen(s) >= PROBE_URL_MAX) {
		*why = "URL too long";
		return -1;
	}
	if (strncmp(s, "http://", 7) != 0) {
		*why = "URL must start with http://";
		return -1;
	}
	rest = s + 7;
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= sizeof(hostport)) {
		*why = "bad ADDRESS:PORT";
		return -1;
	}
	memcpy(hostport, rest, n);
	hostport[n] = '\0';
	if (parse_hostport(hostport, u->host, sizeof(u->host), &u->port, &u->is_ipv6, why) == -1)
		return -1;
	if (!parse_is_ip(u->host)) {
		*why = "ADDRESS must be a numeric IP address";
		return -1;
	}
	if (!slash)
		slash = "/";
	if (strlen(slash) >= sizeof(u->path)) {
		*why = "PATH too long";
		return -1;
	}
	for (const char *p = slash; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "PATH has a space or control character";
			return -1;
		}
	}
	snprintf(u->path, sizeof(u->path), "%s", slash);
	return 0;
}

/* One word of a haproxy.cfg line: skips blanks, copies up to the next blank into w (quotes
 * are not interpreted: bind and monitor-uri arguments do not need them). Returns the position
 * after the word, or NULL at the end of the line. */
static const char *cfg_word(const char *p, char *w, size_t size)
{
	size_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#' || *p == '\n' || *p == '\r')
		return NULL;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
		if (n + 1 < size)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	return p;
}

/* A bind address of haproxy.cfg ("*:8404", ":8404", "0.0.0.0:8404", "[::]:8404",
 * "ipv4@127.0.0.1:8404", "127.0.0.1:8404-8406") to "http://ADDRESS:PORT" with a wildcard
 * turned into loopback. Returns 0, or -1 for what the probe cannot reach (unix sockets,
 * environment variables, names). */
static int bind_to_base(const char *addr, char *out, size_t size)
{
	char hp[128], host[64];
	const char *h;
	char *dash;
	unsigned port;
	int is_ipv6, n;
	const char *why;

	if (strncmp(addr, "ipv4@", 5) == 0 || strncmp(addr, "ipv6@", 5) == 0)
		addr += 5;
	if (strchr(addr, '@') || strchr(addr, '$') || addr[0] == '/')
		return -1;
	if (strncmp(addr, ":::", 3) == 0) { /* haproxy's spelling of the IPv6 wildcard */
		n = snprintf(hp, sizeof(hp), "[::]%s", addr + 2);
	} else {
		n = snprintf(hp, sizeof(hp), "%s", addr);
	}
	if (n < 0 || (size_t)n >= sizeof(hp))
		return -1;
	dash = strrchr(hp, '-'); /* a port range: the first port answers too */
	if (dash && strrchr(hp, ':') && dash > strrchr(hp, ':'))
		*dash = '\0';
	if (parse_hostport(hp, host, sizeof(host), &port, &is_ipv6, &why) == -1)
		return -1;
	if (!host[0] || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
		h = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		h = "::1";
	else if (parse_is_ip(host))
		h = host;
	else
		return -1;
	is_ipv6 = strchr(h, ':') != NULL;
	n = snprintf(out, size, "http://%s%s%s:%u", is_ipv6 ? "[" : "", h, is_ipv6 ? "]" : "",
		     port);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Finds the health URL in a haproxy.cfg: the first proxy section (frontend or listen) that has
 * both a `monitor-uri` and a `bind` the probe can reach. Returns 0 with the URL in url, or -1
 * with a reason in *why. */
static int url_from_cfg(const char *path, char *url, size_t size, const char **why)
{
	char line[PROBE_CFG_LINE], w[256], base[128] = "", uri[256] = "";
	int in_proxy = 0, skipping = 0, rc = -1;
	long lines = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		*why = strerror(errno);
		return -1;
	}
	*why = "no frontend or listen section with both monitor-uri and a reachable bind";
	while (fgets(line, sizeof(line), f)) {
		const char *p;
		size_t len = strlen(line);
		int overlong = len > 0 && line[len - 1] != '\n' && !feof(f);

		if (++lines > PROBE_CFG_LINES) {
			*why = "file too long";
			goto out;
		}
		if (skipping || overlong) { /* the rest of an overlong line, or its start */
			skipping = overlong;
			continue;
		}
		if (line[0] != ' ' && line[0] != '\t') { /* a section keyword starts a line */
			if (!cfg_word(line, w, sizeof(w)))
				continue;
			if (base[0] && uri[0])
				break;
			in_proxy = strcmp(w, "frontend") == 0 || strcmp(w, "listen") == 0;
			base[0] = uri[0] = '\0';
			continue;
		}
		if (!in_proxy || !(p = cfg_word(line, w, sizeof(w))))
			continue;
		if (strcmp(w, "bind") == 0 && !base[0] && cfg_word(p, w, sizeof(w))) {
			/* bind takes a comma-separated list: the first reachable one is used */
			char *tok = w, *comma;
			do {
				comma = strchr(tok, ',');
				if (comma)
					*comma = '\0';
				if (bind_to_base(tok, base, sizeof(base)) == 0)
					break;
				base[0] = '\0';
				tok = comma ? comma + 1 : NULL;
			} while (tok);
		} else if (strcmp(w, "monitor-uri") == 0 && !uri[0] && cfg_word(p, w, sizeof(w))) {
			if (w[0] == '/')
				snprintf(uri, sizeof(uri), "%s", w);
		}
	}
	if (ferror(f)) {
		*why = strerror(errno);
		goto out;
	}
	if (base[0] && uri[0]) {
		int n = snprintf(url, size, "%s%s", base, uri);
		if (n < 0 || (size_t)n >= size) {
			*why = "URL too long";
			goto out;
		}
		rc = 0;
	}
out:
	fclose(f);
	return rc;
}

/* Milliseconds on the monotonic clock: deadlines do not move with the wall clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. Returns 0, or -1 on timeout
 * or error (errno set). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int left, r;

	for (;;) {
		left = (int)(deadline - now_ms());
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, left);
		if (r > 0)
			return 0;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* A non-blocking TCP connection to u's address, established before the deadline. Returns the
 * socket (caller closes), or -1 with errno set. */
static int connect_to(const struct probe_url *u, int64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (u->is_ipv6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)u->port);
		if (inet_pton(AF_INET6, u->host, &a6->sin6_addr) != 1)
			return -1;
		len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)u->port);
		if (inet_pton(AF_INET, u->host, &a4->sin_addr) != 1)
			return -1;
		len = sizeof(*a4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		if (wait_fd(fd, POLLOUT, deadline) == -1)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			goto fail;
		if (err) {
			errno = err;
			goto fail;
		}
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Sends all of buf before the deadline. Returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(fd, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads until the first line is complete, the peer closes, the buffer is full or the deadline
 * passes. Returns the byte count (buf NUL-terminated) or -1. */
static ssize_t read_status(int fd, char *buf, size_t size, int64_t deadline)
{
	size_t got = 0;

	while (got + 1 < size) {
		ssize_t r = recv(fd, buf + got, size - 1 - got, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(fd, POLLIN, deadline) == -1)
				return -1;
			continue;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/* "HTTP/1.x NNN ..." -> NNN, or -1 when the line is not an HTTP status line. */
static int status_code(const char *line)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	if (line[12] != ' ' && line[12] != '\r' && line[12] != '\n' && line[12] != '\0')
		return -1;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

int main(int argc, char **argv)
{
	struct probe_url u;
	const char *url = NULL, *cfg = NULL, *why = NULL;
	char req[PROBE_URL_MAX + 128], reply[PROBE_REPLY_MAX], cfg_url[PROBE_URL_MAX], *eol;
	int64_t timeout_ms = PROBE_TIMEOUT_MS, deadline, secs;
	int i, fd, n, code, print_only = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			if (parse_int64(argv[++i], 1, 3600, &secs) == -1) {
				fprintf(stderr, "probe: bad -t '%s': want 1..3600 seconds\n",
					argv[i]);
				return PROBE_FAIL;
			}
			timeout_ms = secs * 1000;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfg = argv[++i];
		} else if (strcmp(argv[i], "-n") == 0) {
			print_only = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage();
			return PROBE_OK;
		} else if (argv[i][0] == '-' || url) {
			usage();
			return PROBE_FAIL;
		} else {
			url = argv[i];
		}
	}
	if (cfg && url) {
		fputs("probe: give either a URL or -c, not both\n", stderr);
		return PROBE_FAIL;
	}
	if (print_only && !cfg) {
		fputs("probe: -n needs -c\n", stderr);
		return PROBE_FAIL;
	}
	if (cfg) {
		if (url_from_cfg(cfg, cfg_url, sizeof(cfg_url), &why) == -1) {
			fprintf(stderr, "probe: %s: %s\n", cfg, why);
			return PROBE_FAIL;
		}
		url = cfg_url;
		if (print_only) {
			printf("%s\n", url);
			return PROBE_OK;
		}
	}
	if (!url)
		url = getenv("PROBE_URL");
	if (!url || !*url) {
		fputs("probe: no URL given and $PROBE_URL is not set\n", stderr);
		usage();
		return PROBE_FAIL;
	}
	if (url_parse(url, &u, &why) == -1) {
		fprintf(stderr, "probe: bad URL '%s': %s\n", url, why);
		return PROBE_FAIL;
	}

	deadline = now_ms() + timeout_ms;
	fd = connect_to(&u, deadline);
	if (fd == -1) {
		fprintf(stderr, "probe: %s: connect: %s\n", url, strerror(errno));
		return PROBE_FAIL;
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\nHost: %s%s%s:%u\r\nUser-Agent: probe\r\n"
		     "Connection: close\r\n\r\n",
		     u.path, u.is_ipv6 ? "[" : "", u.host, u.is_ipv6 ? "]" : "", u.port);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		fprintf(stderr, "probe: %s: request too long\n", url);
		close(fd);
		return PROBE_FAIL;
	}
	if (send_all(fd, req, (size_t)n, deadline) == -1) {
		fprintf(stderr, "probe: %s: send: %s\n", url, strerror(errno));
		close(fd);
		return PROBE_FAIL;
	}
	if (read_status(fd, reply, sizeof(reply), deadline) == -1) {
		fprintf(stderr, "probe: %s: receive: %s\n", url, strerror(errno));
		close(fd);
		return PROBE_FAIL;
	}
	close(fd);
	eol = strpbrk(reply, "\r\n");
	if (eol)
		*eol = '\0';
	code = status_code(reply);
	if (code < 0) {
		fprintf(stderr, "probe: %s: not an HTTP answer\n", url);
		return PROBE_FAIL;
	}
	/* Only the parsed code is printed: the rest of the line is the peer's bytes. */
	printf("probe: %s: HTTP %d\n", url, code);
	return code >= 200 && code <= 299 ? PROBE_OK : PROBE_FAIL;
}
