/* Inside halog serve: the request and response of one HTTP exchange as the API handlers see them,
 * the routes, and the shared state of a running server. Only server.c talks to libmicrohttpd. */
#ifndef SERVE_SERVER_H
#define SERVE_SERVER_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "serve/guard.h"
#include "serve/serve.h"
#include "strbuf.h"

struct MHD_Connection;
struct tailhub;
struct sdata_pool;
struct scache;

#define SERVE_BODY_MAX 16384 /* bytes of a request body (saved searches are small) */

/* A running server. */
struct serve {
	const struct serve_opts *o;
	struct guard guard;
	struct tailhub *hub;	 /* the live tail */
	struct sdata_pool *pool; /* readers for searches and reports */
	struct scache *cache;	 /* recent searches and hit graphs */
	atomic_uint streams;	 /* live tails open now */
	atomic_int stopping;	 /* set when the server shuts down */
};

/* One request, as the handlers see it. */
struct sreq {
	struct serve *srv;
	struct MHD_Connection *conn;
	const char *method, *url;
	struct strbuf body; /* request body (POST), at most SERVE_BODY_MAX bytes */
	int body_too_big;
};

/* A streamed body: read() fills buf with at most max bytes and returns how many, or -1 at the
 * end of the stream; it may block (each connection has its own thread). release() is called
 * once when the exchange ends, whatever happened. */
struct sstream {
	ssize_t (*read)(void *cls, char *buf, size_t max);
	void (*release)(void *cls);
	void *cls;
};

enum sresp_kind {
	SRESP_API,    /* JSON or an event stream: the strict policy, never framed, never cached */
	SRESP_ASSET,  /* the page, its script and style */
	SRESP_REPORT, /* the HTML report: inline style, framed by the page only */
};

/* The response a handler fills. */
struct sresp {
	unsigned status;      /* HTTP status (200 unless set) */
	const char *ctype;    /* Content-Type (static) */
	enum sresp_kind kind; /* which headers go with it */
	struct strbuf body;
	const char *static_body; /* instead of body: static bytes (assets) */
	size_t static_len;
	struct sstream stream; /* instead of a body, when stream.read is set */
	int auth_challenge;    /* 401 with a Basic challenge */
	const char *allow;     /* the Allow header of a 405 */
	struct strbuf location; /* the Location header of a redirect (none when empty) */
};

/* Writes {"error":"MSG"} (MSG formatted, JSON-escaped) with status into o. Returns 0. */
int sresp_error(struct sresp *o, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* o's body becomes application/json; returns 0, or sresp_error 500 when out of memory (rc). */
int sresp_json(struct sresp *o, int rc);

/* The value of query-string parameter name (URL-decoded), or NULL. Valid during the request. */
const char *sreq_arg(const struct sreq *r, const char *name);
/* A request header, or NULL. */
const char *sreq_header(const struct sreq *r, const char *name);
/* Checks that every query-string parameter is one of allowed (NULL-terminated). Returns 0, or
 * -1 after writing a 400 that names each unknown one (with a suggestion) into o. */
int sreq_only_args(const struct sreq *r, const char *const *allowed, struct sresp *o);
/* Parameter name as an integer in [min, max] (def when absent). Returns 0, or -1 with a 400. */
int sreq_int(const struct sreq *r, const char *name, int64_t min, int64_t max, int64_t def,
	     int64_t *out, struct sresp *o);
/* Parameter name as a time (timearg syntax: 10m, 2026-11-24T06:00Z, @1700000000) relative to
 * now_ms; *out is def when absent. Returns 0, or -1 with a 400. */
int sreq_time(const struct sreq *r, const char *name, int64_t now_ms, int64_t def, int64_t *out,
	      struct sresp *o);

struct diag_list;
/* Writes the positioned errors of a query that does not parse (dl, from query_parse) into o
 * under status: {"ok":false,"error":"query:1:COL: MSG","q":…,"errors":[{"col","message"}]}. */
int api_query_errors(struct sresp *o, const struct diag_list *dl, const char *text,
		     unsigned status);

/* Route handlers (api.c, api_report.c, api_saved.c, tailhub.c). Each fills o and returns 0. */
int api_meta(struct sreq *r, struct sresp *o);
int api_query(struct sreq *r, struct sresp *o);
int api_search(struct sreq *r, struct sresp *o);
int api_hits(struct sreq *r, struct sresp *o);
int api_context(struct sreq *r, struct sresp *o);
int api_report(struct sreq *r, struct sresp *o);
int api_tail(struct sreq *r, struct sresp *o);
int api_saved_list(struct sreq *r, struct sresp *o);
int api_saved_put(struct sreq *r, struct sresp *o);
int api_saved_delete(struct sreq *r, struct sresp *o);

/* The embedded file called name ("index.html", "app.js"), or NULL; sets *ctype. */
const char *serve_asset(const char *name, size_t *len, const char **ctype);

#endif
