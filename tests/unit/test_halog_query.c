/* Unit tests for tools/halog/query/query.c: the query language against a small in-memory database
 * built with the store's contract columns, its error messages and positions, and the
 * case-insensitive byte search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "query/query.h"
#include "strbuf.h"

static sqlite3 *db;

static const char schema[] =
	"CREATE TABLE lines(id INTEGER PRIMARY KEY, recv_ms INTEGER NOT NULL, ts_ms INTEGER,"
	" source TEXT, kind INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT, pri INTEGER,"
	" host TEXT, program TEXT, pid INTEGER, raw BLOB NOT NULL);"
	"CREATE TABLE requests(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, mode TEXT,"
	" frontend TEXT, backend TEXT, server TEXT, status INTEGER, term TEXT, client_ip TEXT,"
	" client_port INTEGER, method TEXT, path TEXT, query TEXT, version TEXT);"
	"CREATE TABLE events(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, kind INTEGER NOT NULL,"
	" proxy TEXT, server TEXT, state TEXT, reason TEXT, info TEXT);";

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

static void exec_ok(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int setup(void **state)
{
	sqlite3_stmt *l, *r, *e;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(query_register(db), SQLITE_OK);
	exec_ok(schema);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "INSERT INTO lines(recv_ms, ts_ms, source, kind, status,"
				   " host, program, raw) VALUES(?,?,?,?,?,?,?,?)",
				   -1, &l, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "INSERT INTO requests(line_id, frontend, backend,"
					    " server, status, term, client_ip, method, path)"
					    " VALUES(?,?,?,?,?,?,?,?,?)",
					    -1, &r, NULL),
			 SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "INSERT INTO events(line_id, kind, proxy, server, state)"
				   " VALUES(?,?,?,?,?)",
				   -1, &e, NULL),
		SQLITE_OK);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		int64_t id = (int64_t)i + 1;

		sqlite3_bind_int64(l, 1, 1700000000000 + id * 1000);
		sqlite3_bind_int64(l, 2, 1700000000000 + id * 1000);
		sqlite3_bind_text(l, 3, "udp:127.0.0.1:5000", -1, SQLITE_STATIC);
		sqlite3_bind_int(l, 4, w->kind);
		sqlite3_bind_int(l, 5, w->status);
		bind_opt(l, 6, w->host);
		bind_opt(l, 7, w->program);
		sqlite3_bind_blob(l, 8, w->raw, (int)(w->rawlen ? w->rawlen : strlen(w->raw)),
				  SQLITE_STATIC);
		assert_int_equal(sqlite3_step(l), SQLITE_DONE);
		sqlite3_reset(l);
		sqlite3_clear_bindings(l);
		if (w->fe) {
			sqlite3_bind_int64(r, 1, id);
			bind_opt(r, 2, w->fe);
			bind_opt(r, 3, w->be);
			bind_opt(r, 4, w->srv);
			if (w->code)
				sqlite3_bind_int(r, 5, w->code);
			bind_opt(r, 6, w->term);
			bind_opt(r, 7, w->client);
			bind_opt(r, 8, w->method);
			bind_opt(r, 9, w->path);
			assert_int_equal(sqlite3_step(r), SQLITE_DONE);
			sqlite3_reset(r);
			sqlite3_clear_bindings(r);
		}
		if (w->ev_proxy) {
			sqlite3_bind_int64(e, 1, id);
			sqlite3_bind_int(e, 2, w->kind);
			bind_opt(e, 3, w->ev_proxy);
			bind_opt(e, 4, w->ev_server);
			bind_opt(e, 5, w->ev_state);
			assert_int_equal(sqlite3_step(e), SQLITE_DONE);
			sqlite3_reset(e);
		}
	}
	sqlite3_finalize(l);
	sqlite3_finalize(r);
	sqlite3_finalize(e);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sqlite3_close(db);
	return 0;
}

/* The ids of the lines q matches, as "1,3,5" (static buffer), or "ERR col N: msg". */
static const char *ids(const char *q)
{
	static char out[512];
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sql = STRBUF_INIT;
	struct query *qq = query_parse(q, strlen(q), &dl);
	sqlite3_stmt *st;
	size_t n = 0;

	out[0] = '\0';
	if (!qq) {
		assert_true(dl.n > 0);
		snprintf(out, sizeof(out), "ERR col %u: %s", dl.items[0].col, dl.items[0].msg);
		diag_release(&dl);
		return out;
	}
	assert_int_equal(dl.n, 0);
	strbuf_addstr(&sql, "SELECT l.id FROM lines l LEFT JOIN requests r ON r.line_id = l.id"
			    " LEFT JOIN events e ON e.line_id = l.id WHERE ");
	assert_int_equal(query_sql(qq, &sql), 0);
	strbuf_addstr(&sql, " ORDER BY l.id");
	if (sqlite3_prepare_v2(db, sql.buf, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql.buf, sqlite3_errmsg(db));
	assert_int_equal(query_bind(qq, st), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%lld", n ? "," : "",
				      (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	strbuf_release(&sql);
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

/* A pattern that backtracks exponentially stops at the match limit: "no match", counted. */
static void test_regex_limit(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const char *q = "/(.*a){25}/";
	struct query *qq = query_parse(q, strlen(q), &dl);
	struct strbuf sql = STRBUF_INIT;
	char subject[3001];
	uint64_t before = query_regex_limit_hits();
	sqlite3_stmt *st;

	(void)state;
	assert_non_null(qq);
	memset(subject, 'a', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = 'b';
	strbuf_addstr(&sql, "SELECT ");
	query_sql(qq, &sql);
	strbuf_addstr(&sql, " FROM (SELECT ?2 AS raw) AS l");
	assert_int_equal(sqlite3_prepare_v2(db, sql.buf, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(query_bind(qq, st), SQLITE_OK);
	sqlite3_bind_blob(st, 2, subject, sizeof(subject), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	assert_int_equal(query_regex_limit_hits(), before + 1);
	sqlite3_finalize(st);
	strbuf_release(&sql);
	query_free(qq);
}

static void test_injection(void **state)
{
	sqlite3_stmt *st;

	(void)state;
	assert_string_equal(ids("\"'; DROP TABLE lines; --\""), "7");
	assert_string_equal(ids("backend:\"x' OR 1=1 --\""), "");
	assert_string_equal(ids("\"%\" OR \"'\""), "7");
	assert_string_equal(ids("host:\"' OR ''='\""), "");
	/* the table is still there */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM lines", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 7);
	sqlite3_finalize(st);
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

/* Random queries from a token alphabet: every one either compiles to SQL that SQLite accepts
 * and runs, or fails with at least one positioned error; nothing crashes or leaks (ASan). */
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
		"-",
		"status:5xx",
		"status:>=4",
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
		cmocka_unit_test(test_random_queries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
