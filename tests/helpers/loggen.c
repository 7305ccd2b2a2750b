/* loggen: writes deterministic, realistic HAProxy traffic log lines for tests and the benchmark.
 *
 * usage: loggen [--lines N] [--seed S] [--format httplog|tcplog|mixed]
 *               [--framing rfc3164|local|rfc5424|raw] [--start EPOCH] [--rate LINES_PER_SEC]
 *               [--expect FILE]
 *
 *   --lines N      lines to write (default 1000; 0 writes nothing)
 *   --seed S       PRNG seed (default 1); the same flags always give the same bytes
 *   --format F     httplog (default), tcplog, or mixed (about 15% tcplog)
 *   --framing F    rfc3164 (default): "<134>Dec  1 00:00:00 lb1 haproxy[4242]: " (with a HOST,
 *                  the field layout HAProxy's own halog expects); local: the same without HOST
 *                  (HAProxy's default); rfc5424: "<134>1 2025-12-01T00:00:00.123000+00:00 -
 *                  haproxy 4242 - - "; raw: the body only
 *   --start EPOCH  time of the first line, unix seconds (default 1764547200 = 2025-12-01 UTC)
 *   --rate R       simulated lines per second (default 1000): line i is logged at
 *                  start + i/R seconds; the body date is that minus Ta (Tt for tcplog). The
 *                  output itself is not throttled. Dates are written in UTC, so read them
 *                  with TZ=UTC.
 *   --expect FILE  also writes a JSON summary of what was generated (per frontend, per
 *                  backend/server, status codes and classes, termination states, flags), so a
 *                  test can compare it with what halog stored and reports
 *
 * The traffic: five HTTP frontends (fe_https~ with SSL, fe_http mostly redirecting, fe_api,
 * fe_dl with logasap, fe_admin with the stats page) and two TCP ones (fe_mysql, fe_redis with
 * logasap), seven backends with unevenly weighted servers (one slow and error-prone server, one
 * backend often without a server), every status class, -1 timers where HAProxy writes them,
 * header captures with spaces and #XX escapes, cookie persistence characters, retries and
 * redispatches (+N), <BADREQ>, <NOSRV>, <STATS>, IPv6 clients, HTTP/2 absolute URIs.
 * Exit: 0 ok, 1 write error, 2 usage. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "json.h"
#include "parse.h"
#include "strbuf.h"

#define LG_OUTBUF (4u << 20) /* output buffer; flushed when less than a line is left */
#define LG_LINE_MAX 2048     /* no generated line is longer (captures and URIs are capped) */
#define LG_CLIENTS 4096      /* preformatted client addresses */
#define LG_CAP_LEN 64        /* "capture request header User-Agent len 64" */
#define LG_PRI_INFO 134      /* local0.info */
#define LG_PID 4242
#define LG_NOSRV "<NOSRV>"
#define LG_STATS "<STATS>"

/* ---------------------------------------------------------------------------------------- */
/* Deterministic PRNG (splitmix64): no libc rand, no floating point, same bytes everywhere. */

static uint64_t rng_state;

static inline uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform integer in [0, n), n > 0. */
static inline uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

/* Lognormal(0, 0.7) multipliers x1000 at the 64 mid-quantiles: latency and size shapes
 * without floating point (median 1000). */
static const uint32_t lg_lognorm[64] = {
	184,  249,  291,  326,  356,  384,  410,  435,  459,  482,  504,  526,  548,
	570,  591,  613,  634,  656,  678,  699,  721,  743,  766,  789,  812,  835,
	859,  883,  908,  934,  960,  986,  1014, 1042, 1071, 1101, 1132, 1164, 1197,
	1232, 1268, 1306, 1345, 1386, 1430, 1476, 1525, 1576, 1631, 1691, 1755, 1824,
	1899, 1983, 2076, 2180, 2299, 2437, 2602, 2805, 3067, 3432, 4020, 5432,
};

/* A value around median with a lognormal spread and a 1% tail ten times longer. */
static uint32_t rng_around(uint32_t median)
{
	uint64_t r = rng_next();
	uint64_t m = lg_lognorm[r & 63];
	uint64_t v;

	if (((r >> 8) & 1023) < 10)
		m *= 10;
	v = (median * m + ((r >> 20) & 1023)) / 1000;
	return v > 3600000 ? 3600000 : (uint32_t)v;
}

/* ---------------------------------------------------------------------------------------- */
/* The generated world. */

struct lg_path {
	const char *pre; /* path before the id, or the whole path */
	const char *suf; /* after the id; NULL when the path has no id */
	uint32_t id_max; /* ids are drawn in [1, id_max] */
};

struct lg_server {
	const char *name;
	uint32_t weight;
	uint32_t median_ms;    /* median server response time (Tr, or Tt for TCP) */
	uint32_t err_permille; /* server-side 5xx share */
	uint64_t n;            /* lines logged for this server */
};

enum lg_ctype { CT_HTML, CT_STATIC, CT_JSON, CT_ZIP, CT_NONE };

struct lg_backend {
	const char *name;
	struct lg_server *srv;
	size_t nsrv;
	uint32_t nosrv_permille; /* requests finding no server up: <NOSRV> 503 */
	int cookie;              /* cookie persistence: fills termination chars 3-4 */
	int tcp;
	const struct lg_path *paths;
	size_t npaths;
	uint32_t size_median; /* response size (bytes) */
	enum lg_ctype ctype;
	uint32_t wsum;
	/* what was generated */
	uint64_t n, nosrv, stats, bytes;
	uint64_t cls[6]; /* status classes 1xx..5xx at [1..5]; [0] other */
};

struct lg_route {
	int be;          /* index in lg_backends */
	uint32_t weight; /* relative share of the frontend's routed traffic */
};

struct lg_frontend {
	const char *name;   /* as logged (%ft), with '~' when SSL */
	const char *host;   /* Host header clients send */
	uint32_t weight;    /* share of the traffic of its mode */
	int tcp;            /* tcplog frontend */
	int logasap;        /* option logasap: '+' on Ta/Tt and bytes */
	uint32_t redirect_permille; /* redirects to https (LR-- 301) */
	uint32_t stats_permille;    /* stats page hits (<STATS>) */
	int self;                   /* index of its own backend (unrouted requests) */
	struct lg_route routes[4];
	size_t nroutes;
	uint32_t rsum;
	uint64_t n;
};

static const struct lg_path paths_app[] = {
	{ "/", NULL, 0 },
	{ "/index.html", NULL, 0 },
	{ "/login", NULL, 0 },
	{ "/account/settings", NULL, 0 },
	{ "/products/", NULL, 0 },
	{ "/products/", "", 20000 },
	{ "/products/", "/reviews?page=2&sort=recent", 20000 },
	{ "/search?q=red+shoes&page=", "", 40 },
	{ "/cart", NULL, 0 },
	{ "/checkout/step/", "", 4 },
	{ "/ws", NULL, 0 }, /* LG_WS_PATH: websocket upgrades (101) */
	{ "/blog/2025/", "-why-%22quotes%22-and #23hash", 300 },
};
#define LG_WS_PATH (&paths_app[10])
static const struct lg_path paths_static[] = {
	{ "/static/js/app.", ".js", 0xfffff },
	{ "/static/css/site.", ".css", 0xfffff },
	{ "/static/img/p", ".jpg", 50000 },
	{ "/favicon.ico", NULL, 0 },
	{ "/robots.txt", NULL, 0 },
};
static const struct lg_path paths_api[] = {
	{ "/api/v1/users/", "", 1000000 },
	{ "/api/v1/orders?customer=", "&limit=50", 1000000 },
	{ "/api/v2/items/", "/stock", 100000 },
	{ "/api/v1/health", NULL, 0 },
	{ "/api/v1/search?q=a%20b&offset=", "", 1000 },
};
static const struct lg_path paths_legacy[] = {
	{ "/legacy/report.php?id=", "", 9999 },
	{ "/cgi-bin/old.pl", NULL, 0 },
};
static const struct lg_path paths_files[] = {
	{ "/files/", ".zip", 5000 },
	{ "/files/backup-", ".tar.gz", 365 },
};
static const struct lg_path paths_deny[] = {
	{ "/wp-login.php", NULL, 0 },
	{ "/.env", NULL, 0 },
	{ "/admin/config.php?x=", "", 100 },
	{ "/index/\\think\\app/invokefunction&function=call_user_func_array&vars[1][]=", "", 9 },
};
static const struct lg_path paths_stats[] = {
	{ "/haproxy?stats", NULL, 0 },
	{ "/haproxy?stats;csv;norefresh", NULL, 0 },
};

static struct lg_server srv_app[] = {
	{ "app1", 100, 25, 5, 0 },
	{ "app2", 100, 25, 5, 0 },
	{ "app3", 50, 40, 8, 0 },
	{ "app4", 10, 120, 90, 0 },
};
static struct lg_server srv_static[] = {
	{ "static1", 1, 1, 0, 0 },
	{ "static2", 1, 1, 0, 0 },
};
static struct lg_server srv_api[] = {
	{ "api1", 3, 8, 3, 0 },
	{ "api2", 1, 8, 3, 0 },
	{ "api3", 1, 15, 30, 0 },
};
static struct lg_server srv_legacy[] = {
	{ "old1", 1, 300, 50, 0 },
};
static struct lg_server srv_files[] = {
	{ "files1", 2, 5, 2, 0 },
	{ "files2", 1, 5, 2, 0 },
};
static struct lg_server srv_mysql[] = {
	{ "db1", 3, 1500, 0, 0 },
	{ "db2", 1, 1500, 0, 0 },
	{ "db3", 1, 3000, 0, 0 },
};
static struct lg_server srv_redis[] = {
	{ "redis1", 1, 40, 0, 0 },
	{ "redis2", 1, 40, 0, 0 },
};

#define NSRV(a) (sizeof(a) / sizeof((a)[0]))

enum {
	BE_APP,
	BE_STATIC,
	BE_API,
	BE_LEGACY,
	BE_FILES,
	BE_MYSQL,
	BE_REDIS,
	/* frontends' own names, used as %b when a request is not routed */
	BE_SELF_HTTPS,
	BE_SELF_HTTP,
	BE_SELF_API,
	BE_SELF_DL,
	BE_SELF_ADMIN,
	BE_SELF_MYSQL,
	BE_SELF_REDIS,
	BE_COUNT
};

static struct lg_backend lg_backends[BE_COUNT] = {
	[BE_APP] = { "be_app", srv_app, NSRV(srv_app), 0, 1, 0, paths_app, NSRV(paths_app), 6000,
		     CT_HTML, 0, 0, 0, 0, 0, { 0 } },
	[BE_STATIC] = { "be_static", srv_static, NSRV(srv_static), 0, 0, 0, paths_static,
			NSRV(paths_static), 20000, CT_STATIC, 0, 0, 0, 0, 0, { 0 } },
	[BE_API] = { "be_api", srv_api, NSRV(srv_api), 0, 0, 0, paths_api, NSRV(paths_api), 900,
		     CT_JSON, 0, 0, 0, 0, 0, { 0 } },
	[BE_LEGACY] = { "be_legacy", srv_legacy, NSRV(srv_legacy), 300, 0, 0, paths_legacy,
			NSRV(paths_legacy), 12000, CT_HTML, 0, 0, 0, 0, 0, { 0 } },
	[BE_FILES] = { "be_files", srv_files, NSRV(srv_files), 0, 0, 0, paths_files,
		       NSRV(paths_files), 4000000, CT_ZIP, 0, 0, 0, 0, 0, { 0 } },
	[BE_MYSQL] = { "be_mysql", srv_mysql, NSRV(srv_mysql), 0, 0, 1, NULL, 0, 8000, CT_NONE, 0,
		       0, 0, 0, 0, { 0 } },
	[BE_REDIS] = { "be_redis", srv_redis, NSRV(srv_redis), 0, 0, 1, NULL, 0, 600, CT_NONE, 0,
		       0, 0, 0, 0, { 0 } },
	[BE_SELF_HTTPS] = { "fe_https", NULL, 0, 0, 0, 0, paths_app, NSRV(paths_app), 0, CT_NONE,
			    0, 0, 0, 0, 0, { 0 } },
	[BE_SELF_HTTP] = { "fe_http", NULL, 0, 0, 0, 0, paths_app, NSRV(paths_app), 0, CT_NONE, 0,
			   0, 0, 0, 0, { 0 } },
	[BE_SELF_API] = { "fe_api", NULL, 0, 0, 0, 0, paths_api, NSRV(paths_api), 0, CT_NONE, 0,
			  0, 0, 0, 0, { 0 } },
	[BE_SELF_DL] = { "fe_dl", NULL, 0, 0, 0, 0, paths_files, NSRV(paths_files), 0, CT_NONE, 0,
			 0, 0, 0, 0, { 0 } },
	[BE_SELF_ADMIN] = { "fe_admin", NULL, 0, 0, 0, 0, paths_stats, NSRV(paths_stats), 0,
			    CT_NONE, 0, 0, 0, 0, 0, { 0 } },
	[BE_SELF_MYSQL] = { "fe_mysql", NULL, 0, 0, 0, 1, NULL, 0, 0, CT_NONE, 0, 0, 0, 0, 0,
			    { 0 } },
	[BE_SELF_REDIS] = { "fe_redis", NULL, 0, 0, 0, 1, NULL, 0, 0, CT_NONE, 0, 0, 0, 0, 0,
			    { 0 } },
};

enum { FE_HTTPS, FE_HTTP, FE_API, FE_DL, FE_ADMIN, FE_MYSQL, FE_REDIS, FE_COUNT };

static struct lg_frontend lg_frontends[FE_COUNT] = {
	[FE_HTTPS] = { "fe_https~", "www.example.com", 55, 0, 0, 0, 0, BE_SELF_HTTPS,
		       { { BE_APP, 60 }, { BE_STATIC, 25 }, { BE_API, 10 }, { BE_LEGACY, 5 } }, 4,
		       0, 0 },
	[FE_HTTP] = { "fe_http", "www.example.com", 15, 0, 0, 700, 0, BE_SELF_HTTP,
		      { { BE_APP, 2 }, { BE_STATIC, 1 } }, 2, 0, 0 },
	[FE_API] = { "fe_api", "api.example.com", 24, 0, 0, 0, 0, BE_SELF_API,
		     { { BE_API, 9 }, { BE_LEGACY, 1 } }, 2, 0, 0 },
	[FE_DL] = { "fe_dl", "dl.example.com", 5, 0, 1, 0, 0, BE_SELF_DL, { { BE_FILES, 1 } }, 1,
		    0, 0 },
	[FE_ADMIN] = { "fe_admin", "10.0.0.1:8404", 1, 0, 0, 0, 800, BE_SELF_ADMIN,
		       { { BE_APP, 1 } }, 1, 0, 0 },
	[FE_MYSQL] = { "fe_mysql", NULL, 60, 1, 0, 0, 0, BE_SELF_MYSQL, { { BE_MYSQL, 1 } }, 1, 0,
		       0 },
	[FE_REDIS] = { "fe_redis", NULL, 40, 1, 1, 0, 0, BE_SELF_REDIS, { { BE_REDIS, 1 } }, 1,
		       0, 0 },
};

/* User-Agent captures: spaces, an escaped brace and pipe, an empty slot. Cut to LG_CAP_LEN. */
static const char *const lg_agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari",
	"curl/7.88.1",
	"python-requests/2.31.0",
	"Go-http-client/1.1",
	"okhttp/4.12.0",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"weird#7Bagent#7D #7C pipe",
	"",
};
#define LG_NAGENTS (sizeof(lg_agents) / sizeof(lg_agents[0]))
static size_t lg_agent_len[LG_NAGENTS];

static const char *const lg_methods[] = { "GET", "GET", "GET", "GET", "GET", "GET", "GET",
					  "GET", "GET", "GET", "GET", "GET", "GET", "GET",
					  "GET", "GET", "POST", "POST", "HEAD", "PUT",
					  "DELETE", "OPTIONS", "PATCH", "POST" };
#define LG_NMETHODS (sizeof(lg_methods) / sizeof(lg_methods[0]))

/* Status codes a healthy server returns, with weights per 10000. */
static const struct {
	int code;
	uint32_t w;
} lg_ok_status[] = {
	{ 200, 7700 }, { 201, 100 }, { 204, 250 }, { 206, 50 }, { 301, 150 }, { 302, 250 },
	{ 304, 600 },  { 400, 80 },  { 401, 150 }, { 403, 60 }, { 404, 450 }, { 405, 20 },
	{ 409, 20 },   { 429, 60 },  { 500, 20 },  { 503, 20 },
};
#define LG_NOK (sizeof(lg_ok_status) / sizeof(lg_ok_status[0]))

static const char *const lg_months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Preformatted client addresses, IPv4 and (about 4%) IPv6. */
static char lg_client[LG_CLIENTS][48];
static size_t lg_client_len[LG_CLIENTS];
static unsigned char lg_client_v6[LG_CLIENTS];

/* What was generated overall (the --expect summary). */
static struct {
	uint64_t http, tcp, badreq, logasap, redispatch, retried, ipv6, ssl, not_routed, errors;
	uint64_t status[600];
	uint64_t term[128][128]; /* first two termination characters */
	int64_t first_ms, last_ms;
} lg_sum;

/* ---------------------------------------------------------------------------------------- */
/* Formatting into the output buffer, no libc formatting on the hot path. */

static inline char *put_mem(char *w, const char *s, size_t n)
{
	memcpy(w, s, n);
	return w + n;
}

static inline char *put_str(char *w, const char *s)
{
	return put_mem(w, s, strlen(s));
}

static inline char *put_u64(char *w, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_mem(w, tmp + i, sizeof(tmp) - i);
}

/* A timer: -1 when the phase was not reached (LG_UNSET). */
#define LG_UNSET (-1)
static inline char *put_timer(char *w, int64_t v)
{
	if (v < 0) {
		*w++ = '-';
		*w++ = '1';
		return w;
	}
	return put_u64(w, (uint64_t)v);
}

static inline char *put_2d(char *w, unsigned v)
{
	*w++ = (char)('0' + v / 10 % 10);
	*w++ = (char)('0' + v % 10);
	return w;
}

static inline char *put_3d(char *w, unsigned v)
{
	*w++ = (char)('0' + v / 100 % 10);
	return put_2d(w, v % 100);
}

/* Gregorian date from days since 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

enum lg_datefmt {
	DF_SYSLOG, /* "Dec  1 00:00:00" */
	DF_BODY,   /* "01/Dec/2025:00:00:00" */
	DF_ISO,    /* "2025-12-01T00:00:00" */
};

/* A date string cached per second: consecutive lines mostly share it. */
struct lg_clock {
	enum lg_datefmt fmt;
	int64_t sec; /* what txt holds; -1 before the first use */
	char txt[32];
	size_t len;
};

static const char *clock_text(struct lg_clock *c, int64_t sec, size_t *len)
{
	int64_t days, y;
	unsigned m, d, hh, mm, ss, rem;
	char *w = c->txt;

	if (sec != c->sec) {
		days = sec / 86400;
		rem = (unsigned)(sec % 86400);
		civil_from_days(days, &y, &m, &d);
		hh = rem / 3600;
		mm = rem / 60 % 60;
		ss = rem % 60;
		switch (c->fmt) {
		case DF_SYSLOG:
			w = put_mem(w, lg_months[m - 1], 3);
			*w++ = ' ';
			*w++ = d < 10 ? ' ' : (char)('0' + d / 10);
			*w++ = (char)('0' + d % 10);
			*w++ = ' ';
			break;
		case DF_BODY:
			w = put_2d(w, d);
			*w++ = '/';
			w = put_mem(w, lg_months[m - 1], 3);
			*w++ = '/';
			w = put_u64(w, (uint64_t)y);
			*w++ = ':';
			break;
		case DF_ISO:
			w = put_u64(w, (uint64_t)y);
			*w++ = '-';
			w = put_2d(w, m);
			*w++ = '-';
			w = put_2d(w, d);
			*w++ = 'T';
			break;
		}
		w = put_2d(w, hh);
		*w++ = ':';
		w = put_2d(w, mm);
		*w++ = ':';
		w = put_2d(w, ss);
		c->len = (size_t)(w - c->txt);
		c->sec = sec;
	}
	*len = c->len;
	return c->txt;
}

/* ---------------------------------------------------------------------------------------- */
/* Picking. */

static struct lg_server *pick_server(struct lg_backend *be, const struct lg_server *not)
{
	uint32_t r;
	size_t i;

	for (;;) {
		r = rng_below(be->wsum);
		for (i = 0; i < be->nsrv; i++) {
			if (r < be->srv[i].weight)
				break;
			r -= be->srv[i].weight;
		}
		if (i == be->nsrv)
			i = be->nsrv - 1;
		if (&be->srv[i] != not || be->nsrv == 1)
			return &be->srv[i];
	}
}

static int pick_frontend(int tcp)
{
	uint32_t sum = 0, r;
	int i;

	for (i = 0; i < FE_COUNT; i++)
		if (lg_frontends[i].tcp == tcp)
			sum += lg_frontends[i].weight;
	r = rng_below(sum);
	for (i = 0; i < FE_COUNT; i++) {
		if (lg_frontends[i].tcp != tcp)
			continue;
		if (r < lg_frontends[i].weight)
			return i;
		r -= lg_frontends[i].weight;
	}
	return tcp ? FE_MYSQL : FE_HTTPS;
}

static int pick_route(const struct lg_frontend *fe)
{
	uint32_t r = rng_below(fe->rsum);
	size_t i;

	for (i = 0; i + 1 < fe->nroutes; i++) {
		if (r < fe->routes[i].weight)
			break;
		r -= fe->routes[i].weight;
	}
	return fe->routes[i].be;
}

static int pick_ok_status(void)
{
	uint32_t r = rng_below(10000);
	size_t i;

	for (i = 0; i + 1 < LG_NOK; i++) {
		if (r < lg_ok_status[i].w)
			break;
		r -= lg_ok_status[i].w;
	}
	return lg_ok_status[i].code;
}

static char *put_path(char *w, const struct lg_path *p)
{
	w = put_str(w, p->pre);
	if (p->suf) {
		uint32_t id = 1 + rng_below(p->id_max);

		if (p->id_max == 0xfffff) { /* a content hash */
			static const char hex[] = "0123456789abcdef";
			int k;

			for (k = 0; k < 5; k++)
				*w++ = hex[(id >> (4 * (4 - k))) & 15];
		} else {
			w = put_u64(w, id);
		}
		w = put_str(w, p->suf);
	}
	return w;
}

/* ---------------------------------------------------------------------------------------- */
/* One line. */

struct lg_opts {
	uint64_t lines, seed;
	int64_t start, rate;
	enum { FMT_HTTP, FMT_TCP, FMT_MIXED } format;
	enum { FR_RFC3164, FR_LOCAL, FR_RFC5424, FR_RAW } framing;
	const char *expect;
};

static struct lg_clock clk_hdr = { DF_SYSLOG, -1, { 0 }, 0 };
static struct lg_clock clk_iso = { DF_ISO, -1, { 0 }, 0 };
static struct lg_clock clk_body = { DF_BODY, -1, { 0 }, 0 };

static char *put_header(char *w, const struct lg_opts *o, int64_t log_ms)
{
	const char *t;
	size_t n;

	switch (o->framing) {
	case FR_RFC3164:
	case FR_LOCAL:
		w = put_mem(w, "<134>", 5);
		t = clock_text(&clk_hdr, log_ms / 1000, &n);
		w = put_mem(w, t, n);
		w = o->framing == FR_RFC3164 ? put_mem(w, " lb1 haproxy[4242]: ", 20)
					     : put_mem(w, " haproxy[4242]: ", 16);
		break;
	case FR_RFC5424:
		w = put_mem(w, "<134>1 ", 7);
		t = clock_text(&clk_iso, log_ms / 1000, &n);
		w = put_mem(w, t, n);
		*w++ = '.';
		w = put_3d(w, (unsigned)(log_ms % 1000));
		w = put_mem(w, "000+00:00 - haproxy 4242 - - ", 29);
		break;
	case FR_RAW:
		break;
	}
	return w;
}

static char *put_client(char *w)
{
	/* The smaller of two draws: a few clients send much of the traffic. */
	uint32_t a = rng_below(LG_CLIENTS), b = rng_below(LG_CLIENTS);
	uint32_t c = a < b ? a : b;

	lg_sum.ipv6 += lg_client_v6[c];
	w = put_mem(w, lg_client[c], lg_client_len[c]);
	*w++ = ':';
	return put_u64(w, 1024 + rng_below(64512));
}

static char *put_date(char *w, int64_t ms)
{
	const char *t;
	size_t n;

	*w++ = '[';
	t = clock_text(&clk_body, ms / 1000, &n);
	w = put_mem(w, t, n);
	*w++ = '.';
	w = put_3d(w, (unsigned)(ms % 1000));
	*w++ = ']';
	return w;
}

/* actconn/feconn/beconn/srv_conn/ (retries written by the caller). */
static char *put_conns(char *w, uint64_t i, int has_srv)
{
	/* A load that rises and falls over ~20k lines, plus noise. */
	uint64_t phase = i % 20000;
	uint32_t base = 20 + (uint32_t)(phase < 10000 ? phase / 40 : (20000 - phase) / 40);
	uint32_t ac = base + rng_below(40);
	uint32_t fc = 1 + rng_below(ac);
	uint32_t bc = has_srv ? 1 + rng_below(fc) : 0;
	uint32_t sc = has_srv ? 1 + rng_below(bc) : 0;

	w = put_u64(w, ac);
	*w++ = '/';
	w = put_u64(w, fc);
	*w++ = '/';
	w = put_u64(w, bc);
	*w++ = '/';
	w = put_u64(w, sc);
	*w++ = '/';
	return w;
}

static void count_term(const char *term)
{
	lg_sum.term[(unsigned char)term[0] & 127][(unsigned char)term[1] & 127]++;
}

static const char *ctype_for(const struct lg_backend *be, int status, const struct lg_path *p)
{
	if (status == 304 || status == 204 || status == 101)
		return "";
	if (status >= 400 && be->ctype != CT_JSON)
		return "text/html";
	switch (be->ctype) {
	case CT_HTML:
		return "text/html; charset=utf-8";
	case CT_JSON:
		return "application/json";
	case CT_ZIP:
		return "application/octet-stream";
	case CT_STATIC:
		/* the suffixes of paths_static: ".js", ".css", ".jpg" */
		if (p && p->suf && p->suf[1] == 'j' && p->suf[2] == 's')
			return "application/javascript";
		if (p && p->suf && p->suf[1] == 'c')
			return "text/css";
		return "image/jpeg";
	case CT_NONE:
		break;
	}
	return "text/html";
}

/* Scenarios of an HTTP line, decided before anything is written. */
enum lg_http_case {
	HC_OK,           /* the server answered (any status) */
	HC_REDIRECT,     /* LR-- 301/302 from the frontend, not routed */
	HC_STATS,        /* the stats page, fe/<STATS> */
	HC_DENY,         /* PR-- 403 */
	HC_TARPIT,       /* PT-- 500 after the tarpit delay */
	HC_BADREQ,       /* CR-- 400 / cR-- 408 "<BADREQ>" */
	HC_NOSRV,        /* be/<NOSRV> 503 SC--: no server up */
	HC_REFUSED,      /* SC-- 503 after 3 retries */
	HC_SRV_ABORT,    /* SH-- 502 */
	HC_SRV_TIMEOUT,  /* sH-- 504 */
	HC_CLI_ABORT,    /* CD-- while sending data */
	HC_CLI_TIMEOUT,  /* cD-- */
	HC_QUEUE_TIMEOUT, /* sQ-- 503 */
	HC_QUEUE_ABORT,  /* CQ-- 503 */
};

static char *gen_http(char *w, const struct lg_opts *o, uint64_t i, int64_t log_ms)
{
	int fei = pick_frontend(0);
	struct lg_frontend *fe = &lg_frontends[fei];
	struct lg_backend *be;
	struct lg_server *srv = NULL;
	const struct lg_path *path;
	enum lg_http_case hc = HC_OK;
	int64_t tr = 0, tw = 0, tc = 0, tresp = 0, ta, ts;
	uint64_t bytes;
	int status = 200, retries = 0, redispatch = 0, logasap = fe->logasap;
	uint32_t sq = 0, bq = 0, u = rng_below(10000);
	char term[5] = "----";
	const char *ua = NULL;
	size_t ualen = 0;

	if (u < fe->redirect_permille * 10) {
		hc = HC_REDIRECT;
	} else if (u < (fe->redirect_permille + fe->stats_permille) * 10) {
		hc = HC_STATS;
	} else {
		u = rng_below(10000);
		if (u < 70)
			hc = HC_BADREQ;
		else if (u < 220)
			hc = HC_DENY;
		else if (u < 300)
			hc = HC_REDIRECT;
		else if (u < 310)
			hc = HC_TARPIT;
	}
	if (hc == HC_OK) {
		be = &lg_backends[pick_route(fe)];
		if (rng_below(1000) < be->nosrv_permille) {
			hc = HC_NOSRV;
		} else {
			srv = pick_server(be, NULL);
			u = rng_below(10000);
			if (u < 60)
				hc = HC_REFUSED;
			else if (u < 110)
				hc = HC_SRV_ABORT;
			else if (u < 140)
				hc = HC_SRV_TIMEOUT;
			else if (u < 240)
				hc = HC_CLI_ABORT;
			else if (u < 270)
				hc = HC_CLI_TIMEOUT;
			else if (u < 285)
				hc = HC_QUEUE_TIMEOUT;
			else if (u < 300)
				hc = HC_QUEUE_ABORT;
			else if (u < 330 && be->nsrv > 1)
				redispatch = 1;
			else if (u < 400)
				retries = 1;
		}
	} else {
		be = &lg_backends[fe->self];
	}
	path = &be->paths[rng_below((uint32_t)be->npaths)];
	if (hc == HC_DENY)
		path = &paths_deny[rng_below(NSRV(paths_deny))];
	if (hc == HC_STATS)
		path = &paths_stats[rng_below(NSRV(paths_stats))];

	/* Timers, status, bytes and termination state of the scenario. */
	switch (hc) {
	case HC_OK:
		if (be->cookie) {
			u = rng_below(100);
			term[2] = u < 75 ? 'V' : u < 95 ? 'N' : u < 98 ? 'I' : 'D';
			term[3] = u < 75 ? 'N' : 'I';
		}
		if (rng_below(1000) < srv->err_permille)
			status = rng_below(10) < 7 ? 500 : 503;
		else
			status = pick_ok_status();
		if (path == LG_WS_PATH && rng_below(4) == 0)
			status = 101;
		tr = rng_below(20) == 0 ? 1 + rng_below(30) : 0;
		if (rng_below(50) == 0) { /* a burst: queued behind others */
			sq = 1 + rng_below(20);
			bq = rng_below(5);
			tw = 1 + rng_below(800);
		}
		tc = rng_below(4);
		if (retries)
			tc += 1000 + rng_below(50);
		if (redispatch) {
			srv = pick_server(be, srv);
			tc += 3000 + rng_below(50);
			term[2] = be->cookie ? 'D' : '-';
			term[3] = be->cookie ? 'I' : '-';
		}
		tresp = rng_around(srv->median_ms);
		if (status >= 300 && status < 400)
			bytes = 150 + rng_below(300);
		else if (status >= 400)
			bytes = 180 + rng_below(800);
		else if (status == 204 || status == 101)
			bytes = 120 + rng_below(60);
		else
			bytes = rng_around(be->size_median) + 200;
		ta = tr + tw + tc + tresp + (int64_t)(bytes / 50000);
		if (status == 101)
			ta += 10000 + rng_below(600000);
		break;
	case HC_REDIRECT:
		status = fei == FE_HTTP && rng_below(10) ? 301 : 302;
		memcpy(term, "LR--", 4);
		tw = tc = tresp = LG_UNSET;
		ta = 0;
		bytes = 90 + rng_below(60);
		break;
	case HC_STATS:
		status = 200;
		memcpy(term, "LR--", 4);
		tw = tc = tresp = 0;
		ta = rng_below(3);
		bytes = 20000 + rng_below(30000);
		break;
	case HC_DENY:
		status = 403;
		memcpy(term, "PR--", 4);
		tw = tc = tresp = LG_UNSET;
		ta = 0;
		bytes = 192;
		break;
	case HC_TARPIT:
		status = 500;
		memcpy(term, "PT--", 4);
		tr = LG_UNSET;
		tw = 5000 + rng_below(5);
		tc = tresp = LG_UNSET;
		ta = tw;
		bytes = 208;
		break;
	case HC_BADREQ:
		tr = tw = tc = tresp = LG_UNSET;
		if (rng_below(10) < 7) {
			status = 400;
			memcpy(term, "CR--", 4);
			ta = rng_below(200);
		} else {
			status = 408;
			memcpy(term, "cR--", 4);
			ta = 5000 + rng_below(3);
		}
		bytes = 0;
		break;
	case HC_NOSRV:
		status = 503;
		memcpy(term, "SC--", 4);
		tw = tc = tresp = LG_UNSET;
		ta = 0;
		bytes = 217;
		break;
	case HC_REFUSED:
		status = 503;
		term[0] = 'S';
		term[1] = 'C';
		retries = 3;
		tw = 0;
		tc = tresp = LG_UNSET;
		ta = 3000 + rng_below(20);
		bytes = 217;
		break;
	case HC_SRV_ABORT:
		status = 502;
		term[0] = 'S';
		term[1] = 'H';
		tc = rng_below(3);
		tresp = LG_UNSET;
		ta = tc + rng_around(srv->median_ms);
		bytes = 209;
		break;
	case HC_SRV_TIMEOUT:
		status = 504;
		term[0] = 's';
		term[1] = 'H';
		tc = rng_below(3);
		tresp = LG_UNSET;
		ta = 30000 + tc + rng_below(5);
		bytes = 198;
		break;
	case HC_CLI_ABORT:
	case HC_CLI_TIMEOUT:
		status = 200;
		term[0] = hc == HC_CLI_ABORT ? 'C' : 'c';
		term[1] = 'D';
		tc = rng_below(3);
		tresp = rng_around(srv->median_ms);
		bytes = rng_around(be->size_median) / 3 + 100;
		ta = tc + tresp + (hc == HC_CLI_ABORT ? rng_around(2000) : 30000 + rng_below(5));
		break;
	case HC_QUEUE_TIMEOUT:
	case HC_QUEUE_ABORT:
		status = 503;
		term[0] = hc == HC_QUEUE_TIMEOUT ? 's' : 'C';
		term[1] = 'Q';
		sq = 10 + rng_below(90);
		bq = rng_below(20);
		tw = hc == HC_QUEUE_TIMEOUT ? 10000 + rng_below(3) : rng_around(3000);
		tc = tresp = LG_UNSET;
		ta = tw;
		bytes = 217;
		break;
	}

	/* Header, client, date. */
	ts = log_ms - ta > 0 ? log_ms - ta : 0;
	w = put_header(w, o, log_ms);
	w = put_client(w);
	*w++ = ' ';
	w = put_date(w, ts);
	*w++ = ' ';
	w = put_str(w, fe->name);
	*w++ = ' ';
	w = put_str(w, be->name);
	*w++ = '/';
	if (hc == HC_STATS)
		w = put_mem(w, LG_STATS, 7);
	else if (srv)
		w = put_str(w, srv->name);
	else
		w = put_mem(w, LG_NOSRV, 7);
	*w++ = ' ';

	/* TR/Tw/Tc/Tr/Ta status bytes */
	w = put_timer(w, tr);
	*w++ = '/';
	w = put_timer(w, tw);
	*w++ = '/';
	w = put_timer(w, tc);
	*w++ = '/';
	w = put_timer(w, tresp);
	*w++ = '/';
	if (logasap && hc == HC_OK) {
		/* logged when the headers are sent: Ta stops there and bytes are partial */
		*w++ = '+';
		ta = tr + tw + tc + tresp;
		bytes = bytes > 16384 ? 16384 + rng_below(1024) : bytes;
	}
	w = put_u64(w, (uint64_t)ta);
	*w++ = ' ';
	w = put_u64(w, (uint64_t)status);
	*w++ = ' ';
	if (logasap && hc == HC_OK)
		*w++ = '+';
	w = put_u64(w, bytes);
	w = put_mem(w, " - - ", 5);
	w = put_mem(w, term, 4);
	*w++ = ' ';
	w = put_conns(w, i, srv != NULL);
	if (redispatch)
		*w++ = '+';
	w = put_u64(w, (uint64_t)(retries + redispatch));
	*w++ = ' ';
	w = put_u64(w, sq);
	*w++ = '/';
	w = put_u64(w, bq);
	*w++ = ' ';

	if (hc == HC_BADREQ) {
		w = put_mem(w, "\"<BADREQ>\"", 10);
	} else {
		/* {Host|User-Agent} {Content-Type} "METHOD URI VERSION" */
		uint32_t a = rng_below(LG_NAGENTS);
		uint32_t v = rng_below(20);
		const char *method = lg_methods[rng_below(LG_NMETHODS)];
		const char *ct = ctype_for(be, status, path);

		ua = lg_agents[a];
		ualen = lg_agent_len[a];
		*w++ = '{';
		w = put_str(w, fe->host);
		*w++ = '|';
		w = put_mem(w, ua, ualen);
		w = put_mem(w, "} {", 3);
		w = put_str(w, ct);
		w = put_mem(w, "} \"", 3);
		if (status == 101)
			method = "GET";
		w = put_str(w, method);
		*w++ = ' ';
		if (v < 3 && fei == FE_HTTPS && status != 101) {
			w = put_mem(w, "https://", 8);
			w = put_str(w, fe->host);
		}
		w = put_path(w, path);
		if (v < 3 && fei == FE_HTTPS && status != 101)
			w = put_mem(w, " HTTP/2.0\"", 10);
		else if (v == 3)
			w = put_mem(w, " HTTP/1.0\"", 10);
		else
			w = put_mem(w, " HTTP/1.1\"", 10);
	}
	*w++ = '\n';

	/* What was generated. */
	fe->n++;
	be->n++;
	if (hc == HC_STATS)
		be->stats++;
	else if (srv)
		srv->n++;
	else
		be->nosrv++;
	be->bytes += bytes;
	be->cls[status >= 100 && status < 600 ? status / 100 : 0]++;
	lg_sum.http++;
	lg_sum.status[status]++;
	count_term(term);
	lg_sum.badreq += hc == HC_BADREQ;
	lg_sum.logasap += logasap && hc == HC_OK;
	lg_sum.redispatch += (uint64_t)redispatch;
	lg_sum.retried += retries > 0 || redispatch;
	lg_sum.ssl += fei == FE_HTTPS;
	lg_sum.not_routed += be == &lg_backends[fe->self];
	lg_sum.errors += status >= 500 || hc == HC_BADREQ || (term[0] != '-' && term[0] != 'L') ||
			 retries > 0 || redispatch;
	return w;
}

static char *gen_tcp(char *w, const struct lg_opts *o, uint64_t i, int64_t log_ms)
{
	int fei = pick_frontend(1);
	struct lg_frontend *fe = &lg_frontends[fei];
	struct lg_backend *be = &lg_backends[pick_route(fe)];
	struct lg_server *srv = pick_server(be, NULL);
	int64_t tw = 0, tc = rng_below(3), tt;
	uint64_t bytes = rng_around(be->size_median);
	uint32_t u = rng_below(1000);
	char term[3] = "--";
	int retries = 0;

	tt = tc + rng_around(srv->median_ms);
	if (u < 50) {
		term[0] = 'C', term[1] = 'D';
	} else if (u < 80) {
		term[0] = 'S', term[1] = 'D';
	} else if (u < 100) {
		term[0] = 'c', term[1] = 'D';
		tt += 30000;
	} else if (u < 110) {
		term[0] = 's', term[1] = 'D';
		tt += 30000;
	} else if (u < 130) {
		term[0] = 'S', term[1] = 'C';
		tc = LG_UNSET;
		tt = 3000 + rng_below(10);
		bytes = 0;
		retries = 3;
	} else if (u < 140) {
		term[0] = 'S', term[1] = 'C';
		tw = tc = LG_UNSET;
		tt = rng_below(3);
		bytes = 0;
		srv = NULL;
	} else if (u < 150) {
		term[0] = 'C', term[1] = 'C';
		tc = LG_UNSET;
		tt = rng_below(1000);
		bytes = 0;
	}
	if (fe->logasap && srv && tc >= 0)
		tt = tw + tc;

	w = put_header(w, o, log_ms);
	w = put_client(w);
	*w++ = ' ';
	w = put_date(w, log_ms - tt > 0 ? log_ms - tt : 0);
	*w++ = ' ';
	w = put_str(w, fe->name);
	*w++ = ' ';
	w = put_str(w, be->name);
	*w++ = '/';
	w = srv ? put_str(w, srv->name) : put_mem(w, LG_NOSRV, 7);
	*w++ = ' ';
	w = put_timer(w, tw);
	*w++ = '/';
	w = put_timer(w, tc);
	*w++ = '/';
	if (fe->logasap && srv && tc >= 0)
		*w++ = '+';
	w = put_u64(w, (uint64_t)tt);
	*w++ = ' ';
	w = put_u64(w, bytes);
	*w++ = ' ';
	w = put_mem(w, term, 2);
	*w++ = ' ';
	w = put_conns(w, i, srv != NULL);
	w = put_u64(w, (uint64_t)retries);
	w = put_mem(w, " 0/0\n", 5);

	fe->n++;
	be->n++;
	if (srv)
		srv->n++;
	else
		be->nosrv++;
	be->bytes += bytes;
	lg_sum.tcp++;
	count_term(term);
	lg_sum.logasap += fe->logasap && srv && tc >= 0;
	lg_sum.retried += retries > 0;
	lg_sum.errors += term[0] != '-' || retries > 0;
	return w;
}

/* ---------------------------------------------------------------------------------------- */
/* Setup, output, summary. */

static void setup(void)
{
	size_t i, k;
	uint32_t c;

	for (i = 0; i < BE_COUNT; i++) {
		lg_backends[i].wsum = 0;
		for (k = 0; k < lg_backends[i].nsrv; k++)
			lg_backends[i].wsum += lg_backends[i].srv[k].weight;
	}
	for (i = 0; i < FE_COUNT; i++) {
		lg_frontends[i].rsum = 0;
		for (k = 0; k < lg_frontends[i].nroutes; k++)
			lg_frontends[i].rsum += lg_frontends[i].routes[k].weight;
	}
	for (i = 0; i < LG_NAGENTS; i++) {
		size_t n = strlen(lg_agents[i]);

		lg_agent_len[i] = n > LG_CAP_LEN ? LG_CAP_LEN : n;
	}
	/* The client pool is drawn from its own fixed stream so it does not depend on --seed. */
	for (c = 0; c < LG_CLIENTS; c++) {
		uint64_t r = rng_next();
		int n;

		if (c % 25 == 7)
			n = snprintf(lg_client[c], sizeof(lg_client[c]), "2001:db8:%x::%x",
				     (unsigned)(r & 0xffff), (unsigned)((r >> 16) & 0xffff) + 1);
		else if (c % 100 == 13)
			n = snprintf(lg_client[c], sizeof(lg_client[c]), "::ffff:10.1.%u.%u",
				     (unsigned)(r & 255), (unsigned)((r >> 8) & 253) + 1);
		else if (c == 99)
			n = snprintf(lg_client[c], sizeof(lg_client[c]), "::1");
		else if (c % 3 == 0)
			n = snprintf(lg_client[c], sizeof(lg_client[c]), "10.%u.%u.%u",
				     (unsigned)(r & 255), (unsigned)((r >> 8) & 255),
				     (unsigned)((r >> 16) & 253) + 1);
		else
			n = snprintf(lg_client[c], sizeof(lg_client[c]), "%u.%u.%u.%u",
				     (unsigned)(r % 180) + 20, (unsigned)((r >> 8) & 255),
				     (unsigned)((r >> 16) & 255), (unsigned)((r >> 24) & 253) + 1);
		lg_client_len[c] = n > 0 ? (size_t)n : 0;
		lg_client_v6[c] = strchr(lg_client[c], ':') != NULL;
	}
}

static void json_count(struct strbuf *sb, const char *key, uint64_t v, int *first)
{
	if (!*first)
		strbuf_addch(sb, ',');
	*first = 0;
	json_add_key(sb, key);
	json_add_i64(sb, (int64_t)v);
}

static int write_expect(const struct lg_opts *o)
{
	static const char *const fmt_names[] = { "httplog", "tcplog", "mixed" };
	static const char *const fr_names[] = { "rfc3164", "local", "rfc5424", "raw" };
	static const char *const cls_names[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct strbuf sb = STRBUF_INIT;
	uint64_t cls[6] = { 0 };
	char key[16];
	int first, f2, a, b, rc = 0;
	size_t i, k;
	FILE *fp;

	strbuf_addf(&sb, "{\"lines\":%llu,\"seed\":%llu,\"format\":\"%s\",\"framing\":\"%s\",",
		    (unsigned long long)o->lines, (unsigned long long)o->seed,
		    fmt_names[o->format], fr_names[o->framing]);
	strbuf_addf(&sb, "\"first_ms\":%lld,\"last_ms\":%lld,", (long long)lg_sum.first_ms,
		    (long long)lg_sum.last_ms);
	strbuf_addf(&sb,
		    "\"kinds\":{\"http\":%llu,\"tcp\":%llu},\"flags\":{\"badreq\":%llu,"
		    "\"logasap\":%llu,\"redispatch\":%llu,\"retried\":%llu,\"ipv6\":%llu,"
		    "\"ssl\":%llu,\"not_routed\":%llu},\"errors\":%llu,",
		    (unsigned long long)lg_sum.http, (unsigned long long)lg_sum.tcp,
		    (unsigned long long)lg_sum.badreq, (unsigned long long)lg_sum.logasap,
		    (unsigned long long)lg_sum.redispatch, (unsigned long long)lg_sum.retried,
		    (unsigned long long)lg_sum.ipv6, (unsigned long long)lg_sum.ssl,
		    (unsigned long long)lg_sum.not_routed, (unsigned long long)lg_sum.errors);

	/* frontends, named without the SSL '~' (as they are stored) */
	strbuf_addstr(&sb, "\"frontends\":{");
	first = 1;
	for (i = 0; i < FE_COUNT; i++) {
		const char *n = lg_frontends[i].name;
		size_t len = strcspn(n, "~");

		if (!lg_frontends[i].n)
			continue;
		if (!first)
			strbuf_addch(&sb, ',');
		first = 0;
		json_add_str(&sb, n, len);
		strbuf_addf(&sb, ":%llu", (unsigned long long)lg_frontends[i].n);
	}
	strbuf_addstr(&sb, "},\"backends\":{");
	first = 1;
	for (i = 0; i < BE_COUNT; i++) {
		const struct lg_backend *be = &lg_backends[i];

		if (!be->n)
			continue;
		if (!first)
			strbuf_addch(&sb, ',');
		first = 0;
		json_add_key(&sb, be->name);
		strbuf_addf(&sb, "{\"total\":%llu,\"bytes\":%llu,\"servers\":{",
			    (unsigned long long)be->n, (unsigned long long)be->bytes);
		f2 = 1;
		for (k = 0; k < be->nsrv; k++)
			if (be->srv[k].n)
				json_count(&sb, be->srv[k].name, be->srv[k].n, &f2);
		if (be->nosrv)
			json_count(&sb, LG_NOSRV, be->nosrv, &f2);
		if (be->stats)
			json_count(&sb, LG_STATS, be->stats, &f2);
		strbuf_addstr(&sb, "},\"status_class\":{");
		f2 = 1;
		for (k = 0; k < 6; k++) {
			cls[k] += be->cls[k];
			if (be->cls[k])
				json_count(&sb, cls_names[k], be->cls[k], &f2);
		}
		strbuf_addstr(&sb, "}}");
	}
	strbuf_addstr(&sb, "},\"status_class\":{");
	first = 1;
	for (k = 0; k < 6; k++)
		if (cls[k])
			json_count(&sb, cls_names[k], cls[k], &first);
	strbuf_addstr(&sb, "},\"status\":{");
	first = 1;
	for (k = 0; k < 600; k++) {
		if (!lg_sum.status[k])
			continue;
		snprintf(key, sizeof(key), "%zu", k);
		json_count(&sb, key, lg_sum.status[k], &first);
	}
	strbuf_addstr(&sb, "},\"term\":{");
	first = 1;
	for (a = 0; a < 128; a++)
		for (b = 0; b < 128; b++) {
			if (!lg_sum.term[a][b])
				continue;
			key[0] = (char)a;
			key[1] = (char)b;
			key[2] = '\0';
			json_count(&sb, key, lg_sum.term[a][b], &first);
		}
	strbuf_addstr(&sb, "}}\n");

	fp = fopen(o->expect, "w");
	if (!fp) {
		fprintf(stderr, "loggen: cannot write '%s': %s\n", o->expect, strerror(errno));
		strbuf_release(&sb);
		return -1;
	}
	if (fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	if (rc)
		fprintf(stderr, "loggen: cannot write '%s': %s\n", o->expect, strerror(errno));
	strbuf_release(&sb);
	return rc;
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "loggen: %s\n", why);
	fprintf(stderr, "usage: loggen [--lines N] [--seed S] [--format httplog|tcplog|mixed]\n"
			"              [--framing rfc3164|local|rfc5424|raw] [--start EPOCH]\n"
			"              [--rate LINES_PER_SEC] [--expect FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct lg_opts o = { 1000, 1, 1764547200, 1000, FMT_HTTP, FR_RFC3164, NULL };
	char *buf, *w;
	uint64_t i;
	int64_t v;
	int k, rc = 0;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k], *val = k + 1 < argc ? argv[k + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(NULL);
			return 0;
		}
		if (!val)
			return usage("missing value after an option, or unknown option");
		k++;
		if (strcmp(a, "--lines") == 0) {
			if (parse_int64(val, 0, INT64_MAX / 2000, &v) < 0)
				return usage("--lines wants a whole number");
			o.lines = (uint64_t)v;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_int64(val, 0, INT64_MAX, &v) < 0)
				return usage("--seed wants a whole number");
			o.seed = (uint64_t)v;
		} else if (strcmp(a, "--start") == 0) {
			if (parse_int64(val, 0, 253402300799, &v) < 0)
				return usage("--start wants unix seconds");
			o.start = v;
		} else if (strcmp(a, "--rate") == 0) {
			if (parse_int64(val, 1, 100000000, &v) < 0)
				return usage("--rate wants lines per second, 1 to 100000000");
			o.rate = v;
		} else if (strcmp(a, "--format") == 0) {
			if (strcmp(val, "httplog") == 0)
				o.format = FMT_HTTP;
			else if (strcmp(val, "tcplog") == 0)
				o.format = FMT_TCP;
			else if (strcmp(val, "mixed") == 0)
				o.format = FMT_MIXED;
			else
				return usage("--format is httplog, tcplog or mixed");
		} else if (strcmp(a, "--framing") == 0) {
			if (strcmp(val, "rfc3164") == 0)
				o.framing = FR_RFC3164;
			else if (strcmp(val, "local") == 0)
				o.framing = FR_LOCAL;
			else if (strcmp(val, "rfc5424") == 0)
				o.framing = FR_RFC5424;
			else if (strcmp(val, "raw") == 0)
				o.framing = FR_RAW;
			else
				return usage("--framing is rfc3164, local, rfc5424 or raw");
		} else if (strcmp(a, "--expect") == 0) {
			o.expect = val;
		} else {
			return usage("unknown option");
		}
	}

	rng_state = 0x5eed5eedULL;
	setup();
	rng_state = o.seed * 0x2545f4914f6cdd1dULL + 1;
	buf = malloc(LG_OUTBUF);
	if (!buf) {
		fprintf(stderr, "loggen: out of memory\n");
		return 1;
	}
	w = buf;
	lg_sum.first_ms = o.start * 1000;
	lg_sum.last_ms = o.start * 1000;
	for (i = 0; i < o.lines; i++) {
		int64_t log_ms = o.start * 1000 + (int64_t)(i * 1000 / (uint64_t)o.rate);
		int tcp = o.format == FMT_TCP || (o.format == FMT_MIXED && rng_below(100) < 15);

		w = tcp ? gen_tcp(w, &o, i, log_ms) : gen_http(w, &o, i, log_ms);
		lg_sum.last_ms = log_ms;
		if ((size_t)(w - buf) > LG_OUTBUF - LG_LINE_MAX) {
			if (fd_write_all(1, buf, (size_t)(w - buf)) < 0) {
				fprintf(stderr, "loggen: write error: %s\n", strerror(errno));
				rc = 1;
				goto out;
			}
			w = buf;
		}
	}
	if (w > buf && fd_write_all(1, buf, (size_t)(w - buf)) < 0) {
		fprintf(stderr, "loggen: write error: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	if (o.expect && write_expect(&o) < 0)
		rc = 1;
out:
	free(buf);
	return rc;
}
