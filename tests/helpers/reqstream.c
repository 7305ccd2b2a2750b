/* reqstream: a long-running HTTP/1.1 client for reload tests. It sends N GET requests one after
 * the other over one keep-alive connection, and opens a new connection only when the server
 * closed the previous one after a complete answer (what HAProxy does when an old worker stops).
 * A request that got no complete answer is retried once on a new connection when it was sent on
 * a reused one and nothing came back (the race every keep-alive client meets); it is lost when
 * the retry fails too. Prints one summary line and exits 0 when every request got a 200.
 * usage: reqstream HOST PORT N [INTERVAL_MS] [PATH] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "parse.h"

#define RS_TIMEOUT_MS 10000 /* one answer */
#define RS_MAX_HEAD 16384

static int dial(const char *host, unsigned port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (fd == -1 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Reads one answer. Returns its status (and *closing when the server said it closes), 0 when
 * the connection ended before any byte, -1 on any other failure. */
static int answer(int fd, int *closing)
{
	char buf[RS_MAX_HEAD + 65536];
	size_t have = 0, head = 0;
	long clen = -1;
	int status = -1;
	int64_t deadline = clock_mono_ms() + RS_TIMEOUT_MS;

	*closing = 0;
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		int64_t left = deadline - clock_mono_ms();
		ssize_t r;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return have ? -1 : 0;
		have += (size_t)r;
		buf[have] = '\0';
		if (!head) {
			char *e = strstr(buf, "\r\n\r\n");

			if (!e) {
				if (have >= RS_MAX_HEAD)
					return -1;
				continue;
			}
			head = (size_t)(e - buf) + 4;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -1;
			for (char *l = strstr(buf, "\r\n"); l && l < e; l = strstr(l + 2, "\r\n")) {
				if (!strncasecmp(l + 2, "content-length:", 15))
					clen = strtol(l + 17, NULL, 10);
				if (!strncasecmp(l + 2, "connection:", 11) && strstr(l + 2, "close") &&
				    strstr(l + 2, "close") < strstr(l + 2, "\r\n"))
					*closing = 1;
			}
			if (clen < 0)
				return -1; /* the sample app always says how long */
		}
		if (have >= head + (size_t)clen)
			return status;
		if (have >= sizeof(buf) - 1)
			return -1;
	}
}

int main(int argc, char **argv)
{
	int64_t n, interval = 0;
	unsigned port;
	const char *path = argc > 5 ? argv[5] : "/";
	char req[512];
	long ok = 0, failed = 0, other = 0, retried = 0, conns = 0;
	int fd = -1, reused = 0;
	int64_t t0 = clock_mono_ms();

	if (argc < 4 || parse_port(argv[2], &port) < 0 || parse_int64(argv[3], 1, 100000000, &n) < 0 ||
	    (argc > 4 && parse_int64(argv[4], 0, 60000, &interval) < 0)) {
		fprintf(stderr, "usage: reqstream HOST PORT N [INTERVAL_MS] [PATH]\n");
		return 2;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: reqstream\r\n\r\n", path);
	for (int64_t i = 0; i < n; i++) {
		int status = -1, closing = 0;

		for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
			if (fd == -1) {
				fd = dial(argv[1], port);
				reused = 0;
				if (fd == -1)
					break;
				conns++;
			}
			if (fd_write_all(fd, req, strlen(req)) == 0)
				status = answer(fd, &closing);
			if (status <= 0) {
				/* nothing came back: retry once, but only after a reused connection */
				int again = status == 0 && reused && attempt == 0;

				close(fd);
				fd = -1;
				status = -1;
				if (!again)
					break;
				retried++;
			}
		}
		if (status == 200)
			ok++;
		else if (status > 0)
			other++;
		else
			failed++;
		if (fd != -1 && closing) {
			close(fd);
			fd = -1;
		} else if (fd != -1) {
			reused = 1;
		}
		if (interval)
			clock_sleep_ms(interval);
	}
	if (fd != -1)
		close(fd);
	printf("sent %lld ok %ld other %ld failed %ld retried %ld connections %ld seconds %.1f\n",
	       (long long)n, ok, other, failed, retried, conns,
	       (double)(clock_mono_ms() - t0) / 1000.0);
	return ok == n ? 0 : 1;
}
