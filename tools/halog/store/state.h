/* The store's small state area, beside the lines: saved searches, alert definitions with the
 * evaluation state that must survive a restart (the next window, the line cursor), the
 * outbox of webhook deliveries, and the alert log. `halog saved`, `halog alert`, the alert
 * engine in `halog listen`, and `halog serve` all read and write it through these functions;
 * no caller runs SQL on these tables.
 *
 * Tables (schema version 2, append-only like the rest of the schema):
 *   saved_searches(name PRIMARY KEY, query, created_ms, updated_ms)
 *   alerts(name PRIMARY KEY, id UNIQUE, saved, query, expr, balance, backend, tolerance,
 *          min_requests, every_ms, webhook, format, cooldown_ms, timeout_ms, created_ms,
 *          next_ms, cursor_id, last_fired_ms, last_eval_ms, last_value, status)
 *   alert_deliveries(id PRIMARY KEY, alert, key UNIQUE, webhook, format, timeout_ms,
 *          window_start, window_end, created_ms, payload, state, attempts, next_ms, done_ms,
 *          last_status, last_error)
 *   alert_log(id PRIMARY KEY, at_ms, alert, event, key, window_start, window_end, status,
 *          ms, detail)
 *
 * Every function works on a store opened for writing (the getters and lists also on a
 * read-only one), outside a store_add batch: each call is its own short transaction. Strings
 * in returned structs are owned by the struct; release them with the matching *_release. Errors
 * return -1 with the message in store_errmsg(). Times are unix ms (UTC). */
#ifndef STORE_STATE_H
#define STORE_STATE_H
#include <stddef.h>
#include <stdint.h>

struct store;

#define STATE_NAME_MAX 64 /* bytes of a saved search or alert name */

/* Opens the store that keeps the state of the logs at db (flags as store_open): db itself for
 * a SQLite store; for a clickhouse:// URL, which holds lines and rollups only, a local SQLite
 * file of its own: the URL's state=PATH, else "halog-state-DB.db" (DB: the URL's database) in
 * the working directory, like the sink's spool. That file is created when missing whatever the
 * flags (a fresh one holds no saved search and no alert), and STORE_READONLY does not apply to
 * it. Returns the store (store_close), or NULL with the reason in err. */
struct store *store_state_open(const char *db, int flags, char *err, size_t errsz);

/* Whether name is a valid saved search or alert name: 1 to STATE_NAME_MAX bytes of ASCII
 * letters, digits, '_', '-' and '.', starting with a letter or a digit. Returns 1, or 0 with a
 * short reason in *why (static). */
int state_name_valid(const char *name, const char **why);

/* ---- saved searches ---- */

struct store_saved {
	char *name;
	char *query; /* the query text, as `halog search` takes it */
	int64_t created_ms, updated_ms;
};

/* Saves query under name. An existing name is replaced when replace is set. Returns 0, 1 when
 * the name exists and replace is 0 (nothing changed), or -1. The caller checks that the query
 * parses; the store keeps the text as given. */
int store_saved_put(struct store *st, const char *name, const char *query, int replace,
		    int64_t now_ms);
/* Fills out (released with store_saved_release). Returns 0, 1 when there is no such name, or
 * -1. */
int store_saved_get(struct store *st, const char *name, struct store_saved *out);
/* Every saved search, sorted by name, into a new array *out of *n (released with
 * store_saved_free). Returns 0 or -1. */
int store_saved_list(struct store *st, struct store_saved **out, size_t *n);
/* Removes name. Returns 0, 1 when there is no such name, 2 when an alert uses it (nothing
 * removed; the first such alert's name is in store_errmsg()), or -1. */
int store_saved_rm(struct store *st, const char *name);
void store_saved_release(struct store_saved *s);
void store_saved_free(struct store_saved *arr, size_t n);

/* ---- alerts ---- */

#define STORE_ALERT_NONE INT64_MIN /* an absent time */

struct store_alert {
	char *name;
	char *id;	      /* random hex set by store_alert_add: part of every idempotency key */
	char *saved;	      /* the saved search it watches, or NULL */
	char *query;	      /* the query it watches (when saved is NULL), or NULL */
	char *expr;	      /* the --when expression, or NULL for a balance alert */
	char *balance;	      /* the inventory path of a balance alert, or NULL */
	char *backend;	      /* a balance alert: only this backend; NULL: every backend */
	double tolerance;     /* a balance alert: percentage points */
	int64_t min_requests; /* a balance alert: backends with fewer requests are not judged */
	int64_t every_ms;     /* window length; windows are aligned on the unix epoch */
	char *webhook;	      /* URL */
	char *format;	      /* "json" or "slack" */
	int64_t cooldown_ms;  /* after firing, no new firing for windows ending before this */
	int64_t timeout_ms;   /* of one delivery attempt */
	int64_t created_ms;
	/* evaluation state */
	int64_t next_ms;       /* start of the first window not evaluated yet */
	int64_t cursor_id;     /* where the next window's lines start: a store position (the
				  v of a struct store_pos of store/read.h) */
	int64_t last_fired_ms; /* end of the last window that fired, or STORE_ALERT_NONE */
	int64_t last_eval_ms;  /* end of the last evaluated window, or STORE_ALERT_NONE */
	double last_value;     /* the value the last evaluation compared */
	char *status;	       /* "new", "ok", "firing", "error" */
};

/* Adds a (every definition field; id, status and the evaluation state are set here: id a new
 * random value, next_ms and cursor_id as given in a). Returns 0, 1 when the name exists, 2
 * when a->saved names no saved search, or -1. */
int store_alert_add(struct store *st, const struct store_alert *a);
/* Returns 0, 1 when there is no such alert, or -1. */
int store_alert_get(struct store *st, const char *name, struct store_alert *out);
/* Every alert, sorted by name (released with store_alert_free). Returns 0 or -1. */
int store_alert_list(struct store *st, struct store_alert **out, size_t *n);
/* Removes the alert and its pending deliveries (the log stays). Returns 0, 1 when there is
 * no such alert, or -1. */
int store_alert_rm(struct store *st, const char *name);
void store_alert_release(struct store_alert *a);
void store_alert_free(struct store_alert *arr, size_t n);

/* One evaluated window, written in one transaction: the alert's state moves from window
 * [from_ms, to_ms) to the next one, and a firing window queues its delivery and logs it.
 * The move happens only when the alert still expects this window (next_ms == from_ms and the
 * same id): a second engine on the same store, or an alert removed and re-added meanwhile,
 * makes it a no-op. */
struct store_alert_eval {
	const char *name, *id;
	int64_t from_ms, to_ms;
	int64_t cursor_id; /* where the next window's lines start (a store position) */
	double value;
	const char *status; /* "ok", "firing" (condition true), "error" */
	int fire;	    /* queue a delivery (firing and not cooling down) */
	const char *key;    /* idempotency key of the delivery */
	const char *webhook, *format;
	int64_t timeout_ms;
	const char *payload; /* the request body */
	size_t payload_len;
	const char *detail; /* for the log: the verdict, or the error */
	int64_t now_ms;
};
/* Returns 0 when applied, 1 when the alert was not at this window (nothing written), or -1. */
int store_alert_record(struct store *st, const struct store_alert_eval *ev);

/* ---- deliveries (the outbox) ---- */

enum store_delivery_state {
	STORE_DELIVERY_PENDING = 0,
	STORE_DELIVERY_DONE = 1,   /* a 2xx answer */
	STORE_DELIVERY_FAILED = 2, /* given up (a permanent refusal, or too old) */
};

struct store_delivery {
	int64_t id;
	char *alert, *key, *webhook, *format;
	int64_t timeout_ms;
	int64_t window_start, window_end, created_ms;
	char *payload;
	size_t payload_len;
	int state; /* enum store_delivery_state */
	int64_t attempts;
	int64_t next_ms;     /* when the next attempt is due */
	int64_t done_ms;     /* STORE_ALERT_NONE while pending */
	int64_t last_status; /* HTTP status of the last attempt, 0 for none */
	char *last_error;    /* or NULL */
};

/* Pending deliveries due at now_ms (next_ms <= now_ms), oldest first, at most max, into a new
 * array (released with store_delivery_free); *next_due is set to the earliest next_ms of the
 * pending ones not returned or not due (INT64_MAX when none). Returns 0 or -1. */
int store_delivery_due(struct store *st, int64_t now_ms, size_t max, struct store_delivery **out,
		       size_t *n, int64_t *next_due);
/* Deliveries of alert (NULL: of every alert), newest first, at most max. Returns 0 or -1. */
int store_delivery_list(struct store *st, const char *alert, size_t max,
			struct store_delivery **out, size_t *n);
void store_delivery_free(struct store_delivery *arr, size_t n);

/* The outcome of one attempt of delivery id: state becomes new_state (PENDING with the next
 * attempt at next_ms, DONE, or FAILED), attempts grows by one, and the attempt is logged
 * (event "delivered", "retry" or "gave-up", with status, ms and detail). Returns 0, 1 when the
 * delivery is gone (its alert was removed) or no longer pending, or -1. */
int store_delivery_result(struct store *st, int64_t id, int new_state, int64_t next_ms,
			  int64_t http_status, int64_t ms, const char *error, int64_t now_ms);

/* ---- the alert log ---- */

struct store_alert_log {
	int64_t id, at_ms;
	char *alert, *event, *key, *detail; /* key and detail may be NULL */
	int64_t window_start, window_end;   /* STORE_ALERT_NONE when not about a window */
	int64_t status, ms;		    /* HTTP status and duration of an attempt, or 0 */
};

/* Adds an entry (key and detail may be NULL; window times STORE_ALERT_NONE). Returns 0 or
 * -1. */
int store_alert_log_add(struct store *st, int64_t at_ms, const char *alert, const char *event,
			const char *key, int64_t window_start, int64_t window_end, int64_t status,
			int64_t ms, const char *detail);
/* The newest max entries (of alert, or all when NULL), returned oldest first (released with
 * store_alert_log_free). Returns 0 or -1. */
int store_alert_log_list(struct store *st, const char *alert, size_t max,
			 struct store_alert_log **out, size_t *n);
void store_alert_log_free(struct store_alert_log *arr, size_t n);

/* ---- small settings ---- */

/* A value of the store's meta table (for example "serve.url", which `halog serve` sets so
 * that alert payloads link to it). Returns a copy the caller frees, or NULL when absent or on
 * error. */
char *store_meta_get(struct store *st, const char *key);
/* Sets (value non-NULL) or removes (NULL) a meta key. Returns 0 or -1. */
int store_meta_set(struct store *st, const char *key, const char *value);

#endif
