/* `halog serve`: options into struct serve_opts (and, with --listen, struct listen_opts), the
 * credentials read from the environment, then serve_run(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "listen/listen.h"
#include "opt.h"
#include "parse.h"
#include "serve/guard.h"
#include "serve/serve.h"
#include "store/store.h"

#define SERVE_MAX_LISTEN 16
#define SERVE_MAX_ALLOW 64

enum {
	O_DB = 1,
	O_BIND,
	O_LISTEN,
	O_ALLOW,
	O_AUTH,
	O_TOKEN,
	O_MAX_STREAMS,
	O_MAX_SEARCHES,
	O_QUERY_TIMEOUT,
	O_MAX_ROWS,
};

static const struct opt serve_opts_table[] = {
	{.id = O_DB, .long_name = "db", .type = OPT_STR, .arg = "FILE",
	 .help = "the store to show (default: $HALOG_DB, else ./halog.db)"},
	{.id = O_BIND, .long_name = "bind", .type = OPT_STR, .arg = "ADDR:PORT",
	 .help = "where the web server listens (default " SERVE_DEFAULT_BIND ");\n"
		 "off loopback it needs --auth or --token"},
	{.id = O_LISTEN, .long_name = "listen", .type = OPT_STR, .arg = "URL", .flags = OPT_MANY,
	 .help = "also receive syslog here, as halog listen --bind\n"
		 "URL does (udp://127.0.0.1:5140, tcp://...);\n"
		 "repeatable; creates the store"},
	{.id = O_ALLOW, .long_name = "allow", .type = OPT_STR, .arg = "CIDR", .flags = OPT_MANY,
	 .help = "with --listen: accept syslog only from these networks"},
	{.id = O_AUTH, .long_name = "auth", .type = OPT_STR, .arg = "USER:ENV_VAR",
	 .help = "require HTTP Basic authentication as USER; its password\n"
		 "is read from the environment variable ENV_VAR"},
	{.id = O_TOKEN, .long_name = "token", .type = OPT_STR, .arg = "ENV_VAR",
	 .help = "accept 'Authorization: Bearer TOKEN', TOKEN from ENV_VAR"},
	{.id = O_MAX_STREAMS, .long_name = "max-streams", .type = OPT_INT, .arg = "N", .min = 1,
	 .max = 4096, .help = "live tails open at once, at most (default 64)"},
	{.id = O_MAX_SEARCHES, .long_name = "max-searches", .type = OPT_INT, .arg = "N", .min = 1,
	 .max = 64, .help = "searches and reports at once, at most (default 4)"},
	{.id = O_QUERY_TIMEOUT, .long_name = "query-timeout", .type = OPT_STR, .arg = "DUR",
	 .help = "the longest a request may read the store (default 5s)"},
	{.id = O_MAX_ROWS, .long_name = "max-rows", .type = OPT_INT, .arg = "N", .min = 1,
	 .max = 100000, .help = "lines in one search page, at most (default 1000)"},
	{0},
};

static const struct opt_cmd serve_cmd = {
	.prog = "halog serve",
	.intro = "Serves the live tail, search, report and saved searches of a store in a\n"
		 "browser, and the JSON API behind them (docs/halog-serve.md).",
	.opts = serve_opts_table,
	.epilog = "The API is read-only but for saved searches, which also need the page's CSRF\n"
		  "token. SIGINT/SIGTERM stop the server (and store everything --listen received).\n",
};

/* An environment variable's value for a secret; NULL (after a message) when unset or empty. */
static const char *secret_from_env(const char *opt, const char *var)
{
	const char *v = getenv(var);

	if (!v || !*v) {
		fprintf(stderr,
			"halog serve: %s: the environment variable '%s' is %s: refusing to start "
			"without a secret\n",
			opt, var, v ? "empty" : "not set");
		return NULL;
	}
	if (strlen(v) > GUARD_SECRET_MAX) {
		fprintf(stderr, "halog serve: %s: the secret in '%s' is over %d bytes\n", opt, var,
			GUARD_SECRET_MAX);
		return NULL;
	}
	return v;
}

int cmd_serve(int argc, char **argv)
{
	static struct listen_addr lbinds[SERVE_MAX_LISTEN];
	static struct listen_cidr allow[SERVE_MAX_ALLOW];
	static char user[128];
	struct serve_opts o;
	struct listen_opts lo;
	struct opt_parser p;
	char whybuf[300], err[512];
	const char *why;
	uint64_t ms;
	int r;

	serve_opts_init(&o);
	listen_opts_init(&lo);
	lo.binds = lbinds;
	lo.allow = allow;
	opt_init(&p, &serve_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		const char *v = p.val;

		switch (r) {
		case O_DB:
			o.db = v;
			break;
		case O_BIND:
			if (strstr(v, "://") && strncmp(v, "tcp://", 6))
				return opt_bad_value(&p, stderr, "expected ADDR:PORT (HTTP runs on TCP)");
			if (listen_parse_addr(v, LISTEN_TCP, &o.bind, whybuf, sizeof(whybuf), &why) <
			    0)
				return opt_bad_value(&p, stderr, "%s", why);
			break;
		case O_LISTEN:
			if (lo.nbinds >= SERVE_MAX_LISTEN)
				return opt_usage_error(&serve_cmd, stderr,
						       "too many --listen (at most %d)",
						       SERVE_MAX_LISTEN);
			if (listen_parse_addr(v, LISTEN_UDP, &lbinds[lo.nbinds], whybuf,
					      sizeof(whybuf), &why) < 0)
				return opt_bad_value(&p, stderr, "%s", why);
			lo.nbinds++;
			break;
		case O_ALLOW:
			if (lo.nallow >= SERVE_MAX_ALLOW)
				return opt_usage_error(&serve_cmd, stderr,
						       "too many --allow (at most %d)",
						       SERVE_MAX_ALLOW);
			if (listen_parse_cidr(v, &allow[lo.nallow]) < 0)
				return opt_bad_value(&p, stderr,
						     "expected an address or a network with zero "
						     "host bits, e.g. 10.0.0.0/8 or fd00::/8");
			lo.nallow++;
			break;
		case O_AUTH: {
			const char *colon = strchr(v, ':');

			if (!colon || colon == v || !colon[1] || (size_t)(colon - v) >= sizeof(user))
				return opt_bad_value(&p, stderr,
						     "expected USER:ENV_VAR (the password is read "
						     "from the environment variable ENV_VAR)");
			memcpy(user, v, (size_t)(colon - v));
			user[colon - v] = '\0';
			if (!(o.pass = secret_from_env("--auth", colon + 1)))
				return HALOG_EXIT_ERR;
			o.user = user;
			break;
		}
		case O_TOKEN:
			if (!(o.token = secret_from_env("--token", v)))
				return HALOG_EXIT_ERR;
			break;
		case O_MAX_STREAMS:
			o.max_streams = (unsigned)p.num;
			break;
		case O_MAX_SEARCHES:
			o.max_queries = (unsigned)p.num;
			break;
		case O_QUERY_TIMEOUT:
			if (parse_duration_ms(v, &ms) < 0 || ms < 100 || ms > 600000)
				return opt_bad_value(&p, stderr,
						     "expected a duration from 100ms to 10m (e.g. 5s)");
			o.query_ms = (int64_t)ms;
			break;
		case O_MAX_ROWS:
			o.max_rows = (unsigned)p.num;
			break;
		case OPT_OPERAND:
			return opt_usage_error(&serve_cmd, stderr, "unexpected argument '%s'", v);
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (lo.nallow && !lo.nbinds)
		return opt_usage_error(&serve_cmd, stderr, "--allow needs --listen");
	if (lo.nbinds) {
		lo.db = o.db;
		o.listen = &lo;
		if (!lo.nallow)
			for (size_t k = 0; k < lo.nbinds; k++)
				if (!listen_is_loopback((const struct sockaddr *)&lbinds[k].ss))
					fprintf(stderr,
						"halog serve: warning: %s accepts messages from any "
						"host (add --allow CIDR)\n",
						lbinds[k].text);
	}
	r = serve_check(&o, err, sizeof(err));
	if (r == -2)
		return opt_usage_error(&serve_cmd, stderr, "%s", err);
	if (r < 0) {
		fprintf(stderr, "halog serve: %s\n", err);
		return HALOG_EXIT_ERR;
	}
	return serve_run(&o);
}
