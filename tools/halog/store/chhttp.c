/* ClickHouse's HTTP interface through libcurl: URL parsing, one statement per call, gzip. */
#include "lazylib.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "parse.h"
#include "store/chhttp.h"

#define CH_DEFAULT_PORT 8123
#define CH_ERR_MAX 4096 /* bytes of an error answer kept */
#define CH_HIDDEN "***"  /* a password, as messages show it */

int ch_is_url(const char *s)
{
	return s && !strncmp(s, CH_SCHEME, strlen(CH_SCHEME));
}

static int is_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Decodes %XX in place. Returns 0 or -1. */
static int pct_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			unsigned v;

			if (!s[1] || !s[2] || sscanf(s + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

/* The URL's options: name, where it goes, how it is read. A table, so the error names them. */
enum ch_optkind { CO_STR, CO_NAME, CO_SIZE, CO_COUNT, CO_MS };
static const struct ch_opt {
	const char *name;
	enum ch_optkind kind;
	size_t off, size;
} ch_opts[] = {
	{"user", CO_STR, offsetof(struct ch_url, user), CH_NAME_MAX},
	{"password", CO_STR, offsetof(struct ch_url, password), 256},
	{"cluster", CO_NAME, offsetof(struct ch_url, cluster), CH_NAME_MAX},
	{"spool", CO_STR, offsetof(struct ch_url, spool), 4096},
	{"spool_max", CO_SIZE, offsetof(struct ch_url, spool_max), 0},
	{"memory", CO_SIZE, offsetof(struct ch_url, memory), 0},
	{"batch", CO_COUNT, offsetof(struct ch_url, batch), 0},
	{"batch_ms", CO_MS, offsetof(struct ch_url, batch_ms), 0},
	{"timeout", CO_MS, offsetof(struct ch_url, timeout_ms), 0},
	{"compress", CO_NAME, offsetof(struct ch_url, compress), 8},
	{"page", CO_COUNT, offsetof(struct ch_url, page), 0},
	{"state", CO_STR, offsetof(struct ch_url, state), 4096},
};

static int set_opt(struct ch_url *u, char *kv, char *err, size_t errsz)
{
	char *eq = strchr(kv, '=');
	const char *val;

	if (!eq) {
		snprintf(err, errsz, "option '%s' has no value (OPTION=VALUE)", kv);
		return -1;
	}
	*eq = '\0';
	val = eq + 1;
	for (size_t i = 0; i < sizeof(ch_opts) / sizeof(ch_opts[0]); i++) {
		const struct ch_opt *o = &ch_opts[i];
		char *dst = (char *)u + o->off;
		uint64_t *num = (uint64_t *)(void *)dst;
		int64_t v;

		if (strcmp(kv, o->name))
			continue;
		switch (o->kind) {
		case CO_NAME:
			if (!is_name(val))
				goto bad;
			/* fallthrough */
		case CO_STR:
			if (strlen(val) >= o->size)
				goto bad;
			memcpy(dst, val, strlen(val) + 1);
			if (o->kind == CO_STR && pct_decode(dst) < 0)
				goto bad;
			return 0;
		case CO_SIZE:
			if (parse_size(val, num) < 0 || *num == 0 || *num > (UINT64_C(1) << 42))
				goto bad;
			return 0;
		case CO_COUNT:
			if (parse_int64(val, 1, 1000000, &v) < 0) /* seq < 2^20: CH_POS */
				goto bad;
			*num = (uint64_t)v;
			return 0;
		case CO_MS:
			if (parse_duration_ms(val, num) < 0 || *num == 0 || *num > 3600000)
				goto bad;
			return 0;
		}
	bad: /* a password is not shown, even a bad one */
		snprintf(err, errsz, "option '%s': bad value '%s'", kv,
			 strcmp(kv, "password") ? val : CH_HIDDEN);
		return -1;
	}
	snprintf(err, errsz,
		 "unknown option '%s' (user, password, cluster, spool, spool_max, memory, batch, "
		 "batch_ms, timeout, compress, page, state)",
		 kv);
	return -1;
}

/* Appends s[0..n) to buf[*o..], as much as fits before its last byte. */
static void put(char *buf, size_t bufsz, size_t *o, const char *s, size_t n)
{
	if (n > bufsz - 1 - *o)
		n = bufsz - 1 - *o;
	memcpy(buf + *o, s, n);
	*o += n;
}

const char *ch_url_redact(const char *s, char *buf, size_t bufsz)
{
	const char *sep = strstr(s, "://"), *auth, *at = NULL, *colon = NULL, *q, *p;
	size_t o = 0, alen;

	if (!sep || !bufsz)
		return s;
	/* the parts as ch_url_parse finds them: the options after the first '?', USER:PASSWORD
	 * before the last '@' ahead of the first '/', the password after its first ':' */
	auth = sep + 3;
	alen = strcspn(auth, "/?");
	for (p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	if (at)
		colon = memchr(auth, ':', (size_t)(at - auth));
	p = s;
	if (colon) {
		put(buf, bufsz, &o, s, (size_t)(colon + 1 - s));
		put(buf, bufsz, &o, CH_HIDDEN, strlen(CH_HIDDEN));
		p = at;
	}
	q = strchr(auth, '?');
	put(buf, bufsz, &o, p, q ? (size_t)(q + 1 - p) : strlen(p));
	for (p = q ? q + 1 : ""; *p;) {
		size_t n = strcspn(p, "&");

		if (!strncmp(p, "password=", 9) && n >= 9) {
			put(buf, bufsz, &o, p, 9);
			put(buf, bufsz, &o, CH_HIDDEN, strlen(CH_HIDDEN));
		} else {
			put(buf, bufsz, &o, p, n);
		}
		p += n;
		if (*p)
			put(buf, bufsz, &o, p++, 1);
	}
	buf[o] = '\0';
	return buf;
}

int ch_url_parse(const char *url, struct ch_url *u, char *err, size_t errsz)
{
	char buf[8192], *p, *slash, *at, *q, *hp, shown_buf[CH_SHOWN_MAX];
	const char *env, *shown = ch_url_redact(url, shown_buf, sizeof(shown_buf));
	char sub[300];
	size_t n;

	memset(u, 0, sizeof(*u));
	u->port = CH_DEFAULT_PORT;
	u->spool_max = UINT64_C(1) << 30;
	u->memory = UINT64_C(256) << 20;
	u->batch = 100000;
	u->batch_ms = 1000;
	u->timeout_ms = 30000;
	u->page = 20000;
	if (!ch_is_url(url)) {
		snprintf(err, errsz, "'%s': expected clickhouse://HOST:PORT/DATABASE", shown);
		return -1;
	}
	n = strlen(url + strlen(CH_SCHEME));
	if (n >= sizeof(buf)) {
		snprintf(err, errsz, "the URL is too long");
		return -1;
	}
	memcpy(buf, url + strlen(CH_SCHEME), n + 1);
	q = strchr(buf, '?');
	if (q)
		*q++ = '\0';
	slash = strchr(buf, '/');
	if (!slash || !is_name(slash + 1) || strlen(slash + 1) >= CH_NAME_MAX) {
		snprintf(err, errsz,
			 "'%s': expected clickhouse://HOST:PORT/DATABASE (a database name of "
			 "letters, digits and '_')",
			 shown);
		return -1;
	}
	*slash = '\0';
	memcpy(u->db, slash + 1, strlen(slash + 1) + 1);
	hp = buf;
	at = strrchr(buf, '@');
	if (at) {
		char *colon;

		*at = '\0';
		hp = at + 1;
		colon = strchr(buf, ':');
		if (colon) {
			*colon = '\0';
			if (strlen(colon + 1) >= sizeof(u->password))
				goto badauth;
			memcpy(u->password, colon + 1, strlen(colon + 1) + 1);
		}
		if (strlen(buf) >= sizeof(u->user))
			goto badauth;
		memcpy(u->user, buf, strlen(buf) + 1);
		if (pct_decode(u->user) < 0 || pct_decode(u->password) < 0)
			goto badauth;
	}
	{
		int v6;
		const char *why;
		char hostport[300];

		/* a bare host takes the default port */
		if (strlen(hp) + 8 >= sizeof(hostport)) {
			snprintf(err, errsz, "'%s': host too long", shown);
			return -1;
		}
		if (hp[0] == '[' ? !strstr(hp, "]:") : !strchr(hp, ':'))
			snprintf(hostport, sizeof(hostport), "%s:%u", hp, CH_DEFAULT_PORT);
		else
			snprintf(hostport, sizeof(hostport), "%s", hp);
		if (parse_hostport(hostport, u->host, sizeof(u->host), &u->port, &v6, &why) < 0 ||
		    !u->host[0] || !strcmp(u->host, "*")) {
			snprintf(err, errsz, "'%s': bad HOST:PORT '%s'", shown, hp);
			return -1;
		}
	}
	for (p = q; p && *p;) {
		char *amp = strchr(p, '&');

		if (amp)
			*amp = '\0';
		if (set_opt(u, p, err + 0, errsz) < 0) {
			char why[300];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errsz, "'%s': %s", u->host, why);
			return -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	/* on loopback, gzip only costs both ends CPU (docs/scaling.md: Capacity) */
	if (!u->compress[0])
		snprintf(u->compress, sizeof(u->compress), "%s",
			 !strncmp(u->host, "127.", 4) || !strcmp(u->host, "::1") ||
				 !strcmp(u->host, "localhost")
			     ? "none"
			     : "gzip");
	if (strcmp(u->compress, "gzip") && strcmp(u->compress, "none")) {
		snprintf(err, errsz, "'%s': option 'compress': gzip or none, not '%s'", shown,
			 u->compress);
		return -1;
	}
	if (!u->user[0]) {
		env = getenv("HALOG_CLICKHOUSE_USER");
		snprintf(u->user, sizeof(u->user), "%s", env && *env ? env : "default");
	}
	if (!u->password[0] && (env = getenv("HALOG_CLICKHOUSE_PASSWORD")))
		snprintf(u->password, sizeof(u->password), "%s", env);
	snprintf(sub, sizeof(sub), strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host, u->port);
	snprintf(u->text, sizeof(u->text), CH_SCHEME "%s/%s", sub, u->db);
	/* every use of a clickhouse:// URL starts here, so its library is loaded here, once the
	 * URL is known to be right: a mistake in it is told first */
	if (lazylib_load(LAZYLIB_CURL, buf, sizeof(buf)) == -1) {
		snprintf(err, errsz, "ClickHouse needs %s", buf);
		return -1;
	}
	return 0;
badauth:
	snprintf(err, errsz, "'%s': bad USER:PASSWORD before '@'", shown);
	return -1;
}

struct ch_conn {
	struct ch_url u;
	CURL *h;
	char base[320]; /* "http://HOST:PORT/" */
};

struct ch_conn *ch_conn_new(const struct ch_url *u)
{
	struct ch_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->u = *u;
	c->h = curl_easy_init();
	if (!c->h) {
		free(c);
		return NULL;
	}
	/* no ?database=: init creates it, and every statement names its tables in full */
	snprintf(c->base, sizeof(c->base), strchr(u->host, ':') ? "http://[%s]:%u/" : "http://%s:%u/",
		 u->host, u->port);
	return c;
}

void ch_conn_free(struct ch_conn *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->h);
	free(c);
}

const struct ch_url *ch_conn_url(const struct ch_conn *c)
{
	return &c->u;
}

struct sink_ctx {
	struct strbuf *out;
	struct strbuf err; /* the answer of a failed request, capped */
	long status;
	int failed; /* out of memory */
};

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct sink_ctx *k = arg;

	if (k->out && strbuf_add(k->out, p, sz * n) < 0) {
		k->failed = 1;
		return 0;
	}
	if (k->err.len < CH_ERR_MAX)
		strbuf_add(&k->err, p, sz * n < CH_ERR_MAX ? sz * n : CH_ERR_MAX);
	return sz * n;
}

int ch_exec(struct ch_conn *c, const char *sql, const void *body, size_t len, int gzipped,
	    const char *settings, struct strbuf *out, int *sent, char *err, size_t errsz)
{
	struct strbuf url = STRBUF_INIT;
	struct curl_slist *hdr = NULL;
	struct sink_ctx k;
	size_t out0 = out ? out->len : 0;
	CURLcode rc;
	int ret = -1;

	memset(&k, 0, sizeof(k));
	k.out = out;
	strbuf_init(&k.err);
	if (sent)
		*sent = 0;
	/* settings start with '&': the first parameter of the URL is the query or a dummy one */
	if (strbuf_addstr(&url, c->base) < 0 ||
	    strbuf_addstr(&url, body ? "?query=" : "?default_format=TabSeparated") < 0 ||
	    (body && strbuf_add_urlenc(&url, sql) < 0) ||
	    (settings && strbuf_addstr(&url, settings) < 0)) {
		snprintf(err, errsz, "%s: out of memory", c->u.text);
		goto out;
	}
	if (!body) {
		body = sql;
		len = strlen(sql);
		gzipped = 0;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
	hdr = curl_slist_append(hdr, "Expect:");
	if (gzipped)
		hdr = curl_slist_append(hdr, "Content-Encoding: gzip");
	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_URL, url.buf);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c->h, CURLOPT_POST, 1L);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)c->u.timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c->h, CURLOPT_USERNAME, c->u.user);
	curl_easy_setopt(c->h, CURLOPT_PASSWORD, c->u.password);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http");
	rc = curl_easy_perform(c->h);
	if (rc != CURLE_OK) {
		if (sent)
			*sent = rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST;
		snprintf(err, errsz, "%s: %s", c->u.text,
			 k.failed ? "out of memory" : curl_easy_strerror(rc));
		goto out;
	}
	if (sent)
		*sent = 1;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &k.status);
	if (k.status != 200) {
		char *nl = memchr(k.err.buf, '\n', k.err.len);

		if (nl)
			strbuf_setlen(&k.err, (size_t)(nl - k.err.buf));
		snprintf(err, errsz, "%s: HTTP %ld: %s", c->u.text, k.status, k.err.buf);
		if (out)
			strbuf_setlen(out, out0);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hdr);
	strbuf_release(&url);
	strbuf_release(&k.err);
	return ret;
}

int ch_gzip(const void *src, size_t len, struct strbuf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if (strbuf_grow(out, deflateBound(&z, (uLong)len) + 16) < 0) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)src;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->buf + out->len;
	z.avail_out = (uInt)(out->alloc - out->len - 1);
	rc = deflate(&z, Z_FINISH);
	if (rc == Z_STREAM_END) {
		out->len += z.total_out; /* written in place, inside the grown allocation */
		out->buf[out->len] = '\0';
	}
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

int ch_server_version(struct ch_conn *c, int *version, char *err, size_t errsz)
{
	struct strbuf out = STRBUF_INIT;
	unsigned maj = 0, min = 0;
	int ret = -1;

	if (ch_exec(c, "SELECT version()", NULL, 0, 0, NULL, &out, NULL, err, errsz) < 0)
		goto out;
	if (sscanf(out.buf, "%u.%u", &maj, &min) != 2) {
		snprintf(err, errsz, "%s: unexpected version '%.40s'", c->u.text, out.buf);
		goto out;
	}
	*version = (int)(maj * 1000 + min);
	ret = 0;
out:
	strbuf_release(&out);
	return ret;
}
