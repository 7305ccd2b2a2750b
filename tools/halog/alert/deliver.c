/* Webhook delivery with libcurl's multi interface (see deliver.h). */
#include "alert/deliver.h"

#include "lazylib.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "json.h"
#include "store/state.h"
#include "store/store.h"
#include "strbuf.h"

#define DELIVER_POLL_MS 1000	  /* the outbox is read at least this often */
#define DELIVER_RESPONSE_KEEP 200 /* bytes of an error answer kept for the log */
#define DELIVER_RETRY_AFTER_MAX_S 3600

int64_t deliver_backoff_ms(int64_t failures, uint32_t rnd)
{
	int64_t base = DELIVER_BACKOFF_MS;

	for (int64_t i = 1; i < failures && base < DELIVER_BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > DELIVER_BACKOFF_MAX_MS)
		base = DELIVER_BACKOFF_MAX_MS;
	return base - (int64_t)(rnd % (uint32_t)(base / 2 + 1));
}

int deliver_verdict(int curl_rc, long http_status)
{
	if (curl_rc != 0)
		return 1;
	if (http_status >= 200 && http_status < 300)
		return 0;
	if (http_status >= 500 || http_status == 408 || http_status == 425 || http_status == 429 ||
	    http_status < 100)
		return 1;
	return 2;
}

struct flight {
	CURL *h;
	int64_t id;	  /* the delivery's row */
	int64_t attempts; /* made before this one */
	int64_t created_ms;
	int64_t started; /* monotonic ms, for the attempt's duration */
	struct curl_slist *hdrs;
	char *body;
	struct strbuf resp; /* the first bytes of the answer */
	char errbuf[CURL_ERROR_SIZE];
};

struct deliverer {
	pthread_t thr;
	struct store *st;
	CURLM *multi;
	atomic_int stop;
	atomic_llong deadline; /* after stop: abort what is still in flight at this monotonic
				  ms time */
	struct flight fl[DELIVER_PARALLEL];
	uint32_t rnd;
};

static uint32_t next_rnd(struct deliverer *d)
{
	/* xorshift32: jitter needs spread, not secrecy */
	uint32_t x = d->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return d->rnd = x ? x : 0x9e3779b9u;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct flight *f = arg;
	size_t len = size * n,
	       room = f->resp.len < DELIVER_RESPONSE_KEEP ? DELIVER_RESPONSE_KEEP - f->resp.len : 0;

	strbuf_add(&f->resp, p, len < room ? len : room);
	return len;
}

static void flight_release(struct deliverer *d, struct flight *f)
{
	if (f->h) {
		curl_multi_remove_handle(d->multi, f->h);
		curl_easy_cleanup(f->h);
	}
	curl_slist_free_all(f->hdrs);
	free(f->body);
	strbuf_release(&f->resp);
	memset(f, 0, sizeof(*f));
}

static int in_flight(const struct deliverer *d, int64_t id)
{
	for (size_t i = 0; i < DELIVER_PARALLEL; i++)
		if (d->fl[i].h && d->fl[i].id == id)
			return 1;
	return 0;
}

/* Starts one attempt of dv in slot f. Returns 0, or -1 (the delivery stays pending). */
static int start(struct deliverer *d, struct flight *f, struct store_delivery *dv)
{
	struct strbuf h = STRBUF_INIT;
	struct curl_slist *l;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	strbuf_init(&f->resp);
	f->id = dv->id;
	f->attempts = dv->attempts;
	f->created_ms = dv->created_ms;
	f->started = clock_mono_ms();
	f->body = dv->payload;
	dv->payload = NULL;
	if (!(f->h = curl_easy_init()))
		goto out;
	l = curl_slist_append(NULL, "Content-Type: application/json");
	if (l)
		f->hdrs = l;
	strbuf_addf(&h, "Idempotency-Key: %s", dv->key);
	if (l && (l = curl_slist_append(f->hdrs, h.buf)))
		f->hdrs = l;
	strbuf_reset(&h);
	strbuf_addf(&h, "X-Halog-Alert: %s", dv->alert);
	if (l && (l = curl_slist_append(f->hdrs, h.buf)))
		f->hdrs = l;
	/* no "Expect: 100-continue" round trip: the bodies are small */
	if (l && (l = curl_slist_append(f->hdrs, "Expect:")))
		f->hdrs = l;
	if (!l)
		goto out;
	if (curl_easy_setopt(f->h, CURLOPT_URL, dv->webhook) ||
	    curl_easy_setopt(f->h, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L) ||
	    /* one connection per attempt: a reset is this attempt's failure, not a silent
	     * retry of a reused connection by libcurl; alerts are too rare for reuse to matter */
	    curl_easy_setopt(f->h, CURLOPT_FRESH_CONNECT, 1L) ||
	    curl_easy_setopt(f->h, CURLOPT_FORBID_REUSE, 1L) ||
	    curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->hdrs) ||
	    curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, f->body) ||
	    curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)dv->payload_len) ||
	    curl_easy_setopt(f->h, CURLOPT_USERAGENT, "halog/" HAGEN_VERSION) ||
	    curl_easy_setopt(f->h, CURLOPT_TIMEOUT_MS, (long)dv->timeout_ms) ||
	    curl_easy_setopt(f->h, CURLOPT_CONNECTTIMEOUT_MS,
			     (long)(dv->timeout_ms < 5000 ? dv->timeout_ms : 5000)) ||
	    curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_data) ||
	    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f) ||
	    curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->errbuf) ||
	    curl_easy_setopt(f->h, CURLOPT_PRIVATE, f) ||
	    curl_multi_add_handle(d->multi, f->h) != CURLM_OK)
		goto out;
	rc = 0;
out:
	strbuf_release(&h);
	if (rc)
		flight_release(d, f);
	return rc;
}

/* Records the outcome of the finished attempt in f, then frees the slot. */
static void finish(struct deliverer *d, struct flight *f, CURLcode res)
{
	long status = 0;
	curl_off_t retry_after = 0;
	int64_t t = clock_wall_ms(), next = 0;
	struct strbuf why = STRBUF_INIT;
	int v, state;

	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(f->h, CURLINFO_RETRY_AFTER, &retry_after);
	v = deliver_verdict((int)res, res == CURLE_OK ? status : 0);
	if (res != CURLE_OK) {
		strbuf_addstr(&why, f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
		status = 0;
	} else if (v) {
		strbuf_addf(&why, "HTTP %ld", status);
		if (f->resp.len) {
			strbuf_addstr(&why, ": ");
			text_add_visible(&why, f->resp.buf, f->resp.len);
		}
	}
	if (v == 0) {
		state = STORE_DELIVERY_DONE;
	} else if (v == 2) {
		state = STORE_DELIVERY_FAILED;
		strbuf_addstr(&why, " (refused: not retried)");
	} else if (t - f->created_ms >= DELIVER_GIVE_UP_MS) {
		state = STORE_DELIVERY_FAILED;
		strbuf_addstr(&why, " (retried for 24 h: given up)");
	} else {
		state = STORE_DELIVERY_PENDING;
		next = t + deliver_backoff_ms(f->attempts + 1, next_rnd(d));
		if (retry_after > 0) {
			if (retry_after > DELIVER_RETRY_AFTER_MAX_S)
				retry_after = DELIVER_RETRY_AFTER_MAX_S;
			if (t + (int64_t)retry_after * 1000 > next)
				next = t + (int64_t)retry_after * 1000;
		}
	}
	if (store_delivery_result(d->st, f->id, state, next, status, clock_mono_ms() - f->started,
				  why.len ? why.buf : NULL, t) < 0)
		fprintf(stderr, "halog listen: alert delivery: %s\n", store_errmsg(d->st));
	strbuf_release(&why);
	flight_release(d, f);
}

/* Starts what is due, as far as slots allow. Returns the time of the next due delivery. */
static int64_t start_due(struct deliverer *d)
{
	struct store_delivery *due = NULL;
	size_t n = 0, busy = 0, k = 0;
	int64_t next = INT64_MAX, t = clock_wall_ms();

	for (size_t i = 0; i < DELIVER_PARALLEL; i++)
		busy += d->fl[i].h != NULL;
	if (busy == DELIVER_PARALLEL)
		return t + DELIVER_POLL_MS;
	if (store_delivery_due(d->st, t, DELIVER_PARALLEL + busy, &due, &n, &next) < 0) {
		fprintf(stderr, "halog listen: alert delivery: %s\n", store_errmsg(d->st));
		return t + DELIVER_POLL_MS;
	}
	for (size_t i = 0; i < n; i++) {
		if (in_flight(d, due[i].id))
			continue;
		while (k < DELIVER_PARALLEL && d->fl[k].h)
			k++;
		if (k == DELIVER_PARALLEL) {
			next = t; /* more are due than slots */
			break;
		}
		if (start(d, &d->fl[k], &due[i]) &&
		    store_delivery_result(d->st, due[i].id, STORE_DELIVERY_PENDING,
					  t + deliver_backoff_ms(due[i].attempts + 1, next_rnd(d)),
					  0, 0, "cannot start the request (out of memory?)", t) < 0)
			fprintf(stderr, "halog listen: alert delivery: %s\n", store_errmsg(d->st));
	}
	store_delivery_free(due, n);
	return next;
}

static void *deliverer_main(void *arg)
{
	struct deliverer *d = arg;

	for (;;) {
		int running = 0, left, busy = 0;
		int64_t t, next = INT64_MAX, wait;
		CURLMsg *m;

		if (!atomic_load(&d->stop))
			next = start_due(d);
		curl_multi_perform(d->multi, &running);
		while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
			struct flight *f = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
			if (f)
				finish(d, f, m->data.result);
		}
		for (size_t i = 0; i < DELIVER_PARALLEL; i++)
			busy += d->fl[i].h != NULL;
		if (atomic_load(&d->stop) &&
		    (!busy || clock_mono_ms() >= atomic_load(&d->deadline)))
			break;
		t = clock_wall_ms();
		wait = next == INT64_MAX ? DELIVER_POLL_MS : next - t;
		if (wait > DELIVER_POLL_MS)
			wait = DELIVER_POLL_MS;
		if (wait < 0)
			wait = 0;
		if (atomic_load(&d->stop) && wait > 50)
			wait = 50;
		curl_multi_poll(d->multi, NULL, 0, (int)wait, NULL);
	}
	/* what is left in flight stays pending in the store: the next start sends it again */
	for (size_t i = 0; i < DELIVER_PARALLEL; i++)
		if (d->fl[i].h)
			flight_release(d, &d->fl[i]);
	return NULL;
}

struct deliverer *deliverer_start(const char *db, char *err, size_t errsz)
{
	struct deliverer *d = calloc(1, sizeof(*d));
	char why[512];

	if (!d) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (getrandom(&d->rnd, sizeof(d->rnd), GRND_NONBLOCK) != (ssize_t)sizeof(d->rnd) || !d->rnd)
		d->rnd = (uint32_t)clock_wall_ms() | 1u;
	if (!(d->st = store_state_open(db, 0, err, errsz)))
		goto fail;
	if (lazylib_load(LAZYLIB_CURL, why, sizeof(why)) == -1) {
		snprintf(err, errsz, "alert delivery needs %s", why);
		goto fail;
	}
	if (!(d->multi = curl_multi_init())) {
		snprintf(err, errsz, "cannot start libcurl");
		goto fail;
	}
	if (pthread_create(&d->thr, NULL, deliverer_main, d)) {
		snprintf(err, errsz, "cannot start the delivery thread");
		goto fail;
	}
	return d;
fail:
	if (d->multi)
		curl_multi_cleanup(d->multi);
	store_close(d->st);
	free(d);
	return NULL;
}

void deliverer_poke(struct deliverer *d)
{
	if (d)
		curl_multi_wakeup(d->multi);
}

void deliverer_stop(struct deliverer *d, int64_t grace_ms)
{
	if (!d)
		return;
	atomic_store(&d->deadline, clock_mono_ms() + grace_ms);
	atomic_store(&d->stop, 1);
	curl_multi_wakeup(d->multi);
	pthread_join(d->thr, NULL);
	curl_multi_cleanup(d->multi);
	store_close(d->st);
	free(d);
}
