/* One alert over one window: the definition compiled (its query, its --when expression or its
 * inventory), the window's numbers read from the store, the verdict, and the payload a webhook
 * receives (docs/halog-alerts.md). Used by the engine in `halog listen` and by
 * `halog alert test`. */
#ifndef HALOG_ALERT_EVAL_H
#define HALOG_ALERT_EVAL_H
#include <stddef.h>
#include <stdint.h>

#include "alert/expr.h"
#include "store/read.h"
#include "store/state.h"
#include "strbuf.h"

struct store;
struct query;
struct inv;

#define ALERT_MIN_EVERY_MS 10000 /* --every takes 10 s or more */
#define ALERT_SAMPLE_LINES 5	 /* newest matching lines in a payload */
#define ALERT_SAMPLE_BYTES 1024	 /* bytes kept of each */
#define ALERT_PAYLOAD_VERSION 1	 /* "version" of the JSON payload */

/* An alert ready to evaluate. */
struct alert_def {
	const struct store_alert *a; /* borrowed */
	char *query_text;	     /* the query watched (the saved one's text), owned */
	struct query *q;	     /* NULL for a balance alert */
	struct alert_expr *e;	     /* NULL for a balance alert */
	struct inv *inv;	     /* a balance alert's inventory (lib/inventory), owned */
};

/* Compiles a (reading its saved search from st when it has one, and a balance alert's
 * inventory from its file). Returns 0, or -1 with a message in err (the saved search is gone,
 * the query or expression no longer parses, the inventory cannot be read). */
int alert_def_compile(struct store *st, const struct store_alert *a, struct alert_def *d, char *err,
		      size_t errsz);
void alert_def_release(struct alert_def *d);

/* One backend of a balance verdict. */
struct alert_backend {
	char *name;
	int64_t requests;
	double max_deviation;  /* percentage points */
	char *worst;	       /* the server with it */
	int judged;	       /* enough requests and known weights */
	int failed;	       /* judged and over the tolerance */
	struct strbuf servers; /* JSON array of the servers' shares, for the payload */
};

/* The evaluation of one window [from_ms, to_ms): the lines at store positions [from, to). */
struct alert_result {
	int64_t from_ms, to_ms;
	struct store_pos from, to;
	int firing;   /* the condition holds */
	double value; /* the first number the condition compares (balance: the largest
			 deviation of a judged backend) */
	struct alert_stats stats;
	struct strbuf detail;		/* "count = 12 (>= 10)", or the balance verdict */
	struct strbuf sample;		/* JSON array of the newest matching lines */
	struct alert_backend *backends; /* balance alerts */
	size_t nbackends;
};

/* The end of a window's lines: the position after the last line at or after `from` received
 * before end_ms (receive times grow with positions), or `from` when there is none, in *to.
 * Returns 0, or -1 (store_reader_errmsg). */
int alert_window_end(struct store_reader *rd, struct store_pos from, int64_t end_ms,
		     struct store_pos *to);

/* Evaluates d over the window [from_ms, to_ms) holding the lines at positions [from, to) (the
 * caller finds them with alert_window_end), reading through rd. Returns 0 (res filled; release
 * it with alert_result_release), or -1 with err. */
int alert_eval(struct store_reader *rd, const struct alert_def *d, int64_t from_ms, int64_t to_ms,
	       struct store_pos from, struct store_pos to, struct alert_result *res, char *err,
	       size_t errsz);
void alert_result_release(struct alert_result *res);

/* The idempotency key of d's window starting at from_ms: "halog-<alert id>-<from_ms>". */
int alert_key(const struct alert_def *d, int64_t from_ms, struct strbuf *out);

/* Appends the request body for res in d's format ("json" or "slack") to out. status is the
 * word to show ("firing", or "test" for halog alert test); serve_url is the base URL of a
 * running `halog serve` for links, or NULL. Returns 0 or -1 (no memory). */
int alert_payload(const struct alert_def *d, const struct alert_result *res, const char *key,
		  const char *status, const char *serve_url, const char *host, struct strbuf *out);

#endif
