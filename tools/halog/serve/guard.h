/* halog serve's access rules, apart from HTTP so they can be tested alone: who may start a
 * server on which address, which Host and Origin headers a request may carry, Basic and bearer
 * credentials, and the CSRF token that saved-search changes need. */
#ifndef SERVE_GUARD_H
#define SERVE_GUARD_H
#include <stddef.h>
#include <sys/socket.h>

#define GUARD_TOKEN_HEX 64 /* CSRF tokens: 32 random bytes as hex */
#define GUARD_SECRET_MAX 512 /* longest password or token taken from the environment */

struct guard {
	int loopback;	     /* the server listens on a loopback address only */
	unsigned port;	     /* its port, for the Host check */
	const char *user;    /* Basic user, or NULL (borrowed) */
	const char *pass;    /* Basic password (borrowed); set when user is */
	const char *token;   /* bearer token (borrowed), or NULL */
	char csrf[GUARD_TOKEN_HEX + 1]; /* this run's CSRF token */
};

/* Whether a server may start on sa with these credentials: a loopback address always may; any
 * other address needs a Basic user (with a non-empty password) or a token. Returns 0, or -1
 * with a reason in *why (static). */
int guard_check_bind(const struct sockaddr *sa, int have_auth, const char **why);

/* Fills g->csrf with a fresh random token. Returns 0, or -1 when no randomness is available. */
int guard_init_csrf(struct guard *g);

/* Whether a request with this Host header (NULL when absent) may be answered. Without
 * credentials the server is reachable only as a loopback literal or "localhost" with its own
 * port: a DNS-rebinding page whose name resolves to 127.0.0.1 is refused. With credentials any
 * host is accepted (the credentials protect it). Returns 1 when allowed. */
int guard_host_ok(const struct guard *g, const char *host);

/* Whether an Origin header (NULL when absent) names this server (same scheme-less host and port
 * rules as guard_host_ok, "http://" prefix required) or is absent. Cross-site writes carry a
 * foreign Origin. Returns 1 when allowed. */
int guard_origin_ok(const struct guard *g, const char *origin, const char *host);

/* Whether credentials are required at all. */
int guard_needs_auth(const struct guard *g);

/* Checks credentials: user/pass from Basic auth (either may be NULL when absent) or the value of
 * an Authorization header (NULL when absent) for a bearer token. Compares in constant time.
 * Returns 1 when they are valid, or when none are required. */
int guard_auth_ok(const struct guard *g, const char *user, const char *pass,
		  const char *authorization);

/* Whether tok (NULL when absent) is this run's CSRF token (constant-time). */
int guard_csrf_ok(const struct guard *g, const char *tok);

/* Byte strings equal, in time that depends only on their lengths. */
int guard_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
