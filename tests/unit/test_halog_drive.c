/* Unit tests for halog drive's arithmetic: weight lists, the balance check, percentiles and the
 * option checks (no network here). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "drive/check.h"
#include "drive/drive.h"
#include "strbuf.h"

static void test_weights_ok(void **state)
{
	struct drive_weight *w;
	char err[256];
	int n;

	(void)state;
	n = drive_parse_weights("web1=1,web2=1,web3=2", &w, err, sizeof(err));
	assert_int_equal(n, 3);
	assert_string_equal(w[2].name, "web3");
	assert_true(w[2].weight == 2.0);
	drive_weights_free(w, (size_t)n);
	n = drive_parse_weights("a=0.5", &w, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_true(w[0].weight == 0.5);
	drive_weights_free(w, (size_t)n);
}

static void test_weights_bad(void **state)
{
	static const char *const bad[] = {
		"",	"a",	"=1",	   "a=",       "a=0",	"a=-1",	 "a=257",
		"a=1x", "a=1,", "a=1,a=2", "a=1,,b=2", "a=nan", "a=inf",
	};
	struct drive_weight *w;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(drive_parse_weights(bad[i], &w, err, sizeof(err)), -1);
		assert_null(w);
		assert_true(err[0] != '\0');
	}
}

/* The X-Server tally against --weights goes through the report's rule. */
static void test_check_weights(void **state)
{
	char n1[] = "web1", n2[] = "web2", n3[] = "web3";
	struct drive_server srv[3] = {{n1, 100, 100}, {n2, 100, 100}, {n3, 200, 200}};
	struct drive_stats st;
	struct drive_weight wt[3] = {{n1, 1}, {n2, 1}, {n3, 2}};
	struct drive_xshare *xs;
	struct drive_verdict xv;
	size_t n;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.servers = srv;
	st.nservers = 3;
	/* 1:1:2 served exactly */
	assert_int_equal(drive_check_weights(&st, wt, 3, 0.5, &xs, &n, &xv), 0);
	assert_int_equal(n, 3);
	assert_int_equal(xv.result, 1);
	assert_true(xs[2].expected == 50.0 && xs[2].share == 50.0 && xs[2].deviation == 0.0);
	free(xs);
	free(xv.worst);
	/* 27/23/50 %: 2 points off */
	srv[0].n = 108;
	srv[1].n = 92;
	assert_int_equal(drive_check_weights(&st, wt, 3, 5, &xs, &n, &xv), 0);
	assert_int_equal(xv.result, 1);
	free(xs);
	free(xv.worst);
	assert_int_equal(drive_check_weights(&st, wt, 3, 1.5, &xs, &n, &xv), 0);
	assert_int_equal(xv.result, 0);
	assert_true(xs[0].bad && xs[1].bad && !xs[2].bad);
	assert_true(xs[0].deviation > 1.99 && xs[0].deviation < 2.01);
	assert_string_equal(xv.worst, "web1");
	free(xs);
	free(xv.worst);
	/* a weighted server that served nothing is 25 points short, and named */
	st.servers = srv + 1;
	st.nservers = 2;
	srv[1].n = 100;
	assert_int_equal(drive_check_weights(&st, wt, 3, 20, &xs, &n, &xv), 0);
	assert_int_equal(n, 3);
	assert_string_equal(xs[2].name, "web1"); /* after those that answered */
	assert_true(xs[2].bad && xs[2].n == 0);
	assert_int_equal(xv.result, 0);
	free(xs);
	free(xv.worst);
	/* a server outside the weights is expected to serve nothing */
	st.servers = srv;
	st.nservers = 3;
	srv[0].n = 100;
	assert_int_equal(drive_check_weights(&st, wt, 2, 5, &xs, &n, &xv), 0);
	assert_int_equal(xv.result, 0);
	assert_true(xs[2].bad && xs[2].expected == 0.0);
	free(xs);
	free(xv.worst);
	/* nothing to compare: no answers */
	st.nservers = 0;
	assert_int_equal(drive_check_weights(&st, wt, 3, 5, &xs, &n, &xv), 0);
	assert_int_equal(xv.result, -1);
	free(xs);
	free(xv.worst);
}

static void test_percentile(void **state)
{
	struct drive_stats st;
	int32_t lat[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(drive_percentile(&st, 50), -1);
	st.lat_us = lat;
	st.nlat = 10;
	assert_int_equal(drive_percentile(&st, 50), 5);
	assert_int_equal(drive_percentile(&st, 95), 10);
	assert_int_equal(drive_percentile(&st, 100), 10);
	assert_int_equal(drive_percentile(&st, 0.1), 1);
	assert_int_equal(drive_percentile(&st, 0), -1);
	assert_int_equal(drive_percentile(&st, 101), -1);
}

static void test_opts(void **state)
{
	const char *paths[] = {"/ok", "no-slash"};
	const char *hdrs[] = {"Host: x", "broken"};
	struct drive_opts o = {.url = "http://127.0.0.1:1",
			       .paths = paths,
			       .npaths = 1,
			       .headers = hdrs,
			       .nheaders = 1,
			       .n = 10,
			       .concurrency = 2,
			       .timeout_ms = 1000};
	char err[256];

	(void)state;
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), 0);
	o.url = "ftp://x";
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), -1);
	o.url = "http://a b";
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), -1);
	o.url = "https://x";
	o.npaths = 2;
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), -1);
	o.npaths = 1;
	o.nheaders = 2;
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), -1);
	o.nheaders = 1;
	o.n = 0;
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), -1);
	o.n = 1;
	o.concurrency = DRIVE_MAX_C + 1;
	assert_int_equal(drive_check_opts(&o, err, sizeof(err)), -1);
}

/* A one-thread HTTP server on loopback: answers n requests, each with its own X-Server name
 * (s0, s1, ...), one connection per request. */
struct namesrv {
	int fd;
	long n;
};

static void *namesrv_main(void *arg)
{
	struct namesrv *ns = arg;

	for (long i = 0; i < ns->n; i++) {
		char req[4096], resp[256];
		size_t got = 0;
		int c = accept(ns->fd, NULL, NULL), len;

		if (c == -1)
			break;
		while (got < sizeof(req) - 1) {
			ssize_t r = read(c, req + got, sizeof(req) - 1 - got);

			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		len = snprintf(resp, sizeof(resp),
			       "HTTP/1.1 200 OK\r\nX-Server: s%ld\r\nContent-Length: 2\r\n"
			       "Connection: close\r\n\r\nok",
			       i);
		if (write(c, resp, (size_t)len) != len)
			i = ns->n;
		close(c);
	}
	return NULL;
}

/* More distinct servers than DRIVE_MAX_SERVERS: the extra ones count as "(other)", and no
 * named server is charged with another's answers. */
static void test_many_servers(void **state)
{
	const long n = DRIVE_MAX_SERVERS + 40;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct namesrv ns = {-1, n};
	struct drive_stats st;
	struct drive_opts o = {.n = n, .concurrency = 1, .timeout_ms = 5000};
	char url[64], err[256];
	pthread_t th;
	long named = 0, other = 0;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ns.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ns.fd != -1);
	assert_int_equal(bind(ns.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ns.fd, 16), 0);
	assert_int_equal(getsockname(ns.fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)ntohs(sa.sin_port));
	o.url = url;
	assert_int_equal(pthread_create(&th, NULL, namesrv_main, &ns), 0);
	assert_int_equal(drive_run(&o, &st, err, sizeof(err)), 0);
	pthread_join(th, NULL);
	close(ns.fd);
	assert_int_equal(st.ok, n);
	assert_int_equal(st.nservers, DRIVE_MAX_SERVERS);
	for (size_t i = 0; i < st.nservers; i++) {
		if (!strcmp(st.servers[i].name, "(other)")) {
			other = st.servers[i].n;
			continue;
		}
		assert_int_equal(st.servers[i].n, 1); /* each name answered exactly once */
		named++;
	}
	assert_int_equal(named, DRIVE_MAX_SERVERS - 1);
	assert_int_equal(other, n - (DRIVE_MAX_SERVERS - 1));
	drive_stats_release(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights_ok), cmocka_unit_test(test_weights_bad),
		cmocka_unit_test(test_check_weights),	   cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_opts),	   cmocka_unit_test(test_many_servers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
