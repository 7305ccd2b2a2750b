/* The --when expression of `halog alert add`: comparisons of a window's numbers with
 * thresholds, joined by and/or/not and parentheses:
 *   count >= 10    rate > 5/s    p95(ta) > 800    errors% > 2    count > 0 and p99(Tr) > 1.5s
 * Parsing is pure (no store, no I/O); evaluation reads a struct alert_stats. */
#ifndef HALOG_ALERT_EXPR_H
#define HALOG_ALERT_EXPR_H
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "store/rollup.h"
#include "strbuf.h"

#define ALERT_EXPR_MAX_LEN 1024 /* bytes of expression text */
#define ALERT_EXPR_MAX_NODES 64 /* comparisons, operators and parentheses */

/* The numbers of one window that an expression compares. */
struct alert_stats {
	int64_t count;	       /* matching lines, every kind */
	int64_t window_ms;     /* the window's length */
	struct rollup_agg agg; /* the matching traffic lines (requests, errors, timers), as
				  halog report aggregates them */
	int counted_only;      /* only count is known (the condition reads count and rate
				  alone): every other number is absent */
};

/* What a comparison reads. */
enum alert_metric_kind {
	AM_COUNT,      /* matching lines */
	AM_RATE,       /* matching lines per second */
	AM_REQUESTS,   /* matching traffic lines (HTTP and TCP requests) */
	AM_ERRORS,     /* of those, the errors (halog report's rule) */
	AM_ERRORS_PCT, /* 100 * errors / requests; absent without requests */
	AM_PCT,	       /* a percentile of a timer, ms; absent without values */
	AM_AVG,	       /* the average of a timer, ms */
	AM_MAX,	       /* the largest value of a timer, ms */
};

struct alert_metric {
	enum alert_metric_kind kind;
	enum rollup_timer timer; /* AM_PCT, AM_AVG, AM_MAX */
	double pct;		 /* AM_PCT: 0 < pct <= 100 */
};

struct alert_expr;

/* Parses len bytes of text. Returns the expression (caller frees with alert_expr_free), or
 * NULL with every error found in dl: file "--when", line 1, the 1-based byte column
 * (query_print_errors prints them with a caret). */
struct alert_expr *alert_expr_parse(const char *text, size_t len, struct diag_list *dl);
void alert_expr_free(struct alert_expr *e);

/* The value of m over s into *out. Returns 0, or -1 when it is absent (a percentile, average,
 * maximum or error share of a window without requests). */
int alert_metric_value(const struct alert_metric *m, const struct alert_stats *s, double *out);
/* Appends m's name as written canonically ("count", "rate", "p95(Ta)", "errors%"). Returns 0
 * or -1 (no memory). */
int alert_metric_name(const struct alert_metric *m, struct strbuf *sb);

/* Evaluates e over s. Returns 1 (true) or 0. A comparison with an absent value is false. */
int alert_expr_eval(const struct alert_expr *e, const struct alert_stats *s);

/* The comparisons of e, in the order written: n is set, and each metric of the returned array
 * (borrowed from e) can be read with alert_metric_value. */
const struct alert_metric *alert_expr_metrics(const struct alert_expr *e, size_t *n);

/* Appends a verdict such as "count = 12 (>= 10)" or "p95(Ta) = 950 ms (> 800), errors% =
 * 0.4 (> 2)" for every comparison of e over s. Returns 0 or -1 (no memory). */
int alert_expr_explain(const struct alert_expr *e, const struct alert_stats *s, struct strbuf *sb);

#endif
