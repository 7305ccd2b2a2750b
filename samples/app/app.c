/* sample-app: the tiny HTTP/1.1 backend the demo and the end-to-end tests put behind HAProxy.
 * Every path answers 200 with the server's own name (body and X-Server header); /health and the
 * /_ctl/ endpoints let a test make it fail, slow down or report itself down. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "parse.h"
#include "strbuf.h"

#define APP_REQ_MAX 8192	   /* request line + headers, bytes */
#define APP_BODY_MAX (1024 * 1024) /* request bodies are read and dropped up to this size */
#define APP_NAME_MAX 64
#define APP_CONN_MAX 512    /* connection threads at once; more wait in the backlog */
#define APP_IDLE_MS 15000   /* keep-alive idle timeout */
#define APP_HEADER_MS 10000 /* time allowed to send a whole request head */
#define APP_DELAY_MAX_MS 60000
#define APP_SLICE_MS 100 /* how often waiting threads look at the stop flag */

/* What the control endpoints change; guarded by settings_lock. */
struct app_settings {
	double fail_rate; /* 0..1: share of normal requests answered 500 */
	long delay_ms;	  /* added before answering a normal request */
	long jitter_ms;	  /* plus a uniform random 0..jitter_ms */
	int healthy;	  /* /health answers 200 when set, 503 otherwise */
};

struct app_counts {
	uint64_t requests, ok, failed, health, bad;
};

static char app_name[APP_NAME_MAX + 1];
static int record_fd = -1; /* --record FILE: POST bodies are appended here, one per line */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;
static struct app_settings settings = {0.0, 0, 0, 1};
static struct app_counts counts;
static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cond; /* on the monotonic clock: clock_cond_init in main */
static int conn_active;
static volatile sig_atomic_t app_stop;

static void on_signal(int sig)
{
	(void)sig;
	app_stop = 1;
}

/* xorshift64*: a per-connection generator, good enough to pick failures and jitter. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / (double)(1ULL << 53);
}

/* Sleeps ms milliseconds in slices, returning early when the app is stopping. */
static void sleep_ms(long ms)
{
	while (ms > 0 && !app_stop) {
		long step = ms < APP_SLICE_MS ? ms : APP_SLICE_MS;
		clock_sleep_ms(step);
		ms -= step;
	}
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* Writes one response; the body is skipped for HEAD. Returns 0 or -1 (peer gone). */
static int respond(int fd, int code, const char *body, int keep_alive, int head)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	strbuf_addf(&sb,
		    "HTTP/1.1 %d %s\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n"
		    "X-Server: %s\r\n"
		    "Cache-Control: no-store\r\n"
		    "Connection: %s\r\n\r\n",
		    code, status_text(code), strlen(body), app_name,
		    keep_alive ? "keep-alive" : "close");
	if (!head)
		strbuf_addstr(&sb, body);
	rc = sb.alloc ? send_all(fd, sb.buf, sb.len) : -1;
	strbuf_release(&sb);
	return rc;
}

/* Waits until fd is readable, the deadline (monotonic ms) passes or the app stops.
 * Returns 1 readable, 0 timeout or stop, -1 error. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int64_t left = deadline - clock_mono_ms();
		int r;

		if (app_stop || left <= 0)
			return 0;
		r = poll(&pfd, 1, left < APP_SLICE_MS ? (int)left : APP_SLICE_MS);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

/* The value of query parameter key in q (not NUL-terminated, qlen bytes) copied into out,
 * or -1 when absent or longer than outsz-1. */
static int query_get(const char *q, size_t qlen, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key), i = 0;

	while (i < qlen) {
		size_t j = i;

		while (j < qlen && q[j] != '&')
			j++;
		if (j - i > klen && !memcmp(q + i, key, klen) && q[i + klen] == '=') {
			size_t vlen = j - i - klen - 1;

			if (vlen >= outsz)
				return -1;
			memcpy(out, q + i + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		i = j + 1;
	}
	return -1;
}

static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

/* Handles /_ctl/<what>?…; fills code and body. */
static void control(const char *what, size_t wlen, const char *q, size_t qlen, int *code,
		    struct strbuf *body)
{
	char val[32];

	*code = 200;
	pthread_mutex_lock(&settings_lock);
	if (wlen == 4 && !memcmp(what, "fail", 4)) {
		double rate;

		if (query_get(q, qlen, "rate", val, sizeof(val)) || parse_rate(val, &rate)) {
			*code = 400;
			strbuf_addstr(body, "usage: /_ctl/fail?rate=R (R between 0 and 1)\n");
		} else {
			settings.fail_rate = rate;
			strbuf_addf(body, "%s fail-rate %g\n", app_name, rate);
		}
	} else if (wlen == 4 && !memcmp(what, "slow", 4)) {
		int64_t ms, jit = settings.jitter_ms;

		if (query_get(q, qlen, "ms", val, sizeof(val)) ||
		    parse_int64(val, 0, APP_DELAY_MAX_MS, &ms) ||
		    (!query_get(q, qlen, "jitter", val, sizeof(val)) &&
		     parse_int64(val, 0, APP_DELAY_MAX_MS, &jit))) {
			*code = 400;
			strbuf_addf(body, "usage: /_ctl/slow?ms=N[&jitter=N] (0..%d)\n",
				    APP_DELAY_MAX_MS);
		} else {
			settings.delay_ms = (long)ms;
			settings.jitter_ms = (long)jit;
			strbuf_addf(body, "%s delay %ld ms jitter %ld ms\n", app_name,
				    settings.delay_ms, settings.jitter_ms);
		}
	} else if (wlen == 6 && !memcmp(what, "health", 6)) {
		if (query_get(q, qlen, "status", val, sizeof(val)) ||
		    (strcmp(val, "up") && strcmp(val, "down"))) {
			*code = 400;
			strbuf_addstr(body, "usage: /_ctl/health?status=up|down\n");
		} else {
			settings.healthy = !strcmp(val, "up");
			strbuf_addf(body, "%s health %s\n", app_name, val);
		}
	} else if (wlen == 5 && !memcmp(what, "stats", 5)) {
		strbuf_addf(body,
			    "name %s\nrequests %llu\nok %llu\nfailed %llu\nhealth %llu\nbad %llu\n"
			    "fail_rate %g\ndelay_ms %ld\njitter_ms %ld\nhealthy %d\n",
			    app_name, (unsigned long long)counts.requests,
			    (unsigned long long)counts.ok, (unsigned long long)counts.failed,
			    (unsigned long long)counts.health, (unsigned long long)counts.bad,
			    settings.fail_rate, settings.delay_ms, settings.jitter_ms,
			    settings.healthy);
	} else {
		*code = 404;
		strbuf_addstr(body, "unknown control; try /_ctl/fail?rate=R, /_ctl/slow?ms=N, "
				    "/_ctl/health?status=up|down, /_ctl/stats\n");
	}
	pthread_mutex_unlock(&settings_lock);
}

/* Decides the answer to one well-formed request. */
static void route(const char *target, size_t tlen, uint64_t *rng, int *code, struct strbuf *body)
{
	const char *q = memchr(target, '?', tlen);
	size_t plen = q ? (size_t)(q - target) : tlen, qlen = q ? tlen - plen - 1 : 0;
	struct app_settings now;

	if (q)
		q++;
	if (plen > 6 && !memcmp(target, "/_ctl/", 6)) {
		control(target + 6, plen - 6, q ? q : "", qlen, code, body);
		return;
	}
	pthread_mutex_lock(&settings_lock);
	now = settings;
	pthread_mutex_unlock(&settings_lock);
	if (plen == 7 && !memcmp(target, "/health", 7)) {
		*code = now.healthy ? 200 : 503;
		strbuf_addstr(body, now.healthy ? "ok\n" : "down\n");
		pthread_mutex_lock(&settings_lock);
		counts.health++;
		pthread_mutex_unlock(&settings_lock);
		return;
	}
	if (now.delay_ms > 0 || now.jitter_ms > 0)
		sleep_ms(now.delay_ms +
			 (now.jitter_ms > 0 ? (long)(rng_next(rng) % (uint64_t)(now.jitter_ms + 1))
					    : 0));
	if (now.fail_rate > 0 && rng_unit(rng) < now.fail_rate) {
		*code = 500;
		strbuf_addf(body, "%s failed\n", app_name);
	} else {
		*code = 200;
		strbuf_addf(body, "%s\n", app_name);
	}
	pthread_mutex_lock(&settings_lock);
	counts.requests++;
	if (*code == 200)
		counts.ok++;
	else
		counts.failed++;
	pthread_mutex_unlock(&settings_lock);
}

static int is_tchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One parsed request head; slices point into the connection buffer. */
struct app_req {
	const char *method, *target;
	size_t mlen, tlen;
	int minor;	     /* HTTP/1.<minor> */
	int64_t content_len; /* 0 when absent */
	int keep_alive;
	int chunked;
};

/* Parses the head in buf[0..len) (ending with the empty line). Returns 0, or an HTTP error
 * status to answer with (and close). */
static int parse_head(const char *buf, size_t len, struct app_req *rq)
{
	const char *p = buf, *end = buf + len, *eol, *sp;
	int conn_close = 0, conn_keep = 0, seen_cl = 0;

	memset(rq, 0, sizeof(*rq));
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		return 400;
	/* request line: METHOD SP TARGET SP HTTP/1.x */
	sp = p;
	while (sp < eol && is_tchar((unsigned char)*sp))
		sp++;
	if (sp == p || sp >= eol || *sp != ' ')
		return 400;
	rq->method = p;
	rq->mlen = (size_t)(sp - p);
	p = sp + 1;
	sp = p;
	while (sp<eol && * sp> ' ' && *sp < 0x7f)
		sp++;
	if (sp == p || sp >= eol || *sp != ' ' || (*p != '/' && *p != '*'))
		return 400;
	rq->target = p;
	rq->tlen = (size_t)(sp - p);
	p = sp + 1;
	if (eol - p < 8 || memcmp(p, "HTTP/1.", 7))
		return (eol - p >= 5 && !memcmp(p, "HTTP/", 5)) ? 505 : 400;
	if (p[7] != '0' && p[7] != '1')
		return 505;
	rq->minor = p[7] - '0';
	if (p + 8 != eol && !(p + 9 == eol && p[8] == '\r'))
		return 400;
	p = eol + 1;
	/* header fields */
	while (p < end) {
		const char *colon, *v, *ve;
		size_t nlen;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return 400;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break;
		colon = p;
		while (colon < eol && is_tchar((unsigned char)*colon))
			colon++;
		if (colon == p || colon >= eol || *colon != ':')
			return 400;
		nlen = (size_t)(colon - p);
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (nlen == 14 && !strncasecmp(p, "content-length", 14)) {
			char num[24];
			size_t vlen = (size_t)(ve - v);
			int64_t cl;

			if (seen_cl || vlen == 0 || vlen >= sizeof(num))
				return 400;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			if (parse_int64(num, 0, INT64_MAX, &cl))
				return 400;
			if (cl > APP_BODY_MAX)
				return 413;
			rq->content_len = cl;
			seen_cl = 1;
		} else if (nlen == 17 && !strncasecmp(p, "transfer-encoding", 17)) {
			rq->chunked = 1;
		} else if (nlen == 10 && !strncasecmp(p, "connection", 10)) {
			/* a token list: look for close / keep-alive anywhere in it */
			for (const char *t = v; t < ve; t++) {
				if ((size_t)(ve - t) >= 5 && !strncasecmp(t, "close", 5))
					conn_close = 1;
				if ((size_t)(ve - t) >= 10 && !strncasecmp(t, "keep-alive", 10))
					conn_keep = 1;
			}
		}
		p = eol + 1;
	}
	if (rq->chunked)
		return 501; /* the demo never sends chunked bodies; refuse rather than guess */
	rq->keep_alive = rq->minor == 1 ? !conn_close : (conn_keep && !conn_close);
	return 0;
}

/* Finds the end of the request head: returns its length (through the blank line) or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Serves one connection until it closes, idles out, errs, or the app stops. Owns fd. */
static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(APP_REQ_MAX);
	size_t have = 0;
	uint64_t rng = (uint64_t)clock_mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&have ^
		       (uint64_t)fd;

	if (!rng)
		rng = 1;
	while (buf && !app_stop) {
		struct app_req rq;
		struct strbuf body = STRBUF_INIT;
		int64_t deadline = clock_mono_ms() + (have ? APP_HEADER_MS : APP_IDLE_MS);
		size_t hlen = 0;
		int code = 0, head;

		/* read until the head is complete (a pipelined one may already be buffered) */
		while (!(hlen = head_end(buf, have))) {
			ssize_t n;
			int r;

			if (have == APP_REQ_MAX) {
				code = 431;
				break;
			}
			r = wait_readable(fd, deadline);
			if (r <= 0) {
				if (r == 0 && have > 0 && !app_stop)
					code = 408;
				break;
			}
			n = recv(fd, buf + have, APP_REQ_MAX - have, 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				have = 0; /* peer closed (or error): nothing to answer */
				break;
			}
			if (have == 0)
				deadline = clock_mono_ms() + APP_HEADER_MS;
			have += (size_t)n;
		}
		if (!hlen && !code)
			break;
		if (!code)
			code = parse_head(buf, hlen, &rq);
		if (code) {
			/* malformed or too large: answer once, then close */
			pthread_mutex_lock(&settings_lock);
			counts.bad++;
			pthread_mutex_unlock(&settings_lock);
			strbuf_addf(&body, "%s: %s\n", app_name, status_text(code));
			respond(fd, code, body.buf, 0, 0);
			strbuf_release(&body);
			break;
		}
		/* drop the body (or keep it for --record): first what is buffered, then the rest
		 * from the socket */
		{
			int64_t left = rq.content_len;
			size_t inbuf = have - hlen;
			size_t take = (int64_t)inbuf < left ? inbuf : (size_t)left;
			int keep = rq.keep_alive;
			int rec = record_fd >= 0 && rq.mlen == 4 && !memcmp(rq.method, "POST", 4);
			struct strbuf kept = STRBUF_INIT;

			if (rec)
				strbuf_add(&kept, buf + hlen, take);
			left -= (int64_t)take;
			while (left > 0) {
				char sink[4096];
				ssize_t n;

				if (wait_readable(fd, clock_mono_ms() + APP_HEADER_MS) <= 0)
					break;
				n = recv(fd, sink,
					 left < (int64_t)sizeof(sink) ? (size_t)left : sizeof(sink),
					 0);
				if (n == -1 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				if (rec)
					strbuf_add(&kept, sink, (size_t)n);
				left -= n;
			}
			if (left > 0) {
				strbuf_release(&kept);
				break;
			}
			if (rec) {
				/* one line per body: line breaks inside become spaces */
				for (size_t k = 0; k < kept.len; k++)
					if (kept.buf[k] == '\n' || kept.buf[k] == '\r')
						kept.buf[k] = ' ';
				strbuf_addch(&kept, '\n');
				pthread_mutex_lock(&record_lock);
				if (fd_write_all(record_fd, kept.buf, kept.len) == -1)
					perror("sample-app: --record");
				pthread_mutex_unlock(&record_lock);
			}
			strbuf_release(&kept);
			head = rq.mlen == 4 && !memcmp(rq.method, "HEAD", 4);
			route(rq.target, rq.tlen, &rng, &code, &body);
			if (app_stop)
				keep = 0;
			if (respond(fd, code, body.buf, keep, head) == -1 || !keep) {
				strbuf_release(&body);
				break;
			}
			strbuf_release(&body);
			/* keep what follows (a pipelined request) at the start of the buffer */
			memmove(buf, buf + hlen + take, have - hlen - take);
			have -= hlen + take;
		}
	}
	free(buf);
	close(fd);
	pthread_mutex_lock(&conn_lock);
	conn_active--;
	pthread_cond_signal(&conn_cond);
	pthread_mutex_unlock(&conn_lock);
	return NULL;
}

static int open_listener(const char *spec)
{
	char host[256];
	unsigned port;
	int v6, fd = -1, one = 1;
	const char *why = NULL;
	struct addrinfo hints, *ai = NULL;
	char portstr[8];

	if (parse_hostport(spec, host, sizeof(host), &port, &v6, &why) == -1) {
		fprintf(stderr, "sample-app: bad --listen '%s': %s\n", spec, why ? why : "invalid");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(*host ? host : NULL, portstr, &hints, &ai) != 0 || !ai) {
		fprintf(stderr, "sample-app: cannot resolve '%s'\n", spec);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, 256) == -1) {
		fprintf(stderr, "sample-app: cannot listen on %s: %s\n", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void usage(FILE *fp)
{
	fputs("usage: sample-app --name NAME --listen HOST:PORT [--fail-rate P] [--delay-ms N]\n"
	      "                  [--jitter-ms N] [--unhealthy] [--record FILE]\n"
	      "Answers every path with 200 \"NAME\\n\" and header X-Server: NAME.\n"
	      "  /health                        200 ok, or 503 when marked down\n"
	      "  /_ctl/fail?rate=R              answer a share R (0..1) of requests with 500\n"
	      "  /_ctl/slow?ms=N[&jitter=N]     delay every answer by N ms (+ random 0..jitter)\n"
	      "  /_ctl/health?status=up|down    what /health answers\n"
	      "  /_ctl/stats                    counters and settings\n"
	      "--record FILE appends the body of every POST to FILE, one line each (a webhook\n"
	      "receiver for the demo's alert).\n"
	      "SIGTERM or SIGINT stops it (exit 0).\n",
	      fp);
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > APP_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s) || *s == '%')
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *listen_spec = NULL;
	struct sigaction sa;
	sigset_t block, old;
	int lfd;
	int64_t v;

	clock_cond_init(&conn_cond);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--unhealthy")) {
			settings.healthy = 0;
			continue;
		}
		if (!val) {
			fprintf(stderr, "sample-app: '%s' needs a value (or is unknown)\n", a);
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--name"))
			name = val;
		else if (!strcmp(a, "--listen"))
			listen_spec = val;
		else if (!strcmp(a, "--record")) {
			record_fd = open(val, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (record_fd == -1) {
				fprintf(stderr, "sample-app: cannot open '%s': %s\n", val,
					strerror(errno));
				return 1;
			}
		}
		else if (!strcmp(a, "--fail-rate")) {
			if (parse_rate(val, &settings.fail_rate)) {
				fprintf(stderr, "sample-app: --fail-rate wants 0..1, not '%s'\n",
					val);
				return 2;
			}
		} else if (!strcmp(a, "--delay-ms") || !strcmp(a, "--jitter-ms")) {
			if (parse_int64(val, 0, APP_DELAY_MAX_MS, &v)) {
				fprintf(stderr, "sample-app: %s wants 0..%d, not '%s'\n", a,
					APP_DELAY_MAX_MS, val);
				return 2;
			}
			if (a[2] == 'd')
				settings.delay_ms = (long)v;
			else
				settings.jitter_ms = (long)v;
		} else {
			fprintf(stderr, "sample-app: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!name || !listen_spec) {
		usage(stderr);
		return 2;
	}
	if (!valid_name(name)) {
		fprintf(stderr,
			"sample-app: bad --name '%s' (1..%d of A-Z a-z 0-9 and !#$&'*+-.^_`|~)\n",
			name, APP_NAME_MAX);
		return 2;
	}
	snprintf(app_name, sizeof(app_name), "%s", name);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = open_listener(listen_spec);
	if (lfd == -1)
		return 1;
	printf("sample-app %s listening on %s\n", app_name, listen_spec);
	fflush(stdout);

	/* connection threads never take the signals: main sees them in poll() */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	while (!app_stop) {
		struct pollfd pfd = {lfd, POLLIN, 0};
		pthread_attr_t attr;
		pthread_t th;
		int cfd, r, busy;

		pthread_mutex_lock(&conn_lock);
		busy = conn_active >= APP_CONN_MAX;
		pthread_mutex_unlock(&conn_lock);
		if (busy) {
			sleep_ms(10);
			continue;
		}
		r = poll(&pfd, 1, 200);
		if (r <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				sleep_ms(50);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
		/* a client that stops reading cannot hold a thread forever */
		setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){APP_HEADER_MS / 1000, 0},
			   sizeof(struct timeval));
		pthread_mutex_lock(&conn_lock);
		conn_active++;
		pthread_mutex_unlock(&conn_lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		r = pthread_create(&th, &attr, conn_main, (void *)(intptr_t)cfd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (r != 0) {
			close(cfd);
			pthread_mutex_lock(&conn_lock);
			conn_active--;
			pthread_mutex_unlock(&conn_lock);
		}
	}
	close(lfd);
	/* connections notice app_stop within APP_SLICE_MS; give them a bounded moment */
	{
		struct timespec until;

		clock_cond_deadline(&until, 3000);
		pthread_mutex_lock(&conn_lock);
		while (conn_active > 0)
			if (pthread_cond_timedwait(&conn_cond, &conn_lock, &until) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&conn_lock);
	}
	pthread_mutex_lock(&settings_lock);
	fprintf(stderr,
		"sample-app %s: stopped after %llu requests (%llu ok, %llu failed), %llu health "
		"checks\n",
		app_name, (unsigned long long)counts.requests, (unsigned long long)counts.ok,
		(unsigned long long)counts.failed, (unsigned long long)counts.health);
	pthread_mutex_unlock(&settings_lock);
	return 0;
}
