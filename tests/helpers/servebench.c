/* servebench: puts a running `halog serve` under load and measures it, for make bench: N live
 * tail streams (/api/tail) open the whole time, searches started at a fixed rate (/api/search,
 * open loop: a slow answer does not slow the schedule, and its latency counts from when it was
 * due), optionally hit graphs (/api/hits), and lines sent over UDP to the server's listener with
 * their send time in them, so each stream measures how long a line took to reach it.
 *
 * usage: servebench --url http://127.0.0.1:PORT [--streams N] [--search-rate R] [--query Q]...
 *                   [--since WHEN] [--hits-rate R] [--udp HOST:PORT --send-rate R]
 *                   [--seconds S] [--stream-query Q] [--unique]
 * --unique makes every search a new one (a term no line has is added), so none is answered from
 * the server's cache of recent results: the cost of a cold search.
 * Prints one JSON object (counts, latency percentiles in ms) on stdout. Exit: 0 done, 1 the
 * server could not be reached or a stream failed to open, 2 usage. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "strbuf.h"

#define MAX_QUERIES 32
#define TAIL_MARK "benchtail/t="

struct samples {
	double *v;
	size_t n, alloc;
};

static void sample_add(struct samples *s, double v)
{
	if (s->n == s->alloc) {
		size_t na = s->alloc ? 2 * s->alloc : 1024;
		double *nv = realloc(s->v, na * sizeof(*nv));

		if (!nv)
			return;
		s->v = nv;
		s->alloc = na;
	}
	s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double pct(const struct samples *s, double p)
{
	size_t k;

	if (!s->n)
		return -1;
	k = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > s->n)
		k = s->n;
	return s->v[k - 1];
}

static void print_samples(const char *name, struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	printf(",\"%s\":{\"n\":%zu", name, s->n);
	if (s->n)
		printf(",\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f", pct(s, 50), pct(s, 90),
		       pct(s, 99), s->v[s->n - 1]);
	printf("}");
}

/* The wall clock in ms: the send time in a line and its arrival are compared across processes. */
static double now_ms(void)
{
	return (double)clock_wall_ms();
}

enum job_kind { J_STREAM, J_SEARCH, J_HITS };

struct job {
	enum job_kind kind;
	CURL *h;
	double due_ms;	    /* searches: when it was due to start */
	struct strbuf line; /* streams: the part of the current SSE line received so far */
	unsigned char *seen; /* streams: which sequence numbers arrived already */
	size_t lines;	    /* streams: bench lines received */
	size_t limited;	    /* streams: events that said they sampled */
	struct job *next;
};

static struct {
	struct samples search, hits, tail;
	size_t searches, search_errors, hits_n, hits_errors, stream_errors, sent;
	size_t max_seq;
} B;

/* One complete SSE line of a stream: counts the bench lines in a "lines" event's data. */
static void stream_line(struct job *j, const char *s, size_t len)
{
	double t = now_ms();
	const char *p = s, *end = s + len;

	if (len < 6 || strncmp(s, "data: ", 6))
		return;
	if (memmem(s, len, "\"limited\":true", 14))
		j->limited++;
	/* every line appears in "raw" and in "text": count each sequence number once */
	while ((p = memmem(p, (size_t)(end - p), TAIL_MARK, sizeof(TAIL_MARK) - 1))) {
		char *e;
		double sent;
		unsigned long long seq;
		const char *q;

		p += sizeof(TAIL_MARK) - 1;
		sent = strtod(p, &e);
		q = memmem(e, (size_t)(end - e), "/seq=", 5);
		if (!q)
			break;
		seq = strtoull(q + 5, NULL, 10);
		if (seq < B.max_seq && !j->seen[seq]) {
			j->seen[seq] = 1;
			j->lines++;
			sample_add(&B.tail, t - sent);
		}
	}
}

static size_t on_stream_data(char *buf, size_t size, size_t n, void *cls)
{
	struct job *j = cls;
	size_t len = size * n, start = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		strbuf_add(&j->line, buf + start, i - start);
		stream_line(j, j->line.buf, j->line.len);
		strbuf_reset(&j->line);
		start = i + 1;
	}
	if (start < len)
		strbuf_add(&j->line, buf + start, len - start);
	return len;
}

static size_t on_discard(char *buf, size_t size, size_t n, void *cls)
{
	(void)buf, (void)cls;
	return size * n;
}

static struct job *job_new(CURLM *m, enum job_kind kind, const char *url, double due)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->h = curl_easy_init())) {
		free(j);
		return NULL;
	}
	j->kind = kind;
	j->due_ms = due;
	strbuf_init(&j->line);
	curl_easy_setopt(j->h, CURLOPT_URL, url);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
	if (kind == J_STREAM) {
		j->seen = calloc(B.max_seq ? B.max_seq : 1, 1);
		curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_stream_data);
		curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	} else {
		curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_discard);
		curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, 60000L);
	}
	curl_multi_add_handle(m, j->h);
	return j;
}

static void job_free(CURLM *m, struct job *j)
{
	curl_multi_remove_handle(m, j->h);
	curl_easy_cleanup(j->h);
	strbuf_release(&j->line);
	free(j->seen);
	free(j);
}

static void usage(void)
{
	fputs("usage: servebench --url http://127.0.0.1:PORT [--streams N] [--search-rate R]\n"
	      "                  [--query Q]... [--since WHEN] [--hits-rate R]\n"
	      "                  [--udp HOST:PORT --send-rate R] [--seconds S] [--stream-query Q]\n"
	      "                  [--unique]\n",
	      stderr);
}

static char *escape(CURL *c, const char *s)
{
	return curl_easy_escape(c, s, 0);
}

int main(int argc, char **argv)
{
	const char *url = NULL, *since = "1h", *udp = NULL, *squery = "benchtail";
	const char *queries[MAX_QUERIES];
	size_t nq = 0, qi = 0;
	int64_t streams = 50, seconds = 30;
	double search_rate = 20, hits_rate = 0, send_rate = 0;
	struct job *jobs = NULL;
	struct sockaddr_in to;
	int fd = -1, opened = 0, unique = 0;
	CURLM *m;
	CURL *esc;
	double t0, next_search, next_hits, next_send, end;
	struct strbuf u = STRBUF_INIT;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int64_t n;

		if (!strcmp(a, "--unique")) {
			unique = 1;
			continue;
		}
		if (!v) {
			usage();
			return 2;
		}
		i++;
		if (!strcmp(a, "--url"))
			url = v;
		else if (!strcmp(a, "--streams") && !parse_int64(v, 0, 10000, &n))
			streams = n;
		else if (!strcmp(a, "--seconds") && !parse_int64(v, 1, 86400, &n))
			seconds = n;
		else if (!strcmp(a, "--search-rate"))
			search_rate = strtod(v, NULL);
		else if (!strcmp(a, "--hits-rate"))
			hits_rate = strtod(v, NULL);
		else if (!strcmp(a, "--send-rate"))
			send_rate = strtod(v, NULL);
		else if (!strcmp(a, "--query") && nq < MAX_QUERIES)
			queries[nq++] = v;
		else if (!strcmp(a, "--since"))
			since = v;
		else if (!strcmp(a, "--udp"))
			udp = v;
		else if (!strcmp(a, "--stream-query"))
			squery = v;
		else {
			usage();
			return 2;
		}
	}
	if (!url || search_rate < 0 || hits_rate < 0 || send_rate < 0 || (send_rate && !udp)) {
		usage();
		return 2;
	}
	if (!nq)
		queries[nq++] = "status:5xx";
	if (udp) {
		char host[64];
		unsigned port;
		int v6;
		const char *why;

		if (parse_hostport(udp, host, sizeof(host), &port, &v6, &why) || v6 ||
		    inet_pton(AF_INET, host, &to.sin_addr) != 1) {
			fprintf(stderr, "servebench: bad --udp '%s'\n", udp);
			return 2;
		}
		to.sin_family = AF_INET;
		to.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			return 1;
	}
	B.max_seq = (size_t)(send_rate * (double)seconds) + 16;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	esc = curl_easy_init();
	for (int64_t i = 0; i < streams; i++) {
		char *q = escape(esc, squery);
		struct job *j;

		strbuf_reset(&u);
		strbuf_addf(&u, "%s/api/tail?q=%s", url, q);
		curl_free(q);
		j = job_new(m, J_STREAM, u.buf, 0);
		if (!j)
			return 1;
		j->next = jobs;
		jobs = j;
	}
	/* the streams open before the clock starts: their hello takes a moment */
	for (double until = now_ms() + 2000; now_ms() < until;) {
		int running;

		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 50, NULL);
	}
	t0 = now_ms();
	end = t0 + (double)seconds * 1000;
	next_search = search_rate > 0 ? t0 : 1e300;
	next_hits = hits_rate > 0 ? t0 : 1e300;
	next_send = send_rate > 0 ? t0 : 1e300;
	while (now_ms() < end) {
		double t = now_ms(), wake;
		int running;
		CURLMsg *msg;
		int left;

		while (t >= next_search) {
			struct strbuf qt = STRBUF_INIT;
			char *q, *s = escape(esc, since);
			struct job *j;

			strbuf_addstr(&qt, queries[qi % nq]);
			if (unique)
				strbuf_addf(&qt, " -\"nonce-%zu\"", qi);
			qi++;
			q = escape(esc, qt.buf);
			strbuf_release(&qt);

			strbuf_reset(&u);
			strbuf_addf(&u, "%s/api/search?q=%s&since=%s&limit=100", url, q, s);
			curl_free(q);
			curl_free(s);
			if ((j = job_new(m, J_SEARCH, u.buf, next_search))) {
				j->next = jobs;
				jobs = j;
			}
			next_search += 1000.0 / search_rate;
		}
		while (t >= next_hits) {
			char *q = escape(esc, queries[qi++ % nq]), *s = escape(esc, since);
			struct job *j;

			strbuf_reset(&u);
			strbuf_addf(&u, "%s/api/hits?q=%s&since=%s", url, q, s);
			curl_free(q);
			curl_free(s);
			if ((j = job_new(m, J_HITS, u.buf, next_hits))) {
				j->next = jobs;
				jobs = j;
			}
			next_hits += 1000.0 / hits_rate;
		}
		while (t >= next_send && B.sent + 1 < B.max_seq) {
			char d[512];
			int n = snprintf(d, sizeof(d),
					 "<134>Dec  1 00:00:00 lb1 haproxy[4242]: 127.0.0.1:40000 "
					 "[01/Dec/2025:00:00:00.000] fe_bench be_bench/b1 0/0/1/1/2 200 "
					 "100 - - ---- 1/1/0/0/0 0/0 \"GET /" TAIL_MARK "%.3f/seq=%zu "
					 "HTTP/1.1\"",
					 now_ms(), B.sent);

			if (sendto(fd, d, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) == n)
				B.sent++;
			next_send += 1000.0 / send_rate;
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct job *j = NULL, **pp;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			if (j->kind == J_STREAM) {
				B.stream_errors++; /* a stream must stay open until the end */
			} else if (j->kind == J_SEARCH) {
				B.searches++;
				if (msg->data.result != CURLE_OK || code != 200)
					B.search_errors++;
				else
					sample_add(&B.search, now_ms() - j->due_ms);
			} else {
				B.hits_n++;
				if (msg->data.result != CURLE_OK || code != 200)
					B.hits_errors++;
				else
					sample_add(&B.hits, now_ms() - j->due_ms);
			}
			for (pp = &jobs; *pp; pp = &(*pp)->next)
				if (*pp == j) {
					*pp = j->next;
					break;
				}
			job_free(m, j);
		}
		wake = next_search < next_hits ? next_search : next_hits;
		if (next_send < wake)
			wake = next_send;
		wake -= now_ms();
		curl_multi_poll(m, NULL, 0, wake < 1 ? 1 : wake > 50 ? 50 : (int)wake, NULL);
	}
	/* let the last lines sent reach the streams (up to 3 s) */
	for (double until = now_ms() + 3000; now_ms() < until;) {
		size_t low = (size_t)-1;
		int running;

		for (struct job *j = jobs; j; j = j->next)
			if (j->kind == J_STREAM && j->lines < low)
				low = j->lines;
		if (low >= B.sent)
			break;
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 50, NULL);
	}
	{
		size_t low = (size_t)-1, high = 0, limited = 0;

		for (struct job *j = jobs; j; j = j->next) {
			if (j->kind != J_STREAM)
				continue;
			opened++;
			if (j->lines < low)
				low = j->lines;
			if (j->lines > high)
				high = j->lines;
			limited += j->limited;
		}
		printf("{\"seconds\":%lld,\"streams\":%lld,\"streams_open_at_end\":%d,"
		       "\"stream_errors\":%zu,\"searches\":%zu,\"search_errors\":%zu,"
		       "\"search_rate\":%.1f,\"hits\":%zu,\"hits_errors\":%zu,\"sent\":%zu,"
		       "\"lines_per_stream_min\":%zu,\"lines_per_stream_max\":%zu,"
		       "\"limited_events\":%zu",
		       (long long)seconds, (long long)streams, opened, B.stream_errors, B.searches,
		       B.search_errors, search_rate, B.hits_n, B.hits_errors, B.sent,
		       opened ? low : 0, high, limited);
	}
	print_samples("search_ms", &B.search);
	print_samples("hits_ms", &B.hits);
	print_samples("tail_ms", &B.tail);
	printf("}\n");
	while (jobs) {
		struct job *j = jobs;

		jobs = j->next;
		job_free(m, j);
	}
	curl_easy_cleanup(esc);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	strbuf_release(&u);
	if (fd >= 0)
		close(fd);
	free(B.search.v);
	free(B.hits.v);
	free(B.tail.v);
	return opened == streams ? 0 : 1;
}
