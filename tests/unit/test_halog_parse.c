/* Unit tests for the log parser's tricky pieces: address splitting, dates and the year of
 * syslog dates, capture blocks, truncation, the log-format compiler's errors, and bounds
 * (every prefix and random mutations of real lines, parsed from exact-size buffers so that
 * ASan sees any read past the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse/logformat.h"
#include "parse/logparse.h"
#include "parse/logrec.h"

/* A sample of real lines (generated-haproxy-2.6.12/udp/A-local.log and others in the corpus). */
static const char *const samples[] = {
	"<134>Nov 24 06:23:58 haproxy[28250]: 127.0.0.1:49222 [24/Nov/2026:06:23:58.508] fe_http "
	"be_app/s1 0/0/0/0/0 200 167 - - --NI 1/1/0/0/0 0/0 {127.0.0.1:37180|Mozilla/5.0 (X11; "
	"Linux x86_64; rv:128.0) Gecko/20100101 Firefox} {text/html; charset=utf-8} \"GET / "
	"HTTP/1.1\"",
	"<129>Nov 24 06:23:52 haproxy[28250]: Server be_down/d1 is DOWN, reason: Layer4 connection "
	"problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers "
	"left. 0 sessions active, 0 requeued, 0 remaining in queue.",
	"<134>1 2026-11-24T06:23:58.509778+00:00 - haproxy 28250 - [exampleSDID@32473 fe=\"fe\" "
	"st=\"200\"] 127.0.0.1:54542 [24/Nov/2026:06:23:03.852] fe_tcp be_tcp/t1 1/0/1 168 -- "
	"1/1/0/0/0 0/0",
	"<134>Nov 24 06:24:03 haproxy[28250]: 127.0.0.1 - - [24/Nov/2026:06:24:03 +0000] \"GET "
	"/clf?x=1 HTTP/1.1\" 200 167 \"\" \"\" 37154 846 \"fe_clf\" \"be_app\" \"s2\" 0 0 0 0 0 "
	"--NI 1 "
	"1 0 0 0 0 0 \"\" \"\" \"clf.example\" ",
	"<134>Nov 24 06:24:04 haproxy[28250]: 127.0.0.1:60080 [24/Nov/2026:06:24:04.017] fe_https~ "
	"be_app/s2 0/0/0/0/0 200 167 - - --NI 1/1/0/0/0 0/0 {localhost:37443} \"GET "
	"https://localhost:37443/tls-h2?x=1 HTTP/2.0\" 0/0000000000000000/0/0/0 "
	"localhost/TLSv1.3/TLS_AES_256_GCM_SHA384",
	"Nov 24 06:24:03 localhost haproxy[28250]: Connect from ::1:35110 to ::1:37184 "
	"(fe_default_http/HTTP)",
	"2026-11-24T06:24:04+00:00 localhost haproxy[28250]: 127.0.0.1:34510 "
	"[24/Nov/2026:06:24:04.327] fe_https/namedbind: Connection closed during SSL handshake",
	"<133>Nov 24 06:27:35 haproxy[1079]: Health check for backup server beD_app/bk1 failed, "
	"reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms, "
	"status: 0/2 DOWN.",
	"<132>Nov 24 06:24:25 haproxy[28250]: Proxy fe_http stopped (cumulated conns: FE: 30, BE: "
	"0).",
	"<6>2026-11-24T06:23:58.509789+00:00 ::1:43402 [24/Nov/2026:06:23:58.528] fe_http "
	"be_app/s1 0/0/0/0/0 200 167 - - --NI 1/1/0/0/0 0/0 {[::1]:37180|curl/7.88.1} "
	"{text/html; charset=utf-8} \"GET /ipv6/path?x=1 HTTP/1.1\"",
};

static struct logparser *auto_parser(void)
{
	char err[128];
	struct logparser *lp = logparser_new(NULL, err, sizeof(err));

	assert_non_null(lp);
	return lp;
}

/* The copy the last record points into; freed by the next parse_exact. */
static char *last_copy;

/* Parses s from a heap copy of exactly its length (no NUL after it); r stays valid until the
 * next call. */
static void parse_exact(const struct logparser *lp, const char *s, size_t n, struct logrec *r)
{
	char *copy = malloc(n ? n : 1);

	free(last_copy);
	last_copy = copy;
	assert_non_null(copy);
	memcpy(copy, s, n);
	logparse_message(lp, copy, n, r);
	/* every slice must lie inside the buffer (or be absent) */
	{
		const struct lr_str *f[] = {
			&r->host,     &r->tag,	    &r->sd,	   &r->body,	  &r->client_ip,
			&r->frontend, &r->backend,  &r->server,	   &r->request,	  &r->uri,
			&r->path,     &r->query,    &r->version,   &r->cap_req,	  &r->cap_resp,
			&r->message,  &r->ev_proxy, &r->ev_server, &r->ev_reason, &r->ev_info};

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			if (!f[i]->p || (f[i] == &r->path && f[i]->len == 1 && f[i]->p[0] == '/'))
				continue;
			assert_true(f[i]->p >= copy && f[i]->p + f[i]->len <= copy + n);
		}
	}
}

static int str_is(const struct lr_str *s, const char *want)
{
	return s->p && s->len == strlen(want) && !memcmp(s->p, want, s->len);
}

static void test_split_addr(void **state)
{
	static const struct {
		const char *in, *ip;
		int64_t port;
	} cases[] = {
		{"127.0.0.1:49222", "127.0.0.1", 49222},
		{"::1:43402", "::1", 43402},
		{"2001:db8::5:443", "2001:db8::5", 443},
		{"::ffff:10.0.0.1:1234", "::ffff:10.0.0.1", 1234},
		{"[::1]:80", "::1", 80},
		{"unix:1", "unix", 1},
		{"-:22222", NULL, 22222},
		{"-", NULL, LR_NONE},
		{"", NULL, LR_NONE},
		{"10.0.0.1", "10.0.0.1", LR_NONE},
		{"host:notaport", "host:notaport", LR_NONE},
	};
	struct lr_str ip;
	int64_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lf_split_addr(cases[i].in, strlen(cases[i].in), &ip, &port);
		if (cases[i].ip)
			assert_true(str_is(&ip, cases[i].ip));
		else
			assert_null(ip.p);
		assert_int_equal(port, cases[i].port);
	}
}

static void test_dates(void **state)
{
	int64_t ms;
	int has_ms;
	const char *d = "24/Nov/2026:06:23:58.508", *e;

	(void)state;
	assert_int_equal(lf_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(lf_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(lf_days_from_civil(2024, 2, 29) + 1, lf_days_from_civil(2024, 3, 1));
	assert_int_equal(lf_days_from_civil(1969, 12, 31), -1);
	e = lf_date(d, d + strlen(d), 0, 0, &ms, &has_ms);
	assert_ptr_equal(e, d + strlen(d));
	assert_int_equal(ms, 1795501438508LL);
	assert_int_equal(has_ms, 1);
	/* a naive date is local: with the zone at +01:00 it is one hour earlier in UTC */
	lf_date(d, d + strlen(d), 0, 3600000, &ms, &has_ms);
	assert_int_equal(ms, 1795501438508LL - 3600000);
	/* an explicit offset wins over the zone */
	d = "24/Nov/2026:08:23:58 +0200";
	e = lf_date(d, d + strlen(d), 1, 3600000, &ms, &has_ms);
	assert_ptr_equal(e, d + strlen(d));
	assert_int_equal(ms, 1795501438000LL);
	assert_int_equal(has_ms, 0);
	d = "09/Aug/2004:20:26:09"; /* no milliseconds */
	assert_non_null(lf_date(d, d + strlen(d), 0, 0, &ms, &has_ms));
	assert_int_equal(ms, 1092083169000LL);
	/* rejected: bad month, bad day, cut short */
	d = "24/Nox/2026:06:23:58";
	assert_null(lf_date(d, d + strlen(d), 0, 0, &ms, &has_ms));
	d = "32/Nov/2026:06:23:58";
	assert_null(lf_date(d, d + strlen(d), 0, 0, &ms, &has_ms));
	d = "24/Nov/2026:06:23:58";
	for (size_t n = 0; n < strlen(d); n++)
		assert_null(lf_date(d, d + n, 0, 0, &ms, &has_ms));
}

static void test_syslog_year(void **state)
{
	struct logparser *lp = auto_parser();
	struct logrec r;
	const char *l1 =
		"<134>Jan  1 00:00:01 haproxy[9]: 10.0.0.1:1 [31/Dec/2025:23:59:59.000] fe "
		"be/s 0/0/0/0/0 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"";
	const char *l2 =
		"<134>Dec 31 23:59:59 haproxy[9]: 10.0.0.1:1 [01/Jan/2026:00:00:01.000] fe "
		"be/s 0/0/0/0/0 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"";
	const char *ev = "<128>Dec 31 23:59:59 haproxy[9]: backend b has no server available!";

	(void)state;
	/* the body date decides the year, across New Year in both directions */
	parse_exact(lp, l1, strlen(l1), &r);
	assert_int_equal(r.syslog_ms, 1767225601000LL); /* 2026-01-01T00:00:01Z */
	parse_exact(lp, l2, strlen(l2), &r);
	assert_int_equal(r.syslog_ms, 1767225599000LL); /* 2025-12-31T23:59:59Z */
	/* without a body date: the year closest to now */
	logparser_set_now(lp, 1781000000000LL); /* June 2026 */
	parse_exact(lp, ev, strlen(ev), &r);
	assert_int_equal(r.kind, LR_NOSRV);
	assert_int_equal(r.syslog_ms, 1767225599000LL); /* Dec 31 2025, not 2026 */
	logparser_set_now(lp, 1798000000000LL);		/* Dec 2026 */
	parse_exact(lp, ev, strlen(ev), &r);
	assert_int_equal(r.syslog_ms, 1767225599000LL + 365LL * 86400000);
	logparser_free(lp);
}

static void test_captures(void **state)
{
	struct logparser *lp = auto_parser();
	struct logrec r;
	static const struct {
		const char *caps, *req, *resp;
	} cases[] = {
		{"", NULL, NULL},
		{"{a b c} ", "a b c", NULL},
		{"{} ", "", NULL},
		{"{||} {|} ", "||", "|"},
		{"{pipe#7Cbrace#7Bx#7D|ua} {text/html; charset=utf-8} ", "pipe#7Cbrace#7Bx#7D|ua",
		 "text/html; charset=utf-8"},
		{"{34.204.102.208, 35.190.30.199} {} ", "34.204.102.208, 35.190.30.199", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[512];
		int n = snprintf(
			line, sizeof(line),
			"10.0.0.1:1 [24/Nov/2026:06:23:58.508] fe be/s 0/0/0/0/0 200 1 - - "
			"---- 1/1/0/0/0 0/0 %s\"GET /x?y HTTP/1.1\"",
			cases[i].caps);

		parse_exact(lp, line, (size_t)n, &r);
		assert_int_equal(r.kind, LR_HTTP);
		assert_int_equal(r.status, LR_OK);
		if (cases[i].req)
			assert_true(str_is(&r.cap_req, cases[i].req));
		else
			assert_null(r.cap_req.p);
		if (cases[i].resp)
			assert_true(str_is(&r.cap_resp, cases[i].resp));
		else
			assert_null(r.cap_resp.p);
		assert_true(str_is(&r.path, "/x"));
		assert_true(str_is(&r.query, "y"));
	}
	logparser_free(lp);
}

static void test_truncation(void **state)
{
	struct logparser *lp = auto_parser();
	struct logrec r;
	const char *full = samples[0];
	size_t n = strlen(full);
	const char *after_date = strstr(full, "] ") + 2;
	char line[1100];

	(void)state;
	parse_exact(lp, full, n, &r);
	assert_int_equal(r.status, LR_OK);
	/* every cut after the date is a partial record, flagged truncated, never rejected */
	for (size_t k = (size_t)(after_date - full); k < n; k++) {
		parse_exact(lp, full, k, &r);
		assert_true(r.kind == LR_HTTP || r.kind == LR_TCP);
		assert_int_equal(r.status, LR_PARTIAL);
		assert_true(r.flags & LR_F_TRUNCATED);
		assert_int_equal(r.ts_ms, 1795501438508LL);
	}
	/* the 1024-byte datagram: no closing quote */
	n = (size_t)snprintf(
		line, sizeof(line),
		"<134>Nov 24 06:24:00 haproxy[1]: 127.0.0.1:49434 [24/Nov/2026:06:24:00.429] "
		"fe_http be_app/s2 0/0/0/0/0 200 167 - - --NI 1/1/0/0/0 0/0 \"GET /");
	memset(line + n, 'L', 1024 - n);
	parse_exact(lp, line, 1024, &r);
	assert_int_equal(r.kind, LR_HTTP);
	assert_int_equal(r.status, LR_PARTIAL);
	assert_true(r.flags & LR_F_TRUNCATED);
	assert_true(str_is(&r.method, "GET"));
	assert_null(r.version.p);
	assert_int_equal(r.path.len, 1024 - n + 1);
	assert_int_equal(r.status_code, 200);
	/* tune.http.logurilen: closing quote present, version cut */
	n = (size_t)snprintf(line, sizeof(line),
			     "127.0.0.1:1 [24/Nov/2026:06:24:00.429] fe be/s 0/0/0/0/0 200 167 - - "
			     "---- 1/1/0/0/0 0/0 \"GET /LLLL\"");
	parse_exact(lp, line, n, &r);
	assert_int_equal(r.status, LR_PARTIAL);
	assert_true(r.flags & LR_F_TRUNCATED);
	assert_true(str_is(&r.path, "/LLLL"));
	/* BADREQ and the old empty request are not truncation */
	n = (size_t)snprintf(
		line, sizeof(line),
		"127.0.0.1:1 [15/Oct/2003:15:18:55.798] px px/<NOSRV> -1/-1/-1/-1/8490 -1 "
		"0 - - CR-- 2/2/2/0/0 0/0 \"\"");
	parse_exact(lp, line, n, &r);
	assert_int_equal(r.status, LR_OK);
	assert_true(r.flags & LR_F_BADREQ);
	assert_int_equal(r.status_code, LR_NONE);
	assert_int_equal(r.t_req, LR_TIMER_NONE);
	assert_int_equal(r.t_active, 8490);
	logparser_free(lp);
}

static void test_format_errors(void **state)
{
	static const struct {
		const char *fmt, *err;
	} cases[] = {
		{"%ci %zz", "column 5: unknown variable '%zz'"},
		{"%[src", "column 1: unterminated '%[' (a sample expression ends with ']')"},
		{"x %[]", "column 3: empty sample expression '%[]'"},
		{"%{+Z}o %ci", "column 3: unknown flag '+Z'"},
		{"%{+Q", "column 2: unterminated '%{'"},
		{"%ci %", "column 5: '%' at the end of the format (write %% for a '%')"},
		{"%{+json}o %ci", "column 3: the '+json' encoding is not supported"},
		{"%{Q}r", "column 3: flags must start with '+' or '-', not 'Q'"},
		{"plain text", "column 1: the format has no variable"},
		{"a %: b", "column 3: missing variable name after '%'"},
	};
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		assert_null(logparser_new(cases[i].fmt, err, sizeof(err)));
		assert_string_equal(err, cases[i].err);
	}
}

static void test_format_match(void **state)
{
	const char *f1 = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc "
			 "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %ID %{+Q}[ssl_fc] "
			 "%Th/%Ti/%Tq/%Tt/%Td %U";
	const char *l1 = "127.0.0.1:40948 [24/Nov/2026:06:24:03.995] fe_custom be_app/s1 0/0/0/0/0 "
			 "200 167 - - --NI 1/1/0/0/0 0/0 \"GET /custom?y=2 HTTP/1.1\" "
			 "7F000001:9FF4_7F000001:9143_6B052D83_0030:6E5A \"0\" 0/0/0/0/0 92";
	const char *f2 = "client=%ci port=%cp fe=%f be=%b srv=%s status=%ST bytes=%B ta=%Ta "
			 "term=%tsc method=%HM uri=%{+Q}HU ver=%HV";
	const char *l2 = "client=::1 port=58416 fe=fe_custom_kv be=be_app srv=s2 status=200 "
			 "bytes=167 ta=0 term=--NI method=PUT uri=\"/kv/path%20with%20space?z=3\" "
			 "ver=HTTP/1.1";
	char err[200];
	struct logparser *lp;
	struct logrec r;

	(void)state;
	lp = logparser_new(f1, err, sizeof(err));
	assert_non_null(lp);
	parse_exact(lp, l1, strlen(l1), &r);
	assert_int_equal(r.kind, LR_HTTP);
	assert_int_equal(r.status, LR_OK);
	assert_true(str_is(&r.unique_id, "7F000001:9FF4_7F000001:9143_6B052D83_0030:6E5A"));
	assert_int_equal(r.bytes_uploaded, 92);
	assert_int_equal(r.client_port, 40948);
	assert_true(str_is(&r.query, "y=2"));
	/* a line of another shape falls back to the built-in detection */
	parse_exact(lp, samples[1], strlen(samples[1]), &r);
	assert_int_equal(r.kind, LR_SERVER);
	logparser_free(lp);

	lp = logparser_new(f2, err, sizeof(err));
	assert_non_null(lp);
	parse_exact(lp, l2, strlen(l2), &r);
	assert_int_equal(r.kind, LR_HTTP);
	assert_int_equal(r.status, LR_OK);
	assert_true(str_is(&r.client_ip, "::1"));
	assert_true(str_is(&r.method, "PUT"));
	assert_true(str_is(&r.path, "/kv/path%20with%20space"));
	assert_true(str_is(&r.query, "z=3"));
	assert_true(str_is(&r.version, "HTTP/1.1"));
	assert_int_equal(r.t_active, 0);
	logparser_free(lp);

	/* %Ts, hex with +X, %trl with an offset (the request date wins over %Ts) */
	lp = logparser_new("%{+X}o %ci:%cp %Ts %{-X}o %ST [%trl]", err, sizeof(err));
	assert_non_null(lp);
	parse_exact(lp, "7F000001:9FF4 6B052D83 200 [24/Nov/2026:08:23:58 +0200]", 55, &r);
	assert_int_equal(r.status, LR_OK);
	assert_int_equal(r.client_port, 0x9FF4);
	assert_int_equal(r.status_code, 200);
	assert_int_equal(r.ts_ms, 1795501438000LL);
	logparser_free(lp);

	/* hapA.cfg's unique-id-format read back: hex addresses and ports glued by ':' and '_' */
	lp = logparser_new("%{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid", err, sizeof(err));
	assert_non_null(lp);
	parse_exact(lp, "7F000001:9FF4_7F000001:9143_6B052D83_0030:6E5A", 46, &r);
	assert_int_equal(r.status, LR_OK);
	assert_true(str_is(&r.client_ip, "7F000001"));
	assert_int_equal(r.client_port, 0x9FF4);
	assert_true(str_is(&r.dst_ip, "7F000001"));
	assert_int_equal(r.dst_port, 0x9143);
	assert_int_equal(r.ts_ms, 0x6B052D83LL * 1000);
	logparser_free(lp);

	/* the same in decimal, with IPv6 and IPv4-mapped addresses */
	lp = logparser_new("%ci:%cp_%fi:%fp", err, sizeof(err));
	assert_non_null(lp);
	parse_exact(lp, "::1:43402_2001:db8::5:443", 25, &r);
	assert_int_equal(r.status, LR_OK);
	assert_true(str_is(&r.client_ip, "::1"));
	assert_int_equal(r.client_port, 43402);
	assert_true(str_is(&r.dst_ip, "2001:db8::5"));
	assert_int_equal(r.dst_port, 443);
	parse_exact(lp, "::ffff:10.0.0.1:1234_10.0.0.2:80", 32, &r);
	assert_true(str_is(&r.client_ip, "::ffff:10.0.0.1"));
	assert_int_equal(r.client_port, 1234);
	assert_true(str_is(&r.dst_ip, "10.0.0.2"));
	assert_int_equal(r.dst_port, 80);
	logparser_free(lp);
}

/* Every prefix and random mutations of every sample: no crash, no read past the end, slices
 * inside the buffer (checked by parse_exact), for both parser kinds. */
static void test_bounds(void **state)
{
	char err[200];
	struct logparser *lps[2];
	struct logrec r;
	unsigned seed = 12345;
	char buf[1024];

	(void)state;
	lps[0] = auto_parser();
	lps[1] = logparser_new("clf", err, sizeof(err));
	assert_non_null(lps[1]);
	for (int pi = 0; pi < 2; pi++) {
		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
			size_t n = strlen(samples[i]);

			for (size_t k = 0; k <= n; k++)
				parse_exact(lps[pi], samples[i], k, &r);
			for (int m = 0; m < 3000; m++) {
				size_t len = n < sizeof(buf) ? n : sizeof(buf);

				memcpy(buf, samples[i], len);
				for (int j = 0; j < 4; j++) {
					seed = seed * 1103515245u + 12345u;
					size_t pos = (seed >> 8) % len;
					static const char pool[] =
						" []{}\"/:-+~<>0123456789.\0\n\\|";

					seed = seed * 1103515245u + 12345u;
					buf[pos] = pool[(seed >> 8) % (sizeof(pool) - 1)];
				}
				seed = seed * 1103515245u + 12345u;
				parse_exact(lps[pi], buf, (seed >> 8) % (len + 1), &r);
				assert_true(r.kind < LR_KIND_MAX);
			}
		}
	}
	logparser_free(lps[0]);
	logparser_free(lps[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_addr),   cmocka_unit_test(test_dates),
		cmocka_unit_test(test_syslog_year),  cmocka_unit_test(test_captures),
		cmocka_unit_test(test_truncation),   cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_format_match), cmocka_unit_test(test_bounds),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(last_copy);
	return rc;
}
