/* Block codec tests: every line of the corpus (and hostile lines) parsed, written into blocks,
 * compressed, read back: the raw bytes, the times and every parsed field come back equal;
 * columns-only reading; strings that are not slices of the raw line; corrupt input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/logparse.h"
#include "parse/logrec.h"
#include "store/block.h"

struct input {
	char *raw;
	size_t len;
	int64_t recv, ts;
	const char *source;
	unsigned flags;
	struct logrec rec;
};

static const char *const hostile[] = {
	"",
	"x",
	"<134>Nov 24 06:23:58 haproxy[28250]: 127.0.0.1:49222 [24/Nov/2026:06:23:58.508] fe_http "
	"be_app/s1 0/0/0/0/0 200 167 - - --NI 1/1/0/0/0 0/0 {a|b} {c} \"GET /x?y=1 HTTP/1.1\"",
	"<134>Nov 24 06:23:58 haproxy[28250]: 127.0.0.1:49222 [24/Nov/2026:06:23:58.508] fe_http "
	"be_app/s1 0/0/0/0/0 200 167 - - --NI 1/1/0/0/0 0/0 \"GET /cut",
	"<999>garbage",
	"<134>1 2026-11-24T06:23:58.509778+00:00 - haproxy 28250 - - 10.0.0.1:1 "
	"[24/Nov/2026:06:23:03.852] fe_tcp be_tcp/t1 1/0/1 168 -- 1/1/0/0/0 0/0",
	"<129>Nov 24 06:23:52 haproxy[28250]: Server be_down/d1 is DOWN, reason: Layer4 connection "
	"problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers "
	"left. 0 sessions active, 0 requeued, 0 remaining in queue.",
	"<134>Nov 24 06:24:03 haproxy[28250]: 127.0.0.1 - - [24/Nov/2026:06:24:03 +0000] \"GET "
	"/clf?x=1 HTTP/1.1\" 200 167 \"\" \"\" 37154 846 \"fe_clf\" \"be_app\" \"s2\" 0 0 0 0 0 "
	"--NI 1 1 0 0 0 0 0 \"\" \"\" \"clf.example\" ",
};

static struct input *inputs;
static size_t ninputs, ainputs;
static struct logparser *lp;

static void add_input(const char *p, size_t len, int64_t recv)
{
	if (ninputs == ainputs) {
		ainputs = ainputs ? ainputs * 2 : 1024;
		inputs = realloc(inputs, ainputs * sizeof(*inputs));
		assert_non_null(inputs);
	}
	struct input *in = &inputs[ninputs++];
	in->raw = malloc(len + 1);
	assert_non_null(in->raw);
	memcpy(in->raw, p, len);
	in->raw[len] = 0;
	in->len = len;
	in->recv = recv;
	in->source = ninputs % 3 ? "file:corpus" : (ninputs % 2 ? "udp:127.0.0.1:5000" : NULL);
	in->flags = ninputs % 17 == 0 ? BLOCK_LINE_TRUNCATED : 0;
	logparse_message(lp, in->raw, len, &in->rec);
	in->ts = in->rec.ts_ms != LR_NONE	? in->rec.ts_ms
		 : in->rec.syslog_ms != LR_NONE ? in->rec.syslog_ms
						: recv;
}

static void load_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (!fp)
		return;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		add_input(line, (size_t)n, 1764547200000 + (int64_t)ninputs * 7);
	}
	free(line);
	fclose(fp);
}

static int setup(void **state)
{
	char err[256];
	(void)state;
	lp = logparser_new(NULL, err, sizeof(err));
	assert_non_null(lp);
	logparser_set_now(lp, 1764547200000);
	static const char *const files[] = {
		"../shared/corpus/elastic-beats/haproxy.log",
		"../shared/corpus/elastic-beats/default.log",
		"../shared/corpus/elastic-beats/tcplog.log",
		"../shared/corpus/haproxy-doc/doc-examples.log",
		"../shared/corpus/lnav/format-samples.log",
		"../shared/corpus/lnav/logfile_haproxy.0",
		"../shared/corpus/generated-haproxy-2.6.12/udp/A-local.log",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		load_file(files[i]);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		add_input(hostile[i], strlen(hostile[i]), 1764547200000 - (int64_t)i * 1000);
	/* bytes a log line should not hold: NUL, LF, CR, invalid UTF-8 */
	static const char odd[] = "<134>Nov 24 06:23:58 h p[1]: a\0b\nc\r\xff\xfe d\n\ne";
	add_input(odd, sizeof(odd) - 1, 5);
	add_input("\n", 1, 6);
	add_input("\n\n\n", 3, 7);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < ninputs; i++)
		free(inputs[i].raw);
	free(inputs);
	logparser_free(lp);
	return 0;
}

static void str_equal(struct lr_str a, struct lr_str b, const char *what, size_t i)
{
	if (!a.p || !b.p) {
		if (a.p != b.p)
			fail_msg("line %zu: %s: one side absent", i, what);
		return;
	}
	if (a.len != b.len || memcmp(a.p, b.p, a.len))
		fail_msg("line %zu: %s: '%.*s' != '%.*s'", i, what, (int)a.len, a.p, (int)b.len,
			 b.p);
}

#define SAME_STR(f) str_equal(want->f, got->f, #f, i)
#define SAME_INT(f)                                                                                \
	do {                                                                                       \
		if ((int64_t)want->f != (int64_t)got->f)                                           \
			fail_msg("line %zu: %s: %lld != %lld", i, #f, (long long)want->f,          \
				 (long long)got->f);                                               \
	} while (0)

static void rec_equal(const struct logrec *want, const struct logrec *got, size_t i, int with_raw)
{
	SAME_INT(framing);
	SAME_INT(pri);
	SAME_INT(syslog_ms);
	SAME_INT(pid);
	SAME_INT(kind);
	SAME_INT(status);
	SAME_INT(flags);
	SAME_INT(client_port);
	SAME_INT(ts_ms);
	SAME_INT(t_req);
	SAME_INT(t_wait);
	SAME_INT(t_connect);
	SAME_INT(t_resp);
	SAME_INT(t_active);
	SAME_INT(status_code);
	SAME_INT(bytes_read);
	SAME_INT(bytes_uploaded);
	SAME_INT(actconn);
	SAME_INT(feconn);
	SAME_INT(beconn);
	SAME_INT(srv_conn);
	SAME_INT(retries);
	SAME_INT(srv_queue);
	SAME_INT(backend_queue);
	SAME_INT(dst_port);
	SAME_INT(ev_check_ms);
	SAME_INT(ev_backup);
	SAME_INT(ev_active_left);
	SAME_INT(ev_backup_left);
	if (strcmp(want->term, got->term))
		fail_msg("line %zu: term '%s' != '%s'", i, want->term, got->term);
	if (!want->reason != !got->reason || (want->reason && strcmp(want->reason, got->reason)))
		fail_msg("line %zu: reason", i);
	/* names are kept in the dictionary: present without the raw line too */
	SAME_STR(host);
	SAME_STR(tag);
	SAME_STR(frontend);
	SAME_STR(bind);
	SAME_STR(backend);
	SAME_STR(server);
	SAME_STR(method);
	SAME_STR(version);
	SAME_STR(ssl_version);
	SAME_STR(ssl_cipher);
	SAME_STR(mode);
	SAME_STR(ev_proxy);
	SAME_STR(ev_server);
	SAME_STR(ev_state);
	SAME_STR(ev_reason);
	if (!with_raw)
		return;
	SAME_STR(sd);
	SAME_STR(body);
	SAME_STR(client_ip);
	SAME_STR(cookie_req);
	SAME_STR(cookie_resp);
	SAME_STR(cap_req);
	SAME_STR(cap_resp);
	SAME_STR(request);
	SAME_STR(uri);
	SAME_STR(path);
	SAME_STR(query);
	SAME_STR(ssl_sni);
	SAME_STR(ssl_errors);
	SAME_STR(unique_id);
	SAME_STR(dst_ip);
	SAME_STR(message);
	SAME_STR(ev_info);
}

/* Writes inputs [from, from + n) as one block, compresses and reads it back. */
static void roundtrip(size_t from, size_t n, int with_raw)
{
	struct block_enc *e = block_enc_new();
	struct block_zip *z = block_zip_new();
	struct block_dec d;
	struct block_meta m;
	const void *raw, *cols, *zr, *zc, *ur, *uc;
	char err[256];
	assert_non_null(e);
	assert_non_null(z);
	memset(&d, 0, sizeof(d));
	for (size_t i = from; i < from + n; i++) {
		const struct input *in = &inputs[i];
		struct block_line ln = {in->raw, in->len, in->recv, in->ts, in->source, in->flags};
		assert_int_equal(block_enc_add(e, &ln, &in->rec), 0);
	}
	assert_int_equal(block_enc_finish(e, &m, &raw, &cols), 0);
	assert_int_equal(m.n, (int64_t)n);
	/* compressed, then decompressed: what a store does */
	size_t zrl = block_zip_pack(z, 0, raw, (size_t)m.raw_len, &zr);
	assert_true(zrl > 0);
	void *zrcopy = malloc(zrl);
	memcpy(zrcopy, zr, zrl);
	size_t zcl = block_zip_pack(z, 1, cols, (size_t)m.cols_len, &zc);
	assert_true(zcl > 0);
	assert_int_equal(
		block_zip_unpack(z, 0, zrcopy, zrl, (size_t)m.raw_len, &ur, err, sizeof(err)), 0);
	assert_int_equal(block_zip_unpack(z, 1, zc, zcl, (size_t)m.cols_len, &uc, err, sizeof(err)),
			 0);
	free(zrcopy);
	assert_int_equal(block_dec_open(&d, uc, (size_t)m.cols_len, with_raw ? ur : NULL,
					(size_t)m.raw_len, err, sizeof(err)),
			 0);
	struct block_rec br;
	int64_t rmin = INT64_MAX, rmax = INT64_MIN, tmin = INT64_MAX, tmax = INT64_MIN;
	for (size_t i = from; i < from + n; i++) {
		const struct input *in = &inputs[i];
		int rc = block_dec_next(&d, &br, err, sizeof(err));
		if (rc != 1)
			fail_msg("line %zu: %s", i, rc < 0 ? err : "missing");
		assert_int_equal(br.index, i - from);
		if (with_raw) {
			assert_int_equal(br.raw.len, in->len);
			assert_memory_equal(br.raw.p, in->raw, in->len);
		}
		assert_int_equal(br.recv_ms, in->recv);
		assert_int_equal(br.ts_ms, in->ts);
		assert_int_equal(br.flags, in->flags);
		str_equal(
			(struct lr_str){in->source, in->source ? (uint32_t)strlen(in->source) : 0},
			br.source, "source", i);
		rec_equal(&in->rec, &br.rec, i, with_raw);
		rmin = in->recv < rmin ? in->recv : rmin;
		rmax = in->recv > rmax ? in->recv : rmax;
		tmin = in->ts < tmin ? in->ts : tmin;
		tmax = in->ts > tmax ? in->ts : tmax;
	}
	assert_int_equal(block_dec_next(&d, &br, err, sizeof(err)), 0);
	assert_int_equal(m.recv_min, rmin);
	assert_int_equal(m.recv_max, rmax);
	assert_int_equal(m.ts_min, tmin);
	assert_int_equal(m.ts_max, tmax);
	block_dec_release(&d);
	block_zip_free(z);
	block_enc_free(e);
}

static void test_roundtrip_all(void **state)
{
	(void)state;
	assert_true(ninputs > 10);
	/* blocks of every size, cut wherever a block would fill */
	static const size_t sizes[] = {1, 2, 7, 100, BLOCK_MAX_LINES};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (size_t i = 0; i < ninputs; i += sizes[s])
			roundtrip(i, ninputs - i < sizes[s] ? ninputs - i : sizes[s], 1);
}

static void test_columns_only(void **state)
{
	(void)state;
	roundtrip(0, ninputs < BLOCK_MAX_LINES ? ninputs : BLOCK_MAX_LINES, 0);
}

/* A record built by hand: its strings are not slices of the raw line. */
static void test_strings_outside_raw(void **state)
{
	(void)state;
	struct block_enc *e = block_enc_new();
	struct block_dec d;
	struct block_meta m;
	struct logrec r;
	const void *raw, *cols;
	char err[256], other[] = "/elsewhere";
	memset(&d, 0, sizeof(d));
	logrec_clear(&r);
	r.kind = LR_HTTP;
	r.path.p = other;
	r.path.len = (uint32_t)strlen(other);
	r.client_ip.p = "10.0.0.1";
	r.client_ip.len = 8;
	r.backend.p = "be";
	r.backend.len = 2;
	memcpy(r.term, "SC--", 5);
	struct block_line ln = {"raw text", 8, 1, 2, NULL, 0};
	assert_int_equal(block_enc_add(e, &ln, &r), 0);
	memcpy(other, "/overwrite", 10); /* nothing borrowed */
	assert_int_equal(block_enc_finish(e, &m, &raw, &cols), 0);
	assert_int_equal(block_dec_open(&d, cols, (size_t)m.cols_len, raw, (size_t)m.raw_len, err,
					sizeof(err)),
			 0);
	struct block_rec br;
	assert_int_equal(block_dec_next(&d, &br, err, sizeof(err)), 1);
	assert_int_equal(br.rec.path.len, 10);
	assert_memory_equal(br.rec.path.p, "/elsewhere", 10);
	assert_memory_equal(br.rec.client_ip.p, "10.0.0.1", 8);
	assert_string_equal(br.rec.term, "SC--");
	assert_memory_equal(br.raw.p, "raw text", 8);
	block_dec_release(&d);
	block_enc_free(e);
}

/* Truncated, flipped or foreign columns are refused with a message, never read past. */
static void test_corrupt(void **state)
{
	(void)state;
	struct block_enc *e = block_enc_new();
	struct block_dec d;
	struct block_meta m;
	const void *raw, *cols;
	char err[256];
	memset(&d, 0, sizeof(d));
	size_t n = ninputs < 200 ? ninputs : 200;
	for (size_t i = 0; i < n; i++) {
		struct block_line ln = {inputs[i].raw, inputs[i].len,	 inputs[i].recv,
					inputs[i].ts,  inputs[i].source, 0};
		assert_int_equal(block_enc_add(e, &ln, &inputs[i].rec), 0);
	}
	assert_int_equal(block_enc_finish(e, &m, &raw, &cols), 0);
	unsigned char *c = malloc((size_t)m.cols_len);
	for (size_t cut = 0; cut < (size_t)m.cols_len; cut += 1 + cut / 3) {
		memcpy(c, cols, (size_t)m.cols_len);
		c[cut] ^= 0x5a;
		for (int pass = 0; pass < 2; pass++) {
			size_t len = pass ? cut : (size_t)m.cols_len;
			if (block_dec_open(&d, c, len, raw, (size_t)m.raw_len, err, sizeof(err)))
				continue;
			struct block_rec br;
			int rc;
			while ((rc = block_dec_next(&d, &br, err, sizeof(err))) == 1)
				;
			if (rc < 0)
				assert_non_null(strstr(err, "corrupt block"));
		}
	}
	/* the raw lines shorter than the columns say */
	assert_int_equal(block_dec_open(&d, cols, (size_t)m.cols_len, raw, (size_t)m.raw_len / 2,
					err, sizeof(err)),
			 0);
	struct block_rec br;
	int rc;
	while ((rc = block_dec_next(&d, &br, err, sizeof(err))) == 1)
		;
	assert_int_equal(rc, -1);
	c[0] = 99;
	assert_int_equal(
		block_dec_open(&d, c, (size_t)m.cols_len, raw, (size_t)m.raw_len, err, sizeof(err)),
		-1);
	free(c);
	block_dec_release(&d);
	block_enc_free(e);
}

static void test_fits(void **state)
{
	(void)state;
	struct block_enc *e = block_enc_new();
	struct logrec r;
	static char big[BLOCK_MAX_RAW + 10];
	logrec_clear(&r);
	assert_true(block_enc_fits(e, sizeof(big))); /* an empty block takes any line */
	struct block_line ln = {big, sizeof(big), 0, 0, NULL, 0};
	assert_int_equal(block_enc_add(e, &ln, &r), 0);
	assert_false(block_enc_fits(e, 1));
	block_enc_reset(e);
	ln.len = 10;
	for (int i = 0; i < BLOCK_MAX_LINES; i++) {
		assert_true(block_enc_fits(e, 10));
		assert_int_equal(block_enc_add(e, &ln, &r), 0);
	}
	assert_false(block_enc_fits(e, 10));
	assert_int_equal(block_enc_count(e), BLOCK_MAX_LINES);
	block_enc_free(e);
}

/* An encoder whose raw lines go into the caller's memory writes the bytes of one with its own,
 * leaves that memory to the caller, and moves its lines out for a line that does not fit
 * (under ASan, a write past it or a free of it fails). */
static void test_lent_raw(void **state)
{
	(void)state;
	unsigned char *lent = malloc(BLOCK_MAX_RAW);
	assert_non_null(lent);
	struct block_enc *e = block_enc_new_raw(lent, BLOCK_MAX_RAW), *o = block_enc_new();
	assert_non_null(e);
	assert_non_null(o);
	size_t n = ninputs < 100 ? ninputs : 100;
	for (size_t i = 0; i < n; i++) {
		const struct input *in = &inputs[i];
		struct block_line ln = {in->raw, in->len, in->recv, in->ts, in->source, in->flags};
		assert_int_equal(block_enc_add(e, &ln, &in->rec), 0);
		assert_int_equal(block_enc_add(o, &ln, &in->rec), 0);
	}
	struct block_meta me, mo;
	const void *re, *ce, *ro, *co;
	assert_int_equal(block_enc_finish(e, &me, &re, &ce), 0);
	assert_int_equal(block_enc_finish(o, &mo, &ro, &co), 0);
	assert_ptr_equal(re, lent);
	assert_int_equal(me.raw_len, mo.raw_len);
	assert_int_equal(me.cols_len, mo.cols_len);
	assert_memory_equal(re, ro, (size_t)mo.raw_len);
	assert_memory_equal(ce, co, (size_t)mo.cols_len);
	/* a first line longer than the lent bytes */
	static char big[BLOCK_MAX_RAW + 10];
	memset(big, 'x', sizeof(big));
	struct logrec r;
	logrec_clear(&r);
	block_enc_reset(e);
	struct block_line ln = {big, sizeof(big), 0, 0, NULL, 0};
	assert_int_equal(block_enc_add(e, &ln, &r), 0);
	assert_int_equal(block_enc_finish(e, &me, &re, &ce), 0);
	assert_ptr_not_equal(re, lent);
	assert_int_equal(me.raw_len, (int64_t)sizeof(big) + 1);
	assert_memory_equal(re, big, sizeof(big));
	block_enc_reset(e);
	ln.len = 10;
	assert_int_equal(block_enc_add(e, &ln, &r), 0);
	block_enc_free(e);
	block_enc_free(o);
	free(lent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_columns_only),
		cmocka_unit_test(test_strings_outside_raw),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_lent_raw),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
