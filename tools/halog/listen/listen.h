/* halog listen: a syslog receiver (UDP datagrams, TCP with LF or octet-counted frames) that
 * queues every message in bounded memory and stores it in batches from a writer thread.
 * The pure helpers (addresses, CIDR checks, TCP framing) are exposed for unit tests. */
#ifndef LISTEN_H
#define LISTEN_H
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "store/store.h"

#define LISTEN_UDP 1
#define LISTEN_TCP 2

#define LISTEN_DEFAULT_PORT 5140
#define LISTEN_MAX_MSG 65536 /* bytes kept of one message; longer ones are cut and flagged */
#define LISTEN_SRC_MAX 64    /* "tcp:[ffff:…]:65535" fits, NUL included */

/* One socket address to bind or send to. */
struct listen_addr {
	int proto;		    /* LISTEN_UDP or LISTEN_TCP */
	struct sockaddr_storage ss; /* resolved address */
	socklen_t sslen;
	char text[LISTEN_SRC_MAX]; /* "udp://127.0.0.1:5140", for messages */
};

struct forward_target; /* listen/forward.h */

/* One --allow network. */
struct listen_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network bytes (v4 in the first 4) */
	unsigned prefix;	/* 0..32 or 0..128 */
};

struct listen_opts {
	const char *db;	  /* store path; "none": no local store (then sink is set) */
	const char *sink; /* a clickhouse:// URL every stored message also goes to, or NULL */
	const struct listen_addr *binds;
	size_t nbinds;
	const struct listen_cidr *allow; /* none: every sender is accepted */
	size_t nallow;
	int echo; /* print each message on stdout */
	const struct forward_target *forward; /* nforward destinations for every message */
	size_t nforward;
	const char *log_format;		   /* NULL, or the HAProxy log-format for the parser */
	size_t batch;			   /* messages per transaction (at most) */
	unsigned batch_ms;  /* a batch is committed at the latest this long after it began */
	size_t rcvbuf;	    /* requested SO_RCVBUF for UDP sockets (0: kernel default) */
	size_t max_conns;   /* open TCP connections at most (lowered to the open-file limit) */
	unsigned idle_ms;   /* close a TCP connection silent this long (0: never) */
	unsigned frame_ms;  /* end a TCP frame incomplete this long: stored, flagged (0: never) */
	size_t queue_msgs;  /* slots in the queue between receiver and writer */
	size_t queue_bytes; /* bytes in that queue */
	int no_alerts;	    /* do not run the alert engine (alert/engine.h) */
	struct store_retention retain; /* the limits to keep in the store (those in retain_mask) */
	unsigned retain_mask;	       /* STORE_RETAIN_* bits; 0: the store's own limits */
};

/* Fills o with the defaults of `halog listen` (batches, buffers, queue, limits); db, binds,
 * allow, forward and the rest are left empty for the caller. */
void listen_opts_init(struct listen_opts *o);

/* Parses a --bind value: "udp://A:P", "tcp://A:P", or a bare "A:P" (UDP), where A is an IPv4
 * literal, "[IPv6]", "*" (0.0.0.0) or a host name resolved now. default_proto applies to the
 * bare form. Returns 0, or -1 with a short reason in *why (static or in whybuf). */
int listen_parse_addr(const char *s, int default_proto, struct listen_addr *out, char *whybuf,
		      size_t whysz, const char **why);

/* Parses a --allow value ("10.0.0.0/8", "::1", "fd00::/8"). Host bits must be zero. Returns 0
 * or -1. */
int listen_parse_cidr(const char *s, struct listen_cidr *out);

/* True when sa (AF_INET or AF_INET6; v4-mapped v6 counts as v4) lies in one of the n networks,
 * or when n is 0. */
int listen_allowed(const struct listen_cidr *nets, size_t n, const struct sockaddr *sa);

/* True when sa is a loopback address (127/8, ::1, v4-mapped 127/8). */
int listen_is_loopback(const struct sockaddr *sa);

/* Writes "udp:IP:PORT" / "tcp:[IP6]:PORT" (v4-mapped shown as v4) into buf (sz >=
 * LISTEN_SRC_MAX). */
void listen_format_source(char *buf, size_t sz, int proto, const struct sockaddr *sa);

/* Removes the trailing NULs and then one trailing LF (then NULs again) that senders append.
 * Returns the new length. */
size_t listen_trim(const char *buf, size_t len);

/* TCP framing of one connection (RFC 6587), chosen once from its first frame: octet counting
 * ("LEN SP MSG", LEN 1 to 6 digits without a leading zero) when the first frame reads as one
 * (no LF inside the announced length, and what follows it is the next count, an LF or nothing
 * yet); LF framing otherwise. A connection that chose LF framing never reads a count, so lines
 * that begin with digits and a space (HAProxy `format raw` with a log-format that starts with
 * %ST, %B or %Tt) stay whole. A frame of an octet-counted connection that does not start with
 * a count is read up to its LF. */
enum listen_framing { LISTEN_FRAMING_UNKNOWN, LISTEN_FRAMING_LF, LISTEN_FRAMING_OCTET };

struct listen_framer {
	size_t skip;	/* bytes still to discard of an over-long octet-counted frame */
	int skip_to_lf; /* discarding the rest of an over-long LF frame */
	enum listen_framing mode;
};

struct listen_frame {
	size_t consumed; /* bytes of the input this step used (0: need more input) */
	int has;	 /* a message was found: buf[start .. start+len) */
	size_t start, len;
	int truncated; /* cut at cap, or cut short by the end of the connection */
};

/* One framing step over buf[0..len): the caller drops f->consumed bytes and calls again while
 * consumed > 0. cap is the longest message kept (the caller's buffer must hold cap + 16 bytes);
 * at_eof says the connection ended, so a partial frame is returned as it is. */
void listen_frame_next(struct listen_framer *fr, const char *buf, size_t len, size_t cap,
		       int at_eof, struct listen_frame *f);

/* Runs the listener until SIGINT/SIGTERM: binds, receives, stores, then flushes everything
 * received and prints the final status line. Returns an exit code (0 ok, 1 runtime error). */
int listen_run(const struct listen_opts *o);

#endif
