/* halog export's tables (store/export.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/export.h"

static const char export_schema[] =
	"CREATE TABLE lines(id INTEGER PRIMARY KEY, recv_ms INTEGER NOT NULL, ts_ms INTEGER,"
	" source TEXT, kind INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT, pri INTEGER,"
	" host TEXT, program TEXT, pid INTEGER, framing INTEGER, flags INTEGER NOT NULL DEFAULT 0,"
	" raw BLOB NOT NULL);"
	"CREATE TABLE requests(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, mode TEXT,"
	" frontend TEXT, backend TEXT, server TEXT, status INTEGER, term TEXT, client_ip TEXT,"
	" client_port INTEGER, method TEXT, path TEXT, query TEXT, version TEXT, uri TEXT,"
	" t_req INTEGER, t_wait INTEGER, t_connect INTEGER, t_resp INTEGER, t_active INTEGER,"
	" bytes_read INTEGER, bytes_uploaded INTEGER, cookie_req TEXT, cookie_resp TEXT,"
	" actconn INTEGER, feconn INTEGER, beconn INTEGER, srv_conn INTEGER, retries INTEGER,"
	" redispatched INTEGER, srv_queue INTEGER, backend_queue INTEGER, cap_req TEXT,"
	" cap_resp TEXT, ssl_sni TEXT, ssl_version TEXT, ssl_cipher TEXT, ssl_errors TEXT,"
	" unique_id TEXT, dst_ip TEXT, dst_port INTEGER, flags INTEGER NOT NULL DEFAULT 0);";

static void bind_str(sqlite3_stmt *s, int i, struct lr_str v)
{
	if (v.p)
		sqlite3_bind_text(s, i, v.p, (int)v.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
	if (v != LR_NONE)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static void bind_timer(sqlite3_stmt *s, int i, int32_t v)
{
	if (v != LR_TIMER_NONE)
		sqlite3_bind_int(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* One line into its rows. Returns an SQLite result code. */
static int put_line(sqlite3_stmt *li, sqlite3_stmt *rq, const struct store_line *ln)
{
	const struct logrec *r = &ln->rec;
	int i = 1;
	sqlite3_reset(li);
	sqlite3_bind_int64(li, i++, ln->pos.v);
	sqlite3_bind_int64(li, i++, ln->recv_ms);
	sqlite3_bind_int64(li, i++, ln->ts_ms);
	bind_str(li, i++, ln->source);
	sqlite3_bind_int(li, i++, r->kind);
	sqlite3_bind_int(li, i++, r->status);
	if (r->reason)
		sqlite3_bind_text(li, i++, r->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(li, i++);
	if (r->pri >= 0)
		sqlite3_bind_int(li, i++, r->pri);
	else
		sqlite3_bind_null(li, i++);
	bind_str(li, i++, r->host);
	bind_str(li, i++, r->tag);
	bind_i64(li, i++, r->pid);
	sqlite3_bind_int(li, i++, r->framing);
	sqlite3_bind_int(li, i++, (int)ln->flags);
	sqlite3_bind_blob(li, i++, ln->raw.p ? ln->raw.p : "", (int)ln->raw.len, SQLITE_STATIC);
	int rc = sqlite3_step(li);
	if (rc != SQLITE_DONE || (r->kind != LR_HTTP && r->kind != LR_TCP))
		return rc;
	struct lr_str term = {r->term[0] ? r->term : NULL, (uint32_t)strlen(r->term)};
	i = 1;
	sqlite3_reset(rq);
	sqlite3_bind_int64(rq, i++, ln->pos.v);
	sqlite3_bind_int64(rq, i++, ln->ts_ms);
	sqlite3_bind_text(rq, i++, r->kind == LR_HTTP ? "http" : "tcp", -1, SQLITE_STATIC);
	bind_str(rq, i++, r->frontend);
	bind_str(rq, i++, r->backend);
	bind_str(rq, i++, r->server);
	bind_i64(rq, i++, r->status_code);
	bind_str(rq, i++, term);
	bind_str(rq, i++, r->client_ip);
	bind_i64(rq, i++, r->client_port);
	bind_str(rq, i++, r->method);
	bind_str(rq, i++, r->path);
	bind_str(rq, i++, r->query);
	bind_str(rq, i++, r->version);
	bind_str(rq, i++, r->uri);
	bind_timer(rq, i++, r->t_req);
	bind_timer(rq, i++, r->t_wait);
	bind_timer(rq, i++, r->t_connect);
	bind_timer(rq, i++, r->t_resp);
	bind_timer(rq, i++, r->t_active);
	bind_i64(rq, i++, r->bytes_read);
	bind_i64(rq, i++, r->bytes_uploaded);
	bind_str(rq, i++, r->cookie_req);
	bind_str(rq, i++, r->cookie_resp);
	bind_i64(rq, i++, r->actconn);
	bind_i64(rq, i++, r->feconn);
	bind_i64(rq, i++, r->beconn);
	bind_i64(rq, i++, r->srv_conn);
	bind_i64(rq, i++, r->retries);
	sqlite3_bind_int(rq, i++, !!(r->flags & LR_F_REDISPATCH));
	bind_i64(rq, i++, r->srv_queue);
	bind_i64(rq, i++, r->backend_queue);
	bind_str(rq, i++, r->cap_req);
	bind_str(rq, i++, r->cap_resp);
	bind_str(rq, i++, r->ssl_sni);
	bind_str(rq, i++, r->ssl_version);
	bind_str(rq, i++, r->ssl_cipher);
	bind_str(rq, i++, r->ssl_errors);
	bind_str(rq, i++, r->unique_id);
	bind_str(rq, i++, r->dst_ip);
	bind_i64(rq, i++, r->dst_port);
	sqlite3_bind_int64(rq, i++, r->flags);
	return sqlite3_step(rq);
}

struct store_export {
	sqlite3 *db;
	sqlite3_stmt *li, *rq;
	char *path;
	int committed;
};

static int fail(struct store_export *x, char *err, size_t errsz)
{
	snprintf(err, errsz, "'%s': %s", x->path, x->db ? sqlite3_errmsg(x->db) : "out of memory");
	return -1;
}

struct store_export *store_export_create(const char *path, char *err, size_t errsz)
{
	struct store_export *x = calloc(1, sizeof(*x));
	if (!x || !(x->path = strdup(path))) {
		snprintf(err, errsz, "out of memory");
		free(x);
		return NULL;
	}
	if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(x->db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", NULL,
			 NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(x->db, export_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT INTO lines VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
			       &x->li, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    x->db,
		    "INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		    "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    -1, &x->rq, NULL) != SQLITE_OK) {
		fail(x, err, errsz);
		store_export_close(x);
		return NULL;
	}
	return x;
}

int store_export_line(struct store_export *x, const struct store_line *ln, char *err, size_t errsz)
{
	return put_line(x->li, x->rq, ln) == SQLITE_DONE ? 0 : fail(x, err, errsz);
}

int store_export_commit(struct store_export *x, char *err, size_t errsz)
{
	if (sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(x, err, errsz);
	x->committed = 1;
	return 0;
}

void store_export_close(struct store_export *x)
{
	if (!x)
		return;
	sqlite3_finalize(x->li);
	sqlite3_finalize(x->rq);
	sqlite3_close(x->db);
	if (!x->committed)
		remove(x->path);
	free(x->path);
	free(x);
}
