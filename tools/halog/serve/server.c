/* halog serve's HTTP side: the libmicrohttpd daemon (one thread per connection, so a live tail
 * may block and a slow search delays nobody else), the route table, the access rules of guard.h
 * applied before any handler runs, the security headers of every response, and the start and
 * stop of the whole server (with the listener of --listen in the same process). */
#include "serve/server.h"

#include <errno.h>
#include "lazylib.h"
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "parse.h"
#include "clock.h"
#include "parse/timearg.h"
#include "serve/scache.h"
#include "serve/sdata.h"
#include "serve/tailhub.h"
#include "store/chhttp.h"
#include "store/read.h"
#include "store/state.h"
#include "store/store.h"

#define SERVE_CONN_SPARE 64	  /* connections beyond the live tails: page, API, keep-alive */
#define SERVE_IDLE_TIMEOUT_S 120 /* an idle connection is closed after this */

/* ---------------------------------------------------------------------------- options */

void serve_opts_init(struct serve_opts *o)
{
	const char *why;
	char whybuf[128];

	memset(o, 0, sizeof(*o));
	o->db = store_default_path();
	if (listen_parse_addr(SERVE_DEFAULT_BIND, LISTEN_TCP, &o->bind, whybuf, sizeof(whybuf),
			      &why) < 0)
		abort(); /* a literal that always parses */
	o->max_streams = 64;
	o->max_queries = 4;
	o->query_ms = 5000;
	o->max_rows = 1000;
	o->tail_ms = 100;
	o->tail_batch = 500;
}

int serve_check(const struct serve_opts *o, char *errbuf, size_t errsz)
{
	const char *why;

	if (o->bind.proto != LISTEN_TCP) {
		snprintf(errbuf, errsz, "--bind takes ADDR:PORT (HTTP is TCP), not '%s'",
			 o->bind.text);
		return -2;
	}
	if (guard_check_bind((const struct sockaddr *)&o->bind.ss, o->user || o->token, &why) <
	    0) {
		snprintf(errbuf, errsz, "refusing to serve on %s: %s", o->bind.text, why);
		return -2;
	}
	if (o->user && (!o->pass || !*o->pass)) {
		snprintf(errbuf, errsz, "--auth: the password variable is empty or unset");
		return -1;
	}
	if (o->token && !*o->token) {
		snprintf(errbuf, errsz, "--token: the token variable is empty or unset");
		return -1;
	}
	if (strstr(o->db, "://")) { /* a URL (clickhouse://): read only, through the read API */
		struct store_reader *rd;
		char shown[CH_SHOWN_MAX];

		if (o->listen) {
			snprintf(errbuf, errsz,
				 "--listen stores into a SQLite file, not '%s' (halog listen --sink "
				 "feeds ClickHouse)",
				 ch_url_redact(o->db, shown, sizeof(shown)));
			return -1;
		}
		if (!(rd = store_reader_open(o->db, errbuf, errsz)))
			return -1;
		store_reader_close(rd);
		return 0;
	}
	if (!o->listen && access(o->db, R_OK) != 0) {
		snprintf(errbuf, errsz, "cannot read the store '%s': %s (start with --listen to "
			 "create it)", o->db, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------- requests */

const char *sreq_arg(const struct sreq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *sreq_header(const struct sreq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int sresp_error(struct sresp *o, unsigned status, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	o->status = status;
	o->ctype = "application/json";
	o->kind = SRESP_API;
	strbuf_reset(&o->body);
	if (strbuf_addstr(&o->body, "{\"error\":") < 0 ||
	    json_add_str(&o->body, msg.buf, msg.len) < 0 || strbuf_addstr(&o->body, "}\n") < 0)
		strbuf_reset(&o->body); /* an empty 500 body rather than a broken one */
	strbuf_release(&msg);
	return 0;
}

int sresp_json(struct sresp *o, int rc)
{
	if (rc < 0)
		return sresp_error(o, 500, "out of memory");
	o->ctype = "application/json";
	o->kind = SRESP_API;
	return 0;
}

struct args_check {
	const char *const *allowed;
	struct strbuf bad; /* the message so far */
	int n;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct args_check *a = cls;
	size_t n = 0;

	(void)kind, (void)value;
	for (; a->allowed[n]; n++)
		if (!strcmp(key, a->allowed[n]))
			return MHD_YES;
	{
		const char *s = diag_suggest(key, a->allowed, n);
		struct strbuf vis = STRBUF_INIT;

		text_add_visible(&vis, key, strlen(key));
		strbuf_addf(&a->bad, "%sunknown parameter '%s'", a->n ? "; " : "", vis.buf);
		if (s)
			strbuf_addf(&a->bad, " (did you mean '%s'?)", s);
		strbuf_release(&vis);
	}
	a->n++;
	return MHD_YES;
}

int sreq_only_args(const struct sreq *r, const char *const *allowed, struct sresp *o)
{
	struct args_check a = {allowed, STRBUF_INIT, 0};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
	if (a.n) {
		sresp_error(o, 400, "%s", a.bad.buf);
		strbuf_release(&a.bad);
		return -1;
	}
	strbuf_release(&a.bad);
	return 0;
}

int sreq_int(const struct sreq *r, const char *name, int64_t min, int64_t max, int64_t def,
	     int64_t *out, struct sresp *o)
{
	const char *v = sreq_arg(r, name);

	*out = def;
	if (!v)
		return 0;
	if (parse_int64(v, min, max, out) < 0) {
		struct strbuf vis = STRBUF_INIT;

		text_add_visible(&vis, v, strlen(v));
		sresp_error(o, 400, "parameter '%s': '%s' is not a number from %lld to %lld", name,
			    vis.buf, (long long)min, (long long)max);
		strbuf_release(&vis);
		return -1;
	}
	return 0;
}

int sreq_time(const struct sreq *r, const char *name, int64_t now_ms, int64_t def, int64_t *out,
	      struct sresp *o)
{
	const char *v = sreq_arg(r, name);

	*out = def;
	if (!v || !*v)
		return 0;
	if (timearg_parse(v, now_ms, out) < 0) {
		struct strbuf vis = STRBUF_INIT;

		text_add_visible(&vis, v, strlen(v));
		sresp_error(o, 400,
			    "parameter '%s': '%s' is not a time (expected e.g. 10m, 2h, "
			    "2026-11-24T06:00:00Z or @1700000000)",
			    name, vis.buf);
		strbuf_release(&vis);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------- routes */

#define R_WRITE 0x1 /* changes the store: same-origin and the CSRF token required */

static const struct route {
	const char *path;
	const char *method;
	int (*fn)(struct sreq *r, struct sresp *o);
	unsigned flags;
} routes[] = {
	{"/api/meta", "GET", api_meta, 0},
	{"/api/query", "GET", api_query, 0},
	{"/api/search", "GET", api_search, 0},
	{"/api/hits", "GET", api_hits, 0},
	{"/api/context", "GET", api_context, 0},
	{"/api/report", "GET", api_report, 0},
	{"/api/tail", "GET", api_tail, 0},
	{"/api/saved", "GET", api_saved_list, 0},
	{"/api/saved", "POST", api_saved_put, R_WRITE},
	{"/api/saved", "DELETE", api_saved_delete, R_WRITE},
};

/* The page's views by path, for links made outside the page (alert payloads, a chat message, a
 * terminal): GET /search?q=…&since=…&until=… answers 303 See Other with Location
 * /#search?q=…&since=…&until=…, the address the page itself keeps. A view takes only the
 * parameters of its form (docs/halog-serve.md, "Links into the page"). */
static const char *const link_search[] = {"q", "since", "until", NULL};
static const char *const link_tail[] = {"q", NULL};
static const char *const link_report[] = {"since", "until", "backend", "frontend", NULL};
static const char *const link_none[] = {NULL};

static const struct view_link {
	const char *path, *view;
	const char *const *params;
} view_links[] = {
	{"/search", "search", link_search},
	{"/tail", "tail", link_tail},
	{"/report", "report", link_report},
	{"/saved", "saved", link_none},
};

static void view_redirect(struct sreq *r, const struct view_link *v, struct sresp *o)
{
	struct strbuf *l = &o->location;
	int rc = 0;
	char sep = '?';

	if (sreq_only_args(r, v->params, o) < 0)
		return;
	rc |= strbuf_addstr(l, "/#");
	rc |= strbuf_addstr(l, v->view);
	for (const char *const *p = v->params; *p; p++) {
		const char *val = sreq_arg(r, *p);

		if (!val)
			continue;
		rc |= strbuf_addch(l, sep);
		rc |= strbuf_addstr(l, *p);
		rc |= strbuf_addch(l, '=');
		rc |= strbuf_add_urlenc(l, val);
		sep = '&';
	}
	if (rc < 0) {
		strbuf_reset(l);
		sresp_error(o, 500, "out of memory");
		return;
	}
	o->status = 303;
	rc = strbuf_addstr(&o->body, "{\"location\":") | json_add_str(&o->body, l->buf, l->len) |
	     strbuf_addstr(&o->body, "}\n");
	sresp_json(o, rc);
}

static int serve_file(const char *name, struct sresp *o)
{
	o->static_body = serve_asset(name, &o->static_len, &o->ctype);
	if (!o->static_body)
		return sresp_error(o, 404, "no such page");
	o->kind = SRESP_ASSET;
	return 0;
}

/* Runs the access rules, then the handler of the route. */
static void dispatch(struct sreq *r, struct sresp *o)
{
	struct serve *s = r->srv;
	const char *method = r->method;
	const struct route *match = NULL;
	int path_known = 0;

	if (!guard_host_ok(&s->guard, sreq_header(r, "Host"))) {
		sresp_error(o, 403,
			    "this server answers only to its own loopback address (Host header "
			    "refused)");
		return;
	}
	if (guard_needs_auth(&s->guard)) {
		char *pass = NULL;
		char *user = MHD_basic_auth_get_username_password(r->conn, &pass);
		int ok = guard_auth_ok(&s->guard, user, pass, sreq_header(r, "Authorization"));

		if (user)
			MHD_free(user);
		if (pass) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		if (!ok) {
			sresp_error(o, 401, "authentication required");
			o->auth_challenge = s->guard.user != NULL;
			return;
		}
	}
	if (!strcmp(method, "HEAD"))
		method = "GET";
	if (!strcmp(r->url, "/")) {
		if (strcmp(method, "GET")) {
			sresp_error(o, 405, "method %s not allowed here", r->method);
			o->allow = "GET, HEAD";
			return;
		}
		serve_file("index.html", o);
		return;
	}
	if (!strncmp(r->url, "/assets/", 8)) {
		if (strcmp(method, "GET")) {
			sresp_error(o, 405, "method %s not allowed here", r->method);
			o->allow = "GET, HEAD";
			return;
		}
		serve_file(r->url + 8, o);
		return;
	}
	for (size_t i = 0; i < sizeof(view_links) / sizeof(view_links[0]); i++) {
		if (strcmp(view_links[i].path, r->url))
			continue;
		if (strcmp(method, "GET")) {
			sresp_error(o, 405, "method %s not allowed here", r->method);
			o->allow = "GET, HEAD";
			return;
		}
		view_redirect(r, &view_links[i], o);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, r->url))
			continue;
		path_known = 1;
		if (!strcmp(routes[i].method, method)) {
			match = &routes[i];
			break;
		}
	}
	if (!match) {
		if (!path_known) {
			sresp_error(o, 404, "no such page");
			return;
		}
		sresp_error(o, 405, "method %s not allowed here", r->method);
		o->allow = !strcmp(r->url, "/api/saved") ? "GET, HEAD, POST, DELETE" : "GET, HEAD";
		return;
	}
	if (match->flags & R_WRITE) {
		if (!guard_origin_ok(&s->guard, sreq_header(r, "Origin"), sreq_header(r, "Host"))) {
			sresp_error(o, 403, "cross-origin request refused");
			return;
		}
		if (!guard_csrf_ok(&s->guard, sreq_header(r, "X-CSRF-Token"))) {
			sresp_error(o, 403,
				    "missing or wrong X-CSRF-Token header (GET /api/meta gives it)");
			return;
		}
		if (r->body_too_big) {
			sresp_error(o, 413, "request body over %d bytes", SERVE_BODY_MAX);
			return;
		}
	}
	match->fn(r, o);
}

/* ---------------------------------------------------------------------------- MHD glue */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sstream *st = cls;
	ssize_t n;

	(void)pos;
	n = st->read(st->cls, buf, max);
	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void stream_free(void *cls)
{
	struct sstream *st = cls;

	if (st->release)
		st->release(st->cls);
	free(st);
}

static const char csp_api[] = "default-src 'none'; frame-ancestors 'none'";
static const char csp_page[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			       "img-src 'self' data:; connect-src 'self'; frame-src 'self'; "
			       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
static const char csp_report[] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
				 "base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

static int add_headers(struct MHD_Response *resp, const struct sresp *o)
{
	int ok = 1;

	ok &= MHD_add_response_header(resp, "Content-Type", o->ctype) == MHD_YES;
	ok &= MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES;
	ok &= MHD_add_response_header(resp, "Referrer-Policy", "no-referrer") == MHD_YES;
	ok &= MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin") ==
	      MHD_YES;
	switch (o->kind) {
	case SRESP_API:
		ok &= MHD_add_response_header(resp, "Content-Security-Policy", csp_api) == MHD_YES;
		ok &= MHD_add_response_header(resp, "X-Frame-Options", "DENY") == MHD_YES;
		ok &= MHD_add_response_header(resp, "Cache-Control", "no-store") == MHD_YES;
		break;
	case SRESP_ASSET:
		ok &= MHD_add_response_header(resp, "Content-Security-Policy", csp_page) == MHD_YES;
		ok &= MHD_add_response_header(resp, "X-Frame-Options", "DENY") == MHD_YES;
		ok &= MHD_add_response_header(resp, "Cache-Control", "no-cache") == MHD_YES;
		break;
	case SRESP_REPORT:
		ok &= MHD_add_response_header(resp, "Content-Security-Policy", csp_report) ==
		      MHD_YES;
		ok &= MHD_add_response_header(resp, "X-Frame-Options", "SAMEORIGIN") == MHD_YES;
		ok &= MHD_add_response_header(resp, "Cache-Control", "no-store") == MHD_YES;
		break;
	}
	if (o->stream.read)
		ok &= MHD_add_response_header(resp, "X-Accel-Buffering", "no") == MHD_YES;
	if (o->allow)
		ok &= MHD_add_response_header(resp, "Allow", o->allow) == MHD_YES;
	if (o->location.len)
		ok &= MHD_add_response_header(resp, "Location", o->location.buf) == MHD_YES;
	return ok ? 0 : -1;
}

static enum MHD_Result queue(struct sreq *r, struct sresp *o)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!o->ctype)
		o->ctype = "application/json";
	if (o->stream.read) {
		struct sstream *st = malloc(sizeof(*st));

		if (!st) {
			if (o->stream.release)
				o->stream.release(o->stream.cls);
			return MHD_NO;
		}
		*st = o->stream;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st,
							 stream_free);
		if (!resp) {
			stream_free(st);
			return MHD_NO;
		}
	} else if (o->static_body) {
		resp = MHD_create_response_from_buffer(o->static_len, (void *)o->static_body,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len;
		char *body = strbuf_detach(&o->body, &len);

		resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
		if (!resp)
			free(body);
	}
	if (!resp)
		return MHD_NO;
	if (add_headers(resp, o) < 0) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	if (o->auth_challenge)
		ret = MHD_queue_basic_auth_fail_response(r->conn, "halog", resp);
	else
		ret = MHD_queue_response(r->conn, o->status ? o->status : 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct serve *s = cls;
	struct sreq *r = *con_cls;
	struct sresp o;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		/* headers only: the body (if any) comes in the next calls */
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = s;
		r->conn = conn;
		r->method = method;
		r->url = url;
		strbuf_init(&r->body);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body.len + *upload_size > SERVE_BODY_MAX)
			r->body_too_big = 1;
		else if (strbuf_add(&r->body, upload_data, *upload_size) < 0)
			r->body_too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&o, 0, sizeof(o));
	strbuf_init(&o.body);
	strbuf_init(&o.location);
	o.status = 200;
	o.kind = SRESP_API;
	dispatch(r, &o);
	ret = queue(r, &o);
	strbuf_release(&o.body);
	strbuf_release(&o.location);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sreq *r = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (!r)
		return;
	strbuf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("halog serve: http: ", stderr);
	vfprintf(stderr, fmt, ap);
	/* libmicrohttpd's messages end with a newline */
}

/* A listening TCP socket on a. Returns the fd, or -1 after printing why. */
static int open_listener(const struct listen_addr *a)
{
	int one = 1;
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "halog serve: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->sslen) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "halog serve: cannot listen on %s: %s\n", a->text,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* "http://127.0.0.1:8690/" from a listen_addr text ("tcp://127.0.0.1:8690"). */
static void url_of(const struct listen_addr *a, char *buf, size_t sz)
{
	const char *t = strstr(a->text, "://");

	snprintf(buf, sz, "http://%s/", t ? t + 3 : a->text);
}

/* Records the page's address in the store ("serve.url", which alert payloads link to). A store
 * that cannot be written to only loses the link: a warning, not an error. A wildcard address
 * names no host to link to, and is not recorded. */
static void record_url(const struct serve_opts *o, const char *url)
{
	struct store *st;
	char err[512];

	if (strstr(url, "//0.0.0.0:") || strstr(url, "//[::]:"))
		return;
	st = store_state_open(o->db, 0, err, sizeof(err));
	if (!st || store_meta_set(st, "serve.url", url) < 0)
		fprintf(stderr, "halog serve: warning: cannot record the address in the store: %s\n",
			st ? store_errmsg(st) : err);
	store_close(st);
}

/* Removes the page's address from the store when it stops, so alert payloads no longer link to
 * a page that is gone; only while the store still holds its own address (another serve on the
 * same store may have recorded its own since). A store that cannot be written to: a warning. */
static void forget_url(const struct serve_opts *o, const char *url)
{
	struct store *st;
	char *cur, err[512];

	st = store_state_open(o->db, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "halog serve: warning: cannot remove the address from the store: %s\n",
			err);
		return;
	}
	cur = store_meta_get(st, "serve.url");
	if (cur && !strcmp(cur, url) && store_meta_set(st, "serve.url", NULL) < 0)
		fprintf(stderr, "halog serve: warning: cannot remove the address from the store: %s\n",
			store_errmsg(st));
	free(cur);
	store_close(st);
}

/* Waits for SIGINT or SIGTERM (blocked in every thread, read here). */
static void wait_for_stop(void)
{
	sigset_t mask;
	int sig;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	while (sigwait(&mask, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
}

int serve_run(const struct serve_opts *o)
{
	struct serve s;
	struct MHD_Daemon *d = NULL;
	sigset_t mask;
	char url[LISTEN_SRC_MAX + 16], err[512], shown[CH_SHOWN_MAX];
	int fd = -1, rc = 1;
	unsigned flags;

	if (lazylib_load(LAZYLIB_MHD, err, sizeof(err)) == -1) {
		fprintf(stderr, "halog: serve needs %s\n", err);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.guard.user = o->user;
	s.guard.pass = o->pass;
	s.guard.token = o->token;
	s.guard.loopback = listen_is_loopback((const struct sockaddr *)&o->bind.ss);
	s.guard.port = o->bind.ss.ss_family == AF_INET6
			       ? ntohs(((const struct sockaddr_in6 *)&o->bind.ss)->sin6_port)
			       : ntohs(((const struct sockaddr_in *)&o->bind.ss)->sin_port);
	if (guard_init_csrf(&s.guard) < 0) {
		fprintf(stderr, "halog serve: no randomness for the CSRF token: %s\n",
			strerror(errno));
		return 1;
	}
	/* signals go to whoever reads them (sigwait here, or the listener's signalfd): blocked
	 * in this thread before any other starts, so every thread inherits the mask */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o->listen) {
		/* the listener creates the store; create it first so readers can open it */
		struct store *st = store_open(o->db, STORE_CREATE, err, sizeof(err));

		if (!st) {
			fprintf(stderr, "halog serve: %s\n", err);
			return 1;
		}
		store_close(st);
	}
	s.pool = sdata_pool_new(o->db, o->max_queries, o->query_ms, err, sizeof(err));
	if (!s.pool) {
		fprintf(stderr, "halog serve: %s\n", err);
		goto out;
	}
	s.cache = scache_new();
	if (!s.cache) {
		fprintf(stderr, "halog serve: out of memory\n");
		goto out;
	}
	s.hub = tailhub_start(&s, err, sizeof(err));
	if (!s.hub) {
		fprintf(stderr, "halog serve: %s\n", err);
		goto out;
	}
	fd = open_listener(&o->bind);
	if (fd < 0)
		goto out;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
		MHD_USE_ERROR_LOG;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s, MHD_OPTION_EXTERNAL_LOGGER,
			     on_mhd_error, &s, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, o->max_streams + SERVE_CONN_SPARE,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_IDLE_TIMEOUT_S,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "halog serve: cannot start the HTTP server on %s\n", o->bind.text);
		goto out;
	}
	fd = -1; /* the daemon owns it */
	url_of(&o->bind, url, sizeof(url));
	record_url(o, url);
	fprintf(stderr, "halog serve: serving %s on %s%s\n",
		ch_url_redact(o->db, shown, sizeof(shown)), url,
		guard_needs_auth(&s.guard) ? " (authentication required)" : "");
	if (o->listen) {
		rc = listen_run(o->listen);
	} else {
		wait_for_stop();
		rc = 0;
	}
	fprintf(stderr, "halog serve: stopping\n");
	forget_url(o, url);
out:
	atomic_store(&s.stopping, 1);
	if (s.hub)
		tailhub_stop(s.hub); /* ends every live tail, so the daemon can join them */
	if (d)
		MHD_stop_daemon(d);
	if (fd >= 0)
		close(fd);
	tailhub_free(s.hub);
	sdata_pool_free(s.pool);
	scache_free(s.cache);
	return rc;
}
