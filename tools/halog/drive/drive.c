/* The load generator behind `halog drive`; see drive.h. One thread, libcurl's multi interface,
 * a fixed pool of easy handles reused for every request. */
#include "drive/drive.h"

#include "lazylib.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"

#define DRIVE_BODY_KEEP 128 /* bytes of each body kept to find the server name */

struct drive_slot {
	CURL *h;
	char url[DRIVE_URL_MAX];
	char xserver[DRIVE_NAME_MAX + 1]; /* from the X-Server header, "" when absent */
	char body[DRIVE_BODY_KEEP + 1];
	size_t blen;
};

static int bad_char(const char *s, int allow_space)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (c == ' ' && !allow_space))
			return 1;
	}
	return 0;
}

int drive_check_opts(const struct drive_opts *o, char *err, size_t errsz)
{
	size_t ulen;

	if (!o->url || (strncasecmp(o->url, "http://", 7) && strncasecmp(o->url, "https://", 8))) {
		snprintf(err, errsz, "URL must start with http:// or https://");
		return -1;
	}
	ulen = strlen(o->url);
	if (ulen > DRIVE_URL_MAX / 2 || bad_char(o->url, 0)) {
		snprintf(err, errsz, "URL is too long or holds spaces or control characters");
		return -1;
	}
	for (size_t i = 0; i < o->npaths; i++) {
		const char *p = o->paths[i];

		if (p[0] != '/' || strlen(p) > DRIVE_URL_MAX / 2 - 1 || bad_char(p, 0)) {
			snprintf(err, errsz,
				 "path '%s' must start with '/', hold no spaces or control "
				 "characters, and be at most %d bytes",
				 p, DRIVE_URL_MAX / 2 - 1);
			return -1;
		}
	}
	for (size_t i = 0; i < o->nheaders; i++) {
		const char *h = o->headers[i], *colon = strchr(h, ':');

		if (!colon || colon == h || bad_char(h, 1) || strlen(h) > 8192) {
			snprintf(err, errsz, "header '%s' must read 'Name: value' on one line", h);
			return -1;
		}
	}
	if (o->n < 1 || o->n > DRIVE_MAX_N) {
		snprintf(err, errsz, "request count must be 1..%ld", DRIVE_MAX_N);
		return -1;
	}
	if (o->concurrency < 1 || o->concurrency > DRIVE_MAX_C) {
		snprintf(err, errsz, "concurrency must be 1..%ld", DRIVE_MAX_C);
		return -1;
	}
	if (!(o->rate >= 0 && o->rate <= 1e6)) {
		snprintf(err, errsz, "rate must be 0..1000000 requests per second");
		return -1;
	}
	if (o->timeout_ms < 1) {
		snprintf(err, errsz, "timeout must be positive");
		return -1;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct drive_slot *s = arg;
	size_t len = size * nmemb, room = DRIVE_BODY_KEEP - s->blen;

	if (room > 0) {
		size_t take = len < room ? len : room;

		memcpy(s->body + s->blen, data, take);
		s->blen += take;
		s->body[s->blen] = '\0';
	}
	return len;
}

/* Copies the name in p[0..len), trimmed of blanks and stopped at a control byte, into out. */
static void copy_name(char *out, const char *p, size_t len)
{
	size_t n = 0;

	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (n < len && n < DRIVE_NAME_MAX && (unsigned char)p[n] >= 0x20 && p[n] != 0x7f)
		n++;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	memcpy(out, p, n);
	out[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct drive_slot *s = arg;
	size_t len = size * nmemb;

	/* a new status line (after a redirect or 100-continue) resets what the last one said */
	if (len >= 5 && !memcmp(data, "HTTP/", 5))
		s->xserver[0] = '\0';
	else if (len > 9 && !strncasecmp(data, "x-server:", 9))
		copy_name(s->xserver, data + 9, len - 9);
	return len;
}

static int slot_setup(struct drive_slot *s, const struct drive_opts *o, struct curl_slist *hdrs,
		      long seq)
{
	const char *path = o->npaths ? o->paths[(size_t)seq % o->npaths] : "";
	size_t blen = strlen(o->url);

	if (o->npaths && blen > 0 && o->url[blen - 1] == '/')
		blen--;
	snprintf(s->url, sizeof(s->url), "%.*s%s", (int)blen, o->url, path);
	s->xserver[0] = '\0';
	s->body[0] = '\0';
	s->blen = 0;
	if (curl_easy_setopt(s->h, CURLOPT_URL, s->url) != CURLE_OK)
		return -1;
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_USERAGENT, "halog-drive/" HAGEN_VERSION);
	curl_easy_setopt(s->h, CURLOPT_FORBID_REUSE, o->fresh_conn ? 1L : 0L);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
	return 0;
}

static struct drive_server *server_of(struct drive_stats *st, const char *name)
{
	struct drive_server *ns;

	for (size_t i = 0; i < st->nservers; i++)
		if (!strcmp(st->servers[i].name, name))
			return &st->servers[i];
	/* the last slot is kept for "(other)": a new name beyond the others goes there, never
	 * onto a server that has a name of its own */
	if (st->nservers >= DRIVE_MAX_SERVERS - 1 && strcmp(name, "(other)"))
		return server_of(st, "(other)");
	if (st->nservers >= DRIVE_MAX_SERVERS)
		return NULL;
	ns = realloc(st->servers, (st->nservers + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	st->servers = ns;
	ns = &st->servers[st->nservers];
	ns->name = strdup(name);
	if (!ns->name)
		return NULL;
	ns->n = ns->ok = 0;
	st->nservers++;
	return ns;
}

static void tally(struct drive_stats *st, struct drive_slot *s, CURLcode res)
{
	long code = 0;
	curl_off_t us = 0;

	st->sent++;
	if (res == CURLE_OK)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 100 || code > 599)
		code = 0;
	st->by_status[code]++;
	if (code == 0) {
		size_t i;

		st->failed++;
		for (i = 0; i < st->nerrs && st->errs[i].code != (int)res; i++)
			;
		if (i == st->nerrs) {
			struct drive_curl_err *ne =
				realloc(st->errs, (st->nerrs + 1) * sizeof(*ne));

			if (!ne)
				return;
			st->errs = ne;
			st->errs[st->nerrs].code = (int)res;
			st->errs[st->nerrs].n = 0;
			st->nerrs++;
		}
		st->errs[i].n++;
		return;
	}
	{
		char name[DRIVE_NAME_MAX + 1];
		struct drive_server *srv;
		int good = code < 400;

		st->answered++;
		if (good)
			st->ok++;
		else
			st->failed++;
		/* a body names the server only on a 2xx answer: error pages are HAProxy's own */
		if (s->xserver[0])
			snprintf(name, sizeof(name), "%s", s->xserver);
		else if (code >= 200 && code < 300 && s->blen > 0)
			copy_name(name, s->body, strcspn(s->body, "\r\n"));
		else
			name[0] = '\0';
		if (!name[0])
			snprintf(name, sizeof(name), "-");
		srv = server_of(st, name);
		if (srv) {
			srv->n++;
			srv->ok += good;
		}
		curl_easy_getinfo(s->h, CURLINFO_TOTAL_TIME_T, &us);
		st->lat_us[st->nlat++] = (int32_t)(us > INT32_MAX ? INT32_MAX : us);
	}
}

static int cmp_server(const void *a, const void *b)
{
	return strcmp(((const struct drive_server *)a)->name,
		      ((const struct drive_server *)b)->name);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

int drive_run(const struct drive_opts *o, struct drive_stats *st, char *err, size_t errsz)
{
	struct drive_slot *slots = NULL;
	struct curl_slist *hdrs = NULL;
	CURLM *m = NULL;
	struct drive_slot **freelist = NULL;
	long next = 0, nfree = 0, nslots;
	int64_t start;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (drive_check_opts(o, err, errsz) == -1)
		return -1;
	if (lazylib_curl_init(err, errsz) == -1)
		return -1;
	nslots = o->concurrency < o->n ? o->concurrency : o->n;
	st->lat_us = malloc((size_t)o->n * sizeof(*st->lat_us));
	slots = calloc((size_t)nslots, sizeof(*slots));
	m = curl_multi_init();
	if (!st->lat_us || !slots || !m) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < o->nheaders; i++) {
		struct curl_slist *nh = curl_slist_append(hdrs, o->headers[i]);

		if (!nh) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
		hdrs = nh;
	}
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, nslots);
	freelist = malloc((size_t)nslots * sizeof(*freelist));
	if (!freelist) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	for (long i = 0; i < nslots; i++) {
		slots[i].h = curl_easy_init();
		if (!slots[i].h) {
			snprintf(err, errsz, "cannot initialise a libcurl handle");
			goto out;
		}
		freelist[nfree++] = &slots[i];
	}
	st->start_ms = clock_wall_ms();
	start = clock_mono_us();
	while (next < o->n || nfree < nslots) {
		int running = 0, left = 0, wait_ms = 100;
		CURLMsg *msg;

		/* start what the concurrency and the rate allow */
		while (next < o->n && nfree > 0) {
			struct drive_slot *s;

			if (o->rate > 0) {
				int64_t due = start + (int64_t)((double)next * 1e6 / o->rate),
					now = clock_mono_us();

				if (now < due) {
					if ((due - now) / 1000 < wait_ms)
						wait_ms = (int)((due - now) / 1000) + 1;
					break;
				}
			}
			s = freelist[--nfree];
			if (slot_setup(s, o, hdrs, next) == -1 ||
			    curl_multi_add_handle(m, s->h) != CURLM_OK) {
				snprintf(err, errsz, "cannot set up request %ld (%s)", next,
					 s->url);
				goto out;
			}
			next++;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			snprintf(err, errsz, "libcurl multi interface failed");
			goto out;
		}
		while ((msg = curl_multi_info_read(m, &left))) {
			struct drive_slot *s = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			tally(st, s, msg->data.result);
			curl_multi_remove_handle(m, s->h);
			freelist[nfree++] = s;
			wait_ms = 0;
		}
		if (wait_ms > 0 && curl_multi_poll(m, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			snprintf(err, errsz, "libcurl multi interface failed");
			goto out;
		}
	}
	st->end_ms = clock_wall_ms();
	if (st->nlat)
		qsort(st->lat_us, st->nlat, sizeof(*st->lat_us), cmp_i32);
	if (st->nservers)
		qsort(st->servers, st->nservers, sizeof(*st->servers), cmp_server);
	rc = 0;
out:
	if (slots) {
		for (long i = 0; i < nslots; i++) {
			if (!slots[i].h)
				continue;
			curl_multi_remove_handle(m, slots[i].h);
			curl_easy_cleanup(slots[i].h);
		}
	}
	free(slots);
	free(freelist);
	if (m)
		curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	curl_global_cleanup();
	return rc;
}

void drive_stats_release(struct drive_stats *st)
{
	for (size_t i = 0; i < st->nservers; i++)
		free(st->servers[i].name);
	free(st->servers);
	free(st->errs);
	free(st->lat_us);
	memset(st, 0, sizeof(*st));
}

int32_t drive_percentile(const struct drive_stats *st, double p)
{
	size_t rank;

	if (st->nlat == 0 || !(p > 0 && p <= 100))
		return -1;
	rank = (size_t)ceil(p / 100.0 * (double)st->nlat);
	if (rank < 1)
		rank = 1;
	return st->lat_us[rank - 1];
}

void drive_weights_free(struct drive_weight *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].name);
	free(w);
}

int drive_parse_weights(const char *spec, struct drive_weight **out, char *err, size_t errsz)
{
	struct drive_weight *w = NULL;
	size_t n = 0;
	const char *p = spec;

	*out = NULL;
	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char num[32], *numend;
		struct drive_weight *nw;
		double v;
		size_t nlen, vlen;

		if (!eq || eq == p || (nlen = (size_t)(eq - p)) > DRIVE_NAME_MAX) {
			snprintf(err, errsz, "weights: '%.*s' is not NAME=WEIGHT", (int)(end - p),
				 p);
			goto bad;
		}
		vlen = (size_t)(end - eq - 1);
		if (vlen == 0 || vlen >= sizeof(num)) {
			snprintf(err, errsz, "weights: bad weight for '%.*s'", (int)nlen, p);
			goto bad;
		}
		memcpy(num, eq + 1, vlen);
		num[vlen] = '\0';
		errno = 0;
		v = strtod(num, &numend);
		if (errno || *numend || !(v > 0 && v <= 256)) {
			snprintf(err, errsz, "weights: weight '%s' of '%.*s' must be in (0, 256]",
				 num, (int)nlen, p);
			goto bad;
		}
		for (size_t i = 0; i < n; i++)
			if (strlen(w[i].name) == nlen && !memcmp(w[i].name, p, nlen)) {
				snprintf(err, errsz, "weights: '%.*s' is listed twice", (int)nlen,
					 p);
				goto bad;
			}
		if (n >= DRIVE_MAX_SERVERS) {
			snprintf(err, errsz, "weights: more than %d servers", DRIVE_MAX_SERVERS);
			goto bad;
		}
		nw = realloc(w, (n + 1) * sizeof(*w));
		if (!nw)
			goto oom;
		w = nw;
		w[n].name = strndup(p, nlen);
		if (!w[n].name)
			goto oom;
		w[n].weight = v;
		n++;
		p = comma ? comma + 1 : end;
		if (comma && !*p) {
			snprintf(err, errsz, "weights: trailing ','");
			goto bad;
		}
	}
	if (n == 0) {
		snprintf(err, errsz, "weights: empty list");
		goto bad;
	}
	*out = w;
	return (int)n;
oom:
	snprintf(err, errsz, "out of memory");
bad:
	drive_weights_free(w, n);
	return -1;
}
