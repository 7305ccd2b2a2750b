/* Unit tests for the query language (tools/halog/query/query.c): every query runs twice, through
 * a real store (the SQLite backend compiles the tree to SQL, store/sqlite_query.c) and through
 * the C evaluator query_match, on the same lines, and both must agree; then error messages and
 * positions, and the case-insensitive byte search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "parse/logrec.h"
#include "query/query.h"
#include "store/read.h"
#include "store/store.h"
#include "strbuf.h"

static char dir[256], path[512];
static struct store_reader *rd;
static const char source[] = "udp:127.0.0.1:5000";

struct row {
	int kind, status;
	const char *host, *program, *raw;
	size_t rawlen; /* 0: strlen(raw) */
	/* requests (when fe) */
	const char *fe, *be, *srv;
	int code; /* 0: NULL */
	const char *term, *client, *method, *path;
	/* events (when ev_proxy) */
	const char *ev_proxy, *ev_server, *ev_state;
};

static const char raw6[] = "garbage\0 ERROR \xff\xfe tail";

static const struct row rows[] = {
	/* 1 */ {1, 0, "web1", "haproxy",
		 "<134>Nov 24 06:23:52 web1 haproxy[100]: 127.0.0.1:40000 fe_http be_api/api1 "
		 "0/0/1/2/3 200 512 - - ---- \"GET /api/users?id=1 HTTP/1.1\"",
		 0, "fe_http", "be_api", "api1", 200, "----", "127.0.0.1", "GET", "/api/users",
		 NULL, NULL, NULL},
	/* 2 */
	{1, 0, "web2", "haproxy",
	 "<134>Nov 24 06:23:53 web2 haproxy[100]: 10.1.2.3:40001 fe_http be_api/<NOSRV> "
	 "0/-1/-1/-1/0 503 217 - - SC-- \"GET /api/orders HTTP/1.1\"",
	 0, "fe_http", "be_api", "<NOSRV>", 503, "SC--", "10.1.2.3", "GET", "/api/orders", NULL,
	 NULL, NULL},
	/* 3 */
	{1, 0, "web1", "haproxy",
	 "<134>Nov 24 06:23:54 web1 haproxy[100]: [::1]:40002 fe_http be_static/static1 "
	 "0/0/0/1/1 404 100 - - ---- \"POST /img/a.png HTTP/1.1\"",
	 0, "fe_http", "be_static", "static1", 404, "----", "::1", "POST", "/img/a.png", NULL, NULL,
	 NULL},
	/* 4 */
	{2, 0, "db-host", "haproxy",
	 "<134>Nov 24 06:23:55 db-host haproxy[7]: 192.168.0.5:5000 fe_tcp be_db/db1 "
	 "0/0/5000 0 SD 1/1/0/0/0 0/0",
	 0, "fe_tcp", "be_db", "db1", 0, "SD", "192.168.0.5", NULL, NULL, NULL, NULL, NULL},
	/* 5 */
	{5, 0, "web1", "haproxy",
	 "<129>Nov 24 06:23:56 web1 haproxy[100]: Server be_api/api1 is DOWN, reason: "
	 "Layer4 connection problem",
	 0, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, "be_api", "api1", "DOWN"},
	/* 6 */
	{0, 2, NULL, NULL, raw6, sizeof(raw6) - 1, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL},
	/* 7 */
	{9, 0, "web1", "sshd", "user typed '; DROP TABLE lines; -- and 100% _x_", 0, NULL, NULL,
	 NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

/* The numbers of the traffic rows: TR Tw Tc Tr Ta, bytes, retries; -1: absent. */
static const int64_t nums[][7] = {
	/* 1 */ {0, 0, 1, 2, 3, 512, 0},
	/* 2 */ {0, -1, -1, -1, 0, 217, 0},
	/* 3 */ {0, 0, 0, 1, 1, 100, 2},
	/* 4 */ {-1, 0, 0, -1, 5000, 1048577, -1},
};

static struct lr_str S(const char *v)
{
	struct lr_str r = {v, v ? (uint32_t)strlen(v) : 0};
	return r;
}

static size_t rawlen(const struct row *w)
{
	return w->rawlen ? w->rawlen : strlen(w->raw);
}

/* The parse record of a row, as the parser would have made it. */
static void rec_of(const struct row *w, struct logrec *r)
{
	logrec_clear(r);
	r->kind = (enum lr_kind)w->kind;
	r->status = (enum lr_status)w->status;
	r->host = S(w->host);
	r->tag = S(w->program);
	if (w->fe) {
		r->frontend = S(w->fe);
		r->backend = S(w->be);
		r->server = S(w->srv);
		r->status_code = w->code ? w->code : LR_NONE;
		if (w->term)
			snprintf(r->term, sizeof(r->term), "%s", w->term);
		r->client_ip = S(w->client);
		r->method = S(w->method);
		r->path = S(w->path);
	}
	if ((size_t)(w - rows) < sizeof(nums) / sizeof(nums[0])) {
		const int64_t *v = nums[w - rows];
		int32_t *timers[] = {&r->t_req, &r->t_wait, &r->t_connect, &r->t_resp,
				     &r->t_active};

		for (int i = 0; i < 5; i++)
			*timers[i] = v[i] < 0 ? LR_TIMER_NONE : (int32_t)v[i];
		r->bytes_read = v[5] < 0 ? LR_NONE : v[5];
		r->retries = v[6] < 0 ? LR_NONE : v[6];
	}
	r->ev_proxy = S(w->ev_proxy);
	r->ev_server = S(w->ev_server);
	r->ev_state = S(w->ev_state);
}

static int setup(void **state)
{
	char err[512];
	struct store *st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/halog-query-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/q.db", dir);
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct logrec r;
		struct store_msg m = {w->raw, rawlen(w), 1700000000000 + (int64_t)i * 1000, source,
				      0};

		rec_of(w, &r);
		r.ts_ms = m.recv_ms;
		assert_int_equal(store_add(st, &m, &r), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	rd = store_reader_open(path, err, sizeof(err));
	assert_non_null(rd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	store_reader_close(rd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The row (1-based) whose raw bytes a stored line holds. */
static size_t row_of(struct lr_str raw)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (raw.len == rawlen(&rows[i]) && !memcmp(raw.p, rows[i].raw, raw.len))
			return i + 1;
	fail_msg("a stored line that is no row");
	return 0;
}

/* The rows q matches, as "1,3,5" (static buffer), or "ERR col N: msg". The store's answer and
 * the C evaluator's must be the same. */
static const char *ids(const char *q)
{
	static char out[512];
	char mine[512];
	struct diag_list dl = DIAG_LIST_INIT;
	struct query *qq = query_parse(q, strlen(q), &dl);
	struct store_sel sel;
	struct store_cursor *c;
	const struct store_line *ln;
	size_t n = 0, m = 0;
	int rc;

	out[0] = mine[0] = '\0';
	if (!qq) {
		assert_true(dl.n > 0);
		snprintf(out, sizeof(out), "ERR col %u: %s", dl.items[0].col, dl.items[0].msg);
		diag_release(&dl);
		return out;
	}
	assert_int_equal(dl.n, 0);
	store_sel_init(&sel);
	sel.query = qq;
	sel.want = STORE_WANT_LINE;
	c = store_cursor_open(rd, &sel);
	if (!c)
		fail_msg("%s: %s", q, store_reader_errmsg(rd));
	while ((rc = store_cursor_next(c, &ln)) > 0)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%zu", n ? "," : "",
				      row_of(ln->raw));
	if (rc < 0)
		fail_msg("%s: %s", q, store_reader_errmsg(rd));
	store_cursor_close(c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct logrec r;

		rec_of(&rows[i], &r);
		if (query_match(qq, rows[i].raw, rawlen(&rows[i]), S(source), &r))
			m += (size_t)snprintf(mine + m, sizeof(mine) - m, "%s%zu", m ? "," : "",
					      i + 1);
	}
	if (strcmp(out, mine))
		fail_msg("query '%s': the store matched '%s', query_match '%s'", q, out, mine);
	query_free(qq);
	return out;
}

static void test_words(void **state)
{
	(void)state;
	assert_string_equal(ids(""), "1,2,3,4,5,6,7");
	assert_string_equal(ids("   "), "1,2,3,4,5,6,7");
	assert_string_equal(ids("haproxy"), "1,2,3,4,5");
	assert_string_equal(ids("get"), "1,2");		     /* case-insensitive */
	assert_string_equal(ids("GET api"), "1,2");	     /* implicit AND */
	assert_string_equal(ids("GET AND users"), "1");	     /* explicit AND */
	assert_string_equal(ids("\"get /api/users\""), "1"); /* phrase */
	assert_string_equal(ids("\"api/users\" \"HTTP/1.1\""), "1");
	assert_string_equal(ids("error"), "6");	   /* after a NUL byte */
	assert_string_equal(ids("\"\\xff\""), ""); /* escapes are not decoded */
	assert_string_equal(ids("100%"), "7");	   /* LIKE wildcards are plain text */
	assert_string_equal(ids("_x_"), "7");
	assert_string_equal(ids("nothing-like-this"), "");
	assert_string_equal(ids("\"say \\\"hi\\\"\""), ""); /* escaped quotes parse */
}

static void test_or_not_parens(void **state)
{
	(void)state;
	assert_string_equal(ids("404 OR 503"), "2,3");
	assert_string_equal(ids("404 OR 503 OR typed"), "2,3,7");
	assert_string_equal(ids("GET 503 OR POST"), "2,3"); /* AND binds tighter than OR */
	assert_string_equal(ids("haproxy -api"), "3,4");
	assert_string_equal(ids("haproxy -\"be_api/\""), "3,4");
	assert_string_equal(ids("-haproxy"), "6,7");
	assert_string_equal(ids("(404 OR 503) GET"), "2");
	assert_string_equal(ids("haproxy -(api OR static)"), "4");
	assert_string_equal(ids("((((web1))))"), "1,3,5");
	assert_string_equal(ids("or"), "2,6"); /* lower-case or is a word */
	assert_string_equal(ids("-backend:be_api haproxy"), "3,4");
	assert_string_equal(ids("--d"), "1,2,3,4,5,6,7"); /* - then the word "-d": nothing has it */
	/* NOT is '-' as a word of its own (upper case, as OR and AND) */
	assert_string_equal(ids("NOT status:2xx"), "2,3,4,5,6,7");
	assert_string_equal(ids("haproxy NOT (api OR static)"), "4");
	assert_string_equal(ids("haproxy AND NOT api"), "3,4");
	assert_string_equal(ids("503 OR NOT haproxy"), "2,6,7");
	assert_string_equal(ids("not"), ""); /* lower-case not is a word */
	assert_string_equal(ids("\"NOT\""), "");
	assert_string_equal(ids("NOTE"), "");
}

static void test_fields(void **state)
{
	(void)state;
	assert_string_equal(ids("backend:be_api"), "1,2,5"); /* requests and events */
	assert_string_equal(ids("backend:be_*"), "1,2,3,4,5");
	assert_string_equal(ids("backend:BE_API"), ""); /* names are case-sensitive */
	assert_string_equal(ids("server:api1"), "1,5");
	assert_string_equal(ids("server:\"<NOSRV>\""), "2");
	assert_string_equal(ids("server:<NOSRV>"), "2");
	assert_string_equal(ids("frontend:fe_tcp"), "4");
	assert_string_equal(ids("status:503"), "2");
	assert_string_equal(ids("status:5xx"), "2");
	assert_string_equal(ids("status:4XX"), "3");
	assert_string_equal(ids("status:>=404"), "2,3");
	assert_string_equal(ids("status:>404"), "2");
	assert_string_equal(ids("status:<404"), "1");
	assert_string_equal(ids("status:<=404"), "1,3");
	assert_string_equal(ids("-status:5xx haproxy"), "1,3,4,5"); /* no status: not 5xx */
	assert_string_equal(ids("state:SC"), "2");
	assert_string_equal(ids("state:SC--"), "2");
	assert_string_equal(ids("state:sc"), ""); /* 's' and 'S' differ in a termination state */
	assert_string_equal(ids("state:S"), "2,4");
	assert_string_equal(ids("state:?D"), "4");
	assert_string_equal(ids("state:----"), "1,3");
	assert_string_equal(ids("state:down"), "5"); /* event states ignore case */
	assert_string_equal(ids("state:DOWN"), "5");
	assert_string_equal(ids("host:web1"), "1,3,5,7");
	assert_string_equal(ids("host:WEB*"), "1,2,3,5,7");
	assert_string_equal(ids("program:sshd"), "7");
	assert_string_equal(ids("client:127.0.0.1"), "1");
	assert_string_equal(ids("client:10.0.0.0/8"), "2");
	assert_string_equal(ids("client:::1"), "3");
	assert_string_equal(ids("client:::/0"), "3");
	assert_string_equal(ids("client:0.0.0.0/0"), "1,2,4");
	assert_string_equal(ids("client:192.168.*"), "4");
	assert_string_equal(ids("kind:http"), "1,2,3");
	assert_string_equal(ids("kind:tcp"), "4");
	assert_string_equal(ids("KIND:TCP"), "4");
	assert_string_equal(ids("kind:server"), "5");
	assert_string_equal(ids("kind:event"), "5");
	assert_string_equal(ids("kind:unparsed"), "6");
	assert_string_equal(ids("kind:other"), "7");
	assert_string_equal(ids("path:/api"), "1,2");
	assert_string_equal(ids("path:/api/users"), "1");
	assert_string_equal(ids("path:*.png"), "3");
	assert_string_equal(ids("method:post"), "3");
	assert_string_equal(ids("parse:bad"), "6");
	assert_string_equal(ids("parse:ok"), "1,2,3,4,5,7");
	assert_string_equal(ids("source:udp:*"), "1,2,3,4,5,6,7");
	assert_string_equal(ids("Backend:be_db"), "4"); /* field names ignore case */
	assert_string_equal(ids("backend:\"be_api\" status:5xx"), "2");
	/* hagen's backends are be_<service>: backend:api finds them; backend:= is exact */
	assert_string_equal(ids("backend:api"), "1,2,5");
	assert_string_equal(ids("backend:db"), "4");
	assert_string_equal(ids("backend:=api"), "");
	assert_string_equal(ids("backend:=be_api"), "1,2,5");
	assert_string_equal(ids("backend:=\"be_db\""), "4");
	assert_string_equal(ids("backend:st*"), "3");
	assert_string_equal(ids("-backend:api kind:http"), "3");
	/* term: is state: */
	assert_string_equal(ids("term:SC"), "2");
	assert_string_equal(ids("term:?D"), "4");
	/* numbers of traffic lines: absent (-1, a TCP line's Tr) never matches */
	assert_string_equal(ids("ta:>2"), "1,4");
	assert_string_equal(ids("ta:>=5s"), "4");
	assert_string_equal(ids("ta:5000ms"), "4");
	assert_string_equal(ids("ta:<=1"), "2,3");
	assert_string_equal(ids("tr:>=0"), "1,3");
	assert_string_equal(ids("tr:2"), "1");
	assert_string_equal(ids("tw:>0"), "");
	assert_string_equal(ids("tw:0"), "1,3,4");
	assert_string_equal(ids("tc:>=1"), "1");
	assert_string_equal(ids("tq:0"), "1,2,3");
	assert_string_equal(ids("bytes:>1M"), "4");
	assert_string_equal(ids("bytes:>=1m"), "4");
	assert_string_equal(ids("bytes:<=200"), "3");
	assert_string_equal(ids("bytes:>1k"), "4");
	assert_string_equal(ids("bytes:512"), "1");
	assert_string_equal(ids("retries:>0"), "3");
	assert_string_equal(ids("retries:0"), "1,2");
	assert_string_equal(ids("-retries:>0"), "1,2,4,5,6,7");
	assert_string_equal(ids("TA:>2 Retries:<1"), "1");
}

static void test_regex(void **state)
{
	(void)state;
	assert_string_equal(ids("/api\\/(users|orders)/"), "1,2");
	assert_string_equal(ids("/GET /"), "1,2");
	assert_string_equal(ids("/get/"), "");
	assert_string_equal(ids("/get/i"), "1,2");
	assert_string_equal(ids("/ERROR \\xff/"), "6"); /* bytes, past a NUL */
	assert_string_equal(ids("/^<129>/ OR /^user/"), "5,7");
	assert_string_equal(ids("-/^</"), "6,7");
	assert_string_equal(ids("/img/a.png"), "3"); /* a path is a word, not a regex */
	assert_string_equal(ids("/x"), "");
	assert_string_equal(ids("/a(b/"), "ERR col 5: bad regex: missing closing parenthesis");
	assert_string_equal(ids("//"), "ERR col 1: empty regex");
}

/* A pattern that backtracks exponentially stops at the match limit: "no match", counted, in
 * the store and in the C evaluator alike. */
static void test_regex_limit(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const char *q = "/(.*a){25}/";
	struct query *qq = query_parse(q, strlen(q), &dl);
	char subject[3001], p[600], err[512];
	uint64_t before = query_regex_limit_hits();
	struct logrec r;
	struct store_sel sel;
	int64_t n = -1;

	(void)state;
	assert_non_null(qq);
	memset(subject, 'a', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = 'b';
	snprintf(p, sizeof(p), "%s/limit.db", dir);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	struct store_msg m = {subject, sizeof(subject), 1700000000000, source, 0};
	assert_non_null(st);
	logrec_clear(&r);
	assert_int_equal(store_add(st, &m, &r), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	struct store_reader *lr = store_reader_open(p, err, sizeof(err));
	assert_non_null(lr);
	store_sel_init(&sel);
	sel.query = qq;
	assert_int_equal(store_count(lr, &sel, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(query_regex_limit_hits(), before + 1);
	assert_int_equal(query_match(qq, subject, sizeof(subject), S(source), &r), 0);
	assert_int_equal(query_regex_limit_hits(), before + 2);
	store_reader_close(lr);
	query_free(qq);
}

static void test_injection(void **state)
{
	struct store_sel sel;
	int64_t n = -1;

	(void)state;
	assert_string_equal(ids("\"'; DROP TABLE lines; --\""), "7");
	assert_string_equal(ids("backend:\"x' OR 1=1 --\""), "");
	assert_string_equal(ids("\"%\" OR \"'\""), "7");
	assert_string_equal(ids("host:\"' OR ''='\""), "");
	/* every line is still there */
	store_sel_init(&sel);
	assert_int_equal(store_count(rd, &sel, &n), 0);
	assert_int_equal(n, 7);
}

static void test_errors(void **state)
{
	char big[QUERY_MAX_LEN + 2];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_string_equal(ids("foo (bar"), "ERR col 5: unbalanced parenthesis");
	assert_string_equal(ids("foo bar)"), "ERR col 8: unbalanced parenthesis");
	assert_string_equal(ids("(a) (b"), "ERR col 5: unbalanced parenthesis");
	assert_string_equal(ids("a \"bc"), "ERR col 3: unterminated quoted phrase");
	assert_string_equal(ids("backend:\"bc"), "ERR col 9: unterminated quoted phrase");
	assert_string_equal(ids("backend:"), "ERR col 1: empty value for field 'backend'");
	assert_string_equal(ids("x backend:\"\""), "ERR col 3: empty value for field 'backend'");
	assert_string_equal(ids("bakend:x"),
			    "ERR col 1: unknown field 'bakend' (did you mean 'backend'?)");
	assert_string_equal(ids("a stauts:500"),
			    "ERR col 3: unknown field 'stauts' (did you mean 'status'?)");
	assert_string_equal(ids("zzz:x"), "ERR col 1: unknown field 'zzz' (put the term in "
					  "quotes to search for it as text)");
	assert_string_equal(ids("http://x"), ""); /* a URL is text */
	assert_string_equal(ids("https://localhost"), "");
	assert_string_equal(ids("backend://x"), ""); /* a known field: the value is //x */
	assert_string_equal(ids("\"http://x\""), "");
	assert_string_equal(ids("10.0.0.1:80"), ""); /* not a field name: a word */
	assert_string_equal(ids("foo OR"), "ERR col 5: 'OR' needs a term on both sides");
	assert_string_equal(ids("OR foo"), "ERR col 1: 'OR' needs a term on both sides");
	assert_string_equal(ids("a OR OR b"), "ERR col 3: 'OR' needs a term on both sides");
	assert_string_equal(ids("(a OR) b"), "ERR col 4: 'OR' needs a term on both sides");
	assert_string_equal(ids("a AND"), "ERR col 3: 'AND' needs a term on both sides");
	assert_string_equal(ids("AND a"), "ERR col 1: 'AND' needs a term on both sides");
	assert_string_equal(ids("a ()"), "ERR col 3: empty parentheses");
	assert_string_equal(ids("a - b"), "ERR col 3: nothing to negate after '-' (put \"-\" in "
					  "quotes to search for it)");
	assert_string_equal(ids("a NOT"), "ERR col 3: nothing to negate after 'NOT' (put \"NOT\" "
					  "in quotes to search for it)");
	assert_string_equal(ids("NOT OR a"), "ERR col 1: nothing to negate after 'NOT' (put "
					     "\"NOT\" in quotes to search for it)");
	assert_string_equal(ids("(a NOT)"), "ERR col 4: nothing to negate after 'NOT' (put "
					    "\"NOT\" in quotes to search for it)");
	assert_string_equal(ids("\"\""), "ERR col 1: empty phrase");
	assert_string_equal(ids("status:5x"),
			    "ERR col 8: invalid status '5x' (expected e.g. 503, 5xx, >=500, <400)");
	assert_string_equal(ids("status:>=abc"), "ERR col 8: invalid status '>=abc' (expected "
						 "e.g. 503, 5xx, >=500, <400)");
	assert_string_equal(ids("kind:htp"),
			    "ERR col 6: unknown kind 'htp' (did you mean 'http'?)");
	assert_string_equal(
		ids("parse:great"),
		"ERR col 7: unknown parse status 'great' (expected ok, partial or bad)");
	assert_string_equal(ids("ta:>abc"), "ERR col 4: invalid ta '>abc' (expected "
					    "milliseconds, e.g. 500, >500, >=2s, <=100ms)");
	assert_string_equal(ids("ta:-1"), "ERR col 4: invalid ta '-1' (expected milliseconds, "
					  "e.g. 500, >500, >=2s, <=100ms)");
	assert_string_equal(ids("bytes:1T"),
			    "ERR col 7: invalid bytes '1T' (expected bytes, e.g. 1000, >1M, <=64k)");
	assert_string_equal(ids("bytes:>k"),
			    "ERR col 7: invalid bytes '>k' (expected bytes, e.g. 1000, >1M, <=64k)");
	assert_string_equal(ids("retries:1.5"),
			    "ERR col 9: invalid retries '1.5' (expected a count, e.g. 0, >0, >=3)");
	assert_string_equal(ids("backend:="), "ERR col 1: empty value for field 'backend'");
	assert_string_equal(ids("terms:SC"), "ERR col 1: unknown field 'terms' (did you mean "
					    "'term'?)");
	assert_string_equal(ids("client:nope"),
			    "ERR col 8: invalid client address 'nope' (expected an IP, a CIDR such "
			    "as 10.0.0.0/8, or a pattern with *)");

	/* depth, length and term bounds */
	for (int i = 0; i < QUERY_MAX_DEPTH + 1; i++)
		strbuf_addch(&sb, '(');
	strbuf_addch(&sb, 'a');
	for (int i = 0; i < QUERY_MAX_DEPTH + 1; i++)
		strbuf_addch(&sb, ')');
	assert_string_equal(ids(sb.buf), "ERR col 33: parentheses nested deeper than 32");
	strbuf_reset(&sb);
	for (int i = 0; i < QUERY_MAX_DEPTH; i++)
		strbuf_addch(&sb, '(');
	strbuf_addch(&sb, 'a');
	for (int i = 0; i < QUERY_MAX_DEPTH; i++)
		strbuf_addch(&sb, ')');
	assert_string_equal(ids(sb.buf), "1,2,3,4,5,6,7");
	strbuf_reset(&sb);
	for (int i = 0; i < QUERY_MAX_TERMS + 1; i++)
		strbuf_addstr(&sb, "a ");
	assert_string_equal(ids(sb.buf), "ERR col 513: more than 256 terms in the query");
	strbuf_release(&sb);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(ids(big), "ERR col 4097: query longer than 4096 bytes");
}

static void test_many_errors(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const char *q = "bakend:x sever:y status:";

	(void)state;
	assert_null(query_parse(q, strlen(q), &dl));
	assert_int_equal(dl.n, 3);
	assert_int_equal(dl.items[0].col, 1);
	assert_int_equal(dl.items[1].col, 10);
	assert_string_equal(dl.items[1].msg, "unknown field 'sever' (did you mean 'server'?)");
	assert_int_equal(dl.items[2].col, 18);
	diag_release(&dl);
}

static void test_print_errors(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const char *q = "caf\xc3\xa9 \x1b (x";
	char buf[512];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(fp);
	assert_null(query_parse(q, strlen(q), &dl));
	query_print_errors(&dl, q, strlen(q), fp, "halog");
	fclose(fp);
	assert_string_equal(buf, "halog: query:1:9: error: unbalanced parenthesis\n"
				 "    caf\xc3\xa9 \\x1b (x\n"
				 "              ^\n");
	diag_release(&dl);
}

static void test_contains(void **state)
{
	(void)state;
	assert_int_equal(query_contains("Hello World", 11, "world", 5), 1);
	assert_int_equal(query_contains("Hello World", 11, "worlds", 6), 0);
	assert_int_equal(query_contains("a\0bC", 4, "bc", 2), 1);
	assert_int_equal(query_contains("a\0bC", 4, "a\0b", 3), 1);
	assert_int_equal(query_contains("abc", 3, "", 0), 1);
	assert_int_equal(query_contains("", 0, "a", 1), 0);
	assert_int_equal(query_contains("ab", 2, "abc", 3), 0);
	assert_int_equal(query_contains("xxAbAbAc", 8, "abac", 4), 1);
	assert_int_equal(query_contains("\xff\xfe", 2, "\xfe", 1), 1);
	assert_int_equal(query_contains("\xc3\x89", 2, "\xc3\xa9", 2), 0); /* ASCII folding only */
	assert_int_equal(query_contains("AAAAAAAAAb", 10, "ab", 2), 1);
	assert_int_equal(query_contains("aaaaaaaaaB", 10, "ab", 2), 1);
	assert_int_equal(query_contains("1234", 4, "34", 2), 1);
	assert_int_equal(query_contains("1234", 4, "35", 2), 0);
	assert_int_equal(query_contains("x\0\001y", 4, "\0\001", 2), 1); /* memmem path */
	assert_int_equal(query_contains("x\0\002y", 4, "\0\001", 2), 0);
}

static void test_glob_cidr(void **state)
{
	static const unsigned char ten[18] = {4, 8, 10};
	static const unsigned char loop6[18] = {6, 128, 0, 0, 0, 0, 0, 0, 0, 0,
						0, 0, 0, 0, 0, 0, 0, 1};

	(void)state;
	assert_int_equal(query_glob("be_*", 4, 0, "be_api", 6), 1);
	assert_int_equal(query_glob("be_*", 4, 0, "fe_api", 6), 0);
	assert_int_equal(query_glob("*.png", 5, 0, "/a.png.png", 10), 1);
	assert_int_equal(query_glob("*a*b*", 5, 0, "xxaxxbxx", 8), 1);
	assert_int_equal(query_glob("*a*b", 4, 0, "xxaxxbxx", 8), 0);
	assert_int_equal(query_glob("?D*", 3, 1, "SD", 2), 1);
	assert_int_equal(query_glob("?D*", 3, 0, "SD", 2), 0); /* '?' is a byte without qmark */
	assert_int_equal(query_glob("", 0, 0, "", 0), 1);
	assert_int_equal(query_glob("*", 1, 0, "", 0), 1);
	assert_int_equal(query_cidr_match(ten, "10.9.8.7", 8), 1);
	assert_int_equal(query_cidr_match(ten, "11.9.8.7", 8), 0);
	assert_int_equal(query_cidr_match(ten, "::ffff:10.1.2.3", 15), 1); /* v4-mapped */
	assert_int_equal(query_cidr_match(ten, "::1", 3), 0);
	assert_int_equal(query_cidr_match(loop6, "::1", 3), 1);
	assert_int_equal(query_cidr_match(loop6, "unix", 4), 0);
}

/* Random queries from a token alphabet: every one either runs in the store, with the same
 * answer as the C evaluator, or fails with at least one positioned error; nothing crashes or
 * leaks (ASan). */
static void test_random_queries(void **state)
{
	static const char *const toks[] = {
		"a",
		"GET",
		"\"x y\"",
		"\"",
		"(",
		")",
		" ",
		"OR",
		"AND",
		"NOT",
		"-",
		"status:5xx",
		"status:>=4",
		"ta:>1",
		"bytes:<1k",
		"backend:api",
		"term:S",
		"backend:be_*",
		"/a.c/i",
		"/(/",
		"state:?",
		"client:::1",
		"kind:tcp",
		"path:/",
		"host:",
		"x:y",
		"\\",
		"*",
		"%",
		"'",
		"\x01",
		"\xff",
		":",
	};
	uint32_t seed = 12345;
	int ok = 0, bad = 0;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		struct strbuf sb = STRBUF_INIT;
		const char *r;
		int n;

		seed = seed * 1103515245u + 12345u;
		n = (int)((seed >> 16) % 12);
		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			strbuf_addstr(&sb, toks[(seed >> 16) % (sizeof(toks) / sizeof(toks[0]))]);
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 3)
				strbuf_addch(&sb, ' ');
		}
		r = ids(sb.buf);
		if (!strncmp(r, "ERR col ", 8))
			bad++;
		else
			ok++;
		strbuf_release(&sb);
	}
	assert_true(ok > 100);
	assert_true(bad > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),	       cmocka_unit_test(test_or_not_parens),
		cmocka_unit_test(test_fields),	       cmocka_unit_test(test_regex),
		cmocka_unit_test(test_injection),      cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_errors),    cmocka_unit_test(test_print_errors),
		cmocka_unit_test(test_contains),       cmocka_unit_test(test_regex_limit),
		cmocka_unit_test(test_glob_cidr),
		cmocka_unit_test(test_random_queries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
