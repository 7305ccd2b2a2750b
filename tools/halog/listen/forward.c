/* halog listen's forwarding: the destination table, the address loop check and the loop guard
 * on message copies (see forward.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen/forward.h"
#include "strbuf.h"

struct fwd_dest {
	const struct forward_target *t;
	int fd;			   /* udp:// */
	struct fwd_stream *stream; /* tcp://, tls:// */
};

/* ---------------------------------------------------------------------------------------------
 * udp://HOST:PORT: one datagram per message, sent without waiting; a full socket buffer drops
 * the message (counted).
 */

static int udp_parse(const char *url, struct forward_target *out, char *whybuf, size_t whysz,
		     const char **why)
{
	return listen_parse_addr(url, LISTEN_UDP, &out->addr, whybuf, whysz, why);
}

static int udp_open(struct fwd_dest *d, char *err, size_t errsz)
{
	int sb = 4 << 20;

	d->fd = socket(d->t->addr.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd == -1) {
		snprintf(err, errsz, "--forward %s: %s", d->t->addr.text, strerror(errno));
		return -1;
	}
	setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
	return 0;
}

static int udp_send(struct fwd_dest *d, const char *msg, size_t len)
{
	const struct listen_addr *a = &d->t->addr;

	return sendto(d->fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)&a->ss, a->sslen) < 0
		       ? -1
		       : 0;
}

static void udp_close(struct fwd_dest *d, int64_t grace_ms)
{
	(void)grace_ms;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* ---------------------------------------------------------------------------------------------
 * tcp://HOST:PORT and tls://HOST:PORT?options: RFC 6587 / RFC 5425 octet-counted frames on a
 * connection kept by a thread of the destination (listen/fwd_stream.h); send only queues.
 */

static int stream_parse(const char *url, struct forward_target *out, char *whybuf, size_t whysz,
			const char **why)
{
	struct fwd_stream_url *u = &out->stream;
	char hp[300];
	const char *w;
	int v6;

	if (fwd_stream_parse(url, u, whybuf, whysz) < 0) {
		*why = whybuf;
		return -1;
	}
	v6 = strchr(u->host, ':') != NULL;
	/* the address, for the loop check at start; a name that does not resolve now is left to
	 * each connection (a relay must start while the log service's name cannot be looked up) */
	snprintf(hp, sizeof(hp), "tcp://%s%s%s:%u", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
	if (listen_parse_addr(hp, LISTEN_TCP, &out->addr, whybuf, whysz, &w) < 0) {
		memset(&out->addr, 0, sizeof(out->addr));
		out->addr.proto = LISTEN_TCP;
		out->addr.ss.ss_family = AF_UNSPEC;
	}
	return 0;
}

static int stream_open(struct fwd_dest *d, char *err, size_t errsz)
{
	d->stream = fwd_stream_open(&d->t->stream, "halog listen", err, errsz);
	return d->stream ? 0 : -1;
}

static int stream_send(struct fwd_dest *d, const char *msg, size_t len)
{
	/* a frame carries the message without its trailing LF: the count says where it ends */
	return fwd_stream_send(d->stream, msg, listen_trim(msg, len));
}

static void stream_close(struct fwd_dest *d, int64_t grace_ms)
{
	struct fwd_stream_stats st;

	if (!d->stream)
		return;
	fwd_stream_stats(d->stream, &st);
	fwd_stream_close(d->stream, grace_ms);
	d->stream = NULL;
	fprintf(stderr,
		"halog listen: forward %s: %" PRIu64 " queued, %" PRIu64 " sent, %" PRIu64
		" dropped (queue full), %" PRIu64 " connections, %" PRIu64 " failures\n",
		forward_text(d->t), st.queued, st.sent, st.overflow, st.connects, st.failures);
}

/* The destination kinds, by URL prefix (append-only). */
static const struct fwd_scheme schemes[] = {
	{"udp://", udp_parse, udp_open, udp_send, udp_close},
	{"tcp://", stream_parse, stream_open, stream_send, stream_close},
	{"tls://", stream_parse, stream_open, stream_send, stream_close},
};

const char *forward_text(const struct forward_target *t)
{
	return t->stream.text[0] ? t->stream.text : t->addr.text;
}

int forward_parse(const char *url, struct forward_target *out, char *whybuf, size_t whysz,
		  const char **why)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix))) {
			out->scheme = &schemes[i];
			return schemes[i].parse(url, out, whybuf, whysz, why);
		}
	*why = "expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT";
	return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Address loop check
 */

/* sa's address as 4 (IPv4, v4-mapped IPv6 included) or 16 bytes; returns the family. */
static int norm_addr(const struct sockaddr *sa, unsigned char out[16], unsigned *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		memcpy(out, &a->sin_addr, 4);
		*port = ntohs(a->sin_port);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;

		*port = ntohs(a->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			memcpy(out, (const unsigned char *)&a->sin6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(out, &a->sin6_addr, 16);
		return AF_INET6;
	}
	*port = 0;
	memset(out, 0, 16);
	return -1;
}

static int is_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* True when the address (family fam, bytes b) belongs to this host. */
static int is_local(int fam, const unsigned char *b)
{
	static const unsigned char v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct ifaddrs *ifs = NULL;
	int local = 0;

	if (fam == AF_INET && (b[0] == 127 || is_zero(b, 4)))
		return 1;
	if (fam == AF_INET6 && (!memcmp(b, v6lo, 16) || is_zero(b, 16)))
		return 1;
	if (getifaddrs(&ifs) == -1)
		return 1; /* cannot tell: a wildcard bind then takes every address as its own */
	for (struct ifaddrs *i = ifs; i && !local; i = i->ifa_next) {
		unsigned char a[16];
		unsigned p;

		if (i->ifa_addr && norm_addr(i->ifa_addr, a, &p) == fam &&
		    !memcmp(a, b, fam == AF_INET ? 4 : 16))
			local = 1;
	}
	freeifaddrs(ifs);
	return local;
}

int forward_reaches_bind(const struct forward_target *t, const struct listen_addr *binds,
			 size_t n)
{
	unsigned char ta[16];
	unsigned tport;
	int tfam = norm_addr((const struct sockaddr *)&t->addr.ss, ta, &tport);

	for (size_t i = 0; i < n; i++) {
		unsigned char ba[16];
		unsigned bport;
		int bfam = norm_addr((const struct sockaddr *)&binds[i].ss, ba, &bport);
		size_t alen = bfam == AF_INET ? 4 : 16;

		if (binds[i].proto != t->addr.proto || bport != tport || bfam != tfam)
			continue;
		if (!memcmp(ba, ta, alen) || (is_zero(ba, alen) && is_local(tfam, ta)))
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The forwarder and its loop guard: a direct-mapped table of the messages sent lately, each
 * with a hash of its sender.
 */

struct guard_ent {
	uint64_t msg;	   /* hash of the message (0: empty) */
	uint64_t sender;   /* hash of the sender it first came from */
	int64_t first_ms;  /* when that was */
	int64_t last_ms;   /* when it was last seen */
	uint32_t repeats;  /* times passed from that sender since first_ms */
};

#define GUARD_WAYS 4

struct forwarder {
	struct forward_target targets[FORWARD_MAX];
	struct fwd_dest dests[FORWARD_MAX];
	size_t n;
	struct guard_ent *guard; /* FORWARD_LOOP_SETS * GUARD_WAYS */
	_Atomic uint64_t failed, loops;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* FNV-1a spreads its low bits poorly over similar messages: mixed once more (splitmix64's
 * finaliser) before the low bits pick a set. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static uint64_t msg_hash(const char *msg, size_t len)
{
	uint64_t h = mix(fnv1a(0xcbf29ce484222325ULL, msg, listen_trim(msg, len)));

	return h ? h : 1;
}

static uint64_t sender_hash(const struct sockaddr *from)
{
	unsigned char a[16] = {0};
	unsigned port = 0;
	int fam = from ? norm_addr(from, a, &port) : -1;
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, &fam, sizeof(fam));

	h = fnv1a(h, a, sizeof(a));
	return fnv1a(h, &port, sizeof(port));
}

struct forwarder *forward_new(const struct forward_target *targets, size_t n, char *err,
			      size_t errsz)
{
	struct forwarder *f = calloc(1, sizeof(*f));

	if (!f || n > FORWARD_MAX ||
	    !(f->guard = calloc((size_t)FORWARD_LOOP_SETS * GUARD_WAYS, sizeof(*f->guard)))) {
		snprintf(err, errsz, n > FORWARD_MAX ? "too many --forward" : "out of memory");
		if (f)
			free(f->guard);
		free(f);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		f->targets[i] = targets[i];
		f->dests[i].t = &f->targets[i];
		f->dests[i].fd = -1;
		if (targets[i].scheme->open(&f->dests[i], err, errsz) < 0) {
			f->n = i;
			forward_free(f);
			return NULL;
		}
	}
	f->n = n;
	return f;
}

void forward_close(struct forwarder *f, int64_t grace_ms)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		f->targets[i].scheme->close(&f->dests[i], grace_ms);
	free(f->guard);
	free(f);
}

void forward_free(struct forwarder *f)
{
	forward_close(f, 0);
}

enum forward_verdict forward_guard(struct forwarder *f, const char *msg, size_t len,
				   const struct sockaddr *from, int64_t now_ms)
{
	uint64_t h = msg_hash(msg, len), who = sender_hash(from);
	struct guard_ent *set = &f->guard[(h % FORWARD_LOOP_SETS) * GUARD_WAYS], *e = NULL;

	for (int i = 0; i < GUARD_WAYS && !e; i++)
		if (set[i].msg == h && now_ms - set[i].last_ms <= FORWARD_LOOP_MS)
			e = &set[i];
	if (!e) {
		/* remember it in place of an empty entry, else the one seen longest ago */
		struct guard_ent *victim = &set[0];

		for (int i = 0; i < GUARD_WAYS; i++) {
			if (!set[i].msg) {
				victim = &set[i];
				break;
			}
			if (set[i].last_ms < victim->last_ms)
				victim = &set[i];
		}
		*victim = (struct guard_ent){h, who, now_ms, now_ms, 1};
		return FORWARD_PASS;
	}
	e->last_ms = now_ms; /* a loop keeps its entry alive */
	if (e->sender != who) {
		atomic_fetch_add(&f->loops, 1);
		return FORWARD_LOOP;
	}
	if (now_ms - e->first_ms > FORWARD_LOOP_MS) {
		e->first_ms = now_ms;
		e->repeats = 0;
	}
	if (++e->repeats > FORWARD_REPEAT_MAX) {
		atomic_fetch_add(&f->loops, 1);
		return FORWARD_NO_MORE;
	}
	return FORWARD_PASS;
}

void forward_send(struct forwarder *f, const char *msg, size_t len)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->targets[i].scheme->send(&f->dests[i], msg, len) < 0)
			atomic_fetch_add(&f->failed, 1);
}

uint64_t forward_failed(const struct forwarder *f)
{
	return f ? atomic_load(&f->failed) : 0;
}

uint64_t forward_loops(const struct forwarder *f)
{
	return f ? atomic_load(&f->loops) : 0;
}

void forward_describe(const struct forwarder *f, char *buf, size_t sz)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; f && i < f->n && off < sz; i++) {
		int k = snprintf(buf + off, sz - off, "%s%s", i ? ", " : "", forward_text(&f->targets[i]));

		if (k < 0)
			break;
		off += (size_t)k;
	}
}
