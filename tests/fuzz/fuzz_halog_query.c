/* libFuzzer harness: the search query parser and its evaluation. Whatever parses must run in a
 * real store (the SQLite backend compiles it to SQL) without an error, and the store and the C
 * evaluator (query_match) must agree on every stored line. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse/logrec.h"
#include "query/query.h"
#include "store/read.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store_reader *rd;

static struct lr_str S(const char *s)
{
	struct lr_str r = {s, (uint32_t)strlen(s)};
	return r;
}

/* A store of three lines (a request, a server event, an unparsed line) in a temporary folder
 * that is removed at once: the reader keeps the file open. */
static void setup(void)
{
	char dir[] = "/tmp/fuzz-query-XXXXXX", path[64], err[256];
	struct store *st;
	struct logrec r;
	struct store_msg m = {"GET /api 500 be_api/a1", 22, 1700000000000, "udp:127.0.0.1:1", 0};

	assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.db", dir);
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	assert(st);
	logrec_clear(&r);
	r.kind = LR_HTTP;
	r.host = S("Web1");
	r.tag = S("haproxy");
	r.frontend = S("fe");
	r.backend = S("be_api");
	r.server = S("a1");
	r.status_code = 500;
	memcpy(r.term, "SH--", 5);
	r.client_ip = S("10.0.0.1");
	r.method = S("GET");
	r.path = S("/api");
	assert(store_add(st, &m, &r) == 0);
	logrec_clear(&r);
	r.kind = LR_SERVER;
	r.ev_proxy = S("be_api");
	r.ev_server = S("a1");
	r.ev_state = S("DOWN");
	m.raw = "Server be_api/a1 is DOWN";
	m.len = strlen(m.raw);
	assert(store_add(st, &m, &r) == 0);
	logrec_clear(&r);
	r.status = LR_BAD;
	m.raw = "x\0y";
	m.len = 3;
	assert(store_add(st, &m, &r) == 0);
	assert(store_commit(st) == 0);
	store_close(st);
	rd = store_reader_open(path, err, sizeof(err));
	assert(rd);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *q;

	if (!rd)
		setup();
	q = query_parse((const char *)data, size, &dl);
	if (!q) {
		assert(dl.errors > 0);
		goto out;
	}
	{
		struct store_sel sel;
		struct store_cursor *c;
		const struct store_line *ln;
		int rc;

		store_sel_init(&sel);
		sel.query = q;
		sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
		c = store_cursor_open(rd, &sel);
		if (!c)
			fprintf(stderr, "store: %s\n", store_reader_errmsg(rd));
		assert(c);
		/* every line the store matched, the C evaluator matches too */
		while ((rc = store_cursor_next(c, &ln)) > 0)
			assert(query_match(q, ln->raw.p, ln->raw.len, ln->source, &ln->rec));
		assert(rc == 0);
		store_cursor_close(c);
		/* and it matches no more lines than the store counts */
		{
			int64_t n = -1, mine = 0;

			store_sel_init(&sel);
			assert(store_count(rd, &sel, &n) == 0);
			store_sel_init(&sel);
			sel.want = STORE_WANT_LINE | STORE_WANT_FIELDS;
			c = store_cursor_open(rd, &sel);
			assert(c);
			while (store_cursor_next(c, &ln) > 0)
				mine += query_match(q, ln->raw.p, ln->raw.len, ln->source, &ln->rec);
			store_cursor_close(c);
			sel.query = q;
			assert(store_count(rd, &sel, &n) == 0);
			assert(n == mine);
		}
	}
	query_free(q);
out:
	diag_release(&dl);
	return 0;
}
