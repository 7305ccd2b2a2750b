/* halog serve's access rules; see guard.h. */
#include "serve/guard.h"

#include <string.h>
#include <strings.h>

#include "listen/listen.h"
#include "parse.h"
#include "randhex.h"

int guard_check_bind(const struct sockaddr *sa, int have_auth, const char **why)
{
	if (listen_is_loopback(sa) || have_auth)
		return 0;
	*why = "a server on a non-loopback address needs --auth USER:ENV_VAR or --token ENV_VAR";
	return -1;
}

int guard_init_csrf(struct guard *g)
{
	return randhex(g->csrf, GUARD_TOKEN_HEX / 2);
}

int guard_needs_auth(const struct guard *g)
{
	return g->user || g->token;
}

/* host[:port] of a Host header, split; the port is 80 when absent. Returns 0 or -1. */
static int split_host(const char *h, char *name, size_t namesz, unsigned *port)
{
	const char *colon;
	size_t n;

	if (h[0] == '[') {
		const char *end = strchr(h, ']');

		if (!end)
			return -1;
		n = (size_t)(end - h - 1);
		if (n >= namesz)
			return -1;
		memcpy(name, h + 1, n);
		name[n] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			return -1;
	} else {
		colon = strchr(h, ':');
		n = colon ? (size_t)(colon - h) : strlen(h);
		if (n >= namesz || (colon && strchr(colon + 1, ':')))
			return -1;
		memcpy(name, h, n);
		name[n] = '\0';
	}
	if (!colon) {
		*port = 80;
		return 0;
	}
	return parse_port(colon + 1, port);
}

/* A name that reaches this machine through loopback only. */
static int loopback_name(const char *name)
{
	if (!strcasecmp(name, "localhost") || !strcmp(name, "::1"))
		return 1;
	/* 127.0.0.0/8 as a dotted literal */
	if (strncmp(name, "127.", 4))
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return 0;
	return parse_is_ip(name);
}

int guard_host_ok(const struct guard *g, const char *host)
{
	char name[256];
	unsigned port;

	if (guard_needs_auth(g))
		return 1;
	if (!host || split_host(host, name, sizeof(name), &port) < 0)
		return 0;
	return port == g->port && loopback_name(name);
}

int guard_origin_ok(const struct guard *g, const char *origin, const char *host)
{
	if (!origin)
		return 1;
	if (strncmp(origin, "http://", 7))
		return 0;
	origin += 7;
	/* the page's own origin: the same host:port the request was sent to */
	if (host && !strcasecmp(origin, host))
		return guard_host_ok(g, host);
	return 0;
}

int guard_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;

	/* compare over b's length so the time does not depend on where they differ */
	for (size_t i = 0; i < blen; i++)
		d |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
	return d == 0;
}

int guard_auth_ok(const struct guard *g, const char *user, const char *pass,
		  const char *authorization)
{
	int ok = 0;

	if (!guard_needs_auth(g))
		return 1;
	if (g->user && user && pass) {
		int u = guard_equal(user, strlen(user), g->user, strlen(g->user));
		int p = guard_equal(pass, strlen(pass), g->pass, strlen(g->pass));

		ok |= u & p;
	}
	if (g->token && authorization && !strncasecmp(authorization, "Bearer ", 7)) {
		const char *t = authorization + 7;

		ok |= guard_equal(t, strlen(t), g->token, strlen(g->token));
	}
	return ok;
}

int guard_csrf_ok(const struct guard *g, const char *tok)
{
	if (!tok)
		return 0;
	return guard_equal(tok, strlen(tok), g->csrf, strlen(g->csrf));
}
