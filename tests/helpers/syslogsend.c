/* syslogsend: sends N numbered syslog messages (real httplog lines by default) over UDP, TCP with
 * LF framing or TCP with octet counting, at a given rate or at full speed; for the listener's
 * tests and benchmark. Every message holds "seq=NNNNNNN" in its request path.
 * usage: syslogsend --udp|--tcp|--tcp-octet HOST:PORT --count N [--rate R|--full-speed]
 *                   [--prefix STR] [--template httplog|short] [--start K] [--print]
 *                   [--file FILE]
 * With --file, message N is line N (modulo their number) of FILE as it is (loggen's output: real
 * traffic that compresses as real logs do) instead of a numbered template.
 * Prints "syslogsend: sent N messages (of COUNT, ...)", N what was really sent, and exits 1 when
 * any message was not (a datagram refused or given up, a TCP write error). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "parse.h"

#define SEND_BATCH 64
#define SEND_MSG_MAX 2048
#define SEND_FILE_MAX (1024L * 1024 * 1024) /* --file: at most 1 GiB, read once */

enum send_mode { SEND_UDP, SEND_TCP_LF, SEND_TCP_OCTET };

struct sender {
	enum send_mode mode;
	int fd;
	int64_t count, start, rate;
	const char *prefix;
	int short_tmpl;
	int print;
	int64_t sent;	      /* messages the kernel took (UDP) or that were written (TCP) */
	uint64_t bytes, errors; /* bytes of the sent messages; messages given up */
	char *file;	      /* --file: its bytes, or NULL */
	const char **lines;   /* --file: where each line starts */
	size_t *lens, nlines; /* --file: their lengths (without the LF) */
};

static void usage(void)
{
	fputs("usage: syslogsend --udp|--tcp|--tcp-octet HOST:PORT --count N [--rate "
	      "R|--full-speed]\n"
	      "                  [--prefix STR] [--template httplog|short] [--start K] [--print]\n"
	      "                  [--file FILE]\n",
	      stderr);
}

/* Message number seq into buf; returns its length. */
static size_t make_msg(const struct sender *s, int64_t seq, char *buf, size_t sz)
{
	static time_t last = -1;
	static char hdr[32], date[32];
	static int pid;
	static const char *const srv[] = {"s1", "s2", "s3"};
	time_t t = time(NULL);
	int n;

	if (s->nlines) {
		size_t k = (size_t)seq % s->nlines, l = s->lens[k] < sz ? s->lens[k] : sz - 1;
		memcpy(buf, s->lines[k], l);
		return l;
	}
	if (t != last) { /* formatting dates costs more than the rest: once a second */
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(hdr, sizeof(hdr), "%b %e %H:%M:%S", &tm);
		strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
		pid = (int)getpid();
		last = t;
	}
	if (s->short_tmpl)
		n = snprintf(buf, sz, "<134>%s syslogsend[%d]: %s seq=%07lld", hdr, pid, s->prefix,
			     (long long)seq);
	else
		n = snprintf(
			buf, sz,
			"<134>%s haproxy[%d]: 127.0.0.1:%d [%s.%03d] fe_http be_app/%s "
			"0/0/1/%d/%d 200 %d - - ---- 1/1/0/0/0 0/0 \"GET /%s/seq=%07lld HTTP/1.1\"",
			hdr, pid, 30000 + (int)(seq % 30000), date, (int)(seq % 1000), srv[seq % 3],
			(int)(seq % 17), (int)(seq % 17) + 1, 100 + (int)(seq % 900), s->prefix,
			(long long)seq);
	if (n < 0)
		return 0;
	return (size_t)n < sz ? (size_t)n : sz - 1;
}


/* Sends messages [from, to). Returns 0 or -1 (TCP write error). */
static int send_range(struct sender *s, int64_t from, int64_t to)
{
	static char bufs[SEND_BATCH][SEND_MSG_MAX + 16];
	static struct mmsghdr mm[SEND_BATCH];
	static struct iovec iov[SEND_BATCH];

	while (from < to) {
		int n = (int)(to - from < SEND_BATCH ? to - from : SEND_BATCH);

		for (int i = 0; i < n; i++) {
			char *b = bufs[i];
			size_t len;

			if (s->mode == SEND_TCP_OCTET) {
				char msg[SEND_MSG_MAX];
				size_t ml = make_msg(s, from + i, msg, sizeof(msg));
				int h = snprintf(b, SEND_MSG_MAX + 16, "%zu ", ml);

				memcpy(b + h, msg, ml);
				len = (size_t)h + ml;
			} else {
				len = make_msg(s, from + i, b, SEND_MSG_MAX);
				b[len++] = '\n';
			}
			if (s->print)
				printf("%.*s\n", (int)(s->mode == SEND_TCP_OCTET ? len : len - 1),
				       b);
			iov[i].iov_base = b;
			iov[i].iov_len = len;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		if (s->mode == SEND_UDP) {
			int done = 0, tries = 0;

			while (done < n) {
				int r = sendmmsg(s->fd, mm + done, (unsigned)(n - done), 0);

				if (r > 0) {
					for (int i = done; i < done + r; i++)
						s->bytes += iov[i].iov_len;
					s->sent += r;
					done += r;
				} else if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
					if (++tries > 1000) {
						s->errors += (uint64_t)(n - done);
						break;
					}
					clock_sleep_us(100);
				} else {
					/* e.g. ECONNREFUSED from an earlier ICMP: that datagram is
					 * gone */
					s->errors++;
					done++;
				}
			}
		} else {
			for (int i = 0; i < n; i++) {
				if (fd_write_all(s->fd, iov[i].iov_base, iov[i].iov_len) < 0)
					return -1;
				s->bytes += iov[i].iov_len;
				s->sent++;
			}
		}
		from += n;
	}
	return 0;
}

/* Reads path into s->file and indexes its non-empty lines. Returns 0 or -1 (said on stderr). */
static int load_file(struct sender *s, const char *path)
{
	FILE *fp = fopen(path, "rb");
	size_t n = 0, cap = 0;

	if (!fp) {
		fprintf(stderr, "syslogsend: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	s->file = malloc(SEND_FILE_MAX);
	if (s->file)
		n = fread(s->file, 1, SEND_FILE_MAX, fp);
	fclose(fp);
	if (!s->file || n == SEND_FILE_MAX) {
		fprintf(stderr, "syslogsend: '%s': %s\n", path,
			s->file ? "larger than 1 GiB" : "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n;) {
		char *lf = memchr(s->file + i, '\n', n - i);
		size_t e = lf ? (size_t)(lf - s->file) : n;

		if (e > i) {
			if (s->nlines == cap) {
				cap = cap ? cap * 2 : 1024;
				const char **nl = realloc(s->lines, cap * sizeof(*nl));
				size_t *ll = realloc(s->lens, cap * sizeof(*ll));

				if (nl)
					s->lines = nl;
				if (ll)
					s->lens = ll;
				if (!nl || !ll) {
					fprintf(stderr, "syslogsend: out of memory\n");
					return -1;
				}
			}
			s->lines[s->nlines] = s->file + i;
			s->lens[s->nlines++] = e - i;
		}
		i = e + 1;
	}
	if (!s->nlines) {
		fprintf(stderr, "syslogsend: '%s' has no line\n", path);
		return -1;
	}
	return 0;
}

static int open_target(const char *hostport, enum send_mode mode)
{
	char host[256], portstr[8];
	unsigned port;
	int v6, fd = -1;
	const char *why;
	struct addrinfo hints, *res = NULL;

	if (parse_hostport(hostport, host, sizeof(host), &port, &v6, &why) < 0 || !host[0]) {
		fprintf(stderr, "syslogsend: invalid address '%s': %s\n", hostport,
			host[0] ? why : "no host");
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = mode == SEND_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if (getaddrinfo(host, portstr, &hints, &res) != 0 || !res) {
		fprintf(stderr, "syslogsend: cannot resolve '%s'\n", host);
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		fprintf(stderr, "syslogsend: cannot connect to %s: %s\n", hostport,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd >= 0 && mode == SEND_UDP) {
		int sb = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
	}
	freeaddrinfo(res);
	return fd;
}

int main(int argc, char **argv)
{
	struct sender s;
	const char *target = NULL;
	double t0, el;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.count = -1;
	s.prefix = "listen";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--udp") || !strcmp(a, "--tcp") || !strcmp(a, "--tcp-octet")) {
			s.mode = !strcmp(a, "--udp")   ? SEND_UDP
				 : !strcmp(a, "--tcp") ? SEND_TCP_LF
						       : SEND_TCP_OCTET;
			target = v;
			i++;
		} else if (!strcmp(a, "--count") && v && !parse_int64(v, 0, 100000000, &s.count)) {
			i++;
		} else if (!strcmp(a, "--start") && v && !parse_int64(v, 0, 100000000, &s.start)) {
			i++;
		} else if (!strcmp(a, "--rate") && v && !parse_int64(v, 1, 100000000, &s.rate)) {
			i++;
		} else if (!strcmp(a, "--full-speed")) {
			s.rate = 0;
		} else if (!strcmp(a, "--prefix") && v && strlen(v) < 200) {
			s.prefix = v;
			i++;
		} else if (!strcmp(a, "--template") && v &&
			   (!strcmp(v, "httplog") || !strcmp(v, "short"))) {
			s.short_tmpl = !strcmp(v, "short");
			i++;
		} else if (!strcmp(a, "--file") && v) {
			if (load_file(&s, v))
				return 1;
			i++;
		} else if (!strcmp(a, "--print")) {
			s.print = 1;
		} else {
			fprintf(stderr, "syslogsend: bad argument '%s'\n", a);
			usage();
			return 2;
		}
	}
	if (!target || s.count < 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a refused TCP connection is a write error, not a crash */
	s.fd = open_target(target, s.mode);
	if (s.fd < 0)
		return 1;
	t0 = clock_mono_s();
	if (s.rate == 0) {
		rc = send_range(&s, s.start, s.start + s.count);
	} else {
		/* every millisecond, send what is due by then */
		int64_t tried = 0;

		while (tried < s.count && rc == 0) {
			int64_t due = (int64_t)((clock_mono_s() - t0) * (double)s.rate) + 1;

			if (due > s.count)
				due = s.count;
			if (due > tried) {
				rc = send_range(&s, s.start + tried, s.start + due);
				tried = due;
			} else {
				clock_sleep_ms(1);
			}
		}
	}
	el = clock_mono_s() - t0;
	if (rc < 0)
		fprintf(stderr, "syslogsend: write error: %s\n", strerror(errno));
	if (s.mode != SEND_UDP)
		shutdown(s.fd, SHUT_WR);
	close(s.fd);
	fflush(stdout);
	/* "sent N messages": what the kernel took, which callers compare with what was stored */
	fprintf(stdout,
		"syslogsend: sent %lld messages (of %lld, %llu bytes, %llu errors) in %.3f s: %.0f "
		"msg/s\n",
		(long long)s.sent, (long long)s.count, (unsigned long long)s.bytes,
		(unsigned long long)s.errors, el, el > 0 ? (double)s.sent / el : 0.0);
	if (s.sent < s.count)
		fprintf(stderr, "syslogsend: %lld of %lld messages not sent\n",
			(long long)(s.count - s.sent), (long long)s.count);
	free(s.file);
	free(s.lines);
	free(s.lens);
	return rc < 0 || s.sent < s.count ? 1 : 0;
}
