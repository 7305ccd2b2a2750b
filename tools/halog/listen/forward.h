/* Forwarding: halog listen relays every accepted message to other syslog receivers, and
 * guards against forwarding loops. Destinations are pluggable: each URL scheme is one entry of
 * a table (struct fwd_scheme: parse, open, send, close): udp:// sends datagrams from the receive
 * path; tcp:// and tls:// (listen/fwd_stream.h) queue each message for a thread of their own
 * that keeps a connection to the receiver.
 *
 * Contract with the listener (listen.c): its receive thread calls forward_guard once for each
 * unit it accepted (a UDP datagram, or a TCP frame), and forward_send for the units the guard
 * lets through; neither call ever blocks or allocates. Other threads only read the counters.
 *
 * The loop guard (decided in issue 11): forwarding loops are found by address at start
 * (forward_reaches_bind) and by content while running, so that two listeners forwarding to
 * each other cannot turn one message into millions. A message that this listener forwarded
 * within FORWARD_LOOP_MS and that comes back from another sender is a loop copy: neither
 * stored nor forwarded. As a backstop that no eviction from the guard's table can defeat, the
 * same bytes from one sender are forwarded at most FORWARD_REPEAT_MAX times within that time
 * (they are still stored). */
#ifndef LISTEN_FORWARD_H
#define LISTEN_FORWARD_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "listen/fwd_stream.h"
#include "listen/listen.h"

#define FORWARD_MAX 8		 /* --forward destinations at most */
#define FORWARD_LOOP_MS 10000 /* a message seen again within this long can be a loop copy */
#define FORWARD_LOOP_SETS 16384 /* the guard remembers 4 messages per set: 65536 in all */
#define FORWARD_REPEAT_MAX 3	/* the same bytes from one sender forwarded at most this often
				 * within FORWARD_LOOP_MS */

struct fwd_dest;
struct forward_target;

/* One destination kind. parse fills a target from the URL (prefix included), returning 0 or -1
 * with a reason as forward_parse. open and close run at start and stop (close may spend up to
 * grace_ms sending what is still queued, and says on stderr what was lost); send runs on the
 * receive path, must not block, and returns 0 when the message was sent or queued, -1 when it
 * was dropped (the forwarder counts it in forward_failed). */
struct fwd_scheme {
	const char *prefix; /* "udp://" */
	int (*parse)(const char *url, struct forward_target *out, char *whybuf, size_t whysz,
		     const char **why);
	int (*open)(struct fwd_dest *d, char *err, size_t errsz);
	int (*send)(struct fwd_dest *d, const char *msg, size_t len);
	void (*close)(struct fwd_dest *d, int64_t grace_ms);
};

/* A parsed --forward URL. */
struct forward_target {
	const struct fwd_scheme *scheme;
	struct listen_addr addr; /* the destination (resolved when it could be: a tcp:// or tls://
				    host name that does not resolve now has family AF_UNSPEC and
				    is resolved at each connection) */
	struct fwd_stream_url stream; /* tcp:// and tls://: host, port and options */
};

/* Parses a --forward value: "udp://HOST:PORT" (HOST an address or a name resolved now),
 * "tcp://HOST:PORT[?queue=N]" (RFC 6587 octet counting) or
 * "tls://HOST:PORT[?ca=FILE&cert=FILE&key=FILE&name=SNI&queue=N]" (RFC 5425), see
 * fwd_stream_parse. Returns 0, or -1 with a reason in *why (static, or written to whybuf). */
int forward_parse(const char *url, struct forward_target *out, char *whybuf, size_t whysz,
		  const char **why);

/* The URL as shown in messages, without its options ("tls://logs.example.net:6514"). */
const char *forward_text(const struct forward_target *t);

/* True when t would deliver to one of the n bind addresses: same protocol and port, and the
 * same address once v4-mapped IPv6 is read as IPv4, or a wildcard bind ("*", "[::]") and an
 * address of this host (loopback, or any address of a local interface). */
int forward_reaches_bind(const struct forward_target *t, const struct listen_addr *binds,
			 size_t n);

struct forwarder;

/* Opens every destination. Returns a forwarder (free with forward_close or forward_free), or
 * NULL with a message in err. Messages about a destination's connection (lost, back, what its
 * queue dropped) go to stderr as "halog listen: forward URL: …". */
struct forwarder *forward_new(const struct forward_target *targets, size_t n, char *err,
			      size_t errsz);
/* Stops forwarding: each destination with a queue goes on sending it for up to grace_ms, then
 * says on stderr what it did. Frees f; NULL is fine. forward_free(f) is forward_close(f, 0). */
void forward_close(struct forwarder *f, int64_t grace_ms);
void forward_free(struct forwarder *f);

enum forward_verdict {
	FORWARD_PASS,	 /* store it and forward it */
	FORWARD_LOOP,	 /* a copy that came back through a loop: neither store nor forward */
	FORWARD_NO_MORE, /* store it, but do not forward it again (the repeat bound) */
};

/* The loop guard for one accepted unit msg[0..len) (one trailing LF or NULs ignored) from
 * sender `from`, at now_ms on a monotonic clock. Remembers it. Call it once per unit. LOOP
 * and NO_MORE are counted in forward_loops. */
enum forward_verdict forward_guard(struct forwarder *f, const char *msg, size_t len,
				   const struct sockaddr *from, int64_t now_ms);

/* Sends msg[0..len) to every destination; a destination that drops it counts in
 * forward_failed. */
void forward_send(struct forwarder *f, const char *msg, size_t len);

/* Counters, readable from any thread. */
uint64_t forward_failed(const struct forwarder *f);
uint64_t forward_loops(const struct forwarder *f);

/* "udp://127.0.0.1:5141, udp://…" for the banner, into buf. */
void forward_describe(const struct forwarder *f, char *buf, size_t sz);

#endif
