/* What `halog drive` concludes from a run: the run's own log lines read back from the store
 * (through store/read.h, whatever the store), and the balance verdicts by the report's rule
 * (report/balance.h): per backend against an inventory, and on the X-Server tally against
 * --weights. The writers are in drive_fmt.h; the command line in cli/cmd_drive.c. */
#ifndef HALOG_DRIVE_CHECK_H
#define HALOG_DRIVE_CHECK_H
#include <stddef.h>
#include <stdint.h>

#include "drive/drive.h"
#include "store/read.h"

struct inv;

#define DRIVE_MAX_ROWS 4096 /* (backend, server) pairs read from the window */

/* One (backend, server) of the run's window. */
struct drive_row {
	char *backend, *server; /* owned; "-" when the log had none */
	long n, ok, c4xx, c5xx, noresp, retried, redisp;
	int32_t p50, p95, p99, max; /* Ta in ms; -1 when no value */
	int special;		    /* <NOSRV>, <STATS>… or none: outside the balance */
	double share;		    /* % of its backend's requests to real servers */
	int checked;		    /* its backend was checked against the inventory */
	double expected;	    /* checked: % expected of it */
	int out;		    /* checked and beyond the tolerance */
};

/* The run's stored requests by backend and server, sorted by backend then server (bytes). */
struct drive_window {
	struct drive_row *rows; /* owned */
	size_t n;
	long total;
};

/* A balance verdict: one backend by inventory, or the X-Server tally by --weights. */
struct drive_verdict {
	char *backend;	/* owned; NULL for the X-Server tally */
	int result;	/* 1 within the tolerance, 0 failed, -1 not checked */
	double max_dev; /* percentage points */
	char *worst;	/* owned: the server with it, or NULL */
	int gap;	/* DRIVE_GAP_*: the inventory and the run disagree without a deviation */
};
#define DRIVE_GAP_UNLISTED 1 /* the run's traffic reached a backend the inventory does not list */
#define DRIVE_GAP_IDLE 2     /* a service of the inventory got none of the run's traffic */

/* What drive_check_inventory checks besides the deviations. */
struct drive_gaps {
	const char *backend; /* the run's scope (--backend); NULL: every service of the inventory */
	int allow_unlisted;  /* an unlisted backend does not fail (result -1) */
	int allow_idle;	     /* an idle service does not fail (result -1) */
};

/* A server of the X-Server tally against --weights. */
struct drive_xshare {
	const char *name;		   /* borrowed from the stats or the weights */
	long n;				   /* answers naming it */
	double share, expected, deviation; /* percent, percentage points */
	int bad;			   /* beyond the tolerance */
};

/* The position where the run's lines will start in the store at db: its end now, before
 * anything is sent (STORE_POS_MIN when the store cannot be read yet: it may not exist). */
struct store_pos drive_store_mark(const char *db);

/* Waits until the store at db holds a request line of the run for every request sent (lines from
 * position from, logged between st->start_ms and st->end_ms), or until none arrived for
 * settle_ms, or timeout_ms passed. Sets *logged to the last count. Returns 0, or -1 with a
 * message in err when the store could never be read (*logged is then -1). */
int drive_wait_logged(const char *db, struct store_pos from, const struct drive_stats *st,
		      int64_t timeout_ms, int64_t settle_ms, int64_t *logged, char *err,
		      size_t errsz);

/* Reads the run's window (as drive_wait_logged counts it; only backend's requests when backend
 * is not NULL) into w, with the share of each server of its backend and Ta percentiles. Returns
 * 0, or -1 with a message in err (w is then empty). */
int drive_window_read(const char *db, const char *backend, struct store_pos from,
		      const struct drive_stats *st, struct drive_window *w, char *err,
		      size_t errsz);
void drive_window_release(struct drive_window *w);

/* Checks each backend of w that inv lists, with the report's rule (report_balance_group) and
 * tolerance tol: fills the rows' checked, expected and out, and *v with one verdict per checked
 * backend (*nv of them; free with drive_verdicts_free); then one verdict per gap: a backend of w
 * with traffic to real servers that inv does not list, and each service of inv in the scope of
 * g that expects traffic and got none (failing, result 0, unless g allows it: -1). Returns 0
 * or -1 (out of memory). */
int drive_check_inventory(struct drive_window *w, const struct inv *inv, double tol,
			  const struct drive_gaps *g, struct drive_verdict **v, size_t *nv);
void drive_verdicts_free(struct drive_verdict *v, size_t n);

/* Checks the X-Server tally of st against the nw weights wt with the rule and tolerance tol: the
 * servers that answered (those named "-" aside), then the weighted ones that did not, into *xs
 * (*nxs of them; free()), and the verdict into xv (release with drive_verdicts_free(xv, 1)…
 * or free(xv->worst)). Returns 0 or -1 (out of memory). */
int drive_check_weights(const struct drive_stats *st, const struct drive_weight *wt, size_t nw,
			double tol, struct drive_xshare **xs, size_t *nxs,
			struct drive_verdict *xv);

#endif
