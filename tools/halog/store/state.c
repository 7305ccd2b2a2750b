/* The state area of the store: saved searches, alerts and their evaluation state, the delivery
 * outbox and the alert log (see state.h). Each call is one short statement or transaction on
 * the store's connection, so a running listener is held back for microseconds at most. */
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "randhex.h"
#include "store/chhttp.h"
#include "store/sqlite.h"
#include "store/store.h"

struct store *store_state_open(const char *db, int flags, char *err, size_t errsz)
{
	struct ch_url u;
	char path[4200];

	if (!ch_is_url(db))
		return store_open(db, flags, err, errsz);
	if (ch_url_parse(db, &u, err, errsz) < 0)
		return NULL;
	if (u.state[0])
		snprintf(path, sizeof(path), "%s", u.state);
	else
		snprintf(path, sizeof(path), "halog-state-%s.db", u.db);
	return store_open(path, (flags & ~STORE_READONLY) | STORE_CREATE, err, errsz);
}

int state_name_valid(const char *name, const char **why)
{
	size_t n = strlen(name);

	if (n == 0) {
		*why = "a name cannot be empty";
		return 0;
	}
	if (n > STATE_NAME_MAX) {
		*why = "a name has at most 64 bytes";
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		int alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (i == 0 && !alnum) {
			*why = "a name starts with a letter or a digit";
			return 0;
		}
		if (!alnum && c != '_' && c != '-' && c != '.') {
			*why = "use only letters, digits, '_', '-' and '.' in a name";
			return 0;
		}
	}
	return 1;
}

/* ---- helpers ---- */

static int fail(struct store *st, const char *what)
{
	store_set_errmsg(st, "%s: %s", what, sqlite3_errmsg(store_sqlite_db(st)));
	return -1;
}

static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		fail(st, "cannot prepare");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

static int exec(struct store *st, const char *sql)
{
	if (sqlite3_exec(store_sqlite_db(st), sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(st, sql);
	return 0;
}

static void rollback(struct store *st)
{
	sqlite3 *db = store_sqlite_db(st);

	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, int64_t v)
{
	if (v == STORE_ALERT_NONE)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

/* A copy of text column i, or NULL when NULL (or out of memory: *oom is set). */
static char *col_dup(sqlite3_stmt *s, int i, int *oom)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n;
	char *p;

	if (!t)
		return NULL;
	n = (size_t)sqlite3_column_bytes(s, i);
	p = malloc(n + 1);
	if (!p) {
		*oom = 1;
		return NULL;
	}
	memcpy(p, t, n);
	p[n] = '\0';
	return p;
}

static int64_t col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? STORE_ALERT_NONE
							: sqlite3_column_int64(s, i);
}

/* Grows *arr (of size elem) to hold n + 1 items. Returns the new item (zeroed) or NULL. */
static void *grow(void **arr, size_t *alloc, size_t n, size_t elem)
{
	if (n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;
		void *p = realloc(*arr, na * elem);

		if (!p)
			return NULL;
		*arr = p;
		*alloc = na;
	}
	memset((char *)*arr + n * elem, 0, elem);
	return (char *)*arr + n * elem;
}

/* Reads one row into out with row() (which returns 0, or -1 when out of memory). Returns 0, 1
 * when the statement gives no row, or -1. Finalizes s. */
static int get_one(struct store *st, sqlite3_stmt *s, void *out, int (*row)(sqlite3_stmt *, void *),
		   const char *what)
{
	int rc = sqlite3_step(s), ret = -1;

	if (rc == SQLITE_ROW) {
		ret = row(s, out);
		if (ret)
			store_set_errmsg(st, "out of memory");
	} else if (rc == SQLITE_DONE) {
		ret = 1;
	} else {
		fail(st, what);
	}
	sqlite3_finalize(s);
	return ret;
}

/* Reads every row of s into a new array *out of *n items of elem bytes, each with row(); on
 * failure the items read are released with release(). Returns 0 or -1. Finalizes s. */
static int list_rows(struct store *st, sqlite3_stmt *s, void **out, size_t *n, size_t elem,
		     int (*row)(sqlite3_stmt *, void *), void (*release)(void *), const char *what)
{
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		void *e = grow(out, &alloc, *n, elem);

		if (!e || row(s, e)) {
			store_set_errmsg(st, "out of memory");
			goto fail;
		}
		++*n;
	}
	if (rc != SQLITE_DONE) {
		fail(st, what);
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
fail:
	sqlite3_finalize(s);
	for (size_t i = 0; i < *n; i++)
		release((char *)*out + i * elem);
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

/* ---- saved searches ---- */

int store_saved_put(struct store *st, const char *name, const char *query, int replace,
		    int64_t now_ms)
{
	sqlite3_stmt *s = prep(st, replace ? "INSERT INTO saved_searches VALUES(?1, ?2, ?3, ?3)"
					     " ON CONFLICT(name) DO UPDATE SET query = ?2,"
					     " updated_ms = ?3"
					   : "INSERT OR IGNORE INTO saved_searches"
					     " VALUES(?1, ?2, ?3, ?3)");
	int rc;

	if (!s)
		return -1;
	bind_str(s, 1, name);
	bind_str(s, 2, query);
	sqlite3_bind_int64(s, 3, now_ms);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(st, "cannot save the search");
	return sqlite3_changes(store_sqlite_db(st)) ? 0 : 1;
}

static int saved_row(sqlite3_stmt *s, void *arg)
{
	struct store_saved *out = arg;
	int oom = 0;

	memset(out, 0, sizeof(*out));
	out->name = col_dup(s, 0, &oom);
	out->query = col_dup(s, 1, &oom);
	out->created_ms = sqlite3_column_int64(s, 2);
	out->updated_ms = sqlite3_column_int64(s, 3);
	if (oom || !out->name || !out->query) {
		store_saved_release(out);
		return -1;
	}
	return 0;
}

int store_saved_get(struct store *st, const char *name, struct store_saved *out)
{
	sqlite3_stmt *s = prep(st, "SELECT name, query, created_ms, updated_ms"
				   " FROM saved_searches WHERE name = ?");

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	bind_str(s, 1, name);
	return get_one(st, s, out, saved_row, "cannot read saved searches");
}

static void saved_release(void *p)
{
	store_saved_release(p);
}

int store_saved_list(struct store *st, struct store_saved **out, size_t *n)
{
	return list_rows(st,
			 prep(st, "SELECT name, query, created_ms, updated_ms"
				  " FROM saved_searches ORDER BY name"),
			 (void **)out, n, sizeof(**out), saved_row, saved_release,
			 "cannot read saved searches");
}

int store_saved_rm(struct store *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	if (!(s = prep(st, "SELECT name FROM alerts WHERE saved = ? ORDER BY name LIMIT 1")))
		goto out;
	bind_str(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_set_errmsg(st, "%s", (const char *)sqlite3_column_text(s, 0));
		ret = 2;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		fail(st, "cannot read alerts");
		goto out;
	}
	sqlite3_finalize(s);
	if (!(s = prep(st, "DELETE FROM saved_searches WHERE name = ?")))
		goto out;
	bind_str(s, 1, name);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, "cannot remove the saved search");
		goto out;
	}
	ret = sqlite3_changes(store_sqlite_db(st)) ? 0 : 1;
	sqlite3_finalize(s);
	s = NULL;
	if (exec(st, "COMMIT"))
		ret = -1;
out:
	sqlite3_finalize(s);
	rollback(st);
	return ret;
}

void store_saved_release(struct store_saved *s)
{
	free(s->name);
	free(s->query);
	memset(s, 0, sizeof(*s));
}

void store_saved_free(struct store_saved *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_saved_release(&arr[i]);
	free(arr);
}

/* ---- alerts ---- */

#define ALERT_COLS                                                                                 \
	"name, id, saved, query, expr, balance, backend, tolerance, min_requests, every_ms,"       \
	" webhook, format, cooldown_ms, timeout_ms, created_ms, next_ms, cursor_id,"               \
	" last_fired_ms, last_eval_ms, last_value, status"

int store_alert_add(struct store *st, const struct store_alert *a)
{
	sqlite3_stmt *s = NULL;
	char id[33];
	int rc, ret = -1, i = 1;

	if (randhex(id, 16)) {
		store_set_errmsg(st, "cannot read random bytes: %s", strerror(errno));
		return -1;
	}
	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	if (a->saved) {
		if (!(s = prep(st, "SELECT 1 FROM saved_searches WHERE name = ?")))
			goto out;
		bind_str(s, 1, a->saved);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			ret = 2;
			goto out;
		}
		if (rc != SQLITE_ROW) {
			fail(st, "cannot read saved searches");
			goto out;
		}
		sqlite3_finalize(s);
	}
	if (!(s = prep(st, "INSERT OR IGNORE INTO alerts(" ALERT_COLS ") VALUES(?,?,?,?,?,?,?,?,?,"
			   "?,?,?,?,?,?,?,?,?,?,?,?)")))
		goto out;
	bind_str(s, i++, a->name);
	bind_str(s, i++, id);
	bind_str(s, i++, a->saved);
	bind_str(s, i++, a->query);
	bind_str(s, i++, a->expr);
	bind_str(s, i++, a->balance);
	bind_str(s, i++, a->backend);
	sqlite3_bind_double(s, i++, a->tolerance);
	sqlite3_bind_int64(s, i++, a->min_requests);
	sqlite3_bind_int64(s, i++, a->every_ms);
	bind_str(s, i++, a->webhook);
	bind_str(s, i++, a->format ? a->format : "json");
	sqlite3_bind_int64(s, i++, a->cooldown_ms);
	sqlite3_bind_int64(s, i++, a->timeout_ms);
	sqlite3_bind_int64(s, i++, a->created_ms);
	sqlite3_bind_int64(s, i++, a->next_ms);
	sqlite3_bind_int64(s, i++, a->cursor_id);
	sqlite3_bind_null(s, i++);
	sqlite3_bind_null(s, i++);
	sqlite3_bind_null(s, i++);
	bind_str(s, i++, "new");
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, "cannot add the alert");
		goto out;
	}
	if (!sqlite3_changes(store_sqlite_db(st))) {
		ret = 1;
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (exec(st, "COMMIT"))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(s);
	rollback(st);
	return ret;
}

static int alert_row(sqlite3_stmt *s, void *arg)
{
	struct store_alert *a = arg;
	int oom = 0, i = 0;

	memset(a, 0, sizeof(*a));
	a->name = col_dup(s, i++, &oom);
	a->id = col_dup(s, i++, &oom);
	a->saved = col_dup(s, i++, &oom);
	a->query = col_dup(s, i++, &oom);
	a->expr = col_dup(s, i++, &oom);
	a->balance = col_dup(s, i++, &oom);
	a->backend = col_dup(s, i++, &oom);
	a->tolerance = sqlite3_column_double(s, i++);
	a->min_requests = sqlite3_column_int64(s, i++);
	a->every_ms = sqlite3_column_int64(s, i++);
	a->webhook = col_dup(s, i++, &oom);
	a->format = col_dup(s, i++, &oom);
	a->cooldown_ms = sqlite3_column_int64(s, i++);
	a->timeout_ms = sqlite3_column_int64(s, i++);
	a->created_ms = sqlite3_column_int64(s, i++);
	a->next_ms = sqlite3_column_int64(s, i++);
	a->cursor_id = sqlite3_column_int64(s, i++);
	a->last_fired_ms = col_time(s, i++);
	a->last_eval_ms = col_time(s, i++);
	a->last_value = sqlite3_column_double(s, i++);
	a->status = col_dup(s, i++, &oom);
	if (oom || !a->name || !a->id || !a->webhook || !a->format || !a->status) {
		store_alert_release(a);
		return -1;
	}
	return 0;
}

int store_alert_get(struct store *st, const char *name, struct store_alert *out)
{
	sqlite3_stmt *s = prep(st, "SELECT " ALERT_COLS " FROM alerts WHERE name = ?");

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	bind_str(s, 1, name);
	return get_one(st, s, out, alert_row, "cannot read alerts");
}

static void alert_release(void *p)
{
	store_alert_release(p);
}

int store_alert_list(struct store *st, struct store_alert **out, size_t *n)
{
	return list_rows(st, prep(st, "SELECT " ALERT_COLS " FROM alerts ORDER BY name"),
			 (void **)out, n, sizeof(**out), alert_row, alert_release,
			 "cannot read alerts");
}

int store_alert_rm(struct store *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	int ret = -1;

	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	if (!(s = prep(st, "DELETE FROM alerts WHERE name = ?")))
		goto out;
	bind_str(s, 1, name);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, "cannot remove the alert");
		goto out;
	}
	if (!sqlite3_changes(store_sqlite_db(st))) {
		ret = 1;
		goto out;
	}
	sqlite3_finalize(s);
	if (!(s = prep(st, "DELETE FROM alert_deliveries WHERE alert = ? AND state = 0")))
		goto out;
	bind_str(s, 1, name);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, "cannot remove the alert's deliveries");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (exec(st, "COMMIT"))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(s);
	rollback(st);
	return ret;
}

void store_alert_release(struct store_alert *a)
{
	free(a->name);
	free(a->id);
	free(a->saved);
	free(a->query);
	free(a->expr);
	free(a->balance);
	free(a->backend);
	free(a->webhook);
	free(a->format);
	free(a->status);
	memset(a, 0, sizeof(*a));
}

void store_alert_free(struct store_alert *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_alert_release(&arr[i]);
	free(arr);
}

static int log_add(struct store *st, int64_t at_ms, const char *alert, const char *event,
		   const char *key, int64_t ws, int64_t we, int64_t status, int64_t ms,
		   const char *detail)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO alert_log(at_ms, alert, event, key, window_start,"
				   " window_end, status, ms, detail) VALUES(?,?,?,?,?,?,?,?,?)");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, at_ms);
	bind_str(s, 2, alert);
	bind_str(s, 3, event);
	bind_str(s, 4, key);
	bind_time(s, 5, ws);
	bind_time(s, 6, we);
	sqlite3_bind_int64(s, 7, status);
	sqlite3_bind_int64(s, 8, ms);
	bind_str(s, 9, detail);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fail(st, "cannot write the alert log");
}

int store_alert_record(struct store *st, const struct store_alert_eval *ev)
{
	sqlite3_stmt *s = NULL;
	int ret = -1;

	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	if (!(s = prep(st, "UPDATE alerts SET next_ms = ?1, cursor_id = ?2, last_eval_ms = ?1,"
			   " last_value = ?3, status = ?4,"
			   " last_fired_ms = CASE WHEN ?5 THEN ?1 ELSE last_fired_ms END"
			   " WHERE name = ?6 AND id = ?7 AND next_ms = ?8")))
		goto out;
	sqlite3_bind_int64(s, 1, ev->to_ms);
	sqlite3_bind_int64(s, 2, ev->cursor_id);
	sqlite3_bind_double(s, 3, ev->value);
	bind_str(s, 4, ev->status);
	sqlite3_bind_int(s, 5, !!ev->fire);
	bind_str(s, 6, ev->name);
	bind_str(s, 7, ev->id);
	sqlite3_bind_int64(s, 8, ev->from_ms);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, "cannot update the alert");
		goto out;
	}
	if (!sqlite3_changes(store_sqlite_db(st))) {
		ret = 1;
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (ev->fire) {
		if (!(s = prep(st, "INSERT INTO alert_deliveries(alert, key, webhook, format,"
				   " timeout_ms, window_start, window_end, created_ms, payload,"
				   " next_ms) VALUES(?,?,?,?,?,?,?,?,?,?)")))
			goto out;
		bind_str(s, 1, ev->name);
		bind_str(s, 2, ev->key);
		bind_str(s, 3, ev->webhook);
		bind_str(s, 4, ev->format);
		sqlite3_bind_int64(s, 5, ev->timeout_ms);
		sqlite3_bind_int64(s, 6, ev->from_ms);
		sqlite3_bind_int64(s, 7, ev->to_ms);
		sqlite3_bind_int64(s, 8, ev->now_ms);
		sqlite3_bind_blob(s, 9, ev->payload_len ? ev->payload : "", (int)ev->payload_len,
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 10, ev->now_ms);
		if (sqlite3_step(s) != SQLITE_DONE) {
			fail(st, "cannot queue the delivery");
			goto out;
		}
	}
	if (ev->fire || strcmp(ev->status, "ok")) {
		const char *event = ev->fire			    ? "fired"
				    : !strcmp(ev->status, "firing") ? "cooldown"
								    : ev->status;

		if (log_add(st, ev->now_ms, ev->name, event, ev->fire ? ev->key : NULL, ev->from_ms,
			    ev->to_ms, 0, 0, ev->detail))
			goto out;
	}
	if (exec(st, "COMMIT"))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(s);
	rollback(st);
	return ret;
}

/* ---- deliveries ---- */

#define DELIVERY_COLS                                                                              \
	"id, alert, key, webhook, format, timeout_ms, window_start, window_end, created_ms,"       \
	" payload, state, attempts, next_ms, done_ms, last_status, last_error"

static void delivery_release(void *p)
{
	struct store_delivery *d = p;

	free(d->alert);
	free(d->key);
	free(d->webhook);
	free(d->format);
	free(d->payload);
	free(d->last_error);
	memset(d, 0, sizeof(*d));
}

static int delivery_row(sqlite3_stmt *s, void *arg)
{
	struct store_delivery *d = arg;
	int oom = 0, i = 0;
	const void *p;

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, i++);
	d->alert = col_dup(s, i++, &oom);
	d->key = col_dup(s, i++, &oom);
	d->webhook = col_dup(s, i++, &oom);
	d->format = col_dup(s, i++, &oom);
	d->timeout_ms = sqlite3_column_int64(s, i++);
	d->window_start = sqlite3_column_int64(s, i++);
	d->window_end = sqlite3_column_int64(s, i++);
	d->created_ms = sqlite3_column_int64(s, i++);
	p = sqlite3_column_blob(s, i);
	d->payload_len = (size_t)sqlite3_column_bytes(s, i++);
	d->payload = malloc(d->payload_len + 1);
	if (d->payload) {
		if (d->payload_len)
			memcpy(d->payload, p, d->payload_len);
		d->payload[d->payload_len] = '\0';
	}
	d->state = sqlite3_column_int(s, i++);
	d->attempts = sqlite3_column_int64(s, i++);
	d->next_ms = sqlite3_column_int64(s, i++);
	d->done_ms = col_time(s, i++);
	d->last_status = sqlite3_column_int64(s, i++);
	d->last_error = col_dup(s, i++, &oom);
	if (oom || !d->alert || !d->key || !d->webhook || !d->format || !d->payload) {
		delivery_release(d);
		return -1;
	}
	return 0;
}

static int delivery_rows(struct store *st, sqlite3_stmt *s, struct store_delivery **out, size_t *n)
{
	return list_rows(st, s, (void **)out, n, sizeof(**out), delivery_row, delivery_release,
			 "cannot read deliveries");
}

int store_delivery_due(struct store *st, int64_t now_ms, size_t max, struct store_delivery **out,
		       size_t *n, int64_t *next_due)
{
	sqlite3_stmt *s;
	int rc, ret = -1;

	*out = NULL;
	*n = 0;
	*next_due = INT64_MAX;
	if (exec(st, "BEGIN"))
		return -1;
	if (!(s = prep(st, "SELECT " DELIVERY_COLS " FROM alert_deliveries"
			   " WHERE state = 0 AND next_ms <= ? ORDER BY next_ms, id LIMIT ?")))
		goto out;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	if (delivery_rows(st, s, out, n))
		goto out;
	/* the earliest pending one beyond those returned (a due one left out counts as now) */
	if (!(s = prep(st, "SELECT min(next_ms) FROM alert_deliveries WHERE state = 0 AND"
			   " id NOT IN (SELECT id FROM alert_deliveries WHERE state = 0 AND"
			   " next_ms <= ?1 ORDER BY next_ms, id LIMIT ?2)")))
		goto out;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*next_due = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		fail(st, "cannot read deliveries");
		goto out;
	}
	ret = 0;
out:
	rollback(st);
	if (ret) {
		store_delivery_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

int store_delivery_list(struct store *st, const char *alert, size_t max,
			struct store_delivery **out, size_t *n)
{
	sqlite3_stmt *s = prep(st, "SELECT " DELIVERY_COLS " FROM alert_deliveries"
				   " WHERE ?1 IS NULL OR alert = ?1 ORDER BY id DESC LIMIT ?2");

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	bind_str(s, 1, alert);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	return delivery_rows(st, s, out, n);
}

void store_delivery_free(struct store_delivery *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		delivery_release(&arr[i]);
	free(arr);
}

int store_delivery_result(struct store *st, int64_t id, int new_state, int64_t next_ms,
			  int64_t http_status, int64_t ms, const char *error, int64_t now_ms)
{
	sqlite3_stmt *s = NULL;
	char *alert = NULL, *key = NULL;
	int64_t ws = 0, we = 0;
	int rc, ret = -1, oom = 0;
	const char *event = new_state == STORE_DELIVERY_DONE	  ? "delivered"
			    : new_state == STORE_DELIVERY_PENDING ? "retry"
								  : "gave-up";

	if (exec(st, "BEGIN IMMEDIATE"))
		return -1;
	if (!(s = prep(st, "SELECT alert, key, window_start, window_end FROM alert_deliveries"
			   " WHERE id = ? AND state = 0")))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		fail(st, "cannot read deliveries");
		goto out;
	}
	alert = col_dup(s, 0, &oom);
	key = col_dup(s, 1, &oom);
	ws = sqlite3_column_int64(s, 2);
	we = sqlite3_column_int64(s, 3);
	sqlite3_finalize(s);
	s = NULL;
	if (oom || !alert || !key) {
		store_set_errmsg(st, "out of memory");
		goto out;
	}
	if (!(s = prep(st,
		       "UPDATE alert_deliveries SET state = ?, attempts = attempts + 1,"
		       " next_ms = ?, done_ms = ?, last_status = ?, last_error = ? WHERE id = ?")))
		goto out;
	sqlite3_bind_int(s, 1, new_state);
	sqlite3_bind_int64(s, 2, new_state == STORE_DELIVERY_PENDING ? next_ms : now_ms);
	bind_time(s, 3, new_state == STORE_DELIVERY_PENDING ? STORE_ALERT_NONE : now_ms);
	sqlite3_bind_int64(s, 4, http_status);
	bind_str(s, 5, error);
	sqlite3_bind_int64(s, 6, id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, "cannot update the delivery");
		goto out;
	}
	if (log_add(st, now_ms, alert, event, key, ws, we, http_status, ms, error))
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (exec(st, "COMMIT"))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(s);
	rollback(st);
	free(alert);
	free(key);
	return ret;
}

/* ---- the alert log ---- */

int store_alert_log_add(struct store *st, int64_t at_ms, const char *alert, const char *event,
			const char *key, int64_t window_start, int64_t window_end, int64_t status,
			int64_t ms, const char *detail)
{
	return log_add(st, at_ms, alert, event, key, window_start, window_end, status, ms, detail);
}

static void log_release(void *p)
{
	struct store_alert_log *e = p;

	free(e->alert);
	free(e->event);
	free(e->key);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

static int log_row(sqlite3_stmt *s, void *arg)
{
	struct store_alert_log *e = arg;
	int oom = 0;

	e->id = sqlite3_column_int64(s, 0);
	e->at_ms = sqlite3_column_int64(s, 1);
	e->alert = col_dup(s, 2, &oom);
	e->event = col_dup(s, 3, &oom);
	e->key = col_dup(s, 4, &oom);
	e->window_start = col_time(s, 5);
	e->window_end = col_time(s, 6);
	e->status = sqlite3_column_int64(s, 7);
	e->ms = sqlite3_column_int64(s, 8);
	e->detail = col_dup(s, 9, &oom);
	if (oom || !e->alert || !e->event) {
		log_release(e);
		return -1;
	}
	return 0;
}

int store_alert_log_list(struct store *st, const char *alert, size_t max,
			 struct store_alert_log **out, size_t *n)
{
	sqlite3_stmt *s = prep(st, "SELECT * FROM (SELECT id, at_ms, alert, event, key,"
				   " window_start, window_end, status, ms, detail FROM alert_log"
				   " WHERE ?1 IS NULL OR alert = ?1 ORDER BY id DESC LIMIT ?2)"
				   " ORDER BY id");

	if (s) {
		bind_str(s, 1, alert);
		sqlite3_bind_int64(s, 2, (int64_t)max);
	}
	return list_rows(st, s, (void **)out, n, sizeof(**out), log_row, log_release,
			 "cannot read the alert log");
}

void store_alert_log_free(struct store_alert_log *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_release(&arr[i]);
	free(arr);
}

/* ---- meta ---- */

/* Keys of the schema itself, which no caller may change. */
static int meta_reserved(const char *key)
{
	return !strcmp(key, "schema_version") || !strcmp(key, "rollup_bucket_ms");
}

char *store_meta_get(struct store *st, const char *key)
{
	sqlite3_stmt *s = prep(st, "SELECT value FROM meta WHERE key = ?");
	char *v = NULL;
	int oom = 0;

	if (!s)
		return NULL;
	bind_str(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = col_dup(s, 0, &oom);
	sqlite3_finalize(s);
	return v;
}

int store_meta_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int rc;

	if (meta_reserved(key)) {
		store_set_errmsg(st, "meta key '%s' belongs to the schema", key);
		return -1;
	}
	s = prep(st, value ? "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)"
			   : "DELETE FROM meta WHERE key = ?");
	if (!s)
		return -1;
	bind_str(s, 1, key);
	if (value)
		bind_str(s, 2, value);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fail(st, "cannot write meta");
}
