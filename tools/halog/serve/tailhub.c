/* The live tail of halog serve; see tailhub.h. Streams are grouped by (query, position): each
 * group costs one read per step however many streams share it, and streams that start at
 * different positions converge on the same one after their first step. Positions are the store's
 * (store_pos): a stream's `from` is where its next step starts. */
#include "serve/tailhub.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "diag.h"
#include "json.h"
#include "parse.h"
#include "query/query.h"
#include "report/linejson.h"
#include "serve/sdata.h"
#include "store/read.h"
#include "serve/server.h"

/* A parsed query shared by the streams that use it. */
struct tquery {
	char *text;
	struct query *q; /* NULL for the empty query: every line */
	unsigned refs;	 /* streams and running steps holding it */
	struct tquery *next;
};

/* One open stream. */
struct tsub {
	struct tailhub *hub;
	struct tquery *tq;
	struct store_pos from; /* the lines before this were looked at for this stream */
	struct strbuf out; /* bytes to send; out_off of them already sent */
	size_t out_off;
	int64_t dropped; /* lines of events dropped since the last one sent */
	int64_t last_write_ms;
	int done; /* the hub stopped: end the stream once out is sent */
	struct tsub *next, *prev;
};

struct tailhub {
	struct serve *srv;
	struct store_reader *rd;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t data; /* new bytes for some stream, or the end */
	pthread_cond_t tick; /* wakes the hub early (stop) */
	int stopping;
	struct store_pos end; /* the end of the store at the last step */
	struct tsub *subs;
	struct tquery *queries;
	unsigned nsubs;
};

/* With h->mu held. */
static void tquery_unref(struct tailhub *h, struct tquery *tq)
{
	if (--tq->refs)
		return;
	for (struct tquery **pp = &h->queries; *pp; pp = &(*pp)->next)
		if (*pp == tq) {
			*pp = tq->next;
			break;
		}
	query_free(tq->q);
	free(tq->text);
	free(tq);
}

/* ---------------------------------------------------------------------------- the hub */

struct step {
	struct tquery *tq;
	struct store_pos from;
};

/* The lines event of one step, in two parts around the stream's own dropped count: head ends
 * with "dropped": and tail holds the lines, oldest first, and the end of the event. */
struct event {
	struct strbuf head, tail;
	size_t nlines;
	int failed;
};

static int add_line(void *cls, const struct store_line *l)
{
	struct event *ev = cls;

	if ((ev->nlines && strbuf_addch(&ev->tail, ',') < 0) ||
	    line_json(&ev->tail, l, LINE_JSON_FULL) < 0) {
		ev->failed = 1;
		return 1;
	}
	ev->nlines++;
	return 0;
}

/* Queues ev on s with s's dropped count; or drops it, counted, when s is too far behind. */
static void deliver(struct tsub *s, const struct event *ev)
{
	size_t pending = s->out.len - s->out_off;

	if (pending + ev->head.len + ev->tail.len + 24 > TAIL_QUEUE_MAX) {
		s->dropped += (int64_t)ev->nlines;
		return;
	}
	if (strbuf_add(&s->out, ev->head.buf, ev->head.len) < 0 ||
	    strbuf_addf(&s->out, "%lld", (long long)s->dropped) < 0 ||
	    strbuf_add(&s->out, ev->tail.buf, ev->tail.len) < 0) {
		s->dropped += (int64_t)ev->nlines;
		return;
	}
	s->dropped = 0;
}

/* One step for the streams of (tq, from): read the lines up to end, format, hand out. */
static void run_step(struct tailhub *h, const struct step *w, struct store_pos end)
{
	const struct serve_opts *o = h->srv->o;
	struct event ev = {STRBUF_INIT, STRBUF_INIT, 0, 0};
	struct store_sel sel;
	int64_t stored = 0, unscanned = 0;
	int truncated = 0, have = 0;

	store_sel_init(&sel);
	sel.from = w->from;
	sel.to = end;
	if (store_count(h->rd, &sel, &stored))
		stored = 0;
	sel.query = w->tq->q;
	sel.order = STORE_TAIL; /* the newest tail_batch, oldest first */
	sel.limit = o->tail_batch;
	sel.want = SDATA_WANT;
	strbuf_addstr(&ev.tail, ",\"lines\":[");
	if (sdata_each(h->rd, &sel, add_line, &ev, &truncated) || ev.failed) {
		/* a failed or timed-out step: its lines are skipped, and the event says how many */
		fprintf(stderr, "halog serve: live tail: %s\n",
			ev.failed ? "out of memory" : store_reader_errmsg(h->rd));
		strbuf_reset(&ev.tail);
		strbuf_addstr(&ev.tail, ",\"lines\":[");
		ev.nlines = 0;
		unscanned = stored;
	}
	if (ev.nlines || unscanned) {
		strbuf_addstr(&ev.tail, "]}\n\n");
		have = strbuf_addf(&ev.head,
				   "id: %lld\nevent: lines\ndata: {\"from\":%lld,\"to\":%lld,"
				   "\"stored\":%lld,\"shown\":%zu,\"limited\":%s,\"unscanned\":%lld,"
				   "\"dropped\":",
				   (long long)end.v, (long long)w->from.v, (long long)end.v,
				   (long long)stored, ev.nlines, truncated ? "true" : "false",
				   (long long)unscanned) == 0;
	}
	pthread_mutex_lock(&h->mu);
	for (struct tsub *s = h->subs; s; s = s->next) {
		if (s->tq != w->tq || store_pos_cmp(s->from, w->from) || s->done)
			continue;
		if (have)
			deliver(s, &ev);
		s->from = end;
	}
	pthread_cond_broadcast(&h->data);
	pthread_mutex_unlock(&h->mu);
	strbuf_release(&ev.head);
	strbuf_release(&ev.tail);
}

static void *hub_main(void *arg)
{
	struct tailhub *h = arg;
	const struct serve_opts *o = h->srv->o;
	struct step *steps = NULL;
	size_t nsteps, asteps = 0;

	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		struct timespec ts;
		struct store_pos end;

		clock_cond_deadline(&ts, o->tail_ms);
		pthread_cond_timedwait(&h->tick, &h->mu, &ts);
		if (h->stopping)
			break;
		pthread_mutex_unlock(&h->mu);
		store_reader_deadline(h->rd, o->query_ms); /* one bound for the whole step */
		if (store_end(h->rd, &end)) {
			fprintf(stderr, "halog serve: live tail: %s\n", store_reader_errmsg(h->rd));
			pthread_mutex_lock(&h->mu);
			continue;
		}
		pthread_mutex_lock(&h->mu);
		if (store_pos_cmp(end, h->end) < 0) /* a store that shrank: start over at its end */
			for (struct tsub *s = h->subs; s; s = s->next)
				s->from = end;
		h->end = end;
		/* the distinct (query, position) pairs behind the end */
		nsteps = 0;
		for (struct tsub *s = h->subs; s; s = s->next) {
			size_t k;

			if (store_pos_cmp(s->from, end) >= 0 || s->done)
				continue;
			for (k = 0; k < nsteps; k++)
				if (steps[k].tq == s->tq && !store_pos_cmp(steps[k].from, s->from))
					break;
			if (k < nsteps)
				continue;
			if (nsteps == asteps) {
				size_t na = asteps ? 2 * asteps : 16;
				struct step *ns = realloc(steps, na * sizeof(*ns));

				if (!ns)
					break;
				steps = ns;
				asteps = na;
			}
			steps[nsteps].tq = s->tq;
			steps[nsteps].from = s->from;
			s->tq->refs++; /* kept alive while the step runs unlocked */
			nsteps++;
		}
		pthread_mutex_unlock(&h->mu);
		for (size_t k = 0; k < nsteps; k++)
			run_step(h, &steps[k], end);
		pthread_mutex_lock(&h->mu);
		for (size_t k = 0; k < nsteps; k++)
			tquery_unref(h, steps[k].tq);
	}
	pthread_mutex_unlock(&h->mu);
	free(steps);
	return NULL;
}

struct tailhub *tailhub_start(struct serve *s, char *err, size_t errsz)
{
	struct tailhub *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	h->srv = s;
	pthread_mutex_init(&h->mu, NULL);
	clock_cond_init(&h->data);
	clock_cond_init(&h->tick);
	h->rd = store_reader_open(s->o->db, err, errsz);
	if (!h->rd || store_end(h->rd, &h->end)) {
		if (h->rd)
			snprintf(err, errsz, "live tail: %s", store_reader_errmsg(h->rd));
		tailhub_free(h);
		return NULL;
	}
	if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
		snprintf(err, errsz, "cannot start the live tail thread: %s", strerror(errno));
		tailhub_free(h);
		return NULL;
	}
	h->started = 1;
	return h;
}

void tailhub_stop(struct tailhub *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	for (struct tsub *s = h->subs; s; s = s->next)
		s->done = 1;
	pthread_cond_broadcast(&h->tick);
	pthread_cond_broadcast(&h->data);
	pthread_mutex_unlock(&h->mu);
	if (h->started) {
		pthread_join(h->thread, NULL);
		h->started = 0;
	}
}

void tailhub_free(struct tailhub *h)
{
	if (!h)
		return;
	tailhub_stop(h);
	store_reader_close(h->rd);
	while (h->queries) {
		struct tquery *tq = h->queries;

		h->queries = tq->next;
		query_free(tq->q);
		free(tq->text);
		free(tq);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->data);
	pthread_cond_destroy(&h->tick);
	free(h);
}

/* ---------------------------------------------------------------------------- streams */

static ssize_t sub_read(void *cls, char *buf, size_t max)
{
	struct tsub *s = cls;
	struct tailhub *h = s->hub;
	ssize_t n = -1;

	pthread_mutex_lock(&h->mu);
	while (s->out.len == s->out_off && !s->done) {
		int64_t idle = clock_mono_ms() - s->last_write_ms;
		struct timespec ts;

		if (idle >= TAIL_PING_MS) {
			strbuf_addstr(&s->out, ": ping\n\n");
			break;
		}
		clock_cond_deadline(&ts, TAIL_PING_MS - idle);
		pthread_cond_timedwait(&h->data, &h->mu, &ts);
	}
	if (s->out.len > s->out_off) {
		size_t len = s->out.len - s->out_off;

		if (len > max)
			len = max;
		memcpy(buf, s->out.buf + s->out_off, len);
		s->out_off += len;
		if (s->out_off == s->out.len) {
			strbuf_reset(&s->out);
			s->out_off = 0;
		}
		s->last_write_ms = clock_mono_ms();
		n = (ssize_t)len;
	}
	pthread_mutex_unlock(&h->mu);
	return n;
}

static void sub_release(void *cls)
{
	struct tsub *s = cls;
	struct tailhub *h = s->hub;

	pthread_mutex_lock(&h->mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->nsubs--;
	tquery_unref(h, s->tq);
	pthread_mutex_unlock(&h->mu);
	atomic_fetch_sub(&h->srv->streams, 1);
	strbuf_release(&s->out);
	free(s);
}


static const char *const tail_args[] = {"q", "from", NULL};

int api_tail(struct sreq *r, struct sresp *o)
{
	struct serve *srv = r->srv;
	struct tailhub *h = srv->hub;
	const char *text = sreq_arg(r, "q");
	const char *last_event = sreq_header(r, "Last-Event-ID");
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *q = NULL;
	struct tquery *tq;
	struct tsub *s;
	int64_t from = -1, v;

	if (sreq_only_args(r, tail_args, o) < 0 ||
	    sreq_int(r, "from", 0, INT64_MAX, -1, &from, o) < 0)
		return 0;
	if (from < 0 && last_event && parse_int64(last_event, 0, INT64_MAX, &v) == 0)
		from = v; /* a browser reconnecting goes on where it stopped */
	if (!text)
		text = "";
	dl.max = 20;
	if (*text) {
		q = query_parse(text, strlen(text), &dl);
		if (!q) {
			api_query_errors(o, &dl, text, 400);
			diag_release(&dl);
			return 0;
		}
	}
	diag_release(&dl);
	if (atomic_fetch_add(&srv->streams, 1) >= srv->o->max_streams) {
		atomic_fetch_sub(&srv->streams, 1);
		query_free(q);
		return sresp_error(o, 503,
				   "too many live tails open (%u): close one, or start the "
				   "server with a larger --max-streams",
				   srv->o->max_streams);
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		atomic_fetch_sub(&srv->streams, 1);
		query_free(q);
		return sresp_error(o, 500, "out of memory");
	}
	s->hub = h;
	strbuf_init(&s->out);
	s->last_write_ms = clock_mono_ms();
	pthread_mutex_lock(&h->mu);
	for (tq = h->queries; tq; tq = tq->next)
		if (!strcmp(tq->text, text))
			break;
	if (!tq && (tq = calloc(1, sizeof(*tq))) && !(tq->text = strdup(text))) {
		free(tq);
		tq = NULL;
	}
	if (!tq) {
		pthread_mutex_unlock(&h->mu);
		atomic_fetch_sub(&srv->streams, 1);
		query_free(q);
		free(s);
		return sresp_error(o, 500, "out of memory");
	}
	if (!tq->refs) {
		tq->q = q;
		q = NULL;
		tq->next = h->queries;
		h->queries = tq;
	}
	tq->refs++;
	s->tq = tq;
	/* from the given position when there is one (and it is not beyond the end), else now */
	s->from = h->end;
	if (from >= 0 && store_pos_cmp((struct store_pos){from}, h->end) < 0)
		s->from.v = from;
	s->next = h->subs;
	if (h->subs)
		h->subs->prev = s;
	h->subs = s;
	h->nsubs++;
	strbuf_addf(&s->out,
		    "retry: 2000\nevent: hello\ndata: {\"from\":%lld,\"tick_ms\":%u,\"batch\":%u,"
		    "\"q\":",
		    (long long)s->from.v, srv->o->tail_ms, srv->o->tail_batch);
	json_add_str(&s->out, text, strlen(text));
	strbuf_addstr(&s->out, "}\n\n");
	if (h->stopping)
		s->done = 1;
	pthread_mutex_unlock(&h->mu);
	query_free(q); /* another stream had parsed the same query already */
	o->ctype = "text/event-stream; charset=utf-8";
	o->kind = SRESP_API;
	o->stream.read = sub_read;
	o->stream.release = sub_release;
	o->stream.cls = s;
	return 0;
}
