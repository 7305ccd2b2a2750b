/* `halog drive`: its options, then the run: the load generator (drive/drive.h), the run's lines
 * read back from the store and the balance verdicts (drive/check.h), the writers
 * (drive/drive_fmt.h), and `halog report` for the window when asked. Exit 3 when a verdict
 * failed: the CI proof that balancing works. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "drive/check.h"
#include "drive/drive.h"
#include "drive/drive_fmt.h"
#include "opt.h"
#include "parse.h"
#include "inventory/inventory.h"
#include "report/report.h"
#include "store/chhttp.h"
#include "store/read.h"
#include "strbuf.h"

#define DRIVE_MAX_PATHS 256
#define DRIVE_MAX_HEADERS 64

enum {
	O_N = 1,
	O_C,
	O_HEADER,
	O_PATH,
	O_RATE,
	O_FRESH_CONN,
	O_REQUEST_TIMEOUT,
	O_DB,
	O_TIMEOUT,
	O_SETTLE_MS,
	O_BACKEND,
	O_INVENTORY,
	O_ENV,
	O_WEIGHTS,
	O_TOLERANCE,
	O_ALLOW_UNLISTED,
	O_ALLOW_IDLE,
	O_REPORT,
	O_FORMAT,
	O_QUIET,
};

static const char *const formats[] = {"text", "json", "csv", "markdown", "md", NULL};

static const struct opt drive_opts[] = {
	{.id = O_N,
	 .short_name = 'n',
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = DRIVE_MAX_N,
	 .help = "requests to send (default 100)"},
	{.id = O_C,
	 .short_name = 'c',
	 .type = OPT_INT,
	 .arg = "C",
	 .min = 1,
	 .max = DRIVE_MAX_C,
	 .help = "requests in flight (default 10)"},
	{.id = O_HEADER,
	 .short_name = 'H',
	 .type = OPT_STR,
	 .arg = "'Name: value'",
	 .flags = OPT_MANY,
	 .help = "extra request header (repeatable), e.g. -H 'Host: shop.test'"},
	{.id = O_PATH,
	 .long_name = "path",
	 .type = OPT_STR,
	 .arg = "P",
	 .flags = OPT_MANY,
	 .help = "path appended to URL; repeat to rotate through several"},
	{.id = O_RATE,
	 .long_name = "rate",
	 .type = OPT_NUM,
	 .arg = "R",
	 .min = 0,
	 .max = 1000000,
	 .help = "start at most R requests per second (default: no limit)"},
	{.id = O_FRESH_CONN,
	 .long_name = "fresh-conn",
	 .type = OPT_FLAG,
	 .help = "open a new connection for every request (no keep-alive)"},
	{.id = O_REQUEST_TIMEOUT,
	 .long_name = "request-timeout",
	 .type = OPT_INT,
	 .arg = "S",
	 .min = 1,
	 .max = 3600,
	 .help = "per request, seconds (default 10)"},
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the store `halog listen` writes: wait for the lines, show them"},
	{.id = O_TIMEOUT,
	 .long_name = "timeout",
	 .type = OPT_INT,
	 .arg = "S",
	 .min = 1,
	 .max = 3600,
	 .help = "longest wait for the log lines, seconds (default 10)"},
	{.id = O_SETTLE_MS,
	 .long_name = "settle-ms",
	 .type = OPT_INT,
	 .arg = "MS",
	 .min = 0,
	 .max = 600000,
	 .help = "stop waiting once no new line arrived for MS (default 2000)"},
	{.id = O_BACKEND,
	 .long_name = "backend",
	 .type = OPT_STR,
	 .arg = "B",
	 .help = "with --db: only backend B in the table and the check"},
	{.id = O_INVENTORY,
	 .long_name = "inventory",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "with --db: expected shares from the inventory's weights"},
	{.id = O_ENV,
	 .short_name = 'e',
	 .long_name = "env",
	 .type = OPT_STR,
	 .arg = "ENV",
	 .help = "the inventory's environment overlay"},
	{.id = O_WEIGHTS,
	 .long_name = "weights",
	 .type = OPT_STR,
	 .arg = "a=1,b=2",
	 .help = "expected shares by X-Server name, checked on the answers"},
	{.id = O_TOLERANCE,
	 .long_name = "tolerance",
	 .type = OPT_NUM,
	 .arg = "PCT",
	 .min = 0,
	 .max = 100,
	 .help = "largest deviation of a share from the expected one, in\n"
		 "percentage points (default 10); beyond it, exit 3; with\n"
		 "--inventory, also when the run reached a backend the\n"
		 "inventory does not list, or a service got none of it"},
	{.id = O_ALLOW_UNLISTED,
	 .long_name = "allow-unlisted",
	 .type = OPT_FLAG,
	 .help = "backends the inventory does not list pass the check"},
	{.id = O_ALLOW_IDLE,
	 .long_name = "allow-idle",
	 .type = OPT_FLAG,
	 .help = "services of the inventory the run did not reach pass"},
	{.id = O_REPORT,
	 .long_name = "report",
	 .type = OPT_FLAG,
	 .help = "with --db: also print `halog report` for the window (its\n"
		 "numbers cover whole minutes)"},
	{.id = O_FORMAT,
	 .long_name = "format",
	 .type = OPT_ENUM,
	 .arg = "F",
	 .values = formats,
	 .help = "text (default), json, csv or markdown"},
	{.id = O_QUIET,
	 .long_name = "quiet",
	 .type = OPT_FLAG,
	 .help = "text: only the summary line and the balance verdicts"},
	{0},
};

static const struct opt_cmd drive_cmd = {
	.prog = "halog drive",
	.operands = "URL",
	.intro = "Sends N requests through URL (C at a time) and counts the answers by status and "
		 "by "
		 "the\n"
		 "server that answered (X-Server header, or the first line of a 2xx body). With "
		 "--db "
		 "it\n"
		 "then waits until the balancer's log lines for them are stored, and shows the "
		 "stored "
		 "rows\n"
		 "of exactly that time window per backend and server.\n",
	.opts = drive_opts,
	.epilog = "exit: 0 ok, 1 runtime error, no answer at all or log lines missing, 2 usage,\n"
		  "      3 balance check failed\n",
};

struct drive_cli {
	struct drive_opts o;
	const char *paths[DRIVE_MAX_PATHS];
	const char *headers[DRIVE_MAX_HEADERS];
	const char *db, *backend, *inventory, *env, *weights, *format;
	enum drive_format fmt;
	int64_t timeout_s, settle_ms;
	double tol;
	int quiet, report;
	int allow_unlisted, allow_idle;
};

/* Fills cli from argv. Returns 0 to go on, or the exit code (after --help: -1, exit 0). */
static int parse_args(int argc, char **argv, struct drive_cli *cli)
{
	static const enum drive_format fmt_of[] = {DRIVE_TEXT, DRIVE_JSON, DRIVE_CSV,
						   DRIVE_MARKDOWN, DRIVE_MARKDOWN};
	struct opt_parser p;
	int r;

	memset(cli, 0, sizeof(*cli));
	cli->o.n = 100;
	cli->o.concurrency = 10;
	cli->o.timeout_ms = 10000;
	cli->o.paths = cli->paths;
	cli->o.headers = cli->headers;
	cli->timeout_s = 10;
	cli->settle_ms = 2000;
	cli->tol = 10.0;
	cli->format = "text";
	opt_init(&p, &drive_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_N:
			cli->o.n = (long)p.num;
			break;
		case O_C:
			cli->o.concurrency = (long)p.num;
			break;
		case O_HEADER:
			if (cli->o.nheaders >= DRIVE_MAX_HEADERS)
				return opt_usage_error(&drive_cmd, stderr,
						       "too many -H (at most %d)",
						       DRIVE_MAX_HEADERS);
			cli->headers[cli->o.nheaders++] = p.val;
			break;
		case O_PATH:
			if (cli->o.npaths >= DRIVE_MAX_PATHS)
				return opt_usage_error(&drive_cmd, stderr,
						       "too many --path (at most %d)",
						       DRIVE_MAX_PATHS);
			cli->paths[cli->o.npaths++] = p.val;
			break;
		case O_RATE:
			if (!(p.dbl > 0))
				return opt_bad_value(&p, stderr,
						     "expected requests per second above 0");
			cli->o.rate = p.dbl;
			break;
		case O_FRESH_CONN:
			cli->o.fresh_conn = 1;
			break;
		case O_REQUEST_TIMEOUT:
			cli->o.timeout_ms = (long)p.num * 1000;
			break;
		case O_DB:
			cli->db = p.val;
			break;
		case O_TIMEOUT:
			cli->timeout_s = p.num;
			break;
		case O_SETTLE_MS:
			cli->settle_ms = p.num;
			break;
		case O_FORMAT:
			cli->fmt = fmt_of[p.idx];
			cli->format = p.val;
			break;
		case O_BACKEND:
			cli->backend = p.val;
			break;
		case O_INVENTORY:
			cli->inventory = p.val;
			break;
		case O_ENV:
			cli->env = p.val;
			break;
		case O_WEIGHTS:
			cli->weights = p.val;
			break;
		case O_TOLERANCE:
			cli->tol = p.dbl;
			break;
		case O_REPORT:
			cli->report = 1;
			break;
		case O_QUIET:
			cli->quiet = 1;
			break;
		case O_ALLOW_UNLISTED:
			cli->allow_unlisted = 1;
			break;
		case O_ALLOW_IDLE:
			cli->allow_idle = 1;
			break;
		case OPT_OPERAND:
			if (cli->o.url)
				return opt_usage_error(&drive_cmd, stderr,
						       "unexpected argument '%s'", p.val);
			cli->o.url = p.val;
			break;
		case OPT_HELP:
			opt_help(&drive_cmd, stdout);
			return -1;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (!cli->o.url)
		return opt_usage_error(&drive_cmd, stderr, "missing URL");
	if ((cli->inventory || cli->backend || cli->report) && !cli->db)
		return opt_usage_error(
			&drive_cmd, stderr,
			"--inventory, --backend and --report read the stored logs: add --db");
	if (cli->env && !cli->inventory)
		return opt_usage_error(&drive_cmd, stderr, "-e needs --inventory");
	if ((cli->allow_unlisted || cli->allow_idle) && !cli->inventory)
		return opt_usage_error(&drive_cmd, stderr,
				       "--allow-unlisted and --allow-idle need --inventory");
	return 0;
}

/* `halog report` over the run's window, in-process, exactly [since, until]. Returns
 * 0, or -1 after saying why. */
static int run_report(const struct drive_cli *cli, const struct inv *inv, int64_t since,
		      int64_t until, FILE *out)
{
	struct report_opts ro = {.since_ms = since,
				 .until_ms = until + 1,
				 .backend = cli->backend,
				 .inv = inv,
				 .check_balance = -1};
	enum report_format f = cli->fmt == DRIVE_JSON	 ? REPORT_JSON
			       : cli->fmt == DRIVE_CSV	 ? REPORT_CSV
			       : cli->fmt == DRIVE_MARKDOWN ? REPORT_MARKDOWN
							    : REPORT_TEXT;
	struct store_reader *rd;
	struct report rep;
	char err[1024], shown[CH_SHOWN_MAX];
	int rc = -1;

	if (!(rd = store_reader_open(cli->db, err, sizeof(err)))) {
		fprintf(stderr, "halog drive: --report: %s\n", err);
		return -1;
	}
	if (report_build(rd, &ro, &rep, err, sizeof(err))) {
		fprintf(stderr, "halog drive: --report: %s: %s\n",
			ch_url_redact(cli->db, shown, sizeof(shown)), err);
	} else {
		if (report_write(&rep, f, out))
			fprintf(stderr, "halog drive: cannot write: %s\n", strerror(errno));
		else
			rc = 0;
		report_release(&rep);
	}
	store_reader_close(rd);
	return rc;
}

int cmd_drive(int argc, char **argv)
{
	struct drive_cli cli;
	struct drive_stats st;
	struct drive_weight *wt = NULL;
	struct inv iw;
	struct drive_window w;
	struct drive_out o;
	struct drive_xshare *xs = NULL;
	struct drive_verdict xv, *v = NULL;
	struct store_pos from = STORE_POS_MIN;
	int nw = 0, rc, exit_code = HALOG_EXIT_OK, have_iw = 0;
	size_t nxs = 0, nv = 0;
	char err[1024], shown_buf[CH_SHOWN_MAX];
	const char *shown; /* cli.db as printed: a URL without its password */
	FILE *out = stdout;

	memset(&iw, 0, sizeof(iw));
	memset(&w, 0, sizeof(w));
	memset(&st, 0, sizeof(st));
	memset(&xv, 0, sizeof(xv));
	memset(&o, 0, sizeof(o));
	rc = parse_args(argc, argv, &cli);
	if (rc)
		return rc < 0 ? HALOG_EXIT_OK : rc;
	if (drive_check_opts(&cli.o, err, sizeof(err)) == -1) {
		fprintf(stderr, "halog drive: %s\n", err);
		return HALOG_EXIT_USAGE;
	}
	if (cli.weights) {
		nw = drive_parse_weights(cli.weights, &wt, err, sizeof(err));
		if (nw < 0) {
			fprintf(stderr, "halog drive: --%s\n", err);
			return HALOG_EXIT_USAGE;
		}
	}
	if (cli.inventory) {
		struct inv_opts io = {cli.env, NULL};

		if (inv_load_report(cli.inventory, &io, &iw, stderr, "halog drive") < 0) {
			exit_code = HALOG_EXIT_ERR;
			goto out;
		}
		have_iw = 1;
	}
	o.url = cli.o.url;
	shown = cli.db ? ch_url_redact(cli.db, shown_buf, sizeof(shown_buf)) : NULL;
	o.db = shown;
	o.tol = cli.tol;
	o.quiet = cli.quiet;
	o.st = &st;
	o.logged = -1;
	if (cli.db)
		from = drive_store_mark(cli.db);
	if (drive_run(&cli.o, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "halog drive: %s\n", err);
		exit_code = HALOG_EXIT_ERR;
		goto out;
	}
	if (st.answered == 0) {
		fprintf(stderr, "halog drive: no request got an HTTP answer from '%s'\n",
			cli.o.url);
		exit_code = HALOG_EXIT_ERR;
	}
	if (cli.db) {
		if (drive_wait_logged(cli.db, from, &st, cli.timeout_s * 1000, cli.settle_ms,
				      &o.logged, err, sizeof(err))) {
			fprintf(stderr, "halog drive: cannot read the store '%s': %s\n", shown,
				err);
			exit_code = HALOG_EXIT_ERR;
		} else {
			if (o.logged < st.answered) {
				fprintf(stderr,
					"halog drive: only %lld of %ld answered requests were "
					"logged within %lld s\n",
					(long long)o.logged, st.answered, (long long)cli.timeout_s);
				exit_code = HALOG_EXIT_ERR;
			}
			if (drive_window_read(cli.db, cli.backend, from, &st, &w, err,
					      sizeof(err))) {
				fprintf(stderr, "halog drive: %s: %s\n", shown, err);
				exit_code = HALOG_EXIT_ERR;
			} else {
				o.w = &w;
			}
		}
	}
	if (wt) {
		if (drive_check_weights(&st, wt, (size_t)nw, cli.tol, &xs, &nxs, &xv))
			goto oom;
		o.xs = xs;
		o.nxs = nxs;
		o.xv = &xv;
		if (xv.result == 0)
			exit_code = exit_code ? exit_code : HALOG_EXIT_BALANCE;
	}
	if (o.w && have_iw) {
		struct drive_gaps gaps = {cli.backend, cli.allow_unlisted, cli.allow_idle};

		if (drive_check_inventory(&w, &iw, cli.tol, &gaps, &v, &nv))
			goto oom;
		o.v = v;
		o.nv = nv;
		for (size_t i = 0; i < nv; i++)
			if (v[i].result == 0)
				exit_code = exit_code ? exit_code : HALOG_EXIT_BALANCE;
	}
	if (drive_write(out, cli.fmt, &o)) {
		fprintf(stderr, "halog drive: cannot write: %s\n", strerror(errno));
		exit_code = HALOG_EXIT_ERR;
		goto out;
	}
	if (cli.fmt == DRIVE_CSV) {
		struct strbuf sb = STRBUF_INIT;

		drive_summary_line(&sb, &o);
		fputs(sb.buf, stderr);
		strbuf_release(&sb);
	}
	if (cli.report && o.w) {
		if (cli.fmt == DRIVE_TEXT || cli.fmt == DRIVE_MARKDOWN)
			fputc('\n', out);
		if (run_report(&cli, have_iw ? &iw : NULL, st.start_ms, st.end_ms, out) &&
		    !exit_code)
			exit_code = HALOG_EXIT_ERR;
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "halog drive: cannot write: %s\n", strerror(errno));
		exit_code = HALOG_EXIT_ERR;
	}
	goto out;
oom:
	fprintf(stderr, "halog drive: out of memory\n");
	exit_code = HALOG_EXIT_ERR;
out:
	drive_stats_release(&st);
	if (have_iw)
		inv_release(&iw);
	drive_window_release(&w);
	drive_weights_free(wt, (size_t)nw);
	drive_verdicts_free(v, nv);
	free(xv.worst);
	free(xs);
	return exit_code;
}
