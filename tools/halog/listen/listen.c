/* halog listen: receives syslog over UDP and TCP, queues messages in a fixed-size ring and stores
 * them from a writer thread in batches, so a slow disk never makes the receiver miss a datagram.
 * Layout: pure helpers (addresses, CIDR, framing), the queue, the receiver, the writer, the run. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "clock.h"
#include "exitcode.h"
#include "json.h"
#include "listen/echo.h"
#include "listen/forward.h"
#include "listen/listen.h"
#include "parse/logparse.h"
#include "parse/logrec.h"
#include "parse.h"
#include "store/chsink.h"
#include "store/store.h"
#include "strbuf.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

/* ---------------------------------------------------------------------------------------------
 * Pure helpers
 */

int listen_parse_addr(const char *s, int default_proto, struct listen_addr *out, char *whybuf,
		      size_t whysz, const char **why)
{
	char host[256], num[INET6_ADDRSTRLEN];
	unsigned port;
	int v6;

	memset(out, 0, sizeof(*out));
	out->proto = default_proto;
	if (!strncmp(s, "udp://", 6)) {
		out->proto = LISTEN_UDP;
		s += 6;
	} else if (!strncmp(s, "tcp://", 6)) {
		out->proto = LISTEN_TCP;
		s += 6;
	} else if (strstr(s, "://")) {
		*why = "only udp:// and tcp:// are supported";
		return -1;
	}
	if (parse_hostport(s, host, sizeof(host), &port, &v6, why) < 0)
		return -1;
	if (!host[0]) {
		*why = "give an address, e.g. '127.0.0.1:5140' ('*:5140' for every interface)";
		return -1;
	}
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
			*why = "not a valid IPv6 address";
			return -1;
		}
		out->sslen = sizeof(*a);
	} else if (!strcmp(host, "*") || parse_is_ip(host)) {
		struct sockaddr_in *a = (struct sockaddr_in *)&out->ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (!strcmp(host, "*"))
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
			*why = "not a valid IPv4 address";
			return -1;
		}
		out->sslen = sizeof(*a);
	} else {
		struct addrinfo hints, *res = NULL;
		int rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = out->proto == LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM;
		rc = getaddrinfo(host, NULL, &hints, &res);
		if (rc != 0 || !res || res->ai_addrlen > sizeof(out->ss)) {
			snprintf(whybuf, whysz, "cannot resolve '%s': %s", host,
				 rc ? gai_strerror(rc) : "no address");
			*why = whybuf;
			if (res)
				freeaddrinfo(res);
			return -1;
		}
		memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
		out->sslen = res->ai_addrlen;
		if (out->ss.ss_family == AF_INET)
			((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)port);
		freeaddrinfo(res);
	}
	if (out->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&out->ss)->sin6_addr, num,
			  sizeof(num));
		snprintf(out->text, sizeof(out->text), "%s://[%s]:%u",
			 out->proto == LISTEN_TCP ? "tcp" : "udp", num, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&out->ss)->sin_addr, num, sizeof(num));
		snprintf(out->text, sizeof(out->text), "%s://%s:%u",
			 out->proto == LISTEN_TCP ? "tcp" : "udp", num, port);
	}
	return 0;
}

int listen_parse_cidr(const char *s, struct listen_cidr *out)
{
	unsigned bits;

	if (parse_cidr(s, &out->family, out->addr, &out->prefix) < 0)
		return -1;
	bits = out->family == AF_INET ? 32 : 128;
	for (unsigned i = out->prefix; i < bits; i++)
		if (out->addr[i / 8] & (0x80u >> (i % 8)))
			return -1;
	return 0;
}

/* The address bytes of sa as v4 (4 bytes) or v6 (16); v4-mapped v6 becomes v4. */
static int sa_bytes(const struct sockaddr *sa, const unsigned char **b, unsigned *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		*b = (const unsigned char *)&a->sin_addr;
		*port = ntohs(a->sin_port);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;

		*port = ntohs(a->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			*b = (const unsigned char *)&a->sin6_addr + 12;
			return AF_INET;
		}
		*b = (const unsigned char *)&a->sin6_addr;
		return AF_INET6;
	}
	return -1;
}

int listen_allowed(const struct listen_cidr *nets, size_t n, const struct sockaddr *sa)
{
	const unsigned char *b = NULL;
	unsigned port;
	int fam;

	if (n == 0)
		return 1;
	fam = sa_bytes(sa, &b, &port);
	for (size_t i = 0; i < n; i++) {
		unsigned full, rest;

		if (nets[i].family != fam)
			continue;
		full = nets[i].prefix / 8;
		rest = nets[i].prefix % 8;
		if (memcmp(b, nets[i].addr, full))
			continue;
		if (rest && ((b[full] ^ nets[i].addr[full]) & (0xffu << (8 - rest)) & 0xffu))
			continue;
		return 1;
	}
	return 0;
}

int listen_is_loopback(const struct sockaddr *sa)
{
	const unsigned char *b = NULL;
	unsigned port;
	int fam = sa_bytes(sa, &b, &port);

	if (fam == AF_INET)
		return b[0] == 127;
	if (fam == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)b);
	return 0;
}

void listen_format_source(char *buf, size_t sz, int proto, const struct sockaddr *sa)
{
	const char *p = proto == LISTEN_TCP ? "tcp" : "udp";
	const unsigned char *b = NULL;
	char num[INET6_ADDRSTRLEN];
	unsigned port;
	int fam = sa_bytes(sa, &b, &port);

	if (fam == AF_INET && inet_ntop(AF_INET, b, num, sizeof(num)))
		snprintf(buf, sz, "%s:%s:%u", p, num, port);
	else if (fam == AF_INET6 && inet_ntop(AF_INET6, b, num, sizeof(num)))
		snprintf(buf, sz, "%s:[%s]:%u", p, num, port);
	else
		snprintf(buf, sz, "%s:unknown", p);
}

size_t listen_trim(const char *buf, size_t len)
{
	while (len && buf[len - 1] == '\0')
		len--;
	if (len && buf[len - 1] == '\n')
		len--;
	while (len && buf[len - 1] == '\0')
		len--;
	return len;
}

/* The octet count at buf[0..len): its digits in *d (1-6, no leading zero) and its value.
 * Returns 1 for a count followed by a space, 0 when buf cannot start one, -1 when only digits
 * are there so far (more input may make one). */
static int octet_count(const char *buf, size_t len, size_t *d, size_t *value)
{
	size_t n;

	*value = 0;
	if (len == 0)
		return -1;
	if (buf[0] < '1' || buf[0] > '9')
		return 0;
	for (n = 0; n < len && n < 7 && buf[n] >= '0' && buf[n] <= '9'; n++)
		*value = *value * 10 + (size_t)(buf[n] - '0');
	*d = n;
	if (n == 7)
		return 0;
	if (n == len)
		return -1;
	return buf[n] == ' ' ? 1 : 0;
}

/* Chooses the framing of a connection from its first bytes. Returns the framing, or UNKNOWN
 * when more input is needed to tell. */
static enum listen_framing choose_framing(const char *buf, size_t len, size_t cap, int at_eof)
{
	size_t d, n, end, d2, n2;
	int c = octet_count(buf, len, &d, &n);

	if (c == 0 || (c < 0 && at_eof))
		return LISTEN_FRAMING_LF;
	if (c < 0)
		return LISTEN_FRAMING_UNKNOWN;
	end = d + 1 + n;
	/* an LF inside the announced length: a line that starts with digits */
	if (memchr(buf + d + 1, '\n', (len < end ? len : end) - (d + 1)))
		return LISTEN_FRAMING_LF;
	if (len < end) /* the frame is not all here: wait, unless it cannot come */
		return at_eof || len >= cap + d + 1 ? LISTEN_FRAMING_OCTET : LISTEN_FRAMING_UNKNOWN;
	/* the whole announced frame, and nothing after it yet: a syslog message (it starts with
	 * its <PRI>) is taken as counted at once, so a sender's first message is not held back;
	 * anything else waits for what follows (a line read in pieces would otherwise look
	 * counted) */
	if (len == end)
		return buf[d + 1] == '<' || at_eof ? LISTEN_FRAMING_OCTET : LISTEN_FRAMING_UNKNOWN;
	/* what follows a counted frame is an LF or the next count */
	if (buf[end] == '\n')
		return LISTEN_FRAMING_OCTET;
	return octet_count(buf + end, len - end, &d2, &n2) != 0 ? LISTEN_FRAMING_OCTET
								: LISTEN_FRAMING_LF;
}

void listen_frame_next(struct listen_framer *fr, const char *buf, size_t len, size_t cap,
		       int at_eof, struct listen_frame *f)
{
	const char *lf;
	size_t d = 0, want = 0;
	int c;

	memset(f, 0, sizeof(*f));
	if (fr->skip) {
		f->consumed = len < fr->skip ? len : fr->skip;
		fr->skip -= f->consumed;
		return;
	}
	if (fr->skip_to_lf) {
		lf = memchr(buf, '\n', len);
		f->consumed = lf ? (size_t)(lf - buf) + 1 : len;
		if (lf)
			fr->skip_to_lf = 0;
		return;
	}
	if (len == 0)
		return;
	if (buf[0] == '\n') { /* an empty LF frame (or the LF after an octet frame): no message */
		f->consumed = 1;
		return;
	}
	if (fr->mode == LISTEN_FRAMING_UNKNOWN) {
		fr->mode = choose_framing(buf, len, cap, at_eof);
		if (fr->mode == LISTEN_FRAMING_UNKNOWN)
			return;
	}
	if (fr->mode == LISTEN_FRAMING_OCTET) {
		c = octet_count(buf, len, &d, &want);
		if (c < 0 && !at_eof)
			return; /* only digits so far */
		if (c < 0) { /* the close cut the next frame inside its count: kept, flagged */
			f->has = 1;
			f->len = len;
			f->truncated = 1;
			f->consumed = len;
			return;
		}
	} else {
		c = 0;
	}
	if (c > 0) {
		size_t start = d + 1, have = len - start;

		if (want > cap) {
			if (have >= cap || at_eof) {
				f->has = 1;
				f->start = start;
				f->len = have < cap ? have : cap;
				f->truncated = 1;
				f->consumed = start + f->len;
				fr->skip = want - f->len;
			}
			return;
		}
		if (have >= want) {
			f->has = 1;
			f->start = start;
			f->len = want;
			f->consumed = start + want;
		} else if (at_eof) {
			f->has = 1;
			f->start = start;
			f->len = have;
			f->truncated = 1;
			f->consumed = len;
		}
		return;
	}
	/* LF framing */
	lf = memchr(buf, '\n', len < cap + 1 ? len : cap + 1);
	if (lf) {
		f->has = 1;
		f->len = (size_t)(lf - buf);
		f->consumed = f->len + 1;
	} else if (len >= cap) {
		f->has = 1;
		f->len = cap;
		f->truncated = 1;
		f->consumed = cap;
		fr->skip_to_lf = 1;
	} else if (at_eof) {
		f->has = 1; /* a last line without LF: complete as far as anyone can tell */
		f->len = len;
		f->consumed = len;
	}
}

/* ---------------------------------------------------------------------------------------------
 * The queue: a ring of slots and a ring of bytes, one producer (receiver) and one consumer
 * (writer). A slot is released only after the transaction that stored it commits.
 */

#define LQ_TRUNCATED 0x1 /* cut: longer than LISTEN_MAX_MSG, or a TCP frame ended by the close */
#define LQ_CLOSED 0x2	 /* with LQ_TRUNCATED: the connection closed inside the frame */
#define LQ_TIMEOUT 0x4	 /* with LQ_TRUNCATED: the frame did not complete within --frame-timeout */

union lq_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct lq_slot {
	uint64_t off; /* absolute offset of the message in the byte ring */
	uint32_t len;
	uint8_t proto; /* LISTEN_UDP / LISTEN_TCP */
	uint8_t flags; /* LQ_* */
	int64_t recv_ms;
	union lq_addr from;
};

struct lqueue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct lq_slot *slots;
	size_t nslots;
	char *bytes;
	size_t nbytes;
	uint64_t head, tail; /* slots published / released (under mu) */
	uint64_t btail;	     /* bytes released (under mu) */
	int closed;	     /* the receiver has published its last message (under mu) */
	/* producer-only */
	uint64_t phead, pbhead; /* next slot / byte to write */
	uint64_t seen_tail, seen_btail;
};

static int lq_init(struct lqueue *q, size_t nslots, size_t nbytes)
{
	memset(q, 0, sizeof(*q));
	q->slots = calloc(nslots, sizeof(*q->slots));
	q->bytes = malloc(nbytes);
	if (!q->slots || !q->bytes) {
		free(q->slots);
		free(q->bytes);
		return -1;
	}
	q->nslots = nslots;
	q->nbytes = nbytes;
	pthread_mutex_init(&q->mu, NULL);
	clock_cond_init(&q->not_empty);
	clock_cond_init(&q->not_full);
	return 0;
}

static void lq_release_all(struct lqueue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->slots);
	free(q->bytes);
}

static void lq_refresh(struct lqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->seen_tail = q->tail;
	q->seen_btail = q->btail;
	pthread_mutex_unlock(&q->mu);
}

/* Free slots and bytes as the producer last saw them. */
static size_t lq_free_slots(const struct lqueue *q)
{
	return q->nslots - (size_t)(q->phead - q->seen_tail);
}

static size_t lq_free_bytes(const struct lqueue *q)
{
	return q->nbytes - (size_t)(q->pbhead - q->seen_btail);
}

/* Where len bytes would go, or UINT64_MAX when they do not fit now. */
static uint64_t lq_place(const struct lqueue *q, size_t len)
{
	uint64_t start = q->pbhead;
	size_t pos = (size_t)(start % q->nbytes);

	if (pos + len > q->nbytes)
		start += q->nbytes - pos;
	if (q->phead - q->seen_tail >= q->nslots || start + len - q->seen_btail > q->nbytes)
		return UINT64_MAX;
	return start;
}

/* Copies one message into the ring (not yet visible to the writer). Returns 0, or -1 when the
 * queue is full even after looking at what the writer released. */
static int lq_push(struct lqueue *q, const char *data, size_t len, int proto, int flags,
		   int64_t recv_ms, const struct sockaddr *from, socklen_t fromlen)
{
	uint64_t at = lq_place(q, len);
	struct lq_slot *s;

	if (at == UINT64_MAX) {
		lq_refresh(q);
		at = lq_place(q, len);
		if (at == UINT64_MAX)
			return -1;
	}
	memcpy(q->bytes + at % q->nbytes, data, len);
	s = &q->slots[q->phead % q->nslots];
	s->off = at;
	s->len = (uint32_t)len;
	s->proto = (uint8_t)proto;
	s->flags = (uint8_t)flags;
	s->recv_ms = recv_ms;
	memset(&s->from, 0, sizeof(s->from));
	memcpy(&s->from, from, fromlen < sizeof(s->from) ? fromlen : sizeof(s->from));
	q->pbhead = at + len;
	q->phead++;
	return 0;
}

static void lq_publish(struct lqueue *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->head != q->phead) {
		q->head = q->phead;
		pthread_cond_signal(&q->not_empty);
	}
	q->seen_tail = q->tail;
	q->seen_btail = q->btail;
	pthread_mutex_unlock(&q->mu);
}

static void lq_close(struct lqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->head = q->phead;
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* Producer: waits up to ms for the writer to release something. */
static void lq_wait_space(struct lqueue *q, unsigned ms)
{
	struct timespec ts;

	clock_cond_deadline(&ts, ms);
	pthread_mutex_lock(&q->mu);
	if (q->tail == q->seen_tail)
		pthread_cond_timedwait(&q->not_full, &q->mu, &ts);
	q->seen_tail = q->tail;
	q->seen_btail = q->btail;
	pthread_mutex_unlock(&q->mu);
}

/* Consumer: waits up to ms for slots beyond taken. Returns the published head; *closed tells
 * whether the receiver is done. */
static uint64_t lq_wait_data(struct lqueue *q, uint64_t taken, unsigned ms, int *closed)
{
	struct timespec ts;
	uint64_t h;

	pthread_mutex_lock(&q->mu);
	if (q->head == taken && !q->closed && ms) {
		clock_cond_deadline(&ts, ms);
		pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
	}
	h = q->head;
	*closed = q->closed;
	pthread_mutex_unlock(&q->mu);
	return h;
}

/* Consumer: slots before upto are stored; their space goes back to the receiver. */
static void lq_release(struct lqueue *q, uint64_t upto)
{
	pthread_mutex_lock(&q->mu);
	if (upto > q->tail) {
		const struct lq_slot *last = &q->slots[(upto - 1) % q->nslots];

		q->btail = last->off + last->len;
		q->tail = upto;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
}

/* ---------------------------------------------------------------------------------------------
 * Shared state
 */

#define RX_VLEN 64 /* datagrams per recvmmsg */
#define RX_CTL 64  /* control bytes per datagram (SO_RXQ_OVFL) */
#define TAG_SIGNAL 1u
#define TAG_UDP 2u
#define TAG_TCP 3u
#define TAG_CONN 4u
#define LISTEN_EVICT_IDLE_MS 1000 /* a full table closes a connection silent this long */

struct rx_sock {
	int fd;
	const struct listen_addr *addr;
	uint32_t drops_cmsg;	/* latest SO_RXQ_OVFL value seen */
	uint32_t drops_meminfo; /* latest SK_MEMINFO_DROPS */
};

struct rx_conn {
	int fd;	   /* -1 when the slot is free */
	char *buf; /* LISTEN_MAX_MSG + 32 bytes */
	size_t len;
	struct listen_framer fr;
	union lq_addr from;
	socklen_t fromlen;
	int stalled; /* data waits for queue space */
	int eof;     /* the peer closed; close once the buffer is flushed */
	int guarded; /* the frame waiting for queue space has its forward verdict in verdict */
	enum forward_verdict verdict;
	int64_t last_ms;    /* monotonic: when bytes last arrived (or the accept) */
	int64_t partial_ms; /* monotonic: since when buf holds part of a frame; 0 when empty */
	int timed_out;	    /* closing because the frame did not complete in time */
};

struct listener {
	const struct listen_opts *o;
	struct lqueue q;
	struct store *st;     /* NULL with --db none */
	struct chsink *sink; /* NULL without --sink */
	struct logparser *lp;
	int ep, sigfd;
	struct forwarder *fwd; /* NULL without --forward */
	struct echo_out *echo; /* NULL without --echo */
	struct rx_sock *socks; /* one per bind */
	size_t nsocks;
	struct rx_conn *conns; /* max_conns entries */
	size_t max_conns;      /* --max-conns, lowered to what the open-file limit allows */
	int spare_fd;	       /* held open, given up to accept and close one connection on EMFILE */
	int64_t accept_paused_until; /* monotonic: TCP listeners left out of epoll until then */
	int64_t last_sweep;	     /* monotonic: the last look for idle and stuck connections */
	size_t nconns;
	char *staging; /* RX_VLEN * LISTEN_MAX_MSG bytes for recvmmsg */
	int blocked;   /* the queue was full: wait for the writer */
	int light;     /* the last round read less than a full batch */
	int conn_warned;
	int loop_warned;
	int fd_warned;
	/* counters: written by one thread, read by others */
	_Atomic uint64_t received, refused, kernel_dropped, truncated, conn_limited, idle_closed,
		frame_timeouts;
	_Atomic uint64_t stored, unparsed; /* by the writer, after COMMIT */
	/* the alert engine's watermark: every message received before it is committed. The
	 * receiver sets rx_mark before each wait (a message pushed later is received at or after
	 * it); the writer combines it with the oldest uncommitted slot after each commit. */
	atomic_llong rx_mark, watermark;
	struct alert_engine *alerts;
	atomic_int abandon;		   /* second signal while flushing: give up the queue */
	atomic_int writer_done;
	int writer_failed; /* the writer gave up messages */
	uint64_t lost;	   /* messages abandoned in the queue */
};

static void print_status(struct listener *L)
{
	fprintf(stderr,
		"halog listen: received %" PRIu64 ", stored %" PRIu64 ", dropped %" PRIu64
		" (kernel), refused %" PRIu64 ", unparsed %" PRIu64 "\n",
		atomic_load(&L->received), atomic_load(&L->stored), atomic_load(&L->kernel_dropped),
		atomic_load(&L->refused), atomic_load(&L->unparsed));
}

/* ---------------------------------------------------------------------------------------------
 * The writer thread: parse, store_add, commit by count or time; retry a failed batch forever
 * (with backoff) because its messages are still in the queue.
 */

struct wcount {
	uint64_t received, refused, kernel_dropped, fwd_failed, fwd_loops, echo_dropped, truncated,
		conn_limited, idle_closed, frame_timeouts, stored, unparsed;
};

struct writer {
	struct listener *L;
	struct strbuf echo;
	uint64_t echo_next;	 /* first slot not echoed yet */
	struct wcount done;	 /* counter values already in the store */
	uint64_t batch_unparsed; /* in the open batch */
	union lq_addr last_from; /* the sender of the previous message, and its source text */
	int last_proto;
	char last_src[LISTEN_SRC_MAX];
	int64_t last_err_print;
};

static void echo_slot(struct writer *w, const struct lq_slot *s, const char *raw, const char *src)
{
	struct tm tm;
	time_t t = (time_t)(s->recv_ms / 1000);
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_reset(&w->echo);
	if (strbuf_addf(&w->echo, "%s.%03dZ %s ", when, (int)(s->recv_ms % 1000), src) < 0 ||
	    text_add_visible(&w->echo, raw, s->len) < 0 || strbuf_addch(&w->echo, '\n') < 0)
		return;
	echo_line(w->L->echo, w->echo.buf, w->echo.len);
}

/* store_add for slots [from, to). Returns 0 or -1 (SQLite error). */
static int writer_add(struct writer *w, uint64_t from, uint64_t to)
{
	struct listener *L = w->L;
	struct lqueue *q = &L->q;

	for (uint64_t i = from; i < to; i++) {
		const struct lq_slot *s = &q->slots[i % q->nslots];
		const char *raw = q->bytes + s->off % q->nbytes;
		const char *src = w->last_src;
		struct logrec rec;
		struct store_msg m;

		if (s->proto != w->last_proto || memcmp(&s->from, &w->last_from, sizeof(s->from))) {
			listen_format_source(w->last_src, sizeof(w->last_src), s->proto,
					     &s->from.sa);
			w->last_proto = s->proto;
			w->last_from = s->from;
		}
		logparse_message(L->lp, raw, s->len, &rec);
		if (s->flags & LQ_TRUNCATED) {
			rec.flags |= LR_F_TRUNCATED;
			if (rec.status == LR_OK) {
				rec.status = LR_PARTIAL;
				rec.reason = NULL;
			}
			if (rec.status == LR_PARTIAL && !rec.reason)
				rec.reason = s->flags & LQ_TIMEOUT
						     ? "the frame did not complete within "
						       "--frame-timeout"
					     : s->flags & LQ_CLOSED
						     ? "the connection closed inside this frame"
						     : "message cut by halog listen (longer than "
						       "65536 bytes)";
		}
		if (rec.kind == LR_UNPARSED)
			w->batch_unparsed++;
		if (L->o->echo && i >= w->echo_next) {
			echo_slot(w, s, raw, src);
			w->echo_next = i + 1;
		}
		m.raw = raw;
		m.len = s->len;
		m.recv_ms = s->recv_ms;
		m.source = src;
		m.flags = s->flags & LQ_TRUNCATED ? STORE_MSG_TRUNCATED : 0;
		if (L->sink) /* a slot added again after a failed commit is ignored there */
			chsink_add(L->sink, i, &m, &rec);
		if (L->st && store_add(L->st, &m, &rec) < 0)
			return -1;
	}
	return 0;
}

static void snap_counts(struct listener *L, struct wcount *c)
{
	c->received = atomic_load(&L->received);
	c->refused = atomic_load(&L->refused);
	c->kernel_dropped = atomic_load(&L->kernel_dropped);
	c->fwd_failed = forward_failed(L->fwd);
	c->fwd_loops = forward_loops(L->fwd);
	c->echo_dropped = echo_dropped(L->echo);
	c->truncated = atomic_load(&L->truncated);
	c->conn_limited = atomic_load(&L->conn_limited);
	c->idle_closed = atomic_load(&L->idle_closed);
	c->frame_timeouts = atomic_load(&L->frame_timeouts);
}

/* The counters as the store names them, in the order they are written. */
static const struct {
	const char *name;
	size_t off;
} wcount_names[] = {
	{"listen.received", offsetof(struct wcount, received)},
	{"listen.stored", offsetof(struct wcount, stored)},
	{"listen.kernel_dropped", offsetof(struct wcount, kernel_dropped)},
	{"listen.refused", offsetof(struct wcount, refused)},
	{"listen.unparsed", offsetof(struct wcount, unparsed)},
	{"listen.forward_failed", offsetof(struct wcount, fwd_failed)},
	{"listen.forward_loops", offsetof(struct wcount, fwd_loops)},
	{"listen.echo_dropped", offsetof(struct wcount, echo_dropped)},
	{"listen.truncated", offsetof(struct wcount, truncated)},
	{"listen.conn_limited", offsetof(struct wcount, conn_limited)},
	{"listen.idle_closed", offsetof(struct wcount, idle_closed)},
	{"listen.frame_timeouts", offsetof(struct wcount, frame_timeouts)},
};

static uint64_t wcount_at(const struct wcount *c, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)c + wcount_names[i].off, sizeof(v));
	return v;
}

static int counter_delta(struct store *st, const char *name, uint64_t now, uint64_t before)
{
	if (now == before)
		return 0;
	return store_counter_add(st, name, (int64_t)(now - before));
}

/* Adds the counter deltas and commits. nmsgs messages are in the batch. Returns 0 or -1. */
static int writer_commit(struct writer *w, uint64_t nmsgs)
{
	struct listener *L = w->L;
	struct wcount c;

	snap_counts(L, &c);
	c.stored = w->done.stored + nmsgs;
	c.unparsed = w->done.unparsed + w->batch_unparsed;
	if (!L->st) /* --db none: the sink has them */
		goto done;
	for (size_t i = 0; i < sizeof(wcount_names) / sizeof(wcount_names[0]); i++)
		if (counter_delta(L->st, wcount_names[i].name, wcount_at(&c, i),
				  wcount_at(&w->done, i)) < 0)
			return -1;
	if (store_pending(L->st) == 0 && nmsgs == 0 && !memcmp(&c, &w->done, sizeof(c)))
		return 0;
	if (store_commit(L->st) < 0)
		return -1;
done:
	for (size_t i = 0; L->sink && i < sizeof(wcount_names) / sizeof(wcount_names[0]); i++)
		chsink_counter_set(L->sink, wcount_names[i].name, (int64_t)wcount_at(&c, i));
	w->done = c;
	w->batch_unparsed = 0;
	atomic_store(&L->stored, c.stored);
	atomic_store(&L->unparsed, c.unparsed);
	return 0;
}

/* Sleeps ms, waking early when the listener is abandoned. */
static void writer_sleep(struct listener *L, unsigned ms)
{
	while (ms && !atomic_load(&L->abandon)) {
		unsigned step = ms < 100 ? ms : 100;

		clock_sleep_ms(step);
		ms -= step;
	}
}

/* The batch [from, to) failed: roll back, say so, wait, store it again until it commits.
 * Returns 0 when it finally committed, -1 when abandoned. */
static int writer_retry(struct writer *w, uint64_t from, uint64_t to)
{
	struct listener *L = w->L;
	unsigned backoff = 100;

	for (;;) {
		const char *err = store_errmsg(L->st);
		uint64_t waiting;
		int64_t t = clock_mono_ms();

		store_rollback(L->st);
		w->batch_unparsed = 0;
		pthread_mutex_lock(&L->q.mu);
		waiting = L->q.head - L->q.tail;
		pthread_mutex_unlock(&L->q.mu);
		if (t - w->last_err_print >= 5000 || backoff == 100) {
			if (err && (strstr(err, "full") || strstr(err, "FULL")))
				fprintf(stderr,
					"halog listen: disk full: %" PRIu64
					" messages waiting, retrying (%s)\n",
					waiting, err);
			else
				fprintf(stderr,
					"halog listen: cannot store (%s): %" PRIu64
					" messages waiting, retrying\n",
					err ? err : "unknown error", waiting);
			w->last_err_print = t;
		}
		writer_sleep(L, backoff);
		if (atomic_load(&L->abandon))
			return -1;
		if (backoff < 5000)
			backoff *= 2;
		if (writer_add(w, from, to) == 0 && writer_commit(w, to - from) == 0) {
			fprintf(stderr,
				"halog listen: storing again (%" PRIu64 " messages saved)\n",
				to - from);
			return 0;
		}
	}
}

/* Every message before slot `first` is committed: moves the watermark up to the receive time
 * of the oldest message not committed, or to the receiver's mark when none is queued. With
 * --db none, committed means in ClickHouse: the sink's watermark holds it back too. */
static void update_watermark(struct listener *L, uint64_t first)
{
	struct lqueue *q = &L->q;
	int64_t w = atomic_load(&L->rx_mark); /* read before head: see struct listener */
	uint64_t head;

	pthread_mutex_lock(&q->mu);
	head = q->head;
	pthread_mutex_unlock(&q->mu);
	if (first < head && q->slots[first % q->nslots].recv_ms < w)
		w = q->slots[first % q->nslots].recv_ms;
	if (!L->st && L->sink) /* --db none: stored means acknowledged by ClickHouse */
		w = chsink_watermark(L->sink, w);
	if (w > atomic_load(&L->watermark))
		atomic_store(&L->watermark, w);
}

/* Bytes of the queue that slots [first, taken) hold (wrap gap included). */
static size_t batch_bytes(const struct lqueue *q, uint64_t first, uint64_t taken)
{
	const struct lq_slot *a = &q->slots[first % q->nslots];
	const struct lq_slot *b = &q->slots[(taken - 1) % q->nslots];

	return (size_t)(b->off + b->len - a->off);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct listener *L = w->L;
	struct lqueue *q = &L->q;
	/* a batch holds its queue space until COMMIT: never let it take more than half the queue */
	const size_t batch = L->o->batch < q->nslots / 2 ? L->o->batch : q->nslots / 2;
	const unsigned batch_ms = L->o->batch_ms;
	uint64_t first, taken; /* the open batch is [first, taken) */
	int64_t began = 0, last_counters = clock_mono_ms();

	pthread_mutex_lock(&q->mu);
	first = taken = q->tail;
	pthread_mutex_unlock(&q->mu);
	while (!atomic_load(&L->abandon)) {
		int closed, due;
		unsigned wait = batch_ms;
		uint64_t head, upto;
		int64_t t;

		if (taken > first) {
			t = clock_mono_ms() - began;
			wait = t >= batch_ms ? 0 : batch_ms - (unsigned)t;
		}
		head = lq_wait_data(q, taken, taken == first ? 1000 : wait, &closed);
		if (L->echo)
			echo_flush(L->echo); /* what a slow reader left waiting, never blocking */
		if (taken == first && head > taken)
			began = clock_mono_ms();
		upto = head;
		if (upto - first > batch)
			upto = first + batch;
		if (upto > taken) {
			if (writer_add(w, taken, upto) < 0) {
				if (writer_retry(w, first, upto) < 0)
					break;
				lq_release(q, upto);
				first = taken = upto;
				continue;
			}
			taken = upto;
		}
		t = clock_mono_ms();
		due = taken > first &&
		      (taken - first >= batch || t - began >= batch_ms ||
		       (closed && taken == head) || batch_bytes(q, first, taken) >= q->nbytes / 2);
		if (due) {
			if (writer_commit(w, taken - first) < 0 &&
			    writer_retry(w, first, taken) < 0)
				break;
			lq_release(q, taken);
			first = taken;
			last_counters = t;
		} else if (taken == first && (t - last_counters >= 1000 || closed)) {
			/* nothing queued: still keep the counters in the file current */
			if (writer_commit(w, 0) < 0 && L->st)
				store_rollback(L->st);
			last_counters = t;
		}
		update_watermark(L, first);
		if (closed && taken == head && taken == first)
			break;
	}
	if (atomic_load(&L->abandon)) {
		pthread_mutex_lock(&q->mu);
		L->lost = q->head - q->tail;
		pthread_mutex_unlock(&q->mu);
		if (L->st)
			store_rollback(L->st);
		if (L->lost)
			L->writer_failed = 1;
	}
	if (L->echo)
		echo_flush(L->echo);
	atomic_store(&L->writer_done, 1);
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The receiver (main thread): epoll over the UDP sockets, the TCP listeners and connections,
 * and a signalfd. It never touches SQLite; when the queue is full it stops reading.
 */

/* The forwarding loop guard for one accepted unit (a datagram or a TCP frame): FORWARD_PASS
 * without --forward. A FORWARD_LOOP unit is a copy that came back through a forwarding loop:
 * the caller neither stores it nor counts it as received. */
static enum forward_verdict forward_check(struct listener *L, const char *data, size_t len,
					  const struct sockaddr *from)
{
	enum forward_verdict v;

	if (!L->fwd)
		return FORWARD_PASS;
	v = forward_guard(L->fwd, data, len, from, clock_mono_ms());
	if (v != FORWARD_PASS && !L->loop_warned++)
		fprintf(stderr, "halog listen: messages come back after they were forwarded: a "
				"forwarding loop; they are not forwarded again (listen.forward_loops)\n");
	return v;
}

static void update_kernel_drops(struct listener *L, int query)
{
	uint64_t total = 0;

	for (size_t i = 0; i < L->nsocks; i++) {
		struct rx_sock *s = &L->socks[i];
		uint32_t mi[SK_MEMINFO_VARS];
		socklen_t ml = sizeof(mi);

		if (query && s->fd >= 0 && s->addr->proto == LISTEN_UDP &&
		    getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mi, &ml) == 0 &&
		    ml > SK_MEMINFO_DROPS * sizeof(uint32_t) &&
		    mi[SK_MEMINFO_DROPS] > s->drops_meminfo)
			s->drops_meminfo = mi[SK_MEMINFO_DROPS];
		total += s->drops_cmsg > s->drops_meminfo ? s->drops_cmsg : s->drops_meminfo;
	}
	atomic_store(&L->kernel_dropped, total);
}

/* The datagrams of the last recvmmsg, and how far they are queued (a datagram of several lines
 * may need more queue slots than were free: the rest waits here, and the receiver with it). */
static struct mmsghdr rx_msgs[RX_VLEN];
static struct iovec rx_iov[RX_VLEN];
static union lq_addr rx_from[RX_VLEN];
static char rx_ctl[RX_VLEN][RX_CTL];

struct rx_batch {
	int n;		      /* datagrams read */
	int i;		      /* the next one to queue */
	size_t off;	      /* where its next line starts (0: not looked at yet) */
	size_t len[RX_VLEN];  /* its length after the checks and the trim */
	int flags[RX_VLEN];   /* LQ_* */
	int64_t t;	      /* when they were read */
};
static struct rx_batch rx_batch;

/* The checks of one datagram, once: sender allowed, cut, loop guard, forward. Returns 0 when it
 * is to be stored (len and flags set), -1 when not. */
static int udp_accept(struct listener *L, int i)
{
	struct msghdr *h = &rx_msgs[i].msg_hdr;
	const char *data = rx_iov[i].iov_base;
	size_t len = rx_msgs[i].msg_len;
	enum forward_verdict v;

	rx_batch.flags[i] = 0;
	if (!listen_allowed(L->o->allow, L->o->nallow, &rx_from[i].sa)) {
		atomic_fetch_add(&L->refused, 1);
		return -1;
	}
	if (h->msg_flags & MSG_TRUNC || len > LISTEN_MAX_MSG) {
		rx_batch.flags[i] = LQ_TRUNCATED;
		len = LISTEN_MAX_MSG;
		atomic_fetch_add(&L->truncated, 1);
	}
	v = forward_check(L, data, len, &rx_from[i].sa);
	if (v == FORWARD_LOOP)
		return -1;
	if (v == FORWARD_PASS && L->fwd)
		forward_send(L->fwd, data, len);
	rx_batch.len[i] = listen_trim(data, len);
	return 0;
}

/* Queues what is left of the batch: each datagram split at LF into its lines (an empty line
 * is no message; an empty datagram is one empty message; a cut marks the last line). Returns
 * 0 when all is queued, -1 when the queue is full (L->blocked set; call again later). */
static int udp_queue(struct listener *L)
{
	struct rx_batch *b = &rx_batch;
	int pushed = 0, rc = 0;

	for (; b->i < b->n; b->i++, b->off = 0) {
		const char *data = rx_iov[b->i].iov_base;
		const struct sockaddr *from = &rx_from[b->i].sa;
		socklen_t fromlen = rx_msgs[b->i].msg_hdr.msg_namelen;
		size_t len;

		if (b->off == 0) {
			if (udp_accept(L, b->i) < 0)
				continue;
			b->off = 1; /* offsets below are kept + 1, so 0 means "not looked at" */
		}
		len = b->len[b->i];
		if (len == 0) { /* an empty datagram is still a message, stored as such */
			if (lq_push(&L->q, data, 0, LISTEN_UDP, b->flags[b->i], b->t, from, fromlen)) {
				rc = -1;
				break;
			}
			atomic_fetch_add(&L->received, 1);
			pushed = 1;
			continue;
		}
		while (b->off - 1 < len) {
			size_t at = b->off - 1;
			const char *lf = memchr(data + at, '\n', len - at);
			size_t end = lf ? (size_t)(lf - data) : len;
			int fl = end == len ? b->flags[b->i] : 0;

			if (end > at) {
				if (lq_push(&L->q, data + at, end - at, LISTEN_UDP, fl, b->t, from,
					    fromlen) < 0) {
					rc = -1;
					break;
				}
				atomic_fetch_add(&L->received, 1);
				pushed = 1;
			}
			b->off = end + 2;
		}
		if (rc)
			break;
	}
	if (pushed)
		lq_publish(&L->q);
	if (rc) {
		L->blocked = 1;
		return -1;
	}
	b->n = b->i = 0;
	return 0;
}

/* Reads up to RX_VLEN datagrams from s and queues them. Returns how many were read (0: none
 * waiting, or the queue is full: then L->blocked is set). Datagrams left from an earlier
 * read are queued first. */
static int rx_udp(struct listener *L, struct rx_sock *s)
{
	size_t vlen = RX_VLEN, fb;
	int n;

	if (rx_batch.n && udp_queue(L) < 0)
		return 0;
	if (lq_free_slots(&L->q) < vlen || lq_free_bytes(&L->q) < 2 * (size_t)LISTEN_MAX_MSG)
		lq_refresh(&L->q);
	if (lq_free_slots(&L->q) < vlen)
		vlen = lq_free_slots(&L->q);
	fb = lq_free_bytes(&L->q);
	fb = fb > LISTEN_MAX_MSG ? (fb - LISTEN_MAX_MSG) / LISTEN_MAX_MSG : 0;
	if (fb < vlen)
		vlen = fb;
	if (vlen == 0) {
		L->blocked = 1;
		return 0;
	}
	for (size_t i = 0; i < vlen; i++) {
		rx_iov[i].iov_base = L->staging + i * LISTEN_MAX_MSG;
		rx_iov[i].iov_len = LISTEN_MAX_MSG;
		memset(&rx_msgs[i].msg_hdr, 0, sizeof(rx_msgs[i].msg_hdr));
		rx_msgs[i].msg_hdr.msg_name = &rx_from[i];
		rx_msgs[i].msg_hdr.msg_namelen = sizeof(rx_from[i]);
		rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
		rx_msgs[i].msg_hdr.msg_iovlen = 1;
		rx_msgs[i].msg_hdr.msg_control = rx_ctl[i];
		rx_msgs[i].msg_hdr.msg_controllen = RX_CTL;
	}
	n = recvmmsg(s->fd, rx_msgs, (unsigned)vlen, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &rx_msgs[i].msg_hdr;

		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t d;

				memcpy(&d, CMSG_DATA(c), sizeof(d));
				if (d > s->drops_cmsg)
					s->drops_cmsg = d;
			}
	}
	rx_batch.n = n;
	rx_batch.i = 0;
	rx_batch.off = 0;
	rx_batch.t = clock_wall_ms();
	udp_queue(L);
	update_kernel_drops(L, 0);
	return n;
}

static void conn_close(struct listener *L, struct rx_conn *c)
{
	epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->stalled = 0;
	c->eof = 0;
	L->nconns--;
}

/* Frames and queues what c->buf holds. Sets c->stalled when the queue is full. */
static void conn_frames(struct listener *L, struct rx_conn *c)
{
	size_t pos = 0;
	int64_t t = clock_wall_ms();
	int pushed = 0;

	c->stalled = 0;
	for (;;) {
		struct listen_framer save = c->fr;
		struct listen_frame f;

		listen_frame_next(&c->fr, c->buf + pos, c->len - pos, LISTEN_MAX_MSG, c->eof, &f);
		if (!f.consumed)
			break;
		if (f.has) {
			const char *m = c->buf + pos + f.start;
			size_t len = listen_trim(m, f.len);

			int fl = !f.truncated			    ? 0
				 : c->eof && f.len < LISTEN_MAX_MSG ? LQ_TRUNCATED | LQ_CLOSED
								    : LQ_TRUNCATED;

			/* a timed-out connection holds only the frame that did not complete */
			if (c->timed_out)
				fl |= LQ_TRUNCATED | LQ_CLOSED | LQ_TIMEOUT;

			/* the guard sees each frame once, even when it waits for queue space */
			if (!c->guarded)
				c->verdict = forward_check(L, m, len, &c->from.sa);
			c->guarded = 1;
			if (c->verdict == FORWARD_LOOP) {
				c->guarded = 0;
				pos += f.consumed;
				continue;
			}
			if (lq_push(&L->q, m, len, LISTEN_TCP, fl, t, &c->from.sa, c->fromlen) <
			    0) {
				c->fr = save;
				c->stalled = 1;
				L->blocked = 1;
				break;
			}
			if (f.truncated)
				atomic_fetch_add(&L->truncated, 1);
			atomic_fetch_add(&L->received, 1);
			if (c->verdict == FORWARD_PASS && L->fwd)
				forward_send(L->fwd, m, len);
			c->guarded = 0;
			pushed = 1;
		}
		pos += f.consumed;
	}
	if (pos) {
		memmove(c->buf, c->buf + pos, c->len - pos);
		c->len -= pos;
	}
	/* the --frame-timeout clock runs while part of a frame waits for the rest */
	if (!c->len)
		c->partial_ms = 0;
	else if (pos || !c->partial_ms)
		c->partial_ms = clock_mono_ms();
	if (pushed)
		lq_publish(&L->q);
}

/* Reads what c's socket holds (a bounded number of times), frames it; closes at EOF. */
static void conn_read(struct listener *L, struct rx_conn *c, int rounds)
{
	const size_t size = LISTEN_MAX_MSG + 32;

	while (rounds-- > 0 && !c->stalled && !c->eof && c->len < size) {
		ssize_t n = read(c->fd, c->buf + c->len, size - c->len);

		if (n > 0) {
			c->len += (size_t)n;
			c->last_ms = clock_mono_ms();
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			c->eof = 1;
		} else if (errno != EINTR) {
			break;
		}
		conn_frames(L, c);
	}
	if (c->eof && !c->stalled)
		conn_close(L, c);
}

/* Leaves the TCP listeners out of epoll for ms (events = 0), or puts them back (ms = 0). */
static void accept_pause(struct listener *L, int64_t ms)
{
	for (size_t i = 0; i < L->nsocks; i++) {
		struct rx_sock *s = &L->socks[i];
		struct epoll_event ev;

		if (s->fd < 0 || s->addr->proto != LISTEN_TCP)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = ms ? 0 : EPOLLIN;
		ev.data.u64 = ((uint64_t)TAG_TCP << 32) | i;
		epoll_ctl(L->ep, EPOLL_CTL_MOD, s->fd, &ev);
	}
	L->accept_paused_until = ms ? clock_mono_ms() + ms : 0;
}

/* No descriptor left for a new connection (EMFILE, ENFILE): take it with the spare descriptor
 * and close it at once, so it leaves the backlog and epoll does not report it again and
 * again (a busy loop). When even that fails, stop accepting for a second. */
static void accept_shed(struct listener *L, struct rx_sock *s, int err)
{
	int fd = -1;

	atomic_fetch_add(&L->conn_limited, 1);
	if (!L->fd_warned++)
		fprintf(stderr,
			"halog listen: no file descriptor left for a new TCP connection (%s): "
			"closing new connections until one is free\n",
			strerror(err));
	if (L->spare_fd >= 0) {
		close(L->spare_fd);
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		L->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		accept_pause(L, 1000);
}

/* With every slot taken, the connection that has been silent longest (at least
 * LISTEN_EVICT_IDLE_MS, with no partial frame) makes room for a new one. Returns its slot, or
 * NULL when every connection is busy. */
static struct rx_conn *conn_evict(struct listener *L, int64_t now)
{
	struct rx_conn *old = NULL;

	for (size_t i = 0; i < L->max_conns; i++) {
		struct rx_conn *c = &L->conns[i];

		if (c->fd >= 0 && !c->len && !c->stalled && now - c->last_ms >= LISTEN_EVICT_IDLE_MS &&
		    (!old || c->last_ms < old->last_ms))
			old = c;
	}
	if (old) {
		atomic_fetch_add(&L->idle_closed, 1);
		conn_close(L, old);
	}
	return old;
}

static void rx_accept(struct listener *L, struct rx_sock *s)
{
	for (int k = 0; k < 64; k++) {
		union lq_addr from;
		socklen_t fl = sizeof(from);
		struct rx_conn *c = NULL;
		struct epoll_event ev;
		int fd = accept4(s->fd, &from.sa, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int64_t now = clock_mono_ms();

		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				accept_shed(L, s, errno);
			return;
		}
		if (!listen_allowed(L->o->allow, L->o->nallow, &from.sa)) {
			atomic_fetch_add(&L->refused, 1);
			close(fd);
			continue;
		}
		for (size_t i = 0; i < L->max_conns && !c; i++)
			if (L->conns[i].fd < 0)
				c = &L->conns[i];
		if (!c)
			c = conn_evict(L, now);
		if (c && !c->buf)
			c->buf = malloc(LISTEN_MAX_MSG + 32);
		if (!c || !c->buf) {
			atomic_fetch_add(&L->conn_limited, 1);
			if (!L->conn_warned++)
				fprintf(stderr,
					"halog listen: more than %zu busy TCP connections: closing "
					"the new ones (--max-conns)\n",
					L->max_conns);
			close(fd);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = ((uint64_t)TAG_CONN << 32) | (uint64_t)(c - L->conns);
		if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->stalled = c->eof = c->guarded = c->timed_out = 0;
		c->last_ms = now;
		c->partial_ms = 0;
		memset(&c->fr, 0, sizeof(c->fr));
		c->from = from;
		c->fromlen = fl;
		L->nconns++;
	}
}

/* Closes the connections silent for --idle-timeout, and ends the frames that did not complete
 * within --frame-timeout (what arrived of them is stored, flagged). Both counted. */
static void conn_sweep(struct listener *L, int64_t now)
{
	const struct listen_opts *o = L->o;

	L->last_sweep = now;
	if (L->accept_paused_until && now >= L->accept_paused_until)
		accept_pause(L, 0);
	for (size_t i = 0; i < L->max_conns; i++) {
		struct rx_conn *c = &L->conns[i];

		if (c->fd < 0 || c->stalled)
			continue;
		if (o->frame_ms && c->partial_ms && now - c->partial_ms >= (int64_t)o->frame_ms) {
			atomic_fetch_add(&L->frame_timeouts, 1);
			c->timed_out = 1;
			c->eof = 1;
			conn_frames(L, c);
			if (!c->stalled)
				conn_close(L, c);
		} else if (o->idle_ms && !c->len && now - c->last_ms >= (int64_t)o->idle_ms) {
			atomic_fetch_add(&L->idle_closed, 1);
			conn_close(L, c);
		}
	}
}

/* Handles pending signals. Returns 1 when asked to stop. */
static int rx_signals(struct listener *L)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(L->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			update_kernel_drops(L, 1);
			print_status(L);
		} else {
			stop = 1;
		}
	}
	return stop;
}

/* Retries the connections whose data waits for queue space. */
static void rx_unstall(struct listener *L)
{
	L->blocked = 0;
	if (rx_batch.n && udp_queue(L) < 0)
		return;
	for (size_t i = 0; i < L->max_conns && !L->blocked; i++) {
		struct rx_conn *c = &L->conns[i];

		if (c->fd >= 0 && c->stalled) {
			conn_frames(L, c);
			if (c->eof && !c->stalled)
				conn_close(L, c);
		}
	}
}

static void rx_loop(struct listener *L)
{
	struct epoll_event evs[64];
	int64_t last_drops = clock_mono_ms();

	for (;;) {
		int n;
		int64_t now;

		if (L->blocked) {
			lq_wait_space(&L->q, 100);
			if (rx_signals(L))
				return;
			rx_unstall(L);
			if (L->blocked)
				continue;
		}
		if (L->light) {
			/* little arrived last round: let the kernel gather more before waking up
			 * again, instead of one wakeup per datagram (the socket buffer holds them
			 * meanwhile) */
			clock_sleep_ms(1);
			L->light = 0;
		}
		atomic_store(&L->rx_mark, clock_wall_ms());
		/* with connections open (or accepting paused), wake up often enough to keep
		 * their timeouts */
		n = epoll_wait(L->ep, evs, 64, L->nconns || L->accept_paused_until ? 100 : 1000);
		now = clock_mono_ms();
		if (now - last_drops >= 1000) {
			update_kernel_drops(L, 1);
			last_drops = now;
		}
		if (now - L->last_sweep >= 100)
			conn_sweep(L, now);
		for (int i = 0; i < n; i++) {
			uint32_t tag = (uint32_t)(evs[i].data.u64 >> 32);
			uint32_t idx = (uint32_t)evs[i].data.u64;

			if (tag == TAG_SIGNAL) {
				if (rx_signals(L))
					return;
			} else if (tag == TAG_UDP) {
				int got = rx_udp(L, &L->socks[idx]);

				if (got > 0 && got < RX_VLEN)
					L->light = 1;
			} else if (tag == TAG_TCP) {
				rx_accept(L, &L->socks[idx]);
			} else if (tag == TAG_CONN && L->conns[idx].fd >= 0 &&
				   !L->conns[idx].stalled) {
				conn_read(L, &L->conns[idx], 4);
			}
		}
	}
}

/* After SIGINT/SIGTERM: refuse new input, then read everything the kernel already holds. */
static void rx_drain(struct listener *L)
{
	int64_t deadline = clock_mono_ms() + 10000;
	int closed_to_new = 1; /* every UDP socket stopped taking new datagrams */

	for (size_t i = 0; i < L->nsocks; i++) {
		struct rx_sock *s = &L->socks[i];

		if (s->addr->proto == LISTEN_TCP) {
			close(s->fd);
			s->fd = -1;
			continue;
		}
		/* A connected UDP socket only takes datagrams from its peer: connecting it to
		 * itself stops new deliveries while the queue already in the kernel stays readable.
		 */
		union lq_addr self;
		socklen_t sl = sizeof(self);

		if (getsockname(s->fd, &self.sa, &sl) == 0) {
			if (self.sa.sa_family == AF_INET &&
			    self.in4.sin_addr.s_addr == htonl(INADDR_ANY))
				self.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (self.sa.sa_family == AF_INET6 &&
			    IN6_IS_ADDR_UNSPECIFIED(&self.in6.sin6_addr))
				self.in6.sin6_addr = in6addr_loopback;
			if (connect(s->fd, &self.sa, sl) == -1) {
				fprintf(stderr,
					"halog listen: cannot close %s to new senders: %s\n",
					s->addr->text, strerror(errno));
				closed_to_new = 0;
			}
		} else {
			closed_to_new = 0;
		}
	}
	for (size_t i = 0; i < L->nsocks; i++) {
		struct rx_sock *s = &L->socks[i];

		while (s->fd >= 0 && clock_mono_ms() < deadline) {
			if (rx_udp(L, s) > 0) {
				/* no new senders: this ends; with new senders still coming in,
				 * the first deadline stands so that a flood cannot hold the stop */
				if (closed_to_new)
					deadline = clock_mono_ms() + 10000;
				continue;
			}
			if (!L->blocked)
				break;
			lq_wait_space(&L->q, 100);
			L->blocked = 0;
			if (rx_signals(L))
				atomic_store(&L->abandon, 1);
			if (atomic_load(&L->abandon))
				break;
		}
	}
	/* the lines of datagrams already read are queued whatever the deadline */
	while (rx_batch.n && !atomic_load(&L->abandon) && udp_queue(L) < 0) {
		lq_wait_space(&L->q, 100);
		L->blocked = 0;
		if (rx_signals(L))
			atomic_store(&L->abandon, 1);
	}
	update_kernel_drops(L, 1);
	/* TCP: read what each connection had sent when the stop came (FIONREAD), not what a
	 * sender goes on writing after it; then close. A frame cut there is stored flagged. */
	deadline = clock_mono_ms() + 10000;
	for (size_t i = 0; i < L->max_conns; i++) {
		struct rx_conn *c = &L->conns[i];
		int inq = 0;
		size_t budget;

		if (c->fd < 0)
			continue;
		if (ioctl(c->fd, FIONREAD, &inq) == -1 || inq < 0)
			inq = 0;
		budget = (size_t)inq;
		while (c->fd >= 0 && clock_mono_ms() < deadline && !atomic_load(&L->abandon)) {
			size_t room = LISTEN_MAX_MSG + 32 - c->len;
			ssize_t n;

			if (c->stalled) {
				lq_wait_space(&L->q, 100);
				conn_frames(L, c);
				continue;
			}
			if (budget == 0 || c->eof || room == 0) {
				c->eof = 1;
				conn_frames(L, c);
				if (!c->stalled)
					conn_close(L, c);
				continue;
			}
			n = read(c->fd, c->buf + c->len, room < budget ? room : budget);
			if (n > 0) {
				c->len += (size_t)n;
				budget -= (size_t)n;
				conn_frames(L, c);
			} else if (n == 0 ||
				   (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
				c->eof = 1;
			} else if (errno != EINTR) {
				budget = 0;
			}
		}
		if (c->fd >= 0)
			conn_close(L, c);
	}
	lq_close(&L->q);
}

/* ---------------------------------------------------------------------------------------------
 * Setup and run
 */

static void set_rcvbuf(int fd, size_t want, const char *text)
{
	int v = want > (size_t)(INT32_MAX / 2) ? INT32_MAX / 2 : (int)want, got = 0;
	socklen_t gl = sizeof(got);

	if (want == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0 && (size_t)got < want)
		fprintf(stderr,
			"halog listen: %s: receive buffer is %d bytes, not %zu (raise "
			"net.core.rmem_max on the host, or give halog CAP_NET_ADMIN: root has it "
			"outside a container, cap_add NET_ADMIN inside one)\n",
			text, got, want);
}

static int open_sock(struct listener *L, struct rx_sock *s, size_t idx)
{
	const struct listen_addr *a = s->addr;
	int one = 1, udp = a->proto == LISTEN_UDP;
	struct epoll_event ev;
	int fd = socket(a->ss.ss_family,
			(udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1) {
		fprintf(stderr, "halog listen: %s: cannot create socket: %s\n", a->text,
			strerror(errno));
		return -1;
	}
	s->fd = fd;
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (!udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->sslen) == -1) {
		fprintf(stderr, "halog listen: cannot bind %s: %s\n", a->text, strerror(errno));
		return -1;
	}
	if (udp) {
		set_rcvbuf(fd, L->o->rcvbuf, a->text);
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	} else if (listen(fd, 128) == -1) {
		fprintf(stderr, "halog listen: cannot listen on %s: %s\n", a->text,
			strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = ((uint64_t)(udp ? TAG_UDP : TAG_TCP) << 32) | idx;
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		fprintf(stderr, "halog listen: epoll: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Descriptors the listener needs besides its TCP connections: stdio, epoll, signalfd, the
 * spare, the store's two connections (file, -wal, -shm each), echo, and slack. */
#define LISTEN_FD_RESERVE 32

/* Caps the TCP connections at what the open-file limit allows (raising the soft limit towards
 * the hard one first), and says so. Returns 0, or -1 (message printed) when the limit leaves
 * no room for a single connection. */
static int fd_budget(struct listener *L)
{
	const struct listen_opts *o = L->o;
	size_t reserve = LISTEN_FD_RESERVE + o->nbinds + o->nforward, need, avail;
	struct rlimit rl;
	int tcp = 0;

	for (size_t i = 0; i < o->nbinds; i++)
		tcp |= o->binds[i].proto == LISTEN_TCP;
	if (!tcp || getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	need = L->max_conns + reserve;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_cur < rl.rlim_max)) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	avail = rl.rlim_cur > reserve ? (size_t)rl.rlim_cur - reserve : 0;
	if (avail == 0) {
		fprintf(stderr,
			"halog listen: the open-file limit (%llu, ulimit -n) leaves no room for TCP "
			"connections: raise it to at least %zu\n",
			(unsigned long long)rl.rlim_cur, reserve + 1);
		return -1;
	}
	fprintf(stderr,
		"halog listen: --max-conns %zu lowered to %zu: the open-file limit is %llu "
		"(ulimit -n)\n",
		L->max_conns, avail, (unsigned long long)rl.rlim_cur);
	L->max_conns = avail;
	return 0;
}

/* Prints what we listen on, with the effective UDP receive buffers. */
static void print_banner(struct listener *L)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "halog listen: listening on ");
	for (size_t i = 0; i < L->nsocks; i++) {
		const struct rx_sock *s = &L->socks[i];
		int got = 0;
		socklen_t gl = sizeof(got);

		strbuf_addf(&sb, "%s%s", i ? ", " : "", s->addr->text);
		if (s->addr->proto == LISTEN_UDP &&
		    getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0)
			strbuf_addf(&sb, " (rcvbuf %d)", got);
	}
	if (L->st)
		strbuf_addf(&sb, "; storing in %s", L->o->db);
	if (L->sink)
		strbuf_addf(&sb, "; sink %s", chsink_text(L->sink));
	if (L->fwd) {
		char fw[FORWARD_MAX * LISTEN_SRC_MAX];

		forward_describe(L->fwd, fw, sizeof(fw));
		strbuf_addf(&sb, "; forwarding to %s", fw);
	}
	fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
}

/* Waits up to grace_ms for the sink (NULL: none) to insert every row it holds. Returns the
 * grace left. */
static int64_t sink_drain(struct chsink *s, int64_t grace_ms)
{
	int64_t end = clock_mono_ms() + grace_ms;
	struct chsink_stats st;

	while (s && clock_mono_ms() < end) {
		chsink_get_stats(s, &st);
		if (!st.rows_waiting)
			break;
		clock_sleep_ms(20);
	}
	grace_ms = end - clock_mono_ms();
	return grace_ms > 0 ? grace_ms : 0;
}

int listen_run(const struct listen_opts *o)
{
	struct listener *L = calloc(1, sizeof(*L));
	struct writer w;
	pthread_t th;
	sigset_t mask;
	char err[512];
	int rc = EXIT_CODE_ERR, started = 0;
	int64_t final_mark, grace;

	memset(&w, 0, sizeof(w));
	strbuf_init(&w.echo);
	if (!L) {
		fprintf(stderr, "halog listen: out of memory\n");
		return EXIT_CODE_ERR;
	}
	L->o = o;
	L->ep = L->sigfd = L->spare_fd = -1;
	L->max_conns = o->max_conns;
	for (size_t i = 0; i < o->nforward; i++)
		if (forward_reaches_bind(&o->forward[i], o->binds, o->nbinds)) {
			fprintf(stderr,
				"halog listen: --forward %s reaches this listener's own --bind: it "
				"would loop\n",
				forward_text(&o->forward[i]));
			rc = EXIT_CODE_USAGE;
			goto out_free;
		}
	L->lp = logparser_new(o->log_format, err, sizeof(err));
	if (!L->lp) {
		fprintf(stderr, "halog listen: --log-format: %s\n", err);
		rc = EXIT_CODE_USAGE;
		goto out_free;
	}
	if (fd_budget(L) < 0)
		goto out_free;
	if (lq_init(&L->q, o->queue_msgs, o->queue_bytes) < 0) {
		fprintf(stderr, "halog listen: out of memory\n");
		goto out_free;
	}
	L->socks = calloc(o->nbinds, sizeof(*L->socks));
	L->conns = calloc(L->max_conns ? L->max_conns : 1, sizeof(*L->conns));
	L->staging = malloc((size_t)RX_VLEN * LISTEN_MAX_MSG);
	/* before any exit path: out_queue closes every conns[i].fd that is not -1 */
	for (size_t i = 0; L->conns && i < L->max_conns; i++)
		L->conns[i].fd = -1;
	if (!L->socks || !L->conns || !L->staging) {
		fprintf(stderr, "halog listen: out of memory\n");
		goto out_queue;
	}

	/* signals: blocked in every thread, read from a signalfd by the receiver */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	L->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	L->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* see accept_shed */
	L->ep = epoll_create1(EPOLL_CLOEXEC);
	if (L->sigfd == -1 || L->ep == -1) {
		fprintf(stderr, "halog listen: %s\n", strerror(errno));
		goto out_queue;
	}
	{
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)TAG_SIGNAL << 32;
		epoll_ctl(L->ep, EPOLL_CTL_ADD, L->sigfd, &ev);
	}
	/* sockets first: a port in use should not leave a new empty store behind */
	L->nsocks = o->nbinds;
	for (size_t i = 0; i < L->nsocks; i++) {
		L->socks[i].fd = -1;
		L->socks[i].addr = &o->binds[i];
	}
	for (size_t i = 0; i < L->nsocks; i++)
		if (open_sock(L, &L->socks[i], i) < 0)
			goto out_socks;
	if (strcmp(o->db, "none")) {
		L->st = store_open(o->db, STORE_CREATE, err, sizeof(err));
		if (!L->st) {
			fprintf(stderr, "halog listen: %s\n", err);
			goto out_socks;
		}
		/* the store's default page cache is large; the listener must stay small whatever
		 * the rate */
		store_set_cache_kib(L->st, 16384);
	}
	if (o->sink) {
		char spool[4200];

		snprintf(spool, sizeof(spool), "%s.chspool", L->st ? o->db : "halog-sink");
		if (!(L->sink = chsink_open(o->sink, spool, err, sizeof(err)))) {
			fprintf(stderr, "halog listen: --sink: %s\n", err);
			goto out_socks;
		}
	}
	if (L->st) {
		/* retention: the limits given here stay in the store; say which ones apply */
		struct store_retention r = o->retain;
		unsigned set;
		char desc[256];

		if ((o->retain_mask && store_retention_set(L->st, &r, o->retain_mask)) ||
		    store_retention_get(L->st, &r, &set)) {
			fprintf(stderr, "halog listen: %s: %s\n", o->db, store_errmsg(L->st));
			goto out_socks;
		}
		store_retention_describe(&r, set, desc, sizeof(desc));
		fprintf(stderr, "halog listen: keeping %s\n", desc);
	}
	if (o->nforward && !(L->fwd = forward_new(o->forward, o->nforward, err, sizeof(err)))) {
		fprintf(stderr, "halog listen: %s\n", err);
		goto out_socks;
	}
	if (o->echo && !(L->echo = echo_open(STDOUT_FILENO))) {
		fprintf(stderr, "halog listen: out of memory\n");
		goto out_socks;
	}
	if (!o->no_alerts) {
		/* alerts count the local store when there is one, else ClickHouse (state in the
		 * URL's state file) */
		atomic_store(&L->rx_mark, clock_wall_ms());
		L->alerts = alert_engine_start(L->st ? o->db : o->sink, &L->watermark,
					       "halog listen", err, sizeof(err));
		if (!L->alerts)
			fprintf(stderr, "halog listen: alerts are not evaluated: %s\n", err);
	}
	print_banner(L);
	w.L = L;
	if (pthread_create(&th, NULL, writer_main, &w) != 0) {
		fprintf(stderr, "halog listen: cannot start the writer thread\n");
		goto out_socks;
	}
	started = 1;
	rx_loop(L);
	rx_drain(L);
	/* wait for the writer to commit everything; a further signal abandons the queue */
	while (!atomic_load(&L->writer_done)) {
		if (rx_signals(L) && !atomic_load(&L->abandon)) {
			atomic_store(&L->abandon, 1);
			fprintf(stderr,
				"halog listen: second signal: giving up the messages not stored\n");
		}
		clock_sleep_ms(50);
	}
	pthread_join(th, NULL);
	/* everything received is stored (unless abandoned): the last windows can close; with
	 * --db none, those before the rows the sink could not insert (spooled for the next run) */
	final_mark = clock_wall_ms();
	/* the sink inserts what it holds for 5 s at most, then spools the rest for the next run */
	grace = sink_drain(L->sink, 5000);
	if (!L->st && L->sink)
		final_mark = chsink_watermark(L->sink, final_mark);
	chsink_close(L->sink, grace, "halog listen");
	L->sink = NULL;
	/* tcp:// and tls:// destinations send what they still hold, for 2 s at most */
	forward_close(L->fwd, 2000);
	L->fwd = NULL;
	rc = L->writer_failed ? EXIT_CODE_ERR : EXIT_CODE_OK;
	if (!L->lost && final_mark > atomic_load(&L->watermark))
		atomic_store(&L->watermark, final_mark);
	alert_engine_stop(L->alerts, 2000);
	L->alerts = NULL;
	if (L->lost)
		fprintf(stderr, "halog listen: %" PRIu64 " received messages were not stored\n",
			L->lost);
	print_status(L);
	if (L->echo) {
		/* gives up what a reader that stopped reading left waiting */
		uint64_t dropped = echo_close(L->echo);

		L->echo = NULL;
		if (dropped)
			fprintf(stderr,
				"halog listen: --echo: %" PRIu64
				" lines not shown (stdout did not keep up)\n",
				dropped);
	}
out_socks:
	alert_engine_stop(L->alerts, 0);
	for (size_t i = 0; i < L->nsocks; i++)
		if (L->socks[i].fd >= 0)
			close(L->socks[i].fd);
	if (!started && L->st)
		store_rollback(L->st);
	store_close(L->st);
	chsink_close(L->sink, 0, NULL);
out_queue:
	if (L->conns)
		for (size_t i = 0; i < L->max_conns; i++) {
			if (L->conns[i].fd >= 0)
				close(L->conns[i].fd);
			free(L->conns[i].buf);
		}
	free(L->conns);
	free(L->socks);
	free(L->staging);
	forward_free(L->fwd);
	echo_close(L->echo);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->spare_fd >= 0)
		close(L->spare_fd);
	if (L->ep >= 0)
		close(L->ep);
	lq_release_all(&L->q);
out_free:
	if (L->lp)
		logparser_free(L->lp);
	strbuf_release(&w.echo);
	free(L);
	return rc;
}

void listen_opts_init(struct listen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->batch = 5000;
	o->batch_ms = 200;
	o->rcvbuf = 256u << 20; /* absorbs a 1M-datagram burst at full loopback speed (docs) */
	o->max_conns = 256;
	o->idle_ms = 300000;
	o->frame_ms = 30000;
	o->queue_msgs = 65536;
	o->queue_bytes = 16u << 20;
}
