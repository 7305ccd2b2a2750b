/* Schema 1/2 -> 3: every lines row (with its requests or events row) into blocks (upgrade.h). */
#include "store/upgrade.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store/block.h"
#include "store/blockdb.h"

#define UPGRADE_BLOCKS_PER_TX 16

/* Columns of the select below, by name. */
enum {
	C_ID,
	C_RECV,
	C_TS,
	C_SOURCE,
	C_KIND,
	C_STATUS,
	C_REASON,
	C_PRI,
	C_HOST,
	C_PROGRAM,
	C_PID,
	C_FRAMING,
	C_FLAGS,
	C_RAW,
	R_ID,
	R_FRONTEND,
	R_BACKEND,
	R_SERVER,
	R_STATUS,
	R_TERM,
	R_CLIENT_IP,
	R_CLIENT_PORT,
	R_METHOD,
	R_PATH,
	R_QUERY,
	R_VERSION,
	R_URI,
	R_TREQ,
	R_TWAIT,
	R_TCONNECT,
	R_TRESP,
	R_TACTIVE,
	R_BYTES,
	R_BYTES_UP,
	R_COOKIE_REQ,
	R_COOKIE_RESP,
	R_ACTCONN,
	R_FECONN,
	R_BECONN,
	R_SRVCONN,
	R_RETRIES,
	R_SRVQ,
	R_BEQ,
	R_CAP_REQ,
	R_CAP_RESP,
	R_SSL_SNI,
	R_SSL_VERSION,
	R_SSL_CIPHER,
	R_SSL_ERRORS,
	R_UNIQUE_ID,
	R_DST_IP,
	R_DST_PORT,
	R_FLAGS,
	E_ID,
	E_PROXY,
	E_SERVER,
	E_STATE,
	E_REASON,
	E_INFO,
	E_CHECK,
	E_BACKUP,
	E_ACTIVE,
	E_BACKUP_LEFT,
	E_CLIENT_IP,
	E_CLIENT_PORT,
	E_DST_IP,
	E_DST_PORT,
	E_MODE
};

static const char select_sql[] =
	"SELECT l.id, l.recv_ms, l.ts_ms, l.source, l.kind, l.status, l.reason, l.pri, l.host,"
	" l.program, l.pid, l.framing, l.flags, l.raw,"
	" r.line_id, r.frontend, r.backend, r.server, r.status, r.term, r.client_ip, r.client_port,"
	" r.method, r.path, r.query, r.version, r.uri, r.t_req, r.t_wait, r.t_connect, r.t_resp,"
	" r.t_active, r.bytes_read, r.bytes_uploaded, r.cookie_req, r.cookie_resp, r.actconn,"
	" r.feconn, r.beconn, r.srv_conn, r.retries, r.srv_queue, r.backend_queue, r.cap_req,"
	" r.cap_resp, r.ssl_sni, r.ssl_version, r.ssl_cipher, r.ssl_errors, r.unique_id, r.dst_ip,"
	" r.dst_port, r.flags,"
	" e.line_id, e.proxy, e.server, e.state, e.reason, e.info, e.check_ms, e.backup,"
	" e.active_left, e.backup_left, e.client_ip, e.client_port, e.dst_ip, e.dst_port, e.mode"
	" FROM lines l LEFT JOIN requests r ON r.line_id = l.id"
	" LEFT JOIN events e ON e.line_id = l.id WHERE l.id > ?1 ORDER BY l.id";

int store_upgrade_pending(sqlite3 *db)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			       " AND name = 'lines'",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(s), n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	return n < 0 ? -1 : n > 0;
}

/* Where the column's bytes sit in the raw line (searched from *hint, then from the start), so
 * the block keeps a position rather than a copy; else the column's own bytes (copied into the
 * block's dictionary). Absent for NULL. */
static struct lr_str text(sqlite3_stmt *s, int col, const char *raw, size_t rawlen, size_t *hint)
{
	struct lr_str v = {NULL, 0};
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return v;
	const char *p = (const char *)sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	v.p = p ? p : "";
	v.len = (uint32_t)n;
	if (!raw || !n || n > rawlen)
		return v;
	const char *at = *hint < rawlen ? memmem(raw + *hint, rawlen - *hint, v.p, n) : NULL;
	if (!at)
		at = memmem(raw, rawlen, v.p, n);
	if (at) {
		v.p = at;
		*hint = (size_t)(at - raw) + n;
	}
	return v;
}

static int64_t i64(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? LR_NONE : sqlite3_column_int64(s, col);
}

static int32_t timer(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? LR_TIMER_NONE
							  : sqlite3_column_int(s, col);
}

/* The request columns and where they go in the record: numbers, timers, and strings in the
 * order they appear in a line (each one is searched for after the one before). */
struct col_field {
	int col;    /* R_* */
	size_t off; /* offsetof(struct logrec, …) */
};
/* clang-format off */
#define LR_AT(col, field) {col, offsetof(struct logrec, field)}
/* clang-format on */
static const struct col_field req_nums[] = {
	LR_AT(R_CLIENT_PORT, client_port), LR_AT(R_STATUS, status_code),
	LR_AT(R_BYTES, bytes_read),	   LR_AT(R_BYTES_UP, bytes_uploaded),
	LR_AT(R_ACTCONN, actconn),	   LR_AT(R_FECONN, feconn),
	LR_AT(R_BECONN, beconn),	   LR_AT(R_SRVCONN, srv_conn),
	LR_AT(R_RETRIES, retries),	   LR_AT(R_SRVQ, srv_queue),
	LR_AT(R_BEQ, backend_queue),	   LR_AT(R_DST_PORT, dst_port),
};
static const struct col_field req_timers[] = {
	LR_AT(R_TREQ, t_req),	LR_AT(R_TWAIT, t_wait),	    LR_AT(R_TCONNECT, t_connect),
	LR_AT(R_TRESP, t_resp), LR_AT(R_TACTIVE, t_active),
};
#define REQ_TEXTS_TO_URI 10 /* req_texts up to the URI; the rest are searched from its start */
static const struct col_field req_texts[] = {
	LR_AT(R_CLIENT_IP, client_ip),
	LR_AT(R_FRONTEND, frontend),
	LR_AT(R_BACKEND, backend),
	LR_AT(R_SERVER, server),
	LR_AT(R_COOKIE_REQ, cookie_req),
	LR_AT(R_COOKIE_RESP, cookie_resp),
	LR_AT(R_CAP_REQ, cap_req),
	LR_AT(R_CAP_RESP, cap_resp),
	LR_AT(R_METHOD, method),
	LR_AT(R_URI, uri),
	LR_AT(R_PATH, path),
	LR_AT(R_QUERY, query),
	LR_AT(R_VERSION, version),
	LR_AT(R_SSL_SNI, ssl_sni),
	LR_AT(R_SSL_VERSION, ssl_version),
	LR_AT(R_SSL_CIPHER, ssl_cipher),
	LR_AT(R_SSL_ERRORS, ssl_errors),
	LR_AT(R_UNIQUE_ID, unique_id),
	LR_AT(R_DST_IP, dst_ip),
};

/* The n strings of f into r, each searched for in raw from *hint on (see text). */
static void texts(sqlite3_stmt *s, struct logrec *r, const struct col_field *f, size_t n,
		  const char *raw, size_t rawlen, size_t *hint)
{
	for (size_t i = 0; i < n; i++)
		*(struct lr_str *)((char *)r + f[i].off) = text(s, f[i].col, raw, rawlen, hint);
}

/* The record schema 1 kept of the current row (strings valid until the statement steps). */
static void row_rec(sqlite3_stmt *s, struct logrec *r, struct block_line *ln)
{
	const char *raw = sqlite3_column_blob(s, C_RAW);
	size_t rawlen = (size_t)sqlite3_column_bytes(s, C_RAW), h = 0;
	logrec_clear(r);
	ln->raw = raw ? raw : "";
	ln->len = rawlen;
	ln->recv_ms = sqlite3_column_int64(s, C_RECV);
	ln->ts_ms = sqlite3_column_type(s, C_TS) == SQLITE_NULL ? ln->recv_ms
								: sqlite3_column_int64(s, C_TS);
	ln->source = (const char *)sqlite3_column_text(s, C_SOURCE);
	ln->flags = (sqlite3_column_int(s, C_FLAGS) & 1) ? BLOCK_LINE_TRUNCATED : 0;
	r->kind = (enum lr_kind)sqlite3_column_int(s, C_KIND);
	r->status = (enum lr_status)sqlite3_column_int(s, C_STATUS);
	if (r->kind >= LR_KIND_MAX)
		r->kind = LR_UNPARSED;
	if (r->status > LR_BAD)
		r->status = LR_BAD;
	r->reason = (const char *)sqlite3_column_text(s, C_REASON);
	r->pri = sqlite3_column_type(s, C_PRI) == SQLITE_NULL ? -1 : sqlite3_column_int(s, C_PRI);
	r->framing = (enum lr_framing)sqlite3_column_int(s, C_FRAMING);
	r->host = text(s, C_HOST, raw, rawlen, &h);
	r->tag = text(s, C_PROGRAM, raw, rawlen, &h);
	r->pid = i64(s, C_PID);
	if (sqlite3_column_type(s, R_ID) != SQLITE_NULL) {
		h = 0;
		r->ts_ms = ln->ts_ms;
		for (size_t i = 0; i < sizeof(req_nums) / sizeof(req_nums[0]); i++)
			*(int64_t *)((char *)r + req_nums[i].off) = i64(s, req_nums[i].col);
		for (size_t i = 0; i < sizeof(req_timers) / sizeof(req_timers[0]); i++)
			*(int32_t *)((char *)r + req_timers[i].off) = timer(s, req_timers[i].col);
		const unsigned char *t = sqlite3_column_text(s, R_TERM);
		if (t)
			snprintf(r->term, sizeof(r->term), "%s", (const char *)t);
		texts(s, r, req_texts, REQ_TEXTS_TO_URI, raw, rawlen, &h);
		/* the path and what follows are searched from the URI's start */
		h = r->uri.p && r->uri.p >= raw && r->uri.p < raw + rawlen
			    ? (size_t)(r->uri.p - raw)
			    : h;
		texts(s, r, req_texts + REQ_TEXTS_TO_URI,
		      sizeof(req_texts) / sizeof(req_texts[0]) - REQ_TEXTS_TO_URI, raw, rawlen, &h);
		r->flags = (uint32_t)sqlite3_column_int64(s, R_FLAGS);
	}
	if (sqlite3_column_type(s, E_ID) != SQLITE_NULL) {
		h = 0;
		if (r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR) {
			/* schema 1 kept the frontend as the proxy and the bind as the server */
			r->client_ip = text(s, E_CLIENT_IP, raw, rawlen, &h);
			r->client_port = i64(s, E_CLIENT_PORT);
			r->frontend = text(s, E_PROXY, raw, rawlen, &h);
			r->bind = text(s, E_SERVER, raw, rawlen, &h);
			r->dst_ip = text(s, E_DST_IP, raw, rawlen, &h);
			r->dst_port = i64(s, E_DST_PORT);
			r->mode = text(s, E_MODE, raw, rawlen, &h);
			r->message = text(s, E_INFO, raw, rawlen, &h);
		} else {
			r->ev_proxy = text(s, E_PROXY, raw, rawlen, &h);
			r->ev_server = text(s, E_SERVER, raw, rawlen, &h);
			r->ev_state = text(s, E_STATE, raw, rawlen, &h);
			r->ev_reason = text(s, E_REASON, raw, rawlen, &h);
			if (r->kind == LR_PROXY)
				r->message = text(s, E_INFO, raw, rawlen, &h);
			else
				r->ev_info = text(s, E_INFO, raw, rawlen, &h);
			r->ev_check_ms = timer(s, E_CHECK);
			r->ev_backup = sqlite3_column_int(s, E_BACKUP);
			r->ev_active_left = i64(s, E_ACTIVE);
			r->ev_backup_left = i64(s, E_BACKUP_LEFT);
		}
	}
}

static int fail(sqlite3 *db, char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "upgrade to schema 3: %s: %s", what, sqlite3_errmsg(db));
	return -1;
}

/* Moves up to UPGRADE_BLOCKS_PER_TX blocks of lines in one transaction. Returns 1 when lines
 * remain, 0 when the tables are empty (and dropped), -1 on error. */
static int step(sqlite3 *db, struct block_enc *e, struct block_zip *z, char *err, size_t errsz)
{
	sqlite3_stmt *sel = NULL, *ins = NULL, *del_l = NULL, *del_r = NULL;
	int ret = -1, more = 0;
	int64_t after = 0;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, err, errsz, "cannot begin");
	if (sqlite3_prepare_v2(db, select_sql, -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, BLOCKDB_INSERT_SQL, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM lines WHERE id BETWEEN ?1 AND ?2", -1, &del_l,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM requests WHERE line_id BETWEEN ?1 AND ?2", -1,
			       &del_r, NULL) != SQLITE_OK) {
		fail(db, err, errsz, "cannot prepare");
		goto out;
	}
	for (int b = 0; b < UPGRADE_BLOCKS_PER_TX; b++) {
		int64_t first = 0, last = 0;
		int rc;
		block_enc_reset(e);
		sqlite3_bind_int64(sel, 1, after);
		while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			struct logrec r;
			struct block_line ln;
			int64_t id = sqlite3_column_int64(sel, C_ID);
			if (block_enc_count(e) && id != last + 1)
				break; /* a gap in the ids: a block is a run of consecutive ids */
			row_rec(sel, &r, &ln);
			if (!block_enc_fits(e, ln.len))
				break;
			if (block_enc_add(e, &ln, &r)) {
				snprintf(err, errsz, "upgrade to schema 3: out of memory");
				goto out;
			}
			if (!first)
				first = id;
			last = id;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			fail(db, err, errsz, "cannot read the lines");
			goto out;
		}
		more = rc == SQLITE_ROW;
		sqlite3_reset(sel);
		if (!block_enc_count(e))
			break;
		if (blockdb_write(db, ins, z, e, first, err, errsz))
			goto out;
		sqlite3_bind_int64(del_l, 1, first);
		sqlite3_bind_int64(del_l, 2, last);
		sqlite3_bind_int64(del_r, 1, first);
		sqlite3_bind_int64(del_r, 2, last);
		if (sqlite3_step(del_l) != SQLITE_DONE || sqlite3_step(del_r) != SQLITE_DONE) {
			fail(db, err, errsz, "cannot delete the moved rows");
			goto out;
		}
		sqlite3_reset(del_l);
		sqlite3_reset(del_r);
		after = last;
		if (!more)
			break;
	}
	if (!more && sqlite3_exec(db, "DROP TABLE requests; DROP TABLE lines;", NULL, NULL, NULL) !=
			     SQLITE_OK) {
		fail(db, err, errsz, "cannot drop the schema-1 tables");
		goto out;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(db, err, errsz, "cannot commit");
		goto out;
	}
	ret = more;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_finalize(del_l);
	sqlite3_finalize(del_r);
	if (ret < 0 && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int store_upgrade_v1(sqlite3 *db, char *err, size_t errsz)
{
	int pend = store_upgrade_pending(db), rc;
	if (pend <= 0)
		return pend < 0 ? fail(db, err, errsz, "cannot read the schema") : 0;
	struct block_enc *e = block_enc_new();
	struct block_zip *z = block_zip_new();
	if (!e || !z) {
		snprintf(err, errsz, "upgrade to schema 3: out of memory");
		rc = -1;
	} else {
		while ((rc = step(db, e, z, err, errsz)) > 0)
			;
	}
	block_enc_free(e);
	block_zip_free(z);
	return rc < 0 ? -1 : 0;
}
