/* A stream forwarding destination of halog listen: tcp://HOST:PORT (RFC 6587 octet counting)
 * and tls://HOST:PORT?ca=FILE&cert=FILE&key=FILE&name=SNI (RFC 5425: the same frames over TLS,
 * what rsyslog's gtls driver and Papertrail accept). The receive path only copies a message
 * into a bounded in-memory queue and never waits; a thread of the destination connects with
 * libcurl's connect-only mode (TLS by libcurl's OpenSSL: no crypto here), sends the queued
 * frames, and reconnects with backoff when the connection fails.
 *
 * Syslog over TCP has no acknowledgements, so a message written to a connection that then
 * breaks may not have been read by the receiver (a restart of rsyslog loses what sat in its
 * socket). A message therefore stays in the queue, after it was written, until the connection
 * has been healthy and fully acknowledged by the peer's TCP for FWD_CONFIRM_MS; a broken
 * connection sends again every message not confirmed yet. So what fits in the queue is
 * delivered at least once across receiver restarts; a message may arrive twice. What does not
 * fit (the receiver down for longer than the queue lasts) is dropped, counted, and reported. */
#ifndef LISTEN_FWD_STREAM_H
#define LISTEN_FWD_STREAM_H
#include <stddef.h>
#include <stdint.h>

#define FWD_QUEUE_MSGS 65536	    /* messages a destination holds at most */
#define FWD_QUEUE_BYTES (16u << 20) /* and bytes */
#define FWD_CONFIRM_MS                                                                             \
	2000			 /* a written message is dropped from the queue this long          \
				    after, once the peer acknowledged every byte */
#define FWD_BACKOFF_MS 200	 /* the first reconnection waits this long */
#define FWD_BACKOFF_MAX_MS 10000 /* and they are at most this far apart */
#define FWD_CONNECT_TIMEOUT_MS 5000
#define FWD_PATH_MAX 1024

/* A parsed tcp:// or tls:// URL. */
struct fwd_stream_url {
	int tls;
	char host[256]; /* as given (a name, an IPv4 address, or an IPv6 one unbracketed) */
	unsigned port;
	char ca[FWD_PATH_MAX];	 /* tls: the CA bundle that signs the server; "" for the system's */
	char cert[FWD_PATH_MAX]; /* tls: a client certificate and its key (both or neither) */
	char key[FWD_PATH_MAX];
	char name[256]; /* tls: the server name to send (SNI) and verify; "" for host */
	size_t queue;	/* messages the queue holds (queue=N); 0: FWD_QUEUE_MSGS */
	char text[320]; /* "tls://127.0.0.1:6514" for messages (without the options) */
};

/* Parses url ("tcp://HOST:PORT[?queue=N]" or
 * "tls://HOST:PORT[?ca=FILE&cert=FILE&key=FILE&name=SNI&queue=N]"; HOST a name, an IPv4 address
 * or [IPv6]; option values may be %XX-encoded; queue from 16 to 1048576 messages). The files
 * must be readable now. Returns 0, or -1 with the reason in why (whysz bytes). */
int fwd_stream_parse(const char *url, struct fwd_stream_url *out, char *why, size_t whysz);

struct fwd_stream;

/* Starts the destination's thread (it connects at once, in the background). Messages about the
 * connection (connected, cannot connect and why, reconnected) go to stderr prefixed with prog.
 * The queue holds u->queue messages (default FWD_QUEUE_MSGS) and FWD_QUEUE_BYTES bytes.
 * Returns the destination, or NULL with a message in err. */
struct fwd_stream *fwd_stream_open(const struct fwd_stream_url *u, const char *prog, char *err,
				   size_t errsz);

/* Queues one message (len bytes; one trailing LF should already be removed) for sending as
 * one frame. Never blocks. Returns 0, or -1 when the queue is full (the message is dropped and
 * counted as overflow). Call from one thread only (the receiver). */
int fwd_stream_send(struct fwd_stream *s, const char *msg, size_t len);

struct fwd_stream_stats {
	uint64_t queued;    /* messages accepted into the queue */
	uint64_t sent;	    /* frames written (a frame sent again after a reconnection counts
			       again) */
	uint64_t confirmed; /* messages dropped from the queue as delivered */
	uint64_t overflow;  /* messages dropped because the queue was full */
	uint64_t connects;  /* connections made */
	uint64_t failures;  /* connection attempts or connections that failed */
	int connected;	    /* a connection is up now */
};
/* A snapshot of the counters, from any thread. */
void fwd_stream_stats(struct fwd_stream *s, struct fwd_stream_stats *out);

/* Stops the thread: it goes on sending what is queued for up to grace_ms (when connected),
 * then closes. Messages still queued are lost and reported on stderr. Frees s; NULL is fine. */
void fwd_stream_close(struct fwd_stream *s, int64_t grace_ms);

#endif
