/* The load generator behind `halog drive`: N HTTP requests with C in flight through one URL
 * (libcurl's multi interface), tallied by status and by the server that answered (its
 * X-Server header, or the first line of a 2xx body), and the --weights it is checked against
 * (the check itself is the report's rule: drive/check.h). */
#ifndef HALOG_DRIVE_H
#define HALOG_DRIVE_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define DRIVE_MAX_N 10000000L /* requests per run */
#define DRIVE_MAX_C 1000L     /* requests in flight */
#define DRIVE_MAX_SERVERS 256 /* distinct server names tallied; more count as "(other)" */
#define DRIVE_NAME_MAX 64     /* bytes of a server name kept */
#define DRIVE_URL_MAX 4096

struct drive_opts {
	const char *url;	  /* base URL, http:// or https:// */
	const char *const *paths; /* appended to url in turn; none: url as is */
	size_t npaths;
	const char *const *headers; /* "Name: value" */
	size_t nheaders;
	long n;		  /* requests to send (1..DRIVE_MAX_N) */
	long concurrency; /* in flight (1..DRIVE_MAX_C) */
	long timeout_ms;  /* per request */
	int fresh_conn;	  /* a new connection per request (no keep-alive reuse) */
	double rate;	  /* requests started per second; 0: as fast as possible */
};

struct drive_server {
	char *name; /* owned; "-" when the answer named no server */
	long n;	    /* responses naming it */
	long ok;    /* of which 2xx/3xx */
};

struct drive_curl_err {
	int code; /* CURLcode */
	long n;
};

struct drive_stats {
	int64_t start_ms, end_ms;     /* wall clock (unix ms) around the whole run */
	long sent;		      /* requests completed (answered or not) */
	long answered;		      /* got an HTTP status */
	long ok;		      /* 2xx and 3xx */
	long failed;		      /* everything else, transport errors included */
	long by_status[600];	      /* by HTTP status; [0]: no HTTP answer */
	struct drive_server *servers; /* owned, sorted by name after drive_run */
	size_t nservers;
	struct drive_curl_err *errs; /* owned, transport errors by CURLcode */
	size_t nerrs;
	int32_t *lat_us; /* owned, microseconds, one per answered request, sorted */
	size_t nlat;
};

/* Checks o (URL scheme and length, paths start with '/', headers have a colon and no CR/LF,
 * ranges of n, concurrency and timeout). Returns 0, or -1 with a message in err. */
int drive_check_opts(const struct drive_opts *o, char *err, size_t errsz);

/* Sends the requests of o and fills st (zeroed first; release with drive_stats_release).
 * Individual failures are data, not errors. Returns 0, or -1 with a message in err when
 * libcurl cannot be set up. */
int drive_run(const struct drive_opts *o, struct drive_stats *st, char *err, size_t errsz);
void drive_stats_release(struct drive_stats *st);

/* The p-th percentile (0 < p <= 100, nearest rank) of the latencies in microseconds, or -1
 * when none. */
int32_t drive_percentile(const struct drive_stats *st, double p);

/* Expected weights of named servers. */
struct drive_weight {
	char *name;    /* owned */
	double weight; /* > 0 */
};

/* Parses "a=1,b=1,c=2" (names as in X-Server; weights 0 < w <= 256 as HAProxy allows, decimals
 * accepted). Returns the number of entries (caller frees with drive_weights_free), or -1 with
 * a message in err. */
int drive_parse_weights(const char *spec, struct drive_weight **out, char *err, size_t errsz);
void drive_weights_free(struct drive_weight *w, size_t n);

#endif
