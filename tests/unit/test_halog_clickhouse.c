/* Unit tests for the ClickHouse store's pure parts: the clickhouse:// URL (store/chhttp.c) and
 * the RowBinary row codec (store/chschema.c), which the sink writes and the readers decode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "parse/logparse.h"
#include "store/chhttp.h"
#include "store/chschema.h"
#include "store/chsink.h"

static void test_url_forms(void **state)
{
	struct ch_url u;
	char err[512];

	(void)state;
	unsetenv("HALOG_CLICKHOUSE_USER");
	unsetenv("HALOG_CLICKHOUSE_PASSWORD");
	assert_int_equal(ch_url_parse("clickhouse://127.0.0.1/halog", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8123);
	assert_string_equal(u.db, "halog");
	assert_string_equal(u.user, "default");
	assert_string_equal(u.password, "");
	assert_string_equal(u.compress, "none"); /* loopback */
	assert_int_equal(u.batch, 100000);
	assert_int_equal(u.memory, 256u << 20);
	assert_int_equal(ch_url_parse("clickhouse://ch1.example/halog", &u, err, sizeof(err)), 0);
	assert_string_equal(u.compress, "gzip");
	assert_int_equal(ch_url_parse("clickhouse://127.0.0.1/halog?compress=gzip", &u, err,
				      sizeof(err)),
			 0);
	assert_string_equal(u.compress, "gzip");
	assert_int_equal(ch_url_parse("clickhouse://127.0.0.1/halog", &u, err, sizeof(err)), 0);
	assert_string_equal(u.text, "clickhouse://127.0.0.1:8123/halog");
	assert_int_equal(ch_url_parse("clickhouse://bob:s%40cret@[::1]:9123/logs_2?cluster=c1&"
				      "memory=8M&spool_max=1G&batch=500&batch_ms=2s&"
				      "compress=none&spool=/tmp/a%20b",
				      &u, err, sizeof(err)),
			 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9123);
	assert_string_equal(u.user, "bob");
	assert_string_equal(u.password, "s@cret");
	assert_string_equal(u.cluster, "c1");
	assert_int_equal(u.memory, 8u << 20);
	assert_int_equal(u.spool_max, 1u << 30);
	assert_int_equal(u.batch, 500);
	assert_int_equal(u.batch_ms, 2000);
	assert_string_equal(u.compress, "none");
	assert_string_equal(u.spool, "/tmp/a b");
	assert_string_equal(u.text, "clickhouse://[::1]:9123/logs_2");
	setenv("HALOG_CLICKHOUSE_PASSWORD", "fromenv", 1);
	assert_int_equal(ch_url_parse("clickhouse://h:1/d?user=u", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.password, "fromenv");
	unsetenv("HALOG_CLICKHOUSE_PASSWORD");
	assert_true(ch_is_url("clickhouse://x"));
	assert_false(ch_is_url("halog.db"));
}

static void test_url_rejects(void **state)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
		{"http://h/d", "expected clickhouse://HOST:PORT/DATABASE"},
		{"clickhouse://h", "expected clickhouse://HOST:PORT/DATABASE"},
		{"clickhouse://h/d-b", "a database name of letters, digits and '_'"},
		{"clickhouse://h:0/d", "bad HOST:PORT"},
		{"clickhouse://h/d?colour=red", "unknown option 'colour'"},
		{"clickhouse://h/d?memory=lots", "option 'memory': bad value 'lots'"},
		{"clickhouse://h/d?batch=2000000", "option 'batch': bad value"},
		{"clickhouse://h/d?batch_ms", "option 'batch_ms' has no value"},
		{"clickhouse://h/d?cluster=a;b", "option 'cluster': bad value"},
		{"clickhouse://h/d?compress=zstd", "gzip or none"},
	};
	struct ch_url u;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ch_url_parse(bad[i].url, &u, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: got '%s', want '%s'", bad[i].url, err, bad[i].why);
	}
}

/* ch_url_redact hides what ch_url_parse takes as a password, and only that */
static void test_url_redact(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"halog.db", "halog.db"},
		{"/var/lib/x?password=y.db", "/var/lib/x?password=y.db"}, /* a path: no "://" */
		{"clickhouse://h:8123/d", "clickhouse://h:8123/d"},
		{"clickhouse://bob:s%40cret@[::1]:9123/d", "clickhouse://bob:***@[::1]:9123/d"},
		{"clickhouse://bob@h/d", "clickhouse://bob@h/d"},
		{"clickhouse://a:b@c:d@h/d", "clickhouse://a:***@h/d"}, /* the last '@' ends it */
		{"clickhouse://h/d?user=u&password=p&spool=/s",
		 "clickhouse://h/d?user=u&password=***&spool=/s"},
		{"clickhouse://h/d?password=&password=x",
		 "clickhouse://h/d?password=***&password=***"},
		{"clickhouse://h/d?password", "clickhouse://h/d?password"},
		{"clickhouse://h/d?state=/a@b:c&passwords=x",
		 "clickhouse://h/d?state=/a@b:c&passwords=x"},
		/* an '@' after '?' is no user's */
		{"clickhouse://h/d?x=1@y:z", "clickhouse://h/d?x=1@y:z"},
		{"http://u:p@h/", "http://u:***@h/"},
	};
	char buf[64];
	struct ch_url u;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(ch_url_redact(cases[i].in, buf, sizeof(buf)), cases[i].out);
	assert_string_equal(ch_url_redact("clickhouse://u:pw@h/d", buf, 12), "clickhouse:");
	assert_string_equal(ch_url_redact("clickhouse://u:pw@h/d", buf, 17), "clickhouse://u:*");
	/* the parser's messages show the URL the same way, and no bad password */
	assert_int_equal(ch_url_parse("clickhouse://u:pw@h:0/d?password=pw2", &u, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "'clickhouse://u:***@h:0/d?password=***': bad HOST:PORT 'h:0'");
	assert_int_equal(ch_url_parse("clickhouse://h/d?password=p%zz", &u, err, sizeof(err)), -1);
	assert_string_equal(err, "'h': option 'password': bad value '***'");
}

#define SAME_STR(f)                                                                                \
	do {                                                                                       \
		assert_int_equal(ln->rec.f.len, rec->f.len);                                       \
		assert_int_equal(!ln->rec.f.p, !rec->f.p);                                         \
		if (rec->f.len)                                                                    \
			assert_memory_equal(ln->rec.f.p, rec->f.p, rec->f.len);                    \
	} while (0)
#define SAME_INT(f) assert_true(ln->rec.f == rec->f)

/* Every field of ln is the one of m and rec. */
static void assert_same_line(const struct store_line *ln, const struct store_msg *m,
			     const struct logrec *rec, int64_t ts_ms)
{
	assert_int_equal(ln->recv_ms, m->recv_ms);
	assert_int_equal(ln->ts_ms, ts_ms);
	assert_int_equal(ln->raw.len, m->len);
	assert_memory_equal(ln->raw.p, m->raw, m->len);
	assert_int_equal(ln->source.len, strlen(m->source));
	assert_string_equal(ln->rec.term, rec->term);
	if (rec->reason)
		assert_string_equal(ln->rec.reason, rec->reason);
	else
		assert_null(ln->rec.reason);
	SAME_INT(kind); SAME_INT(status); SAME_INT(framing); SAME_INT(pri); SAME_INT(syslog_ms);
	SAME_INT(pid); SAME_INT(flags); SAME_INT(client_port); SAME_INT(ts_ms); SAME_INT(t_req);
	SAME_INT(t_wait); SAME_INT(t_connect); SAME_INT(t_resp); SAME_INT(t_active);
	SAME_INT(status_code); SAME_INT(bytes_read); SAME_INT(bytes_uploaded); SAME_INT(actconn);
	SAME_INT(feconn); SAME_INT(beconn); SAME_INT(srv_conn); SAME_INT(retries);
	SAME_INT(srv_queue); SAME_INT(backend_queue); SAME_INT(dst_port); SAME_INT(ev_check_ms);
	SAME_INT(ev_backup); SAME_INT(ev_active_left); SAME_INT(ev_backup_left);
	SAME_STR(host); SAME_STR(tag); SAME_STR(sd); SAME_STR(client_ip); SAME_STR(frontend);
	SAME_STR(bind); SAME_STR(backend); SAME_STR(server); SAME_STR(cookie_req);
	SAME_STR(cookie_resp); SAME_STR(cap_req); SAME_STR(cap_resp); SAME_STR(request);
	SAME_STR(method); SAME_STR(uri); SAME_STR(path); SAME_STR(query); SAME_STR(version);
	SAME_STR(ssl_sni); SAME_STR(ssl_version); SAME_STR(ssl_cipher); SAME_STR(ssl_errors);
	SAME_STR(unique_id); SAME_STR(dst_ip); SAME_STR(mode); SAME_STR(message);
	SAME_STR(ev_proxy); SAME_STR(ev_server); SAME_STR(ev_state); SAME_STR(ev_reason);
	SAME_STR(ev_info);
}

/* A parsed line, encoded as the sink does and decoded as the readers do, is the same record;
 * so is a row of schema 2, read as such and rewritten as schema 3. */
static void test_row_roundtrip(void **state)
{
	static const char *const lines[] = {
		"<134>Dec  1 00:00:08 lb1 haproxy[4242]: 10.205.116.105:34153 [30/Nov/2025:23:59:38.258]"
		" fe_https~ be_api/api1 0/0/2/44/30049 200 155 - - cD-- 240/194/156/13/0 0/0"
		" {www.example.com|curl/8} {application/json} \"GET /api/v1/search?q=a%20b HTTP/1.1\"",
		"<129>Nov 24 06:27:22 haproxy[959]: Backup Server beD_app/bk1 is DOWN, reason: Layer4"
		" connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0"
		" backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
		"not a haproxy line \x01 with a control byte",
		/* an empty response capture and an empty query: there, not absent */
		"<134>Dec  1 00:00:08 lb1 haproxy[4242]: 10.0.0.1:34153 [30/Nov/2025:23:59:38.258]"
		" fe_https~ be_api/api1 0/0/2/44/49 200 155 - - ---- 1/1/1/1/0 0/0"
		" {www.example.com|} {} \"GET /x? HTTP/1.1\"",
	};
	char err[256], reason[256];
	struct logparser *lp = logparser_new(NULL, err, sizeof(err));
	struct strbuf sb = STRBUF_INIT, wide = STRBUF_INIT;
	uint32_t off;

	(void)state;
	assert_non_null(lp);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct logrec rec;
		struct store_msg m = {lines[i], strlen(lines[i]), 1764547200123, "udp:127.0.0.1:1", 0};
		struct chrow_id id = {0x1234567890abcdefULL, 77, 0}, back;
		struct store_line ln;
		const char *p;

		logparse_message(lp, lines[i], strlen(lines[i]), &rec);
		id.ts_ms = ch_logged_ms(&m, &rec);
		strbuf_reset(&sb);
		assert_int_equal(chrow_encode(&sb, &id, &m, &rec), 0);
		p = sb.buf;
		memset(&back, 0, sizeof(back));
		assert_int_equal(chrow_decode(&p, sb.buf + sb.len, ch_fmt_narrow, &ln, &back, reason,
					      sizeof(reason)),
				 0);
		assert_ptr_equal(p, sb.buf + sb.len);
		assert_true(back.batch == id.batch);
		assert_int_equal(back.seq, 77);
		assert_int_equal(ln.pos.v, (m.recv_ms << CH_POS_SHIFT) | 77);
		assert_same_line(&ln, &m, &rec, id.ts_ms);
		/* a row of schema 2 (an older halog's spool) reads the same, and as schema 3 */
		strbuf_reset(&wide);
		assert_int_equal(chrow_encode_fmt(&wide, ch_fmt_wide, &id, &m, &rec), 0);
		/* the parsed strings are places in raw: no longer than the wide row */
		assert_true(sb.len <= wide.len);
		p = wide.buf;
		assert_int_equal(chrow_decode(&p, wide.buf + wide.len, ch_fmt_wide, &ln, &back, reason,
					      sizeof(reason)),
				 0);
		assert_same_line(&ln, &m, &rec, id.ts_ms);
		strbuf_reset(&sb);
		assert_int_equal(chrows_from_wide(wide.buf, wide.len, 1, &sb, &off), 0);
		assert_int_equal(off, 0);
		p = sb.buf;
		assert_int_equal(chrow_decode(&p, sb.buf + sb.len, ch_fmt_narrow, &ln, &back, reason,
					      sizeof(reason)),
				 0);
		assert_same_line(&ln, &m, &rec, id.ts_ms);
		assert_int_equal(back.seq, 77);
		assert_int_equal(chrows_from_wide(wide.buf, wide.len - 1, 1, &sb, &off), -1);
		/* a row cut short is refused, wherever it is cut */
		for (size_t cut = 0; cut < sb.len; cut += 7) {
			p = sb.buf;
			assert_int_equal(chrow_decode(&p, sb.buf + cut, ch_fmt_narrow, &ln, &back,
						      reason, sizeof(reason)),
					 -1);
		}
	}
	strbuf_release(&sb);
	strbuf_release(&wide);
	logparser_free(lp);
}

/* Rows as one Native block: the column and row counts, then per column its name, type and
 * values (the first column's are the rows' first 8 bytes each); rows cut short are refused. */
static void test_rows_native(void **state)
{
	static const char line[] = "<134>Dec  1 00:00:08 lb1 haproxy[4242]: 10.0.0.1:1 "
				   "[30/Nov/2025:23:59:38.258] fe be/s1 0/0/2/44/49 200 155 - - "
				   "---- 1/1/1/1/0 0/0 \"GET /x HTTP/1.1\"";
	char err[256];
	struct logparser *lp = logparser_new(NULL, err, sizeof(err));
	struct strbuf rows = STRBUF_INIT, nat = STRBUF_INIT;
	struct logrec rec;
	size_t cols = 0;

	(void)state;
	assert_non_null(lp);
	logparse_message(lp, line, strlen(line), &rec);
	for (uint32_t i = 0; i < 3; i++) {
		struct store_msg m = {line, strlen(line), 1764547200000 + i, "udp:1", 0};
		struct chrow_id id = {42, i, 1764547200000 + (int64_t)i * 1000};

		assert_int_equal(chrow_encode(&rows, &id, &m, &rec), 0);
	}
	for (const char *p = ch_insert_columns; p; p = strchr(p + 1, ','))
		cols++;
	assert_int_equal(chrows_native(rows.buf, rows.len, 3, &nat), 0);
	assert_int_equal((unsigned char)nat.buf[0], cols);
	assert_int_equal(nat.buf[1], 3);
	/* "ts_ms" "Int64", then the three logged times */
	assert_memory_equal(nat.buf + 2, "\x05ts_ms\x05Int64", 12);
	for (int i = 0; i < 3; i++) {
		int64_t v;

		memcpy(&v, nat.buf + 14 + 8 * i, 8);
		assert_int_equal(v, 1764547200000 + i * 1000);
	}
	assert_true(nat.len > rows.len);
	strbuf_reset(&nat);
	assert_int_equal(chrows_native(rows.buf, rows.len - 1, 3, &nat), -1);
	assert_int_equal(chrows_native(rows.buf, rows.len, 2, &nat), -1);
	assert_int_equal(nat.len, 0);
	strbuf_release(&rows);
	strbuf_release(&nat);
	logparser_free(lp);
}

/* The sink's watermark (what alerts over ClickHouse wait for): the oldest receive time of the
 * rows not acknowledged, in memory, then in the spool a later run sends first. Nothing listens
 * on port 9, so nothing is ever acknowledged. */
static void test_sink_watermark(void **state)
{
	static const char line[] = "<134>Dec  1 00:00:08 lb1 haproxy[4242]: not a request";
	static const int64_t recv[] = {3000, 2000, 4000};
	char dir[256], spool[300], url[400], err[256];
	struct logparser *lp = logparser_new(NULL, err, sizeof(err));
	struct chsink *s;
	struct logrec rec;

	(void)state;
	assert_non_null(lp);
	snprintf(dir, sizeof(dir), "%s/halog-chsink-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/s.spool", dir);
	snprintf(url, sizeof(url), "clickhouse://127.0.0.1:9/halog?batch_ms=600000&spool=%s",
		 spool);
	logparse_message(lp, line, strlen(line), &rec);
	s = chsink_open(url, spool, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(chsink_watermark(s, 5000), 5000); /* none waits: the caller's clock */
	for (size_t i = 0; i < 3; i++) {
		struct store_msg m = {line, strlen(line), recv[i], "udp:127.0.0.1:1", 0};

		assert_int_equal(chsink_add(s, CHSINK_NEW, &m, &rec), 0);
	}
	assert_int_equal(chsink_watermark(s, 5000), 2000);
	assert_int_equal(chsink_watermark(s, 1000), 1000);
	chsink_close(s, 0, NULL); /* the rows go to the spool */
	s = chsink_open(url, spool, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(chsink_watermark(s, 5000), 2000); /* the previous run's rows wait */
	chsink_close(s, 0, NULL);
	assert_int_equal(unlink(spool), 0);
	assert_int_equal(rmdir(dir), 0);
	logparser_free(lp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_url_rejects),
		cmocka_unit_test(test_url_redact),
		cmocka_unit_test(test_row_roundtrip),
		cmocka_unit_test(test_rows_native),
		cmocka_unit_test(test_sink_watermark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
