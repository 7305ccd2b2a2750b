/* `halog alert add|list|rm|test|log`: alerts on saved searches, queries or the balance against
 * an inventory, kept in the store (store/state.h) and evaluated by `halog listen`
 * (alert/engine.h); see docs/halog-alerts.md. */
#include "lazylib.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/eval.h"
#include "cli/commands.h"
#include "cli/storecmd.h"
#include "clock.h"
#include "json.h"
#include "opt.h"
#include "parse.h"
#include "parse/timearg.h"
#include "query/query.h"
#include "inventory/inventory.h"
#include "report/report.h"
#include "store/read.h"
#include "store/state.h"
#include "store/store.h"
#include "strbuf.h"

#define ALERT_DEFAULT_TIMEOUT_MS 10000
#define ALERT_MAX_TIMEOUT_MS 120000
#define ALERT_DEFAULT_TOLERANCE 10
#define ALERT_DEFAULT_MIN_REQUESTS 20
#define ALERT_LOG_DEFAULT 50

enum {
	O_DB = 1,
	O_SAVED,
	O_QUERY,
	O_WHEN,
	O_EVERY,
	O_WEBHOOK,
	O_FORMAT,
	O_COOLDOWN,
	O_TIMEOUT,
	O_BALANCE,
	O_TOLERANCE,
	O_BACKEND,
	O_MIN_REQUESTS,
	O_JSON,
	O_N,
};

#define ROW_DB STORE_DB_OPT(O_DB)
#define ROW_JSON                                                                                   \
	{                                                                                          \
		.id = O_JSON, .long_name = "json", .type = OPT_FLAG,                               \
		.help = "one JSON object per line"                                                 \
	}

/* Every value of add is checked by the command, so that all its mistakes are said at once. */
static const struct opt add_opts[] = {
	ROW_DB,
	{.id = O_SAVED,
	 .long_name = "saved",
	 .type = OPT_STR,
	 .arg = "S",
	 .help = "watch the saved search S (halog saved add)"},
	{.id = O_QUERY,
	 .long_name = "query",
	 .type = OPT_STR,
	 .arg = "Q",
	 .flags = OPT_EMPTY_OK,
	 .help = "watch the lines matching Q (the language of halog search)"},
	{.id = O_WHEN,
	 .long_name = "when",
	 .type = OPT_STR,
	 .arg = "EXPR",
	 .help = "fire when EXPR holds over a window's matches: count >= 10,\n"
		 "rate > 5/s, p95(ta) > 800, errors% > 2, joined by and/or/not"},
	{.id = O_BALANCE,
	 .long_name = "balance",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "instead: fire when a backend's shares drift from the weights of\n"
		 "the hagen inventory FILE"},
	{.id = O_TOLERANCE,
	 .long_name = "tolerance",
	 .type = OPT_STR,
	 .arg = "PCT",
	 .help = "--balance: the deviation allowed, in points (default 10)"},
	{.id = O_BACKEND,
	 .long_name = "backend",
	 .type = OPT_STR,
	 .arg = "B",
	 .help = "--balance: judge only backend B"},
	{.id = O_MIN_REQUESTS,
	 .long_name = "min-requests",
	 .type = OPT_STR,
	 .arg = "N",
	 .help = "--balance: backends with fewer requests are not judged (default 20)"},
	{.id = O_EVERY,
	 .long_name = "every",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "the window: 10s or more (whole minutes for --balance); windows are\n"
		 "aligned on the clock and evaluated by halog listen as they close"},
	{.id = O_WEBHOOK,
	 .long_name = "webhook",
	 .type = OPT_STR,
	 .arg = "URL",
	 .help = "http:// or https:// URL to POST the payload to"},
	{.id = O_FORMAT,
	 .long_name = "format",
	 .type = OPT_STR,
	 .arg = "json|slack",
	 .help = "json (default) or slack (an incoming-webhook message)"},
	{.id = O_COOLDOWN,
	 .long_name = "cooldown",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "after firing, stay quiet for DUR (default 0: every window)"},
	{.id = O_TIMEOUT,
	 .long_name = "timeout",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "of one delivery attempt (default 10s, at most 2m)"},
	{0},
};
static const struct opt list_opts[] = {ROW_DB, ROW_JSON, {0}};
static const struct opt name_opts[] = {ROW_DB, {0}};
static const struct opt log_opts[] = {
	ROW_DB,
	{.id = O_N,
	 .short_name = 'n',
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = 100000,
	 .help = "the newest N entries (default 50)"},
	ROW_JSON,
	{0},
};

static const char alert_epilog[] = "DUR: 10s, 1m, 5m, 1h. See docs/halog-alerts.md.\n";

static const struct opt_cmd add_cmd = {
	"halog alert add",
	"NAME",
	"Adds an alert that halog listen evaluates on every window: on a saved search or a\n"
	"query with --when, or on the balance with --balance.\n",
	add_opts,
	alert_epilog,
	0};
static const struct opt_cmd list_cmd = {
	"halog alert list", NULL, "Lists the alerts: what they watch, their status.\n",
	list_opts,	    NULL, 0};
static const struct opt_cmd rm_cmd = {
	"halog alert rm", "NAME", "Removes an alert and its pending deliveries.\n",
	name_opts,	  NULL,	  0};
static const struct opt_cmd test_cmd = {
	"halog alert test",
	"NAME",
	"Evaluates the last --every now and prints the payload, sending nothing.\n",
	name_opts,
	NULL,
	0};
static const struct opt_cmd log_cmd = {
	"halog alert log",
	"[NAME]",
	"The latest firings and every delivery attempt, oldest first.\n",
	log_opts,
	NULL,
	0};
static const struct opt_cmd *const verbs[] = {&add_cmd, &list_cmd, &rm_cmd, &test_cmd, &log_cmd};

static void alert_usage(FILE *fp)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		opt_usage(verbs[i], fp, i ? "   or: " : "usage: ");
	fprintf(fp, "\n%s", alert_epilog);
}

static const char *visible(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	if (text_add_visible(sb, s, strlen(s)) < 0)
		return "?";
	return sb->buf;
}

/* "1m", "90s", "1h30m" is not accepted: one number and one unit, as everywhere in halog. */
static void fmt_dur(char *buf, size_t sz, int64_t ms)
{
	if (ms % 3600000 == 0 && ms)
		snprintf(buf, sz, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms)
		snprintf(buf, sz, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, sz, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, sz, "%lldms", (long long)ms);
}

/* ---- add ---- */

struct add_args {
	const char *name, *saved, *query, *when, *every, *webhook, *format, *cooldown, *timeout;
	const char *balance, *tolerance, *backend, *min_requests;
};

/* libcurl loaded (do_add did) */
static int check_url(const char *url, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	*why = "not a URL";
	if (!u)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcmp(scheme, "http") && strcmp(scheme, "https"))
			*why = "a webhook is an http:// or https:// URL";
		else if (!*host)
			*why = "the URL has no host";
		else
			ok = 1;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* Every mistake of the add options, one line each; returns how many. *input is set when one
 * of them is an input error (an inventory that cannot be read) rather than a usage error. The
 * webhook URL is checked with libcurl's parser when have_curl (loaded), else only given. */
static int check_add(const struct add_args *x, struct store_alert *a, char *inv_abs, size_t isz,
		     int have_curl, int *input)
{
	struct strbuf sb = STRBUF_INIT;
	const char *why;
	int bad = 0, sources = !!x->saved + !!x->query + !!x->balance;
	uint64_t ms;
	int64_t n;

#define BAD(...)                                                                                   \
	do {                                                                                       \
		fprintf(stderr, "halog alert add: " __VA_ARGS__);                                  \
		fputc('\n', stderr);                                                               \
		bad++;                                                                             \
	} while (0)
	if (!state_name_valid(x->name, &why))
		BAD("invalid name '%s': %s", visible(&sb, x->name), why);
	if (sources != 1)
		BAD("give one of --saved, --query or --balance (%s)",
		    sources ? "not several" : "what to watch");
	if (x->balance && x->when)
		BAD("--when does not go with --balance: a balance alert fires on the tolerance");
	if (!x->balance && !x->when)
		BAD("missing --when EXPR (e.g. --when 'count >= 10')");
	if (!x->balance && (x->tolerance || x->backend || x->min_requests))
		BAD("--tolerance, --backend and --min-requests go with --balance");
	if (!x->every)
		BAD("missing --every DUR (10s or more)");
	else if (parse_duration_ms(x->every, &ms) || ms < ALERT_MIN_EVERY_MS ||
		 ms > 7ull * 86400000)
		BAD("--every '%s': give a duration from 10s to 7d, e.g. 1m",
		    visible(&sb, x->every));
	else if (x->balance && ms % 60000)
		BAD("--every '%s': a balance alert reads per-minute rollups: give whole minutes",
		    visible(&sb, x->every));
	else
		a->every_ms = (int64_t)ms;
	if (!x->webhook)
		BAD("missing --webhook URL");
	else if (have_curl && !check_url(x->webhook, &why))
		BAD("--webhook '%s': %s", visible(&sb, x->webhook), why);
	a->format = (char *)(x->format ? x->format : "json");
	if (strcmp(a->format, "json") && strcmp(a->format, "slack"))
		BAD("--format '%s': json or slack", visible(&sb, x->format));
	a->cooldown_ms = 0;
	if (x->cooldown) {
		if (parse_duration_ms(x->cooldown, &ms) || ms > 30ull * 86400000)
			BAD("--cooldown '%s': give a duration, e.g. 10m",
			    visible(&sb, x->cooldown));
		else
			a->cooldown_ms = (int64_t)ms;
	}
	a->timeout_ms = ALERT_DEFAULT_TIMEOUT_MS;
	if (x->timeout) {
		if (parse_duration_ms(x->timeout, &ms) || ms < 100 || ms > ALERT_MAX_TIMEOUT_MS)
			BAD("--timeout '%s': give a duration from 100ms to 2m",
			    visible(&sb, x->timeout));
		else
			a->timeout_ms = (int64_t)ms;
	}
	a->tolerance = ALERT_DEFAULT_TOLERANCE;
	if (x->tolerance) {
		char *end;
		double t = strtod(x->tolerance, &end);

		if (end == x->tolerance || *end || !(t >= 0 && t <= 100))
			BAD("--tolerance '%s': percentage points from 0 to 100",
			    visible(&sb, x->tolerance));
		else
			a->tolerance = t;
	}
	a->min_requests = ALERT_DEFAULT_MIN_REQUESTS;
	if (x->min_requests) {
		if (parse_int64(x->min_requests, 1, 1000000000, &n))
			BAD("--min-requests '%s': a number from 1", visible(&sb, x->min_requests));
		else
			a->min_requests = n;
	}
	if (x->query || x->when) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct query *q = NULL;
		struct alert_expr *e = NULL;

		dl.max = 20;
		if (x->query && !(q = query_parse(x->query, strlen(x->query), &dl))) {
			query_print_errors(&dl, x->query, strlen(x->query), stderr, "halog");
			bad++;
		}
		diag_release(&dl);
		dl.max = 20;
		if (x->when && !(e = alert_expr_parse(x->when, strlen(x->when), &dl))) {
			query_print_errors(&dl, x->when, strlen(x->when), stderr, "halog");
			bad++;
		}
		diag_release(&dl);
		query_free(q);
		alert_expr_free(e);
	}
	if (x->balance) {
		struct inv w;
		char err[1024];

		if (inv_load_msg(x->balance, NULL, &w, err, sizeof(err))) {
			BAD("--balance: %s", err);
			*input = 1;
		} else {
			if (x->backend && !inv_backend_find(&w, x->backend))
				BAD("--backend '%s' is not a backend of %s",
				    visible(&sb, x->backend), x->balance);
			inv_release(&w);
			if (!realpath(x->balance, inv_abs))
				snprintf(inv_abs, isz, "%s", x->balance);
		}
	}
#undef BAD
	strbuf_release(&sb);
	return bad;
}

static int do_add(const char *db, struct add_args x)
{
	struct store_alert a;
	struct store *st;
	char inv_abs[PATH_MAX], why[512];
	int rc, input = 0, bad;

	/* the webhook URL is checked with libcurl's parser, which the delivery uses too; without
	 * libcurl the other mistakes are still told first, then the missing library */
	int have_curl = lazylib_load(LAZYLIB_CURL, why, sizeof(why)) == 0;

	memset(&a, 0, sizeof(a));
	inv_abs[0] = '\0';
	bad = check_add(&x, &a, inv_abs, sizeof(inv_abs), have_curl, &input);
	if (!have_curl)
		fprintf(stderr, "halog: alert add needs %s\n", why);
	if (bad)
		return bad == input ? HALOG_EXIT_ERR : HALOG_EXIT_USAGE;
	if (!have_curl)
		return HALOG_EXIT_ERR;
	a.name = (char *)x.name;
	a.saved = (char *)x.saved;
	a.query = (char *)x.query;
	a.expr = (char *)x.when;
	a.balance = x.balance ? inv_abs : NULL;
	a.backend = (char *)x.backend;
	a.webhook = (char *)x.webhook;
	a.created_ms = clock_wall_ms();
	/* the first window is the one the alert is added in; it counts only the lines received
	 * from now on (the cursor below) */
	a.next_ms = a.created_ms / a.every_ms * a.every_ms;
	if (!(st = cli_store_open("halog alert", db, STORE_CREATE)))
		return HALOG_EXIT_ERR;
	/* lines stored so far belong to no window of this alert */
	{
		char err[512];
		struct store_reader *rd = store_reader_open(db, err, sizeof(err));
		struct store_pos end;

		if (!rd || store_end(rd, &end)) {
			fprintf(stderr, "halog alert: %s\n", rd ? store_reader_errmsg(rd) : err);
			store_reader_close(rd);
			store_close(st);
			return HALOG_EXIT_ERR;
		}
		a.cursor_id = end.v;
		store_reader_close(rd);
	}
	rc = store_alert_add(st, &a);
	if (rc < 0)
		fprintf(stderr, "halog alert: %s\n", store_errmsg(st));
	else if (rc == 1)
		fprintf(stderr, "halog alert: '%s' exists (halog alert rm it first)\n", x.name);
	else if (rc == 2)
		fprintf(stderr, "halog alert: no saved search '%s' (halog saved list)\n", x.saved);
	store_close(st);
	return rc ? HALOG_EXIT_ERR : HALOG_EXIT_OK;
}

/* ---- list, rm ---- */

static void add_json_str(struct strbuf *sb, const char *key, const char *v)
{
	strbuf_addch(sb, ',');
	json_add_key(sb, key);
	if (v)
		json_add_str(sb, v, strlen(v));
	else
		strbuf_addstr(sb, "null");
}

static void add_json_time(struct strbuf *sb, const char *key, int64_t ms)
{
	char t[40];

	strbuf_addch(sb, ',');
	json_add_key(sb, key);
	if (ms == STORE_ALERT_NONE) {
		strbuf_addstr(sb, "null");
		return;
	}
	report_fmt_time(ms, t, sizeof(t));
	json_add_str(sb, t, strlen(t));
}

static void list_json(struct strbuf *sb, const struct store_alert *a)
{
	strbuf_addstr(sb, "{\"name\":");
	json_add_str(sb, a->name, strlen(a->name));
	add_json_str(sb, "saved", a->saved);
	add_json_str(sb, "query", a->query);
	add_json_str(sb, "when", a->expr);
	add_json_str(sb, "balance", a->balance);
	if (a->balance) {
		add_json_str(sb, "backend", a->backend);
		strbuf_addstr(sb, ",\"tolerance\":");
		json_add_double(sb, a->tolerance, 1);
		strbuf_addf(sb, ",\"min_requests\":%lld", (long long)a->min_requests);
	}
	strbuf_addf(sb, ",\"every_ms\":%lld", (long long)a->every_ms);
	add_json_str(sb, "webhook", a->webhook);
	add_json_str(sb, "format", a->format);
	strbuf_addf(sb, ",\"cooldown_ms\":%lld,\"timeout_ms\":%lld", (long long)a->cooldown_ms,
		    (long long)a->timeout_ms);
	add_json_str(sb, "status", a->status);
	add_json_time(sb, "next_window", a->next_ms);
	add_json_time(sb, "last_evaluated", a->last_eval_ms);
	add_json_time(sb, "last_fired", a->last_fired_ms);
	strbuf_addstr(sb, "}\n");
}

static int do_list(const char *db, int json)
{
	struct store_alert *all = NULL;
	struct strbuf sb = STRBUF_INIT, vis = STRBUF_INIT;
	struct store *st = cli_store_open("halog alert", db, STORE_READONLY);
	size_t n = 0, wn = 4, ww = 7, wq = 7;
	int rc = HALOG_EXIT_OK;

	if (!st)
		return HALOG_EXIT_ERR;
	if (store_alert_list(st, &all, &n)) {
		fprintf(stderr, "halog alert: %s\n", store_errmsg(st));
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	/* text: one line each, columns as wide as their longest value */
	for (size_t i = 0; i < n; i++) {
		const struct store_alert *a = &all[i];
		size_t q = a->saved ? strlen(a->saved) + 6 : a->query ? strlen(a->query) : 0;

		if (strlen(a->name) > wn)
			wn = strlen(a->name);
		if (q > wq)
			wq = q;
		if (a->expr && strlen(a->expr) > ww)
			ww = strlen(a->expr);
		if (a->balance) {
			strbuf_reset(&vis);
			strbuf_addf(&vis, "within %g points", a->tolerance);
			if (vis.len > ww)
				ww = vis.len;
		}
	}
	if (!json && n)
		printf("%-*s  %-5s  %-*s  %-*s  %-7s  %-24s  %s\n", (int)wn, "NAME", "EVERY",
		       (int)wq, "WATCHES", (int)ww, "WHEN", "STATUS", "LAST FIRED", "WEBHOOK");
	for (size_t i = 0; i < n; i++) {
		const struct store_alert *a = &all[i];
		char every[32], fired[40] = "-";

		strbuf_reset(&sb);
		if (json) {
			list_json(&sb, a);
		} else {
			fmt_dur(every, sizeof(every), a->every_ms);
			if (a->last_fired_ms != STORE_ALERT_NONE)
				report_fmt_time(a->last_fired_ms, fired, sizeof(fired));
			strbuf_addf(&sb, "%-*s  %-5s  ", (int)wn, a->name, every);
			strbuf_reset(&vis);
			if (a->saved)
				strbuf_addf(&vis, "saved:%s", a->saved);
			else if (a->query)
				text_add_visible(&vis, a->query, strlen(a->query));
			else
				strbuf_addstr(&vis, "balance");
			strbuf_addf(&sb, "%-*s  ", (int)wq, vis.buf);
			strbuf_reset(&vis);
			if (a->expr)
				text_add_visible(&vis, a->expr, strlen(a->expr));
			else
				strbuf_addf(&vis, "within %g points", a->tolerance);
			strbuf_addf(&sb, "%-*s  %-7s  %-24s  ", (int)ww, vis.buf, a->status, fired);
			strbuf_reset(&vis);
			text_add_visible(&vis, a->webhook, strlen(a->webhook));
			strbuf_addf(&sb, "%s (%s)\n", vis.buf, a->format);
		}
		fwrite(sb.buf, 1, sb.len, stdout);
	}
	if (fflush(stdout) == EOF) {
		perror("halog alert: cannot write");
		rc = HALOG_EXIT_ERR;
	}
	strbuf_release(&sb);
	strbuf_release(&vis);
	store_alert_free(all, n);
	store_close(st);
	return rc;
}

/* ---- test ---- */

static int do_test(const char *db, const char *name)
{
	struct store_alert a;
	struct alert_def d;
	struct alert_result res;
	struct strbuf key = STRBUF_INIT, body = STRBUF_INIT;
	char err[1024], host[256] = "";
	int64_t now = clock_wall_ms();
	struct store_pos from = STORE_POS_MIN, to;
	struct store *st = cli_store_open("halog alert", db, STORE_READONLY);
	struct store_reader *rd = NULL;
	char *serve = NULL;
	int rc = HALOG_EXIT_ERR, r;

	if (!st)
		return HALOG_EXIT_ERR;
	if ((r = store_alert_get(st, name, &a)) != 0) {
		fprintf(stderr, r < 0 ? "halog alert: %s\n" : "halog alert: no alert '%s'\n",
			r < 0 ? store_errmsg(st) : name);
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	if (!(rd = store_reader_open(db, err, sizeof(err)))) {
		fprintf(stderr, "halog alert: %s\n", err);
		goto out_alert;
	}
	if (alert_def_compile(st, &a, &d, err, sizeof(err))) {
		fprintf(stderr, "halog alert: %s: %s\n", name, err);
		goto out_alert;
	}
	/* the last --every before now, by receive time */
	if (alert_window_end(rd, from, now - a.every_ms, &from) ||
	    alert_window_end(rd, from, now, &to)) {
		fprintf(stderr, "halog alert: %s\n", store_reader_errmsg(rd));
		goto out_def;
	}
	if (alert_eval(rd, &d, now - a.every_ms, now, from, to, &res, err, sizeof(err))) {
		fprintf(stderr, "halog alert: %s: %s\n", name, err);
		goto out_def;
	}
	gethostname(host, sizeof(host) - 1);
	serve = store_meta_get(st, "serve.url");
	if (alert_key(&d, res.from_ms, &key) ||
	    alert_payload(&d, &res, key.buf, "test", serve, host, &body) ||
	    strbuf_addch(&body, '\n')) {
		fprintf(stderr, "halog alert: out of memory\n");
		goto out_res;
	}
	fprintf(stderr, "halog alert: %s would %s: %s\n", name, res.firing ? "fire" : "not fire",
		res.detail.buf);
	fwrite(body.buf, 1, body.len, stdout);
	rc = fflush(stdout) == EOF ? HALOG_EXIT_ERR : HALOG_EXIT_OK;
out_res:
	alert_result_release(&res);
out_def:
	alert_def_release(&d);
out_alert:
	store_reader_close(rd);
	free(serve);
	strbuf_release(&key);
	strbuf_release(&body);
	store_alert_release(&a);
	store_close(st);
	return rc;
}

/* ---- log ---- */

static int do_log(const char *db, const char *name, int64_t n, int json)
{
	struct store_alert_log *all = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct store *st = cli_store_open("halog alert", db, STORE_READONLY);
	size_t cnt = 0;
	int rc = HALOG_EXIT_OK;

	if (!st)
		return HALOG_EXIT_ERR;
	if (store_alert_log_list(st, name, (size_t)n, &all, &cnt)) {
		fprintf(stderr, "halog alert: %s\n", store_errmsg(st));
		store_close(st);
		return HALOG_EXIT_ERR;
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct store_alert_log *e = &all[i];
		char t[40];

		strbuf_reset(&sb);
		report_fmt_time(e->at_ms, t, sizeof(t));
		if (json) {
			strbuf_addstr(&sb, "{\"time\":");
			json_add_str(&sb, t, strlen(t));
			add_json_str(&sb, "alert", e->alert);
			add_json_str(&sb, "event", e->event);
			add_json_str(&sb, "key", e->key);
			add_json_time(&sb, "window_start", e->window_start);
			add_json_time(&sb, "window_end", e->window_end);
			if (e->status)
				strbuf_addf(&sb, ",\"http_status\":%lld", (long long)e->status);
			if (e->ms)
				strbuf_addf(&sb, ",\"ms\":%lld", (long long)e->ms);
			add_json_str(&sb, "detail", e->detail);
			strbuf_addstr(&sb, "}\n");
		} else {
			strbuf_addf(&sb, "%s  %s  %-9s", t, e->alert, e->event);
			if (e->window_start != STORE_ALERT_NONE) {
				char w[40];

				report_fmt_time(e->window_start, w, sizeof(w));
				strbuf_addf(&sb, "  window %s +%llds", w,
					    (long long)((e->window_end - e->window_start) / 1000));
			}
			if (e->status)
				strbuf_addf(&sb, "  HTTP %lld", (long long)e->status);
			if (e->ms || e->status)
				strbuf_addf(&sb, " in %lld ms", (long long)e->ms);
			if (e->detail) {
				strbuf_addstr(&sb, "  ");
				text_add_visible(&sb, e->detail, strlen(e->detail));
			}
			if (e->key)
				strbuf_addf(&sb, "  key %s", e->key);
			strbuf_addch(&sb, '\n');
		}
		fwrite(sb.buf, 1, sb.len, stdout);
	}
	if (fflush(stdout) == EOF) {
		perror("halog alert: cannot write");
		rc = HALOG_EXIT_ERR;
	}
	strbuf_release(&sb);
	store_alert_log_free(all, cnt);
	store_close(st);
	return rc;
}

/* The add option id's slot in x. */
static const char **add_slot(struct add_args *x, int id)
{
	switch (id) {
	case O_SAVED:
		return &x->saved;
	case O_QUERY:
		return &x->query;
	case O_WHEN:
		return &x->when;
	case O_EVERY:
		return &x->every;
	case O_WEBHOOK:
		return &x->webhook;
	case O_FORMAT:
		return &x->format;
	case O_COOLDOWN:
		return &x->cooldown;
	case O_TIMEOUT:
		return &x->timeout;
	case O_BALANCE:
		return &x->balance;
	case O_TOLERANCE:
		return &x->tolerance;
	case O_BACKEND:
		return &x->backend;
	case O_MIN_REQUESTS:
		return &x->min_requests;
	}
	return NULL;
}

int cmd_alert(int argc, char **argv)
{
	const char *db = store_default_path(), *name = NULL, *why;
	const struct opt_cmd *cmd = NULL;
	struct add_args x;
	struct opt_parser p;
	struct strbuf vis = STRBUF_INIT;
	int json = 0, rc = -1, r;
	int64_t n = ALERT_LOG_DEFAULT;

	memset(&x, 0, sizeof(x));
	if (argc < 2) {
		fputs("halog alert: missing a subcommand: add, list, rm, test or log\n", stderr);
		alert_usage(stderr);
		return HALOG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		alert_usage(stdout);
		return HALOG_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i]->prog + strlen("halog alert ")))
			cmd = verbs[i];
	if (!cmd) {
		fprintf(stderr, "halog alert: unknown subcommand '%s'\n", visible(&vis, argv[1]));
		strbuf_release(&vis);
		alert_usage(stderr);
		return HALOG_EXIT_USAGE;
	}
	opt_init(&p, cmd, argc - 1, argv + 1);
	while (rc < 0 && (r = opt_next(&p)) != OPT_DONE) {
		const char **slot;

		switch (r) {
		case O_DB:
			db = p.val;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_N:
			n = p.num;
			break;
		case OPT_OPERAND:
			if (!name && cmd != &list_cmd)
				name = p.val;
			else
				rc = opt_usage_error(cmd, stderr, "unexpected argument '%s'",
						     visible(&vis, p.val));
			break;
		default:
			if (r > 0 && (slot = add_slot(&x, r)) != NULL) {
				if (*slot)
					rc = opt_usage_error(cmd, stderr, "option '%s' given twice",
							     p.name);
				*slot = p.val;
				break;
			}
			rc = opt_finish(&p, r, stdout, stderr);
		}
	}
	if (rc >= 0)
		goto out;
	/* add says a bad name with its other mistakes (check_add) */
	if (name && cmd != &add_cmd && !state_name_valid(name, &why)) {
		fprintf(stderr, "%s: invalid name '%s': %s\n", cmd->prog, visible(&vis, name), why);
		rc = HALOG_EXIT_USAGE;
		goto out;
	}
	if (!name && cmd != &list_cmd && cmd != &log_cmd) {
		rc = opt_usage_error(cmd, stderr, "missing NAME");
		goto out;
	}
	if (cmd == &add_cmd) {
		x.name = name;
		rc = do_add(db, x);
	} else if (cmd == &list_cmd) {
		rc = do_list(db, json);
	} else if (cmd == &rm_cmd) {
		rc = cli_store_rm("halog alert", db, "alert", name, store_alert_rm, NULL);
	} else if (cmd == &test_cmd) {
		rc = do_test(db, name);
	} else {
		rc = do_log(db, name, n, json);
	}
out:
	strbuf_release(&vis);
	return rc;
}
