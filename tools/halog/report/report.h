/* halog report's computation: reads the aggregates (and the events, counters and error paths)
 * of a store through its read API (store/read.h) into a struct report; the writers in
 * report_fmt.c turn it into text, JSON, CSV or Markdown, report_html.c into HTML. Keeping the
 * numbers and the writers apart lets every writer share them, and the helpers below. */
#ifndef HALOG_REPORT_H
#define HALOG_REPORT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parse/logrec.h"
#include "report/ranked.h"
#include "store/read.h"
#include "store/rollup.h"

struct inv;
struct store_reader;

#define REPORT_TOP_PATHS 5    /* top error paths per backend */
#define REPORT_MAX_EVENTS 200 /* server events kept per backend (the latest) */
#define REPORT_TOP_DEFAULT 20 /* rows of a ranked section (paths, clients) unless asked */

/* Sections, each selected by its flag of halog report (docs/halog-report.md). */
#define REPORT_SEC_BACKENDS 0x1 /* per backend and per frontend, from the rollups: the default */
#define REPORT_SEC_PATHS 0x2	/* per normalised path, from the request records */
#define REPORT_SEC_CLIENTS 0x4	/* per client address or network, from the request records */
#define REPORT_SEC_SERIES 0x8	/* requests, errors and p95 per time bucket */
#define REPORT_SEC_SLOWEST 0x10	/* the slowest requests of each backend, with their lines */
#define REPORT_SLOWEST_DEFAULT 5 /* per backend, unless --top says */
#define REPORT_SEC_CONNERRS 0x20 /* connection errors (TLS handshakes, PROXY header …) per
				    frontend and bind */
#define REPORT_SEC_HEADERS 0x40 /* the captured request and response headers: the top values of
				   each, from the request records */
#define REPORT_SEC_COMPARE 0x80 /* per backend and server, this window against a baseline */
#define REPORT_MAX_HEADER_SLOTS 16 /* captures read per direction ("{a|b|…}"); more are not */

/* The values of one captured header: HAProxy logs the captures of a request ("capture request
 * header", %hr) as "{v1|v2|…}" in the order of the configuration, without their names, so a
 * header is known by its direction and its place there. */
struct report_headers {
	int response;	     /* 0: a request header (%hr), 1: a response header (%hs) */
	unsigned index;	     /* 1-based place in the braces */
	struct report_table t; /* keyed by the value as logged (#XX escapes kept; "" when
				   empty, as HAProxy's halog -hdr prints it) */
};

/* The connection errors of one frontend, bind and message in the window. */
struct report_connerr {
	char *frontend, *bind, *message; /* owned; "-" when the log had none */
	int64_t n;
	int64_t first_ms, last_ms;
};
#define REPORT_SERIES_MAX_BINS 100000 /* a longer series is refused: ask for a wider bucket */

/* One time bucket of the series section: the traffic logged in [t_ms, t_ms + bucket). */
struct report_bin {
	int64_t t_ms;
	int64_t requests, errors;
	int64_t p95; /* Ta (Tt for TCP) in ms; -1 when no value */
};

/* One of the slowest requests of a backend. */
struct report_slow {
	int64_t ts_ms;	 /* logged time */
	int64_t ta, tw;	 /* Ta (Tt for TCP) and Tw, ms; tw -1 when -1 in the log */
	int64_t status;	 /* HTTP status, -1 for none (TCP) */
	char term[8];	 /* termination state */
	char *server;	 /* owned; may be NULL */
	char *line;	 /* owned: the stored line, exactly (may hold control bytes) */
	size_t linelen;	 /* bytes of line (NULs may be inside) */
	struct store_pos pos; /* where it sits in the store */
};

struct report_slow_group {
	char *backend; /* owned */
	struct report_slow *rows; /* slowest first (ties: the earlier first) */
	size_t nrows;
};

struct report_series {
	int on;
	int64_t bucket_ms;
	int exact;		  /* from the request records (bucket or window not whole rollup
				     buckets); else from the rollups (p95 within 1.6%) */
	int64_t from_ms, to_ms;	  /* the bins cover [from, to) */
	struct report_bin *bins;  /* owned, nbins */
	size_t nbins;
};

/* One backend (server NULL: all its requests) or server in both windows of --compare; [0] is
 * the report's window, [1] the baseline. */
struct report_cmp_row {
	char *backend, *server; /* owned; server NULL for the backend's row */
	int64_t req[2], err[2];
	double share[2];  /* % of the backend's requests to real servers; -1: none (the backend's
			     row, a special server, a window without the backend) */
	int64_t p95[2];	  /* Ta (Tt for TCP), ms; -1 when no value */
	int64_t ta_n[2];  /* the Ta values behind it */
	unsigned flags;	  /* REPORT_CMP_* */
};
#define REPORT_CMP_SHARE 0x1  /* the share moved significantly */
#define REPORT_CMP_ERRORS 0x2 /* the error rate did */
#define REPORT_CMP_P95 0x4    /* p95 did */
#define REPORT_CMP_NEW 0x8    /* no request in the baseline */
#define REPORT_CMP_GONE 0x10  /* no request in the window */
/* The significance rules (docs/halog-report.md): a share or an error rate is flagged when the
 * two-proportion z-test gives |z| >= REPORT_CMP_Z and the change is at least the points below;
 * p95 when both windows have REPORT_CMP_MIN_N values and it grew or shrank by REPORT_CMP_P95_RATIO
 * and at least REPORT_CMP_P95_MS. */
#define REPORT_CMP_Z 3.0
#define REPORT_CMP_SHARE_PTS 2.0
#define REPORT_CMP_ERR_PTS 1.0
#define REPORT_CMP_MIN_N 20
#define REPORT_CMP_P95_RATIO 1.5
#define REPORT_CMP_P95_MS 50

struct report_compare {
	int64_t since[2], until[2];	/* the windows; LR_NONE open */
	struct report_cmp_row *rows;	/* by backend, its row first, then its servers by name */
	size_t nrows;
	size_t nflagged;		/* rows with a significant change */
};

struct report_opts {
	int64_t since_ms, until_ms;	/* window [since, until); LR_NONE when open */
	const char *frontend, *backend; /* only rows of this frontend / backend; NULL: all */
	const struct inv *inv;		/* expected shares (lib/inventory); NULL: none */
	double check_balance;		/* max deviation in percentage points; < 0: no check */
	int allow_unlisted;		/* a backend with traffic that the inventory does not list
					   does not fail the check (it is reported all the same) */
	int allow_idle;			/* nor does a service of the inventory without traffic */
	unsigned sections;		/* REPORT_SEC_*; 0: REPORT_SEC_BACKENDS */
	int no_fold;			/* paths keyed as logged (report_path_key) */
	enum report_client_by client_by; /* clients by address or by network */
	enum report_sort sort;		/* ranking of the ranked sections */
	size_t top;			/* their rows; 0: every row */
	int64_t bucket_ms;		/* the series' bucket; 0: one minute */
	size_t slowest;			/* rows per backend of the slowest section */
	int64_t min_ta, min_tw;		/* only requests with Ta (Tt) / Tw at least this, ms; 0:
					   no floor. Set, they take every section from the records */
	int64_t cmp_since, cmp_until;	/* report_compare's baseline window; LR_NONE: open */
};

struct report_lat {
	int64_t n;			 /* values (timers that were not -1) */
	int64_t p50, p90, p95, p99, max; /* ms; -1 when n == 0 */
	double avg;
};

/* One server of a backend, or one backend of a frontend. */
struct report_server {
	char *name;  /* owned */
	int special; /* <NOSRV>, <STATS>, <CACHE>…: outside the balance */
	struct rollup_agg agg;
	struct report_lat lat[RT_N];
	double share;	  /* % of the backend's requests to real servers (or of the frontend's) */
	double expected;  /* % from the inventory weights; < 0 when unknown */
	double deviation; /* share - expected, percentage points; 0 when expected unknown */
	int64_t weight;	  /* from the inventory; -1 when unknown */
	int backup, maint, in_inventory;
};

struct report_errpath {
	char *path;	/* owned; "" for none */
	int64_t status; /* -1 when absent */
	int64_t n;
};

struct report_event {
	int64_t ts_ms;
	int kind;			      /* enum lr_kind: LR_SERVER or LR_NOSRV */
	char *server, *state, *reason, *info; /* owned, may be NULL */
};

struct report_group {
	char *name;	/* owned */
	unsigned kinds; /* bit (1 << LR_HTTP) | (1 << LR_TCP) of the rows seen */
	struct rollup_agg agg;
	struct report_lat lat[RT_N];
	struct report_server *members; /* servers of a backend, backends of a frontend */
	size_t nmembers;
	/* backends only */
	struct report_errpath *errpaths;
	size_t nerrpaths;
	struct report_event *events;
	size_t nevents;
	int64_t events_dropped; /* older events beyond REPORT_MAX_EVENTS */
	int balance_checked;	/* expected shares are known */
	double max_deviation;	/* largest |deviation| */
	const char *worst;	/* member with it (borrowed) */
	int balance_failed;	/* max_deviation > opts.check_balance */
	int listed;		/* an inventory was given and has a service for this backend */
	int unlisted;		/* an inventory was given, real servers served this backend, and
				   the inventory has no service for it (a renamed service?) */
};

struct report_counter {
	char *name; /* owned */
	int64_t value;
};

struct report {
	int64_t since_ms, until_ms; /* as asked; LR_NONE when open */
	int64_t from_ms, to_ms;	    /* the window read: [from, to); LR_NONE open */
	int window_exact;	    /* it does not fall on whole rollup buckets: what lies outside
				       them was read from the records */
	char *frontend, *backend;   /* filters (owned copies) or NULL */
	int64_t first_ms, last_ms;  /* earliest / latest line time in the window; LR_NONE: none */
	int64_t lines_removed_ms;   /* retention removed the raw lines logged up to this time, and
				       the window holds some of them (its counts are kept): search
				       and tail no longer show them; LR_NONE otherwise */
	int64_t lines_total, lines_parsed, lines_unparsed, lines_partial, lines_truncated;
	int64_t by_kind[LR_KIND_MAX];
	struct report_counter *counters;
	size_t ncounters;
	struct report_group *frontends, *backends; /* sorted by name */
	size_t nfrontends, nbackends;
	int inventory;	      /* an inventory was given */
	double check_balance; /* < 0 when not asked */
	int balance_failed;   /* what fails the check: backends over the threshold, and unless
				 allowed, unlisted backends and idle services */
	size_t nunlisted;     /* backends with unlisted set */
	char **idle;	      /* owned: backends of the inventory's services that expect traffic
				 and got none in the window (not with a frontend filter: the
				 inventory's routing is not read), inventory order */
	size_t nidle;
	int allow_unlisted, allow_idle; /* as asked (report_opts) */
	unsigned sections;		/* REPORT_SEC_* computed; 0 (built by hand): backends */
	struct report_table paths;	/* REPORT_SEC_PATHS: HTTP requests per path */
	int paths_folded;		/* ids folded (report_path_key) */
	struct report_table clients;	/* REPORT_SEC_CLIENTS: HTTP and TCP requests per client */
	enum report_client_by client_by;
	struct report_series series;	/* REPORT_SEC_SERIES */
	struct report_slow_group *slowest; /* REPORT_SEC_SLOWEST: by backend name */
	size_t nslowest, slowest_top;
	int64_t min_ta, min_tw;		/* as asked; 0: none */
	struct report_connerr *connerrs; /* REPORT_SEC_CONNERRS: by frontend, bind, then the most
					    frequent message first */
	size_t nconnerrs;
	int64_t connerrs_total;
	struct report_headers *headers; /* REPORT_SEC_HEADERS: request headers by place, then
					   response headers */
	size_t nheaders;
	struct report_compare compare; /* REPORT_SEC_COMPARE, by report_compare */
};

/* The words a writer uses for one of r's ranked tables (&r->paths, &r->clients or a header's):
 * sec "paths" / "clients" / "request header 2"; what it counts ("paths", "clients" or "client
 * networks", "values"); key, the name of its key column ("path", "client", "value"); title
 * ("Paths", "Clients", "Request header 2"); id, its HTML id and CSV section ("paths",
 * "clients", "req-header-2", "resp-header-1"). */
struct report_words {
	char sec[32], what[24], key[8], title[32], id[24];
	int paths;			/* the paths table */
	const struct report_headers *h; /* a header's table; NULL otherwise */
};
void report_table_words(const struct report *r, const struct report_table *t,
			struct report_words *w);

/* Whether a service of the inventory expects traffic: a server of it may take some (a weight
 * above 0, not in maintenance). One that does and got none in a window is idle. */
struct inv_backend;
int report_expects_traffic(const struct inv_backend *ib);
/* Whether the unlisted backends / the idle services fail the balance check of r. */
int report_unlisted_fail(const struct report *r);
int report_idle_fail(const struct report *r);

/* Builds the report from the store rd reads (in one snapshot). Returns 0, or -1 with a message in
 * err. */
int report_build(struct store_reader *rd, const struct report_opts *opts, struct report *r,
		 char *err, size_t errsz);
void report_release(struct report *r);

/* REPORT_SEC_COMPARE: builds the backends of opts' window and of its baseline (opts->cmp_since,
 * cmp_until; the same filters and timer floors) and fills r->compare with every backend and
 * server of either, their changes and flags. Call after report_build (outside its snapshot).
 * Returns 0, or -1 with a message in err. */
int report_compare(struct store_reader *rd, const struct report_opts *opts, struct report *r,
		   char *err, size_t errsz);
/* The words of a row's REPORT_CMP_* flags, space-separated ("new", "gone", "share", "errors",
 * "p95"; "" for none), and a window as "FROM .. TO" ("(open)" for an open end), into buf. */
void report_cmp_flag_words(unsigned flags, char *buf, size_t sz);
void report_cmp_window(int64_t since, int64_t until, char *buf, size_t sz);

/* The balance rule (report/balance.h) applied to backend g, whose members hold the requests each
 * served: expectations from the inventory inv (its servers without traffic are added as members
 * with none, dns slots aside), or, without an inventory, equal shares when check >= 0. Sorts the
 * members by name and fills their share, expected, deviation, weight, backup, maint and
 * in_inventory, and g's balance_checked, max_deviation, worst and balance_failed (against
 * check, percentage points; < 0: no verdict). A backend the inventory does not list is left
 * unchecked. Returns 0, or -1 when out of memory. */
int report_balance_group(struct report_group *g, const struct inv *inv, double check);
/* For callers that build a backend themselves (halog drive, from the requests of a run): adds a
 * member called name (copied; special as balance_special says) that served requests. Returns
 * it, or NULL when out of memory. */
struct report_server *report_group_add(struct report_group *g, const char *name,
				       int64_t requests);
/* Frees what g holds (its name and members included) and zeroes it. */
void report_group_release(struct report_group *g);

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_CSV, REPORT_MARKDOWN, REPORT_HTML };
/* Parses "text", "json", "csv", "markdown" (or "md"), and "html" when an HTML writer is linked
 * in. Returns 0 or -1. */
int report_format_parse(const char *s, enum report_format *f);
/* Writes r to fp in format f. Returns 0, or -1 on a write error (errno set). */
int report_write(const struct report *r, enum report_format f, FILE *fp);

/* The HTML writer (report_html.c) without a store: appends the page for r, without the time
 * charts that need the store, to sb. Returns 0, or -1 when out of memory. `halog report`
 * itself uses report_html_write (report_html.h), which reads the time series too. */
struct strbuf;
int report_html(const struct report *r, struct strbuf *sb);

/* Helpers for writers. */
const char *report_timer_name(enum rollup_timer t, int tcp); /* "TR" … "Ta" ("Tt" for tcp) */
/* "2025-12-01T00:00:00.000Z" into buf (at least 32 bytes). */
void report_fmt_time(int64_t ms, char *buf, size_t sz);
/* The mode of a group: "http", "tcp", "mixed" or "-". */
const char *report_mode(unsigned kinds);
/* Whether a group's traffic is TCP only (kinds as in struct report_group). */
int report_is_tcp(unsigned kinds);
/* 100 * part / whole, or 0 when whole is 0. */
double report_pct(int64_t part, int64_t whole);
/* a / b rounded down (b > 0): the bucket or bin of a time. */
int64_t report_floordiv(int64_t a, int64_t b);
/* Appends a duration of ms milliseconds (>= 0): compact for the text report ("1h02m03s",
 * "2m05s", "4.250s") or in words for HTML ("1 h 2 min", "2 min 5 s", "4.250 s"). */
enum report_dur_style { REPORT_DUR_COMPACT, REPORT_DUR_WORDS };
struct strbuf;
int report_fmt_dur(struct strbuf *sb, int64_t ms, enum report_dur_style style);

#endif
