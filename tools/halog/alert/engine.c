/* The evaluator thread of the alert engine (see engine.h). */
#include "alert/engine.h"

#include "lazylib.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/deliver.h"
#include "clock.h"
#include "alert/eval.h"
#include "report/report.h"
#include "store/chhttp.h"
#include "store/read.h"
#include "store/state.h"
#include "store/store.h"
#include "strbuf.h"

#define ENGINE_WAIT_MS 200 /* between looks at the watermark while a window is due */
#define ALERT_ENGINE_LAST_PASS                                                                     \
	100 /* windows per alert evaluated when stopping; the rest wait                            \
	       in the store for the next start */

struct alert_engine {
	pthread_t thr;
	struct store *st;	 /* the state area (store/state.h) */
	struct store_reader *rd; /* the lines; NULL while ClickHouse cannot be reached */
	char *db;		 /* what rd reads */
	int rd_failing;		 /* the last open of rd failed (said once) */
	struct deliverer *dv;
	const atomic_llong *watermark;
	const char *prog;
	char host[256];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stop;
};

/* The evaluation of one window of a, written to the store. Returns 0 when the alert moved to
 * its next window, 1 when another writer moved it first (reload), -1 on a store error. */
static int eval_window(struct alert_engine *e, struct store_alert *a, const char *serve_url)
{
	struct store_alert_eval ev;
	struct alert_def d;
	struct alert_result res;
	struct strbuf key = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT;
	char err[1024], from_s[40];
	int64_t from = a->next_ms, to = a->next_ms + a->every_ms;
	struct store_pos first = {a->cursor_id}, end;
	int rc = -1, have_def = 0, have_res = 0;

	memset(&ev, 0, sizeof(ev));
	/* the first window of a new alert starts after the lines received before it */
	if (!strcmp(a->status, "new") && alert_window_end(e->rd, first, from, &first))
		goto reader_error;
	if (alert_window_end(e->rd, first, to, &end))
		goto reader_error;
	ev.name = a->name;
	ev.id = a->id;
	ev.from_ms = from;
	ev.to_ms = to;
	ev.cursor_id = end.v;
	ev.now_ms = clock_wall_ms();
	ev.status = "error";
	ev.detail = err;
	if (!alert_def_compile(e->st, a, &d, err, sizeof(err)))
		have_def = 1;
	if (have_def && !alert_eval(e->rd, &d, from, to, first, end, &res, err, sizeof(err))) {
		have_res = 1;
		ev.value = res.value == res.value ? res.value : 0;
		ev.status = res.firing ? "firing" : "ok";
		ev.detail = res.detail.buf;
		ev.fire = res.firing && (a->last_fired_ms == STORE_ALERT_NONE ||
					 to >= a->last_fired_ms + a->cooldown_ms);
		if (ev.fire) {
			if (alert_key(&d, from, &key) ||
			    alert_payload(&d, &res, key.buf, "firing", serve_url, e->host, &body)) {
				snprintf(err, sizeof(err), "out of memory");
				ev.status = "error";
				ev.detail = err;
				ev.fire = 0;
			}
			ev.key = key.buf;
			ev.webhook = a->webhook;
			ev.format = a->format;
			ev.timeout_ms = a->timeout_ms;
			ev.payload = body.buf;
			ev.payload_len = body.len;
		}
	}
	rc = store_alert_record(e->st, &ev);
	if (rc < 0)
		goto store_error;
	if (rc == 0) {
		report_fmt_time(from, from_s, sizeof(from_s));
		if (ev.fire)
			fprintf(stderr, "%s: alert %s fired: %s (window %s, %lld s)\n", e->prog,
				a->name, ev.detail, from_s, (long long)(a->every_ms / 1000));
		else if (!strcmp(ev.status, "error"))
			fprintf(stderr, "%s: alert %s: cannot evaluate the window %s: %s\n",
				e->prog, a->name, from_s, ev.detail);
		if (ev.fire)
			deliverer_poke(e->dv);
		/* the copy in memory follows the store */
		a->next_ms = to;
		a->cursor_id = end.v;
		if (ev.fire)
			a->last_fired_ms = to;
		free(a->status);
		a->status = strdup(ev.status);
		if (!a->status)
			rc = -1;
	}
	goto out;
reader_error:
	fprintf(stderr, "%s: alerts: %s\n", e->prog, store_reader_errmsg(e->rd));
	rc = -1;
	goto out;
store_error:
	fprintf(stderr, "%s: alerts: %s\n", e->prog, store_errmsg(e->st));
	rc = -1;
out:
	if (have_res)
		alert_result_release(&res);
	if (have_def)
		alert_def_release(&d);
	strbuf_release(&key);
	strbuf_release(&body);
	strbuf_release(&why);
	return rc;
}

/* Opens the reader when it is not open: ClickHouse may be down when the listener starts, or
 * its tables not made yet. Returns 0, or -1 (said once per failing streak). */
static int open_reader(struct alert_engine *e)
{
	char err[1024];

	if (e->rd)
		return 0;
	if (!(e->rd = store_reader_open(e->db, err, sizeof(err)))) {
		if (!e->rd_failing)
			fprintf(stderr, "%s: alerts wait for the store: %s\n", e->prog, err);
		e->rd_failing = 1;
		return -1;
	}
	if (e->rd_failing)
		fprintf(stderr, "%s: alerts: reading the store again\n", e->prog);
	e->rd_failing = 0;
	return 0;
}

/* One pass over every alert: evaluates each window that closed before the watermark, at most
 * max per alert. Returns the earliest end of a window not evaluated yet (INT64_MAX when there
 * are no alerts). */
static int64_t pass(struct alert_engine *e, int max)
{
	struct store_alert *all = NULL;
	size_t n = 0;
	int64_t wm = atomic_load(e->watermark), earliest = INT64_MAX;
	char *serve_url;

	if (store_alert_list(e->st, &all, &n) < 0) {
		fprintf(stderr, "%s: alerts: %s\n", e->prog, store_errmsg(e->st));
		return clock_wall_ms() + ALERT_ENGINE_RELOAD_MS;
	}
	if (n && open_reader(e) < 0) { /* no alert, no need to read: nothing to say */
		store_alert_free(all, n);
		return clock_wall_ms() + ALERT_ENGINE_RELOAD_MS;
	}
	serve_url = n ? store_meta_get(e->st, "serve.url") : NULL;
	for (size_t i = 0; i < n; i++) {
		struct store_alert *a = &all[i];

		for (int k = 0; k < max && a->next_ms + a->every_ms <= wm; k++)
			if ((k && max > ALERT_ENGINE_LAST_PASS && atomic_load(&e->stop)) ||
			    eval_window(e, a, serve_url))
				break; /* moved elsewhere, or a store error: next pass */
		if (a->next_ms + a->every_ms < earliest)
			earliest = a->next_ms + a->every_ms;
	}
	free(serve_url);
	store_alert_free(all, n);
	return earliest;
}

static void *engine_main(void *arg)
{
	struct alert_engine *e = arg;

	for (;;) {
		int64_t next = pass(e, ALERT_ENGINE_CATCH_UP), t = clock_wall_ms(), wait;
		struct timespec ts;

		pthread_mutex_lock(&e->mu);
		if (atomic_load(&e->stop)) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		/* a due window waits for the watermark; otherwise sleep until the next one ends,
		 * looking for new alerts now and then */
		wait = next <= t ? ENGINE_WAIT_MS : next - t;
		if (wait > ALERT_ENGINE_RELOAD_MS)
			wait = ALERT_ENGINE_RELOAD_MS;
		clock_cond_deadline(&ts, wait);
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
		pthread_mutex_unlock(&e->mu);
	}
	pass(e, ALERT_ENGINE_LAST_PASS); /* the windows the final watermark closed */
	return NULL;
}

struct alert_engine *alert_engine_start(const char *db, const atomic_llong *watermark,
					const char *prog, char *err, size_t errsz)
{
	struct alert_engine *e = calloc(1, sizeof(*e));
	char why[512];

	if (!e) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	e->watermark = watermark;
	e->prog = prog;
	if (gethostname(e->host, sizeof(e->host) - 1))
		e->host[0] = '\0';
	/* before any thread uses libcurl */
	if (lazylib_curl_init(why, sizeof(why)) == -1) {
		snprintf(err, errsz, "the alert engine %s", why);
		free(e);
		return NULL;
	}
	if (!(e->st = store_state_open(db, 0, err, errsz)))
		goto fail;
	if (!(e->db = strdup(db))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	/* over ClickHouse, a reader that cannot open now is opened again at each pass */
	if (!ch_is_url(db) && !(e->rd = store_reader_open(db, err, errsz)))
		goto fail;
	if (!(e->dv = deliverer_start(db, err, errsz)))
		goto fail;
	pthread_mutex_init(&e->mu, NULL);
	clock_cond_init(&e->cv);
	if (pthread_create(&e->thr, NULL, engine_main, e)) {
		snprintf(err, errsz, "cannot start the alert thread");
		pthread_cond_destroy(&e->cv);
		pthread_mutex_destroy(&e->mu);
		goto fail;
	}
	return e;
fail:
	deliverer_stop(e->dv, 0);
	store_reader_close(e->rd);
	store_close(e->st);
	curl_global_cleanup();
	free(e->db);
	free(e);
	return NULL;
}

void alert_engine_stop(struct alert_engine *e, int64_t grace_ms)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	atomic_store(&e->stop, 1);
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thr, NULL);
	deliverer_stop(e->dv, grace_ms);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	store_reader_close(e->rd);
	store_close(e->st);
	curl_global_cleanup();
	free(e->db);
	free(e);
}
