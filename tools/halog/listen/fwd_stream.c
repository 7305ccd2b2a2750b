/* tcp:// and tls:// forwarding destinations: a bounded queue and a sending thread on libcurl's
 * connect-only mode (see fwd_stream.h). */
#include "listen/fwd_stream.h"

#include <ctype.h>
#include "lazylib.h"
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "strbuf.h"

#define FWD_WAIT_MS 200		  /* the longest sleep of the thread (it watches the socket) */
#define FWD_REPEAT_ERROR_MS 60000 /* a connection error that persists is said again this often */

/* ---- the URL ---- */

/* Copies the n bytes of v, %XX-decoded, into out (sz bytes). Returns 0 or -1. */
static int decode(const char *v, size_t n, char *out, size_t sz)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (c == '%') {
			char hex[3];

			if (i + 2 >= n || !isxdigit((unsigned char)v[i + 1]) ||
			    !isxdigit((unsigned char)v[i + 2]))
				return -1;
			hex[0] = v[i + 1];
			hex[1] = v[i + 2];
			hex[2] = '\0';
			c = (char)strtol(hex, NULL, 16);
			i += 2;
		}
		if (c == '\0' || o + 1 >= sz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int readable_file(const char *path, const char *what, char *why, size_t whysz)
{
	FILE *fp = fopen(path, "r");

	if (!fp) {
		snprintf(why, whysz, "%s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

int fwd_stream_parse(const char *url, struct fwd_stream_url *out, char *why, size_t whysz)
{
	char hp[300];
	const char *rest, *q;
	const char *w = NULL;
	int v6;

	memset(out, 0, sizeof(*out));
	if (!strncmp(url, "tls://", 6)) {
		out->tls = 1;
		rest = url + 6;
	} else if (!strncmp(url, "tcp://", 6)) {
		rest = url + 6;
	} else {
		snprintf(why, whysz, "not a tcp:// or tls:// URL");
		return -1;
	}
	q = strchr(rest, '?');
	if ((size_t)(q ? q - rest : (ptrdiff_t)strlen(rest)) >= sizeof(hp)) {
		snprintf(why, whysz, "the address is too long");
		return -1;
	}
	snprintf(hp, sizeof(hp), "%.*s", (int)(q ? q - rest : (ptrdiff_t)strlen(rest)), rest);
	if (hp[0] && hp[strlen(hp) - 1] == '/')
		hp[strlen(hp) - 1] = '\0';
	if (parse_hostport(hp, out->host, sizeof(out->host), &out->port, &v6, &w) < 0) {
		snprintf(why, whysz, "%s", w ? w : "bad HOST:PORT");
		return -1;
	}
	if (!out->host[0] || !strcmp(out->host, "*")) {
		snprintf(why, whysz, "give the host to send to, e.g. tls://logs.example.net:6514");
		return -1;
	}
	snprintf(out->text, sizeof(out->text), "%s://%s%s%s:%u", out->tls ? "tls" : "tcp",
		 v6 ? "[" : "", out->host, v6 ? "]" : "", out->port);
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&'), *eq = strchr(p, '=');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		char *dst = NULL;
		size_t dsz = 0;

		if (!eq || eq > p + n) {
			snprintf(why, whysz, "option '%.*s' needs a value (NAME=VALUE)", (int)n, p);
			return -1;
		}
		if (eq - p == 5 && !strncmp(p, "queue", 5)) {
			char num[16];
			int64_t v;

			if (out->queue) {
				snprintf(why, whysz, "option 'queue' given twice");
				return -1;
			}
			if (decode(eq + 1, n - (size_t)(eq + 1 - p), num, sizeof(num)) ||
			    parse_int64(num, 16, 1048576, &v)) {
				snprintf(why, whysz, "queue takes 16 to 1048576 messages");
				return -1;
			}
			out->queue = (size_t)v;
			p = amp ? amp + 1 : NULL;
			continue;
		}
		if (!out->tls) {
			snprintf(why, whysz,
				 "unknown option '%.*s' (tcp:// takes queue; ca, cert, key and "
				 "name go "
				 "with tls://)",
				 (int)(eq - p), p);
			return -1;
		}
		if (eq - p == 2 && !strncmp(p, "ca", 2)) {
			dst = out->ca;
			dsz = sizeof(out->ca);
		} else if (eq - p == 4 && !strncmp(p, "cert", 4)) {
			dst = out->cert;
			dsz = sizeof(out->cert);
		} else if (eq - p == 3 && !strncmp(p, "key", 3)) {
			dst = out->key;
			dsz = sizeof(out->key);
		} else if (eq - p == 4 && !strncmp(p, "name", 4)) {
			dst = out->name;
			dsz = sizeof(out->name);
		} else {
			snprintf(why, whysz, "unknown option '%.*s' (ca, cert, key, name or queue)",
				 (int)(eq - p), p);
			return -1;
		}
		if (dst[0]) {
			snprintf(why, whysz, "option '%.*s' given twice", (int)(eq - p), p);
			return -1;
		}
		if (decode(eq + 1, n - (size_t)(eq + 1 - p), dst, dsz) || !dst[0]) {
			snprintf(why, whysz, "bad value for '%.*s'", (int)(eq - p), p);
			return -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	if (!!out->cert[0] != !!out->key[0]) {
		snprintf(why, whysz, "cert and key go together");
		return -1;
	}
	if (out->name[0] && !parse_is_hostname(out->name)) {
		snprintf(why, whysz, "name '%s' is not a host name", out->name);
		return -1;
	}
	if ((out->ca[0] && readable_file(out->ca, "ca", why, whysz)) ||
	    (out->cert[0] && readable_file(out->cert, "cert", why, whysz)) ||
	    (out->key[0] && readable_file(out->key, "key", why, whysz)))
		return -1;
	return 0;
}

/* ---- the queue: one producer (the receiver), one consumer (the thread) ---- */

struct fslot {
	uint64_t off; /* absolute offset in the byte ring */
	uint32_t len;
	int64_t sent_at; /* monotonic ms the frame was last written; 0: not written */
};

struct fwd_stream {
	struct fwd_stream_url u;
	const char *prog;
	pthread_t thr;
	int efd; /* eventfd: wakes the thread when it sleeps idle */

	pthread_mutex_t mu;
	struct fslot *slots;
	size_t nslots;
	char *bytes;
	size_t nbytes;
	uint64_t head, tail;   /* slots [tail, head) are queued (under mu) */
	uint64_t bhead, btail; /* bytes likewise (under mu) */
	atomic_int idle;       /* the thread sleeps with nothing to send */
	atomic_int stop;
	atomic_llong deadline; /* after stop: give up at this monotonic ms */

	/* the thread's own */
	CURL *h;
	curl_socket_t sock;
	uint64_t next;	  /* the next slot to write */
	size_t frame_off; /* bytes of the current frame written */
	struct strbuf frame;
	char errbuf[CURL_ERROR_SIZE];
	char lasterr[CURL_ERROR_SIZE + 64];
	int64_t lasterr_at;

	/* counters */
	atomic_ullong queued, sent, confirmed, overflow, connects, failures;
	atomic_int connected;
};

static void say(struct fwd_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct fwd_stream *s, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s: forward %s: ", s->prog, s->u.text);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, stderr);
	strbuf_release(&sb);
}

int fwd_stream_send(struct fwd_stream *s, const char *msg, size_t len)
{
	uint64_t start;
	size_t pos;
	int full;

	pthread_mutex_lock(&s->mu);
	start = s->bhead;
	pos = (size_t)(start % s->nbytes);
	if (pos + len > s->nbytes)
		start += s->nbytes - pos; /* wrap: the message stays contiguous */
	full = s->head - s->tail >= s->nslots || start + len - s->btail > s->nbytes;
	pthread_mutex_unlock(&s->mu);
	if (full) {
		atomic_fetch_add(&s->overflow, 1);
		return -1;
	}
	/* the space [bhead, start + len) is the producer's until published */
	if (len)
		memcpy(s->bytes + start % s->nbytes, msg, len);
	pthread_mutex_lock(&s->mu);
	s->slots[s->head % s->nslots].off = start;
	s->slots[s->head % s->nslots].len = (uint32_t)len;
	s->slots[s->head % s->nslots].sent_at = 0;
	s->head++;
	s->bhead = start + len;
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add(&s->queued, 1);
	if (atomic_load(&s->idle)) {
		uint64_t one = 1;

		if (write(s->efd, &one, sizeof(one)) < 0) {
			/* the thread wakes up on its own within FWD_WAIT_MS */
		}
	}
	return 0;
}

/* ---- the connection ---- */

static void disconnect(struct fwd_stream *s)
{
	if (s->h)
		curl_easy_cleanup(s->h);
	s->h = NULL;
	s->sock = CURL_SOCKET_BAD;
	atomic_store(&s->connected, 0);
}

/* Says why the connection failed: at once when the reason changed, else once a minute. */
static void failed(struct fwd_stream *s, const char *what, const char *why, uint64_t waiting)
{
	int64_t t = clock_mono_ms();

	atomic_fetch_add(&s->failures, 1);
	if (strcmp(s->lasterr, why) || t - s->lasterr_at >= FWD_REPEAT_ERROR_MS) {
		say(s, "%s: %s (%llu messages waiting; retrying)", what, why,
		    (unsigned long long)waiting);
		snprintf(s->lasterr, sizeof(s->lasterr), "%s", why);
		s->lasterr_at = t;
	}
}

static uint64_t waiting(struct fwd_stream *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = s->head - s->tail;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Connects. Returns 0 or -1 (said). */
static int connect_now(struct fwd_stream *s)
{
	struct strbuf url = STRBUF_INIT, to = STRBUF_INIT;
	const struct fwd_stream_url *u = &s->u;
	int v6 = strchr(u->host, ':') != NULL, rc = -1;
	CURLcode res;
	const char *name = u->name[0] ? u->name : u->host;

	s->errbuf[0] = '\0';
	if (!(s->h = curl_easy_init()))
		goto out;
	/* the URL names the host to verify (and send as SNI); CONNECT_TO sends the connection
	 * to the address given when name= differs from it */
	strbuf_addf(&url, "%s://%s%s%s:%u/", u->tls ? "https" : "http",
		    v6 && !u->name[0] ? "[" : "", name, v6 && !u->name[0] ? "]" : "", u->port);
	if (u->name[0]) {
		struct curl_slist *l;

		strbuf_addf(&to, "%s:%u:%s%s%s:%u", u->name, u->port, v6 ? "[" : "", u->host,
			    v6 ? "]" : "", u->port);
		l = curl_slist_append(NULL, to.buf);
		if (!l || curl_easy_setopt(s->h, CURLOPT_CONNECT_TO, l)) {
			curl_slist_free_all(l);
			goto out;
		}
		/* curl copies nothing here: keep the list with the handle */
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, l);
	}
	if (curl_easy_setopt(s->h, CURLOPT_URL, url.buf) ||
	    curl_easy_setopt(s->h, CURLOPT_CONNECT_ONLY, 1L) ||
	    curl_easy_setopt(s->h, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, (long)FWD_CONNECT_TIMEOUT_MS) ||
	    curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf) ||
	    (u->ca[0] && curl_easy_setopt(s->h, CURLOPT_CAINFO, u->ca)) ||
	    (u->cert[0] && curl_easy_setopt(s->h, CURLOPT_SSLCERT, u->cert)) ||
	    (u->key[0] && curl_easy_setopt(s->h, CURLOPT_SSLKEY, u->key)))
		goto out;
	res = curl_easy_perform(s->h);
	if (res != CURLE_OK) {
		failed(s, "cannot connect", s->errbuf[0] ? s->errbuf : curl_easy_strerror(res),
		       waiting(s));
		goto out;
	}
	if (curl_easy_getinfo(s->h, CURLINFO_ACTIVESOCKET, &s->sock) || s->sock == CURL_SOCKET_BAD)
		goto out;
	rc = 0;
out:
	if (rc) {
		struct curl_slist *l = NULL;

		if (s->h)
			curl_easy_getinfo(s->h, CURLINFO_PRIVATE, (char **)&l);
		disconnect(s);
		curl_slist_free_all(l);
	}
	strbuf_release(&url);
	strbuf_release(&to);
	return rc;
}

static void close_conn(struct fwd_stream *s)
{
	struct curl_slist *l = NULL;

	if (s->h)
		curl_easy_getinfo(s->h, CURLINFO_PRIVATE, (char **)&l);
	disconnect(s);
	curl_slist_free_all(l);
}

/* The connection broke: everything not confirmed goes again on the next one. */
static void broken(struct fwd_stream *s, const char *why)
{
	uint64_t again;

	pthread_mutex_lock(&s->mu);
	again = s->next - s->tail;
	s->next = s->tail;
	pthread_mutex_unlock(&s->mu);
	s->frame_off = 0;
	strbuf_reset(&s->frame);
	close_conn(s);
	failed(s, "connection lost", why, again);
}

/* Drops from the queue the messages written at least FWD_CONFIRM_MS ago, when the peer has
 * acknowledged every byte written so far. */
static void confirm(struct fwd_stream *s)
{
	int outq = 0;
	int64_t t = clock_mono_ms();
	uint64_t n = 0;

	if (ioctl((int)s->sock, SIOCOUTQ, &outq) == -1 || outq > 0)
		return;
	pthread_mutex_lock(&s->mu);
	while (s->tail < s->next) {
		const struct fslot *sl = &s->slots[s->tail % s->nslots];

		if (!sl->sent_at || t - sl->sent_at < FWD_CONFIRM_MS)
			break;
		s->btail = sl->off + sl->len;
		s->tail++;
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	if (n)
		atomic_fetch_add(&s->confirmed, n);
}

/* Writes frames while the socket takes them. Returns 1 when it would block, 0 when nothing is
 * left to write, -1 when the connection broke (handled). */
static int pump(struct fwd_stream *s)
{
	for (;;) {
		uint64_t head;
		CURLcode res;
		size_t n = 0;

		if (!s->frame.len) {
			struct fslot sl = {0, 0, 0};

			pthread_mutex_lock(&s->mu);
			head = s->head;
			if (s->next < head)
				sl = s->slots[s->next % s->nslots];
			pthread_mutex_unlock(&s->mu);
			if (s->next >= head)
				return 0;
			/* RFC 6587 / 5425 octet counting: "LEN SP MSG" */
			strbuf_addf(&s->frame, "%u ", sl.len);
			strbuf_add(&s->frame, s->bytes + sl.off % s->nbytes, sl.len);
			s->frame_off = 0;
		}
		res = curl_easy_send(s->h, s->frame.buf + s->frame_off, s->frame.len - s->frame_off,
				     &n);
		if (res == CURLE_AGAIN)
			return 1;
		if (res != CURLE_OK) {
			broken(s, s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
			return -1;
		}
		s->frame_off += n;
		if (s->frame_off == s->frame.len) {
			pthread_mutex_lock(&s->mu);
			s->slots[s->next % s->nslots].sent_at = clock_mono_ms();
			s->next++;
			pthread_mutex_unlock(&s->mu);
			atomic_fetch_add(&s->sent, 1);
			strbuf_reset(&s->frame);
			s->frame_off = 0;
		}
	}
}

/* The peer closed or reset the connection (it never sends anything we want). Returns 1 when
 * the connection is gone. */
static int peer_gone(struct fwd_stream *s)
{
	char buf[512];
	size_t n = 0;
	CURLcode res;

	for (int k = 0; k < 8; k++) {
		res = curl_easy_recv(s->h, buf, sizeof(buf), &n);
		if (res == CURLE_AGAIN)
			return 0;
		if (res != CURLE_OK || n == 0) {
			broken(s, res != CURLE_OK
					  ? (s->errbuf[0] ? s->errbuf : curl_easy_strerror(res))
					  : "closed by the receiver");
			return 1;
		}
	}
	return 0;
}

static void *stream_main(void *arg)
{
	struct fwd_stream *s = arg;
	int64_t backoff = FWD_BACKOFF_MS, retry_at = 0;

	for (;;) {
		struct pollfd p[2];
		int np = 1, would_block = 0, t;
		uint64_t head;

		if (atomic_load(&s->stop)) {
			if (!s->h || clock_mono_ms() >= atomic_load(&s->deadline))
				break;
			pthread_mutex_lock(&s->mu);
			head = s->head;
			pthread_mutex_unlock(&s->mu);
			if (s->next >= head && !s->frame.len)
				break;
		}
		if (!s->h) {
			if (clock_mono_ms() >= retry_at) {
				if (connect_now(s) == 0) {
					atomic_fetch_add(&s->connects, 1);
					atomic_store(&s->connected, 1);
					if (s->lasterr[0])
						say(s, "connected again (%llu messages to send)",
						    (unsigned long long)waiting(s));
					s->lasterr[0] = '\0';
					backoff = FWD_BACKOFF_MS;
				} else {
					/* jitter: between half and all of the backoff */
					retry_at = clock_mono_ms() + backoff / 2 +
						   (int64_t)((uint64_t)clock_mono_ns() %
							     (uint64_t)(backoff / 2 + 1));
					backoff = backoff * 2 > FWD_BACKOFF_MAX_MS
							  ? FWD_BACKOFF_MAX_MS
							  : backoff * 2;
				}
			}
			if (!s->h) {
				int64_t w = retry_at - clock_mono_ms();

				if (atomic_load(&s->stop))
					break; /* not connected: nothing more will go out */
				p[0].fd = s->efd;
				p[0].events = POLLIN;
				poll(p, 1, (int)(w < 0 ? 0 : w > FWD_WAIT_MS ? FWD_WAIT_MS : w));
				if (p[0].revents & POLLIN) {
					uint64_t v;

					if (read(s->efd, &v, sizeof(v)) < 0) {
						/* nothing to do: the counter is only a wakeup */
					}
				}
				continue;
			}
		}
		t = pump(s);
		if (t < 0)
			continue;
		would_block = t == 1;
		confirm(s);
		/* sleep until the socket can take more, the peer closes, or a message comes */
		p[0].fd = (int)s->sock;
		p[0].events = POLLIN | (would_block ? POLLOUT : 0);
		p[1].fd = s->efd;
		p[1].events = POLLIN;
		if (!would_block) {
			atomic_store(&s->idle, 1);
			pthread_mutex_lock(&s->mu);
			head = s->head;
			pthread_mutex_unlock(&s->mu);
			if (s->next < head) {
				atomic_store(&s->idle, 0);
				continue;
			}
			np = 2;
		}
		poll(p, (nfds_t)np, FWD_WAIT_MS);
		atomic_store(&s->idle, 0);
		if (np == 2 && (p[1].revents & POLLIN)) {
			uint64_t v;

			if (read(s->efd, &v, sizeof(v)) < 0) {
				/* a wakeup only */
			}
		}
		if (p[0].revents & (POLLIN | POLLERR | POLLHUP))
			peer_gone(s);
	}
	close_conn(s);
	return NULL;
}

struct fwd_stream *fwd_stream_open(const struct fwd_stream_url *u, const char *prog, char *err,
				   size_t errsz)
{
	struct fwd_stream *s = calloc(1, sizeof(*s));
	char why[512];

	if (!s) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (lazylib_curl_init(why, sizeof(why)) == -1) {
		snprintf(err, errsz, "forwarding %s", why);
		free(s);
		return NULL;
	}
	s->u = *u;
	s->prog = prog;
	s->sock = CURL_SOCKET_BAD;
	s->nslots = u->queue ? u->queue : FWD_QUEUE_MSGS;
	s->nbytes = FWD_QUEUE_BYTES;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	s->bytes = malloc(s->nbytes);
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	strbuf_init(&s->frame);
	if (!s->slots || !s->bytes || s->efd == -1) {
		snprintf(err, errsz, "%s", s->efd == -1 ? strerror(errno) : "out of memory");
		goto fail;
	}
	pthread_mutex_init(&s->mu, NULL);
	if (pthread_create(&s->thr, NULL, stream_main, s)) {
		pthread_mutex_destroy(&s->mu);
		snprintf(err, errsz, "cannot start the forwarding thread");
		goto fail;
	}
	return s;
fail:
	if (s->efd > 0)
		close(s->efd);
	free(s->slots);
	free(s->bytes);
	free(s);
	curl_global_cleanup();
	return NULL;
}

void fwd_stream_stats(struct fwd_stream *s, struct fwd_stream_stats *out)
{
	out->queued = atomic_load(&s->queued);
	out->sent = atomic_load(&s->sent);
	out->confirmed = atomic_load(&s->confirmed);
	out->overflow = atomic_load(&s->overflow);
	out->connects = atomic_load(&s->connects);
	out->failures = atomic_load(&s->failures);
	out->connected = atomic_load(&s->connected);
}

void fwd_stream_close(struct fwd_stream *s, int64_t grace_ms)
{
	uint64_t left, unsent;
	uint64_t one = 1;

	if (!s)
		return;
	atomic_store(&s->deadline, clock_mono_ms() + grace_ms);
	atomic_store(&s->stop, 1);
	if (write(s->efd, &one, sizeof(one)) < 0) {
		/* it polls at most FWD_WAIT_MS anyway */
	}
	pthread_join(s->thr, NULL);
	pthread_mutex_lock(&s->mu);
	left = s->head - s->tail;
	unsent = s->head - s->next;
	pthread_mutex_unlock(&s->mu);
	if (unsent)
		say(s, "%llu messages were never sent (no connection to the receiver)",
		    (unsigned long long)unsent);
	(void)left;
	pthread_mutex_destroy(&s->mu);
	close(s->efd);
	strbuf_release(&s->frame);
	free(s->slots);
	free(s->bytes);
	free(s);
	curl_global_cleanup();
}
