/* libFuzzer harness: the search query parser and its SQL compilation. Whatever parses must
 * compile to SQL that SQLite accepts, with exactly the parameters it declares. */
#include <assert.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "query/query.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;

static void setup(void)
{
	int rc = sqlite3_open(":memory:", &db);

	assert(rc == SQLITE_OK);
	rc = sqlite3_exec(db,
			  "CREATE TABLE lines(id INTEGER PRIMARY KEY, recv_ms, ts_ms, source, kind, status,"
			  " reason, pri, host, program, pid, raw BLOB);"
			  "CREATE TABLE requests(line_id INTEGER PRIMARY KEY, ts_ms, mode, frontend, backend,"
			  " server, status, term, client_ip, client_port, method, path, query, version);"
			  "CREATE TABLE events(line_id INTEGER PRIMARY KEY, ts_ms, kind, proxy, server, state,"
			  " reason, info);"
			  "INSERT INTO lines(raw, kind, status) VALUES('GET /api 500', 1, 0);",
			  NULL, NULL, NULL);
	assert(rc == SQLITE_OK);
	query_register(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sql = STRBUF_INIT;
	struct query *q;

	if (!db)
		setup();
	q = query_parse((const char *)data, size, &dl);
	if (!q) {
		assert(dl.errors > 0);
		goto out;
	}
	assert(query_sql(q, &sql) == 0);
	{
		struct strbuf full = STRBUF_INIT;
		sqlite3_stmt *st = NULL;
		int rc;

		strbuf_addstr(&full, "SELECT count(*) FROM lines l LEFT JOIN requests r ON r.line_id = l.id"
				     " LEFT JOIN events e ON e.line_id = l.id WHERE ");
		strbuf_add(&full, sql.buf, sql.len);
		rc = sqlite3_prepare_v2(db, full.buf, -1, &st, NULL);
		if (rc != SQLITE_OK)
			fprintf(stderr, "bad SQL: %s\n%s\n", sqlite3_errmsg(db), full.buf);
		assert(rc == SQLITE_OK);
		assert(sqlite3_bind_parameter_count(st) == query_param_count(q));
		assert(query_bind(q, st) == SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		strbuf_release(&full);
	}
	query_free(q);
out:
	strbuf_release(&sql);
	diag_release(&dl);
	return 0;
}
