/* halog serve: a local web application over the store (live tail, search, report, saved
 * searches) and the JSON API it is built on (docs/halog-serve.md). The HTTP server is GNU
 * libmicrohttpd; the page, script and style are compiled into the binary. */
#ifndef SERVE_H
#define SERVE_H
#include <stddef.h>
#include <stdint.h>

#include "listen/listen.h"

#define SERVE_DEFAULT_BIND "127.0.0.1:8690"

struct serve_opts {
	const char *db;		/* store path */
	struct listen_addr bind; /* where the HTTP server listens (TCP) */
	const char *user;	/* --auth: Basic user, or NULL */
	const char *pass;	/* its password (from the environment); set when user is */
	const char *token;	/* --token: bearer token (from the environment), or NULL */
	const struct listen_opts *listen; /* --listen: run the receiver in this process, or NULL */
	unsigned max_streams;	/* live tails open at once */
	unsigned max_queries;	/* searches and reports running at once */
	int64_t query_ms;	/* the longest a search, graph or report may run */
	unsigned max_rows;	/* lines in one search page, at most */
	unsigned tail_ms;	/* how often the live tail looks for new lines */
	unsigned tail_batch;	/* lines in one live-tail event, at most (then it samples) */
};

/* Fills o with the defaults (db from store_default_path, bind SERVE_DEFAULT_BIND, limits). */
void serve_opts_init(struct serve_opts *o);

/* Checks o before anything starts: the store must exist unless a listener runs, a non-loopback
 * bind needs credentials. Returns 0, -2 for a command line that asks for what is refused (a
 * non-loopback bind without credentials), or -1 for another reason; the reason is in errbuf. */
int serve_check(const struct serve_opts *o, char *errbuf, size_t errsz);

/* Serves until SIGINT/SIGTERM (with a listener: until the listener has stored everything it
 * received). Prints the URL on stderr once the server accepts connections. Returns an exit code:
 * 0 after a clean stop, 1 when the server or the listener cannot start or fails. */
int serve_run(const struct serve_opts *o);

#endif
